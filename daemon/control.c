/* control.c - the control socket: request parser and server. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <math.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/control.h"
#include "daemon/json.h"
#include "daemon/ring.h"

/* ---- requests ----------------------------------------------------------- */

enum ctl_key {
	K_DEVICE = 1 << 0,
	K_PROTO = 1 << 1,
	K_ACTION = 1 << 2,
	K_FOR = 1 << 3,
	K_LINES = 1 << 4,
	K_FOLLOW = 1 << 5,
};

/* What each command takes: the keys it accepts, and those it requires. */
static const struct {
	const char *name;
	unsigned keys, required;
} commands[__CTL_CMD_MAX] = {
	[CTL_STATUS] = { "status", 0, 0 },
	[CTL_DEVICES] = { "devices", K_DEVICE, 0 },
	[CTL_FLOWS] = { "flows", K_DEVICE | K_PROTO | K_LINES, 0 },
	[CTL_ALERTS] = { "alerts", K_LINES | K_FOLLOW, 0 },
	[CTL_RELOAD] = { "reload", 0, 0 },
	[CTL_QUARANTINE] = { "quarantine", K_DEVICE | K_FOR, K_DEVICE },
	[CTL_RELEASE] = { "release", K_DEVICE, K_DEVICE },
	[CTL_LEARN] = { "learn", K_ACTION | K_DEVICE, K_ACTION },
	[CTL_EXPORT] = { "export", K_DEVICE, 0 },
	[CTL_METRICS] = { "metrics", 0, 0 },
};

static const struct {
	const char *name;
	unsigned bit;
	enum json_type type;
} keys[] = {
	{ "device", K_DEVICE, JSON_STRING },
	{ "proto", K_PROTO, JSON_STRING },
	{ "action", K_ACTION, JSON_STRING },
	{ "for", K_FOR, JSON_NUMBER },
	{ "lines", K_LINES, JSON_NUMBER },
	{ "follow", K_FOLLOW, JSON_BOOL },
};

#define LINES_MAX	10000
#define FOR_MAX		(366u * 86400)	/* a year */

const char *ctl_cmd_name(enum ctl_cmd c)
{
	return (unsigned)c < __CTL_CMD_MAX ? commands[c].name : "?";
}

static int __attribute__((format(printf, 3, 4)))
bad(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A name the daemon will print and compare: printable ASCII, no quote or
 * backslash worries for the client's terminal. */
static int name_arg(const struct json_value *v, const char *key, char *out,
		    char *err, size_t n)
{
	size_t i;

	if (!v->len || v->len >= CTL_NAME_MAX)
		return bad(err, n, "'%s' must be 1 to 63 characters", key);
	for (i = 0; i < v->len; i++)
		if (v->str[i] <= ' ' || v->str[i] > '~')
			return bad(err, n, "'%s' may hold only printable ASCII "
				   "without spaces", key);
	memcpy(out, v->str, v->len + 1);
	return 0;
}

static int count_arg(const struct json_value *v, const char *key, double max,
		     uint32_t *out, char *err, size_t n)
{
	if (!(v->num >= 0 && v->num <= max) || v->num != floor(v->num))
		return bad(err, n, "'%s' must be a whole number from 0 to %.0f", key, max);
	*out = (uint32_t)v->num;
	return 0;
}

static int apply_key(const struct json_value *v, const char *key, unsigned bit,
		     struct ctl_request *r, char *err, size_t n)
{
	switch (bit) {
	case K_DEVICE:
		return name_arg(v, key, r->device, err, n);
	case K_PROTO:
		return name_arg(v, key, r->proto, err, n);
	case K_ACTION:
		if (!strcmp(v->str, "start") || !strcmp(v->str, "stop")) {
			r->start = !strcmp(v->str, "start");
			return 0;
		}
		return bad(err, n, "'%s' must be \"start\" or \"stop\"", key);
	case K_FOR:
		return count_arg(v, key, FOR_MAX, &r->for_s, err, n);
	case K_LINES:
		return count_arg(v, key, LINES_MAX, &r->lines, err, n);
	case K_FOLLOW:
		r->follow = v->b;
		return 0;
	}
	return bad(err, n, "internal error at '%s'", key);
}

static int parse_args(const struct json_value *o, struct ctl_request *r,
		      char *err, size_t n)
{
	unsigned seen = 0;
	size_t i, k;
	int rc;

	for (i = 0; i < o->n; i++) {
		const char *key = o->keys[i];

		if (!strcmp(key, "cmd"))
			continue;
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!strcmp(key, keys[k].name))
				break;
		if (k == sizeof(keys) / sizeof(keys[0]) ||
		    !(commands[r->cmd].keys & keys[k].bit))
			return bad(err, n, "'%s' takes no argument '%.63s'",
				   commands[r->cmd].name, key);
		if (o->items[i].type != keys[k].type)
			return bad(err, n, "'%s' must be a %s", key,
				   json_type_name(keys[k].type));
		if ((rc = apply_key(&o->items[i], key, keys[k].bit, r, err, n)) < 0)
			return rc;
		seen |= keys[k].bit;
	}
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if ((commands[r->cmd].required & keys[k].bit) && !(seen & keys[k].bit))
			return bad(err, n, "'%s' needs '%s'", commands[r->cmd].name,
				   keys[k].name);
	return 0;
}

int ctl_request_parse(const char *line, size_t len, struct ctl_request *r,
		      char *err, size_t err_len)
{
	struct json_value *o;
	const struct json_value *cmd;
	char jerr[96];
	unsigned c;
	int rc;

	memset(r, 0, sizeof(*r));
	r->lines = 20;
	if (len > CTL_REQUEST_MAX)
		return bad(err, err_len, "request longer than %u bytes", CTL_REQUEST_MAX);
	/* Objects only, so depth 1; an argument that is an array or object
	 * fails there rather than being built and refused. */
	o = json_parse(line, len, 1, jerr, sizeof(jerr));
	if (!o)
		return bad(err, err_len, "bad JSON: %s", errno == ENOMEM ? "out of memory" : jerr);
	if (o->type != JSON_OBJECT) {
		json_value_free(o);
		return bad(err, err_len, "a request is a JSON object with \"cmd\"");
	}
	cmd = json_get(o, "cmd");
	if (!cmd || cmd->type != JSON_STRING) {
		json_value_free(o);
		return bad(err, err_len, "no \"cmd\" string");
	}
	for (c = 0; c < __CTL_CMD_MAX; c++)
		if (!strcmp(cmd->str, commands[c].name))
			break;
	if (c == __CTL_CMD_MAX) {
		rc = bad(err, err_len, "unknown command '%.63s'", cmd->str);
		json_value_free(o);
		return rc;
	}
	r->cmd = (enum ctl_cmd)c;
	if (c == CTL_FLOWS)
		r->lines = 50;
	rc = parse_args(o, r, err, err_len);
	json_value_free(o);
	return rc;
}

/* ---- server ------------------------------------------------------------- */

struct ctl_client {
	struct ctl_server *srv;
	int fd;
	unsigned uid;
	char in[CTL_REQUEST_MAX + 1];
	size_t in_len;
	bool discarding;	/* the rest of an over-long line */
	char *out;
	size_t out_len, out_off, out_cap;
	bool closing;		/* close once the output is sent */
	struct ring *follow;
	uint64_t follow_seq;
	uint64_t last_ms;
};

struct ctl_server {
	int fd;
	char *path;
	gid_t gid;
	bool has_group;
	unsigned max_clients;
	struct ctl_client **clients;
	unsigned n_clients;
	ctl_handler_fn *handler;
	void *ctx;
	struct jbuf reply;
	struct ctl_server_stats st;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Is there a live server on PATH?  A refused connection means a socket file
 * left by a process that is gone. */
static bool someone_listens(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return live;
}

static int listen_on(struct ctl_server *s, const char **why)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int rc;

	if (strlen(s->path) >= sizeof(sa.sun_path)) {
		*why = "the socket path is too long";
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
	if (lstat(s->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			*why = "a file that is not a socket is in the way";
			return -EEXIST;
		}
		if (someone_listens(&sa)) {
			*why = "another daemon answers on it";
			return -EADDRINUSE;
		}
		if (unlink(s->path) < 0) {
			*why = "cannot remove the stale socket";
			return -errno;
		}
	}
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		*why = "socket";
		return -errno;
	}
	/* Born with its final mode: no window in which others may connect. */
	old = umask(s->has_group ? 0117 : 0177);
	rc = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0) {
		*why = "bind";
		return -errno;
	}
	if (s->has_group && chown(s->path, (uid_t)-1, s->gid) < 0) {
		*why = "cannot give the socket its group";
		rc = -errno;
		unlink(s->path);
		return rc;
	}
	if (listen(s->fd, 16) < 0) {
		*why = "listen";
		rc = -errno;
		unlink(s->path);
		return rc;
	}
	return 0;
}

struct ctl_server *ctl_server_new(const struct ctl_server_config *cfg,
				  ctl_handler_fn *handler, void *ctx, int *err,
				  const char **why)
{
	struct ctl_server *s;
	const char *dummy;
	int rc = -ENOMEM;

	if (!why)
		why = &dummy;
	*why = "out of memory";
	if (!cfg || !cfg->path || !*cfg->path || !handler) {
		*why = "no socket path";
		*err = -EINVAL;
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto fail;
	s->fd = -1;
	s->handler = handler;
	s->ctx = ctx;
	s->max_clients = cfg->max_clients ? cfg->max_clients : 16;
	jbuf_init(&s->reply);
	s->path = strdup(cfg->path);
	s->clients = calloc(s->max_clients, sizeof(*s->clients));
	if (!s->path || !s->clients)
		goto fail_free;
	if (cfg->group) {
		struct group *g = getgrnam(cfg->group);

		if (!g) {
			*why = "no such group";
			rc = -ENOENT;
			goto fail_free;
		}
		s->gid = g->gr_gid;
		s->has_group = true;
	}
	rc = listen_on(s, why);
	if (rc < 0)
		goto fail_free;
	*err = 0;
	return s;
fail_free:
	if (s->fd >= 0)
		close(s->fd);
	free(s->clients);
	free(s->path);
	free(s);
fail:
	*err = rc;
	errno = -rc;
	return NULL;
}

static void client_close(struct ctl_server *s, unsigned i)
{
	struct ctl_client *c = s->clients[i];

	close(c->fd);
	free(c->out);
	free(c);
	s->clients[i] = s->clients[--s->n_clients];
}

void ctl_server_free(struct ctl_server *s)
{
	if (!s)
		return;
	while (s->n_clients)
		client_close(s, 0);
	if (s->fd >= 0) {
		close(s->fd);
		unlink(s->path);
	}
	jbuf_free(&s->reply);
	free(s->clients);
	free(s->path);
	free(s);
}

/* Queue LEN bytes and a newline; false when the client is past its cap
 * (it is then closed without more output) or memory ran out. */
static bool client_queue(struct ctl_client *c, const char *p, size_t len)
{
	size_t pending, need, ncap;
	char *np;

	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	pending = c->out_len - c->out_off;
	if (pending + len + 1 > CTL_OUT_MAX)
		return false;
	if (c->out_off && c->out_len + len + 1 > c->out_cap) {
		/* slide what is left to the front before growing */
		memmove(c->out, c->out + c->out_off, pending);
		c->out_len = pending;
		c->out_off = 0;
	}
	need = c->out_len + len + 1;
	if (need > c->out_cap) {
		for (ncap = c->out_cap ? c->out_cap : 4096; ncap < need; ncap *= 2)
			;
		np = realloc(c->out, ncap);
		if (!np)
			return false;
		c->out = np;
		c->out_cap = ncap;
	}
	memcpy(c->out + c->out_len, p, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	return true;
}

static void error_reply(struct jbuf *j, const char *msg)
{
	jbuf_reset(j);
	json_begin(j);
	json_bool(j, "ok", false);
	json_str(j, "error", msg);
	json_end(j);
}

/* Is the peer allowed: root, our own user, or the socket's group (its
 * primary group or a supplementary one)? */
static bool peer_allowed(const struct ctl_server *s, const struct ucred *cr)
{
	struct passwd *pw;
	gid_t groups[256];
	int n = 256, i;

	if (cr->uid == 0 || cr->uid == geteuid())
		return true;
	if (!s->has_group)
		return false;
	if (cr->gid == s->gid)
		return true;
	pw = getpwuid(cr->uid);
	if (!pw || getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (i = 0; i < n; i++)
		if (groups[i] == s->gid)
			return true;
	return false;
}

static void accept_one(struct ctl_server *s)
{
	struct ucred cr;
	socklen_t crl = sizeof(cr);
	struct ctl_client *c;
	char msg[128];
	int fd;

	fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	s->st.accepted++;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0 ||
	    !peer_allowed(s, &cr)) {
		snprintf(msg, sizeof(msg), "permission denied: uid %u may not "
			 "use this socket", crl == sizeof(cr) ? (unsigned)cr.uid : 0u);
		s->st.refused_peer++;
		goto refuse;
	}
	if (s->n_clients == s->max_clients) {
		snprintf(msg, sizeof(msg), "too many clients (%u); try again later",
			 s->max_clients);
		s->st.refused_full++;
		goto refuse;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(msg, sizeof(msg), "out of memory");
		goto refuse;
	}
	c->srv = s;
	c->fd = fd;
	c->uid = (unsigned)cr.uid;
	c->last_ms = mono_ms();
	s->clients[s->n_clients++] = c;
	return;
refuse:
	/* One line, best effort: the socket is new, its buffer empty. */
	error_reply(&s->reply, msg);
	if (jbuf_ok(&s->reply) && s->reply.len < sizeof(msg) * 2) {
		s->reply.p[s->reply.len] = '\n';
		(void)!write(fd, s->reply.p, s->reply.len + 1);
	}
	close(fd);
}

static void answer(struct ctl_server *s, struct ctl_client *c, const char *line,
		   size_t len)
{
	struct ctl_request r;
	char err[256];

	s->st.requests++;
	jbuf_reset(&s->reply);
	if (ctl_request_parse(line, len, &r, err, sizeof(err)) < 0) {
		s->st.bad_requests++;
		error_reply(&s->reply, err);
	} else {
		s->handler(s->ctx, c, &r, &s->reply);
	}
	if (!jbuf_ok(&s->reply))
		error_reply(&s->reply, "out of memory");
	if (!jbuf_ok(&s->reply) || !client_queue(c, s->reply.p, s->reply.len)) {
		s->st.overrun_closed++;
		c->closing = true;
		c->out_len = c->out_off = 0;
	}
}

/* Read what the client sent; answer each whole line.  false: close it. */
static bool client_read(struct ctl_server *s, struct ctl_client *c)
{
	ssize_t n;
	char *nl;

	for (;;) {
		n = read(c->fd, c->in + c->in_len, CTL_REQUEST_MAX + 1 - c->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN;
		if (n == 0)
			return false;
		c->last_ms = mono_ms();
		c->in_len += (size_t)n;
		while ((nl = memchr(c->in, '\n', c->in_len))) {
			size_t len = (size_t)(nl - c->in);

			if (c->discarding) {
				c->discarding = false;
			} else if (!c->follow && !c->closing) {
				/* one request per line; a following client
				 * only listens */
				answer(s, c, c->in, len && c->in[len - 1] == '\r' ? len - 1 : len);
			}
			memmove(c->in, nl + 1, c->in_len - len - 1);
			c->in_len -= len + 1;
		}
		if (c->in_len > CTL_REQUEST_MAX) {
			/* A line too long for any request: say so once, and
			 * skip to its end. */
			if (!c->discarding && !c->follow) {
				s->st.too_long++;
				jbuf_reset(&s->reply);
				error_reply(&s->reply, "request longer than 4096 bytes");
				if (jbuf_ok(&s->reply))
					(void)client_queue(c, s->reply.p, s->reply.len);
			}
			c->discarding = true;
			c->in_len = 0;
		}
	}
}

/* Send what is pending.  false: close it. */
static bool client_write(struct ctl_client *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN;
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return !c->closing;
}

size_t ctl_server_pollfds(struct ctl_server *s, struct pollfd *pfd, size_t max)
{
	size_t n = 0;
	unsigned i;

	if (!max)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = s->fd, .events = POLLIN };
	for (i = 0; i < s->n_clients && n < max; i++) {
		struct ctl_client *c = s->clients[i];

		pfd[n++] = (struct pollfd){
			.fd = c->fd,
			.events = (short)(POLLIN | (c->out_off < c->out_len ? POLLOUT : 0)),
		};
	}
	return n;
}

static int client_index(const struct ctl_server *s, int fd)
{
	unsigned i;

	for (i = 0; i < s->n_clients; i++)
		if (s->clients[i]->fd == fd)
			return (int)i;
	return -1;
}

void ctl_server_handle(struct ctl_server *s, const struct pollfd *pfd, size_t n)
{
	size_t k;
	int i;

	for (k = 1; k < n; k++) {
		struct ctl_client *c;
		bool keep = true;

		if (!pfd[k].revents || (i = client_index(s, pfd[k].fd)) < 0)
			continue;
		c = s->clients[i];
		if (pfd[k].revents & POLLIN)
			keep = client_read(s, c);
		else if (pfd[k].revents & (POLLERR | POLLHUP | POLLNVAL))
			keep = false;
		/* Try to send at once: most replies fit the socket buffer. */
		if (keep)
			keep = client_write(c);
		if (!keep)
			client_close(s, (unsigned)i);
	}
	if (n && (pfd[0].revents & POLLIN))
		accept_one(s);
}

void ctl_server_tick(struct ctl_server *s)
{
	uint64_t now_ms = mono_ms();
	unsigned i = 0;

	while (i < s->n_clients) {
		struct ctl_client *c = s->clients[i];

		if (!c->follow && c->out_off == c->out_len &&
		    now_ms - c->last_ms > CTL_IDLE_S * 1000) {
			s->st.idle_closed++;
			client_close(s, i);
			continue;
		}
		i++;
	}
}

static void feed_line(void *ctx, uint64_t seq, const void *p, size_t len)
{
	struct ctl_client *c = ctx;

	(void)seq;
	if (!c->closing && !client_queue(c, p, len)) {
		/* It does not read: stop feeding it rather than grow. */
		c->srv->st.overrun_closed++;
		c->closing = true;
	}
}

void ctl_server_feed(struct ctl_server *s)
{
	unsigned i = 0;

	while (i < s->n_clients) {
		struct ctl_client *c = s->clients[i];

		if (c->follow) {
			c->follow_seq = ring_read(c->follow, c->follow_seq, feed_line, c, NULL);
			if (!client_write(c)) {
				client_close(s, i);
				continue;
			}
		}
		i++;
	}
}

void ctl_client_follow(struct ctl_client *c, struct ring *r, uint64_t since)
{
	c->follow = r;
	c->follow_seq = since;
}

unsigned ctl_client_uid(const struct ctl_client *c)
{
	return c->uid;
}

void ctl_server_stats(const struct ctl_server *s, struct ctl_server_stats *st)
{
	*st = s->st;
	st->clients = s->n_clients;
}
