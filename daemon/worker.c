/* worker.c - NFQUEUE packets through the pipeline, verdicts back; or, for
 * the observer, NFLOG copies of observed flows' first packets through the
 * same pipeline, without verdicts. */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "daemon/alerts.h"
#include "daemon/classify.h"
#include "daemon/ctacct.h"
#include "daemon/devview.h"
#include "daemon/flow.h"
#include "daemon/flowlog.h"
#include "daemon/json.h"
#include "daemon/judge.h"
#include "daemon/learn.h"
#include "daemon/log.h"
#include "daemon/nfq.h"
#include "daemon/packet.h"
#include "daemon/ring.h"
#include "daemon/watch.h"
#include "daemon/worker.h"
#include "nftables/nft.h"
#include "nftables/ruleset.h"
#include "policy/policy.h"

#define IFCACHE		32
/* Kernel queue length; beyond it packets fail open. */
#define QUEUE_MAXLEN	4096
/* An observed first packet reaches the observer at most this late
 * (hundredths of a second), when fewer than a message's worth come. */
#define OBSERVE_TIMEOUT_CS	10

struct ifcache {
	uint32_t index;
	char name[IF_NAMESIZE];
};

struct worker {
	unsigned idx;
	struct live_shared *sh;
	struct nfqueue *q;
	struct pipeline *pl;
	struct ijrs *rs;		/* opened at the first quarantine */
	const struct live_gen *gen;	/* the generation in use */
	_Atomic(const struct live_gen *) acked;
	_Atomic int error;
	pthread_t thread;
	bool started;

	/* The packet being handled, for the decided() hook. */
	const struct nfqueue_packet *cur;
	const struct packet *cur_ip;

	struct ifcache ifc[IFCACHE];
	unsigned n_ifc, ifc_next;
	struct jbuf j;
	struct worker_stats st;
	/* A copy of st for other threads (control socket, metrics), taken
	 * once a second by the worker: a lock per second, none per packet. */
	pthread_mutex_t pub_mu;
	struct worker_stats pub;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static const char *ifname_of(struct worker *w, uint32_t index)
{
	struct ifcache *c;
	unsigned i;

	if (!index)
		return NULL;
	for (i = 0; i < w->n_ifc; i++)
		if (w->ifc[i].index == index)
			return w->ifc[i].name;
	c = &w->ifc[w->n_ifc < IFCACHE ? w->n_ifc++ : w->ifc_next++ % IFCACHE];
	c->index = 0;
	if (!if_indextoname(index, c->name))
		return NULL;
	c->index = index;
	return c->name;
}

/* The interfaces of key sides 0 and 1, from the packet being handled: its
 * sender came in on the bridge port (physindev; the interface in router
 * mode), the other side is where it goes out. */
static void cur_ifnames(struct worker *w, const struct flow *f,
			const char *ifn[2])
{
	const struct nfqueue_packet *np = w->cur;
	struct flow_key k;
	int side;

	ifn[0] = ifn[1] = NULL;
	if (!np || !w->cur_ip)
		return;
	side = flow_key_from_packet(&k, w->cur_ip);
	/* A flow ended by expiry or eviction while another flow's packet is
	 * handled: that packet says nothing about its interfaces. */
	if (memcmp(&k, &f->key, sizeof(k)))
		return;
	ifn[side] = ifname_of(w, np->physindev ? np->physindev : np->indev);
	ifn[!side] = ifname_of(w, np->physoutdev ? np->physoutdev
						 : np->outdev);
}

/* The policy's own alerts (service not allowed, unknown device, binding
 * violation) through the sink, which applies re-arm. */
static void emit_alerts(struct worker *w, const struct flow *f,
			const struct policy_verdict *v, const char *ifn[2])
{
	const struct classifier *c = pipeline_classifier(w->pl);
	struct devview *view = w->gen->view;
	struct alert a;
	unsigned i;
	int rc;

	for (i = 0; i < v->n_alerts; i++) {
		const struct policy_alert *pa = &v->alerts[i];

		alert_from_policy(&a, f->last_us, pa, v, f, c, ifn);
		rc = alert_sink_emit(w->sh->out.alerts, &a);
		if (rc < 0)
			w->st.alert_write_errors++;
		if (rc == 0)
			continue;	/* within its re-arm time */
		w->st.alerts++;
		devview_add(view, w->idx, devview_slot(view, pa->device),
			    DEVVIEW_ALERTS, 1);
	}
}

/* The side whose device a quarantine verdict locks up: the device whose
 * rule said so, else the initiator (defaults, bindings, unknown devices are
 * about the side that starts flows). */
static int quarantine_side(const struct flow *f, const struct policy_verdict *v)
{
	bool responder = v->rule ? policy_rule_direction(v->rule) == POLICY_IN
				 : !v->initiator_dev;

	return responder ? !f->initiator : f->initiator;
}

static void quarantine(struct worker *w, const struct flow *f,
		       const struct policy_verdict *v)
{
	int side = quarantine_side(f, v);
	const struct policy_device *d = side == f->initiator ?
						v->initiator_dev :
						v->responder_dev;
	uint8_t mac[6];
	int rc;

	if (f->flags & (FLOW_F_MAC0 << side))
		memcpy(mac, f->mac[side], 6);
	else if (!d || !policy_device_mac(d, mac)) {
		log_warnx("quarantine of %s: no MAC address known; only its "
			  "flow is dropped", d ? policy_device_name(d) : "?");
		w->st.quarantine_errors++;
		return;
	}
	if (!w->rs && (rc = ijrs_open_peer(&w->rs, w->sh->rs)) < 0) {
		errno = -rc;
		log_warn("quarantine: cannot open the ruleset");
		w->st.quarantine_errors++;
		return;
	}
	rc = ijrs_quarantine_add(w->rs, mac, w->sh->quarantine_timeout_ms);
	if (rc < 0) {
		errno = -rc;
		log_warn("quarantine of %02x:%02x:%02x:%02x:%02x:%02x (%s)",
			 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
			 ijrs_error_what(w->rs) ? ijrs_error_what(w->rs) : "socket");
		w->st.quarantine_errors++;
		return;
	}
	w->st.quarantines++;
	watch_quarantine(w->sh->watch, f->last_us, d ? d : policy_unknown_device(w->gen->policy),
			 mac, w->sh->quarantine_timeout_ms, v->reason);
	log_info("quarantined %s (%02x:%02x:%02x:%02x:%02x:%02x)%s",
		 d ? policy_device_name(d) : "?", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5],
		 w->sh->quarantine_timeout_ms ? "" : " until removed");
}

/* The device view learns about both sides of a judged flow. */
static void account(struct worker *w, const struct flow *f,
		    const struct policy_verdict *v, const char *ifn[2])
{
	static const enum devview_ctr by_action[__POLICY_ACTION_MAX] = {
		[POLICY_ALLOW] = DEVVIEW_ALLOWED,
		[POLICY_ALERT] = DEVVIEW_ALERTED,
		[POLICY_DENY] = DEVVIEW_DENIED,
		[POLICY_QUARANTINE] = DEVVIEW_QUARANTINED,
	};
	struct devview *view = w->gen->view;
	const struct policy_device *d;
	struct devview_seen s;
	size_t slot;
	int i, side;

	for (i = 0; i < 2; i++) {
		d = i ? v->responder_dev : v->initiator_dev;
		if (!d)
			continue;
		side = i ? !f->initiator : f->initiator;
		slot = devview_slot(view, d);
		devview_add(view, w->idx, slot, DEVVIEW_FLOWS, 1);
		devview_add(view, w->idx, slot, by_action[v->action], 1);
		memset(&s, 0, sizeof(s));
		s.at_us = f->last_us;
		s.has_mac = (f->flags & (FLOW_F_MAC0 << side)) != 0;
		memcpy(s.mac, f->mac[side], 6);
		s.family = f->key.family;
		memcpy(s.addr, f->key.addr[side], 16);
		if (ifn[side])
			snprintf(s.port, sizeof(s.port), "%s", ifn[side]);
		devview_saw(view, w->idx, slot, &s);
	}
}

/* The watcher learns the flow and gives its accounting slot; the kernel's
 * byte counts of the flow will be credited to that slot from now on (what
 * this worker already saw of it is credited by the watcher itself). */
static void watch_decided(struct worker *w, struct flow *f,
			  const struct policy_verdict *v, const char *ifn[2],
			  bool again)
{
	struct watch_flow wf;
	uint64_t up[2], pk[2];
	int s = f->initiator;
	bool early;

	memset(&wf, 0, sizeof(wf));
	wf.ts_us = f->last_us;
	wf.f = f;
	wf.c = pipeline_classifier(w->pl);
	wf.v = v;
	wf.ifnames[0] = ifn[0];
	wf.ifnames[1] = ifn[1];
	wf.again = again;
	f->slot = (uint16_t)watch_flow_decided(w->sh->watch, &wf, &early);
	if (w->sh->learn && !again)
		learn_flow(w->sh->learn, &wf);
	if (early && f->verdict < POLICY_DENY) {
		/* a report too soon, which its rule drops: this flow only,
		 * refused the way the device's deny_with says */
		f->verdict = POLICY_DENY;
		if (v->deny_with == POLICY_DENY_REJECT)
			f->flags |= FLOW_F_REJECT;
	}
	if (!f->slot || !w->sh->acct)
		return;
	up[0] = f->bytes[s];
	up[1] = f->bytes[!s];
	pk[0] = f->packets[s];
	pk[1] = f->packets[!s];
	if (ctacct_track(w->sh->acct, &f->key, (uint8_t)s, f->slot, up, pk) < 0)
		w->st.acct_full++;
}

/* Judge F under the worker's generation: verdict into the flow, alerts out,
 * quarantine in the kernel.  The packet verdict is given by the caller. */
static void judge(struct worker *w, struct flow *f, bool again)
{
	struct policy_verdict v;
	const char *ifn[2];

	cur_ifnames(w, f, ifn);
	if (judge_flow(w->gen->policy, pipeline_classifier(w->pl), f, ifn,
		       &v) < 0) {
		w->st.policy_errors++;
		f->generation = w->gen->generation;
		return;
	}
	f->generation = w->gen->generation;
	if (nfqueue_is_log(w->q) && v.action == POLICY_DENY) {
		/* An observed flow: the kernel allowed it at this very
		 * packet.  Say what happened: it passed, with an alert. */
		v.action = POLICY_ALERT;
		f->verdict = POLICY_ALERT;
		w->st.unenforced++;
	}
	account(w, f, &v, ifn);
	emit_alerts(w, f, &v, ifn);
	watch_decided(w, f, &v, ifn, again);
	if (w->sh->recent_flows && !again) {
		struct flow_brief b;

		flow_brief_fill(&b, f, pipeline_classifier(w->pl), &v);
		(void)ring_push(w->sh->recent_flows, &b, sizeof(b));
	}
	if (v.action == POLICY_QUARANTINE)
		quarantine(w, f, &v);
	if (w->sh->out.text) {
		flockfile(stdout);
		fputs("FLOW  ", stdout);
		flowlog_text(stdout, f, pipeline_classifier(w->pl),
			     w->gen->policy);
		fputc('\n', stdout);
		fflush(stdout);
		funlockfile(stdout);
	}
}

/* Who started a flow whose first packet we see mid-stream.  That happens
 * when its conntrack entry is older than our flow table (a restart, or a
 * flow forgotten here and queued again for a stale verdict after a reload):
 * the sender of the first packet we see is then often the server.  With
 * conntrack info, the packet's direction says it; without, a TCP segment
 * that is not a SYN is mid-stream, and the smaller port is taken for the
 * service's.  Runs when the flow is created, before it can be judged. */
static void on_created(void *ctx, struct pipeline *pl, struct flow *f)
{
	struct worker *w = ctx;
	int s;

	(void)pl;
	if (!w->cur || !w->cur_ip || f->packets[0] + f->packets[1] != 1)
		return;
	s = f->packets[0] ? 0 : 1;	/* this packet's sender */
	if (nfqueue_conntrack(w->q))
		f->initiator = w->cur->ct_reply ? !s : s;
	else if (f->key.ip_proto == IPPROTO_TCP &&
		 !(w->cur_ip->tcp_flags & TCP_SYN) &&
		 f->key.port[s] != f->key.port[!s])
		f->initiator = f->key.port[s] < f->key.port[!s] ? !s : s;
}

static void on_decided(void *ctx, struct pipeline *pl, struct flow *f)
{
	struct worker *w = ctx;

	(void)pl;
	w->st.decided++;
	judge(w, f, false);
}

/* Decide at the first packet when the policy does not care what the flow
 * is: one round trip instead of the inspection budget's worth. */
static bool on_settled(void *ctx, struct pipeline *pl, struct flow *f)
{
	struct worker *w = ctx;
	const char *ifn[2];

	(void)pl;
	cur_ifnames(w, f, ifn);
	return judge_settled(w->gen->policy, f, ifn);
}

static void on_ended(void *ctx, struct pipeline *pl, struct flow *f,
		     enum flow_end_reason why)
{
	struct worker *w = ctx;
	uint32_t n = f->packets[0] + f->packets[1];

	(void)why;
	w->st.ended++;
	w->st.ended_packets += n;
	if (n > w->st.max_packets)
		w->st.max_packets = n;
	if (w->sh->out.flows_fd >= 0) {
		jbuf_reset(&w->j);
		flowlog_json(&w->j, f, pipeline_classifier(pl),
			     w->gen ? w->gen->policy : NULL);
		if (jbuf_write_fd(&w->j, w->sh->out.flows_fd) < 0)
			w->st.flow_write_errors++;
	}
}

static bool is_drop(const struct flow *f)
{
	return f->verdict >= POLICY_DENY;
}

/*
 * A rejected flow whose packet comes from the responder: the ruleset's
 * reject would answer the responder only, and leave the initiator (the side
 * that asked for the service) waiting for its timeout.  Rewrite the packet
 * into the refusal the initiator would have got for its own packet, and let
 * it pass: a TCP reset, or for UDP an ICMP administratively prohibited.  A
 * TCP responder gets the ruleset's reset at its next packet.  GSO packets
 * are left to the ruleset: a trimmed GSO packet is not worth the kernel's
 * edge cases.  false: not done, the caller gives the verdict.
 */
static bool refuse_initiator(struct worker *w, const struct nfqueue_packet *np,
			     const struct packet *p, const struct flow *f,
			     uint32_t mark)
{
	uint8_t buf[NFQUEUE_REPLACE_MAX];
	int s = f->initiator;
	size_t n;

	if (np->gso || (p->sport == f->key.port[s] &&
			!memcmp(p->src, f->key.addr[s], sizeof(p->src))))
		return false;
	if (p->ip_proto == IPPROTO_TCP)
		n = packet_tcp_reset(p, buf, sizeof(buf));
	else if (p->ip_proto == IPPROTO_UDP)
		n = packet_udp_unreach(p, buf, sizeof(buf));
	else
		return false;
	if (!n || nfqueue_accept_replaced(w->q, np->id, mark | IJNFT_MARK_PASS,
					  buf, n) < 0)
		return false;
	w->st.refusals++;
	return true;
}

static void handle(struct worker *w, const struct nfqueue_packet *np)
{
	struct packet p;
	struct flow *f;
	bool handed, drop;
	enum ijnft_verdict v;
	uint32_t mark;

	w->st.packets++;
	memset(&p, 0, sizeof(p));
	p.has_mac = np->has_mac;
	memcpy(p.src_mac, np->mac, 6);
	if (packet_parse_ip(&p, np->data, np->len) != PACKET_OK) {
		/* Not ours to judge (or not parsable): the kernel decides
		 * the rest; never stall a packet over it. */
		w->st.not_ip++;
		nfqueue_accept(w->q, np->id);
		return;
	}
	if (packet_is_icmp_error(&p)) {
		/* About another flow: conntrack relates it to that flow's
		 * verdict when it knows the flow.  It reaches us when it
		 * does not, e.g. the kernel's own answer to a rejected first
		 * packet, whose flow conntrack never confirmed.  Judging it
		 * as a flow of its own would drop exactly that answer. */
		w->st.icmp_errors++;
		nfqueue_accept(w->q, np->id);
		return;
	}
	w->cur = np;
	w->cur_ip = &p;
	f = pipeline_packet(w->pl, &p, now_us(), &handed);
	if (!f || f->state == FLOW_INSPECTING) {
		w->cur = NULL;
		nfqueue_accept(w->q, np->id);
		return;
	}
	if (!handed) {
		/* Decided before this packet: it was in flight before the
		 * mark was set, or the mark is of an older generation. */
		w->st.late++;
		if (f->generation != w->gen->generation) {
			w->st.rejudged++;
			judge(w, f, true);
		}
	}
	w->cur = NULL;
	drop = is_drop(f);
	if (drop)
		w->st.dropped++;
	/* The verdict rides on the packet mark; the ruleset's verdict chain
	 * copies it into conntrack and drops or rejects the packet. */
	v = !drop ? IJNFT_VERDICT_ALLOW
		  : f->flags & FLOW_F_REJECT ? IJNFT_VERDICT_REJECT
					     : IJNFT_VERDICT_DENY;
	mark = (np->mark & ~IJNFT_PKT_MARK_MASK) | ijnft_ct_mark(f->generation, v);
	if (v == IJNFT_VERDICT_REJECT && refuse_initiator(w, np, &p, f, mark))
		return;
	nfqueue_accept_mark(w->q, np->id, mark);
}

static void forget_reason(void *ctx, struct flow *f)
{
	(void)ctx;
	/* Borrowed from the old policy, which is about to be freed; the
	 * flow is judged again at its next packet. */
	f->reason = NULL;
}

/* Pick up a new generation if the main thread published one. */
static void follow_generation(struct worker *w)
{
	const struct live_gen *g =
		atomic_load_explicit(&w->sh->current, memory_order_acquire);

	if (g == w->gen)
		return;
	if (w->gen)
		pipeline_foreach(w->pl, forget_reason, NULL);
	w->gen = g;
	/* The interface names may have changed too. */
	w->n_ifc = 0;
	atomic_store_explicit(&w->acked, g, memory_order_release);
}

static void collect_stats(struct worker *w, struct worker_stats *s)
{
	*s = w->st;
	pipeline_stats(w->pl, &s->pl, &s->ft);
	nfqueue_get_stats(w->q, &s->q);
}

static void publish_stats(struct worker *w)
{
	struct worker_stats s;

	collect_stats(w, &s);
	pthread_mutex_lock(&w->pub_mu);
	w->pub = s;
	pthread_mutex_unlock(&w->pub_mu);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct nfqueue_packet np;
	uint64_t next_expire = 0, t;
	int rc = 0;

	/* Two system calls per wakeup: one recvmmsg() for the burst, one
	 * sendmsg() for its verdicts. */
	for (;;) {
		follow_generation(w);
		if (atomic_load_explicit(&w->sh->stop, memory_order_acquire))
			break;
		rc = nfqueue_wait(w->q, true);
		if (rc < 0)
			break;
		follow_generation(w);
		while (nfqueue_recv(w->q, &np) == 1)
			handle(w, &np);
		if (nfqueue_flush(w->q) < 0)
			w->st.send_errors++;
		rc = 0;
		if ((t = now_us()) >= next_expire) {
			pipeline_expire(w->pl, t);
			publish_stats(w);
			next_expire = t + 1000000;
		}
	}
	nfqueue_drain(w->q);
	/* Every flow's line is written now, under the generation in use. */
	pipeline_flush(w->pl);
	publish_stats(w);
	if (rc < 0) {
		errno = -rc;
		log_warn("worker %u (%s %u) stopped", w->idx,
			 nfqueue_is_log(w->q) ? "NFLOG group" : "queue",
			 nfqueue_queue_num(w->q));
	}
	atomic_store(&w->error, rc);
	return NULL;
}

int worker_new(unsigned idx, uint16_t queue, bool observer,
	       struct live_shared *sh, struct worker **out)
{
	static const struct pipeline_ops ops = {
		.created = on_created,
		.decided = on_decided,
		.settled = on_settled,
		.ended = on_ended,
	};
	static const struct pipeline_ops ops_classify_all = {
		.created = on_created,
		.decided = on_decided,
		.ended = on_ended,
	};
	struct worker *w;
	int rc;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->idx = idx;
	w->sh = sh;
	pthread_mutex_init(&w->pub_mu, NULL);
	jbuf_init(&w->j);
	w->gen = atomic_load(&sh->current);
	atomic_store(&w->acked, w->gen);
	w->pl = pipeline_new(&sh->pipeline,
			     sh->classify_all ? &ops_classify_all : &ops, w);
	if (!w->pl) {
		rc = -errno;
		free(w);
		return rc;
	}
	rc = observer ? nfqueue_open_log(queue, IJNFT_OBSERVE_SNAPLEN,
					 IJNFT_OBSERVE_QTHRESHOLD, OBSERVE_TIMEOUT_CS, &w->q)
		      : nfqueue_open(queue, QUEUE_MAXLEN, &w->q);
	if (rc < 0) {
		pipeline_free(w->pl);
		free(w);
		return rc;
	}
	if (idx == 0 && !nfqueue_conntrack(w->q))
		log_info("NFQUEUE gives no conntrack info on this kernel "
			  "(CONFIG_NETFILTER_NETLINK_GLUE_CT): TCP flows picked "
			  "up mid-stream are told apart by their ports");
	*out = w;
	return 0;
}

int worker_start(struct worker *w)
{
	sigset_t all, old;
	int rc;

	/* Signals are the main thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	w->started = true;
	return 0;
}

void worker_join(struct worker *w)
{
	if (!w->started)
		return;
	pthread_join(w->thread, NULL);
	w->started = false;
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	worker_join(w);
	pipeline_free(w->pl);
	nfqueue_close(w->q);
	ijrs_close(w->rs);
	jbuf_free(&w->j);
	pthread_mutex_destroy(&w->pub_mu);
	free(w);
}

const struct live_gen *worker_gen(const struct worker *w)
{
	return atomic_load_explicit(&w->acked, memory_order_acquire);
}

int worker_error(const struct worker *w)
{
	return atomic_load(&w->error);
}

/* Complete once the worker has stopped (the queue's counters are its
 * thread's). */
void worker_get_stats(struct worker *w, struct worker_stats *s)
{
	pthread_mutex_lock(&w->pub_mu);
	*s = w->pub;
	pthread_mutex_unlock(&w->pub_mu);
}

uint16_t worker_queue(const struct worker *w)
{
	return nfqueue_queue_num(w->q);
}

bool worker_observes(const struct worker *w)
{
	return nfqueue_is_log(w->q);
}
