/* baseline.c - bucketed EWMA baselines and fixed-window volume limits. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>

#include "daemon/baseline.h"

static const char *const baseline_names[__BASELINE_EVENT_MAX] = {
	[BASELINE_ABOVE] = "above",
	[BASELINE_BELOW] = "below",
	[BASELINE_SILENT] = "silent",
};

static const char *const volume_names[__VOLUME_EVENT_MAX] = {
	[VOLUME_LIMIT_HOUR] = "limit_hour",
	[VOLUME_LIMIT_DAY] = "limit_day",
};

const char *baseline_event_name(enum baseline_event_kind k)
{
	return (unsigned)k < __BASELINE_EVENT_MAX ? baseline_names[k] : NULL;
}

const char *volume_event_name(enum volume_event_kind k)
{
	return (unsigned)k < __VOLUME_EVENT_MAX ? volume_names[k] : NULL;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

void baseline_params_default(struct baseline_params *p)
{
	*p = (struct baseline_params){
		.bucket_ms = 300000,
		.learn_buckets = 12,
		.alpha = 0.05,
		.k = 4,
		.sd_floor = 0.1,
		.min_bytes = 10240,
	};
}

/* Written so that NaN fails every test. */
static bool alpha_ok(double a)
{
	return a > 0 && a <= 1;
}

static bool k_ok(double k)
{
	return k > 0 && isfinite(k);
}

static bool sd_floor_ok(double f)
{
	return f >= 0 && isfinite(f);
}

int baseline_params_check(const struct baseline_params *p)
{
	if (!p->bucket_ms || !alpha_ok(p->alpha) || !k_ok(p->k) ||
	    !sd_floor_ok(p->sd_floor))
		return -EINVAL;
	return 0;
}

/* The parameters as used: what baseline_params_check() rejects reads as
 * the default, so no input divides by zero or writes NaN into a baseline
 * that is then saved and restored forever. */
static struct baseline_params params_read(const struct baseline_params *in)
{
	struct baseline_params d, p = *in;

	baseline_params_default(&d);
	if (!p.bucket_ms)
		p.bucket_ms = d.bucket_ms;
	if (!alpha_ok(p.alpha))
		p.alpha = d.alpha;
	if (!k_ok(p.k))
		p.k = d.k;
	if (!sd_floor_ok(p.sd_floor))
		p.sd_floor = d.sd_floor;
	return p;
}

/* Learnt buckets number 0 .. warm-1 weigh 1/(n+1) instead of alpha: with
 * that weight the EWMA recurrences below give exactly the plain mean and
 * population variance of the buckets so far.  An EWMA started at zero
 * would instead still read 1 - 0.95^12 = 46% of the device's real rate at
 * the end of a one-hour learning period, and alert on its first normal
 * bucket. */
static uint64_t warm_buckets(double alpha)
{
	double w = ceil(1.0 / alpha) - 1;

	return w < (double)UINT32_MAX ? (uint64_t)w : UINT32_MAX;
}

static double weight(uint64_t n, const struct baseline_params *p)
{
	return n < warm_buckets(p->alpha) ? 1.0 / (double)(n + 1) : p->alpha;
}

/* The sd a bucket is judged (and clamped) with.  The floors:
 * - sd_floor * mean: a perfectly regular device (a plug's keepalive) has a
 *   variance of zero, and any wobble would be an infinite number of
 *   sds; with the defaults it must move by 40% to be reported;
 * - min_bytes / k: the threshold is then at least mean + min_bytes, so a
 *   deviation below the noise floor is never an event, whatever the mean
 *   (this also makes ABOVE's "at least min_bytes" and BELOW's "mean at
 *   least min_bytes" hold by themselves);
 * - 1 byte: with min_bytes 0 a baseline that decayed to zero would
 *   otherwise clamp every bucket to zero and never learn again. */
static double sd_of(double mean, double var, const struct baseline_params *p)
{
	double sd = sqrt(var > 0 ? var : 0);

	sd = fmax(sd, p->sd_floor * mean);
	sd = fmax(sd, (double)p->min_bytes / p->k);
	return fmax(sd, 1.0);
}

double baseline_sd(const struct baseline *b, const struct baseline_params *p)
{
	struct baseline_params q = params_read(p);

	return sd_of(b->mean, b->var, &q);
}

double baseline_per_sec(double per_bucket, uint32_t bucket_ms)
{
	return bucket_ms ? per_bucket * 1000.0 / bucket_ms : 0;
}

static void n_add(struct baseline *b, uint64_t m)
{
	if (m > UINT32_MAX - b->n_buckets)
		b->n_buckets = UINT32_MAX;
	else
		b->n_buckets += (uint32_t)m;
}

/* Learns one bucket of X bytes: the incremental exponentially weighted
 * mean and variance (T. Finch, "Incremental calculation of weighted mean
 * and variance", 2009). */
static void learn(struct baseline *b, const struct baseline_params *p, double x)
{
	double a = weight(b->n_buckets, p), d = x - b->mean;

	b->mean += a * d;
	b->var = (1 - a) * (b->var + a * d * d);
	n_add(b, 1);
}

/* Learns M empty buckets at once, in closed form, so that a device off for
 * a month or a clock that jumps a century costs the same as one bucket.
 * In the warm-up the plain average gives it directly (zeros change neither
 * the sum nor the sum of squares, only the count).  After it, M zeros
 * through learn() give, with f = (1-a)^M:
 *	mean_M = f * mean
 *	var_M  = f * (var + mean^2 * (1 - f))
 * (induction on var' = (1-a) * (var + a * mean^2), mean' = (1-a) * mean). */
static void learn_zeros(struct baseline *b, const struct baseline_params *p,
			uint64_t m)
{
	uint64_t n = b->n_buckets, warm = warm_buckets(p->alpha), w = 0;
	double f;

	if (!m)
		return;
	if (n < warm)
		w = m < warm - n ? m : warm - n;
	if (w) {
		double c = (double)n / (double)(n + w);
		double sq = (b->var + b->mean * b->mean) * c;

		b->mean *= c;
		b->var = fmax(0, sq - b->mean * b->mean);
	}
	f = pow(1 - p->alpha, (double)(m - w));
	b->var = f * (b->var + b->mean * b->mean * (1 - f));
	b->mean *= f;
	n_add(b, m);
}

/* Judges and learns the open bucket, which is not empty.  At most one
 * event.
 *
 * An ABOVE bucket is learnt clamped to mean + k*sd.  Learnt as it is, one
 * 100x spike on a steady device would lift the mean 6x and the sd to 20
 * times the old mean, blinding the baseline for hours; learnt with a
 * smaller weight, its pull would still grow with its size.  Clamped, any
 * spike moves the mean by at most alpha*k*sd and adds at most
 * alpha*(k*sd)^2 to the variance.  The same step is what lets a lasting
 * rise be learnt: once the sd is above its floors, each ABOVE bucket
 * multiplies the variance by (1-a)(1 + a*k^2) (1.71 with the defaults,
 * ~1.3x on the sd), so a device that steps up 10x stops being reported
 * after about 13 buckets, and the count grows only with the log of the
 * step (~9 buckets per factor of 10).  (k must be above ~1.03, or the sd
 * would not grow.)  BELOW buckets are not clamped: they
 * lie between 0 and the mean, so their pull is bounded already, and a
 * device that drops for good is learnt within a couple of buckets. */
static size_t close_bucket(struct baseline *b, const struct baseline_params *p,
			   struct baseline_event *ev)
{
	double x = (double)b->bucket_bytes;
	double sd = sd_of(b->mean, b->var, p);
	double hi = b->mean + p->k * sd, lo = b->mean - p->k * sd;
	size_t n = 0;

	*ev = (struct baseline_event){
		.bucket_ms = p->bucket_ms,
		.bucket_start_ms = b->bucket_start_ms,
		.bytes = b->bucket_bytes,
		.packets = b->bucket_packets,
		.mean = b->mean,
		.sd = sd,
	};
	b->flags &= ~BASELINE_F_SILENT;		/* traffic ends a silence */
	if (b->n_buckets >= p->learn_buckets) {
		if (x > hi && b->bucket_bytes >= p->min_bytes) {
			ev->kind = BASELINE_ABOVE;
			n = 1;
			x = hi;
		} else if (x < lo && b->mean >= (double)p->min_bytes) {
			ev->kind = BASELINE_BELOW;
			n = 1;
		}
	}
	learn(b, p, x);
	return n;
}

/* Learns a run of M empty buckets, the first starting at START, and makes
 * at most one SILENT: at the first bucket of the run that is judged (the
 * baseline may still be learning when the run starts), if the mean there
 * is at least min_bytes, an empty bucket is below mean - k*sd (what BELOW
 * would say of 0: a device whose buckets often are empty, one that reports
 * about once per bucket length, is not silent when one is), and this
 * silence was not reported yet.  The mean only decays along the run, so no
 * later bucket of it could qualify if that one does not.  Empty buckets are learnt as zeros, not clamped: a
 * device that is off is a state the baseline should come to expect, and
 * only zeros keep the run in closed form. */
static size_t close_empty(struct baseline *b, const struct baseline_params *p,
			  uint64_t start, uint64_t m, struct baseline_event *ev)
{
	uint64_t j = b->n_buckets < p->learn_buckets
		     ? p->learn_buckets - b->n_buckets : 0;
	size_t n = 0;

	if (!(b->flags & BASELINE_F_SILENT) && j < m) {
		struct baseline at = *b;

		learn_zeros(&at, p, j);
		if (at.mean > 0 && at.mean >= (double)p->min_bytes &&
		    at.mean - p->k * sd_of(at.mean, at.var, p) > 0) {
			*ev = (struct baseline_event){
				.kind = BASELINE_SILENT,
				.bucket_ms = p->bucket_ms,
				.bucket_start_ms = start + j * p->bucket_ms,
				.mean = at.mean,
				.sd = sd_of(at.mean, at.var, p),
			};
			n = 1;
		}
	}
	learn_zeros(b, p, m);
	return n;
}

/* Closes the buckets that ended by NOW, writing at most
 * BASELINE_MAX_EVENTS events to EV, oldest first. */
static size_t advance(struct baseline *b, const struct baseline_params *p,
		      uint64_t now, struct baseline_event *ev)
{
	uint64_t ms = p->bucket_ms, start = b->bucket_start_ms;
	uint64_t cur = now - now % ms;		/* the bucket holding now */
	uint64_t run, run_start;
	size_t n = 0;

	/* Still in the open bucket, or the clock went back: nothing closes.
	 * (The test is on the aligned bucket, not on start + ms, so a
	 * baseline saved with another bucket_ms realigns at its next close
	 * instead of keeping an odd phase forever.) */
	if (now < start || cur <= start)
		return 0;
	/* Empty buckets between the open one and the one holding now. */
	run = (cur - start - 1) / ms;
	run_start = cur - run * ms;
	if (b->flags & BASELINE_F_PARTIAL) {
		/* Dropped: part of a bucket is not a quiet bucket. */
		if (b->bucket_bytes)
			b->flags &= ~BASELINE_F_SILENT;
	} else if (b->bucket_bytes) {
		n += close_bucket(b, p, ev);
	} else {
		run++;
		run_start = start;
	}
	if (run)
		n += close_empty(b, p, run_start, run, ev + n);
	b->bucket_start_ms = cur;
	b->bucket_bytes = 0;
	b->bucket_packets = 0;
	b->flags &= ~BASELINE_F_PARTIAL;
	return n;
}

void baseline_init(struct baseline *b, uint64_t now_ms,
		   const struct baseline_params *p)
{
	struct baseline_params q = params_read(p);

	*b = (struct baseline){
		.bucket_start_ms = now_ms - now_ms % q.bucket_ms,
	};
	if (now_ms % q.bucket_ms)
		b->flags = BASELINE_F_PARTIAL;
}

size_t baseline_add(struct baseline *b, const struct baseline_params *p,
		    uint64_t now_ms, uint64_t bytes, uint64_t packets,
		    struct baseline_event *ev, size_t n_ev)
{
	struct baseline_params q = params_read(p);
	struct baseline_event tmp[BASELINE_MAX_EVENTS];
	size_t n = advance(b, &q, now_ms, tmp), i;

	/* tmp holds the open bucket's ABOVE/BELOW first, then SILENT: the
	 * order to keep them in (see the header). */
	if (n > n_ev)
		n = n_ev;
	for (i = 0; i < n; i++) {
		ev[i] = tmp[i];
		if (tmp[i].kind == BASELINE_SILENT)
			b->flags |= BASELINE_F_SILENT;
	}
	b->bucket_bytes = add_sat(b->bucket_bytes, bytes);
	b->bucket_packets = add_sat(b->bucket_packets, packets);
	return n;
}

size_t baseline_tick(struct baseline *b, const struct baseline_params *p,
		     uint64_t now_ms, struct baseline_event *ev, size_t n_ev)
{
	return baseline_add(b, p, now_ms, 0, 0, ev, n_ev);
}

/* --- volume limits ------------------------------------------------------ */

/* One window of a volume_window, by pointers into it. */
struct window {
	uint64_t *start, *bytes;
	uint32_t bit;			/* VOLUME_F_* */
	uint32_t len;			/* VOLUME_HOUR_MS / VOLUME_DAY_MS */
	uint64_t limit;
	enum volume_event_kind kind;
};

/* Moves to the window holding NOW (not if the clock went back), counts
 * BYTES; true if the limit is exceeded and not yet reported. */
static bool window_add(struct window *x, uint32_t *flags, uint64_t now,
		       uint64_t bytes)
{
	uint64_t cur = now - now % x->len;

	if (cur > *x->start) {
		*x->start = cur;
		*x->bytes = 0;
		*flags &= ~x->bit;
	}
	*x->bytes = add_sat(*x->bytes, bytes);
	return x->limit && *x->bytes > x->limit && !(*flags & x->bit);
}

size_t volume_add(struct volume_window *w, uint64_t now_ms, uint64_t bytes,
		  uint64_t limit_hour, uint64_t limit_day,
		  struct volume_event *ev, size_t n_ev)
{
	/* Hour first: its window ends sooner, so if it were the one left
	 * out for lack of room it would more likely end unreported. */
	struct window x[VOLUME_MAX_EVENTS] = {
		{ &w->hour_start_ms, &w->hour_bytes, VOLUME_F_HOUR,
		  VOLUME_HOUR_MS, limit_hour, VOLUME_LIMIT_HOUR },
		{ &w->day_start_ms, &w->day_bytes, VOLUME_F_DAY,
		  VOLUME_DAY_MS, limit_day, VOLUME_LIMIT_DAY },
	};
	size_t i, n = 0;

	for (i = 0; i < VOLUME_MAX_EVENTS; i++) {
		if (!window_add(&x[i], &w->flags, now_ms, bytes) || n >= n_ev)
			continue;
		ev[n++] = (struct volume_event){
			.kind = x[i].kind,
			.window_ms = x[i].len,
			.window_start_ms = *x[i].start,
			.bytes = *x[i].bytes,
			.limit = x[i].limit,
		};
		w->flags |= x[i].bit;
	}
	return n;
}
