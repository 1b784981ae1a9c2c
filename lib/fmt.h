/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Numbers as the tools show them, formatted without printf: vsocktop's
 * batch mode formats every connection at every update, thousands of cells
 * a second, and snprintf() with a double was most of that; text output
 * (vs_text_format()) writes millions of lines.
 */
#ifndef VS_FMT_H
#define VS_FMT_H

#include <stddef.h>
#include <stdint.h>

/* @v in decimal at @p, no NUL (at most 20 bytes); returns the end */
char *vs_fmt_dec(char *p, uint64_t v);
/* ... right-aligned in @width, padded with @pad */
char *vs_fmt_decw(char *p, uint64_t v, unsigned int width, char pad);

/*
 * vs_fmt_human - @v with a unit of thousands: "950", "1.2K", "38M", "2.0G"
 * (one decimal below ten, up to P), into @buf; returns @buf. The digits
 * are exactly what snprintf("%.0f" or "%.1f") gives for the same value.
 */
const char *vs_fmt_human(double v, char *buf, size_t size);

/* @s into @buf of @size bytes, cut to fit, NUL-terminated */
void vs_fmt_copy(char *buf, size_t size, const char *s);

#endif /* VS_FMT_H */
