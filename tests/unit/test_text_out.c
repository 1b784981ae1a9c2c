// SPDX-License-Identifier: GPL-2.0-only
/*
 * text_out.c writes what source_text.c reads: every kind of event formatted
 * and parsed back gives the same fields.
 */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "source_text.h"
#include "text_out.h"

static struct vs_event base(unsigned int kind)
{
	struct vs_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = (uint16_t)kind;
	ev.ts_ns = 1000123456000ull;
	ev.cpu = 1;
	ev.pid = 812;
	snprintf(ev.comm, sizeof(ev.comm), "vhost-2");
	ev.present = VS_HAS_TS | VS_HAS_CPU | VS_HAS_PID | VS_HAS_COMM;
	return ev;
}

/* format, then parse from an exactly sized copy */
static int round_trip(const struct vs_event *in, struct vs_event *out)
{
	char line[512], *copy;
	uint64_t lost;
	int n, r;

	n = vs_text_format(in, line, sizeof(line));
	CHECK(n > 0 && line[n - 1] == '\n');
	if (n <= 0)
		return -1;
	copy = malloc((size_t)n - 1);
	memcpy(copy, line, (size_t)n - 1);
	r = vs_text_parse_line(copy, (size_t)n - 1, out, &lost);
	free(copy);
	CHECK_EQ_U(r, VS_LINE_EVENT);
	CHECK_EQ_U(out->kind, in->kind);
	CHECK_EQ_U(out->ts_ns, in->ts_ns);
	CHECK_EQ_U(out->cpu, in->cpu);
	CHECK_EQ_U(out->pid, in->pid);
	CHECK_STR(out->comm, in->comm);
	return r;
}

static void t_pkt(void)
{
	struct vs_event in = base(VS_EV_PKT_RX), out;

	in.present |= VS_HAS_HDR | VS_HAS_BUF_ALLOC | VS_HAS_FWD_CNT;
	in.pkt = (struct vs_pkt){ .src_cid = 3, .dst_cid = 2,
				  .src_port = 1024, .dst_port = 5000,
				  .len = 4096, .type = VS_TYPE_STREAM,
				  .op = VS_OP_RW, .flags = 0,
				  .buf_alloc = 262144, .fwd_cnt = 4294967295u };
	round_trip(&in, &out);
	CHECK_EQ_U(out.pkt.src_cid, 3);
	CHECK_EQ_U(out.pkt.dst_port, 5000);
	CHECK_EQ_U(out.pkt.len, 4096);
	CHECK_EQ_U(out.pkt.op, VS_OP_RW);
	CHECK_EQ_U(out.pkt.fwd_cnt, 4294967295u);
	CHECK(out.present & VS_HAS_FWD_CNT);
	/* a send has no credit fields; unknown ops print as numbers */
	in.kind = VS_EV_PKT_TX;
	in.present &= ~(VS_HAS_BUF_ALLOC | VS_HAS_FWD_CNT);
	in.pkt.op = 9;
	in.pkt.type = VS_TYPE_SEQPACKET;
	in.pkt.flags = VS_SHUTDOWN_RCV | VS_SHUTDOWN_SEND;
	round_trip(&in, &out);
	CHECK_EQ_U(out.pkt.op, 9);
	CHECK_EQ_U(out.pkt.type, VS_TYPE_SEQPACKET);
	CHECK_EQ_U(out.pkt.flags, 3);
	CHECK(!(out.present & VS_HAS_FWD_CNT));
}

static void t_irq_alloc(void)
{
	struct vs_event in = base(VS_EV_IRQ), out;

	in.present |= VS_HAS_IRQ;
	in.irq.irq = 24;
	snprintf(in.irq.name, sizeof(in.irq.name), "virtio0-rx");
	round_trip(&in, &out);
	CHECK_STR(out.irq.name, "virtio0-rx");
	CHECK_EQ_U(out.irq.irq, 24);

	in = base(VS_EV_ALLOC);
	in.present |= VS_HAS_SIZE | VS_HAS_CALLSITE;
	in.alloc.source = VS_ALLOC_KMALLOC;
	in.alloc.bytes_req = 4140;
	in.alloc.bytes_alloc = 4140;
	in.alloc.failed = 1;
	snprintf(in.alloc.call_site, sizeof(in.alloc.call_site),
		 "virtio_vsock_rx_fill+0x3c/0x110");
	round_trip(&in, &out);
	CHECK(out.alloc.failed);
	CHECK_EQ_U(out.alloc.bytes_req, 4140);
	CHECK_STR(out.alloc.call_site, "virtio_vsock_rx_fill+0x3c/0x110");
	in.alloc.failed = 0;
	round_trip(&in, &out);
	CHECK(!out.alloc.failed);

	in = base(VS_EV_ALLOC);
	in.present |= VS_HAS_ORDER;
	in.alloc.source = VS_ALLOC_PAGE;
	in.alloc.order = 4;
	in.alloc.failed = 1;
	round_trip(&in, &out);
	CHECK_EQ_U(out.alloc.source, VS_ALLOC_PAGE);
	CHECK_EQ_U(out.alloc.order, 4);
	CHECK(out.alloc.failed);
}

static void t_vsockscope_events(void)
{
	static const unsigned int kinds[] = { VS_EV_VQ_KICK, VS_EV_VQ_CALL,
					      VS_EV_VQ_IRQ, VS_EV_VQ_ADD,
					      VS_EV_VQ_GET };
	struct vs_event in, out;

	for (unsigned int i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		in = base(kinds[i]);
		in.present |= VS_HAS_IDX | VS_HAS_NUM;
		snprintf(in.vq.dev, sizeof(in.vq.dev), "vsock");
		snprintf(in.vq.vq, sizeof(in.vq.vq), "tx");
		in.vq.idx = 65535;
		in.vq.num = 17;
		round_trip(&in, &out);
		CHECK_STR(out.vq.dev, "vsock");
		CHECK_STR(out.vq.vq, "tx");
		CHECK_EQ_U(out.vq.idx, 65535);
		CHECK_EQ_U(out.vq.num, 17);
	}
	in = base(VS_EV_MBOX_TX);
	snprintf(in.mbox.chan, sizeof(in.mbox.chan), "mbox0");
	in.mbox.msg = 0xdead;
	round_trip(&in, &out);
	CHECK_STR(out.mbox.chan, "mbox0");
	CHECK_EQ_U(out.mbox.msg, 0xdead);
	in = base(VS_EV_MARK);
	snprintf(in.text, sizeof(in.text), "reader stop");
	round_trip(&in, &out);
	CHECK_STR(out.text, "reader stop");
}

static void t_header_and_limits(void)
{
	struct vs_event in = base(VS_EV_IRQ);
	char small[16], hdr[512];
	uint64_t lost;
	struct vs_event out;

	in.present |= VS_HAS_IRQ;
	CHECK(vs_text_format(&in, small, sizeof(small)) < 0);
	in.kind = VS_EV__MAX;
	CHECK(vs_text_format(&in, hdr, sizeof(hdr)) < 0);
	CHECK(vs_text_header(hdr, sizeof(hdr), 2) > 0);
	/* every header line is one the parser ignores */
	for (char *l = strtok(hdr, "\n"); l; l = strtok(NULL, "\n"))
		CHECK_EQ_U(vs_text_parse_line(l, strlen(l), &out, &lost),
			   VS_LINE_IGNORED);
}

/* the line as vs_text_event() and printf make it: the reference */
static int ref_format(const struct vs_event *ev, char *buf, size_t size)
{
	char args[256];
	const char *name;
	int n;

	if (vs_text_event(ev, &name, args, sizeof(args)))
		return -1;
	n = snprintf(buf, size, "%16s-%-7d [%03d] ..... %5" PRIu64 ".%06" PRIu64
		     ": %s: %s\n",
		     (ev->present & VS_HAS_COMM) ? ev->comm : "<...>",
		     ev->pid < 0 ? 0 : ev->pid, ev->cpu < 0 ? 0 : ev->cpu,
		     ev->ts_ns / UINT64_C(1000000000),
		     (ev->ts_ns % UINT64_C(1000000000)) / 1000, name, args);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* splitmix64: a seeded stream of numbers, the same on every run */
static uint64_t next(void)
{
	static uint64_t x = 42;
	uint64_t z = (x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* a number of any size: small ones and edges are the interesting ones */
static uint64_t any(void)
{
	switch (next() % 4) {
	case 0:
		return next() % 10;
	case 1:
		return next() % 100000;
	case 2:
		return ~0ull - next() % 3;
	default:
		return next();
	}
}

static void any_str(char *s, size_t size)
{
	size_t n = next() % size;

	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + next() % 26);
	s[n] = '\0';
}

/* the fast path of the per-packet kinds prints what printf does */
static void t_fast_same_as_printf(void)
{
	static const unsigned int kinds[] = { VS_EV_PKT_TX, VS_EV_PKT_RX,
					      VS_EV_IRQ,    VS_EV_ALLOC,
					      VS_EV_VQ_KICK, VS_EV_VQ_CALL };
	char got[512], want[512];

	for (int i = 0; i < 200000; i++) {
		struct vs_event ev = base(kinds[next() % 6]);
		int a, b;

		ev.present = (uint32_t)next();
		ev.ts_ns = any();
		ev.cpu = (int)any();
		ev.pid = (int)any();
		any_str(ev.comm, sizeof(ev.comm));
		ev.pkt = (struct vs_pkt){
			.src_cid = any(),
			.dst_cid = any(),
			.src_port = (uint32_t)any(),
			.dst_port = (uint32_t)any(),
			.len = (uint32_t)any(),
			.type = (uint16_t)(next() % 4),
			.op = (uint16_t)(next() % 9),
			.flags = (uint32_t)any(),
			.buf_alloc = (uint32_t)any(),
			.fwd_cnt = (uint32_t)any(),
			.zcopy = next() & 1,
		};
		if (ev.kind == VS_EV_IRQ) {
			ev.irq.irq = (int)any();
			any_str(ev.irq.name, sizeof(ev.irq.name));
		} else if (ev.kind == VS_EV_ALLOC) {
			ev.alloc.source = next() & 1 ? VS_ALLOC_KMALLOC
						     : VS_ALLOC_PAGE;
			ev.alloc.order = (int)(next() % 11) - 1;
			ev.alloc.bytes_req = any();
			ev.alloc.bytes_alloc = any();
			ev.alloc.failed = next() & 1;
			any_str(ev.alloc.call_site,
				sizeof(ev.alloc.call_site));
		} else if (ev.kind == VS_EV_VQ_KICK ||
			   ev.kind == VS_EV_VQ_CALL) {
			any_str(ev.vq.dev, sizeof(ev.vq.dev));
			any_str(ev.vq.vq, sizeof(ev.vq.vq));
			ev.vq.idx = (uint32_t)any();
			ev.vq.num = (uint32_t)any();
		}
		a = vs_text_format(&ev, got, sizeof(got));
		b = ref_format(&ev, want, sizeof(want));
		CHECK_EQ_U(a, b);
		if (a != b || a < 0)
			break;
		CHECK_STR(got, want);
		if (strcmp(got, want))
			break;
		/* a buffer one byte short is refused, as snprintf's is */
		CHECK(vs_text_format(&ev, got, (size_t)a) < 0);
	}
}

VS_TEST_MAIN({ "text_out_pkt", t_pkt }, { "text_out_irq_alloc", t_irq_alloc },
	     { "text_out_vsockscope_events", t_vsockscope_events },
	     { "text_out_header_and_limits", t_header_and_limits },
	     { "text_out_fast_same_as_printf", t_fast_same_as_printf })
