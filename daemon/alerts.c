/* alerts.c - alert records, their JSON / text / syslog forms, and the sink
 * that re-arms them and writes them out. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon/alerts.h"
#include "daemon/ring.h"
#include "daemon/classify.h"
#include "daemon/flow.h"
#include "daemon/flowlog.h"
#include "daemon/json.h"
#include "policy/policy.h"

/* ---- event types and severities ------------------------------------------ */

static const char *const severity_names[__ALERT_SEVERITY_MAX] = {
	[ALERT_CRITICAL] = "critical",
	[ALERT_WARNING] = "warning",
	[ALERT_NOTICE] = "notice",
	[ALERT_INFO] = "info",
};

static const int severity_priorities[__ALERT_SEVERITY_MAX] = {
	[ALERT_CRITICAL] = LOG_CRIT,
	[ALERT_WARNING] = LOG_WARNING,
	[ALERT_NOTICE] = LOG_NOTICE,
	[ALERT_INFO] = LOG_INFO,
};

/* Indexed by enum alert_event, so the enum and the names cannot drift apart;
 * docs/alerts.md has one section per entry. */
static const struct alert_event_info events[__ALERT_EVENT_MAX] = {
	[ALERT_EV_UNKNOWN_DEVICE] = { "unknown_device", ALERT_NOTICE,
		"a LAN address that no device declares took part in a flow" },
	[ALERT_EV_SERVICE_NOT_ALLOWED_OUT] = { "service_not_allowed_out",
		ALERT_WARNING,
		"a device started a flow that its out rules do not allow" },
	[ALERT_EV_SERVICE_NOT_ALLOWED_IN] = { "service_not_allowed_in",
		ALERT_WARNING,
		"a flow towards a device that its in rules do not allow" },
	[ALERT_EV_RULE_ALERT] = { "rule_alert", ALERT_NOTICE,
		"a flow matched a rule whose action is alert" },
	[ALERT_EV_BINDING_VIOLATION] = { "binding_violation", ALERT_CRITICAL,
		"a device broke its declared bindings (MAC, address, bridge "
		"port or VLAN)" },
	[ALERT_EV_NEW_SERVICE_IN] = { "new_service_in", ALERT_WARNING,
		"a device served a service it had not served before" },
	[ALERT_EV_NEW_ENDPOINT] = { "new_endpoint", ALERT_NOTICE,
		"a device talked to a remote endpoint it had not talked to "
		"before" },
	[ALERT_EV_BINDING_CHANGE] = { "binding_change", ALERT_WARNING,
		"a device's MAC/IP pairing changed" },
	[ALERT_EV_PORT_CHANGE] = { "port_change", ALERT_WARNING,
		"a device moved to another bridge port" },
	[ALERT_EV_THROUGHPUT_ABOVE_BASELINE] = { "throughput_above_baseline",
		ALERT_WARNING,
		"a device's traffic in a period was far above its learnt "
		"baseline" },
	[ALERT_EV_THROUGHPUT_BELOW_BASELINE] = { "throughput_below_baseline",
		ALERT_NOTICE,
		"a device's traffic in a period was far below its learnt "
		"baseline" },
	[ALERT_EV_DEVICE_SILENT] = { "device_silent", ALERT_WARNING,
		"a device that usually sends traffic sent nothing for a "
		"period" },
	[ALERT_EV_VOLUME_LIMIT] = { "volume_limit", ALERT_WARNING,
		"a device went over an hourly or daily volume limit" },
	[ALERT_EV_REPORT_INTERVAL] = { "report_interval", ALERT_NOTICE,
		"a service reported outside its expected interval (every, "
		"tolerance)" },
	[ALERT_EV_FLOW_RISK] = { "flow_risk", ALERT_NOTICE,
		"nDPI found a risk in a device's flow" },
	[ALERT_EV_SCAN] = { "scan", ALERT_CRITICAL,
		"a device probed many addresses or ports in a short time" },
	[ALERT_EV_NEW_FLOW_FLOOD] = { "new_flow_flood", ALERT_WARNING,
		"a device opened new flows faster than its new_flow_rate" },
	[ALERT_EV_QUARANTINE_APPLIED] = { "quarantine_applied",
		ALERT_CRITICAL,
		"a device was quarantined: all its traffic is blocked" },
	[ALERT_EV_QUARANTINE_RELEASED] = { "quarantine_released", ALERT_NOTICE,
		"a device's quarantine ended" },
};

const char *alert_severity_name(enum alert_severity s)
{
	return (unsigned)s < __ALERT_SEVERITY_MAX ? severity_names[s] : "?";
}

int alert_severity_priority(enum alert_severity s)
{
	return (unsigned)s < __ALERT_SEVERITY_MAX ? severity_priorities[s]
						  : LOG_NOTICE;
}

const struct alert_event_info *alert_event_info(enum alert_event e)
{
	return (unsigned)e < __ALERT_EVENT_MAX ? &events[e] : NULL;
}

/* A linear scan of 19 names: alerts are rare, and the table stays data. */
enum alert_event alert_event_lookup(const char *event_type)
{
	unsigned i;

	if (!event_type)
		return __ALERT_EVENT_MAX;
	for (i = 0; i < __ALERT_EVENT_MAX; i++)
		if (!strcmp(events[i].name, event_type))
			return (enum alert_event)i;
	return __ALERT_EVENT_MAX;
}

bool alert_event_known(const char *event_type)
{
	return alert_event_lookup(event_type) < __ALERT_EVENT_MAX;
}

enum alert_severity alert_event_severity(const char *event_type)
{
	enum alert_event e = alert_event_lookup(event_type);

	return e < __ALERT_EVENT_MAX ? events[e].severity : ALERT_NOTICE;
}

/* ---- the record ------------------------------------------------------------ */

void alert_init(struct alert *a, uint64_t ts_us, const char *event_type)
{
	memset(a, 0, sizeof(*a));
	a->ts_us = ts_us;
	a->event_type = event_type;
	a->action = "alert";
}

static struct alert_field *new_field(struct alert *a, const char *key,
				     enum alert_field_type type)
{
	struct alert_field *f;

	/* A source that adds more than it may is a bug to count, never a
	 * reason to write past the array or to lose the alert. */
	if (!key || a->n_fields >= ALERT_MAX_FIELDS) {
		if (a->fields_dropped < UINT_MAX)
			a->fields_dropped++;
		return NULL;
	}
	f = &a->fields[a->n_fields++];
	f->key = key;
	f->type = type;
	return f;
}

void alert_add_str(struct alert *a, const char *key, const char *v)
{
	struct alert_field *f = new_field(a, key, AF_STR);

	if (f)
		f->v.s = v;
}

void alert_add_u64(struct alert *a, const char *key, uint64_t v)
{
	struct alert_field *f = new_field(a, key, AF_U64);

	if (f)
		f->v.u = v;
}

void alert_add_i64(struct alert *a, const char *key, int64_t v)
{
	struct alert_field *f = new_field(a, key, AF_I64);

	if (f)
		f->v.i = v;
}

void alert_add_double(struct alert *a, const char *key, double v)
{
	struct alert_field *f = new_field(a, key, AF_DOUBLE);

	if (f)
		f->v.d = v;
}

void alert_add_bool(struct alert *a, const char *key, bool v)
{
	struct alert_field *f = new_field(a, key, AF_BOOL);

	if (f)
		f->v.b = v;
}

void alert_message(struct alert *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->message, sizeof(a->message), fmt, ap);
	va_end(ap);
}

void alert_flow_from(struct alert_flow *out, const struct flow *f,
		     const struct classifier *c)
{
	int s = f->initiator, d = !s;

	memset(out, 0, sizeof(*out));
	out->family = f->key.family;
	memcpy(out->src, f->key.addr[s], sizeof(out->src));
	memcpy(out->dst, f->key.addr[d], sizeof(out->dst));
	out->sport = f->key.port[s];
	out->dport = f->key.port[d];
	out->ip_proto = f->key.ip_proto;
	if (c) {
		classifier_proto_name(c, f->master, f->app, out->app_proto,
				      sizeof(out->app_proto));
		out->category = classifier_category_name(c, f->category);
	}
	out->host = f->host;
}

void alert_device_from_flow(struct alert_device *out,
			    const struct policy_device *d,
			    const struct flow *f, int side, const char *port)
{
	memset(out, 0, sizeof(*out));
	out->name = d ? policy_device_name(d) : NULL;
	out->profile = d ? policy_device_profile(d) : NULL;
	out->port = port;
	if (!f || side < 0 || side > 1)
		return;
	if (f->flags & (FLOW_F_MAC0 << side)) {
		out->has_mac = true;
		memcpy(out->mac, f->mac[side], sizeof(out->mac));
	}
	out->family = f->key.family;
	memcpy(out->addr, f->key.addr[side], sizeof(out->addr));
}

void alert_from_policy(struct alert *out, uint64_t ts_us,
		       const struct policy_alert *pa,
		       const struct policy_verdict *v, const struct flow *f,
		       const struct classifier *c,
		       const char *const ifnames[2])
{
	int side = -1;

	alert_init(out, ts_us, pa->event_type);
	/* The side the alert is about, as the alert log has always chosen it:
	 * the initiator's when both sides are that device (two unknown
	 * devices talking share the one unknown device). */
	if (pa->device == v->initiator_dev)
		side = f->initiator;
	else if (pa->device == v->responder_dev)
		side = !f->initiator;
	if (pa->device)
		alert_device_from_flow(&out->device, pa->device, f, side,
				       side >= 0 && ifnames ? ifnames[side]
							    : NULL);
	out->has_flow = true;
	alert_flow_from(&out->flow, f, c);
	out->rule_file = v->rule_file;
	out->rule_line = v->rule_line;
	out->action = policy_action_name(v->action);
	snprintf(out->message, sizeof(out->message), "%s", pa->message);
	/* The policy's message names the device (for the unknown device, its
	 * MAC and address), the service and the peer, but no ephemeral port:
	 * exactly what makes two of its alerts the same.  An unknown device is
	 * the same alert whoever it talks to: the machine is the news (a scan
	 * by it is the scan alert's). */
	out->rearm_key = out->message;
	if (!strcmp(pa->event_type, "unknown_device") && side >= 0) {
		char m[18];

		if (flow_mac_str(f, side, m, sizeof(m)))
			snprintf(out->key, sizeof(out->key), "%s", m);
		else
			flow_addr_str(f, side, out->key, sizeof(out->key));
		out->rearm_key = out->key;
	}
}

/* ---- formats ---------------------------------------------------------------- */

void alert_time_str(uint64_t ts_us, char *buf, size_t len)
{
	time_t s = (time_t)(ts_us / 1000000);
	struct tm tm;
	char day[32];

	gmtime_r(&s, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06uZ", day, (unsigned)(ts_us % 1000000));
}

/* The textual address as flow_addr_str() gives it, so a flow's addresses
 * read the same in the flow log and the alert log. */
static void addr_str(uint8_t family, const uint8_t *addr, char *buf,
		     size_t len)
{
	if (!inet_ntop(family == AF_INET ? AF_INET : AF_INET6, addr, buf,
		       (socklen_t)len))
		snprintf(buf, len, "?");
}

static void json_device(struct jbuf *j, const struct alert_device *d)
{
	char ip[INET6_ADDRSTRLEN], mac[18];
	const uint8_t *m = d->mac;

	if (!d->name) {
		json_null(j, "device");
		return;
	}
	json_obj(j, "device");
	json_str(j, "name", d->name);
	if (d->has_mac) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 m[0], m[1], m[2], m[3], m[4], m[5]);
		json_str(j, "mac", mac);
	} else {
		json_null(j, "mac");
	}
	if (d->family) {
		addr_str(d->family, d->addr, ip, sizeof(ip));
		json_str(j, "ip", ip);
	} else {
		json_null(j, "ip");
	}
	json_str(j, "port", d->port);
	json_str(j, "profile", d->profile);
	json_end(j);
}

static void json_flow(struct jbuf *j, const struct alert_flow *f)
{
	char ip[INET6_ADDRSTRLEN];

	json_obj(j, "flow");
	addr_str(f->family, f->src, ip, sizeof(ip));
	json_str(j, "src_ip", ip);
	json_u64(j, "src_port", f->sport);
	addr_str(f->family, f->dst, ip, sizeof(ip));
	json_str(j, "dst_ip", ip);
	json_u64(j, "dst_port", f->dport);
	json_u64(j, "ip_proto", f->ip_proto);
	json_str(j, "app_proto", f->app_proto[0] ? f->app_proto : NULL);
	json_str(j, "category", f->category);
	json_str(j, "host", f->host);
	json_end(j);
}

static void json_field(struct jbuf *j, const struct alert_field *f)
{
	char num[40];

	switch (f->type) {
	case AF_STR:
		json_str(j, f->key, f->v.s);
		break;
	case AF_U64:
		json_u64(j, f->key, f->v.u);
		break;
	case AF_I64:
		json_i64(j, f->key, f->v.i);
		break;
	case AF_DOUBLE:
		/* 15 significant digits: 0.1 stays 0.1, a byte count stays
		 * whole; NaN and infinities are not JSON. */
		if (isfinite(f->v.d)) {
			snprintf(num, sizeof(num), "%.15g", f->v.d);
			json_raw(j, f->key, num);
		} else {
			json_null(j, f->key);
		}
		break;
	case AF_BOOL:
		json_bool(j, f->key, f->v.b);
		break;
	default:
		json_null(j, f->key);
	}
}

void alert_json(struct jbuf *j, const struct alert *a)
{
	unsigned i, n = a->n_fields < ALERT_MAX_FIELDS ? a->n_fields
						       : ALERT_MAX_FIELDS;
	char ts[40];

	alert_time_str(a->ts_us, ts, sizeof(ts));
	json_begin(j);
	json_str(j, "timestamp", ts);
	json_str(j, "event_type", a->event_type);
	json_str(j, "severity",
		 alert_severity_name(alert_event_severity(a->event_type)));
	json_device(j, &a->device);
	if (a->has_flow)
		json_flow(j, &a->flow);
	else
		json_null(j, "flow");
	if (a->rule_file) {
		json_obj(j, "rule");
		json_str(j, "file", a->rule_file);
		json_u64(j, "line", a->rule_line);
		json_end(j);
	} else {
		json_null(j, "rule");
	}
	json_str(j, "action", a->action);
	json_str(j, "message", a->message);
	json_u64(j, "suppressed", a->suppressed);
	json_obj(j, "details");
	for (i = 0; i < n; i++)
		json_field(j, &a->fields[i]);
	json_end(j);
	json_end(j);
}

/* Text and syslog lines escape every byte outside printable ASCII, and the
 * backslash itself, as \xNN: a host name with a newline cannot start a
 * forged line, one with an escape sequence cannot drive a terminal, and
 * the escaping stays unambiguous. */
static bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\';
}

static void text_put(FILE *out, const char *s, int width)
{
	const unsigned char *u = (const unsigned char *)s;
	int n = 0;

	for (; *u; u++) {
		if (plain(*u)) {
			fputc(*u, out);
			n++;
		} else {
			fprintf(out, "\\x%02x", *u);
			n += 4;
		}
	}
	for (; n < width; n++)
		fputc(' ', out);
}

void alert_text(FILE *out, const struct alert *a)
{
	char ts[40];

	alert_time_str(a->ts_us, ts, sizeof(ts));
	fprintf(out, "ALERT %s %-8s ", ts,
		alert_severity_name(alert_event_severity(a->event_type)));
	text_put(out, a->event_type ? a->event_type : "-", 24);
	fputc(' ', out);
	text_put(out, a->device.name ? a->device.name : "-", 14);
	fputc(' ', out);
	text_put(out, a->message, 0);
	fputs(" [", out);
	text_put(out, a->action ? a->action : "-", 0);
	if (a->rule_file) {
		fputs(", ", out);
		text_put(out, a->rule_file, 0);
		fprintf(out, ":%u", a->rule_line);
	}
	fputc(']', out);
	if (a->suppressed)
		fprintf(out, " (%" PRIu32 " suppressed)", a->suppressed);
}

/* A bounded line: each piece goes in whole or not at all, and after the
 * first piece that does not fit nothing more does, so a truncated line
 * never ends in half an escape or in a later, shorter piece. */
struct lbuf {
	char *p;
	size_t cap, len;	/* cap counts the terminating NUL */
	bool full;
};

static void lb_mem(struct lbuf *b, const char *s, size_t n)
{
	if (b->full || b->len + n >= b->cap) {
		b->full = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void lb_str(struct lbuf *b, const char *s)
{
	lb_mem(b, s, strlen(s));
}

static void lb_esc(struct lbuf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	char esc[5];

	for (; *u && !b->full; u++) {
		if (plain(*u)) {
			lb_mem(b, (const char *)u, 1);
		} else {
			snprintf(esc, sizeof(esc), "\\x%02x", *u);
			lb_mem(b, esc, 4);
		}
	}
}

size_t alert_syslog_line(char *buf, size_t n, const struct alert *a)
{
	struct lbuf b = { buf, n, 0, n == 0 };
	char num[48];

	if (n)
		buf[0] = '\0';
	lb_str(&b, "alert ");
	lb_str(&b, alert_severity_name(alert_event_severity(a->event_type)));
	lb_str(&b, " ");
	lb_esc(&b, a->event_type ? a->event_type : "-");
	lb_str(&b, " ");
	lb_esc(&b, a->message);
	lb_str(&b, " [");
	lb_esc(&b, a->action ? a->action : "-");
	lb_str(&b, "]");
	if (a->suppressed) {
		snprintf(num, sizeof(num), " (%" PRIu32 " suppressed)",
			 a->suppressed);
		lb_str(&b, num);
	}
	return b.len;
}

int alert_syslog_priority(const struct alert *a)
{
	return alert_severity_priority(alert_event_severity(a->event_type));
}

/* ---- the sink ----------------------------------------------------------------- */

#define REARM_CAPACITY_DEFAULT 4096

struct alert_sink {
	/* One lock for the re-arm table, the buffers, the fd and the stats:
	 * an alert is a few hundred bytes every now and then, so a single
	 * critical section per alert costs nothing next to the packet path,
	 * and it is what keeps "re-arm, then write" one decision. */
	pthread_mutex_t lock;
	char *path, *path1;	/* NULL: no file */
	int fd;			/* -1: no file */
	uint64_t max_bytes;
	bool syslog;
	FILE *text, *json;
	struct ring *recent;	/* or NULL; borrowed */
	uint32_t rearm_ms;
	struct rearm *rearm;
	struct jbuf j;
	char *line;		/* the JSON plus its newline, for one write */
	size_t line_cap;
	struct alert_sink_stats st;
};

static int open_log(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
		    0640);
}

struct alert_sink *alert_sink_new(const struct alert_sink_config *cfg,
				  int *err)
{
	struct alert_sink *s;
	int e;

	if (!cfg) {
		e = EINVAL;
		goto fail;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		e = ENOMEM;
		goto fail;
	}
	s->fd = -1;
	s->max_bytes = cfg->max_bytes;
	s->syslog = cfg->syslog;
	s->text = cfg->text;
	s->json = cfg->json;
	s->rearm_ms = cfg->rearm_ms;
	jbuf_init(&s->j);
	s->rearm = rearm_new(cfg->rearm_capacity ? cfg->rearm_capacity
						 : REARM_CAPACITY_DEFAULT);
	if (!s->rearm) {
		e = errno;
		goto fail_free;
	}
	if (cfg->path) {
		s->path = strdup(cfg->path);
		if (!s->path || asprintf(&s->path1, "%s.1", cfg->path) < 0) {
			s->path1 = NULL;
			e = ENOMEM;
			goto fail_free;
		}
		s->fd = open_log(s->path);
		if (s->fd < 0) {
			e = errno;
			goto fail_free;
		}
	}
	e = pthread_mutex_init(&s->lock, NULL);
	if (e)
		goto fail_free;
	if (err)
		*err = 0;
	return s;

fail_free:
	if (s->fd >= 0)
		close(s->fd);
	rearm_free(s->rearm);
	free(s->path);
	free(s->path1);
	free(s);
fail:
	if (err)
		*err = -e;
	errno = e;
	return NULL;
}

void alert_sink_free(struct alert_sink *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	if (s->fd >= 0)
		close(s->fd);
	rearm_free(s->rearm);
	jbuf_free(&s->j);
	free(s->line);
	free(s->path);
	free(s->path1);
	free(s);
}

/* Size cap: PATH becomes PATH.1 (replacing the previous one) and a new PATH
 * is opened.  On failure the old file stays in use: better a file over its
 * cap than a lost alert.  PATH already gone (moved by logrotate, no reopen
 * yet) is not a failure: there is nothing to move, only a file to open. */
static void rotate(struct alert_sink *s)
{
	int fd;

	if (rename(s->path, s->path1) < 0 && errno != ENOENT) {
		s->st.rotate_failures++;
		return;
	}
	fd = open_log(s->path);
	if (fd < 0) {
		s->st.rotate_failures++;
		return;
	}
	close(s->fd);
	s->fd = fd;
	s->st.rotations++;
}

/* Take back the DONE bytes of a line that could not be finished, so the file
 * holds whole lines only.  We are the file's only writer and hold the lock,
 * so its last DONE bytes are ours.  Not possible on a pipe or a device:
 * there the reader sees a partial line.  0 or -errno; the caller counts the
 * write error either way. */
static int take_back(int fd, size_t done)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < done)
		return -ESPIPE;
	return ftruncate(fd, st.st_size - (off_t)done) < 0 ? -errno : 0;
}

static int file_write(struct alert_sink *s, const char *p, size_t len)
{
	struct stat st;
	size_t done = 0;
	ssize_t n;

	/* The size is asked of the file, not tracked: logrotate's
	 * copytruncate or an operator may have changed it.  An empty file
	 * takes the line whatever its length, or one longer than the cap
	 * would rotate forever. */
	if (s->max_bytes && fstat(s->fd, &st) == 0 && st.st_size > 0 &&
	    (uint64_t)st.st_size + len > s->max_bytes)
		rotate(s);
	/* One write(2) of the whole line: with O_APPEND the kernel places it
	 * at the end in one piece.  Only a short write (a full disk, a file
	 * size limit) takes a second call, to finish the line or learn why it
	 * cannot be finished. */
	while (done < len) {
		n = write(s->fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			if (done)
				take_back(s->fd, done);
			return -e;
		}
		done += (size_t)n;
	}
	return 0;
}

static int write_alert(struct alert_sink *s, const struct alert *a)
{
	size_t len;

	jbuf_reset(&s->j);
	alert_json(&s->j, a);
	if (!jbuf_ok(&s->j))
		return -ENOMEM;
	len = s->j.len + 1;
	if (len > s->line_cap) {
		char *np = realloc(s->line, len);

		if (!np)
			return -ENOMEM;
		s->line = np;
		s->line_cap = len;
	}
	memcpy(s->line, s->j.p, s->j.len);
	s->line[s->j.len] = '\n';
	return file_write(s, s->line, len);
}

int alert_sink_emit(struct alert_sink *s, struct alert *a)
{
	char line[ALERT_SYSLOG_MAX];
	uint32_t suppressed;
	uint64_t key;
	int rc = 1;

	pthread_mutex_lock(&s->lock);
	s->st.fields_dropped += a->fields_dropped;
	key = rearm_key(a->device.name, a->event_type, a->rearm_key);
	if (!rearm_fire(s->rearm, key, a->ts_us / 1000, s->rearm_ms,
			&suppressed)) {
		s->st.suppressed++;
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	a->suppressed = suppressed;
	s->st.emitted[alert_event_lookup(a->event_type)]++;
	s->st.emitted_total++;
	if (s->fd >= 0) {
		rc = write_alert(s, a);
		if (rc < 0)
			s->st.write_errors++;
		else
			rc = 1;
	}
	if (s->json || s->recent) {
		jbuf_reset(&s->j);
		alert_json(&s->j, a);
	}
	if (s->recent && (!jbuf_ok(&s->j) || ring_push(s->recent, s->j.p, s->j.len) < 0))
		s->st.recent_lost++;
	if (s->json) {
		flockfile(s->json);
		if (jbuf_write_line(&s->j, s->json) < 0 || fflush(s->json)) {
			s->st.write_errors++;
			rc = -EIO;
		}
		funlockfile(s->json);
	}
	if (s->syslog) {
		alert_syslog_line(line, sizeof(line), a);
		syslog(LOG_DAEMON | alert_syslog_priority(a), "%s", line);
	}
	if (s->text) {
		/* Other threads print flow lines to the same stream. */
		flockfile(s->text);
		alert_text(s->text, a);
		fputc('\n', s->text);
		fflush(s->text);
		funlockfile(s->text);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int alert_sink_reopen(struct alert_sink *s)
{
	int fd, rc = 0;

	if (!s->path)
		return 0;
	pthread_mutex_lock(&s->lock);
	fd = open_log(s->path);
	if (fd < 0) {
		rc = -errno;
		s->st.reopen_failures++;
	} else {
		close(s->fd);
		s->fd = fd;
		s->st.reopens++;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void alert_sink_set_rearm(struct alert_sink *s, uint32_t rearm_ms)
{
	pthread_mutex_lock(&s->lock);
	s->rearm_ms = rearm_ms;
	pthread_mutex_unlock(&s->lock);
}

void alert_sink_stats(struct alert_sink *s, struct alert_sink_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->st;
	rearm_stats(s->rearm, &out->rearm);
	pthread_mutex_unlock(&s->lock);
}

void alert_sink_set_recent(struct alert_sink *s, struct ring *recent)
{
	pthread_mutex_lock(&s->lock);
	s->recent = recent;
	pthread_mutex_unlock(&s->lock);
}
