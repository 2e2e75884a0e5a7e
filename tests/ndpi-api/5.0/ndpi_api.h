/* nDPI 5.0 API shim (compile-only; see ../common.h). */
#include "../common.h"

struct ndpi_global_context;

typedef struct {
	u_int16_t master_protocol, app_protocol;
} ndpi_master_app_protocol;

typedef enum ndpi_classification_state {
	NDPI_STATE_INSPECTING = 0,
	NDPI_STATE_PARTIAL,
	NDPI_STATE_MONITORING,
	NDPI_STATE_CLASSIFIED
} ndpi_classification_state;

typedef struct ndpi_proto {
	ndpi_master_app_protocol proto;
	u_int16_t protocol_by_ip;
	ndpi_protocol_category_t category;
	void *custom_category_userdata;
	ndpi_classification_state state;
} ndpi_protocol;

struct ndpi_flow_struct {
	u_int16_t detected_protocol_stack[2];
	char host_server_name[80];
	ndpi_risk risk, risk_shadow;
	u_int8_t protocol_was_guessed : 1;
};

struct ndpi_detection_module_struct *ndpi_init_detection_module(struct ndpi_global_context *g_ctx);
int ndpi_finalize_initialization(struct ndpi_detection_module_struct *ndpi_str);
ndpi_protocol ndpi_detection_process_packet(struct ndpi_detection_module_struct *ndpi_struct,
					    struct ndpi_flow_struct *flow,
					    const unsigned char *packet,
					    const unsigned short packetlen,
					    const u_int64_t packet_time_ms,
					    struct ndpi_flow_input_info *input_info);
ndpi_protocol ndpi_detection_giveup(struct ndpi_detection_module_struct *ndpi_struct,
				    struct ndpi_flow_struct *flow);
u_int ndpi_get_num_protocols(struct ndpi_detection_module_struct *ndpi_mod);
void ndpi_free_flow_data(struct ndpi_flow_struct *flow);
