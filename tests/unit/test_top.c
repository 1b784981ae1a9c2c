// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for vsocktop's collector (lib/top.c) with hand-made events:
 * one row per connection over both directions and both systems, the
 * initiator as the A end, rates over a tick, credit as the engine keeps
 * it, credit stalls while they last and once they are findings, sorting,
 * filters, and findings counted per row.
 *
 * Two systems: a guest (system 0, CID 3) and its host (system 1, CID 2),
 * on one clock. Every packet shows twice: as alloc_pkt (TX) on its sender
 * and, LAT later, as recv_pkt (RX, with the sender's buf_alloc and
 * fwd_cnt) on its receiver. The guest's ports 1024.. connect to the
 * host's port 5000.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "evgen.h"
#include "report.h"
#include "top.h"

#define GUEST 0
#define HOST 1
#define G_CID 3
#define H_CID 2
#define H_PORT 5000
#define LAT (10 * EVG_US)
#define PKT 4096u
#define BIG 262144u

static const char *const names[] = { "guest", "host" };

static struct vs_top *top(uint64_t stall_ns)
{
	struct vs_options opt;
	struct vs_top *t;

	vs_options_default(&opt);
	if (stall_ns)
		opt.stall_ns = stall_ns;
	t = vs_top_new(&opt, 2, names);
	CHECK(t != NULL);
	if (t)
		evg_clocks_known(vs_top_engine(t));
	return t;
}

static void feed(struct vs_top *t, struct vs_event ev)
{
	CHECK_EQ_U(vs_top_feed(t, &ev), 0);
}

/*
 * a packet between the guest's port @gport and the host's H_PORT, sent at
 * @ts by the guest (@from_guest) or the host; its receive carries the
 * sender's @buf_alloc and @fwd_cnt
 */
static void xfer(struct vs_top *t, uint64_t ts, bool from_guest,
		 uint32_t gport, unsigned int op, uint32_t len,
		 uint32_t buf_alloc, uint32_t fwd_cnt)
{
	unsigned int tx = from_guest ? GUEST : HOST, rx = from_guest ? HOST :
								       GUEST;
	uint64_t sc = from_guest ? G_CID : H_CID, dc = from_guest ? H_CID :
								    G_CID;
	uint32_t sp = from_guest ? gport : H_PORT,
		 dp = from_guest ? H_PORT : gport;

	feed(t, evg_pkt(tx, ts, VS_EV_PKT_TX, sc, sp, dc, dp, op, len));
	feed(t, evg_pkt_cr(rx, ts + LAT, VS_EV_PKT_RX, sc, sp, dc, dp, op,
			   len, buf_alloc, fwd_cnt));
}

/* the guest's @gport connects; both ends advertise @buf */
static void connect_at(struct vs_top *t, uint64_t ts, uint32_t gport,
		       uint32_t buf)
{
	xfer(t, ts, true, gport, VS_OP_REQUEST, 0, buf, 0);
	xfer(t, ts + 100 * EVG_US, false, gport, VS_OP_RESPONSE, 0, buf, 0);
}

/* the one row, or NULL */
static const struct vs_top_row *only_row(const struct vs_top *t)
{
	CHECK_EQ_U(vs_top_nrows(t), 1);
	return vs_top_nrows(t) == 1 ? vs_top_row(t, 0) : NULL;
}

/* the row of the guest's @gport */
static const struct vs_top_row *row_of(const struct vs_top *t, uint32_t gport)
{
	for (unsigned int i = 0; i < vs_top_nrows(t); i++) {
		const struct vs_top_row *r = vs_top_row(t, i);

		if ((r->t.src_cid == G_CID && r->t.src_port == gport) ||
		    (r->t.dst_cid == G_CID && r->t.dst_port == gport))
			return r;
	}
	CHECK(!"row not found");
	return NULL;
}

/* the line vsock-report -q prints for @f, without its newline */
static void report_line(const struct vs_top *t, const struct vs_finding *f,
			char *buf, size_t size)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&mem, &len);

	buf[0] = '\0';
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ_U(vs_report_finding_line(m, vs_top_engine((struct vs_top *)t),
					  f),
		   0);
	fclose(m);
	if (len && mem[len - 1] == '\n')
		mem[--len] = '\0';
	snprintf(buf, size, "%s", mem);
	free(mem);
}

static struct vs_flow *engine_flow(struct vs_top *t, unsigned int sys,
				   uint64_t sc, uint32_t sp, uint64_t dc,
				   uint32_t dp)
{
	struct vs_tuple k = evg_tuple(sc, sp, dc, dp);

	return vs_flow_get(vs_top_engine(t)->flows, sys, &k, false);
}

/* ---- rows -------------------------------------------------------------- */

/* both directions, seen on both systems, make one row */
static void t_row_merges(void)
{
	struct vs_top *t = top(0);
	const struct vs_top_row *r;

	if (!t)
		return;
	connect_at(t, 1 * EVG_MS, 1024, BIG);
	for (unsigned int i = 0; i < 3; i++)
		xfer(t, 2 * EVG_MS + i * EVG_MS, true, 1024, VS_OP_RW, 1000,
		     BIG, 0);
	xfer(t, 10 * EVG_MS, false, 1024, VS_OP_RW, 500, BIG, 3000);
	CHECK_EQ_U(vs_top_tick(t, 20 * EVG_MS), 0);
	/* the engine keeps four entries: two directions on two systems */
	CHECK_EQ_U(vs_flow_count(vs_top_engine(t)->flows), 4);
	r = only_row(t);
	if (!r)
		goto out;
	CHECK(evg_tuple_is(&r->t, G_CID, 1024, H_CID, H_PORT));
	CHECK_EQ_U(r->systems, 3);
	/* each packet counted once, though both systems saw it */
	CHECK_EQ_U(r->d[0].bytes, 3000);
	CHECK_EQ_U(r->d[0].pkts, 4); /* REQUEST and 3 RW */
	CHECK_EQ_U(r->d[1].bytes, 500);
	CHECK_EQ_U(r->d[1].pkts, 2); /* RESPONSE and RW */
	CHECK_STR(r->state, "established");
	CHECK_EQ_U(r->first_ts, 1 * EVG_MS);
	CHECK_EQ_U(r->last_ts, 10 * EVG_MS + LAT);
	/* recent packets: both views of each, oldest first */
	CHECK_EQ_U(r->nrecent, 12);
	{
		unsigned int k = (r->rpos + VS_TOP_RECENT - r->nrecent) %
				 VS_TOP_RECENT;
		const struct vs_top_pkt *p = &r->recent[k];

		CHECK_EQ_U(p->op, VS_OP_REQUEST);
		CHECK_EQ_U(p->system, GUEST);
		CHECK_EQ_U(p->dir, 0);
		CHECK_EQ_U(p->rx, 0);
		p = &r->recent[(r->rpos + VS_TOP_RECENT - 1) % VS_TOP_RECENT];
		CHECK_EQ_U(p->op, VS_OP_RW);
		CHECK_EQ_U(p->system, GUEST);
		CHECK_EQ_U(p->dir, 1);
		CHECK_EQ_U(p->rx, 1);
		CHECK_EQ_U(p->len, 500);
		CHECK_EQ_U(p->fwd_cnt, 3000);
	}
	/* per-system totals: each system counts what it saw */
	for (unsigned int s = 0; s < 2; s++) {
		CHECK_EQ_U(vs_top_sys(t, s)->pkts, 6);
		CHECK_EQ_U(vs_top_sys(t, s)->bytes, 3500);
		CHECK_EQ_U(vs_top_sys(t, s)->events, 6);
		CHECK(vs_top_sys(t, s)->clock_known);
	}
	CHECK(vs_top_sys(t, 0)->clock_ref);
	CHECK(!vs_top_sys(t, 1)->clock_ref);
	CHECK_STR(vs_top_sys(t, 1)->name, "host");
	CHECK(vs_top_sys(t, 2) == NULL);
	CHECK(vs_top_row(t, 1) == NULL);
out:
	vs_top_free(t);
}

/* a REQUEST makes its sender A, even when B's packets came first */
static void t_initiator_is_a(void)
{
	struct vs_top *t = top(0);
	const struct vs_top_row *r;

	if (!t)
		return;
	/* the host (the lower CID) is seen first: it is A for now */
	xfer(t, 1 * EVG_MS, false, 1024, VS_OP_RW, 700, BIG, 0);
	CHECK_EQ_U(vs_top_tick(t, 2 * EVG_MS), 0);
	r = only_row(t);
	if (!r)
		goto out;
	CHECK(evg_tuple_is(&r->t, H_CID, H_PORT, G_CID, 1024));
	CHECK_EQ_U(r->d[0].bytes, 700);
	CHECK_EQ_U(r->d[1].bytes, 0);
	/* the guest's REQUEST: the guest is the initiator, A */
	connect_at(t, 3 * EVG_MS, 1024, BIG);
	xfer(t, 4 * EVG_MS, true, 1024, VS_OP_RW, 100, BIG, 0);
	CHECK_EQ_U(vs_top_tick(t, 5 * EVG_MS), 0);
	r = only_row(t);
	if (!r)
		goto out;
	CHECK(evg_tuple_is(&r->t, G_CID, 1024, H_CID, H_PORT));
	CHECK_EQ_U(r->d[0].bytes, 100);
	CHECK_EQ_U(r->d[0].pkts, 2);
	CHECK_EQ_U(r->d[1].bytes, 700); /* the host's, now B>A */
	CHECK_EQ_U(r->d[1].pkts, 2);
	/* the recent packets turned round too: the first was B>A */
	{
		unsigned int k = (r->rpos + VS_TOP_RECENT - r->nrecent) %
				 VS_TOP_RECENT;

		CHECK_EQ_U(r->recent[k].op, VS_OP_RW);
		CHECK_EQ_U(r->recent[k].dir, 1);
	}
	/* a REQUEST seen again from the same end changes nothing */
	xfer(t, 6 * EVG_MS, true, 1024, VS_OP_REQUEST, 0, BIG, 0);
	CHECK_EQ_U(vs_top_tick(t, 7 * EVG_MS), 0);
	r = only_row(t);
	if (r)
		CHECK(evg_tuple_is(&r->t, G_CID, 1024, H_CID, H_PORT));
out:
	vs_top_free(t);
}

/* no REQUEST seen: A is the lower CID:port, whoever spoke first */
static void t_lower_end_is_a(void)
{
	struct vs_top *t = top(0);
	const struct vs_top_row *r;

	if (!t)
		return;
	xfer(t, 1 * EVG_MS, true, 1024, VS_OP_RW, 10, BIG, 0);
	/* a guest-to-guest connection on one CID: the lower port is A */
	feed(t, evg_pkt(GUEST, 2 * EVG_MS, VS_EV_PKT_TX, G_CID, 7000, G_CID,
			6000, VS_OP_RW, 20));
	CHECK_EQ_U(vs_top_tick(t, 3 * EVG_MS), 0);
	CHECK_EQ_U(vs_top_nrows(t), 2);
	r = row_of(t, 1024);
	if (r) {
		CHECK(evg_tuple_is(&r->t, H_CID, H_PORT, G_CID, 1024));
		CHECK_EQ_U(r->d[1].bytes, 10);
		CHECK_EQ_U(r->systems, 3);
	}
	r = vs_top_row(t, 1);
	if (r) {
		CHECK(evg_tuple_is(&r->t, G_CID, 6000, G_CID, 7000));
		CHECK_EQ_U(r->d[1].bytes, 20);
		CHECK_EQ_U(r->systems, 1);
	}
	vs_top_free(t);
}

/* ---- rates ------------------------------------------------------------- */

static void t_rates(void)
{
	struct vs_top *t = top(0);
	const struct vs_top_row *r;
	const struct vs_top_sys *g, *h;
	uint64_t t1 = 100 * EVG_MS;

	if (!t)
		return;
	connect_at(t, 50 * EVG_MS, 1024, BIG);
	/* the first interval runs from the first event */
	CHECK_EQ_U(vs_top_tick(t, t1), 0);
	CHECK_EQ_U(vs_top_interval(t), 50 * EVG_MS);
	CHECK_EQ_U(vs_top_now(t), t1);
	r = only_row(t);
	if (!r)
		goto out;
	CHECK(r->d[0].pps > 19.99 && r->d[0].pps < 20.01); /* 1 in 50 ms */
	/* one second: 10 RW of 1000 bytes A>B, 5 of 200 B>A, 2 interrupts on
	 * the host and a kick on the guest */
	for (unsigned int i = 0; i < 10; i++)
		xfer(t, t1 + 10 * EVG_MS + i * 50 * EVG_MS, true, 1024,
		     VS_OP_RW, 1000, BIG, 0);
	for (unsigned int i = 0; i < 5; i++)
		xfer(t, t1 + 600 * EVG_MS + i * 50 * EVG_MS, false, 1024,
		     VS_OP_RW, 200, BIG, 1000 * (i + 1));
	feed(t, evg_kick(GUEST, t1 + 900 * EVG_MS, "virtio1", "tx"));
	feed(t, evg_irq(HOST, t1 + 900 * EVG_MS + 5 * EVG_US, 30, "virtio1"));
	feed(t, evg_irq(HOST, t1 + 950 * EVG_MS, 30, "virtio1"));
	CHECK_EQ_U(vs_top_tick(t, t1 + EVG_S), 0);
	CHECK_EQ_U(vs_top_interval(t), EVG_S);
	CHECK_EQ_U(vs_top_now(t), t1 + EVG_S);
	r = only_row(t);
	if (!r)
		goto out;
	CHECK_EQ_U((uint64_t)(r->d[0].bps + 0.5), 10000);
	CHECK_EQ_U((uint64_t)(r->d[0].pps + 0.5), 10);
	CHECK_EQ_U((uint64_t)(r->d[1].bps + 0.5), 1000);
	CHECK_EQ_U((uint64_t)(r->d[1].pps + 0.5), 5);
	g = vs_top_sys(t, GUEST);
	h = vs_top_sys(t, HOST);
	CHECK_EQ_U((uint64_t)(g->pkt_rate + 0.5), 15);
	CHECK_EQ_U((uint64_t)(g->byte_rate + 0.5), 11000);
	CHECK_EQ_U((uint64_t)(g->ev_rate + 0.5), 16);
	CHECK_EQ_U((uint64_t)(g->kick_rate + 0.5), 1);
	CHECK_EQ_U((uint64_t)(g->irq_rate + 0.5), 0);
	CHECK_EQ_U((uint64_t)(h->ev_rate + 0.5), 17);
	CHECK_EQ_U((uint64_t)(h->irq_rate + 0.5), 2);
	CHECK_EQ_U(h->irqs, 2);
	CHECK_EQ_U(g->kicks, 1);
	/* totals since the start */
	CHECK_EQ_U(g->pkts, 17);
	CHECK_EQ_U(g->bytes, 11000);
	/* a quiet second: rates drop to 0, totals stay */
	CHECK_EQ_U(vs_top_tick(t, t1 + 2 * EVG_S), 0);
	r = only_row(t);
	if (!r)
		goto out;
	CHECK(r->d[0].bps == 0 && r->d[1].bps == 0 && r->d[0].pps == 0);
	CHECK(g->ev_rate == 0 && h->irq_rate == 0);
	CHECK_EQ_U(r->d[0].bytes, 10000);
	CHECK_EQ_U(g->pkts, 17);
	/* lost events are counted per system */
	vs_top_lost(t, HOST, 7);
	vs_top_lost(t, 5, 1); /* no such system: ignored */
	CHECK_EQ_U(h->lost, 7);
	CHECK_EQ_U(g->lost, 0);
out:
	vs_top_free(t);
}

/* ---- credit ------------------------------------------------------------ */

static void t_credit(void)
{
	struct vs_top *t = top(0);
	const struct vs_top_row *r;
	struct vs_flow *gf, *hf;

	if (!t)
		return;
	CHECK_EQ_U(vs_top_tick(t, 0), 0); /* nothing yet: no row */
	CHECK_EQ_U(vs_top_nrows(t), 0);
	/* the host advertises 65536, the guest BIG */
	xfer(t, 1 * EVG_MS, true, 1024, VS_OP_REQUEST, 0, BIG, 0);
	xfer(t, 2 * EVG_MS, false, 1024, VS_OP_RESPONSE, 0, 65536, 0);
	for (unsigned int i = 0; i < 3; i++)
		xfer(t, 3 * EVG_MS + i * EVG_MS, true, 1024, VS_OP_RW, PKT,
		     BIG, 0);
	CHECK_EQ_U(vs_top_tick(t, 10 * EVG_MS), 0);
	r = only_row(t);
	gf = engine_flow(t, GUEST, G_CID, 1024, H_CID, H_PORT);
	hf = engine_flow(t, HOST, H_CID, H_PORT, G_CID, 1024);
	CHECK(gf != NULL && hf != NULL);
	if (!r || !gf || !hf)
		goto out;
	/* A>B: the guest's view, 65536 - 3 * 4096 */
	CHECK(r->d[0].credit_known);
	CHECK_EQ_U(r->d[0].peer_free, 65536 - 3 * PKT);
	CHECK_EQ_U(r->d[0].peer_free, vs_credit_peer_free(&gf->cr));
	CHECK_EQ_U(r->d[0].buf_alloc, 65536);
	CHECK_EQ_U(r->d[0].fwd_cnt, 0);
	CHECK_EQ_U(vs_top_hist(&r->d[0], VS_TOP_HIST - 1), 65536 - 3 * PKT);
	CHECK(vs_top_hist(&r->d[0], VS_TOP_HIST - 2) == INT64_MIN);
	CHECK(!r->d[0].stalled && !r->d[0].stalled_long);
	CHECK_EQ_U(r->d[0].stalled_ns, 0);
	/* B>A: the host's view of the guest's buffer, all free */
	CHECK(r->d[1].credit_known);
	CHECK_EQ_U(r->d[1].peer_free, BIG);
	CHECK_EQ_U(r->d[1].peer_free, vs_credit_peer_free(&hf->cr));
	CHECK_EQ_U(r->d[1].buf_alloc, BIG);
	/* the host reads 8192 bytes and says so */
	xfer(t, 20 * EVG_MS, false, 1024, VS_OP_CREDIT_UPDATE, 0, 65536,
	     2 * PKT);
	CHECK_EQ_U(vs_top_tick(t, 30 * EVG_MS), 0);
	r = only_row(t);
	if (!r)
		goto out;
	CHECK_EQ_U(r->d[0].peer_free, 65536 - PKT);
	CHECK_EQ_U(r->d[0].peer_free, vs_credit_peer_free(&gf->cr));
	CHECK_EQ_U(r->d[0].fwd_cnt, 2 * PKT);
	CHECK_EQ_U(r->d[0].fwd_cnt, gf->cr.peer_fwd_raw);
	CHECK_EQ_U(r->d[0].buf_alloc, gf->cr.peer_buf_alloc);
	/* one sample per tick, oldest first */
	CHECK_EQ_U(vs_top_hist(&r->d[0], VS_TOP_HIST - 1), 65536 - PKT);
	CHECK_EQ_U(vs_top_hist(&r->d[0], VS_TOP_HIST - 2), 65536 - 3 * PKT);
	CHECK(vs_top_hist(&r->d[0], VS_TOP_HIST - 3) == INT64_MIN);
out:
	vs_top_free(t);
}

/* ---- stalls ------------------------------------------------------------ */

#define SBUF (4 * PKT) /* the host's buffer: four packets fill it */
#define T_FULL (10 * EVG_MS) /* the fourth packet: peer_free is 0 */

/* the guest fills the host's SBUF window: a stall from T_FULL */
static void stall_start(struct vs_top *t)
{
	xfer(t, 1 * EVG_MS, true, 1024, VS_OP_REQUEST, 0, BIG, 0);
	xfer(t, 2 * EVG_MS, false, 1024, VS_OP_RESPONSE, 0, SBUF, 0);
	for (unsigned int i = 0; i < 4; i++)
		xfer(t, T_FULL - (3 - i) * EVG_MS, true, 1024, VS_OP_RW, PKT,
		     BIG, 0);
}

static const struct vs_top_finding *find_ongoing(const struct vs_top *t)
{
	for (unsigned int i = 0; i < vs_top_nfindings(t); i++)
		if (vs_top_finding(t, i)->ongoing)
			return vs_top_finding(t, i);
	return NULL;
}

static void t_stall_ongoing_then_found(void)
{
	struct vs_top *t = top(100 * EVG_MS);
	const struct vs_top_row *r;
	const struct vs_top_finding *o;
	const struct vs_finding *f;
	char want[512], *mem = NULL;
	size_t len = 0;
	FILE *m;

	if (!t)
		return;
	stall_start(t);
	/* 50 ms in: stalled, not yet for long, no finding */
	CHECK_EQ_U(vs_top_tick(t, T_FULL + 50 * EVG_MS), 0);
	r = only_row(t);
	if (!r)
		goto out;
	CHECK(r->d[0].stalled);
	CHECK(!r->d[0].stalled_long);
	CHECK_EQ_U(r->d[0].stall_start, T_FULL);
	CHECK_EQ_U(r->d[0].stalled_ns, 50 * EVG_MS);
	CHECK_EQ_U(r->d[0].peer_free, 0);
	CHECK(!r->d[1].stalled);
	CHECK_EQ_U(vs_top_nfindings(t), 0);
	/* 150 ms in: over the threshold, an ongoing finding */
	CHECK_EQ_U(vs_top_tick(t, T_FULL + 150 * EVG_MS), 0);
	CHECK(r->d[0].stalled_long);
	CHECK_EQ_U(r->d[0].stalled_ns, 150 * EVG_MS);
	CHECK_EQ_U(vs_top_nfindings(t), 1);
	o = find_ongoing(t);
	CHECK(o != NULL);
	if (!o)
		goto out;
	CHECK_EQ_U(o->start, T_FULL);
	CHECK(o->has_flow);
	CHECK(evg_tuple_is(&o->flow, G_CID, 1024, H_CID, H_PORT));
	snprintf(want, sizeof(want),
		 "credit_stall guest 3:1024->2:5000 t=0.%06llu for 150.0 ms+ "
		 "(ongoing): peer_free 0 of buf_alloc %u",
		 T_FULL / EVG_US, SBUF);
	CHECK_STR(o->line, want);
	CHECK_EQ_U(r->findings, 0); /* not a finding of the engine yet */
	CHECK_EQ_U(vs_top_engine(t)->findings.n, 0);
	/* the host reads it all: the stall ends when the update arrives */
	xfer(t, T_FULL + 200 * EVG_MS, false, 1024, VS_OP_CREDIT_UPDATE, 0,
	     SBUF, SBUF);
	CHECK_EQ_U(vs_top_tick(t, T_FULL + 300 * EVG_MS), 0);
	CHECK(!r->d[0].stalled && !r->d[0].stalled_long);
	CHECK_EQ_U(r->d[0].stalled_ns, 200 * EVG_MS + LAT);
	CHECK_EQ_U(r->d[0].peer_free, SBUF);
	CHECK_EQ_U(vs_top_nfindings(t), 1);
	CHECK(find_ongoing(t) == NULL);
	CHECK_EQ_U(vs_top_engine(t)->findings.n, 1);
	f = evg_find(vs_top_engine(t), VS_FIND_CREDIT_STALL, 0);
	CHECK(f != NULL);
	if (!f || !vs_top_nfindings(t))
		goto out;
	report_line(t, f, want, sizeof(want));
	CHECK(strstr(want, "credit_stall guest 3:1024->2:5000") == want);
	CHECK_STR(vs_top_finding(t, 0)->line, want);
	CHECK(!vs_top_finding(t, 0)->ongoing);
	CHECK_EQ_U(vs_top_finding(t, 0)->start, f->start);
	CHECK_EQ_U(r->findings, 1);
	/* vs_top_write_findings: the report's lines, newline ended */
	m = open_memstream(&mem, &len);
	CHECK(m != NULL);
	if (m) {
		CHECK_EQ_U(vs_top_write_findings(m, t), 0);
		fclose(m);
		CHECK(mem && strlen(mem) == strlen(want) + 1 &&
		      !strncmp(mem, want, strlen(want)));
		free(mem);
	}
	/* the count of a row stays on later ticks */
	CHECK_EQ_U(vs_top_tick(t, T_FULL + 400 * EVG_MS), 0);
	CHECK_EQ_U(r->findings, 1);
	CHECK(!vs_top_finished(t));
out:
	vs_top_free(t);
}

/* the end of input: the open stall becomes the report's finding */
static void t_finish_open_stall(void)
{
	struct vs_top *t = top(100 * EVG_MS);
	const struct vs_top_row *r;
	const struct vs_finding *f;
	char want[512];

	if (!t)
		return;
	stall_start(t);
	/*
	 * a last event on the sender's system, well after the threshold (the
	 * report ends an open stall at its sender's last event)
	 */
	feed(t, evg_irq(GUEST, T_FULL + 400 * EVG_MS, 30, "virtio1"));
	CHECK_EQ_U(vs_top_tick(t, 0), 0); /* 0: at the latest event */
	CHECK_EQ_U(vs_top_now(t), T_FULL + 400 * EVG_MS);
	CHECK(find_ongoing(t) != NULL);
	CHECK_EQ_U(vs_top_engine(t)->findings.n, 0);
	CHECK_EQ_U(vs_top_finish(t, 0), 0);
	CHECK(vs_top_finished(t));
	CHECK_EQ_U(vs_top_finish(t, 0), 0); /* twice is harmless */
	CHECK(find_ongoing(t) == NULL);
	CHECK_EQ_U(vs_top_engine(t)->findings.n, 1);
	CHECK_EQ_U(vs_top_nfindings(t), 1);
	f = evg_find(vs_top_engine(t), VS_FIND_CREDIT_STALL, 0);
	CHECK(f != NULL);
	if (!f || !vs_top_nfindings(t))
		goto out;
	CHECK(!f->has_end);
	CHECK_EQ_U(f->start, T_FULL);
	report_line(t, f, want, sizeof(want));
	CHECK_STR(vs_top_finding(t, 0)->line, want);
	CHECK(!vs_top_finding(t, 0)->ongoing);
	r = only_row(t);
	if (r)
		CHECK_EQ_U(r->findings, 1);
out:
	vs_top_free(t);
}

/* ---- memory: closed connections are forgotten ------------------------- */

/* the guest's @gport connects at @ts, sends one packet, shuts down, and
 * the host resets it: "closed" by @ts + 4 ms */
static void short_conn(struct vs_top *t, uint64_t ts, uint32_t gport)
{
	connect_at(t, ts, gport, BIG);
	xfer(t, ts + 1 * EVG_MS, true, gport, VS_OP_RW, 1000, BIG, 0);
	xfer(t, ts + 2 * EVG_MS, true, gport, VS_OP_SHUTDOWN, 0, BIG, 0);
	xfer(t, ts + 3 * EVG_MS, false, gport, VS_OP_RST, 0, BIG, 1000);
}

/*
 * 300 short connections, one every 10 ms, a tick every 100 ms: each
 * leaves the view at once (--keep-closed 0) and memory once the matcher
 * is done with it (2 x the 100 ms interrupt timeout + 1 s): rows and
 * engine entries stay at what 1.2 s of connections hold, and places are
 * used again. One that comes back starts a new row from zero.
 */
static void t_forget_closed(void)
{
	enum { N = 300 };
	struct vs_top *t = top(0);
	const struct vs_engine *e;
	unsigned int most_rows = 0, most_live = 0;
	const struct vs_top_row *r;
	uint64_t ts = 0;

	if (!t)
		return;
	e = vs_top_engine(t);
	vs_top_set_keep_closed(t, 0);
	for (unsigned int c = 0; c < N; c++) {
		ts = 1 * EVG_MS + c * 10 * EVG_MS;
		short_conn(t, ts, (uint32_t)(2000 + c));
		if (c % 10 == 9) {
			CHECK_EQ_U(vs_top_tick(t, ts + 5 * EVG_MS), 0);
			if (vs_top_nrows(t) > most_rows)
				most_rows = vs_top_nrows(t);
			if (vs_flow_live(e->flows) > most_live)
				most_live = vs_flow_live(e->flows);
		}
	}
	/* 1.2 s + a tick of connections: 130, of 300 */
	CHECK(most_rows >= 120 && most_rows <= 135);
	/* four entries each: two directions on two systems */
	CHECK(most_live <= 4 * 135);
	CHECK(vs_flow_count(e->flows) <= 4 * 135);
	CHECK(vs_top_forgotten(t) >= N - 135);
	/* they are not in the list while they wait */
	CHECK_EQ_U(vs_top_select(t, NULL, VS_TOP_SORT_RATE, false,
				 (const struct vs_top_row *[N]){ 0 }),
		   0);
	CHECK_EQ_U(vs_top_tick(t, ts + 2000 * EVG_MS), 0);
	CHECK_EQ_U(vs_top_nrows(t), 0);
	CHECK_EQ_U(vs_flow_live(e->flows), 0);
	CHECK_EQ_U(vs_top_forgotten(t), N);
	/* a late packet of the first: a new row, counting from it */
	ts += 2100 * EVG_MS;
	xfer(t, ts, true, 2000, VS_OP_RW, 700, BIG, 0);
	CHECK_EQ_U(vs_top_tick(t, ts + 10 * EVG_MS), 0);
	r = only_row(t);
	if (r) {
		/* no request seen: the lower CID, the host's, is the A end */
		CHECK(evg_tuple_is(&r->t, H_CID, H_PORT, G_CID, 2000));
		CHECK_EQ_U(r->d[1].bytes, 700);
		CHECK_EQ_U(r->d[1].pkts, 1);
		CHECK_STR(r->state, "open");
	}
	CHECK_EQ_U(vs_flow_live(e->flows), 4);
	vs_top_free(t);
}

/* kept while the clocks are not known, for ever by default, and at the
 * end; an entry with a stall open is never forgotten */
static void t_forget_kept(void)
{
	struct vs_options opt;
	struct vs_top *t;
	struct vs_flow *f;

	vs_options_default(&opt);
	t = vs_top_new(&opt, 2, names); /* clocks unknown */
	CHECK(t != NULL);
	if (!t)
		return;
	vs_top_set_keep_closed(t, 0);
	short_conn(t, 1 * EVG_MS, 2000);
	CHECK_EQ_U(vs_top_tick(t, 5000 * EVG_MS), 0);
	CHECK_EQ_U(vs_top_nrows(t), 1);
	CHECK_EQ_U(vs_top_forgotten(t), 0);
	vs_top_free(t);

	t = top(0); /* keep_closed: for ever */
	if (!t)
		return;
	short_conn(t, 1 * EVG_MS, 2000);
	CHECK_EQ_U(vs_top_tick(t, 5000 * EVG_MS), 0);
	CHECK_EQ_U(vs_top_nrows(t), 1);
	CHECK_EQ_U(vs_top_forgotten(t), 0);
	vs_top_free(t);

	t = top(100 * EVG_MS);
	if (!t)
		return;
	stall_start(t);
	f = engine_flow(t, GUEST, G_CID, 1024, H_CID, H_PORT);
	CHECK(f != NULL && f->stall != NULL);
	if (f) {
		CHECK(!vs_engine_forget(vs_top_engine(t), f));
		CHECK(engine_flow(t, GUEST, G_CID, 1024, H_CID, H_PORT) == f);
	}
	vs_top_free(t);
}

/* ---- sorting and filters ---------------------------------------------- */

/*
 * Three connections from the guest, by port:
 *   1001: the most bytes (8 x 4096), lots of free credit;
 *   1002: fills its 16 KiB window and stalls 320 ms, then gets it back:
 *         one finding, the least free credit after it;
 *   1003: 1000 bytes, the last to send, the most free credit.
 */
static struct vs_top *three(void)
{
	struct vs_top *t = top(100 * EVG_MS);

	if (!t)
		return NULL;
	connect_at(t, 1 * EVG_MS, 1001, BIG);
	connect_at(t, 2 * EVG_MS, 1002, SBUF);
	connect_at(t, 3 * EVG_MS, 1003, BIG);
	for (unsigned int i = 0; i < 8; i++)
		xfer(t, 10 * EVG_MS + i * EVG_MS, true, 1001, VS_OP_RW, PKT,
		     BIG, 0);
	for (unsigned int i = 0; i < 4; i++)
		xfer(t, 30 * EVG_MS + i * EVG_MS, true, 1002, VS_OP_RW, PKT,
		     BIG, 0);
	/* the host reads half of 1002's: free 8192 */
	xfer(t, 350 * EVG_MS, false, 1002, VS_OP_CREDIT_UPDATE, 0, SBUF,
	     2 * PKT);
	xfer(t, 380 * EVG_MS, true, 1003, VS_OP_RW, 1000, BIG, 0);
	CHECK_EQ_U(vs_top_tick(t, 400 * EVG_MS), 0);
	return t;
}

/* the guest ports of the selected rows, in order, as "p p p" */
static void order(const struct vs_top *t, const struct vs_top_filter *f,
		  unsigned int key, bool rev, char *buf, size_t size)
{
	const struct vs_top_row **rows =
		calloc(vs_top_nrows(t) + 1, sizeof(*rows));
	unsigned int n;
	size_t k = 0;

	buf[0] = '\0';
	CHECK(rows != NULL);
	if (!rows)
		return;
	n = vs_top_select(t, f, key, rev, rows);
	for (unsigned int i = 0; i < n && k < size; i++)
		k += (size_t)snprintf(buf + k, size - k, "%s%u", i ? " " : "",
				      rows[i]->t.src_port);
	free(rows);
}

static void t_sort(void)
{
	struct vs_top *t = three();
	char got[64];

	if (!t)
		return;
	CHECK_EQ_U(vs_top_nrows(t), 3);
	CHECK_EQ_U(row_of(t, 1002)->findings, 1);
	CHECK_EQ_U(row_of(t, 1001)->findings, 0);
	CHECK_EQ_U(row_of(t, 1003)->findings, 0);
	CHECK(row_of(t, 1002)->d[0].stalled_ns > 300 * EVG_MS);
	CHECK_EQ_U(row_of(t, 1002)->d[0].peer_free, 2 * PKT);

	order(t, NULL, VS_TOP_SORT_RATE, false, got, sizeof(got));
	CHECK_STR(got, "1001 1002 1003");
	order(t, NULL, VS_TOP_SORT_RATE, true, got, sizeof(got));
	CHECK_STR(got, "1003 1002 1001");
	/* ties keep the connection order, reversed or not */
	order(t, NULL, VS_TOP_SORT_STALL, false, got, sizeof(got));
	CHECK_STR(got, "1002 1001 1003");
	order(t, NULL, VS_TOP_SORT_STALL, true, got, sizeof(got));
	CHECK_STR(got, "1001 1003 1002");
	order(t, NULL, VS_TOP_SORT_FREE, false, got, sizeof(got));
	CHECK_STR(got, "1002 1001 1003");
	order(t, NULL, VS_TOP_SORT_FREE, true, got, sizeof(got));
	CHECK_STR(got, "1003 1001 1002");
	order(t, NULL, VS_TOP_SORT_FAIL, false, got, sizeof(got));
	CHECK_STR(got, "1002 1001 1003");
	order(t, NULL, VS_TOP_SORT_FLOW, false, got, sizeof(got));
	CHECK_STR(got, "1001 1002 1003");
	order(t, NULL, VS_TOP_SORT_FLOW, true, got, sizeof(got));
	CHECK_STR(got, "1003 1002 1001");
	order(t, NULL, VS_TOP_SORT_AGE, false, got, sizeof(got));
	CHECK_STR(got, "1003 1002 1001");
	order(t, NULL, VS_TOP_SORT_AGE, true, got, sizeof(got));
	CHECK_STR(got, "1001 1002 1003");
	vs_top_free(t);
}

static void t_sort_names(void)
{
	static const char *const want[] = { "rate",     "stalled", "free",
					    "findings", "flow",    "recent" };

	CHECK_EQ_U(VS_TOP_SORT__MAX, 6);
	for (unsigned int i = 0; i < VS_TOP_SORT__MAX; i++) {
		CHECK_STR(vs_top_sort_name(i), want[i]);
		CHECK_EQ_U(vs_top_sort_parse(want[i]), i);
	}
	CHECK_STR(vs_top_sort_name(VS_TOP_SORT__MAX), "?");
	CHECK(vs_top_sort_parse("") == -1);
	CHECK(vs_top_sort_parse("Rate") == -1);
	CHECK(vs_top_sort_parse("rates") == -1);
}

static void t_filter_parse(void)
{
	struct vs_top_filter f;
	static const char *const bad[] = {
		"x", "3:", ":5", "3:x", "3:5:6", "3x", "3:5 ", "-1",
		"4294967296", "3:4294967296", "1.5",
	};

	CHECK_EQ_U(vs_top_filter_parse(&f, "3"), 0);
	CHECK(f.on && f.any_port);
	CHECK_EQ_U(f.cid, 3);
	CHECK_EQ_U(vs_top_filter_parse(&f, "2:5000"), 0);
	CHECK(f.on && !f.any_port);
	CHECK_EQ_U(f.cid, 2);
	CHECK_EQ_U(f.port, 5000);
	CHECK_EQ_U(vs_top_filter_parse(&f, "4294967295:4294967295"), 0);
	CHECK_EQ_U(f.cid, 4294967295u);
	CHECK_EQ_U(f.port, 4294967295u);
	CHECK_EQ_U(vs_top_filter_parse(&f, ""), 0);
	CHECK(!f.on);
	CHECK_EQ_U(vs_top_filter_parse(&f, NULL), 0);
	CHECK(!f.on);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vs_top_filter_parse(&f, bad[i]) != -EINVAL) {
			printf("  # accepted: '%s'\n", bad[i]);
			CHECK(!"an invalid filter was accepted");
		}
	}
}

static void t_filter_match(void)
{
	struct vs_top *t = three();
	struct vs_top_filter f;
	char got[64];

	if (!t)
		return;
	CHECK(vs_top_filter_match(NULL, row_of(t, 1001)));
	vs_top_filter_parse(&f, "");
	CHECK(vs_top_filter_match(&f, row_of(t, 1001)));
	/* either end: the host's port is the B end of all three */
	vs_top_filter_parse(&f, "2:5000");
	order(t, &f, VS_TOP_SORT_FLOW, false, got, sizeof(got));
	CHECK_STR(got, "1001 1002 1003");
	vs_top_filter_parse(&f, "2");
	order(t, &f, VS_TOP_SORT_FLOW, false, got, sizeof(got));
	CHECK_STR(got, "1001 1002 1003");
	vs_top_filter_parse(&f, "3:1002");
	CHECK(vs_top_filter_match(&f, row_of(t, 1002)));
	CHECK(!vs_top_filter_match(&f, row_of(t, 1001)));
	order(t, &f, VS_TOP_SORT_RATE, false, got, sizeof(got));
	CHECK_STR(got, "1002");
	vs_top_filter_parse(&f, "2:1002"); /* right port, wrong CID */
	order(t, &f, VS_TOP_SORT_RATE, false, got, sizeof(got));
	CHECK_STR(got, "");
	vs_top_filter_parse(&f, "4");
	order(t, &f, VS_TOP_SORT_RATE, false, got, sizeof(got));
	CHECK_STR(got, "");
	vs_top_free(t);
}

VS_TEST_MAIN({ "top_row_merges_directions_and_systems", t_row_merges },
	     { "top_initiator_is_a", t_initiator_is_a },
	     { "top_lower_end_is_a_without_request", t_lower_end_is_a },
	     { "top_rates_over_a_tick", t_rates },
	     { "top_credit_follows_engine", t_credit },
	     { "top_stall_ongoing_then_finding", t_stall_ongoing_then_found },
	     { "top_finish_turns_open_stall_into_finding",
	       t_finish_open_stall },
	     { "top_forget_closed_connections", t_forget_closed },
	     { "top_forget_kept", t_forget_kept },
	     { "top_sort_keys_and_reverse", t_sort },
	     { "top_sort_names", t_sort_names },
	     { "top_filter_parse", t_filter_parse },
	     { "top_filter_match_and_select", t_filter_match })
