/* test_detect.c - report interval, new-flow flood and scan detectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "daemon/detect.h"

#define EVERY 60000u
#define TOL 5000u
#define BURST 2000u

static enum interval_verdict obs(struct interval_track *t, uint64_t now,
				 uint64_t *gap)
{
	return interval_observe(t, now, EVERY, TOL, BURST, gap);
}

static enum interval_verdict late(struct interval_track *t, uint64_t now,
				  uint64_t *gap)
{
	return interval_check_late(t, now, EVERY, TOL, gap);
}

/* ------------------------------------------------------------------------ */
/* Report interval */

static void test_interval_early_ok_boundary(void **state)
{
	struct interval_track t;
	uint64_t gap = 1;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(obs(&t, 1000, &gap), INTERVAL_FIRST);
	assert_int_equal(gap, 0);
	/* Exactly every - tolerance after the last report: on time. */
	assert_int_equal(obs(&t, 1000 + 55000, &gap), INTERVAL_OK);
	assert_int_equal(gap, 55000);
	/* One millisecond less: early.  Measured from the previous report. */
	assert_int_equal(obs(&t, 56000 + 54999, &gap), INTERVAL_EARLY);
	assert_int_equal(gap, 54999);
	/* The early report starts the next period. */
	assert_int_equal(obs(&t, 110999 + 60000, &gap), INTERVAL_OK);
	assert_int_equal(gap, 60000);
	/* A late report is not observe's to flag. */
	assert_int_equal(obs(&t, 170999 + 200000, &gap), INTERVAL_OK);
	assert_int_equal(gap, 200000);
	assert_string_equal(interval_verdict_name(INTERVAL_EARLY), "early");
	assert_null(interval_verdict_name(__INTERVAL_MAX));
}

static void test_interval_off_and_odd_limits(void **state)
{
	struct interval_track t;

	(void)state;
	/* every 0: no expected interval, never early, never late. */
	memset(&t, 0, sizeof(t));
	assert_int_equal(interval_observe(&t, 0, 0, 0, 0, NULL),
			 INTERVAL_FIRST);
	assert_int_equal(interval_observe(&t, 1, 0, 0, 0, NULL), INTERVAL_OK);
	assert_int_equal(interval_check_late(&t, 1ULL << 40, 0, 0, NULL),
			 INTERVAL_OK);
	/* tolerance >= every (refused by the loader): saturates, no wrap into
	 * "everything is early". */
	memset(&t, 0, sizeof(t));
	assert_int_equal(interval_observe(&t, 0, 1000, 2000, 0, NULL),
			 INTERVAL_FIRST);
	assert_int_equal(interval_observe(&t, 10, 1000, 2000, 0, NULL),
			 INTERVAL_OK);
	/* The same gap with a sane tolerance is early: the limits are read
	 * per call. */
	assert_int_equal(interval_observe(&t, 20, 1000, 100, 0, NULL),
			 INTERVAL_EARLY);
}

/* DNS then TLS for one report is one report; the burst is anchored at the
 * report's first flow, so a device cannot chain flows into one endless
 * report. */
static void test_interval_bursts(void **state)
{
	struct interval_track t;
	uint64_t gap;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(obs(&t, 0, &gap), INTERVAL_FIRST);
	assert_int_equal(obs(&t, 300, &gap), INTERVAL_BURST);	/* TLS */
	assert_int_equal(gap, 300);
	assert_int_equal(obs(&t, BURST, &gap), INTERVAL_BURST);	/* inclusive */
	/* 56000 from the report's start (on time); it would be 54000, early,
	 * from the last flow of the burst. */
	assert_int_equal(obs(&t, 56000, &gap), INTERVAL_OK);
	assert_int_equal(gap, 56000);
	assert_int_equal(obs(&t, 56000 + 1500, &gap), INTERVAL_BURST);
	/* 1500 after the previous flow but 3000 after the report's start: a
	 * new report, and an early one. */
	assert_int_equal(obs(&t, 56000 + 3000, &gap), INTERVAL_EARLY);
	assert_int_equal(gap, 3000);

	/* burst 0 merges only flows of the same millisecond. */
	memset(&t, 0, sizeof(t));
	assert_int_equal(interval_observe(&t, 5, EVERY, TOL, 0, NULL),
			 INTERVAL_FIRST);
	assert_int_equal(interval_observe(&t, 5, EVERY, TOL, 0, NULL),
			 INTERVAL_BURST);
	assert_int_equal(interval_observe(&t, 6, EVERY, TOL, 0, &gap),
			 INTERVAL_EARLY);
	assert_int_equal(gap, 1);
}

static void test_interval_late_once_per_gap(void **state)
{
	struct interval_track t;
	uint64_t gap = 1;

	(void)state;
	memset(&t, 0, sizeof(t));
	/* Nothing observed: nothing can be late. */
	assert_int_equal(late(&t, 1000000, &gap), INTERVAL_OK);
	assert_int_equal(gap, 0);

	assert_int_equal(obs(&t, 0, NULL), INTERVAL_FIRST);
	assert_int_equal(late(&t, 30000, &gap), INTERVAL_OK);
	assert_int_equal(gap, 30000);
	assert_int_equal(late(&t, 65000, &gap), INTERVAL_OK);	/* = every + tol */
	assert_int_equal(late(&t, 65001, &gap), INTERVAL_LATE);
	assert_int_equal(gap, 65001);
	assert_int_equal(late(&t, 65002, &gap), INTERVAL_OK);	/* said */
	assert_int_equal(late(&t, 1000000, &gap), INTERVAL_OK);
	assert_int_equal(gap, 1000000);

	/* The next report re-arms it; a burst flow does not move the start. */
	assert_int_equal(obs(&t, 1000000, NULL), INTERVAL_OK);
	assert_int_equal(obs(&t, 1000500, NULL), INTERVAL_BURST);
	assert_int_equal(late(&t, 1065000, &gap), INTERVAL_OK);
	assert_int_equal(late(&t, 1065001, &gap), INTERVAL_LATE);
	assert_int_equal(gap, 65001);
	assert_int_equal(late(&t, 1065001, &gap), INTERVAL_OK);
	assert_int_equal(obs(&t, 1070000, NULL), INTERVAL_OK);
	assert_int_equal(late(&t, 1070000 + 65001, NULL), INTERVAL_LATE);
}

static void test_interval_clock_backwards(void **state)
{
	struct interval_track t;
	uint64_t gap = 1;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(obs(&t, 100000, NULL), INTERVAL_FIRST);
	/* Reordered by less than a burst: part of the report. */
	assert_int_equal(obs(&t, 99000, &gap), INTERVAL_BURST);
	assert_int_equal(gap, 0);
	/* A real step back: no gap can be measured, start again. */
	assert_int_equal(obs(&t, 40000, &gap), INTERVAL_FIRST);
	assert_int_equal(obs(&t, 100000, &gap), INTERVAL_OK);
	assert_int_equal(gap, 60000);

	/* The timer sees the step first: re-anchored, late every + tolerance
	 * after the step instead of after the clock catches up. */
	assert_int_equal(late(&t, 1000, &gap), INTERVAL_OK);
	assert_int_equal(gap, 0);
	assert_int_equal(late(&t, 66000, NULL), INTERVAL_OK);
	assert_int_equal(late(&t, 66001, NULL), INTERVAL_LATE);
	/* The anchor is not a report: the next observation has no gap. */
	assert_int_equal(obs(&t, 70000, &gap), INTERVAL_FIRST);
	assert_int_equal(obs(&t, 130000, &gap), INTERVAL_OK);
	assert_int_equal(gap, 60000);
}

/* ------------------------------------------------------------------------ */
/* New-flow flood */

static void test_flood_once_per_window(void **state)
{
	struct flood_window w;
	uint32_t count = 0, i;

	(void)state;
	memset(&w, 0, sizeof(w));
	for (i = 0; i < 3; i++) {
		assert_false(flood_observe(&w, 100 + i, 3, 1000, &count));
		assert_int_equal(count, i + 1);
	}
	assert_true(flood_observe(&w, 103, 3, 1000, &count));
	assert_int_equal(count, 4);
	for (i = 0; i < 20; i++)
		assert_false(flood_observe(&w, 104 + i, 3, 1000, &count));
	assert_int_equal(count, 24);
	/* The window started at the first flow (100), not at 0: 1050 and
	 * 1099 are still in it. */
	assert_false(flood_observe(&w, 1050, 3, 1000, &count));
	assert_false(flood_observe(&w, 1099, 3, 1000, &count));
	assert_int_equal(count, 26);
	/* 1100: the next window, and it can fire again, once. */
	assert_false(flood_observe(&w, 1100, 3, 1000, &count));
	assert_int_equal(count, 1);
	assert_false(flood_observe(&w, 1101, 3, 1000, NULL));
	assert_false(flood_observe(&w, 1102, 3, 1000, NULL));
	assert_true(flood_observe(&w, 1103, 3, 1000, &count));
	assert_int_equal(count, 4);
	assert_false(flood_observe(&w, 1104, 3, 1000, &count));
	/* A quiet spell, then flows far later: a fresh window. */
	assert_false(flood_observe(&w, 500000, 3, 1000, &count));
	assert_int_equal(count, 1);
}

static void test_flood_off(void **state)
{
	struct flood_window w, zero;
	uint32_t count = 7, i;

	(void)state;
	memset(&w, 0, sizeof(w));
	memset(&zero, 0, sizeof(zero));
	for (i = 0; i < 1000; i++) {
		assert_false(flood_observe(&w, i, 0, 1000, &count));
		assert_false(flood_observe(&w, i, 5, 0, &count));
	}
	assert_int_equal(count, 0);
	assert_memory_equal(&w, &zero, sizeof(w));
	/* And turning it on later starts from nothing. */
	for (i = 0; i < 5; i++)
		assert_false(flood_observe(&w, 1000, 5, 1000, NULL));
	assert_true(flood_observe(&w, 1000, 5, 1000, &count));
	assert_int_equal(count, 6);
}

static void test_flood_clock_backwards(void **state)
{
	struct flood_window w;
	uint32_t count;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_false(flood_observe(&w, 5000, 2, 1000, &count));
	/* Reordered by less than a window: same window. */
	assert_false(flood_observe(&w, 4500, 2, 1000, &count));
	assert_true(flood_observe(&w, 4000, 2, 1000, &count));
	assert_int_equal(count, 3);
	/* A step back longer than a window: a new window at once, not one
	 * that lasts until the clock is back at 5000. */
	assert_false(flood_observe(&w, 1000, 2, 1000, &count));
	assert_int_equal(count, 1);
	assert_false(flood_observe(&w, 1001, 2, 1000, &count));
	assert_true(flood_observe(&w, 1002, 2, 1000, &count));
	assert_false(flood_observe(&w, 1999, 2, 1000, &count));
	assert_false(flood_observe(&w, 2000, 2, 1000, &count));
	assert_int_equal(count, 1);
}

/* ------------------------------------------------------------------------ */
/* Scan */

#define WIN 60000u
#define HOSTS 64u
#define PORTS 256u

static void v4(uint8_t a[4], uint32_t i)
{
	a[0] = 10;
	a[1] = (uint8_t)(i >> 16);
	a[2] = (uint8_t)(i >> 8);
	a[3] = (uint8_t)i;
}

/* 2001:db8::I, or (high) 2001:db8:I::1: I in the lowest or in the high
 * bytes. */
static void v6(uint8_t a[16], uint32_t i, int high)
{
	static const uint8_t prefix[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	memset(a, 0, 16);
	memcpy(a, prefix, sizeof(prefix));
	a[high ? 4 : 14] = (uint8_t)(i >> 8);
	a[high ? 5 : 15] = (uint8_t)i;
	if (high)
		a[15] = 1;
}

static void assert_near(uint32_t est, uint32_t n, double rel)
{
	double err = fabs((double)est - n) / n;

	if (err > rel)
		fail_msg("estimate %u of %u: error %.1f %% > %.1f %%", est, n,
			 100 * err, 100 * rel);
}

/* N distinct hosts on port 443 starting at T0; returns the flags seen and,
 * through FIRST, the index of the host that raised SCAN_HOSTS. */
static uint32_t scan_hosts(struct scan_window *w, uint64_t t0, uint32_t n,
			   uint32_t base, int family6, struct scan_result *r,
			   uint32_t *raised_hosts, uint32_t *first)
{
	uint8_t a[16];
	uint32_t i, all = 0, f;

	*raised_hosts = 0;
	*first = UINT32_MAX;
	for (i = 0; i < n; i++) {
		if (family6)
			v6(a, base + i, family6 == 2);
		else
			v4(a, base + i);
		f = scan_observe(w, t0 + i, WIN, a, family6 ? 16 : 4, 443,
				 HOSTS, PORTS, r);
		assert_int_equal(f, r->flags);
		if (f & SCAN_HOSTS) {
			++*raised_hosts;
			if (*first == UINT32_MAX)
				*first = i + 1;
			assert_true(r->hosts > HOSTS);
		}
		all |= f;
	}
	return all;
}

static void test_scan_hosts_once(void **state)
{
	struct scan_window w;
	struct scan_result r;
	uint32_t raised, first, all;

	(void)state;
	scan_init(&w, 0);
	all = scan_hosts(&w, 0, 200, 0, 0, &r, &raised, &first);
	assert_int_equal(raised, 1);
	/* Raised around the 65th distinct host, not much before or after. */
	if (first < 58 || first > 72)
		fail_msg("SCAN_HOSTS at host %u", first);
	assert_near(r.hosts, 200, 0.10);
	assert_near(r.pairs, 200, 0.10);
	assert_false(r.hosts_at_least);
	/* 200 pairs is below the port threshold. */
	assert_false(all & SCAN_PORTS);
}

static void test_scan_few_hosts_many_repeats(void **state)
{
	struct scan_window w;
	struct scan_result r;
	uint8_t a[4];
	uint32_t i;

	(void)state;
	scan_init(&w, 0);
	for (i = 0; i < 1000; i++) {
		v4(a, i % 20);
		assert_int_equal(scan_observe(&w, i, WIN, a, 4,
					      (uint16_t)(443 + i / 20 % 2), HOSTS,
					      PORTS, &r), 0);
	}
	if (r.hosts < 18 || r.hosts > 22)
		fail_msg("hosts %u", r.hosts);
	if (r.pairs < 36 || r.pairs > 44)
		fail_msg("pairs %u", r.pairs);
}

static void test_scan_ports(void **state)
{
	struct scan_window w;
	struct scan_result r;
	uint8_t a[4];
	uint32_t i, raised = 0, f;

	(void)state;
	scan_init(&w, 0);
	v4(a, 77);
	for (i = 0; i < 300; i++) {
		f = scan_observe(&w, i, WIN, a, 4, (uint16_t)(1 + i), HOSTS,
				 PORTS, &r);
		assert_false(f & SCAN_HOSTS);
		if (f & SCAN_PORTS) {
			raised++;
			assert_true(r.pairs > PORTS);
		}
	}
	assert_int_equal(raised, 1);
	assert_int_equal(r.hosts, 1);
	assert_near(r.pairs, 300, 0.10);
	/* The same ports again: nothing new, nothing raised. */
	for (i = 0; i < 300; i++)
		assert_int_equal(scan_observe(&w, 300 + i, WIN, a, 4,
					      (uint16_t)(1 + i), HOSTS, PORTS,
					      &r), 0);
}

static void test_scan_window_reset(void **state)
{
	struct scan_window w;
	struct scan_result r;
	uint32_t raised, first;
	uint8_t a[4];

	(void)state;
	scan_init(&w, 0);
	scan_hosts(&w, 1000, 200, 0, 0, &r, &raised, &first);
	assert_int_equal(raised, 1);
	/* Still the same window at 1000 + WIN - 1: known hosts add nothing,
	 * more new ones raise nothing again. */
	scan_hosts(&w, 1000 + WIN - 200, 200, 100, 0, &r, &raised, &first);
	assert_int_equal(raised, 0);
	assert_near(r.hosts, 300, 0.10);
	/* The window started at 1000 ends at 1000 + WIN: counts restart. */
	v4(a, 5);
	assert_int_equal(scan_observe(&w, 1000 + WIN, WIN, a, 4, 443, HOSTS,
				      PORTS, &r), 0);
	assert_int_equal(r.hosts, 1);
	assert_int_equal(r.pairs, 1);
	/* And the next scan is reported again, once. */
	scan_hosts(&w, 1000 + WIN + 1, 200, 1000, 0, &r, &raised, &first);
	assert_int_equal(raised, 1);
	assert_near(r.hosts, 200, 0.10);
}

static void test_scan_ipv6(void **state)
{
	struct scan_window w;
	struct scan_result r;
	uint32_t raised, first;
	uint8_t a4[4] = { 1, 2, 3, 4 }, a6[16] = { 1, 2, 3, 4 };

	(void)state;
	/* Addresses that differ in the interface id. */
	scan_init(&w, 0);
	scan_hosts(&w, 0, 200, 0, 1, &r, &raised, &first);
	assert_int_equal(raised, 1);
	assert_near(r.hosts, 200, 0.10);
	/* Addresses that differ only in bytes 4..5 (other /48s). */
	scan_init(&w, 0);
	scan_hosts(&w, 0, 200, 0, 2, &r, &raised, &first);
	assert_int_equal(raised, 1);
	assert_near(r.hosts, 200, 0.10);
	/* 1.2.3.4 and 102:304:: are two hosts: the length is hashed. */
	scan_init(&w, 0);
	scan_observe(&w, 0, WIN, a4, 4, 80, HOSTS, PORTS, &r);
	scan_observe(&w, 1, WIN, a6, 16, 80, HOSTS, PORTS, &r);
	assert_int_equal(r.hosts, 2);
}

/* A bitmap full of ones can no longer estimate: it counts as beyond any
 * threshold and says "at least". */
static void test_scan_saturated(void **state)
{
	struct scan_window w;
	struct scan_result r;
	uint8_t a[4];
	uint32_t i, f, raised = 0;

	(void)state;
	scan_init(&w, 0);
	for (i = 0; i < 20000; i++) {
		v4(a, i);
		f = scan_observe(&w, i, 0xffffffffu, a, 4, 443, 10000, 0, &r);
		assert_false(f & SCAN_PORTS);	/* threshold 0: off */
		if (f & SCAN_HOSTS) {
			raised++;
			assert_true(r.hosts_at_least);
			assert_true(r.hosts >= 10000);
		}
		if (!r.hosts_at_least)
			assert_true(r.hosts < 10000);
	}
	assert_int_equal(raised, 1);
	assert_true(r.hosts_at_least);
	assert_true(r.pairs_at_least);
}

static void test_scan_off(void **state)
{
	struct scan_window w, before;
	struct scan_result r;
	uint8_t a[4];
	uint32_t i;

	(void)state;
	scan_init(&w, 3);
	memcpy(&before, &w, sizeof(w));
	for (i = 0; i < 300; i++) {
		v4(a, i);
		assert_int_equal(scan_observe(&w, i, 0, a, 4, 443, HOSTS, PORTS,
					      &r), 0);
	}
	assert_int_equal(r.hosts, 0);
	assert_memory_equal(&w, &before, sizeof(w));
	/* Thresholds 0: estimates, no flags. */
	for (i = 0; i < 300; i++) {
		v4(a, i);
		assert_int_equal(scan_observe(&w, i, WIN, a, 4, 443, 0, 0, &r),
				 0);
	}
	assert_near(r.hosts, 300, 0.10);
}

/* The error the header states: over many seeds, estimates of 64 and 256
 * distinct hosts have a relative standard error of about 2 %, all within
 * 10 %; and the seed does change which bits are set. */
static void test_scan_error_over_seeds(void **state)
{
	static const uint32_t ns[] = { 64, 256 };
	struct scan_window w, w0;
	struct scan_result r;
	uint8_t a[4];
	uint32_t seed, i, k;

	(void)state;
	for (k = 0; k < 2; k++) {
		double sum = 0, sum2 = 0, mean, sd;

		for (seed = 1; seed <= 200; seed++) {
			scan_init(&w, seed * 0x9e3779b97f4a7c15ULL);
			for (i = 0; i < ns[k]; i++) {
				v4(a, i);
				scan_observe(&w, i, WIN, a, 4, 443, 0, 0, &r);
			}
			assert_near(r.hosts, ns[k], 0.10);
			sum += ((double)r.hosts - ns[k]) / ns[k];
			sum2 += pow(((double)r.hosts - ns[k]) / ns[k], 2);
		}
		mean = sum / 200;
		sd = sqrt(sum2 / 200 - mean * mean);
		if (fabs(mean) > 0.01 || sd < 0.01 || sd > 0.035)
			fail_msg("n %u: mean error %.2f %%, sd %.2f %%", ns[k],
				 100 * mean, 100 * sd);
	}
	scan_init(&w0, 0);
	scan_init(&w, 1);
	for (i = 0; i < 64; i++) {
		v4(a, i);
		scan_observe(&w0, i, WIN, a, 4, 443, 0, 0, NULL);
		scan_observe(&w, i, WIN, a, 4, 443, 0, 0, NULL);
	}
	assert_memory_not_equal(w0.hosts, w.hosts, sizeof(w.hosts));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interval_early_ok_boundary),
		cmocka_unit_test(test_interval_off_and_odd_limits),
		cmocka_unit_test(test_interval_bursts),
		cmocka_unit_test(test_interval_late_once_per_gap),
		cmocka_unit_test(test_interval_clock_backwards),
		cmocka_unit_test(test_flood_once_per_window),
		cmocka_unit_test(test_flood_off),
		cmocka_unit_test(test_flood_clock_backwards),
		cmocka_unit_test(test_scan_hosts_once),
		cmocka_unit_test(test_scan_few_hosts_many_repeats),
		cmocka_unit_test(test_scan_ports),
		cmocka_unit_test(test_scan_window_reset),
		cmocka_unit_test(test_scan_ipv6),
		cmocka_unit_test(test_scan_saturated),
		cmocka_unit_test(test_scan_off),
		cmocka_unit_test(test_scan_error_over_seeds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
