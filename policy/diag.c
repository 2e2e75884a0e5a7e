#include "policy/diag.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A broken generated file must not make the checker print megabytes. */
#define DIAG_MAX 200

struct msg {
	enum policy_severity sev;
	unsigned line, col, width;
	unsigned seq;		/* insertion order, keeps the sort stable */
	char *text;
	char *src;		/* the source line, or NULL */
};

struct policy_diag {
	char *file;
	const char *buf;	/* borrowed while loading, NULL after */
	size_t len;
	size_t *lines;		/* offsets of line starts, built on first use */
	size_t n_lines;
	struct msg *v;
	unsigned n, cap;
	unsigned count[__POLICY_SEVERITY_MAX];
	unsigned dropped;
};

struct policy_diag *diag_new(const char *file)
{
	struct policy_diag *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->file = strdup(file ? file : "-");
	if (!d->file) {
		free(d);
		return NULL;
	}
	return d;
}

void diag_set_source(struct policy_diag *d, const char *buf, size_t len)
{
	if (!d)
		return;
	free(d->lines);
	d->lines = NULL;
	d->n_lines = 0;
	d->buf = buf;
	d->len = buf ? len : 0;
}

static int index_lines(struct policy_diag *d)
{
	size_t i, n = 1;

	for (i = 0; i < d->len; i++)
		n += d->buf[i] == '\n';
	d->lines = malloc(n * sizeof(*d->lines));
	if (!d->lines)
		return -1;
	d->lines[0] = 0;
	d->n_lines = 1;
	for (i = 0; i < d->len; i++)
		if (d->buf[i] == '\n')
			d->lines[d->n_lines++] = i + 1;
	return 0;
}

static char *source_line(struct policy_diag *d, unsigned line)
{
	size_t start, end;

	if (!d->buf || line == 0)
		return NULL;
	if (!d->lines && index_lines(d) < 0)
		return NULL;
	if (line > d->n_lines)
		return NULL;
	start = d->lines[line - 1];
	end = line < d->n_lines ? d->lines[line] - 1 : d->len;
	if (end > start && d->buf[end - 1] == '\r')
		end--;
	return strndup(d->buf + start, end - start);
}

void diag_vadd(struct policy_diag *d, enum policy_severity sev, unsigned line,
	       unsigned col, unsigned width, const char *fmt, va_list ap)
{
	struct msg *m;

	if (!d || sev >= __POLICY_SEVERITY_MAX)
		return;
	d->count[sev]++;
	if (d->n >= DIAG_MAX) {
		d->dropped++;
		return;
	}
	if (d->n == d->cap) {
		unsigned cap = d->cap ? 2 * d->cap : 16;
		struct msg *v = realloc(d->v, cap * sizeof(*v));

		if (!v) {
			d->dropped++;
			return;
		}
		d->v = v;
		d->cap = cap;
	}
	m = &d->v[d->n];
	memset(m, 0, sizeof(*m));
	if (vasprintf(&m->text, fmt, ap) < 0) {
		d->dropped++;
		return;
	}
	m->sev = sev;
	m->line = line;
	m->col = line ? col : 0;
	m->width = width;
	m->seq = d->n;
	m->src = source_line(d, line);
	d->n++;
}

void diag_add(struct policy_diag *d, enum policy_severity sev, unsigned line,
	      unsigned col, unsigned width, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(d, sev, line, col, width, fmt, ap);
	va_end(ap);
}

static int msg_cmp(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void diag_sort(struct policy_diag *d)
{
	if (d && d->n > 1)
		qsort(d->v, d->n, sizeof(*d->v), msg_cmp);
}

unsigned policy_diag_count(const struct policy_diag *d, enum policy_severity sev)
{
	if (!d || sev >= __POLICY_SEVERITY_MAX)
		return 0;
	return d->count[sev];
}

unsigned policy_diag_total(const struct policy_diag *d)
{
	return d ? d->n : 0;
}

int policy_diag_get(const struct policy_diag *d, unsigned i, struct policy_diag_msg *out)
{
	if (!d || i >= d->n || !out)
		return -ERANGE;
	out->severity = d->v[i].sev;
	out->file = d->file;
	out->line = d->v[i].line;
	out->col = d->v[i].col;
	out->text = d->v[i].text;
	return 0;
}

/* The next character: skip UTF-8 continuation bytes, never the NUL. */
static const char *next_char(const char *s)
{
	s++;
	while ((*s & 0xc0) == 0x80)
		s++;
	return s;
}

/*
 * The caret line: the columns are characters (libyaml counts code points),
 * and a tab in the source stays a tab so the caret lines up however the
 * terminal expands it.
 */
static void print_caret(FILE *out, const char *src, unsigned col, unsigned width)
{
	const char *s = src;
	unsigned c, rest = 0;

	fputs("  ", out);
	for (c = 1; c < col && *s; c++) {
		fputc(*s == '\t' ? '\t' : ' ', out);
		s = next_char(s);
	}
	/* Never underline past the end of the line. */
	for (; *s; s = next_char(s))
		rest++;
	if (width == 0 || width > rest)
		width = rest ? rest : 1;
	fputc('^', out);
	for (c = 1; c < width; c++)
		fputc('~', out);
	fputc('\n', out);
}

static const char *const sev_name[__POLICY_SEVERITY_MAX] = {
	[POLICY_ERROR] = "error",
	[POLICY_WARNING] = "warning",
};

void policy_diag_print(const struct policy_diag *d, FILE *out)
{
	unsigned i;

	if (!d || !out)
		return;
	for (i = 0; i < d->n; i++) {
		const struct msg *m = &d->v[i];

		if (!m->line) {
			fprintf(out, "%s: %s: %s\n", d->file, sev_name[m->sev], m->text);
			continue;
		}
		fprintf(out, "%s:%u:%u: %s: %s\n", d->file, m->line, m->col,
			sev_name[m->sev], m->text);
		if (m->src) {
			fprintf(out, "  %s\n", m->src);
			print_caret(out, m->src, m->col, m->width);
		}
	}
	if (d->dropped)
		fprintf(out, "%s: error: %u more messages not shown\n", d->file, d->dropped);
}

void policy_diag_free(struct policy_diag *d)
{
	unsigned i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->v[i].text);
		free(d->v[i].src);
	}
	free(d->v);
	free(d->lines);
	free(d->file);
	free(d);
}
