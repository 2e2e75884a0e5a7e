/* test_devview.c - the per-device view shared by workers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/devview.h"
#include "policy/policy.h"

static const char yaml_ab[] =
	"version: 1\n"
	"devices:\n"
	"  cam:\n"
	"    ip: 192.168.1.10\n"
	"  plug:\n"
	"    ip: 192.168.1.11\n";

/* The same devices in another order, one gone, one new. */
static const char yaml_ba[] =
	"version: 1\n"
	"devices:\n"
	"  tv:\n"
	"    ip: 192.168.1.12\n"
	"  cam:\n"
	"    ip: 192.168.1.10\n";

static struct policy *load(const char *y)
{
	struct policy_diag *d = NULL;
	struct policy *p = policy_load_buffer("t.yaml", y, strlen(y), NULL, &d);

	policy_diag_free(d);
	assert_non_null(p);
	return p;
}

static void test_slots_and_names(void **state)
{
	struct policy *p = load(yaml_ab);
	struct devview *v = devview_new(p, 2);

	(void)state;
	assert_non_null(v);
	/* Declared devices in file order, then the unknown device. */
	assert_int_equal(devview_slots(v), 3);
	assert_string_equal(devview_slot_name(v, 0), "cam");
	assert_string_equal(devview_slot_name(v, 1), "plug");
	assert_string_equal(devview_slot_name(v, 2), "unknown");
	assert_null(devview_slot_name(v, 3));
	assert_int_equal(devview_slot(v, policy_device_at(p, 1)), 1);
	assert_int_equal(devview_slot(v, policy_unknown_device(p)), 2);
	assert_int_equal(devview_slot(v, NULL), (size_t)-1);
	devview_free(v);
	policy_free(p);
	assert_null(devview_new(p = load(yaml_ab), 0));
	policy_free(p);
}

static void test_sum_over_shards_and_newest_sighting(void **state)
{
	struct policy *p = load(yaml_ab);
	struct devview *v = devview_new(p, 3);
	uint64_t ctr[__DEVVIEW_CTR_MAX];
	struct devview_seen s, got;

	(void)state;
	devview_add(v, 0, 0, DEVVIEW_FLOWS, 2);
	devview_add(v, 1, 0, DEVVIEW_FLOWS, 3);
	devview_add(v, 2, 0, DEVVIEW_DENIED, 1);
	devview_add(v, 2, 1, DEVVIEW_FLOWS, 7);
	/* Out of range writes are ignored, not written elsewhere. */
	devview_add(v, 3, 0, DEVVIEW_FLOWS, 100);
	devview_add(v, 0, 9, DEVVIEW_FLOWS, 100);

	memset(&s, 0, sizeof(s));
	s.at_us = 200;
	s.family = AF_INET;
	s.addr[3] = 10;
	strcpy(s.port, "lan2");
	devview_saw(v, 1, 0, &s);
	s.at_us = 100;		/* older, from another worker */
	strcpy(s.port, "lan1");
	devview_saw(v, 0, 0, &s);

	devview_read(v, 0, ctr, &got);
	assert_int_equal(ctr[DEVVIEW_FLOWS], 5);
	assert_int_equal(ctr[DEVVIEW_DENIED], 1);
	assert_int_equal(ctr[DEVVIEW_ALLOWED], 0);
	assert_int_equal(got.at_us, 200);
	assert_string_equal(got.port, "lan2");
	devview_read(v, 1, ctr, &got);
	assert_int_equal(ctr[DEVVIEW_FLOWS], 7);
	assert_int_equal(got.at_us, 0);
	devview_read(v, 42, ctr, &got);
	assert_int_equal(ctr[DEVVIEW_FLOWS], 0);
	devview_free(v);
	policy_free(p);
}

static void test_carry_by_name(void **state)
{
	struct policy *pa = load(yaml_ab), *pb = load(yaml_ba);
	struct devview *a = devview_new(pa, 2), *b = devview_new(pb, 2);
	uint64_t ctr[__DEVVIEW_CTR_MAX];
	struct devview_seen s, got;

	(void)state;
	devview_add(a, 0, 0, DEVVIEW_ALERTS, 4);	/* cam */
	devview_add(a, 1, 1, DEVVIEW_FLOWS, 9);		/* plug: gone in b */
	devview_add(a, 1, 2, DEVVIEW_FLOWS, 1);		/* unknown */
	memset(&s, 0, sizeof(s));
	s.at_us = 50;
	strcpy(s.port, "p-cam");
	devview_saw(a, 1, 0, &s);
	devview_add(b, 0, 1, DEVVIEW_ALERTS, 1);	/* cam in b */

	devview_carry(b, a);
	devview_read(b, 1, ctr, &got);			/* cam */
	assert_int_equal(ctr[DEVVIEW_ALERTS], 5);
	assert_string_equal(got.port, "p-cam");
	devview_read(b, 0, ctr, &got);			/* tv: nothing */
	assert_int_equal(ctr[DEVVIEW_FLOWS], 0);
	devview_read(b, 2, ctr, &got);			/* unknown */
	assert_int_equal(ctr[DEVVIEW_FLOWS], 1);
	devview_free(a);
	devview_free(b);
	policy_free(pa);
	policy_free(pb);
}

/* Two writers on their own shards, one reader: the reader never sees a torn
 * sighting (port and address written together always agree) and the totals
 * are exact once the writers are done. */
#define ROUNDS 200000

struct wctx {
	struct devview *v;
	unsigned w;
};

static void *writer(void *arg)
{
	struct wctx *c = arg;
	struct devview_seen s;
	unsigned i;

	memset(&s, 0, sizeof(s));
	for (i = 1; i <= ROUNDS; i++) {
		devview_add(c->v, c->w, 0, DEVVIEW_FLOWS, 1);
		s.at_us = i;
		s.addr[15] = (uint8_t)i;
		snprintf(s.port, sizeof(s.port), "p%u", (uint8_t)i);
		devview_saw(c->v, c->w, 0, &s);
	}
	return NULL;
}

static void test_concurrent_writers(void **state)
{
	struct policy *p = load(yaml_ab);
	struct devview *v = devview_new(p, 2);
	struct wctx c[2] = { { v, 0 }, { v, 1 } };
	uint64_t ctr[__DEVVIEW_CTR_MAX];
	struct devview_seen got;
	pthread_t t[2];
	char want[16];
	unsigned i, torn = 0;

	(void)state;
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, &c[i]), 0);
	for (i = 0; i < 20000; i++) {
		devview_read(v, 0, ctr, &got);
		if (!got.at_us)
			continue;
		snprintf(want, sizeof(want), "p%u", got.addr[15]);
		if (strcmp(want, got.port) || (uint8_t)got.at_us != got.addr[15])
			torn++;
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(torn, 0);
	devview_read(v, 0, ctr, &got);
	assert_int_equal(ctr[DEVVIEW_FLOWS], 2 * ROUNDS);
	assert_int_equal(got.at_us, ROUNDS);
	devview_free(v);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots_and_names),
		cmocka_unit_test(test_sum_over_shards_and_newest_sighting),
		cmocka_unit_test(test_carry_by_name),
		cmocka_unit_test(test_concurrent_writers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
