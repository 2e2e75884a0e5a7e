/*
 * netrr: new-flow request/response rates for the live benchmark (bench/live.sh).
 *
 *   netrr server [-4|-6] [-p PORT] [-n NPORTS]
 *   netrr tcp-crr HOST PORT SECONDS [-c CONCURRENCY]
 *   netrr udp-rr  HOST PORT SECONDS [-c CONCURRENCY] [-n NPORTS]
 *
 * Every client transaction is a new flow, because new flows are what an inline
 * jail makes expensive: each is queued to userspace, classified and judged
 * before the kernel keeps its verdict.
 *
 * tcp-crr: connect, send a 64-byte request, read the 64-byte response, close.
 * The client closes with SO_LINGER {1, 0}, i.e. with a RST, so neither side
 * keeps a TIME_WAIT socket and the client never runs out of ports; conntrack
 * takes a SYN on a reset tuple as a new connection.
 *
 * udp-rr: a new socket per transaction, bound to the next source port of the
 * namespace's ip_local_port_range (from a random start) and sent to the next
 * of NPORTS server ports each time that range wraps, so each transaction is
 * a new 5-tuple until all are used (then a warning says so); send 64 bytes,
 * wait up to 200 ms for the echo (else a timeout), close.
 *
 * Both keep CONCURRENCY transactions in flight on one epoll loop, so that the
 * path under test rather than one round trip is the limit.  The server is one
 * epoll loop too.  Exit: 0 figures printed, 1 nothing measured, 2 usage.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define REQ_SIZE 64
#define RESP_SIZE 64
#define DEFAULT_PORT 7007
#define MAX_CONC 1024
#define TCP_TIMEOUT 1.0		/* s; a lost SYN would wait 1 s for its retry anyway */
#define UDP_TIMEOUT 0.2		/* s */
#define MAX_UDP_PORTS 256
#define UDP_TAG (1ULL << 32)	/* in epoll data: a UDP socket, not a connection */

static void usage(FILE *f)
{
	fprintf(f, "usage: netrr server [-4|-6] [-p PORT] [-n NPORTS]\n"
		   "       netrr tcp-crr HOST PORT SECONDS [-c CONCURRENCY]\n"
		   "       netrr udp-rr  HOST PORT SECONDS [-c CONCURRENCY] [-n NPORTS]\n"
		   "  server: TCP on PORT (default %d): %d-byte requests -> %d-byte responses\n"
		   "          until EOF; UDP echo on PORT .. PORT+NPORTS-1 (default 1 port);\n"
		   "          dual stack unless -4 or -6\n"
		   "  CONCURRENCY: transactions in flight, 1-%d (default 4)\n"
		   "  NPORTS: UDP ports, 1-%d: more 5-tuples before any is reused\n",
		DEFAULT_PORT, REQ_SIZE, RESP_SIZE, MAX_CONC, MAX_UDP_PORTS);
}

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("netrr: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(2);
}

static void __attribute__((noreturn)) fatal(const char *what)
{
	fprintf(stderr, "netrr: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* getopt's complaint in our words: the optstrings start with ':', so getopt
 * prints nothing and returns ':' for a missing value. */
static void __attribute__((noreturn)) bad_option(const char *cmd, int opt)
{
	usage_error("%s: %s '-%c'", cmd, opt == ':' ? "missing value for" : "unknown option",
		    optopt);
}

/* All of s as a number in [lo, hi]; an integer unless real. */
static double parse_num(const char *s, double lo, double hi, int real, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi) || (!real && v != (long)v))
		usage_error("%s must be %s in %g-%g (got '%s')", what,
			    real ? "a number" : "an integer", lo, hi, s);
	return v;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Set the port of an IPv4 or IPv6 address; returns the address's length. */
static socklen_t set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET) {
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		return sizeof(struct sockaddr_in);
	}
	((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	return sizeof(struct sockaddr_in6);
}

/* The wildcard address (0.0.0.0 or ::) of family af with port. */
static socklen_t any_addr(struct sockaddr_storage *ss, int af, int port)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = af;
	return set_port(ss, port);
}

/* ------------------------------------------------------------- server --- */

static int server_socket(int ep, int type, int family, int port)
{
	struct sockaddr_storage ss;
	int af = family == 4 ? AF_INET : AF_INET6;
	int fd, one = 1, v6only = family == 6;

	fd = socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fatal("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* by default [::] takes IPv4 too (v4-mapped), whatever bindv6only says */
	if (af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)))
		fatal("IPV6_V6ONLY");
	if (type == SOCK_DGRAM &&
	    (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) ||
	     (af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)))))
		fatal("IP_PKTINFO");
	if (bind(fd, (struct sockaddr *)&ss, any_addr(&ss, af, port)) < 0)
		fatal("bind");
	if (type == SOCK_STREAM && listen(fd, 4096) < 0)
		fatal("listen");
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.u64 = fd | (type == SOCK_DGRAM ? UDP_TAG : 0) };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		fatal("epoll_ctl");
	return fd;
}

static void server_accept(int ep, int lfd, unsigned char *got)
{
	int c;

	while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = c };

		got[c] = 0;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev) < 0)
			close(c);
	}
}

/* One readable connection; got[fd] is all its state: request bytes so far. */
static void server_read(int fd, unsigned char *got)
{
	static const char resp[RESP_SIZE];
	char buf[4096];
	ssize_t r = read(fd, buf, sizeof(buf));
	size_t have;

	if (r < 0 && errno == EAGAIN)
		return;
	if (r <= 0) {		/* EOF, or the client's RST */
		close(fd);
		return;
	}
	/* A response per complete request.  A 64-byte write that does not fit
	 * means the client stopped reading: drop it. */
	for (have = got[fd] + r; have >= REQ_SIZE; have -= REQ_SIZE) {
		if (write(fd, resp, RESP_SIZE) != RESP_SIZE) {
			close(fd);
			return;
		}
	}
	got[fd] = have;
}

/* UDP echo.  The reply leaves from the address the request was sent to, as
 * the client expects: the lab server has several, and the route's preferred
 * source would be another.  IP_PKTINFO / IPV6_PKTINFO as received say so;
 * Linux also takes IP_PKTINFO back on a v4-mapped [::] socket. */
static void server_echo(int fd)
{
	struct sockaddr_storage from;
	char buf[2048], cbuf[256];
	struct iovec iov = { .iov_base = buf };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	for (;;) {
		m.msg_name = &from;
		m.msg_namelen = sizeof(from);
		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		iov.iov_len = sizeof(buf);
		r = recvmsg(fd, &m, 0);
		if (r < 0)
			return;
		iov.iov_len = r;
		sendmsg(fd, &m, 0);
	}
}

static int cmd_server(int argc, char **argv)
{
	int family = 0, port = DEFAULT_PORT, nports = 1, opt, ep, lfd;
	long maxfd = sysconf(_SC_OPEN_MAX);
	unsigned char *got;
	struct epoll_event evs[256];

	while ((opt = getopt(argc, argv, ":46p:n:h")) != -1) {
		switch (opt) {
		case '4': family = 4; break;
		case '6': family = 6; break;
		case 'p': port = parse_num(optarg, 1, 65535, 0, "PORT"); break;
		case 'n': nports = parse_num(optarg, 1, MAX_UDP_PORTS, 0, "NPORTS"); break;
		case 'h': usage(stdout); return 0;
		default: bad_option("server", opt);
		}
	}
	if (optind != argc)
		usage_error("server: unexpected argument '%s'", argv[optind]);
	if (port + nports - 1 > 65535)
		usage_error("server: UDP ports %d-%d beyond 65535", port, port + nports - 1);
	ep = epoll_create1(EPOLL_CLOEXEC);
	got = calloc(maxfd > 0 ? maxfd : 1024, 1);
	if (ep < 0 || !got)
		fatal("server setup");
	lfd = server_socket(ep, SOCK_STREAM, family, port);
	for (int i = 0; i < nports; i++)
		server_socket(ep, SOCK_DGRAM, family, port + i);
	fprintf(stderr, "netrr: serving on %s, tcp port %d, udp ports %d-%d\n",
		family == 4 ? "0.0.0.0" : family == 6 ? "[::] (IPv6 only)" : "[::]", port, port,
		port + nports - 1);

	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);

		if (n < 0 && errno != EINTR)
			fatal("epoll_wait");
		for (int i = 0; i < n; i++) {
			int fd = (int)evs[i].data.u64;

			if (evs[i].data.u64 & UDP_TAG) {
				server_echo(fd);
			} else if (fd == lfd) {
				server_accept(ep, lfd, got);
			} else {
				server_read(fd, got);
			}
		}
	}
}

/* ------------------------------------------------------------- client --- */

enum { IDLE, CONNECTING, WAITING };

struct slot {
	int fd, state;
	size_t done;		/* response bytes so far */
	double deadline;
};

struct client {
	int udp, ep;
	struct sockaddr_storage dst;
	socklen_t dstlen;
	int port_lo, port_hi, next_port;	/* UDP source ports */
	int dport, nports, dport_idx;		/* UDP destination ports */
	unsigned long ports_used, count, errors, timeouts;
	struct slot slots[MAX_CONC];
};

static void slot_close(struct slot *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->state = IDLE;
}

static void slot_fail(struct client *c, struct slot *s)
{
	c->errors++;
	slot_close(s);
}

static void read_port_range(struct client *c)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (!f || fscanf(f, "%d %d", &c->port_lo, &c->port_hi) != 2 ||
	    c->port_lo < 1 || c->port_hi > 65535 || c->port_lo > c->port_hi) {
		c->port_lo = 32768;
		c->port_hi = 60999;
	}
	if (f)
		fclose(f);
	srand((unsigned)(getpid() ^ (unsigned long long)(now() * 1e6)));
	c->next_port = c->port_lo + rand() % (c->port_hi - c->port_lo + 1);
}

/* UDP: bind the next free source port of the range, and move to the next
 * destination port each time the range wraps: a new 5-tuple every time. */
static int bind_next_port(struct client *c, int fd)
{
	struct sockaddr_storage a;

	for (int tries = c->port_lo; tries <= c->port_hi; tries++) {
		int p = c->next_port;

		c->next_port = p + 1;
		if (p == c->port_hi) {
			c->next_port = c->port_lo;
			c->dport_idx = (c->dport_idx + 1) % c->nports;
		}
		c->ports_used++;
		if (bind(fd, (struct sockaddr *)&a, any_addr(&a, c->dst.ss_family, p)) == 0)
			return 0;
		if (errno != EADDRINUSE)
			return -1;
	}
	return -1;
}

static void send_request(struct client *c, struct slot *s, double t)
{
	static const char req[REQ_SIZE];
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = s - c->slots };

	if (send(s->fd, req, REQ_SIZE, MSG_NOSIGNAL) != REQ_SIZE ||
	    epoll_ctl(c->ep, s->state == IDLE ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s->fd, &ev) < 0) {
		slot_fail(c, s);
		return;
	}
	s->state = WAITING;
	s->done = 0;
	s->deadline = t + (c->udp ? UDP_TIMEOUT : TCP_TIMEOUT);
}

static void slot_start(struct client *c, struct slot *s, double t)
{
	static const struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = s - c->slots };

	s->fd = socket(c->dst.ss_family, (c->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK |
		       SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		fatal("socket");
	if (c->udp ? bind_next_port(c, s->fd) < 0
		   : setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst)) < 0) {
		slot_fail(c, s);
		return;
	}
	if (c->udp)
		set_port(&c->dst, c->dport + c->dport_idx);
	if (connect(s->fd, (struct sockaddr *)&c->dst, c->dstlen) == 0)
		send_request(c, s, t);		/* UDP, or TCP over loopback */
	else if (errno != EINPROGRESS || epoll_ctl(c->ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
		slot_fail(c, s);
	else {
		s->state = CONNECTING;
		s->deadline = t + TCP_TIMEOUT;
	}
}

static void slot_event(struct client *c, struct slot *s, double t)
{
	char buf[RESP_SIZE];
	int err = 0;
	socklen_t elen = sizeof(err);
	ssize_t r;

	if (s->state == CONNECTING) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err)
			slot_fail(c, s);
		else
			send_request(c, s, t);
		return;
	}
	r = recv(s->fd, buf, sizeof(buf) - s->done, 0);
	if (r < 0 && errno == EAGAIN)
		return;
	if (r <= 0) {		/* refused (ICMP or RST), or EOF before the whole response */
		slot_fail(c, s);
		return;
	}
	s->done += r;
	if (c->udp || s->done >= RESP_SIZE) {
		c->count++;
		slot_close(s);
	}
}

static int cmd_client(int udp, int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai;
	struct epoll_event evs[MAX_CONC];
	struct client *c;
	double secs, t0, t, end_t;
	int conc = 4, nports = 1, port, opt, rc;

	while ((opt = getopt(argc, argv, udp ? ":c:n:h" : ":c:h")) != -1) {
		switch (opt) {
		case 'c': conc = parse_num(optarg, 1, MAX_CONC, 0, "CONCURRENCY"); break;
		case 'n': nports = parse_num(optarg, 1, MAX_UDP_PORTS, 0, "NPORTS"); break;
		case 'h': usage(stdout); return 0;
		default: bad_option(argv[0], opt);
		}
	}
	if (argc - optind != 3)
		usage_error("%s needs HOST PORT SECONDS", argv[0]);
	port = parse_num(argv[optind + 1], 1, 65535, 0, "PORT");
	if (port + nports - 1 > 65535)
		usage_error("%s: ports %d-%d beyond 65535", argv[0], port, port + nports - 1);
	secs = parse_num(argv[optind + 2], 0.1, 3600, 1, "SECONDS");
	rc = getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai);
	if (rc) {
		fprintf(stderr, "netrr: %s: %s\n", argv[optind], gai_strerror(rc));
		return 1;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		fatal("calloc");
	c->udp = udp;
	c->dport = port;
	c->nports = nports;
	memcpy(&c->dst, ai->ai_addr, ai->ai_addrlen);
	c->dstlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	read_port_range(c);
	c->ep = epoll_create1(EPOLL_CLOEXEC);
	if (c->ep < 0)
		fatal("epoll_create1");
	for (int i = 0; i < conc; i++)
		c->slots[i].fd = -1;

	t0 = t = now();
	end_t = t0 + secs;
	while (t < end_t) {
		double next = end_t;
		int n;

		/* expire, restart, and find the nearest deadline: conc is small */
		for (int i = 0; i < conc; i++) {
			struct slot *s = &c->slots[i];

			if (s->state != IDLE && t >= s->deadline) {
				*(udp ? &c->timeouts : &c->errors) += 1;
				slot_close(s);
			}
			if (s->state == IDLE)
				slot_start(c, s, t);
			if (s->state != IDLE && s->deadline < next)
				next = s->deadline;
		}
		n = epoll_wait(c->ep, evs, conc, (int)((next - t) * 1000) + 1);
		if (n < 0 && errno != EINTR)
			fatal("epoll_wait");
		t = now();
		for (int i = 0; i < n && t < end_t; i++)
			slot_event(c, &c->slots[evs[i].data.u32], t);
	}
	t = now();
	printf("%s %.1f count=%lu errors=%lu timeouts=%lu elapsed=%.3f concurrency=%d\n",
	       udp ? "udp_rr" : "tcp_crr", c->count / (t - t0), c->count, c->errors, c->timeouts,
	       t - t0, conc);
	if (c->ports_used > (unsigned long)(c->port_hi - c->port_lo + 1) * nports)
		fprintf(stderr, "netrr: %s: %lu transactions used all %d source x %d "
			"destination ports: 5-tuples were reused\n", argv[0], c->ports_used,
			c->port_hi - c->port_lo + 1, nports);
	if (!c->count)
		fprintf(stderr, "netrr: %s: no transaction completed\n", argv[0]);
	rc = c->count ? 0 : 1;
	for (int i = 0; i < conc; i++)
		slot_close(&c->slots[i]);
	free(c);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage_error("missing command");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "server"))
		return cmd_server(argc - 1, argv + 1);
	if (!strcmp(argv[1], "tcp-crr") || !strcmp(argv[1], "udp-rr"))
		return cmd_client(argv[1][0] == 'u', argc - 1, argv + 1);
	usage_error("unknown command '%s'", argv[1]);
}
