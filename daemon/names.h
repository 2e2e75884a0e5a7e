/* names.h - host names as the watcher remembers them and the learner
 * generalises them.
 *
 * Both need the same two answers: which part of a name its owner registered
 * ("vendor-cloud.example" of "eu1.cam.vendor-cloud.example"), and whether a
 * protocol's name is the server's (TLS SNI, HTTP Host) or what the client
 * looks up (DNS and its kin), which says nothing about whom it talks to.
 */
#ifndef IOTJAIL_NAMES_H
#define IOTJAIL_NAMES_H

#include <stdbool.h>

/*
 * The registrable part of HOST, a pointer into it: the last two labels, or
 * three under a short second-level label of a two-letter country ("co.uk",
 * "com.au").  Without a public-suffix list this is a guess, right for the
 * vendor domains IoT devices use; HOST itself when it has fewer labels.
 */
const char *names_base(const char *host);

/* Does protocol NAME (nDPI's, case-insensitive) carry the names it looks up
 * (DNS, MDNS, LLMNR, NetBIOS) rather than the server's?  false for NULL. */
bool names_lookup_proto(const char *name);

#endif
