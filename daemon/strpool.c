/* strpool.c - open-addressing hash set of refcounted strings.
 *
 * Each entry is one allocation: a header followed by the characters, so the
 * string pointer handed out is entry->s and the header is found again with
 * container_of.  Deletion uses backward-shift so no tombstones accumulate on
 * a long-running router.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/strpool.h"

struct entry {
	uint32_t hash;
	uint32_t refs;
	char s[];
};

struct strpool {
	struct entry **slots;
	size_t mask, count, bytes;
};

#define entry_of(str) ((struct entry *)((char *)(str) - offsetof(struct entry, s)))

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*s) {
		h ^= (uint8_t)*s++;
		h *= 16777619u;
	}
	return h;
}

struct strpool *strpool_new(void)
{
	struct strpool *sp = calloc(1, sizeof(*sp));

	if (!sp)
		return NULL;
	sp->mask = 63;
	sp->slots = calloc(sp->mask + 1, sizeof(*sp->slots));
	if (!sp->slots) {
		free(sp);
		return NULL;
	}
	return sp;
}

void strpool_free(struct strpool *sp)
{
	size_t i;

	if (!sp)
		return;
	for (i = 0; i <= sp->mask; i++)
		free(sp->slots[i]);
	free(sp->slots);
	free(sp);
}

static int grow(struct strpool *sp)
{
	size_t i, j, nmask = sp->mask * 2 + 1;
	struct entry **ns = calloc(nmask + 1, sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (i = 0; i <= sp->mask; i++) {
		if (!sp->slots[i])
			continue;
		for (j = sp->slots[i]->hash & nmask; ns[j]; j = (j + 1) & nmask)
			;
		ns[j] = sp->slots[i];
	}
	free(sp->slots);
	sp->slots = ns;
	sp->mask = nmask;
	return 0;
}

const char *strpool_get(struct strpool *sp, const char *s)
{
	uint32_t h = str_hash(s);
	size_t i, len;
	struct entry *e;

	for (i = h & sp->mask; (e = sp->slots[i]); i = (i + 1) & sp->mask) {
		if (e->hash == h && !strcmp(e->s, s)) {
			e->refs++;
			return e->s;
		}
	}
	/* Keep the load factor under 1/2 so probes stay short. */
	if ((sp->count + 1) * 2 > sp->mask + 1) {
		if (grow(sp) < 0) {
			errno = ENOMEM;
			return NULL;
		}
		for (i = h & sp->mask; sp->slots[i]; i = (i + 1) & sp->mask)
			;
	}
	len = strlen(s);
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	e->hash = h;
	e->refs = 1;
	memcpy(e->s, s, len + 1);
	sp->slots[i] = e;
	sp->count++;
	sp->bytes += sizeof(*e) + len + 1;
	return e->s;
}

void strpool_put(struct strpool *sp, const char *s)
{
	struct entry *e, *m;
	size_t i, j, k;

	if (!s)
		return;
	e = entry_of(s);
	if (--e->refs)
		return;
	for (i = e->hash & sp->mask; sp->slots[i] != e; i = (i + 1) & sp->mask)
		;
	/* Backward-shift deletion: move later members of the probe run into
	 * the hole when their home slot does not lie between hole and them. */
	for (j = i;;) {
		sp->slots[i] = NULL;
		for (;;) {
			j = (j + 1) & sp->mask;
			m = sp->slots[j];
			if (!m)
				goto done;
			k = m->hash & sp->mask;
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		sp->slots[i] = m;
		i = j;
	}
done:
	sp->count--;
	sp->bytes -= sizeof(*e) + strlen(e->s) + 1;
	free(e);
}

size_t strpool_count(const struct strpool *sp)
{
	return sp->count;
}

size_t strpool_bytes(const struct strpool *sp)
{
	return sp->bytes;
}
