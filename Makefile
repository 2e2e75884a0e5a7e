# iotjail: one plain GNU Makefile.
#
# Honours CC, CFLAGS, CPPFLAGS, LDFLAGS, DESTDIR, PREFIX and PKG_CONFIG so that
# OpenWrt's SDK and Debian cross toolchains build it unchanged.  Nothing here
# special-cases cross compilation.
#
#   make            build everything into build/
#   make check      unit tests, golden tests, corpus agreement and learn round
#                   trip (if ../shared exists)
#   make check SAN=1  the same under ASan+UBSan (separate build dir)
#   make bench      benchmarks that print figures
#   make install    install into $(DESTDIR)$(PREFIX) (uninstall: remove it)
#   make deb        a Debian package, $(B)/iotjail_VERSION_ARCH.deb
#   make STATIC=1   link every library statically (pkg-config --static)
#   make cross ARCH=mipsel|mips|aarch64|s390x   cross-build into build-ARCH,
#                   make cross-check ARCH=...   and run the unit tests under
#                   qemu-user (tests/cross/, docs/cross.md)

VERSION    := 0.1.0
PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
CFLAGS     ?= -O2 -g

ifeq ($(SAN),1)
B          ?= build-san
CFLAGS     += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS    += -fsanitize=address,undefined
else
B          ?= build
endif

# STATIC=1: one self-contained binary for a target whose libc is older than
# the build's (docs/cross.md): every library from its archive, with the
# private dependencies pkg-config lists for static links.
ifeq ($(STATIC),1)
override LDFLAGS += -static
endif
PC_LIBS := $(PKG_CONFIG) --libs$(if $(filter 1,$(STATIC)), --static)

# 64-bit atomics (daemon/devview.c) are library calls on 32-bit MIPS, ARM and
# PowerPC: link libatomic where a test program needs it, not elsewhere.
ATOMIC_LIBS := $(shell t=$$(mktemp) || exit; \
	printf 'unsigned long long x;\nint main(void) { return (int)__atomic_fetch_add(&x, 1, 5); }\n' | \
	$(CC) $(CFLAGS) $(LDFLAGS) -x c -o $$t - >/dev/null 2>&1 || echo -latomic; rm -f $$t)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Werror=implicit-function-declaration -Werror=format-security
override CFLAGS   += -std=gnu11 $(WARN) -MMD -MP
# 64-bit off_t on 32-bit targets too: captures past 2 GiB, and readdir() on
# file systems with 64-bit directory offsets (EOVERFLOW otherwise).
override CPPFLAGS += -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -DIOTJAIL_VERSION='"$(VERSION)"' -I. -I$(B)

# Third-party libraries, each through pkg-config.  Each header is included by
# exactly one source file (nDPI: daemon/classify.c, libyaml: policy/yaml.c ...).
NDPI_CFLAGS := $(shell $(PKG_CONFIG) --cflags libndpi)
NDPI_LIBS   := $(shell $(PC_LIBS) libndpi)
PCAP_CFLAGS := $(shell $(PKG_CONFIG) --cflags libpcap)
PCAP_LIBS   := $(shell $(PC_LIBS) libpcap)
YAML_CFLAGS := $(shell $(PKG_CONFIG) --cflags yaml-0.1)
YAML_LIBS   := $(shell $(PC_LIBS) yaml-0.1)
KERN_CFLAGS := $(shell $(PKG_CONFIG) --cflags libnetfilter_queue libnftnl libmnl)
KERN_LIBS   := $(shell $(PC_LIBS) libnetfilter_queue libnftnl libmnl)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka)
CMOCKA_LIBS   := $(shell $(PC_LIBS) cmocka)

ALL_CFLAGS := $(NDPI_CFLAGS) $(PCAP_CFLAGS) $(YAML_CFLAGS) $(KERN_CFLAGS)
LIBS       := $(NDPI_LIBS) $(PCAP_LIBS) $(YAML_LIBS) $(KERN_LIBS) -lm -pthread $(ATOMIC_LIBS)

ifneq ($(V),1)
Q := @
quiet = @printf '  %-7s %s\n' $(1) $(2);
endif

POLICY_SRC  := $(wildcard policy/*.c)
NFT_SRC     := $(wildcard nftables/*.c)
DAEMON_SRC  := $(wildcard daemon/*.c)
POLICY_OBJ  := $(POLICY_SRC:%.c=$(B)/%.o)
NFT_OBJ     := $(NFT_SRC:%.c=$(B)/%.o)
DAEMON_OBJ  := $(DAEMON_SRC:%.c=$(B)/%.o)
# Everything of the daemon but main(): what unit tests link against.
CORE_OBJ    := $(filter-out $(B)/daemon/main.o,$(DAEMON_OBJ))

UNIT_SRC    := $(wildcard tests/unit/test_*.c)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz_*.c)
# Each fuzz harness is also linked with a plain main() that replays its corpus,
# so `make check` exercises every saved input with the ordinary compiler.
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz-replay/%)
BENCH_SRC   := $(wildcard bench/bench_*.c)
BENCH_BIN   := $(BENCH_SRC:bench/%.c=$(B)/bench/%)

BINS := $(B)/iotjaild $(B)/iotjailctl $(B)/pcapgen

# Prefix for running what was built (unit tests, fuzz replays, pcapgen):
# empty natively; `valgrind -q`, or qemu-user for a cross build.
RUNNER ?=

.SECONDARY:
.PHONY: deps demo demo-replay all tests cross cross-check cross-all check unit golden corpus lab integration bench bench-live install uninstall deb clean fuzz format-check
all: $(BINS)

# --- developer conveniences ------------------------------------------------
# Debian 12 packages needed to build, test and run the demo (the second
# group: real services and clients of the namespace lab, tests/lab/; the
# third: what the packaging tests check with, tests/man, tests/pkg,
# tests/openwrt).
DEB_DEPS := build-essential pkg-config libndpi-dev libndpi-bin \
	libnetfilter-queue-dev libnftnl-dev libmnl-dev libpcap-dev libyaml-dev \
	libcmocka-dev python3 iproute2 time nftables iptables \
	dnsmasq-base mosquitto mosquitto-clients iperf3 bind9-dnsutils \
	iputils-ping curl openssl kmod procps \
	man-db logrotate busybox
deps:
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEB_DEPS)

# The main job on a built-in default: the live demo in a namespace lab
# (tests/lab/demo.sh: iotjaild enforcing docs/examples/lab.yaml on a bridge,
# real clients and services).  Without root it says so and replays instead.
demo: $(BINS)
	$(Q)if [ "$$(id -u)" = 0 ]; then bash tests/lab/demo.sh $(B); \
	else echo "demo: not root: no namespace lab; replaying a capture instead"; \
	$(MAKE) --no-print-directory demo-replay; fi

# Replay a capture of a home LAN that the project generates itself, through
# the example home policy.
demo-replay: $(BINS)
	@mkdir -p $(B)/demo
	$(Q)$(B)/pcapgen home $(B)/demo/home.pcap
	$(Q)$(B)/iotjaild --replay $(B)/demo/home.pcap -c docs/examples/home.yaml \
		--flows $(B)/demo/flows.json --alerts $(B)/demo/alerts.json
	@echo "flows: $(B)/demo/flows.json  alerts: $(B)/demo/alerts.json"

# --- nDPI API generation, chosen by compile-time probes --------------------
# Debian 12 ships nDPI 4.2, OpenWrt's feed 4.8/5.x.  NDPI_API_VERSION is not a
# version, so each difference is probed by compiling a tiny file against the
# installed headers; daemon/classify.c reads the result.
NDPI_PROBES := $(wildcard daemon/ndpi-probes/*.c)
$(B)/ndpi_compat.h: $(NDPI_PROBES) Makefile
	@mkdir -p $(@D)
	$(call quiet,PROBE,$@)( echo '/* generated by make: nDPI API probes */'; \
	for p in $(NDPI_PROBES); do \
		n=$$(basename $$p .c | tr a-z- A-Z_); \
		if $(CC) $(CPPFLAGS) $(NDPI_CFLAGS) $(CFLAGS) -Werror -c -o /dev/null $$p 2>/dev/null; \
		then echo "#define NDPI_HAS_$$n 1"; else echo "/* no $$n */"; fi; \
	done ) > $@.tmp && mv $@.tmp $@

$(B)/daemon/classify.o: $(B)/ndpi_compat.h

# --- objects ----------------------------------------------------------------
$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(call quiet,CC,$@)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/libpolicy.a: $(POLICY_OBJ)
	$(call quiet,AR,$@)rm -f $@ && $(AR) rcs $@ $^
$(B)/libnft.a: $(NFT_OBJ)
	$(call quiet,AR,$@)rm -f $@ && $(AR) rcs $@ $^
$(B)/libcore.a: $(CORE_OBJ)
	$(call quiet,AR,$@)rm -f $@ && $(AR) rcs $@ $^

LINK_LIBS := $(B)/libcore.a $(B)/libpolicy.a $(B)/libnft.a

$(B)/iotjaild: $(B)/daemon/main.o $(LINK_LIBS)
	$(call quiet,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# The control socket's client: the JSON code and libc, nothing else.
$(B)/iotjailctl: $(B)/daemon/ctl/iotjailctl.o $(B)/daemon/json.o
	$(call quiet,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(B)/pcapgen: $(B)/tests/gen/pcapgen.o
	$(call quiet,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PCAP_LIBS)

# Load generator of the live benchmark: libc only.  Not bench/bench_*.c, which
# bench/run.sh runs without arguments.
$(B)/netrr: bench/netrr.c
	@mkdir -p $(@D)
	$(call quiet,CC,$@)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

$(B)/tests/%: $(B)/tests/unit/%.o $(LINK_LIBS)
	$(call quiet,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS) $(CMOCKA_LIBS)

$(B)/fuzz-replay/%: $(B)/tests/fuzz/%.o $(B)/tests/fuzz/replay-main.o $(LINK_LIBS)
	@mkdir -p $(@D)
	$(call quiet,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/bench/%: $(B)/bench/%.o $(LINK_LIBS)
	$(call quiet,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(call quiet,CC,$@)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) $(CFLAGS) -c -o $@ $<

# --- tests ------------------------------------------------------------------
# Unit tests run from the repository root; they find generated captures in $(B).
check: unit golden corpus lab integration $(if $(filter 1,$(SAN)),,cross-all)

# Captures generated by the project itself, used by unit and golden tests.
GEN_SCENARIOS := home vlan sll sll2 raw malformed watch ports learnbase learnnew
GEN_PCAPS := $(GEN_SCENARIOS:%=$(B)/gen/%.pcap)
$(B)/gen/%.pcap: $(B)/pcapgen
	@mkdir -p $(@D)
	$(call quiet,GEN,$@)$(RUNNER) $(B)/pcapgen $* $@

# Everything the unit tests run, built but not run (a cross build).
tests: $(BINS) $(UNIT_BIN) $(FUZZ_REPLAY)

unit: tests $(GEN_PCAPS)
	$(Q)B=$(B) RUNNER='$(RUNNER)' sh tests/run-unit.sh $(UNIT_BIN)
	$(Q)for f in $(FUZZ_REPLAY); do n=$${f##*/fuzz_}; \
		$(RUNNER) $$f tests/fuzz/corpus/$$n || exit 1; done

golden: $(BINS) $(GEN_PCAPS)
	$(Q)for t in tests/*/golden.sh; do B=$(B) sh $$t || exit 1; done

corpus: $(BINS)
	$(Q)B=$(B) sh tests/corpus/agreement.sh
	$(Q)B=$(B) sh tests/corpus/learn.sh

# The namespace lab (devices / bridge / servers with real services) through
# a plain bridge: the base the enforcement tests and benchmarks stand on.
lab:
	$(Q)sh tests/lab/smoke.sh

# The acceptance tests: iotjaild inline in the namespace lab (bridge mode)
# and in a small router topology, real clients (root; skips otherwise);
# then the same daemon with --backend iptables (legacy x_tables).
integration: $(BINS)
	$(Q)B=$(B) bash tests/integration/run.sh
	$(Q)B=$(B) bash tests/iptables/live.sh

bench: $(BINS) $(BENCH_BIN) $(B)/netrr
	$(Q)B=$(B) sh bench/run.sh

# Plain bridge vs bridge with iotjaild enforcing, in the namespace lab (root).
bench-live: $(BINS) $(B)/netrr
	$(Q)B=$(B) sh bench/live.sh

# Cross builds against a Debian sysroot cached in /var/cache/iotjail-cross
# (docs/cross.md).  Thin wrappers: tests/cross/run.sh runs the rules above
# with CC, AR, PKG_CONFIG, CFLAGS, LDFLAGS and B=build-$(ARCH) set.
cross:
	+$(Q)MAKE='$(MAKE)' sh tests/cross/run.sh build $(ARCH) $(if $(filter 1,$(STATIC)),static)

# The unit tests and fuzz replays under qemu-user.
cross-check:
	+$(Q)MAKE='$(MAKE)' sh tests/cross/run.sh check $(ARCH)

# What `make check` runs: mipsel and s390x under qemu, mips and aarch64
# built, a static mipsel; timings; one SKIP line where it cannot run.
cross-all:
	+$(Q)MAKE='$(MAKE)' sh tests/cross/run.sh all

# libFuzzer harnesses, one per parser of untrusted bytes (needs clang).
FUZZ_CC ?= clang
fuzz: $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
# Every library source, as the daemon links them (live.c needs nftables/).
FUZZ_LIB_SRC := $(CORE_OBJ:$(B)/%.o=%.c) $(POLICY_SRC) $(NFT_SRC)
$(B)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRC) $(B)/ndpi_compat.h
	@mkdir -p $(@D)
	$(call quiet,FUZZ,$@)$(FUZZ_CC) -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined \
		$(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(FUZZ_LIB_SRC) $(LIBS)

# --- install ----------------------------------------------------------------
# The programs, their man pages (each program NAME has docs/man/NAME.8), the
# policy language's page, the default policy as $(SYSCONFDIR)/iotjail/
# policy.yaml, the systemd unit with its EnvironmentFile, and the logrotate
# snippet of the alert log.  SYSCONFDIR is /etc whatever PREFIX: the daemon's
# own defaults and the unit name /etc paths.  Configuration files are never
# overwritten, and uninstall removes them only if unchanged.
INSTALL_SBINS := iotjaild iotjailctl
MAN8          := $(INSTALL_SBINS:%=docs/man/%.8)
MAN5          := docs/man/iotjail.yaml.5
MAN_GZ        := $(MAN8:docs/%=$(B)/%.gz) $(MAN5:docs/%=$(B)/%.gz)
MANDIR        ?= $(PREFIX)/share/man
SYSCONFDIR    ?= /etc
UNITDIR       ?= $(PREFIX)/lib/systemd/system
INSTALL       ?= install
# source:destination of each configuration file
INSTALL_CONFS := docs/examples/default.yaml:$(SYSCONFDIR)/iotjail/policy.yaml \
	daemon/dist/iotjaild.default:$(SYSCONFDIR)/default/iotjaild

$(B)/man/%.gz: docs/man/%
	@mkdir -p $(@D)
	$(call quiet,GZIP,$@)gzip -9n <$< >$@.tmp && mv $@.tmp $@

$(B)/dist/iotjaild.service: daemon/dist/iotjaild.service.in Makefile
	@mkdir -p $(@D)
	$(call quiet,GEN,$@)sed -e 's|@SBINDIR@|$(SBINDIR)|g' \
		-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< >$@.tmp && mv $@.tmp $@

# The unit names SBINDIR: regenerate it whenever an install may change it.
.PHONY: $(B)/dist/iotjaild.service
install: $(INSTALL_SBINS:%=$(B)/%) $(MAN_GZ) $(B)/dist/iotjaild.service
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d $(DESTDIR)$(SYSCONFDIR)/default \
		$(DESTDIR)$(SYSCONFDIR)/iotjail
	$(INSTALL) -m 0755 $(INSTALL_SBINS:%=$(B)/%) $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0644 $(MAN8:docs/%=$(B)/%.gz) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 $(MAN5:docs/%=$(B)/%.gz) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 $(B)/dist/iotjaild.service $(DESTDIR)$(UNITDIR)/iotjaild.service
	$(INSTALL) -m 0644 daemon/dist/iotjail.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/iotjail
	@for c in $(INSTALL_CONFS); do src=$${c%%:*}; dst=$(DESTDIR)$${c#*:}; \
		if [ -e "$$dst" ]; then echo "  kept existing $$dst"; \
		else echo "  install $$dst"; $(INSTALL) -m 0644 "$$src" "$$dst" || exit 1; fi; \
	done

uninstall:
	rm -f $(INSTALL_SBINS:%=$(DESTDIR)$(SBINDIR)/%) \
		$(MAN8:docs/man/%=$(DESTDIR)$(MANDIR)/man8/%.gz) \
		$(MAN5:docs/man/%=$(DESTDIR)$(MANDIR)/man5/%.gz) \
		$(DESTDIR)$(UNITDIR)/iotjaild.service \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d/iotjail
	@for c in $(INSTALL_CONFS); do src=$${c%%:*}; dst=$(DESTDIR)$${c#*:}; \
		if [ ! -e "$$dst" ]; then :; \
		elif cmp -s "$$src" "$$dst"; then echo "  rm $$dst"; rm -f "$$dst"; \
		else echo "  kept $$dst: changed since installed"; fi; \
	done
	@rmdir $(DESTDIR)$(SYSCONFDIR)/iotjail 2>/dev/null || true

# --- Debian package ---------------------------------------------------------
# `make deb`: $(B)/iotjail_VERSION_ARCH.deb, built with dpkg-deb alone from a
# `make install` into a staging directory.  A cross build names its
# architecture (make deb DEB_ARCH=mipsel B=build-mipsel CC=...); the library
# dependencies come from dpkg-shlibdeps (the target's libraries must be
# installed, multiarch), or from DEB_DEPENDS if given; a STATIC=1 build has
# none.  DEB_COMPRESS=gzip for the old dpkg of an EdgeRouter; STRIP for a
# cross build's strip (the package's programs are stripped).
DEB_ARCH       ?= $(shell dpkg --print-architecture 2>/dev/null)
DEB_COMPRESS   ?= xz
STRIP          ?= strip
DEB_MAINTAINER ?= iotjail maintainers <maintainers@users.noreply.h-seed-edb5b1da.example>
ifeq ($(STATIC),1)
DEB_DEPENDS    ?=
endif
DEB_STAGE      := $(B)/deb
DEB_ROOT       := $(DEB_STAGE)/debian/iotjail
DEB            := $(B)/iotjail_$(VERSION)_$(DEB_ARCH).deb
# Prints shlibs:Depends=...; dpkg-shlibdeps wants a debian/control beside.
ifeq ($(origin DEB_DEPENDS),undefined)
DEB_SUBSTVARS   = printf 'Source: iotjail\n\nPackage: iotjail\nArchitecture: any\n' \
		>$(DEB_STAGE)/debian/control && \
	(cd $(DEB_STAGE) && dpkg-shlibdeps -O $(INSTALL_SBINS:%=-edebian/iotjail$(SBINDIR_DEB)/%)) || \
	{ echo "deb: dpkg-shlibdeps failed: install the $(DEB_ARCH) libraries," \
		"or give DEB_DEPENDS" >&2; exit 1; }
else
DEB_SUBSTVARS   = echo 'shlibs:Depends=$(DEB_DEPENDS)'
endif
SBINDIR_DEB    := /usr/sbin

deb: $(INSTALL_SBINS:%=$(B)/%)
	$(Q)rm -rf $(DEB_STAGE) $(DEB)
	$(Q)$(MAKE) --no-print-directory install DESTDIR=$(abspath $(DEB_ROOT)) \
		PREFIX=/usr SBINDIR=$(SBINDIR_DEB) SYSCONFDIR=/etc >/dev/null
	$(Q)$(STRIP) --strip-unneeded $(INSTALL_SBINS:%=$(DEB_ROOT)$(SBINDIR_DEB)/%)
	$(Q)$(INSTALL) -d $(DEB_ROOT)/DEBIAN
	$(Q)$(INSTALL) -m 0755 daemon/dist/deb/postinst daemon/dist/deb/prerm \
		daemon/dist/deb/postrm $(DEB_ROOT)/DEBIAN/
	$(Q)(cd $(DEB_ROOT) && find etc -type f | sed 's|^|/|' | sort) >$(DEB_ROOT)/DEBIAN/conffiles
	$(Q)($(DEB_SUBSTVARS)) >$(DEB_STAGE)/substvars
	$(Q){ echo "Package: iotjail"; echo "Version: $(VERSION)"; \
		echo "Architecture: $(DEB_ARCH)"; echo "Maintainer: $(DEB_MAINTAINER)"; \
		echo "Installed-Size: $$(du -sk --exclude=DEBIAN $(DEB_ROOT) | cut -f1)"; \
		sed -n 's/^shlibs:Depends=\(..*\)/Depends: \1/p' $(DEB_STAGE)/substvars; \
		echo "Section: net"; echo "Priority: optional"; \
		echo "Description: a jail for every device of the LAN"; \
		echo " iotjaild runs inline on a Linux bridge or a router, classifies the"; \
		echo " first packets of each new flow with nDPI, judges it against a YAML"; \
		echo " policy of the LAN's devices and keeps the verdict in nftables."; \
		echo " Alerts go to syslog and a JSON-lines log."; \
		} >$(DEB_ROOT)/DEBIAN/control
	$(call quiet,DEB,$(DEB))dpkg-deb --root-owner-group -Z$(DEB_COMPRESS) \
		--build $(DEB_ROOT) $(DEB) >/dev/null

format-check:
	$(Q)clang-format --dry-run --Werror $(DAEMON_SRC) $(POLICY_SRC) $(NFT_SRC) $(wildcard */*.h)

clean:
	rm -rf build build-san build-mipsel build-mips build-aarch64 build-s390x

# Files only: `make deb` stages an etc/logrotate.d directory under $(B).
-include $(shell find $(B) -name '*.d' -type f 2>/dev/null)
