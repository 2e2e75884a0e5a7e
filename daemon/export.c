/* export.c - the pure pieces of a learnt policy (export.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "daemon/export.h"
#include "daemon/names.h"

/* ---- YAML ------------------------------------------------------------------ */

static bool is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool export_plain_ok(const char *s)
{
	/* YAML 1.1 reads these as booleans or null; the loader takes a
	 * plain null for "nothing". */
	static const char *const words[] = {
		"y", "n", "yes", "no", "true", "false", "on", "off", "null",
	};
	size_t i, len = strlen(s);

	if (!len || !is_alnum((unsigned char)s[0]) || s[len - 1] == ':')
		return false;
	for (i = 0; i < len; i++)
		if (!is_alnum((unsigned char)s[i]) && !strchr("-_./:()+@", s[i]))
			return false;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcasecmp(s, words[i]))
			return false;
	return true;
}

void export_scalar(FILE *out, const char *s)
{
	const unsigned char *p;

	if (export_plain_ok(s)) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void export_comment(FILE *out, unsigned indent, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] >= 0x7f)
			buf[i] = '?';
	fprintf(out, "%*s# %s\n", (int)indent, "", buf);
}

/* ---- host names ---------------------------------------------------------- */

bool export_host_ok(const char *host, char out[EXPORT_HOST_MAX])
{
	size_t len = strlen(host), i, label = 0, labels = 1;
	bool letter = false;

	if (len && host[len - 1] == '.')
		len--;
	if (!len || len >= EXPORT_HOST_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)host[i];

		if (c == '.') {
			if (!label)
				return false;
			label = 0;
			letter = false;
			labels++;
			out[i] = '.';
			continue;
		}
		if (!is_alnum(c) && c != '-' && c != '_')
			return false;
		if (++label > 63)
			return false;
		if (!(c >= '0' && c <= '9') && c != '-' && c != '_')
			letter = true;
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	out[len] = '\0';
	return label && letter && labels >= 2;
}

void export_strv_free(struct export_strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Is N strictly under domain D ("a.d" under "d", not "d" itself)? */
static bool under(const char *n, const char *d)
{
	size_t ln = strlen(n), ld = strlen(d);

	return ln > ld + 1 && n[ln - ld - 1] == '.' && !strcmp(n + ln - ld, d);
}

/* The domain NAME is grouped under at STAGE (1: its parent, if not above
 * its registrable domain; 2: its registrable domain), or NULL. */
static const char *anchor(const char *name, int stage)
{
	const char *base = names_base(name), *parent;

	if (stage == 2)
		return base != name ? base : NULL;
	parent = strchr(name, '.');
	if (!parent || strlen(parent + 1) < strlen(base))
		return NULL;
	return parent + 1;
}

static int push(struct export_strv *s, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + lb + 1), **v;

	if (!p)
		return -ENOMEM;
	memcpy(p, a, la);
	memcpy(p + la, b, lb + 1);
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v) {
		free(p);
		return -ENOMEM;
	}
	v[s->n++] = p;
	s->v = v;
	return 0;
}

/* One stage over the distinct sorted names V[N]. */
static int generalise(char *const *v, size_t n, int stage, struct export_strv *out)
{
	size_t i, j, k;
	bool *drop;
	int rc = 0;

	for (i = 0; i < n && !rc; i++) {
		const char *a = anchor(v[i], stage);
		size_t same = 0;

		for (j = 0; a && j < n; j++) {
			const char *b = anchor(v[j], stage);

			same += b && !strcmp(a, b);
		}
		if (same >= 2)
			rc = push(out, "*.", a);
		else
			rc = push(out, "", v[i]);
	}
	if (rc)
		return rc;
	/* Sort, then drop repeats and whatever a wildcard covers (all
	 * decided before any is freed). */
	if (!out->n)
		return 0;
	if (!(drop = calloc(out->n, sizeof(*drop))))
		return -ENOMEM;
	qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	for (i = 0; i < out->n; i++) {
		const char *s = out->v[i], *t = s[0] == '*' ? s + 2 : s;

		drop[i] = i && !strcmp(out->v[i - 1], s);
		for (j = 0; j < out->n && !drop[i]; j++)
			drop[i] = out->v[j][0] == '*' && under(t, out->v[j] + 2);
	}
	for (i = k = 0; i < out->n; i++) {
		if (drop[i])
			free(out->v[i]);
		else
			out->v[k++] = out->v[i];
	}
	out->n = k;
	free(drop);
	return 0;
}

int export_names(const char *const *names, size_t n, size_t max,
		 struct export_strv *out)
{
	char **v = n ? malloc(n * sizeof(*v)) : NULL;
	size_t i, k = 0;
	int rc;

	out->v = NULL;
	out->n = 0;
	if (n && !v)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		v[i] = (char *)names[i];
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++)
		if (!k || strcmp(v[k - 1], v[i]))
			v[k++] = v[i];
	rc = generalise(v, k, 1, out);
	if (!rc && out->n > max) {
		export_strv_free(out);
		rc = generalise(v, k, 2, out);
	}
	if (rc)
		export_strv_free(out);
	free(v);
	return rc;
}

/* ---- addresses ------------------------------------------------------------- */

static int cmp_addr(const void *a, const void *b)
{
	const struct export_addr *x = a, *y = b;

	if (x->family != y->family)
		return x->family == AF_INET ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

size_t export_prefixes(const struct export_addr *in, size_t n,
		       struct export_addr *out)
{
	size_t i, j, k = 0;

	if (!n)
		return 0;
	memcpy(out, in, n * sizeof(*in));
	qsort(out, n, sizeof(*out), cmp_addr);
	for (i = 0; i < n; i = j) {
		/* the run of addresses in OUT[i]'s network */
		size_t net = out[i].family == AF_INET ? 3 : 8;

		for (j = i + 1; j < n && out[j].family == out[i].family &&
				!memcmp(out[j].addr, out[i].addr, net); j++)
			;
		out[k] = out[i];
		if (j - i >= 2) {	/* distinct inputs: two addresses */
			memset(out[k].addr + net, 0, 16 - net);
			out[k].len = (uint8_t)(net * 8);
		}
		k++;
	}
	return k;
}

void export_addr_str(const struct export_addr *a, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN];
	unsigned full = a->family == AF_INET ? 32 : 128;

	if (!inet_ntop(a->family == AF_INET ? AF_INET : AF_INET6, a->addr, s, sizeof(s)))
		snprintf(s, sizeof(s), "?");
	if (a->len < full)
		snprintf(buf, len, "%s/%u", s, a->len);
	else
		snprintf(buf, len, "%s", s);
}

bool export_addr_is_group(int family, const uint8_t *a)
{
	if (family == AF_INET)
		return (a[0] & 0xf0) == 0xe0 ||
		       (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255);
	return family == AF_INET6 && a[0] == 0xff;
}

/* ---- devices and profiles ----------------------------------------------- */

void export_device_name(const uint8_t *mac, int family, const uint8_t *addr,
			char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN];
	size_t i;

	if (mac) {
		snprintf(buf, len, "dev-%02x-%02x-%02x-%02x-%02x-%02x", mac[0], mac[1],
			 mac[2], mac[3], mac[4], mac[5]);
		return;
	}
	if (!inet_ntop(family == AF_INET ? AF_INET : AF_INET6, addr, s, sizeof(s)))
		snprintf(s, sizeof(s), "0");
	for (i = 0; s[i]; i++)
		if (s[i] == '.' || s[i] == ':')
			s[i] = '-';
	snprintf(buf, len, "dev-%s", s);
}

void export_group(const char *const *keys, size_t n, size_t *group)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i && strcmp(keys[j], keys[i]); j++)
			;
		group[i] = j;
	}
}

void export_profile_name(const char *const *names, size_t n, char *buf,
			 size_t len)
{
	size_t common = strlen(names[0]), i, j;

	snprintf(buf, len, "%s", names[0]);
	if (n < 2)
		return;
	for (i = 1; i < n; i++) {
		for (j = 0; j < common && names[i][j] == names[0][j]; j++)
			;
		common = j;
	}
	while (common && (names[0][common - 1] == '-' || names[0][common - 1] == '_' ||
			  (names[0][common - 1] >= '0' && names[0][common - 1] <= '9')))
		common--;
	/* "dev" alone is what every undeclared machine's name begins with */
	if (common >= 2 && common < len && strncmp(names[0], "dev", common))
		snprintf(buf, len, "%.*s", (int)common, names[0]);
	else
		snprintf(buf, len, "%.*s-like", (int)(len > 6 ? len - 6 : 0), names[0]);
}

/* ---- report intervals ------------------------------------------------------ */

void export_interval_add(struct export_interval *iv, double s)
{
	double d = s - iv->mean;

	if (!iv->n || s < iv->min)
		iv->min = s;
	if (!iv->n || s > iv->max)
		iv->max = s;
	iv->n++;
	iv->mean += d / (double)iv->n;
	iv->m2 += d * (s - iv->mean);
}

void export_interval_merge(struct export_interval *into,
			   const struct export_interval *from)
{
	double n, d;

	if (!from->n)
		return;
	if (!into->n) {
		*into = *from;
		return;
	}
	n = (double)(into->n + from->n);
	d = from->mean - into->mean;
	into->m2 += from->m2 + d * d * (double)into->n * (double)from->n / n;
	into->mean += d * (double)from->n / n;
	into->n += from->n;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
}

bool export_interval_suggest(const struct export_interval *iv,
			     unsigned *every_s, unsigned *tolerance_s)
{
	double dev, tol;
	unsigned every;

	if (iv->n < 3 || iv->mean < 10 || iv->mean > 86400 ||
	    iv->max - iv->mean > iv->mean / 4 || iv->mean - iv->min > iv->mean / 4)
		return false;
	every = (unsigned)lround(iv->mean);
	dev = fmax(iv->max - iv->mean, iv->mean - iv->min);
	tol = fmax(ceil(dev + 1), ceil(iv->mean / 10));
	if (tol >= every)
		tol = every - 1;
	if (tol < 1)
		return false;
	*every_s = every;
	*tolerance_s = (unsigned)tol;
	return true;
}
