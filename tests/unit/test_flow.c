/* test_flow.c - flow table: direction, timeouts per protocol, eviction at
 * the cap, TCP tuple reuse, deterministic flush order, end callbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <string.h>

#include "daemon/flow.h"
#include "daemon/packet.h"

#define SEC 1000000ULL

struct ended {
	unsigned n;
	uint32_t ids[64];
	enum flow_end_reason why[64];
};

static void on_end(void *ctx, struct flow *f, enum flow_end_reason why)
{
	struct ended *e = ctx;

	if (e->n < 64) {
		e->ids[e->n] = f->id;
		e->why[e->n] = why;
	}
	e->n++;
}

static const uint8_t dummy_l3[1];

static struct packet pkt(uint8_t proto, uint8_t a, uint16_t sport, uint8_t b,
			 uint16_t dport, uint8_t flags)
{
	struct packet p;

	memset(&p, 0, sizeof(p));
	p.l3 = dummy_l3;
	p.l3_len = p.ip_len = 100;
	p.family = AF_INET;
	p.src[0] = 10; p.src[3] = a;
	p.dst[0] = 10; p.dst[3] = b;
	p.ip_proto = proto;
	p.sport = sport;
	p.dport = dport;
	p.tcp_flags = flags;
	return p;
}

static struct flow_table *table(uint32_t cap, struct ended *e)
{
	struct flow_table_config cfg;
	struct flow_table *t;

	flow_table_config_default(&cfg);
	cfg.max_flows = cap;
	memset(e, 0, sizeof(*e));
	t = flow_table_new(&cfg, on_end, e);
	assert_non_null(t);
	return t;
}

static void test_both_directions_one_flow(void **state)
{
	struct ended e;
	struct flow_table *t = table(16, &e);
	struct packet syn = pkt(6, 20, 40000, 1, 443, TCP_SYN);
	struct packet synack = pkt(6, 1, 443, 20, 40000, TCP_SYN | TCP_ACK);
	struct flow *f1, *f2;
	bool created;
	int s1, s2;

	(void)state;
	f1 = flow_table_packet(t, &syn, 1 * SEC, &s1, &created);
	assert_true(created);
	f2 = flow_table_packet(t, &synack, 1 * SEC + 10, &s2, &created);
	assert_false(created);
	assert_ptr_equal(f1, f2);
	assert_int_not_equal(s1, s2);
	assert_int_equal(f1->initiator, s1);
	assert_int_equal(f1->packets[s1], 1);
	assert_int_equal(f1->packets[s2], 1);
	assert_int_equal(f1->bytes[s1] + f1->bytes[s2], 200);
	flow_table_free(t);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.why[0], FLOW_END_FLUSH);
}

static void test_initiator_from_synack(void **state)
{
	struct ended e;
	struct flow_table *t = table(16, &e);
	struct packet synack = pkt(6, 1, 443, 20, 40000, TCP_SYN | TCP_ACK);
	struct flow *f;
	bool created;
	int s;

	(void)state;
	/* Capture started mid-handshake: the SYN-ACK sender is the server. */
	f = flow_table_packet(t, &synack, SEC, &s, &created);
	assert_int_equal(f->initiator, !s);
	flow_table_free(t);
}

static void test_vlan_separates_flows(void **state)
{
	struct ended e;
	struct flow_table *t = table(16, &e);
	struct packet a = pkt(17, 20, 5000, 1, 53, 0), b = a;
	bool created;
	int s;

	(void)state;
	b.n_vlans = 1;
	b.vlan[0] = 10;
	assert_ptr_not_equal(flow_table_packet(t, &a, SEC, &s, &created),
			     flow_table_packet(t, &b, SEC, &s, &created));
	flow_table_free(t);
	assert_int_equal(e.n, 2);
}

static void test_timeouts_per_protocol(void **state)
{
	struct ended e;
	struct flow_table *t = table(16, &e);
	struct packet udp = pkt(17, 20, 5000, 1, 53, 0);
	struct packet tcp = pkt(6, 20, 40000, 1, 80, TCP_SYN);
	struct flow_table_stats st;
	bool created;
	int s;

	(void)state;
	flow_table_packet(t, &udp, 0, &s, &created);
	flow_table_packet(t, &tcp, 0, &s, &created);
	flow_table_expire(t, 59 * SEC);
	assert_int_equal(e.n, 0);
	flow_table_expire(t, 60 * SEC);	/* UDP: 60 s */
	assert_int_equal(e.n, 1);
	assert_int_equal(e.why[0], FLOW_END_IDLE);
	flow_table_expire(t, 299 * SEC);
	assert_int_equal(e.n, 1);
	flow_table_expire(t, 300 * SEC);	/* TCP: 300 s */
	assert_int_equal(e.n, 2);
	flow_table_stats(t, &st);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.ended[FLOW_END_IDLE], 2);
	flow_table_free(t);
}

static void test_activity_postpones_expiry(void **state)
{
	struct ended e;
	struct flow_table *t = table(16, &e);
	struct packet udp = pkt(17, 20, 5000, 1, 53, 0);
	bool created;
	int s;

	(void)state;
	flow_table_packet(t, &udp, 0, &s, &created);
	flow_table_packet(t, &udp, 50 * SEC, &s, &created);
	flow_table_expire(t, 100 * SEC);
	assert_int_equal(e.n, 0);
	flow_table_expire(t, 110 * SEC);
	assert_int_equal(e.n, 1);
	flow_table_free(t);
}

static void test_closed_tcp_short_timeout_and_reuse(void **state)
{
	struct ended e;
	struct flow_table *t = table(16, &e);
	struct packet fin1 = pkt(6, 20, 40000, 1, 80, TCP_FIN | TCP_ACK);
	struct packet fin2 = pkt(6, 1, 80, 20, 40000, TCP_FIN | TCP_ACK);
	struct packet syn = pkt(6, 20, 40000, 1, 80, TCP_SYN);
	struct flow *f;
	bool created;
	int s;

	(void)state;
	f = flow_table_packet(t, &syn, 0, &s, &created);
	flow_table_packet(t, &fin1, SEC, &s, &created);
	flow_table_packet(t, &fin2, SEC, &s, &created);
	assert_int_equal(f->tclass, FLOW_TCLASS_TCP_CLOSED);
	/* The same tuple opened again is a new flow. */
	f = flow_table_packet(t, &syn, 2 * SEC, &s, &created);
	assert_true(created);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.why[0], FLOW_END_REUSED);
	assert_int_equal(f->tclass, FLOW_TCLASS_TCP);
	/* RST closes too, and closed flows expire after 10 s. */
	syn.tcp_flags = TCP_RST;
	flow_table_packet(t, &syn, 3 * SEC, &s, &created);
	flow_table_expire(t, 12 * SEC);
	assert_int_equal(e.n, 1);
	flow_table_expire(t, 13 * SEC);
	assert_int_equal(e.n, 2);
	flow_table_free(t);
}

static void test_eviction_at_cap(void **state)
{
	struct ended e;
	struct flow_table *t = table(4, &e);
	struct flow_table_stats st;
	struct packet p;
	struct flow *f;
	bool created;
	int s, i;

	(void)state;
	for (i = 0; i < 4; i++) {
		p = pkt(17, (uint8_t)(20 + i), 5000, 1, 53, 0);
		flow_table_packet(t, &p, (uint64_t)i * SEC, &s, &created);
	}
	/* Touch flow 0 so flow 1 is now the longest idle. */
	p = pkt(17, 20, 5000, 1, 53, 0);
	flow_table_packet(t, &p, 10 * SEC, &s, &created);
	p = pkt(17, 99, 5000, 1, 53, 0);
	f = flow_table_packet(t, &p, 11 * SEC, &s, &created);
	assert_true(created);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.ids[0], 1);
	assert_int_equal(e.why[0], FLOW_END_EVICTED);
	assert_int_equal(f->id, 4);
	flow_table_stats(t, &st);
	assert_int_equal(st.active, 4);
	assert_int_equal(st.peak, 4);
	assert_int_equal(st.ended[FLOW_END_EVICTED], 1);
	/* Many more flows than the cap: never more than cap live. */
	for (i = 0; i < 1000; i++) {
		p = pkt(17, (uint8_t)i, (uint16_t)(6000 + i), 2, 53, 0);
		flow_table_packet(t, &p, (uint64_t)(20 + i) * SEC / 1000, &s,
				  &created);
	}
	flow_table_stats(t, &st);
	assert_int_equal(st.active, 4);
	assert_int_equal(st.created, 1005);
	assert_int_equal(st.ended[FLOW_END_EVICTED], 1001);
	flow_table_free(t);
}

static void test_flush_in_creation_order(void **state)
{
	struct ended e;
	struct flow_table *t = table(64, &e);
	struct packet p;
	bool created;
	int s, i;

	(void)state;
	for (i = 0; i < 40; i++) {
		p = pkt(17, (uint8_t)(200 - i), (uint16_t)(1000 + i * 7), 1,
			53, 0);
		flow_table_packet(t, &p, SEC, &s, &created);
	}
	flow_table_flush(t);
	assert_int_equal(e.n, 40);
	for (i = 0; i < 40; i++) {
		assert_int_equal(e.ids[i], (uint32_t)i);
		assert_int_equal(e.why[i], FLOW_END_FLUSH);
	}
	flow_table_free(t);
	assert_int_equal(e.n, 40);
}

static void test_clock_going_back_keeps_expiry_order(void **state)
{
	struct ended e;
	struct flow_table *t = table(16, &e);
	struct packet a = pkt(17, 20, 5000, 1, 53, 0);
	struct packet b = pkt(17, 21, 5000, 1, 53, 0);
	bool created;
	int s;

	(void)state;
	flow_table_packet(t, &a, 100 * SEC, &s, &created);
	flow_table_packet(t, &b, 200 * SEC, &s, &created);
	/* A late packet of A stamped before B's: A is now the most recently
	 * active, so B must expire first and A not before 60 s after B. */
	flow_table_packet(t, &a, 150 * SEC, &s, &created);
	flow_table_expire(t, 260 * SEC);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.ids[0], 1);
	assert_int_equal(e.ids[1], 0);
	flow_table_free(t);
}

static void test_bad_config(void **state)
{
	struct flow_table_config cfg;

	(void)state;
	flow_table_config_default(&cfg);
	cfg.max_flows = 0;
	assert_null(flow_table_new(&cfg, NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_directions_one_flow),
		cmocka_unit_test(test_initiator_from_synack),
		cmocka_unit_test(test_vlan_separates_flows),
		cmocka_unit_test(test_timeouts_per_protocol),
		cmocka_unit_test(test_activity_postpones_expiry),
		cmocka_unit_test(test_closed_tcp_short_timeout_and_reuse),
		cmocka_unit_test(test_eviction_at_cap),
		cmocka_unit_test(test_flush_in_creation_order),
		cmocka_unit_test(test_clock_going_back_keeps_expiry_order),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests_name("flow", tests, NULL, NULL);
}
