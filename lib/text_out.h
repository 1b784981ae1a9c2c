/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Events → tracefs text, the inverse of source_text.c: the line the kernel
 * prints in `cat trace` (five-column flags), or vsockscope's own events in
 * the same layout (vsock-text(5)). What one writes, the other reads back.
 */
#ifndef VS_TEXT_OUT_H
#define VS_TEXT_OUT_H

#include <stddef.h>
#include "event.h"

/* the "# tracer: nop" header block of a trace file */
int vs_text_header(char *buf, size_t size, unsigned int ncpus);
/*
 * vs_text_event - the event part of a line: its name ("kmalloc",
 * "vsockscope:vq_kick") and its fields, as printed. 0, or -1 for a kind
 * that has no text form.
 */
int vs_text_event(const struct vs_event *ev, const char **name, char *args,
		  size_t size);
/*
 * vs_text_format - one line, newline included, NUL-terminated.
 * Returns its length, or -1 when @size is too small or the kind unknown.
 */
int vs_text_format(const struct vs_event *ev, char *buf, size_t size);

#endif /* VS_TEXT_OUT_H */
