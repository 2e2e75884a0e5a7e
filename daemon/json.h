/* json.h - append-only JSON object writer into a growable buffer.
 *
 * Used for the flow log, the alert log and control replies: one object per
 * line, keys in the order written (so fixed header fields come first).
 * Allocation failure is sticky: jbuf_ok() tells whether the text is whole.
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

#endif
