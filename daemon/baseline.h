/* baseline.h - throughput baselines and volume limits, as pure arithmetic.
 *
 * One struct baseline learns how many bytes one device sends (or receives)
 * to one service per bucket of time, and says when a bucket is far from
 * what it learnt; one struct volume_window counts bytes against explicit
 * hourly and daily limits of the policy.  Both are plain fixed-width
 * structs that the caller embeds in its own tables and may save to a state
 * file field by field; nothing here allocates, locks, logs or reads a
 * clock.  Time is always an argument, in milliseconds, so a replayed
 * capture or a test gets exactly the answers of the live daemon.
 *
 * Rates are bytes per bucket throughout; baseline_per_sec() converts.
 * Baselines only need one millisecond clock shared by all of them (buckets
 * are aligned to its zero); volume windows need UTC.
 */
#ifndef IOTJAIL_BASELINE_H
#define IOTJAIL_BASELINE_H

#include <stddef.h>
#include <stdint.h>

struct baseline_params {
	uint32_t bucket_ms;	/* bucket length (default 300000: 5 min) */
	uint32_t learn_buckets;	/* no event before this many buckets have
				 * been learnt (default 12: an hour) */
	double alpha;		/* EWMA weight of a new bucket, (0, 1]
				 * (default 0.05: a memory of ~20 buckets) */
	double k;		/* a bucket further than k sd from the mean
				 * is an event, > 0 (default 4) */
	double sd_floor;	/* the sd used is at least this fraction of
				 * the mean, >= 0 (default 0.1; see below) */
	uint64_t min_bytes;	/* noise floor in bytes per bucket (default
				 * 10240): ABOVE needs a bucket of at least
				 * this much, BELOW and SILENT a mean of at
				 * least this much */
};

void baseline_params_default(struct baseline_params *p);
/* 0, or -EINVAL if a field is out of the range given above.  The other
 * functions take any params: a field this rejects is read as its default,
 * so a bad value can neither divide by zero nor spread NaN into a saved
 * baseline. */
int baseline_params_check(const struct baseline_params *p);

/* How a bucket is learnt (the reasons are in baseline.c):
 * - the first buckets, while 1/(n+1) > alpha, are a plain average, so the
 *   baseline does not start from zero; after that, an EWMA of weight alpha;
 * - the sd a bucket is judged with is at least sd_floor * mean, at least
 *   min_bytes / k and at least 1 byte, so a perfectly regular device is not
 *   reported for a small wobble and a deviation under min_bytes never is;
 * - an ABOVE bucket is learnt as if it were mean + k*sd (clamped): one
 *   spike, however large, moves the baseline by a bounded amount, while a
 *   lasting rise widens the sd by a constant factor per bucket (x1.3 with
 *   the defaults) until it is no longer an event;
 * - BELOW and empty buckets are learnt as they are: they are at most the
 *   mean away from it, so their influence is bounded already.
 * So a device back from a long silence, which the baseline has learnt as
 * the new normal, is reported ABOVE bucket after bucket until the sd has
 * widened (with the defaults: 5 buckets after 100 silent ones, 18 after a
 * day or more); whoever turns events into alerts should fold such a run.
 */

/* Bits of baseline.flags. */
#define BASELINE_F_PARTIAL	0x1u	/* the open bucket began mid-bucket
					 * (baseline_init); it is not learnt */
#define BASELINE_F_SILENT	0x2u	/* SILENT was reported for the current
					 * run of empty buckets */

/* Plain old data: baseline_init() it (zeroed, it would learn every bucket
 * since the epoch as empty), then only these functions change it.  Saving
 * and restoring every field resumes it exactly. */
struct baseline {
	uint64_t bucket_start_ms;	/* start of the open bucket, a multiple
					 * of bucket_ms (so every baseline's
					 * buckets line up) */
	uint64_t bucket_bytes;		/* so far in the open bucket */
	uint64_t bucket_packets;	/*   (both saturating) */
	uint32_t n_buckets;		/* buckets learnt (saturating) */
	uint32_t flags;			/* BASELINE_F_* */
	double mean;			/* EWMA of bytes per bucket */
	double var;			/* exponentially weighted variance of
					 * bytes per bucket (bytes^2) */
};

enum baseline_event_kind {
	BASELINE_ABOVE,		/* a bucket above mean + k*sd, and of at least
				 * min_bytes */
	BASELINE_BELOW,		/* a non-empty bucket below mean - k*sd, with
				 * mean >= min_bytes */
	BASELINE_SILENT,	/* an empty bucket with mean >= min_bytes and
				 * below mean - k*sd (empty is unusual): once
				 * per run of empty buckets */
	__BASELINE_EVENT_MAX
};

/* "above", "below", "silent"; NULL out of range. */
const char *baseline_event_name(enum baseline_event_kind k);

struct baseline_event {
	enum baseline_event_kind kind;
	uint32_t bucket_ms;
	uint64_t bucket_start_ms;	/* the bucket judged; for SILENT the
					 * first reported empty bucket */
	uint64_t bytes;			/* in that bucket (0 for SILENT) */
	uint64_t packets;
	double mean;			/* what it was judged against: the */
	double sd;			/*   baseline before that bucket, the
					 * sd after the floors */
};

/* At most this many events come out of one baseline_add() or _tick(). */
#define BASELINE_MAX_EVENTS 2

/* Starts an empty baseline whose open bucket is the one holding NOW_MS.
 * If NOW_MS is not a bucket boundary that first bucket is partial and is
 * dropped when it closes instead of being learnt as a quiet bucket. */
void baseline_init(struct baseline *b, uint64_t now_ms,
		   const struct baseline_params *p);

/* Closes every bucket that ended at or before NOW_MS, then counts BYTES and
 * PACKETS in the open bucket.  Each closed bucket is judged against the
 * baseline as it was before it (no event until learn_buckets buckets are
 * learnt), then learnt.  Writes at most N_EV events to EV, oldest first, and
 * returns how many.
 *
 * One call makes at most BASELINE_MAX_EVENTS events: one for the bucket
 * that was open (ABOVE or BELOW) and one SILENT for the empty buckets after
 * it.  If N_EV is smaller, the ABOVE or BELOW is kept and the SILENT left
 * out.  A SILENT left out is not lost: it is reported at the next empty
 * bucket that closes while the device is still silent (and that silence
 * still unusual), whereas the bucket
 * of an ABOVE or BELOW is gone.  N_EV 0 is allowed (learn, report nothing).
 *
 * Any gap costs the same: a run of empty buckets (a device off for days, a
 * clock jumping years ahead) is learnt in closed form and makes at most
 * one SILENT.
 *
 * If NOW_MS is before the open bucket (the clock went back), nothing
 * closes and the bytes count in the open bucket; buckets resume closing
 * once the clock passes its end again. */
size_t baseline_add(struct baseline *b, const struct baseline_params *p,
		    uint64_t now_ms, uint64_t bytes, uint64_t packets,
		    struct baseline_event *ev, size_t n_ev);

/* baseline_add() with no traffic: closes the buckets that ended by NOW_MS.
 * Call it periodically, or silence is only seen when traffic resumes. */
size_t baseline_tick(struct baseline *b, const struct baseline_params *p,
		     uint64_t now_ms, struct baseline_event *ev, size_t n_ev);

/* The sd the next bucket will be judged with, floors included. */
double baseline_sd(const struct baseline *b, const struct baseline_params *p);

/* Bytes per bucket to bytes per second. */
double baseline_per_sec(double per_bucket, uint32_t bucket_ms);

/* --- explicit volume limits --------------------------------------------
 *
 * One struct volume_window per device and direction counts bytes in the
 * current UTC hour and UTC day.  Windows are fixed and aligned to the
 * epoch (hh:00:00.000 to hh:59:59.999, 00:00 to 24:00 UTC), not sliding:
 * 90% of the limit at 10:59 and 90% again at 11:01 is not reported.  A
 * limit is reported once per window, by the add that first takes the
 * window's total strictly above it.
 */

#define VOLUME_HOUR_MS	3600000u
#define VOLUME_DAY_MS	86400000u

/* Bits of volume_window.flags. */
#define VOLUME_F_HOUR	0x1u	/* LIMIT_HOUR reported in this hour */
#define VOLUME_F_DAY	0x2u	/* LIMIT_DAY reported in this day */

/* Plain old data; all zeros is a valid empty window. */
struct volume_window {
	uint64_t hour_start_ms;	/* start of the current hour window */
	uint64_t hour_bytes;	/* bytes in it (saturating) */
	uint64_t day_start_ms;	/* start of the current day window */
	uint64_t day_bytes;	/* bytes in it (saturating) */
	uint32_t flags;		/* VOLUME_F_* */
};

enum volume_event_kind {
	VOLUME_LIMIT_HOUR,
	VOLUME_LIMIT_DAY,
	__VOLUME_EVENT_MAX
};

/* "limit_hour", "limit_day"; NULL out of range. */
const char *volume_event_name(enum volume_event_kind k);

struct volume_event {
	enum volume_event_kind kind;
	uint32_t window_ms;		/* VOLUME_HOUR_MS or VOLUME_DAY_MS */
	uint64_t window_start_ms;
	uint64_t bytes;			/* the window's total, now */
	uint64_t limit;
};

#define VOLUME_MAX_EVENTS 2

/* Counts BYTES at NOW_MS (UTC, milliseconds since the epoch) against
 * LIMIT_HOUR and LIMIT_DAY (0: no limit), writes at most N_EV events to EV
 * (hour first) and returns how many.  A limit whose event did not fit
 * stays unreported, so the next add in the same window reports it.  If
 * NOW_MS is before the current windows (the clock went back), the bytes
 * count in the current windows. */
size_t volume_add(struct volume_window *w, uint64_t now_ms, uint64_t bytes,
		  uint64_t limit_hour, uint64_t limit_day,
		  struct volume_event *ev, size_t n_ev);

#endif
