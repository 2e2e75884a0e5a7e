/* main.c - iotjaild: command line, and the only home of process-wide state.
 *
 *   iotjaild -c POLICY --bridge BR | --router --lan IF...   (the daemon)
 *   iotjaild --replay CAPTURE... [-c POLICY] [--flows FILE] [--alerts FILE]
 *   iotjaild --replay CAPTURE... [-c POLICY] --learn --export FILE
 *   iotjaild -t -c POLICY
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/classify.h"
#include "daemon/control.h"
#include "daemon/judge.h"
#include "daemon/learn.h"
#include "daemon/live.h"
#include "daemon/log.h"
#include "daemon/replay.h"
#include "policy/policy.h"

static void usage(FILE *out)
{
	fprintf(out,
"usage: iotjaild -c POLICY (--bridge BR | --router --lan IF [--lan IF]...)\n"
"                [-f] [-d] [-q] [--alerts FILE] [--flows FILE] [--pid-file F]\n"
"                [--workers N] [--queue N] [--fail-closed] [--keep-table]\n"
"                [--classify-all] [--backend auto|nft|iptables]\n"
"                [--quarantine-timeout S] [--inspect N] [--max-flows N]\n"
"                [--alert-risks LIST] [--alerts-max-size MB] [--state FILE]\n"
"                [--control SOCKET] [--control-group GROUP]\n"
"       iotjaild --replay CAPTURE... [-c POLICY] [--flows FILE] [--alerts FILE]\n"
"                [--inspect N] [--max-flows N] [--alert-risks LIST]\n"
"                [--quarantine-timeout S] [-q]\n"
"       iotjaild --replay CAPTURE... [-c POLICY] --learn --export FILE [...]\n"
"       iotjaild -t -c POLICY\n"
"       iotjaild -V | -h\n"
"\n"
"  -c, --config F    policy file (YAML)\n"
"  --bridge BR       jail the devices behind bridge BR (bridge netfilter)\n"
"  --router          jail traffic forwarded to and from the --lan interfaces\n"
"  --lan IF          a LAN interface in router mode (up to 8)\n"
"  -f, --foreground  stay in the foreground, log to stderr (else syslog)\n"
"  -d, --debug       debug messages (implies -f)\n"
"  --pid-file F      pid file (default /run/iotjaild.pid; '' for none)\n"
"  --workers N       queue workers (default: one per CPU)\n"
"  --queue N         first NFQUEUE number (default 0); observed devices'\n"
"                    copies come on NFLOG group N+workers\n"
"  --fail-closed     while the daemon is not running, undecided traffic of\n"
"                    the LAN is dropped (default: it passes)\n"
"  --keep-table      leave the ruleset (nftables table or iptables chains)\n"
"                    in place on exit\n"
"  --backend B       how verdicts are kept in the kernel: nft, iptables\n"
"                    (legacy x_tables, for kernels without nf_tables), or\n"
"                    auto (default: nft if this kernel can, else iptables)\n"
"  --classify-all    inspect every flow up to the budget, also when the\n"
"                    policy's verdict does not depend on what it is\n"
"  --quarantine-timeout S  seconds a quarantine lasts (default 0: until\n"
"                    the daemon restarts or it is removed)\n"
"  --replay          read pcap/pcapng captures through the live pipeline\n"
"  -t, --test        check the policy and exit (0 OK, 1 errors)\n"
"  --flows F         write one JSON object per flow to F ('-' = stdout)\n"
"  --alerts F        write alerts as JSON lines to F ('-' = stdout)\n"
"  --learn           replay: every device in learn mode (without -c, every\n"
"                    LAN endpoint is an undeclared machine); needs --export\n"
"  --export F        replay --learn: write the learnt policy to F ('-' =\n"
"                    stdout) after the last capture (docs/learn.md)\n"
"  --inspect N       packets per flow handed to nDPI at most (1-255,\n"
"                    default: the policy's inspect_packets, else 8)\n"
"  --max-flows N     flow table capacity (per worker; default 65536)\n"
"  --alert-risks L   nDPI flow risks that raise flow_risk: 'default', 'all',\n"
"                    'none', or names separated by commas (docs/alerts.md)\n"
"  --alerts-max-size MB  move the alert log to FILE.1 beyond this size\n"
"  --state F         learnt behaviour and baselines across restarts\n"
"                    (default /var/lib/iotjail/state; '' for none)\n"
"  --control SOCKET  control socket for iotjailctl (default\n"
"                    " CTL_DEFAULT_PATH "; '' for none)\n"
"  --control-group G the socket's group may use it too (mode 0660;\n"
"                    default: root only, 0600)\n"
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

/* Load PATH; every message goes to stderr.  NULL if the policy has errors. */
static struct policy *load_policy(const char *path)
{
	struct policy_diag *diag;
	struct policy *p;

	p = judge_load_policy(path, &diag);
	if (!p && !diag) {
		fprintf(stderr, "iotjaild: cannot start nDPI to check protocol "
			"names: %s\n", strerror(errno));
		return NULL;
	}
	policy_diag_print(diag, stderr);
	policy_diag_free(diag);
	return p;
}

enum {
	OPT_REPLAY = 256, OPT_FLOWS, OPT_ALERTS, OPT_INSPECT, OPT_MAX_FLOWS,
	OPT_BRIDGE, OPT_ROUTER, OPT_LAN, OPT_PID_FILE, OPT_WORKERS, OPT_QUEUE,
	OPT_FAIL_CLOSED, OPT_KEEP_TABLE, OPT_QUARANTINE_TIMEOUT,
	OPT_CLASSIFY_ALL, OPT_ALERT_RISKS, OPT_ALERTS_MAX, OPT_STATE,
	OPT_BACKEND, OPT_LEARN, OPT_EXPORT, OPT_CONTROL, OPT_CONTROL_GROUP,
};

/*
 * The nDPI risks worth an alert by default: attacks, weak or forged
 * crypto, clear-text credentials, software and domains known to be bad.
 * Risks of style (non-standard ports, missing SNI, long certificate
 * validity) are left out: on a LAN of appliances they fire all day.
 * Names as this nDPI spells them; a name it does not know is skipped.
 */
static const char *const default_risks[] = {
	"XSS Attack", "SQL Injection", "RCE Injection",
	"Binary Application Transfer", "Self-signed Certificate",
	"Obsolete TLS Version (1.1 or older)", "Weak TLS Cipher",
	"TLS Expired Certificate", "HTTP Suspicious User-Agent",
	"HTTP Numeric IP Address", "Suspicious DGA Domain name",
	"SMB Insecure Version", "Unsafe Protocol", "Suspicious DNS Traffic",
	"Risky Domain Name", "Possibly Malicious JA3 Fingerprint",
	"Possibly Malicious SSL Cert. SHA1 Fingerprint",
	"Clear-Text Credentials", "Possible Exploit Detected",
};

static int risk_bit(const char *name, size_t len)
{
	unsigned bit;

	for (bit = 0; bit < 64; bit++) {
		const char *n = classifier_risk_name(bit);

		if (n && strlen(n) == len && !strncasecmp(n, name, len))
			return (int)bit;
	}
	return -1;
}

/* LIST: "default", "all", "none" or names separated by commas.  -1 (and a
 * message naming it) for a name this nDPI does not know. */
static int risk_mask(const char *list, uint64_t *out)
{
	const char *p = list, *e;
	size_t i;
	int bit;

	*out = 0;
	if (!strcmp(list, "none"))
		return 0;
	if (!strcmp(list, "all")) {
		for (bit = 0; bit < 64; bit++)
			if (classifier_risk_name((unsigned)bit))
				*out |= 1ULL << bit;
		return 0;
	}
	if (!strcmp(list, "default")) {
		for (i = 0; i < sizeof(default_risks) / sizeof(default_risks[0]); i++)
			if ((bit = risk_bit(default_risks[i], strlen(default_risks[i]))) >= 0)
				*out |= 1ULL << bit;
		return 0;
	}
	for (; *p; p = *e ? e + 1 : e) {
		while (*p == ' ')
			p++;
		e = strchr(p, ',');
		if (!e)
			e = p + strlen(p);
		if ((bit = risk_bit(p, (size_t)(e - p))) < 0) {
			fprintf(stderr, "iotjaild: --alert-risks: nDPI %s has no risk "
				"called '%.*s' (see docs/alerts.md)\n",
				classifier_ndpi_version(), (int)(e - p), p);
			return -1;
		}
		*out |= 1ULL << bit;
	}
	return 0;
}

/* Copy an interface name, refusing what the kernel would refuse. */
static int add_ifname(struct live_opts *lo, const char *opt, const char *name)
{
	if (!*name || strlen(name) >= IJNFT_IFNAMSIZ || strchr(name, '/') ||
	    strchr(name, ' ')) {
		fprintf(stderr, "iotjaild: %s: '%s' is not an interface "
			"name\n", opt, name);
		return -1;
	}
	if (lo->n_ifnames == IJNFT_MAX_IFNAMES) {
		fprintf(stderr, "iotjaild: %s: at most %d interfaces\n", opt,
			IJNFT_MAX_IFNAMES);
		return -1;
	}
	snprintf(lo->ifnames[lo->n_ifnames++], IJNFT_IFNAMSIZ, "%s", name);
	return 0;
}

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
		{ "bridge", required_argument, NULL, OPT_BRIDGE },
		{ "router", no_argument, NULL, OPT_ROUTER },
		{ "lan", required_argument, NULL, OPT_LAN },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, OPT_PID_FILE },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ "queue", required_argument, NULL, OPT_QUEUE },
		{ "fail-closed", no_argument, NULL, OPT_FAIL_CLOSED },
		{ "keep-table", no_argument, NULL, OPT_KEEP_TABLE },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "classify-all", no_argument, NULL, OPT_CLASSIFY_ALL },
		{ "quarantine-timeout", required_argument, NULL,
		  OPT_QUARANTINE_TIMEOUT },
		{ "alert-risks", required_argument, NULL, OPT_ALERT_RISKS },
		{ "alerts-max-size", required_argument, NULL, OPT_ALERTS_MAX },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "learn", no_argument, NULL, OPT_LEARN },
		{ "export", required_argument, NULL, OPT_EXPORT },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "control-group", required_argument, NULL, OPT_CONTROL_GROUP },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct replay_opts ro;
	struct live_opts lo;
	bool bridge = false, router = false, debug = false;
	const char *flows_path = NULL, *alerts_path = NULL, *config = NULL;
	const char *export_path = NULL;
	bool replay = false, test = false, quiet = false, inspect_set = false;
	bool learn = false;
	const char *risks = "default";
	struct policy *policy = NULL;
	unsigned long v;
	int ch, rc;

	memset(&ro, 0, sizeof(ro));
	pipeline_config_default(&ro.pipeline);
	watch_config_default(&ro.watch);
	memset(&lo, 0, sizeof(lo));
	lo.pid_file = "/run/iotjaild.pid";
	lo.state_path = "/var/lib/iotjail/state";
	lo.control_path = CTL_DEFAULT_PATH;
	log_init(true, false, "iotjaild");
	while ((ch = getopt_long(argc, argv, "c:tqfdVh", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_BRIDGE:
			bridge = true;
			lo.mode = IJNFT_MODE_BRIDGE;
			if (lo.n_ifnames) {
				fprintf(stderr, "iotjaild: one --bridge only\n");
				return 2;
			}
			if (add_ifname(&lo, "--bridge", optarg) < 0)
				return 2;
			break;
		case OPT_ROUTER:
			router = true;
			lo.mode = IJNFT_MODE_ROUTER;
			break;
		case OPT_LAN:
			if (add_ifname(&lo, "--lan", optarg) < 0)
				return 2;
			break;
		case 'f': lo.foreground = true; break;
		case 'd': lo.foreground = debug = true; break;
		case OPT_PID_FILE: lo.pid_file = optarg; break;
		case OPT_FAIL_CLOSED: lo.fail_closed = true; break;
		case OPT_KEEP_TABLE: lo.keep_table = true; break;
		case OPT_BACKEND:
			if (ijrs_backend_parse(optarg, &lo.backend) < 0) {
				fprintf(stderr, "iotjaild: --backend: '%s' is not "
					"auto, nft or iptables\n", optarg);
				return 2;
			}
			break;
		case OPT_CLASSIFY_ALL: lo.classify_all = true; break;
		case OPT_WORKERS:
			if (parse_uint("--workers", optarg, 1, 16, &v) < 0)
				return 2;
			lo.workers = (unsigned)v;
			break;
		case OPT_QUEUE:
			if (parse_uint("--queue", optarg, 0, 65535, &v) < 0)
				return 2;
			lo.queue_first = (uint16_t)v;
			break;
		case OPT_QUARANTINE_TIMEOUT:
			if (parse_uint("--quarantine-timeout", optarg, 0,
				       86400 * 49, &v) < 0)
				return 2;
			lo.quarantine_timeout_ms = (uint32_t)v * 1000;
			ro.quarantine_timeout_ms = lo.quarantine_timeout_ms;
			break;
		case OPT_ALERT_RISKS: risks = optarg; break;
		case OPT_ALERTS_MAX:
			if (parse_uint("--alerts-max-size", optarg, 1, 1u << 20, &v) < 0)
				return 2;
			lo.alerts_max_bytes = (uint64_t)v << 20;
			break;
		case OPT_STATE: lo.state_path = optarg; break;
		case OPT_CONTROL: lo.control_path = optarg; break;
		case OPT_CONTROL_GROUP: lo.control_group = optarg; break;
		case OPT_REPLAY: replay = true; break;
		case 'c': config = optarg; break;
		case 't': test = true; break;
		case 'q': quiet = true; break;
		case OPT_FLOWS: flows_path = optarg; break;
		case OPT_ALERTS: alerts_path = optarg; break;
		case OPT_LEARN: learn = true; break;
		case OPT_EXPORT: export_path = optarg; break;
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
	if (risk_mask(risks, &ro.watch.risk_mask) < 0)
		return 2;
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
	if (!replay && (learn || export_path)) {
		fprintf(stderr, "iotjaild: --learn and --export are for --replay "
			"(the daemon learns with iotjailctl learn start)\n");
		return 2;
	}
	if (!replay) {
		if (!config) {
			fprintf(stderr, "iotjaild: the daemon needs -c POLICY\n");
			usage(stderr);
			return 2;
		}
		if (bridge == router || (bridge && lo.n_ifnames != 1) ||
		    (router && !lo.n_ifnames)) {
			fprintf(stderr, "iotjaild: say where to jail: --bridge BR, "
				"or --router with at least one --lan IF\n");
			return 2;
		}
		if (optind < argc) {
			fprintf(stderr, "iotjaild: unexpected argument '%s'\n",
				argv[optind]);
			return 2;
		}
		lo.config = config;
		lo.pipeline = ro.pipeline;
		lo.watch = ro.watch;
		lo.inspect_set = inspect_set;
		lo.alerts_path = alerts_path;
		lo.flows_path = flows_path;
		lo.text = lo.foreground && !quiet;
		log_init(true, debug, "iotjaild");
		return live_run(&lo);
	}
	if (optind >= argc) {
		fprintf(stderr, "iotjaild: --replay needs at least one capture\n");
		return 2;
	}
	if (learn != (export_path != NULL)) {
		fprintf(stderr, "iotjaild: --learn and --export FILE go together: "
			"learn from the captures, write the policy to FILE\n");
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
	if (learn) {
		/* every device learns; without -c, every LAN endpoint is an
		 * undeclared machine */
		if (!policy && !(policy = replay_empty_policy())) {
			fprintf(stderr, "iotjaild: --learn: %s\n", strerror(errno));
			return 1;
		}
		policy_set_learn(policy, NULL);
		ro.policy = policy;
		if (!(ro.learn = learn_new())) {
			fprintf(stderr, "iotjaild: --learn: %s\n", strerror(errno));
			return 1;
		}
		if (!(ro.export = open_out(export_path, "export")))
			return 1;
	}
	ro.summary = stderr;
	if (flows_path && !(ro.flows_json = open_out(flows_path, "flows")))
		return 1;
	if (alerts_path && !(ro.alerts = open_out(alerts_path, "alerts")))
		return 1;
	if (!quiet && ro.flows_json != stdout && ro.alerts != stdout &&
	    ro.export != stdout) {
		ro.flows_text = stdout;
		ro.alerts_text = stdout;
	}
	rc = replay_run(&ro, argv + optind, argc - optind);
	learn_free(ro.learn);
	policy_free(policy);
	if (ro.export && ro.export != stdout && fclose(ro.export)) {
		fprintf(stderr, "iotjaild: writing %s: %s\n", export_path,
			strerror(errno));
		rc = 1;
	}
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
