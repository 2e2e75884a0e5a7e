/*
 * Unit tests of the policy language's notations (policy/value.h) and of the
 * "did you mean" suggestions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/value.h"

static void test_durations(void **state)
{
	static const struct {
		const char *in;
		uint64_t ms;
	} ok[] = {
		{ "250ms", 250 }, { "90s", 90000 }, { "5m", 300000 }, { "1h30m", 5400000 },
		{ "2d", 172800000 }, { "1m30s", 90000 }, { "0s", 0 }, { "5M", 300000 },
	};
	static const char *const bad[] = { "", "5", "5 s", "1.5s", "s", "5x", "-5s", "5s3",
					   "99999999999999999999d" };
	uint64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_null(value_duration(ok[i].in, &ms));
		assert_int_equal(ms, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_non_null(value_duration(bad[i], &ms));
}

static void test_sizes(void **state)
{
	static const struct {
		const char *in;
		uint64_t bytes;
	} ok[] = {
		{ "512B", 512 }, { "50kB", 50000 }, { "50KB", 50000 }, { "50MB", 50000000 },
		{ "2GB", 2000000000ULL }, { "1TB", 1000000000000ULL }, { "64KiB", 65536 },
		{ "50MiB", 50ULL << 20 }, { "1GiB", 1ULL << 30 }, { "1 MB", 1000000 },
		{ "50mb", 50000000 },
	};
	static const char *const bad[] = { "50", "1.5GB", "50 megabytes", "MB", "50XB",
					   "99999999999TB" };
	uint64_t b;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_null(value_size(ok[i].in, &b));
		assert_int_equal(b, ok[i].bytes);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_non_null(value_size(bad[i], &b));
}

static void test_rates(void **state)
{
	uint32_t n, w;

	(void)state;
	assert_null(value_rate("30/min", &n, &w));
	assert_int_equal(n, 30);
	assert_int_equal(w, 60000);
	assert_null(value_rate("5/s", &n, &w));
	assert_int_equal(w, 1000);
	assert_null(value_rate("100/h", &n, &w));
	assert_int_equal(w, 3600000);
	assert_non_null(value_rate("0/min", &n, &w));
	assert_non_null(value_rate("30", &n, &w));
	assert_non_null(value_rate("30/fortnight", &n, &w));
}

static void test_macs(void **state)
{
	static const uint8_t want[6] = { 0x02, 0x00, 0x00, 0xab, 0xcd, 0x10 };
	uint8_t m[6];

	(void)state;
	assert_null(value_mac("02:00:00:ab:cd:10", m));
	assert_memory_equal(m, want, 6);
	assert_null(value_mac("02-00-00-AB-CD-10", m));
	assert_memory_equal(m, want, 6);
	assert_null(value_mac("0200.00ab.cd10", m));
	assert_memory_equal(m, want, 6);
	assert_non_null(value_mac("02:00:00:ab:cd", m));
	assert_non_null(value_mac("02:00-00:ab:cd:10", m));	/* mixed separators */
	assert_non_null(value_mac("02:00:00:ab:cd:1g", m));
	assert_non_null(value_mac("0200.00ab.cd1", m));
}

static void test_prefixes(void **state)
{
	struct value_prefix p, q;
	char buf[64];

	(void)state;
	assert_null(value_prefix("192.168.1.10", &p));
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 32);
	assert_null(value_prefix("192.168.1.0/24", &q));
	assert_true(value_prefix_contains(&q, &p));
	assert_false(value_prefix_contains(&p, &q));
	value_prefix_format(&q, buf, sizeof(buf));
	assert_string_equal(buf, "192.168.1.0/24");
	value_prefix_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "192.168.1.10");
	assert_null(value_prefix("fd00:1::/64", &p));
	assert_int_equal(p.family, AF_INET6);
	assert_null(value_prefix("0.0.0.0/0", &p));
	assert_null(value_prefix("::/0", &p));
	assert_null(value_prefix("10.1.2.2/31", &p));
	assert_non_null(value_prefix("10.1.2.3/31", &p));

	/* Host bits: fails, but hands back the masked prefix for a suggestion. */
	assert_string_equal(value_prefix("192.168.1.10/29", &p), "host bits set");
	value_prefix_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "192.168.1.8/29");
	assert_non_null(value_prefix("192.168.1.256", &p));
	assert_non_null(value_prefix("192.168.1", &p));
	assert_non_null(value_prefix("192.168.01.1", &p));
	assert_non_null(value_prefix("10.0.0.0/33", &p));
	assert_non_null(value_prefix("10.0.0.0/", &p));
	assert_non_null(value_prefix("10.0.0.0/+8", &p));
	assert_non_null(value_prefix("fd00::1::2", &p));
	assert_non_null(value_prefix("fd00::/129", &p));
	assert_non_null(value_prefix("", &p));
	assert_non_null(value_prefix("/8", &p));
}

static void test_ports(void **state)
{
	struct value_ports p;

	(void)state;
	assert_null(value_ports("554", &p));
	assert_int_equal(p.lo, 554);
	assert_int_equal(p.hi, 554);
	assert_int_equal(p.l4, 0);
	assert_null(value_ports("554/tcp", &p));
	assert_int_equal(p.l4, IPPROTO_TCP);
	assert_null(value_ports("8000-8080/UDP", &p));
	assert_int_equal(p.lo, 8000);
	assert_int_equal(p.hi, 8080);
	assert_int_equal(p.l4, IPPROTO_UDP);
	assert_null(value_ports("1-65535", &p));
	assert_non_null(value_ports("0", &p));
	assert_non_null(value_ports("65536", &p));
	assert_non_null(value_ports("80-20", &p));
	assert_non_null(value_ports("53/sctp", &p));
	assert_non_null(value_ports("http", &p));
	assert_non_null(value_ports("80-", &p));
	assert_non_null(value_ports("", &p));
}

static void test_hosts(void **state)
{
	char out[256];

	(void)state;
	assert_null(value_host_pattern("Vendor-Cloud.Example.", out, sizeof(out)));
	assert_string_equal(out, "vendor-cloud.example");
	assert_null(value_host_pattern("*.vendor-cloud.example", out, sizeof(out)));
	assert_string_equal(out, "*.vendor-cloud.example");
	assert_non_null(value_host_pattern("vendor.*.example", out, sizeof(out)));
	assert_non_null(value_host_pattern("*vendor.example", out, sizeof(out)));
	assert_non_null(value_host_pattern("*.", out, sizeof(out)));
	assert_non_null(value_host_pattern("a..b", out, sizeof(out)));
	assert_non_null(value_host_pattern(".a", out, sizeof(out)));
	assert_non_null(value_host_pattern("a b.example", out, sizeof(out)));
	assert_non_null(value_host_pattern("", out, sizeof(out)));
}

static void test_names(void **state)
{
	(void)state;
	assert_null(value_name("cam-front_2"));
	assert_non_null(value_name("-cam"));
	assert_non_null(value_name("cam front"));
	assert_non_null(value_name("cam.front"));
	assert_non_null(value_name(""));
	assert_null(value_ifname("br-lan.10"));
	assert_non_null(value_ifname("eth/1"));
	assert_non_null(value_ifname("a-very-long-ifname"));
	assert_non_null(value_ifname(".."));
}

static void test_suggest(void **state)
{
	static const char *const words[] = { "TLS", "DNS", "MQTT", "Google", "ip-camera",
					     "ip-camera-2", NULL, "smart-plug" };
	const size_t n = sizeof(words) / sizeof(words[0]);

	(void)state;
	assert_string_equal(value_suggest("TSL", words, n), "TLS");	/* a swap is one edit */
	assert_string_equal(value_suggest("tls", words, n), "TLS");
	assert_string_equal(value_suggest("MQQT", words, n), "MQTT");
	assert_string_equal(value_suggest("Gogle", words, n), "Google");
	assert_string_equal(value_suggest("ip-camra", words, n), "ip-camera");
	assert_string_equal(value_suggest("smart", words, n), "smart-plug");	/* a prefix */
	assert_null(value_suggest("ip-cam", words, n));	/* prefix of two: ambiguous */
	assert_null(value_suggest("XYZ", words, n));
	assert_null(value_suggest("", words, n));
	assert_null(value_suggest("a-word-much-longer-than-anything-here-to-be-a-typo-of-it",
				  words, n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations), cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_rates),	  cmocka_unit_test(test_macs),
		cmocka_unit_test(test_prefixes),  cmocka_unit_test(test_ports),
		cmocka_unit_test(test_hosts),	  cmocka_unit_test(test_names),
		cmocka_unit_test(test_suggest),
	};

	return cmocka_run_group_tests_name("policy_value", tests, NULL, NULL);
}
