/* detect.c - report interval, new-flow flood and scan detectors. */
#include <math.h>
#include <string.h>

#include "daemon/detect.h"

enum { SEEN_NONE, SEEN_REPORT, SEEN_ANCHOR };

/*
 * Tumbling windows that start at the first event after the previous window
 * ended.  true when NOW_MS starts a new window (and *START is set to it).
 * An event a little before the window's start (out-of-order packets in a
 * capture, at most one window) belongs to the current window; a longer step
 * back starts a new one, or the detector would be blind until the clock
 * caught up.
 */
static bool window_roll(uint64_t *start, uint8_t *started, uint64_t now_ms,
			uint32_t window_ms)
{
	if (*started) {
		if (now_ms >= *start) {
			if (now_ms - *start < window_ms)
				return false;
		} else if (*start - now_ms <= window_ms) {
			return false;
		}
	}
	*start = now_ms;
	*started = 1;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Report interval */

static const char *const verdict_names[__INTERVAL_MAX] = {
	[INTERVAL_OK] = "ok",
	[INTERVAL_FIRST] = "first",
	[INTERVAL_BURST] = "burst",
	[INTERVAL_EARLY] = "early",
	[INTERVAL_LATE] = "late",
};

const char *interval_verdict_name(enum interval_verdict v)
{
	return (unsigned)v < __INTERVAL_MAX ? verdict_names[v] : NULL;
}

static enum interval_verdict report_first(struct interval_track *t,
					  uint64_t now_ms, uint64_t *gap_ms)
{
	t->start_ms = now_ms;
	t->seen = SEEN_REPORT;
	t->late_said = 0;
	if (gap_ms)
		*gap_ms = 0;
	return INTERVAL_FIRST;
}

enum interval_verdict interval_observe(struct interval_track *t,
				       uint64_t now_ms, uint32_t every_ms,
				       uint32_t tolerance_ms, uint32_t burst_ms,
				       uint64_t *gap_ms)
{
	uint64_t gap, early_below;

	if (t->seen != SEEN_REPORT)
		return report_first(t, now_ms, gap_ms);
	if (now_ms < t->start_ms) {
		if (t->start_ms - now_ms > burst_ms)
			return report_first(t, now_ms, gap_ms);
		gap = 0;	/* reordered within the report */
	} else {
		gap = now_ms - t->start_ms;
	}
	if (gap_ms)
		*gap_ms = gap;
	/* Anchored at the report's first flow, not chained: see the header. */
	if (gap <= burst_ms)
		return INTERVAL_BURST;
	t->start_ms = now_ms;
	t->late_said = 0;
	/* The loader refuses tolerance >= every; saturate anyway rather than
	 * wrap into "everything is early". */
	early_below = every_ms > tolerance_ms ? every_ms - tolerance_ms : 0;
	return every_ms && gap < early_below ? INTERVAL_EARLY : INTERVAL_OK;
}

enum interval_verdict interval_check_late(struct interval_track *t,
					  uint64_t now_ms, uint32_t every_ms,
					  uint32_t tolerance_ms,
					  uint64_t *gap_ms)
{
	uint64_t gap = 0;

	if (t->seen != SEEN_NONE && now_ms < t->start_ms) {
		t->start_ms = now_ms;
		t->seen = SEEN_ANCHOR;
		t->late_said = 0;
	}
	if (t->seen != SEEN_NONE)
		gap = now_ms - t->start_ms;
	if (gap_ms)
		*gap_ms = gap;
	if (t->seen == SEEN_NONE || !every_ms || t->late_said
	    || gap <= (uint64_t)every_ms + tolerance_ms)
		return INTERVAL_OK;
	t->late_said = 1;
	return INTERVAL_LATE;
}

/* ------------------------------------------------------------------------ */
/* New-flow flood */

bool flood_observe(struct flood_window *w, uint64_t now_ms, uint32_t limit,
		   uint32_t window_ms, uint32_t *count)
{
	if (!limit || !window_ms) {
		if (count)
			*count = 0;
		return false;
	}
	if (window_roll(&w->start_ms, &w->started, now_ms, window_ms)) {
		w->count = 0;
		w->said = 0;
	}
	if (w->count < UINT32_MAX)
		w->count++;
	if (count)
		*count = w->count;
	if (w->said || w->count <= limit)
		return false;
	w->said = 1;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Scan */

/* splitmix64 finaliser: a bijection, so distinct inputs stay distinct, with
 * every input bit reaching the low bits that pick a bitmap position. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

#define GOLDEN 0x9e3779b97f4a7c15ULL

/* Bytes are read little-endian one by one, so a capture replayed on a
 * big-endian router sets the same bits (and raises the same alerts) as on a
 * laptop. */
static uint64_t hash_addr(uint64_t seed, const uint8_t *a, size_t len)
{
	uint64_t h = mix64(seed ^ (len * GOLDEN)), word;
	size_t i, n;

	while (len) {
		n = len < 8 ? len : 8;
		word = 0;
		for (i = 0; i < n; i++)
			word |= (uint64_t)a[i] << (8 * i);
		h = mix64(h ^ word) + GOLDEN;
		a += n;
		len -= n;
	}
	return h;
}

/* Sets the bit H selects; true if it was zero. */
static bool bit_set(uint64_t *map, uint64_t h)
{
	uint32_t i = (uint32_t)h & (SCAN_BITS - 1);
	uint64_t b = 1ULL << (i & 63);

	if (map[i / 64] & b)
		return false;
	map[i / 64] |= b;
	return true;
}

/* Linear counting: m ln(m / z).  With no zero bit left the count is beyond
 * what m bits can tell; say "at least" the larger of the threshold and the
 * estimate of one zero bit (m ln m). */
static uint32_t estimate(uint16_t zero, uint32_t threshold, uint8_t *at_least)
{
	const double m = SCAN_BITS;
	double n;

	*at_least = !zero;
	if (!zero) {
		n = ceil(m * log(m));
		return n > threshold ? (uint32_t)n : threshold;
	}
	return (uint32_t)lround(m * log(m / zero));
}

void scan_init(struct scan_window *w, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->seed = seed;
}

static uint32_t flag_raise(struct scan_window *w, uint32_t flag,
			   uint32_t est, uint8_t at_least, uint32_t threshold)
{
	if (!threshold || (w->said & flag) || (!at_least && est <= threshold))
		return 0;
	w->said |= flag;
	return flag;
}

uint32_t scan_observe(struct scan_window *w, uint64_t now_ms,
		      uint32_t window_ms, const uint8_t *addr, size_t addr_len,
		      uint16_t port, uint32_t host_threshold,
		      uint32_t port_threshold, struct scan_result *out)
{
	struct scan_result r;
	uint64_t h;

	memset(&r, 0, sizeof(r));
	if (!window_ms) {
		if (out)
			*out = r;
		return 0;
	}
	if (window_roll(&w->start_ms, &w->started, now_ms, window_ms)) {
		memset(w->hosts, 0, sizeof(w->hosts));
		memset(w->pairs, 0, sizeof(w->pairs));
		w->hosts_zero = w->pairs_zero = SCAN_BITS;
		w->said = 0;
	}
	h = hash_addr(w->seed, addr, addr_len);
	if (bit_set(w->hosts, h))
		w->hosts_zero--;
	/* The pair's hash is a bijection of (host hash + port): the ports of
	 * one host give distinct 64-bit hashes, and only the bits that pick a
	 * position collide, as linear counting expects. */
	if (bit_set(w->pairs, mix64(h + GOLDEN * (port + 1ULL))))
		w->pairs_zero--;
	r.hosts = estimate(w->hosts_zero, host_threshold, &r.hosts_at_least);
	r.pairs = estimate(w->pairs_zero, port_threshold, &r.pairs_at_least);
	r.flags = flag_raise(w, SCAN_HOSTS, r.hosts, r.hosts_at_least,
			host_threshold);
	r.flags |= flag_raise(w, SCAN_PORTS, r.pairs, r.pairs_at_least,
			 port_threshold);
	if (out)
		*out = r;
	return r.flags;
}
