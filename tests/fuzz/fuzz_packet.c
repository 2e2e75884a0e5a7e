/* fuzz_packet.c - libFuzzer harness for the packet parser and the flow key.
 *
 * The first byte picks the link type; the rest is the frame.  Beyond "no
 * crash", it checks the parser's contract: on success every pointer it
 * returns lies inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/flow.h"
#include "daemon/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct packet p;
	struct flow_key k;
	enum packet_status st;

	if (size < 1)
		return 0;
	memset(&p, 0, sizeof(p));
	st = packet_parse_link(&p, (enum packet_link)(data[0] % __PACKET_LINK_MAX),
			       data + 1, size - 1);
	if (st != PACKET_OK)
		return 0;
	if (p.l3 < data + 1 || p.l3 + p.l3_len > data + size ||
	    p.payload < data + 1 || p.payload + p.payload_len > data + size ||
	    p.ip_len < p.l3_len)
		abort();
	(void)flow_key_from_packet(&k, &p);
	return 0;
}
