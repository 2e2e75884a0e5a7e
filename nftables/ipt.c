/*
 * nftables/ipt.c: the iptables backend (ipt.h).  Rules are text for
 * iptables-restore --noflush, built by pure functions (public, for tests),
 * then fed to the binary over a pipe; iptables-save's output is read back
 * for counters and for what a previous run left.
 */
#include "nftables/ipt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Chain names (docs/iptables.md); all start with IJIPT_PREFIX. */
#define CH_MAIN		IJIPT_PREFIX			/* both tables */
#define CH_FWD		IJIPT_PREFIX "-FWD"		/* mangle */
#define CH_QUAR		IJIPT_PREFIX "-QUAR"		/* mangle */
#define CH_QDROP	IJIPT_PREFIX "-QDROP"		/* mangle */
#define CH_TRUST	IJIPT_PREFIX "-TRUST"		/* mangle */
#define CH_OBSERVE	IJIPT_PREFIX "-OBSERVE"		/* mangle, only with
							 * observed devices */
#define CH_MALLOW	IJIPT_PREFIX "-MARK-ALLOW"	/* filter */
#define CH_MPASS	IJIPT_PREFIX "-MARK-PASS"	/* filter */
#define CH_REJECT	IJIPT_PREFIX "-REJECT"		/* filter */
#define CH_PROBE	IJIPT_PREFIX "-PROBE"		/* both, briefly */

/* IPv6 header + TCP header + 40 bytes of options, as nft.c's ack rule. */
#define ACK_MAX_LEN	100
/* Packets NFLOG gathers in the kernel before sending them to the group:
 * nft's `queue-threshold` (sent earlier at the group's flush timeout, which
 * the daemon sets to 0.1 s). */
#define NFLOG_THRESHOLD	IJNFT_OBSERVE_QTHRESHOLD
#define RUN_TIMEOUT_MS	10000	/* a restore waiting on the xtables lock */
#define RUN_OUT_MAX	(16u << 20)
#define EAGAIN_TRIES	3	/* iptables 1.4 takes no lock: a concurrent
				 * commit fails with EAGAIN; try again */
#define ERR_MAX		1024

static const char *const filter_chains[] = { CH_MAIN, CH_MALLOW, CH_MPASS,
					     CH_REJECT };
static const char *const mangle_chains[] = { CH_MAIN, CH_FWD, CH_QUAR,
					     CH_QDROP, CH_TRUST };
#define MAX_CHAINS	6	/* in one table: mangle's and CH_OBSERVE */
_Static_assert(sizeof(mangle_chains) / sizeof(*mangle_chains) < MAX_CHAINS &&
	       sizeof(filter_chains) / sizeof(*filter_chains) < MAX_CHAINS,
	       "MAX_CHAINS too small");


/* --- configuration ---------------------------------------------------------- */

int ijipt_config_check(const struct ijnft_config *cfg, const char **why)
{
	int ret = ijnft_config_check(cfg, why);

	if (ret)
		return ret;
	for (unsigned int i = 0; i < cfg->n_ifnames; i++) {
		const char *n = cfg->ifnames[i];
		size_t len = strlen(n);

		/* iptables reads "eth+" as every eth*, "!" as a negation, and
		 * iptables-restore splits words at quotes. */
		if (n[len - 1] == '+' || n[0] == '!' || strchr(n, '"') ||
		    strchr(n, '\\')) {
			if (why)
				*why = "an interface name iptables cannot match "
				       "exactly (ends in '+', or has '!', '\"' or '\\')";
			return -EINVAL;
		}
	}
	return 0;
}

/* --- text ---------------------------------------------------------------------- */

/* Text into a caller's buffer; used keeps counting past len, like snprintf. */
struct sb {
	char *buf;
	size_t len;
	size_t used;
};

static void sb_init(struct sb *s, char *buf, size_t len)
{
	s->buf = buf;
	s->len = buf ? len : 0;
	s->used = 0;
	if (s->len)
		buf[0] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sb *s, const char *fmt, ...)
{
	size_t room = s->used < s->len ? s->len - s->used : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? s->buf + s->used : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		s->used += (size_t)n;
}

static int sb_result(const struct sb *s)
{
	return s->used > INT_MAX ? -E2BIG : (int)s->used;
}

/* The rules of one family under construction. */
struct rules {
	struct sb *s;
	enum ijipt_family fam;
	const struct ijnft_counters *start;	/* NULL: counters at 0 */
	bool carried[__IJNFT_CTR_MAX];
};

/*
 * One rule: [counters] -A CHAIN MATCHES [-m comment --comment NAME] TARGET.
 * c names the rule's counter (-1: none); a carried counter goes into the
 * first rule of that name, so the sum over rules stays right.
 */
__attribute__((format(printf, 5, 6)))
static void rule(struct rules *r, int c, const char *chain, const char *target,
		 const char *fmt, ...)
{
	char match[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(match, sizeof(match), fmt, ap);
	va_end(ap);
	if (c >= 0 && r->start && !r->carried[c]) {
		sb_printf(r->s, "[%llu:%llu] ",
			  (unsigned long long)r->start->packets[c],
			  (unsigned long long)r->start->bytes[c]);
		r->carried[c] = true;
	}
	sb_printf(r->s, "-A %s%s%s", chain, match[0] ? " " : "", match);
	if (c >= 0)
		sb_printf(r->s, " -m comment --comment \"%s\"", ijnft_ctr_name(c));
	sb_printf(r->s, " %s\n", target);
}

static const char *icmp_reject(enum ijipt_family f)
{
	return f == IJIPT_IPV6 ? "-j REJECT --reject-with icmp6-adm-prohibited"
			       : "-j REJECT --reject-with icmp-admin-prohibited";
}

static void addr_text(int family, const uint8_t addr[16], char *out,
		      size_t n)
{
	if (!inet_ntop(family, addr, out, (socklen_t)n))
		snprintf(out, n, "?");
}

/*
 * filter: nft's `verdict` chain, then the rejects of nft's `forward` chain
 * (scoped like it).  docs/iptables.md explains each rule.  `-g` (goto)
 * where nft accepts: the jumped-to chain then ends our part of FORWARD and
 * the packet goes on with the rules after our hook, as it goes on with
 * the next base chain after an nft accept.
 */
static void put_filter(struct rules *r, const struct ijnft_config *cfg)
{
	const uint32_t m = IJNFT_MARK_MASK;
	uint32_t allow = ijnft_ct_mark(cfg->generation, IJNFT_VERDICT_ALLOW);
	uint32_t deny = ijnft_ct_mark(cfg->generation, IJNFT_VERDICT_DENY);
	uint32_t reject = ijnft_ct_mark(cfg->generation, IJNFT_VERDICT_REJECT);
	char target[128];

	rule(r, -1, CH_MAIN, "-g " CH_MALLOW, "-m mark --mark 0x%x/0x%x",
	     allow, m);
	snprintf(target, sizeof(target), "-j CONNMARK --set-xmark 0x%x/0x%x",
		 deny, m);
	rule(r, -1, CH_MAIN, target, "-m mark --mark 0x%x/0x%x", deny, m);
	snprintf(target, sizeof(target), "-j CONNMARK --set-xmark 0x%x/0x%x",
		 reject, m);
	rule(r, -1, CH_MAIN, target, "-m mark --mark 0x%x/0x%x", reject, m);
	rule(r, -1, CH_MAIN, "-g " CH_MPASS, "-m mark --mark 0x%x/0x%x",
	     IJNFT_MARK_PASS | IJNFT_VERDICT_REJECT,
	     IJNFT_MARK_PASS | IJNFT_MARK_VERDICT_MASK);
	rule(r, IJNFT_CTR_MARK_DENY, CH_MAIN, "-j DROP",
	     "-m mark --mark 0x%x/0x%x", IJNFT_VERDICT_DENY,
	     IJNFT_MARK_VERDICT_MASK);
	rule(r, IJNFT_CTR_MARK_REJECT, CH_MAIN,
	     "-j REJECT --reject-with tcp-reset", "-p tcp -m mark --mark 0x%x/0x%x",
	     IJNFT_VERDICT_REJECT, IJNFT_MARK_VERDICT_MASK);
	rule(r, IJNFT_CTR_MARK_REJECT, CH_MAIN, icmp_reject(r->fam),
	     "-m mark --mark 0x%x/0x%x", IJNFT_VERDICT_REJECT,
	     IJNFT_MARK_VERDICT_MASK);
	for (unsigned int i = 0; i < cfg->n_ifnames; i++) {
		rule(r, -1, CH_MAIN, "-g " CH_REJECT, "-i %s", cfg->ifnames[i]);
		rule(r, -1, CH_MAIN, "-g " CH_REJECT, "-o %s", cfg->ifnames[i]);
	}

	snprintf(target, sizeof(target), "-j CONNMARK --set-xmark 0x%x/0x%x",
		 allow, m);
	rule(r, IJNFT_CTR_MARK_ALLOW, CH_MALLOW, target, "%s", "");
	snprintf(target, sizeof(target), "-j MARK --set-xmark 0x0/0x%x", m);
	rule(r, -1, CH_MALLOW, target, "%s", "");
	snprintf(target, sizeof(target), "-j MARK --set-xmark 0x0/0x%x",
		 IJNFT_PKT_MARK_MASK);
	rule(r, IJNFT_CTR_MARK_PASS, CH_MPASS, target, "%s", "");
	rule(r, IJNFT_CTR_REJECT, CH_REJECT, "-j REJECT --reject-with tcp-reset",
	     "-p tcp -m connmark --mark 0x%x/0x%x", reject, m);
	rule(r, IJNFT_CTR_REJECT, CH_REJECT, icmp_reject(r->fam),
	     "-m connmark --mark 0x%x/0x%x", reject, m);
}

static int af(enum ijipt_family f)
{
	return f == IJIPT_IPV6 ? AF_INET6 : AF_INET;
}

/* How many of cfg's trusted entries of family f are observed (observed
 * true) or plainly trusted (false). */
static unsigned int n_devices(const struct ijnft_config *cfg,
			      enum ijipt_family f, bool observed)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < cfg->n_trusted; i++)
		n += cfg->trusted[i].family == af(f) &&
		     cfg->trusted[i].observed == observed;
	return n;
}

/*
 * IOTJAIL-TRUST or IOTJAIL-OBSERVE: RETURN towards each LAN prefix of the
 * family, then the nflog target if any (non-terminating: a copy of the
 * packet to userspace), then the allow written into conntrack, counted as
 * c.
 */
static void put_allow_chain(struct rules *r, const struct ijnft_config *cfg,
			    const char *chain, const char *nflog, int c)
{
	uint32_t allow = ijnft_ct_mark(cfg->generation, IJNFT_VERDICT_ALLOW);
	char target[128], a[INET6_ADDRSTRLEN];

	for (unsigned int i = 0; i < cfg->n_lan; i++) {
		const struct ijnft_prefix *p = &cfg->lan[i];

		if (p->family != af(r->fam))
			continue;
		addr_text(p->family, p->addr, a, sizeof(a));
		rule(r, -1, chain, "-j RETURN", "-d %s/%u", a, p->len);
	}
	if (nflog)
		rule(r, -1, chain, nflog, "%s", "");
	snprintf(target, sizeof(target), "-j CONNMARK --set-xmark 0x%x/0x%x",
		 allow, IJNFT_MARK_MASK);
	rule(r, c, chain, target, "%s", "");
}

/*
 * mangle: nft's `forward` chain.  "accept" is RETURN here: an ACCEPT would
 * also skip the rest of the table's FORWARD, other software's rules.  A
 * reject verdict RETURNs too; filter's IOTJAIL-REJECT answers it.
 */
static void put_mangle(struct rules *r, const struct ijnft_config *cfg,
		       bool with_qdrop)
{
	const uint32_t m = IJNFT_MARK_MASK;
	int family = af(r->fam);
	unsigned int plen = r->fam == IJIPT_IPV6 ? 128 : 32;
	uint32_t allow = ijnft_ct_mark(cfg->generation, IJNFT_VERDICT_ALLOW);
	uint32_t deny = ijnft_ct_mark(cfg->generation, IJNFT_VERDICT_DENY);
	uint32_t reject = ijnft_ct_mark(cfg->generation, IJNFT_VERDICT_REJECT);
	unsigned int jumps = 0;
	char target[128], a[INET6_ADDRSTRLEN];

	for (unsigned int i = 0; i < cfg->n_ifnames; i++) {
		rule(r, -1, CH_MAIN, "-g " CH_FWD, "-i %s", cfg->ifnames[i]);
		rule(r, -1, CH_MAIN, "-g " CH_FWD, "-o %s", cfg->ifnames[i]);
	}
	rule(r, -1, CH_FWD, "-j " CH_QUAR, "%s", "");
	rule(r, IJNFT_CTR_DENY, CH_FWD, "-j DROP",
	     "-m connmark --mark 0x%x/0x%x", deny, m);
	rule(r, -1, CH_FWD, "-j RETURN", "-m connmark --mark 0x%x/0x%x",
	     reject, m);
	rule(r, IJNFT_CTR_ALLOW, CH_FWD, "-j RETURN",
	     "-m connmark --mark 0x%x/0x%x", allow, m);
	/* connbytes counts both directions, this packet included, as nft's
	 * `ct packets`; "N:" is "at least N". */
	rule(r, IJNFT_CTR_BUDGET, CH_FWD, "-j RETURN",
	     "-m connmark --mark 0x0/0x%x -m connbytes --connbytes %llu: "
	     "--connbytes-dir both --connbytes-mode packets",
	     IJNFT_MARK_VERDICT_MASK,
	     (unsigned long long)cfg->inspect_packets + 1);
	rule(r, IJNFT_CTR_ACK, CH_FWD, "-j RETURN",
	     "-p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK ACK "
	     "-m length --length 0:%d", ACK_MAX_LEN);
	for (unsigned int i = 0; i < cfg->n_trusted; i++) {
		const struct ijnft_trusted *t = &cfg->trusted[i];

		if (t->family != family)
			continue;
		addr_text(family, t->addr, a, sizeof(a));
		rule(r, -1, CH_FWD,
		     t->observed ? "-j " CH_OBSERVE : "-j " CH_TRUST,
		     "-s %s/%u -m mac --mac-source "
		     "%02x:%02x:%02x:%02x:%02x:%02x", a, plen, t->mac[0],
		     t->mac[1], t->mac[2], t->mac[3], t->mac[4], t->mac[5]);
		jumps++;
	}
	/* IOTJAIL-TRUST or -OBSERVE wrote the allow into conntrack:
	 * accepted. */
	if (jumps)
		rule(r, -1, CH_FWD, "-j RETURN", "-m connmark --mark 0x%x/0x%x",
		     allow, m);
	if (cfg->queue_count == 1)
		snprintf(target, sizeof(target), "-j NFQUEUE --queue-num %u%s",
			 cfg->queue_first,
			 cfg->fail_closed ? "" : " --queue-bypass");
	else
		snprintf(target, sizeof(target),
			 "-j NFQUEUE --queue-balance %u:%u%s", cfg->queue_first,
			 cfg->queue_first + cfg->queue_count - 1u,
			 cfg->fail_closed ? "" : " --queue-bypass");
	rule(r, IJNFT_CTR_QUEUED, CH_FWD, target, "%s", "");

	if (with_qdrop)
		rule(r, IJNFT_CTR_QUARANTINE, CH_QDROP, "-j DROP", "%s", "");
	if (n_devices(cfg, r->fam, false))
		put_allow_chain(r, cfg, CH_TRUST, NULL, IJNFT_CTR_TRUSTED);
	/* No --nflog-size (nft's snaplen): iptables 1.4 does not know it, and
	 * 3.10's xt_NFLOG refuses the flag it sets (XT_NFLOG_MASK is 0 there);
	 * the copy range the listener asks for applies (docs/iptables.md). */
	if (n_devices(cfg, r->fam, true)) {
		snprintf(target, sizeof(target),
			 "-j NFLOG --nflog-group %u --nflog-threshold %d",
			 cfg->observe_group, NFLOG_THRESHOLD);
		put_allow_chain(r, cfg, CH_OBSERVE, target, IJNFT_CTR_OBSERVED);
	}
}

/* --- what iptables-save shows ----------------------------------------------- */

/* The next line of text at *p: start and length (without the newline);
 * false at the end. */
static bool next_line(const char **p, const char **line, size_t *len)
{
	const char *nl;

	if (!*p || !**p)
		return false;
	*line = *p;
	nl = strchr(*p, '\n');
	*len = nl ? (size_t)(nl - *p) : strlen(*p);
	*p = nl ? nl + 1 : *p + *len;
	return true;
}

static bool ours(const char *name, size_t len)
{
	size_t n = strlen(IJIPT_PREFIX);

	return len >= n && !memcmp(name, IJIPT_PREFIX, n) &&
	       (len == n || name[n] == '-');
}

/* The word at s (up to a space or the end of the line); its length. */
static size_t word_len(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != ' ' && s[n] != '\t')
		n++;
	return n;
}

/* A "-A CHAIN ..." line, after an optional "[p:b] ": the chain's name and
 * where the rule's spec starts (after "-A "). */
static bool rule_line(const char *line, size_t len, const char **chain,
		      size_t *chain_len, const char **spec)
{
	const char *p = line, *end = line + len;

	if (p < end && *p == '[') {
		while (p < end && *p != ']')
			p++;
		if (p < end)
			p++;
		while (p < end && *p == ' ')
			p++;
	}
	if (end - p < 4 || memcmp(p, "-A ", 3))
		return false;
	*spec = p + 3;
	*chain = p + 3;
	*chain_len = word_len(*chain, (size_t)(end - *chain));
	return true;
}

/* A rule in a chain not ours whose target (-j or -g) is a chain of ours:
 * our hook, or a leftover of one. */
static bool hook_line(const char *line, size_t len)
{
	const char *chain, *spec, *end = line + len;
	size_t clen;

	if (!rule_line(line, len, &chain, &clen, &spec) || ours(chain, clen))
		return false;
	for (const char *p = spec; p + 4 <= end; p++) {
		if ((memcmp(p, " -j ", 4) && memcmp(p, " -g ", 4)))
			continue;
		if (ours(p + 4, word_len(p + 4, (size_t)(end - p - 4))))
			return true;
	}
	return false;
}

/* A ":CHAIN POLICY [p:b]" line of a chain of ours; its name. */
static bool chain_line(const char *line, size_t len, const char **name,
		       size_t *name_len)
{
	if (len < 2 || line[0] != ':')
		return false;
	*name = line + 1;
	*name_len = word_len(*name, len - 1);
	return ours(*name, *name_len);
}

static bool in_list(const char *name, size_t len, const char *const *list,
		    size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && !memcmp(list[i], name, len))
			return true;
	return false;
}

/*
 * The lines of current's section *table: declarations (":X - [0:0]") of our
 * chains not in keep, "-D" of the hooks, "-X" of those chains.  The
 * declarations flush the chains (or create them, which -X then undoes), so
 * that nothing refers to them any more when they are deleted.
 */
static void put_cleanup(struct sb *s, const char *current, const char *table,
			const char *const *keep, size_t n_keep)
{
	for (int pass = 0; pass < 3; pass++) {
		const char *p = current, *line, *name;
		size_t len, nlen;
		bool in = false;

		while (next_line(&p, &line, &len)) {
			if (line[0] == '*') {
				in = len - 1 == strlen(table) &&
				     !memcmp(line + 1, table, len - 1);
				continue;
			}
			if (!in)
				continue;
			if (pass != 1 && chain_line(line, len, &name, &nlen) &&
			    !in_list(name, nlen, keep, n_keep))
				sb_printf(s, pass == 0 ? ":%.*s - [0:0]\n" :
							 "-X %.*s\n",
					  (int)nlen, name);
			if (pass == 1 && hook_line(line, len)) {
				const char *chain, *spec;
				size_t clen;

				rule_line(line, len, &chain, &clen, &spec);
				sb_printf(s, "-D %.*s\n",
					  (int)(len - (size_t)(spec - line)), spec);
			}
		}
	}
}

/* Whether current's section *table has the chain of ours called chain, or
 * (chain NULL) any chain of ours or rule jumping to one.  current may be
 * NULL (nothing there). */
static bool table_has(const char *current, const char *table,
		      const char *chain)
{
	const char *p = current, *line, *name;
	size_t len, nlen;
	bool in = false;

	while (next_line(&p, &line, &len)) {
		if (line[0] == '*')
			in = len - 1 == strlen(table) &&
			     !memcmp(line + 1, table, len - 1);
		else if (in && chain_line(line, len, &name, &nlen) &&
			 (!chain || in_list(name, nlen, &chain, 1)))
			return true;
		else if (in && !chain && hook_line(line, len))
			return true;
	}
	return false;
}

/* --- builders ------------------------------------------------------------------- */

static int check(const struct ijnft_config *cfg, enum ijipt_family f)
{
	if ((unsigned int)f >= __IJIPT_FAMILY_MAX)
		return -EINVAL;
	return ijipt_config_check(cfg, NULL);
}

/* The two tables, filter first: without the mangle part it acts on nothing,
 * while the mangle part without it would queue with no verdict kept. */
static const struct {
	const char *name;
	const char *const *chains;
	size_t n;
} tables[] = {
	{ "filter", filter_chains, sizeof(filter_chains) / sizeof(*filter_chains) },
	{ "mangle", mangle_chains, sizeof(mangle_chains) / sizeof(*mangle_chains) },
};

static bool quarantine_chain(const char *name)
{
	return !strcmp(name, CH_QUAR) || !strcmp(name, CH_QDROP);
}

/*
 * Install: every chain declared (created, or flushed if there), leftovers
 * of current removed, rules, the hook.  Reload (!install): every chain but
 * the quarantine's flushed with -F, which fails on a chain that is not
 * there (not installed) instead of creating it unhooked; rules.
 *
 * IOTJAIL-OBSERVE exists only while the family has observed devices, so
 * that a ruleset without any is the same as before it was added.  A reload
 * declares it (created, or flushed if there: the previous generation may
 * have had none); a reload without observed devices deletes it if current
 * has it or (current NULL) may have it: IOTJAIL-FWD, which alone jumps to
 * it, was flushed above.
 */
static int build_ruleset(const struct ijnft_config *cfg, enum ijipt_family f,
			 bool install, const char *current,
			 const struct ijnft_counters *start, char *buf,
			 size_t len)
{
	struct sb s;
	struct rules r = { .s = &s, .fam = f, .start = start };
	int ret = check(cfg, f);
	bool observe;

	if (ret)
		return ret;
	observe = n_devices(cfg, f, true) > 0;
	sb_init(&s, buf, len);
	for (size_t t = 0; t < sizeof(tables) / sizeof(*tables); t++) {
		const char *chains[MAX_CHAINS];
		size_t n = tables[t].n;

		memcpy(chains, tables[t].chains, n * sizeof(*chains));
		if (t == 1 && observe)	/* mangle */
			chains[n++] = CH_OBSERVE;
		sb_printf(&s, "*%s\n", tables[t].name);
		for (size_t i = 0; i < n; i++)
			if (install || !strcmp(chains[i], CH_OBSERVE))
				sb_printf(&s, ":%s - [0:0]\n", chains[i]);
			else if (!quarantine_chain(chains[i]))
				sb_printf(&s, "-F %s\n", chains[i]);
		if (install && current)
			put_cleanup(&s, current, tables[t].name, chains, n);
		if (!install && t == 1 && !observe &&
		    (!current || table_has(current, tables[t].name, CH_OBSERVE)))
			sb_printf(&s, ":%s - [0:0]\n-X %s\n", CH_OBSERVE,
				  CH_OBSERVE);
		if (t == 0)
			put_filter(&r, cfg);
		else
			put_mangle(&r, cfg, install);
		if (install)
			sb_printf(&s, "-I FORWARD 1 -j %s\n", CH_MAIN);
		sb_printf(&s, "COMMIT\n");
	}
	return sb_result(&s);
}

int ijipt_build_install(const struct ijnft_config *cfg, enum ijipt_family f,
			const char *current, char *buf, size_t len)
{
	return build_ruleset(cfg, f, true, current, NULL, buf, len);
}

int ijipt_build_generation(const struct ijnft_config *cfg,
			   enum ijipt_family f, const char *current,
			   const struct ijnft_counters *start, char *buf,
			   size_t len)
{
	return build_ruleset(cfg, f, false, current, start, buf, len);
}

int ijipt_build_quarantine(const struct ijipt_quarantine *q, unsigned int n,
			   char *buf, size_t len)
{
	struct sb s;

	if (n && !q)
		return -EINVAL;
	sb_init(&s, buf, len);
	sb_printf(&s, "*mangle\n-F %s\n", CH_QUAR);
	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *m = q[i].mac;

		sb_printf(&s, "-A %s -m mac --mac-source "
			  "%02x:%02x:%02x:%02x:%02x:%02x -m comment --comment ",
			  CH_QUAR, m[0], m[1], m[2], m[3], m[4], m[5]);
		if (q[i].expires_ms)
			sb_printf(&s, "expires=%llu",
				  (unsigned long long)q[i].expires_ms);
		else
			sb_printf(&s, "expires=never");
		sb_printf(&s, " -j %s\n", CH_QDROP);
	}
	sb_printf(&s, "COMMIT\n");
	return sb_result(&s);
}

int ijipt_build_remove(const char *current, char *buf, size_t len)
{
	struct sb s;

	sb_init(&s, buf, len);
	if (!current)
		return 0;
	for (size_t i = 0; i < sizeof(tables) / sizeof(*tables); i++) {
		if (!table_has(current, tables[i].name, NULL))
			continue;
		sb_printf(&s, "*%s\n", tables[i].name);
		put_cleanup(&s, current, tables[i].name, NULL, 0);
		sb_printf(&s, "COMMIT\n");
	}
	return sb_result(&s);
}

/* The value of a rule's --comment (quoted or not) into out; false if none. */
static bool comment_of(const char *line, size_t len, char *out, size_t n)
{
	static const char key[] = " --comment ";
	const char *end = line + len, *p = NULL;
	size_t k = 0;

	for (const char *q = line; q + sizeof(key) - 1 <= end; q++)
		if (!memcmp(q, key, sizeof(key) - 1)) {
			p = q + sizeof(key) - 1;
			break;
		}
	if (!p || n == 0)
		return false;
	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			if (k + 1 < n)
				out[k++] = *p;
		}
	} else {
		for (; p < end && *p != ' '; p++)
			if (k + 1 < n)
				out[k++] = *p;
	}
	out[k] = '\0';
	return true;
}

int ijipt_parse_counters(const char *save, struct ijnft_counters *out)
{
	const char *p = save, *line, *chain, *spec;
	size_t len, clen;
	int rules = 0;

	while (next_line(&p, &line, &len)) {
		unsigned long long pk = 0, by = 0;
		char comment[64];

		if (!rule_line(line, len, &chain, &clen, &spec) ||
		    !ours(chain, clen) ||
		    (clen == strlen(CH_PROBE) && !memcmp(chain, CH_PROBE, clen)))
			continue;
		rules++;
		if (!comment_of(line, len, comment, sizeof(comment)) ||
		    sscanf(line, "[%llu:%llu]", &pk, &by) != 2)
			continue;
		for (int c = 0; c < __IJNFT_CTR_MAX; c++)
			if (!strcmp(comment, ijnft_ctr_name(c))) {
				out->packets[c] += pk;
				out->bytes[c] += by;
			}
	}
	return rules;
}

int ijipt_parse_quarantine(const char *save, struct ijipt_quarantine *q,
			   unsigned int max)
{
	const char *p = save, *line, *chain, *spec;
	size_t len, clen;
	unsigned int n = 0;

	while (n < max && next_line(&p, &line, &len)) {
		unsigned int b[6];
		char comment[64], *mac;
		char copy[512];

		if (!rule_line(line, len, &chain, &clen, &spec) ||
		    clen != strlen(CH_QUAR) || memcmp(chain, CH_QUAR, clen) ||
		    len >= sizeof(copy))
			continue;
		memcpy(copy, line, len);
		copy[len] = '\0';
		mac = strstr(copy, "--mac-source ");
		if (!mac || sscanf(mac + 13, "%x:%x:%x:%x:%x:%x", &b[0], &b[1],
				   &b[2], &b[3], &b[4], &b[5]) != 6)
			continue;
		for (int i = 0; i < 6; i++)
			q[n].mac[i] = (uint8_t)b[i];
		q[n].expires_ms = 0;
		if (comment_of(line, len, comment, sizeof(comment)) &&
		    !strncmp(comment, "expires=", 8))
			q[n].expires_ms = strtoull(comment + 8, NULL, 10);
		n++;
	}
	return (int)n;
}

/* --- running iptables --------------------------------------------------------------- */

/* What peers share: one lock over every change (iptables 1.4 has no lock of
 * its own, and a concurrent commit fails), and the quarantine list. */
struct shared {
	pthread_mutex_t mu;
	struct ijipt_quarantine q[IJIPT_MAX_QUARANTINE];
	unsigned int n;
	bool loaded;		/* q read from the kernel (or installed) */
	uint64_t next_ms;	/* earliest expiry; UINT64_MAX: none */
};

struct ijipt {
	struct shared *sh;
	bool own_sh;
	char restore[__IJIPT_FAMILY_MAX][PATH_MAX];
	char save[__IJIPT_FAMILY_MAX][PATH_MAX];
	char describe[PATH_MAX + 160];
	int probed;		/* 1 ok, 0 not yet, -errno */
	char probe_err[ERR_MAX];
	/* The last applied configuration, to undo a half-applied reload. */
	bool have_last;
	struct ijnft_config last;
	struct ijnft_trusted last_trusted[IJNFT_MAX_TRUSTED];
	struct ijnft_prefix last_lan[IJNFT_MAX_LAN];
	char err[ERR_MAX];
	bool failed;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 2, 3)))
static void set_err(struct ijipt *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->err, sizeof(h->err), fmt, ap);
	va_end(ap);
	h->failed = true;
}

/* Appends up to n bytes (capped at the total max) to a growing buffer. */
static int grow_append(char **buf, size_t *used, size_t *cap, const char *src,
		       size_t n)
{
	if (*used + n + 1 > *cap) {
		size_t c = *cap ? *cap : 4096;
		char *b;

		while (c < *used + n + 1)
			c *= 2;
		if (c > RUN_OUT_MAX)
			return -E2BIG;
		b = realloc(*buf, c);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *used, src, n);
	*used += n;
	(*buf)[*used] = '\0';
	return 0;
}

struct child_io {
	const char *in;		/* NULL: stdin is /dev/null */
	size_t in_len;
	char *out;		/* malloc'd, NUL-terminated (may be NULL) */
	size_t out_used, out_cap;
	char err[ERR_MAX];
	size_t err_used;
	int status;		/* exit status, 128+signal, or -1 (timeout) */
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Pumps stdin/stdout/stderr of a child until both outputs are closed or the
 * deadline passes.  The input is written while reading, so no pipe can
 * fill up and stall both sides.
 */
static int pump(struct child_io *io, int *in_fd, int *out_fd, int *err_fd,
		uint64_t deadline)
{
	size_t written = 0;
	char buf[4096];

	while (*out_fd >= 0 || *err_fd >= 0) {
		struct pollfd p[3] = {
			{ .fd = *in_fd, .events = POLLOUT },
			{ .fd = *out_fd, .events = POLLIN },
			{ .fd = *err_fd, .events = POLLIN },
		};
		uint64_t now = mono_ms();
		ssize_t n;
		int r;

		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(p, 3, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (*in_fd >= 0 && (p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = write(*in_fd, io->in + written, io->in_len - written);
			if (n > 0)
				written += (size_t)n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
			    written == io->in_len)
				close_fd(in_fd);	/* EPIPE: it stopped reading */
		}
		if (*out_fd >= 0 && (p[1].revents & (POLLIN | POLLERR | POLLHUP))) {
			n = read(*out_fd, buf, sizeof(buf));
			if (n > 0 && (r = grow_append(&io->out, &io->out_used,
						      &io->out_cap, buf, (size_t)n)))
				return r;
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				close_fd(out_fd);
		}
		if (*err_fd >= 0 && (p[2].revents & (POLLIN | POLLERR | POLLHUP))) {
			n = read(*err_fd, buf, sizeof(buf));
			if (n > 0) {
				size_t k = (size_t)n;

				if (k > sizeof(io->err) - 1 - io->err_used)
					k = sizeof(io->err) - 1 - io->err_used;
				memcpy(io->err + io->err_used, buf, k);
				io->err_used += k;
				io->err[io->err_used] = '\0';
			}
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				close_fd(err_fd);
		}
	}
	return 0;
}

/*
 * Runs path with args (argv[0] is path), no shell.  The child gets an empty
 * signal mask and default SIGPIPE (the daemon blocks its signals in every
 * thread and ignores SIGPIPE); our own writes to its stdin are done with
 * SIGPIPE blocked in this thread, and a SIGPIPE they raise is consumed, so
 * a child that exits early cannot kill us.  0 with io->status set, or
 * -errno (-ETIMEDOUT: killed after RUN_TIMEOUT_MS).
 */
static int run(const char *path, const char *const *args, struct child_io *io)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, pipe_set, old, pending;
	bool pipe_was_pending;
	pid_t pid;
	int ret, st;

	io->status = -1;
	io->err[0] = '\0';
	io->err_used = 0;
	if ((io->in && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
	    pipe2(err, O_CLOEXEC) < 0) {
		ret = -errno;
		goto close;
	}
	posix_spawn_file_actions_init(&fa);
	if (io->in)
		posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	else
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
						 O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &pipe_set);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
					POSIX_SPAWN_SETSIGDEF);
	ret = posix_spawn(&pid, path, &fa, &attr, (char *const *)args, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (ret) {
		ret = -ret;
		goto close;
	}
	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&err[1]);
	if (in[1] >= 0)
		fcntl(in[1], F_SETFL, O_NONBLOCK);

	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	pipe_was_pending = sigismember(&pending, SIGPIPE);
	ret = pump(io, &in[1], &out[0], &err[0], mono_ms() + RUN_TIMEOUT_MS);
	if (!pipe_was_pending) {
		struct timespec zero = { 0, 0 };

		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (ret == -ETIMEDOUT)
		kill(pid, SIGKILL);	/* our own child, by its pid */
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			if (!ret)
				ret = -errno;
			goto close;
		}
	}
	if (!ret)
		io->status = WIFEXITED(st) ? WEXITSTATUS(st)
					   : 128 + WTERMSIG(st);
close:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&err[0]);
	close_fd(&err[1]);
	return ret;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The n-th line (from 1) of text into out; "" if there is none. */
static void nth_line(const char *text, unsigned int n, char *out, size_t len)
{
	const char *p = text, *line = NULL;
	size_t l = 0;

	out[0] = '\0';
	for (unsigned int i = 0; i < n; i++)
		if (!next_line(&p, &line, &l))
			return;
	snprintf(out, len, "%.*s", (int)(l > 300 ? 300 : l), line);
}

/*
 * The error of a failed restore, as one line: which binary, which input
 * line (iptables 1.8: "Error occurred at line: N"; 1.4 and commit errors:
 * "line N failed"), that line, and iptables' own first line of message.
 * Returns -ENOENT for a failing `-F` (a chain of ours missing: not
 * installed), -EAGAIN for a concurrent commit, else -EINVAL (iptables'
 * exit status 2: a parameter problem) or -EIO.
 */
static int restore_error(struct ijipt *h, const char *path, const char *input,
			 const struct child_io *io)
{
	const char *e = io->err, *line, *msg = NULL;
	char text[320] = "", first[320] = "";
	unsigned int n = 0;
	size_t len;
	int ret;

	while (next_line(&e, &line, &len)) {
		const char *at;

		if ((at = memmem(line, len, "line: ", 6)) ||
		    (at = memmem(line, len, "line ", 5)))
			if (!n && sscanf(strchr(at, ' ') + 1, "%u", &n) != 1)
				n = 0;
		if (!msg && len && !memmem(line, len, "Error occurred at line", 22) &&
		    !memmem(line, len, " failed", 7) &&
		    !memmem(line, len, "Try `", 5)) {
			msg = line;
			snprintf(first, sizeof(first), "%.*s",
				 (int)(len > 300 ? 300 : len), line);
		}
	}
	if (!msg && io->err_used)
		snprintf(first, sizeof(first), "%.300s", io->err);
	for (char *c = first; *c; c++)
		if (*c == '\n')
			*c = ' ';
	if (n)
		nth_line(input, n, text, sizeof(text));
	if (io->status < 0)
		snprintf(first, sizeof(first), "killed after %d s (is another "
			 "program holding the xtables lock?)",
			 RUN_TIMEOUT_MS / 1000);
	if (!strcmp(text, "COMMIT"))
		set_err(h, "%s: the kernel refused a table at its COMMIT (input "
			"line %u; the kernel log says why)%s%s", base(path), n,
			first[0] ? ": " : "", first);
	else if (n)
		set_err(h, "%s: line %u (%s): %s", base(path), n, text,
			first[0] ? first : "failed");
	else
		set_err(h, "%s: %s (exit status %d)", base(path),
			first[0] ? first : "failed", io->status);
	if (!strncmp(text, "-F ", 3))
		ret = -ENOENT;
	else if (strstr(io->err, "Resource temporarily unavailable"))
		ret = -EAGAIN;
	else if (strstr(io->err, "Permission denied") ||
		 strstr(io->err, "Operation not permitted"))
		ret = -EPERM;
	else if (io->status < 0)
		ret = -ETIMEDOUT;
	else
		ret = io->status == 2 ? -EINVAL : -EIO;
	return ret;
}

/* iptables-restore --noflush --counters of family f with input text. */
static int restore(struct ijipt *h, enum ijipt_family f, const char *text)
{
	const char *args[] = { h->restore[f], "--noflush", "--counters", NULL };
	int ret = 0;

	if (!text[0])
		return 0;
	for (int tries = 0; tries < EAGAIN_TRIES; tries++) {
		struct child_io io = { .in = text, .in_len = strlen(text) };

		ret = run(h->restore[f], args, &io);
		free(io.out);
		if (ret) {
			set_err(h, "%s: %s", base(h->restore[f]), strerror(-ret));
			return ret;
		}
		if (io.status == 0)
			return 0;
		ret = restore_error(h, h->restore[f], text, &io);
		if (ret != -EAGAIN)
			return ret;
		usleep(50000);
	}
	return ret;
}

/* iptables-save [-c] of family f into *out (malloc'd). */
static int save(struct ijipt *h, enum ijipt_family f, bool counters,
		char **out)
{
	const char *args[] = { h->save[f], counters ? "-c" : NULL, NULL };
	struct child_io io = { .in = NULL };
	int ret = run(h->save[f], args, &io);

	*out = NULL;
	if (ret) {
		free(io.out);
		set_err(h, "%s: %s", base(h->save[f]), strerror(-ret));
		return ret;
	}
	if (io.status != 0) {
		for (char *c = io.err; *c; c++)
			if (*c == '\n')
				*c = ' ';
		set_err(h, "%s: %s (exit status %d)", base(h->save[f]),
			io.err[0] ? io.err : "failed", io.status);
		free(io.out);
		return -EIO;
	}
	*out = io.out ? io.out : strdup("");
	return *out ? 0 : -ENOMEM;
}

/* A builder's text in a fresh buffer: the first call measures. */
typedef int (*build_fn)(const void *arg, char *buf, size_t len);

static int build_alloc(build_fn fn, const void *arg, char **out)
{
	int n = fn(arg, NULL, 0);

	*out = NULL;
	if (n < 0)
		return n;
	*out = malloc((size_t)n + 1);
	if (!*out)
		return -ENOMEM;
	return fn(arg, *out, (size_t)n + 1) == n ? 0 : -EIO;
}

/* --- opening --------------------------------------------------------------------- */

static const char *const search_dirs[] = { "/usr/sbin", "/sbin",
					   "/usr/local/sbin", "/usr/bin",
					   "/bin" };

/*
 * The restore binary of a family: NAME-legacy-restore, else NAME-restore
 * unless `-V` says it is the nf_tables variant (iptables 1.4 knows no -V:
 * it complains, reads the empty stdin and exits, which is fine).  *version
 * gets the first line `-V` printed, if any.
 */
static bool find_restore(const char *name, char *path, char *version,
			 size_t vlen)
{
	for (int legacy = 1; legacy >= 0; legacy--)
		for (size_t i = 0; i < sizeof(search_dirs) / sizeof(*search_dirs); i++) {
			const char *args[3] = { path, "-V", NULL };
			struct child_io io = { .in = NULL };
			char *nl;

			snprintf(path, PATH_MAX, "%s/%s%s-restore",
				 search_dirs[i], name, legacy ? "-legacy" : "");
			if (access(path, X_OK) < 0)
				continue;
			if (run(path, args, &io) < 0) {
				free(io.out);
				continue;
			}
			snprintf(version, vlen, "%s", io.out ? io.out : "");
			free(io.out);
			if ((nl = strchr(version, '\n')))
				*nl = '\0';
			if (strstr(version, "nf_tables") ||
			    strstr(io.err, "nf_tables"))
				continue;
			if (strncmp(version, name, strlen(name)))
				snprintf(version, vlen, "%s-restore (version "
					 "unknown: no -V, so 1.4 or older)",
					 name);
			return true;
		}
	return false;
}

static int shared_new(struct shared **out)
{
	struct shared *sh = calloc(1, sizeof(*sh));

	if (!sh)
		return -ENOMEM;
	if (pthread_mutex_init(&sh->mu, NULL)) {
		free(sh);
		return -ENOMEM;
	}
	*out = sh;
	return 0;
}

int ijipt_open(struct ijipt **out, const char **why)
{
	static const char *const names[] = { "iptables", "ip6tables" };
	struct ijipt *h;
	char version[__IJIPT_FAMILY_MAX][128];
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if ((ret = shared_new(&h->sh))) {
		free(h);
		return ret;
	}
	h->own_sh = true;
	for (int f = 0; f < __IJIPT_FAMILY_MAX; f++) {
		char *r;

		if (!find_restore(names[f], h->restore[f], version[f],
				  sizeof(version[f]))) {
			if (why)
				*why = f == IJIPT_IPV4 ?
				       "no legacy iptables-restore (package "
				       "iptables: iptables-legacy-restore)" :
				       "no legacy ip6tables-restore (package "
				       "iptables: ip6tables-legacy-restore)";
			ijipt_close(h);
			return -ENOENT;
		}
		/* ...-restore -> ...-save, beside it: the same version. */
		memcpy(h->save[f], h->restore[f], PATH_MAX);
		r = strstr(h->save[f], "-restore");
		memcpy(r, "-save", 6);
		if (access(h->save[f], X_OK) < 0) {
			if (why)
				*why = "no iptables-save beside iptables-restore";
			ijipt_close(h);
			return -ENOENT;
		}
	}
	snprintf(h->describe, sizeof(h->describe), "%s, %s", version[0],
		 h->restore[0]);
	*out = h;
	return 0;
}

int ijipt_open_peer(struct ijipt **out, struct ijipt *main)
{
	struct ijipt *h;

	if (!out || !main)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->sh = main->sh;
	memcpy(h->restore, main->restore, sizeof(h->restore));
	memcpy(h->save, main->save, sizeof(h->save));
	memcpy(h->describe, main->describe, sizeof(h->describe));
	h->probed = main->probed;
	*out = h;
	return 0;
}

void ijipt_close(struct ijipt *h)
{
	if (!h)
		return;
	if (h->own_sh) {
		pthread_mutex_destroy(&h->sh->mu);
		free(h->sh);
	}
	free(h);
}

const char *ijipt_error_what(const struct ijipt *h)
{
	return h && h->failed ? h->err : NULL;
}

const char *ijipt_describe(const struct ijipt *h)
{
	return h ? h->describe : NULL;
}

static void op_start(struct ijipt *h)
{
	h->failed = false;
	h->err[0] = '\0';
}

/* op_start(), and a configuration the ruleset can express. */
static int op_start_config(struct ijipt *h, const struct ijnft_config *cfg)
{
	const char *why = NULL;
	int ret;

	if (!h)
		return -EINVAL;
	op_start(h);
	if ((ret = ijipt_config_check(cfg, &why)))
		set_err(h, "%s", why);
	return ret;
}

/* --- operations ----------------------------------------------------------------------- */

/* A rule of each match and target the ruleset uses, in a chain nothing
 * jumps to: the kernel checks them at the COMMIT, no packet meets them. */
static void put_probe(struct sb *s, enum ijipt_family f)
{
	sb_printf(s, "*filter\n:%s - [0:0]\n", CH_PROBE);
	sb_printf(s, "-A %s -m mark --mark 0x101/0xff03 -m comment --comment "
		  "\"mark allow\" -j CONNMARK --set-xmark 0x101/0xff03\n"
		  "-A %s -j MARK --set-xmark 0x0/0xff07\n"
		  "-A %s -p tcp -m connmark --mark 0x103/0xff03 -j REJECT "
		  "--reject-with tcp-reset\n-A %s %s\nCOMMIT\n", CH_PROBE,
		  CH_PROBE, CH_PROBE, CH_PROBE, icmp_reject(f));
	sb_printf(s, "*mangle\n:%s - [0:0]\n", CH_PROBE);
	sb_printf(s, "-A %s -m mac --mac-source 02:00:00:00:00:00 -j DROP\n"
		  "-A %s -m connmark --mark 0x0/0x3 -m connbytes --connbytes 9: "
		  "--connbytes-dir both --connbytes-mode packets -j RETURN\n"
		  "-A %s -p tcp -m tcp --tcp-flags FIN,SYN,RST,PSH,ACK ACK "
		  "-m length --length 0:100 -j RETURN\n"
		  "-A %s -d %s -j CONNMARK --set-xmark 0x101/0xff03\n"
		  "-A %s -j NFQUEUE --queue-balance 0:1 --queue-bypass\n"
		  "-A %s -j NFLOG --nflog-group 1 --nflog-threshold %d\n"
		  "COMMIT\n", CH_PROBE, CH_PROBE, CH_PROBE, CH_PROBE,
		  f == IJIPT_IPV6 ? "fd00::/8" : "10.0.0.0/8", CH_PROBE,
		  CH_PROBE, NFLOG_THRESHOLD);
}

int ijipt_probe(struct ijipt *h)
{
	/* Creates the chain if a failure left nothing, then deletes it. */
	static const char cleanup[] =
		"*filter\n:" CH_PROBE " - [0:0]\n-X " CH_PROBE "\nCOMMIT\n"
		"*mangle\n:" CH_PROBE " - [0:0]\n-X " CH_PROBE "\nCOMMIT\n";
	char text[2048];
	int ret = 0;

	if (!h)
		return -EINVAL;
	op_start(h);
	if (h->probed) {
		if (h->probed < 0)
			set_err(h, "%s", h->probe_err);
		return h->probed < 0 ? h->probed : 0;
	}
	pthread_mutex_lock(&h->sh->mu);
	for (int f = 0; f < __IJIPT_FAMILY_MAX && !ret; f++) {
		struct sb s;

		sb_init(&s, text, sizeof(text));
		put_probe(&s, f);
		ret = restore(h, f, text);
		/* Whatever committed goes again, also after a failure (a
		 * filter COMMIT can succeed before mangle's fails). */
		if (ret) {
			char keep[ERR_MAX];

			memcpy(keep, h->err, sizeof(keep));
			restore(h, f, cleanup);
			memcpy(h->err, keep, sizeof(keep));
			h->failed = true;
		} else {
			ret = restore(h, f, cleanup);
		}
	}
	pthread_mutex_unlock(&h->sh->mu);
	h->probed = ret ? ret : 1;
	if (ret)
		snprintf(h->probe_err, sizeof(h->probe_err), "%s", h->err);
	return ret;
}

static void keep_last(struct ijipt *h, const struct ijnft_config *cfg)
{
	h->last = *cfg;
	if (cfg->n_trusted)
		memcpy(h->last_trusted, cfg->trusted,
		       cfg->n_trusted * sizeof(*cfg->trusted));
	if (cfg->n_lan)
		memcpy(h->last_lan, cfg->lan, cfg->n_lan * sizeof(*cfg->lan));
	h->last.trusted = h->last_trusted;
	h->last.lan = h->last_lan;
	h->have_last = true;
}

struct install_arg {
	const struct ijnft_config *cfg;
	enum ijipt_family f;
	const char *current;
	const struct ijnft_counters *start;
};

static int install_fn(const void *arg, char *buf, size_t len)
{
	const struct install_arg *a = arg;

	return ijipt_build_install(a->cfg, a->f, a->current, buf, len);
}

static int generation_fn(const void *arg, char *buf, size_t len)
{
	const struct install_arg *a = arg;

	return ijipt_build_generation(a->cfg, a->f, a->current, a->start, buf,
				      len);
}

static int remove_fn(const void *arg, char *buf, size_t len)
{
	const struct install_arg *a = arg;

	return ijipt_build_remove(a->current, buf, len);
}

/*
 * For each family: what is there (iptables-save), the text fn builds from
 * it, restored.  Stops at the first failure unless best_effort (an undo,
 * where every bit removed helps).  Lock held.
 */
static int from_current(struct ijipt *h, const struct ijnft_config *cfg,
			build_fn fn, bool best_effort)
{
	int ret = 0, first = 0;

	for (int f = 0; f < __IJIPT_FAMILY_MAX; f++) {
		struct install_arg a = { .cfg = cfg, .f = f };
		char *cur = NULL, *text = NULL;

		if (!(ret = save(h, f, false, &cur))) {
			a.current = cur;
			if (!(ret = build_alloc(fn, &a, &text)))
				ret = restore(h, f, text);
		}
		free(cur);
		free(text);
		if (ret && !first)
			first = ret;
		if (ret && !best_effort)
			break;
	}
	return first;
}

/* Undoes an install that failed half-way (lock held). */
static void remove_locked(struct ijipt *h)
{
	from_current(h, NULL, remove_fn, true);
}

int ijipt_install(struct ijipt *h, const struct ijnft_config *cfg)
{
	int ret;

	if ((ret = op_start_config(h, cfg)))
		return ret;
	pthread_mutex_lock(&h->sh->mu);
	if ((ret = from_current(h, cfg, install_fn, false))) {
		char keep[ERR_MAX];

		memcpy(keep, h->err, sizeof(keep));
		remove_locked(h);
		memcpy(h->err, keep, sizeof(keep));
		h->failed = true;
	} else {
		keep_last(h, cfg);
		h->sh->n = 0;
		h->sh->loaded = true;
		h->sh->next_ms = UINT64_MAX;
	}
	pthread_mutex_unlock(&h->sh->mu);
	return ret;
}

/* Counters of family f (lock held or not: reading needs none); *saved, if
 * not NULL, gets the iptables-save -c text they came from (malloc'd). */
static int family_counters(struct ijipt *h, enum ijipt_family f,
			   struct ijnft_counters *out, char **saved)
{
	char *text = NULL;
	int ret = save(h, f, true, &text);

	memset(out, 0, sizeof(*out));
	if (ret)
		return ret;
	ret = ijipt_parse_counters(text, out);
	if (saved)
		*saved = text;
	else
		free(text);
	if (ret == 0) {
		set_err(h, "%s: no chain of ours (%s*): not installed",
			base(h->save[f]), IJIPT_PREFIX);
		return -ENOENT;
	}
	return 0;
}

static int apply_generation(struct ijipt *h, const struct ijnft_config *cfg,
			    enum ijipt_family f, const char *current,
			    const struct ijnft_counters *start)
{
	struct install_arg a = { .cfg = cfg, .f = f, .current = current,
				 .start = start };
	char *text = NULL;
	int ret = build_alloc(generation_fn, &a, &text);

	if (!ret)
		ret = restore(h, f, text);
	free(text);
	return ret;
}

int ijipt_set_generation(struct ijipt *h, const struct ijnft_config *cfg)
{
	struct ijnft_counters start[__IJIPT_FAMILY_MAX];
	char *cur[__IJIPT_FAMILY_MAX] = { NULL };
	int ret, f;

	if ((ret = op_start_config(h, cfg)))
		return ret;
	pthread_mutex_lock(&h->sh->mu);
	for (f = 0; f < __IJIPT_FAMILY_MAX && !ret; f++)
		ret = family_counters(h, f, &start[f], &cur[f]);
	for (f = 0; f < __IJIPT_FAMILY_MAX && !ret; f++)
		if ((ret = apply_generation(h, cfg, f, cur[f], &start[f])))
			break;
	if (ret && h->have_last && ret != -ENOENT) {
		/* Half applied (an earlier family, or filter before mangle):
		 * put the previous generation back everywhere.  What is there
		 * now is not what was saved (current NULL: an
		 * IOTJAIL-OBSERVE the failed change created goes too). */
		char keep[ERR_MAX];

		memcpy(keep, h->err, sizeof(keep));
		for (int g = 0; g <= f && g < __IJIPT_FAMILY_MAX; g++)
			apply_generation(h, &h->last, g, NULL, &start[g]);
		memcpy(h->err, keep, sizeof(keep));
		h->failed = true;
	} else if (!ret) {
		keep_last(h, cfg);
	}
	pthread_mutex_unlock(&h->sh->mu);
	for (f = 0; f < __IJIPT_FAMILY_MAX; f++)
		free(cur[f]);
	return ret;
}

/* The quarantine list from the kernel, once per shared state (lock held):
 * a new process finds what an earlier one left. */
static int quarantine_load(struct ijipt *h)
{
	char *text = NULL;
	int ret, n;

	if (h->sh->loaded)
		return 0;
	if ((ret = save(h, IJIPT_IPV4, false, &text)))
		return ret;
	n = ijipt_parse_quarantine(text, h->sh->q, IJIPT_MAX_QUARANTINE);
	free(text);
	h->sh->n = (unsigned int)n;
	h->sh->loaded = true;
	h->sh->next_ms = 0;	/* look at the expiries at the next call */
	return 0;
}

/* IOTJAIL-QUAR rewritten from the list, both families (lock held). */
static int quarantine_apply(struct ijipt *h)
{
	int n = ijipt_build_quarantine(h->sh->q, h->sh->n, NULL, 0), ret;
	char *text;

	if (n < 0)
		return n;
	if (!(text = malloc((size_t)n + 1)))
		return -ENOMEM;
	ijipt_build_quarantine(h->sh->q, h->sh->n, text, (size_t)n + 1);
	ret = restore(h, IJIPT_IPV4, text);
	if (!ret)
		ret = restore(h, IJIPT_IPV6, text);
	free(text);
	return ret;
}

static void next_expiry(struct shared *sh)
{
	sh->next_ms = UINT64_MAX;
	for (unsigned int i = 0; i < sh->n; i++)
		if (sh->q[i].expires_ms && sh->q[i].expires_ms < sh->next_ms)
			sh->next_ms = sh->q[i].expires_ms;
}

/*
 * Changes the list (under the lock) by fn, writes it to the kernel, and
 * puts the old list back if that fails: the list always says what the
 * kernel has.
 */
static int quarantine_change(struct ijipt *h, const uint8_t mac[6],
			     uint64_t expires_ms, bool add)
{
	struct shared *sh;
	struct ijipt_quarantine old;
	unsigned int i, old_n;
	int ret;

	if (!h || !mac)
		return -EINVAL;
	op_start(h);
	sh = h->sh;
	pthread_mutex_lock(&sh->mu);
	if ((ret = quarantine_load(h)))
		goto out;
	for (i = 0; i < sh->n && memcmp(sh->q[i].mac, mac, 6); i++)
		;
	old_n = sh->n;
	if (i < sh->n)
		old = sh->q[i];
	if (!add && i == sh->n) {
		set_err(h, "%02x:%02x:%02x:%02x:%02x:%02x is not quarantined",
			mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		ret = -ENOENT;
		goto out;
	}
	if (add && i == sh->n && sh->n == IJIPT_MAX_QUARANTINE) {
		set_err(h, "more than %d quarantined MACs", IJIPT_MAX_QUARANTINE);
		ret = -ENOSPC;
		goto out;
	}
	if (add) {
		memcpy(sh->q[i].mac, mac, 6);
		sh->q[i].expires_ms = expires_ms;
		if (i == sh->n)
			sh->n++;
	} else {
		sh->q[i] = sh->q[--sh->n];
	}
	if ((ret = quarantine_apply(h))) {
		if (i < old_n && add)
			sh->q[i] = old;
		else if (add)
			sh->n = old_n;
		else
			sh->q[sh->n++] = old;	/* (order does not matter) */
	}
	next_expiry(sh);
out:
	pthread_mutex_unlock(&sh->mu);
	return ret;
}

int ijipt_quarantine_add(struct ijipt *h, const uint8_t mac[6],
			 uint32_t timeout_ms)
{
	return quarantine_change(h, mac, timeout_ms ? mono_ms() + timeout_ms : 0,
				 true);
}

int ijipt_quarantine_del(struct ijipt *h, const uint8_t mac[6])
{
	return quarantine_change(h, mac, 0, false);
}

int ijipt_expire(struct ijipt *h)
{
	struct shared *sh;
	struct ijipt_quarantine keep[IJIPT_MAX_QUARANTINE];
	unsigned int n = 0, kept_n;
	uint64_t now = mono_ms();
	int ret = 0;

	if (!h)
		return -EINVAL;
	op_start(h);
	sh = h->sh;
	pthread_mutex_lock(&sh->mu);
	if ((sh->loaded && now < sh->next_ms) || (ret = quarantine_load(h))) {
		pthread_mutex_unlock(&sh->mu);
		return sh->loaded ? 0 : ret;
	}
	kept_n = sh->n;
	memcpy(keep, sh->q, sh->n * sizeof(*keep));
	for (unsigned int i = 0; i < sh->n;)
		if (sh->q[i].expires_ms && sh->q[i].expires_ms <= now) {
			sh->q[i] = sh->q[--sh->n];
			n++;
		} else {
			i++;
		}
	ret = n ? quarantine_apply(h) : 0;
	if (ret) {
		memcpy(sh->q, keep, kept_n * sizeof(*keep));
		sh->n = kept_n;
	}
	next_expiry(sh);
	if (ret && sh->next_ms < now + 5000)
		sh->next_ms = now + 5000;	/* do not retry every call */
	pthread_mutex_unlock(&sh->mu);
	return ret ? ret : (int)n;
}

int ijipt_counters(struct ijipt *h, struct ijnft_counters *out)
{
	struct ijnft_counters fam;
	int ret;

	if (!h || !out)
		return -EINVAL;
	op_start(h);
	memset(out, 0, sizeof(*out));
	for (int f = 0; f < __IJIPT_FAMILY_MAX; f++) {
		if ((ret = family_counters(h, f, &fam, NULL)))
			return ret;
		for (int c = 0; c < __IJNFT_CTR_MAX; c++) {
			out->packets[c] += fam.packets[c];
			out->bytes[c] += fam.bytes[c];
		}
	}
	return 0;
}

int ijipt_remove(struct ijipt *h)
{
	int ret;

	if (!h)
		return -EINVAL;
	op_start(h);
	pthread_mutex_lock(&h->sh->mu);
	ret = from_current(h, NULL, remove_fn, false);
	h->sh->n = 0;
	h->sh->loaded = false;
	h->have_last = false;
	pthread_mutex_unlock(&h->sh->mu);
	return ret;
}
