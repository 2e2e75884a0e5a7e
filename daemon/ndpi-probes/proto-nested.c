/* nDPI >= 4.8: master/app ids live in ndpi_protocol.proto. */
#include <ndpi_api.h>
int probe(ndpi_protocol p);
int probe(ndpi_protocol p)
{
	return p.proto.master_protocol + p.proto.app_protocol;
}
