/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every tool's command line needs: the error line
 * "PROG: error: ...", and numbers, durations and times parsed strictly.
 * Each tool defines prog.
 */
#ifndef VS_TOOLS_COMMON_H
#define VS_TOOLS_COMMON_H

#include <stdint.h>

extern const char *prog;

/* "PROG: error: <message>\n" on standard error */
void error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "PROG: error: invalid WHAT: VALUE"; returns 2 (the usage exit status) */
int bad(const char *what, const char *value);

/* a whole number in [lo, hi] (decimal, 0x hex or 0 octal); 0 or -1 */
int unum(const char *s, unsigned long long lo, unsigned long long hi,
	 unsigned long long *v);
/* a signed decimal number in [lo, hi]; 0 or -1 */
int snum(const char *s, long long lo, long long hi, long long *v);
/* a number, fractions allowed, in [lo, hi]; 0 or -1 */
int fnum(const char *s, double lo, double hi, double *v);
/* milliseconds, fractions allowed (0 to 1e9), into nanoseconds */
int parse_ms(const char *s, uint64_t *ns);
/* "123.456" seconds, or a number with ns/us/ms/s, into nanoseconds */
int parse_time(const char *s, uint64_t *ns);

/* CLOCK_MONOTONIC in nanoseconds */
uint64_t mono_ns(void);

#endif /* VS_TOOLS_COMMON_H */
