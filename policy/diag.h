/*
 * diag: collects the errors and warnings of one policy file.  The public
 * half (count, print, get, free) is declared in policy.h; this header is the
 * loader's half.  Each message keeps a copy of its source line, so a diag
 * outlives the buffer and the policy it was made for.
 */
#ifndef IOTJAIL_POLICY_DIAG_H
#define IOTJAIL_POLICY_DIAG_H

#include <stdarg.h>
#include <stddef.h>

#include "policy/policy.h"

/* file is copied; buf (may be NULL) is only read during diag_add(). */
struct policy_diag *diag_new(const char *file);
void diag_set_source(struct policy_diag *d, const char *buf, size_t len);
/*
 * line and col are 1-based (0: no position); width is the number of
 * characters to underline, 0 meaning "to the end of the line".  Failing to
 * allocate loses the message but is remembered: the error count stays right.
 */
void diag_add(struct policy_diag *d, enum policy_severity sev, unsigned line,
	      unsigned col, unsigned width, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void diag_vadd(struct policy_diag *d, enum policy_severity sev, unsigned line,
	       unsigned col, unsigned width, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));
/* Sort by position (stable), once loading is done. */
void diag_sort(struct policy_diag *d);

#endif
