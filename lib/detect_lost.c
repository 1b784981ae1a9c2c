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

static struct vs_runs *runs(struct vs_engine *e)
{
	if (!e->det[VS_DET_LOST])
		e->det[VS_DET_LOST] = calloc(1, sizeof(struct vs_runs));
	return e->det[VS_DET_LOST];
}

void vs_lost_free(struct vs_engine *e)
{
	if (e->det[VS_DET_LOST]) {
		vs_runs_free(e->det[VS_DET_LOST]);
		free(e->det[VS_DET_LOST]);
		e->det[VS_DET_LOST] = NULL;
	}
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

void vs_lost_outcome(struct vs_engine *e, const struct vs_pkt_rec *tx,
		     const struct vs_pkt_rec *rx)
{
	struct vs_runs *r = runs(e);
	struct vs_run_key k = { .system = tx->system, .has_flow = true,
				.t = tx->t };
	const struct vs_system *sy;
	struct vs_finding *fd;
	struct vs_event ev;
	bool known, answered;
	uint64_t to = tx->ref + e->opt.irq_timeout_ns, end;
	int y;

	if (!r) {
		e->err = ENOMEM;
		return;
	}
	if (rx) {
		/* delivery resumed: the runs on this flow are over */
		k.kind = VS_FIND_LOST_PACKET;
		vs_run_end(r, &k);
		k.kind = VS_FIND_UNANSWERED_IRQ;
		vs_run_end(r, &k);
		return;
	}
	y = receiver(e, tx);
	if (y < 0)
		return;
	sy = &e->sys[y];
	known = vs_engine_clocks_known(e, tx->system, (unsigned)y);
	if (known) {
		end = sy->has_window ? sy->win_end
				     : vs_engine_ref(e, (unsigned)y,
						     sy->last_local);
		if (!sy->any || to > end ||
		    (sy->has_window && tx->ref < sy->win_start))
			return; /* the receiver was not capturing */
		answered = vs_engine_answered(e, (unsigned)y, tx->ref, to);
	} else {
		struct vs_flow *f = vs_flow_get(e->flows, (unsigned)y, &tx->t,
						false);

		answered = (f && f->rx_pkts) || sy->per_kind[VS_EV_IRQ] ||
			   sy->per_kind[VS_EV_VQ_IRQ];
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
			return;
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
	vs_finding_evidence(fd, &ev);
}
