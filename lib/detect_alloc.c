// SPDX-License-Identifier: GPL-2.0-only
/*
 * alloc_failure: a failed kmalloc or page allocation on the vsock/virtio
 * path. An allocation is on that path when its call site says so (vsock,
 * virtio, vhost, vring) or when the same CPU and task handled a vsock packet
 * just before it or within the timeout after it. The packet it broke names
 * the flow: the task's next packet (the one it retried), else the one just
 * before; a receive-queue refill (rx_fill) belongs to no flow.
 * Failures elsewhere are counted per system, not reported: the kernel fails
 * opportunistic high-order allocations all the time and falls back.
 * Repeats from the same place within a second are one finding; the finding
 * also says how long the system then went without receiving a packet.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect.h"

#define CPUS 256
#define BEFORE_NS 10000000ull	 /* a packet this close before ties */
#define REPEAT_NS 1000000000ull /* repeats merged into one finding */

struct last_pkt {
	uint64_t ref;
	int32_t pid;
	struct vs_tuple t;
	bool valid;
};

struct pending {
	struct vs_event ev;
	uint64_t ref;
	bool tied;
	bool has_flow;	/* the packet it broke: the next one of the task */
	bool no_flow;	/* a receive refill: it belongs to no flow */
	bool has_prev;	/* else the packet just before it */
	struct vs_tuple flow;
	struct vs_tuple prev;
	struct pending *next;
};

struct alloc_state {
	struct last_pkt last[VS_MAX_SYSTEMS][CPUS];
	struct pending *head, *tail;
	/* the open finding per system, for merging and the silence after */
	long open[VS_MAX_SYSTEMS];	/* findings index + 1, or 0 */
	uint64_t open_last[VS_MAX_SYSTEMS]; /* time of its last failure */
	bool silence_open[VS_MAX_SYSTEMS];
};

static struct alloc_state *st(struct vs_engine *e)
{
	return e->det[VS_DET_ALLOC];
}

int vs_alloc_failure_init(struct vs_engine *e)
{
	e->det[VS_DET_ALLOC] = calloc(1, sizeof(struct alloc_state));
	return e->det[VS_DET_ALLOC] ? 0 : -ENOMEM;
}

void vs_alloc_failure_free(struct vs_engine *e)
{
	struct alloc_state *s = st(e);

	if (!s)
		return;
	while (s->head) {
		struct pending *p = s->head;

		s->head = p->next;
		free(p);
	}
	free(s);
	e->det[VS_DET_ALLOC] = NULL;
}

static bool vsock_call_site(const char *cs)
{
	return strstr(cs, "vsock") || strstr(cs, "virtio") ||
	       strstr(cs, "vhost") || strstr(cs, "vring");
}

static bool same_task(int32_t a, int32_t b)
{
	/* pid 0 is the idle task: softirq work on that cpu counts */
	return a == b || a <= 0 || b <= 0;
}

static void describe_alloc(const struct vs_event *ev, char *buf, size_t n)
{
	const struct vs_alloc *a = &ev->alloc;

	if (a->source == VS_ALLOC_PAGE)
		snprintf(buf, n, "page allocation of order %d (%" PRIu64
				 " KiB)", a->order, a->bytes_req / 1024);
	else if (a->call_site[0])
		snprintf(buf, n, "kmalloc of %" PRIu64 " bytes at %s",
			 a->bytes_req, a->call_site);
	else
		snprintf(buf, n, "kmalloc of %" PRIu64 " bytes", a->bytes_req);
}

static void report(struct vs_engine *e, struct pending *p)
{
	struct alloc_state *s = st(e);
	unsigned int sys = p->ev.system;
	struct vs_finding *fd = NULL;
	char what[96], flow[VS_TUPLE_STRLEN];

	if (s->open[sys] && p->ref - s->open_last[sys] < REPEAT_NS) {
		fd = &e->findings.v[s->open[sys] - 1];
		if (fd->has_flow == p->has_flow &&
		    (!p->has_flow || vs_tuple_eq(&fd->flow, &p->flow))) {
			fd->count++;
			fd->end = p->ref;
			s->open_last[sys] = p->ref;
			vs_finding_evidence(fd, &p->ev);
			describe_alloc(&p->ev, what, sizeof(what));
			vs_finding_summary(
				fd, "%" PRIu64 " failed allocations on %s, the "
				    "last a %s, on the vsock path%s%s",
				fd->count, e->sys[sys].name, what,
				p->has_flow ? " of " : "",
				p->has_flow ? vs_tuple_str(&p->flow, flow,
							   sizeof(flow))
					    : "");
			return;
		}
	}
	fd = vs_finding_add(&e->findings, VS_FIND_ALLOC_FAILURE, sys, p->ref);
	if (!fd) {
		e->err = ENOMEM;
		return;
	}
	fd->has_end = true;
	fd->end = p->ref;
	if (p->has_flow)
		vs_finding_set_flow(fd, &p->flow);
	describe_alloc(&p->ev, what, sizeof(what));
	vs_finding_summary(fd, "a %s failed on %s on the vsock path%s%s", what,
			   e->sys[sys].name, p->has_flow ? " of " : "",
			   p->has_flow ? vs_tuple_str(&p->flow, flow,
						      sizeof(flow))
				       : "");
	snprintf(fd->cause, sizeof(fd->cause), "%s",
		 p->ev.alloc.source == VS_ALLOC_PAGE ? "page_alloc"
						     : "kmalloc");
	vs_finding_evidence(fd, &p->ev);
	s->open[sys] = (long)(fd - e->findings.v) + 1;
	s->open_last[sys] = p->ref;
	s->silence_open[sys] = true;
}

/* the first packet received after the failure: how long the silence was */
static void end_silence(struct vs_engine *e, unsigned int sys, uint64_t ref,
			bool capture_end)
{
	struct alloc_state *s = st(e);
	struct vs_finding *fd;
	char tail[96];
	size_t n;

	if (!s->silence_open[sys] || !s->open[sys])
		return;
	s->silence_open[sys] = false;
	fd = &e->findings.v[s->open[sys] - 1];
	if (ref < fd->end)
		return;
	if (capture_end)
		snprintf(tail, sizeof(tail),
			 "; no vsock packet was received after it (%.1f ms "
			 "to the end of the capture)",
			 (ref - fd->end) / 1e6);
	else if (ref - fd->end >= e->opt.irq_timeout_ns)
		snprintf(tail, sizeof(tail),
			 "; the next vsock packet arrived %.1f ms later",
			 (ref - fd->end) / 1e6);
	else
		return;
	n = strlen(fd->summary);
	snprintf(fd->summary + n, sizeof(fd->summary) - n, "%s", tail);
}

static void finalize(struct vs_engine *e, struct pending *p)
{
	if (!p->has_flow && p->has_prev && !p->no_flow) {
		p->has_flow = true;
		p->flow = p->prev;
	}
	if (p->no_flow)
		p->has_flow = false;
	if (p->tied || p->has_flow)
		report(e, p);
}

void vs_alloc_failure_event(struct vs_engine *e, const struct vs_event *ev,
			    uint64_t ref)
{
	struct alloc_state *s = st(e);
	unsigned int cpu = ev->cpu >= 0 ? (unsigned int)ev->cpu % CPUS : 0;
	struct last_pkt *lp = &s->last[ev->system][cpu];
	struct pending *p;

	if (vs_event_is_pkt(ev)) {
		lp->ref = ref;
		lp->pid = ev->pid;
		lp->t = vs_tuple_of(&ev->pkt);
		lp->valid = true;
		/* failures waiting for the packet they broke */
		for (p = s->head; p; p = p->next) {
			if (p->has_flow || p->ev.system != ev->system)
				continue;
			if (p->ev.cpu == ev->cpu ||
			    (p->ev.pid > 0 && p->ev.pid == ev->pid)) {
				p->has_flow = true;
				p->flow = lp->t;
			}
		}
		if (ev->kind == VS_EV_PKT_RX)
			end_silence(e, ev->system, ref, false);
		return;
	}
	if (ev->kind != VS_EV_ALLOC || !ev->alloc.failed)
		return;
	p = calloc(1, sizeof(*p));
	if (!p) {
		e->err = ENOMEM;
		return;
	}
	p->ev = *ev;
	p->ref = ref;
	p->tied = (ev->present & VS_HAS_CALLSITE) &&
		  vsock_call_site(ev->alloc.call_site);
	p->no_flow = (ev->present & VS_HAS_CALLSITE) &&
		     strstr(ev->alloc.call_site, "rx_fill");
	if (lp->valid && ref - lp->ref <= BEFORE_NS &&
	    same_task(lp->pid, ev->pid)) {
		p->has_prev = true;
		p->prev = lp->t;
	}
	if (s->tail)
		s->tail->next = p;
	else
		s->head = p;
	s->tail = p;
	vs_engine_wake(e, ref + e->opt.irq_timeout_ns);
}

uint64_t vs_alloc_failure_tick(struct vs_engine *e, uint64_t now)
{
	struct alloc_state *s = st(e);

	while (s->head && s->head->ref + e->opt.irq_timeout_ns < now) {
		struct pending *p = s->head;

		s->head = p->next;
		if (!s->head)
			s->tail = NULL;
		finalize(e, p);
		free(p);
	}
	return s->head ? s->head->ref + e->opt.irq_timeout_ns : UINT64_MAX;
}

int vs_alloc_failure_finish(struct vs_engine *e)
{
	struct alloc_state *s = st(e);

	while (s->head) {
		struct pending *p = s->head;

		s->head = p->next;
		finalize(e, p);
		free(p);
	}
	s->tail = NULL;
	for (unsigned int i = 0; i < e->nsys; i++)
		end_silence(e, i,
			    vs_engine_ref(e, i, e->sys[i].last_local), true);
	return e->err ? -e->err : 0;
}
