/* log.c - stderr or syslog.  The only mutable state is the sink choice,
 * set once at start-up by main(). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "daemon/log.h"

static struct {
	bool to_stderr;
	bool debug;
} log_cfg = { true, false };

void log_init(bool to_stderr, bool debug, const char *ident)
{
	log_cfg.to_stderr = to_stderr;
	log_cfg.debug = debug;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void vlog(int pri, const char *err, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_cfg.to_stderr) {
		if (err)
			fprintf(stderr, "iotjaild: %s: %s\n", msg, err);
		else
			fprintf(stderr, "iotjaild: %s\n", msg);
	} else if (err) {
		syslog(pri, "%s: %s", msg, err);
	} else {
		syslog(pri, "%s", msg);
	}
}

#define LOGFN(name, pri, with_err)                                      \
	void name(const char *fmt, ...)                                 \
	{                                                               \
		const char *e = with_err ? strerror(errno) : NULL;      \
		va_list ap;                                             \
                                                                        \
		va_start(ap, fmt);                                      \
		vlog(pri, e, fmt, ap);                                  \
		va_end(ap);                                             \
	}

LOGFN(log_warn, LOG_WARNING, 1)
LOGFN(log_warnx, LOG_WARNING, 0)
LOGFN(log_info, LOG_INFO, 0)

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_cfg.debug)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	const char *e = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, e, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
