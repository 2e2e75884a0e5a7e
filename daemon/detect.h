/* detect.h - behavioural detectors: report interval, new-flow flood, scan.
 *
 * Each detector is a plain-old-data struct that its owner embeds (per device,
 * or per device x service) and feeds with observations; a zeroed struct is a
 * fresh detector (scan_init() also sets a hash seed), and zeroing it again
 * resets it.  The limits are passed on every call, not stored, so that a
 * reload that changes a policy_limits value (every_ms, tolerance_ms,
 * new_flows, new_flows_window_ms, max_endpoints) applies at the next call
 * without touching the state.
 *
 * Time is the caller's clock in milliseconds (the capture's in replay, a
 * monotonic one live), so replays and tests are deterministic.  A clock that
 * goes backwards never blinds a detector for longer than one of its own
 * periods: each function says what it does.
 *
 * Not thread-safe: the caller serializes access to each struct (it belongs to
 * one worker, or sits under its owner's lock).  No allocation, no I/O, no
 * logging.
 */
#ifndef IOTJAIL_DETECT_H
#define IOTJAIL_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------ */
/* Report interval: a service that reports every_ms +- tolerance_ms.
 *
 * A "report" is what the device does once per period; it may open several
 * flows (a DNS query, then the TLS connection, maybe an NTP check), so the
 * observations that fall within burst_ms of the *first* observation of a
 * report belong to that report.  The burst is anchored at its first
 * observation, not chained from one to the next: chaining would let a device
 * that opens a flow every burst_ms/2 stay inside one endless report and never
 * be early.  burst_ms must therefore be well below every_ms - tolerance_ms
 * (a gap of at most burst_ms is never EARLY); a second or two suits
 * intervals of a minute or more.
 *
 * The interval is measured from the start of one report to the start of the
 * next.  An EARLY report still starts a new period: the next gap is measured
 * from it.
 */

enum interval_verdict {
	INTERVAL_OK,	/* on time, or (check_late) not late / already said */
	INTERVAL_FIRST,	/* first report: nothing to compare with */
	INTERVAL_BURST,	/* part of the current report, not a new one */
	INTERVAL_EARLY,	/* gap < every_ms - tolerance_ms */
	INTERVAL_LATE,	/* (check_late only) gap > every_ms + tolerance_ms */
	__INTERVAL_MAX
};

/* "ok", "first", "burst", "early", "late"; NULL if out of range. */
const char *interval_verdict_name(enum interval_verdict v);

struct interval_track {
	uint64_t start_ms;	/* first observation of the current report */
	uint8_t seen;		/* 0: nothing yet; 1: start_ms is a report; 2:
				 * only a timer anchor (after a clock step) */
	uint8_t late_said;	/* LATE already returned for this gap */
};

/*
 * One observation (a new flow of the service) at NOW_MS.  *GAP_MS (if not
 * NULL) is the time since the start of the previous report (OK, EARLY), since
 * the start of the current one (BURST), or 0 (FIRST).
 *
 * FIRST for the first observation.  BURST if NOW_MS is within BURST_MS
 * (inclusive: 0 merges flows of the same millisecond) of the current
 * report's start.  Otherwise a new report starts at NOW_MS: EARLY if
 * the gap is shorter than EVERY_MS - TOLERANCE_MS, OK if not (a gap of exactly
 * every - tolerance is on time).  A late report is OK here: lateness is
 * interval_check_late()'s, which must not wait for the report to notice it.
 * EVERY_MS 0 means no expected interval: never EARLY.
 *
 * Clock backwards: an observation up to BURST_MS before the current report's
 * start (reordered packets) is part of that report (BURST); a longer step
 * back restarts the track at NOW_MS (FIRST), since no gap can be measured
 * across it.
 */
enum interval_verdict interval_observe(struct interval_track *t,
				       uint64_t now_ms, uint32_t every_ms,
				       uint32_t tolerance_ms, uint32_t burst_ms,
				       uint64_t *gap_ms);

/*
 * From a timer: INTERVAL_LATE once per gap, the first time NOW_MS - start >
 * EVERY_MS + TOLERANCE_MS; INTERVAL_OK otherwise (not late yet, already said,
 * nothing observed yet, or EVERY_MS 0).  The next report (a non-BURST
 * observation) re-arms it.  *GAP_MS (if not NULL) is NOW_MS - start, or 0
 * before the first observation.
 *
 * Clock backwards (NOW_MS before the current report's start): the track is
 * re-anchored at NOW_MS, so a silent device is LATE every + tolerance after
 * the step rather than after the clock has caught up with the old time; the
 * next observation is then FIRST, as no gap can be measured across the step.
 */
enum interval_verdict interval_check_late(struct interval_track *t,
					  uint64_t now_ms, uint32_t every_ms,
					  uint32_t tolerance_ms,
					  uint64_t *gap_ms);

/* ------------------------------------------------------------------------ */
/* New-flow flood: more than LIMIT new flows within WINDOW_MS.
 *
 * Fixed (tumbling) windows, each starting at the first flow after the previous
 * one ended rather than on multiples of WINDOW_MS, so that a burst is counted
 * from its own first flow.  Like any fixed window it can miss a burst that
 * straddles two windows with at most LIMIT flows in each (up to 2 x LIMIT in
 * WINDOW_MS); a sliding window would cost a timestamp per flow.
 */

struct flood_window {
	uint64_t start_ms;	/* start of the current window */
	uint32_t count;		/* new flows in it (saturating) */
	uint8_t started;	/* start_ms is valid */
	uint8_t said;		/* true already returned in this window */
};

/*
 * One new flow at NOW_MS.  true exactly once per window: at the flow that
 * makes the count first exceed LIMIT.  *COUNT (if not NULL) is the window's
 * count, this flow included.  LIMIT 0 or WINDOW_MS 0: off (W is left alone,
 * *COUNT is 0, never true).
 *
 * Clock backwards: a flow up to WINDOW_MS before the window's start
 * (reordered packets) counts in the current window; a longer step back starts
 * a new window at NOW_MS.
 */
bool flood_observe(struct flood_window *w, uint64_t now_ms, uint32_t limit,
		   uint32_t window_ms, uint32_t *count);

/* ------------------------------------------------------------------------ */
/* Scan: one device contacting many distinct hosts, or many distinct (host,
 * port) pairs, within a window.
 *
 * Exact distinct counting would need a set per device that the device itself
 * can grow without bound.  Instead each window keeps two bitmaps of
 * SCAN_BITS bits (hosts, and (host, port) pairs): an observation sets the bit
 * its hash selects, and the number of distinct items is estimated by linear
 * counting, n = m ln(m / z) for m bits of which z are still zero.  256 bytes
 * per device, O(1) per new flow.
 *
 * Error, m = 1024: the standard error is sqrt(m (e^t - t - 1)) / n with
 * t = n / m, about 2.2 % at n = 64 (+-1.4) and 2.3 % at n = 256 (+-5.9), under
 * 3 % up to n = 1000.  So a device a few below a threshold of 64 or 256 may
 * occasionally trigger it and one a few above may not; one that scans does so
 * by far more than a few percent, and a device that talks to 20 hosts is
 * nowhere near 64.  That is why an estimate is acceptable here.  Past about
 * m ln m (~7000 for m = 1024) the bitmap fills up: a saturated bitmap reports
 * "at least" (*_at_least) and counts as exceeding any threshold.
 *
 * The hash is a seeded 64-bit mix, not a cryptographic one.  The only party
 * that could aim at its collisions is the device being measured, to look
 * smaller than it is; picking addresses by their hash defeats the purpose of
 * a scan, and a device that wants to hide can simply scan more slowly.  A
 * random seed per run (scan_init()) still keeps it from precomputing a
 * colliding set of targets.
 *
 * Addresses are compared as bytes: the caller passes the 4 or 16 bytes of an
 * IPv4 or IPv6 address (an IPv4-mapped IPv6 address is a different host
 * unless the caller unmaps it).  The length is part of the hash.
 *
 * Every distinct host is also a distinct (host, port) pair, so a wide host
 * scan also raises SCAN_PORTS once its pairs exceed the port threshold.
 */

#define SCAN_BITS 1024

enum scan_flag {
	SCAN_HOSTS = 1 << 0,	/* distinct hosts > host_threshold */
	SCAN_PORTS = 1 << 1,	/* distinct (host, port) pairs > port_threshold */
};

struct scan_window {
	uint64_t seed;
	uint64_t start_ms;			/* start of the current window */
	uint64_t hosts[SCAN_BITS / 64];
	uint64_t pairs[SCAN_BITS / 64];
	uint16_t hosts_zero, pairs_zero;	/* zero bits, once started */
	uint8_t started;
	uint8_t said;				/* scan_flag bits already raised */
};

struct scan_result {
	uint32_t flags;		/* enum scan_flag raised by this observation */
	uint32_t hosts;		/* estimated distinct hosts in the window */
	uint32_t pairs;		/* estimated distinct (host, port) pairs */
	uint8_t hosts_at_least;	/* saturated: hosts is a lower bound */
	uint8_t pairs_at_least;
};

/* Zero W and set its hash seed (0 is a valid seed: tests use it; the daemon
 * should pass a random one). */
void scan_init(struct scan_window *w, uint64_t seed);

/*
 * One new flow at NOW_MS from the device to ADDR (ADDR_LEN bytes, at most
 * 16 is usual but any length hashes) port PORT.  Returns the flags raised by
 * this observation, each at most once per window: SCAN_HOSTS the first time
 * the host estimate exceeds HOST_THRESHOLD, SCAN_PORTS the first time the
 * pair estimate exceeds PORT_THRESHOLD (a threshold of 0 turns that flag
 * off).  OUT (if not NULL) gets those flags and the window's estimates after
 * this observation; a saturated estimate reads max(threshold, m ln m) with
 * its *_at_least set.
 *
 * Windows start at the first observation after the previous one ended, like
 * flood_observe(), and a step back of the clock is handled the same way.
 * WINDOW_MS 0: off (W is left alone, OUT is zeroed, returns 0).
 */
uint32_t scan_observe(struct scan_window *w, uint64_t now_ms,
		      uint32_t window_ms, const uint8_t *addr, size_t addr_len,
		      uint16_t port, uint32_t host_threshold,
		      uint32_t port_threshold, struct scan_result *out);

#endif
