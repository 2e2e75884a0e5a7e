/*
 * nftables/ruleset.h: one door to the kernel half of iotjail's verdicts,
 * whichever backend holds it:
 *
 *   nft       the `inet iotjail` nf_tables table (nft.h)
 *   iptables  legacy iptables chains IOTJAIL* (ipt.h), for kernels
 *             without nf_tables (EdgeOS, Linux 3.10)
 *
 * Both take the same configuration (struct ijnft_config), keep verdicts in
 * the same conntrack mark bits (nft.h) and fill the same counters (enum
 * ijnft_ctr), so the daemon does not care which one runs.  "auto" takes
 * nft when the kernel's nf_tables can queue (ijnft_probe_queue()), else
 * iptables when its probe passes.
 *
 * Conventions as nft.h: 0 or -errno, nothing logs; one handle per thread
 * (ijrs_open_peer() for the others).
 */
#ifndef IOTJAIL_NFTABLES_RULESET_H
#define IOTJAIL_NFTABLES_RULESET_H

#include "nftables/nft.h"

enum ijrs_backend {
	IJRS_AUTO,
	IJRS_NFT,
	IJRS_IPTABLES,
	__IJRS_BACKEND_MAX
};

/* "auto", "nft", "iptables"; NULL if out of range. */
const char *ijrs_backend_name(enum ijrs_backend b);
/* The reverse; -EINVAL for anything else. */
int ijrs_backend_parse(const char *name, enum ijrs_backend *out);

struct ijrs;

/*
 * Opens a backend.  IJRS_NFT or IJRS_IPTABLES: that one, without a probe
 * (nothing changes in the kernel).  IJRS_AUTO: probes nft, then iptables,
 * and keeps the first that works.  On failure *out is NULL and why (if not
 * NULL) says why in a sentence (for auto: both reasons).
 */
int ijrs_open(struct ijrs **out, enum ijrs_backend b, char *why,
	      size_t why_len);
/* A handle on main's backend for another thread (the daemon's workers
 * quarantine); no probe.  main must outlive it. */
int ijrs_open_peer(struct ijrs **out, struct ijrs *main);
/* Leaves the ruleset as it is.  NULL is a no-op. */
void ijrs_close(struct ijrs *h);

/* Whether this kernel takes the backend's ruleset (once per handle; nft:
 * which queue it uses).  ijrs_error_what() says why not. */
int ijrs_probe(struct ijrs *h);
enum ijrs_backend ijrs_backend(const struct ijrs *h);
/* For the log, after a probe: "nftables, xt NFQUEUE target (nft_compat)",
 * "iptables, iptables-restore v1.8.9 (legacy), /usr/sbin/...". */
const char *ijrs_describe(const struct ijrs *h);
/* What is installed, for messages: "table inet iotjail", "iptables chains
 * IOTJAIL*". */
const char *ijrs_ruleset_name(const struct ijrs *h);

/* As ijnft_install() etc.: cfg->queue_kind AUTO is resolved by the probe.
 * Installing one backend removes a ruleset the other left behind (a
 * --keep-table run, or a crash), which would still queue and judge. */
int ijrs_install(struct ijrs *h, const struct ijnft_config *cfg);
int ijrs_set_generation(struct ijrs *h, const struct ijnft_config *cfg);
int ijrs_quarantine_add(struct ijrs *h, const uint8_t mac[6],
			uint32_t timeout_ms);
int ijrs_quarantine_del(struct ijrs *h, const uint8_t mac[6]);
/* Releases the quarantines that are due where the kernel cannot time them
 * (iptables); call about once a second.  Returns how many, or -errno. */
int ijrs_expire(struct ijrs *h);
int ijrs_counters(struct ijrs *h, struct ijnft_counters *out);
int ijrs_remove(struct ijrs *h);
/* After a failure: what failed (the message, or the iptables line and
 * iptables' words); NULL if not known.  Borrowed. */
const char *ijrs_error_what(const struct ijrs *h);

#endif
