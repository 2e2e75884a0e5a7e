/* test_pipeline.c - the packet path with the real nDPI: decisions
 * (classified / limit / giveup), nDPI state freed at the decision, payload-
 * less TCP not inspected, host names interned and released. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "daemon/classify.h"
#include "daemon/packet.h"
#include "daemon/pipeline.h"
#include "tests/unit/pktbuild.h"

static const uint8_t MAC[6] = { 2, 0, 0, 0, 0, 0x10 };

struct seen {
	unsigned decided, ended;
	size_t live_at_decision;
	char proto[64], host[128];
	uint8_t by, inspected;
	unsigned settled_asked;
	bool settle;
};

static void on_decided(void *ctx, struct pipeline *pl, struct flow *f)
{
	struct seen *s = ctx;

	s->decided++;
	/* The state must already be gone when the owner sees the decision. */
	assert_null(f->cls);
	s->live_at_decision = classifier_live_flows(pipeline_classifier(pl));
	classifier_proto_name(pipeline_classifier(pl), f->master, f->app,
			      s->proto, sizeof(s->proto));
	snprintf(s->host, sizeof(s->host), "%s", f->host ? f->host : "");
	s->by = f->decided_by;
	s->inspected = f->inspected;
}

static void on_ended(void *ctx, struct pipeline *pl, struct flow *f,
		     enum flow_end_reason why)
{
	struct seen *s = ctx;

	(void)pl; (void)why;
	assert_int_equal(f->state, FLOW_DECIDED);
	s->ended++;
}

static struct pipeline *new_pipeline(struct seen *s, unsigned inspect)
{
	static const struct pipeline_ops ops = {
		.decided = on_decided,
		.ended = on_ended,
	};
	struct pipeline_config cfg;
	struct pipeline *pl;

	memset(s, 0, sizeof(*s));
	pipeline_config_default(&cfg);
	cfg.inspect_packets = inspect;
	pl = pipeline_new(&cfg, &ops, s);
	assert_non_null(pl);
	return pl;
}

static void feed(struct pipeline *pl, struct pb *b, uint64_t t, bool *handed)
{
	struct packet p;

	assert_int_equal(packet_parse_link(&p, PACKET_LINK_ETHERNET, b->b,
					   b->len), PACKET_OK);
	assert_non_null(pipeline_packet(pl, &p, t, handed));
}

static void test_dns_classified_and_state_freed(void **state)
{
	struct seen s;
	struct pipeline *pl = new_pipeline(&s, 8);
	struct pipeline_stats st;
	uint8_t q[128];
	struct pb b;
	size_t n;
	bool handed;

	(void)state;
	n = pb_dns_query(q, 0x1234, "cam.vendor-cloud.example");
	memset(&b, 0, sizeof(b));
	pb_eth(&b, MAC, 0x0800);
	pb_ipv4(&b, "192.168.1.10", "192.168.1.1", 17, 8 + n);
	pb_udp(&b, 40000, 53, q, n);
	feed(pl, &b, 1000000, &handed);
	assert_true(handed);
	/* nDPI wants the answer too (extra dissection); one packet in, the
	 * flow is still inspecting with its state allocated. */
	assert_int_equal(classifier_live_flows(pipeline_classifier(pl)),
			 s.decided ? 0 : 1);
	pipeline_flush(pl);
	assert_int_equal(s.decided, 1);
	assert_int_equal(s.ended, 1);
	assert_int_equal(s.live_at_decision, 0);
	assert_string_equal(s.proto, "DNS");
	assert_string_equal(s.host, "cam.vendor-cloud.example");
	assert_int_equal(classifier_live_flows(pipeline_classifier(pl)), 0);
	pipeline_stats(pl, &st, NULL);
	assert_int_equal(st.identified, 1);
	assert_int_equal(st.handed, 1);
	assert_int_equal(pipeline_host_bytes(pl), 0);	/* released */
	pipeline_free(pl);
}

static void tcp(struct pb *b, const char *src, const char *dst, uint16_t sp,
		uint16_t dp, uint32_t seq, uint32_t ack, uint8_t fl,
		const char *data)
{
	size_t n = data ? strlen(data) : 0;

	memset(b, 0, sizeof(*b));
	pb_eth(b, MAC, 0x0800);
	pb_ipv4(b, src, dst, 6, 20 + n);
	pb_tcp(b, sp, dp, seq, ack, fl, data, n);
}

static void test_http_classified_acks_not_inspected(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: www.example.com\r\n"
				  "User-Agent: curl/7.88\r\nAccept: */*\r\n\r\n";
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html"
				  "\r\nContent-Length: 5\r\n\r\nhello";
	const char *c = "192.168.1.50", *sv = "203.0.113.80";
	struct seen s;
	struct pipeline *pl = new_pipeline(&s, 8);
	struct pb b;
	bool handed;
	int i;

	(void)state;
	tcp(&b, c, sv, 40000, 80, 100, 0, TCP_SYN, NULL);
	feed(pl, &b, 1000, &handed);
	assert_true(handed);
	tcp(&b, sv, c, 80, 40000, 500, 101, TCP_SYN | TCP_ACK, NULL);
	feed(pl, &b, 2000, &handed);
	assert_true(handed);
	tcp(&b, c, sv, 40000, 80, 101, 501, TCP_ACK, NULL);
	feed(pl, &b, 3000, &handed);
	assert_false(handed);	/* pure ACK: nothing for nDPI */
	tcp(&b, c, sv, 40000, 80, 101, 501, TCP_ACK | TCP_PSH, req);
	feed(pl, &b, 4000, &handed);
	assert_true(handed);
	tcp(&b, sv, c, 80, 40000, 501, 101 + sizeof(req) - 1,
	    TCP_ACK | TCP_PSH, rsp);
	feed(pl, &b, 5000, &handed);
	for (i = 0; i < 10; i++) {
		tcp(&b, c, sv, 40000, 80, 101 + sizeof(req) - 1,
		    501 + sizeof(rsp) - 1, TCP_ACK, NULL);
		feed(pl, &b, 6000 + (uint64_t)i, &handed);
		assert_false(handed);
	}
	pipeline_flush(pl);
	assert_int_equal(s.decided, 1);
	assert_string_equal(s.proto, "HTTP");
	assert_string_equal(s.host, "www.example.com");
	assert_true(s.inspected <= 4);
	pipeline_free(pl);
}

static void test_limit_then_no_more_inspection(void **state)
{
	struct seen s;
	struct pipeline *pl = new_pipeline(&s, 3);
	struct pipeline_stats st;
	struct pb b;
	bool handed;
	int i;

	(void)state;
	/* Opaque UDP payload to an unassigned port: nDPI cannot tell, so
	 * the flow is decided by the budget of 3 packets. */
	for (i = 0; i < 10; i++) {
		memset(&b, 0, sizeof(b));
		pb_eth(&b, MAC, 0x0800);
		pb_ipv4(&b, "192.168.1.11", "198.51.100.7", 17, 8 + 6);
		pb_udp(&b, 33333, 47123, "\x01\x9f\x33\x00\xee\x10", 6);
		feed(pl, &b, 1000000 + (uint64_t)i, &handed);
		assert_int_equal(handed, i < 3);
	}
	assert_int_equal(s.decided, 1);
	assert_int_equal(s.by, FLOW_BY_LIMIT);
	assert_int_equal(s.inspected, 3);
	assert_int_equal(classifier_live_flows(pipeline_classifier(pl)), 0);
	pipeline_stats(pl, &st, NULL);
	assert_int_equal(st.packets, 10);
	assert_int_equal(st.handed, 3);
	assert_int_equal(st.decided[FLOW_BY_LIMIT], 1);
	pipeline_free(pl);
	assert_int_equal(s.ended, 1);
}

static void test_bad_inspect_budget(void **state)
{
	static const struct pipeline_ops ops = { 0 };
	struct pipeline_config cfg;

	(void)state;
	pipeline_config_default(&cfg);
	cfg.inspect_packets = 0;
	assert_null(pipeline_new(&cfg, &ops, NULL));
	cfg.inspect_packets = 256;
	assert_null(pipeline_new(&cfg, &ops, NULL));
}

static void test_names(void **state)
{
	const char *const *protos, *const *cats;
	struct classifier *c = classifier_new();
	size_t np, nc, i;
	bool tls = false, web = false;
	char buf[64];

	(void)state;
	assert_non_null(c);
	classifier_names(c, &protos, &np, &cats, &nc);
	assert_true(np > 100);
	for (i = 0; i < np; i++)
		tls |= !strcmp(protos[i], "TLS");
	for (i = 0; i < nc; i++)
		web |= !strcmp(cats[i], "Web");
	assert_true(tls);
	assert_true(web);
	classifier_proto_name(c, 0, 0, buf, sizeof(buf));
	assert_string_equal(buf, "Unknown");
	classifier_free(c);
}

static bool settle_yes(void *ctx, struct pipeline *pl, struct flow *f)
{
	struct seen *s = ctx;

	(void)pl;
	/* Asked once, after the first packet went to nDPI. */
	assert_int_equal(f->inspected, 1);
	assert_int_equal(f->state, FLOW_INSPECTING);
	s->settled_asked++;
	return s->settle;
}

/* The owner's settled() hook decides a flow after its first packet; when it
 * says no, inspection goes on to the budget. */
static void test_settled_by_policy(void **state)
{
	static const struct pipeline_ops ops = {
		.decided = on_decided,
		.settled = settle_yes,
		.ended = on_ended,
	};
	struct pipeline_config cfg;
	struct pipeline_stats st;
	struct pipeline *pl;
	struct seen s;
	struct pb b;
	bool handed;
	int i, round;

	(void)state;
	for (round = 0; round < 2; round++) {
		memset(&s, 0, sizeof(s));
		s.settle = round == 0;
		pipeline_config_default(&cfg);
		cfg.inspect_packets = 3;
		pl = pipeline_new(&cfg, &ops, &s);
		assert_non_null(pl);
		for (i = 0; i < 5; i++) {
			memset(&b, 0, sizeof(b));
			pb_eth(&b, MAC, 0x0800);
			pb_ipv4(&b, "192.168.1.11", "198.51.100.7", 17, 8 + 6);
			pb_udp(&b, 33333, 47123, "\x01\x9f\x33\x00\xee\x10", 6);
			feed(pl, &b, 1000000 + (uint64_t)i, &handed);
			assert_int_equal(handed, i < (s.settle ? 1 : 3));
		}
		assert_int_equal(s.settled_asked, 1);
		assert_int_equal(s.decided, 1);
		assert_int_equal(s.by, s.settle ? FLOW_BY_POLICY : FLOW_BY_LIMIT);
		assert_int_equal(classifier_live_flows(pipeline_classifier(pl)), 0);
		pipeline_stats(pl, &st, NULL);
		assert_int_equal(st.decided[FLOW_BY_POLICY], s.settle ? 1 : 0);
		pipeline_free(pl);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_classified_and_state_freed),
		cmocka_unit_test(test_http_classified_acks_not_inspected),
		cmocka_unit_test(test_limit_then_no_more_inspection),
		cmocka_unit_test(test_settled_by_policy),
		cmocka_unit_test(test_bad_inspect_budget),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("pipeline", tests, NULL, NULL);
}
