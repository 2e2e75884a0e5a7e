/*
 * Unit tests of the policy matcher: device identification (MAC, IP prefix,
 * port precedence), host wildcards, IN vs OUT, modes, defaults, and the lab
 * scenarios of docs/examples/home.yaml.  Run from the repository root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/policy.h"
#include "tests/policy/ndpi_vocab.h"

/* ---- helpers ------------------------------------------------------------ */

static struct policy *load(const char *yaml)
{
	struct policy_diag *d = NULL;
	struct policy *p = policy_load_buffer("test.yaml", yaml, strlen(yaml), &ndpi42_vocab, &d);

	if (!p)
		policy_diag_print(d, stderr);
	policy_diag_free(d);
	assert_non_null(p);
	return p;
}

static void endpoint(struct policy_endpoint *e, const char *addr, uint16_t port,
		     const char *mac, const char *ifname)
{
	memset(e, 0, sizeof(*e));
	if (strchr(addr, ':')) {
		e->family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, e->addr), 1);
	} else {
		e->family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, e->addr), 1);
	}
	e->port = port;
	if (mac) {
		unsigned m[6];

		assert_int_equal(sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3],
					&m[4], &m[5]), 6);
		for (int i = 0; i < 6; i++)
			e->mac[i] = (uint8_t)m[i];
		e->has_mac = true;
	}
	e->ifname = ifname;
}

/*
 * A flow in one line: "proto" is nDPI's "master.app" spelling, addresses are
 * "addr", ports and MACs optional (NULL / 0).
 */
struct flow_spec {
	const char *from, *from_mac, *from_if;
	const char *to, *to_mac;
	uint16_t sport, dport;
	uint8_t l4;
	const char *proto, *category, *host;
	uint16_t vlan;
};

static struct policy_flow flow_buf;
static char proto_buf[64];

static const struct policy_flow *mkflow(const struct flow_spec *s)
{
	struct policy_flow *f = &flow_buf;
	char *dot;

	memset(f, 0, sizeof(*f));
	endpoint(&f->initiator, s->from, s->sport ? s->sport : 40000, s->from_mac, s->from_if);
	endpoint(&f->responder, s->to, s->dport, s->to_mac, NULL);
	f->ip_proto = s->l4 ? s->l4 : IPPROTO_TCP;
	f->vlan = s->vlan;
	snprintf(proto_buf, sizeof(proto_buf), "%s", s->proto ? s->proto : "Unknown");
	f->master_proto = proto_buf;
	dot = strchr(proto_buf, '.');
	if (dot) {
		*dot = '\0';
		f->app_proto = dot + 1;
	} else {
		f->app_proto = proto_buf;	/* nDPI reports app == master when there is no app */
	}
	f->category = s->category ? s->category : "Unspecified";
	f->host = s->host;
	return f;
}

static struct policy_verdict eval(const struct policy *p, const struct flow_spec *s)
{
	struct policy_verdict v;

	memset(&v, 0xa5, sizeof(v));	/* evaluate must set every field it promises */
	assert_int_equal(policy_evaluate(p, mkflow(s), &v), 0);
	return v;
}

static bool has_alert(const struct policy_verdict *v, const char *type)
{
	for (unsigned i = 0; i < v->n_alerts; i++)
		if (strcmp(v->alerts[i].event_type, type) == 0)
			return true;
	return false;
}

#define NAME(d) policy_device_name(d)

/* ---- the home lab (docs/examples/home.yaml) ------------------------------- */

static struct policy *home;

static int home_setup(void **state)
{
	struct policy_diag *d = NULL;

	(void)state;
	home = policy_load("docs/examples/home.yaml", &ndpi42_vocab, &d);
	if (!home)
		policy_diag_print(d, stderr);
	policy_diag_free(d);
	return home ? 0 : -1;
}

static int home_teardown(void **state)
{
	(void)state;
	policy_free(home);
	home = NULL;
	return 0;
}

#define CAM "192.168.1.10", "02:00:00:00:00:10", "eth1"
#define ROUTER_IP "192.168.1.1"
#define ROUTER_MAC "02:00:00:00:00:01"

static void test_home_camera_tls_cloud(void **state)
{
	struct flow_spec s = { CAM, "203.0.113.5", ROUTER_MAC, 0, 443, IPPROTO_TCP, "TLS",
			       "Web", "api.vendor-cloud.example", 0 };
	struct policy_verdict v;

	(void)state;
	v = eval(home, &s);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_int_equal(v.rule_action, POLICY_ALLOW);
	assert_string_equal(NAME(v.initiator_dev), "cam-front");
	assert_null(v.responder_dev);	/* a remote host, even though its MAC is the router's */
	assert_string_equal(v.rule_file, "docs/examples/home.yaml");
	assert_true(v.rule_line > 0);
	assert_non_null(strstr(v.reason, "profile ip-camera"));
	assert_non_null(strstr(v.reason, "*.vendor-cloud.example"));
	assert_int_equal(v.n_alerts, 0);
}

/* 1-based line of the first line of PATH that starts with PREFIX, or 0. */
static unsigned line_of(const char *path, const char *prefix)
{
	char buf[512];
	unsigned n = 0;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		n++;
		if (!strncmp(buf, prefix, strlen(prefix))) {
			fclose(f);
			return n;
		}
	}
	fclose(f);
	return 0;
}

static void test_home_camera_c2_denied(void **state)
{
	struct flow_spec s = { CAM, "203.0.113.99", ROUTER_MAC, 0, 80, IPPROTO_TCP, "HTTP",
			       "Web", "c2.unknown.example", 0 };
	struct policy_verdict v;

	(void)state;
	v = eval(home, &s);
	assert_int_equal(v.action, POLICY_DENY);
	assert_int_equal(v.rule_action, POLICY_DENY);
	assert_null(v.rule);
	/* No rule matched: the camera's own declaration (its enforce mode)
	 * decided, and that is where the verdict points. */
	assert_string_equal(v.rule_file, "docs/examples/home.yaml");
	assert_int_equal(v.rule_line,
			 line_of("docs/examples/home.yaml", "  cam-front:"));
	assert_non_null(strstr(v.reason, "no out rule of profile ip-camera"));
	assert_int_equal(v.n_alerts, 1);
	assert_string_equal(v.alerts[0].event_type, "service_not_allowed_out");
	assert_ptr_equal(v.alerts[0].device, v.initiator_dev);
	assert_non_null(strstr(v.alerts[0].message, "c2.unknown.example"));
	assert_non_null(strstr(v.alerts[0].message, "203.0.113.99"));
}

static void test_home_camera_dns_to_router(void **state)
{
	struct flow_spec s = { CAM, ROUTER_IP, ROUTER_MAC, 0, 53, IPPROTO_UDP, "DNS", "Network",
			       "api.vendor-cloud.example", 0 };
	struct policy_verdict v;

	(void)state;
	v = eval(home, &s);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_string_equal(NAME(v.responder_dev), "router");
	/* IPv6 too: the router is fd00:1::1. */
	s.from = "fd00:1::10";
	s.to = "fd00:1::1";
	v = eval(home, &s);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_string_equal(NAME(v.initiator_dev), "cam-front");
	assert_string_equal(NAME(v.responder_dev), "router");
	/* DNS elsewhere is not allowed for the camera. */
	s.from = "192.168.1.10";
	s.to = "8.8.8.8";
	v = eval(home, &s);
	assert_int_equal(v.action, POLICY_DENY);
}

static void test_home_rtsp_only_to_nvr(void **state)
{
	struct flow_spec nvr = { "192.168.1.20", "02:00:00:00:00:20", NULL, "192.168.1.10",
				 "02:00:00:00:00:10", 0, 554, IPPROTO_TCP, "RTSP", "Media", NULL, 0 };
	struct flow_spec laptop = nvr;
	struct policy_verdict v;

	(void)state;
	v = eval(home, &nvr);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_string_equal(NAME(v.initiator_dev), "nvr");
	assert_string_equal(NAME(v.responder_dev), "cam-front");

	laptop.from = "192.168.1.50";
	laptop.from_mac = "02:00:00:00:00:50";
	v = eval(home, &laptop);
	/* The laptop may (monitor, any), the camera may not serve it (enforce). */
	assert_int_equal(v.action, POLICY_DENY);
	assert_ptr_equal(v.responder_dev, v.alerts[0].device);
	assert_string_equal(v.alerts[0].event_type, "service_not_allowed_in");
	assert_string_equal(v.reason, "no in rule of profile ip-camera matched");
}

static void test_home_plug_mqtt(void **state)
{
	struct flow_spec s = { "192.168.1.11", "02:00:00:00:00:11", NULL, "198.51.100.30",
			       ROUTER_MAC, 0, 1883, IPPROTO_TCP, "MQTT", "IoT-Scada", NULL, 0 };
	const struct policy_limits *lim;
	struct policy_verdict v;

	(void)state;
	v = eval(home, &s);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_non_null(v.rule);
	lim = policy_rule_limits(v.rule);
	assert_int_equal(lim->every_ms, 60000);
	assert_int_equal(lim->tolerance_ms, 5000);
	lim = policy_device_limits(v.initiator_dev);
	assert_int_equal(lim->up_per_day, 5000000);
	assert_int_equal(lim->new_flows, 10);
	assert_int_equal(lim->new_flows_window_ms, 60000);
	/* Another broker is not allowed. */
	s.to = "198.51.100.31";
	assert_int_equal(eval(home, &s).action, POLICY_DENY);
	/* Nor another port. */
	s.to = "198.51.100.30";
	s.dport = 8883;
	assert_int_equal(eval(home, &s).action, POLICY_DENY);
}

static void test_home_printer(void **state)
{
	struct flow_spec ssdp = { "192.168.1.12", "02:00:00:00:00:12", NULL, "239.255.255.250",
				  "01:00:5e:7f:ff:fa", 0, 1900, IPPROTO_UDP, "SSDP", "System",
				  NULL, 0 };
	struct flow_spec ipp = { "192.168.1.50", "02:00:00:00:00:50", NULL, "192.168.1.12",
				 "02:00:00:00:00:12", 0, 631, IPPROTO_TCP, "IPP", "System", NULL, 0 };
	struct policy_verdict v;

	(void)state;
	v = eval(home, &ssdp);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_string_equal(NAME(v.initiator_dev), "printer");
	assert_null(v.responder_dev);	/* a multicast group is nobody's device */
	v = eval(home, &ipp);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_string_equal(NAME(v.responder_dev), "printer");
	ipp.proto = "HTTP";
	assert_int_equal(eval(home, &ipp).action, POLICY_ALLOW);
	/* Not from the Internet. */
	ipp.from = "203.0.113.7";
	ipp.from_mac = ROUTER_MAC;
	v = eval(home, &ipp);
	assert_null(v.initiator_dev);
	assert_int_equal(v.action, POLICY_DENY);
}

static void test_home_unknown_device(void **state)
{
	struct flow_spec s = { "192.168.1.99", "02:00:00:00:00:99", NULL, ROUTER_IP, ROUTER_MAC, 0,
			       53, IPPROTO_UDP, "DNS", "Network", "example.com", 0 };
	struct policy_verdict v;

	(void)state;
	v = eval(home, &s);
	assert_true(policy_device_is_unknown(v.initiator_dev));
	assert_string_equal(NAME(v.initiator_dev), "unknown");
	assert_string_equal(policy_device_profile(v.initiator_dev), "default");
	assert_int_equal(v.action, POLICY_ALERT);
	assert_int_equal(v.n_alerts, 1);
	assert_string_equal(v.alerts[0].event_type, "unknown_device");
	assert_non_null(strstr(v.alerts[0].message, "02:00:00:00:00:99"));
	assert_non_null(strstr(v.alerts[0].message, "192.168.1.99"));
	/* The default profile is in monitor mode: what it does not allow is alerted. */
	s.to = "203.0.113.1";
	s.dport = 443;
	s.proto = "TLS";
	v = eval(home, &s);
	assert_int_equal(v.action, POLICY_ALERT);
	assert_true(has_alert(&v, "unknown_device"));
	assert_true(has_alert(&v, "service_not_allowed_out"));
}

static void test_home_laptop_monitor(void **state)
{
	struct flow_spec s = { "192.168.1.50", "02:00:00:00:00:50", NULL, "203.0.113.8", ROUTER_MAC,
			       0, 22, IPPROTO_TCP, "SSH", "RemoteAccess", NULL, 0 };
	struct flow_spec in = { "203.0.113.8", ROUTER_MAC, NULL, "fd00:1::50", "02:00:00:00:00:50",
				0, 22, IPPROTO_TCP, "SSH", "RemoteAccess", NULL, 0 };
	struct policy_verdict v;

	(void)state;
	v = eval(home, &s);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_int_equal(policy_device_mode(v.initiator_dev), POLICY_MODE_MONITOR);
	in.from = "2001:db8::8";
	v = eval(home, &in);
	assert_string_equal(NAME(v.responder_dev), "laptop");
	assert_int_equal(v.rule_action, POLICY_DENY);
	assert_int_equal(v.action, POLICY_ALERT);	/* monitor never blocks */
	assert_true(has_alert(&v, "service_not_allowed_in"));
}

static void test_home_globals(void **state)
{
	uint8_t a[16] = { 192, 168, 1, 77 }, b[16] = { 10, 0, 0, 1 };

	(void)state;
	assert_int_equal(policy_inspect_packets(home), 8);
	assert_int_equal(policy_alert_rearm_ms(home), 300000);
	assert_int_equal(policy_unknown_action(home), POLICY_ALERT);
	assert_true(policy_is_lan(home, AF_INET, a));
	assert_false(policy_is_lan(home, AF_INET, b));	/* lan: replaces the RFC 1918 default */
	assert_int_equal(policy_device_count(home), 9);
	assert_string_equal(NAME(policy_device_at(home, 0)), "router");
	assert_null(policy_device_at(home, 9));
}

/* ---- precedence: MAC, then longest prefix, then port ---------------------- */

static const char precedence_yaml[] =
	"lan: [10.0.0.0/16]\n"
	"defaults: {binding_violation: deny}\n"
	"devices:\n"
	"  by-mac:   {mac: '02:00:00:00:00:01', ip: 10.0.0.1, out: [any]}\n"
	"  wide:     {ip: 10.0.0.0/24, out: [any]}\n"
	"  narrow:   {ip: 10.0.0.0/28, out: [any]}\n"
	"  by-port:  {port: eth3, out: [any]}\n"
	"  by-vlan:  {port: eth4, vlan: 20, out: [any]}\n"
	"  pinned:   {mac: '02:00:00:00:00:02', port: eth1, vlan: 7, out: [any]}\n";

static void test_precedence(void **state)
{
	struct policy *p;
	struct policy_diag *d = NULL;
	struct flow_spec s = { "10.0.0.1", "02:00:00:00:00:01", "eth9", "198.51.100.9", NULL, 0, 80,
			       0, "HTTP", NULL, NULL, 0 };
	struct policy_verdict v;

	(void)state;
	p = policy_load_buffer("t", precedence_yaml, strlen(precedence_yaml), &ndpi42_vocab, &d);
	assert_non_null(p);
	/* narrow inside wide: a warning, not an error. */
	assert_int_equal(policy_diag_count(d, POLICY_ERROR), 0);
	assert_int_equal(policy_diag_count(d, POLICY_WARNING), 2);
	policy_diag_free(d);

	v = eval(p, &s);
	assert_string_equal(NAME(v.initiator_dev), "by-mac");
	assert_int_equal(v.n_alerts, 0);

	/* MAC beats IP: by-mac's MAC with narrow's address is by-mac, misbehaving. */
	s.from = "10.0.0.5";
	v = eval(p, &s);
	assert_string_equal(NAME(v.initiator_dev), "by-mac");
	assert_int_equal(v.action, POLICY_DENY);
	assert_true(has_alert(&v, "binding_violation"));
	assert_non_null(strstr(v.alerts[0].message, "undeclared address 10.0.0.5"));

	/* Longest prefix: an unknown MAC at .5 is narrow, at .100 wide. */
	s.from_mac = "02:00:00:00:00:77";
	assert_string_equal(NAME(eval(p, &s).initiator_dev), "narrow");
	s.from = "10.0.0.100";
	assert_string_equal(NAME(eval(p, &s).initiator_dev), "wide");

	/* IP beats port. */
	s.from_if = "eth3";
	assert_string_equal(NAME(eval(p, &s).initiator_dev), "wide");
	/* Port when nothing else matches. */
	s.from = "10.0.5.5";
	assert_string_equal(NAME(eval(p, &s).initiator_dev), "by-port");
	s.vlan = 20;
	assert_string_equal(NAME(eval(p, &s).initiator_dev), "by-port");	/* any vlan */
	s.from_if = "eth4";
	assert_string_equal(NAME(eval(p, &s).initiator_dev), "by-vlan");
	s.vlan = 21;
	assert_true(policy_device_is_unknown(eval(p, &s).initiator_dev));

	/* by-mac's address used by another MAC: binding violation of by-mac. */
	s.from = "10.0.0.1";
	s.from_mac = "02:00:00:00:00:99";
	v = eval(p, &s);
	assert_string_equal(NAME(v.initiator_dev), "by-mac");
	assert_true(has_alert(&v, "binding_violation"));
	assert_non_null(strstr(v.alerts[0].message, "02:00:00:00:00:99"));

	/* Pinned to a port and a VLAN. */
	s.from = "10.0.7.7";
	s.from_mac = "02:00:00:00:00:02";
	s.from_if = "eth1";
	s.vlan = 7;
	v = eval(p, &s);
	assert_int_equal(v.n_alerts, 0);
	s.from_if = "eth2";
	v = eval(p, &s);
	assert_true(has_alert(&v, "binding_violation"));
	assert_non_null(strstr(v.alerts[0].message, "bridge port eth2"));
	s.from_if = "eth1";
	s.vlan = 8;
	v = eval(p, &s);
	assert_non_null(strstr(v.alerts[0].message, "vlan 8"));

	/* A responder's MAC that contradicts its address does not decide. */
	s.from_mac = "02:00:00:00:00:77";
	s.from = "10.0.5.5";
	s.from_if = NULL;
	s.vlan = 0;
	s.to = "10.0.0.200";
	s.to_mac = "02:00:00:00:00:01";
	assert_string_equal(NAME(eval(p, &s).responder_dev), "wide");
	s.to = "10.0.0.1";
	assert_string_equal(NAME(eval(p, &s).responder_dev), "by-mac");
	policy_free(p);
}

/* ---- host wildcards --------------------------------------------------------- */

static void test_wildcards(void **state)
{
	struct policy *p = load("lan: [10.0.0.0/8]\n"
				"devices:\n"
				"  d:\n"
				"    ip: 10.0.0.1\n"
				"    out:\n"
				"      - proto: TLS\n"
				"        to: ['*.example.com', exact.example.org]\n");
	struct flow_spec s = { "10.0.0.1", NULL, NULL, "203.0.113.1", NULL, 0, 443, 0, "TLS",
			       NULL, NULL, 0 };
	static const struct {
		const char *host;
		enum policy_action want;
	} cases[] = {
		{ "a.example.com", POLICY_ALLOW },
		{ "a.b.example.com", POLICY_ALLOW },
		{ "A.Example.COM.", POLICY_ALLOW },	/* case and the root dot do not matter */
		{ "example.com", POLICY_DENY },		/* *. needs at least one more label */
		{ "badexample.com", POLICY_DENY },
		{ "example.com.evil.net", POLICY_DENY },
		{ "exact.example.org", POLICY_ALLOW },
		{ "x.exact.example.org", POLICY_DENY },
		{ NULL, POLICY_DENY },			/* no name, no match */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s.host = cases[i].host;
		assert_int_equal(eval(p, &s).action, cases[i].want);
	}
	policy_free(p);
}

/* ---- protocols, categories, ports ---------------------------------------- */

static void test_protocols(void **state)
{
	struct policy *p = load("lan: [10.0.0.0/8]\n"
				"devices:\n"
				"  d:\n"
				"    ip: 10.0.0.1\n"
				"    out:\n"
				"      - tls.google\n"		/* case-insensitive */
				"      - proto: Amazon\n"
				"        action: alert\n"
				"      - category: Streaming\n"
				"      - proto: DNS\n"
				"        ports: [53/udp]\n"
				"      - proto: Unknown\n"
				"        ports: 5000-5010\n");
	struct flow_spec s = { "10.0.0.1", NULL, NULL, "203.0.113.1", NULL, 0, 443, 0, NULL,
			       NULL, NULL, 0 };
	struct policy_verdict v;

	(void)state;
	s.proto = "TLS.Google";
	assert_int_equal(eval(p, &s).action, POLICY_ALLOW);
	s.proto = "TLS";
	assert_int_equal(eval(p, &s).action, POLICY_DENY);
	s.proto = "QUIC.Google";
	assert_int_equal(eval(p, &s).action, POLICY_DENY);
	s.proto = "TLS.Amazon";	/* app part matches a plain name */
	v = eval(p, &s);
	assert_int_equal(v.action, POLICY_ALERT);
	assert_int_equal(v.n_alerts, 1);
	assert_string_equal(v.alerts[0].event_type, "rule_alert");
	s.proto = "Amazon";	/* so does the master part */
	assert_int_equal(eval(p, &s).action, POLICY_ALERT);
	s.proto = "QUIC";
	s.category = "Streaming";
	assert_int_equal(eval(p, &s).action, POLICY_ALLOW);
	s.category = NULL;
	s.proto = "DNS";
	s.dport = 53;
	s.l4 = IPPROTO_UDP;
	assert_int_equal(eval(p, &s).action, POLICY_ALLOW);
	s.l4 = IPPROTO_TCP;
	assert_int_equal(eval(p, &s).action, POLICY_DENY);
	s.proto = NULL;	/* "Unknown" */
	s.dport = 5005;
	assert_int_equal(eval(p, &s).action, POLICY_ALLOW);
	s.dport = 5011;
	assert_int_equal(eval(p, &s).action, POLICY_DENY);
	policy_free(p);
}

/* ---- IN vs OUT, LAN to LAN ----------------------------------------------- */

static void test_in_vs_out(void **state)
{
	struct policy *p = load("lan: [10.0.0.0/8]\n"
				"devices:\n"
				"  server:\n"
				"    ip: 10.0.0.1\n"
				"    in: [{proto: HTTP, from: lan}, {proto: SSH, from: admin}]\n"
				"  client:\n"
				"    ip: 10.0.0.2\n"
				"    out: [HTTP, SSH]\n"
				"  admin:\n"
				"    ip: 10.0.0.3\n"
				"    out: [any]\n");
	struct flow_spec s = { "10.0.0.2", NULL, NULL, "10.0.0.1", NULL, 0, 80, 0, "HTTP", NULL,
			       NULL, 0 };
	struct policy_verdict v;

	(void)state;
	v = eval(p, &s);
	assert_int_equal(v.action, POLICY_ALLOW);
	/* Ties go to the initiator's OUT rule. */
	assert_int_equal(policy_rule_direction(v.rule), POLICY_OUT);
	/* The server's IN rule does not let it initiate HTTP. */
	s.from = "10.0.0.1";
	s.to = "10.0.0.2";
	v = eval(p, &s);
	assert_int_equal(v.action, POLICY_DENY);
	assert_true(has_alert(&v, "service_not_allowed_out"));
	assert_true(has_alert(&v, "service_not_allowed_in"));
	/* OUT allows SSH, IN only from admin: the strictest wins. */
	s.from = "10.0.0.2";
	s.to = "10.0.0.1";
	s.proto = "SSH";
	s.dport = 22;
	v = eval(p, &s);
	assert_int_equal(v.action, POLICY_DENY);
	assert_ptr_equal(v.alerts[0].device, v.responder_dev);
	s.from = "10.0.0.3";
	v = eval(p, &s);
	assert_int_equal(v.action, POLICY_ALLOW);
	/* From the Internet, only the IN side counts. */
	s.from = "198.51.100.1";
	s.proto = "HTTP";
	v = eval(p, &s);
	assert_null(v.initiator_dev);
	assert_int_equal(v.action, POLICY_DENY);	/* HTTP only from lan */
	/* Between two remote hosts there is nothing to check. */
	s.to = "198.51.100.2";
	v = eval(p, &s);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_null(v.initiator_dev);
	assert_null(v.responder_dev);
	assert_null(v.rule);
	assert_int_equal(v.n_alerts, 0);
	policy_free(p);
}

static void test_remote_keywords(void **state)
{
	struct policy *p = load("lan: [10.0.0.0/8]\n"
				"defaults: {unknown_device: allow}\n"
				"devices:\n"
				"  d:\n"
				"    ip: 10.0.0.1\n"
				"    out:\n"
				"      - {proto: HTTP, to: wan, action: alert}\n"
				"      - {proto: HTTP, to: lan}\n"
				"      - {proto: SSDP, to: lan}\n"
				"      - {proto: DNS, to: [192.0.2.0/24, '2001:db8::/32']}\n");
	struct flow_spec s = { "10.0.0.1", NULL, NULL, "203.0.113.1", NULL, 0, 80, 0, "HTTP",
			       NULL, NULL, 0 };

	(void)state;
	assert_int_equal(eval(p, &s).action, POLICY_ALERT);
	s.to = "10.0.0.99";	/* an undeclared LAN address is "lan" */
	assert_int_equal(eval(p, &s).action, POLICY_ALLOW);
	s.proto = "SSDP";
	s.to = "239.255.255.250";	/* and so is a multicast group */
	assert_int_equal(eval(p, &s).action, POLICY_ALLOW);
	s.proto = "DNS";
	s.to = "192.0.2.53";
	assert_int_equal(eval(p, &s).action, POLICY_ALLOW);
	s.to = "2001:db8::53";
	s.from = "10.0.0.1";
	assert_int_equal(eval(p, &s).action, POLICY_ALLOW);
	s.to = "192.0.3.53";
	assert_int_equal(eval(p, &s).action, POLICY_DENY);
	policy_free(p);
}

/* ---- modes ------------------------------------------------------------------ */

static void test_modes(void **state)
{
	struct policy *p = load("lan: [10.0.0.0/24]\n"
				"profiles:\n"
				"  base:\n"
				"    mode: monitor\n"
				"    out: [DNS, {proto: Telnet, action: deny}]\n"
				"devices:\n"
				"  learner:  {ip: 10.0.0.1, profile: base, mode: learn}\n"
				"  watcher:  {ip: 10.0.0.2, profile: base}\n"
				"  enforcer: {ip: 10.0.0.3, profile: base, mode: enforce,\n"
				"             out: [{proto: Telnet, to: 10.9.9.9}]}\n");
	struct flow_spec s = { "10.0.0.1", NULL, NULL, "203.0.113.1", NULL, 0, 23, 0, "Telnet",
			       NULL, NULL, 0 };
	struct policy_verdict v;

	(void)state;
	v = eval(p, &s);
	assert_int_equal(policy_device_mode(v.initiator_dev), POLICY_MODE_LEARN);
	assert_int_equal(v.action, POLICY_ALLOW);	/* learn: record, never block */
	assert_int_equal(v.rule_action, POLICY_DENY);	/* ...but say what would happen */
	assert_int_equal(v.n_alerts, 0);		/* ...and never alert */
	assert_non_null(v.rule);

	s.from = "10.0.0.2";
	v = eval(p, &s);
	assert_int_equal(policy_device_mode(v.initiator_dev), POLICY_MODE_MONITOR);
	assert_int_equal(v.action, POLICY_ALERT);
	assert_int_equal(v.rule_action, POLICY_DENY);
	assert_int_equal(v.n_alerts, 1);

	s.from = "10.0.0.3";
	v = eval(p, &s);
	assert_int_equal(policy_device_mode(v.initiator_dev), POLICY_MODE_ENFORCE);
	assert_int_equal(v.action, POLICY_DENY);
	assert_non_null(strstr(v.reason, "profile base"));
	/* The device's own rule comes before its profile's: it overrides. */
	s.to = "10.9.9.9";
	v = eval(p, &s);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_non_null(strstr(v.reason, "device enforcer"));
	assert_int_equal(policy_device_rule_count(v.initiator_dev, POLICY_OUT), 3);
	assert_ptr_equal(policy_device_rule_at(v.initiator_dev, POLICY_OUT, 0), v.rule);
	assert_string_equal(policy_rule_label(v.rule), "Telnet to 10.9.9.9");
	assert_null(policy_device_rule_at(v.initiator_dev, POLICY_OUT, 3));
	policy_free(p);
}

/* ---- defaults ---------------------------------------------------------------- */

static void test_defaults_no_default_profile(void **state)
{
	struct policy *p = load("devices:\n  d: {ip: 192.168.0.1, out: [any]}\n");
	struct flow_spec s = { "172.16.5.5", "02:00:00:00:00:05", NULL, "203.0.113.1", NULL, 0,
			       443, 0, "TLS", NULL, NULL, 0 };
	uint8_t fe80[16] = { 0xfe, 0x80 }, fd[16] = { 0xfd }, pub[16] = { 0x20, 0x01 };
	struct policy_verdict v;

	(void)state;
	/* Built-in defaults. */
	assert_int_equal(policy_inspect_packets(p), 8);
	assert_int_equal(policy_alert_rearm_ms(p), 300000);
	assert_int_equal(policy_unknown_action(p), POLICY_ALERT);
	assert_true(policy_is_lan(p, AF_INET6, fe80));
	assert_true(policy_is_lan(p, AF_INET6, fd));
	assert_false(policy_is_lan(p, AF_INET6, pub));
	/* RFC 1918 is LAN by default, so 172.16.5.5 is an unknown device; with
	 * no `default` profile only unknown_device decides. */
	v = eval(p, &s);
	assert_true(policy_device_is_unknown(v.initiator_dev));
	assert_int_equal(v.action, POLICY_ALERT);
	assert_int_equal(v.n_alerts, 1);
	assert_string_equal(v.alerts[0].event_type, "unknown_device");
	assert_string_equal(v.reason, "unknown device (unknown_device: alert)");
	assert_string_equal(policy_device_profile(policy_unknown_device(p)), "default");
	policy_free(p);
}

static void test_defaults_declared(void **state)
{
	struct policy *p = load("defaults:\n"
				"  unknown_device: quarantine\n"
				"  inspect_packets: 12\n"
				"  alert_rearm: 1h30m\n"
				"profiles:\n"
				"  default:\n"
				"    out: [DHCP, DNS]\n");
	struct flow_spec s = { "192.168.7.7", NULL, NULL, "192.168.0.1", NULL, 0, 53, 0, "DNS",
			       NULL, NULL, 0 };
	struct policy_verdict v;

	(void)state;
	assert_int_equal(policy_inspect_packets(p), 12);
	assert_int_equal(policy_alert_rearm_ms(p), 5400000);
	assert_int_equal(policy_unknown_action(p), POLICY_QUARANTINE);
	/* Both sides are unknown LAN endpoints. */
	v = eval(p, &s);
	assert_int_equal(v.action, POLICY_QUARANTINE);
	assert_true(policy_device_is_unknown(v.responder_dev));
	assert_int_equal(v.n_alerts, 3);	/* both unknown, and the responder has no IN rule */
	/* Declared default profile: unmatched traffic is denied (enforce). */
	s.to = "203.0.113.1";
	s.proto = "TLS";
	v = eval(p, &s);
	assert_int_equal(v.action, POLICY_QUARANTINE);
	assert_true(has_alert(&v, "service_not_allowed_out"));
	policy_free(p);
}

static void test_unknown_capped_by_mode(void **state)
{
	struct policy *p = load("defaults: {unknown_device: deny}\n"
				"profiles:\n"
				"  default: {mode: monitor, out: [any]}\n");
	struct flow_spec s = { "10.1.1.1", NULL, NULL, "203.0.113.1", NULL, 0, 53, 0, "DNS",
			       NULL, NULL, 0 };
	struct policy_verdict v;

	(void)state;
	v = eval(p, &s);
	assert_int_equal(v.rule_action, POLICY_DENY);
	assert_int_equal(v.action, POLICY_ALERT);
	policy_free(p);
}

/* ---- lookups, limits, null vocabulary, errors ---------------------------- */

static void test_lookup_and_limits(void **state)
{
	struct policy *p = load("profiles:\n"
				"  pr:\n"
				"    limits: {up_per_hour: 1MB, up_per_day: 10MiB, max_endpoints: 5}\n"
				"devices:\n"
				"  d:\n"
				"    mac: 0200.0000.00aa\n"
				"    ip: 192.168.3.3\n"
				"    profile: pr\n"
				"    limits: {up_per_hour: 2MB, new_flow_rate: 5/s}\n");
	struct policy_endpoint e;
	const struct policy_device *d;
	const struct policy_limits *lim;
	uint8_t mac[6];

	(void)state;
	endpoint(&e, "192.168.3.3", 0, NULL, NULL);
	d = policy_lookup_device(p, &e, 0);
	assert_string_equal(NAME(d), "d");
	assert_string_equal(policy_device_profile(d), "pr");
	assert_true(policy_device_mac(d, mac));
	assert_int_equal(mac[5], 0xaa);
	lim = policy_device_limits(d);
	assert_int_equal(lim->up_per_hour, 2000000);
	assert_int_equal(lim->up_per_day, 10 * 1024 * 1024);
	assert_int_equal(lim->max_endpoints, 5);
	assert_int_equal(lim->new_flows, 5);
	assert_int_equal(lim->new_flows_window_ms, 1000);
	endpoint(&e, "8.8.8.8", 0, NULL, NULL);
	assert_null(policy_lookup_device(p, &e, 0));
	endpoint(&e, "239.1.1.1", 0, NULL, NULL);
	assert_null(policy_lookup_device(p, &e, 0));
	endpoint(&e, "192.168.3.4", 0, NULL, NULL);
	assert_true(policy_device_is_unknown(policy_lookup_device(p, &e, 0)));
	policy_free(p);
}

static void test_null_vocab(void **state)
{
	static const char y[] = "devices:\n  d: {ip: 10.0.0.1, out: [MadeUpProto.Thing]}\n";
	struct policy_diag *d = NULL;
	struct policy *p;

	(void)state;
	p = policy_load_buffer("t", y, strlen(y), NULL, &d);
	assert_non_null(p);
	assert_int_equal(policy_diag_total(d), 0);
	policy_diag_free(d);
	policy_free(p);
	p = policy_load_buffer("t", y, strlen(y), &ndpi42_vocab, NULL);
	assert_null(p);
	assert_int_equal(errno, EINVAL);
}

static void test_diag(void **state)
{
	static const char y[] = "devices:\n"
				"  d:\n"
				"    ip: 10.0.0.1\n"
				"    moed: learn\n"
				"    out: [TSL]\n";
	struct policy_diag *d = NULL;
	struct policy_diag_msg m;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_null(policy_load_buffer("x.yaml", y, strlen(y), &ndpi42_vocab, &d));
	assert_int_equal(policy_diag_count(d, POLICY_ERROR), 2);
	assert_int_equal(policy_diag_count(d, POLICY_WARNING), 0);
	assert_int_equal(policy_diag_total(d), 2);
	assert_int_equal(policy_diag_get(d, 0, &m), 0);
	assert_int_equal(m.line, 4);
	assert_int_equal(m.col, 5);
	assert_string_equal(m.file, "x.yaml");
	assert_int_equal(policy_diag_get(d, 2, &m), -ERANGE);
	f = open_memstream(&buf, &len);
	policy_diag_print(d, f);
	fclose(f);
	assert_string_equal(buf,
			    "x.yaml:4:5: error: unknown key 'moed' in device 'd' (did you mean 'mode'?)\n"
			    "      moed: learn\n"
			    "      ^~~~\n"
			    "x.yaml:5:11: error: unknown protocol 'TSL' (did you mean 'TLS'?)\n"
			    "      out: [TSL]\n"
			    "            ^~~\n");
	free(buf);
	policy_diag_free(d);
	policy_diag_free(NULL);
	policy_free(NULL);
}

static void test_load_missing_file(void **state)
{
	struct policy_diag *d = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_null(policy_load("/nonexistent/p.yaml", &ndpi42_vocab, &d));
	assert_int_equal(errno, ENOENT);
	f = open_memstream(&buf, &len);
	policy_diag_print(d, f);
	fclose(f);
	assert_string_equal(buf, "/nonexistent/p.yaml: error: cannot read: No such file or directory\n");
	free(buf);
	policy_diag_free(d);
}

static void test_examples_load(void **state)
{
	static const char *const files[] = { "docs/examples/home.yaml", "docs/examples/office.yaml",
					     "docs/examples/lab.yaml" };

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct policy_diag *d = NULL;
		struct policy *p = policy_load(files[i], &ndpi42_vocab, &d);

		if (!p || policy_diag_total(d))
			policy_diag_print(d, stderr);
		assert_non_null(p);
		assert_int_equal(policy_diag_total(d), 0);	/* not even a warning */
		policy_diag_free(d);
		policy_free(p);
	}
}

/* deny_with: the device's own, else its profile's, else defaults; a
 * verdict carries the setting of the device whose rules decided. */
static void test_deny_with(void **state)
{
	static const char y[] =
		"defaults: {deny_with: reject}\n"
		"profiles:\n"
		"  quiet: {deny_with: drop, out: [{proto: DNS}]}\n"
		"devices:\n"
		"  cam: {ip: 10.0.0.10, profile: quiet}\n"
		"  plug: {ip: 10.0.0.11, profile: quiet, deny_with: reject}\n"
		"  nas: {ip: 10.0.0.12, in: [{proto: SMBv23}], out: [any]}\n"
		"  tv: {ip: 10.0.0.13, out: [any]}\n";
	struct policy *p = load(y);
	struct policy_verdict v;

	(void)state;
	/* profile overrides defaults */
	v = eval(p, &(struct flow_spec){ .from = "10.0.0.10", .to = "198.51.100.1",
					 .dport = 80, .proto = "HTTP" });
	assert_int_equal(v.action, POLICY_DENY);
	assert_int_equal(v.deny_with, POLICY_DENY_DROP);
	/* the device overrides its profile */
	v = eval(p, &(struct flow_spec){ .from = "10.0.0.11", .to = "198.51.100.1",
					 .dport = 80, .proto = "HTTP" });
	assert_int_equal(v.deny_with, POLICY_DENY_REJECT);
	/* tv -> nas is denied by nas's IN rules: nas's setting (defaults) */
	v = eval(p, &(struct flow_spec){ .from = "10.0.0.13", .to = "10.0.0.12",
					 .dport = 80, .proto = "HTTP" });
	assert_int_equal(v.action, POLICY_DENY);
	assert_string_equal(NAME(v.responder_dev), "nas");
	assert_int_equal(v.deny_with, POLICY_DENY_REJECT);
	/* cam -> nas: both refuse; cam's OUT rules come first among equals */
	v = eval(p, &(struct flow_spec){ .from = "10.0.0.10", .to = "10.0.0.12",
					 .dport = 80, .proto = "HTTP" });
	assert_int_equal(v.action, POLICY_DENY);
	assert_int_equal(v.deny_with, POLICY_DENY_DROP);
	policy_free(p);
}

/* trusted, and what the daemon hands the kernel for it: the device's
 * addresses, the LAN prefixes in order (the defaults without `lan:`). */
static void test_trusted_getters(void **state)
{
	static const char y[] =
		"lan: [192.168.1.0/24, fd00:1::/64]\n"
		"devices:\n"
		"  laptop: {mac: '02:00:00:00:00:50', ip: [192.168.1.50, fd00:1::50], out: [any], trusted: true}\n"
		"  cam: {ip: 192.168.1.10, out: [DNS]}\n"
		"  phone: {mac: '02:00:00:00:00:51', ip: 192.168.1.51, out: [any], trusted: observed}\n";
	static const char y2[] = "devices:\n  cam: {ip: 10.0.0.10}\n";
	struct policy *p = load(y), *p2;
	uint8_t a[16];
	unsigned len;
	int fam;

	(void)state;
	assert_true(policy_device_trusted(policy_device_at(p, 0)));
	assert_false(policy_device_observed(policy_device_at(p, 0)));
	assert_false(policy_device_trusted(policy_device_at(p, 1)));
	assert_false(policy_device_observed(policy_device_at(p, 1)));
	/* observed is trusted, and more */
	assert_true(policy_device_trusted(policy_device_at(p, 2)));
	assert_true(policy_device_observed(policy_device_at(p, 2)));
	assert_false(policy_device_trusted(policy_unknown_device(p)));
	assert_true(policy_device_prefix_at(policy_device_at(p, 0), 1, &fam, a, &len));
	assert_int_equal(fam, AF_INET6);
	assert_int_equal(len, 128);
	assert_int_equal(a[15], 0x50);
	assert_false(policy_device_prefix_at(policy_device_at(p, 0), 2, &fam, a, &len));
	assert_true(policy_lan_at(p, 0, &fam, a, &len));
	assert_int_equal(fam, AF_INET);
	assert_int_equal(len, 24);
	assert_int_equal(a[2], 1);
	assert_true(policy_lan_at(p, 1, &fam, a, &len));
	assert_int_equal(fam, AF_INET6);
	assert_false(policy_lan_at(p, 2, &fam, a, &len));
	policy_free(p);
	/* without lan: the six defaults, 10.0.0.0/8 first */
	p2 = load(y2);
	assert_true(policy_lan_at(p2, 5, &fam, a, &len));
	assert_false(policy_lan_at(p2, 6, &fam, a, &len));
	assert_true(policy_lan_at(p2, 0, &fam, a, &len));
	assert_int_equal(a[0], 10);
	assert_int_equal(len, 8);
	policy_free(p2);
}

/* Which flows can be decided before classification: only those whose first
 * possibly-matching rule matches whatever the protocol. */
static void test_needs_classification(void **state)
{
	static const char y[] =
		"devices:\n"
		"  laptop: {ip: 10.0.0.50, out: [any]}\n"
		"  cam:\n"
		"    ip: 10.0.0.10\n"
		"    out:\n"
		"      - {ports: 123/udp, to: 192.0.2.1}\n"
		"      - {proto: TLS, to: '*.cloud.example'}\n"
		"      - {ports: 22/tcp, action: deny}\n"
		"  plug:\n"
		"    ip: 10.0.0.11\n"
		"    out:\n"
		"      - {to: '*.plug.example'}\n"
		"  learner: {ip: 10.0.0.12, mode: learn, out: [any]}\n";
	struct policy *p = load(y);

	(void)state;
	/* any: settled whatever it is */
	assert_false(policy_needs_classification(p, mkflow(&(struct flow_spec){
		.from = "10.0.0.50", .to = "198.51.100.1", .dport = 5201 })));
	/* a port+address rule matches first: settled */
	assert_false(policy_needs_classification(p, mkflow(&(struct flow_spec){
		.from = "10.0.0.10", .to = "192.0.2.1", .dport = 123,
		.l4 = IPPROTO_UDP })));
	/* the TLS rule may match: the protocol decides */
	assert_true(policy_needs_classification(p, mkflow(&(struct flow_spec){
		.from = "10.0.0.10", .to = "198.51.100.1", .dport = 443 })));
	/* port 22: the TLS rule comes first and depends on the protocol */
	assert_true(policy_needs_classification(p, mkflow(&(struct flow_spec){
		.from = "10.0.0.10", .to = "198.51.100.1", .dport = 22 })));
	/* a host rule depends on the name, though it names no protocol */
	assert_true(policy_needs_classification(p, mkflow(&(struct flow_spec){
		.from = "10.0.0.11", .to = "198.51.100.1", .dport = 80 })));
	/* learn mode always wants to know */
	assert_true(policy_needs_classification(p, mkflow(&(struct flow_spec){
		.from = "10.0.0.12", .to = "198.51.100.1", .dport = 80 })));
	/* no LAN device on either side: nothing to judge */
	assert_false(policy_needs_classification(p, mkflow(&(struct flow_spec){
		.from = "198.51.100.2", .to = "198.51.100.1", .dport = 80 })));
	assert_true(policy_needs_classification(NULL, NULL));
	policy_free(p);
}


/* Learn mode set at run time: the rules still say what they would do, the
 * flow passes, and a trusted device loses its kernel fast path. */
static void test_set_learn(void **state)
{
	static const char y[] =
		"lan: [10.0.0.0/24]\n"
		"devices:\n"
		"  laptop: {mac: '02:00:00:00:00:50', ip: 10.0.0.50, out: [any], trusted: true}\n"
		"  cam: {ip: 10.0.0.10, out: [DNS]}\n"
		"  phone: {mac: '02:00:00:00:00:51', ip: 10.0.0.51, out: [any], trusted: observed}\n";
	const struct flow_spec http = { .from = "10.0.0.10", .to = "198.51.100.1",
					.dport = 80, .proto = "HTTP" };
	struct policy *p = load(y);
	struct policy_verdict v;

	(void)state;
	assert_int_equal(policy_evaluate(p, mkflow(&http), &v), 0);
	assert_int_equal(v.action, POLICY_DENY);
	assert_int_equal(policy_set_learn(p, "nobody"), -ENOENT);
	assert_int_equal(policy_set_learn(NULL, NULL), -EINVAL);
	assert_int_equal(policy_set_learn(p, "cam"), 0);
	assert_int_equal(policy_device_mode(policy_device_by_name(p, "cam")), POLICY_MODE_LEARN);
	assert_int_equal(policy_evaluate(p, mkflow(&http), &v), 0);
	assert_int_equal(v.action, POLICY_ALLOW);
	assert_int_equal(v.rule_action, POLICY_DENY);
	assert_int_equal(v.n_alerts, 0);
	/* only the named one */
	assert_true(policy_device_trusted(policy_device_by_name(p, "laptop")));
	assert_int_equal(policy_device_mode(policy_unknown_device(p)), POLICY_MODE_ENFORCE);
	assert_int_equal(policy_set_learn(p, NULL), 0);
	assert_false(policy_device_trusted(policy_device_by_name(p, "laptop")));
	assert_false(policy_device_trusted(policy_device_by_name(p, "phone")));
	assert_false(policy_device_observed(policy_device_by_name(p, "phone")));
	assert_int_equal(policy_device_mode(policy_device_by_name(p, "unknown")), POLICY_MODE_LEARN);
	assert_ptr_equal(policy_device_by_name(p, "unknown"), policy_unknown_device(p));
	assert_null(policy_device_by_name(p, "nobody"));
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest home_tests[] = {
		cmocka_unit_test(test_home_camera_tls_cloud),
		cmocka_unit_test(test_home_camera_c2_denied),
		cmocka_unit_test(test_home_camera_dns_to_router),
		cmocka_unit_test(test_home_rtsp_only_to_nvr),
		cmocka_unit_test(test_home_plug_mqtt),
		cmocka_unit_test(test_home_printer),
		cmocka_unit_test(test_home_unknown_device),
		cmocka_unit_test(test_home_laptop_monitor),
		cmocka_unit_test(test_home_globals),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_protocols),
		cmocka_unit_test(test_in_vs_out),
		cmocka_unit_test(test_remote_keywords),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_defaults_no_default_profile),
		cmocka_unit_test(test_defaults_declared),
		cmocka_unit_test(test_unknown_capped_by_mode),
		cmocka_unit_test(test_lookup_and_limits),
		cmocka_unit_test(test_null_vocab),
		cmocka_unit_test(test_diag),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_examples_load),
		cmocka_unit_test(test_needs_classification),
		cmocka_unit_test(test_deny_with),
		cmocka_unit_test(test_trusted_getters),
		cmocka_unit_test(test_set_learn),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("policy_home", home_tests, home_setup, home_teardown);
	failed += cmocka_run_group_tests_name("policy", tests, NULL, NULL);
	return failed ? 1 : 0;
}
