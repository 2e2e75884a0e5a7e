/* alertlog.h - the alert stream: one JSON object per line.
 *
 * Fixed header first (timestamp, event_type, severity), then device, flow,
 * rule, action and a human message.  The schema is documented in
 * docs/alerts.md.  Timestamps are the packet clock (capture time on replay).
 */
#ifndef IOTJAIL_ALERTLOG_H
#define IOTJAIL_ALERTLOG_H

#include <stdint.h>
#include <stdio.h>

#include "policy/policy.h"

struct flow;
struct classifier;
struct jbuf;

/* "critical", "warning", "notice" for an event type. */
const char *alert_severity(const char *event_type);

/* RFC 3339 UTC with microseconds: "2026-01-01T00:00:05.000000Z". */
void alert_timestamp(uint64_t ts_us, char *buf, size_t len);

/* Alert A of verdict V about flow F as one JSON object, appended to J.
 * IFNAMES: the interfaces (bridge ports) of key sides 0 and 1, or NULL. */
void alertlog_json(struct jbuf *j, uint64_t ts_us, const struct policy_alert *a,
		   const struct policy_verdict *v, const struct flow *f,
		   const struct classifier *c, const char *const ifnames[2]);

/* The same as one human line (no newline). */
void alertlog_text(FILE *out, uint64_t ts_us, const struct policy_alert *a,
		   const struct policy_verdict *v);

#endif
