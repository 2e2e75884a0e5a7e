/* judge.c - decided flow -> policy verdict. */
#include <errno.h>
#include <string.h>

#include "daemon/classify.h"
#include "daemon/flow.h"
#include "daemon/judge.h"

void judge_endpoint(const struct flow *f, int side, struct policy_endpoint *e)
{
	memset(e, 0, sizeof(*e));
	e->family = f->key.family;
	memcpy(e->addr, f->key.addr[side], sizeof(e->addr));
	e->port = f->key.port[side];
	if (f->flags & (FLOW_F_MAC0 << side)) {
		e->has_mac = true;
		memcpy(e->mac, f->mac[side], 6);
	}
	/* Bridge ports arrive with the live path (issue 4). */
	e->ifname = NULL;
}

int judge_flow(const struct policy *p, const struct classifier *c,
	       struct flow *f, struct policy_verdict *v)
{
	struct policy_flow pf;
	int rc;

	memset(&pf, 0, sizeof(pf));
	judge_endpoint(f, f->initiator, &pf.initiator);
	judge_endpoint(f, !f->initiator, &pf.responder);
	pf.vlan = f->key.vlan;
	pf.ip_proto = f->key.ip_proto;
	/* "TLS.Google" is master TLS, app Google; a lone "DNS" is master
	 * DNS with no app, as ndpiReader's name shows it. */
	if (f->master && f->master != f->app) {
		pf.master_proto = classifier_id_name(c, f->master);
		pf.app_proto = f->app ? classifier_id_name(c, f->app) : NULL;
	} else {
		pf.master_proto = classifier_id_name(c, f->app);
	}
	pf.category = classifier_category_name(c, f->category);
	pf.host = f->host;
	rc = policy_evaluate(p, &pf, v);
	if (rc < 0) {
		memset(v, 0, sizeof(*v));
		f->verdict = POLICY_ALLOW;
		f->rule_line = 0;
		f->reason = NULL;
		return rc;
	}
	f->verdict = (uint8_t)v->action;
	f->rule_line = v->rule_line;
	f->reason = v->reason;
	return 0;
}

void judge_vocab(const struct classifier *c, struct policy_vocab *v)
{
	classifier_names(c, &v->protocols, &v->n_protocols, &v->categories,
			 &v->n_categories);
}
