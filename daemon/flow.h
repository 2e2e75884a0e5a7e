/* flow.h - preallocated bidirectional flow table with a hard cap.
 *
 * A flow is keyed by its two endpoints (address, port) in canonical order,
 * the IP protocol and the VLAN, so both directions find the same record.
 * All records are allocated once at flow_table_new(); nothing is allocated
 * per packet.  When the table is full the flow that has been idle longest is
 * ended to make room (counted as an eviction).
 *
 * struct flow is public because the packet path reads and writes its fields
 * on every packet; the table itself is opaque.
 */
#ifndef IOTJAIL_FLOW_H
#define IOTJAIL_FLOW_H

#include <stdbool.h>
#include <stdint.h>

struct packet;
struct cls_flow;

/* Idle-timeout classes; each keeps its own idle list ordered by last packet,
 * so expiry only ever looks at list heads. */
enum flow_tclass {
	FLOW_TCLASS_TCP,	/* TCP, open */
	FLOW_TCLASS_TCP_CLOSED,	/* TCP after RST or FIN from both sides */
	FLOW_TCLASS_UDP,
	FLOW_TCLASS_ICMP,
	FLOW_TCLASS_OTHER,
	__FLOW_TCLASS_MAX
};

enum flow_state {
	FLOW_FREE,
	FLOW_INSPECTING,	/* nDPI state attached, packets go to nDPI */
	FLOW_DECIDED,		/* compact record only */
	__FLOW_STATE_MAX
};

enum flow_decided_by {
	FLOW_BY_NONE,
	FLOW_BY_CLASSIFIED,	/* nDPI gave a final answer */
	FLOW_BY_LIMIT,		/* inspected the packet budget; best answer */
	FLOW_BY_GIVEUP,		/* flow ended before either; best answer or guess */
	FLOW_BY_POLICY,		/* the owner's verdict does not depend on the
				 * classification: after the first packet, with
				 * nDPI's best answer or guess */
	__FLOW_BY_MAX
};

enum flow_end_reason {
	FLOW_END_IDLE,		/* idle timeout */
	FLOW_END_EVICTED,	/* table full, oldest idle flow made room */
	FLOW_END_FLUSH,		/* end of capture / shutdown */
	FLOW_END_REUSED,	/* closed TCP tuple reused by a new SYN */
	__FLOW_END_MAX
};

const char *flow_decided_by_name(enum flow_decided_by b);
const char *flow_end_reason_name(enum flow_end_reason r);

/* Canonical key: side 0 is the lower (address, port) endpoint. */
struct flow_key {
	uint8_t addr[2][16];
	uint16_t port[2];
	uint16_t vlan;
	uint8_t ip_proto;
	uint8_t family;
};

#define FLOW_F_MAC0	0x01	/* mac[0] is known */
#define FLOW_F_MAC1	0x02
#define FLOW_F_FIN0	0x04	/* side 0 sent FIN */
#define FLOW_F_FIN1	0x08
#define FLOW_F_GUESSED	0x10	/* protocol is nDPI's guess, not a detection */
#define FLOW_F_REJECT	0x20	/* owner-defined: a deny verdict refuses with
				 * a reset or unreachable, not a silent drop */

struct flow {
	struct flow_key key;
	uint32_t hnext;		/* hash chain (index), FLOW_NIL at end */
	uint32_t prev, next;	/* idle list of its tclass */
	uint32_t id;		/* creation sequence: deterministic output order */
	uint64_t first_us, last_us;	/* clock of the packet source */
	uint64_t bytes[2];	/* bytes sent by each side (IP length) */
	uint32_t packets[2];
	uint8_t mac[2][6];	/* source MAC each side was seen with */
	uint8_t initiator;	/* side that started the flow */
	uint8_t state;		/* enum flow_state */
	uint8_t decided_by;	/* enum flow_decided_by */
	uint8_t inspected;	/* packets handed to nDPI */
	uint8_t tclass;		/* enum flow_tclass */
	uint8_t flags;		/* FLOW_F_* */
	uint8_t verdict;	/* owner-defined (policy action) */
	uint8_t generation;	/* owner-defined: policy generation of verdict */
	uint16_t master, app;	/* nDPI protocol ids */
	uint16_t category;	/* nDPI category id */
	uint16_t slot;		/* owner-defined: accounting slot, 0 none */
	uint32_t rule_line;	/* owner-defined: line of the deciding rule */
	uint64_t risk;		/* nDPI risk bitmap */
	const char *host;	/* interned SNI/Host/query, or NULL */
	struct cls_flow *cls;	/* nDPI state while INSPECTING, else NULL */
	const char *reason;	/* owner-defined: why the verdict, or NULL;
				 * borrowed from the deciding policy */
};

#define FLOW_NIL UINT32_MAX

struct flow_table_config {
	uint32_t max_flows;			/* hard cap, > 0 */
	uint32_t timeout_s[__FLOW_TCLASS_MAX];	/* idle timeouts */
};

/* Defaults: 65536 flows; TCP 300 s, closed TCP 10 s, UDP 60 s, ICMP 30 s,
 * other 60 s. */
void flow_table_config_default(struct flow_table_config *cfg);

/* Called for every flow that ends, before its record is reused.  The callee
 * must release what it attached (nDPI state, interned host). */
typedef void flow_end_fn(void *ctx, struct flow *f, enum flow_end_reason why);

struct flow_table;

/* NULL with errno on failure (ENOMEM, EINVAL). */
struct flow_table *flow_table_new(const struct flow_table_config *cfg,
				  flow_end_fn *end, void *ctx);
/* Ends every live flow (FLOW_END_FLUSH) then frees.  NULL is a no-op. */
void flow_table_free(struct flow_table *t);

/* The flow P belongs to, created if new (the oldest idle flow is evicted if
 * the table is full).  *SIDE receives the key side P was sent by.  Updates
 * last_us, counters, TCP state and idle order.  NULL only for a packet that
 * cannot belong to a flow (never for a parsed IP packet). */
struct flow *flow_table_packet(struct flow_table *t, const struct packet *p,
			       uint64_t now_us, int *side, bool *created);

/* End flows idle for longer than their timeout at NOW_US. */
void flow_table_expire(struct flow_table *t, uint64_t now_us);

/* End every live flow, in creation order (deterministic output). */
void flow_table_flush(struct flow_table *t);

/* Build the canonical key of P; returns the side P was sent by. */
int flow_key_from_packet(struct flow_key *k, const struct packet *p);

struct flow_table_stats {
	uint32_t capacity, active, peak;
	uint64_t created, ended[__FLOW_END_MAX];
	uint64_t table_bytes;	/* records + hash buckets, allocated once */
};
void flow_table_stats(const struct flow_table *t, struct flow_table_stats *s);

/* Visit live flows in table order (for control/metrics). */
void flow_table_foreach(struct flow_table *t,
			void (*fn)(void *ctx, struct flow *f), void *ctx);

#endif
