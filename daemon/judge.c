/* judge.c - decided flow -> policy verdict. */
#include <errno.h>
#include <string.h>

#include "daemon/classify.h"
#include "daemon/flow.h"
#include "daemon/judge.h"

void judge_endpoint(const struct flow *f, int side, const char *ifname,
		    struct policy_endpoint *e)
{
	memset(e, 0, sizeof(*e));
	e->family = f->key.family;
	memcpy(e->addr, f->key.addr[side], sizeof(e->addr));
	e->port = f->key.port[side];
	if (f->flags & (FLOW_F_MAC0 << side)) {
		e->has_mac = true;
		memcpy(e->mac, f->mac[side], 6);
	}
	e->ifname = ifname;
}

/* F as the policy sees it.  Without a classifier C, no protocol names. */
static void policy_flow_of(const struct flow *f, const struct classifier *c,
			   const char *const ifnames[2], struct policy_flow *pf)
{
	int ini = f->initiator;

	memset(pf, 0, sizeof(*pf));
	judge_endpoint(f, ini, ifnames ? ifnames[ini] : NULL, &pf->initiator);
	judge_endpoint(f, !ini, ifnames ? ifnames[!ini] : NULL, &pf->responder);
	pf->vlan = f->key.vlan;
	pf->ip_proto = f->key.ip_proto;
	if (!c)
		return;
	/* "TLS.Google" is master TLS, app Google; a lone "DNS" is master
	 * DNS with no app, as ndpiReader's name shows it. */
	if (f->master && f->master != f->app) {
		pf->master_proto = classifier_id_name(c, f->master);
		pf->app_proto = f->app ? classifier_id_name(c, f->app) : NULL;
	} else {
		pf->master_proto = classifier_id_name(c, f->app);
	}
	pf->category = classifier_category_name(c, f->category);
	pf->host = f->host;
}

int judge_flow(const struct policy *p, const struct classifier *c,
	       struct flow *f, const char *const ifnames[2],
	       struct policy_verdict *v)
{
	struct policy_flow pf;
	int rc;

	policy_flow_of(f, c, ifnames, &pf);
	rc = policy_evaluate(p, &pf, v);
	if (rc < 0) {
		memset(v, 0, sizeof(*v));
		f->verdict = POLICY_ALLOW;
		f->flags &= (uint8_t)~FLOW_F_REJECT;
		f->rule_line = 0;
		f->reason = NULL;
		return rc;
	}
	f->verdict = (uint8_t)v->action;
	if (v->action >= POLICY_DENY && v->deny_with == POLICY_DENY_REJECT)
		f->flags |= FLOW_F_REJECT;
	else
		f->flags &= (uint8_t)~FLOW_F_REJECT;
	f->rule_line = v->rule_line;
	f->reason = v->reason;
	return 0;
}

bool judge_settled(const struct policy *p, const struct flow *f,
		   const char *const ifnames[2])
{
	struct policy_flow pf;

	policy_flow_of(f, NULL, ifnames, &pf);
	return !policy_needs_classification(p, &pf);
}

void judge_vocab(const struct classifier *c, struct policy_vocab *v)
{
	classifier_names(c, &v->protocols, &v->n_protocols, &v->categories,
			 &v->n_categories);
}

struct policy *judge_load_policy(const char *path, struct policy_diag **diag)
{
	struct classifier *c = classifier_new();
	struct policy_vocab vocab;
	struct policy *p;

	*diag = NULL;
	if (!c)
		return NULL;
	judge_vocab(c, &vocab);
	p = policy_load(path, &vocab, diag);
	/* The vocabulary was only needed while loading: names in the policy
	 * are its own copies. */
	classifier_free(c);
	return p;
}
