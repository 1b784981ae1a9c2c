// SPDX-License-Identifier: GPL-2.0-only
/* The flow table and credit accounting. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "flow.h"

#define CHUNK 256 /* entries per allocation: pointers stay valid */

struct vs_flow_table {
	struct vs_flow **buckets;
	unsigned int nbuckets; /* power of two */
	unsigned int count;
	struct vs_flow **chunks;
	unsigned int nchunks;
};

char *vs_tuple_str(const struct vs_tuple *t, char *buf, unsigned int size)
{
	snprintf(buf, size, "%" PRIu64 ":%u->%" PRIu64 ":%u", t->src_cid,
		 t->src_port, t->dst_cid, t->dst_port);
	return buf;
}

static inline unsigned int hash(unsigned int system, const struct vs_tuple *t)
{
	return vs_tuple_hash(t) ^ (system * 0x9e3779b1u);
}

struct vs_flow_table *vs_flow_table_new(void)
{
	struct vs_flow_table *ft = calloc(1, sizeof(*ft));

	if (!ft)
		return NULL;
	ft->nbuckets = 1024;
	ft->buckets = calloc(ft->nbuckets, sizeof(*ft->buckets));
	if (!ft->buckets) {
		free(ft);
		return NULL;
	}
	return ft;
}

void vs_flow_table_free(struct vs_flow_table *ft)
{
	if (!ft)
		return;
	for (unsigned int i = 0; i < ft->nchunks; i++)
		free(ft->chunks[i]);
	free(ft->chunks);
	free(ft->buckets);
	free(ft);
}

static int grow(struct vs_flow_table *ft)
{
	unsigned int n = ft->nbuckets * 2;
	struct vs_flow **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (unsigned int i = 0; i < ft->count; i++) {
		struct vs_flow *f = vs_flow_at(ft, i);
		unsigned int h = hash(f->system, &f->t) & (n - 1);

		f->next = b[h];
		b[h] = f;
	}
	free(ft->buckets);
	ft->buckets = b;
	ft->nbuckets = n;
	return 0;
}

struct vs_flow *vs_flow_get(struct vs_flow_table *ft, unsigned int system,
			    const struct vs_tuple *t, bool create)
{
	unsigned int h = hash(system, t) & (ft->nbuckets - 1);
	struct vs_flow *f;

	for (f = ft->buckets[h]; f; f = f->next) {
		if (f->system == system && vs_tuple_eq(&f->t, t))
			return f;
	}
	if (!create)
		return NULL;
	if (ft->count == ft->nchunks * CHUNK) {
		struct vs_flow **c;

		c = realloc(ft->chunks, (ft->nchunks + 1) * sizeof(*c));
		if (!c)
			return NULL;
		ft->chunks = c;
		c[ft->nchunks] = calloc(CHUNK, sizeof(struct vs_flow));
		if (!c[ft->nchunks])
			return NULL;
		ft->nchunks++;
	}
	if (ft->count >= ft->nbuckets && !grow(ft))
		h = hash(system, t) & (ft->nbuckets - 1);
	f = &ft->chunks[ft->count / CHUNK][ft->count % CHUNK];
	f->t = *t;
	f->system = (uint16_t)system;
	f->index = ft->count;
	f->min_free = -1;
	f->next = ft->buckets[h];
	ft->buckets[h] = f;
	ft->count++;
	return f;
}

unsigned int vs_flow_count(const struct vs_flow_table *ft)
{
	return ft->count;
}

struct vs_flow *vs_flow_at(const struct vs_flow_table *ft, unsigned int i)
{
	return &ft->chunks[i / CHUNK][i % CHUNK];
}

void vs_credit_start(struct vs_credit *cr)
{
	/* a new connection (maybe on a reused port): counters start at 0 */
	memset(cr, 0, sizeof(*cr));
	cr->base_exact = true;
}

void vs_credit_tx(struct vs_credit *cr, const struct vs_pkt *p)
{
	if (p->op != VS_OP_RW)
		return;
	cr->tx_seen += p->len;
	if (p->len)
		cr->last_len = p->len;
}

void vs_credit_adv(struct vs_credit *cr, const struct vs_pkt *p, uint64_t ts)
{
	int64_t lb;

	if (!cr->peer_known) {
		cr->peer_fwd = p->fwd_cnt;
		cr->peer_known = true;
		if (!cr->base_exact)
			cr->base = INT64_MIN;
	} else {
		/* fwd_cnt is a free-running u32: unwrap */
		cr->peer_fwd += (uint32_t)(p->fwd_cnt - cr->peer_fwd_raw);
	}
	cr->peer_fwd_raw = p->fwd_cnt;
	cr->peer_buf_alloc = p->buf_alloc;
	cr->adv_ts = ts;
	if (cr->base_exact)
		return;
	/* the peer cannot have forwarded more than we sent: in flight >= 0 */
	lb = cr->peer_fwd - cr->tx_seen;
	if (lb > cr->base)
		cr->base = lb;
}

int64_t vs_credit_peer_free(const struct vs_credit *cr)
{
	int64_t in_flight;

	if (!cr->peer_known)
		return INT64_MIN;
	in_flight = cr->base + cr->tx_seen - cr->peer_fwd;
	if (in_flight < 0)
		in_flight = 0;
	return (int64_t)cr->peer_buf_alloc - in_flight;
}

const char *vs_flow_state(const struct vs_flow *f, const struct vs_flow *rev)
{
	uint32_t ops = f->ops_tx | f->ops_rx;

	if (rev)
		ops |= rev->ops_tx | rev->ops_rx;
	if ((ops & (1u << VS_OP_RST)) && (ops & (1u << VS_OP_SHUTDOWN)))
		return "closed";
	if (ops & (1u << VS_OP_RST))
		return "reset";
	if (ops & (1u << VS_OP_SHUTDOWN))
		return "shutdown";
	if (ops & (1u << VS_OP_RESPONSE))
		return "established";
	if (ops & (1u << VS_OP_REQUEST))
		return "connecting";
	return "open"; /* data seen, the start was before the capture */
}
