/* ring.h - the last N records of a stream, for readers that come later.
 *
 * The control socket shows recent alerts and recently decided flows, and
 * follows new alerts as they come.  Writers (workers, the alert sink) push a
 * copy of each record; readers ask for the records after a sequence number
 * they remember.  A record older than the last N is gone: a reader that
 * fell behind learns how many it missed, it is never given a torn record.
 *
 * One mutex; a push is one memcpy into a slot that keeps its allocation, so
 * the steady state allocates nothing.  Meant for once-per-flow or rarer
 * events, never per packet.
 */
#ifndef IOTJAIL_RING_H
#define IOTJAIL_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ring;

/* CAPACITY records (>= 1).  NOTIFY: ring_fd() becomes readable at each
 * push (an eventfd).  NULL with errno. */
struct ring *ring_new(size_t capacity, bool notify);
void ring_free(struct ring *r);	/* NULL is a no-op */

/* Copy LEN bytes in as the next record.  0 or -ENOMEM (the record is
 * lost, and counted). */
int ring_push(struct ring *r, const void *p, size_t len);

/* The sequence number the next push gets (records are 0, 1, 2...). */
uint64_t ring_next(struct ring *r);

typedef void ring_read_fn(void *ctx, uint64_t seq, const void *p, size_t len);
/*
 * Call FN (under the ring's lock: it must not push to this ring) for each
 * record from sequence SINCE on, oldest first.  Returns the sequence to ask
 * for next time; *MISSED (if not NULL) gets how many records after SINCE
 * were already overwritten.
 */
uint64_t ring_read(struct ring *r, uint64_t since, ring_read_fn *fn, void *ctx,
		   uint64_t *missed);

/* The eventfd, or -1 without NOTIFY.  ring_fd_clear() empties it. */
int ring_fd(const struct ring *r);
void ring_fd_clear(struct ring *r);

#endif
