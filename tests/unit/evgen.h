/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hand-made events for the unit tests of the flow table, the detectors and
 * the correlation: one static inline per kind of event, plus small engine
 * helpers (feed and require success, count and find findings).
 *
 * Times are nanoseconds on the producing system's clock; the helpers mark
 * exactly the fields they fill as present.
 */
#ifndef VS_EVGEN_H
#define VS_EVGEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "engine.h"
#include "event.h"
#include "finding.h"
#include "flow.h"

#define EVG_US 1000ull
#define EVG_MS 1000000ull
#define EVG_S 1000000000ull

#define EVG_CTX (VS_HAS_TS | VS_HAS_CPU | VS_HAS_PID | VS_HAS_COMM)

static inline struct vs_event evg_base(unsigned int sys, uint64_t ts,
				       unsigned int kind)
{
	struct vs_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = ts;
	ev.system = (uint16_t)sys;
	ev.kind = (uint16_t)kind;
	ev.present = EVG_CTX;
	ev.cpu = 0;
	ev.pid = 100;
	snprintf(ev.comm, sizeof(ev.comm), "evgen");
	return ev;
}

/*
 * A packet: @kind VS_EV_PKT_TX (alloc_pkt on the sender) or VS_EV_PKT_RX
 * (recv_pkt on the receiver), STREAM, without buf_alloc/fwd_cnt (as an old
 * kernel's alloc_pkt prints it).
 */
static inline struct vs_event evg_pkt(unsigned int sys, uint64_t ts,
				      unsigned int kind, uint64_t src_cid,
				      uint32_t src_port, uint64_t dst_cid,
				      uint32_t dst_port, unsigned int op,
				      uint32_t len)
{
	struct vs_event ev = evg_base(sys, ts, kind);

	ev.present |= VS_HAS_HDR;
	ev.pkt.src_cid = src_cid;
	ev.pkt.src_port = src_port;
	ev.pkt.dst_cid = dst_cid;
	ev.pkt.dst_port = dst_port;
	ev.pkt.len = len;
	ev.pkt.type = VS_TYPE_STREAM;
	ev.pkt.op = (uint16_t)op;
	return ev;
}

/* the same, carrying the sender's advertisement (buf_alloc, fwd_cnt) */
static inline struct vs_event evg_pkt_cr(unsigned int sys, uint64_t ts,
					 unsigned int kind, uint64_t src_cid,
					 uint32_t src_port, uint64_t dst_cid,
					 uint32_t dst_port, unsigned int op,
					 uint32_t len, uint32_t buf_alloc,
					 uint32_t fwd_cnt)
{
	struct vs_event ev = evg_pkt(sys, ts, kind, src_cid, src_port,
				     dst_cid, dst_port, op, len);

	ev.present |= VS_HAS_BUF_ALLOC | VS_HAS_FWD_CNT;
	ev.pkt.buf_alloc = buf_alloc;
	ev.pkt.fwd_cnt = fwd_cnt;
	return ev;
}

static inline struct vs_event evg_on(struct vs_event ev, int cpu, int pid)
{
	ev.cpu = cpu;
	ev.pid = pid;
	return ev;
}

/* irq_handler_entry */
static inline struct vs_event evg_irq(unsigned int sys, uint64_t ts, int irq,
				      const char *name)
{
	struct vs_event ev = evg_base(sys, ts, VS_EV_IRQ);

	ev.present |= VS_HAS_IRQ;
	ev.irq.irq = irq;
	snprintf(ev.irq.name, sizeof(ev.irq.name), "%s", name);
	return ev;
}

/* a vring event: VS_EV_VQ_KICK, VS_EV_VQ_IRQ, VS_EV_VQ_ADD, VS_EV_VQ_GET */
static inline struct vs_event evg_vq(unsigned int sys, uint64_t ts,
				     unsigned int kind, const char *dev,
				     const char *vq, uint32_t idx)
{
	struct vs_event ev = evg_base(sys, ts, kind);

	ev.present |= VS_HAS_IDX;
	snprintf(ev.vq.dev, sizeof(ev.vq.dev), "%s", dev);
	snprintf(ev.vq.vq, sizeof(ev.vq.vq), "%s", vq);
	ev.vq.idx = idx;
	return ev;
}

static inline struct vs_event evg_kick(unsigned int sys, uint64_t ts,
				       const char *dev, const char *vq)
{
	return evg_vq(sys, ts, VS_EV_VQ_KICK, dev, vq, 0);
}

/* VS_EV_MBOX_TX or VS_EV_MBOX_RX */
static inline struct vs_event evg_mbox(unsigned int sys, uint64_t ts,
				       unsigned int kind, const char *chan,
				       uint64_t msg)
{
	struct vs_event ev = evg_base(sys, ts, kind);

	snprintf(ev.mbox.chan, sizeof(ev.mbox.chan), "%s", chan);
	ev.mbox.msg = msg;
	return ev;
}

/* kmalloc (VS_ALLOC_KMALLOC) with a call site; @failed: ptr=NULL */
static inline struct vs_event evg_kmalloc(unsigned int sys, uint64_t ts,
					  int cpu, int pid,
					  const char *call_site,
					  uint64_t bytes, bool failed)
{
	struct vs_event ev = evg_base(sys, ts, VS_EV_ALLOC);

	ev.cpu = cpu;
	ev.pid = pid;
	ev.present |= VS_HAS_SIZE | VS_HAS_CALLSITE;
	ev.alloc.source = VS_ALLOC_KMALLOC;
	ev.alloc.bytes_req = bytes;
	ev.alloc.bytes_alloc = failed ? 0 : bytes;
	ev.alloc.failed = failed;
	snprintf(ev.alloc.call_site, sizeof(ev.alloc.call_site), "%s",
		 call_site);
	return ev;
}

/* mm_page_alloc of @order (no call site); @failed: page=NULL */
static inline struct vs_event evg_page(unsigned int sys, uint64_t ts, int cpu,
				       int pid, int order, bool failed)
{
	struct vs_event ev = evg_base(sys, ts, VS_EV_ALLOC);

	ev.cpu = cpu;
	ev.pid = pid;
	ev.present |= VS_HAS_ORDER | VS_HAS_SIZE;
	ev.alloc.source = VS_ALLOC_PAGE;
	ev.alloc.order = (int16_t)order;
	ev.alloc.bytes_req = 4096ull << order;
	ev.alloc.bytes_alloc = failed ? 0 : 4096ull << order;
	ev.alloc.failed = failed;
	return ev;
}

static inline struct vs_event evg_mark(unsigned int sys, uint64_t ts,
				       const char *text)
{
	struct vs_event ev = evg_base(sys, ts, VS_EV_MARK);

	snprintf(ev.text, sizeof(ev.text), "%s", text);
	return ev;
}

/* ---- engine helpers ------------------------------------------------- */

static inline struct vs_tuple evg_tuple(uint64_t src_cid, uint32_t src_port,
					uint64_t dst_cid, uint32_t dst_port)
{
	struct vs_tuple t = { src_cid, dst_cid, src_port, dst_port };

	return t;
}

/* an engine over @nsys systems named sys0, sys1... with @opt or defaults */
static inline struct vs_engine *evg_engine(unsigned int nsys,
					   const struct vs_options *opt)
{
	static const char *const names[VS_MAX_SYSTEMS] = {
		"sys0", "sys1", "sys2", "sys3", "sys4", "sys5", "sys6", "sys7",
	};
	struct vs_options def;

	if (!opt) {
		vs_options_default(&def);
		opt = &def;
	}
	return vs_engine_new(opt, nsys, names);
}

/* every system's clock the reference's: known, offset 0, no uncertainty */
static inline void evg_clocks_known(struct vs_engine *e)
{
	for (unsigned int i = 0; i < e->nsys; i++) {
		struct vs_clock c;

		memset(&c, 0, sizeof(c));
		c.known = true;
		c.has_uncertainty = true;
		snprintf(c.note, sizeof(c.note), "test: same clock");
		vs_engine_set_clock(e, i, &c);
	}
}

/* feed one event; a failure fails the running case */
#define EVG_FEED(e, evexpr)                                                  \
	do {                                                                 \
		struct vs_event evg_ev_ = (evexpr);                          \
		CHECK_EQ_U(vs_engine_feed((e), &evg_ev_), 0);                \
	} while (0)

/* a packet sent on @txsys at @t and received on @rxsys at @t + @lat */
#define EVG_SEND(e, txsys, rxsys, t, lat, scid, sport, dcid, dport, op, len) \
	do {                                                                 \
		EVG_FEED((e), evg_pkt((txsys), (t), VS_EV_PKT_TX, (scid),    \
				      (sport), (dcid), (dport), (op),        \
				      (len)));                               \
		EVG_FEED((e), evg_pkt((rxsys), (t) + (lat), VS_EV_PKT_RX,    \
				      (scid), (sport), (dcid), (dport),      \
				      (op), (len)));                         \
	} while (0)

static inline unsigned int evg_count(const struct vs_engine *e,
				     unsigned int kind)
{
	unsigned int n = 0;

	for (size_t i = 0; i < e->findings.n; i++)
		if (e->findings.v[i].kind == kind)
			n++;
	return n;
}

/* the @nth (from 0) finding of @kind, or NULL */
static inline const struct vs_finding *evg_find(const struct vs_engine *e,
						unsigned int kind,
						unsigned int nth)
{
	for (size_t i = 0; i < e->findings.n; i++)
		if (e->findings.v[i].kind == kind && !nth--)
			return &e->findings.v[i];
	return NULL;
}

static inline bool evg_tuple_is(const struct vs_tuple *t, uint64_t src_cid,
				uint32_t src_port, uint64_t dst_cid,
				uint32_t dst_port)
{
	return t->src_cid == src_cid && t->src_port == src_port &&
	       t->dst_cid == dst_cid && t->dst_port == dst_port;
}

/* print the findings (for a failing case's diagnosis) */
static inline void evg_dump(const struct vs_engine *e)
{
	for (size_t i = 0; i < e->findings.n; i++) {
		const struct vs_finding *f = &e->findings.v[i];

		printf("  # %s sys=%u start=%" PRIu64 " end=%" PRIu64
		       "%s count=%" PRIu64 " cause=%s ended_by=%s: %s\n",
		       vs_finding_kind_name(f->kind), f->system, f->start,
		       f->end, f->has_end ? "" : "(open)", f->count, f->cause,
		       f->ended_by, f->summary);
	}
}

/* after a case's checks: the findings, when the case failed */
static inline void evg_dump_if_failed(const struct vs_engine *e)
{
	if (vs_check_failed)
		evg_dump(e);
}

#endif /* VS_EVGEN_H */
