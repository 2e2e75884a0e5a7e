/* nDPI >= 5.0: ndpi_get_num_supported_protocols() became ndpi_get_num_protocols(). */
#include <ndpi_api.h>
void *probe(void);
void *probe(void)
{
	return (void *)&ndpi_get_num_protocols;
}
