/* flowlog.c - flow records as JSON lines and as text. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/classify.h"
#include "daemon/flow.h"
#include "daemon/flowlog.h"
#include "daemon/json.h"

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

static void mac_str(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

void flowlog_json(struct jbuf *j, const struct flow *f,
		  const struct classifier *c, const char *verdict)
{
	char a[INET6_ADDRSTRLEN], name[128], mac[18];
	int s = f->initiator, d = !s;
	unsigned bit;

	json_begin(j);
	flow_addr_str(f, s, a, sizeof(a));
	json_str(j, "src_ip", a);
	json_u64(j, "src_port", f->key.port[s]);
	flow_addr_str(f, d, a, sizeof(a));
	json_str(j, "dst_ip", a);
	json_u64(j, "dst_port", f->key.port[d]);
	json_u64(j, "ip_proto", f->key.ip_proto);
	if (f->flags & (FLOW_F_MAC0 << s)) {
		mac_str(f->mac[s], mac, sizeof(mac));
		json_str(j, "src_mac", mac);
	} else {
		json_null(j, "src_mac");
	}
	json_u64(j, "vlan", f->key.vlan);
	classifier_proto_name(c, f->master, f->app, name, sizeof(name));
	json_str(j, "app_proto", name);
	json_str(j, "category", classifier_category_name(c, f->category));
	json_str(j, "host", f->host);
	json_u64(j, "packets", (uint64_t)f->packets[0] + f->packets[1]);
	json_u64(j, "bytes", f->bytes[0] + f->bytes[1]);
	json_u64(j, "inspected_packets", f->inspected);
	json_str(j, "verdict", verdict);
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
	json_end(j);
}

void flowlog_text(FILE *out, const struct flow *f, const struct classifier *c,
		  const char *verdict)
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
		flow_decided_by_name(f->decided_by), f->inspected, verdict);
}
