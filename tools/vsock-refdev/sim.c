// SPDX-License-Identifier: GPL-2.0-only
/*
 * vsock-refdev sim: two systems in two processes over shared memory.
 *
 * a is the driver (a guest, CID 3): it owns the rings, fills the receive
 * queue, sends on the transmit queue and kicks. b is the device (a host,
 * CID 2): it pops what a sent, delivers into a's receive buffers and calls.
 * Both run the same protocol engine. Each writes its events as the kernel
 * would print them (a.trace, b.trace) on its own clock; b's clock runs at
 * an offset and a drift from a's. Faults are injected where they act, and
 * what each did is written to truth.json, on a's clock.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "doorbell.h"
#include "event.h"
#include "refdev.h"
#include "text_out.h"
#include "vring.h"
#include "vsock_proto.h"

#define CID_A 3
#define CID_B 2
#define PORT_BASE 5000
#define GPA_BASE 0x100000000ull
#define A_BASE_NS 1000000000000ull /* a's clock starts at 1000 s */
#define Q_RX 0
#define Q_TX 1
#define Q_EV 2
#define NQ 3
#define TX_SLOT (VS_HDR_SIZE + VS_MAX_PKT_PAYLOAD)
#define WATCHDOG_NS 500000000ull /* queues polled even without a doorbell */
#define POLL_NS 50000ull	 /* busy-poll this long after the last packet */
#define BELL_NS 20000ull	 /* ... looking at doorbells this often */
#define MAX_REC 4096
#define MAX_STARVE 8192
#define DRAIN_NS 1500000000ull

static const char *const qname[NQ] = { "rx", "tx", "event" };

/* ---- what both processes share (start of the memfd) ---- */

struct rec {
	int kind;	  /* enum vs_fault_kind */
	char system;	  /* where it acted */
	bool has_flow;
	struct vs_tuple flow;
	uint64_t start;	  /* a's clock */
	uint64_t end;	  /* a's clock, 0: open */
	int fault;	  /* index in the options */
};

struct starve {
	char system;	  /* the writer's */
	struct vs_tuple flow;
	uint64_t start, end; /* a's clock */
};

struct flow_res {
	uint64_t sent, recvd, bad;
	int dropped;	  /* a drop-packet fault hit it */
	int used;
};

struct shared {
	uint64_t start_mono;
	int stop;
	int writers_done[2]; /* a side wrote its last byte */
	uint64_t desc_gpa[NQ], avail_gpa[NQ], used_gpa[NQ];
	unsigned int qsize[NQ];
	uint32_t nrec;
	struct rec rec[MAX_REC];
	uint32_t nstarve;
	struct starve starve[MAX_STARVE];
	struct flow_res flows[SIM_MAX_FLOWS];
	uint64_t events[2];
	/* times a side did not run for a while (the machine was busy): not a
	 * fault, but its effects are real and go in the truth too */
	uint32_t npause;
	struct pause {
		char system;
		uint64_t start, end; /* a's clock */
	} pause[256];
	uint64_t rx_wait_start, rx_wait_max; /* b waited for buffers (a) */
	uint64_t rx_wait_end;		     /* ... until then, the last time */
	uint64_t malformed[2];
	char broken[2][128];
};

/* ---- one side ---- */

enum role { R_NONE, R_WRITER, R_READER, R_RR_CLIENT, R_RR_SERVER, R_MANY_TX };

struct side;

struct app {
	struct side *side;
	int idx;
	enum role role;
	uint16_t type;
	struct vs_sock *s;
	bool connected, closed, finished;
	uint64_t wpos;	    /* bytes written */
	uint64_t wmade;	    /* bytes made by fill_pattern(), <= wpos */
	uint64_t rpos;	    /* bytes read */
	uint64_t next_at;   /* rel ns */
	uint32_t rr_got;    /* response bytes received */
	bool rr_waiting;
	bool starving;
	uint64_t starve_start;
};

struct pending_pkt {
	struct vs_hdr h;
	uint8_t *payload;
	struct pending_pkt *next;
};

struct side {
	char name;
	bool dev;
	const struct sim_opts *o;
	struct shared *sh;
	uint8_t *mem;
	struct vs_gmem gm;
	struct vs_vring vq[NQ];
	struct vs_doorbell kick[NQ], call[NQ];
	struct vs_proto *proto;
	FILE *trace;
	struct vs_fault faults[SIM_MAX_FAULTS];
	uint64_t rng;
	struct app apps[SIM_MAX_FLOWS];
	unsigned int napps;
	/* driver: tx slots and rx buffers in shared memory */
	size_t tx_off, rx_off;
	unsigned int ntx, nrx;
	int *tx_free, ntx_free;
	int *rx_free, nrx_free;
	/* device: packets waiting for a receive buffer */
	struct pending_pkt *sq_head, *sq_tail;
	uint64_t last_watchdog;
	uint64_t last_work;	/* rel ns: the peer's packets last taken */
	uint64_t last_bell;	/* rel ns: doorbells last looked at */
	bool polling;		/* looking at the rings, doorbells off */
	uint64_t events;
	int err;
};

static uint64_t rel_now(const struct side *s)
{
	return mono_ns() - s->sh->start_mono;
}

static uint64_t a_clock(uint64_t rel)
{
	return A_BASE_NS + rel;
}

static uint64_t side_clock(const struct side *s, uint64_t rel)
{
	double t;

	if (s->name == 'a')
		return a_clock(rel);
	t = (double)A_BASE_NS + (double)s->o->clock_offset_ns +
	    (double)rel * (1.0 + s->o->clock_drift_ppm * 1e-6);
	return t < 0 ? 0 : (uint64_t)t;
}

static double rnd(struct side *s)
{
	/* xorshift64*: reproducible per seed and side */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return (double)((s->rng * 0x2545f4914f6cdd1dull) >> 11) /
	       (double)(1ull << 53);
}

static uint64_t gpa_of(const struct side *s, const void *p)
{
	return GPA_BASE + (uint64_t)((const uint8_t *)p - s->mem);
}

/* ---- events in the kernel's words ---- */

/* @src into @dst of @size bytes, cut to fit (snprintf's "%s", cheaper:
 * this runs for every event) */
static void set_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void emit(struct side *s, struct vs_event *ev, const char *comm,
		 int pid)
{
	char line[512];
	int n;

	ev->ts_ns = side_clock(s, rel_now(s));
	ev->present |= VS_HAS_TS | VS_HAS_CPU | VS_HAS_PID | VS_HAS_COMM;
	ev->cpu = s->dev ? 1 : 0;
	ev->pid = pid;
	set_str(ev->comm, sizeof(ev->comm), comm);
	n = vs_text_format(ev, line, sizeof(line));
	if (n > 0 && fwrite_unlocked(line, 1, (size_t)n, s->trace) != (size_t)n)
		s->err = -EIO;
	s->events++;
}

static const char *task(const struct side *s)
{
	return s->dev ? "vhost-2" : "refdev-a";
}

static int task_pid(const struct side *s)
{
	return s->dev ? 812 : 1203;
}

static void emit_pkt(struct side *s, bool tx, const struct vs_hdr *h)
{
	struct vs_event ev;

	vs_hdr_event(h, tx, &ev);
	emit(s, &ev, tx ? task(s) : (s->dev ? "vhost-2" : "kworker/0:1"),
	     tx ? task_pid(s) : (s->dev ? 812 : 45));
}

static void emit_irq(struct side *s, int q)
{
	struct vs_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = VS_EV_IRQ;
	ev.present = VS_HAS_IRQ;
	ev.irq.irq = s->dev ? 40 + q : 24 + q;
	snprintf(ev.irq.name, sizeof(ev.irq.name), "%s-%s",
		 s->dev ? "vsock-kick" : "virtio0", qname[q]);
	emit(s, &ev, "<idle>", 0);
}

static void emit_doorbell(struct side *s, int q)
{
	struct vs_event ev;
	const struct vs_vring *vq = &s->vq[q];

	memset(&ev, 0, sizeof(ev));
	ev.kind = s->dev ? VS_EV_VQ_CALL : VS_EV_VQ_KICK;
	ev.present = VS_HAS_IDX;
	set_str(ev.vq.dev, sizeof(ev.vq.dev), "vsock");
	set_str(ev.vq.vq, sizeof(ev.vq.vq), qname[q]);
	ev.vq.idx = s->dev ? vq->used_idx : vq->avail_idx;
	emit(s, &ev, task(s), task_pid(s));
}

static void emit_alloc(struct side *s, const char *site, uint64_t bytes,
		       bool failed)
{
	struct vs_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = VS_EV_ALLOC;
	ev.present = VS_HAS_SIZE | VS_HAS_CALLSITE;
	ev.alloc.source = VS_ALLOC_KMALLOC;
	ev.alloc.order = -1;
	ev.alloc.bytes_req = bytes;
	ev.alloc.bytes_alloc = bytes;
	ev.alloc.failed = failed;
	set_str(ev.alloc.call_site, sizeof(ev.alloc.call_site), site);
	emit(s, &ev, task(s), task_pid(s));
}

/* ---- ground truth ---- */

static struct rec *record(struct side *s, int fault, bool has_flow,
			  const struct vs_tuple *flow, uint64_t start)
{
	uint32_t i = __atomic_fetch_add(&s->sh->nrec, 1, __ATOMIC_SEQ_CST);
	struct rec *r;

	if (i >= MAX_REC)
		return NULL;
	r = &s->sh->rec[i];
	r->kind = s->faults[fault].kind;
	r->system = s->name;
	r->fault = fault;
	r->has_flow = has_flow;
	if (has_flow)
		r->flow = *flow;
	r->start = start;
	return r;
}

/* the open records of @kind end at @now (the fault stopped acting) */
static void recover(struct side *s, int kind, uint64_t now)
{
	uint32_t n = __atomic_load_n(&s->sh->nrec, __ATOMIC_SEQ_CST);

	if (n > MAX_REC)
		n = MAX_REC;
	for (uint32_t i = 0; i < n; i++) {
		struct rec *r = &s->sh->rec[i];

		if (r->kind == kind && !r->end && r->start <= now)
			r->end = now;
	}
}

static int fault_hit(struct side *s, enum vs_fault_kind k, bool rx,
		     const struct vs_tuple *flow)
{
	uint64_t now = rel_now(s);

	for (unsigned int i = 0; i < s->o->nfaults; i++) {
		struct vs_fault *f = &s->faults[i];

		if (f->kind != k || f->system != s->name || f->what_rx != rx)
			continue;
		if (vs_fault_hit(f, now, flow, rnd(s)))
			return (int)i;
	}
	return -1;
}

/* a window fault on now? The first time, it goes in the truth */
static bool window_fault(struct side *s, enum vs_fault_kind k,
			 const struct vs_tuple *flow)
{
	uint64_t now = rel_now(s);

	for (unsigned int i = 0; i < s->o->nfaults; i++) {
		struct vs_fault *f = &s->faults[i];

		if (f->kind != k || f->system != s->name ||
		    !vs_fault_active(f, now) || !vs_fault_matches_flow(f, flow))
			continue;
		if (!f->injected) {
			struct rec *r = record(s, (int)i, false, NULL,
					       a_clock(f->at_ns));

			f->injected = 1;
			if (r)
				r->end = a_clock(f->at_ns + f->for_ns);
		}
		return true;
	}
	return false;
}

/* ---- the driver (a) ---- */

static void drv_reclaim_tx(struct side *s)
{
	uint32_t len;
	void *tok;

	while ((tok = vs_vring_drv_get_used(&s->vq[Q_TX], &len)))
		s->tx_free[s->ntx_free++] = (int)((uintptr_t)tok - 1);
}

static void drv_kick(struct side *s, int q)
{
	int f;

	if (!vs_vring_drv_kick_prepare(&s->vq[q]))
		return;
	emit_doorbell(s, q);
	f = q == Q_TX ? fault_hit(s, VS_FAULT_DROP_KICK, false, NULL)
		      : fault_hit(s, VS_FAULT_DROP_KICK, true, NULL);
	if (f >= 0) {
		record(s, f, false, NULL, a_clock(rel_now(s)));
		return; /* rung, never heard */
	}
	vs_doorbell_ring(&s->kick[q]);
}

/*
 * Payloads are made where they go (vs_fill_fn): by the writer straight
 * into a descriptor's buffer, or copied from the engine's buffer.
 */
static void fill_copy(void *arg, void *dst, size_t len)
{
	memcpy(dst, arg, len);
}

static int drv_xmit(struct side *s, const struct vs_hdr *h, vs_fill_fn *fill,
		    void *fill_arg)
{
	struct vs_tuple t = { h->src_cid, h->dst_cid, h->src_port,
			      h->dst_port };
	struct vs_vring_seg seg[2];
	uint8_t *slot;
	int f, idx, n;

	drv_reclaim_tx(s);
	if (!s->ntx_free || vs_vring_drv_num_free(&s->vq[Q_TX]) < 2)
		return -EAGAIN;
	f = fault_hit(s, VS_FAULT_FAIL_ALLOC, false, &t);
	if (f >= 0) {
		emit_alloc(s, "virtio_transport_alloc_skb+0x4a/0x1d0",
			   VS_HDR_SIZE + h->len, true);
		record(s, f, true, &t, a_clock(rel_now(s)));
		return -EAGAIN; /* the engine tries again later */
	}
	idx = s->tx_free[--s->ntx_free];
	slot = s->mem + s->tx_off + (size_t)idx * TX_SLOT;
	vs_hdr_encode(h, slot);
	if (h->len)
		fill(fill_arg, slot + VS_HDR_SIZE, h->len);
	emit_alloc(s, "virtio_transport_alloc_skb+0x4a/0x1d0",
		   VS_HDR_SIZE + h->len, false);
	/* header and payload in one descriptor (Linux >= 6.2) or two */
	if (h->len && (s->o->split_hdr == 1 ||
		       (s->o->split_hdr == 2 && rnd(s) < 0.5))) {
		seg[0] = (struct vs_vring_seg){ gpa_of(s, slot), VS_HDR_SIZE,
						false, NULL };
		seg[1] = (struct vs_vring_seg){
			gpa_of(s, slot + VS_HDR_SIZE), h->len, false, NULL
		};
		n = 2;
	} else {
		seg[0] = (struct vs_vring_seg){ gpa_of(s, slot),
						VS_HDR_SIZE + h->len, false,
						NULL };
		n = 1;
	}
	/* traced before b can see it: a busy b may take it at once, and the
	 * traces must keep cause before effect, as the kernel's do */
	emit_pkt(s, true, h);
	if (vs_vring_drv_add(&s->vq[Q_TX], seg, (unsigned int)n,
			     (void *)(uintptr_t)(idx + 1), NULL, 0)) {
		/* cannot happen: room was checked above */
		s->tx_free[s->ntx_free++] = idx;
		s->err = -ENOSPC;
		return -EAGAIN;
	}
	drv_kick(s, Q_TX);
	return 0;
}

static void drv_refill(struct side *s)
{
	bool added = false;

	if (window_fault(s, VS_FAULT_STOP_RX_REFILL, NULL))
		return;
	while (s->nrx_free && vs_vring_drv_num_free(&s->vq[Q_RX])) {
		struct vs_vring_seg seg;
		uint8_t *buf;
		int idx, f;

		f = fault_hit(s, VS_FAULT_FAIL_ALLOC, true, NULL);
		if (f >= 0) {
			emit_alloc(s, "virtio_vsock_rx_fill+0x3c/0x110",
				   VS_HDR_SIZE + s->o->rx_buf_size, true);
			record(s, f, false, NULL, a_clock(rel_now(s)));
			break;
		}
		idx = s->rx_free[--s->nrx_free];
		buf = s->mem + s->rx_off +
		      (size_t)idx * (VS_HDR_SIZE + s->o->rx_buf_size);
		seg = (struct vs_vring_seg){ gpa_of(s, buf),
					     VS_HDR_SIZE + s->o->rx_buf_size,
					     true, NULL };
		if (vs_vring_drv_add(&s->vq[Q_RX], &seg, 1,
				     (void *)(uintptr_t)(idx + 1), NULL, 0)) {
			s->rx_free[s->nrx_free++] = idx;
			break;
		}
		added = true;
	}
	if (added)
		drv_kick(s, Q_RX);
}

/*
 * Take what b delivered. @polling: a looks at the ring anyway for a while
 * (poll_queues), so calls stay off; else ask for a call and look once
 * more (what came meanwhile would not call).
 */
static void drv_rx(struct side *s, bool polling)
{
	bool any = false;

	do {
		uint32_t len;
		void *tok;

		while ((tok = vs_vring_drv_get_used(&s->vq[Q_RX], &len))) {
			int idx = (int)((uintptr_t)tok - 1);
			uint8_t *buf = s->mem + s->rx_off +
				       (size_t)idx *
					       (VS_HDR_SIZE + s->o->rx_buf_size);
			struct vs_hdr h;

			any = true;
			if (len >= VS_HDR_SIZE) {
				vs_hdr_decode(buf, &h);
				if (h.len <= len - VS_HDR_SIZE) {
					emit_pkt(s, false, &h);
					if (vs_proto_input(s->proto, &h,
							   buf + VS_HDR_SIZE))
						s->sh->malformed[0]++;
				} else {
					s->sh->malformed[0]++;
				}
			} else {
				s->sh->malformed[0]++;
			}
			s->rx_free[s->nrx_free++] = idx;
		}
	} while (!polling && !vs_vring_drv_enable_cb(&s->vq[Q_RX]));
	if (any) {
		s->last_work = rel_now(s);
		recover(s, VS_FAULT_DROP_IRQ, a_clock(s->last_work));
	}
	if (any || !polling)
		drv_refill(s);
}

/* ---- the device (b) ---- */

static void dev_call(struct side *s, int q)
{
	int f;

	if (!vs_vring_dev_call_prepare(&s->vq[q]))
		return;
	emit_doorbell(s, q);
	f = fault_hit(s, VS_FAULT_DROP_IRQ, q == Q_RX, NULL);
	if (f >= 0) {
		uint64_t rel = rel_now(s);

		record(s, f, false, NULL, a_clock(rel));
		return;
	}
	vs_doorbell_ring(&s->call[q]);
}

static void broken(struct side *s, int q)
{
	snprintf(s->sh->broken[1], sizeof(s->sh->broken[1]), "%s queue: %s",
		 qname[q], s->vq[q].why);
	s->err = -EPROTO;
}

/* deliver waiting packets into a's receive buffers */
static void dev_send_pending(struct side *s)
{
	bool pushed = false;

	while (s->sq_head) {
		struct pending_pkt *p = s->sq_head;
		struct vs_vring_seg segs[VS_VRING_MAX_CHAIN];
		uint8_t wire[VS_HDR_SIZE];
		uint16_t head;
		uint32_t need = VS_HDR_SIZE + p->h.len, done = 0;
		int n;

		n = vs_vring_dev_pop(&s->vq[Q_RX], &s->gm, &head, segs);
		if (n < 0) {
			broken(s, Q_RX);
			return;
		}
		if (!n) {
			/* no buffer: ask a to kick when it refills (and look
			 * once more: it may have just done so) */
			vs_vring_dev_enable_notify(&s->vq[Q_RX]);
			n = vs_vring_dev_pop(&s->vq[Q_RX], &s->gm, &head, segs);
			if (n < 0) {
				broken(s, Q_RX);
				return;
			}
		}
		if (!n) {
			/* the truth wants to know how long packets waited */
			if (!s->sh->rx_wait_start)
				s->sh->rx_wait_start = a_clock(rel_now(s));
			break;
		}
		if (s->sh->rx_wait_start) {
			uint64_t w = a_clock(rel_now(s)) - s->sh->rx_wait_start;

			if (w > s->sh->rx_wait_max)
				s->sh->rx_wait_max = w;
			s->sh->rx_wait_start = 0;
			s->sh->rx_wait_end = a_clock(rel_now(s));
		}
		vs_hdr_encode(&p->h, wire);
		for (int i = 0; i < n && done < need; i++) {
			uint32_t k;

			if (!segs[i].write)
				continue;
			k = segs[i].len < need - done ? segs[i].len
						      : need - done;
			for (uint32_t j = 0; j < k;) {
				uint32_t off = done + j, m;
				uint8_t *to = (uint8_t *)segs[i].host + j;

				if (off < VS_HDR_SIZE) {
					m = VS_HDR_SIZE - off < k - j
						    ? VS_HDR_SIZE - off
						    : k - j;
					memcpy(to, wire + off, m);
				} else {
					m = k - j;
					memcpy(to,
					       p->payload + off - VS_HDR_SIZE,
					       m);
				}
				j += m;
			}
			done += k;
		}
		vs_vring_dev_push(&s->vq[Q_RX], head, done);
		pushed = true;
		s->sq_head = p->next;
		if (!s->sq_head)
			s->sq_tail = NULL;
		free(p->payload);
		free(p);
	}
	if (pushed)
		dev_call(s, Q_RX);
}

static int dev_xmit(struct side *s, const struct vs_hdr *h, vs_fill_fn *fill,
		    void *fill_arg)
{
	struct vs_tuple t = { h->src_cid, h->dst_cid, h->src_port,
			      h->dst_port };
	struct pending_pkt *p;
	int f;

	if (h->len > s->o->rx_buf_size)
		return -EMSGSIZE;
	f = fault_hit(s, VS_FAULT_FAIL_ALLOC, false, &t);
	if (f >= 0) {
		emit_alloc(s, "virtio_transport_alloc_skb+0x4a/0x1d0",
			   VS_HDR_SIZE + h->len, true);
		record(s, f, true, &t, a_clock(rel_now(s)));
		return -EAGAIN;
	}
	p = calloc(1, sizeof(*p));
	if (!p || (h->len && !(p->payload = malloc(h->len)))) {
		free(p);
		return -EAGAIN;
	}
	p->h = *h;
	if (h->len)
		fill(fill_arg, p->payload, h->len);
	emit_alloc(s, "virtio_transport_alloc_skb+0x4a/0x1d0",
		   VS_HDR_SIZE + h->len, false);
	emit_pkt(s, true, h);
	f = h->op == VS_OP_RW ? fault_hit(s, VS_FAULT_DROP_PACKET, true, &t)
			      : -1;
	if (f >= 0) {
		uint64_t now = a_clock(rel_now(s));
		struct rec *r = record(s, f, true, &t, now);

		if (r) {
			r->end = now;
			r->system = 'b'; /* the sender */
		}
		if (h->dst_port >= PORT_BASE &&
		    h->dst_port < PORT_BASE + SIM_MAX_FLOWS)
			s->sh->flows[h->dst_port - PORT_BASE].dropped = 1;
		if (h->src_port >= PORT_BASE &&
		    h->src_port < PORT_BASE + SIM_MAX_FLOWS)
			s->sh->flows[h->src_port - PORT_BASE].dropped = 1;
		free(p->payload);
		free(p);
		return 0; /* lost on the way */
	}
	if (s->sq_tail)
		s->sq_tail->next = p;
	else
		s->sq_head = p;
	s->sq_tail = p;
	dev_send_pending(s);
	return 0;
}

/* take what a sent; @polling as for drv_rx(), with kicks */
static void dev_tx(struct side *s, bool polling)
{
	bool pushed = false, any = false;

	do {
		struct vs_vring_seg segs[VS_VRING_MAX_CHAIN];
		uint16_t head;
		int n;

		while ((n = vs_vring_dev_pop(&s->vq[Q_TX], &s->gm, &head,
					     segs)) > 0) {
			static uint8_t buf[VS_HDR_SIZE + VS_MAX_PKT_PAYLOAD];
			const uint8_t *hdr = buf, *pl = buf + VS_HDR_SIZE;
			uint32_t got = 0;
			struct vs_hdr h;
			bool ok = true, whole = true;

			any = true;
			/* header and payload, in one segment or several: read
			 * in place when the payload is one piece (Linux puts
			 * it in one segment, or two with the header apart) */
			if (n == 1 && !segs[0].write &&
			    segs[0].len <= sizeof(buf)) {
				hdr = segs[0].host;
				pl = hdr + VS_HDR_SIZE;
				got = segs[0].len;
			} else if (n == 2 && !segs[0].write && !segs[1].write &&
				   segs[0].len == VS_HDR_SIZE &&
				   segs[1].len <= sizeof(buf) - VS_HDR_SIZE) {
				hdr = segs[0].host;
				pl = segs[1].host;
				got = VS_HDR_SIZE + segs[1].len;
			} else {
				whole = false;
			}
			for (int i = 0; !whole && i < n; i++) {
				if (segs[i].write ||
				    segs[i].len > sizeof(buf) - got) {
					ok = false;
					break;
				}
				memcpy(buf + got, segs[i].host, segs[i].len);
				got += segs[i].len;
			}
			if (ok && got >= VS_HDR_SIZE) {
				struct vs_tuple t;
				int f;

				vs_hdr_decode(hdr, &h);
				t = (struct vs_tuple){ h.src_cid, h.dst_cid,
						       h.src_port, h.dst_port };
				if (h.len > got - VS_HDR_SIZE) {
					s->sh->malformed[1]++;
				} else if (h.op == VS_OP_RW &&
					   (f = fault_hit(s,
							  VS_FAULT_DROP_PACKET,
							  false, &t)) >= 0) {
					struct rec *r = record(
						s, f, true, &t,
						a_clock(rel_now(s)));

					if (r) {
						r->end = r->start;
						r->system = 'a'; /* sender */
					}
					if (h.src_port >= PORT_BASE &&
					    h.src_port <
						    PORT_BASE + SIM_MAX_FLOWS)
						s->sh->flows[h.src_port -
							     PORT_BASE]
							.dropped = 1;
					if (h.dst_port >= PORT_BASE &&
					    h.dst_port <
						    PORT_BASE + SIM_MAX_FLOWS)
						s->sh->flows[h.dst_port -
							     PORT_BASE]
							.dropped = 1;
				} else {
					emit_pkt(s, false, &h);
					if (vs_proto_input(s->proto, &h, pl))
						s->sh->malformed[1]++;
				}
			} else {
				s->sh->malformed[1]++;
			}
			vs_vring_dev_push(&s->vq[Q_TX], head, 0);
			pushed = true;
		}
		if (n < 0) {
			broken(s, Q_TX);
			return;
		}
		if (polling)
			break;
		vs_vring_dev_enable_notify(&s->vq[Q_TX]);
	} while (vs_vring_dev_pending(&s->vq[Q_TX]) > 0);
	if (any) {
		s->last_work = rel_now(s);
		recover(s, VS_FAULT_DROP_KICK, a_clock(s->last_work));
	}
	if (pushed)
		dev_call(s, Q_TX);
}

/* ---- the protocol engine's hooks ---- */

static int xmit_fill(void *ctx, const struct vs_hdr *h, vs_fill_fn *fill,
		     void *fill_arg)
{
	struct side *s = ctx;

	return s->dev ? dev_xmit(s, h, fill, fill_arg)
		      : drv_xmit(s, h, fill, fill_arg);
}

static int xmit(void *ctx, const struct vs_hdr *h, const void *payload)
{
	return xmit_fill(ctx, h, fill_copy, (void *)payload);
}

static vs_reader_fn check_pattern;

static struct app *app_of(struct side *s, struct vs_sock *sk)
{
	struct vs_sock_info in;

	vs_sock_info(sk, &in);
	if (s->dev) {
		if (in.local_port < PORT_BASE ||
		    in.local_port >= PORT_BASE + s->napps)
			return NULL;
		return &s->apps[in.local_port - PORT_BASE];
	}
	return vs_sock_get_user(sk);
}

static void sock_event(void *ctx, struct vs_sock *sk, enum vs_sock_event ev)
{
	struct side *s = ctx;
	struct app *a = app_of(s, sk);

	if (!a)
		return;
	switch (ev) {
	case VS_SOCK_EV_ACCEPTED:
	case VS_SOCK_EV_CONNECTED:
		a->s = sk;
		a->connected = true;
		/* a bulk reader checks the bytes where they arrive */
		if (a->role == R_READER && !s->o->copy)
			vs_sock_set_reader(sk, check_pattern, a);
		break;
	case VS_SOCK_EV_CLOSED:
	case VS_SOCK_EV_RESET:
		a->closed = true;
		break;
	default:
		break;
	}
}

static bool may_update_credit(void *ctx, struct vs_sock *sk)
{
	struct side *s = ctx;
	struct vs_sock_info in;
	struct vs_tuple t;
	uint64_t now = rel_now(s);

	vs_sock_info(sk, &in);
	/* the data direction this credit is for: peer → us */
	t = (struct vs_tuple){ in.peer_cid, in.local_cid, in.peer_port,
			       in.local_port };
	for (unsigned int i = 0; i < s->o->nfaults; i++) {
		struct vs_fault *f = &s->faults[i];

		if (f->kind != VS_FAULT_WITHHOLD_CREDIT ||
		    f->system != s->name || !vs_fault_active(f, now) ||
		    !vs_fault_matches_flow(f, &t))
			continue;
		if (!f->injected) {
			f->injected = 1;
			struct rec *r = record(s, (int)i, false, NULL,
					       a_clock(f->at_ns));

			if (r)
				r->end = a_clock(f->at_ns + f->for_ns);
		}
		return false;
	}
	return true;
}

static const struct vs_proto_ops proto_ops = {
	.xmit = xmit,
	.event = sock_event,
	.may_update_credit = may_update_credit,
	.xmit_fill = xmit_fill,
};

/* ---- workloads ---- */

/*
 * The bytes a side writes on flow @idx (@dev: written by b): byte k of the
 * stream is k * 131 + idx * 17 + seed (+ 101 from b), mod 256. That is
 * (k + c * 43) * 131 with c the constant part (43 is 131's inverse mod
 * 256), so every stream is one table read from an offset: made and
 * checked with memcpy and memcmp, PAT_SPAN bytes at a time (a table small
 * enough to stay in the L1 cache beside what it is compared with).
 */
#define PAT_SPAN 16384u
static uint8_t pat_tab[PAT_SPAN + 256];

static void pat_init(void)
{
	for (unsigned int j = 0; j < sizeof(pat_tab); j++)
		pat_tab[j] = (uint8_t)(j * 131);
}

/* where byte @k of the stream is in the table (the next PAT_SPAN follow) */
static const uint8_t *pat_at(const struct side *s, int idx, bool dev,
			     uint64_t k)
{
	uint64_t c = (uint64_t)idx * 17 + s->o->seed + (dev ? 101 : 0);

	return pat_tab + ((k + c * 43) & 255);
}

/* bytes [@k, @k + @len) of the stream into @dst */
static void pat_fill(const struct side *s, int idx, bool dev, uint64_t k,
		     uint8_t *dst, size_t len)
{
	while (len) {
		size_t n = len < PAT_SPAN ? len : PAT_SPAN;

		memcpy(dst, pat_at(s, idx, dev, k), n);
		dst += n;
		k += n;
		len -= n;
	}
}

/* how many of @len bytes at @src are not bytes [@k, @k + @len) */
static uint64_t pat_check(const struct side *s, int idx, bool dev,
			  uint64_t k, const uint8_t *src, size_t len)
{
	uint64_t bad = 0;

	while (len) {
		size_t n = len < PAT_SPAN ? len : PAT_SPAN;
		const uint8_t *want = pat_at(s, idx, dev, k);

		if (memcmp(src, want, n))
			for (size_t j = 0; j < n; j++)
				bad += src[j] != want[j];
		src += n;
		k += n;
		len -= n;
	}
	return bad;
}

static enum role role_of(const struct sim_opts *o, int i, bool dev)
{
	enum sim_workload w = o->workload;

	if (w == WL_MIX)
		w = (enum sim_workload)(i % 3);
	switch (w) {
	case WL_BULK:
		/* even flows a → b, odd ones b → a */
		return (i % 2 == 0) == !dev ? R_WRITER : R_READER;
	case WL_RR:
		return dev ? R_RR_SERVER : R_RR_CLIENT;
	default:
		return R_MANY_TX;
	}
}

static void note_starve(struct side *s, struct app *a, uint64_t now)
{
	struct vs_sock_info in;
	bool starving;

	vs_sock_info(a->s, &in);
	starving = in.state == VS_SOCK_CONNECTED && in.peer_free == 0 &&
		   in.tx_queued > 0;
	if (starving && !a->starving) {
		a->starving = true;
		a->starve_start = now;
	} else if (!starving && a->starving) {
		a->starving = false;
		if (now - a->starve_start >= s->o->stall_ns / 2) {
			uint32_t i = __atomic_fetch_add(&s->sh->nstarve, 1,
							__ATOMIC_SEQ_CST);

			if (i < MAX_STARVE) {
				struct starve *st = &s->sh->starve[i];

				st->system = s->name;
				st->flow = (struct vs_tuple){
					in.local_cid, in.peer_cid,
					in.local_port, in.peer_port
				};
				st->start = a_clock(a->starve_start);
				st->end = a_clock(now);
			}
		}
	}
}

/* a writer's bytes, made where the engine says (vs_fill_fn) */
static void fill_pattern(void *arg, void *dst, size_t len)
{
	struct app *a = arg;

	pat_fill(a->side, a->idx, a->side->dev, a->wmade, dst, len);
	a->wmade += len;
}

static void write_pattern(struct side *s, struct app *a, size_t len)
{
	static uint8_t buf[65536];
	ssize_t n;

	if (len > sizeof(buf))
		len = sizeof(buf);
	if (s->o->copy) {
		pat_fill(s, a->idx, s->dev, a->wpos, buf, len);
		n = vs_sock_write(a->s, buf, len);
	} else {
		/* bytes that wait are made when they leave: wmade runs
		 * behind wpos */
		n = vs_sock_write_later(a->s, len, fill_pattern, a);
	}
	if (n > 0) {
		a->wpos += (uint64_t)n;
		__atomic_fetch_add(&s->sh->flows[a->idx].sent, (uint64_t)n,
				   __ATOMIC_RELAXED);
	}
}

/* received bytes, checked against what the peer wrote (vs_reader_fn) */
static void check_pattern(void *arg, const void *data, size_t len)
{
	struct app *a = arg;
	struct side *s = a->side;
	struct flow_res *fr = &s->sh->flows[a->idx];
	uint64_t bad = pat_check(s, a->idx, !s->dev, a->rpos, data, len);

	if (bad)
		__atomic_fetch_add(&fr->bad, bad, __ATOMIC_RELAXED);
	a->rpos += len;
	__atomic_fetch_add(&fr->recvd, len, __ATOMIC_RELAXED);
}

static void read_check(struct app *a)
{
	uint8_t buf[16384];
	ssize_t n;

	while ((n = vs_sock_read(a->s, buf, sizeof(buf))) > 0)
		check_pattern(a, buf, (size_t)n);
}

static void app_step(struct side *s, struct app *a, uint64_t now, bool ending)
{
	struct vs_sock_info in;

	if (!a->s || !a->connected || a->closed)
		return;
	switch (a->role) {
	case R_WRITER:
		note_starve(s, a, now);
		if (!ending) {
			vs_sock_info(a->s, &in);
			if (in.tx_queued < 131072)
				/* writes of any size, as applications do,
				 * or all of one size */
				write_pattern(s, a,
					      s->o->write_size
						      ? s->o->write_size
						      : 1024 + (size_t)(rnd(s) *
									15360));
		}
		break;
	case R_MANY_TX:
		/* small messages both ways, of any size up to 128 bytes */
		if (!ending && now >= a->next_at) {
			write_pattern(s, a, 16 + (size_t)(rnd(s) * 112));
			a->next_at = now + 500000 + (uint64_t)(rnd(s) * 1000000);
		}
		read_check(a);
		break;
	case R_READER:
		read_check(a);
		break;
	case R_RR_CLIENT:
		if (!a->rr_waiting && !ending) {
			uint8_t req[128];

			pat_fill(s, a->idx, s->dev, a->wpos, req, sizeof(req));
			if (vs_sock_write(a->s, req, sizeof(req)) ==
			    (ssize_t)sizeof(req)) {
				a->wpos += sizeof(req);
				__atomic_fetch_add(&s->sh->flows[a->idx].sent,
						   sizeof(req), __ATOMIC_RELAXED);
				a->rr_waiting = true;
				a->rr_got = 0;
			}
		} else if (a->rr_waiting) {
			uint8_t buf[2048];
			ssize_t n;

			while ((n = vs_sock_read(a->s, buf, sizeof(buf))) > 0) {
				a->rr_got += (uint32_t)n;
				__atomic_fetch_add(&s->sh->flows[a->idx].recvd,
						   (uint64_t)n, __ATOMIC_RELAXED);
			}
			if (a->rr_got >= 1024)
				a->rr_waiting = false;
		}
		break;
	case R_RR_SERVER: {
		uint8_t buf[2048];
		ssize_t n;

		while ((n = vs_sock_read(a->s, buf, sizeof(buf))) > 0) {
			struct flow_res *fr = &s->sh->flows[a->idx];
			uint8_t resp[1024];

			fr->bad += pat_check(s, a->idx, !s->dev, a->rpos, buf,
					     (size_t)n);
			a->rpos += (uint64_t)n;
			__atomic_fetch_add(&fr->recvd, (uint64_t)n,
					   __ATOMIC_RELAXED);
			memset(resp, 0x5a, sizeof(resp));
			if (vs_sock_write(a->s, resp, sizeof(resp)) > 0)
				__atomic_fetch_add(&fr->sent, sizeof(resp),
						   __ATOMIC_RELAXED);
		}
		break;
	}
	default:
		break;
	}
}

static void apps_setup(struct side *s)
{
	for (unsigned int i = 0; i < s->o->flows; i++) {
		struct app *a = &s->apps[i];
		enum role r = role_of(s->o, (int)i, s->dev);

		a->side = s;
		a->idx = (int)i;
		a->role = r;
		a->type = (r == R_RR_CLIENT || r == R_RR_SERVER)
				  ? VS_TYPE_SEQPACKET
				  : VS_TYPE_STREAM;
		s->sh->flows[i].used = 1;
		if (s->dev) {
			vs_proto_listen(s->proto, PORT_BASE + i, a->type);
		} else {
			a->s = vs_proto_connect(s->proto, 0, CID_B,
						PORT_BASE + i, a->type);
			if (a->s)
				vs_sock_set_user(a->s, a);
		}
	}
	s->napps = s->o->flows;
}

/* ---- the loop ---- */

/* the queue this side takes the peer's packets from: notifications off */
static void notify_off(struct side *s)
{
	if (s->dev)
		vs_vring_dev_disable_notify(&s->vq[Q_TX]);
	else
		vs_vring_drv_disable_cb(&s->vq[Q_RX]);
}

/*
 * Doorbells, then the rings. While the peer's packets keep coming (within
 * POLL_NS of the last), a side looks at its ring on every turn, as vhost
 * and NAPI busy-poll, with the peer's doorbells off (EVENT_IDX: the index
 * it would ring at is left behind) and its own doorbells looked at every
 * BELL_NS only. Idle, it turns them back on, looks once more, and from
 * then on takes a ring only when its doorbell rings (or the watchdog
 * fires): a lost doorbell leaves it waiting, as it would a driver.
 */
static void poll_queues(struct side *s, uint64_t now, bool force, bool busy)
{
	struct vs_doorbell *bells[NQ];
	bool was = s->polling;
	int64_t m = 0;

	s->polling = now - s->last_work < POLL_NS;
	if (s->polling && !was)
		notify_off(s);
	if (!s->polling && was) {
		/* notifications on, and whatever came meanwhile */
		if (s->dev)
			dev_tx(s, false);
		else
			drv_rx(s, false);
	}
	if (!s->polling || now - s->last_bell >= BELL_NS) {
		for (int q = 0; q < NQ; q++)
			bells[q] = s->dev ? &s->kick[q] : &s->call[q];
		/* while work flows, look and go on; idle, sleep until a
		 * doorbell */
		m = vs_doorbell_wait(bells, NQ, busy || s->polling ? 0 : 1);
		if (m < 0)
			m = 0;
		for (int q = 0; q < NQ; q++)
			if ((m & (1 << q)) && vs_doorbell_take(bells[q]))
				emit_irq(s, q);
		s->last_bell = now;
		if (s->polling)
			notify_off(s); /* the index it left behind, renewed */
	}
	if (now - s->last_watchdog >= WATCHDOG_NS) {
		s->last_watchdog = now;
		force = true;
	}
	if (s->dev) {
		if (s->polling || force || (m & (1 << Q_TX)))
			dev_tx(s, s->polling);
		if (s->polling || force || (m & (1 << Q_RX)))
			dev_send_pending(s);
	} else {
		if (s->polling || force || (m & (1 << Q_RX)))
			drv_rx(s, s->polling);
		drv_reclaim_tx(s);
	}
}

/* every byte written, on either side, has been read */
static bool all_drained(struct side *s)
{
	for (unsigned int i = 0; i < s->napps; i++) {
		const struct flow_res *fr = &s->sh->flows[i];

		if (fr->dropped || s->apps[i].closed)
			continue;
		if (__atomic_load_n(&fr->sent, __ATOMIC_RELAXED) !=
			    __atomic_load_n(&fr->recvd, __ATOMIC_RELAXED) ||
		    (s->apps[i].role == R_RR_CLIENT && s->apps[i].rr_waiting))
			return false;
	}
	return true;
}

static int side_main(struct side *s)
{
	uint64_t end = s->o->duration_ns, now;
	bool closing = false;
	uint64_t close_at = 0;

	uint64_t last = rel_now(s), seen = 0, turn;

	apps_setup(s);
	if (!s->dev)
		drv_refill(s);
	for (;;) {
		now = rel_now(s);
		if (now - last > s->o->timeout_ns / 4) {
			uint32_t i = __atomic_fetch_add(&s->sh->npause, 1,
							__ATOMIC_SEQ_CST);

			if (i < 256)
				s->sh->pause[i] = (struct pause){
					s->name, a_clock(last), a_clock(now)
				};
		}
		last = now;
		if (__atomic_load_n(&s->sh->stop, __ATOMIC_SEQ_CST))
			break;
		turn = s->events;
		poll_queues(s, now, false, s->events != seen);
		seen = s->events;
		for (unsigned int i = 0; i < s->napps; i++)
			app_step(s, &s->apps[i], now, now >= end);
		/* past the end, this side writes no more: a may wait for
		 * what is in flight to drain, then close */
		if (now >= end)
			__atomic_store_n(&s->sh->writers_done[s->dev], 1,
					 __ATOMIC_SEQ_CST);
		vs_proto_flush(s->proto);
		if (s->err)
			break;
		/* a turn of busy-polling that found nothing: let the peer
		 * (or anything else) have this CPU if it is waiting for one */
		if (s->polling && s->events == turn)
			sched_yield();
		if (s->dev)
			continue;
		/* a ends the run: writers stop, data drains, then close */
		if (now >= end && !closing &&
		    ((__atomic_load_n(&s->sh->writers_done[1],
				      __ATOMIC_SEQ_CST) &&
		      all_drained(s)) ||
		     now >= end + DRAIN_NS)) {
			closing = true;
			close_at = now;
			for (unsigned int i = 0; i < s->napps; i++)
				if (s->apps[i].s && !s->apps[i].closed)
					vs_sock_close(s->apps[i].s);
		}
		if (closing && now - close_at >= 200000000ull) {
			__atomic_store_n(&s->sh->stop, 1, __ATOMIC_SEQ_CST);
			break;
		}
	}
	/* the last records: starves still going */
	for (unsigned int i = 0; i < s->napps; i++)
		if (s->apps[i].starving && s->apps[i].s)
			note_starve(s, &s->apps[i], rel_now(s) + 1);
	s->sh->events[s->dev] = s->events;
	if (fflush(s->trace) || ferror(s->trace))
		s->err = -EIO;
	return s->err ? 2 : 0;
}

/* ---- set up, run, collect ---- */

static int side_run(struct side *s)
{
	struct vs_proto_config cfg = {
		.cid = s->dev ? CID_B : CID_A,
		.buf_alloc = 256 * 1024,
		.max_payload = s->dev ? s->o->rx_buf_size : VS_MAX_PKT_PAYLOAD,
		.send_buf = 256 * 1024,
	};
	/* small enough to stay in the L2 cache between the lines put in
	 * and the write() that takes them out */
	static char vbuf[64 << 10];
	char path[4096];

	snprintf(path, sizeof(path), "%s/%c.trace", s->o->out_dir, s->name);
	s->trace = fopen(path, "w");
	if (!s->trace)
		return 2;
	setvbuf(s->trace, vbuf, _IOFBF, sizeof(vbuf));
	if (vs_text_header(path, sizeof(path), 2) > 0)
		fputs(path, s->trace);
	s->proto = vs_proto_new(&cfg, &proto_ops, s);
	if (!s->proto)
		return 2;
	if (s->dev) {
		for (int q = 0; q < NQ; q++) {
			if (vs_vring_dev_init(&s->vq[q], &s->gm,
					      s->sh->qsize[q],
					      s->sh->desc_gpa[q],
					      s->sh->avail_gpa[q],
					      s->sh->used_gpa[q], s->o->event_idx,
					      false)) {
				snprintf(s->sh->broken[1],
					 sizeof(s->sh->broken[1]),
					 "%s queue: %s", qname[q],
					 s->vq[q].why);
				return 2;
			}
		}
	}
	return side_main(s);
}

static int mkdir_p(const char *dir)
{
	char buf[4096], *p;

	snprintf(buf, sizeof(buf), "%s", dir);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static const char *finding_of(int kind)
{
	switch (kind) {
	case VS_FAULT_DROP_KICK:
	case VS_FAULT_DROP_IRQ:
	case VS_FAULT_STOP_RX_REFILL:
		return "unanswered_interrupt";
	case VS_FAULT_WITHHOLD_CREDIT:
		return "credit_stall";
	case VS_FAULT_FAIL_ALLOC:
		return "alloc_failure";
	case VS_FAULT_DROP_PACKET:
		return "lost_packet";
	}
	return "unknown";
}

static void json_flow(FILE *f, bool has, const struct vs_tuple *t)
{
	char b[VS_TUPLE_STRLEN];

	if (has)
		fprintf(f, "\"%s\"", vs_tuple_str(t, b, sizeof(b)));
	else
		fputs("null", f);
}

static void truth_entry(FILE *f, bool *first, const char *kind,
			const char *injected, char system, bool has_flow,
			const struct vs_tuple *flow, uint64_t start,
			uint64_t end, bool observed, const char *note)
{
	fprintf(f, "%s\n  {\"kind\": %s%s%s, \"injected\": \"%s\", "
		   "\"system\": \"%c\", \"flow\": ",
		*first ? "" : ",", observed ? "\"" : "",
		observed ? kind : "null", observed ? "\"" : "", injected,
		system);
	json_flow(f, has_flow, flow);
	fprintf(f, ", \"start_ns\": %" PRIu64 ", \"end_ns\": ", start);
	if (end)
		fprintf(f, "%" PRIu64, end);
	else
		fputs("null", f);
	fprintf(f, ", \"observed\": %s, \"expected\": \"%s\", \"note\": \"%s\"",
		observed ? "true" : "false", kind, note);
	/* packets that never arrive while the receiver takes others are
	 * lost_packet; while it is silent, unanswered_interrupt: either
	 * names a receive queue that ran dry */
	if (!strcmp(injected, "stop-rx-refill"))
		fputs(", \"also\": [\"lost_packet\"]", f);
	fputc('}', f);
	*first = false;
}

/*
 * The truth: each injection with the finding it must produce, or why it
 * had no observable effect. Doorbells lost and recovered within the
 * timeout, withheld credit that no writer ran into, were not observable.
 */
static int write_truth(const struct sim_opts *o, struct shared *sh,
		       uint64_t run_end)
{
	char path[4096];
	bool first = true;
	FILE *f;
	uint32_t n = sh->nrec < MAX_REC ? sh->nrec : MAX_REC;
	uint32_t ns = sh->nstarve < MAX_STARVE ? sh->nstarve : MAX_STARVE;

	snprintf(path, sizeof(path), "%s/truth.json", o->out_dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "{\"version\": 1, \"clock_offset_ns\": %" PRId64
		   ", \"clock_drift_ppm\": %g, \"reference\": \"a\",\n"
		   " \"stall_ns\": %" PRIu64 ", \"timeout_ns\": %" PRIu64
		   ",\n \"faults\": [",
		o->clock_offset_ns, o->clock_drift_ppm, o->stall_ns,
		o->timeout_ns);
	for (uint32_t i = 0; i < n; i++) {
		struct rec *r = &sh->rec[i];
		const char *inj = vs_fault_name((enum vs_fault_kind)r->kind);
		const char *kind = finding_of(r->kind);

		switch (r->kind) {
		case VS_FAULT_DROP_KICK:
		case VS_FAULT_DROP_IRQ: {
			uint64_t end = r->end ? r->end : run_end;
			bool obs = end - r->start > o->timeout_ns;

			truth_entry(f, &first, kind, inj, r->system, false,
				    NULL, r->start, obs ? end : r->end, obs,
				    obs ? "the queue waited for the watchdog"
					: "a later doorbell covered it");
			break;
		}
		case VS_FAULT_WITHHOLD_CREDIT: {
			bool any = false;

			/* each writer starved by it long enough */
			for (uint32_t k = 0; k < ns; k++) {
				struct starve *st = &sh->starve[k];

				if (st->end < r->start ||
				    st->start > r->end + o->stall_ns ||
				    st->end - st->start < o->stall_ns)
					continue;
				truth_entry(f, &first, kind, inj, st->system,
					    true, &st->flow, st->start,
					    st->end, true,
					    "the writer ran out of credit");
				any = true;
			}
			if (!any)
				truth_entry(f, &first, kind, inj, r->system,
					    false, NULL, r->start, r->end,
					    false,
					    "no writer ran out of credit");
			break;
		}
		case VS_FAULT_STOP_RX_REFILL: {
			bool obs = sh->rx_wait_max > o->timeout_ns ||
				   sh->rx_wait_start;

			/* it lasts until b could deliver again */
			truth_entry(f, &first, kind, inj, 'b', false, NULL,
				    r->start,
				    sh->rx_wait_end > r->end ? sh->rx_wait_end
							     : r->end,
				    obs,
				    obs ? "b's packets waited for receive "
					  "buffers"
					: "b had nothing to send meanwhile");
			break;
		}
		case VS_FAULT_FAIL_ALLOC:
			truth_entry(f, &first, kind, inj, r->system,
				    r->has_flow, &r->flow, r->start, r->start,
				    true, "the allocation failed");
			break;
		case VS_FAULT_DROP_PACKET:
			/* named by the system that sent it */
			truth_entry(f, &first, kind, inj, r->system, r->has_flow,
				    &r->flow, r->start, r->start, true,
				    "the packet was dropped on the way");
			/* its bytes never free their credit: the writer may
			 * starve later, a real stall it caused */
			for (uint32_t k = 0; k < ns && r->has_flow; k++) {
				struct starve *st = &sh->starve[k];

				if (!vs_tuple_eq(&st->flow, &r->flow) ||
				    st->start < r->start ||
				    st->end - st->start < o->stall_ns)
					continue;
				truth_entry(f, &first, "credit_stall", inj,
					    st->system, true, &st->flow,
					    st->start, st->end, true,
					    "the lost bytes never freed their "
					    "credit");
			}
			break;
		}
	}
	fputs("\n ],\n \"pauses\": [", f);
	for (uint32_t i = 0; i < sh->npause && i < 256; i++)
		fprintf(f, "%s\n  {\"system\": \"%c\", \"start_ns\": %" PRIu64
			   ", \"end_ns\": %" PRIu64 "}",
			i ? "," : "", sh->pause[i].system, sh->pause[i].start,
			sh->pause[i].end);
	fputs("\n ]}\n", f);
	return fclose(f) ? -errno : 0;
}

int sim_run(const struct sim_opts *o)
{
	size_t ring_sz[NQ], avail_off[NQ], used_off[NQ], off, total, hdr_sz;
	unsigned int qs[NQ] = { o->queue_size, o->queue_size, 16 };
	struct side sa, sb;
	struct shared *sh;
	uint8_t *mem;
	pid_t pa, pb;
	int fd, st, rc = 0, ok;
	uint64_t sent = 0, recvd = 0, bad = 0, run_end;

	pat_init();
	if (mkdir_p(o->out_dir)) {
		fprintf(stderr, "vsock-refdev: error: failed to create %s: %s\n",
			o->out_dir, strerror(errno));
		return 2;
	}
	/* layout: shared state, three rings, tx slots, rx buffers */
	hdr_sz = (sizeof(struct shared) + 4095) & ~(size_t)4095;
	off = hdr_sz;
	for (int q = 0; q < NQ; q++) {
		ring_sz[q] = vs_vring_size(qs[q], &avail_off[q], &used_off[q]);
		off += (ring_sz[q] + 4095) & ~(size_t)4095;
	}
	total = off + (size_t)o->queue_size * TX_SLOT +
		(size_t)o->queue_size * (VS_HDR_SIZE + o->rx_buf_size);
	fd = memfd_create("vsock-refdev", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)total)) {
		fprintf(stderr,
			"vsock-refdev: error: failed to create shared memory: "
			"%s\n",
			strerror(errno));
		return 2;
	}
	mem = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		fprintf(stderr, "vsock-refdev: error: failed to map shared "
				"memory: %s\n",
			strerror(errno));
		return 2;
	}
	sh = (struct shared *)mem;
	memset(&sa, 0, sizeof(sa));
	sa.name = 'a';
	sa.o = o;
	sa.sh = sh;
	sa.mem = mem;
	sa.rng = o->seed * 2 + 1;
	memcpy(sa.faults, o->faults, sizeof(o->faults));
	off = hdr_sz;
	for (int q = 0; q < NQ; q++) {
		if (vs_vring_drv_init(&sa.vq[q], mem + off, qs[q], o->event_idx,
				      false)) {
			fprintf(stderr, "vsock-refdev: error: failed to set "
					"up the %s queue\n",
				qname[q]);
			return 2;
		}
		sh->qsize[q] = qs[q];
		sh->desc_gpa[q] = GPA_BASE + off;
		sh->avail_gpa[q] = GPA_BASE + off + avail_off[q];
		sh->used_gpa[q] = GPA_BASE + off + used_off[q];
		off += (ring_sz[q] + 4095) & ~(size_t)4095;
	}
	/* a takes no tx interrupts: it reclaims when it sends */
	vs_vring_drv_disable_cb(&sa.vq[Q_TX]);
	sa.tx_off = off;
	sa.ntx = o->queue_size;
	sa.rx_off = off + (size_t)o->queue_size * TX_SLOT;
	sa.nrx = o->queue_size;
	sa.tx_free = calloc(sa.ntx, sizeof(int));
	sa.rx_free = calloc(sa.nrx, sizeof(int));
	if (!sa.tx_free || !sa.rx_free)
		return 2;
	for (unsigned int i = 0; i < sa.ntx; i++)
		sa.tx_free[sa.ntx_free++] = (int)(sa.ntx - 1 - i);
	for (unsigned int i = 0; i < sa.nrx; i++)
		sa.rx_free[sa.nrx_free++] = (int)(sa.nrx - 1 - i);
	for (int q = 0; q < NQ; q++) {
		if (vs_doorbell_open(&sa.kick[q]) ||
		    vs_doorbell_open(&sa.call[q])) {
			fprintf(stderr, "vsock-refdev: error: failed to create "
					"doorbells: %s\n",
				strerror(errno));
			return 2;
		}
	}
	sb = sa;
	sb.name = 'b';
	sb.dev = true;
	sb.rng = o->seed * 2 + 2;
	sh->start_mono = mono_ns();
	fflush(NULL);
	pb = fork();
	if (pb == 0) {
		/* b maps the memory itself, at its own address */
		uint8_t *bm = mmap(NULL, total, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd, 0);

		if (bm == MAP_FAILED)
			_exit(2);
		munmap(mem, total);
		sb.mem = bm;
		sb.sh = (struct shared *)bm;
		sb.gm.nregions = 1;
		sb.gm.regions[0] = (struct vs_gmem_region){ GPA_BASE, total,
							    bm };
		_exit(side_run(&sb));
	}
	pa = fork();
	if (pa == 0)
		_exit(side_run(&sa));
	if (pa < 0 || pb < 0) {
		fprintf(stderr, "vsock-refdev: error: failed to start the "
				"systems: %s\n",
			strerror(errno));
		sh->stop = 1;
		return 2;
	}
	ok = 1;
	if (waitpid(pa, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		ok = 0;
	__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
	if (waitpid(pb, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		ok = 0;
	run_end = a_clock(mono_ns() - sh->start_mono);
	for (int i = 0; i < 2; i++)
		if (sh->broken[i][0])
			fprintf(stderr, "vsock-refdev: error: %c: bad ring: %s\n",
				"ab"[i], sh->broken[i]);
	if (!ok) {
		fprintf(stderr,
			"vsock-refdev: error: failed to run the simulation: a "
			"system exited with an error\n");
		return 2;
	}
	if (write_truth(o, sh, run_end)) {
		fprintf(stderr, "vsock-refdev: error: failed to write %s/"
				"truth.json: %s\n",
			o->out_dir, strerror(errno));
		return 2;
	}
	/* end to end: every byte arrived, in order, unless a fault said not */
	for (unsigned int i = 0; i < o->flows; i++) {
		struct flow_res *fr = &sh->flows[i];
		bool rr = role_of(o, (int)i, false) == R_RR_CLIENT;

		sent += fr->sent;
		recvd += fr->recvd;
		bad += fr->bad;
		if (fr->dropped)
			continue;
		if (fr->bad || (!rr && fr->sent != fr->recvd)) {
			fprintf(stderr,
				"vsock-refdev: flow %u: %" PRIu64
				" bytes sent, %" PRIu64 " received, %" PRIu64
				" wrong\n",
				i, fr->sent, fr->recvd, fr->bad);
			rc = 1;
		}
	}
	if (!o->quiet)
		printf("sim: %u flows, a %" PRIu64 " events, b %" PRIu64
		       " events, %" PRIu64 " bytes sent, %" PRIu64
		       " received, %" PRIu64 " wrong; %u faults injected; "
		       "data check %s\n",
		       o->flows, sh->events[0], sh->events[1], sent, recvd,
		       bad, sh->nrec,
		       rc ? "FAILED" : "passed");
	munmap(mem, total);
	close(fd);
	return rc;
}
