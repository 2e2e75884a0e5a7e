#!/bin/sh
# Run each cmocka test binary given as argument; stop at the first failure.
# Tests run from the repository root and read $B for generated files.
set -u
failed=0
for t in "$@"; do
	"$t" || failed=$((failed + 1))
done
[ "$failed" -eq 0 ] || { echo "unit: $failed test binaries failed"; exit 1; }
