/* iotjailctl - the control socket's client (docs/control.md).
 *
 * Thin on purpose: it turns the command line into one JSON request, sends
 * it, and prints the one JSON reply, as a table for people or as it came
 * (--json) for scripts.  Everything it shows, the daemon computed.
 *
 * Exit status: 0 done; 1 the daemon refused or failed (its message on
 * stderr); 2 usage; 3 the daemon cannot be reached.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/json.h"

#define DEFAULT_SOCKET	"/run/iotjail.sock"
#define REPLY_MAX	(256u << 20)

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

static void usage(FILE *out)
{
	fprintf(out,
"usage: iotjailctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
"\n"
"  status                       the daemon: version, uptime, mode, queues,\n"
"                               counters, policy and generation, backend\n"
"  devices [DEVICE]             inventory: declared and seen devices, their\n"
"                               addresses, port, mode, services and bytes\n"
"  flows [--device D] [--proto P] [-n N]\n"
"                               recently decided flows (default 50)\n"
"  alerts [-n N] [-f|--follow]  the last alerts (default 20); -f: then new\n"
"                               ones as they come, until interrupted\n"
"  reload                       check the policy file again and apply it\n"
"  quarantine DEVICE [--for DURATION]\n"
"                               cut a device off (a declared name or a MAC;\n"
"                               DURATION like 90s, 30m, 1h30m, 2d)\n"
"  release DEVICE               end a quarantine\n"
"  learn start|stop [DEVICE]    learn mode at run time (all devices without\n"
"                               DEVICE); start begins afresh\n"
"  export [DEVICE]              a YAML policy of what was learnt, on stdout\n"
"  metrics                      counters in Prometheus text format\n"
"\n"
"  -s, --socket PATH  the daemon's socket (default " DEFAULT_SOCKET ")\n"
"  --json             print the daemon's JSON reply as it is\n"
"  -h, --help         this text\n"
"\n"
"Exit status: 0 done, 1 the daemon refused, 2 usage, 3 the daemon cannot be\n"
"reached.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "iotjailctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(iotjailctl --help for usage)\n");
	return EXIT_USAGE;
}

/* "90", "90s", "30m", "1h30m", "2d" -> seconds; -1 if malformed. */
static long long parse_duration(const char *s)
{
	long long total = 0, v, mult;
	char *end;

	if (!*s)
		return -1;
	while (*s) {
		if (*s < '0' || *s > '9')
			return -1;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno)
			return -1;
		switch (*end) {
		case '\0': mult = 1; break;
		case 's': mult = 1; end++; break;
		case 'm': mult = 60; end++; break;
		case 'h': mult = 3600; end++; break;
		case 'd': mult = 86400; end++; break;
		default: return -1;
		}
		if (v > (1LL << 40) / mult)
			return -1;
		total += v * mult;
		s = end;
	}
	return total;
}

static int parse_count(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > 10000)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* ---- talking to the daemon ------------------------------------------------ */

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "iotjailctl: socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		if (e == ENOENT || e == ECONNREFUSED)
			fprintf(stderr, "iotjailctl: iotjaild is not running (nothing "
				"listens on %s)\n", path);
		else if (e == EACCES || e == EPERM)
			fprintf(stderr, "iotjailctl: %s: permission denied (root, or "
				"the daemon's --control-group)\n", path);
		else
			fprintf(stderr, "iotjailctl: %s: %s\n", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct reader {
	int fd;
	char *buf;
	size_t len, cap;
};

/* The next line (without its newline) into *LINE, valid until the next
 * call; 0 at end of stream, -1 on error. */
static int read_line(struct reader *r, char **line, size_t *len)
{
	char *nl;
	ssize_t n;

	for (;;) {
		nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
		if (nl) {
			*nl = '\0';
			*line = r->buf;
			*len = (size_t)(nl - r->buf);
			return 1;
		}
		if (r->len + 65536 > r->cap) {
			size_t nc = r->cap ? r->cap * 2 : 65536 * 2;
			char *np;

			if (nc > REPLY_MAX)
				return -1;
			np = realloc(r->buf, nc);
			if (!np)
				return -1;
			r->buf = np;
			r->cap = nc;
		}
		n = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -1;
		r->len += (size_t)n;
	}
}

/* Drop the line read_line() returned last. */
static void consume_line(struct reader *r, size_t len)
{
	memmove(r->buf, r->buf + len + 1, r->len - len - 1);
	r->len -= len + 1;
}

/* ---- printing ------------------------------------------------------------- */

/* The daemon's JSON writer escapes every byte >= 0x80 as \u00XX; the reader
 * makes U+0080..U+00FF of them.  Back to the bytes they were, in place. */
static void bytes_back(char *s)
{
	unsigned char *r = (unsigned char *)s, *w = r;

	while (*r) {
		if ((r[0] == 0xc2 || r[0] == 0xc3) && (r[1] & 0xc0) == 0x80) {
			*w++ = (unsigned char)(((r[0] & 0x03) << 6) | (r[1] & 0x3f));
			r += 2;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

static const char *str(const struct json_value *o, const char *key)
{
	return json_get_str(o, key, "-");
}

static uint64_t num(const struct json_value *o, const char *key)
{
	double v = json_get_num(o, key, 0);

	return v > 0 ? (uint64_t)v : 0;
}

static void human_bytes(uint64_t b, char *buf, size_t n)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static void human_time(uint64_t secs, char *buf, size_t n)
{
	time_t t = (time_t)secs;
	struct tm tm;

	if (!secs || !localtime_r(&t, &tm)) {
		snprintf(buf, n, "-");
		return;
	}
	strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static void human_span(uint64_t s, char *buf, size_t n)
{
	if (s >= 86400)
		snprintf(buf, n, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, n, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, n, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
}

static void print_status(const struct json_value *r)
{
	const struct json_value *pol = json_get(r, "policy"), *ln = json_get(r, "learn"),
		*q = json_get(r, "queues"), *k = json_get(r, "kernel_packets"),
		*al = json_get(r, "alerts"), *ifs = json_get(r, "interfaces"), *v;
	char up[32];
	size_t i;

	human_span(num(r, "uptime_s"), up, sizeof(up));
	printf("iotjaild %s, pid %" PRIu64 ", up %s, %s", str(r, "version"),
	       num(r, "pid"), up, str(r, "mode"));
	for (i = 0; ifs && i < ifs->n; i++)
		printf(" %s", ifs->items[i].str ? ifs->items[i].str : "?");
	printf(", fail-%s\n", str(r, "failure"));
	printf("kernel: %s\n", str(r, "kernel"));
	printf("policy: %s, generation %" PRIu64 ", %" PRIu64 " devices, inspect %"
	       PRIu64 " packets\n", str(pol, "file"), num(pol, "generation"),
	       num(pol, "devices"), num(pol, "inspect_packets"));
	v = json_get(ln, "devices");
	printf("learning: %s", json_get(ln, "all") && json_get(ln, "all")->b ? "all devices" :
	       v && v->n ? "" : "none");
	for (i = 0; v && i < v->n; i++)
		printf("%s%s", i ? ", " : "", v->items[i].str ? v->items[i].str : "?");
	printf("\n");
	for (i = 0; q && i < q->n; i++) {
		const struct json_value *e = &q->items[i];

		printf("queue %" PRIu64 ": %" PRIu64 " packets, %" PRIu64 " flows decided, %"
		       PRIu64 "/%" PRIu64 " flows in the table, %" PRIu64 " refused, %"
		       PRIu64 " overruns\n", num(e, "queue"), num(e, "packets"),
		       num(e, "flows_decided"), num(e, "flows_active"), num(e, "flow_capacity"),
		       num(e, "dropped"), num(e, "receive_overruns"));
	}
	if (k) {
		printf("kernel packets:");
		for (i = 0; i < k->n; i++)
			printf("%s %s %" PRIu64, i ? "," : "", k->keys[i],
			       k->items[i].num > 0 ? (uint64_t)k->items[i].num : 0);
		printf("\n");
	}
	printf("alerts: %" PRIu64 " written, %" PRIu64 " suppressed, %" PRIu64
	       " write errors\n", num(al, "written"), num(al, "suppressed"),
	       num(al, "write_errors"));
}

/* A counter of O (a device's "flows" object), or "-" without one. */
static void count_str(const struct json_value *o, const char *key, char *buf, size_t n)
{
	if (o)
		snprintf(buf, n, "%" PRIu64, num(o, key));
	else
		snprintf(buf, n, "-");
}

static void print_devices(const struct json_value *r)
{
	const struct json_value *d = json_get(r, "devices");
	char seen[32], up[16], down[16], nf[24], nd[24], na[24];
	size_t i, k;

	printf("%-22s %-8s %-14s %-17s %-16s %-8s %-19s %7s %6s %6s\n", "NAME", "MODE",
	       "PROFILE", "MAC", "IP", "PORT", "LAST SEEN", "FLOWS", "DENIED", "ALERTS");
	for (i = 0; d && i < d->n; i++) {
		const struct json_value *e = &d->items[i], *fl = json_get(e, "flows"),
			*sv = json_get(e, "services");
		const char *ip = json_get_str(e, "ipv4", NULL);

		human_time(num(e, "last_seen"), seen, sizeof(seen));
		if (!ip)
			ip = json_get_str(e, "ipv6", "-");
		count_str(fl, "flows", nf, sizeof(nf));
		count_str(fl, "denied", nd, sizeof(nd));
		count_str(fl, "alerts", na, sizeof(na));
		printf("%-22s %-8s %-14s %-17s %-16s %-8s %-19s %7s %6s %6s%s\n",
		       str(e, "name"), str(e, "policy_mode"), str(e, "profile"),
		       json_get_str(e, "mac", json_get_str(e, "declared_mac", "-")), ip,
		       str(e, "port"), seen, nf, nd, na,
		       json_get(e, "quarantined") && json_get(e, "quarantined")->b ?
		       "  QUARANTINED" : "");
		for (k = 0; sv && k < sv->n; k++) {
			human_bytes(num(&sv->items[k], "up"), up, sizeof(up));
			human_bytes(num(&sv->items[k], "down"), down, sizeof(down));
			printf("    %-3s %-40s up %10s  down %10s\n", str(&sv->items[k], "role"),
			       str(&sv->items[k], "service"), up, down);
		}
	}
}

static void print_flow(const struct json_value *e)
{
	char when[32], src[80], dst[80];

	human_time(num(e, "time"), when, sizeof(when));
	snprintf(src, sizeof(src), "%s:%" PRIu64, str(e, "src_ip"), num(e, "src_port"));
	snprintf(dst, sizeof(dst), "%s:%" PRIu64, str(e, "dst_ip"), num(e, "dst_port"));
	printf("%-19s %-5s %-14s %-22s -> %-14s %-22s %-16s %-28s %s\n", when, str(e, "l4"),
	       json_get_str(e, "src_device", "-"), src, json_get_str(e, "dst_device", "-"),
	       dst, str(e, "app_proto"), str(e, "host"), str(e, "verdict"));
}

static void print_flows(const struct json_value *r)
{
	const struct json_value *f = json_get(r, "flows");
	size_t i;

	printf("%-19s %-5s %-14s %-22s    %-14s %-22s %-16s %-28s %s\n", "DECIDED", "L4",
	       "FROM", "", "TO", "", "PROTOCOL", "HOST", "VERDICT");
	for (i = 0; f && i < f->n; i++)
		print_flow(&f->items[i]);
}

static void print_alert(const struct json_value *a)
{
	const struct json_value *dev = json_get(a, "device");
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", str(a, "message"));
	bytes_back(msg);
	printf("%s %-8s %-26s %-16s %s\n", str(a, "timestamp"), str(a, "severity"),
	       str(a, "event_type"), dev ? str(dev, "name") : "-", msg);
}

static void print_reply(const char *cmd, const struct json_value *r)
{
	const struct json_value *v;
	size_t i;

	if (!strcmp(cmd, "status")) {
		print_status(r);
	} else if (!strcmp(cmd, "devices")) {
		print_devices(r);
	} else if (!strcmp(cmd, "flows")) {
		print_flows(r);
	} else if (!strcmp(cmd, "alerts")) {
		v = json_get(r, "alerts");
		for (i = 0; v && i < v->n; i++)
			print_alert(&v->items[i]);
	} else if (!strcmp(cmd, "metrics") || !strcmp(cmd, "export")) {
		char *t = (char *)json_get_str(r, "text", "");

		bytes_back(t);
		fputs(t, stdout);
	} else if (!strcmp(cmd, "reload")) {
		v = json_get(r, "messages");
		for (i = 0; v && i < v->n; i++)
			printf("%s\n", v->items[i].str ? v->items[i].str : "?");
		printf("%s: generation %" PRIu64 "\n",
		       json_get(r, "changed") && json_get(r, "changed")->b ? "reloaded"
		       : "unchanged", num(r, "generation"));
	} else if (!strcmp(cmd, "quarantine") || !strcmp(cmd, "release")) {
		printf("%s (%s) %s", str(r, "device"), str(r, "mac"),
		       !strcmp(cmd, "release") ? "released\n" : "quarantined");
		if (!strcmp(cmd, "quarantine"))
			printf(num(r, "for_s") ? " for %" PRIu64 " s\n" : " until released\n",
			       num(r, "for_s"));
	} else if (!strcmp(cmd, "learn")) {
		v = json_get(json_get(r, "learning"), "devices");
		printf("learning: %s", json_get(json_get(r, "learning"), "all") &&
		       json_get(json_get(r, "learning"), "all")->b ? "all devices" :
		       v && v->n ? "" : "none");
		for (i = 0; v && i < v->n; i++)
			printf("%s%s", i ? ", " : "", v->items[i].str ? v->items[i].str : "?");
		printf(" (generation %" PRIu64 ")\n", num(r, "generation"));
		if (json_get_str(r, "note", NULL))
			printf("note: %s\n", json_get_str(r, "note", ""));
	}
}

/* ---- main ----------------------------------------------------------------- */

/* The request for ARGV (the command and its arguments) into J; exit status
 * on a usage error, else 0. */
static int build_request(int argc, char **argv, struct jbuf *j, bool *follow)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'D' },
		{ "proto", required_argument, NULL, 'P' },
		{ "follow", no_argument, NULL, 'f' },
		{ "for", required_argument, NULL, 'F' },
		{ 0, 0, 0, 0 },
	};
	const char *cmd = argv[0], *device = NULL, *proto = NULL, *dur = NULL;
	uint32_t lines = 0;
	bool has_lines = false;
	long long secs;
	int c;

	optind = 0;	/* glibc: start a new scan, on a new argv */
	while ((c = getopt_long(argc, argv, "n:f", opts, NULL)) != -1) {
		switch (c) {
		case 'D': device = optarg; break;
		case 'P': proto = optarg; break;
		case 'f': *follow = true; break;
		case 'F': dur = optarg; break;
		case 'n':
			if (parse_count(optarg, &lines) < 0)
				return usage_error("-n: '%s' is not a number from 0 to 10000", optarg);
			has_lines = true;
			break;
		default:
			return usage_error("bad option for '%s'", cmd);
		}
	}
	json_begin(j);
	if (!strcmp(cmd, "learn")) {
		if (optind >= argc || (strcmp(argv[optind], "start") && strcmp(argv[optind], "stop")))
			return usage_error("%s: learn start|stop [DEVICE]", cmd);
		json_str(j, "cmd", "learn");
		json_str(j, "action", argv[optind++]);
	} else {
		json_str(j, "cmd", cmd);
	}
	if (optind < argc && !device)
		device = argv[optind++];
	if (optind < argc)
		return usage_error("too many arguments: '%s'", argv[optind]);
	if (device)
		json_str(j, "device", device);
	if (proto)
		json_str(j, "proto", proto);
	if (has_lines)
		json_u64(j, "lines", lines);
	if (*follow)
		json_bool(j, "follow", true);
	if (dur) {
		if ((secs = parse_duration(dur)) < 0)
			return usage_error("--for: '%s' is not a duration (90s, 30m, 1h30m, 2d)", dur);
		json_u64(j, "for", (uint64_t)secs);
	}
	json_end(j);
	/* The daemon checks which arguments each command takes, and says. */
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *path = DEFAULT_SOCKET, *cmd;
	struct reader rd = { .fd = -1 };
	struct json_value *reply;
	struct jbuf req;
	char err[128], *line;
	size_t len;
	bool json = false, follow = false;
	int c, status = 0;

	while ((c = getopt_long(argc, argv, "+s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	jbuf_init(&req);
	if ((status = build_request(argc - optind, argv + optind, &req, &follow)) != 0)
		goto out;
	if (!jbuf_ok(&req)) {
		fprintf(stderr, "iotjailctl: out of memory\n");
		status = EXIT_REFUSED;
		goto out;
	}
	rd.fd = connect_to(path);
	if (rd.fd < 0) {
		status = EXIT_UNREACHABLE;
		goto out;
	}
	req.p[req.len] = '\n';	/* the writer keeps room for its NUL */
	if (send_all(rd.fd, req.p, req.len + 1) < 0 || read_line(&rd, &line, &len) <= 0) {
		fprintf(stderr, "iotjailctl: the daemon closed the connection without "
			"a reply\n");
		status = EXIT_UNREACHABLE;
		goto out;
	}
	reply = json_parse(line, len, 64, err, sizeof(err));
	if (!reply || reply->type != JSON_OBJECT || !json_get(reply, "ok")) {
		fprintf(stderr, "iotjailctl: unreadable reply (%s)\n", reply ? "no \"ok\"" : err);
		json_value_free(reply);
		status = EXIT_REFUSED;
		goto out;
	}
	if (!json_get(reply, "ok")->b) {
		fprintf(stderr, "iotjailctl: %s\n", json_get_str(reply, "error", "refused"));
		if (json)
			printf("%s\n", line);
		status = EXIT_REFUSED;
	} else if (json) {
		printf("%s\n", line);
	} else {
		print_reply(cmd, reply);
	}
	/* reload's errors: the checker's messages explain the refusal */
	if (status && !json && json_get(reply, "messages")) {
		const struct json_value *m = json_get(reply, "messages");
		size_t i;

		for (i = 0; i < m->n; i++)
			fprintf(stderr, "%s\n", m->items[i].str ? m->items[i].str : "?");
	}
	json_value_free(reply);
	consume_line(&rd, len);
	fflush(stdout);
	/* alerts -f: one alert per line until the daemon or the user ends it */
	while (!status && follow && read_line(&rd, &line, &len) > 0) {
		if (json) {
			printf("%s\n", line);
		} else if ((reply = json_parse(line, len, 64, err, sizeof(err)))) {
			print_alert(reply);
			json_value_free(reply);
		}
		fflush(stdout);
		consume_line(&rd, len);
	}
out:
	if (rd.fd >= 0)
		close(rd.fd);
	free(rd.buf);
	jbuf_free(&req);
	return status;
}
