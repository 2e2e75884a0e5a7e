#!/bin/sh
# tests/cross/sysroot.sh ARCH [static]
#
# Builds, or reuses, the Debian 12 sysroot that `make cross ARCH=...` compiles
# against, in /var/cache/iotjail-cross/ARCH (IOTJAIL_CROSS_CACHE), and prints
# its path.  A cache outside the repository, kept between runs; remove the
# directory to start again (docs/cross.md).
#
#   mipsel, aarch64  Debian's -dev packages of ARCH, unpacked by mmdebstrap
#   s390x            the same, plus nDPI built from Debian's 4.2 source
#   mips             no Debian 12 port: the cross compiler's own glibc, plus
#                    nDPI, libpcap, libyaml and cmocka from Debian's sources;
#                    the netfilter libraries too when their sources can be
#                    fetched, else link-only stubs (see stub_libs)
#   static           also the static archives Debian does not ship, built
#                    from source into SYSROOT/usr/local (STATIC=1)
#
# Exit 0: ready.  77: cannot be done here (not root, no network, a tool or a
# source missing): one line "cross: SKIP: why" on stderr.  Else: failed.
set -eu
arch=${1:-}
static=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/arch.sh"
RECIPE="3 $CROSS_SUITE $CROSS_MIRROR"	# bump when a sysroot's recipe changes
DEV_DEBS="libc6-dev libnetfilter-queue-dev libnftnl-dev libmnl-dev libpcap0.8-dev libyaml-dev libcmocka-dev"

skip() { echo "cross: SKIP: $arch: $*" >&2; exit 77; }
say() { echo "cross: $arch: $*" >&2; }
# Run quietly; on failure show the end of the log and fail.
logged() {
	log=$work/log
	if ! "$@" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		echo "cross: $arch: failed: $*" >&2
		exit 1
	fi
}

# --- host tools: installed by name when missing, as root --------------------
need_tools() {
	missing=
	for c in "$triplet-gcc:gcc-$triplet" "$qemu:qemu-user" pkg-config:pkg-config \
		curl:curl flock:util-linux file:file readelf:binutils \
		${deb:+mmdebstrap:mmdebstrap} \
		autoreconf:autoconf automake:automake libtoolize:libtool \
		flex:flex bison:bison cmake:cmake dpkg-source:dpkg-dev; do
		command -v "${c%%:*}" >/dev/null 2>&1 || missing="$missing ${c#*:}"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" = 0 ] || skip "not root, cannot install:$missing"
	say "installing$missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		$missing >/dev/null 2>&1 ||
		skip "cannot install:$missing (apt-get install failed)"
}

online() {
	curl -sf --max-time 20 -o /dev/null "$CROSS_MIRROR/dists/$CROSS_SUITE/Release" ||
		skip "no network to $CROSS_MIRROR"
}

# --- Debian source packages, through apt with a private state ---------------
# Lists and downloads stay in $CROSS_CACHE/src, shared by all arches.
APT_SRC=$CROSS_CACHE/src
apt_src() {
	apt-get -q -o Dir::Etc::SourceList="$APT_SRC/sources.list" \
		-o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists="$APT_SRC/lists" \
		-o Dir::Cache="$APT_SRC" -o APT::Sandbox::User=root "$@"
}
# src PKG: unpack Debian's source of PKG into $work/PKG, print the directory.
# With its Debian patches when the whole source package can be fetched, else
# the upstream .orig tarball alone; 1 when not even that is reachable.
src() {
	mkdir -p "$APT_SRC/lists/partial" "$APT_SRC/dl"
	echo "deb-src $CROSS_MIRROR $CROSS_SUITE main" >"$APT_SRC/sources.list"
	# apt skips the files it already has; the lists are refreshed only
	# when they do not know the package (yet).
	for try in lists update; do
		[ $try = update ] && { apt_src update >/dev/null 2>&1 || return 1; }
		(cd "$APT_SRC/dl" && apt_src source --download-only "$1" \
			>/dev/null 2>&1) || true
		dsc=$(ls "$APT_SRC/dl/$1"_*.dsc 2>/dev/null | tail -n 1)
		[ -n "$dsc" ] && break
	done
	[ -n "$dsc" ] || return 1
	rm -rf "$work/$1"
	if dpkg-source --no-check -x "$dsc" "$work/$1" >/dev/null 2>&1; then
		echo "$work/$1"
		return 0
	fi
	orig=$(ls "$APT_SRC/dl/$1"_*.orig.tar.* 2>/dev/null | grep -v '\.asc$' | tail -n 1)
	[ -n "$orig" ] || return 1
	mkdir -p "$work/$1"
	tar -xf "$orig" -C "$work/$1" --strip-components=1 || return 1
	say "$1: Debian's patches not reachable, building the .orig tarball"
	echo "$work/$1"
}

# The cross environment of a library build into $root.
cross_env() {
	CC=$triplet-gcc
	CFLAGS="-O2 -g --sysroot=$root"
	LDFLAGS="--sysroot=$root"
	PKG_CONFIG=$root/.iotjail/pkg-config
	export CC CFLAGS LDFLAGS PKG_CONFIG
}

# autotools PKG PREFIX ARGS...: configure, build and install Debian's PKG.
# 3 when its source is not reachable; a failed build ends the script.
autotools() {
	p=$1 prefix=$2
	shift 2
	d=$(src "$p") || return 3
	say "building $p from source"
	(
		cd "$d" && cross_env
		[ -x configure ] || logged autoreconf -fi
		logged ./configure -q --host="$triplet" --prefix="$prefix" \
			--libdir="$prefix/lib/$triplet" "$@"
		logged make -j2
		logged make install DESTDIR="$root"
	) || exit 1
}

build_ndpi() {
	d=$(src ndpi) || skip "Debian's nDPI source is not reachable"
	say "building nDPI from source"
	(
		cd "$d" && cross_env
		# Only the library: no example programs, no libpcap or json-c
		# needed; nDPI's own small gcrypt, not libgcrypt.
		logged autoreconf -fi
		logged ./configure -q --host="$triplet" --prefix=/usr \
			--libdir="/usr/lib/$triplet" --with-only-libndpi
		logged make -j2 -C src/lib
		logged make -C src/lib install DESTDIR="$root"
		install -D -m 0644 libndpi.pc "$root/usr/lib/$triplet/pkgconfig/libndpi.pc"
	) || exit 1
}

build_cmocka() {
	prefix=$1
	d=$(src cmocka) || return 3
	say "building cmocka from source"
	(
		cd "$d" && cross_env
		DESTDIR=$root
		export DESTDIR
		logged cmake -S . -B build -DCMAKE_SYSTEM_NAME=Linux \
			-DCMAKE_C_COMPILER="$CC" -DCMAKE_SYSROOT="$root" \
			-DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR="lib/$triplet" \
			-DWITH_STATIC_LIB=ON -DUNIT_TESTING=OFF -DWITH_EXAMPLES=OFF
		logged cmake --build build -j2
		logged cmake --install build
	) || exit 1
}

# mips: link-only stubs of a library whose source cannot be fetched.  Its
# headers and .pc come from Debian's mipsel package (the same C API); the
# stub is a mips .so with the real soname exporting every function and object
# of the mipsel library, each function aborting if ever called.  So the link
# proves that every symbol iotjaild uses exists in that library's ABI, and a
# binary linked this way runs only where the real library is installed.
stub_libs() {
	le=$work/le
	logged mmdebstrap --variant=extract --arch=mipsel \
		--include="$(for p; do printf '%s-dev,' "$p"; done)" \
		"$CROSS_SUITE" "$le" "$CROSS_MIRROR"
	ml=$le/usr/lib/mipsel-linux-gnu
	for p; do
		l=$(echo "$p" | tr - _)	# libnetfilter-queue: libnetfilter_queue
		cp -a "$le/usr/include/$l" "$root/usr/include/"
		sed "s|mipsel-linux-gnu|$triplet|g" "$ml/pkgconfig/$l.pc" \
			>"$root/usr/lib/$triplet/pkgconfig/$l.pc"
		so=$(readlink -f "$ml/$l.so")
		soname=$(readelf -dW "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
		{
			echo '#include <stdlib.h>'
			echo '#include <unistd.h>'
			echo 'static void stub(void) { static const char m[] ='
			printf '"%s: link-only stub (tests/cross/sysroot.sh)\\n";\n' "$soname"
			echo 'write(2, m, sizeof(m) - 1); abort(); }'
			# Each default-version symbol, and a version script
			# that gives it its version again.
			readelf --dyn-syms -W "$so" | awk -v map="$work/$l.map" '
				$7 == "UND" || $7 == "ABS" || $5 == "LOCAL" { next }
				$4 != "FUNC" && $4 != "OBJECT" { next }
				{ n = $8; v = ""; i = index(n, "@@") }
				i { v = substr(n, i + 2); n = substr(n, 1, i - 1) }
				!i && index(n, "@") { next }	# an old version
				v != "" { ver[v] = ver[v] " " n ";" }
				$4 == "FUNC" { print "void " n "(void) { stub(); }" }
				$4 == "OBJECT" { print "char " n "[" ($3 + 0) "];" }
				END { for (v in ver) print v " {" ver[v] " };" > map }'
		} >"$work/$l-stub.c"
		vs=
		[ -s "$work/$l.map" ] && vs=-Wl,--version-script="$work/$l.map"
		logged "$triplet-gcc" --sysroot="$root" -shared -fPIC -w \
			-Wl,-soname,"$soname" $vs -o "$root/usr/lib/$triplet/$soname" "$work/$l-stub.c"
		ln -sf "$soname" "$root/usr/lib/$triplet/$l.so"
	done
	echo "$*" >"$root/.iotjail/stubs"
}

# mips: the cross compiler's glibc (libc6-dev-mips-cross, /usr/mips-linux-gnu)
# laid out as a multiarch sysroot, so --sysroot works as for the others.
libc_from_toolchain() {
	[ -d "/usr/$triplet/lib" ] || skip "no /usr/$triplet (libc6-dev-$arch-cross)"
	mkdir -p "$root/usr/lib/$triplet/pkgconfig" "$root/usr/include" "$root/lib"
	cp -a "/usr/$triplet/lib/." "$root/usr/lib/$triplet/"
	cp -a "/usr/$triplet/include/." "$root/usr/include/"
	grep -l 'GNU ld script' "$root/usr/lib/$triplet/"*.so 2>/dev/null |
		while read -r f; do sed -i "s|/usr/$triplet/lib/|/usr/lib/$triplet/|g" "$f"; done
	for l in "$root/usr/lib/$triplet/"ld*.so*; do
		ln -sf "../usr/lib/$triplet/${l##*/}" "$root/lib/${l##*/}"
	done
}

# pkg-config that sees only the sysroot's .pc files, its -I/-L prefixed with
# the sysroot.  With --static (STATIC=1) the static-only libraries built into
# usr/local come first.
write_pkg_config() {
	mkdir -p "$root/.iotjail"
	cat >"$root/.iotjail/pkg-config" <<EOF
#!/bin/sh
# generated by tests/cross/sysroot.sh: pkg-config for the $arch sysroot
s=$root
d=\$s/usr/lib/$triplet/pkgconfig:\$s/usr/lib/pkgconfig:\$s/usr/share/pkgconfig
for a; do [ "\$a" = --static ] && d=\$s/usr/local/lib/$triplet/pkgconfig:\$d; done
PKG_CONFIG_SYSROOT_DIR=\$s PKG_CONFIG_LIBDIR=\$d exec pkg-config "\$@"
EOF
	chmod +x "$root/.iotjail/pkg-config"
}

base() {
	[ -f "$sysroot/.iotjail/recipe" ] &&
		[ "$(cat "$sysroot/.iotjail/recipe")" = "$RECIPE" ] && return 0
	[ "$(id -u)" = 0 ] || skip "not root and no cached sysroot in $sysroot"
	online
	# Built beside the final path (the pkg-config wrapper names where it
	# is), then moved there: a half-built sysroot is never reused.
	root=$CROSS_CACHE/$arch.new
	rm -rf "$root"
	if [ -n "$deb" ]; then
		pkgs=$DEV_DEBS
		[ "$ndpi" = deb ] && pkgs="$pkgs libndpi-dev"
		say "unpacking Debian $CROSS_SUITE $deb packages"
		logged mmdebstrap --variant=extract --arch="$deb" \
			--include="$(echo $pkgs | tr ' ' ,)" "$CROSS_SUITE" "$root" "$CROSS_MIRROR"
		write_pkg_config
	else
		libc_from_toolchain
		write_pkg_config
		autotools libyaml /usr || skip "Debian's libyaml source is not reachable"
		autotools libpcap /usr --with-pcap=linux --disable-dbus --disable-rdma \
			--disable-bluetooth --disable-usb --disable-netmap --without-libnl \
			--disable-remote || skip "Debian's libpcap source is not reachable"
		build_cmocka /usr || skip "Debian's cmocka source is not reachable"
		nosrc=
		for p in libmnl libnfnetlink libnetfilter-queue libnftnl; do
			autotools "$p" /usr || nosrc="$nosrc $p"
		done
		if [ -n "$nosrc" ]; then
			say "no source reachable for$nosrc: link-only stubs"
			stub_libs $nosrc
		fi
	fi
	[ "$ndpi" = src ] && build_ndpi
	echo "$RECIPE" >"$root/.iotjail/recipe"
	rm -rf "$sysroot"
	mv "$root" "$sysroot"
	root=$sysroot
	write_pkg_config
}

# Static archives Debian does not ship (libmnl, libnfnetlink), libpcap without
# D-Bus (Debian's libpcap.a needs libsystemd, which has no .a) and cmocka:
# built into usr/local, which only `pkg-config --static` sees.
static_extras() {
	[ -f "$sysroot/.iotjail/static" ] &&
		[ "$(cat "$sysroot/.iotjail/static")" = "$RECIPE" ] && return 0
	[ -s "$sysroot/.iotjail/stubs" ] &&
		skip "static: no source reachable for$(cat "$sysroot/.iotjail/stubs")"
	[ "$(id -u)" = 0 ] || skip "not root and no static libraries in $sysroot"
	online
	root=$sysroot
	u=/usr/local
	rm -rf "$root$u"
	for p in libmnl libnfnetlink; do
		autotools "$p" $u --enable-static --disable-shared ||
			skip "static: Debian ships no $p.a and its source is not reachable"
	done
	autotools libpcap $u --enable-static --disable-shared --with-pcap=linux \
		--disable-dbus --disable-rdma --disable-bluetooth --disable-usb \
		--disable-netmap --without-libnl --disable-remote ||
		skip "static: Debian's libpcap source is not reachable"
	build_cmocka $u || skip "static: Debian's cmocka source is not reachable"
	# Debian's libndpi.pc names -lgcrypt but not gpg-error, which a
	# static libgcrypt needs.
	if [ "$ndpi" = deb ]; then
		sed 's/^Libs:.*/Libs: -L${libdir} -lndpi -lm\nRequires.private: libgcrypt/' \
			"$root/usr/lib/$triplet/pkgconfig/libndpi.pc" \
			>"$root$u/lib/$triplet/pkgconfig/libndpi.pc"
	fi
	echo "$RECIPE" >"$root/.iotjail/static"
}

need_tools
mkdir -p "$CROSS_CACHE" 2>/dev/null || skip "cannot create $CROSS_CACHE"
work=$(mktemp -d "${TMPDIR:-/tmp}/iotjail-cross.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -w "$CROSS_CACHE" ]; then	# else only reading a cache root built
	exec 9>>"$CROSS_CACHE/.lock"
	flock 9	# two builds never write one sysroot at once
fi
base
[ "$static" = static ] && static_extras
echo "$sysroot"
