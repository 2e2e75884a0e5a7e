/* nDPI >= 4.8: ndpi_detection_process_packet() takes an input-info argument. */
#include <ndpi_api.h>
ndpi_protocol probe(struct ndpi_detection_module_struct *m, struct ndpi_flow_struct *f);
ndpi_protocol probe(struct ndpi_detection_module_struct *m, struct ndpi_flow_struct *f)
{
	struct ndpi_flow_input_info in = { 0 };

	return ndpi_detection_process_packet(m, f, (const unsigned char *)"", 0, 0, &in);
}
