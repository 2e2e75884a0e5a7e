#!/bin/sh
# Golden tests of the policy checker, run from the repository root by
# `make golden` with B=build (or build-san):
#
#   tests/policy/ok/*.yaml, docs/examples/*.yaml
#       `iotjaild -t -c FILE` exits 0 and prints exactly "configuration OK",
#       or, if FILE.out exists (a file with warnings), exactly FILE.out.
#   tests/policy/bad/NNN-what.yaml
#       exits 1 and prints exactly NNN-what.err (stdout and stderr together,
#       file names as given on the command line).
#
# UPDATE=1 rewrites the .err/.out files from the current output: review the
# diff before committing it.  POLICY_CHECK overrides the checker command.
set -u
B=${B:-build}
CHECK=${POLICY_CHECK:-"$B/iotjaild -t -c"}
UPDATE=${UPDATE:-0}
pass=0
fail=0
out=$(mktemp "${TMPDIR:-/tmp}/policy-golden.XXXXXX")
trap 'rm -f "$out"' EXIT INT TERM

ok() { pass=$((pass + 1)); }
ko() {
	fail=$((fail + 1))
	echo "FAIL: $1: $2"
	[ -n "${3:-}" ] && [ -f "$3" ] && diff -u "$3" "$out" | sed 's/^/  /'
}

for f in tests/policy/ok/*.yaml docs/examples/*.yaml; do
	[ -f "$f" ] || continue
	$CHECK "$f" >"$out" 2>&1
	rc=$?
	exp=${f%.yaml}.out
	if [ "$UPDATE" = 1 ] && [ -f "$exp" ]; then
		cp "$out" "$exp"
	fi
	if [ "$rc" -ne 0 ]; then
		ko "$f" "exit $rc, expected 0"
		sed 's/^/  /' "$out"
	elif [ -f "$exp" ]; then
		if cmp -s "$exp" "$out"; then ok; else ko "$f" "output differs" "$exp"; fi
	elif [ "$(cat "$out")" = "configuration OK" ]; then
		ok
	else
		ko "$f" "expected only 'configuration OK'"
		sed 's/^/  /' "$out"
	fi
done

for f in tests/policy/bad/*.yaml; do
	[ -f "$f" ] || continue
	$CHECK "$f" >"$out" 2>&1
	rc=$?
	exp=${f%.yaml}.err
	if [ "$UPDATE" = 1 ]; then
		cp "$out" "$exp"
	fi
	if [ "$rc" -ne 1 ]; then
		ko "$f" "exit $rc, expected 1"
		sed 's/^/  /' "$out"
	elif [ ! -f "$exp" ]; then
		ko "$f" "missing $exp"
	elif cmp -s "$exp" "$out"; then
		ok
	else
		ko "$f" "output differs" "$exp"
	fi
done

echo "policy golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
