#!/usr/bin/env python3
"""Queries on the daemon's JSON output for tests/integration/run.sh.

    jsonl.py match FILE [KEY=VALUE...]      print the lines of FILE (one JSON
                                            object per line) where every KEY
                                            has VALUE; exit 1 if there is none
    jsonl.py get FILE KEY [KEY=VALUE...]    print KEY of every matching line
    jsonl.py iperf FILE                     bytes received by an iperf3 -J run

KEY is dotted for nested objects (device.name, rule.line).  VALUE is compared
as text; `null` matches a JSON null, `true`/`false` a boolean.  Lines that are
not JSON are an error (the daemon must write only whole JSON lines).
"""
import json
import sys


def lookup(obj, key):
    for part in key.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return KeyError
        obj = obj[part]
    return obj


def text(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def records(path):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except ValueError as e:
                sys.exit(f"{path}:{n}: not JSON: {e}")


def matching(path, conds):
    want = [c.split("=", 1) for c in conds]
    for r in records(path):
        if all(lookup(r, k) is not KeyError and text(lookup(r, k)) == v
               for k, v in want):
            yield r


def main(argv):
    if len(argv) >= 3 and argv[1] == "match":
        found = 0
        for r in matching(argv[2], argv[3:]):
            print(json.dumps(r, separators=(",", ":")))
            found += 1
        return 0 if found else 1
    if len(argv) >= 4 and argv[1] == "get":
        found = 0
        for r in matching(argv[2], argv[4:]):
            v = lookup(r, argv[3])
            print(text(None if v is KeyError else v))
            found += 1
        return 0 if found else 1
    if len(argv) == 3 and argv[1] == "iperf":
        with open(argv[2], encoding="utf-8") as f:
            r = json.load(f)
        print(int(r["end"]["sum_received"]["bytes"]))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
