/* nDPI >= 4.10: ndpi_init_detection_module() takes a global context. */
#include <ndpi_api.h>
_Static_assert(__builtin_types_compatible_p(__typeof__(&ndpi_init_detection_module),
	struct ndpi_detection_module_struct *(*)(struct ndpi_global_context *)), "");
