/* fuzz_statefile.c - libFuzzer harness for the state file parser.
 *
 * The input is parsed twice: as it is, and as a copy whose header (magic,
 * version, length) and checksum are made right, because almost every
 * mutation of a real file dies at the checksum and the record walk behind it
 * would never see a mutated length.  Beyond "no crash", it checks the
 * parser's contract: nothing is handed out unless the whole file is good;
 * handed-out keys and payloads lie inside the input, back to back, and tile
 * it exactly; a callback's nonzero return comes back unchanged.  Payloads are
 * also fed to the sfdec decoder.
 *
 *   make fuzz && build/fuzz/fuzz_statefile tests/fuzz/corpus/statefile
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/statefile.h"

#define STOP_TYPE	0xfff7	/* a record of this type stops the load */
#define STOP_RET	7

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct walk {
	const uint8_t *base;
	size_t len;
	size_t next;		/* where the next record must start */
	uint32_t calls;
	int stopped;
};

static void decode(const void *payload, size_t len, uint16_t type)
{
	struct sfdec d;
	const void *ref;
	uint8_t u8, buf[16];
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	double x;
	unsigned i;

	sfdec_init(&d, payload, len);
	/* The type picks the order of the reads, so every get meets the end
	 * at every offset somewhere in the corpus. */
	for (i = type; !d.error; i = i / 7 + 1) {
		switch (i % 7) {
		case 0:
			sfdec_get_u8(&d, &u8);
			break;
		case 1:
			sfdec_get_u16(&d, &u16);
			break;
		case 2:
			sfdec_get_u32(&d, &u32);
			break;
		case 3:
			sfdec_get_u64(&d, &u64);
			break;
		case 4:
			sfdec_get_double(&d, &x);
			break;
		case 5:
			sfdec_get_bytes(&d, buf, i % sizeof(buf));
			break;
		default:
			sfdec_get_ref(&d, &ref, i % 23);
			break;
		}
		if (d.pos > d.len)
			abort();
	}
	if (!sfdec_end(&d))
		abort();
}

static int on_record(void *ctx, uint16_t type, const void *key, size_t key_len,
		     const void *payload, size_t payload_len)
{
	struct walk *w = ctx;
	/* As addresses, so a wrong pointer is reported, not computed on. */
	uintptr_t b = (uintptr_t)w->base, k = (uintptr_t)key,
		  p = (uintptr_t)payload;

	if (key_len > STATEFILE_KEY_MAX ||
	    k != b + w->next + STATEFILE_RECORD_HEADER || p != k + key_len ||
	    (uint64_t)(p - b) + payload_len + STATEFILE_TRAILER_SIZE > w->len)
		abort();
	w->next = (size_t)(p - b) + payload_len;
	w->calls++;
	decode(payload, payload_len, type);
	if (type == STOP_TYPE) {
		w->stopped = 1;
		return STOP_RET;
	}
	return 0;
}

static void parse(const uint8_t *buf, size_t len)
{
	struct walk w = { .base = buf, .len = len, .next = STATEFILE_HEADER_SIZE };
	char why[STATEFILE_WHY_MAX];
	uint64_t at = 0;
	int r;

	r = statefile_parse(buf, len, on_record, &w, &at, why, sizeof(why));
	if (r == -EBADMSG) {
		if (w.calls || !why[0])
			abort();
		return;
	}
	if (r == STOP_RET && w.stopped)
		return;
	if (r || w.stopped)
		abort();
	/* Loaded: the records filled the file exactly, as many as the header
	 * said, and the reason is empty. */
	if (w.next + STATEFILE_TRAILER_SIZE != len || why[0] ||
	    w.calls != ((uint32_t)buf[12] | (uint32_t)buf[13] << 8 |
			(uint32_t)buf[14] << 16 | (uint32_t)buf[15] << 24))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *c;
	uint32_t crc;
	size_t i;

	parse(data, size);
	if (size < STATEFILE_HEADER_SIZE + STATEFILE_TRAILER_SIZE ||
	    size > STATEFILE_MAX_SIZE)
		return 0;
	c = malloc(size);	/* exactly sized: a sanitizer sees overreads */
	if (!c)
		return 0;
	memcpy(c, data, size);
	memcpy(c, STATEFILE_MAGIC, 8);
	c[8] = STATEFILE_VERSION;
	c[9] = c[10] = c[11] = 0;
	for (i = 0; i < 8; i++)
		c[24 + i] = (uint8_t)((uint64_t)size >> (8 * i));
	crc = statefile_crc32(0, c, size - STATEFILE_TRAILER_SIZE);
	for (i = 0; i < 4; i++)
		c[size - 4 + i] = (uint8_t)(crc >> (8 * i));
	parse(c, size);
	free(c);
	return 0;
}
