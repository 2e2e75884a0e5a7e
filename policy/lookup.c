#include "policy/lookup.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Keep tables at most half full so probe sequences stay short. */
static size_t grown_cap(size_t n, size_t cap)
{
	return (n + 1) * 2 > cap ? (cap ? cap * 2 : 16) : cap;
}

static uint64_t mix64(uint64_t x)
{
	/* splitmix64 finaliser: cheap and spreads MACs that differ in one byte. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* ---- MAC ----------------------------------------------------------------- */

struct mac_slot {
	uint64_t key;		/* MAC in the low 48 bits, bit 63 set when used */
	void *value;
};

struct mac_table {
	struct mac_slot *slots;
	size_t n, cap;		/* cap is a power of two */
};

#define SLOT_USED (1ULL << 63)

static uint64_t mac_key(const uint8_t m[6])
{
	return (uint64_t)m[0] << 40 | (uint64_t)m[1] << 32 | (uint64_t)m[2] << 24 |
	       (uint64_t)m[3] << 16 | (uint64_t)m[4] << 8 | m[5] | SLOT_USED;
}

struct mac_table *mac_table_new(void)
{
	return calloc(1, sizeof(struct mac_table));
}

void mac_table_free(struct mac_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

static struct mac_slot *mac_find(struct mac_slot *slots, size_t cap, uint64_t key)
{
	size_t i = mix64(key) & (cap - 1);

	while (slots[i].key && slots[i].key != key)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

int mac_table_add(struct mac_table *t, const uint8_t mac[6], void *value, void **old)
{
	uint64_t key = mac_key(mac);
	size_t cap = grown_cap(t->n, t->cap), i;
	struct mac_slot *s;

	if (cap != t->cap) {
		struct mac_slot *slots = calloc(cap, sizeof(*slots));

		if (!slots)
			return -ENOMEM;
		for (i = 0; i < t->cap; i++)
			if (t->slots[i].key)
				*mac_find(slots, cap, t->slots[i].key) = t->slots[i];
		free(t->slots);
		t->slots = slots;
		t->cap = cap;
	}
	s = mac_find(t->slots, t->cap, key);
	if (s->key) {
		if (old)
			*old = s->value;
		return -EEXIST;
	}
	s->key = key;
	s->value = value;
	t->n++;
	return 0;
}

void *mac_table_get(const struct mac_table *t, const uint8_t mac[6])
{
	if (!t->n)
		return NULL;
	return mac_find(t->slots, t->cap, mac_key(mac))->value;
}

/* ---- prefixes ------------------------------------------------------------- */

struct prefix_slot {
	uint64_t hi, lo;	/* the masked address as two words */
	void *value;		/* NULL: free slot (values are never NULL) */
};

struct prefix_len {
	unsigned len;
	size_t n, cap;
	struct prefix_slot *slots;
};

/* Lengths present, longest first; index 0 for IPv4, 1 for IPv6. */
struct prefix_table {
	struct prefix_len *lens[2];
	size_t n_lens[2];
	size_t total;
};

/* The address as two big-endian words, so masking a prefix is two ANDs. */
static void load_words(const uint8_t *addr, unsigned bytes, uint64_t *hi, uint64_t *lo)
{
	uint8_t b[16] = { 0 };
	unsigned i;

	memcpy(b, addr, bytes);
	*hi = *lo = 0;
	for (i = 0; i < 8; i++) {
		*hi = *hi << 8 | b[i];
		*lo = *lo << 8 | b[i + 8];
	}
}

static void mask_words(unsigned len, uint64_t *hi, uint64_t *lo)
{
	if (len == 0) {
		*hi = *lo = 0;
	} else if (len < 64) {
		*hi &= ~0ULL << (64 - len);
		*lo = 0;
	} else if (len == 64) {
		*lo = 0;
	} else if (len < 128) {
		*lo &= ~0ULL << (128 - len);
	}
}

static size_t prefix_hash(uint64_t hi, uint64_t lo, unsigned len)
{
	return (size_t)mix64(hi ^ mix64(lo ^ len));
}

static struct prefix_slot *prefix_find(struct prefix_slot *slots, size_t cap,
				       uint64_t hi, uint64_t lo, unsigned len)
{
	size_t i = prefix_hash(hi, lo, len) & (cap - 1);

	while (slots[i].value && (slots[i].hi != hi || slots[i].lo != lo))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

struct prefix_table *prefix_table_new(void)
{
	return calloc(1, sizeof(struct prefix_table));
}

void prefix_table_free(struct prefix_table *t)
{
	size_t f, i;

	if (!t)
		return;
	for (f = 0; f < 2; f++) {
		for (i = 0; i < t->n_lens[f]; i++)
			free(t->lens[f][i].slots);
		free(t->lens[f]);
	}
	free(t);
}

static struct prefix_len *get_len(struct prefix_table *t, int fi, unsigned len)
{
	struct prefix_len *v;
	size_t i, n = t->n_lens[fi];

	for (i = 0; i < n && t->lens[fi][i].len >= len; i++)
		if (t->lens[fi][i].len == len)
			return &t->lens[fi][i];
	v = realloc(t->lens[fi], (n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	memmove(&v[i + 1], &v[i], (n - i) * sizeof(*v));
	memset(&v[i], 0, sizeof(*v));
	v[i].len = len;
	t->lens[fi] = v;
	t->n_lens[fi] = n + 1;
	return &v[i];
}

int prefix_table_add(struct prefix_table *t, int family, const uint8_t *addr,
		     unsigned len, void *value, void **old)
{
	int fi = family == AF_INET6;
	unsigned bytes = fi ? 16 : 4;
	struct prefix_len *pl;
	struct prefix_slot *s;
	uint64_t hi, lo;
	size_t cap, i;

	if (!value || len > bytes * 8)
		return -EINVAL;
	pl = get_len(t, fi, len);
	if (!pl)
		return -ENOMEM;
	cap = grown_cap(pl->n, pl->cap);
	if (cap != pl->cap) {
		struct prefix_slot *slots = calloc(cap, sizeof(*slots));

		if (!slots)
			return -ENOMEM;
		for (i = 0; i < pl->cap; i++)
			if (pl->slots[i].value)
				*prefix_find(slots, cap, pl->slots[i].hi, pl->slots[i].lo, len) =
					pl->slots[i];
		free(pl->slots);
		pl->slots = slots;
		pl->cap = cap;
	}
	load_words(addr, bytes, &hi, &lo);
	mask_words(len, &hi, &lo);
	s = prefix_find(pl->slots, pl->cap, hi, lo, len);
	if (s->value) {
		if (old)
			*old = s->value;
		return -EEXIST;
	}
	s->hi = hi;
	s->lo = lo;
	s->value = value;
	pl->n++;
	t->total++;
	return 0;
}

void *prefix_table_match(const struct prefix_table *t, int family, const uint8_t *addr,
			 unsigned max_len, unsigned *len)
{
	int fi = family == AF_INET6;
	uint64_t a_hi, a_lo;
	size_t i;

	if ((family != AF_INET && family != AF_INET6) || !t->n_lens[fi])
		return NULL;
	load_words(addr, fi ? 16 : 4, &a_hi, &a_lo);
	for (i = 0; i < t->n_lens[fi]; i++) {
		const struct prefix_len *pl = &t->lens[fi][i];
		struct prefix_slot *s;
		uint64_t hi = a_hi, lo = a_lo;

		if (pl->len > max_len || !pl->n)
			continue;
		mask_words(pl->len, &hi, &lo);
		s = prefix_find(pl->slots, pl->cap, hi, lo, pl->len);
		if (s->value) {
			if (len)
				*len = pl->len;
			return s->value;
		}
	}
	return NULL;
}

bool prefix_table_empty(const struct prefix_table *t)
{
	return t->total == 0;
}

/* ---- names ---------------------------------------------------------------- */

struct name_slot {
	const char *key;	/* NULL: free */
	size_t len;
	uint32_t extra;
	void *value;
};

struct name_table {
	bool fold;
	struct name_slot *slots;
	size_t n, cap;
};

static uint64_t name_hash(const struct name_table *t, const char *s, size_t len, uint32_t extra)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ extra;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (t->fold && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 0x100000001b3ULL;
	}
	return mix64(h);
}

static bool name_eq(const struct name_table *t, const struct name_slot *s,
		    const char *key, size_t len, uint32_t extra)
{
	if (s->len != len || s->extra != extra)
		return false;
	return t->fold ? strncasecmp(s->key, key, len) == 0 : memcmp(s->key, key, len) == 0;
}

static struct name_slot *name_find(const struct name_table *t, struct name_slot *slots,
				   size_t cap, const char *key, size_t len, uint32_t extra)
{
	size_t i = name_hash(t, key, len, extra) & (cap - 1);

	while (slots[i].key && !name_eq(t, &slots[i], key, len, extra))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

struct name_table *name_table_new(bool fold_case)
{
	struct name_table *t = calloc(1, sizeof(*t));

	if (t)
		t->fold = fold_case;
	return t;
}

void name_table_free(struct name_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

int name_table_add(struct name_table *t, const char *key, uint32_t extra, void *value, void **old)
{
	size_t len = strlen(key), cap = grown_cap(t->n, t->cap), i;
	struct name_slot *s;

	if (cap != t->cap) {
		struct name_slot *slots = calloc(cap, sizeof(*slots));

		if (!slots)
			return -ENOMEM;
		for (i = 0; i < t->cap; i++)
			if (t->slots[i].key)
				*name_find(t, slots, cap, t->slots[i].key, t->slots[i].len,
					   t->slots[i].extra) = t->slots[i];
		free(t->slots);
		t->slots = slots;
		t->cap = cap;
	}
	s = name_find(t, t->slots, t->cap, key, len, extra);
	if (s->key) {
		if (old)
			*old = s->value;
		return -EEXIST;
	}
	s->key = key;
	s->len = len;
	s->extra = extra;
	s->value = value;
	t->n++;
	return 0;
}

void *name_table_get(const struct name_table *t, const char *key, size_t len, uint32_t extra)
{
	if (!t->n)
		return NULL;
	return name_find(t, t->slots, t->cap, key, len, extra)->value;
}

size_t name_table_count(const struct name_table *t)
{
	return t->n;
}
