/*
 * nftables/ipt.h: the same kernel half of iotjail's verdicts as nft.h, for
 * kernels without nf_tables (EdgeOS: Linux 3.10, iptables 1.4.x): legacy
 * iptables (x_tables), driven through iptables-restore.
 *
 * Chains of our own, all named IOTJAIL*, in two tables of iptables and of
 * ip6tables, each hooked by one rule at the top of FORWARD:
 *
 *   mangle (priority -150)  IOTJAIL, IOTJAIL-FWD, IOTJAIL-QUAR,
 *                           IOTJAIL-QDROP, IOTJAIL-TRUST, and
 *                           IOTJAIL-OBSERVE while there are observed
 *                           devices: what nft's `forward` chain does,
 *                           ending in NFQUEUE
 *   filter (priority 0)     IOTJAIL, IOTJAIL-MARK-ALLOW, IOTJAIL-MARK-PASS,
 *                           IOTJAIL-REJECT: nft's `verdict` chain (the
 *                           daemon's packet mark copied into the conntrack
 *                           mark), and the rejects (REJECT is a filter-only
 *                           target)
 *
 * A packet the daemon accepts from the queue goes on with the next table
 * on the hook, filter, as it goes on with nft's `verdict` chain.  The mark
 * layout (nft.h) and the counters (enum ijnft_ctr) are the same;
 * docs/iptables.md shows the rules and says what the old kernels cannot do.
 *
 * Every change is one iptables-restore --noflush run per family, with the
 * rules on its stdin: atomic per table (a COMMIT replaces the whole table
 * in the kernel at once); filter is written before mangle, so a failure
 * half-way leaves no queue rule without its verdict rules, and the library
 * undoes what it applied (install: removes it; set_generation: re-applies
 * the previous generation).  Only options iptables 1.4.11 has are used
 * (docs/iptables.md lists them).
 *
 * Quarantine: one `-m mac --mac-source` rule per MAC in IOTJAIL-QUAR (no
 * ipset: EdgeOS may lack it).  x_tables rules have no timeouts: each rule
 * carries its expiry in its comment (expires=<CLOCK_MONOTONIC ms>), and
 * ijipt_expire(), called about once a second, deletes the rules that are
 * due.  While no daemon runs, quarantines do not expire.
 *
 * Conventions as nft.h: 0 or -errno, nothing logs, no global state; the
 * binaries are run with posix_spawn() (no shell), absolute paths found by
 * ijipt_open().  Thread safety: one handle per thread; handles made with
 * ijipt_open_peer() share their parent's lock and quarantine list, so the
 * daemon's workers can quarantine while the main thread reloads.
 */
#ifndef IOTJAIL_NFTABLES_IPT_H
#define IOTJAIL_NFTABLES_IPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nftables/nft.h"

#define IJIPT_PREFIX		"IOTJAIL"	/* every chain of ours */
#define IJIPT_MAX_QUARANTINE	1024

enum ijipt_family {
	IJIPT_IPV4,	/* iptables */
	IJIPT_IPV6,	/* ip6tables */
	__IJIPT_FAMILY_MAX
};

/* A quarantined MAC; expires_ms is CLOCK_MONOTONIC milliseconds, 0 never. */
struct ijipt_quarantine {
	uint8_t mac[6];
	uint64_t expires_ms;
};

/*
 * ijnft_config_check(), and what iptables cannot express: an interface name
 * ending in '+' (an iptables wildcard) or holding a quote or a '!'.
 * cfg->queue_kind is ignored.
 */
int ijipt_config_check(const struct ijnft_config *cfg, const char **why);

/* --- kernel-free text, for tests and dry runs ----------------------------
 *
 * Each returns the length of the whole text (without its NUL), like
 * snprintf: a result >= len means buf holds only its beginning.  -EINVAL
 * for a bad configuration.
 */

/*
 * The iptables-restore --noflush input that installs the ruleset of family
 * f.  current: iptables-save's output for that family (all tables) or NULL
 * if nothing is there; from it come the `-D` lines of every rule that
 * jumps to a chain of ours from a built-in chain, and the removal of our
 * chains that the new ruleset does not have, so that re-installing never
 * duplicates anything.
 */
int ijipt_build_install(const struct ijnft_config *cfg, enum ijipt_family f,
			const char *current, char *buf, size_t len);
/*
 * Reload: flushes and refills every chain but the quarantine's (`-F`, which
 * fails if the chain is missing), counters preset from start (the counters
 * of family f; NULL: zero).  Every counter goes into the first rule that
 * carries its name.  IOTJAIL-OBSERVE is declared (created or flushed) when
 * the family has observed devices, else deleted if current (iptables-save
 * output of family f) has it, or always if current is NULL (unknown).
 */
int ijipt_build_generation(const struct ijnft_config *cfg,
			   enum ijipt_family f, const char *current,
			   const struct ijnft_counters *start, char *buf,
			   size_t len);
/* IOTJAIL-QUAR flushed and refilled with q[0..n). */
int ijipt_build_quarantine(const struct ijipt_quarantine *q, unsigned int n,
			   char *buf, size_t len);
/* Removal of every chain of ours in current and of the rules jumping to
 * them; 0 (and "" in buf) if there is nothing of ours. */
int ijipt_build_remove(const char *current, char *buf, size_t len);

/*
 * From iptables-save -c output: the counters of our rules, by comment, added
 * into *out (which the caller zeroes).  Returns how many rules of ours the
 * text has (0: not installed).
 */
int ijipt_parse_counters(const char *save, struct ijnft_counters *out);
/* From iptables-save output: the quarantine rules, at most max of them. */
int ijipt_parse_quarantine(const char *save, struct ijipt_quarantine *q,
			   unsigned int max);

/* --- kernel operations (CAP_NET_ADMIN in the current netns) --------------- */

struct ijipt;

/*
 * Finds iptables-legacy-restore and -save (or iptables-restore and -save
 * if they are not the nf_tables variant) and the ip6tables ones in /usr/sbin,
 * /sbin, /usr/local/sbin, /usr/bin, /bin.  Changes nothing in the kernel.
 * -ENOENT with *why (static text) naming what is missing.
 */
int ijipt_open(struct ijipt **out, const char **why);
/* A handle for another thread sharing main's lock and quarantine list;
 * main must outlive it. */
int ijipt_open_peer(struct ijipt **out, struct ijipt *main);
/* Leaves the ruleset as it is.  NULL is a no-op. */
void ijipt_close(struct ijipt *h);

/*
 * Whether the kernel takes every match and target of the ruleset: a scratch
 * chain IOTJAIL-PROBE with one rule of each in mangle and filter, both
 * families, committed and deleted again (never hooked, so no packet meets
 * it).  Runs once per handle; later calls return the first result.
 */
int ijipt_probe(struct ijipt *h);

int ijipt_install(struct ijipt *h, const struct ijnft_config *cfg);
/* -ENOENT if not installed.  Counters are carried over (packets counted
 * between reading and replacing them are lost). */
int ijipt_set_generation(struct ijipt *h, const struct ijnft_config *cfg);
/* timeout_ms 0: until removed.  Replaces the timeout of a MAC present. */
int ijipt_quarantine_add(struct ijipt *h, const uint8_t mac[6],
			 uint32_t timeout_ms);
/* -ENOENT if mac is not quarantined. */
int ijipt_quarantine_del(struct ijipt *h, const uint8_t mac[6]);
/* Deletes the quarantines that are due.  Cheap when none is (no process
 * run).  Returns how many were released, or -errno. */
int ijipt_expire(struct ijipt *h);
/* Both families summed.  -ENOENT if not installed. */
int ijipt_counters(struct ijipt *h, struct ijnft_counters *out);
/* Every chain of ours and the rules jumping to them; 0 if none was there. */
int ijipt_remove(struct ijipt *h);

/*
 * After a failure: what failed, with iptables' own message and the input
 * line it names, e.g. "ip6tables-legacy-restore: line 12 (-A IOTJAIL-FWD
 * ... -j NFQUEUE ...): Couldn't load target `NFQUEUE'...".  Borrowed; valid
 * until the next operation.  NULL if the last one did not fail.
 */
const char *ijipt_error_what(const struct ijipt *h);
/* "iptables-restore v1.8.9 (legacy), /usr/sbin/iptables-legacy-restore" */
const char *ijipt_describe(const struct ijipt *h);

#endif
