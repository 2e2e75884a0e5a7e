# tests/cross/arch.sh - sourced: what each cross target is, from $arch.
#
# deb     Debian 12 architecture whose packages make the sysroot ('' = none:
#         Debian 12 has no 32-bit big-endian MIPS port)
# triplet GNU triplet of Debian's cross compiler (gcc-$triplet)
# qemu    qemu-user binary that runs the target's programs
# ndpi    where libndpi comes from: deb (libndpi-dev) or src (Debian's nDPI
#         4.2 source, built into the sysroot: s390x has no libndpi-dev)
# runs    yes: the unit tests run under qemu; no: compile and link only
CROSS_CACHE=${IOTJAIL_CROSS_CACHE:-/var/cache/iotjail-cross}
CROSS_MIRROR=${IOTJAIL_CROSS_MIRROR:-http://deb.debian.org/debian}
CROSS_SUITE=bookworm
CROSS_ARCHES="mipsel mips aarch64 s390x"

case ${arch:-} in
mipsel)  deb=mipsel triplet=mipsel-linux-gnu  qemu=qemu-mipsel  ndpi=deb runs=yes ;;
mips)    deb=       triplet=mips-linux-gnu    qemu=qemu-mips    ndpi=src runs=no ;;
aarch64) deb=arm64  triplet=aarch64-linux-gnu qemu=qemu-aarch64 ndpi=deb runs=yes ;;
s390x)   deb=s390x  triplet=s390x-linux-gnu   qemu=qemu-s390x   ndpi=src runs=yes ;;
*)
	echo "cross: unknown ARCH '${arch:-}' (one of: $CROSS_ARCHES)" >&2
	exit 2 ;;
esac
sysroot=$CROSS_CACHE/$arch
