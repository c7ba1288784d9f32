#!/usr/bin/env python3
"""Transcribe evanphx/json-patch v4.12.0 `patch_test.go` (Cases, MutationTestCases,
BadCases, TestCases) into `tests/fixtures/json_patch_upstream.json`.

Upstream's TestAllCases runs with `AccumulatedCopySizeLimit = 100`; those cases carry
`"copy_limit": 100`. Cases whose document is empty (upstream returns the empty input
unchanged) have no JSON equivalent and are skipped.

Usage: gen_json_patch_fixtures.py <patch_test.go> <output.json>
"""
import json
import re
import sys


def go_strings(chunk):
    """The Go string expressions of one composite literal, in order."""
    out = []
    for m in re.finditer(r'`([^`]*)`|fmt\.Sprintf\(`([^`]*)`((?:, repeatedA\(\d+\))+)\)', chunk):
        if m.group(1) is not None:
            out.append(m.group(1))
        else:
            fmt, args = m.group(2), re.findall(r"repeatedA\((\d+)\)", m.group(3))
            for n in args:
                fmt = fmt.replace("%q", json.dumps("A" * int(n)), 1)
            out.append(fmt)
    return out


def table(src, var):
    m = re.search(r"^var " + var + r" = \[\]\w+\{\n(.*?)^\}", src, re.S | re.M)
    return re.split(r"\n\t\{\n", "\n" + m.group(1))[1:]


# Upstream's compareJSON unmarshals both sides into a map, so for documents whose root is an
# array it compares nothing and two of those expectations are wrong. These are the results of
# upstream's code (copy = add at index 0, which inserts; copy onto a key replaces it).
ARRAY_ROOT_OVERRIDES = {
    18: [{"foo": ["bar", "qux", "baz"], "bar": ["bar", "qux", "baz"]}],
    19: [{"foo": ["bar", "qux", "baz"], "bar": "bar"}],
}


def main():
    src = open(sys.argv[1]).read()
    out = []
    for i, chunk in enumerate(table(src, "Cases")):
        doc, patch, result = go_strings(chunk)[:3]
        if not doc.strip():
            continue
        expected = ARRAY_ROOT_OVERRIDES.get(i, json.loads(result))
        out.append({"upstream": f"TestAllCases/Cases[{i}]", "copy_limit": 100,
                    "original": json.loads(doc), "patch": json.loads(patch), "expected": expected})
    mutations = [
        {"foo": "bar", "qux": {"baz": 1}},
        {"foo": "bar", "qux": {"baz": None, "bar": None}},
    ]
    for i, chunk in enumerate(table(src, "MutationTestCases")):
        doc, patch = go_strings(chunk)[:2]
        out.append({"upstream": f"TestAllCases/MutationTestCases[{i}]", "copy_limit": 100,
                    "original": json.loads(doc), "patch": json.loads(patch), "expected": mutations[i]})
    for i, chunk in enumerate(table(src, "BadCases")):
        doc, patch = go_strings(chunk)[:2]
        out.append({"upstream": f"TestAllCases/BadCases[{i}]", "copy_limit": 100,
                    "original": json.loads(doc), "patch": json.loads(patch), "expected_error": ""})
    for i, chunk in enumerate(table(src, "TestCases")):
        doc, patch = go_strings(chunk)[:2]
        ok = re.search(r"\n\t\t(true|false),\n\t\t\"([^\"]*)\"", chunk)
        case = {"upstream": f"TestAllTest/TestCases[{i}]", "original": json.loads(doc), "patch": json.loads(patch)}
        if ok.group(1) == "true":
            case["expected"] = json.loads(doc)
        else:
            case["expected_error"] = f"testing value {ok.group(2)} failed: test failed"
        out.append(case)
    with open(sys.argv[2], "w") as fh:
        fh.write("[\n")
        for i, case in enumerate(out):
            fh.write("  " + json.dumps(case))
            fh.write(",\n" if i + 1 < len(out) else "\n")
        fh.write("]\n")
    print(f"{len(out)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
