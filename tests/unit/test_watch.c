/* test_watch.c - the watcher: what the replay golden test cannot show
 * (bridge ports, ranges, learn mode, reloads, state files, caps). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/alerts.h"
#include "daemon/classify.h"
#include "daemon/flow.h"
#include "daemon/json.h"
#include "daemon/judge.h"
#include "daemon/watch.h"
#include "policy/policy.h"

#define T0 (1767225600ULL * 1000000)	/* 2026-01-01T00:00:00Z, in us */
#define MIN (60ULL * 1000000)

static const char yaml[] =
	"lan: [10.0.0.0/16]\n"
	"devices:\n"
	"  cam: {ip: 10.0.0.10, out: [any], in: [any]}\n"
	"  quiet: {ip: 10.0.0.11, mode: learn, out: [any]}\n"
	"  range: {ip: 10.0.1.0/24, out: [any]}\n"
	"  srv: {mac: '02:00:00:00:00:20', out: [any], in: [any]}\n"
	"  few: {ip: 10.0.0.12, out: [any], limits: {max_endpoints: 2}}\n";

/* The same devices, cam renamed and one rule added before srv's any. */
static const char yaml2[] =
	"lan: [10.0.0.0/16]\n"
	"devices:\n"
	"  camera: {ip: 10.0.0.10, out: [any], in: [any]}\n"
	"  quiet: {ip: 10.0.0.11, mode: learn, out: [any]}\n"
	"  range: {ip: 10.0.1.0/24, out: [any]}\n"
	"  srv: {mac: '02:00:00:00:00:20', out: [DNS, any], in: [any]}\n";

struct fixture {
	struct classifier *c;
	struct policy *p;
	struct watch *w;
	struct watch_config cfg;
	char lines[64][1024];
	int n;
};

static void collect(void *ctx, struct alert *a)
{
	struct fixture *fx = ctx;
	struct jbuf j;

	if (fx->n >= 64)
		fail();
	jbuf_init(&j);
	alert_json(&j, a);
	assert_true(jbuf_ok(&j));
	snprintf(fx->lines[fx->n++], sizeof(fx->lines[0]), "%.*s", (int)j.len, j.p);
	jbuf_free(&j);
}

static struct policy *load(const char *y)
{
	struct policy_diag *d = NULL;
	struct policy *p = policy_load_buffer("t.yaml", y, strlen(y), NULL, &d);

	policy_diag_free(d);
	assert_non_null(p);
	return p;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->c = classifier_new();
	assert_non_null(fx->c);
	fx->p = load(yaml);
	watch_config_default(&fx->cfg);
	fx->cfg.learn_ms = 10 * 60 * 1000;	/* 10 min */
	fx->w = watch_new(&fx->cfg, fx->p, collect, fx);
	assert_non_null(fx->w);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	watch_free(fx->w);
	policy_free(fx->p);
	classifier_free(fx->c);
	free(fx);
	return 0;
}

/* A TCP flow SRC:sport -> DST:dport judged by the policy, then given to the
 * watcher at TS with bridge ports PORT_SRC / PORT_DST; returns its slot. */
static uint32_t flow(struct fixture *fx, uint64_t ts, const char *src, const char *smac,
		     uint16_t sport, const char *dst, uint16_t dport, const char *port_src,
		     const char *port_dst, uint64_t up, uint64_t down)
{
	struct flow f;
	struct policy_verdict v;
	struct watch_flow wf;
	unsigned m[6];
	int i;

	memset(&f, 0, sizeof(f));
	f.key.family = AF_INET;
	f.key.ip_proto = 6;
	/* side 0 the initiator, whatever the canonical order would be:
	 * the watcher reads sides through f.initiator */
	assert_int_equal(inet_pton(AF_INET, src, f.key.addr[0]), 1);
	assert_int_equal(inet_pton(AF_INET, dst, f.key.addr[1]), 1);
	f.key.port[0] = sport;
	f.key.port[1] = dport;
	f.initiator = 0;
	f.first_us = f.last_us = ts;
	f.bytes[0] = up;
	f.bytes[1] = down;
	if (smac) {
		assert_int_equal(sscanf(smac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2],
					&m[3], &m[4], &m[5]), 6);
		for (i = 0; i < 6; i++)
			f.mac[0][i] = (uint8_t)m[i];
		f.flags |= FLOW_F_MAC0;
	}
	memset(&wf, 0, sizeof(wf));
	wf.ifnames[0] = port_src;
	wf.ifnames[1] = port_dst;
	assert_int_equal(judge_flow(fx->p, fx->c, &f, wf.ifnames, &v), 0);
	wf.ts_us = ts;
	wf.f = &f;
	wf.c = fx->c;
	wf.v = &v;
	return watch_flow_decided(fx->w, &wf, NULL);
}

static int count(struct fixture *fx, const char *needle)
{
	int i, n = 0;

	for (i = 0; i < fx->n; i++)
		n += strstr(fx->lines[i], needle) != NULL;
	return n;
}

/* A device that moves to another bridge port: one port_change, with both
 * ports; coming back is a change too; staying is not. */
static void test_port_change(void **state)
{
	struct fixture *fx = *state;

	flow(fx, T0, "10.0.0.10", "02:00:00:00:00:10", 40000, "10.0.0.20", 80, "lan1", "lan4", 0, 0);
	flow(fx, T0 + MIN, "10.0.0.10", "02:00:00:00:00:10", 40001, "10.0.0.20", 80, "lan1", "lan4", 0, 0);
	assert_int_equal(count(fx, "\"port_change\""), 0);
	flow(fx, T0 + 2 * MIN, "10.0.0.10", "02:00:00:00:00:10", 40002, "10.0.0.20", 80, "lan2", "lan4", 0, 0);
	assert_int_equal(count(fx, "\"port_change\""), 1);
	assert_int_equal(count(fx, "\"details\":{\"old\":\"lan1\",\"new\":\"lan2\"}"), 1);
	assert_int_equal(count(fx, "\"name\":\"cam\",\"mac\":\"02:00:00:00:00:10\",\"ip\":\"10.0.0.10\",\"port\":\"lan2\""), 1);
	flow(fx, T0 + 3 * MIN, "10.0.0.10", "02:00:00:00:00:10", 40003, "10.0.0.20", 80, "lan1", "lan4", 0, 0);
	assert_int_equal(count(fx, "\"port_change\""), 2);
}

/* A device declared by one address seen with another MAC: binding_change
 * naming both; a range device is several machines: no binding to follow. */
static void test_binding_change(void **state)
{
	struct fixture *fx = *state;

	flow(fx, T0, "10.0.0.10", "02:00:00:00:00:10", 40000, "198.51.100.1", 443, NULL, NULL, 0, 0);
	flow(fx, T0 + MIN, "10.0.0.10", "02:00:00:00:00:99", 40001, "198.51.100.1", 443, NULL, NULL, 0, 0);
	assert_int_equal(count(fx, "\"binding_change\""), 1);
	assert_int_equal(count(fx, "\"what\":\"mac\",\"old\":\"02:00:00:00:00:10\",\"new\":\"02:00:00:00:00:99\""), 1);

	flow(fx, T0, "10.0.1.5", "02:00:00:00:01:05", 40000, "198.51.100.1", 443, NULL, NULL, 0, 0);
	flow(fx, T0 + MIN, "10.0.1.6", "02:00:00:00:01:06", 40000, "198.51.100.1", 443, NULL, NULL, 0, 0);
	assert_int_equal(count(fx, "\"binding_change\""), 1);

	/* srv is declared by MAC only: a new address is a change of binding */
	flow(fx, T0, "10.0.0.20", "02:00:00:00:00:20", 40000, "198.51.100.1", 443, NULL, NULL, 0, 0);
	flow(fx, T0 + MIN, "10.0.0.21", "02:00:00:00:00:20", 40000, "198.51.100.1", 443, NULL, NULL, 0, 0);
	assert_int_equal(count(fx, "\"what\":\"ipv4\",\"old\":\"10.0.0.20\",\"new\":\"10.0.0.21\""), 1);
}

/* New endpoints and services are learnt quietly while the device is new,
 * then reported once each; a learn-mode device is never reported. */
static void test_learning(void **state)
{
	struct fixture *fx = *state;
	uint64_t later = T0 + 11 * MIN;

	flow(fx, T0, "10.0.0.10", NULL, 40000, "198.51.100.1", 443, NULL, NULL, 0, 0);
	flow(fx, T0, "10.0.0.20", NULL, 40000, "10.0.0.10", 554, NULL, NULL, 0, 0);
	assert_int_equal(fx->n, 0);
	/* the same network, the same service: still quiet */
	flow(fx, later, "10.0.0.10", NULL, 40001, "198.51.100.77", 443, NULL, NULL, 0, 0);
	flow(fx, later, "10.0.0.20", NULL, 40001, "10.0.0.10", 554, NULL, NULL, 0, 0);
	assert_int_equal(fx->n, 0);
	flow(fx, later, "10.0.0.10", NULL, 40002, "203.0.113.5", 443, NULL, NULL, 0, 0);
	assert_int_equal(count(fx, "\"new_endpoint\""), 1);
	assert_int_equal(count(fx, "\"endpoint\":\"203.0.113.0/24\""), 1);
	flow(fx, later, "10.0.0.20", NULL, 40003, "10.0.0.10", 8554, NULL, NULL, 0, 0);
	assert_int_equal(count(fx, "\"new_service_in\""), 1);
	assert_int_equal(count(fx, "\"protocol\":\"tcp\",\"port\":8554"), 1);
	/* once learnt, not again */
	flow(fx, later + MIN, "10.0.0.10", NULL, 40004, "203.0.113.9", 443, NULL, NULL, 0, 0);
	assert_int_equal(count(fx, "\"new_endpoint\""), 1);

	/* max_endpoints 2: the third is news even while learning */
	flow(fx, T0, "10.0.0.12", NULL, 40000, "198.51.100.1", 443, NULL, NULL, 0, 0);
	flow(fx, T0, "10.0.0.12", NULL, 40001, "198.51.101.1", 443, NULL, NULL, 0, 0);
	assert_int_equal(count(fx, "\"name\":\"few\""), 0);
	flow(fx, T0, "10.0.0.12", NULL, 40002, "198.51.102.1", 443, NULL, NULL, 0, 0);
	assert_int_equal(count(fx, "\"max_endpoints\":2,\"over_limit\":true"), 1);

	/* learn mode: learnt, never said */
	flow(fx, T0, "10.0.0.11", NULL, 40000, "198.51.100.1", 443, NULL, NULL, 0, 0);
	flow(fx, later, "10.0.0.11", NULL, 40000, "192.0.2.1", 443, NULL, NULL, 0, 0);
	assert_int_equal(count(fx, "\"name\":\"quiet\""), 0);
}

/* Slots are numbered by name: the same service keeps its number across a
 * reload; a renamed device gets new ones; bytes are oriented by role. */
static void test_slots_and_reload(void **state)
{
	struct fixture *fx = *state;
	struct policy *p2;
	uint32_t a, b, c, d;

	a = flow(fx, T0, "10.0.0.20", "02:00:00:00:00:20", 40000, "198.51.100.1", 443, NULL, NULL, 0, 0);
	b = flow(fx, T0, "10.0.0.10", NULL, 40000, "198.51.100.1", 443, NULL, NULL, 0, 0);
	assert_int_not_equal(a, 0);
	assert_int_not_equal(b, 0);
	assert_int_not_equal(a, b);
	assert_int_equal(flow(fx, T0 + MIN, "10.0.0.20", "02:00:00:00:00:20", 40001,
			      "198.51.100.1", 443, NULL, NULL, 0, 0), a);
	p2 = load(yaml2);
	watch_set_policy(fx->w, p2);
	policy_free(fx->p);
	fx->p = p2;
	/* srv's `any` is now its second rule, with the same label: the same
	 * slot; cam is now camera: a new one */
	c = flow(fx, T0 + 2 * MIN, "10.0.0.20", "02:00:00:00:00:20", 40002, "198.51.100.1", 443, NULL, NULL, 0, 0);
	d = flow(fx, T0 + 2 * MIN, "10.0.0.10", NULL, 40002, "198.51.100.1", 443, NULL, NULL, 0, 0);
	assert_int_equal(c, a);
	assert_int_not_equal(d, b);
	assert_int_not_equal(d, a);
}

/* The state file: what was learnt survives a restart, a long downtime is
 * not taken for silence, and a foreign file is refused with a reason. */
static void test_state(void **state)
{
	struct fixture *fx = *state;
	char dir[] = "/tmp/test_watch.XXXXXX", path[64], why[160];
	struct watch *w2;
	uint64_t t;
	int i;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	/* cam uploads 100 KB every 5 min for 2 h: a baseline */
	for (i = 0, t = T0; i < 24; i++, t += 5 * MIN)
		watch_credit(fx->w, flow(fx, t, "10.0.0.10", NULL, (uint16_t)(40000 + i),
					 "198.51.100.1", 443, NULL, NULL, 0, 0),
			     t + 1000, 100000, 5000);
	watch_tick(fx->w, t);
	assert_int_equal(count(fx, "throughput"), 0);
	assert_int_equal(watch_save(fx->w, path, t / 1000), 0);

	w2 = watch_new(&fx->cfg, fx->p, collect, fx);
	assert_non_null(w2);
	/* a day later */
	t += 1440 * MIN;
	assert_int_equal(watch_load(w2, path, t / 1000, why, sizeof(why)), 0);
	watch_free(fx->w);
	fx->w = w2;
	watch_tick(fx->w, t + 6 * MIN);
	assert_int_equal(count(fx, "silent"), 0);
	/* the learnt network is still known: no new_endpoint */
	flow(fx, t + 6 * MIN, "10.0.0.10", NULL, 50000, "198.51.100.9", 443, NULL, NULL, 0, 0);
	assert_int_equal(count(fx, "\"new_endpoint\""), 0);
	/* and the baseline: ten times the usual is reported */
	watch_credit(fx->w, flow(fx, t + 7 * MIN, "10.0.0.10", NULL, 50001, "198.51.100.1",
				 443, NULL, NULL, 0, 0), t + 7 * MIN, 1000000, 5000);
	watch_tick(fx->w, t + 16 * MIN);
	assert_int_equal(count(fx, "\"throughput_above_baseline\""), 1);
	assert_int_equal(count(fx, "\"direction\":\"up\",\"baseline\":\"above\""), 1);

	/* not a state file: refused, with a reason, nothing loaded */
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs("not a state file\n", f);
		fclose(f);
	}
	why[0] = 0;
	assert_int_equal(watch_load(fx->w, path, t / 1000, why, sizeof(why)), -EBADMSG);
	assert_true(strlen(why) > 0);
	unlink(path);
	rmdir(dir);
}

/* A full device table: devices beyond it are counted, not kept. */
static void test_caps(void **state)
{
	struct fixture *fx = *state;
	struct watch_stats st;

	watch_free(fx->w);
	fx->cfg.max_devices = 2;
	fx->w = watch_new(&fx->cfg, fx->p, collect, fx);
	assert_non_null(fx->w);
	flow(fx, T0, "10.0.0.10", NULL, 40000, "198.51.100.1", 443, NULL, NULL, 0, 0);
	flow(fx, T0, "10.0.0.20", "02:00:00:00:00:20", 40000, "198.51.100.1", 443, NULL, NULL, 0, 0);
	flow(fx, T0, "10.0.1.5", NULL, 40000, "198.51.100.1", 443, NULL, NULL, 0, 0);
	watch_get_stats(fx->w, &st);
	assert_int_equal(st.devices, 2);
	assert_int_equal(st.full_devices, 1);
	assert_int_equal(st.flows, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_port_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binding_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_learning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots_and_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
	};

	return cmocka_run_group_tests_name("watch", tests, NULL, NULL);
}
