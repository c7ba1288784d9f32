#!/usr/bin/env python3
"""Generate `src/schema_generated.rs`: the Kubernetes protobuf schema table of kubetwin-protobuf.

Run once per Kubernetes version bump, against checkouts of the upstream `k8s.io/api` and
`k8s.io/apimachinery` modules at the matching tag (e.g. `kubernetes-1.34.10`):

    python3 crates/protobuf/tools/gen_schema.py \
        --api /path/to/k8s.io/api --apimachinery /path/to/k8s.io/apimachinery \
        --version 1.34.10 --out crates/protobuf/src/schema_generated.rs

The upstream sources themselves are never committed. Two upstream inputs are joined per
message:

* `generated.proto` (go-to-protobuf output) gives each message's field numbers and protobuf
  types (scalar kind, message name, `repeated`, `map<,>`);
* the Go API types (`types.go` and friends) give what the apiserver's JSON encoding needs and
  the proto lacks: the `json:` name, `omitempty`/`omitzero`, `,inline` embedding, whether the
  Go field is a pointer (nil vs. zero value), and Go-only fields such as the embedded
  `metav1.TypeMeta`.

The two are linked by the field number in the Go `protobuf:"..."` struct tag. Every
inconsistency between them aborts the generation, so a new Kubernetes version that breaks an
assumption fails loudly instead of producing a wrong table.
"""

import argparse
import os
import re
import sys

SCALARS = {
    "string": "Str",
    "bool": "Bool",
    "int32": "Int32",
    "int64": "Int64",
    "bytes": "Bytes",
    "double": "Double",
    "float": "Float",
    "uint32": "Uint32",
    "uint64": "Uint64",
}

# Messages whose Go type has a custom JSON encoding (or custom protobuf decoding); the Rust
# renderer implements each. Upstream files named in src/render.rs.
SPECIAL = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time": "Time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime": "MicroTime",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Duration": "Duration",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1": "FieldsV1",
    "k8s.io.apimachinery.pkg.runtime.RawExtension": "RawExtension",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "IntOrString",
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "Quantity",
}

# Messages left out: they are never part of an API object's JSON (or have a JSON encoding of
# their own that no served object embeds).
SKIP_MESSAGES = {
    "k8s.io.apimachinery.pkg.api.resource.QuantityValue",
    "k8s.io.apimachinery.pkg.runtime.Unknown",
    "k8s.io.apimachinery.pkg.apis.meta.v1.GroupVersion",
}

APIMACHINERY_PACKAGES = ["pkg/apis/meta/v1", "pkg/runtime", "pkg/util/intstr", "pkg/api/resource"]
# Go packages without protobuf messages whose named types (e.g. `types.UID`) API fields use.
APIMACHINERY_GO_ONLY_PACKAGES = ["pkg/types"]


def fail(msg):
    sys.exit("gen_schema: " + msg)


# ---------------------------------------------------------------- proto parsing


class ProtoField:
    def __init__(self, label, type_, name, number, key_type=None):
        self.label = label  # optional | repeated | map
        self.type = type_  # scalar name or fully-qualified message name (map: value type)
        self.name = name
        self.number = number
        self.key_type = key_type


class ProtoPackage:
    def __init__(self, path):
        self.path = path
        self.package = None
        self.go_package = None
        self.messages = {}  # name -> [ProtoField]


def qualify(type_, package):
    if type_ in SCALARS:
        return type_
    if type_.startswith("."):
        return type_[1:]
    return package + "." + type_


def parse_proto(path):
    pkg = ProtoPackage(path)
    text = open(path, encoding="utf-8").read()
    # Line comments first: their text may hold "/*" (e.g. "apps/*").
    text = "\n".join(re.sub(r"//.*", "", l) for l in text.splitlines())
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    lines = [l.strip() for l in text.splitlines()]
    current = None
    for line in lines:
        if not line:
            continue
        m = re.match(r"package ([\w.]+);", line)
        if m:
            pkg.package = m.group(1)
            continue
        m = re.match(r'option go_package = "([^"]+)";', line)
        if m:
            pkg.go_package = m.group(1)
            continue
        if line.startswith(("syntax ", "import ", "option ")):
            continue
        m = re.match(r"message (\w+) \{$", line)
        if m:
            if current is not None:
                fail(f"nested message in {path}: {line}")
            current = m.group(1)
            pkg.messages[current] = []
            continue
        if line == "}":
            if current is None:
                fail(f"stray brace in {path}")
            current = None
            continue
        if current is None:
            fail(f"unexpected line outside a message in {path}: {line}")
        m = re.match(r"(optional|repeated) ([\w.]+) (\w+) = (\d+);$", line)
        if m:
            pkg.messages[current].append(
                ProtoField(m.group(1), qualify(m.group(2), pkg.package), m.group(3), int(m.group(4)))
            )
            continue
        m = re.match(r"map<(\w+), ([\w.]+)> (\w+) = (\d+);$", line)
        if m:
            pkg.messages[current].append(
                ProtoField("map", qualify(m.group(2), pkg.package), m.group(3), int(m.group(4)), m.group(1))
            )
            continue
        fail(f"unparsed proto line in {path}: {line}")
    if pkg.package is None or pkg.go_package is None:
        fail(f"no package/go_package in {path}")
    return pkg


# ---------------------------------------------------------------- Go parsing


class GoField:
    def __init__(self, name, type_expr, tag, embedded):
        self.name = name
        self.type_expr = type_expr
        self.tag = tag
        self.embedded = embedded


def tag_value(tag, key):
    m = re.search(key + r':"([^"]*)"', tag or "")
    return m.group(1) if m else None


class Scope:
    """Where a Go type expression is read: its package and its file's imports."""

    def __init__(self, import_path, imports):
        self.import_path = import_path
        self.imports = dict(imports)


class GoPackage:
    """The type declarations of one Go package (non-test, non-generated files)."""

    def __init__(self, import_path, directory):
        self.import_path = import_path
        self.structs = {}  # name -> [GoField]
        self.named = {}  # name -> type expression (non-struct named types)
        self.imports = {}  # alias -> import path, of the file being parsed
        for fname in sorted(os.listdir(directory)):
            if not fname.endswith(".go") or fname.endswith("_test.go"):
                continue
            if fname.startswith("zz_generated") or fname in ("generated.pb.go",) or "swagger_doc" in fname:
                continue
            self.parse_file(os.path.join(directory, fname))

    def parse_file(self, path):
        self.imports = {}
        text = open(path, encoding="utf-8").read()
        # Whole-line comments first: their text may hold "/*" (e.g. "apps/*").
        text = "\n".join(re.sub(r"^\s*//.*", "", l) for l in text.splitlines())
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        lines = text.splitlines()
        i = 0
        in_import = False
        in_type_group = False
        while i < len(lines):
            line = lines[i].strip()
            i += 1
            if in_import:
                if line == ")":
                    in_import = False
                    continue
                self.add_import(line, path)
                continue
            if line.startswith("import ("):
                in_import = True
                continue
            if line.startswith("import "):
                self.add_import(line[len("import ") :], path)
                continue
            if line == "type (":
                in_type_group = True
                continue
            if in_type_group and line == ")":
                in_type_group = False
                continue
            decl = None
            if line.startswith("type "):
                decl = line[len("type ") :]
            elif in_type_group and line:
                decl = line
            if decl is None:
                continue
            m = re.match(r"(\w+)(\[[^\]]*\])? struct\s*\{\s*(\})?$", decl)
            if m:
                name = m.group(1)
                fields = []
                self.struct_error = None
                if m.group(3) is None:
                    while True:
                        if i >= len(lines):
                            fail(f"unterminated struct {name} in {path}")
                        fline = lines[i].strip()
                        i += 1
                        if fline == "}":
                            break
                        fline = re.sub(r"\s//.*$", "", fline).strip() if "`" not in fline else fline
                        if not fline:
                            continue
                        if fline.endswith("{"):
                            fail(f"anonymous struct field in {name} ({path}): {fline}")
                        fields.append(self.parse_field(fline, name, path))
                if m.group(2) is None:
                    # A struct we could not read fails the run only if a proto message needs it.
                    self.structs[name] = (fields, Scope(self.import_path, self.imports), self.struct_error)
                continue
            m = re.match(r"(\w+) (=\s*)?(\S.*?)\s*(//.*)?$", decl)
            if m and not m.group(3).startswith(("interface", "func")):
                self.named[m.group(1)] = (m.group(3), Scope(self.import_path, self.imports))

    def add_import(self, line, path):
        line = re.sub(r"//.*", "", line).strip()
        if not line:
            return
        m = re.match(r'(?:(\w+|_|\.)\s+)?"([^"]+)"$', line)
        if not m:
            fail(f"unparsed import in {path}: {line}")
        alias = m.group(1) or m.group(2).rsplit("/", 1)[-1]
        self.imports[alias] = m.group(2)

    def parse_field(self, line, struct, path):
        tag = None
        m = re.match(r"^(.*?)\s*`([^`]*)`\s*(//.*)?$", line)
        if m:
            line, tag = m.group(1).strip(), m.group(2)
        parts = line.split()
        if len(parts) == 1:
            return GoField(None, parts[0], tag, True)
        if len(parts) == 2 and not parts[0].endswith(","):
            return GoField(parts[0], parts[1], tag, False)
        self.struct_error = f"unparsed field in {struct} ({path}): {line}"
        return None


# Go type expressions: ("ptr", t) ("slice", t) ("map", k, v) ("named", import_path, name) ("builtin", name)
def parse_type(expr, scope):
    if expr.startswith("*"):
        return ("ptr", parse_type(expr[1:], scope))
    if expr.startswith("[]"):
        return ("slice", parse_type(expr[2:], scope))
    if expr.startswith("map["):
        depth = 0
        for idx, ch in enumerate(expr):
            if ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
                if depth == 0:
                    return ("map", parse_type(expr[4:idx], scope), parse_type(expr[idx + 1 :], scope))
        fail(f"bad map type {expr}")
    if "." in expr:
        alias, name = expr.split(".", 1)
        if alias not in scope.imports:
            fail(f"unknown import alias in {expr} ({scope.import_path})")
        return ("named", scope.imports[alias], name)
    if expr in ("string", "bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16",
                "uint32", "uint64", "float32", "float64", "byte", "rune", "any") or expr.startswith("interface"):
        return ("builtin", expr)
    return ("named", scope.import_path, expr)


# ---------------------------------------------------------------- joining


class Generator:
    def __init__(self, api_dir, machinery_dir):
        self.go_packages = {}  # import path -> GoPackage
        self.protos = []  # ProtoPackage
        self.group_versions = []  # (group, version, proto package)
        for root, dirs, files in os.walk(api_dir):
            dirs.sort()
            if "testdata" in root.split(os.sep):
                continue
            if "generated.proto" in files:
                self.load_package(root, "k8s.io/api/" + os.path.relpath(root, api_dir).replace(os.sep, "/"))
        for rel in APIMACHINERY_PACKAGES:
            self.load_package(os.path.join(machinery_dir, rel), "k8s.io/apimachinery/" + rel)
        for rel in APIMACHINERY_GO_ONLY_PACKAGES:
            path = "k8s.io/apimachinery/" + rel
            self.go_packages[path] = GoPackage(path, os.path.join(machinery_dir, rel))
        self.messages = {}  # full name -> (ProtoPackage, message name)
        for pkg in self.protos:
            for name in pkg.messages:
                full = pkg.package + "." + name
                if full not in SKIP_MESSAGES:
                    self.messages[full] = (pkg, name)
        self.index = {name: i for i, name in enumerate(sorted(self.messages))}

    def load_package(self, directory, import_path):
        proto = parse_proto(os.path.join(directory, "generated.proto"))
        if proto.go_package != import_path:
            fail(f"{directory}: go_package {proto.go_package} != {import_path}")
        self.protos.append(proto)
        self.go_packages[import_path] = GoPackage(import_path, directory)
        register = os.path.join(directory, "register.go")
        if import_path.startswith("k8s.io/api/") and os.path.exists(register):
            text = open(register, encoding="utf-8").read()
            g = re.search(r'const GroupName = "([^"]*)"', text)
            v = re.search(r'SchemeGroupVersion = schema.GroupVersion\{Group: GroupName, Version: "([^"]+)"\}', text)
            if not g or not v:
                fail(f"{register}: no GroupName/SchemeGroupVersion")
            self.group_versions.append((g.group(1), v.group(1), proto.package))

    def resolve(self, t):
        """Follow named non-struct types to their underlying type expression."""
        seen = 0
        while t[0] == "named":
            pkg = self.go_packages.get(t[1])
            if pkg is None or t[2] not in pkg.named:
                return t
            t = parse_type(*pkg.named[t[2]])
            seen += 1
            if seen > 10:
                fail(f"type alias loop at {t}")
        return t

    def message_for_go(self, t):
        """The proto message a Go named struct type corresponds to."""
        for _ in range(10):
            if t[0] != "named":
                return None
            full = t[1].replace("/", ".") + "." + t[2]
            if full in self.messages:
                return full
            pkg = self.go_packages.get(t[1])
            if pkg is None or t[2] not in pkg.named:
                return None
            t = parse_type(*pkg.named[t[2]])  # `type X = otherpkg.Y` or `type X otherpkg.Y`
        return None

    def proto_to_go_package(self, proto_pkg):
        return self.go_packages[proto_pkg.go_package]

    def build(self):
        out = []
        for full in sorted(self.messages):
            proto_pkg, name = self.messages[full]
            special = SPECIAL.get(full)
            proto_fields = proto_pkg.messages[name]
            gopkg = self.proto_to_go_package(proto_pkg)
            if special is not None:
                fields = [self.special_field(full, f) for f in proto_fields]
                out.append((full, special, fields))
                continue
            go_struct = gopkg.structs.get(name)
            if name in gopkg.named:
                underlying = self.resolve(parse_type(*gopkg.named[name]))
                if underlying[0] == "named" and underlying[2] in self.go_packages[underlying[1]].structs:
                    # `type X otherpkg.Y` over a struct: Y's fields and tags.
                    go_struct = self.go_packages[underlying[1]].structs[underlying[2]]
                    name = None
                if (underlying[0] == "slice" and self.resolve(underlying[1]) == ("builtin", "string")
                        and len(proto_fields) == 1 and proto_fields[0].label == "repeated"
                        and proto_fields[0].type == "string" and proto_fields[0].number == 1):
                    out.append((full, "StringList", [self.special_field(full, proto_fields[0])]))
                    continue
                if name is not None:
                    fail(f"{full}: named non-struct Go type {gopkg.named[name][0]} not understood")
            if go_struct is None:
                fail(f"{full}: no Go struct {name} in {gopkg.import_path}")
            go_fields, scope, error = go_struct
            if error is not None:
                fail(f"{full}: {error}")
            out.append((full, "Plain", self.join(full, proto_fields, scope, go_fields)))
        return out

    def special_field(self, full, f):
        if f.label == "map":
            fail(f"{full}: map in a special message")
        return {
            "number": f.number, "json": None, "inline": False, "omit": "Never", "pointer": False,
            "type": self.proto_type(full, f),
        }

    def elem(self, full, type_):
        if type_ in SCALARS:
            return f"S({SCALARS[type_]})"
        if type_ not in self.index:
            fail(f"{full}: unknown message type {type_}")
        return f"M({self.index[type_]})"

    def proto_type(self, full, f):
        if f.label == "map":
            if f.key_type != "string":
                fail(f"{full}.{f.name}: map key {f.key_type}")
            return f"Map({self.elem(full, f.type)})"
        if f.label == "repeated":
            return f"List({self.elem(full, f.type)})"
        return f"One({self.elem(full, f.type)})"

    def join(self, full, proto_fields, scope, go_fields):
        by_number = {f.number: f for f in proto_fields}
        used = set()
        fields = []
        for gf in go_fields:
            json_tag = tag_value(gf.tag, "json")
            pb_tag = tag_value(gf.tag, "protobuf")
            if gf.name is not None and not gf.name[0].isupper():
                continue  # unexported: invisible to encoding/json and to go-to-protobuf
            json_name, opts = None, []
            if json_tag is not None:
                parts = json_tag.split(",")
                json_name, opts = parts[0], parts[1:]
            omitempty, omitzero = "omitempty" in opts, "omitzero" in opts
            omit = {(False, False): "Never", (True, False): "Empty", (False, True): "Zero",
                    (True, True): "EmptyOrZero"}[(omitempty, omitzero)]
            go_type = parse_type(gf.type_expr, scope)
            pointer = go_type[0] == "ptr"
            inner = go_type[1] if pointer else go_type
            inline = gf.embedded and not json_name and json_name != "-"
            if json_name == "-" or inline:
                json_out = None
            else:
                json_out = json_name or gf.name
            if (pb_tag is None or pb_tag == "-") and json_out is None and not inline:
                continue  # neither on the wire nor in JSON
            if pb_tag is None or pb_tag == "-":
                # A Go-only field: never on the wire, so always its zero value in the output.
                msg = self.message_for_go(inner)
                if msg is not None:
                    type_ = f"One(M({self.index[msg]}))"
                else:
                    fail(f"{full}: Go-only field {gf.name or gf.type_expr} of type {gf.type_expr} not supported")
                fields.append({"number": 0, "json": json_out, "inline": inline, "omit": omit,
                               "pointer": pointer, "type": type_})
                continue
            number = int(pb_tag.split(",")[1])
            pf = by_number.get(number)
            if pf is None:
                fail(f"{full}: Go field {gf.name} has protobuf number {number} missing from the proto")
            used.add(number)
            self.check_shape(full, gf, pf, inner, pointer)
            fields.append({"number": number, "json": json_out, "inline": inline, "omit": omit,
                           "pointer": pointer, "type": self.proto_type(full, pf)})
        missing = set(by_number) - used
        if missing:
            fail(f"{full}: proto fields {sorted(missing)} have no Go field")
        return fields

    def check_shape(self, full, gf, pf, inner, pointer):
        """Abort unless the Go type and the proto type agree on the shape we rely on."""
        where = f"{full}.{gf.name or gf.type_expr}"
        resolved = self.resolve(inner)
        if pf.label == "map":
            if pointer or resolved[0] != "map":
                fail(f"{where}: proto map but Go {gf.type_expr}")
            if pf.type not in SCALARS and self.message_for_go(resolved[2]) != pf.type:
                fail(f"{where}: map of {pf.type} with Go value {resolved[2]}")
            if pf.type == "bytes" and self.resolve(resolved[2]) != ("slice", ("builtin", "byte")):
                fail(f"{where}: map of bytes with Go value {resolved[2]}")
            return
        if pf.label == "repeated":
            if pointer or resolved[0] != "slice":
                fail(f"{where}: proto repeated but Go {gf.type_expr}")
            if resolved[1][0] == "ptr":
                fail(f"{where}: slice of pointers not supported")
            return
        if pf.type == "bytes":
            if resolved != ("slice", ("builtin", "byte")):
                fail(f"{where}: proto bytes but Go {gf.type_expr}")
            return
        if pf.type in SCALARS:
            if resolved[0] != "builtin":
                fail(f"{where}: proto scalar {pf.type} but Go {gf.type_expr}")
            return
        if resolved[0] == "slice" and self.message_for_go(inner) == pf.type:
            return  # a named slice type carried as a wrapper message (e.g. ExtraValue)
        if self.message_for_go(inner) != pf.type:
            fail(f"{where}: proto message {pf.type} but Go {gf.type_expr}")


# ---------------------------------------------------------------- output


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(gen, messages, version):
    out = []
    out.append("//! The Kubernetes protobuf schema table, GENERATED by `tools/gen_schema.py` from the")
    out.append(f"//! upstream `k8s.io/api` and `k8s.io/apimachinery` sources of Kubernetes {version}: do not")
    out.append("//! edit by hand, re-run the tool instead (see the crate documentation).")
    out.append("")
    out.append("use crate::schema::{Elem::*, FieldSchema as F, FieldType::*, MessageSchema, Omit::*, Scalar::*, Special};")
    out.append("")
    out.append("/// The Kubernetes release the table was generated from.")
    out.append(f"pub(crate) const KUBERNETES_VERSION: &str = {rust_str(version)};")
    out.append("")
    out.append("/// `(group, version, protobuf package)` of every API group version in `k8s.io/api`.")
    out.append("pub(crate) static GROUP_VERSIONS: &[(&str, &str, &str)] = &[")
    for g, v, p in sorted(gen.group_versions):
        out.append(f"    ({rust_str(g)}, {rust_str(v)}, {rust_str(p)}),")
    out.append("];")
    out.append("")
    out.append("/// Every message, sorted by fully-qualified name; `M(i)` refers to `MESSAGES[i]`.")
    out.append("pub(crate) static MESSAGES: &[MessageSchema] = &[")
    for i, (full, special, fields) in enumerate(messages):
        out.append(f"    // {i}")
        out.append(f"    MessageSchema {{ name: {rust_str(full)}, special: Special::{special}, fields: &[")
        for f in fields:
            json = "None" if f["json"] is None else f"Some({rust_str(f['json'])})"
            out.append(
                f"        F {{ number: {f['number']}, json: {json}, inline: {str(f['inline']).lower()}, "
                f"omit: {f['omit']}, pointer: {str(f['pointer']).lower()}, ty: {f['type']} }},"
            )
        out.append("    ] },")
    out.append("];")
    out.append("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--api", required=True, help="checkout of k8s.io/api")
    ap.add_argument("--apimachinery", required=True, help="checkout of k8s.io/apimachinery")
    ap.add_argument("--version", required=True, help="Kubernetes version of the checkouts, e.g. 1.34.10")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    gen = Generator(args.api, args.apimachinery)
    messages = gen.build()
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(render(gen, messages, args.version))
    print(f"gen_schema: {len(messages)} messages, {sum(len(m[2]) for m in messages)} fields, "
          f"{len(gen.group_versions)} group versions -> {args.out}")


if __name__ == "__main__":
    main()
