/* names.c - host names as the watcher and the learner see them (names.h). */
#include <string.h>
#include <strings.h>

#include "daemon/names.h"

const char *names_base(const char *host)
{
	const char *e = host + strlen(host), *p, *last = NULL, *second = NULL;
	int dots = 0, want = 2;

	for (p = e; p > host; p--)
		if (p[-1] == '.') {
			if (!last)
				last = p;
			else if (!second)
				second = p;
		}
	/* "b.co.uk": a country code under a short label keeps three */
	if (last && second && e - last == 2 && last - second - 1 <= 3)
		want = 3;
	for (p = e; p > host; p--)
		if (p[-1] == '.' && ++dots == want)
			break;
	return p;
}

bool names_lookup_proto(const char *name)
{
	static const char *const lookups[] = { "DNS", "MDNS", "LLMNR", "NetBIOS" };
	size_t i;

	for (i = 0; name && i < sizeof(lookups) / sizeof(lookups[0]); i++)
		if (!strcasecmp(name, lookups[i]))
			return true;
	return false;
}
