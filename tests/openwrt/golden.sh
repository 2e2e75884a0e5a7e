#!/bin/sh
# The OpenWrt package (openwrt/), run by `make golden` from the repository
# root with B=build:
#
#   1. the init script parses with sh -n and busybox ash -n;
#   2. the feed Makefile, read by GNU make against a stand-in SDK
#      (tests/openwrt/sdk/): the fields the feed wants, PKG_VERSION equal to
#      the top Makefile's VERSION, the DEPENDS, conffiles the package installs;
#      then its Build/Compile builds the daemon with the SDK's compiler, flags
#      and staging pkg-config, and Package/iotjail/install lays out exactly the
#      expected files;
#   3. the init script's start_service, reload_service and service_triggers,
#      run against stubs of procd's and UCI's helpers (procd-stubs.sh), give
#      exactly the expected procd calls (cases/CONFIG.FUNCTION.expected) for
#      each UCI configuration (cases/CONFIG.uci, and the shipped one), under
#      sh and under busybox ash;
#   4. the default policy the package installs passes iotjaild -t.
set -u
B=${B:-build}
MAKE=${MAKE:-make}
pass=0
fail=0
here=tests/openwrt
tmp=$(mktemp -d "${TMPDIR:-/tmp}/openwrt-golden.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() { # what expected-file actual-file
	if cmp -s "$2" "$3"; then ok; else
		ko "$1:"
		diff -u "$2" "$3" | sed 's/^/  /'
	fi
}

init=openwrt/files/iotjail.init
shells=sh
if command -v busybox >/dev/null; then
	shells="sh busybox_ash"
else
	echo "openwrt golden: no busybox: the init script is not run under ash (make deps)"
fi
busybox_ash() { busybox ash "$@"; }

# --- 1. syntax ---------------------------------------------------------------
for sh in $shells; do
	if $sh -n "$init" 2>"$tmp/out"; then ok; else ko "$sh -n $init: $(cat "$tmp/out")"; fi
done
head -n 1 "$init" | grep -qx '#!/bin/sh /etc/rc.common' && ok || ko "$init: not an rc.common script"

# --- 2. the feed Makefile against a stand-in SDK ------------------------------
sdk=$tmp/sdk
cp -R $here/sdk "$sdk"
mkdir -p "$sdk/bin" "$sdk/staging_dir/usr/lib/pkgconfig"
# The SDK's compiler: logs its arguments, runs this machine's.
printf '#!/bin/sh\necho "$*" >>"%s/cc.log"\nexec %s "$@"\n' "$sdk" "${CC:-cc}" >"$sdk/bin/target-cc"
chmod 755 "$sdk/bin/target-cc"
# The staging directory's .pc files: this machine's.
for d in $(pkg-config --variable pc_path pkg-config | tr : ' '); do
	for f in "$d"/*.pc; do [ -f "$f" ] && ln -sf "$f" "$sdk/staging_dir/usr/lib/pkgconfig/"; done
done
owrt() { $MAKE --no-print-directory -s -C openwrt TOPDIR="$sdk" "$@"; }

owrt dump >"$tmp/dump" 2>&1 || { ko "make dump of openwrt/Makefile failed"; cat "$tmp/dump"; }
field() { sed -n "s/^$1=//p" "$tmp/dump"; }
version=$(sed -n 's/^VERSION *:= *//p' Makefile)
[ "$(field PKG_NAME)" = iotjail ] && ok || ko "PKG_NAME: $(field PKG_NAME)"
[ "$(field PKG_VERSION)" = "$version" ] && ok ||
	ko "PKG_VERSION $(field PKG_VERSION) is not the top Makefile's VERSION $version"
field PKG_RELEASE | grep -qx '[1-9][0-9]*' && ok || ko "PKG_RELEASE: '$(field PKG_RELEASE)'"
[ -n "$(field PKG_LICENSE)" ] && ok || ko "no PKG_LICENSE"
field PKG_MAINTAINER | grep -q '^[^<]*<[^@>]*@[^>]*>$' && ok || ko "PKG_MAINTAINER is not 'Name <address>'"
[ "$(field SECTION)" = net ] && ok || ko "SECTION: $(field SECTION)"
[ "$(field CATEGORY)" = Network ] && ok || ko "CATEGORY: $(field CATEGORY)"
[ -n "$(field TITLE)" ] && ok || ko "no TITLE"
echo "+kmod-br-netfilter +kmod-nf-conntrack +kmod-nft-queue +libmnl +libndpi
+libnetfilter-queue +libnftnl +libpcap +libyaml" | tr ' \n' '\n\n' >"$tmp/want"
field DEPENDS | tr ' ' '\n' | sort >"$tmp/actual"
expect "DEPENDS" "$tmp/want" "$tmp/actual"
for inc in 'include $(TOPDIR)/rules.mk' 'include $(INCLUDE_DIR)/package.mk' \
	'$(eval $(call BuildPackage,iotjail))'; do
	grep -qxF "$inc" openwrt/Makefile && ok || ko "openwrt/Makefile lacks '$inc'"
done

if owrt compile install >"$tmp/out" 2>&1; then ok; else
	ko "openwrt/Makefile: compile or install failed:"; tail -n 20 "$tmp/out" | sed 's/^/  /'
fi
# Every object and the link went through the SDK's compiler with its flags.
n=$(grep -c -- '-DIOTJAIL_SDK_STANDIN' "$sdk/cc.log" 2>/dev/null)
if [ "${n:-0}" -ge 10 ] && grep -q -- '-o build/iotjaild ' "$sdk/cc.log" &&
   [ "$(grep -c . "$sdk/cc.log")" = "$n" ]; then ok; else
	ko "the build did not use TARGET_CC with TARGET_CFLAGS for every step (${n:-0} of $(grep -c . "$sdk/cc.log" 2>/dev/null))"
fi
(cd "$sdk/ipkg/iotjail" 2>/dev/null && find . -type f -printf '%m %P\n' | sort) >"$tmp/actual"
printf '%s\n' '600 etc/config/iotjail' '644 etc/iotjail/policy.yaml' \
	'755 etc/init.d/iotjail' '755 usr/sbin/iotjaild' >"$tmp/want"
expect "Package/iotjail/install" "$tmp/want" "$tmp/actual"
v=$("$sdk/ipkg/iotjail/usr/sbin/iotjaild" -V 2>&1)
case "$v" in
"iotjaild $version "*) ok ;;
*) ko "the package's iotjaild -V: $v" ;;
esac
owrt conffiles >"$tmp/conffiles" 2>&1
[ "$(grep -c . "$tmp/conffiles")" -ge 2 ] && ok || ko "conffiles: $(cat "$tmp/conffiles")"
while read -r c; do
	[ -f "$sdk/ipkg/iotjail$c" ] && ok || ko "conffile $c is not installed by the package"
done <"$tmp/conffiles"
cmp -s docs/examples/default.yaml "$sdk/ipkg/iotjail/etc/iotjail/policy.yaml" && ok ||
	ko "the package's policy.yaml is not docs/examples/default.yaml"

# --- 3. the init script against procd's and UCI's helpers --------------------
printf 'version: 1\ndefaults:\n  mood: monitor\n' >"$tmp/bad.yaml"
cp docs/examples/default.yaml "$tmp/policy.yaml"
mkdir -p "$tmp/etc/iotjail"
cp docs/examples/default.yaml "$tmp/etc/iotjail/policy.yaml"
# The shipped configuration, its paths moved under $tmp.
sed -e "s|'/etc/|'$tmp/etc/|" -e "s|'/var/|'$tmp/var/|" openwrt/files/iotjail.config \
	>"$tmp/shipped.uci"
grep -q "'$tmp/etc/iotjail/policy.yaml'" "$tmp/shipped.uci" && ok || ko "the shipped config names no /etc/iotjail/policy.yaml"

for exp in $here/cases/*.expected; do
	name=${exp##*/}
	cfg=${name%%.*}
	fn=${name#*.}
	fn=${fn%.expected}
	case "$fn" in
	start) fn=start_service ;;
	reload) fn=reload_service ;;
	triggers) fn=service_triggers ;;
	*) ko "$exp: unknown function '$fn'"; continue ;;
	esac
	uci=$here/cases/$cfg.uci
	[ "$cfg" = shipped ] && uci=$tmp/shipped.uci
	sed "s|@TMP@|$tmp|g" "$exp" >"$tmp/want"
	for sh in $shells; do
		rm -rf "$tmp/uci" "$tmp/log" "$tmp/var" "$tmp/procd.log"
		mkdir "$tmp/uci"
		sed "s|@TMP@|$tmp|g" "$uci" >"$tmp/uci/iotjail"
		UCI_CONFIG_DIR=$tmp/uci PROCD_LOG=$tmp/procd.log IOTJAILD=$B/iotjaild \
			$sh $here/run-init.sh "$init" "$fn" </dev/null >"$tmp/out" 2>&1
		# The program as the router names it, whatever ran here.
		sed "s|$B/iotjaild|/usr/sbin/iotjaild|g" "$tmp/procd.log" >"$tmp/actual" 2>/dev/null
		expect "$sh: $fn with $cfg" "$tmp/want" "$tmp/actual"
		# Where the daemon will write must exist before it starts.
		if grep -q '^procd_open_instance' "$tmp/actual"; then
			for opt in --alerts --state; do
				p=$(sed -n "s/^procd_set_param command .* $opt \([^ ]*\).*/\1/p" "$tmp/actual")
				[ -z "$p" ] || [ -d "${p%/*}" ] && ok || ko "$sh: $cfg: the directory of $opt $p was not made"
			done
		fi
	done
done

# --- 4. the default policy ---------------------------------------------------
v=$("$B/iotjaild" -t -c docs/examples/default.yaml 2>&1)
[ "$v" = "configuration OK" ] && ok || ko "docs/examples/default.yaml: $v"

echo "openwrt golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
