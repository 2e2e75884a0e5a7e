/* classify.c - the only file that includes nDPI.
 *
 * API generations, each difference probed at build time (daemon/ndpi-probes/
 * -> build/ndpi_compat.h), never inferred from version numbers:
 *   process_packet   4.2: 5 args; 4.4+: 6th arg struct ndpi_flow_input_info *
 *   init             4.2-4.8: ndpi_init_prefs; 4.10+: global context
 *   finalize         void until 4.8; int (0 = ok) from 4.10
 *   bitmask2         required until 4.14; gone in 5.0 (all enabled)
 *   giveup           4.2-4.8: (m, f, enable_guess, &guessed);
 *                    4.10-4.14: (m, f, &guessed); 5.0: (m, f)
 *   final answer     until 4.14: detected && !extra_dissection_possible;
 *                    5.0: result .state == NDPI_STATE_CLASSIFIED
 *   ndpi_protocol    ids at top level until 4.10; in .proto from 4.12
 *   protocol count   ndpi_get_num_supported_protocols; 5.0: _num_protocols
 * Everything else used here (ndpi_get_proto_name, ndpi_category_get_name,
 * ndpi_risk2str, flow->host_server_name, flow->risk) is common to all.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ndpi_compat.h"	/* generated: NDPI_HAS_* */
#include <ndpi_api.h>

#include "daemon/classify.h"

#ifdef NDPI_HAS_PROTO_NESTED
#define P_MASTER(p) ((p).proto.master_protocol)
#define P_APP(p) ((p).proto.app_protocol)
#else
#define P_MASTER(p) ((p).master_protocol)
#define P_APP(p) ((p).app_protocol)
#endif

struct classifier {
	struct ndpi_detection_module_struct *ndpi;
	size_t live;
	const char **protocols;
	size_t n_protocols;
	const char **categories;
	size_t n_categories;
	uint8_t *aligned;		/* 64 KiB, allocated at the first
					 * misaligned packet (replay only) */
};

/* nDPI keeps the last answer of process_packet only in its return value;
 * keep it beside the flow so classifier_result() can read it. */
struct cls_flow {
	ndpi_protocol last;
	struct ndpi_flow_struct ndpi;	/* must be last: nDPI sizes it */
};

static int load_names(struct classifier *c)
{
#ifdef NDPI_HAS_NUM_PROTOCOLS
	size_t i, n = ndpi_get_num_protocols(c->ndpi);
#else
	size_t i, n = ndpi_get_num_supported_protocols(c->ndpi);
#endif

	c->protocols = calloc(n, sizeof(*c->protocols));
	c->categories = calloc(NDPI_PROTOCOL_NUM_CATEGORIES,
			       sizeof(*c->categories));
	if (!c->protocols || !c->categories)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const char *s = ndpi_get_proto_name(c->ndpi, (uint16_t)i);

		if (s && *s)
			c->protocols[c->n_protocols++] = s;
	}
	for (i = 0; i < NDPI_PROTOCOL_NUM_CATEGORIES; i++) {
		const char *s = ndpi_category_get_name(
			c->ndpi, (ndpi_protocol_category_t)i);

		if (s && *s)
			c->categories[c->n_categories++] = s;
	}
	return 0;
}

struct classifier *classifier_new(void)
{
	struct classifier *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
#ifdef NDPI_HAS_GLOBAL_CONTEXT
	c->ndpi = ndpi_init_detection_module(NULL);	/* no shared context */
#else
	c->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
#endif
	if (!c->ndpi) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
#ifdef NDPI_HAS_BITMASK
	{
		NDPI_PROTOCOL_BITMASK all;

		NDPI_BITMASK_SET_ALL(all);
		ndpi_set_protocol_detection_bitmask2(c->ndpi, &all);
	}
#endif
#ifdef NDPI_HAS_FINALIZE_INT
	if (ndpi_finalize_initialization(c->ndpi) != 0) {
		classifier_free(c);
		errno = EINVAL;
		return NULL;
	}
#else
	ndpi_finalize_initialization(c->ndpi);
#endif
	if (load_names(c) < 0) {
		classifier_free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void classifier_free(struct classifier *c)
{
	if (!c)
		return;
	free(c->protocols);
	free(c->categories);
	free(c->aligned);
	if (c->ndpi)
		ndpi_exit_detection_module(c->ndpi);
	free(c);
}

size_t classifier_flow_size(void)
{
	size_t n = ndpi_detection_get_sizeof_ndpi_flow_struct();

	/* The library's idea of the size wins if it is larger than the
	 * header's (a library built with different options). */
	if (n < sizeof(struct ndpi_flow_struct))
		n = sizeof(struct ndpi_flow_struct);
	return offsetof(struct cls_flow, ndpi) + n;
}

struct cls_flow *classifier_flow_new(struct classifier *c)
{
	struct cls_flow *f = calloc(1, classifier_flow_size());

	if (!f)
		return NULL;
	c->live++;
	return f;
}

void classifier_flow_free(struct classifier *c, struct cls_flow *f)
{
	if (!f)
		return;
	/* Frees what dissectors attached (TLS certificate names, JA3, ...)
	 * but not the struct itself, which is ours. */
	ndpi_free_flow_data(&f->ndpi);
	free(f);
	c->live--;
}

size_t classifier_live_flows(const struct classifier *c)
{
	return c->live;
}

bool classifier_packet(struct classifier *c, struct cls_flow *f,
		       const uint8_t *l3, uint32_t len, uint64_t ts_ms)
{
	/* nDPI takes an unsigned short length; larger (GSO) packets are
	 * clipped: the headers and the start of the payload are what
	 * dissectors read. */
	unsigned short plen = len > 0xffff ? 0xffff : (unsigned short)len;

	/* nDPI loads the IP header and payload as 32-bit words in place.  A
	 * frame read from a capture has its IP header 2 bytes past a word
	 * (14-byte Ethernet header): free on x86, but on MIPS every such load
	 * is a kernel fix-up trap, or SIGBUS (qemu-user).  NFQUEUE hands over
	 * word-aligned packets, so only replay pays for this copy. */
	if ((uintptr_t)l3 & 3) {
		if (!c->aligned)
			c->aligned = malloc(0x10000);
		if (c->aligned) {
			memcpy(c->aligned, l3, plen);
			l3 = c->aligned;
		}
	}

#ifdef NDPI_HAS_INPUT_INFO
	f->last = ndpi_detection_process_packet(c->ndpi, &f->ndpi, l3, plen,
						ts_ms, NULL);
#else
	f->last = ndpi_detection_process_packet(c->ndpi, &f->ndpi, l3, plen,
						ts_ms);
#endif
#ifdef NDPI_HAS_CLASSIFICATION_STATE
	return f->last.state == NDPI_STATE_CLASSIFIED;
#else
	if (P_APP(f->last) == NDPI_PROTOCOL_UNKNOWN)
		return false;
	return !ndpi_extra_dissection_possible(c->ndpi, &f->ndpi);
#endif
}

void classifier_result(struct classifier *c, struct cls_flow *f, bool giveup,
		       struct cls_result *out)
{
	ndpi_protocol p = f->last;
	u_int8_t guessed = 0;

	/* As ndpiReader: only a flow nDPI could not detect is given up, and
	 * giving up lets nDPI guess from ports and addresses. */
	if (giveup && P_APP(p) == NDPI_PROTOCOL_UNKNOWN) {
		/* 4.10+ guess on giveup by default (dpi.guess_on_giveup). */
#if defined(NDPI_HAS_GIVEUP_2ARGS)
		p = ndpi_detection_giveup(c->ndpi, &f->ndpi);
		guessed = f->ndpi.protocol_was_guessed;
#elif defined(NDPI_HAS_GIVEUP_3ARGS)
		p = ndpi_detection_giveup(c->ndpi, &f->ndpi, &guessed);
#else
		p = ndpi_detection_giveup(c->ndpi, &f->ndpi, 1, &guessed);
#endif
	}
	out->master = P_MASTER(p);
	out->app = P_APP(p);
	out->category = (uint16_t)p.category;
	out->guessed = guessed != 0;
	out->risk = (uint64_t)f->ndpi.risk;
	/* host_server_name is a fixed array in every generation; copy it
	 * bounded by both sizes (it may lack a terminator when full). */
	{
		size_t n = strnlen((const char *)f->ndpi.host_server_name,
				   sizeof(f->ndpi.host_server_name));

		if (n >= sizeof(out->host))
			n = sizeof(out->host) - 1;
		memcpy(out->host, f->ndpi.host_server_name, n);
		out->host[n] = '\0';
	}
}

const char *classifier_id_name(const struct classifier *c, uint16_t id)
{
	const char *s = ndpi_get_proto_name(c->ndpi, id);

	return s ? s : "Unknown";
}

void classifier_proto_name(const struct classifier *c, uint16_t master,
			   uint16_t app, char *buf, size_t len)
{
	/* Same rule as ndpi_protocol2name(), whose signature differs across
	 * generations: "master.app" when both differ and are known. */
	if (master != NDPI_PROTOCOL_UNKNOWN && master != app) {
		if (app != NDPI_PROTOCOL_UNKNOWN)
			snprintf(buf, len, "%s.%s", classifier_id_name(c, master),
				 classifier_id_name(c, app));
		else
			snprintf(buf, len, "%s", classifier_id_name(c, master));
	} else {
		snprintf(buf, len, "%s", classifier_id_name(c, app));
	}
}

const char *classifier_category_name(const struct classifier *c,
				     uint16_t category)
{
	const char *s;

	if (category >= NDPI_PROTOCOL_NUM_CATEGORIES)
		return "Unspecified";
	s = ndpi_category_get_name(c->ndpi,
				   (ndpi_protocol_category_t)category);
	return s && *s ? s : "Unspecified";
}

const char *classifier_risk_name(unsigned bit)
{
	if (bit == 0 || bit >= NDPI_MAX_RISK)
		return NULL;
	return ndpi_risk2str((ndpi_risk_enum)bit);
}

void classifier_names(const struct classifier *c,
		      const char *const **protocols, size_t *n_protocols,
		      const char *const **categories, size_t *n_categories)
{
	*protocols = c->protocols;
	*n_protocols = c->n_protocols;
	*categories = c->categories;
	*n_categories = c->n_categories;
}

const char *classifier_ndpi_version(void)
{
	return ndpi_revision();
}
