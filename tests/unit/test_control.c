/* test_control.c - the control socket: JSON reader, request parser, server. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/control.h"
#include "daemon/json.h"
#include "daemon/ring.h"

/* ---- JSON reader ---------------------------------------------------------- */

static struct json_value *parse(const char *s, char *err)
{
	return json_parse(s, strlen(s), 8, err, 128);
}

static void test_json_values(void **state)
{
	char err[128];
	struct json_value *v;

	(void)state;
	v = parse(" {\"a\": [1, -2.5e2, true, false, null, \"x\\u00e9\\ud83d\\ude00\\n\"],"
		  " \"b\": {}} ", err);
	assert_non_null(v);
	assert_int_equal(v->type, JSON_OBJECT);
	assert_int_equal(v->n, 2);
	assert_string_equal(v->keys[0], "a");
	assert_int_equal(json_get(v, "a")->n, 6);
	assert_true(json_get(v, "a")->items[0].num == 1);
	assert_true(json_get(v, "a")->items[1].num == -250);
	assert_true(json_get(v, "a")->items[2].b);
	assert_int_equal(json_get(v, "a")->items[4].type, JSON_NULL);
	/* U+00E9 and U+1F600 in UTF-8, then a newline */
	assert_string_equal(json_get(v, "a")->items[5].str, "x\xc3\xa9\xf0\x9f\x98\x80\n");
	assert_int_equal(json_get(v, "b")->type, JSON_OBJECT);
	assert_null(json_get(v, "c"));
	assert_string_equal(json_get_str(v, "c", "def"), "def");
	assert_true(json_get_num(v, "a", 7) == 7);	/* not a number */
	json_value_free(v);
	/* not NUL-terminated: only LEN bytes count */
	v = json_parse("[1]xyz", 3, 8, err, sizeof(err));
	assert_non_null(v);
	json_value_free(v);
}

static void test_json_errors(void **state)
{
	static const struct {
		const char *in, *err;
	} bad[] = {
		{ "", "offset 0: expected a value" },
		{ "{\"a\":1,}", "offset 7: expected a key string" },
		{ "[1,]", "offset 3: unexpected character" },
		{ "{\"a\" 1}", "offset 5: expected ':'" },
		{ "{\"a\":1,\"a\":2}", "offset 10: duplicate key" },
		{ "\"abc", "offset 4: unterminated string" },
		{ "\"a\x01\"", "offset 2: control character in a string" },
		{ "\"\\x\"", "offset 2: bad escape" },
		{ "\"\\u00\"", "offset 3: bad \\u escape" },
		{ "\"\\u0000\"", "offset 7: NUL in a string" },
		{ "\"\\udc00\"", "offset 7: lone low surrogate" },
		{ "\"\\ud800x\"", "offset 7: high surrogate without its low half" },
		{ "01", "offset 1: text after the value" },
		{ "1.", "offset 2: bad number" },
		{ "-", "offset 1: bad number" },
		{ "tru", "offset 0: unexpected character" },
		{ "[[[[[[[[[1]]]]]]]]]", "offset 8: nested too deep" },
		{ "{} {}", "offset 3: text after the value" },
		{ "/* c */ {}", "offset 0: unexpected character" },
	};
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_null(json_parse(bad[i].in, strlen(bad[i].in), 8, err, sizeof(err)));
		assert_int_equal(errno, EINVAL);
		if (strcmp(err, bad[i].err))
			fail_msg("'%s': got '%s', want '%s'", bad[i].in, err, bad[i].err);
	}
}

/* ---- requests ------------------------------------------------------------- */

static void test_request_ok(void **state)
{
	struct ctl_request r;
	char err[256];

	(void)state;
#define PARSE(s) ctl_request_parse(s, strlen(s), &r, err, sizeof(err))
	assert_int_equal(PARSE("{\"cmd\":\"status\"}"), 0);
	assert_int_equal(r.cmd, CTL_STATUS);
	assert_int_equal(PARSE("{\"cmd\":\"alerts\"}"), 0);
	assert_int_equal(r.lines, 20);
	assert_false(r.follow);
	assert_int_equal(PARSE(" { \"follow\" : true , \"cmd\" : \"alerts\", \"lines\": 0 } "), 0);
	assert_int_equal(r.cmd, CTL_ALERTS);
	assert_true(r.follow);
	assert_int_equal(r.lines, 0);
	assert_int_equal(PARSE("{\"cmd\":\"flows\",\"device\":\"cam\",\"proto\":\"DNS\"}"), 0);
	assert_int_equal(r.lines, 50);
	assert_string_equal(r.device, "cam");
	assert_string_equal(r.proto, "DNS");
	assert_int_equal(PARSE("{\"cmd\":\"quarantine\",\"device\":\"02:00:00:00:50:10\",\"for\":3600}"), 0);
	assert_int_equal(r.cmd, CTL_QUARANTINE);
	assert_int_equal(r.for_s, 3600);
	assert_int_equal(PARSE("{\"cmd\":\"learn\",\"action\":\"stop\",\"device\":\"cam\"}"), 0);
	assert_int_equal(r.cmd, CTL_LEARN);
	assert_false(r.start);
	assert_int_equal(PARSE("{\"cmd\":\"learn\",\"action\":\"start\"}"), 0);
	assert_true(r.start);
	assert_string_equal(r.device, "");
	assert_int_equal(PARSE("{\"cmd\":\"metrics\"}"), 0);
	assert_string_equal(ctl_cmd_name(r.cmd), "metrics");
	assert_string_equal(ctl_cmd_name(__CTL_CMD_MAX), "?");
}

static void test_request_errors(void **state)
{
	static const struct {
		const char *in, *err;
	} bad[] = {
		{ "status", "bad JSON: offset 0: unexpected character" },
		{ "[\"status\"]", "a request is a JSON object with \"cmd\"" },
		{ "{}", "no \"cmd\" string" },
		{ "{\"cmd\":3}", "no \"cmd\" string" },
		{ "{\"cmd\":\"shutdown\"}", "unknown command 'shutdown'" },
		{ "{\"cmd\":\"status\",\"device\":\"cam\"}", "'status' takes no argument 'device'" },
		{ "{\"cmd\":\"flows\",\"colour\":1}", "'flows' takes no argument 'colour'" },
		{ "{\"cmd\":\"flows\",\"lines\":\"5\"}", "'lines' must be a number" },
		{ "{\"cmd\":\"flows\",\"lines\":2.5}", "'lines' must be a whole number from 0 to 10000" },
		{ "{\"cmd\":\"flows\",\"lines\":10001}", "'lines' must be a whole number from 0 to 10000" },
		{ "{\"cmd\":\"quarantine\"}", "'quarantine' needs 'device'" },
		{ "{\"cmd\":\"quarantine\",\"device\":\"cam\",\"for\":-1}",
		  "'for' must be a whole number from 0 to 31622400" },
		{ "{\"cmd\":\"learn\"}", "'learn' needs 'action'" },
		{ "{\"cmd\":\"learn\",\"action\":\"pause\"}", "'action' must be \"start\" or \"stop\"" },
		{ "{\"cmd\":\"release\",\"device\":\"\"}", "'device' must be 1 to 63 characters" },
		{ "{\"cmd\":\"release\",\"device\":\"a b\"}",
		  "'device' may hold only printable ASCII without spaces" },
		{ "{\"cmd\":\"release\",\"device\":\"caf\\u00e9\"}",
		  "'device' may hold only printable ASCII without spaces" },
		{ "{\"cmd\":\"release\",\"device\":\"0123456789012345678901234567890123456789012345678901234567890123\"}",
		  "'device' must be 1 to 63 characters" },
		{ "{\"cmd\":\"status\",\"x\":{\"y\":1}}", "bad JSON: offset 20: nested too deep" },
		{ "{\"cmd\":\"alerts\",\"follow\":1}", "'follow' must be a boolean" },
	};
	struct ctl_request r;
	char err[256], big[CTL_REQUEST_MAX + 2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ctl_request_parse(bad[i].in, strlen(bad[i].in), &r, err,
						   sizeof(err)), -EINVAL);
		if (strcmp(err, bad[i].err))
			fail_msg("'%s': got '%s', want '%s'", bad[i].in, err, bad[i].err);
	}
	memset(big, ' ', sizeof(big));
	assert_int_equal(ctl_request_parse(big, sizeof(big), &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "request longer than 4096 bytes");
}

/* ---- the ring ------------------------------------------------------------- */

struct seen {
	uint64_t seqs[16];
	char text[16][8];
	unsigned n;
};

static void saw(void *ctx, uint64_t seq, const void *p, size_t len)
{
	struct seen *s = ctx;

	s->seqs[s->n] = seq;
	memcpy(s->text[s->n], p, len < 7 ? len : 7);
	s->text[s->n][len < 7 ? len : 7] = '\0';
	s->n++;
}

static void test_ring(void **state)
{
	struct ring *r = ring_new(3, true);
	struct seen s = { 0 };
	uint64_t next, missed;
	struct pollfd pfd;
	char word[16];
	int i;

	(void)state;
	assert_non_null(r);
	pfd = (struct pollfd){ .fd = ring_fd(r), .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 0), 0);
	for (i = 0; i < 5; i++) {
		snprintf(word, sizeof(word), "r%d", i);
		assert_int_equal(ring_push(r, word, strlen(word)), 0);
	}
	assert_int_equal(poll(&pfd, 1, 0), 1);
	ring_fd_clear(r);
	assert_int_equal(poll(&pfd, 1, 0), 0);
	assert_int_equal(ring_next(r), 5);
	/* records 0 and 1 are gone: the reader is told */
	next = ring_read(r, 0, saw, &s, &missed);
	assert_int_equal(next, 5);
	assert_int_equal(missed, 2);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.seqs[0], 2);
	assert_string_equal(s.text[0], "r2");
	assert_string_equal(s.text[2], "r4");
	/* from where it left off: nothing new; a longer record grows its slot */
	s.n = 0;
	assert_int_equal(ring_read(r, next, saw, &s, &missed), 5);
	assert_int_equal(s.n, 0);
	assert_int_equal(missed, 0);
	assert_int_equal(ring_push(r, "longer!", 7), 0);
	assert_int_equal(ring_read(r, next, saw, &s, NULL), 6);
	assert_string_equal(s.text[0], "longer!");
	/* a sequence from the future reads nothing */
	s.n = 0;
	assert_int_equal(ring_read(r, 100, saw, &s, &missed), 6);
	assert_int_equal(s.n, 0);
	ring_free(r);
	ring_free(NULL);
	assert_null(ring_new(0, false));
	r = ring_new(1, false);
	assert_int_equal(ring_fd(r), -1);
	ring_free(r);
}

/* ---- the server ----------------------------------------------------------- */

struct fixture {
	char dir[64], path[96];
	struct ctl_server *s;
	struct ring *ring;
	unsigned handled;
};

static void handler(void *ctx, struct ctl_client *c, const struct ctl_request *r,
		    struct jbuf *reply)
{
	struct fixture *fx = ctx;

	fx->handled++;
	json_begin(reply);
	json_bool(reply, "ok", true);
	json_str(reply, "cmd", ctl_cmd_name(r->cmd));
	json_str(reply, "device", r->device);
	json_end(reply);
	if (r->cmd == CTL_ALERTS && r->follow)
		ctl_client_follow(c, fx->ring, ring_next(fx->ring));
}

/* One turn of the daemon's loop, without waiting. */
static void turn(struct fixture *fx)
{
	struct pollfd pfd[32];
	size_t n = ctl_server_pollfds(fx->s, pfd, 32);

	assert_true(poll(pfd, n, 50) >= 0);
	ctl_server_handle(fx->s, pfd, n);
}

static int client(const struct fixture *fx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fx->path);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void say(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* The server's next line to FD (turning its loop meanwhile). */
static void reply_of(struct fixture *fx, int fd, char *buf, size_t n)
{
	size_t got = 0;
	int i;

	for (i = 0; i < 40 && (!got || buf[got - 1] != '\n'); i++) {
		ssize_t k;

		turn(fx);
		k = recv(fd, buf + got, n - 1 - got, MSG_DONTWAIT);
		if (k > 0)
			got += (size_t)k;
		if (k == 0)
			break;
	}
	buf[got] = '\0';
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct ctl_server_config cfg = { .max_clients = 3 };
	const char *why;
	int err;

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/iotjail-ctl.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/sock", fx->dir);
	cfg.path = fx->path;
	fx->ring = ring_new(8, true);
	fx->s = ctl_server_new(&cfg, handler, fx, &err, &why);
	assert_non_null(fx->s);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	ctl_server_free(fx->s);
	ring_free(fx->ring);
	assert_int_equal(access(fx->path, F_OK), -1);	/* removed */
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void test_server_requests(void **state)
{
	struct fixture *fx = *state;
	struct stat st;
	char buf[8192];
	int fd;

	assert_int_equal(stat(fx->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	fd = client(fx);
	/* two requests in one write, the second split by a CR LF ending */
	say(fd, "{\"cmd\":\"status\"}\n{\"cmd\":\"devices\",");
	reply_of(fx, fd, buf, sizeof(buf));
	assert_string_equal(buf, "{\"ok\":true,\"cmd\":\"status\",\"device\":\"\"}\n");
	say(fd, "\"device\":\"cam\"}\r\n");
	reply_of(fx, fd, buf, sizeof(buf));
	assert_string_equal(buf, "{\"ok\":true,\"cmd\":\"devices\",\"device\":\"cam\"}\n");
	/* garbage: an error, and the connection still serves */
	say(fd, "\x01\xff\n");
	reply_of(fx, fd, buf, sizeof(buf));
	assert_string_equal(buf, "{\"ok\":false,\"error\":\"bad JSON: offset 0: unexpected character\"}\n");
	/* a line too long: one error, its rest ignored up to the newline */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(write(fd, buf, 6000), 6000);
	reply_of(fx, fd, buf, sizeof(buf));
	assert_string_equal(buf, "{\"ok\":false,\"error\":\"request longer than 4096 bytes\"}\n");
	say(fd, "yyy\n{\"cmd\":\"reload\"}\n");
	reply_of(fx, fd, buf, sizeof(buf));
	assert_string_equal(buf, "{\"ok\":true,\"cmd\":\"reload\",\"device\":\"\"}\n");
	assert_int_equal(fx->handled, 3);
	close(fd);
	turn(fx);
}

static void test_server_limits(void **state)
{
	struct fixture *fx = *state;
	struct ctl_server_stats st;
	char buf[512];
	int fd[4], i;

	for (i = 0; i < 4; i++) {
		fd[i] = client(fx);
		turn(fx);
	}
	/* the fourth is one too many (max_clients 3): told, then closed */
	reply_of(fx, fd[3], buf, sizeof(buf));
	assert_string_equal(buf, "{\"ok\":false,\"error\":\"too many clients (3); try again later\"}\n");
	assert_int_equal(recv(fd[3], buf, sizeof(buf), 0), 0);
	ctl_server_stats(fx->s, &st);
	assert_int_equal(st.clients, 3);
	assert_int_equal(st.refused_full, 1);
	/* one leaves: there is room again */
	close(fd[0]);
	turn(fx);
	fd[0] = client(fx);
	turn(fx);
	say(fd[0], "{\"cmd\":\"status\"}\n");
	reply_of(fx, fd[0], buf, sizeof(buf));
	assert_string_equal(buf, "{\"ok\":true,\"cmd\":\"status\",\"device\":\"\"}\n");
	for (i = 0; i < 4; i++)
		close(fd[i]);
	turn(fx);
	ctl_server_stats(fx->s, &st);
	assert_int_equal(st.clients, 0);
}

static void test_server_follow(void **state)
{
	struct fixture *fx = *state;
	char buf[512];
	int fd = client(fx);

	assert_int_equal(ring_push(fx->ring, "{\"old\":1}", 9), 0);
	say(fd, "{\"cmd\":\"alerts\",\"follow\":true}\n");
	reply_of(fx, fd, buf, sizeof(buf));
	assert_string_equal(buf, "{\"ok\":true,\"cmd\":\"alerts\",\"device\":\"\"}\n");
	/* what comes after the reply, line by line; not what was before */
	assert_int_equal(ring_push(fx->ring, "{\"a\":1}", 7), 0);
	assert_int_equal(ring_push(fx->ring, "{\"a\":2}", 7), 0);
	ctl_server_feed(fx->s);
	reply_of(fx, fd, buf, sizeof(buf));
	assert_string_equal(buf, "{\"a\":1}\n{\"a\":2}\n");
	/* a following client only listens */
	say(fd, "{\"cmd\":\"status\"}\n");
	turn(fx);
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	close(fd);
	turn(fx);
	ctl_server_feed(fx->s);
}

/* Another user, when the socket's mode would let it in: SO_PEERCRED still
 * turns it away.  Needs root (to become someone else). */
static void test_server_peer(void **state)
{
	struct fixture *fx = *state;
	char buf[512];
	pid_t pid;
	int status, i;

	if (geteuid() != 0)
		skip();
	assert_int_equal(chmod(fx->dir, 0755), 0);
	assert_int_equal(chmod(fx->path, 0666), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;
		ssize_t n;

		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		fd = client(fx);
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		_exit(strstr(buf, "permission denied: uid 65534 may not use this socket") ? 0 : 1);
	}
	for (i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++)
		turn(fx);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_server_stale_and_busy(void **state)
{
	struct fixture *fx = *state;
	struct ctl_server_config cfg = { .path = fx->path };
	char path2[100];
	const char *why;
	int err, fd;

	/* a live server on the path: refused */
	assert_null(ctl_server_new(&cfg, handler, fx, &err, &why));
	assert_int_equal(err, -EADDRINUSE);
	assert_string_equal(why, "another daemon answers on it");
	/* a regular file in the way: refused, left alone */
	snprintf(path2, sizeof(path2), "%s/file", fx->dir);
	fd = open(path2, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	cfg.path = path2;
	assert_null(ctl_server_new(&cfg, handler, fx, &err, &why));
	assert_int_equal(err, -EEXIST);
	assert_int_equal(access(path2, F_OK), 0);
	unlink(path2);
	/* a socket nobody listens on (a dead daemon's): replaced */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		struct ctl_server *s2;

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path2);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(fd);
		s2 = ctl_server_new(&cfg, handler, fx, &err, &why);
		assert_non_null(s2);
		ctl_server_free(s2);
		assert_int_equal(access(path2, F_OK), -1);
	}
	cfg.group = "no-such-group-here";
	assert_null(ctl_server_new(&cfg, handler, fx, &err, &why));
	assert_int_equal(err, -ENOENT);
	assert_string_equal(why, "no such group");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_values),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_request_ok),
		cmocka_unit_test(test_request_errors),
		cmocka_unit_test(test_ring),
		cmocka_unit_test_setup_teardown(test_server_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_stale_and_busy, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
