/* flowlog.h - how a flow is written: one JSON object, or one human line.
 *
 * The flow's "src" is the side that initiated it (the device that opened a
 * connection, or sent the first datagram), whatever the canonical key order.
 */
#ifndef IOTJAIL_FLOWLOG_H
#define IOTJAIL_FLOWLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct flow;
struct classifier;
struct jbuf;
struct policy;

/* Textual address of side SIDE of F into BUF (INET6_ADDRSTRLEN bytes). */
void flow_addr_str(const struct flow *f, int side, char *buf, size_t len);
/* "tcp", "udp", "icmp", "icmp6", or the number. */
const char *flow_proto_str(unsigned ip_proto, char *buf, size_t len);

/* "02:00:00:00:00:10" for side SIDE's MAC into BUF (18 bytes); false (and
 * BUF untouched) when that side's MAC was never seen. */
bool flow_mac_str(const struct flow *f, int side, char *buf, size_t len);

/* src_ip, src_port, dst_ip, dst_port, ip_proto (src = initiator) into J. */
void flowlog_tuple(struct jbuf *j, const struct flow *f);

/* The flow as a JSON object, appended to J (which the caller resets).  With
 * a policy P (the one that decided F), the verdict, the deciding rule and
 * both sides' device names are included; without, the verdict is "allow". */
void flowlog_json(struct jbuf *j, const struct flow *f,
		  const struct classifier *c, const struct policy *p);

/* A decided flow in brief, copied out of the flow table (which reuses its
 * records) and the policy (which a reload frees): what the control socket
 * lists as recent flows.  Fixed size, strings truncated. */
struct policy_verdict;
struct flow_brief {
	uint64_t ts_us;			/* when it was decided */
	uint8_t family, ip_proto;
	uint8_t action;			/* enum policy_action */
	bool reject;			/* a deny refused with reset/unreachable */
	uint8_t addr[2][16];		/* [0] initiator, [1] responder */
	uint16_t port[2];
	char proto[48];			/* "TLS.Google" */
	char host[96];
	char device[2][40];		/* LAN device names; "" if none */
	char decided_by[12];
	char reason[128];
};

void flow_brief_fill(struct flow_brief *b, const struct flow *f,
		     const struct classifier *c, const struct policy_verdict *v);
/* B as a JSON object appended to J. */
void flow_brief_json(struct jbuf *j, const struct flow_brief *b);

/* One human-readable line, without the newline. */
void flowlog_text(FILE *out, const struct flow *f, const struct classifier *c,
		  const struct policy *p);

#endif
