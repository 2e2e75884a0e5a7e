/*
 * nftables/nft.c: builds and applies the `inet iotjail` ruleset with
 * libnftnl + libmnl.  The only file of iotjail that includes their headers.
 *
 * Every operation is one nfnetlink batch (BEGIN, messages, END) that the
 * kernel applies atomically or not at all.  Every message asks for an ACK;
 * the ACKs are matched to messages by sequence number, so a failure names
 * the message that caused it.  Batches are first built into a buffer by pure
 * functions (also public, for kernel-free tests), then sent.
 */
#include "nftables/nft.h"

#include <endian.h>
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_arp.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

/* nftables' datatype ids (nftables include/datatype.h), stored in the set
 * so that `nft list` prints keys as MAC addresses and interface names. */
#define NFT_TYPE_ETHERADDR	9
#define NFT_TYPE_IFNAME		41
/* ... and its enum byteorder, for the sets' key byte order user data. */
#define NFT_BYTEORDER_HOST	1
#define NFT_BYTEORDER_BIG	2

#define SET_ID_QUARANTINE	1
#define SET_ID_LAN		2

#define PROBE_TABLE		"iotjail_probe"
#define PROBE_CHAIN		"probe"

/* One message never exceeds this: inputs are bounded by validation (at most
 * 8 interface names, fixed rules), the largest message is ~1 KiB. */
#define MSG_MAX			4096
#define BATCH_MAX_MSGS		32
#define BUF_SIZE		32768
#define ACK_TIMEOUT_MS		2000

/* A batch under construction in a caller's buffer.  what[] names each
 * message (after BEGIN) for error reports; strings are static. */
struct batch {
	char *buf;
	size_t cap;
	size_t used;
	uint32_t seq0;		/* BEGIN's sequence number */
	unsigned int n;		/* messages between BEGIN and END */
	const char *what[BATCH_MAX_MSGS];
	/* filled while reading ACKs */
	int err[BATCH_MAX_MSGS];
	bool acked[BATCH_MAX_MSGS];
};

struct ijnft {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	enum ijnft_queue_kind probed;	/* AUTO until probed */
	const char *err_what;
	char *tx;
	char *rx;
};

static const char *const ctr_names[__IJNFT_CTR_MAX] = {
	[IJNFT_CTR_QUARANTINE] = "quarantine",
	[IJNFT_CTR_DENY] = "deny",
	[IJNFT_CTR_REJECT] = "reject",
	[IJNFT_CTR_ALLOW] = "allow",
	[IJNFT_CTR_BUDGET] = "budget",
	[IJNFT_CTR_QUEUED] = "queue",
	[IJNFT_CTR_ACK] = "ack",
	[IJNFT_CTR_TRUSTED] = "trusted",
	[IJNFT_CTR_OBSERVED] = "observed",
	[IJNFT_CTR_MARK_ALLOW] = "mark allow",
	[IJNFT_CTR_MARK_DENY] = "mark deny",
	[IJNFT_CTR_MARK_REJECT] = "mark reject",
	[IJNFT_CTR_MARK_PASS] = "mark pass",
};

const char *ijnft_ctr_name(enum ijnft_ctr c)
{
	if ((unsigned int)c >= __IJNFT_CTR_MAX)
		return NULL;
	return ctr_names[c];
}

/* --- configuration -------------------------------------------------------- */

static bool ifname_valid(const char *name)
{
	size_t len = strnlen(name, IJNFT_IFNAMSIZ);

	/* The kernel's dev_valid_name(): what `ip link` would refuse can never
	 * match, so it is a configuration mistake worth reporting. */
	if (len == 0 || len == IJNFT_IFNAMSIZ)
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == ':' ||
		    name[i] == ' ' || (name[i] >= '\t' && name[i] <= '\r'))
			return false;
	return true;
}

int ijnft_config_check(const struct ijnft_config *cfg, const char **why)
{
	const char *msg = NULL;

	if (!cfg)
		msg = "no configuration";
	else if ((unsigned int)cfg->mode >= __IJNFT_MODE_MAX)
		msg = "unknown mode";
	else if (cfg->n_ifnames == 0)
		msg = cfg->mode == IJNFT_MODE_BRIDGE ? "no bridge name" :
						       "no LAN interface";
	else if (cfg->n_ifnames > IJNFT_MAX_IFNAMES)
		msg = "too many LAN interfaces (at most 8)";
	else if (cfg->mode == IJNFT_MODE_BRIDGE && cfg->n_ifnames != 1)
		msg = "bridge mode takes exactly one bridge name";
	else if (cfg->queue_count == 0)
		msg = "queue count is 0";
	else if ((uint32_t)cfg->queue_first + cfg->queue_count - 1 > 0xffff)
		msg = "queue range goes past 65535";
	else if (cfg->inspect_packets == 0)
		msg = "inspection budget is 0 packets";
	else if ((unsigned int)cfg->queue_kind >= __IJNFT_QUEUE_MAX)
		msg = "unknown queue kind";
	else if (cfg->n_trusted > IJNFT_MAX_TRUSTED || (cfg->n_trusted && !cfg->trusted))
		msg = "too many trusted addresses (at most 64)";
	else if (cfg->n_lan > IJNFT_MAX_LAN || (cfg->n_lan && !cfg->lan))
		msg = "too many LAN prefixes (at most 16)";
	for (unsigned int i = 0; !msg && i < cfg->n_trusted; i++)
		if (cfg->trusted[i].family != AF_INET && cfg->trusted[i].family != AF_INET6)
			msg = "a trusted address of an unknown family";
	for (unsigned int i = 0; !msg && i < cfg->n_lan; i++)
		if ((cfg->lan[i].family != AF_INET && cfg->lan[i].family != AF_INET6) ||
		    cfg->lan[i].len > (cfg->lan[i].family == AF_INET ? 32 : 128))
			msg = "a LAN prefix of an unknown family or length";
	for (unsigned int i = 0; !msg && i < cfg->n_ifnames; i++)
		if (!ifname_valid(cfg->ifnames[i]))
			msg = cfg->ifnames[i][0] ? "invalid interface name" :
						   "empty interface name";
	if (why)
		*why = msg;
	return msg ? -EINVAL : 0;
}

/* --- batch building -------------------------------------------------------- */

static void batch_init(struct batch *b, void *buf, size_t cap, uint32_t seq)
{
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = cap;
	b->seq0 = seq;
}

/* Scratch space for one message, aligned for struct nlmsghdr. */
union msgbuf {
	char buf[MSG_MAX];
	struct nlmsghdr align;
};

static int batch_copy(struct batch *b, const struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_len > MSG_MAX)
		return -EMSGSIZE;	/* cannot happen with valid input */
	if (b->cap - b->used < nlh->nlmsg_len)
		return -ENOSPC;
	memcpy(b->buf + b->used, nlh, nlh->nlmsg_len);
	b->used += NLMSG_ALIGN(nlh->nlmsg_len);
	if (b->used > b->cap)
		b->used = b->cap;
	return 0;
}

static int batch_begin(struct batch *b)
{
	union msgbuf m;

	return batch_copy(b, nftnl_batch_begin(m.buf, b->seq0));
}

static int batch_end(struct batch *b)
{
	union msgbuf m;

	return batch_copy(b, nftnl_batch_end(m.buf, b->seq0 + b->n + 1));
}

/* Starts the next message in m; its ACK will be reported as `what`. */
static struct nlmsghdr *msg_start(struct batch *b, union msgbuf *m,
				  uint16_t type, uint16_t flags,
				  const char *what)
{
	if (b->n >= BATCH_MAX_MSGS)
		return NULL;
	b->what[b->n] = what;
	return nftnl_nlmsg_build_hdr(m->buf, type, NFPROTO_INET,
				     flags | NLM_F_ACK, b->seq0 + b->n + 1);
}

static int msg_finish(struct batch *b, struct nlmsghdr *nlh)
{
	int ret = batch_copy(b, nlh);

	if (ret == 0)
		b->n++;
	return ret;
}

static int put_table(struct batch *b, uint16_t type, const char *name,
		     const char *what)
{
	union msgbuf m;
	struct nlmsghdr *nlh;
	struct nftnl_table *t = nftnl_table_alloc();
	uint16_t flags = type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0;

	if (!t)
		return -ENOMEM;
	if (nftnl_table_set_str(t, NFTNL_TABLE_NAME, name) < 0) {
		nftnl_table_free(t);
		return -ENOMEM;
	}
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nlh = msg_start(b, &m, type, flags, what);
	if (!nlh) {
		nftnl_table_free(t);
		return -E2BIG;
	}
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	return msg_finish(b, nlh);
}

static struct nftnl_set *set_new(const char *name, uint32_t id)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, IJNFT_TABLE) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, name) < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	/* The id lets rules and elements in the same batch name a set that
	 * does not exist yet; 0 means "look it up by name only". */
	if (id)
		nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	return s;
}

static int put_set(struct batch *b, const char *name, uint32_t id,
		   uint32_t key_type, uint32_t key_len, uint32_t key_order,
		   uint32_t set_flags, const char *what)
{
	union msgbuf m;
	struct nlmsghdr *nlh;
	struct nftnl_set *s = set_new(name, id);
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(16);
	bool oom = !s || !u;

	/* nft reads the key byte order from the set's user data; without it
	 * `nft list` shows interface names as "" (the kernel ignores it). */
	if (!oom && (!nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER,
					  key_order) ||
		     nftnl_set_set_data(s, NFTNL_SET_USERDATA,
					nftnl_udata_buf_data(u),
					nftnl_udata_buf_len(u)) < 0))
		oom = true;
	nftnl_udata_buf_free(u);
	if (oom) {
		nftnl_set_free(s);
		return -ENOMEM;
	}
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, set_flags);
	nlh = msg_start(b, &m, NFT_MSG_NEWSET, NLM_F_CREATE, what);
	if (!nlh) {
		nftnl_set_free(s);
		return -E2BIG;
	}
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return msg_finish(b, nlh);
}

/*
 * NEWSETELEM or DELSETELEM with n keys of key_len bytes each.  n == 0 with
 * DELSETELEM flushes the set.  timeout_ms 0: no timeout attribute.
 *
 * The element list is nested by hand: libnftnl 1.2's own builder numbers
 * the nested elements 1, 2, 3... which the kernel ignores but its own
 * parser (and so ijnft_batch_describe()) rejects past the first; every
 * element here is NFTA_LIST_ELEM, as the UAPI header documents.
 */
static int put_elems(struct batch *b, uint16_t type, const char *set,
		     uint32_t set_id, const void *keys, uint32_t key_len,
		     unsigned int n, uint64_t timeout_ms, const char *what)
{
	union msgbuf m;
	struct nlmsghdr *nlh;
	struct nlattr *list;

	nlh = msg_start(b, &m, type,
			type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0, what);
	if (!nlh)
		return -E2BIG;
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, IJNFT_TABLE);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	if (set_id)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(set_id));
	if (n == 0)
		return msg_finish(b, nlh);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	for (unsigned int i = 0; i < n; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		struct nlattr *elem;

		if (!e)
			return -ENOMEM;
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY,
				   (const char *)keys + i * key_len, key_len);
		if (timeout_ms)
			nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT,
					       timeout_ms);
		elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
		nftnl_set_elem_nlmsg_build_payload(nlh, e);
		mnl_attr_nest_end(nlh, elem);
		nftnl_set_elem_free(e);
	}
	mnl_attr_nest_end(nlh, list);
	return msg_finish(b, nlh);
}

/* A base chain on the forward hook at PRIO, or a regular chain when hooked
 * is false. */
static int put_chain(struct batch *b, const char *table, const char *name,
		     bool hooked, int prio, const char *what)
{
	union msgbuf m;
	struct nlmsghdr *nlh;
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c)
		return -ENOMEM;
	if (nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table) < 0 ||
	    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name) < 0 ||
	    (hooked && nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter") < 0)) {
		nftnl_chain_free(c);
		return -ENOMEM;
	}
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (hooked) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_FORWARD);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		/* Policy accept: the jail only ever removes traffic it has a
		 * reason to remove; everything else is other chains' business. */
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = msg_start(b, &m, NFT_MSG_NEWCHAIN, NLM_F_CREATE, what);
	if (!nlh) {
		nftnl_chain_free(c);
		return -E2BIG;
	}
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	return msg_finish(b, nlh);
}

/* DELRULE naming only the chain: deletes all its rules (`nft flush chain`). */
static int put_flush_chain(struct batch *b, const char *chain,
			   const char *what)
{
	union msgbuf m;
	struct nlmsghdr *nlh;
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return -ENOMEM;
	if (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, IJNFT_TABLE) < 0 ||
	    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain) < 0) {
		nftnl_rule_free(r);
		return -ENOMEM;
	}
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nlh = msg_start(b, &m, NFT_MSG_DELRULE, 0, what);
	if (!nlh) {
		nftnl_rule_free(r);
		return -E2BIG;
	}
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	return msg_finish(b, nlh);
}

/* --- rules ------------------------------------------------------------------ */

/* Collects expressions; any allocation failure is remembered and reported
 * once by rule_put(), which keeps the rule builders straight-line. */
struct rule_builder {
	struct nftnl_rule *r;
	bool oom;
};

static struct nftnl_expr *rb_add(struct rule_builder *rb, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e) {
		rb->oom = true;
		return NULL;
	}
	nftnl_rule_add_expr(rb->r, e);	/* the rule owns e */
	return e;
}

static void rb_meta(struct rule_builder *rb, uint32_t key)
{
	struct nftnl_expr *e = rb_add(rb, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void rb_ct(struct rule_builder *rb, uint32_t key)
{
	struct nftnl_expr *e = rb_add(rb, "ct");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
}

static void rb_cmp(struct rule_builder *rb, uint32_t op, const void *data,
		   uint32_t len)
{
	struct nftnl_expr *e = rb_add(rb, "cmp");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

/* reg1 = (reg1 & mask) ^ xor over len bytes (mask and xor as the register
 * holds them: host order for marks). */
static void rb_bitwise(struct rule_builder *rb, const void *mask,
		       const void *xor, uint32_t len)
{
	struct nftnl_expr *e = rb_add(rb, "bitwise");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
}

/* reg1 = (reg1 & mask) ^ xor on a 32-bit register (host byte order, like
 * ct mark and meta mark). */
static void rb_maskxor32(struct rule_builder *rb, uint32_t mask, uint32_t xor)
{
	rb_bitwise(rb, &mask, &xor, sizeof(mask));
}

static void rb_and32(struct rule_builder *rb, uint32_t mask)
{
	rb_maskxor32(rb, mask, 0);
}

/* reg1 &= mask on a 1-byte register. */
static void rb_and8(struct rule_builder *rb, uint8_t mask)
{
	uint8_t zero = 0;

	rb_bitwise(rb, &mask, &zero, 1);
}

/* reg1 (host order, len bytes) to network order, so cmp's memcmp orders
 * numbers. */
static void rb_hton(struct rule_builder *rb, uint32_t len)
{
	struct nftnl_expr *e = rb_add(rb, "byteorder");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, len);
}

static void rb_payload(struct rule_builder *rb, uint32_t base,
		       uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = rb_add(rb, "payload");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

/* ct mark = reg1 */
static void rb_ct_set_mark(struct rule_builder *rb)
{
	struct nftnl_expr *e = rb_add(rb, "ct");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
}

/* meta mark = reg1 */
static void rb_meta_set_mark(struct rule_builder *rb)
{
	struct nftnl_expr *e = rb_add(rb, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
}

static void rb_lookup(struct rule_builder *rb, const char *set,
		      uint32_t set_id, bool inverted)
{
	struct nftnl_expr *e = rb_add(rb, "lookup");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	if (nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set) < 0)
		rb->oom = true;
	if (set_id)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	if (inverted)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS,
				   NFT_LOOKUP_F_INV);
}

static void rb_counter(struct rule_builder *rb,
		       const struct ijnft_counters *start, enum ijnft_ctr c)
{
	struct nftnl_expr *e = rb_add(rb, "counter");

	if (!e || !start)
		return;
	nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, start->packets[c]);
	nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, start->bytes[c]);
}

/* NFLOG: a copy of the packet to group, which goes on (not terminal). */
static void rb_log(struct rule_builder *rb, uint16_t group)
{
	struct nftnl_expr *e = rb_add(rb, "log");

	if (!e)
		return;
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, IJNFT_OBSERVE_SNAPLEN);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD, IJNFT_OBSERVE_QTHRESHOLD);
}

static void rb_verdict(struct rule_builder *rb, int verdict)
{
	struct nftnl_expr *e = rb_add(rb, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
}

/*
 * Queue to first .. first+count-1.  Without the CPU-fanout flag both kinds
 * pick the queue by a hash of the address pair (ordered, so both directions
 * agree) and the L4 protocol: every packet of a flow reaches one worker.
 * `fanout` in nft syntax would mean CPU fanout, which is not flow-symmetric.
 */
static void rb_queue(struct rule_builder *rb, const struct ijnft_config *cfg)
{
	struct nftnl_expr *e;

	if (cfg->queue_kind == IJNFT_QUEUE_NATIVE) {
		e = rb_add(rb, "queue");
		if (!e)
			return;
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, cfg->queue_first);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, cfg->queue_count);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS,
				   cfg->fail_closed ? 0 : NFT_QUEUE_FLAG_BYPASS);
	} else {
		/* What iptables-nft sends for `-j NFQUEUE --queue-balance
		 * A:B --queue-bypass`: the xt target through nft_compat, its
		 * info padded to XT_ALIGN like an xt_entry_target payload.
		 * libnftnl takes ownership of the info buffer (and frees it). */
		size_t len = XT_ALIGN(sizeof(struct xt_NFQ_info_v3));
		struct xt_NFQ_info_v3 *info = calloc(1, len);

		e = rb_add(rb, "target");
		if (!e || !info) {
			free(info);
			rb->oom = true;
			return;
		}
		info->queuenum = cfg->queue_first;
		info->queues_total = cfg->queue_count;
		info->flags = cfg->fail_closed ? 0 : NFQ_FLAG_BYPASS;
		if (nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE") < 0)
			rb->oom = true;
		nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
	}
}

/* reject with tcp reset, or with icmpx admin-prohibited (ICMP or ICMPv6
 * by the packet's family).  The kernel sends neither in answer to a reset
 * or an ICMP error. */
static void rb_reject(struct rule_builder *rb, bool tcp_reset)
{
	struct nftnl_expr *e = rb_add(rb, "reject");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE,
			   tcp_reset ? NFT_REJECT_TCP_RST
				     : NFT_REJECT_ICMPX_UNREACH);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE,
			  tcp_reset ? 0 : NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
}

static int rb_start(struct rule_builder *rb, const char *table,
		    const char *chain)
{
	rb->oom = false;
	rb->r = nftnl_rule_alloc();
	if (!rb->r)
		return -ENOMEM;
	if (nftnl_rule_set_str(rb->r, NFTNL_RULE_TABLE, table) < 0 ||
	    nftnl_rule_set_str(rb->r, NFTNL_RULE_CHAIN, chain) < 0)
		rb->oom = true;
	nftnl_rule_set_u32(rb->r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return 0;
}

/* Appends the rule with `comment` (shown by `nft list`, and how
 * ijnft_counters() finds its rules) and frees it. */
static int rule_put(struct batch *b, struct rule_builder *rb,
		    const char *comment, const char *what)
{
	union msgbuf m;
	struct nlmsghdr *nlh;
	int ret = 0;

	if (comment && !rb->oom) {
		struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(64);

		if (!u || !nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT,
						comment) ||
		    nftnl_rule_set_data(rb->r, NFTNL_RULE_USERDATA,
					nftnl_udata_buf_data(u),
					nftnl_udata_buf_len(u)) < 0)
			rb->oom = true;
		nftnl_udata_buf_free(u);
	}
	if (rb->oom)
		ret = -ENOMEM;
	else if (!(nlh = msg_start(b, &m, NFT_MSG_NEWRULE,
				   NLM_F_CREATE | NLM_F_APPEND, what)))
		ret = -E2BIG;
	else {
		nftnl_rule_nlmsg_build_payload(nlh, rb->r);
		ret = msg_finish(b, nlh);
	}
	nftnl_rule_free(rb->r);
	rb->r = NULL;
	return ret;
}

/*
 * Load the ct mark (ct) or the packet mark, keep `mask`, compare with
 * `value`: the start of every rule that acts on a verdict.
 */
static void rb_mark_is(struct rule_builder *rb, bool ct, uint32_t mask,
		       uint32_t value)
{
	if (ct)
		rb_ct(rb, NFT_CT_MARK);
	else
		rb_meta(rb, NFT_META_MARK);
	rb_and32(rb, mask);
	rb_cmp(rb, NFT_CMP_EQ, &value, sizeof(value));
}

/* ct mark & 0xff03 == gen<<8|V counter drop (deny) / accept (allow). */
static int put_verdict_rule(struct batch *b, struct rule_builder *rb,
			    const struct ijnft_counters *start, uint8_t gen,
			    enum ijnft_verdict v)
{
	bool deny = v == IJNFT_VERDICT_DENY;
	int ret;

	if ((ret = rb_start(rb, IJNFT_TABLE, IJNFT_CHAIN)))
		return ret;
	rb_mark_is(rb, true, IJNFT_MARK_MASK, ijnft_ct_mark(gen, v));
	rb_counter(rb, start, deny ? IJNFT_CTR_DENY : IJNFT_CTR_ALLOW);
	rb_verdict(rb, deny ? NF_DROP : NF_ACCEPT);
	return rule_put(b, rb, deny ? "deny" : "allow",
			deny ? "add rule deny" : "add rule allow");
}

/*
 * The two rules of a reject verdict, both carrying counter `c`:
 *   <mark> & mask == value meta l4proto tcp counter reject with tcp reset
 *   <mark> & mask == value counter reject with icmpx admin-prohibited
 * Counters carried over a reinstall go to the first, so their sum stays.
 */
static int put_reject_rules(struct batch *b, const char *chain, bool ct,
			    uint32_t mask, uint32_t value,
			    const struct ijnft_counters *start,
			    enum ijnft_ctr c)
{
	uint8_t tcp = IPPROTO_TCP;
	struct rule_builder rb;
	int ret;

	for (int i = 0; i < 2; i++) {
		bool tcp_reset = i == 0;

		if ((ret = rb_start(&rb, IJNFT_TABLE, chain)))
			return ret;
		rb_mark_is(&rb, ct, mask, value);
		if (tcp_reset) {
			rb_meta(&rb, NFT_META_L4PROTO);
			rb_cmp(&rb, NFT_CMP_EQ, &tcp, sizeof(tcp));
		}
		rb_counter(&rb, tcp_reset ? start : NULL, c);
		rb_reject(&rb, tcp_reset);
		if ((ret = rule_put(b, &rb, ctr_names[c],
				    tcp_reset ? "add rule reject tcp"
					      : "add rule reject")))
			return ret;
	}
	return 0;
}

#define TCP_FLAG_ACK	0x10
#define TCP_FLAGS_FSRPA	0x1f	/* FIN SYN RST PSH ACK */
/* IPv6 header + TCP header + 40 bytes of options. */
#define ACK_MAX_LEN	100

/*
 * The verdict chain (docs/nftables.md): the daemon's verdict arrives in the
 * packet mark of the packet it accepted; copy it into the conntrack mark
 * and clear it from the packet.
 *   mark allow   meta mark & 0xff03 == gen<<8|1
 *                  ct mark set ct mark & ~0xff03 | gen<<8|1
 *                  meta mark set meta mark & ~0xff03 counter accept
 *   (copy)       meta mark & 0xff03 == gen<<8|2
 *                  ct mark set ct mark & ~0xff03 | gen<<8|2
 *   (copy)       meta mark & 0xff03 == gen<<8|3
 *                  ct mark set ct mark & ~0xff03 | gen<<8|3
 *   mark pass    meta mark & 0x7 == 0x7
 *                  meta mark set meta mark & ~0xff07 counter accept
 *   mark deny    meta mark & 0x3 == 2 counter drop
 *   mark reject  meta mark & 0x3 == 3 meta l4proto tcp counter
 *                  reject with tcp reset
 *   mark reject  meta mark & 0x3 == 3 counter
 *                  reject with icmpx admin-prohibited
 * The rules after the copies act on any generation: a verdict given while
 * a reload was under way still refuses (or passes) its packet.
 */
static int put_verdict_chain_rules(struct batch *b,
				   const struct ijnft_config *cfg,
				   const struct ijnft_counters *start)
{
	static const enum ijnft_verdict vs[3] = { IJNFT_VERDICT_ALLOW,
						  IJNFT_VERDICT_DENY,
						  IJNFT_VERDICT_REJECT };
	const uint32_t pass = IJNFT_MARK_PASS | IJNFT_VERDICT_REJECT;
	struct rule_builder rb;
	unsigned int i;
	int ret;

	for (i = 0; i < 3; i++) {
		uint32_t mark = ijnft_ct_mark(cfg->generation, vs[i]);
		bool allow = vs[i] == IJNFT_VERDICT_ALLOW;

		if ((ret = rb_start(&rb, IJNFT_TABLE, IJNFT_CHAIN_VERDICT)))
			return ret;
		rb_mark_is(&rb, false, IJNFT_MARK_MASK, mark);
		rb_ct(&rb, NFT_CT_MARK);
		rb_maskxor32(&rb, ~IJNFT_MARK_MASK, mark);
		rb_ct_set_mark(&rb);
		if (allow) {
			rb_meta(&rb, NFT_META_MARK);
			rb_maskxor32(&rb, ~IJNFT_MARK_MASK, 0);
			rb_meta_set_mark(&rb);
			rb_counter(&rb, start, IJNFT_CTR_MARK_ALLOW);
			rb_verdict(&rb, NF_ACCEPT);
		}
		if ((ret = rule_put(b, &rb, allow ? "mark allow" : NULL,
				    allow ? "add rule mark allow"
					  : "add rule copy verdict")))
			return ret;
	}

	if ((ret = rb_start(&rb, IJNFT_TABLE, IJNFT_CHAIN_VERDICT)))
		return ret;
	rb_mark_is(&rb, false, IJNFT_MARK_VERDICT_MASK | IJNFT_MARK_PASS, pass);
	rb_meta(&rb, NFT_META_MARK);
	rb_maskxor32(&rb, ~IJNFT_PKT_MARK_MASK, 0);
	rb_meta_set_mark(&rb);
	rb_counter(&rb, start, IJNFT_CTR_MARK_PASS);
	rb_verdict(&rb, NF_ACCEPT);
	if ((ret = rule_put(b, &rb, "mark pass", "add rule pass reset")))
		return ret;

	if ((ret = rb_start(&rb, IJNFT_TABLE, IJNFT_CHAIN_VERDICT)))
		return ret;
	rb_mark_is(&rb, false, IJNFT_MARK_VERDICT_MASK, IJNFT_VERDICT_DENY);
	rb_counter(&rb, start, IJNFT_CTR_MARK_DENY);
	rb_verdict(&rb, NF_DROP);
	if ((ret = rule_put(b, &rb, "mark deny", "add rule drop denied")))
		return ret;
	return put_reject_rules(b, IJNFT_CHAIN_VERDICT, false,
				IJNFT_MARK_VERDICT_MASK, IJNFT_VERDICT_REJECT,
				start, IJNFT_CTR_MARK_REJECT);
}

/*
 * One rule per trusted MAC and address (docs/nftables.md):
 *   trusted  meta nfproto ipv4 iiftype ether ether saddr M ip saddr A
 *              ip daddr & mask(P) != P ...  (for every IPv4 LAN prefix P)
 *              ct mark set ct mark & ~0xff03 | gen<<8|1 counter accept
 * (ip6 alike); an observed entry's rule is `observed`, the same with
 *              log group G snaplen S queue-threshold Q
 * before the ct mark: the first packet is copied to the daemon, not held.
 * Only undecided flows get this far: the verdict goes into conntrack at the
 * flow's first packet, as the daemon's would, and the flow's later packets
 * are the allow rule's.  Carried counters go to the first rule of each
 * kind, so their sums stay.
 */
static int put_trusted_rules(struct batch *b, const struct ijnft_config *cfg,
			     const struct ijnft_counters *start)
{
	uint32_t allow = ijnft_ct_mark(cfg->generation, IJNFT_VERDICT_ALLOW);
	uint16_t ether = ARPHRD_ETHER;
	struct rule_builder rb;
	bool carried[2] = { false, false };
	int ret;

	for (unsigned int i = 0; i < cfg->n_trusted; i++) {
		const struct ijnft_trusted *t = &cfg->trusted[i];
		enum ijnft_ctr c = t->observed ? IJNFT_CTR_OBSERVED : IJNFT_CTR_TRUSTED;
		bool v6 = t->family == AF_INET6;
		uint8_t nfproto = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
		uint32_t alen = v6 ? 16 : 4;

		if ((ret = rb_start(&rb, IJNFT_TABLE, IJNFT_CHAIN)))
			return ret;
		rb_meta(&rb, NFT_META_NFPROTO);
		rb_cmp(&rb, NFT_CMP_EQ, &nfproto, sizeof(nfproto));
		rb_meta(&rb, NFT_META_IIFTYPE);
		rb_cmp(&rb, NFT_CMP_EQ, &ether, sizeof(ether));
		rb_payload(&rb, NFT_PAYLOAD_LL_HEADER, 6, 6);
		rb_cmp(&rb, NFT_CMP_EQ, t->mac, 6);
		rb_payload(&rb, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, alen);
		rb_cmp(&rb, NFT_CMP_EQ, t->addr, alen);
		for (unsigned int j = 0; j < cfg->n_lan; j++) {
			const struct ijnft_prefix *p = &cfg->lan[j];
			uint8_t mask[16] = { 0 }, zero[16] = { 0 };

			if (p->family != t->family)
				continue;
			for (unsigned int k = 0; k < p->len; k++)
				mask[k / 8] |= (uint8_t)(0x80 >> (k % 8));
			rb_payload(&rb, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 24 : 16, alen);
			rb_bitwise(&rb, mask, zero, alen);
			rb_cmp(&rb, NFT_CMP_NEQ, p->addr, alen);
		}
		if (t->observed)
			rb_log(&rb, cfg->observe_group);
		rb_ct(&rb, NFT_CT_MARK);
		rb_maskxor32(&rb, ~IJNFT_MARK_MASK, allow);
		rb_ct_set_mark(&rb);
		rb_counter(&rb, carried[t->observed] ? NULL : start, c);
		carried[t->observed] = true;
		rb_verdict(&rb, NF_ACCEPT);
		if ((ret = rule_put(b, &rb, ctr_names[c],
				    t->observed ? "add rule observed" : "add rule trusted")))
			return ret;
	}
	return 0;
}

/*
 * The forward chain, in order (docs/nftables.md):
 *   scope       iifname != @lan_ifs oifname != @lan_ifs return
 *   quarantine  ether saddr @quarantine counter drop
 *   deny        ct mark & 0xff03 == gen<<8|2 counter drop
 *   reject      ct mark & 0xff03 == gen<<8|3 meta l4proto tcp counter
 *                 reject with tcp reset
 *   reject      ct mark & 0xff03 == gen<<8|3 counter
 *                 reject with icmpx admin-prohibited
 *   allow       ct mark & 0xff03 == gen<<8|1 counter accept
 *   budget      ct mark & 0x3 == 0 ct packets > N counter accept
 *   ack         meta l4proto tcp tcp flags & 0x1f == ack meta length <= 100
 *                 counter accept
 *   trusted     (one per trusted MAC and address, see put_trusted_rules;
 *                 `observed` for observed ones)
 *   queue       counter queue num A-B [bypass]
 * then the verdict chain's rules.
 * set_id is SET_ID_* when the sets are created in the same batch, else 0.
 */
static int put_rules(struct batch *b, const struct ijnft_config *cfg,
		     const struct ijnft_counters *start, bool same_batch)
{
	struct rule_builder rb;
	uint32_t lan_id = same_batch ? SET_ID_LAN : 0;
	uint32_t q_id = same_batch ? SET_ID_QUARANTINE : 0;
	uint16_t ether = ARPHRD_ETHER;
	uint32_t undecided = IJNFT_VERDICT_UNDECIDED;
	/* nft compares with memcmp: a host-order 64-bit counter must be
	 * turned big-endian first for `>` to mean greater. */
	uint64_t budget = htobe64(cfg->inspect_packets);
	uint32_t ack_max = htonl(ACK_MAX_LEN);
	uint8_t tcp = IPPROTO_TCP, ack = TCP_FLAG_ACK;
	int ret;

	/* Traffic that neither enters nor leaves the jailed LAN is none of
	 * our business; `return` from a base chain applies its policy. */
	if ((ret = rb_start(&rb, IJNFT_TABLE, IJNFT_CHAIN)))
		return ret;
	rb_meta(&rb, NFT_META_IIFNAME);
	rb_lookup(&rb, IJNFT_SET_LAN, lan_id, true);
	rb_meta(&rb, NFT_META_OIFNAME);
	rb_lookup(&rb, IJNFT_SET_LAN, lan_id, true);
	rb_verdict(&rb, NFT_RETURN);
	if ((ret = rule_put(b, &rb, "scope", "add rule scope")))
		return ret;

	/* Quarantine first: it must win over an allow verdict.  The iiftype
	 * test is the dependency nft adds itself: only Ethernet devices have
	 * a source MAC at the link-layer offset. */
	if ((ret = rb_start(&rb, IJNFT_TABLE, IJNFT_CHAIN)))
		return ret;
	rb_meta(&rb, NFT_META_IIFTYPE);
	rb_cmp(&rb, NFT_CMP_EQ, &ether, sizeof(ether));
	rb_payload(&rb, NFT_PAYLOAD_LL_HEADER, 6, 6);
	rb_lookup(&rb, IJNFT_SET_QUARANTINE, q_id, false);
	rb_counter(&rb, start, IJNFT_CTR_QUARANTINE);
	rb_verdict(&rb, NF_DROP);
	if ((ret = rule_put(b, &rb, "quarantine", "add rule quarantine")))
		return ret;

	/* Verdicts of the current generation only; a stale generation falls
	 * through to the queue and is judged again. */
	if ((ret = put_verdict_rule(b, &rb, start, cfg->generation,
				    IJNFT_VERDICT_DENY)) ||
	    (ret = put_reject_rules(b, IJNFT_CHAIN, true, IJNFT_MARK_MASK,
				    ijnft_ct_mark(cfg->generation,
						  IJNFT_VERDICT_REJECT),
				    start, IJNFT_CTR_REJECT)) ||
	    (ret = put_verdict_rule(b, &rb, start, cfg->generation,
				    IJNFT_VERDICT_ALLOW)))
		return ret;

	/* Never-decided flows past the budget: the daemon had its chance
	 * (or is not running); stop paying for userspace round trips.  A
	 * flow with a stale verdict is not covered: it must reach the daemon
	 * once more to be re-judged.  `ct packets` counts both directions. */
	if ((ret = rb_start(&rb, IJNFT_TABLE, IJNFT_CHAIN)))
		return ret;
	rb_ct(&rb, NFT_CT_MARK);
	rb_and32(&rb, IJNFT_MARK_VERDICT_MASK);
	rb_cmp(&rb, NFT_CMP_EQ, &undecided, sizeof(undecided));
	rb_ct(&rb, NFT_CT_PKTS);
	rb_hton(&rb, 8);
	rb_cmp(&rb, NFT_CMP_GT, &budget, sizeof(budget));
	rb_counter(&rb, start, IJNFT_CTR_BUDGET);
	rb_verdict(&rb, NF_ACCEPT);
	if ((ret = rule_put(b, &rb, "budget", "add rule budget")))
		return ret;

	/* A TCP segment with only ACK set (no PSH) and at most the headers'
	 * length carries no payload a classifier reads: not worth a round
	 * trip.  Data segments without PSH are full-sized (MSS), far above
	 * ACK_MAX_LEN; nft cannot subtract header lengths to be exact. */
	if ((ret = rb_start(&rb, IJNFT_TABLE, IJNFT_CHAIN)))
		return ret;
	rb_meta(&rb, NFT_META_L4PROTO);
	rb_cmp(&rb, NFT_CMP_EQ, &tcp, sizeof(tcp));
	rb_payload(&rb, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1);
	rb_and8(&rb, TCP_FLAGS_FSRPA);
	rb_cmp(&rb, NFT_CMP_EQ, &ack, sizeof(ack));
	rb_meta(&rb, NFT_META_LEN);
	rb_hton(&rb, 4);
	rb_cmp(&rb, NFT_CMP_LTE, &ack_max, sizeof(ack_max));
	rb_counter(&rb, start, IJNFT_CTR_ACK);
	rb_verdict(&rb, NF_ACCEPT);
	if ((ret = rule_put(b, &rb, "ack", "add rule ack")))
		return ret;

	if ((ret = put_trusted_rules(b, cfg, start)))
		return ret;

	if ((ret = rb_start(&rb, IJNFT_TABLE, IJNFT_CHAIN)))
		return ret;
	rb_counter(&rb, start, IJNFT_CTR_QUEUED);
	rb_queue(&rb, cfg);
	if ((ret = rule_put(b, &rb, "queue", "add rule queue")))
		return ret;
	return put_verdict_chain_rules(b, cfg, start);
}

/* lan_ifs keys: names NUL-padded to IFNAMSIZ, as `meta iifname` loads them. */
static int put_lan_elems(struct batch *b, const struct ijnft_config *cfg,
			 uint32_t set_id)
{
	char keys[IJNFT_MAX_IFNAMES][IJNFT_IFNAMSIZ];

	memset(keys, 0, sizeof(keys));
	for (unsigned int i = 0; i < cfg->n_ifnames; i++)
		memcpy(keys[i], cfg->ifnames[i],
		       strnlen(cfg->ifnames[i], IJNFT_IFNAMSIZ - 1));
	return put_elems(b, NFT_MSG_NEWSETELEM, IJNFT_SET_LAN, set_id, keys,
			 IJNFT_IFNAMSIZ, cfg->n_ifnames, 0, "add lan_ifs elements");
}

static int build_check(const struct ijnft_config *cfg)
{
	int ret = ijnft_config_check(cfg, NULL);

	if (ret)
		return ret;
	if (cfg->queue_kind == IJNFT_QUEUE_AUTO)
		return -EINVAL;
	return 0;
}

static int build_install(struct batch *b, const struct ijnft_config *cfg)
{
	int ret;

	if ((ret = build_check(cfg)))
		return ret;
	/* Add (no-op if present), delete, add: replaces whatever a previous
	 * run left, in one transaction, and works when nothing is there. */
	if ((ret = batch_begin(b)) ||
	    (ret = put_table(b, NFT_MSG_NEWTABLE, IJNFT_TABLE, "add table")) ||
	    (ret = put_table(b, NFT_MSG_DELTABLE, IJNFT_TABLE,
			     "delete old table")) ||
	    (ret = put_table(b, NFT_MSG_NEWTABLE, IJNFT_TABLE, "add table")) ||
	    (ret = put_set(b, IJNFT_SET_QUARANTINE, SET_ID_QUARANTINE,
			   NFT_TYPE_ETHERADDR, 6, NFT_BYTEORDER_BIG,
			   NFT_SET_TIMEOUT,
			   "add set quarantine")) ||
	    (ret = put_set(b, IJNFT_SET_LAN, SET_ID_LAN, NFT_TYPE_IFNAME,
			   IJNFT_IFNAMSIZ, NFT_BYTEORDER_HOST, 0,
			   "add set lan_ifs")) ||
	    (ret = put_lan_elems(b, cfg, SET_ID_LAN)) ||
	    (ret = put_chain(b, IJNFT_TABLE, IJNFT_CHAIN, true,
			     IJNFT_PRIORITY, "add chain forward")) ||
	    (ret = put_chain(b, IJNFT_TABLE, IJNFT_CHAIN_VERDICT, true,
			     IJNFT_PRIORITY_VERDICT, "add chain verdict")) ||
	    (ret = put_rules(b, cfg, NULL, true)))
		return ret;
	return batch_end(b);
}

static int build_generation(struct batch *b, const struct ijnft_config *cfg,
			    const struct ijnft_counters *start)
{
	int ret;

	if ((ret = build_check(cfg)))
		return ret;
	if ((ret = batch_begin(b)) ||
	    (ret = put_flush_chain(b, IJNFT_CHAIN, "flush chain forward")) ||
	    (ret = put_flush_chain(b, IJNFT_CHAIN_VERDICT,
				   "flush chain verdict")) ||
	    (ret = put_elems(b, NFT_MSG_DELSETELEM, IJNFT_SET_LAN, 0, NULL, 0,
			     0, 0, "flush set lan_ifs")) ||
	    (ret = put_lan_elems(b, cfg, 0)) ||
	    (ret = put_rules(b, cfg, start, false)))
		return ret;
	return batch_end(b);
}

static int build_quarantine(struct batch *b, const uint8_t mac[6], bool add,
			    uint32_t timeout_ms)
{
	int ret;

	if (!mac)
		return -EINVAL;
	if ((ret = batch_begin(b)))
		return ret;
	if (add) {
		/* Add-if-missing, delete, add: sets the new timeout whether
		 * or not the MAC was there (re-adding an element leaves its
		 * old timeout on kernels before 6.x). */
		if ((ret = put_elems(b, NFT_MSG_NEWSETELEM,
				     IJNFT_SET_QUARANTINE, 0, mac, 6, 1, 0,
				     "add quarantine element")) ||
		    (ret = put_elems(b, NFT_MSG_DELSETELEM,
				     IJNFT_SET_QUARANTINE, 0, mac, 6, 1, 0,
				     "replace quarantine element")) ||
		    (ret = put_elems(b, NFT_MSG_NEWSETELEM,
				     IJNFT_SET_QUARANTINE, 0, mac, 6, 1,
				     timeout_ms, "add quarantine element")))
			return ret;
	} else if ((ret = put_elems(b, NFT_MSG_DELSETELEM,
				    IJNFT_SET_QUARANTINE, 0, mac, 6, 1, 0,
				    "delete quarantine element"))) {
		return ret;
	}
	return batch_end(b);
}

/*
 * Probe: scratch table, chain, a native queue rule and an xt NFQUEUE rule,
 * then the table deleted twice.  The second delete always fails (ENOENT), so
 * the kernel aborts the transaction: nothing is ever committed, yet each
 * rule's own ACK says whether the kernel could build it.
 */
static int build_probe(struct batch *b)
{
	struct ijnft_config cfg = {
		.queue_first = 0,
		.queue_count = 1,
	};
	struct rule_builder rb;
	int ret;

	if ((ret = batch_begin(b)) ||
	    (ret = put_table(b, NFT_MSG_NEWTABLE, PROBE_TABLE,
			     "add probe table")) ||
	    (ret = put_chain(b, PROBE_TABLE, PROBE_CHAIN, false, 0,
			     "add probe chain")))
		return ret;
	for (int kind = IJNFT_QUEUE_NATIVE; kind <= IJNFT_QUEUE_XT; kind++) {
		cfg.queue_kind = kind;
		if ((ret = rb_start(&rb, PROBE_TABLE, PROBE_CHAIN)))
			return ret;
		rb_queue(&rb, &cfg);
		if ((ret = rule_put(b, &rb, NULL,
				    kind == IJNFT_QUEUE_NATIVE ?
					    "probe native queue" :
					    "probe xt NFQUEUE")))
			return ret;
	}
	if ((ret = put_table(b, NFT_MSG_DELTABLE, PROBE_TABLE,
			     "delete probe table")) ||
	    (ret = put_table(b, NFT_MSG_DELTABLE, PROBE_TABLE,
			     "abort probe")))
		return ret;
	return batch_end(b);
}

/* Indexes of the probe batch's messages, in build_probe() order. */
enum { PROBE_MSG_NATIVE = 2, PROBE_MSG_XT = 3, PROBE_MSG_ABORT = 5 };

int ijnft_build_install(const struct ijnft_config *cfg, uint32_t seq,
			void *buf, size_t len, size_t *used)
{
	struct batch b;
	int ret;

	if (!buf || !used)
		return -EINVAL;
	batch_init(&b, buf, len, seq);
	ret = build_install(&b, cfg);
	*used = ret ? 0 : b.used;
	return ret;
}

int ijnft_build_generation(const struct ijnft_config *cfg,
			   const struct ijnft_counters *start, uint32_t seq,
			   void *buf, size_t len, size_t *used)
{
	struct batch b;
	int ret;

	if (!buf || !used)
		return -EINVAL;
	batch_init(&b, buf, len, seq);
	ret = build_generation(&b, cfg, start);
	*used = ret ? 0 : b.used;
	return ret;
}

int ijnft_build_quarantine(const uint8_t mac[6], bool add,
			   uint32_t timeout_ms, uint32_t seq, void *buf,
			   size_t len, size_t *used)
{
	struct batch b;
	int ret;

	if (!buf || !used)
		return -EINVAL;
	batch_init(&b, buf, len, seq);
	ret = build_quarantine(&b, mac, add, timeout_ms);
	*used = ret ? 0 : b.used;
	return ret;
}

/* --- describing a batch ------------------------------------------------------ */

struct text {
	char *out;
	size_t len;
	size_t used;
	bool full;
};

/* Appends s with each run of whitespace (libnftnl's newlines and tabs)
 * folded into one space: one message, one line. */
static void text_add(struct text *t, const char *s)
{
	for (; *s; s++) {
		bool space = *s == ' ' || *s == '\n' || *s == '\t';

		if (space && (t->used == 0 || t->out[t->used - 1] == ' ' ||
			      t->out[t->used - 1] == '\n'))
			continue;
		if (t->used + 1 >= t->len) {
			t->full = true;
			return;
		}
		t->out[t->used++] = space ? ' ' : *s;
		t->out[t->used] = '\0';
	}
}

static void text_line_end(struct text *t)
{
	while (t->used > 0 && t->out[t->used - 1] == ' ')
		t->out[--t->used] = '\0';
	if (t->used + 1 >= t->len) {
		t->full = true;
		return;
	}
	t->out[t->used++] = '\n';
	t->out[t->used] = '\0';
}

static const char *msg_op(uint16_t type)
{
	switch (type) {
	case NFT_MSG_NEWTABLE:	return "add table";
	case NFT_MSG_DELTABLE:	return "delete table";
	case NFT_MSG_NEWCHAIN:	return "add chain";
	case NFT_MSG_NEWRULE:	return "add rule";
	case NFT_MSG_DELRULE:	return "delete rule";
	case NFT_MSG_NEWSET:	return "add set";
	case NFT_MSG_NEWSETELEM: return "add element";
	case NFT_MSG_DELSETELEM: return "delete element";
	default:		return NULL;
	}
}

/* Attributes may be missing from a batch being described. */
static const char *or_unset(const char *s)
{
	return s ? s : "(unset)";
}

/* libnftnl prints an xt target by name only; the NFQUEUE info is what
 * matters (queue range, bypass), so decode it. */
static void describe_xt_info(const struct nftnl_rule *r, char *s, size_t n)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;

	while (it && (e = nftnl_expr_iter_next(it))) {
		const struct xt_NFQ_info_v3 *info;
		uint32_t len = 0;

		if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "target") ||
		    !nftnl_expr_is_set(e, NFTNL_EXPR_TG_NAME) ||
		    strcmp(or_unset(nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME)),
			   "NFQUEUE") ||
		    nftnl_expr_get_u32(e, NFTNL_EXPR_TG_REV) != 3)
			continue;
		info = nftnl_expr_get(e, NFTNL_EXPR_TG_INFO, &len);
		if (info && len >= sizeof(*info))
			snprintf(s, n, " [ NFQUEUE num %u total %u flags 0x%x ]",
				 info->queuenum, info->queues_total,
				 info->flags);
	}
	nftnl_expr_iter_destroy(it);
}

/* One key: "br0" if it is a NUL-padded name, else colon-separated hex. */
static int describe_key(const uint8_t *key, uint32_t len, char *s, size_t n)
{
	uint32_t text = 0;
	bool name = true;
	int k = 0;

	while (text < len && key[text] >= 0x21 && key[text] < 0x7f)
		text++;
	for (uint32_t i = text; i < len; i++)
		if (key[i])
			name = false;
	if (name && text > 0)
		return snprintf(s, n, "\"%.*s\"", (int)text, (const char *)key);
	for (uint32_t i = 0; i < len && (size_t)k < n; i++)
		k += snprintf(s + k, n - k, "%s%02x", i ? ":" : "", key[i]);
	return k;
}

static void describe_elems(const struct nftnl_set *st, char *s, size_t n)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(st);
	struct nftnl_set_elem *e;
	size_t k;
	int count = 0;

	snprintf(s, n, "%s table %s",
		 or_unset(nftnl_set_get_str(st, NFTNL_SET_NAME)),
		 or_unset(nftnl_set_get_str(st, NFTNL_SET_TABLE)));
	while (it && (e = nftnl_set_elems_iter_next(it))) {
		uint32_t len = 0;
		const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY,
							&len);

		k = strlen(s);
		if (k + 1 >= n)
			break;
		count++;
		k += snprintf(s + k, n - k, " elem ");
		if (key && k < n)
			k += describe_key(key, len, s + k, n - k);
		if (k < n && nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
			snprintf(s + k, n - k, " timeout %llums",
				 (unsigned long long)nftnl_set_elem_get_u64(
					 e, NFTNL_SET_ELEM_TIMEOUT));
	}
	nftnl_set_elems_iter_destroy(it);
	k = strlen(s);
	if (count == 0 && k < n)
		snprintf(s + k, n - k, " (all elements)");
}

/* libnftnl's text form of one message's object into s (size n). */
static int describe_object(const struct nlmsghdr *nlh, uint16_t type,
			   char *s, size_t n)
{
	int ret = -EINVAL;

	s[0] = '\0';
	switch (type) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE: {
		struct nftnl_table *t = nftnl_table_alloc();

		if (t && nftnl_table_nlmsg_parse(nlh, t) == 0) {
			nftnl_table_snprintf(s, n, t, NFTNL_OUTPUT_DEFAULT, 0);
			ret = 0;
		}
		nftnl_table_free(t);
		break;
	}
	case NFT_MSG_NEWCHAIN: {
		struct nftnl_chain *c = nftnl_chain_alloc();

		if (c && nftnl_chain_nlmsg_parse(nlh, c) == 0) {
			nftnl_chain_snprintf(s, n, c, NFTNL_OUTPUT_DEFAULT, 0);
			ret = 0;
		}
		nftnl_chain_free(c);
		break;
	}
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE: {
		struct nftnl_rule *r = nftnl_rule_alloc();

		if (r && nftnl_rule_nlmsg_parse(nlh, r) == 0) {
			int k = nftnl_rule_snprintf(s, n, r,
						    NFTNL_OUTPUT_DEFAULT, 0);

			if (k > 0 && (size_t)k < n)
				describe_xt_info(r, s + k, n - k);
			ret = 0;
		}
		nftnl_rule_free(r);
		break;
	}
	case NFT_MSG_NEWSET: {
		struct nftnl_set *st = nftnl_set_alloc();

		if (st && nftnl_set_nlmsg_parse(nlh, st) == 0) {
			snprintf(s, n,
				 "%s table %s key_type %u key_len %u flags 0x%x id %u",
				 or_unset(nftnl_set_get_str(st, NFTNL_SET_NAME)),
				 or_unset(nftnl_set_get_str(st, NFTNL_SET_TABLE)),
				 nftnl_set_get_u32(st, NFTNL_SET_KEY_TYPE),
				 nftnl_set_get_u32(st, NFTNL_SET_KEY_LEN),
				 nftnl_set_get_u32(st, NFTNL_SET_FLAGS),
				 nftnl_set_get_u32(st, NFTNL_SET_ID));
			ret = 0;
		}
		nftnl_set_free(st);
		break;
	}
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM: {
		struct nftnl_set *st = nftnl_set_alloc();

		if (st && nftnl_set_elems_nlmsg_parse(nlh, st) == 0) {
			describe_elems(st, s, n);
			ret = 0;
		}
		nftnl_set_free(st);
		break;
	}
	}
	return ret;
}

int ijnft_batch_describe(const void *buf, size_t len, char *out,
			 size_t outlen)
{
	const struct nlmsghdr *nlh = buf;
	struct text t = { .out = out, .len = outlen };
	int left = len > INT32_MAX ? INT32_MAX : (int)len;
	char *obj;
	int n = 0;

	if (!buf || !out || outlen == 0)
		return -EINVAL;
	out[0] = '\0';
	obj = malloc(MSG_MAX * 4);
	if (!obj)
		return -ENOMEM;
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		uint16_t type = nlh->nlmsg_type;
		const char *op;

		if (type == NFNL_MSG_BATCH_BEGIN) {
			text_add(&t, "begin");
			text_line_end(&t);
		} else if (type == NFNL_MSG_BATCH_END) {
			text_add(&t, "end");
			text_line_end(&t);
		} else if (type >> 8 != NFNL_SUBSYS_NFTABLES ||
			   !(op = msg_op(type & 0xff)) ||
			   describe_object(nlh, type & 0xff, obj,
					   MSG_MAX * 4) < 0) {
			free(obj);
			return -EINVAL;
		} else {
			text_add(&t, op);
			text_add(&t, " ");
			text_add(&t, obj);
			text_line_end(&t);
		}
		n++;
	}
	free(obj);
	if (left != 0)
		return -EINVAL;	/* trailing garbage or a truncated message */
	return t.full ? -ENOSPC : n;
}

/* --- talking to the kernel ---------------------------------------------------- */

int ijnft_open(struct ijnft **out)
{
	struct ijnft *h;
	int one = 1;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->tx = malloc(BUF_SIZE);
	h->rx = malloc(BUF_SIZE);
	if (!h->tx || !h->rx) {
		ret = -ENOMEM;
		goto fail;
	}
	h->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!h->nl) {
		ret = -errno;
		goto fail;
	}
	if (mnl_socket_bind(h->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto fail;
	}
	/* Error ACKs without the failed message echoed back: keeps every ACK
	 * of a batch small enough to sit in the receive buffer together.
	 * Old kernels lack it; that only costs buffer space. */
	mnl_socket_setsockopt(h->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	h->portid = mnl_socket_get_portid(h->nl);
	h->seq = (uint32_t)time(NULL);
	h->probed = IJNFT_QUEUE_AUTO;
	*out = h;
	return 0;
fail:
	ijnft_close(h);
	return ret;
}

void ijnft_close(struct ijnft *h)
{
	if (!h)
		return;
	if (h->nl)
		mnl_socket_close(h->nl);
	free(h->tx);
	free(h->rx);
	free(h);
}

const char *ijnft_error_what(const struct ijnft *h)
{
	return h ? h->err_what : NULL;
}

static void batch_start(struct ijnft *h, struct batch *b)
{
	batch_init(b, h->tx, BUF_SIZE, h->seq);
	h->err_what = NULL;
}

/* Records the ACKs in rx[0..len) that belong to batch b. */
static void read_acks(struct ijnft *h, struct batch *b, int len,
		      unsigned int *acks)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)h->rx;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		const struct nlmsgerr *e;
		uint32_t i;

		if (nlh->nlmsg_type != NLMSG_ERROR ||
		    nlh->nlmsg_pid != h->portid ||
		    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
			continue;
		/* Sequence numbers wrap; unsigned subtraction handles it. */
		i = nlh->nlmsg_seq - b->seq0 - 1;
		if (i >= b->n || b->acked[i])
			continue;	/* a stale reply from an earlier batch */
		e = mnl_nlmsg_get_payload(nlh);
		b->acked[i] = true;
		b->err[i] = e->error;
		(*acks)++;
	}
}

/*
 * Sends batch b and collects one ACK per message.  The kernel processes a
 * batch inside sendmsg() and queues all ACKs before it returns, but a poll
 * with a timeout keeps a misbehaving kernel from hanging the daemon.  After
 * the first error, whatever else is queued is read without waiting: the
 * kernel may stop acknowledging after a fatal error.  Returns the first
 * failed message's error, with h->err_what naming it.
 */
static int batch_send(struct ijnft *h, struct batch *b)
{
	int fd = mnl_socket_get_fd(h->nl);
	unsigned int acks = 0;
	bool failed = false;

	h->seq += b->n + 2;
	if (mnl_socket_sendto(h->nl, b->buf, b->used) < 0)
		return -errno;
	while (acks < b->n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (!failed) {
			int r = poll(&p, 1, ACK_TIMEOUT_MS);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return -errno;
			if (r == 0)
				return -ETIMEDOUT;
		}
		n = recv(fd, h->rx, BUF_SIZE, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && failed)
			break;
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0)
			return -errno;
		read_acks(h, b, (int)n, &acks);
		for (unsigned int i = 0; i < b->n; i++)
			if (b->acked[i] && b->err[i])
				failed = true;
	}
	for (unsigned int i = 0; i < b->n; i++) {
		if (b->acked[i] && b->err[i]) {
			h->err_what = b->what[i];
			return b->err[i];
		}
	}
	/* Every message acknowledged and none failed; anything less means
	 * we cannot tell what the kernel did. */
	return acks == b->n ? 0 : -EPROTO;
}

int ijnft_probe_queue(struct ijnft *h, enum ijnft_queue_kind *out)
{
	struct batch b;
	int ret;

	if (!h || !out)
		return -EINVAL;
	batch_start(h, &b);
	if ((ret = build_probe(&b)))
		return ret;
	ret = batch_send(h, &b);
	/* The abort message must be the one that failed, with ENOENT, and
	 * both rules must have been answered; anything else (EPERM on the
	 * table, a missing nf_tables) is a real error. */
	if (!b.acked[PROBE_MSG_ABORT] || b.err[PROBE_MSG_ABORT] != -ENOENT ||
	    !b.acked[PROBE_MSG_NATIVE] || !b.acked[PROBE_MSG_XT]) {
		if (ret == 0 || ret == -ENOENT)
			ret = -EPROTO;
		return ret;
	}
	for (unsigned int i = 0; i < PROBE_MSG_NATIVE; i++)
		if (b.err[i]) {
			h->err_what = b.what[i];
			return b.err[i];
		}
	h->err_what = NULL;
	if (b.err[PROBE_MSG_NATIVE] == 0)
		*out = IJNFT_QUEUE_NATIVE;
	else if (b.err[PROBE_MSG_XT] == 0)
		*out = IJNFT_QUEUE_XT;
	else
		return -EOPNOTSUPP;
	h->probed = *out;
	return 0;
}

/* cfg with queue_kind resolved (probing once per handle if AUTO). */
static int resolve_kind(struct ijnft *h, const struct ijnft_config *cfg,
			struct ijnft_config *copy)
{
	int ret = ijnft_config_check(cfg, NULL);

	if (ret)
		return ret;
	*copy = *cfg;
	if (copy->queue_kind != IJNFT_QUEUE_AUTO)
		return 0;
	if (h->probed == IJNFT_QUEUE_AUTO &&
	    (ret = ijnft_probe_queue(h, &h->probed)))
		return ret;
	copy->queue_kind = h->probed;
	return 0;
}

int ijnft_install(struct ijnft *h, const struct ijnft_config *cfg)
{
	struct ijnft_config c;
	struct batch b;
	int ret;

	if (!h)
		return -EINVAL;
	if ((ret = resolve_kind(h, cfg, &c)))
		return ret;
	batch_start(h, &b);
	if ((ret = build_install(&b, &c)))
		return ret;
	return batch_send(h, &b);
}

int ijnft_set_generation(struct ijnft *h, const struct ijnft_config *cfg)
{
	struct ijnft_config c;
	struct ijnft_counters start;
	struct batch b;
	int ret;

	if (!h)
		return -EINVAL;
	if ((ret = resolve_kind(h, cfg, &c)))
		return ret;
	if ((ret = ijnft_counters(h, &start)))
		return ret;
	batch_start(h, &b);
	if ((ret = build_generation(&b, &c, &start)))
		return ret;
	return batch_send(h, &b);
}

static int quarantine(struct ijnft *h, const uint8_t mac[6], bool add,
		      uint32_t timeout_ms)
{
	struct batch b;
	int ret;

	if (!h)
		return -EINVAL;
	batch_start(h, &b);
	if ((ret = build_quarantine(&b, mac, add, timeout_ms)))
		return ret;
	return batch_send(h, &b);
}

int ijnft_quarantine_add(struct ijnft *h, const uint8_t mac[6],
			 uint32_t timeout_ms)
{
	return quarantine(h, mac, true, timeout_ms);
}

int ijnft_quarantine_del(struct ijnft *h, const uint8_t mac[6])
{
	return quarantine(h, mac, false, 0);
}

int ijnft_remove(struct ijnft *h)
{
	struct batch b;
	int ret;

	if (!h)
		return -EINVAL;
	batch_start(h, &b);
	/* Add-then-delete: succeeds whether or not the table exists, on
	 * kernels without NFT_MSG_DESTROYTABLE (before 6.3). */
	if ((ret = batch_begin(&b)) ||
	    (ret = put_table(&b, NFT_MSG_NEWTABLE, IJNFT_TABLE, "add table")) ||
	    (ret = put_table(&b, NFT_MSG_DELTABLE, IJNFT_TABLE,
			     "delete table")) ||
	    (ret = batch_end(&b)))
		return ret;
	return batch_send(h, &b);
}

/* --- counters ------------------------------------------------------------------ */

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	const char **comment = data;
	const char *value = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len > 0 &&
	    value[len - 1] == '\0')
		*comment = value;
	return MNL_CB_OK;
}

/* Which counter a dumped rule carries, from its comment; -1 if none. */
static int rule_ctr(const struct nftnl_rule *r)
{
	const char *comment = NULL;
	const void *ud;
	uint32_t len = 0;

	if (!nftnl_rule_is_set(r, NFTNL_RULE_USERDATA))
		return -1;
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	if (!ud || nftnl_udata_parse(ud, len, comment_cb, &comment) < 0 ||
	    !comment)
		return -1;
	for (int c = 0; c < __IJNFT_CTR_MAX; c++)
		if (!strcmp(comment, ctr_names[c]))
			return c;
	return -1;
}

struct counters_ctx {
	struct ijnft_counters *out;
	unsigned int rules;	/* of ours seen */
};

static int counters_cb(const struct nlmsghdr *nlh, void *data)
{
	struct counters_ctx *ctx = data;
	struct ijnft_counters *out = ctx->out;
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	int c;

	if (!r)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0 || (c = rule_ctr(r)) < 0) {
		nftnl_rule_free(r);
		return MNL_CB_OK;	/* not one of ours: ignore */
	}
	ctx->rules++;
	it = nftnl_expr_iter_create(r);
	while (it && (e = nftnl_expr_iter_next(it))) {
		if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter"))
			continue;
		out->packets[c] += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		out->bytes[c] += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	nftnl_expr_iter_destroy(it);
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

int ijnft_counters(struct ijnft *h, struct ijnft_counters *out)
{
	struct counters_ctx ctx = { .out = out };
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;
	uint32_t seq;
	int ret;

	if (!h || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	h->err_what = NULL;
	r = nftnl_rule_alloc();
	if (!r)
		return -ENOMEM;
	if (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, IJNFT_TABLE) < 0) {
		nftnl_rule_free(r);
		return -ENOMEM;
	}
	seq = h->seq++;
	/* A dump filtered by table: the kernel skips the rest. */
	nlh = nftnl_nlmsg_build_hdr(h->tx, NFT_MSG_GETRULE, NFPROTO_INET,
				    NLM_F_DUMP, seq);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	if (mnl_socket_sendto(h->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = mnl_socket_recvfrom(h->nl, h->rx, BUF_SIZE);

		if (n < 0)
			return -errno;
		ret = mnl_cb_run(h->rx, n, seq, h->portid, counters_cb, &ctx);
	} while (ret > MNL_CB_STOP);
	if (ret < 0) {
		h->err_what = "list rules of table iotjail";
		return -errno;
	}
	/* A dump filtered on a missing table is empty, not an error. */
	if (ctx.rules == 0) {
		h->err_what = "list rules of table iotjail";
		return -ENOENT;
	}
	return 0;
}

/* --- sysctls -------------------------------------------------------------------- */

static int sysctl_read(const char *path)
{
	char buf[16];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	buf[n] = '\0';
	return atoi(buf) != 0;
}

int ijnft_conntrack_acct_enabled(void)
{
	return sysctl_read("/proc/sys/net/netfilter/nf_conntrack_acct");
}

int ijnft_bridge_nf_enabled(void)
{
	int v4 = sysctl_read("/proc/sys/net/bridge/bridge-nf-call-iptables");
	int v6 = sysctl_read("/proc/sys/net/bridge/bridge-nf-call-ip6tables");

	if (v4 < 0)
		return v4;
	if (v6 < 0)
		return v6;
	return v4 && v6;
}
