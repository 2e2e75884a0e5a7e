/* statefile.h - the daemon's state across restarts: one file, written
 * atomically.
 *
 * A generic container of records (type, key, payload); the callers encode
 * their own payloads, with the sfenc/sfdec helpers below.  The writer streams
 * into PATH.tmp and renames it over PATH only once it is complete and on disk,
 * so PATH always holds either the old state or the new one, never a mix.  The
 * loader verifies the whole file (size, header, checksum, structure) before
 * handing out the first record, so a damaged file is refused as a whole and
 * never half-loads.
 *
 * Format, version 1.  Every integer is little-endian, encoded byte by byte
 * (nothing is ever read through a cast pointer: MIPS traps on misaligned
 * loads, and the file must read the same on big- and little-endian hosts).
 *
 *	offset	size	field
 *	0	8	magic "IOTJSTAT"
 *	8	4	format version, 1
 *	12	4	record count
 *	16	8	written_at_ms: the writer's clock, as given to it
 *	24	8	file length in bytes, header and checksum included
 *	32	...	records, back to back, no padding:
 *			  2  type (the caller's)
 *			  2  key length (at most STATEFILE_KEY_MAX)
 *			  4  payload length
 *			  .  key bytes, then payload bytes
 *	len-4	4	CRC-32 (IEEE 802.3, as zlib's crc32()) of bytes [0, len-4)
 *
 * The length field is not needed to walk the records; it is there so that a
 * short file is reported as "truncated", as a fact rather than a guess.  A
 * file is at most STATEFILE_MAX_SIZE bytes: the writer refuses a record that
 * would grow it further, the loader refuses a larger file.
 *
 * One writer per PATH at a time (the daemon holds its pid file).  Nothing
 * here logs: errors are -errno, and the loader says why a file is refused.
 */
#ifndef IOTJAIL_STATEFILE_H
#define IOTJAIL_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATEFILE_MAGIC		"IOTJSTAT"
#define STATEFILE_VERSION	1
#define STATEFILE_HEADER_SIZE	32
#define STATEFILE_RECORD_HEADER	8
#define STATEFILE_TRAILER_SIZE	4
#define STATEFILE_MAX_SIZE	(64u << 20)	/* bytes, whole file */
#define STATEFILE_KEY_MAX	1024		/* bytes */
#define STATEFILE_WHY_MAX	160	/* enough for any reason given here */

/* --- writing --------------------------------------------------------------- */

struct statefile_writer;

/* Starts a new state for PATH in PATH.tmp (mode 0600, in PATH's directory so
 * the final rename is atomic).  A stale PATH.tmp, left by a crash, is removed
 * first, whatever it is (a symlink is removed, not followed), and the file is
 * created afresh with O_EXCL, so it is ours with our mode.  NOW_MS is stored
 * as written_at_ms.  NULL on failure with *ERR (if ERR is not NULL) set to
 * -errno; PATH is untouched. */
struct statefile_writer *statefile_writer_open(const char *path,
					       uint64_t now_ms, int *err);

/* Appends one record.  KEY and PAYLOAD may be NULL when their length is 0;
 * bytes are copied (buffered), nothing is kept.
 *   -EINVAL    key longer than STATEFILE_KEY_MAX, or NULL with a length
 *   -EMSGSIZE  the file would exceed STATEFILE_MAX_SIZE
 * These two refuse only this record: nothing of it is written, and the writer
 * stays usable (the caller decides whether a state without it is worth
 * committing).  Any other -errno is an I/O error (-ENOSPC, -EIO, -EFBIG ...):
 * it sticks, every further put returns it, and commit fails with it. */
int statefile_put(struct statefile_writer *w, uint16_t type, const void *key,
		  size_t key_len, const void *payload, size_t payload_len);

/* Completes the file: fills in the record count and length, appends the
 * checksum (computed over the bytes read back from the file), fsyncs it,
 * renames it over PATH and fsyncs the directory.  Frees W in every case.
 * 0 on success.  On a failure up to the rename the temporary file is removed
 * and PATH is untouched.  A failure of the last step (the directory fsync) is
 * returned too, although PATH then already holds the new state; it may just
 * not survive a power cut. */
int statefile_commit(struct statefile_writer *w);

/* Drops the new state: removes PATH.tmp, frees W.  NULL is a no-op. */
void statefile_abort(struct statefile_writer *w);

/* --- reading --------------------------------------------------------------- */

/* Called once per record, in file order.  KEY and PAYLOAD point into the
 * loader's buffer: valid only during the call, and with no alignment at all
 * (decode them with sfdec).  A nonzero return stops the load and is returned
 * by statefile_load()/statefile_parse(). */
typedef int statefile_record_fn(void *ctx, uint16_t type, const void *key,
				size_t key_len, const void *payload,
				size_t payload_len);

/* Loads PATH: verifies all of it, then calls RECORD for each record.
 *   0        loaded; *WRITTEN_AT_MS (if not NULL) set before the first record
 *   -ENOENT  no such file: normal at first start
 *   -EBADMSG corrupt or foreign (not a regular file, too large, bad magic,
 *            unsupported version, truncated, checksum mismatch, malformed
 *            records, trailing bytes); no record was handed out.  The caller
 *            reports WHY and may set the file aside with statefile_set_aside()
 *   other    -errno of an I/O error (-EACCES, -EIO, -ENOMEM ...), or what
 *            RECORD returned (records before it were handed out)
 * WHY (WHY_LEN bytes, STATEFILE_WHY_MAX is enough; may be NULL) gets a human
 * reason for every nonzero return, "" on success.  RECORD may be NULL: the
 * file is only verified. */
int statefile_load(const char *path, statefile_record_fn *record, void *ctx,
		   uint64_t *written_at_ms, char *why, size_t why_len);

/* The same on a state file already in memory (BUF, LEN bytes; no alignment
 * needed).  What statefile_load() uses once it has read the file, and what
 * the fuzzer drives. */
int statefile_parse(const void *buf, size_t len, statefile_record_fn *record,
		    void *ctx, uint64_t *written_at_ms, char *why,
		    size_t why_len);

/* Renames a refused PATH to PATH.corrupt-YYYYMMDDTHHMMSSZ (UTC, now), or
 * with "-1", "-2" ... appended when that name is taken: an earlier file set
 * aside is never replaced.  The new name goes to NEWPATH (NEWPATH_LEN bytes,
 * may be NULL).  0, or -errno: -ENOENT no PATH, -ENAMETOOLONG NEWPATH too
 * short (nothing was renamed), -EEXIST 1000 names taken. */
int statefile_set_aside(const char *path, char *newpath, size_t newpath_len);

/* CRC-32 (IEEE, reflected, as zlib): pass 0 first, then the previous value
 * to continue over more bytes.  Public for tests and tools. */
uint32_t statefile_crc32(uint32_t crc, const void *buf, size_t len);

/* --- payload encoding -------------------------------------------------------
 * Little-endian, byte by byte, bounds-checked.  Doubles travel as their
 * IEEE-754 bits (a u64).  Both structs are plain values on the caller's stack;
 * read their fields, do not write them. */

/* Into a fixed caller buffer.  A put that does not fit writes nothing and
 * sets OVERFLOW, which sticks: every later put is ignored, so a caller can
 * encode a whole payload and check OVERFLOW once.  LEN is the bytes used. */
struct sfenc {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

void sfenc_init(struct sfenc *e, void *buf, size_t cap);
void sfenc_put_u8(struct sfenc *e, uint8_t v);
void sfenc_put_u16(struct sfenc *e, uint16_t v);
void sfenc_put_u32(struct sfenc *e, uint32_t v);
void sfenc_put_u64(struct sfenc *e, uint64_t v);
void sfenc_put_double(struct sfenc *e, double v);
void sfenc_put_bytes(struct sfenc *e, const void *p, size_t n);

/* From a buffer (a record's payload).  Each get returns 0, or -EBADMSG when
 * the value would run past the end: then nothing is consumed, the output is
 * zeroed, and ERROR is set and sticks (every later get fails too), so a
 * caller may also check once at the end with sfdec_end(). */
struct sfdec {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	bool error;
};

void sfdec_init(struct sfdec *d, const void *buf, size_t len);
int sfdec_get_u8(struct sfdec *d, uint8_t *v);
int sfdec_get_u16(struct sfdec *d, uint16_t *v);
int sfdec_get_u32(struct sfdec *d, uint32_t *v);
int sfdec_get_u64(struct sfdec *d, uint64_t *v);
int sfdec_get_double(struct sfdec *d, double *v);
/* Copies N bytes to OUT. */
int sfdec_get_bytes(struct sfdec *d, void *out, size_t n);
/* Borrows N bytes in place (*P = NULL on failure); as unaligned as the
 * payload. */
int sfdec_get_ref(struct sfdec *d, const void **p, size_t n);
/* Bytes not yet read. */
size_t sfdec_left(const struct sfdec *d);
/* 0 if every get succeeded and the payload was read to its last byte;
 * -EBADMSG otherwise (an overrun, or bytes left over). */
int sfdec_end(const struct sfdec *d);

#endif
