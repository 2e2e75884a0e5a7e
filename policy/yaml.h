/*
 * yaml: the only file that includes libyaml.  It turns a buffer into a small
 * tree of scalars, sequences and mappings that remember where they were
 * written, which is all the loader needs to report errors with a caret.
 *
 * Anchors are ignored and aliases are refused: profiles are the language's
 * way to share rules, and refusing aliases keeps "billion laughs" documents
 * from exploding the tree.
 */
#ifndef IOTJAIL_POLICY_YAML_H
#define IOTJAIL_POLICY_YAML_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct policy_diag;

enum ynode_kind {
	YNODE_SCALAR,
	YNODE_SEQ,
	YNODE_MAP,
	__YNODE_KIND_MAX
};

struct ynode {
	enum ynode_kind kind;
	unsigned line, col;	/* 1-based, in characters */
	unsigned width;		/* characters to underline; 0: to the end of the line */
	bool plain;		/* a scalar written without quotes (so "~" is null) */
	const char *str;	/* scalar: NUL-terminated value (may hold NULs of its own) */
	size_t len;		/* scalar: bytes in str */
	size_t n;		/* seq: items; map: pairs */
	struct ynode **items;	/* seq: items[n]; map: items[2n] = key, value, ... */
};

/*
 * Parse one YAML document into nodes allocated from a.  Returns the root,
 * or NULL after adding a syntax error to d (or on ENOMEM, also reported
 * to d).  An empty document gives a root that is a null scalar.
 */
struct ynode *yaml_parse_tree(struct arena *a, const char *buf, size_t len,
			      struct policy_diag *d);

/* A plain "", "~", "null" or "Null"/"NULL": YAML's ways to say nothing. */
bool ynode_is_null(const struct ynode *n);

#endif
