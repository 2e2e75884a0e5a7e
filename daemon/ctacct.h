/* ctacct.h - per-flow byte and packet counts from conntrack accounting.
 *
 * Once a flow is decided the kernel forwards the rest of it without the
 * daemon, so the bulk of the bytes never reach userspace.  Conntrack counts
 * them (with net.netfilter.nf_conntrack_acct=1).  Without ctnetlink the
 * daemon reads those counters from /proc/net/nf_conntrack (as text, its
 * network namespace's table), every few seconds, and credits each decided
 * flow's growth since the last read to an accounting slot of the caller
 * (device x service x role), per direction.
 *
 * Two parts:
 *   - ctacct_parse_line(): one line of /proc/net/nf_conntrack, untrusted
 *     text, bounds-checked;
 *   - the tracker: workers register decided flows (ctacct_track), the poller
 *     reads the table (ctacct_poll) and gets one credit per flow that grew.
 *
 * Matching.  A line is matched to a tracked flow by the canonical flow key
 * (daemon/flow.h) the daemon's forward hook sees for the entry, see
 * ctacct_line_key().  Deltas are kept per conntrack entry (its original
 * tuple and zone), not per flow key: several entries can share one flow key
 * (ICMP echo sessions with different ids between the same two hosts, the
 * same tuple in two conntrack zones, SCTP/DCCP/UDP-Lite ports that the flow
 * key does not carry), and each has counters of its own.
 *
 * What is counted is what conntrack counts: the IP length of every packet
 * of the entry at the conntrack hook, before any filtering, so a denied
 * flow's dropped packets are counted too.  Entries created while
 * nf_conntrack_acct was 0 carry no counters (ever): their lines parse with
 * -ENODATA and are counted as acct_off.  With software or hardware flow
 * offload ([OFFLOAD] entries), conntrack counters only move if the
 * flowtable has the "counter" flag.
 *
 * No I/O but the stream handed to ctacct_poll(), no logging: callers get
 * return codes and counters and say what they mean.
 */
#ifndef IOTJAIL_CTACCT_H
#define IOTJAIL_CTACCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct flow_key;

/* --- one line of /proc/net/nf_conntrack ------------------------------------
 *
 * Format (net/netfilter/nf_conntrack_standalone.c, ct_seq_show(); the same
 * from Linux 3.x to 6.x but for the timeout, which an offloaded entry does
 * not print since 4.16), fields separated by one or more spaces:
 *
 *   L3NAME L3NUM L4NAME L4NUM [TIMEOUT] [STATE|timeout=N, ...]
 *   src=A dst=A L4-FIELDS [zone-orig=Z] [packets=N bytes=N] [[UNREPLIED]]
 *   src=A dst=A L4-FIELDS [zone-reply=Z] [packets=N bytes=N]
 *   [[HW_OFFLOAD]|[OFFLOAD]|[ASSURED]] [mark=N] [secctx=S] [zone=Z]
 *   [delta-time=N] use=N
 *
 * L3: "ipv4 2" or "ipv6 10"; IPv6 addresses come uncompressed
 * (%pI6: 0000:...:0001), compressed ones are accepted too.  L4-FIELDS by
 * L4NAME: tcp, udp, udplite, dccp, sctp "sport=N dport=N"; icmp, icmpv6
 * "type=N code=N id=N"; gre "srckey=0xN dstkey=0xN"; "unknown" (any other
 * protocol, or one whose tracker is not loaded) none.
 *
 * The parser takes the key=value fields after the header in any order
 * (the first src= opens the original tuple, the second the reply tuple;
 * dst=, the L4 fields and packets=/bytes= belong to the tuple opened last),
 * ignores keys it does not know (secctx=, delta-time=, labels= ...) and
 * bracketed flags it does not know, and requires:
 *   - the use= field last: the kernel always prints it last, so a line cut
 *     anywhere before it is refused rather than read with a shortened number
 *     (a cut inside use= itself changes nothing that is reported);
 *   - both tuples complete, with the L4 fields of the protocol named;
 *   - packets= and bytes= in both directions or in neither.
 */

/* Flags of a parsed line (the bracketed words). */
#define CTACCT_L_UNREPLIED	0x01	/* nothing seen in the reply direction */
#define CTACCT_L_ASSURED	0x02
#define CTACCT_L_OFFLOAD	0x04	/* [OFFLOAD] or [HW_OFFLOAD] */
#define CTACCT_L_HW_OFFLOAD	0x08
#define CTACCT_L_HAS_MARK	0x10	/* mark= was present */

struct ctacct_tuple {
	uint8_t src[16], dst[16];	/* network order; IPv4 in the first 4
					 * bytes, the rest 0 */
	/* tcp, udp, udplite, dccp, sctp: the ports.  0 for every other
	 * protocol: ICMP has its id below instead (ports 0 is also what
	 * flow_key_from_packet() gives an ICMP packet). */
	uint16_t sport, dport;
	uint16_t icmp_id;		/* icmp, icmpv6 */
	uint8_t icmp_type, icmp_code;
	uint16_t gre_key[2];		/* gre: srckey, dstkey */
};

struct ctacct_line {
	uint8_t family;			/* AF_INET or AF_INET6 */
	uint8_t ip_proto;		/* L4NUM */
	uint8_t flags;			/* CTACCT_L_* */
	uint16_t zone;			/* zone=, zone-orig= or zone-reply=; 0 */
	uint32_t mark;			/* conntrack mark, 0 without mark= */
	/* [0] the original tuple, [1] the reply tuple: each as printed, that
	 * is as the packets of that direction look at the conntrack hook,
	 * before NAT (so with NAT tuple[1] is not tuple[0] reversed). */
	struct ctacct_tuple tuple[2];
	/* [0] sent by tuple[0].src (original direction), [1] by tuple[1].src
	 * (reply direction).  0 when the line has no counters. */
	uint64_t packets[2], bytes[2];
};

/* Parses LINE, LEN bytes; a trailing '\n' is allowed, no other control
 * character, no NUL terminator needed (nothing at or after LINE + LEN is
 * read).
 *   0        parsed, with counters
 *   -ENODATA parsed, but the entry has no counters (it was created while
 *            nf_conntrack_acct was 0): every field but the counters is set
 *   -EINVAL  not a conntrack line: garbage, truncated, unknown family;
 *            *OUT is all zero */
int ctacct_parse_line(const char *line, size_t len, struct ctacct_line *out);

/*
 * The canonical flow key (flow_key_from_packet()) of the entry's packets as
 * the daemon's forward hook sees them, and the key side (0 or 1) that sends
 * the original direction.
 *
 * The forward hook sees a packet after destination NAT (prerouting) and
 * before source NAT (postrouting), so its two ends are always the original
 * sender tuple[0].src:sport and the real responder tuple[1].src:sport.
 * Without NAT that is tuple[0] itself; with masquerade (the router's usual
 * case) still tuple[0]; with a port forward (DNAT) the responder is the LAN
 * host, not the router's address the original tuple names.
 *
 * As in flow_key_from_packet(): ports only for TCP and UDP (ICMP, SCTP,
 * DCCP, UDP-Lite, GRE and the rest have ports 0, whatever the entry's L4
 * fields), and the VLAN is 0: conntrack does not know it.
 */
int ctacct_line_key(const struct ctacct_line *l, struct flow_key *k);

/* --- the tracker ----------------------------------------------------------- */

/* Up = from the flow's initiator to its responder, down = towards the
 * initiator.  Called only for a flow whose counters grew (at least one of
 * the four is nonzero). */
typedef void ctacct_credit_fn(void *ctx, uint32_t slot, uint64_t up_bytes,
			      uint64_t up_packets, uint64_t down_bytes,
			      uint64_t down_packets);

struct ctacct;

#define CTACCT_MAX_CAPACITY	(1u << 28)
#define CTACCT_FORGET_POLLS	2	/* default, see ctacct_set_forget_polls */

/*
 * A tracker for at most CAPACITY flows (1 .. CTACCT_MAX_CAPACITY) and
 * 2 x CAPACITY conntrack entries (a flow usually has one; ICMP between two
 * hosts one per echo id still alive).  Everything is allocated here; nothing
 * is allocated afterwards.  NULL with errno (EINVAL, ENOMEM).
 */
struct ctacct *ctacct_new(size_t capacity);
void ctacct_free(struct ctacct *a);	/* NULL is a no-op */

/* How many polls in a row a tracked flow may be missing from the table
 * before it is forgotten (its conntrack entries died): 1 .. 255, default
 * CTACCT_FORGET_POLLS.  More than 1 because a read of /proc is not one
 * atomic snapshot: a table resize under way can hide an entry from one
 * read.  0 or -EINVAL. */
int ctacct_set_forget_polls(struct ctacct *a, unsigned polls);

/*
 * Registers a decided flow: key K (as flow_key_from_packet() built it; its
 * VLAN is ignored, conntrack does not see it), INITIATOR_SIDE its initiator's
 * key side (0 or 1), SLOT the caller's accounting slot, returned as is by
 * credits.
 *
 * ALREADY_BYTES and ALREADY_PACKETS ([0] up, [1] down; either may be NULL for
 * none) are what the daemon has itself counted for this flow from the
 * packets it saw.  Conntrack counted those packets too, so they are
 * subtracted from what the kernel reports for the flow in the first poll
 * that finds it (summed over its entries, per direction and counter),
 * clamped at zero.  An excess (the daemon counted more than the kernel
 * reports: the entry was replaced before that poll) is dropped then, not
 * carried on, so it cannot eat into later traffic.  Rule for the caller:
 * count a flow's packets yourself until you track it, never after.
 *
 * Tracking a key already tracked updates it: SLOT and INITIATOR_SIDE are
 * replaced, and everything credited from the next poll on goes to the new
 * slot, including traffic since the last poll (a re-judged flow's growth
 * since the last poll, a few seconds' worth, goes to its new slot).  Its
 * ALREADY counters replace the earlier ones if no poll has found the flow
 * yet, and are ignored otherwise.
 *
 * Thread-safe (an internal mutex; once per decided flow, never per packet).
 *   0        tracked (or updated)
 *   -EINVAL  INITIATOR_SIDE > 1, a family that is not AF_INET/AF_INET6, or
 *            ports on a protocol other than TCP/UDP (not a flow_key_from_
 *            packet() key: it could never match)
 *   -ENOSPC  CAPACITY flows are tracked: counted (ctacct_stats().track_full),
 *            nothing kept.  What is lost is the kernel's count of this flow
 *            beyond what the daemon counted itself; room comes back as
 *            tracked flows end and are forgotten.
 */
int ctacct_track(struct ctacct *a, const struct flow_key *k,
		 uint8_t initiator_side, uint32_t slot,
		 const uint64_t already_bytes[2],
		 const uint64_t already_packets[2]);

/*
 * Stops tracking K (VLAN ignored) and its conntrack entries.  Growth since
 * the last poll is not credited.  Tracking the same, still live, conntrack
 * entry again later credits its whole history once more (less the ALREADY
 * counters): to move a flow to another slot, call ctacct_track() again
 * instead.  Thread-safe.  0, or -ENOENT if K was not tracked.
 */
int ctacct_forget(struct ctacct *a, const struct flow_key *k);

/* Counters of one poll. */
struct ctacct_poll_stats {
	uint64_t lines;		/* lines read */
	uint64_t parsed;	/* of which were conntrack lines */
	uint64_t bad_lines;	/* of which were not (or longer than
				 * CTACCT_LINE_MAX): skipped */
	uint64_t acct_off;	/* parsed lines without counters */
	uint64_t matched;	/* parsed lines of a tracked flow */
	uint64_t untracked;	/* parsed lines of no tracked flow: ignored */
	uint64_t credits;	/* credit() calls */
	uint64_t replaced;	/* entries replaced by a new one for the
				 * same original tuple (counters went down, or
				 * another responder): credited as new */
	uint64_t no_room;	/* matched lines whose entry could not be
				 * followed (entry pool full): credited at a
				 * later poll with room, if still alive */
	uint64_t entries_ended;	/* conntrack entries gone for N polls */
	uint64_t forgotten;	/* tracked flows gone for N polls */
};

#define CTACCT_LINE_MAX	1024	/* bytes with the '\n'; the kernel's longest
				 * (IPv6, every optional field) is < 450 */

/*
 * Reads the whole conntrack table from CONNTRACK (the caller opens
 * /proc/net/nf_conntrack for each poll; tests pass a memory stream) to its
 * end and, for each tracked flow that grew since the last poll, calls
 * CREDIT(CTX, slot, ...) with the growth: a new conntrack entry of a tracked
 * flow is credited with all its counters (less the flow's ALREADY counters
 * in the first poll that finds it); an entry whose counters went down, or
 * whose responder changed (another NAT mapping), was replaced by a new one
 * for the same original tuple and is credited with its new counters, to the
 * flow it now belongs to.  Not detected: a replacement whose new entry already has at
 * least the old one's counts at the next poll (a tuple closed and reopened
 * with more traffic within one poll interval); its old entry's last bytes
 * are then lost and the new entry's first ones too, up to the old counts.
 *
 * Then the end-of-table sweep: entries and tracked flows missing from this
 * and the previous polls (ctacct_set_forget_polls()) are forgotten.  A flow
 * tracked while the poll is running is not counted missing by it.
 *
 * NOW_MS is the caller's clock, kept as ctacct_stats().last_poll_ms.
 * CREDIT may be NULL (growth is then dropped), ST may be NULL.  Never
 * called with the tracker's lock held, so it may call ctacct_track().
 *
 * One poller at a time (the main thread); workers may track and forget
 * meanwhile (the lock is taken per line, and per chunk of the sweep, so a
 * worker never waits for a whole read of the table).
 *   0      the table was read to its end
 *   -errno reading it failed (ST tells how far it got): lines read were
 *          credited, but nothing is counted missing by this poll
 */
int ctacct_poll(struct ctacct *a, FILE *conntrack, uint64_t now_ms,
		ctacct_credit_fn *credit, void *ctx,
		struct ctacct_poll_stats *st);

struct ctacct_stats {
	uint64_t capacity;		/* flows */
	uint64_t entry_capacity;	/* conntrack entries */
	uint64_t flows;			/* tracked now */
	uint64_t entries;		/* conntrack entries followed now */
	uint64_t track_full;		/* ctacct_track() -ENOSPC, ever */
	uint64_t forgotten;		/* flows forgotten by polls, ever */
	uint64_t polls;
	uint64_t last_poll_ms;		/* NOW_MS of the last poll */
};

/* Thread-safe. */
void ctacct_stats(struct ctacct *a, struct ctacct_stats *out);

#endif
