/* fuzz_control.c - libFuzzer harness for the control socket's request
 * parser and the JSON reader under it.
 *
 * Beyond "no crash": a request is either refused with a message, or parsed
 * into names of printable ASCII within their bounds; and whatever the reader
 * accepts, written out again by the JSON writer and read back, gives the
 * same tree (the writer escapes bytes >= 0x80 one by one, so strings are
 * compared only when they are ASCII).
 *
 *   make fuzz && build/fuzz/fuzz_control tests/fuzz/corpus/control
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/control.h"
#include "daemon/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *s)
{
	size_t n = strnlen(s, CTL_NAME_MAX);

	if (n == CTL_NAME_MAX)
		abort();
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			abort();
}

static bool ascii(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80 || !s[i])
			return false;
	return true;
}

static void write_value(struct jbuf *j, const char *key, const struct json_value *v)
{
	size_t i;

	switch (v->type) {
	case JSON_NULL: json_null(j, key); break;
	case JSON_BOOL: json_bool(j, key, v->b); break;
	case JSON_NUMBER: json_double(j, key, 0, 0); break;	/* numbers: shape only */
	case JSON_STRING: json_str(j, key, ascii(v->str, v->len) ? v->str : "x"); break;
	case JSON_ARRAY:
		json_arr(j, key);
		for (i = 0; i < v->n; i++)
			write_value(j, NULL, &v->items[i]);
		json_arr_end(j);
		break;
	case JSON_OBJECT:
		if (key)
			json_obj(j, key);
		else
			json_begin(j);
		for (i = 0; i < v->n; i++)
			write_value(j, ascii(v->keys[i], strlen(v->keys[i])) ? v->keys[i] : "k",
				    &v->items[i]);
		json_end(j);
		break;
	default:
		abort();
	}
}

static bool same(const struct json_value *a, const struct json_value *b)
{
	size_t i;

	if (a->type != b->type || a->n != b->n)
		return false;
	if (a->type == JSON_BOOL && a->b != b->b)
		return false;
	if (a->type == JSON_STRING && ascii(a->str, a->len) && strcmp(a->str, b->str))
		return false;
	for (i = 0; i < a->n; i++)
		if (!same(&a->items[i], &b->items[i]))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_request r;
	struct json_value *v, *w;
	struct jbuf j;
	char err[256];

	err[0] = 'x';
	if (ctl_request_parse((const char *)data, size, &r, err, sizeof(err)) == 0) {
		if ((unsigned)r.cmd >= __CTL_CMD_MAX || r.lines > 10000)
			abort();
		check_name(r.device);
		check_name(r.proto);
	} else if (!err[0] || !memchr(err, '\0', sizeof(err))) {
		abort();	/* a refusal always says why */
	}
	v = json_parse((const char *)data, size, 8, err, sizeof(err));
	if (!v)
		return 0;
	/* duplicate keys are refused, so the rewrite has no ambiguity, but a
	 * non-ASCII key rewritten as "k" could collide: skip those */
	jbuf_init(&j);
	json_begin(&j);
	write_value(&j, "v", v);
	json_end(&j);
	w = jbuf_ok(&j) ? json_parse(j.p, j.len, 9, err, sizeof(err)) : NULL;
	if (jbuf_ok(&j) && w && !same(v, json_get(w, "v")) && !strstr(j.p, "\"k\":"))
		abort();
	json_value_free(w);
	json_value_free(v);
	jbuf_free(&j);
	return 0;
}
