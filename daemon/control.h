/* control.h - the control socket: one request per line in, one JSON reply out.
 *
 * A unix stream socket (default /run/iotjail.sock, mode 0600, or 0660 with
 * a group) served by the daemon's main thread from its poll loop: never a
 * thread of its own, never on the packet path.  The protocol is in
 * docs/control.md; iotjailctl is its client.
 *
 * Untrusted input, so everything is capped: a request is one line of at
 * most CTL_REQUEST_MAX bytes (a JSON object), at most max_clients clients,
 * an idle client is closed after CTL_IDLE_S, a client that does not read
 * its replies is closed beyond CTL_OUT_MAX bytes pending.  Peers are checked
 * with SO_PEERCRED: root, the daemon's own user, or a member of the group.
 */
#ifndef IOTJAIL_CONTROL_H
#define IOTJAIL_CONTROL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_REQUEST_MAX	4096		/* bytes of one request line */
#define CTL_NAME_MAX	64		/* device or protocol name, with NUL */
#define CTL_IDLE_S	60
#define CTL_OUT_MAX	(64u << 20)	/* reply bytes pending per client */
#define CTL_DEFAULT_PATH "/run/iotjail.sock"

enum ctl_cmd {
	CTL_STATUS,
	CTL_DEVICES,
	CTL_FLOWS,
	CTL_ALERTS,
	CTL_RELOAD,
	CTL_QUARANTINE,
	CTL_RELEASE,
	CTL_LEARN,
	CTL_EXPORT,
	CTL_METRICS,
	__CTL_CMD_MAX
};

/* "status", "devices", ... ; "?" out of range. */
const char *ctl_cmd_name(enum ctl_cmd c);

struct ctl_request {
	enum ctl_cmd cmd;
	char device[CTL_NAME_MAX];	/* "" when not given */
	char proto[CTL_NAME_MAX];	/* flows: "" when not given */
	bool start;			/* learn: start (true) or stop */
	uint32_t for_s;			/* quarantine: seconds; 0 until released */
	uint32_t lines;			/* alerts, flows: how many at most */
	bool follow;			/* alerts: then stream new ones */
};

/*
 * Parse one request (LEN bytes, without its newline): a JSON object with
 * "cmd" and that command's arguments, each checked for type and range;
 * unknown commands and keys are errors.  0, or -EINVAL with a message for
 * the client in ERR.
 */
int ctl_request_parse(const char *line, size_t len, struct ctl_request *r,
		      char *err, size_t err_len);

struct ctl_server;
struct ctl_client;
struct jbuf;
struct ring;

/*
 * Answer R into REPLY: one JSON object, {"ok":true,...} or
 * {"ok":false,"error":"..."}, without the newline.  The handler may make the
 * client follow a ring (ctl_client_follow) after this reply.
 */
typedef void ctl_handler_fn(void *ctx, struct ctl_client *c,
			    const struct ctl_request *r, struct jbuf *reply);

struct ctl_server_config {
	const char *path;	/* the socket */
	const char *group;	/* NULL: mode 0600; else 0660 and this group */
	unsigned max_clients;	/* 0: 16 */
};

/*
 * Create and listen.  A stale socket left by a dead daemon is replaced;
 * one a live daemon answers on is not (-EADDRINUSE), nor is a file that is
 * not a socket (-EEXIST).  NULL with *ERR = -errno, and WHY (if not NULL)
 * saying what failed.
 */
struct ctl_server *ctl_server_new(const struct ctl_server_config *cfg,
				  ctl_handler_fn *handler, void *ctx, int *err,
				  const char **why);
/* Closes every client and removes the socket file.  NULL is a no-op. */
void ctl_server_free(struct ctl_server *s);

/* The descriptors to poll (the listener, then the clients) into PFD, at
 * most MAX; returns how many. */
size_t ctl_server_pollfds(struct ctl_server *s, struct pollfd *pfd, size_t max);
/* After poll(): PFD as filled by ctl_server_pollfds, with revents. */
void ctl_server_handle(struct ctl_server *s, const struct pollfd *pfd, size_t n);
/* Once a second: closes idle clients. */
void ctl_server_tick(struct ctl_server *s);
/* New records in a ring that clients follow: send them. */
void ctl_server_feed(struct ctl_server *s);

/* After the reply, send C every record of R from sequence SINCE on (each a
 * line of text), as they come, until it disconnects. */
void ctl_client_follow(struct ctl_client *c, struct ring *r, uint64_t since);
/* The peer's user id (SO_PEERCRED), for messages and logs. */
unsigned ctl_client_uid(const struct ctl_client *c);

struct ctl_server_stats {
	uint64_t accepted, refused_peer, refused_full, requests, bad_requests,
		 too_long, idle_closed, overrun_closed, clients;
};
void ctl_server_stats(const struct ctl_server *s, struct ctl_server_stats *st);

#endif
