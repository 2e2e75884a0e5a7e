/* test_alerts.c - alert records and their outputs: the exact JSON line (key
 * order, nulls, escaping of hostile strings), the policy's alerts field by
 * field against their flows and verdicts, the severity table, the syslog
 * line, and
 * the sink: re-arm, whole lines under concurrent writers, reopen after
 * logrotate, the size cap, write errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon/flowlog.h"
#include "daemon/alerts.h"
#include "daemon/classify.h"
#include "daemon/flow.h"
#include "daemon/json.h"
#include "daemon/judge.h"
#include "daemon/packet.h"
#include "daemon/pipeline.h"
#include "policy/policy.h"
#include "tests/unit/pktbuild.h"

/* 2026-01-01T00:02:30.252409Z */
#define T0 1767225750252409ULL

/* ---- helpers ------------------------------------------------------------- */

/* A strict JSON checker: one value, nothing after it, and (our promise) only
 * printable ASCII inside strings. */
struct jp {
	const char *s;
	int depth;
};

static bool jv_value(struct jp *p);

static void jv_ws(struct jp *p)
{
	while (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')
		p->s++;
}

static bool jv_string(struct jp *p)
{
	int i;

	if (*p->s++ != '"')
		return false;
	while (*p->s != '"') {
		unsigned char c = (unsigned char)*p->s;

		if (c < 0x20 || c >= 0x7f)
			return false;
		if (c != '\\') {
			p->s++;
			continue;
		}
		p->s++;
		if (strchr("\"\\/bfnrt", *p->s) && *p->s) {
			p->s++;
		} else if (*p->s == 'u') {
			p->s++;
			for (i = 0; i < 4; i++, p->s++)
				if (!*p->s || !strchr("0123456789abcdefABCDEF",
						      *p->s))
					return false;
		} else {
			return false;
		}
	}
	p->s++;
	return true;
}

static bool jv_digits(struct jp *p)
{
	const char *b = p->s;

	while (*p->s >= '0' && *p->s <= '9')
		p->s++;
	return p->s > b;
}

static bool jv_number(struct jp *p)
{
	if (*p->s == '-')
		p->s++;
	if (*p->s == '0')
		p->s++;
	else if (!jv_digits(p))
		return false;
	if (*p->s == '.') {
		p->s++;
		if (!jv_digits(p))
			return false;
	}
	if (*p->s == 'e' || *p->s == 'E') {
		p->s++;
		if (*p->s == '+' || *p->s == '-')
			p->s++;
		if (!jv_digits(p))
			return false;
	}
	return true;
}

static bool jv_members(struct jp *p, char close, bool keys)
{
	p->s++;
	jv_ws(p);
	if (*p->s == close) {
		p->s++;
		return true;
	}
	for (;;) {
		if (keys) {
			if (!jv_string(p))
				return false;
			jv_ws(p);
			if (*p->s++ != ':')
				return false;
		}
		if (!jv_value(p))
			return false;
		jv_ws(p);
		if (*p->s == close) {
			p->s++;
			return true;
		}
		if (*p->s++ != ',')
			return false;
		jv_ws(p);
	}
}

static bool jv_value(struct jp *p)
{
	bool ok;

	jv_ws(p);
	switch (*p->s) {
	case '{':
	case '[':
		if (++p->depth > 32)
			return false;
		ok = jv_members(p, *p->s == '{' ? '}' : ']', *p->s == '{');
		p->depth--;
		return ok;
	case '"':
		return jv_string(p);
	case 't':
		return !strncmp(p->s, "true", 4) ? (p->s += 4, true) : false;
	case 'f':
		return !strncmp(p->s, "false", 5) ? (p->s += 5, true) : false;
	case 'n':
		return !strncmp(p->s, "null", 4) ? (p->s += 4, true) : false;
	default:
		return jv_number(p);
	}
}

static bool json_valid(const char *s)
{
	struct jp p = { s, 0 };

	if (*s != '{' || !jv_value(&p))
		return false;
	jv_ws(&p);
	return *p.s == '\0';
}

static void test_json_checker(void **state)
{
	(void)state;
	assert_true(json_valid("{\"a\":[1,-2.5e3,true,null,{}],\"b\":\"\\u00ff\"}"));
	assert_false(json_valid("{\"a\":1}{\"b\":2}"));
	assert_false(json_valid("{\"a\":\"x\ny\"}"));
	assert_false(json_valid("{\"a\":\"\xff\"}"));
	assert_false(json_valid("{\"a\":01}"));
	assert_false(json_valid("{\"a\":1,}"));
	assert_false(json_valid("{\"a\""));
}

static char *json_of(const struct alert *a)
{
	struct jbuf j;
	char *s;

	jbuf_init(&j);
	alert_json(&j, a);
	assert_true(jbuf_ok(&j));
	s = strdup(j.p);
	jbuf_free(&j);
	return s;
}

static char *text_of(const struct alert *a)
{
	char *s = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&s, &n);

	assert_non_null(m);
	alert_text(m, a);
	fclose(m);
	return s;
}

static void ip(uint8_t family, const char *s, uint8_t *out)
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton(family, s, out), 1);
}

/* The alert of the brief's example, every part filled. */
static void cam_alert(struct alert *a)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 0x10 };

	alert_init(a, T0, "service_not_allowed_out");
	a->device.name = "cam";
	a->device.profile = "ip-camera";
	a->device.has_mac = true;
	memcpy(a->device.mac, mac, 6);
	a->device.family = AF_INET;
	ip(AF_INET, "192.168.50.10", a->device.addr);
	a->device.port = "lan1";
	a->has_flow = true;
	a->flow.family = AF_INET;
	ip(AF_INET, "192.168.50.10", a->flow.src);
	ip(AF_INET, "192.168.50.3", a->flow.dst);
	a->flow.sport = 40000;
	a->flow.dport = 80;
	a->flow.ip_proto = 6;
	snprintf(a->flow.app_proto, sizeof(a->flow.app_proto), "HTTP");
	a->flow.category = "Web";
	a->flow.host = "www.example.com";
	a->rule_file = "lab.yaml";
	a->rule_line = 12;
	a->action = "deny";
	alert_message(a, "%s: HTTP to %s:%u not allowed out (denied)", "cam",
		      "192.168.50.3", 80);
}

/* ---- JSON ------------------------------------------------------------------ */

static void test_json_full(void **state)
{
	struct alert a;
	char *s;

	(void)state;
	cam_alert(&a);
	alert_add_u64(&a, "bytes", 18446744073709551615ULL);
	alert_add_i64(&a, "delta", -5);
	alert_add_double(&a, "ratio", 0.1);
	alert_add_double(&a, "mean", 1234567.0);
	alert_add_double(&a, "nan", NAN);
	alert_add_bool(&a, "guessed", false);
	alert_add_bool(&a, "first", true);
	alert_add_str(&a, "peer", "x");
	alert_add_str(&a, "none", NULL);
	a.suppressed = 7;
	s = json_of(&a);
	assert_string_equal(s,
		"{\"timestamp\":\"2026-01-01T00:02:30.252409Z\","
		"\"event_type\":\"service_not_allowed_out\","
		"\"severity\":\"warning\","
		"\"device\":{\"name\":\"cam\",\"mac\":\"02:00:00:00:00:10\","
		"\"ip\":\"192.168.50.10\",\"port\":\"lan1\","
		"\"profile\":\"ip-camera\"},"
		"\"flow\":{\"src_ip\":\"192.168.50.10\",\"src_port\":40000,"
		"\"dst_ip\":\"192.168.50.3\",\"dst_port\":80,\"ip_proto\":6,"
		"\"app_proto\":\"HTTP\",\"category\":\"Web\","
		"\"host\":\"www.example.com\"},"
		"\"rule\":{\"file\":\"lab.yaml\",\"line\":12},"
		"\"action\":\"deny\","
		"\"message\":\"cam: HTTP to 192.168.50.3:80 not allowed out "
		"(denied)\","
		"\"suppressed\":7,"
		"\"details\":{\"bytes\":18446744073709551615,\"delta\":-5,"
		"\"ratio\":0.1,\"mean\":1234567,\"nan\":null,"
		"\"guessed\":false,\"first\":true,\"peer\":\"x\","
		"\"none\":null}}");
	assert_true(json_valid(s));
	free(s);
}

static void test_json_minimal(void **state)
{
	struct alert a;
	char *s;

	(void)state;
	alert_init(&a, 0, "device_silent");
	a.action = "none";
	alert_message(&a, "quiet");
	s = json_of(&a);
	assert_string_equal(s,
		"{\"timestamp\":\"1970-01-01T00:00:00.000000Z\","
		"\"event_type\":\"device_silent\",\"severity\":\"warning\","
		"\"device\":null,\"flow\":null,\"rule\":null,"
		"\"action\":\"none\",\"message\":\"quiet\","
		"\"suppressed\":0,\"details\":{}}");
	free(s);

	/* Defaults of alert_init: action "alert", empty message; an event
	 * type not in the table is written as given, with severity notice. */
	alert_init(&a, 1000001, "made_up");
	s = json_of(&a);
	assert_string_equal(s,
		"{\"timestamp\":\"1970-01-01T00:00:01.000001Z\","
		"\"event_type\":\"made_up\",\"severity\":\"notice\","
		"\"device\":null,\"flow\":null,\"rule\":null,"
		"\"action\":\"alert\",\"message\":\"\","
		"\"suppressed\":0,\"details\":{}}");
	free(s);
}

/* IPv6, a device without MAC, port or profile, a flow without names. */
static void test_json_ipv6_and_nulls(void **state)
{
	struct alert a;
	char *s;

	(void)state;
	alert_init(&a, T0, "scan");
	a.device.name = "unknown";
	a.device.family = AF_INET6;
	ip(AF_INET6, "fd00:1::99", a.device.addr);
	a.has_flow = true;
	a.flow.family = AF_INET6;
	ip(AF_INET6, "fd00:1::99", a.flow.src);
	ip(AF_INET6, "2001:db8::1", a.flow.dst);
	a.flow.sport = 0;
	a.flow.dport = 0;
	a.flow.ip_proto = 58;
	alert_add_u64(&a, "targets", 40);
	s = json_of(&a);
	assert_string_equal(s,
		"{\"timestamp\":\"2026-01-01T00:02:30.252409Z\","
		"\"event_type\":\"scan\",\"severity\":\"critical\","
		"\"device\":{\"name\":\"unknown\",\"mac\":null,"
		"\"ip\":\"fd00:1::99\",\"port\":null,\"profile\":null},"
		"\"flow\":{\"src_ip\":\"fd00:1::99\",\"src_port\":0,"
		"\"dst_ip\":\"2001:db8::1\",\"dst_port\":0,\"ip_proto\":58,"
		"\"app_proto\":null,\"category\":null,\"host\":null},"
		"\"rule\":null,\"action\":\"alert\",\"message\":\"\","
		"\"suppressed\":0,\"details\":{\"targets\":40}}");
	free(s);
}

/* Names, hosts and messages come from the network: quotes, backslashes,
 * control bytes, invalid and valid UTF-8.  Every byte outside printable
 * ASCII becomes one \u00XX escape (json.c's rule): the line stays valid
 * JSON whatever the bytes, and the bytes can be recovered exactly. */
static void test_json_hostile_strings(void **state)
{
	struct alert a;
	char *s;

	(void)state;
	alert_init(&a, 0, "new_endpoint");
	a.device.name = "ev\"il\\cam\n";
	a.has_flow = true;
	a.flow.family = AF_INET;
	snprintf(a.flow.app_proto, sizeof(a.flow.app_proto), "DNS");
	a.flow.host = "a\x1b[31m\xff\xc3\xa9\x7f";
	alert_message(&a, "line1\r\nline2\t\x01");
	alert_add_str(&a, "k\"", "\x02v");
	s = json_of(&a);
	assert_string_equal(s,
		"{\"timestamp\":\"1970-01-01T00:00:00.000000Z\","
		"\"event_type\":\"new_endpoint\",\"severity\":\"notice\","
		"\"device\":{\"name\":\"ev\\\"il\\\\cam\\n\",\"mac\":null,"
		"\"ip\":null,\"port\":null,\"profile\":null},"
		"\"flow\":{\"src_ip\":\"0.0.0.0\",\"src_port\":0,"
		"\"dst_ip\":\"0.0.0.0\",\"dst_port\":0,\"ip_proto\":0,"
		"\"app_proto\":\"DNS\",\"category\":null,"
		"\"host\":\"a\\u001b[31m\\u00ff\\u00c3\\u00a9\\u007f\"},"
		"\"rule\":null,\"action\":\"alert\","
		"\"message\":\"line1\\r\\nline2\\t\\u0001\","
		"\"suppressed\":0,\"details\":{\"k\\\"\":\"\\u0002v\"}}");
	assert_true(json_valid(s));
	assert_null(strchr(s, '\n'));
	free(s);
}

static void test_fields_overflow_and_message_truncation(void **state)
{
	static const char *const keys[] = { "f0", "f1", "f2", "f3", "f4",
		"f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12", "f13" };
	char big[1000];
	struct alert a;
	unsigned i;
	char *s;

	(void)state;
	alert_init(&a, 0, "volume_limit");
	for (i = 0; i < 14; i++)
		alert_add_u64(&a, keys[i], i);
	alert_add_str(&a, NULL, "no key");
	assert_int_equal(a.n_fields, ALERT_MAX_FIELDS);
	assert_int_equal(a.fields_dropped, 3);
	s = json_of(&a);
	assert_non_null(strstr(s, "\"f11\":11}}"));
	assert_null(strstr(s, "f12"));
	assert_true(json_valid(s));
	free(s);

	/* A bogus count never reads past the array. */
	a.n_fields = 1000;
	s = json_of(&a);
	assert_non_null(strstr(s, "\"f11\":11}}"));
	free(s);

	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	alert_message(&a, "%s%s", big, "tail");
	assert_int_equal(strlen(a.message), ALERT_MESSAGE_MAX - 1);
	assert_int_equal(a.message[0], 'm');
}

/* ---- the policy's alerts ------------------------------------------------------ */

static const char policy_yaml[] =
	"version: 1\n"
	"lan:\n"
	"  - 192.168.1.0/24\n"
	"  - fd00:1::/64\n"
	"defaults:\n"
	"  mode: enforce\n"
	"  unknown_device: alert\n"
	"  binding_violation: alert\n"
	"devices:\n"
	"  cam:\n"
	"    mac: 02:00:00:00:00:10\n"
	"    ip: 192.168.1.10\n"
	"    out:\n"
	"      - DNS\n"
	"  nas:\n"
	"    mac: 02:00:00:00:00:20\n"
	"    ip: 192.168.1.20\n"
	"    in:\n"
	"      - TLS\n"
	"  router:\n"
	"    ip: [192.168.1.1, fd00:1::1]\n"
	"    in:\n"
	"      - DNS\n"
	"    out:\n"
	"      - any\n";

static const uint8_t MAC_CAM[6] = { 2, 0, 0, 0, 0, 0x10 };
static const uint8_t MAC_NAS[6] = { 2, 0, 0, 0, 0, 0x20 };
static const uint8_t MAC_WAN[6] = { 2, 0, 0, 0, 0, 0x01 };
static const uint8_t MAC_ODD[6] = { 2, 0, 0, 0, 0, 0x99 };

struct cmp {
	const struct policy *p;
	const char *const *ifnames;
	unsigned compared;
	unsigned seen[__ALERT_EVENT_MAX + 1];
	bool responder_side_seen;	/* an alert about the responder */
};

/* Each policy alert as the alert log has always written it: the device is
 * the side the alert is about, with that side's address and bridge port;
 * the flow from its initiator; the deciding rule; the verdict's action.
 * Checked field by field against the flow and the verdict. */
static void compare_alerts(void *ctx, struct pipeline *pl, struct flow *f)
{
	struct cmp *x = ctx;
	const struct classifier *c = pipeline_classifier(pl);
	struct policy_verdict v;
	struct jbuf j;
	unsigned i;

	assert_int_equal(judge_flow(x->p, c, f, x->ifnames, &v), 0);
	jbuf_init(&j);
	for (i = 0; i < v.n_alerts; i++) {
		const struct policy_alert *pa = &v.alerts[i];
		char want[512], addr[64], mac[18];
		struct alert a;
		int side = pa->device == v.initiator_dev ? f->initiator
							 : !f->initiator;

		jbuf_reset(&j);
		alert_from_policy(&a, f->last_us, pa, &v, f, c, x->ifnames);
		alert_json(&j, &a);
		assert_true(jbuf_ok(&j));
		assert_true(json_valid(j.p));
		flow_addr_str(f, side, addr, sizeof(addr));
		snprintf(want, sizeof(want), "\"device\":{\"name\":\"%s\",\"mac\":%s%s%s,"
			 "\"ip\":\"%s\",\"port\":%s%s%s,",
			 policy_device_name(pa->device),
			 flow_mac_str(f, side, mac, sizeof(mac)) ? "\"" : "",
			 flow_mac_str(f, side, mac, sizeof(mac)) ? mac : "null",
			 flow_mac_str(f, side, mac, sizeof(mac)) ? "\"" : "", addr,
			 x->ifnames ? "\"" : "", x->ifnames ? x->ifnames[side] : "null",
			 x->ifnames ? "\"" : "");
		assert_non_null(strstr(j.p, want));
		flow_addr_str(f, f->initiator, addr, sizeof(addr));
		snprintf(want, sizeof(want), "\"flow\":{\"src_ip\":\"%s\",\"src_port\":%u,",
			 addr, f->key.port[f->initiator]);
		assert_non_null(strstr(j.p, want));
		snprintf(want, sizeof(want), "\"rule\":{\"file\":\"t.yaml\",\"line\":%u},"
			 "\"action\":\"%s\",", v.rule_line, policy_action_name(v.action));
		assert_non_null(strstr(j.p, want));
		assert_string_equal(a.message, pa->message);
		/* the same alert: the message, or for an unknown device the
		 * machine (its MAC, else its address) */
		if (!strcmp(pa->event_type, "unknown_device"))
			assert_string_equal(a.rearm_key,
					    flow_mac_str(f, side, mac, sizeof(mac))
						    ? mac : (flow_addr_str(f, side, addr, sizeof(addr)), addr));
		else
			assert_string_equal(a.rearm_key, pa->message);
		if (pa->device && pa->device == v.responder_dev &&
		    pa->device != v.initiator_dev)
			x->responder_side_seen = true;
		x->seen[alert_event_lookup(pa->event_type)]++;
		x->compared++;
	}
	jbuf_free(&j);
}

static void feed(struct pipeline *pl, struct pb *b, uint64_t t)
{
	struct packet p;
	bool handed;

	assert_int_equal(packet_parse_link(&p, PACKET_LINK_ETHERNET, b->b,
					   b->len), PACKET_OK);
	assert_non_null(pipeline_packet(pl, &p, t, &handed));
}

static void tcp(struct pipeline *pl, const uint8_t *mac, const char *src,
		const char *dst, uint16_t sp, uint16_t dp, uint32_t seq,
		uint32_t ack, uint8_t fl, const char *data, uint64_t t)
{
	size_t n = data ? strlen(data) : 0;
	struct pb b;

	memset(&b, 0, sizeof(b));
	pb_eth(&b, mac, 0x0800);
	pb_ipv4(&b, src, dst, 6, 20 + n);
	pb_tcp(&b, sp, dp, seq, ack, fl, data, n);
	feed(pl, &b, t);
}

/* A whole HTTP exchange: nDPI decides it on the request. */
static void http(struct pipeline *pl, const uint8_t *cmac, const char *c,
		 const uint8_t *smac, const char *sv, uint16_t sport,
		 const char *host, uint64_t t)
{
	char req[256];
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0"
				  "\r\n\r\n";
	uint32_t rl;

	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n"
		 "User-Agent: cam/1.0\r\nAccept: */*\r\n\r\n", host);
	rl = (uint32_t)strlen(req);
	tcp(pl, cmac, c, sv, sport, 80, 100, 0, TCP_SYN, NULL, t);
	tcp(pl, smac, sv, c, 80, sport, 500, 101, TCP_SYN | TCP_ACK, NULL,
	    t + 1000);
	tcp(pl, cmac, c, sv, sport, 80, 101, 501, TCP_ACK, NULL, t + 2000);
	tcp(pl, cmac, c, sv, sport, 80, 101, 501, TCP_ACK | TCP_PSH, req,
	    t + 3000);
	tcp(pl, smac, sv, c, 80, sport, 501, 101 + rl, TCP_ACK | TCP_PSH, rsp,
	    t + 4000);
}

static void dns(struct pipeline *pl, const uint8_t *mac, int family,
		const char *src, const char *dst, uint16_t sport,
		const char *name, uint64_t t)
{
	uint8_t q[128];
	size_t n = pb_dns_query(q, 0x4242, name);
	struct pb b;

	memset(&b, 0, sizeof(b));
	if (family == AF_INET) {
		pb_eth(&b, mac, 0x0800);
		pb_ipv4(&b, src, dst, 17, 8 + n);
	} else {
		pb_eth(&b, mac, 0x86dd);
		pb_ipv6(&b, src, dst, 17, 8 + n);
	}
	pb_udp(&b, sport, 53, q, n);
	feed(pl, &b, t);
}

static void run_policy_flows(const char *const *ifnames)
{
	static const struct pipeline_ops ops = { .decided = compare_alerts };
	struct pipeline_config cfg;
	struct policy_diag *d = NULL;
	struct policy_vocab vocab;
	struct pipeline *pl;
	struct policy *p;
	struct cmp x;

	memset(&x, 0, sizeof(x));
	pipeline_config_default(&cfg);
	pl = pipeline_new(&cfg, &ops, &x);
	assert_non_null(pl);
	judge_vocab(pipeline_classifier(pl), &vocab);
	p = policy_load_buffer("t.yaml", policy_yaml, strlen(policy_yaml),
			       &vocab, &d);
	if (!p)
		policy_diag_print(d, stderr);
	assert_non_null(p);
	policy_diag_free(d);
	x.p = p;
	x.ifnames = ifnames;

	/* cam -> the Internet over HTTP: not allowed out. */
	http(pl, MAC_CAM, "192.168.1.10", MAC_WAN, "203.0.113.80", 40000,
	     "c2.unknown.example", T0);
	/* cam -> nas over HTTP: not out for cam, not in for nas (the
	 * responder, whose MAC is seen in its answer). */
	http(pl, MAC_CAM, "192.168.1.10", MAC_NAS, "192.168.1.20", 40001,
	     "nas.lan", T0 + 10000);
	/* Undeclared addresses, IPv4 and IPv6, asking DNS. */
	dns(pl, MAC_ODD, AF_INET, "192.168.1.99", "192.168.1.1", 5353,
	    "time.example.net", T0 + 20000);
	dns(pl, MAC_ODD, AF_INET6, "fd00:1::99", "2001:db8::53", 5354,
	    "time.example.net", T0 + 30000);
	/* cam's MAC with an address it does not declare. */
	dns(pl, MAC_CAM, AF_INET, "192.168.1.30", "192.168.1.1", 5355,
	    "cam.vendor.example", T0 + 40000);
	pipeline_flush(pl);

	assert_true(x.seen[ALERT_EV_SERVICE_NOT_ALLOWED_OUT] >= 2);
	assert_true(x.seen[ALERT_EV_SERVICE_NOT_ALLOWED_IN] >= 1);
	assert_true(x.seen[ALERT_EV_UNKNOWN_DEVICE] >= 2);
	assert_true(x.seen[ALERT_EV_BINDING_VIOLATION] >= 1);
	assert_true(x.responder_side_seen);
	assert_int_equal(x.seen[__ALERT_EVENT_MAX], 0);
	pipeline_free(pl);
	policy_free(p);
}

static void test_from_policy(void **state)
{
	static const char *const ports[2] = { "lan1", "lan2" };

	(void)state;
	run_policy_flows(NULL);		/* replay: no interfaces */
	run_policy_flows(ports);	/* live: bridge ports */
}

/* ---- severity table ------------------------------------------------------------ */

static void test_severity_table(void **state)
{
	static const struct {
		const char *name;
		enum alert_severity sev;
	} want[] = {
		{ "unknown_device", ALERT_NOTICE },
		{ "service_not_allowed_out", ALERT_WARNING },
		{ "service_not_allowed_in", ALERT_WARNING },
		{ "rule_alert", ALERT_NOTICE },
		{ "binding_violation", ALERT_CRITICAL },
		{ "new_service_in", ALERT_WARNING },
		{ "new_endpoint", ALERT_NOTICE },
		{ "binding_change", ALERT_WARNING },
		{ "port_change", ALERT_WARNING },
		{ "throughput_above_baseline", ALERT_WARNING },
		{ "throughput_below_baseline", ALERT_NOTICE },
		{ "device_silent", ALERT_WARNING },
		{ "volume_limit", ALERT_WARNING },
		{ "report_interval", ALERT_NOTICE },
		{ "flow_risk", ALERT_NOTICE },
		{ "scan", ALERT_CRITICAL },
		{ "new_flow_flood", ALERT_WARNING },
		{ "quarantine_applied", ALERT_CRITICAL },
		{ "quarantine_released", ALERT_NOTICE },
	};
	size_t i, k;

	(void)state;
	assert_int_equal(sizeof(want) / sizeof(want[0]), __ALERT_EVENT_MAX);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_true(alert_event_known(want[i].name));
		assert_int_equal(alert_event_severity(want[i].name),
				 want[i].sev);
	}
	/* Every entry filled, named once, found by its name. */
	for (i = 0; i < __ALERT_EVENT_MAX; i++) {
		const struct alert_event_info *e = alert_event_info(i);

		assert_non_null(e);
		assert_non_null(e->name);
		assert_non_null(e->summary);
		assert_true(strlen(e->summary) > 10);
		assert_true(e->severity < __ALERT_SEVERITY_MAX);
		assert_int_equal(alert_event_lookup(e->name), i);
		for (k = 0; k < i; k++)
			assert_string_not_equal(alert_event_info(k)->name,
						e->name);
	}
	assert_null(alert_event_info(__ALERT_EVENT_MAX));
	assert_false(alert_event_known("quarantine"));
	assert_false(alert_event_known("SCAN"));
	assert_false(alert_event_known(""));
	assert_false(alert_event_known(NULL));
	assert_int_equal(alert_event_severity("nope"), ALERT_NOTICE);
	assert_int_equal(alert_event_severity(NULL), ALERT_NOTICE);

	assert_string_equal(alert_severity_name(ALERT_CRITICAL), "critical");
	assert_string_equal(alert_severity_name(ALERT_WARNING), "warning");
	assert_string_equal(alert_severity_name(ALERT_NOTICE), "notice");
	assert_string_equal(alert_severity_name(ALERT_INFO), "info");
	assert_string_equal(alert_severity_name(__ALERT_SEVERITY_MAX), "?");
	assert_int_equal(alert_severity_priority(ALERT_CRITICAL), LOG_CRIT);
	assert_int_equal(alert_severity_priority(ALERT_WARNING), LOG_WARNING);
	assert_int_equal(alert_severity_priority(ALERT_NOTICE), LOG_NOTICE);
	assert_int_equal(alert_severity_priority(ALERT_INFO), LOG_INFO);
}

/* ---- text and syslog lines -------------------------------------------------- */

static void test_text_line(void **state)
{
	struct alert a;
	char *s;

	(void)state;
	cam_alert(&a);
	s = text_of(&a);
	assert_string_equal(s,
		"ALERT 2026-01-01T00:02:30.252409Z warning  "
		"service_not_allowed_out  cam            "
		"cam: HTTP to 192.168.50.3:80 not allowed out (denied) "
		"[deny, lab.yaml:12]");
	free(s);
	a.suppressed = 3;
	a.rule_file = NULL;
	a.device.name = "a\nb\\";
	s = text_of(&a);
	assert_string_equal(s,
		"ALERT 2026-01-01T00:02:30.252409Z warning  "
		"service_not_allowed_out  a\\x0ab\\x5c     "
		"cam: HTTP to 192.168.50.3:80 not allowed out (denied) "
		"[deny] (3 suppressed)");
	free(s);
}

static bool clean_line(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static void test_syslog_line(void **state)
{
	char buf[ALERT_SYSLOG_MAX], full[ALERT_SYSLOG_MAX], *bs;
	struct alert a;
	size_t n, len, i;
	unsigned r = 12345;

	(void)state;
	cam_alert(&a);
	a.suppressed = 3;
	n = alert_syslog_line(buf, sizeof(buf), &a);
	assert_string_equal(buf,
		"alert warning service_not_allowed_out cam: HTTP to "
		"192.168.50.3:80 not allowed out (denied) [deny] "
		"(3 suppressed)");
	assert_int_equal(n, strlen(buf));
	assert_int_equal(alert_syslog_priority(&a), LOG_WARNING);
	a.event_type = "scan";
	assert_int_equal(alert_syslog_priority(&a), LOG_CRIT);
	a.event_type = "flow_risk";
	assert_int_equal(alert_syslog_priority(&a), LOG_NOTICE);
	a.event_type = "not_in_table";
	assert_int_equal(alert_syslog_priority(&a), LOG_NOTICE);

	/* A forged second line, terminal escapes, a backslash that would make
	 * an escape ambiguous, non-ASCII. */
	alert_init(&a, 0, "new_endpoint");
	alert_message(&a, "cam: DNS (x\nalert critical scan forged\r\x1b[2J"
		      "\\x41\xc3\xa9\x7f)");
	a.action = "al\x0b" "ert";
	n = alert_syslog_line(full, sizeof(full), &a);
	assert_string_equal(full,
		"alert notice new_endpoint cam: DNS (x\\x0aalert critical "
		"scan forged\\x0d\\x1b[2J\\x5cx41\\xc3\\xa9\\x7f) "
		"[al\\x0bert]");
	assert_true(clean_line(full));

	/* Truncated: always terminated, a prefix of the whole line, never
	 * half an escape. */
	len = n;
	for (i = 0; i <= len + 1; i++) {
		memset(buf, 'Z', sizeof(buf));
		n = alert_syslog_line(buf, i, &a);
		if (i == 0) {
			assert_int_equal(n, 0);
			assert_int_equal(buf[0], 'Z');
			continue;
		}
		assert_true(n < i);
		assert_int_equal(strlen(buf), n);
		assert_memory_equal(buf, full, n);
		bs = strrchr(buf, '\\');
		if (bs)
			assert_true(strlen(bs) >= 4);
	}

	/* Any bytes at all: one line of printable ASCII. */
	for (i = 0; i < 2000; i++) {
		size_t k;

		alert_init(&a, 0, "flow_risk");
		for (k = 0; k < sizeof(a.message) - 1; k++) {
			r = r * 1103515245u + 12345u;
			a.message[k] = (char)((r >> 16) & 0xff);
			if (!a.message[k])
				a.message[k] = 1;
		}
		a.message[k] = '\0';
		n = alert_syslog_line(buf, sizeof(buf), &a);
		assert_false(n + 1 >= sizeof(buf));	/* whole line fits */
		assert_true(clean_line(buf));
	}
}

/* ---- the sink ------------------------------------------------------------------- */

struct tmp {
	char dir[64];
	char path[128];
};

static void tmp_make(struct tmp *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_alerts.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/alerts.json", t->dir);
}

static void tmp_remove(struct tmp *t)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
}

static char *slurp(const char *path)
{
	char *s = NULL;
	size_t cap = 0, len = 0, n;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			cap = (len + 4096 + 1) * 2;
			s = realloc(s, cap);
			assert_non_null(s);
		}
		n = fread(s + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	s[len] = '\0';
	fclose(f);
	return s;
}

static unsigned count_lines(const char *s)
{
	unsigned n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static struct alert_sink *sink(const char *path, uint32_t rearm_ms,
			       uint64_t max_bytes, FILE *text)
{
	struct alert_sink_config cfg = {
		.path = path,
		.max_bytes = max_bytes,
		.text = text,
		.rearm_ms = rearm_ms,
	};
	struct alert_sink *s;
	int err = 1;

	s = alert_sink_new(&cfg, &err);
	assert_non_null(s);
	assert_int_equal(err, 0);
	return s;
}

static void small_alert(struct alert *a, uint64_t ts_ms, const char *type,
			const char *dev, const char *key)
{
	alert_init(a, ts_ms * 1000, type);
	a->device.name = dev;
	a->rearm_key = key;
	alert_message(a, "%s: %s", dev ? dev : "-", key ? key : "-");
}

static void test_sink_new_errors(void **state)
{
	struct alert_sink_config cfg = { 0 };
	struct tmp t;
	int err = 0;

	(void)state;
	tmp_make(&t);
	cfg.path = t.dir;	/* a directory */
	assert_null(alert_sink_new(&cfg, &err));
	assert_int_equal(err, -EISDIR);
	cfg.path = "/nonexistent-dir/alerts.json";
	assert_null(alert_sink_new(&cfg, &err));
	assert_int_equal(err, -ENOENT);
	assert_null(alert_sink_new(NULL, &err));
	assert_int_equal(err, -EINVAL);
	cfg.path = NULL;
	cfg.rearm_capacity = (size_t)1 << 31;
	assert_null(alert_sink_new(&cfg, &err));
	assert_int_equal(err, -EINVAL);
	alert_sink_free(NULL);
	tmp_remove(&t);
}

static void test_sink_rearm(void **state)
{
	struct alert_sink_stats st;
	struct alert_sink *s;
	struct alert a;
	char *text = NULL, *file, *last;
	size_t tlen = 0;
	FILE *tf = open_memstream(&text, &tlen);
	struct stat sb;
	struct tmp t;
	mode_t mask = umask(0);

	(void)state;
	umask(mask);
	tmp_make(&t);
	assert_non_null(tf);
	s = sink(t.path, 60000, 0, tf);
	assert_int_equal(stat(t.path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640 & ~mask);

	small_alert(&a, 1000, "service_not_allowed_out", "cam", "HTTP to x");
	assert_int_equal(alert_sink_emit(s, &a), 1);
	assert_int_equal(a.suppressed, 0);
	/* Repeats within the minute: counted, not written. */
	small_alert(&a, 2000, "service_not_allowed_out", "cam", "HTTP to x");
	assert_int_equal(alert_sink_emit(s, &a), 0);
	small_alert(&a, 30000, "service_not_allowed_out", "cam", "HTTP to x");
	assert_int_equal(alert_sink_emit(s, &a), 0);
	small_alert(&a, 60999, "service_not_allowed_out", "cam", "HTTP to x");
	assert_int_equal(alert_sink_emit(s, &a), 0);
	/* Another key, another device, another event type: their own. */
	small_alert(&a, 2000, "service_not_allowed_out", "cam", "HTTP to y");
	assert_int_equal(alert_sink_emit(s, &a), 1);
	small_alert(&a, 2000, "service_not_allowed_out", "plug", "HTTP to x");
	assert_int_equal(alert_sink_emit(s, &a), 1);
	small_alert(&a, 2000, "rule_alert", "cam", "HTTP to x");
	assert_int_equal(alert_sink_emit(s, &a), 1);
	/* A NULL key is a key of its own. */
	small_alert(&a, 2000, "service_not_allowed_out", "cam", NULL);
	assert_int_equal(alert_sink_emit(s, &a), 1);
	/* The window ends: the next one says how many it stands for. */
	small_alert(&a, 61000, "service_not_allowed_out", "cam", "HTTP to x");
	assert_int_equal(alert_sink_emit(s, &a), 1);
	assert_int_equal(a.suppressed, 3);
	small_alert(&a, 61001, "service_not_allowed_out", "cam", "HTTP to x");
	assert_int_equal(alert_sink_emit(s, &a), 0);

	alert_sink_stats(s, &st);
	assert_int_equal(st.emitted_total, 6);
	assert_int_equal(st.emitted[ALERT_EV_SERVICE_NOT_ALLOWED_OUT], 5);
	assert_int_equal(st.emitted[ALERT_EV_RULE_ALERT], 1);
	assert_int_equal(st.suppressed, 4);
	assert_int_equal(st.write_errors, 0);
	assert_int_equal(st.rearm.used, 5);

	/* A reload that sets re-arm to 0: every alert goes out. */
	alert_sink_set_rearm(s, 0);
	small_alert(&a, 61002, "service_not_allowed_out", "cam", "HTTP to x");
	assert_int_equal(alert_sink_emit(s, &a), 1);
	assert_int_equal(a.suppressed, 1);
	small_alert(&a, 61002, "made_up", "cam", NULL);
	a.fields_dropped = 2;
	assert_int_equal(alert_sink_emit(s, &a), 1);
	alert_sink_stats(s, &st);
	assert_int_equal(st.emitted[__ALERT_EVENT_MAX], 1);
	assert_int_equal(st.fields_dropped, 2);

	file = slurp(t.path);
	assert_non_null(file);
	assert_int_equal(count_lines(file), 8);
	last = strstr(file, "\"timestamp\":\"1970-01-01T00:01:01.000000Z\"");
	assert_non_null(last);
	assert_non_null(strstr(last, "\"suppressed\":3,"));
	fclose(tf);
	assert_int_equal(count_lines(text), 8);
	assert_non_null(strstr(text, "cam: HTTP to x [alert] (3 suppressed)\n"));
	assert_non_null(strstr(text, "cam: HTTP to x [alert] (1 suppressed)\n"));
	free(text);
	free(file);
	alert_sink_free(s);
	tmp_remove(&t);
}

/* Four threads on two sinks of the same file (as two daemons would be):
 * the sinks' locks do not order their writes, only O_APPEND and one write
 * per line keep the lines whole.  Lines up to 8 kB, longer than PIPE_BUF
 * and than a typical page. */
#define THREADS 4
#define PER_THREAD 400
#define PAD_MAX 8000

static char pad[PAD_MAX + 1];

struct emitter {
	struct alert_sink *s;
	int id;
	int bad;
};

static void *emit_many(void *arg)
{
	struct emitter *e = arg;
	struct alert a;
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		size_t n = ((size_t)i * 7919 + (size_t)e->id * 104729) % PAD_MAX;

		alert_init(&a, (uint64_t)i * 1000, "new_flow_flood");
		a.device.name = "dev";
		alert_message(&a, "thread %d alert %d", e->id, i);
		alert_add_i64(&a, "thread", e->id);
		alert_add_i64(&a, "seq", i);
		alert_add_str(&a, "pad", pad + PAD_MAX - n);
		if (alert_sink_emit(e->s, &a) != 1)
			e->bad++;
	}
	return NULL;
}

static void test_sink_concurrent_lines_whole(void **state)
{
	static bool seen[THREADS][PER_THREAD];
	struct emitter e[THREADS];
	pthread_t th[THREADS];
	struct alert_sink *s[2];
	char *file, *line, *next;
	struct tmp t;
	unsigned lines = 0;
	int i, k;

	(void)state;
	tmp_make(&t);
	memset(pad, 'p', PAD_MAX);
	memset(seen, 0, sizeof(seen));
	s[0] = sink(t.path, 0, 0, NULL);
	s[1] = sink(t.path, 0, 0, NULL);
	for (i = 0; i < THREADS; i++) {
		e[i] = (struct emitter){ s[i % 2], i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, emit_many, &e[i]),
				 0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(e[i].bad, 0);
	}
	file = slurp(t.path);
	assert_non_null(file);
	for (line = file; *line; line = next + 1) {
		const char *d;

		next = strchr(line, '\n');
		assert_non_null(next);
		*next = '\0';
		if (!json_valid(line))
			fail_msg("line %u is not one JSON object: %.200s",
				 lines + 1, line);
		d = strstr(line, "\"details\":{\"thread\":");
		assert_non_null(d);
		assert_int_equal(sscanf(d, "\"details\":{\"thread\":%d,"
					"\"seq\":%d", &i, &k), 2);
		assert_true(i >= 0 && i < THREADS && k >= 0 && k < PER_THREAD);
		assert_false(seen[i][k]);
		seen[i][k] = true;
		lines++;
	}
	assert_int_equal(lines, THREADS * PER_THREAD);
	free(file);
	alert_sink_free(s[0]);
	alert_sink_free(s[1]);
	tmp_remove(&t);
}

/* logrotate moves the file, then sends SIGHUP/SIGUSR1: until the reopen the
 * moved file gets the lines, after it the new one does. */
static void test_sink_reopen(void **state)
{
	struct alert_sink_stats st;
	struct alert_sink *s;
	char old[160], subdir[128], path[200], moved[160], *f;
	struct alert a;
	struct tmp t;

	(void)state;
	tmp_make(&t);
	snprintf(old, sizeof(old), "%s.old", t.path);
	s = sink(t.path, 0, 0, NULL);
	small_alert(&a, 1, "scan", "cam", "1");
	assert_int_equal(alert_sink_emit(s, &a), 1);
	assert_int_equal(rename(t.path, old), 0);
	small_alert(&a, 2, "scan", "cam", "2");
	assert_int_equal(alert_sink_emit(s, &a), 1);
	assert_int_equal(alert_sink_reopen(s), 0);
	small_alert(&a, 3, "scan", "cam", "3");
	assert_int_equal(alert_sink_emit(s, &a), 1);

	f = slurp(old);
	assert_int_equal(count_lines(f), 2);
	assert_non_null(strstr(f, "\"message\":\"cam: 2\""));
	free(f);
	f = slurp(t.path);
	assert_int_equal(count_lines(f), 1);
	assert_non_null(strstr(f, "\"message\":\"cam: 3\""));
	free(f);
	alert_sink_stats(s, &st);
	assert_int_equal(st.reopens, 1);
	alert_sink_free(s);

	/* A reopen that fails (the directory is gone) keeps the old file. */
	snprintf(subdir, sizeof(subdir), "%s/d", t.dir);
	assert_int_equal(mkdir(subdir, 0700), 0);
	snprintf(path, sizeof(path), "%s/alerts.json", subdir);
	s = sink(path, 0, 0, NULL);
	snprintf(moved, sizeof(moved), "%s/e", t.dir);
	assert_int_equal(rename(subdir, moved), 0);
	assert_int_equal(alert_sink_reopen(s), -ENOENT);
	small_alert(&a, 4, "scan", "cam", "4");
	assert_int_equal(alert_sink_emit(s, &a), 1);
	alert_sink_stats(s, &st);
	assert_int_equal(st.reopen_failures, 1);
	assert_int_equal(st.write_errors, 0);
	snprintf(path, sizeof(path), "%s/alerts.json", moved);
	f = slurp(path);
	assert_int_equal(count_lines(f), 1);
	free(f);
	alert_sink_free(s);

	/* No file: nothing to reopen. */
	s = sink(NULL, 0, 0, NULL);
	assert_int_equal(alert_sink_reopen(s), 0);
	assert_int_equal(alert_sink_emit(s, &a), 1);
	alert_sink_free(s);
	tmp_remove(&t);
}

static int first_seq(const char *s)
{
	const char *p = strstr(s, "\"seq\":");
	int v = -1;

	if (p)
		sscanf(p, "\"seq\":%d", &v);
	return v;
}

static int last_seq(const char *s)
{
	const char *p = NULL, *q = s;
	int v = -1;

	while ((q = strstr(q, "\"seq\":")))
		p = q++;
	if (p)
		sscanf(p, "\"seq\":%d", &v);
	return v;
}

static void test_sink_size_cap(void **state)
{
	const uint64_t cap = 1000;
	struct alert_sink_stats st;
	struct alert_sink *s;
	char path1[160], *cur, *prev;
	struct alert a;
	struct tmp t;
	off_t line_max = 0, sz, before;
	int i, rotations = 0, last_rot = 0, fd;

	(void)state;
	tmp_make(&t);
	snprintf(path1, sizeof(path1), "%s.1", t.path);
	s = sink(t.path, 0, cap, NULL);
	for (i = 0; i < 40; i++) {
		small_alert(&a, (uint64_t)i, "volume_limit", "cam", NULL);
		alert_add_i64(&a, "seq", i);
		alert_add_str(&a, "pad", i % 3 ? "short" :
				"a longer value to vary the line lengths");
		before = file_size(t.path);
		assert_int_equal(alert_sink_emit(s, &a), 1);
		sz = file_size(t.path);
		if (sz < before) {
			/* Rotated: the new file starts with this alert, the
			 * old one is .1 whole, its last line the one before. */
			rotations++;
			assert_int_equal(file_size(path1), before);
			cur = slurp(t.path);
			prev = slurp(path1);
			assert_int_equal(count_lines(cur), 1);
			assert_int_equal(first_seq(cur), i);
			assert_int_equal(last_seq(prev), i - 1);
			/* .1 is the previous file, not an older one. */
			assert_int_equal(first_seq(prev), last_rot);
			last_rot = i;
			free(cur);
			free(prev);
		} else if (before >= 0 && sz - before > line_max) {
			line_max = sz - before;
		}
		assert_true((uint64_t)sz <= cap);
	}
	alert_sink_stats(s, &st);
	assert_true(rotations >= 3);
	assert_int_equal(st.rotations, rotations);
	assert_int_equal(st.rotate_failures, 0);
	assert_true(line_max > 0);

	/* A line longer than the cap goes whole into an empty file (after
	 * one rotation), and the next one rotates again. */
	small_alert(&a, 100, "volume_limit", "cam", NULL);
	memset(pad, 'q', PAD_MAX);
	alert_add_str(&a, "pad", pad + PAD_MAX - 2000);
	assert_int_equal(alert_sink_emit(s, &a), 1);
	assert_true(file_size(t.path) > 2000);
	cur = slurp(t.path);
	assert_int_equal(count_lines(cur), 1);
	free(cur);
	small_alert(&a, 101, "volume_limit", "cam", NULL);
	assert_int_equal(alert_sink_emit(s, &a), 1);
	assert_true(file_size(path1) > 2000);
	assert_true((uint64_t)file_size(t.path) <= cap);
	alert_sink_free(s);

	/* A file already over the cap at start: the first alert rotates. */
	unlink(path1);
	fd = open(t.path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 5000), 0);
	close(fd);
	s = sink(t.path, 0, cap, NULL);
	small_alert(&a, 200, "volume_limit", "cam", NULL);
	assert_int_equal(alert_sink_emit(s, &a), 1);
	assert_int_equal(file_size(path1), 5000);
	cur = slurp(t.path);
	assert_int_equal(count_lines(cur), 1);
	free(cur);
	alert_sink_free(s);
	tmp_remove(&t);
}

/* Write errors: a file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) makes the
 * kernel accept part of a line, then nothing.  Run in a child so the limit
 * never touches the test runner's own output. */
#define CHILD_CHECK(c)                                                      \
	do {                                                                \
		if (!(c)) {                                                 \
			fprintf(stderr, "child: %s:%d: %s\n", __FILE__,     \
				__LINE__, #c);                              \
			_exit(1);                                           \
		}                                                           \
	} while (0)

static void write_errors_child(const char *path)
{
	struct alert_sink_stats st;
	struct rlimit rl;
	struct alert_sink *s;
	char *text = NULL, *file, *line, *next;
	size_t tlen = 0;
	FILE *tf = open_memstream(&text, &tlen);
	struct alert a;
	int i, rc, ok = 0, failed = 0;

	CHILD_CHECK(tf);
	signal(SIGXFSZ, SIG_IGN);
	CHILD_CHECK(getrlimit(RLIMIT_FSIZE, &rl) == 0);
	rl.rlim_cur = 1000;
	CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	s = alert_sink_new(&(struct alert_sink_config){ .path = path,
						       .text = tf }, NULL);
	CHILD_CHECK(s);
	for (i = 0; i < 10; i++) {
		small_alert(&a, (uint64_t)i, "scan", "cam", NULL);
		alert_add_str(&a, "pad", pad + PAD_MAX - 150);
		rc = alert_sink_emit(s, &a);
		if (rc == 1)
			ok++;
		else if (rc == -EFBIG)
			failed++;
		else
			CHILD_CHECK(!"unexpected return");
	}
	alert_sink_stats(s, &st);
	CHILD_CHECK(ok >= 1 && ok < 10);
	CHILD_CHECK(failed == 10 - ok);
	CHILD_CHECK(st.write_errors == (uint64_t)failed);
	CHILD_CHECK(st.emitted_total == 10);
	alert_sink_free(s);
	/* The text output got every alert. */
	fclose(tf);
	CHILD_CHECK(count_lines(text) == 10);
	free(text);
	/* The file: whole lines only (the part of a line the kernel took
	 * before the limit was taken back). */
	file = slurp(path);
	CHILD_CHECK(file);
	CHILD_CHECK(count_lines(file) == (unsigned)ok);
	CHILD_CHECK(strlen(file) <= 1000);
	CHILD_CHECK(file[strlen(file) - 1] == '\n');
	for (line = file; *line; line = next + 1) {
		next = strchr(line, '\n');
		*next = '\0';
		CHILD_CHECK(json_valid(line));
	}
	free(file);
	_exit(0);
}

static void test_sink_write_errors(void **state)
{
	struct tmp t;
	pid_t pid;
	int status;

	(void)state;
	tmp_make(&t);
	memset(pad, 'w', PAD_MAX);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		write_errors_child(t.path);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	tmp_remove(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_checker),
		cmocka_unit_test(test_json_full),
		cmocka_unit_test(test_json_minimal),
		cmocka_unit_test(test_json_ipv6_and_nulls),
		cmocka_unit_test(test_json_hostile_strings),
		cmocka_unit_test(test_fields_overflow_and_message_truncation),
		cmocka_unit_test(test_from_policy),
		cmocka_unit_test(test_severity_table),
		cmocka_unit_test(test_text_line),
		cmocka_unit_test(test_syslog_line),
		cmocka_unit_test(test_sink_new_errors),
		cmocka_unit_test(test_sink_rearm),
		cmocka_unit_test(test_sink_concurrent_lines_whole),
		cmocka_unit_test(test_sink_reopen),
		cmocka_unit_test(test_sink_size_cap),
		cmocka_unit_test(test_sink_write_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
