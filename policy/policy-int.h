/*
 * The definitions behind the opaque types of policy.h, shared by the files
 * that implement it (load.c builds them, eval.c reads them on the packet
 * path, policy.c has the getters).  Nothing outside policy/ includes this.
 */
#ifndef IOTJAIL_POLICY_INT_H
#define IOTJAIL_POLICY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/policy.h"
#include "policy/value.h"

struct arena;
struct mac_table;
struct prefix_table;
struct name_table;

/*
 * A protocol selector over interned nDPI names.  app < 0: `name` matches the
 * flow's master or app protocol ("TLS" matches "TLS.Google", "Google" matches
 * "TLS.Google" and "DNS.Google"); else master and app must both match
 * ("TLS.Google").
 */
struct proto_sel {
	int32_t name;
	int32_t app;
};

/* Host name pattern, lower case.  wildcard: text is ".example.com", a suffix. */
struct host_pat {
	const char *text;
	uint32_t len;
	bool wildcard;
};

struct policy_rule {
	enum policy_direction dir;
	enum policy_action action;
	const char *file;
	unsigned line;
	const char *label;	/* "TLS to *.vendor-cloud.example" */
	const char *reason;	/* label + "allowed by profile ip-camera" */
	const char *owner;	/* "profile ip-camera" or "device cam-front" */

	bool any_proto;		/* no protocol selector, or "any" */
	uint32_t n_protos, n_cats, n_ports;
	struct proto_sel *protos;
	int32_t *cats;
	struct value_ports *ports;

	/* Remote side: any entry may match (a flow's name, its address or
	 * the device on the other side). */
	bool has_remote, remote_lan, remote_wan;
	uint32_t n_prefixes, n_hosts, n_devs;
	struct value_prefix *prefixes;
	struct host_pat *hosts;
	const struct policy_device **devs;

	struct policy_limits limits;	/* every/tolerance and byte limits of this service */
	enum policy_too_often too_often;	/* an early report: alert, or drop too */
};

struct ruleset {
	struct policy_rule *v;
	size_t n;
};

struct profile {
	const char *name;
	unsigned line;
	int mode;		/* enum policy_mode, or -1 if not set */
	int binding;		/* enum policy_action, or -1 if not set */
	int deny_with;		/* enum policy_deny_with, or -1 if not set */
	struct ruleset rules[__POLICY_DIRECTION_MAX];
	struct policy_limits limits;
	/* Shared by the devices that add no rules of their own. */
	const char *nomatch_reason[__POLICY_DIRECTION_MAX];
};

struct policy_device {
	const char *name;
	unsigned line;
	bool unknown;		/* the synthesized device for undeclared LAN endpoints */
	const struct profile *profile;

	/* Resolved at load: the device's own setting, else its profile's,
	 * else the global default. */
	enum policy_mode mode;
	enum policy_action binding;
	enum policy_deny_with deny_with;
	/* The rule action when no rule matches: deny, except for the unknown
	 * device when no `default` profile is declared. */
	enum policy_action fallthrough;
	const char *nomatch_reason[__POLICY_DIRECTION_MAX];

	uint32_t n_macs, n_prefixes;
	uint8_t (*macs)[6];
	struct value_prefix *prefixes;
	const char *port;	/* bridge port, or NULL */
	uint16_t vlan;		/* 0: any */

	struct ruleset rules[__POLICY_DIRECTION_MAX];	/* its own, tried before the profile's */
	struct policy_limits own_limits, limits;

	bool trusted;		/* its WAN flows allowed by the kernel */
	bool observed;		/* ... and their first packets copied to the
				 * daemon (trusted: observed) */

	/* Only while loading. */
	const void *trusted_node;	/* the `trusted: true` value, for errors */
	int mode_set, binding_set, deny_with_set;
	const void **prefix_nodes;
	bool parsed;
};

struct policy {
	struct arena *a;
	const char *file;
	unsigned defaults_line;	/* the `defaults:` key, 0 if absent */

	enum policy_mode mode;
	enum policy_action unknown_action, binding;
	enum policy_deny_with deny_with;
	unsigned inspect_packets;
	uint32_t alert_rearm_ms;

	struct prefix_table *lan;
	struct value_prefix *lan_list;	/* the same prefixes, in order */
	size_t n_lan;
	struct mac_table *by_mac;
	struct prefix_table *by_ip;
	struct name_table *by_port;	/* (ifname or "", vlan) of devices without a MAC */
	struct name_table *by_name;	/* device names */
	/* nDPI names used by rules -> id + 1 (case-insensitive) */
	struct name_table *protos, *cats;

	struct profile *profiles;
	size_t n_profiles;
	struct profile implicit_default;
	struct policy_device *devices;
	size_t n_devices;
	struct policy_device unknown;
};

#endif
