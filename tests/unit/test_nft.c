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

static void describe(struct fixture *f)
{
	int n = ijnft_batch_describe(f->buf, f->used, f->text, BUF_LEN);

	assert_true(n > 0);
	split(f);
	assert_int_equal(n, f->n);
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
		"add rule inet iotjail forward [ meta load iifname",
		"add rule inet iotjail forward [ meta load iiftype",
		"add rule inet iotjail forward [ ct load mark",
		"add rule inet iotjail forward [ ct load mark",
		"add rule inet iotjail forward [ ct load mark",
		"add rule inet iotjail forward [ counter",
		"end",
	};
	static const char *const comments[] = { "scope", "quarantine", "deny",
						"allow", "budget", "queue" };

	build_install(f, &c);
	assert_int_equal(f->n, sizeof(want) / sizeof(want[0]));
	for (int i = 0; i < f->n; i++)
		assert_prefix(f->lines[i], want[i]);
	for (int i = 0; i < 6; i++)
		assert_ptr_equal(rule(f, comments[i]), f->lines[8 + i]);
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
	assert_int_equal(n, 15);
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

/* Reload: the chain is flushed and refilled in one batch, the quarantine
 * set is not touched, counters carry over. */
static void test_generation_batch(void **state)
{
	struct fixture *f = *state;
	struct ijnft_config c = bridge_cfg();
	struct ijnft_counters start = {
		.packets = { 1, 2, 3, 4, 5 },
		.bytes = { 10, 20, 30, 40, 50 },
	};

	c.generation = 6;
	assert_int_equal(ijnft_build_generation(&c, &start, 7, f->buf, BUF_LEN,
						&f->used), 0);
	describe(f);
	assert_int_equal(f->n, 11);
	assert_string_equal(f->lines[0], "begin");
	assert_string_equal(f->lines[1], "delete rule inet iotjail forward");
	assert_string_equal(f->lines[2], "delete element lan_ifs table iotjail "
					 "(all elements)");
	assert_string_equal(f->lines[3], "add element lan_ifs table iotjail "
					 "elem \"br0\"");
	assert_string_equal(f->lines[10], "end");
	assert_contains(rule(f, "quarantine"), "[ counter pkts 1 bytes 10 ]");
	assert_contains(rule(f, "deny"), "[ cmp eq reg 1 0x00000602 ] "
					 "[ counter pkts 2 bytes 20 ]");
	assert_contains(rule(f, "allow"), "[ cmp eq reg 1 0x00000601 ] "
					  "[ counter pkts 3 bytes 30 ]");
	assert_contains(rule(f, "budget"), "[ counter pkts 4 bytes 40 ]");
	assert_contains(rule(f, "queue"), "[ counter pkts 5 bytes 50 ]");
	for (int i = 0; i < f->n; i++) {
		assert_null(strstr(f->lines[i], "table iotjail inet"));
		assert_null(strstr(f->lines[i], "quarantine table"));
	}
	/* Without start counters they begin at zero. */
	assert_int_equal(ijnft_build_generation(&c, NULL, 7, f->buf, BUF_LEN,
						&f->used), 0);
	describe(f);
	assert_contains(rule(f, "queue"), "[ counter pkts 0 bytes 0 ]");
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
		cmocka_unit_test_setup_teardown(test_quarantine_batch, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_describe_bad, setup, teardown),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("nft", tests, NULL, NULL);
}
