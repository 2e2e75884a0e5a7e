#include "policy/yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "policy/arena.h"
#include "policy/diag.h"

/* Deeper nesting than a policy ever needs; guards the recursion. */
#define YAML_MAX_DEPTH 32

struct builder {
	const char *buf;
	size_t len;
	struct arena *a;
	struct policy_diag *d;
	yaml_parser_t parser;
	bool failed;		/* an error was reported: unwind */
};

static void mark_node(struct ynode *n, const yaml_mark_t *start, const yaml_mark_t *end)
{
	n->line = (unsigned)start->line + 1;
	n->col = (unsigned)start->column + 1;
	if (end && end->line == start->line && end->column > start->column)
		n->width = (unsigned)(end->column - start->column);
	else
		n->width = end ? 0 : 1;
}

/* The character at a mark, for hints (libyaml counts columns in characters). */
static int char_at(const struct builder *b, const yaml_mark_t *m)
{
	size_t i = 0, line = 0, col = 0;

	while (i < b->len && line < m->line)
		line += b->buf[i++] == '\n';
	while (i < b->len && col < m->column && b->buf[i] != '\n') {
		i++;
		while (i < b->len && ((unsigned char)b->buf[i] & 0xc0) == 0x80)
			i++;
		col++;
	}
	return i < b->len ? (unsigned char)b->buf[i] : -1;
}

static void syntax_error(struct builder *b)
{
	const yaml_parser_t *p = &b->parser;
	const char *problem = p->problem ? p->problem : "invalid YAML", *hint = "";
	char where[32] = "";

	b->failed = true;
	if (p->error == YAML_MEMORY_ERROR) {
		diag_add(b->d, POLICY_ERROR, 0, 0, 0, "out of memory");
		return;
	}
	/* The two mistakes everybody makes once. */
	if (char_at(b, &p->problem_mark) == '\t')
		hint = "; indent with spaces, YAML does not allow tabs";
	else if (p->context && strcmp(p->context, "while scanning an alias") == 0)
		hint = "; quote names that start with '*', as in \"*.example.com\"";
	if (p->context && p->context_mark.line != p->problem_mark.line)
		snprintf(where, sizeof(where), " (from line %u)", (unsigned)p->context_mark.line + 1);
	diag_add(b->d, POLICY_ERROR, (unsigned)p->problem_mark.line + 1,
		 (unsigned)p->problem_mark.column + 1, 1, "syntax error%s%s%s: %s%s",
		 p->context ? " " : "", p->context ? p->context : "", where, problem, hint);
}

static void oom(struct builder *b)
{
	if (!b->failed)
		diag_add(b->d, POLICY_ERROR, 0, 0, 0, "out of memory");
	b->failed = true;
}

static bool next_event(struct builder *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->parser, ev)) {
		syntax_error(b);
		return false;
	}
	return true;
}

static struct ynode *build_node(struct builder *b, yaml_event_t *ev, int depth);

/*
 * Children of a sequence or a mapping, collected in a growing temporary
 * array and copied into the arena once their number is known.
 */
static struct ynode *build_collection(struct builder *b, yaml_event_t *start, int depth)
{
	bool is_map = start->type == YAML_MAPPING_START_EVENT;
	yaml_event_type_t end_type = is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
	struct ynode *n = arena_alloc(b->a, sizeof(*n));
	struct ynode **tmp = NULL, **grown;
	size_t count = 0, cap = 0;
	yaml_event_t ev;

	if (!n) {
		oom(b);
		return NULL;
	}
	n->kind = is_map ? YNODE_MAP : YNODE_SEQ;
	mark_node(n, &start->start_mark, NULL);
	if (depth >= YAML_MAX_DEPTH) {
		diag_add(b->d, POLICY_ERROR, n->line, n->col, 1,
			 "nested more than %d levels deep", YAML_MAX_DEPTH);
		b->failed = true;
		return NULL;
	}
	for (;;) {
		struct ynode *child;

		if (!next_event(b, &ev))
			goto fail;
		if (ev.type == end_type) {
			yaml_event_delete(&ev);
			break;
		}
		child = build_node(b, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (!child)
			goto fail;
		if (count == cap) {
			cap = cap ? 2 * cap : 8;
			grown = realloc(tmp, cap * sizeof(*tmp));
			if (!grown) {
				oom(b);
				goto fail;
			}
			tmp = grown;
		}
		tmp[count++] = child;
	}
	n->items = arena_calloc(b->a, count ? count : 1, sizeof(*n->items));
	if (!n->items) {
		oom(b);
		goto fail;
	}
	if (count)
		memcpy(n->items, tmp, count * sizeof(*tmp));
	n->n = is_map ? count / 2 : count;
	free(tmp);
	return n;
fail:
	free(tmp);
	return NULL;
}

static struct ynode *build_node(struct builder *b, yaml_event_t *ev, int depth)
{
	struct ynode *n;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = arena_alloc(b->a, sizeof(*n));
		if (!n) {
			oom(b);
			return NULL;
		}
		n->kind = YNODE_SCALAR;
		mark_node(n, &ev->start_mark, &ev->end_mark);
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		n->len = ev->data.scalar.length;
		n->str = arena_strndup(b->a, (const char *)ev->data.scalar.value, n->len);
		if (!n->str) {
			oom(b);
			return NULL;
		}
		return n;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return build_collection(b, ev, depth);
	case YAML_ALIAS_EVENT:
		diag_add(b->d, POLICY_ERROR, (unsigned)ev->start_mark.line + 1,
			 (unsigned)ev->start_mark.column + 1,
			 (unsigned)(ev->end_mark.column - ev->start_mark.column),
			 "aliases are not supported; use a profile to share rules");
		b->failed = true;
		return NULL;
	default:
		/* libyaml only gives the above inside a document. */
		diag_add(b->d, POLICY_ERROR, (unsigned)ev->start_mark.line + 1,
			 (unsigned)ev->start_mark.column + 1, 1, "unexpected YAML event");
		b->failed = true;
		return NULL;
	}
}

static struct ynode *null_root(struct builder *b)
{
	struct ynode *n = arena_alloc(b->a, sizeof(*n));

	if (!n) {
		oom(b);
		return NULL;
	}
	n->kind = YNODE_SCALAR;
	n->plain = true;
	n->str = "";
	n->line = 1;
	n->col = 1;
	n->width = 1;
	return n;
}

/* STREAM-START, DOCUMENT-START, node, DOCUMENT-END, (no second document), STREAM-END */
static struct ynode *build_stream(struct builder *b)
{
	struct ynode *root = NULL;
	yaml_event_t ev;

	if (!next_event(b, &ev))
		return NULL;
	yaml_event_delete(&ev);	/* STREAM-START */
	if (!next_event(b, &ev))
		return NULL;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return null_root(b);
	}
	yaml_event_delete(&ev);	/* DOCUMENT-START */
	if (!next_event(b, &ev))
		return NULL;
	root = build_node(b, &ev, 0);
	yaml_event_delete(&ev);
	if (!root)
		return NULL;
	if (!next_event(b, &ev))
		return NULL;
	yaml_event_delete(&ev);	/* DOCUMENT-END */
	if (!next_event(b, &ev))
		return NULL;
	if (ev.type == YAML_DOCUMENT_START_EVENT) {
		diag_add(b->d, POLICY_ERROR, (unsigned)ev.start_mark.line + 1,
			 (unsigned)ev.start_mark.column + 1, 0,
			 "a policy file holds one YAML document; this is a second one");
		yaml_event_delete(&ev);
		return NULL;
	}
	yaml_event_delete(&ev);
	return root;
}

struct ynode *yaml_parse_tree(struct arena *a, const char *buf, size_t len,
			      struct policy_diag *d)
{
	struct builder b = { .buf = buf, .len = len, .a = a, .d = d };
	struct ynode *root;

	if (!yaml_parser_initialize(&b.parser)) {
		diag_add(d, POLICY_ERROR, 0, 0, 0, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)buf, len);
	root = build_stream(&b);
	yaml_parser_delete(&b.parser);
	if (!root)
		errno = EINVAL;
	return root;
}

bool ynode_is_null(const struct ynode *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (!n || n->kind != YNODE_SCALAR || !n->plain)
		return false;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(n->str, nulls[i]) == 0)
			return true;
	return false;
}
