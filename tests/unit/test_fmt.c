// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for lib/fmt.c: vs_fmt_copy() cuts to fit and terminates;
 * vs_fmt_dec() and vs_fmt_human() give exactly
 * what printf gives (the format vsocktop used before): integers at the
 * edges and at random; humanized values at every unit, at exact ties
 * (x.5, x.x5 that are exact in binary), next to them by one ulp, at
 * decimal fractions that are not exact in binary, and at random.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "fmt.h"

/* the reference: the printf formats the function replaces */
static void ref_human(double v, char *buf, size_t size)
{
	static const char unit[] = " KMGTP";
	unsigned int u = 0;

	while (v >= 999.5 && u < sizeof(unit) - 2) {
		v /= 1000;
		u++;
	}
	if (!u)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, v < 9.95 ? "%.1f%c" : "%.0f%c", v, unit[u]);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	return vs_test_rand(&rnd_state);
}

static unsigned int mismatches;

static void same_human(double v)
{
	char a[48], b[48];

	vs_fmt_human(v, a, sizeof(a));
	ref_human(v, b, sizeof(b));
	if (strcmp(a, b)) {
		if (mismatches++ < 5)
			printf("  %.17g: \"%s\", printf \"%s\"\n", v, a, b);
		CHECK_STR(a, b);
	}
}

static void t_dec(void)
{
	static const uint64_t edge[] = { 0, 1, 9, 10, 99, 100, 4294967295u,
					 4294967296ull, UINT64_MAX - 1,
					 UINT64_MAX };
	char a[32], b[32];

	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]) + 100000; i++) {
		uint64_t v = i < sizeof(edge) / sizeof(edge[0]) ?
				     edge[i] :
				     rnd() >> (rnd() % 64);

		*vs_fmt_dec(a, v) = '\0';
		snprintf(b, sizeof(b), "%" PRIu64, v);
		CHECK_STR(a, b);
	}
}

static void t_human_ties(void)
{
	double scale = 1;

	mismatches = 0;
	for (unsigned int u = 0; u < 7; u++, scale *= 1000) {
		/* n/20 covers x.x5 and x.5; exact in binary or not */
		for (unsigned int n = 0; n <= 20000; n++) {
			double v = n / 20.0 * scale;

			same_human(v);
			same_human(nextafter(v, 0));
			same_human(nextafter(v, DBL_MAX));
		}
	}
	/* the unit boundaries, and ties that are exact in binary */
	for (int k = 0; k < 64; k++) {
		same_human(999.5 * pow(1000, k % 7));
		same_human(9.95 * pow(1000, k % 7));
		same_human((k + 0.5) * pow(1000, k % 7));
		same_human((k + 0.25) * pow(1000, k % 7));
	}
}

static void t_human_random(void)
{
	mismatches = 0;
	for (unsigned int i = 0; i < 300000; i++) {
		/* random bits over a range of magnitudes */
		double v = (double)(rnd() >> 11) / 9007199254740992.0;

		v *= pow(10, (double)(rnd() % 24));
		same_human(v);
	}
	/* what printf is left with */
	same_human(0);
	same_human(-0.0);
	same_human(-1.5);
	same_human(1e30);
	same_human(9.2e18);
	same_human(INFINITY);
	same_human(NAN);
}

static void t_copy(void)
{
	char b[6];

	memset(b, 'x', sizeof(b));
	vs_fmt_copy(b, sizeof(b), "");
	CHECK_STR(b, "");
	vs_fmt_copy(b, sizeof(b), "open");
	CHECK_STR(b, "open");
	vs_fmt_copy(b, sizeof(b), "close");
	CHECK_STR(b, "close"); /* exactly fits */
	vs_fmt_copy(b, sizeof(b), "established");
	CHECK_STR(b, "estab"); /* cut, still terminated */
}

VS_TEST_MAIN({ "fmt_dec", t_dec }, { "fmt_human_ties", t_human_ties },
	     { "fmt_human_random", t_human_random }, { "fmt_copy", t_copy })
