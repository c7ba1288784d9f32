#!/usr/bin/env python3
"""Generate `src/schema/generated.rs`: the strategic-merge-patch metadata table.

Reads the Go API type definitions of Kubernetes 1.34 (k8s.io/api v0.34.x and
k8s.io/apimachinery v0.34.x `pkg/apis/meta/v1/types.go`) from a directory laid
out as `<root>/<group>/<version>/types.go` (meta types under `meta/v1`), parses
the struct fields and their `json`, `patchStrategy` and `patchMergeKey` tags,
and writes a Rust table of facts for every struct type reachable from the kinds
listed in ROOT_KINDS.

Usage: gen_schema.py <api-root> <output.rs>
"""
import re
import sys

PACKAGES = [
    "core/v1", "apps/v1", "batch/v1", "policy/v1", "scheduling/v1", "storage/v1",
    "coordination/v1", "discovery/v1", "autoscaling/v1", "autoscaling/v2",
    "networking/v1", "rbac/v1", "events/v1", "meta/v1",
]

# (api group, version, kind, package, Go type)
ROOT_KINDS = [
    ("", "v1", "Namespace", "core/v1", "Namespace"),
    ("", "v1", "Node", "core/v1", "Node"),
    ("", "v1", "Pod", "core/v1", "Pod"),
    ("", "v1", "PodTemplate", "core/v1", "PodTemplate"),
    ("", "v1", "ReplicationController", "core/v1", "ReplicationController"),
    ("", "v1", "Service", "core/v1", "Service"),
    ("", "v1", "Endpoints", "core/v1", "Endpoints"),
    ("", "v1", "ConfigMap", "core/v1", "ConfigMap"),
    ("", "v1", "Secret", "core/v1", "Secret"),
    ("", "v1", "Event", "core/v1", "Event"),
    ("", "v1", "ServiceAccount", "core/v1", "ServiceAccount"),
    ("", "v1", "PersistentVolume", "core/v1", "PersistentVolume"),
    ("", "v1", "PersistentVolumeClaim", "core/v1", "PersistentVolumeClaim"),
    ("", "v1", "ResourceQuota", "core/v1", "ResourceQuota"),
    ("", "v1", "LimitRange", "core/v1", "LimitRange"),
    ("events.k8s.io", "v1", "Event", "events/v1", "Event"),
    ("apps", "v1", "Deployment", "apps/v1", "Deployment"),
    ("apps", "v1", "ReplicaSet", "apps/v1", "ReplicaSet"),
    ("apps", "v1", "StatefulSet", "apps/v1", "StatefulSet"),
    ("apps", "v1", "DaemonSet", "apps/v1", "DaemonSet"),
    ("apps", "v1", "ControllerRevision", "apps/v1", "ControllerRevision"),
    ("batch", "v1", "Job", "batch/v1", "Job"),
    ("batch", "v1", "CronJob", "batch/v1", "CronJob"),
    ("policy", "v1", "PodDisruptionBudget", "policy/v1", "PodDisruptionBudget"),
    ("scheduling.k8s.io", "v1", "PriorityClass", "scheduling/v1", "PriorityClass"),
    ("storage.k8s.io", "v1", "StorageClass", "storage/v1", "StorageClass"),
    ("storage.k8s.io", "v1", "CSINode", "storage/v1", "CSINode"),
    ("coordination.k8s.io", "v1", "Lease", "coordination/v1", "Lease"),
    ("discovery.k8s.io", "v1", "EndpointSlice", "discovery/v1", "EndpointSlice"),
    ("autoscaling", "v1", "HorizontalPodAutoscaler", "autoscaling/v1", "HorizontalPodAutoscaler"),
    ("autoscaling", "v2", "HorizontalPodAutoscaler", "autoscaling/v2", "HorizontalPodAutoscaler"),
    ("networking.k8s.io", "v1", "Ingress", "networking/v1", "Ingress"),
    ("networking.k8s.io", "v1", "IngressClass", "networking/v1", "IngressClass"),
    ("networking.k8s.io", "v1", "NetworkPolicy", "networking/v1", "NetworkPolicy"),
    ("rbac.authorization.k8s.io", "v1", "Role", "rbac/v1", "Role"),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "rbac/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "rbac/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "rbac/v1", "ClusterRoleBinding"),
]

# Types that serialise as JSON scalars (custom marshalers) or as opaque objects.
SCALAR_TYPES = {
    "meta/v1.Time", "meta/v1.MicroTime", "meta/v1.Duration", "resource.Quantity",
    "intstr.IntOrString", "types.UID",
}
OPAQUE_OBJECT_TYPES = {"runtime.RawExtension", "meta/v1.FieldsV1"}
GO_SCALARS = {
    "string", "bool", "int", "int32", "int64", "uint", "uint32", "uint64", "float32",
    "float64", "byte",
}

SOURCE_FILE = {p: f"k8s.io/api/{p}/types.go" for p in PACKAGES}
SOURCE_FILE["meta/v1"] = "k8s.io/apimachinery/pkg/apis/meta/v1/types.go"


def parse_package(path):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), open(path).read(), flags=re.S)
    imports = {}
    m = re.search(r"^import \((.*?)^\)", text, re.S | re.M)
    if m:
        for line in m.group(1).splitlines():
            im = re.match(r'\s*(\w+)?\s*"([^"]+)"', line)
            if not im:
                continue
            alias, full = im.group(1), im.group(2)
            if alias is None:
                alias = full.rsplit("/", 1)[-1]
            if full.startswith("k8s.io/api/"):
                imports[alias] = full[len("k8s.io/api/"):]
            elif full == "k8s.io/apimachinery/pkg/apis/meta/v1":
                imports[alias] = "meta/v1"
            else:
                imports[alias] = alias
    structs = {}
    aliases = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        sm = re.match(r"^type (\w+) struct \{\s*$", line)
        if sm:
            name = sm.group(1)
            fields = []
            i += 1
            while not lines[i].startswith("}"):
                fl = lines[i].strip()
                i += 1
                if not fl or fl.startswith("//"):
                    continue
                fm = re.match(r"^(\w+)\s+([^\s`]+)\s*(`(.*)`)?\s*(//.*)?$", fl)
                em = re.match(r"^([\w.*]+)\s*(`(.*)`)?\s*(//.*)?$", fl)
                if fm:
                    fields.append((fm.group(1), fm.group(2), fm.group(4) or "", i))
                elif em:
                    fields.append((None, em.group(1), em.group(3) or "", i))
                else:
                    raise SystemExit(f"cannot parse field line {path}:{i}: {fl}")
            structs[name] = fields
        else:
            am = re.match(r"^type (\w+) (\S.*?)\s*(//.*)?$", line)
            if am and not am.group(2).startswith("struct") and not am.group(2).startswith("interface"):
                aliases[name_of(am)] = am.group(2)
        i += 1
    return imports, structs, aliases


def name_of(m):
    return m.group(1)


def tag_value(tag, key):
    m = re.search(key + r':"([^"]*)"', tag)
    return m.group(1) if m else None


class Model:
    def __init__(self, root):
        self.pkgs = {}
        for p in PACKAGES:
            self.pkgs[p] = parse_package(f"{root}/{p}/types.go")

    def qualify(self, pkg, ty):
        """Return a canonical type name `<pkg>.<Type>` or a Go scalar name."""
        if ty in GO_SCALARS:
            return ty
        if "." in ty:
            alias, name = ty.split(".", 1)
            target = self.pkgs[pkg][0].get(alias, alias)
            return f"{target}.{name}"
        return f"{pkg}.{ty}"

    def classify(self, pkg, ty):
        """Classify a Go type expression: (shape, element canonical type or None)."""
        ty = ty.lstrip("*")
        if ty == "[]byte":
            return ("scalar", None)
        if ty.startswith("[]"):
            inner = ty[2:].lstrip("*")
            shape, _ = self.classify(pkg, inner)
            if shape == "list":
                return ("list", None)
            if shape == "struct":
                return ("list", self.resolve_struct(pkg, inner))
            return ("list", None)
        if ty.startswith("map["):
            return ("map", None)
        q = self.qualify(pkg, ty)
        if q in GO_SCALARS or q in SCALAR_TYPES:
            return ("scalar", None)
        if q in OPAQUE_OBJECT_TYPES:
            return ("map", None)
        tpkg, tname = q.rsplit(".", 1)
        if tpkg not in self.pkgs:
            raise SystemExit(f"unknown package for type {q}")
        _, structs, aliases = self.pkgs[tpkg]
        if tname in structs:
            return ("struct", q)
        if tname in aliases:
            return self.classify(tpkg, aliases[tname])
        raise SystemExit(f"unknown type {q}")

    def resolve_struct(self, pkg, ty):
        q = self.qualify(pkg, ty.lstrip("*"))
        return q

    def fields(self, q):
        """Flattened JSON fields of struct q: list of dicts."""
        tpkg, tname = q.rsplit(".", 1)
        out = []
        for go_name, ty, tag, line in self.pkgs[tpkg][1][tname]:
            json_tag = tag_value(tag, "json")
            json_name = json_tag.split(",")[0] if json_tag is not None else None
            inline = json_tag is not None and "inline" in json_tag.split(",")[1:]
            if json_name == "-":
                continue
            if go_name is None:
                go_name = ty.lstrip("*").rsplit(".", 1)[-1]
                embedded = True
            else:
                embedded = False
            if (embedded or inline) and not json_name:
                # Embedded struct without a JSON name: encoding/json promotes its fields.
                shape, target = self.classify(tpkg, ty)
                if shape != "struct":
                    raise SystemExit(f"embedded non-struct {q}: {ty}")
                out.extend(self.fields(target))
                continue
            if not json_name:
                json_name = go_name
            shape, target = self.classify(tpkg, ty)
            out.append({
                "json": json_name,
                "go": go_name,
                "shape": shape,
                "target": target,
                "strategy": tag_value(tag, "patchStrategy") or "",
                "merge_key": tag_value(tag, "patchMergeKey") or "",
                "source": f"{SOURCE_FILE[tpkg]} {tname}.{go_name}",
            })
        return out


def rust_ident(q):
    pkg, name = q.rsplit(".", 1)
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    snake = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", snake)
    return (pkg.replace("/", "_") + "_" + snake).upper()


def main():
    root, out_path = sys.argv[1], sys.argv[2]
    model = Model(root)
    reachable = {}
    stack = [f"{p}.{t}" for (_, _, _, p, t) in ROOT_KINDS]
    while stack:
        q = stack.pop()
        if q in reachable:
            continue
        reachable[q] = model.fields(q)
        for f in reachable[q]:
            if f["target"]:
                stack.append(f["target"])
    # A type is relevant when walking into it can meet a patch strategy: it has
    # a field with a strategy, or a field leading to a relevant type.
    relevant = set()
    changed = True
    while changed:
        changed = False
        for q, fields in reachable.items():
            if q in relevant:
                continue
            if any(f["strategy"] or (f["target"] in relevant) for f in fields):
                relevant.add(q)
                changed = True
    # Element types of merge lists are kept so that merge keys can be checked.
    for q in list(reachable):
        for f in reachable[q]:
            if "merge" in f["strategy"].split(",") and f["target"]:
                relevant.add(f["target"])
    roots = {f"{p}.{t}" for (_, _, _, p, t) in ROOT_KINDS}
    relevant |= roots
    total = sum(len(reachable[q]) for q in relevant)
    print(f"reachable types {len(reachable)}, relevant {len(relevant)}, fields {total}", file=sys.stderr)
    emit(out_path, model, reachable, relevant)


def emit(out_path, model, reachable, relevant):
    shape_names = {"scalar": "Scalar", "list": "List", "map": "Map", "struct": "Struct"}
    # Scalar fields are listed only when they are the merge key of a list of this type.
    merge_keys = {}
    for q in reachable:
        for f in reachable[q]:
            if f["merge_key"] and f["target"]:
                merge_keys.setdefault(f["target"], set()).add(f["merge_key"])
    o = []
    o.append("//! Generated by `crates/patch/tools/gen_schema.py` from the Kubernetes 1.34 Go API types")
    o.append("//! (k8s.io/api v0.34.10, k8s.io/apimachinery v0.34.10): the struct tags `json`,")
    o.append("//! `patchStrategy` and `patchMergeKey`. Do not edit by hand; re-run the generator.")
    o.append("//!")
    o.append("//! Listed: every struct type where walking down can meet a patch strategy, plus the")
    o.append("//! element types of merge lists and the root kinds. Per type: every list, map and")
    o.append("//! struct field, and the scalar fields that serve as merge keys. Anything not listed")
    o.append("//! behaves as an unknown schema (maps merge, lists are replaced), which is what")
    o.append("//! upstream does for every field without a strategy. Each entry cites the Go field.")
    o.append("")
    o.append("use super::FieldShape::{List, Map, Scalar, Struct};")
    o.append("use super::{KindSchema, TypeSchema, field};")
    o.append("")
    for q in sorted(relevant):
        tpkg, tname = q.rsplit(".", 1)
        o.append(f"/// `{tname}` (`{SOURCE_FILE[tpkg]}`).")
        o.append(f"pub static {rust_ident(q)}: TypeSchema = TypeSchema {{")
        o.append(f"    name: \"{tpkg}.{tname}\",")
        o.append("    fields: &[")
        for f in reachable[q]:
            if f["shape"] == "scalar" and f["json"] not in merge_keys.get(q, set()):
                continue
            ty = f"Some(&{rust_ident(f['target'])})" if f["target"] in relevant else "None"
            o.append(
                f"        field(\"{f['json']}\", {shape_names[f['shape']]}, \"{f['strategy']}\", "
                f"\"{f['merge_key']}\", {ty}, \"{f['source']}\"),"
            )
        o.append("    ],")
        o.append("};")
        o.append("")
    o.append("/// Every kind with a table entry: (group, version, kind) and the schema of the object.")
    o.append("pub static KINDS: &[KindSchema] = &[")
    for (g, v, k, p, t) in ROOT_KINDS:
        o.append(f"    KindSchema {{ group: \"{g}\", version: \"{v}\", kind: \"{k}\", schema: &{rust_ident(p + '.' + t)} }},")
    o.append("];")
    o.append("")
    o.append("/// Every type in the table, for consistency checks.")
    o.append("pub static ALL_TYPES: &[&TypeSchema] = &[")
    for q in sorted(relevant):
        o.append(f"    &{rust_ident(q)},")
    o.append("];")
    open(out_path, "w").write("\n".join(o) + "\n")


if __name__ == "__main__":
    main()
