/* flowlog.c - flow records as JSON lines and as text. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/classify.h"
#include "daemon/flow.h"
#include "daemon/flowlog.h"
#include "daemon/judge.h"
#include "daemon/json.h"
#include "policy/policy.h"

static const char *verdict_name(const struct flow *f, const struct policy *p)
{
	return p ? policy_action_name((enum policy_action)f->verdict) : "allow";
}

/* Device name of side SIDE, or NULL when it is not a LAN device. */
static const char *device_name(const struct flow *f, int side,
			       const struct policy *p)
{
	struct policy_endpoint e;
	const struct policy_device *d;

	judge_endpoint(f, side, NULL, &e);
	d = policy_lookup_device(p, &e, f->key.vlan);
	return d ? policy_device_name(d) : NULL;
}

void flow_addr_str(const struct flow *f, int side, char *buf, size_t len)
{
	if (!inet_ntop(f->key.family == AF_INET ?
			       AF_INET : AF_INET6,
		       f->key.addr[side], buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

const char *flow_proto_str(unsigned ip_proto, char *buf, size_t len)
{
	switch (ip_proto) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmp6";
	default:
		snprintf(buf, len, "%u", ip_proto);
		return buf;
	}
}

bool flow_mac_str(const struct flow *f, int side, char *buf, size_t len)
{
	const uint8_t *m = f->mac[side];

	if (!(f->flags & (FLOW_F_MAC0 << side)))
		return false;
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
	return true;
}

void flowlog_tuple(struct jbuf *j, const struct flow *f)
{
	char a[INET6_ADDRSTRLEN];
	int s = f->initiator, d = !s;

	flow_addr_str(f, s, a, sizeof(a));
	json_str(j, "src_ip", a);
	json_u64(j, "src_port", f->key.port[s]);
	flow_addr_str(f, d, a, sizeof(a));
	json_str(j, "dst_ip", a);
	json_u64(j, "dst_port", f->key.port[d]);
	json_u64(j, "ip_proto", f->key.ip_proto);
}

void flowlog_json(struct jbuf *j, const struct flow *f,
		  const struct classifier *c, const struct policy *p)
{
	char name[128], mac[18];
	int s = f->initiator, d = !s;
	unsigned bit;

	json_begin(j);
	flowlog_tuple(j, f);
	json_str(j, "src_mac", flow_mac_str(f, s, mac, sizeof(mac)) ? mac : NULL);
	json_u64(j, "vlan", f->key.vlan);
	classifier_proto_name(c, f->master, f->app, name, sizeof(name));
	json_str(j, "app_proto", name);
	json_str(j, "category", classifier_category_name(c, f->category));
	json_str(j, "host", f->host);
	json_u64(j, "packets", (uint64_t)f->packets[0] + f->packets[1]);
	json_u64(j, "bytes", f->bytes[0] + f->bytes[1]);
	json_u64(j, "inspected_packets", f->inspected);
	json_str(j, "verdict", verdict_name(f, p));
	if (p && f->verdict >= POLICY_DENY)
		json_str(j, "deny_with", f->flags & FLOW_F_REJECT ? "reject" : "drop");
	json_str(j, "decided_by", flow_decided_by_name(f->decided_by));
	json_bool(j, "guessed", (f->flags & FLOW_F_GUESSED) != 0);
	json_arr(j, "risks");
	for (bit = 1; bit < 64; bit++)
		if (f->risk & (1ULL << bit))
			json_str(j, NULL, classifier_risk_name(bit) ?
						  classifier_risk_name(bit) :
						  "unknown");
	json_arr_end(j);
	json_u64(j, "packets_up", f->packets[s]);
	json_u64(j, "bytes_up", f->bytes[s]);
	json_u64(j, "packets_down", f->packets[d]);
	json_u64(j, "bytes_down", f->bytes[d]);
	json_double(j, "first_seen", (double)f->first_us / 1e6, 6);
	json_double(j, "last_seen", (double)f->last_us / 1e6, 6);
	if (p) {
		json_str(j, "src_device", device_name(f, s, p));
		json_str(j, "dst_device", device_name(f, d, p));
		if (f->rule_line) {
			json_obj(j, "rule");
			json_str(j, "file", policy_file(p));
			json_u64(j, "line", f->rule_line);
			json_end(j);
		} else {
			json_null(j, "rule");
		}
		json_str(j, "reason", f->reason);
	}
	json_end(j);
}

void flowlog_text(FILE *out, const struct flow *f, const struct classifier *c,
		  const struct policy *p)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], name[128], pb[8];
	int s = f->initiator, d = !s;

	flow_addr_str(f, s, a, sizeof(a));
	flow_addr_str(f, d, b, sizeof(b));
	classifier_proto_name(c, f->master, f->app, name, sizeof(name));
	fprintf(out, "%-5s %s%s%s:%u -> %s%s%s:%u %-14s %-28s %5" PRIu64
		" pkts %9" PRIu64 " bytes  %s/%u  %s",
		flow_proto_str(f->key.ip_proto, pb, sizeof(pb)),
		f->key.family == AF_INET6 ? "[" : "", a,
		f->key.family == AF_INET6 ? "]" : "", f->key.port[s],
		f->key.family == AF_INET6 ? "[" : "", b,
		f->key.family == AF_INET6 ? "]" : "", f->key.port[d],
		name, f->host ? f->host : "-",
		(uint64_t)f->packets[0] + f->packets[1],
		f->bytes[0] + f->bytes[1],
		flow_decided_by_name(f->decided_by), f->inspected,
		verdict_name(f, p));
	if (p && f->rule_line)
		fprintf(out, " (%s:%u)", policy_file(p), f->rule_line);
}

void flow_brief_fill(struct flow_brief *b, const struct flow *f,
		     const struct classifier *c, const struct policy_verdict *v)
{
	const struct policy_device *d[2] = { v->initiator_dev, v->responder_dev };
	int i, side;

	memset(b, 0, sizeof(*b));
	b->ts_us = f->last_us;
	b->family = f->key.family;
	b->ip_proto = f->key.ip_proto;
	b->action = (uint8_t)f->verdict;
	b->reject = (f->flags & FLOW_F_REJECT) != 0;
	for (i = 0; i < 2; i++) {
		side = i ? !f->initiator : f->initiator;
		memcpy(b->addr[i], f->key.addr[side], 16);
		b->port[i] = f->key.port[side];
		if (d[i])
			snprintf(b->device[i], sizeof(b->device[i]), "%s",
				 policy_device_name(d[i]));
	}
	classifier_proto_name(c, f->master, f->app, b->proto, sizeof(b->proto));
	if (f->host)
		snprintf(b->host, sizeof(b->host), "%s", f->host);
	snprintf(b->decided_by, sizeof(b->decided_by), "%s",
		 flow_decided_by_name(f->decided_by));
	if (v->reason)
		snprintf(b->reason, sizeof(b->reason), "%s", v->reason);
}

void flow_brief_json(struct jbuf *j, const struct flow_brief *b)
{
	char a[INET6_ADDRSTRLEN], pb[8];
	int i;

	json_begin(j);
	json_double(j, "time", (double)b->ts_us / 1e6, 3);
	for (i = 0; i < 2; i++) {
		if (!inet_ntop(b->family == AF_INET ? AF_INET : AF_INET6,
			       b->addr[i], a, sizeof(a)))
			snprintf(a, sizeof(a), "?");
		json_str(j, i ? "dst_ip" : "src_ip", a);
		json_u64(j, i ? "dst_port" : "src_port", b->port[i]);
		json_str(j, i ? "dst_device" : "src_device",
			 b->device[i][0] ? b->device[i] : NULL);
	}
	json_str(j, "l4", flow_proto_str(b->ip_proto, pb, sizeof(pb)));
	json_str(j, "app_proto", b->proto);
	json_str(j, "host", b->host[0] ? b->host : NULL);
	json_str(j, "verdict", policy_action_name((enum policy_action)b->action));
	if (b->action >= POLICY_DENY)
		json_str(j, "deny_with", b->reject ? "reject" : "drop");
	json_str(j, "decided_by", b->decided_by);
	json_str(j, "reason", b->reason[0] ? b->reason : NULL);
	json_end(j);
}
