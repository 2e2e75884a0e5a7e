#!/bin/sh
# Learn round trip on the generated captures (docs/learn.md):
#   1. learn on learnbase (with tests/learn/devices.yaml, whose devices have
#      names and no rules; and without a policy, every machine undeclared)
#      and export: the policy must be exactly the reviewed
#      tests/learn/expected/NAME.yaml;
#   2. iotjaild -t accepts it;
#   3. enforcing it on learnbase gives no violation alert
#      (service_not_allowed_*, binding_violation, unknown_device);
#   4. enforcing it on learnnew (learnbase plus one device doing one new
#      thing) gives exactly one, the reviewed
#      tests/learn/expected/NAME.learnnew.json.
# The whole alert and flow logs of (3) and (4) with the named policy are
# golden files of tests/replay (see tests/replay/policies).
#   UPDATE=1 sh tests/learn/golden.sh   rewrites the expected files (review
#                                       the diff before committing it)
set -u
B=${B:-build}
dir=tests/learn/expected
violation='"event_type":"(service_not_allowed_out|service_not_allowed_in|binding_violation|unknown_device)"'
pass=0 fail=0
out=$(mktemp -d "${TMPDIR:-/tmp}/iotjail-learn.XXXXXX")
trap 'rm -rf "$out"' EXIT INT TERM

ok() { pass=$((pass + 1)); }
ko() { echo "learn golden: $*"; fail=$((fail + 1)); }

# same NAME.KIND FILE: FILE must be the expected file (or becomes it)
same() {
	[ -n "${UPDATE:-}" ] && cp "$2" "$dir/$1"
	if [ ! -f "$dir/$1" ]; then
		ko "$1: no expected file $dir/$1"
	elif diff -u "$dir/$1" "$2" > "$out/diff"; then
		ok
	else
		ko "$1 differs from $dir/$1:"; head -40 "$out/diff"
	fi
}

for cap in learnbase learnnew; do
	if [ ! -f "$B/gen/$cap.pcap" ]; then
		echo "learn golden: $B/gen/$cap.pcap missing (make golden generates it)"
		exit 1
	fi
done

# name  options of the learning replay
for run in "learnbase -c tests/learn/devices.yaml" "learnbase-anon"; do
	set -- $run
	name=$1; shift
	policy="$dir/$name.yaml"
	# shellcheck disable=SC2068
	if ! "$B/iotjaild" --replay "$B/gen/learnbase.pcap" -q $@ --learn \
		--export "$out/$name.yaml" 2>"$out/err"; then
		ko "$name: learning failed:"; cat "$out/err"; continue
	fi
	same "$name.yaml" "$out/$name.yaml"
	if "$B/iotjaild" -t -c "$policy" 2>"$out/err"; then ok; else
		ko "$name: iotjaild -t refuses the exported policy:"; cat "$out/err"
	fi
	for cap in learnbase learnnew; do
		if ! "$B/iotjaild" --replay "$B/gen/$cap.pcap" -q -c "$policy" \
			--alerts "$out/$cap.alerts" 2>"$out/err"; then
			ko "$name: enforcing on $cap failed:"; cat "$out/err"; continue
		fi
		grep -E "$violation" "$out/$cap.alerts" > "$out/$cap.violations"
		n=$(wc -l < "$out/$cap.violations")
		case $cap in
		learnbase)
			if [ "$n" -eq 0 ]; then ok; else
				ko "$name: $n violations enforcing it on the capture it was learnt from:"
				head -5 "$out/$cap.violations"
			fi ;;
		learnnew)
			if [ "$n" -eq 1 ]; then ok; else
				ko "$name: $n violations on learnnew, expected exactly one:"
				head -5 "$out/$cap.violations"
			fi
			same "$name.learnnew.json" "$out/$cap.violations" ;;
		esac
	done
done
echo "learn golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
