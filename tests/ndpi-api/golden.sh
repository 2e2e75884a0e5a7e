#!/bin/sh
# nDPI API generations: the compile probes must pick the expected features
# for each API (Debian's real nDPI 4.2, and the 4.8 / 5.0 declaration shims
# in this directory), and daemon/classify.c must compile against each.
set -u
B=${B:-build}
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
pass=0 fail=0
work=$(mktemp -d "${TMPDIR:-/tmp}/iotjail-ndpi-api.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
flags="-std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wmissing-prototypes"
for api in 4.2 4.8 5.0; do
	if [ "$api" = 4.2 ]; then
		inc=$($PKG_CONFIG --cflags libndpi)
		printf 'BITMASK\n' > "$work/expected"
	else
		inc="-Itests/ndpi-api/$api"
		cp "tests/ndpi-api/$api/expected" "$work/expected"
	fi
	mkdir -p "$work/$api"
	: > "$work/$api/found"
	for p in daemon/ndpi-probes/*.c; do
		n=$(basename "$p" .c | tr a-z- A-Z_)
		# shellcheck disable=SC2086
		if $CC $flags $inc -c -o /dev/null "$p" 2>/dev/null; then
			echo "#define NDPI_HAS_$n 1" >> "$work/$api/ndpi_compat.h"
			echo "$n" >> "$work/$api/found"
		fi
	done
	touch "$work/$api/ndpi_compat.h"
	if ! diff -u "$work/expected" "$work/$api/found" > "$work/diff"; then
		echo "ndpi api $api: probes found other features than expected:"
		cat "$work/diff"
		fail=$((fail + 1))
		continue
	fi
	# shellcheck disable=SC2086
	if $CC $flags -I"$work/$api" $inc -I. -fsyntax-only daemon/classify.c 2>"$work/err"; then
		pass=$((pass + 1))
	else
		echo "ndpi api $api: daemon/classify.c does not compile:"
		cat "$work/err"
		fail=$((fail + 1))
	fi
done
echo "ndpi api: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
