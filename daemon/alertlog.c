/* alertlog.c - alerts as JSON lines and text. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon/alertlog.h"
#include "daemon/classify.h"
#include "daemon/flow.h"
#include "daemon/flowlog.h"
#include "daemon/json.h"

/* Severity by event type: data, not a chain of ifs. */
static const struct {
	const char *event_type;
	const char *severity;
} severities[] = {
	{ "binding_violation", "critical" },
	{ "quarantine", "critical" },
	{ "service_not_allowed_out", "warning" },
	{ "service_not_allowed_in", "warning" },
	{ "unknown_device", "notice" },
	{ "rule_alert", "notice" },
};

const char *alert_severity(const char *event_type)
{
	size_t i;

	for (i = 0; i < sizeof(severities) / sizeof(severities[0]); i++)
		if (!strcmp(severities[i].event_type, event_type))
			return severities[i].severity;
	return "notice";
}

void alert_timestamp(uint64_t ts_us, char *buf, size_t len)
{
	time_t s = (time_t)(ts_us / 1000000);
	struct tm tm;
	char day[32];

	gmtime_r(&s, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06uZ", day, (unsigned)(ts_us % 1000000));
}

void alertlog_json(struct jbuf *j, uint64_t ts_us, const struct policy_alert *a,
		   const struct policy_verdict *v, const struct flow *f,
		   const struct classifier *c, const char *const ifnames[2])
{
	char ts[40], ip[INET6_ADDRSTRLEN], mac[18], name[128];
	int side = -1, s = f->initiator, d = !s;

	alert_timestamp(ts_us, ts, sizeof(ts));
	json_begin(j);
	json_str(j, "timestamp", ts);
	json_str(j, "event_type", a->event_type);
	json_str(j, "severity", alert_severity(a->event_type));
	if (a->device == v->initiator_dev)
		side = s;
	else if (a->device == v->responder_dev)
		side = d;
	json_obj(j, "device");
	json_str(j, "name", a->device ? policy_device_name(a->device) : NULL);
	json_str(j, "mac", side >= 0 && flow_mac_str(f, side, mac, sizeof(mac)) ?
				   mac : NULL);
	if (side >= 0) {
		flow_addr_str(f, side, ip, sizeof(ip));
		json_str(j, "ip", ip);
	} else {
		json_null(j, "ip");
	}
	json_str(j, "port", side >= 0 && ifnames ? ifnames[side] : NULL);
	json_str(j, "profile",
		 a->device ? policy_device_profile(a->device) : NULL);
	json_end(j);
	json_obj(j, "flow");
	flowlog_tuple(j, f);
	classifier_proto_name(c, f->master, f->app, name, sizeof(name));
	json_str(j, "app_proto", name);
	json_str(j, "category", classifier_category_name(c, f->category));
	json_str(j, "host", f->host);
	json_end(j);
	if (v->rule_file) {
		json_obj(j, "rule");
		json_str(j, "file", v->rule_file);
		json_u64(j, "line", v->rule_line);
		json_end(j);
	} else {
		json_null(j, "rule");
	}
	json_str(j, "action", policy_action_name(v->action));
	json_str(j, "message", a->message);
	json_end(j);
}

void alertlog_text(FILE *out, uint64_t ts_us, const struct policy_alert *a,
		   const struct policy_verdict *v)
{
	char ts[40];

	alert_timestamp(ts_us, ts, sizeof(ts));
	fprintf(out, "ALERT %s %-8s %-24s %-14s %s [%s", ts,
		alert_severity(a->event_type), a->event_type,
		a->device ? policy_device_name(a->device) : "-", a->message,
		policy_action_name(v->action));
	if (v->rule_file)
		fprintf(out, ", %s:%u", v->rule_file, v->rule_line);
	fputc(']', out);
}
