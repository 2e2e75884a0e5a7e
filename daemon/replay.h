/* replay.h - drive the live pipeline from pcap/pcapng captures.
 *
 * Capture timestamps are the clock, so idle timeouts and (later) baselines
 * behave as they would have live, and output is deterministic.
 */
#ifndef IOTJAIL_REPLAY_H
#define IOTJAIL_REPLAY_H

#include <stdbool.h>
#include <stdio.h>

#include "daemon/pipeline.h"
#include "daemon/watch.h"

struct learn;
struct policy;

struct replay_opts {
	struct pipeline_config pipeline;
	const struct policy *policy;	/* verdicts and alerts, or NULL */
	struct watch_config watch;	/* the watcher, with a policy */
	uint32_t quarantine_timeout_ms;	/* as the live daemon's; 0: until
					 * released */
	FILE *flows_json;	/* one JSON object per flow, or NULL */
	FILE *flows_text;	/* one human line per flow, or NULL */
	FILE *alerts;		/* JSON lines, or NULL */
	FILE *alerts_text;	/* one human line per alert, or NULL */
	FILE *summary;		/* summary and progress lines (stderr) */
	/* Learn mode (--learn): every decided flow goes to LEARN too, and
	 * after the last capture the learnt policy is written to EXPORT
	 * (both or neither).  The policy's devices are in learn mode. */
	struct learn *learn;
	FILE *export;
};

/* Replays every capture in FILES in order; each capture's flows are flushed
 * at its end.  Returns 0, or 1 if any capture could not be opened or read
 * completely (each failure is reported on the summary stream; the readable
 * part of a damaged capture is still processed). */
int replay_run(const struct replay_opts *o, char *const *files, int n_files);

/* The policy of `--replay --learn` without -c: no device, no `lan` (the
 * default LAN prefixes), so every LAN endpoint is the unknown device.
 * NULL with errno. */
struct policy *replay_empty_policy(void);

#endif
