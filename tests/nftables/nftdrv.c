/*
 * tests/nftables/nftdrv.c: drives the nftables/ library from the command
 * line for tests/nftables/golden.sh and tests/iptables/golden.sh, which
 * compile it against the nftables/ sources and run it inside scratch network
 * namespaces.  Ruleset operations go through ruleset.h, as the daemon's
 * do; a first argument --backend=nft|iptables|auto picks the backend
 * (default nft).  One operation per run:
 *
 *   nftdrv probe                       prints "native" or "xt" (nft), or
 *                                      "iptables"
 *   nftdrv install [OPTIONS]           OPTIONS: gen=N inspect=N queue=A:COUNT
 *   nftdrv generation [OPTIONS]          kind=auto|native|xt fail-closed
 *                                        bridge=NAME | lan=IF,IF,...
 *                                        trusted=MAC/ADDR (repeatable)
 *                                        observed=MAC/ADDR (repeatable)
 *                                        observe-group=N
 *                                        lanprefix=ADDR/LEN (repeatable)
 *   nftdrv qadd MAC [TIMEOUT_MS]
 *   nftdrv qwait MAC TIMEOUT_MS        adds MAC with a timeout, expires as
 *                                      the daemon does; prints the ms it took
 *   nftdrv qdel MAC
 *   nftdrv expire                      prints how many quarantines ended
 *   nftdrv counters                    prints "NAME<TAB>PACKETS<TAB>BYTES" lines
 *                                      (names may hold spaces: "mark allow")
 *   nftdrv remove
 *   nftdrv dry-run [OPTIONS]           prints the install batch (iptables:
 *                                      the restore input), no kernel
 *   nftdrv sysctl                      prints what the library reads
 *   nftdrv udp-send IP PORT SPORT N    N datagrams, one flow (traffic tests)
 *   nftdrv udp-recv PORT IDLE_MS       prints how many arrived before the
 *                                      line was idle for IDLE_MS
 *   nftdrv tcp-send IP PORT SPORT N    one connection: N small writes, each
 *                                      answered by the server, then close
 *   nftdrv tcp-serve PORT IDLE_MS      serves one connection (echoes each
 *                                      read); prints the bytes read
 *
 * Exit status 0 on success, else 1 with "nftdrv: OP: ERROR (MESSAGE)".
 */
#include "nftables/ipt.h"
#include "nftables/nft.h"
#include "nftables/ruleset.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct ijnft_trusted trusted[IJNFT_MAX_TRUSTED];
static struct ijnft_prefix lanprefix[IJNFT_MAX_LAN];

static int parse_mac(const char *s, uint8_t mac[6]);

/* ADDR into family and addr (16 bytes); -1 if it is neither family. */
static int parse_addr(const char *s, uint8_t *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, s, addr) == 1)
		*family = AF_INET6;
	else
		return -1;
	return 0;
}

/* "HEAD/TAIL": HEAD into head (n bytes), *tail after the slash; -1 if
 * there is no slash or HEAD is too long. */
static int split_slash(const char *s, char *head, size_t n, const char **tail)
{
	const char *slash = strchr(s, '/');

	if (!slash || (size_t)(slash - s) >= n)
		return -1;
	snprintf(head, n, "%.*s", (int)(slash - s), s);
	*tail = slash + 1;
	return 0;
}

static int parse_options(struct ijnft_config *cfg, int argc, char **argv)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = IJNFT_MODE_BRIDGE;
	cfg->n_ifnames = 1;
	strcpy(cfg->ifnames[0], "br-jail");
	cfg->queue_first = 0;
	cfg->queue_count = 2;
	cfg->inspect_packets = 8;
	cfg->generation = 1;
	cfg->queue_kind = IJNFT_QUEUE_AUTO;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		unsigned int x, y;

		if (sscanf(a, "gen=%u", &x) == 1)
			cfg->generation = (uint8_t)x;
		else if (sscanf(a, "observe-group=%u", &x) == 1)
			cfg->observe_group = (uint16_t)x;
		else if (sscanf(a, "inspect=%u", &x) == 1)
			cfg->inspect_packets = x;
		else if (sscanf(a, "queue=%u:%u", &x, &y) == 2) {
			cfg->queue_first = (uint16_t)x;
			cfg->queue_count = (uint16_t)y;
		} else if (!strcmp(a, "kind=auto"))
			cfg->queue_kind = IJNFT_QUEUE_AUTO;
		else if (!strcmp(a, "kind=native"))
			cfg->queue_kind = IJNFT_QUEUE_NATIVE;
		else if (!strcmp(a, "kind=xt"))
			cfg->queue_kind = IJNFT_QUEUE_XT;
		else if (!strcmp(a, "fail-closed"))
			cfg->fail_closed = true;
		else if (!strncmp(a, "bridge=", 7)) {
			cfg->mode = IJNFT_MODE_BRIDGE;
			snprintf(cfg->ifnames[0], IJNFT_IFNAMSIZ, "%s", a + 7);
		} else if (!strncmp(a, "lan=", 4)) {
			char *list = strdup(a + 4), *save = NULL;

			cfg->mode = IJNFT_MODE_ROUTER;
			cfg->n_ifnames = 0;
			for (char *t = strtok_r(list, ",", &save);
			     t && cfg->n_ifnames < IJNFT_MAX_IFNAMES;
			     t = strtok_r(NULL, ",", &save))
				snprintf(cfg->ifnames[cfg->n_ifnames++],
					 IJNFT_IFNAMSIZ, "%s", t);
			free(list);
		} else if ((!strncmp(a, "trusted=", 8) || !strncmp(a, "observed=", 9)) &&
			   cfg->n_trusted < IJNFT_MAX_TRUSTED) {
			struct ijnft_trusted *t = &trusted[cfg->n_trusted];
			const char *addr;
			char mac[32];

			t->observed = a[0] == 'o';
			if (split_slash(strchr(a, '=') + 1, mac, sizeof(mac), &addr) < 0 ||
			    parse_mac(mac, t->mac) < 0 ||
			    parse_addr(addr, &t->family, t->addr) < 0)
				return -1;
			cfg->trusted = trusted;
			cfg->n_trusted++;
		} else if (!strncmp(a, "lanprefix=", 10) && cfg->n_lan < IJNFT_MAX_LAN) {
			struct ijnft_prefix *p = &lanprefix[cfg->n_lan];
			const char *len;
			char addr[64];

			if (split_slash(a + 10, addr, sizeof(addr), &len) < 0 ||
			    parse_addr(addr, &p->family, p->addr) < 0)
				return -1;
			p->len = (uint8_t)atoi(len);
			cfg->lan = lanprefix;
			cfg->n_lan++;
		} else {
			fprintf(stderr, "nftdrv: unknown option %s\n", a);
			return -1;
		}
	}
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int fail(struct ijrs *h, const char *op, int err)
{
	const char *what = ijrs_error_what(h);

	fprintf(stderr, "nftdrv: %s: %s%s%s%s\n", op, strerror(-err),
		what ? " (" : "", what ? what : "", what ? ")" : "");
	return 1;
}

static int udp_send(const char *ip, int port, int sport, int count)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct timespec gap = { .tv_nsec = 2000000 };
	int one = 1;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || inet_pton(AF_INET, ip, &dst.sin_addr) != 1)
		return 1;
	dst.sin_port = htons((uint16_t)port);
	src.sin_port = htons((uint16_t)sport);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
		perror("nftdrv: bind");
		return 1;
	}
	for (int i = 0; i < count; i++) {
		char payload[32];
		int n = snprintf(payload, sizeof(payload), "iotjail %d", i);

		/* Errors are expected when the jail drops: keep sending. */
		sendto(fd, payload, (size_t)n, 0, (struct sockaddr *)&dst,
		       sizeof(dst));
		nanosleep(&gap, NULL);
	}
	close(fd);
	return 0;
}

static int udp_recv(int port, int idle_ms)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = idle_ms / 1000,
			      .tv_usec = (idle_ms % 1000) * 1000 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int count = 0;
	char buf[64];

	addr.sin_port = htons((uint16_t)port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("nftdrv: bind");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (recv(fd, buf, sizeof(buf), 0) >= 0)
		count++;
	printf("%d\n", count);
	close(fd);
	return 0;
}

/* Reads exactly n bytes (or fails). */
static int read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/*
 * One TCP connection from SPORT: N request/response rounds of 16 bytes
 * each way, then close.  Small writes with TCP_NODELAY: every segment
 * carries PSH and payload; the pure ACKs are the handshake's third packet,
 * delayed ACKs and the ACKs of the FIN exchange.
 */
static int tcp_send(const char *ip, int port, int sport, int count)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 2 };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char buf[16];

	if (fd < 0 || inet_pton(AF_INET, ip, &dst.sin_addr) != 1)
		return 1;
	dst.sin_port = htons((uint16_t)port);
	src.sin_port = htons((uint16_t)sport);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
		perror("nftdrv: tcp-send");
		close(fd);
		return 1;
	}
	for (int i = 0; i < count; i++) {
		memset(buf, 'a' + i % 26, sizeof(buf));
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
		    read_full(fd, buf, sizeof(buf)) < 0) {
			perror("nftdrv: tcp-send");
			close(fd);
			return 1;
		}
	}
	close(fd);
	return 0;
}

static int tcp_serve(int port, int idle_ms)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = idle_ms / 1000,
			      .tv_usec = (idle_ms % 1000) * 1000 };
	int one = 1;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	long total = 0;
	char buf[256];
	int fd;

	addr.sin_port = htons((uint16_t)port);
	if (lfd < 0) {
		perror("nftdrv: socket");
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(lfd, 1) < 0) {
		perror("nftdrv: tcp-serve");
		close(lfd);
		return 1;
	}
	/* The accept waits at most IDLE_MS too: a dropped SYN must not hang
	 * the test. */
	setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fd = accept(lfd, NULL, NULL);
	close(lfd);
	if (fd >= 0) {
		ssize_t n;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			total += n;
			if (write(fd, buf, (size_t)n) != n)
				break;
		}
		close(fd);
	}
	printf("%ld\n", total);
	return 0;
}

/* Adds MAC with a timeout, then expires quarantines as the daemon does
 * (once every 100 ms) until it is released; prints after how many ms. */
static int quarantine_wait(struct ijrs *h, const uint8_t mac[6],
			   uint32_t timeout_ms)
{
	struct timespec t0, t, gap = { .tv_nsec = 100000000 };
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = ijrs_quarantine_add(h, mac, timeout_ms);
	while (!ret) {
		long ms;

		nanosleep(&gap, NULL);
		ret = ijrs_expire(h);
		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - t0.tv_sec) * 1000 +
		     (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ret > 0) {
			printf("%ld\n", ms);
			return 0;
		}
		if (ms > (long)timeout_ms + 5000)
			return -ETIMEDOUT;
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct ijnft_config cfg;
	struct ijrs *h = NULL;
	enum ijrs_backend backend = IJRS_NFT;
	const char *op;
	const char *why;
	char open_why[1024];
	uint8_t mac[6];
	int ret = 0;

	if (argc > 1 && !strncmp(argv[1], "--backend=", 10)) {
		if (ijrs_backend_parse(argv[1] + 10, &backend)) {
			fprintf(stderr, "nftdrv: unknown backend %s\n", argv[1] + 10);
			return 2;
		}
		argc--;
		argv++;
	}
	op = argc > 1 ? argv[1] : "";
	if (!strcmp(op, "udp-send") && argc == 6)
		return udp_send(argv[2], atoi(argv[3]), atoi(argv[4]),
				atoi(argv[5]));
	if (!strcmp(op, "udp-recv") && argc == 4)
		return udp_recv(atoi(argv[2]), atoi(argv[3]));
	if (!strcmp(op, "tcp-send") && argc == 6)
		return tcp_send(argv[2], atoi(argv[3]), atoi(argv[4]),
				atoi(argv[5]));
	if (!strcmp(op, "tcp-serve") && argc == 4)
		return tcp_serve(atoi(argv[2]), atoi(argv[3]));
	if (!strcmp(op, "dry-run")) {
		static char buf[65536], text[65536];
		size_t used;

		if (parse_options(&cfg, argc - 2, argv + 2))
			return 2;
		if (backend == IJRS_IPTABLES) {
			for (int f = 0; f < __IJIPT_FAMILY_MAX; f++) {
				ret = ijipt_build_install(&cfg, f, NULL, text,
							  sizeof(text));
				if (ret < 0 || (size_t)ret >= sizeof(text))
					return fail(NULL, op, ret < 0 ? ret : -ENOSPC);
				printf("# %s\n%s", f == IJIPT_IPV4 ? "iptables" :
					"ip6tables", text);
			}
			return 0;
		}
		if (cfg.queue_kind == IJNFT_QUEUE_AUTO)
			cfg.queue_kind = IJNFT_QUEUE_XT;
		if ((ret = ijnft_build_install(&cfg, 1, buf, sizeof(buf),
					       &used)) ||
		    (ret = ijnft_batch_describe(buf, used, text,
						sizeof(text))) < 0)
			return fail(NULL, op, ret);
		fputs(text, stdout);
		return 0;
	}
	if ((ret = ijrs_open(&h, backend, open_why, sizeof(open_why)))) {
		fprintf(stderr, "nftdrv: open: %s (%s)\n", strerror(-ret), open_why);
		return 1;
	}
	if (!strcmp(op, "probe")) {
		if (!(ret = ijrs_probe(h)))
			puts(backend == IJRS_IPTABLES ? "iptables" :
			     strstr(ijrs_describe(h), "native") ? "native" : "xt");
	} else if (!strcmp(op, "install") || !strcmp(op, "generation")) {
		if (parse_options(&cfg, argc - 2, argv + 2)) {
			ijrs_close(h);
			return 2;
		}
		if (ijnft_config_check(&cfg, &why)) {
			fprintf(stderr, "nftdrv: %s: %s\n", op, why);
			ijrs_close(h);
			return 1;
		}
		ret = !strcmp(op, "install") ? ijrs_install(h, &cfg) :
					       ijrs_set_generation(h, &cfg);
	} else if (!strcmp(op, "qadd") && argc >= 3 && !parse_mac(argv[2], mac)) {
		ret = ijrs_quarantine_add(h, mac,
					  argc > 3 ? (uint32_t)atol(argv[3]) : 0);
	} else if (!strcmp(op, "qwait") && argc == 4 && !parse_mac(argv[2], mac)) {
		ret = quarantine_wait(h, mac, (uint32_t)atol(argv[3]));
	} else if (!strcmp(op, "qdel") && argc >= 3 && !parse_mac(argv[2], mac)) {
		ret = ijrs_quarantine_del(h, mac);
	} else if (!strcmp(op, "expire")) {
		if ((ret = ijrs_expire(h)) >= 0) {
			printf("%d\n", ret);
			ret = 0;
		}
	} else if (!strcmp(op, "counters")) {
		struct ijnft_counters c;

		if (!(ret = ijrs_counters(h, &c)))
			for (int i = 0; i < __IJNFT_CTR_MAX; i++)
				printf("%s\t%llu\t%llu\n", ijnft_ctr_name(i),
				       (unsigned long long)c.packets[i],
				       (unsigned long long)c.bytes[i]);
	} else if (!strcmp(op, "remove")) {
		ret = ijrs_remove(h);
	} else if (!strcmp(op, "sysctl")) {
		printf("acct %d bridge-nf %d\n", ijnft_conntrack_acct_enabled(),
		       ijnft_bridge_nf_enabled());
	} else {
		fprintf(stderr, "nftdrv: bad arguments (see the source)\n");
		ijrs_close(h);
		return 2;
	}
	if (ret)
		ret = fail(h, op, ret);
	ijrs_close(h);
	return ret;
}
