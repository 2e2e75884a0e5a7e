/* ctacct.c - conntrack accounting: /proc/net/nf_conntrack parser and the
 * per-flow delta tracker. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "daemon/ctacct.h"
#include "daemon/flow.h"
#include "daemon/packet.h"

#define IPPROTO_ICMP_		1
#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17

/* --- parser ---------------------------------------------------------------- */

/* The L4 fields a tuple carries, by the name the kernel printed (its
 * print_tuple() switches on the tracker, and so does the name). */
enum shape {
	SHAPE_NONE,
	SHAPE_PORTS,
	SHAPE_ICMP,
	SHAPE_GRE,
};

/* Per-tuple fields, as bits of a "seen" mask. */
#define T_SRC		0x001
#define T_DST		0x002
#define T_SPORT		0x004
#define T_DPORT		0x008
#define T_TYPE		0x010
#define T_CODE		0x020
#define T_ID		0x040
#define T_SRCKEY	0x080
#define T_DSTKEY	0x100
#define T_PACKETS	0x200
#define T_BYTES		0x400
#define T_L4		(T_SPORT | T_DPORT | T_TYPE | T_CODE | T_ID | \
			 T_SRCKEY | T_DSTKEY)
#define T_ACCT		(T_PACKETS | T_BYTES)

static const unsigned shape_fields[] = {
	[SHAPE_NONE] = 0,
	[SHAPE_PORTS] = T_SPORT | T_DPORT,
	[SHAPE_ICMP] = T_TYPE | T_CODE | T_ID,
	[SHAPE_GRE] = T_SRCKEY | T_DSTKEY,
};

static const struct {
	const char *name;
	int proto;		/* -1: any */
	enum shape shape;
} l4_names[] = {
	{ "tcp", 6, SHAPE_PORTS },
	{ "udp", 17, SHAPE_PORTS },
	{ "udplite", 136, SHAPE_PORTS },
	{ "dccp", 33, SHAPE_PORTS },
	{ "sctp", 132, SHAPE_PORTS },
	{ "icmp", 1, SHAPE_ICMP },
	{ "icmpv6", 58, SHAPE_ICMP },
	{ "gre", 47, SHAPE_GRE },
	/* A protocol without a tracker of its own (or whose tracker is not
	 * loaded): the generic one, no L4 fields. */
	{ "unknown", -1, SHAPE_NONE },
};

struct tok {
	const char *p;
	size_t n;
};

/* The next run of non-space bytes at or after *POS; false at the end. */
static bool next_tok(const char *s, size_t len, size_t *pos, struct tok *t)
{
	size_t i = *pos;

	while (i < len && s[i] == ' ')
		i++;
	if (i == len) {
		*pos = i;
		return false;
	}
	t->p = s + i;
	while (i < len && s[i] != ' ')
		i++;
	t->n = (size_t)(s + i - t->p);
	*pos = i;
	return true;
}

static bool tok_is(struct tok t, const char *s)
{
	size_t n = strlen(s);

	return t.n == n && !memcmp(t.p, s, n);
}

/* Decimal, no sign, at most MAX. */
static int parse_dec(struct tok t, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (!t.n)
		return -EINVAL;
	for (i = 0; i < t.n; i++) {
		unsigned d = (unsigned)((unsigned char)t.p[i] - '0');

		if (d > 9 || x > (max - d) / 10)
			return -EINVAL;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

/* "0x" and hex digits, at most MAX (the GRE keys, printed "0x%x"). */
static int parse_hex(struct tok t, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (t.n < 3 || t.p[0] != '0' || t.p[1] != 'x')
		return -EINVAL;
	for (i = 2; i < t.n; i++) {
		unsigned char c = (unsigned char)t.p[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		if (x > (max - d) / 16)
			return -EINVAL;
		x = x * 16 + d;
	}
	*v = x;
	return 0;
}

static int parse_addr(struct tok t, int family, uint8_t out[16])
{
	char buf[INET6_ADDRSTRLEN];

	/* inet_pton wants a terminated string: copy, bounded. */
	if (!t.n || t.n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, t.p, t.n);
	buf[t.n] = '\0';
	memset(out, 0, 16);
	return inet_pton(family, buf, out) == 1 ? 0 : -EINVAL;
}

struct pstate {
	struct ctacct_line *l;
	enum shape shape;
	int cur;		/* tuple being filled: -1 before the first src= */
	unsigned seen[2];	/* T_* per tuple */
	bool mark, zone, use;
};

/* One per-tuple field, already known to belong to tuple S->cur. */
static int tuple_field(struct pstate *s, unsigned bit, struct tok v)
{
	struct ctacct_tuple *t = &s->l->tuple[s->cur];
	int family = s->l->family;
	uint64_t x;
	int r;

	if (s->seen[s->cur] & bit)
		return -EINVAL;		/* twice in one tuple */
	s->seen[s->cur] |= bit;
	switch (bit) {
	case T_DST:
		return parse_addr(v, family, t->dst);
	case T_SPORT:
	case T_DPORT:
	case T_ID:
		if ((r = parse_dec(v, UINT16_MAX, &x)))
			return r;
		if (bit == T_SPORT)
			t->sport = (uint16_t)x;
		else if (bit == T_DPORT)
			t->dport = (uint16_t)x;
		else
			t->icmp_id = (uint16_t)x;
		return 0;
	case T_TYPE:
	case T_CODE:
		if ((r = parse_dec(v, UINT8_MAX, &x)))
			return r;
		if (bit == T_TYPE)
			t->icmp_type = (uint8_t)x;
		else
			t->icmp_code = (uint8_t)x;
		return 0;
	case T_SRCKEY:
	case T_DSTKEY:
		if ((r = parse_hex(v, UINT16_MAX, &x)))
			return r;
		t->gre_key[bit == T_DSTKEY] = (uint16_t)x;
		return 0;
	case T_PACKETS:
		return parse_dec(v, UINT64_MAX, &s->l->packets[s->cur]);
	case T_BYTES:
		return parse_dec(v, UINT64_MAX, &s->l->bytes[s->cur]);
	}
	return -EINVAL;
}

static const struct {
	const char *key;
	unsigned bit;
} tuple_keys[] = {
	{ "dst", T_DST }, { "sport", T_SPORT }, { "dport", T_DPORT },
	{ "type", T_TYPE }, { "code", T_CODE }, { "id", T_ID },
	{ "srckey", T_SRCKEY }, { "dstkey", T_DSTKEY },
	{ "packets", T_PACKETS }, { "bytes", T_BYTES },
};

static int keyval(struct pstate *s, struct tok k, struct tok v)
{
	uint64_t x;
	size_t i;

	if (!k.n)
		return -EINVAL;
	if (tok_is(k, "src")) {
		if (s->cur == 1)
			return -EINVAL;		/* a third tuple */
		s->cur++;
		s->seen[s->cur] |= T_SRC;
		return parse_addr(v, s->l->family, s->l->tuple[s->cur].src);
	}
	for (i = 0; i < sizeof(tuple_keys) / sizeof(tuple_keys[0]); i++) {
		if (!tok_is(k, tuple_keys[i].key))
			continue;
		if (s->cur < 0)
			return -EINVAL;		/* before any tuple */
		return tuple_field(s, tuple_keys[i].bit, v);
	}
	if (tok_is(k, "mark")) {
		if (s->mark || parse_dec(v, UINT32_MAX, &x))
			return -EINVAL;
		s->mark = true;
		s->l->mark = (uint32_t)x;
		s->l->flags |= CTACCT_L_HAS_MARK;
		return 0;
	}
	/* Only one of the three is ever printed: the zone has one
	 * direction (or none). */
	if (tok_is(k, "zone") || tok_is(k, "zone-orig") ||
	    tok_is(k, "zone-reply")) {
		if (s->zone || parse_dec(v, UINT16_MAX, &x))
			return -EINVAL;
		s->zone = true;
		s->l->zone = (uint16_t)x;
		return 0;
	}
	if (tok_is(k, "use")) {
		s->use = true;
		return parse_dec(v, UINT32_MAX, &x);
	}
	/* secctx=, delta-time=, GRE's "timeout=N, stream_timeout=N" before
	 * the tuples, whatever a later kernel adds: not ours. */
	return 0;
}

static void flag(struct pstate *s, struct tok t)
{
	if (tok_is(t, "[UNREPLIED]"))
		s->l->flags |= CTACCT_L_UNREPLIED;
	else if (tok_is(t, "[ASSURED]"))
		s->l->flags |= CTACCT_L_ASSURED;
	else if (tok_is(t, "[OFFLOAD]"))
		s->l->flags |= CTACCT_L_OFFLOAD;
	else if (tok_is(t, "[HW_OFFLOAD]"))
		s->l->flags |= CTACCT_L_OFFLOAD | CTACCT_L_HW_OFFLOAD;
}

/* The four header fields: "ipv4 2 tcp 6". */
static int header(struct pstate *s, const char *line, size_t len, size_t *pos)
{
	struct tok t[4];
	uint64_t l3, l4;
	size_t i;

	for (i = 0; i < 4; i++)
		if (!next_tok(line, len, pos, &t[i]))
			return -EINVAL;
	if (parse_dec(t[1], UINT8_MAX, &l3) || parse_dec(t[3], UINT8_MAX, &l4))
		return -EINVAL;
	if (tok_is(t[0], "ipv4") && l3 == AF_INET)
		s->l->family = AF_INET;
	else if (tok_is(t[0], "ipv6") && l3 == AF_INET6)
		s->l->family = AF_INET6;
	else
		return -EINVAL;
	s->l->ip_proto = (uint8_t)l4;
	for (i = 0; i < sizeof(l4_names) / sizeof(l4_names[0]); i++) {
		if (!tok_is(t[2], l4_names[i].name))
			continue;
		if (l4_names[i].proto >= 0 && l4_names[i].proto != (int)l4)
			return -EINVAL;
		s->shape = l4_names[i].shape;
		return 0;
	}
	return -EINVAL;
}

static int parse_line(const char *line, size_t len, struct ctacct_line *out)
{
	struct pstate s = { .l = out, .cur = -1 };
	struct tok t, k, v;
	size_t pos = 0, i;
	unsigned acct;
	const char *eq;

	if (len && line[len - 1] == '\n')
		len--;
	/* One line of text: no control character (a NUL, a second '\n')
	 * anywhere, so nothing below meets one. */
	for (i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			return -EINVAL;
	if (header(&s, line, len, &pos))
		return -EINVAL;
	while (next_tok(line, len, &pos, &t)) {
		if (s.use)
			return -EINVAL;		/* use= is the last field */
		if (t.n >= 2 && t.p[0] == '[' && t.p[t.n - 1] == ']') {
			flag(&s, t);
			continue;
		}
		eq = memchr(t.p, '=', t.n);
		if (!eq) {
			/* The timeout, the TCP/SCTP/DCCP state: words before
			 * the tuples.  Anything else is not a field. */
			if (s.cur >= 0)
				return -EINVAL;
			continue;
		}
		k.p = t.p;
		k.n = (size_t)(eq - t.p);
		v.p = eq + 1;
		v.n = t.n - k.n - 1;
		if (keyval(&s, k, v))
			return -EINVAL;
	}
	if (!s.use || s.cur != 1)
		return -EINVAL;
	for (i = 0; i < 2; i++) {
		if ((s.seen[i] & (T_SRC | T_DST)) != (T_SRC | T_DST) ||
		    (s.seen[i] & T_L4) != shape_fields[s.shape])
			return -EINVAL;
	}
	acct = (s.seen[0] & T_ACCT) | (s.seen[1] & T_ACCT) << 2;
	if (acct == 0)
		return -ENODATA;
	if (acct != (T_ACCT | T_ACCT << 2))
		return -EINVAL;		/* half the counters: cut or forged */
	return 0;
}

int ctacct_parse_line(const char *line, size_t len, struct ctacct_line *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	r = parse_line(line, len, out);
	if (r == -EINVAL)	/* nothing half-filled is handed out */
		memset(out, 0, sizeof(*out));
	return r;
}

int ctacct_line_key(const struct ctacct_line *l, struct flow_key *k)
{
	struct packet p;

	/* Built as a packet of the original direction, as the forward hook
	 * sees it (sender before SNAT, responder after DNAT), and keyed by
	 * flow_key_from_packet() itself, so the two agree by construction. */
	memset(&p, 0, sizeof(p));
	p.family = l->family;
	p.ip_proto = l->ip_proto;
	memcpy(p.src, l->tuple[0].src, 16);
	memcpy(p.dst, l->tuple[1].src, 16);
	/* packet.c sets ports for TCP and UDP only. */
	if (l->ip_proto == IPPROTO_TCP_ || l->ip_proto == IPPROTO_UDP_) {
		p.sport = l->tuple[0].sport;
		p.dport = l->tuple[1].sport;
	}
	return flow_key_from_packet(k, &p);
}

/* --- tracker --------------------------------------------------------------- */

#define NIL UINT32_MAX
#define SWEEP_CHUNK 4096	/* records per lock hold in the sweep */

/*
 * Two pools allocated once, each with chained hash buckets holding indices
 * and a free list threaded through the chain links:
 *   - flows, keyed by flow key (VLAN 0): what the workers registered;
 *   - entries, keyed by the conntrack entry's identity (original tuple with
 *     its L4 fields, zone): the counters last read, for the deltas.  An
 *     entry belongs to one flow; a flow lists its entries through fnext.
 *
 * Liveness is by poll generation: each poll takes the next generation and
 * stamps what it reads; the sweep at its end counts what was not stamped.
 */
struct ct_ident {
	uint8_t src[16], dst[16];
	uint16_t l4[2];		/* ports, ICMP id and type<<8|code, GRE keys */
	uint16_t zone;
	uint8_t family, proto;
};

struct frec {
	struct flow_key key;
	uint64_t owed_bytes[2], owed_packets[2];	/* up, down */
	uint32_t slot;
	uint32_t chain;		/* bucket chain, or free list */
	uint32_t entries;	/* first entry of the flow */
	uint32_t tracked_gen;	/* generation current when tracked */
	uint32_t seen_gen;	/* last generation a line matched */
	uint32_t found_gen;	/* first generation with counters */
	uint8_t initiator;
	uint8_t missed;		/* polls in a row without a line */
	bool live;
	bool found;
};

struct erec {
	struct ct_ident id;
	uint64_t packets[2], bytes[2];	/* last read; [0] original dir */
	uint32_t flow;
	uint32_t chain;
	uint32_t fnext;
	uint32_t seen_gen;
	uint8_t orig_side;	/* key side that sends the original dir */
	uint8_t missed;
	bool live;
};

struct pool_hash {
	uint32_t *bucket;
	uint32_t mask;
};

struct ctacct {
	pthread_mutex_t lock;
	struct frec *f;
	struct erec *e;
	struct pool_hash fh, eh;
	uint32_t fcap, ecap;
	uint32_t ffree, efree;
	/* Records never used yet start here: memory is touched (and the
	 * sweep walks) only as far as the busiest moment went, not to the
	 * capacity, which a router sizes for its worst case. */
	uint32_t fused, eused;
	uint32_t nflows, nentries;
	uint64_t seed;
	uint32_t gen;
	uint8_t forget_polls;
	uint64_t track_full, forgotten, polls, last_poll_ms;
};

/* Multiply-xorshift over the bytes, seeded per tracker (as flow.c): the
 * keys come from the network. */
static uint32_t hash_bytes(uint64_t seed, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = seed, w;

	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		h ^= w;
		h *= 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	if (n) {
		w = 0;
		memcpy(&w, b, n);
		h ^= w;
		h *= 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static int hash_init(struct pool_hash *h, uint32_t cap)
{
	uint32_t n = 1, i;

	while (n < cap)
		n <<= 1;
	h->bucket = malloc((size_t)n * sizeof(*h->bucket));
	if (!h->bucket)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		h->bucket[i] = NIL;
	h->mask = n - 1;
	return 0;
}

struct ctacct *ctacct_new(size_t capacity)
{
	struct ctacct *a;

	if (!capacity || capacity > CTACCT_MAX_CAPACITY) {
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->fcap = (uint32_t)capacity;
	a->ecap = 2 * a->fcap;
	a->f = calloc(a->fcap, sizeof(*a->f));
	a->e = calloc(a->ecap, sizeof(*a->e));
	if (!a->f || !a->e || hash_init(&a->fh, a->fcap) ||
	    hash_init(&a->eh, a->ecap) ||
	    pthread_mutex_init(&a->lock, NULL)) {
		free(a->f);
		free(a->e);
		free(a->fh.bucket);
		free(a->eh.bucket);
		free(a);
		errno = ENOMEM;
		return NULL;
	}
	a->ffree = a->efree = NIL;
	a->fused = a->eused = 0;
	if (getrandom(&a->seed, sizeof(a->seed), GRND_NONBLOCK) !=
	    sizeof(a->seed))
		a->seed = 0xc7acc7acc7acc7acULL ^ (uintptr_t)a;
	a->gen = 1;
	a->forget_polls = CTACCT_FORGET_POLLS;
	return a;
}

void ctacct_free(struct ctacct *a)
{
	if (!a)
		return;
	pthread_mutex_destroy(&a->lock);
	free(a->f);
	free(a->e);
	free(a->fh.bucket);
	free(a->eh.bucket);
	free(a);
}

int ctacct_set_forget_polls(struct ctacct *a, unsigned polls)
{
	if (!polls || polls > UINT8_MAX)
		return -EINVAL;
	pthread_mutex_lock(&a->lock);
	a->forget_polls = (uint8_t)polls;
	pthread_mutex_unlock(&a->lock);
	return 0;
}

static uint32_t *fbucket(struct ctacct *a, const struct flow_key *k)
{
	return &a->fh.bucket[hash_bytes(a->seed, k, sizeof(*k)) & a->fh.mask];
}

static uint32_t *ebucket(struct ctacct *a, const struct ct_ident *id)
{
	return &a->eh.bucket[hash_bytes(a->seed, id, sizeof(*id)) &
			     a->eh.mask];
}

static uint32_t flookup(struct ctacct *a, const struct flow_key *k)
{
	uint32_t i = *fbucket(a, k);

	while (i != NIL && memcmp(&a->f[i].key, k, sizeof(*k)))
		i = a->f[i].chain;
	return i;
}

static uint32_t elookup(struct ctacct *a, const struct ct_ident *id)
{
	uint32_t i = *ebucket(a, id);

	while (i != NIL && memcmp(&a->e[i].id, id, sizeof(*id)))
		i = a->e[i].chain;
	return i;
}

static void entry_free(struct ctacct *a, uint32_t i)
{
	struct erec *e = &a->e[i];
	uint32_t *p = ebucket(a, &e->id);

	while (*p != i)
		p = &a->e[*p].chain;
	*p = e->chain;
	p = &a->f[e->flow].entries;
	while (*p != i)
		p = &a->e[*p].fnext;
	*p = e->fnext;
	e->live = false;
	e->chain = a->efree;
	a->efree = i;
	a->nentries--;
}

static void flow_free(struct ctacct *a, uint32_t i)
{
	struct frec *f = &a->f[i];
	uint32_t *p = fbucket(a, &f->key);

	while (f->entries != NIL)
		entry_free(a, f->entries);
	while (*p != i)
		p = &a->f[*p].chain;
	*p = f->chain;
	f->live = false;
	f->chain = a->ffree;
	a->ffree = i;
	a->nflows--;
}

/* The key the tracker files a flow under: the caller's, VLAN 0. */
static int norm_key(const struct flow_key *k, struct flow_key *out)
{
	if (k->family != AF_INET && k->family != AF_INET6)
		return -EINVAL;
	if (k->ip_proto != IPPROTO_TCP_ && k->ip_proto != IPPROTO_UDP_ &&
	    (k->port[0] || k->port[1]))
		return -EINVAL;
	*out = *k;
	out->vlan = 0;
	return 0;
}

static void set_owed(struct frec *f, const uint64_t bytes[2],
		     const uint64_t packets[2])
{
	f->owed_bytes[0] = bytes ? bytes[0] : 0;
	f->owed_bytes[1] = bytes ? bytes[1] : 0;
	f->owed_packets[0] = packets ? packets[0] : 0;
	f->owed_packets[1] = packets ? packets[1] : 0;
}

int ctacct_track(struct ctacct *a, const struct flow_key *k,
		 uint8_t initiator_side, uint32_t slot,
		 const uint64_t already_bytes[2],
		 const uint64_t already_packets[2])
{
	struct flow_key key;
	struct frec *f;
	uint32_t i, *b;

	if (initiator_side > 1 || norm_key(k, &key))
		return -EINVAL;
	pthread_mutex_lock(&a->lock);
	i = flookup(a, &key);
	if (i != NIL) {
		f = &a->f[i];
		f->slot = slot;
		f->initiator = initiator_side;
		if (!f->found)
			set_owed(f, already_bytes, already_packets);
		pthread_mutex_unlock(&a->lock);
		return 0;
	}
	if (a->ffree == NIL && a->fused == a->fcap) {
		a->track_full++;
		pthread_mutex_unlock(&a->lock);
		return -ENOSPC;
	}
	if (a->ffree != NIL) {
		i = a->ffree;
		a->ffree = a->f[i].chain;
	} else {
		i = a->fused++;
	}
	f = &a->f[i];
	memset(f, 0, sizeof(*f));
	f->key = key;
	f->slot = slot;
	f->initiator = initiator_side;
	set_owed(f, already_bytes, already_packets);
	f->entries = NIL;
	f->tracked_gen = a->gen;
	f->live = true;
	b = fbucket(a, &key);
	f->chain = *b;
	*b = i;
	a->nflows++;
	pthread_mutex_unlock(&a->lock);
	return 0;
}

int ctacct_forget(struct ctacct *a, const struct flow_key *k)
{
	struct flow_key key;
	uint32_t i;

	if (norm_key(k, &key))
		return -ENOENT;		/* could not have been tracked */
	pthread_mutex_lock(&a->lock);
	i = flookup(a, &key);
	if (i != NIL)
		flow_free(a, i);
	pthread_mutex_unlock(&a->lock);
	return i != NIL ? 0 : -ENOENT;
}

static void line_ident(const struct ctacct_line *l, struct ct_ident *id)
{
	const struct ctacct_tuple *t = &l->tuple[0];

	memset(id, 0, sizeof(*id));
	memcpy(id->src, t->src, 16);
	memcpy(id->dst, t->dst, 16);
	/* Whatever the protocol printed: only one of these is set. */
	id->l4[0] = t->sport | t->icmp_id | t->gre_key[0];
	id->l4[1] = t->dport | (uint16_t)(t->icmp_type << 8 | t->icmp_code) |
		    t->gre_key[1];
	id->zone = l->zone;
	id->family = l->family;
	id->proto = l->ip_proto;
}

struct credit {
	uint32_t slot;
	uint64_t bytes[2], packets[2];	/* up, down */
};

static uint64_t pay(uint64_t v, uint64_t *owed)
{
	uint64_t p = v < *owed ? v : *owed;

	*owed -= p;
	return v - p;
}

/* One parsed line, under the lock.  True if it gives a credit, in *C. */
static bool account(struct ctacct *a, const struct ctacct_line *l,
		    bool has_acct, struct ctacct_poll_stats *st,
		    struct credit *c)
{
	struct flow_key k;
	struct ct_ident id;
	struct frec *f;
	struct erec *e = NULL;
	uint32_t ei, fi, *b;
	int side, up, d;
	bool fresh = false;

	line_ident(l, &id);
	side = ctacct_line_key(l, &k);
	ei = elookup(a, &id);
	if (ei != NIL &&
	    memcmp(&a->f[a->e[ei].flow].key, &k, sizeof(k))) {
		/* The same original tuple, another responder: a new entry
		 * NATed otherwise than the old one it replaced. */
		entry_free(a, ei);
		ei = NIL;
		st->replaced++;
	}
	if (ei != NIL) {
		e = &a->e[ei];
		fi = e->flow;
	} else {
		fi = flookup(a, &k);
		if (fi == NIL) {
			st->untracked++;
			return false;
		}
	}
	f = &a->f[fi];
	st->matched++;
	f->seen_gen = a->gen;
	f->missed = 0;
	if (!has_acct)
		return false;
	if (!e) {
		if (a->efree == NIL && a->eused == a->ecap) {
			st->no_room++;
			return false;
		}
		if (a->efree != NIL) {
			ei = a->efree;
			a->efree = a->e[ei].chain;
		} else {
			ei = a->eused++;
		}
		e = &a->e[ei];
		memset(e, 0, sizeof(*e));
		e->id = id;
		e->flow = fi;
		e->orig_side = (uint8_t)side;
		e->live = true;
		b = ebucket(a, &id);
		e->chain = *b;
		*b = ei;
		e->fnext = f->entries;
		f->entries = ei;
		a->nentries++;
	}
	e->seen_gen = a->gen;
	e->missed = 0;
	/* A counter that went down: not this entry any more but a new one
	 * for the same tuple, counted from zero.  (New entries read as a
	 * growth from zero anyway.) */
	for (d = 0; d < 2; d++)
		if (l->bytes[d] < e->bytes[d] || l->packets[d] < e->packets[d])
			fresh = true;
	if (fresh) {
		st->replaced++;
		memset(e->bytes, 0, sizeof(e->bytes));
		memset(e->packets, 0, sizeof(e->packets));
	}
	/* up: the direction the initiator sends, original or reply. */
	up = e->orig_side == f->initiator ? 0 : 1;
	c->slot = f->slot;
	c->bytes[0] = l->bytes[up] - e->bytes[up];
	c->packets[0] = l->packets[up] - e->packets[up];
	c->bytes[1] = l->bytes[!up] - e->bytes[!up];
	c->packets[1] = l->packets[!up] - e->packets[!up];
	memcpy(e->bytes, l->bytes, sizeof(e->bytes));
	memcpy(e->packets, l->packets, sizeof(e->packets));
	/* The daemon's own counts are paid out of the first poll that
	 * finds the flow, whichever of its entries come first; what is
	 * left owed after that poll is ignored. */
	if (!f->found) {
		f->found = true;
		f->found_gen = a->gen;
	}
	if (f->found_gen == a->gen) {
		for (d = 0; d < 2; d++) {
			c->bytes[d] = pay(c->bytes[d], &f->owed_bytes[d]);
			c->packets[d] = pay(c->packets[d], &f->owed_packets[d]);
		}
	}
	return c->bytes[0] || c->bytes[1] || c->packets[0] || c->packets[1];
}

/* One line into BUF (CAP bytes): 1 a line of *LEN bytes, its '\n'
 * included if it had one; 2 a line longer than CAP, read to its end;
 * 0 end of stream; -EIO. */
static int read_line(FILE *f, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	bool over = false;
	int c;

	while ((c = getc_unlocked(f)) != EOF) {
		if (n < cap)
			buf[n++] = (char)c;
		else
			over = true;
		if (c == '\n')
			break;
	}
	if (c == EOF && ferror(f))
		return -EIO;
	if (c == EOF && !n && !over)
		return 0;
	*len = n;
	return over ? 2 : 1;
}

/* End of a poll: what this generation did not stamp has missed a poll. */
static void sweep(struct ctacct *a, struct ctacct_poll_stats *st)
{
	uint32_t i, end, gen, used;

	for (i = 0; i < a->eused; i = end) {
		end = a->eused - i > SWEEP_CHUNK ? i + SWEEP_CHUNK : a->eused;
		pthread_mutex_lock(&a->lock);
		gen = a->gen;
		for (; i < end; i++) {
			struct erec *e = &a->e[i];

			if (!e->live || e->seen_gen == gen)
				continue;
			if (++e->missed >= a->forget_polls) {
				entry_free(a, i);
				st->entries_ended++;
			}
		}
		pthread_mutex_unlock(&a->lock);
	}
	/* Workers add flows meanwhile (under the lock): those are tracked
	 * during this poll and not counted missing by it anyway. */
	pthread_mutex_lock(&a->lock);
	used = a->fused;
	pthread_mutex_unlock(&a->lock);
	for (i = 0; i < used; i = end) {
		end = used - i > SWEEP_CHUNK ? i + SWEEP_CHUNK : used;
		pthread_mutex_lock(&a->lock);
		gen = a->gen;
		for (; i < end; i++) {
			struct frec *f = &a->f[i];

			/* Tracked during this poll: it may have been
			 * after its line went by. */
			if (!f->live || f->seen_gen == gen ||
			    f->tracked_gen == gen)
				continue;
			if (++f->missed >= a->forget_polls) {
				flow_free(a, i);
				st->forgotten++;
				a->forgotten++;
			}
		}
		pthread_mutex_unlock(&a->lock);
	}
}

int ctacct_poll(struct ctacct *a, FILE *conntrack, uint64_t now_ms,
		ctacct_credit_fn *credit, void *ctx,
		struct ctacct_poll_stats *st)
{
	struct ctacct_poll_stats s;
	struct ctacct_line l;
	struct credit c;
	char buf[CTACCT_LINE_MAX];
	size_t len;
	bool give;
	int r;

	memset(&s, 0, sizeof(s));
	pthread_mutex_lock(&a->lock);
	if (++a->gen == 0)	/* 0 is "never seen" */
		a->gen = 1;
	a->polls++;
	a->last_poll_ms = now_ms;
	pthread_mutex_unlock(&a->lock);
	flockfile(conntrack);
	while ((r = read_line(conntrack, buf, sizeof(buf), &len)) > 0) {
		s.lines++;
		if (r == 2) {
			s.bad_lines++;
			continue;
		}
		r = ctacct_parse_line(buf, len, &l);
		if (r && r != -ENODATA) {
			s.bad_lines++;
			continue;
		}
		s.parsed++;
		if (r == -ENODATA)
			s.acct_off++;
		/* The lock per line, not per table: a worker tracking a
		 * flow waits for one line at most. */
		pthread_mutex_lock(&a->lock);
		give = account(a, &l, r == 0, &s, &c);
		pthread_mutex_unlock(&a->lock);
		if (give && credit) {
			s.credits++;
			credit(ctx, c.slot, c.bytes[0], c.packets[0],
			       c.bytes[1], c.packets[1]);
		}
	}
	funlockfile(conntrack);
	/* A table not read to its end says nothing about what is missing. */
	if (r == 0)
		sweep(a, &s);
	if (st)
		*st = s;
	return r;
}

void ctacct_stats(struct ctacct *a, struct ctacct_stats *out)
{
	pthread_mutex_lock(&a->lock);
	out->capacity = a->fcap;
	out->entry_capacity = a->ecap;
	out->flows = a->nflows;
	out->entries = a->nentries;
	out->track_full = a->track_full;
	out->forgotten = a->forgotten;
	out->polls = a->polls;
	out->last_poll_ms = a->last_poll_ms;
	pthread_mutex_unlock(&a->lock);
}
