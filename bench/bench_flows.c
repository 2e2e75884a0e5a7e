/* bench_flows.c - memory per decided flow, and peak RSS with 100 000 live
 * flows, through the real pipeline and nDPI.
 *
 * Each scenario runs in its own child process so its peak RSS is its own.
 * Flows are DNS queries and answers from 100 000 distinct client ports, with
 * 2 000 distinct names (IoT devices talk to few names: the interning of host
 * names is part of what is measured).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/classify.h"
#include "daemon/packet.h"
#include "daemon/pipeline.h"
#include "tests/unit/pktbuild.h"

#define N_FLOWS 100000
#define N_NAMES 2000

static const uint8_t MAC[6] = { 2, 0, 0, 0, 0, 0x10 };

static long peak_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static void dns_packet(struct pb *b, uint32_t i, bool answer)
{
	char ip[32], name[64];
	uint8_t q[128];
	size_t n;

	snprintf(ip, sizeof(ip), "10.%u.%u.%u", 1 + (i >> 16) % 200,
		 (i >> 8) & 0xff, i & 0xff);
	snprintf(name, sizeof(name), "dev%u.vendor-cloud.example",
		 i % N_NAMES);
	n = pb_dns_query(q, (uint16_t)i, name);
	if (answer) {
		static const uint8_t rr[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1,
					      0x2c, 0, 4, 198, 51, 100, 20 };

		q[2] = 0x81;	/* QR, RD */
		q[3] = 0x80;	/* RA */
		q[7] = 1;	/* ANCOUNT */
		memcpy(q + n, rr, sizeof(rr));
		n += sizeof(rr);
	}
	memset(b, 0, sizeof(*b));
	pb_eth(b, MAC, 0x0800);
	if (answer) {
		pb_ipv4(b, "192.168.1.1", ip, 17, 8 + n);
		pb_udp(b, 53, (uint16_t)(1024 + i % 60000), q, n);
	} else {
		pb_ipv4(b, ip, "192.168.1.1", 17, 8 + n);
		pb_udp(b, (uint16_t)(1024 + i % 60000), 53, q, n);
	}
}

/* Run N_FLOWS flows; with ANSWER each gets its answer (and is decided),
 * without, each stays inspecting (worst case: nDPI state for every flow). */
static int scenario(bool answer)
{
	static const struct pipeline_ops ops = { 0 };
	struct pipeline_config cfg;
	struct flow_table_stats ft;
	struct pipeline_stats ps;
	struct pipeline *pl;
	struct packet p;
	struct pb b;
	bool handed;
	uint32_t i;
	long base = peak_rss_kib();

	pipeline_config_default(&cfg);
	cfg.flows.max_flows = N_FLOWS;
	pl = pipeline_new(&cfg, &ops, NULL);
	if (!pl)
		return 1;
	for (i = 0; i < N_FLOWS; i++) {
		dns_packet(&b, i, false);
		packet_parse_link(&p, PACKET_LINK_ETHERNET, b.b, b.len);
		pipeline_packet(pl, &p, 1000000 + i, &handed);
		if (!answer)
			continue;
		dns_packet(&b, i, true);
		packet_parse_link(&p, PACKET_LINK_ETHERNET, b.b, b.len);
		pipeline_packet(pl, &p, 1000000 + i, &handed);
	}
	pipeline_stats(pl, &ps, &ft);
	if (answer) {
		uint64_t hosts = pipeline_host_bytes(pl);
		uint64_t decided = ps.decided[FLOW_BY_CLASSIFIED] +
				   ps.decided[FLOW_BY_LIMIT];

		printf("decided flows: %" PRIu32 " live, %" PRIu64
		       " decided, nDPI states left: %zu\n", ft.active, decided,
		       classifier_live_flows(pipeline_classifier(pl)));
		printf("memory per decided flow: %.1f bytes (record %zu + hash "
		       "%.1f + interned hosts %.1f; target <= 256)\n",
		       (double)(ft.table_bytes + hosts) / ft.capacity,
		       sizeof(struct flow),
		       (double)(ft.table_bytes - ft.capacity *
				sizeof(struct flow)) / ft.capacity,
		       (double)hosts / ft.capacity);
		printf("peak RSS with %d live decided flows: %.1f MiB "
		       "(+%.1f MiB over start-up with nDPI loaded)\n", N_FLOWS,
		       peak_rss_kib() / 1024.0,
		       (peak_rss_kib() - base) / 1024.0);
	} else {
		printf("peak RSS with %d live flows all still inspecting: "
		       "%.1f MiB (nDPI state %zu bytes each while inspecting)\n",
		       N_FLOWS, peak_rss_kib() / 1024.0,
		       classifier_flow_size());
	}
	pipeline_free(pl);
	return 0;
}

static int in_child(bool answer)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		fflush(stdout);
		_exit(scenario(answer));
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	return in_child(true) | in_child(false);
}
