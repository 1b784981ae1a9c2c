// SPDX-License-Identifier: GPL-2.0-only
/*
 * unanswered_interrupt: a doorbell rung that nobody answered.
 *
 * - a kick (driver → device), a call (device → driver) or a mailbox send
 *   on one system with no interrupt, queue work, mailbox receive or packet
 *   receive on the other system within the timeout;
 * - packets sent to a traced system that shows neither an interrupt nor a
 *   receive for them (detect_lost.c decides which packets; this file keeps
 *   the finding).
 *
 * Needs the two systems on one timeline: with the offset unknown, only the
 * packet rule applies, over the whole captures.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect.h"

#define MERGE_NS 1000000000ull /* doorbells unanswered within 1 s: one */

struct bell {
	struct vs_event ev;
	uint64_t ref;
	struct bell *next;
};

struct irq_state {
	struct bell *head, *tail;
	struct vs_runs runs;
};

static struct irq_state *st(struct vs_engine *e)
{
	return e->det[VS_DET_IRQ];
}

int vs_unanswered_init(struct vs_engine *e)
{
	e->det[VS_DET_IRQ] = calloc(1, sizeof(struct irq_state));
	return e->det[VS_DET_IRQ] ? 0 : -ENOMEM;
}

void vs_unanswered_free(struct vs_engine *e)
{
	struct irq_state *s = st(e);

	if (!s)
		return;
	while (s->head) {
		struct bell *b = s->head;

		s->head = b->next;
		free(b);
	}
	vs_runs_free(&s->runs);
	free(s);
	e->det[VS_DET_IRQ] = NULL;
}

void vs_unanswered_event(struct vs_engine *e, const struct vs_event *ev,
			 uint64_t ref)
{
	struct irq_state *s = st(e);
	struct bell *b;

	if (ev->kind != VS_EV_VQ_KICK && ev->kind != VS_EV_VQ_CALL &&
	    ev->kind != VS_EV_MBOX_TX)
		return;
	if (e->nsys < 2)
		return; /* the other side is not in the capture */
	b = calloc(1, sizeof(*b));
	if (!b) {
		e->err = ENOMEM;
		return;
	}
	b->ev = *ev;
	b->ref = ref;
	if (s->tail)
		s->tail->next = b;
	else
		s->head = b;
	s->tail = b;
	vs_engine_wake(e, ref + e->opt.irq_timeout_ns);
}

static uint64_t window_end(const struct vs_engine *e, unsigned int sys)
{
	const struct vs_system *s = &e->sys[sys];

	return s->has_window ? s->win_end
			     : vs_engine_ref(e, sys, s->last_local);
}

static void ring(struct vs_engine *e, struct bell *b, bool at_end)
{
	struct irq_state *s = st(e);
	uint64_t to = b->ref + e->opt.irq_timeout_ns, last;
	unsigned int x = b->ev.system, judged = 0;
	struct vs_run_key k = { .kind = VS_FIND_UNANSWERED_IRQ,
				.system = (uint16_t)x };
	struct vs_finding *fd;
	const char *what;
	bool kick = b->ev.kind == VS_EV_VQ_KICK ||
		    b->ev.kind == VS_EV_VQ_CALL;
	uint32_t cls;

	snprintf(k.tag, sizeof(k.tag), "%s/%s", kick ? b->ev.vq.dev : "mbox",
		 kick ? b->ev.vq.vq : b->ev.mbox.chan);
	/*
	 * A kick on a transmit queue wants the device to take the packets,
	 * a call on a receive queue wants the driver to take what arrived.
	 * Kicks that only refill receive buffers, calls that only return
	 * sent buffers, need no visible answer: not judged.
	 */
	if (kick && strcmp(b->ev.vq.vq, b->ev.kind == VS_EV_VQ_KICK ? "tx"
								    : "rx"))
		return;
	cls = b->ev.kind == VS_EV_VQ_KICK   ? VS_ANS_KICK
	      : b->ev.kind == VS_EV_VQ_CALL ? VS_ANS_DELIVERY
					    : VS_ANS_ANY;
	for (unsigned int y = 0; y < e->nsys; y++) {
		const struct vs_system *sy = &e->sys[y];

		if (y == x || !vs_engine_clocks_known(e, x, y) || !sy->any)
			continue;
		/* the other side must have been capturing the whole time */
		if ((sy->has_window &&
		     (b->ref < sy->win_start || to > sy->win_end)) ||
		    (at_end && to > window_end(e, y)))
			continue;
		judged++;
		if (vs_engine_answered(e, y, b->ref - vs_engine_slack(e, x, y),
				       to, cls)) {
			vs_run_end(&s->runs, &k);
			return;
		}
	}
	if (!judged)
		return;
	what = b->ev.kind == VS_EV_VQ_KICK   ? "kick"
	       : b->ev.kind == VS_EV_VQ_CALL ? "call"
					     : "mailbox doorbell";
	fd = vs_run_get(&s->runs, &e->findings, &k, &last);
	if (fd && b->ref - last < MERGE_NS) {
		fd->count++;
		fd->end = b->ref;
	} else {
		fd = vs_finding_add(&e->findings, VS_FIND_UNANSWERED_IRQ, x,
				    b->ref);
		if (!fd || vs_run_set(&s->runs, &k, &e->findings, fd, 0)) {
			e->err = ENOMEM;
			return;
		}
		fd->has_end = true;
		fd->end = b->ref;
		snprintf(fd->cause, sizeof(fd->cause), "%s_unanswered",
			 b->ev.kind == VS_EV_VQ_KICK   ? "kick"
			 : b->ev.kind == VS_EV_VQ_CALL ? "call"
						       : "mailbox");
	}
	vs_run_set(&s->runs, &k, &e->findings, fd, b->ref);
	vs_finding_evidence(fd, &b->ev);
	vs_finding_summary(fd,
			   "%" PRIu64 " %s%s on %s (%s) got no interrupt or "
			   "work on the other side within %.0f ms",
			   fd->count, what, fd->count > 1 ? "s" : "",
			   e->sys[x].name, k.tag,
			   e->opt.irq_timeout_ns / 1e6);
}

uint64_t vs_unanswered_tick(struct vs_engine *e, uint64_t now)
{
	struct irq_state *s = st(e);

	while (s->head && s->head->ref + e->opt.irq_timeout_ns < now) {
		struct bell *b = s->head;

		s->head = b->next;
		if (!s->head)
			s->tail = NULL;
		ring(e, b, false);
		free(b);
	}
	return s->head ? s->head->ref + e->opt.irq_timeout_ns : UINT64_MAX;
}

int vs_unanswered_finish(struct vs_engine *e)
{
	struct irq_state *s = st(e);

	while (s->head) {
		struct bell *b = s->head;

		s->head = b->next;
		ring(e, b, true);
		free(b);
	}
	s->tail = NULL;
	return e->err ? -e->err : 0;
}
