/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Capture files: what vsock-trace writes and vsock-report and vsocktop
 * read (vsock-capture(5)). A magic, a header record (which system, kernel,
 * clock, CID and probe set), then event and lost-event records, then an end
 * record when the writer closed cleanly. Every record carries its type,
 * its length and a CRC-32, so a torn tail (SIGKILL, a full disk) is told
 * apart from damage, and a reader reads up to the last complete record.
 *
 * Every field is encoded explicitly, little-endian, with a fixed size:
 * the same capture reads back the same on any architecture.
 *
 * Errors are returned (-errno, or NULL with errno set); nothing here prints
 * or exits.
 */
#ifndef VS_CAPTURE_H
#define VS_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "event.h"

/* the first 8 bytes of every capture: not UTF-8, never a line of text */
#define VS_CAPTURE_MAGIC "\x89VSCAPT\n"
#define VS_CAPTURE_MAGIC_LEN 8

/* the format version this library writes; it reads every 1.x */
#define VS_CAPTURE_VERSION_MAJOR 1
#define VS_CAPTURE_VERSION_MINOR 0

/* what the header record says about the capture */
struct vs_capture_info {
	char system[64]; /* the name the user gave, or the hostname */
	char kernel[128]; /* uname -r */
	char arch[32]; /* uname -m */
	int64_t cid; /* local vsock CID, -1 when unknown */
	char clock[32]; /* trace clock: "mono", "local", "boot"... */
	char backend[16]; /* "bpf", "tracefs", "convert" */
	/* "irq:tp_btf,alloc:tp_btf,vsock:raw_tp" */
	char probes_attached[512];
	/* "vring:fentry: EPERM; kprobe: not supported" */
	char probes_refused[512];
	uint64_t start_realtime_ns; /* CLOCK_REALTIME at the start */
	uint64_t start_ts_ns; /* that instant on the trace clock */
	char writer[32]; /* the program that wrote it; "" = this library */
	/* filled by the reader: the version the file says it is */
	uint16_t version_major;
	uint16_t version_minor;
};

enum vs_capture_lost_reason {
	VS_LOST_KERNEL = 0, /* the trace buffer overran (kernel or BPF) */
	VS_LOST_WRITER = 1, /* the file could not take them (full disk) */
};

/* a lost record: @count events that are not in the file */
struct vs_capture_lost {
	int32_t cpu; /* the CPU whose buffer lost them, -1 not per CPU */
	uint32_t reason; /* enum vs_capture_lost_reason */
	uint64_t count;
	uint64_t ts_ns; /* when it was noticed, on the trace clock; 0 unknown */
};

/* ------------------------------------------------------------ writing */

struct vs_capture_writer;

/*
 * vs_capture_writer_new - start a capture on @fd
 * @fd:   an open file, pipe or socket; written with write(2) only, never
 *        seeked, and not closed by this library
 * @info: the header; strings must not contain a newline
 *
 * Writes the magic and the header record at once, so even a capture killed
 * right away says what it is. Returns NULL with errno set: EINVAL (a
 * newline in a string), ENOMEM, or the error of write(2) (ENOSPC...).
 */
struct vs_capture_writer *
vs_capture_writer_new(int fd, const struct vs_capture_info *info);

/*
 * vs_capture_write_event - queue one event
 *
 * Only the fields that @ev->present and @ev->kind say exist are written
 * (ev->system is not: a reader numbers its own inputs). Records go out in
 * whole when the 64 KiB buffer is full and on vs_capture_flush().
 *
 * Returns 0 when the event is in the file or queued for it, or -errno when
 * it is not and never will be: -EINVAL for a kind with no encoding, or the
 * error of write(2) (-ENOSPC, -EFBIG, -EIO, -EAGAIN on a non-blocking fd)
 * when the buffer is full and the file takes nothing. Bytes the file
 * refused stay queued and go first on the next attempt, so a file never
 * has a hole: the caller counts refused events and, once writes work
 * again, records them with vs_capture_write_lost(VS_LOST_WRITER).
 */
int vs_capture_write_event(struct vs_capture_writer *w,
			   const struct vs_event *ev);

/* vs_capture_write_lost - queue a lost record; returns as write_event */
int vs_capture_write_lost(struct vs_capture_writer *w,
			  const struct vs_capture_lost *lost);

/*
 * vs_capture_flush - write out everything queued
 * Returns 0, or -errno with the rest still queued.
 */
int vs_capture_flush(struct vs_capture_writer *w);

/* bytes queued and not yet written */
size_t vs_capture_writer_pending(const struct vs_capture_writer *w);

/*
 * vs_capture_writer_close - queue the end record, flush, free @w
 *
 * The end record marks a capture that was closed, not cut short. Returns
 * 0, or the -errno of the last flush (whatever was still queued is then
 * lost). @fd stays open. NULL is a no-op.
 */
int vs_capture_writer_close(struct vs_capture_writer *w);

/* ------------------------------------------------------------ reading */

/* vs_capture_detect - the capture magic starts @buf (needs 8 bytes) */
bool vs_capture_detect(const void *buf, size_t len);

enum vs_capture_rec {
	VS_CAPTURE_END = 0, /* no more records */
	VS_CAPTURE_EVENT = 1, /* *ev filled */
	VS_CAPTURE_LOST = 2, /* *lost filled */
};

struct vs_capture_stats {
	uint64_t events; /* event records read */
	uint64_t lost; /* sum of the lost records' counts */
	uint64_t lost_records;
	uint64_t skipped; /* records of unknown types or kinds, skipped */
	uint64_t good_bytes; /* offset just past the last good record */
	uint64_t tail_bytes; /* bytes after it, once the end is reached */
	bool complete; /* the writer's end record was read */
	bool truncated; /* the input stops inside a record */
	bool damaged; /* a record failed its check: reading stops */
};

struct vs_capture_reader;

/*
 * vs_capture_reader_new - read a capture held in memory
 * @buf, @len: the whole file (the caller reads or mmaps it); it must stay
 *             valid while the reader is used; nothing is copied but the
 *             header
 * @err:       set to a negative errno on failure (may be NULL)
 *
 * Errors: -ENODATA (empty, or cut before the header record was whole),
 * -EMEDIUMTYPE (no capture magic: not a capture file), -EPROTONOSUPPORT
 * (a format major version this reader does not know), -EBADMSG (the
 * header record is damaged), -ENOMEM. vs_capture_strerror() words them.
 */
struct vs_capture_reader *vs_capture_reader_new(const void *buf, size_t len,
						int *err);

/*
 * vs_capture_reader_update - the same input, grown (a file still being
 * written): @buf holds at least the bytes already read, unchanged, and
 * perhaps more. A torn tail becomes readable once it is whole. Returns 0,
 * or -EINVAL when @len is shorter than what was read.
 */
int vs_capture_reader_update(struct vs_capture_reader *r, const void *buf,
			     size_t len);

/*
 * vs_capture_reader_rebase - a stream read for long: the caller dropped
 * the first @dropped bytes of what it had (at most up to the next record,
 * vs_capture_reader_consumed()) and @buf, @len now hold the rest and
 * perhaps more. Offsets in the stats stay those of the whole stream.
 * Returns 0, or -EINVAL when bytes not yet read were dropped.
 */
int vs_capture_reader_rebase(struct vs_capture_reader *r, const void *buf,
			     size_t len, size_t dropped);
/* bytes of the current buffer already read (the next record's offset) */
size_t vs_capture_reader_consumed(const struct vs_capture_reader *r);

const struct vs_capture_info *
vs_capture_reader_info(const struct vs_capture_reader *r);

/*
 * vs_capture_next - the next record
 * @ev:   filled on VS_CAPTURE_EVENT (ev->system 0, ev->present only the
 *        fields the record had)
 * @lost: filled on VS_CAPTURE_LOST (may be NULL)
 *
 * Returns an enum vs_capture_rec, or -EBADMSG when a record is damaged (a
 * checksum or framing mismatch in the middle, or an end record whose counts
 * disagree): reading stops there, and every later call says the same. A
 * record cut short at the end of the input (SIGKILL, a full disk), or a
 * tail of zero bytes, is the end: VS_CAPTURE_END with stats.truncated set.
 * Records of types or event kinds this reader does not know are skipped.
 */
int vs_capture_next(struct vs_capture_reader *r, struct vs_event *ev,
		    struct vs_capture_lost *lost);

const struct vs_capture_stats *
vs_capture_reader_stats(const struct vs_capture_reader *r);
/* the input ended inside a record (stats.truncated) */
bool vs_capture_reader_truncated(const struct vs_capture_reader *r);
/* sum of the lost records read so far (stats.lost) */
uint64_t vs_capture_reader_lost(const struct vs_capture_reader *r);
void vs_capture_reader_free(struct vs_capture_reader *r);

/* the reader's and writer's errors in words (falls back to strerror) */
const char *vs_capture_strerror(int err);

#endif /* VS_CAPTURE_H */
