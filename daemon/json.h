/* json.h - JSON: an append-only object writer into a growable buffer, and a
 * small strict reader.
 *
 * The writer serves the flow log, the alert log and control replies: one
 * object per line, keys in the order written (so fixed header fields come
 * first).  Allocation failure is sticky: jbuf_ok() tells whether the text is
 * whole.
 *
 * The reader parses control requests (untrusted: fuzzed) and, in iotjailctl,
 * the daemon's replies, into a tree the caller frees.  RFC 8259 strictly:
 * one value, nothing after it but white space, no comments, no trailing
 * commas, no NUL in strings, depth capped.
 */
#ifndef IOTJAIL_JSON_H
#define IOTJAIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct jbuf {
	char *p;
	size_t len, cap;
	bool need_comma;
	bool failed;
};

void jbuf_init(struct jbuf *j);
void jbuf_free(struct jbuf *j);
void jbuf_reset(struct jbuf *j);
bool jbuf_ok(const struct jbuf *j);

void json_begin(struct jbuf *j);			/* { */
void json_end(struct jbuf *j);				/* } */
void json_obj(struct jbuf *j, const char *key);		/* "key":{ */
void json_arr(struct jbuf *j, const char *key);		/* "key":[ */
void json_arr_end(struct jbuf *j);			/* ] */
void json_str(struct jbuf *j, const char *key, const char *v); /* NULL -> null */
void json_u64(struct jbuf *j, const char *key, uint64_t v);
void json_i64(struct jbuf *j, const char *key, int64_t v);
void json_double(struct jbuf *j, const char *key, double v, int decimals);
void json_bool(struct jbuf *j, const char *key, bool v);
void json_null(struct jbuf *j, const char *key);
/* Raw, already valid JSON value (e.g. a number formatted elsewhere). */
void json_raw(struct jbuf *j, const char *key, const char *v);

/* Write the buffer plus "\n" to F; -errno on failure. */
int jbuf_write_line(const struct jbuf *j, FILE *f);
/* Append "\n" and write the buffer with one write(2) to FD (opened with
 * O_APPEND, lines of several threads never interleave); -errno on failure. */
int jbuf_write_fd(struct jbuf *j, int fd);

/* ---- reader ------------------------------------------------------------ */

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
	__JSON_TYPE_MAX
};

struct json_value {
	enum json_type type;
	bool b;
	double num;
	char *str;		/* JSON_STRING: UTF-8, NUL-terminated */
	size_t len;		/* its length */
	/* JSON_ARRAY: n items; JSON_OBJECT: n values, keys[i] names items[i]
	 * (duplicate keys are refused) */
	struct json_value *items;
	char **keys;
	size_t n;
};

/* "null", "boolean", "number", "string", "array", "object". */
const char *json_type_name(enum json_type t);

/*
 * Parse S (LEN bytes, need not be NUL-terminated), at most MAX_DEPTH arrays
 * and objects deep.  NULL on error (errno EINVAL or ENOMEM), with a message
 * naming the byte offset in ERR ("offset 12: expected ':'").
 */
struct json_value *json_parse(const char *s, size_t len, unsigned max_depth,
			      char *err, size_t err_len);
void json_value_free(struct json_value *v);	/* NULL is a no-op */

/* The member KEY of object O, or NULL (also when O is not an object). */
const struct json_value *json_get(const struct json_value *o, const char *key);
/* Its string, number or boolean, or DEF when absent or of another type. */
const char *json_get_str(const struct json_value *o, const char *key, const char *def);
double json_get_num(const struct json_value *o, const char *key, double def);

#endif
