/* fuzz_ctacct.c - libFuzzer harness for the /proc/net/nf_conntrack parser
 * and the tracker that reads whole tables.
 *
 * The input is used twice.  As one line: beyond "no crash", the parser's
 * contract is checked (only 0, -ENODATA or -EINVAL; a refused line leaves
 * *OUT zero, a line without counters has none; addresses fit their family;
 * ports only where the protocol has them; parsing is a pure function of the
 * bytes, and a trailing newline changes nothing), and the flow key built
 * from a parsed line is one flow_key_from_packet() could give.  As a table:
 * every line that parses is tracked, then the table is polled twice; the
 * poll's counters must add up, and a second poll of the same table credits
 * nothing unless a tuple appears twice in it (two different counter sets
 * for one conntrack entry read as a replacement each time).
 *
 *   make fuzz && build/fuzz/fuzz_ctacct tests/fuzz/corpus/ctacct
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/ctacct.h"
#include "daemon/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t zero[sizeof(struct ctacct_line)];

static void check_line(const struct ctacct_line *l, int r)
{
	struct flow_key k;
	size_t alen, i;
	int side;

	if (r == -EINVAL) {
		if (memcmp(l, zero, sizeof(*l)))
			abort();
		return;
	}
	if (r != 0 && r != -ENODATA)
		abort();
	if (l->family != AF_INET && l->family != AF_INET6)
		abort();
	if (r == -ENODATA && (l->packets[0] | l->packets[1] | l->bytes[0] |
			      l->bytes[1]))
		abort();
	alen = l->family == AF_INET ? 4 : 16;
	for (i = alen; i < 16; i++)
		if (l->tuple[0].src[i] | l->tuple[0].dst[i] |
		    l->tuple[1].src[i] | l->tuple[1].dst[i])
			abort();
	side = ctacct_line_key(l, &k);
	if (side != 0 && side != 1)
		abort();
	if (k.vlan || k.family != l->family || k.ip_proto != l->ip_proto)
		abort();
	if (l->ip_proto != 6 && l->ip_proto != 17 && (k.port[0] | k.port[1]))
		abort();
	/* The original sender is on SIDE: its address is there. */
	if (memcmp(k.addr[side], l->tuple[0].src, 16))
		abort();
}

static void count_credit(void *ctx, uint32_t slot, uint64_t ub, uint64_t up,
			 uint64_t db, uint64_t dp)
{
	(void)slot;
	if (!(ub | up | db | dp))
		abort();	/* only growth is credited */
	(*(unsigned *)ctx)++;
}

/* Splits DATA into lines as the poll does (newline-terminated; longer than
 * CTACCT_LINE_MAX counts as bad) and tracks the flow of each line that
 * parses; true if two parsed lines share a conntrack entry's identity
 * (approximated as: the same original tuple text, zone aside). */
static bool track_all(struct ctacct *a, const uint8_t *data, size_t size)
{
	struct ctacct_line l, prev[16];
	struct flow_key k;
	size_t pos = 0, n, np = 0, i;
	bool dup = false;
	int r, side;

	while (pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);

		n = nl ? (size_t)(nl - (data + pos)) + 1 : size - pos;
		if (n <= CTACCT_LINE_MAX) {
			r = ctacct_parse_line((const char *)data + pos, n, &l);
			if (r == 0 || r == -ENODATA) {
				side = ctacct_line_key(&l, &k);
				(void)ctacct_track(a, &k, (uint8_t)side,
						   (uint32_t)pos, NULL, NULL);
				for (i = 0; i < np; i++)
					if (!memcmp(&prev[i].tuple[0],
						    &l.tuple[0],
						    sizeof(l.tuple[0])) &&
					    prev[i].ip_proto == l.ip_proto)
						dup = true;
				if (np < 16)
					prev[np++] = l;
				else
					dup = true;	/* unchecked: assume */
			}
		}
		pos += n;
	}
	return dup;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctacct_poll_stats st;
	struct ctacct_line l, l2;
	struct ctacct *a;
	unsigned credits = 0;
	uint8_t *copy;
	bool dup;
	FILE *f;
	int r, r2;

	r = ctacct_parse_line((const char *)data, size, &l);
	check_line(&l, r);
	r2 = ctacct_parse_line((const char *)data, size, &l2);
	if (r2 != r || memcmp(&l, &l2, sizeof(l)))
		abort();
	/* With a newline added (when it has none): the same answer. */
	if (!size || data[size - 1] != '\n') {
		copy = malloc(size + 1);
		if (!copy)
			return 0;
		memcpy(copy, data, size);
		copy[size] = '\n';
		r2 = ctacct_parse_line((const char *)copy, size + 1, &l2);
		free(copy);
		if (r2 != r || memcmp(&l, &l2, sizeof(l)))
			abort();
	}

	if (!size)
		return 0;
	a = ctacct_new(8);
	if (!a)
		return 0;
	dup = track_all(a, data, size);
	f = fmemopen((void *)data, size, "r");
	if (f) {
		if (ctacct_poll(a, f, 1, count_credit, &credits, &st))
			abort();
		fclose(f);
		if (st.lines != st.parsed + st.bad_lines ||
		    st.parsed != st.matched + st.untracked ||
		    st.credits != credits || st.acct_off > st.parsed)
			abort();
	}
	f = fmemopen((void *)data, size, "r");
	if (f) {
		credits = 0;
		if (ctacct_poll(a, f, 2, count_credit, &credits, &st))
			abort();
		fclose(f);
		if (credits && !dup)
			abort();	/* nothing moved */
		if (st.forgotten)
			abort();	/* everything tracked is still there */
	}
	ctacct_free(a);
	return 0;
}
