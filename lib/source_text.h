/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tracefs text → events: what `cat trace`, `trace_pipe` and
 * `trace-cmd report` print, for the vsock, irq, kmem, ftrace print and
 * vsockscope event families (see vsock-text(5)).
 */
#ifndef VS_SOURCE_TEXT_H
#define VS_SOURCE_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include "event.h"

enum vs_line_result {
	VS_LINE_BAD = -1,    /* unknown event or malformed line */
	VS_LINE_IGNORED = 0, /* blank, comment, header: nothing to count */
	VS_LINE_EVENT = 1,   /* *ev filled */
	VS_LINE_LOST = 2,    /* "CPU:N [LOST M EVENTS]": *lost = M */
};

/*
 * vs_text_parse_line - parse one line of tracefs text
 * @line: the line, not NUL-terminated, without its newline
 * @len:  its length in bytes (any bytes, including NUL, are tolerated)
 * @ev:   filled on VS_LINE_EVENT (ev->system is left 0)
 * @lost: set on VS_LINE_LOST
 *
 * A line without a timestamp (tracefs with options/context-info off) yields
 * an event without VS_HAS_TS. Never reads outside [line, line + len).
 * Returns an enum vs_line_result.
 */
int vs_text_parse_line(const char *line, size_t len, struct vs_event *ev,
		       uint64_t *lost);

/*
 * VS_PARSE_LEAN: fill only what the analysis uses. An allocation that
 * succeeded comes back with its kind and source only (no size, call site
 * or order); a failed one, and every other event, in full.
 */
#define VS_PARSE_LEAN 1u

int vs_text_parse_line_flags(const char *line, size_t len,
			     struct vs_event *ev, uint64_t *lost,
			     unsigned int flags);

#endif /* VS_SOURCE_TEXT_H */
