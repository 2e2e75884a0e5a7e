#!/usr/bin/env python3
"""Compare iotjaild --replay flows with ndpiReader -C on the same captures.

Usage: compare.py WORKDIR MIN_RATIO
WORKDIR holds NAME.ref.csv (ndpiReader -C) and NAME.ours.json (iotjaild
--flows) per capture.  Flows are matched as unordered endpoint pairs plus IP
protocol; when a tuple occurs several times in a file (port reuse), the k-th
occurrence on one side is matched with the k-th on the other, in order of
first packet.  The ratio counts every ndpiReader flow: one we lack is a
disagreement.
"""
import collections
import json
import os
import sys


def key(proto, a, ap, b, bp):
    x, y = (a, int(ap)), (b, int(bp))
    return (int(proto),) + (min(x, y), max(x, y))


def load_ref(path):
    flows = collections.defaultdict(list)
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            c = line.rstrip("\n").split(",")
            if len(c) < 11:
                continue
            k = key(c[1], c[5], c[6], c[7], c[8])
            flows[k].append((float(c[2]), c[10]))
    return flows


def load_ours(path):
    flows = collections.defaultdict(list)
    with open(path) as f:
        for line in f:
            o = json.loads(line)
            k = key(o["ip_proto"], o["src_ip"], o["src_port"], o["dst_ip"],
                    o["dst_port"])
            flows[k].append((o["first_seen"], o["app_proto"]))
    return flows


def main():
    work, min_ratio = sys.argv[1], float(sys.argv[2])
    total = agree = 0
    per_file = []
    by_proto = collections.Counter()
    examples = {}
    names = sorted(n[:-8] for n in os.listdir(work) if n.endswith(".ref.csv"))
    for name in names:
        ours_path = os.path.join(work, name + ".ours.json")
        ref = load_ref(os.path.join(work, name + ".ref.csv"))
        ours = load_ours(ours_path) if os.path.exists(ours_path) else {}
        ft = fa = 0
        for k, rl in ref.items():
            ol = sorted(ours.get(k, []))
            for i, (_, rp) in enumerate(sorted(rl)):
                op = ol[i][1] if i < len(ol) else "(missing)"
                ft += 1
                if op == rp:
                    fa += 1
                else:
                    by_proto[(rp, op)] += 1
                    examples.setdefault((rp, op), name)
        total += ft
        agree += fa
        if ft:
            per_file.append((fa / ft, ft - fa, ft, name))
    ratio = agree / total if total else 0.0
    print(f"corpus: {len(names)} captures, {total} ndpiReader flows, "
          f"{agree} agree: {100 * ratio:.2f}% (target >= {100 * min_ratio:.0f}%)")
    print("worst files (agreement, disagreeing/total):")
    for r, bad, ft, name in sorted(per_file)[:12]:
        if bad:
            print(f"  {100 * r:6.1f}%  {bad:4d}/{ft:<5d} {name}")
    print("disagreements by protocol (ndpiReader -> iotjaild: flows, e.g.):")
    for (rp, op), n in by_proto.most_common(25):
        print(f"  {n:5d}  {rp} -> {op}   ({examples[(rp, op)]})")
    ok = ratio >= min_ratio
    print(f"corpus agreement: {1 if ok else 0} passed, {0 if ok else 1} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
