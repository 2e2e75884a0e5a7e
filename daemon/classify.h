/* classify.h - nDPI behind a small API.
 *
 * daemon/classify.c is the only file that includes nDPI's headers, so an nDPI
 * upgrade touches one file.  It compiles against nDPI 4.2 (Debian 12) and the
 * 4.8/5.x generation (OpenWrt), chosen by compile-time probes (see
 * daemon/ndpi-probes/ and the Makefile), not by NDPI_API_VERSION.
 *
 * One classifier per worker: nDPI's detection module is not thread-safe.
 */
#ifndef IOTJAIL_CLASSIFY_H
#define IOTJAIL_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct classifier;
struct cls_flow;	/* nDPI per-flow state, opaque */

#define CLS_HOST_MAX 256

struct cls_result {
	uint16_t master, app;	/* nDPI protocol ids (0: unknown) */
	uint16_t category;	/* nDPI category id */
	uint64_t risk;		/* bitmap of nDPI risks (bit = risk id) */
	bool guessed;		/* from port/IP guessing, not dissection */
	char host[CLS_HOST_MAX];/* SNI / HTTP Host / DNS query, or "" */
};

/* NULL with errno on failure. */
struct classifier *classifier_new(void);
void classifier_free(struct classifier *c);	/* NULL is a no-op */

/* Per-flow state: allocated when a flow starts inspection, freed the moment
 * it is decided.  NULL with errno (ENOMEM) on failure. */
struct cls_flow *classifier_flow_new(struct classifier *c);
void classifier_flow_free(struct classifier *c, struct cls_flow *f);

/* Hand one packet (IP header onward, LEN bytes) to nDPI.  Returns true when
 * nDPI's answer is final: a protocol is detected and nDPI wants no more
 * packets.  TS_MS is the packet clock in milliseconds. */
bool classifier_packet(struct classifier *c, struct cls_flow *f,
		       const uint8_t *l3, uint32_t len, uint64_t ts_ms);

/* The best answer so far.  With GIVEUP and nothing detected, asks nDPI to
 * guess (by port / IP), as ndpiReader does when a flow ends. */
void classifier_result(struct classifier *c, struct cls_flow *f, bool giveup,
		       struct cls_result *out);

/* "TLS.Google", "DNS", "Unknown": the name ndpiReader prints. */
void classifier_proto_name(const struct classifier *c, uint16_t master,
			   uint16_t app, char *buf, size_t len);
const char *classifier_id_name(const struct classifier *c, uint16_t id);
const char *classifier_category_name(const struct classifier *c,
				     uint16_t category);
/* Name of risk bit BIT, or NULL if BIT is not a risk this nDPI knows. */
const char *classifier_risk_name(unsigned bit);

/* Every protocol and category name this nDPI knows (borrowed arrays, valid
 * for the classifier's lifetime), for validating policies. */
void classifier_names(const struct classifier *c,
		      const char *const **protocols, size_t *n_protocols,
		      const char *const **categories, size_t *n_categories);

/* Per-flow states currently allocated (for tests and metrics), and the size
 * of one. */
size_t classifier_live_flows(const struct classifier *c);
size_t classifier_flow_size(void);

/* nDPI's version string. */
const char *classifier_ndpi_version(void);

#endif
