// SPDX-License-Identifier: GPL-2.0-only
/*
 * Packet matching and the clock model.
 *
 * Matching: per directed 4-tuple, sent packets wait for their receive. A
 * receive takes, among the waiting sends with the same op and length, the
 * one whose latency is closest to the latency seen so far (the oldest while
 * none is known): a lost packet then stays waiting and expires, instead of
 * shifting every later pair by one.
 *
 * Clocks: a matched pair x→y says  off_y >= tx_x - rx_y,  a pair y→x says
 * off_y <= rx_x - tx_y (NTP's idea). A first estimate aligns each flow's
 * packets by order and takes the densest cluster of candidate offsets; the
 * matcher then pairs packets on that estimate; the pairs give the bounds,
 * a drift from the first and second halves, and the uncertainty.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "correlate.h"

/* vs_clock_to_ref() for a clock with drift */
int64_t vs_clock_to_ref_drift(const struct vs_clock *c, uint64_t local)
{
	double d;

	/* a clock running fast by r: ref advances (1 - r) per local unit */
	d = -c->drift_ppm * 1e-6 * ((double)local - (double)c->anchor);
	return (int64_t)local + c->offset_ns + (int64_t)llround(d);
}

uint64_t vs_clock_to_local(const struct vs_clock *c, uint64_t ref)
{
	/* invert ref = local + off + k (local - anchor) */
	double k = -c->drift_ppm * 1e-6;
	double l =
		((double)ref - (double)c->offset_ns + k * (double)c->anchor) /
		(1 + k);

	return l < 0 ? 0 : (uint64_t)llround(l);
}

#define TS_RES 1000 /* ns: the resolution of cat trace's timestamps */

/* ---- matcher ---- */

struct ment {
	struct vs_pkt_rec r;
	uint64_t deadline;
	struct ment *prev, *next; /* in the tuple's list */
	struct ment *fnext; /* in the expiry FIFO */
	struct mq *q;
	bool done;
	bool in_fifo;
};

struct mq {
	struct vs_tuple t;
	int64_t delta; /* sender's stream offset minus receiver's (loss) */
	bool pieces; /* the device split this flow's sends */
	struct ment *tx_head, *tx_tail;
	struct ment *rx_head, *rx_tail;
	struct mq *chain;
};

struct fifo {
	struct ment *head, *tail;
};

struct vs_matcher {
	uint64_t window;
	uint64_t tol;
	vs_match_fn fn;
	void *ctx;
	struct mq **buckets;
	unsigned int nbuckets;
	unsigned int nq;
	struct fifo txf, rxf;
	uint64_t pending;
	bool strict; /* a receive before its send only by stream offset */
	bool in_order; /* control packets pair in order */
	bool have_lat;
	double lat, lat_dev; /* latency: running mean and deviation, ns */
	unsigned int atypical; /* pairs in a row unlike that */
};

struct vs_matcher *vs_matcher_new(uint64_t window_ns, uint64_t tol_ns,
				  vs_match_fn fn, void *ctx)
{
	struct vs_matcher *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->window = window_ns;
	m->tol = tol_ns;
	m->fn = fn;
	m->ctx = ctx;
	m->nbuckets = 256;
	m->buckets = calloc(m->nbuckets, sizeof(*m->buckets));
	if (!m->buckets) {
		free(m);
		return NULL;
	}
	return m;
}

static struct mq *mq_get(struct vs_matcher *m, const struct vs_tuple *t)
{
	unsigned int h = vs_tuple_hash(t) & (m->nbuckets - 1);
	struct mq *q;

	for (q = m->buckets[h]; q; q = q->chain)
		if (vs_tuple_eq(&q->t, t))
			return q;
	if (m->nq >= m->nbuckets) {
		unsigned int n = m->nbuckets * 2;
		struct mq **b = calloc(n, sizeof(*b));

		if (b) {
			for (unsigned int i = 0; i < m->nbuckets; i++) {
				while (m->buckets[i]) {
					struct mq *x = m->buckets[i];
					unsigned int k =
						vs_tuple_hash(&x->t) & (n - 1);

					m->buckets[i] = x->chain;
					x->chain = b[k];
					b[k] = x;
				}
			}
			free(m->buckets);
			m->buckets = b;
			m->nbuckets = n;
			h = vs_tuple_hash(t) & (n - 1);
		}
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->t = *t;
	q->chain = m->buckets[h];
	m->buckets[h] = q;
	m->nq++;
	return q;
}

static void list_del(struct ment **head, struct ment **tail, struct ment *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		*head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		*tail = e->prev;
	e->prev = e->next = NULL;
}

static void list_add(struct ment **head, struct ment **tail, struct ment *e)
{
	e->prev = *tail;
	e->next = NULL;
	if (*tail)
		(*tail)->next = e;
	else
		*head = e;
	*tail = e;
}

static void fifo_push(struct fifo *f, struct ment *e)
{
	e->fnext = NULL;
	e->in_fifo = true;
	if (f->tail)
		f->tail->fnext = e;
	else
		f->head = e;
	f->tail = e;
}

/* an entry leaves its tuple list; freed now, or when its FIFO pops it */
static void retire(struct vs_matcher *m, struct ment *e, bool tx)
{
	if (tx)
		list_del(&e->q->tx_head, &e->q->tx_tail, e);
	else
		list_del(&e->q->rx_head, &e->q->rx_tail, e);
	m->pending--;
	e->done = true;
	if (!e->in_fifo)
		free(e);
}

/* the latencies seen: a running mean and mean deviation */
static void learn_latency(struct vs_matcher *m, const struct vs_pkt_rec *tx,
			  const struct vs_pkt_rec *rx)
{
	double l = (double)rx->ref - (double)tx->ref;

	if (!m->have_lat) {
		m->lat = l;
		m->lat_dev = 0;
		m->have_lat = true;
		m->atypical = 0;
		return;
	}
	/*
	 * A latency far from what the flows showed so far (a burst that
	 * waited in the sender's queue, paired by order alone) teaches
	 * nothing: it would drag the mean through the burst. A latency that
	 * changed for good is learnt anew after a run of them.
	 */
	if (fabs(l - m->lat) >
	    fmax(4 * m->lat_dev, fabs(m->lat)) + 2 * TS_RES) {
		if (++m->atypical >= 64)
			m->have_lat = false;
		return;
	}
	m->atypical = 0;
	m->lat_dev += (fabs(l - m->lat) - m->lat_dev) / 16;
	m->lat += (l - m->lat) / 16;
}

/* could @tx be @rx's send, by the latencies seen so far? */
static bool typical(const struct vs_matcher *m, const struct ment *tx,
		    const struct vs_pkt_rec *rx)
{
	double l = (double)rx->ref - (double)tx->r.ref;

	return fabs(l - m->lat) <=
	       3 * m->lat_dev + fabs(m->lat) / 4 + 2 * TS_RES;
}

/*
 * A device may deliver one sent packet in pieces, each with its own header
 * (vhost splits a host packet across the guest's receive buffers, which
 * Linux makes a little under 4 KiB): the receive that starts at the send's
 * first byte and holds fewer bytes is its first piece, and pairs with it.
 * The pieces after it start inside a send already paired and pair with
 * nothing (an unmatched receive is no finding). Stream offsets must say
 * so: without them, lengths alone would pair anything. A first piece that
 * the clock model put before its send (within the tolerance) is taken for
 * one only while no send of the stream was lost (delta 0): after a loss,
 * a receive after a lost send looks the same, and pairing it so would
 * shift every pair after it.
 */
static bool first_frag(const struct mq *q, const struct vs_pkt_rec *tx,
		       const struct vs_pkt_rec *rx)
{
	return tx->op == VS_OP_RW && rx->op == VS_OP_RW && tx->has_off &&
	       rx->has_off && rx->len < tx->len &&
	       (int64_t)tx->off == (int64_t)rx->off + q->delta;
}

int vs_matcher_add(struct vs_matcher *m, const struct vs_pkt_rec *r)
{
	struct mq *q = mq_get(m, &r->t);
	struct ment *e, *best = NULL, *oldest = NULL;
	double best_d = 0;

	if (!q)
		return -ENOMEM;
	if (r->tx) {
		/* a receive that the clock model put before its send */
		for (e = q->rx_head; e; e = e->next) {
			/* strict: only by offset, or within the timestamps'
			 * resolution (a tie) */
			if (m->strict && (!e->r.has_off || !r->has_off) &&
			    e->r.ref + 2 * TS_RES < r->ref)
				continue;
			if (e->r.system != r->system &&
			    e->r.ref + m->tol >= r->ref &&
			    ((e->r.op == r->op && e->r.len == r->len &&
			      (!e->r.has_off || !r->has_off ||
			       (int64_t)r->off ==
				       (int64_t)e->r.off + q->delta)) ||
			     /* the first piece of a split send, by offset,
			      * no losses before it on this stream */
			     (!q->delta && first_frag(q, r, &e->r)))) {
				struct ment tmp = *e;

				retire(m, e, false);
				learn_latency(m, r, &tmp.r);
				m->fn(m->ctx, r, &tmp.r);
				return 0;
			}
		}
	} else {
		/*
		 * Data of a stream whose start both captures saw: the byte
		 * offset says which send this is. When it is not the send
		 * waiting at that offset, but a later one is and every send
		 * in between still waits (contiguous), those were lost: the
		 * receiver's offsets are behind by their bytes from now on.
		 * A receive whose send already expired (it came too late)
		 * matches nothing and changes nothing.
		 */
		if (r->has_off && r->op == VS_OP_RW) {
			int64_t want = (int64_t)r->off + q->delta;
			bool skipped = false;
			struct ment *frag = NULL;

			for (e = q->tx_head; e; e = e->next) {
				if (!e->r.has_off || e->r.op != VS_OP_RW)
					continue;
				if ((int64_t)e->r.off < want)
					continue; /* older: left to expire */
				if ((int64_t)e->r.off > want)
					break; /* a gap: not ours */
				if (e->r.len == r->len) {
					best = e;
					break;
				}
				/* the first piece of this send, unless sends
				 * lost before one of its length explain it */
				if (!skipped && first_frag(q, &e->r, r))
					frag = e;
				/* a send of another length here: lost? */
				want += e->r.len;
				skipped = true;
			}
			/* a flow whose receives came in pieces before: a
			 * piece again, however its length looks */
			if (frag && (q->pieces || !best))
				best = frag;
			if (best == frag && frag)
				q->pieces = true;
			else if (best && skipped)
				q->delta =
					(int64_t)best->r.off - (int64_t)r->off;
		}
		/*
		 * Without offsets: the send whose latency is closest to the
		 * flows' so far, among those it could be (an older one left
		 * behind was lost), or the oldest when none could. In order
		 * (vs_matcher_set_in_order), control packets pair with the
		 * oldest send that fits: a queue delivers a flow's packets in
		 * order, and a burst of them, all alike, can wait in the
		 * sender's queue for milliseconds, then come within
		 * microseconds.
		 */
		for (e = best ? NULL : q->tx_head; e; e = e->next) {
			double d;

			if (e->r.op != r->op || e->r.len != r->len)
				continue;
			/* offsets known on both sides and not fitting */
			if (r->has_off && e->r.has_off)
				continue;
			if (e->r.ref > r->ref + m->tol)
				break;
			if (!oldest)
				oldest = e;
			/* loopback: send and receive on one system is fine */
			if (!m->have_lat ||
			    (m->in_order && r->op != VS_OP_RW)) {
				best = e;
				break;
			}
			if (!typical(m, e, r))
				continue;
			d = fabs((double)r->ref - (double)e->r.ref - m->lat);
			if (!best || d < best_d) {
				best = e;
				best_d = d;
			}
		}
		if (!best)
			best = oldest;
		if (best) {
			struct ment tmp = *best;

			retire(m, best, true);
			learn_latency(m, &tmp.r, r);
			m->fn(m->ctx, &tmp.r, r);
			return 0;
		}
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->r = *r;
	e->q = q;
	m->pending++;
	if (r->tx) {
		list_add(&q->tx_head, &q->tx_tail, e);
		if (!r->unbounded) {
			e->deadline = r->ref + m->window;
			fifo_push(&m->txf, e);
		}
	} else {
		list_add(&q->rx_head, &q->rx_tail, e);
		e->deadline = r->ref + m->tol;
		fifo_push(&m->rxf, e);
	}
	return 0;
}

static void expire(struct vs_matcher *m, struct fifo *f, bool tx, uint64_t now,
		   bool all)
{
	while (f->head && (all || f->head->deadline < now)) {
		struct ment *e = f->head;

		f->head = e->fnext;
		if (!f->head)
			f->tail = NULL;
		/* still in_fifo: retire() leaves the freeing to us */
		if (e->done) {
			free(e);
			continue;
		}
		retire(m, e, tx);
		if (tx)
			m->fn(m->ctx, &e->r, NULL);
		else
			m->fn(m->ctx, NULL, &e->r);
		free(e);
	}
}

uint64_t vs_matcher_next_deadline(const struct vs_matcher *m)
{
	uint64_t t = UINT64_MAX;

	if (m->txf.head)
		t = m->txf.head->deadline;
	if (m->rxf.head && m->rxf.head->deadline < t)
		t = m->rxf.head->deadline;
	return t;
}

uint64_t vs_matcher_advance(struct vs_matcher *m, uint64_t now)
{
	expire(m, &m->txf, true, now, false);
	expire(m, &m->rxf, false, now, false);
	return vs_matcher_next_deadline(m);
}

void vs_matcher_flush(struct vs_matcher *m)
{
	expire(m, &m->txf, true, 0, true);
	expire(m, &m->rxf, false, 0, true);
	/* unbounded sends, in each tuple's order */
	for (unsigned int i = 0; i < m->nbuckets; i++) {
		for (struct mq *q = m->buckets[i]; q; q = q->chain) {
			while (q->tx_head) {
				struct ment *e = q->tx_head;
				struct vs_pkt_rec r = e->r;

				retire(m, e, true);
				m->fn(m->ctx, &r, NULL);
			}
		}
	}
}

void vs_matcher_set_strict(struct vs_matcher *m, bool strict)
{
	m->strict = strict;
}

void vs_matcher_set_in_order(struct vs_matcher *m, bool in_order)
{
	m->in_order = in_order;
}

uint64_t vs_matcher_pending(const struct vs_matcher *m)
{
	return m->pending;
}

void vs_matcher_free(struct vs_matcher *m)
{
	if (!m)
		return;
	for (unsigned int i = 0; i < m->nbuckets; i++) {
		struct mq *q = m->buckets[i];

		while (q) {
			struct mq *n = q->chain;
			struct ment *e, *x;

			for (e = q->tx_head; e; e = x) {
				x = e->next;
				if (!e->in_fifo)
					free(e);
				else
					e->done = true;
			}
			for (e = q->rx_head; e; e = x) {
				x = e->next;
				e->done = true;
			}
			free(q);
			q = n;
		}
	}
	for (struct ment *e = m->txf.head, *x; e; e = x) {
		x = e->fnext;
		free(e);
	}
	for (struct ment *e = m->rxf.head, *x; e; e = x) {
		x = e->fnext;
		free(e);
	}
	free(m->buckets);
	free(m);
}

/* ---- offset estimation ---- */

#define CORR_MAX_RECS (2u << 20) /* per system: ~80 MiB at most */

struct crec {
	uint64_t local;
	uint64_t off; /* stream offset, RW with the start seen */
	struct vs_tuple t;
	uint32_t len;
	uint16_t op;
	uint8_t tx;
	uint8_t has_off;
};

struct csys {
	struct crec *v;
	size_t n, cap;
	bool truncated;
	struct vs_cidset cids;
};

struct vs_corr {
	struct vs_flow_table *flows; /* stream offsets */
	unsigned int nsys;
	struct csys sys[VS_MAX_SYSTEMS];
};

struct vs_corr *vs_corr_new(unsigned int nsys)
{
	struct vs_corr *c;

	if (nsys > VS_MAX_SYSTEMS) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->nsys = nsys;
	c->flows = vs_flow_table_new();
	if (!c->flows) {
		free(c);
		return NULL;
	}
	return c;
}

void vs_corr_free(struct vs_corr *c)
{
	if (!c)
		return;
	for (unsigned int i = 0; i < c->nsys; i++)
		free(c->sys[i].v);
	vs_flow_table_free(c->flows);
	free(c);
}

bool vs_corr_owns(const struct vs_corr *c, unsigned int sys, uint64_t cid)
{
	return vs_cidset_has(&c->sys[sys].cids, cid);
}

unsigned int vs_corr_cids(const struct vs_corr *c, unsigned int sys,
			  const uint64_t **cids)
{
	*cids = c->sys[sys].cids.cid;
	return c->sys[sys].cids.n;
}

int vs_corr_add(struct vs_corr *c, const struct vs_event *ev)
{
	struct vs_flow *f;
	struct csys *s;
	struct crec *r;

	if (!vs_event_is_pkt(ev) || ev->system >= c->nsys)
		return 0;
	s = &c->sys[ev->system];
	vs_cidset_add(&s->cids, ev->kind == VS_EV_PKT_TX ? ev->pkt.src_cid :
							   ev->pkt.dst_cid);
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;

		if (s->n >= CORR_MAX_RECS) {
			s->truncated = true;
			return 0;
		}
		r = realloc(s->v, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		s->v = r;
		s->cap = cap;
	}
	r = &s->v[s->n++];
	r->local = ev->ts_ns;
	r->t = vs_tuple_of(&ev->pkt);
	r->len = ev->pkt.len;
	r->op = ev->pkt.op;
	r->tx = ev->kind == VS_EV_PKT_TX;
	/* byte offsets in the stream, as the engine counts them */
	f = vs_flow_get(c->flows, ev->system, &r->t, true);
	if (!f)
		return -ENOMEM;
	if (r->op == VS_OP_REQUEST || r->op == VS_OP_RESPONSE) {
		struct vs_tuple rt = vs_tuple_reverse(r->t);
		struct vs_flow *rev =
			vs_flow_get(c->flows, ev->system, &rt, true);

		if (!rev)
			return -ENOMEM;
		vs_credit_start(&f->cr);
		vs_credit_start(&rev->cr);
	}
	if (r->op == VS_OP_RW) {
		if (r->tx)
			f->tx_bytes += r->len;
		else
			f->rx_bytes += r->len;
		r->has_off = vs_flow_stream_offset(f, r->tx, &ev->pkt, &r->off);
	}
	return 0;
}

/* one record in a pair's candidate search */
struct cand_rec {
	uint64_t key;
	uint64_t local;
	uint8_t role; /* 0 x sends, 1 y receives, 2 y sends, 3 x receives */
};

static int cmp_cand(const void *a, const void *b)
{
	const struct cand_rec *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->role != y->role)
		return x->role < y->role ? -1 : 1;
	return x->local < y->local ? -1 : x->local > y->local;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t rec_key(const struct crec *r)
{
	struct vs_tuple t = r->t;
	uint64_t h = vs_tuple_hash(&t);

	return (h << 32) ^ ((uint64_t)r->op << 24) ^ r->len ^
	       (t.src_port * 0x9e3779b1ull << 20);
}

struct vec {
	int64_t *v;
	size_t n, cap;
};

static int vec_push(struct vec *v, int64_t x)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1024;
		int64_t *p = realloc(v->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		v->v = p;
		v->cap = cap;
	}
	v->v[v->n++] = x;
	return 0;
}

/* does record r of system s travel between x and y? role or -1 */
static int role_of(const struct vs_corr *c, unsigned int s, unsigned int x,
		   unsigned int y, const struct crec *r)
{
	unsigned int other = s == x ? y : x;

	if (r->tx && vs_corr_owns(c, other, r->t.dst_cid))
		return s == x ? 0 : 2;
	if (!r->tx && vs_corr_owns(c, other, r->t.src_cid))
		return s == x ? 3 : 1;
	return -1;
}

/* candidate offsets (of y against x) by aligning each key's packets */
static int candidates(struct vs_corr *c, unsigned int x, unsigned int y,
		      struct vec *out)
{
	struct cand_rec *a;
	size_t n = 0, cap = c->sys[x].n + c->sys[y].n;
	int err = 0;

	a = malloc((cap ? cap : 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	for (unsigned int k = 0; k < 2; k++) {
		unsigned int s = k ? y : x;

		for (size_t i = 0; i < c->sys[s].n; i++) {
			const struct crec *r = &c->sys[s].v[i];
			int role = role_of(c, s, x, y, r);

			if (role < 0)
				continue;
			a[n].key = rec_key(r);
			a[n].local = r->local;
			a[n].role = (uint8_t)role;
			n++;
		}
	}
	qsort(a, n, sizeof(*a), cmp_cand);
	for (size_t i = 0; i < n && !err;) {
		size_t j = i, rs[5];

		/* [rs[role], rs[role+1]) holds the records of each role */
		for (unsigned int role = 0; role < 4; role++) {
			rs[role] = j;
			while (j < n && a[j].key == a[i].key &&
			       a[j].role == role)
				j++;
		}
		rs[4] = j;
		while (j < n && a[j].key == a[i].key)
			j++;
		for (unsigned int dir = 0; dir < 2 && !err; dir++) {
			size_t s0 = rs[dir * 2], s1 = rs[dir * 2 + 1];
			size_t r0 = rs[dir * 2 + 1], r1 = rs[dir * 2 + 2];
			size_t ns = s1 - s0, nr = r1 - r0, m, q;

			m = ns < nr ? ns : nr;
			if (m > 64)
				m = 64; /* enough to vote; bounds come later */
			for (q = 0; q < m && !err; q++) {
				/* aligned from the start, and from the end */
				int64_t d1 = (int64_t)a[s0 + q].local -
					     (int64_t)a[r0 + q].local;
				int64_t d2 = (int64_t)a[s1 - 1 - q].local -
					     (int64_t)a[r1 - 1 - q].local;

				/* x sends: off >= tx - rx; y sends: off <=
				 * rx - tx; both near the true offset */
				err = vec_push(out, dir ? -d1 : d1);
				if (!err && ns != nr)
					err = vec_push(out, dir ? -d2 : d2);
			}
		}
		i = j;
	}
	free(a);
	return err;
}

struct pair_ctx {
	unsigned int x, y;
	struct vec lo_t, lo_v; /* off >= v, at time t */
	struct vec hi_t, hi_v; /* off <= v */
	bool bent;	       /* no line fitted them, even trimmed */
	int err;
};

static void on_pair(void *ctx, const struct vs_pkt_rec *tx,
		    const struct vs_pkt_rec *rx)
{
	struct pair_ctx *p = ctx;

	if (!tx || !rx || p->err)
		return;
	/*
	 * Traces print microseconds, rounded down: each time may be up to
	 * TS_RES early, so a difference of two is known to within TS_RES
	 * either way. The bounds give that much room.
	 */
	if (tx->system == p->x) {
		p->err = vec_push(&p->lo_t, (int64_t)tx->local);
		if (!p->err)
			p->err = vec_push(&p->lo_v, (int64_t)tx->local -
							    (int64_t)rx->local -
							    TS_RES);
	} else {
		p->err = vec_push(&p->hi_t, (int64_t)rx->local);
		if (!p->err)
			p->err = vec_push(&p->hi_v, (int64_t)rx->local -
							    (int64_t)tx->local +
							    TS_RES);
	}
}

static int cmp_rec_ref(const void *a, const void *b)
{
	const struct vs_pkt_rec *x = a, *y = b;

	return x->ref < y->ref ? -1 : x->ref > y->ref;
}

/* match x and y on offset @off; fills p with the bounds of the pairs */
/* y's records are put on x's clock by @ck when given (offset and drift),
 * else by the constant @off */
static int match_pair(struct vs_corr *c, unsigned int x, unsigned int y,
		      int64_t off, const struct vs_clock *ck, uint64_t tol,
		      uint64_t window, bool only_off, bool strict,
		      struct pair_ctx *p)
{
	struct vs_pkt_rec *v;
	struct vs_matcher *m;
	size_t n = 0;
	int err = 0;

	v = malloc((c->sys[x].n + c->sys[y].n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (unsigned int k = 0; k < 2; k++) {
		unsigned int s = k ? y : x;

		for (size_t i = 0; i < c->sys[s].n; i++) {
			const struct crec *r = &c->sys[s].v[i];
			int64_t ref = !k ? (int64_t)r->local :
				      ck ? vs_clock_to_ref(ck, r->local) :
					   (int64_t)r->local + off;

			if (role_of(c, s, x, y, r) < 0 || ref < 0 ||
			    (only_off && !r->has_off))
				continue;
			memset(&v[n], 0, sizeof(v[n]));
			v[n].ref = (uint64_t)ref;
			v[n].local = r->local;
			v[n].t = r->t;
			v[n].len = r->len;
			v[n].op = r->op;
			v[n].system = (uint16_t)s;
			v[n].tx = r->tx;
			v[n].has_off = r->has_off;
			v[n].off = r->off;
			n++;
		}
	}
	qsort(v, n, sizeof(*v), cmp_rec_ref);
	m = vs_matcher_new(window, tol, on_pair, p);
	if (!m) {
		free(v);
		return -ENOMEM;
	}
	vs_matcher_set_strict(m, strict);
	for (size_t i = 0; i < n && !err; i++) {
		vs_matcher_advance(m, v[i].ref);
		err = vs_matcher_add(m, &v[i]);
	}
	vs_matcher_flush(m);
	vs_matcher_free(m);
	free(v);
	return err ? err : p->err;
}

static void pair_reset(struct pair_ctx *p)
{
	free(p->lo_t.v);
	free(p->lo_v.v);
	free(p->hi_t.v);
	free(p->hi_v.v);
	memset(&p->lo_t, 0, 4 * sizeof(struct vec));
	p->bent = false;
	p->err = 0;
}

static void bounds_at(const struct pair_ctx *p, double k, int64_t t0,
		      double *lo, double *hi)
{
	*lo = -INFINITY;
	*hi = INFINITY;
	for (size_t i = 0; i < p->lo_v.n; i++) {
		double v = (double)p->lo_v.v[i] -
			   k * ((double)p->lo_t.v[i] - (double)t0);

		if (v > *lo)
			*lo = v;
	}
	for (size_t i = 0; i < p->hi_v.n; i++) {
		double v = (double)p->hi_v.v[i] -
			   k * ((double)p->hi_t.v[i] - (double)t0);

		if (v < *hi)
			*hi = v;
	}
}

/* the index of the largest (@low) or smallest residual, and the runner-up */
static void extremes(const struct vec *t, const struct vec *v, double k,
		     int64_t t0, bool low, size_t *best, double *b1, double *b2)
{
	*b1 = low ? -INFINITY : INFINITY;
	*b2 = *b1;
	*best = SIZE_MAX;
	for (size_t i = 0; i < v->n; i++) {
		double x = (double)v->v[i] - k * ((double)t->v[i] - (double)t0);

		if (low ? x > *b1 : x < *b1) {
			*b2 = *b1;
			*b1 = x;
			*best = i;
		} else if (low ? x > *b2 : x < *b2) {
			*b2 = x;
		}
	}
}

static void vec_del(struct vec *v, size_t i)
{
	v->v[i] = v->v[--v->n];
}

/*
 * Crossed bounds (a lower bound above an upper one) mean a pair was
 * matched wrongly: a packet paired with another that looked the same.
 * Drop the extreme that stands out most from its neighbour, a few times
 * at most, until the bounds agree.
 */
static void trim_outliers(struct pair_ctx *p, double k, int64_t t0)
{
	size_t li, hi_i;
	double l1, l2, h1, h2;

	for (int n = 0; n < 64 && p->lo_v.n > 1 && p->hi_v.n > 1; n++) {
		extremes(&p->lo_t, &p->lo_v, k, t0, true, &li, &l1, &l2);
		extremes(&p->hi_t, &p->hi_v, k, t0, false, &hi_i, &h1, &h2);
		if (l1 <= h1)
			return;
		if (l1 - l2 >= h2 - h1) {
			vec_del(&p->lo_t, li);
			vec_del(&p->lo_v, li);
		} else {
			vec_del(&p->hi_t, hi_i);
			vec_del(&p->hi_v, hi_i);
		}
	}
}

/*
 * From pairs to a clock: drift from the two halves when the capture is long
 * enough and both halves are bounded from both sides, then the offset at
 * the anchor as the middle of the tightest bounds.
 */
static double width_at(const struct pair_ctx *p, double k, int64_t t0)
{
	double lo, hi;

	bounds_at(p, k, t0, &lo, &hi);
	return hi - lo;
}

static double lo_at(const struct pair_ctx *p, double k, int64_t t0)
{
	double lo, hi;

	bounds_at(p, k, t0, &lo, &hi);
	return lo;
}

static double hi_at(const struct pair_ctx *p, double k, int64_t t0)
{
	double lo, hi;

	bounds_at(p, k, t0, &lo, &hi);
	return hi;
}

/* the extremum of f over [a, b]; f unimodal there (max: @max) */
static double ternary(double (*f)(const struct pair_ctx *, double, int64_t),
		      const struct pair_ctx *p, int64_t t0, double a, double b,
		      bool max)
{
	for (int i = 0; i < 100; i++) {
		double m1 = a + (b - a) / 3, m2 = b - (b - a) / 3;
		double f1 = f(p, m1, t0), f2 = f(p, m2, t0);

		if (max ? f1 < f2 : f1 > f2)
			a = m1;
		else
			b = m2;
	}
	return (a + b) / 2;
}

/* from @in (a drift that fits) towards @out (one that may not): the last
 * drift that still fits, by bisection */
static double fit_edge(const struct pair_ctx *p, int64_t t0, double in,
		       double out)
{
	for (int i = 0; i < 80; i++) {
		double m = (in + out) / 2;

		if (width_at(p, m, t0) >= 0)
			in = m;
		else
			out = m;
	}
	return in;
}

/*
 * Offset and drift together: every pair says off(t) = off0 + k (t - t0)
 * lies above (x sent) or below (y sent) a value. For a drift k the offset
 * at t0 lies in [lo(k), hi(k)]; lo is convex in k, hi concave, so the
 * drifts consistent with every pair form an interval around the one
 * leaving the widest room. Over that interval the offset at t0 ranges from
 * the least lo to the greatest hi: the truth is in there, whatever the
 * drift. The drift reported is the middle of those that fit. Returns
 * false when no drift fits every pair.
 */
static bool fit_drift(const struct pair_ctx *p, int64_t t0, double *k,
		      double *lo, double *hi, double *ka, double *kb)
{
	/* clocks drift by tens of ppm; 250 covers the worst seen, and bounds
	 * the answer when few pairs run one way */
	const double lim = 250e-6;
	double kc = ternary(width_at, p, t0, -lim, lim, true), a, b;

	*k = kc;
	if (width_at(p, kc, t0) < 0)
		return false;
	a = fit_edge(p, t0, kc, -lim); /* the first drift that fits */
	b = fit_edge(p, t0, kc, lim); /* the last one */
	*lo = lo_at(p, ternary(lo_at, p, t0, a, b, false), t0);
	*hi = hi_at(p, ternary(hi_at, p, t0, a, b, true), t0);
	*k = (a + b) / 2; /* the middle of the drifts that fit */
	*ka = a;
	*kb = b;
	return true;
}

/*
 * From pairs to a clock. With both directions over a second or more, the
 * drift is fitted with the offset (fit_drift); else the drift is taken as
 * 0 and the bounds are the tightest pair each way. Pairs that contradict
 * the rest (matched wrongly) are dropped first.
 */
static void fit_clock(struct pair_ctx *p, struct vs_clock *ck)
{
	int64_t tmin = INT64_MAX, tmax = INT64_MIN, t0;
	double lo = -INFINITY, hi = INFINITY, k = 0;
	struct vec *tv[2] = { &p->lo_t, &p->hi_t };

	for (unsigned int s = 0; s < 2; s++) {
		for (size_t i = 0; i < tv[s]->n; i++) {
			if (tv[s]->v[i] < tmin)
				tmin = tv[s]->v[i];
			if (tv[s]->v[i] > tmax)
				tmax = tv[s]->v[i];
		}
	}
	t0 = tmin + (tmax - tmin) / 2;
	if (tmax - tmin >= 50000000ll && p->lo_t.n && p->hi_t.n) {
		double ka = 0, kb = 0, mid;
		int n;

		for (n = 0; n < 8 && !fit_drift(p, t0, &k, &lo, &hi, &ka, &kb);
		     n++)
			trim_outliers(p, k, t0);
		if (n == 8) {
			p->bent = true;
			bounds_at(p, k, t0, &lo, &hi);
		} else {
			/*
			 * The uncertainty holds over the whole capture: at
			 * its ends, how far any fitting (offset, drift) is
			 * from the line reported.
			 */
			mid = (lo + hi) / 2;
			for (int end = 0; end < 2; end++) {
				int64_t t = end ? tmax : tmin;
				double est = mid + k * (double)(t - t0);
				double l = lo_at(
					p, ternary(lo_at, p, t, ka, kb, false),
					t);
				double h = hi_at(
					p, ternary(hi_at, p, t, ka, kb, true),
					t);

				if (est - l > (hi - lo) / 2)
					lo = mid - (est - l);
				if (h - est > (hi - lo) / 2)
					hi = mid + (h - est);
			}
		}
	} else {
		trim_outliers(p, 0, t0);
		bounds_at(p, 0, t0, &lo, &hi);
	}
	ck->known = true;
	ck->pairs = p->lo_v.n + p->hi_v.n;
	/*
	 * The pairs' times are on the reference clock's side for lows and
	 * highs alike (x's local times, x being the reference), so the
	 * drift is per reference nanosecond; the anchor is where it is 0.
	 */
	ck->drift_ppm = -k * 1e6;
	if (p->lo_v.n && p->hi_v.n) {
		ck->offset_ns = (int64_t)llround((lo + hi) / 2);
		ck->has_uncertainty = true;
		ck->uncertainty_ns = (uint64_t)llround(fabs(hi - lo) / 2);
		snprintf(ck->note, sizeof(ck->note),
			 "%" PRIu64 " packet pairs in both directions%s",
			 ck->pairs, lo > hi ? " (bounds disagree)" : "");
	} else if (p->lo_v.n) {
		ck->offset_ns = (int64_t)llround(lo);
		snprintf(ck->note, sizeof(ck->note),
			 "%" PRIu64 " pairs, one direction only: a lower bound",
			 ck->pairs);
	} else {
		ck->offset_ns = (int64_t)llround(hi);
		snprintf(ck->note, sizeof(ck->note),
			 "%" PRIu64
			 " pairs, one direction only: an upper bound",
			 ck->pairs);
	}
	/* off(t) = off0 + k (t - t0) in x's time = y's time + off0 */
	ck->anchor = t0 - ck->offset_ns;
}

#define ROUGH_TIGHT_NS 1000000 /* a cluster of votes within a latency */

/* the most values of sorted @v within @width: how many, and the first */
static void densest(const struct vec *v, int64_t width, size_t *best,
		    size_t *first)
{
	*best = 0;
	*first = 0;
	for (size_t i = 0, j = 0; i < v->n; i++) {
		while (v->v[i] - v->v[j] > width)
			j++;
		if (i - j + 1 > *best) {
			*best = i - j + 1;
			*first = j;
		}
	}
}

/* add @s to the end of @ck's note, cut to fit */
static void note_add(struct vs_clock *ck, const char *s)
{
	size_t n = strlen(ck->note);

	snprintf(ck->note + n, sizeof(ck->note) - n, "%s", s);
}

static size_t count_off(const struct vs_corr *c, unsigned int s)
{
	size_t n = 0;

	for (size_t i = 0; i < c->sys[s].n && n < 16; i++)
		n += c->sys[s].v[i].has_off;
	return n;
}

/*
 * Clock of y against x: off such that x_time = y_time + off. The drift
 * found is in x's time; converted to y's local time it differs by a
 * negligible second-order term.
 */
static int estimate_pair(struct vs_corr *c, unsigned int x, unsigned int y,
			 uint64_t max_lat, struct vs_clock *ck)
{
	struct vec cand = { 0 };
	struct pair_ctx p = { .x = x, .y = y };
	size_t best = 0, bi = 0;
	int64_t rough;
	int err;

	memset(ck, 0, sizeof(*ck));
	err = candidates(c, x, y, &cand);
	if (err || !cand.n) {
		free(cand.v);
		return err;
	}
	qsort(cand.v, cand.n, sizeof(*cand.v), cmp_i64);
	densest(&cand, (int64_t)max_lat, &best, &bi);
	/*
	 * Aligned from the start and from the end, a key's packets vote for
	 * two offsets when the captures began together but one ran longer
	 * (a live stream ahead of the other): as many votes each. The true
	 * one's lie within the packets' latency, the other's spread by the
	 * jitter of every gap between: when a millisecond holds a quarter
	 * of the votes, that millisecond it is.
	 */
	{
		size_t nbest = 0, nbi = 0;

		densest(&cand, ROUGH_TIGHT_NS, &nbest, &nbi);
		if (nbest * 4 >= best) {
			best = nbest;
			bi = nbi;
		}
	}
	rough = cand.v[bi + best / 2];
	free(cand.v);

	/* pair on the rough offset, then again on the refined one */
	/*
	 * The rough offset may be off by up to max_lat: pair only data whose
	 * stream offsets say which is which, when there is enough of it; a
	 * credit update, all alike, could pair with its neighbour.
	 */
	err = match_pair(c, x, y, rough, NULL, max_lat, max_lat,
			 count_off(c, x) >= 16 && count_off(c, y) >= 16, false,
			 &p);
	if (err)
		goto out;
	if (!p.lo_v.n && !p.hi_v.n)
		goto out;
	fit_clock(&p, ck);
	/* again on the refined offset, every packet: a one-sided estimate is
	 * off by no more than the fastest packet's latency */
	{
		int64_t off = ck->offset_ns;
		uint64_t tol =
			(ck->has_uncertainty ? ck->uncertainty_ns * 2 : 0) +
			1000000;
		struct vs_clock first = *ck;
		bool bent = p.bent;

		/* on the refined clock a receive seldom comes before its
		 * send: pair those only by offset */
		pair_reset(&p);
		err = match_pair(c, x, y, off, &first, tol, max_lat, false,
				 true, &p);
		if (err)
			goto out;
		if (p.lo_v.n || p.hi_v.n)
			fit_clock(&p, ck);
		/*
		 * The second pass pairs only what lies near the first line:
		 * when no line fitted all the first pass's pairs, its fit
		 * looks tighter than it is. A clock whose rate changed (an
		 * NTP slew) does that, and so do pairs matched wrongly.
		 */
		if (bent || p.bent)
			note_add(ck, "; no one line fits them all: the drift "
				     "may have changed");
	}
out:
	pair_reset(&p);
	return err;
}

int vs_corr_estimate(struct vs_corr *c, struct vs_clock *clocks,
		     uint64_t max_latency_ns)
{
	int err;

	memset(clocks, 0, c->nsys * sizeof(*clocks));
	clocks[0].known = true;
	clocks[0].has_uncertainty = true;
	snprintf(clocks[0].note, sizeof(clocks[0].note), "reference clock");
	for (unsigned int y = 1; y < c->nsys; y++) {
		err = estimate_pair(c, 0, y, max_latency_ns, &clocks[y]);
		if (err)
			return err;
	}
	/* systems that share no traffic with the reference: through others */
	for (unsigned int y = 1; y < c->nsys; y++) {
		if (clocks[y].known)
			continue;
		for (unsigned int x = 1; x < c->nsys; x++) {
			struct vs_clock ck;

			if (x == y || !clocks[x].known)
				continue;
			err = estimate_pair(c, x, y, max_latency_ns, &ck);
			if (err)
				return err;
			if (!ck.known)
				continue;
			ck.offset_ns += clocks[x].offset_ns;
			ck.drift_ppm += clocks[x].drift_ppm;
			if (ck.has_uncertainty && clocks[x].has_uncertainty)
				ck.uncertainty_ns += clocks[x].uncertainty_ns;
			else
				ck.has_uncertainty = false;
			clocks[y] = ck;
			break;
		}
	}
	for (unsigned int y = 1; y < c->nsys; y++) {
		if (!clocks[y].known)
			snprintf(clocks[y].note, sizeof(clocks[y].note),
				 "no packet of one capture matched the other");
		else if (c->sys[y].truncated || c->sys[0].truncated)
			note_add(&clocks[y], " (first 2M packets)");
	}
	return 0;
}
