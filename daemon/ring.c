/* ring.c - the last N records of a stream. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/ring.h"

struct slot {
	void *p;
	size_t len, cap;
};

struct ring {
	pthread_mutex_t mu;
	struct slot *slots;
	size_t cap;
	uint64_t next;		/* sequence of the next push */
	uint64_t lost;		/* pushes that could not allocate */
	int efd;
};

struct ring *ring_new(size_t capacity, bool notify)
{
	struct ring *r;

	if (!capacity) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->efd = -1;
	r->cap = capacity;
	r->slots = calloc(capacity, sizeof(*r->slots));
	if (!r->slots ||
	    (notify && (r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) ||
	    pthread_mutex_init(&r->mu, NULL)) {
		int e = errno ? errno : ENOMEM;

		if (r->efd >= 0)
			close(r->efd);
		free(r->slots);
		free(r);
		errno = e;
		return NULL;
	}
	return r;
}

void ring_free(struct ring *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->cap; i++)
		free(r->slots[i].p);
	free(r->slots);
	if (r->efd >= 0)
		close(r->efd);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

int ring_push(struct ring *r, const void *p, size_t len)
{
	struct slot *s;
	uint64_t one = 1;

	pthread_mutex_lock(&r->mu);
	s = &r->slots[r->next % r->cap];
	if (len > s->cap) {
		void *np = realloc(s->p, len);

		if (!np) {
			r->lost++;
			pthread_mutex_unlock(&r->mu);
			return -ENOMEM;
		}
		s->p = np;
		s->cap = len;
	}
	if (len)
		memcpy(s->p, p, len);
	s->len = len;
	r->next++;
	pthread_mutex_unlock(&r->mu);
	/* A full counter (2^64 - 2 unread pushes) cannot happen; EAGAIN
	 * would only mean the reader is already due to wake. */
	if (r->efd >= 0 && write(r->efd, &one, sizeof(one)) < 0) {
		/* nothing to do: the fd is readable anyway */
	}
	return 0;
}

uint64_t ring_next(struct ring *r)
{
	uint64_t n;

	pthread_mutex_lock(&r->mu);
	n = r->next;
	pthread_mutex_unlock(&r->mu);
	return n;
}

uint64_t ring_read(struct ring *r, uint64_t since, ring_read_fn *fn, void *ctx,
		   uint64_t *missed)
{
	uint64_t first, seq, next;

	pthread_mutex_lock(&r->mu);
	next = r->next;
	first = next > r->cap ? next - r->cap : 0;
	if (since > next)	/* a sequence from the future: start now */
		since = next;
	if (missed)
		*missed = since < first ? first - since : 0;
	for (seq = since < first ? first : since; seq < next; seq++) {
		const struct slot *s = &r->slots[seq % r->cap];

		fn(ctx, seq, s->p, s->len);
	}
	pthread_mutex_unlock(&r->mu);
	return next;
}

int ring_fd(const struct ring *r)
{
	return r->efd;
}

void ring_fd_clear(struct ring *r)
{
	uint64_t v;

	if (r->efd >= 0 && read(r->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: already empty */
	}
}
