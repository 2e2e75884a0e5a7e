/* common.h - declarations shared by the nDPI API shims in this directory.
 *
 * These shims are NOT nDPI.  They declare, for a compile-only check, the
 * part of each API generation that daemon/classify.c and its probes use,
 * as the upstream headers of that generation declare it (see
 * docs/DESIGN.md).  Debian 12 has only nDPI 4.2, so this is how the 4.8
 * and 5.x branches of classify.c are compiled here at all.
 */
#ifndef SHIM_NDPI_COMMON_H
#define SHIM_NDPI_COMMON_H
#include <stdint.h>
#include <sys/types.h>

#define NDPI_PROTOCOL_UNKNOWN 0
typedef u_int64_t ndpi_risk;
typedef enum { NDPI_NO_RISK = 0, NDPI_URL_POSSIBLE_XSS, NDPI_MAX_RISK = 56 } ndpi_risk_enum;
typedef enum {
	NDPI_PROTOCOL_CATEGORY_UNSPECIFIED = 0,
	NDPI_PROTOCOL_NUM_CATEGORIES = 108,
	NDPI_PROTOCOL_ANY_CATEGORY
} ndpi_protocol_category_t;

struct ndpi_detection_module_struct;
struct ndpi_flow_input_info {
	unsigned char in_pkt_dir;
	unsigned char seen_flow_beginning;
};

char *ndpi_get_proto_name(struct ndpi_detection_module_struct *mod, u_int16_t proto_id);
const char *ndpi_category_get_name(struct ndpi_detection_module_struct *ndpi_mod,
				   ndpi_protocol_category_t category);
const char *ndpi_risk2str(ndpi_risk_enum risk);
u_int32_t ndpi_detection_get_sizeof_ndpi_flow_struct(void);
void ndpi_exit_detection_module(struct ndpi_detection_module_struct *ndpi_struct);
char *ndpi_revision(void);
#endif
