/*
 * pcapgen - deterministic generator of realistic test captures.
 *
 *   pcapgen [--flows N] [--bulk-mb M] [--seed S] [-v] SCENARIO OUT.pcap
 *   pcapgen --list-scenarios
 *
 * The replay tests and benchmarks feed these captures to the classifier, so
 * a capture must be a pure function of its arguments: the clock starts at
 * 2026-01-01T00:00:00Z and advances by fixed amounts plus draws from a
 * seeded xorshift generator.  Same arguments, same bytes, on any host (all
 * multi-byte values are written byte by byte, never through memcpy of a
 * native integer).
 *
 * Layers, bottom up:
 *   out    a min-heap of finished frames keyed by (time, insertion order),
 *          flushed into a pcap dumper.  Flows are generated one at a time
 *          but the file must be in time order; the heap reorders them.  The
 *          bench scenario flushes everything older than the next generation
 *          event, so memory follows concurrency, not capture size.
 *   link   Ethernet (optionally 802.1Q or QinQ tagged), Linux SLL, SLL2, raw.
 *   ip     IPv4/IPv6 headers and the L4 checksums over the pseudo header.
 *   flow   one 5-tuple with per-side state: TCP sequence numbers, TCP
 *          timestamps, IPv4 IDs, TTL and the one-way delay between the
 *          capture point and that side, which sets when replies are seen.
 *   gen_*  application exchanges (DNS, NTP, TLS, HTTP, RTSP, MQTT, SSDP,
 *          IPP) built from real message formats.
 *   scen_* the scenarios.
 *
 * The home address plan is shared with the example policy (another file),
 * so it is fixed here and documented in lan_init().
 */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

#define MSEC		1000ULL		/* all times are in microseconds */
#define SEC		1000000ULL
#define BASE_US		(1767225600ULL * SEC)	/* 2026-01-01T00:00:00Z */
#define NTP_UNIX_DELTA	2208988800ULL		/* 1900-01-01 to 1970-01-01 */
#define SNAPLEN		262144

/*
 * Frames are built back to front in one buffer: the L4 header and payload go
 * at L4_OFF, the IP layer prepends its header, the link layer prepends its
 * own.  No layer copies what the layer above built.
 */
#define LINK_ROOM	32	/* SLL2 (20), Ethernet + QinQ (22) */
#define IP_ROOM		40	/* IPv6; IPv4 without options uses 20 */
#define L4_OFF		(LINK_ROOM + IP_ROOM)
#define L4_MAX		2048
#define FRAME_MEM	(L4_OFF + L4_MAX + 64)	/* tail room for padding */

#define TF_FIN		0x01
#define TF_SYN		0x02
#define TF_RST		0x04
#define TF_PSH		0x08
#define TF_ACK		0x10

#define DNS_A		1
#define DNS_AAAA	28

#define ETH_IPV4	0x0800
#define ETH_ARP		0x0806
#define ETH_VLAN	0x8100
#define ETH_QINQ	0x88a8
#define ETH_IPV6	0x86dd

enum side_id { CLI = 0, SRV = 1 };

enum linktype { LT_ETH, LT_SLL, LT_SLL2, LT_RAW };

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("pcapgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- byte order and PRNG ------------------------------------------------ */

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

struct rng {
	uint64_t s;
};

static void rng_seed(struct rng *r, uint64_t seed)
{
	/* splitmix64 spreads small seeds over the state and avoids the
	 * all-zero state that xorshift never leaves */
	uint64_t z = seed + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	r->s = z ? z : 0x2545f4914f6cdd1dULL;
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545f4914f6cdd1dULL;	/* xorshift64* */
}

/* A value in [lo, hi); modulo bias does not matter for test data. */
static uint32_t rng_between(struct rng *r, uint32_t lo, uint32_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (uint32_t)(rng_next(r) % (hi - lo));
}

static void rng_fill(struct rng *r, uint8_t *p, size_t n)
{
	while (n) {
		uint64_t v = rng_next(r);
		size_t k = n < 8 ? n : 8;
		size_t i;

		for (i = 0; i < k; i++)
			p[i] = (uint8_t)(v >> (8 * i));
		p += k;
		n -= k;
	}
}

/* ---- bounded byte buffer -------------------------------------------------- */

/*
 * Message builders append to a fixed buffer.  A write that does not fit
 * marks the buffer instead of running past it; buf_check() then turns the
 * generator bug into an error message rather than a corrupt packet.
 */
struct buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	int overflow;
};

static void buf_init(struct buf *b, uint8_t *mem, size_t cap)
{
	b->p = mem;
	b->len = 0;
	b->cap = cap;
	b->overflow = 0;
}

static uint8_t *buf_room(struct buf *b, size_t n)
{
	uint8_t *q;

	if (b->overflow || n > b->cap - b->len) {
		b->overflow = 1;
		return NULL;
	}
	q = b->p + b->len;
	b->len += n;
	return q;
}

static void buf_check(const struct buf *b, const char *what)
{
	if (b->overflow)
		die("internal error: %s does not fit in %zu bytes", what, b->cap);
}

static void put_u8(struct buf *b, uint32_t v)
{
	uint8_t *q = buf_room(b, 1);

	if (q)
		q[0] = (uint8_t)v;
}

static void put_be16(struct buf *b, uint32_t v)
{
	uint8_t *q = buf_room(b, 2);

	if (q)
		wr16(q, v);
}

static void put_be24(struct buf *b, uint32_t v)
{
	uint8_t *q = buf_room(b, 3);

	if (q)
		wr24(q, v);
}

static void put_be32(struct buf *b, uint32_t v)
{
	uint8_t *q = buf_room(b, 4);

	if (q)
		wr32(q, v);
}

static void put_mem(struct buf *b, const void *m, size_t n)
{
	uint8_t *q = buf_room(b, n);

	if (q && n)
		memcpy(q, m, n);
}

static void put_str(struct buf *b, const char *s)
{
	put_mem(b, s, strlen(s));
}

static void put_zero(struct buf *b, size_t n)
{
	uint8_t *q = buf_room(b, n);

	if (q && n)
		memset(q, 0, n);
}

static void put_rand(struct buf *b, struct rng *r, size_t n)
{
	uint8_t *q = buf_room(b, n);

	if (q)
		rng_fill(r, q, n);
}

static void put_fmt(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put_fmt(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	int n;

	if (b->overflow)
		return;
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf((char *)b->p + b->len, room, fmt, ap);
	va_end(ap);
	/* vsnprintf needs room for its NUL, which is not part of the data */
	if (n < 0 || (size_t)n >= room) {
		b->overflow = 1;
		return;
	}
	b->len += (size_t)n;
}

/* Length fields are written as placeholders and patched once the body is
 * known; `at` is where the placeholder starts. */
static void patch_len16(struct buf *b, size_t at)
{
	if (!b->overflow && at + 2 <= b->len)
		wr16(b->p + at, (uint32_t)(b->len - at - 2));
}

static void patch_len24(struct buf *b, size_t at)
{
	if (!b->overflow && at + 3 <= b->len)
		wr24(b->p + at, (uint32_t)(b->len - at - 3));
}

/* ---- checksums ------------------------------------------------------------ */

static uint64_t sum_bytes(uint64_t sum, const uint8_t *p, size_t n)
{
	while (n >= 2) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		n -= 2;
	}
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t sum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Internet checksum of an L4 segment including the v4 or v6 pseudo header
 * (ICMPv4 has none). */
static uint16_t l4_csum(int v6, const uint8_t *src, const uint8_t *dst, uint8_t proto,
			const uint8_t *l4, size_t len)
{
	uint64_t sum = 0;

	if (proto == IPPROTO_ICMP)
		return sum_fold(sum_bytes(0, l4, len));
	if (v6) {
		sum = sum_bytes(sum, src, 16);
		sum = sum_bytes(sum, dst, 16);
		sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
	} else {
		sum = sum_bytes(sum, src, 4);
		sum = sum_bytes(sum, dst, 4);
		sum += (uint32_t)len;
	}
	sum += proto;
	return sum_fold(sum_bytes(sum, l4, len));
}

/* CRC32c as SCTP uses it (RFC 4960 appendix B); one packet needs it, so
 * the bitwise form is plenty. */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;
	int k;

	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* ---- output: time-ordered pcap writer ------------------------------------- */

struct pkt {
	uint64_t ts;		/* microseconds since the Unix epoch */
	uint64_t order;		/* generation order breaks timestamp ties */
	uint32_t caplen;
	uint32_t len;		/* length on the wire; > caplen when snapped */
	uint8_t data[];
};

struct out {
	FILE *fp;
	char *fbuf;
	pcap_t *pd;
	pcap_dumper_t *dumper;
	struct pkt **heap;
	size_t n;
	size_t cap;
	size_t peak;
	uint64_t order;
	uint64_t packets;
	uint64_t bytes;
	uint64_t last_ts;
	int err;		/* first write error (positive errno) */
	int regular;		/* output is a regular file: remove it on error */
};

static int pkt_before(const struct pkt *a, const struct pkt *b)
{
	if (a->ts != b->ts)
		return a->ts < b->ts;
	return a->order < b->order;
}

static void out_push(struct out *o, uint64_t ts, const uint8_t *data, uint32_t caplen,
		     uint32_t len)
{
	struct pkt *p;
	size_t i;

	if (o->n == o->cap) {
		size_t ncap = o->cap ? o->cap * 2 : 1024;
		struct pkt **nh = realloc(o->heap, ncap * sizeof(*nh));

		if (!nh)
			die("out of memory (reorder buffer of %zu packets)", o->n);
		o->heap = nh;
		o->cap = ncap;
	}
	p = malloc(sizeof(*p) + caplen);
	if (!p)
		die("out of memory");
	p->ts = ts;
	p->order = o->order++;
	p->caplen = caplen;
	p->len = len;
	if (caplen)
		memcpy(p->data, data, caplen);

	i = o->n++;
	while (i > 0) {
		size_t up = (i - 1) / 2;

		if (!pkt_before(p, o->heap[up]))
			break;
		o->heap[i] = o->heap[up];
		i = up;
	}
	o->heap[i] = p;
	if (o->n > o->peak)
		o->peak = o->n;
}

static struct pkt *out_pop(struct out *o)
{
	struct pkt *top = o->heap[0];
	struct pkt *last = o->heap[--o->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= o->n)
			break;
		if (c + 1 < o->n && pkt_before(o->heap[c + 1], o->heap[c]))
			c++;
		if (!pkt_before(o->heap[c], last))
			break;
		o->heap[i] = o->heap[c];
		i = c;
	}
	if (o->n)
		o->heap[i] = last;
	return top;
}

static void out_write(struct out *o, struct pkt *p)
{
	struct pcap_pkthdr h;

	if (p->ts < o->last_ts)
		die("internal error: packet at %" PRIu64 " us written after %" PRIu64 " us",
		    p->ts, o->last_ts);
	o->last_ts = p->ts;
	if (!o->err) {
		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = (time_t)(p->ts / SEC);
		h.ts.tv_usec = (suseconds_t)(p->ts % SEC);
		h.caplen = p->caplen;
		h.len = p->len;
		pcap_dump((u_char *)o->dumper, &h, p->data);
		o->packets++;
		o->bytes += p->caplen;
		/* pcap_dump() reports nothing.  Look at the stream after every
		 * write: errno still names the failure, and a full disk stops
		 * a long bench run at once. */
		if (ferror(o->fp))
			o->err = errno ? errno : EIO;
	}
	free(p);
}

/* Writes every buffered packet older than `before`: the caller promises
 * that nothing generated from now on is older than that. */
static void out_flush(struct out *o, uint64_t before)
{
	while (o->n && o->heap[0]->ts < before)
		out_write(o, out_pop(o));
}

static void out_drain(struct out *o)
{
	while (o->n)
		out_write(o, out_pop(o));
}

static int out_open(struct out *o, int dlt, const char *path)
{
	struct stat st;

	memset(o, 0, sizeof(*o));
	o->pd = pcap_open_dead(dlt, SNAPLEN);
	if (!o->pd)
		return -ENOMEM;
	if (strcmp(path, "-") == 0) {
		o->fp = stdout;
	} else {
		o->fp = fopen(path, "wb");
		if (!o->fp) {
			int e = errno;

			pcap_close(o->pd);
			return -e;
		}
		/* never unlink a device or a FIFO someone pointed us at */
		o->regular = fstat(fileno(o->fp), &st) == 0 && S_ISREG(st.st_mode);
	}
	/* the bench capture is gigabytes: write in large blocks */
	o->fbuf = malloc(1 << 20);
	if (o->fbuf)
		setvbuf(o->fp, o->fbuf, _IOFBF, 1 << 20);
	o->dumper = pcap_dump_fopen(o->pd, o->fp);
	if (!o->dumper) {
		fprintf(stderr, "pcapgen: %s\n", pcap_geterr(o->pd));
		if (o->fp != stdout)
			fclose(o->fp);
		pcap_close(o->pd);
		free(o->fbuf);
		return -EIO;
	}
	return 0;
}

/* Returns 0 or -errno of the first write error. */
static int out_close(struct out *o)
{
	int err = o->err;

	errno = 0;
	if (!err && (pcap_dump_flush(o->dumper) < 0 || ferror(o->fp)))
		err = errno ? errno : EIO;
	pcap_dump_close(o->dumper);	/* also closes o->fp */
	pcap_close(o->pd);
	while (o->n)
		free(out_pop(o));
	free(o->heap);
	free(o->fbuf);
	return -err;
}

/* ---- hosts, flows and the generator context ------------------------------- */

struct gen {
	struct out out;
	struct rng rng;
	enum linktype lt;
	/* SLL/SLL2: frames sent by this MAC are PACKET_OUTGOING */
	uint8_t local_mac[6];
	/* 802.1Q tags given to flows created while these are set */
	unsigned ntags;
	uint16_t tpid[2];
	uint16_t tci[2];
};

struct host {
	uint8_t mac[6];		/* hosts beyond the router: the router's MAC */
	uint8_t ip4[4];
	uint8_t ip6[16];
	uint8_t ttl;		/* TTL / hop limit as seen at the capture point */
	uint32_t delay_us;	/* one-way delay between capture point and host */
	uint32_t ifindex;	/* SLL2: the port its frames come in on (0: 2) */
};

struct side {
	uint32_t ifindex;	/* SLL2: where its frames come in (0: 2) */
	uint8_t mac[6];
	uint8_t ip[16];		/* IPv4 uses the first four bytes */
	uint16_t port;
	uint16_t ip_id;
	uint16_t win;		/* scaled window after the handshake */
	uint16_t syn_win;
	uint8_t ttl;
	uint32_t delay_us;
	uint32_t seq;		/* next sequence number this side sends */
	uint32_t ts_clock;	/* TCP timestamp clock offset */
	uint32_t last_tsval;
	uint32_t label;		/* IPv6 flow label */
};

struct flow {
	struct gen *g;
	int v6;
	uint8_t proto;
	uint16_t mss;		/* payload bytes in a full segment */
	unsigned ntags;
	uint16_t tpid[2];
	uint16_t tci[2];
	uint64_t t;		/* time of the packet being generated */
	struct side s[2];	/* indexed by enum side_id */
};

static const uint8_t router_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void host_set(struct host *h, const char *mac, const char *ip4, const char *ip6,
		     uint8_t ttl, uint32_t delay_us)
{
	unsigned m[6];
	int i;

	memset(h, 0, sizeof(*h));
	if (sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		die("internal error: bad MAC %s", mac);
	for (i = 0; i < 6; i++)
		h->mac[i] = (uint8_t)m[i];
	if (ip4 && inet_pton(AF_INET, ip4, h->ip4) != 1)
		die("internal error: bad IPv4 address %s", ip4);
	if (ip6 && inet_pton(AF_INET6, ip6, h->ip6) != 1)
		die("internal error: bad IPv6 address %s", ip6);
	h->ttl = ttl;
	h->delay_us = delay_us;
}

static uint16_t eph_port(struct gen *g)
{
	return (uint16_t)rng_between(&g->rng, 32768, 61000);	/* Linux default range */
}

/* cport 0 picks an ephemeral port. */
static void flow_init(struct flow *f, struct gen *g, uint8_t proto, int v6, const struct host *c,
		      uint16_t cport, const struct host *s, uint16_t sport, uint64_t t)
{
	const struct host *h[2] = { c, s };
	int i;

	memset(f, 0, sizeof(*f));
	f->g = g;
	f->v6 = v6;
	f->proto = proto;
	f->mss = v6 ? 1440 - 12 : 1460 - 12;	/* MSS less the timestamp option */
	f->t = t;
	f->ntags = g->ntags;
	memcpy(f->tpid, g->tpid, sizeof(f->tpid));
	memcpy(f->tci, g->tci, sizeof(f->tci));
	for (i = 0; i < 2; i++) {
		struct side *sd = &f->s[i];

		memcpy(sd->mac, h[i]->mac, 6);
		sd->ifindex = h[i]->ifindex;
		if (v6)
			memcpy(sd->ip, h[i]->ip6, 16);
		else
			memcpy(sd->ip, h[i]->ip4, 4);
		sd->ttl = h[i]->ttl;
		sd->delay_us = h[i]->delay_us;
		sd->seq = (uint32_t)rng_next(&g->rng);
		sd->ts_clock = (uint32_t)rng_next(&g->rng);
		sd->ip_id = (uint16_t)rng_next(&g->rng);
		sd->label = (uint32_t)rng_next(&g->rng) & 0xfffff;
		sd->win = i == CLI ? 502 : 509;		/* x128 (wscale 7) */
		sd->syn_win = i == CLI ? 64240 : 65160;	/* Linux defaults */
	}
	f->s[CLI].port = cport ? cport : eph_port(g);
	f->s[SRV].port = sport;
}

/*
 * Moves the flow clock to when side d's answer to the last packet is seen:
 * a round trip between the capture point and d plus d's think time.
 */
static void flow_turn(struct flow *f, enum side_id d, uint64_t think_us)
{
	f->t += 2ULL * f->s[d].delay_us + think_us;
}

/* ---- link layer ------------------------------------------------------------ */

static uint8_t sll_pkttype(const struct gen *g, const uint8_t *src, const uint8_t *dst)
{
	if (memcmp(src, g->local_mac, 6) == 0)
		return 4;	/* PACKET_OUTGOING */
	if (dst[0] & 1)
		return memcmp(dst, bcast_mac, 6) == 0 ? 1 : 2;	/* BROADCAST : MULTICAST */
	return 0;		/* PACKET_HOST */
}

/*
 * Prepends the link header to the L3 packet at mem + off (off >= LINK_ROOM
 * by construction) and queues the frame.
 */
static void link_emit(const struct flow *f, enum side_id d, uint64_t ts, uint8_t *mem, size_t off,
		      size_t len, uint16_t ethertype)
{
	struct gen *g = f->g;
	const uint8_t *src = f->s[d].mac;
	const uint8_t *dst = f->s[!d].mac;
	uint8_t *p = mem + off;
	size_t hl, min, i;

	switch (g->lt) {
	case LT_ETH:
		hl = 14 + 4 * f->ntags;
		p -= hl;
		memcpy(p, dst, 6);
		memcpy(p + 6, src, 6);
		for (i = 0; i < f->ntags; i++) {
			wr16(p + 12 + 4 * i, f->tpid[i]);
			wr16(p + 14 + 4 * i, f->tci[i]);
		}
		wr16(p + 12 + 4 * f->ntags, ethertype);
		len += hl;
		/* Short frames carry padding on the wire.  Keeping it means a
		 * parser must trust the IP length, not the frame length. */
		min = 60 + 4 * f->ntags;
		if (len < min) {
			memset(p + len, 0, min - len);
			len = min;
		}
		break;
	case LT_SLL:
		hl = 16;
		p -= hl;
		wr16(p, sll_pkttype(g, src, dst));
		wr16(p + 2, 1);		/* ARPHRD_ETHER */
		wr16(p + 4, 6);
		memcpy(p + 6, src, 6);
		memset(p + 12, 0, 2);
		wr16(p + 14, ethertype);
		len += hl;
		break;
	case LT_SLL2:
		hl = 20;
		p -= hl;
		wr16(p, ethertype);
		wr16(p + 2, 0);
		/* ifindex of the interface the frame came in on */
		wr32(p + 4, f->s[d].ifindex ? f->s[d].ifindex : 2);
		wr16(p + 8, 1);		/* ARPHRD_ETHER */
		p[10] = sll_pkttype(g, src, dst);
		p[11] = 6;
		memcpy(p + 12, src, 6);
		memset(p + 18, 0, 2);
		len += hl;
		break;
	case LT_RAW:
		break;
	}
	out_push(&g->out, ts, p, (uint32_t)len, (uint32_t)len);
}

/* ---- IP ------------------------------------------------------------------- */

/* Fills the L4 checksum, prepends the IP header to the L4 segment at
 * mem + L4_OFF and hands the packet to the link layer. */
static void ip_emit(struct flow *f, enum side_id d, uint64_t ts, uint8_t *mem, size_t l4len)
{
	struct side *src = &f->s[d];
	const struct side *dst = &f->s[!d];
	uint8_t *l4 = mem + L4_OFF;
	uint8_t *ip;
	uint16_t sum;

	switch (f->proto) {
	case IPPROTO_TCP:
		wr16(l4 + 16, l4_csum(f->v6, src->ip, dst->ip, f->proto, l4, l4len));
		break;
	case IPPROTO_UDP:
		sum = l4_csum(f->v6, src->ip, dst->ip, f->proto, l4, l4len);
		wr16(l4 + 6, sum ? sum : 0xffff);	/* 0 means "no checksum" */
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		wr16(l4 + 2, l4_csum(f->v6, src->ip, dst->ip, f->proto, l4, l4len));
		break;
	default:
		break;		/* GRE without checksum */
	}

	if (f->v6) {
		ip = l4 - 40;
		wr32(ip, 0x60000000u | src->label);
		wr16(ip + 4, (uint32_t)l4len);
		ip[6] = f->proto;
		ip[7] = src->ttl;
		memcpy(ip + 8, src->ip, 16);
		memcpy(ip + 24, dst->ip, 16);
		link_emit(f, d, ts, mem, (size_t)(ip - mem), 40 + l4len, ETH_IPV6);
	} else {
		ip = l4 - 20;
		ip[0] = 0x45;
		ip[1] = 0;
		wr16(ip + 2, (uint32_t)(20 + l4len));
		wr16(ip + 4, src->ip_id++);
		wr16(ip + 6, 0x4000);	/* DF, as Linux sets with PMTU discovery */
		ip[8] = src->ttl;
		ip[9] = f->proto;
		wr16(ip + 10, 0);
		memcpy(ip + 12, src->ip, 4);
		memcpy(ip + 16, dst->ip, 4);
		wr16(ip + 10, sum_fold(sum_bytes(0, ip, 20)));
		link_emit(f, d, ts, mem, (size_t)(ip - mem), 20 + l4len, ETH_IPV4);
	}
}

/* ---- UDP, raw L4 and TCP ---------------------------------------------------- */

static void udp_emit(struct flow *f, enum side_id d, const uint8_t *data, size_t len)
{
	uint8_t mem[FRAME_MEM];
	uint8_t *uh = mem + L4_OFF;

	if (len > L4_MAX - 8)
		die("internal error: UDP payload of %zu bytes", len);
	wr16(uh, f->s[d].port);
	wr16(uh + 2, f->s[!d].port);
	wr16(uh + 4, (uint32_t)(8 + len));
	wr16(uh + 6, 0);
	memcpy(uh + 8, data, len);
	ip_emit(f, d, f->t, mem, 8 + len);
}

/* An L4 message built by the caller (ICMPv6, GRE); ip_emit() fills the
 * checksum where the protocol has one. */
static void l4_emit(struct flow *f, enum side_id d, const uint8_t *data, size_t len)
{
	uint8_t mem[FRAME_MEM];

	if (len > L4_MAX)
		die("internal error: L4 message of %zu bytes", len);
	memcpy(mem + L4_OFF, data, len);
	ip_emit(f, d, f->t, mem, len);
}

static void tcp_emit(struct flow *f, enum side_id d, uint64_t ts, uint8_t flags,
		     const uint8_t *data, size_t len)
{
	uint8_t mem[FRAME_MEM];
	struct side *me = &f->s[d];
	const struct side *peer = &f->s[!d];
	uint8_t *th = mem + L4_OFF;
	uint8_t *o = th + 20;
	size_t hl = (flags & TF_SYN) ? 40 : 32;
	/* TSval ticks in milliseconds from a random per-host origin */
	uint32_t tsval = me->ts_clock + (uint32_t)(ts / MSEC);
	uint32_t tsecr = (flags & TF_SYN) && !(flags & TF_ACK) ? 0 : peer->last_tsval;

	if (len > L4_MAX - hl)
		die("internal error: TCP segment of %zu bytes", len);
	wr16(th, me->port);
	wr16(th + 2, peer->port);
	wr32(th + 4, me->seq);
	wr32(th + 8, (flags & TF_ACK) ? peer->seq : 0);
	th[12] = (uint8_t)((hl / 4) << 4);
	th[13] = flags;
	wr16(th + 14, (flags & TF_SYN) ? me->syn_win : me->win);
	wr16(th + 16, 0);
	wr16(th + 18, 0);
	if (flags & TF_SYN) {
		/* Linux's layout: MSS, SACK permitted, timestamps, NOP, wscale */
		o[0] = 2;
		o[1] = 4;
		wr16(o + 2, f->v6 ? 1440 : 1460);
		o[4] = 4;
		o[5] = 2;
		o[6] = 8;
		o[7] = 10;
		wr32(o + 8, tsval);
		wr32(o + 12, tsecr);
		o[16] = 1;
		o[17] = 3;
		o[18] = 3;
		o[19] = 7;
	} else {
		o[0] = 1;
		o[1] = 1;
		o[2] = 8;
		o[3] = 10;
		wr32(o + 4, tsval);
		wr32(o + 8, tsecr);
	}
	if (len)
		memcpy(th + hl, data, len);
	me->last_tsval = tsval;
	me->seq += (uint32_t)len + !!(flags & TF_SYN) + !!(flags & TF_FIN);
	ip_emit(f, d, ts, mem, hl + len);
}

static void tcp_open(struct flow *f)
{
	tcp_emit(f, CLI, f->t, TF_SYN, NULL, 0);
	flow_turn(f, SRV, 20);
	tcp_emit(f, SRV, f->t, TF_SYN | TF_ACK, NULL, 0);
	flow_turn(f, CLI, 30);
	tcp_emit(f, CLI, f->t, TF_ACK, NULL, 0);
}

/* Time between back-to-back segments behind a 100 Mbit/s bottleneck. */
static uint64_t seg_gap(size_t n)
{
	return 20 + n * 8 / 100;
}

/*
 * Side d sends len bytes from f->t on, in MSS-sized segments with PSH on
 * the last.  The peer acknowledges every second segment and the last one,
 * a round trip later.  Leaves f->t at the last data segment, so the
 * caller's flow_turn() schedules the peer's answer after it.
 */
static void tcp_send(struct flow *f, enum side_id d, const uint8_t *data, size_t len)
{
	uint64_t ts = f->t;
	size_t off = 0;
	unsigned nseg = 0;

	while (off < len) {
		size_t n = len - off < f->mss ? len - off : f->mss;
		uint8_t flags = TF_ACK;

		if (off + n == len)
			flags |= TF_PSH;
		tcp_emit(f, d, ts, flags, data + off, n);
		off += n;
		f->t = ts;
		if (++nseg % 2 == 0 || off == len)
			tcp_emit(f, !d, ts + 2ULL * f->s[!d].delay_us + 40, TF_ACK, NULL, 0);
		ts += seg_gap(n);
	}
}

/* Side d closes: FIN, the peer's FIN, the last ACK. */
static void tcp_close(struct flow *f, enum side_id d)
{
	tcp_emit(f, d, f->t, TF_FIN | TF_ACK, NULL, 0);
	flow_turn(f, !d, 60);
	tcp_emit(f, !d, f->t, TF_FIN | TF_ACK, NULL, 0);
	flow_turn(f, d, 30);
	tcp_emit(f, d, f->t, TF_ACK, NULL, 0);
}

static void tcp_send_buf(struct flow *f, enum side_id d, const struct buf *b, const char *what)
{
	buf_check(b, what);
	tcp_send(f, d, b->p, b->len);
}

static void udp_send_buf(struct flow *f, enum side_id d, const struct buf *b, const char *what)
{
	buf_check(b, what);
	udp_emit(f, d, b->p, b->len);
}

static void fmt_ip4(char *s, size_t n, const uint8_t *ip)
{
	snprintf(s, n, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

static void fmt_http_date(char *s, size_t n, uint64_t t)
{
	time_t sec = (time_t)(t / SEC);
	struct tm tm;

	gmtime_r(&sec, &tm);
	strftime(s, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* ---- DNS -------------------------------------------------------------------- */

static void dns_name(struct buf *b, const char *name)
{
	const char *p = name;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (n == 0 || n > 63)
			die("internal error: bad DNS name %s", name);
		put_u8(b, (uint32_t)n);
		put_mem(b, p, n);
		p += n;
		if (*p == '.')
			p++;
	}
	put_u8(b, 0);
}

/* A query (addr NULL) or its answer, both with an EDNS0 OPT record as
 * today's stub resolvers and forwarders send. */
static void dns_message(struct buf *b, uint16_t id, const char *name, uint16_t qtype,
			const uint8_t *addr)
{
	size_t rdlen = qtype == DNS_AAAA ? 16 : 4;

	put_be16(b, id);
	put_be16(b, addr ? 0x8180 : 0x0100);	/* response RD RA : query RD */
	put_be16(b, 1);
	put_be16(b, addr ? 1 : 0);
	put_be16(b, 0);
	put_be16(b, 1);
	dns_name(b, name);
	put_be16(b, qtype);
	put_be16(b, 1);		/* IN */
	if (addr) {
		put_be16(b, 0xc00c);	/* owner: pointer to the question name */
		put_be16(b, qtype);
		put_be16(b, 1);
		put_be32(b, 300);
		put_be16(b, (uint32_t)rdlen);
		put_mem(b, addr, rdlen);
	}
	put_u8(b, 0);		/* OPT: root owner */
	put_be16(b, 41);
	put_be16(b, 1232);	/* UDP payload size (DNS flag day 2020) */
	put_be32(b, 0);
	put_be16(b, 0);
}

/* Query and answer; returns when the answer is seen. */
static uint64_t gen_dns(struct gen *g, uint64_t t, const struct host *c, uint16_t cport,
			const struct host *resolver, int v6, const char *name, uint16_t qtype,
			const uint8_t *addr)
{
	uint8_t mem[512];
	struct buf b;
	struct flow f;
	uint16_t id = (uint16_t)rng_next(&g->rng);

	flow_init(&f, g, IPPROTO_UDP, v6, c, cport, resolver, 53, t);
	buf_init(&b, mem, sizeof(mem));
	dns_message(&b, id, name, qtype, NULL);
	udp_send_buf(&f, CLI, &b, "DNS query");
	/* the resolver forwards upstream on a cache miss */
	flow_turn(&f, SRV, rng_between(&g->rng, 2 * MSEC, 25 * MSEC));
	buf_init(&b, mem, sizeof(mem));
	dns_message(&b, id, name, qtype, addr);
	udp_send_buf(&f, SRV, &b, "DNS answer");
	return f.t;
}

/* ---- NTP -------------------------------------------------------------------- */

static void ntp_stamp(uint8_t *p, uint64_t us)
{
	wr32(p, (uint32_t)(us / SEC + NTP_UNIX_DELTA));
	wr32(p + 4, (uint32_t)(((us % SEC) << 32) / SEC));
}

/* A client request (mode 3) and the server's reply (mode 4), NTPv4. */
static uint64_t gen_ntp(struct gen *g, uint64_t t, const struct host *c, uint16_t cport,
			const struct host *s)
{
	uint8_t req[48], rsp[48];
	struct flow f;

	flow_init(&f, g, IPPROTO_UDP, 0, c, cport, s, 123, t);
	memset(req, 0, sizeof(req));
	req[0] = 0x23;		/* LI 0, version 4, mode 3 (client) */
	req[2] = 6;		/* poll 2^6 s */
	req[3] = 0xe9;		/* precision 2^-23 s */
	ntp_stamp(req + 40, t);	/* transmit timestamp */
	udp_emit(&f, CLI, req, sizeof(req));

	flow_turn(&f, SRV, rng_between(&g->rng, 40, 400));
	memset(rsp, 0, sizeof(rsp));
	rsp[0] = 0x24;		/* LI 0, version 4, mode 4 (server) */
	rsp[1] = 2;		/* stratum */
	rsp[2] = 6;
	rsp[3] = 0xe7;
	wr32(rsp + 4, 0x00000a3d);	/* root delay 0.04 s (16.16) */
	wr32(rsp + 8, 0x00000c28);	/* root dispersion 0.047 s */
	wr32(rsp + 12, 0xc000020b);	/* reference id: upstream 192.0.2.11 */
	ntp_stamp(rsp + 16, t - 64 * SEC);
	memcpy(rsp + 24, req + 40, 8);	/* origin = client's transmit */
	ntp_stamp(rsp + 32, t + s->delay_us);
	ntp_stamp(rsp + 40, t + s->delay_us + 25);
	udp_emit(&f, SRV, rsp, sizeof(rsp));
	return f.t;
}

/* ---- TLS 1.3 ------------------------------------------------------------------ */

static size_t ext_begin(struct buf *b, uint16_t type)
{
	size_t at;

	put_be16(b, type);
	at = b->len;
	put_be16(b, 0);
	return at;
}

/*
 * A ClientHello as a current browser or libcurl sends it: offers TLS 1.3
 * and 1.2, SNI, ALPN (comma-separated list), x25519 key share.
 */
static void tls_client_hello(struct buf *b, struct rng *r, const char *sni, const char *alpn,
			     uint8_t sid[32])
{
	static const uint16_t suites[] = {
		0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
		0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
	};
	static const uint16_t groups[] = { 0x001d, 0x0017, 0x0018 };
	static const uint16_t sigalgs[] = {
		0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
	};
	size_t rec, hs, exts, e, l, i;
	const char *p;

	put_u8(b, 0x16);		/* handshake record */
	put_be16(b, 0x0301);		/* record version of a first flight */
	rec = b->len;
	put_be16(b, 0);
	put_u8(b, 1);			/* client_hello */
	hs = b->len;
	put_be24(b, 0);
	put_be16(b, 0x0303);		/* legacy_version */
	put_rand(b, r, 32);
	rng_fill(r, sid, 32);		/* middlebox-compat session id */
	put_u8(b, 32);
	put_mem(b, sid, 32);
	put_be16(b, (uint32_t)sizeof(suites));
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		put_be16(b, suites[i]);
	put_u8(b, 1);
	put_u8(b, 0);			/* null compression */
	exts = b->len;
	put_be16(b, 0);

	e = ext_begin(b, 0x0000);	/* server_name */
	l = b->len;
	put_be16(b, 0);
	put_u8(b, 0);			/* host_name */
	put_be16(b, (uint32_t)strlen(sni));
	put_str(b, sni);
	patch_len16(b, l);
	patch_len16(b, e);

	e = ext_begin(b, 0x0017);	/* extended_master_secret */
	patch_len16(b, e);
	e = ext_begin(b, 0xff01);	/* renegotiation_info */
	put_u8(b, 0);
	patch_len16(b, e);

	e = ext_begin(b, 0x000a);	/* supported_groups */
	put_be16(b, (uint32_t)sizeof(groups));
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		put_be16(b, groups[i]);
	patch_len16(b, e);

	e = ext_begin(b, 0x000b);	/* ec_point_formats: uncompressed */
	put_u8(b, 1);
	put_u8(b, 0);
	patch_len16(b, e);

	e = ext_begin(b, 0x0023);	/* session_ticket, empty */
	patch_len16(b, e);

	e = ext_begin(b, 0x0010);	/* application_layer_protocol_negotiation */
	l = b->len;
	put_be16(b, 0);
	for (p = alpn; *p;) {
		size_t n = strcspn(p, ",");

		put_u8(b, (uint32_t)n);
		put_mem(b, p, n);
		p += n;
		if (*p == ',')
			p++;
	}
	patch_len16(b, l);
	patch_len16(b, e);

	e = ext_begin(b, 0x0005);	/* status_request: OCSP */
	put_u8(b, 1);
	put_be16(b, 0);
	put_be16(b, 0);
	patch_len16(b, e);

	e = ext_begin(b, 0x000d);	/* signature_algorithms */
	put_be16(b, (uint32_t)sizeof(sigalgs));
	for (i = 0; i < sizeof(sigalgs) / sizeof(sigalgs[0]); i++)
		put_be16(b, sigalgs[i]);
	patch_len16(b, e);

	e = ext_begin(b, 0x0033);	/* key_share: one x25519 share */
	put_be16(b, 36);
	put_be16(b, 0x001d);
	put_be16(b, 32);
	put_rand(b, r, 32);
	patch_len16(b, e);

	e = ext_begin(b, 0x002d);	/* psk_key_exchange_modes: psk_dhe_ke */
	put_u8(b, 1);
	put_u8(b, 1);
	patch_len16(b, e);

	e = ext_begin(b, 0x002b);	/* supported_versions: 1.3, 1.2 */
	put_u8(b, 4);
	put_be16(b, 0x0304);
	put_be16(b, 0x0303);
	patch_len16(b, e);

	patch_len16(b, exts);
	patch_len24(b, hs);
	patch_len16(b, rec);
}

/* An encrypted record; in TLS 1.3 everything after ServerHello looks so. */
static void tls_appdata(struct buf *b, struct rng *r, size_t len)
{
	put_u8(b, 0x17);
	put_be16(b, 0x0303);
	put_be16(b, (uint32_t)len);
	put_rand(b, r, len);
}

/* ServerHello choosing TLS 1.3 + AES-128-GCM, the compat ChangeCipherSpec,
 * and the encrypted rest of the flight (extensions, certificate, verify,
 * finished) as one record. */
static void tls_server_flight(struct buf *b, struct rng *r, const uint8_t sid[32], size_t encrypted)
{
	size_t rec, hs, exts, e;

	put_u8(b, 0x16);
	put_be16(b, 0x0303);
	rec = b->len;
	put_be16(b, 0);
	put_u8(b, 2);			/* server_hello */
	hs = b->len;
	put_be24(b, 0);
	put_be16(b, 0x0303);
	put_rand(b, r, 32);
	put_u8(b, 32);
	put_mem(b, sid, 32);		/* echoes the client's session id */
	put_be16(b, 0x1301);
	put_u8(b, 0);
	exts = b->len;
	put_be16(b, 0);
	e = ext_begin(b, 0x002b);
	put_be16(b, 0x0304);
	patch_len16(b, e);
	e = ext_begin(b, 0x0033);
	put_be16(b, 0x001d);
	put_be16(b, 32);
	put_rand(b, r, 32);
	patch_len16(b, e);
	patch_len16(b, exts);
	patch_len24(b, hs);
	patch_len16(b, rec);

	put_u8(b, 0x14);		/* change_cipher_spec */
	put_be16(b, 0x0303);
	put_be16(b, 1);
	put_u8(b, 1);
	tls_appdata(b, r, encrypted);
}

/*
 * A TLS 1.3 session: handshake, then `exchanges` request/response pairs
 * `interval` apart, then close_notify and FIN from the client one interval
 * after the last exchange.
 */
static uint64_t gen_tls(struct gen *g, uint64_t t, const struct host *c, uint16_t cport,
			const struct host *s, int v6, const char *sni, const char *alpn,
			unsigned exchanges, uint64_t interval)
{
	uint8_t mem[8192];
	uint8_t sid[32];
	struct buf b;
	struct flow f;
	unsigned i;

	flow_init(&f, g, IPPROTO_TCP, v6, c, cport, s, 443, t);
	tcp_open(&f);
	f.t += 200;

	buf_init(&b, mem, sizeof(mem));
	tls_client_hello(&b, &g->rng, sni, alpn, sid);
	tcp_send_buf(&f, CLI, &b, "ClientHello");

	flow_turn(&f, SRV, rng_between(&g->rng, 1 * MSEC, 3 * MSEC));
	buf_init(&b, mem, sizeof(mem));
	tls_server_flight(&b, &g->rng, sid, rng_between(&g->rng, 2400, 3600));
	tcp_send_buf(&f, SRV, &b, "ServerHello flight");

	/* client ChangeCipherSpec + Finished, then at once its first request */
	flow_turn(&f, CLI, rng_between(&g->rng, 600, 1500));
	buf_init(&b, mem, sizeof(mem));
	put_u8(&b, 0x14);
	put_be16(&b, 0x0303);
	put_be16(&b, 1);
	put_u8(&b, 1);
	tls_appdata(&b, &g->rng, 53);
	tls_appdata(&b, &g->rng, rng_between(&g->rng, 120, 700));
	tcp_send_buf(&f, CLI, &b, "client Finished");

	/* two session tickets, then the response */
	flow_turn(&f, SRV, rng_between(&g->rng, 2 * MSEC, 8 * MSEC));
	buf_init(&b, mem, sizeof(mem));
	tls_appdata(&b, &g->rng, 250);
	tls_appdata(&b, &g->rng, 250);
	tls_appdata(&b, &g->rng, rng_between(&g->rng, 80, 1400));
	tcp_send_buf(&f, SRV, &b, "tickets and response");

	for (i = 1; i < exchanges; i++) {
		f.t += interval;
		buf_init(&b, mem, sizeof(mem));
		tls_appdata(&b, &g->rng, rng_between(&g->rng, 60, 900));
		tcp_send_buf(&f, CLI, &b, "TLS request");
		flow_turn(&f, SRV, rng_between(&g->rng, 1 * MSEC, 6 * MSEC));
		buf_init(&b, mem, sizeof(mem));
		tls_appdata(&b, &g->rng, rng_between(&g->rng, 40, 1200));
		tcp_send_buf(&f, SRV, &b, "TLS response");
	}

	f.t += interval;
	buf_init(&b, mem, sizeof(mem));
	tls_appdata(&b, &g->rng, 19);	/* encrypted close_notify alert */
	tcp_send_buf(&f, CLI, &b, "close_notify");
	f.t += 150;
	tcp_close(&f, CLI);
	return f.t;
}

/* ---- HTTP ------------------------------------------------------------------- */

/* Roughly `want` bytes of plain HTML (whole paragraphs). */
static void html_body(struct buf *b, size_t want, const char *title)
{
	static const char *const text[] = {
		"This domain is for use in illustrative examples in documents.",
		"You may use this domain in literature without prior coordination or asking for permission.",
		"Pages served here are generated for iotjail's replay tests and carry no real content.",
		"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt.",
	};
	size_t start = b->len;
	unsigned i = 0;

	put_fmt(b, "<!doctype html>\n<html>\n<head>\n<title>%s</title>\n"
		"<meta charset=\"utf-8\" />\n"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n"
		"</head>\n<body>\n<div>\n<h1>%s</h1>\n", title, title);
	while (!b->overflow && b->len - start + 160 < want) {
		put_fmt(b, "<p>%s (%u)</p>\n", text[i % 4], i + 1);
		i++;
	}
	put_str(b, "<p><a href=\"https://www.iana.org/domains/example\">More information...</a></p>\n"
		"</div>\n</body>\n</html>\n");
}

struct http_get {
	const char *host;
	const char *path;
	const char *ua;
	const char *ctype;	/* of the response */
	size_t body;		/* response body size (HTML: approximately) */
	enum side_id closer;	/* who closes the connection */
	uint64_t linger;	/* idle time before it does */
	uint16_t port;		/* server port; 0: 80 */
};

static uint64_t gen_http(struct gen *g, uint64_t t, const struct host *c, uint16_t cport,
			 const struct host *s, const struct http_get *rq)
{
	uint8_t req[1024], bodymem[12288], rsp[16384];
	char date[64];
	struct buf b, body;
	struct flow f;
	int browser = strncmp(rq->ua, "Mozilla/", 8) == 0;
	const char *conn = rq->closer == SRV && rq->linger == 0 ? "close" : "keep-alive";

	flow_init(&f, g, IPPROTO_TCP, 0, c, cport, s, rq->port ? rq->port : 80, t);
	tcp_open(&f);
	f.t += 150;

	buf_init(&b, req, sizeof(req));
	put_fmt(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n", rq->path, rq->host, rq->ua);
	if (browser)
		put_str(&b, "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
			"Accept-Language: en-US,en;q=0.5\r\n"
			"Upgrade-Insecure-Requests: 1\r\n");
	else
		put_str(&b, "Accept: */*\r\n");
	put_fmt(&b, "Connection: %s\r\n\r\n", conn);
	tcp_send_buf(&f, CLI, &b, "HTTP request");

	flow_turn(&f, SRV, rng_between(&g->rng, 1 * MSEC, 12 * MSEC));
	buf_init(&body, bodymem, sizeof(bodymem));
	if (strncmp(rq->ctype, "text/html", 9) == 0)
		html_body(&body, rq->body, "Example Domain");
	else
		put_rand(&body, &g->rng, rq->body);
	buf_check(&body, "HTTP body");
	fmt_http_date(date, sizeof(date), f.t);
	buf_init(&b, rsp, sizeof(rsp));
	put_fmt(&b, "HTTP/1.1 200 OK\r\nDate: %s\r\nServer: nginx/1.22.1\r\n"
		"Content-Type: %s\r\nContent-Length: %zu\r\nConnection: %s\r\n\r\n",
		date, rq->ctype, body.len, conn);
	put_mem(&b, body.p, body.len);
	tcp_send_buf(&f, SRV, &b, "HTTP response");

	f.t += rq->linger + 100;
	tcp_close(&f, rq->closer);
	return f.t;
}

/* ---- RTSP ------------------------------------------------------------------- */

/* The NVR checks a camera stream: OPTIONS, then DESCRIBE for the SDP. */
static uint64_t gen_rtsp(struct gen *g, uint64_t t, const struct host *nvr, const struct host *cam)
{
	uint8_t mem[2048], sdpmem[1024];
	char ip[16];
	struct buf b, sdp;
	struct flow f;

	fmt_ip4(ip, sizeof(ip), cam->ip4);
	flow_init(&f, g, IPPROTO_TCP, 0, nvr, 0, cam, 554, t);
	tcp_open(&f);
	f.t += 180;

	buf_init(&b, mem, sizeof(mem));
	put_fmt(&b, "OPTIONS rtsp://%s:554/stream1 RTSP/1.0\r\nCSeq: 1\r\n"
		"User-Agent: LibVLC/3.0\r\n\r\n", ip);
	tcp_send_buf(&f, CLI, &b, "RTSP OPTIONS");
	flow_turn(&f, SRV, 700);
	buf_init(&b, mem, sizeof(mem));
	put_str(&b, "RTSP/1.0 200 OK\r\nCSeq: 1\r\n"
		"Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n");
	tcp_send_buf(&f, SRV, &b, "RTSP OPTIONS reply");

	flow_turn(&f, CLI, 400);
	buf_init(&b, mem, sizeof(mem));
	put_fmt(&b, "DESCRIBE rtsp://%s:554/stream1 RTSP/1.0\r\nCSeq: 2\r\n"
		"User-Agent: LibVLC/3.0\r\nAccept: application/sdp\r\n\r\n", ip);
	tcp_send_buf(&f, CLI, &b, "RTSP DESCRIBE");

	flow_turn(&f, SRV, 1800);
	buf_init(&sdp, sdpmem, sizeof(sdpmem));
	put_fmt(&sdp, "v=0\r\no=- %" PRIu64 " 1 IN IP4 %s\r\ns=stream1\r\nc=IN IP4 0.0.0.0\r\n"
		"t=0 0\r\na=control:*\r\na=range:npt=0-\r\nm=video 0 RTP/AVP 96\r\n"
		"a=rtpmap:96 H264/90000\r\n"
		/* SPS: Main@4.1, 1920x1080 (1088 cropped by 8); PPS: CABAC */
		"a=fmtp:96 packetization-mode=1;profile-level-id=4d4029;"
		"sprop-parameter-sets=Z01AKe0A8ARPyoA=,aO48gA==\r\n"
		"a=control:trackID=0\r\n", (uint64_t)(BASE_US / SEC), ip);
	buf_check(&sdp, "SDP");
	buf_init(&b, mem, sizeof(mem));
	put_fmt(&b, "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Base: rtsp://%s:554/stream1/\r\n"
		"Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n", ip, sdp.len);
	put_mem(&b, sdp.p, sdp.len);
	tcp_send_buf(&f, SRV, &b, "RTSP DESCRIBE reply");

	f.t += 2 * SEC;
	tcp_close(&f, CLI);
	return f.t;
}

/* ---- MQTT 3.1.1 ----------------------------------------------------------- */

static void mqtt_remlen(struct buf *b, size_t n)
{
	do {
		uint32_t byte = n % 128;

		n /= 128;
		put_u8(b, n ? byte | 0x80 : byte);
	} while (n);
}

static void mqtt_publish(struct buf *b, const char *topic, const char *msg)
{
	put_u8(b, 0x30);	/* PUBLISH, QoS 0 */
	mqtt_remlen(b, 2 + strlen(topic) + strlen(msg));
	put_be16(b, (uint32_t)strlen(topic));
	put_str(b, topic);
	put_str(b, msg);
}

/*
 * CONNECT/CONNACK, then `reports` telemetry PUBLISHes `interval` apart on
 * one connection, then DISCONNECT and FIN.
 */
static uint64_t gen_mqtt(struct gen *g, uint64_t t, const struct host *c, uint16_t cport,
			 const struct host *broker, const char *client_id, const char *topic,
			 unsigned reports, uint64_t interval)
{
	static const uint8_t connack[] = { 0x20, 0x02, 0x00, 0x00 };
	static const uint8_t disconnect[] = { 0xe0, 0x00 };
	uint8_t mem[512];
	char msg[256];
	struct buf b;
	struct flow f;
	unsigned i;

	flow_init(&f, g, IPPROTO_TCP, 0, c, cport, broker, 1883, t);
	tcp_open(&f);
	f.t += 300;

	buf_init(&b, mem, sizeof(mem));
	put_u8(&b, 0x10);	/* CONNECT */
	mqtt_remlen(&b, 10 + 2 + strlen(client_id));
	put_be16(&b, 4);
	put_str(&b, "MQTT");
	put_u8(&b, 4);		/* protocol level: 3.1.1 */
	put_u8(&b, 0x02);	/* clean session */
	put_be16(&b, 60);	/* keep alive, seconds */
	put_be16(&b, (uint32_t)strlen(client_id));
	put_str(&b, client_id);
	tcp_send_buf(&f, CLI, &b, "MQTT CONNECT");

	flow_turn(&f, SRV, rng_between(&g->rng, 500, 3000));
	tcp_send(&f, SRV, connack, sizeof(connack));

	for (i = 0; i < reports; i++) {
		uint32_t mw = rng_between(&g->rng, 8000, 16000);	/* milliwatts */
		uint32_t dv = rng_between(&g->rng, 2280, 2330);		/* decivolts */

		if (i == 0)
			flow_turn(&f, CLI, 150 * MSEC);
		else
			f.t += interval;
		snprintf(msg, sizeof(msg),
			 "{\"device\":\"%s\",\"seq\":%u,\"ts\":%" PRIu64 ",\"power_w\":%u.%03u,"
			 "\"voltage_v\":%u.%u,\"relay\":\"on\"}",
			 client_id, i + 1, (uint64_t)(f.t / SEC), mw / 1000, mw % 1000, dv / 10, dv % 10);
		buf_init(&b, mem, sizeof(mem));
		mqtt_publish(&b, topic, msg);
		tcp_send_buf(&f, CLI, &b, "MQTT PUBLISH");
	}

	f.t += 1 * SEC;
	tcp_send(&f, CLI, disconnect, sizeof(disconnect));
	f.t += 200;
	tcp_close(&f, CLI);
	return f.t;
}

/* ---- SSDP --------------------------------------------------------------------- */

#define PRINTER_UUID "uuid:4e2a7b1c-5d3f-4a8e-9b10-020000000012"
#define PRINTER_SERVER "Linux/4.19 UPnP/1.0 LaserJet-IoT/2.3"

/* The three ssdp:alive announcements of a printer (root device, device
 * UUID, device type) to 239.255.255.250:1900 from port 1900. */
static uint64_t gen_ssdp_notify(struct gen *g, uint64_t t, const struct host *dev,
				const struct host *group)
{
	static const char *const nt[] = {
		"upnp:rootdevice", PRINTER_UUID, "urn:schemas-upnp-org:device:Printer:1",
	};
	uint8_t mem[1024];
	char ip[16];
	struct buf b;
	struct flow f;
	unsigned i;

	fmt_ip4(ip, sizeof(ip), dev->ip4);
	flow_init(&f, g, IPPROTO_UDP, 0, dev, 1900, group, 1900, t);
	f.s[CLI].ttl = 4;	/* UPnP 1.0 multicast TTL */
	for (i = 0; i < 3; i++) {
		buf_init(&b, mem, sizeof(mem));
		put_fmt(&b, "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
			"CACHE-CONTROL: max-age=1800\r\n"
			"LOCATION: http://%s:80/upnp/description.xml\r\n"
			"NT: %s\r\nNTS: ssdp:alive\r\nSERVER: %s\r\n", ip, nt[i], PRINTER_SERVER);
		if (i == 1)
			put_fmt(&b, "USN: %s\r\n\r\n", PRINTER_UUID);
		else
			put_fmt(&b, "USN: %s::%s\r\n\r\n", PRINTER_UUID, nt[i]);
		udp_send_buf(&f, CLI, &b, "SSDP NOTIFY");
		f.t += rng_between(&g->rng, 80 * MSEC, 120 * MSEC);
	}
	return f.t;
}

/* A control point's M-SEARCH (sent twice, as UDP is lossy) and the
 * printer's unicast answer from port 1900, a separate flow. */
static uint64_t gen_ssdp_search(struct gen *g, uint64_t t, const struct host *cp,
				const struct host *group, const struct host *dev)
{
	uint8_t mem[1024];
	char ip[16];
	struct buf b;
	struct flow q, r;

	flow_init(&q, g, IPPROTO_UDP, 0, cp, 0, group, 1900, t);
	q.s[CLI].ttl = 4;
	buf_init(&b, mem, sizeof(mem));
	put_str(&b, "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
		"MAN: \"ssdp:discover\"\r\nMX: 2\r\nST: ssdp:all\r\n"
		"USER-AGENT: Linux/6.1 UPnP/1.1 GUPnP/1.6.3\r\n\r\n");
	buf_check(&b, "M-SEARCH");
	udp_emit(&q, CLI, b.p, b.len);
	q.t += 120 * MSEC;
	udp_emit(&q, CLI, b.p, b.len);

	/* devices answer after a random delay below MX */
	fmt_ip4(ip, sizeof(ip), dev->ip4);
	flow_init(&r, g, IPPROTO_UDP, 0, dev, 1900, cp, q.s[CLI].port,
		  t + rng_between(&g->rng, 200 * MSEC, 1500 * MSEC));
	buf_init(&b, mem, sizeof(mem));
	put_fmt(&b, "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
		"LOCATION: http://%s:80/upnp/description.xml\r\nSERVER: %s\r\n"
		"ST: urn:schemas-upnp-org:device:Printer:1\r\n"
		"USN: %s::urn:schemas-upnp-org:device:Printer:1\r\n\r\n",
		ip, PRINTER_SERVER, PRINTER_UUID);
	udp_send_buf(&r, CLI, &b, "SSDP response");
	return r.t;
}

/* ---- IPP over HTTP ------------------------------------------------------------ */

static void ipp_attr(struct buf *b, uint8_t tag, const char *name, const void *val, size_t n)
{
	put_u8(b, tag);
	put_be16(b, (uint32_t)strlen(name));
	put_str(b, name);
	put_be16(b, (uint32_t)n);
	put_mem(b, val, n);
}

static void ipp_str(struct buf *b, uint8_t tag, const char *name, const char *val)
{
	ipp_attr(b, tag, name, val, strlen(val));
}

static void ipp_int(struct buf *b, uint8_t tag, const char *name, uint32_t v)
{
	uint8_t be[4];

	wr32(be, v);
	ipp_attr(b, tag, name, be, 4);
}

/* version 2.0, operation or status, request id, operation attributes */
static void ipp_header(struct buf *b, uint16_t op_status, uint32_t req_id)
{
	put_be16(b, 0x0200);
	put_be16(b, op_status);
	put_be32(b, req_id);
	put_u8(b, 0x01);	/* operation-attributes-tag */
	ipp_str(b, 0x47, "attributes-charset", "utf-8");
	ipp_str(b, 0x48, "attributes-natural-language", "en");
}

static void ipp_http(struct buf *b, const char *hostport, int request, const struct buf *body)
{
	if (request)
		put_fmt(b, "POST /ipp/print HTTP/1.1\r\nHost: %s\r\n"
			"Content-Type: application/ipp\r\nContent-Length: %zu\r\n"
			"User-Agent: CUPS/2.4.2 (Linux 6.1.0-18-amd64; x86_64) IPP/2.0\r\n"
			"Expect: \r\n\r\n", hostport, body->len);
	else
		put_fmt(b, "HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\n"
			"Content-Length: %zu\r\nServer: CUPS/2.3 IPP/2.1\r\n\r\n", body->len);
	put_mem(b, body->p, body->len);
}

/* A laptop asks the printer for its state, then prints a text page. */
static uint64_t gen_ipp(struct gen *g, uint64_t t, const struct host *c, const struct host *prn)
{
	uint8_t mem[4096], bodymem[2048];
	char ip[16], hostport[32], uri[64];
	struct buf b, body;
	struct flow f;

	fmt_ip4(ip, sizeof(ip), prn->ip4);
	snprintf(hostport, sizeof(hostport), "%s:631", ip);
	snprintf(uri, sizeof(uri), "ipp://%s/ipp/print", hostport);
	flow_init(&f, g, IPPROTO_TCP, 0, c, 0, prn, 631, t);
	tcp_open(&f);
	f.t += 250;

	buf_init(&body, bodymem, sizeof(bodymem));
	ipp_header(&body, 0x000b, 1);	/* Get-Printer-Attributes */
	ipp_str(&body, 0x45, "printer-uri", uri);
	ipp_str(&body, 0x42, "requesting-user-name", "alice");
	ipp_str(&body, 0x44, "requested-attributes", "printer-state");
	ipp_str(&body, 0x44, "", "printer-state-reasons");	/* additional value */
	ipp_str(&body, 0x44, "", "printer-name");
	put_u8(&body, 0x03);
	buf_check(&body, "IPP request");
	buf_init(&b, mem, sizeof(mem));
	ipp_http(&b, hostport, 1, &body);
	tcp_send_buf(&f, CLI, &b, "IPP request");

	flow_turn(&f, SRV, rng_between(&g->rng, 3 * MSEC, 9 * MSEC));
	buf_init(&body, bodymem, sizeof(bodymem));
	ipp_header(&body, 0x0000, 1);	/* successful-ok */
	put_u8(&body, 0x04);		/* printer-attributes-tag */
	ipp_int(&body, 0x23, "printer-state", 3);	/* idle */
	ipp_str(&body, 0x44, "printer-state-reasons", "none");
	ipp_str(&body, 0x42, "printer-name", "printer");
	put_u8(&body, 0x03);
	buf_check(&body, "IPP response");
	buf_init(&b, mem, sizeof(mem));
	ipp_http(&b, hostport, 0, &body);
	tcp_send_buf(&f, SRV, &b, "IPP response");

	flow_turn(&f, CLI, 40 * MSEC);
	buf_init(&body, bodymem, sizeof(bodymem));
	ipp_header(&body, 0x0002, 2);	/* Print-Job */
	ipp_str(&body, 0x45, "printer-uri", uri);
	ipp_str(&body, 0x42, "requesting-user-name", "alice");
	ipp_str(&body, 0x42, "job-name", "shopping list");
	ipp_str(&body, 0x49, "document-format", "text/plain");
	put_u8(&body, 0x03);
	put_str(&body, "Shopping list\n\n- milk\n- bread\n- coffee\n- batteries for the door sensor\n");
	buf_check(&body, "IPP Print-Job");
	buf_init(&b, mem, sizeof(mem));
	ipp_http(&b, hostport, 1, &body);
	tcp_send_buf(&f, CLI, &b, "IPP Print-Job");

	flow_turn(&f, SRV, rng_between(&g->rng, 20 * MSEC, 60 * MSEC));
	buf_init(&body, bodymem, sizeof(bodymem));
	ipp_header(&body, 0x0000, 2);
	put_u8(&body, 0x02);		/* job-attributes-tag */
	ipp_int(&body, 0x21, "job-id", 17);
	ipp_str(&body, 0x45, "job-uri", "ipp://192.168.1.12:631/jobs/17");
	ipp_int(&body, 0x23, "job-state", 3);	/* pending */
	put_u8(&body, 0x03);
	buf_check(&body, "IPP Print-Job response");
	buf_init(&b, mem, sizeof(mem));
	ipp_http(&b, hostport, 0, &body);
	tcp_send_buf(&f, SRV, &b, "IPP Print-Job response");

	f.t += 1 * SEC;
	tcp_close(&f, CLI);
	return f.t;
}

/* ---- the home LAN --------------------------------------------------------------- */

/*
 * Address plan shared with the example policy; do not change one without
 * the other.  Hosts beyond the router carry the router's MAC because that
 * is what a LAN capture sees, and a TTL already decremented on the way.
 */
struct lan {
	struct host router;	/* gateway and DNS resolver */
	struct host cam;	/* cam-front */
	struct host plug;	/* plug-kitchen */
	struct host printer;
	struct host nvr;
	struct host laptop;
	struct host stranger;	/* undeclared device */
	struct host cam_cloud;
	struct host plug_cloud;
	struct host ntp;
	struct host web;
	struct host web6;
	struct host c2;
	struct host ssdp;	/* the SSDP group; never sends */
};

static void lan_init(struct lan *l)
{
	host_set(&l->router, "02:00:00:00:00:01", "192.168.1.1", "fd00:1::1", 64, 150);
	host_set(&l->cam, "02:00:00:00:00:10", "192.168.1.10", "fd00:1::10", 64, 250);
	/* lwIP's default TTL; Wi-Fi power save makes the plug slow to answer */
	host_set(&l->plug, "02:00:00:00:00:11", "192.168.1.11", NULL, 255, 1800);
	host_set(&l->printer, "02:00:00:00:00:12", "192.168.1.12", NULL, 64, 400);
	host_set(&l->nvr, "02:00:00:00:00:20", "192.168.1.20", NULL, 64, 120);
	host_set(&l->laptop, "02:00:00:00:00:50", "192.168.1.50", "fd00:1::50", 64, 600);
	host_set(&l->stranger, "02:00:00:00:00:99", "192.168.1.99", NULL, 64, 700);
	host_set(&l->cam_cloud, "02:00:00:00:00:01", "198.51.100.20", NULL, 52, 18 * MSEC);
	host_set(&l->plug_cloud, "02:00:00:00:00:01", "198.51.100.30", NULL, 49, 31 * MSEC);
	host_set(&l->ntp, "02:00:00:00:00:01", "203.0.113.123", NULL, 56, 9 * MSEC);
	host_set(&l->web, "02:00:00:00:00:01", "203.0.113.80", NULL, 55, 12 * MSEC);
	host_set(&l->web6, "02:00:00:00:00:01", NULL, "2001:db8::443", 54, 14 * MSEC);
	host_set(&l->c2, "02:00:00:00:00:01", "203.0.113.99", NULL, 47, 62 * MSEC);
	host_set(&l->ssdp, "01:00:5e:7f:ff:fa", "239.255.255.250", NULL, 0, 0);
}

static const struct http_get laptop_page = {
	.host = "www.example.com",
	.path = "/",
	.ua = "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0",
	.ctype = "text/html; charset=UTF-8",
	.body = 3600,
	.closer = SRV,		/* the server's keep-alive timeout */
	.linger = 5 * SEC,
};

static const struct http_get cam_c2 = {
	.host = "c2.unknown.example",
	.path = "/gate.php?id=cam-front&v=2",
	.ua = "Wget/1.21.3",
	.ctype = "application/octet-stream",
	.body = 2048,
	.closer = SRV,
	.linger = 0,
};

/* Laptop over IPv4: resolve www.example.com, fetch its page. */
static uint64_t laptop_web4(struct gen *g, const struct lan *l, uint64_t t)
{
	t = gen_dns(g, t, &l->laptop, 0, &l->router, 0, "www.example.com", DNS_A, l->web.ip4);
	return gen_http(g, t + 2 * MSEC, &l->laptop, 0, &l->web, &laptop_page);
}

/* Laptop over IPv6: resolve www.example.org (AAAA), TLS to it. */
static uint64_t laptop_web6(struct gen *g, const struct lan *l, uint64_t t)
{
	t = gen_dns(g, t, &l->laptop, 0, &l->router, 1, "www.example.org", DNS_AAAA, l->web6.ip6);
	return gen_tls(g, t + 2 * MSEC, &l->laptop, 0, &l->web6, 1, "www.example.org",
		       "h2,http/1.1", 3, 2 * SEC);
}

static uint64_t cam_cloud(struct gen *g, const struct lan *l, uint64_t t, unsigned exchanges,
			  uint64_t interval)
{
	t = gen_dns(g, t, &l->cam, 0, &l->router, 0, "cam.vendor-cloud.example", DNS_A,
		    l->cam_cloud.ip4);
	return gen_tls(g, t + 5 * MSEC, &l->cam, 0, &l->cam_cloud, 0, "cam.vendor-cloud.example",
		       "http/1.1", exchanges, interval);
}

struct opts {
	uint64_t flows;
	uint64_t bulk_mb;
	uint64_t seed;
	int verbose;
};

static void scen_home(struct gen *g, const struct opts *o)
{
	static const uint8_t time_addr[4] = { 203, 0, 113, 124 };
	struct lan l;
	uint64_t t;

	(void)o;
	lan_init(&l);

	/* cam-front: clock, then its cloud session, alive for six minutes
	 * with a heartbeat every 30 s */
	gen_ntp(g, BASE_US + 120 * MSEC, &l.cam, 0, &l.ntp);
	cam_cloud(g, &l, BASE_US + 210 * MSEC, 12, 30 * SEC);

	/* plug-kitchen: broker lookup, clock, five reports a minute apart,
	 * then (after a Wi-Fi drop) a fresh connection with one more */
	t = gen_dns(g, BASE_US + 1800 * MSEC, &l.plug, 0, &l.router, 0, "mqtt.plugcloud.example",
		    DNS_A, l.plug_cloud.ip4);
	gen_ntp(g, t + 40 * MSEC, &l.plug, 0, &l.ntp);
	gen_mqtt(g, t + 300 * MSEC, &l.plug, 0, &l.plug_cloud, "plug-kitchen",
		 "plugs/kitchen/power", 5, 60 * SEC);
	gen_mqtt(g, BASE_US + 300 * SEC, &l.plug, 0, &l.plug_cloud, "plug-kitchen",
		 "plugs/kitchen/power", 1, 60 * SEC);

	/* printer: announces itself at boot and again three minutes later */
	gen_ssdp_notify(g, BASE_US + 3100 * MSEC, &l.printer, &l.ssdp);
	gen_ssdp_notify(g, BASE_US + 183100 * MSEC, &l.printer, &l.ssdp);

	/* nvr: checks the camera's stream */
	gen_rtsp(g, BASE_US + 5 * SEC, &l.nvr, &l.cam);

	/* laptop */
	laptop_web4(g, &l, BASE_US + 12 * SEC);
	gen_ssdp_search(g, BASE_US + 20 * SEC, &l.laptop, &l.ssdp, &l.printer);
	laptop_web6(g, &l, BASE_US + 30 * SEC);
	gen_ipp(g, BASE_US + 45 * SEC, &l.laptop, &l.printer);

	/* misbehaviour: the camera calls a hard-coded C2 address, and a
	 * device nobody declared asks for time.example.net */
	gen_http(g, BASE_US + 150 * SEC, &l.cam, 0, &l.c2, &cam_c2);
	gen_dns(g, BASE_US + 250 * SEC, &l.stranger, 0, &l.router, 0, "time.example.net", DNS_A,
		time_addr);
}

/* Laptop web flows on VLAN 10, camera flows through QinQ 100/20. */
static void scen_vlan(struct gen *g, const struct opts *o)
{
	struct lan l;

	(void)o;
	lan_init(&l);
	g->ntags = 1;
	g->tpid[0] = ETH_VLAN;
	g->tci[0] = 10;
	laptop_web4(g, &l, BASE_US + 1 * SEC);
	laptop_web6(g, &l, BASE_US + 3 * SEC);

	g->ntags = 2;
	g->tpid[0] = ETH_QINQ;
	g->tci[0] = 100;
	g->tpid[1] = ETH_VLAN;
	g->tci[1] = 20;
	cam_cloud(g, &l, BASE_US + 2 * SEC, 3, 5 * SEC);
	gen_http(g, BASE_US + 6 * SEC, &l.cam, 0, &l.c2, &cam_c2);
	g->ntags = 0;
}

/* The laptop's own DNS, HTTP and TLS, as captured on the laptop. */
static void scen_laptop(struct gen *g, const struct opts *o)
{
	struct lan l;

	(void)o;
	lan_init(&l);
	memcpy(g->local_mac, l.laptop.mac, 6);
	laptop_web4(g, &l, BASE_US + 1 * SEC);
	laptop_web6(g, &l, BASE_US + 3 * SEC);
}

/* ---- watch: behaviour over time -------------------------------------------- */

/* A TLS session in which the client uploads UP bytes of application data
 * (a camera sending its clips), then a short answer. */
static uint64_t gen_tls_upload(struct gen *g, uint64_t t, const struct host *c,
			       const struct host *s, const char *sni, size_t up)
{
	uint8_t mem[8192];
	uint8_t sid[32];
	struct buf b;
	struct flow f;

	flow_init(&f, g, IPPROTO_TCP, 0, c, 0, s, 443, t);
	tcp_open(&f);
	f.t += 200;
	buf_init(&b, mem, sizeof(mem));
	tls_client_hello(&b, &g->rng, sni, "http/1.1", sid);
	tcp_send_buf(&f, CLI, &b, "ClientHello");
	flow_turn(&f, SRV, rng_between(&g->rng, 1 * MSEC, 3 * MSEC));
	buf_init(&b, mem, sizeof(mem));
	tls_server_flight(&b, &g->rng, sid, rng_between(&g->rng, 2400, 3600));
	tcp_send_buf(&f, SRV, &b, "ServerHello flight");
	flow_turn(&f, CLI, rng_between(&g->rng, 600, 1500));
	while (up) {
		size_t n = up > 8000 ? 8000 : up;

		buf_init(&b, mem, sizeof(mem));
		tls_appdata(&b, &g->rng, n);
		tcp_send_buf(&f, CLI, &b, "upload");
		f.t += seg_gap(n);
		up -= n;
	}
	flow_turn(&f, SRV, rng_between(&g->rng, 2 * MSEC, 5 * MSEC));
	buf_init(&b, mem, sizeof(mem));
	tls_appdata(&b, &g->rng, 120);
	tcp_send_buf(&f, SRV, &b, "upload answer");
	f.t += 150;
	tcp_close(&f, CLI);
	return f.t;
}

/* A connection attempt to PORT answered by a reset: one probe of a scan. */
static void gen_probe(struct gen *g, uint64_t t, const struct host *c, const struct host *s,
		      uint16_t port)
{
	struct flow f;

	flow_init(&f, g, IPPROTO_TCP, 0, c, 0, s, port, t);
	tcp_emit(&f, CLI, f.t, TF_SYN, NULL, 0);
	flow_turn(&f, SRV, 20);
	tcp_emit(&f, SRV, f.t, TF_RST | TF_ACK, NULL, 0);
}

static const struct http_get sensor_report = {
	.host = "api.sensor.example",
	.path = "/v1/report?temp=21.5&hum=40",
	.ua = "sensor-fw/1.4",
	.ctype = "application/json",
	.body = 24,
	.closer = SRV,
	.linger = 0,
};

static const struct http_get sensor_numeric = {
	.host = "203.0.113.77",
	.path = "/fw/update.bin",
	.ua = "sensor-fw/1.4",
	.ctype = "application/octet-stream",
	.body = 2048,
	.closer = SRV,
	.linger = 0,
};

static const struct http_get laptop_8080 = {
	.host = "192.168.1.50:8080",
	.path = "/",
	.ua = "nvr-agent/2.0",
	.ctype = "text/html",
	.body = 800,
	.closer = SRV,
	.linger = 0,
	.port = 8080,
};

static const struct http_get laptop_9090 = {
	.host = "192.168.1.50:9090",
	.path = "/metrics",
	.ua = "nvr-agent/2.0",
	.ctype = "text/plain",
	.body = 600,
	.closer = SRV,
	.linger = 0,
	.port = 9090,
};

/*
 * Two and a half hours of one home, each device showing one behaviour the
 * watcher must notice (tests/replay/watch.yaml, docs/alerts.md):
 *   cam      uploads ~40 KB every 5 min, then 5 MB at 85 min (above its
 *            baseline, over its hourly limit), then nothing (silent);
 *   plug     MQTT to its broker, and at 70 min to another one (new endpoint);
 *            NTP, which a rule allows with an alert;
 *   nvr      asks the cam for its stream, which the cam may not serve;
 *   sensor   a report every 60 s, one early at 30 min, then none (late), a
 *            burst of 25 flows at 40 min (flood), a numeric-IP download at
 *            50 min (flow risk);
 *   printer  its SSDP from another address at 80 min (binding change);
 *            asks the laptop on 8080 while learning, on 9090 at 75 min
 *            (new service in);
 *   stranger probes 70 hosts on port 23 at 100 min (scan);
 *   tv       sends from an address it did not declare at 110 min
 *            (quarantine).
 */
static void scen_watch(struct gen *g, const struct opts *o)
{
	struct host sensor, api, broker2, tv, printer2;
	struct lan l;
	uint64_t t;
	unsigned i;

	(void)o;
	lan_init(&l);
	host_set(&sensor, "02:00:00:00:00:13", "192.168.1.13", NULL, 64, 900);
	host_set(&api, "02:00:00:00:00:01", "198.51.100.40", NULL, 52, 20 * MSEC);
	host_set(&broker2, "02:00:00:00:00:01", "192.0.2.31", NULL, 50, 35 * MSEC);
	host_set(&tv, "02:00:00:00:00:14", "192.168.1.40", NULL, 64, 300);
	host_set(&printer2, "02:00:00:00:00:12", "192.168.1.42", NULL, 64, 400);

	for (i = 0; i < 17; i++) {
		t = BASE_US + 20 * SEC + i * 300 * SEC;
		t = gen_dns(g, t, &l.cam, 0, &l.router, 0, "cam.vendor-cloud.example", DNS_A,
			    l.cam_cloud.ip4);
		gen_tls_upload(g, t + 5 * MSEC, &l.cam, &l.cam_cloud, "cam.vendor-cloud.example",
			       rng_between(&g->rng, 38000, 46000));
	}
	gen_tls_upload(g, BASE_US + 85 * 60 * SEC, &l.cam, &l.cam_cloud,
		       "cam.vendor-cloud.example", 5000000);

	gen_mqtt(g, BASE_US + 60 * SEC, &l.plug, 0, &l.plug_cloud, "plug-kitchen",
		 "plugs/kitchen/power", 3, 60 * SEC);
	gen_ntp(g, BASE_US + 2 * 60 * SEC, &l.plug, 0, &l.ntp);	/* a rule says: alert */
	gen_rtsp(g, BASE_US + 20 * 60 * SEC, &l.nvr, &l.cam);	/* the cam serves nothing */
	gen_mqtt(g, BASE_US + 70 * 60 * SEC, &l.plug, 0, &broker2, "plug-kitchen",
		 "plugs/kitchen/power", 2, 60 * SEC);

	for (i = 0; i < 30; i++)
		gen_http(g, BASE_US + 30 * SEC + i * 60 * SEC, &sensor, 0, &api, &sensor_report);
	gen_http(g, BASE_US + 30 * SEC + 29 * 60 * SEC + 20 * SEC, &sensor, 0, &api,
		 &sensor_report);
	for (i = 0; i < 25; i++)
		gen_http(g, BASE_US + 40 * 60 * SEC + i * 1200 * MSEC, &sensor, 0, &api,
			 &sensor_report);
	gen_http(g, BASE_US + 50 * 60 * SEC, &sensor, 0, &l.web, &sensor_numeric);

	gen_ssdp_notify(g, BASE_US + 5 * 60 * SEC, &l.printer, &l.ssdp);
	gen_ssdp_notify(g, BASE_US + 80 * 60 * SEC, &printer2, &l.ssdp);

	gen_http(g, BASE_US + 30 * 60 * SEC, &l.nvr, 0, &l.laptop, &laptop_8080);
	gen_http(g, BASE_US + 75 * 60 * SEC, &l.nvr, 0, &l.laptop, &laptop_9090);
	gen_http(g, BASE_US + 76 * 60 * SEC, &l.nvr, 0, &l.laptop, &laptop_8080);

	for (i = 0; i < 70; i++) {
		struct host victim;
		char ip[16];

		snprintf(ip, sizeof(ip), "203.0.113.%u", i + 1);
		host_set(&victim, "02:00:00:00:00:01", ip, NULL, 50, 15 * MSEC);
		gen_probe(g, BASE_US + 100 * 60 * SEC + i * 500 * MSEC, &l.stranger, &victim, 23);
	}

	t = gen_dns(g, BASE_US + 105 * 60 * SEC, &tv, 0, &l.router, 0, "tv.vendor.example", DNS_A,
		    api.ip4);
	tv.ip4[3] = 41;
	gen_dns(g, BASE_US + 110 * 60 * SEC, &tv, 0, &l.router, 0, "tv.vendor.example", DNS_A,
		api.ip4);
	/* the laptop looks a name up every 5 min, from the start (so its
	 * learning ends before the NVR's visit at 75 min) to 150 min */
	for (t = BASE_US + 60 * SEC; t < BASE_US + 150 * 60 * SEC; t += 5 * 60 * SEC)
		gen_dns(g, t, &l.laptop, 0, &l.router, 0, "www.example.com", DNS_A, l.web.ip4);
}

/*
 * Bridge ports, as `tcpdump -i any` on the bridge host records them (Linux
 * cooked v2: the interface each frame came in on): the plug's MQTT sessions
 * come in on port 3, the Internet on port 1; after ten minutes the plug is
 * plugged into port 5 (port_change).  MQTT is decided on the plug's own
 * CONNECT, the packet whose port replay knows.
 */
static void scen_ports(struct gen *g, const struct opts *o)
{
	struct lan l;
	unsigned i;

	(void)o;
	lan_init(&l);
	l.plug.ifindex = 3;
	l.plug_cloud.ifindex = 1;
	for (i = 0; i < 4; i++) {
		if (i == 2)
			l.plug.ifindex = 5;
		gen_mqtt(g, BASE_US + i * 300 * SEC, &l.plug, 0, &l.plug_cloud, "plug-kitchen",
			 "plugs/kitchen/power", 1, 10 * SEC);
	}
}

/* ---- learn: what learn mode must learn ------------------------------------------ */

/*
 * Forty minutes of a home whose devices learn mode records and exports
 * (tests/learn/, docs/learn.md): what each does is what a learnt policy
 * must allow, and nothing more.
 *   cam      NTP once; every 5 min a DNS lookup and a TLS session to one
 *            of three hosts of its vendor's cloud (three addresses of one
 *            /24): *.camcloud.example
 *   plug-1,  DNS, NTP, an MQTT session to a fixed broker address (MQTT
 *   plug-2   carries no name); both serve HTTP to the hub: they behave
 *            alike
 *   printer  SSDP announcements (a multicast group), one TLS session to
 *            the one host of its vendor
 *   hub      NTP to two pool addresses, TLS to its vendor's domain and two
 *            names under it, a status poll of each plug every 2 min (a LAN
 *            service)
 *   router   the DNS resolver of all of them
 * learnnew is the same capture plus one thing: at 20 min plug-2 opens a
 * TLS session to a host it never used (the only violation a policy learnt
 * from learnbase may report).
 */
struct learn_home {
	struct lan l;
	struct host plug2, hub, cam_cloud[3], hub_cloud[2], print_cloud, ntp2;
};

/* The hub's status poll; .host is the plug's name. */
static const struct http_get plug_status = {
	.path = "/status",
	.ua = "hub/3.1",
	.ctype = "application/json",
	.body = 96,
	.closer = SRV,
	.linger = 0,
};

static void learn_home_init(struct learn_home *h)
{
	lan_init(&h->l);
	host_set(&h->plug2, "02:00:00:00:00:14", "192.168.1.14", NULL, 255, 1700);
	host_set(&h->hub, "02:00:00:00:00:30", "192.168.1.30", NULL, 64, 300);
	host_set(&h->cam_cloud[0], "02:00:00:00:00:01", "198.51.100.20", NULL, 52, 18 * MSEC);
	host_set(&h->cam_cloud[1], "02:00:00:00:00:01", "198.51.100.21", NULL, 52, 19 * MSEC);
	host_set(&h->cam_cloud[2], "02:00:00:00:00:01", "198.51.100.22", NULL, 52, 21 * MSEC);
	host_set(&h->hub_cloud[0], "02:00:00:00:00:01", "192.0.2.50", NULL, 50, 25 * MSEC);
	host_set(&h->hub_cloud[1], "02:00:00:00:00:01", "192.0.2.51", NULL, 50, 26 * MSEC);
	host_set(&h->print_cloud, "02:00:00:00:00:01", "203.0.113.80", NULL, 55, 12 * MSEC);
	host_set(&h->ntp2, "02:00:00:00:00:01", "203.0.113.124", NULL, 56, 9 * MSEC);
}

/* DNS lookup of NAME by C (A record ADDR), then TLS to S with that SNI. */
static uint64_t lookup_tls(struct gen *g, uint64_t t, const struct host *c, const struct lan *l,
			   const struct host *s, const char *name, unsigned exchanges)
{
	t = gen_dns(g, t, c, 0, &l->router, 0, name, DNS_A, s->ip4);
	return gen_tls(g, t + 5 * MSEC, c, 0, s, 0, name, "http/1.1", exchanges, 5 * SEC);
}

static void learn_plug(struct gen *g, const struct learn_home *h, const struct host *plug,
		       const char *id, uint64_t t0)
{
	uint64_t t;

	t = gen_dns(g, t0, plug, 0, &h->l.router, 0, "mqtt.plugcloud.example", DNS_A,
		    h->l.plug_cloud.ip4);
	gen_ntp(g, t + 40 * MSEC, plug, 0, &h->l.ntp);
	gen_mqtt(g, t + 300 * MSEC, plug, 0, &h->l.plug_cloud, id, "plugs/power", 19, 60 * SEC);
	gen_mqtt(g, t0 + 1210 * SEC, plug, 0, &h->l.plug_cloud, id, "plugs/power", 19, 60 * SEC);
}

static void scen_learnbase(struct gen *g, const struct opts *o)
{
	static const char *const cam_names[3] = {
		"eu1.camcloud.example", "eu2.camcloud.example", "api.camcloud.example",
	};
	struct http_get rq1 = plug_status, rq2 = plug_status;
	struct learn_home h;
	unsigned i;

	(void)o;
	learn_home_init(&h);
	gen_ntp(g, BASE_US + 10 * SEC, &h.l.cam, 0, &h.l.ntp);
	for (i = 0; i < 8; i++)
		lookup_tls(g, BASE_US + 30 * SEC + i * 300 * SEC, &h.l.cam, &h.l, &h.cam_cloud[i % 3],
			   cam_names[i % 3], 2);

	learn_plug(g, &h, &h.l.plug, "plug-1", BASE_US + 5 * SEC);
	learn_plug(g, &h, &h.plug2, "plug-2", BASE_US + 7 * SEC);

	gen_ssdp_notify(g, BASE_US + 3 * SEC, &h.l.printer, &h.l.ssdp);
	gen_ssdp_notify(g, BASE_US + 1803 * SEC, &h.l.printer, &h.l.ssdp);
	lookup_tls(g, BASE_US + 60 * SEC, &h.l.printer, &h.l, &h.print_cloud,
		   "update.printvendor.example", 1);

	gen_ntp(g, BASE_US + 20 * SEC, &h.hub, 0, &h.l.ntp);
	gen_ntp(g, BASE_US + 1220 * SEC, &h.hub, 0, &h.ntp2);
	lookup_tls(g, BASE_US + 50 * SEC, &h.hub, &h.l, &h.hub_cloud[0], "hubvendor.example", 1);
	for (i = 0; i < 4; i++)
		lookup_tls(g, BASE_US + 90 * SEC + i * 600 * SEC, &h.hub, &h.l, &h.hub_cloud[0],
			   "api.hubvendor.example", 3);
	lookup_tls(g, BASE_US + 100 * SEC, &h.hub, &h.l, &h.hub_cloud[1], "push.hubvendor.example",
		   2);
	lookup_tls(g, BASE_US + 1300 * SEC, &h.hub, &h.l, &h.hub_cloud[1],
		   "push.hubvendor.example", 2);
	rq1.host = "plug-1.home.arpa";
	rq2.host = "plug-2.home.arpa";
	for (i = 0; i < 19; i++) {
		gen_http(g, BASE_US + 40 * SEC + i * 120 * SEC, &h.hub, 0, &h.l.plug, &rq1);
		gen_http(g, BASE_US + 41 * SEC + i * 120 * SEC, &h.hub, 0, &h.plug2, &rq2);
	}
}

static void scen_learnnew(struct gen *g, const struct opts *o)
{
	struct learn_home h;
	struct host telemetry;

	scen_learnbase(g, o);
	/* generated last, so everything before is the same bytes as learnbase */
	learn_home_init(&h);
	host_set(&telemetry, "02:00:00:00:00:01", "198.51.100.31", NULL, 49, 31 * MSEC);
	gen_tls(g, BASE_US + 1200 * SEC, &h.plug2, 0, &telemetry, 0, "telemetry.plugcloud.example",
		"http/1.1", 2, 5 * SEC);
}

/* ---- malformed ------------------------------------------------------------------ */

/*
 * Hand-built frames, each broken in exactly one way (or deliberately
 * unusual but valid), 10 ms apart.  Everything not under test is correct,
 * checksums included, so the one defect is the only thing a parser trips on.
 */
struct mal {
	struct gen *g;
	uint64_t t;
	unsigned seq;		/* distinguishes the DNS datagrams below */
	uint8_t mem[4096];
	struct buf b;
};

static struct buf *mal_begin(struct mal *m)
{
	buf_init(&m->b, m->mem, sizeof(m->mem));
	return &m->b;
}

/* wire_len > the built length models a frame cut by the snap length. */
static void mal_emit(struct mal *m, size_t wire_len, const char *what)
{
	buf_check(&m->b, what);
	if (wire_len < m->b.len)
		wire_len = m->b.len;
	out_push(&m->g->out, m->t, m->b.p, (uint32_t)m->b.len, (uint32_t)wire_len);
	m->t += 10 * MSEC;
}

static void put_eth(struct buf *b, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	put_mem(b, dst, 6);
	put_mem(b, src, 6);
	put_be16(b, type);
}

/* An IPv4 header of 20 + optlen bytes; v4_done() fills length and checksum. */
static size_t put_v4(struct buf *b, uint8_t proto, const uint8_t *src, const uint8_t *dst,
		     uint16_t id, uint16_t frag, const uint8_t *opt, size_t optlen)
{
	size_t at = b->len;

	put_u8(b, 0x40 | (uint32_t)((20 + optlen) / 4));
	put_u8(b, 0);
	put_be16(b, 0);
	put_be16(b, id);
	put_be16(b, frag);
	put_u8(b, 64);
	put_u8(b, proto);
	put_be16(b, 0);
	put_mem(b, src, 4);
	put_mem(b, dst, 4);
	put_mem(b, opt, optlen);
	return at;
}

/*
 * Sets the total length (tot < 0: what follows the header start) and,
 * when ver_ihl >= 0, overrides the version/IHL byte; then checksums the
 * hl bytes actually written, so only the intended field is wrong.
 */
static void v4_done(struct buf *b, size_t ip, size_t hl, long tot, int ver_ihl)
{
	uint8_t *h;

	if (b->overflow || ip + hl > b->len)
		return;
	h = b->p + ip;
	wr16(h + 2, tot < 0 ? (uint32_t)(b->len - ip) : (uint32_t)tot);
	if (ver_ihl >= 0)
		h[0] = (uint8_t)ver_ihl;
	wr16(h + 10, 0);
	wr16(h + 10, sum_fold(sum_bytes(0, h, hl)));
}

static size_t put_v6(struct buf *b, uint8_t nh, const uint8_t *src, const uint8_t *dst)
{
	size_t at = b->len;

	put_be32(b, 0x60000000u | 0x2f1c5);
	put_be16(b, 0);
	put_u8(b, nh);
	put_u8(b, 64);
	put_mem(b, src, 16);
	put_mem(b, dst, 16);
	return at;
}

static void v6_done(struct buf *b, size_t ip)
{
	if (!b->overflow && ip + 40 <= b->len)
		wr16(b->p + ip + 4, (uint32_t)(b->len - ip - 40));
}

/* UDP header + payload with a correct checksum; returns its offset. */
static size_t put_udp(struct buf *b, int v6, const uint8_t *src, const uint8_t *dst,
		      uint16_t sport, uint16_t dport, const uint8_t *pl, size_t plen)
{
	size_t at = b->len;
	uint16_t sum;

	put_be16(b, sport);
	put_be16(b, dport);
	put_be16(b, (uint32_t)(8 + plen));
	put_be16(b, 0);
	put_mem(b, pl, plen);
	if (b->overflow)
		return at;
	sum = l4_csum(v6, src, dst, IPPROTO_UDP, b->p + at, 8 + plen);
	wr16(b->p + at + 6, sum ? sum : 0xffff);
	return at;
}

/* A 20-byte TCP header whose data-offset field says doff words. */
static void put_tcp_hdr(struct buf *b, const uint8_t *src, const uint8_t *dst, uint16_t sport,
			uint16_t dport, uint32_t seq, uint8_t flags, unsigned doff)
{
	size_t at = b->len;

	put_be16(b, sport);
	put_be16(b, dport);
	put_be32(b, seq);
	put_be32(b, 0);
	put_u8(b, (doff & 0xf) << 4);
	put_u8(b, flags);
	put_be16(b, 64240);
	put_be16(b, 0);
	put_be16(b, 0);
	if (!b->overflow)
		wr16(b->p + at + 16, l4_csum(0, src, dst, IPPROTO_TCP, b->p + at, 20));
}

/*
 * Ethernet + IPv4 + UDP DNS query, laptop to router; returns the IP offset.
 * Each call gets its own DNS and IP ids so that no two of these datagrams
 * look like retransmissions of each other.
 */
static size_t mal_v4_dns(struct mal *m, const struct lan *l, const uint8_t *opt, size_t optlen)
{
	uint8_t qmem[128];
	struct buf q;
	struct buf *b = &m->b;
	size_t ip;

	m->seq++;
	buf_init(&q, qmem, sizeof(qmem));
	dns_message(&q, (uint16_t)(0x1d00 + m->seq), "www.example.net", DNS_A, NULL);
	buf_check(&q, "DNS query");
	put_eth(b, l->router.mac, l->laptop.mac, ETH_IPV4);
	ip = put_v4(b, IPPROTO_UDP, l->laptop.ip4, l->router.ip4, (uint16_t)(0x4d00 + m->seq),
		    0x4000, opt, optlen);
	put_udp(b, 0, l->laptop.ip4, l->router.ip4, (uint16_t)(47100 + m->seq), 53, q.p, q.len);
	v4_done(b, ip, 20 + optlen, -1, -1);
	return ip;
}

static void scen_malformed(struct gen *g, const struct opts *o)
{
	static const uint8_t opt_nop_eol[4] = { 0x01, 0x00, 0x00, 0x00 };
	static const uint8_t tun_a[4] = { 10, 99, 0, 1 }, tun_b[4] = { 10, 99, 0, 2 };
	static const uint8_t tun_peer[4] = { 203, 0, 113, 200 };
	static const struct http_get page = {
		.host = "www.example.com", .path = "/", .ua = "curl/7.88.1",
		.ctype = "text/html; charset=UTF-8", .body = 2500, .closer = CLI,
		.linger = 200 * MSEC,
	};
	struct lan l;
	struct mal m;
	struct host tunnel;
	struct flow f;
	struct buf *b;
	struct buf q;
	uint8_t qmem[128], dgram[4096], echo[64], inner[128];
	size_t ip, i, off, n;

	(void)o;
	lan_init(&l);
	memset(&m, 0, sizeof(m));
	m.g = g;
	m.t = BASE_US + 1 * SEC;

	/* good traffic around the broken frames: a parser that gives up on
	 * a bad frame, or loses its place after one, misses these flows */
	gen_dns(g, m.t + 3 * MSEC, &l.laptop, 0, &l.router, 0, "www.example.com", DNS_A, l.web.ip4);
	gen_http(g, m.t + 45 * MSEC, &l.laptop, 0, &l.web, &page);
	gen_ntp(g, m.t + 160 * MSEC, &l.laptop, 0, &l.ntp);
	gen_dns(g, m.t + 235 * MSEC, &l.laptop, 0, &l.router, 1, "www.example.org", DNS_AAAA,
		l.web6.ip6);

	/* the DNS query inside the IPv6 datagrams */
	buf_init(&q, qmem, sizeof(qmem));
	dns_message(&q, 0x1d1d, "www.example.net", DNS_A, NULL);
	buf_check(&q, "DNS query");

	/* zero-length frame */
	mal_begin(&m);
	mal_emit(&m, 0, "empty frame");

	/* 10-byte Ethernet frame: dst MAC and part of src */
	b = mal_begin(&m);
	put_mem(b, l.router.mac, 6);
	put_mem(b, l.laptop.mac, 4);
	mal_emit(&m, 0, "short Ethernet");

	/* 802.1Q TPID whose tag ends after the TCI: no inner ethertype */
	b = mal_begin(&m);
	put_eth(b, l.router.mac, l.laptop.mac, ETH_VLAN);
	put_be16(b, 10);
	mal_emit(&m, 0, "cut VLAN tag");

	/* unknown ethertype (IEEE 802 local experimental 1) */
	b = mal_begin(&m);
	put_eth(b, bcast_mac, l.laptop.mac, 0x88b5);
	put_rand(b, &g->rng, 46);
	mal_emit(&m, 0, "unknown ethertype");

	/* ARP request: who has 192.168.1.1? tell 192.168.1.50 (valid) */
	b = mal_begin(&m);
	put_eth(b, bcast_mac, l.laptop.mac, ETH_ARP);
	put_be16(b, 1);
	put_be16(b, ETH_IPV4);
	put_u8(b, 6);
	put_u8(b, 4);
	put_be16(b, 1);
	put_mem(b, l.laptop.mac, 6);
	put_mem(b, l.laptop.ip4, 4);
	put_zero(b, 6);
	put_mem(b, l.router.ip4, 4);
	put_zero(b, 18);	/* pad to the 60-byte minimum */
	mal_emit(&m, 0, "ARP");

	/* IPv4 header cut after 12 bytes */
	b = mal_begin(&m);
	ip = mal_v4_dns(&m, &l, NULL, 0);
	b->len = ip + 12;
	mal_emit(&m, 0, "cut IPv4 header");

	/* IHL = 3 (12 bytes), below the 20-byte minimum */
	b = mal_begin(&m);
	ip = mal_v4_dns(&m, &l, NULL, 0);
	v4_done(b, ip, 20, -1, 0x43);
	mal_emit(&m, 0, "IHL 3");

	/* IHL = 15 (60 bytes) with only 20 bytes in the frame */
	b = mal_begin(&m);
	put_eth(b, l.router.mac, l.laptop.mac, ETH_IPV4);
	ip = put_v4(b, IPPROTO_UDP, l.laptop.ip4, l.router.ip4, 0x4d30, 0x4000, NULL, 0);
	v4_done(b, ip, 20, 60, 0x4f);
	mal_emit(&m, 0, "IHL 15");

	/* total length 16, smaller than the 20-byte header */
	b = mal_begin(&m);
	ip = mal_v4_dns(&m, &l, NULL, 0);
	v4_done(b, ip, 20, 16, -1);
	mal_emit(&m, 0, "total length < IHL");

	/* total length 1000, far beyond the frame */
	b = mal_begin(&m);
	ip = mal_v4_dns(&m, &l, NULL, 0);
	v4_done(b, ip, 20, 1000, -1);
	mal_emit(&m, 0, "total length > frame");

	/* IHL = 6 with options NOP, EOL, padding: valid, carrying a DNS query */
	b = mal_begin(&m);
	mal_v4_dns(&m, &l, opt_nop_eol, sizeof(opt_nop_eol));
	mal_emit(&m, 0, "IPv4 options");

	/* version 7 */
	b = mal_begin(&m);
	ip = mal_v4_dns(&m, &l, NULL, 0);
	v4_done(b, ip, 20, -1, 0x75);
	mal_emit(&m, 0, "IP version 7");

	/* one 3200-byte UDP datagram (header + 3192 bytes) in three IPv4
	 * fragments of 1480, 1480 and 240 bytes; offsets in 8-byte units */
	{
		static const size_t frag_len[3] = { 1480, 1480, 240 };
		uint8_t pl[3192];
		struct buf d;

		for (i = 0; i < sizeof(pl); i++)
			pl[i] = (uint8_t)('a' + i % 26);
		buf_init(&d, dgram, sizeof(dgram));
		put_udp(&d, 0, l.laptop.ip4, l.router.ip4, 47002, 9999, pl, sizeof(pl));
		buf_check(&d, "fragmented datagram");
		for (i = 0, off = 0; i < 3; off += frag_len[i], i++) {
			uint16_t frag = (uint16_t)((off / 8) | (i < 2 ? 0x2000 : 0));	/* MF */

			b = mal_begin(&m);
			put_eth(b, l.router.mac, l.laptop.mac, ETH_IPV4);
			ip = put_v4(b, IPPROTO_UDP, l.laptop.ip4, l.router.ip4, 0x7a11, frag, NULL, 0);
			put_mem(b, d.p + off, frag_len[i]);
			v4_done(b, ip, 20, -1, -1);
			mal_emit(&m, 0, "IPv4 fragment");
		}
	}

	/* a lone non-first fragment: offset 800 bytes, last, no first part */
	b = mal_begin(&m);
	put_eth(b, l.router.mac, l.laptop.mac, ETH_IPV4);
	ip = put_v4(b, IPPROTO_UDP, l.laptop.ip4, l.router.ip4, 0x7a12, 800 / 8, NULL, 0);
	put_rand(b, &g->rng, 64);
	v4_done(b, ip, 20, -1, -1);
	mal_emit(&m, 0, "lone fragment");

	/* IPv6 header cut at 30 bytes */
	b = mal_begin(&m);
	put_eth(b, l.router.mac, l.laptop.mac, ETH_IPV6);
	ip = put_v6(b, IPPROTO_UDP, l.laptop.ip6, l.router.ip6);
	put_udp(b, 1, l.laptop.ip6, l.router.ip6, 47003, 53, q.p, q.len);
	v6_done(b, ip);
	b->len = ip + 30;
	mal_emit(&m, 0, "cut IPv6 header");

	/* IPv6 hop-by-hop -> routing (SRH, segments left 0) -> destination
	 * options -> UDP DNS query: valid; with segments left 0 the header's
	 * destination is final, so the UDP pseudo header uses it */
	b = mal_begin(&m);
	put_eth(b, l.router.mac, l.laptop.mac, ETH_IPV6);
	ip = put_v6(b, IPPROTO_HOPOPTS, l.laptop.ip6, l.router.ip6);
	put_u8(b, IPPROTO_ROUTING);
	put_u8(b, 0);
	put_u8(b, 1);		/* PadN, 4 bytes */
	put_u8(b, 4);
	put_zero(b, 4);
	put_u8(b, IPPROTO_DSTOPTS);
	put_u8(b, 2);		/* (2 + 1) * 8 = 24 bytes */
	put_u8(b, 4);		/* segment routing header */
	put_u8(b, 0);		/* segments left */
	put_u8(b, 0);		/* last entry */
	put_u8(b, 0);
	put_be16(b, 0);
	put_mem(b, l.router.ip6, 16);
	put_u8(b, IPPROTO_UDP);
	put_u8(b, 0);
	put_u8(b, 1);
	put_u8(b, 4);
	put_zero(b, 4);
	put_udp(b, 1, l.laptop.ip6, l.router.ip6, 47004, 53, q.p, q.len);
	v6_done(b, ip);
	mal_emit(&m, 0, "IPv6 extension headers");

	/* hop-by-hop header claiming (20 + 1) * 8 = 168 bytes; 8 present */
	b = mal_begin(&m);
	put_eth(b, l.router.mac, l.laptop.mac, ETH_IPV6);
	ip = put_v6(b, IPPROTO_HOPOPTS, l.laptop.ip6, l.router.ip6);
	put_u8(b, IPPROTO_UDP);
	put_u8(b, 20);
	put_u8(b, 1);
	put_u8(b, 4);
	put_zero(b, 4);
	v6_done(b, ip);
	mal_emit(&m, 0, "IPv6 extension overrun");

	/* one 1608-byte UDP datagram in two IPv6 fragments: 1448 + 160 */
	{
		static const size_t frag_len[2] = { 1448, 160 };
		uint8_t pl[1600];
		struct buf d;

		for (i = 0; i < sizeof(pl); i++)
			pl[i] = (uint8_t)('A' + i % 26);
		buf_init(&d, dgram, sizeof(dgram));
		put_udp(&d, 1, l.laptop.ip6, l.router.ip6, 47005, 9999, pl, sizeof(pl));
		buf_check(&d, "IPv6 fragmented datagram");
		for (i = 0, off = 0; i < 2; off += frag_len[i], i++) {
			b = mal_begin(&m);
			put_eth(b, l.router.mac, l.laptop.mac, ETH_IPV6);
			ip = put_v6(b, IPPROTO_FRAGMENT, l.laptop.ip6, l.router.ip6);
			put_u8(b, IPPROTO_UDP);
			put_u8(b, 0);
			put_be16(b, (uint32_t)off | (i == 0 ? 1 : 0));	/* offset<<3 | M */
			put_be32(b, 0x5eed0001);
			put_mem(b, d.p + off, frag_len[i]);
			v6_done(b, ip);
			mal_emit(&m, 0, "IPv6 fragment");
		}
	}

	/* IPv6 with next header 59: nothing follows */
	b = mal_begin(&m);
	put_eth(b, l.router.mac, l.laptop.mac, ETH_IPV6);
	ip = put_v6(b, IPPROTO_NONE, l.laptop.ip6, l.router.ip6);
	v6_done(b, ip);
	mal_emit(&m, 0, "IPv6 no next header");

	/* TCP data offset 3 (12 bytes), below the 20-byte minimum */
	b = mal_begin(&m);
	put_eth(b, l.router.mac, l.laptop.mac, ETH_IPV4);
	ip = put_v4(b, IPPROTO_TCP, l.laptop.ip4, l.web.ip4, 0x4d40, 0x4000, NULL, 0);
	put_tcp_hdr(b, l.laptop.ip4, l.web.ip4, 47010, 80, 0x10203040, TF_SYN, 3);
	v4_done(b, ip, 20, -1, -1);
	mal_emit(&m, 0, "TCP doff 3");

	/* TCP data offset 15 (60 bytes) with only the 20-byte header */
	b = mal_begin(&m);
	put_eth(b, l.router.mac, l.laptop.mac, ETH_IPV4);
	ip = put_v4(b, IPPROTO_TCP, l.laptop.ip4, l.web.ip4, 0x4d41, 0x4000, NULL, 0);
	put_tcp_hdr(b, l.laptop.ip4, l.web.ip4, 47011, 80, 0x10203041, TF_SYN, 15);
	v4_done(b, ip, 20, -1, -1);
	mal_emit(&m, 0, "TCP doff 15");

	/* UDP length field 4, below its own 8-byte header */
	b = mal_begin(&m);
	ip = mal_v4_dns(&m, &l, NULL, 0);
	wr16(b->p + ip + 20 + 4, 4);
	mal_emit(&m, 0, "UDP length 4");

	/* UDP length 500, far more than the datagram holds */
	b = mal_begin(&m);
	ip = mal_v4_dns(&m, &l, NULL, 0);
	wr16(b->p + ip + 20 + 4, 500);
	mal_emit(&m, 0, "UDP length > packet");

	/* ICMP message of 2 bytes: type and code, no checksum */
	b = mal_begin(&m);
	put_eth(b, l.router.mac, l.laptop.mac, ETH_IPV4);
	ip = put_v4(b, IPPROTO_ICMP, l.laptop.ip4, l.router.ip4, 0x4d50, 0, NULL, 0);
	put_u8(b, 8);
	put_u8(b, 0);
	v4_done(b, ip, 20, -1, -1);
	mal_emit(&m, 0, "2-byte ICMP");

	/* ICMPv6 echo request and reply (valid) */
	flow_init(&f, g, IPPROTO_ICMPV6, 1, &l.laptop, 0, &l.router, 0, m.t);
	for (i = 0; i < sizeof(echo); i++)
		echo[i] = (uint8_t)(0x10 + i);
	echo[0] = 128;
	echo[1] = 0;
	wr16(echo + 2, 0);
	wr16(echo + 4, 0x3c1d);	/* identifier */
	wr16(echo + 6, 1);	/* sequence */
	l4_emit(&f, CLI, echo, sizeof(echo));
	flow_turn(&f, SRV, 40);
	echo[0] = 129;
	wr16(echo + 2, 0);
	l4_emit(&f, SRV, echo, sizeof(echo));
	m.t += 10 * MSEC;

	/* GRE (valid): an IPv4 ICMP echo inside, towards a tunnel peer */
	host_set(&tunnel, "02:00:00:00:00:01", NULL, NULL, 57, 20 * MSEC);
	memcpy(tunnel.ip4, tun_peer, 4);
	flow_init(&f, g, IPPROTO_GRE, 0, &l.laptop, 0, &tunnel, 0, m.t);
	{
		struct buf in;
		size_t iip, icmp;

		buf_init(&in, inner, sizeof(inner));
		put_be16(&in, 0);		/* no checksum/key/sequence, version 0 */
		put_be16(&in, ETH_IPV4);
		iip = put_v4(&in, IPPROTO_ICMP, tun_a, tun_b, 0x0101, 0x4000, NULL, 0);
		icmp = in.len;
		put_u8(&in, 8);
		put_u8(&in, 0);
		put_be16(&in, 0);
		put_be16(&in, 0x0042);
		put_be16(&in, 1);
		put_str(&in, "gre-tunnel-probe-0123456789abcdef");
		buf_check(&in, "GRE payload");
		wr16(in.p + icmp + 2, sum_fold(sum_bytes(0, in.p + icmp, in.len - icmp)));
		v4_done(&in, iip, 20, -1, -1);
		l4_emit(&f, CLI, in.p, in.len);
	}
	m.t += 10 * MSEC;

	/* SCTP INIT (valid), CRC32c stored least significant byte first */
	b = mal_begin(&m);
	put_eth(b, l.router.mac, l.laptop.mac, ETH_IPV4);
	ip = put_v4(b, IPPROTO_SCTP, l.laptop.ip4, l.web.ip4, 0x4d60, 0x4000, NULL, 0);
	off = b->len;
	put_be16(b, 47020);
	put_be16(b, 3868);	/* Diameter */
	put_be32(b, 0);		/* verification tag: 0 in INIT */
	put_be32(b, 0);
	put_u8(b, 1);		/* INIT */
	put_u8(b, 0);
	put_be16(b, 20);
	put_be32(b, 0x5c7e0001);	/* initiate tag */
	put_be32(b, 106496);	/* a_rwnd */
	put_be16(b, 10);	/* outbound streams */
	put_be16(b, 65535);	/* max inbound streams */
	put_be32(b, 0x00c0ffee);	/* initial TSN */
	if (!b->overflow) {
		uint32_t crc = crc32c(b->p + off, b->len - off);

		for (n = 0; n < 4; n++)
			b->p[off + 8 + n] = (uint8_t)(crc >> (8 * n));
	}
	v4_done(b, ip, 20, -1, -1);
	mal_emit(&m, 0, "SCTP INIT");

	/* protocol TCP with only 8 bytes of TCP header */
	b = mal_begin(&m);
	put_eth(b, l.router.mac, l.laptop.mac, ETH_IPV4);
	ip = put_v4(b, IPPROTO_TCP, l.laptop.ip4, l.web.ip4, 0x4d70, 0x4000, NULL, 0);
	put_be16(b, 47030);
	put_be16(b, 80);
	put_be32(b, 0x0badf00d);
	v4_done(b, ip, 20, -1, -1);
	mal_emit(&m, 0, "8-byte TCP");

	/* a valid 1000-byte syslog datagram captured with a 96-byte snap length */
	{
		uint8_t pl[958];
		size_t full;

		memset(pl, 'x', sizeof(pl));
		memcpy(pl, "<134>Jan  1 00:00:01 laptop app: ", 33);
		b = mal_begin(&m);
		put_eth(b, l.router.mac, l.laptop.mac, ETH_IPV4);
		ip = put_v4(b, IPPROTO_UDP, l.laptop.ip4, l.router.ip4, 0x4d80, 0x4000, NULL, 0);
		put_udp(b, 0, l.laptop.ip4, l.router.ip4, 47040, 514, pl, sizeof(pl));
		v4_done(b, ip, 20, -1, -1);
		full = b->len;
		b->len = 96;
		mal_emit(&m, full, "snapped frame");
	}
}

/* ---- bench ---------------------------------------------------------------------- */

#define BENCH_CLIENTS	4000u
#define BENCH_SERVERS	1000u
#define BENCH_BULK	8u
#define BENCH_GAP_US	700u	/* between short-flow starts, plus jitter */
#define BULK_PAIR_US	100u	/* two segments per 100 us: ~230 Mbit/s a flow */
#define PATTERN_LEN	65536u

static void bench_host(struct host *h, int server, uint32_t c, uint32_t d, uint32_t delay_us)
{
	memset(h, 0, sizeof(*h));
	if (server) {
		memcpy(h->mac, router_mac, 6);
		h->ip4[0] = 198;
		h->ip4[1] = 18;
		h->ttl = (uint8_t)(48 + d % 12);
	} else {
		h->mac[0] = 0x02;
		h->mac[1] = 0x10;
		h->mac[4] = (uint8_t)c;
		h->mac[5] = (uint8_t)d;
		h->ip4[0] = 10;
		h->ip4[1] = 1;
		h->ttl = 64;
	}
	h->ip4[2] = (uint8_t)c;
	h->ip4[3] = (uint8_t)d;
	h->delay_us = delay_us;
}

/* Short flow i: kind i % 5, client 10.1.x.y, server 198.18.x.y. */
static void bench_flow(struct gen *g, uint32_t i, uint64_t t)
{
	struct host c, s;
	char name[64], extra[64];
	uint32_t ci = i % BENCH_CLIENTS;
	uint32_t si = (uint32_t)((i * 2654435761u) >> 7) % BENCH_SERVERS;
	/* ports distinct per client: k = i / clients steps a prime stride
	 * through 28000 ports, so a client repeats no port for 28000 flows */
	uint16_t cport = (uint16_t)(32768 + ((i / BENCH_CLIENTS) * 97 + ci * 31) % 28000);
	uint8_t addr[4];

	bench_host(&c, 0, ci / 250, ci % 250 + 2, rng_between(&g->rng, 100, 900));
	bench_host(&s, 1, si / 250, si % 250 + 1, rng_between(&g->rng, 2 * MSEC, 20 * MSEC));

	switch (i % 5) {
	case 0:
		snprintf(name, sizeof(name), "h%u.bench.example", i);
		addr[0] = 198;
		addr[1] = 18;
		addr[2] = (uint8_t)((i >> 8) % 4);
		addr[3] = (uint8_t)(i % 250 + 1);
		gen_dns(g, t, &c, cport, &s, 0, name, DNS_A, addr);
		break;
	case 1: {
		struct http_get rq = {
			.host = name, .path = extra, .ua = "python-requests/2.28.1",
			.ctype = "text/html; charset=UTF-8",
			.body = rng_between(&g->rng, 400, 4000), .closer = CLI,
			.linger = 50 * MSEC,
		};

		snprintf(name, sizeof(name), "www%u.bench.example", i);
		snprintf(extra, sizeof(extra), "/item/%u", i);
		gen_http(g, t, &c, cport, &s, &rq);
		break;
	}
	case 2:
		snprintf(name, sizeof(name), "api%u.bench.example", i);
		gen_tls(g, t, &c, cport, &s, 0, name, "h2,http/1.1", 2, 20 * MSEC);
		break;
	case 3:
		snprintf(name, sizeof(name), "dev%u", i);
		snprintf(extra, sizeof(extra), "bench/%u/telemetry", i);
		gen_mqtt(g, t, &c, cport, &s, name, extra, 2, 50 * MSEC);
		break;
	default:
		gen_ntp(g, t, &c, cport, &s);
		break;
	}
}

enum bulk_state { BULK_START, BULK_DATA, BULK_CLOSE, BULK_DONE };

/* One long HTTP download, generated a step at a time so it interleaves
 * with the short flows without being held in memory. */
struct bulk {
	struct flow f;
	enum bulk_state state;
	uint64_t next;		/* time of the next step */
	uint64_t total;		/* response bytes: header + body */
	uint64_t off;
	uint8_t hdr[256];
	size_t hdrlen;
	unsigned id;
};

static void bulk_fill(const struct bulk *k, const uint8_t *pattern, uint8_t *dst, uint64_t off,
		      size_t n)
{
	while (n) {
		size_t take;

		if (off < k->hdrlen) {
			take = k->hdrlen - (size_t)off;
			if (take > n)
				take = n;
			memcpy(dst, k->hdr + off, take);
		} else {
			size_t p = (size_t)((off - k->hdrlen) % PATTERN_LEN);

			take = PATTERN_LEN - p;
			if (take > n)
				take = n;
			memcpy(dst, pattern + p, take);
		}
		dst += take;
		off += take;
		n -= take;
	}
}

static void bulk_step(struct gen *g, struct bulk *k, const uint8_t *pattern)
{
	uint8_t seg[1500], req[512];
	struct buf b;
	uint64_t ts = k->next, last = ts;
	unsigned i;

	switch (k->state) {
	case BULK_START: {
		struct host c, s;
		struct buf h;

		bench_host(&c, 0, 200, k->id + 1, 150);
		bench_host(&s, 1, 200, k->id + 1, 8 * MSEC);
		flow_init(&k->f, g, IPPROTO_TCP, 0, &c, (uint16_t)(40000 + k->id), &s, 80, ts);
		tcp_open(&k->f);
		k->f.t += 150;
		buf_init(&b, req, sizeof(req));
		put_fmt(&b, "GET /files/blob-%u.bin HTTP/1.1\r\nHost: dl%u.bench.example\r\n"
			"User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n", k->id, k->id);
		tcp_send_buf(&k->f, CLI, &b, "bulk request");
		flow_turn(&k->f, SRV, 3 * MSEC);
		buf_init(&h, k->hdr, sizeof(k->hdr));
		put_fmt(&h, "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n"
			"Content-Type: application/octet-stream\r\nContent-Length: %" PRIu64 "\r\n"
			"Connection: keep-alive\r\n\r\n", k->total);
		buf_check(&h, "bulk response header");
		k->hdrlen = h.len;
		k->total += h.len;
		k->next = k->f.t;
		k->state = BULK_DATA;
		break;
	}
	case BULK_DATA:
		/* two full segments, then the client's ACK for both */
		for (i = 0; i < 2 && k->off < k->total; i++) {
			uint64_t left = k->total - k->off;
			size_t n = left < k->f.mss ? (size_t)left : k->f.mss;

			bulk_fill(k, pattern, seg, k->off, n);
			tcp_emit(&k->f, SRV, ts, TF_ACK | (n == left ? TF_PSH : 0), seg, n);
			k->off += n;
			last = ts;
			ts += BULK_PAIR_US / 2;
		}
		tcp_emit(&k->f, CLI, last + 2ULL * k->f.s[CLI].delay_us + 30, TF_ACK, NULL, 0);
		k->next = ts;
		if (k->off == k->total) {
			k->state = BULK_CLOSE;
			k->next = last + 2ULL * k->f.s[CLI].delay_us + 5 * MSEC;
		}
		break;
	case BULK_CLOSE:
		k->f.t = ts;
		tcp_close(&k->f, CLI);
		k->state = BULK_DONE;
		break;
	case BULK_DONE:
		break;
	}
}

/*
 * Short flows start every ~0.7 ms; eight downloads of bulk_mb / 8 MB each
 * start spread over the same span.  Generation walks events in time order
 * and flushes everything older than the current event first, so the
 * reorder buffer holds only what overlaps in time.
 */
static void scen_bench(struct gen *g, const struct opts *o)
{
	struct bulk bulk[BENCH_BULK];
	uint8_t *pattern = NULL;
	uint64_t t0 = BASE_US + 1 * SEC;
	uint64_t span = o->flows * BENCH_GAP_US;
	uint64_t body = o->bulk_mb * 1000000ULL;
	uint64_t next_short = t0;
	uint64_t i = 0;
	unsigned nbulk = body ? BENCH_BULK : 0, k;

	if (span < 10 * SEC)
		span = 10 * SEC;
	memset(bulk, 0, sizeof(bulk));
	if (nbulk) {
		pattern = malloc(PATTERN_LEN);
		if (!pattern)
			die("out of memory");
		rng_fill(&g->rng, pattern, PATTERN_LEN);
	}
	for (k = 0; k < nbulk; k++) {
		bulk[k].id = k;
		bulk[k].total = body / nbulk + (k == nbulk - 1 ? body % nbulk : 0);
		bulk[k].next = t0 + 500 * MSEC + k * (span / nbulk);
		bulk[k].state = BULK_START;
	}

	while (!g->out.err) {
		struct bulk *due = NULL;
		uint64_t now = UINT64_MAX;

		if (i < o->flows)
			now = next_short;
		for (k = 0; k < nbulk; k++)
			if (bulk[k].state != BULK_DONE && bulk[k].next < now) {
				now = bulk[k].next;
				due = &bulk[k];
			}
		if (now == UINT64_MAX)
			break;
		out_flush(&g->out, now);
		if (due) {
			bulk_step(g, due, pattern);
		} else {
			bench_flow(g, (uint32_t)i, now);
			i++;
			next_short = t0 + i * BENCH_GAP_US + rng_between(&g->rng, 0, BENCH_GAP_US / 2);
		}
	}
	free(pattern);
}

/* ---- command line -------------------------------------------------------------- */

struct scenario {
	const char *name;
	int dlt;
	enum linktype lt;
	void (*run)(struct gen *g, const struct opts *o);
	const char *what;
};

static const struct scenario scenarios[] = {
	{ "home", DLT_EN10MB, LT_ETH, scen_home,
	  "home LAN: camera, plug, printer, NVR, laptop, misbehaviour (~6 min)" },
	{ "vlan", DLT_EN10MB, LT_ETH, scen_vlan,
	  "DNS/HTTP/TLS flows on 802.1Q VLAN 10 and QinQ 100/20" },
	{ "sll", DLT_LINUX_SLL, LT_SLL, scen_laptop,
	  "laptop DNS/HTTP/TLS (v4+v6), Linux cooked capture" },
	{ "sll2", DLT_LINUX_SLL2, LT_SLL2, scen_laptop,
	  "laptop DNS/HTTP/TLS (v4+v6), Linux cooked capture v2" },
	{ "raw", DLT_RAW, LT_RAW, scen_laptop,
	  "laptop DNS/HTTP/TLS (v4+v6), raw IP" },
	{ "watch", DLT_EN10MB, LT_ETH, scen_watch,
	  "two and a half hours of one home, each device misbehaving once (watcher)" },
	{ "ports", DLT_LINUX_SLL2, LT_SLL2, scen_ports,
	  "a plug's MQTT sessions, moved from bridge port 3 to 5 (cooked v2 ifindex)" },
	{ "learnbase", DLT_EN10MB, LT_ETH, scen_learnbase,
	  "forty minutes of camera, plugs, printer, hub: what learn mode learns" },
	{ "learnnew", DLT_EN10MB, LT_ETH, scen_learnnew,
	  "learnbase, and one device doing one new thing (learn round trip)" },
	{ "malformed", DLT_EN10MB, LT_ETH, scen_malformed,
	  "frames each broken in one way, between good flows" },
	{ "bench", DLT_EN10MB, LT_ETH, scen_bench,
	  "--flows short flows of five kinds + --bulk-mb MB in 8 downloads" },
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: pcapgen [--flows N] [--bulk-mb M] [--seed S] [-v] SCENARIO OUT.pcap\n"
		"       pcapgen --list-scenarios\n"
		"\n"
		"  --flows N       bench: short flows (default 20000)\n"
		"  --bulk-mb M     bench: MB (10^6 bytes) of bulk download (default 200)\n"
		"  --seed S        PRNG seed (default 1); same arguments give the same file\n"
		"  -v, --verbose   print packet and byte counts\n"
		"  OUT.pcap        output file, '-' for standard output\n");
}

static int parse_u64(const char *opt, const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	if (*s < '0' || *s > '9')
		goto bad;
	x = strtoull(s, &end, 10);
	if (errno || *end || x > max)
		goto bad;
	*v = x;
	return 0;
bad:
	fprintf(stderr, "pcapgen: %s: expected an integer from 0 to %" PRIu64 ", got '%s'\n",
		opt, max, s);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "flows", required_argument, NULL, 'f' },
		{ "bulk-mb", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 's' },
		{ "list-scenarios", no_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .flows = 20000, .bulk_mb = 200, .seed = 1 };
	const struct scenario *sc = NULL;
	const char *path;
	struct gen g;
	size_t i;
	int c, err, regular;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			/* ports stay distinct up to 4000 clients x 28000 */
			if (parse_u64("--flows", optarg, 100000000, &o.flows))
				return 2;
			break;
		case 'b':
			if (parse_u64("--bulk-mb", optarg, 1000000, &o.bulk_mb))
				return 2;
			break;
		case 's':
			if (parse_u64("--seed", optarg, UINT64_MAX, &o.seed))
				return 2;
			break;
		case 'l':
			for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
				printf("%-10s %s\n", scenarios[i].name, scenarios[i].what);
			return 0;
		case 'v':
			o.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (strcmp(argv[optind], scenarios[i].name) == 0)
			sc = &scenarios[i];
	if (!sc) {
		fprintf(stderr, "pcapgen: unknown scenario '%s' (see --list-scenarios)\n", argv[optind]);
		return 2;
	}
	path = argv[optind + 1];

	memset(&g, 0, sizeof(g));
	g.lt = sc->lt;
	rng_seed(&g.rng, o.seed);
	err = out_open(&g.out, sc->dlt, path);
	if (err) {
		fprintf(stderr, "pcapgen: cannot write %s: %s\n", path, strerror(-err));
		return 1;
	}
	sc->run(&g, &o);
	out_drain(&g.out);
	if (o.verbose)
		fprintf(stderr, "pcapgen: %s: %" PRIu64 " packets, %" PRIu64
			" bytes captured, reorder buffer peak %zu packets\n",
			sc->name, g.out.packets, g.out.bytes, g.out.peak);
	regular = g.out.regular;
	err = out_close(&g.out);
	if (err) {
		fprintf(stderr, "pcapgen: writing %s: %s\n", path, strerror(-err));
		if (regular)
			unlink(path);	/* a truncated capture would pass for a good one */
		return 1;
	}
	return 0;
}
