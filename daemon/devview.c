/* devview.c - sharded per-device counters and sightings. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/devview.h"
#include "policy/policy.h"

#define CACHELINE 64

/* The sighting as relaxed atomic words, so a concurrent read is a retried
 * read, not a data race. */
#define SEEN_WORDS ((sizeof(struct devview_seen) + 7) / 8)

struct slot {
	_Atomic uint64_t ctr[__DEVVIEW_CTR_MAX];
	_Atomic uint32_t seq;		/* odd while a write is in progress */
	_Atomic uint64_t seen[SEEN_WORDS];
} __attribute__((aligned(CACHELINE)));

struct devview {
	const struct policy_device **dev;	/* slot -> device */
	const char **name;			/* slot -> name (borrowed) */
	size_t n_slots;
	unsigned n_workers;
	struct slot *base;		/* carried from earlier views */
	struct slot *shard[];		/* one array of n_slots per worker */
};

static const char *const ctr_names[__DEVVIEW_CTR_MAX] = {
	[DEVVIEW_FLOWS] = "flows",
	[DEVVIEW_ALLOWED] = "allowed",
	[DEVVIEW_ALERTED] = "alerted",
	[DEVVIEW_DENIED] = "denied",
	[DEVVIEW_QUARANTINED] = "quarantined",
	[DEVVIEW_ALERTS] = "alerts",
};

const char *devview_ctr_name(enum devview_ctr c)
{
	return (unsigned)c < __DEVVIEW_CTR_MAX ? ctr_names[c] : NULL;
}

static struct slot *slots_new(size_t n)
{
	struct slot *s = aligned_alloc(CACHELINE, n * sizeof(*s));

	if (s)
		memset(s, 0, n * sizeof(*s));
	return s;
}

void devview_free(struct devview *v)
{
	unsigned w;

	if (!v)
		return;
	for (w = 0; w < v->n_workers; w++)
		free(v->shard[w]);
	free(v->base);
	free(v->dev);
	free(v->name);
	free(v);
}

struct devview *devview_new(const struct policy *p, unsigned n_workers)
{
	size_t n = policy_device_count(p) + 1, i;
	struct devview *v;
	unsigned w;

	if (!n_workers) {
		errno = EINVAL;
		return NULL;
	}
	v = calloc(1, sizeof(*v) + n_workers * sizeof(v->shard[0]));
	if (!v)
		return NULL;
	v->n_slots = n;
	v->n_workers = n_workers;
	v->dev = calloc(n, sizeof(*v->dev));
	v->name = calloc(n, sizeof(*v->name));
	v->base = slots_new(n);
	for (w = 0; w < n_workers; w++)
		if (!(v->shard[w] = slots_new(n)))
			break;
	if (!v->dev || !v->name || !v->base || w < n_workers) {
		devview_free(v);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i + 1 < n; i++)
		v->dev[i] = policy_device_at(p, i);
	v->dev[n - 1] = policy_unknown_device(p);
	for (i = 0; i < n; i++)
		v->name[i] = policy_device_name(v->dev[i]);
	return v;
}

size_t devview_slots(const struct devview *v)
{
	return v->n_slots;
}

size_t devview_slot(const struct devview *v, const struct policy_device *d)
{
	size_t i;

	/* Devices are few (tens, a few thousand at most) and this runs once
	 * per decided flow, not per packet. */
	for (i = 0; i < v->n_slots; i++)
		if (v->dev[i] == d)
			return i;
	return (size_t)-1;
}

const char *devview_slot_name(const struct devview *v, size_t slot)
{
	return slot < v->n_slots ? v->name[slot] : NULL;
}

void devview_add(struct devview *v, unsigned w, size_t slot,
		 enum devview_ctr c, uint64_t n)
{
	_Atomic uint64_t *x;

	if (slot >= v->n_slots || w >= v->n_workers)
		return;
	/* Single writer: a load and a store, no locked add. */
	x = &v->shard[w][slot].ctr[c];
	atomic_store_explicit(x, atomic_load_explicit(x, memory_order_relaxed)
				  + n, memory_order_relaxed);
}

static void seen_store(struct slot *s, const struct devview_seen *in)
{
	uint64_t words[SEEN_WORDS] = { 0 };
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
	size_t i;

	memcpy(words, in, sizeof(*in));
	atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (i = 0; i < SEEN_WORDS; i++)
		atomic_store_explicit(&s->seen[i], words[i],
				      memory_order_relaxed);
	atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

static void seen_load(const struct slot *s, struct devview_seen *out)
{
	uint64_t words[SEEN_WORDS];
	uint32_t a, b;
	size_t i;

	do {
		a = atomic_load_explicit(&s->seq, memory_order_acquire);
		for (i = 0; i < SEEN_WORDS; i++)
			words[i] = atomic_load_explicit(&s->seen[i],
							memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		b = atomic_load_explicit(&s->seq, memory_order_relaxed);
	} while ((a & 1) || a != b);
	memcpy(out, words, sizeof(*out));
}

void devview_saw(struct devview *v, unsigned w, size_t slot,
		 const struct devview_seen *s)
{
	if (slot < v->n_slots && w < v->n_workers)
		seen_store(&v->shard[w][slot], s);
}

/* One slot's totals and newest sighting, base included. */
static void slot_read(const struct devview *v, size_t slot,
		      uint64_t ctr[__DEVVIEW_CTR_MAX], struct devview_seen *seen)
{
	struct devview_seen s;
	unsigned w, c;

	for (c = 0; c < __DEVVIEW_CTR_MAX; c++)
		ctr[c] = atomic_load_explicit(&v->base[slot].ctr[c],
					      memory_order_relaxed);
	seen_load(&v->base[slot], seen);
	for (w = 0; w < v->n_workers; w++) {
		const struct slot *sh = &v->shard[w][slot];

		for (c = 0; c < __DEVVIEW_CTR_MAX; c++)
			ctr[c] += atomic_load_explicit(&sh->ctr[c],
						       memory_order_relaxed);
		seen_load(sh, &s);
		if (s.at_us > seen->at_us)
			*seen = s;
	}
}

void devview_read(const struct devview *v, size_t slot,
		  uint64_t ctr[__DEVVIEW_CTR_MAX], struct devview_seen *seen)
{
	if (slot >= v->n_slots) {
		memset(ctr, 0, sizeof(uint64_t) * __DEVVIEW_CTR_MAX);
		memset(seen, 0, sizeof(*seen));
		return;
	}
	slot_read(v, slot, ctr, seen);
}

void devview_carry(struct devview *to, const struct devview *from)
{
	uint64_t ctr[__DEVVIEW_CTR_MAX];
	struct devview_seen seen, cur;
	size_t i, j;
	unsigned c;

	for (i = 0; i < from->n_slots; i++) {
		for (j = 0; j < to->n_slots; j++)
			if (!strcmp(to->name[j], from->name[i]))
				break;
		if (j == to->n_slots)
			continue;	/* the device is gone from the policy */
		slot_read(from, i, ctr, &seen);
		for (c = 0; c < __DEVVIEW_CTR_MAX; c++)
			atomic_fetch_add_explicit(&to->base[j].ctr[c], ctr[c],
						  memory_order_relaxed);
		seen_load(&to->base[j], &cur);
		if (seen.at_us > cur.at_us)
			seen_store(&to->base[j], &seen);
	}
}
