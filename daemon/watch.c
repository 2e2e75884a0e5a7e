/* watch.c - per-device behaviour over time (watch.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "daemon/alerts.h"
#include "daemon/classify.h"
#include "daemon/detect.h"
#include "daemon/flow.h"
#include "daemon/flowlog.h"
#include "daemon/names.h"
#include "daemon/statefile.h"
#include "daemon/watch.h"

#define NAME_LEN	64	/* device names: policy names are shorter */
#define SERVICE_LEN	96	/* rule labels are cut to this */
#define PORT_LEN	16	/* IFNAMSIZ */
#define NO_RULE		"(no rule)"
#define TICK_MS		1000	/* watch_tick() works at most this often */

void watch_config_default(struct watch_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	baseline_params_default(&cfg->baseline);
	cfg->learn_ms = 3600 * 1000;
	cfg->scan_window_ms = 60 * 1000;
	cfg->scan_hosts = 64;
	cfg->scan_pairs = 256;
	cfg->burst_ms = 2000;
	cfg->risk_mask = 0;
	cfg->max_devices = 4096;
	cfg->max_slots = 65535;
	cfg->max_services = 64;
	cfg->max_endpoints = 256;
}

/* ---- a name -> index map (open addressing, grows by doubling) --------- */

struct name_index {
	uint32_t *v;		/* index + 1; 0 = empty */
	uint32_t cap;		/* power of two */
	uint32_t n;
};

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
	const uint8_t *b = p;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_SEED 0xcbf29ce484222325ULL

/* Finds KEY (compared by the caller's SAME) or the empty place for it. */
static uint32_t *ni_find(struct name_index *ni, uint64_t h,
			 bool (*same)(void *ctx, uint32_t idx), void *ctx)
{
	uint32_t i = (uint32_t)h & (ni->cap - 1);

	for (;;) {
		uint32_t *e = &ni->v[i];

		if (!*e || same(ctx, *e - 1))
			return e;
		i = (i + 1) & (ni->cap - 1);
	}
}

/* Room for one more, keeping the load under a half.  REHASH gives the hash
 * of an index already in.  -ENOMEM leaves the index as it was. */
static int ni_reserve(struct name_index *ni, uint64_t (*rehash)(void *ctx, uint32_t idx),
		      void *ctx)
{
	uint32_t cap = ni->cap ? ni->cap * 2 : 64, i, *v;

	if ((ni->n + 1) * 2 <= ni->cap)
		return 0;
	v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < ni->cap; i++) {
		uint32_t j;

		if (!ni->v[i])
			continue;
		j = (uint32_t)rehash(ctx, ni->v[i] - 1) & (cap - 1);
		while (v[j])
			j = (j + 1) & (cap - 1);
		v[j] = ni->v[i];
	}
	free(ni->v);
	ni->v = v;
	ni->cap = cap;
	return 0;
}

/* ---- state ------------------------------------------------------------- */

struct dev_state {
	char name[NAME_LEN];	/* the device's, or "unknown/<mac|address>" */
	const struct policy_device *dev;	/* in the current policy, or NULL */
	uint64_t first_ms, last_ms;
	/* Last sighting. */
	bool has_mac, has_ip4, has_ip6;
	uint8_t mac[6], ip4[4], ip6[16];
	char port[PORT_LEN];
	/* Learnt: services served ((ip_proto << 16) | port), endpoints used
	 * (hashes of base domains or networks). */
	uint32_t n_services, n_endpoints;
	uint32_t *services;
	uint64_t *endpoints;
	struct scan_window scan;
	struct flood_window flood;
	struct baseline total;	/* all the device's bytes: device_silent */
	struct volume_window vol[2];	/* device limits, up and down */
	/* Quarantine the watcher announced and has not seen end. */
	uint64_t quarantine_until_ms;	/* 0: none or no timeout */
	bool quarantined;
	uint8_t qmac[6];
};

struct slot_state {
	uint32_t dev;		/* index in devs */
	char service[SERVICE_LEN];
	uint8_t role;		/* enum policy_direction */
	const struct policy_rule *rule;	/* current policy, or NULL */
	struct baseline base[2];	/* up, down */
	struct volume_window vol[2];
	struct interval_track iv;	/* reports: new flows (too early) */
	uint64_t active_ms;		/* last new flow or byte credited */
	bool late_said;			/* LATE given for this silence */
	uint64_t total[2];		/* bytes up, down, ever (saturating) */
};

struct watch {
	pthread_mutex_t mu;
	struct watch_config cfg;
	const struct policy *p;
	watch_emit_fn *emit;
	void *ctx;
	watch_block_fn *block;
	void *block_ctx;
	struct dev_state **devs;
	uint32_t n_devs;
	struct name_index dev_ix;
	struct slot_state *slots;	/* slots[0] unused: slot 0 is "none" */
	uint32_t n_slots, cap_slots;	/* n_slots counts slots[0] */
	struct name_index slot_ix;
	uint64_t next_tick_ms;
	struct watch_stats st;
};

/* Lookup keys live in the caller's frame during a lookup. */
struct dev_key {
	struct watch *w;
	const char *name;
};

static bool dev_same(void *ctx, uint32_t idx)
{
	struct dev_key *k = ctx;

	return !strcmp(k->w->devs[idx]->name, k->name);
}

static uint64_t dev_rehash(void *ctx, uint32_t idx)
{
	struct watch *w = ctx;

	return fnv(w->devs[idx]->name, strlen(w->devs[idx]->name), FNV_SEED);
}

struct slot_key {
	struct watch *w;
	uint32_t dev;
	const char *service;
	uint8_t role;
};

static uint64_t slot_hash(uint32_t dev, const char *service, uint8_t role)
{
	uint64_t h = fnv(&dev, sizeof(dev), FNV_SEED);

	h = fnv(service, strlen(service) + 1, h);
	return fnv(&role, 1, h);
}

static bool slot_same(void *ctx, uint32_t idx)
{
	struct slot_key *k = ctx;
	const struct slot_state *s = &k->w->slots[idx];

	return s->dev == k->dev && s->role == k->role &&
	       !strcmp(s->service, k->service);
}

static uint64_t slot_rehash(void *ctx, uint32_t idx)
{
	struct watch *w = ctx;
	const struct slot_state *s = &w->slots[idx];

	return slot_hash(s->dev, s->service, s->role);
}

/* ---- creating and finding ---------------------------------------------- */

static const struct policy_rule *rule_by_label(const struct policy_device *d,
					       enum policy_direction dir,
					       const char *label);

static const struct policy_device *device_by_name(const struct policy *p,
						  const char *name)
{
	size_t i;

	if (!strncmp(name, "unknown/", 8) || !strcmp(name, "unknown"))
		return policy_unknown_device(p);
	for (i = 0; i < policy_device_count(p); i++)
		if (!strcmp(policy_device_name(policy_device_at(p, i)), name))
			return policy_device_at(p, i);
	return NULL;
}

/* The device state called NAME, created at NOW_MS if new; NULL if the
 * table is full or memory is short (counted). */
static struct dev_state *dev_get(struct watch *w, const char *name,
				 uint64_t now_ms, uint32_t *idx_out)
{
	struct dev_key k = { w, name };
	struct dev_state *d, **devs;
	uint32_t *e;

	if (w->dev_ix.cap) {
		e = ni_find(&w->dev_ix, fnv(name, strlen(name), FNV_SEED),
			    dev_same, &k);
		if (*e) {
			if (idx_out)
				*idx_out = *e - 1;
			return w->devs[*e - 1];
		}
	}
	if (w->n_devs >= w->cfg.max_devices ||
	    ni_reserve(&w->dev_ix, dev_rehash, w) < 0) {
		w->st.full_devices++;
		return NULL;
	}
	devs = realloc(w->devs, (w->n_devs + 1) * sizeof(*devs));
	if (!devs) {
		w->st.full_devices++;
		return NULL;
	}
	w->devs = devs;
	d = calloc(1, sizeof(*d));
	if (d) {
		d->services = calloc(w->cfg.max_services ? w->cfg.max_services : 1,
				     sizeof(*d->services));
		d->endpoints = calloc(w->cfg.max_endpoints ? w->cfg.max_endpoints : 1,
				      sizeof(*d->endpoints));
	}
	if (!d || !d->services || !d->endpoints) {
		if (d) {
			free(d->services);
			free(d->endpoints);
		}
		free(d);
		w->st.full_devices++;
		return NULL;
	}
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->dev = device_by_name(w->p, name);
	d->first_ms = d->last_ms = now_ms;
	scan_init(&d->scan, fnv(name, strlen(name), 0x5eed));
	baseline_init(&d->total, now_ms, &w->cfg.baseline);
	devs[w->n_devs] = d;
	e = ni_find(&w->dev_ix, fnv(name, strlen(name), FNV_SEED), dev_same, &k);
	*e = w->n_devs + 1;
	w->dev_ix.n++;
	if (idx_out)
		*idx_out = w->n_devs;
	w->n_devs++;
	w->st.devices = w->n_devs;
	return d;
}

/* Slot (DEV, SERVICE, ROLE), created at NOW_MS if new; 0 if the table is
 * full (counted). */
static uint32_t slot_get(struct watch *w, uint32_t dev, const char *service,
			 uint8_t role, uint64_t now_ms)
{
	char svc[SERVICE_LEN];
	struct slot_key k = { w, dev, svc, role };
	struct slot_state *s;
	uint32_t *e;
	int i;

	snprintf(svc, sizeof(svc), "%s", service);
	if (!w->n_slots)
		w->n_slots = 1;	/* slot 0: none */
	if (w->slot_ix.cap) {
		e = ni_find(&w->slot_ix, slot_hash(dev, svc, role), slot_same, &k);
		if (*e)
			return *e - 1;
	}
	if (w->n_slots > w->cfg.max_slots ||
	    ni_reserve(&w->slot_ix, slot_rehash, w) < 0) {
		w->st.full_slots++;
		return 0;
	}
	if (w->n_slots >= w->cap_slots) {
		uint32_t cap = w->cap_slots ? w->cap_slots * 2 : 64;
		struct slot_state *v = realloc(w->slots, cap * sizeof(*v));

		if (!v) {
			w->st.full_slots++;
			return 0;
		}
		w->slots = v;
		w->cap_slots = cap;
	}
	s = &w->slots[w->n_slots];
	memset(s, 0, sizeof(*s));
	s->dev = dev;
	memcpy(s->service, svc, sizeof(s->service));
	s->role = role;
	/* Pointers into the policy come from the watcher's own policy, never
	 * from a caller's verdict: a worker may still judge under the
	 * previous generation, which is freed after a reload. */
	s->rule = w->devs[dev]->dev ? rule_by_label(w->devs[dev]->dev,
						    (enum policy_direction)role, svc)
				    : NULL;
	for (i = 0; i < 2; i++)
		baseline_init(&s->base[i], now_ms, &w->cfg.baseline);
	e = ni_find(&w->slot_ix, slot_hash(dev, svc, role), slot_same, &k);
	*e = w->n_slots + 1;
	w->slot_ix.n++;
	w->st.slots = w->n_slots;
	return w->n_slots++;
}

/* The rule of D's rules in DIR that decided V, if one of D's decided. */
static const struct policy_rule *own_rule(const struct policy_device *d,
					  enum policy_direction dir,
					  const struct policy_verdict *v)
{
	size_t i, n;

	if (!v->rule || policy_rule_direction(v->rule) != dir)
		return NULL;
	n = policy_device_rule_count(d, dir);
	for (i = 0; i < n; i++)
		if (policy_device_rule_at(d, dir, i) == v->rule)
			return v->rule;
	return NULL;
}

/* ---- alerts -------------------------------------------------------------- */

static void fill_device(struct alert_device *ad, const struct dev_state *d)
{
	memset(ad, 0, sizeof(*ad));
	ad->name = d->name;
	ad->profile = d->dev ? policy_device_profile(d->dev) : NULL;
	ad->has_mac = d->has_mac;
	memcpy(ad->mac, d->mac, 6);
	if (d->has_ip4) {
		ad->family = AF_INET;
		memcpy(ad->addr, d->ip4, 4);
	} else if (d->has_ip6) {
		ad->family = AF_INET6;
		memcpy(ad->addr, d->ip6, 16);
	}
	ad->port = d->port[0] ? d->port : NULL;
}

static bool quiet(const struct dev_state *d)
{
	/* learn: record, never block, never alert */
	return d->dev && policy_device_mode(d->dev) == POLICY_MODE_LEARN;
}

/* Starts alert A about device D (and flow F if not NULL). */
static void start_alert(struct watch *w, struct alert *a, uint64_t ts_us,
			const char *type, const struct dev_state *d,
			const struct flow *f, const struct classifier *c)
{
	alert_init(a, ts_us, type);
	fill_device(&a->device, d);
	if (f) {
		a->has_flow = true;
		alert_flow_from(&a->flow, f, c);
	}
	a->action = "alert";
	(void)w;
}

static void emit(struct watch *w, const struct dev_state *d, struct alert *a)
{
	if (quiet(d))
		return;
	w->st.alerts++;
	w->emit(w->ctx, a);
}

static void rule_of(struct alert *a, const struct policy_rule *r)
{
	if (!r)
		return;
	a->rule_file = policy_rule_file(r);
	a->rule_line = policy_rule_line(r);
}

/* ---- sightings: binding_change, port_change ----------------------------- */

static const char *mac_text(const uint8_t m[6], char *buf, size_t n)
{
	snprintf(buf, n, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
	return buf;
}

static void sighting(struct watch *w, struct dev_state *d, const struct watch_flow *wf,
		     int side)
{
	const struct flow *f = wf->f;
	bool has_mac = (f->flags & (FLOW_F_MAC0 << side)) != 0;
	const uint8_t *mac = f->mac[side], *addr = f->key.addr[side];
	bool v4 = f->key.family == AF_INET;
	uint8_t *mine = v4 ? d->ip4 : d->ip6;
	bool *had = v4 ? &d->has_ip4 : &d->has_ip6;
	size_t alen = v4 ? 4 : 16;
	const char *port = wf->ifnames[side];
	char a1[INET6_ADDRSTRLEN], a2[INET6_ADDRSTRLEN], m1[18], m2[18];
	struct alert a;

	/* A range or a port stands for several machines: no single binding
	 * to follow.  An unknown device's state is one machine (by MAC, or
	 * by address). */
	if (d->dev && !policy_device_is_unknown(d->dev) &&
	    !policy_device_is_host(d->dev))
		return;
	/* A link-local IPv6 address is the device's too, not a new binding. */
	if (!v4 && addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80)
		addr = NULL;
	if (has_mac && d->has_mac && memcmp(mac, d->mac, 6)) {
		start_alert(w, &a, wf->ts_us, "binding_change", d, f, wf->c);
		mac_text(d->mac, m1, sizeof(m1));
		mac_text(mac, m2, sizeof(m2));
		flow_addr_str(f, side, a2, sizeof(a2));
		alert_message(&a, "%s: address %s now used by MAC %s (was %s)",
			      d->name, a2, m2, m1);
		alert_add_str(&a, "what", "mac");
		alert_add_str(&a, "old", m1);
		alert_add_str(&a, "new", m2);
		a.rearm_key = m2;
		memcpy(d->mac, mac, 6);	/* the alert names the new one */
		emit(w, d, &a);
	} else if (addr && *had && memcmp(addr, mine, alen) &&
		   (!has_mac || !d->has_mac || !memcmp(mac, d->mac, 6))) {
		start_alert(w, &a, wf->ts_us, "binding_change", d, f, wf->c);
		inet_ntop(v4 ? AF_INET : AF_INET6, mine, a1, sizeof(a1));
		inet_ntop(v4 ? AF_INET : AF_INET6, addr, a2, sizeof(a2));
		alert_message(&a, "%s%s%s: now at address %s (was %s)", d->name,
			      has_mac ? " " : "",
			      has_mac ? mac_text(mac, m2, sizeof(m2)) : "", a2, a1);
		alert_add_str(&a, "what", v4 ? "ipv4" : "ipv6");
		alert_add_str(&a, "old", a1);
		alert_add_str(&a, "new", a2);
		a.rearm_key = a2;
		memcpy(mine, addr, alen);
		emit(w, d, &a);
	}
	if (has_mac) {
		d->has_mac = true;
		memcpy(d->mac, mac, 6);
	}
	if (addr) {
		*had = true;
		memcpy(mine, addr, alen);
	}
	if (port && *port) {
		char old[PORT_LEN];

		snprintf(old, sizeof(old), "%s", d->port);
		snprintf(d->port, sizeof(d->port), "%s", port);
		if (old[0] && strcmp(old, port)) {
			/* the device as it is now, and where it was */
			start_alert(w, &a, wf->ts_us, "port_change", d, f, wf->c);
			alert_message(&a, "%s: moved from bridge port %s to %s",
				      d->name, old, port);
			alert_add_str(&a, "old", old);
			alert_add_str(&a, "new", port);
			a.rearm_key = port;
			emit(w, d, &a);
		}
	}
}

/* ---- learnt sets: new_service_in, new_endpoint --------------------------- */

static bool learnt(uint32_t *n, uint32_t cap, uint64_t key, void *set, bool wide)
{
	uint32_t i;

	for (i = 0; i < *n; i++)
		if (wide ? ((uint64_t *)set)[i] == key : ((uint32_t *)set)[i] == key)
			return true;
	if (*n < cap) {
		if (wide)
			((uint64_t *)set)[*n] = key;
		else
			((uint32_t *)set)[*n] = (uint32_t)key;
		(*n)++;
	}
	return false;
}

static bool learning(const struct watch *w, const struct dev_state *d,
		     uint64_t now_ms)
{
	return now_ms < d->first_ms + w->cfg.learn_ms;
}

/* Does protocol ID carry names it looks up rather than the server's? */
static bool names_lookup(const struct classifier *c, uint16_t id)
{
	return id && names_lookup_proto(classifier_id_name(c, id));
}

/* The endpoint a device talks to, as it is worth remembering: the base
 * domain of the name it asked for (two labels, three under a short
 * second-level label of a country: "co.uk"), else the network (IPv4 /24,
 * IPv6 /48).  DNS-like protocols name what they look up, not the server. */
static void endpoint_of(const struct flow *f, const struct classifier *c,
			int remote, char *buf, size_t n)
{
	const uint8_t *a = f->key.addr[remote];

	if (f->host && *f->host && !names_lookup(c, f->master) &&
	    !names_lookup(c, f->app)) {
		snprintf(buf, n, "%s", names_base(f->host));
		return;
	}
	if (f->key.family == AF_INET)
		snprintf(buf, n, "%u.%u.%u.0/24", a[0], a[1], a[2]);
	else
		snprintf(buf, n, "%x:%x:%x::/48", a[0] << 8 | a[1],
			 a[2] << 8 | a[3], a[4] << 8 | a[5]);
}

static void out_checks(struct watch *w, struct dev_state *d, const struct watch_flow *wf,
		       int side, const struct policy_rule *rule)
{
	const struct flow *f = wf->f;
	uint64_t now_ms = wf->ts_us / 1000;
	const struct policy_limits *lim = d->dev ? policy_device_limits(d->dev) : NULL;
	int remote = !side;
	char ep[128], pb[8];
	struct scan_result sr;
	struct alert a;
	uint32_t n;

	if (!(rule && policy_rule_names_remote(rule))) {
		endpoint_of(f, wf->c, remote, ep, sizeof(ep));
		uint32_t max = lim ? lim->max_endpoints : 0;

		/* Past the policy's max_endpoints a new endpoint is news even
		 * while the device is being learnt. */
		if (!learnt(&d->n_endpoints, w->cfg.max_endpoints,
			    fnv(ep, strlen(ep), FNV_SEED), d->endpoints, true) &&
		    (!learning(w, d, now_ms) || (max && d->n_endpoints > max))) {
			start_alert(w, &a, wf->ts_us, "new_endpoint", d, f, wf->c);
			alert_message(&a, "%s: talks to a new endpoint, %s (%s port %u)",
				      d->name, ep,
				      flow_proto_str(f->key.ip_proto, pb, sizeof(pb)),
				      f->key.port[remote]);
			alert_add_str(&a, "endpoint", ep);
			alert_add_u64(&a, "learnt_endpoints", d->n_endpoints);
			if (max) {
				alert_add_u64(&a, "max_endpoints", max);
				if (d->n_endpoints > max)
					alert_add_bool(&a, "over_limit", true);
			}
			if (d->n_endpoints >= w->cfg.max_endpoints)
				alert_add_bool(&a, "learnt_set_full", true);
			a.rearm_key = ep;
			rule_of(&a, rule);
			emit(w, d, &a);
		}
	}
	n = scan_observe(&d->scan, now_ms, w->cfg.scan_window_ms,
			 f->key.addr[remote], f->key.family == AF_INET ? 4 : 16,
			 f->key.port[remote], w->cfg.scan_hosts, w->cfg.scan_pairs,
			 &sr);
	if (n) {
		start_alert(w, &a, wf->ts_us, "scan", d, f, wf->c);
		alert_message(&a, "%s: %s%u hosts, %s%u host:port pairs in %u s",
			      d->name, sr.hosts_at_least ? ">= " : "", sr.hosts,
			      sr.pairs_at_least ? ">= " : "", sr.pairs,
			      w->cfg.scan_window_ms / 1000);
		alert_add_u64(&a, "hosts", sr.hosts);
		alert_add_u64(&a, "pairs", sr.pairs);
		alert_add_u64(&a, "window_s", w->cfg.scan_window_ms / 1000);
		alert_add_str(&a, "kind", n & SCAN_HOSTS ? "hosts" : "ports");
		emit(w, d, &a);
	}
	if (lim && flood_observe(&d->flood, now_ms, lim->new_flows,
				 lim->new_flows_window_ms, &n)) {
		start_alert(w, &a, wf->ts_us, "new_flow_flood", d, f, wf->c);
		alert_message(&a, "%s: more than %u new flows in %u s", d->name,
			      lim->new_flows, lim->new_flows_window_ms / 1000);
		alert_add_u64(&a, "flows", n);
		alert_add_u64(&a, "limit", lim->new_flows);
		alert_add_u64(&a, "window_s", lim->new_flows_window_ms / 1000);
		emit(w, d, &a);
	}
}

static void in_checks(struct watch *w, struct dev_state *d, const struct watch_flow *wf,
		      int side, const struct policy_rule *rule)
{
	const struct flow *f = wf->f;
	uint64_t now_ms = wf->ts_us / 1000;
	uint32_t key = (uint32_t)f->key.ip_proto << 16 | f->key.port[side];
	char pb[8], name[64], svc[24];
	const char *proto;
	struct alert a;

	if (rule && policy_rule_names_service(rule))
		return;
	if (learnt(&d->n_services, w->cfg.max_services, key, d->services, false) ||
	    learning(w, d, now_ms))
		return;
	start_alert(w, &a, wf->ts_us, "new_service_in", d, f, wf->c);
	classifier_proto_name(wf->c, f->master, f->app, name, sizeof(name));
	proto = flow_proto_str(f->key.ip_proto, pb, sizeof(pb));
	snprintf(svc, sizeof(svc), "%s/%u", proto, f->key.port[side]);
	alert_message(&a, "%s: serves something new: %s (%s)", d->name, svc, name);
	alert_add_str(&a, "protocol", proto);
	alert_add_u64(&a, "port", f->key.port[side]);
	alert_add_str(&a, "app_proto", name);
	if (d->n_services >= w->cfg.max_services)
		alert_add_bool(&a, "learnt_set_full", true);
	a.rearm_key = svc;
	rule_of(&a, rule);
	emit(w, d, &a);
}

static void risk_check(struct watch *w, struct dev_state *d, const struct watch_flow *wf)
{
	uint64_t hit = wf->f->risk & w->cfg.risk_mask;
	char names[200];
	size_t len = 0;
	struct alert a;
	unsigned bit;

	if (!hit)
		return;
	names[0] = '\0';
	for (bit = 0; bit < 64; bit++) {
		const char *n;

		if (!(hit & (1ULL << bit)))
			continue;
		n = classifier_risk_name(bit);
		len += (size_t)snprintf(names + len, len < sizeof(names) ?
					sizeof(names) - len : 0, "%s%s",
					len ? ", " : "", n ? n : "unknown");
		if (len >= sizeof(names))
			len = sizeof(names) - 1;
	}
	start_alert(w, &a, wf->ts_us, "flow_risk", d, wf->f, wf->c);
	alert_message(&a, "%s: nDPI flow risk: %s", d->name, names);
	alert_add_str(&a, "risks", names);
	a.rearm_key = names;
	emit(w, d, &a);
}

/* The interval of the flows of slot S (a device's OUT service).  true: a
 * report too soon that the rule wants dropped. */
static bool interval_check(struct watch *w, struct dev_state *d, struct slot_state *s,
			   const struct watch_flow *wf)
{
	const struct policy_limits *lim = s->rule ? policy_rule_limits(s->rule) : NULL;
	enum interval_verdict iv;
	uint64_t gap;
	struct alert a;

	bool drop;

	s->active_ms = wf->ts_us / 1000;
	s->late_said = false;
	if (!lim || !lim->every_ms)
		return false;
	iv = interval_observe(&s->iv, wf->ts_us / 1000, lim->every_ms,
			      lim->tolerance_ms, w->cfg.burst_ms, &gap);
	if (iv != INTERVAL_EARLY)
		return false;
	drop = policy_rule_too_often(s->rule) == POLICY_TOO_OFTEN_DROP && d->dev &&
	       policy_device_mode(d->dev) == POLICY_MODE_ENFORCE;
	start_alert(w, &a, wf->ts_us, "report_interval", d, wf->f, wf->c);
	if (drop)
		a.action = "deny";
	alert_message(&a, "%s: %s reported after %.1f s, expected every %.1f s +/- %.1f s",
		      d->name, s->service, (double)gap / 1000,
		      (double)lim->every_ms / 1000, (double)lim->tolerance_ms / 1000);
	alert_add_str(&a, "service", s->service);
	alert_add_str(&a, "deviation", "early");
	alert_add_double(&a, "gap_s", (double)gap / 1000);
	alert_add_double(&a, "every_s", (double)lim->every_ms / 1000);
	alert_add_double(&a, "tolerance_s", (double)lim->tolerance_ms / 1000);
	/* early and late are different news about one service */
	snprintf(a.key, sizeof(a.key), "early %s", s->service);
	a.rearm_key = a.key;
	rule_of(&a, s->rule);
	emit(w, d, &a);
	return drop;
}

/* ---- bytes: baselines and volume limits ------------------------------- */

static const char *const dir_name[2] = { "up", "down" };

static void baseline_alerts(struct watch *w, struct dev_state *d, struct slot_state *s,
			    int dir, uint64_t ts_us, const struct baseline_event *ev,
			    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct baseline_event *e = &ev[i];
		const char *type;
		struct alert a;

		if (!s) {
			if (e->kind != BASELINE_SILENT)
				continue;	/* per service instead */
			type = "device_silent";
		} else {
			type = e->kind == BASELINE_ABOVE ? "throughput_above_baseline"
							 : "throughput_below_baseline";
		}
		start_alert(w, &a, ts_us, type, d, NULL, NULL);
		if (s)
			alert_message(&a, "%s: %s %s: %" PRIu64 " bytes in %u s, "
				      "usually %.0f +/- %.0f", d->name, s->service,
				      dir_name[dir], e->bytes, e->bucket_ms / 1000,
				      e->mean, e->sd);
		else
			alert_message(&a, "%s: silent for %u s, usually %.0f bytes "
				      "per %u s", d->name, e->bucket_ms / 1000,
				      e->mean, e->bucket_ms / 1000);
		if (s) {
			alert_add_str(&a, "service", s->service);
			alert_add_str(&a, "direction", dir_name[dir]);
			rule_of(&a, s->rule);
		}
		alert_add_str(&a, "baseline", baseline_event_name(e->kind));
		alert_add_u64(&a, "bucket_start_ms", e->bucket_start_ms);
		alert_add_u64(&a, "bucket_s", e->bucket_ms / 1000);
		alert_add_u64(&a, "bytes", e->bytes);
		alert_add_double(&a, "mean", e->mean);
		alert_add_double(&a, "sd", e->sd);
		a.rearm_key = s ? s->service : NULL;
		emit(w, d, &a);
	}
}

static void quarantined(struct watch *w, struct dev_state *d, uint64_t ts_us,
			const uint8_t mac[6], uint32_t timeout_ms, const char *why);

/* Past a byte limit that says `over: block`: the device's MAC (the one it
 * was last seen with, else its declared one) quarantined until the end of
 * the window.  true if done. */
static bool block_device(struct watch *w, struct dev_state *d, uint64_t ts_us,
			 const struct volume_event *ev, const char *why)
{
	uint64_t until = ev->window_start_ms + ev->window_ms, now = ts_us / 1000;
	uint8_t mac[6];

	if (!w->block || until <= now)
		return false;
	if (d->has_mac)
		memcpy(mac, d->mac, 6);
	else if (!d->dev || !policy_device_mac(d->dev, mac))
		return false;
	if (!w->block(w->block_ctx, d->name, mac, until))
		return false;
	quarantined(w, d, ts_us, mac, (uint32_t)(until - now), why);
	return true;
}

static void volume_alerts(struct watch *w, struct dev_state *d, struct slot_state *s,
			  int dir, uint64_t ts_us, const struct volume_event *ev, size_t n,
			  bool block)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *win = ev[i].kind == VOLUME_LIMIT_HOUR ? "hour" : "day";
		char key[SERVICE_LEN + 16];
		struct alert a;
		bool blocked = block && d->dev &&
			       policy_device_mode(d->dev) == POLICY_MODE_ENFORCE &&
			       !d->quarantined;

		start_alert(w, &a, ts_us, "volume_limit", d, NULL, NULL);
		if (blocked)
			a.action = "quarantine";
		alert_message(&a, "%s: %s%s%s %" PRIu64 " bytes this %s, limit %" PRIu64,
			      d->name, s ? s->service : "", s ? " " : "",
			      dir_name[dir], ev[i].bytes, win, ev[i].limit);
		alert_add_str(&a, "scope", s ? "service" : "device");
		if (s)
			alert_add_str(&a, "service", s->service);
		alert_add_str(&a, "direction", dir_name[dir]);
		alert_add_str(&a, "window", win);
		alert_add_u64(&a, "bytes", ev[i].bytes);
		alert_add_u64(&a, "limit", ev[i].limit);
		snprintf(key, sizeof(key), "%s/%s/%s", s ? s->service : "", dir_name[dir], win);
		a.rearm_key = key;
		rule_of(&a, s ? s->rule : NULL);
		if (blocked && !block_device(w, d, ts_us, &ev[i], a.message))
			a.action = "alert";	/* could not: said as it is */
		emit(w, d, &a);
	}
}

static void credit(struct watch *w, uint32_t slot, uint64_t ts_us,
		   const uint64_t bytes[2])
{
	struct baseline_event ev[BASELINE_MAX_EVENTS];
	struct volume_event vev[VOLUME_MAX_EVENTS];
	uint64_t now_ms = ts_us / 1000;
	const struct policy_limits *lim;
	struct slot_state *s;
	struct dev_state *d;
	size_t n;
	int dir;

	if (!slot || slot >= w->n_slots)
		return;
	s = &w->slots[slot];
	d = w->devs[s->dev];
	for (dir = 0; dir < 2; dir++)
		s->total[dir] = s->total[dir] + bytes[dir] < s->total[dir]
				? UINT64_MAX : s->total[dir] + bytes[dir];
	if (bytes[0] || bytes[1]) {
		/* A report inside a connection that stays open (an MQTT
		 * publish) is traffic, not a new flow: the service is alive. */
		if (now_ms > s->active_ms)
			s->active_ms = now_ms;
		s->late_said = false;
	}
	for (dir = 0; dir < 2; dir++) {
		n = baseline_add(&s->base[dir], &w->cfg.baseline, now_ms, bytes[dir],
				 0, ev, BASELINE_MAX_EVENTS);
		baseline_alerts(w, d, s, dir, ts_us, ev, n);
		lim = s->rule ? policy_rule_limits(s->rule) : NULL;
		if (lim) {
			n = volume_add(&s->vol[dir], now_ms, bytes[dir],
				       dir ? lim->down_per_hour : lim->up_per_hour,
				       dir ? lim->down_per_day : lim->up_per_day,
				       vev, VOLUME_MAX_EVENTS);
			volume_alerts(w, d, s, dir, ts_us, vev, n, lim->over != 0);
		}
		lim = d->dev ? policy_device_limits(d->dev) : NULL;
		if (lim) {
			n = volume_add(&d->vol[dir], now_ms, bytes[dir],
				       dir ? lim->down_per_hour : lim->up_per_hour,
				       dir ? lim->down_per_day : lim->up_per_day,
				       vev, VOLUME_MAX_EVENTS);
			volume_alerts(w, d, NULL, dir, ts_us, vev, n, lim->over != 0);
		}
	}
	n = baseline_add(&d->total, &w->cfg.baseline, now_ms, bytes[0] + bytes[1], 0,
			 ev, BASELINE_MAX_EVENTS);
	baseline_alerts(w, d, NULL, 0, ts_us, ev, n);
}

/* ---- entry points ----------------------------------------------------------- */

struct watch *watch_new(const struct watch_config *cfg, const struct policy *p,
			watch_emit_fn *emit_fn, void *ctx)
{
	struct watch *w;

	if (!cfg || !p || !emit_fn) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	if (pthread_mutex_init(&w->mu, NULL)) {
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	w->cfg = *cfg;
	w->p = p;
	w->emit = emit_fn;
	w->ctx = ctx;
	return w;
}

void watch_free(struct watch *w)
{
	uint32_t i;

	if (!w)
		return;
	for (i = 0; i < w->n_devs; i++) {
		free(w->devs[i]->services);
		free(w->devs[i]->endpoints);
		free(w->devs[i]);
	}
	free(w->devs);
	free(w->dev_ix.v);
	free(w->slots);
	free(w->slot_ix.v);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

/* Rules of the new policy, found by their labels. */
static const struct policy_rule *rule_by_label(const struct policy_device *d,
					       enum policy_direction dir,
					       const char *label)
{
	size_t i, n = policy_device_rule_count(d, dir);

	for (i = 0; i < n; i++) {
		const struct policy_rule *r = policy_device_rule_at(d, dir, i);
		char cut[SERVICE_LEN];

		snprintf(cut, sizeof(cut), "%s", policy_rule_label(r));
		if (!strcmp(cut, label))
			return r;
	}
	return NULL;
}

static void rebind(struct watch *w)
{
	uint32_t i;

	for (i = 0; i < w->n_devs; i++)
		w->devs[i]->dev = device_by_name(w->p, w->devs[i]->name);
	for (i = 1; i < w->n_slots; i++) {
		struct slot_state *s = &w->slots[i];
		const struct policy_device *d = w->devs[s->dev]->dev;

		s->rule = d ? rule_by_label(d, (enum policy_direction)s->role,
					    s->service) : NULL;
	}
}

void watch_set_policy(struct watch *w, const struct policy *p)
{
	pthread_mutex_lock(&w->mu);
	w->p = p;
	rebind(w);
	pthread_mutex_unlock(&w->mu);
}

/* The state name of the device on SIDE: its own, or for the unknown device
 * "unknown/" and its MAC (else its address), one state per machine. */
static void state_name(const struct policy_device *dev, const struct flow *f,
		       int side, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN], m[18];

	if (!policy_device_is_unknown(dev)) {
		snprintf(buf, n, "%s", policy_device_name(dev));
		return;
	}
	if (f->flags & (FLOW_F_MAC0 << side))
		snprintf(buf, n, "unknown/%s", mac_text(f->mac[side], m, sizeof(m)));
	else {
		flow_addr_str(f, side, a, sizeof(a));
		snprintf(buf, n, "unknown/%s", a);
	}
}

uint32_t watch_flow_decided(struct watch *w, const struct watch_flow *wf,
			    bool *drop)
{
	const struct flow *f = wf->f;
	const struct policy_verdict *v = wf->v;
	uint64_t now_ms = wf->ts_us / 1000;
	uint32_t slot = 0;
	int i;

	if (drop)
		*drop = false;
	pthread_mutex_lock(&w->mu);
	w->st.flows++;
	for (i = 0; i < 2; i++) {
		const struct policy_device *dev = i ? v->responder_dev : v->initiator_dev;
		int side = i ? !f->initiator : f->initiator;
		enum policy_direction role = i ? POLICY_IN : POLICY_OUT;
		const struct policy_rule *rule;
		struct dev_state *d;
		char name[NAME_LEN];
		uint32_t idx, s;

		if (!dev)
			continue;
		state_name(dev, f, side, name, sizeof(name));
		d = dev_get(w, name, now_ms, &idx);
		if (!d)
			continue;
		rule = own_rule(dev, role, v);
		if (!wf->again) {
			d->last_ms = now_ms;
			sighting(w, d, wf, side);
			if (role == POLICY_OUT)
				out_checks(w, d, wf, side, rule);
			else
				in_checks(w, d, wf, side, rule);
			if (i == 0 || !v->initiator_dev)
				risk_check(w, d, wf);
		}
		s = slot_get(w, idx, rule ? policy_rule_label(rule) : NO_RULE,
			     (uint8_t)role, now_ms);
		if (!s)
			continue;
		if (role == POLICY_OUT && !wf->again &&
		    interval_check(w, d, &w->slots[s], wf) && drop)
			*drop = true;
		if (!slot && wf->again) {
			slot = s;
		} else if (!slot) {
			/* The flow's bytes so far go to its first slot: up is
			 * what the device sent. */
			uint64_t b[2] = { f->bytes[side], f->bytes[!side] };

			slot = s;
			credit(w, s, wf->ts_us, b);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return slot;
}

void watch_credit(struct watch *w, uint32_t slot, uint64_t ts_us,
		  uint64_t from_initiator, uint64_t to_initiator)
{
	uint64_t b[2];

	pthread_mutex_lock(&w->mu);
	if (slot && slot < w->n_slots) {
		bool out = w->slots[slot].role == POLICY_OUT;

		b[0] = out ? from_initiator : to_initiator;
		b[1] = out ? to_initiator : from_initiator;
		credit(w, slot, ts_us, b);
	}
	pthread_mutex_unlock(&w->mu);
}

void watch_packet(struct watch *w, const struct flow *f, int side,
		  uint32_t bytes, uint64_t ts_us)
{
	uint64_t b[2] = { 0, 0 };
	struct slot_state *s;
	int dev_side;

	if (!f->slot)
		return;
	pthread_mutex_lock(&w->mu);
	if (f->slot < w->n_slots) {
		s = &w->slots[f->slot];
		/* The slot's device started the flow (OUT) or served it (IN). */
		dev_side = s->role == POLICY_OUT ? f->initiator : !f->initiator;
		b[side == dev_side ? 0 : 1] = bytes;
		credit(w, f->slot, ts_us, b);
	}
	pthread_mutex_unlock(&w->mu);
}

/* Late: nothing of the service, neither a new flow nor traffic in one
 * that stays open, for longer than every + tolerance; once per silence. */
static void late_check(struct watch *w, struct slot_state *s, uint64_t ts_us)
{
	const struct policy_limits *lim = s->rule ? policy_rule_limits(s->rule) : NULL;
	struct dev_state *d = w->devs[s->dev];
	uint64_t now_ms = ts_us / 1000, gap;
	struct alert a;

	if (!lim || !lim->every_ms || s->role != POLICY_OUT || s->late_said ||
	    !s->active_ms || now_ms <= s->active_ms ||
	    (gap = now_ms - s->active_ms) <= (uint64_t)lim->every_ms + lim->tolerance_ms)
		return;
	s->late_said = true;
	start_alert(w, &a, ts_us, "report_interval", d, NULL, NULL);
	alert_message(&a, "%s: %s has not reported for %.1f s, expected every %.1f s +/- %.1f s",
		      d->name, s->service, (double)gap / 1000,
		      (double)lim->every_ms / 1000, (double)lim->tolerance_ms / 1000);
	alert_add_str(&a, "service", s->service);
	alert_add_str(&a, "deviation", "late");
	alert_add_double(&a, "gap_s", (double)gap / 1000);
	alert_add_double(&a, "every_s", (double)lim->every_ms / 1000);
	alert_add_double(&a, "tolerance_s", (double)lim->tolerance_ms / 1000);
	snprintf(a.key, sizeof(a.key), "late %s", s->service);
	a.rearm_key = a.key;
	rule_of(&a, s->rule);
	emit(w, d, &a);
}

static void released(struct watch *w, struct dev_state *d, uint64_t ts_us,
		     const char *why)
{
	char m[18];
	struct alert a;

	d->quarantined = false;
	d->quarantine_until_ms = 0;
	start_alert(w, &a, ts_us, "quarantine_released", d, NULL, NULL);
	a.action = "release";
	alert_message(&a, "%s: quarantine of %s released (%s)", d->name,
		      mac_text(d->qmac, m, sizeof(m)), why);
	alert_add_str(&a, "mac", m);
	alert_add_str(&a, "reason", why);
	emit(w, d, &a);
}

void watch_tick(struct watch *w, uint64_t ts_us)
{
	struct baseline_event ev[BASELINE_MAX_EVENTS];
	uint64_t now_ms = ts_us / 1000;
	uint32_t i;
	size_t n;
	int dir;

	pthread_mutex_lock(&w->mu);
	if (now_ms < w->next_tick_ms) {
		pthread_mutex_unlock(&w->mu);
		return;
	}
	w->next_tick_ms = now_ms + TICK_MS;
	for (i = 1; i < w->n_slots; i++) {
		struct slot_state *s = &w->slots[i];

		for (dir = 0; dir < 2; dir++) {
			n = baseline_tick(&s->base[dir], &w->cfg.baseline, now_ms,
					  ev, BASELINE_MAX_EVENTS);
			baseline_alerts(w, w->devs[s->dev], s, dir, ts_us, ev, n);
		}
		late_check(w, s, ts_us);
	}
	for (i = 0; i < w->n_devs; i++) {
		struct dev_state *d = w->devs[i];

		n = baseline_tick(&d->total, &w->cfg.baseline, now_ms, ev,
				  BASELINE_MAX_EVENTS);
		baseline_alerts(w, d, NULL, 0, ts_us, ev, n);
		if (d->quarantined && d->quarantine_until_ms &&
		    now_ms >= d->quarantine_until_ms)
			released(w, d, ts_us, "timeout");
	}
	pthread_mutex_unlock(&w->mu);
}

/* The quarantine_applied alert, and the release to watch for (locked). */
static void quarantined(struct watch *w, struct dev_state *d, uint64_t ts_us,
			const uint8_t mac[6], uint32_t timeout_ms, const char *why)
{
	char m[18];
	struct alert a;

	d->quarantined = true;
	memcpy(d->qmac, mac, 6);
	d->quarantine_until_ms = timeout_ms ? ts_us / 1000 + timeout_ms : 0;
	start_alert(w, &a, ts_us, "quarantine_applied", d, NULL, NULL);
	a.action = "quarantine";
	mac_text(mac, m, sizeof(m));
	if (timeout_ms)
		alert_message(&a, "%s: quarantined (MAC %s) for %u s: %s",
			      d->name, m, timeout_ms / 1000, why ? why : "");
	else
		alert_message(&a, "%s: quarantined (MAC %s) until released: %s",
			      d->name, m, why ? why : "");
	alert_add_str(&a, "mac", m);
	alert_add_u64(&a, "timeout_s", timeout_ms / 1000);
	alert_add_str(&a, "reason", why ? why : "");
	a.rearm_key = m;
	emit(w, d, &a);
}

void watch_quarantine(struct watch *w, uint64_t ts_us,
		      const struct policy_device *dev, const uint8_t mac[6],
		      uint32_t timeout_ms, const char *why)
{
	char name[NAME_LEN], m[18];
	struct dev_state *d;

	pthread_mutex_lock(&w->mu);
	if (policy_device_is_unknown(dev))
		snprintf(name, sizeof(name), "unknown/%s", mac_text(mac, m, sizeof(m)));
	else
		snprintf(name, sizeof(name), "%s", policy_device_name(dev));
	d = dev_get(w, name, ts_us / 1000, NULL);
	if (d)
		quarantined(w, d, ts_us, mac, timeout_ms, why);
	pthread_mutex_unlock(&w->mu);
}

void watch_set_block(struct watch *w, watch_block_fn *fn, void *ctx)
{
	pthread_mutex_lock(&w->mu);
	w->block = fn;
	w->block_ctx = ctx;
	pthread_mutex_unlock(&w->mu);
}

void watch_release(struct watch *w, uint64_t ts_us, const uint8_t mac[6],
		   const char *why)
{
	uint32_t i;

	pthread_mutex_lock(&w->mu);
	for (i = 0; i < w->n_devs; i++)
		if (w->devs[i]->quarantined && !memcmp(w->devs[i]->qmac, mac, 6))
			released(w, w->devs[i], ts_us, why);
	pthread_mutex_unlock(&w->mu);
}

void watch_foreach_service(struct watch *w, watch_service_fn *fn, void *ctx)
{
	uint32_t i;

	pthread_mutex_lock(&w->mu);
	for (i = 1; i < w->n_slots; i++) {
		const struct slot_state *s = &w->slots[i];

		fn(ctx, w->devs[s->dev]->name, s->service,
		   (enum policy_direction)s->role, s->total[0], s->total[1]);
	}
	pthread_mutex_unlock(&w->mu);
}

void watch_foreach_device(struct watch *w, watch_device_fn *fn, void *ctx)
{
	struct watch_device_info di;
	uint32_t i;

	pthread_mutex_lock(&w->mu);
	for (i = 0; i < w->n_devs; i++) {
		const struct dev_state *d = w->devs[i];

		memset(&di, 0, sizeof(di));
		di.name = d->name;
		di.dev = d->dev;
		di.first_ms = d->first_ms;
		di.last_ms = d->last_ms;
		di.has_mac = d->has_mac;
		di.has_ip4 = d->has_ip4;
		di.has_ip6 = d->has_ip6;
		memcpy(di.mac, d->mac, sizeof(di.mac));
		memcpy(di.ip4, d->ip4, sizeof(di.ip4));
		memcpy(di.ip6, d->ip6, sizeof(di.ip6));
		di.port = d->port;
		di.quarantined = d->quarantined;
		di.quarantine_until_ms = d->quarantine_until_ms;
		fn(ctx, &di);
	}
	pthread_mutex_unlock(&w->mu);
}

void watch_get_stats(struct watch *w, struct watch_stats *st)
{
	pthread_mutex_lock(&w->mu);
	*st = w->st;
	pthread_mutex_unlock(&w->mu);
}

/* ---- state file ---------------------------------------------------------- */

enum { REC_DEVICE = 1, REC_SLOT = 2 };
#define STATE_PAYLOAD_MAX (4096 + 64 * 4 + 256 * 8)

static void enc_baseline(struct sfenc *e, const struct baseline *b)
{
	sfenc_put_u64(e, b->bucket_start_ms);
	sfenc_put_u64(e, b->bucket_bytes);
	sfenc_put_u64(e, b->bucket_packets);
	sfenc_put_u32(e, b->n_buckets);
	sfenc_put_u32(e, b->flags);
	sfenc_put_double(e, b->mean);
	sfenc_put_double(e, b->var);
}

static void dec_baseline(struct sfdec *d, struct baseline *b)
{
	sfdec_get_u64(d, &b->bucket_start_ms);
	sfdec_get_u64(d, &b->bucket_bytes);
	sfdec_get_u64(d, &b->bucket_packets);
	sfdec_get_u32(d, &b->n_buckets);
	sfdec_get_u32(d, &b->flags);
	sfdec_get_double(d, &b->mean);
	sfdec_get_double(d, &b->var);
}

static void enc_volume(struct sfenc *e, const struct volume_window *v)
{
	sfenc_put_u64(e, v->hour_start_ms);
	sfenc_put_u64(e, v->hour_bytes);
	sfenc_put_u64(e, v->day_start_ms);
	sfenc_put_u64(e, v->day_bytes);
	sfenc_put_u32(e, v->flags);
}

static void dec_volume(struct sfdec *d, struct volume_window *v)
{
	sfdec_get_u64(d, &v->hour_start_ms);
	sfdec_get_u64(d, &v->hour_bytes);
	sfdec_get_u64(d, &v->day_start_ms);
	sfdec_get_u64(d, &v->day_bytes);
	sfdec_get_u32(d, &v->flags);
}

int watch_save(struct watch *w, const char *path, uint64_t now_ms)
{
	static uint8_t buf[STATE_PAYLOAD_MAX];
	struct statefile_writer *sw;
	struct sfenc e;
	uint32_t i, j;
	int rc = 0, err = 0;

	pthread_mutex_lock(&w->mu);
	sw = statefile_writer_open(path, now_ms, &err);
	if (!sw) {
		pthread_mutex_unlock(&w->mu);
		return err ? err : -EIO;
	}
	for (i = 0; i < w->n_devs && !rc; i++) {
		const struct dev_state *d = w->devs[i];

		sfenc_init(&e, buf, sizeof(buf));
		sfenc_put_u64(&e, d->first_ms);
		sfenc_put_u64(&e, d->last_ms);
		sfenc_put_u8(&e, (uint8_t)(d->has_mac | d->has_ip4 << 1 | d->has_ip6 << 2));
		sfenc_put_bytes(&e, d->mac, 6);
		sfenc_put_bytes(&e, d->ip4, 4);
		sfenc_put_bytes(&e, d->ip6, 16);
		sfenc_put_bytes(&e, d->port, sizeof(d->port));
		enc_baseline(&e, &d->total);
		enc_volume(&e, &d->vol[0]);
		enc_volume(&e, &d->vol[1]);
		sfenc_put_u32(&e, d->n_services);
		for (j = 0; j < d->n_services; j++)
			sfenc_put_u32(&e, d->services[j]);
		sfenc_put_u32(&e, d->n_endpoints);
		for (j = 0; j < d->n_endpoints; j++)
			sfenc_put_u64(&e, d->endpoints[j]);
		rc = e.overflow ? -EMSGSIZE
				: statefile_put(sw, REC_DEVICE, d->name, strlen(d->name),
						buf, e.len);
	}
	for (i = 1; i < w->n_slots && !rc; i++) {
		const struct slot_state *s = &w->slots[i];
		char key[NAME_LEN + SERVICE_LEN + 2];
		size_t kl;

		kl = (size_t)snprintf(key, sizeof(key), "%s%c%s", w->devs[s->dev]->name,
				      0, s->service) + 1;
		key[kl - 1] = (char)s->role;
		sfenc_init(&e, buf, sizeof(buf));
		sfenc_put_u32(&e, i);
		enc_baseline(&e, &s->base[0]);
		enc_baseline(&e, &s->base[1]);
		enc_volume(&e, &s->vol[0]);
		enc_volume(&e, &s->vol[1]);
		sfenc_put_u64(&e, s->iv.start_ms);
		sfenc_put_u8(&e, s->iv.seen);
		sfenc_put_u8(&e, s->iv.late_said);
		sfenc_put_u64(&e, s->active_ms);
		sfenc_put_u8(&e, s->late_said);
		sfenc_put_u64(&e, s->total[0]);
		sfenc_put_u64(&e, s->total[1]);
		rc = e.overflow ? -EMSGSIZE
				: statefile_put(sw, REC_SLOT, key, kl, buf, e.len);
	}
	if (rc)
		statefile_abort(sw);
	else
		rc = statefile_commit(sw);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

struct load_ctx {
	struct watch *w;
	uint64_t now_ms;
};

/* Downtime is not silence: a baseline picks up at now, its open bucket
 * partial, without closing the buckets the daemon was not there for. */
static void resume_baseline(struct baseline *b, uint64_t now_ms,
			    const struct baseline_params *p)
{
	if (now_ms < b->bucket_start_ms + p->bucket_ms)
		return;
	b->bucket_start_ms = now_ms - now_ms % p->bucket_ms;
	b->bucket_bytes = b->bucket_packets = 0;
	b->flags = BASELINE_F_PARTIAL;
}

static int load_record(void *ctx, uint16_t type, const void *key, size_t key_len,
		       const void *payload, size_t payload_len)
{
	struct load_ctx *lc = ctx;
	struct watch *w = lc->w;
	char name[NAME_LEN], service[SERVICE_LEN];
	struct sfdec d;
	uint32_t i, n, idx;

	sfdec_init(&d, payload, payload_len);
	if (type == REC_DEVICE) {
		struct dev_state *ds;
		uint8_t has;

		if (!key_len || key_len >= sizeof(name))
			return -EBADMSG;
		memcpy(name, key, key_len);
		name[key_len] = '\0';
		ds = dev_get(w, name, lc->now_ms, NULL);
		if (!ds)
			return 0;	/* full: counted, keep loading */
		sfdec_get_u64(&d, &ds->first_ms);
		sfdec_get_u64(&d, &ds->last_ms);
		sfdec_get_u8(&d, &has);
		ds->has_mac = has & 1;
		ds->has_ip4 = (has >> 1) & 1;
		ds->has_ip6 = (has >> 2) & 1;
		sfdec_get_bytes(&d, ds->mac, 6);
		sfdec_get_bytes(&d, ds->ip4, 4);
		sfdec_get_bytes(&d, ds->ip6, 16);
		sfdec_get_bytes(&d, ds->port, sizeof(ds->port));
		ds->port[sizeof(ds->port) - 1] = '\0';
		dec_baseline(&d, &ds->total);
		resume_baseline(&ds->total, lc->now_ms, &w->cfg.baseline);
		dec_volume(&d, &ds->vol[0]);
		dec_volume(&d, &ds->vol[1]);
		sfdec_get_u32(&d, &n);
		for (i = 0; i < n && !d.error; i++) {
			uint32_t v;

			sfdec_get_u32(&d, &v);
			if (ds->n_services < w->cfg.max_services)
				ds->services[ds->n_services++] = v;
		}
		sfdec_get_u32(&d, &n);
		for (i = 0; i < n && !d.error; i++) {
			uint64_t v;

			sfdec_get_u64(&d, &v);
			if (ds->n_endpoints < w->cfg.max_endpoints)
				ds->endpoints[ds->n_endpoints++] = v;
		}
		return sfdec_end(&d) ? -EBADMSG : 0;
	}
	if (type == REC_SLOT) {
		const char *k = key, *z = memchr(key, 0, key_len);
		struct slot_state *s;
		uint32_t saved, sl;
		uint8_t role;

		if (!z || z == k || (size_t)(z - k) >= sizeof(name) ||
		    key_len - (size_t)(z - k) - 1 < 2 ||
		    key_len - (size_t)(z - k) - 2 >= sizeof(service))
			return -EBADMSG;
		memcpy(name, k, (size_t)(z - k));
		name[z - k] = '\0';
		n = (uint32_t)(key_len - (size_t)(z - k) - 2);
		memcpy(service, z + 1, n);
		service[n] = '\0';
		role = (uint8_t)k[key_len - 1];
		if (role >= __POLICY_DIRECTION_MAX || !dev_get(w, name, lc->now_ms, &idx))
			return role >= __POLICY_DIRECTION_MAX ? -EBADMSG : 0;
		sfdec_get_u32(&d, &saved);
		(void)saved;	/* numbers are given again; names are what lasts */
		sl = slot_get(w, idx, service, role, lc->now_ms);
		if (!sl)
			return 0;
		s = &w->slots[sl];
		for (i = 0; i < 2; i++) {
			dec_baseline(&d, &s->base[i]);
			resume_baseline(&s->base[i], lc->now_ms, &w->cfg.baseline);
		}
		dec_volume(&d, &s->vol[0]);
		dec_volume(&d, &s->vol[1]);
		sfdec_get_u64(&d, &s->iv.start_ms);
		sfdec_get_u8(&d, &s->iv.seen);
		sfdec_get_u8(&d, &s->iv.late_said);
		sfdec_get_u64(&d, &s->active_ms);
		{
			uint8_t said;

			sfdec_get_u8(&d, &said);
			s->late_said = said != 0;
		}
		sfdec_get_u64(&d, &s->total[0]);
		sfdec_get_u64(&d, &s->total[1]);
		/* the daemon's downtime is not the device's silence */
		if (s->active_ms && s->active_ms < lc->now_ms)
			s->active_ms = lc->now_ms;
		return sfdec_end(&d) ? -EBADMSG : 0;
	}
	return 0;	/* a newer record type: skipped */
}

int watch_load(struct watch *w, const char *path, uint64_t now_ms, char *why,
	       size_t why_len)
{
	struct load_ctx lc = { w, now_ms };
	uint64_t written;
	int rc;

	/* Verify the whole file first (no callback), then load. */
	rc = statefile_load(path, NULL, NULL, &written, why, why_len);
	if (rc)
		return rc;
	pthread_mutex_lock(&w->mu);
	rc = statefile_load(path, load_record, &lc, &written, why, why_len);
	rebind(w);
	pthread_mutex_unlock(&w->mu);
	return rc;
}
