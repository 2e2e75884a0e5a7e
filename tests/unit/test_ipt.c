/*
 * Unit tests of the iptables backend's text (nftables/ipt.h), no kernel,
 * no root: the iptables-restore input for bridge and router mode, IPv4 and
 * IPv6, fail-closed, trusted and observed devices, quarantine, reload with
 * counters,
 * reinstall and removal over what iptables-save shows, against golden
 * files tests/iptables/NAME.rules; properties every ruleset must have; the
 * parsers of iptables-save's output; the configuration checks.
 *
 * IOTJAIL_UPDATE_GOLDEN=1 rewrites the golden files from the code (then
 * read the diff before committing it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nftables/ipt.h"
#include "nftables/ruleset.h"

#define TEXT_MAX 65536

static struct ijnft_config bridge_cfg(void)
{
	struct ijnft_config c = {
		.mode = IJNFT_MODE_BRIDGE,
		.n_ifnames = 1,
		.queue_first = 0,
		.queue_count = 2,
		.inspect_packets = 8,
		.generation = 5,
	};

	strcpy(c.ifnames[0], "br0");
	return c;
}

static struct ijnft_config router_cfg(void)
{
	struct ijnft_config c = bridge_cfg();

	c.mode = IJNFT_MODE_ROUTER;
	c.n_ifnames = 2;
	c.queue_first = 7;
	c.queue_count = 1;
	c.inspect_packets = 40;
	c.generation = 0xab;
	c.fail_closed = true;
	strcpy(c.ifnames[0], "eth1");
	strcpy(c.ifnames[1], "wlan0");
	return c;
}

static struct ijnft_trusted trusted[3];
static struct ijnft_prefix lan[3];

/* Bridge mode with two trusted devices (one with both families) and the
 * LAN prefixes the daemon would give. */
static struct ijnft_config trusted_cfg(void)
{
	struct ijnft_config c = bridge_cfg();
	const uint8_t m1[6] = { 0x02, 0, 0, 0, 0x50, 0x10 };
	const uint8_t m2[6] = { 0x02, 0, 0, 0, 0x50, 0x11 };

	memset(trusted, 0, sizeof(trusted));
	memset(lan, 0, sizeof(lan));
	memcpy(trusted[0].mac, m1, 6);
	trusted[0].family = AF_INET;
	inet_pton(AF_INET, "192.168.50.10", trusted[0].addr);
	memcpy(trusted[1].mac, m1, 6);
	trusted[1].family = AF_INET6;
	inet_pton(AF_INET6, "fd50::10", trusted[1].addr);
	memcpy(trusted[2].mac, m2, 6);
	trusted[2].family = AF_INET;
	inet_pton(AF_INET, "192.168.50.11", trusted[2].addr);
	lan[0].family = AF_INET;
	lan[0].len = 24;
	inet_pton(AF_INET, "192.168.50.0", lan[0].addr);
	lan[1].family = AF_INET;
	lan[1].len = 16;
	inet_pton(AF_INET, "10.1.0.0", lan[1].addr);
	lan[2].family = AF_INET6;
	lan[2].len = 64;
	inet_pton(AF_INET6, "fd50::", lan[2].addr);
	c.trusted = trusted;
	c.n_trusted = 3;
	c.lan = lan;
	c.n_lan = 3;
	return c;
}

static struct ijnft_trusted observed[3];

/* trusted_cfg() with its second IPv4 device observed: IPv4 has a trusted
 * and an observed device, IPv6 only a trusted one.  (Its own array:
 * trusted_cfg()'s stays trusted only.) */
static struct ijnft_config observed_cfg(void)
{
	struct ijnft_config c = trusted_cfg();

	memcpy(observed, trusted, sizeof(observed));
	observed[2].observed = true;
	c.trusted = observed;
	c.observe_group = 7;
	return c;
}

/* text must equal tests/iptables/NAME, or (IOTJAIL_UPDATE_GOLDEN) becomes it. */
static void golden(const char *name, const char *text)
{
	char path[256], *want = calloc(1, TEXT_MAX);
	FILE *f;
	size_t n;

	assert_non_null(want);
	snprintf(path, sizeof(path), "tests/iptables/%s", name);
	if (getenv("IOTJAIL_UPDATE_GOLDEN")) {
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(text, f);
		assert_int_equal(fclose(f), 0);
	}
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot read %s (run from the repository root)", path);
	n = fread(want, 1, TEXT_MAX - 1, f);
	fclose(f);
	want[n] = '\0';
	if (strcmp(want, text)) {
		const char *a = want, *b = text;
		int line = 1;

		while (*a && *a == *b) {
			if (*a == '\n')
				line++;
			a++;
			b++;
		}
		fail_msg("%s differs at line %d:\n  golden: %.120s\n  built:  %.120s",
			 path, line, a, b);
	}
	free(want);
}

static char *build_install(const struct ijnft_config *c, enum ijipt_family f,
			   const char *current)
{
	char *buf = malloc(TEXT_MAX);
	int n;

	assert_non_null(buf);
	n = ijipt_build_install(c, f, current, buf, TEXT_MAX);
	assert_true(n > 0 && n < TEXT_MAX);
	assert_int_equal((size_t)n, strlen(buf));
	return buf;
}

/* Both families of cfg into one text, as `dry-run` prints them. */
static void golden_install(const char *name, const struct ijnft_config *c)
{
	char *v4 = build_install(c, IJIPT_IPV4, NULL);
	char *v6 = build_install(c, IJIPT_IPV6, NULL);
	char *all = malloc(2 * TEXT_MAX);

	assert_non_null(all);
	snprintf(all, 2 * TEXT_MAX, "# iptables\n%s# ip6tables\n%s", v4, v6);
	golden(name, all);
	free(v4);
	free(v6);
	free(all);
}

static void test_install_bridge(void **state)
{
	struct ijnft_config c = bridge_cfg();

	(void)state;
	golden_install("bridge.rules", &c);
}

static void test_install_router_fail_closed(void **state)
{
	struct ijnft_config c = router_cfg();

	(void)state;
	golden_install("router-fail-closed.rules", &c);
}

static void test_install_trusted(void **state)
{
	struct ijnft_config c = trusted_cfg();

	(void)state;
	golden_install("trusted.rules", &c);
}

static void test_install_observed(void **state)
{
	struct ijnft_config c = observed_cfg();

	(void)state;
	golden_install("observed.rules", &c);
}

/* Counts lines of text starting with prefix. */
static int lines_with(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, prefix, strlen(prefix)))
			n++;
	return n;
}

/*
 * What every installed ruleset must have, whatever the configuration:
 * each table section complete (declared chains, one hook inserted first,
 * COMMIT), every target chain declared in its table, every counter named
 * once at least (trusted and observed only with such devices in the
 * family, and NFLOG and IOTJAIL-OBSERVE only with observed ones), the
 * scope rules per interface and direction, bypass exactly when fail-open.
 */
static void check_properties(const struct ijnft_config *c, enum ijipt_family f)
{
	char *t = build_install(c, f, NULL);
	char *filter = strstr(t, "*filter\n"), *mangle = strstr(t, "*mangle\n");
	char *line, *save = NULL;
	char declared[2][16][32];
	int nd[2] = { 0, 0 }, table = -1;
	unsigned int n[2] = { 0, 0 };	/* trusted, observed of the family */

	for (unsigned int i = 0; i < c->n_trusted; i++)
		if (c->trusted[i].family == (f == IJIPT_IPV6 ? AF_INET6 : AF_INET))
			n[c->trusted[i].observed]++;

	assert_non_null(filter);
	assert_non_null(mangle);
	assert_true(filter < mangle);	/* filter committed first */
	assert_int_equal(lines_with(t, "COMMIT"), 2);
	assert_int_equal(lines_with(t, "-I FORWARD 1 -j IOTJAIL"), 2);
	assert_int_equal(lines_with(t, "-D "), 0);
	assert_int_equal(lines_with(t, "-A FORWARD"), 0);
	for (int k = 0; k < __IJNFT_CTR_MAX; k++) {
		char want[64];

		snprintf(want, sizeof(want), "--comment \"%s\" ", ijnft_ctr_name(k));
		if ((k == IJNFT_CTR_TRUSTED && !n[0]) ||
		    (k == IJNFT_CTR_OBSERVED && !n[1]))
			assert_null(strstr(t, want));
		else
			assert_non_null(strstr(t, want));
	}
	assert_int_equal(strstr(t, " -j NFLOG ") != NULL, n[1] > 0);
	assert_int_equal(lines_with(t, ":IOTJAIL-OBSERVE - [0:0]"), n[1] > 0);
	for (unsigned int i = 0; i < c->n_ifnames; i++) {
		char in[64], out[64];

		snprintf(in, sizeof(in), "-A IOTJAIL -i %s -g ", c->ifnames[i]);
		snprintf(out, sizeof(out), "-A IOTJAIL -o %s -g ", c->ifnames[i]);
		assert_int_equal(lines_with(t, in), 2);	/* both tables */
		assert_int_equal(lines_with(t, out), 2);
	}
	assert_int_equal(strstr(t, "--queue-bypass") != NULL, !c->fail_closed);
	assert_non_null(strstr(t, f == IJIPT_IPV6 ? "icmp6-adm-prohibited"
						  : "icmp-admin-prohibited"));
	assert_null(strstr(t, f == IJIPT_IPV6 ? "icmp-admin-prohibited"
					      : "icmp6-adm-prohibited"));
	/* Every -j/-g target that is a chain of ours is declared in its
	 * table (iptables-restore would fail at the COMMIT otherwise). */
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *tg;
		char name[32];

		if (line[0] == '*')
			table = !strcmp(line, "*mangle");
		else if (line[0] == ':' && nd[table] < 16)
			sscanf(line + 1, "%31s", declared[table][nd[table]++]);
		else if ((tg = strstr(line, " -j IOTJAIL")) || (tg = strstr(line, " -g IOTJAIL"))) {
			bool found = false;

			sscanf(tg + 4, "%31s", name);
			for (int i = 0; i < nd[table]; i++)
				found = found || !strcmp(declared[table][i], name);
			if (!found)
				fail_msg("%s: target %s not declared", line, name);
		}
	}
	free(t);
}

static void test_properties(void **state)
{
	struct ijnft_config cs[4] = { bridge_cfg(), router_cfg(), trusted_cfg(),
				      observed_cfg() };

	(void)state;
	for (int i = 0; i < 4; i++)
		for (int f = 0; f < __IJIPT_FAMILY_MAX; f++)
			check_properties(&cs[i], f);
}

/* What iptables-save shows of an installed ruleset, enough for the
 * reload's builder (which looks for IOTJAIL-OBSERVE in mangle only). */
static const char saved_plain[] =
	"*mangle\n:FORWARD ACCEPT [0:0]\n:IOTJAIL - [0:0]\n"
	":IOTJAIL-FWD - [0:0]\n:IOTJAIL-TRUST - [0:0]\n"
	"-A FORWARD -j IOTJAIL\nCOMMIT\n"
	"*filter\n:IOTJAIL-OBSERVE - [0:0]\nCOMMIT\n";
static const char saved_observe[] =
	"*mangle\n:FORWARD ACCEPT [0:0]\n:IOTJAIL - [0:0]\n"
	":IOTJAIL-FWD - [0:0]\n:IOTJAIL-OBSERVE - [0:0]\n"
	":IOTJAIL-TRUST - [0:0]\n-A FORWARD -j IOTJAIL\n"
	"-A IOTJAIL-FWD -s 10.0.0.1/32 -j IOTJAIL-OBSERVE\n"
	"[3:300] -A IOTJAIL-OBSERVE -m comment --comment observed -j CONNMARK --set-xmark 0x501/0xff03\n"
	"COMMIT\n";

static char *build_generation(const struct ijnft_config *c,
			      enum ijipt_family f, const char *current,
			      const struct ijnft_counters *start)
{
	char *buf = malloc(TEXT_MAX);
	int n;

	assert_non_null(buf);
	n = ijipt_build_generation(c, f, current, start, buf, TEXT_MAX);
	assert_true(n > 0 && n < TEXT_MAX);
	assert_int_equal((size_t)n, strlen(buf));
	return buf;
}

/* Counters 100 + k packets, 10000 + k bytes for counter k. */
static struct ijnft_counters numbered_counters(void)
{
	struct ijnft_counters start;

	memset(&start, 0, sizeof(start));
	for (int k = 0; k < __IJNFT_CTR_MAX; k++) {
		start.packets[k] = 100 + (uint64_t)k;
		start.bytes[k] = 10000 + (uint64_t)k;
	}
	return start;
}

/* "[P:B] " of counter k as numbered_counters() presets it. */
static const char *preset(enum ijnft_ctr k)
{
	static char s[32];

	snprintf(s, sizeof(s), "[%d:%d] ", 100 + (int)k, 10000 + (int)k);
	return s;
}

#define DEL_OBSERVE ":IOTJAIL-OBSERVE - [0:0]\n-X IOTJAIL-OBSERVE\n"

/* A reload: counters carried into the first rule of each name. */
static void test_generation(void **state)
{
	struct ijnft_config c = bridge_cfg();
	struct ijnft_counters start = numbered_counters();
	char *buf, *unknown, *at;

	(void)state;
	c.generation = 6;
	buf = build_generation(&c, IJIPT_IPV4, saved_plain, &start);
	golden("generation.rules", buf);
	/* The quarantine's chains are not touched; the others only flushed
	 * (-F fails when not installed); no hook changes. */
	assert_int_equal(lines_with(buf, "-F IOTJAIL-QUAR"), 0);
	assert_int_equal(lines_with(buf, "-A IOTJAIL-QUAR"), 0);
	assert_null(strstr(buf, "IOTJAIL-QDROP"));
	assert_int_equal(lines_with(buf, ":"), 0);
	assert_int_equal(lines_with(buf, "-F "), 7);
	assert_null(strstr(buf, "FORWARD"));
	/* A reject counter over two rules: all of it on the first. */
	assert_int_equal(lines_with(buf, "[102:10002] -A IOTJAIL-REJECT -p tcp"), 1);
	/* Every counter once, but quarantine's (its rule is kept),
	 * trusted's and observed's (no such device here). */
	assert_int_equal(lines_with(buf, "["), __IJNFT_CTR_MAX - 3);
	assert_null(strstr(buf, preset(IJNFT_CTR_QUARANTINE)));
	assert_null(strstr(buf, preset(IJNFT_CTR_TRUSTED)));
	assert_null(strstr(buf, preset(IJNFT_CTR_OBSERVED)));
	/* No IOTJAIL-OBSERVE in current's mangle (filter's is not ours to
	 * look at): nothing about it.  current unknown, or with one:
	 * deleted, once IOTJAIL-FWD (its only user) is flushed; the rest
	 * the same. */
	assert_null(strstr(buf, "OBSERVE"));
	for (int i = 0; i < 2; i++) {
		unknown = build_generation(&c, IJIPT_IPV4,
					   i ? saved_observe : NULL, &start);
		at = strstr(unknown, "-F IOTJAIL-TRUST\n" DEL_OBSERVE);
		assert_non_null(at);
		at += strlen("-F IOTJAIL-TRUST\n");
		memmove(at, at + strlen(DEL_OBSERVE),
			strlen(at + strlen(DEL_OBSERVE)) + 1);
		assert_string_equal(unknown, buf);
		free(unknown);
	}
	free(buf);
}

/* A reload with observed devices: IOTJAIL-OBSERVE declared (it may not be
 * there yet), its counter carried; without them in a family, gone. */
static void test_generation_observed(void **state)
{
	struct ijnft_config c = observed_cfg();
	struct ijnft_counters start = numbered_counters();
	char *buf, want[256];

	(void)state;
	for (int i = 0; i < 2; i++) {
		buf = build_generation(&c, IJIPT_IPV4,
				       i ? saved_observe : saved_plain, &start);
		assert_int_equal(lines_with(buf, ":IOTJAIL-OBSERVE - [0:0]"), 1);
		assert_null(strstr(buf, "-F IOTJAIL-OBSERVE"));
		assert_null(strstr(buf, "-X "));
		snprintf(want, sizeof(want), "\n%s-A IOTJAIL-OBSERVE -m comment "
			 "--comment \"observed\" -j CONNMARK --set-xmark "
			 "0x501/0xff03\n", preset(IJNFT_CTR_OBSERVED));
		assert_non_null(strstr(buf, want));
		snprintf(want, sizeof(want), "\n%s-A IOTJAIL-TRUST -m comment "
			 "--comment \"trusted\" ", preset(IJNFT_CTR_TRUSTED));
		assert_non_null(strstr(buf, want));
		assert_int_equal(lines_with(buf, "["), __IJNFT_CTR_MAX - 1);
		free(buf);
	}
	/* IPv6 has no observed device. */
	buf = build_generation(&c, IJIPT_IPV6, saved_observe, &start);
	assert_non_null(strstr(buf, DEL_OBSERVE));
	assert_null(strstr(buf, "NFLOG"));
	assert_null(strstr(buf, preset(IJNFT_CTR_OBSERVED)));
	free(buf);
}

/* The observed device's rules, as docs/iptables.md shows them. */
static void test_observed(void **state)
{
	static const char fwd[] =
		"-A IOTJAIL-FWD -s 192.168.50.10/32 -m mac --mac-source 02:00:00:00:50:10 -j IOTJAIL-TRUST\n"
		"-A IOTJAIL-FWD -s 192.168.50.11/32 -m mac --mac-source 02:00:00:00:50:11 -j IOTJAIL-OBSERVE\n"
		"-A IOTJAIL-FWD -m connmark --mark 0x501/0xff03 -j RETURN\n"
		"-A IOTJAIL-FWD -m comment --comment \"queue\" -j NFQUEUE ";
	static const char chain[] =
		"-A IOTJAIL-OBSERVE -d 192.168.50.0/24 -j RETURN\n"
		"-A IOTJAIL-OBSERVE -d 10.1.0.0/16 -j RETURN\n"
		"-A IOTJAIL-OBSERVE -j NFLOG --nflog-group 7 --nflog-threshold 16\n"
		"-A IOTJAIL-OBSERVE -m comment --comment \"observed\" -j CONNMARK --set-xmark 0x501/0xff03\n";
	struct ijnft_config cs[3] = { bridge_cfg(), router_cfg(), trusted_cfg() };
	struct ijnft_config c = observed_cfg();
	char *t;

	(void)state;
	t = build_install(&c, IJIPT_IPV4, NULL);
	assert_non_null(strstr(t, fwd));
	assert_non_null(strstr(t, chain));
	assert_int_equal(lines_with(t, "-A IOTJAIL-OBSERVE "), 4);
	assert_int_equal(lines_with(t, "-A IOTJAIL-TRUST "), 3);
	assert_int_equal(lines_with(t, "-A IOTJAIL-FWD -m connmark --mark 0x501/0xff03 -j RETURN"), 1);
	assert_true(strstr(t, ":IOTJAIL-OBSERVE - [0:0]") > strstr(t, "*mangle"));
	free(t);
	/* The other family has no observed device: nothing of it. */
	t = build_install(&c, IJIPT_IPV6, NULL);
	assert_null(strstr(t, "OBSERVE"));
	assert_null(strstr(t, "NFLOG"));
	assert_null(strstr(t, "\"observed\""));
	free(t);
	/* Every device observed: the trust chain is there but empty; the
	 * group as given. */
	for (unsigned int i = 0; i < c.n_trusted; i++)
		observed[i].observed = true;
	c.observe_group = 65535;
	t = build_install(&c, IJIPT_IPV6, NULL);
	assert_int_equal(lines_with(t, ":IOTJAIL-TRUST - [0:0]"), 1);
	assert_int_equal(lines_with(t, "-A IOTJAIL-TRUST "), 0);
	assert_non_null(strstr(t, "-A IOTJAIL-OBSERVE -d fd50::/64 -j RETURN\n"
				  "-A IOTJAIL-OBSERVE -j NFLOG --nflog-group 65535 "
				  "--nflog-threshold 16\n"));
	assert_null(strstr(t, "\"trusted\""));
	free(t);
	/* Trusted only, or nothing: no NFLOG anywhere. */
	for (int i = 0; i < 3; i++)
		for (int f = 0; f < __IJIPT_FAMILY_MAX; f++) {
			t = build_install(&cs[i], f, NULL);
			assert_null(strstr(t, "NFLOG"));
			assert_null(strstr(t, "OBSERVE"));
			free(t);
		}
}

static void test_quarantine(void **state)
{
	struct ijipt_quarantine q[2] = {
		{ .mac = { 0x02, 0, 0, 0, 0x50, 0x10 }, .expires_ms = 123456789 },
		{ .mac = { 0x02, 0xab, 0xcd, 0xef, 0x01, 0x23 }, .expires_ms = 0 },
	};
	char buf[1024];
	int n;

	(void)state;
	n = ijipt_build_quarantine(q, 2, buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	golden("quarantine.rules", buf);
	/* Empty: the chain flushed, nothing added. */
	n = ijipt_build_quarantine(NULL, 0, buf, sizeof(buf));
	assert_string_equal(buf, "*mangle\n-F IOTJAIL-QUAR\nCOMMIT\n");
	assert_int_equal(n, (int)strlen(buf));
	assert_int_equal(ijipt_build_quarantine(NULL, 1, buf, sizeof(buf)), -EINVAL);
}

/* What iptables-save (1.8, and 1.4 which quotes every comment) shows after
 * a crash of an older version: our chains with a duplicate hook, a chain
 * this version does not have, other software's rules and chains. */
static const char leftovers[] =
	"# Generated by iptables-save v1.8.9 on Mon Nov 23 16:12:23 2026\n"
	"*mangle\n"
	":PREROUTING ACCEPT [0:0]\n"
	":FORWARD ACCEPT [12:3400]\n"
	":IOTJAIL - [0:0]\n"
	":IOTJAIL-FWD - [0:0]\n"
	":IOTJAIL-OLD - [0:0]\n"
	":OTHER - [0:0]\n"
	"-A FORWARD -j IOTJAIL\n"
	"-A FORWARD -i eth0 -j IOTJAIL-OLD\n"
	"-A FORWARD -j OTHER\n"
	"-A IOTJAIL -i br0 -g IOTJAIL-FWD\n"
	"-A IOTJAIL-FWD -m comment --comment \"queue\" -j NFQUEUE --queue-num 0\n"
	"-A IOTJAIL-OLD -j RETURN\n"
	"-A OTHER -j IOTJAIL\n"
	"-A OTHER -s 10.0.0.0/8 -j RETURN\n"
	"COMMIT\n"
	"*filter\n"
	":FORWARD ACCEPT [0:0]\n"
	":IOTJAILX - [0:0]\n"
	":IOTJAIL - [0:0]\n"
	"-A FORWARD -j IOTJAIL\n"
	"-A FORWARD -j IOTJAIL\n"
	"-A FORWARD -j IOTJAILX\n"
	"COMMIT\n"
	"*nat\n"
	":IOTJAIL-NAT - [0:0]\n"
	"-A POSTROUTING -j IOTJAIL-NAT\n"
	"COMMIT\n";

static void test_reinstall(void **state)
{
	struct ijnft_config c = bridge_cfg();
	char *t;

	(void)state;
	t = build_install(&c, IJIPT_IPV4, leftovers);
	golden("reinstall.rules", t);
	/* Every rule jumping to a chain of ours goes, from built-in and
	 * foreign chains alike; IOTJAILX is not ours (no dash); the nat
	 * table is not ours to touch. */
	assert_int_equal(lines_with(t, "-D FORWARD -j IOTJAIL\n"), 3);
	assert_int_equal(lines_with(t, "-D FORWARD -i eth0 -j IOTJAIL-OLD"), 1);
	assert_int_equal(lines_with(t, "-D OTHER -j IOTJAIL\n"), 1);
	assert_int_equal(lines_with(t, "-X IOTJAIL-OLD"), 1);
	assert_null(strstr(t, "IOTJAILX"));
	assert_null(strstr(t, "NAT"));
	assert_null(strstr(t, "-X IOTJAIL\n"));
	free(t);
}

/* A leftover IOTJAIL-OBSERVE: kept (flushed) when observed devices
 * remain, deleted when none does. */
static void test_reinstall_observed(void **state)
{
	struct ijnft_config with = observed_cfg(), without = trusted_cfg();
	char *t;

	(void)state;
	t = build_install(&with, IJIPT_IPV4, saved_observe);
	assert_int_equal(lines_with(t, ":IOTJAIL-OBSERVE - [0:0]"), 1);
	assert_null(strstr(t, "-X IOTJAIL-OBSERVE"));
	assert_int_equal(lines_with(t, "-A IOTJAIL-OBSERVE "), 4);
	free(t);
	t = build_install(&without, IJIPT_IPV4, saved_observe);
	assert_int_equal(lines_with(t, ":IOTJAIL-OBSERVE - [0:0]"), 1);
	assert_int_equal(lines_with(t, "-X IOTJAIL-OBSERVE"), 1);
	assert_null(strstr(t, "-A IOTJAIL-OBSERVE "));
	assert_null(strstr(t, "-j IOTJAIL-OBSERVE"));
	free(t);
}

static void test_remove(void **state)
{
	char buf[4096];
	int n;

	(void)state;
	n = ijipt_build_remove(leftovers, buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	golden("remove.rules", buf);
	/* Nothing of ours: nothing to run. */
	assert_int_equal(ijipt_build_remove("*filter\n:FORWARD ACCEPT [0:0]\n"
					    "-A FORWARD -j OTHER\nCOMMIT\n",
					    buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(ijipt_build_remove(NULL, buf, sizeof(buf)), 0);
}

/* Like snprintf: the whole length, and what fits NUL-terminated. */
static void test_truncation(void **state)
{
	struct ijnft_config c = bridge_cfg();
	char small[64];
	int n = ijipt_build_install(&c, IJIPT_IPV4, NULL, small, sizeof(small));

	(void)state;
	assert_true(n > (int)sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(ijipt_build_install(&c, IJIPT_IPV4, NULL, NULL, 0), n);
}

static const char saved_counters[] =
	"*mangle\n"
	":IOTJAIL-FWD - [0:0]\n"
	"[5:500] -A IOTJAIL-FWD -m connmark --mark 0x502/0xff03 -m comment --comment deny -j DROP\n"
	"[7:700] -A IOTJAIL-FWD -m comment --comment \"queue\" -j NFQUEUE --queue-balance 0:1\n"
	"[1:100] -A IOTJAIL-FWD -m connmark --mark 0x503/0xff03 -j RETURN\n"
	"[9:900] -A IOTJAIL-PROBE -m comment --comment queue -j NFQUEUE\n"
	"[3:300] -A OTHER -m comment --comment deny -j DROP\n"
	"COMMIT\n"
	"*filter\n"
	"[2:20] -A IOTJAIL -p tcp -m mark --mark 0x3/0x3 -m comment --comment \"mark reject\" -j REJECT --reject-with tcp-reset\n"
	"[4:40] -A IOTJAIL -m mark --mark 0x3/0x3 -m comment --comment \"mark reject\" -j REJECT\n"
	"[6:60] -A IOTJAIL-MARK-ALLOW -m comment --comment \"mark allow\" -j CONNMARK --set-xmark 0x501/0xff03\n"
	"COMMIT\n";

/* Trusted and observed devices: counted apart, each over its rules. */
static const char saved_devices[] =
	"*mangle\n"
	"[11:1100] -A IOTJAIL-FWD -s 10.0.0.1/32 -m mac --mac-source 02:00:00:00:00:01 -j IOTJAIL-TRUST\n"
	"[13:1300] -A IOTJAIL-FWD -s 10.0.0.2/32 -m mac --mac-source 02:00:00:00:00:02 -j IOTJAIL-OBSERVE\n"
	"[2:200] -A IOTJAIL-TRUST -d 10.0.0.0/8 -j RETURN\n"
	"[9:900] -A IOTJAIL-TRUST -m comment --comment trusted -j CONNMARK --set-xmark 0x501/0xff03\n"
	"[1:100] -A IOTJAIL-OBSERVE -d 10.0.0.0/8 -j RETURN\n"
	"[12:1200] -A IOTJAIL-OBSERVE -j NFLOG --nflog-group 7 --nflog-threshold 16\n"
	"[12:1200] -A IOTJAIL-OBSERVE -m comment --comment \"observed\" -j CONNMARK --set-xmark 0x501/0xff03\n"
	"COMMIT\n";

/* What ijipt_parse_counters() finds in text: rules of ours, and exactly
 * these counters (the others 0). */
struct counted {
	enum ijnft_ctr k;
	uint64_t packets, bytes;
};

static void check_parsed(const char *text, int rules, const struct counted *w,
			 size_t n)
{
	struct ijnft_counters c, want;

	memset(&c, 0, sizeof(c));
	memset(&want, 0, sizeof(want));
	for (size_t i = 0; i < n; i++) {
		want.packets[w[i].k] = w[i].packets;
		want.bytes[w[i].k] = w[i].bytes;
	}
	assert_int_equal(ijipt_parse_counters(text, &c), rules);
	assert_memory_equal(&c, &want, sizeof(c));
}

static void test_parse_counters(void **state)
{
	/* Our rules only (not the probe's, not other software's); rules
	 * without a comment count as ours but add nothing; mark reject's
	 * two rules summed. */
	static const struct counted plain[] = {
		{ IJNFT_CTR_DENY, 5, 500 },
		{ IJNFT_CTR_QUEUED, 7, 700 },
		{ IJNFT_CTR_MARK_REJECT, 6, 60 },
		{ IJNFT_CTR_MARK_ALLOW, 6, 60 },
	};
	/* Only the rules named after them: not the jumps, the LAN
	 * RETURNs or NFLOG. */
	static const struct counted devices[] = {
		{ IJNFT_CTR_TRUSTED, 9, 900 },
		{ IJNFT_CTR_OBSERVED, 12, 1200 },
	};

	(void)state;
	check_parsed(saved_counters, 6, plain, sizeof(plain) / sizeof(*plain));
	check_parsed(saved_devices, 7, devices, sizeof(devices) / sizeof(*devices));
	check_parsed("*filter\nCOMMIT\n", 0, NULL, 0);
}

static void test_parse_quarantine(void **state)
{
	static const char text[] =
		"*mangle\n"
		"-A IOTJAIL-QUAR -m mac --mac-source 02:00:00:00:50:0A -m comment --comment expires=987654 -j IOTJAIL-QDROP\n"
		"-A IOTJAIL-QUAR -m mac --mac-source 02:00:00:00:50:0B -m comment --comment \"expires=never\" -j IOTJAIL-QDROP\n"
		"-A IOTJAIL-QUAR -m comment --comment expires=1 -j IOTJAIL-QDROP\n"
		"-A OTHER -m mac --mac-source 02:00:00:00:50:0C -j DROP\n"
		"COMMIT\n";
	struct ijipt_quarantine q[4];
	const uint8_t a[6] = { 0x02, 0, 0, 0, 0x50, 0x0a };
	const uint8_t b[6] = { 0x02, 0, 0, 0, 0x50, 0x0b };

	(void)state;
	assert_int_equal(ijipt_parse_quarantine(text, q, 4), 2);
	assert_memory_equal(q[0].mac, a, 6);
	assert_int_equal(q[0].expires_ms, 987654);
	assert_memory_equal(q[1].mac, b, 6);
	assert_int_equal(q[1].expires_ms, 0);
	assert_int_equal(ijipt_parse_quarantine(text, q, 1), 1);
}

static void test_config_check(void **state)
{
	struct ijnft_config c = router_cfg();
	const char *why = NULL;

	(void)state;
	assert_int_equal(ijipt_config_check(&c, &why), 0);
	strcpy(c.ifnames[1], "wlan+");
	assert_int_equal(ijipt_config_check(&c, &why), -EINVAL);
	assert_non_null(strstr(why, "'+'"));
	strcpy(c.ifnames[1], "!eth0");
	assert_int_equal(ijipt_config_check(&c, &why), -EINVAL);
	strcpy(c.ifnames[1], "a\"b");
	assert_int_equal(ijipt_config_check(&c, &why), -EINVAL);
	/* What nft refuses, iptables refuses too. */
	c = router_cfg();
	c.queue_count = 0;
	assert_int_equal(ijipt_config_check(&c, &why), -EINVAL);
	assert_string_equal(why, "queue count is 0");
	assert_int_equal(ijipt_build_install(&c, IJIPT_IPV4, NULL, NULL, 0), -EINVAL);
	c = router_cfg();
	assert_int_equal(ijipt_build_install(&c, __IJIPT_FAMILY_MAX, NULL, NULL, 0),
			 -EINVAL);
}

static void test_backend_names(void **state)
{
	enum ijrs_backend b;

	(void)state;
	for (int i = 0; i < __IJRS_BACKEND_MAX; i++) {
		assert_int_equal(ijrs_backend_parse(ijrs_backend_name(i), &b), 0);
		assert_int_equal(b, i);
	}
	assert_string_equal(ijrs_backend_name(IJRS_IPTABLES), "iptables");
	assert_int_equal(ijrs_backend_parse("nftables", &b), -EINVAL);
	assert_int_equal(ijrs_backend_parse(NULL, &b), -EINVAL);
	assert_null(ijrs_backend_name(__IJRS_BACKEND_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_install_bridge),
		cmocka_unit_test(test_install_router_fail_closed),
		cmocka_unit_test(test_install_trusted),
		cmocka_unit_test(test_install_observed),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_generation),
		cmocka_unit_test(test_generation_observed),
		cmocka_unit_test(test_observed),
		cmocka_unit_test(test_quarantine),
		cmocka_unit_test(test_reinstall),
		cmocka_unit_test(test_reinstall_observed),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_parse_counters),
		cmocka_unit_test(test_parse_quarantine),
		cmocka_unit_test(test_config_check),
		cmocka_unit_test(test_backend_names),
	};

	return cmocka_run_group_tests_name("ipt", tests, NULL, NULL);
}
