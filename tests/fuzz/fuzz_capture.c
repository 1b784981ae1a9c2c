// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the capture file reader (vsock-capture(5)).
 *
 * The input is read as a capture twice, with the reader directly and
 * through vs_source_open_mem() (what vsock-report does); both must give
 * the same number of events and lost counts, and a second pass after
 * vs_source_rewind() the same again. Every event read must format as a
 * text line (its fields are sane enough to print). Inputs that are not
 * captures get a capture header put in front half the time, so the
 * records behind it are what gets fuzzed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "capture.h"
#include "event.h"
#include "source.h"
#include "text_out.h"

#define FUZZ_CHECK(cond)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr,                                    \
				"fuzz_capture: %s:%d: check failed: %s\n", \
				__FILE__, __LINE__, #cond);                \
			abort();                                           \
		}                                                          \
	} while (0)

/* a real header, made once by the writer */
static uint8_t hdr[1024];
static size_t hdr_len;

static void make_header(void)
{
	struct vs_capture_info info = { .cid = 3 };
	struct vs_capture_writer *w;
	int fd[2];
	ssize_t n;

	if (hdr_len || pipe(fd))
		return;
	snprintf(info.system, sizeof(info.system), "fuzz");
	w = vs_capture_writer_new(fd[1], &info);
	if (w)
		vs_capture_writer_close(w);
	close(fd[1]);
	n = read(fd[0], hdr, sizeof(hdr));
	close(fd[0]);
	hdr_len = n > 0 ? (size_t)n : 0;
}

static void direct(const uint8_t *d, size_t n, uint64_t *events,
		   uint64_t *lost)
{
	struct vs_capture_reader *r;
	struct vs_capture_lost l;
	struct vs_event ev;
	char line[1024];
	int err, k;

	*events = *lost = 0;
	r = vs_capture_reader_new(d, n, &err);
	if (!r)
		return;
	while ((k = vs_capture_next(r, &ev, &l)) > 0) {
		if (k == VS_CAPTURE_EVENT) {
			(*events)++;
			vs_text_format(&ev, line, sizeof(line));
		} else {
			*lost += l.count;
		}
	}
	vs_capture_reader_free(r);
}

static void via_source(const uint8_t *d, size_t n, uint64_t *events,
		       uint64_t *lost)
{
	struct vs_source *s = vs_source_open_mem((const char *)d, n);
	struct vs_event ev;
	uint64_t e1 = 0, e2 = 0;

	*events = *lost = 0;
	if (!s)
		return;
	while (vs_source_next(s, &ev) > 0)
		e1++;
	*lost = vs_source_stats(s)->lost;
	if (!vs_source_rewind(s)) {
		while (vs_source_next(s, &ev) > 0)
			e2++;
		FUZZ_CHECK(e1 == e2);
	}
	vs_source_close(s);
	*events = e1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	size_t n = size;
	uint64_t e1, l1, e2, l2;

	make_header();
	if (!vs_capture_detect(data, size) && size && (data[0] & 1) &&
	    hdr_len) {
		/* behind a good header */
		buf = malloc(hdr_len + size);
		if (!buf)
			return 0;
		memcpy(buf, hdr, hdr_len);
		memcpy(buf + hdr_len, data, size);
		n = hdr_len + size;
	} else {
		buf = malloc(size ? size : 1); /* exact size for ASan */
		if (!buf)
			return 0;
		memcpy(buf, data, size);
	}
	direct(buf, n, &e1, &l1);
	if (vs_capture_detect(buf, n)) {
		via_source(buf, n, &e2, &l2);
		FUZZ_CHECK(e1 == e2);
		FUZZ_CHECK(l1 == l2);
	}
	free(buf);
	return 0;
}
