/* rearm.h - alert re-arm: the same alert is not repeated within a time.
 *
 * "The same alert for the same device and key is not repeated within the
 * re-arm time; the next one says how many were suppressed."  A device that
 * opens a forbidden flow every second must give one alert per re-arm period,
 * not one per flow, and the one it gives says how many it stands for.
 *
 * An alert is identified by a 64-bit key, rearm_key(device, event type,
 * key).  The table is allocated once by rearm_new() with a hard capacity and
 * never allocates again: a device that makes up a new key per flow (a new
 * host name each time) fills it, and then the entry that fired longest ago
 * is evicted (counted in the stats).  The worst case of an eviction is that
 * an alert repeats early, and the evicted entry's suppressed count is lost
 * to its next alert (it is added to the stats instead); never a crash, never
 * a table that grows.
 *
 * Time is the caller's clock in milliseconds (the capture's clock in replay,
 * a monotonic one live), so tests and replays are deterministic.
 *
 * Not thread-safe: the caller serializes access (one table per worker, or a
 * lock around it).  No I/O, no logging.
 */
#ifndef IOTJAIL_REARM_H
#define IOTJAIL_REARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The key of one alert: 64-bit FNV-1a over the three strings, each framed so
 * that no two different triples give the same bytes (("ab", "c") is not
 * ("a", "bc"), NULL is not "").  Any of them may be NULL; KEY usually is
 * (an alert that has no sub-key) or names what the alert is about (a host,
 * a rule).
 *
 * It is a hash: two different triples collide with probability about
 * n^2 / 2^65 for n live keys, and a colliding pair shares one re-arm window
 * (one of them is suppressed and counted as the other).  FNV is not
 * collision resistant; a device that chooses its host names could in
 * principle craft a name whose key is that of another of its alerts, and
 * then hide that alert for one re-arm period at a time.  It gains nothing it
 * could not get by staying quiet, which is why a keyed hash is not used.
 */
uint64_t rearm_key(const char *device, const char *event_type,
		   const char *key);

struct rearm;

/* A table of at most CAPACITY keys (1 .. 2^30); NULL with errno (EINVAL,
 * ENOMEM). */
struct rearm *rearm_new(size_t capacity);
void rearm_free(struct rearm *r);	/* NULL is a no-op */

/*
 * Should the alert KEY be emitted at NOW_MS, REARM_MS after the last one
 * emitted for that key?
 *
 * true: emit it now.  *SUPPRESSED (if not NULL) is how many were suppressed
 * since the last emitted one for KEY (0 the first time); the count restarts.
 * false: suppress it; it is counted and *SUPPRESSED is the count so far,
 * this one included.  The count saturates at UINT32_MAX.
 *
 * The window is [fired, fired + REARM_MS): at fired + REARM_MS the key fires
 * again.  REARM_MS 0 fires every time.  The re-arm time is read on each call,
 * so a reload that changes it applies at once.
 *
 * A clock that goes backwards (NOW_MS before the key last fired: a step of
 * the wall clock, an out-of-order packet in a capture) cannot suppress
 * forever: the key's window is restarted at NOW_MS, so it ends REARM_MS
 * after the step at the latest (it only ever gets shorter), and the alert
 * itself is suppressed and counted like any other repeat.
 */
bool rearm_fire(struct rearm *r, uint64_t key, uint64_t now_ms,
		uint32_t rearm_ms, uint32_t *suppressed);

struct rearm_stats {
	uint64_t capacity;
	uint64_t used;			/* keys in the table */
	uint64_t evictions;		/* keys evicted because the table was full */
	uint64_t evicted_suppressed;	/* suppressed counts lost with them */
};

void rearm_stats(const struct rearm *r, struct rearm_stats *out);

#endif
