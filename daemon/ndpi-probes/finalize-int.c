/* nDPI >= 4.10: ndpi_finalize_initialization() reports failure. */
#include <ndpi_api.h>
int probe(struct ndpi_detection_module_struct *m);
int probe(struct ndpi_detection_module_struct *m)
{
	return ndpi_finalize_initialization(m);
}
