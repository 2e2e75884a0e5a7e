#!/bin/sh
# Golden replay tests: each capture the project generates, replayed through
# iotjaild, must give exactly the reviewed flow log in tests/replay/expected/
# (flows and, when a policy is given, verdicts and alerts).  Captures are
# deterministic and replay uses their timestamps, so the output is too.
#   UPDATE=1 sh tests/replay/golden.sh   rewrites the expected files (review
#                                        the diff before committing it)
set -u
B=${B:-build}
dir=tests/replay/expected
pass=0 fail=0
out=$(mktemp -d "${TMPDIR:-/tmp}/iotjail-golden.XXXXXX")
trap 'rm -rf "$out"' EXIT INT TERM
for cap in "$B"/gen/*.pcap; do
	name=$(basename "$cap" .pcap)
	policy=$(awk -v n="$name" '$1 == n { $1 = "-c"; print }' tests/replay/policies)
	# shellcheck disable=SC2086
	"$B/iotjaild" --replay "$cap" $policy -q --flows "$out/$name.flows.json" \
		--alerts "$out/$name.alerts.json" 2>"$out/$name.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "replay golden: $name: iotjaild exited $rc:"; cat "$out/$name.err"
		fail=$((fail + 1)); continue
	fi
	for kind in flows alerts; do
		exp="$dir/$name.$kind.json"
		if [ -n "${UPDATE:-}" ]; then
			cp "$out/$name.$kind.json" "$exp"
		fi
		if [ ! -f "$exp" ]; then
			echo "replay golden: $name.$kind: no expected file $exp"
			fail=$((fail + 1))
		elif diff -u "$exp" "$out/$name.$kind.json" >"$out/diff"; then
			pass=$((pass + 1))
		else
			echo "replay golden: $name.$kind differs from $exp:"
			head -40 "$out/diff"
			fail=$((fail + 1))
		fi
	done
done
echo "replay golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
