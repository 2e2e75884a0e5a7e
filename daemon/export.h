/* export.h - the parts of a learnt policy that are pure functions.
 *
 * daemon/learn.c records what learn-mode devices do and writes a policy
 * that allows it; what does not depend on the recorder is here, one
 * function per decision, so each can be tested alone
 * (tests/unit/test_export.c):
 *   - YAML: scalars (plain, or double-quoted when they must be) and
 *     comments, whatever bytes the network put in a name;
 *   - host names: which can be written in a rule, and how several become
 *     a wildcard ("*.vendor-cloud.example");
 *   - addresses: how several become a prefix (/24, /64);
 *   - devices that behave alike: one profile, and its name;
 *   - report intervals: the `every` / `tolerance` worth suggesting.
 * Nothing here allocates except export_names() (its result) and nothing
 * keeps state.
 */
#ifndef IOTJAIL_EXPORT_H
#define IOTJAIL_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- YAML ------------------------------------------------------------------ */

/* Can S be written as a plain scalar, in block and in flow context (a list
 * "[a, b]"), and read back as the string S?  Letters, digits and
 * "-_./:()+@" only, starting with a letter or a digit, and no word YAML
 * 1.1 reads as something else (true, no, null...).  false for "". */
bool export_plain_ok(const char *s);

/* S as a plain scalar, or in double quotes with '"' and '\' escaped and
 * every byte outside printable ASCII as \xNN (YAML reads that as the code
 * point U+00NN: a non-ASCII byte does not come back as itself, which is
 * why the learner writes only names that are ASCII). */
void export_scalar(FILE *out, const char *s);

/* One comment line: INDENT spaces, "# ", the text, a newline.  Bytes
 * outside printable ASCII in the text become '?', so nothing seen on the
 * wire can end the comment and start YAML of its own. */
void export_comment(FILE *out, unsigned indent, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- host names ---------------------------------------------------------- */

#define EXPORT_HOST_MAX 254

/*
 * HOST as a rule can name it, lower case and without a final dot, into OUT:
 * labels of letters, digits, '-' and '_', at least two, at most 253
 * characters, and a letter in the last label (so "203.0.113.7" or
 * "[2001:db8::1]" are not taken for names: the loader would read them as
 * addresses).  false for anything else; the learner then records the
 * flow's address instead.
 */
bool export_host_ok(const char *host, char out[EXPORT_HOST_MAX]);

struct export_strv {
	char **v;
	size_t n;
};
void export_strv_free(struct export_strv *s);

/*
 * NAMES (as export_host_ok() gives them) as fewer patterns that match every
 * one of them, sorted:
 *   1. two or more names under one parent domain become "*.parent" (the
 *      parent at least the names' registrable domain, names_base(): never
 *      "*.example" or "*.co.uk"), and a name that is itself that parent is
 *      kept beside it, since "*.parent" does not match "parent";
 *   2. if that still leaves more than MAX patterns, names under one
 *      registrable domain become "*.domain" the same way.
 * Names a wildcard covers are dropped.  0 or -ENOMEM.  The caller decides
 * what to do when OUT->n is still above MAX (the learner says `wan`).
 */
int export_names(const char *const *names, size_t n, size_t max,
		 struct export_strv *out);

/* ---- addresses ------------------------------------------------------------- */

struct export_addr {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t len;		/* prefix length; 32 / 128 for one address */
	uint8_t addr[16];	/* network order, host bits zero */
};

/*
 * Distinct host addresses IN as prefixes into OUT (room for N): two or more
 * in one IPv4 /24 or IPv6 /64 become that prefix, the others stay
 * themselves.  Sorted (IPv4 first, then by address).  Returns the count.
 */
size_t export_prefixes(const struct export_addr *in, size_t n,
		       struct export_addr *out);

/* "192.0.2.0/24", "192.0.2.7" (a host: no length), "2001:db8::/64". */
void export_addr_str(const struct export_addr *a, char *buf, size_t len);

/* Is the address a multicast or broadcast group (nobody's device)? */
bool export_addr_is_group(int family, const uint8_t *addr);

/* ---- devices and profiles ----------------------------------------------- */

/* A device name for a machine the policy did not declare: by its MAC
 * ("dev-02-00-00-00-00-10"), else its address ("dev-192-168-1-7",
 * "dev-fd00-1--7").  A valid policy device name; MAC NULL for none. */
void export_device_name(const uint8_t *mac, int family, const uint8_t *addr,
			char *buf, size_t len);

/* GROUP[i] = the smallest j with KEYS[j] equal to KEYS[i]: devices whose
 * rules read the same share the profile of the first of them. */
void export_group(const char *const *keys, size_t n, size_t *group);

/* The name of a profile shared by NAMES: one name, itself; several, their
 * common beginning without the trailing '-', '_' and digits ("plug-1",
 * "plug-2": "plug") when that leaves two characters or more and more than
 * "dev" (how every undeclared machine's name begins); else the first name
 * and "-like" ("dev-02-00-00-00-00-10-like"). */
void export_profile_name(const char *const *names, size_t n, char *buf,
			 size_t len);

/* ---- report intervals ------------------------------------------------------ */

/* Intervals between a service's reports, in seconds (Welford). */
struct export_interval {
	uint64_t n;
	double mean, m2, min, max;
};
void export_interval_add(struct export_interval *iv, double s);
void export_interval_merge(struct export_interval *into,
			   const struct export_interval *from);
/*
 * An `every` and `tolerance` (whole seconds, as the policy takes them) for
 * a service that reports regularly: at least 3 intervals, the mean at
 * least 10 s (more often is a stream, not reports), every interval
 * within 25 % of it.  The tolerance covers what was seen and a margin
 * (the larger of the widest deviation plus 1 s and a tenth of the mean),
 * below every.  false: nothing regular to suggest.
 */
bool export_interval_suggest(const struct export_interval *iv,
			     unsigned *every_s, unsigned *tolerance_s);

#endif
