/* test_learn.c - the learn-mode recorder and the policy it writes
 * (daemon/learn.h).  Every test records flows, exports, loads the export
 * with the real loader and nDPI's vocabulary, and judges the same flows
 * again with it: the round trip the replay golden test shows on a capture,
 * here with the cases a capture does not make easily (identities that
 * collide, caps, partial learning, reset, odd names). */
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

#include "daemon/alerts.h"
#include "daemon/classify.h"
#include "daemon/flow.h"
#include "daemon/judge.h"
#include "daemon/learn.h"
#include "daemon/watch.h"
#include "policy/policy.h"

#define T0 (1767225600ULL * 1000000)	/* 2026-01-01T00:00:00Z, in us */
#define SEC 1000000ULL
#define MAX_FLOWS 2048

struct rec {
	struct flow f;
	char host[256];
	char port[16];
};

struct fx {
	struct classifier *c;
	struct policy *p;
	struct learn *l;
	struct watch *w;
	struct rec *flows;
	size_t n;
	const char *port;	/* the initiator's bridge port, or NULL */
};

static struct fx *fx_new(const char *yaml, const char *learn)
{
	struct fx *x = calloc(1, sizeof(*x));
	struct policy_diag *d = NULL;
	struct policy_vocab vocab;

	assert_non_null(x);
	x->c = classifier_new();
	assert_non_null(x->c);
	judge_vocab(x->c, &vocab);
	x->p = policy_load_buffer("t.yaml", yaml, strlen(yaml), &vocab, &d);
	if (!x->p)
		policy_diag_print(d, stderr);
	assert_non_null(x->p);
	policy_diag_free(d);
	assert_int_equal(policy_set_learn(x->p, learn), 0);
	x->l = learn_new();
	assert_non_null(x->l);
	x->flows = calloc(MAX_FLOWS, sizeof(*x->flows));
	assert_non_null(x->flows);
	return x;
}

static void fx_free(struct fx *x)
{
	learn_free(x->l);
	watch_free(x->w);
	policy_free(x->p);
	classifier_free(x->c);
	free(x->flows);
	free(x);
}

static uint16_t proto_id(const struct classifier *c, const char *name)
{
	uint16_t id;

	for (id = 1; id < 2000; id++)
		if (!strcmp(classifier_id_name(c, id), name))
			return id;
	fail_msg("nDPI has no protocol %s", name);
	return 0;
}

static void mac_of(const char *s, uint8_t m[6])
{
	unsigned v[6];
	int i;

	assert_int_equal(sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4],
				&v[5]), 6);
	for (i = 0; i < 6; i++)
		m[i] = (uint8_t)v[i];
}

/* The bridge ports of a recorded flow's sides (the initiator's, if any). */
static const char *const *ports(const struct rec *r)
{
	static const char *v[2];

	v[0] = r->port[0] ? r->port : NULL;
	v[1] = NULL;
	return v;
}

/*
 * A decided flow SRC -> DST:DPORT over L4 (6, 17...), with the MACs each
 * side sent with (NULL: none seen), nDPI's answer PROTO ("TLS",
 * "TLS.Google", NULL: Unknown), GUESSED, HOST; judged by the fixture's
 * policy and recorded.  Kept for judging again.
 */
static struct flow *flow(struct fx *x, uint64_t ts, const char *src, const char *smac,
			 const char *dst, const char *dmac, uint8_t l4, uint16_t dport,
			 const char *proto, bool guessed, const char *host)
{
	struct rec *r = &x->flows[x->n++];
	struct flow *f = &r->f;
	struct policy_verdict v;
	struct watch_flow wf;
	char m[64];
	const char *dot;

	assert_true(x->n <= MAX_FLOWS);
	memset(r, 0, sizeof(*r));
	f->key.family = strchr(src, ':') ? AF_INET6 : AF_INET;
	f->key.ip_proto = l4;
	assert_int_equal(inet_pton(f->key.family, src, f->key.addr[0]), 1);
	assert_int_equal(inet_pton(f->key.family, dst, f->key.addr[1]), 1);
	f->key.port[0] = (uint16_t)(40000 + x->n);
	f->key.port[1] = dport;
	f->initiator = 0;
	f->first_us = f->last_us = ts;
	f->bytes[0] = 100;
	f->bytes[1] = 200;
	f->state = FLOW_DECIDED;
	if (smac) {
		mac_of(smac, f->mac[0]);
		f->flags |= FLOW_F_MAC0;
	}
	if (dmac) {
		mac_of(dmac, f->mac[1]);
		f->flags |= FLOW_F_MAC1;
	}
	if (guessed)
		f->flags |= FLOW_F_GUESSED;
	if (proto && (dot = strchr(proto, '.')) && strcmp(proto, "Z39.50")) {
		snprintf(m, sizeof(m), "%.*s", (int)(dot - proto), proto);
		f->master = proto_id(x->c, m);
		f->app = proto_id(x->c, dot + 1);
	} else if (proto) {
		f->app = proto_id(x->c, proto);
	}
	if (host) {
		snprintf(r->host, sizeof(r->host), "%s", host);
		f->host = r->host;
	}
	if (x->port)
		snprintf(r->port, sizeof(r->port), "%s", x->port);
	assert_int_equal(judge_flow(x->p, x->c, f, ports(r), &v), 0);
	/* learning: never an alert */
	if ((!v.initiator_dev || policy_device_mode(v.initiator_dev) == POLICY_MODE_LEARN) &&
	    (!v.responder_dev || policy_device_mode(v.responder_dev) == POLICY_MODE_LEARN))
		assert_int_equal(v.n_alerts, 0);
	memset(&wf, 0, sizeof(wf));
	wf.ts_us = ts;
	wf.f = f;
	wf.c = x->c;
	wf.v = &v;
	wf.ifnames[0] = r->port[0] ? r->port : NULL;
	if (x->w)
		f->slot = (uint16_t)watch_flow_decided(x->w, &wf, NULL);
	learn_flow(x->l, &wf);
	return f;
}

/* learn_export() of DEVICE into a string; its return code in *RC. */
static char *export(struct fx *x, const char *device, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	*rc = learn_export(x->l, x->p, x->w, device, m);
	assert_int_equal(fclose(m), 0);
	return buf;
}

/* The export as a policy: loaded with nDPI's names, without an error or a
 * warning. */
static struct policy *load(struct fx *x, const char *yaml)
{
	struct policy_diag *d = NULL;
	struct policy_vocab vocab;
	struct policy *p;

	judge_vocab(x->c, &vocab);
	p = policy_load_buffer("learnt.yaml", yaml, strlen(yaml), &vocab, &d);
	if (!p || policy_diag_count(d, POLICY_WARNING)) {
		policy_diag_print(d, stderr);
		fail_msg("the export is not a clean policy:\n%s", yaml);
	}
	policy_diag_free(d);
	return p;
}

/* Judge flow F again with P: the verdict's alerts (0: allowed quietly). */
static unsigned judge_again(struct fx *x, const struct policy *p, const struct flow *f,
			    struct policy_verdict *v)
{
	const struct rec *r = (const struct rec *)f;	/* the flow is a rec's first */
	struct flow copy = *f;

	assert_int_equal(judge_flow(p, x->c, &copy, ports(r), v), 0);
	return v->n_alerts;
}

/* Every recorded flow, judged by the export P: how many raise an alert. */
static size_t violations(struct fx *x, const struct policy *p)
{
	struct policy_verdict v;
	size_t i, n = 0;

	for (i = 0; i < x->n; i++)
		if (judge_again(x, p, &x->flows[i].f, &v)) {
			n++;
			if (getenv("SHOW") && n < 4)
				fprintf(stderr, "violation: %s\n", v.alerts[0].message);
		}
	return n;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

static const char home[] =
	"lan: [192.168.1.0/24, fd00:1::/64]\n"
	"devices:\n"
	"  cam: {mac: 02:00:00:00:00:10}\n"
	"  plug-1: {mac: 02:00:00:00:00:11, profile: smart-plug}\n"
	"  plug-2: {mac: 02:00:00:00:00:14, profile: smart-plug}\n"
	"  nvr: {mac: 02:00:00:00:00:20, out: [any]}\n"
	"profiles:\n"
	"  smart-plug: {out: [DNS]}\n";

#define CAM "192.168.1.10", "02:00:00:00:00:10"
#define ROUTER "192.168.1.1", "02:00:00:00:00:01"
#define WAN(a) a, "02:00:00:00:00:01"

static void test_round_trip(void **state)
{
	static const char *const cloud[3][2] = {
		{ "198.51.100.20", "eu1.camcloud.example" },
		{ "198.51.100.21", "eu2.camcloud.example" },
		{ "198.51.100.22", "api.camcloud.example" },
	};
	struct fx *x = fx_new(home, NULL);
	struct policy_verdict v;
	struct policy *p;
	struct flow *f;
	char *y;
	int rc, i;

	(void)state;
	for (i = 0; i < 6; i++) {
		/* the query name is what DNS looks up: the rule names the
		 * resolver */
		flow(x, T0 + i * 300 * SEC, CAM, ROUTER, 17, 53, "DNS", false, cloud[i % 3][1]);
		flow(x, T0 + i * 300 * SEC + 50000, CAM, WAN(cloud[i % 3][0]), 6, 443, "TLS",
		     false, cloud[i % 3][1]);
	}
	flow(x, T0 + 5, "fd00:1::10", "02:00:00:00:00:10", WAN("2001:db8::443"), 6, 443, "TLS",
	     false, "v6.camcloud.example");
	flow(x, T0 + 10, CAM, WAN("198.51.100.30"), 6, 1883, "MQTT", false, NULL);
	flow(x, T0 + 11, CAM, WAN("198.51.100.31"), 6, 8443, "TLS", true, NULL);
	flow(x, T0 + 12, CAM, WAN("203.0.113.9"), 17, 5000, NULL, false, NULL);
	flow(x, T0 + 13, CAM, WAN("203.0.113.10"), 6, 80, "HTTP", false, "Upper.Example.COM.");
	flow(x, T0 + 14, CAM, WAN("203.0.113.11"), 6, 80, "HTTP", false, "evil\"name\n.example");
	flow(x, T0 + 15, CAM, WAN("203.0.113.12"), 47, 0, NULL, false, NULL);
	flow(x, T0 + 16, CAM, WAN("203.0.113.13"), 6, 443, "TLS.Google", false, NULL);
	flow(x, T0 + 17, CAM, WAN("203.0.113.14"), 6, 210, "Z39.50", false, NULL);
	flow(x, T0 + 18, CAM, WAN("203.0.113.15"), 6, 443, "Sina(Weibo)", false, NULL);
	/* two plugs alike: one profile */
	for (i = 0; i < 2; i++) {
		const char *ip = i ? "192.168.1.14" : "192.168.1.11";
		const char *mac = i ? "02:00:00:00:00:14" : "02:00:00:00:00:11";

		flow(x, T0 + 20 + i, ip, mac, ROUTER, 17, 53, "DNS", false, "mqtt.example");
		flow(x, T0 + 22 + i, ip, mac, WAN("203.0.113.123"), 17, 123, "NTP", false, NULL);
		/* a hub polls them: a LAN service, named by device */
		flow(x, T0 + 30 + i, "192.168.1.30", "02:00:00:00:00:30", ip, mac, 6, 80, "HTTP",
		     false, "plug.home.arpa");
	}
	/* a printer's announcements: a group is nobody's device */
	flow(x, T0 + 40, "192.168.1.12", "02:00:00:00:00:12", "239.255.255.250", NULL, 17, 1900,
	     "SSDP", false, NULL);
	/* a laptop seen without its MAC first: one device, by its MAC */
	flow(x, T0 + 50, "192.168.1.30", "02:00:00:00:00:30", "192.168.1.50", NULL, 6, 631,
	     "HTTP", false, NULL);
	flow(x, T0 + 51, "192.168.1.50", "02:00:00:00:00:50", ROUTER, 17, 53, "DNS", false,
	     "www.example.com");
	/* two MACs behind one address (a VM host, a repeater): neither can
	 * declare it; and the address seen without a MAC is a device of its own */
	flow(x, T0 + 60, "192.168.1.60", "02:00:00:00:00:60", ROUTER, 17, 53, "DNS", false, "a.b");
	flow(x, T0 + 61, "192.168.1.60", "02:00:00:00:00:61", ROUTER, 17, 53, "DNS", false, "a.b");
	flow(x, T0 + 62, "192.168.1.30", "02:00:00:00:00:30", "192.168.1.60", NULL, 6, 22,
	     "SSH", false, NULL);
	/* a LAN service: both sides by name */
	flow(x, T0 + 70, "192.168.1.20", "02:00:00:00:00:20", CAM, 6, 554, "RTSP", false, NULL);

	y = export(x, NULL, &rc);
	assert_int_equal(rc, 0);
	/* what the export says, spot checks */
	assert_non_null(strstr(y, "        to: \"*.camcloud.example\"\n"));
	assert_non_null(strstr(y, "        # every: 300s\n"));
	assert_non_null(strstr(y, "      - ports: 8443/tcp\n"));
	assert_non_null(strstr(y, "      - ports: 5000/udp\n"));
	assert_non_null(strstr(y, "      - proto: Unknown\n"));
	assert_non_null(strstr(y, "      - proto: TLS.Google\n"));
	assert_non_null(strstr(y, "      - proto: Sina(Weibo)\n"));
	assert_non_null(strstr(y, "      - proto: Z39.50\n"));
	assert_non_null(strstr(y, "        to: [upper.example.com, 203.0.113.11]\n"));
	assert_non_null(strstr(y, "        to: dev-02-00-00-00-00-01\n"));
	assert_non_null(strstr(y, "        to: 198.51.100.30\n"));
	assert_non_null(strstr(y, "        to: 239.255.255.250\n"));
	if (getenv("SHOW"))
		fputs(y, stderr);
	assert_non_null(strstr(y, "      - proto: RTSP\n        from: nvr\n"));
	assert_non_null(strstr(y, "      - proto: RTSP\n        to: cam\n"));
	assert_non_null(strstr(y, "        to: [dev-02-00-00-00-00-50, plug-1, plug-2]\n"));
	assert_non_null(strstr(y, "        to: dev-192-168-1-60\n"));
	/* alike: one profile, under the name they already shared */
	assert_non_null(strstr(y, "  smart-plug:\n    # 2 devices behave alike: plug-1, "
				  "plug-2\n"));
	assert_int_equal(count(y, "    profile: smart-plug\n"), 2);
	assert_non_null(strstr(y, "  dev-02-00-00-00-00-60-like:\n"));
	assert_null(strstr(y, "dev-192-168-1-50:"));	/* merged into its MAC */
	assert_non_null(strstr(y, "  dev-02-00-00-00-00-50:\n"));
	assert_non_null(strstr(y, "  dev-192-168-1-60:\n"));
	assert_int_equal(count(y, "no IPv4 address: another device used one of them too"), 2);
	assert_non_null(strstr(y, "lan: [192.168.1.0/24, fd00:1::/64]\n"));
	/* cam, plug-1, plug-2, nvr, router, hub, printer, laptop, two MACs, .60 */
	assert_int_equal(learn_device_count(x->l), 11);
	assert_int_equal(count(y, "\n    profile: "), 11);

	p = load(x, y);
	assert_int_equal(violations(x, p), 0);
	/* and what it was not shown is a violation */
	f = flow(x, T0 + 100, CAM, WAN("203.0.113.200"), 6, 443, "TLS", false, "other.example");
	assert_int_equal(judge_again(x, p, f, &v), 1);
	assert_string_equal(v.alerts[0].event_type, "service_not_allowed_out");
	assert_int_equal(v.action, POLICY_DENY);
	/* a machine it never saw is unknown (and the router does not serve it) */
	f = flow(x, T0 + 101, "192.168.1.77", "02:00:00:00:00:77", ROUTER, 17, 53, "DNS", false,
		 "x.example");
	assert_int_equal(judge_again(x, p, f, &v), 2);
	assert_string_equal(v.alerts[0].event_type, "service_not_allowed_in");
	assert_string_equal(v.alerts[1].event_type, "unknown_device");
	policy_free(p);
	free(y);
	fx_free(x);
}

static void test_caps(void **state)
{
	struct fx *x = fx_new("version: 1\n", NULL);
	struct policy *p;
	char ip[32], mac[32], *y;
	size_t i, n;
	int rc;

	(void)state;
	/* 70 servers of one service: any WAN address, and said so */
	for (i = 0; i < 70; i++) {
		snprintf(ip, sizeof(ip), "203.0.%zu.1", i);
		flow(x, T0 + i * SEC, "10.0.0.1", "02:00:00:00:01:01", WAN(ip), 17, 7000, NULL,
		     false, NULL);
	}
	/* 40 ports nDPI could not name: a range */
	for (i = 0; i < 40; i++)
		flow(x, T0 + i * SEC, "10.0.0.1", "02:00:00:00:01:01", WAN("198.51.100.1"), 6,
		     (uint16_t)(2000 + 7 * i), NULL, false, NULL);
	/* 30 multicast groups: any LAN address */
	for (i = 0; i < 30; i++) {
		snprintf(ip, sizeof(ip), "239.1.1.%zu", i + 1);
		flow(x, T0 + i * SEC, "10.0.0.1", "02:00:00:00:01:01", ip, NULL, 17, 5353,
		     "MDNS", false, NULL);
	}
	/* one machine at more addresses than the recorder keeps: its MAC
	 * alone identifies it */
	for (i = 0; i < 40; i++) {
		snprintf(ip, sizeof(ip), "10.2.0.%zu", i + 1);
		flow(x, T0 + i * SEC, ip, "02:00:00:00:02:02", WAN("198.51.100.3"), 6, 443,
		     "TLS", false, "b.example");
	}
	/* more machines than the recorder keeps */
	for (i = 0; i < 1030; i++) {
		snprintf(ip, sizeof(ip), "10.1.%zu.%zu", i / 200, i % 200 + 1);
		snprintf(mac, sizeof(mac), "02:00:00:01:%02zx:%02zx", i / 256, i % 256);
		flow(x, T0 + i * SEC, ip, mac, WAN("198.51.100.2"), 6, 443, "TLS", false,
		     "a.example");
	}
	y = export(x, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(y, "      - ports: 7000/udp\n        to: wan\n"));
	if (getenv("SHOW"))
		fputs(y, stderr);
	assert_non_null(strstr(y, "# 64 addresses (and more than the recorder keeps): too many "
				  "to list, so any WAN address"));
	assert_non_null(strstr(y, "      - ports: [2000/tcp, 2007/tcp, 2014/tcp, 2021/tcp, "
				  "2028/tcp, 2035/tcp, 2042/tcp, 2049/tcp, 2056/tcp, 2063/tcp, "
				  "2070/tcp, 2077/tcp, 2084/tcp, 2091/tcp, 2098/tcp, 2105/tcp]\n"));
	assert_non_null(strstr(y, "      - ports: 2112-2273/tcp\n"));
	assert_non_null(strstr(y, "more than 16 ports: the range they were in"));
	assert_non_null(strstr(y, "      - proto: MDNS\n        to: lan\n"));
	assert_non_null(strstr(y, "flows of more machines than the recorder keeps (1024) were "
				  "not recorded"));
	assert_non_null(strstr(y, "    # no IPv4 address: too many to list; the MAC identifies "
				  "it\n    # 8 sightings from more addresses than the recorder "
				  "keeps (32)\n    mac: 02:00:00:00:02:02\n    profile:"));
	p = load(x, y);
	/* exactly the machines past the cap are not allowed (the first two
	 * machines and 1022 of the 1030) */
	n = violations(x, p);
	assert_int_equal(n, 1030 - 1022);
	policy_free(p);
	free(y);
	fx_free(x);
}

/* Only cam learns; export one device; reset; a flow judged again. */
static void test_partial(void **state)
{
	struct fx *x = fx_new(home, "cam");
	struct watch_flow wf;
	struct policy_verdict v;
	struct policy *p;
	char *y;
	int rc;

	(void)state;
	flow(x, T0, CAM, ROUTER, 17, 53, "DNS", false, "a.example");
	flow(x, T0 + 1, "192.168.1.11", "02:00:00:00:00:11", ROUTER, 17, 53, "DNS", false,
	     "b.example");
	flow(x, T0 + 2, "192.168.1.20", "02:00:00:00:00:20", CAM, 6, 554, "RTSP", false, NULL);
	assert_int_equal(learn_device_count(x->l), 1);
	/* a reload's second judgement is not a second flow */
	memset(&wf, 0, sizeof(wf));
	assert_int_equal(judge_flow(x->p, x->c, &x->flows[0].f, NULL, &v), 0);
	wf.f = &x->flows[0].f;
	wf.c = x->c;
	wf.v = &v;
	wf.again = true;
	learn_flow(x->l, &wf);

	y = export(x, "plug-1", &rc);
	assert_int_equal(rc, -ENOENT);
	free(y);
	y = export(x, "cam", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(y, "# Device cam only"));
	assert_non_null(strstr(y, "      # 1 flow, 100 B up, 200 B down at decision"));
	/* peers not in the file are addresses */
	assert_non_null(strstr(y, "        to: 192.168.1.1\n"));
	assert_non_null(strstr(y, "        from: 192.168.1.20\n"));
	assert_int_equal(count(y, "\n    profile: "), 1);
	/* cam's rule allows its DNS; the resolver, not in the file, is an
	 * unknown device there */
	p = load(x, y);
	assert_int_equal(judge_again(x, p, &x->flows[0].f, &v), 1);
	assert_string_equal(v.alerts[0].event_type, "unknown_device");
	assert_int_equal(judge_again(x, p, &x->flows[2].f, &v), 1);
	assert_string_equal(v.alerts[0].event_type, "unknown_device");
	policy_free(p);
	free(y);

	learn_reset(x->l, "cam");
	assert_int_equal(learn_device_count(x->l), 0);
	y = export(x, "cam", &rc);
	assert_int_equal(rc, -ENOENT);
	free(y);
	/* nothing learnt: a valid policy without devices */
	y = export(x, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_null(strstr(y, "devices:"));
	p = load(x, y);
	policy_free(p);
	free(y);
	flow(x, T0 + 3, CAM, ROUTER, 17, 53, "DNS", false, "a.example");
	assert_int_equal(learn_device_count(x->l), 1);
	learn_reset(x->l, NULL);
	assert_int_equal(learn_device_count(x->l), 0);
	fx_free(x);
}

/* Bridge ports, and who is merged into whom. */
static void test_ports_and_merges(void **state)
{
	struct fx *x = fx_new("lan: [192.168.1.0/24]\n"
			      "devices:\n"
			      "  tv: {ip: 192.168.1.40}\n", NULL);
	struct policy_verdict v;
	struct policy *p;
	struct flow *f;
	char *y;
	int rc;

	(void)state;
	/* always on if3: the port is written (it has a MAC) */
	x->port = "if3";
	flow(x, T0, CAM, ROUTER, 17, 53, "DNS", false, "a.example");
	flow(x, T0 + 1, CAM, WAN("198.51.100.9"), 6, 443, "TLS", false, "a.example");
	/* a plug moving: no port */
	flow(x, T0 + 2, "192.168.1.11", "02:00:00:00:00:11", ROUTER, 17, 53, "DNS", false,
	     "a.example");
	x->port = "if5";
	flow(x, T0 + 3, "192.168.1.11", "02:00:00:00:00:11", ROUTER, 17, 53, "DNS", false,
	     "a.example");
	x->port = NULL;
	/* the declared tv (by address) seen with its MAC, then with that MAC
	 * at an address it did not declare: one device, both addresses */
	flow(x, T0 + 4, "192.168.1.40", "02:00:00:00:00:40", ROUTER, 17, 53, "DNS", false,
	     "a.example");
	flow(x, T0 + 5, "192.168.1.41", "02:00:00:00:00:40", ROUTER, 17, 53, "DNS", false,
	     "a.example");

	y = export(x, NULL, &rc);
	assert_int_equal(rc, 0);
	if (getenv("SHOW"))
		fputs(y, stderr);
	assert_non_null(strstr(y, "    mac: 02:00:00:00:00:10\n    ip: 192.168.1.10\n"
				  "    port: if3\n"));
	assert_non_null(strstr(y, "    # seen on several bridge ports: none written\n"
				  "    mac: 02:00:00:00:00:11\n    ip: 192.168.1.11\n"
				  "    profile"));
	assert_non_null(strstr(y, "  tv:\n"));
	assert_non_null(strstr(y, "    mac: 02:00:00:00:00:40\n"
				  "    ip: [192.168.1.40, 192.168.1.41]\n"));
	assert_null(strstr(y, "dev-02-00-00-00-00-40"));
	assert_int_equal(learn_device_count(x->l), 4);
	p = load(x, y);
	assert_int_equal(violations(x, p), 0);
	/* the camera on another port breaks its binding */
	x->port = "if7";
	f = flow(x, T0 + 6, CAM, ROUTER, 17, 53, "DNS", false, "a.example");
	assert_int_equal(judge_again(x, p, f, &v), 1);
	assert_string_equal(v.alerts[0].event_type, "binding_violation");
	policy_free(p);
	free(y);
	fx_free(x);
}

static void emit(void *ctx, struct alert *a)
{
	(void)ctx;
	(void)a;
}

/* The watcher's bytes go into the comments; the export takes its lock
 * itself. */
static void test_watch_bytes(void **state)
{
	struct fx *x = fx_new("version: 1\n", NULL);
	struct watch_config cfg;
	char *y;
	int rc;

	(void)state;
	watch_config_default(&cfg);
	x->w = watch_new(&cfg, x->p, emit, NULL);
	assert_non_null(x->w);
	flow(x, T0, "10.0.0.5", "02:00:00:00:00:05", WAN("198.51.100.7"), 6, 443, "TLS", false,
	     "a.example");
	watch_credit(x->w, x->flows[0].f.slot, T0 + SEC, 5000, 70000);
	y = export(x, NULL, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(y, "    # the watcher counted 5100 B up, 70200 B down in the "
				  "flows it started\n"));
	free(y);
	fx_free(x);
}

static void test_bad_args(void **state)
{
	(void)state;
	learn_free(NULL);
	learn_flow(NULL, NULL);
	learn_reset(NULL, NULL);
	assert_int_equal(learn_device_count(NULL), 0);
	assert_int_equal(learn_export(NULL, NULL, NULL, NULL, stdout), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_ports_and_merges),
		cmocka_unit_test(test_watch_bytes),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
