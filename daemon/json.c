/* json.c - JSON writer (correct escaping) and a small strict reader. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
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

/* ---- reader ------------------------------------------------------------ */

struct jparse {
	const char *s;
	size_t len, pos;
	unsigned depth, max_depth;
	char *err;
	size_t err_len;
	bool nomem;
};

static const char *const type_names[__JSON_TYPE_MAX] = {
	"null", "boolean", "number", "string", "array", "object",
};

const char *json_type_name(enum json_type t)
{
	return (unsigned)t < __JSON_TYPE_MAX ? type_names[t] : "?";
}

static bool fail(struct jparse *p, const char *what)
{
	/* The first error wins: it is the one at the real position. */
	if (p->err && p->err_len && !p->err[0])
		snprintf(p->err, p->err_len, "offset %zu: %s", p->pos, what);
	return false;
}

static void skip_ws(struct jparse *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static bool literal(struct jparse *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
		return fail(p, "unexpected character");
	p->pos += n;
	return true;
}

static int hex4(const char *s)
{
	int v = 0, i, d;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static size_t utf8_put(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX (and its low surrogate) at p->pos, just past the backslash-u. */
static bool unicode_escape(struct jparse *p, unsigned *cp)
{
	int hi, lo;

	if (p->len - p->pos < 4 || (hi = hex4(p->s + p->pos)) < 0)
		return fail(p, "bad \\u escape");
	p->pos += 4;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return fail(p, "lone low surrogate");
	if (hi >= 0xd800 && hi <= 0xdbff) {
		if (p->len - p->pos < 6 || p->s[p->pos] != '\\' ||
		    p->s[p->pos + 1] != 'u' ||
		    (lo = hex4(p->s + p->pos + 2)) < 0xdc00 || lo > 0xdfff)
			return fail(p, "high surrogate without its low half");
		p->pos += 6;
		*cp = 0x10000 + (((unsigned)hi - 0xd800) << 10) +
		      ((unsigned)lo - 0xdc00);
		return true;
	}
	if (hi == 0)
		return fail(p, "NUL in a string");
	*cp = (unsigned)hi;
	return true;
}

/* A string at p->pos (on its opening quote) into *OUT (malloc'd). */
static bool parse_string(struct jparse *p, char **out, size_t *out_len)
{
	size_t cap, n = 0;
	char *buf;
	unsigned cp;

	p->pos++;
	/* Escapes only shrink the text (\uXXXX is 6 bytes for at most 4 of
	 * UTF-8; a surrogate pair 12 for 4), so the rest of the input bounds
	 * the result. */
	cap = p->len - p->pos + 1;
	buf = malloc(cap);
	if (!buf) {
		p->nomem = true;
		return fail(p, "out of memory");
	}
	for (;;) {
		unsigned char c;

		if (p->pos >= p->len) {
			free(buf);
			return fail(p, "unterminated string");
		}
		c = (unsigned char)p->s[p->pos++];
		if (c == '"')
			break;
		if (c < 0x20) {
			p->pos--;
			free(buf);
			return fail(p, "control character in a string");
		}
		if (c != '\\') {
			buf[n++] = (char)c;
			continue;
		}
		if (p->pos >= p->len) {
			free(buf);
			return fail(p, "unterminated string");
		}
		c = (unsigned char)p->s[p->pos++];
		switch (c) {
		case '"': case '\\': case '/':
			buf[n++] = (char)c;
			break;
		case 'b': buf[n++] = '\b'; break;
		case 'f': buf[n++] = '\f'; break;
		case 'n': buf[n++] = '\n'; break;
		case 'r': buf[n++] = '\r'; break;
		case 't': buf[n++] = '\t'; break;
		case 'u':
			if (!unicode_escape(p, &cp)) {
				free(buf);
				return false;
			}
			n += utf8_put(buf + n, cp);
			break;
		default:
			p->pos--;
			free(buf);
			return fail(p, "bad escape");
		}
	}
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return true;
}

static bool digits(struct jparse *p)
{
	size_t start = p->pos;

	while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
		p->pos++;
	return p->pos > start;
}

/* The grammar is checked here; strtod converts what it accepted. */
static bool parse_number(struct jparse *p, double *out)
{
	size_t start = p->pos;
	char tmp[64];

	if (p->s[p->pos] == '-')
		p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '0')
		p->pos++;
	else if (!digits(p))
		return fail(p, "bad number");
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (!digits(p))
			return fail(p, "bad number");
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (!digits(p))
			return fail(p, "bad number");
	}
	if (p->pos - start >= sizeof(tmp))
		return fail(p, "number too long");
	memcpy(tmp, p->s + start, p->pos - start);
	tmp[p->pos - start] = '\0';
	*out = strtod(tmp, NULL);
	return true;
}

static bool parse_value(struct jparse *p, struct json_value *v);

/* Grow V's items (and keys) to hold one more. */
static bool grow(struct jparse *p, struct json_value *v, size_t *cap)
{
	struct json_value *ni;
	char **nk;
	size_t nc;

	if (v->n < *cap)
		return true;
	nc = *cap ? *cap * 2 : 4;
	ni = realloc(v->items, nc * sizeof(*ni));
	if (ni)
		v->items = ni;
	if (ni && v->type == JSON_OBJECT) {
		nk = realloc(v->keys, nc * sizeof(*nk));
		if (!nk)
			ni = NULL;
		else
			v->keys = nk;
	}
	if (!ni) {
		p->nomem = true;
		return fail(p, "out of memory");
	}
	*cap = nc;
	return true;
}

static bool parse_container(struct jparse *p, struct json_value *v)
{
	char close = v->type == JSON_OBJECT ? '}' : ']';
	size_t cap = 0, i;

	if (++p->depth > p->max_depth)
		return fail(p, "nested too deep");
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		p->depth--;
		return true;
	}
	for (;;) {
		char *key = NULL;
		size_t klen;

		skip_ws(p);
		if (v->type == JSON_OBJECT) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail(p, "expected a key string");
			if (!parse_string(p, &key, &klen))
				return false;
			for (i = 0; i < v->n; i++)
				if (!strcmp(v->keys[i], key)) {
					free(key);
					return fail(p, "duplicate key");
				}
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				free(key);
				return fail(p, "expected ':'");
			}
			p->pos++;
		}
		if (!grow(p, v, &cap)) {
			free(key);
			return false;
		}
		if (key)
			v->keys[v->n] = key;
		memset(&v->items[v->n], 0, sizeof(v->items[0]));
		v->n++;
		if (!parse_value(p, &v->items[v->n - 1]))
			return false;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			p->depth--;
			return true;
		}
		return fail(p, v->type == JSON_OBJECT ? "expected ',' or '}'"
						      : "expected ',' or ']'");
	}
}

static bool parse_value(struct jparse *p, struct json_value *v)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, "expected a value");
	switch (p->s[p->pos]) {
	case '{':
		v->type = JSON_OBJECT;
		return parse_container(p, v);
	case '[':
		v->type = JSON_ARRAY;
		return parse_container(p, v);
	case '"':
		v->type = JSON_STRING;
		return parse_string(p, &v->str, &v->len);
	case 't':
		v->type = JSON_BOOL;
		v->b = true;
		return literal(p, "true");
	case 'f':
		v->type = JSON_BOOL;
		return literal(p, "false");
	case 'n':
		v->type = JSON_NULL;
		return literal(p, "null");
	default:
		if (p->s[p->pos] == '-' || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9')) {
			v->type = JSON_NUMBER;
			return parse_number(p, &v->num);
		}
		return fail(p, "unexpected character");
	}
}

static void value_clear(struct json_value *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		value_clear(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
}

void json_value_free(struct json_value *v)
{
	if (!v)
		return;
	value_clear(v);
	free(v);
}

struct json_value *json_parse(const char *s, size_t len, unsigned max_depth,
			      char *err, size_t err_len)
{
	struct jparse p = {
		.s = s, .len = len, .max_depth = max_depth,
		.err = err, .err_len = err_len,
	};
	struct json_value *v;

	if (err && err_len)
		err[0] = '\0';
	if (!s && len) {
		errno = EINVAL;
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		fail(&p, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	if (parse_value(&p, v)) {
		skip_ws(&p);
		if (p.pos == p.len)
			return v;
		fail(&p, "text after the value");
	}
	json_value_free(v);
	errno = p.nomem ? ENOMEM : EINVAL;
	return NULL;
}

const struct json_value *json_get(const struct json_value *o, const char *key)
{
	size_t i;

	if (!o || o->type != JSON_OBJECT)
		return NULL;
	for (i = 0; i < o->n; i++)
		if (!strcmp(o->keys[i], key))
			return &o->items[i];
	return NULL;
}

const char *json_get_str(const struct json_value *o, const char *key, const char *def)
{
	const struct json_value *v = json_get(o, key);

	return v && v->type == JSON_STRING ? v->str : def;
}

double json_get_num(const struct json_value *o, const char *key, double def)
{
	const struct json_value *v = json_get(o, key);

	return v && v->type == JSON_NUMBER ? v->num : def;
}
