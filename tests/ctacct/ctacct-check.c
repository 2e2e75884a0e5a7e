/* ctacct-check.c - tests/ctacct/golden.sh's window on daemon/ctacct.
 *
 *   ctacct-check dump FILE
 *	every line of FILE (a /proc/net/nf_conntrack) through
 *	ctacct_parse_line(), one output line each:
 *	  ok|nodata PROTO OSRC OSPORT ODST ODPORT ID OPKTS OBYTES RPKTS RBYTES
 *	  bad LINE
 *	(ports 0 and ID the echo id for ICMP, else ID 0), then
 *	  lines=N bad=N nodata=N
 *   ctacct-check credit PROTO SRC SPORT DST DPORT FILE
 *	tracks the flow SRC:SPORT -> DST:DPORT (SRC the initiator; its key
 *	built by flow_key_from_packet()), polls FILE once, and prints the sum
 *	of the credits and the poll's counters:
 *	  up_bytes=N up_packets=N down_bytes=N down_packets=N matched=N
 *	  lines=N bad=N
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/ctacct.h"
#include "daemon/flow.h"
#include "daemon/packet.h"

static int usage(void)
{
	fprintf(stderr, "usage: ctacct-check dump FILE\n"
			"       ctacct-check credit PROTO SRC SPORT DST DPORT "
			"FILE\n");
	return 2;
}

static void addr(const struct ctacct_line *l, const uint8_t *a, char *buf)
{
	inet_ntop(l->family, a, buf, INET6_ADDRSTRLEN);
}

static int dump(const char *path)
{
	char line[CTACCT_LINE_MAX + 2], s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	unsigned long lines = 0, bad = 0, nodata = 0;
	struct ctacct_line l;
	FILE *f = fopen(path, "r");
	int r;

	if (!f) {
		perror(path);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		lines++;
		r = ctacct_parse_line(line, strlen(line), &l);
		if (r == -EINVAL) {
			bad++;
			printf("bad %s", line);
			continue;
		}
		nodata += r == -ENODATA;
		addr(&l, l.tuple[0].src, s);
		addr(&l, l.tuple[0].dst, d);
		printf("%s %u %s %u %s %u %u %llu %llu %llu %llu\n",
		       r ? "nodata" : "ok", l.ip_proto, s, l.tuple[0].sport, d,
		       l.tuple[0].dport, l.tuple[0].icmp_id,
		       (unsigned long long)l.packets[0],
		       (unsigned long long)l.bytes[0],
		       (unsigned long long)l.packets[1],
		       (unsigned long long)l.bytes[1]);
	}
	fclose(f);
	printf("lines=%lu bad=%lu nodata=%lu\n", lines, bad, nodata);
	return 0;
}

static uint64_t sum[4];

static void add(void *ctx, uint32_t slot, uint64_t ub, uint64_t up,
		uint64_t db, uint64_t dp)
{
	(void)ctx;
	(void)slot;
	sum[0] += ub;
	sum[1] += up;
	sum[2] += db;
	sum[3] += dp;
}

static int credit(char **argv)
{
	struct ctacct_poll_stats st;
	struct flow_key k;
	struct packet p;
	struct ctacct *a;
	FILE *f;
	int side, r;

	memset(&p, 0, sizeof(p));
	p.ip_proto = (uint8_t)atoi(argv[0]);
	p.family = strchr(argv[1], ':') ? AF_INET6 : AF_INET;
	if (inet_pton(p.family, argv[1], p.src) != 1 ||
	    inet_pton(p.family, argv[3], p.dst) != 1)
		return usage();
	p.sport = (uint16_t)atoi(argv[2]);
	p.dport = (uint16_t)atoi(argv[4]);
	side = flow_key_from_packet(&k, &p);
	a = ctacct_new(16);
	if (!a || ctacct_track(a, &k, (uint8_t)side, 1, NULL, NULL)) {
		fprintf(stderr, "ctacct-check: cannot track\n");
		return 1;
	}
	f = fopen(argv[5], "r");
	if (!f) {
		perror(argv[5]);
		return 1;
	}
	r = ctacct_poll(a, f, 0, add, NULL, &st);
	fclose(f);
	ctacct_free(a);
	if (r) {
		fprintf(stderr, "ctacct-check: poll: %s\n", strerror(-r));
		return 1;
	}
	printf("up_bytes=%llu up_packets=%llu down_bytes=%llu "
	       "down_packets=%llu matched=%llu lines=%llu bad=%llu\n",
	       (unsigned long long)sum[0], (unsigned long long)sum[1],
	       (unsigned long long)sum[2], (unsigned long long)sum[3],
	       (unsigned long long)st.matched, (unsigned long long)st.lines,
	       (unsigned long long)st.bad_lines);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "dump"))
		return dump(argv[2]);
	if (argc == 8 && !strcmp(argv[1], "credit"))
		return credit(argv + 2);
	return usage();
}
