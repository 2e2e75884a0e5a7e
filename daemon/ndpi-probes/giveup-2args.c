/* nDPI >= 5.0: ndpi_detection_giveup(m, flow); the guess flag is in the flow. */
#include <ndpi_api.h>
ndpi_protocol probe(struct ndpi_detection_module_struct *m, struct ndpi_flow_struct *f);
ndpi_protocol probe(struct ndpi_detection_module_struct *m, struct ndpi_flow_struct *f)
{
	(void)f->protocol_was_guessed;
	return ndpi_detection_giveup(m, f);
}
