/* pipeline.h - the packet path: flow table -> nDPI -> decision.
 *
 * Live NFQUEUE workers and offline replay both drive exactly this code; only
 * the packet source and the clock differ.  A flow is INSPECTING (nDPI state
 * attached, its packets go to nDPI) until it is decided:
 *   classified  nDPI reports a protocol and wants no more packets,
 *   limit       the inspection budget (N packets handed to nDPI) is spent,
 *   giveup      the flow ends (idle, evicted, flushed) before either,
 *   policy      after its first packet, when the owner's settled() hook says
 *               the verdict cannot depend on the classification.
 * At the decision the nDPI state is freed, the result is copied into the
 * compact flow record, and the owner's decided() hook runs (policy).
 */
#ifndef IOTJAIL_PIPELINE_H
#define IOTJAIL_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/flow.h"

struct packet;
struct classifier;
struct strpool;
struct pipeline;

struct pipeline_config {
	struct flow_table_config flows;
	unsigned inspect_packets;	/* N, 1..255, default 8 */
};

void pipeline_config_default(struct pipeline_config *cfg);

struct pipeline_ops {
	/* Optional.  F was just created by the packet being handled, before
	 * anything inspects or judges it (e.g. to correct its initiator). */
	void (*created)(void *ctx, struct pipeline *pl, struct flow *f);
	/* F was just decided; may set f->verdict / f->decision. */
	void (*decided)(void *ctx, struct pipeline *pl, struct flow *f);
	/* Optional.  F's first packet went to nDPI, which has no final answer
	 * yet.  true decides F now (FLOW_BY_POLICY, with nDPI's guess): the
	 * owner's verdict would be the same whatever the classification, so
	 * more packets in userspace buy nothing. */
	bool (*settled)(void *ctx, struct pipeline *pl, struct flow *f);
	/* F ends (already decided); last chance to read it. */
	void (*ended)(void *ctx, struct pipeline *pl, struct flow *f,
		      enum flow_end_reason why);
};

/* NULL with errno on failure (ENOMEM, EINVAL, or nDPI failing to start). */
struct pipeline *pipeline_new(const struct pipeline_config *cfg,
			      const struct pipeline_ops *ops, void *ctx);
/* Flushes (ending every flow through ops) and frees.  NULL is a no-op. */
void pipeline_free(struct pipeline *pl);

/* Account and inspect one parsed IP packet seen at NOW_US.  Returns its flow
 * (never NULL for a parsed packet); *HANDED tells whether nDPI saw it. */
struct flow *pipeline_packet(struct pipeline *pl, const struct packet *p,
			     uint64_t now_us, bool *handed);

/* End idle flows; called by pipeline_packet() once per second of packet
 * clock, and by live workers from their timer. */
void pipeline_expire(struct pipeline *pl, uint64_t now_us);
/* End every flow (end of a capture, shutdown), in creation order. */
void pipeline_flush(struct pipeline *pl);

struct classifier *pipeline_classifier(struct pipeline *pl);

/* Visit every live flow (the owner's bookkeeping, e.g. on reload). */
void pipeline_foreach(struct pipeline *pl,
		      void (*fn)(void *ctx, struct flow *f), void *ctx);

struct pipeline_stats {
	uint64_t packets, bytes;
	uint64_t handed;		/* packets handed to nDPI */
	uint64_t decided[__FLOW_BY_MAX];
	uint64_t identified;		/* decided with a protocol (not guessed) */
	uint64_t guessed;		/* decided by nDPI's guess */
	uint64_t unknown;		/* decided with no protocol at all */
	uint64_t nomem;			/* nDPI state could not be allocated */
};
void pipeline_stats(const struct pipeline *pl, struct pipeline_stats *s,
		    struct flow_table_stats *ft);

/* Interned-host bytes, for memory reports. */
uint64_t pipeline_host_bytes(const struct pipeline *pl);

#endif
