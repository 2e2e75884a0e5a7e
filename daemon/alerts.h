/* alerts.h - the alert stream: one record, three formats, one sink.
 *
 * Every alert source (the policy's verdicts, the baselines, the detectors,
 * quarantine) fills a struct alert on its stack and hands it to
 * alert_sink_emit(), which applies the re-arm rule and writes it to each
 * output: the alert log (one JSON object per line), syslog (one concise line,
 * facility daemon, priority from the severity) and a text stream (the
 * foreground daemon's stdout, replay's text mode).  The schema, the severity
 * table and the file handling are documented in docs/alerts.md.
 *
 * Timestamps are the packet clock in microseconds (capture time on replay),
 * and the re-arm clock is the same clock in milliseconds, so replays and
 * tests are deterministic.
 *
 * Every output is 7-bit ASCII whatever the input: device names come from the
 * policy, but host names, and so messages, come from the network.  JSON
 * escapes control and non-ASCII bytes as \u00XX (json.c, one escape per byte,
 * so invalid UTF-8 stays valid JSON and loses nothing); syslog and text lines
 * escape them, and the backslash, as \xNN, so no field can split a line or
 * forge another.
 */
#ifndef IOTJAIL_ALERTS_H
#define IOTJAIL_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "daemon/rearm.h"

struct flow;
struct classifier;
struct jbuf;
struct policy_alert;
struct policy_device;
struct policy_verdict;

/* ------------------------------------------------------------------------ */
/* Event types and severities */

enum alert_severity {
	ALERT_CRITICAL,
	ALERT_WARNING,
	ALERT_NOTICE,
	ALERT_INFO,
	__ALERT_SEVERITY_MAX
};

/* "critical", "warning", "notice", "info"; "?" out of range. */
const char *alert_severity_name(enum alert_severity s);

/* LOG_CRIT, LOG_WARNING, LOG_NOTICE, LOG_INFO (without a facility). */
int alert_severity_priority(enum alert_severity s);

/* Every event type iotjail raises.  The string in struct alert is the name
 * (alert_event_info(e)->name); the enum only indexes the table and the
 * per-type counters. */
enum alert_event {
	ALERT_EV_UNKNOWN_DEVICE,
	ALERT_EV_SERVICE_NOT_ALLOWED_OUT,
	ALERT_EV_SERVICE_NOT_ALLOWED_IN,
	ALERT_EV_RULE_ALERT,
	ALERT_EV_BINDING_VIOLATION,
	ALERT_EV_NEW_SERVICE_IN,
	ALERT_EV_NEW_ENDPOINT,
	ALERT_EV_BINDING_CHANGE,
	ALERT_EV_PORT_CHANGE,
	ALERT_EV_THROUGHPUT_ABOVE_BASELINE,
	ALERT_EV_THROUGHPUT_BELOW_BASELINE,
	ALERT_EV_DEVICE_SILENT,
	ALERT_EV_VOLUME_LIMIT,
	ALERT_EV_REPORT_INTERVAL,
	ALERT_EV_FLOW_RISK,
	ALERT_EV_SCAN,
	ALERT_EV_NEW_FLOW_FLOOD,
	ALERT_EV_QUARANTINE_APPLIED,
	ALERT_EV_QUARANTINE_RELEASED,
	__ALERT_EVENT_MAX
};

struct alert_event_info {
	const char *name;		/* "service_not_allowed_out" */
	enum alert_severity severity;
	const char *summary;		/* one line, for docs and help */
};

/* The table entry of E (iterate 0 .. __ALERT_EVENT_MAX - 1); NULL out of
 * range.  Borrowed, static. */
const struct alert_event_info *alert_event_info(enum alert_event e);
/* The event EVENT_TYPE names (case-sensitive), or __ALERT_EVENT_MAX if it
 * is not one of the table's (or NULL). */
enum alert_event alert_event_lookup(const char *event_type);
bool alert_event_known(const char *event_type);
/* Its severity; ALERT_NOTICE for a name not in the table. */
enum alert_severity alert_event_severity(const char *event_type);

/* ------------------------------------------------------------------------ */
/* The record */

/* The device an alert is about. */
struct alert_device {
	const char *name;	/* NULL: the alert is about no device, and
				 * "device" is null */
	const char *profile;	/* NULL: null */
	bool has_mac;
	uint8_t mac[6];
	uint8_t family;		/* AF_INET, AF_INET6; 0: no address (null) */
	uint8_t addr[16];	/* network order; IPv4 in the first 4 bytes */
	const char *port;	/* bridge port (interface), or NULL */
};

#define ALERT_PROTO_MAX 128	/* "TLS.Google" and longer nDPI names */

struct alert_flow {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16];	/* src is the flow's initiator */
	uint16_t sport, dport;
	uint8_t ip_proto;
	char app_proto[ALERT_PROTO_MAX];	/* nDPI's name; "": null */
	const char *category;	/* NULL: null */
	const char *host;	/* SNI / HTTP Host / DNS query; NULL: null */
};

enum alert_field_type { AF_STR, AF_U64, AF_I64, AF_DOUBLE, AF_BOOL };

struct alert_field {
	const char *key;
	enum alert_field_type type;
	union {
		const char *s;	/* NULL: null */
		uint64_t u;
		int64_t i;
		double d;	/* not finite: null */
		bool b;
	} v;
};

#define ALERT_MAX_FIELDS 12
#define ALERT_MESSAGE_MAX 256

/*
 * One alert, filled by its source on the stack; nothing is allocated.
 * Every pointer is borrowed: it must stay valid until alert_sink_emit() (or
 * the formatting call) returns.  Start with alert_init(), which zeroes it.
 */
struct alert {
	uint64_t ts_us;			/* packet clock: capture time in replay */
	const char *event_type;		/* a name from the event table */
	/* What makes two alerts "the same" beyond device name and event
	 * type (a host, a service, a peer), or NULL: one alert per device
	 * and event type per re-arm time.  It may point into the alert
	 * itself (alert_from_policy() points it at message): re-point it
	 * if you copy the struct. */
	const char *rearm_key;
	char key[128];			/* room for a rearm_key made here */
	struct alert_device device;
	bool has_flow;			/* false: "flow" is null */
	struct alert_flow flow;
	const char *rule_file;		/* NULL: "rule" is null */
	unsigned rule_line;
	/* What was done: "alert" (alert_init's default: reported, nothing
	 * else), "none", "deny", "quarantine", "release", ...; NULL: null */
	const char *action;
	char message[ALERT_MESSAGE_MAX];	/* human, one line */
	unsigned n_fields;		/* event-specific: under "details" */
	struct alert_field fields[ALERT_MAX_FIELDS];
	unsigned fields_dropped;	/* alert_add_*() beyond ALERT_MAX_FIELDS
					 * or without a key */
	uint32_t suppressed;		/* set by the sink: repeats suppressed
					 * since the last one emitted */
};

/* Zero A, set its time and event type (a static string), action "alert". */
void alert_init(struct alert *a, uint64_t ts_us, const char *event_type);

/* Append one field under "details", in the order added.  KEY and a string
 * value are borrowed.  Beyond ALERT_MAX_FIELDS (or with a NULL KEY) the
 * field is dropped and counted in a->fields_dropped. */
void alert_add_str(struct alert *a, const char *key, const char *v);
void alert_add_u64(struct alert *a, const char *key, uint64_t v);
void alert_add_i64(struct alert *a, const char *key, int64_t v);
void alert_add_double(struct alert *a, const char *key, double v);
void alert_add_bool(struct alert *a, const char *key, bool v);

/* printf into a->message, truncated to fit (always terminated). */
void alert_message(struct alert *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* OUT from flow F: src is its initiator; the protocol, category and host as
 * the flow log names them.  C NULL: no app_proto and no category. */
void alert_flow_from(struct alert_flow *out, const struct flow *f,
		     const struct classifier *c);

/* OUT for device D (NULL: no name, no profile) seen as key side SIDE (0 or
 * 1, not initiator-relative) of F: that side's MAC if seen and its
 * address.  SIDE < 0 (or F NULL): neither.  PORT is borrowed. */
void alert_device_from_flow(struct alert_device *out,
			    const struct policy_device *d,
			    const struct flow *f, int side, const char *port);

/*
 * OUT for the policy's alert PA of verdict V about flow F, with exactly the
 * content the alert log has always had: the device is the side
 * whose policy device PA is about (the initiator's if both are), with its
 * MAC, address and bridge port (IFNAMES: the interfaces of key sides 0 and
 * 1, or NULL); the flow; the rule from the verdict; the action
 * policy_action_name(V->action); PA's message.  The re-arm key is the
 * message (it names the device, the service and the peer, never an
 * ephemeral port).  No details.  A PA about no device gives "device": null.
 */
void alert_from_policy(struct alert *out, uint64_t ts_us,
		       const struct policy_alert *pa,
		       const struct policy_verdict *v, const struct flow *f,
		       const struct classifier *c,
		       const char *const ifnames[2]);

/* ------------------------------------------------------------------------ */
/* Formats (pure: no locks, no I/O but the FILE given) */

/* RFC 3339 UTC with microseconds: "2026-01-01T00:00:05.000000Z". */
void alert_time_str(uint64_t ts_us, char *buf, size_t len);

/*
 * A as one JSON object appended to J (which the caller resets), keys in this
 * order: timestamp, event_type, severity, device {name, mac, ip, port,
 * profile} or null, flow {src_ip, src_port, dst_ip, dst_port, ip_proto,
 * app_proto, category, host} or null, rule {file, line} or null, action,
 * message, suppressed, details {...}.
 */
void alert_json(struct jbuf *j, const struct alert *a);

/* One human line, without the newline:
 * "ALERT <time> <severity> <event type> <device> <message> [<action>, <rule
 * file>:<line>]" plus " (N suppressed)" when N > 0. */
void alert_text(FILE *out, const struct alert *a);

/*
 * The syslog line into BUF (N bytes, always terminated when N > 0), no
 * newline: "alert <severity> <event type> <message> [<action>]" plus
 * " (N suppressed)" when N > 0.  Truncated to fit, never inside an escape.
 * Returns its length.  ALERT_SYSLOG_MAX always holds a whole line.
 */
#define ALERT_SYSLOG_MAX 1536
size_t alert_syslog_line(char *buf, size_t n, const struct alert *a);
/* LOG_CRIT / LOG_WARNING / LOG_NOTICE / LOG_INFO by severity; the caller
 * adds the facility (LOG_DAEMON). */
int alert_syslog_priority(const struct alert *a);

/* ------------------------------------------------------------------------ */
/* The sink */

struct alert_sink_config {
	const char *path;	/* alert log; NULL: no file.  Copied. */
	uint64_t max_bytes;	/* rotate to PATH.1 beyond this; 0: no cap */
	bool syslog;		/* also syslog(LOG_DAEMON | priority) */
	FILE *text;		/* also text lines here; NULL: none.  Borrowed. */
	FILE *json;		/* also JSON lines here (a replay's --alerts, or
				 * stdout); NULL: none.  Borrowed: never
				 * reopened or capped. */
	uint32_t rearm_ms;	/* policy_alert_rearm_ms(); 0: never suppress */
	size_t rearm_capacity;	/* re-arm keys kept; 0: 4096 */
};

struct alert_sink;

/* NULL with errno and *ERR (if not NULL) = -errno: the file cannot be opened
 * (ENOENT, EACCES, EISDIR...), EINVAL, ENOMEM.  The file is opened
 * O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode 0640 (before umask). */
struct alert_sink *alert_sink_new(const struct alert_sink_config *cfg,
				  int *err);
void alert_sink_free(struct alert_sink *s);	/* NULL is a no-op */

/*
 * Emit A: thread-safe (one mutex; alerts are rare next to packets).
 *
 * Re-arm first: the same alert (same device name, event type and
 * a->rearm_key) within the re-arm time after the last one emitted is only
 * counted: returns 0.  Otherwise a->suppressed is set to the repeats since,
 * and the line goes to every output: the file with one write(2) (lines of
 * concurrent emitters never interleave or split), then syslog, then the text
 * stream; returns 1.  If the file write fails, the other outputs still get
 * the alert, the error is counted, and -errno is returned (the file never
 * keeps a partial line that it could take back: see docs/alerts.md).
 */
int alert_sink_emit(struct alert_sink *s, struct alert *a);

/* Open the path again and swap it in (after logrotate moved the file; the
 * daemon calls it on SIGUSR1 and SIGHUP).  0; or -errno, and the old file
 * stays in use.  0 without a path. */
int alert_sink_reopen(struct alert_sink *s);

/* Also keep each emitted alert's JSON (without newline) in RECENT
 * (daemon/ring.h; borrowed, NULL: none), for `iotjailctl alerts`. */
struct ring;
void alert_sink_set_recent(struct alert_sink *s, struct ring *recent);

/* A reload's new re-arm time; applies from the next alert. */
void alert_sink_set_rearm(struct alert_sink *s, uint32_t rearm_ms);

struct alert_sink_stats {
	/* alerts written, per event type; [__ALERT_EVENT_MAX]: types not in
	 * the table */
	uint64_t emitted[__ALERT_EVENT_MAX + 1];
	uint64_t emitted_total;
	uint64_t suppressed;		/* not emitted: within re-arm time */
	uint64_t write_errors;		/* alert log writes that failed */
	uint64_t rotations;		/* size cap: PATH moved to PATH.1 */
	uint64_t rotate_failures;	/* rename or open failed: kept writing
					 * to the old file */
	uint64_t reopens;
	uint64_t reopen_failures;
	uint64_t recent_lost;		/* not kept for the control socket
					 * (no memory) */
	uint64_t fields_dropped;	/* sum of fields_dropped of the alerts
					 * handed to emit (a source's bug) */
	struct rearm_stats rearm;
};

void alert_sink_stats(struct alert_sink *s, struct alert_sink_stats *out);

#endif
