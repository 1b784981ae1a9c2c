// SPDX-License-Identifier: GPL-2.0-only
/*
 * The collector behind vsocktop (see top.h). Every event goes through the
 * engine first, so the credit, the stalls and the findings are the
 * report's; the collector only adds what a live view needs: connection
 * rows over the engine's per-system flow entries, rates per tick, credit
 * history and recent packets.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "detect.h"
#include "fmt.h"
#include "report.h"
#include "slab.h"
#include "top.h"

#define VS_TOP_FMAX 256 /* finished findings kept for display */
/*
 * Rows come ROW_SLAB to a slab (about 112 KiB, see slab.h). A row's first
 * cache line is what every packet touches, so rows start on one. A row
 * forgotten (forget()) goes, zeroed, to a list the next rows come from.
 */
#define ROW_SLAB 64
#define ROW_SLAB_BYTES (ROW_SLAB * sizeof(struct vs_top_row))

_Static_assert(offsetof(struct vs_top_row, next) <= 64,
	       "a packet touches more than the row's first cache line");
_Static_assert(sizeof(struct vs_top_row) % 64 == 0,
	       "rows in a slab do not start on a cache line");

struct vs_top {
	struct vs_engine *e;
	unsigned int nsys;
	struct vs_top_sys sys[VS_MAX_SYSTEMS];
	struct vs_top_sys prev[VS_MAX_SYSTEMS]; /* totals at the last tick */
	struct vs_top_row **rows; /* in the order they came: slab by slab */
	struct vs_slabs slabs; /* the rows */
	struct vs_top_row *spare; /* zeroed, linked by next */
	unsigned int nrows, cap;
	uint64_t forgotten; /* connections dropped from memory */
	struct vs_top_row **hash;
	unsigned int hsize; /* power of two */
	size_t fseen; /* engine findings counted into rows */
	struct vs_top_finding *fv;
	unsigned int nf;
	uint64_t last_tick, interval;
	uint64_t first_ref; /* the first event's time */
	uint64_t keep_closed;
	bool any;
	bool ticked, finished;
	FILE *mem; /* for finding lines */
	char *membuf;
	size_t memlen;
};

struct vs_top *vs_top_new(const struct vs_options *opt, unsigned int nsys,
			  const char *const *names)
{
	struct vs_top *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nsys = nsys;
	t->e = vs_engine_new(opt, nsys, names);
	t->hsize = 1024;
	t->hash = calloc(t->hsize, sizeof(*t->hash));
	t->fv = calloc(VS_TOP_FMAX + VS_MAX_SYSTEMS * 64, sizeof(*t->fv));
	if (!t->e || !t->hash || !t->fv) {
		vs_top_free(t);
		errno = ENOMEM;
		return NULL;
	}
	for (unsigned int i = 0; i < nsys; i++)
		snprintf(t->sys[i].name, sizeof(t->sys[i].name), "%s",
			 names[i]);
	t->keep_closed = UINT64_MAX;
	t->slabs.size = ROW_SLAB_BYTES;
	return t;
}

void vs_top_free(struct vs_top *t)
{
	if (!t)
		return;
	vs_slabs_free(&t->slabs);
	free(t->rows);
	free(t->hash);
	free(t->fv);
	vs_engine_free(t->e);
	if (t->mem)
		fclose(t->mem);
	free(t->membuf);
	free(t);
}

void vs_top_set_keep_closed(struct vs_top *t, uint64_t ns)
{
	t->keep_closed = ns;
}

struct vs_engine *vs_top_engine(struct vs_top *t)
{
	return t->e;
}

/* the connection's key: its two ends in a fixed order */
static struct vs_tuple canon(const struct vs_tuple *p)
{
	if (p->src_cid < p->dst_cid ||
	    (p->src_cid == p->dst_cid && p->src_port <= p->dst_port))
		return *p;
	return vs_tuple_reverse(*p);
}

static bool same_conn(const struct vs_tuple *a, const struct vs_tuple *b)
{
	struct vs_tuple r = vs_tuple_reverse(*b);

	return vs_tuple_eq(a, b) || vs_tuple_eq(a, &r);
}

static int grow(struct vs_top *t)
{
	unsigned int ns = t->hsize * 2;
	struct vs_top_row **h = calloc(ns, sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (unsigned int i = 0; i < t->nrows; i++) {
		struct vs_top_row *r = t->rows[i];
		struct vs_tuple k = canon(&r->t);
		unsigned int b = vs_tuple_hash(&k) & (ns - 1);

		r->next = h[b];
		h[b] = r;
	}
	free(t->hash);
	t->hash = h;
	t->hsize = ns;
	return 0;
}

/* row_get()'s @create: no, yes, yes with @p's source as the A end */
enum { ROW_FIND, ROW_CREATE, ROW_FROM };

static struct vs_top_row *row_get(struct vs_top *t, const struct vs_tuple *p,
				  int create)
{
	struct vs_tuple k = canon(p);
	unsigned int b = vs_tuple_hash(&k) & (t->hsize - 1);
	struct vs_top_row *r;

	for (r = t->hash[b]; r; r = r->next)
		if (same_conn(&r->t, &k))
			return r;
	if (!create)
		return NULL;
	if (t->nrows == t->cap) {
		unsigned int nc = t->cap ? t->cap * 2 : 256;
		struct vs_top_row **v = realloc(t->rows, nc * sizeof(*v));

		if (!v)
			return NULL;
		t->rows = v;
		t->cap = nc;
	}
	if (t->nrows >= t->hsize && grow(t))
		return NULL;
	if (!t->spare) {
		r = vs_slab_get(&t->slabs);
		if (!r)
			return NULL;
		/* the first row of the slab first, as the rows came before */
		for (unsigned int i = ROW_SLAB; i--;) {
			r[i].next = t->spare;
			t->spare = &r[i];
		}
	}
	r = t->spare;
	t->spare = r->next;
	/* a request comes from the initiator, the A end: no flip() later */
	r->t = create == ROW_FROM ? *p : k;
	b = vs_tuple_hash(&k) & (t->hsize - 1);
	r->next = t->hash[b];
	t->hash[b] = r;
	t->rows[t->nrows++] = r;
	return r;
}

#define SWAP(a, b)                        \
	do {                              \
		__typeof__(a) tmp_ = (a); \
		(a) = (b);                \
		(b) = tmp_;               \
	} while (0)

/* the request came from B: make B the A end */
static void flip(struct vs_top_row *r, unsigned int nsys)
{
	r->t = vs_tuple_reverse(r->t);
	SWAP(r->d[0], r->d[1]);
	SWAP(r->prev_bytes[0], r->prev_bytes[1]);
	SWAP(r->prev_pkts[0], r->prev_pkts[1]);
	for (unsigned int i = 0; i < nsys; i++)
		SWAP(r->fl[i][0], r->fl[i][1]);
	for (unsigned int i = 0; i < VS_TOP_RECENT; i++)
		r->recent[i].dir ^= 1;
}

/*
 * A packet the engine analysed, on its connection's row: the row's bytes
 * and packets are its flow entries' (see row_tick()), so a packet only
 * moves the row's times and recent packets.
 */
static void on_pkt(struct vs_top *t, const struct vs_event *ev)
{
	const struct vs_pkt *p = &ev->pkt;
	struct vs_tuple pt = vs_tuple_of(p);
	struct vs_flow *ef = t->e->last_flow;
	struct vs_top_row *r;
	struct vs_top_pkt *rp;
	unsigned int d, s = ev->system;

	if (!ef) /* cut by --until or a filter */
		return;
	/* the engine's flow entry knows its row; the first time, the table */
	r = ef->priv;
	if (!r) {
		r = row_get(t, &pt,
			    p->op == VS_OP_REQUEST ? ROW_FROM : ROW_CREATE);
		if (!r) {
			t->e->err = ENOMEM;
			return;
		}
	}
	/* a request, sent or received, comes from the initiator */
	if (p->op == VS_OP_REQUEST &&
	    (pt.src_cid != r->t.src_cid || pt.src_port != r->t.src_port))
		flip(r, t->nsys);
	d = pt.src_cid == r->t.src_cid && pt.src_port == r->t.src_port ? 0 : 1;
	if (!ef->priv) {
		r->fl[s][d] = ef;
		ef->priv = r;
	}
	if (!r->systems)
		r->first_ts = t->e->now;
	r->systems |= 1u << s;
	r->last_ts = t->e->now;
	r->hidden = false;
	rp = &r->recent[r->rpos];
	r->rpos = (r->rpos + 1) % VS_TOP_RECENT;
	if (r->nrecent < VS_TOP_RECENT)
		r->nrecent++;
	/* stored whole, nothing of the old entry read: that read missed */
	*rp = (struct vs_top_pkt){
		.ts = ev->ts_ns,
		.len = p->len,
		.buf_alloc = p->buf_alloc,
		.fwd_cnt = p->fwd_cnt,
		.op = p->op < 255 ? (uint8_t)p->op : 255,
		.system = (uint8_t)s,
		.dir = (uint8_t)d,
		.rx = ev->kind == VS_EV_PKT_RX,
	};
}

int vs_top_feed(struct vs_top *t, const struct vs_event *ev)
{
	struct vs_top_sys *s;
	int err = vs_engine_feed(t->e, ev);

	if (err)
		return err;
	if (!t->any) {
		t->any = true;
		t->first_ref = t->e->now;
	}
	s = &t->sys[ev->system];
	s->events++;
	switch (ev->kind) {
	case VS_EV_PKT_TX:
	case VS_EV_PKT_RX:
		if (!(ev->present & VS_HAS_HDR))
			break;
		s->pkts++;
		if (ev->pkt.op == VS_OP_RW)
			s->bytes += ev->pkt.len;
		on_pkt(t, ev);
		break;
	case VS_EV_VQ_KICK:
	case VS_EV_MBOX_TX:
		s->kicks++;
		break;
	case VS_EV_IRQ:
	case VS_EV_VQ_IRQ:
	case VS_EV_MBOX_RX:
		s->irqs++;
		break;
	case VS_EV_ALLOC:
		if (ev->alloc.failed)
			s->alloc_failures++;
		break;
	default:
		break;
	}
	return t->e->err ? -t->e->err : 0;
}

void vs_top_prefetch(const struct vs_top *t, const struct vs_event *ev,
		     unsigned int stage, struct vs_prefetch *pf)
{
	struct vs_flow *f;
	const struct vs_top_row *r;

	if (stage == 3) {
		/* the row's first line has come: where its packet goes */
		if (pf->pkt && pf->f && (r = pf->f->priv))
			__builtin_prefetch(&r->recent[r->rpos], 1);
		return;
	}
	f = vs_engine_prefetch(t->e, ev, stage, pf);
	if (stage < 2 || !f || !f->priv)
		return;
	/* what on_pkt() touches of the row, but its recent packet */
	r = f->priv;
	__builtin_prefetch(r, 1);
}

void vs_top_lost(struct vs_top *t, unsigned int sys, uint64_t n)
{
	if (sys < t->nsys)
		t->sys[sys].lost += n;
}

static double rate(uint64_t now, uint64_t prev, uint64_t dt)
{
	return dt ? (double)(now - prev) * 1e9 / (double)dt : 0;
}

/* the entry that holds the sender's view of credit for direction @d */
static struct vs_flow *sender_flow(const struct vs_top *t,
				   const struct vs_top_row *r, unsigned int d)
{
	struct vs_flow *best = NULL;
	uint64_t src = d ? r->t.dst_cid : r->t.src_cid;

	for (unsigned int i = 0; i < t->nsys; i++) {
		struct vs_flow *f = r->fl[i][d];

		if (!f)
			continue;
		if (f->cr.peer_known && vs_engine_owns(t->e, i, src))
			return f;
		if (!best || (f->cr.peer_known && !best->cr.peer_known))
			best = f;
	}
	return best;
}

static void row_tick(struct vs_top *t, struct vs_top_row *r, uint64_t dt,
		     uint64_t now, bool rates)
{
	const struct vs_flow *any = NULL, *anyrev = NULL;

	for (unsigned int d = 0; d < 2; d++) {
		struct vs_top_dir *x = &r->d[d];
		struct vs_flow *f = sender_flow(t, r, d);
		float *last;
		uint64_t start;

		uint64_t btx = 0, brx = 0, ptx = 0, prx = 0;

		/* sent and received, each summed over the systems: the best view */
		for (unsigned int i = 0; i < t->nsys; i++) {
			const struct vs_flow *g = r->fl[i][d];

			if (g) {
				btx += g->tx_bytes;
				brx += g->rx_bytes;
				ptx += g->tx_pkts;
				prx += g->rx_pkts;
			}
		}
		x->bytes = btx > brx ? btx : brx;
		x->pkts = ptx > prx ? ptx : prx;
		if (rates) {
			x->bps = rate(x->bytes, r->prev_bytes[d], dt);
			x->pps = rate(x->pkts, r->prev_pkts[d], dt);
			r->prev_bytes[d] = x->bytes;
			r->prev_pkts[d] = x->pkts;
		}
		/* the oldest sample's slot becomes the newest */
		last = &x->hist[x->hpos];
		x->hpos = (x->hpos + 1) % VS_TOP_HIST;
		if (x->hn < VS_TOP_HIST)
			x->hn++;
		*last = NAN;
		if (!f)
			continue;
		if (!any) {
			any = f;
			anyrev = r->fl[f->system][!d];
		}
		x->credit_known = f->cr.peer_known;
		if (x->credit_known) {
			x->peer_free = vs_credit_peer_free(&f->cr);
			x->buf_alloc = f->cr.peer_buf_alloc;
			x->fwd_cnt = f->cr.peer_fwd_raw;
			*last = (float)x->peer_free;
		}
		x->unmatched = f->unmatched;
		x->stalled = vs_credit_stall_open(f, &start);
		x->stall_start = x->stalled ? start : 0;
		x->stalled_ns = f->stalled_ns +
				(x->stalled && now > start ? now - start : 0);
		x->stalled_long = x->stalled && now > start &&
				  now - start >= t->e->opt.stall_ns;
	}
	/* thousands of rows a tick: a copy, not snprintf() */
	if (any)
		vs_fmt_copy(r->state, sizeof(r->state),
			    vs_flow_state(any, anyrev));
	else if (!r->state[0]) /* not touched when the row was made */
		vs_fmt_copy(r->state, sizeof(r->state), "open");
}

static int line_of(struct vs_top *t, const struct vs_finding *f, char *buf,
		   size_t size)
{
	if (!t->mem) {
		t->mem = open_memstream(&t->membuf, &t->memlen);
		if (!t->mem)
			return -errno;
	}
	rewind(t->mem);
	if (vs_report_finding_line(t->mem, t->e, f) || fflush(t->mem))
		return -EIO;
	snprintf(buf, size, "%.*s",
		 (int)(t->memlen && t->membuf[t->memlen - 1] == '\n' ?
			       t->memlen - 1 :
			       t->memlen),
		 t->membuf);
	return 0;
}

static void ongoing(struct vs_top *t, struct vs_top_row *r, unsigned int d)
{
	const struct vs_top_dir *x = &r->d[d];
	struct vs_top_finding *o;
	struct vs_flow *f = sender_flow(t, r, d);
	char flow[VS_TUPLE_STRLEN];
	uint64_t dur, start;

	if (!f || !x->stalled || t->nf >= VS_TOP_FMAX + VS_MAX_SYSTEMS * 64)
		return;
	start = x->stall_start;
	dur = t->last_tick > start ? t->last_tick - start : 0;
	if (dur < t->e->opt.stall_ns)
		return;
	o = &t->fv[t->nf++];
	memset(o, 0, sizeof(*o));
	o->ongoing = true;
	o->start = start;
	o->flow = f->t;
	o->has_flow = true;
	if (!t->e->sys[f->system].clock.known)
		start = vs_clock_to_local(&t->e->sys[f->system].clock, start);
	snprintf(o->line, sizeof(o->line),
		 "credit_stall %s %s t=%" PRIu64 ".%06" PRIu64
		 " for %.1f ms+ (ongoing): peer_free %" PRId64
		 " of buf_alloc %u",
		 t->e->sys[f->system].name,
		 vs_tuple_str(&f->t, flow, sizeof(flow)),
		 start / UINT64_C(1000000000),
		 start % UINT64_C(1000000000) / 1000, dur / 1e6,
		 x->peer_free < 0 ? 0 : x->peer_free, x->buf_alloc);
}

/* count new findings into their rows; the display list */
static int findings_tick(struct vs_top *t)
{
	const struct vs_findings *fs = &t->e->findings;
	size_t from;
	int err;

	for (; t->fseen < fs->n; t->fseen++) {
		const struct vs_finding *f = &fs->v[t->fseen];
		struct vs_top_row *r;

		if (f->has_flow && (r = row_get(t, &f->flow, ROW_FIND)))
			r->findings++;
	}
	t->nf = 0;
	from = fs->n > VS_TOP_FMAX ? fs->n - VS_TOP_FMAX : 0;
	for (size_t i = from; i < fs->n; i++) {
		const struct vs_finding *f = &fs->v[i];
		struct vs_top_finding *o = &t->fv[t->nf++];

		o->ongoing = false;
		o->start = f->start;
		o->has_flow = f->has_flow;
		o->flow = f->flow;
		err = line_of(t, f, o->line, sizeof(o->line));
		if (err)
			return err;
	}
	if (!t->finished)
		for (unsigned int i = 0; i < t->nrows; i++)
			for (unsigned int d = 0; d < 2; d++)
				if (!t->rows[i]->hidden)
					ongoing(t, t->rows[i], d);
	return 0;
}

/*
 * Drop a hidden row and its connection's flow entries from memory, for a
 * vsocktop that runs for days: when it has been quiet for longer than the
 * matcher may still answer for its packets, no stall is open on it and
 * the clocks are known (without them, lost-packet findings look at whole
 * flows). A later packet of it makes it again, counting from zero.
 * Returns whether it went.
 */
static bool forget(struct vs_top *t, struct vs_top_row *r, uint64_t now)
{
	const struct vs_engine *e = t->e;
	uint64_t settle = 2 * e->opt.irq_timeout_ns + 1000000000ull;
	struct vs_top_row **pp;
	struct vs_tuple k;

	if (now <= r->last_ts || now - r->last_ts <= settle)
		return false;
	for (unsigned int i = 1; i < t->nsys; i++)
		if (!vs_engine_clocks_known(e, 0, i))
			return false;
	for (unsigned int i = 0; i < t->nsys; i++)
		for (unsigned int d = 0; d < 2; d++) {
			const struct vs_flow *f = r->fl[i][d];

			if (f && (f->stall || (f->rev && f->rev->stall)))
				return false;
		}
	for (unsigned int i = 0; i < t->nsys; i++)
		for (unsigned int d = 0; d < 2; d++)
			if (r->fl[i][d])
				vs_engine_forget(t->e, r->fl[i][d]);
	k = canon(&r->t);
	for (pp = &t->hash[vs_tuple_hash(&k) & (t->hsize - 1)]; *pp;
	     pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	memset(r, 0, sizeof(*r));
	r->next = t->spare;
	t->spare = r;
	t->forgotten++;
	return true;
}

static int tick(struct vs_top *t, uint64_t now, bool rates)
{
	unsigned int kept = 0;

	uint64_t dt;

	if (!now)
		now = t->e->now;
	if (!t->ticked) {
		t->ticked = true;
		t->last_tick = now;
		/* the first interval: from the first event */
		dt = t->any && now > t->first_ref ? now - t->first_ref : 0;
	} else {
		dt = now > t->last_tick ? now - t->last_tick : 0;
		t->last_tick = now;
	}
	if (rates)
		t->interval = dt;
	for (unsigned int i = 0; i < t->nsys; i++) {
		struct vs_top_sys *s = &t->sys[i], *p = &t->prev[i];
		const struct vs_clock *c = &t->e->sys[i].clock;

		if (rates) {
			s->ev_rate = rate(s->events, p->events, dt);
			s->pkt_rate = rate(s->pkts, p->pkts, dt);
			s->byte_rate = rate(s->bytes, p->bytes, dt);
			s->kick_rate = rate(s->kicks, p->kicks, dt);
			s->irq_rate = rate(s->irqs, p->irqs, dt);
		}
		s->clock_ref = i == 0;
		s->clock_known = i == 0 || c->known;
		s->offset_ns = c->offset_ns;
		s->uncertainty_ns = c->uncertainty_ns;
		snprintf(s->clock_note, sizeof(s->clock_note), "%s",
			 i == 0 ? "reference" : c->note);
		if (rates)
			*p = *s;
	}
	for (unsigned int i = 0; i < t->nrows; i++) {
		struct vs_top_row *r = t->rows[i];

		if (!r->hidden) {
			row_tick(t, r, dt, now, rates);
			/* a connection that ended leaves the view after a while */
			if (t->keep_closed != UINT64_MAX && now > r->last_ts &&
			    now - r->last_ts > t->keep_closed &&
			    (!strcmp(r->state, "closed") ||
			     !strcmp(r->state, "reset")))
				r->hidden = true;
		}
		/* ... and memory, once nothing can come of it any more; not
		 * at the end, where the report on it is made */
		if (!(r->hidden && !t->finished && forget(t, r, now)))
			t->rows[kept++] = r;
	}
	t->nrows = kept;
	return findings_tick(t);
}

int vs_top_tick(struct vs_top *t, uint64_t now)
{
	return tick(t, now, true);
}

int vs_top_finish(struct vs_top *t, uint64_t cut)
{
	int err;

	if (t->finished)
		return 0;
	if (cut) {
		t->e->opt.has_until = true;
		t->e->opt.until_ns = cut;
		for (unsigned int i = 0; i < t->nsys; i++)
			t->e->sys[i].cut = true;
	}
	err = vs_engine_finish(t->e);
	t->finished = true;
	if (err)
		return err;
	/* sorted now: count again */
	for (unsigned int i = 0; i < t->nrows; i++)
		t->rows[i]->findings = 0;
	t->fseen = 0;
	/* the last interval's rates stay: the end is not an interval;
	 * unless there was none, then the whole input is the interval */
	return tick(t, t->last_tick > t->e->now ? t->last_tick : t->e->now,
		    !t->ticked);
}

unsigned int vs_top_nsys(const struct vs_top *t)
{
	return t->nsys;
}

const struct vs_top_sys *vs_top_sys(const struct vs_top *t, unsigned int i)
{
	return i < t->nsys ? &t->sys[i] : NULL;
}

unsigned int vs_top_nrows(const struct vs_top *t)
{
	return t->nrows;
}

const struct vs_top_row *vs_top_row(const struct vs_top *t, unsigned int i)
{
	return i < t->nrows ? t->rows[i] : NULL;
}

unsigned int vs_top_nfindings(const struct vs_top *t)
{
	return t->nf;
}

const struct vs_top_finding *vs_top_finding(const struct vs_top *t,
					    unsigned int i)
{
	return i < t->nf ? &t->fv[i] : NULL;
}

uint64_t vs_top_now(const struct vs_top *t)
{
	return t->last_tick;
}

uint64_t vs_top_interval(const struct vs_top *t)
{
	return t->interval;
}

uint64_t vs_top_forgotten(const struct vs_top *t)
{
	return t->forgotten;
}

bool vs_top_finished(const struct vs_top *t)
{
	return t->finished;
}

int vs_top_write_findings(FILE *out, const struct vs_top *t)
{
	const struct vs_findings *fs = &t->e->findings;

	for (size_t i = 0; i < fs->n; i++)
		if (vs_report_finding_line(out, t->e, &fs->v[i]))
			return -EIO;
	return 0;
}

/* ------------------------------------------------------------ sorting */

static const char *const sort_names[VS_TOP_SORT__MAX] = {
	[VS_TOP_SORT_RATE] = "rate", [VS_TOP_SORT_STALL] = "stalled",
	[VS_TOP_SORT_FREE] = "free", [VS_TOP_SORT_FAIL] = "findings",
	[VS_TOP_SORT_FLOW] = "flow", [VS_TOP_SORT_AGE] = "recent",
};

const char *vs_top_sort_name(unsigned int key)
{
	return key < VS_TOP_SORT__MAX ? sort_names[key] : "?";
}

int vs_top_sort_parse(const char *s)
{
	for (int i = 0; i < VS_TOP_SORT__MAX; i++)
		if (!strcmp(s, sort_names[i]))
			return i;
	return -1;
}

int vs_top_filter_parse(struct vs_top_filter *f, const char *s)
{
	char *end;
	unsigned long long cid, port;

	memset(f, 0, sizeof(*f));
	if (!s || !*s)
		return 0;
	errno = 0;
	cid = strtoull(s, &end, 10);
	if (errno || end == s || cid > UINT32_MAX)
		return -EINVAL;
	f->cid = cid;
	f->any_port = true;
	if (*end == ':') {
		s = end + 1;
		port = strtoull(s, &end, 10);
		if (errno || end == s || port > UINT32_MAX)
			return -EINVAL;
		f->port = (uint32_t)port;
		f->any_port = false;
	}
	if (*end)
		return -EINVAL;
	f->on = true;
	return 0;
}

bool vs_top_filter_match(const struct vs_top_filter *f,
			 const struct vs_top_row *r)
{
	if (!f || !f->on)
		return true;
	return (r->t.src_cid == f->cid &&
		(f->any_port || r->t.src_port == f->port)) ||
	       (r->t.dst_cid == f->cid &&
		(f->any_port || r->t.dst_port == f->port));
}

static int64_t row_free(const struct vs_top_row *r)
{
	int64_t m = INT64_MAX;

	for (int d = 0; d < 2; d++)
		if (r->d[d].credit_known && r->d[d].peer_free < m)
			m = r->d[d].peer_free;
	return m;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_tuple(const struct vs_tuple *a, const struct vs_tuple *b)
{
	int c = cmp_u64(a->src_cid, b->src_cid);

	if (!c)
		c = cmp_u64(a->src_port, b->src_port);
	if (!c)
		c = cmp_u64(a->dst_cid, b->dst_cid);
	if (!c)
		c = cmp_u64(a->dst_port, b->dst_port);
	return c;
}

/*
 * What a row is sorted by, taken out of it once: sorting thousands of rows
 * by reading them at each comparison missed the cache at each comparison.
 */
struct sort_item {
	union {
		double d; /* rate */
		int64_t i; /* free */
		uint64_t u; /* the others */
	} k;
	struct vs_tuple t;
	const struct vs_top_row *r;
};

static void sort_key(struct sort_item *it, const struct vs_top_row *r,
		     unsigned int key)
{
	it->r = r;
	it->t = r->t;
	switch (key) {
	case VS_TOP_SORT_RATE:
		it->k.d = r->d[0].bps + r->d[1].bps;
		break;
	case VS_TOP_SORT_STALL:
		it->k.u = r->d[0].stalled_ns + r->d[1].stalled_ns;
		break;
	case VS_TOP_SORT_FREE:
		it->k.i = row_free(r);
		break;
	case VS_TOP_SORT_FAIL:
		it->k.u = r->findings;
		break;
	case VS_TOP_SORT_AGE:
		it->k.u = r->last_ts;
		break;
	default:
		it->k.u = 0;
		break;
	}
}

/* the natural order of each key: biggest first, except flow and free */
static int cmp_items(const void *pa, const void *pb, void *ctx)
{
	const struct sort_item *a = pa, *b = pb;
	unsigned int key = *(unsigned int *)ctx & 0xff;
	bool rev = *(unsigned int *)ctx >> 8;
	int c = 0;

	switch (key) {
	case VS_TOP_SORT_RATE:
		c = a->k.d > b->k.d ? -1 : a->k.d < b->k.d;
		break;
	case VS_TOP_SORT_FREE:
		c = a->k.i < b->k.i ? -1 : a->k.i > b->k.i;
		break;
	case VS_TOP_SORT_STALL:
	case VS_TOP_SORT_FAIL:
	case VS_TOP_SORT_AGE:
		c = -cmp_u64(a->k.u, b->k.u);
		break;
	case VS_TOP_SORT_FLOW:
		c = cmp_tuple(&a->t, &b->t);
		break;
	default:
		break;
	}
	if (rev)
		c = -c;
	/* ties (and the flow key): a stable order by the connection */
	return c ? c : cmp_tuple(&a->t, &b->t);
}

unsigned int vs_top_select(const struct vs_top *t,
			   const struct vs_top_filter *f, unsigned int key,
			   bool reverse, const struct vs_top_row **out)
{
	unsigned int n = 0, ctx = (key & 0xff) | (reverse ? 0x100 : 0);
	struct sort_item *it;

	for (unsigned int i = 0; i < t->nrows; i++)
		if (!t->rows[i]->hidden && vs_top_filter_match(f, t->rows[i]))
			out[n++] = t->rows[i];
	it = malloc((n ? n : 1) * sizeof(*it));
	if (!it) {
		/* no memory to sort with: the rows in the order they came */
		return n;
	}
	for (unsigned int i = 0; i < n; i++)
		sort_key(&it[i], out[i], key & 0xff);
	qsort_r(it, n, sizeof(*it), cmp_items, &ctx);
	for (unsigned int i = 0; i < n; i++)
		out[i] = it[i].r;
	free(it);
	return n;
}
