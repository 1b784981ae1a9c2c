// SPDX-License-Identifier: GPL-2.0-only
/*
 * credit_stall: a direction whose sender's view of the peer's free buffer
 * space (peer_free) stays below what the sender needs for longer than the
 * threshold. Says how it ended and the likely cause.
 *
 * "What the sender needs" is taken as its last data packet's length, at
 * most 4 KiB and at least one byte: Linux sends whatever credit allows, so
 * a sender truly waits only near zero; the cap absorbs the slack of a
 * capture that began mid-connection, where tx_cnt is only known from below.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect.h"

struct vs_stall {
	uint64_t start; /* reference clock */
	int64_t free_at_start;
	uint32_t need;
	uint32_t buf_alloc;
	int64_t fwd_at_start;
	uint64_t rev_pkts; /* packets from the receiver meanwhile */
	bool fwd_moved; /* ... and whether their fwd_cnt moved */
	uint64_t rev_updates; /* of which CREDIT_UPDATE */
	uint64_t credit_reqs; /* CREDIT_REQUESTs the sender sent */
	int peer_sys; /* the receiver's system if traced, or -1 */
	uint64_t peer_tx_at_start;
	struct vs_event first; /* the event that started it */
};

static uint32_t need_of(const struct vs_flow *f)
{
	uint32_t n = f->cr.last_len;

	if (n > 4096)
		n = 4096;
	return n ? n : 1;
}

/* the receiver's own flow entry for what it sent back, when traced */
static struct vs_flow *peer_rev_flow(struct vs_engine *e,
				     const struct vs_flow *f, int *peer_sys)
{
	struct vs_tuple rt = vs_tuple_reverse(f->t);
	int p = -1;

	for (unsigned int i = 0; i < e->nsys; i++) {
		if (i != f->system && vs_engine_owns(e, i, f->t.dst_cid)) {
			p = (int)i;
			break;
		}
	}
	*peer_sys = p;
	if (p < 0 || !vs_engine_clocks_known(e, f->system, (unsigned)p))
		return NULL;
	return vs_flow_get(e->flows, (unsigned)p, &rt, false);
}

static void open_stall(struct vs_engine *e, struct vs_flow *f,
		       const struct vs_event *ev, uint64_t ref, int64_t free)
{
	struct vs_stall *s = calloc(1, sizeof(*s));
	struct vs_flow *pf;

	if (!s) {
		e->err = ENOMEM;
		return;
	}
	s->start = ref;
	s->free_at_start = free;
	s->need = need_of(f);
	s->buf_alloc = f->cr.peer_buf_alloc;
	s->fwd_at_start = f->cr.peer_fwd;
	pf = peer_rev_flow(e, f, &s->peer_sys);
	s->peer_tx_at_start = pf ? pf->tx_pkts : 0;
	s->first = *ev;
	f->stall = s;
}

/* @arrived_last: the packet that ended the stall came from the peer */
static const char *cause_of(struct vs_engine *e, struct vs_flow *f,
			    struct vs_stall *s, bool arrived_last, char *why,
			    size_t size)
{
	struct vs_flow *pf;
	int peer_sys;
	uint64_t peer_sent = 0, arrived = s->rev_pkts + arrived_last, lost;

	pf = peer_rev_flow(e, f, &peer_sys);
	if (pf)
		peer_sent = pf->tx_pkts - s->peer_tx_at_start;
	lost = peer_sent > arrived ? peer_sent - arrived : 0;
	if (s->rev_pkts && !s->fwd_moved) {
		snprintf(why, size,
			 "the receiver kept sending (%" PRIu64
			 " packets) but its fwd_cnt stayed at %u: the reader "
			 "on %s stopped reading",
			 s->rev_pkts, (uint32_t)s->fwd_at_start,
			 peer_sys >= 0 ? e->sys[peer_sys].name :
					 "the other side");
		return "receiver_not_reading";
	}
	if (!s->rev_pkts && lost) {
		snprintf(why, size,
			 "%s sent %" PRIu64
			 " packets back on this connection that never "
			 "arrived: credit updates were lost on the way",
			 e->sys[peer_sys].name, lost);
		return "credit_updates_lost";
	}
	if (!s->rev_pkts && pf) {
		snprintf(why, size,
			 "%s, the receiver, sent nothing on this connection "
			 "meanwhile: it stopped reading, or held its credit "
			 "updates back%s",
			 e->sys[peer_sys].name,
			 s->credit_reqs ? " (the sender asked with "
					  "CREDIT_REQUEST)" :
					  "");
		return "no_credit_update";
	}
	if (!s->rev_pkts) {
		const struct vs_tuple rt = vs_tuple_reverse(f->t);
		const struct vs_flow *rev =
			vs_flow_get(e->flows, f->system, &rt, false);
		bool one_way = !rev || !rev->rx_bytes;

		if (one_way) {
			snprintf(why, size,
				 "nothing came back from the receiver; on a "
				 "one-way flow credit returns only in explicit "
				 "CREDIT_UPDATEs: the receiver stopped reading "
				 "or never sent one%s",
				 s->credit_reqs ? " (the sender asked with "
						  "CREDIT_REQUEST)" :
						  "");
			return "no_credit_update_one_way";
		}
		snprintf(why, size,
			 "nothing came back from the receiver: it stopped "
			 "reading, or its updates were not sent%s",
			 s->credit_reqs ?
				 " (the sender asked with CREDIT_REQUEST)" :
				 "");
		return "no_credit_update";
	}
	snprintf(why, size,
		 "the receiver advanced fwd_cnt only slowly (%" PRId64
		 " bytes in %" PRIu64 " packets): it reads too slowly",
		 f->cr.peer_fwd - s->fwd_at_start, s->rev_pkts);
	return "receiver_slow";
}

static void emit(struct vs_engine *e, struct vs_flow *f, uint64_t end,
		 bool resolved, const char *ended_by,
		 const struct vs_event *last)
{
	struct vs_stall *s = f->stall;
	struct vs_finding *fd;
	char why[200], flow[VS_TUPLE_STRLEN];
	const char *cause;
	uint64_t dur = end - s->start;

	f->stalled_ns += dur;
	if (dur < e->opt.stall_ns)
		return;
	fd = vs_finding_add(&e->findings, VS_FIND_CREDIT_STALL, f->system,
			    s->start);
	if (!fd) {
		e->err = ENOMEM;
		return;
	}
	vs_finding_set_flow(fd, &f->t);
	fd->has_end = resolved;
	fd->end = end;
	cause = cause_of(e, f, s,
			 resolved && last && last->kind == VS_EV_PKT_RX, why,
			 sizeof(why));
	snprintf(fd->cause, sizeof(fd->cause), "%s", cause);
	snprintf(fd->ended_by, sizeof(fd->ended_by), "%s", ended_by);
	vs_tuple_str(&f->t, flow, sizeof(flow));
	vs_finding_summary(
		fd,
		"%s on %s waited %.1f ms for credit (peer_free %" PRId64
		" of buf_alloc %u, needs %u)%s%s; %s",
		flow, e->sys[f->system].name, dur / 1e6,
		s->free_at_start < 0 ? 0 : s->free_at_start, s->buf_alloc,
		s->need, resolved ? ", ended by " : ", not resolved",
		resolved ? ended_by : " when the capture ended", why);
	vs_finding_evidence(fd, &s->first);
	if (last)
		vs_finding_evidence(fd, last);
}

static void close_stall(struct vs_engine *e, struct vs_flow *f, uint64_t end,
			bool resolved, const char *ended_by,
			const struct vs_event *last)
{
	emit(e, f, end, resolved, ended_by, last);
	free(f->stall);
	f->stall = NULL;
}

void vs_credit_stall_note_reverse(struct vs_engine *e, struct vs_flow *f,
				  const struct vs_event *ev)
{
	(void)e;
	if (!f->stall)
		return;
	f->stall->rev_pkts++;
	if (f->cr.peer_fwd != f->stall->fwd_at_start)
		f->stall->fwd_moved = true;
	if (ev->pkt.op == VS_OP_CREDIT_UPDATE)
		f->stall->rev_updates++;
}

static bool ends_connection(const struct vs_flow *f, const struct vs_event *ev)
{
	return ev->pkt.op == VS_OP_RST ||
	       (ev->pkt.op == VS_OP_SHUTDOWN && ev->kind == VS_EV_PKT_RX &&
		(ev->pkt.flags & VS_SHUTDOWN_RCV)) ||
	       (ev->pkt.op == VS_OP_SHUTDOWN && ev->kind == VS_EV_PKT_TX &&
		(ev->pkt.flags & VS_SHUTDOWN_SEND) && f->stall);
}

void vs_credit_stall_check(struct vs_engine *e, struct vs_flow *f,
			   const struct vs_event *ev, uint64_t ref)
{
	int64_t free = vs_credit_peer_free(&f->cr);
	bool starved;

	if (f->stall && vs_event_is_pkt(ev)) {
		if (ev->kind == VS_EV_PKT_TX &&
		    ev->pkt.op == VS_OP_CREDIT_REQUEST)
			f->stall->credit_reqs++;
		if (ends_connection(f, ev)) {
			close_stall(e, f, ref, true,
				    ev->pkt.op == VS_OP_RST ? "a reset" :
							      "a shutdown",
				    ev);
			return;
		}
	}
	if (free == INT64_MIN)
		return;
	if (f->min_free < 0 || free < f->min_free)
		f->min_free = free < 0 ? 0 : free;
	/* nothing sent yet: no one is waiting */
	if (!f->cr.tx_seen && !f->stall)
		return;
	starved = free < (int64_t)need_of(f);
	if (starved && !f->stall) {
		open_stall(e, f, ev, ref, free);
	} else if (!starved && f->stall) {
		const char *by = "the peer's reading (fwd_cnt advanced)";

		if (ev->pkt.op == VS_OP_CREDIT_UPDATE)
			by = "a credit update";
		else if (ev->pkt.op == VS_OP_REQUEST ||
			 ev->pkt.op == VS_OP_RESPONSE)
			by = "a new connection";
		else if (f->cr.peer_buf_alloc != f->stall->buf_alloc &&
			 f->cr.peer_fwd == f->stall->fwd_at_start)
			by = "a larger buf_alloc";
		close_stall(e, f, ref, true, by, ev);
	}
}

bool vs_credit_stall_open(const struct vs_flow *f, uint64_t *start)
{
	if (!f->stall)
		return false;
	*start = f->stall->start;
	return true;
}

int vs_credit_stall_finish(struct vs_engine *e)
{
	unsigned int n = vs_flow_count(e->flows);

	for (unsigned int i = 0; i < n; i++) {
		struct vs_flow *f = vs_flow_at(e->flows, i);
		const struct vs_system *s;
		uint64_t end;

		if (!f->stall)
			continue;
		s = &e->sys[f->system];
		/* the capture went on past --until: the stall lasted to it */
		end = s->cut ? e->opt.until_ns :
			       vs_engine_ref(e, f->system, s->last_local);
		if (end < f->stall->start)
			end = f->stall->start;
		close_stall(e, f, end, false, "", NULL);
	}
	return e->err ? -e->err : 0;
}

void vs_credit_stall_free(struct vs_engine *e)
{
	unsigned int n;

	if (!e->flows)
		return;
	n = vs_flow_count(e->flows);
	for (unsigned int i = 0; i < n; i++) {
		struct vs_flow *f = vs_flow_at(e->flows, i);

		free(f->stall);
		f->stall = NULL;
	}
}
