/* devview.h - per-device state shared by the workers, without locks.
 *
 * What belongs to a device rather than a flow (its counters, where and as
 * what it was last seen) must read as one view although every worker sees
 * some of its flows.  Each worker writes only its own shard (one slot per
 * device of the policy, on its own cache lines); readers sum or pick across
 * shards.  Writers never wait: counters are single-writer relaxed atomics,
 * and the last-seen identity is a per-slot sequence counter (a reader retries
 * while a write is in progress, a writer never does).
 *
 * A view belongs to one policy: slots are that policy's devices in file
 * order, plus one for the unknown device.  On reload a new view is built and
 * devview_carry() moves the totals across by device name once the old view
 * is no longer written.
 */
#ifndef IOTJAIL_DEVVIEW_H
#define IOTJAIL_DEVVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct policy;
struct policy_device;

enum devview_ctr {
	DEVVIEW_FLOWS,		/* flows decided with this device on a side */
	DEVVIEW_ALLOWED,
	DEVVIEW_ALERTED,	/* allowed, with an alert */
	DEVVIEW_DENIED,
	DEVVIEW_QUARANTINED,	/* flows that quarantined the device */
	DEVVIEW_ALERTS,		/* alerts about the device */
	__DEVVIEW_CTR_MAX
};

const char *devview_ctr_name(enum devview_ctr c);

/* Where and as what a device was last seen. */
struct devview_seen {
	uint64_t at_us;		/* 0: never */
	bool has_mac;
	uint8_t mac[6];
	uint8_t family;		/* AF_INET / AF_INET6 */
	uint8_t addr[16];
	char port[16];		/* bridge port / interface, "" if unknown */
};

struct devview;

/* NULL with errno.  n_workers >= 1. */
struct devview *devview_new(const struct policy *p, unsigned n_workers);
void devview_free(struct devview *v);	/* NULL is a no-op */

size_t devview_slots(const struct devview *v);
/* The slot of device D (declared or the unknown device); (size_t)-1 if D is
 * not a device of this view's policy. */
size_t devview_slot(const struct devview *v, const struct policy_device *d);
const char *devview_slot_name(const struct devview *v, size_t slot);

/* Writers: worker W only, on its own shard. */
void devview_add(struct devview *v, unsigned w, size_t slot,
		 enum devview_ctr c, uint64_t n);
void devview_saw(struct devview *v, unsigned w, size_t slot,
		 const struct devview_seen *s);

/* Readers: any thread.  Counters summed over shards (plus what was carried
 * from earlier views); the newest sighting of any shard. */
void devview_read(const struct devview *v, size_t slot,
		  uint64_t ctr[__DEVVIEW_CTR_MAX], struct devview_seen *seen);

/* Adds FROM's totals and sightings to TO's, slot by device name.  FROM must
 * no longer be written (every worker has moved to TO). */
void devview_carry(struct devview *to, const struct devview *from);

#endif
