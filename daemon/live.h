/* live.h - the daemon: ruleset, queue workers, signals, reload.
 *
 *   iotjaild -c POLICY --bridge BR           bridge mode
 *   iotjaild -c POLICY --router --lan IF...  router mode
 *
 * Start-up: check the policy, set the sysctls the ruleset needs, bind one
 * queue per worker, install the ruleset (nft's `inet iotjail` in one batch,
 * or legacy iptables chains: --backend), start the workers,
 * write the pid file.  SIGHUP reloads the policy (a bad one is refused and
 * the running one kept), SIGTERM/SIGINT exit cleanly (the table is removed
 * unless keep_table), SIGUSR1 logs the counters; SIGHUP and SIGUSR1 reopen
 * the alert log (logrotate).  Once a second the watcher's clock ticks;
 * every ACCT_INTERVAL the kernel's byte counts of decided flows are read
 * (conntrack accounting) and credited; every STATE_INTERVAL and at exit
 * the state file is written.
 */
#ifndef IOTJAIL_LIVE_H
#define IOTJAIL_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/pipeline.h"
#include "daemon/watch.h"
#include "nftables/nft.h"
#include "nftables/ruleset.h"

struct live_opts {
	const char *config;		/* policy file */
	enum ijnft_mode mode;
	char ifnames[IJNFT_MAX_IFNAMES][IJNFT_IFNAMSIZ];
	unsigned n_ifnames;
	unsigned workers;		/* 0: one per online CPU */
	uint16_t queue_first;
	struct pipeline_config pipeline;
	bool inspect_set;		/* else the policy's inspect_packets */
	bool fail_closed;
	bool classify_all;		/* no early decisions (policy) */
	bool keep_table;		/* leave the ruleset on exit */
	enum ijrs_backend backend;	/* nft, iptables, or auto (probe) */
	bool foreground;		/* else detach, log to syslog */
	bool text;			/* human lines on stdout */
	uint32_t quarantine_timeout_ms;	/* 0: until removed */
	const char *pid_file;		/* NULL or "": none */
	const char *alerts_path;	/* NULL: none */
	uint64_t alerts_max_bytes;	/* rotate beyond; 0: no cap */
	const char *flows_path;
	const char *state_path;		/* NULL or "": no state file */
	const char *control_path;	/* NULL or "": no control socket */
	const char *control_group;	/* NULL: root only (0600) */
	struct watch_config watch;
};

/* Runs until a signal ends it.  Returns the process exit status. */
int live_run(const struct live_opts *o);

#endif
