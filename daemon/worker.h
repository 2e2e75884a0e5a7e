/* worker.h - one NFQUEUE queue, one thread, one pipeline.
 *
 * A worker owns its queue socket, its flow table and its nDPI module; the
 * kernel balances flows over queues by a symmetric hash, so every packet of
 * a flow reaches the same worker and nothing per-flow is shared.  What the
 * workers share is read-only or lock-free:
 *   - the current generation (policy + device view), published by the main
 *     thread with one atomic pointer store; a worker picks it up at its next
 *     wakeup and acknowledges it, and the main thread frees an old
 *     generation only once every worker has acknowledged a newer one;
 *   - the device view (daemon/devview.h), sharded per worker;
 *   - the output files, written with one O_APPEND write(2) per line.
 */
#ifndef IOTJAIL_WORKER_H
#define IOTJAIL_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/nfq.h"
#include "daemon/pipeline.h"

struct ijrs;

struct policy;
struct devview;
struct alert_sink;
struct watch;
struct ctacct;
struct ring;
struct learn;

/* What a policy generation is: the policy, its device view, and the 8-bit
 * number its verdicts carry in the conntrack mark. */
struct live_gen {
	struct policy *policy;
	struct devview *view;
	uint8_t generation;
};

/* Where verdicts and alerts go.  fds are -1 when not wanted. */
struct live_out {
	struct alert_sink *alerts;	/* every alert: file, syslog, text */
	int flows_fd;		/* one JSON line per ended flow */
	bool text;		/* human lines on stdout (foreground) */
};

/* Shared by all workers and the main thread. */
struct live_shared {
	_Atomic(struct live_gen *) current;
	struct live_out out;
	struct watch *watch;	/* behaviour over time (thread-safe) */
	struct ctacct *acct;	/* decided flows whose kernel bytes are read,
				 * or NULL (thread-safe) */
	struct ring *recent_flows;	/* a struct flow_brief per decided flow,
					 * for the control socket, or NULL */
	struct learn *learn;	/* learn-mode devices' flows (thread-safe) */
	struct pipeline_config pipeline;
	uint32_t quarantine_timeout_ms;	/* 0: until removed */
	struct ijrs *rs;	/* the main thread's ruleset handle; workers
				 * quarantine through peers of it */
	bool classify_all;	/* never decide before classification */
	_Atomic bool stop;	/* workers stop within a second */
};

struct worker_stats {
	uint64_t packets;	/* received from the queue */
	uint64_t not_ip;	/* unparsable: accepted */
	uint64_t icmp_errors;	/* ICMP errors no flow of ours claimed: accepted */
	uint64_t late;		/* packets of flows already decided (in flight
				 * before the mark, or a stale generation) */
	uint64_t rejudged;	/* flows judged again under a new generation */
	uint64_t dropped;	/* packets given a drop or reject verdict */
	uint64_t refusals;	/* of them, rewritten into a refusal (TCP reset,
				 * ICMP unreachable) for the initiator */
	uint64_t decided;	/* flows decided */
	uint64_t ended, ended_packets;	/* ended flows, and their queued
					 * packets (queued per flow = ratio) */
	uint32_t max_packets;	/* most packets one ended flow queued */
	uint64_t alerts, alert_write_errors, flow_write_errors;
	uint64_t acct_full;	/* decided flows the accounting could not track */
	uint64_t quarantines, quarantine_errors;
	uint64_t policy_errors, send_errors;
	uint64_t unenforced;	/* observer: flows judged deny that the kernel
				 * had allowed (written as alert) */
	struct pipeline_stats pl;
	struct flow_table_stats ft;	/* the flow table's use */
	struct nfqueue_stats q;	/* the queue socket's */
};

struct worker;

/*
 * Binds queue QUEUE (so that packets are taken as soon as the ruleset sends
 * them) and builds the pipeline.  0 or -errno; the thread is not started.
 */
/* A worker on NFQUEUE queue QUEUE; or, with observer, on NFLOG group QUEUE
 * (copies of observed flows' first packets: judged, logged and watched like
 * the others, no verdicts). */
int worker_new(unsigned idx, uint16_t queue, bool observer,
	       struct live_shared *sh, struct worker **out);
int worker_start(struct worker *w);
/* After sh->stop was set: joins, having accepted what was still
 * queued and flushed the flow table. */
void worker_join(struct worker *w);
void worker_free(struct worker *w);	/* NULL is a no-op */

/* The generation the worker uses (acquire). */
const struct live_gen *worker_gen(const struct worker *w);
/* 0 while running, else the -errno that stopped the thread. */
int worker_error(const struct worker *w);
/* Any thread: the worker's counters as of its last second (it publishes a
 * copy once a second, and a last one when it stops). */
void worker_get_stats(struct worker *w, struct worker_stats *s);
uint16_t worker_queue(const struct worker *w);	/* or its NFLOG group */
bool worker_observes(const struct worker *w);

#endif
