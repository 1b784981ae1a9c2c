// SPDX-License-Identifier: GPL-2.0-only
/*
 * lost_packet: a packet sent on one system to another traced system (or to
 * itself, in a loopback capture) whose receive never shows.
 *
 * The matcher (correlate.c) says which sends went unmatched; this file
 * decides what that means. A send the receiver could not have seen (its
 * capture had not started or had ended) is no evidence. If the receiver
 * showed an interrupt or a receive meanwhile, the packet is lost; if it
 * showed nothing at all, the doorbell went unanswered (unanswered_interrupt,
 * seed 000's "Linux sent, Android never got an interrupt"). Packets lost one
 * after another on a flow make one finding.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect.h"

/*
 * Sends whose verdict waits: live input has no capture windows known in
 * advance, so a send is judged only once the receiver's capture has shown
 * something later than its timeout (or at the end).
 */
struct deferred {
	struct vs_pkt_rec tx;
	struct deferred *next;
};

struct lost_state {
	struct vs_runs runs;
	struct deferred *head, *tail;
};

static struct lost_state *st(struct vs_engine *e)
{
	if (!e->det[VS_DET_LOST])
		e->det[VS_DET_LOST] = calloc(1, sizeof(struct lost_state));
	return e->det[VS_DET_LOST];
}

void vs_lost_free(struct vs_engine *e)
{
	struct lost_state *s = e->det[VS_DET_LOST];

	if (!s)
		return;
	while (s->head) {
		struct deferred *d = s->head;

		s->head = d->next;
		free(d);
	}
	vs_runs_free(&s->runs);
	free(s);
	e->det[VS_DET_LOST] = NULL;
}

static int receiver(const struct vs_engine *e, const struct vs_pkt_rec *tx)
{
	for (unsigned int i = 0; i < e->nsys; i++)
		if (i != tx->system && vs_engine_owns(e, i, tx->t.dst_cid))
			return (int)i;
	return vs_engine_owns(e, tx->system, tx->t.dst_cid) ? tx->system
							     : -1;
}

static void summarize(struct vs_engine *e, struct vs_finding *fd,
		      const struct vs_pkt_rec *tx, unsigned int y, bool known)
{
	char flow[VS_TUPLE_STRLEN];
	const char *x = e->sys[tx->system].name, *yn = e->sys[y].name;
	const char *pl = fd->count > 1 ? "s" : "";

	vs_tuple_str(&tx->t, flow, sizeof(flow));
	if (fd->kind == VS_FIND_LOST_PACKET && known)
		vs_finding_summary(fd,
				   "%" PRIu64 " packet%s sent by %s on %s never "
				   "arrived: %s was receiving other traffic "
				   "but not %s within %.0f ms",
				   fd->count, pl, x, flow, yn,
				   fd->count > 1 ? "these" : "this",
				   e->opt.irq_timeout_ns / 1e6);
	else if (fd->kind == VS_FIND_LOST_PACKET)
		vs_finding_summary(fd,
				   "%" PRIu64 " packet%s sent by %s on %s %s "
				   "in %s's capture, which does show other "
				   "packets of this flow; clock offset "
				   "unknown, so %s's capture may not cover "
				   "the time %s sent",
				   fd->count, pl, x, flow,
				   fd->count > 1 ? "never appear"
						 : "never appears",
				   yn, yn,
				   fd->count > 1 ? "they were" : "it was");
	else if (known)
		vs_finding_summary(fd,
				   "%" PRIu64 " packet%s sent by %s on %s got "
				   "no interrupt and no receive on %s within "
				   "%.0f ms: the doorbell went unanswered",
				   fd->count, pl, x, flow, yn,
				   e->opt.irq_timeout_ns / 1e6);
	else
		vs_finding_summary(fd,
				   "%" PRIu64 " packet%s sent by %s on %s never "
				   "reached %s: its capture shows no "
				   "interrupt and no receive on this flow at "
				   "all (clock offset unknown: no packet of "
				   "one capture matched the other)",
				   fd->count, pl, x, flow, yn);
}

/* 1 judged (or no evidence), 0 not yet: the receiver may still show it */
static int judge(struct vs_engine *e, const struct vs_pkt_rec *tx, bool final)
{
	struct vs_runs *r = &st(e)->runs;
	struct vs_run_key k = { .system = tx->system, .has_flow = true,
				.t = tx->t };
	const struct vs_system *sy;
	struct vs_finding *fd;
	struct vs_event ev;
	bool known, answered;
	uint64_t to = tx->ref + e->opt.irq_timeout_ns, end;
	int y;

	y = receiver(e, tx);
	if (y < 0)
		return 1;
	sy = &e->sys[y];
	known = vs_engine_clocks_known(e, tx->system, (unsigned)y);
	if (known) {
		end = sy->has_window ? sy->win_end
				     : vs_engine_ref(e, (unsigned)y,
						     sy->last_local);
		if (!final && !sy->has_window && (!sy->any || to > end))
			return 0;
		if (!sy->any || to > end ||
		    (sy->has_window && tx->ref < sy->win_start))
			return 1; /* the receiver was not capturing */
		answered = vs_engine_answered(
			e, (unsigned)y,
			tx->ref - vs_engine_slack(e, tx->system, (unsigned)y),
			to, VS_ANS_DELIVERY);
	} else {
		struct vs_flow *f = vs_flow_get(e->flows, (unsigned)y, &tx->t,
						false);

		/* no common timeline: any answer in the whole capture */
		answered = (f && f->rx_pkts) || sy->act_n;
	}
	k.kind = answered ? VS_FIND_LOST_PACKET : VS_FIND_UNANSWERED_IRQ;
	fd = vs_run_get(r, &e->findings, &k, NULL);
	if (fd) {
		fd->count++;
		fd->end = tx->ref;
	} else {
		fd = vs_finding_add(&e->findings, k.kind, tx->system, tx->ref);
		if (!fd) {
			e->err = ENOMEM;
			return 1;
		}
		vs_finding_set_flow(fd, &tx->t);
		fd->has_end = true;
		fd->end = tx->ref;
		snprintf(fd->cause, sizeof(fd->cause), "%s",
			 answered ? "not_received" : "no_interrupt");
	}
	if (vs_run_set(r, &k, &e->findings, fd, tx->ref))
		e->err = ENOMEM;
	summarize(e, fd, tx, (unsigned)y, known);
	memset(&ev, 0, sizeof(ev));
	ev.kind = VS_EV_PKT_TX;
	ev.system = tx->system;
	ev.ts_ns = tx->local;
	ev.present = VS_HAS_HDR;
	ev.pkt.src_cid = tx->t.src_cid;
	ev.pkt.src_port = tx->t.src_port;
	ev.pkt.dst_cid = tx->t.dst_cid;
	ev.pkt.dst_port = tx->t.dst_port;
	ev.pkt.len = tx->len;
	ev.pkt.op = tx->op;
	{
		const struct vs_flow *sf = vs_flow_get(e->flows, tx->system,
						       &tx->t, false);

		ev.pkt.type = sf && sf->type ? sf->type : VS_TYPE_STREAM;
	}
	if (tx->pid >= 0) {
		ev.pid = tx->pid;
		ev.present |= VS_HAS_PID;
	}
	vs_finding_evidence(fd, &ev);
	return 1;
}

void vs_lost_outcome(struct vs_engine *e, const struct vs_pkt_rec *tx,
		     const struct vs_pkt_rec *rx)
{
	struct lost_state *s = st(e);
	struct vs_run_key k = { .system = tx->system, .has_flow = true,
				.t = tx->t };
	struct deferred *d;

	if (!s) {
		e->err = ENOMEM;
		return;
	}
	if (rx) {
		/* delivery resumed: the runs on this flow are over */
		k.kind = VS_FIND_LOST_PACKET;
		vs_run_end(&s->runs, &k);
		k.kind = VS_FIND_UNANSWERED_IRQ;
		vs_run_end(&s->runs, &k);
		return;
	}
	if (!s->head && judge(e, tx, false))
		return;
	d = calloc(1, sizeof(*d));
	if (!d) {
		e->err = ENOMEM;
		return;
	}
	d->tx = *tx;
	if (s->tail)
		s->tail->next = d;
	else
		s->head = d;
	s->tail = d;
	vs_engine_wake(e, e->now + 1000000);
}

/* judge what waited, in order, as far as the receivers have got */
uint64_t vs_lost_tick(struct vs_engine *e, uint64_t now, bool final)
{
	struct lost_state *s = st(e);

	if (!s)
		return UINT64_MAX;
	while (s->head && judge(e, &s->head->tx, final)) {
		struct deferred *d = s->head;

		s->head = d->next;
		if (!s->head)
			s->tail = NULL;
		free(d);
	}
	return s->head ? now + 1000000 : UINT64_MAX;
}
