// SPDX-License-Identifier: GPL-2.0-only
/*
 * Capture files: every kind of event written and read back gives the same
 * event; the bytes are the ones vsock-capture(5) describes (checked against
 * a hand-encoded record, CRC-32 computed here bit by bit); a file cut at
 * any byte reads up to its last whole record; a damaged byte stops the
 * read; records of a newer writer are skipped; a full disk leaves a
 * readable file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "capture.h"
#include "check.h"
#include "source.h"
#include "text_out.h"

/* ------------------------------------------------------------ helpers */

/* snprintf that is meant to cut: the longest strings must fit exactly */
__attribute__((format(printf, 3, 4))) static void
fill(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

static struct vs_capture_info test_info(void)
{
	struct vs_capture_info in;

	memset(&in, 0, sizeof(in));
	snprintf(in.system, sizeof(in.system), "android-guest");
	snprintf(in.kernel, sizeof(in.kernel), "6.1.75-android14-11-g0d1f");
	snprintf(in.arch, sizeof(in.arch), "aarch64");
	in.cid = 3;
	snprintf(in.clock, sizeof(in.clock), "mono");
	snprintf(in.backend, sizeof(in.backend), "bpf");
	snprintf(in.probes_attached, sizeof(in.probes_attached),
		 "irq:tp_btf,alloc:tp_btf,vsock:raw_tp");
	snprintf(in.probes_refused, sizeof(in.probes_refused),
		 "vring:fentry: EPERM; kprobe: not supported");
	in.start_realtime_ns = 1732200000123456789ull;
	in.start_ts_ns = 1000000000000ull;
	snprintf(in.writer, sizeof(in.writer), "test_capture");
	return in;
}

static struct vs_event ctx(unsigned int kind, uint64_t ts)
{
	struct vs_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = (uint16_t)kind;
	ev.ts_ns = ts;
	ev.cpu = 1;
	ev.pid = 812;
	snprintf(ev.comm, sizeof(ev.comm), "vhost-2");
	ev.present = VS_HAS_TS | VS_HAS_CPU | VS_HAS_PID | VS_HAS_COMM;
	return ev;
}

/* an event of @kind with every field it can have, values from @seed */
static struct vs_event full_event(unsigned int kind, unsigned int seed)
{
	struct vs_event ev = ctx(kind, 1000123456000ull + seed * 1000ull);

	ev.cpu = (int32_t)(seed % 64);
	ev.pid = -1 - (int32_t)seed; /* negative numbers survive too */
	fill(ev.comm, sizeof(ev.comm), "comm-%u-abcdefghij", seed);
	switch (kind) {
	case VS_EV_PKT_TX:
	case VS_EV_PKT_RX:
		ev.present |= VS_HAS_HDR | VS_HAS_BUF_ALLOC | VS_HAS_FWD_CNT |
			      VS_HAS_ZCOPY;
		ev.pkt = (struct vs_pkt){ .src_cid = 0xfffffffffull + seed,
					  .dst_cid = 2, .src_port = 1024,
					  .dst_port = 4294967295u,
					  .len = 65536 + seed,
					  .type = VS_TYPE_SEQPACKET,
					  .op = VS_OP_CREDIT_UPDATE,
					  .flags = 3, .buf_alloc = 262144,
					  .fwd_cnt = 4294967295u, .zcopy = 1 };
		break;
	case VS_EV_IRQ:
	case VS_EV_IRQ_EXIT:
		ev.present |= VS_HAS_IRQ | VS_HAS_RET;
		ev.irq.irq = -(int32_t)seed - 7;
		ev.irq.ret = 1;
		fill(ev.irq.name, sizeof(ev.irq.name),
			 "virtio6-virtqueues-%u", seed);
		break;
	case VS_EV_ALLOC:
		ev.present |= VS_HAS_SIZE | VS_HAS_ORDER | VS_HAS_CALLSITE;
		ev.alloc.bytes_req = 65536ull << 20;
		ev.alloc.bytes_alloc = UINT64_MAX;
		ev.alloc.source = VS_ALLOC_KMALLOC;
		ev.alloc.failed = 1;
		ev.alloc.order = -5;
		fill(ev.alloc.call_site, sizeof(ev.alloc.call_site),
			 "virtio_vsock_alloc_skb+0x2c/0x90 [vmw_vsock_%u]",
			 seed);
		break;
	case VS_EV_VQ_KICK:
	case VS_EV_VQ_IRQ:
	case VS_EV_VQ_ADD:
	case VS_EV_VQ_GET:
	case VS_EV_VQ_CALL:
		ev.present |= VS_HAS_IDX | VS_HAS_NUM;
		fill(ev.vq.dev, sizeof(ev.vq.dev), "virtio%u", seed);
		fill(ev.vq.vq, sizeof(ev.vq.vq), "vsock-tx-q");
		ev.vq.idx = 65535;
		ev.vq.num = 128 + seed;
		break;
	case VS_EV_MBOX_TX:
	case VS_EV_MBOX_RX:
		fill(ev.mbox.chan, sizeof(ev.mbox.chan),
			 "mbox-rproc-%u-longer-name", seed);
		ev.mbox.msg = 0xdeadbeefcafef00dull ^ seed;
		break;
	case VS_EV_MARK:
		memset(ev.text, 'x', sizeof(ev.text) - 1);
		memcpy(ev.text, "vsock-refdev: fault drop_kick", 29);
		break;
	}
	return ev;
}

/* @ev with few fields: the context and the kind's fields only */
static struct vs_event few_event(unsigned int kind, unsigned int seed)
{
	struct vs_event ev = full_event(kind, seed);

	ev.present = (seed & 1) ? VS_HAS_TS : 0;
	switch (kind) {
	case VS_EV_PKT_TX:
	case VS_EV_PKT_RX:
		ev.present |= VS_HAS_HDR;
		memset(&ev.pkt.buf_alloc, 0,
		       sizeof(ev.pkt) - offsetof(struct vs_pkt, buf_alloc));
		break;
	case VS_EV_IRQ:
		ev.present |= VS_HAS_IRQ;
		ev.irq.ret = 0;
		break;
	case VS_EV_IRQ_EXIT:
		ev.present |= VS_HAS_RET;
		ev.irq.irq = 0;
		ev.irq.name[0] = '\0';
		break;
	case VS_EV_ALLOC:
		ev.alloc.bytes_req = ev.alloc.bytes_alloc = 0;
		ev.alloc.order = 0;
		ev.alloc.call_site[0] = '\0';
		break;
	case VS_EV_VQ_KICK:
	case VS_EV_VQ_IRQ:
	case VS_EV_VQ_ADD:
	case VS_EV_VQ_GET:
	case VS_EV_VQ_CALL:
		ev.vq.idx = ev.vq.num = 0;
		break;
	}
	if (!(ev.present & VS_HAS_TS))
		ev.ts_ns = 0;
	ev.cpu = ev.pid = 0;
	ev.comm[0] = '\0';
	return ev;
}

/* field by field, then the text line as the oracle for the rest */
static void check_same(const struct vs_event *a, const struct vs_event *b)
{
	char la[512], lb[512];

	CHECK_EQ_U(b->kind, a->kind);
	CHECK_EQ_U(b->present, a->present);
	CHECK_EQ_U(b->system, 0);
	CHECK_EQ_U(b->ts_ns, a->ts_ns);
	CHECK_EQ_U(b->cpu, a->cpu);
	CHECK_EQ_U(b->pid, a->pid);
	CHECK_STR(b->comm, a->comm);
	switch (a->kind) {
	case VS_EV_PKT_TX:
	case VS_EV_PKT_RX:
		CHECK_EQ_U(b->pkt.src_cid, a->pkt.src_cid);
		CHECK_EQ_U(b->pkt.dst_cid, a->pkt.dst_cid);
		CHECK_EQ_U(b->pkt.src_port, a->pkt.src_port);
		CHECK_EQ_U(b->pkt.dst_port, a->pkt.dst_port);
		CHECK_EQ_U(b->pkt.len, a->pkt.len);
		CHECK_EQ_U(b->pkt.type, a->pkt.type);
		CHECK_EQ_U(b->pkt.op, a->pkt.op);
		CHECK_EQ_U(b->pkt.flags, a->pkt.flags);
		CHECK_EQ_U(b->pkt.buf_alloc, a->pkt.buf_alloc);
		CHECK_EQ_U(b->pkt.fwd_cnt, a->pkt.fwd_cnt);
		CHECK_EQ_U(b->pkt.zcopy, a->pkt.zcopy);
		break;
	case VS_EV_IRQ:
	case VS_EV_IRQ_EXIT:
		CHECK_EQ_U(b->irq.irq, a->irq.irq);
		CHECK_EQ_U(b->irq.ret, a->irq.ret);
		CHECK_STR(b->irq.name, a->irq.name);
		break;
	case VS_EV_ALLOC:
		CHECK_EQ_U(b->alloc.bytes_req, a->alloc.bytes_req);
		CHECK_EQ_U(b->alloc.bytes_alloc, a->alloc.bytes_alloc);
		CHECK_EQ_U(b->alloc.source, a->alloc.source);
		CHECK_EQ_U(b->alloc.failed, a->alloc.failed);
		CHECK_EQ_U(b->alloc.order, a->alloc.order);
		CHECK_STR(b->alloc.call_site, a->alloc.call_site);
		break;
	case VS_EV_VQ_KICK:
	case VS_EV_VQ_IRQ:
	case VS_EV_VQ_ADD:
	case VS_EV_VQ_GET:
	case VS_EV_VQ_CALL:
		CHECK_STR(b->vq.dev, a->vq.dev);
		CHECK_STR(b->vq.vq, a->vq.vq);
		CHECK_EQ_U(b->vq.idx, a->vq.idx);
		CHECK_EQ_U(b->vq.num, a->vq.num);
		break;
	case VS_EV_MBOX_TX:
	case VS_EV_MBOX_RX:
		CHECK_STR(b->mbox.chan, a->mbox.chan);
		CHECK_EQ_U(b->mbox.msg, a->mbox.msg);
		break;
	case VS_EV_MARK:
		CHECK_STR(b->text, a->text);
		break;
	}
	CHECK(vs_text_format(a, la, sizeof(la)) > 0);
	CHECK(vs_text_format(b, lb, sizeof(lb)) > 0);
	CHECK_STR(lb, la);
}

/* the whole of @fd, from its start, in an exactly sized buffer */
static uint8_t *slurp(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	uint8_t *buf;

	CHECK(end >= 0);
	buf = malloc(end > 0 ? (size_t)end : 1);
	CHECK(buf != NULL);
	CHECK(pread(fd, buf, (size_t)end, 0) == end);
	*len = (size_t)end;
	return buf;
}

static int mem_fd(void)
{
	int fd = memfd_create("capture", 0);

	CHECK(fd >= 0);
	return fd;
}

/* a copy of @len bytes of @src in a buffer of exactly that size */
static uint8_t *dup_bytes(const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	memcpy(p, src, len);
	return p;
}

/* CRC-32 as zlib computes it, bit by bit: the oracle for the library's */
static uint32_t ref_crc32(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

/* a record made by hand: framing, @n payload bytes, checksum */
static size_t hand_record(uint8_t *out, unsigned int type,
			  const uint8_t *payload, size_t n)
{
	static uint8_t tmp[4 + 65536];
	uint32_t crc;

	out[0] = (uint8_t)type;
	out[2] = (uint8_t)n;
	out[3] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)(0xa5 ^ out[0] ^ out[2] ^ out[3]);
	memcpy(tmp, out, 4);
	memcpy(tmp + 4, payload, n);
	crc = ref_crc32(tmp, 4 + n);
	for (int i = 0; i < 4; i++)
		out[4 + i] = (uint8_t)(crc >> (8 * i));
	memcpy(out + 8, payload, n);
	return 8 + n;
}

static void to_hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* the size of the magic and the header record at the start of @buf */
static size_t header_end(const uint8_t *buf)
{
	return 8 + 8 + (size_t)(buf[10] | buf[11] << 8);
}

/* ------------------------------------------------------------ tests */

static const unsigned int kinds[] = {
	VS_EV_PKT_TX, VS_EV_PKT_RX, VS_EV_VQ_KICK, VS_EV_VQ_IRQ,
	VS_EV_VQ_ADD, VS_EV_VQ_GET, VS_EV_IRQ, VS_EV_IRQ_EXIT,
	VS_EV_MBOX_TX, VS_EV_MBOX_RX, VS_EV_ALLOC, VS_EV_MARK,
	VS_EV_VQ_CALL,
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static void t_header_round_trip(void)
{
	struct vs_capture_info in = test_info();
	const struct vs_capture_info *out;
	struct vs_capture_writer *w;
	struct vs_capture_reader *r;
	struct vs_event ev;
	uint8_t *buf;
	size_t len;
	int fd = mem_fd(), err = 0;

	w = vs_capture_writer_new(fd, &in);
	CHECK(w != NULL);
	/* the header is out at once: a writer killed now leaves it */
	CHECK_EQ_U(vs_capture_writer_pending(w), 0);
	CHECK_EQ_U(vs_capture_writer_close(w), 0);
	buf = slurp(fd, &len);
	CHECK(vs_capture_detect(buf, len));
	/* people can read the header with head | strings */
	CHECK(memmem(buf, len, "\nsystem=android-guest\n", 22) != NULL);
	r = vs_capture_reader_new(buf, len, &err);
	CHECK(r != NULL);
	if (!r)
		goto out;
	out = vs_capture_reader_info(r);
	CHECK_EQ_U(out->version_major, 1);
	CHECK_EQ_U(out->version_minor, 0);
	CHECK_STR(out->system, in.system);
	CHECK_STR(out->kernel, in.kernel);
	CHECK_STR(out->arch, in.arch);
	CHECK_EQ_U(out->cid, 3);
	CHECK_STR(out->clock, in.clock);
	CHECK_STR(out->backend, in.backend);
	CHECK_STR(out->probes_attached, in.probes_attached);
	CHECK_STR(out->probes_refused, in.probes_refused);
	CHECK_EQ_U(out->start_realtime_ns, in.start_realtime_ns);
	CHECK_EQ_U(out->start_ts_ns, in.start_ts_ns);
	CHECK_STR(out->writer, "test_capture");
	CHECK_EQ_U(vs_capture_next(r, &ev, NULL), VS_CAPTURE_END);
	CHECK(vs_capture_reader_stats(r)->complete);
	CHECK(!vs_capture_reader_truncated(r));
	vs_capture_reader_free(r);
out:
	free(buf);
	close(fd);
}

/* an unknown CID, empty strings, the library's own writer name */
static void t_header_defaults(void)
{
	struct vs_capture_info in;
	struct vs_capture_writer *w;
	struct vs_capture_reader *r;
	uint8_t *buf;
	size_t len;
	int fd = mem_fd();

	memset(&in, 0, sizeof(in));
	in.cid = -7;
	w = vs_capture_writer_new(fd, &in);
	CHECK(w != NULL);
	vs_capture_writer_close(w);
	buf = slurp(fd, &len);
	r = vs_capture_reader_new(buf, len, NULL);
	CHECK(r != NULL);
	if (r) {
		CHECK_EQ_U(vs_capture_reader_info(r)->cid, (uint64_t)-1);
		CHECK_STR(vs_capture_reader_info(r)->system, "");
		CHECK(!strncmp(vs_capture_reader_info(r)->writer,
			       "vsockscope ", 11));
		vs_capture_reader_free(r);
	}
	free(buf);
	/* a newline would end the value: refused */
	snprintf(in.system, sizeof(in.system), "two\nlines");
	errno = 0;
	CHECK(vs_capture_writer_new(fd, &in) == NULL);
	CHECK_EQ_U(errno, EINVAL);
	close(fd);
}

/* write @n events, read them back and compare */
static void round_trip(const struct vs_event *evs, size_t n)
{
	struct vs_capture_info info = test_info();
	struct vs_capture_writer *w;
	struct vs_capture_reader *r;
	struct vs_event out;
	uint8_t *buf;
	size_t len, i;
	int fd = mem_fd();

	w = vs_capture_writer_new(fd, &info);
	for (i = 0; i < n; i++)
		CHECK_EQ_U(vs_capture_write_event(w, &evs[i]), 0);
	CHECK_EQ_U(vs_capture_writer_close(w), 0);
	buf = slurp(fd, &len);
	r = vs_capture_reader_new(buf, len, NULL);
	CHECK(r != NULL);
	for (i = 0; r && i < n; i++) {
		memset(&out, 0xa5, sizeof(out));
		CHECK_EQ_U(vs_capture_next(r, &out, NULL), VS_CAPTURE_EVENT);
		check_same(&evs[i], &out);
	}
	if (r) {
		CHECK_EQ_U(vs_capture_next(r, &out, NULL), VS_CAPTURE_END);
		CHECK(vs_capture_reader_stats(r)->complete);
		CHECK_EQ_U(vs_capture_reader_stats(r)->events, n);
		CHECK_EQ_U(vs_capture_reader_stats(r)->tail_bytes, 0);
		CHECK_EQ_U(vs_capture_reader_stats(r)->good_bytes, len);
	}
	vs_capture_reader_free(r);
	free(buf);
	close(fd);
}

static void t_every_kind_full(void)
{
	struct vs_event evs[NKINDS];

	for (size_t i = 0; i < NKINDS; i++)
		evs[i] = full_event(kinds[i], (unsigned int)i);
	round_trip(evs, NKINDS);
}

static void t_every_kind_few(void)
{
	struct vs_event evs[2 * NKINDS];

	for (size_t i = 0; i < 2 * NKINDS; i++)
		evs[i] = few_event(kinds[i % NKINDS], (unsigned int)i);
	round_trip(evs, 2 * NKINDS);
}

/*
 * Every kind event.h defines has an encoding (a new kind fails here until
 * capture.c and vsock-capture(5) know it); a kind with none is refused.
 * Present bits that mean nothing for a kind are not written.
 */
static void t_kinds_covered(void)
{
	struct vs_capture_info info = test_info();
	struct vs_capture_writer *w;
	struct vs_capture_reader *r;
	struct vs_event ev, out;
	uint8_t *buf;
	size_t len;
	int fd = mem_fd();

	CHECK_EQ_U(NKINDS, VS_EV__MAX - 1);
	w = vs_capture_writer_new(fd, &info);
	for (unsigned int k = 1; k < VS_EV__MAX; k++) {
		int ret;

		ev = full_event(k, k);
		ret = vs_capture_write_event(w, &ev);
		if (ret)
			printf("  kind %u has no capture encoding\n", k);
		CHECK_EQ_U(ret, 0);
	}
	ev = full_event(VS_EV_NONE, 1);
	CHECK_EQ_U(vs_capture_write_event(w, &ev), (uint64_t)-EINVAL);
	ev.kind = VS_EV__MAX;
	CHECK_EQ_U(vs_capture_write_event(w, &ev), (uint64_t)-EINVAL);
	ev = ctx(VS_EV_MARK, 5);
	ev.present |= VS_HAS_HDR | VS_HAS_IRQ | VS_HAS_NUM;
	snprintf(ev.text, sizeof(ev.text), "stray bits");
	CHECK_EQ_U(vs_capture_write_event(w, &ev), 0);
	vs_capture_writer_close(w);
	buf = slurp(fd, &len);
	r = vs_capture_reader_new(buf, len, NULL);
	while (r && vs_capture_next(r, &out, NULL) == VS_CAPTURE_EVENT)
		;
	CHECK(r != NULL);
	if (r) {
		CHECK_EQ_U(out.kind, VS_EV_MARK);
		CHECK_EQ_U(out.present, VS_HAS_TS | VS_HAS_CPU | VS_HAS_PID |
						VS_HAS_COMM);
		CHECK_STR(out.text, "stray bits");
		CHECK(vs_capture_reader_stats(r)->complete);
		CHECK_EQ_U(vs_capture_reader_stats(r)->events, VS_EV__MAX);
	}
	vs_capture_reader_free(r);
	free(buf);
	close(fd);
}

static void t_lost(void)
{
	struct vs_capture_info info = test_info();
	struct vs_capture_lost l1 = { .cpu = 3, .reason = VS_LOST_KERNEL,
				      .count = 17, .ts_ns = 5000 };
	struct vs_capture_lost l2 = { .cpu = -1, .reason = VS_LOST_WRITER,
				      .count = 1ull << 40, .ts_ns = 0 };
	struct vs_capture_writer *w;
	struct vs_capture_reader *r;
	struct vs_capture_lost got;
	struct vs_event ev = full_event(VS_EV_PKT_TX, 1), out;
	uint8_t *buf;
	size_t len;
	int fd = mem_fd();

	w = vs_capture_writer_new(fd, &info);
	CHECK_EQ_U(vs_capture_write_lost(w, &l1), 0);
	CHECK_EQ_U(vs_capture_write_event(w, &ev), 0);
	CHECK_EQ_U(vs_capture_write_lost(w, &l2), 0);
	CHECK_EQ_U(vs_capture_writer_close(w), 0);
	buf = slurp(fd, &len);
	r = vs_capture_reader_new(buf, len, NULL);
	CHECK(r != NULL);
	if (!r)
		goto out;
	CHECK_EQ_U(vs_capture_next(r, &out, &got), VS_CAPTURE_LOST);
	CHECK_EQ_U(got.cpu, 3);
	CHECK_EQ_U(got.reason, VS_LOST_KERNEL);
	CHECK_EQ_U(got.count, 17);
	CHECK_EQ_U(got.ts_ns, 5000);
	CHECK_EQ_U(vs_capture_reader_lost(r), 17);
	CHECK_EQ_U(vs_capture_next(r, &out, &got), VS_CAPTURE_EVENT);
	check_same(&ev, &out);
	/* lost may be NULL: the record is still counted */
	CHECK_EQ_U(vs_capture_next(r, &out, NULL), VS_CAPTURE_LOST);
	CHECK_EQ_U(vs_capture_reader_lost(r), 17 + (1ull << 40));
	CHECK_EQ_U(vs_capture_reader_stats(r)->lost_records, 2);
	CHECK_EQ_U(vs_capture_next(r, &out, &got), VS_CAPTURE_END);
	CHECK(vs_capture_reader_stats(r)->complete);
	vs_capture_reader_free(r);
out:
	free(buf);
	close(fd);
}

/*
 * The format is locked: these bytes were encoded by hand from
 * vsock-capture(5) (Python struct.pack('<...') and zlib.crc32), not
 * copied from the writer. A build on any architecture must produce them.
 */
static const char pkt_hex[] =
	"02ee49003485fff9027f00000000da00dce8000000010000002c0300000776686f"
	"73742d32030000000000000002000000000000000004000088130000001000000100"
	"0500000000000000040000200000";
static const char irq_hex[] =
	"028f2800cd5ab9fe070f010000a0e900dce80000000000000000000000063c6964"
	"6c653e0c0000000776697274696f36";
static const char lost_hex[] =
	"03be18008f352f061100000000000000b01001dce800000003000000000000"
	"00";
static const char end_hex[] =
	"04b918002df93b6e0200000000000000010000000000000011000000000000"
	"00";

static void t_fixed_bytes(void)
{
	struct vs_capture_info info = test_info();
	struct vs_capture_lost l = { .cpu = 3, .count = 17,
				     .ts_ns = 1000123470000ull };
	struct vs_event pkt = ctx(VS_EV_PKT_RX, 1000123456000ull);
	struct vs_event iev = ctx(VS_EV_IRQ, 1000123460000ull);
	struct vs_capture_writer *w;
	char hex[2 * 128 + 1];
	uint8_t *buf;
	size_t len, off;
	int fd = mem_fd();

	pkt.present |= VS_HAS_HDR | VS_HAS_BUF_ALLOC | VS_HAS_FWD_CNT;
	pkt.pkt = (struct vs_pkt){ .src_cid = 3, .dst_cid = 2,
				   .src_port = 1024, .dst_port = 5000,
				   .len = 4096, .type = VS_TYPE_STREAM,
				   .op = VS_OP_RW, .buf_alloc = 262144,
				   .fwd_cnt = 8192 };
	iev.cpu = 0;
	iev.pid = 0;
	snprintf(iev.comm, sizeof(iev.comm), "<idle>");
	iev.present |= VS_HAS_IRQ;
	iev.irq.irq = 12;
	snprintf(iev.irq.name, sizeof(iev.irq.name), "virtio6");

	w = vs_capture_writer_new(fd, &info);
	vs_capture_write_event(w, &pkt);
	vs_capture_write_event(w, &iev);
	vs_capture_write_lost(w, &l);
	vs_capture_writer_close(w);
	buf = slurp(fd, &len);
	CHECK(!memcmp(buf, "\x89VSCAPT\n", 8));
	/* the header record: type 1, text starting with the version */
	CHECK_EQ_U(buf[8], 1);
	CHECK_EQ_U(buf[9], 0xa5 ^ 1 ^ buf[10] ^ buf[11]);
	CHECK(!memcmp(buf + 16, "version=1.0\nwriter=test_capture\n", 32));
	off = header_end(buf);
	CHECK_EQ_U(len, off + 81 + 48 + 32 + 32);
	if (len != off + 81 + 48 + 32 + 32)
		goto out;
	to_hex(buf + off, 81, hex);
	CHECK_STR(hex, pkt_hex);
	to_hex(buf + off + 81, 48, hex);
	CHECK_STR(hex, irq_hex);
	to_hex(buf + off + 129, 32, hex);
	CHECK_STR(hex, lost_hex);
	to_hex(buf + off + 161, 32, hex);
	CHECK_STR(hex, end_hex);
out:
	free(buf);
	close(fd);
}

/* a small capture: the events, and the offset where each record ends */
struct small {
	uint8_t *buf;
	size_t len;
	size_t hdr_end;
	size_t nrec;
	size_t rec_end[16];
	int rec_kind[16]; /* VS_CAPTURE_EVENT or _LOST */
	struct vs_event ev[16];
};

static void small_capture(struct small *s)
{
	struct vs_capture_info info = test_info();
	struct vs_capture_lost l = { .cpu = 0, .count = 9, .ts_ns = 1 };
	struct vs_capture_writer *w;
	int fd = mem_fd();

	memset(s, 0, sizeof(*s));
	w = vs_capture_writer_new(fd, &info);
	for (unsigned int i = 0; i < 6; i++) {
		unsigned int k = kinds[(i * 5) % NKINDS];

		s->ev[s->nrec] = i & 1 ? few_event(k, i) : full_event(k, i);
		s->rec_kind[s->nrec] = VS_CAPTURE_EVENT;
		vs_capture_write_event(w, &s->ev[s->nrec]);
		vs_capture_flush(w);
		s->rec_end[s->nrec++] = (size_t)lseek(fd, 0, SEEK_END);
		if (i == 2) {
			s->rec_kind[s->nrec] = VS_CAPTURE_LOST;
			vs_capture_write_lost(w, &l);
			vs_capture_flush(w);
			s->rec_end[s->nrec++] = (size_t)lseek(fd, 0, SEEK_END);
		}
	}
	vs_capture_writer_close(w);
	s->buf = slurp(fd, &s->len);
	s->hdr_end = header_end(s->buf);
	close(fd);
}

/* read @r to its end: how many records came before; checks each one */
static size_t read_all(struct vs_capture_reader *r, const struct small *s,
		       int *last)
{
	struct vs_capture_lost l;
	struct vs_event ev;
	size_t n = 0;
	int ret;

	while ((ret = vs_capture_next(r, &ev, &l)) > 0) {
		CHECK(n < s->nrec);
		if (n >= s->nrec)
			break;
		CHECK_EQ_U(ret, s->rec_kind[n]);
		if (ret == VS_CAPTURE_EVENT)
			check_same(&s->ev[n], &ev);
		else
			CHECK_EQ_U(l.count, 9);
		n++;
	}
	*last = ret;
	return n;
}

/* cut the file at every byte: never a partial record, never damage */
static void t_truncate_everywhere(void)
{
	struct vs_capture_reader *r;
	struct vs_event ev;
	struct small s;
	size_t cut, n, expect;
	int err, last;

	small_capture(&s);
	for (cut = 0; cut <= s.len && !vs_check_failed; cut++) {
		uint8_t *copy = dup_bytes(s.buf, cut);

		err = 0;
		r = vs_capture_reader_new(copy, cut, &err);
		if (cut < s.hdr_end) {
			CHECK(r == NULL);
			CHECK_EQ_U(err, (uint64_t)-ENODATA);
			vs_capture_reader_free(r);
			free(copy);
			continue;
		}
		CHECK(r != NULL);
		if (!r) {
			free(copy);
			continue;
		}
		n = read_all(r, &s, &last);
		for (expect = 0; expect < s.nrec && s.rec_end[expect] <= cut;
		     expect++)
			;
		CHECK_EQ_U(last, VS_CAPTURE_END);
		CHECK_EQ_U(n, expect);
		{
			const struct vs_capture_stats *st =
				vs_capture_reader_stats(r);
			size_t good = expect ? s.rec_end[expect - 1]
					     : s.hdr_end;
			bool boundary = cut == good || cut == s.len;

			CHECK(st->complete == (cut == s.len));
			CHECK(vs_capture_reader_truncated(r) == !boundary);
			CHECK_EQ_U(st->good_bytes,
				   cut == s.len ? s.len : good);
			CHECK_EQ_U(st->tail_bytes,
				   cut == s.len ? 0 : cut - good);
			CHECK(!st->damaged);
		}
		/* the end stays the end */
		CHECK_EQ_U(vs_capture_next(r, &ev, NULL), VS_CAPTURE_END);
		vs_capture_reader_free(r);
		free(copy);
	}
	free(s.buf);
}

/* a file still being written: the torn record is read once it is whole */
static void t_update(void)
{
	struct vs_capture_reader *r;
	struct small s;
	size_t cut, n;
	int last;

	small_capture(&s);
	cut = s.rec_end[1] + 3;
	r = vs_capture_reader_new(s.buf, cut, NULL);
	CHECK(r != NULL);
	if (!r)
		goto out;
	n = read_all(r, &s, &last);
	CHECK_EQ_U(n, 2);
	CHECK(vs_capture_reader_truncated(r));
	CHECK_EQ_U(vs_capture_reader_update(r, s.buf, 10), (uint64_t)-EINVAL);
	CHECK_EQ_U(vs_capture_reader_update(r, s.buf, s.len), 0);
	/* read_all counts from the start: skip its check of the first two */
	{
		struct vs_event ev;
		struct vs_capture_lost l;
		size_t i = 2;
		int ret;

		while ((ret = vs_capture_next(r, &ev, &l)) > 0) {
			CHECK(i < s.nrec);
			if (i >= s.nrec)
				break;
			CHECK_EQ_U(ret, s.rec_kind[i]);
			if (ret == VS_CAPTURE_EVENT)
				check_same(&s.ev[i], &ev);
			i++;
		}
		CHECK_EQ_U(i, s.nrec);
	}
	CHECK(!vs_capture_reader_truncated(r));
	CHECK(vs_capture_reader_stats(r)->complete);
	vs_capture_reader_free(r);
out:
	free(s.buf);
}

/* a stream read for long: consumed bytes dropped, the same events go on */
static void t_rebase(void)
{
	struct vs_capture_reader *r;
	struct vs_capture_lost l;
	struct vs_event ev;
	struct small s;
	uint8_t *a, *b = NULL;
	size_t keep, i, n;
	int ret;

	small_capture(&s);
	/* the stream so far: the header, three records and part of one */
	a = dup_bytes(s.buf, s.rec_end[2] + 5);
	r = vs_capture_reader_new(a, s.rec_end[2] + 5, NULL);
	CHECK(r != NULL);
	if (!r)
		goto out;
	CHECK_EQ_U(vs_capture_reader_consumed(r), s.hdr_end);
	for (i = 0; i < 2; i++) {
		ret = vs_capture_next(r, &ev, &l);
		CHECK_EQ_U(ret, s.rec_kind[i]);
		if (ret == VS_CAPTURE_EVENT)
			check_same(&s.ev[i], &ev);
	}
	keep = vs_capture_reader_consumed(r);
	CHECK_EQ_U(keep, s.rec_end[1]);
	/* dropping a byte not read yet is refused, and changes nothing */
	CHECK_EQ_U(vs_capture_reader_rebase(r, a + keep + 1,
					    s.rec_end[2] + 4 - keep, keep + 1),
		   (uint64_t)-EINVAL);
	/* ... as is a buffer shorter than what was read */
	CHECK_EQ_U(vs_capture_reader_rebase(r, a, keep - 1, 0),
		   (uint64_t)-EINVAL);
	CHECK_EQ_U(vs_capture_reader_consumed(r), keep);
	/* drop what was read: the rest, moved to a new buffer */
	b = dup_bytes(s.buf + keep, s.rec_end[2] + 5 - keep);
	memset(a, 0xa5, s.rec_end[2] + 5); /* the old bytes are not used */
	CHECK_EQ_U(vs_capture_reader_rebase(r, b, s.rec_end[2] + 5 - keep,
					    keep),
		   0);
	CHECK_EQ_U(vs_capture_reader_consumed(r), 0);
	ret = vs_capture_next(r, &ev, &l);
	CHECK_EQ_U(ret, s.rec_kind[2]);
	if (ret == VS_CAPTURE_EVENT)
		check_same(&s.ev[2], &ev);
	/* the torn record waits for its bytes */
	CHECK_EQ_U(vs_capture_next(r, &ev, &l), VS_CAPTURE_END);
	CHECK_EQ_U(vs_capture_reader_consumed(r), s.rec_end[2] - keep);
	/* the stream grows; drop again, at the next record, then read on */
	free(b);
	keep = s.rec_end[2];
	b = dup_bytes(s.buf + keep, s.len - keep);
	CHECK_EQ_U(vs_capture_reader_rebase(r, b, s.len - keep,
					    s.rec_end[2] - s.rec_end[1]),
		   0);
	for (n = 3; (ret = vs_capture_next(r, &ev, &l)) > 0; n++) {
		CHECK(n < s.nrec);
		if (n >= s.nrec)
			break;
		CHECK_EQ_U(ret, s.rec_kind[n]);
		if (ret == VS_CAPTURE_EVENT)
			check_same(&s.ev[n], &ev);
		else
			CHECK_EQ_U(l.count, 9);
	}
	CHECK_EQ_U(ret, VS_CAPTURE_END);
	CHECK_EQ_U(n, s.nrec);
	/* offsets stay those of the whole stream */
	CHECK(vs_capture_reader_stats(r)->complete);
	CHECK(!vs_capture_reader_truncated(r));
	CHECK_EQ_U(vs_capture_reader_stats(r)->good_bytes, s.len);
	vs_capture_reader_free(r);
out:
	free(a);
	free(b);
	free(s.buf);
}

/* one flipped bit anywhere: detected, nothing after it read, no crash */
static void t_flipped_byte(void)
{
	struct vs_capture_reader *r;
	struct vs_event ev;
	struct small s;
	size_t at, n, expect;
	int err, last;

	small_capture(&s);
	for (at = 0; at < s.len && !vs_check_failed; at++) {
		for (unsigned int bit = 0; bit < 8; bit += 7) {
			uint8_t *copy = dup_bytes(s.buf, s.len);

			copy[at] ^= (uint8_t)(1u << bit);
			err = 0;
			r = vs_capture_reader_new(copy, s.len, &err);
			if (at < 8) {
				CHECK(r == NULL);
				CHECK_EQ_U(err, (uint64_t)-EMEDIUMTYPE);
			} else if (at < s.hdr_end) {
				CHECK(r == NULL);
				CHECK_EQ_U(err, (uint64_t)-EBADMSG);
			} else {
				CHECK(r != NULL);
			}
			if (r && at >= s.hdr_end) {
				n = read_all(r, &s, &last);
				for (expect = 0;
				     expect < s.nrec && s.rec_end[expect] <= at;
				     expect++)
					;
				CHECK_EQ_U(last, (uint64_t)-EBADMSG);
				CHECK_EQ_U(n, expect);
				CHECK(vs_capture_reader_stats(r)->damaged);
				CHECK(!vs_capture_reader_stats(r)->complete);
				/* and it stays stopped */
				CHECK_EQ_U(vs_capture_next(r, &ev, NULL),
					   (uint64_t)-EBADMSG);
			}
			vs_capture_reader_free(r);
			free(copy);
		}
	}
	free(s.buf);
}

/*
 * A file system that kept the file's size but not its last blocks leaves
 * zeros: a torn end, wherever in a record they start.
 */
static void t_zero_tail(void)
{
	struct vs_capture_reader *r;
	struct small s;
	uint8_t *copy;
	size_t len, cut, n, whole, start;
	int last;

	small_capture(&s);
	for (cut = s.rec_end[1]; cut <= s.rec_end[3] && !vs_check_failed;
	     cut++) {
		len = cut + 4096;
		copy = calloc(1, len);
		memcpy(copy, s.buf, cut);
		/* the records the zeros happen to leave as they were */
		for (whole = 0, start = s.hdr_end; whole < s.nrec; whole++) {
			if (memcmp(copy + start, s.buf + start,
				   s.rec_end[whole] - start))
				break;
			start = s.rec_end[whole];
		}
		r = vs_capture_reader_new(copy, len, NULL);
		CHECK(r != NULL);
		if (r) {
			n = read_all(r, &s, &last);
			CHECK_EQ_U(last, VS_CAPTURE_END);
			CHECK_EQ_U(n, whole);
			CHECK(vs_capture_reader_truncated(r));
			CHECK_EQ_U(vs_capture_reader_stats(r)->tail_bytes,
				   len - start);
		}
		vs_capture_reader_free(r);
		free(copy);
	}
	free(s.buf);
}

/* build magic + header + records by hand into @out; returns the length */
static size_t hand_file(uint8_t *out, const char *header)
{
	memcpy(out, "\x89VSCAPT\n", 8);
	return 8 + hand_record(out + 8, 1, (const uint8_t *)header,
			       strlen(header));
}

static void t_newer_writer(void)
{
	static uint8_t file[4096];
	uint8_t pl[300];
	struct vs_capture_reader *r;
	struct vs_event ev = full_event(VS_EV_VQ_KICK, 1), out;
	size_t n;
	int err;

	/* a newer minor version: unknown keys are ignored */
	n = hand_file(file, "version=1.7\nsystem=host\nfuture_key=x=y\n"
			    "no equals sign\ncid=4294967295\n");
	/* an unknown record type */
	memset(pl, 0x5a, sizeof(pl));
	n += hand_record(file + n, 0x7e, pl, sizeof(pl));
	/* an event of a kind this reader does not know */
	pl[0] = 200;
	n += hand_record(file + n, 2, pl, 40);
	/* a known event with more fields appended by a newer writer */
	{
		int fd = mem_fd();
		struct vs_capture_info info = test_info();
		struct vs_capture_writer *w = vs_capture_writer_new(fd, &info);
		uint8_t *tmp;
		size_t tlen, h, rl;

		vs_capture_write_event(w, &ev);
		vs_capture_flush(w);
		tmp = slurp(fd, &tlen);
		h = header_end(tmp);
		rl = tlen - h - 8;
		memcpy(pl, tmp + h + 8, rl);
		/* a present bit this version does not know, and its field */
		pl[1 + 3] |= 0x80;
		memcpy(pl + rl, "\x01\x02\x03\x04", 4);
		n += hand_record(file + n, 2, pl, rl + 4);
		vs_capture_writer_close(w);
		free(tmp);
		close(fd);
	}
	r = vs_capture_reader_new(file, n, &err);
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_EQ_U(vs_capture_reader_info(r)->version_minor, 7);
	CHECK_STR(vs_capture_reader_info(r)->system, "host");
	CHECK_EQ_U(vs_capture_reader_info(r)->cid, 4294967295u);
	CHECK_EQ_U(vs_capture_next(r, &out, NULL), VS_CAPTURE_EVENT);
	check_same(&ev, &out);
	CHECK_EQ_U(vs_capture_next(r, &out, NULL), VS_CAPTURE_END);
	CHECK_EQ_U(vs_capture_reader_stats(r)->skipped, 2);
	CHECK_EQ_U(vs_capture_reader_stats(r)->events, 1);
	/* no end record: the writer did not close, but nothing is torn */
	CHECK(!vs_capture_reader_stats(r)->complete);
	CHECK(!vs_capture_reader_truncated(r));
	vs_capture_reader_free(r);

	/* a new major version is refused, not misread */
	n = hand_file(file, "version=2.0\nsystem=host\n");
	err = 0;
	CHECK(vs_capture_reader_new(file, n, &err) == NULL);
	CHECK_EQ_U(err, (uint64_t)-EPROTONOSUPPORT);
}

/*
 * Records of every payload length up to 300 and the largest, checked
 * against the bit-by-bit oracle: whichever way this CPU computes the CRC
 * (tables, folding, CRC instructions) accepts them all, and rejects each
 * one with a single bit flipped.
 */
static void t_crc_every_length(void)
{
	static uint8_t file[70000], pl[65535];
	struct vs_capture_reader *r;
	struct vs_event out;
	uint32_t seed = 12345;
	size_t n, h;
	int ret;

	for (size_t i = 0; i < sizeof(pl); i++) {
		seed = seed * 1103515245u + 12345u;
		pl[i] = (uint8_t)(seed >> 16);
	}
	for (size_t len = 0; len <= 301; len++) {
		size_t plen = len == 301 ? sizeof(pl) : len;

		h = hand_file(file, "version=1.0\nsystem=host\n");
		n = h + hand_record(file + h, 0x7e, pl, plen);
		r = vs_capture_reader_new(file, n, NULL);
		CHECK(r != NULL);
		if (!r)
			return;
		ret = vs_capture_next(r, &out, NULL);
		if (ret != VS_CAPTURE_END ||
		    vs_capture_reader_stats(r)->skipped != 1) {
			CHECK_EQ_U(ret, VS_CAPTURE_END);
			CHECK_EQ_U(plen, (uint64_t)-1); /* names the length */
		}
		vs_capture_reader_free(r);
		if (!plen)
			continue;
		/* one bit flipped, somewhere in the payload */
		file[h + 8 + (seed % plen)] ^= (uint8_t)(1u << (seed % 8));
		seed = seed * 1103515245u + 12345u;
		r = vs_capture_reader_new(file, n, NULL);
		CHECK(r != NULL);
		if (!r)
			return;
		ret = vs_capture_next(r, &out, NULL);
		if (ret != -EBADMSG) {
			CHECK_EQ_U(ret, (uint64_t)-EBADMSG);
			CHECK_EQ_U(plen, (uint64_t)-1);
		}
		vs_capture_reader_free(r);
	}
}

/*
 * A capture read by vs_source from a file or a pipe goes through a window
 * of a few hundred KiB; read from memory, whole. Both must give the same
 * events, lost counts and verdict for captures bigger than the window:
 * whole, cut inside a record, followed by more zeros than the window
 * holds (a crashed writer's preallocated blocks), and damaged past the
 * first window. Each is read from a file (twice, with a rewind between)
 * and from a pipe that is spooled for the second read.
 */
struct src_run {
	uint64_t events, lost, skipped, sum;
};

static void src_read(struct vs_source *src, struct src_run *o)
{
	struct vs_event ev;

	memset(o, 0, sizeof(*o));
	while (vs_source_next(src, &ev) > 0) {
		o->events++;
		o->sum = o->sum * 31 + ev.ts_ns + ev.kind +
			 (vs_event_is_pkt(&ev) ? ev.pkt.len : 0);
	}
	o->lost = vs_source_stats(src)->lost;
	o->skipped = vs_source_stats(src)->skipped;
}

static void src_same(const struct src_run *a, const struct src_run *b)
{
	CHECK_EQ_U(b->events, a->events);
	CHECK_EQ_U(b->lost, a->lost);
	CHECK_EQ_U(b->skipped, a->skipped);
	CHECK_EQ_U(b->sum, a->sum);
}

/* @fd read as a path, twice with a rewind between: both as @whole */
static void src_twice(int fd, bool spool, const struct src_run *whole)
{
	struct vs_source *src;
	struct src_run got;
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	src = vs_source_open(path);
	CHECK(src != NULL);
	if (!src)
		return;
	if (spool)
		CHECK_EQ_U(vs_source_prepare_rewind(src), 0);
	src_read(src, &got);
	src_same(whole, &got);
	CHECK_EQ_U(vs_source_rewind(src), 0);
	src_read(src, &got);
	src_same(whole, &got);
	vs_source_close(src);
}

static void src_compare(const uint8_t *file, size_t len)
{
	struct src_run whole;
	struct vs_source *src;
	int fd, p[2];
	pid_t pid;

	src = vs_source_open_mem((const char *)file, len);
	CHECK(src != NULL);
	if (!src)
		return;
	src_read(src, &whole);
	vs_source_close(src);
	CHECK(whole.events > 10000); /* past the first windows */

	fd = mem_fd();
	CHECK(write(fd, file, len) == (ssize_t)len);
	src_twice(fd, false, &whole);
	close(fd);

	if (pipe(p))
		return;
	pid = fork();
	if (pid == 0) {
		size_t off = 0;

		close(p[0]);
		while (off < len) {
			ssize_t n = write(p[1], file + off, len - off);

			if (n <= 0)
				_exit(1);
			off += (size_t)n;
		}
		_exit(0);
	}
	close(p[1]);
	src_twice(p[0], true, &whole);
	close(p[0]);
	waitpid(pid, NULL, 0);
}

static void t_source_window(void)
{
	struct vs_capture_info info = test_info();
	struct vs_capture_writer *w;
	uint8_t *file, *big;
	size_t len, cut;
	int fd = mem_fd();

	w = vs_capture_writer_new(fd, &info);
	CHECK(w != NULL);
	if (!w)
		return;
	for (unsigned int i = 0; i < 40000; i++) {
		struct vs_event ev = full_event(kinds[i % NKINDS], i);

		vs_capture_write_event(w, &ev);
		if (i % 9973 == 0) {
			struct vs_capture_lost l = { .count = i + 1,
						     .ts_ns = ev.ts_ns };

			vs_capture_write_lost(w, &l);
		}
	}
	CHECK_EQ_U(vs_capture_writer_close(w), 0);
	file = slurp(fd, &len);
	close(fd);
	CHECK(len > 3 * (256u << 10));

	/* whole, with its end record */
	src_compare(file, len);
	/* cut inside a record, past the first windows */
	cut = len - len / 3 + 5;
	src_compare(file, cut);
	/* then 6 MiB of zeros: a torn tail, not damage */
	big = calloc(1, cut + (6u << 20));
	if (!big)
		return;
	memcpy(big, file, cut);
	src_compare(big, cut + (6u << 20));
	/* a damaged byte at 1 MiB: what came before it, and the verdict */
	memcpy(big, file, len);
	big[1u << 20] ^= 0x40;
	src_compare(big, len);
	free(big);
	free(file);
}

static void t_bad_headers(void)
{
	static const char *const bad[] = {
		"", "system=x\nversion=1.0\n", "version=1\n", "version=.0\n",
		"version=1.x\n", "version=1.0\ncid=12a\n",
		"version=1.0\ncid=-2\n",
		"version=1.0\nstart_ts_ns=18446744073709551616\n",
		"version=1.0\nstart_realtime_ns=\n",
	};
	static uint8_t file[1024];
	int err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = hand_file(file, bad[i]);

		err = 0;
		CHECK(vs_capture_reader_new(file, n, &err) == NULL);
		CHECK_EQ_U(err, (uint64_t)-EBADMSG);
	}
	/* an event where the header should be */
	memcpy(file, "\x89VSCAPT\n", 8);
	{
		static const uint8_t ev[6] = { VS_EV_MARK };
		size_t n = 8 + hand_record(file + 8, 2, ev, sizeof(ev));

		err = 0;
		CHECK(vs_capture_reader_new(file, n, &err) == NULL);
		CHECK_EQ_U(err, (uint64_t)-EBADMSG);
	}
	/* the longest values fit, values too long for a field are cut */
	{
		char hdr[700];
		struct vs_capture_reader *r;
		size_t n;

		snprintf(hdr, sizeof(hdr), "version=1.0\nsystem=%0200d\n", 7);
		n = hand_file(file, hdr);
		r = vs_capture_reader_new(file, n, &err);
		CHECK(r != NULL);
		if (r)
			CHECK_EQ_U(strlen(vs_capture_reader_info(r)->system),
				   63);
		vs_capture_reader_free(r);
	}
}

/* lengths that point far past the data, sums that would wrap */
static void t_huge_lengths(void)
{
	static uint8_t file[70000], big[65535];
	struct vs_capture_reader *r;
	struct vs_capture_lost l;
	struct vs_event ev;
	uint8_t pl[64];
	size_t n, base;

	base = hand_file(file, "version=1.0\n");
	/* framing that claims 65535 bytes, 20 there: a torn tail */
	n = base;
	file[n] = 2;
	file[n + 2] = 0xff;
	file[n + 3] = 0xff;
	file[n + 1] = 0xa5 ^ 2 ^ 0xff ^ 0xff;
	memset(file + n + 4, 0x33, 16);
	n += 20;
	r = vs_capture_reader_new(file, n, NULL);
	CHECK(r != NULL);
	CHECK_EQ_U(vs_capture_next(r, &ev, NULL), VS_CAPTURE_END);
	CHECK(vs_capture_reader_truncated(r));
	vs_capture_reader_free(r);
	/* the same with its check byte wrong: damage, not a torn tail */
	file[base + 1] ^= 0x10;
	r = vs_capture_reader_new(file, n, NULL);
	CHECK_EQ_U(vs_capture_next(r, &ev, NULL), (uint64_t)-EBADMSG);
	vs_capture_reader_free(r);
	/* a whole 65535-byte record of an unknown type is skipped */
	memset(big, 0x11, sizeof(big));
	n = base + hand_record(file + base, 0x42, big, sizeof(big));
	r = vs_capture_reader_new(file, n, NULL);
	CHECK_EQ_U(vs_capture_next(r, &ev, NULL), VS_CAPTURE_END);
	CHECK_EQ_U(vs_capture_reader_stats(r)->skipped, 1);
	CHECK(!vs_capture_reader_truncated(r));
	vs_capture_reader_free(r);
	/* an event whose string claims 255 bytes of 10 */
	memset(pl, 0, sizeof(pl));
	pl[0] = VS_EV_MARK;
	pl[1] = VS_HAS_COMM;
	pl[5] = 255;
	n = base + hand_record(file + base, 2, pl, 15);
	r = vs_capture_reader_new(file, n, NULL);
	CHECK_EQ_U(vs_capture_next(r, &ev, NULL), (uint64_t)-EBADMSG);
	vs_capture_reader_free(r);
	/* an event shorter than its present bits say */
	memset(pl, 0, sizeof(pl));
	pl[0] = VS_EV_PKT_TX;
	pl[1] = VS_HAS_TS | VS_HAS_HDR;
	n = base + hand_record(file + base, 2, pl, 5 + 8 + 35);
	r = vs_capture_reader_new(file, n, NULL);
	CHECK_EQ_U(vs_capture_next(r, &ev, NULL), (uint64_t)-EBADMSG);
	vs_capture_reader_free(r);
	/* two lost counts that would wrap the sum */
	memset(pl, 0xff, 8);
	memset(pl + 8, 0, 16);
	n = base + hand_record(file + base, 3, pl, 24);
	n += hand_record(file + n, 3, pl, 24);
	r = vs_capture_reader_new(file, n, NULL);
	CHECK_EQ_U(vs_capture_next(r, &ev, &l), VS_CAPTURE_LOST);
	CHECK_EQ_U(l.count, UINT64_MAX);
	CHECK_EQ_U(vs_capture_next(r, &ev, &l), (uint64_t)-EBADMSG);
	vs_capture_reader_free(r);
	/* an end record whose counts disagree: records went missing */
	memset(pl, 0, 24);
	pl[0] = 1;
	n = base + hand_record(file + base, 4, pl, 24);
	r = vs_capture_reader_new(file, n, NULL);
	CHECK_EQ_U(vs_capture_next(r, &ev, &l), (uint64_t)-EBADMSG);
	vs_capture_reader_free(r);
	/* a second header: two files run together */
	n = base + hand_record(file + base, 1,
			       (const uint8_t *)"version=1.0\n", 12);
	r = vs_capture_reader_new(file, n, NULL);
	CHECK_EQ_U(vs_capture_next(r, &ev, &l), (uint64_t)-EBADMSG);
	vs_capture_reader_free(r);
}

static void t_not_capture(void)
{
	static const char text[] = "# tracer: nop\n#\n";
	uint8_t *p;
	int err;

	CHECK(!vs_capture_detect("", 0));
	CHECK(!vs_capture_detect(text, sizeof(text) - 1));
	CHECK(!vs_capture_detect("\x89VSCAPT", 7));
	CHECK(vs_capture_detect("\x89VSCAPT\n", 8));
	p = dup_bytes((const uint8_t *)"", 0);
	err = 0;
	CHECK(vs_capture_reader_new(p, 0, &err) == NULL);
	CHECK_EQ_U(err, (uint64_t)-ENODATA);
	free(p);
	p = dup_bytes((const uint8_t *)text, sizeof(text) - 1);
	CHECK(vs_capture_reader_new(p, sizeof(text) - 1, &err) == NULL);
	CHECK_EQ_U(err, (uint64_t)-EMEDIUMTYPE);
	CHECK_EQ_U(errno, EMEDIUMTYPE);
	free(p);
	/* a few bytes of the magic: a capture cut before its header */
	p = dup_bytes((const uint8_t *)"\x89VSC", 4);
	CHECK(vs_capture_reader_new(p, 4, &err) == NULL);
	CHECK_EQ_U(err, (uint64_t)-ENODATA);
	free(p);
	p = dup_bytes((const uint8_t *)"\x89VSD", 4);
	CHECK(vs_capture_reader_new(p, 4, &err) == NULL);
	CHECK_EQ_U(err, (uint64_t)-EMEDIUMTYPE);
	free(p);
	CHECK(strstr(vs_capture_strerror(-EMEDIUMTYPE), "not a") != NULL);
	CHECK(strstr(vs_capture_strerror(-ENODATA), "header") != NULL);
	CHECK(strstr(vs_capture_strerror(-EBADMSG), "damaged") != NULL);
	CHECK(strstr(vs_capture_strerror(-EPROTONOSUPPORT), "version"));
	CHECK_STR(vs_capture_strerror(-ENOSPC), strerror(ENOSPC));
}

/*
 * A file that stops growing (RLIMIT_FSIZE stands in for a full disk):
 * the writer says so, keeps what it could not write, and what reached the
 * file reads back to its last whole record.
 */
static void t_full_disk(void)
{
	struct vs_capture_info info = test_info();
	struct vs_capture_writer *w;
	struct vs_capture_reader *r;
	struct rlimit old, lim;
	struct vs_event ev = full_event(VS_EV_PKT_RX, 3), out;
	char path[] = "/tmp/test_capture.XXXXXX";
	uint8_t *buf;
	size_t len, accepted = 0, n = 0, rec;
	int fd, ret = 0;

	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	unlink(path);
	CHECK(!getrlimit(RLIMIT_FSIZE, &old));
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 100000; /* not a multiple of the record size */
	CHECK(!setrlimit(RLIMIT_FSIZE, &lim));
	w = vs_capture_writer_new(fd, &info);
	CHECK(w != NULL);
	while (w && accepted < 100000) {
		ret = vs_capture_write_event(w, &ev);
		if (ret)
			break;
		accepted++;
	}
	CHECK_EQ_U(ret, (uint64_t)-EFBIG);
	CHECK(accepted > 1000);
	/* refused whole: nothing queued is lost, the flush fails the same */
	CHECK(vs_capture_writer_pending(w) > 0);
	CHECK_EQ_U(vs_capture_flush(w), (uint64_t)-EFBIG);
	CHECK_EQ_U(vs_capture_writer_close(w), (uint64_t)-EFBIG);
	CHECK(!setrlimit(RLIMIT_FSIZE, &old));
	signal(SIGXFSZ, SIG_DFL);

	buf = slurp(fd, &len);
	CHECK_EQ_U(len, 100000);
	r = vs_capture_reader_new(buf, len, NULL);
	CHECK(r != NULL);
	while (r && (ret = vs_capture_next(r, &out, NULL)) ==
			    VS_CAPTURE_EVENT) {
		if (!n)
			check_same(&ev, &out);
		n++;
	}
	CHECK_EQ_U(ret, VS_CAPTURE_END);
	CHECK(vs_capture_reader_truncated(r));
	CHECK(!vs_capture_reader_stats(r)->complete);
	rec = 8 + (size_t)(buf[header_end(buf) + 2] |
			   buf[header_end(buf) + 3] << 8);
	CHECK_EQ_U(n, (100000 - header_end(buf)) / rec);
	CHECK(n < accepted);
	vs_capture_reader_free(r);
	free(buf);
	close(fd);
	/* a disk that is always full: no writer at all */
	fd = open("/dev/full", O_WRONLY);
	if (fd >= 0) {
		errno = 0;
		CHECK(vs_capture_writer_new(fd, &info) == NULL);
		CHECK_EQ_U(errno, ENOSPC);
		close(fd);
	}
}

/*
 * A pipe that fills up (a slow reader, or a disk that frees space): the
 * bytes the writer could not write go first once it can, so the stream
 * stays whole.
 */
static void t_refused_then_resumed(void)
{
	struct vs_capture_info info = test_info();
	struct vs_capture_writer *w;
	struct vs_capture_reader *r;
	struct vs_event ev, out;
	uint8_t *all = malloc(1 << 22), chunk[65536];
	size_t have = 0, refused = 0, accepted = 0, n = 0;
	int p[2], ret;
	ssize_t got;

	CHECK(!pipe2(p, O_NONBLOCK));
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	w = vs_capture_writer_new(p[1], &info);
	CHECK(w != NULL);
	for (unsigned int i = 0; w && i < 20000; i++) {
		ev = full_event(kinds[i % NKINDS], i);
		ret = vs_capture_write_event(w, &ev);
		CHECK(ret == 0 || ret == -EAGAIN);
		if (ret)
			refused++;
		else
			accepted++;
		/* now and then the reader catches up */
		if (i % 1500 == 0)
			while ((got = read(p[0], chunk, sizeof(chunk))) > 0) {
				memcpy(all + have, chunk, (size_t)got);
				have += (size_t)got;
			}
	}
	CHECK(refused > 0);
	ret = vs_capture_flush(w);
	while (ret == -EAGAIN || vs_capture_writer_pending(w)) {
		while ((got = read(p[0], chunk, sizeof(chunk))) > 0) {
			memcpy(all + have, chunk, (size_t)got);
			have += (size_t)got;
		}
		ret = vs_capture_flush(w);
	}
	CHECK_EQ_U(ret, 0);
	/* room in the pipe for the end record */
	while ((got = read(p[0], chunk, sizeof(chunk))) > 0) {
		memcpy(all + have, chunk, (size_t)got);
		have += (size_t)got;
	}
	ret = vs_capture_writer_close(w);
	while ((got = read(p[0], chunk, sizeof(chunk))) > 0) {
		memcpy(all + have, chunk, (size_t)got);
		have += (size_t)got;
	}
	CHECK_EQ_U(ret, 0);
	r = vs_capture_reader_new(all, have, NULL);
	CHECK(r != NULL);
	while (r && (ret = vs_capture_next(r, &out, NULL)) == VS_CAPTURE_EVENT)
		n++;
	CHECK_EQ_U(ret, VS_CAPTURE_END);
	CHECK_EQ_U(n, accepted);
	if (r)
		CHECK(vs_capture_reader_stats(r)->complete);
	vs_capture_reader_free(r);
	close(p[0]);
	close(p[1]);
	free(all);
}

VS_TEST_MAIN({ "capture_header_round_trip", t_header_round_trip },
	     { "capture_header_defaults", t_header_defaults },
	     { "capture_every_kind_full", t_every_kind_full },
	     { "capture_every_kind_few_fields", t_every_kind_few },
	     { "capture_kinds_covered", t_kinds_covered },
	     { "capture_lost_records", t_lost },
	     { "capture_fixed_bytes", t_fixed_bytes },
	     { "capture_truncated_everywhere", t_truncate_everywhere },
	     { "capture_update_grown_file", t_update },
	     { "capture_rebase_dropped_bytes", t_rebase },
	     { "capture_flipped_byte", t_flipped_byte },
	     { "capture_zero_tail", t_zero_tail },
	     { "capture_newer_writer", t_newer_writer },
	     { "capture_crc_every_length", t_crc_every_length },
	     { "capture_source_window", t_source_window },
	     { "capture_bad_headers", t_bad_headers },
	     { "capture_huge_lengths", t_huge_lengths },
	     { "capture_not_capture", t_not_capture },
	     { "capture_full_disk", t_full_disk },
	     { "capture_refused_then_resumed", t_refused_then_resumed })
