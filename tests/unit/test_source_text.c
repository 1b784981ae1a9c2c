// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the tracefs text parser (lib/source_text.c) and the text
 * source (lib/source.c), written against source_text.h and source.h.
 *
 * Every line is handed to the parser in an exactly sized heap buffer with
 * no terminating NUL, so AddressSanitizer catches a read past @len.
 * Run from the repository root (fixtures are in tests/fixtures/text/).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "event.h"
#include "source.h"
#include "source_text.h"

#define FIXTURES "tests/fixtures/text/"

#define VS_CTX (VS_HAS_TS | VS_HAS_CPU | VS_HAS_PID | VS_HAS_COMM)
#define VS_HAS_ALL ((1u << 15) - 1)

/* ---- helpers ------------------------------------------------------- */

static const char *esc(const char *s, size_t len)
{
	static char out[200];
	size_t i, o = 0;

	for (i = 0; i < len && o < sizeof(out) - 8; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x",
					      c);
	}
	if (i < len)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "...");
	out[o] = '\0';
	return out;
}

/* parse @len bytes of @s from an exactly sized heap copy */
static int parse_fill(const char *s, size_t len, struct vs_event *ev,
		      uint64_t *lost, int fill)
{
	char *buf = malloc(len ? len : 1);
	int r;

	if (!buf)
		abort();
	memcpy(buf, s, len);
	memset(ev, fill, sizeof(*ev));
	r = vs_text_parse_line(buf, len, ev, lost);
	free(buf);
	return r;
}

static int parse_n(const char *s, size_t len, struct vs_event *ev,
		   uint64_t *lost)
{
	return parse_fill(s, len, ev, lost, 0);
}

static int parse(const char *s, struct vs_event *ev)
{
	uint64_t lost = 0;

	return parse_n(s, strlen(s), ev, &lost);
}

#define FAIL_MSG(fmt, ...)                                                   \
	do {                                                                 \
		if (!vs_check_failed)                                        \
			printf("FAIL %s: %s:%d: " fmt "\n", vs_check_case,    \
			       __FILE__, __LINE__, __VA_ARGS__);             \
		vs_check_failed = 1;                                         \
	} while (0)

/* result check that names the offending line */
#define CHECK_RES(s, len, got, want)                                         \
	do {                                                                 \
		int g_ = (got), w_ = (want);                                 \
		if (g_ != w_)                                                \
			FAIL_MSG("result %d, expected %d for \"%s\"", g_, w_, \
				 esc((s), (len)));                           \
	} while (0)

/* parse a NUL-terminated literal and require VS_LINE_EVENT of @kind_ */
#define PARSE_EV(s, ev, kind_)                                               \
	do {                                                                 \
		CHECK_RES((s), strlen(s), parse((s), (ev)), VS_LINE_EVENT);  \
		CHECK_EQ_U((ev)->kind, (kind_));                             \
	} while (0)

#define CHECK_NUL(arr) CHECK(memchr((arr), 0, sizeof(arr)) != NULL)

#define CHECK_CTX(ev, ts, cpu_, pid_, comm_)                                 \
	do {                                                                 \
		CHECK_EQ_U((ev)->present & VS_CTX, VS_CTX);                   \
		CHECK_EQ_U((ev)->ts_ns, (ts));                               \
		CHECK_EQ_U((ev)->cpu, (cpu_));                               \
		CHECK_EQ_U((ev)->pid, (pid_));                               \
		CHECK_NUL((ev)->comm);                                       \
		CHECK_STR((ev)->comm, (comm_));                              \
	} while (0)

#define CHECK_PKT(ev, scid, sport, dcid, dport, len_, type_, op_, flags_)    \
	do {                                                                 \
		CHECK((ev)->present & VS_HAS_HDR);                            \
		CHECK_EQ_U((ev)->pkt.src_cid, (scid));                       \
		CHECK_EQ_U((ev)->pkt.src_port, (sport));                     \
		CHECK_EQ_U((ev)->pkt.dst_cid, (dcid));                       \
		CHECK_EQ_U((ev)->pkt.dst_port, (dport));                     \
		CHECK_EQ_U((ev)->pkt.len, (len_));                           \
		CHECK_EQ_U((ev)->pkt.type, (type_));                         \
		CHECK_EQ_U((ev)->pkt.op, (op_));                             \
		CHECK_EQ_U((ev)->pkt.flags, (flags_));                       \
	} while (0)

#define CHECK_PREFIX(str, arr, want)                                         \
	do {                                                                 \
		CHECK_NUL(arr);                                              \
		if (strncmp((arr), (want), strlen(want)))                    \
			FAIL_MSG("%s == \"%s\", expected prefix \"%s\"",     \
				 #arr, (arr), (want));                       \
	} while (0)

/* ---- seed 000 lines, exactly as printed in the field report --------- */

/* Linux host; the blog turned the padding into U+00A0 (c2 a0) */
static const char seed_linux_nbsp[] =
	"\xc2\xa0->vsock:1000:55-971 \xc2\xa0 \xc2\xa0[000] .... "
	"18409.529434: virtio_transport_alloc_pkt: 2:2844408420 -> "
	"1000:5555 len=50 type=STREAM op=RW flags=0x0";
/* the same line as the kernel prints it */
static const char seed_linux[] =
	" ->vsock:1000:55-971     [000] .... 18409.529434: "
	"virtio_transport_alloc_pkt: 2:2844408420 -> 1000:5555 len=50 "
	"type=STREAM op=RW flags=0x0";
/* Android guest */
static const char seed_irq[] =
	"          <idle>-0       [000] d.h1 66016.708821: "
	"irq_handler_entry: irq=12 name=virtio6";
static const char seed_recv[] =
	"     kworker/0:0-18178   [000] .... 66016.708919: "
	"virtio_transport_recv_pkt: 2:2844408420 -> 1000:5555 len=58 "
	"type=STREAM op=RW flags=0x0 buf_alloc=262144 fwd_cnt=7336588";
static const char seed_alloc[] =
	"            adbd-3803    [001] .... 66016.717478: "
	"virtio_transport_alloc_pkt: 1000:5555 -> 2:2844408420 len=24 "
	"type=STREAM op=RW flags=0x0";

#define ADBD "            adbd-3803    [001] .... 66016.717478: "
#define ADBD5 "            adbd-3803    [001] ..... 66016.717478: "
#define TX_HDR "1000:5555 -> 2:2844408420 "

/* ---- vsock packets -------------------------------------------------- */

static void t_alloc_pkt_seed000(void)
{
	struct vs_event ev;

	PARSE_EV(seed_alloc, &ev, VS_EV_PKT_TX);
	CHECK_CTX(&ev, 66016717478000ull, 1, 3803, "adbd");
	CHECK_PKT(&ev, 1000, 5555, 2, 2844408420u, 24, VS_TYPE_STREAM,
		  VS_OP_RW, 0);
	CHECK_EQ_U(ev.present, VS_CTX | VS_HAS_HDR);
	CHECK_EQ_U(ev.system, 0);
}

static void t_alloc_pkt_seed000_linux(void)
{
	struct vs_event ev;

	PARSE_EV(seed_linux, &ev, VS_EV_PKT_TX);
	CHECK_CTX(&ev, 18409529434000ull, 0, 971, "->vsock:1000:55");
	CHECK_PKT(&ev, 2, 2844408420u, 1000, 5555, 50, VS_TYPE_STREAM,
		  VS_OP_RW, 0);
	CHECK_EQ_U(ev.present, VS_CTX | VS_HAS_HDR);
}

static void t_alloc_pkt_seed000_linux_nbsp(void)
{
	struct vs_event ev;

	PARSE_EV(seed_linux_nbsp, &ev, VS_EV_PKT_TX);
	CHECK_CTX(&ev, 18409529434000ull, 0, 971, "->vsock:1000:55");
	CHECK_PKT(&ev, 2, 2844408420u, 1000, 5555, 50, VS_TYPE_STREAM,
		  VS_OP_RW, 0);
}

static void t_recv_pkt_seed000(void)
{
	struct vs_event ev;

	PARSE_EV(seed_recv, &ev, VS_EV_PKT_RX);
	CHECK_CTX(&ev, 66016708919000ull, 0, 18178, "kworker/0:0");
	CHECK_PKT(&ev, 2, 2844408420u, 1000, 5555, 58, VS_TYPE_STREAM,
		  VS_OP_RW, 0);
	CHECK_EQ_U(ev.pkt.buf_alloc, 262144);
	CHECK_EQ_U(ev.pkt.fwd_cnt, 7336588);
	CHECK_EQ_U(ev.present,
		   VS_CTX | VS_HAS_HDR | VS_HAS_BUF_ALLOC | VS_HAS_FWD_CNT);
}

static void t_irq_entry_seed000(void)
{
	struct vs_event ev;

	PARSE_EV(seed_irq, &ev, VS_EV_IRQ);
	CHECK_CTX(&ev, 66016708821000ull, 0, 0, "<idle>");
	CHECK_EQ_U(ev.irq.irq, 12);
	CHECK_NUL(ev.irq.name);
	CHECK_STR(ev.irq.name, "virtio6");
	CHECK_EQ_U(ev.present, VS_CTX | VS_HAS_IRQ);
}

static void t_alloc_pkt_zcopy_false(void)
{
	static const char l[] = ADBD5 "virtio_transport_alloc_pkt: " TX_HDR
				      "len=24 type=STREAM op=RW flags=0x0 "
				      "zcopy=false";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_PKT_TX);
	CHECK_CTX(&ev, 66016717478000ull, 1, 3803, "adbd");
	CHECK_PKT(&ev, 1000, 5555, 2, 2844408420u, 24, VS_TYPE_STREAM,
		  VS_OP_RW, 0);
	CHECK_EQ_U(ev.pkt.zcopy, 0);
	CHECK_EQ_U(ev.present, VS_CTX | VS_HAS_HDR | VS_HAS_ZCOPY);
}

static void t_alloc_pkt_zcopy_true(void)
{
	static const char l[] = ADBD5 "virtio_transport_alloc_pkt: " TX_HDR
				      "len=4096 type=STREAM op=RW flags=0x0 "
				      "zcopy=true";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_PKT_TX);
	CHECK_PKT(&ev, 1000, 5555, 2, 2844408420u, 4096, VS_TYPE_STREAM,
		  VS_OP_RW, 0);
	CHECK_EQ_U(ev.pkt.zcopy, 1);
	CHECK_EQ_U(ev.present, VS_CTX | VS_HAS_HDR | VS_HAS_ZCOPY);
}

static void t_alloc_pkt_flags_bare_zero(void)
{
	static const char l[] = ADBD "virtio_transport_alloc_pkt: " TX_HDR
				     "len=24 type=STREAM op=RW flags=0";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_PKT_TX);
	CHECK_PKT(&ev, 1000, 5555, 2, 2844408420u, 24, VS_TYPE_STREAM,
		  VS_OP_RW, 0);
}

static void t_alloc_pkt_flags_hex(void)
{
	static const char l[] = ADBD "virtio_transport_alloc_pkt: " TX_HDR
				     "len=0 type=STREAM op=SHUTDOWN flags=0x3";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_PKT_TX);
	CHECK_PKT(&ev, 1000, 5555, 2, 2844408420u, 0, VS_TYPE_STREAM,
		  VS_OP_SHUTDOWN, VS_SHUTDOWN_RCV | VS_SHUTDOWN_SEND);
}

static void t_recv_pkt_no_credit(void)
{
	static const char l[] = "     kworker/0:0-18178   [000] .... "
				"66016.708919: virtio_transport_recv_pkt: "
				"2:1025 -> 3:1024 len=0 type=STREAM "
				"op=REQUEST flags=0x0";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_PKT_RX);
	CHECK_PKT(&ev, 2, 1025, 3, 1024, 0, VS_TYPE_STREAM, VS_OP_REQUEST, 0);
	CHECK_EQ_U(ev.present, VS_CTX | VS_HAS_HDR);
}

static void t_recv_pkt_credit_update(void)
{
	static const char l[] = "     kworker/0:0-18178   [000] ..... "
				"66016.708919: virtio_transport_recv_pkt: "
				"2:1025 -> 3:1024 len=0 type=STREAM "
				"op=CREDIT_UPDATE flags=0x0 buf_alloc=0 "
				"fwd_cnt=4294967295";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_PKT_RX);
	CHECK_PKT(&ev, 2, 1025, 3, 1024, 0, VS_TYPE_STREAM,
		  VS_OP_CREDIT_UPDATE, 0);
	CHECK_EQ_U(ev.pkt.buf_alloc, 0);
	CHECK_EQ_U(ev.pkt.fwd_cnt, 4294967295u);
	CHECK(ev.present & VS_HAS_BUF_ALLOC);
	CHECK(ev.present & VS_HAS_FWD_CNT);
}

static void t_pkt_op_names(void)
{
	static const char *const ops[] = {
		"INVALID", "REQUEST",	   "RESPONSE",	     "RST",
		"SHUTDOWN", "RW", "CREDIT_UPDATE", "CREDIT_REQUEST",
	};
	char l[256];
	struct vs_event ev;

	for (unsigned int i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		snprintf(l, sizeof(l),
			 ADBD "virtio_transport_alloc_pkt: " TX_HDR
			      "len=0 type=STREAM op=%s flags=0x0",
			 ops[i]);
		PARSE_EV(l, &ev, VS_EV_PKT_TX);
		CHECK_EQ_U(ev.pkt.op, i);
	}
}

static void t_pkt_type_seqpacket(void)
{
	static const char l[] = ADBD "virtio_transport_alloc_pkt: " TX_HDR
				     "len=7 type=SEQPACKET op=RW flags=0x1";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_PKT_TX);
	CHECK_PKT(&ev, 1000, 5555, 2, 2844408420u, 7, VS_TYPE_SEQPACKET,
		  VS_OP_RW, 1);
}

static void t_pkt_op_unknown_hex(void)
{
	static const char l[] = ADBD "virtio_transport_alloc_pkt: " TX_HDR
				     "len=0 type=STREAM op=0x9 flags=0x0";
	static const char l2[] = ADBD "virtio_transport_alloc_pkt: " TX_HDR
				      "len=0 type=STREAM op=0x10 flags=0x0";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_PKT_TX);
	CHECK_EQ_U(ev.pkt.op, 9);
	CHECK_EQ_U(ev.pkt.type, VS_TYPE_STREAM);
	PARSE_EV(l2, &ev, VS_EV_PKT_TX);
	CHECK_EQ_U(ev.pkt.op, 16);
}

static void t_pkt_type_unknown_hex(void)
{
	static const char l[] = ADBD "virtio_transport_alloc_pkt: " TX_HDR
				     "len=0 type=0x3 op=REQUEST flags=0x0";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_PKT_TX);
	CHECK_EQ_U(ev.pkt.type, 3);
	CHECK_EQ_U(ev.pkt.op, VS_OP_REQUEST);
}

static void t_pkt_u32_max(void)
{
	static const char l[] =
		ADBD "virtio_transport_recv_pkt: 4294967295:4294967295 -> "
		     "0:0 len=4294967295 type=STREAM op=RW flags=0xffffffff "
		     "buf_alloc=4294967295 fwd_cnt=4294967295";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_PKT_RX);
	CHECK_PKT(&ev, 4294967295u, 4294967295u, 0, 0, 4294967295u,
		  VS_TYPE_STREAM, VS_OP_RW, 0xffffffffu);
	CHECK_EQ_U(ev.pkt.buf_alloc, 4294967295u);
	CHECK_EQ_U(ev.pkt.fwd_cnt, 4294967295u);
}

/* ---- irq ------------------------------------------------------------ */

static void t_irq_exit_handled(void)
{
	static const char l[] = "          <idle>-0       [000] d.h1. "
				"66016.708830: irq_handler_exit: irq=12 "
				"ret=handled";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_IRQ_EXIT);
	CHECK_CTX(&ev, 66016708830000ull, 0, 0, "<idle>");
	CHECK_EQ_U(ev.irq.irq, 12);
	CHECK_EQ_U(ev.irq.ret, 1);
	CHECK_EQ_U(ev.present & (VS_HAS_IRQ | VS_HAS_RET),
		   VS_HAS_IRQ | VS_HAS_RET);
}

static void t_irq_exit_unhandled(void)
{
	static const char l[] = "          <idle>-0       [000] d.h1. "
				"66016.708830: irq_handler_exit: irq=13 "
				"ret=unhandled";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_IRQ_EXIT);
	CHECK_EQ_U(ev.irq.irq, 13);
	CHECK_EQ_U(ev.irq.ret, 0);
	CHECK(ev.present & VS_HAS_RET);
}

static void t_irq_name_long(void)
{
	static const char l[] = "          <idle>-0       [000] d.h1 "
				"66016.708821: irq_handler_entry: irq=40 "
				"name=a-very-long-interrupt-name-beyond-the-"
				"field-width-of-the-event";
	struct vs_event ev;
	uint64_t lost;

	/* prefill with garbage: the name must still end in a NUL */
	CHECK_RES(l, strlen(l), parse_fill(l, strlen(l), &ev, &lost, 0xa5),
		  VS_LINE_EVENT);
	CHECK_EQ_U(ev.kind, VS_EV_IRQ);
	CHECK_EQ_U(ev.irq.irq, 40);
	CHECK_PREFIX(l, ev.irq.name, "a-very-long-interrupt");
}

/* ---- kmem ----------------------------------------------------------- */

static void t_kmalloc_old(void)
{
	static const char l[] = ADBD "kmalloc: call_site=ffffffff8169a8e1 "
				     "ptr=ffff8800b4a30000 bytes_req=65580 "
				     "bytes_alloc=131072 gfp_flags=GFP_KERNEL";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_ALLOC);
	CHECK_CTX(&ev, 66016717478000ull, 1, 3803, "adbd");
	CHECK_EQ_U(ev.alloc.source, VS_ALLOC_KMALLOC);
	CHECK_EQ_U(ev.alloc.failed, 0);
	CHECK_EQ_U(ev.alloc.bytes_req, 65580);
	CHECK_EQ_U(ev.alloc.bytes_alloc, 131072);
	CHECK(ev.present & VS_HAS_SIZE);
	CHECK(ev.present & VS_HAS_CALLSITE);
	CHECK(!(ev.present & VS_HAS_ORDER));
	CHECK_NUL(ev.alloc.call_site);
	/* an address is kept as 0x-hex (event.h) */
	CHECK_STR(ev.alloc.call_site, "0xffffffff8169a8e1");
}

static void t_kmalloc_callsite_sym(void)
{
	static const char l[] = ADBD "kmalloc: call_site=virtio_transport_"
				     "alloc_pkt+0x5c/0x1c0 ptr=00000000e3a1b2c4"
				     " bytes_req=65580 bytes_alloc=131072 "
				     "gfp_flags=GFP_KERNEL";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_ALLOC);
	CHECK_EQ_U(ev.alloc.source, VS_ALLOC_KMALLOC);
	CHECK_EQ_U(ev.alloc.failed, 0);
	CHECK_EQ_U(ev.alloc.bytes_req, 65580);
	CHECK_EQ_U(ev.alloc.bytes_alloc, 131072);
	CHECK(ev.present & VS_HAS_CALLSITE);
	CHECK_PREFIX(l, ev.alloc.call_site, "virtio_transport_alloc_pkt");
}

static void t_kmalloc_node_accounted(void)
{
	static const char l[] = ADBD5 "kmalloc: call_site=virtio_transport_"
				      "alloc_pkt+0x5c/0x1c0 ptr=ffff888004a2b000"
				      " bytes_req=65580 bytes_alloc=131072 "
				      "gfp_flags=GFP_KERNEL|__GFP_NOWARN "
				      "node=-1 accounted=false";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_ALLOC);
	CHECK_EQ_U(ev.alloc.source, VS_ALLOC_KMALLOC);
	CHECK_EQ_U(ev.alloc.failed, 0);
	CHECK_EQ_U(ev.alloc.bytes_req, 65580);
	CHECK_EQ_U(ev.alloc.bytes_alloc, 131072);
	CHECK(ev.present & VS_HAS_SIZE);
	CHECK_PREFIX(l, ev.alloc.call_site, "virtio_transport_alloc_pkt");
}

static void t_kmalloc_node(void)
{
	static const char l[] = ADBD "kmalloc_node: call_site=ffffffff8127a8ff "
				     "ptr=ffff88003bd3c000 bytes_req=4096 "
				     "bytes_alloc=4096 "
				     "gfp_flags=GFP_KERNEL|__GFP_ZERO node=-1";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_ALLOC);
	CHECK_EQ_U(ev.alloc.source, VS_ALLOC_KMALLOC);
	CHECK_EQ_U(ev.alloc.failed, 0);
	CHECK_EQ_U(ev.alloc.bytes_req, 4096);
	CHECK_EQ_U(ev.alloc.bytes_alloc, 4096);
	CHECK(ev.present & VS_HAS_SIZE);
}

static void check_kmalloc_failed(const char *l)
{
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_ALLOC);
	CHECK_EQ_U(ev.alloc.source, VS_ALLOC_KMALLOC);
	CHECK_EQ_U(ev.alloc.failed, 1);
	CHECK_EQ_U(ev.alloc.bytes_req, 65580);
	CHECK_EQ_U(ev.alloc.bytes_alloc, 131072);
	CHECK(ev.present & VS_HAS_SIZE);
}

static void t_kmalloc_failed_null64(void)
{
	check_kmalloc_failed(ADBD "kmalloc: call_site=virtio_transport_alloc"
				  "_pkt+0x5c/0x1c0 ptr=0000000000000000 "
				  "bytes_req=65580 bytes_alloc=131072 "
				  "gfp_flags=GFP_KERNEL");
}

static void t_kmalloc_failed_null32(void)
{
	check_kmalloc_failed(ADBD "kmalloc: call_site=c0a1b2c3 ptr=00000000 "
				  "bytes_req=65580 bytes_alloc=131072 "
				  "gfp_flags=GFP_KERNEL");
}

static void t_kmalloc_failed_nullstr(void)
{
	check_kmalloc_failed(ADBD "kmalloc: call_site=ffffffff8169a8e1 "
				  "ptr=(null) bytes_req=65580 "
				  "bytes_alloc=131072 gfp_flags=GFP_KERNEL");
}

static void t_page_alloc_hex_pfn(void)
{
	static const char l[] = ADBD "mm_page_alloc: page=00000000c5b2a3f1 "
				     "pfn=0x10a3c4 order=4 migratetype=0 "
				     "gfp_flags=GFP_KERNEL|__GFP_COMP";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_ALLOC);
	CHECK_CTX(&ev, 66016717478000ull, 1, 3803, "adbd");
	CHECK_EQ_U(ev.alloc.source, VS_ALLOC_PAGE);
	CHECK_EQ_U(ev.alloc.failed, 0);
	CHECK_EQ_U(ev.alloc.order, 4);
	CHECK(ev.present & VS_HAS_ORDER);
}

static void t_page_alloc_dec_pfn(void)
{
	static const char l[] = ADBD "mm_page_alloc: page=ffffea0000d0c000 "
				     "pfn=213760 order=0 migratetype=1 "
				     "gfp_flags=GFP_KERNEL";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_ALLOC);
	CHECK_EQ_U(ev.alloc.source, VS_ALLOC_PAGE);
	CHECK_EQ_U(ev.alloc.failed, 0);
	CHECK_EQ_U(ev.alloc.order, 0);
	CHECK(ev.present & VS_HAS_ORDER);
}

static void t_page_alloc_failed_nullstr(void)
{
	static const char l[] = ADBD "mm_page_alloc: page=(null) pfn=0 "
				     "order=4 migratetype=0 "
				     "gfp_flags=GFP_KERNEL|__GFP_COMP";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_ALLOC);
	CHECK_EQ_U(ev.alloc.source, VS_ALLOC_PAGE);
	CHECK_EQ_U(ev.alloc.failed, 1);
	CHECK_EQ_U(ev.alloc.order, 4);
	CHECK(ev.present & VS_HAS_ORDER);
}

static void t_page_alloc_failed_zeros(void)
{
	static const char l[] = ADBD "mm_page_alloc: page=0000000000000000 "
				     "pfn=0x0 order=4 migratetype=0 "
				     "gfp_flags=GFP_KERNEL|__GFP_COMP";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_ALLOC);
	CHECK_EQ_U(ev.alloc.source, VS_ALLOC_PAGE);
	CHECK_EQ_U(ev.alloc.failed, 1);
	CHECK_EQ_U(ev.alloc.order, 4);
}

/* ---- trace_marker --------------------------------------------------- */

static void t_mark(void)
{
	static const char l[] = "            bash-1234    [002] .... "
				"66016.717511: tracing_mark_write: "
				"vsockscope: start soak 42";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_MARK);
	CHECK_CTX(&ev, 66016717511000ull, 2, 1234, "bash");
	CHECK_NUL(ev.text);
	CHECK_STR(ev.text, "vsockscope: start soak 42");
}

static void t_mark_looks_like_event(void)
{
	static const char l[] = "            bash-1234    [002] .... "
				"66016.717511: tracing_mark_write: "
				"virtio_transport_alloc_pkt: 1:2 -> 3:4";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_MARK);
	CHECK_STR(ev.text, "virtio_transport_alloc_pkt: 1:2 -> 3:4");
}

static void t_mark_long(void)
{
	char l[600];
	struct vs_event ev;
	uint64_t lost;
	int n;

	n = snprintf(l, sizeof(l),
		     "            bash-1234    [002] .... 66016.717511: "
		     "tracing_mark_write: ");
	memset(l + n, 'm', 500);
	l[n + 500] = '\0';
	CHECK_RES(l, strlen(l), parse_fill(l, strlen(l), &ev, &lost, 0xa5),
		  VS_LINE_EVENT);
	CHECK_EQ_U(ev.kind, VS_EV_MARK);
	CHECK_NUL(ev.text);
	CHECK_EQ_U(strnlen(ev.text, VS_TEXT_LEN), VS_TEXT_LEN - 1);
	CHECK_EQ_U(ev.text[0], 'm');
}

/* ---- vsockscope's own events ---------------------------------------- */

static void t_vq_kick(void)
{
	static const char l[] = ADBD "vq_kick: dev=vsock vq=tx avail_idx=12 "
				     "num=3";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_VQ_KICK);
	CHECK_CTX(&ev, 66016717478000ull, 1, 3803, "adbd");
	CHECK_NUL(ev.vq.dev);
	CHECK_NUL(ev.vq.vq);
	CHECK_STR(ev.vq.dev, "vsock");
	CHECK_STR(ev.vq.vq, "tx");
	CHECK_EQ_U(ev.vq.idx, 12);
	CHECK_EQ_U(ev.vq.num, 3);
	CHECK_EQ_U(ev.present & (VS_HAS_IDX | VS_HAS_NUM),
		   VS_HAS_IDX | VS_HAS_NUM);
}

static void t_vq_irq(void)
{
	static const char l[] = "          <idle>-0       [000] d.h1 "
				"66016.717513: vq_irq: dev=vsock vq=rx "
				"used_idx=7";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_VQ_IRQ);
	CHECK_CTX(&ev, 66016717513000ull, 0, 0, "<idle>");
	CHECK_STR(ev.vq.dev, "vsock");
	CHECK_STR(ev.vq.vq, "rx");
	CHECK_EQ_U(ev.vq.idx, 7);
	CHECK(ev.present & VS_HAS_IDX);
	CHECK(!(ev.present & VS_HAS_NUM));
}

static void t_vq_add(void)
{
	static const char l[] = ADBD "vq_add: dev=vsock vq=rx avail_idx=130 "
				     "num=128";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_VQ_ADD);
	CHECK_STR(ev.vq.dev, "vsock");
	CHECK_STR(ev.vq.vq, "rx");
	CHECK_EQ_U(ev.vq.idx, 130);
	CHECK_EQ_U(ev.vq.num, 128);
	CHECK_EQ_U(ev.present & (VS_HAS_IDX | VS_HAS_NUM),
		   VS_HAS_IDX | VS_HAS_NUM);
}

static void t_vq_get(void)
{
	static const char l[] = ADBD "vq_get: dev=vsock vq=tx used_idx=13 "
				     "num=2";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_VQ_GET);
	CHECK_STR(ev.vq.dev, "vsock");
	CHECK_STR(ev.vq.vq, "tx");
	CHECK_EQ_U(ev.vq.idx, 13);
	CHECK_EQ_U(ev.vq.num, 2);
	CHECK_EQ_U(ev.present & (VS_HAS_IDX | VS_HAS_NUM),
		   VS_HAS_IDX | VS_HAS_NUM);
}

static void t_mbox_tx(void)
{
	static const char l[] = ADBD "mbox_tx: chan=mhu0 msg=0x1";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_MBOX_TX);
	CHECK_CTX(&ev, 66016717478000ull, 1, 3803, "adbd");
	CHECK_NUL(ev.mbox.chan);
	CHECK_STR(ev.mbox.chan, "mhu0");
	CHECK_EQ_U(ev.mbox.msg, 1);
}

static void t_mbox_rx(void)
{
	static const char l[] = "          <idle>-0       [000] d.h1 "
				"66016.717517: mbox_rx: chan=mhu0 "
				"msg=0xdeadbeefcafe";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_MBOX_RX);
	CHECK_STR(ev.mbox.chan, "mhu0");
	CHECK_EQ_U(ev.mbox.msg, 0xdeadbeefcafeull);
}

/* ---- optional system prefix ----------------------------------------- */

static void t_prefix_vsock_system(void)
{
	static const char l[] = ADBD "vsock:virtio_transport_alloc_pkt: " TX_HDR
				     "len=24 type=STREAM op=RW flags=0x0";
	static const char l2[] = "vsock:virtio_transport_recv_pkt: 2:1 -> 3:2 "
				 "len=1 type=STREAM op=RW flags=0x0 "
				 "buf_alloc=65536 fwd_cnt=9";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_PKT_TX);
	CHECK_CTX(&ev, 66016717478000ull, 1, 3803, "adbd");
	CHECK_PKT(&ev, 1000, 5555, 2, 2844408420u, 24, VS_TYPE_STREAM,
		  VS_OP_RW, 0);
	CHECK_EQ_U(ev.present, VS_CTX | VS_HAS_HDR);
	PARSE_EV(l2, &ev, VS_EV_PKT_RX);
	CHECK_PKT(&ev, 2, 1, 3, 2, 1, VS_TYPE_STREAM, VS_OP_RW, 0);
	CHECK_EQ_U(ev.pkt.fwd_cnt, 9);
}

static void t_prefix_vsockscope_system(void)
{
	static const char l[] = ADBD "vsockscope:vq_kick: dev=vsock vq=tx "
				     "avail_idx=13 num=4";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_VQ_KICK);
	CHECK_CTX(&ev, 66016717478000ull, 1, 3803, "adbd");
	CHECK_STR(ev.vq.vq, "tx");
	CHECK_EQ_U(ev.vq.idx, 13);
	CHECK_EQ_U(ev.vq.num, 4);
}

static void t_prefix_other_systems(void)
{
	static const char l[] = "          <idle>-0       [000] d.h1 "
				"66016.708821: irq:irq_handler_entry: irq=12 "
				"name=virtio6";
	static const char l2[] = ADBD "kmem:kmalloc: call_site=ffffffff8169a8e1"
				      " ptr=(null) bytes_req=65580 "
				      "bytes_alloc=131072 gfp_flags=GFP_KERNEL";
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_IRQ);
	CHECK_EQ_U(ev.irq.irq, 12);
	PARSE_EV(l2, &ev, VS_EV_ALLOC);
	CHECK_EQ_U(ev.alloc.failed, 1);
}

/* ---- line prefixes -------------------------------------------------- */

#define IRQ_ARGS "irq_handler_entry: irq=12 name=virtio6"

static void check_irq_ctx(const char *l, uint64_t ts, int cpu, int pid,
			  const char *comm)
{
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_IRQ);
	CHECK_CTX(&ev, ts, cpu, pid, comm);
	CHECK_EQ_U(ev.irq.irq, 12);
	CHECK_STR(ev.irq.name, "virtio6");
	CHECK_EQ_U(ev.present, VS_CTX | VS_HAS_IRQ);
}

static void t_ctx_flags4(void)
{
	check_irq_ctx("          <idle>-0       [000] d.h1 66016.708821: "
		      IRQ_ARGS, 66016708821000ull, 0, 0, "<idle>");
}

static void t_ctx_flags5(void)
{
	check_irq_ctx("          <idle>-0       [003] d.h1. 66016.708821: "
		      IRQ_ARGS, 66016708821000ull, 3, 0, "<idle>");
}

static void t_ctx_flags5_dots(void)
{
	check_irq_ctx("            bash-1234    [001] .....   123.456789: "
		      IRQ_ARGS, 123456789000ull, 1, 1234, "bash");
}

static void t_ctx_flags5_dNs2(void)
{
	check_irq_ctx("            bash-1234    [001] dNs2.   123.456789: "
		      IRQ_ARGS, 123456789000ull, 1, 1234, "bash");
}

static void t_ctx_tgid(void)
{
	check_irq_ctx("            bash-1234    (   1234) [001] ....  "
		      "123.456789: " IRQ_ARGS, 123456789000ull, 1, 1234,
		      "bash");
}

static void t_ctx_tgid_unknown(void)
{
	check_irq_ctx("            bash-1234    (-------) [001] .....  "
		      "123.456789: " IRQ_ARGS, 123456789000ull, 1, 1234,
		      "bash");
}

static void t_ctx_tracecmd(void)
{
	check_irq_ctx("            bash-1234  [001]  123.456789: "
		      "irq_handler_entry:    irq=12 name=virtio6",
		      123456789000ull, 1, 1234, "bash");
}

static void t_ctx_tracecmd_flags(void)
{
	check_irq_ctx("          <idle>-0     [002] d.h2.  123.456789: "
		      "irq_handler_entry:    irq=12 name=virtio6",
		      123456789000ull, 2, 0, "<idle>");
}

static void t_ctx_tracecmd_ns(void)
{
	check_irq_ctx("            bash-1234  [001]  123.456789012: "
		      "irq_handler_entry:    irq=12 name=virtio6",
		      123456789012ull, 1, 1234, "bash");
}

static void t_ctx_ts_only(void)
{
	static const char l[] = "123.456789: " IRQ_ARGS;
	struct vs_event ev;

	PARSE_EV(l, &ev, VS_EV_IRQ);
	CHECK_EQ_U(ev.ts_ns, 123456789000ull);
	CHECK_EQ_U(ev.present, VS_HAS_TS | VS_HAS_IRQ);
	CHECK_EQ_U(ev.irq.irq, 12);
}

static void t_ctx_none(void)
{
	static const char l[] = "virtio_transport_alloc_pkt: 2:2844408420 -> "
				"1000:5555 len=50 type=STREAM op=RW flags=0x0";
	struct vs_event ev;
	uint64_t lost;

	/* prefilled: present must be exact, not left-over bits */
	CHECK_RES(l, strlen(l), parse_fill(l, strlen(l), &ev, &lost, 0xa5),
		  VS_LINE_EVENT);
	CHECK_EQ_U(ev.kind, VS_EV_PKT_TX);
	CHECK_EQ_U(ev.present, VS_HAS_HDR);
	CHECK_PKT(&ev, 2, 2844408420u, 1000, 5555, 50, VS_TYPE_STREAM,
		  VS_OP_RW, 0);
	PARSE_EV(IRQ_ARGS, &ev, VS_EV_IRQ);
	CHECK_EQ_U(ev.present, VS_HAS_IRQ);
}

static void t_comm_spaces(void)
{
	check_irq_ctx("         my prog-77      [003] .... 66016.717521: "
		      IRQ_ARGS, 66016717521000ull, 3, 77, "my prog");
}

static void t_comm_dashes(void)
{
	check_irq_ctx("  my-comm-12-345         [003] .... 66016.717522: "
		      IRQ_ARGS, 66016717522000ull, 3, 345, "my-comm-12");
}

static void t_comm_colons(void)
{
	check_irq_ctx("  Binder:543_2-612       [003] .... 66016.717522: "
		      IRQ_ARGS, 66016717522000ull, 3, 612, "Binder:543_2");
}

static void t_comm_unknown(void)
{
	check_irq_ctx("           <...>-4242    [003] .... 66016.717523: "
		      IRQ_ARGS, 66016717523000ull, 3, 4242, "<...>");
}

static void t_comm_full_width(void)
{
	/* 15 chars, the most a task comm holds */
	check_irq_ctx("abcdefghijklmno-9999999 [127] .... 66016.717523: "
		      IRQ_ARGS, 66016717523000ull, 127, 9999999,
		      "abcdefghijklmno");
}

static void t_ts_conversion(void)
{
	static const struct {
		const char *ts;
		uint64_t ns;
	} t[] = {
		{ "0.000001", 1000ull },
		{ "0.000000", 0ull },
		{ "18409.529434", 18409529434000ull },
		{ "66016.708821", 66016708821000ull },
		{ "123.456789012", 123456789012ull },
		{ "4294967.296000", 4294967296000000ull },
		{ "1000000000.999999", 1000000000999999000ull },
	};
	char l[256];
	struct vs_event ev;

	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(l, sizeof(l),
			 "            bash-1234    [001] .... %s: " IRQ_ARGS,
			 t[i].ts);
		PARSE_EV(l, &ev, VS_EV_IRQ);
		CHECK_EQ_U(ev.ts_ns, t[i].ns);
		snprintf(l, sizeof(l), "%s: " IRQ_ARGS, t[i].ts);
		PARSE_EV(l, &ev, VS_EV_IRQ);
		CHECK_EQ_U(ev.ts_ns, t[i].ns);
	}
}

/* ---- ignored, lost, bad --------------------------------------------- */

static void t_ignored_lines(void)
{
	static const char *const lines[] = {
		"",
		"# tracer: nop",
		"#",
		"# entries-in-buffer/entries-written: 4/4   #P:2",
		"# entries-in-buffer/entries-written: 4/4 \xc2\xa0 #P:2",
		"#           TASK-PID     CPU#  ||||   TIMESTAMP  FUNCTION",
		"#              | |         |   ||||      |         |  ",
		"cpus=2",
		"##### CPU 2 buffer started ####",
		"   ",
		"\t",
	};
	struct vs_event ev;
	uint64_t lost;

	for (unsigned int i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		const char *l = lines[i];

		CHECK_RES(l, strlen(l), parse_n(l, strlen(l), &ev, &lost),
			  VS_LINE_IGNORED);
	}
}

static void t_tracecmd_headers_not_events(void)
{
	static const char *const lines[] = {
		"version = 6",
		"CPU 0 is empty",
		"CPU 3 is empty",
		"cpus=16",
	};
	struct vs_event ev;
	uint64_t lost;

	for (unsigned int i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		const char *l = lines[i];
		int r = parse_n(l, strlen(l), &ev, &lost);

		if (r != VS_LINE_IGNORED && r != VS_LINE_BAD)
			FAIL_MSG("result %d for \"%s\"", r, l);
	}
}

static void t_lost(void)
{
	static const char l[] = "CPU:1 [LOST 123 EVENTS]";
	struct vs_event ev;
	uint64_t lost = 0;

	CHECK_RES(l, strlen(l), parse_n(l, strlen(l), &ev, &lost),
		  VS_LINE_LOST);
	CHECK_EQ_U(lost, 123);
}

static void t_lost_large(void)
{
	static const char l[] = "CPU:15 [LOST 4294967296 EVENTS]";
	struct vs_event ev;
	uint64_t lost = 0;

	CHECK_RES(l, strlen(l), parse_n(l, strlen(l), &ev, &lost),
		  VS_LINE_LOST);
	CHECK_EQ_U(lost, 4294967296ull);
}

static void check_all_bad(const char *const *lines, unsigned int n)
{
	struct vs_event ev;
	uint64_t lost;

	for (unsigned int i = 0; i < n; i++) {
		const char *l = lines[i];

		CHECK_RES(l, strlen(l), parse_n(l, strlen(l), &ev, &lost),
			  VS_LINE_BAD);
	}
}

#define CHECK_ALL_BAD(a) check_all_bad((a), sizeof(a) / sizeof((a)[0]))

static void t_bad_unknown_event(void)
{
	static const char *const lines[] = {
		"          <idle>-0       [000] d..2 66016.708821: sched_switch: "
		"prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R "
		"==> next_comm=adbd next_pid=3803 next_prio=120",
		"sched_wakeup: comm=adbd pid=3803 prio=120 target_cpu=001",
		ADBD "virtio_transport_alloc_pktx: " TX_HDR
		     "len=24 type=STREAM op=RW flags=0x0",
		ADBD "virtio_transport_alloc: " TX_HDR
		     "len=24 type=STREAM op=RW flags=0x0",
		ADBD "kmalloc_foo: call_site=ffffffff8169a8e1 ptr=(null) "
		     "bytes_req=1 bytes_alloc=8 gfp_flags=GFP_KERNEL",
		"root@opsy-sa81x5:/sys/kernel/debug/tracing# cat trace",
	};

	CHECK_ALL_BAD(lines);
}

static void t_bad_truncated(void)
{
	static const char *const lines[] = {
		"virtio_transport_alloc_pkt: 2:28444",
		ADBD "virtio_transport_alloc_pkt: 2:28444",
		ADBD "virtio_transport_alloc_pkt: 1000:5555 -> 2:2844408420 "
		     "len=24 type=STREAM op=R",
		ADBD "virtio_transport_alloc_pkt: 1000:5555 -> 2:2844408420 "
		     "len=24 type=STREAM op=RW flags=0x",
		ADBD "virtio_transport_alloc_pkt: 1000:5555 -> 2:2844408420 "
		     "len=24 type=STREAM op=RW flags=0x0 zcopy=tru",
		ADBD "virtio_transport_recv_pkt: 1000:5555 -> 2:2844408420 "
		     "len=24 type=STREAM op=RW flags=0x0 buf_alloc=262144 "
		     "fwd_cnt=",
		ADBD "virtio_transport_alloc_pkt:",
		ADBD "virtio_transport_alloc_pkt",
		"            adbd-3803    [001] .... 66016.7",
		"            adbd-3803    [001",
		ADBD "irq_handler_entry: irq=",
		ADBD "kmalloc: call_site=ffffffff8169a8e1 ptr=(null) "
		     "bytes_req=65580 bytes_al",
		ADBD "mm_page_alloc: page=(null) pfn=0 order=",
		ADBD "vq_kick: dev=vsock vq=tx avail_idx=",
		ADBD "mbox_tx: chan=mhu0 msg=",
	};

	CHECK_ALL_BAD(lines);
}

static void t_bad_missing_fields(void)
{
	static const char *const lines[] = {
		"virtio_transport_alloc_pkt: 2:1 -> 3:4 len=5 type=STREAM "
		"flags=0x0",
		"virtio_transport_alloc_pkt: 2:1 -> 3:4 type=STREAM op=RW "
		"flags=0x0",
		"virtio_transport_alloc_pkt: 2:1 3:4 len=5 type=STREAM op=RW "
		"flags=0x0",
		"virtio_transport_alloc_pkt: 2 -> 3:4 len=5 type=STREAM op=RW "
		"flags=0x0",
		"virtio_transport_alloc_pkt: len=5 type=STREAM op=RW flags=0x0",
		"virtio_transport_alloc_pkt: 2:1 -> 3:4 len=5 op=RW flags=0x0",
		"virtio_transport_alloc_pkt: 2:1 -> 3:4 len=5 type=STREAM "
		"op=RW",
		"irq_handler_entry: name=virtio6",
		"irq_handler_exit: irq=12",
		"irq_handler_exit: irq=12 ret=maybe",
		"kmalloc: call_site=ffffffff8169a8e1 ptr=(null) "
		"gfp_flags=GFP_KERNEL",
		"mm_page_alloc: page=(null) pfn=0 migratetype=0 "
		"gfp_flags=GFP_KERNEL",
		"vq_irq: dev=vsock vq=tx used_idx=",
		"vq_kick: dev=vsock avail_idx=1 num=1",
		"mbox_rx: chan=mhu0",
	};
	static const char opt[] = "vq_irq: dev=vsock vq=rx";
	struct vs_event ev;
	uint64_t lost;
	int r;

	CHECK_ALL_BAD(lines);
	/* vq idx/num have presence bits: absent may parse, never as 0 */
	r = parse_n(opt, strlen(opt), &ev, &lost);
	CHECK(r == VS_LINE_BAD || r == VS_LINE_EVENT);
	if (r == VS_LINE_EVENT)
		CHECK(!(ev.present & (VS_HAS_IDX | VS_HAS_NUM)));
}

static void t_bad_numbers(void)
{
	static const char *const lines[] = {
		"virtio_transport_alloc_pkt: 2:1 -> 3:4 len=abc type=STREAM "
		"op=RW flags=0x0",
		"virtio_transport_alloc_pkt: 2:1 -> 3:4 len=-1 type=STREAM "
		"op=RW flags=0x0",
		"virtio_transport_alloc_pkt: 2:1 -> 3:4 len=4294967296 "
		"type=STREAM op=RW flags=0x0",
		"virtio_transport_alloc_pkt: 2:99999999999999999999999 -> 3:4 "
		"len=1 type=STREAM op=RW flags=0x0",
		"virtio_transport_alloc_pkt: 2:1 -> 3:4 len=1 type=STREAM "
		"op=FOO flags=0x0",
		"virtio_transport_alloc_pkt: 2:1 -> 3:4 len=1 type=STREAM "
		"op=0x flags=0x0",
		"virtio_transport_alloc_pkt: 2:1 -> 3:4 len=1 type=STREAM "
		"op=RW flags=0xzz",
		"virtio_transport_alloc_pkt: 2:1 -> 3:4 len=1 type=STREAM "
		"op=RW flags=0x0 zcopy=maybe",
		"irq_handler_entry: irq=abc name=virtio6",
		"            bash-1234    [abc] .... 123.456789: " IRQ_ARGS,
		"            bash-1234    [001] .... abc.def: " IRQ_ARGS,
		"CPU:1 [LOST abc EVENTS]",
	};

	CHECK_ALL_BAD(lines);
}

static void t_bad_nul_bytes(void)
{
	static const char l[] = "virtio_transport_alloc_pkt: 2:1\0 -> 3:4 "
				"len=5 type=STREAM op=RW flags=0x0";
	static const char l2[] = "            bash\0-1234    [001] .... "
				 "123\0.456789: " IRQ_ARGS;
	static const char zeros[64];
	struct vs_event ev;
	uint64_t lost;

	CHECK_RES(l, sizeof(l) - 1, parse_n(l, sizeof(l) - 1, &ev, &lost),
		  VS_LINE_BAD);
	CHECK_RES(l2, sizeof(l2) - 1, parse_n(l2, sizeof(l2) - 1, &ev, &lost),
		  VS_LINE_BAD);
	CHECK_RES(zeros, sizeof(zeros),
		  parse_n(zeros, sizeof(zeros), &ev, &lost), VS_LINE_BAD);
}

static void t_bad_long_line_70k(void)
{
	size_t n = 70 * 1024, h;
	char *l = malloc(n);
	struct vs_event ev;
	uint64_t lost;
	int r;

	if (!l)
		abort();
	memset(l, 'A', n);
	CHECK_RES(l, n, parse_n(l, n, &ev, &lost), VS_LINE_BAD);

	/* a valid start, then 70 KB of junk in the last field */
	h = strlen(ADBD "virtio_transport_alloc_pkt: " TX_HDR
			"len=24 type=STREAM op=RW flags=0x0 zcopy=");
	memcpy(l, ADBD "virtio_transport_alloc_pkt: " TX_HDR
		      "len=24 type=STREAM op=RW flags=0x0 zcopy=", h);
	CHECK_RES(l, n, parse_n(l, n, &ev, &lost), VS_LINE_BAD);

	/* 70 KB of digits as a number */
	h = strlen(ADBD "virtio_transport_alloc_pkt: 2:1 -> 3:4 len=");
	memcpy(l, ADBD "virtio_transport_alloc_pkt: 2:1 -> 3:4 len=", h);
	memset(l + h, '7', n - h);
	CHECK_RES(l, n, parse_n(l, n, &ev, &lost), VS_LINE_BAD);

	/* a 70 KB comm/padding before the context: anything but a crash */
	memset(l, ' ', n);
	h = strlen(seed_alloc);
	memcpy(l + n - h, seed_alloc, h);
	r = parse_n(l, n, &ev, &lost);
	CHECK(r == VS_LINE_BAD || r == VS_LINE_EVENT);

	/* a 70 KB marker: anything but a crash, text NUL-terminated */
	h = strlen(ADBD "tracing_mark_write: ");
	memcpy(l, ADBD "tracing_mark_write: ", h);
	memset(l + h, 'm', n - h);
	r = parse_fill(l, n, &ev, &lost, 0xa5);
	CHECK(r == VS_LINE_BAD || r == VS_LINE_EVENT);
	if (r == VS_LINE_EVENT)
		CHECK_NUL(ev.text);
	free(l);
}

/* ---- robustness ----------------------------------------------------- */

static const char *const valid_lines[] = {
	seed_linux,
	seed_linux_nbsp,
	seed_irq,
	seed_recv,
	seed_alloc,
	ADBD5 "virtio_transport_alloc_pkt: " TX_HDR
	      "len=24 type=STREAM op=RW flags=0x0 zcopy=false",
	"          <idle>-0       [000] d.h1. 66016.708830: irq_handler_exit: "
	"irq=12 ret=handled",
	ADBD "kmalloc: call_site=virtio_transport_alloc_pkt+0x5c/0x1c0 "
	     "ptr=ffff888004a2b000 bytes_req=65580 bytes_alloc=131072 "
	     "gfp_flags=GFP_KERNEL|__GFP_NOWARN node=-1 accounted=false",
	ADBD "kmalloc_node: call_site=ffffffff8127a8ff ptr=(null) "
	     "bytes_req=4096 bytes_alloc=4096 gfp_flags=GFP_KERNEL node=0",
	ADBD "mm_page_alloc: page=(null) pfn=0 order=4 migratetype=0 "
	     "gfp_flags=GFP_KERNEL|__GFP_COMP",
	ADBD "tracing_mark_write: hello world",
	ADBD "vq_kick: dev=vsock vq=tx avail_idx=12 num=3",
	ADBD "vq_irq: dev=vsock vq=rx used_idx=7",
	ADBD "mbox_tx: chan=mhu0 msg=0x1",
	ADBD "vsock:virtio_transport_alloc_pkt: " TX_HDR
	     "len=24 type=STREAM op=RW flags=0x0",
	"            bash-1234    (   1234) [001] ....  123.456789: " IRQ_ARGS,
	"            bash-1234  [001]  123.456789012: irq_handler_entry:    "
	"irq=12 name=virtio6",
	"123.456789: " IRQ_ARGS,
	"virtio_transport_recv_pkt: 2:1 -> 3:2 len=1 type=SEQPACKET op=0x9 "
	"flags=0x0 buf_alloc=65536 fwd_cnt=9",
	"CPU:1 [LOST 123 EVENTS]",
	"# tracer: nop",
	"##### CPU 2 buffer started ####",
};

#define N_VALID (sizeof(valid_lines) / sizeof(valid_lines[0]))

/* whatever the parser says, the event it fills must be sane */
static void check_sane(const char *l, size_t len, int r,
		       const struct vs_event *ev)
{
	if (r < VS_LINE_BAD || r > VS_LINE_LOST) {
		FAIL_MSG("result %d for \"%s\"", r, esc(l, len));
		return;
	}
	if (r != VS_LINE_EVENT)
		return;
	if (ev->kind <= VS_EV_NONE || ev->kind >= VS_EV__MAX ||
	    (ev->present & ~VS_HAS_ALL)) {
		FAIL_MSG("kind %u present %#x for \"%s\"", ev->kind,
			 ev->present, esc(l, len));
		return;
	}
	if (ev->present & VS_HAS_COMM)
		CHECK_NUL(ev->comm);
	switch (ev->kind) {
	case VS_EV_IRQ:
		CHECK_NUL(ev->irq.name);
		break;
	case VS_EV_MARK:
		CHECK_NUL(ev->text);
		break;
	case VS_EV_VQ_KICK:
	case VS_EV_VQ_IRQ:
	case VS_EV_VQ_ADD:
	case VS_EV_VQ_GET:
		CHECK_NUL(ev->vq.dev);
		CHECK_NUL(ev->vq.vq);
		break;
	case VS_EV_MBOX_TX:
	case VS_EV_MBOX_RX:
		CHECK_NUL(ev->mbox.chan);
		break;
	case VS_EV_ALLOC:
		if (ev->present & VS_HAS_CALLSITE)
			CHECK_NUL(ev->alloc.call_site);
		break;
	}
}

static void t_truncated_every_length(void)
{
	struct vs_event ev;
	uint64_t lost;

	for (unsigned int i = 0; i < N_VALID && !vs_check_failed; i++) {
		const char *l = valid_lines[i];
		size_t len = strlen(l), min = 0;
		const char *f = strstr(l, " flags=");

		/* a vsock packet line is not complete before flags= N */
		if (strstr(l, "virtio_transport_") && f)
			min = (size_t)(f - l) + strlen(" flags=") + 1;
		for (size_t n = 0; n <= len; n++) {
			int r = parse_fill(l, n, &ev, &lost, 0xa5);

			check_sane(l, n, r, &ev);
			if (n < min && (r == VS_LINE_EVENT || r == VS_LINE_LOST))
				FAIL_MSG("result %d for truncated \"%s\"", r,
					 esc(l, n));
		}
	}
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	return vs_test_rand(&rng_state);
}

static void t_garbage_random(void)
{
	static const char alpha[] = " :=->[]().0123456789abcdefx\t\xc2\xa0"
				    "STREAMRWirq_handler_entry";
	char buf[512];
	struct vs_event ev;
	uint64_t lost;

	for (int it = 0; it < 20000 && !vs_check_failed; it++) {
		size_t len = rng() % sizeof(buf);
		int ascii = it & 1;

		for (size_t i = 0; i < len; i++)
			buf[i] = ascii ? alpha[rng() % (sizeof(alpha) - 1)] :
					 (char)rng();
		check_sane(buf, len, parse_fill(buf, len, &ev, &lost, 0xa5),
			   &ev);
	}
}

static void t_mutated_lines(void)
{
	static const char alpha[] = " :=->[]().0123456789x\t\0\xff";
	char buf[512];
	struct vs_event ev;
	uint64_t lost;

	for (int it = 0; it < 40000 && !vs_check_failed; it++) {
		const char *l = valid_lines[rng() % N_VALID];
		size_t len = strlen(l);
		int edits = 1 + (int)(rng() % 4);

		memcpy(buf, l, len);
		while (edits--) {
			size_t at = rng() % len;

			switch (rng() % 4) {
			case 0: /* replace */
				buf[at] = alpha[rng() % (sizeof(alpha) - 1)];
				break;
			case 1: /* random byte */
				buf[at] = (char)rng();
				break;
			case 2: /* delete */
				memmove(buf + at, buf + at + 1, len - at - 1);
				if (len > 1)
					len--;
				break;
			default: /* truncate */
				if (at)
					len = at;
				break;
			}
		}
		check_sane(buf, len, parse_fill(buf, len, &ev, &lost, 0xa5),
			   &ev);
	}
}

static void t_event_fully_initialised(void)
{
	struct vs_event ev;
	uint64_t lost;

	CHECK_RES(seed_alloc, strlen(seed_alloc),
		  parse_fill(seed_alloc, strlen(seed_alloc), &ev, &lost, 0xa5),
		  VS_LINE_EVENT);
	CHECK_EQ_U(ev.present, VS_CTX | VS_HAS_HDR);
	CHECK_EQ_U(ev.system, 0);
	CHECK_STR(ev.comm, "adbd");
	CHECK_PKT(&ev, 1000, 5555, 2, 2844408420u, 24, VS_TYPE_STREAM,
		  VS_OP_RW, 0);
}

/* ---- the source API ------------------------------------------------- */

static const char mem_trace[] =
	"# tracer: nop\n"			/* 1 */
	"#\n"					/* 2 */
	"cpus=2\n"				/* 3 */
	"\n"					/* 4 */
	"          <idle>-0       [000] d.h1   100.000001: "
	"irq_handler_entry: irq=12 name=virtio6\n" /* 5 */
	"this is not a trace line\n"		/* 6: bad */
	"CPU:1 [LOST 7 EVENTS]\n"		/* 7 */
	"     kworker/0:0-18178   [000] ....   100.000500: "
	"virtio_transport_recv_pkt: 2:1025 -> 3:1024 len=0 type=STREAM "
	"op=CREDIT_UPDATE flags=0x0 buf_alloc=262144 fwd_cnt=4096\n" /* 8 */
	"irq_handler_exit: irq=12 ret=handled\n" /* 9: no ts */
	"          <idle>-0       [000] d..2   100.000600: sched_switch: "
	"prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> "
	"next_comm=adbd next_pid=3803 next_prio=120\n" /* 10: bad */
	"##### CPU 2 buffer started ####\n"	/* 11 */
	"            adbd-3803    [001] ....   100.002000: "
	"virtio_transport_alloc_pkt: 3:1024 -> 2:1025 len=4096 "
	"type=STREAM op=RW flags=0x0";		/* 12: no newline */

static struct vs_source *open_mem_copy(const char *s, size_t len,
				       char **keep)
{
	*keep = calloc(1, len ? len : 1);
	if (!*keep)
		abort();
	memcpy(*keep, s, len);
	return vs_source_open_mem(*keep, len);
}

static void check_mem_events(struct vs_source *src)
{
	struct vs_event ev;

	memset(&ev, 0, sizeof(ev));
	CHECK_EQ_U(vs_source_next(src, &ev), 1);
	CHECK_EQ_U(ev.kind, VS_EV_IRQ);
	CHECK_EQ_U(ev.ts_ns, 100000001000ull);
	CHECK_EQ_U(ev.irq.irq, 12);
	CHECK_EQ_U(vs_source_next(src, &ev), 1);
	CHECK_EQ_U(ev.kind, VS_EV_PKT_RX);
	CHECK_EQ_U(ev.ts_ns, 100000500000ull);
	CHECK_PKT(&ev, 2, 1025, 3, 1024, 0, VS_TYPE_STREAM,
		  VS_OP_CREDIT_UPDATE, 0);
	CHECK_EQ_U(ev.pkt.buf_alloc, 262144);
	CHECK_EQ_U(vs_source_next(src, &ev), 1);
	CHECK_EQ_U(ev.kind, VS_EV_IRQ_EXIT);
	CHECK_EQ_U(ev.ts_ns, 100000500000ull); /* took the previous one */
	CHECK_EQ_U(ev.irq.ret, 1);
	CHECK_EQ_U(vs_source_next(src, &ev), 1);
	CHECK_EQ_U(ev.kind, VS_EV_PKT_TX);
	CHECK_EQ_U(ev.ts_ns, 100002000000ull);
	CHECK_CTX(&ev, 100002000000ull, 1, 3803, "adbd");
	CHECK_PKT(&ev, 3, 1024, 2, 1025, 4096, VS_TYPE_STREAM, VS_OP_RW, 0);
	CHECK_EQ_U(vs_source_next(src, &ev), 0);
	CHECK_EQ_U(vs_source_next(src, &ev), 0);
}

static void t_source_mem_mixed(void)
{
	size_t len = sizeof(mem_trace) - 1;
	char *buf;
	struct vs_source *src = open_mem_copy(mem_trace, len, &buf);
	const struct vs_source_stats *st;
	uint64_t done = 0, total = 0;

	CHECK(src != NULL);
	if (!src) {
		free(buf);
		return;
	}
	check_mem_events(src);
	st = vs_source_stats(src);
	CHECK(st != NULL);
	if (st) {
		CHECK_EQ_U(st->lines, 12);
		CHECK_EQ_U(st->events, 4);
		CHECK_EQ_U(st->skipped, 2);
		CHECK_EQ_U(st->lost, 7);
		CHECK_EQ_U(st->first_ts, 100000001000ull);
		CHECK_EQ_U(st->last_ts, 100002000000ull);
		CHECK_EQ_U(st->first_bad_line, 6);
		CHECK_NUL(st->first_bad);
		CHECK_STR(st->first_bad, "this is not a trace line");
	}
	vs_source_progress(src, &done, &total);
	CHECK_EQ_U(done, len);
	CHECK_EQ_U(total, len);
	vs_source_close(src);
	free(buf);
}

static void t_source_mem_rewind(void)
{
	size_t len = sizeof(mem_trace) - 1;
	char *buf;
	struct vs_source *src = open_mem_copy(mem_trace, len, &buf);

	CHECK(src != NULL);
	if (!src) {
		free(buf);
		return;
	}
	check_mem_events(src);
	CHECK_EQ_U(vs_source_rewind(src), 0);
	check_mem_events(src);
	vs_source_close(src);
	free(buf);
}

static void t_source_mem_empty(void)
{
	char *buf;
	struct vs_source *src = open_mem_copy("", 0, &buf);
	struct vs_event ev;
	const struct vs_source_stats *st;

	CHECK(src != NULL);
	if (!src) {
		free(buf);
		return;
	}
	CHECK_EQ_U(vs_source_next(src, &ev), 0);
	st = vs_source_stats(src);
	CHECK_EQ_U(st->lines, 0);
	CHECK_EQ_U(st->events, 0);
	CHECK_EQ_U(st->skipped, 0);
	CHECK_EQ_U(st->lost, 0);
	vs_source_close(src);
	free(buf);
}

/* lines of VS_MAX_LINE and more are skipped; the next line still parses */
static void t_source_mem_long_line(void)
{
	size_t big = 70 * 1024, h = strlen(seed_alloc), len = 0;
	char *in = malloc(2 * big + 4 * h + 16), *buf;
	struct vs_source *src;
	struct vs_event ev;
	const struct vs_source_stats *st;
	int n = 0, r;

	if (!in)
		abort();
	memcpy(in + len, seed_alloc, h);		/* 1 */
	len += h;
	in[len++] = '\n';
	memcpy(in + len, seed_alloc, h);		/* 2: valid start, huge */
	len += h;
	memset(in + len, ' ', big);
	len += big;
	in[len++] = '\n';
	memcpy(in + len, seed_alloc, h);		/* 3 */
	len += h;
	in[len++] = '\n';
	memset(in + len, 'Z', big);			/* 4: huge, at EOF */
	len += big;
	src = open_mem_copy(in, len, &buf);
	free(in);
	CHECK(src != NULL);
	if (!src) {
		free(buf);
		return;
	}
	while ((r = vs_source_next(src, &ev)) == 1) {
		n++;
		CHECK_EQ_U(ev.kind, VS_EV_PKT_TX);
		CHECK_EQ_U(ev.pkt.len, 24);
	}
	CHECK_EQ_U(r, 0);
	CHECK_EQ_U(n, 2);
	st = vs_source_stats(src);
	CHECK_EQ_U(st->lines, 4);
	CHECK_EQ_U(st->events, 2);
	CHECK_EQ_U(st->skipped, 2);
	CHECK_EQ_U(st->first_bad_line, 2);
	CHECK_NUL(st->first_bad);
	vs_source_close(src);
	free(buf);
}

static void t_source_mem_binary(void)
{
	static const char in[] = "\x01\x02 bad\0line\x7f\xff\n"
				 "\0\0\0\0\n"
				 "          <idle>-0       [000] d.h1 "
				 "66016.708821: irq_handler_entry: irq=12 "
				 "name=virtio6\n";
	char *buf;
	struct vs_source *src = open_mem_copy(in, sizeof(in) - 1, &buf);
	struct vs_event ev;
	const struct vs_source_stats *st;

	CHECK(src != NULL);
	if (!src) {
		free(buf);
		return;
	}
	CHECK_EQ_U(vs_source_next(src, &ev), 1);
	CHECK_EQ_U(ev.kind, VS_EV_IRQ);
	CHECK_EQ_U(ev.ts_ns, 66016708821000ull);
	CHECK_EQ_U(vs_source_next(src, &ev), 0);
	st = vs_source_stats(src);
	CHECK_EQ_U(st->lines, 3);
	CHECK_EQ_U(st->events, 1);
	CHECK_EQ_U(st->skipped, 2);
	CHECK_EQ_U(st->first_bad_line, 1);
	CHECK_NUL(st->first_bad);
	for (const char *p = st->first_bad; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
	vs_source_close(src);
	free(buf);
}

static void t_source_open_missing(void)
{
	struct vs_source *src;

	errno = 0;
	src = vs_source_open(FIXTURES "does-not-exist.trace");
	CHECK(src == NULL);
	CHECK_EQ_U(errno, ENOENT);
	if (src)
		vs_source_close(src);
}

static struct vs_source *open_fixture(const char *name, uint64_t *size)
{
	struct vs_source *src = vs_source_open(name);
	struct stat sb;

	*size = stat(name, &sb) ? 0 : (uint64_t)sb.st_size;
	if (!src)
		FAIL_MSG("vs_source_open(%s): %s (run from the repo root)",
			 name, strerror(errno));
	return src;
}

static void check_at_end(struct vs_source *src, uint64_t size)
{
	uint64_t done = 0, total = 0;

	vs_source_progress(src, &done, &total);
	CHECK_EQ_U(done, size);
	CHECK(total == size || total == 0);
}

static void t_source_file_seed000_linux(void)
{
	uint64_t size;
	struct vs_source *src = open_fixture(FIXTURES "seed000-linux.trace",
					     &size);
	const struct vs_source_stats *st;
	struct vs_event ev;

	if (!src)
		return;
	CHECK_EQ_U(vs_source_next(src, &ev), 1);
	CHECK_EQ_U(ev.kind, VS_EV_PKT_TX);
	CHECK_CTX(&ev, 18409529434000ull, 0, 971, "->vsock:1000:55");
	CHECK_PKT(&ev, 2, 2844408420u, 1000, 5555, 50, VS_TYPE_STREAM,
		  VS_OP_RW, 0);
	CHECK_EQ_U(vs_source_next(src, &ev), 0);
	st = vs_source_stats(src);
	CHECK_EQ_U(st->lines, 12);
	CHECK_EQ_U(st->events, 1);
	CHECK_EQ_U(st->skipped, 0);
	CHECK_EQ_U(st->lost, 0);
	CHECK_EQ_U(st->first_ts, 18409529434000ull);
	CHECK_EQ_U(st->last_ts, 18409529434000ull);
	check_at_end(src, size);
	vs_source_close(src);
}

static void t_source_file_seed000_android(void)
{
	static const struct {
		uint16_t kind;
		uint64_t ts;
		int cpu, pid;
		const char *comm;
		uint32_t len;
	} want[] = {
		{ VS_EV_IRQ, 66016708821000ull, 0, 0, "<idle>", 0 },
		{ VS_EV_PKT_RX, 66016708919000ull, 0, 18178, "kworker/0:0", 58 },
		{ VS_EV_PKT_TX, 66016717478000ull, 1, 3803, "adbd", 24 },
		{ VS_EV_PKT_TX, 66016729808000ull, 1, 3803, "adbd", 24 },
		{ VS_EV_PKT_TX, 66016729812000ull, 1, 3803, "adbd", 25 },
	};
	uint64_t size;
	struct vs_source *src = open_fixture(FIXTURES "seed000-android.trace",
					     &size);
	const struct vs_source_stats *st;
	struct vs_event ev;

	if (!src)
		return;
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < sizeof(want) / sizeof(want[0]);
		     i++) {
			CHECK_EQ_U(vs_source_next(src, &ev), 1);
			CHECK_EQ_U(ev.kind, want[i].kind);
			CHECK_CTX(&ev, want[i].ts, want[i].cpu, want[i].pid,
				  want[i].comm);
			if (want[i].kind == VS_EV_IRQ) {
				CHECK_EQ_U(ev.irq.irq, 12);
				CHECK_STR(ev.irq.name, "virtio6");
				continue;
			}
			CHECK_EQ_U(ev.pkt.len, want[i].len);
			CHECK_EQ_U(ev.pkt.type, VS_TYPE_STREAM);
			CHECK_EQ_U(ev.pkt.op, VS_OP_RW);
			CHECK_EQ_U(ev.pkt.flags, 0);
			if (want[i].kind == VS_EV_PKT_RX) {
				CHECK_PKT(&ev, 2, 2844408420u, 1000, 5555, 58,
					  VS_TYPE_STREAM, VS_OP_RW, 0);
				CHECK_EQ_U(ev.pkt.buf_alloc, 262144);
				CHECK_EQ_U(ev.pkt.fwd_cnt, 7336588);
			} else {
				CHECK_PKT(&ev, 1000, 5555, 2, 2844408420u,
					  want[i].len, VS_TYPE_STREAM,
					  VS_OP_RW, 0);
			}
		}
		CHECK_EQ_U(vs_source_next(src, &ev), 0);
		if (pass == 0) {
			st = vs_source_stats(src);
			CHECK_EQ_U(st->lines, 16);
			CHECK_EQ_U(st->events, 5);
			CHECK_EQ_U(st->skipped, 0);
			CHECK_EQ_U(st->lost, 0);
			CHECK_EQ_U(st->first_ts, 66016708821000ull);
			CHECK_EQ_U(st->last_ts, 66016729812000ull);
			check_at_end(src, size);
			CHECK_EQ_U(vs_source_rewind(src), 0);
		}
	}
	vs_source_close(src);
}

static void t_source_file_variants(void)
{
	static const uint16_t kinds[] = {
		VS_EV_IRQ,	VS_EV_IRQ_EXIT, VS_EV_IRQ_EXIT, /* irq */
		VS_EV_PKT_RX,	VS_EV_PKT_RX,			/* recv */
		VS_EV_PKT_TX,	VS_EV_PKT_TX,	VS_EV_PKT_TX,	/* alloc */
		VS_EV_PKT_TX,	VS_EV_PKT_TX,	VS_EV_PKT_TX,
		VS_EV_IRQ,	VS_EV_IRQ,			/* tgid */
		VS_EV_IRQ,	VS_EV_IRQ,	VS_EV_IRQ,	/* trace-cmd */
		VS_EV_IRQ,	VS_EV_IRQ,			/* no ctx */
		VS_EV_ALLOC,	VS_EV_ALLOC,	VS_EV_ALLOC,	/* kmalloc */
		VS_EV_ALLOC,	VS_EV_ALLOC,	VS_EV_ALLOC,
		VS_EV_ALLOC,	VS_EV_ALLOC,	VS_EV_ALLOC,	/* pages */
		VS_EV_ALLOC,	VS_EV_ALLOC,
		VS_EV_MARK,	VS_EV_VQ_KICK,	VS_EV_VQ_IRQ,
		VS_EV_VQ_ADD,	VS_EV_VQ_GET,	VS_EV_MBOX_TX,
		VS_EV_MBOX_RX,	VS_EV_PKT_TX,	VS_EV_VQ_KICK,	/* prefixed */
		VS_EV_PKT_TX,	VS_EV_IRQ,	VS_EV_IRQ,	/* comms */
		VS_EV_IRQ,
	};
	/* 1-based event numbers of the failed allocations */
	static const unsigned int failed[] = { 23, 24, 25, 28, 29 };
	uint64_t size, prev = 0;
	struct vs_source *src = open_fixture(FIXTURES "variants.trace", &size);
	const struct vs_source_stats *st;
	struct vs_event ev;
	unsigned int n = 0;
	int r;

	if (!src)
		return;
	while ((r = vs_source_next(src, &ev)) == 1) {
		if (n >= sizeof(kinds) / sizeof(kinds[0])) {
			n++;
			continue;
		}
		if (ev.kind != kinds[n])
			FAIL_MSG("event %u: kind %u, expected %u", n + 1,
				 ev.kind, kinds[n]);
		if (ev.ts_ns < prev)
			FAIL_MSG("event %u: ts %" PRIu64 " < %" PRIu64, n + 1,
				 ev.ts_ns, prev);
		prev = ev.ts_ns;
		n++;
		if (n == 16)
			CHECK_EQ_U(ev.ts_ns, 66016717485123ull);
		if (n == 18) /* no timestamp: the previous one */
			CHECK_EQ_U(ev.ts_ns, 66016717486000ull);
		if (ev.kind == VS_EV_ALLOC) {
			int f = 0;

			for (unsigned int i = 0; i < 5; i++)
				f |= failed[i] == n;
			if (ev.alloc.failed != f)
				FAIL_MSG("event %u: failed %u", n,
					 ev.alloc.failed);
		}
		if (n == 39)
			CHECK_STR(ev.comm, "->vsock:1000:55");
	}
	CHECK_EQ_U(r, 0);
	CHECK_EQ_U(n, sizeof(kinds) / sizeof(kinds[0]));
	st = vs_source_stats(src);
	CHECK_EQ_U(st->events, sizeof(kinds) / sizeof(kinds[0]));
	CHECK_EQ_U(st->skipped, 0);
	CHECK_EQ_U(st->lost, 3);
	CHECK_EQ_U(st->lines, 53);
	CHECK_EQ_U(st->first_ts, 66016708821000ull);
	CHECK_EQ_U(st->last_ts, 66016717523000ull);
	check_at_end(src, size);
	vs_source_close(src);
}

VS_TEST_MAIN(
	{ "text_alloc_pkt_seed000", t_alloc_pkt_seed000 },
	{ "text_alloc_pkt_seed000_linux", t_alloc_pkt_seed000_linux },
	{ "text_alloc_pkt_seed000_linux_nbsp", t_alloc_pkt_seed000_linux_nbsp },
	{ "text_recv_pkt_seed000", t_recv_pkt_seed000 },
	{ "text_irq_entry_seed000", t_irq_entry_seed000 },
	{ "text_alloc_pkt_zcopy_false", t_alloc_pkt_zcopy_false },
	{ "text_alloc_pkt_zcopy_true", t_alloc_pkt_zcopy_true },
	{ "text_alloc_pkt_flags_bare_zero", t_alloc_pkt_flags_bare_zero },
	{ "text_alloc_pkt_flags_hex", t_alloc_pkt_flags_hex },
	{ "text_recv_pkt_no_credit", t_recv_pkt_no_credit },
	{ "text_recv_pkt_credit_update", t_recv_pkt_credit_update },
	{ "text_pkt_op_names", t_pkt_op_names },
	{ "text_pkt_type_seqpacket", t_pkt_type_seqpacket },
	{ "text_pkt_op_unknown_hex", t_pkt_op_unknown_hex },
	{ "text_pkt_type_unknown_hex", t_pkt_type_unknown_hex },
	{ "text_pkt_u32_max", t_pkt_u32_max },
	{ "text_irq_exit_handled", t_irq_exit_handled },
	{ "text_irq_exit_unhandled", t_irq_exit_unhandled },
	{ "text_irq_name_long", t_irq_name_long },
	{ "text_kmalloc_old", t_kmalloc_old },
	{ "text_kmalloc_callsite_sym", t_kmalloc_callsite_sym },
	{ "text_kmalloc_node_accounted", t_kmalloc_node_accounted },
	{ "text_kmalloc_node", t_kmalloc_node },
	{ "text_kmalloc_failed_null64", t_kmalloc_failed_null64 },
	{ "text_kmalloc_failed_null32", t_kmalloc_failed_null32 },
	{ "text_kmalloc_failed_nullstr", t_kmalloc_failed_nullstr },
	{ "text_page_alloc_hex_pfn", t_page_alloc_hex_pfn },
	{ "text_page_alloc_dec_pfn", t_page_alloc_dec_pfn },
	{ "text_page_alloc_failed_nullstr", t_page_alloc_failed_nullstr },
	{ "text_page_alloc_failed_zeros", t_page_alloc_failed_zeros },
	{ "text_mark", t_mark },
	{ "text_mark_looks_like_event", t_mark_looks_like_event },
	{ "text_mark_long", t_mark_long },
	{ "text_vq_kick", t_vq_kick },
	{ "text_vq_irq", t_vq_irq },
	{ "text_vq_add", t_vq_add },
	{ "text_vq_get", t_vq_get },
	{ "text_mbox_tx", t_mbox_tx },
	{ "text_mbox_rx", t_mbox_rx },
	{ "text_prefix_vsock_system", t_prefix_vsock_system },
	{ "text_prefix_vsockscope_system", t_prefix_vsockscope_system },
	{ "text_prefix_other_systems", t_prefix_other_systems },
	{ "text_ctx_flags4", t_ctx_flags4 },
	{ "text_ctx_flags5", t_ctx_flags5 },
	{ "text_ctx_flags5_dots", t_ctx_flags5_dots },
	{ "text_ctx_flags5_dNs2", t_ctx_flags5_dNs2 },
	{ "text_ctx_tgid", t_ctx_tgid },
	{ "text_ctx_tgid_unknown", t_ctx_tgid_unknown },
	{ "text_ctx_tracecmd", t_ctx_tracecmd },
	{ "text_ctx_tracecmd_flags", t_ctx_tracecmd_flags },
	{ "text_ctx_tracecmd_ns", t_ctx_tracecmd_ns },
	{ "text_ctx_ts_only", t_ctx_ts_only },
	{ "text_ctx_none", t_ctx_none },
	{ "text_comm_spaces", t_comm_spaces },
	{ "text_comm_dashes", t_comm_dashes },
	{ "text_comm_colons", t_comm_colons },
	{ "text_comm_unknown", t_comm_unknown },
	{ "text_comm_full_width", t_comm_full_width },
	{ "text_ts_conversion", t_ts_conversion },
	{ "text_ignored_lines", t_ignored_lines },
	{ "text_tracecmd_headers_not_events", t_tracecmd_headers_not_events },
	{ "text_lost", t_lost },
	{ "text_lost_large", t_lost_large },
	{ "text_bad_unknown_event", t_bad_unknown_event },
	{ "text_bad_truncated", t_bad_truncated },
	{ "text_bad_missing_fields", t_bad_missing_fields },
	{ "text_bad_numbers", t_bad_numbers },
	{ "text_bad_nul_bytes", t_bad_nul_bytes },
	{ "text_bad_long_line_70k", t_bad_long_line_70k },
	{ "text_truncated_every_length", t_truncated_every_length },
	{ "text_garbage_random", t_garbage_random },
	{ "text_mutated_lines", t_mutated_lines },
	{ "text_event_fully_initialised", t_event_fully_initialised },
	{ "source_mem_mixed", t_source_mem_mixed },
	{ "source_mem_rewind", t_source_mem_rewind },
	{ "source_mem_empty", t_source_mem_empty },
	{ "source_mem_long_line", t_source_mem_long_line },
	{ "source_mem_binary", t_source_mem_binary },
	{ "source_open_missing", t_source_open_missing },
	{ "source_file_seed000_linux", t_source_file_seed000_linux },
	{ "source_file_seed000_android", t_source_file_seed000_android },
	{ "source_file_variants", t_source_file_variants })
