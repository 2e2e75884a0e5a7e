/* json.c - minimal JSON writer: correct escaping, no parsing. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/json.h"

void jbuf_init(struct jbuf *j)
{
	memset(j, 0, sizeof(*j));
}

void jbuf_free(struct jbuf *j)
{
	free(j->p);
	jbuf_init(j);
}

void jbuf_reset(struct jbuf *j)
{
	j->len = 0;
	j->need_comma = false;
	j->failed = false;
	if (j->p)
		j->p[0] = '\0';
}

bool jbuf_ok(const struct jbuf *j)
{
	return !j->failed;
}

static bool reserve(struct jbuf *j, size_t more)
{
	size_t ncap;
	char *np;

	if (j->failed)
		return false;
	if (j->len + more + 1 <= j->cap)
		return true;
	ncap = j->cap ? j->cap : 256;
	while (ncap < j->len + more + 1)
		ncap *= 2;
	np = realloc(j->p, ncap);
	if (!np) {
		j->failed = true;
		return false;
	}
	j->p = np;
	j->cap = ncap;
	return true;
}

static void put(struct jbuf *j, const char *s, size_t n)
{
	if (!reserve(j, n))
		return;
	memcpy(j->p + j->len, s, n);
	j->len += n;
	j->p[j->len] = '\0';
}

static void putf(struct jbuf *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void putf(struct jbuf *j, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(j, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void put_string(struct jbuf *j, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };

	put(j, "\"", 1);
	for (; *u; u++) {
		switch (*u) {
		case '"': put(j, "\\\"", 2); break;
		case '\\': put(j, "\\\\", 2); break;
		case '\n': put(j, "\\n", 2); break;
		case '\r': put(j, "\\r", 2); break;
		case '\t': put(j, "\\t", 2); break;
		default:
			/* Control bytes escaped; bytes >= 0x80 that are not
			 * valid UTF-8 would make the line unparsable, so
			 * escape every non-ASCII byte as \u00XX: host names
			 * from packets are attacker-controlled. */
			if (*u < 0x20 || *u >= 0x7f) {
				esc[4] = hex[*u >> 4];
				esc[5] = hex[*u & 15];
				put(j, esc, 6);
			} else {
				put(j, (const char *)u, 1);
			}
		}
	}
	put(j, "\"", 1);
}

static void key(struct jbuf *j, const char *k)
{
	if (j->need_comma)
		put(j, ",", 1);
	j->need_comma = true;
	if (k) {
		put_string(j, k);
		put(j, ":", 1);
	}
}

void json_begin(struct jbuf *j)
{
	if (j->need_comma)
		put(j, ",", 1);
	put(j, "{", 1);
	j->need_comma = false;
}

void json_end(struct jbuf *j)
{
	put(j, "}", 1);
	j->need_comma = true;
}

void json_obj(struct jbuf *j, const char *k)
{
	key(j, k);
	put(j, "{", 1);
	j->need_comma = false;
}

void json_arr(struct jbuf *j, const char *k)
{
	key(j, k);
	put(j, "[", 1);
	j->need_comma = false;
}

void json_arr_end(struct jbuf *j)
{
	put(j, "]", 1);
	j->need_comma = true;
}

void json_str(struct jbuf *j, const char *k, const char *v)
{
	key(j, k);
	if (v)
		put_string(j, v);
	else
		put(j, "null", 4);
}

void json_u64(struct jbuf *j, const char *k, uint64_t v)
{
	key(j, k);
	putf(j, "%" PRIu64, v);
}

void json_i64(struct jbuf *j, const char *k, int64_t v)
{
	key(j, k);
	putf(j, "%" PRId64, v);
}

void json_double(struct jbuf *j, const char *k, double v, int decimals)
{
	key(j, k);
	putf(j, "%.*f", decimals, v);
}

void json_bool(struct jbuf *j, const char *k, bool v)
{
	key(j, k);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void json_null(struct jbuf *j, const char *k)
{
	key(j, k);
	put(j, "null", 4);
}

void json_raw(struct jbuf *j, const char *k, const char *v)
{
	key(j, k);
	put(j, v, strlen(v));
}

int jbuf_write_line(const struct jbuf *j, FILE *f)
{
	if (j->failed)
		return -ENOMEM;
	if (fwrite(j->p, 1, j->len, f) != j->len || fputc('\n', f) == EOF)
		return -EIO;
	return 0;
}

int jbuf_write_fd(struct jbuf *j, int fd)
{
	ssize_t n;

	if (j->failed)
		return -ENOMEM;
	put(j, "\n", 1);
	if (j->failed)
		return -ENOMEM;
	/* One write(2): with O_APPEND, lines of several writers never
	 * interleave. */
	do
		n = write(fd, j->p, j->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == j->len ? 0 : -EIO;
}
