/* test_ctacct.c - conntrack accounting: the /proc/net/nf_conntrack parser
 * and the per-flow delta tracker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/ctacct.h"
#include "daemon/flow.h"
#include "daemon/packet.h"
#include "tests/unit/pktbuild.h"

/* --- helpers --------------------------------------------------------------- */

/* Parses S from an exactly sized heap copy, so that ASan catches any read
 * past the end (there is no terminator to stop at). */
static int parse_n(const char *s, size_t n, struct ctacct_line *l)
{
	char *copy = malloc(n ? n : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, s, n);
	r = ctacct_parse_line(copy, n, l);
	free(copy);
	return r;
}

static int parse(const char *s, struct ctacct_line *l)
{
	return parse_n(s, strlen(s), l);
}

static void assert_addr(const uint8_t got[16], int family, const char *want)
{
	uint8_t a[16] = { 0 };

	assert_int_equal(inet_pton(family, want, a), 1);
	assert_memory_equal(got, a, 16);
}

static void assert_tuple(const struct ctacct_tuple *t, int family,
			 const char *src, const char *dst, uint16_t sport,
			 uint16_t dport)
{
	assert_addr(t->src, family, src);
	assert_addr(t->dst, family, dst);
	assert_int_equal(t->sport, sport);
	assert_int_equal(t->dport, dport);
}

/* The key the daemon builds for a packet SRC:SPORT -> DST:DPORT; *SIDE the
 * side of SRC. */
static void mkkey(struct flow_key *k, int family, uint8_t proto,
		  const char *src, const char *dst, uint16_t sport,
		  uint16_t dport, int *side)
{
	struct packet p;
	int s;

	memset(&p, 0, sizeof(p));
	p.family = (uint8_t)family;
	p.ip_proto = proto;
	assert_int_equal(inet_pton(family, src, p.src), 1);
	assert_int_equal(inet_pton(family, dst, p.dst), 1);
	p.sport = sport;
	p.dport = dport;
	s = flow_key_from_packet(k, &p);
	if (side)
		*side = s;
}

/* A line without NAT: ORIG_SRC:SPORT -> ORIG_DST:DPORT, L4 NAME and
 * NUMBER, WHAT the timeout and state words. */
static int ct_line(char *buf, size_t cap, const char *name, unsigned num,
		   const char *what, const char *src, const char *dst,
		   unsigned sport, unsigned dport, uint64_t p0, uint64_t b0,
		   uint64_t p1, uint64_t b1)
{
	return snprintf(buf, cap,
			"ipv4     2 %-8s %u %s src=%s dst=%s "
			"sport=%u dport=%u packets=%llu bytes=%llu src=%s "
			"dst=%s sport=%u dport=%u packets=%llu bytes=%llu "
			"[ASSURED] mark=0 zone=0 use=2\n",
			name, num, what, src, dst, sport, dport,
			(unsigned long long)p0, (unsigned long long)b0, dst,
			src, dport, sport, (unsigned long long)p1,
			(unsigned long long)b1);
}

static int tcp_line(char *buf, size_t cap, const char *src, const char *dst,
		    unsigned sport, unsigned dport, uint64_t p0, uint64_t b0,
		    uint64_t p1, uint64_t b1)
{
	return ct_line(buf, cap, "tcp", 6, "431999 ESTABLISHED", src, dst,
		       sport, dport, p0, b0, p1, b1);
}

static int udp_line(char *buf, size_t cap, const char *src, const char *dst,
		    unsigned sport, unsigned dport, uint64_t p0, uint64_t b0,
		    uint64_t p1, uint64_t b1)
{
	return ct_line(buf, cap, "udp", 17, "177", src, dst, sport, dport, p0,
		       b0, p1, b1);
}

static int icmp_line(char *buf, size_t cap, const char *src, const char *dst,
		     unsigned id, uint64_t p0, uint64_t b0, uint64_t p1,
		     uint64_t b1)
{
	return snprintf(buf, cap,
			"ipv4     2 icmp     1 29 src=%s dst=%s type=8 code=0 "
			"id=%u packets=%llu bytes=%llu src=%s dst=%s type=0 "
			"code=0 id=%u packets=%llu bytes=%llu mark=0 zone=0 "
			"use=2\n",
			src, dst, id, (unsigned long long)p0,
			(unsigned long long)b0, dst, src, id,
			(unsigned long long)p1, (unsigned long long)b1);
}

#define MAX_SLOTS 2048

struct rec {
	uint64_t ub[MAX_SLOTS], up[MAX_SLOTS], db[MAX_SLOTS], dp[MAX_SLOTS];
	unsigned calls;
};

static void rec_credit(void *ctx, uint32_t slot, uint64_t up_bytes,
		       uint64_t up_packets, uint64_t down_bytes,
		       uint64_t down_packets)
{
	struct rec *r = ctx;

	assert_true(slot < MAX_SLOTS);
	/* Only growth is credited. */
	assert_true(up_bytes || up_packets || down_bytes || down_packets);
	r->ub[slot] += up_bytes;
	r->up[slot] += up_packets;
	r->db[slot] += down_bytes;
	r->dp[slot] += down_packets;
	r->calls++;
}

static struct rec *rec_new(void)
{
	struct rec *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	return r;
}

static void rec_clear(struct rec *r)
{
	memset(r, 0, sizeof(*r));
}

static void assert_credit(const struct rec *r, uint32_t slot, uint64_t ub,
			  uint64_t up, uint64_t db, uint64_t dp)
{
	assert_int_equal(r->ub[slot], ub);
	assert_int_equal(r->up[slot], up);
	assert_int_equal(r->db[slot], db);
	assert_int_equal(r->dp[slot], dp);
}

/* One poll over TEXT (a memory stream), credits into R. */
static int poll_text(struct ctacct *a, const char *text, struct rec *r,
		     struct ctacct_poll_stats *st)
{
	size_t n = strlen(text);
	FILE *f = n ? fmemopen((void *)text, n, "r") : fopen("/dev/null", "r");
	int ret;

	assert_non_null(f);
	ret = ctacct_poll(a, f, 1000, rec_credit, r, st);
	fclose(f);
	return ret;
}

static struct ctacct *tracker(size_t cap)
{
	struct ctacct *a = ctacct_new(cap);

	assert_non_null(a);
	return a;
}

/* --- parser ---------------------------------------------------------------- */

static const char TCP4[] =
	"ipv4     2 tcp      6 431999 ESTABLISHED src=192.168.50.10 "
	"dst=192.168.50.3 sport=40000 dport=80 packets=5 bytes=400 "
	"src=192.168.50.3 dst=192.168.50.10 sport=80 dport=40000 packets=4 "
	"bytes=3000 [ASSURED] mark=2561 zone=0 use=2";

static void test_parse_tcp4(void **state)
{
	struct ctacct_line l, l2;
	char buf[512];

	(void)state;
	assert_int_equal(parse(TCP4, &l), 0);
	assert_int_equal(l.family, AF_INET);
	assert_int_equal(l.ip_proto, 6);
	assert_tuple(&l.tuple[0], AF_INET, "192.168.50.10", "192.168.50.3",
		     40000, 80);
	assert_tuple(&l.tuple[1], AF_INET, "192.168.50.3", "192.168.50.10",
		     80, 40000);
	assert_int_equal(l.packets[0], 5);
	assert_int_equal(l.bytes[0], 400);
	assert_int_equal(l.packets[1], 4);
	assert_int_equal(l.bytes[1], 3000);
	assert_int_equal(l.mark, 2561);
	assert_int_equal(l.zone, 0);
	assert_int_equal(l.flags, CTACCT_L_ASSURED | CTACCT_L_HAS_MARK);
	/* The same with its newline, as read from the file. */
	snprintf(buf, sizeof(buf), "%s\n", TCP4);
	assert_int_equal(parse(buf, &l2), 0);
	assert_memory_equal(&l, &l2, sizeof(l));
}

static void test_parse_udp6(void **state)
{
	struct ctacct_line l, l2;

	(void)state;
	assert_int_equal(parse("ipv6     10 udp      17 25 src=fd50::10 "
			       "dst=fd50::1 sport=5353 dport=53 packets=1 "
			       "bytes=96 src=fd50::1 dst=fd50::10 sport=53 "
			       "dport=5353 packets=1 bytes=112 mark=0 use=2",
			       &l), 0);
	assert_int_equal(l.family, AF_INET6);
	assert_int_equal(l.ip_proto, 17);
	assert_tuple(&l.tuple[0], AF_INET6, "fd50::10", "fd50::1", 5353, 53);
	assert_tuple(&l.tuple[1], AF_INET6, "fd50::1", "fd50::10", 53, 5353);
	assert_int_equal(l.packets[0], 1);
	assert_int_equal(l.bytes[0], 96);
	assert_int_equal(l.packets[1], 1);
	assert_int_equal(l.bytes[1], 112);
	assert_int_equal(l.flags, CTACCT_L_HAS_MARK);
	/* What the kernel really prints: %pI6, uncompressed. */
	assert_int_equal(parse("ipv6     10 udp      17 25 "
			       "src=fd50:0000:0000:0000:0000:0000:0000:0010 "
			       "dst=fd50:0000:0000:0000:0000:0000:0000:0001 "
			       "sport=5353 dport=53 packets=1 bytes=96 "
			       "src=fd50:0000:0000:0000:0000:0000:0000:0001 "
			       "dst=fd50:0000:0000:0000:0000:0000:0000:0010 "
			       "sport=53 dport=5353 packets=1 bytes=112 "
			       "mark=0 use=2\n", &l2), 0);
	assert_memory_equal(&l, &l2, sizeof(l));
}

/* ICMP: no ports (what flow_key_from_packet() gives ICMP); the id, type and
 * code in their own fields, per tuple.  A line from a real kernel. */
static void test_parse_icmp(void **state)
{
	struct ctacct_line l;

	(void)state;
	assert_int_equal(parse("ipv4     2 icmp     1 29 src=127.0.0.1 "
			       "dst=127.0.0.2 type=8 code=0 id=7665 packets=2 "
			       "bytes=168 src=127.0.0.2 dst=127.0.0.1 type=0 "
			       "code=0 id=7665 packets=2 bytes=168 mark=0 "
			       "zone=0 use=2\n", &l), 0);
	assert_int_equal(l.ip_proto, 1);
	assert_tuple(&l.tuple[0], AF_INET, "127.0.0.1", "127.0.0.2", 0, 0);
	assert_int_equal(l.tuple[0].icmp_type, 8);
	assert_int_equal(l.tuple[0].icmp_code, 0);
	assert_int_equal(l.tuple[0].icmp_id, 7665);
	assert_int_equal(l.tuple[1].icmp_type, 0);
	assert_int_equal(l.tuple[1].icmp_id, 7665);
	assert_int_equal(l.packets[0], 2);
	assert_int_equal(l.bytes[1], 168);

	assert_int_equal(parse("ipv6     10 icmpv6   58 29 "
			       "src=0000:0000:0000:0000:0000:0000:0000:0001 "
			       "dst=fd50::2 type=128 code=0 id=7668 packets=1 "
			       "bytes=104 src=fd50::2 dst=::1 type=129 "
			       "code=0 id=7668 packets=3 bytes=312 mark=0 "
			       "zone=0 use=2\n", &l), 0);
	assert_int_equal(l.family, AF_INET6);
	assert_int_equal(l.ip_proto, 58);
	assert_tuple(&l.tuple[0], AF_INET6, "::1", "fd50::2", 0, 0);
	assert_int_equal(l.tuple[0].icmp_type, 128);
	assert_int_equal(l.tuple[1].icmp_type, 129);
	assert_int_equal(l.tuple[0].icmp_id, 7668);
	assert_int_equal(l.packets[1], 3);
	assert_int_equal(l.bytes[1], 312);
}

/* GRE (its own state words before the tuples, hex keys), a protocol the
 * kernel names "unknown" (no L4 fields), SCTP/DCCP/UDP-Lite (a state and
 * ports), and what does not fit the protocol named. */
static void test_parse_other_protocols(void **state)
{
	struct ctacct_line l;

	(void)state;
	assert_int_equal(parse("ipv4     2 gre      47 178 timeout=180, "
			       "stream_timeout=180 src=10.0.0.1 dst=10.0.0.2 "
			       "srckey=0x0 dstkey=0x1a2b packets=10 bytes=900 "
			       "src=10.0.0.2 dst=10.0.0.1 srckey=0x1a2b "
			       "dstkey=0x0 packets=8 bytes=700 [ASSURED] "
			       "mark=0 use=2", &l), 0);
	assert_int_equal(l.ip_proto, 47);
	assert_tuple(&l.tuple[0], AF_INET, "10.0.0.1", "10.0.0.2", 0, 0);
	assert_int_equal(l.tuple[0].gre_key[0], 0);
	assert_int_equal(l.tuple[0].gre_key[1], 0x1a2b);
	assert_int_equal(l.tuple[1].gre_key[0], 0x1a2b);
	assert_int_equal(l.bytes[0], 900);
	assert_int_equal(l.bytes[1], 700);

	assert_int_equal(parse("ipv4     2 unknown  47 599 src=10.0.0.1 "
			       "dst=10.0.0.2 packets=3 bytes=300 src=10.0.0.2 "
			       "dst=10.0.0.1 packets=0 bytes=0 mark=0 use=2",
			       &l), 0);
	assert_int_equal(l.ip_proto, 47);
	assert_int_equal(l.packets[0], 3);
	assert_int_equal(l.tuple[0].gre_key[1], 0);
	assert_int_equal(parse("ipv6     10 unknown  50 599 src=fd50::1 "
			       "dst=fd50::2 packets=1 bytes=100 src=fd50::2 "
			       "dst=fd50::1 packets=1 bytes=100 use=1", &l), 0);
	assert_int_equal(l.ip_proto, 50);
	assert_int_equal(l.flags, 0);	/* no mark= */

	assert_int_equal(parse("ipv4     2 sctp     132 3 ESTABLISHED "
			       "src=10.0.0.1 dst=10.0.0.2 sport=3868 "
			       "dport=3868 packets=4 bytes=400 src=10.0.0.2 "
			       "dst=10.0.0.1 sport=3868 dport=3868 packets=4 "
			       "bytes=400 [ASSURED] mark=0 use=2", &l), 0);
	assert_int_equal(l.tuple[0].sport, 3868);
	assert_int_equal(parse("ipv4     2 dccp     33 3 OPEN src=10.0.0.1 "
			       "dst=10.0.0.2 sport=1 dport=2 packets=4 "
			       "bytes=400 src=10.0.0.2 dst=10.0.0.1 sport=2 "
			       "dport=1 packets=4 bytes=400 mark=0 use=2", &l),
			 0);
	assert_int_equal(parse("ipv4     2 udplite  136 29 src=10.0.0.1 "
			       "dst=10.0.0.2 sport=1 dport=2 packets=4 "
			       "bytes=400 src=10.0.0.2 dst=10.0.0.1 sport=2 "
			       "dport=1 packets=4 bytes=400 mark=0 use=2", &l),
			 0);
	assert_int_equal(l.ip_proto, 136);

	/* The L4 fields must be the ones of the protocol named, in both
	 * tuples, and the name must match the number. */
	assert_int_equal(parse("ipv4     2 tcp      6 5 src=10.0.0.1 "
			       "dst=10.0.0.2 packets=1 bytes=1 src=10.0.0.2 "
			       "dst=10.0.0.1 packets=1 bytes=1 use=2", &l),
			 -EINVAL);
	assert_int_equal(parse("ipv4     2 tcp      6 5 src=10.0.0.1 "
			       "dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 "
			       "dst=10.0.0.1 sport=2 use=2", &l), -EINVAL);
	assert_int_equal(parse("ipv4     2 unknown  47 5 src=10.0.0.1 "
			       "dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 "
			       "dst=10.0.0.1 sport=2 dport=1 use=2", &l),
			 -EINVAL);
	assert_int_equal(parse("ipv4     2 icmp     1 5 src=10.0.0.1 "
			       "dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 "
			       "dst=10.0.0.1 sport=2 dport=1 use=2", &l),
			 -EINVAL);
	assert_int_equal(parse("ipv4     2 tcp      17 5 src=10.0.0.1 "
			       "dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 "
			       "dst=10.0.0.1 sport=2 dport=1 use=2", &l),
			 -EINVAL);
	assert_int_equal(parse("ipv4     2 foo      6 5 src=10.0.0.1 "
			       "dst=10.0.0.2 sport=1 dport=2 src=10.0.0.2 "
			       "dst=10.0.0.1 sport=2 dport=1 use=2", &l),
			 -EINVAL);
}

/* [UNREPLIED] (reply counters 0), an offloaded entry (no timeout), the
 * zone printed per direction. */
static void test_parse_flags(void **state)
{
	struct ctacct_line l;

	(void)state;
	assert_int_equal(parse("ipv4     2 udp      17 28 src=192.168.50.10 "
			       "dst=8.8.8.8 sport=40001 dport=53 packets=1 "
			       "bytes=60 [UNREPLIED] src=8.8.8.8 "
			       "dst=192.168.50.10 sport=53 dport=40001 "
			       "packets=0 bytes=0 mark=0 zone=0 use=2\n", &l),
			 0);
	assert_int_equal(l.flags, CTACCT_L_UNREPLIED | CTACCT_L_HAS_MARK);
	assert_int_equal(l.bytes[0], 60);
	assert_int_equal(l.bytes[1], 0);

	assert_int_equal(parse("ipv4     2 tcp      6 ESTABLISHED "
			       "src=192.168.50.10 dst=1.1.1.1 sport=1 dport=443 "
			       "packets=9 bytes=900 src=1.1.1.1 "
			       "dst=192.168.50.10 sport=443 dport=1 packets=9 "
			       "bytes=9000 [OFFLOAD] mark=0 zone=0 use=3\n", &l),
			 0);
	assert_int_equal(l.flags, CTACCT_L_OFFLOAD | CTACCT_L_HAS_MARK);
	assert_int_equal(parse("ipv4     2 tcp      6 src=10.0.0.1 "
			       "dst=10.0.0.2 sport=1 dport=2 packets=1 bytes=1 "
			       "src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 "
			       "packets=1 bytes=1 [HW_OFFLOAD] use=3", &l), 0);
	assert_int_equal(l.flags, CTACCT_L_OFFLOAD | CTACCT_L_HW_OFFLOAD);

	assert_int_equal(parse("ipv4     2 udp      17 28 src=10.0.0.1 "
			       "dst=10.0.0.2 sport=1 dport=2 zone-orig=7 "
			       "packets=1 bytes=1 src=10.0.0.2 dst=10.0.0.1 "
			       "sport=2 dport=1 packets=1 bytes=1 mark=0 "
			       "use=2", &l), 0);
	assert_int_equal(l.zone, 7);
	assert_int_equal(parse("ipv4     2 udp      17 28 src=10.0.0.1 "
			       "dst=10.0.0.2 sport=1 dport=2 packets=1 bytes=1 "
			       "src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 "
			       "zone-reply=65535 packets=1 bytes=1 use=2", &l),
			 0);
	assert_int_equal(l.zone, 65535);
}

/* The optional fields after the tuples in any order, known or not; the
 * fields of a tuple in any order; use= last. */
static void test_parse_any_order(void **state)
{
	static const char *const opt[] = {
		"mark=77", "secctx=system_u:object_r:unlabeled_t:s0",
		"zone=3", "delta-time=12", "labels=0x1", "[ASSURED]",
	};
	struct ctacct_line ref, l;
	char buf[1024];
	size_t n = sizeof(opt) / sizeof(opt[0]), i, j;

	(void)state;
	assert_int_equal(parse("ipv4     2 tcp      6 5 ESTABLISHED "
			       "src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 "
			       "packets=3 bytes=30 src=10.0.0.2 dst=10.0.0.1 "
			       "sport=2 dport=1 packets=4 bytes=40 [ASSURED] "
			       "mark=77 zone=3 use=2", &ref), 0);
	assert_int_equal(ref.mark, 77);
	assert_int_equal(ref.zone, 3);
	/* Every rotation and its reverse. */
	for (i = 0; i < 2 * n; i++) {
		int len = snprintf(buf, sizeof(buf),
				   "ipv4     2 tcp      6 5 ESTABLISHED "
				   "src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2 "
				   "packets=3 bytes=30 src=10.0.0.2 "
				   "dst=10.0.0.1 sport=2 dport=1 packets=4 "
				   "bytes=40");

		for (j = 0; j < n; j++) {
			size_t k = i < n ? (i + j) % n : (i - n + n - j) % n;

			len += snprintf(buf + len, sizeof(buf) - (size_t)len,
					" %s", opt[k]);
		}
		snprintf(buf + len, sizeof(buf) - (size_t)len, " use=2\n");
		assert_int_equal(parse(buf, &l), 0);
		assert_memory_equal(&l, &ref, sizeof(l));
	}
	/* Inside the tuples. */
	assert_int_equal(parse("ipv4 2 tcp 6 5 src=10.0.0.1 bytes=30 dport=2 "
			       "packets=3 sport=1 dst=10.0.0.2 src=10.0.0.2 "
			       "packets=4 dport=1 dst=10.0.0.1 bytes=40 sport=2 "
			       "mark=77 zone=3 [ASSURED] use=2", &l), 0);
	assert_memory_equal(&l, &ref, sizeof(l));
	/* use= not last: refused (a cut line cannot end anywhere else). */
	assert_int_equal(parse("ipv4     2 tcp      6 5 src=10.0.0.1 "
			       "dst=10.0.0.2 sport=1 dport=2 packets=3 bytes=30 "
			       "src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 "
			       "packets=4 bytes=40 use=2 mark=77", &l), -EINVAL);
}

/* Accounting off: the line parses, and says it has no counters. */
static void test_parse_acct_off(void **state)
{
	struct ctacct_line l;

	(void)state;
	assert_int_equal(parse("ipv4     2 tcp      6 431999 ESTABLISHED "
			       "src=192.168.50.10 dst=192.168.50.3 sport=40000 "
			       "dport=80 src=192.168.50.3 dst=192.168.50.10 "
			       "sport=80 dport=40000 [ASSURED] mark=2561 "
			       "zone=0 use=2\n", &l), -ENODATA);
	assert_int_equal(l.family, AF_INET);
	assert_tuple(&l.tuple[0], AF_INET, "192.168.50.10", "192.168.50.3",
		     40000, 80);
	assert_tuple(&l.tuple[1], AF_INET, "192.168.50.3", "192.168.50.10",
		     80, 40000);
	assert_int_equal(l.mark, 2561);
	assert_int_equal(l.packets[0] | l.packets[1] | l.bytes[0] | l.bytes[1],
			 0);
	/* Half the counters is not "off": something is wrong. */
	assert_int_equal(parse("ipv4     2 tcp      6 5 src=10.0.0.1 "
			       "dst=10.0.0.2 sport=1 dport=2 packets=3 bytes=30 "
			       "src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 "
			       "use=2", &l), -EINVAL);
	assert_int_equal(parse("ipv4     2 tcp      6 5 src=10.0.0.1 "
			       "dst=10.0.0.2 sport=1 dport=2 packets=3 "
			       "src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 "
			       "packets=4 use=2", &l), -EINVAL);
}

/* Counters beyond 32 bits, up to 2^64 - 1; one more is refused. */
static void test_parse_large_counters(void **state)
{
	struct ctacct_line l;

	(void)state;
	assert_int_equal(parse("ipv4     2 tcp      6 5 src=10.0.0.1 "
			       "dst=10.0.0.2 sport=1 dport=2 packets=4294967296 "
			       "bytes=6000000000000 src=10.0.0.2 dst=10.0.0.1 "
			       "sport=2 dport=1 packets=18446744073709551615 "
			       "bytes=18446744073709551615 use=2", &l), 0);
	assert_int_equal(l.packets[0], 4294967296ULL);
	assert_int_equal(l.bytes[0], 6000000000000ULL);
	assert_int_equal(l.packets[1], UINT64_MAX);
	assert_int_equal(l.bytes[1], UINT64_MAX);
	assert_int_equal(parse("ipv4     2 tcp      6 5 src=10.0.0.1 "
			       "dst=10.0.0.2 sport=1 dport=2 packets=1 "
			       "bytes=18446744073709551616 src=10.0.0.2 "
			       "dst=10.0.0.1 sport=2 dport=1 packets=1 "
			       "bytes=1 use=2", &l), -EINVAL);
	assert_int_equal(parse("ipv4     2 tcp      6 5 src=10.0.0.1 "
			       "dst=10.0.0.2 sport=1 dport=65536 packets=1 "
			       "bytes=1 src=10.0.0.2 dst=10.0.0.1 sport=2 "
			       "dport=1 packets=1 bytes=1 use=2", &l), -EINVAL);
}

static const char *const valid_lines[] = {
	TCP4,
	"ipv4     2 tcp      6 431999 ESTABLISHED src=192.168.50.10 "
	"dst=192.168.50.3 sport=40000 dport=80 packets=5 bytes=400 "
	"src=192.168.50.3 dst=192.168.50.10 sport=80 dport=40000 packets=4 "
	"bytes=3000 [ASSURED] mark=2561 zone=0 use=2\n",
	"ipv6     10 udp      17 25 "
	"src=fd50:0000:0000:0000:0000:0000:0000:0010 "
	"dst=fd50:0000:0000:0000:0000:0000:0000:0001 sport=5353 dport=53 "
	"packets=1 bytes=96 src=fd50:0000:0000:0000:0000:0000:0000:0001 "
	"dst=fd50:0000:0000:0000:0000:0000:0000:0010 sport=53 dport=5353 "
	"packets=1 bytes=112 mark=0 zone=0 use=2\n",
	"ipv4     2 icmp     1 29 src=127.0.0.1 dst=127.0.0.2 type=8 code=0 "
	"id=7665 packets=2 bytes=168 src=127.0.0.2 dst=127.0.0.1 type=0 "
	"code=0 id=7665 packets=2 bytes=168 mark=0 zone=0 use=2\n",
	"ipv4     2 gre      47 178 timeout=180, stream_timeout=180 "
	"src=10.0.0.1 dst=10.0.0.2 srckey=0x0 dstkey=0x1a2b packets=10 "
	"bytes=900 src=10.0.0.2 dst=10.0.0.1 srckey=0x1a2b dstkey=0x0 "
	"packets=8 bytes=700 [ASSURED] mark=0 use=2\n",
	"ipv4     2 udp      17 28 src=192.168.50.10 dst=8.8.8.8 sport=40001 "
	"dport=53 packets=1 bytes=60 [UNREPLIED] src=8.8.8.8 "
	"dst=192.168.50.10 sport=53 dport=40001 packets=0 bytes=0 mark=0 "
	"secctx=system_u:object_r:unlabeled_t:s0 zone=0 delta-time=4 "
	"use=12\n",
	"ipv4     2 tcp      6 431999 ESTABLISHED src=192.168.50.10 "
	"dst=192.168.50.3 sport=40000 dport=80 src=192.168.50.3 "
	"dst=192.168.50.10 sport=80 dport=40000 [ASSURED] mark=2561 zone=0 "
	"use=2\n",
};

/* Every prefix of a valid line, as an exactly sized buffer: refused, or
 * parsed to exactly what the whole line gives (only a cut inside use=, or
 * of the newline, can be). */
static void test_parse_truncations(void **state)
{
	struct ctacct_line full, l;
	size_t i, n, cut;
	int rf, r, ok;

	(void)state;
	for (i = 0; i < sizeof(valid_lines) / sizeof(valid_lines[0]); i++) {
		n = strlen(valid_lines[i]);
		rf = parse_n(valid_lines[i], n, &full);
		assert_true(rf == 0 || rf == -ENODATA);
		ok = 0;
		for (cut = 0; cut < n; cut++) {
			r = parse_n(valid_lines[i], cut, &l);
			if (r == -EINVAL)
				continue;
			assert_int_equal(r, rf);
			assert_memory_equal(&l, &full, sizeof(l));
			ok++;
		}
		/* "use=N" can lose its newline, and digits of a use count
		 * above 9; nothing else. */
		assert_true(ok <= 2);
	}
}

static void test_parse_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"ipv4",
		"ipv4     2 tcp      6",
		"ipv4     2 tcp      6 431999 ESTABLISHED",
		"ipv5     2 tcp      6 5 src=10.0.0.1 dst=10.0.0.2 sport=1 "
		"dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 use=2",
		"ipv4     10 tcp      6 5 src=10.0.0.1 dst=10.0.0.2 sport=1 "
		"dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 use=2",
		"ipv4     2 tcp      256 5 src=10.0.0.1 dst=10.0.0.2 sport=1 "
		"dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 use=2",
		/* an IPv6 address in an IPv4 line, and the reverse */
		"ipv4     2 tcp      6 5 src=fd50::1 dst=10.0.0.2 sport=1 "
		"dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 use=2",
		"ipv6     10 tcp      6 5 src=10.0.0.1 dst=fd50::2 sport=1 "
		"dport=2 src=fd50::2 dst=10.0.0.1 sport=2 dport=1 use=2",
		"ipv4     2 tcp      6 5 src=300.0.0.1 dst=10.0.0.2 sport=1 "
		"dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 use=2",
		"ipv4     2 tcp      6 5 src= dst=10.0.0.2 sport=1 "
		"dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 use=2",
		/* a third tuple, a field twice, a field before any tuple */
		"ipv4     2 tcp      6 5 src=10.0.0.1 dst=10.0.0.2 sport=1 "
		"dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 "
		"src=10.0.0.2 use=2",
		"ipv4     2 tcp      6 5 src=10.0.0.1 dst=10.0.0.2 dst=10.0.0.2 "
		"sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 "
		"use=2",
		"ipv4     2 tcp      6 5 src=10.0.0.1 dst=10.0.0.2 sport=1 "
		"dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 mark=1 "
		"mark=1 use=2",
		"ipv4     2 tcp      6 5 src=10.0.0.1 dst=10.0.0.2 sport=1 "
		"dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 zone=1 "
		"zone-orig=1 use=2",
		"ipv4     2 tcp      6 5 packets=1 src=10.0.0.1 dst=10.0.0.2 "
		"sport=1 dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 "
		"use=2",
		/* a word among the fields, an empty key, numbers that are
		 * not */
		"ipv4     2 tcp      6 5 src=10.0.0.1 dst=10.0.0.2 sport=1 "
		"dport=2 ESTABLISHED src=10.0.0.2 dst=10.0.0.1 sport=2 "
		"dport=1 use=2",
		"ipv4     2 tcp      6 5 src=10.0.0.1 dst=10.0.0.2 sport=1 "
		"dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 =5 use=2",
		"ipv4     2 tcp      6 5 src=10.0.0.1 dst=10.0.0.2 sport=-1 "
		"dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 use=2",
		"ipv4     2 tcp      6 5 src=10.0.0.1 dst=10.0.0.2 sport=1 "
		"dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=0x1 use=2",
		"ipv4     2 gre      47 5 src=10.0.0.1 dst=10.0.0.2 srckey=1 "
		"dstkey=0x0 src=10.0.0.2 dst=10.0.0.1 srckey=0x0 dstkey=0x0 "
		"use=2",
		"ipv4     2 gre      47 5 src=10.0.0.1 dst=10.0.0.2 "
		"srckey=0x10000 dstkey=0x0 src=10.0.0.2 dst=10.0.0.1 "
		"srckey=0x0 dstkey=0x0 use=2",
		/* no use=, a tab, two lines in one */
		"ipv4     2 tcp      6 5 src=10.0.0.1 dst=10.0.0.2 sport=1 "
		"dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 mark=0",
		"ipv4     2 tcp      6 5 src=10.0.0.1 dst=10.0.0.2 sport=1 "
		"dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1\tuse=2",
		"ipv4     2 tcp      6 5 src=10.0.0.1 dst=10.0.0.2 sport=1 "
		"dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 use=2\n\n",
		"entries  clashres found new invalid ignore delete chainlength",
	};
	struct ctacct_line l;
	char nul[256];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &l), -EINVAL);
		/* Refused lines leave nothing behind. */
		assert_int_equal(l.family, 0);
	}
	/* A NUL inside a line is not the end of it, and no control byte is
	 * taken, even in a field that is otherwise skipped. */
	n = (size_t)snprintf(nul, sizeof(nul), "%s", TCP4);
	nul[20] = '\0';
	assert_int_equal(parse_n(nul, n, &l), -EINVAL);
	n = (size_t)snprintf(nul, sizeof(nul),
			     "ipv4 2 udp 17 5 src=10.0.0.1 dst=10.0.0.2 sport=1 "
			     "dport=2 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1 "
			     "secctx=a%cb use=2", 'X');
	assert_int_equal(parse_n(nul, n, &l), -ENODATA);
	for (i = 0; i < 3; i++) {
		static const char ctl[3] = { '\0', '\n', '\t' };

		nul[n - 8] = ctl[i];
		assert_int_equal(parse_n(nul, n, &l), -EINVAL);
	}
}

/* ctacct_line_key() agrees with what the daemon builds from the packets
 * themselves (packet parser + flow_key_from_packet()), ICMP included. */
static void test_line_key_matches_packets(void **state)
{
	struct flow_key kl, kp;
	struct ctacct_line l;
	struct packet p;
	struct pb b;
	uint8_t icmp[8] = { 8, 0, 0, 0, 0x1d, 0xf1, 0, 1 };
	int side_l, side_p;

	(void)state;
	/* TCP, from the original sender (the higher address: side 1). */
	memset(&b, 0, sizeof(b));
	pb_ipv4(&b, "192.168.50.10", "192.168.50.3", 6, 20);
	pb_tcp(&b, 40000, 80, 1, 0, TCP_SYN, NULL, 0);
	memset(&p, 0, sizeof(p));
	assert_int_equal(packet_parse_link(&p, PACKET_LINK_RAW, b.b, b.len),
			 PACKET_OK);
	side_p = flow_key_from_packet(&kp, &p);
	assert_int_equal(parse(TCP4, &l), 0);
	side_l = ctacct_line_key(&l, &kl);
	assert_memory_equal(&kl, &kp, sizeof(kl));
	assert_int_equal(side_l, side_p);
	assert_int_equal(side_l, 1);

	/* ICMP echo: the id is not in the key, neither side has ports. */
	memset(&b, 0, sizeof(b));
	pb_ipv4(&b, "127.0.0.1", "127.0.0.2", 1, sizeof(icmp));
	pb_put(&b, icmp, sizeof(icmp));
	memset(&p, 0, sizeof(p));
	assert_int_equal(packet_parse_link(&p, PACKET_LINK_RAW, b.b, b.len),
			 PACKET_OK);
	side_p = flow_key_from_packet(&kp, &p);
	assert_int_equal(parse(valid_lines[3], &l), 0);
	side_l = ctacct_line_key(&l, &kl);
	assert_memory_equal(&kl, &kp, sizeof(kl));
	assert_int_equal(side_l, side_p);
	assert_int_equal(kl.port[0] | kl.port[1], 0);

	/* UDP over IPv6. */
	memset(&b, 0, sizeof(b));
	pb_ipv6(&b, "fd50::10", "fd50::1", 17, 8 + 4);
	pb_udp(&b, 5353, 53, "abcd", 4);
	memset(&p, 0, sizeof(p));
	assert_int_equal(packet_parse_link(&p, PACKET_LINK_RAW, b.b, b.len),
			 PACKET_OK);
	side_p = flow_key_from_packet(&kp, &p);
	assert_int_equal(parse(valid_lines[2], &l), 0);
	side_l = ctacct_line_key(&l, &kl);
	assert_memory_equal(&kl, &kp, sizeof(kl));
	assert_int_equal(side_l, side_p);

	/* SCTP: conntrack has ports, the daemon's key has none. */
	assert_int_equal(parse("ipv4     2 sctp     132 3 ESTABLISHED "
			       "src=10.0.0.1 dst=10.0.0.2 sport=3868 "
			       "dport=3868 packets=4 bytes=400 src=10.0.0.2 "
			       "dst=10.0.0.1 sport=3868 dport=3868 packets=4 "
			       "bytes=400 use=2", &l), 0);
	side_l = ctacct_line_key(&l, &kl);
	mkkey(&kp, AF_INET, 132, "10.0.0.1", "10.0.0.2", 0, 0, &side_p);
	assert_memory_equal(&kl, &kp, sizeof(kl));
	assert_int_equal(side_l, side_p);
}

/* With NAT the forward hook sees the original sender and the real
 * responder (the reply tuple's source). */
static void test_line_key_nat(void **state)
{
	struct flow_key kl, kp;
	struct ctacct_line l;
	int side_l, side_p;

	(void)state;
	/* Masquerade: the reply comes back to the router's WAN address. */
	assert_int_equal(parse("ipv4     2 tcp      6 100 ESTABLISHED "
			       "src=192.168.1.20 dst=93.184.216.34 "
			       "sport=50000 dport=443 packets=1 bytes=60 "
			       "src=93.184.216.34 dst=203.0.113.7 sport=443 "
			       "dport=61000 packets=1 bytes=60 use=2", &l), 0);
	side_l = ctacct_line_key(&l, &kl);
	mkkey(&kp, AF_INET, 6, "192.168.1.20", "93.184.216.34", 50000, 443,
	      &side_p);
	assert_memory_equal(&kl, &kp, sizeof(kl));
	assert_int_equal(side_l, side_p);
	/* A port forward: WAN:8080 to a LAN camera's :80. */
	assert_int_equal(parse("ipv4     2 tcp      6 100 ESTABLISHED "
			       "src=198.51.100.9 dst=203.0.113.7 sport=40000 "
			       "dport=8080 packets=1 bytes=60 "
			       "src=192.168.1.30 dst=198.51.100.9 sport=80 "
			       "dport=40000 packets=1 bytes=60 use=2", &l), 0);
	side_l = ctacct_line_key(&l, &kl);
	mkkey(&kp, AF_INET, 6, "198.51.100.9", "192.168.1.30", 40000, 80,
	      &side_p);
	assert_memory_equal(&kl, &kp, sizeof(kl));
	assert_int_equal(side_l, side_p);
}

/* --- tracker --------------------------------------------------------------- */

static void test_new_and_args(void **state)
{
	struct ctacct_stats s;
	struct ctacct *a;
	struct flow_key k;

	(void)state;
	errno = 0;
	assert_null(ctacct_new(0));
	assert_int_equal(errno, EINVAL);
	assert_null(ctacct_new((size_t)CTACCT_MAX_CAPACITY + 1));
	ctacct_free(NULL);
	a = tracker(10);
	ctacct_stats(a, &s);
	assert_int_equal(s.capacity, 10);
	assert_int_equal(s.entry_capacity, 20);
	assert_int_equal(s.flows, 0);
	assert_int_equal(ctacct_set_forget_polls(a, 0), -EINVAL);
	assert_int_equal(ctacct_set_forget_polls(a, 256), -EINVAL);
	mkkey(&k, AF_INET, 6, "10.0.0.1", "10.0.0.2", 1, 2, NULL);
	assert_int_equal(ctacct_track(a, &k, 2, 0, NULL, NULL), -EINVAL);
	k.family = 0;
	assert_int_equal(ctacct_track(a, &k, 0, 0, NULL, NULL), -EINVAL);
	mkkey(&k, AF_INET, 1, "10.0.0.1", "10.0.0.2", 1, 2, NULL);
	assert_int_equal(ctacct_track(a, &k, 0, 0, NULL, NULL), -EINVAL);
	assert_int_equal(ctacct_forget(a, &k), -ENOENT);
	ctacct_free(a);
}

/* One flow across three polls: exact deltas per direction, up = from the
 * initiator (here the original sender). */
static void test_three_polls(void **state)
{
	struct ctacct *a = tracker(16);
	struct rec *r = rec_new();
	struct ctacct_poll_stats st;
	struct ctacct_stats s;
	struct flow_key k;
	char t[512];
	int side;

	(void)state;
	mkkey(&k, AF_INET, 6, "192.168.50.10", "192.168.50.3", 40000, 80,
	      &side);
	assert_int_equal(ctacct_track(a, &k, (uint8_t)side, 7, NULL, NULL), 0);

	tcp_line(t, sizeof(t), "192.168.50.10", "192.168.50.3", 40000, 80, 5,
		 400, 4, 3000);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_credit(r, 7, 400, 5, 3000, 4);
	assert_int_equal(r->calls, 1);
	assert_int_equal(st.lines, 1);
	assert_int_equal(st.parsed, 1);
	assert_int_equal(st.matched, 1);
	assert_int_equal(st.credits, 1);

	rec_clear(r);
	tcp_line(t, sizeof(t), "192.168.50.10", "192.168.50.3", 40000, 80, 12,
		 1400, 30, 45000);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_credit(r, 7, 1000, 7, 42000, 26);

	rec_clear(r);
	/* Only the reply direction moved: a credit with up 0. */
	tcp_line(t, sizeof(t), "192.168.50.10", "192.168.50.3", 40000, 80, 12,
		 1400, 31, 46500);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_credit(r, 7, 0, 0, 1500, 1);

	rec_clear(r);
	/* Nothing moved: no credit at all. */
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(r->calls, 0);
	assert_int_equal(st.credits, 0);
	assert_int_equal(st.matched, 1);
	ctacct_stats(a, &s);
	assert_int_equal(s.flows, 1);
	assert_int_equal(s.entries, 1);
	assert_int_equal(s.polls, 4);
	assert_int_equal(s.last_poll_ms, 1000);
	ctacct_free(a);
	free(r);
}

/* What the daemon counted itself is not credited again, in the first poll
 * only; an excess is dropped, not carried into later polls. */
static void test_already_counted(void **state)
{
	struct ctacct *a = tracker(16);
	struct rec *r = rec_new();
	struct flow_key k, k2;
	uint64_t ab[2] = { 300, 1500 }, ap[2] = { 3, 2 };
	uint64_t big[2] = { 10000, 10000 };
	char t[1024];
	int side, side2, n;

	(void)state;
	mkkey(&k, AF_INET, 6, "192.168.50.10", "192.168.50.3", 40000, 80,
	      &side);
	assert_int_equal(ctacct_track(a, &k, (uint8_t)side, 1, ab, ap), 0);
	mkkey(&k2, AF_INET, 6, "192.168.50.11", "192.168.50.3", 40001, 80,
	      &side2);
	assert_int_equal(ctacct_track(a, &k2, (uint8_t)side2, 2, big, NULL),
			 0);

	n = tcp_line(t, sizeof(t), "192.168.50.10", "192.168.50.3", 40000, 80,
		     5, 400, 4, 3000);
	tcp_line(t + n, sizeof(t) - (size_t)n, "192.168.50.11",
		 "192.168.50.3", 40001, 80, 5, 400, 4, 3000);
	assert_int_equal(poll_text(a, t, r, NULL), 0);
	assert_credit(r, 1, 100, 2, 1500, 2);
	/* Bytes owed beyond what the kernel has: clamped, packets not owed:
	 * credited in full. */
	assert_credit(r, 2, 0, 5, 0, 4);

	rec_clear(r);
	n = tcp_line(t, sizeof(t), "192.168.50.10", "192.168.50.3", 40000, 80,
		     6, 500, 5, 4000);
	tcp_line(t + n, sizeof(t) - (size_t)n, "192.168.50.11",
		 "192.168.50.3", 40001, 80, 6, 500, 5, 4000);
	assert_int_equal(poll_text(a, t, r, NULL), 0);
	assert_credit(r, 1, 100, 1, 1000, 1);
	/* The 9600 + 7000 still "owed" were dropped after the first poll. */
	assert_credit(r, 2, 100, 1, 1000, 1);
	ctacct_free(a);
	free(r);
}

/* A flow picked up mid-stream: the daemon says the initiator is the side
 * conntrack has as the reply sender.  Up follows the daemon. */
static void test_midstream_orientation(void **state)
{
	struct ctacct *a = tracker(16);
	struct rec *r = rec_new();
	struct flow_key k;
	uint64_t ab[2] = { 1000, 60 }, ap[2] = { 1, 1 };
	char t[512];
	int side;

	(void)state;
	/* Conntrack: 10.0.0.1 (side 0) -> 10.0.0.2 (side 1). */
	mkkey(&k, AF_INET, 6, "10.0.0.1", "10.0.0.2", 5000, 6000, &side);
	assert_int_equal(side, 0);
	assert_int_equal(ctacct_track(a, &k, 1, 3, ab, ap), 0);
	tcp_line(t, sizeof(t), "10.0.0.1", "10.0.0.2", 5000, 6000, 10, 600,
		 20, 20000);
	assert_int_equal(poll_text(a, t, r, NULL), 0);
	/* up = side 1's traffic = conntrack's reply direction. */
	assert_credit(r, 3, 19000, 19, 540, 9);
	rec_clear(r);
	tcp_line(t, sizeof(t), "10.0.0.1", "10.0.0.2", 5000, 6000, 11, 700,
		 25, 27000);
	assert_int_equal(poll_text(a, t, r, NULL), 0);
	assert_credit(r, 3, 7000, 5, 100, 1);
	ctacct_free(a);
	free(r);
}

/* Counters going down: a new entry for the same tuple, credited fresh. */
static void test_entry_replaced(void **state)
{
	struct ctacct *a = tracker(16);
	struct rec *r = rec_new();
	struct ctacct_poll_stats st;
	struct flow_key k;
	char t[512];
	int side;

	(void)state;
	mkkey(&k, AF_INET, 17, "10.0.0.1", "10.0.0.2", 5000, 53, &side);
	assert_int_equal(ctacct_track(a, &k, (uint8_t)side, 4, NULL, NULL), 0);
	udp_line(t, sizeof(t), "10.0.0.1", "10.0.0.2", 5000, 53, 100, 10000,
		 100, 20000);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.bad_lines, 0);
	assert_credit(r, 4, 10000, 100, 20000, 100);
	rec_clear(r);
	/* One counter down is enough: all four are the new entry's. */
	udp_line(t, sizeof(t), "10.0.0.1", "10.0.0.2", 5000, 53, 200, 10500,
		 1, 50);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.replaced, 1);
	assert_credit(r, 4, 10500, 200, 50, 1);
	rec_clear(r);
	udp_line(t, sizeof(t), "10.0.0.1", "10.0.0.2", 5000, 53, 201, 10600,
		 2, 150);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.replaced, 0);
	assert_credit(r, 4, 100, 1, 100, 1);
	ctacct_free(a);
	free(r);
}

/* Missing from the table for N polls in a row: forgotten; one miss is
 * forgiven (a read of /proc is no snapshot). */
static void test_forgotten(void **state)
{
	struct ctacct *a = tracker(16);
	struct rec *r = rec_new();
	struct ctacct_poll_stats st;
	struct ctacct_stats s;
	struct flow_key k;
	char t[512];
	int side;

	(void)state;
	mkkey(&k, AF_INET, 6, "10.0.0.1", "10.0.0.2", 1, 2, &side);
	assert_int_equal(ctacct_track(a, &k, (uint8_t)side, 5, NULL, NULL), 0);
	tcp_line(t, sizeof(t), "10.0.0.1", "10.0.0.2", 1, 2, 1, 100, 1, 100);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(poll_text(a, "", r, &st), 0);	/* missed once */
	assert_int_equal(st.forgotten, 0);
	assert_int_equal(st.entries_ended, 0);
	/* Back: the miss is forgiven, and the growth over both polls is
	 * credited. */
	tcp_line(t, sizeof(t), "10.0.0.1", "10.0.0.2", 1, 2, 3, 300, 1, 100);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_credit(r, 5, 300, 3, 100, 1);
	assert_int_equal(poll_text(a, "", r, &st), 0);
	assert_int_equal(st.forgotten, 0);
	assert_int_equal(poll_text(a, "", r, &st), 0);
	assert_int_equal(st.forgotten, 1);
	assert_int_equal(st.entries_ended, 1);
	ctacct_stats(a, &s);
	assert_int_equal(s.flows, 0);
	assert_int_equal(s.entries, 0);
	assert_int_equal(s.forgotten, 1);
	/* Once forgotten, its line is nobody's. */
	rec_clear(r);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.untracked, 1);
	assert_int_equal(r->calls, 0);

	/* A flow never seen at all (denied on its first packet: its entry
	 * never made it into the table) goes the same way; with
	 * forget_polls 1, at the first poll that misses it. */
	assert_int_equal(ctacct_set_forget_polls(a, 1), 0);
	assert_int_equal(ctacct_track(a, &k, (uint8_t)side, 5, NULL, NULL), 0);
	assert_int_equal(poll_text(a, "", r, &st), 0);
	assert_int_equal(st.forgotten, 1);
	assert_int_equal(st.entries_ended, 0);
	/* forget_polls 3 */
	assert_int_equal(ctacct_set_forget_polls(a, 3), 0);
	assert_int_equal(ctacct_track(a, &k, (uint8_t)side, 5, NULL, NULL), 0);
	assert_int_equal(poll_text(a, "", r, &st), 0);
	assert_int_equal(poll_text(a, "", r, &st), 0);
	assert_int_equal(st.forgotten, 0);
	assert_int_equal(poll_text(a, "", r, &st), 0);
	assert_int_equal(st.forgotten, 1);
	ctacct_free(a);
	free(r);
}

/* Lines of flows nobody tracks, bad lines, lines without counters and
 * over-long lines: counted, nothing credited, the good line still is. */
static void test_untracked_bad_acct_off(void **state)
{
	struct ctacct *a = tracker(16);
	struct rec *r = rec_new();
	struct ctacct_poll_stats st;
	struct flow_key k, k2;
	char t[4096], *p = t, longline[CTACCT_LINE_MAX + 100];
	int side, side2;

	(void)state;
	mkkey(&k, AF_INET, 6, "10.0.0.1", "10.0.0.2", 1, 2, &side);
	assert_int_equal(ctacct_track(a, &k, (uint8_t)side, 6, NULL, NULL), 0);
	mkkey(&k2, AF_INET, 6, "192.168.50.10", "192.168.50.3", 40000, 80,
	      &side2);
	assert_int_equal(ctacct_track(a, &k2, (uint8_t)side2, 8, NULL, NULL),
			 0);
	memset(longline, 'x', sizeof(longline) - 2);
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	p += tcp_line(p, 512, "10.0.0.9", "10.0.0.2", 1, 2, 1, 100, 1, 100);
	p += sprintf(p, "garbage\n");
	p += sprintf(p, "%s", longline);
	p += tcp_line(p, 512, "10.0.0.1", "10.0.0.2", 1, 2, 2, 200, 3, 300);
	p += sprintf(p, "%s", valid_lines[6]);	/* k2, accounting off */
	p += sprintf(p, "ipv4     2 tcp      6 5 src=10.0.0.1");	/* cut */
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.lines, 6);
	assert_int_equal(st.bad_lines, 3);
	assert_int_equal(st.parsed, 3);
	assert_int_equal(st.untracked, 1);
	assert_int_equal(st.matched, 2);
	assert_int_equal(st.acct_off, 1);
	assert_int_equal(r->calls, 1);
	assert_credit(r, 6, 200, 2, 300, 3);
	/* The flow without counters is in the table: not forgotten. */
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.forgotten, 0);
	assert_int_equal(st.matched, 2);
	ctacct_free(a);
	free(r);
}

/* Full: -ENOSPC, counted; updating a tracked flow still works; room comes
 * back when a flow goes. */
static void test_capacity(void **state)
{
	struct ctacct *a = tracker(2);
	struct ctacct_stats s;
	struct flow_key k[3];
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		char src[32];

		snprintf(src, sizeof(src), "10.0.0.%d", i + 10);
		mkkey(&k[i], AF_INET, 6, src, "10.0.0.2", 1000, 80, NULL);
	}
	assert_int_equal(ctacct_track(a, &k[0], 0, 0, NULL, NULL), 0);
	assert_int_equal(ctacct_track(a, &k[1], 0, 1, NULL, NULL), 0);
	assert_int_equal(ctacct_track(a, &k[2], 0, 2, NULL, NULL), -ENOSPC);
	assert_int_equal(ctacct_track(a, &k[2], 0, 2, NULL, NULL), -ENOSPC);
	assert_int_equal(ctacct_track(a, &k[1], 0, 9, NULL, NULL), 0);
	ctacct_stats(a, &s);
	assert_int_equal(s.flows, 2);
	assert_int_equal(s.track_full, 2);
	assert_int_equal(ctacct_forget(a, &k[0]), 0);
	assert_int_equal(ctacct_forget(a, &k[0]), -ENOENT);
	assert_int_equal(ctacct_track(a, &k[2], 0, 2, NULL, NULL), 0);
	ctacct_stats(a, &s);
	assert_int_equal(s.flows, 2);
	ctacct_free(a);
}

/* Tracking a tracked key again moves it to the new slot from the next
 * poll on; forgetting it stops its credits. */
static void test_retrack_and_forget(void **state)
{
	struct ctacct *a = tracker(16);
	struct rec *r = rec_new();
	struct ctacct_poll_stats st;
	struct flow_key k;
	uint64_t ab[2] = { 50, 50 };
	char t[512];
	int side;

	(void)state;
	mkkey(&k, AF_INET, 6, "10.0.0.1", "10.0.0.2", 1, 2, &side);
	assert_int_equal(ctacct_track(a, &k, (uint8_t)side, 1, NULL, NULL), 0);
	/* Before any poll found it: the new ALREADY counts apply. */
	assert_int_equal(ctacct_track(a, &k, (uint8_t)side, 1, ab, NULL), 0);
	tcp_line(t, sizeof(t), "10.0.0.1", "10.0.0.2", 1, 2, 1, 100, 1, 100);
	assert_int_equal(poll_text(a, t, r, NULL), 0);
	assert_credit(r, 1, 50, 1, 50, 1);
	/* After: the slot changes, ALREADY is ignored. */
	assert_int_equal(ctacct_track(a, &k, (uint8_t)side, 2, ab, NULL), 0);
	tcp_line(t, sizeof(t), "10.0.0.1", "10.0.0.2", 1, 2, 2, 300, 1, 100);
	assert_int_equal(poll_text(a, t, r, NULL), 0);
	assert_credit(r, 1, 50, 1, 50, 1);
	assert_credit(r, 2, 200, 1, 0, 0);
	assert_int_equal(ctacct_forget(a, &k), 0);
	tcp_line(t, sizeof(t), "10.0.0.1", "10.0.0.2", 1, 2, 3, 400, 1, 100);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.untracked, 1);
	assert_credit(r, 2, 200, 1, 0, 0);
	ctacct_free(a);
	free(r);
}

/* Several conntrack entries for one flow key (ICMP echo sessions with
 * different ids): each keeps its own counters; one dying takes nothing
 * from the other; the daemon's counts are paid out of both. */
static void test_icmp_entries(void **state)
{
	struct ctacct *a = tracker(4);
	struct rec *r = rec_new();
	struct ctacct_poll_stats st;
	struct ctacct_stats s;
	struct flow_key k;
	uint64_t ab[2] = { 84 * 3, 84 * 3 }, ap[2] = { 3, 3 };
	char t[1024];
	int side, n;

	(void)state;
	mkkey(&k, AF_INET, 1, "192.168.50.10", "192.168.50.1", 0, 0, &side);
	assert_int_equal(ctacct_track(a, &k, (uint8_t)side, 9, ab, ap), 0);
	n = icmp_line(t, sizeof(t), "192.168.50.10", "192.168.50.1", 100, 2,
		      168, 2, 168);
	icmp_line(t + n, sizeof(t) - (size_t)n, "192.168.50.10",
		  "192.168.50.1", 101, 2, 168, 2, 168);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.matched, 2);
	/* 4 each way, 3 of which the daemon had. */
	assert_credit(r, 9, 84, 1, 84, 1);
	ctacct_stats(a, &s);
	assert_int_equal(s.entries, 2);

	rec_clear(r);
	n = icmp_line(t, sizeof(t), "192.168.50.10", "192.168.50.1", 100, 5,
		      420, 5, 420);
	icmp_line(t + n, sizeof(t) - (size_t)n, "192.168.50.10",
		  "192.168.50.1", 101, 3, 252, 3, 252);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_credit(r, 9, 336, 4, 336, 4);

	/* id 101 ends; id 100 goes on: no drop, no replacement. */
	rec_clear(r);
	icmp_line(t, sizeof(t), "192.168.50.10", "192.168.50.1", 100, 6, 504,
		  6, 504);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.replaced, 0);
	assert_credit(r, 9, 84, 1, 84, 1);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.entries_ended, 1);
	assert_int_equal(st.forgotten, 0);
	ctacct_stats(a, &s);
	assert_int_equal(s.entries, 1);
	assert_int_equal(s.flows, 1);
	/* A new id: a new entry, credited from zero. */
	rec_clear(r);
	n = icmp_line(t, sizeof(t), "192.168.50.10", "192.168.50.1", 100, 6,
		      504, 6, 504);
	icmp_line(t + n, sizeof(t) - (size_t)n, "192.168.50.10",
		  "192.168.50.1", 102, 1, 84, 1, 84);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_credit(r, 9, 84, 1, 84, 1);
	ctacct_free(a);
	free(r);
}

/* The same tuple in two conntrack zones: two entries, one flow key. */
static void test_zones(void **state)
{
	struct ctacct *a = tracker(4);
	struct rec *r = rec_new();
	struct ctacct_poll_stats st;
	struct flow_key k;
	char t[1024];
	int side, n;

	(void)state;
	mkkey(&k, AF_INET, 17, "10.0.0.1", "10.0.0.2", 1, 2, &side);
	assert_int_equal(ctacct_track(a, &k, (uint8_t)side, 1, NULL, NULL), 0);
	n = udp_line(t, sizeof(t), "10.0.0.1", "10.0.0.2", 1, 2, 1, 100, 1,
		     100);
	udp_line(t + n, sizeof(t) - (size_t)n, "10.0.0.1", "10.0.0.2", 1, 2, 5,
		 500, 5, 500);
	memcpy(strstr(t + n, "zone=0"), "zone=9", 6);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_credit(r, 1, 600, 6, 600, 6);
	/* Nothing moved: nothing credited, nothing "replaced". */
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.replaced, 0);
	assert_int_equal(st.credits, 0);
	assert_credit(r, 1, 600, 6, 600, 6);
	ctacct_free(a);
	free(r);
}

/* The entry pool is full: the line is counted, and credited in full at a
 * later poll that has room; nothing lost, nothing twice. */
static void test_entry_pool_full(void **state)
{
	struct ctacct *a = tracker(1);	/* 2 entries */
	struct rec *r = rec_new();
	struct ctacct_poll_stats st;
	struct flow_key k;
	char t[2048];
	int side, n;

	(void)state;
	mkkey(&k, AF_INET, 1, "10.0.0.1", "10.0.0.2", 0, 0, &side);
	assert_int_equal(ctacct_track(a, &k, (uint8_t)side, 1, NULL, NULL), 0);
	n = icmp_line(t, sizeof(t), "10.0.0.1", "10.0.0.2", 1, 1, 10, 1, 10);
	n += icmp_line(t + n, sizeof(t) - (size_t)n, "10.0.0.1", "10.0.0.2",
		       2, 1, 10, 1, 10);
	icmp_line(t + n, sizeof(t) - (size_t)n, "10.0.0.1", "10.0.0.2", 3, 1,
		  10, 1, 10);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.no_room, 1);
	assert_credit(r, 1, 20, 2, 20, 2);
	/* id 1 ends (2 polls), id 3 gets its place then. */
	n = icmp_line(t, sizeof(t), "10.0.0.1", "10.0.0.2", 2, 1, 10, 1, 10);
	icmp_line(t + n, sizeof(t) - (size_t)n, "10.0.0.1", "10.0.0.2", 3, 2,
		  20, 2, 20);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.no_room, 1);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.entries_ended, 1);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.no_room, 0);
	assert_credit(r, 1, 40, 4, 40, 4);
	ctacct_free(a);
	free(r);
}

/* The key's VLAN is not conntrack's business; a port forward matches by
 * the forward hook's view. */
static void test_vlan_and_dnat(void **state)
{
	struct ctacct *a = tracker(4);
	struct rec *r = rec_new();
	struct flow_key k;
	char t[512];
	int side;

	(void)state;
	mkkey(&k, AF_INET, 6, "198.51.100.9", "192.168.1.30", 40000, 80,
	      &side);
	k.vlan = 42;
	assert_int_equal(ctacct_track(a, &k, (uint8_t)side, 3, NULL, NULL), 0);
	snprintf(t, sizeof(t),
		 "ipv4     2 tcp      6 100 ESTABLISHED src=198.51.100.9 "
		 "dst=203.0.113.7 sport=40000 dport=8080 packets=3 bytes=180 "
		 "src=192.168.1.30 dst=198.51.100.9 sport=80 dport=40000 "
		 "packets=2 bytes=2000 [ASSURED] mark=0 use=2\n");
	assert_int_equal(poll_text(a, t, r, NULL), 0);
	assert_credit(r, 3, 180, 3, 2000, 2);
	k.vlan = 7;
	assert_int_equal(ctacct_forget(a, &k), 0);
	ctacct_free(a);
	free(r);
}

/* The same original tuple comes back forwarded to another LAN host (the
 * port forward changed): a new entry, credited in full to the flow of its
 * new responder, nothing more to the old one. */
static void test_responder_changed(void **state)
{
	static const char fmt[] =
		"ipv4     2 tcp      6 100 ESTABLISHED src=198.51.100.9 "
		"dst=203.0.113.7 sport=40000 dport=8080 packets=%d bytes=%d "
		"src=%s dst=198.51.100.9 sport=80 dport=40000 packets=%d "
		"bytes=%d [ASSURED] mark=0 use=2\n";
	struct ctacct *a = tracker(4);
	struct rec *r = rec_new();
	struct ctacct_poll_stats st;
	struct flow_key k1, k2;
	char t[512];
	int s1, s2;

	(void)state;
	mkkey(&k1, AF_INET, 6, "198.51.100.9", "192.168.1.30", 40000, 80, &s1);
	mkkey(&k2, AF_INET, 6, "198.51.100.9", "192.168.1.31", 40000, 80, &s2);
	assert_int_equal(ctacct_track(a, &k1, (uint8_t)s1, 1, NULL, NULL), 0);
	assert_int_equal(ctacct_track(a, &k2, (uint8_t)s2, 2, NULL, NULL), 0);
	snprintf(t, sizeof(t), fmt, 10, 1000, "192.168.1.30", 10, 5000);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_credit(r, 1, 1000, 10, 5000, 10);
	/* More traffic than the old entry had: only the responder tells. */
	snprintf(t, sizeof(t), fmt, 20, 2000, "192.168.1.31", 30, 9000);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.replaced, 1);
	assert_credit(r, 1, 1000, 10, 5000, 10);
	assert_credit(r, 2, 2000, 20, 9000, 30);
	ctacct_free(a);
	free(r);
}

/* A read error: what was read is credited, nothing is counted missing. */
struct failing {
	const char *text;
	size_t len, pos;
};

static ssize_t failing_read(void *cookie, char *buf, size_t size)
{
	struct failing *f = cookie;
	size_t n = f->len - f->pos;

	if (!n) {
		errno = EIO;
		return -1;
	}
	if (n > size)
		n = size;
	memcpy(buf, f->text + f->pos, n);
	f->pos += n;
	return (ssize_t)n;
}

static void test_read_error(void **state)
{
	cookie_io_functions_t io = { .read = failing_read };
	struct ctacct *a = tracker(4);
	struct rec *r = rec_new();
	struct ctacct_poll_stats st;
	struct failing fc;
	struct flow_key k, k2;
	char t[512];
	FILE *f;
	int side, side2;

	(void)state;
	assert_int_equal(ctacct_set_forget_polls(a, 1), 0);
	mkkey(&k, AF_INET, 6, "10.0.0.1", "10.0.0.2", 1, 2, &side);
	mkkey(&k2, AF_INET, 6, "10.0.0.3", "10.0.0.2", 1, 2, &side2);
	assert_int_equal(ctacct_track(a, &k, (uint8_t)side, 1, NULL, NULL), 0);
	assert_int_equal(ctacct_track(a, &k2, (uint8_t)side2, 2, NULL, NULL),
			 0);
	fc.len = (size_t)tcp_line(t, sizeof(t), "10.0.0.1", "10.0.0.2", 1, 2,
				  1, 100, 1, 100);
	fc.text = t;
	fc.pos = 0;
	f = fopencookie(&fc, "r", io);
	assert_non_null(f);
	assert_int_equal(ctacct_poll(a, f, 5, rec_credit, r, &st), -EIO);
	fclose(f);
	assert_int_equal(st.lines, 1);
	assert_credit(r, 1, 100, 1, 100, 1);
	/* k2 was not in what was read, but the read did not finish. */
	assert_int_equal(st.forgotten, 0);
	assert_int_equal(poll_text(a, t, r, &st), 0);
	assert_int_equal(st.forgotten, 1);
	ctacct_free(a);
	free(r);
}

/* The credit callback may track (it runs without the lock); a flow
 * tracked while the poll runs, after its line went by, is not counted
 * missing by that poll. */
struct cb_ctx {
	struct ctacct *a;
	struct flow_key late;
	struct rec r;
};

static void cb_track(void *ctx, uint32_t slot, uint64_t ub, uint64_t up,
		     uint64_t db, uint64_t dp)
{
	struct cb_ctx *c = ctx;

	rec_credit(&c->r, slot, ub, up, db, dp);
	if (slot == 1)
		assert_int_equal(ctacct_track(c->a, &c->late, 0, 2, NULL,
					      NULL), 0);
}

static void test_track_during_poll(void **state)
{
	struct cb_ctx *c = calloc(1, sizeof(*c));
	struct ctacct_poll_stats st;
	struct flow_key k;
	char t[1024];
	FILE *f;
	int side, n;

	(void)state;
	assert_non_null(c);
	c->a = tracker(4);
	assert_int_equal(ctacct_set_forget_polls(c->a, 1), 0);
	mkkey(&k, AF_INET, 6, "10.0.0.1", "10.0.0.2", 1, 2, &side);
	mkkey(&c->late, AF_INET, 6, "10.0.0.0", "10.0.0.2", 1, 2, NULL);
	assert_int_equal(ctacct_track(c->a, &k, (uint8_t)side, 1, NULL, NULL),
			 0);
	/* The late flow's line comes first, before it is tracked. */
	n = tcp_line(t, sizeof(t), "10.0.0.0", "10.0.0.2", 1, 2, 1, 10, 1, 10);
	tcp_line(t + n, sizeof(t) - (size_t)n, "10.0.0.1", "10.0.0.2", 1, 2, 1,
		 100, 1, 100);
	f = fmemopen(t, strlen(t), "r");
	assert_non_null(f);
	assert_int_equal(ctacct_poll(c->a, f, 1, cb_track, c, &st), 0);
	fclose(f);
	assert_int_equal(st.untracked, 1);
	assert_int_equal(st.forgotten, 0);
	/* Next poll: found, credited in full. */
	f = fmemopen(t, strlen(t), "r");
	assert_non_null(f);
	assert_int_equal(ctacct_poll(c->a, f, 2, cb_track, c, &st), 0);
	fclose(f);
	assert_credit(&c->r, 2, 10, 1, 10, 1);
	assert_credit(&c->r, 1, 100, 1, 100, 1);
	ctacct_free(c->a);
	free(c);
}

/* --- concurrency ----------------------------------------------------------- */

#define CONC_FLOWS 1000	/* per tracking thread */

struct conc {
	struct ctacct *a;
	int base;		/* first flow of this thread */
	int done;
	const int *polls;	/* polls completed, by the poller */
};

static void conc_flow(int i, char *src, size_t n, uint16_t *sport)
{
	snprintf(src, n, "10.%d.%d.1", i / 250, i % 250);
	*sport = (uint16_t)(10000 + i);
}

static void conc_track(struct conc *c, int i)
{
	struct flow_key k;
	struct packet p;
	char src[32];
	uint16_t sport;
	int side;

	/* As mkkey(), without cmocka's asserts (not for other threads). */
	conc_flow(i, src, sizeof(src), &sport);
	memset(&p, 0, sizeof(p));
	p.family = AF_INET;
	p.ip_proto = 6;
	if (inet_pton(AF_INET, src, p.src) != 1 ||
	    inet_pton(AF_INET, "192.168.0.1", p.dst) != 1)
		abort();
	p.sport = sport;
	p.dport = 443;
	side = flow_key_from_packet(&k, &p);
	/* Half of them with the initiator on the reply side. */
	if (ctacct_track(c->a, &k, (uint8_t)(i & 1 ? !side : side),
			 (uint32_t)i, NULL, NULL))
		abort();
}

static void *conc_tracker(void *arg)
{
	struct conc *c = arg;
	int i, seen;

	/* Half, then wait for a poll to complete (so that polls surely run
	 * between and during the tracking), then the rest, yielding now and
	 * then so that polls run in the middle of it. */
	for (i = c->base; i < c->base + CONC_FLOWS / 2; i++)
		conc_track(c, i);
	seen = __atomic_load_n(c->polls, __ATOMIC_ACQUIRE);
	while (__atomic_load_n(c->polls, __ATOMIC_ACQUIRE) < seen + 2)
		sched_yield();
	for (; i < c->base + CONC_FLOWS; i++) {
		conc_track(c, i);
		if (i % 16 == 0)
			sched_yield();
	}
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Counters of flow I at poll P: they only grow. */
static uint64_t conc_bytes(int i, int p, int dir)
{
	return (uint64_t)p * (uint64_t)(i % 7 + 1 + dir) * 100;
}

static char *conc_table(int p)
{
	size_t cap = (size_t)2 * CONC_FLOWS * 300, len = 0;
	char *t = malloc(cap), src[32];
	uint16_t sport;
	int i;

	assert_non_null(t);
	for (i = 0; i < 2 * CONC_FLOWS; i++) {
		conc_flow(i, src, sizeof(src), &sport);
		len += (size_t)tcp_line(t + len, cap - len, src, "192.168.0.1",
					sport, 443, (uint64_t)p,
					conc_bytes(i, p, 0), (uint64_t)p * 2,
					conc_bytes(i, p, 1));
	}
	return t;
}

static void test_concurrent(void **state)
{
	struct ctacct *a = tracker(2 * CONC_FLOWS);
	struct rec *r = rec_new();
	int polls = 0;
	struct conc c[2] = { { a, 0, 0, &polls }, { a, CONC_FLOWS, 0, &polls } };
	struct ctacct_poll_stats st;
	struct ctacct_stats s;
	pthread_t th[2];
	int p = 0, i, last, partial = 0;
	char *t;

	(void)state;
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, conc_tracker,
						&c[i]), 0);
	/* The poller: this thread, until both trackers are done, then once
	 * more so that every flow has been found. */
	for (last = 0; last < 2;) {
		if (__atomic_load_n(&c[0].done, __ATOMIC_ACQUIRE) &&
		    __atomic_load_n(&c[1].done, __ATOMIC_ACQUIRE))
			last++;
		t = conc_table(++p);
		assert_int_equal(poll_text(a, t, r, &st), 0);
		free(t);
		__atomic_store_n(&polls, p, __ATOMIC_RELEASE);
		assert_int_equal(st.bad_lines, 0);
		assert_int_equal(st.forgotten, 0);
		assert_int_equal(st.lines, 2 * CONC_FLOWS);
		partial += st.matched > 0 && st.matched < 2 * CONC_FLOWS;
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	/* Polls did run with part of the flows tracked. */
	assert_true(partial >= 1);
	assert_int_equal(st.matched, 2 * CONC_FLOWS);
	for (i = 0; i < 2 * CONC_FLOWS; i++) {
		int up = i & 1;	/* odd flows: initiator on the reply side */

		assert_int_equal(r->ub[i], conc_bytes(i, p, up));
		assert_int_equal(r->db[i], conc_bytes(i, p, !up));
		assert_int_equal(r->up[i], (uint64_t)p * (up ? 2 : 1));
		assert_int_equal(r->dp[i], (uint64_t)p * (up ? 1 : 2));
	}
	ctacct_stats(a, &s);
	assert_int_equal(s.flows, 2 * CONC_FLOWS);
	assert_int_equal(s.entries, 2 * CONC_FLOWS);
	ctacct_free(a);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_tcp4),
		cmocka_unit_test(test_parse_udp6),
		cmocka_unit_test(test_parse_icmp),
		cmocka_unit_test(test_parse_other_protocols),
		cmocka_unit_test(test_parse_flags),
		cmocka_unit_test(test_parse_any_order),
		cmocka_unit_test(test_parse_acct_off),
		cmocka_unit_test(test_parse_large_counters),
		cmocka_unit_test(test_parse_truncations),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_line_key_matches_packets),
		cmocka_unit_test(test_line_key_nat),
		cmocka_unit_test(test_new_and_args),
		cmocka_unit_test(test_three_polls),
		cmocka_unit_test(test_already_counted),
		cmocka_unit_test(test_midstream_orientation),
		cmocka_unit_test(test_entry_replaced),
		cmocka_unit_test(test_forgotten),
		cmocka_unit_test(test_untracked_bad_acct_off),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_retrack_and_forget),
		cmocka_unit_test(test_icmp_entries),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_entry_pool_full),
		cmocka_unit_test(test_vlan_and_dnat),
		cmocka_unit_test(test_responder_changed),
		cmocka_unit_test(test_read_error),
		cmocka_unit_test(test_track_during_poll),
		cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
