/* test_statefile.c - the state file: atomic writes, verified loads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/statefile.h"

/* --- fixture: a private directory, removed afterwards ---------------------- */

struct fx {
	char dir[64];
	char path[128];		/* dir/state */
	char tmp[160];		/* dir/state.tmp */
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_statefile.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/state", f->dir);
	snprintf(f->tmp, sizeof(f->tmp), "%s.tmp", f->path);
	*state = f;
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		chmod(p, 0700);
	return remove(p) < 0 ? -1 : 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	chmod(f->dir, 0700);
	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* --- helpers ------------------------------------------------------------------ */

static uint8_t *file_read(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *b;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	b = malloc(st.st_size ? (size_t)st.st_size : 1);
	assert_non_null(b);
	assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

static void file_write(const char *path, const void *b, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, len), (ssize_t)len);
	close(fd);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Recomputes the trailer, as a forger (or a buggy writer) would. */
static void fix_crc(uint8_t *b, size_t len)
{
	put_le32(b + len - 4, statefile_crc32(0, b, len - 4));
}

/* A deterministic record I of a reference state. */
struct rec {
	uint16_t type;
	size_t key_len, payload_len;
	uint8_t *key, *payload;
};

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void rec_make(struct rec *r, unsigned i)
{
	uint32_t s = 2463534242u + i * 2654435761u;
	size_t j;

	r->type = (uint16_t)(i * 7919);
	switch (i) {
	case 0:			/* empty key and payload */
		r->key_len = 0;
		r->payload_len = 0;
		break;
	case 1:			/* empty key */
		r->key_len = 0;
		r->payload_len = 10;
		break;
	case 2:			/* empty payload */
		r->key_len = 5;
		r->payload_len = 0;
		break;
	case 3:			/* longest key */
		r->key_len = STATEFILE_KEY_MAX;
		r->payload_len = 3;
		break;
	case 4:			/* larger than the writer's buffer */
		r->key_len = 17;
		r->payload_len = 40000;
		break;
	case 5:			/* around the writer's 16 KiB buffer */
	case 6:
	case 7:
		r->key_len = 0;
		r->payload_len = (16u << 10) - 6 + i;
		break;
	default:
		r->key_len = rnd(&s) % 64;
		r->payload_len = rnd(&s) % 300;
		break;
	}
	r->key = malloc(r->key_len + 1);
	r->payload = malloc(r->payload_len + 1);
	assert_non_null(r->key);
	assert_non_null(r->payload);
	for (j = 0; j < r->key_len; j++)
		r->key[j] = (uint8_t)rnd(&s);
	for (j = 0; j < r->payload_len; j++)
		r->payload[j] = (uint8_t)rnd(&s);
}

static void rec_free(struct rec *r)
{
	free(r->key);
	free(r->payload);
}

/* Writes records [0, N) of the reference state to PATH; returns the size
 * the format says the file must have. */
static size_t write_ref(const char *path, uint64_t now_ms, unsigned n)
{
	struct statefile_writer *w;
	struct rec r;
	size_t size = STATEFILE_HEADER_SIZE + STATEFILE_TRAILER_SIZE;
	unsigned i;
	int err = 1;

	w = statefile_writer_open(path, now_ms, &err);
	assert_non_null(w);
	for (i = 0; i < n; i++) {
		rec_make(&r, i);
		assert_int_equal(statefile_put(w, r.type, r.key, r.key_len,
					       r.payload, r.payload_len), 0);
		size += STATEFILE_RECORD_HEADER + r.key_len + r.payload_len;
		rec_free(&r);
	}
	assert_int_equal(statefile_commit(w), 0);
	return size;
}

/* A state of about 1 KiB (the reference without its big records), for
 * the loops over every length and every bit. */
static uint8_t *write_small(const char *path, size_t *len)
{
	static const unsigned pick[] = { 0, 1, 2, 8, 9, 10, 11, 12 };
	struct statefile_writer *w;
	struct rec r;
	size_t i;

	w = statefile_writer_open(path, 1234, NULL);
	assert_non_null(w);
	for (i = 0; i < sizeof(pick) / sizeof(pick[0]); i++) {
		rec_make(&r, pick[i]);
		assert_int_equal(statefile_put(w, r.type, r.key, r.key_len,
					       r.payload, r.payload_len), 0);
		rec_free(&r);
	}
	assert_int_equal(statefile_commit(w), 0);
	return file_read(path, len);
}

/* A callback that checks records against the reference, in order. */
struct check {
	unsigned calls;
	unsigned stop_at;	/* 1-based; 0: never */
	int stop_with;
	int mismatches;
};

static int check_rec(void *ctx, uint16_t type, const void *key, size_t key_len,
		     const void *payload, size_t payload_len)
{
	struct check *c = ctx;
	struct rec r;

	rec_make(&r, c->calls);
	if (type != r.type || key_len != r.key_len ||
	    payload_len != r.payload_len ||
	    (key_len && memcmp(key, r.key, key_len)) ||
	    (payload_len && memcmp(payload, r.payload, payload_len)))
		c->mismatches++;
	rec_free(&r);
	c->calls++;
	return c->stop_at && c->calls == c->stop_at ? c->stop_with : 0;
}

static int count_rec(void *ctx, uint16_t type, const void *key, size_t key_len,
		     const void *payload, size_t payload_len)
{
	(void)type;
	(void)key;
	(void)key_len;
	(void)payload;
	(void)payload_len;
	++*(unsigned *)ctx;
	return 0;
}

/* Loads PATH expecting a refusal whose reason starts with PREFIX, and no
 * record handed out. */
static void expect_bad(const char *path, const char *prefix)
{
	char why[STATEFILE_WHY_MAX];
	uint64_t at = 77;
	unsigned calls = 0;
	int r;

	r = statefile_load(path, count_rec, &calls, &at, why, sizeof(why));
	if (r != -EBADMSG || strncmp(why, prefix, strlen(prefix)))
		fail_msg("want -EBADMSG \"%s...\", got %d \"%s\"", prefix, r,
			 why);
	assert_int_equal(calls, 0);
	assert_int_equal(at, 77);	/* untouched on failure */
}

/* --- tests ---------------------------------------------------------------------- */

static void test_crc32(void **state)
{
	(void)state;
	assert_int_equal(statefile_crc32(0, "123456789", 9), 0xcbf43926);
	assert_int_equal(statefile_crc32(statefile_crc32(0, "1234", 4),
					 "56789", 5), 0xcbf43926);
	assert_int_equal(statefile_crc32(0, "", 0), 0);
	assert_int_equal(statefile_crc32(0, "a", 1), 0xe8b7be43);
}

/* The bytes of a tiny file, field by field: pins the format. */
static void test_exact_bytes(void **state)
{
	struct fx *f = *state;
	struct statefile_writer *w;
	static const uint8_t want_head[] = {
		'I', 'O', 'T', 'J', 'S', 'T', 'A', 'T',
		1, 0, 0, 0,				/* version */
		1, 0, 0, 0,				/* records */
		0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01, /* at */
		49, 0, 0, 0, 0, 0, 0, 0,		/* length */
		0x34, 0x12,				/* type */
		2, 0,					/* key length */
		3, 0, 0, 0,				/* payload length */
		'k', 'y', 'p', 'a', 'y',
	};
	uint8_t *b;
	size_t len;

	w = statefile_writer_open(f->path, 0x0123456789abcdefull, NULL);
	assert_non_null(w);
	assert_int_equal(statefile_put(w, 0x1234, "ky", 2, "pay", 3), 0);
	assert_int_equal(statefile_commit(w), 0);
	b = file_read(f->path, &len);
	assert_int_equal(len, sizeof(want_head) + 4);
	assert_memory_equal(b, want_head, sizeof(want_head));
	assert_int_equal(b[len - 4] | b[len - 3] << 8 | b[len - 2] << 16 |
			 (uint32_t)b[len - 1] << 24,
			 statefile_crc32(0, want_head, sizeof(want_head)));
	free(b);
}

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	struct check c = { 0 };
	char why[STATEFILE_WHY_MAX] = "x";
	uint64_t at = 0;
	struct stat st;
	size_t size;
	const unsigned n = 2000;

	size = write_ref(f->path, 1767225600123ull, n);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, size);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_false(exists(f->tmp));

	assert_int_equal(statefile_load(f->path, check_rec, &c, &at, why,
					sizeof(why)), 0);
	assert_int_equal(c.calls, n);
	assert_int_equal(c.mismatches, 0);
	assert_int_equal(at, 1767225600123ull);
	assert_string_equal(why, "");

	/* A new state replaces the old one. */
	write_ref(f->path, 5, 3);
	memset(&c, 0, sizeof(c));
	assert_int_equal(statefile_load(f->path, check_rec, &c, &at, NULL, 0),
			 0);
	assert_int_equal(c.calls, 3);
	assert_int_equal(c.mismatches, 0);
	assert_int_equal(at, 5);
	/* Verify only. */
	assert_int_equal(statefile_load(f->path, NULL, NULL, NULL, NULL, 0), 0);
}

static void test_no_records(void **state)
{
	struct fx *f = *state;
	unsigned calls = 0;
	uint64_t at = 0;

	assert_int_equal(write_ref(f->path, 42, 0), 36);
	assert_int_equal(statefile_load(f->path, count_rec, &calls, &at, NULL,
					0), 0);
	assert_int_equal(calls, 0);
	assert_int_equal(at, 42);
}

static void test_missing_file(void **state)
{
	struct fx *f = *state;
	char p[200], why[STATEFILE_WHY_MAX];
	unsigned calls = 0;

	assert_int_equal(statefile_load(f->path, count_rec, &calls, NULL, why,
					sizeof(why)), -ENOENT);
	snprintf(p, sizeof(p), "%s/no/such/dir/state", f->dir);
	assert_int_equal(statefile_load(p, count_rec, &calls, NULL, NULL, 0),
			 -ENOENT);
	assert_int_equal(calls, 0);
}

static void test_put_refusals(void **state)
{
	struct fx *f = *state;
	struct statefile_writer *w;
	static uint8_t key[STATEFILE_KEY_MAX + 1];
	uint8_t *big;
	unsigned calls = 0;

	w = statefile_writer_open(f->path, 1, NULL);
	assert_non_null(w);
	assert_int_equal(statefile_put(w, 1, key, sizeof(key), "p", 1),
			 -EINVAL);
	assert_int_equal(statefile_put(w, 1, NULL, 3, "p", 1), -EINVAL);
	assert_int_equal(statefile_put(w, 1, "k", 1, NULL, 3), -EINVAL);
	assert_int_equal(statefile_put(NULL, 1, "k", 1, "p", 1), -EINVAL);
	/* A record that would push the file past the limit... */
	big = calloc(1, STATEFILE_MAX_SIZE);
	assert_non_null(big);
	assert_int_equal(statefile_put(w, 1, "k", 1, big,
				       STATEFILE_MAX_SIZE - 40), -EMSGSIZE);
	assert_int_equal(statefile_put(w, 1, "k", 1, big, (size_t)-1),
			 -EMSGSIZE);
	/* ...the refusals wrote nothing, and the writer still works. */
	assert_int_equal(statefile_put(w, 7, "k", 1, "v", 1), 0);
	assert_int_equal(statefile_commit(w), 0);
	assert_int_equal(statefile_load(f->path, count_rec, &calls, NULL, NULL,
					0), 0);
	assert_int_equal(calls, 1);

	/* The largest record that fits: header, record header, key,
	 * trailer; then not one byte more.  (Aborted: no need to sync
	 * 64 MiB.) */
	w = statefile_writer_open(f->path, 1, NULL);
	assert_non_null(w);
	assert_int_equal(statefile_put(w, 2, "k", 1, big,
				       STATEFILE_MAX_SIZE - 32 - 8 - 1 - 4), 0);
	assert_int_equal(statefile_put(w, 3, NULL, 0, NULL, 0), -EMSGSIZE);
	statefile_abort(w);
	free(big);
	calls = 0;
	assert_int_equal(statefile_load(f->path, count_rec, &calls, NULL, NULL,
					0), 0);
	assert_int_equal(calls, 1);
}

static void test_bad_magic_and_version(void **state)
{
	struct fx *f = *state;
	char why[STATEFILE_WHY_MAX];
	uint8_t *b;
	size_t len;

	write_ref(f->path, 1, 4);
	b = file_read(f->path, &len);
	b[0] = 'X';
	file_write(f->path, b, len);
	expect_bad(f->path, "not an iotjail state file");
	file_write(f->path, "hello, world\n", 13);
	expect_bad(f->path, "not an iotjail state file");

	/* Version 2, with a checksum that matches: still refused. */
	b[0] = 'I';
	put_le32(b + 8, 2);
	fix_crc(b, len);
	file_write(f->path, b, len);
	expect_bad(f->path, "unsupported version 2 (this build reads 1)");
	put_le32(b + 8, 0);
	file_write(f->path, b, len);
	expect_bad(f->path, "unsupported version 0");
	free(b);

	/* Not a regular file: a directory, a FIFO (must not block). */
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(mkdir(f->path, 0700), 0);
	expect_bad(f->path, "not a regular file");
	assert_int_equal(rmdir(f->path), 0);
	assert_int_equal(mkfifo(f->path, 0600), 0);
	expect_bad(f->path, "not a regular file");
	assert_int_equal(statefile_load(f->path, NULL, NULL, NULL, why,
					sizeof(why)), -EBADMSG);
}

static void test_truncated_at_every_length(void **state)
{
	struct fx *f = *state;
	char prefix[64], why[STATEFILE_WHY_MAX];
	unsigned calls = 0;
	uint8_t *b, *c;
	size_t len, l;

	b = write_small(f->path, &len);
	assert_true(len > 500);
	for (l = 0; l < len; l++) {
		file_write(f->path, b, l);
		snprintf(prefix, sizeof(prefix), "truncated: %zu bytes", l);
		expect_bad(f->path, prefix);
		/* In memory too, from an exactly sized copy, so a sanitizer
		 * sees any read past the end. */
		c = malloc(l ? l : 1);
		memcpy(c, b, l);
		assert_int_equal(statefile_parse(c, l, count_rec, &calls, NULL,
						 why, sizeof(why)), -EBADMSG);
		assert_memory_equal(why, prefix, strlen(prefix));
		free(c);
	}
	assert_int_equal(calls, 0);
	/* The reason says what the header expected. */
	file_write(f->path, b, 100);
	snprintf(prefix, sizeof(prefix),
		 "truncated: 100 bytes, header says %zu", len);
	expect_bad(f->path, prefix);
	free(b);
}

/* Every single-bit error anywhere is caught, with the reason that fits
 * where it is. */
static void test_every_bit_flip(void **state)
{
	struct fx *f = *state;
	uint8_t *b, *c;
	size_t len, i;
	unsigned bit;
	const char *want;

	b = write_small(f->path, &len);
	c = malloc(len);
	assert_non_null(c);
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(c, b, len);
			c[i] ^= (uint8_t)(1u << bit);
			if (i < 8)
				want = "not an iotjail state file";
			else if (i < 12)
				want = "unsupported version";
			else if (i >= 24 && i < 32)
				want = get_le64(c + 24) > len ?
				       "truncated" : "trailing bytes";
			else
				want = "checksum mismatch";
			file_write(f->path, c, len);
			expect_bad(f->path, want);
		}
	free(c);
	free(b);
}

static void test_malformed_records(void **state)
{
	struct fx *f = *state;
	struct statefile_writer *w;
	uint8_t *b, *c;
	size_t len;

	/* Three records of 8 + 1 + 3 bytes: at 32, 44, 56. */
	w = statefile_writer_open(f->path, 1, NULL);
	assert_int_equal(statefile_put(w, 1, "a", 1, "xyz", 3), 0);
	assert_int_equal(statefile_put(w, 2, "b", 1, "xyz", 3), 0);
	assert_int_equal(statefile_put(w, 3, "c", 1, "xyz", 3), 0);
	assert_int_equal(statefile_commit(w), 0);
	b = file_read(f->path, &len);
	assert_int_equal(len, 32 + 3 * 12 + 4);
	c = malloc(len);

	/* Record 2's payload length runs past the end.  With a matching
	 * checksum (a foreign or buggy writer) the structure is blamed... */
	memcpy(c, b, len);
	put_le32(c + 44 + 4, 1000);
	fix_crc(c, len);
	file_write(f->path, c, len);
	expect_bad(f->path, "record 2 of 3 overruns the file");
	/* ...and a huge one must not wrap any arithmetic. */
	put_le32(c + 44 + 4, 0xffffffff);
	fix_crc(c, len);
	file_write(f->path, c, len);
	expect_bad(f->path, "record 2 of 3 overruns the file");
	/* Without one, the damage is what is reported. */
	put_le32(c + 44 + 4, 1000);
	file_write(f->path, c, len);
	expect_bad(f->path, "checksum mismatch");

	/* A key over the limit. */
	memcpy(c, b, len);
	c[32 + 2] = 0xff;
	c[32 + 3] = 0xff;
	fix_crc(c, len);
	file_write(f->path, c, len);
	expect_bad(f->path, "record 1 of 3: key of 65535 bytes, limit 1024");

	/* The header claims one record more, or one less. */
	memcpy(c, b, len);
	put_le32(c + 12, 4);
	fix_crc(c, len);
	file_write(f->path, c, len);
	expect_bad(f->path, "record 4 of 4 overruns the file");
	put_le32(c + 12, 2);
	fix_crc(c, len);
	file_write(f->path, c, len);
	expect_bad(f->path, "trailing bytes: 12 bytes after the last of 2");
	put_le32(c + 12, 0xffffffff);
	fix_crc(c, len);
	file_write(f->path, c, len);
	expect_bad(f->path, "record 4 of 4294967295 overruns the file");

	/* Garbage appended to an intact file. */
	c = realloc(c, len + 5);
	memcpy(c, b, len);
	memcpy(c + len, "junk\n", 5);
	file_write(f->path, c, len + 5);
	expect_bad(f->path, "trailing bytes: 77 bytes, header says 72");
	free(c);
	free(b);
}

static void test_too_large(void **state)
{
	struct fx *f = *state;
	uint8_t *b;
	size_t len;
	int fd;

	/* A valid start, then sparse space up to one byte over the limit. */
	write_ref(f->path, 1, 2);
	b = file_read(f->path, &len);
	fd = open(f->path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)STATEFILE_MAX_SIZE + 1), 0);
	close(fd);
	expect_bad(f->path, "too large: 67108865 bytes, limit 67108864");
	assert_int_equal(statefile_parse(b, (size_t)STATEFILE_MAX_SIZE + 1,
					 NULL, NULL, NULL, NULL, 0), -EBADMSG);
	free(b);
}

static void assert_loads_ref(const char *path, unsigned n, uint64_t at_want)
{
	struct check c = { 0 };
	uint64_t at = 0;

	assert_int_equal(statefile_load(path, check_rec, &c, &at, NULL, 0), 0);
	assert_int_equal(c.calls, n);
	assert_int_equal(c.mismatches, 0);
	assert_int_equal(at, at_want);
}

static void test_failed_commit_keeps_old(void **state)
{
	struct fx *f = *state;
	struct statefile_writer *w;
	struct rlimit old, lim;
	static uint8_t payload[12000];
	char p[200];
	int err = 0, i, r;
	void (*old_sig)(int);

	write_ref(f->path, 1000, 7);

	/* No such directory: nothing to open. */
	snprintf(p, sizeof(p), "%s/missing/state", f->dir);
	errno = 0;
	assert_null(statefile_writer_open(p, 1, &err));
	assert_int_equal(err, -ENOENT);
	assert_int_equal(errno, ENOENT);

	/* The disk "fills up" at commit: the buffered bytes cannot be
	 * written (RLIMIT_FSIZE works for root too). */
	old_sig = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 8192;
	w = statefile_writer_open(f->path, 2000, NULL);
	assert_non_null(w);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(statefile_put(w, 1, "k", 1, payload, sizeof(payload)),
			 0);
	r = statefile_commit(w);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(r, -EFBIG);
	assert_false(exists(f->tmp));
	assert_loads_ref(f->path, 7, 1000);

	/* ...or while records are put: the error sticks. */
	w = statefile_writer_open(f->path, 2000, NULL);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (i = 0; i < 4; i++)
		if ((r = statefile_put(w, 1, "k", 1, payload,
				       sizeof(payload))) < 0)
			break;
	assert_int_equal(r, -EFBIG);
	assert_int_equal(statefile_put(w, 1, NULL, 0, NULL, 0), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(statefile_commit(w), -EFBIG);
	assert_false(exists(f->tmp));
	assert_loads_ref(f->path, 7, 1000);
	signal(SIGXFSZ, old_sig);

	/* The rename fails (a directory is in the way): the temporary file
	 * goes, what is at the path stays. */
	snprintf(p, sizeof(p), "%s/sub", f->dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/sub/x", f->dir);
	file_write(p, "x", 1);
	snprintf(p, sizeof(p), "%s/sub", f->dir);
	w = statefile_writer_open(p, 1, NULL);
	assert_non_null(w);
	assert_int_equal(statefile_put(w, 1, "k", 1, "v", 1), 0);
	r = statefile_commit(w);
	assert_true(r == -EISDIR || r == -ENOTEMPTY || r == -EEXIST);
	snprintf(p, sizeof(p), "%s/sub/x", f->dir);
	assert_true(exists(p));
	snprintf(p, sizeof(p), "%s/sub.tmp", f->dir);
	assert_false(exists(p));

	/* An unwritable directory (only meaningful without root). */
	if (geteuid() != 0) {
		assert_int_equal(chmod(f->dir, 0500), 0);
		assert_null(statefile_writer_open(f->path, 3000, &err));
		assert_int_equal(err, -EACCES);
		assert_int_equal(chmod(f->dir, 0700), 0);
	}
	assert_loads_ref(f->path, 7, 1000);
}

static void test_abort(void **state)
{
	struct fx *f = *state;
	struct statefile_writer *w;

	write_ref(f->path, 10, 5);
	w = statefile_writer_open(f->path, 20, NULL);
	assert_non_null(w);
	assert_true(exists(f->tmp));
	assert_int_equal(statefile_put(w, 1, "k", 1, "v", 1), 0);
	statefile_abort(w);
	assert_false(exists(f->tmp));
	assert_loads_ref(f->path, 5, 10);
	statefile_abort(NULL);
	assert_int_equal(statefile_commit(NULL), -EINVAL);
}

/* A stale temporary file is replaced, never written through. */
static void test_stale_tmp(void **state)
{
	struct fx *f = *state;
	struct statefile_writer *w;
	char victim[200];
	uint8_t *b;
	size_t len;
	struct stat st;

	snprintf(victim, sizeof(victim), "%s/victim", f->dir);
	file_write(victim, "victim", 6);
	assert_int_equal(symlink(victim, f->tmp), 0);
	w = statefile_writer_open(f->path, 1, NULL);
	assert_non_null(w);
	assert_int_equal(lstat(f->tmp, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(statefile_commit(w), 0);
	b = file_read(victim, &len);
	assert_int_equal(len, 6);
	assert_memory_equal(b, "victim", 6);
	free(b);

	/* A leftover regular file, group and world readable, with junk. */
	file_write(f->tmp, "junk", 4);
	assert_int_equal(chmod(f->tmp, 0644), 0);
	write_ref(f->path, 3, 4);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_false(exists(f->tmp));
	assert_loads_ref(f->path, 4, 3);
}

static void test_callback_stops_load(void **state)
{
	struct fx *f = *state;
	struct check c = { .stop_at = 3, .stop_with = 42 };
	char why[STATEFILE_WHY_MAX];

	write_ref(f->path, 1, 10);
	assert_int_equal(statefile_load(f->path, check_rec, &c, NULL, why,
					sizeof(why)), 42);
	assert_int_equal(c.calls, 3);
	assert_int_equal(c.mismatches, 0);
	assert_non_null(strstr(why, "record 3 of 10"));

	memset(&c, 0, sizeof(c));
	c.stop_at = 10;
	c.stop_with = -ENOMEM;
	assert_int_equal(statefile_load(f->path, check_rec, &c, NULL, NULL, 0),
			 -ENOMEM);
	assert_int_equal(c.calls, 10);
}

static void test_set_aside(void **state)
{
	struct fx *f = *state;
	static const char *const content[3] = { "one", "two", "three" };
	char names[3][256], tiny[8];
	regex_t re;
	uint8_t *b;
	size_t len, n = strlen(f->path);
	int i, j, suffixed = 0;

	assert_int_equal(statefile_set_aside(f->path, names[0], 256), -ENOENT);
	assert_int_equal(regcomp(&re, "^\\.corrupt-[0-9]{8}T[0-9]{6}Z(-[0-9]+)?$",
				 REG_EXTENDED | REG_NOSUB), 0);
	/* Three in well under a second: at least two share a timestamp, and
	 * none may replace another. */
	for (i = 0; i < 3; i++) {
		file_write(f->path, content[i], strlen(content[i]));
		assert_int_equal(statefile_set_aside(f->path, names[i], 256),
				 0);
		assert_false(exists(f->path));
		assert_memory_equal(names[i], f->path, n);
		assert_int_equal(regexec(&re, names[i] + n, 0, NULL, 0), 0);
		suffixed += !strcmp(names[i] + strlen(names[i]) - 2, "-1");
	}
	regfree(&re);
	assert_true(suffixed >= 1);
	for (i = 0; i < 3; i++) {
		for (j = 0; j < i; j++)
			assert_string_not_equal(names[i], names[j]);
		b = file_read(names[i], &len);
		assert_int_equal(len, strlen(content[i]));
		assert_memory_equal(b, content[i], len);
		free(b);
	}

	/* No room for the new name: nothing moves. */
	file_write(f->path, "four", 4);
	assert_int_equal(statefile_set_aside(f->path, tiny, sizeof(tiny)),
			 -ENAMETOOLONG);
	assert_true(exists(f->path));
	assert_int_equal(statefile_set_aside(f->path, NULL, 0), 0);
	assert_false(exists(f->path));
}

static void test_encode_decode(void **state)
{
	uint8_t buf[64], raw[9];
	struct sfenc e;
	struct sfdec d;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64, bits;
	double x;
	const void *ref;
	char s[8];

	(void)state;
	sfenc_init(&e, buf, sizeof(buf));
	sfenc_put_u8(&e, 0xab);
	sfenc_put_u16(&e, 0x1234);
	sfenc_put_u32(&e, 0x01020304);
	sfenc_put_u64(&e, 0x1122334455667788ull);
	sfenc_put_double(&e, -1.5);
	sfenc_put_double(&e, NAN);
	sfenc_put_double(&e, -0.0);
	sfenc_put_bytes(&e, "abc", 3);
	sfenc_put_bytes(&e, NULL, 0);
	assert_false(e.overflow);
	assert_int_equal(e.len, 1 + 2 + 4 + 8 + 3 * 8 + 3);
	/* Little-endian on every host. */
	assert_memory_equal(buf, "\xab\x34\x12\x04\x03\x02\x01"
				 "\x88\x77\x66\x55\x44\x33\x22\x11", 15);
	/* -1.5 is 0xbff8000000000000. */
	assert_memory_equal(buf + 15, "\0\0\0\0\0\0\xf8\xbf", 8);

	/* Decoding from an odd address, as payloads are. */
	memmove(buf + 1, buf, e.len);
	sfdec_init(&d, buf + 1, e.len);
	assert_int_equal(sfdec_get_u8(&d, &u8), 0);
	assert_int_equal(u8, 0xab);
	assert_int_equal(sfdec_get_u16(&d, &u16), 0);
	assert_int_equal(u16, 0x1234);
	assert_int_equal(sfdec_get_u32(&d, &u32), 0);
	assert_int_equal(u32, 0x01020304);
	assert_int_equal(sfdec_get_u64(&d, &u64), 0);
	assert_int_equal(u64, 0x1122334455667788ull);
	assert_int_equal(sfdec_get_double(&d, &x), 0);
	assert_true(x == -1.5);
	assert_int_equal(sfdec_get_double(&d, &x), 0);
	assert_true(isnan(x));
	assert_int_equal(sfdec_get_double(&d, &x), 0);
	memcpy(&bits, &x, sizeof(bits));
	assert_int_equal(bits, 0x8000000000000000ull);	/* -0.0 kept */
	assert_int_equal(sfdec_left(&d), 3);
	assert_int_equal(sfdec_end(&d), -EBADMSG);	/* bytes left */
	assert_int_equal(sfdec_get_ref(&d, &ref, 1), 0);
	assert_ptr_equal(ref, buf + 1 + e.len - 3);
	assert_int_equal(sfdec_get_bytes(&d, s, 2), 0);
	assert_memory_equal(s, "bc", 2);
	assert_int_equal(sfdec_get_bytes(&d, s, 0), 0);
	assert_int_equal(sfdec_end(&d), 0);

	/* Overrun: nothing consumed, output zeroed, and it sticks. */
	assert_int_equal(sfdec_get_u8(&d, &u8), -EBADMSG);
	memset(raw, 0xee, sizeof(raw));
	sfdec_init(&d, raw, 7);
	u64 = 5;
	assert_int_equal(sfdec_get_u64(&d, &u64), -EBADMSG);
	assert_int_equal(u64, 0);
	assert_int_equal(sfdec_left(&d), 7);
	assert_int_equal(sfdec_get_u8(&d, &u8), -EBADMSG);	/* sticky */
	assert_int_equal(u8, 0);
	assert_int_equal(sfdec_end(&d), -EBADMSG);
	sfdec_init(&d, raw, 7);
	memset(s, 'z', sizeof(s));
	assert_int_equal(sfdec_get_bytes(&d, s, 8), -EBADMSG);
	assert_int_equal(s[0], 0);
	sfdec_init(&d, raw, 7);
	assert_int_equal(sfdec_get_ref(&d, &ref, (size_t)-1), -EBADMSG);
	assert_null(ref);
	sfdec_init(&d, raw, 7);
	assert_int_equal(sfdec_get_u32(&d, &u32), 0);
	assert_int_equal(sfdec_get_u32(&d, &u32), -EBADMSG);	/* 3 left */
	assert_int_equal(sfdec_get_u16(&d, &u16), -EBADMSG);	/* sticky */
	sfdec_init(&d, NULL, 5);
	assert_int_equal(sfdec_left(&d), 0);
	assert_int_equal(sfdec_end(&d), 0);
	assert_int_equal(sfdec_get_u8(&d, &u8), -EBADMSG);

	/* Encoder overflow: nothing partial, and it sticks. */
	memset(raw, 0, sizeof(raw));
	sfenc_init(&e, raw, 5);
	sfenc_put_u32(&e, 0xdeadbeef);
	assert_false(e.overflow);
	sfenc_put_u16(&e, 0xffff);
	assert_true(e.overflow);
	assert_int_equal(e.len, 4);
	assert_int_equal(raw[4], 0);
	sfenc_put_u8(&e, 0x77);	/* would fit, but the payload is lost */
	assert_int_equal(e.len, 4);
	assert_int_equal(raw[4], 0);
	sfenc_init(&e, raw, sizeof(raw));
	sfenc_put_bytes(&e, raw, sizeof(raw) + 1);
	assert_true(e.overflow);
	assert_int_equal(e.len, 0);
	sfenc_init(&e, NULL, 100);
	sfenc_put_bytes(&e, NULL, 0);
	assert_false(e.overflow);
	sfenc_put_u8(&e, 1);
	assert_true(e.overflow);
}

/* Payloads encoded with sfenc come back through a file. */
static int decode_rec(void *ctx, uint16_t type, const void *key,
		      size_t key_len, const void *payload, size_t payload_len)
{
	struct sfdec d;
	uint64_t v;
	double x;
	uint32_t *sum = ctx;

	(void)key;
	(void)key_len;
	sfdec_init(&d, payload, payload_len);
	sfdec_get_u64(&d, &v);
	sfdec_get_double(&d, &x);
	if (sfdec_end(&d) || v != (uint64_t)type << 40 || x != type / 4.0)
		return -EBADMSG;
	*sum += type;
	return 0;
}

static void test_payloads_through_file(void **state)
{
	struct fx *f = *state;
	struct statefile_writer *w;
	uint8_t buf[16];
	struct sfenc e;
	uint32_t sum = 0;
	uint16_t t;

	w = statefile_writer_open(f->path, 1, NULL);
	for (t = 1; t <= 100; t++) {
		sfenc_init(&e, buf, sizeof(buf));
		sfenc_put_u64(&e, (uint64_t)t << 40);
		sfenc_put_double(&e, t / 4.0);
		assert_false(e.overflow);
		/* Odd key lengths put every payload at a new alignment. */
		assert_int_equal(statefile_put(w, t, "kkkk", t % 4, buf,
					       e.len), 0);
	}
	assert_int_equal(statefile_commit(w), 0);
	assert_int_equal(statefile_load(f->path, decode_rec, &sum, NULL, NULL,
					0), 0);
	assert_int_equal(sum, 5050);
}

/* Small records of every size around the writer's buffer boundary: each
 * size lands the buffer's end at another place in a record. */
struct small_check {
	unsigned calls, bad;
	size_t size;
};

static int small_rec(void *ctx, uint16_t type, const void *key,
		     size_t key_len, const void *payload, size_t payload_len)
{
	struct small_check *c = ctx;
	const uint8_t *k = key, *p = payload;
	size_t j;

	if (type != (uint16_t)c->calls || key_len != c->calls % 5 ||
	    payload_len != c->size)
		c->bad++;
	for (j = 0; j < key_len; j++)
		c->bad += k[j] != (uint8_t)(c->calls + j);
	for (j = 0; j < payload_len; j++)
		c->bad += p[j] != (uint8_t)(c->calls * 3 + j);
	c->calls++;
	return 0;
}

static void test_buffer_boundaries(void **state)
{
	struct fx *f = *state;
	struct statefile_writer *w;
	struct small_check c;
	uint8_t k[8], p[32];
	unsigned i, j;
	size_t size;

	for (size = 0; size < 24; size++) {
		w = statefile_writer_open(f->path, size, NULL);
		assert_non_null(w);
		for (i = 0; i < 3000; i++) {
			for (j = 0; j < sizeof(k); j++)
				k[j] = (uint8_t)(i + j);
			for (j = 0; j < sizeof(p); j++)
				p[j] = (uint8_t)(i * 3 + j);
			assert_int_equal(statefile_put(w, (uint16_t)i, k,
						       i % 5, p, size), 0);
		}
		assert_int_equal(statefile_commit(w), 0);
		memset(&c, 0, sizeof(c));
		c.size = size;
		assert_int_equal(statefile_load(f->path, small_rec, &c, NULL,
						NULL, 0), 0);
		assert_int_equal(c.calls, 3000);
		assert_int_equal(c.bad, 0);
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32),
		T(test_exact_bytes),
		T(test_round_trip),
		T(test_buffer_boundaries),
		T(test_no_records),
		T(test_missing_file),
		T(test_put_refusals),
		T(test_bad_magic_and_version),
		T(test_truncated_at_every_length),
		T(test_every_bit_flip),
		T(test_malformed_records),
		T(test_too_large),
		T(test_failed_commit_keeps_old),
		T(test_abort),
		T(test_stale_tmp),
		T(test_callback_stops_load),
		T(test_set_aside),
		cmocka_unit_test(test_encode_decode),
		T(test_payloads_through_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
