/* live.c - the running daemon: set-up, main loop, reload, clean exit. */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "daemon/alerts.h"
#include "daemon/ctacct.h"
#include "daemon/devview.h"
#include "daemon/judge.h"
#include "daemon/learn.h"
#include "daemon/statefile.h"
#include "daemon/live.h"
#include "daemon/live-int.h"
#include "daemon/json.h"
#include "daemon/ring.h"
#include "daemon/log.h"
#include "daemon/watch.h"
#include "daemon/worker.h"
#include "nftables/ruleset.h"
#include "policy/policy.h"

#define ACCT_INTERVAL_MS	5000	/* conntrack accounting read */
#define STATE_INTERVAL_MS	300000	/* state file written */
#define ACCT_FLOWS		262144	/* decided flows tracked at once */
#define CONNTRACK_PROC		"/proc/net/nf_conntrack"
#define RECENT_ALERTS		1024	/* kept for `iotjailctl alerts` */
#define RECENT_FLOWS		1024	/* kept for `iotjailctl flows` */

/* --- the policy ---------------------------------------------------------- */

/* FNV-1a of the policy file's bytes: the same file gives the same
 * generation, so a restart with an unchanged policy keeps the verdicts
 * already in conntrack, and a changed one re-judges them. */
static int file_hash(const char *path, uint64_t *out)
{
	uint64_t h = 0xcbf29ce484222325ull;
	unsigned char buf[8192];
	size_t n, i;
	FILE *f = fopen(path, "rb");

	if (!f)
		return -errno;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		for (i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ull;
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*out = h;
	return 0;
}

/* Every message of a policy check through the log (syslog when detached),
 * and into MSGS (an open JSON array) for a control client if not NULL. */
static void log_diag(const struct policy_diag *d, struct jbuf *msgs)
{
	struct policy_diag_msg m;
	char line[1024];
	unsigned i;

	for (i = 0; i < policy_diag_total(d); i++) {
		if (policy_diag_get(d, i, &m) < 0)
			break;
		if (m.line)
			snprintf(line, sizeof(line), "%s:%u:%u: %s: %s", m.file,
				 m.line, m.col, m.severity == POLICY_ERROR ?
				 "error" : "warning", m.text);
		else
			snprintf(line, sizeof(line), "%s: %s: %s", m.file,
				 m.severity == POLICY_ERROR ? "error" : "warning",
				 m.text);
		log_warnx("%s", line);
		if (msgs)
			json_str(msgs, NULL, line);
	}
}

static void gen_free(struct live_gen *g)
{
	if (!g)
		return;
	devview_free(g->view);
	policy_free(g->policy);
	free(g);
}

static bool policy_rejects(const struct policy *p)
{
	size_t i;

	if (policy_device_deny_with(policy_unknown_device(p)) == POLICY_DENY_REJECT)
		return true;
	for (i = 0; i < policy_device_count(p); i++)
		if (policy_device_deny_with(policy_device_at(p, i)) ==
		    POLICY_DENY_REJECT)
			return true;
	return false;
}

/*
 * The kernel's answers to rejected packets (TCP resets, ICMP errors) come
 * from this namespace's own IP stack, which routes them: a bridge without
 * an address of a family cannot answer for that family, and such packets
 * are only dropped.  The daemon's own refusals (rewritten packets) need no
 * address.  Say so once per load rather than let "reject" silently be
 * "drop".
 */
static void check_reject_answers(const struct live *l, const struct policy *p)
{
	struct ifaddrs *ifa, *i;
	bool v4 = false, v6 = false;

	if (l->o->mode != IJNFT_MODE_BRIDGE || !policy_rejects(p))
		return;
	if (getifaddrs(&ifa) < 0) {
		log_warn("deny_with: reject: cannot list addresses");
		return;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, l->o->ifnames[0]))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			v4 = true;
		else if (i->ifa_addr->sa_family == AF_INET6 &&
			 !IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)(void *)
						  i->ifa_addr)->sin6_addr))
			v6 = true;
	}
	freeifaddrs(ifa);
	if (!v4 || !v6)
		log_warnx("deny_with: reject: bridge %s has no %s address, so the "
			  "kernel cannot answer %s packets it rejects (they are "
			  "dropped); the daemon's resets and unreachables to "
			  "initiators still work", l->o->ifnames[0],
			  !v4 && !v6 ? "IPv4 or global IPv6" : !v4 ? "IPv4" : "global IPv6",
			  !v4 && !v6 ? "any" : !v4 ? "IPv4" : "IPv6");
}

static bool has_observed(const struct policy *p)
{
	for (size_t i = 0; i < policy_device_count(p); i++)
		if (policy_device_observed(policy_device_at(p, i)))
			return true;
	return false;
}

/* One LAN prefix more for the trusted rules; false if there is no room. */
static bool lan_add(struct ijnft_prefix *lan, unsigned int *n, int family,
		    const uint8_t addr[16], unsigned len)
{
	if (*n == IJNFT_MAX_LAN)
		return false;
	lan[*n].family = (uint8_t)family;
	lan[*n].len = (uint8_t)len;
	memcpy(lan[*n].addr, addr, 16);
	(*n)++;
	return true;
}

/*
 * The kernel's view of the trusted devices of P, for CFG: every
 * trusted device's first MAC with each of its addresses, and everything
 * that is LAN (the `lan` prefixes, and device addresses outside them), so
 * that a trusted device's flow towards another device still goes through
 * the policy.  If it does not fit, no device is trusted: its flows are
 * inspected like any other, and the log says why.
 */
static void trusted_of(struct live *l, const struct policy *p,
		       struct ijnft_config *cfg)
{
	struct ijnft_trusted *t = l->trusted;
	struct ijnft_prefix *lan = l->lan;
	bool observer = l->n_workers > l->n_queues;
	unsigned int nt = 0, nl = 0, no = 0, unobserved = 0, len;
	uint8_t addr[16], mac[6];
	bool fits = true;
	size_t i, j;
	int fam;

	cfg->trusted = t;
	cfg->lan = lan;
	cfg->n_trusted = cfg->n_lan = 0;
	cfg->observe_group = (uint16_t)(l->o->queue_first + l->n_queues);
	for (i = 0; policy_lan_at(p, i, &fam, addr, &len); i++)
		fits = fits && lan_add(lan, &nl, fam, addr, len);
	for (i = 0; i < policy_device_count(p); i++) {
		const struct policy_device *d = policy_device_at(p, i);

		for (j = 0; policy_device_prefix_at(d, j, &fam, addr, &len); j++) {
			if (!policy_is_lan(p, fam, addr))
				fits = fits && lan_add(lan, &nl, fam, addr, len);
			if (!policy_device_trusted(d) || !policy_device_mac(d, mac))
				continue;
			if (policy_device_observed(d) && !observer) {
				unobserved++;
				continue;	/* inspected, as without trust */
			}
			if (nt == IJNFT_MAX_TRUSTED) {
				fits = false;
				continue;
			}
			memcpy(t[nt].mac, mac, 6);
			t[nt].family = (uint8_t)fam;
			memcpy(t[nt].addr, addr, 16);
			t[nt].observed = policy_device_observed(d);
			no += t[nt].observed;
			nt++;
		}
	}
	if (nt && !fits) {
		log_warnx("trusted devices: more than %u addresses or %u LAN prefixes; "
			  "no device is trusted, their flows are inspected",
			  IJNFT_MAX_TRUSTED, IJNFT_MAX_LAN);
		return;
	}
	if (unobserved)
		log_warnx("observed devices: %u addresses not observed: the daemon "
			  "started without observed devices, and observing needs a "
			  "restart; until then their flows are inspected", unobserved);
	if (nt - no)
		log_info("trusted devices: %u addresses; their flows to the WAN are "
			 "allowed in the kernel, unseen by the daemon", nt - no);
	if (no)
		log_info("observed devices: %u addresses; their flows to the WAN are "
			 "allowed in the kernel, first packets copied to NFLOG group %u",
			 no, cfg->observe_group);
	cfg->n_trusted = nt;
	cfg->n_lan = nl;
}

/* The run-time learn modes change what a generation means: they are part
 * of its hash, so `learn start` re-judges flows like an edited file. */
static uint64_t learn_hash(const struct live_learn *ll, uint64_t h)
{
	const unsigned char *p;
	unsigned i;

	h = (h ^ (ll->all ? 0x4c : 0)) * 0x100000001b3ull;
	for (i = 0; i < ll->n; i++)
		for (p = (const unsigned char *)ll->names[i]; ; p++) {
			h = (h ^ *p) * 0x100000001b3ull;
			if (!*p)
				break;
		}
	return h;
}

static void apply_learn(const struct live_learn *ll, struct policy *p)
{
	unsigned i;

	if (ll->all)
		(void)policy_set_learn(p, NULL);
	for (i = 0; i < ll->n; i++)
		if (policy_set_learn(p, ll->names[i]) == -ENOENT)
			log_warnx("learn: device %s is not in the policy any more",
				  ll->names[i]);
}

/* Load and check the policy; NULL (messages logged, and added to MSGS if
 * not NULL) if it has errors. */
static struct live_gen *gen_load(struct live *l, uint64_t *hash, struct jbuf *msgs)
{
	struct policy_diag *diag;
	struct live_gen *g;
	int rc;

	if ((rc = file_hash(l->o->config, hash)) < 0) {
		errno = -rc;
		log_warn("%s", l->o->config);
		if (msgs)
			json_str(msgs, NULL, strerror(-rc));
		return NULL;
	}
	*hash = learn_hash(&l->learn_over, *hash);
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->policy = judge_load_policy(l->o->config, &diag);
	log_diag(diag, msgs);
	policy_diag_free(diag);
	if (!g->policy) {
		if (!diag)
			log_warn("cannot start nDPI to check the policy");
		free(g);
		return NULL;
	}
	apply_learn(&l->learn_over, g->policy);
	check_reject_answers(l, g->policy);
	g->view = devview_new(g->policy, l->n_queues + 1);	/* + the observer */
	if (!g->view) {
		log_warn("device view");
		gen_free(g);
		return NULL;
	}
	g->generation = (uint8_t)(*hash ^ (*hash >> 8) ^ (*hash >> 16));
	return g;
}

/* Kernel budget: the daemon hands nDPI N packets with payload (and the
 * handshake); conntrack counts every packet of both directions, ACKs
 * included.  4N + 8 leaves room for ACKs and in-flight packets, so a flow
 * is nearly always decided by the daemon before the kernel stops asking. */
static uint32_t kernel_budget(unsigned inspect)
{
	return 4 * inspect + 8;
}

/* --- system set-up ------------------------------------------------------- */

static int write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;
	size_t n = strlen(val);

	if (fd < 0)
		return -errno;
	if (write(fd, val, n) != (ssize_t)n)
		rc = -errno;
	close(fd);
	return rc;
}

static int run_modprobe(const char *module)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execlp("modprobe", "modprobe", "-q", module, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ENOENT;
}

/* Bridge mode: the bridge exists, and bridge netfilter hands its IP
 * packets to the inet hooks (and conntrack). */
static int setup_bridge(const char *br)
{
	static const char *const knobs[] = {
		"/proc/sys/net/bridge/bridge-nf-call-iptables",
		"/proc/sys/net/bridge/bridge-nf-call-ip6tables",
	};
	char path[128];
	unsigned i;
	int rc;

	snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", br);
	if (access(path, F_OK) < 0) {
		log_warnx("--bridge %s: no such bridge in this network "
			  "namespace", br);
		return -ENODEV;
	}
	if (access(knobs[0], F_OK) < 0)
		run_modprobe("br_netfilter");
	for (i = 0; i < 2; i++) {
		if ((rc = write_sysctl(knobs[i], "1")) < 0) {
			errno = -rc;
			log_warn("cannot enable %s (is br_netfilter loaded? "
				 "modprobe br_netfilter)", knobs[i]);
			return rc;
		}
	}
	log_info("bridge netfilter on for IPv4 and IPv6");
	return 0;
}

static const char acct_knob[] = "/proc/sys/net/netfilter/nf_conntrack_acct";

/* --- pid file ------------------------------------------------------------ */

static int pidfile_check(const char *path)
{
	char buf[32];
	FILE *f = fopen(path, "r");
	long pid;

	if (!f)
		return 0;
	pid = fgets(buf, sizeof(buf), f) ? strtol(buf, NULL, 10) : 0;
	fclose(f);
	if (pid > 0 && pid != getpid() && kill((pid_t)pid, 0) == 0) {
		log_warnx("already running as pid %ld (%s)", pid, path);
		return -EEXIST;
	}
	return 0;
}

static int pidfile_write(const char *path)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		int rc = -errno;

		unlink(tmp);
		return rc;
	}
	return 0;
}

/* --- reporting ----------------------------------------------------------- */

static void log_counters(struct live *l)
{
	struct ijnft_counters c;
	char line[512];
	size_t n = 0;
	unsigned i;

	if (!l->installed || ijrs_counters(l->rs, &c) < 0)
		return;
	for (i = 0; i < __IJNFT_CTR_MAX && n < sizeof(line); i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      "%s%s %" PRIu64, i ? ", " : "",
				      ijnft_ctr_name(i), c.packets[i]);
	log_info("kernel packets: %s", line);
}

static void log_devices(const struct live_gen *g)
{
	uint64_t ctr[__DEVVIEW_CTR_MAX];
	struct devview_seen s;
	size_t i;

	for (i = 0; i < devview_slots(g->view); i++) {
		devview_read(g->view, i, ctr, &s);
		if (!ctr[DEVVIEW_FLOWS])
			continue;
		log_info("device %s: %" PRIu64 " flows (%" PRIu64 " allowed, %"
			 PRIu64 " alerted, %" PRIu64 " denied, %" PRIu64
			 " quarantined), %" PRIu64 " alerts%s%s",
			 devview_slot_name(g->view, i), ctr[DEVVIEW_FLOWS],
			 ctr[DEVVIEW_ALLOWED], ctr[DEVVIEW_ALERTED],
			 ctr[DEVVIEW_DENIED], ctr[DEVVIEW_QUARANTINED],
			 ctr[DEVVIEW_ALERTS], s.port[0] ? ", last on " : "",
			 s.port);
	}
}

static void log_worker_stats(struct live *l)
{
	struct worker_stats s;
	const char *src;
	unsigned i;

	for (i = 0; i < l->n_workers; i++) {
		if (!l->w[i])
			continue;
		worker_get_stats(l->w[i], &s);
		src = worker_observes(l->w[i]) ? "NFLOG group" : "queue";
		log_info("%s %u: %" PRIu64 " packets (%" PRIu64
			 " to nDPI), %" PRIu64 " flows decided, %" PRIu64
			 " late, %" PRIu64 " re-judged, %" PRIu64
			 " refused (%" PRIu64 " rewritten into a refusal for the initiator)"
			 "; %.2f packets queued per flow (max %u); %"
			 PRIu64 " alerts, %" PRIu64 " quarantines, %" PRIu64
			 " ICMP errors passed unjudged%s",
			 src, worker_queue(l->w[i]), s.packets, s.pl.handed,
			 s.decided, s.late, s.rejudged, s.dropped, s.refusals,
			 s.ended ? (double)s.ended_packets / (double)s.ended
				 : 0.0,
			 s.max_packets, s.alerts, s.quarantines, s.icmp_errors,
			 worker_observes(l->w[i]) ? " (copies: the kernel had let "
			 "them pass)" : "");
		if (s.unenforced)
			log_warnx("%s %u: %" PRIu64 " observed flows judged deny "
				  "after the kernel had allowed them (written as "
				  "alert)", src, worker_queue(l->w[i]), s.unenforced);
		log_info("%s %u: %" PRIu64 " wakeups (%.2f packets each), %"
			 PRIu64 " verdict sends, %" PRIu64 " marked verdicts (%"
			 PRIu64 " with the packet replaced), %" PRIu64
			 " batch accepts, %" PRIu64 " receive overruns (%s)",
			 src, worker_queue(l->w[i]), s.q.wakeups,
			 s.q.wakeups ? (double)s.q.received / (double)s.q.wakeups : 0.0,
			 s.q.sends, s.q.verdict_msgs, s.q.replaced, s.q.batch_msgs,
			 s.q.enobufs, worker_observes(l->w[i]) ? "copies lost, "
			 "their packets passed" : "failed open");
		if (s.not_ip || s.policy_errors || s.send_errors ||
		    s.alert_write_errors || s.flow_write_errors ||
		    s.quarantine_errors || s.acct_full)
			log_warnx("%s %u: %" PRIu64 " not parsed (accepted), "
				  "%" PRIu64 " policy errors (allowed), %"
				  PRIu64 " verdict send errors, %" PRIu64
				  " alert and %" PRIu64 " flow lines lost, %"
				  PRIu64 " quarantines failed, %" PRIu64
				  " decided flows not accounted (table full)",
				  src, worker_queue(l->w[i]), s.not_ip,
				  s.policy_errors, s.send_errors,
				  s.alert_write_errors, s.flow_write_errors,
				  s.quarantine_errors, s.acct_full);
	}
}

/* --- generations --------------------------------------------------------- */

/* Free retired generations no worker uses any more, carrying their device
 * totals into the current one. */
static void reclaim(struct live *l)
{
	struct live_gen *cur = atomic_load(&l->sh.current);
	unsigned i, k, keep = 0;

	for (i = 0; i < l->n_retired; i++) {
		struct live_gen *g = l->retired[i];
		bool used = false;

		for (k = 0; k < l->n_workers; k++)
			if (l->w[k] && worker_gen(l->w[k]) == g)
				used = true;
		if (used) {
			l->retired[keep++] = g;
			continue;
		}
		devview_carry(cur->view, g->view);
		gen_free(g);
	}
	l->n_retired = keep;
}

/* WHY for the control client, and the log. */
static void __attribute__((format(printf, 3, 4)))
refuse(char *why, size_t len, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_warnx("reload refused: %s", buf);
	if (why)
		snprintf(why, len, "%s", buf);
}

int live_reload(struct live *l, struct jbuf *msgs, char *why, size_t why_len)
{
	struct live_gen *old = atomic_load(&l->sh.current), *g;
	struct ijnft_config cfg = l->cfg;
	uint64_t hash;
	int rc;

	log_info("reload: checking %s", l->o->config);
	reclaim(l);
	if (l->n_retired == MAX_RETIRED) {
		refuse(why, why_len, "workers still use %u older policies",
		       l->n_retired);
		return -EBUSY;
	}
	g = gen_load(l, &hash, msgs);
	if (!g) {
		refuse(why, why_len, "%s has errors; generation %u stays",
		       l->o->config, old->generation);
		return -EINVAL;
	}
	if (hash == l->policy_hash) {
		log_info("reload: %s is unchanged (generation %u)",
			 l->o->config, old->generation);
		gen_free(g);
		return 1;
	}
	/* A different file must get a different generation, or its old
	 * verdicts would pass for new ones. */
	if (g->generation == old->generation)
		g->generation++;
	if (!l->o->inspect_set &&
	    policy_inspect_packets(g->policy) !=
		    l->sh.pipeline.inspect_packets)
		log_warnx("reload: inspect_packets changes only at restart "
			  "(still %u)", l->sh.pipeline.inspect_packets);
	cfg.generation = g->generation;
	trusted_of(l, g->policy, &cfg);
	rc = ijrs_set_generation(l->rs, &cfg);
	if (rc < 0) {
		refuse(why, why_len, "the kernel did not take generation %u (%s: %s)",
		       g->generation, ijrs_error_what(l->rs) ?
		       ijrs_error_what(l->rs) : "socket", strerror(-rc));
		gen_free(g);
		return rc;
	}
	l->cfg = cfg;
	l->policy_hash = hash;
	/* The watcher first: it must not keep pointers into the policy that
	 * reclaim() frees once the workers have moved on. */
	watch_set_policy(l->sh.watch, g->policy);
	alert_sink_set_rearm(l->sh.out.alerts, policy_alert_rearm_ms(g->policy));
	atomic_store_explicit(&l->sh.current, g, memory_order_release);
	l->retired[l->n_retired++] = old;
	log_info("reload: generation %u from %s (%zu devices); flows are "
		 "judged again at their next packet", g->generation,
		 l->o->config, policy_device_count(g->policy));
	return 0;
}

/* --- start and stop ------------------------------------------------------ */

static int open_out(const char *path, const char *what)
{
	int fd;

	if (!path)
		return -1;
	if (!strcmp(path, "-"))
		return dup(STDOUT_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		log_warn("cannot open %s file %s", what, path);
	return fd < 0 ? -2 : fd;
}

uint64_t live_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* MAC into the kernel's quarantine set for TIMEOUT_MS (0: until removed),
 * logged with WHO and WHY.  From the main thread, which owns l->rs. */
static int quarantine_mac(struct live *l, const char *who, const uint8_t mac[6],
			  uint32_t timeout_ms, const char *why)
{
	int rc;

	if (!l->rs)
		return -ENOTCONN;
	rc = ijrs_quarantine_add(l->rs, mac, timeout_ms);
	if (rc < 0) {
		errno = -rc;
		log_warn("%s: cannot quarantine %s", why, who);
		return rc;
	}
	if (timeout_ms)
		log_info("%s: %s quarantined (%02x:%02x:%02x:%02x:%02x:%02x) for %u s",
			 why, who, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
			 timeout_ms / 1000);
	else
		log_info("%s: %s quarantined (%02x:%02x:%02x:%02x:%02x:%02x) until "
			 "released", why, who, mac[0], mac[1], mac[2], mac[3], mac[4],
			 mac[5]);
	return 0;
}

/* A byte limit's `over: block`: the device quarantined until its window
 * ends.  The watcher, which asks, is locked and records it itself. */
static bool live_block(void *ctx, const char *device, const uint8_t mac[6],
		       uint64_t until_ms)
{
	struct live *l = ctx;
	uint64_t now = live_wall_us() / 1000;

	if (until_ms <= now || until_ms - now > UINT32_MAX)
		return false;
	return quarantine_mac(l, device, mac, (uint32_t)(until_ms - now),
			      "over its byte limit") == 0;
}

int live_quarantine(struct live *l, const struct policy_device *d,
		    const uint8_t mac[6], uint32_t timeout_ms, const char *why)
{
	int rc = quarantine_mac(l, policy_device_name(d), mac, timeout_ms, why);

	if (rc == 0)
		watch_quarantine(l->sh.watch, live_wall_us(), d, mac, timeout_ms, why);
	return rc;
}

int live_release(struct live *l, const uint8_t mac[6], const char *why)
{
	int rc;

	if (!l->rs)
		return -ENOTCONN;
	rc = ijrs_quarantine_del(l->rs, mac);
	if (rc < 0)
		return rc;
	log_info("%s: %02x:%02x:%02x:%02x:%02x:%02x released from quarantine",
		 why, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	watch_release(l->sh.watch, live_wall_us(), mac, why);
	return 0;
}

static void emit_alert(void *ctx, struct alert *a)
{
	struct live *l = ctx;

	(void)alert_sink_emit(l->sh.out.alerts, a);	/* counted by the sink */
}

/* The alert sink, the watcher (with the state of the last run), the
 * accounting of decided flows. */
static int setup_watch(struct live *l, const struct live_gen *g)
{
	const struct live_opts *o = l->o;
	struct alert_sink_config sc = {
		.path = o->alerts_path && strcmp(o->alerts_path, "-") ? o->alerts_path
								     : NULL,
		.max_bytes = o->alerts_max_bytes,
		.syslog = true,	/* foreground too: procd and systemd run it so */
		.text = o->text ? stdout : NULL,
		.json = o->alerts_path && !strcmp(o->alerts_path, "-") ? stdout : NULL,
		.rearm_ms = policy_alert_rearm_ms(g->policy),
	};
	char why[STATEFILE_WHY_MAX], aside[4096];
	int rc = 0;

	l->sh.out.alerts = alert_sink_new(&sc, &rc);
	if (!l->sh.out.alerts) {
		errno = -rc;
		log_warn("cannot open the alert log %s", sc.path ? sc.path : "");
		return rc ? rc : -EIO;
	}
	l->recent_alerts = ring_new(RECENT_ALERTS, true);
	l->sh.recent_flows = ring_new(RECENT_FLOWS, false);
	if (!l->recent_alerts || !l->sh.recent_flows) {
		log_warn("cannot keep recent alerts and flows");
		return -ENOMEM;
	}
	alert_sink_set_recent(l->sh.out.alerts, l->recent_alerts);
	l->sh.watch = watch_new(&o->watch, g->policy, emit_alert, l);
	if (l->sh.watch)
		watch_set_block(l->sh.watch, live_block, l);
	l->sh.acct = ctacct_new(ACCT_FLOWS);
	l->sh.learn = learn_new();
	if (!l->sh.watch || !l->sh.acct || !l->sh.learn) {
		log_warn("cannot start the watcher");
		return -ENOMEM;
	}
	if (!o->state_path || !*o->state_path)
		return 0;
	/* Its directory, one level (/var/lib/iotjail): a fresh install. */
	snprintf(aside, sizeof(aside), "%s", o->state_path);
	if (strrchr(aside, '/') && strrchr(aside, '/') != aside) {
		*strrchr(aside, '/') = '\0';
		if (mkdir(aside, 0750) < 0 && errno != EEXIST)
			log_warn("state directory %s", aside);
	}
	rc = watch_load(l->sh.watch, o->state_path, live_wall_us() / 1000, why, sizeof(why));
	if (rc == -EBADMSG) {
		int r = statefile_set_aside(o->state_path, aside, sizeof(aside));

		if (r < 0)
			snprintf(aside, sizeof(aside), "(could not be renamed: %s)",
				 strerror(-r));
		log_warnx("state file %s: %s; set aside as %s, starting afresh",
			  o->state_path, why, aside);
	} else if (rc < 0 && rc != -ENOENT) {
		errno = -rc;
		log_warn("state file %s: starting afresh", o->state_path);
	} else if (rc == 0) {
		log_info("state: %s loaded", o->state_path);
	}
	l->next_state_ms = live_wall_us() / 1000 + STATE_INTERVAL_MS;
	return 0;
}

static int setup(struct live *l, int ready_fd)
{
	const struct live_opts *o = l->o;
	struct live_gen *g;
	const char *why;
	char rs_why[1024];
	unsigned i;
	long ncpu;
	int rc;

	if (o->pid_file && *o->pid_file && pidfile_check(o->pid_file) < 0)
		return -EEXIST;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	l->n_queues = o->workers ? o->workers
				 : (unsigned)(ncpu > 0 ? ncpu : 1);
	if (l->n_queues > MAX_WORKERS)
		l->n_queues = MAX_WORKERS;
	/* The queues, and the NFLOG group after them for observed flows. */
	if ((unsigned)o->queue_first + l->n_queues + 1 > 65536) {
		log_warnx("--queue %u: queues %u-%u and NFLOG group %u do not exist",
			  o->queue_first, o->queue_first,
			  o->queue_first + l->n_queues - 1,
			  o->queue_first + l->n_queues);
		return -EINVAL;
	}
	l->n_workers = l->n_queues;
	g = gen_load(l, &l->policy_hash, NULL);
	if (!g)
		return -EINVAL;
	if (has_observed(g->policy))
		l->n_workers++;		/* the observer */
	atomic_store(&l->sh.current, g);
	l->sh.pipeline = o->pipeline;
	if (!o->inspect_set)
		l->sh.pipeline.inspect_packets =
			policy_inspect_packets(g->policy);
	l->sh.quarantine_timeout_ms = o->quarantine_timeout_ms;
	l->sh.classify_all = o->classify_all;
	l->sh.out.text = o->text;
	l->sh.out.flows_fd = open_out(o->flows_path, "flows");
	if (l->sh.out.flows_fd == -2)
		return -EIO;
	if ((rc = setup_watch(l, g)) < 0)
		return rc;
	/* Before the kernel is touched: a second daemon started by mistake
	 * finds the first one's socket and stops here.  Requests are served
	 * once the main loop runs. */
	if (o->control_path && *o->control_path) {
		struct ctl_server_config cc = {
			.path = o->control_path,
			.group = o->control_group,
		};
		const char *what;

		l->ctl = ctl_server_new(&cc, livectl_handle, l, &rc, &what);
		if (!l->ctl) {
			errno = -rc;
			log_warn("control socket %s: %s", o->control_path, what);
			return rc;
		}
	}

	memset(&l->cfg, 0, sizeof(l->cfg));
	l->cfg.mode = o->mode;
	memcpy(l->cfg.ifnames, o->ifnames, sizeof(l->cfg.ifnames));
	l->cfg.n_ifnames = o->n_ifnames;
	l->cfg.queue_first = o->queue_first;
	l->cfg.queue_count = (uint16_t)l->n_queues;
	l->cfg.inspect_packets =
		kernel_budget(l->sh.pipeline.inspect_packets);
	l->cfg.generation = g->generation;
	l->cfg.fail_closed = o->fail_closed;
	trusted_of(l, g->policy, &l->cfg);
	if (ijnft_config_check(&l->cfg, &why) < 0) {
		log_warnx("%s", why);
		return -EINVAL;
	}
	if (o->mode == IJNFT_MODE_BRIDGE &&
	    (rc = setup_bridge(o->ifnames[0])) < 0)
		return rc;

	if ((rc = ijrs_open(&l->rs, o->backend, rs_why, sizeof(rs_why))) < 0 ||
	    (rc = ijrs_probe(l->rs)) < 0) {
		errno = -rc;
		log_warnx("--backend %s: no usable ruleset backend: %s",
			  ijrs_backend_name(o->backend), l->rs && ijrs_error_what(l->rs)
			  ? ijrs_error_what(l->rs) : rs_why[0] ? rs_why : strerror(-rc));
		return rc;
	}
	l->sh.rs = l->rs;
	log_info("enforcing with %s", ijrs_describe(l->rs));

	/* Bind every queue (and the NFLOG group) before the ruleset sends
	 * packets to them. */
	for (i = 0; i < l->n_workers; i++) {
		rc = worker_new(i, (uint16_t)(o->queue_first + i), i == l->n_queues,
				&l->sh, &l->w[i]);
		if (rc < 0) {
			errno = -rc;
			log_warn("cannot bind %s %u%s",
				 i == l->n_queues ? "NFLOG group" : "NFQUEUE",
				 o->queue_first + i,
				 rc == -EBUSY ? " (another program holds it)" : "");
			return rc;
		}
	}
	/* Conntrack accounting: before the ruleset, so that every flow it
	 * sees has packet counts (the budget rule needs them).  If conntrack
	 * is not loaded yet, installing the ruleset loads it. */
	(void)write_sysctl(acct_knob, "1");
	if ((rc = ijrs_install(l->rs, &l->cfg)) < 0) {
		errno = -rc;
		log_warn("cannot install the %s (%s)", ijrs_ruleset_name(l->rs),
			 ijrs_error_what(l->rs) ? ijrs_error_what(l->rs) : "socket");
		return rc;
	}
	l->installed = true;
	if ((rc = write_sysctl(acct_knob, "1")) < 0 ||
	    ijnft_conntrack_acct_enabled() != 1) {
		errno = rc < 0 ? -rc : EPERM;
		log_warn("cannot enable %s: the inspection budget would never "
			 "end", acct_knob);
		return -EPERM;
	}
	for (i = 0; i < l->n_workers; i++)
		if ((rc = worker_start(l->w[i])) < 0) {
			errno = -rc;
			log_warn("cannot start worker %u", i);
			return rc;
		}
	if (o->pid_file && *o->pid_file) {
		if ((rc = pidfile_write(o->pid_file)) < 0) {
			errno = -rc;
			log_warn("cannot write %s", o->pid_file);
			return rc;
		}
		l->pid_written = true;
	}
	l->started_ms = live_wall_us() / 1000;
	log_info("ready: %s %s, %u worker%s on queue%s %u-%u%s, inspect %u "
		 "packets (kernel budget %u), generation %u, %s, policy %s "
		 "(%zu devices)",
		 o->mode == IJNFT_MODE_BRIDGE ? "bridge" : "router",
		 o->ifnames[0], l->n_queues, l->n_queues > 1 ? "s" : "",
		 l->n_queues > 1 ? "s" : "", o->queue_first,
		 o->queue_first + l->n_queues - 1,
		 l->n_workers > l->n_queues ? ", observer on the NFLOG group "
		 "after them" : "",
		 l->sh.pipeline.inspect_packets, l->cfg.inspect_packets,
		 g->generation, o->fail_closed ? "fail-closed" : "fail-open",
		 o->config, policy_device_count(g->policy));
	if (ready_fd >= 0) {
		if (write(ready_fd, "R", 1) < 0)
			log_warn("telling the parent we are ready");
		close(ready_fd);
	}
	return 0;
}

static void save_state(struct live *l)
{
	int rc;

	if (!l->o->state_path || !*l->o->state_path)
		return;
	rc = watch_save(l->sh.watch, l->o->state_path, live_wall_us() / 1000);
	if (rc < 0) {
		errno = -rc;
		log_warn("cannot write the state file %s", l->o->state_path);
	}
}

static void credit(void *ctx, uint32_t slot, uint64_t up_bytes, uint64_t up_packets,
		   uint64_t down_bytes, uint64_t down_packets)
{
	struct live *l = ctx;

	(void)up_packets;
	(void)down_packets;
	watch_credit(l->sh.watch, slot, live_wall_us(), up_bytes, down_bytes);
}

/* What the kernel forwarded for decided flows since the last read, from
 * conntrack accounting (no ctnetlink needed: the procfs table of this
 * network namespace). */
static void read_accounting(struct live *l)
{
	struct ctacct_poll_stats st;
	FILE *f = fopen(CONNTRACK_PROC, "re");
	int rc;

	if (!f) {
		if (!l->acct_warned)
			log_warn("cannot read %s: bytes forwarded after a verdict "
				 "are not accounted", CONNTRACK_PROC);
		l->acct_warned = true;
		return;
	}
	memset(&st, 0, sizeof(st));
	rc = ctacct_poll(l->sh.acct, f, live_wall_us() / 1000, credit, l, &st);
	fclose(f);
	if ((rc < 0 || st.acct_off) && !l->acct_warned) {
		log_warnx("%s: %s", CONNTRACK_PROC, rc < 0 ? strerror(-rc)
				    : "no byte counts (nf_conntrack_acct is off)");
		l->acct_warned = true;
	}
}

/* Once a second: the watcher's clock, and what is due. */
static void every_second(struct live *l)
{
	uint64_t now = live_wall_us(), ms = now / 1000;
	int rc;

	if (l->installed && (rc = ijrs_expire(l->rs)) < 0) {
		errno = -rc;
		log_warn("cannot release quarantines that are due (%s)",
			 ijrs_error_what(l->rs) ? ijrs_error_what(l->rs) : "?");
	}
	if (ms >= l->next_acct_ms) {
		read_accounting(l);
		l->next_acct_ms = ms + ACCT_INTERVAL_MS;
	}
	watch_tick(l->sh.watch, now);
	if (ms >= l->next_state_ms) {
		save_state(l);
		l->next_state_ms = ms + STATE_INTERVAL_MS;
	}
}

static void log_service(void *ctx, const char *device, const char *service,
			enum policy_direction role, uint64_t up, uint64_t down)
{
	(void)ctx;
	log_info("bytes: %s, %s (%s): up %" PRIu64 ", down %" PRIu64, device,
		 service, role == POLICY_OUT ? "out" : "in", up, down);
}

static void log_watch(struct live *l)
{
	struct alert_sink_stats as;
	struct watch_stats ws;

	if (!l->sh.watch || !l->sh.out.alerts)
		return;
	watch_foreach_service(l->sh.watch, log_service, NULL);
	watch_get_stats(l->sh.watch, &ws);
	alert_sink_stats(l->sh.out.alerts, &as);
	log_info("watcher: %" PRIu64 " devices, %" PRIu64 " services, %" PRIu64
		 " alerts of its own; alerts: %" PRIu64 " written, %" PRIu64
		 " suppressed by alert_rearm, %" PRIu64 " write errors",
		 ws.devices, ws.slots, ws.alerts, as.emitted_total, as.suppressed,
		 as.write_errors);
	if (ws.full_devices || ws.full_slots)
		log_warnx("watcher tables full: %" PRIu64 " device and %" PRIu64
			  " service states not kept", ws.full_devices, ws.full_slots);
}

static void teardown(struct live *l)
{
	unsigned i;
	int rc;

	if (l->installed) {
		log_counters(l);
		if (l->o->keep_table) {
			log_info("%s kept (%s)", ijrs_ruleset_name(l->rs),
				 l->o->fail_closed ? "fail-closed: new flows "
						     "are dropped until restart"
						   : "decided flows keep their "
						     "verdicts, new ones pass");
		} else if ((rc = ijrs_remove(l->rs)) < 0) {
			errno = -rc;
			log_warn("cannot remove the %s (%s)", ijrs_ruleset_name(l->rs),
				 ijrs_error_what(l->rs) ? ijrs_error_what(l->rs) : "socket");
		}
	}
	atomic_store_explicit(&l->sh.stop, true, memory_order_release);
	for (i = 0; i < l->n_workers; i++)
		if (l->w[i])
			worker_join(l->w[i]);
	log_worker_stats(l);
	if (atomic_load(&l->sh.current)) {
		reclaim(l);
		log_devices(atomic_load(&l->sh.current));
	}
	for (i = 0; i < l->n_workers; i++)
		worker_free(l->w[i]);
	if (l->sh.watch && l->installed)
		save_state(l);
	log_watch(l);
	ctl_server_free(l->ctl);
	learn_free(l->sh.learn);
	watch_free(l->sh.watch);
	ctacct_free(l->sh.acct);
	alert_sink_free(l->sh.out.alerts);
	ring_free(l->recent_alerts);
	ring_free(l->sh.recent_flows);
	for (i = 0; i < l->n_retired; i++)
		gen_free(l->retired[i]);
	gen_free(atomic_load(&l->sh.current));
	ijrs_close(l->rs);
	if (l->pid_written)
		unlink(l->o->pid_file);
	if (l->sh.out.flows_fd >= 0)
		close(l->sh.out.flows_fd);
}

/* Detach: the parent stays until the child says it is ready (or dies), so
 * `iotjaild -c ...` returns 0 only with the jail in place. */
static int detach(int *ready_fd)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	*ready_fd = p[1];
	return 0;
}

static void quiet_stdio(void)
{
	int null = open("/dev/null", O_RDWR);

	if (null < 0)
		return;
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(null, STDERR_FILENO);
	if (null > STDERR_FILENO)
		close(null);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A signal, read from the signalfd; true: stop. */
static bool on_signal(struct live *l, int sig)
{
	int rc;

	if (sig == SIGTERM || sig == SIGINT) {
		log_info("%s: stopping", strsignal(sig));
		return true;
	}
	if (sig == SIGHUP || sig == SIGUSR1) {
		rc = alert_sink_reopen(l->sh.out.alerts);
		if (rc < 0) {
			errno = -rc;
			log_warn("cannot reopen the alert log; still writing "
				 "to the old one");
		}
	}
	if (sig == SIGHUP)
		(void)live_reload(l, NULL, NULL, 0);
	if (sig == SIGUSR1) {
		log_counters(l);
		log_devices(atomic_load(&l->sh.current));
		log_watch(l);
	}
	return false;
}

/* Once a second; true: a worker died, stop. */
static bool on_tick(struct live *l)
{
	unsigned i;

	every_second(l);
	reclaim(l);
	if (l->ctl)
		ctl_server_tick(l->ctl);
	for (i = 0; i < l->n_workers; i++)
		if (l->w[i] && worker_error(l->w[i])) {
			log_warnx("worker %u failed: stopping", i);
			return true;
		}
	return false;
}

/*
 * The main thread's loop: signals (a signalfd), the control socket and its
 * clients, new alerts for clients that follow them, and a tick once a
 * second.  Everything it does is short; the packet path is the workers'.
 */
static int main_loop(struct live *l, const sigset_t *sigs)
{
	struct pollfd pfd[2 + 1 + 16 + 1];
	struct signalfd_siginfo si;
	uint64_t next_tick = mono_ms() + 1000, now;
	size_t nctl;
	int sfd, timeout, status = 0;

	sfd = signalfd(-1, sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		log_warn("signalfd");
		return 1;
	}
	for (;;) {
		pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = ring_fd(l->recent_alerts), .events = POLLIN };
		nctl = l->ctl ? ctl_server_pollfds(l->ctl, pfd + 2,
						   sizeof(pfd) / sizeof(pfd[0]) - 2) : 0;
		now = mono_ms();
		timeout = next_tick > now ? (int)(next_tick - now) : 0;
		if (poll(pfd, 2 + nctl, timeout) < 0 && errno != EINTR) {
			log_warn("poll");
			status = 1;
			break;
		}
		if ((pfd[0].revents & POLLIN) &&
		    read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) &&
		    on_signal(l, (int)si.ssi_signo))
			break;
		if (pfd[1].revents & POLLIN) {
			ring_fd_clear(l->recent_alerts);
			if (l->ctl)
				ctl_server_feed(l->ctl);
		}
		if (l->ctl)
			ctl_server_handle(l->ctl, pfd + 2, nctl);
		if (mono_ms() >= next_tick) {
			next_tick = mono_ms() + 1000;
			if (on_tick(l)) {
				status = 1;
				break;
			}
		}
	}
	close(sfd);
	return status;
}

int live_run(const struct live_opts *o)
{
	struct live l;
	sigset_t sigs;
	int ready_fd = -1, rc, status;

	memset(&l, 0, sizeof(l));
	l.o = o;
	l.sh.out.flows_fd = -1;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!o->foreground && (rc = detach(&ready_fd)) < 0) {
		errno = -rc;
		log_warn("cannot detach");
		return 1;
	}
	if (setup(&l, ready_fd) < 0) {
		teardown(&l);
		return 1;
	}
	if (!o->foreground) {
		/* Set-up errors went to the terminal; from now on, syslog. */
		log_init(false, false, "iotjaild");
		quiet_stdio();
	}
	status = main_loop(&l, &sigs);
	teardown(&l);
	return status;
}
