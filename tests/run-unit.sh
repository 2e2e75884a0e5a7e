#!/bin/sh
# Run each cmocka test binary given as argument; stop at the first failure.
# Tests run from the repository root and read $B for generated files.
# $RUNNER, if set, prefixes each run (valgrind, or qemu-user for a cross
# build: RUNNER='qemu-mipsel -L /var/cache/iotjail-cross/mipsel').
# $UNIT_SKIP names test binaries not to run, $UNIT_SKIP_WHY says why.
set -u
failed=0
for t in "$@"; do
	case " ${UNIT_SKIP:-} " in
	*" ${t##*/} "*)
		echo "unit: SKIP ${t##*/}: ${UNIT_SKIP_WHY:-}"
		continue ;;
	esac
	${RUNNER:-} "$t" || failed=$((failed + 1))
done
[ "$failed" -eq 0 ] || { echo "unit: $failed test binaries failed"; exit 1; }
