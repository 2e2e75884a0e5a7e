/*
 * value: the scalar notations of the policy language.  Each parser returns
 * NULL on success or a static string saying what is wrong, which the loader
 * puts after the offending token's position.
 */
#ifndef IOTJAIL_POLICY_VALUE_H
#define IOTJAIL_POLICY_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An address prefix; addr is masked to len. */
struct value_prefix {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t len;		/* 0..32 or 0..128 */
	uint8_t addr[16];	/* network order */
};

/* A port range, optionally for one L4 protocol. */
struct value_ports {
	uint16_t lo, hi;
	uint8_t l4;		/* 0: any, else IPPROTO_TCP or IPPROTO_UDP */
};

const char *value_uint(const char *s, uint64_t max, uint64_t *out);
/* "90s", "5m", "1h30m", "250ms", "2d": milliseconds. */
const char *value_duration(const char *s, uint64_t *ms);
/* "50MB", "1GiB", "512 KB": bytes (kB/MB/GB/TB are powers of 1000, KiB... of 1024). */
const char *value_size(const char *s, uint64_t *bytes);
/* "30/min", "5/s", "100/h", "1000/d": a count per window. */
const char *value_rate(const char *s, uint32_t *count, uint32_t *window_ms);
/* "02:00:00:00:00:10", "02-00-00-00-00-10", "0200.0000.0010". */
const char *value_mac(const char *s, uint8_t mac[6]);
/*
 * "192.168.1.10", "192.168.1.0/24", "fd00:1::/64".  With host bits set,
 * fills *p with the masked prefix (for a "did you mean") and fails.
 */
const char *value_prefix(const char *s, struct value_prefix *p);
/* "554", "554/tcp", "8000-8080", "5353/udp". */
const char *value_ports(const char *s, struct value_ports *p);
/* "vendor.example", "*.vendor.example": lower-cases into out (size >= 256). */
const char *value_host_pattern(const char *s, char *out, size_t outlen);
/* Device and profile names: a letter or digit, then letters, digits, '-', '_'. */
const char *value_name(const char *s);
/* Bridge port (interface) names: 1..15 bytes, no '/', no blanks. */
const char *value_ifname(const char *s);

/* Is p inside q (q no longer than p and equal on q's bits)? */
bool value_prefix_contains(const struct value_prefix *q, const struct value_prefix *p);
/* "192.168.1.0/24" (or the bare address for a host prefix) into buf. */
void value_prefix_format(const struct value_prefix *p, char *buf, size_t len);

/*
 * The candidate nearest to word (case-insensitive edit distance, a swap of
 * two neighbours counting as one edit), or NULL if none is near enough to be
 * a plausible typo.  Candidates may contain NULLs, which are skipped.
 */
const char *value_suggest(const char *word, const char *const *cands, size_t n);

#endif
