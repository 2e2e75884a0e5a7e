/* pipeline.c - the packet path shared by live workers and replay. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/classify.h"
#include "daemon/packet.h"
#include "daemon/pipeline.h"
#include "daemon/strpool.h"

#define IPPROTO_TCP_ 6

struct pipeline {
	struct flow_table *flows;
	struct classifier *cls;
	struct strpool *hosts;
	struct pipeline_ops ops;
	void *ctx;
	unsigned inspect;
	uint64_t next_expire_us;
	struct pipeline_stats st;
};

void pipeline_config_default(struct pipeline_config *cfg)
{
	flow_table_config_default(&cfg->flows);
	cfg->inspect_packets = 8;
}

/* Copy nDPI's answer into the compact record and drop the nDPI state. */
static void decide(struct pipeline *pl, struct flow *f,
		   enum flow_decided_by by)
{
	struct cls_result r;

	memset(&r, 0, sizeof(r));
	if (f->cls) {
		classifier_result(pl->cls, f->cls, by != FLOW_BY_CLASSIFIED,
				  &r);
		classifier_flow_free(pl->cls, f->cls);
		f->cls = NULL;
	}
	f->master = r.master;
	f->app = r.app;
	f->category = r.category;
	f->risk = r.risk;
	if (r.guessed)
		f->flags |= FLOW_F_GUESSED;
	/* A host that cannot be interned (ENOMEM) is dropped, not the flow:
	 * the verdict then sees no host, and rules on hosts do not match. */
	f->host = r.host[0] ? strpool_get(pl->hosts, r.host) : NULL;
	f->state = FLOW_DECIDED;
	f->decided_by = by;
	pl->st.decided[by]++;
	if (r.app == 0 && r.master == 0)
		pl->st.unknown++;
	else if (r.guessed)
		pl->st.guessed++;
	else
		pl->st.identified++;
	if (pl->ops.decided)
		pl->ops.decided(pl->ctx, pl, f);
}

static void on_end(void *ctx, struct flow *f, enum flow_end_reason why)
{
	struct pipeline *pl = ctx;

	if (f->state == FLOW_INSPECTING)
		decide(pl, f, FLOW_BY_GIVEUP);
	if (pl->ops.ended)
		pl->ops.ended(pl->ctx, pl, f, why);
	strpool_put(pl->hosts, f->host);
	f->host = NULL;
}

struct pipeline *pipeline_new(const struct pipeline_config *cfg,
			      const struct pipeline_ops *ops, void *ctx)
{
	struct pipeline *pl;

	if (cfg->inspect_packets < 1 || cfg->inspect_packets > 255) {
		errno = EINVAL;
		return NULL;
	}
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return NULL;
	pl->ops = *ops;
	pl->ctx = ctx;
	pl->inspect = cfg->inspect_packets;
	pl->cls = classifier_new();
	pl->hosts = strpool_new();
	if (pl->cls && pl->hosts)
		pl->flows = flow_table_new(&cfg->flows, on_end, pl);
	if (!pl->flows) {
		int err = errno ? errno : ENOMEM;

		classifier_free(pl->cls);
		strpool_free(pl->hosts);
		free(pl);
		errno = err;
		return NULL;
	}
	return pl;
}

void pipeline_free(struct pipeline *pl)
{
	if (!pl)
		return;
	flow_table_free(pl->flows);	/* ends every flow through on_end */
	classifier_free(pl->cls);
	strpool_free(pl->hosts);
	free(pl);
}

/* Which packets nDPI needs.  Payload-less TCP segments other than the
 * SYN/SYN-ACK carry nothing a dissector reads (nDPI itself does not count
 * them), so they neither go to nDPI nor use the budget; the live ruleset
 * does not queue them either.  Non-first fragments have no L4 header.
 * The first packet of a flow always goes: for a flow picked up mid-stream
 * it is what lets nDPI guess from addresses and ports at giveup. */
static bool worth_inspecting(const struct flow *f, const struct packet *p)
{
	if (!f->inspected)
		return true;
	if (p->later_fragment)
		return false;
	if (p->ip_proto == IPPROTO_TCP_ && p->payload_len == 0)
		return (p->tcp_flags & TCP_SYN) != 0;
	return true;
}

struct flow *pipeline_packet(struct pipeline *pl, const struct packet *p,
			     uint64_t now_us, bool *handed)
{
	struct flow *f;
	bool created;
	int side;

	*handed = false;
	if (now_us >= pl->next_expire_us) {
		flow_table_expire(pl->flows, now_us);
		pl->next_expire_us = now_us + 1000000;
	}
	f = flow_table_packet(pl->flows, p, now_us, &side, &created);
	if (!f)
		return NULL;
	pl->st.packets++;
	pl->st.bytes += p->ip_len;
	if (created && pl->ops.created)
		pl->ops.created(pl->ctx, pl, f);
	if (f->state != FLOW_INSPECTING || !worth_inspecting(f, p))
		return f;
	if (!f->cls) {
		f->cls = classifier_flow_new(pl->cls);
		if (!f->cls) {
			/* No memory for nDPI state: decide now as unknown
			 * rather than drop the packet or stall the flow. */
			pl->st.nomem++;
			decide(pl, f, FLOW_BY_GIVEUP);
			return f;
		}
	}
	f->inspected++;
	pl->st.handed++;
	*handed = true;
	if (classifier_packet(pl->cls, f->cls, p->l3, p->l3_len,
			      now_us / 1000))
		decide(pl, f, FLOW_BY_CLASSIFIED);
	else if (f->inspected >= pl->inspect)
		decide(pl, f, FLOW_BY_LIMIT);
	else if (f->inspected == 1 && pl->ops.settled &&
		 pl->ops.settled(pl->ctx, pl, f))
		decide(pl, f, FLOW_BY_POLICY);
	return f;
}

void pipeline_expire(struct pipeline *pl, uint64_t now_us)
{
	flow_table_expire(pl->flows, now_us);
}

void pipeline_flush(struct pipeline *pl)
{
	flow_table_flush(pl->flows);
	/* A new capture may start at any clock: let it expire afresh. */
	pl->next_expire_us = 0;
}

struct classifier *pipeline_classifier(struct pipeline *pl)
{
	return pl->cls;
}

void pipeline_foreach(struct pipeline *pl,
		      void (*fn)(void *ctx, struct flow *f), void *ctx)
{
	flow_table_foreach(pl->flows, fn, ctx);
}

void pipeline_stats(const struct pipeline *pl, struct pipeline_stats *s,
		    struct flow_table_stats *ft)
{
	*s = pl->st;
	if (ft)
		flow_table_stats(pl->flows, ft);
}

uint64_t pipeline_host_bytes(const struct pipeline *pl)
{
	return strpool_bytes(pl->hosts);
}
