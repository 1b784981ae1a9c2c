// SPDX-License-Identifier: GPL-2.0-only
/*
 * reset: connections ended by RST other than the normal close. Linux closes
 * with SHUTDOWN and answers the peer's SHUTDOWN with RST, so an RST after a
 * SHUTDOWN on the connection is the normal end and says nothing. An RST in
 * answer to a REQUEST is a refused connection (no listener on the port); any
 * other RST aborted a connection. RSTs on one connection within a second
 * make one finding (a storm shows as its count). The same RST seen leaving
 * one traced system and arriving at another is counted once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect.h"

#define MERGE_NS 1000000000ull

static struct vs_runs *runs(struct vs_engine *e)
{
	if (!e->det[VS_DET_RESET])
		e->det[VS_DET_RESET] = calloc(1, sizeof(struct vs_runs));
	return e->det[VS_DET_RESET];
}

void vs_reset_free(struct vs_engine *e)
{
	if (e->det[VS_DET_RESET]) {
		vs_runs_free(e->det[VS_DET_RESET]);
		free(e->det[VS_DET_RESET]);
		e->det[VS_DET_RESET] = NULL;
	}
}

void vs_reset_event(struct vs_engine *e, const struct vs_event *ev,
		    uint64_t ref, struct vs_flow *f)
{
	const struct vs_pkt *p = &ev->pkt;
	struct vs_tuple rt = vs_tuple_reverse(f->t);
	struct vs_flow *rev = vs_flow_get(e->flows, f->system, &rt, false);
	uint32_t ops = f->ops_tx | f->ops_rx | (rev ? rev->ops_tx | rev->ops_rx
						    : 0);
	struct vs_runs *r = runs(e);
	struct vs_run_key k = { .kind = VS_FIND_RESET, .has_flow = true };
	struct vs_finding *fd;
	char flow[VS_TUPLE_STRLEN];
	bool refused;
	uint64_t last;

	if (p->op != VS_OP_RST)
		return;
	if (!r) {
		e->err = ENOMEM;
		return;
	}
	if (ops & (1u << VS_OP_SHUTDOWN))
		return; /* the normal close */
	if (ev->kind == VS_EV_PKT_RX) {
		/* counted where it was sent, when that system is traced */
		for (unsigned int i = 0; i < e->nsys; i++)
			if (i != ev->system &&
			    vs_engine_owns(e, i, p->src_cid) &&
			    vs_engine_clocks_known(e, i, ev->system))
				return;
	}
	refused = (ops & (1u << VS_OP_REQUEST)) &&
		  !(ops & (1u << VS_OP_RESPONSE));
	/* one key per connection, whichever way the RST went */
	k.t = f->t;
	if (k.t.src_cid > k.t.dst_cid ||
	    (k.t.src_cid == k.t.dst_cid && k.t.src_port > k.t.dst_port))
		k.t = rt;
	fd = vs_run_get(r, &e->findings, &k, &last);
	if (fd && ref - last < MERGE_NS) {
		fd->count++;
		fd->end = ref;
	} else {
		fd = vs_finding_add(&e->findings, VS_FIND_RESET, ev->system,
				    ref);
		if (!fd) {
			e->err = ENOMEM;
			return;
		}
		vs_finding_set_flow(fd, &f->t);
		fd->has_end = true;
		fd->end = ref;
		snprintf(fd->cause, sizeof(fd->cause), "%s",
			 refused ? "refused" : "aborted");
	}
	if (vs_run_set(r, &k, &e->findings, fd, ref))
		e->err = ENOMEM;
	vs_finding_evidence(fd, ev);
	vs_tuple_str(&fd->flow, flow, sizeof(flow));
	if (refused)
		vs_finding_summary(fd,
				   "connection %s refused by RST%s: nothing "
				   "listens on port %u of CID %" PRIu64,
				   flow, fd->count > 1 ? " (repeated)" : "",
				   fd->flow.src_port, fd->flow.src_cid);
	else
		vs_finding_summary(fd,
				   "connection %s reset (%" PRIu64
				   " RST%s) without a SHUTDOWN first: one "
				   "side aborted it",
				   flow, fd->count, fd->count > 1 ? "s" : "");
}

int vs_reset_finish(struct vs_engine *e)
{
	return e->err ? -e->err : 0;
}
