/* judge.h - apply the policy to a decided flow.
 *
 * Shared by the live workers and replay: turns a flow record and its nDPI
 * answer into the policy's view (initiator / responder, protocol names, host)
 * and asks the policy for a verdict.
 */
#ifndef IOTJAIL_JUDGE_H
#define IOTJAIL_JUDGE_H

#include <stdbool.h>

#include "policy/policy.h"

struct flow;
struct classifier;

/* Fill E with side SIDE of F; IFNAME is the interface (bridge port) that
 * side's packets come in on, or NULL if unknown. */
void judge_endpoint(const struct flow *f, int side, const char *ifname,
		    struct policy_endpoint *e);

/* Evaluate F against P; fills V and sets f->verdict, f->rule_line and
 * f->reason (borrowed from P).  IFNAMES, if not NULL, are the interfaces of
 * key sides 0 and 1 (each may be NULL).  0 or -errno (the flow is then left
 * allowed: a policy error never blocks traffic by accident). */
int judge_flow(const struct policy *p, const struct classifier *c,
	       struct flow *f, const char *const ifnames[2],
	       struct policy_verdict *v);

/* Load and check the policy at PATH with the names of a fresh classifier.
 * NULL if it has errors (or with errno: the classifier could not start);
 * *diag as policy_load() gives it. */
struct policy *judge_load_policy(const char *path, struct policy_diag **diag);

/* Would P judge F the same whatever its classification?  (Then F can be
 * decided at its first packet.) */
bool judge_settled(const struct policy *p, const struct flow *f,
		   const char *const ifnames[2]);

/* The policy's vocabulary from the classifier's names. */
void judge_vocab(const struct classifier *c, struct policy_vocab *v);

#endif
