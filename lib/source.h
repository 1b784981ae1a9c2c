/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A source: one system's input (a file, or stdin) read line by line and
 * turned into events, with the counts a report needs.
 */
#ifndef VS_SOURCE_H
#define VS_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include "event.h"

#define VS_MAX_LINE 65536 /* longer lines are counted as skipped */

struct vs_source_stats {
	uint64_t lines;
	uint64_t events;
	uint64_t skipped;  /* unknown or malformed lines */
	uint64_t lost;	   /* events the kernel said it lost */
	uint64_t first_ts; /* valid when events > 0 */
	uint64_t last_ts;
	uint64_t first_bad_line; /* line number of the first skipped line */
	char first_bad[64];	 /* its start, printable */
};

struct vs_source;

/*
 * vs_source_open - open @path ("-" for stdin) as a text trace
 * Returns NULL with errno set on failure.
 */
struct vs_source *vs_source_open(const char *path);
/* vs_source_open_mem - read from a caller-owned buffer (tests, fuzzers) */
struct vs_source *vs_source_open_mem(const char *buf, size_t len);
void vs_source_close(struct vs_source *src);

/*
 * vs_source_next - next event
 * Returns 1 with *ev filled, 0 at end of input, -errno on a read error.
 * Events without a timestamp take the last one seen.
 */
int vs_source_next(struct vs_source *src, struct vs_event *ev);

/*
 * vs_source_next_ref - the same, without a copy: *ev points at the event,
 * valid (and writable) until the next call on @src.
 */
int vs_source_next_ref(struct vs_source *src, struct vs_event **ev);

/*
 * vs_source_rewind - start again from the beginning (stdin is spooled to
 * memory on first use so it can be read twice). Returns 0 or -errno.
 */
int vs_source_rewind(struct vs_source *src);
/*
 * vs_source_prepare_rewind - call before the first read of a source that
 * will be rewound: a non-seekable input (a pipe) is copied to an unlinked
 * temporary file as it is read. Returns 0 or -errno.
 */
int vs_source_prepare_rewind(struct vs_source *src);

const struct vs_source_stats *vs_source_stats(const struct vs_source *src);
/* parse leanly (VS_PARSE_LEAN, see source_text.h); before the first read */
void vs_source_set_lean(struct vs_source *src, bool lean);
/* bytes consumed and total (total 0 when unknown), for progress display */
void vs_source_progress(const struct vs_source *src, uint64_t *done,
			uint64_t *total);

#endif /* VS_SOURCE_H */
