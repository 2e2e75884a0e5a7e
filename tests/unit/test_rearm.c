/* test_rearm.c - alert re-arm: suppression, counts, eviction, clock steps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/rearm.h"

#define MIN 60000u

static struct rearm *table(size_t capacity)
{
	struct rearm *r = rearm_new(capacity);

	assert_non_null(r);
	return r;
}

static void test_new_and_free(void **state)
{
	struct rearm_stats st;
	struct rearm *r;

	(void)state;
	errno = 0;
	assert_null(rearm_new(0));
	assert_int_equal(errno, EINVAL);
	assert_null(rearm_new((size_t)1 << 31));
	rearm_free(NULL);
	r = table(5);
	rearm_stats(r, &st);
	assert_int_equal(st.capacity, 5);
	assert_int_equal(st.used, 0);
	assert_int_equal(st.evictions, 0);
	rearm_free(r);
}

/* First fires; repeats inside the window are suppressed and counted; the
 * first one at the end of the window fires with the exact count, which then
 * starts again from zero. */
static void test_suppress_and_count(void **state)
{
	struct rearm *r = table(16);
	uint64_t k = rearm_key("cam", "denied", "mqtt.example");
	uint32_t sup = 99;

	(void)state;
	assert_true(rearm_fire(r, k, 1000, MIN, &sup));
	assert_int_equal(sup, 0);
	assert_false(rearm_fire(r, k, 1000, MIN, &sup));	/* same ms */
	assert_int_equal(sup, 1);
	assert_false(rearm_fire(r, k, 30000, MIN, &sup));
	assert_int_equal(sup, 2);
	assert_false(rearm_fire(r, k, 1000 + MIN - 1, MIN, &sup));
	assert_int_equal(sup, 3);
	/* Exactly rearm_ms after the last emitted one: fires again. */
	assert_true(rearm_fire(r, k, 1000 + MIN, MIN, &sup));
	assert_int_equal(sup, 3);
	/* The window restarts from that emission, and so does the count. */
	assert_false(rearm_fire(r, k, 1000 + MIN + 10, MIN, &sup));
	assert_int_equal(sup, 1);
	assert_true(rearm_fire(r, k, 1000 + 2 * MIN, MIN, &sup));
	assert_int_equal(sup, 1);
	/* Long after: fires, nothing suppressed in between. */
	assert_true(rearm_fire(r, k, 1000 + 10 * MIN, MIN, &sup));
	assert_int_equal(sup, 0);
	/* NULL out-parameter is allowed. */
	assert_false(rearm_fire(r, k, 1000 + 10 * MIN, MIN, NULL));
	assert_true(rearm_fire(r, k, 1000 + 11 * MIN, MIN, &sup));
	assert_int_equal(sup, 1);
	rearm_free(r);
}

/* The re-arm time is read per call: 0 fires every time, a shorter one
 * applies at once to an existing window. */
static void test_rearm_time_per_call(void **state)
{
	struct rearm *r = table(4);
	uint32_t sup;
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		assert_true(rearm_fire(r, 7, 500, 0, &sup));
		assert_int_equal(sup, 0);
	}
	assert_false(rearm_fire(r, 7, 600, MIN, &sup));
	assert_true(rearm_fire(r, 7, 700, 200, &sup));	/* 700 - 500 */
	assert_int_equal(sup, 1);
	rearm_free(r);
}

/* Other devices, other event types, other keys: separate windows. */
static void test_keys_independent(void **state)
{
	struct rearm *r = table(16);
	uint64_t k[5] = {
		rearm_key("cam", "denied", "mqtt.example"),
		rearm_key("plug", "denied", "mqtt.example"),
		rearm_key("cam", "unknown_host", "mqtt.example"),
		rearm_key("cam", "denied", "web.example"),
		rearm_key("cam", "denied", NULL),
	};
	uint32_t sup;
	int i;

	(void)state;
	assert_true(rearm_fire(r, k[0], 0, MIN, &sup));
	assert_false(rearm_fire(r, k[0], 1, MIN, &sup));
	assert_false(rearm_fire(r, k[0], 2, MIN, &sup));
	for (i = 1; i < 5; i++) {
		assert_true(rearm_fire(r, k[i], 3, MIN, &sup));
		assert_int_equal(sup, 0);
		assert_false(rearm_fire(r, k[i], 4, MIN, &sup));
		assert_int_equal(sup, 1);
	}
	/* k[0]'s count was not disturbed by the others. */
	assert_true(rearm_fire(r, k[0], MIN, MIN, &sup));
	assert_int_equal(sup, 2);
	rearm_free(r);
}

/* Field boundaries are part of the key: moving a character from one field
 * to the next, or NULL versus "", gives another key.  And the key is a pure
 * function of its strings. */
static void test_key_framing(void **state)
{
	const char *t[][3] = {
		{ "ab", "c", NULL }, { "a", "bc", NULL },
		{ "ab", "c", "" }, { "a", "bc", "" },
		{ "a", "b", "c" }, { "a", "bc", NULL }, { "ab", "", "c" },
		{ "", "ab", "c" }, { "abc", NULL, NULL }, { "abc", "", NULL },
		{ NULL, "abc", NULL }, { "abc", "", "" }, { NULL, NULL, NULL },
		{ "", NULL, NULL }, { "", "", "" }, { "cam", "denied", NULL },
		/* A byte equal to the framing tag must not move a boundary. */
		{ "a\x01", "b", NULL }, { "a", "\x01" "b", NULL },
	};
	size_t n = sizeof(t) / sizeof(t[0]), i, j;
	char buf[4] = "ab";

	(void)state;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			uint64_t a = rearm_key(t[i][0], t[i][1], t[i][2]);
			uint64_t b = rearm_key(t[j][0], t[j][1], t[j][2]);
			int same = 1, f;

			for (f = 0; f < 3; f++) {
				const char *x = t[i][f], *y = t[j][f];

				if ((!x != !y) || (x && strcmp(x, y)))
					same = 0;
			}
			if (same)
				assert_int_equal(a, b);
			else
				assert_int_not_equal(a, b);
		}
	/* Same bytes at another address: same key. */
	assert_int_equal(rearm_key(buf, "c", NULL), rearm_key("ab", "c", NULL));
}

/* A full table evicts the key that fired longest ago (by emission, not by
 * insertion), keeps every other key's window and count, and goes on
 * working. */
static void test_full_table_evicts_oldest(void **state)
{
	struct rearm *r = table(4);
	struct rearm_stats st;
	uint32_t sup;
	uint64_t key;

	(void)state;
	/* Everything below happens within one re-arm time (1000) of the
	 * start, so every key is still inside its window unless evicted. */
	for (key = 1; key <= 4; key++)
		assert_true(rearm_fire(r, key, key, 1000, &sup));
	assert_false(rearm_fire(r, 1, 10, 1000, &sup));
	assert_false(rearm_fire(r, 1, 11, 1000, &sup));
	/* Key 2 fires again (a re-arm time of 0 for this call): now the
	 * newest emission, so key 3, not key 2 (inserted second), follows
	 * key 1 as the oldest. */
	assert_true(rearm_fire(r, 2, 20, 0, &sup));

	/* Key 5: table full, key 1 (fired at 1) goes, with its 2 suppressed. */
	assert_true(rearm_fire(r, 5, 30, 1000, &sup));
	assert_int_equal(sup, 0);
	rearm_stats(r, &st);
	assert_int_equal(st.used, 4);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.evicted_suppressed, 2);
	/* The survivors keep their windows and counts. */
	assert_false(rearm_fire(r, 3, 40, 1000, &sup));
	assert_false(rearm_fire(r, 4, 41, 1000, &sup));
	assert_false(rearm_fire(r, 2, 42, 1000, &sup));
	assert_false(rearm_fire(r, 5, 43, 1000, &sup));
	/* The documented worst case: the evicted key repeats early.  It
	 * evicts key 3, the oldest emission now. */
	assert_true(rearm_fire(r, 1, 50, 1000, &sup));
	assert_int_equal(sup, 0);
	rearm_stats(r, &st);
	assert_int_equal(st.evictions, 2);
	assert_int_equal(st.evicted_suppressed, 3);	/* + key 3's one */
	assert_false(rearm_fire(r, 4, 51, 1000, &sup));	/* kept */
	assert_int_equal(sup, 2);
	/* Key 3 was evicted: it fires, and evicts key 4 (fired at 4). */
	assert_true(rearm_fire(r, 3, 52, 1000, &sup));
	assert_int_equal(sup, 0);
	rearm_stats(r, &st);
	assert_int_equal(st.evictions, 3);
	assert_int_equal(st.evicted_suppressed, 5);
	assert_int_equal(st.used, 4);
	assert_true(rearm_fire(r, 4, 53, 1000, &sup));
	assert_int_equal(sup, 0);
	/* Keys 5 and 1 were never evicted: still suppressed. */
	assert_false(rearm_fire(r, 5, 54, 1000, &sup));
	assert_int_equal(sup, 2);
	assert_false(rearm_fire(r, 1, 55, 1000, &sup));
	rearm_free(r);
}

/* Many more keys than capacity (a device inventing a host name per flow):
 * the table stays at its capacity, the most recent keys stay suppressed,
 * lookups through long-lived chains stay right. */
static void test_churn(void **state)
{
	struct rearm *r = table(8);
	struct rearm_stats st;
	uint32_t sup;
	uint64_t i;
	char host[32];

	(void)state;
	for (i = 0; i < 10000; i++) {
		snprintf(host, sizeof(host), "h%llu.example",
			 (unsigned long long)i);
		assert_true(rearm_fire(r, rearm_key("cam", "unknown_host", host),
				       i, MIN, &sup));
	}
	rearm_stats(r, &st);
	assert_int_equal(st.used, 8);
	assert_int_equal(st.evictions, 10000 - 8);
	for (i = 10000 - 8; i < 10000; i++) {
		snprintf(host, sizeof(host), "h%llu.example",
			 (unsigned long long)i);
		assert_false(rearm_fire(r, rearm_key("cam", "unknown_host", host),
					10000, MIN, &sup));
		assert_int_equal(sup, 1);
	}
	rearm_stats(r, &st);
	assert_int_equal(st.evictions, 10000 - 8);	/* hits evict nothing */
	rearm_free(r);
}

/* A clock that goes backwards must not suppress until it catches up: the
 * window restarts at the step, so a repeat fires rearm_ms after it. */
static void test_clock_backwards(void **state)
{
	struct rearm *r = table(4);
	uint32_t sup;

	(void)state;
	/* A long step back (a day): suppressed for one re-arm time after the
	 * step, not for a day. */
	assert_true(rearm_fire(r, 1, 86400000 + 5000, 1000, &sup));
	assert_false(rearm_fire(r, 1, 5000, 1000, &sup));
	assert_int_equal(sup, 1);
	assert_false(rearm_fire(r, 1, 5999, 1000, &sup));
	assert_int_equal(sup, 2);
	assert_true(rearm_fire(r, 1, 6000, 1000, &sup));
	assert_int_equal(sup, 2);

	/* A small step back (a reordered packet): the window only shortens,
	 * by the step. */
	assert_true(rearm_fire(r, 2, 10000, 1000, &sup));
	assert_false(rearm_fire(r, 2, 9990, 1000, &sup));
	assert_true(rearm_fire(r, 2, 10990, 1000, &sup));
	assert_int_equal(sup, 1);

	/* To zero, with rearm 0: fires regardless. */
	assert_true(rearm_fire(r, 3, 500, 0, &sup));
	assert_true(rearm_fire(r, 3, 0, 0, &sup));
	rearm_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_and_free),
		cmocka_unit_test(test_suppress_and_count),
		cmocka_unit_test(test_rearm_time_per_call),
		cmocka_unit_test(test_keys_independent),
		cmocka_unit_test(test_key_framing),
		cmocka_unit_test(test_full_table_evicts_oldest),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_clock_backwards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
