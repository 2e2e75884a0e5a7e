/* flow.c - preallocated flow table.
 *
 * Layout: one array of struct flow (cap entries), a power-of-two array of
 * hash buckets holding indices, chains threaded through flow.hnext.  Free
 * records form a singly linked list through hnext.  Each timeout class has a
 * doubly linked idle list (prev/next) ordered by last packet: a packet moves
 * its flow to the tail, so the head is always the longest idle, and both
 * expiry and eviction touch only list heads.  Indices instead of pointers
 * keep the record small (4 bytes per link) on 64-bit routers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "daemon/flow.h"
#include "daemon/packet.h"

#define IPPROTO_TCP_	6
#define IPPROTO_UDP_	17
#define IPPROTO_ICMP_	1
#define IPPROTO_ICMPV6_	58

struct idle_list {
	uint32_t head, tail;
};

struct flow_table {
	struct flow *flows;
	uint32_t *buckets;
	uint32_t cap, mask;
	uint32_t free_head;
	uint32_t next_id;
	uint64_t seed;
	struct idle_list idle[__FLOW_TCLASS_MAX];
	uint64_t timeout_us[__FLOW_TCLASS_MAX];
	flow_end_fn *end;
	void *ctx;
	uint32_t active, peak;
	uint64_t created, ended[__FLOW_END_MAX];
	uint64_t clock_us;	/* latest packet time seen: never goes back */
};

static const char *const by_names[__FLOW_BY_MAX] = {
	[FLOW_BY_NONE] = "none",
	[FLOW_BY_CLASSIFIED] = "classified",
	[FLOW_BY_LIMIT] = "limit",
	[FLOW_BY_GIVEUP] = "giveup",
	[FLOW_BY_POLICY] = "policy",
};

static const char *const end_names[__FLOW_END_MAX] = {
	[FLOW_END_IDLE] = "idle",
	[FLOW_END_EVICTED] = "evicted",
	[FLOW_END_FLUSH] = "flush",
	[FLOW_END_REUSED] = "reused",
};

const char *flow_decided_by_name(enum flow_decided_by b)
{
	return b < __FLOW_BY_MAX ? by_names[b] : "invalid";
}

const char *flow_end_reason_name(enum flow_end_reason r)
{
	return r < __FLOW_END_MAX ? end_names[r] : "invalid";
}

void flow_table_config_default(struct flow_table_config *cfg)
{
	cfg->max_flows = 65536;
	cfg->timeout_s[FLOW_TCLASS_TCP] = 300;
	cfg->timeout_s[FLOW_TCLASS_TCP_CLOSED] = 10;
	cfg->timeout_s[FLOW_TCLASS_UDP] = 60;
	cfg->timeout_s[FLOW_TCLASS_ICMP] = 30;
	cfg->timeout_s[FLOW_TCLASS_OTHER] = 60;
}

int flow_key_from_packet(struct flow_key *k, const struct packet *p)
{
	size_t alen = p->family == AF_INET ? 4 : 16;
	int c, side;

	memset(k, 0, sizeof(*k));
	k->family = p->family;
	k->ip_proto = p->ip_proto;
	/* The innermost tag is the one the device itself sent; an outer
	 * service tag may be rewritten by the provider. */
	k->vlan = p->n_vlans ? p->vlan[p->n_vlans - 1] : 0;
	c = memcmp(p->src, p->dst, alen);
	if (c == 0)
		c = (int)p->sport - (int)p->dport;
	side = c > 0;
	memcpy(k->addr[side], p->src, alen);
	memcpy(k->addr[!side], p->dst, alen);
	k->port[side] = p->sport;
	k->port[!side] = p->dport;
	return side;
}

/* 64-bit multiply-xorshift over the 40 key bytes: cheap, and the per-table
 * random seed keeps crafted traffic from forcing one long chain. */
static uint32_t key_hash(const struct flow_table *t, const struct flow_key *k)
{
	uint64_t h = t->seed, w;
	const uint8_t *b = (const uint8_t *)k;
	size_t i;

	for (i = 0; i < sizeof(*k); i += 8) {
		memcpy(&w, b + i, 8);
		h ^= w;
		h *= 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static void idle_unlink(struct flow_table *t, struct flow *f)
{
	struct idle_list *l = &t->idle[f->tclass];

	if (f->prev != FLOW_NIL)
		t->flows[f->prev].next = f->next;
	else
		l->head = f->next;
	if (f->next != FLOW_NIL)
		t->flows[f->next].prev = f->prev;
	else
		l->tail = f->prev;
}

static void idle_append(struct flow_table *t, struct flow *f)
{
	struct idle_list *l = &t->idle[f->tclass];
	uint32_t i = (uint32_t)(f - t->flows);

	f->next = FLOW_NIL;
	f->prev = l->tail;
	if (l->tail != FLOW_NIL)
		t->flows[l->tail].next = i;
	else
		l->head = i;
	l->tail = i;
}

static void hash_unlink(struct flow_table *t, struct flow *f)
{
	uint32_t i = (uint32_t)(f - t->flows);
	uint32_t *pp = &t->buckets[key_hash(t, &f->key) & t->mask];

	while (*pp != FLOW_NIL && *pp != i)
		pp = &t->flows[*pp].hnext;
	if (*pp == i)
		*pp = f->hnext;
}

static void end_flow(struct flow_table *t, struct flow *f,
		     enum flow_end_reason why)
{
	if (t->end)
		t->end(t->ctx, f, why);
	hash_unlink(t, f);
	idle_unlink(t, f);
	f->state = FLOW_FREE;
	f->hnext = t->free_head;
	t->free_head = (uint32_t)(f - t->flows);
	t->active--;
	t->ended[why]++;
}

struct flow_table *flow_table_new(const struct flow_table_config *cfg,
				  flow_end_fn *end, void *ctx)
{
	struct flow_table *t;
	uint32_t i, nb = 1;
	int c;

	if (!cfg->max_flows || cfg->max_flows > (1u << 30)) {
		errno = EINVAL;
		return NULL;
	}
	while (nb < cfg->max_flows)
		nb <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->flows = calloc(cfg->max_flows, sizeof(*t->flows));
	t->buckets = malloc((size_t)nb * sizeof(*t->buckets));
	if (!t->flows || !t->buckets) {
		free(t->flows);
		free(t->buckets);
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->cap = cfg->max_flows;
	t->mask = nb - 1;
	for (i = 0; i < nb; i++)
		t->buckets[i] = FLOW_NIL;
	for (i = 0; i < t->cap; i++)
		t->flows[i].hnext = i + 1 < t->cap ? i + 1 : FLOW_NIL;
	t->free_head = 0;
	for (c = 0; c < __FLOW_TCLASS_MAX; c++) {
		t->idle[c].head = t->idle[c].tail = FLOW_NIL;
		t->timeout_us[c] = (uint64_t)cfg->timeout_s[c] * 1000000;
	}
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    sizeof(t->seed))
		t->seed = 0x5eed5eed5eed5eedULL ^ (uintptr_t)t;
	t->end = end;
	t->ctx = ctx;
	return t;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	flow_table_flush(t);
	free(t->flows);
	free(t->buckets);
	free(t);
}

static enum flow_tclass initial_tclass(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP_:
		return FLOW_TCLASS_TCP;
	case IPPROTO_UDP_:
		return FLOW_TCLASS_UDP;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		return FLOW_TCLASS_ICMP;
	default:
		return FLOW_TCLASS_OTHER;
	}
}

/* The longest-idle flow across all classes: the head of one of the lists. */
static struct flow *oldest_idle(struct flow_table *t)
{
	struct flow *best = NULL, *f;
	int c;

	for (c = 0; c < __FLOW_TCLASS_MAX; c++) {
		if (t->idle[c].head == FLOW_NIL)
			continue;
		f = &t->flows[t->idle[c].head];
		if (!best || f->last_us < best->last_us)
			best = f;
	}
	return best;
}

static struct flow *flow_create(struct flow_table *t, const struct flow_key *k,
				uint32_t bucket, uint64_t now_us)
{
	struct flow *f;
	uint32_t i;

	/* Full: end the longest-idle flow.  Its unlinking may touch our
	 * bucket's chain, which is fine: we prepend to it afterwards. */
	if (t->free_head == FLOW_NIL)
		end_flow(t, oldest_idle(t), FLOW_END_EVICTED);
	i = t->free_head;
	f = &t->flows[i];
	t->free_head = f->hnext;
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->hnext = t->buckets[bucket];
	t->buckets[bucket] = i;
	f->id = t->next_id++;
	f->first_us = f->last_us = now_us;
	f->state = FLOW_INSPECTING;
	f->tclass = initial_tclass(k->ip_proto);
	/* Not on an idle list yet: flow_table_packet() appends it once its
	 * state for this packet is known. */
	t->created++;
	if (++t->active > t->peak)
		t->peak = t->active;
	return f;
}

static struct flow *find(struct flow_table *t, const struct flow_key *k,
			 uint32_t bucket)
{
	uint32_t i;

	for (i = t->buckets[bucket]; i != FLOW_NIL; i = t->flows[i].hnext)
		if (!memcmp(&t->flows[i].key, k, sizeof(*k)))
			return &t->flows[i];
	return NULL;
}

struct flow *flow_table_packet(struct flow_table *t, const struct packet *p,
			       uint64_t now_us, int *side, bool *created)
{
	struct flow_key k;
	struct flow *f;
	uint32_t bucket;
	int s;

	if (!p->l3)
		return NULL;
	s = flow_key_from_packet(&k, p);
	bucket = key_hash(t, &k) & t->mask;
	f = find(t, &k, bucket);
	*created = false;
	/* A SYN on a closed TCP tuple is a new connection, not more of the
	 * old one (port reuse by devices that reconnect quickly). */
	if (f && f->tclass == FLOW_TCLASS_TCP_CLOSED &&
	    (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		end_flow(t, f, FLOW_END_REUSED);
		f = NULL;
	}
	if (!f) {
		f = flow_create(t, &k, bucket, now_us > t->clock_us ? now_us :
						  t->clock_us);
		*created = true;
		/* The initiator is whoever sent first, except that a SYN-ACK
		 * seen first (capture started mid-handshake) comes from the
		 * responder. */
		f->initiator = s;
		if (k.ip_proto == IPPROTO_TCP_ &&
		    (p->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
			f->initiator = !s;
	} else {
		/* Off its idle list while this packet updates it; appended
		 * to the tail of its (possibly new) class below. */
		idle_unlink(t, f);
	}
	/* Packet clocks can step backwards (merged captures, NTP steps).
	 * Appending at the tail keeps each idle list ordered only if
	 * last_us never decreases along it, so flows are stamped with the
	 * table's monotonic clock. */
	if (now_us > t->clock_us)
		t->clock_us = now_us;
	f->last_us = t->clock_us;
	f->packets[s]++;
	f->bytes[s] += p->ip_len;
	if (p->has_mac && !(f->flags & (FLOW_F_MAC0 << s))) {
		memcpy(f->mac[s], p->src_mac, 6);
		f->flags |= FLOW_F_MAC0 << s;
	}
	if (k.ip_proto == IPPROTO_TCP_) {
		if (p->tcp_flags & TCP_FIN)
			f->flags |= FLOW_F_FIN0 << s;
		if ((p->tcp_flags & TCP_RST) ||
		    (f->flags & (FLOW_F_FIN0 | FLOW_F_FIN1)) ==
			    (FLOW_F_FIN0 | FLOW_F_FIN1))
			f->tclass = FLOW_TCLASS_TCP_CLOSED;
	}
	idle_append(t, f);
	*side = s;
	return f;
}

void flow_table_expire(struct flow_table *t, uint64_t now_us)
{
	struct flow *f;
	int c;

	for (c = 0; c < __FLOW_TCLASS_MAX; c++) {
		while (t->idle[c].head != FLOW_NIL) {
			f = &t->flows[t->idle[c].head];
			if (f->last_us + t->timeout_us[c] > now_us)
				break;
			end_flow(t, f, FLOW_END_IDLE);
		}
	}
}

static int cmp_index_by_id(const void *a, const void *b, void *ctx)
{
	const struct flow *flows = ctx;
	uint32_t x = flows[*(const uint32_t *)a].id;
	uint32_t y = flows[*(const uint32_t *)b].id;

	return x < y ? -1 : x > y;
}

void flow_table_flush(struct flow_table *t)
{
	uint32_t *idx, i, n = 0;

	if (!t->active)
		return;
	/* Creation order, so output does not depend on hashing.  If the
	 * scratch array cannot be had, flush in table order rather than lose
	 * flows. */
	idx = malloc((size_t)t->active * sizeof(*idx));
	if (!idx) {
		for (i = 0; i < t->cap; i++)
			if (t->flows[i].state != FLOW_FREE)
				end_flow(t, &t->flows[i], FLOW_END_FLUSH);
		return;
	}
	for (i = 0; i < t->cap; i++)
		if (t->flows[i].state != FLOW_FREE)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_index_by_id, t->flows);
	for (i = 0; i < n; i++)
		end_flow(t, &t->flows[idx[i]], FLOW_END_FLUSH);
	free(idx);
}

void flow_table_stats(const struct flow_table *t, struct flow_table_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->capacity = t->cap;
	s->active = t->active;
	s->peak = t->peak;
	s->created = t->created;
	memcpy(s->ended, t->ended, sizeof(s->ended));
	s->table_bytes = (uint64_t)t->cap * sizeof(struct flow) +
			 ((uint64_t)t->mask + 1) * sizeof(uint32_t);
}

void flow_table_foreach(struct flow_table *t,
			void (*fn)(void *ctx, struct flow *f), void *ctx)
{
	uint32_t i;

	for (i = 0; i < t->cap; i++)
		if (t->flows[i].state != FLOW_FREE)
			fn(ctx, &t->flows[i]);
}
