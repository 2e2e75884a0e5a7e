/* test_nfq.c - NFLOG packet messages as the observer reads them: every
 * field taken from its attribute, and what is malformed refused or taken as
 * absent, never read past its end. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "daemon/nfq.h"

static uint8_t buf[4096] __attribute__((aligned(8)));

static const uint8_t ip[20] = { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0,
				192, 168, 50, 50, 192, 168, 50, 3 };

/* An NFLOG packet message with a payload; the caller adds attributes. */
static struct nlmsghdr *msg(uint16_t type)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *g;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_INET;
	g->version = NFNETLINK_V0;
	g->res_id = htons(2);
	return nlh;
}

#define LOG_PACKET ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET)

static void test_whole_message(void **state)
{
	struct nfulnl_msg_packet_hdr ph = { htons(0x0800), 2, 0 };
	struct nfulnl_msg_packet_hw hw = { htons(6), 0,
					   { 2, 0, 0, 0, 0x50, 0x50, 0, 0 } };
	struct nlmsghdr *nlh = msg(LOG_PACKET);
	struct nfqueue_packet p;

	(void)state;
	mnl_attr_put(nlh, NFULA_PACKET_HDR, sizeof(ph), &ph);
	mnl_attr_put_u32(nlh, NFULA_MARK, htonl(0x1234));
	mnl_attr_put_u32(nlh, NFULA_IFINDEX_INDEV, htonl(3));
	mnl_attr_put_u32(nlh, NFULA_IFINDEX_OUTDEV, htonl(3));
	mnl_attr_put_u32(nlh, NFULA_IFINDEX_PHYSINDEV, htonl(5));
	mnl_attr_put_u32(nlh, NFULA_IFINDEX_PHYSOUTDEV, htonl(6));
	mnl_attr_put(nlh, NFULA_HWADDR, sizeof(hw), &hw);
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(ip), ip);
	mnl_attr_put_strz(nlh, NFULA_PREFIX, "");	/* ignored */
	assert_int_equal(nfqueue_parse_log(buf, nlh->nlmsg_len, &p), 0);
	assert_int_equal(p.id, 0);
	assert_int_equal(p.hw_proto, 0x0800);
	assert_int_equal(p.mark, 0x1234);
	assert_int_equal(p.indev, 3);
	assert_int_equal(p.outdev, 3);
	assert_int_equal(p.physindev, 5);
	assert_int_equal(p.physoutdev, 6);
	assert_true(p.has_mac);
	assert_memory_equal(p.mac, hw.hw_addr, 6);
	assert_int_equal(p.len, sizeof(ip));
	assert_int_equal(p.orig_len, sizeof(ip));
	assert_memory_equal(p.data, ip, sizeof(ip));
	assert_false(p.gso);
	assert_false(p.ct_reply);
}

static void test_refused(void **state)
{
	struct nlmsghdr *nlh;
	struct nfqueue_packet p;

	(void)state;
	/* no payload */
	nlh = msg(LOG_PACKET);
	mnl_attr_put_u32(nlh, NFULA_MARK, htonl(1));
	assert_int_equal(nfqueue_parse_log(buf, nlh->nlmsg_len, &p), -EINVAL);
	/* not a packet: a queue's packet message, a log config message */
	nlh = msg((NFNL_SUBSYS_QUEUE << 8) | 0);
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(ip), ip);
	assert_int_equal(nfqueue_parse_log(buf, nlh->nlmsg_len, &p), -EINVAL);
	nlh = msg((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG);
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(ip), ip);
	assert_int_equal(nfqueue_parse_log(buf, nlh->nlmsg_len, &p), -EINVAL);
	/* cut short: fewer bytes than the header says, or than a header */
	nlh = msg(LOG_PACKET);
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(ip), ip);
	assert_int_equal(nfqueue_parse_log(buf, nlh->nlmsg_len - 1, &p), -EINVAL);
	assert_int_equal(nfqueue_parse_log(buf, 8, &p), -EINVAL);
	/* a header without the nfgenmsg */
	nlh->nlmsg_len = sizeof(*nlh);
	assert_int_equal(nfqueue_parse_log(buf, nlh->nlmsg_len, &p), -EINVAL);
}

/* Numbers of the wrong size and odd hardware addresses are not there; an
 * attribute that claims more than the message holds ends the walk. */
static void test_malformed_attributes(void **state)
{
	struct nfulnl_msg_packet_hw hw = { htons(8), 0, { 1, 2, 3, 4, 5, 6, 7, 8 } };
	uint16_t two = 7;
	struct nlmsghdr *nlh = msg(LOG_PACKET);
	struct nfqueue_packet p;
	struct nlattr *a;

	(void)state;
	mnl_attr_put(nlh, NFULA_MARK, sizeof(two), &two);
	mnl_attr_put(nlh, NFULA_IFINDEX_PHYSINDEV, sizeof(two), &two);
	mnl_attr_put(nlh, NFULA_HWADDR, sizeof(hw), &hw);
	mnl_attr_put(nlh, NFULA_PACKET_HDR, 1, &two);	/* too short: ignored */
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(ip), ip);
	assert_int_equal(nfqueue_parse_log(buf, nlh->nlmsg_len, &p), 0);
	assert_int_equal(p.mark, 0);
	assert_int_equal(p.physindev, 0);
	assert_false(p.has_mac);
	assert_int_equal(p.hw_proto, 0);
	assert_int_equal(p.len, sizeof(ip));

	/* The payload's length runs past the message: not read, so no
	 * payload. */
	nlh = msg(LOG_PACKET);
	a = (struct nlattr *)mnl_nlmsg_get_payload_tail(nlh);
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(ip), ip);
	a->nla_len = (uint16_t)(a->nla_len + 64);
	assert_int_equal(nfqueue_parse_log(buf, nlh->nlmsg_len, &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_message),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_malformed_attributes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
