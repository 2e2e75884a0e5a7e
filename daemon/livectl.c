/* livectl.c - what the control socket's commands do in the running daemon.
 *
 * Runs on the main thread (live.c's loop), which owns the ruleset handle and
 * the generations; what the workers own is read through their published
 * copies (worker_get_stats, the device view, the rings), never under a lock
 * they take per packet.  Replies are built into the server's jbuf; the
 * protocol is docs/control.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "daemon/alerts.h"
#include "daemon/devview.h"
#include "daemon/flowlog.h"
#include "daemon/json.h"
#include "daemon/learn.h"
#include "daemon/live-int.h"
#include "daemon/log.h"
#include "daemon/ring.h"
#include "daemon/watch.h"
#include "policy/policy.h"

static void ok(struct jbuf *j)
{
	json_begin(j);
	json_bool(j, "ok", true);
}

static void fail(struct jbuf *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fail(struct jbuf *j, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jbuf_reset(j);
	json_begin(j);
	json_bool(j, "ok", false);
	json_str(j, "error", msg);
	json_end(j);
}

static const struct live_gen *current(const struct live *l)
{
	return atomic_load_explicit(&l->sh.current, memory_order_acquire);
}

static void mac_str(const uint8_t m[6], char *buf, size_t n)
{
	snprintf(buf, n, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

static bool mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &end) != 6)
		return false;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return true;
}

/* ---- status ------------------------------------------------------------- */

static void status(struct live *l, struct jbuf *j)
{
	const struct live_gen *g = current(l);
	struct ijnft_counters kc;
	struct alert_sink_stats as;
	struct worker_stats ws;
	uint64_t now_ms = live_wall_us() / 1000;
	unsigned i;

	ok(j);
	json_str(j, "version", IOTJAIL_VERSION);
	json_u64(j, "pid", (uint64_t)getpid());
	json_u64(j, "started", l->started_ms / 1000);
	json_u64(j, "uptime_s", (now_ms - l->started_ms) / 1000);
	json_str(j, "mode", l->o->mode == IJNFT_MODE_BRIDGE ? "bridge" : "router");
	json_arr(j, "interfaces");
	for (i = 0; i < l->o->n_ifnames; i++)
		json_str(j, NULL, l->o->ifnames[i]);
	json_arr_end(j);
	json_str(j, "backend", ijrs_backend_name(ijrs_backend(l->rs)));
	json_str(j, "kernel", ijrs_describe(l->rs));
	json_str(j, "failure", l->o->fail_closed ? "closed" : "open");
	json_obj(j, "policy");
	json_str(j, "file", l->o->config);
	json_u64(j, "generation", g->generation);
	json_u64(j, "devices", policy_device_count(g->policy));
	json_u64(j, "inspect_packets", l->sh.pipeline.inspect_packets);
	json_end(j);
	json_obj(j, "learn");
	json_bool(j, "all", l->learn_over.all);
	json_arr(j, "devices");
	for (i = 0; i < l->learn_over.n; i++)
		json_str(j, NULL, l->learn_over.names[i]);
	json_arr_end(j);
	json_end(j);
	json_arr(j, "queues");
	for (i = 0; i < l->n_workers; i++) {
		worker_get_stats(l->w[i], &ws);
		json_begin(j);
		json_u64(j, "queue", worker_queue(l->w[i]));
		json_bool(j, "observer", worker_observes(l->w[i]));	/* an NFLOG group */
		json_u64(j, "packets", ws.packets);
		json_u64(j, "flows_decided", ws.decided);
		json_u64(j, "flows_active", ws.ft.active);
		json_u64(j, "flow_capacity", ws.ft.capacity);
		json_u64(j, "dropped", ws.dropped);
		json_u64(j, "alerts", ws.alerts);
		json_u64(j, "wakeups", ws.q.wakeups);
		json_u64(j, "receive_overruns", ws.q.enobufs);
		json_end(j);
	}
	json_arr_end(j);
	if (l->installed && ijrs_counters(l->rs, &kc) == 0) {
		json_obj(j, "kernel_packets");
		for (i = 0; i < __IJNFT_CTR_MAX; i++)
			json_u64(j, ijnft_ctr_name(i), kc.packets[i]);
		json_end(j);
	}
	alert_sink_stats(l->sh.out.alerts, &as);
	json_obj(j, "alerts");
	json_u64(j, "written", as.emitted_total);
	json_u64(j, "suppressed", as.suppressed);
	json_u64(j, "write_errors", as.write_errors);
	json_end(j);
	json_end(j);
}

/* ---- devices ------------------------------------------------------------ */

/* One more element of SIZE bytes at the end of the array *V (N used, CAP
 * allocated); NULL and *NOMEM set when it cannot grow. */
static void *append(void **v, size_t *n, size_t *cap, size_t size, bool *nomem)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 32;
		void *nv = realloc(*v, nc * size);

		if (!nv) {
			*nomem = true;
			return NULL;
		}
		*v = nv;
		*cap = nc;
	}
	return (char *)*v + (*n)++ * size;
}

struct svc {
	char device[64];
	char service[96];
	enum policy_direction role;
	uint64_t up, down;
};

struct svc_list {
	struct svc *v;
	size_t n, cap;
	bool nomem;
};

static void collect_service(void *ctx, const char *device, const char *service,
			    enum policy_direction role, uint64_t up, uint64_t down)
{
	struct svc_list *sl = ctx;
	struct svc *s = append((void **)&sl->v, &sl->n, &sl->cap, sizeof(*s), &sl->nomem);

	if (!s)
		return;
	snprintf(s->device, sizeof(s->device), "%s", device);
	snprintf(s->service, sizeof(s->service), "%s", service);
	s->role = role;
	s->up = up;
	s->down = down;
}

static int svc_cmp(const void *a, const void *b)
{
	return strcmp(((const struct svc *)a)->device, ((const struct svc *)b)->device);
}

static void json_services(struct jbuf *j, const struct svc_list *sl, const char *device)
{
	struct svc key;
	const struct svc *s;

	json_arr(j, "services");
	snprintf(key.device, sizeof(key.device), "%s", device);
	s = sl->n ? bsearch(&key, sl->v, sl->n, sizeof(*sl->v), svc_cmp) : NULL;
	if (s) {
		while (s > sl->v && !strcmp(s[-1].device, device))
			s--;
		for (; s < sl->v + sl->n && !strcmp(s->device, device); s++) {
			json_begin(j);
			json_str(j, "service", s->service);
			json_str(j, "role", s->role == POLICY_OUT ? "out" : "in");
			json_u64(j, "up", s->up);
			json_u64(j, "down", s->down);
			json_end(j);
		}
	}
	json_arr_end(j);
}

/* What the watcher knows of each device, by name. */
struct seen {
	struct watch_device_info di;
	char name[64], port[16];
};

struct seen_list {
	struct seen *v;
	size_t n, cap;
	bool nomem;
};

static void collect_device(void *ctx, const struct watch_device_info *d)
{
	struct seen_list *sl = ctx;
	struct seen *s = append((void **)&sl->v, &sl->n, &sl->cap, sizeof(*s), &sl->nomem);

	if (!s)
		return;
	s->di = *d;
	snprintf(s->name, sizeof(s->name), "%s", d->name);
	snprintf(s->port, sizeof(s->port), "%s", d->port ? d->port : "");
	s->di.name = s->name;
	s->di.port = s->port;
	s->di.dev = NULL;	/* not kept: a reload may free it */
}

static struct seen *seen_find(struct seen_list *sl, const char *name)
{
	size_t i;

	for (i = 0; i < sl->n; i++)
		if (!strcmp(sl->v[i].name, name))
			return &sl->v[i];
	return NULL;
}

static void json_seen(struct jbuf *j, const struct seen *s)
{
	char a[INET6_ADDRSTRLEN];

	if (!s) {
		json_null(j, "first_seen");
		json_null(j, "last_seen");
		return;
	}
	if (s->di.has_mac) {
		mac_str(s->di.mac, a, sizeof(a));
		json_str(j, "mac", a);
	}
	json_str(j, "ipv4", s->di.has_ip4 && inet_ntop(AF_INET, s->di.ip4, a, sizeof(a)) ? a : NULL);
	json_str(j, "ipv6", s->di.has_ip6 && inet_ntop(AF_INET6, s->di.ip6, a, sizeof(a)) ? a : NULL);
	json_str(j, "port", s->port[0] ? s->port : NULL);
	json_u64(j, "first_seen", s->di.first_ms / 1000);
	json_u64(j, "last_seen", s->di.last_ms / 1000);
	json_bool(j, "quarantined", s->di.quarantined);
	if (s->di.quarantined && s->di.quarantine_until_ms)
		json_u64(j, "quarantined_until", s->di.quarantine_until_ms / 1000);
}

static void json_declared(struct jbuf *j, const struct live_gen *g,
			  const struct policy_device *d)
{
	uint64_t ctr[__DEVVIEW_CTR_MAX];
	struct devview_seen vs;
	uint8_t mac[6];
	char a[INET6_ADDRSTRLEN];
	size_t slot;
	unsigned c;

	json_str(j, "profile", policy_device_profile(d));
	json_str(j, "policy_mode", policy_mode_name(policy_device_mode(d)));
	json_bool(j, "trusted", policy_device_trusted(d));
	json_bool(j, "observed", policy_device_observed(d));
	if (policy_device_mac(d, mac)) {
		mac_str(mac, a, sizeof(a));
		json_str(j, "declared_mac", a);
	}
	slot = devview_slot(g->view, d);
	if (slot == (size_t)-1)
		return;
	devview_read(g->view, slot, ctr, &vs);
	json_obj(j, "flows");
	for (c = 0; c < __DEVVIEW_CTR_MAX; c++)
		json_u64(j, devview_ctr_name(c), ctr[c]);
	json_end(j);
}

static void devices(struct live *l, const struct ctl_request *r, struct jbuf *j)
{
	const struct live_gen *g = current(l);
	struct svc_list svcs = { 0 };
	struct seen_list seen = { 0 };
	size_t i, n = 0;
	bool *listed;

	watch_foreach_service(l->sh.watch, collect_service, &svcs);
	watch_foreach_device(l->sh.watch, collect_device, &seen);
	listed = calloc(seen.n + 1, sizeof(*listed));
	if (svcs.nomem || seen.nomem || !listed) {
		fail(j, "out of memory");
		goto out;
	}
	if (svcs.n)
		qsort(svcs.v, svcs.n, sizeof(*svcs.v), svc_cmp);
	ok(j);
	json_arr(j, "devices");
	/* The declared devices in file order, seen or not; then what was seen
	 * that the policy does not declare (unknown MACs and addresses, or
	 * devices a reload removed). */
	for (i = 0; i < policy_device_count(g->policy); i++) {
		const struct policy_device *d = policy_device_at(g->policy, i);
		const char *name = policy_device_name(d);
		struct seen *s = seen_find(&seen, name);

		if (s)
			listed[s - seen.v] = true;
		if (r->device[0] && strcmp(r->device, name))
			continue;
		json_begin(j);
		json_str(j, "name", name);
		json_bool(j, "declared", true);
		json_declared(j, g, d);
		json_seen(j, s);
		json_services(j, &svcs, name);
		json_end(j);
		n++;
	}
	for (i = 0; i < seen.n; i++) {
		const struct seen *s = &seen.v[i];
		const struct policy_device *d;

		if (listed[i] || (r->device[0] && strcmp(r->device, s->name) &&
				  strcmp(r->device, "unknown")))
			continue;
		if (r->device[0] && !strcmp(r->device, "unknown") &&
		    strncmp(s->name, "unknown/", 8))
			continue;
		d = strncmp(s->name, "unknown/", 8) ? NULL : policy_unknown_device(g->policy);
		json_begin(j);
		json_str(j, "name", s->name);
		json_bool(j, "declared", false);
		if (d) {
			json_str(j, "profile", policy_device_profile(d));
			json_str(j, "policy_mode", policy_mode_name(policy_device_mode(d)));
		}
		json_seen(j, s);
		json_services(j, &svcs, s->name);
		json_end(j);
		n++;
	}
	json_arr_end(j);
	json_end(j);
	if (r->device[0] && !n)
		fail(j, "no device '%s' is declared or was seen", r->device);
out:
	free(listed);
	free(svcs.v);
	free(seen.v);
}

/* ---- flows and alerts --------------------------------------------------- */

struct brief_list {
	const struct ctl_request *r;
	struct flow_brief *v;	/* the last r->lines matches, a ring */
	size_t n, next, cap;
};

/* "TLS" matches "TLS", "TLS.Google"; "Google" matches "TLS.Google". */
static bool proto_matches(const char *want, const char *have)
{
	const char *dot = strchr(have, '.');
	size_t n = dot ? (size_t)(dot - have) : strlen(have);

	return !strcasecmp(want, have) ||
	       (strlen(want) == n && !strncasecmp(want, have, n)) ||
	       (dot && !strcasecmp(want, dot + 1));
}

static void collect_flow(void *ctx, uint64_t seq, const void *p, size_t len)
{
	struct brief_list *bl = ctx;
	const struct flow_brief *b = p;

	(void)seq;
	if (len != sizeof(*b) || !bl->cap)
		return;
	if (bl->r->device[0] && strcmp(bl->r->device, b->device[0]) &&
	    strcmp(bl->r->device, b->device[1]))
		return;
	if (bl->r->proto[0] && !proto_matches(bl->r->proto, b->proto))
		return;
	bl->v[bl->next] = *b;
	bl->next = (bl->next + 1) % bl->cap;
	if (bl->n < bl->cap)
		bl->n++;
}

static void flows(struct live *l, const struct ctl_request *r, struct jbuf *j)
{
	struct brief_list bl = { .r = r, .cap = r->lines };
	size_t i;

	if (bl.cap && !(bl.v = calloc(bl.cap, sizeof(*bl.v)))) {
		fail(j, "out of memory");
		return;
	}
	ring_read(l->sh.recent_flows, 0, collect_flow, &bl, NULL);
	ok(j);
	json_arr(j, "flows");
	for (i = 0; i < bl.n; i++)
		flow_brief_json(j, &bl.v[(bl.next + bl.cap - bl.n + i) % bl.cap]);
	json_arr_end(j);
	json_end(j);
	free(bl.v);
}

static void add_alert(void *ctx, uint64_t seq, const void *p, size_t len)
{
	struct jbuf *j = ctx;
	char *line = malloc(len + 1);

	(void)seq;
	if (!line) {
		j->failed = true;
		return;
	}
	memcpy(line, p, len);
	line[len] = '\0';
	json_raw(j, NULL, line);	/* the sink wrote it: valid JSON */
	free(line);
}

static void alerts(struct live *l, struct ctl_client *c, const struct ctl_request *r,
		   struct jbuf *j)
{
	uint64_t next = ring_next(l->recent_alerts);
	uint64_t since = next > r->lines ? next - r->lines : 0;

	ok(j);
	json_arr(j, "alerts");
	next = ring_read(l->recent_alerts, since, add_alert, j, NULL);
	json_arr_end(j);
	json_bool(j, "following", r->follow);
	json_end(j);
	if (r->follow)
		ctl_client_follow(c, l->recent_alerts, next);
}

/* ---- actions ------------------------------------------------------------ */

static void reload(struct live *l, struct ctl_client *c, struct jbuf *j)
{
	struct jbuf msgs;
	char why[512] = "";
	int rc;

	log_info("control: reload asked by uid %u", ctl_client_uid(c));
	jbuf_init(&msgs);
	json_begin(&msgs);
	json_arr(&msgs, "messages");
	rc = live_reload(l, &msgs, why, sizeof(why));
	json_arr_end(&msgs);
	json_end(&msgs);
	jbuf_reset(j);
	json_begin(j);
	json_bool(j, "ok", rc >= 0);
	if (rc < 0)
		json_str(j, "error", why);
	else
		json_bool(j, "changed", rc == 0);
	json_u64(j, "generation", current(l)->generation);
	/* {"messages":[...]}: splice its member in */
	if (jbuf_ok(&msgs) && msgs.len > 2) {
		msgs.p[msgs.len - 1] = '\0';
		json_raw(j, "messages", strchr(msgs.p, '['));
	}
	json_end(j);
	jbuf_free(&msgs);
}

/* The device a command names: a declared device (it needs a MAC for a
 * quarantine), "unknown/<mac>" as `devices` lists it, or a MAC. */
static int target(struct live *l, const char *name, const struct policy_device **d,
		  uint8_t mac[6], struct jbuf *j)
{
	const struct live_gen *g = current(l);

	*d = policy_device_by_name(g->policy, name);
	if (*d && !policy_device_is_unknown(*d)) {
		if (!policy_device_mac(*d, mac)) {
			fail(j, "device '%s' declares no MAC address to quarantine", name);
			return -1;
		}
		return 0;
	}
	if (!strncmp(name, "unknown/", 8))
		name += 8;
	if (mac_parse(name, mac)) {
		uint8_t dm[6];
		size_t i;

		*d = policy_unknown_device(g->policy);
		for (i = 0; i < policy_device_count(g->policy); i++)
			if (policy_device_mac(policy_device_at(g->policy, i), dm) &&
			    !memcmp(dm, mac, 6))
				*d = policy_device_at(g->policy, i);
		return 0;
	}
	fail(j, "no device '%s' (a declared device name, or a MAC address)", name);
	return -1;
}

static void quarantine(struct live *l, struct ctl_client *c,
		       const struct ctl_request *r, struct jbuf *j, bool release)
{
	const struct policy_device *d;
	char why[64], m[18];
	uint8_t mac[6];
	int rc;

	if (target(l, r->device, &d, mac, j) < 0)
		return;
	snprintf(why, sizeof(why), "iotjailctl (uid %u)", ctl_client_uid(c));
	if (release)
		rc = live_release(l, mac, why);
	else if (r->for_s > UINT32_MAX / 1000)
		rc = -ERANGE;
	else
		rc = live_quarantine(l, d, mac, r->for_s * 1000, why);
	mac_str(mac, m, sizeof(m));
	if (rc == -ENOENT && release) {
		fail(j, "%s (%s) is not quarantined", policy_device_name(d), m);
		return;
	}
	if (rc < 0) {
		fail(j, "cannot %s %s (%s): %s", release ? "release" : "quarantine",
		     policy_device_name(d), m, strerror(-rc));
		return;
	}
	ok(j);
	json_str(j, "device", policy_device_name(d));
	json_str(j, "mac", m);
	if (!release)
		json_u64(j, "for_s", r->for_s);
	json_end(j);
}

/* ---- learn and export --------------------------------------------------- */

static void learn_state(struct jbuf *j, const struct live_learn *ll)
{
	unsigned i;

	json_obj(j, "learning");
	json_bool(j, "all", ll->all);
	json_arr(j, "devices");
	for (i = 0; i < ll->n; i++)
		json_str(j, NULL, ll->names[i]);
	json_arr_end(j);
	json_end(j);
}

/* Change the run-time learn modes, then load the policy again with them:
 * the same transaction as a reload, so a refused file changes nothing. */
static void learn(struct live *l, struct ctl_client *c, const struct ctl_request *r,
		  struct jbuf *j)
{
	struct live_learn saved = l->learn_over, *ll = &l->learn_over;
	const char *dev = r->device[0] ? r->device : NULL;
	const struct policy_device *d = NULL;
	char why[512] = "";
	unsigned i;
	int rc;

	if (dev && !(d = policy_device_by_name(current(l)->policy, dev))) {
		fail(j, "no device '%s' in %s", dev, l->o->config);
		return;
	}
	for (i = 0; dev && i < ll->n && strcmp(ll->names[i], dev); i++)
		;
	if (r->start && !dev) {
		ll->all = true;
	} else if (r->start && i == ll->n) {
		if (ll->n == LEARN_MAX) {
			fail(j, "already %u devices learning; 'learn start' without a "
			     "device puts all of them in learn mode", LEARN_MAX);
			return;
		}
		snprintf(ll->names[ll->n++], CTL_NAME_MAX, "%s", dev);
	} else if (!r->start && !dev) {
		ll->all = false;
		ll->n = 0;
	} else if (!r->start) {
		if (i == ll->n) {
			fail(j, "%s was not put in learn mode by 'learn start'%s", dev,
			     ll->all ? " alone: all devices learn; 'learn stop' "
				       "without a device ends that" : "");
			return;
		}
		memcpy(ll->names[i], ll->names[--ll->n], CTL_NAME_MAX);
	}
	log_info("control: learn %s %s, asked by uid %u", r->start ? "start" : "stop",
		 dev ? dev : "(all)", ctl_client_uid(c));
	rc = live_reload(l, NULL, why, sizeof(why));
	if (rc < 0) {
		l->learn_over = saved;
		fail(j, "%s", why);
		return;
	}
	if (r->start)
		learn_reset(l->sh.learn, dev);
	ok(j);
	learn_state(j, ll);
	json_u64(j, "generation", current(l)->generation);
	d = dev ? policy_device_by_name(current(l)->policy, dev) : NULL;
	if (!r->start && d && policy_device_mode(d) == POLICY_MODE_LEARN)
		json_str(j, "note", "the policy file itself puts it in learn mode");
	json_end(j);
}

static void export(struct live *l, const struct ctl_request *r, struct jbuf *j)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (!f) {
		fail(j, "out of memory");
		return;
	}
	rc = learn_export(l->sh.learn, current(l)->policy, l->sh.watch,
			  r->device[0] ? r->device : NULL, f);
	if (fclose(f) != 0 && rc == 0)
		rc = -ENOMEM;
	if (rc == -ENOENT)
		fail(j, r->device[0] ? "nothing learnt about '%s'" :
		     "nothing learnt yet%s: 'iotjailctl learn start' first",
		     r->device);
	else if (rc < 0)
		fail(j, "export: %s", strerror(-rc));
	else {
		ok(j);
		json_str(j, "text", text);
		json_end(j);
	}
	free(text);
}

/* ---- metrics (Prometheus text exposition format 0.0.4) ------------------- */

/* A label value: backslash, double quote and newline escaped. */
static void label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void service_bytes(void *ctx, const char *device, const char *service,
			  enum policy_direction role, uint64_t up, uint64_t down)
{
	FILE *f = ctx;
	int d;

	for (d = 0; d < 2; d++) {
		fputs("iotjail_device_bytes_total{device=\"", f);
		label(f, device);
		fputs("\",service=\"", f);
		label(f, service);
		fprintf(f, "\",role=\"%s\",direction=\"%s\"} %" PRIu64 "\n",
			role == POLICY_OUT ? "out" : "in", d ? "down" : "up",
			d ? down : up);
	}
}

static void metrics_text(struct live *l, FILE *f)
{
	static const char *const verdicts[] = { "allowed", "alerted", "denied", "quarantined" };
	static const enum devview_ctr vctr[] = { DEVVIEW_ALLOWED, DEVVIEW_ALERTED,
						 DEVVIEW_DENIED, DEVVIEW_QUARANTINED };
	const struct live_gen *g = current(l);
	struct worker_stats ws[MAX_WORKERS];
	uint64_t ctr[__DEVVIEW_CTR_MAX];
	struct alert_sink_stats as;
	struct ijnft_counters kc;
	struct devview_seen vs;
	unsigned i, k;
	size_t s;

	for (i = 0; i < l->n_workers; i++)
		worker_get_stats(l->w[i], &ws[i]);
	family(f, "iotjail_up", "gauge", "1 while iotjaild runs.");
	fprintf(f, "iotjail_up 1\n");
	family(f, "iotjail_start_time_seconds", "gauge", "When iotjaild started (Unix time).");
	fprintf(f, "iotjail_start_time_seconds %" PRIu64 "\n", l->started_ms / 1000);
	family(f, "iotjail_policy_generation", "gauge", "The policy generation in force.");
	fprintf(f, "iotjail_policy_generation %u\n", g->generation);
	family(f, "iotjail_packets_queued_total", "counter",
	       "Packets the kernel queued to iotjaild, per queue.");
	for (i = 0; i < l->n_workers; i++)
		fprintf(f, "iotjail_packets_queued_total{queue=\"%u\"} %" PRIu64 "\n",
			worker_queue(l->w[i]), ws[i].packets);
	family(f, "iotjail_flows_decided_total", "counter", "Flows decided, per queue.");
	for (i = 0; i < l->n_workers; i++)
		fprintf(f, "iotjail_flows_decided_total{queue=\"%u\"} %" PRIu64 "\n",
			worker_queue(l->w[i]), ws[i].decided);
	family(f, "iotjail_packets_refused_total", "counter",
	       "Queued packets given a drop or reject verdict, per queue.");
	for (i = 0; i < l->n_workers; i++)
		fprintf(f, "iotjail_packets_refused_total{queue=\"%u\"} %" PRIu64 "\n",
			worker_queue(l->w[i]), ws[i].dropped);
	family(f, "iotjail_flow_table_flows", "gauge", "Flows in a worker's table.");
	for (i = 0; i < l->n_workers; i++)
		fprintf(f, "iotjail_flow_table_flows{queue=\"%u\"} %u\n",
			worker_queue(l->w[i]), ws[i].ft.active);
	family(f, "iotjail_flow_table_capacity", "gauge", "Flows a worker's table holds at most.");
	for (i = 0; i < l->n_workers; i++)
		fprintf(f, "iotjail_flow_table_capacity{queue=\"%u\"} %u\n",
			worker_queue(l->w[i]), ws[i].ft.capacity);
	family(f, "iotjail_queue_overruns_total", "counter",
	       "Times the queue socket overflowed (packets failed open).");
	for (i = 0; i < l->n_workers; i++)
		fprintf(f, "iotjail_queue_overruns_total{queue=\"%u\"} %" PRIu64 "\n",
			worker_queue(l->w[i]), ws[i].q.enobufs);
	if (l->installed && ijrs_counters(l->rs, &kc) == 0) {
		family(f, "iotjail_kernel_packets_total", "counter",
		       "Packets per verdict rule of the kernel ruleset.");
		for (i = 0; i < __IJNFT_CTR_MAX; i++)
			fprintf(f, "iotjail_kernel_packets_total{rule=\"%s\"} %" PRIu64 "\n",
				ijnft_ctr_name(i), kc.packets[i]);
		family(f, "iotjail_kernel_bytes_total", "counter",
		       "Bytes per verdict rule of the kernel ruleset.");
		for (i = 0; i < __IJNFT_CTR_MAX; i++)
			fprintf(f, "iotjail_kernel_bytes_total{rule=\"%s\"} %" PRIu64 "\n",
				ijnft_ctr_name(i), kc.bytes[i]);
	}
	family(f, "iotjail_device_flows_total", "counter", "Flows decided per device and verdict.");
	for (s = 0; s < devview_slots(g->view); s++) {
		devview_read(g->view, s, ctr, &vs);
		for (k = 0; k < 4; k++) {
			fputs("iotjail_device_flows_total{device=\"", f);
			label(f, devview_slot_name(g->view, s));
			fprintf(f, "\",verdict=\"%s\"} %" PRIu64 "\n", verdicts[k], ctr[vctr[k]]);
		}
	}
	family(f, "iotjail_device_bytes_total", "counter",
	       "Bytes per device, service and direction (up: from the device).");
	watch_foreach_service(l->sh.watch, service_bytes, f);
	alert_sink_stats(l->sh.out.alerts, &as);
	family(f, "iotjail_alerts_total", "counter", "Alerts written, per event type.");
	for (i = 0; i < __ALERT_EVENT_MAX; i++)
		fprintf(f, "iotjail_alerts_total{type=\"%s\"} %" PRIu64 "\n",
			alert_event_info(i)->name, as.emitted[i]);
	family(f, "iotjail_alerts_suppressed_total", "counter",
	       "Alerts not written: repeats within alert_rearm.");
	fprintf(f, "iotjail_alerts_suppressed_total %" PRIu64 "\n", as.suppressed);
	family(f, "iotjail_alert_write_errors_total", "counter", "Alert log writes that failed.");
	fprintf(f, "iotjail_alert_write_errors_total %" PRIu64 "\n", as.write_errors);
}

static void metrics(struct live *l, struct jbuf *j)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f) {
		fail(j, "out of memory");
		return;
	}
	metrics_text(l, f);
	if (fclose(f) != 0) {
		free(text);
		fail(j, "out of memory");
		return;
	}
	ok(j);
	json_str(j, "text", text);
	json_end(j);
	free(text);
}

void livectl_handle(void *ctx, struct ctl_client *c, const struct ctl_request *r,
		    struct jbuf *reply)
{
	struct live *l = ctx;

	switch (r->cmd) {
	case CTL_STATUS:
		status(l, reply);
		break;
	case CTL_DEVICES:
		devices(l, r, reply);
		break;
	case CTL_FLOWS:
		flows(l, r, reply);
		break;
	case CTL_ALERTS:
		alerts(l, c, r, reply);
		break;
	case CTL_RELOAD:
		reload(l, c, reply);
		break;
	case CTL_QUARANTINE:
	case CTL_RELEASE:
		quarantine(l, c, r, reply, r->cmd == CTL_RELEASE);
		break;
	case CTL_LEARN:
		learn(l, c, r, reply);
		break;
	case CTL_EXPORT:
		export(l, r, reply);
		break;
	case CTL_METRICS:
		metrics(l, reply);
		break;
	default:
		fail(reply, "command '%s' is not handled", ctl_cmd_name(r->cmd));
	}
}
