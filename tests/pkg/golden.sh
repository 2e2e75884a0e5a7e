#!/bin/sh
# The Debian side of packaging, run by `make golden` from the repository root
# with B=build (or build-san):
#
#   1. `make install DESTDIR=...` installs exactly the expected files, with
#      their modes; the unit names the installed program and passes
#      `systemd-analyze verify`; the default policy is valid; a changed
#      configuration file survives a second install;
#   2. `make uninstall` leaves no file, except a configuration file that was
#      changed;
#   3. the logrotate snippet parses, rotates the alert log and signals the
#      process of the pid file with USR1;
#   4. `make deb` builds a package with the right fields, conffiles, contents
#      (owned by root), maintainer scripts, compression and name;
#   5. as root, the package really installs on this machine, works, and
#      `dpkg -r` then `dpkg -P` leave the filesystem as it was (a trap purges
#      it whatever happens).  Skipped with a message when not root.
set -u
B=${B:-build}
MAKE=${MAKE:-make}
pass=0
fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pkg-golden.XXXXXX")
installed_by_us=0
rotpid=

cleanup() {
	[ -n "$rotpid" ] && kill "$rotpid" 2>/dev/null
	if [ "$installed_by_us" = 1 ]; then
		dpkg -P iotjail >/dev/null 2>&1 || echo "pkg golden: could not purge iotjail"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
# expect WHAT EXPECTED-FILE ACTUAL-FILE
expect() {
	if cmp -s "$2" "$3"; then ok; else
		ko "$1:"
		diff -u "$2" "$3" | sed 's/^/  /'
	fi
}
mk() { $MAKE --no-print-directory -s B="$B" "$@"; }

version=$(sed -n 's/^VERSION *:= *//p' Makefile)
sbins=$(sed -n 's/^INSTALL_SBINS *:= *//p' Makefile)
case " $sbins " in
*" iotjaild "*) ok ;;
*) ko "INSTALL_SBINS ($sbins) does not hold iotjaild" ;;
esac

# What an install with PREFIX=/usr holds: "MODE PATH", sorted.
{
	for p in $sbins; do
		echo "755 usr/sbin/$p"
		echo "644 usr/share/man/man8/$p.8.gz"
	done
	echo "644 usr/share/man/man5/iotjail.yaml.5.gz"
	echo "644 usr/lib/systemd/system/iotjaild.service"
	echo "644 etc/logrotate.d/iotjail"
	echo "644 etc/iotjail/policy.yaml"
	echo "644 etc/default/iotjaild"
} | sort >"$tmp/expected"
sed "s|^[0-7]* |/|" "$tmp/expected" | sort >"$tmp/expected.paths"
# Every file under /etc is a conffile (Debian policy 10.7.2).
printf '/etc/default/iotjaild\n/etc/iotjail/policy.yaml\n/etc/logrotate.d/iotjail\n' >"$tmp/conffiles"

files_of() { # dir: "MODE PATH" of every file below it, sorted
	(cd "$1" && find . -type f -printf '%m %P\n' | sort)
}

# --- 1. make install ---------------------------------------------------------
d=$tmp/dest
mk install DESTDIR="$d" PREFIX=/usr >"$tmp/out" 2>&1 || { ko "make install failed"; cat "$tmp/out"; }
files_of "$d" >"$tmp/actual"
expect "make install DESTDIR PREFIX=/usr" "$tmp/expected" "$tmp/actual"

unit=$d/usr/lib/systemd/system/iotjaild.service
if grep -q '@[A-Z]*@' "$unit"; then ko "the unit still has @placeholders@"; else ok; fi
if grep -q '^ExecStart=/usr/sbin/iotjaild -c ' "$unit" &&
   grep -q '^Environment=IOTJAILD_POLICY=/etc/iotjail/policy.yaml$' "$unit" &&
   grep -q '^EnvironmentFile=-/etc/default/iotjaild$' "$unit"; then ok; else
	ko "the unit does not start /usr/sbin/iotjaild with /etc's policy"
fi
if command -v systemd-analyze >/dev/null; then
	# The unit as installed, its program in DESTDIR (verify wants it there).
	mkdir "$tmp/unit"
	sed "s|/usr/sbin/|$d/usr/sbin/|g" "$unit" >"$tmp/unit/iotjaild.service"
	systemd-analyze verify --man=no "$tmp/unit/iotjaild.service" >"$tmp/out" 2>&1
	if [ $? -eq 0 ] && [ ! -s "$tmp/out" ]; then ok; else
		ko "systemd-analyze verify iotjaild.service:"; sed 's/^/  /' "$tmp/out"
	fi
else
	echo "pkg golden: no systemd-analyze: the unit is not verified"
fi

if out=$("$B/iotjaild" -t -c "$d/etc/iotjail/policy.yaml" 2>&1) &&
   [ "$out" = "configuration OK" ]; then ok; else
	ko "the installed default policy: $out"
fi

# A changed configuration file is never overwritten, nor removed.
echo "# changed here" >>"$d/etc/iotjail/policy.yaml"
mk install DESTDIR="$d" PREFIX=/usr >/dev/null 2>&1
if tail -n 1 "$d/etc/iotjail/policy.yaml" | grep -q '^# changed here$'; then ok; else
	ko "a second make install overwrote a changed policy.yaml"
fi

# --- 2. make uninstall -------------------------------------------------------
mk uninstall DESTDIR="$d" PREFIX=/usr >"$tmp/out" 2>&1
files_of "$d" >"$tmp/actual"
echo "644 etc/iotjail/policy.yaml" >"$tmp/left"
expect "make uninstall, policy.yaml changed" "$tmp/left" "$tmp/actual"
grep -q "kept $d/etc/iotjail/policy.yaml" "$tmp/out" && ok || ko "uninstall did not say it kept policy.yaml"
rm -rf "$d"
mk install DESTDIR="$d" PREFIX=/usr >/dev/null 2>&1
mk uninstall DESTDIR="$d" PREFIX=/usr >/dev/null 2>&1
files_of "$d" >"$tmp/actual"
expect "make uninstall after make install" /dev/null "$tmp/actual"
mk install DESTDIR="$d" PREFIX=/usr >/dev/null 2>&1	# for step 3

# --- 3. logrotate ------------------------------------------------------------
if command -v logrotate >/dev/null; then
	lr=$tmp/lr
	mkdir -p "$lr/log"
	logrotate -d -s "$lr/state0" "$d/etc/logrotate.d/iotjail" >"$tmp/out" 2>&1
	if [ $? -eq 0 ] && ! grep -qi 'error' "$tmp/out"; then ok; else
		ko "logrotate -d on the snippet:"; sed 's/^/  /' "$tmp/out"
	fi
	# The snippet with its two paths moved here; it must name both.
	sed -e "s|/var/log/iotjail/|$lr/log/|g" -e "s|/run/iotjaild.pid|$lr/pid|g" \
		"$d/etc/logrotate.d/iotjail" >"$lr/conf"
	grep -q "^$lr/log/alerts.json {" "$lr/conf" && grep -q "$lr/pid" "$lr/conf" && ok ||
		ko "the snippet does not name /var/log/iotjail/alerts.json and /run/iotjaild.pid"
	# A stand-in daemon: notes each USR1 it gets.
	sh -c "trap 'echo USR1 >>$lr/got' USR1; while :; do sleep 1 & wait; done" &
	rotpid=$!
	echo "$rotpid" >"$lr/pid"
	echo '{"event_type":"test"}' >"$lr/log/alerts.json"
	sleep 0.2
	logrotate -f -s "$lr/state" "$lr/conf" >"$tmp/out" 2>&1 || { ko "logrotate -f failed"; cat "$tmp/out"; }
	i=0
	while [ ! -s "$lr/got" ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
	if [ -f "$lr/log/alerts.json.1" ] && [ ! -e "$lr/log/alerts.json" ] &&
	   grep -q '"test"' "$lr/log/alerts.json.1"; then ok; else
		ko "logrotate did not move alerts.json to alerts.json.1:"; ls "$lr/log" | sed 's/^/  /'
	fi
	[ "$(cat "$lr/got" 2>/dev/null)" = USR1 ] && ok || ko "postrotate did not send one USR1 to the pid file's process"
	kill "$rotpid" 2>/dev/null
	rotpid=
else
	echo "pkg golden: SKIP logrotate checks: logrotate is not installed (make deps)"
fi

# --- 4. make deb -------------------------------------------------------------
if ! command -v dpkg-deb >/dev/null || ! command -v dpkg-shlibdeps >/dev/null; then
	echo "pkg golden: SKIP make deb: dpkg-deb or dpkg-shlibdeps missing (dpkg-dev)"
	echo "pkg golden: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
fi
arch=$(dpkg --print-architecture)
deb=$B/iotjail_${version}_$arch.deb

# Variables first: a gzip'd package for another architecture, given depends.
mk deb DEB_ARCH=testarch DEB_COMPRESS=gzip DEB_DEPENDS='libfoo1 (>= 2)' >"$tmp/out" 2>&1 ||
	{ ko "make deb DEB_ARCH=testarch failed"; cat "$tmp/out"; }
other=$B/iotjail_${version}_testarch.deb
if [ "$(dpkg-deb -f "$other" Architecture Depends 2>&1)" = "Architecture: testarch
Depends: libfoo1 (>= 2)" ]; then ok; else
	ko "DEB_ARCH/DEB_DEPENDS not in $other: $(dpkg-deb -f "$other" Architecture Depends 2>&1)"
fi
[ "$(ar t "$other" 2>&1 | tr '\n' ' ')" = "debian-binary control.tar.gz data.tar.gz " ] && ok ||
	ko "DEB_COMPRESS=gzip: $(ar t "$other" 2>&1 | tr '\n' ' ')"
rm -f "$other"

mk deb >"$tmp/out" 2>&1 || { ko "make deb failed"; cat "$tmp/out"; }
if [ ! -f "$deb" ]; then
	ko "make deb made no $deb"
	echo "pkg golden: $pass passed, $fail failed"
	exit 1
fi
for f in Package:iotjail Version:$version Architecture:$arch; do
	v=$(dpkg-deb -f "$deb" "${f%%:*}")
	[ "$v" = "${f#*:}" ] && ok || ko "control ${f%%:*}: '$v', expected '${f#*:}'"
done
dpkg-deb -f "$deb" Maintainer | grep -q '^[^<]*<[^@>]*@[^>]*>$' && ok || ko "Maintainer is not 'Name <address>'"
[ -n "$(dpkg-deb -f "$deb" Description)" ] && ok || ko "no Description"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libndpi libnetfilter-queue libnftnl libmnl libyaml libpcap; do
	case "$depends" in
	*"$lib"*) ok ;;
	*) ko "Depends lacks $lib: $depends" ;;
	esac
done
[ "$(ar t "$deb" | tr '\n' ' ')" = "debian-binary control.tar.xz data.tar.xz " ] && ok ||
	ko "default compression is not xz: $(ar t "$deb" | tr '\n' ' ')"

# Contents: the install's files, owned by root, the programs stripped.
dpkg-deb --contents "$deb" | awk '$1 ~ /^-/ { print $2, $6 }' | sed 's| \./| /|' |
	sort -k2 >"$tmp/contents"
sed 's|^|root/root |' "$tmp/expected.paths" | sort -k2 >"$tmp/want"
expect "dpkg-deb --contents (owner path)" "$tmp/want" "$tmp/contents"
mkdir "$tmp/x"
dpkg-deb -x "$deb" "$tmp/x"
files_of "$tmp/x" >"$tmp/actual"
expect "the package's files and modes" "$tmp/expected" "$tmp/actual"
if readelf -S "$tmp/x/usr/sbin/iotjaild" | grep -q '\.debug_info'; then
	ko "usr/sbin/iotjaild is not stripped"
else ok; fi

dpkg-deb -e "$deb" "$tmp/ctl"
expect "conffiles" "$tmp/conffiles" "$tmp/ctl/conffiles"
for s in postinst prerm postrm; do
	if [ -x "$tmp/ctl/$s" ] && sh -n "$tmp/ctl/$s"; then ok; else
		ko "maintainer script $s missing, not executable or not sh"
	fi
done

# --- 5. dpkg -i / -r / -P on this machine (root) -----------------------------
dpkg_do() { # dpkg ARGS, waiting up to 2 minutes for another dpkg's lock
	i=0
	while ! dpkg "$@" >"$tmp/dpkg.out" 2>&1; do
		if grep -q 'lock' "$tmp/dpkg.out" && [ $i -lt 60 ]; then
			sleep 2
			i=$((i + 1))
		else
			sed 's/^/  /' "$tmp/dpkg.out"
			return 1
		fi
	done
}
status() { dpkg-query -W -f='${Status}' iotjail 2>/dev/null; }
# Which of the package's paths (and the daemon's directories) exist.
snapshot() {
	for p in $(dpkg-deb --contents "$deb" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||') \
		/var/lib/iotjail /var/log/iotjail; do
		[ -z "$p" ] && continue
		if [ -e "$p" ]; then echo "exists $p"; else echo "absent $p"; fi
	done | sort
}

# The package's files and own directories that are here already.
foreign() {
	for p in $(cat "$tmp/expected.paths") /etc/iotjail /var/lib/iotjail /var/log/iotjail; do
		[ -e "$p" ] && echo "$p"
	done
}

if [ "$(id -u)" != 0 ]; then
	echo "pkg golden: SKIP dpkg -i/-r/-P: not root"
elif [ -n "$(status)" ] && [ "$(status)" != "unknown ok not-installed" ]; then
	echo "pkg golden: SKIP dpkg -i/-r/-P: a package iotjail is already here ($(status)): not touching it"
elif [ -n "$(foreign)" ]; then
	# (iotjaild run by hand with its default --state makes /var/lib/iotjail,
	# which a purge would remove.)
	echo "pkg golden: SKIP dpkg -i/-r/-P: the package's paths already exist, not ours to remove:" $(foreign)
else
	snapshot >"$tmp/before"
	installed_by_us=1
	if dpkg_do -i "$deb"; then ok; else ko "dpkg -i $deb failed"; fi
	[ "$(status)" = "install ok installed" ] && ok || ko "status after dpkg -i: $(status)"
	dpkg -L iotjail | while read -r p; do [ -f "$p" ] && echo "$p"; done | sort >"$tmp/actual"
	expect "dpkg -L iotjail (files)" "$tmp/expected.paths" "$tmp/actual"
	v=$(/usr/sbin/iotjaild -V 2>&1)
	case "$v" in
	"iotjaild $version (nDPI "*) ok ;;
	*) ko "/usr/sbin/iotjaild -V: $v" ;;
	esac
	v=$(/usr/sbin/iotjaild -t -c /etc/iotjail/policy.yaml 2>&1)
	[ "$v" = "configuration OK" ] && ok || ko "/usr/sbin/iotjaild -t -c /etc/iotjail/policy.yaml: $v"
	[ "$(man -w iotjaild 2>&1)" = /usr/share/man/man8/iotjaild.8.gz ] && ok || ko "man -w iotjaild: $(man -w iotjaild 2>&1)"
	[ "$(stat -c %a /var/lib/iotjail /var/log/iotjail 2>&1 | tr '\n' ' ')" = "750 750 " ] && ok ||
		ko "postinst: /var/lib/iotjail, /var/log/iotjail: $(stat -c %a /var/lib/iotjail /var/log/iotjail 2>&1 | tr '\n' ' ')"
	if command -v systemd-analyze >/dev/null; then
		systemd-analyze verify /usr/lib/systemd/system/iotjaild.service >"$tmp/out" 2>&1
		if [ $? -eq 0 ] && [ ! -s "$tmp/out" ]; then ok; else
			ko "systemd-analyze verify of the installed unit:"; sed 's/^/  /' "$tmp/out"
		fi
	fi

	# Remove: the configuration (changed) and the state stay.
	echo "# changed here" >>/etc/iotjail/policy.yaml
	echo state >/var/lib/iotjail/state
	if dpkg_do -r iotjail; then ok; else ko "dpkg -r iotjail failed"; fi
	[ "$(status)" = "deinstall ok config-files" ] && ok || ko "status after dpkg -r: $(status)"
	while read -r p; do [ -e "$p" ] && echo "$p"; done <"$tmp/expected.paths" >"$tmp/actual"
	expect "files left by dpkg -r" "$tmp/conffiles" "$tmp/actual"
	tail -n 1 /etc/iotjail/policy.yaml | grep -q '^# changed here$' && ok || ko "dpkg -r lost the change to policy.yaml"
	[ -f /var/lib/iotjail/state ] && ok || ko "dpkg -r removed the state"

	# Purge: nothing left, the filesystem as before.
	if dpkg_do -P iotjail; then ok; else ko "dpkg -P iotjail failed"; fi
	[ -z "$(status)" ] || [ "$(status)" = "unknown ok not-installed" ] && ok || ko "status after dpkg -P: $(status)"
	installed_by_us=0
	snapshot >"$tmp/after"
	expect "the package's paths after dpkg -P, against before dpkg -i" "$tmp/before" "$tmp/after"
fi

echo "pkg golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
