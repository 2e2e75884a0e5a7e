/* packet.h - bounds-checked parser for what NFQUEUE and captures hand over.
 *
 * Input is untrusted bytes.  Every load is a memcpy-style byte load (MIPS
 * traps unaligned loads) and no input makes the parser read past buf+len.
 * The parsed struct points into the caller's buffer; it is valid as long as
 * that buffer is.
 */
#ifndef IOTJAIL_PACKET_H
#define IOTJAIL_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Link layers we read.  Values are our own, not DLT_ numbers. */
enum packet_link {
	PACKET_LINK_ETHERNET,
	PACKET_LINK_SLL,	/* Linux cooked v1 */
	PACKET_LINK_SLL2,	/* Linux cooked v2 */
	PACKET_LINK_RAW,	/* starts with the IP header, version nibble decides */
	PACKET_LINK_NULL,	/* BSD loopback: 4-byte host-order family */
	PACKET_LINK_LOOP,	/* OpenBSD loopback: 4-byte network-order family */
	PACKET_LINK_PPP,	/* PPP, optional 0xff03 address/control */
	__PACKET_LINK_MAX
};

/* Why a packet could not be used.  Counted per reason by the caller. */
enum packet_status {
	PACKET_OK,
	PACKET_TRUNCATED_L2,	/* shorter than its link header / VLAN tags */
	PACKET_NOT_IP,		/* ARP, unknown ethertype, ...: ignored, not an error */
	PACKET_BAD_IP,		/* IPv4/IPv6 header malformed or truncated */
	PACKET_BAD_L4,		/* TCP/UDP/ICMP header malformed or truncated */
	__PACKET_STATUS_MAX
};

const char *packet_status_name(enum packet_status s);

#define PACKET_MAX_VLANS 2

struct packet {
	/* Layer 2 (absent for NFQUEUE without hw address and raw captures). */
	bool has_mac;
	uint8_t src_mac[6], dst_mac[6];
	/* The interface the frame was captured on (Linux cooked v2: with
	 * `tcpdump -i any`, the bridge port it came in on); 0 if unknown. */
	uint32_t ifindex;
	uint8_t n_vlans;
	uint16_t vlan[PACKET_MAX_VLANS];	/* outermost first, 12-bit ids */

	/* Layer 3: l3 points at the IP header; l3_len is what was captured
	 * of the IP packet, clipped to the IP total length (so Ethernet
	 * padding is not payload). */
	const uint8_t *l3;
	uint32_t l3_len;
	uint32_t ip_len;		/* length the IP header declares (what
					 * was on the wire), >= l3_len */
	uint8_t family;			/* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16];	/* IPv4 in the first 4 bytes, rest 0 */
	uint8_t ip_proto;		/* L4 protocol after IPv6 ext headers */
	bool fragment;			/* part of a fragmented datagram */
	bool later_fragment;		/* offset != 0: no L4 header here */

	/* Layer 4: ports are 0 when the protocol has none.  l4 is the L4
	 * header, NULL in a later fragment. */
	const uint8_t *l4;
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	const uint8_t *payload;
	uint32_t payload_len;
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* Parse a frame of link type LINK.  Returns PACKET_OK and fills P, or the
 * reason it cannot be used (P is then partially filled and must not be
 * used). */
enum packet_status packet_parse_link(struct packet *p, enum packet_link link,
				     const uint8_t *buf, size_t len);

/* Parse an IP packet (what NFQUEUE delivers).  P's L2 fields are left as the
 * caller set them (e.g. from the NFQUEUE hw address attribute). */
enum packet_status packet_parse_ip(struct packet *p, const uint8_t *buf,
				   size_t len);

/*
 * Is P an ICMP or ICMPv6 error message (destination unreachable, source
 * quench, redirect, time exceeded, parameter problem; ICMPv6 also packet
 * too big)?  Such a message reports on another flow, whose packet it quotes.
 */
bool packet_is_icmp_error(const struct packet *p);

/*
 * Rewrite parsed TCP packet P into a reset for its receiver: the same
 * addresses, ports, sequence and acknowledgment numbers, flags RST (and ACK
 * if P had it), no options, no payload, window 0, valid IP and TCP
 * checksums.  The receiver expects P's sequence number next, so it takes
 * the reset as genuine and drops the connection at once (in SYN-SENT too,
 * where a reset counts when its ACK is acceptable).  The IPv4 header and
 * its options are kept (total length and checksum fixed); IPv6 packets
 * with extension headers are refused.
 *
 * Writes to out (cap bytes) and returns the length, or 0 when P is not a
 * TCP packet it can rewrite (not TCP, a fragment, a reset already, IPv6
 * extension headers, cap too small).
 */
size_t packet_tcp_reset(const struct packet *p, uint8_t *out, size_t cap);

/*
 * Rewrite parsed UDP packet P (from S to R) into what R would get had S's
 * side refused R's datagrams: an ICMP destination unreachable,
 * administratively prohibited (ICMPv6: communication administratively
 * prohibited) from S to R, quoting the IP and UDP headers of a datagram
 * from R to S on the same ports.  R's stack matches the quote to its socket
 * and reports the error at once (EHOSTUNREACH / "host unreachable").
 *
 * Writes to out (cap bytes) and returns the length (56 for IPv4, 96 for
 * IPv6), or 0 when P is not a UDP packet it can answer for (a fragment, or
 * cap too small).
 */
size_t packet_udp_unreach(const struct packet *p, uint8_t *out, size_t cap);

#endif
