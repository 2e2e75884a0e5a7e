/*
 * nftables/nft.h: the kernel half of iotjail's verdicts.
 *
 * One nf_tables table, `inet iotjail`, holds everything: the `quarantine`
 * and `lan_ifs` sets, the `forward` chain and the `verdict` chain.  Every
 * change is one atomic batch; every message in it is acknowledged and checked, and a failure is
 * mapped back to the message that caused it (ijnft_error_what()).
 *
 * `forward` sends only the first packets of each new flow to userspace
 * (NFQUEUE); the daemon's verdict comes back in the packet mark, `verdict`
 * copies it into the conntrack mark, and the kernel applies it to the rest
 * of the flow.  docs/nftables.md shows the
 * ruleset and explains each rule.
 *
 * Conventions: functions return 0 or -errno; nothing here logs, touches
 * sysctls or keeps global state.  This header and nft.c know nothing of
 * daemon/; nft.c is the only file that includes libnftnl.
 */
#ifndef IOTJAIL_NFTABLES_NFT_H
#define IOTJAIL_NFTABLES_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IJNFT_TABLE		"iotjail"	/* family inet */
#define IJNFT_CHAIN		"forward"
#define IJNFT_CHAIN_VERDICT	"verdict"
#define IJNFT_SET_QUARANTINE	"quarantine"
#define IJNFT_SET_LAN		"lan_ifs"
#define IJNFT_PRIORITY		(-5)	/* before the usual filter chains */
#define IJNFT_PRIORITY_VERDICT	(-4)	/* right after `forward` */

/*
 * Conntrack mark layout.  The daemon owns only these bits and must leave the
 * others alone.
 *
 * How a verdict gets there: the daemon accepts the queued packet with these
 * bits set in its *packet* mark (the other bits of the packet mark kept).
 * The `verdict` chain, which the packet reaches right after `forward`, copies
 * them into the conntrack mark (other bits kept), clears them from the
 * packet mark, and drops (deny) or rejects (reject) the packet.  This needs
 * no ctnetlink (kernels without nf_conntrack_netlink refuse NFQUEUE's
 * conntrack flag) and works for the native and the xt queue alike.
 *
 *   bits 0-1   verdict: 0 undecided, 1 allow, 2 deny (drop), 3 reject (TCP
 *              reset, else ICMP administratively prohibited, to the sender)
 *   bits 8-15  policy generation the verdict was made under
 *
 * The packet mark has one more bit, never copied to conntrack:
 *
 *   bit 2      pass: with verdict reject, this packet is not rejected but
 *              passed on.  The daemon sets it on a responder's packet it
 *              has rewritten into a refusal for the initiator (a TCP reset,
 *              an ICMP unreachable), so that the side that asked for the
 *              service learns of the verdict at once.
 *
 * A flow whose mark carries another generation than the installed one counts
 * as undecided: the ruleset queues its next packet, so a reload re-judges
 * established flows instead of letting old verdicts live on.
 */
#define IJNFT_MARK_VERDICT_MASK	0x00000003u
#define IJNFT_MARK_GEN_SHIFT	8
#define IJNFT_MARK_GEN_MASK	0x0000ff00u
#define IJNFT_MARK_MASK		(IJNFT_MARK_VERDICT_MASK | IJNFT_MARK_GEN_MASK)
#define IJNFT_MARK_PASS		0x00000004u
#define IJNFT_PKT_MARK_MASK	(IJNFT_MARK_MASK | IJNFT_MARK_PASS)

enum ijnft_verdict {
	IJNFT_VERDICT_UNDECIDED = 0,
	IJNFT_VERDICT_ALLOW = 1,
	IJNFT_VERDICT_DENY = 2,
	IJNFT_VERDICT_REJECT = 3,
	__IJNFT_VERDICT_MAX
};

/* The mark bits (within IJNFT_MARK_MASK) for a verdict under a generation. */
static inline uint32_t ijnft_ct_mark(uint8_t generation, enum ijnft_verdict v)
{
	return ((uint32_t)generation << IJNFT_MARK_GEN_SHIFT) |
	       ((uint32_t)v & IJNFT_MARK_VERDICT_MASK);
}

/*
 * Which traffic is jailed.  Both modes match `iifname` or `oifname` in the
 * `lan_ifs` set: with bridge netfilter, a bridged packet reaches the inet
 * forward hook with the bridge itself as input and output device, so the
 * bridge name is the one name to match (`meta ibrname` exists only in bridge
 * family tables).  The mode only changes validation and what the daemon must
 * check (bridge: br_netfilter with bridge-nf-call-ip{,6}tables = 1).
 */
enum ijnft_mode {
	IJNFT_MODE_BRIDGE,	/* ifnames[0] is the bridge; exactly one name */
	IJNFT_MODE_ROUTER,	/* ifnames are the LAN interfaces */
	__IJNFT_MODE_MAX
};

/* How packets reach userspace: nft's own `queue` expression, or the xt
 * NFQUEUE target through nft_compat (kernels built without nft_queue). */
enum ijnft_queue_kind {
	IJNFT_QUEUE_AUTO,	/* ijnft_install() probes once per handle */
	IJNFT_QUEUE_NATIVE,
	IJNFT_QUEUE_XT,
	__IJNFT_QUEUE_MAX
};

#define IJNFT_IFNAMSIZ		16	/* IFNAMSIZ, with the NUL */
#define IJNFT_MAX_IFNAMES	8

/* A trusted device's MAC with one of its addresses (see `trusted` below). */
struct ijnft_trusted {
	uint8_t mac[6];
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network order; IPv4 in the first 4 bytes */
	bool observed;		/* the flow's first packet is also copied to
				 * the NFLOG group observe_group (rule
				 * `observed` instead of `trusted`) */
};

/* A LAN prefix: flows towards it are never decided by the trusted rules. */
struct ijnft_prefix {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t len;		/* 0..32 or 0..128 */
	uint8_t addr[16];	/* network order, host bits clear */
};

/* What an observed flow's first packet carries to the NFLOG group: up to
 * this many bytes of it, in messages of up to this many packets (the
 * kernel also flushes a part-filled message after the listener's timeout).
 * Batches of 8 to 16 gave the best new-flow rate in the lab; 1 (a message
 * per packet) and 4 cost 0.05 to 0.15 of it (docs/PERFORMANCE.md). */
#define IJNFT_OBSERVE_SNAPLEN	2048
#define IJNFT_OBSERVE_QTHRESHOLD	16

#define IJNFT_MAX_TRUSTED	64
#define IJNFT_MAX_LAN		16

struct ijnft_config {
	enum ijnft_mode mode;
	char ifnames[IJNFT_MAX_IFNAMES][IJNFT_IFNAMSIZ];
	unsigned int n_ifnames;
	/* Queues queue_first .. queue_first + queue_count - 1, balanced by a
	 * hash of the address pair and protocol, so both directions of a flow
	 * reach the same queue (and worker). */
	uint16_t queue_first;
	uint16_t queue_count;
	/* Undecided flows with more than this many packets (both directions,
	 * conntrack accounting) are accepted without being queued. */
	uint32_t inspect_packets;
	uint8_t generation;
	/* false: queue with bypass (traffic passes while no daemon listens);
	 * true: undecided traffic is dropped while no daemon listens. */
	bool fail_closed;
	enum ijnft_queue_kind queue_kind;
	/* Trusted devices: an undecided flow whose packet comes from one of
	 * these MAC and address pairs and goes outside every LAN prefix is
	 * allowed here, without a round trip to the daemon (rules `trusted`,
	 * one per pair).  The arrays are borrowed for the call. */
	const struct ijnft_trusted *trusted;
	unsigned int n_trusted;
	/* The NFLOG group that gets a copy of the first packet of an
	 * observed device's flow (ijnft_trusted.observed); the packet is not
	 * held.  Only used if some entry is observed. */
	uint16_t observe_group;
	const struct ijnft_prefix *lan;
	unsigned int n_lan;
};

/*
 * 0 if cfg is usable, else -EINVAL with *why (if why is not NULL) set to a
 * static sentence naming the field.  IJNFT_QUEUE_AUTO is valid here.
 */
int ijnft_config_check(const struct ijnft_config *cfg, const char **why);

/* Rule counters, indexed by enum ijnft_ctr. */
enum ijnft_ctr {
	IJNFT_CTR_QUARANTINE,	/* dropped: source MAC quarantined */
	IJNFT_CTR_DENY,		/* dropped: flow denied (current generation) */
	IJNFT_CTR_REJECT,	/* rejected: flow denied with reject (current generation) */
	IJNFT_CTR_ALLOW,	/* accepted: flow allowed (current generation) */
	IJNFT_CTR_BUDGET,	/* accepted: undecided past the inspection budget */
	IJNFT_CTR_QUEUED,	/* sent to the queue (or bypassed/dropped there) */
	IJNFT_CTR_ACK,		/* undecided, payload-less TCP ACK: not queued */
	IJNFT_CTR_TRUSTED,	/* undecided, from a trusted device to the WAN:
				 * allowed here */
	IJNFT_CTR_OBSERVED,	/* the same for an observed device: allowed
				 * here, and a copy sent to the NFLOG group */
	IJNFT_CTR_MARK_ALLOW,	/* verdict chain: allow copied to conntrack */
	IJNFT_CTR_MARK_DENY,	/* verdict chain: deny copied, packet dropped */
	IJNFT_CTR_MARK_REJECT,	/* verdict chain: reject copied, packet rejected */
	IJNFT_CTR_MARK_PASS,	/* verdict chain: reject copied, the daemon's reset passed */
	__IJNFT_CTR_MAX
};

struct ijnft_counters {
	uint64_t packets[__IJNFT_CTR_MAX];
	uint64_t bytes[__IJNFT_CTR_MAX];
};

/* Name of a counter ("quarantine", "deny", ...), NULL if out of range. */
const char *ijnft_ctr_name(enum ijnft_ctr c);

/* --- kernel operations (need CAP_NET_ADMIN in the current netns) --------- */

struct ijnft;

/* Opens a netfilter netlink socket.  *out is owned by the caller. */
int ijnft_open(struct ijnft **out);
/* Closes the socket; leaves the ruleset as it is.  NULL is a no-op. */
void ijnft_close(struct ijnft *h);

/*
 * Which queue mechanism this kernel accepts: tries a batch that creates a
 * scratch table with a native queue rule and an xt NFQUEUE rule and that is
 * made to fail at its last message, so the kernel aborts it and nothing is
 * ever committed.  *out is IJNFT_QUEUE_NATIVE if the native expression
 * works, else IJNFT_QUEUE_XT; -EOPNOTSUPP if neither does.
 */
int ijnft_probe_queue(struct ijnft *h, enum ijnft_queue_kind *out);

/*
 * Installs the whole table in one batch: create-if-missing, delete, create
 * table, sets, chain and rules.  Re-running it (after a crash, or twice)
 * replaces the table; it never duplicates rules.  The quarantine set starts
 * empty and the counters at zero.  IJNFT_QUEUE_AUTO probes (once per handle).
 */
int ijnft_install(struct ijnft *h, const struct ijnft_config *cfg);

/*
 * Reload: atomically replaces the rules of both chains (and the
 * lan_ifs elements) with those of cfg, typically a new generation.  The
 * quarantine set is kept; the counters are carried over (packets counted
 * between reading and replacing them are lost).  -ENOENT if not installed.
 */
int ijnft_set_generation(struct ijnft *h, const struct ijnft_config *cfg);

/*
 * Adds mac to the quarantine set, or replaces its timeout if present.
 * timeout_ms 0: no timeout.  Sub-millisecond precision is not kept.
 */
int ijnft_quarantine_add(struct ijnft *h, const uint8_t mac[6],
			 uint32_t timeout_ms);
/* Removes mac from the quarantine set; -ENOENT if it was not there. */
int ijnft_quarantine_del(struct ijnft *h, const uint8_t mac[6]);

/* Deletes the table (clean exit).  0 also when it did not exist. */
int ijnft_remove(struct ijnft *h);

/* Reads the rule counters of the installed table (both chains).  -ENOENT if absent. */
int ijnft_counters(struct ijnft *h, struct ijnft_counters *out);

/*
 * After a failed batch: which message failed, as a static phrase such as
 * "add rule queue"; NULL if the last operation did not fail in a message
 * (e.g. a socket error).  Borrowed; valid until the next operation.
 */
const char *ijnft_error_what(const struct ijnft *h);

/*
 * Sysctls the daemon must set (this library never writes them): 1 if on,
 * 0 if off, -errno if unreadable.  Both read the current network namespace.
 *   net.netfilter.nf_conntrack_acct = 1    the inspection budget needs
 *                                          per-flow packet counts
 *   net.bridge.bridge-nf-call-iptables = 1 and ...-ip6tables = 1 (bridge
 *                                          mode; -ENOENT: no br_netfilter)
 */
int ijnft_conntrack_acct_enabled(void);
int ijnft_bridge_nf_enabled(void);

/* --- kernel-free batch building, for tests and dry runs ------------------ */

/*
 * Builds the netlink batch that ijnft_install()/ijnft_set_generation()/
 * ijnft_quarantine_add() would send, into buf (len bytes), message sequence
 * numbers starting at seq.  *used gets its length.  cfg->queue_kind must be
 * NATIVE or XT.  -ENOSPC if buf is too small (64 KiB is always enough),
 * -EINVAL for a bad cfg.  start, if not NULL, presets the rule counters.
 */
int ijnft_build_install(const struct ijnft_config *cfg, uint32_t seq,
			void *buf, size_t len, size_t *used);
int ijnft_build_generation(const struct ijnft_config *cfg,
			   const struct ijnft_counters *start, uint32_t seq,
			   void *buf, size_t len, size_t *used);
int ijnft_build_quarantine(const uint8_t mac[6], bool add,
			   uint32_t timeout_ms, uint32_t seq, void *buf,
			   size_t len, size_t *used);

/*
 * Decodes a batch (as built above) with libnftnl's parsers into text, one
 * message per line: "<op> <object as libnftnl prints it>", rule expressions
 * as "[ ... ]" on the same line.  For tests and `--dry-run` output.  Returns
 * the number of messages, -EINVAL on a malformed batch, -ENOSPC if out is
 * too small.  Trusted input only (a batch built above): libnftnl's parsers
 * are not hardened against arbitrary bytes.
 */
int ijnft_batch_describe(const void *buf, size_t len, char *out,
			 size_t outlen);

#endif
