// SPDX-License-Identifier: GPL-2.0-only
/* The flow table and credit accounting. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "flow.h"
#include "slab.h"

#define CHUNK 256 /* entries per slab: pointers stay valid */
#define CHUNK_BYTES (CHUNK * sizeof(struct vs_flow))

_Static_assert(sizeof(struct vs_flow) == 192,
	       "a flow entry is no longer three cache lines");

/*
 * Open addressing, linear probing, at most half full. A slot holds the
 * key's hash beside the entry's index, so a lookup reads the slots (a
 * small array that stays in the cache) and touches only the entry that
 * matches: entries are big and spread, and each one missed in the cache
 * cost more than the rest of a lookup.
 *
 * An entry removed (vs_flow_remove(), for a tool that runs for days) leaves
 * its slot by backward shift, so no lookup ever meets a tombstone, and its
 * place in the chunks is given to the next entry made.
 */
struct slot {
	uint32_t hash;
	uint32_t idx1; /* entry index + 1; 0: empty */
};

struct vs_flow_table {
	struct slot *slots;
	unsigned int nslots; /* power of two */
	unsigned int count; /* places used in the chunks */
	unsigned int live;  /* ... by entries not removed */
	uint32_t *freed;    /* places of removed entries, to be used again */
	unsigned int nfreed, capfreed;
	struct vs_flow **chunks;
	unsigned int nchunks;
	struct vs_slabs mem; /* the chunks */
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
	ft->nslots = 2048;
	ft->slots = calloc(ft->nslots, sizeof(*ft->slots));
	if (!ft->slots) {
		free(ft);
		return NULL;
	}
	ft->mem.size = CHUNK_BYTES;
	return ft;
}

void vs_flow_table_free(struct vs_flow_table *ft)
{
	if (!ft)
		return;
	vs_slabs_free(&ft->mem);
	free(ft->freed);
	free(ft->chunks);
	free(ft->slots);
	free(ft);
}

static void put_slot(struct slot *slots, unsigned int mask, uint32_t h,
		     uint32_t idx1)
{
	unsigned int i = h & mask;

	while (slots[i].idx1)
		i = (i + 1) & mask;
	slots[i].hash = h;
	slots[i].idx1 = idx1;
}

static int grow(struct vs_flow_table *ft)
{
	unsigned int n = ft->nslots * 2;
	struct slot *s = calloc(n, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (unsigned int i = 0; i < ft->nslots; i++)
		if (ft->slots[i].idx1)
			put_slot(s, n - 1, ft->slots[i].hash,
				 ft->slots[i].idx1);
	free(ft->slots);
	ft->slots = s;
	ft->nslots = n;
	return 0;
}

/* a new entry at place @i of the chunks, zeroed */
static struct vs_flow *make(struct vs_flow_table *ft, struct vs_flow *f,
			    unsigned int system, const struct vs_tuple *t,
			    uint32_t h, unsigned int i)
{
	f->t = *t;
	f->system = (uint16_t)system;
	f->index = i;
	f->min_free = -1;
	put_slot(ft->slots, ft->nslots - 1, h, i + 1);
	ft->live++;
	return f;
}

struct vs_flow *vs_flow_get(struct vs_flow_table *ft, unsigned int system,
			    const struct vs_tuple *t, bool create)
{
	uint32_t h = hash(system, t);
	unsigned int mask = ft->nslots - 1;
	struct vs_flow *f;

	for (unsigned int i = h & mask; ft->slots[i].idx1; i = (i + 1) & mask) {
		if (ft->slots[i].hash != h)
			continue;
		f = vs_flow_at(ft, ft->slots[i].idx1 - 1);
		if (f->system == system && vs_tuple_eq(&f->t, t))
			return f;
	}
	if (!create)
		return NULL;
	/* at most half full, or a new table (an entry not yet made) */
	if ((ft->live + 1) * 2 > ft->nslots && grow(ft))
		return NULL;
	if (ft->nfreed) {
		uint32_t i = ft->freed[--ft->nfreed];

		f = vs_flow_at(ft, i);
		memset(f, 0, sizeof(*f));
		return make(ft, f, system, t, h, i);
	}
	if (ft->count == ft->nchunks * CHUNK) {
		struct vs_flow **c;

		c = realloc(ft->chunks, (ft->nchunks + 1) * sizeof(*c));
		if (!c)
			return NULL;
		ft->chunks = c;
		c[ft->nchunks] = vs_slab_get(&ft->mem);
		if (!c[ft->nchunks])
			return NULL;
		ft->nchunks++;
	}
	f = &ft->chunks[ft->count / CHUNK][ft->count % CHUNK];
	return make(ft, f, system, t, h, ft->count++);
}

void vs_flow_remove(struct vs_flow_table *ft, struct vs_flow *f)
{
	unsigned int mask = ft->nslots - 1, i, j, home;
	uint32_t idx1 = f->index + 1;

	if (vs_flow_gone(f))
		return;
	i = hash(f->system, &f->t) & mask;
	while (ft->slots[i].idx1 != idx1) {
		if (!ft->slots[i].idx1)
			return; /* not in this table */
		i = (i + 1) & mask;
	}
	/*
	 * Backward shift: each later slot of the run moves into the hole
	 * unless its home lies cyclically after the hole and at or before it
	 */
	for (j = (i + 1) & mask; ft->slots[j].idx1; j = (j + 1) & mask) {
		home = ft->slots[j].hash & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			ft->slots[i] = ft->slots[j];
			i = j;
		}
	}
	ft->slots[i].idx1 = 0;
	ft->slots[i].hash = 0;
	ft->live--;
	if (ft->nfreed == ft->capfreed) {
		unsigned int cap = ft->capfreed ? ft->capfreed * 2 : 256;
		uint32_t *v = realloc(ft->freed, cap * sizeof(*v));

		if (v) {
			ft->freed = v;
			ft->capfreed = cap;
		}
	}
	/* with no room to list it, the place stays unused: nothing is lost */
	if (ft->nfreed < ft->capfreed)
		ft->freed[ft->nfreed++] = f->index;
	memset(f, 0, sizeof(*f));
	f->index = idx1 - 1;
	f->system = VS_FLOW_GONE;
}

unsigned int vs_flow_live(const struct vs_flow_table *ft)
{
	return ft->live;
}

uint32_t vs_flow_hash(unsigned int system, const struct vs_tuple *t)
{
	return hash(system, t);
}

void vs_flow_prefetch_slot(const struct vs_flow_table *ft, uint32_t h)
{
	__builtin_prefetch(&ft->slots[h & (ft->nslots - 1)]);
}

struct vs_flow *vs_flow_peek(const struct vs_flow_table *ft, uint32_t h)
{
	unsigned int mask = ft->nslots - 1;

	for (unsigned int i = h & mask; ft->slots[i].idx1; i = (i + 1) & mask)
		if (ft->slots[i].hash == h)
			return vs_flow_at(ft, ft->slots[i].idx1 - 1);
	return NULL;
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
