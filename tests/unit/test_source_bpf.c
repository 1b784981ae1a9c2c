// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF source. Records → events must equal what the text parser makes
 * of the same trace line (no root needed). On a kernel that allows BPF, as
 * root: the irq and alloc probes capture, and the vring probes report what
 * refused them. Never asks for the vsock probes: the build host's vsock
 * belongs to its hypervisor.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "source_bpf.h"
#include "source_text.h"
#include "../bpf/vs_record.h"

int vs_check_failed;
const char *vs_check_case;

static char skip_why[320]; /* set by a case that cannot run */

static void skip(const char *fmt, const char *arg)
{
	snprintf(skip_why, sizeof(skip_why), fmt, arg);
}

/* ---- records against text lines */

static void rec_head(struct vs_record *r, uint16_t kind)
{
	memset(r, 0, sizeof(*r));
	r->ts_ns = 5000000001ull;
	r->tid = 123;
	r->tgid = 120;
	r->cpu = 1;
	r->kind = kind;
	memcpy(r->comm, "vsockd", 7);
}

static void same_as_text(const struct vs_record *r, const char *line)
{
	struct vs_event a, t;
	uint64_t lost = 0;
	int rc;

	CHECK(vs_bpf_record_event(NULL, r, sizeof(*r), &a) == 0);
	rc = vs_text_parse_line(line, strlen(line), &t, &lost);
	CHECK(rc == VS_LINE_EVENT);
	CHECK_EQ_U(a.kind, t.kind);
	CHECK_EQ_U(a.present, t.present);
	if (memcmp(&a, &t, sizeof(a)) && !vs_check_failed) {
		printf("FAIL %s: event differs from the text parser's for "
		       "\"%s\"\n", vs_check_case, line);
		vs_check_failed = 1;
	}
}

#define HEAD "          vsockd-123     [001] .... 5.000000001: "

static void test_record_pkt(void)
{
	struct vs_record r;

	rec_head(&r, VS_EV_PKT_RX);
	r.pkt.src_cid = 2;
	r.pkt.src_port = 1024;
	r.pkt.dst_cid = 3;
	r.pkt.dst_port = 5000;
	r.pkt.len = 4096;
	r.pkt.type = VS_TYPE_STREAM;
	r.pkt.op = VS_OP_RW;
	r.pkt.flags = 0;
	r.pkt.buf_alloc = 262144;
	r.pkt.fwd_cnt = 8192;
	r.flags = VS_REC_CREDIT_HDR;
	same_as_text(&r, HEAD "virtio_transport_recv_pkt: 2:1024 -> 3:5000 "
			      "len=4096 type=STREAM op=RW flags=0x0 "
			      "buf_alloc=262144 fwd_cnt=8192");

	rec_head(&r, VS_EV_PKT_TX);
	r.pkt.src_cid = 3;
	r.pkt.src_port = 5000;
	r.pkt.dst_cid = 2;
	r.pkt.dst_port = 1024;
	r.pkt.type = VS_TYPE_STREAM;
	r.pkt.op = VS_OP_CREDIT_UPDATE;
	r.pkt.flags = 0;
	same_as_text(&r, HEAD "virtio_transport_alloc_pkt: 3:5000 -> 2:1024 "
			      "len=0 type=STREAM op=CREDIT_UPDATE flags=0x0");
	r.pkt.zcopy = 1;
	r.flags = VS_REC_ZCOPY;
	same_as_text(&r, HEAD "virtio_transport_alloc_pkt: 3:5000 -> 2:1024 "
			      "len=0 type=STREAM op=CREDIT_UPDATE flags=0x0 "
			      "zcopy=true");
}

static void test_record_irq(void)
{
	struct vs_record r;

	rec_head(&r, VS_EV_IRQ);
	r.irq.irq = 36;
	memcpy(r.irq.name, "virtio1-req.0", 14);
	same_as_text(&r, HEAD "irq_handler_entry: irq=36 name=virtio1-req.0");
	rec_head(&r, VS_EV_IRQ_EXIT);
	r.irq.irq = 36;
	r.irq.ret = 2; /* IRQ_WAKE_THREAD prints as handled */
	same_as_text(&r, HEAD "irq_handler_exit: irq=36 ret=handled");
	r.irq.ret = 0;
	same_as_text(&r, HEAD "irq_handler_exit: irq=36 ret=unhandled");

	/* the idle task, as ftrace prints it */
	rec_head(&r, VS_EV_IRQ);
	r.tid = 0;
	memcpy(r.comm, "swapper/1", 10);
	r.irq.irq = 41;
	memcpy(r.irq.name, "virtio3-rx", 11);
	same_as_text(&r, "          <idle>-0       [001] d.h1 5.000000001: "
			 "irq_handler_entry: irq=41 name=virtio3-rx");
}

static void test_record_alloc(void)
{
	struct vs_record r;

	rec_head(&r, VS_EV_ALLOC);
	r.alloc.source = VS_REC_ALLOC_KMALLOC;
	r.alloc.call_site = 0xffffffff81234567ull;
	r.alloc.bytes_req = 65536;
	r.alloc.bytes_alloc = 65536;
	r.alloc.order = -1;
	r.flags = VS_REC_CALLSITE;
	same_as_text(&r, HEAD "kmalloc: call_site=ffffffff81234567 "
			      "ptr=0000000000000000 bytes_req=65536 "
			      "bytes_alloc=65536 gfp_flags=GFP_KERNEL node=-1");
	r.alloc.ptr = 0xffff888004000000ull;
	same_as_text(&r, HEAD "kmalloc: call_site=ffffffff81234567 "
			      "ptr=ffff888004000000 bytes_req=65536 "
			      "bytes_alloc=65536 gfp_flags=GFP_KERNEL node=-1");

	rec_head(&r, VS_EV_ALLOC);
	r.alloc.source = VS_REC_ALLOC_PAGE;
	r.alloc.order = 4;
	same_as_text(&r, HEAD "mm_page_alloc: page=0000000000000000 pfn=0x0 "
			      "order=4 migratetype=0 gfp_flags=GFP_ATOMIC");
}

static void test_record_vq_mbox(void)
{
	struct vs_record r;
	struct vs_event ev;

	rec_head(&r, VS_EV_VQ_KICK);
	memcpy(r.vq.dev, "virtio3", 8);
	memcpy(r.vq.vq, "tx", 3);
	r.vq.dev_id = 19;
	r.vq.dev_index = 3;
	r.vq.idx = 12;
	r.vq.num = 3;
	r.flags = VS_REC_IDX | VS_REC_NUM;
	same_as_text(&r, HEAD "vq_kick: dev=vsock vq=tx avail_idx=12 num=3");

	/* other devices: their kind and index */
	r.vq.dev_id = 1;
	r.vq.dev_index = 2;
	memcpy(r.vq.vq, "output.0", 9);
	CHECK(vs_bpf_record_event(NULL, &r, sizeof(r), &ev) == 0);
	CHECK_STR(ev.vq.dev, "net2");
	CHECK_STR(ev.vq.vq, "output.0");

	rec_head(&r, VS_EV_MBOX_TX);
	memcpy(r.mbox.chan, "mhu0", 5);
	r.mbox.idx = -1;
	r.mbox.src = VS_REC_MBOX_RPROC;
	r.mbox.msg = 1;
	same_as_text(&r, HEAD "mbox_tx: chan=mhu0 msg=0x1");

	/* a credit record has no event kind yet: a mark */
	rec_head(&r, VS_REC_CREDIT);
	r.credit.op = VS_REC_CREDIT_GET;
	r.credit.src_cid = 3;
	r.credit.src_port = 5000;
	r.credit.dst_cid = 2;
	r.credit.dst_port = 1024;
	r.credit.credit = 4096;
	r.credit.granted = 0;
	r.credit.peer_buf_alloc = 262144;
	r.credit.tx_cnt = 262144;
	CHECK(vs_bpf_record_event(NULL, &r, sizeof(r), &ev) == 0);
	CHECK_EQ_U(ev.kind, VS_EV_MARK);
	CHECK_STR(ev.text, "credit get 3:5000 -> 2:1024 want=4096 got=0 "
			   "free=0");

	/* short or unknown records are refused */
	CHECK(vs_bpf_record_event(NULL, &r, sizeof(r) - 1, &ev) == -EINVAL);
	r.kind = 77;
	CHECK(vs_bpf_record_event(NULL, &r, sizeof(r), &ev) == -EINVAL);
}

/* ---- live probes (root, a kernel allowing BPF) */

static bool can_run(void)
{
	if (geteuid() != 0) {
		skip("%s", "not root: BPF probes need CAP_BPF and CAP_PERFMON");
		return false;
	}
	return true;
}

static void print_status(const struct vs_bpf *b)
{
	const struct vs_probe_status *st;
	unsigned int n;

	st = vs_bpf_status(b, &n);
	for (unsigned int i = 0; i < n; i++)
		printf("  %-6s %-26s %-7s %4d %s\n", st[i].family, st[i].hook,
		       st[i].method[0] ? st[i].method : "-", st[i].err,
		       st[i].why);
}

static const struct vs_probe_status *status_of(const struct vs_bpf *b,
					       const char *hook)
{
	const struct vs_probe_status *st;
	unsigned int n;

	st = vs_bpf_status(b, &n);
	for (unsigned int i = 0; i < n; i++)
		if (!strcmp(st[i].hook, hook))
			return &st[i];
	return NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct seen {
	uint64_t t0;
	long ncpu;
	unsigned int irq, irq_named, irq_exit, kmalloc, kmalloc_named, page;
	unsigned int bad, failed, other;
	char bad_what[160];
};

/* open, or note why this case cannot run here (then it skips) */
static struct vs_bpf *start(const struct vs_bpf_opts *o, struct seen *s)
{
	struct vs_bpf *b = NULL;
	char err[256] = "";
	int rc;

	if (!can_run())
		return NULL;
	if (s) {
		s->t0 = now_ns();
		s->ncpu = sysconf(_SC_NPROCESSORS_CONF);
	}
	rc = vs_bpf_open(o, &b, err, sizeof(err));
	if (rc == -EPERM || rc == -ENOENT || rc == -ENOSYS) {
		skip("BPF unavailable: %s", err);
	} else if (rc) {
		printf("FAIL %s: vs_bpf_open: %s\n", vs_check_case, err);
		vs_check_failed = 1;
	}
	return b;
}

static void bad(struct seen *s, const struct vs_event *ev, const char *what)
{
	if (!s->bad++)
		snprintf(s->bad_what, sizeof(s->bad_what),
			 "kind %u ts %llu cpu %d: %s", ev->kind,
			 (unsigned long long)ev->ts_ns, ev->cpu, what);
}

static void on_event(void *ctx, const struct vs_event *ev)
{
	struct seen *s = ctx;
	long ncpu = s->ncpu;

	if (ev->ts_ns < s->t0 || ev->ts_ns > now_ns())
		bad(s, ev, "timestamp outside the run (CLOCK_MONOTONIC)");
	if (ev->cpu < 0 || (ncpu > 0 && ev->cpu >= ncpu))
		bad(s, ev, "cpu out of range");
	if ((ev->present & (VS_HAS_TS | VS_HAS_CPU | VS_HAS_PID | VS_HAS_COMM)) !=
	    (VS_HAS_TS | VS_HAS_CPU | VS_HAS_PID | VS_HAS_COMM) || !ev->comm[0])
		bad(s, ev, "no timestamp, cpu, pid or comm");
	switch (ev->kind) {
	case VS_EV_IRQ:
		s->irq++;
		if (!(ev->present & VS_HAS_IRQ) || ev->irq.irq < 0)
			bad(s, ev, "irq number");
		if (ev->irq.name[0])
			s->irq_named++;
		break;
	case VS_EV_IRQ_EXIT:
		s->irq_exit++;
		if (!(ev->present & VS_HAS_RET) || ev->irq.ret > 1)
			bad(s, ev, "irq ret");
		break;
	case VS_EV_ALLOC:
		if (ev->alloc.failed)
			s->failed++;
		if (ev->alloc.source == VS_ALLOC_KMALLOC) {
			s->kmalloc++;
			if (!(ev->present & VS_HAS_SIZE) || !ev->alloc.bytes_req ||
			    (!ev->alloc.failed &&
			     ev->alloc.bytes_alloc < ev->alloc.bytes_req))
				bad(s, ev, "kmalloc sizes");
			/* as root, call sites are named from kallsyms */
			if ((ev->present & VS_HAS_CALLSITE) &&
			    strstr(ev->alloc.call_site, "+0x"))
				s->kmalloc_named++;
		} else if (ev->alloc.source == VS_ALLOC_PAGE) {
			s->page++;
			if (!(ev->present & VS_HAS_ORDER) || ev->alloc.order < 0 ||
			    ev->alloc.order > 12)
				bad(s, ev, "page order");
		} else {
			bad(s, ev, "alloc source");
		}
		break;
	default:
		s->other++;
		break;
	}
}

/* block I/O completes with an interrupt; allocations come with it */
static void make_activity(void)
{
	char path[] = "/var/tmp/vs-bpf-XXXXXX";
	char buf[4096];
	int fd, p[2];

	memset(buf, 'x', sizeof(buf));
	fd = mkstemp(path);
	if (fd >= 0) {
		for (int i = 0; i < 4; i++) {
			if (write(fd, buf, sizeof(buf)) < 0)
				break;
			fsync(fd);
		}
		close(fd);
		unlink(path);
	}
	for (int i = 0; i < 16; i++) {
		if (pipe(p))
			break;
		close(p[0]);
		close(p[1]);
	}
}

static const char *attached_tp(const struct vs_probe_status *st)
{
	if (!st)
		return "missing";
	if (!strcmp(st->method, "tp_btf") || !strcmp(st->method, "raw_tp"))
		return NULL;
	return st->method[0] ? st->method : st->why;
}

static void capture_irq_alloc(unsigned int avoid, const char *method)
{
	struct vs_bpf_opts o = { .probes = VS_PROBE_IRQ | VS_PROBE_ALLOC,
				 .alloc_all = true, .ringbuf_kb = 4096,
				 .avoid = avoid };
	const struct vs_probe_status *st;
	struct seen s = { 0 };
	struct vs_bpf *b;
	const char *what;
	uint64_t end;
	int rc;

	b = start(&o, &s);
	if (!b)
		return;
	print_status(b);
	what = attached_tp(status_of(b, "irq_handler_entry"));
	if (what && !vs_check_failed) {
		printf("FAIL %s: irq_handler_entry not on tp_btf/raw_tp: %s\n",
		       vs_check_case, what);
		vs_check_failed = 1;
	}
	CHECK(!attached_tp(status_of(b, "irq_handler_exit")));
	CHECK(!attached_tp(status_of(b, "kmalloc")));
	CHECK(!attached_tp(status_of(b, "mm_page_alloc")));
	/* this host refuses nothing here: the first choice wins */
	st = status_of(b, "irq_handler_entry");
	CHECK(st != NULL);
	if (st)
		CHECK_STR(st->method, method);
	st = status_of(b, "kmalloc");
	if (st)
		CHECK_STR(st->method, method);

	end = now_ns() + 2000000000ull;
	do {
		make_activity();
		rc = vs_bpf_poll(b, 200, on_event, &s);
		CHECK(rc >= 0);
	} while (rc >= 0 && now_ns() < end &&
		 (!s.irq_named || !s.irq_exit || !s.kmalloc_named || !s.page));
	printf("  events: %u irq (%u named), %u irq_exit, %u kmalloc (%u "
	       "named call sites), %u page, %u failed; lost %llu\n",
	       s.irq, s.irq_named, s.irq_exit, s.kmalloc, s.kmalloc_named,
	       s.page, s.failed, (unsigned long long)vs_bpf_lost(b));
	if (s.bad && !vs_check_failed) {
		printf("FAIL %s: %u events with bad fields, first: %s\n",
		       vs_check_case, s.bad, s.bad_what);
		vs_check_failed = 1;
	}
	CHECK(s.irq_named > 0);
	CHECK(s.irq_exit > 0);
	CHECK(s.kmalloc_named > 0);
	CHECK(s.page > 0);
	CHECK_EQ_U(s.other, 0);
	vs_bpf_close(b);
}

static void test_capture_irq_alloc(void)
{
	capture_irq_alloc(0, "tp_btf");
}

/* the raw_tp variants, as on a kernel without BTF for tracepoints */
static void test_capture_raw_tp(void)
{
	capture_irq_alloc(VS_METHOD_TP_BTF, "raw_tp");
}

/* without alloc_all only failures come through */
static void test_alloc_failures_only(void)
{
	struct vs_bpf_opts o = { .probes = VS_PROBE_ALLOC };
	struct seen s = { 0 };
	struct vs_bpf *b;
	int rc, total = 0;

	b = start(&o, &s);
	if (!b)
		return;
	for (int i = 0; i < 3; i++) {
		make_activity();
		rc = vs_bpf_poll(b, 100, on_event, &s);
		CHECK(rc >= 0);
		total += rc > 0 ? rc : 0;
	}
	CHECK_EQ_U(s.failed, (unsigned int)total);
	CHECK_EQ_U(s.bad, 0);
	vs_bpf_close(b);
}

/*
 * The vring hooks are generic virtio functions (not vsock's); this host
 * refuses fentry (EPERM) and has no kprobes, so each must be reported
 * refused, with both reasons, while irq goes on.
 */
static void test_vring_refused(void)
{
	struct vs_bpf_opts o = { .probes = VS_PROBE_VRING | VS_PROBE_IRQ };
	const struct vs_probe_status *st;
	struct vs_bpf *b;
	unsigned int n, vring = 0, refused = 0;
	char err[256] = "";
	int rc;

	b = start(&o, NULL);
	if (!b)
		return;
	print_status(b);
	st = vs_bpf_status(b, &n);
	for (unsigned int i = 0; i < n; i++) {
		if (strcmp(st[i].family, "vring"))
			continue;
		vring++;
		if (st[i].method[0]) {
			/* a kernel that allows fentry or kprobes: fine */
			printf("  note: %s attached via %s here\n", st[i].hook,
			       st[i].method);
			continue;
		}
		if (st[i].err == -ENOENT)
			continue; /* not in this kernel */
		refused++;
		CHECK(st[i].err < 0);
		CHECK(strstr(st[i].why, "fentry: ") ||
		      strstr(st[i].why, "fexit: "));
		CHECK(strstr(st[i].why, "kprobe: ") ||
		      strstr(st[i].why, "kretprobe: "));
	}
	CHECK_EQ_U(vring, 9); /* 7 ring functions, 2 transports' notify */
	CHECK(!attached_tp(status_of(b, "irq_handler_entry")));
	st = status_of(b, "vring_interrupt()");
	CHECK(st != NULL);
	vs_bpf_close(b);

	/* vring alone: nothing to attach here is an error with a reason */
	if (refused == vring) {
		o.probes = VS_PROBE_VRING;
		rc = vs_bpf_open(&o, &b, err, sizeof(err));
		CHECK(rc == -EOPNOTSUPP);
		CHECK(b == NULL);
		CHECK(strstr(err, "no probe could attach") != NULL);
		printf("  vring alone: %s\n", err);
	}
}

static void test_bad_opts(void)
{
	struct vs_bpf_opts o = { 0 };
	struct vs_bpf *b = (void *)1;
	char err[128] = "";

	CHECK(vs_bpf_open(&o, &b, err, sizeof(err)) == -EINVAL);
	CHECK(b == NULL);
	CHECK(err[0] != '\0');
	o.probes = 64;
	CHECK(vs_bpf_open(&o, &b, err, sizeof(err)) == -EINVAL);
}

int main(void)
{
	static const struct vs_test tests[] = {
		{ "bpf_record_pkt", test_record_pkt },
		{ "bpf_record_irq", test_record_irq },
		{ "bpf_record_alloc", test_record_alloc },
		{ "bpf_record_vq_mbox", test_record_vq_mbox },
		{ "bpf_bad_opts", test_bad_opts },
		{ "bpf_capture_irq_alloc", test_capture_irq_alloc },
		{ "bpf_capture_raw_tp", test_capture_raw_tp },
		{ "bpf_alloc_failures_only", test_alloc_failures_only },
		{ "bpf_vring_refused", test_vring_refused },
	};
	int bad_ = 0;

	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		vs_check_case = tests[i].name;
		vs_check_failed = 0;
		skip_why[0] = '\0';
		tests[i].fn();
		if (vs_check_failed)
			bad_ = 1;
		else if (skip_why[0])
			printf("SKIP %s: %s\n", tests[i].name, skip_why);
		else
			printf("PASS %s\n", tests[i].name);
		fflush(stdout);
	}
	return bad_;
}
