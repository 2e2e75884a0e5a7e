/*
 * live-int.h - the running daemon's state, shared by live.c (set-up, main
 * loop, reload) and livectl.c (the control socket's commands).  Everything
 * here belongs to the main thread; the workers see only struct
 * live_shared.  Nothing outside those two files includes it.
 */
#ifndef IOTJAIL_LIVE_INT_H
#define IOTJAIL_LIVE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/control.h"
#include "daemon/live.h"
#include "daemon/worker.h"
#include "nftables/nft.h"
#include "nftables/ruleset.h"

#define MAX_WORKERS	16
#define MAX_RETIRED	8
#define LEARN_MAX	64	/* devices put in learn mode at run time */

struct jbuf;

/* Learn mode set at run time (`iotjailctl learn start`), applied to every
 * policy loaded after it, over what the file says. */
struct live_learn {
	bool all;
	unsigned n;
	char names[LEARN_MAX][CTL_NAME_MAX];
};

struct live {
	const struct live_opts *o;
	struct live_shared sh;
	struct ijrs *rs;		/* nft or iptables (--backend) */
	struct ijnft_config cfg;
	/* The queues' workers, then the observer (if any policy of this run
	 * has observed devices): w[n_queues]. */
	struct worker *w[MAX_WORKERS + 1];
	unsigned n_workers;		/* n_queues, + 1 with an observer */
	unsigned n_queues;
	uint64_t policy_hash;
	struct live_gen *retired[MAX_RETIRED];
	unsigned n_retired;
	bool pid_written;
	bool installed;
	uint64_t next_acct_ms, next_state_ms;
	bool acct_warned;
	uint64_t started_ms;		/* wall clock */
	/* What the trusted rules are built from: read only while a batch
	 * is built (install, reload), so one copy serves both. */
	struct ijnft_trusted trusted[IJNFT_MAX_TRUSTED];
	struct ijnft_prefix lan[IJNFT_MAX_LAN];
	struct live_learn learn_over;
	struct ctl_server *ctl;		/* or NULL */
	struct ring *recent_alerts;	/* alert JSON lines, for the socket */
};

/*
 * Check the policy file again and swap it in (SIGHUP, `iotjailctl reload`,
 * `learn start|stop`).  0: a new generation; 1: nothing changed; < 0:
 * refused, the running policy stays.  MSGS (if not NULL) is an open JSON
 * array that receives the checker's messages, WHY (if not NULL) why it was
 * refused.
 */
int live_reload(struct live *l, struct jbuf *msgs, char *why, size_t why_len);

/* Quarantine MAC (device D's, or the unknown device's) for TIMEOUT_MS (0:
 * until released), or release it; the watcher raises quarantine_applied /
 * quarantine_released.  0 or -errno (-ENOENT: release of a MAC that was
 * not quarantined). */
struct policy_device;
int live_quarantine(struct live *l, const struct policy_device *d,
		    const uint8_t mac[6], uint32_t timeout_ms, const char *why);
int live_release(struct live *l, const uint8_t mac[6], const char *why);

uint64_t live_wall_us(void);

/* The control socket's request handler (livectl.c). */
void livectl_handle(void *ctx, struct ctl_client *c,
		    const struct ctl_request *r, struct jbuf *reply);

#endif
