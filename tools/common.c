// SPDX-License-Identifier: GPL-2.0-only
/* The tools' command-line helpers (see common.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common.h"

void error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: error: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int bad(const char *what, const char *value)
{
	error("invalid %s: %s", what, value);
	return 2;
}

int unum(const char *s, unsigned long long lo, unsigned long long hi,
	 unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end || strchr(s, '-') || *v < lo ||
			       *v > hi ?
		       -1 :
		       0;
}

int snum(const char *s, long long lo, long long hi, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno || end == s || *end || *v < lo || *v > hi ? -1 : 0;
}

int fnum(const char *s, double lo, double hi, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return errno || end == s || *end || !(*v >= lo && *v <= hi) ? -1 : 0;
}

int parse_ms(const char *s, uint64_t *ns)
{
	double v;

	if (fnum(s, 0, 1e9, &v))
		return -1;
	*ns = (uint64_t)(v * 1e6);
	return 0;
}

int parse_time(const char *s, uint64_t *ns)
{
	char *end;
	double v, mul = 1e9;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0))
		return -1;
	if (!strcmp(end, "ns"))
		mul = 1;
	else if (!strcmp(end, "us"))
		mul = 1e3;
	else if (!strcmp(end, "ms"))
		mul = 1e6;
	else if (*end && strcmp(end, "s"))
		return -1;
	if (v * mul > 1.8e19)
		return -1;
	*ns = (uint64_t)(v * mul);
	return 0;
}

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
