// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the tracefs text parser.
 *
 * The input goes three ways, and the three must agree:
 *  1. split at '\n', each line copied to a buffer of exactly its length
 *     (so ASan sees any read past the end) and given to
 *     vs_text_parse_line(), twice (the answer must not change);
 *  2. vs_source_open_mem() + vs_source_next() until the end, then again
 *     after vs_source_rewind();
 *  3. for one input in eight (its size a multiple of 8), the same bytes in
 *     a memfd read through vs_source_open() (the read(2) path), when
 *     memfd_create() and /proc are available.
 * Any broken invariant aborts with a message, which libFuzzer reports as a
 * crash and saves the input.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "capture.h"
#include "event.h"
#include "source.h"
#include "source_text.h"

#define PRESENT_ALL ((VS_HAS_NUM << 1) - 1)

#define FUZZ_CHECK(cond)                                                \
	do {                                                            \
		if (!(cond)) {                                          \
			fprintf(stderr,                                 \
				"fuzz_text: %s:%d: check failed: %s\n", \
				__FILE__, __LINE__, #cond);             \
			abort();                                        \
		}                                                       \
	} while (0)

struct tally {
	uint64_t lines;
	uint64_t events;
	uint64_t skipped;
	uint64_t lost;
};

static int terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* what must hold for any event a source or the line parser hands out */
static void check_event(const struct vs_event *ev)
{
	FUZZ_CHECK(ev->kind > VS_EV_NONE && ev->kind < VS_EV__MAX);
	FUZZ_CHECK(vs_kind_name(ev->kind) != NULL);
	FUZZ_CHECK((ev->present & ~(uint32_t)PRESENT_ALL) == 0);
	FUZZ_CHECK(ev->system == 0);
	FUZZ_CHECK(terminated(ev->comm, sizeof(ev->comm)));
	if (ev->present & VS_HAS_HDR) {
		FUZZ_CHECK(ev->kind == VS_EV_PKT_TX ||
			   ev->kind == VS_EV_PKT_RX);
		/* names print for whatever the parser stored */
		(void)vs_op_name(ev->pkt.op);
		(void)vs_type_name(ev->pkt.type);
	}
	switch (ev->kind) {
	case VS_EV_IRQ:
	case VS_EV_IRQ_EXIT:
		FUZZ_CHECK(terminated(ev->irq.name, sizeof(ev->irq.name)));
		break;
	case VS_EV_ALLOC:
		FUZZ_CHECK(terminated(ev->alloc.call_site,
				      sizeof(ev->alloc.call_site)));
		FUZZ_CHECK(ev->alloc.failed <= 1);
		break;
	case VS_EV_VQ_KICK:
	case VS_EV_VQ_IRQ:
	case VS_EV_VQ_ADD:
	case VS_EV_VQ_GET:
		FUZZ_CHECK(terminated(ev->vq.dev, sizeof(ev->vq.dev)));
		FUZZ_CHECK(terminated(ev->vq.vq, sizeof(ev->vq.vq)));
		break;
	case VS_EV_MBOX_TX:
	case VS_EV_MBOX_RX:
		FUZZ_CHECK(terminated(ev->mbox.chan, sizeof(ev->mbox.chan)));
		break;
	case VS_EV_MARK:
		FUZZ_CHECK(terminated(ev->text, sizeof(ev->text)));
		break;
	default:
		break;
	}
}

static int parse_one(const char *line, size_t len, struct vs_event *ev,
		     uint64_t *lost)
{
	int r;

	memset(ev, 0xa5, sizeof(*ev));
	*lost = 0x5a5a5a5a5a5a5a5aull;
	r = vs_text_parse_line(line, len, ev, lost);
	FUZZ_CHECK(r == VS_LINE_BAD || r == VS_LINE_IGNORED ||
		   r == VS_LINE_EVENT || r == VS_LINE_LOST);
	if (r == VS_LINE_EVENT)
		check_event(ev);
	/* the lean parse reads less, never more, and agrees on the kind */
	{
		struct vs_event lean;
		uint64_t ll;
		int rl = vs_text_parse_line_flags(line, len, &lean, &ll,
						  VS_PARSE_LEAN);

		FUZZ_CHECK(rl == r || (r == VS_LINE_BAD && rl == VS_LINE_EVENT &&
				       lean.kind == VS_EV_ALLOC));
		if (rl == VS_LINE_EVENT && r == VS_LINE_EVENT)
			FUZZ_CHECK(lean.kind == ev->kind &&
				   lean.ts_ns == ev->ts_ns &&
				   (lean.kind != VS_EV_ALLOC ||
				    lean.alloc.failed == ev->alloc.failed));
	}
	return r;
}

/* way 1: line by line, each line in its own exact-size buffer */
static void by_lines(const uint8_t *data, size_t size, struct tally *t)
{
	size_t off = 0;

	memset(t, 0, sizeof(*t));
	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (data + off)) : size - off;
		struct vs_event a, b;
		uint64_t la, lb;
		char *copy;
		int ra, rb;

		t->lines++;
		if (len > VS_MAX_LINE) {
			t->skipped++;
			off += len + (nl ? 1 : 0);
			continue;
		}
		/* malloc(0) may return NULL: keep one byte, pass len 0 */
		copy = malloc(len ? len : 1);
		FUZZ_CHECK(copy != NULL);
		memcpy(copy, data + off, len);
		ra = parse_one(copy, len, &a, &la);
		rb = parse_one(copy, len, &b, &lb);
		FUZZ_CHECK(ra == rb);
		if (ra == VS_LINE_EVENT) {
			FUZZ_CHECK(a.kind == b.kind && a.present == b.present);
			FUZZ_CHECK(a.ts_ns == b.ts_ns && a.cpu == b.cpu &&
				   a.pid == b.pid);
			FUZZ_CHECK(!strcmp(a.comm, b.comm));
			t->events++;
		} else if (ra == VS_LINE_LOST) {
			FUZZ_CHECK(la == lb);
			t->lost += la;
		} else if (ra == VS_LINE_BAD) {
			t->skipped++;
		}
		free(copy);
		off += len + (nl ? 1 : 0);
	}
}

/* way 2 and 3: a source, read to its end; its counts must match @want */
static void drain(struct vs_source *src, const struct tally *want,
		  uint64_t size)
{
	const struct vs_source_stats *st;
	struct vs_event ev;
	uint64_t n = 0, done, total, prev_done = 0;
	int r;

	for (;;) {
		memset(&ev, 0xa5, sizeof(ev));
		r = vs_source_next(src, &ev);
		FUZZ_CHECK(r <= 1);
		if (r <= 0)
			break;
		check_event(&ev);
		n++;
		vs_source_progress(src, &done, &total);
		FUZZ_CHECK(done >= prev_done && done <= size);
		prev_done = done;
	}
	FUZZ_CHECK(r == 0);
	/* at the end, more calls keep saying "end" */
	FUZZ_CHECK(vs_source_next(src, &ev) == 0);

	st = vs_source_stats(src);
	FUZZ_CHECK(st->events == n);
	FUZZ_CHECK(st->events == want->events);
	FUZZ_CHECK(st->lines == want->lines);
	FUZZ_CHECK(st->skipped == want->skipped);
	FUZZ_CHECK(st->lost == want->lost);
	FUZZ_CHECK(st->skipped <= st->lines && st->events <= st->lines);
	FUZZ_CHECK(terminated(st->first_bad, sizeof(st->first_bad)));
	for (const char *p = st->first_bad; *p; p++)
		FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
	if (st->skipped)
		FUZZ_CHECK(st->first_bad_line >= 1 &&
			   st->first_bad_line <= st->lines);
	vs_source_progress(src, &done, &total);
	FUZZ_CHECK(done == size);
}

static void by_memfd(const uint8_t *data, size_t size, const struct tally *want)
{
	struct vs_source *src;
	char path[64];
	size_t off = 0;
	int fd;

	fd = memfd_create("fuzz_text", MFD_CLOEXEC);
	if (fd < 0)
		return;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return;
		}
		off += (size_t)w;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	src = vs_source_open(path);
	close(fd);
	if (!src)
		return; /* no /proc: nothing to compare */
	drain(src, want, size);
	FUZZ_CHECK(vs_source_rewind(src) == 0);
	drain(src, want, size);
	vs_source_close(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_source *src;
	struct tally want;

	/* a capture file, not text: fuzz_capture's domain */
	if (vs_capture_detect(data, size))
		return 0;
	by_lines(data, size, &want);

	src = vs_source_open_mem((const char *)data, size);
	FUZZ_CHECK(src != NULL);
	drain(src, &want, size);
	FUZZ_CHECK(vs_source_rewind(src) == 0);
	drain(src, &want, size);
	vs_source_close(src);

	/* the read(2) path costs a 4 MiB buffer: one input in eight */
	if ((size & 7) == 0)
		by_memfd(data, size, &want);
	return 0;
}
