/* nfq.h - one NFQUEUE queue: receive packets, send verdicts; or one NFLOG
 * group: receive copies of packets that went on.
 *
 * The only file that includes libnetfilter_queue.  A struct nfqueue belongs to
 * one thread (its worker); nothing here is shared or locked.
 *
 * The queue is bound with:
 *   NFQA_CFG_F_FAIL_OPEN  packets the kernel cannot queue (queue full, socket
 *                         buffer full) are accepted, not dropped;
 *   NFQA_CFG_F_GSO        GSO packets arrive whole, not segmented for us;
 * and, if the kernel grants it, NFQA_CFG_F_CONNTRACK, for the conntrack
 * direction of each packet (kernels without nf_conntrack_netlink refuse it;
 * the queue works without).  Verdicts reach conntrack through the packet
 * mark either way; see nftables/nft.h.
 *
 * Verdicts: every received packet gets exactly one.  Plain accepts are
 * batched (NFQNL_MSG_VERDICT_BATCH covers every id up to the last one); a
 * verdict that sets the packet mark goes as its own message, after the
 * pending batch.  Messages collect in a buffer sent by nfqueue_flush() (or
 * when it fills), so a burst of packets costs one sendmsg.
 */
#ifndef IOTJAIL_NFQ_H
#define IOTJAIL_NFQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nfqueue;

/* What the kernel tells about one queued packet.  Pointers point into the
 * nfq's receive buffer: valid until the next nfqueue_recv(). */
struct nfqueue_packet {
	uint32_t id;
	uint16_t hw_proto;	/* ethertype, host order */
	const uint8_t *data;	/* the IP packet (copy range applies) */
	uint32_t len;		/* bytes in data */
	uint32_t orig_len;	/* length on the wire (>= len if cut) */
	bool has_mac;
	uint8_t mac[6];		/* source MAC, if has_mac */
	uint32_t indev, outdev;		/* ifindex, 0 if none */
	uint32_t physindev, physoutdev;	/* bridge ports, 0 if not bridged */
	uint32_t mark;		/* the packet mark */
	bool gso;		/* a GSO packet (checksum may not be ready) */
	bool ct_reply;		/* in its conntrack entry's reply direction
				 * (false without conntrack info) */
};

struct nfqueue_stats {
	uint64_t received;	/* packets read from the queue */
	uint64_t wakeups;	/* recvmmsg() calls that returned datagrams */
	uint64_t verdict_msgs;	/* single verdicts sent (with a mark) */
	uint64_t replaced;	/* of them, with the packet replaced */
	uint64_t batch_msgs;	/* batch accept messages sent */
	uint64_t sends;		/* sendmsg calls */
	uint64_t enobufs;	/* receive overruns (packets failed open) */
	uint64_t bad_msgs;	/* messages we could not parse (accepted) */
	uint64_t kernel_errors;	/* errors the kernel returned for verdicts */
};

/*
 * Binds queue QUEUE (fails with -EBUSY if another program holds it).
 * maxlen: kernel queue length (packets beyond it fail open).
 * 0 or -errno; *out on success.
 */
int nfqueue_open(uint16_t queue, uint32_t maxlen, struct nfqueue **out);
/*
 * Binds NFLOG group GROUP instead (fails with -EBUSY if another program
 * holds it): the same receive calls return copies of logged packets, up to
 * COPY bytes each (the rule's snaplen may cut them shorter), which the
 * kernel sends in messages of up to QTHRESH packets, or after TIMEOUT_CS
 * hundredths of a second.  They have id 0 and need no verdict: the verdict
 * calls do nothing.  A receive overrun (enobufs) means copies were lost;
 * the packets themselves went on.
 */
int nfqueue_open_log(uint16_t group, uint32_t copy, uint32_t qthresh,
		     uint32_t timeout_cs, struct nfqueue **out);
/* Unbinds and closes.  Packets still queued in the kernel are dropped by the
 * kernel at that moment: call nfqueue_drain() first.  NULL is a no-op. */
void nfqueue_close(struct nfqueue *q);

int nfqueue_fd(const struct nfqueue *q);
uint16_t nfqueue_queue_num(const struct nfqueue *q);
/* The kernel sends conntrack info (nfqueue_packet.ct_reply is meaningful). */
bool nfqueue_conntrack(const struct nfqueue *q);
/*
 * One NFLOG packet message (NFULNL_MSG_PACKET, LEN bytes from MSG) into *p,
 * as nfqueue_recv() reads them for a log group: pointers into MSG, id 0.
 * -EINVAL if it is not such a message, is cut short, or has no payload;
 * numbers shorter than 32 bits and a hardware address that is not 6 bytes
 * are taken as absent.
 */
int nfqueue_parse_log(const void *msg, size_t len, struct nfqueue_packet *p);
/* Opened by nfqueue_open_log(): copies, no verdicts. */
bool nfqueue_is_log(const struct nfqueue *q);

/*
 * Reads a burst: up to 8 datagrams in one recvmmsg().  With block, waits
 * for the first at most one second.  Returns the number read (0: none),
 * -errno on a socket error.  Overruns (ENOBUFS) are counted and skipped.
 * Packets of the previous burst must have had their verdicts by then.
 */
int nfqueue_wait(struct nfqueue *q, bool block);
/*
 * The next packet of the burst: 1 and *p (which must get a verdict), 0 when
 * the burst is done.  Unparsable or non-packet messages are counted and
 * skipped; a packet whose attributes do not parse is accepted here and not
 * returned.  No system call.
 */
int nfqueue_recv(struct nfqueue *q, struct nfqueue_packet *p);

/* Accept without changes (batched). */
void nfqueue_accept(struct nfqueue *q, uint32_t id);
/* Accept with the packet mark set to MARK (the whole mark: keep the bits
 * that are not yours from nfqueue_packet.mark). */
void nfqueue_accept_mark(struct nfqueue *q, uint32_t id, uint32_t mark);
/*
 * Accept with the packet mark set to MARK and the packet replaced by DATA
 * (LEN bytes, 1 to NFQUEUE_REPLACE_MAX: a whole IP packet with valid
 * checksums, which the kernel sends on as it is).  -EINVAL for a bad
 * length, and then no verdict was given.
 */
#define NFQUEUE_REPLACE_MAX 128
int nfqueue_accept_replaced(struct nfqueue *q, uint32_t id, uint32_t mark,
			    const void *data, size_t len);
/* Sends every pending verdict.  0 or -errno (the send failed: those packets
 * stay queued until the kernel drops them at close). */
int nfqueue_flush(struct nfqueue *q);

/* Accepts every packet still readable on the socket (shutdown); the current
 * burst must be done. */
void nfqueue_drain(struct nfqueue *q);

void nfqueue_get_stats(const struct nfqueue *q, struct nfqueue_stats *s);

#endif
