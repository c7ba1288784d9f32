#!/usr/bin/env python3
"""Transcribe the server-side application cases of upstream's strategic merge patch tests
into `tests/fixtures/smp_upstream.json`.

Source: k8s.io/apimachinery v0.34.10 `pkg/util/strategicpatch/patch_test.go`
(TestCustomStrategicMergePatch, TestStrategicMergePatch, TestReplaceWithRawExtension,
TestNumberConversion, TestUnknownField). Each upstream case yields up to two application
cases, exactly as the Go tests apply them:
- "TwoWay": the expected two-way patch applied to `original` gives `twoWayResult` (or
  `modified`);
- "ThreeWay": the expected three-way patch applied to `current` gives `result` (cases
  named "conflict" without a result are skipped, as upstream does).
For the YAML-table cases upstream first sorts merge lists by merge key
(`sortMergeListsByName`) in every document; this script does the same, so the fixtures hold
the exact documents the Go test feeds to `StrategicMergePatch`.

Usage: gen_fixtures.py <patch_test.go> <output.json>
"""
import json
import re
import sys

import yaml

# The fake schema of the upstream tests (`MergeItem`, `RetainKeysMergeItem` in patch_test.go).
MERGE_ITEM = {
    "mergingList": ("merge", "name", "mergeItem"),
    "nonMergingList": ("", "", "mergeItem"),
    "mergingIntList": ("merge", "", None),
    "nonMergingIntList": ("", "", None),
    "mergeItemPtr": ("merge", "name", "mergeItem"),
    "simpleMap": ("", "", None),
    "replacingItem": ("replace", "", None),
    "retainKeysMap": ("retainKeys", "", "retainKeysMergeItem"),
    "retainKeysMergingList": ("merge,retainKeys", "name", "mergeItem"),
}
RETAIN_KEYS_MERGE_ITEM = {
    "simpleMap": ("", "", None),
    "mergingIntList": ("merge", "", None),
    "mergingList": ("merge", "name", "mergeItem"),
    "nonMergingList": ("", "", "mergeItem"),
}
SCHEMAS = {"mergeItem": MERGE_ITEM, "retainKeysMergeItem": RETAIN_KEYS_MERGE_ITEM}


def go_v(value):
    """fmt's %v for a decoded JSON value (enough for merge keys and scalars)."""
    if value is None:
        return "<nil>"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def dedupe_scalars(items):
    """Upstream deduplicateScalars, element order included."""
    s = list(items)
    length = len(s) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if s[i] == s[j] and type(s[i]) is type(s[j]):
                s[j] = s[length]
                s = s[:length]
                length -= 1
                j -= 1
            j += 1
        i += 1
    return s


def sort_by_v(items, key=lambda x: x):
    # Go's sort.Sort is an insertion sort for n <= 12: stable, like Python's sort.
    assert len(items) <= 12, "unexpectedly long list"
    return sorted(items, key=lambda x: go_v(key(x)))


def sort_map(doc, schema_name):
    """Upstream sortMergeListsByNameMap."""
    schema = SCHEMAS.get(schema_name) if schema_name else None
    out = {}
    for k, v in doc.items():
        if k == "$retainKeys" or k.startswith("$deleteFromPrimitiveList"):
            v = sort_by_v(v)
        elif k.startswith("$setElementOrder") or k == "$patch":
            pass
        elif isinstance(v, dict):
            sub = schema.get(k, ("", "", None))[2] if schema else None
            v = sort_map(v, sub)
        elif isinstance(v, list):
            strategy, merge_key, sub = schema.get(k, ("", "", None)) if schema else ("", "", None)
            strategies = [s for s in strategy.split(",") if s != "retainKeys"]
            if strategies == ["merge"]:
                v = sort_array(v, sub, merge_key)
        out[k] = v
    return out


def sort_array(items, schema_name, merge_key):
    """Upstream sortMergeListsByNameArray (recursing)."""
    if not items:
        return items
    if not isinstance(items[0], dict):
        return sort_by_v(dedupe_scalars(items))
    return sort_by_v([sort_map(e, schema_name) for e in items], key=lambda e: e.get(merge_key))


def check_types(value):
    if isinstance(value, dict):
        for v in value.values():
            check_types(v)
    elif isinstance(value, list):
        for v in value:
            check_types(v)
    elif not (value is None or isinstance(value, (bool, int, str))):
        raise SystemExit(f"unexpected YAML value {value!r}")


def load_yaml(text):
    value = yaml.safe_load(text) if text is not None else None
    check_types(value)
    return value


def yaml_block(src, var):
    m = re.search(r"^var " + var + r" = \[\]byte\(`(.*?)`\)", src, re.S | re.M)
    return yaml.safe_load(m.group(1))["testCases"]


def raw_cases(src, var):
    m = re.search(r"^var " + var + r" = \[\]StrategicMergePatchRawTestCase\{(.*?)^\}", src, re.S | re.M)
    body = m.group(1)
    cases = []
    for chunk in re.split(r"\n\t\{\n", body)[1:]:
        d = re.search(r'Description: "((?:[^"\\]|\\.)*)"', chunk).group(1)
        fields = {name: text for name, text in re.findall(r"(\w+): \[\]byte\(`(.*?)`\)", chunk, re.S)}
        err = re.search(r'ExpectedError: "((?:[^"\\]|\\.)*)"', chunk)
        cases.append((d, fields, err.group(1) if err else None))
    return cases


def main():
    src = open(sys.argv[1]).read()
    out = []
    seen = {}

    def add(name, original, patch, expected=None, error=None, schema="mergeItem"):
        n = seen.get(name, 0)
        seen[name] = n + 1
        if n:
            name = f"{name} #{n + 1}"
        case = {"upstream": name, "schema": schema, "original": original, "patch": patch}
        if error is not None:
            case["expected_error"] = error
        else:
            case["expected"] = expected
        out.append(case)

    def sorted_doc(doc):
        return sort_map(doc, "mergeItem") if doc is not None else None

    def table_cases(test, cases, three_way):
        for c in cases:
            check_types(c)
            d = c["description"]
            original = sorted_doc(c.get("original")) or {}
            two_way_result = c.get("twoWayResult", c.get("modified"))
            add(f"{test}/{d}/TwoWay", original, sorted_doc(c.get("twoWay")) or {}, sorted_doc(two_way_result) or {})
            if three_way and c.get("result"):
                add(f"{test}/{d}/ThreeWay", sorted_doc(c.get("current")) or {},
                    sorted_doc(c.get("threeWay")) or {}, sorted_doc(c.get("result")))

    def raw(test, cases, three_way):
        for d, f, err in cases:
            d = d.replace('\\"', '"')
            original = load_yaml(f.get("Original")) or {}
            two_way_result = f.get("TwoWayResult", f.get("Modified"))
            if err is not None:
                add(f"{test}/{d}/TwoWay", original, load_yaml(f.get("TwoWay")) or {}, error=err)
            else:
                add(f"{test}/{d}/TwoWay", original, load_yaml(f.get("TwoWay")) or {}, load_yaml(two_way_result))
            if three_way and f.get("Result"):
                add(f"{test}/{d}/ThreeWay", load_yaml(f.get("Current")) or {},
                    load_yaml(f.get("ThreeWay")) or {}, load_yaml(f.get("Result")), error=err)

    table_cases("TestCustomStrategicMergePatch", yaml_block(src, "customStrategicMergePatchTestCaseData"), False)
    raw("TestCustomStrategicMergePatch", raw_cases(src, "customStrategicMergePatchRawTestCases"), False)
    table_cases("TestStrategicMergePatch", yaml_block(src, "createStrategicMergePatchTestCaseData"), True)
    raw("TestStrategicMergePatch", raw_cases(src, "strategicMergePatchRawTestCases"), True)
    raw("TestReplaceWithRawExtension", raw_cases(src, "replaceRawExtensionPatchTestCases"), True)

    # TestNumberConversion: the expected patch applied to Old gives the expected result.
    body = re.search(r"func TestNumberConversion.*?testcases := map\[string\]struct \{.*?\}\{(.*?)\n\t\}\n", src, re.S).group(1)
    for name, old, patch, result in re.findall(
            r'"([^"]+)": \{\s*Old:\s*`([^`]*)`,\s*New:\s*`[^`]*`,\s*ExpectedPatch:\s*`([^`]*)`,\s*ExpectedResult:\s*`([^`]*)`', body):
        add(f"TestNumberConversion/{name}", json.loads(old), json.loads(patch), json.loads(result), schema="precisionItem")

    # TestUnknownField: the expected two-/three-way patches applied to Original / Current.
    body = re.search(r"func TestUnknownField.*?testcases := map\[string\]struct \{.*?\}\{(.*?)\n\t\}\n", src, re.S).group(1)
    for name, fields in re.findall(r'\n\t\t"([^"]+)": \{(.*?)\n\t\t\},', body, re.S):
        f = dict(re.findall(r"(\w+):\s*`([^`]*)`", fields))
        if "ExpectedTwoWay" in f:
            add(f"TestUnknownField/{name}/TwoWay", json.loads(f["Original"]), json.loads(f["ExpectedTwoWay"]),
                json.loads(f["ExpectedTwoWayResult"]))
        if "ExpectedThreeWay" in f:
            add(f"TestUnknownField/{name}/ThreeWay", json.loads(f["Current"]), json.loads(f["ExpectedThreeWay"]),
                json.loads(f["ExpectedThreeWayResult"]))

    with open(sys.argv[2], "w") as fh:
        fh.write("[\n")
        for i, case in enumerate(out):
            fh.write("  " + json.dumps(case, sort_keys=False))
            fh.write(",\n" if i + 1 < len(out) else "\n")
        fh.write("]\n")
    print(f"{len(out)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
