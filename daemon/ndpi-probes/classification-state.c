/* nDPI >= 5.0: process_packet's result carries a classification state, and
 * ndpi_extra_dissection_possible() is gone. */
#include <ndpi_api.h>
int probe(ndpi_protocol p);
int probe(ndpi_protocol p)
{
	return p.state == NDPI_STATE_CLASSIFIED;
}
