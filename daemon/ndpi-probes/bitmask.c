/* nDPI <= 4.x: protocols are enabled with a detection bitmask (gone in 5.x,
 * where everything is enabled by default). */
#include <ndpi_api.h>
void probe(struct ndpi_detection_module_struct *m);
void probe(struct ndpi_detection_module_struct *m)
{
	NDPI_PROTOCOL_BITMASK all;

	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(m, &all);
}
