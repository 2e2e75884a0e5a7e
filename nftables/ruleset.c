/*
 * nftables/ruleset.c: the dispatch of ruleset.h to nft.c or ipt.c.
 */
#include "nftables/ruleset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nftables/ipt.h"

struct ijrs {
	enum ijrs_backend b;
	struct ijnft *nft;
	struct ijipt *ipt;
	enum ijnft_queue_kind kind;	/* nft, once probed */
	char describe[512];
	char err[256];			/* our own messages */
	bool own_err;
};

static const char *const backend_names[__IJRS_BACKEND_MAX] = {
	[IJRS_AUTO] = "auto",
	[IJRS_NFT] = "nft",
	[IJRS_IPTABLES] = "iptables",
};

const char *ijrs_backend_name(enum ijrs_backend b)
{
	return (unsigned int)b < __IJRS_BACKEND_MAX ? backend_names[b] : NULL;
}

int ijrs_backend_parse(const char *name, enum ijrs_backend *out)
{
	for (int b = 0; name && b < __IJRS_BACKEND_MAX; b++)
		if (!strcmp(name, backend_names[b])) {
			*out = b;
			return 0;
		}
	return -EINVAL;
}

static struct ijrs *rs_new(enum ijrs_backend b)
{
	struct ijrs *h = calloc(1, sizeof(*h));

	if (h)
		h->b = b;
	return h;
}

int ijrs_open(struct ijrs **out, enum ijrs_backend b, char *why,
	      size_t why_len)
{
	struct ijrs *h;
	const char *w = NULL;
	char nft_why[512];
	int ret;

	if (!out || (unsigned int)b >= __IJRS_BACKEND_MAX)
		return -EINVAL;
	*out = NULL;
	if (why && why_len)
		why[0] = '\0';
	h = rs_new(b == IJRS_AUTO ? IJRS_NFT : b);
	if (!h)
		return -ENOMEM;
	if (b == IJRS_NFT) {
		if ((ret = ijnft_open(&h->nft)))
			w = "cannot open a netfilter netlink socket";
	} else if (b == IJRS_IPTABLES) {
		ret = ijipt_open(&h->ipt, &w);
	} else {
		/* auto: nft if it can queue, else iptables if it probes. */
		if (!(ret = ijnft_open(&h->nft)) && !(ret = ijrs_probe(h))) {
			*out = h;
			return 0;
		}
		w = ijrs_error_what(h);
		snprintf(nft_why, sizeof(nft_why), "%s%s%s", strerror(-ret),
			 w ? ": " : "", w ? w : "");
		ijnft_close(h->nft);
		h->nft = NULL;
		h->b = IJRS_IPTABLES;
		w = NULL;
		if (!(ret = ijipt_open(&h->ipt, &w)) && !(ret = ijrs_probe(h))) {
			*out = h;
			return 0;
		}
		if (why && why_len)
			snprintf(why, why_len, "nftables: %s; iptables: %s%s%s",
				 nft_why, strerror(-ret), w || ijrs_error_what(h) ?
				 ": " : "", w ? w : ijrs_error_what(h) ?
				 ijrs_error_what(h) : "");
		ijrs_close(h);
		return ret;
	}
	if (ret) {
		if (why && why_len)
			snprintf(why, why_len, "%s", w ? w : strerror(-ret));
		ijrs_close(h);
		return ret;
	}
	*out = h;
	return 0;
}

int ijrs_open_peer(struct ijrs **out, struct ijrs *main)
{
	struct ijrs *h;
	int ret;

	if (!out || !main)
		return -EINVAL;
	*out = NULL;
	h = rs_new(main->b);
	if (!h)
		return -ENOMEM;
	h->kind = main->kind;
	memcpy(h->describe, main->describe, sizeof(h->describe));
	ret = main->b == IJRS_NFT ? ijnft_open(&h->nft)
				  : ijipt_open_peer(&h->ipt, main->ipt);
	if (ret) {
		ijrs_close(h);
		return ret;
	}
	*out = h;
	return 0;
}

void ijrs_close(struct ijrs *h)
{
	if (!h)
		return;
	ijnft_close(h->nft);
	ijipt_close(h->ipt);
	free(h);
}

static const char *const kind_names[__IJNFT_QUEUE_MAX] = {
	[IJNFT_QUEUE_AUTO] = "queue not probed",
	[IJNFT_QUEUE_NATIVE] = "native nft queue",
	[IJNFT_QUEUE_XT] = "xt NFQUEUE target (nft_compat)",
};

int ijrs_probe(struct ijrs *h)
{
	int ret;

	if (!h)
		return -EINVAL;
	h->own_err = false;
	if (h->b == IJRS_IPTABLES) {
		if ((ret = ijipt_probe(h->ipt)))
			return ret;
		snprintf(h->describe, sizeof(h->describe), "iptables, %s",
			 ijipt_describe(h->ipt));
		return 0;
	}
	if (h->kind != IJNFT_QUEUE_AUTO)
		return 0;
	if ((ret = ijnft_probe_queue(h->nft, &h->kind))) {
		if (ret == -EOPNOTSUPP) {
			snprintf(h->err, sizeof(h->err), "this kernel can queue "
				 "neither with nft's queue expression nor with "
				 "the xt NFQUEUE target");
			h->own_err = true;
		}
		h->kind = IJNFT_QUEUE_AUTO;
		return ret;
	}
	snprintf(h->describe, sizeof(h->describe), "nftables, %s",
		 kind_names[h->kind]);
	return 0;
}

enum ijrs_backend ijrs_backend(const struct ijrs *h)
{
	return h ? h->b : IJRS_AUTO;
}

const char *ijrs_describe(const struct ijrs *h)
{
	if (!h)
		return NULL;
	if (!h->describe[0])
		return h->b == IJRS_NFT ? "nftables" : "iptables";
	return h->describe;
}

const char *ijrs_ruleset_name(const struct ijrs *h)
{
	return h && h->b == IJRS_IPTABLES ? "iptables chains " "IOTJAIL*"
					  : "table inet " IJNFT_TABLE;
}

/* Whether legacy iptables has any table in this namespace: without one
 * there is nothing to remove, and iptables-save would only load modules. */
static bool ipt_tables_exist(void)
{
	char buf[64];
	FILE *f = fopen("/proc/net/ip_tables_names", "re");
	bool any = f && fgets(buf, sizeof(buf), f);

	if (f)
		fclose(f);
	f = fopen("/proc/net/ip6_tables_names", "re");
	any = any || (f && fgets(buf, sizeof(buf), f));
	if (f)
		fclose(f);
	return any;
}

/* The other backend's leftovers, if that backend is here at all; errors
 * are not ours to report (it may simply not exist on this kernel). */
static void remove_other(struct ijrs *h)
{
	if (h->b == IJRS_NFT) {
		struct ijipt *ipt = NULL;

		if (ipt_tables_exist() && ijipt_open(&ipt, NULL) == 0)
			ijipt_remove(ipt);
		ijipt_close(ipt);
	} else {
		struct ijnft *nft = NULL;

		if (ijnft_open(&nft) == 0)
			ijnft_remove(nft);
		ijnft_close(nft);
	}
}

int ijrs_install(struct ijrs *h, const struct ijnft_config *cfg)
{
	struct ijnft_config c;
	int ret;

	if (!h || !cfg)
		return -EINVAL;
	h->own_err = false;
	if (h->b == IJRS_IPTABLES) {
		ret = ijipt_install(h->ipt, cfg);
	} else {
		c = *cfg;
		if (c.queue_kind == IJNFT_QUEUE_AUTO)
			c.queue_kind = h->kind;	/* AUTO again if not probed */
		ret = ijnft_install(h->nft, &c);
	}
	if (!ret)
		remove_other(h);
	return ret;
}

int ijrs_set_generation(struct ijrs *h, const struct ijnft_config *cfg)
{
	struct ijnft_config c;

	if (!h || !cfg)
		return -EINVAL;
	h->own_err = false;
	if (h->b == IJRS_IPTABLES)
		return ijipt_set_generation(h->ipt, cfg);
	c = *cfg;
	if (c.queue_kind == IJNFT_QUEUE_AUTO)
		c.queue_kind = h->kind;
	return ijnft_set_generation(h->nft, &c);
}

int ijrs_quarantine_add(struct ijrs *h, const uint8_t mac[6],
			uint32_t timeout_ms)
{
	if (!h)
		return -EINVAL;
	h->own_err = false;
	return h->b == IJRS_IPTABLES ? ijipt_quarantine_add(h->ipt, mac, timeout_ms)
				     : ijnft_quarantine_add(h->nft, mac, timeout_ms);
}

int ijrs_quarantine_del(struct ijrs *h, const uint8_t mac[6])
{
	if (!h)
		return -EINVAL;
	h->own_err = false;
	return h->b == IJRS_IPTABLES ? ijipt_quarantine_del(h->ipt, mac)
				     : ijnft_quarantine_del(h->nft, mac);
}

int ijrs_expire(struct ijrs *h)
{
	if (!h)
		return -EINVAL;
	h->own_err = false;
	/* nft: the set's element timeouts, in the kernel. */
	return h->b == IJRS_IPTABLES ? ijipt_expire(h->ipt) : 0;
}

int ijrs_counters(struct ijrs *h, struct ijnft_counters *out)
{
	if (!h)
		return -EINVAL;
	h->own_err = false;
	return h->b == IJRS_IPTABLES ? ijipt_counters(h->ipt, out)
				     : ijnft_counters(h->nft, out);
}

int ijrs_remove(struct ijrs *h)
{
	if (!h)
		return -EINVAL;
	h->own_err = false;
	return h->b == IJRS_IPTABLES ? ijipt_remove(h->ipt)
				     : ijnft_remove(h->nft);
}

const char *ijrs_error_what(const struct ijrs *h)
{
	if (!h)
		return NULL;
	if (h->own_err)
		return h->err;
	return h->b == IJRS_IPTABLES ? ijipt_error_what(h->ipt)
				     : ijnft_error_what(h->nft);
}
