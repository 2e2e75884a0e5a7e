/* flowlog.h - how a flow is written: one JSON object, or one human line.
 *
 * The flow's "src" is the side that initiated it (the device that opened a
 * connection, or sent the first datagram), whatever the canonical key order.
 */
#ifndef IOTJAIL_FLOWLOG_H
#define IOTJAIL_FLOWLOG_H

#include <stddef.h>
#include <stdio.h>

struct flow;
struct classifier;
struct jbuf;

/* Textual address of side SIDE of F into BUF (INET6_ADDRSTRLEN bytes). */
void flow_addr_str(const struct flow *f, int side, char *buf, size_t len);
/* "tcp", "udp", "icmp", "icmp6", or the number. */
const char *flow_proto_str(unsigned ip_proto, char *buf, size_t len);

/* The flow as a JSON object, appended to J (which the caller resets). */
void flowlog_json(struct jbuf *j, const struct flow *f,
		  const struct classifier *c, const char *verdict);

/* One human-readable line, without the newline. */
void flowlog_text(FILE *out, const struct flow *f, const struct classifier *c,
		  const char *verdict);

#endif
