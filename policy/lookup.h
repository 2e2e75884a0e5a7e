/*
 * lookup: the hash tables behind device matching, built once at load and
 * only read afterwards (so lookups are safe from any number of threads).
 *
 * - mac_table: 48-bit MAC -> value.
 * - prefix_table: longest-prefix match, one open-addressing hash per prefix
 *   length present, tried from the longest length down.  A policy uses few
 *   lengths (/32 and /128 for hosts, /24 and /64 for LANs), so a lookup is a
 *   handful of probes whatever the number of devices.
 * - name_table: string (+ a small integer) -> value, optionally
 *   case-insensitive, for nDPI names, device names and (port, vlan) keys.
 */
#ifndef IOTJAIL_POLICY_LOOKUP_H
#define IOTJAIL_POLICY_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mac_table;
struct prefix_table;
struct name_table;

struct mac_table *mac_table_new(void);
void mac_table_free(struct mac_table *t);
/* 0; -EEXIST (and *old set, if old) if mac is already in; -ENOMEM. */
int mac_table_add(struct mac_table *t, const uint8_t mac[6], void *value, void **old);
void *mac_table_get(const struct mac_table *t, const uint8_t mac[6]);

struct prefix_table *prefix_table_new(void);
void prefix_table_free(struct prefix_table *t);
/* addr is masked to len by the caller.  0; -EEXIST (*old set); -ENOMEM. */
int prefix_table_add(struct prefix_table *t, int family, const uint8_t *addr,
		     unsigned len, void *value, void **old);
/*
 * Longest prefix of length <= max_len containing addr (max_len 128 for no
 * bound); its value, and its length into *len if len is not NULL.
 */
void *prefix_table_match(const struct prefix_table *t, int family, const uint8_t *addr,
			 unsigned max_len, unsigned *len);
bool prefix_table_empty(const struct prefix_table *t);

struct name_table *name_table_new(bool fold_case);
void name_table_free(struct name_table *t);
/* key is borrowed and must outlive the table.  0; -EEXIST (*old); -ENOMEM. */
int name_table_add(struct name_table *t, const char *key, uint32_t extra, void *value, void **old);
void *name_table_get(const struct name_table *t, const char *key, size_t len, uint32_t extra);
size_t name_table_count(const struct name_table *t);

#endif
