/* replay.c - pcap/pcapng through exactly the live pipeline. */
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/alerts.h"
#include "daemon/flow.h"
#include "daemon/flowlog.h"
#include "daemon/json.h"
#include "daemon/judge.h"
#include "daemon/learn.h"
#include "daemon/packet.h"
#include "daemon/pipeline.h"
#include "daemon/replay.h"
#include "daemon/watch.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define REPLAY_IOBUF (1 << 20)

struct replay {
	const struct replay_opts *o;
	char *iobuf;		/* stdio buffer of the capture being read */
	struct jbuf j;
	uint64_t parse[__PACKET_STATUS_MAX];
	uint64_t frames, write_errors;
	uint64_t verdicts[__POLICY_ACTION_MAX], policy_errors;
	struct alert_sink *sink;	/* with a policy */
	struct watch *watch;		/* with a policy */
	const struct flow *just_decided;	/* its deciding packet is counted */
	/* The packet being replayed: its flow key and sender's side, and
	 * the sender's port ("if<ifindex>" of a cooked v2 capture) */
	struct flow_key cur_key;
	int cur_side;
	char cur_port[16];
	int status;
};

static int link_of(int dlt, enum packet_link *out)
{
	switch (dlt) {
	case DLT_EN10MB: *out = PACKET_LINK_ETHERNET; return 0;
	case DLT_LINUX_SLL: *out = PACKET_LINK_SLL; return 0;
	case DLT_LINUX_SLL2: *out = PACKET_LINK_SLL2; return 0;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6: *out = PACKET_LINK_RAW; return 0;
	case DLT_NULL: *out = PACKET_LINK_NULL; return 0;
	case DLT_LOOP: *out = PACKET_LINK_LOOP; return 0;
	case DLT_PPP: *out = PACKET_LINK_PPP; return 0;
	default: return -ENOTSUP;
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A byte limit's `over: block`: the live daemon quarantines the device
 * until the window ends; a replay says so (the watcher's alerts) and
 * releases it on the capture's clock. */
static bool replay_block(void *ctx, const char *device, const uint8_t mac[6],
			 uint64_t until_ms)
{
	(void)ctx;
	(void)device;
	(void)mac;
	(void)until_ms;
	return true;
}

static void emit(void *ctx, struct alert *a)
{
	struct replay *r = ctx;

	if (alert_sink_emit(r->sink, a) < 0)
		r->write_errors++;
}

/* A flow was decided: the policy's verdict, its alerts at once (with the
 * time of the decision), then the watcher, as the live daemon does. */
static void on_decided(void *ctx, struct pipeline *pl, struct flow *f)
{
	struct replay *r = ctx;
	const struct classifier *c = pipeline_classifier(pl);
	struct policy_verdict v;
	struct watch_flow wf;
	struct alert a;
	bool early;
	unsigned i;

	const char *ifn[2] = { NULL, NULL };

	if (!r->o->policy)
		return;
	/* The bridge port of the side that sent the deciding packet, when
	 * the capture says it (and this is that packet's flow, not one
	 * decided because it ended). */
	if (r->cur_port[0] && !memcmp(&r->cur_key, &f->key, sizeof(f->key)))
		ifn[r->cur_side] = r->cur_port;
	if (judge_flow(r->o->policy, c, f, ifn, &v) < 0) {
		r->policy_errors++;
		return;
	}
	r->verdicts[v.action]++;
	for (i = 0; i < v.n_alerts; i++) {
		alert_from_policy(&a, f->last_us, &v.alerts[i], &v, f, c, ifn);
		emit(r, &a);
	}
	memset(&wf, 0, sizeof(wf));
	wf.ts_us = f->last_us;
	wf.f = f;
	wf.c = c;
	wf.v = &v;
	wf.ifnames[0] = ifn[0];
	wf.ifnames[1] = ifn[1];
	f->slot = (uint16_t)watch_flow_decided(r->watch, &wf, &early);
	if (r->o->learn)
		learn_flow(r->o->learn, &wf);
	if (early && v.action < POLICY_DENY) {
		/* a report too soon, which its rule drops */
		r->verdicts[v.action]--;
		r->verdicts[POLICY_DENY]++;
		f->verdict = POLICY_DENY;
	}
	if (v.action == POLICY_QUARANTINE) {
		const struct policy_device *d = v.initiator_dev;

		if (d && (f->flags & (FLOW_F_MAC0 << f->initiator)))
			watch_quarantine(r->watch, f->last_us, d,
					 f->mac[f->initiator],
					 r->o->quarantine_timeout_ms, v.reason);
	}
	r->just_decided = f;
}

static void on_ended(void *ctx, struct pipeline *pl, struct flow *f,
		     enum flow_end_reason why)
{
	struct replay *r = ctx;
	const struct classifier *c = pipeline_classifier(pl);

	(void)why;
	if (r->o->flows_json) {
		jbuf_reset(&r->j);
		flowlog_json(&r->j, f, c, r->o->policy);
		if (jbuf_write_line(&r->j, r->o->flows_json) < 0)
			r->write_errors++;
	}
	if (r->o->flows_text) {
		flowlog_text(r->o->flows_text, f, c, r->o->policy);
		fputc('\n', r->o->flows_text);
	}
}

/* One packet through the pipeline; then the watcher counts the bytes of
 * decided flows (those before and with the deciding packet were counted
 * when the flow was decided) and sees time pass. */
static void packet(struct replay *r, struct pipeline *pl, const struct packet *p,
		   uint64_t ts)
{
	struct flow *f;
	bool handed;
	int side;

	r->just_decided = NULL;
	side = flow_key_from_packet(&r->cur_key, p);
	r->cur_side = side;
	if (p->ifindex)
		snprintf(r->cur_port, sizeof(r->cur_port), "if%u", p->ifindex);
	else
		r->cur_port[0] = '\0';
	f = pipeline_packet(pl, p, ts, &handed);
	r->cur_port[0] = '\0';		/* flows ended at a flush: no packet */
	if (!r->watch)
		return;
	if (f && f->slot && f != r->just_decided && f->state != FLOW_INSPECTING)
		watch_packet(r->watch, f, side, p->ip_len, ts);
	watch_tick(r->watch, ts);
}

static void replay_file(struct replay *r, struct pipeline *pl,
			const char *path, double t0)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	enum packet_link link;
	enum packet_status st;
	struct packet p;
	double last_progress = t0, t;
	pcap_t *pc;
	FILE *fp;
	int rc;

	/* Our own FILE with a 1 MiB buffer: with stdio's 4 KiB default,
	 * read(2) cost more than the whole packet path.  glibc ignores the
	 * size unless the buffer is supplied, so it is ours (r->iobuf). */
	fp = fopen(path, "rb");
	if (fp && r->iobuf)
		setvbuf(fp, r->iobuf, _IOFBF, REPLAY_IOBUF);
	pc = fp ? pcap_fopen_offline(fp, err) : NULL;
	if (!pc) {
		fprintf(r->o->summary, "replay: %s: %s\n", path,
			fp ? err : strerror(errno));
		if (fp)
			fclose(fp);
		r->status = 1;
		return;
	}
	if (link_of(pcap_datalink(pc), &link) < 0) {
		fprintf(r->o->summary,
			"replay: %s: unsupported link type %s (%d); skipped\n",
			path, pcap_datalink_val_to_name(pcap_datalink(pc)),
			pcap_datalink(pc));
		pcap_close(pc);
		r->status = 1;
		return;
	}
	memset(&p, 0, sizeof(p));
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000 +
			      (uint64_t)h->ts.tv_usec;

		r->frames++;
		st = packet_parse_link(&p, link, data, h->caplen);
		r->parse[st]++;
		if (st == PACKET_OK)
			packet(r, pl, &p, ts);
		if ((r->frames & 0xffff) == 0 && (t = now_s()) - last_progress >= 1.0) {
			fprintf(r->o->summary,
				"replay: %s: %" PRIu64 " packets, %.0f pkt/s\n",
				path, r->frames, (double)r->frames / (t - t0));
			last_progress = t;
		}
	}
	if (rc == -1) {
		/* A damaged tail: what came before is processed, and the
		 * damage is said, not swallowed. */
		fprintf(r->o->summary, "replay: %s: read error after %" PRIu64
			" packets: %s\n", path, r->frames, pcap_geterr(pc));
		r->status = 1;
	}
	pcap_close(pc);
	pipeline_flush(pl);
}

int replay_run(const struct replay_opts *o, char *const *files, int n_files)
{
	static const struct pipeline_ops ops = {
		.decided = on_decided,
		.ended = on_ended,
	};
	struct replay r = { .o = o };
	struct pipeline_stats ps;
	struct flow_table_stats ft;
	struct pipeline *pl;
	uint64_t flows;
	double t0, dt;
	int i;

	jbuf_init(&r.j);
	if (o->policy) {
		struct alert_sink_config sc = {
			.json = o->alerts,
			.text = o->alerts_text,
			.rearm_ms = policy_alert_rearm_ms(o->policy),
		};
		int err = 0;

		r.sink = alert_sink_new(&sc, &err);
		r.watch = r.sink ? watch_new(&o->watch, o->policy, emit, &r) : NULL;
		if (r.watch)
			watch_set_block(r.watch, replay_block, &r);
		if (!r.watch) {
			fprintf(o->summary, "replay: cannot start the watcher: %s\n",
				strerror(err ? -err : errno));
			alert_sink_free(r.sink);
			return 1;
		}
	}
	r.iobuf = malloc(REPLAY_IOBUF);	/* NULL: stdio's default buffer */
	pl = pipeline_new(&o->pipeline, &ops, &r);
	if (!pl) {
		fprintf(o->summary, "replay: cannot start the pipeline: %s\n",
			strerror(errno));
		free(r.iobuf);
		watch_free(r.watch);
		alert_sink_free(r.sink);
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < n_files; i++)
		replay_file(&r, pl, files[i], t0);
	dt = now_s() - t0;
	/* Flow lines (stdout) before the summary (stderr) on a terminal. */
	if (o->flows_text)
		fflush(o->flows_text);
	if (o->alerts_text)
		fflush(o->alerts_text);
	pipeline_stats(pl, &ps, &ft);
	flows = ft.created;
	fprintf(o->summary,
		"summary: %" PRIu64 " packets (%" PRIu64 " IP, %" PRIu64
		" not IP, %" PRIu64 " malformed), %" PRIu64
		" flows, %.0f pkt/s, %.1f%% classified (%" PRIu64
		" by nDPI, %" PRIu64 " guessed, %" PRIu64
		" unknown), decided: %" PRIu64 " classified, %" PRIu64
		" limit, %" PRIu64 " giveup; %" PRIu64
		" packets inspected, %" PRIu64 " evicted\n",
		r.frames, r.parse[PACKET_OK], r.parse[PACKET_NOT_IP],
		r.parse[PACKET_TRUNCATED_L2] + r.parse[PACKET_BAD_IP] +
			r.parse[PACKET_BAD_L4],
		flows, dt > 0 ? (double)r.frames / dt : 0.0,
		flows ? 100.0 * (double)(ps.identified + ps.guessed) /
				(double)flows : 0.0,
		ps.identified, ps.guessed, ps.unknown,
		ps.decided[FLOW_BY_CLASSIFIED], ps.decided[FLOW_BY_LIMIT],
		ps.decided[FLOW_BY_GIVEUP], ps.handed,
		ft.ended[FLOW_END_EVICTED]);
	if (o->policy) {
		struct alert_sink_stats as;
		struct watch_stats ws;

		alert_sink_stats(r.sink, &as);
		watch_get_stats(r.watch, &ws);
		fprintf(o->summary,
			"verdicts: %" PRIu64 " allow, %" PRIu64 " alert, %" PRIu64
			" deny, %" PRIu64 " quarantine; %" PRIu64 " alerts (%"
			PRIu64 " more suppressed by alert_rearm); watcher: %"
			PRIu64 " devices, %" PRIu64 " services\n",
			r.verdicts[POLICY_ALLOW], r.verdicts[POLICY_ALERT],
			r.verdicts[POLICY_DENY], r.verdicts[POLICY_QUARANTINE],
			as.emitted_total, as.suppressed, ws.devices, ws.slots);
		if (ws.full_devices || ws.full_slots)
			fprintf(o->summary, "replay: watcher tables full: %" PRIu64
				" device and %" PRIu64 " service states not kept\n",
				ws.full_devices, ws.full_slots);
	}
	if (r.policy_errors) {
		fprintf(o->summary, "replay: %" PRIu64 " flows could not be "
			"evaluated and were allowed\n", r.policy_errors);
		r.status = 1;
	}
	if (ps.nomem)
		fprintf(o->summary, "replay: %" PRIu64 " flows decided as "
			"unknown: no memory for nDPI state\n", ps.nomem);
	if (o->learn && o->export) {
		/* after the flush of the last capture: every flow is decided */
		int rc = learn_export(o->learn, o->policy, r.watch, NULL, o->export);

		if (rc < 0) {
			fprintf(o->summary, "replay: cannot write the learnt policy: %s\n",
				strerror(-rc));
			r.status = 1;
		} else {
			fprintf(o->summary, "learn: %zu devices learnt, policy written\n",
				learn_device_count(o->learn));
		}
	}
	pipeline_free(pl);
	watch_free(r.watch);
	alert_sink_free(r.sink);
	if (r.write_errors) {
		fprintf(o->summary, "replay: %" PRIu64 " output lines could "
			"not be written\n", r.write_errors);
		r.status = 1;
	}
	jbuf_free(&r.j);
	free(r.iobuf);
	return r.status;
}

struct policy *replay_empty_policy(void)
{
	static const char empty[] = "version: 1\n";

	return policy_load_buffer("(no policy)", empty, sizeof(empty) - 1, NULL, NULL);
}
