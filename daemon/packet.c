/* packet.c - bounds-checked, alignment-safe packet parser.
 *
 * Every multi-byte load goes through ld16/ld32 (byte loads); every access is
 * preceded by a length check against the end of the current layer.  The
 * parser never trusts a length field from the packet without clipping it to
 * what was actually captured.
 */
#include <string.h>
#include <sys/socket.h>

#include "daemon/packet.h"

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86dd
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88a8
#define ETH_P_QINQ1	0x9100	/* pre-standard QinQ, still seen in the field */

#define IPPROTO_HOPOPTS_	0
#define IPPROTO_ICMP_		1
#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17
#define IPPROTO_ROUTING_	43
#define IPPROTO_FRAGMENT_	44
#define IPPROTO_AH_		51
#define IPPROTO_ICMPV6_		58
#define IPPROTO_NONE_		59
#define IPPROTO_DSTOPTS_	60
#define IPPROTO_MH_		135

/* Upper bound on IPv6 extension headers we walk; a chain longer than this is
 * treated as malformed rather than followed (a crafted packet could otherwise
 * make us spin across a jumbo buffer). */
#define IPV6_MAX_EXT 8

static const char *const status_names[__PACKET_STATUS_MAX] = {
	[PACKET_OK] = "ok",
	[PACKET_TRUNCATED_L2] = "truncated_l2",
	[PACKET_NOT_IP] = "not_ip",
	[PACKET_BAD_IP] = "bad_ip",
	[PACKET_BAD_L4] = "bad_l4",
};

const char *packet_status_name(enum packet_status s)
{
	return s < __PACKET_STATUS_MAX ? status_names[s] : "invalid";
}

static inline uint16_t ld16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t ld32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

static enum packet_status parse_l4(struct packet *p, const uint8_t *l4,
				   size_t len)
{
	uint32_t hl;

	p->payload = l4;
	p->payload_len = len;
	if (p->later_fragment)
		return PACKET_OK;	/* no L4 header in this fragment */
	p->l4 = l4;

	switch (p->ip_proto) {
	case IPPROTO_TCP_:
		if (len < 20)
			return PACKET_BAD_L4;
		hl = (uint32_t)(l4[12] >> 4) * 4;
		if (hl < 20 || hl > len)
			return PACKET_BAD_L4;
		p->sport = ld16(l4);
		p->dport = ld16(l4 + 2);
		p->tcp_flags = l4[13];
		p->payload = l4 + hl;
		p->payload_len = len - hl;
		break;
	case IPPROTO_UDP_:
		if (len < 8)
			return PACKET_BAD_L4;
		p->sport = ld16(l4);
		p->dport = ld16(l4 + 2);
		hl = ld16(l4 + 4);
		/* A fragmented datagram's length covers all fragments; only
		 * check it against what we hold when the datagram is whole. */
		if (!p->fragment && (hl < 8 || hl > len))
			return PACKET_BAD_L4;
		p->payload = l4 + 8;
		p->payload_len = (p->fragment ? len : hl) - 8;
		break;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		if (len < 4)
			return PACKET_BAD_L4;
		p->icmp_type = l4[0];
		p->icmp_code = l4[1];
		p->payload = l4 + 4;
		p->payload_len = len - 4;
		break;
	default:
		/* Other protocols by number: no ports, whole L4 is payload. */
		break;
	}
	return PACKET_OK;
}

static enum packet_status parse_ipv4(struct packet *p, const uint8_t *b,
				     size_t len)
{
	uint32_t hl, total, frag;

	if (len < 20 || b[0] >> 4 != 4)
		return PACKET_BAD_IP;
	hl = (uint32_t)(b[0] & 0x0f) * 4;
	total = ld16(b + 2);
	if (hl < 20 || hl > len || total < hl)
		return PACKET_BAD_IP;
	/* A capture with a snap length holds less than the total, and GSO
	 * aggregates report 0: parse what is there, never beyond the total,
	 * but account what was on the wire. */
	p->ip_len = total > len ? total : (uint32_t)len;
	if (total == 0 || total > len)
		total = len;
	else
		p->ip_len = total;
	p->family = AF_INET;
	memset(p->src, 0, sizeof(p->src));
	memset(p->dst, 0, sizeof(p->dst));
	memcpy(p->src, b + 12, 4);
	memcpy(p->dst, b + 16, 4);
	p->ip_proto = b[9];
	frag = ld16(b + 6);
	p->fragment = (frag & 0x2000) || (frag & 0x1fff);
	p->later_fragment = (frag & 0x1fff) != 0;
	p->l3 = b;
	p->l3_len = total;
	return parse_l4(p, b + hl, total - hl);
}

static enum packet_status parse_ipv6(struct packet *p, const uint8_t *b,
				     size_t len)
{
	uint32_t total, off = 40, ext_len;
	uint8_t nh;
	int i;

	if (len < 40 || b[0] >> 4 != 6)
		return PACKET_BAD_IP;
	total = 40 + (uint32_t)ld16(b + 4);
	/* Payload length 0 is a jumbogram or GSO; use what was captured. */
	if (total == 40)
		total = len;
	p->ip_len = total;
	if (total > len)
		total = len;
	p->family = AF_INET6;
	memcpy(p->src, b + 8, 16);
	memcpy(p->dst, b + 24, 16);
	p->l3 = b;
	p->l3_len = total;
	nh = b[6];
	for (i = 0; i < IPV6_MAX_EXT; i++) {
		switch (nh) {
		case IPPROTO_HOPOPTS_:
		case IPPROTO_ROUTING_:
		case IPPROTO_DSTOPTS_:
		case IPPROTO_MH_:
			if (total - off < 8)
				return PACKET_BAD_IP;
			ext_len = 8 + (uint32_t)b[off + 1] * 8;
			break;
		case IPPROTO_AH_:
			if (total - off < 8)
				return PACKET_BAD_IP;
			ext_len = ((uint32_t)b[off + 1] + 2) * 4;
			break;
		case IPPROTO_FRAGMENT_:
			if (total - off < 8)
				return PACKET_BAD_IP;
			ext_len = 8;
			p->fragment = true;
			p->later_fragment = (ld16(b + off + 2) & 0xfff8) != 0;
			break;
		default:
			p->ip_proto = nh;
			if (nh == IPPROTO_NONE_)
				return parse_l4(p, b + off, 0);
			return parse_l4(p, b + off, total - off);
		}
		if (ext_len > total - off)
			return PACKET_BAD_IP;
		nh = b[off];
		off += ext_len;
	}
	return PACKET_BAD_IP;
}

static void reset(struct packet *p)
{
	/* Keep L2 fields: packet_parse_ip() callers set them. */
	p->l3 = NULL;
	p->l3_len = 0;
	p->ip_len = 0;
	p->ip_proto = 0;
	p->fragment = p->later_fragment = false;
	p->l4 = NULL;
	p->sport = p->dport = 0;
	p->tcp_flags = 0;
	p->icmp_type = p->icmp_code = 0;
	p->payload = NULL;
	p->payload_len = 0;
}

enum packet_status packet_parse_ip(struct packet *p, const uint8_t *buf,
				   size_t len)
{
	reset(p);
	if (len < 1)
		return PACKET_BAD_IP;
	switch (buf[0] >> 4) {
	case 4:
		return parse_ipv4(p, buf, len);
	case 6:
		return parse_ipv6(p, buf, len);
	default:
		return PACKET_NOT_IP;
	}
}

static enum packet_status parse_ethertype(struct packet *p, uint16_t type,
					  const uint8_t *b, size_t len)
{
	switch (type) {
	case ETH_P_IP:
	case ETH_P_IPV6:
		return packet_parse_ip(p, b, len);
	default:
		return PACKET_NOT_IP;
	}
}

/* TYPE is the ethertype just read; B/LEN what follows it.  802.1Q, 802.1ad
 * and QinQ tags: keep the outer two ids, skip any more (bounded by the frame
 * length: each tag consumes 4 bytes). */
static enum packet_status parse_tagged(struct packet *p, uint16_t type,
				       const uint8_t *b, size_t len)
{
	while (type == ETH_P_8021Q || type == ETH_P_8021AD ||
	       type == ETH_P_QINQ1) {
		if (len < 4)
			return PACKET_TRUNCATED_L2;
		if (p->n_vlans < PACKET_MAX_VLANS)
			p->vlan[p->n_vlans++] = ld16(b) & 0x0fff;
		type = ld16(b + 2);
		b += 4;
		len -= 4;
	}
	return parse_ethertype(p, type, b, len);
}

enum packet_status packet_parse_link(struct packet *p, enum packet_link link,
				     const uint8_t *buf, size_t len)
{
	uint32_t fam;
	uint16_t proto;

	p->has_mac = false;
	p->n_vlans = 0;
	p->ifindex = 0;
	reset(p);
	switch (link) {
	case PACKET_LINK_ETHERNET:
		if (len < 14)
			return PACKET_TRUNCATED_L2;
		p->has_mac = true;
		memcpy(p->dst_mac, buf, 6);
		memcpy(p->src_mac, buf + 6, 6);
		return parse_tagged(p, ld16(buf + 12), buf + 14, len - 14);
	case PACKET_LINK_SLL:
		/* type(2) arphrd(2) addrlen(2) addr(8) protocol(2) */
		if (len < 16)
			return PACKET_TRUNCATED_L2;
		if (ld16(buf + 4) == 6 && ld16(buf + 2) == 1) {
			/* Ethernet source address; outgoing packets (type 4)
			 * carry our own, which is still the sender. */
			p->has_mac = true;
			memcpy(p->src_mac, buf + 6, 6);
			memset(p->dst_mac, 0, 6);
		}
		return parse_tagged(p, ld16(buf + 14), buf + 16, len - 16);
	case PACKET_LINK_SLL2:
		/* protocol(2) reserved(2) ifindex(4) arphrd(2) type(1)
		 * addrlen(1) addr(8) */
		if (len < 20)
			return PACKET_TRUNCATED_L2;
		p->ifindex = ld32(buf + 4);
		if (buf[11] == 6 && ld16(buf + 8) == 1) {
			p->has_mac = true;
			memcpy(p->src_mac, buf + 12, 6);
			memset(p->dst_mac, 0, 6);
		}
		return parse_tagged(p, ld16(buf), buf + 20, len - 20);
	case PACKET_LINK_RAW:
		return packet_parse_ip(p, buf, len);
	case PACKET_LINK_NULL:
	case PACKET_LINK_LOOP:
		if (len < 4)
			return PACKET_TRUNCATED_L2;
		/* NULL stores the family in the writer's byte order, which
		 * need not be ours: families are small, so the order in which
		 * the value is below 256 is the right one. */
		fam = ld32(buf);
		if (link == PACKET_LINK_NULL && fam > 0xff)
			fam = (uint32_t)buf[3] << 24 | (uint32_t)buf[2] << 16 |
			      (uint32_t)buf[1] << 8 | buf[0];
		/* AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30
		 * depending on the writer's OS. */
		if (fam != 2 && fam != 10 && fam != 24 && fam != 28 &&
		    fam != 30)
			return PACKET_NOT_IP;
		return packet_parse_ip(p, buf + 4, len - 4);
	case PACKET_LINK_PPP:
		if (len >= 2 && buf[0] == 0xff && buf[1] == 0x03) {
			buf += 2;
			len -= 2;
		}
		if (len < 2)
			return PACKET_TRUNCATED_L2;
		proto = ld16(buf);
		if (proto != 0x0021 && proto != 0x0057)	/* IPv4, IPv6 */
			return PACKET_NOT_IP;
		return packet_parse_ip(p, buf + 2, len - 2);
	default:
		return PACKET_NOT_IP;
	}
}

bool packet_is_icmp_error(const struct packet *p)
{
	if (!p->l4)
		return false;
	if (p->ip_proto == IPPROTO_ICMP_)
		return p->icmp_type == 3 || p->icmp_type == 4 ||
		       p->icmp_type == 5 || p->icmp_type == 11 ||
		       p->icmp_type == 12;
	/* ICMPv6 errors are types 0-127; 1-4 are the defined ones. */
	return p->ip_proto == IPPROTO_ICMPV6_ && p->icmp_type >= 1 &&
	       p->icmp_type <= 4;
}

/* ---- building a reset ------------------------------------------------------ */

static void st16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* One's-complement sum of 16-bit big-endian words (odd tail padded). */
static uint32_t csum_add(uint32_t sum, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += ld16(b + i);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#define TCP_HDR_MIN 20

size_t packet_tcp_reset(const struct packet *p, uint8_t *out, size_t cap)
{
	size_t iphl, total;
	uint8_t *tcp, pseudo[4];
	uint32_t sum;
	int alen;

	if (!p || !out || !p->l3 || !p->l4 || p->ip_proto != IPPROTO_TCP_ ||
	    p->fragment || (p->tcp_flags & TCP_RST))
		return 0;
	iphl = (size_t)(p->l4 - p->l3);
	if (p->family == AF_INET6 && iphl != 40)
		return 0;	/* extension headers: not worth the risk */
	/* parse_l4() checked that l4 holds a whole TCP header. */
	total = iphl + TCP_HDR_MIN;
	if (total > cap || iphl + TCP_HDR_MIN > p->l3_len)
		return 0;
	memcpy(out, p->l3, total);
	tcp = out + iphl;
	tcp[12] = (TCP_HDR_MIN / 4) << 4;		/* data offset, no options */
	tcp[13] = TCP_RST | (p->tcp_flags & TCP_ACK);
	st16(tcp + 14, 0);				/* window */
	st16(tcp + 16, 0);				/* checksum, below */
	st16(tcp + 18, 0);				/* urgent pointer */
	if (p->family == AF_INET) {
		st16(out + 2, (uint16_t)total);
		st16(out + 10, 0);
		st16(out + 10, csum_fold(csum_add(0, out, iphl)));
		alen = 4;
	} else {
		st16(out + 4, TCP_HDR_MIN);		/* payload length */
		alen = 16;
	}
	/* Pseudo-header: addresses, protocol, TCP length. */
	st16(pseudo, IPPROTO_TCP_);
	st16(pseudo + 2, TCP_HDR_MIN);
	sum = csum_add(0, p->src, (size_t)alen);
	sum = csum_add(sum, p->dst, (size_t)alen);
	sum = csum_add(sum, pseudo, sizeof(pseudo));
	sum = csum_add(sum, tcp, TCP_HDR_MIN);
	st16(tcp + 16, csum_fold(sum));
	return total;
}

#define ICMP_UNREACH_		3
#define ICMP_ADMIN_PROHIB_	13
#define ICMP6_UNREACH_		1
#define ICMP6_ADMIN_PROHIB_	1

/* An IPv4 header of a datagram: src, dst, protocol, payload length;
 * TTL 64, no options, checksum filled in. */
static void put_ipv4(uint8_t *h, const uint8_t *src, const uint8_t *dst,
		     uint8_t proto, size_t plen)
{
	memset(h, 0, 20);
	h[0] = 0x45;
	st16(h + 2, (uint16_t)(20 + plen));
	h[8] = 64;
	h[9] = proto;
	memcpy(h + 12, src, 4);
	memcpy(h + 16, dst, 4);
	st16(h + 10, csum_fold(csum_add(0, h, 20)));
}

static void put_ipv6(uint8_t *h, const uint8_t *src, const uint8_t *dst,
		     uint8_t next, size_t plen)
{
	memset(h, 0, 40);
	h[0] = 0x60;
	st16(h + 4, (uint16_t)plen);
	h[6] = next;
	h[7] = 64;
	memcpy(h + 8, src, 16);
	memcpy(h + 24, dst, 16);
}

size_t packet_udp_unreach(const struct packet *p, uint8_t *out, size_t cap)
{
	bool v6 = p && p->family == AF_INET6;
	size_t iphl = v6 ? 40 : 20, quote = iphl + 8, total = iphl + 8 + quote;
	uint8_t *icmp, *q, pseudo[8];
	uint32_t sum;

	if (!p || !out || !p->l4 || p->ip_proto != IPPROTO_UDP_ ||
	    p->fragment || total > cap)
		return 0;
	icmp = out + iphl;
	q = icmp + 8;
	/* The quoted datagram: receiver -> sender, same ports, no payload. */
	if (v6)
		put_ipv6(q, p->dst, p->src, IPPROTO_UDP_, 8);
	else
		put_ipv4(q, p->dst, p->src, IPPROTO_UDP_, 8);
	st16(q + iphl, p->dport);
	st16(q + iphl + 2, p->sport);
	st16(q + iphl + 4, 8);
	st16(q + iphl + 6, 0);	/* no checksum: the quote is only matched */
	memset(icmp, 0, 8);
	icmp[0] = v6 ? ICMP6_UNREACH_ : ICMP_UNREACH_;
	icmp[1] = v6 ? ICMP6_ADMIN_PROHIB_ : ICMP_ADMIN_PROHIB_;
	if (v6) {
		put_ipv6(out, p->src, p->dst, IPPROTO_ICMPV6_, 8 + quote);
		/* ICMPv6 sums a pseudo-header too (RFC 8200 8.1). */
		memset(pseudo, 0, sizeof(pseudo));
		st16(pseudo + 2, (uint16_t)(8 + quote));
		pseudo[7] = IPPROTO_ICMPV6_;
		sum = csum_add(0, p->src, 16);
		sum = csum_add(sum, p->dst, 16);
		sum = csum_add(sum, pseudo, sizeof(pseudo));
	} else {
		put_ipv4(out, p->src, p->dst, IPPROTO_ICMP_, 8 + quote);
		sum = 0;
	}
	sum = csum_add(sum, icmp, 8 + quote);
	st16(icmp + 2, csum_fold(sum));
	return total;
}
