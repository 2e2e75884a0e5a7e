/*
 * load: YAML tree -> struct policy, with every error at once.
 *
 * Validation is data: each mapping of the language has a table of fields
 * (key, parser, where the value goes, bounds) and of cross-field checks, and
 * apply_table() does the unknown-key, duplicate-key, type and bound work for
 * all of them.  A parser that finds a problem reports it and carries on, so
 * one run of `iotjaild -t` shows everything that is wrong with a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/arena.h"
#include "policy/diag.h"
#include "policy/lookup.h"
#include "policy/policy-int.h"
#include "policy/value.h"
#include "policy/yaml.h"

/* Big enough for any hand-written or generated policy; guards the reader. */
#define POLICY_MAX_FILE (64u << 20)
#define MAX_FIELDS 16

struct loader {
	struct policy *p;
	struct policy_diag *d;
	bool nomem;

	/* Names the classifier knows (case-insensitive); NULL: accept any. */
	struct name_table *vocab_protos, *vocab_cats;
	const char **proto_cands, **cat_cands;	/* for "did you mean" */
	size_t n_proto_cands, n_cat_cands;
	int32_t n_protos, n_cats;		/* interned so far */

	struct name_table *profiles;		/* name -> struct profile */
	const char **device_names;		/* for "did you mean" */
	size_t n_device_names;
	/* Whose rules are being parsed: "profile ip-camera", made on first use. */
	const char *owner, *owner_kind, *owner_name;
};

struct field;
typedef void parse_fn(struct loader *l, const struct ynode *key, const struct ynode *val,
		      void *obj, const struct field *f);

struct field {
	const char *key;
	parse_fn *parse;
	size_t off, size;	/* where the value goes in the object */
	uint64_t min, max;	/* bounds of numbers (durations in ms, sizes in bytes) */
	const void *arg;	/* parser-specific: enum names, rule direction, message */
};

/* Cross-field checks: the "impossible limits". */
enum check_kind {
	CHECK_LE,	/* a <= b when both are set */
	CHECK_LT,	/* a < b when both are set */
	CHECK_NEEDS,	/* a only together with b */
};

struct check {
	enum check_kind kind;
	const char *a, *b;
	const char *msg;
};

struct table {
	const struct field *fields;
	size_t n_fields;
	const struct check *checks;
	size_t n_checks;
};

#define FIELD(k, fn, type, member, mn, mx, a)                                                  \
	{ .key = k, .parse = fn, .off = offsetof(type, member),                                \
	  .size = sizeof(((type *)0)->member), .min = mn, .max = mx, .arg = a }
/* A field whose parser knows where its value goes (or keeps none). */
#define FIELD_CALL(k, fn, a) { .key = k, .parse = fn, .arg = a }
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TABLE(f, c) { f, ARRAY_SIZE(f), c, ARRAY_SIZE(c) }
#define TABLE_NOCHECKS(f) { f, ARRAY_SIZE(f), NULL, 0 }

/* ---- reporting ------------------------------------------------------------ */

static void report(struct loader *l, enum policy_severity sev, const struct ynode *n,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void report(struct loader *l, enum policy_severity sev, const struct ynode *n,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(l->d, sev, n ? n->line : 0, n ? n->col : 0, n ? n->width : 0, fmt, ap);
	va_end(ap);
}

#define error(l, n, ...) report(l, POLICY_ERROR, n, __VA_ARGS__)
#define warning(l, n, ...) report(l, POLICY_WARNING, n, __VA_ARGS__)

static void nomem(struct loader *l)
{
	if (!l->nomem)
		diag_add(l->d, POLICY_ERROR, 0, 0, 0, "out of memory");
	l->nomem = true;
}

static void *alloc(struct loader *l, size_t n, size_t size)
{
	void *p = arena_calloc(l->p->a, n ? n : 1, size);

	if (!p)
		nomem(l);
	return p;
}

static const char *kind_name(const struct ynode *n)
{
	if (ynode_is_null(n))
		return "empty";
	switch (n->kind) {
	case YNODE_SCALAR:
		return "a string";
	case YNODE_SEQ:
		return "a list";
	case YNODE_MAP:
		return "a mapping";
	default:
		return "?";
	}
}

/* " (did you mean 'x'?)" or "" */
static const char *did_you_mean(char *buf, size_t len, const char *word,
				const char *const *cands, size_t n)
{
	const char *s = value_suggest(word, cands, n);

	if (!s)
		return "";
	snprintf(buf, len, " (did you mean '%s'?)", s);
	return buf;
}

/* The value of a field that must be one non-empty string. */
static const char *scalar(struct loader *l, const struct ynode *key, const struct ynode *v)
{
	if (v->kind != YNODE_SCALAR) {
		error(l, v, "'%s' must be a string, not %s", key->str, kind_name(v));
		return NULL;
	}
	if (ynode_is_null(v)) {
		error(l, key, "'%s' needs a value", key->str);
		return NULL;
	}
	if (strlen(v->str) != v->len) {
		error(l, v, "'%s' contains a NUL byte", key->str);
		return NULL;
	}
	return v->str;
}

/* The items of a field that takes one string or a list of strings. */
struct items {
	const struct ynode *const *v;
	const struct ynode *one;	/* storage for a single scalar */
	size_t n;
};

static size_t string_items(struct loader *l, const struct ynode *key, const struct ynode *v,
			   struct items *it)
{
	size_t i;

	it->n = 0;
	it->v = &it->one;
	if (ynode_is_null(v))
		return 0;
	if (v->kind == YNODE_MAP) {
		error(l, v, "'%s' must be a string or a list of strings, not a mapping", key->str);
		return 0;
	}
	if (v->kind == YNODE_SCALAR) {
		if (strlen(v->str) != v->len) {
			error(l, v, "'%s' contains a NUL byte", key->str);
			return 0;
		}
		it->one = v;
		return it->n = 1;
	}
	for (i = 0; i < v->n; i++) {
		const struct ynode *x = v->items[i];

		if (x->kind != YNODE_SCALAR || ynode_is_null(x) || strlen(x->str) != x->len) {
			error(l, x, "items of '%s' must be strings, not %s", key->str,
			      x->kind == YNODE_SCALAR && !ynode_is_null(x) ? "binary data"
									   : kind_name(x));
			return 0;
		}
	}
	it->v = (const struct ynode *const *)v->items;
	return it->n = v->n;
}

/* ---- field tables ----------------------------------------------------------- */

static int field_index(const struct table *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->n_fields; i++)
		if (strcmp(t->fields[i].key, key) == 0)
			return (int)i;
	return -1;
}

static uint64_t load_uint(const void *p, size_t size)
{
	switch (size) {
	case 1:
		return *(const uint8_t *)p;
	case 2:
		return *(const uint16_t *)p;
	case 4:
		return *(const uint32_t *)p;
	default:
		return *(const uint64_t *)p;
	}
}

static void store_uint(void *p, size_t size, uint64_t v)
{
	switch (size) {
	case 1:
		*(uint8_t *)p = (uint8_t)v;
		break;
	case 2:
		*(uint16_t *)p = (uint16_t)v;
		break;
	case 4:
		*(uint32_t *)p = (uint32_t)v;
		break;
	default:
		*(uint64_t *)p = v;
		break;
	}
}

/*
 * Check a mapping against a field table: unknown and duplicate keys are
 * errors, each known key's value goes to its parser (in table order, so a
 * table can put what others depend on first), then the cross-field checks.
 * `what` names the mapping in messages: "device 'cam-front'".
 */
static void apply_table(struct loader *l, const struct ynode *map, const struct table *t,
			void *obj, const char *what)
{
	const struct ynode *keys[MAX_FIELDS] = { NULL }, *vals[MAX_FIELDS] = { NULL };
	const char *names[MAX_FIELDS];
	char hint[96];
	size_t i;

	for (i = 0; i < t->n_fields; i++)
		names[i] = t->fields[i].key;
	for (i = 0; i < map->n; i++) {
		const struct ynode *k = map->items[2 * i], *v = map->items[2 * i + 1];
		int fi;

		if (k->kind != YNODE_SCALAR) {
			error(l, k, "keys in %s must be names, not %s", what, kind_name(k));
			continue;
		}
		fi = field_index(t, k->str);
		if (fi < 0) {
			error(l, k, "unknown key '%s' in %s%s", k->str, what,
			      did_you_mean(hint, sizeof(hint), k->str, names, t->n_fields));
			continue;
		}
		if (keys[fi]) {
			error(l, k, "duplicate key '%s' in %s (first at line %u)", k->str, what,
			      keys[fi]->line);
			continue;
		}
		keys[fi] = k;
		vals[fi] = v;
	}
	for (i = 0; i < t->n_fields; i++)
		if (keys[i])
			t->fields[i].parse(l, keys[i], vals[i], obj, &t->fields[i]);
	for (i = 0; i < t->n_checks; i++) {
		const struct check *c = &t->checks[i];
		int a = field_index(t, c->a), b = field_index(t, c->b);
		uint64_t va, vb;

		if (a < 0 || b < 0 || !keys[a])
			continue;
		if (c->kind == CHECK_NEEDS) {
			if (!keys[b])
				error(l, keys[a], "%s", c->msg);
			continue;
		}
		if (!keys[b])
			continue;
		va = load_uint((const char *)obj + t->fields[a].off, t->fields[a].size);
		vb = load_uint((const char *)obj + t->fields[b].off, t->fields[b].size);
		if (!va || !vb)
			continue;	/* unset, or already reported as malformed */
		if ((c->kind == CHECK_LE && va > vb) || (c->kind == CHECK_LT && va >= vb))
			error(l, vals[a], "%s", c->msg);
	}
}

/* A mapping-valued field: empty is fine (nothing set), other kinds are not. */
static bool want_map(struct loader *l, const struct ynode *key, const struct ynode *v)
{
	if (ynode_is_null(v))
		return false;
	if (v->kind != YNODE_MAP) {
		error(l, v, "'%s' must be a mapping, not %s", key->str, kind_name(v));
		return false;
	}
	return true;
}

/* ---- scalar parsers ------------------------------------------------------- */

static void fmt_ms(uint64_t ms, char *buf, size_t len)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} u[] = { { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 } };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(u); i++)
		if (ms % u[i].ms == 0 || i == ARRAY_SIZE(u) - 1) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(ms / u[i].ms), u[i].unit);
			return;
		}
}

/* trusted: true | false | observed, on a device; checked once the device
 * is whole. */
static void p_trusted(struct loader *l, const struct ynode *key, const struct ynode *v,
		      void *obj, const struct field *f)
{
	struct policy_device *dev = obj;

	(void)f;
	if (v->kind != YNODE_SCALAR || (strcmp(v->str, "true") &&
	    strcmp(v->str, "false") && strcmp(v->str, "observed"))) {
		error(l, v, "'%s' must be true, false or observed", key->str);
		return;
	}
	dev->observed = !strcmp(v->str, "observed");
	dev->trusted = dev->observed || !strcmp(v->str, "true");
	dev->trusted_node = v;
}

static void p_text(struct loader *l, const struct ynode *key, const struct ynode *v,
		   void *obj, const struct field *f)
{
	(void)obj;
	(void)f;
	if (v->kind != YNODE_SCALAR)
		error(l, v, "'%s' must be a string, not %s", key->str, kind_name(v));
}

static void p_uint(struct loader *l, const struct ynode *key, const struct ynode *v,
		   void *obj, const struct field *f)
{
	const char *s = scalar(l, key, v);
	uint64_t n;

	if (!s)
		return;
	if (value_uint(s, f->max, &n) || n < f->min) {
		error(l, v, "'%s' must be a whole number from %llu to %llu, not '%s'", key->str,
		      (unsigned long long)f->min, (unsigned long long)f->max, s);
		return;
	}
	store_uint((char *)obj + f->off, f->size, n);
}

static void p_version(struct loader *l, const struct ynode *key, const struct ynode *v,
		      void *obj, const struct field *f)
{
	const char *s = scalar(l, key, v);

	(void)obj;
	(void)f;
	if (s && strcmp(s, "1") != 0)
		error(l, v, "unsupported policy version '%s' (this iotjail reads version 1)", s);
}

static void p_duration(struct loader *l, const struct ynode *key, const struct ynode *v,
		       void *obj, const struct field *f)
{
	const char *s = scalar(l, key, v), *err;
	char lo[32], hi[32];
	uint64_t ms;

	if (!s)
		return;
	err = value_duration(s, &ms);
	if (err) {
		error(l, v, "'%s' is not a duration (like 90s or 5m): %s", s, err);
		return;
	}
	if (ms < f->min || ms > f->max) {
		fmt_ms(f->min, lo, sizeof(lo));
		fmt_ms(f->max, hi, sizeof(hi));
		error(l, v, "'%s' must be from %s to %s, not '%s'", key->str, lo, hi, s);
		return;
	}
	store_uint((char *)obj + f->off, f->size, ms);
}

static void p_size(struct loader *l, const struct ynode *key, const struct ynode *v,
		   void *obj, const struct field *f)
{
	const char *s = scalar(l, key, v), *err;
	uint64_t bytes;

	if (!s)
		return;
	err = value_size(s, &bytes);
	if (err) {
		error(l, v, "'%s' is not a size (like 50MB): %s", s, err);
		return;
	}
	if (bytes == 0) {
		error(l, v, "'%s' of 0 bytes forbids all traffic; leave it out for no limit",
		      key->str);
		return;
	}
	store_uint((char *)obj + f->off, f->size, bytes);
}

static void p_rate(struct loader *l, const struct ynode *key, const struct ynode *v,
		   void *obj, const struct field *f)
{
	struct policy_limits *lim = obj;
	const char *s = scalar(l, key, v), *err;

	(void)f;
	if (!s)
		return;
	err = value_rate(s, &lim->new_flows, &lim->new_flows_window_ms);
	if (err)
		error(l, v, "'%s' is not a rate (like 30/min): %s", s, err);
}

/* f->arg: NULL-terminated names, stored as an int index. */
static void p_enum(struct loader *l, const struct ynode *key, const struct ynode *v,
		   void *obj, const struct field *f)
{
	const char *const *names = f->arg;
	const char *s = scalar(l, key, v);
	char list[96] = "", hint[96];
	size_t i, n;

	if (!s)
		return;
	for (n = 0; names[n]; n++) {
		if (strcmp(s, names[n]) == 0) {
			*(int *)((char *)obj + f->off) = (int)n;
			return;
		}
	}
	for (i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", names[i],
			 i + 2 < n ? ", " : i + 1 < n ? " or " : "");
	error(l, v, "'%s' must be %s, not '%s'%s", key->str, list, s,
	      did_you_mean(hint, sizeof(hint), s, names, n));
}

static const char *const mode_names[] = { "learn", "monitor", "enforce", NULL };
static const char *const action_names[] = { "allow", "alert", "deny", "quarantine", NULL };
static const char *const rule_action_names[] = { "allow", "alert", "deny", NULL };
static const char *const deny_with_names[] = { "drop", "reject", NULL };
static const char *const too_often_names[] = { "alert", "drop", NULL };
static const char *const over_names[] = { "alert", "block", NULL };

/* ---- addresses ------------------------------------------------------------ */

/* Parse a prefix, reporting errors with a suggestion for host bits. */
static bool prefix_item(struct loader *l, const struct ynode *n, struct value_prefix *p)
{
	const char *err = value_prefix(n->str, p);
	char buf[64];

	if (!err)
		return true;
	if (strcmp(err, "host bits set") == 0) {
		value_prefix_format(p, buf, sizeof(buf));
		error(l, n, "'%s' has host bits set (did you mean '%s'?)", n->str, buf);
	} else {
		error(l, n, "'%s' is not an address or prefix: %s", n->str, err);
	}
	return false;
}

static void p_lan(struct loader *l, const struct ynode *key, const struct ynode *v,
		  void *obj, const struct field *f)
{
	struct policy *p = obj;
	struct items it;
	size_t n = string_items(l, key, v, &it), i;
	const struct ynode *const *items = it.v;
	struct prefix_table *t = prefix_table_new();

	(void)f;
	if (!t) {
		nomem(l);
		return;
	}
	/* Declared: replaces the RFC 1918 defaults, even when empty. */
	prefix_table_free(p->lan);
	p->lan = t;
	p->lan_list = alloc(l, n, sizeof(*p->lan_list));
	p->n_lan = 0;
	for (i = 0; i < n; i++) {
		struct value_prefix pf;
		int rc;

		if (!prefix_item(l, items[i], &pf))
			continue;
		rc = prefix_table_add(t, pf.family, pf.addr, pf.len, p, NULL);
		if (rc == -EEXIST)
			warning(l, items[i], "'%s' is listed twice in 'lan'", items[i]->str);
		else if (rc < 0)
			nomem(l);
		else if (p->lan_list)
			p->lan_list[p->n_lan++] = pf;
	}
}

static const char *fmt_mac(const uint8_t m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static void p_macs(struct loader *l, const struct ynode *key, const struct ynode *v,
		   void *obj, const struct field *f)
{
	struct policy_device *dev = obj;
	struct items it;
	size_t n = string_items(l, key, v, &it), i;
	const struct ynode *const *items = it.v;
	char buf[32];

	(void)f;
	dev->macs = alloc(l, n, sizeof(*dev->macs));
	if (!dev->macs)
		return;
	for (i = 0; i < n; i++) {
		uint8_t *m = dev->macs[dev->n_macs];
		const char *err = value_mac(items[i]->str, m);
		void *old = NULL;
		int rc;

		if (err) {
			error(l, items[i], "'%s' is not a MAC address: %s", items[i]->str, err);
			continue;
		}
		if (m[0] & 1) {
			error(l, items[i], "'%s' is a multicast MAC address; it cannot be a device's",
			      items[i]->str);
			continue;
		}
		rc = mac_table_add(l->p->by_mac, m, dev, &old);
		if (rc == -EEXIST) {
			const struct policy_device *o = old;

			if (o == dev)
				warning(l, items[i], "MAC %s is listed twice", fmt_mac(m, buf, sizeof(buf)));
			else
				error(l, items[i], "MAC %s is already device '%s' (line %u)",
				      fmt_mac(m, buf, sizeof(buf)), o->name, o->line);
			continue;
		}
		if (rc < 0) {
			nomem(l);
			return;
		}
		dev->n_macs++;
	}
}

static void p_dev_ips(struct loader *l, const struct ynode *key, const struct ynode *v,
		      void *obj, const struct field *f)
{
	struct policy_device *dev = obj;
	struct items it;
	size_t n = string_items(l, key, v, &it), i;
	const struct ynode *const *items = it.v;

	(void)f;
	dev->prefixes = alloc(l, n, sizeof(*dev->prefixes));
	dev->prefix_nodes = alloc(l, n, sizeof(*dev->prefix_nodes));
	if (!dev->prefixes || !dev->prefix_nodes)
		return;
	for (i = 0; i < n; i++) {
		struct value_prefix *pf = &dev->prefixes[dev->n_prefixes];
		void *old = NULL;
		int rc;

		if (!prefix_item(l, items[i], pf))
			continue;
		rc = prefix_table_add(l->p->by_ip, pf->family, pf->addr, pf->len, dev, &old);
		if (rc == -EEXIST) {
			const struct policy_device *o = old;

			if (o == dev)
				warning(l, items[i], "'%s' is listed twice", items[i]->str);
			else
				warning(l, items[i],
					"'%s' is also an address of device '%s' (line %u), "
					"which wins", items[i]->str, o->name, o->line);
			continue;
		} else if (rc < 0) {
			nomem(l);
			return;
		}
		dev->prefix_nodes[dev->n_prefixes++] = items[i];
	}
}

static void p_ifname(struct loader *l, const struct ynode *key, const struct ynode *v,
		     void *obj, const struct field *f)
{
	const char *s = scalar(l, key, v), *err;

	if (!s)
		return;
	err = value_ifname(s);
	if (err) {
		error(l, v, "'%s' is not a bridge port name: %s", s, err);
		return;
	}
	*(const char **)((char *)obj + f->off) = arena_strdup(l->p->a, s);
}

/* ---- rules ---------------------------------------------------------------- */

static int32_t intern(struct loader *l, struct name_table *t, int32_t *next, const char *s,
		      size_t len)
{
	void *v = name_table_get(t, s, len, 0);
	char *key;

	if (v)
		return (int32_t)((uintptr_t)v - 1);
	key = arena_strndup(l->p->a, s, len);
	if (!key || name_table_add(t, key, 0, (void *)(uintptr_t)(*next + 1), NULL) < 0) {
		nomem(l);
		return -1;
	}
	return (*next)++;
}

static bool known(struct name_table *vocab, const char *s, size_t len)
{
	return !vocab || name_table_get(vocab, s, len, 0);
}

/* Why a protocol name is unknown, with the nearest valid one. */
static void unknown_proto(struct loader *l, const struct ynode *n, const char *name,
			  const char *whole)
{
	char hint[96];

	if (!whole && known(l->vocab_cats, name, strlen(name)))
		error(l, n, "'%s' is an nDPI category, not a protocol; write 'category: %s'",
		      name, name);
	else
		error(l, n, "unknown protocol '%s'%s%s%s%s", name, whole ? " in '" : "",
		      whole ? whole : "", whole ? "'" : "",
		      did_you_mean(hint, sizeof(hint), name, l->proto_cands, l->n_proto_cands));
}

static bool proto_item(struct loader *l, const struct ynode *n, struct policy_rule *r)
{
	const char *s = n->str, *dot = strchr(s, '.');
	struct proto_sel *sel = &r->protos[r->n_protos];
	char part[128];

	if (strcasecmp(s, "any") == 0) {
		r->any_proto = true;
		return true;
	}
	/* Whole names first: nDPI has a protocol called "Z39.50". */
	if (known(l->vocab_protos, s, strlen(s)) && !(dot && !l->vocab_protos)) {
		sel->name = intern(l, l->p->protos, &l->n_protos, s, strlen(s));
		sel->app = -1;
		r->n_protos++;
		return true;
	}
	if (!dot) {
		unknown_proto(l, n, s, NULL);
		return false;
	}
	if (dot == s || !dot[1]) {
		error(l, n, "'%s' has an empty part; write 'TLS' or 'TLS.Google'", s);
		return false;
	}
	if ((size_t)(dot - s) >= sizeof(part) || !known(l->vocab_protos, s, (size_t)(dot - s))) {
		snprintf(part, sizeof(part), "%.*s", (int)(dot - s), s);
		unknown_proto(l, n, part, s);
		return false;
	}
	if (!known(l->vocab_protos, dot + 1, strlen(dot + 1))) {
		unknown_proto(l, n, dot + 1, s);
		return false;
	}
	sel->name = intern(l, l->p->protos, &l->n_protos, s, (size_t)(dot - s));
	sel->app = intern(l, l->p->protos, &l->n_protos, dot + 1, strlen(dot + 1));
	r->n_protos++;
	return true;
}

static void p_protos(struct loader *l, const struct ynode *key, const struct ynode *v,
		     void *obj, const struct field *f)
{
	struct policy_rule *r = obj;
	struct items it;
	size_t n = string_items(l, key, v, &it), i;
	const struct ynode *const *items = it.v;

	(void)f;
	if (ynode_is_null(v))
		error(l, key, "'%s' needs a value", key->str);
	r->protos = alloc(l, n, sizeof(*r->protos));
	if (!r->protos)
		return;
	for (i = 0; i < n; i++)
		proto_item(l, items[i], r);
}

static void p_cats(struct loader *l, const struct ynode *key, const struct ynode *v,
		   void *obj, const struct field *f)
{
	struct policy_rule *r = obj;
	struct items it;
	size_t n = string_items(l, key, v, &it), i;
	const struct ynode *const *items = it.v;
	char hint[96];

	(void)f;
	if (ynode_is_null(v))
		error(l, key, "'%s' needs a value", key->str);
	r->cats = alloc(l, n, sizeof(*r->cats));
	if (!r->cats)
		return;
	for (i = 0; i < n; i++) {
		const char *s = items[i]->str;

		if (!known(l->vocab_cats, s, strlen(s))) {
			if (known(l->vocab_protos, s, strlen(s)))
				error(l, items[i], "'%s' is an nDPI protocol, not a category; "
				      "write 'proto: %s'", s, s);
			else
				error(l, items[i], "unknown category '%s'%s", s,
				      did_you_mean(hint, sizeof(hint), s, l->cat_cands,
						   l->n_cat_cands));
			continue;
		}
		r->cats[r->n_cats++] = intern(l, l->p->cats, &l->n_cats, s, strlen(s));
	}
}

static void p_ports(struct loader *l, const struct ynode *key, const struct ynode *v,
		    void *obj, const struct field *f)
{
	struct policy_rule *r = obj;
	struct items it;
	size_t n = string_items(l, key, v, &it), i;
	const struct ynode *const *items = it.v;

	(void)f;
	if (ynode_is_null(v))
		error(l, key, "'%s' needs a value", key->str);
	r->ports = alloc(l, n, sizeof(*r->ports));
	if (!r->ports)
		return;
	for (i = 0; i < n; i++) {
		const char *err = value_ports(items[i]->str, &r->ports[r->n_ports]);

		if (err)
			error(l, items[i], "'%s' is not a port or port range: %s", items[i]->str, err);
		else
			r->n_ports++;
	}
}

/*
 * Digits, dots and a slash, or hex digits and colons: meant as an address,
 * so "1.2.3" is reported as a malformed address rather than a host name.
 */
static bool is_address(const char *s)
{
	bool colon = strchr(s, ':') != NULL, dot = false;

	for (; *s; s++) {
		if (*s == '.')
			dot = true;
		else if (!(*s >= '0' && *s <= '9') && *s != '/' && *s != ':' &&
			 !(colon && ((*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F'))))
			return false;
	}
	return colon || dot;
}

static bool has_key(const struct ynode *map, const char *const *keys, size_t n)
{
	size_t i, j;

	if (map->kind != YNODE_MAP)
		return false;
	for (i = 0; i < map->n; i++)
		for (j = 0; j < n; j++)
			if (map->items[2 * i]->kind == YNODE_SCALAR &&
			    strcmp(map->items[2 * i]->str, keys[j]) == 0)
				return true;
	return false;
}

static void p_remote(struct loader *l, const struct ynode *key, const struct ynode *v,
		     void *obj, const struct field *f)
{
	struct policy_rule *r = obj;
	struct items list;
	size_t n = string_items(l, key, v, &list), i;
	const struct ynode *const *items = list.v;
	char hint[96], host[256];

	(void)f;
	if (ynode_is_null(v))
		error(l, key, "'%s' needs a value", key->str);
	r->prefixes = alloc(l, n, sizeof(*r->prefixes));
	r->hosts = alloc(l, n, sizeof(*r->hosts));
	r->devs = alloc(l, n, sizeof(*r->devs));
	if (!r->prefixes || !r->hosts || !r->devs)
		return;
	r->has_remote = n > 0;
	for (i = 0; i < n; i++) {
		const struct ynode *it = items[i];
		const char *s = it->str, *err;
		const struct policy_device *dev;

		if (strcmp(s, "lan") == 0) {
			r->remote_lan = true;
		} else if (strcmp(s, "wan") == 0) {
			r->remote_wan = true;
		} else if (is_address(s)) {
			if (prefix_item(l, it, &r->prefixes[r->n_prefixes]))
				r->n_prefixes++;
		} else if (strchr(s, '.') || s[0] == '*') {
			struct host_pat *h = &r->hosts[r->n_hosts];

			err = value_host_pattern(s, host, sizeof(host));
			if (err) {
				error(l, it, "'%s' is not a host name: %s", s, err);
				continue;
			}
			h->wildcard = host[0] == '*';
			h->text = arena_strdup(l->p->a, h->wildcard ? host + 1 : host);
			if (!h->text) {
				nomem(l);
				return;
			}
			h->len = (uint32_t)strlen(h->text);
			r->n_hosts++;
		} else if ((dev = name_table_get(l->p->by_name, s, strlen(s), 0))) {
			r->devs[r->n_devs++] = dev;
		} else {
			if (*did_you_mean(hint, sizeof(hint), s, l->device_names, l->n_device_names))
				error(l, it, "unknown device '%s' in '%s'%s", s, key->str, hint);
			else
				error(l, it, "unknown device '%s' in '%s' (host names have a dot; "
				      "'lan' and 'wan' are keywords)", s, key->str);
		}
	}
}

static void p_wrong_dir(struct loader *l, const struct ynode *key, const struct ynode *v,
			void *obj, const struct field *f)
{
	(void)v;
	(void)obj;
	error(l, key, "%s", (const char *)f->arg);
}

static void p_limits(struct loader *l, const struct ynode *key, const struct ynode *v,
		     void *obj, const struct field *f);

static const enum policy_direction dir_out = POLICY_OUT, dir_in = POLICY_IN;

static const struct field out_rule_fields[] = {
	FIELD_CALL("proto", p_protos, NULL),
	FIELD_CALL("category", p_cats, NULL),
	FIELD_CALL("ports", p_ports, NULL),
	FIELD_CALL("to", p_remote, NULL),
	FIELD_CALL("from", p_wrong_dir,
		   "'from' is for in rules; an out rule names the remote side with 'to'"),
	FIELD("action", p_enum, struct policy_rule, action, 0, 0, rule_action_names),
	FIELD("every", p_duration, struct policy_rule, limits.every_ms, 1000, 86400000, NULL),
	FIELD("tolerance", p_duration, struct policy_rule, limits.tolerance_ms, 0, 86400000, NULL),
	FIELD("too_often", p_enum, struct policy_rule, too_often, 0, 0, too_often_names),
	FIELD("limits", p_limits, struct policy_rule, limits, 0, 0, NULL),
	FIELD_CALL("description", p_text, NULL),
};

static const struct field in_rule_fields[] = {
	FIELD_CALL("proto", p_protos, NULL),
	FIELD_CALL("category", p_cats, NULL),
	FIELD_CALL("ports", p_ports, NULL),
	FIELD_CALL("from", p_remote, NULL),
	FIELD_CALL("to", p_wrong_dir,
		   "'to' is for out rules; an in rule names the remote side with 'from'"),
	FIELD("action", p_enum, struct policy_rule, action, 0, 0, rule_action_names),
	FIELD("every", p_duration, struct policy_rule, limits.every_ms, 1000, 86400000, NULL),
	FIELD("tolerance", p_duration, struct policy_rule, limits.tolerance_ms, 0, 86400000, NULL),
	FIELD("limits", p_limits, struct policy_rule, limits, 0, 0, NULL),
	FIELD_CALL("description", p_text, NULL),
};

static const struct check rule_checks[] = {
	{ CHECK_NEEDS, "tolerance", "every", "'tolerance' needs 'every', the expected interval" },
	{ CHECK_NEEDS, "too_often", "every", "'too_often' needs 'every', the expected interval" },
	{ CHECK_LT, "tolerance", "every", "'tolerance' must be shorter than 'every'" },
};

static const struct table rule_tables[__POLICY_DIRECTION_MAX] = {
	[POLICY_OUT] = TABLE(out_rule_fields, rule_checks),
	[POLICY_IN] = TABLE(in_rule_fields, rule_checks),
};

static const char *const dir_names[__POLICY_DIRECTION_MAX] = {
	[POLICY_OUT] = "out",
	[POLICY_IN] = "in",
};

static void append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* "TLS to *.vendor-cloud.example", "RTSP 554/tcp from nvr", "category Web" */
static void rule_label(struct loader *l, const struct ynode *node, struct policy_rule *r)
{
	static const char *const verbs[] = { "allowed", "alerted", "denied", "quarantined" };
	const char *intro[4] = { "", "category ", "port ", r->dir == POLICY_OUT ? "to " : "from " };
	const struct ynode *protos = NULL, *cats = NULL, *ports = NULL, *remote = NULL;
	const struct ynode *parts[4];
	char buf[160] = "";
	size_t i, j;

	if (node->kind == YNODE_SCALAR || node->kind == YNODE_SEQ) {
		protos = node;
	} else if (node->kind == YNODE_MAP) {
		for (i = 0; i < node->n; i++) {
			const struct ynode *k = node->items[2 * i], *v = node->items[2 * i + 1];

			if (k->kind != YNODE_SCALAR)
				continue;
			if (strcmp(k->str, "proto") == 0)
				protos = v;
			else if (strcmp(k->str, "category") == 0)
				cats = v;
			else if (strcmp(k->str, "ports") == 0)
				ports = v;
			else if (strcmp(k->str, r->dir == POLICY_OUT ? "to" : "from") == 0)
				remote = v;
		}
	}
	/* Spelled as the user wrote it, which is what they will search for. */
	parts[0] = protos;
	parts[1] = cats;
	parts[2] = ports;
	parts[3] = remote;

	if (!protos && !cats)
		append(buf, sizeof(buf), "any");
	for (j = 0; j < 4; j++) {
		const struct ynode *v = parts[j];

		if (!v || ynode_is_null(v))
			continue;
		append(buf, sizeof(buf), "%s%s", buf[0] ? " " : "", intro[j]);
		if (v->kind == YNODE_SCALAR) {
			append(buf, sizeof(buf), "%s", v->str);
		} else if (v->kind == YNODE_SEQ) {
			for (i = 0; i < v->n && i < 3; i++)
				if (v->items[i]->kind == YNODE_SCALAR)
					append(buf, sizeof(buf), "%s%s", i ? "," : "",
					       v->items[i]->str);
			if (v->n > 3)
				append(buf, sizeof(buf), ",...");
		}
	}
	r->label = arena_strdup(l->p->a, buf);
	r->reason = arena_printf(l->p->a, "%s %s by %s", buf, verbs[r->action], r->owner);
	if (!r->label || !r->reason)
		nomem(l);
}

static void parse_rule(struct loader *l, const struct ynode *node, struct policy_rule *r,
		       enum policy_direction dir)
{
	r->dir = dir;
	r->action = POLICY_ALLOW;
	r->file = l->p->file;
	r->line = node->line;
	r->owner = l->owner;
	if (node->kind == YNODE_SCALAR) {
		if (ynode_is_null(node) || strlen(node->str) != node->len) {
			error(l, node, "empty rule");
			return;
		}
		/* "- DNS" is short for "- proto: DNS". */
		r->protos = alloc(l, 1, sizeof(*r->protos));
		if (r->protos)
			proto_item(l, node, r);
	} else if (node->kind == YNODE_MAP) {
		static const char *const selectors[] = { "proto", "category", "ports", "to", "from" };
		char what[16];

		snprintf(what, sizeof(what), "%s rule", dir_names[dir]);
		apply_table(l, node, &rule_tables[dir], r, what);
		if (node->n > 0 && !has_key(node, selectors, ARRAY_SIZE(selectors)))
			error(l, node, "this rule selects nothing; give it 'proto', 'category', "
			      "'ports' or '%s' (or 'proto: any' to match all traffic)",
			      dir == POLICY_OUT ? "to" : "from");
		else if (node->n == 0)
			error(l, node, "empty rule");
	} else if (node->kind == YNODE_SEQ && node->n) {
		/* "- [MDNS, SSDP]" is short for "- proto: [MDNS, SSDP]". */
		struct ynode key = *node;

		key.kind = YNODE_SCALAR;
		key.str = "proto";
		key.len = 5;
		p_protos(l, &key, node, r, NULL);
	} else {
		error(l, node, "a rule is a protocol name, a list of them or a mapping, not %s",
		      kind_name(node));
		return;
	}
	if (!r->n_protos)
		r->any_proto = true;
	rule_label(l, node, r);
}

static void p_rules(struct loader *l, const struct ynode *key, const struct ynode *v,
		    void *obj, const struct field *f)
{
	struct ruleset *rs = (struct ruleset *)((char *)obj + f->off);
	enum policy_direction dir = *(const enum policy_direction *)f->arg;
	size_t i;

	if (ynode_is_null(v))
		return;
	if (v->kind != YNODE_SEQ) {
		error(l, v, "'%s' must be a list of rules, not %s", key->str, kind_name(v));
		return;
	}
	if (!l->owner)
		l->owner = arena_printf(l->p->a, "%s %s", l->owner_kind, l->owner_name);
	rs->v = alloc(l, v->n, sizeof(*rs->v));
	if (!rs->v || !l->owner)
		return;
	rs->n = v->n;
	for (i = 0; i < v->n; i++)
		parse_rule(l, v->items[i], &rs->v[i], dir);
}

/* ---- limits, profiles, devices ------------------------------------------- */

static const struct field limits_fields[] = {
	FIELD("up_per_hour", p_size, struct policy_limits, up_per_hour, 0, 0, NULL),
	FIELD("up_per_day", p_size, struct policy_limits, up_per_day, 0, 0, NULL),
	FIELD("down_per_hour", p_size, struct policy_limits, down_per_hour, 0, 0, NULL),
	FIELD("down_per_day", p_size, struct policy_limits, down_per_day, 0, 0, NULL),
	FIELD("max_endpoints", p_uint, struct policy_limits, max_endpoints, 1, 1000000, NULL),
	FIELD_CALL("new_flow_rate", p_rate, NULL),
	FIELD("over", p_enum, struct policy_limits, over, 0, 0, over_names),
};

static const struct check limits_checks[] = {
	{ CHECK_LE, "up_per_hour", "up_per_day",
	  "'up_per_hour' is more than 'up_per_day', so it could never be reached" },
	{ CHECK_LE, "down_per_hour", "down_per_day",
	  "'down_per_hour' is more than 'down_per_day', so it could never be reached" },
};

static const struct table limits_table = TABLE(limits_fields, limits_checks);

static void p_limits(struct loader *l, const struct ynode *key, const struct ynode *v,
		     void *obj, const struct field *f)
{
	if (want_map(l, key, v))
		apply_table(l, v, &limits_table, (char *)obj + f->off, "limits");
}

static void p_profile_ref(struct loader *l, const struct ynode *key, const struct ynode *v,
			  void *obj, const struct field *f)
{
	struct policy_device *dev = obj;
	const char *s = scalar(l, key, v);
	const char **names;
	char hint[96];
	size_t i;

	(void)f;
	if (!s)
		return;
	dev->profile = name_table_get(l->profiles, s, strlen(s), 0);
	if (dev->profile)
		return;
	names = calloc(l->p->n_profiles ? l->p->n_profiles : 1, sizeof(*names));
	for (i = 0; names && i < l->p->n_profiles; i++)
		names[i] = l->p->profiles[i].name;
	error(l, v, "unknown profile '%s'%s", s,
	      names ? did_you_mean(hint, sizeof(hint), s, names, l->p->n_profiles) : "");
	free(names);
}

static const struct field profile_fields[] = {
	FIELD_CALL("description", p_text, NULL),
	FIELD("mode", p_enum, struct profile, mode, 0, 0, mode_names),
	FIELD("binding_violation", p_enum, struct profile, binding, 0, 0, action_names),
	FIELD("deny_with", p_enum, struct profile, deny_with, 0, 0, deny_with_names),
	FIELD("out", p_rules, struct profile, rules[POLICY_OUT], 0, 0, &dir_out),
	FIELD("in", p_rules, struct profile, rules[POLICY_IN], 0, 0, &dir_in),
	FIELD("limits", p_limits, struct profile, limits, 0, 0, NULL),
};

static const struct table profile_table = TABLE_NOCHECKS(profile_fields);

/* profile before out/in: the reasons of the device's rules name it. */
static const struct field device_fields[] = {
	FIELD_CALL("description", p_text, NULL),
	FIELD_CALL("mac", p_macs, NULL),
	FIELD_CALL("ip", p_dev_ips, NULL),
	FIELD("port", p_ifname, struct policy_device, port, 0, 0, NULL),
	FIELD("vlan", p_uint, struct policy_device, vlan, 1, 4094, NULL),
	FIELD_CALL("profile", p_profile_ref, NULL),
	FIELD("mode", p_enum, struct policy_device, mode_set, 0, 0, mode_names),
	FIELD("binding_violation", p_enum, struct policy_device, binding_set, 0, 0, action_names),
	FIELD("deny_with", p_enum, struct policy_device, deny_with_set, 0, 0, deny_with_names),
	FIELD_CALL("trusted", p_trusted, NULL),
	FIELD("out", p_rules, struct policy_device, rules[POLICY_OUT], 0, 0, &dir_out),
	FIELD("in", p_rules, struct policy_device, rules[POLICY_IN], 0, 0, &dir_in),
	FIELD("limits", p_limits, struct policy_device, own_limits, 0, 0, NULL),
};

static const struct table device_table = TABLE_NOCHECKS(device_fields);

static void p_profiles(struct loader *l, const struct ynode *key, const struct ynode *v,
		       void *obj, const struct field *f)
{
	struct policy *p = obj;
	char what[96];
	size_t i;

	(void)f;
	if (!want_map(l, key, v))
		return;
	p->profiles = alloc(l, v->n, sizeof(*p->profiles));
	if (!p->profiles)
		return;
	for (i = 0; i < v->n; i++) {
		const struct ynode *k = v->items[2 * i], *body = v->items[2 * i + 1];
		struct profile *pr = &p->profiles[p->n_profiles];
		const char *err;
		void *old = NULL;

		if (k->kind != YNODE_SCALAR) {
			error(l, k, "profile names must be strings, not %s", kind_name(k));
			continue;
		}
		err = value_name(k->str);
		if (err) {
			error(l, k, "'%s' is not a valid profile name: %s", k->str, err);
			continue;
		}
		pr->name = arena_strdup(p->a, k->str);
		if (!pr->name) {
			nomem(l);
			return;
		}
		pr->line = k->line;
		pr->mode = -1;
		pr->binding = -1;
		pr->deny_with = -1;
		if (name_table_add(l->profiles, pr->name, 0, pr, &old) == -EEXIST) {
			error(l, k, "duplicate profile '%s' (first at line %u)", k->str,
			      ((const struct profile *)old)->line);
			continue;
		}
		p->n_profiles++;
		l->owner = NULL;
		l->owner_kind = "profile";
		l->owner_name = pr->name;
		snprintf(what, sizeof(what), "profile '%s'", pr->name);
		if (want_map(l, k, body))
			apply_table(l, body, &profile_table, pr, what);
	}
}

static const char *const identities[] = { "mac", "ip", "port", "vlan" };

static void p_devices(struct loader *l, const struct ynode *key, const struct ynode *v,
		      void *obj, const struct field *f)
{
	struct policy *p = obj;
	char what[96];
	size_t i;

	(void)f;
	if (!want_map(l, key, v))
		return;
	/* The names were registered by prescan_devices(); fill in the bodies. */
	for (i = 0; i < v->n; i++) {
		const struct ynode *k = v->items[2 * i], *body = v->items[2 * i + 1];
		struct policy_device *dev;

		if (k->kind != YNODE_SCALAR)
			continue;
		dev = name_table_get(p->by_name, k->str, strlen(k->str), 0);
		if (!dev || dev->line != k->line || dev->parsed)
			continue;	/* a duplicate, already reported */
		dev->parsed = true;
		l->owner = NULL;
		l->owner_kind = "device";
		l->owner_name = dev->name;
		snprintf(what, sizeof(what), "device '%s'", dev->name);
		if (want_map(l, k, body))
			apply_table(l, body, &device_table, dev, what);
		if ((body->kind == YNODE_MAP || ynode_is_null(body)) &&
		    !has_key(body, identities, ARRAY_SIZE(identities)))
			error(l, k, "device '%s' has no mac, ip, port or vlan, so no traffic can "
			      "match it", dev->name);
	}
}

static const struct field defaults_fields[] = {
	FIELD("mode", p_enum, struct policy, mode, 0, 0, mode_names),
	FIELD("unknown_device", p_enum, struct policy, unknown_action, 0, 0, action_names),
	FIELD("binding_violation", p_enum, struct policy, binding, 0, 0, action_names),
	FIELD("deny_with", p_enum, struct policy, deny_with, 0, 0, deny_with_names),
	FIELD("inspect_packets", p_uint, struct policy, inspect_packets, 1, 255, NULL),
	FIELD("alert_rearm", p_duration, struct policy, alert_rearm_ms, 1000, 7 * 86400000ULL, NULL),
};

static const struct table defaults_table = TABLE_NOCHECKS(defaults_fields);

static void p_defaults(struct loader *l, const struct ynode *key, const struct ynode *v,
		       void *obj, const struct field *f)
{
	(void)f;
	((struct policy *)obj)->defaults_line = key->line;
	if (want_map(l, key, v))
		apply_table(l, v, &defaults_table, obj, "defaults");
}

/* Order matters: profiles name devices in their rules, devices name profiles. */
static const struct field top_fields[] = {
	FIELD_CALL("version", p_version, NULL),
	FIELD_CALL("defaults", p_defaults, NULL),
	FIELD_CALL("lan", p_lan, NULL),
	FIELD_CALL("profiles", p_profiles, NULL),
	FIELD_CALL("devices", p_devices, NULL),
};

static const struct table top_table = TABLE_NOCHECKS(top_fields);

static const char *const reserved_names[] = { "lan", "wan", "any", "unknown" };

/*
 * Register every device name before any rule is parsed, so that a profile's
 * rule can say "from: nvr" whatever the order of the file.
 */
static void prescan_devices(struct loader *l, const struct ynode *root)
{
	struct policy *p = l->p;
	const struct ynode *v = NULL;
	size_t i, j;

	for (i = 0; i < root->n; i++) {
		const struct ynode *k = root->items[2 * i];

		if (k->kind == YNODE_SCALAR && strcmp(k->str, "devices") == 0)
			v = root->items[2 * i + 1];
	}
	if (!v || v->kind != YNODE_MAP)
		return;
	p->devices = alloc(l, v->n, sizeof(*p->devices));
	l->device_names = calloc(v->n + 2, sizeof(*l->device_names));
	if (!p->devices || !l->device_names) {
		nomem(l);
		return;
	}
	for (i = 0; i < v->n; i++) {
		const struct ynode *k = v->items[2 * i];
		struct policy_device *dev = &p->devices[p->n_devices];
		const char *err;
		void *old = NULL;
		bool reserved = false;

		if (k->kind != YNODE_SCALAR) {
			error(l, k, "device names must be strings, not %s", kind_name(k));
			continue;
		}
		err = value_name(k->str);
		if (err) {
			error(l, k, "'%s' is not a valid device name: %s", k->str, err);
			continue;
		}
		for (j = 0; j < ARRAY_SIZE(reserved_names); j++)
			reserved |= strcmp(k->str, reserved_names[j]) == 0;
		if (reserved) {
			error(l, k, "'%s' is a reserved word and cannot name a device", k->str);
			continue;
		}
		dev->name = arena_strdup(p->a, k->str);
		if (!dev->name) {
			nomem(l);
			return;
		}
		dev->line = k->line;
		dev->mode_set = -1;
		dev->binding_set = -1;
		dev->deny_with_set = -1;
		if (name_table_add(p->by_name, dev->name, 0, dev, &old) == -EEXIST) {
			error(l, k, "duplicate device '%s' (first at line %u)", k->str,
			      ((const struct policy_device *)old)->line);
			continue;
		}
		l->device_names[l->n_device_names++] = dev->name;
		p->n_devices++;
	}
	l->device_names[l->n_device_names++] = "lan";
	l->device_names[l->n_device_names++] = "wan";
}

/* ---- after parsing ---------------------------------------------------------- */

static void merge_limits(struct policy_limits *out, const struct policy_limits *own,
			 const struct policy_limits *prof)
{
	*out = *own;
	if (!prof)
		return;
#define TAKE(f) if (!out->f) out->f = prof->f
	TAKE(up_per_hour);
	TAKE(up_per_day);
	TAKE(down_per_hour);
	TAKE(down_per_day);
	TAKE(max_endpoints);
	TAKE(every_ms);
	TAKE(tolerance_ms);
	TAKE(over);
#undef TAKE
	if (!out->new_flows) {
		out->new_flows = prof->new_flows;
		out->new_flows_window_ms = prof->new_flows_window_ms;
	}
}

/*
 * trusted: the kernel allows the device's flows to the WAN at their first
 * packet, matching its MAC and addresses, without the daemon.  That is
 * only what the policy says if its first out rule allows anything, and it
 * only names one machine if it declares a MAC and host addresses.
 */
static void check_trusted(struct loader *l, struct policy_device *dev)
{
	const struct policy_rule *first = NULL;
	const struct ynode *n = dev->trusted_node;
	uint32_t i;

	if (!dev->trusted)
		return;
	if (dev->rules[POLICY_OUT].n)
		first = &dev->rules[POLICY_OUT].v[0];
	else if (dev->profile && dev->profile->rules[POLICY_OUT].n)
		first = &dev->profile->rules[POLICY_OUT].v[0];
	if (!dev->n_macs || !dev->n_prefixes) {
		error(l, n, "trusted device '%s' needs a mac and an ip: the kernel "
		      "matches both", dev->name);
		return;
	}
	for (i = 0; i < dev->n_prefixes; i++)
		if (dev->prefixes[i].len != (dev->prefixes[i].family == AF_INET ? 32 : 128)) {
			error(l, n, "trusted device '%s' has an address range; it must "
			      "declare host addresses", dev->name);
			return;
		}
	if (!first || first->action != POLICY_ALLOW || policy_rule_names_service(first) ||
	    first->has_remote || first->limits.every_ms) {
		error(l, n, "trusted device '%s': its first out rule must allow any; the "
		      "kernel allows its flows to the WAN without asking the rules", dev->name);
		return;
	}
	if (dev->mode == POLICY_MODE_LEARN)
		error(l, n, "trusted device '%s' is in learn mode: learning needs to see "
		      "its flows", dev->name);
}

static void finish_device(struct loader *l, struct policy_device *dev)
{
	struct policy *p = l->p;
	const struct profile *pr = dev->profile;
	int d;

	dev->mode = dev->mode_set >= 0 ? (enum policy_mode)dev->mode_set
		  : pr && pr->mode >= 0 ? (enum policy_mode)pr->mode : p->mode;
	dev->binding = dev->binding_set >= 0 ? (enum policy_action)dev->binding_set
		     : pr && pr->binding >= 0 ? (enum policy_action)pr->binding : p->binding;
	dev->deny_with = dev->deny_with_set >= 0 ? (enum policy_deny_with)dev->deny_with_set
		       : pr && pr->deny_with >= 0 ? (enum policy_deny_with)pr->deny_with
		       : p->deny_with;
	dev->fallthrough = POLICY_DENY;
	merge_limits(&dev->limits, &dev->own_limits, pr ? &pr->limits : NULL);
	for (d = 0; d < __POLICY_DIRECTION_MAX; d++) {
		/* One string per profile, not per device: 10 000 devices load fast. */
		if (pr && !dev->rules[d].n && pr->nomatch_reason[d])
			dev->nomatch_reason[d] = pr->nomatch_reason[d];
		else if (pr)
			dev->nomatch_reason[d] =
				arena_printf(p->a, "no %s rule of device %s (profile %s) matched",
					     dir_names[d], dev->name, pr->name);
		else
			dev->nomatch_reason[d] = arena_printf(p->a, "no %s rule of device %s matched",
							      dir_names[d], dev->name);
		if (!dev->nomatch_reason[d])
			nomem(l);
	}
	/* A port or VLAN identifies a device only when no MAC does. */
	if (!dev->n_macs && (dev->port || dev->vlan)) {
		void *old = NULL;
		int rc = name_table_add(p->by_port, dev->port ? dev->port : "", dev->vlan, dev, &old);

		if (rc == -EEXIST)
			warning(l, NULL, "devices '%s' and '%s' are both identified by the same port "
				"and vlan; '%s' wins", ((struct policy_device *)old)->name, dev->name,
				((struct policy_device *)old)->name);
		else if (rc < 0)
			nomem(l);
	}
	check_trusted(l, dev);
}

/* A device's prefix inside another device's shorter one: legal, but likely a slip. */
static void check_overlaps(struct loader *l)
{
	struct policy *p = l->p;
	char outer[64] = "?";
	size_t i, j;

	for (i = 0; i < p->n_devices; i++) {
		const struct policy_device *dev = &p->devices[i];

		for (j = 0; j < dev->n_prefixes; j++) {
			const struct value_prefix *pf = &dev->prefixes[j];
			const struct policy_device *o;
			unsigned len = 0, k;

			if (pf->len == 0)
				continue;
			o = prefix_table_match(p->by_ip, pf->family, pf->addr, pf->len - 1u, &len);
			if (!o || o == dev)
				continue;
			/* Name the other device's prefix as it was declared. */
			for (k = 0; k < o->n_prefixes; k++)
				if (o->prefixes[k].len == len && value_prefix_contains(&o->prefixes[k], pf))
					value_prefix_format(&o->prefixes[k], outer, sizeof(outer));
			warning(l, dev->prefix_nodes[j],
				"'%s' of device '%s' overlaps %s of device '%s' (line %u); "
				"the longest prefix wins", ((const struct ynode *)dev->prefix_nodes[j])->str,
				dev->name, outer, o->name, o->line);
		}
	}
}

static void finish(struct loader *l)
{
	struct policy *p = l->p;
	const struct profile *def = name_table_get(l->profiles, "default", 7, 0);
	size_t i;

	for (i = 0; i < p->n_profiles; i++) {
		struct profile *pr = &p->profiles[i];
		int d;

		for (d = 0; d < __POLICY_DIRECTION_MAX; d++)
			if (!(pr->nomatch_reason[d] = arena_printf(p->a, "no %s rule of profile %s "
								   "matched", dir_names[d], pr->name)))
				nomem(l);
	}
	for (i = 0; i < p->n_devices; i++)
		finish_device(l, &p->devices[i]);
	check_overlaps(l);

	/* Undeclared LAN endpoints: the `default` profile if there is one.
	 * Without one they get no service rules (everything passes) and only
	 * `unknown_device` decides. */
	p->implicit_default.name = "default";
	p->implicit_default.mode = -1;
	p->implicit_default.binding = -1;
	p->implicit_default.deny_with = -1;
	p->unknown.name = "unknown";
	p->unknown.line = def ? def->line : 0;	/* where its rules come from */
	p->unknown.unknown = true;
	p->unknown.profile = def ? def : &p->implicit_default;
	p->unknown.mode_set = -1;
	p->unknown.binding_set = -1;
	p->unknown.deny_with_set = -1;
	finish_device(l, &p->unknown);
	if (!def) {
		p->unknown.fallthrough = POLICY_ALLOW;
		p->unknown.nomatch_reason[POLICY_OUT] = "unknown device (no default profile)";
		p->unknown.nomatch_reason[POLICY_IN] = "unknown device (no default profile)";
	}
}

/* ---- entry points ------------------------------------------------------------ */

static const char *const default_lan[] = {
	"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7", "fe80::/10",
};

static struct policy *policy_new(const char *name)
{
	struct policy *p = calloc(1, sizeof(*p));
	size_t i;

	if (!p)
		return NULL;
	p->a = arena_new();
	p->lan = prefix_table_new();
	p->by_mac = mac_table_new();
	p->by_ip = prefix_table_new();
	p->by_port = name_table_new(false);
	p->by_name = name_table_new(false);
	p->protos = name_table_new(true);
	p->cats = name_table_new(true);
	if (!p->a || !p->lan || !p->by_mac || !p->by_ip || !p->by_port || !p->by_name ||
	    !p->protos || !p->cats)
		goto fail;
	p->file = arena_strdup(p->a, name);
	if (!p->file)
		goto fail;
	p->mode = POLICY_MODE_ENFORCE;
	p->unknown_action = POLICY_ALERT;
	p->binding = POLICY_ALERT;
	p->deny_with = POLICY_DENY_DROP;
	p->inspect_packets = 8;
	p->alert_rearm_ms = 5 * 60 * 1000;
	p->lan_list = arena_calloc(p->a, ARRAY_SIZE(default_lan), sizeof(*p->lan_list));
	if (!p->lan_list)
		goto fail;
	for (i = 0; i < ARRAY_SIZE(default_lan); i++) {
		struct value_prefix pf;

		value_prefix(default_lan[i], &pf);
		if (prefix_table_add(p->lan, pf.family, pf.addr, pf.len, p, NULL) < 0)
			goto fail;
		p->lan_list[p->n_lan++] = pf;
	}
	return p;
fail:
	policy_free(p);
	errno = ENOMEM;
	return NULL;
}

static int vocab_tables(struct loader *l, const struct policy_vocab *vocab)
{
	static const char *const always_protos[] = { "Unknown", "any" };
	static const char *const always_cats[] = { "Unspecified" };
	size_t i;

	if (!vocab)
		return 0;
	l->vocab_protos = name_table_new(true);
	l->vocab_cats = name_table_new(true);
	l->proto_cands = calloc(vocab->n_protocols + 2, sizeof(char *));
	l->cat_cands = calloc(vocab->n_categories + 1, sizeof(char *));
	if (!l->vocab_protos || !l->vocab_cats || !l->proto_cands || !l->cat_cands)
		return -ENOMEM;
	for (i = 0; i < vocab->n_protocols; i++) {
		if (!vocab->protocols[i])
			continue;
		if (name_table_add(l->vocab_protos, vocab->protocols[i], 0, (void *)1, NULL) == -ENOMEM)
			return -ENOMEM;
		l->proto_cands[l->n_proto_cands++] = vocab->protocols[i];
	}
	for (i = 0; i < vocab->n_categories; i++) {
		if (!vocab->categories[i])
			continue;
		if (name_table_add(l->vocab_cats, vocab->categories[i], 0, (void *)1, NULL) == -ENOMEM)
			return -ENOMEM;
		l->cat_cands[l->n_cat_cands++] = vocab->categories[i];
	}
	for (i = 0; i < ARRAY_SIZE(always_protos); i++) {
		if (name_table_add(l->vocab_protos, always_protos[i], 0, (void *)1, NULL) == -ENOMEM)
			return -ENOMEM;
		l->proto_cands[l->n_proto_cands++] = always_protos[i];
	}
	for (i = 0; i < ARRAY_SIZE(always_cats); i++)
		if (name_table_add(l->vocab_cats, always_cats[i], 0, (void *)1, NULL) == -ENOMEM)
			return -ENOMEM;
	return 0;
}

struct policy *policy_load_buffer(const char *name, const char *buf, size_t len,
				  const struct policy_vocab *vocab,
				  struct policy_diag **diag)
{
	struct loader l = { 0 };
	struct arena *tree = NULL;
	struct ynode *root;
	int err = EINVAL;

	if (diag)
		*diag = NULL;
	if (!name || (!buf && len)) {
		errno = EINVAL;
		return NULL;
	}
	l.d = diag_new(name);
	l.p = policy_new(name);
	l.profiles = name_table_new(false);
	tree = arena_new();
	if (!l.d || !l.p || !l.profiles || !tree || vocab_tables(&l, vocab) < 0) {
		err = ENOMEM;
		goto out;
	}
	diag_set_source(l.d, buf, len);
	root = yaml_parse_tree(tree, buf ? buf : "", len, l.d);
	if (!root)
		goto out;
	if (ynode_is_null(root)) {
		error(&l, NULL, "the policy is empty");
	} else if (root->kind != YNODE_MAP) {
		error(&l, root, "a policy is a mapping of lan, defaults, profiles and devices, "
		      "not %s", kind_name(root));
	} else {
		prescan_devices(&l, root);
		apply_table(&l, root, &top_table, l.p, "the policy");
		finish(&l);
	}
	if (l.nomem)
		err = ENOMEM;
out:
	diag_set_source(l.d, NULL, 0);
	diag_sort(l.d);
	arena_free(tree);
	name_table_free(l.profiles);
	name_table_free(l.vocab_protos);
	name_table_free(l.vocab_cats);
	free(l.proto_cands);
	free(l.cat_cands);
	free(l.device_names);
	if (!l.d || !l.p || policy_diag_count(l.d, POLICY_ERROR) || l.nomem) {
		policy_free(l.p);
		l.p = NULL;
		errno = err;
	}
	if (diag)
		*diag = l.d;
	else
		policy_diag_free(l.d);
	return l.p;
}

struct policy *policy_load(const char *path, const struct policy_vocab *vocab,
			   struct policy_diag **diag)
{
	struct policy *p;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, err;

	if (diag)
		*diag = NULL;
	if (!path) {
		errno = EINVAL;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)POLICY_MAX_FILE) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto fail;
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	p = policy_load_buffer(path, buf, len, vocab, diag);
	err = errno;
	free(buf);
	errno = err;
	return p;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	if (diag) {
		*diag = diag_new(path);
		diag_add(*diag, POLICY_ERROR, 0, 0, 0, "cannot read: %s",
			 err == EINVAL ? "not a regular file" : strerror(err));
	}
	errno = err;
	return NULL;
}
