/* log.h - the operations log (OpenBSD style).
 *
 * log_warn() appends strerror(errno), log_warnx() does not; fatal() and
 * fatalx() log and exit(1).  Messages go to stderr in the foreground and to
 * syslog (facility daemon) otherwise.  Alerts are a separate stream.
 */
#ifndef IOTJAIL_LOG_H
#define IOTJAIL_LOG_H

#include <stdbool.h>

void log_init(bool to_stderr, bool debug, const char *ident);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif
