/*
 * arena: bump allocator for everything a loaded policy (or a parsed YAML
 * tree) owns.  A policy is built once and freed whole, so one arena per
 * object makes loading 10 000 devices cheap and freeing trivially correct.
 */
#ifndef IOTJAIL_POLICY_ARENA_H
#define IOTJAIL_POLICY_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_new(void);		/* NULL with errno on ENOMEM */
void arena_free(struct arena *a);	/* NULL is a no-op */
/* Zeroed, aligned for any type; NULL on ENOMEM (or n overflow). */
void *arena_alloc(struct arena *a, size_t n);
void *arena_calloc(struct arena *a, size_t n, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
