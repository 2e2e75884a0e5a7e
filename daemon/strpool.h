/* strpool.h - reference-counted interned strings.
 *
 * Decided flows keep their host name (SNI, HTTP Host, DNS query) for output
 * and policy; IoT devices talk to a handful of names, so one copy per
 * distinct name instead of one per flow keeps a decided flow small.
 */
#ifndef IOTJAIL_STRPOOL_H
#define IOTJAIL_STRPOOL_H

#include <stddef.h>

struct strpool;

struct strpool *strpool_new(void);
/* Frees the pool and every string still in it.  NULL is a no-op. */
void strpool_free(struct strpool *sp);

/* A pooled copy of S (one more reference), or NULL with errno on ENOMEM.
 * The pointer stays valid until the matching strpool_put(). */
const char *strpool_get(struct strpool *sp, const char *s);
/* Drop one reference to a string returned by strpool_get().  NULL is a
 * no-op. */
void strpool_put(struct strpool *sp, const char *s);

/* Distinct strings and bytes they use (for memory reports). */
size_t strpool_count(const struct strpool *sp);
size_t strpool_bytes(const struct strpool *sp);

#endif
