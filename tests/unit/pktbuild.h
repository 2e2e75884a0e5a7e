/* pktbuild.h - build test packets by hand (header-only, tests only).
 *
 * Checksums are left zero: the parser does not verify them (the kernel has
 * already done so on the live path) and nDPI does not read them.
 */
#ifndef IOTJAIL_TEST_PKTBUILD_H
#define IOTJAIL_TEST_PKTBUILD_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

struct pb {
	uint8_t b[2048];
	size_t len;
};

static inline void pb_put(struct pb *p, const void *d, size_t n)
{
	if (n)
		memcpy(p->b + p->len, d, n);
	p->len += n;
}

static inline void pb_u8(struct pb *p, uint8_t v) { pb_put(p, &v, 1); }
static inline void pb_u16(struct pb *p, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	pb_put(p, b, 2);
}
static inline void pb_u32(struct pb *p, uint32_t v)
{
	pb_u16(p, (uint16_t)(v >> 16));
	pb_u16(p, (uint16_t)v);
}

static inline void pb_eth(struct pb *p, const uint8_t src[6], uint16_t type)
{
	static const uint8_t dst[6] = { 2, 0, 0, 0, 0, 1 };

	pb_put(p, dst, 6);
	pb_put(p, src, 6);
	pb_u16(p, type);
}

static inline void pb_vlan(struct pb *p, uint16_t vid, uint16_t next)
{
	pb_u16(p, vid);
	pb_u16(p, next);
}

/* IPv4 header for L4LEN bytes of payload; returns the header offset. */
static inline size_t pb_ipv4(struct pb *p, const char *src, const char *dst,
			     uint8_t proto, size_t l4len)
{
	size_t off = p->len;
	struct in_addr a;

	pb_u8(p, 0x45);
	pb_u8(p, 0);
	pb_u16(p, (uint16_t)(20 + l4len));
	pb_u16(p, 1);
	pb_u16(p, 0x4000);
	pb_u8(p, 64);
	pb_u8(p, proto);
	pb_u16(p, 0);
	inet_pton(AF_INET, src, &a);
	pb_put(p, &a, 4);
	inet_pton(AF_INET, dst, &a);
	pb_put(p, &a, 4);
	return off;
}

static inline size_t pb_ipv6(struct pb *p, const char *src, const char *dst,
			     uint8_t nh, size_t plen)
{
	size_t off = p->len;
	struct in6_addr a;

	pb_u32(p, 0x60000000);
	pb_u16(p, (uint16_t)plen);
	pb_u8(p, nh);
	pb_u8(p, 64);
	inet_pton(AF_INET6, src, &a);
	pb_put(p, &a, 16);
	inet_pton(AF_INET6, dst, &a);
	pb_put(p, &a, 16);
	return off;
}

static inline void pb_udp(struct pb *p, uint16_t sport, uint16_t dport,
			  const void *payload, size_t n)
{
	pb_u16(p, sport);
	pb_u16(p, dport);
	pb_u16(p, (uint16_t)(8 + n));
	pb_u16(p, 0);
	pb_put(p, payload, n);
}

static inline void pb_tcp(struct pb *p, uint16_t sport, uint16_t dport,
			  uint32_t seq, uint32_t ack, uint8_t flags,
			  const void *payload, size_t n)
{
	pb_u16(p, sport);
	pb_u16(p, dport);
	pb_u32(p, seq);
	pb_u32(p, ack);
	pb_u8(p, 5 << 4);
	pb_u8(p, flags);
	pb_u16(p, 65535);
	pb_u16(p, 0);
	pb_u16(p, 0);
	pb_put(p, payload, n);
}

/* A DNS query for NAME (A record). */
static inline size_t pb_dns_query(uint8_t *out, uint16_t id, const char *name)
{
	size_t n = 0;
	const char *s = name, *dot;

	out[n++] = (uint8_t)(id >> 8);
	out[n++] = (uint8_t)id;
	out[n++] = 0x01; out[n++] = 0x00;	/* RD */
	out[n++] = 0; out[n++] = 1;		/* QDCOUNT */
	memset(out + n, 0, 6);
	n += 6;
	while (*s) {
		dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		out[n++] = (uint8_t)l;
		memcpy(out + n, s, l);
		n += l;
		s += l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	out[n++] = 0; out[n++] = 1;	/* A */
	out[n++] = 0; out[n++] = 1;	/* IN */
	return n;
}

#endif
