/* statefile.c - one state file, written atomically, verified before use. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/statefile.h"

/* Writes are gathered in this much memory; small enough for a router, large
 * enough that a typical state is a handful of write()s. */
#define WBUF_SIZE	(16u << 10)
#define MIN_FILE	(STATEFILE_HEADER_SIZE + STATEFILE_TRAILER_SIZE)
#define ASIDE_TRIES	1000

struct statefile_writer {
	int fd;
	int err;		/* sticky I/O error, -errno */
	uint32_t count;		/* records put */
	uint64_t size;		/* bytes so far: header and records */
	uint64_t written_at_ms;
	size_t used;		/* bytes in buf not yet written */
	char *path;
	char *tmp;		/* path ".tmp" */
	uint8_t buf[WBUF_SIZE];
};

/* --- little-endian, byte by byte -------------------------------------------- */

static void le16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void le64_put(uint8_t *p, uint64_t v)
{
	le32_put(p, (uint32_t)v);
	le32_put(p + 4, (uint32_t)(v >> 32));
}

static uint16_t le16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64_get(const uint8_t *p)
{
	return (uint64_t)le32_get(p) | (uint64_t)le32_get(p + 4) << 32;
}

/* --- CRC-32 ------------------------------------------------------------------ */

/* Half-byte table of the reflected IEEE polynomial 0xedb88320: 64 bytes
 * instead of 1 KiB, two lookups per byte.  State files are small and written
 * every few minutes; this is not a hot path. */
static const uint32_t crc_nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
	0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
	0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t statefile_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
		crc = (crc >> 4) ^ crc_nibble[crc & 15];
	}
	return ~crc;
}

/* --- small I/O helpers -------------------------------------------------------- */

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = pwrite(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Exactly LEN bytes at OFF; a file shorter than that is -EIO. */
static int pread_all(int fd, void *buf, size_t len, off_t off)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = pread(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static char *str_cat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

/* fsync of the directory holding PATH, so the rename itself is durable. */
static int fsync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, r = 0;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -errno;
	/* Some filesystems cannot sync a directory and say EINVAL: nothing
	 * more can be done there, the rename stands. */
	if (fsync(fd) < 0 && errno != EINVAL)
		r = -errno;
	close(fd);
	return r;
}

/* --- writer ----------------------------------------------------------------- */

static void writer_free(struct statefile_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w->path);
	free(w->tmp);
	free(w);
}

static void header_encode(uint8_t *h, uint32_t count, uint64_t written_at_ms,
			  uint64_t length)
{
	memcpy(h, STATEFILE_MAGIC, 8);
	le32_put(h + 8, STATEFILE_VERSION);
	le32_put(h + 12, count);
	le64_put(h + 16, written_at_ms);
	le64_put(h + 24, length);
}

struct statefile_writer *statefile_writer_open(const char *path,
					       uint64_t now_ms, int *err)
{
	struct statefile_writer *w;
	int e;

	if (!path || !*path) {
		e = -EINVAL;
		goto fail;
	}
	w = malloc(sizeof(*w));
	if (!w) {
		e = -ENOMEM;
		goto fail;
	}
	memset(w, 0, offsetof(struct statefile_writer, buf));
	w->fd = -1;
	w->written_at_ms = now_ms;
	w->path = strdup(path);
	w->tmp = str_cat(path, ".tmp");
	if (!w->path || !w->tmp) {
		writer_free(w);
		e = -ENOMEM;
		goto fail;
	}
	/* A stale temporary file is a crash's leftover and never read: remove
	 * it and create ours with O_EXCL, so a symlink or a file of another
	 * owner or mode planted there is not written through.  O_RDWR, not
	 * O_WRONLY: commit reads the file back to checksum it. */
	if (unlink(w->tmp) < 0 && errno != ENOENT) {
		e = -errno;
		writer_free(w);
		goto fail;
	}
	w->fd = open(w->tmp, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		e = -errno;
		writer_free(w);
		goto fail;
	}
	/* The count and length are filled in by commit. */
	header_encode(w->buf, 0, now_ms, 0);
	w->used = STATEFILE_HEADER_SIZE;
	w->size = STATEFILE_HEADER_SIZE;
	return w;
fail:
	if (err)
		*err = e;
	errno = -e;
	return NULL;
}

static int writer_flush(struct statefile_writer *w)
{
	int r;

	if (!w->used)
		return 0;
	r = write_all(w->fd, w->buf, w->used);
	w->used = 0;
	return r;
}

/* Appends through the buffer; a chunk larger than the buffer goes straight
 * to the file. */
static int writer_append(struct statefile_writer *w, const void *p, size_t n)
{
	int r;

	if (!n)
		return 0;
	if (n > WBUF_SIZE - w->used && (r = writer_flush(w)) < 0)
		return r;
	if (n > WBUF_SIZE)
		return write_all(w->fd, p, n);
	memcpy(w->buf + w->used, p, n);
	w->used += n;
	return 0;
}

int statefile_put(struct statefile_writer *w, uint16_t type, const void *key,
		  size_t key_len, const void *payload, size_t payload_len)
{
	uint8_t rh[STATEFILE_RECORD_HEADER];
	uint64_t rec;
	int r;

	if (!w)
		return -EINVAL;
	if (w->err)
		return w->err;
	if (key_len > STATEFILE_KEY_MAX || (!key && key_len) ||
	    (!payload && payload_len))
		return -EINVAL;
	/* In 64 bits, so a 32-bit size_t cannot wrap; the first test keeps
	 * a 64-bit one (up to SIZE_MAX) from wrapping the sum. */
	rec = (uint64_t)STATEFILE_RECORD_HEADER + key_len + payload_len;
	if (payload_len > STATEFILE_MAX_SIZE ||
	    w->size + rec + STATEFILE_TRAILER_SIZE > STATEFILE_MAX_SIZE)
		return -EMSGSIZE;
	le16_put(rh, type);
	le16_put(rh + 2, (uint16_t)key_len);
	le32_put(rh + 4, (uint32_t)payload_len);
	if ((r = writer_append(w, rh, sizeof(rh))) < 0 ||
	    (r = writer_append(w, key, key_len)) < 0 ||
	    (r = writer_append(w, payload, payload_len)) < 0) {
		w->err = r;
		return r;
	}
	w->size += rec;
	w->count++;
	return 0;
}

/* Everything of commit up to and including the close of the file. */
static int writer_finish(struct statefile_writer *w)
{
	uint8_t h[STATEFILE_HEADER_SIZE], t[STATEFILE_TRAILER_SIZE];
	uint64_t off;
	uint32_t crc = 0;
	size_t n;
	int r, fd;

	if (w->err)
		return w->err;
	if ((r = writer_flush(w)) < 0)
		return r;
	header_encode(h, w->count, w->written_at_ms,
		      w->size + STATEFILE_TRAILER_SIZE);
	if ((r = pwrite_all(w->fd, h, sizeof(h), 0)) < 0)
		return r;
	/* The checksum covers the header, which only now is final, so it is
	 * computed over the file read back (from the page cache): simpler
	 * than combining CRCs, and it covers what the file holds. */
	for (off = 0; off < w->size; off += n) {
		n = w->size - off < WBUF_SIZE ? (size_t)(w->size - off)
					       : WBUF_SIZE;
		if ((r = pread_all(w->fd, w->buf, n, (off_t)off)) < 0)
			return r;
		crc = statefile_crc32(crc, w->buf, n);
	}
	le32_put(t, crc);
	if ((r = pwrite_all(w->fd, t, sizeof(t), (off_t)w->size)) < 0)
		return r;
	if (fsync(w->fd) < 0)
		return -errno;
	fd = w->fd;
	w->fd = -1;
	/* A failing close() can report a delayed write error: believe it. */
	if (close(fd) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

int statefile_commit(struct statefile_writer *w)
{
	int r;

	if (!w)
		return -EINVAL;
	r = writer_finish(w);
	if (!r && rename(w->tmp, w->path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(w->tmp);
		writer_free(w);
		return r;
	}
	r = fsync_dir_of(w->path);
	writer_free(w);
	return r;
}

void statefile_abort(struct statefile_writer *w)
{
	if (!w)
		return;
	unlink(w->tmp);
	writer_free(w);
}

/* --- reader ----------------------------------------------------------------- */

static int say(char *why, size_t why_len, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int say(char *why, size_t why_len, int r, const char *fmt, ...)
{
	va_list ap;

	if (why && why_len) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* Walks the records between the header and the trailer without trusting
 * anything: 0 if exactly COUNT records fill that space, else -EBADMSG with
 * WHY.  Only reached with a good checksum, so a failure here means a file
 * that was written wrong (not by us), not one damaged since. */
static int records_check(const uint8_t *p, size_t len, uint32_t count,
			 char *why, size_t why_len)
{
	size_t pos = STATEFILE_HEADER_SIZE, end = len - STATEFILE_TRAILER_SIZE;
	uint64_t need;
	uint32_t i;
	uint16_t klen;

	for (i = 0; i < count; i++) {
		if (end - pos < STATEFILE_RECORD_HEADER)
			return say(why, why_len, -EBADMSG,
				   "record %u of %u overruns the file: header "
				   "at byte %zu, %zu bytes left",
				   i + 1, count, pos, end - pos);
		klen = le16_get(p + pos + 2);
		if (klen > STATEFILE_KEY_MAX)
			return say(why, why_len, -EBADMSG,
				   "record %u of %u: key of %u bytes, limit %u",
				   i + 1, count, klen, STATEFILE_KEY_MAX);
		need = (uint64_t)STATEFILE_RECORD_HEADER + klen +
		       le32_get(p + pos + 4);
		if (need > end - pos)
			return say(why, why_len, -EBADMSG,
				   "record %u of %u overruns the file: %llu "
				   "bytes at byte %zu, %zu bytes left",
				   i + 1, count, (unsigned long long)need, pos,
				   end - pos);
		pos += (size_t)need;
	}
	if (pos != end)
		return say(why, why_len, -EBADMSG,
			   "trailing bytes: %zu bytes after the last of %u "
			   "records", end - pos, count);
	return 0;
}

static int short_header(char *why, size_t why_len, size_t len)
{
	return say(why, why_len, -EBADMSG,
		   "truncated: %zu bytes, shorter than a header and checksum "
		   "(%u bytes)", len, MIN_FILE);
}

int statefile_parse(const void *buf, size_t len, statefile_record_fn *record,
		    void *ctx, uint64_t *written_at_ms, char *why,
		    size_t why_len)
{
	const uint8_t *p = buf;
	uint32_t version, count, stored, crc, i;
	uint64_t flen;
	size_t pos;
	uint16_t klen;
	uint32_t plen;
	int r;

	if (why && why_len)
		why[0] = '\0';
	if (len > STATEFILE_MAX_SIZE)
		return say(why, why_len, -EBADMSG,
			   "too large: %zu bytes, limit %u", len,
			   STATEFILE_MAX_SIZE);
	/* The checks go from what needs fewest bytes to most, each
	 * giving the most precise reason the bytes so far allow. */
	if (len && memcmp(p, STATEFILE_MAGIC, len < 8 ? len : 8))
		return say(why, why_len, -EBADMSG,
			   "not an iotjail state file (bad magic)");
	if (len < 12)
		return short_header(why, why_len, len);
	version = le32_get(p + 8);
	if (version != STATEFILE_VERSION)
		return say(why, why_len, -EBADMSG,
			   "unsupported version %u (this build reads %u)",
			   version, STATEFILE_VERSION);
	if (len < MIN_FILE)
		return short_header(why, why_len, len);
	flen = le64_get(p + 24);
	if (flen > len)
		return say(why, why_len, -EBADMSG,
			   "truncated: %zu bytes, header says %llu", len,
			   (unsigned long long)flen);
	if (flen < len)
		return say(why, why_len, -EBADMSG,
			   "trailing bytes: %zu bytes, header says %llu", len,
			   (unsigned long long)flen);
	stored = le32_get(p + len - STATEFILE_TRAILER_SIZE);
	crc = statefile_crc32(0, p, len - STATEFILE_TRAILER_SIZE);
	if (crc != stored)
		return say(why, why_len, -EBADMSG,
			   "checksum mismatch: file says %08x, contents %08x",
			   stored, crc);
	count = le32_get(p + 12);
	if ((r = records_check(p, len, count, why, why_len)) < 0)
		return r;

	/* Verified: from here on nothing can fail but the caller. */
	if (written_at_ms)
		*written_at_ms = le64_get(p + 16);
	if (!record)
		return 0;
	for (i = 0, pos = STATEFILE_HEADER_SIZE; i < count; i++) {
		klen = le16_get(p + pos + 2);
		plen = le32_get(p + pos + 4);
		pos += STATEFILE_RECORD_HEADER;
		r = record(ctx, le16_get(p + pos - STATEFILE_RECORD_HEADER),
			   p + pos, klen, p + pos + klen, plen);
		if (r)
			return say(why, why_len, r,
				   "record %u of %u (type %u) refused by its "
				   "reader", i + 1, count,
				   le16_get(p + pos - STATEFILE_RECORD_HEADER));
		pos += (size_t)klen + plen;
	}
	return 0;
}

int statefile_load(const char *path, statefile_record_fn *record, void *ctx,
		   uint64_t *written_at_ms, char *why, size_t why_len)
{
	struct stat st;
	uint8_t *buf;
	size_t len, got = 0;
	ssize_t n;
	int fd, r;

	if (why && why_len)
		why[0] = '\0';
	/* O_NONBLOCK: a FIFO planted at PATH must not hang the daemon's
	 * start; it is refused below like anything not a regular file. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		return say(why, why_len, r, "open: %s", strerror(-r));
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return say(why, why_len, r, "stat: %s", strerror(-r));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return say(why, why_len, -EBADMSG, "not a regular file");
	}
	/* Refused before reading: the writer never makes one this large. */
	if ((uint64_t)st.st_size > STATEFILE_MAX_SIZE) {
		close(fd);
		return say(why, why_len, -EBADMSG,
			   "too large: %llu bytes, limit %u",
			   (unsigned long long)st.st_size, STATEFILE_MAX_SIZE);
	}
	len = (size_t)st.st_size;
	buf = malloc(len ? len : 1);
	if (!buf) {
		close(fd);
		return say(why, why_len, -ENOMEM, "no memory for %zu bytes",
			   len);
	}
	/* The file is replaced by rename, never rewritten in place, so the
	 * inode we hold keeps its size; a short read is parsed as it is. */
	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			free(buf);
			close(fd);
			return say(why, why_len, r, "read: %s", strerror(-r));
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	r = statefile_parse(buf, got, record, ctx, written_at_ms, why,
			    why_len);
	free(buf);
	return r;
}

/* --- setting a bad file aside ------------------------------------------------ */

/* Moves OLD to NEW unless NEW exists.  link() + unlink() is atomic about
 * that; where hard links are not supported (vfat, some FUSE), a check then
 * rename() is good enough for a single daemon. */
static int move_noreplace(const char *old, const char *new)
{
	struct stat st;

	if (link(old, new) == 0) {
		if (unlink(old) < 0) {
			int r = -errno;

			unlink(new);
			return r;
		}
		return 0;
	}
	if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS &&
	    errno != EMLINK)
		return -errno;
	if (lstat(new, &st) == 0)
		return -EEXIST;
	if (errno != ENOENT)
		return -errno;
	return rename(old, new) < 0 ? -errno : 0;
}

int statefile_set_aside(const char *path, char *newpath, size_t newpath_len)
{
	char stamp[32], *name;
	struct stat st;
	struct tm tm;
	time_t now;
	size_t n, cap;
	unsigned i;
	int r;

	if (!path || !*path)
		return -EINVAL;
	if (lstat(path, &st) < 0)
		return -errno;
	now = time(NULL);
	if (!gmtime_r(&now, &tm) ||
	    !strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm))
		return -EINVAL;
	cap = strlen(path) + strlen(".corrupt-") + strlen(stamp) + 8;
	name = malloc(cap);
	if (!name)
		return -ENOMEM;
	for (i = 0; i < ASIDE_TRIES; i++) {
		if (i)
			n = (size_t)snprintf(name, cap, "%s.corrupt-%s-%u",
					     path, stamp, i);
		else
			n = (size_t)snprintf(name, cap, "%s.corrupt-%s", path,
					     stamp);
		if (newpath && n >= newpath_len) {
			r = -ENAMETOOLONG;
			break;
		}
		r = move_noreplace(path, name);
		if (r != -EEXIST)
			break;
	}
	if (!r && newpath)
		memcpy(newpath, name, n + 1);
	free(name);
	return r;
}

/* --- payload encoding ----------------------------------------------------------- */

void sfenc_init(struct sfenc *e, void *buf, size_t cap)
{
	e->buf = buf;
	e->cap = buf ? cap : 0;
	e->len = 0;
	e->overflow = false;
}

/* Room for N more bytes at *P, or false and the overflow flag. */
static bool enc_room(struct sfenc *e, size_t n, uint8_t **p)
{
	if (e->overflow || n > e->cap - e->len) {
		e->overflow = true;
		return false;
	}
	/* No arithmetic on a NULL buffer, not even + 0 (undefined). */
	*p = n ? e->buf + e->len : NULL;
	e->len += n;
	return true;
}

void sfenc_put_u8(struct sfenc *e, uint8_t v)
{
	uint8_t *p;

	if (enc_room(e, 1, &p))
		*p = v;
}

void sfenc_put_u16(struct sfenc *e, uint16_t v)
{
	uint8_t *p;

	if (enc_room(e, 2, &p))
		le16_put(p, v);
}

void sfenc_put_u32(struct sfenc *e, uint32_t v)
{
	uint8_t *p;

	if (enc_room(e, 4, &p))
		le32_put(p, v);
}

void sfenc_put_u64(struct sfenc *e, uint64_t v)
{
	uint8_t *p;

	if (enc_room(e, 8, &p))
		le64_put(p, v);
}

void sfenc_put_double(struct sfenc *e, double v)
{
	uint64_t bits;

	/* Same byte order as integers on every target we build for (no
	 * mixed-endian FPA doubles), so the bits travel as a u64. */
	memcpy(&bits, &v, sizeof(bits));
	sfenc_put_u64(e, bits);
}

void sfenc_put_bytes(struct sfenc *e, const void *src, size_t n)
{
	uint8_t *p;

	if (enc_room(e, n, &p) && n)
		memcpy(p, src, n);
}

/* Stands in for a NULL buffer, so no pointer arithmetic starts from NULL
 * (undefined even with a zero offset). */
static const uint8_t no_bytes[1];

void sfdec_init(struct sfdec *d, const void *buf, size_t len)
{
	d->buf = buf ? buf : no_bytes;
	d->len = buf ? len : 0;
	d->pos = 0;
	d->error = false;
}

/* The next N bytes, consumed; or NULL, the error flag, nothing consumed. */
static const uint8_t *dec_take(struct sfdec *d, size_t n)
{
	const uint8_t *p;

	if (d->error || n > d->len - d->pos) {
		d->error = true;
		return NULL;
	}
	p = d->buf + d->pos;
	d->pos += n;
	return p;
}

int sfdec_get_u8(struct sfdec *d, uint8_t *v)
{
	const uint8_t *p = dec_take(d, 1);

	*v = p ? *p : 0;
	return p ? 0 : -EBADMSG;
}

int sfdec_get_u16(struct sfdec *d, uint16_t *v)
{
	const uint8_t *p = dec_take(d, 2);

	*v = p ? le16_get(p) : 0;
	return p ? 0 : -EBADMSG;
}

int sfdec_get_u32(struct sfdec *d, uint32_t *v)
{
	const uint8_t *p = dec_take(d, 4);

	*v = p ? le32_get(p) : 0;
	return p ? 0 : -EBADMSG;
}

int sfdec_get_u64(struct sfdec *d, uint64_t *v)
{
	const uint8_t *p = dec_take(d, 8);

	*v = p ? le64_get(p) : 0;
	return p ? 0 : -EBADMSG;
}

int sfdec_get_double(struct sfdec *d, double *v)
{
	uint64_t bits;
	int r = sfdec_get_u64(d, &bits);

	memcpy(v, &bits, sizeof(*v));
	return r;
}

int sfdec_get_bytes(struct sfdec *d, void *out, size_t n)
{
	const uint8_t *p = dec_take(d, n);

	if (!p) {
		if (n)
			memset(out, 0, n);
		return -EBADMSG;
	}
	if (n)
		memcpy(out, p, n);
	return 0;
}

int sfdec_get_ref(struct sfdec *d, const void **ref, size_t n)
{
	const uint8_t *p = dec_take(d, n);

	*ref = p;
	return p ? 0 : -EBADMSG;
}

size_t sfdec_left(const struct sfdec *d)
{
	return d->len - d->pos;
}

int sfdec_end(const struct sfdec *d)
{
	return d->error || d->pos != d->len ? -EBADMSG : 0;
}
