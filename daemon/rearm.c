/* rearm.c - alert re-arm table: chained hash over a preallocated pool. */
#include <errno.h>
#include <stdlib.h>

#include "daemon/rearm.h"

#define NIL UINT32_MAX
#define MAX_CAPACITY (1u << 30)

/*
 * Entries live in one array allocated by rearm_new(); a bucket holds the
 * index of its first entry and entries chain by index.  Entries are never
 * freed, only reused by eviction, so there is no free list: the first
 * CAPACITY new keys take the array in order, every later one evicts.
 *
 * Eviction takes the entry that fired longest ago.  Rather than a timestamp
 * scan (O(capacity), and wrong once the clock has gone backwards), entries
 * sit on a doubly linked list in the order they last fired: firing moves an
 * entry to the newest end, eviction takes the oldest end.  Both are O(1).
 */
struct entry {
	uint64_t key;
	uint64_t fired_ms;	/* start of the current window */
	uint32_t suppressed;	/* since the last emitted alert */
	uint32_t chain;		/* next entry of the bucket */
	uint32_t older, newer;	/* firing order */
};

struct rearm {
	struct entry *e;
	uint32_t *bucket;
	uint32_t mask;		/* buckets - 1, a power of two - 1 */
	uint32_t capacity;
	uint32_t used;
	uint32_t oldest, newest;
	uint64_t evictions;
	uint64_t evicted_suppressed;
};

/* FNV-1a of one field, framed: a tag byte (0 NULL, 1 present) then, if
 * present, its bytes and the terminating NUL.  A string has no NUL inside,
 * so each field's encoding ends where it says and no concatenation of three
 * of them can be read as another triple. */
static uint64_t fnv_field(uint64_t h, const char *s)
{
	const uint64_t prime = 0x100000001b3ULL;

	h = (h ^ (s ? 1 : 0)) * prime;
	if (!s)
		return h;
	do
		h = (h ^ (unsigned char)*s) * prime;
	while (*s++);
	return h;
}

uint64_t rearm_key(const char *device, const char *event_type,
		   const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = fnv_field(h, device);
	h = fnv_field(h, event_type);
	return fnv_field(h, key);
}

/* splitmix64 finaliser.  Keys should be rearm_key() hashes, but callers and
 * tests may pass small integers; mixing spreads those over the buckets. */
static uint32_t bucket_of(const struct rearm *r, uint64_t key)
{
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebULL;
	key ^= key >> 31;
	return (uint32_t)key & r->mask;
}

struct rearm *rearm_new(size_t capacity)
{
	struct rearm *r;
	size_t n = 1, i;

	if (!capacity || capacity > MAX_CAPACITY) {
		errno = EINVAL;
		return NULL;
	}
	while (n < capacity)	/* load factor at most 1 when full */
		n <<= 1;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->e = calloc(capacity, sizeof(*r->e));
	r->bucket = malloc(n * sizeof(*r->bucket));
	if (!r->e || !r->bucket) {
		rearm_free(r);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < n; i++)
		r->bucket[i] = NIL;
	r->mask = (uint32_t)(n - 1);
	r->capacity = (uint32_t)capacity;
	r->oldest = r->newest = NIL;
	return r;
}

void rearm_free(struct rearm *r)
{
	if (!r)
		return;
	free(r->e);
	free(r->bucket);
	free(r);
}

static uint32_t lookup(const struct rearm *r, uint64_t key)
{
	uint32_t i = r->bucket[bucket_of(r, key)];

	while (i != NIL && r->e[i].key != key)
		i = r->e[i].chain;
	return i;
}

static void order_unlink(struct rearm *r, uint32_t i)
{
	struct entry *e = &r->e[i];

	if (e->older != NIL)
		r->e[e->older].newer = e->newer;
	else
		r->oldest = e->newer;
	if (e->newer != NIL)
		r->e[e->newer].older = e->older;
	else
		r->newest = e->older;
}

static void order_append(struct rearm *r, uint32_t i)
{
	struct entry *e = &r->e[i];

	e->older = r->newest;
	e->newer = NIL;
	if (r->newest != NIL)
		r->e[r->newest].newer = i;
	else
		r->oldest = i;
	r->newest = i;
}

static void chain_unlink(struct rearm *r, uint32_t i)
{
	uint32_t *p = &r->bucket[bucket_of(r, r->e[i].key)];

	while (*p != i)
		p = &r->e[*p].chain;
	*p = r->e[i].chain;
}

/* A slot for a new key: the next unused one, or the one that fired longest
 * ago, evicted. */
static uint32_t slot_take(struct rearm *r)
{
	uint32_t i;

	if (r->used < r->capacity)
		return r->used++;
	i = r->oldest;
	chain_unlink(r, i);
	order_unlink(r, i);
	r->evictions++;
	r->evicted_suppressed += r->e[i].suppressed;
	return i;
}

bool rearm_fire(struct rearm *r, uint64_t key, uint64_t now_ms,
		uint32_t rearm_ms, uint32_t *suppressed)
{
	uint32_t i = lookup(r, key), b;
	struct entry *e;

	if (i == NIL) {
		i = slot_take(r);
		e = &r->e[i];
		b = bucket_of(r, key);
		e->key = key;
		e->fired_ms = now_ms;
		e->suppressed = 0;
		e->chain = r->bucket[b];
		r->bucket[b] = i;
		order_append(r, i);
		if (suppressed)
			*suppressed = 0;
		return true;
	}
	e = &r->e[i];
	/* The clock went backwards: restart the window at now, so it ends
	 * at most rearm_ms after the step instead of whenever the clock
	 * catches up with the old time (possibly never, for a long step). */
	if (now_ms < e->fired_ms)
		e->fired_ms = now_ms;
	if (now_ms - e->fired_ms >= rearm_ms) {
		if (suppressed)
			*suppressed = e->suppressed;
		e->suppressed = 0;
		e->fired_ms = now_ms;
		order_unlink(r, i);
		order_append(r, i);
		return true;
	}
	if (e->suppressed < UINT32_MAX)
		e->suppressed++;
	if (suppressed)
		*suppressed = e->suppressed;
	return false;
}

void rearm_stats(const struct rearm *r, struct rearm_stats *out)
{
	out->capacity = r->capacity;
	out->used = r->used;
	out->evictions = r->evictions;
	out->evicted_suppressed = r->evicted_suppressed;
}
