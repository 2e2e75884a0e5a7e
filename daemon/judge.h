/* judge.h - apply the policy to a decided flow.
 *
 * Shared by the live workers and replay: turns a flow record and its nDPI
 * answer into the policy's view (initiator / responder, protocol names, host)
 * and asks the policy for a verdict.
 */
#ifndef IOTJAIL_JUDGE_H
#define IOTJAIL_JUDGE_H

#include "policy/policy.h"

struct flow;
struct classifier;

/* Fill E with side SIDE of F. */
void judge_endpoint(const struct flow *f, int side, struct policy_endpoint *e);

/* Evaluate F against P; fills V and sets f->verdict, f->rule_line and
 * f->reason (borrowed from P).  0 or -errno (the flow is then left
 * allowed: a policy error never blocks traffic by accident). */
int judge_flow(const struct policy *p, const struct classifier *c,
	       struct flow *f, struct policy_verdict *v);

/* The policy's vocabulary from the classifier's names. */
void judge_vocab(const struct classifier *c, struct policy_vocab *v);

#endif
