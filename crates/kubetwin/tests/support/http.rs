//! A minimal blocking HTTP/1.1 client over `std::net` (one connection per request,
//! `Connection: close`), enough to talk JSON to the API server without an async runtime.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A response: status code and body.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The (de-chunked) body.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The body as text, lossily.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why a request got no complete response (e.g. the server was killed).
#[derive(Debug)]
pub struct TransportError(pub String);

/// Sends one request with an optional JSON body to `address` (`host:port`).
pub fn request(
    address: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Result<Response, TransportError> {
    let error = |what: &str, e: std::io::Error| TransportError(format!("{what}: {e}"));
    let mut stream = TcpStream::connect(address).map_err(|e| error("connect", e))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| error("timeout", e))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAccept: application/json\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .map_err(|e| error("write", e))?;
    stream.write_all(body).map_err(|e| error("write", e))?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| error("read", e))?;
    parse_response(&raw)
}

/// `GET path`.
pub fn get(address: &str, path: &str) -> Result<Response, TransportError> {
    request(address, "GET", path, "application/json", b"")
}

/// `POST path` with a JSON body.
pub fn post_json(
    address: &str,
    path: &str,
    body: &serde_json::Value,
) -> Result<Response, TransportError> {
    let bytes = serde_json::to_vec(body).map_err(|e| TransportError(e.to_string()))?;
    request(address, "POST", path, "application/json", &bytes)
}

fn parse_response(raw: &[u8]) -> Result<Response, TransportError> {
    let incomplete = |what: &str| TransportError(format!("incomplete response: {what}"));
    let split = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or_else(|| incomplete("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or_else(|| incomplete("no status line"))?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| incomplete("bad status line"))?;
    let mut chunked = false;
    let mut content_length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
        if name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse::<usize>().ok();
        }
    }
    if chunked {
        body = dechunk(&body).ok_or_else(|| incomplete("truncated chunked body"))?;
    } else if let Some(length) = content_length {
        if body.len() < length {
            return Err(incomplete("truncated body"));
        }
        body.truncate(length);
    }
    Ok(Response { status, body })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|window| window == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]).into_owned();
        let size_text = size_text.split(';').next().unwrap_or("").trim().to_string();
        let size = usize::from_str_radix(&size_text, 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        if data.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}
