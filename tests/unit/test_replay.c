/* test_replay.c - replay of the project's generated captures: the
 * classifier names what each scenario contains, the flow log format holds
 * (fields, order, JSON escaping), output is deterministic, and damaged or
 * missing captures are reported.  Captures come from $B/gen (make unit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/replay.h"

static char *gen_path(const char *scenario)
{
	static char path[256];
	const char *b = getenv("B");

	snprintf(path, sizeof(path), "%s/gen/%s.pcap", b ? b : "build",
		 scenario);
	return path;
}

struct run {
	char *flows, *summary;
	size_t flows_len, summary_len;
	int rc;
};

static void replay(struct run *r, const char *scenario, unsigned inspect)
{
	struct replay_opts o;
	char *files[1] = { gen_path(scenario) };

	memset(&o, 0, sizeof(o));
	memset(r, 0, sizeof(*r));
	pipeline_config_default(&o.pipeline);
	if (inspect)
		o.pipeline.inspect_packets = inspect;
	o.flows_json = open_memstream(&r->flows, &r->flows_len);
	o.summary = open_memstream(&r->summary, &r->summary_len);
	assert_non_null(o.flows_json);
	r->rc = replay_run(&o, files, 1);
	fclose(o.flows_json);
	fclose(o.summary);
}

static void run_free(struct run *r)
{
	free(r->flows);
	free(r->summary);
}

/* The line of the flow to DST_IP:DST_PORT, or fail. */
static const char *flow_to(const struct run *r, const char *dst_ip,
			   unsigned dst_port)
{
	char needle[128];
	const char *p;

	snprintf(needle, sizeof(needle), "\"dst_ip\":\"%s\",\"dst_port\":%u,",
		 dst_ip, dst_port);
	p = strstr(r->flows, needle);
	if (!p)
		fail_msg("no flow to %s:%u in:\n%s", dst_ip, dst_port, r->flows);
	while (p > r->flows && p[-1] != '\n')
		p--;
	return p;
}

static void expect(const struct run *r, const char *dst_ip, unsigned port,
		   const char *proto, const char *host)
{
	const char *line = flow_to(r, dst_ip, port), *eol = strchr(line, '\n');
	char want[160];
	size_t n = (size_t)(eol - line);
	char *copy = strndup(line, n);

	snprintf(want, sizeof(want), "\"app_proto\":\"%s\",", proto);
	if (!strstr(copy, want))
		fail_msg("flow to %s:%u: want %s in %s", dst_ip, port, want,
			 copy);
	if (host) {
		snprintf(want, sizeof(want), "\"host\":\"%s\",", host);
		if (!strstr(copy, want))
			fail_msg("flow to %s:%u: want %s in %s", dst_ip, port,
				 want, copy);
	}
	free(copy);
}

static void test_home_classified(void **state)
{
	struct run r;

	(void)state;
	replay(&r, "home", 0);
	assert_int_equal(r.rc, 0);
	expect(&r, "192.168.1.1", 53, "DNS", "cam.vendor-cloud.example");
	expect(&r, "203.0.113.123", 123, "NTP", NULL);
	expect(&r, "198.51.100.20", 443, "TLS", "cam.vendor-cloud.example");
	expect(&r, "192.168.1.10", 554, "RTSP", NULL);
	expect(&r, "198.51.100.30", 1883, "MQTT", NULL);
	expect(&r, "239.255.255.250", 1900, "SSDP", NULL);
	expect(&r, "203.0.113.80", 80, "HTTP", "www.example.com");
	expect(&r, "2001:db8::443", 443, "TLS", "www.example.org");
	expect(&r, "fd00:1::1", 53, "DNS", "www.example.org");
	expect(&r, "203.0.113.99", 80, "HTTP", "c2.unknown.example");
	assert_non_null(strstr(r.summary, "19 flows"));
	assert_non_null(strstr(r.summary, "100.0% classified"));
	run_free(&r);
}

static void test_link_variants(void **state)
{
	static const char *const scen[] = { "sll", "sll2", "raw" };
	struct run r;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		replay(&r, scen[i], 0);
		assert_int_equal(r.rc, 0);
		expect(&r, "203.0.113.80", 80, "HTTP", "www.example.com");
		expect(&r, "2001:db8::443", 443, "TLS", "www.example.org");
		/* Cooked captures carry the sender's MAC; raw IP has none. */
		if (i < 2)
			assert_non_null(strstr(r.flows,
				"\"src_mac\":\"02:00:00:00:00:50\""));
		else
			assert_null(strstr(r.flows, "\"src_mac\":\"0"));
		run_free(&r);
	}
}

static void test_vlan(void **state)
{
	struct run r;

	(void)state;
	replay(&r, "vlan", 0);
	assert_non_null(strstr(flow_to(&r, "203.0.113.80", 80), "\"vlan\":10,"));
	/* QinQ: the inner (customer) tag identifies the flow. */
	assert_non_null(strstr(flow_to(&r, "198.51.100.20", 443),
			       "\"vlan\":20,"));
	run_free(&r);
}

static void test_malformed_survives(void **state)
{
	struct run r;

	(void)state;
	replay(&r, "malformed", 0);
	assert_int_equal(r.rc, 0);
	/* The good flows between broken frames are all there. */
	expect(&r, "203.0.113.80", 80, "HTTP", "www.example.com");
	expect(&r, "203.0.113.123", 123, "NTP", NULL);
	assert_null(strstr(r.summary, " 0 malformed"));
	assert_null(strstr(r.summary, "(0 not IP"));
	run_free(&r);
}

static void test_format_and_determinism(void **state)
{
	static const char *const keys[] = {
		"src_ip", "src_port", "dst_ip", "dst_port", "ip_proto",
		"src_mac", "vlan", "app_proto", "category", "host", "packets",
		"bytes", "inspected_packets", "verdict", "decided_by",
	};
	struct run a, b;
	const char *line, *p, *prev;
	size_t i, lines = 0;

	(void)state;
	replay(&a, "home", 0);
	replay(&b, "home", 0);
	assert_int_equal(a.flows_len, b.flows_len);
	assert_memory_equal(a.flows, b.flows, a.flows_len);
	for (line = a.flows; *line; line = strchr(line, '\n') + 1) {
		assert_true(line[0] == '{');
		assert_non_null(strchr(line, '\n'));
		assert_true(strchr(line, '\n')[-1] == '}');
		prev = line;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			char k[32];

			snprintf(k, sizeof(k), "\"%s\":", keys[i]);
			p = strstr(line, k);
			assert_non_null(p);
			assert_true(p < strchr(line, '\n'));
			assert_true(p >= prev);	/* documented order */
			prev = p;
		}
		lines++;
	}
	assert_int_equal(lines, 19);
	run_free(&a);
	run_free(&b);
}

static void test_inspect_budget_respected(void **state)
{
	struct run r;
	const char *p;

	(void)state;
	replay(&r, "home", 2);
	for (p = r.flows; (p = strstr(p, "\"inspected_packets\":")); p++)
		assert_true(p[20] == '0' || p[20] == '1' || p[20] == '2');
	assert_non_null(strstr(r.flows, "\"decided_by\":\"limit\""));
	run_free(&r);
}

static void test_missing_capture(void **state)
{
	struct replay_opts o;
	char *files[1] = { "/nonexistent/iotjail.pcap" };
	char *sum = NULL;
	size_t len = 0;

	(void)state;
	memset(&o, 0, sizeof(o));
	pipeline_config_default(&o.pipeline);
	o.summary = open_memstream(&sum, &len);
	assert_int_equal(replay_run(&o, files, 1), 1);
	fclose(o.summary);
	assert_non_null(strstr(sum, "/nonexistent/iotjail.pcap"));
	free(sum);
}

static void test_truncated_capture(void **state)
{
	struct replay_opts o;
	char path[] = "/tmp/iotjail-trunc-XXXXXX", *files[1] = { path };
	char *sum = NULL, *data;
	size_t len = 0, n;
	FILE *in;
	int fd, rc;

	(void)state;
	/* The home capture cut in the middle of a record. */
	in = fopen(gen_path("home"), "rb");
	assert_non_null(in);
	data = malloc(1 << 20);
	n = fread(data, 1, 1 << 20, in);
	fclose(in);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n / 2), (ssize_t)(n / 2));
	close(fd);
	free(data);
	memset(&o, 0, sizeof(o));
	pipeline_config_default(&o.pipeline);
	o.summary = open_memstream(&sum, &len);
	rc = replay_run(&o, files, 1);
	unlink(path);	/* before any assertion can end the test */
	fclose(o.summary);
	assert_int_equal(rc, 1);
	/* The readable part was replayed and the damage was said. */
	assert_non_null(strstr(sum, "truncated"));
	assert_null(strstr(sum, " 0 flows"));
	free(sum);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_home_classified),
		cmocka_unit_test(test_link_variants),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_malformed_survives),
		cmocka_unit_test(test_format_and_determinism),
		cmocka_unit_test(test_inspect_budget_respected),
		cmocka_unit_test(test_missing_capture),
		cmocka_unit_test(test_truncated_capture),
	};

	return cmocka_run_group_tests_name("replay", tests, NULL, NULL);
}
