/* learn.c - the learn-mode recorder and the policy it writes (learn.h).
 *
 * The export must hold a round-trip property (docs/learn.md): enforcing it
 * on the traffic it was learnt from gives no violation.  So every choice
 * below is made the way policy_evaluate() will see the flow again:
 *   - a device is identified as the policy will identify it: an initiator
 *     by its MAC, a side without MAC by its address, so an address may
 *     belong to one exported device only (resolve());
 *   - a service is named as the rule will match it: nDPI's exact name
 *     ("TLS.Google") when nDPI named it, the transport and port when it
 *     only guessed or could not tell;
 *   - the remote side by what the policy can see: a LAN peer by its
 *     device name, a server by the name the flow carries (not for DNS and
 *     its kin, whose name is what they look up), else by its address;
 *   - generalising only widens (export.h), and what does not fit a cap
 *     widens to `wan` / `lan` rather than being dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "daemon/classify.h"
#include "daemon/export.h"
#include "daemon/flow.h"
#include "daemon/learn.h"
#include "daemon/names.h"
#include "daemon/watch.h"
#include "policy/policy.h"

#define MAX_DEVICES	1024	/* learned devices, undeclared machines included */
#define MAX_SERVICES	128	/* per device and direction */
#define MAX_PORTS	16	/* services known by port, per device, direction, transport */
#define MAX_NAMES	64	/* per service: host names */
#define MAX_ADDRS	64	/* per service: remote addresses, WAN and LAN each */
#define MAX_PEERS	32	/* per service: LAN devices */
#define MAX_DEV_ADDRS	32	/* per device */
#define MAX_MACS	8	/* per declared device */
#define LIST_MAX	16	/* names or networks a rule lists before it says wan / lan */
#define BURST_US	2000000ULL	/* flows closer than this are one report (as the watcher's) */
#define NAME_LEN	64
#define PROTO_LEN	64
#define DEV_SLOTS	2048	/* hash slots, a power of two >= 2 * MAX_DEVICES */

enum svc_kind {
	SVC_PROTO,	/* nDPI named it: proto is the rule's name */
	SVC_PORT,	/* by transport and port (lo == hi) */
	SVC_RANGE,	/* by transport and a port range: too many ports to list */
	__SVC_KIND_MAX
};

#define A_INI 1		/* the device started a flow from this address */
#define A_RSP 2		/* the device answered on it */

struct addr {
	uint8_t family, flags;
	uint8_t a[16];
};

struct ldev;

struct peer {
	struct ldev *dev;
	struct addr at;		/* where it was: said when it is not exported */
};

struct service {
	uint8_t dir;		/* enum policy_direction */
	uint8_t kind;		/* enum svc_kind */
	uint8_t l4;		/* IP protocol (PROTO: of the first flow) */
	uint16_t lo, hi;	/* PORT, RANGE */
	char proto[PROTO_LEN];	/* PROTO: the rule's name; else nDPI's guess or "" */
	uint64_t guessed;	/* flows whose protocol nDPI guessed */
	char **names;
	struct addr *wan, *lan;
	struct peer *peers;
	uint32_t n_names, n_wan, n_lan, n_peers;
	uint64_t over_names, over_wan, over_lan, over_peers;
	uint64_t flows, up, down, first_us, last_us, report_us;
	struct export_interval iv;
};

struct ldev {
	char name[NAME_LEN];	/* a declared device's; "" for an undeclared machine */
	char profile[NAME_LEN];	/* its declared profile, "" if none */
	bool has_mac;		/* undeclared: keyed by MAC, else by key */
	uint8_t mac[6];
	struct addr key;
	char watch[80];		/* the watcher's name for it */
	struct addr *addrs;
	uint32_t n_addrs;
	uint64_t over_addrs[2];	/* sightings from IPv4 / IPv6 addresses past the cap */
	uint8_t macs[MAX_MACS][6];	/* a declared device's, as initiator */
	uint32_t n_macs;
	char port[16];
	bool port_mixed;
	uint64_t flows, first_us, last_us;
	struct service *svc;
	uint32_t n_svc, cap_svc;
	uint32_t n_dir[2], n_port[2][2];
	uint64_t over_svc[2];	/* flows of services past MAX_SERVICES */
	/* learn_export() only */
	struct ldev *rep;	/* the device it is written as */
	bool shared[2];		/* it shares an IPv4 / IPv6 address: declares none */
	size_t x;		/* its index among the written devices */
};

struct learn {
	pthread_mutex_t mu;
	struct ldev **devs;
	size_t n, cap;
	struct ldev *slot[DEV_SLOTS];	/* by key: open addressing */
	uint64_t flows, first_us, last_us;
	uint64_t over_devices;	/* flows of machines past MAX_DEVICES */
};

/* ---- recording ------------------------------------------------------------ */

struct learn *learn_new(void)
{
	struct learn *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	pthread_mutex_init(&l->mu, NULL);
	return l;
}

/* qsort(), which must not see a NULL array even when it is empty. */
static void sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, size, cmp);
}

static void svc_clear(struct service *s)
{
	uint32_t i;

	for (i = 0; i < s->n_names; i++)
		free(s->names[i]);
	free(s->names);
	free(s->wan);
	free(s->lan);
	free(s->peers);
}

/* What was learnt about D, keeping who it is (others' rules name it). */
static void dev_clear(struct ldev *d)
{
	uint32_t i;

	for (i = 0; i < d->n_svc; i++)
		svc_clear(&d->svc[i]);
	free(d->svc);
	free(d->addrs);
	d->svc = NULL;
	d->addrs = NULL;
	d->n_svc = d->cap_svc = d->n_addrs = d->n_macs = 0;
	d->over_addrs[0] = d->over_addrs[1] = d->flows = d->first_us = d->last_us = 0;
	memset(d->n_dir, 0, sizeof(d->n_dir));
	memset(d->n_port, 0, sizeof(d->n_port));
	memset(d->over_svc, 0, sizeof(d->over_svc));
	d->port[0] = '\0';
	d->port_mixed = false;
}

static void clear_all(struct learn *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		dev_clear(l->devs[i]);
		free(l->devs[i]);
	}
	free(l->devs);
	l->devs = NULL;
	l->n = l->cap = 0;
	memset(l->slot, 0, sizeof(l->slot));
	l->flows = l->first_us = l->last_us = l->over_devices = 0;
}

void learn_free(struct learn *l)
{
	if (!l)
		return;
	clear_all(l);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

static struct addr addr_of(const struct flow *f, int side)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	a.family = f->key.family;
	memcpy(a.a, f->key.addr[side], 16);
	return a;
}

static int fam_ix(uint8_t family)
{
	return family == AF_INET6;
}

static bool same_addr(const struct addr *x, const struct addr *y)
{
	return x->family == y->family && !memcmp(x->a, y->a, 16);
}

static const char *mac_str(const uint8_t m[6], char *buf, size_t n)
{
	snprintf(buf, n, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		 m[4], m[5]);
	return buf;
}

static const char *addr_str(const struct addr *a, char *buf, size_t n)
{
	if (!inet_ntop(a->family == AF_INET ? AF_INET : AF_INET6, a->a, buf, (socklen_t)n))
		snprintf(buf, n, "?");
	return buf;
}

/* The key a device is found by: its declared name, else its MAC, else its
 * address.  One string, so one hash table serves all three. */
static void dev_key(const char *name, const uint8_t *mac, const struct addr *a,
		    char *buf, size_t n)
{
	char s[INET6_ADDRSTRLEN];

	if (name)
		snprintf(buf, n, "n %s", name);
	else if (mac)
		snprintf(buf, n, "m %s", mac_str(mac, s, sizeof(s)));
	else
		snprintf(buf, n, "a %s", addr_str(a, s, sizeof(s)));
}

static uint32_t key_hash(const char *k)
{
	uint32_t h = 2166136261u;

	for (; *k; k++)
		h = (h ^ (uint8_t)*k) * 16777619u;
	return h;
}

static void ldev_key(const struct ldev *d, char *buf, size_t n)
{
	dev_key(d->name[0] ? d->name : NULL, d->has_mac ? d->mac : NULL, &d->key, buf, n);
}

/*
 * The learned device for side SIDE of F, which the policy identified as PD;
 * created if new.  An undeclared machine is one device per MAC (a MAC with
 * the group bit is no machine's: then by address), as the watcher counts
 * them.  NULL past MAX_DEVICES (counted) or without memory.
 */
static struct ldev *dev_get(struct learn *l, const struct policy_device *pd,
			    const struct flow *f, int side)
{
	bool declared = !policy_device_is_unknown(pd);
	bool mac = !declared && (f->flags & (FLOW_F_MAC0 << side)) &&
		   !(f->mac[side][0] & 1);
	struct addr a = addr_of(f, side);
	char key[96], other[96], s[INET6_ADDRSTRLEN];
	uint32_t i;
	struct ldev *d, **v;

	dev_key(declared ? policy_device_name(pd) : NULL, mac ? f->mac[side] : NULL, &a,
		key, sizeof(key));
	for (i = key_hash(key) & (DEV_SLOTS - 1); l->slot[i]; i = (i + 1) & (DEV_SLOTS - 1)) {
		ldev_key(l->slot[i], other, sizeof(other));
		if (!strcmp(key, other))
			return l->slot[i];
	}
	if (l->n >= MAX_DEVICES)
		goto full;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;

		v = realloc(l->devs, cap * sizeof(*v));
		if (!v)
			goto full;
		l->devs = v;
		l->cap = cap;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		goto full;
	if (declared) {
		const char *prof = policy_device_profile(pd);

		snprintf(d->name, sizeof(d->name), "%s", policy_device_name(pd));
		snprintf(d->profile, sizeof(d->profile), "%s", prof ? prof : "");
		snprintf(d->watch, sizeof(d->watch), "%s", d->name);
	} else {
		d->key = a;
		d->has_mac = mac;
		memcpy(d->mac, f->mac[side], mac ? 6 : 0);
		/* the watcher's name: by any MAC the side had */
		if (f->flags & (FLOW_F_MAC0 << side))
			snprintf(d->watch, sizeof(d->watch), "unknown/%s",
				 mac_str(f->mac[side], s, sizeof(s)));
		else
			snprintf(d->watch, sizeof(d->watch), "unknown/%s",
				 addr_str(&a, s, sizeof(s)));
	}
	l->devs[l->n++] = d;
	l->slot[i] = d;
	return d;
full:
	l->over_devices++;
	return NULL;
}

/* Add A to the set V[*N] (cap MAX); false if it did not fit. */
static bool addr_add(struct addr **v, uint32_t *n, uint32_t max, const struct addr *a,
		     uint8_t flags)
{
	struct addr *nv;
	uint32_t i;

	for (i = 0; i < *n; i++)
		if (same_addr(&(*v)[i], a)) {
			(*v)[i].flags |= flags;
			return true;
		}
	if (*n >= max || !(nv = realloc(*v, (*n + 1) * sizeof(**v))))
		return false;
	*v = nv;
	nv[*n] = *a;
	nv[*n].flags = flags;
	(*n)++;
	return true;
}

/* Who D is, as this flow shows it. */
static void sighting(struct ldev *d, const struct flow *f, int side, const char *port,
		     bool initiator, uint64_t ts_us)
{
	struct addr a = addr_of(f, side);
	uint32_t i;

	if (!d->flows++ || f->first_us < d->first_us)
		d->first_us = f->first_us;
	if (ts_us > d->last_us)
		d->last_us = ts_us;
	if (!addr_add(&d->addrs, &d->n_addrs, MAX_DEV_ADDRS, &a, initiator ? A_INI : A_RSP))
		d->over_addrs[fam_ix(a.family)]++;
	/* A declared device's MACs: those it started flows with (a
	 * responder's may be the router's, for a routed LAN address). */
	if (d->name[0] && initiator && (f->flags & (FLOW_F_MAC0 << side)) &&
	    !(f->mac[side][0] & 1)) {
		for (i = 0; i < d->n_macs && memcmp(d->macs[i], f->mac[side], 6); i++)
			;
		if (i == d->n_macs && i < MAX_MACS)
			memcpy(d->macs[d->n_macs++], f->mac[side], 6);
	}
	if (port && *port) {
		if (!d->port[0] && !d->port_mixed)
			snprintf(d->port, sizeof(d->port), "%s", port);
		else if (strcmp(d->port, port))
			d->port_mixed = true;
	}
}

/* The protocol as a rule names it exactly: "TLS.Google", "DNS".  A master
 * whose own name has a dot ("Z39.50") cannot lead a dotted name: then the
 * application alone, which a plain name matches. */
static void rule_proto(const struct classifier *c, const struct flow *f, char *buf,
		       size_t n)
{
	if (f->master && f->app && f->master != f->app &&
	    strchr(classifier_id_name(c, f->master), '.'))
		snprintf(buf, n, "%s", classifier_id_name(c, f->app));
	else
		classifier_proto_name(c, f->master, f->app, buf, n);
}

/* The service of F for D in DIR, created if new; NULL when D has too many
 * (counted). */
static struct service *svc_get(struct ldev *d, enum policy_direction dir,
			       const struct flow *f, const struct classifier *c)
{
	bool unknown = !f->master && !f->app, guessed = f->flags & FLOW_F_GUESSED;
	uint8_t l4 = f->key.ip_proto;
	uint16_t port = f->key.port[!f->initiator];	/* the service's */
	bool tcpudp = l4 == IPPROTO_TCP || l4 == IPPROTO_UDP;
	/* port 0 cannot be written: then nDPI's name (or Unknown) it is */
	enum svc_kind kind = tcpudp && port && (unknown || guessed) ? SVC_PORT : SVC_PROTO;
	char name[PROTO_LEN];
	struct service *s, *v;
	uint32_t i;

	if (kind == SVC_PROTO)
		rule_proto(c, f, name, sizeof(name));
	else if (unknown)
		name[0] = '\0';
	else
		classifier_proto_name(c, f->master, f->app, name, sizeof(name));
	if (kind == SVC_PORT && d->n_port[dir][l4 == IPPROTO_UDP] >= MAX_PORTS)
		kind = SVC_RANGE;
	for (i = 0; i < d->n_svc; i++) {
		s = &d->svc[i];
		if (s->dir != dir || s->kind != kind)
			continue;
		if (kind == SVC_PROTO ? !strcmp(s->proto, name) :
		    kind == SVC_PORT ? s->l4 == l4 && s->lo == port : s->l4 == l4)
			goto found;
	}
	if (d->n_dir[dir] >= MAX_SERVICES) {
		d->over_svc[dir]++;
		return NULL;
	}
	if (d->n_svc == d->cap_svc) {
		uint32_t cap = d->cap_svc ? 2 * d->cap_svc : 8;

		if (!(v = realloc(d->svc, cap * sizeof(*v)))) {
			d->over_svc[dir]++;
			return NULL;
		}
		d->svc = v;
		d->cap_svc = cap;
	}
	s = &d->svc[d->n_svc++];
	memset(s, 0, sizeof(*s));
	s->dir = (uint8_t)dir;
	s->kind = (uint8_t)kind;
	s->l4 = l4;
	s->lo = s->hi = port;
	snprintf(s->proto, sizeof(s->proto), "%s", name);
	d->n_dir[dir]++;
	if (kind == SVC_PORT)
		d->n_port[dir][l4 == IPPROTO_UDP]++;
found:
	if (port < s->lo)
		s->lo = port;
	if (port > s->hi)
		s->hi = port;
	if (kind != SVC_PROTO && guessed && !unknown) {
		s->guessed++;
		if (!s->proto[0])
			snprintf(s->proto, sizeof(s->proto), "%s", name);
	}
	return s;
}

static void figures(struct service *s, const struct flow *f, int side, uint64_t ts_us)
{
	uint64_t t = f->first_us;

	if (!s->flows++) {
		s->first_us = t;
		s->report_us = t;
	} else {
		if (t < s->first_us)
			s->first_us = t;
		/* a new report: a new flow past the burst of the last one
		 * (flows decided out of their start order are not timed) */
		if (t >= s->report_us + BURST_US) {
			export_interval_add(&s->iv, (double)(t - s->report_us) / 1e6);
			s->report_us = t;
		}
	}
	if (ts_us > s->last_us)
		s->last_us = ts_us;
	s->up += f->bytes[side];
	s->down += f->bytes[!side];
}

/* Does F's protocol name what it looks up, not its server (DNS...)? */
static bool lookup_flow(const struct classifier *c, const struct flow *f)
{
	return (f->master && names_lookup_proto(classifier_id_name(c, f->master))) ||
	       (f->app && names_lookup_proto(classifier_id_name(c, f->app)));
}

/* The remote side RSIDE of F in service S: the LAN device PO (if learning),
 * a LAN address (a group, or a device not learning), the server's name
 * (OUT), else its address. */
static void remote(struct learn *l, struct service *s, const struct flow *f,
		   const struct classifier *c, int rside, const struct policy_device *po,
		   bool out)
{
	struct addr a = addr_of(f, rside);
	char host[EXPORT_HOST_MAX];
	struct ldev *od;
	uint32_t i;

	if (po && policy_device_mode(po) == POLICY_MODE_LEARN &&
	    (od = dev_get(l, po, f, rside))) {
		for (i = 0; i < s->n_peers && s->peers[i].dev != od; i++)
			;
		if (i < s->n_peers)
			return;
		if (s->n_peers < MAX_PEERS) {
			struct peer *v = realloc(s->peers, (s->n_peers + 1) * sizeof(*v));

			if (v) {
				s->peers = v;
				v[s->n_peers].dev = od;
				v[s->n_peers++].at = a;
				return;
			}
		}
		s->over_peers++;
		return;
	}
	/* a group, as the policy sees one: a group address, or a responder
	 * that sent from a group MAC */
	if (po || export_addr_is_group(a.family, a.a) ||
	    (out && (f->flags & (FLOW_F_MAC0 << rside)) && (f->mac[rside][0] & 1))) {
		if (!addr_add(&s->lan, &s->n_lan, MAX_ADDRS, &a, 0))
			s->over_lan++;
		return;
	}
	if (out && f->host && !lookup_flow(c, f) && export_host_ok(f->host, host)) {
		char **v;

		for (i = 0; i < s->n_names && strcmp(s->names[i], host); i++)
			;
		if (i < s->n_names)
			return;
		if (s->n_names < MAX_NAMES &&
		    (v = realloc(s->names, (s->n_names + 1) * sizeof(*v))) &&
		    (s->names = v, v[s->n_names] = strdup(host))) {
			s->n_names++;
			return;
		}
		s->over_names++;
		return;
	}
	if (!addr_add(&s->wan, &s->n_wan, MAX_ADDRS, &a, 0))
		s->over_wan++;
}

void learn_flow(struct learn *l, const struct watch_flow *wf)
{
	const struct flow *f;
	const struct policy_verdict *v;
	bool counted = false;
	int i;

	if (!l || !wf || !wf->f || !wf->v || wf->again)
		return;
	f = wf->f;
	v = wf->v;
	pthread_mutex_lock(&l->mu);
	for (i = 0; i < 2; i++) {
		const struct policy_device *pd = i ? v->responder_dev : v->initiator_dev;
		const struct policy_device *po = i ? v->initiator_dev : v->responder_dev;
		int side = i ? !f->initiator : f->initiator;
		struct service *s;
		struct ldev *d;

		if (!pd || policy_device_mode(pd) != POLICY_MODE_LEARN ||
		    !(d = dev_get(l, pd, f, side)))
			continue;
		if (!counted) {
			counted = true;
			if (!l->flows++ || f->first_us < l->first_us)
				l->first_us = f->first_us;
			if (wf->ts_us > l->last_us)
				l->last_us = wf->ts_us;
		}
		sighting(d, f, side, wf->ifnames[side], i == 0, wf->ts_us);
		s = svc_get(d, i ? POLICY_IN : POLICY_OUT, f, wf->c);
		if (!s)
			continue;
		figures(s, f, side, wf->ts_us);
		remote(l, s, f, wf->c, !side, po, i == 0);
	}
	pthread_mutex_unlock(&l->mu);
}

/* The name learn_export() gives an undeclared machine (before it makes
 * names unique), or a declared device's. */
static void base_name(const struct ldev *d, char *buf, size_t n)
{
	if (d->name[0])
		snprintf(buf, n, "%s", d->name);
	else
		export_device_name(d->has_mac ? d->mac : NULL, d->key.family, d->key.a, buf, n);
}

/* Is D the device NAME means (learn_reset / learn_export)? */
static bool dev_is(const struct ldev *d, const char *name)
{
	char b[NAME_LEN];

	base_name(d, b, sizeof(b));
	return !strcmp(b, name) || !strcmp(d->watch, name) ||
	       (!d->name[0] && !strcmp(name, "unknown"));
}

void learn_reset(struct learn *l, const char *device)
{
	size_t i;

	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	if (!device)
		clear_all(l);
	else
		for (i = 0; i < l->n; i++)
			if (dev_is(l->devs[i], device))
				dev_clear(l->devs[i]);
	pthread_mutex_unlock(&l->mu);
}


/* ---- export: who is who --------------------------------------------------- */

/* The watcher's bytes, per device name and role. */
struct wbytes {
	struct wb {
		char name[80];
		uint64_t b[2][2];	/* [role][up, down] */
	} *v;
	size_t n, last;
	bool nomem;
};

static void wb_add(void *ctx, const char *device, const char *service,
		   enum policy_direction role, uint64_t up, uint64_t down)
{
	struct wbytes *wb = ctx;
	struct wb *v;
	size_t i;

	(void)service;
	/* a device's services often come one after another */
	if (wb->last < wb->n && !strcmp(wb->v[wb->last].name, device))
		i = wb->last;
	else
		for (i = 0; i < wb->n && strcmp(wb->v[i].name, device); i++)
			;
	wb->last = i;
	if (i == wb->n) {
		if (!(v = realloc(wb->v, (wb->n + 1) * sizeof(*v)))) {
			wb->nomem = true;
			return;
		}
		wb->v = v;
		memset(&v[i], 0, sizeof(v[i]));
		snprintf(v[i].name, sizeof(v[i].name), "%s", device);
		wb->n++;
	}
	wb->v[i].b[role][0] += up;
	wb->v[i].b[role][1] += down;
}

/* A device as it is written: the learned devices it stands for (an
 * undeclared address merged into the MAC that uses it, an undeclared MAC
 * into the declared device that uses it), its identity and its rules. */
struct xrule;

struct xdev {
	struct ldev *d;		/* the representative */
	struct ldev **m;	/* members, the representative first */
	size_t n_m;
	size_t order;		/* a declared device's place in the file */
	char base[NAME_LEN];	/* its name before it is made unique */
	char name[NAME_LEN];
	bool selected;
	uint8_t (*macs)[6];
	size_t n_macs;
	struct export_addr *ips;
	size_t n_ips;
	bool dropped[2];	/* IPv4 / IPv6 addresses left out: shared */
	uint64_t flows, first_us, last_us, over_addrs[2], over_svc[2], wb[2][2];
	struct xrule *rules;
	size_t n_rules;
	char *key;		/* the rules as written: alike devices share a profile */
	size_t group;
	char profile[NAME_LEN];
};

/* A rule: one service (of each member), generalised. */
struct xrule {
	uint8_t dir, kind, l4;
	uint16_t lo, hi;
	uint16_t ports[MAX_PORTS];	/* PORT: the ports of port rules merged */
	size_t n_ports;
	char proto[PROTO_LEN];
	char *remote;		/* the `to` / `from` value */
	char *text;		/* the rule's YAML, without comments */
	/* figures over the services it stands for */
	uint64_t flows, up, down, first_us, last_us, guessed;
	struct export_interval iv;
	/* what generalising did, for the comments */
	size_t n_names, n_patterns, n_wan, n_nets;
	bool any_wan, any_lan, wan_overflow, lan_overflow;
	char seen[160];		/* a few of the names seen */
};

struct xport {
	const struct policy *p;
	struct xdev *x;
	size_t n;
};

static struct ldev *rep_of(struct ldev *d)
{
	while (d->rep != d)
		d = d->rep;
	return d;
}

/* Inside one of declared device NAME's prefixes? */
static bool declared_covers(const struct policy *p, const char *name, const struct addr *a)
{
	const struct policy_device *pd = name[0] ? policy_device_by_name(p, name) : NULL;
	uint8_t pa[16];
	unsigned len, k;
	size_t i;
	int fam;

	for (i = 0; pd && policy_device_prefix_at(pd, i, &fam, pa, &len); i++) {
		if (fam != a->family)
			continue;
		for (k = 0; k < len / 8 && pa[k] == a->a[k]; k++)
			;
		if (k == len / 8 && (len % 8 == 0 ||
				     !((pa[k] ^ a->a[k]) & (0xff << (8 - len % 8)))))
			return true;
	}
	return false;
}

/* Who uses which address: (address, representative) of every declared
 * or MAC device, sorted, so "does anyone else use it" is a search.
 * Undeclared addresses claim nothing: they are what gets merged. */
struct claim {
	struct addr a;
	struct ldev *rep;
};

struct claims {
	struct claim *v;
	size_t n;
};

static int cmp_claim(const void *pa, const void *pb)
{
	const struct claim *x = pa, *y = pb;
	int r;

	if (x->a.family != y->a.family)
		return x->a.family - y->a.family;
	if ((r = memcmp(x->a.a, y->a.a, 16)))
		return r;
	return x->rep == y->rep ? 0 : x->rep < y->rep ? -1 : 1;
}

/* The first claim of A, or NULL. */
static const struct claim *claim_of(const struct claims *c, const struct addr *a)
{
	size_t lo = 0, hi = c->n;
	struct claim k = { .a = *a, .rep = NULL };

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_claim(&c->v[mid], &k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n && same_addr(&c->v[lo].a, a) ? &c->v[lo] : NULL;
}

/* Representatives using A: how many (0, 1, 2 for more), and the one. */
static int claimants(const struct claims *c, const struct addr *a, struct ldev **one)
{
	const struct claim *k = claim_of(c, a), *end = c->v + c->n;

	*one = k ? k->rep : NULL;
	if (!k)
		return 0;
	for (; k < end && same_addr(&k->a, a); k++)
		if (k->rep != *one)
			return 2;
	return 1;
}

static bool name_taken(const struct xport *xp, size_t upto, const char *name)
{
	size_t i;

	for (i = 0; i < upto; i++)
		if (!strcmp(xp->x[i].name, name))
			return true;
	return false;
}

/* A name no declared device and no device before it has. */
static void unique_name(const struct xport *xp, size_t i, const char *base, char *out,
			size_t n)
{
	unsigned k;

	snprintf(out, n, "%s", base);
	for (k = 2; name_taken(xp, i, out) ||
		    (policy_device_by_name(xp->p, out) && !xp->x[i].d->name[0]); k++)
		snprintf(out, n, "%.50s-%u", base, k);
}

/*
 * Which learned devices are written as one, and under which name.  The
 * policy identifies an initiator by its MAC and a side without MAC by its
 * address, and an address can be declared by one device only (the loader
 * keeps the first), so:
 *   - an undeclared MAC a declared device used is that device;
 *   - a MAC device that shares an address with another device (or used
 *     more than the recorder keeps) declares no address of that family:
 *     its MAC identifies it, and a binding check needs every address;
 *   - an undeclared address one MAC device alone uses (and declares) is
 *     that device; else it stays a device of its own, by its address.
 */
static void merge(struct learn *l, const struct policy *p)
{
	struct claims c = { 0 };
	size_t i, j, n = 0;
	uint32_t k;

	for (i = 0; i < l->n; i++) {
		l->devs[i]->rep = l->devs[i];
		l->devs[i]->shared[0] = l->devs[i]->shared[1] = false;
	}
	for (i = 0; i < l->n; i++) {
		struct ldev *m = l->devs[i];

		if (m->name[0] || !m->has_mac || !m->flows)
			continue;
		for (j = 0; j < l->n; j++) {
			struct ldev *d = l->devs[j];
			const struct policy_device *pd;
			uint8_t dm[6];

			if (!d->name[0] || !d->flows)
				continue;
			for (k = 0; k < d->n_macs && memcmp(d->macs[k], m->mac, 6); k++)
				;
			pd = policy_device_by_name(p, d->name);
			if (k < d->n_macs ||
			    (pd && policy_device_mac(pd, dm) && !memcmp(dm, m->mac, 6))) {
				m->rep = d;
				break;
			}
		}
	}
	/* Who uses which address; a representative sharing an address of a
	 * family (beyond its declared prefixes) declares none of it if it has
	 * a MAC (identity()). */
	for (i = 0; i < l->n; i++)
		if (l->devs[i]->flows && (l->devs[i]->name[0] || l->devs[i]->has_mac))
			n += l->devs[i]->n_addrs;
	c.v = malloc((n ? n : 1) * sizeof(*c.v));
	for (i = 0; c.v && i < l->n; i++) {
		struct ldev *o = l->devs[i];

		if (!o->flows || (!o->name[0] && !o->has_mac))
			continue;
		for (k = 0; k < o->n_addrs; k++) {
			c.v[c.n].a = o->addrs[k];
			c.v[c.n].a.flags = 0;
			c.v[c.n++].rep = rep_of(o);
		}
	}
	sort(c.v, c.n, sizeof(*c.v), cmp_claim);
	for (i = 0; i < c.n; i++) {
		struct ldev *r = c.v[i].rep, *one;

		if (claimants(&c, &c.v[i].a, &one) > 1 &&
		    !declared_covers(p, r->name, &c.v[i].a))
			r->shared[fam_ix(c.v[i].a.family)] = true;
	}
	/* An undeclared address is the one device that uses it and keeps
	 * that family of addresses. */
	for (i = 0; c.v && i < l->n; i++) {
		struct ldev *a = l->devs[i], *one;

		if (!a->name[0] && !a->has_mac && a->flows &&
		    claimants(&c, &a->key, &one) == 1 && !one->shared[fam_ix(a->key.family)])
			a->rep = one;
	}
	free(c.v);
}

static int xdev_cmp(const void *pa, const void *pb)
{
	const struct xdev *a = pa, *b = pb;

	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return strcmp(a->base, b->base);
}

/* The devices as they are written: merge(), then one xdev per
 * representative, with its figures and a unique name. */
static int resolve(struct learn *l, struct xport *xp)
{
	size_t i;

	merge(l, xp->p);
	xp->x = calloc(l->n ? l->n : 1, sizeof(*xp->x));
	if (!xp->x)
		return -ENOMEM;
	for (i = 0; i < l->n; i++) {
		struct ldev *d = l->devs[i];
		struct xdev *x;

		if (rep_of(d) != d)
			continue;
		x = &xp->x[xp->n++];
		x->d = d;
		base_name(d, x->base, sizeof(x->base));
		/* declared devices in the file's order, then by name */
		for (x->order = 0; x->order < policy_device_count(xp->p) &&
				   strcmp(policy_device_name(policy_device_at(xp->p, x->order)),
					  d->name);
		     x->order++)
			;
		if (!d->name[0])
			x->order = SIZE_MAX;
	}
	/* whatever order the flows came in (several workers, live) */
	sort(xp->x, xp->n, sizeof(*xp->x), xdev_cmp);
	for (i = 0; i < xp->n; i++)
		xp->x[i].d->x = i;
	for (i = 0; i < l->n; i++) {
		struct ldev *d = l->devs[i];
		struct xdev *x = &xp->x[rep_of(d)->x];
		struct ldev **v = realloc(x->m, (x->n_m + 1) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		x->m = v;
		/* the representative first */
		if (d == x->d) {
			memmove(v + 1, v, x->n_m * sizeof(*v));
			v[0] = d;
		} else {
			v[x->n_m] = d;
		}
		x->n_m++;
		x->flows += d->flows;
		if (d->flows && (!x->first_us || d->first_us < x->first_us))
			x->first_us = d->first_us;
		if (d->last_us > x->last_us)
			x->last_us = d->last_us;
		x->over_addrs[0] += d->over_addrs[0];
		x->over_addrs[1] += d->over_addrs[1];
		x->over_svc[0] += d->over_svc[0];
		x->over_svc[1] += d->over_svc[1];
	}
	for (i = 0; i < xp->n; i++)
		unique_name(xp, i, xp->x[i].base, xp->x[i].name, sizeof(xp->x[i].name));
	return 0;
}

static int ip_add(struct xdev *x, int family, const uint8_t *a, unsigned len)
{
	struct export_addr *v;
	size_t i;

	for (i = 0; i < x->n_ips; i++)
		if (x->ips[i].family == family && x->ips[i].len == len &&
		    !memcmp(x->ips[i].addr, a, 16))
			return 0;
	if (!(v = realloc(x->ips, (x->n_ips + 1) * sizeof(*v))))
		return -ENOMEM;
	x->ips = v;
	v[x->n_ips].family = (uint8_t)family;
	v[x->n_ips].len = (uint8_t)len;
	memcpy(v[x->n_ips++].addr, a, 16);
	return 0;
}

static int mac_add(struct xdev *x, const uint8_t mac[6])
{
	uint8_t (*v)[6];
	size_t i;

	for (i = 0; i < x->n_macs && memcmp(x->macs[i], mac, 6); i++)
		;
	if (i < x->n_macs)
		return 0;
	if (!(v = realloc(x->macs, (x->n_macs + 1) * sizeof(*v))))
		return -ENOMEM;
	x->macs = v;
	memcpy(v[x->n_macs++], mac, 6);
	return 0;
}

static int cmp_mac(const void *a, const void *b)
{
	return memcmp(a, b, 6);
}

static int cmp_xaddr(const void *pa, const void *pb)
{
	const struct export_addr *a = pa, *b = pb;

	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

/* X's MACs and addresses, as resolve() decided. */
static int identity(struct xport *xp, struct xdev *x)
{
	const struct policy_device *pd = x->d->name[0] ?
		policy_device_by_name(xp->p, x->d->name) : NULL;
	uint8_t pa[16], dm[6];
	unsigned len;
	size_t i, n;
	uint32_t k;
	int fam, f;

	if (!x->d->name[0] && x->d->has_mac && mac_add(x, x->d->mac) < 0)
		return -ENOMEM;
	if (pd && policy_device_mac(pd, dm) && mac_add(x, dm) < 0)
		return -ENOMEM;
	n = x->n_macs;
	for (i = 0; i < x->n_m; i++) {
		const struct ldev *m = x->m[i];

		for (k = 0; k < m->n_macs; k++)
			if (mac_add(x, m->macs[k]) < 0)
				return -ENOMEM;
		if (m->has_mac && mac_add(x, m->mac) < 0)
			return -ENOMEM;
	}
	/* the identifying MAC first (the one quarantine takes), the others
	 * sorted: the same file whatever order the flows came in */
	sort(x->macs + n, x->n_macs - n, sizeof(*x->macs), cmp_mac);
	/* a family shared with another device, or too many to list: none of
	 * it; the MAC identifies the device */
	for (f = 0; f < 2; f++)
		x->dropped[f] = x->n_macs && (x->d->shared[f] || x->over_addrs[f]);
	for (i = 0; pd && policy_device_prefix_at(pd, i, &fam, pa, &len); i++)
		if (ip_add(x, fam, pa, len) < 0)
			return -ENOMEM;
	if (!x->d->name[0] && !x->d->has_mac)
		return ip_add(x, x->d->key.family, x->d->key.a,
			      x->d->key.family == AF_INET ? 32 : 128);
	n = x->n_ips;
	for (i = 0; i < x->n_m; i++)
		for (k = 0; k < x->m[i]->n_addrs; k++) {
			const struct addr *a = &x->m[i]->addrs[k];

			if (x->dropped[fam_ix(a->family)] ||
			    declared_covers(xp->p, x->d->name, a))
				continue;
			if (ip_add(x, a->family, a->a, a->family == AF_INET ? 32 : 128) < 0)
				return -ENOMEM;
		}
	/* declared prefixes in their order, then what was seen, sorted */
	sort(x->ips + n, x->n_ips - n, sizeof(*x->ips), cmp_xaddr);
	return 0;
}

/* ---- export: rules -------------------------------------------------------- */

static int svc_rank(const struct service *s)
{
	if (s->kind == SVC_PROTO)
		return strcmp(s->proto, "Unknown") ? 0 : 3;
	return s->kind == SVC_PORT ? 1 : 2;
}

/* Rules in the order they are written: by direction, nDPI's names first,
 * then ports, port ranges, and what nDPI could not name. */
static int svc_cmp(const void *pa, const void *pb)
{
	const struct service *a = *(const struct service *const *)pa;
	const struct service *b = *(const struct service *const *)pb;
	int r;

	if (a->dir != b->dir)
		return a->dir - b->dir;
	if ((r = svc_rank(a) - svc_rank(b)))
		return r;
	if (a->kind == SVC_PROTO)
		return (r = strcasecmp(a->proto, b->proto)) ? r : strcmp(a->proto, b->proto);
	if (a->l4 != b->l4)
		return a->l4 - b->l4;
	return a->kind == SVC_PORT ? a->lo - b->lo : 0;
}

static const char *l4_name(uint8_t l4)
{
	return l4 == IPPROTO_UDP ? "udp" : "tcp";
}

struct items {
	char **v;
	size_t n;
	bool nomem;
};

static void item(struct items *it, const char *s)
{
	char **v;
	size_t i;

	for (i = 0; i < it->n; i++)
		if (!strcmp(it->v[i], s))
			return;
	if (!(v = realloc(it->v, (it->n + 1) * sizeof(*v))) || !(v[it->n] = strdup(s))) {
		if (v)
			it->v = v;
		it->nomem = true;
		return;
	}
	it->v = v;
	it->n++;
}

static void items_free(struct items *it)
{
	size_t i;

	for (i = 0; i < it->n; i++)
		free(it->v[i]);
	free(it->v);
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct export_addr xaddr(const struct addr *a)
{
	struct export_addr x;

	x.family = a->family;
	x.len = a->family == AF_INET ? 32 : 128;
	memcpy(x.addr, a->a, 16);
	return x;
}

/*
 * The remote side of the rule made of services S[N]: the LAN peers by
 * name (when they are written too, else by address), the servers' names
 * generalised, LAN and WAN addresses (WAN ones as networks); `lan` or
 * `wan` instead of a list too long to read or cut by a cap.
 */
static int remote_items(const struct xport *xp, struct service *const *s, size_t n,
			struct xrule *r, struct items *out)
{
	struct items peers = { 0 }, lan = { 0 };
	struct export_addr *wan = NULL, *nets = NULL;
	const char **names = NULL;
	struct export_strv pat = { 0 };
	size_t i, j, n_names = 0, n_wan = 0, n_nets = 0;
	uint64_t over_wan = 0, over_lan = 0;
	char buf[64];
	int rc = -ENOMEM;

	for (i = 0; i < n; i++) {
		n_names += s[i]->n_names;
		n_wan += s[i]->n_wan;
		over_wan += s[i]->over_names + s[i]->over_wan;
		over_lan += s[i]->over_lan + s[i]->over_peers;
	}
	names = malloc((n_names ? n_names : 1) * sizeof(*names));
	wan = malloc((n_wan ? n_wan : 1) * sizeof(*wan));
	nets = malloc((n_wan ? n_wan : 1) * sizeof(*nets));
	if (!names || !wan || !nets)
		goto out;
	n_names = n_wan = 0;
	for (i = 0; i < n; i++) {
		const struct service *v = s[i];

		for (j = 0; j < v->n_names; j++)
			names[n_names++] = v->names[j];
		for (j = 0; j < v->n_wan; j++) {
			struct export_addr a = xaddr(&v->wan[j]);
			size_t q;

			for (q = 0; q < n_wan && memcmp(&wan[q], &a, sizeof(a)); q++)
				;
			if (q == n_wan)
				wan[n_wan++] = a;
		}
		for (j = 0; j < v->n_lan; j++) {
			struct export_addr a = xaddr(&v->lan[j]);

			export_addr_str(&a, buf, sizeof(buf));
			item(&lan, buf);
		}
		for (j = 0; j < v->n_peers; j++) {
			const struct xdev *px = &xp->x[rep_of(v->peers[j].dev)->x];

			if (px->selected) {
				item(&peers, px->name);
			} else {
				struct export_addr a = xaddr(&v->peers[j].at);

				export_addr_str(&a, buf, sizeof(buf));
				item(&lan, buf);
			}
		}
	}
	if (export_names(names, n_names, LIST_MAX, &pat) < 0)
		goto out;
	n_nets = export_prefixes(wan, n_wan, nets);
	r->n_names = n_names;
	r->n_patterns = pat.n;
	r->n_wan = n_wan;
	r->n_nets = n_nets;
	r->wan_overflow = over_wan > 0;
	r->lan_overflow = over_lan > 0;
	r->any_wan = over_wan || pat.n > LIST_MAX || n_nets > LIST_MAX;
	r->any_lan = over_lan || peers.n > LIST_MAX || lan.n > LIST_MAX;
	/* a few of the names, for a reader of a wildcard or of `wan` */
	if (n_names > pat.n || r->any_wan) {
		size_t len = 0;

		sort(names, n_names, sizeof(*names), cmp_item);
		for (i = 0; i < n_names && len + strlen(names[i]) + 8 < sizeof(r->seen); i++)
			if (!i || strcmp(names[i], names[i - 1]))
				len += (size_t)snprintf(r->seen + len, sizeof(r->seen) - len,
							"%s%s", len ? ", " : "", names[i]);
		if (i < n_names)
			snprintf(r->seen + len, sizeof(r->seen) - len, ", ...");
	}
	if (!r->any_lan) {
		sort(peers.v, peers.n, sizeof(*peers.v), cmp_item);
		for (i = 0; i < peers.n; i++)
			item(out, peers.v[i]);
	}
	if (!r->any_wan)
		for (i = 0; i < pat.n; i++)
			item(out, pat.v[i]);
	if (!r->any_lan) {
		sort(lan.v, lan.n, sizeof(*lan.v), cmp_item);
		for (i = 0; i < lan.n; i++)
			item(out, lan.v[i]);
	}
	if (!r->any_wan)
		for (i = 0; i < n_nets; i++) {
			export_addr_str(&nets[i], buf, sizeof(buf));
			item(out, buf);
		}
	if (r->any_lan)
		item(out, "lan");
	if (r->any_wan)
		item(out, "wan");
	rc = out->nomem || peers.nomem || lan.nomem ? -ENOMEM : 0;
out:
	export_strv_free(&pat);
	items_free(&peers);
	items_free(&lan);
	free(names);
	free(wan);
	free(nets);
	return rc;
}

/* Text built with stdio: mem_open(), print, mem_done() gives the string
 * (NULL without memory). */
struct mem {
	char *buf;
	size_t len;
};

static FILE *mem_open(struct mem *m)
{
	m->buf = NULL;
	m->len = 0;
	return open_memstream(&m->buf, &m->len);
}

static char *mem_done(struct mem *m, FILE *f)
{
	if (fclose(f)) {
		free(m->buf);
		return NULL;
	}
	return m->buf;
}

/* ITEMS as a YAML value: one scalar, or a flow list. */
static char *remote_text(const struct items *it)
{
	struct mem mb;
	FILE *m = mem_open(&mb);
	size_t i;

	if (!m)
		return NULL;
	if (it->n != 1)
		fputc('[', m);
	for (i = 0; i < it->n; i++) {
		if (i)
			fputs(", ", m);
		export_scalar(m, it->v[i]);
	}
	if (it->n != 1)
		fputc(']', m);
	return mem_done(&mb, m);
}

/* The YAML of rule R, indented for a profile. */
static int rule_text(struct xrule *r)
{
	struct mem mb;
	FILE *m = mem_open(&mb);
	size_t i;

	if (!m)
		return -ENOMEM;
	if (r->kind == SVC_PROTO) {
		fputs("      - proto: ", m);
		export_scalar(m, r->proto);
	} else if (r->kind == SVC_RANGE) {
		fprintf(m, "      - ports: %u-%u/%s", r->lo, r->hi, l4_name(r->l4));
	} else if (r->n_ports == 1) {
		fprintf(m, "      - ports: %u/%s", r->ports[0], l4_name(r->l4));
	} else {
		fputs("      - ports: [", m);
		for (i = 0; i < r->n_ports; i++)
			fprintf(m, "%s%u/%s", i ? ", " : "", r->ports[i], l4_name(r->l4));
		fputc(']', m);
	}
	fprintf(m, "\n        %s: %s\n", r->dir == POLICY_OUT ? "to" : "from", r->remote);
	return (r->text = mem_done(&mb, m)) ? 0 : -ENOMEM;
}

/* Add what rule FROM stands for to rule INTO (figures and notes). */
static void xrule_add(struct xrule *into, const struct xrule *from)
{
	if (!into->flows || from->first_us < into->first_us)
		into->first_us = from->first_us;
	if (from->last_us > into->last_us)
		into->last_us = from->last_us;
	into->flows += from->flows;
	into->up += from->up;
	into->down += from->down;
	into->guessed += from->guessed;
	into->n_names += from->n_names;
	into->n_wan += from->n_wan;
	into->n_nets += from->n_nets;
	into->any_wan |= from->any_wan;
	into->any_lan |= from->any_lan;
	into->wan_overflow |= from->wan_overflow;
	into->lan_overflow |= from->lan_overflow;
	export_interval_merge(&into->iv, &from->iv);
}

/* X's rules: its members' services, alike ones merged, generalised. */
static int build_rules(const struct xport *xp, struct xdev *x)
{
	struct service **v = NULL;
	size_t n = 0, i, j, cap = 0;
	int rc = 0;

	for (i = 0; i < x->n_m; i++)
		cap += x->m[i]->n_svc;
	if (cap && !(v = malloc(cap * sizeof(*v))))
		return -ENOMEM;
	for (i = 0; i < x->n_m; i++)
		for (j = 0; j < x->m[i]->n_svc; j++)
			v[n++] = &x->m[i]->svc[j];
	sort(v, n, sizeof(*v), svc_cmp);
	x->rules = calloc(n ? n : 1, sizeof(*x->rules));
	if (!x->rules) {
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < n && !rc; i = j) {
		struct xrule *r = &x->rules[x->n_rules++];
		struct items it = { 0 };

		for (j = i + 1; j < n && !svc_cmp(&v[i], &v[j]); j++)
			;
		r->dir = v[i]->dir;
		r->kind = v[i]->kind;
		r->l4 = v[i]->l4;
		r->lo = v[i]->lo;
		r->hi = v[i]->hi;
		r->ports[r->n_ports++] = v[i]->lo;
		snprintf(r->proto, sizeof(r->proto), "%s", v[i]->proto);
		for (size_t k = i; k < j; k++) {
			const struct service *s = v[k];

			if (s->lo < r->lo)
				r->lo = s->lo;
			if (s->hi > r->hi)
				r->hi = s->hi;
			if (!r->flows || s->first_us < r->first_us)
				r->first_us = s->first_us;
			if (s->last_us > r->last_us)
				r->last_us = s->last_us;
			r->flows += s->flows;
			r->up += s->up;
			r->down += s->down;
			r->guessed += s->guessed;
			export_interval_merge(&r->iv, &s->iv);
		}
		rc = remote_items(xp, v + i, j - i, r, &it);
		if (!rc && !(r->remote = remote_text(&it)))
			rc = -ENOMEM;
		items_free(&it);
	}
	free(v);
	/* Services known by port with the same remote side: one rule with
	 * their ports (they came sorted by direction, transport and port). */
	for (i = j = 0; i < x->n_rules && !rc; i++) {
		struct xrule *r = &x->rules[i], *last = j ? &x->rules[j - 1] : NULL;

		if (last && last->kind == SVC_PORT && r->kind == SVC_PORT &&
		    last->dir == r->dir && last->l4 == r->l4 && last->n_ports < MAX_PORTS &&
		    !strcmp(last->remote, r->remote)) {
			last->ports[last->n_ports++] = r->ports[0];
			last->hi = r->hi;
			xrule_add(last, r);
			free(r->remote);
			continue;
		}
		x->rules[j++] = *r;
	}
	x->n_rules = j;
	for (i = 0; i < x->n_rules && !rc; i++)
		rc = rule_text(&x->rules[i]);
	return rc;
}

/* The rules as one string: devices whose strings are equal share a
 * profile. */
static int rules_key(struct xdev *x)
{
	struct mem mb;
	FILE *m = mem_open(&mb);
	size_t i;

	if (!m)
		return -ENOMEM;
	for (i = 0; i < x->n_rules; i++)
		fprintf(m, "%d%s", x->rules[i].dir, x->rules[i].text);
	return (x->key = mem_done(&mb, m)) ? 0 : -ENOMEM;
}

/* ---- export: writing ------------------------------------------------------ */

static const char *when(uint64_t us, char *buf, size_t n)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, n, "?");
	return buf;
}

/* "2026-01-01 00:00:20 .. 00:40:00" (the day once when it is one) */
static const char *span(uint64_t from_us, uint64_t to_us, char *buf, size_t n)
{
	char a[24], b[24];

	when(from_us, a, sizeof(a));
	when(to_us, b, sizeof(b));
	if (!strcmp(a, b))
		snprintf(buf, n, "%s", a);
	else
		snprintf(buf, n, "%s .. %s", a, strncmp(a, b, 11) ? b : b + 11);
	return buf;
}

/* Rule I of the profile of the devices G[N] (all with the same rules):
 * their figures, the notes of generalising, the rule. */
static void write_rule(FILE *out, struct xdev *const *g, size_t n, size_t i)
{
	const struct xrule *r0 = &g[0]->rules[i];
	struct xrule sum = *r0;
	char t[80];
	unsigned every, tol;
	size_t k;

	memset(&sum.iv, 0, sizeof(sum.iv));
	sum.flows = sum.up = sum.down = sum.guessed = sum.last_us = sum.first_us = 0;
	sum.n_names = sum.n_wan = sum.n_nets = 0;
	for (k = 0; k < n; k++)
		xrule_add(&sum, &g[k]->rules[i]);
	export_comment(out, 6, "%" PRIu64 " flow%s%s, %" PRIu64 " B up, %" PRIu64
		       " B down at decision, %s", sum.flows, sum.flows == 1 ? "" : "s",
		       n > 1 ? " of all its devices" : "", sum.up, sum.down,
		       span(sum.first_us, sum.last_us, t, sizeof(t)));
	if (r0->kind == SVC_PROTO && !strcmp(r0->proto, "Unknown"))
		export_comment(out, 6, "nDPI could not name it (IP protocol %u), nor can "
			       "a port say more", r0->l4);
	else if (r0->kind != SVC_PROTO && !sum.guessed)
		export_comment(out, 6, "nDPI could not name it: the rule says the port");
	else if (r0->kind != SVC_PROTO)
		export_comment(out, 6, "nDPI only guessed %s (from the port or address)%s: "
			       "the rule says the port", r0->proto,
			       sum.guessed < sum.flows ? " for some flows" : "");
	if (r0->kind == SVC_RANGE)
		export_comment(out, 6, "more than %d ports: the range they were in", MAX_PORTS);
	if (sum.any_wan && sum.n_names)
		export_comment(out, 6, "%zu names and %zu addresses%s: too many to list, "
			       "so any WAN address", sum.n_names, sum.n_wan,
			       sum.wan_overflow ? " (and more than the recorder keeps)" : "");
	else if (sum.any_wan)
		export_comment(out, 6, "%zu addresses%s: too many to list, so any WAN address",
			       sum.n_wan, sum.wan_overflow ? " (and more than the recorder keeps)" : "");
	else if (sum.n_nets < sum.n_wan)
		export_comment(out, 6, "%zu addresses: two or more in one /24 (IPv6 /64) "
			       "are written as that network", sum.n_wan);
	if (sum.any_lan)
		export_comment(out, 6, "too many LAN peers to list%s: any LAN address",
			       sum.lan_overflow ? " (more than the recorder keeps)" : "");
	if (r0->seen[0])
		export_comment(out, 6, "names seen: %s", r0->seen);
	if (r0->dir == POLICY_OUT && sum.iv.n >= 3)
		export_comment(out, 6, "%" PRIu64 " intervals between reports, %.1f s on "
			       "average (%.1f .. %.1f s)", sum.iv.n, sum.iv.mean,
			       sum.iv.min, sum.iv.max);
	fputs(r0->text, out);
	if (r0->dir == POLICY_OUT && export_interval_suggest(&sum.iv, &every, &tol)) {
		fprintf(out, "        # every: %us\n", every);
		fprintf(out, "        # tolerance: %us\n", tol);
	}
}

static void write_profile(FILE *out, struct xdev *const *g, size_t n)
{
	const struct xdev *x = g[0];
	size_t i, k;
	int dir;

	fprintf(out, "  ");
	export_scalar(out, x->profile);
	fputs(":\n", out);
	if (n > 1) {
		char list[256];
		size_t len = 0;

		for (k = 0; k < n && k < 8 && len < sizeof(list); k++)
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
						k ? ", " : "", g[k]->name);
		if (k < n && len < sizeof(list))
			snprintf(list + len, sizeof(list) - len, ", ...");
		export_comment(out, 4, "%zu devices behave alike: %s", n, list);
	}
	for (dir = POLICY_OUT; dir <= POLICY_IN; dir++) {
		bool any = false;

		for (i = 0; i < x->n_rules; i++) {
			if (x->rules[i].dir != dir)
				continue;
			if (!any)
				fprintf(out, "    %s:\n", dir == POLICY_OUT ? "out" : "in");
			any = true;
			write_rule(out, g, n, i);
		}
	}
}

static void write_list(FILE *out, const char *key, char *const *v, size_t n)
{
	size_t i;

	fprintf(out, "    %s: ", key);
	if (n != 1)
		fputc('[', out);
	for (i = 0; i < n; i++) {
		if (i)
			fputs(", ", out);
		export_scalar(out, v[i]);
	}
	fputs(n != 1 ? "]\n" : "\n", out);
}

static int write_device(FILE *out, const struct xdev *x)
{
	struct items macs = { 0 }, ips = { 0 };
	char t[80], b[64];
	const char *port = "";
	size_t i;
	int rc;

	fprintf(out, "  %s:\n", x->name);
	export_comment(out, 4, "%" PRIu64 " flow%s, %s", x->flows, x->flows == 1 ? "" : "s",
		       span(x->first_us, x->last_us, t, sizeof(t)));
	for (i = 0; i < 2; i++)
		if (x->wb[i][0] || x->wb[i][1])
			export_comment(out, 4, "the watcher counted %" PRIu64 " B up, %" PRIu64
				       " B down in the flows it %s", x->wb[i][0], x->wb[i][1],
				       i == POLICY_OUT ? "started" : "served");
	for (i = 0; i < x->n_rules && !x->rules[i].up && x->rules[i].dir == POLICY_IN; i++)
		;
	if (i == x->n_rules && x->n_rules && !x->n_macs)
		export_comment(out, 4, "sent nothing before its flows were decided: a "
			       "broadcast address?");
	for (i = 0; i < 2; i++)
		if (x->dropped[i])
			export_comment(out, 4, "no IPv%c address: %s; the MAC identifies it",
				       i ? '6' : '4', x->over_addrs[i] ? "too many to list" :
				       "another device used one of them too");
	for (i = 0; i < 2; i++)
		if (x->over_addrs[i])
			export_comment(out, 4, "%" PRIu64 " sightings from more addresses than "
				       "the recorder keeps (%d)%s", x->over_addrs[i],
				       MAX_DEV_ADDRS, x->dropped[i] ? "" :
				       ": those addresses are missing");
	for (i = 0; i < 2; i++)
		if (x->over_svc[i])
			export_comment(out, 4, "%" PRIu64 " %s flows of more services than the "
				       "recorder keeps (%d): no rule allows them",
				       x->over_svc[i], i ? "in" : "out", MAX_SERVICES);
	/* one port, the same for every member, or none */
	for (i = 0; i < x->n_m && port; i++) {
		const struct ldev *m = x->m[i];

		if (m->port_mixed || (*port && *m->port && strcmp(port, m->port)))
			port = NULL;
		else if (*m->port)
			port = m->port;
	}
	if (!x->n_macs && port && *port)
		export_comment(out, 4, "seen on bridge port %s (not written: a port "
			       "would identify any machine there)", port);
	else if (!port)
		export_comment(out, 4, "seen on several bridge ports: none written");
	for (i = 0; i < x->n_macs; i++)
		item(&macs, mac_str(x->macs[i], b, sizeof(b)));
	for (i = 0; i < x->n_ips; i++) {
		export_addr_str(&x->ips[i], b, sizeof(b));
		item(&ips, b);
	}
	rc = macs.nomem || ips.nomem ? -ENOMEM : 0;
	if (macs.n)
		write_list(out, "mac", macs.v, macs.n);
	if (ips.n)
		write_list(out, "ip", ips.v, ips.n);
	if (x->n_macs && port && *port) {
		fputs("    port: ", out);
		export_scalar(out, port);
		fputc('\n', out);
	}
	if (x->n_rules) {
		fputs("    profile: ", out);
		export_scalar(out, x->profile);
		fputc('\n', out);
	} else {
		export_comment(out, 4, "nothing to allow: every flow of it was past a cap");
	}
	items_free(&macs);
	items_free(&ips);
	return rc;
}

/* Did the running policy declare `lan` (its list is not the default)? */
static bool lan_declared(const struct policy *p)
{
	static const char empty[] = "version: 1\n";
	struct policy *d = policy_load_buffer("default", empty, sizeof(empty) - 1, NULL, NULL);
	uint8_t a[16], b[16];
	unsigned la, lb;
	int fa, fb;
	size_t i;
	bool same = d != NULL;

	for (i = 0; same; i++) {
		bool ha = policy_lan_at(p, i, &fa, a, &la), hb = policy_lan_at(d, i, &fb, b, &lb);

		if (!ha || !hb) {
			same = ha == hb;
			break;
		}
		same = fa == fb && la == lb && !memcmp(a, b, 16);
	}
	policy_free(d);
	return !same;
}

static void write_head(FILE *out, struct learn *l, const struct xport *xp,
		       const char *device, size_t n_sel)
{
	char t[80], b[64];
	uint8_t a[16];
	unsigned len;
	size_t i;
	int fam;

	export_comment(out, 0, "iotjail policy written by learn mode (docs/learn.md).");
	if (device)
		export_comment(out, 0, "Device %s only, from %" PRIu64 " flows of all learned "
			       "devices, %s UTC.", device, l->flows,
			       span(l->first_us, l->last_us, t, sizeof(t)));
	else
		export_comment(out, 0, "%zu device%s, %" PRIu64 " flows, %s UTC.", n_sel,
			       n_sel == 1 ? "" : "s", l->flows,
			       span(l->first_us, l->last_us, t, sizeof(t)));
	export_comment(out, 0, "Each rule allows what a device was seen doing, generalised "
		       "as its comments");
	export_comment(out, 0, "say; review every rule before enforcing.");
	if (l->over_devices)
		export_comment(out, 0, "%" PRIu64 " flows of more machines than the recorder "
			       "keeps (%d) were not recorded: those machines are unknown "
			       "devices here.", l->over_devices, MAX_DEVICES);
	fputs("version: 1\n", out);
	if (lan_declared(xp->p)) {
		fputs("lan: [", out);
		for (i = 0; policy_lan_at(xp->p, i, &fam, a, &len); i++) {
			struct export_addr x = { .family = (uint8_t)fam, .len = (uint8_t)len };

			memcpy(x.addr, a, 16);
			export_addr_str(&x, b, sizeof(b));
			if (len == (fam == AF_INET ? 32u : 128u))
				snprintf(b + strlen(b), sizeof(b) - strlen(b), "/%u", len);
			fputs(i ? ", " : "", out);
			export_scalar(out, b);
		}
		fputs("]\n", out);
	}
	fputs("\ndefaults:\n", out);
	export_comment(out, 2, "enforce blocks what no rule allows; `mode: monitor` would "
		       "only alert:");
	export_comment(out, 2, "a careful first step after the review.");
	fputs("  mode: enforce\n  unknown_device: alert\n", out);
	if (policy_inspect_packets(xp->p) != 8)
		fprintf(out, "  inspect_packets: %u\n", policy_inspect_packets(xp->p));
}

/* Profile names: the devices' common declared profile, else from their
 * names; unique. */
static void name_profiles(struct xport *xp)
{
	size_t i, j, k;

	for (i = 0; i < xp->n; i++) {
		struct xdev *x = &xp->x[i];
		const char *names[64], *prof = x->d->profile;
		char base[NAME_LEN];
		size_t n = 0;
		unsigned u;

		if (!x->selected || x->group != i)
			continue;
		for (j = i; j < xp->n; j++) {
			if (!xp->x[j].selected || xp->x[j].group != i)
				continue;
			if (n < 64)
				names[n++] = xp->x[j].name;
			if (strcmp(xp->x[j].d->profile, prof))
				prof = "";
		}
		if (*prof && strcmp(prof, "default"))
			snprintf(base, sizeof(base), "%s", prof);
		else
			export_profile_name(names, n, base, sizeof(base));
		snprintf(x->profile, sizeof(x->profile), "%s", base);
		for (u = 2;; u++) {
			bool taken = !strcmp(x->profile, "default");

			for (k = 0; k < i && !taken; k++)
				taken = xp->x[k].selected && xp->x[k].group == k &&
					!strcmp(xp->x[k].profile, x->profile);
			if (!taken)
				break;
			snprintf(x->profile, sizeof(x->profile), "%.50s-%u", base, u);
		}
		for (j = i + 1; j < xp->n; j++)
			if (xp->x[j].group == i)
				memcpy(xp->x[j].profile, x->profile, sizeof(x->profile));
	}
}

static void xport_free(struct xport *xp)
{
	size_t i, j;

	for (i = 0; i < xp->n; i++) {
		struct xdev *x = &xp->x[i];

		for (j = 0; j < x->n_rules; j++) {
			free(x->rules[j].text);
			free(x->rules[j].remote);
		}
		free(x->rules);
		free(x->key);
		free(x->m);
		free(x->macs);
		free(x->ips);
	}
	free(xp->x);
}

static int export_locked(struct learn *l, struct xport *xp, const struct wbytes *wb,
			 const char *device, FILE *out)
{
	const char **keys = NULL;
	size_t *group = NULL, *sel = NULL, n_sel = 0, profiles = 0, i, j, k;
	struct xdev **g = NULL;
	int rc;

	if ((rc = resolve(l, xp)))
		return rc;
	for (i = 0; i < xp->n; i++) {
		struct xdev *x = &xp->x[i];
		bool named = !device || !strcmp(x->name, device);

		for (j = 0; j < x->n_m && !named; j++)
			named = x->m[j]->flows && strcmp(device, "unknown") &&
				dev_is(x->m[j], device);
		x->selected = x->flows && named;
		n_sel += x->selected;
	}
	if (device && !n_sel)
		return -ENOENT;
	keys = calloc(n_sel + 1, sizeof(*keys));
	group = calloc(n_sel + 1, sizeof(*group));
	sel = calloc(n_sel + 1, sizeof(*sel));
	g = calloc(n_sel + 1, sizeof(*g));
	if (!keys || !group || !sel || !g) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = k = 0; i < xp->n && !rc; i++) {
		struct xdev *x = &xp->x[i];

		if (!x->selected)
			continue;
		for (j = 0; j < x->n_m; j++) {
			for (size_t q = 0; q < wb->n; q++)
				if (!strcmp(wb->v[q].name, x->m[j]->watch)) {
					for (int r = 0; r < 4; r++)
						x->wb[r / 2][r % 2] += wb->v[q].b[r / 2][r % 2];
				}
		}
		if (!(rc = identity(xp, x)) && !(rc = build_rules(xp, x)))
			rc = rules_key(x);
		keys[k] = x->key;
		sel[k++] = i;
	}
	if (rc)
		goto out;
	export_group(keys, n_sel, group);
	for (k = 0; k < n_sel; k++)
		xp->x[sel[k]].group = sel[group[k]];
	name_profiles(xp);

	write_head(out, l, xp, device, n_sel);
	for (k = 0; k < n_sel; k++) {
		struct xdev *x = &xp->x[sel[k]];
		size_t n;

		if (x->group != sel[k] || !x->n_rules)
			continue;
		if (!profiles++)
			fputs("\nprofiles:\n", out);
		for (j = k, n = 0; j < n_sel; j++)
			if (xp->x[sel[j]].group == sel[k])
				g[n++] = &xp->x[sel[j]];
		write_profile(out, g, n);
	}
	for (k = 0; k < n_sel && !rc; k++) {
		if (!k)
			fputs("\ndevices:\n", out);
		rc = write_device(out, &xp->x[sel[k]]);
	}
out:
	free(keys);
	free(group);
	free(sel);
	free(g);
	return rc;
}

int learn_export(struct learn *l, const struct policy *p, struct watch *w,
		 const char *device, FILE *out)
{
	struct wbytes wb = { 0 };
	struct xport xp = { .p = p };
	int rc;

	if (!l || !p || !out)
		return -EINVAL;
	/* the watcher first, unlocked here: never both locks at once */
	if (w)
		watch_foreach_service(w, wb_add, &wb);
	pthread_mutex_lock(&l->mu);
	rc = wb.nomem ? -ENOMEM : export_locked(l, &xp, &wb, device, out);
	xport_free(&xp);
	pthread_mutex_unlock(&l->mu);
	free(wb.v);
	if (!rc && (fflush(out) || ferror(out)))
		rc = -EIO;
	return rc;
}

size_t learn_device_count(struct learn *l)
{
	size_t i, n = 0;

	if (!l)
		return 0;
	pthread_mutex_lock(&l->mu);
	/* as learn_export() writes them, short of what only the policy
	 * knows (a declared device's MAC it was not seen with) */
	merge(l, NULL);
	for (i = 0; i < l->n; i++)
		n += l->devs[i]->rep == l->devs[i] && l->devs[i]->flows;
	pthread_mutex_unlock(&l->mu);
	return n;
}
