/* nDPI 4.10-4.14: ndpi_detection_giveup(m, flow, &guessed); guessing is a
 * configuration knob. */
#include <ndpi_api.h>
ndpi_protocol probe(struct ndpi_detection_module_struct *m, struct ndpi_flow_struct *f);
ndpi_protocol probe(struct ndpi_detection_module_struct *m, struct ndpi_flow_struct *f)
{
	u_int8_t guessed;

	return ndpi_detection_giveup(m, f, &guessed);
}
