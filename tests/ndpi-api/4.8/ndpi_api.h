/* nDPI 4.8 API shim (compile-only; see ../common.h). */
#include "../common.h"

typedef u_int32_t ndpi_init_prefs;
typedef enum { ndpi_no_prefs = 0 } ndpi_prefs;

typedef struct ndpi_proto {
	u_int16_t master_protocol, app_protocol, protocol_by_ip;
	ndpi_protocol_category_t category;
	void *custom_category_userdata;
} ndpi_protocol;

struct ndpi_flow_struct {
	u_int16_t detected_protocol_stack[2];
	char host_server_name[80];
	ndpi_risk risk, risk_shadow;
};

typedef struct { u_int32_t fds_bits[16]; } NDPI_PROTOCOL_BITMASK;
#define NDPI_BITMASK_SET_ALL(a) ((a).fds_bits[0] = ~0u)

struct ndpi_detection_module_struct *ndpi_init_detection_module(ndpi_init_prefs prefs);
void ndpi_set_protocol_detection_bitmask2(struct ndpi_detection_module_struct *ndpi_struct,
					  const NDPI_PROTOCOL_BITMASK *detection_bitmask);
void ndpi_finalize_initialization(struct ndpi_detection_module_struct *ndpi_str);
ndpi_protocol ndpi_detection_process_packet(struct ndpi_detection_module_struct *ndpi_struct,
					    struct ndpi_flow_struct *flow,
					    const unsigned char *packet,
					    const unsigned short packetlen,
					    const u_int64_t packet_time_ms,
					    const struct ndpi_flow_input_info *input_info);
ndpi_protocol ndpi_detection_giveup(struct ndpi_detection_module_struct *ndpi_struct,
				    struct ndpi_flow_struct *flow, u_int8_t enable_guess,
				    u_int8_t *protocol_was_guessed);
u_int8_t ndpi_extra_dissection_possible(struct ndpi_detection_module_struct *ndpi_struct,
					struct ndpi_flow_struct *flow);
u_int ndpi_get_num_supported_protocols(struct ndpi_detection_module_struct *ndpi_mod);
void ndpi_free_flow_data(struct ndpi_flow_struct *flow);
