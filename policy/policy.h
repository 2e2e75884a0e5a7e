/*
 * policy: the device policy language of iotjail (see docs/policy.md and
 * iotjail.yaml(5)), its loader/checker and the per-flow matcher.
 *
 * Contracts:
 * - A loaded struct policy is immutable.  policy_evaluate() and every getter
 *   only read it, so any number of workers may share one policy without
 *   locks; the daemon swaps whole policies on reload and frees the old one
 *   once no worker uses it.
 * - Every pointer a getter or a verdict returns is borrowed from the policy
 *   and lives exactly as long as it.
 * - The library never logs and never exits.  Configuration problems are
 *   collected in a struct policy_diag (all of them, not only the first);
 *   system errors come back as NULL with errno or as -errno.
 * - nDPI names come from the daemon's classifier; policy/ never includes nDPI.
 */
#ifndef IOTJAIL_POLICY_H
#define IOTJAIL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The names the classifier can produce.  The loader rejects any protocol or
 * category name in a rule that is not listed here (case-insensitively) and
 * suggests the nearest one.  "Unknown" (protocol) and "Unspecified"
 * (category) are always accepted.  A NULL vocab accepts every name; only
 * tools without a classifier should do that.
 */
struct policy_vocab {
	const char *const *protocols;	/* e.g. "DNS", "TLS", "Google", "MQTT" */
	size_t n_protocols;
	const char *const *categories;	/* e.g. "Web", "Network", "IoT-Scada" */
	size_t n_categories;
};

struct policy;
struct policy_diag;
struct policy_device;
struct policy_rule;

enum policy_severity {
	POLICY_ERROR,
	POLICY_WARNING,
	__POLICY_SEVERITY_MAX
};

/*
 * Load and check a policy.  Returns NULL if there is any error (errno is
 * EINVAL for configuration errors, or the system error: ENOENT, ENOMEM...).
 * *diag, if diag is not NULL, receives every error and warning, also on
 * success (then it holds only warnings, possibly none); the caller frees it
 * with policy_diag_free().  `name` is the file name used in messages and in
 * verdicts (rule_file), copied.
 */
struct policy *policy_load(const char *path, const struct policy_vocab *vocab,
			   struct policy_diag **diag);
struct policy *policy_load_buffer(const char *name, const char *buf, size_t len,
				  const struct policy_vocab *vocab,
				  struct policy_diag **diag);
void policy_free(struct policy *p);	/* NULL is a no-op */

unsigned policy_diag_count(const struct policy_diag *d, enum policy_severity sev);
/*
 * Print every message, sorted by position, each as
 *   FILE:LINE:COL: error: TEXT
 *     <source line>
 *     <spaces>^~~~
 * (warnings say "warning:").  Messages without a position (an unreadable
 * file) are "FILE: error: TEXT" alone.  NULL prints nothing.
 */
void policy_diag_print(const struct policy_diag *d, FILE *out);
void policy_diag_free(struct policy_diag *d);	/* NULL is a no-op */

/* One message, for callers that format diagnostics themselves (control socket). */
struct policy_diag_msg {
	enum policy_severity severity;
	const char *file;
	unsigned line, col;	/* 1-based; 0 if the message has no position */
	const char *text;	/* without "error: " and without the source line */
};
unsigned policy_diag_total(const struct policy_diag *d);
/* 0, or -ERANGE if i >= policy_diag_total(d).  Pointers borrowed from d. */
int policy_diag_get(const struct policy_diag *d, unsigned i, struct policy_diag_msg *out);

/* ------------------------------------------------------------------------ */
/* Evaluation */

struct policy_endpoint {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network order; IPv4 in the first 4 bytes */
	uint16_t port;		/* L4 port, host order, 0 if none */
	bool has_mac;
	uint8_t mac[6];
	const char *ifname;	/* bridge port the packets of this side came in on, or NULL */
};

struct policy_flow {
	struct policy_endpoint initiator, responder;
	uint16_t vlan;		/* 0 if untagged */
	uint8_t ip_proto;	/* IPPROTO_TCP, IPPROTO_UDP, ... */
	/* nDPI names; for "TLS.Google" master="TLS", app="Google".  "Unknown"
	 * (or NULL) if none; app may be NULL or equal to master. */
	const char *master_proto;
	const char *app_proto;
	const char *category;	/* nDPI category name, or NULL */
	const char *host;	/* SNI / HTTP Host / DNS query name, or NULL */
};

/* Ordered from least to most strict: the strictest action of a flow wins. */
enum policy_action {
	POLICY_ALLOW,
	POLICY_ALERT,
	POLICY_DENY,
	POLICY_QUARANTINE,	/* block everything of the device, not only this flow */
	__POLICY_ACTION_MAX
};
const char *policy_action_name(enum policy_action a);	/* "allow", ... ; "?" if out of range */

/*
 * learn: record, never block, never alert.
 * monitor: alert what enforce would block, never block.
 * enforce: block what is not allowed.
 */
enum policy_mode {
	POLICY_MODE_LEARN,
	POLICY_MODE_MONITOR,
	POLICY_MODE_ENFORCE,
	__POLICY_MODE_MAX
};
const char *policy_mode_name(enum policy_mode m);	/* "learn", ... ; "?" if out of range */

/*
 * How a denied flow is refused.  drop: its packets vanish (the device
 * retries until it times out).  reject: the enforcing path answers with a
 * TCP reset or an ICMP "administratively prohibited", so the device fails
 * at once.
 */
enum policy_deny_with {
	POLICY_DENY_DROP,
	POLICY_DENY_REJECT,
	__POLICY_DENY_WITH_MAX
};

#define POLICY_MAX_ALERTS 4

struct policy_alert {
	/* "service_not_allowed_out", "service_not_allowed_in", "rule_alert",
	 * "unknown_device", "binding_violation" (static strings) */
	const char *event_type;
	const struct policy_device *device;	/* the device the alert is about */
	char message[160];
};

struct policy_verdict {
	enum policy_action action;	/* what the enforcing path must do, after mode (learn/monitor never deny) */
	enum policy_action rule_action;	/* what the deciding rule (or default) said, before mode */
	/* Where the decision comes from: the deciding rule, or when no rule
	 * matched, the declaration whose default decided (the device, the
	 * `default` profile for unknown devices, `defaults:` for the
	 * unknown-device action).  NULL/0 only when nothing in the file
	 * decided (no LAN device on either side, or a built-in default). */
	const char *rule_file;
	unsigned rule_line;
	const struct policy_rule *rule;	/* the deciding rule, or NULL */
	/* How to refuse when action is deny: the `deny_with` of the device
	 * whose rules (or defaults) decided. */
	enum policy_deny_with deny_with;
	/* Short human text: "TLS to *.vendor-cloud.example allowed by profile
	 * ip-camera".  Lives as long as the policy. */
	const char *reason;
	/* NULL if that side is not a LAN device; the synthesized unknown
	 * device (policy_device_is_unknown) for a LAN address nobody declared */
	const struct policy_device *initiator_dev, *responder_dev;
	unsigned n_alerts;
	struct policy_alert alerts[POLICY_MAX_ALERTS];
};

/*
 * Decide a flow.  A flow between two LAN devices is checked against the
 * initiator's OUT rules and the responder's IN rules; the strictest action
 * wins.  Never allocates; reentrant.  0, or -EINVAL for a bad argument.
 */
int policy_evaluate(const struct policy *p, const struct policy_flow *f,
		    struct policy_verdict *out);

/*
 * Would policy_evaluate() give F the same verdict whatever the classifier
 * says about it (protocol, category, host)?  false when it would: the
 * endpoints, ports and addresses decide (e.g. a device allowed `any` out).
 * F's protocol and host fields are ignored.  true for learn-mode devices
 * (learning is about the services they use) and for bad arguments.
 */
bool policy_needs_classification(const struct policy *p,
				 const struct policy_flow *f);

/* ------------------------------------------------------------------------ */
/* Global settings */

const char *policy_file(const struct policy *p);	/* the name it was loaded as */
unsigned policy_inspect_packets(const struct policy *p);	/* default 8 */
unsigned policy_alert_rearm_ms(const struct policy *p);	/* default 300000 (5m) */
enum policy_action policy_unknown_action(const struct policy *p);	/* default alert */
/* Is addr (network order, family AF_INET/AF_INET6) inside the LAN prefixes? */
bool policy_is_lan(const struct policy *p, int family, const uint8_t *addr);

/* ------------------------------------------------------------------------ */
/* Devices and rules (for the daemon, the baselines and the control socket) */

/*
 * Limits of a device, or of one service (rule).  0 means "no limit".  Byte
 * counts are in bytes, "up" is from the device, "down" towards it.
 */
struct policy_limits {
	uint64_t up_per_hour, up_per_day;
	uint64_t down_per_hour, down_per_day;
	uint32_t max_endpoints;		/* distinct remote endpoints */
	uint32_t new_flows;		/* at most new_flows per new_flows_window_ms */
	uint32_t new_flows_window_ms;
	uint32_t every_ms;		/* expected report interval of a service */
	uint32_t tolerance_ms;		/* allowed jitter around every_ms */
	/* Past a byte limit: 0 alert; 1 block too (the device is
	 * quarantined until the hour or day window ends). */
	int over;
};

size_t policy_device_count(const struct policy *p);	/* declared devices */
/* Declared devices in file order; NULL if i is out of range. */
const struct policy_device *policy_device_at(const struct policy *p, size_t i);
/* The synthesized device that stands for every undeclared LAN endpoint. */
const struct policy_device *policy_unknown_device(const struct policy *p);
/* Which device is this endpoint (MAC first, then longest IP prefix, then
 * port/VLAN)?  The unknown device for an undeclared LAN address, NULL for
 * a remote, multicast or broadcast address. */
const struct policy_device *policy_lookup_device(const struct policy *p,
						 const struct policy_endpoint *e,
						 uint16_t vlan);

/* "unknown" for the synthesized unknown device. */
const char *policy_device_name(const struct policy_device *d);
/* The profile's name; "default" for the unknown device; NULL if none. */
const char *policy_device_profile(const struct policy_device *d);
bool policy_device_is_unknown(const struct policy_device *d);
enum policy_mode policy_device_mode(const struct policy_device *d);
/* Its own deny_with, else its profile's, else the defaults'. */
enum policy_deny_with policy_device_deny_with(const struct policy_device *d);
/* The first declared MAC into mac; false if the device declares none. */
bool policy_device_mac(const struct policy_device *d, uint8_t mac[6]);
/* Is the device trusted: its flows to the WAN allowed by the kernel at
 * their first packet (the loader checked it declares a MAC and host
 * addresses and allows any out)? */
bool policy_device_trusted(const struct policy_device *d);
/* A trusted device that is also observed (`trusted: observed`): the first
 * packet of each of those flows is copied to the daemon, not held. */
bool policy_device_observed(const struct policy_device *d);
/* The device called NAME ("unknown": the unknown device), or NULL. */
const struct policy_device *policy_device_by_name(const struct policy *p,
						  const char *name);
/*
 * Learn mode set at run time over what the file says (`iotjailctl learn
 * start`, `iotjaild --replay --learn`): device NAME, or with NAME NULL every
 * device and the unknown device.  Only on a policy nobody shares yet (just
 * loaded).  A trusted device loses its trust: learning must see its flows.
 * 0, -ENOENT (no such device) or -EINVAL.
 */
int policy_set_learn(struct policy *p, const char *name);
/* The device's I-th address (prefix); false past the last. */
bool policy_device_prefix_at(const struct policy_device *d, size_t i, int *family,
			     uint8_t addr[16], unsigned *len);
/* The LAN prefixes (`lan`, or the defaults), in order; false past the last. */
bool policy_lan_at(const struct policy *p, size_t i, int *family, uint8_t addr[16],
		   unsigned *len);

/* Is the device one machine: it declares a MAC, or only host addresses
 * (/32, /128)?  false for the unknown device, address ranges and
 * port-only devices, which stand for several machines. */
bool policy_device_is_host(const struct policy_device *d);
/* Effective limits: the device's own, each unset one taken from its profile. */
const struct policy_limits *policy_device_limits(const struct policy_device *d);

enum policy_direction {
	POLICY_OUT,	/* flows the device initiates */
	POLICY_IN,	/* flows towards the device */
	__POLICY_DIRECTION_MAX
};
/* The rules applied to the device in order: its own, then its profile's. */
size_t policy_device_rule_count(const struct policy_device *d, enum policy_direction dir);
const struct policy_rule *policy_device_rule_at(const struct policy_device *d,
						enum policy_direction dir, size_t i);

/* "TLS to *.vendor-cloud.example" */
const char *policy_rule_label(const struct policy_rule *r);
enum policy_action policy_rule_action(const struct policy_rule *r);
enum policy_direction policy_rule_direction(const struct policy_rule *r);
const char *policy_rule_file(const struct policy_rule *r);
unsigned policy_rule_line(const struct policy_rule *r);
const struct policy_limits *policy_rule_limits(const struct policy_rule *r);
/* What a report of the rule's service sooner than every - tolerance gets
 * (rule key `too_often`): always an alert; with DROP (enforce mode) the
 * flow is denied too. */
enum policy_too_often {
	POLICY_TOO_OFTEN_ALERT,
	POLICY_TOO_OFTEN_DROP,
	__POLICY_TOO_OFTEN_MAX
};
enum policy_too_often policy_rule_too_often(const struct policy_rule *r);
/* Does the rule name the remote side (hosts, prefixes, devices, lan/wan)?
 * Then the endpoints of the flows it allows are declared, not learnt. */
bool policy_rule_names_remote(const struct policy_rule *r);
/* Does it name the service (a protocol, a category or ports)? */
bool policy_rule_names_service(const struct policy_rule *r);

#endif
