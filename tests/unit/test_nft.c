/*
 * Unit tests of the nftables backend (nftables/nft.h) that need no kernel
 * and no root: configuration checks, and round trips of the built batches
 * through libnftnl's parsers (ijnft_batch_describe() decodes them, so this
 * file needs no libnftnl header).  Expected expressions are written in
 * libnftnl's debug notation, as `nft --debug=netlink` prints them.
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

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "nftables/nft.h"

#define BUF_LEN 65536

struct fixture {
	char buf[BUF_LEN];
	char text[BUF_LEN];
	size_t used;
	char *lines[64];
	int n;
};

static int setup(void **state)
{
	*state = calloc(1, sizeof(struct fixture));
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static struct ijnft_config bridge_cfg(void)
{
	struct ijnft_config c = {
		.mode = IJNFT_MODE_BRIDGE,
		.n_ifnames = 1,
		.queue_first = 0,
		.queue_count = 2,
		.inspect_packets = 8,
		.generation = 5,
		.queue_kind = IJNFT_QUEUE_XT,
	};

	strcpy(c.ifnames[0], "br0");
	return c;
}

/* Splits f->text into f->lines. */
static void split(struct fixture *f)
{
	char *save = NULL;

	f->n = 0;
	for (char *l = strtok_r(f->text, "\n", &save); l && f->n < 64;
	     l = strtok_r(NULL, "\n", &save))
		f->lines[f->n++] = l;
}

/*
 * libnftnl prints register data as 32-bit words in host order: the bytes
 * 06 00 00 00 read 0x00000006 on a little-endian host and 0x06000000 on a
 * big-endian one.  The expectations in this file are written as a
 * little-endian host prints them, so on a big-endian host (s390x, mips) each
 * line is rewritten to that notation first.  How depends on what the
 * register holds: bytes (payload, interface names, nfproto, l4proto,
 * anything after hton) swap word by word; a host-order u32 (marks, len)
 * prints the same on both; the host-order u16 iiftype fills the first half
 * of its word.
 */
enum reg_kind { REG_BYTES, REG_U32, REG_U16 };

static void le_notation(char *line)
{
	enum reg_kind k = REG_BYTES;
	char *s, *end, *x, w[9];

	for (s = strstr(line, "[ "); s; s = strstr(end, "[ ")) {
		end = strstr(s, " ]");
		if (!end)
			return;
		if (!strncmp(s, "[ meta load mark ", 17) ||
		    !strncmp(s, "[ ct load mark ", 15) ||
		    !strncmp(s, "[ meta load len ", 16))
			k = REG_U32;
		else if (!strncmp(s, "[ meta load iiftype ", 20))
			k = REG_U16;
		else if (((x = strstr(s, " load ")) && x < end) ||
			 !strncmp(s, "[ byteorder ", 12))
			k = REG_BYTES;
		else if (!strncmp(s, "[ cmp ", 6) || !strncmp(s, "[ bitwise ", 10))
			for (x = strstr(s, " 0x"); x && x < end; x = strstr(x + 11, " 0x")) {
				uint32_t v = (uint32_t)strtoul(x + 3, NULL, 16);

				v = k == REG_BYTES ? __builtin_bswap32(v) :
				    k == REG_U16 ? v >> 16 : v;
				snprintf(w, sizeof(w), "%08x", v);
				memcpy(x + 3, w, 8);
			}
	}
}

static void describe(struct fixture *f)
{
	int n = ijnft_batch_describe(f->buf, f->used, f->text, BUF_LEN);

	assert_true(n > 0);
	split(f);
	assert_int_equal(n, f->n);
	if (htonl(1) == 1)
		for (int i = 0; i < f->n; i++)
			le_notation(f->lines[i]);
}

static void build_install(struct fixture *f, const struct ijnft_config *c)
{
	assert_int_equal(ijnft_build_install(c, 100, f->buf, BUF_LEN,
					     &f->used), 0);
	describe(f);
}

static void assert_prefix(const char *line, const char *prefix)
{
	if (strncmp(line, prefix, strlen(prefix))) {
		print_error("line: %s\nwant prefix: %s\n", line, prefix);
		fail();
	}
}

static void assert_contains(const char *line, const char *part)
{
	if (!strstr(line, part)) {
		print_error("line: %s\nwant: %s\n", line, part);
		fail();
	}
}

/* The rule line whose comment is `name`. */
static const char *rule(struct fixture *f, const char *name)
{
	char tag[64];

	snprintf(tag, sizeof(tag), "\\x%02zx%s\\x00 }", strlen(name) + 1,
		 name);
	for (int i = 0; i < f->n; i++)
		if (!strncmp(f->lines[i], "add rule ", 9) &&
		    strstr(f->lines[i], tag))
			return f->lines[i];
	print_error("no rule %s\n", name);
	fail();
	return NULL;
}

static void test_config_check(void **state)
{
	struct ijnft_config c = bridge_cfg();
	const char *why = "unset";

	(void)state;
	assert_int_equal(ijnft_config_check(&c, &why), 0);
	assert_null(why);
	c.queue_kind = IJNFT_QUEUE_AUTO;	/* fine for ijnft_install() */
	assert_int_equal(ijnft_config_check(&c, NULL), 0);
	c.mode = IJNFT_MODE_ROUTER;
	c.n_ifnames = 3;
	strcpy(c.ifnames[1], "eth1");
	strcpy(c.ifnames[2], "wlan0");
	assert_int_equal(ijnft_config_check(&c, &why), 0);
	assert_int_equal(ijnft_config_check(NULL, &why), -EINVAL);
	assert_string_equal(why, "no configuration");
}

/* Each bad configuration and the reason it is refused. */
static void test_config_bad(void **state)
{
	struct ijnft_config c;
	const char *why;

	(void)state;
#define BAD(stmt, reason)                                                \
	do {                                                             \
		c = bridge_cfg();                                        \
		stmt;                                                    \
		why = NULL;                                              \
		assert_int_equal(ijnft_config_check(&c, &why), -EINVAL); \
		assert_non_null(why);                                    \
		assert_string_equal(why, reason);                        \
	} while (0)
	BAD(c.n_ifnames = 0, "no bridge name");
	BAD((c.mode = IJNFT_MODE_ROUTER, c.n_ifnames = 0), "no LAN interface");
	BAD(c.ifnames[0][0] = '\0', "empty interface name");
	BAD(memset(c.ifnames[0], 'a', IJNFT_IFNAMSIZ), "invalid interface name");
	BAD(strcpy(c.ifnames[0], "br/0"), "invalid interface name");
	BAD(strcpy(c.ifnames[0], ".."), "invalid interface name");
	BAD(strcpy(c.ifnames[0], "br 0"), "invalid interface name");
	BAD((c.n_ifnames = 2, strcpy(c.ifnames[1], "br1")),
	    "bridge mode takes exactly one bridge name");
	BAD((c.mode = IJNFT_MODE_ROUTER, c.n_ifnames = IJNFT_MAX_IFNAMES + 1),
	    "too many LAN interfaces (at most 8)");
	BAD(c.queue_count = 0, "queue count is 0");
	BAD((c.queue_first = 65535, c.queue_count = 2),
	    "queue range goes past 65535");
	BAD(c.inspect_packets = 0, "inspection budget is 0 packets");
	BAD(c.mode = __IJNFT_MODE_MAX, "unknown mode");
	BAD(c.queue_kind = __IJNFT_QUEUE_MAX, "unknown queue kind");
#undef BAD
	/* The edges that are fine. */
	c = bridge_cfg();
	c.queue_first = 65534;
	c.queue_count = 2;
	assert_int_equal(ijnft_config_check(&c, NULL), 0);
	memset(c.ifnames[0], 'a', IJNFT_IFNAMSIZ - 1);
	c.ifnames[0][IJNFT_IFNAMSIZ - 1] = '\0';
	assert_int_equal(ijnft_config_check(&c, NULL), 0);
}

/* Builders refuse what the kernel would refuse, and AUTO (they cannot probe). */
static void test_build_refuses(void **state)
{
	struct fixture *f = *state;
	struct ijnft_config c = bridge_cfg();
	uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };

	c.inspect_packets = 0;
	assert_int_equal(ijnft_build_install(&c, 1, f->buf, BUF_LEN, &f->used),
			 -EINVAL);
	assert_int_equal(f->used, 0);
	c = bridge_cfg();
	c.queue_kind = IJNFT_QUEUE_AUTO;
	assert_int_equal(ijnft_build_install(&c, 1, f->buf, BUF_LEN, &f->used),
			 -EINVAL);
	assert_int_equal(ijnft_build_generation(&c, NULL, 1, f->buf, BUF_LEN,
						&f->used), -EINVAL);
	c = bridge_cfg();
	assert_int_equal(ijnft_build_install(&c, 1, f->buf, 100, &f->used),
			 -ENOSPC);
	assert_int_equal(ijnft_build_install(NULL, 1, f->buf, BUF_LEN,
					     &f->used), -EINVAL);
	assert_int_equal(ijnft_build_quarantine(NULL, true, 0, 1, f->buf,
						BUF_LEN, &f->used), -EINVAL);
	assert_int_equal(ijnft_build_quarantine(mac, true, 0, 1, f->buf, 40,
						&f->used), -ENOSPC);
}

/* The install batch: every message, in order. */
static void test_install_order(void **state)
{
	struct fixture *f = *state;
	struct ijnft_config c = bridge_cfg();
	static const char *const want[] = {
		"begin",
		"add table table iotjail inet",
		"delete table table iotjail inet",
		"add table table iotjail inet",
		"add set quarantine table iotjail key_type 9 key_len 6 flags 0x10 id 1",
		"add set lan_ifs table iotjail key_type 41 key_len 16 flags 0x0 id 2",
		"add element lan_ifs table iotjail elem \"br0\"",
		"add chain inet iotjail forward use 0 type filter hook forward prio -5 policy accept",
		"add chain inet iotjail verdict use 0 type filter hook forward prio -4 policy accept",
		"add rule inet iotjail forward [ meta load iifname",
		"add rule inet iotjail forward [ meta load iiftype",
		"add rule inet iotjail forward [ ct load mark",
		"add rule inet iotjail forward [ ct load mark",
		"add rule inet iotjail forward [ ct load mark",
		"add rule inet iotjail forward [ ct load mark",
		"add rule inet iotjail forward [ ct load mark",
		"add rule inet iotjail forward [ meta load l4proto",
		"add rule inet iotjail forward [ counter",
		"add rule inet iotjail verdict [ meta load mark",
		"add rule inet iotjail verdict [ meta load mark",
		"add rule inet iotjail verdict [ meta load mark",
		"add rule inet iotjail verdict [ meta load mark",
		"add rule inet iotjail verdict [ meta load mark",
		"add rule inet iotjail verdict [ meta load mark",
		"add rule inet iotjail verdict [ meta load mark",
		"end",
	};
	/* Which rule each line is: by comment (a pair of reject rules shares
	 * one); the rules without a comment (they count nothing) are the
	 * deny and reject copies in the verdict chain. */
	static const char *const comments[] = {
		"scope", "quarantine", "deny", "reject", "reject", "allow",
		"budget", "ack", "queue",
		"mark allow", NULL, NULL, "mark pass", "mark deny",
		"mark reject", "mark reject",
	};
	const int n = sizeof(comments) / sizeof(comments[0]);

	build_install(f, &c);
	assert_int_equal(f->n, sizeof(want) / sizeof(want[0]));
	for (int i = 0; i < f->n; i++)
		assert_prefix(f->lines[i], want[i]);
	for (int i = 0; i < n; i++) {
		char tag[64];

		if (!comments[i]) {
			assert_null(strstr(f->lines[9 + i], "userdata"));
			continue;
		}
		snprintf(tag, sizeof(tag), "\\x%02zx%s\\x00 }",
			 strlen(comments[i]) + 1, comments[i]);
		assert_contains(f->lines[9 + i], tag);
	}
}

/* Sequence numbers run on from BEGIN, every message asks for an ACK, and
 * the batch is addressed to nf_tables. */
static void test_install_framing(void **state)
{
	struct fixture *f = *state;
	struct ijnft_config c = bridge_cfg();
	const struct nlmsghdr *nlh = (const void *)f->buf;
	size_t off = 0;
	uint32_t seq = 100;
	int n = 0;

	assert_int_equal(ijnft_build_install(&c, seq, f->buf, BUF_LEN,
					     &f->used), 0);
	while (off < f->used) {
		nlh = (const void *)(f->buf + off);
		assert_true(nlh->nlmsg_len >= NLMSG_HDRLEN);
		assert_int_equal(nlh->nlmsg_seq, seq + n);
		if (n == 0) {
			const struct nfgenmsg *g = NLMSG_DATA(nlh);

			assert_int_equal(nlh->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
			assert_int_equal(ntohs(g->res_id), NFNL_SUBSYS_NFTABLES);
		} else if (off + NLMSG_ALIGN(nlh->nlmsg_len) < f->used) {
			assert_int_equal(nlh->nlmsg_type >> 8,
					 NFNL_SUBSYS_NFTABLES);
			assert_true(nlh->nlmsg_flags & NLM_F_REQUEST);
			assert_true(nlh->nlmsg_flags & NLM_F_ACK);
		} else {
			assert_int_equal(nlh->nlmsg_type, NFNL_MSG_BATCH_END);
		}
		off += NLMSG_ALIGN(nlh->nlmsg_len);
		n++;
	}
	assert_int_equal(off, f->used);
	assert_int_equal(n, 26);
}

/* The generation and the budget are where the rules compare them. */
static void test_install_expressions(void **state)
{
	struct fixture *f = *state;
	struct ijnft_config c = bridge_cfg();
	const char *r;

	build_install(f, &c);
	r = rule(f, "scope");
	assert_contains(r, "[ meta load iifname => reg 1 ] "
			   "[ lookup reg 1 set lan_ifs 0x1 ] "
			   "[ meta load oifname => reg 1 ] "
			   "[ lookup reg 1 set lan_ifs 0x1 ] "
			   "[ immediate reg 0 return ]");
	r = rule(f, "quarantine");
	assert_contains(r, "[ meta load iiftype => reg 1 ] "
			   "[ cmp eq reg 1 0x00000001 ] "
			   "[ payload load 6b @ link header + 6 => reg 1 ] "
			   "[ lookup reg 1 set quarantine ] "
			   "[ counter pkts 0 bytes 0 ] [ immediate reg 0 drop ]");
	r = rule(f, "deny");
	assert_contains(r, "[ ct load mark => reg 1 ] "
			   "[ bitwise reg 1 = ( reg 1 & 0x0000ff03 ) ^ 0x00000000 ] "
			   "[ cmp eq reg 1 0x00000502 ] "
			   "[ counter pkts 0 bytes 0 ] [ immediate reg 0 drop ]");
	r = rule(f, "allow");
	assert_contains(r, "[ cmp eq reg 1 0x00000501 ] "
			   "[ counter pkts 0 bytes 0 ] [ immediate reg 0 accept ]");
	r = rule(f, "budget");
	assert_contains(r, "[ bitwise reg 1 = ( reg 1 & 0x00000003 ) ^ 0x00000000 ] "
			   "[ cmp eq reg 1 0x00000000 ] "
			   "[ ct load packets => reg 1 ] "
			   "[ byteorder reg 1 = hton(reg 1, 8, 8) ] "
			   "[ cmp gt reg 1 0x00000000 0x08000000 ] "
			   "[ counter pkts 0 bytes 0 ] [ immediate reg 0 accept ]");

	/* Other values land in the same places (big-endian 300 = 0x12c). */
	c.generation = 255;
	c.inspect_packets = 300;
	build_install(f, &c);
	assert_contains(rule(f, "deny"), "[ cmp eq reg 1 0x0000ff02 ]");
	assert_contains(rule(f, "allow"), "[ cmp eq reg 1 0x0000ff01 ]");
	assert_contains(rule(f, "budget"),
			"[ cmp gt reg 1 0x00000000 0x2c010000 ]");
	c.generation = 0;
	build_install(f, &c);
	assert_contains(rule(f, "deny"), "[ cmp eq reg 1 0x00000002 ]");
	assert_int_equal(ijnft_ct_mark(0x12, IJNFT_VERDICT_ALLOW), 0x1201);
	assert_int_equal(ijnft_ct_mark(0x12, IJNFT_VERDICT_DENY) &
				 ~IJNFT_MARK_MASK, 0);
}

static void test_queue_variants(void **state)
{
	struct fixture *f = *state;
	struct ijnft_config c = bridge_cfg();

	c.queue_first = 4;
	c.queue_count = 3;
	build_install(f, &c);
	assert_contains(rule(f, "queue"),
			"[ counter pkts 0 bytes 0 ] [ target name NFQUEUE rev 3 ]");
	assert_contains(rule(f, "queue"),
			"[ NFQUEUE num 4 total 3 flags 0x1 ]");	/* bypass */
	c.fail_closed = true;
	build_install(f, &c);
	assert_contains(rule(f, "queue"), "[ NFQUEUE num 4 total 3 flags 0x0 ]");

	c.queue_kind = IJNFT_QUEUE_NATIVE;
	c.fail_closed = false;
	build_install(f, &c);
	assert_contains(rule(f, "queue"),
			"[ counter pkts 0 bytes 0 ] [ queue num 4-6 bypass ]");
	assert_null(strstr(rule(f, "queue"), "target"));
	c.fail_closed = true;
	build_install(f, &c);
	assert_contains(rule(f, "queue"), "[ queue num 4-6 ]");
	assert_null(strstr(rule(f, "queue"), "bypass"));
	/* Never CPU fanout: it would split a flow's directions. */
	assert_null(strstr(rule(f, "queue"), "fanout"));
	c.queue_count = 1;
	build_install(f, &c);
	assert_contains(rule(f, "queue"), "[ queue num 4 ]");
}

static void test_router_mode(void **state)
{
	struct fixture *f = *state;
	struct ijnft_config c = bridge_cfg();

	c.mode = IJNFT_MODE_ROUTER;
	c.n_ifnames = 2;
	strcpy(c.ifnames[0], "eth1");
	strcpy(c.ifnames[1], "wlan0");
	build_install(f, &c);
	assert_string_equal(f->lines[6], "add element lan_ifs table iotjail "
					 "elem \"eth1\" elem \"wlan0\"");
	/* A name of the full 15 characters keeps all of them. */
	strcpy(c.ifnames[1], "abcdefghijklmno");
	build_install(f, &c);
	assert_contains(f->lines[6], "elem \"abcdefghijklmno\"");
}

/* Reload: both chains are flushed and refilled in one batch, the
 * quarantine set is not touched, counters carry over. */
static void test_generation_batch(void **state)
{
	struct fixture *f = *state;
	struct ijnft_config c = bridge_cfg();
	struct ijnft_counters start = {
		.packets = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 },
		.bytes = { 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130 },
	};
	static const char *const want[] = {
		"begin",
		"delete rule inet iotjail forward",
		"delete rule inet iotjail verdict",
		"delete element lan_ifs table iotjail (all elements)",
		"add element lan_ifs table iotjail elem \"br0\"",
		"add rule inet iotjail forward [ meta load iifname",
		"add rule inet iotjail forward [ meta load iiftype",
		"add rule inet iotjail forward [ ct load mark",
		"add rule inet iotjail forward [ ct load mark",
		"add rule inet iotjail forward [ ct load mark",
		"add rule inet iotjail forward [ ct load mark",
		"add rule inet iotjail forward [ ct load mark",
		"add rule inet iotjail forward [ meta load l4proto",
		"add rule inet iotjail forward [ counter",
		"add rule inet iotjail verdict [ meta load mark",
		"add rule inet iotjail verdict [ meta load mark",
		"add rule inet iotjail verdict [ meta load mark",
		"add rule inet iotjail verdict [ meta load mark",
		"add rule inet iotjail verdict [ meta load mark",
		"add rule inet iotjail verdict [ meta load mark",
		"add rule inet iotjail verdict [ meta load mark",
		"end",
	};

	c.generation = 6;
	assert_int_equal(ijnft_build_generation(&c, &start, 7, f->buf, BUF_LEN,
						&f->used), 0);
	describe(f);
	assert_int_equal(f->n, sizeof(want) / sizeof(want[0]));
	for (int i = 0; i < f->n; i++)
		assert_prefix(f->lines[i], want[i]);
	/* A flush names the chain only: nothing after the chain name. */
	assert_string_equal(f->lines[1], want[1]);
	assert_string_equal(f->lines[2], want[2]);
	assert_string_equal(f->lines[3], want[3]);
	assert_string_equal(f->lines[4], want[4]);
	assert_contains(rule(f, "quarantine"), "[ counter pkts 1 bytes 10 ]");
	assert_contains(rule(f, "deny"), "[ cmp eq reg 1 0x00000602 ] "
					 "[ counter pkts 2 bytes 20 ]");
	assert_contains(rule(f, "reject"), "[ cmp eq reg 1 0x00000603 ] ");
	assert_contains(rule(f, "reject"), "[ counter pkts 3 bytes 30 ]");
	assert_contains(f->lines[9], "[ cmp eq reg 1 0x00000603 ] "
				     "[ counter pkts 0 bytes 0 ]");
	assert_contains(rule(f, "allow"), "[ cmp eq reg 1 0x00000601 ] "
					  "[ counter pkts 4 bytes 40 ]");
	assert_contains(rule(f, "budget"), "[ counter pkts 5 bytes 50 ]");
	assert_contains(rule(f, "queue"), "[ counter pkts 6 bytes 60 ]");
	assert_contains(rule(f, "ack"), "[ counter pkts 7 bytes 70 ]");
	assert_contains(rule(f, "mark allow"), "[ cmp eq reg 1 0x00000601 ] ");
	assert_contains(rule(f, "mark allow"), "^ 0x00000601 ] ");
	assert_contains(rule(f, "mark allow"), "[ counter pkts 10 bytes 100 ]");
	assert_contains(f->lines[15], "[ cmp eq reg 1 0x00000602 ] ");
	assert_contains(f->lines[15], "^ 0x00000602 ] [ ct set mark with reg 1 ]");
	assert_null(strstr(f->lines[15], "counter"));
	assert_contains(f->lines[16], "^ 0x00000603 ] [ ct set mark with reg 1 ]");
	assert_contains(rule(f, "mark deny"), "[ counter pkts 11 bytes 110 ]");
	assert_contains(rule(f, "mark reject"), "[ counter pkts 12 bytes 120 ]");
	assert_contains(rule(f, "mark pass"), "[ counter pkts 13 bytes 130 ]");
	for (int i = 0; i < f->n; i++) {
		assert_null(strstr(f->lines[i], "table iotjail inet"));
		assert_null(strstr(f->lines[i], "quarantine table"));
		assert_null(strstr(f->lines[i], "add chain"));
	}
	/* Without start counters they begin at zero. */
	assert_int_equal(ijnft_build_generation(&c, NULL, 7, f->buf, BUF_LEN,
						&f->used), 0);
	describe(f);
	assert_contains(rule(f, "queue"), "[ counter pkts 0 bytes 0 ]");
}

/* The ack rule: TCP, flags & (FIN|SYN|RST|PSH|ACK) == ACK, length <= 100
 * (big-endian compare), accept; the same whatever the configuration. */
static void test_ack_rule(void **state)
{
	struct fixture *f = *state;
	struct ijnft_config c = bridge_cfg();
	char want[512], first[1024];

	snprintf(want, sizeof(want),
		 "[ meta load l4proto => reg 1 ] "
		 "[ cmp eq reg 1 0x%08x ] "
		 "[ payload load 1b @ transport header + 13 => reg 1 ] "
		 "[ bitwise reg 1 = ( reg 1 & 0x0000001f ) ^ 0x00000000 ] "
		 "[ cmp eq reg 1 0x00000010 ] "
		 "[ meta load len => reg 1 ] "
		 "[ byteorder reg 1 = hton(reg 1, 4, 4) ] "
		 "[ cmp lte reg 1 0x%08x ] "
		 "[ counter pkts 0 bytes 0 ] [ immediate reg 0 accept ] ",
		 6u /* IPPROTO_TCP, one byte */,
		 0x64000000u /* 100 big-endian, as little-endian prints it */);
	build_install(f, &c);
	assert_prefix(rule(f, "ack"), "add rule inet iotjail forward [ ");
	assert_contains(rule(f, "ack"), want);
	snprintf(first, sizeof(first), "%s", rule(f, "ack"));

	/* Nothing of the configuration reaches it. */
	c.generation = 200;
	c.inspect_packets = 3;
	c.queue_kind = IJNFT_QUEUE_NATIVE;
	c.fail_closed = true;
	c.mode = IJNFT_MODE_ROUTER;
	strcpy(c.ifnames[0], "eth1");
	build_install(f, &c);
	assert_string_equal(rule(f, "ack"), first);
}

/*
 * A tiny interpreter of the decoded expressions that the mark rules use, to
 * check what the masks and xors do to marks rather than how they look.
 * Unknown expressions fail the test.
 */
enum sim_verdict { SIM_CONTINUE, SIM_ACCEPT, SIM_DROP, SIM_RESET, SIM_UNREACH };

struct sim_pkt {
	uint32_t meta_mark;
	uint32_t ct_mark;
	uint8_t l4proto;
	unsigned int counted;	/* counter expressions run */
};

static enum sim_verdict sim_rule(const char *line, struct sim_pkt *p)
{
	const char *s = strchr(line, '[');
	uint32_t reg = 0xdeadbeef;	/* garbage until loaded */

	assert_non_null(s);
	while (s && s[0] == '[' && s[1] == ' ') {
		const char *end = strstr(s, " ]");
		unsigned int a, b;
		char e[256];
		int n = 0;

		assert_non_null(end);
		snprintf(e, sizeof(e), "%.*s", (int)(end - s - 2), s + 2);
		if (!strcmp(e, "meta load mark => reg 1"))
			reg = p->meta_mark;
		else if (!strcmp(e, "ct load mark => reg 1"))
			reg = p->ct_mark;
		else if (!strcmp(e, "meta load l4proto => reg 1"))
			reg = p->l4proto;
		else if (sscanf(e, "bitwise reg 1 = ( reg 1 & 0x%x ) ^ 0x%x%n",
				&a, &b, &n) == 2 && !e[n])
			reg = (reg & a) ^ b;
		else if (sscanf(e, "cmp eq reg 1 0x%x%n", &a, &n) == 1 &&
			 !e[n]) {
			if (reg != a)
				return SIM_CONTINUE;
		} else if (!strcmp(e, "ct set mark with reg 1"))
			p->ct_mark = reg;
		else if (!strcmp(e, "meta set mark with reg 1"))
			p->meta_mark = reg;
		else if (!strncmp(e, "counter pkts ", 13))
			p->counted++;
		else if (!strcmp(e, "immediate reg 0 accept"))
			return SIM_ACCEPT;
		else if (!strcmp(e, "immediate reg 0 drop"))
			return SIM_DROP;
		else if (!strcmp(e, "reject type 1 code 0"))	/* tcp reset */
			return SIM_RESET;
		else if (!strcmp(e, "reject type 2 code 3"))	/* icmpx admin */
			return SIM_UNREACH;
		else {
			print_error("sim: unknown expression: %s\n", e);
			fail();
		}
		s = end + 2;
		while (*s == ' ')
			s++;
	}
	return SIM_CONTINUE;
}

/* Runs a packet through all rules of the chain, in batch order. */
static enum sim_verdict sim_chain(struct fixture *f, const char *chain,
				  struct sim_pkt *p)
{
	char prefix[64];
	int rules = 0;

	snprintf(prefix, sizeof(prefix), "add rule inet iotjail %s [", chain);
	for (int i = 0; i < f->n; i++) {
		enum sim_verdict v;

		if (strncmp(f->lines[i], prefix, strlen(prefix)))
			continue;
		rules++;
		if ((v = sim_rule(f->lines[i], p)) != SIM_CONTINUE)
			return v;
	}
	assert_true(rules > 0);
	return SIM_CONTINUE;	/* policy accept */
}

/* The verdict chain's seven rules, exactly. */
static void test_verdict_chain_rules(void **state)
{
	struct fixture *f = *state;
	struct ijnft_config c = bridge_cfg();

	build_install(f, &c);
	assert_string_equal(rule(f, "mark allow"),
		"add rule inet iotjail verdict "
		"[ meta load mark => reg 1 ] "
		"[ bitwise reg 1 = ( reg 1 & 0x0000ff03 ) ^ 0x00000000 ] "
		"[ cmp eq reg 1 0x00000501 ] "
		"[ ct load mark => reg 1 ] "
		"[ bitwise reg 1 = ( reg 1 & 0xffff00fc ) ^ 0x00000501 ] "
		"[ ct set mark with reg 1 ] "
		"[ meta load mark => reg 1 ] "
		"[ bitwise reg 1 = ( reg 1 & 0xffff00fc ) ^ 0x00000000 ] "
		"[ meta set mark with reg 1 ] "
		"[ counter pkts 0 bytes 0 ] [ immediate reg 0 accept ] "
		"userdata = { \\x00\\x0bmark allow\\x00 }");
	/* The deny and reject copies: no counter, no verdict (a later rule
	 * refuses), no comment; right after `mark allow`. */
	for (int i = 0; i < 2; i++) {
		char want[512];

		snprintf(want, sizeof(want),
			 "add rule inet iotjail verdict "
			 "[ meta load mark => reg 1 ] "
			 "[ bitwise reg 1 = ( reg 1 & 0x0000ff03 ) ^ 0x00000000 ] "
			 "[ cmp eq reg 1 0x0000050%d ] "
			 "[ ct load mark => reg 1 ] "
			 "[ bitwise reg 1 = ( reg 1 & 0xffff00fc ) ^ 0x0000050%d ] "
			 "[ ct set mark with reg 1 ]", 2 + i, 2 + i);
		assert_string_equal(f->lines[19 + i], want);
	}
	assert_ptr_equal(rule(f, "mark allow"), f->lines[18]);
	assert_ptr_equal(rule(f, "mark pass"), f->lines[21]);
	assert_ptr_equal(rule(f, "mark deny"), f->lines[22]);
	assert_ptr_equal(rule(f, "mark reject"), f->lines[23]);
	/* The daemon's reset passes: verdict reject with the pass bit, any
	 * generation; all our bits of the packet mark cleared. */
	assert_string_equal(rule(f, "mark pass"),
		"add rule inet iotjail verdict "
		"[ meta load mark => reg 1 ] "
		"[ bitwise reg 1 = ( reg 1 & 0x00000007 ) ^ 0x00000000 ] "
		"[ cmp eq reg 1 0x00000007 ] "
		"[ meta load mark => reg 1 ] "
		"[ bitwise reg 1 = ( reg 1 & 0xffff00f8 ) ^ 0x00000000 ] "
		"[ meta set mark with reg 1 ] "
		"[ counter pkts 0 bytes 0 ] [ immediate reg 0 accept ] "
		"userdata = { \\x00\\x0amark pass\\x00 }");
	/* The drop: verdict bits only, any generation. */
	assert_string_equal(rule(f, "mark deny"),
		"add rule inet iotjail verdict "
		"[ meta load mark => reg 1 ] "
		"[ bitwise reg 1 = ( reg 1 & 0x00000003 ) ^ 0x00000000 ] "
		"[ cmp eq reg 1 0x00000002 ] "
		"[ counter pkts 0 bytes 0 ] [ immediate reg 0 drop ] "
		"userdata = { \\x00\\x0amark deny\\x00 }");
	/* The rejects: TCP gets a reset, anything else (UDP, ICMP, IPv4 or
	 * IPv6) an ICMPX administratively prohibited; any generation. */
	assert_string_equal(f->lines[23],
		"add rule inet iotjail verdict "
		"[ meta load mark => reg 1 ] "
		"[ bitwise reg 1 = ( reg 1 & 0x00000003 ) ^ 0x00000000 ] "
		"[ cmp eq reg 1 0x00000003 ] "
		"[ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000006 ] "
		"[ counter pkts 0 bytes 0 ] [ reject type 1 code 0 ] "
		"userdata = { \\x00\\x0cmark reject\\x00 }");
	assert_string_equal(f->lines[24],
		"add rule inet iotjail verdict "
		"[ meta load mark => reg 1 ] "
		"[ bitwise reg 1 = ( reg 1 & 0x00000003 ) ^ 0x00000000 ] "
		"[ cmp eq reg 1 0x00000003 ] "
		"[ counter pkts 0 bytes 0 ] [ reject type 2 code 3 ] "
		"userdata = { \\x00\\x0cmark reject\\x00 }");

	/* The generation lands in all six places; the rest have none. */
	c.generation = 0xff;
	build_install(f, &c);
	assert_contains(rule(f, "mark allow"), "[ cmp eq reg 1 0x0000ff01 ]");
	assert_contains(rule(f, "mark allow"), "^ 0x0000ff01 ] [ ct set mark");
	assert_contains(f->lines[19], "[ cmp eq reg 1 0x0000ff02 ]");
	assert_contains(f->lines[19], "^ 0x0000ff02 ] [ ct set mark");
	assert_contains(f->lines[20], "[ cmp eq reg 1 0x0000ff03 ]");
	assert_contains(f->lines[20], "^ 0x0000ff03 ] [ ct set mark");
	assert_contains(rule(f, "mark pass"), "[ cmp eq reg 1 0x00000007 ]");
	assert_contains(rule(f, "mark deny"), "[ cmp eq reg 1 0x00000002 ]");
	assert_contains(f->lines[24], "[ cmp eq reg 1 0x00000003 ]");

	/* The packet mark is how the verdict travels for both queue kinds:
	 * the verdict chain does not depend on the kind. */
	{
		char xt[7][1024];

		for (int i = 0; i < 7; i++)
			snprintf(xt[i], sizeof(xt[i]), "%s", f->lines[18 + i]);
		c.queue_kind = IJNFT_QUEUE_NATIVE;
		build_install(f, &c);
		for (int i = 0; i < 7; i++)
			assert_string_equal(f->lines[18 + i], xt[i]);
	}
}

/*
 * Reject under generation gen, with `other` the marks of other software:
 * the verdict chain copies it and rejects the packet (reset for TCP, ICMP
 * for the rest), or passes the daemon's own reset (pass bit); the forward
 * chain's reject rules then refuse the flow's later packets.  Verdicts of
 * other generations refuse or pass without being copied.
 */
static void sim_reject(struct fixture *f, uint8_t gen, uint32_t other)
{
	/* The daemon clears the pass bit of others' marks; the ct mark has
	 * none. */
	uint32_t keep = other & ~IJNFT_PKT_MARK_MASK;
	uint32_t ct_keep = other & ~IJNFT_MARK_MASK;
	uint32_t rej = ijnft_ct_mark(gen, IJNFT_VERDICT_REJECT);
	static const uint8_t l4[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP,
				      IPPROTO_ICMPV6 };
	struct sim_pkt p;
	int fwd_first = -1;

	for (int i = 0; i < f->n; i++)
		if (strstr(f->lines[i], "add rule inet iotjail forward") &&
		    strstr(f->lines[i], "\\x07reject\\x00")) {
			fwd_first = i;
			break;
		}
	assert_true(fwd_first > 0);
	for (unsigned int i = 0; i < sizeof(l4); i++) {
		enum sim_verdict want = l4[i] == IPPROTO_TCP ? SIM_RESET
							     : SIM_UNREACH;

		p = (struct sim_pkt){ .meta_mark = keep | rej, .ct_mark = other,
				      .l4proto = l4[i] };
		assert_int_equal(sim_chain(f, "verdict", &p), want);
		assert_int_equal(p.ct_mark, ct_keep | rej);
		assert_int_equal(p.counted, 1);
		/* Later packets: the first forward reject rule takes TCP
		 * only, the second the rest; neither takes an allow. */
		p.counted = 0;
		assert_int_equal(sim_rule(f->lines[fwd_first], &p),
				 l4[i] == IPPROTO_TCP ? SIM_RESET : SIM_CONTINUE);
		assert_int_equal(sim_rule(f->lines[fwd_first + 1], &p),
				 SIM_UNREACH);
		assert_int_equal(sim_rule(rule(f, "deny"), &p), SIM_CONTINUE);
		assert_int_equal(sim_rule(rule(f, "allow"), &p), SIM_CONTINUE);

		/* The daemon's reset: copied, our packet bits cleared,
		 * accepted. */
		p = (struct sim_pkt){
			.meta_mark = keep | rej | IJNFT_MARK_PASS,
			.ct_mark = other, .l4proto = l4[i] };
		assert_int_equal(sim_chain(f, "verdict", &p), SIM_ACCEPT);
		assert_int_equal(p.ct_mark, ct_keep | rej);
		assert_int_equal(p.meta_mark, keep);
		assert_int_equal(p.counted, 1);

		/* An allow on a reset flow: the allow wins (a re-judged
		 * flow after a reload). */
		p = (struct sim_pkt){
			.meta_mark = keep | ijnft_ct_mark(gen, IJNFT_VERDICT_ALLOW),
			.ct_mark = ct_keep | rej, .l4proto = l4[i] };
		assert_int_equal(sim_chain(f, "verdict", &p), SIM_ACCEPT);
		assert_int_equal(p.ct_mark,
				 ct_keep | ijnft_ct_mark(gen, IJNFT_VERDICT_ALLOW));
	}
	for (unsigned int g = 0; g < 256; g += 51) {
		uint32_t old = ijnft_ct_mark((uint8_t)g, IJNFT_VERDICT_REJECT);

		if (g == gen)
			continue;
		p = (struct sim_pkt){ .meta_mark = keep | old, .ct_mark = other,
				      .l4proto = IPPROTO_UDP };
		assert_int_equal(sim_chain(f, "verdict", &p), SIM_UNREACH);
		assert_int_equal(p.ct_mark, other);
		p = (struct sim_pkt){ .meta_mark = keep | old | IJNFT_MARK_PASS,
				      .ct_mark = other, .l4proto = IPPROTO_TCP };
		assert_int_equal(sim_chain(f, "verdict", &p), SIM_ACCEPT);
		assert_int_equal(p.ct_mark, other);
		assert_int_equal(p.meta_mark, keep);
	}
}

/* What the verdict chain does to marks, for packets the daemon marked
 * (and others), and that the forward chain then reads the ct mark. */
static void test_verdict_chain_semantics(void **state)
{
	struct fixture *f = *state;
	struct ijnft_config c = bridge_cfg();
	static const uint8_t gens[] = { 0, 5, 0x80, 0xff };
	/* Marks of other software, with every bit of ours set too. */
	static const uint32_t others[] = { 0, 0xa5a5fffc, 0xffffffff,
					   0x000100fc };

	for (unsigned int gi = 0; gi < sizeof(gens); gi++) {
		uint8_t gen = gens[gi];

		c.generation = gen;
		build_install(f, &c);
		for (unsigned int oi = 0; oi < 4; oi++) {
			uint32_t other = others[oi];
			uint32_t keep = other & ~IJNFT_MARK_MASK;
			struct sim_pkt p;

			/* Allow: copied into ct mark (other bits kept), cleared
			 * from the packet mark (other bits kept), accepted. */
			p = (struct sim_pkt){
				.meta_mark = keep | ijnft_ct_mark(gen, IJNFT_VERDICT_ALLOW),
				.ct_mark = other,
			};
			assert_int_equal(sim_chain(f, "verdict", &p), SIM_ACCEPT);
			assert_int_equal(p.ct_mark,
					 keep | ijnft_ct_mark(gen, IJNFT_VERDICT_ALLOW));
			assert_int_equal(p.meta_mark, keep);
			assert_int_equal(p.counted, 1);
			/* ... and the forward chain's allow rule takes the
			 * flow's later packets (the deny rule does not). */
			p.counted = 0;
			assert_int_equal(sim_rule(rule(f, "deny"), &p), SIM_CONTINUE);
			assert_int_equal(sim_rule(rule(f, "allow"), &p), SIM_ACCEPT);
			assert_int_equal(p.counted, 1);
			/* The next packet of the flow (mark cleared) passes
			 * the verdict chain untouched. */
			p.counted = 0;
			assert_int_equal(sim_chain(f, "verdict", &p), SIM_CONTINUE);
			assert_int_equal(p.ct_mark,
					 keep | ijnft_ct_mark(gen, IJNFT_VERDICT_ALLOW));
			assert_int_equal(p.counted, 0);

			/* Deny: copied (other bits kept) and dropped. */
			p = (struct sim_pkt){
				.meta_mark = keep | ijnft_ct_mark(gen, IJNFT_VERDICT_DENY),
				.ct_mark = other,
			};
			assert_int_equal(sim_chain(f, "verdict", &p), SIM_DROP);
			assert_int_equal(p.ct_mark,
					 keep | ijnft_ct_mark(gen, IJNFT_VERDICT_DENY));
			assert_int_equal(p.counted, 1);
			p.counted = 0;
			assert_int_equal(sim_rule(rule(f, "deny"), &p), SIM_DROP);
			assert_int_equal(sim_rule(rule(f, "allow"), &p), SIM_CONTINUE);

			/* Other generations: a deny is dropped but not
			 * copied; an allow passes, copied nowhere, its
			 * packet mark left as it is. */
			for (unsigned int g = 0; g < 256; g++) {
				if (g == gen)
					continue;
				p = (struct sim_pkt){
					.meta_mark = keep | ijnft_ct_mark(g, IJNFT_VERDICT_DENY),
					.ct_mark = other,
				};
				assert_int_equal(sim_chain(f, "verdict", &p), SIM_DROP);
				assert_int_equal(p.ct_mark, other);
				assert_int_equal(p.counted, 1);
				p = (struct sim_pkt){
					.meta_mark = keep | ijnft_ct_mark(g, IJNFT_VERDICT_ALLOW),
					.ct_mark = other,
				};
				assert_int_equal(sim_chain(f, "verdict", &p), SIM_CONTINUE);
				assert_int_equal(p.ct_mark, other);
				assert_int_equal(p.meta_mark,
						 keep | ijnft_ct_mark(g, IJNFT_VERDICT_ALLOW));
				assert_int_equal(p.counted, 0);
			}

			/* No verdict: untouched. */
			p = (struct sim_pkt){ .meta_mark = keep | (uint32_t)gen << 8,
					      .ct_mark = other };
			assert_int_equal(sim_chain(f, "verdict", &p), SIM_CONTINUE);
			assert_int_equal(p.meta_mark, keep | (uint32_t)gen << 8);
			assert_int_equal(p.ct_mark, other);
			assert_int_equal(p.counted, 0);

			sim_reject(f, gen, other);
		}
	}
}

/* Both chains hook forward, the verdict chain right after `forward`. */
static void test_verdict_chain_hook(void **state)
{
	struct fixture *f = *state;
	struct ijnft_config c = bridge_cfg();
	int chain_line = -1, forward_rules = 0, verdict_rules = 0;

	assert_int_equal(IJNFT_PRIORITY, -5);
	assert_int_equal(IJNFT_PRIORITY_VERDICT, -4);
	assert_string_equal(IJNFT_CHAIN_VERDICT, "verdict");
	c.queue_kind = IJNFT_QUEUE_NATIVE;
	build_install(f, &c);
	for (int i = 0; i < f->n; i++) {
		if (!strncmp(f->lines[i], "add chain inet iotjail verdict ", 31)) {
			assert_int_equal(chain_line, -1);
			chain_line = i;
			assert_string_equal(f->lines[i],
				"add chain inet iotjail verdict use 0 type filter "
				"hook forward prio -4 policy accept packets 0 bytes 0");
		}
		if (!strncmp(f->lines[i], "add rule inet iotjail verdict ", 30)) {
			assert_true(chain_line >= 0 && chain_line < i);
			verdict_rules++;
		}
		if (!strncmp(f->lines[i], "add rule inet iotjail forward ", 30)) {
			assert_int_equal(verdict_rules, 0);	/* forward first */
			forward_rules++;
		}
	}
	assert_int_equal(chain_line, 8);
	assert_int_equal(forward_rules, 9);
	assert_int_equal(verdict_rules, 7);
	assert_string_equal(f->lines[7],
		"add chain inet iotjail forward use 0 type filter "
		"hook forward prio -5 policy accept packets 0 bytes 0");
}

/* Every counter is in the rules whose comment is its name (two for the
 * reject pairs), one counter expression each; a reload presets all of them
 * (64-bit values), a pair's total in its first rule. */
static void test_counters_preset(void **state)
{
	struct fixture *f = *state;
	struct ijnft_config c = bridge_cfg();
	static const struct ijnft_trusted four[4] = {
		{ { 2, 0, 0, 0, 0, 0x50 }, AF_INET, { 192, 168, 1, 50 }, false },
		{ { 2, 0, 0, 0, 0, 0x51 }, AF_INET, { 192, 168, 1, 51 }, true },
		{ { 2, 0, 0, 0, 0, 0x50 }, AF_INET6, { 0xfd }, false },
		{ { 2, 0, 0, 0, 0, 0x51 }, AF_INET6, { 0xfd, 1 }, true },
	};
	struct ijnft_counters start;
	int counted = 0;

	/* two trusted and two observed rules: each kind's counter in its
	 * first rule */
	c.trusted = four;
	c.n_trusted = 4;
	for (int i = 0; i < __IJNFT_CTR_MAX; i++) {
		start.packets[i] = 1000 + (uint64_t)i;
		start.bytes[i] = (1ull << 40) + (uint64_t)i;
	}
	assert_int_equal(ijnft_build_generation(&c, &start, 1, f->buf, BUF_LEN,
						&f->used), 0);
	describe(f);
	for (int i = 0; i < f->n; i++) {
		const char *l = f->lines[i], *k;

		if (!(k = strstr(l, "[ counter ")))
			continue;
		counted++;
		assert_null(strstr(k + 1, "[ counter "));
	}
	assert_int_equal(counted, __IJNFT_CTR_MAX + 4);
	for (int i = 0; i < __IJNFT_CTR_MAX; i++) {
		char want[96];

		snprintf(want, sizeof(want), "[ counter pkts %llu bytes %llu ]",
			 (unsigned long long)start.packets[i],
			 (unsigned long long)start.bytes[i]);
		assert_contains(rule(f, ijnft_ctr_name(i)), want);
	}
	/* A fresh install starts every one at zero. */
	build_install(f, &c);
	for (int i = 0; i < __IJNFT_CTR_MAX; i++)
		assert_contains(rule(f, ijnft_ctr_name(i)),
				"[ counter pkts 0 bytes 0 ]");
}

/* Trusted devices: one rule per MAC and address, before `queue`: the
 * family, the source MAC and address, every LAN prefix of that family
 * excluded, the allow verdict into conntrack, counted, accepted. */
static void test_trusted_rules(void **state)
{
	struct fixture *f = *state;
	struct ijnft_config c = bridge_cfg();
	static const struct ijnft_trusted t[2] = {
		{ { 2, 0, 0, 0, 0, 0x50 }, AF_INET, { 192, 168, 1, 50 }, false },
		{ { 2, 0, 0, 0, 0, 0x50 }, AF_INET6,
		  { 0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x50 }, false },
	};
	static const struct ijnft_prefix lan[3] = {
		{ AF_INET, 24, { 192, 168, 1, 0 } },
		{ AF_INET, 8, { 10 } },
		{ AF_INET6, 64, { 0xfd, 0, 0, 1 } },
	};
	static const struct ijnft_trusted bad = { { 2 }, 7, { 0 }, false };
	const char *why;
	int q = -1, n = 0;

	c.generation = 5;
	c.trusted = t;
	c.n_trusted = 2;
	c.lan = lan;
	c.n_lan = 3;
	assert_int_equal(ijnft_config_check(&c, NULL), 0);
	build_install(f, &c);
	for (int i = 0; i < f->n; i++) {
		if (strstr(f->lines[i], "\\x08trusted\\x00"))
			n++;
		if (strstr(f->lines[i], "\\x06queue\\x00"))
			q = i;
	}
	assert_int_equal(n, 2);
	assert_string_equal(f->lines[q - 2],
		"add rule inet iotjail forward [ meta load nfproto => reg 1 ] ["
		" cmp eq reg 1 0x00000002 ] ["
		" meta load iiftype => reg 1 ] ["
		" cmp eq reg 1 0x00000001 ] ["
		" payload load 6b @ link header + 6 => reg 1 ] ["
		" cmp eq reg 1 0x00000002 0x00005000 ] ["
		" payload load 4b @ network header + 12 => reg 1 ] ["
		" cmp eq reg 1 0x3201a8c0 ] ["
		" payload load 4b @ network header + 16 => reg 1 ] ["
		" bitwise reg 1 = ( reg 1 & 0x00ffffff ) ^ 0x00000000 ] ["
		" cmp neq reg 1 0x0001a8c0 ] ["
		" payload load 4b @ network header + 16 => reg 1 ] ["
		" bitwise reg 1 = ( reg 1 & 0x000000ff ) ^ 0x00000000 ] ["
		" cmp neq reg 1 0x0000000a ] ["
		" ct load mark => reg 1 ] ["
		" bitwise reg 1 = ( reg 1 & 0xffff00fc ) ^ 0x00000501 ] ["
		" ct set mark with reg 1 ] ["
		" counter pkts 0 bytes 0 ] ["
		" immediate reg 0 accept ] userdata = { \\x00\\x08trusted\\x00 }");
	assert_string_equal(f->lines[q - 1],
		"add rule inet iotjail forward [ meta load nfproto => reg 1 ] ["
		" cmp eq reg 1 0x0000000a ] ["
		" meta load iiftype => reg 1 ] ["
		" cmp eq reg 1 0x00000001 ] ["
		" payload load 6b @ link header + 6 => reg 1 ] ["
		" cmp eq reg 1 0x00000002 0x00005000 ] ["
		" payload load 16b @ network header + 8 => reg 1 ] ["
		" cmp eq reg 1 0x010000fd 0x00000000 0x00000000 0x50000000 ] ["
		" payload load 16b @ network header + 24 => reg 1 ] ["
		" bitwise reg 1 = ( reg 1 & 0xffffffff 0xffffffff 0x00000000 0x00000000 ) ^ 0x00000000 0x00000000 0x00000000 0x00000000 ] ["
		" cmp neq reg 1 0x010000fd 0x00000000 0x00000000 0x00000000 ] ["
		" ct load mark => reg 1 ] ["
		" bitwise reg 1 = ( reg 1 & 0xffff00fc ) ^ 0x00000501 ] ["
		" ct set mark with reg 1 ] ["
		" counter pkts 0 bytes 0 ] ["
		" immediate reg 0 accept ] userdata = { \\x00\\x08trusted\\x00 }");

	c.n_trusted = IJNFT_MAX_TRUSTED + 1;
	assert_int_equal(ijnft_config_check(&c, &why), -EINVAL);
	assert_non_null(strstr(why, "trusted"));
	c.trusted = &bad;
	c.n_trusted = 1;
	assert_int_equal(ijnft_config_check(&c, &why), -EINVAL);
	c.n_trusted = 0;
	c.n_lan = IJNFT_MAX_LAN + 1;
	assert_int_equal(ijnft_config_check(&c, &why), -EINVAL);
	assert_non_null(strstr(why, "LAN"));
}

/* Observed devices: the trusted rule with an NFLOG copy of the packet to
 * the observe group before the verdict goes into conntrack, counted as
 * `observed`; trusted entries beside them keep their own rule and counter. */
static void test_observed_rules(void **state)
{
	struct fixture *f = *state;
	struct ijnft_config c = bridge_cfg();
	static const struct ijnft_trusted t[2] = {
		{ { 2, 0, 0, 0, 0, 0x50 }, AF_INET, { 192, 168, 1, 50 }, false },
		{ { 2, 0, 0, 0, 0, 0x51 }, AF_INET, { 192, 168, 1, 51 }, true },
	};
	static const struct ijnft_prefix lan[1] = {
		{ AF_INET, 24, { 192, 168, 1, 0 } },
	};
	int q = -1, logs = 0;

	c.generation = 5;
	c.trusted = t;
	c.n_trusted = 2;
	c.lan = lan;
	c.n_lan = 1;
	c.observe_group = 7;
	assert_int_equal(ijnft_config_check(&c, NULL), 0);
	build_install(f, &c);
	for (int i = 0; i < f->n; i++) {
		if (strstr(f->lines[i], "[ log "))
			logs++;
		if (strstr(f->lines[i], "\\x06queue\\x00"))
			q = i;
	}
	assert_int_equal(logs, 1);
	assert_contains(f->lines[q - 2], "\\x08trusted\\x00");
	assert_null(strstr(f->lines[q - 2], "[ log "));
	assert_string_equal(f->lines[q - 1],
		"add rule inet iotjail forward [ meta load nfproto => reg 1 ] ["
		" cmp eq reg 1 0x00000002 ] ["
		" meta load iiftype => reg 1 ] ["
		" cmp eq reg 1 0x00000001 ] ["
		" payload load 6b @ link header + 6 => reg 1 ] ["
		" cmp eq reg 1 0x00000002 0x00005100 ] ["
		" payload load 4b @ network header + 12 => reg 1 ] ["
		" cmp eq reg 1 0x3301a8c0 ] ["
		" payload load 4b @ network header + 16 => reg 1 ] ["
		" bitwise reg 1 = ( reg 1 & 0x00ffffff ) ^ 0x00000000 ] ["
		" cmp neq reg 1 0x0001a8c0 ] ["
		" log group 7 snaplen 2048 qthreshold 16 ] ["
		" ct load mark => reg 1 ] ["
		" bitwise reg 1 = ( reg 1 & 0xffff00fc ) ^ 0x00000501 ] ["
		" ct set mark with reg 1 ] ["
		" counter pkts 0 bytes 0 ] ["
		" immediate reg 0 accept ] userdata = { \\x00\\x09observed\\x00 }");
}

static void test_quarantine_batch(void **state)
{
	struct fixture *f = *state;
	uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0xab, 0xff };

	assert_int_equal(ijnft_build_quarantine(mac, true, 60000, 1, f->buf,
						BUF_LEN, &f->used), 0);
	describe(f);
	assert_int_equal(f->n, 5);
	assert_string_equal(f->lines[1], "add element quarantine table iotjail "
					 "elem 02:00:5e:10:ab:ff");
	assert_string_equal(f->lines[2], "delete element quarantine table "
					 "iotjail elem 02:00:5e:10:ab:ff");
	assert_string_equal(f->lines[3], "add element quarantine table iotjail "
					 "elem 02:00:5e:10:ab:ff timeout 60000ms");

	assert_int_equal(ijnft_build_quarantine(mac, true, 0, 1, f->buf,
						BUF_LEN, &f->used), 0);
	describe(f);
	assert_null(strstr(f->lines[3], "timeout"));

	assert_int_equal(ijnft_build_quarantine(mac, false, 0, 1, f->buf,
						BUF_LEN, &f->used), 0);
	describe(f);
	assert_int_equal(f->n, 3);
	assert_string_equal(f->lines[1], "delete element quarantine table "
					 "iotjail elem 02:00:5e:10:ab:ff");
}

/* The decoder refuses what is not a well-formed nf_tables batch. */
static void test_describe_bad(void **state)
{
	struct fixture *f = *state;
	struct ijnft_config c = bridge_cfg();
	struct nlmsghdr *nlh = (void *)f->buf;

	assert_int_equal(ijnft_build_install(&c, 1, f->buf, BUF_LEN, &f->used),
			 0);
	assert_int_equal(ijnft_batch_describe(f->buf, f->used, f->text, 64),
			 -ENOSPC);
	assert_int_equal(ijnft_batch_describe(f->buf, f->used - 3, f->text,
					      BUF_LEN), -EINVAL);
	nlh = (void *)(f->buf + NLMSG_ALIGN(nlh->nlmsg_len));
	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | 1;
	assert_int_equal(ijnft_batch_describe(f->buf, f->used, f->text,
					      BUF_LEN), -EINVAL);
	assert_int_equal(ijnft_batch_describe(NULL, 0, f->text, BUF_LEN),
			 -EINVAL);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ijnft_ctr_name(IJNFT_CTR_QUARANTINE), "quarantine");
	assert_string_equal(ijnft_ctr_name(IJNFT_CTR_QUEUED), "queue");
	assert_string_equal(ijnft_ctr_name(IJNFT_CTR_ACK), "ack");
	assert_string_equal(ijnft_ctr_name(IJNFT_CTR_MARK_ALLOW), "mark allow");
	assert_string_equal(ijnft_ctr_name(IJNFT_CTR_MARK_DENY), "mark deny");
	assert_string_equal(ijnft_ctr_name(IJNFT_CTR_REJECT), "reject");
	assert_string_equal(ijnft_ctr_name(IJNFT_CTR_MARK_REJECT), "mark reject");
	assert_string_equal(ijnft_ctr_name(IJNFT_CTR_MARK_PASS), "mark pass");
	assert_string_equal(ijnft_ctr_name(IJNFT_CTR_TRUSTED), "trusted");
	assert_string_equal(ijnft_ctr_name(IJNFT_CTR_OBSERVED), "observed");
	assert_int_equal(__IJNFT_CTR_MAX, 13);
	/* ijnft_counters() sums rules by comment: names must differ. */
	for (int i = 0; i < __IJNFT_CTR_MAX; i++) {
		assert_non_null(ijnft_ctr_name(i));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(ijnft_ctr_name(i),
						ijnft_ctr_name(j));
	}
	assert_null(ijnft_ctr_name(__IJNFT_CTR_MAX));
	assert_null(ijnft_error_what(NULL));
	ijnft_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_check),
		cmocka_unit_test(test_config_bad),
		cmocka_unit_test_setup_teardown(test_build_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_expressions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_queue_variants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_router_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generation_batch, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ack_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verdict_chain_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_verdict_chain_semantics, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_verdict_chain_hook, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_counters_preset, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_observed_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trusted_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quarantine_batch, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_describe_bad, setup, teardown),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("nft", tests, NULL, NULL);
}
