/* watch.h - what each device normally does, and alerts when it stops.
 *
 * The policy judges one flow at a time; the watcher remembers across flows
 * and across time, per device:
 *   - the services it serves and the remote endpoints it talks to, learnt
 *     (new_service_in, new_endpoint), unless a rule declares them;
 *   - its last MAC/address pairing and bridge port (binding_change,
 *     port_change);
 *   - how many hosts and ports it contacts and how many flows it opens in a
 *     window (scan, new_flow_flood);
 *   - when each service reports, against the rule's `every` +/- `tolerance`
 *     (report_interval);
 *   - bytes per service and direction against a learnt baseline and the
 *     policy's volume limits (throughput_above_baseline,
 *     throughput_below_baseline, device_silent, volume_limit);
 *   - nDPI's flow risks (flow_risk) and quarantines (quarantine_applied,
 *     quarantine_released).
 *
 * Bytes are counted per *slot*: one device, one service (the rule that
 * allowed the flow, or "(no rule)"), one role (the device started the flow,
 * OUT, or served it, IN).  Slots are numbered by name, so a number stays
 * with its service across reloads and restarts; the live daemon keeps it in
 * the flow, and credits the kernel's byte counts to it.
 *
 * Time is the caller's clock in microseconds (capture time in replay), so
 * replayed captures give the alerts the live daemon would give.  Every
 * function is thread-safe (one mutex: the callers are once per flow or per
 * second, never per packet in live mode).  Alerts go to the emit callback,
 * which applies re-arm (daemon/alerts.h).
 */
#ifndef IOTJAIL_WATCH_H
#define IOTJAIL_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/baseline.h"
#include "policy/policy.h"

struct alert;
struct classifier;
struct flow;

struct watch_config {
	struct baseline_params baseline;
	/* new_service_in and new_endpoint stay quiet this long after a
	 * device is first seen: what it does then is learnt (default 1 h). */
	uint32_t learn_ms;
	/* scan: more distinct hosts, or (host, port) pairs, than this in one
	 * window (defaults 60 s, 64 hosts, 256 pairs). */
	uint32_t scan_window_ms, scan_hosts, scan_pairs;
	/* report_interval: flows of one service closer than this belong to
	 * one report (default 2 s). */
	uint32_t burst_ms;
	/* nDPI risk bits (1 << bit) that raise flow_risk. */
	uint64_t risk_mask;
	/* hard caps (defaults 4096 devices incl. unknown ones seen, 65535
	 * slots, 64 services and 256 endpoints learnt per device) */
	uint32_t max_devices, max_slots, max_services, max_endpoints;
};

void watch_config_default(struct watch_config *cfg);

typedef void watch_emit_fn(void *ctx, struct alert *a);

struct watch;

/* NULL with errno.  P is borrowed until the next watch_set_policy(). */
struct watch *watch_new(const struct watch_config *cfg, const struct policy *p,
			watch_emit_fn *emit, void *ctx);
void watch_free(struct watch *w);	/* NULL is a no-op */

/* A reload: devices and slots are found again by name; what was learnt
 * about a device that is gone is kept until the device table is full. */
void watch_set_policy(struct watch *w, const struct policy *p);

struct watch_flow {
	uint64_t ts_us;
	const struct flow *f;
	const struct classifier *c;
	const struct policy_verdict *v;
	const char *ifnames[2];	/* bridge ports of key sides 0 and 1, or NULL */
	/* Judged again after a reload: it was seen and counted when first
	 * decided; only its (maybe new) slot is looked up. */
	bool again;
};

/*
 * A flow was decided (after judge_flow()).  Runs every flow-based detector
 * for the LAN device(s) of the flow and returns the flow's slot (0: none,
 * e.g. no LAN device), which the caller keeps with the flow to credit its
 * bytes.  The bytes the flow carried so far are credited here.
 *
 * *DROP (if not NULL) is set when the flow is a report sooner than its
 * rule's every - tolerance, the rule says `too_often: drop` and the device
 * enforces: the caller must deny the flow (the report_interval alert says
 * so, action "deny").
 */
uint32_t watch_flow_decided(struct watch *w, const struct watch_flow *wf,
			    bool *drop);

/* Bytes of a flow of slot SLOT since its last credit, as the kernel counts
 * them: FROM_INITIATOR and TO_INITIATOR (the watcher turns them into up
 * from the device and down towards it by the slot's role).  Feeds the
 * baselines and the volume limits. */
void watch_credit(struct watch *w, uint32_t slot, uint64_t ts_us,
		  uint64_t from_initiator, uint64_t to_initiator);

/* The credit of a packet of a decided flow, oriented by the flow: the
 * replay path, which sees every packet. */
void watch_packet(struct watch *w, const struct flow *f, int side,
		  uint32_t bytes, uint64_t ts_us);

/* Time passes: closes baseline buckets (silence), late reports, released
 * quarantines.  Call at least once a minute; cheap when nothing is due. */
void watch_tick(struct watch *w, uint64_t ts_us);

/*
 * How the watcher blocks a device past a byte limit whose policy says
 * `over: block`: the caller quarantines MAC until UNTIL_MS (wall clock) and
 * returns true, or false if it could not.  Called with the watcher locked
 * (it must not call the watcher).  Without one, limits only alert.
 */
typedef bool watch_block_fn(void *ctx, const char *device, const uint8_t mac[6],
			    uint64_t until_ms);
void watch_set_block(struct watch *w, watch_block_fn *fn, void *ctx);

/* The daemon put the device's MAC in the quarantine set (TIMEOUT_MS 0:
 * until released); RELEASE: it took it out before the timeout. */
void watch_quarantine(struct watch *w, uint64_t ts_us,
		      const struct policy_device *d, const uint8_t mac[6],
		      uint32_t timeout_ms, const char *why);
void watch_release(struct watch *w, uint64_t ts_us, const uint8_t mac[6],
		   const char *why);

/* State across restarts (daemon/statefile.h): learnt services and
 * endpoints, last sightings, baselines, slots (found again by name; their
 * numbers may change).  The time the daemon was not running is not
 * learnt as silence: baselines resume at NOW_MS.  save: 0 or -errno.  load:
 * 0, -ENOENT (no file: a first start), -EBADMSG with WHY (corrupt or
 * foreign; the caller sets the file aside), other -errno. */
int watch_save(struct watch *w, const char *path, uint64_t now_ms);
int watch_load(struct watch *w, const char *path, uint64_t now_ms, char *why,
	       size_t why_len);

/* Every service seen, with its bytes since the state began: UP from the
 * device, DOWN towards it.  FN runs with the watcher locked: it must not
 * call the watcher. */
typedef void watch_service_fn(void *ctx, const char *device, const char *service,
			      enum policy_direction role, uint64_t up, uint64_t down);
void watch_foreach_service(struct watch *w, watch_service_fn *fn, void *ctx);

/* Every device seen (declared ones and each unknown MAC or address, named
 * "unknown/<mac|address>"), as last seen.  FN runs with the watcher
 * locked: it must not call the watcher; pointers live during the call. */
struct watch_device_info {
	const char *name;
	const struct policy_device *dev;	/* in the current policy, or NULL */
	uint64_t first_ms, last_ms;
	bool has_mac, has_ip4, has_ip6;
	uint8_t mac[6], ip4[4], ip6[16];
	const char *port;			/* "" if unknown */
	bool quarantined;
	uint64_t quarantine_until_ms;		/* 0: none or no timeout */
};
typedef void watch_device_fn(void *ctx, const struct watch_device_info *d);
void watch_foreach_device(struct watch *w, watch_device_fn *fn, void *ctx);

struct watch_stats {
	uint64_t flows, slots, devices;
	uint64_t full_devices, full_slots;	/* refused: table full */
	uint64_t alerts;
};
void watch_get_stats(struct watch *w, struct watch_stats *st);

#endif
