#include "policy/value.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Digits only: YAML gives us text, and "+5", " 5" or "0x5" are not numbers here. */
static const char *digits(const char **sp, uint64_t max, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return "expected a number";
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (max - d) / 10)
			return "number too large";
		v = v * 10 + d;
	}
	*sp = s;
	*out = v;
	return NULL;
}

const char *value_uint(const char *s, uint64_t max, uint64_t *out)
{
	const char *err = digits(&s, max, out);

	if (err)
		return err;
	if (*s)
		return "expected a whole number";
	return NULL;
}

struct unit {
	const char *name;
	uint64_t mul;
};

static const struct unit *find_unit(const struct unit *u, const char *s, size_t len)
{
	for (; u->name; u++)
		if (strlen(u->name) == len && strncasecmp(u->name, s, len) == 0)
			return u;
	return NULL;
}

static const struct unit duration_units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 3600 * 1000 },
	{ "d", 24 * 3600 * 1000 },
	{ NULL, 0 },
};

const char *value_duration(const char *s, uint64_t *ms)
{
	uint64_t total = 0;

	if (!*s)
		return "empty duration";
	while (*s) {
		const struct unit *u;
		const char *err, *name;
		uint64_t n;

		err = digits(&s, UINT64_MAX / 2, &n);
		if (err)
			return err;
		name = s;
		while (isalpha((unsigned char)*s))
			s++;
		if (s == name && (*s == ' ' || *s == '.'))
			return *s == ' ' ? "no blanks inside a duration (write 5s)"
					 : "use whole numbers (write 1m30s, or 1500ms)";
		if (s == name)
			return "missing unit (ms, s, m, h or d)";
		u = find_unit(duration_units, name, (size_t)(s - name));
		if (!u)
			return "unknown unit (expected ms, s, m, h or d)";
		if (n > (UINT64_MAX / 2 - total) / u->mul)
			return "duration too long";
		total += n * u->mul;
	}
	*ms = total;
	return NULL;
}

static const struct unit size_units[] = {
	{ "B", 1 },
	{ "kB", 1000ULL },
	{ "MB", 1000ULL * 1000 },
	{ "GB", 1000ULL * 1000 * 1000 },
	{ "TB", 1000ULL * 1000 * 1000 * 1000 },
	{ "KiB", 1ULL << 10 },
	{ "MiB", 1ULL << 20 },
	{ "GiB", 1ULL << 30 },
	{ "TiB", 1ULL << 40 },
	{ NULL, 0 },
};

const char *value_size(const char *s, uint64_t *bytes)
{
	const struct unit *u;
	const char *err;
	uint64_t n;

	err = digits(&s, UINT64_MAX, &n);
	if (err)
		return err;
	if (*s == '.' || *s == ',')
		return "use a whole number with a smaller unit (1500MB, not 1.5GB)";
	if (*s == ' ')
		s++;
	if (!*s)
		return "missing unit (B, kB, MB, GB, TB, KiB, MiB, GiB or TiB)";
	u = find_unit(size_units, s, strlen(s));
	if (!u)
		return "unknown unit (expected B, kB, MB, GB, TB, KiB, MiB, GiB or TiB)";
	if (n > UINT64_MAX / u->mul)
		return "size too large";
	*bytes = n * u->mul;
	return NULL;
}

static const struct unit rate_units[] = {
	{ "s", 1000 }, { "sec", 1000 }, { "second", 1000 },
	{ "m", 60 * 1000 }, { "min", 60 * 1000 }, { "minute", 60 * 1000 },
	{ "h", 3600 * 1000 }, { "hour", 3600 * 1000 },
	{ "d", 24 * 3600 * 1000 }, { "day", 24 * 3600 * 1000 },
	{ NULL, 0 },
};

const char *value_rate(const char *s, uint32_t *count, uint32_t *window_ms)
{
	const struct unit *u;
	const char *err;
	uint64_t n;

	err = digits(&s, UINT32_MAX, &n);
	if (err)
		return err;
	if (*s != '/')
		return "expected a count per time, e.g. 30/min";
	s++;
	u = find_unit(rate_units, s, strlen(s));
	if (!u)
		return "unknown unit (expected s, min, h or d)";
	if (n == 0)
		return "a rate of 0 would forbid every new flow";
	*count = (uint32_t)n;
	*window_ms = (uint32_t)u->mul;
	return NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

const char *value_mac(const char *s, uint8_t mac[6])
{
	size_t len = strlen(s), i;
	int h, l;

	if (len == 17 && (s[2] == ':' || s[2] == '-')) {
		for (i = 0; i < 6; i++) {
			const char *b = s + 3 * i;

			if (i < 5 && b[2] != s[2])
				return "expected six hex bytes, e.g. 02:00:00:00:00:10";
			h = hexval(b[0]);
			l = hexval(b[1]);
			if (h < 0 || l < 0)
				return "expected six hex bytes, e.g. 02:00:00:00:00:10";
			mac[i] = (uint8_t)(h << 4 | l);
		}
		return NULL;
	}
	if (len == 14 && s[4] == '.' && s[9] == '.') {
		for (i = 0; i < 6; i++) {
			const char *b = s + 5 * (i / 2) + 2 * (i % 2);

			h = hexval(b[0]);
			l = hexval(b[1]);
			if (h < 0 || l < 0)
				return "expected six hex bytes, e.g. 02:00:00:00:00:10";
			mac[i] = (uint8_t)(h << 4 | l);
		}
		return NULL;
	}
	return "expected six hex bytes, e.g. 02:00:00:00:00:10";
}

static void mask_prefix(uint8_t *addr, unsigned len, unsigned bits)
{
	unsigned i;

	for (i = 0; i < bits / 8; i++) {
		if (i * 8 >= len)
			addr[i] = 0;
		else if (i * 8 + 8 > len)
			addr[i] &= (uint8_t)(0xff << (8 - (len - i * 8)));
	}
}

const char *value_prefix(const char *s, struct value_prefix *p)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned bits;
	uint8_t orig[16];
	uint64_t len;

	memset(p, 0, sizeof(*p));
	if (alen == 0 || alen >= sizeof(buf))
		return "expected an IPv4 or IPv6 address or prefix";
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (strchr(buf, ':')) {
		if (inet_pton(AF_INET6, buf, p->addr) != 1)
			return "malformed IPv6 address";
		p->family = AF_INET6;
		bits = 128;
	} else {
		/* inet_pton refuses the old shorthands ("10.1", "010.0.0.1"). */
		if (inet_pton(AF_INET, buf, p->addr) != 1)
			return "malformed IPv4 address";
		p->family = AF_INET;
		bits = 32;
	}
	len = bits;
	if (slash) {
		const char *l = slash + 1;

		if (digits(&l, 255, &len) || *l)
			return "malformed prefix length";
		if (len > bits)
			return bits == 32 ? "prefix length above 32" : "prefix length above 128";
	}
	p->len = (uint8_t)len;
	memcpy(orig, p->addr, sizeof(orig));
	mask_prefix(p->addr, p->len, bits);
	if (memcmp(orig, p->addr, bits / 8) != 0)
		return "host bits set";
	return NULL;
}

bool value_prefix_contains(const struct value_prefix *q, const struct value_prefix *p)
{
	unsigned full, rest;

	if (q->family != p->family || q->len > p->len)
		return false;
	full = q->len / 8;
	rest = q->len % 8;
	if (memcmp(q->addr, p->addr, full) != 0)
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xff << (8 - rest));

		if ((q->addr[full] & m) != (p->addr[full] & m))
			return false;
	}
	return true;
}

void value_prefix_format(const struct value_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	unsigned bits = p->family == AF_INET ? 32 : 128;

	if (!inet_ntop(p->family, p->addr, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	if (p->len == bits)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, p->len);
}

static const char *one_port(const char **sp, uint16_t *out)
{
	const char *err;
	uint64_t v;

	err = digits(sp, 999999, &v);
	if (err)
		return "expected a port number, e.g. 554, 554/tcp or 8000-8080";
	if (v == 0)
		return "port 0 is not a port";
	if (v > 65535)
		return "port above 65535";
	*out = (uint16_t)v;
	return NULL;
}

const char *value_ports(const char *s, struct value_ports *p)
{
	const char *err;

	memset(p, 0, sizeof(*p));
	err = one_port(&s, &p->lo);
	if (err)
		return err;
	p->hi = p->lo;
	if (*s == '-') {
		s++;
		err = one_port(&s, &p->hi);
		if (err)
			return err;
		if (p->hi < p->lo)
			return "the range is reversed (write low-high)";
	}
	if (*s == '/') {
		s++;
		if (strcasecmp(s, "tcp") == 0)
			p->l4 = IPPROTO_TCP;
		else if (strcasecmp(s, "udp") == 0)
			p->l4 = IPPROTO_UDP;
		else
			return "unknown transport (expected tcp or udp)";
		return NULL;
	}
	if (*s)
		return "expected a port number, e.g. 554, 554/tcp or 8000-8080";
	return NULL;
}

const char *value_host_pattern(const char *s, char *out, size_t outlen)
{
	size_t len = strlen(s), i, label = 0;

	if (len && s[len - 1] == '.')
		len--;	/* "example.com." is the same name */
	if (len == 0)
		return "empty host name";
	if (len > 253 || len + 1 > outlen)
		return "host name longer than 253 characters";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '*') {
			if (i != 0 || len < 3 || s[1] != '.')
				return "'*' is only allowed as the whole first label, as in *.example.com";
			out[i] = '*';
			continue;
		}
		if (c == '.') {
			if (label == 0 && i != 1)
				return "empty label in host name";
			label = 0;
			out[i] = '.';
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return "invalid character in host name";
		if (++label > 63)
			return "host name label longer than 63 characters";
		out[i] = (char)tolower(c);
	}
	if (label == 0)
		return "empty label in host name";
	out[len] = '\0';
	return NULL;
}

const char *value_name(const char *s)
{
	size_t i;

	if (!*s)
		return "empty name";
	if (!isalnum((unsigned char)s[0]))
		return "names start with a letter or a digit";
	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return "names hold only letters, digits, '-' and '_'";
	if (i > 63)
		return "name longer than 63 characters";
	return NULL;
}

const char *value_ifname(const char *s)
{
	size_t i;

	if (!*s)
		return "empty interface name";
	for (i = 0; s[i]; i++)
		if (s[i] == '/' || isspace((unsigned char)s[i]) || !isprint((unsigned char)s[i]))
			return "interface names have no '/', blanks or control characters";
	if (i > 15)
		return "interface names are at most 15 characters";
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return "not an interface name";
	return NULL;
}

/* Optimal string alignment distance, case-insensitive, on short words. */
#define SUGGEST_MAX 64

static unsigned osa_distance(const char *a, size_t la, const char *b, size_t lb)
{
	unsigned d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];
	size_t i, j;

	for (i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			unsigned cost = ca != cb, v;

			v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

const char *value_suggest(const char *word, const char *const *cands, size_t n)
{
	size_t lw = strlen(word), i;
	unsigned best = ~0u, limit;
	const char *pick = NULL;

	if (lw == 0 || lw > SUGGEST_MAX)
		return NULL;
	/* Short words are only typos at one edit; longer ones may have more. */
	limit = lw <= 3 ? 1 : lw <= 6 ? 2 : 3;
	for (i = 0; i < n; i++) {
		size_t lc;
		unsigned dist;

		if (!cands[i])
			continue;
		lc = strlen(cands[i]);
		if (lc > SUGGEST_MAX || (lc > lw ? lc - lw : lw - lc) > limit)
			continue;
		dist = osa_distance(word, lw, cands[i], lc);
		if (dist < best) {
			best = dist;
			pick = cands[i];
		}
	}
	if (best <= limit)
		return pick;
	/* A shortened name ("ip-cam" for "ip-camera") is no typo but as plain. */
	pick = NULL;
	for (i = 0; i < n && lw >= 3; i++) {
		if (cands[i] && strncasecmp(cands[i], word, lw) == 0) {
			if (pick)
				return NULL;	/* ambiguous */
			pick = cands[i];
		}
	}
	return pick;
}
