/* test_baseline.c - throughput baselines and volume limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "daemon/baseline.h"

#define MS 300000u			/* the default bucket */
#define DAY_BUCKETS (86400000u / MS)	/* 288 */

/* Events of many calls, in order. */
struct rec {
	struct baseline_event ev[256];
	size_t n;
};

static void rec_put(struct rec *r, const struct baseline_event *ev, size_t n)
{
	size_t i;

	for (i = 0; i < n && r; i++) {
		assert_true(r->n < sizeof(r->ev) / sizeof(r->ev[0]));
		r->ev[r->n++] = ev[i];
	}
}

/* BYTES in bucket I (one second into it); returns the events that closing
 * the buckets before it made. */
static size_t put(struct baseline *b, const struct baseline_params *p,
		  uint64_t i, uint64_t bytes, struct rec *r)
{
	struct baseline_event ev[BASELINE_MAX_EVENTS];
	size_t n = baseline_add(b, p, i * p->bucket_ms + 1000, bytes,
				bytes ? 1 : 0, ev, BASELINE_MAX_EVENTS);

	rec_put(r, ev, n);
	return n;
}

/* Buckets FROM .. TO-1 with BYTES each. */
static void steady(struct baseline *b, const struct baseline_params *p,
		   uint64_t from, uint64_t to, uint64_t bytes, struct rec *r)
{
	uint64_t i;

	for (i = from; i < to; i++)
		put(b, p, i, bytes, r);
}

static void setup(struct baseline *b, struct baseline_params *p)
{
	baseline_params_default(p);
	baseline_init(b, 0, p);
}

static void assert_rel(double got, double want, double tol)
{
	if (fabs(got - want) > tol * fabs(want))
		fail_msg("got %.17g, want %.17g (relative %g)", got, want, tol);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_params(void **state)
{
	struct baseline_params p, bad, rej[7];
	struct baseline b;
	uint64_t i;

	(void)state;
	baseline_params_default(&p);
	assert_int_equal(p.bucket_ms, 300000);
	assert_int_equal(p.learn_buckets, 12);
	assert_true(p.alpha == 0.05 && p.k == 4 && p.sd_floor == 0.1);
	assert_int_equal(p.min_bytes, 10240);
	assert_int_equal(baseline_params_check(&p), 0);
	for (i = 0; i < 7; i++)
		rej[i] = p;
	rej[0].bucket_ms = 0;
	rej[1].alpha = 0;
	rej[2].alpha = 1.5;
	rej[3].alpha = NAN;
	rej[4].k = 0;
	rej[5].k = INFINITY;
	rej[6].sd_floor = -0.1;
	for (i = 0; i < 7; i++)
		assert_int_equal(baseline_params_check(&rej[i]), -EINVAL);
	bad = p;
	bad.alpha = 1;
	bad.sd_floor = 0;
	assert_int_equal(baseline_params_check(&bad), 0);

	/* Rejected fields read as their defaults: no division by zero, no
	 * NaN in the state, the same baseline as with the defaults. */
	bad = p;
	bad.bucket_ms = 0;
	bad.alpha = NAN;
	bad.k = 0;
	baseline_init(&b, 450000, &bad);
	assert_int_equal(b.bucket_start_ms, 300000);
	for (i = 1; i < 40; i++)
		baseline_add(&b, &bad, i * MS, 1000 * i, 1, NULL, 0);
	assert_true(isfinite(b.mean) && isfinite(b.var));
	assert_int_equal(b.bucket_start_ms, 39 * MS);

	assert_string_equal(baseline_event_name(BASELINE_SILENT), "silent");
	assert_null(baseline_event_name(__BASELINE_EVENT_MAX));
	assert_string_equal(volume_event_name(VOLUME_LIMIT_DAY), "limit_day");
	assert_null(volume_event_name(__VOLUME_EVENT_MAX));
	assert_true(baseline_per_sec(300000, 300000) == 1000);
}

/* The learning period: no event before learn_buckets buckets; the mean is
 * then the plain average, not an EWMA still climbing from zero. */
static void test_learning(void **state)
{
	struct baseline_params p;
	struct baseline b, c;
	struct rec r = { .n = 0 };
	double var = 0, d;
	uint64_t i;

	(void)state;
	setup(&b, &p);
	for (i = 0; i < 12; i++)
		put(&b, &p, i, (i + 1) * 10000, &r);
	put(&b, &p, 12, 0, &r);
	assert_int_equal(b.n_buckets, 12);
	assert_rel(b.mean, 65000, 1e-12);
	for (i = 0; i < 12; i++) {
		d = (i + 1) * 10000.0 - 65000;
		var += d * d;
	}
	assert_rel(b.var, var / 12, 1e-9);
	/* Bucket 11 was 12x bucket 0, bucket 12 empty: all unjudged. */
	assert_int_equal(r.n, 0);

	/* A 100x bucket as the 12th bucket learnt (11 learnt before it) is
	 * not judged; as the 13th it is. */
	setup(&b, &p);
	steady(&b, &p, 0, 11, 100000, NULL);
	c = b;
	put(&b, &p, 11, 10000000, NULL);
	assert_int_equal(put(&b, &p, 12, 100000, NULL), 0);
	put(&c, &p, 11, 100000, NULL);
	put(&c, &p, 12, 10000000, NULL);
	assert_int_equal(put(&c, &p, 13, 100000, &r), 1);
	assert_int_equal(r.ev[0].kind, BASELINE_ABOVE);
}

static void test_above_once(void **state)
{
	struct baseline_params p;
	struct baseline b;
	struct rec r = { .n = 0 };

	(void)state;
	setup(&b, &p);
	steady(&b, &p, 0, 30, 100000, &r);
	put(&b, &p, 30, 10000000, &r);
	steady(&b, &p, 31, 100, 100000, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].kind, BASELINE_ABOVE);
	assert_int_equal(r.ev[0].bucket_start_ms, 30 * MS);
	assert_int_equal(r.ev[0].bucket_ms, MS);
	assert_int_equal(r.ev[0].bytes, 10000000);
	assert_int_equal(r.ev[0].packets, 1);
	assert_true(r.ev[0].mean == 100000);
	/* A constant device: the sd is the 10% floor. */
	assert_true(r.ev[0].sd == 10000);
}

/* One spike, whatever its size, moves the baseline by the same bounded
 * amount, and the baseline still sees a 2x bucket right after it. */
static void test_spike_does_not_poison(void **state)
{
	struct baseline_params p;
	struct baseline b, c;
	struct rec r = { .n = 0 };
	uint64_t i;

	(void)state;
	setup(&b, &p);
	for (i = 0; i < 40; i++)
		put(&b, &p, i, i & 1 ? 95000 : 105000, NULL);
	c = b;
	put(&b, &p, 40, 10000000, &r);			/* 100x */
	put(&c, &p, 40, 100000000000ull, &r);		/* 1,000,000x */
	put(&b, &p, 41, 100000, &r);
	put(&c, &p, 41, 100000, &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.ev[0].kind, BASELINE_ABOVE);
	assert_int_equal(r.ev[1].kind, BASELINE_ABOVE);
	assert_true(b.mean == c.mean && b.var == c.var);
	/* Learnt as it is, a 100x bucket would lift the mean to ~600000. */
	assert_true(b.mean < 105000);
	put(&b, &p, 42, 200000, &r);
	put(&b, &p, 43, 100000, &r);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.ev[2].kind, BASELINE_ABOVE);
	assert_int_equal(r.ev[2].bucket_start_ms, 42 * MS);
}

static void test_below(void **state)
{
	struct baseline_params p;
	struct baseline b, c;
	struct rec r = { .n = 0 };

	(void)state;
	setup(&b, &p);
	steady(&b, &p, 0, 30, 100000, NULL);
	c = b;
	put(&b, &p, 30, 20000, &r);
	put(&b, &p, 31, 100000, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].kind, BASELINE_BELOW);
	assert_int_equal(r.ev[0].bucket_start_ms, 30 * MS);
	assert_int_equal(r.ev[0].bytes, 20000);
	assert_true(r.ev[0].mean == 100000 && r.ev[0].sd == 10000);
	/* Just inside mean - k*sd (60000): nothing. */
	b = c;
	put(&b, &p, 30, 60000, &r);
	put(&b, &p, 31, 100000, &r);
	assert_int_equal(r.n, 1);
	/* An empty bucket is SILENT, not BELOW. */
	b = c;
	put(&b, &p, 31, 100000, &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.ev[1].kind, BASELINE_SILENT);
	assert_int_equal(r.ev[1].bucket_start_ms, 30 * MS);
}

/* A device under the noise floor is never reported for its wobbles. */
static void test_min_bytes_floor(void **state)
{
	struct baseline_params p;
	struct baseline b, c;
	struct rec r = { .n = 0 };

	(void)state;
	setup(&b, &p);
	steady(&b, &p, 0, 30, 1000, NULL);
	c = b;
	put(&b, &p, 30, 8000, &r);	/* 8x, but under min_bytes */
	put(&b, &p, 31, 20, &r);	/* 1/50 */
	put(&b, &p, 32, 0, &r);
	put(&b, &p, 40, 1000, &r);	/* silent for 8 buckets */
	put(&b, &p, 41, 1000, &r);
	assert_int_equal(r.n, 0);
	/* The threshold is mean + min_bytes: 11000 is not above, 11500 is. */
	b = c;
	put(&b, &p, 30, 11000, &r);
	put(&b, &p, 31, 1000, &r);
	assert_int_equal(r.n, 0);
	b = c;
	put(&b, &p, 30, 11500, &r);
	put(&b, &p, 31, 1000, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ev[0].kind, BASELINE_ABOVE);
	assert_true(r.ev[0].sd == 10240.0 / 4);
	/* min_bytes 0: the floor of 1 byte keeps even an all-zero baseline
	 * learning (clamped to mean + k*1, it would otherwise stay at 0). */
	p.min_bytes = 0;
	baseline_init(&b, 0, &p);
	steady(&b, &p, 0, 20, 0, NULL);
	steady(&b, &p, 20, 400, 1000, NULL);
	assert_rel(b.mean, 1000, 1e-3);
}

/* A perfectly regular device has variance 0: a wobble must not count as
 * infinitely many sds. */
static void test_zero_variance(void **state)
{
	struct baseline_params p;
	struct baseline b, c;
	struct rec r = { .n = 0 };
	static const uint64_t quiet[] = { 1010000, 990000, 1300000, 700000 };
	size_t i;

	(void)state;
	setup(&b, &p);
	steady(&b, &p, 0, 50, 1000000, NULL);
	assert_true(b.var == 0);
	c = b;
	for (i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
		b = c;
		put(&b, &p, 50, quiet[i], &r);
		put(&b, &p, 51, 1000000, &r);
	}
	assert_int_equal(r.n, 0);
	b = c;
	put(&b, &p, 50, 1500000, &r);
	put(&b, &p, 51, 1000000, &r);
	assert_int_equal(r.n, 1);
	assert_true(r.ev[0].sd == 100000);
	assert_true(baseline_sd(&c, &p) == 100000);
}

/* Counts events after bucket 30, where a steady FROM turns into a steady TO
 * for good; returns the offset of the last one (-1: none). */
static int step_change(uint64_t from, uint64_t to, size_t *n)
{
	struct baseline_params p;
	struct baseline b;
	struct rec r = { .n = 0 };
	int last = -1;
	size_t i;

	setup(&b, &p);
	steady(&b, &p, 0, 30, from, &r);
	steady(&b, &p, 30, 30 + 250, to, &r);
	for (i = 0; i < r.n; i++) {
		assert_int_equal(r.ev[i].kind, to > from ? BASELINE_ABOVE
							 : BASELINE_BELOW);
		last = (int)(r.ev[i].bucket_start_ms / MS) - 30;
	}
	*n = r.n;
	return last;
}

/* A lasting change is learnt: each ABOVE bucket widens the sd ~1.3x, so
 * the alerts stop after about 9 buckets per factor of 10 (plus a few);
 * a lasting drop, learnt unclamped, within 2 buckets.  The bounds below
 * are those figures with a little room, and every bucket of the change
 * is reported until then (the events are consecutive). */
static void test_adapts_to_lasting_change(void **state)
{
	size_t n;
	int last;

	(void)state;
	last = step_change(100000, 1000000, &n);		/* 10x */
	assert_in_range(last, 3, 14);
	assert_int_equal(n, last + 1);
	last = step_change(100000, 100000000, &n);		/* 1000x */
	assert_in_range(last, 20, 32);
	assert_int_equal(n, last + 1);
	last = step_change(1000000, 100000, &n);		/* 1/10 */
	assert_in_range(last, 0, 2);
	assert_int_equal(n, last + 1);
	/* Within the floors, no change is one. */
	assert_int_equal(step_change(100000, 130000, &n), -1);
}

/* A device that stops: one SILENT for a month of silence, learnt in closed
 * form, the mean decaying as (1 - alpha)^n. */
static void test_silent_gap(void **state)
{
	struct baseline_params p;
	struct baseline b, c;
	struct baseline_event ev[BASELINE_MAX_EVENTS];
	uint64_t t, i, n_empty = 30 * DAY_BUCKETS;
	double t0, mean, var, a = 0.05;
	size_t n;

	(void)state;
	setup(&b, &p);
	steady(&b, &p, 0, 40, 50000, NULL);	/* open bucket: 39 */
	assert_true(b.mean == 50000 && b.var == 0);
	t = 40ull * MS + 30ull * 86400000;
	t0 = now_s();
	n = baseline_tick(&b, &p, t, ev, BASELINE_MAX_EVENTS);
	assert_true(now_s() - t0 < 1.0);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].kind, BASELINE_SILENT);
	assert_int_equal(ev[0].bucket_start_ms, 40 * MS);
	assert_int_equal(ev[0].bytes, 0);
	assert_true(ev[0].mean == 50000);
	assert_int_equal(b.bucket_start_ms, t);
	assert_int_equal(b.n_buckets, 40 + n_empty);
	/* The recurrences, one bucket at a time. */
	for (i = 0, mean = 50000, var = 0; i < n_empty; i++) {
		var = (1 - a) * (var + a * mean * mean);
		mean *= 1 - a;
	}
	assert_true(mean > 0);
	assert_rel(b.mean, mean, 1e-9);
	assert_rel(b.var, var, 1e-9);

	/* Still silent: nothing more. */
	c = b;
	for (i = 1; i <= 100; i++)
		assert_int_equal(baseline_tick(&b, &p, t + i * MS, ev, 2), 0);
	/* It comes back, then stops again: a new silence, reported again. */
	b = c;
	steady(&b, &p, t / MS, t / MS + 200, 50000, NULL);
	assert_int_equal(baseline_tick(&b, &p, t + 210 * MS, ev, 2), 1);
	assert_int_equal(ev[0].kind, BASELINE_SILENT);
	assert_int_equal(ev[0].bucket_start_ms, t + 200 * MS);

	/* A clock jumping 30,000 years with 1 ms buckets: 1e15 buckets,
	 * which no loop would get through. */
	p.bucket_ms = 1;
	baseline_init(&b, 0, &p);
	for (i = 0; i < 40; i++)
		baseline_add(&b, &p, i, 50000, 1, ev, 2);
	t0 = now_s();
	n = baseline_tick(&b, &p, 1000000000000000ull, ev, 2);
	assert_true(now_s() - t0 < 1.0);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].bucket_start_ms, 40);
	assert_true(b.mean == 0 && b.var == 0);
	assert_int_equal(b.n_buckets, UINT32_MAX);
}

/* A silence ticked bucket by bucket gives the same events and state as one
 * tick at its end, also across the end of the warm-up average.  A silence
 * that starts while the baseline is still learning is learnt as part of it:
 * its empty buckets make the spread so wide that empty is not unusual, so
 * it is not reported; after a steady hour it is, at its first bucket. */
static void test_silent_ticks_equal_one_call(void **state)
{
	static const uint64_t steady_for[2] = { 5, 15 };
	struct baseline_params p;
	struct baseline b, c;
	struct baseline_event ev[BASELINE_MAX_EVENTS];
	uint64_t i, s;
	size_t n;
	int k;

	(void)state;
	for (k = 0; k < 2; k++) {
		struct rec r = { .n = 0 };

		s = steady_for[k];
		setup(&b, &p);
		steady(&b, &p, 0, s, 100000, NULL);	/* learnt: s - 1, open: 1 */
		c = b;
		for (i = s + 1; i <= s + DAY_BUCKETS; i++)
			rec_put(&r, ev, baseline_tick(&b, &p, i * MS, ev, 2));
		n = baseline_tick(&c, &p, (s + DAY_BUCKETS) * MS, ev, 2);
		assert_int_equal(r.n, k);
		assert_int_equal(n, k);
		if (k) {
			assert_int_equal(ev[0].kind, BASELINE_SILENT);
			assert_int_equal(r.ev[0].kind, BASELINE_SILENT);
			assert_int_equal(ev[0].bucket_start_ms, s * MS);
			assert_int_equal(r.ev[0].bucket_start_ms, s * MS);
			assert_rel(ev[0].mean, 100000.0, 1e-12);
			assert_rel(r.ev[0].sd, ev[0].sd, 1e-12);
		}
		assert_int_equal(b.n_buckets, c.n_buckets);
		assert_int_equal(b.n_buckets, s + DAY_BUCKETS);
		assert_int_equal(b.bucket_start_ms, c.bucket_start_ms);
		assert_rel(b.mean, c.mean, 1e-9);
		assert_rel(b.var, c.var, 1e-9);
	}
	/* (k = 0) Plain average up to 19 buckets learnt, then EWMA. */
	setup(&b, &p);
	steady(&b, &p, 0, 5, 100000, NULL);
	baseline_tick(&b, &p, (5 + DAY_BUCKETS) * MS, ev, 2);
	assert_rel(b.mean, 500000.0 / 19 * pow(0.95, 5 + DAY_BUCKETS - 19),
		   1e-9);
}

/* Partial first bucket: dropped, not learnt as a quiet one. */
static void test_partial_first_bucket(void **state)
{
	struct baseline_params p;
	struct baseline b;

	(void)state;
	baseline_params_default(&p);
	baseline_init(&b, 10 * MS + 150000, &p);
	assert_int_equal(b.bucket_start_ms, 10 * MS);
	assert_true(b.flags & BASELINE_F_PARTIAL);
	baseline_add(&b, &p, 10 * MS + 150000, 1000000, 1, NULL, 0);
	steady(&b, &p, 11, 24, 1000, NULL);
	assert_int_equal(b.n_buckets, 12);
	assert_true(b.mean == 1000);
	/* Aligned: the first bucket counts. */
	baseline_init(&b, 10 * MS, &p);
	assert_int_equal(b.flags, 0);
	steady(&b, &p, 10, 23, 1000, NULL);
	assert_int_equal(b.n_buckets, 12);
}

/* The clock goes back: bytes count in the open bucket, nothing closes,
 * nothing wraps. */
static void test_clock_backwards(void **state)
{
	struct baseline_params p;
	struct baseline b, c;
	struct baseline_event ev[BASELINE_MAX_EVENTS];

	(void)state;
	setup(&b, &p);
	steady(&b, &p, 0, 31, 100000, NULL);	/* open: 30, 100000 bytes */
	c = b;
	assert_int_equal(baseline_add(&b, &p, 5 * MS, 50000, 1, ev, 2), 0);
	assert_int_equal(baseline_add(&b, &p, 0, 50000, 1, ev, 2), 0);
	assert_int_equal(baseline_tick(&b, &p, 0, ev, 2), 0);
	assert_int_equal(b.bucket_start_ms, 30 * MS);
	assert_int_equal(b.bucket_bytes, 200000);
	assert_int_equal(b.bucket_packets, 3);
	assert_int_equal(b.n_buckets, c.n_buckets);
	assert_true(b.mean == c.mean && b.var == c.var);
	/* The clock comes back: bucket 30 closes with all of it, twice the
	 * mean: ABOVE. */
	assert_int_equal(baseline_tick(&b, &p, 31 * MS, ev, 2), 1);
	assert_int_equal(ev[0].kind, BASELINE_ABOVE);
	assert_int_equal(ev[0].bucket_start_ms, 30 * MS);
	assert_int_equal(ev[0].bytes, 200000);
	/* Counters saturate instead of wrapping. */
	baseline_add(&b, &p, 31 * MS, UINT64_MAX, UINT64_MAX, NULL, 0);
	baseline_add(&b, &p, 31 * MS, UINT64_MAX, 1, NULL, 0);
	assert_true(b.bucket_bytes == UINT64_MAX);
	assert_true(b.bucket_packets == UINT64_MAX);
}

/* More events than room: the bucket's event is kept, a SILENT left out
 * comes at the next empty bucket; the state does not depend on the room. */
static void test_small_event_buffer(void **state)
{
	struct baseline_params p;
	struct baseline base, b, c, d;
	struct baseline_event ev[BASELINE_MAX_EVENTS];
	size_t n;

	(void)state;
	setup(&base, &p);
	steady(&base, &p, 0, 30, 100000, NULL);
	put(&base, &p, 30, 10000000, NULL);	/* open: a spike */
	b = c = d = base;
	n = baseline_tick(&b, &p, 32 * MS, ev, 2);
	assert_int_equal(n, 2);
	assert_int_equal(ev[0].kind, BASELINE_ABOVE);
	assert_int_equal(ev[0].bucket_start_ms, 30 * MS);
	assert_int_equal(ev[1].kind, BASELINE_SILENT);
	assert_int_equal(ev[1].bucket_start_ms, 31 * MS);
	memset(ev, 0, sizeof(ev));
	n = baseline_tick(&c, &p, 32 * MS, ev, 1);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].kind, BASELINE_ABOVE);
	assert_int_equal(ev[1].bucket_ms, 0);		/* not written */
	assert_int_equal(baseline_tick(&d, &p, 32 * MS, NULL, 0), 0);
	assert_true(b.mean == c.mean && b.var == c.var && b.mean == d.mean);
	assert_int_equal(b.n_buckets, d.n_buckets);
	/* The SILENT left out is reported by the next tick while the silence
	 * is still unusual, not lost. */
	assert_int_equal(baseline_tick(&c, &p, 33 * MS, ev, 1), 1);
	assert_int_equal(ev[0].kind, BASELINE_SILENT);
	assert_int_equal(ev[0].bucket_start_ms, 32 * MS);
	assert_int_equal(baseline_tick(&b, &p, 33 * MS, ev, 1), 0);

	/* BELOW then silent, room for one: the BELOW. */
	setup(&b, &p);
	steady(&b, &p, 0, 30, 100000, NULL);
	put(&b, &p, 30, 20000, NULL);
	assert_int_equal(baseline_tick(&b, &p, 40 * MS, ev, 1), 1);
	assert_int_equal(ev[0].kind, BASELINE_BELOW);
}

/* --- volume limits --- */

#define H 3600000ull
#define D 86400000ull

static void test_volume_once_per_window(void **state)
{
	struct volume_window w = { 0 };
	struct volume_event ev[VOLUME_MAX_EVENTS];

	(void)state;
	assert_int_equal(volume_add(&w, 1000, 600, 1000, 0, ev, 2), 0);
	/* Exactly at the limit is not over it. */
	assert_int_equal(volume_add(&w, 2000, 400, 1000, 0, ev, 2), 0);
	assert_int_equal(volume_add(&w, 3000, 1, 1000, 0, ev, 2), 1);
	assert_int_equal(ev[0].kind, VOLUME_LIMIT_HOUR);
	assert_int_equal(ev[0].window_start_ms, 0);
	assert_int_equal(ev[0].window_ms, H);
	assert_int_equal(ev[0].bytes, 1001);
	assert_int_equal(ev[0].limit, 1000);
	assert_int_equal(volume_add(&w, 4000, 5000, 1000, 0, ev, 2), 0);
	assert_int_equal(volume_add(&w, H - 1, 5000, 1000, 0, ev, 2), 0);
	assert_int_equal(w.hour_bytes, 11001);
	/* The next hour starts from zero and fires again. */
	assert_int_equal(volume_add(&w, H, 1000, 1000, 0, ev, 2), 0);
	assert_int_equal(w.hour_bytes, 1000);
	assert_int_equal(volume_add(&w, H + 1, 1, 1000, 0, ev, 2), 1);
	assert_int_equal(ev[0].window_start_ms, H);
	assert_int_equal(ev[0].bytes, 1001);
	/* A skipped hour is no problem. */
	assert_int_equal(volume_add(&w, 5 * H + 7, 2000, 1000, 0, ev, 2), 1);
	assert_int_equal(ev[0].window_start_ms, 5 * H);
}

static void test_volume_day(void **state)
{
	struct volume_window w = { 0 };
	struct volume_event ev[VOLUME_MAX_EVENTS];
	/* 2023-11-14T22:13:20Z */
	uint64_t t = 1700000000000ull, day = 1699920000000ull;
	uint64_t hour = 1699999200000ull;

	(void)state;
	assert_int_equal(volume_add(&w, t, 900, 0, 1000, ev, 2), 0);
	assert_int_equal(w.day_start_ms, day);
	assert_int_equal(w.hour_start_ms, hour);
	/* Another hour, the same day: the day total carries on. */
	assert_int_equal(volume_add(&w, hour + H, 200, 0, 1000, ev, 2), 1);
	assert_int_equal(ev[0].kind, VOLUME_LIMIT_DAY);
	assert_int_equal(ev[0].window_start_ms, day);
	assert_int_equal(ev[0].window_ms, D);
	assert_int_equal(ev[0].bytes, 1100);
	assert_int_equal(w.hour_bytes, 200);
	/* The last millisecond of the day, then midnight UTC. */
	assert_int_equal(volume_add(&w, day + D - 1, 5000, 0, 1000, ev, 2), 0);
	assert_int_equal(volume_add(&w, day + D, 1001, 0, 1000, ev, 2), 1);
	assert_int_equal(ev[0].window_start_ms, day + D);
	assert_int_equal(ev[0].bytes, 1001);
	assert_int_equal(w.hour_start_ms, day + D);
}

static void test_volume_no_limit(void **state)
{
	struct volume_window w = { 0 };
	struct volume_event ev[VOLUME_MAX_EVENTS];
	uint64_t i;

	(void)state;
	for (i = 0; i < 100; i++)
		assert_int_equal(volume_add(&w, i * H / 2, UINT64_MAX / 3, 0, 0,
					    ev, 2), 0);
	/* Saturated, not wrapped. */
	assert_true(w.day_bytes == UINT64_MAX);
}

static void test_volume_both_small_buffer_backwards(void **state)
{
	struct volume_window w = { 0 };
	struct volume_event ev[VOLUME_MAX_EVENTS];

	(void)state;
	/* Both limits at once. */
	assert_int_equal(volume_add(&w, D + 10, 5000, 1000, 2000, ev, 2), 2);
	assert_int_equal(ev[0].kind, VOLUME_LIMIT_HOUR);
	assert_int_equal(ev[1].kind, VOLUME_LIMIT_DAY);
	/* Room for one: the hour; the day comes with the next add. */
	memset(&w, 0, sizeof(w));
	assert_int_equal(volume_add(&w, D + 10, 5000, 1000, 2000, ev, 1), 1);
	assert_int_equal(ev[0].kind, VOLUME_LIMIT_HOUR);
	assert_int_equal(volume_add(&w, D + 20, 1, 1000, 2000, ev, 1), 1);
	assert_int_equal(ev[0].kind, VOLUME_LIMIT_DAY);
	assert_int_equal(ev[0].bytes, 5001);
	assert_int_equal(volume_add(&w, D + 30, 1, 1000, 2000, ev, 2), 0);
	/* The clock goes back a day: the bytes count in the current windows,
	 * which are neither reset nor reported again. */
	assert_int_equal(volume_add(&w, 10, 100, 1000, 2000, ev, 2), 0);
	assert_int_equal(w.hour_start_ms, D);
	assert_int_equal(w.day_start_ms, D);
	assert_int_equal(w.hour_bytes, 5102);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_learning),
		cmocka_unit_test(test_above_once),
		cmocka_unit_test(test_spike_does_not_poison),
		cmocka_unit_test(test_below),
		cmocka_unit_test(test_min_bytes_floor),
		cmocka_unit_test(test_zero_variance),
		cmocka_unit_test(test_adapts_to_lasting_change),
		cmocka_unit_test(test_silent_gap),
		cmocka_unit_test(test_silent_ticks_equal_one_call),
		cmocka_unit_test(test_partial_first_bucket),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_small_event_buffer),
		cmocka_unit_test(test_volume_once_per_window),
		cmocka_unit_test(test_volume_day),
		cmocka_unit_test(test_volume_no_limit),
		cmocka_unit_test(test_volume_both_small_buffer_backwards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
