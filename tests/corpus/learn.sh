#!/bin/sh
# Learn round trip over real captures (docs/learn.md): for every capture of
# ../shared/pcap/ndpi, learn a policy (iotjaild --replay --learn --export),
# check it and enforce it on the same capture, and count the violation
# alerts (service_not_allowed_*, binding_violation, unknown_device).  A
# learnt policy must allow everything it was learnt from: any violation
# fails, except on the captures listed in KNOWN below, each with the reason
# the decision there does not depend on the policy alone.
# Skips (exit 0, with a message) when the captures are absent.
set -u
B=${B:-build}
CORPUS=${CORPUS:-../shared/pcap/ndpi}
if [ ! -d "$CORPUS" ]; then
	echo "learn corpus: SKIP: $CORPUS not found (the nDPI capture corpus lives beside the repository)"
	exit 0
fi
# Captures whose round trip may report violations, one per line as
# "NAME  reason" (keep it short, keep it honest).  None: all 388 captures
# of the corpus round-trip with no violation.
KNOWN=''
work=$(mktemp -d "${TMPDIR:-/tmp}/iotjail-learn.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
start=$(date +%s)
ls "$CORPUS" | grep -E '\.(pcap|pcapng|cap)$' > "$work/list"
export B CORPUS work
# One capture per core; each job writes only its own files, and one result
# line: NAME STATUS DEVICES VIOLATIONS.  Bounded in time and output size.
xargs -P "$(nproc)" -I{} sh -c '
	f="$CORPUS/{}"; n=$(printf %s "{}" | tr "/" "_"); w="$work/$n"
	( ulimit -f 200000
	  timeout 300 "$B/iotjaild" --replay "$f" -q --learn --export "$w.yaml" 2>"$w.learn.err" )
	rc=$?
	if [ $rc -gt 1 ] || [ ! -s "$w.yaml" ]; then echo "{} learn-failed-$rc 0 0" > "$w.res"; exit 0; fi
	devices=$(awk "/^devices:/ { d = 1; next } d && /^  [^ #]/ { n++ } END { print n + 0 }" "$w.yaml")
	# The enforcing replay loads the policy with the checker of -t (the
	# same loader and nDPI vocabulary) and stops at any error: it is the
	# -t step, without one more nDPI start per capture.
	( ulimit -f 200000
	  timeout 300 "$B/iotjaild" --replay "$f" -q -c "$w.yaml" --alerts "$w.alerts" 2>"$w.check.err" )
	rc=$?
	if grep -q ": error: " "$w.check.err"; then echo "{} check-failed 0 0" > "$w.res"; exit 0; fi
	if [ $rc -gt 1 ]; then echo "{} enforce-failed-$rc $devices 0" > "$w.res"; exit 0; fi
	v=$(grep -cE "\"event_type\":\"(service_not_allowed_out|service_not_allowed_in|binding_violation|unknown_device)\"" "$w.alerts")
	echo "{} ok $devices $v" > "$w.res"
' < "$work/list"
cat "$work"/*.res > "$work/all"
captures=$(wc -l < "$work/all")
devices=$(awk '{ s += $3 } END { print s + 0 }' "$work/all")
with=$(awk '$3 > 0' "$work/all" | wc -l)
violations=$(awk '{ s += $4 } END { print s + 0 }' "$work/all")
fail=0
while read -r name status dev v; do
	known=$(printf '%s\n' "$KNOWN" | awk -v n="$name" '$1 == n { $1 = ""; print; exit }')
	if [ "$status" != ok ]; then
		echo "learn corpus: $name: $status"
		w="$work/$(printf %s "$name" | tr / _)"
		cat "$w.check.err" 2>/dev/null | head -5
		fail=$((fail + 1))
	elif [ "$v" -gt 0 ] && [ -z "$known" ]; then
		echo "learn corpus: $name: $v violation alerts when enforcing its own learnt policy:"
		w="$work/$(printf %s "$name" | tr / _)"
		grep -E '"event_type":"(service_not_allowed_|binding_violation|unknown_device)' "$w.alerts" |
			sed 's/.*"message":"\([^"]*\)".*/    \1/' | head -3
		fail=$((fail + 1))
	elif [ "$v" -gt 0 ]; then
		echo "learn corpus: $name: $v violations, known:$known"
	fi
done < "$work/all"
echo "learn corpus: $captures captures ($with with LAN devices), $devices learned devices, $violations violation alerts, $(( $(date +%s) - start )) s"
echo "learn corpus: $((captures - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
