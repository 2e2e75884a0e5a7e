# A stand-in for an OpenWrt SDK's rules.mk, with what openwrt/Makefile uses,
# for tests/openwrt/golden.sh.  The "target" is this machine: TARGET_CC is a
# wrapper the test writes, which logs its arguments and runs cc.
INCLUDE_DIR:=$(TOPDIR)/include
BUILD_DIR:=$(TOPDIR)/build_dir
STAGING_DIR:=$(TOPDIR)/staging_dir
IPKG_DIR:=$(TOPDIR)/ipkg/iotjail
TARGET_CC:=$(TOPDIR)/bin/target-cc
TARGET_CFLAGS:=-O2 -pipe -DIOTJAIL_SDK_STANDIN
TARGET_CPPFLAGS:=
TARGET_LDFLAGS:=
TARGET_CONFIGURE_OPTS = AR="ar" AS="$(TARGET_CC) -c" LD="ld" NM="nm" \
	CC="$(TARGET_CC)" GCC="$(TARGET_CC)" RANLIB="ranlib" STRIP="strip"
PKG_CONFIG:=pkg-config
INSTALL_DIR:=install -d -m0755
INSTALL_BIN:=install -m0755
INSTALL_DATA:=install -m0644
INSTALL_CONF:=install -m0600
CP:=cp -fpR
