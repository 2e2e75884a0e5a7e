/* test_packet.c - parser: every layer, every link type, and every
 * truncation of valid packets (run under ASan with SAN=1 to prove no read
 * past the buffer: each parse gets an exactly-sized heap copy). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "daemon/packet.h"
#include "tests/unit/pktbuild.h"

#define NFQUEUE_REPLACE_MAX_TEST 128

static const uint8_t MAC_A[6] = { 2, 0, 0, 0, 0, 0x10 };

/* Parse from an exactly-sized heap copy so ASan sees any overread. */
static enum packet_status parse_copy(struct packet *p, enum packet_link link,
				     const uint8_t *b, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum packet_status st;

	assert_non_null(copy);
	memcpy(copy, b, len);
	st = packet_parse_link(p, link, copy, len);
	/* Pointers must lie inside the buffer whatever the verdict. */
	if (st == PACKET_OK) {
		assert_true(p->l3 >= copy && p->l3 + p->l3_len <= copy + len);
		assert_true(p->payload >= copy &&
			    p->payload + p->payload_len <= copy + len);
	}
	free(copy);
	return st;
}

static void build_udp4(struct pb *p, const char *payload)
{
	size_t n = strlen(payload);

	memset(p, 0, sizeof(*p));
	pb_eth(p, MAC_A, 0x0800);
	pb_ipv4(p, "192.168.1.10", "192.168.1.1", 17, 8 + n);
	pb_udp(p, 40000, 53, payload, n);
}

static void test_udp4(void **state)
{
	struct packet pk;
	struct pb p;

	(void)state;
	build_udp4(&p, "hello");
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_OK);
	assert_true(pk.has_mac);
	assert_memory_equal(pk.src_mac, MAC_A, 6);
	assert_int_equal(pk.family, AF_INET);
	assert_int_equal(pk.ip_proto, 17);
	assert_int_equal(pk.sport, 40000);
	assert_int_equal(pk.dport, 53);
	assert_int_equal(pk.payload_len, 5);
	assert_int_equal(pk.l3_len, 20 + 8 + 5);
	assert_int_equal(pk.src[0], 192);
	assert_int_equal(pk.dst[3], 1);
	assert_int_equal(pk.n_vlans, 0);
}

static void test_ethernet_padding_is_not_payload(void **state)
{
	struct packet pk;
	struct pb p;

	(void)state;
	build_udp4(&p, "x");
	/* Minimum Ethernet frame: 60 bytes, zero padded. */
	memset(p.b + p.len, 0, 60 - p.len);
	p.len = 60;
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_OK);
	assert_int_equal(pk.payload_len, 1);
	assert_int_equal(pk.l3_len, 29);
}

static void test_vlan_and_qinq(void **state)
{
	struct packet pk;
	struct pb p;

	(void)state;
	memset(&p, 0, sizeof(p));
	pb_eth(&p, MAC_A, 0x88a8);
	pb_vlan(&p, 100, 0x8100);
	pb_vlan(&p, 0x2000 | 20, 0x0800);	/* PCP bits must be masked */
	pb_ipv4(&p, "10.0.0.1", "10.0.0.2", 17, 9);
	pb_udp(&p, 1, 2, "a", 1);
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_OK);
	assert_int_equal(pk.n_vlans, 2);
	assert_int_equal(pk.vlan[0], 100);
	assert_int_equal(pk.vlan[1], 20);
	assert_int_equal(pk.sport, 1);
}

static void test_ipv6_ext_headers(void **state)
{
	struct packet pk;
	struct pb p;

	(void)state;
	memset(&p, 0, sizeof(p));
	pb_eth(&p, MAC_A, 0x86dd);
	/* hop-by-hop (8) -> routing (8) -> dest opts (16) -> UDP (8+3) */
	pb_ipv6(&p, "fd00:1::10", "fd00:1::1", 0, 8 + 8 + 16 + 11);
	pb_u8(&p, 43); pb_u8(&p, 0); pb_u16(&p, 0); pb_u32(&p, 0);
	pb_u8(&p, 60); pb_u8(&p, 0); pb_u16(&p, 0); pb_u32(&p, 0);
	pb_u8(&p, 17); pb_u8(&p, 1); pb_u16(&p, 0); pb_u32(&p, 0);
	pb_u32(&p, 0); pb_u32(&p, 0);
	pb_udp(&p, 5353, 5353, "abc", 3);
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_OK);
	assert_int_equal(pk.family, AF_INET6);
	assert_int_equal(pk.ip_proto, 17);
	assert_int_equal(pk.sport, 5353);
	assert_int_equal(pk.payload_len, 3);
	assert_int_equal(pk.src[0], 0xfd);
	assert_int_equal(pk.src[15], 0x10);
}

static void test_ipv6_ext_header_past_end(void **state)
{
	struct packet pk;
	struct pb p;

	(void)state;
	memset(&p, 0, sizeof(p));
	pb_eth(&p, MAC_A, 0x86dd);
	pb_ipv6(&p, "fd00:1::10", "fd00:1::1", 0, 8);
	pb_u8(&p, 17); pb_u8(&p, 200); pb_u16(&p, 0); pb_u32(&p, 0);
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_BAD_IP);
}

static void test_ipv6_ext_chain_bounded(void **state)
{
	struct packet pk;
	struct pb p;
	int i;

	(void)state;
	/* 20 destination-option headers: longer than we walk. */
	memset(&p, 0, sizeof(p));
	pb_eth(&p, MAC_A, 0x86dd);
	pb_ipv6(&p, "fd00:1::10", "fd00:1::1", 60, 20 * 8);
	for (i = 0; i < 20; i++) {
		pb_u8(&p, 60); pb_u8(&p, 0); pb_u16(&p, 0); pb_u32(&p, 0);
	}
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_BAD_IP);
}

static void test_ipv4_fragments(void **state)
{
	struct packet pk;
	struct pb p;
	size_t ip;

	(void)state;
	memset(&p, 0, sizeof(p));
	pb_eth(&p, MAC_A, 0x0800);
	ip = pb_ipv4(&p, "10.0.0.1", "10.0.0.2", 17, 16);
	p.b[ip + 6] = 0x20;	/* MF, offset 0 */
	p.b[ip + 7] = 0;
	/* UDP length 1000 covers later fragments: must be accepted. */
	pb_u16(&p, 7); pb_u16(&p, 9); pb_u16(&p, 1000); pb_u16(&p, 0);
	pb_u32(&p, 0); pb_u32(&p, 0);
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_OK);
	assert_true(pk.fragment);
	assert_false(pk.later_fragment);
	assert_int_equal(pk.dport, 9);

	p.b[ip + 6] = 0x00;	/* last fragment, offset 185*8 */
	p.b[ip + 7] = 185;
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_OK);
	assert_true(pk.later_fragment);
	assert_int_equal(pk.sport, 0);
	assert_int_equal(pk.dport, 0);
}

static void test_ipv4_options_and_bad_headers(void **state)
{
	struct packet pk;
	struct pb p;
	size_t ip;

	(void)state;
	build_udp4(&p, "abcd");
	ip = 14;
	p.b[ip] = 0x43;		/* IHL 3 */
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_BAD_IP);
	p.b[ip] = 0x4f;		/* IHL 15: 60 bytes, more than present */
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_BAD_IP);
	p.b[ip] = 0x45;
	p.b[ip + 2] = 0;	/* total length 10 < IHL */
	p.b[ip + 3] = 10;
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_BAD_IP);
	p.b[ip + 3] = 200;	/* larger than the frame (snap length):
				 * parsed as far as captured, wire length kept */
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_OK);
	assert_int_equal(pk.l3_len, 32);
	assert_int_equal(pk.ip_len, 200);
	assert_int_equal(pk.payload_len, 4);

	/* IPv4 with a 4-byte option (IHL 6) carrying good UDP. */
	memset(&p, 0, sizeof(p));
	pb_eth(&p, MAC_A, 0x0800);
	ip = pb_ipv4(&p, "10.0.0.1", "10.0.0.2", 17, 4 + 9);
	p.b[ip] = 0x46;
	pb_u32(&p, 0x01010100);	/* NOP NOP NOP EOL */
	pb_udp(&p, 1000, 2000, "z", 1);
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_OK);
	assert_int_equal(pk.sport, 1000);
	assert_int_equal(pk.payload_len, 1);
}

static void test_tcp_bad_offsets(void **state)
{
	struct packet pk;
	struct pb p;
	size_t tcp;

	(void)state;
	memset(&p, 0, sizeof(p));
	pb_eth(&p, MAC_A, 0x0800);
	pb_ipv4(&p, "10.0.0.1", "10.0.0.2", 6, 20 + 4);
	tcp = p.len;
	pb_tcp(&p, 1, 80, 1, 0, TCP_SYN, "GET ", 4);
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_OK);
	assert_int_equal(pk.tcp_flags, TCP_SYN);
	assert_int_equal(pk.payload_len, 4);
	p.b[tcp + 12] = 3 << 4;
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_BAD_L4);
	p.b[tcp + 12] = 15 << 4;
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_BAD_L4);
}

static void test_not_ip(void **state)
{
	struct packet pk;
	struct pb p;

	(void)state;
	memset(&p, 0, sizeof(p));
	pb_eth(&p, MAC_A, 0x0806);	/* ARP */
	pb_u32(&p, 0);
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_NOT_IP);
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, 0),
			 PACKET_TRUNCATED_L2);
	memset(&p, 0, sizeof(p));
	pb_eth(&p, MAC_A, 0x8100);	/* VLAN tag cut off */
	pb_u16(&p, 5);
	assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET, p.b, p.len),
			 PACKET_TRUNCATED_L2);
}

/* SLL, SLL2, RAW, NULL (both byte orders), LOOP and PPP all reach the same
 * IPv4/UDP packet. */
static void test_link_types(void **state)
{
	struct packet pk;
	struct pb ip, f;
	size_t i;
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 0x50 };

	(void)state;
	memset(&ip, 0, sizeof(ip));
	pb_ipv4(&ip, "192.168.1.50", "203.0.113.80", 17, 9);
	pb_udp(&ip, 5000, 6000, "q", 1);

	memset(&f, 0, sizeof(f));	/* SLL: outgoing, Ethernet address */
	pb_u16(&f, 4); pb_u16(&f, 1); pb_u16(&f, 6); pb_put(&f, mac, 6);
	pb_u16(&f, 0); pb_u16(&f, 0x0800); pb_put(&f, ip.b, ip.len);
	assert_int_equal(parse_copy(&pk, PACKET_LINK_SLL, f.b, f.len), PACKET_OK);
	assert_true(pk.has_mac);
	assert_memory_equal(pk.src_mac, mac, 6);
	assert_int_equal(pk.dport, 6000);

	memset(&f, 0, sizeof(f));	/* SLL2 */
	pb_u16(&f, 0x0800); pb_u16(&f, 0); pb_u32(&f, 3); pb_u16(&f, 1);
	pb_u8(&f, 0); pb_u8(&f, 6); pb_put(&f, mac, 6); pb_u16(&f, 0);
	pb_put(&f, ip.b, ip.len);
	assert_int_equal(parse_copy(&pk, PACKET_LINK_SLL2, f.b, f.len), PACKET_OK);
	assert_memory_equal(pk.src_mac, mac, 6);
	assert_int_equal(pk.sport, 5000);
	assert_int_equal(pk.ifindex, 3);	/* the interface it came in on */

	assert_int_equal(parse_copy(&pk, PACKET_LINK_RAW, ip.b, ip.len), PACKET_OK);
	assert_false(pk.has_mac);
	assert_int_equal(pk.ifindex, 0);	/* not carried over */

	for (i = 0; i < 2; i++) {	/* NULL, little then big endian */
		uint8_t le[4] = { 2, 0, 0, 0 }, be[4] = { 0, 0, 0, 2 };

		memset(&f, 0, sizeof(f));
		pb_put(&f, i ? be : le, 4);
		pb_put(&f, ip.b, ip.len);
		assert_int_equal(parse_copy(&pk, PACKET_LINK_NULL, f.b, f.len),
				 PACKET_OK);
		assert_int_equal(pk.dport, 6000);
	}
	memset(&f, 0, sizeof(f));	/* PPP with address/control */
	pb_u16(&f, 0xff03); pb_u16(&f, 0x0021); pb_put(&f, ip.b, ip.len);
	assert_int_equal(parse_copy(&pk, PACKET_LINK_PPP, f.b, f.len), PACKET_OK);
	assert_int_equal(pk.dport, 6000);
}

/* Every prefix of valid packets of each kind: never a crash, never a read
 * past the end (ASan; parse_copy also checks every pointer), no success
 * before all headers are there, and the full length parses OK. */
static void test_every_truncation(void **state)
{
	struct packet pk;
	struct pb pkts[4];
	/* L2 + L3 + L4 header bytes of each packet below. */
	static const size_t hdr[4] = { 14 + 20 + 8, 14 + 4 + 40 + 8 + 20,
				       14 + 20 + 4, 14 + 40 + 8 };
	size_t i, n;
	char dns[64];

	(void)state;
	build_udp4(&pkts[0], "0123456789");
	memset(&pkts[1], 0, sizeof(pkts[1]));
	pb_eth(&pkts[1], MAC_A, 0x8100);
	pb_vlan(&pkts[1], 7, 0x86dd);
	pb_ipv6(&pkts[1], "fd00::1", "fd00::2", 44, 8 + 20 + 3);
	pb_u8(&pkts[1], 6); pb_u8(&pkts[1], 0); pb_u16(&pkts[1], 0);
	pb_u32(&pkts[1], 7);
	pb_tcp(&pkts[1], 443, 5555, 1, 1, TCP_ACK | TCP_PSH, "abc", 3);
	memset(&pkts[2], 0, sizeof(pkts[2]));
	pb_eth(&pkts[2], MAC_A, 0x0800);
	pb_ipv4(&pkts[2], "10.0.0.1", "10.0.0.2", 1, 8);
	pb_u32(&pkts[2], 0x08000000); pb_u32(&pkts[2], 1);
	n = pb_dns_query((uint8_t *)dns, 7, "cam.vendor-cloud.example");
	memset(&pkts[3], 0, sizeof(pkts[3]));
	pb_eth(&pkts[3], MAC_A, 0x86dd);
	pb_ipv6(&pkts[3], "fd00:1::50", "fd00:1::1", 17, 8 + n);
	pb_udp(&pkts[3], 40001, 53, dns, n);
	for (i = 0; i < 4; i++) {
		for (n = 0; n < pkts[i].len; n++) {
			enum packet_status st = parse_copy(
				&pk, PACKET_LINK_ETHERNET, pkts[i].b, n);

			if (n < hdr[i])
				assert_int_not_equal(st, PACKET_OK);
		}
		assert_int_equal(parse_copy(&pk, PACKET_LINK_ETHERNET,
					    pkts[i].b, pkts[i].len),
				 PACKET_OK);
	}
}

/* Random bytes on every link type: no crash, no overread. */
static void test_random_bytes(void **state)
{
	uint8_t buf[256];
	struct packet pk;
	uint32_t x = 12345;
	int i, link;
	size_t j, len;

	(void)state;
	for (i = 0; i < 20000; i++) {
		len = (size_t)(i % 200);
		for (j = 0; j < len; j++) {
			x ^= x << 13; x ^= x >> 17; x ^= x << 5;
			buf[j] = (uint8_t)x;
		}
		/* Bias towards headers that get past the first checks. */
		if (len > 14 && i % 3 == 0) {
			buf[12] = 0x08; buf[13] = 0x00; buf[14] = 0x45;
		}
		if (len > 14 && i % 3 == 1) {
			buf[12] = 0x86; buf[13] = 0xdd; buf[14] = 0x60;
		}
		for (link = 0; link < __PACKET_LINK_MAX; link++)
			(void)parse_copy(&pk, (enum packet_link)link, buf, len);
	}
}

/* ---- packet_tcp_reset ------------------------------------------------------ */

/* The Internet checksum over a buffer whose checksum field is filled in:
 * 0 when it verifies (RFC 1071), written independently of packet.c. */
static uint16_t verify_sum(uint32_t sum, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum += i & 1 ? b[i] : (uint32_t)b[i] << 8;
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)(0xffff - sum);
}

static uint16_t verify_tcp(const uint8_t *src, const uint8_t *dst, int alen,
			   const uint8_t *tcp, size_t n)
{
	uint32_t sum = 6 + (uint32_t)n;	/* protocol and TCP length */

	for (int i = 0; i < alen; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]) +
		       (uint32_t)(dst[i] << 8 | dst[i + 1]);
	return verify_sum(sum, tcp, n);
}

static uint32_t rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

/* Builds a server's data segment (with 12 bytes of TCP options), rewrites
 * it, and checks the reset field by field. */
static void check_reset(bool v6, uint8_t ip_opts)
{
	static const char data[] = "HTTP/1.1 200 OK\r\nServer: x\r\n\r\n";
	struct pb pb;
	struct packet p, r;
	uint8_t out[NFQUEUE_REPLACE_MAX_TEST], *tcp;
	size_t n, tl = 32 + sizeof(data) - 1, iphl = v6 ? 40 : 20u + ip_opts;
	size_t opt;

	memset(&pb, 0, sizeof(pb));
	if (v6)
		pb_ipv6(&pb, "fd50::3", "fd50::10", 6, tl);
	else {
		pb_ipv4(&pb, "192.168.50.3", "192.168.50.10", 6, tl + ip_opts);
		pb.b[0] = (uint8_t)(0x45 + ip_opts / 4);
		for (opt = 0; opt < ip_opts; opt++)
			pb_u8(&pb, 1);	/* NOP options */
	}
	pb_u16(&pb, 80);
	pb_u16(&pb, 40000);
	pb_u32(&pb, 0x89abcdef);
	pb_u32(&pb, 0x01020304);
	pb_u8(&pb, 8 << 4);		/* 32-byte header */
	pb_u8(&pb, TCP_PSH | TCP_ACK);
	pb_u16(&pb, 501);
	pb_u16(&pb, 0x1234);		/* a wrong checksum: not read */
	pb_u16(&pb, 0);
	for (opt = 0; opt < 12; opt++)
		pb_u8(&pb, 1);
	pb_put(&pb, data, sizeof(data) - 1);

	memset(&p, 0, sizeof(p));
	assert_int_equal(packet_parse_ip(&p, pb.b, pb.len), PACKET_OK);
	memset(out, 0xee, sizeof(out));
	n = packet_tcp_reset(&p, out, sizeof(out));
	assert_int_equal(n, iphl + 20);
	/* Too small a buffer by one byte: refused, not cut. */
	assert_int_equal(packet_tcp_reset(&p, out, n - 1), 0);
	n = packet_tcp_reset(&p, out, sizeof(out));

	memset(&r, 0, sizeof(r));
	assert_int_equal(packet_parse_ip(&r, out, n), PACKET_OK);
	assert_int_equal(r.family, v6 ? AF_INET6 : AF_INET);
	assert_memory_equal(r.src, p.src, 16);
	assert_memory_equal(r.dst, p.dst, 16);
	assert_int_equal(r.sport, 80);
	assert_int_equal(r.dport, 40000);
	assert_int_equal(r.tcp_flags, TCP_RST | TCP_ACK);
	assert_int_equal(r.payload_len, 0);
	assert_int_equal(r.ip_len, n);
	tcp = out + iphl;
	assert_int_equal(rd32(tcp + 4), 0x89abcdef);	/* what the client expects */
	assert_int_equal(rd32(tcp + 8), 0x01020304);
	assert_int_equal(tcp[12], 5 << 4);
	assert_int_equal(tcp[14] | tcp[15] | tcp[18] | tcp[19], 0);
	if (v6) {
		assert_int_equal(out[4] << 8 | out[5], 20);
		assert_int_equal(verify_tcp(out + 8, out + 24, 16, tcp, 20), 0);
	} else {
		assert_int_equal(out[2] << 8 | out[3], n);
		assert_memory_equal(out + 20, pb.b + 20, ip_opts);	/* options kept */
		assert_int_equal(verify_sum(0, out, iphl), 0);
		assert_int_equal(verify_tcp(out + 12, out + 16, 4, tcp, 20), 0);
	}
	/* The checksum is not a constant: another sequence number moves it. */
	pb.b[iphl + 7] ^= 0x10;
	assert_int_equal(packet_parse_ip(&p, pb.b, pb.len), PACKET_OK);
	assert_int_equal(packet_tcp_reset(&p, out, sizeof(out)), n);
	assert_int_equal(rd32(out + iphl + 4), 0x89abcdef ^ 0x10);
	assert_int_equal(v6 ? verify_tcp(out + 8, out + 24, 16, out + iphl, 20)
			    : verify_tcp(out + 12, out + 16, 4, out + iphl, 20), 0);
}

static void test_tcp_reset(void **state)
{
	struct pb pb;
	struct packet p;
	uint8_t out[NFQUEUE_REPLACE_MAX_TEST];

	(void)state;
	check_reset(false, 0);
	check_reset(false, 8);
	check_reset(true, 0);

	/* A SYN-ACK without ACK flag in the source keeps none. */
	memset(&pb, 0, sizeof(pb));
	pb_ipv4(&pb, "10.0.0.2", "10.0.0.1", 6, 20);
	pb_tcp(&pb, 80, 40000, 7, 0, TCP_SYN, NULL, 0);
	assert_int_equal(packet_parse_ip(&p, pb.b, pb.len), PACKET_OK);
	assert_int_equal(packet_tcp_reset(&p, out, sizeof(out)), 40);
	assert_int_equal(out[20 + 13], TCP_RST);

	/* Refused: a reset already, UDP, IPv6 extension headers, a fragment. */
	memset(&pb, 0, sizeof(pb));
	pb_ipv4(&pb, "10.0.0.2", "10.0.0.1", 6, 20);
	pb_tcp(&pb, 80, 40000, 7, 8, TCP_RST | TCP_ACK, NULL, 0);
	assert_int_equal(packet_parse_ip(&p, pb.b, pb.len), PACKET_OK);
	assert_int_equal(packet_tcp_reset(&p, out, sizeof(out)), 0);

	memset(&pb, 0, sizeof(pb));
	pb_ipv4(&pb, "10.0.0.2", "10.0.0.1", 17, 9);
	pb_udp(&pb, 53, 40000, "x", 1);
	assert_int_equal(packet_parse_ip(&p, pb.b, pb.len), PACKET_OK);
	assert_int_equal(packet_tcp_reset(&p, out, sizeof(out)), 0);

	memset(&pb, 0, sizeof(pb));
	pb_ipv6(&pb, "fd00::2", "fd00::1", 0 /* hop-by-hop */, 8 + 20);
	pb_u8(&pb, 6);
	pb_u8(&pb, 0);
	pb_u32(&pb, 0x01040000);	/* PadN */
	pb_u16(&pb, 0);
	pb_tcp(&pb, 80, 40000, 7, 8, TCP_ACK, NULL, 0);
	assert_int_equal(packet_parse_ip(&p, pb.b, pb.len), PACKET_OK);
	assert_int_equal(p.ip_proto, 6);
	assert_int_equal(packet_tcp_reset(&p, out, sizeof(out)), 0);

	memset(&pb, 0, sizeof(pb));
	pb_ipv4(&pb, "10.0.0.2", "10.0.0.1", 6, 24);
	pb.b[6] = 0x20;			/* more fragments, offset 0 */
	pb_tcp(&pb, 80, 40000, 7, 8, TCP_ACK, "abcd", 4);
	assert_int_equal(packet_parse_ip(&p, pb.b, pb.len), PACKET_OK);
	assert_true(p.fragment);
	assert_int_equal(packet_tcp_reset(&p, out, sizeof(out)), 0);
	assert_int_equal(packet_tcp_reset(NULL, out, sizeof(out)), 0);
}

/* A UDP answer from a server becomes the server side's ICMP refusal of
 * the client's datagram, which the client's stack can match to its socket. */
static void check_unreach(bool v6)
{
	struct pb pb;
	struct packet p, r;
	uint8_t out[NFQUEUE_REPLACE_MAX_TEST], *icmp, *q;
	size_t n, iphl = v6 ? 40 : 20;

	memset(&pb, 0, sizeof(pb));
	if (v6)
		pb_ipv6(&pb, "fd50::2", "fd50::10", 17, 8 + 30);
	else
		pb_ipv4(&pb, "192.168.50.2", "192.168.50.10", 17, 8 + 30);
	pb_udp(&pb, 53, 41234, "0123456789abcdefghij0123456789", 30);
	memset(&p, 0, sizeof(p));
	assert_int_equal(packet_parse_ip(&p, pb.b, pb.len), PACKET_OK);
	n = packet_udp_unreach(&p, out, sizeof(out));
	assert_int_equal(n, v6 ? 96 : 56);
	assert_int_equal(packet_udp_unreach(&p, out, n - 1), 0);

	memset(&r, 0, sizeof(r));
	assert_int_equal(packet_parse_ip(&r, out, n), PACKET_OK);
	assert_true(packet_is_icmp_error(&r));
	assert_int_equal(r.ip_proto, v6 ? 58 : 1);
	assert_int_equal(r.icmp_type, v6 ? 1 : 3);
	assert_int_equal(r.icmp_code, v6 ? 1 : 13);	/* admin prohibited */
	assert_memory_equal(r.src, p.src, 16);		/* from the server */
	assert_memory_equal(r.dst, p.dst, 16);
	icmp = out + iphl;
	q = icmp + 8;
	if (v6) {
		uint32_t sum = 58 + 8 + 48;

		for (int i = 0; i < 32; i += 2)
			sum += (uint32_t)(out[8 + i] << 8 | out[8 + i + 1]);
		assert_int_equal(verify_sum(sum, icmp, 8 + 48), 0);
		assert_int_equal(q[0] >> 4, 6);
		assert_int_equal(q[6], 17);
		assert_memory_equal(q + 8, out + 24, 16);	/* quote: client -> */
		assert_memory_equal(q + 24, out + 8, 16);	/* -> server */
	} else {
		assert_int_equal(verify_sum(0, out, 20), 0);
		assert_int_equal(verify_sum(0, icmp, 8 + 28), 0);
		assert_int_equal(verify_sum(0, q, 20), 0);	/* quoted header */
		assert_int_equal(q[9], 17);
		assert_memory_equal(q + 12, out + 16, 4);
		assert_memory_equal(q + 16, out + 12, 4);
	}
	assert_int_equal(q[iphl] << 8 | q[iphl + 1], 41234);	/* client port */
	assert_int_equal(q[iphl + 2] << 8 | q[iphl + 3], 53);
}

static void test_udp_unreach(void **state)
{
	struct pb pb;
	struct packet p;
	uint8_t out[NFQUEUE_REPLACE_MAX_TEST];

	(void)state;
	check_unreach(false);
	check_unreach(true);
	/* Only UDP. */
	memset(&pb, 0, sizeof(pb));
	pb_ipv4(&pb, "10.0.0.2", "10.0.0.1", 6, 20);
	pb_tcp(&pb, 80, 40000, 7, 8, TCP_ACK, NULL, 0);
	assert_int_equal(packet_parse_ip(&p, pb.b, pb.len), PACKET_OK);
	assert_int_equal(packet_udp_unreach(&p, out, sizeof(out)), 0);
	assert_false(packet_is_icmp_error(&p));
	assert_int_equal(packet_udp_unreach(NULL, out, sizeof(out)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp4),
		cmocka_unit_test(test_ethernet_padding_is_not_payload),
		cmocka_unit_test(test_vlan_and_qinq),
		cmocka_unit_test(test_ipv6_ext_headers),
		cmocka_unit_test(test_ipv6_ext_header_past_end),
		cmocka_unit_test(test_ipv6_ext_chain_bounded),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_ipv4_options_and_bad_headers),
		cmocka_unit_test(test_tcp_bad_offsets),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_link_types),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_tcp_reset),
		cmocka_unit_test(test_udp_unreach),
	};

	return cmocka_run_group_tests_name("packet", tests, NULL, NULL);
}
