//! Reading a parsed YAML document field by field with the document path of every field, so
//! that every validation error names where it is (`timeline[2].zone`). Unknown fields are
//! errors too (typos must not be silently ignored).

use std::collections::BTreeSet;
use std::time::Duration;

use kubetwin_cluster::{FieldError, SpecDuration};
use serde_json::{Map, Value};

/// The errors found so far.
#[derive(Debug, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    /// Records an error at `path`.
    pub fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(path, message));
    }
}

/// The name of a JSON value's type, for messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Joins a path and a key (`a.b`, or `b` at the root).
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A mapping being read: remembers which keys were read so the rest can be reported.
#[derive(Debug)]
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: String,
    read: BTreeSet<&'static str>,
}

impl<'a> Fields<'a> {
    /// Reads `value` at `path` as a mapping (an error and `None` otherwise).
    pub fn of(value: &'a Value, path: &str, errors: &mut Errors) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Self {
                map,
                path: path.to_string(),
                read: BTreeSet::new(),
            }),
            other => {
                errors.add(
                    display_path(path),
                    format!("must be a mapping, not {}", type_name(other)),
                );
                None
            }
        }
    }

    /// The document path of this mapping.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The path of one key.
    pub fn at(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// Whether the key is present (and not null).
    pub fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| !v.is_null())
    }

    /// The raw value of a key (marks it read).
    pub fn raw(&mut self, key: &'static str) -> Option<&'a Value> {
        self.read.insert(key);
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A string field.
    pub fn string(&mut self, key: &'static str, errors: &mut Errors) -> Option<String> {
        let path = self.at(key);
        match self.raw(key)? {
            Value::String(s) => Some(s.clone()),
            other => {
                errors.add(path, format!("must be a string, not {}", type_name(other)));
                None
            }
        }
    }

    /// A required string field.
    pub fn required_string(&mut self, key: &'static str, errors: &mut Errors) -> Option<String> {
        if !self.has(key) {
            self.read.insert(key);
            errors.add(self.at(key), "is required");
            return None;
        }
        let s = self.string(key, errors)?;
        if s.is_empty() {
            errors.add(self.at(key), "must not be empty");
            return None;
        }
        Some(s)
    }

    /// A boolean field.
    pub fn bool(&mut self, key: &'static str, errors: &mut Errors) -> Option<bool> {
        let path = self.at(key);
        match self.raw(key)? {
            Value::Bool(b) => Some(*b),
            other => {
                errors.add(
                    path,
                    format!("must be true or false, not {}", type_name(other)),
                );
                None
            }
        }
    }

    /// A non-negative integer field.
    pub fn u64(&mut self, key: &'static str, errors: &mut Errors) -> Option<u64> {
        let path = self.at(key);
        let value = self.raw(key)?;
        match value.as_u64() {
            Some(n) => Some(n),
            None => {
                errors.add(
                    path,
                    format!("must be a non-negative integer, not {}", describe(value)),
                );
                None
            }
        }
    }

    /// A number field.
    pub fn f64(&mut self, key: &'static str, errors: &mut Errors) -> Option<f64> {
        let path = self.at(key);
        let value = self.raw(key)?;
        match value.as_f64().filter(|f| f.is_finite()) {
            Some(n) => Some(n),
            None => {
                errors.add(path, format!("must be a number, not {}", describe(value)));
                None
            }
        }
    }

    /// A Go duration field (`90s`, `5m`, `1h30m`).
    pub fn duration(&mut self, key: &'static str, errors: &mut Errors) -> Option<Duration> {
        let path = self.at(key);
        match self.raw(key)? {
            Value::String(s) => match SpecDuration::parse(s) {
                Ok(d) => Some(d.get()),
                Err(e) => {
                    errors.add(path, e);
                    None
                }
            },
            Value::Number(n) if n.as_u64() == Some(0) => Some(Duration::ZERO),
            other => {
                errors.add(
                    path,
                    format!(
                        "must be a duration such as \"90s\" or \"5m\", not {}",
                        describe(other)
                    ),
                );
                None
            }
        }
    }

    /// A list field.
    pub fn list(&mut self, key: &'static str, errors: &mut Errors) -> Option<&'a Vec<Value>> {
        let path = self.at(key);
        match self.raw(key)? {
            Value::Array(items) => Some(items),
            other => {
                errors.add(path, format!("must be a list, not {}", type_name(other)));
                None
            }
        }
    }

    /// A string or a list of strings.
    pub fn strings(&mut self, key: &'static str, errors: &mut Errors) -> Option<Vec<String>> {
        let path = self.at(key);
        match self.raw(key)? {
            Value::String(s) => Some(vec![s.clone()]),
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.as_str() {
                        Some(s) => out.push(s.to_string()),
                        None => errors.add(
                            format!("{path}[{i}]"),
                            format!("must be a string, not {}", type_name(item)),
                        ),
                    }
                }
                Some(out)
            }
            other => {
                errors.add(
                    path,
                    format!(
                        "must be a string or a list of strings, not {}",
                        type_name(other)
                    ),
                );
                None
            }
        }
    }

    /// Reports every key that was not read.
    pub fn finish(self, errors: &mut Errors) {
        for key in self.map.keys() {
            if !self.read.contains(key.as_str()) {
                let mut known: Vec<&str> = self.read.iter().copied().collect();
                known.sort_unstable();
                errors.add(
                    join(&self.path, key),
                    format!("unknown field; expected one of: {}", known.join(", ")),
                );
            }
        }
    }
}

/// `.` for the root, else the path.
pub fn display_path(path: &str) -> String {
    if path.is_empty() {
        ".".into()
    } else {
        path.to_string()
    }
}

/// A short rendering of a value for messages.
pub fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Number(n) => n.to_string(),
        other => type_name(other).to_string(),
    }
}
