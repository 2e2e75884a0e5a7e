/*
 * eval: the per-flow matcher, called once for every decided flow.
 *
 * Budget: well under a microsecond with 10 000 devices, so no allocation,
 * no string formatting unless an alert is raised, and only hash lookups to
 * find devices.  Protocol and category names are interned at load; a flow's
 * names are looked up once and rules compare small integers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "policy/lookup.h"
#include "policy/policy-int.h"

#define HOST_MAX 256

enum binding {
	BIND_OK,
	BIND_MAC,	/* the device's address used by an undeclared MAC */
	BIND_IP,	/* the device's MAC with an undeclared address */
	BIND_PORT,	/* seen on another bridge port */
	BIND_VLAN,	/* seen on another VLAN */
};

struct ctx {
	const struct policy_flow *f;
	int32_t master, app, cat;	/* interned ids, -1 if no rule names them */
	bool host_done;
	size_t host_len;		/* 0: no host */
	char host[HOST_MAX];
};

/* One candidate for the verdict; the strictest wins. */
struct outcome {
	const struct policy_device *dev;	/* whose rules or settings decided */
	enum policy_action eff, raw;
	const struct policy_rule *rule;
	const char *reason;
	unsigned line;	/* the rule, or the declaration whose default decided */
};

static int32_t name_id(const struct name_table *t, const char *s)
{
	void *v;

	if (!s)
		return -1;
	v = name_table_get(t, s, strlen(s), 0);
	return v ? (int32_t)((uintptr_t)v - 1) : -1;
}

/* Lower-cased, without a trailing dot; only done if a rule asks for a name. */
static const char *flow_host(struct ctx *c)
{
	const char *h = c->f->host;
	size_t i, n;

	if (c->host_done)
		return c->host_len ? c->host : NULL;
	c->host_done = true;
	if (!h)
		return NULL;
	n = strnlen(h, HOST_MAX);
	if (n && h[n - 1] == '.')
		n--;
	if (n == 0 || n >= HOST_MAX)
		return NULL;
	for (i = 0; i < n; i++)
		c->host[i] = (h[i] >= 'A' && h[i] <= 'Z') ? (char)(h[i] - 'A' + 'a') : h[i];
	c->host[n] = '\0';
	c->host_len = n;
	return c->host;
}

static bool prefix_has(const struct value_prefix *q, const struct policy_endpoint *e)
{
	unsigned full = q->len / 8, rest = q->len % 8;

	if (q->family != e->family || memcmp(q->addr, e->addr, full) != 0)
		return false;
	return !rest || ((q->addr[full] ^ e->addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static bool is_link_local6(const struct policy_endpoint *e)
{
	return e->family == AF_INET6 && e->addr[0] == 0xfe && (e->addr[1] & 0xc0) == 0x80;
}

/* Multicast and broadcast destinations are nobody's device. */
static bool is_group(const struct policy_endpoint *e)
{
	if (e->has_mac && (e->mac[0] & 1))
		return true;
	if (e->family == AF_INET)
		return (e->addr[0] & 0xf0) == 0xe0 ||
		       (e->addr[0] == 255 && e->addr[1] == 255 && e->addr[2] == 255 &&
			e->addr[3] == 255);
	return e->family == AF_INET6 && e->addr[0] == 0xff;
}

/* Does the address fit the device's declared ones (if it declares any of that family)? */
static bool addr_ok(const struct policy_device *d, const struct policy_endpoint *e)
{
	bool declared = false;
	uint32_t i;

	if (!d->n_prefixes || is_link_local6(e))
		return true;
	for (i = 0; i < d->n_prefixes; i++) {
		if (d->prefixes[i].family != e->family)
			continue;
		declared = true;
		if (prefix_has(&d->prefixes[i], e))
			return true;
	}
	return !declared;
}

static bool mac_ok(const struct policy_device *d, const struct policy_endpoint *e)
{
	uint32_t i;

	if (!d->n_macs || !e->has_mac)
		return true;
	for (i = 0; i < d->n_macs; i++)
		if (memcmp(d->macs[i], e->mac, 6) == 0)
			return true;
	return false;
}

static enum binding check_binding(const struct policy_device *d, const struct policy_endpoint *e,
				  uint16_t vlan)
{
	if (!mac_ok(d, e))
		return BIND_MAC;
	if (!addr_ok(d, e))
		return BIND_IP;
	if (d->port && e->ifname && strcmp(d->port, e->ifname) != 0)
		return BIND_PORT;
	if (d->vlan && vlan != d->vlan)
		return BIND_VLAN;
	return BIND_OK;
}

static const struct policy_device *by_port(const struct policy *p, const char *ifname,
					   uint16_t vlan)
{
	const struct policy_device *d = NULL;

	if (!name_table_count(p->by_port))
		return NULL;
	if (ifname) {
		size_t n = strlen(ifname);

		d = name_table_get(p->by_port, ifname, n, vlan);
		if (!d && vlan)
			d = name_table_get(p->by_port, ifname, n, 0);
	}
	if (!d && vlan)
		d = name_table_get(p->by_port, "", 0, vlan);
	return d;
}

/*
 * Which device is this endpoint?  Only LAN addresses (inside `lan:` or a
 * device's declared prefixes) can be devices: a remote host reached through
 * the router carries the router's MAC.  Then MAC first, longest IP prefix,
 * port/VLAN.  A responder's MAC is what the initiator believed (ARP/ND), so
 * it only counts when it agrees with the device's declared addresses; the
 * initiator's own MAC is authoritative, and a mismatch is a binding
 * violation.
 */
static const struct policy_device *identify(const struct policy *p,
					    const struct policy_endpoint *e, uint16_t vlan,
					    bool initiator, enum binding *bind)
{
	const struct policy_device *dev = NULL, *ipdev;

	*bind = BIND_OK;
	if (e->family != AF_INET && e->family != AF_INET6)
		return NULL;
	ipdev = prefix_table_match(p->by_ip, e->family, e->addr, 128, NULL);
	if (!ipdev && !prefix_table_match(p->lan, e->family, e->addr, 128, NULL))
		return NULL;
	if (e->has_mac) {
		dev = mac_table_get(p->by_mac, e->mac);
		if (dev && !initiator && !addr_ok(dev, e))
			dev = NULL;
	}
	if (!dev)
		dev = ipdev;
	if (!dev)
		dev = by_port(p, e->ifname, vlan);
	if (!dev)
		return &p->unknown;
	if (initiator)
		*bind = check_binding(dev, e, vlan);
	return dev;
}

const struct policy_device *policy_lookup_device(const struct policy *p,
						 const struct policy_endpoint *e,
						 uint16_t vlan)
{
	enum binding b;

	if (!p || !e || is_group(e))
		return NULL;
	return identify(p, e, vlan, false, &b);
}

static bool match_host(struct ctx *c, const struct policy_rule *r)
{
	const char *host = flow_host(c);
	uint32_t i;

	if (!host)
		return false;
	for (i = 0; i < r->n_hosts; i++) {
		const struct host_pat *h = &r->hosts[i];

		/* "*.example.com" is stored as ".example.com": a proper suffix. */
		if (h->wildcard) {
			if (c->host_len > h->len &&
			    memcmp(host + c->host_len - h->len, h->text, h->len) == 0)
				return true;
		} else if (c->host_len == h->len && memcmp(host, h->text, h->len) == 0) {
			return true;
		}
	}
	return false;
}

/* The remote side by what needs no classification: lan, wan, devices,
 * prefixes (not host names). */
static bool match_remote_addr(const struct policy_rule *r,
			      const struct policy_endpoint *remote,
			      const struct policy_device *remote_dev,
			      bool remote_lan)
{
	uint32_t i;

	if (r->remote_lan && remote_lan)
		return true;
	if (r->remote_wan && !remote_lan)
		return true;
	for (i = 0; i < r->n_devs; i++)
		if (r->devs[i] == remote_dev)
			return true;
	for (i = 0; i < r->n_prefixes; i++)
		if (prefix_has(&r->prefixes[i], remote))
			return true;
	return false;
}

static bool match_remote(struct ctx *c, const struct policy_rule *r,
			 const struct policy_endpoint *remote,
			 const struct policy_device *remote_dev, bool remote_lan)
{
	return match_remote_addr(r, remote, remote_dev, remote_lan) ||
	       (r->n_hosts && match_host(c, r));
}

static bool match_ports(const struct policy_rule *r, const struct policy_flow *f)
{
	uint16_t port = f->responder.port;	/* the service's port, either way */
	uint32_t i;

	for (i = 0; i < r->n_ports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi &&
		    (!r->ports[i].l4 || r->ports[i].l4 == f->ip_proto))
			return true;
	return false;
}

static bool match_rule(struct ctx *c, const struct policy_rule *r,
		       const struct policy_endpoint *remote,
		       const struct policy_device *remote_dev, bool remote_lan)
{
	uint32_t i;

	if (!r->any_proto) {
		bool hit = false;

		for (i = 0; i < r->n_protos && !hit; i++) {
			const struct proto_sel *s = &r->protos[i];

			hit = s->app < 0 ? s->name == c->master || s->name == c->app
					 : s->name == c->master && s->app == c->app;
		}
		if (!hit)
			return false;
	}
	if (r->n_cats) {
		bool hit = false;

		for (i = 0; i < r->n_cats && !hit; i++)
			hit = r->cats[i] == c->cat;
		if (!hit)
			return false;
	}
	if (r->n_ports && !match_ports(r, c->f))
		return false;
	return !r->has_remote || match_remote(c, r, remote, remote_dev, remote_lan);
}

static const struct policy_rule *first_match(struct ctx *c, const struct ruleset *rs,
					     const struct policy_endpoint *remote,
					     const struct policy_device *remote_dev,
					     bool remote_lan)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (match_rule(c, &rs->v[i], remote, remote_dev, remote_lan))
			return &rs->v[i];
	return NULL;
}

/* learn never blocks nor alerts; monitor alerts what enforce would block. */
static enum policy_action cap(enum policy_action a, enum policy_mode m)
{
	if (m == POLICY_MODE_LEARN)
		return POLICY_ALLOW;
	if (m == POLICY_MODE_MONITOR && a > POLICY_ALERT)
		return POLICY_ALERT;
	return a;
}

/* The device's own rules first, then its profile's; first match wins. */
static void decide(struct ctx *c, const struct policy_device *dev, enum policy_direction dir,
		   const struct policy_endpoint *remote, const struct policy_device *remote_dev,
		   bool remote_lan, struct outcome *o)
{
	const struct policy_rule *r;

	r = first_match(c, &dev->rules[dir], remote, remote_dev, remote_lan);
	if (!r && dev->profile)
		r = first_match(c, &dev->profile->rules[dir], remote, remote_dev, remote_lan);
	o->dev = dev;
	o->rule = r;
	o->raw = r ? r->action : dev->fallthrough;
	o->eff = cap(o->raw, dev->mode);
	o->reason = r ? r->reason : dev->nomatch_reason[dir];
	o->line = r ? r->line : dev->line;
}

/* ---- does the verdict depend on the classification? ------------------------ */

enum maybe { MATCH_NO, MATCH_YES, MATCH_DEPENDS };

/* Would rule R match whatever the classifier says (protocol, category,
 * host)? */
static enum maybe match_rule_unclassified(const struct policy_rule *r,
					  const struct policy_flow *f,
					  const struct policy_endpoint *remote,
					  const struct policy_device *remote_dev,
					  bool remote_lan)
{
	bool depends = !r->any_proto || r->n_cats;

	if (r->n_ports && !match_ports(r, f))
		return MATCH_NO;
	if (r->has_remote &&
	    !match_remote_addr(r, remote, remote_dev, remote_lan)) {
		if (!r->n_hosts)
			return MATCH_NO;
		depends = true;
	}
	return depends ? MATCH_DEPENDS : MATCH_YES;
}

/* Is decide() for DEV in DIR the same for every classification?  First
 * match wins: rules that cannot match are skipped; the first that may match
 * settles it if it matches whatever the protocol. */
static bool decided_unclassified(const struct policy_flow *f,
				 const struct policy_device *dev,
				 enum policy_direction dir,
				 const struct policy_endpoint *remote,
				 const struct policy_device *remote_dev,
				 bool remote_lan)
{
	const struct ruleset *sets[2] = {
		&dev->rules[dir], dev->profile ? &dev->profile->rules[dir] : NULL
	};
	size_t k, i;

	for (k = 0; k < 2 && sets[k]; k++)
		for (i = 0; i < sets[k]->n; i++)
			switch (match_rule_unclassified(&sets[k]->v[i], f, remote,
							remote_dev, remote_lan)) {
			case MATCH_NO:
				continue;
			case MATCH_YES:
				return true;
			case MATCH_DEPENDS:
				return false;
			}
	return true;	/* the device's default, whatever the protocol */
}

bool policy_needs_classification(const struct policy *p,
				 const struct policy_flow *f)
{
	const struct policy_device *idev, *rdev = NULL;
	enum binding bind, unused;
	bool group;

	if (!p || !f)
		return true;
	idev = identify(p, &f->initiator, f->vlan, true, &bind);
	group = is_group(&f->responder);
	if (!group)
		rdev = identify(p, &f->responder, f->vlan, false, &unused);
	/* Learning is about which services a device uses. */
	if ((idev && idev->mode == POLICY_MODE_LEARN) ||
	    (rdev && rdev->mode == POLICY_MODE_LEARN))
		return true;
	if (idev && !decided_unclassified(f, idev, POLICY_OUT, &f->responder,
					  rdev, rdev != NULL || group))
		return true;
	if (rdev && !decided_unclassified(f, rdev, POLICY_IN, &f->initiator,
					  idev, idev != NULL))
		return true;
	return false;
}

/* ---- alerts (the slow path: only when something is wrong) ----------------- */

/*
 * Alert texts are built with a small appender rather than snprintf(): a
 * misbehaving device can make every one of its flows alert, and printf's
 * machinery would then cost more than the whole match.
 */
struct sbuf {
	char *p;
	size_t n, cap;		/* cap includes the NUL */
};

static void sb_mem(struct sbuf *b, const char *s, size_t len)
{
	if (len > b->cap - 1 - b->n)
		len = b->cap - 1 - b->n;
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_mem(b, s, strlen(s));
}

static void sb_uint(struct sbuf *b, unsigned v)
{
	char d[12];
	size_t i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sb_mem(b, d + i, sizeof(d) - i);
}

static void sb_addr(struct sbuf *b, const struct policy_endpoint *e)
{
	char a[INET6_ADDRSTRLEN];
	int i;

	if (e->family == AF_INET) {
		for (i = 0; i < 4; i++) {
			if (i)
				sb_mem(b, ".", 1);
			sb_uint(b, e->addr[i]);
		}
		return;
	}
	if (!inet_ntop(e->family, e->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	sb_str(b, a);
}

static void sb_endpoint(struct sbuf *b, const struct policy_endpoint *e)
{
	if (e->port && e->family == AF_INET6)
		sb_mem(b, "[", 1);
	sb_addr(b, e);
	if (!e->port)
		return;
	sb_str(b, e->family == AF_INET6 ? "]:" : ":");
	sb_uint(b, e->port);
}

static void sb_mac(struct sbuf *b, const uint8_t *m)
{
	static const char hex[] = "0123456789abcdef";
	char t[17];
	int i;

	for (i = 0; i < 6; i++) {
		t[3 * i] = hex[m[i] >> 4];
		t[3 * i + 1] = hex[m[i] & 15];
		if (i < 5)
			t[3 * i + 2] = ':';
	}
	sb_mem(b, t, sizeof(t));
}

/* "TLS.Google to 203.0.113.9:443 (www.google.com)", "RTSP from 192.168.1.50" */
static void sb_flow(struct sbuf *b, const struct policy_flow *f, enum policy_direction dir)
{
	const char *m = f->master_proto ? f->master_proto : "Unknown";
	const char *a = f->app_proto && strcmp(f->app_proto, m) != 0 ? f->app_proto : NULL;

	sb_str(b, m);
	if (a) {
		sb_mem(b, ".", 1);
		sb_str(b, a);
	}
	if (dir == POLICY_IN) {
		sb_str(b, " from ");
		sb_addr(b, &f->initiator);
		return;
	}
	sb_str(b, " to ");
	sb_endpoint(b, &f->responder);
	if (f->host) {
		sb_str(b, " (");
		sb_mem(b, f->host, strnlen(f->host, 64));
		sb_mem(b, ")", 1);
	}
}

/* A new alert, or NULL if the verdict is full; write its text with sb_*. */
static struct policy_alert *new_alert(struct policy_verdict *v, const char *type,
				      const struct policy_device *dev, struct sbuf *b)
{
	struct policy_alert *a;

	if (v->n_alerts >= POLICY_MAX_ALERTS)
		return NULL;
	a = &v->alerts[v->n_alerts++];
	a->event_type = type;
	a->device = dev;
	b->p = a->message;
	b->n = 0;
	b->cap = sizeof(a->message);
	a->message[0] = '\0';
	return a;
}

static const char *const outcome_words[__POLICY_ACTION_MAX] = {
	[POLICY_ALLOW] = "allowed",
	[POLICY_ALERT] = "alert only",
	[POLICY_DENY] = "denied",
	[POLICY_QUARANTINE] = "quarantined",
};

static void service_alert(const struct policy_flow *f, const struct policy_device *dev,
			  enum policy_direction dir, const struct outcome *o,
			  struct policy_verdict *v)
{
	bool rule_alert = o->rule && o->raw == POLICY_ALERT;
	struct sbuf b;

	if (dev->mode == POLICY_MODE_LEARN || o->raw == POLICY_ALLOW)
		return;
	if (!new_alert(v, rule_alert ? "rule_alert"
			  : dir == POLICY_OUT ? "service_not_allowed_out" : "service_not_allowed_in",
		       dev, &b))
		return;
	sb_str(&b, dev->name);
	sb_str(&b, ": ");
	sb_flow(&b, f, dir);
	if (rule_alert) {
		sb_str(&b, " matched alert rule at line ");
		sb_uint(&b, o->rule->line);
		return;
	}
	sb_str(&b, dir == POLICY_OUT ? " not allowed out (" : " not allowed in (");
	sb_str(&b, outcome_words[o->eff]);
	sb_mem(&b, ")", 1);
}

static const char *const unknown_reasons[__POLICY_ACTION_MAX] = {
	[POLICY_ALLOW] = "unknown device allowed (unknown_device: allow)",
	[POLICY_ALERT] = "unknown device (unknown_device: alert)",
	[POLICY_DENY] = "unknown device denied (unknown_device: deny)",
	[POLICY_QUARANTINE] = "unknown device quarantined (unknown_device: quarantine)",
};

static const char *const binding_reasons[__POLICY_ACTION_MAX] = {
	[POLICY_ALLOW] = "binding violation allowed (binding_violation: allow)",
	[POLICY_ALERT] = "binding violation (binding_violation: alert)",
	[POLICY_DENY] = "binding violation denied (binding_violation: deny)",
	[POLICY_QUARANTINE] = "binding violation quarantined (binding_violation: quarantine)",
};

static void unknown_outcome(const struct policy *p, const struct policy_flow *f,
			    const struct policy_endpoint *e, struct outcome *o,
			    struct policy_verdict *v)
{
	const struct policy_device *u = &p->unknown;
	struct sbuf b;

	o->dev = u;
	o->rule = NULL;
	o->raw = p->unknown_action;
	o->eff = cap(o->raw, u->mode);
	o->reason = unknown_reasons[o->raw];
	o->line = p->defaults_line;
	if (u->mode == POLICY_MODE_LEARN || o->raw == POLICY_ALLOW)
		return;
	if (!new_alert(v, "unknown_device", u, &b))
		return;
	sb_str(&b, "unknown device ");
	if (e->has_mac) {
		sb_mac(&b, e->mac);
		sb_mem(&b, " ", 1);
	}
	sb_addr(&b, e);
	sb_str(&b, ": ");
	sb_flow(&b, f, e == &f->initiator ? POLICY_OUT : POLICY_IN);
}

static void binding_outcome(const struct policy_flow *f, const struct policy_device *dev,
			    enum binding bind, struct outcome *o, struct policy_verdict *v)
{
	const struct policy_endpoint *e = &f->initiator;
	struct sbuf b;

	o->dev = dev;
	o->rule = NULL;
	o->raw = dev->binding;
	o->eff = cap(o->raw, dev->mode);
	o->reason = binding_reasons[o->raw];
	o->line = dev->line;
	if (dev->mode == POLICY_MODE_LEARN || o->raw == POLICY_ALLOW)
		return;
	if (!new_alert(v, "binding_violation", dev, &b))
		return;
	sb_str(&b, dev->name);
	switch (bind) {
	case BIND_MAC:
		sb_str(&b, ": its address ");
		sb_addr(&b, e);
		sb_str(&b, " used by undeclared MAC ");
		sb_mac(&b, e->mac);	/* BIND_MAC needs a MAC */
		break;
	case BIND_IP:
		sb_str(&b, ": MAC ");
		if (e->has_mac)
			sb_mac(&b, e->mac);
		else
			sb_str(&b, "?");
		sb_str(&b, " seen with undeclared address ");
		sb_addr(&b, e);
		break;
	case BIND_PORT:
		sb_str(&b, ": seen on bridge port ");
		sb_str(&b, e->ifname);
		sb_str(&b, ", declared ");
		sb_str(&b, dev->port);
		break;
	case BIND_VLAN:
		sb_str(&b, ": seen on vlan ");
		sb_uint(&b, f->vlan);
		sb_str(&b, ", declared vlan ");
		sb_uint(&b, dev->vlan);
		break;
	case BIND_OK:
		break;
	}
}

/* ---- the verdict ---------------------------------------------------------- */

int policy_evaluate(const struct policy *p, const struct policy_flow *f,
		    struct policy_verdict *out)
{
	const struct policy_device *idev, *rdev = NULL;
	struct outcome cand[5];
	enum binding bind, unused;
	struct ctx c;
	bool ilan, rlan, group;
	size_t n = 0, i, best;

	if (!p || !f || !out)
		return -EINVAL;
	out->n_alerts = 0;

	c.f = f;
	c.master = name_id(p->protos, f->master_proto ? f->master_proto : "Unknown");
	c.app = f->app_proto ? name_id(p->protos, f->app_proto) : -1;
	if (c.app == c.master)
		c.app = -1;
	c.cat = name_id(p->cats, f->category);
	c.host_done = false;
	c.host_len = 0;

	idev = identify(p, &f->initiator, f->vlan, true, &bind);
	group = is_group(&f->responder);
	if (!group)
		rdev = identify(p, &f->responder, f->vlan, false, &unused);
	/* "lan" in a rule: a device, a LAN address, or a multicast group. */
	ilan = idev != NULL;
	rlan = rdev != NULL || group;

	/* Candidates in tie-break order: the initiator's OUT rules first. */
	if (idev) {
		decide(&c, idev, POLICY_OUT, &f->responder, rdev, rlan, &cand[n]);
		service_alert(f, idev, POLICY_OUT, &cand[n++], out);
	}
	if (rdev) {
		decide(&c, rdev, POLICY_IN, &f->initiator, idev, ilan, &cand[n]);
		service_alert(f, rdev, POLICY_IN, &cand[n++], out);
	}
	if (idev && idev->unknown)
		unknown_outcome(p, f, &f->initiator, &cand[n++], out);
	if (rdev && rdev->unknown)
		unknown_outcome(p, f, &f->responder, &cand[n++], out);
	if (idev && bind != BIND_OK)
		binding_outcome(f, idev, bind, &cand[n++], out);

	out->initiator_dev = idev;
	out->responder_dev = rdev;
	if (!n) {
		out->action = out->rule_action = POLICY_ALLOW;
		out->rule = NULL;
		out->deny_with = POLICY_DENY_DROP;
		out->rule_file = NULL;
		out->rule_line = 0;
		out->reason = "no LAN device on either side";
		return 0;
	}
	/* Strictest effective action; among equals the strictest rule action
	 * (so a learn-mode deny is reported), then the earliest candidate. */
	for (best = 0, i = 1; i < n; i++)
		if (cand[i].eff > cand[best].eff ||
		    (cand[i].eff == cand[best].eff && cand[i].raw > cand[best].raw))
			best = i;
	out->action = cand[best].eff;
	out->rule_action = cand[best].raw;
	out->rule = cand[best].rule;
	out->deny_with = cand[best].dev->deny_with;
	out->rule_line = cand[best].line;
	out->rule_file = out->rule_line ? p->file : NULL;
	out->reason = cand[best].reason;
	return 0;
}
