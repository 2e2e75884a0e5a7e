/* nfq.c - NFQUEUE over libmnl + libnetfilter_queue's message helpers, and
 * NFLOG groups (copies, no verdicts) over libmnl. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "daemon/nfq.h"

#define NFQ_COPY_RANGE	0xffff
/* A whole copied packet plus its attributes, rounded so that every buffer
 * of a burst starts aligned for struct nlmsghdr (MIPS traps otherwise). */
#define NFQ_RECV_BUF	((NFQ_COPY_RANGE + 8192 + 63) & ~63)
#define NFQ_SEND_BUF	(64 * 1024)
/* Room one verdict message needs (header, verdict, mark, and a replaced
 * packet of at most NFQUEUE_REPLACE_MAX bytes). */
#define NFQ_VERDICT_ROOM (128 + NFQUEUE_REPLACE_MAX)
#define NFQ_SOCK_BUF	(8 * 1024 * 1024)
#define NFQ_LOG_NLBUFSIZ	(32 * 1024)
/* Datagrams one recvmmsg() takes: 8 x 72 KiB of buffers per queue. */
#define NFQ_BURST	8

struct nfqueue {
	struct mnl_socket *nl;
	uint32_t portid;
	uint16_t queue;		/* or the NFLOG group */
	bool log;		/* an NFLOG group: copies, no verdicts */
	bool conntrack;		/* NFQA_CFG_F_CONNTRACK granted */
	bool batch_pending;
	uint32_t batch_id;
	size_t out_len;
	struct nfqueue_stats st;
	uint8_t *in;		/* NFQ_BURST x NFQ_RECV_BUF */
	struct mmsghdr mm[NFQ_BURST];
	struct iovec iov[NFQ_BURST];
	unsigned n_dgrams, dgram;	/* read by nfqueue_wait(), next one */
	const struct nlmsghdr *nlh;	/* next message in the current one */
	int left;			/* bytes from nlh to its end */
	uint8_t out[NFQ_SEND_BUF];
};

/* Send one configuration message and wait for its ACK. */
static int config_send(struct nfqueue *q, struct nlmsghdr *nlh)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = (uint32_t)time(NULL);
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		n = mnl_cb_run(buf, (size_t)n, seq, q->portid, NULL, NULL);
		if (n < 0)
			return -errno;
		if (n == MNL_CB_STOP)
			return 0;
	}
}

/* The socket, its buffers and receive timeout: what a queue and a log group
 * share.  *out on success; on failure nothing is left. */
static int socket_open(uint16_t num, bool log, struct nfqueue **out)
{
	struct timeval tv = { 1, 0 };	/* nfqueue_wait() blocks at most 1 s */
	struct nfqueue *q;
	int sz = NFQ_SOCK_BUF, rc;
	unsigned i;

	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->queue = num;
	q->log = log;
	q->in = malloc((size_t)NFQ_BURST * NFQ_RECV_BUF);
	q->nl = q->in ? mnl_socket_open(NETLINK_NETFILTER) : NULL;
	if (!q->nl || mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		nfqueue_close(q);
		return rc;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	/* A burst of first packets must not overrun the socket; FORCE works
	 * as root beyond rmem_max, the plain option as far as it allows. */
	if (setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE,
		       &sz, sizeof(sz)) < 0)
		setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUF,
			   &sz, sizeof(sz));
	/* The worker looks at its timers, the policy generation and the
	 * stop flag at least once a second. */
	if (setsockopt(nfqueue_fd(q), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		rc = -errno;
		nfqueue_close(q);
		return rc;
	}
	for (i = 0; i < NFQ_BURST; i++) {
		q->iov[i].iov_base = q->in + (size_t)i * NFQ_RECV_BUF;
		q->iov[i].iov_len = NFQ_RECV_BUF;
		q->mm[i].msg_hdr.msg_iov = &q->iov[i];
		q->mm[i].msg_hdr.msg_iovlen = 1;
	}
	*out = q;
	return 0;
}

int nfqueue_open(uint16_t queue, uint32_t maxlen, struct nfqueue **out)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t flags = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;
	struct nlmsghdr *nlh;
	struct nfqueue *q;
	int rc;

	if ((rc = socket_open(queue, false, &q)) < 0)
		return rc;
	nlh = nfq_nlmsg_put((char *)buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	if ((rc = config_send(q, nlh)) < 0)
		goto fail;
	nlh = nfq_nlmsg_put((char *)buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, NFQ_COPY_RANGE);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(flags));
	if ((rc = config_send(q, nlh)) < 0)
		goto fail;
	/* Conntrack info (for the packet's direction), asked for on its own:
	 * kernels without nf_conntrack_netlink refuse it (EOPNOTSUPP), or
	 * say EAGAIN once they have just loaded it. */
	for (int i = 0; i < 2 && !q->conntrack; i++) {
		nlh = nfq_nlmsg_put((char *)buf, NFQNL_MSG_CONFIG, queue);
		mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_CONNTRACK));
		mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_CONNTRACK));
		rc = config_send(q, nlh);
		q->conntrack = rc == 0;
		if (rc != -EAGAIN)
			break;
	}
	*out = q;
	return 0;
fail:
	nfqueue_close(q);
	return rc;
}

/* A configuration message for NFLOG group GROUP. */
static struct nlmsghdr *log_config(uint8_t *buf, uint16_t group)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(group);
	return nlh;
}

int nfqueue_open_log(uint16_t group, uint32_t copy, uint32_t qthresh,
		     uint32_t timeout_cs, struct nfqueue **out)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	struct nfulnl_msg_config_cmd cmd = { NFULNL_CFG_CMD_BIND };
	struct nfulnl_msg_config_mode mode = { 0 };
	struct nlmsghdr *nlh;
	struct nfqueue *q;
	int rc;

	if ((rc = socket_open(group, true, &q)) < 0)
		return rc;
	nlh = log_config(buf, group);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	if ((rc = config_send(q, nlh)) < 0)
		goto fail;
	mode.copy_range = htonl(copy);
	mode.copy_mode = NFULNL_COPY_PACKET;
	nlh = log_config(buf, group);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(qthresh));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(timeout_cs));
	/* The kernel's buffer for a message of copies: room for 16 small
	 * first packets (the kernel sends it when full, or allocates one
	 * packet's worth for a bigger one).  A bigger buffer is allocated
	 * for every message whatever it holds: 64 KiB cost 0.05 of the
	 * lab's new-flow rate. */
	mnl_attr_put_u32(nlh, NFULA_CFG_NLBUFSIZ, htonl(NFQ_LOG_NLBUFSIZ));
	if ((rc = config_send(q, nlh)) < 0)
		goto fail;
	*out = q;
	return 0;
fail:
	nfqueue_close(q);
	return rc;
}

void nfqueue_close(struct nfqueue *q)
{
	if (!q)
		return;
	if (q->nl) {
		nfqueue_flush(q);
		mnl_socket_close(q->nl);
	}
	free(q->in);
	free(q);
}

int nfqueue_fd(const struct nfqueue *q)
{
	return mnl_socket_get_fd(q->nl);
}

uint16_t nfqueue_queue_num(const struct nfqueue *q)
{
	return q->queue;
}

bool nfqueue_conntrack(const struct nfqueue *q)
{
	return q->conntrack;
}

bool nfqueue_is_log(const struct nfqueue *q)
{
	return q->log;
}

static uint32_t attr_be32(const struct nlattr *a)
{
	return a ? ntohl(mnl_attr_get_u32(a)) : 0;
}

/* The source MAC and the interfaces, from the attributes NFQUEUE and
 * NFLOG both send (their hardware address structs are the same). */
_Static_assert(sizeof(struct nfqnl_msg_packet_hw) == sizeof(struct nfulnl_msg_packet_hw) &&
	       offsetof(struct nfqnl_msg_packet_hw, hw_addr) ==
	       offsetof(struct nfulnl_msg_packet_hw, hw_addr),
	       "NFQUEUE and NFLOG hardware addresses differ");
static void take_link(struct nfqueue_packet *p, const struct nlattr *hwaddr,
		      const struct nlattr *in, const struct nlattr *out,
		      const struct nlattr *physin, const struct nlattr *physout)
{
	if (hwaddr && mnl_attr_get_payload_len(hwaddr) >=
			      sizeof(struct nfqnl_msg_packet_hw)) {
		const struct nfqnl_msg_packet_hw *hw = mnl_attr_get_payload(hwaddr);

		if (ntohs(hw->hw_addrlen) == 6) {
			p->has_mac = true;
			memcpy(p->mac, hw->hw_addr, 6);
		}
	}
	p->indev = attr_be32(in);
	p->outdev = attr_be32(out);
	p->physindev = attr_be32(physin);
	p->physoutdev = attr_be32(physout);
}

/* Fill P from a NFQNL_MSG_PACKET message.  -EINVAL if it lacks what every
 * packet message has (header, payload); the caller then accepts by id if it
 * has one. */
static int parse_packet(const struct nlmsghdr *nlh, struct nfqueue_packet *p,
			uint32_t *id)
{
	struct nlattr *attr[NFQA_MAX + 1] = { NULL };
	const struct nfqnl_msg_packet_hdr *ph;

	*id = 0;
	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR] ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph))
		return -EINVAL;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	memset(p, 0, sizeof(*p));
	p->id = *id = ntohl(ph->packet_id);
	if (!attr[NFQA_PAYLOAD])
		return -EINVAL;
	p->hw_proto = ntohs(ph->hw_protocol);
	p->data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
	p->len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	p->orig_len = attr[NFQA_CAP_LEN] ? attr_be32(attr[NFQA_CAP_LEN])
					 : p->len;
	take_link(p, attr[NFQA_HWADDR], attr[NFQA_IFINDEX_INDEV],
		  attr[NFQA_IFINDEX_OUTDEV], attr[NFQA_IFINDEX_PHYSINDEV],
		  attr[NFQA_IFINDEX_PHYSOUTDEV]);
	if (attr[NFQA_SKB_INFO])
		p->gso = (attr_be32(attr[NFQA_SKB_INFO]) & NFQA_SKB_GSO) != 0;
	p->mark = attr_be32(attr[NFQA_MARK]);
	if (attr[NFQA_CT_INFO])
		p->ct_reply = attr_be32(attr[NFQA_CT_INFO]) >= IP_CT_IS_REPLY;
	return 0;
}

/* Fill P from a NFULNL_MSG_PACKET message (id 0: there is no verdict to
 * give).  -EINVAL without a payload. */
static int parse_log_packet(const struct nlmsghdr *nlh, struct nfqueue_packet *p)
{
	struct nlattr *attr[NFULA_MAX + 1] = { NULL };
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		uint16_t t = mnl_attr_get_type(a);

		if (t > NFULA_MAX)
			continue;
		/* Every number we read is 32 bits: a shorter one is not
		 * there. */
		if ((t == NFULA_MARK || (t >= NFULA_IFINDEX_INDEV &&
					 t <= NFULA_IFINDEX_PHYSOUTDEV)) &&
		    mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			continue;
		attr[t] = (struct nlattr *)a;
	}
	memset(p, 0, sizeof(*p));
	if (!attr[NFULA_PAYLOAD])
		return -EINVAL;
	if (attr[NFULA_PACKET_HDR] &&
	    mnl_attr_get_payload_len(attr[NFULA_PACKET_HDR]) >=
		    sizeof(struct nfulnl_msg_packet_hdr)) {
		const struct nfulnl_msg_packet_hdr *ph =
			mnl_attr_get_payload(attr[NFULA_PACKET_HDR]);

		p->hw_proto = ntohs(ph->hw_protocol);
	}
	p->data = mnl_attr_get_payload(attr[NFULA_PAYLOAD]);
	p->len = p->orig_len = mnl_attr_get_payload_len(attr[NFULA_PAYLOAD]);
	take_link(p, attr[NFULA_HWADDR], attr[NFULA_IFINDEX_INDEV],
		  attr[NFULA_IFINDEX_OUTDEV], attr[NFULA_IFINDEX_PHYSINDEV],
		  attr[NFULA_IFINDEX_PHYSOUTDEV]);
	p->mark = attr_be32(attr[NFULA_MARK]);
	return 0;
}

int nfqueue_parse_log(const void *msg, size_t len, struct nfqueue_packet *p)
{
	const struct nlmsghdr *nlh = msg;

	if (len > INT_MAX || !mnl_nlmsg_ok(nlh, (int)len) ||
	    nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)))
		return -EINVAL;
	return parse_log_packet(nlh, p);
}

/* Room for one more message, sending what is pending if needed. */
static struct nlmsghdr *out_msg(struct nfqueue *q, int type)
{
	if (q->out_len + NFQ_VERDICT_ROOM > sizeof(q->out))
		nfqueue_flush(q);
	return nfq_nlmsg_put((char *)q->out + q->out_len, type, q->queue);
}

static void out_commit(struct nfqueue *q, const struct nlmsghdr *nlh)
{
	q->out_len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static void batch_emit(struct nfqueue *q)
{
	struct nlmsghdr *nlh;

	if (!q->batch_pending)
		return;
	/* Clear first: out_msg() may flush, which emits the batch. */
	q->batch_pending = false;
	nlh = out_msg(q, NFQNL_MSG_VERDICT_BATCH);
	nfq_nlmsg_verdict_put(nlh, (int)q->batch_id, NF_ACCEPT);
	out_commit(q, nlh);
	q->st.batch_msgs++;
}

void nfqueue_accept(struct nfqueue *q, uint32_t id)
{
	if (q->log)
		return;		/* a copy: the packet went on */
	q->batch_pending = true;
	q->batch_id = id;
}

/* One verdict message for id: accept with mark, and with the packet
 * replaced by data when len is not 0. */
static void verdict_msg(struct nfqueue *q, uint32_t id, uint32_t mark,
			const void *data, size_t len)
{
	struct nlmsghdr *nlh;

	if (q->log)
		return;
	/* Earlier accepts go first: a batch sent after this message would
	 * cover this id too, and the order of verdicts is the order of
	 * packets. */
	batch_emit(q);
	nlh = out_msg(q, NFQNL_MSG_VERDICT);
	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	nfq_nlmsg_verdict_put_mark(nlh, mark);
	if (len)
		nfq_nlmsg_verdict_put_pkt(nlh, data, (uint32_t)len);
	out_commit(q, nlh);
	q->st.verdict_msgs++;
}

void nfqueue_accept_mark(struct nfqueue *q, uint32_t id, uint32_t mark)
{
	verdict_msg(q, id, mark, NULL, 0);
}

int nfqueue_accept_replaced(struct nfqueue *q, uint32_t id, uint32_t mark,
			    const void *data, size_t len)
{
	if (!len || len > NFQUEUE_REPLACE_MAX)
		return -EINVAL;
	verdict_msg(q, id, mark, data, len);
	q->st.replaced++;
	return 0;
}

int nfqueue_flush(struct nfqueue *q)
{
	ssize_t n;

	batch_emit(q);
	if (!q->out_len)
		return 0;
	q->st.sends++;
	n = mnl_socket_sendto(q->nl, q->out, q->out_len);
	q->out_len = 0;
	return n < 0 ? -errno : 0;
}

/* Errors the kernel sends back for our verdicts (unknown id, a bad CT
 * attribute) arrive as NLMSG_ERROR among the packets. */
static void note_error(struct nfqueue *q, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*e)) && e->error)
		q->st.kernel_errors++;
}

int nfqueue_wait(struct nfqueue *q, bool block)
{
	int n;

	q->n_dgrams = q->dgram = 0;
	q->nlh = NULL;
	for (;;) {
		/* MSG_WAITFORONE: block (up to SO_RCVTIMEO) for the first
		 * datagram, then take what else is there without waiting. */
		n = recvmmsg(nfqueue_fd(q), q->mm, NFQ_BURST,
			     block ? MSG_WAITFORONE : MSG_DONTWAIT, NULL);
		if (n >= 0) {
			q->n_dgrams = (unsigned)n;
			if (n)
				q->st.wakeups++;
			return n;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == ENOBUFS) {
			/* The kernel could not deliver some packets: with
			 * FAIL_OPEN it accepted them itself. */
			q->st.enobufs++;
			continue;
		}
		return -errno;
	}
}

int nfqueue_recv(struct nfqueue *q, struct nfqueue_packet *p)
{
	const struct nlmsghdr *nlh;
	uint32_t id;

	for (;;) {
		if (!q->nlh) {
			if (q->dgram >= q->n_dgrams)
				return 0;
			/* The kernel sends one packet per datagram, but walk
			 * each as netlink allows several messages. */
			q->nlh = (const struct nlmsghdr *)(q->in + (size_t)q->dgram *
							   NFQ_RECV_BUF);
			q->left = (int)q->mm[q->dgram].msg_len;
			q->dgram++;
		}
		if (!mnl_nlmsg_ok(q->nlh, q->left)) {
			q->nlh = NULL;
			continue;
		}
		nlh = q->nlh;
		q->nlh = mnl_nlmsg_next(nlh, &q->left);
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			note_error(q, nlh);
			continue;
		}
		if (nlh->nlmsg_type == NLMSG_DONE)	/* ends a log batch */
			continue;
		if (q->log) {
			if (nfqueue_parse_log(nlh, nlh->nlmsg_len, p) < 0) {
				q->st.bad_msgs++;
				continue;
			}
			q->st.received++;
			return 1;
		}
		if ((nlh->nlmsg_type & 0xff) != NFQNL_MSG_PACKET) {
			q->st.bad_msgs++;
			continue;
		}
		if (parse_packet(nlh, p, &id) < 0) {
			q->st.bad_msgs++;
			if (id)
				nfqueue_accept(q, id);
			continue;
		}
		q->st.received++;
		return 1;
	}
}

void nfqueue_drain(struct nfqueue *q)
{
	struct nfqueue_packet p;

	while (nfqueue_wait(q, false) > 0)
		while (nfqueue_recv(q, &p) == 1)
			nfqueue_accept(q, p.id);
	nfqueue_flush(q);
}

void nfqueue_get_stats(const struct nfqueue *q, struct nfqueue_stats *s)
{
	*s = q->st;
}
