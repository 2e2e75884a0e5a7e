/* policy: lifetime, names and getters of a loaded policy. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>

#include "policy/arena.h"
#include "policy/lookup.h"
#include "policy/policy-int.h"

void policy_free(struct policy *p)
{
	if (!p)
		return;
	prefix_table_free(p->lan);
	mac_table_free(p->by_mac);
	prefix_table_free(p->by_ip);
	name_table_free(p->by_port);
	name_table_free(p->by_name);
	name_table_free(p->protos);
	name_table_free(p->cats);
	arena_free(p->a);
	free(p);
}

const char *policy_action_name(enum policy_action a)
{
	static const char *const names[__POLICY_ACTION_MAX] = {
		[POLICY_ALLOW] = "allow",
		[POLICY_ALERT] = "alert",
		[POLICY_DENY] = "deny",
		[POLICY_QUARANTINE] = "quarantine",
	};

	return (unsigned)a < __POLICY_ACTION_MAX ? names[a] : "?";
}

const char *policy_mode_name(enum policy_mode m)
{
	static const char *const names[__POLICY_MODE_MAX] = {
		[POLICY_MODE_LEARN] = "learn",
		[POLICY_MODE_MONITOR] = "monitor",
		[POLICY_MODE_ENFORCE] = "enforce",
	};

	return (unsigned)m < __POLICY_MODE_MAX ? names[m] : "?";
}

const char *policy_file(const struct policy *p)
{
	return p->file;
}

unsigned policy_inspect_packets(const struct policy *p)
{
	return p ? p->inspect_packets : 8;
}

unsigned policy_alert_rearm_ms(const struct policy *p)
{
	return p ? p->alert_rearm_ms : 300000;
}

enum policy_action policy_unknown_action(const struct policy *p)
{
	return p ? p->unknown_action : POLICY_ALERT;
}

bool policy_is_lan(const struct policy *p, int family, const uint8_t *addr)
{
	if (!p || !addr)
		return false;
	return prefix_table_match(p->lan, family, addr, 128, NULL) != NULL;
}

size_t policy_device_count(const struct policy *p)
{
	return p ? p->n_devices : 0;
}

const struct policy_device *policy_device_at(const struct policy *p, size_t i)
{
	return p && i < p->n_devices ? &p->devices[i] : NULL;
}

const struct policy_device *policy_unknown_device(const struct policy *p)
{
	return p ? &p->unknown : NULL;
}

const char *policy_device_name(const struct policy_device *d)
{
	return d ? d->name : NULL;
}

const char *policy_device_profile(const struct policy_device *d)
{
	return d && d->profile ? d->profile->name : NULL;
}

bool policy_device_is_unknown(const struct policy_device *d)
{
	return d && d->unknown;
}

enum policy_mode policy_device_mode(const struct policy_device *d)
{
	return d ? d->mode : POLICY_MODE_ENFORCE;
}

bool policy_device_trusted(const struct policy_device *d)
{
	return d && d->trusted;
}

bool policy_device_observed(const struct policy_device *d)
{
	return d && d->observed;
}

const struct policy_device *policy_device_by_name(const struct policy *p, const char *name)
{
	if (!p || !name)
		return NULL;
	if (!strcmp(name, p->unknown.name))
		return &p->unknown;
	return name_table_get(p->by_name, name, strlen(name), 0);
}

static void learn_device(struct policy_device *d)
{
	d->mode = POLICY_MODE_LEARN;
	d->trusted = d->observed = false;	/* learning must see its flows */
}

int policy_set_learn(struct policy *p, const char *name)
{
	struct policy_device *d;
	size_t i;

	if (!p)
		return -EINVAL;
	if (name) {
		d = (struct policy_device *)policy_device_by_name(p, name);
		if (!d)
			return -ENOENT;
		learn_device(d);
		return 0;
	}
	for (i = 0; i < p->n_devices; i++)
		learn_device(&p->devices[i]);
	learn_device(&p->unknown);
	return 0;
}

static bool prefix_out(const struct value_prefix *pf, int *family, uint8_t addr[16],
		       unsigned *len)
{
	*family = pf->family;
	memcpy(addr, pf->addr, 16);
	*len = pf->len;
	return true;
}

bool policy_device_prefix_at(const struct policy_device *d, size_t i, int *family,
			     uint8_t addr[16], unsigned *len)
{
	return d && i < d->n_prefixes && prefix_out(&d->prefixes[i], family, addr, len);
}

bool policy_lan_at(const struct policy *p, size_t i, int *family, uint8_t addr[16],
		   unsigned *len)
{
	return p && i < p->n_lan && prefix_out(&p->lan_list[i], family, addr, len);
}

bool policy_device_is_host(const struct policy_device *d)
{
	uint32_t i;

	if (!d || d->unknown)
		return false;
	if (d->n_macs)
		return true;
	for (i = 0; i < d->n_prefixes; i++)
		if (d->prefixes[i].len != (d->prefixes[i].family == AF_INET ? 32 : 128))
			return false;
	return d->n_prefixes > 0;
}

enum policy_deny_with policy_device_deny_with(const struct policy_device *d)
{
	return d ? d->deny_with : POLICY_DENY_DROP;
}

bool policy_device_mac(const struct policy_device *d, uint8_t mac[6])
{
	if (!d || !d->n_macs)
		return false;
	memcpy(mac, d->macs[0], 6);
	return true;
}

const struct policy_limits *policy_device_limits(const struct policy_device *d)
{
	return d ? &d->limits : NULL;
}

size_t policy_device_rule_count(const struct policy_device *d, enum policy_direction dir)
{
	if (!d || (unsigned)dir >= __POLICY_DIRECTION_MAX)
		return 0;
	return d->rules[dir].n + (d->profile ? d->profile->rules[dir].n : 0);
}

const struct policy_rule *policy_device_rule_at(const struct policy_device *d,
						enum policy_direction dir, size_t i)
{
	if (i >= policy_device_rule_count(d, dir))
		return NULL;
	if (i < d->rules[dir].n)
		return &d->rules[dir].v[i];
	return &d->profile->rules[dir].v[i - d->rules[dir].n];
}

const char *policy_rule_label(const struct policy_rule *r)
{
	return r ? r->label : NULL;
}

enum policy_action policy_rule_action(const struct policy_rule *r)
{
	return r ? r->action : POLICY_ALLOW;
}

enum policy_direction policy_rule_direction(const struct policy_rule *r)
{
	return r ? r->dir : POLICY_OUT;
}

const char *policy_rule_file(const struct policy_rule *r)
{
	return r ? r->file : NULL;
}

unsigned policy_rule_line(const struct policy_rule *r)
{
	return r ? r->line : 0;
}

const struct policy_limits *policy_rule_limits(const struct policy_rule *r)
{
	return r ? &r->limits : NULL;
}

enum policy_too_often policy_rule_too_often(const struct policy_rule *r)
{
	return r ? r->too_often : POLICY_TOO_OFTEN_ALERT;
}

bool policy_rule_names_remote(const struct policy_rule *r)
{
	return r && r->has_remote;
}

bool policy_rule_names_service(const struct policy_rule *r)
{
	return r && (!r->any_proto || r->n_cats || r->n_ports);
}
