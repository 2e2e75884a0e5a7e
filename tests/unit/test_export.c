/* test_export.c - the pure pieces of a learnt policy (daemon/export.h):
 * YAML quoting read back by the project's own YAML reader, host names and
 * their wildcards checked against the policy's matcher, prefixes, profile
 * grouping and names, report intervals. */
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

#include "daemon/export.h"
#include "policy/arena.h"
#include "policy/diag.h"
#include "policy/policy.h"
#include "policy/yaml.h"

/* ---- YAML ------------------------------------------------------------------ */

/* What the YAML reader makes of DOC: the value of its key "k", or of the
 * I-th item of the list that is "k"'s value (I >= 0). */
static char *read_back(const char *doc, int i)
{
	struct arena *a = arena_new();
	struct policy_diag *d = diag_new("t.yaml");
	struct ynode *root, *v;
	char *s;

	assert_non_null(a);
	assert_non_null(d);
	root = yaml_parse_tree(a, doc, strlen(doc), d);
	if (!root || policy_diag_count(d, POLICY_ERROR)) {
		policy_diag_print(d, stderr);
		fail_msg("not YAML: %s", doc);
	}
	assert_int_equal(root->kind, YNODE_MAP);
	assert_int_equal(root->n, 1);
	v = root->items[1];
	if (i >= 0) {
		assert_int_equal(v->kind, YNODE_SEQ);
		assert_true((size_t)i < v->n);
		v = v->items[i];
	}
	assert_int_equal(v->kind, YNODE_SCALAR);
	/* a plain null would be "nothing", not the string */
	assert_false(v->plain && ynode_is_null(v));
	s = strdup(v->str);
	arena_free(a);
	policy_diag_free(d);
	return s;
}

static char *written(void (*put)(FILE *, const char *), const char *prefix, const char *s,
		     const char *suffix)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	fputs(prefix, m);
	put(m, s);
	fputs(suffix, m);
	assert_int_equal(fclose(m), 0);
	return buf;
}

static void test_scalars(void **state)
{
	static const char *const strs[] = {
		"*.vendor-cloud.example", "plain", "TLS.Google", "Sina(Weibo)", "Z39.50",
		"1883/tcp", "8000-8080/udp", "fd00:1::10", "::1", "02:00:00:00:00:10",
		"a b", "a#b", "a # b", "x:", "a: b", "-x", "- x", "?x", "[x]", "{y}", "a,b",
		"yes", "No", "TRUE", "off", "null", "~", "", "&anchor", "*alias", "!tag",
		"%percent", "@at", "`tick", "'single'", "\"double\"", "back\\slash",
		"tab\there", "line\nbreak", "|", ">", "  lead", "trail  ",
		"User custom category 1",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		char *doc, *back, *p;

		/* block context */
		doc = written(export_scalar, "k: ", strs[i], "\n");
		for (p = doc; *p; p++)
			assert_true((unsigned char)*p >= 0x20 || *p == '\n');
		back = read_back(doc, -1);
		assert_string_equal(back, strs[i]);
		free(back);
		free(doc);
		/* flow context, between two items */
		doc = written(export_scalar, "k: [a, ", strs[i], ", b]\n");
		back = read_back(doc, 1);
		assert_string_equal(back, strs[i]);
		free(back);
		free(doc);
	}
	/* plain where it can be, quoted where it must be */
	assert_true(export_plain_ok("TLS.Google"));
	assert_true(export_plain_ok("fd00:1::10"));
	assert_false(export_plain_ok("*.example.com"));
	assert_false(export_plain_ok("yes"));
	assert_false(export_plain_ok(""));
	assert_false(export_plain_ok("x:"));
}

static void test_scalar_bytes(void **state)
{
	char *doc, *back, *p;

	(void)state;
	/* any byte: the output stays ASCII and readable; non-ASCII bytes read
	 * back as the code points U+0080..U+00FF (as documented) */
	doc = written(export_scalar, "k: ", "K\xc3\xbc" "che\x01\x7f", "\n");
	for (p = doc; *p; p++)
		assert_true(*p == '\n' || (*p >= 0x20 && *p < 0x7f));
	assert_string_equal(doc, "k: \"K\\xc3\\xbcche\\x01\\x7f\"\n");
	back = read_back(doc, -1);
	assert_string_equal(back, "K\xc3\x83\xc2\xbc" "che\x01\x7f");
	free(back);
	free(doc);
}

static void test_comments(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(m);
	export_comment(m, 4, "seen %s", "evil\nk: v\r\x1b[31m");
	assert_int_equal(fclose(m), 0);
	assert_string_equal(buf, "    # seen evil?k: v??[31m\n");
	free(buf);
}

/* ---- host names ---------------------------------------------------------- */

/* Does the policy, with PATTERNS as an out rule's `to`, allow a flow whose
 * host is HOST?  (The loader's and the matcher's view, not ours.) */
static bool policy_allows(const char *const *patterns, size_t n, const char *host)
{
	char *doc = NULL;
	size_t len = 0, i;
	FILE *m = open_memstream(&doc, &len);
	struct policy_diag *d = NULL;
	struct policy *p;
	struct policy_flow f;
	struct policy_verdict v;

	assert_non_null(m);
	fputs("lan: [10.0.0.0/8]\ndevices:\n  d:\n    ip: 10.0.0.1\n    out:\n"
	      "      - proto: TLS\n        to: [", m);
	for (i = 0; i < n; i++) {
		fputs(i ? ", " : "", m);
		export_scalar(m, patterns[i]);
	}
	fputs("]\n", m);
	assert_int_equal(fclose(m), 0);
	p = policy_load_buffer("t.yaml", doc, len, NULL, &d);
	if (!p || policy_diag_count(d, POLICY_WARNING)) {
		policy_diag_print(d, stderr);
		fail_msg("not a policy:\n%s", doc);
	}
	memset(&f, 0, sizeof(f));
	f.initiator.family = f.responder.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", f.initiator.addr);
	inet_pton(AF_INET, "198.51.100.1", f.responder.addr);
	f.responder.port = 443;
	f.ip_proto = 6;
	f.master_proto = "TLS";
	f.host = host;
	assert_int_equal(policy_evaluate(p, &f, &v), 0);
	policy_free(p);
	policy_diag_free(d);
	free(doc);
	return v.action == POLICY_ALLOW;
}

static void test_host_ok(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "Cam.Vendor-Cloud.Example.", "cam.vendor-cloud.example" },
		{ "_dns.resolver.arpa", "_dns.resolver.arpa" },
		{ "xn--bcher-kva.example", "xn--bcher-kva.example" },
		{ "a-.b", "a-.b" },
		{ "1.2.3.example", "1.2.3.example" },
	};
	static const char *const bad[] = {
		"", ".", "localhost", "203.0.113.7", "192.168.1.50:8080", "[2001:db8::1]",
		"2001:db8::1", "a..b", ".a.b", "a.123", "exa mple.com", "ex*ample.com",
		"*.example.com", "caf\xc3\xa9.example", "evil\n.example",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
	};
	char out[EXPORT_HOST_MAX], longname[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const char *pat = out;

		assert_true(export_host_ok(ok[i].in, out));
		assert_string_equal(out, ok[i].out);
		/* the loader takes it as a host name that matches the flow's */
		assert_true(policy_allows(&pat, 1, ok[i].in));
		assert_false(policy_allows(&pat, 1, "other.example"));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(export_host_ok(bad[i], out));
	/* 253 characters is a name, 254 is not */
	memset(longname, 'a', sizeof(longname));
	for (i = 60; i < 253; i += 61)
		longname[i] = '.';
	longname[253] = '\0';
	assert_true(export_host_ok(longname, out));
	longname[253] = 'a';
	longname[254] = '\0';
	assert_false(export_host_ok(longname, out));
}

static void check_names(const char *const *in, size_t n, size_t max,
			const char *const *want, size_t n_want)
{
	struct export_strv out;
	size_t i;

	assert_int_equal(export_names(in, n, max, &out), 0);
	for (i = 0; i < out.n && i < n_want; i++)
		assert_string_equal(out.v[i], want[i]);
	assert_int_equal(out.n, n_want);
	/* every name is still allowed, and by the policy's own matcher */
	for (i = 0; i < n; i++)
		assert_true(policy_allows((const char *const *)out.v, out.n, in[i]));
	export_strv_free(&out);
}

#define N(a) (a), sizeof(a) / sizeof((a)[0])

static void test_names(void **state)
{
	static const char *const cam[] = {
		"eu1.camcloud.example", "eu2.camcloud.example", "api.camcloud.example",
		"eu1.camcloud.example",
	};
	static const char *const cam_w[] = { "*.camcloud.example" };
	static const char *const hub[] = {
		"push.hubvendor.example", "hubvendor.example", "api.hubvendor.example",
	};
	static const char *const hub_w[] = { "*.hubvendor.example", "hubvendor.example" };
	/* never above a registrable domain */
	static const char *const tld[] = { "a.example", "b.example" };
	static const char *const uk[] = { "x.co.uk", "y.co.uk" };
	static const char *const uk2[] = { "a.b.co.uk", "c.b.co.uk" };
	static const char *const uk2_w[] = { "*.b.co.uk" };
	/* the nearest parent; a name a wildcard covers goes */
	static const char *const deep[] = {
		"x.eu.v.example", "y.eu.v.example", "z.us.v.example",
	};
	static const char *const deep_w[] = { "*.eu.v.example", "z.us.v.example" };
	static const char *const cover[] = { "a.v.example", "b.v.example", "c.d.v.example" };
	static const char *const cover_w[] = { "*.v.example" };
	static const char *const one[] = { "only.example" };
	char many[20][32];
	const char *manyp[20];
	static const char *const many_w[] = { "*.big.example" };
	size_t i;

	(void)state;
	check_names(N(cam), 16, N(cam_w));
	check_names(N(hub), 16, N(hub_w));
	check_names(N(tld), 16, N(tld));
	check_names(N(uk), 16, N(uk));
	check_names(N(uk2), 16, N(uk2_w));
	check_names(N(deep), 16, N(deep_w));
	check_names(N(cover), 16, N(cover_w));
	check_names(N(one), 16, N(one));
	check_names(NULL, 0, 16, NULL, 0);
	/* twenty names under twenty parents of one domain: past MAX, the
	 * registrable domain */
	for (i = 0; i < 20; i++) {
		snprintf(many[i], sizeof(many[i]), "h.p%zu.big.example", i);
		manyp[i] = many[i];
	}
	check_names(manyp, 20, 16, N(many_w));
}

/* ---- addresses ------------------------------------------------------------- */

static struct export_addr A(const char *s)
{
	struct export_addr a;

	memset(&a, 0, sizeof(a));
	a.family = strchr(s, ':') ? AF_INET6 : AF_INET;
	a.len = a.family == AF_INET ? 32 : 128;
	assert_int_equal(inet_pton(a.family, s, a.addr), 1);
	return a;
}

static void test_prefixes(void **state)
{
	struct export_addr in[7], out[7];
	const char *want[] = { "198.51.100.0/24", "203.0.113.5", "2001:db8::/64",
			       "2001:db8:0:1::1" };
	char buf[64];
	size_t n, i;

	(void)state;
	in[0] = A("2001:db8::2");
	in[1] = A("198.51.100.21");
	in[2] = A("203.0.113.5");
	in[3] = A("198.51.100.20");
	in[4] = A("2001:db8:0:1::1");
	in[5] = A("198.51.100.22");
	in[6] = A("2001:db8::1");
	n = export_prefixes(in, 7, out);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		export_addr_str(&out[i], buf, sizeof(buf));
		assert_string_equal(buf, want[i]);
	}
	assert_int_equal(export_prefixes(in, 0, out), 0);

	assert_true(export_addr_is_group(AF_INET, A("239.255.255.250").addr));
	assert_true(export_addr_is_group(AF_INET, A("224.0.0.251").addr));
	assert_true(export_addr_is_group(AF_INET, A("255.255.255.255").addr));
	assert_false(export_addr_is_group(AF_INET, A("192.168.1.255").addr));
	assert_true(export_addr_is_group(AF_INET6, A("ff02::fb").addr));
	assert_false(export_addr_is_group(AF_INET6, A("fe80::1").addr));
}

/* ---- devices and profiles ----------------------------------------------- */

/* Is NAME a device name the loader takes? */
static bool valid_device_name(const char *name)
{
	char doc[256];
	struct policy_diag *d = NULL;
	struct policy *p;
	bool ok;

	snprintf(doc, sizeof(doc), "devices:\n  %s: {ip: 10.0.0.1}\n", name);
	p = policy_load_buffer("t.yaml", doc, strlen(doc), NULL, &d);
	ok = p && !policy_diag_count(d, POLICY_WARNING) &&
	     policy_device_by_name(p, name);
	policy_free(p);
	policy_diag_free(d);
	return ok;
}

static void test_device_names(void **state)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0xab };
	struct export_addr a;
	char buf[64];

	(void)state;
	export_device_name(mac, 0, NULL, buf, sizeof(buf));
	assert_string_equal(buf, "dev-02-00-00-00-00-ab");
	assert_true(valid_device_name(buf));
	a = A("192.168.1.7");
	export_device_name(NULL, AF_INET, a.addr, buf, sizeof(buf));
	assert_string_equal(buf, "dev-192-168-1-7");
	assert_true(valid_device_name(buf));
	a = A("fd00:1::10");
	export_device_name(NULL, AF_INET6, a.addr, buf, sizeof(buf));
	assert_string_equal(buf, "dev-fd00-1--10");
	assert_true(valid_device_name(buf));
	a = A("fd00:1111:2222:3333:4444:5555:6666:7777");
	export_device_name(NULL, AF_INET6, a.addr, buf, sizeof(buf));
	assert_true(valid_device_name(buf));
}

static void test_groups(void **state)
{
	static const char *const keys[] = { "a", "b", "a", "c", "b", "a" };
	static const size_t want[] = { 0, 1, 0, 3, 1, 0 };
	static const char *const plugs[] = { "plug-1", "plug-2", "plug-10" };
	static const char *const cams[] = { "cam-front", "cam-back" };
	static const char *const one[] = { "plug-1" };
	static const char *const apart[] = { "a1", "b1" };
	static const char *const devs[] = { "dev-02-00-00-00-00-10", "dev-02-00-00-00-00-11" };
	static const char *const vendor[] = { "dev-4c-5e-0c-56-47-4f", "dev-4c-5e-0c-ea-03-88" };
	char big[2][64], buf[64];
	const char *bigp[2] = { big[0], big[1] };
	size_t group[6], i;

	(void)state;
	export_group(keys, 6, group);
	for (i = 0; i < 6; i++)
		assert_int_equal(group[i], want[i]);
	export_profile_name(plugs, 3, buf, sizeof(buf));
	assert_string_equal(buf, "plug");
	export_profile_name(cams, 2, buf, sizeof(buf));
	assert_string_equal(buf, "cam");
	export_profile_name(one, 1, buf, sizeof(buf));
	assert_string_equal(buf, "plug-1");
	export_profile_name(apart, 2, buf, sizeof(buf));
	assert_string_equal(buf, "a1-like");
	export_profile_name(devs, 2, buf, sizeof(buf));
	assert_string_equal(buf, "dev-02-00-00-00-00-10-like");
	export_profile_name(vendor, 2, buf, sizeof(buf));
	assert_string_equal(buf, "dev-4c-5e-0c");
	/* the longest names still give a valid name */
	memset(big, 'x', sizeof(big));
	big[0][63] = big[1][63] = '\0';
	big[1][0] = 'y';
	export_profile_name(bigp, 2, buf, sizeof(buf));
	assert_true(valid_device_name(buf));
}

/* ---- report intervals ------------------------------------------------------ */

static void test_intervals(void **state)
{
	static const double steady[] = { 300, 300.5, 299.5, 300, 301 };
	struct export_interval a = { 0 }, b = { 0 }, all = { 0 }, iv = { 0 };
	unsigned every, tol;
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		export_interval_add(&all, steady[i]);
		export_interval_add(i < 2 ? &a : &b, steady[i]);
	}
	assert_true(export_interval_suggest(&all, &every, &tol));
	assert_int_equal(every, 300);
	assert_int_equal(tol, 31);	/* a tenth of 300.2 s: more than what was seen */
	/* merged halves are the whole */
	export_interval_merge(&a, &b);
	assert_int_equal(a.n, all.n);
	assert_true(a.mean - all.mean < 1e-9 && all.mean - a.mean < 1e-9);
	assert_true(a.m2 - all.m2 < 1e-6 && all.m2 - a.m2 < 1e-6);
	assert_true(a.min == 299.5 && a.max == 301);
	/* too few, too irregular, too frequent: nothing */
	export_interval_add(&iv, 60);
	export_interval_add(&iv, 60);
	assert_false(export_interval_suggest(&iv, &every, &tol));
	export_interval_add(&iv, 600);
	assert_false(export_interval_suggest(&iv, &every, &tol));
	memset(&iv, 0, sizeof(iv));
	for (i = 0; i < 10; i++)
		export_interval_add(&iv, 5);
	assert_false(export_interval_suggest(&iv, &every, &tol));
	/* a tolerance always below every, and the suggestion loads */
	memset(&iv, 0, sizeof(iv));
	for (i = 0; i < 10; i++)
		export_interval_add(&iv, i % 2 ? 10 : 12);
	assert_true(export_interval_suggest(&iv, &every, &tol));
	assert_int_equal(every, 11);
	assert_true(tol >= 2 && tol < every);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_scalar_bytes),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_host_ok),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_device_names),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_intervals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
