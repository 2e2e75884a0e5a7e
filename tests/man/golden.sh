#!/bin/sh
# The man pages, run by `make golden` from the repository root with B=build:
#
#   - every docs/man page renders with man(1) without a single groff warning
#     (and the check itself is shown to catch one, on a broken page);
#   - every option that `iotjaild --help` lists (and `iotjailctl --help`,
#     once that program is built) is documented in its page;
#   - each page's version is the Makefile's VERSION.
set -u
B=${B:-build}
pass=0
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/man-golden.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

if ! command -v man >/dev/null || ! command -v groff >/dev/null; then
	echo "man golden: SKIP: man-db and groff are not installed (make deps)"
	exit 0
fi

# The groff warnings of a page, on stdout (empty: none).
warnings() {
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null
}

# The page as plain ASCII text, one long line per paragraph.
render() {
	LC_ALL=C MANWIDTH=200 man -l "$1" 2>/dev/null | col -b
}

printf '.TH BROKEN 8\n.SH NAME\nbroken \\- a page\n.XY\n' >"$tmp/broken.8"
if [ -n "$(warnings "$tmp/broken.8")" ]; then ok; else
	ko "man --warnings reports nothing on a page with an undefined macro"
fi

version=$(sed -n 's/^VERSION *:= *//p' Makefile)
for page in docs/man/*.[1-8]; do
	w=$(warnings "$page")
	if [ -z "$w" ]; then ok; else
		ko "$page: groff warnings:"
		echo "$w" | sed 's/^/  /'
	fi
	if head -n 1 "$page" | grep -q "\"iotjail $version\""; then ok; else
		ko "$page: .TH does not say \"iotjail $version\" (Makefile VERSION)"
	fi
done

# Every option in PROGRAM's --help appears in PAGE: long ones as words
# ("--state" but not as part of "--state-dir"), short ones as "-X".
options_documented() { # program page
	"$1" --help >"$tmp/help" 2>&1 || { ko "$1 --help failed"; return; }
	render "$2" >"$tmp/page"
	n=0
	for opt in $(grep -o -e '--[a-z][a-z-]*' -e '^ *-[A-Za-z]' -e '[[ ]-[A-Za-z]\([] ,]\|$\)' \
			"$tmp/help" | tr -d '[], ' | sort -u); do
		n=$((n + 1))
		if grep -q -e "$opt\([^A-Za-z-]\|\$\)" "$tmp/page"; then ok; else
			ko "$2 does not document $opt (listed by $1 --help)"
		fi
	done
	[ "$n" -ge 5 ] || ko "found only $n options in $1 --help: parsing broken?"
}

options_documented "$B/iotjaild" docs/man/iotjaild.8
if [ -x "$B/iotjailctl" ]; then
	options_documented "$B/iotjailctl" docs/man/iotjailctl.8
fi

echo "man golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
