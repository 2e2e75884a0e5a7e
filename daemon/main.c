/* main.c - iotjaild: command line, and the only home of process-wide state.
 *
 *   iotjaild --replay CAPTURE... [-c POLICY] [--flows FILE] [--alerts FILE]
 *   iotjaild -t -c POLICY
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/classify.h"
#include "daemon/judge.h"
#include "daemon/log.h"
#include "daemon/replay.h"
#include "policy/policy.h"

static void usage(FILE *out)
{
	fprintf(out,
"usage: iotjaild --replay CAPTURE... [-c POLICY] [--flows FILE] [--alerts FILE]\n"
"                [--inspect N] [--max-flows N] [-q]\n"
"       iotjaild -t -c POLICY\n"
"       iotjaild -V | -h\n"
"\n"
"  --replay          read pcap/pcapng captures through the live pipeline\n"
"  -c, --config F    policy file (YAML)\n"
"  -t, --test        check the policy and exit (0 OK, 1 errors)\n"
"  --flows F         write one JSON object per flow to F ('-' = stdout)\n"
"  --alerts F        write alerts as JSON lines to F ('-' = stdout)\n"
"  --inspect N       packets per flow handed to nDPI at most (1-255, default 8)\n"
"  --max-flows N     flow table capacity (default 65536)\n"
"  -q, --quiet       no per-flow lines on stdout\n"
"  -V, --version     print the version\n");
}

/* Strict unsigned parse: the whole string, in range, or an error. */
static int parse_uint(const char *opt, const char *s, unsigned long min,
		      unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *out < min ||
	    *out > max) {
		fprintf(stderr, "iotjaild: %s: '%s' is not a number from %lu "
			"to %lu\n", opt, s, min, max);
		return -1;
	}
	return 0;
}

static FILE *open_out(const char *path, const char *what)
{
	FILE *f;

	if (!strcmp(path, "-"))
		return stdout;
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "iotjaild: cannot open %s file %s: %s\n", what,
			path, strerror(errno));
	return f;
}

/* Load PATH with the classifier's protocol and category names.  Every
 * message goes to stderr; NULL if the policy has errors. */
static struct policy *load_policy(const char *path)
{
	struct classifier *c = classifier_new();
	struct policy_diag *diag = NULL;
	struct policy_vocab vocab;
	struct policy *p;

	if (!c) {
		fprintf(stderr, "iotjaild: cannot start nDPI to check protocol "
			"names: %s\n", strerror(errno));
		return NULL;
	}
	judge_vocab(c, &vocab);
	p = policy_load(path, &vocab, &diag);
	policy_diag_print(diag, stderr);
	policy_diag_free(diag);
	/* The vocabulary was only needed while loading: names in the policy
	 * are its own copies. */
	classifier_free(c);
	return p;
}

enum { OPT_REPLAY = 256, OPT_FLOWS, OPT_ALERTS, OPT_INSPECT, OPT_MAX_FLOWS };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "replay", no_argument, NULL, OPT_REPLAY },
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "flows", required_argument, NULL, OPT_FLOWS },
		{ "alerts", required_argument, NULL, OPT_ALERTS },
		{ "inspect", required_argument, NULL, OPT_INSPECT },
		{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct replay_opts ro;
	const char *flows_path = NULL, *alerts_path = NULL, *config = NULL;
	bool replay = false, test = false, quiet = false, inspect_set = false;
	struct policy *policy = NULL;
	unsigned long v;
	int ch, rc;

	memset(&ro, 0, sizeof(ro));
	pipeline_config_default(&ro.pipeline);
	log_init(true, false, "iotjaild");
	while ((ch = getopt_long(argc, argv, "c:tqVh", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_REPLAY: replay = true; break;
		case 'c': config = optarg; break;
		case 't': test = true; break;
		case 'q': quiet = true; break;
		case OPT_FLOWS: flows_path = optarg; break;
		case OPT_ALERTS: alerts_path = optarg; break;
		case OPT_INSPECT:
			if (parse_uint("--inspect", optarg, 1, 255, &v) < 0)
				return 2;
			ro.pipeline.inspect_packets = (unsigned)v;
			inspect_set = true;
			break;
		case OPT_MAX_FLOWS:
			if (parse_uint("--max-flows", optarg, 1, 1u << 30, &v) < 0)
				return 2;
			ro.pipeline.flows.max_flows = (uint32_t)v;
			break;
		case 'V':
			printf("iotjaild %s (nDPI %s)\n", IOTJAIL_VERSION,
			       classifier_ndpi_version());
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (test) {
		if (!config) {
			fprintf(stderr, "iotjaild: -t needs -c POLICY\n");
			return 2;
		}
		policy = load_policy(config);
		if (!policy)
			return 1;
		policy_free(policy);
		fprintf(stderr, "configuration OK\n");
		return 0;
	}
	if (!replay) {
		fprintf(stderr, "iotjaild: live mode is not built yet; use "
			"--replay CAPTURE...\n");
		usage(stderr);
		return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "iotjaild: --replay needs at least one capture\n");
		return 2;
	}
	if (config) {
		policy = load_policy(config);
		if (!policy)
			return 1;
		ro.policy = policy;
		/* The policy's inspection budget, unless the command line
		 * says otherwise. */
		if (!inspect_set)
			ro.pipeline.inspect_packets =
				policy_inspect_packets(policy);
	}
	ro.summary = stderr;
	if (flows_path && !(ro.flows_json = open_out(flows_path, "flows")))
		return 1;
	if (alerts_path && !(ro.alerts = open_out(alerts_path, "alerts")))
		return 1;
	if (!quiet && ro.flows_json != stdout && ro.alerts != stdout) {
		ro.flows_text = stdout;
		ro.alerts_text = stdout;
	}
	rc = replay_run(&ro, argv + optind, argc - optind);
	policy_free(policy);
	if (ro.flows_json && ro.flows_json != stdout && fclose(ro.flows_json)) {
		fprintf(stderr, "iotjaild: writing %s: %s\n", flows_path,
			strerror(errno));
		rc = 1;
	}
	if (ro.alerts && ro.alerts != stdout && fclose(ro.alerts)) {
		fprintf(stderr, "iotjaild: writing %s: %s\n", alerts_path,
			strerror(errno));
		rc = 1;
	}
	if (fflush(stdout)) {
		fprintf(stderr, "iotjaild: writing stdout: %s\n",
			strerror(errno));
		rc = 1;
	}
	return rc;
}
