// SPDX-License-Identifier: GPL-2.0-only
/* Numbers as the tools show them: see fmt.h */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "fmt.h"

char *vs_fmt_decw(char *p, uint64_t v, unsigned int width, char pad)
{
	char tmp[20];
	unsigned int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (width > n) {
		*p++ = pad;
		width--;
	}
	while (n)
		*p++ = tmp[--n];
	return p;
}

char *vs_fmt_dec(char *p, uint64_t v)
{
	return vs_fmt_decw(p, v, 0, ' ');
}

/*
 * @x * @scale (1 or 10) rounded to the nearest integer, ties to even, as
 * printf rounds the exact value of a double. The product's rounding error
 * comes exactly from fma(), so ties and near-ties are decided on the exact
 * product. False when @x * @scale is not in [0, 2^52) (or is -0).
 *
 * The product is i + f + err: i its integer part, f = w - i exact in
 * [0, 1), |err| at most half an ulp of w, so the nearest integers are i
 * and i + 1. Near a tie f - 0.5 is exact, and comparing it with -err
 * decides on the exact value.
 */
static bool round_even(double x, double scale, uint64_t *out)
{
	double w = x * scale, err = fma(x, scale, -w), d;
	uint64_t i;

	if (!(w >= 0 && w < 4503599627370496.0) || signbit(w))
		return false;
	i = (uint64_t)w;
	/* the exact product is i + (w - i) + err, w - i exact and in [0, 1) */
	d = (w - (double)i) - 0.5;
	if (d > -err || (d == -err && (i & 1)))
		i++;
	*out = i;
	return true;
}

const char *vs_fmt_human(double v, char *buf, size_t size)
{
	static const char unit[] = " KMGTP";
	unsigned int u = 0;
	bool tenths;
	uint64_t n;
	char *p = buf;

	while (v >= 999.5 && u < sizeof(unit) - 2) {
		v /= 1000;
		u++;
	}
	tenths = u && v < 9.95;
	/* "999.9K" and a NUL fit 24 bytes; anything odd goes to printf */
	if (size < 24 || !round_even(v, tenths ? 10 : 1, &n)) {
		if (!u)
			snprintf(buf, size, "%.0f", v);
		else
			snprintf(buf, size, tenths ? "%.1f%c" : "%.0f%c", v,
				 unit[u]);
		return buf;
	}
	if (tenths) {
		p = vs_fmt_dec(p, n / 10);
		*p++ = '.';
		*p++ = (char)('0' + n % 10);
	} else {
		p = vs_fmt_dec(p, n);
	}
	if (u)
		*p++ = unit[u];
	*p = '\0';
	return buf;
}

void vs_fmt_copy(char *buf, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n > size - 1)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}
