// SPDX-License-Identifier: GPL-2.0-only
/* The analysis engine: events in, flows and findings out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detect.h"
#include "engine.h"

void vs_options_default(struct vs_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->stall_ns = 100000000ull;
	opt->irq_timeout_ns = 100000000ull;
}

static int parse_end(const char *s, const char *e, uint64_t *cid,
		     uint32_t *port, bool *any)
{
	char buf[64], *colon, *end;
	unsigned long long v;

	if (e - s <= 0 || e - s >= (long)sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(e - s));
	buf[e - s] = '\0';
	colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || end == buf || *end)
		return -EINVAL;
	*cid = v;
	*any = !colon;
	if (colon) {
		errno = 0;
		v = strtoull(colon + 1, &end, 10);
		if (errno || end == colon + 1 || *end || v > UINT32_MAX)
			return -EINVAL;
		*port = (uint32_t)v;
	}
	return 0;
}

int vs_options_parse_flow(struct vs_options *opt, const char *s)
{
	const char *arrow = strstr(s, "->");
	int err;

	if (!arrow) {
		err = parse_end(s, s + strlen(s), &opt->f_cid[0],
				&opt->f_port[0], &opt->f_any_port[0]);
		opt->filter_pair = false;
	} else {
		err = parse_end(s, arrow, &opt->f_cid[0], &opt->f_port[0],
				&opt->f_any_port[0]);
		if (!err)
			err = parse_end(arrow + 2, arrow + strlen(arrow),
					&opt->f_cid[1], &opt->f_port[1],
					&opt->f_any_port[1]);
		opt->filter_pair = true;
	}
	if (!err)
		opt->has_flow_filter = true;
	return err;
}

static bool end_match(const struct vs_options *o, unsigned int i,
		      uint64_t cid, uint32_t port)
{
	return o->f_cid[i] == cid && (o->f_any_port[i] || o->f_port[i] == port);
}

static bool flow_wanted(const struct vs_options *o, const struct vs_pkt *p)
{
	if (!o->has_flow_filter)
		return true;
	if (!o->filter_pair)
		return end_match(o, 0, p->src_cid, p->src_port) ||
		       end_match(o, 0, p->dst_cid, p->dst_port);
	return (end_match(o, 0, p->src_cid, p->src_port) &&
		end_match(o, 1, p->dst_cid, p->dst_port)) ||
	       (end_match(o, 1, p->src_cid, p->src_port) &&
		end_match(o, 0, p->dst_cid, p->dst_port));
}

struct vs_engine *vs_engine_new(const struct vs_options *opt,
				unsigned int nsys, const char *const *names)
{
	struct vs_engine *e;

	if (!nsys || nsys > VS_MAX_SYSTEMS) {
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->opt = *opt;
	e->nsys = nsys;
	e->tick_at = UINT64_MAX;
	for (unsigned int i = 0; i < nsys; i++) {
		snprintf(e->sys[i].name, sizeof(e->sys[i].name), "%s",
			 names[i]);
		e->sys[i].clock.known = i == 0;
		e->sys[i].clock.has_uncertainty = i == 0;
		if (!i)
			snprintf(e->sys[i].clock.note,
				 sizeof(e->sys[i].clock.note),
				 "reference clock");
	}
	e->flows = vs_flow_table_new();
	if (!e->flows || vs_alloc_failure_init(e) || vs_unanswered_init(e)) {
		vs_engine_free(e);
		errno = ENOMEM;
		return NULL;
	}
	return e;
}

void vs_engine_free(struct vs_engine *e)
{
	if (!e)
		return;
	vs_matcher_free(e->matcher);
	vs_alloc_failure_free(e);
	vs_unanswered_free(e);
	vs_reset_free(e);
	vs_lost_free(e);
	vs_credit_stall_free(e);
	vs_flow_table_free(e->flows);
	vs_findings_free(&e->findings);
	free(e);
}

void vs_engine_set_clock(struct vs_engine *e, unsigned int sys,
			 const struct vs_clock *c)
{
	e->sys[sys].clock = *c;
}

void vs_engine_add_cid(struct vs_engine *e, unsigned int sys, uint64_t cid)
{
	vs_cidset_add(&e->sys[sys].cids, cid);
}

void vs_engine_set_window(struct vs_engine *e, unsigned int sys,
			  uint64_t first_local, uint64_t last_local)
{
	struct vs_system *s = &e->sys[sys];

	s->has_window = true;
	s->win_start = vs_engine_ref(e, sys, first_local);
	s->win_end = vs_engine_ref(e, sys, last_local);
}

uint64_t vs_engine_ref(const struct vs_engine *e, unsigned int sys,
		       uint64_t local)
{
	int64_t r = vs_clock_to_ref(&e->sys[sys].clock, local);

	return r < 0 ? 0 : (uint64_t)r;
}

bool vs_engine_owns(const struct vs_engine *e, unsigned int sys, uint64_t cid)
{
	return vs_cidset_has(&e->sys[sys].cids, cid);
}

/* the system at the other end of a packet @sys handled, or -1 */
static int peer_system(const struct vs_engine *e, unsigned int sys,
		       uint64_t cid)
{
	for (unsigned int i = 0; i < e->nsys; i++)
		if (i != sys && vs_engine_owns(e, i, cid))
			return (int)i;
	return vs_engine_owns(e, sys, cid) ? (int)sys : -1;
}

uint64_t vs_engine_slack(const struct vs_engine *e, unsigned int a,
			 unsigned int b)
{
	const struct vs_clock *ca = &e->sys[a].clock, *cb = &e->sys[b].clock;
	uint64_t s = 1000;

	if (a != b) {
		s += ca->has_uncertainty ? ca->uncertainty_ns : 0;
		s += cb->has_uncertainty ? cb->uncertainty_ns : 0;
	}
	return s;
}

bool vs_engine_clocks_known(const struct vs_engine *e, unsigned int a,
			    unsigned int b)
{
	return e->sys[a].clock.known && e->sys[b].clock.known;
}

bool vs_engine_answered(const struct vs_engine *e, unsigned int sys,
			uint64_t from, uint64_t to, uint32_t cls)
{
	const struct vs_system *s = &e->sys[sys];
	uint64_t n = s->act_n < VS_ACT_RING ? s->act_n : VS_ACT_RING;

	for (uint64_t i = 0; i < n; i++) {
		const struct vs_act *a = &s->act[(s->act_n - 1 - i) % VS_ACT_RING];
		uint64_t t = a->ts;

		if (t > from && t <= to && (a->cls & cls))
			return true;
		/* merged input is in time order, within a little */
		if (t + 1000000 < from)
			return false;
	}
	/* the ring was full of later activity: the system was busy */
	return n == VS_ACT_RING;
}

/*
 * Can this interrupt be the other side's answer to a doorbell? Not the
 * ones every system takes all the time for other reasons (timers, IPIs,
 * consoles, storage, USB, network): counting them would hide an
 * unanswered doorbell. Unknown names count: a mailbox or a virtio device
 * can be called anything.
 */
static bool irq_may_answer(const char *name)
{
	static const char *const busy[] = {
		"timer", "tick", "hpet", "rtc",	 "IPI",	 "ipi",	 "ttyS",
		"serial", "uart", "xhci", "ehci", "usb",  "dwc",  "ahci",
		"ata",	 "nvme", "mmc",	 "ufs",	 "eth",	 "wlan", "i2c",
		"spi",	 "gpio", "thermal", "acpi", "rcu",
	};

	for (size_t i = 0; i < sizeof(busy) / sizeof(busy[0]); i++)
		if (strstr(name, busy[i]))
			return false;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !memcmp(s + n - k, suffix, k);
}

/* which doorbell an interrupt can answer, by the queue its name ends in */
static uint32_t irq_class(const char *name)
{
	if (ends_with(name, "-rx") || ends_with(name, "-input"))
		return VS_ANS_IRQ_RX;
	if (ends_with(name, "-tx") || ends_with(name, "-output"))
		return VS_ANS_IRQ_TX;
	if (ends_with(name, "-event") || ends_with(name, "-config"))
		return 0;
	return VS_ANS_IRQ;
}

/*
 * irq_may_answer(), remembered per system and interrupt number; a shared
 * line prints one entry per handler, so the name is checked too (FNV-1a).
 */
static uint32_t irq_answers(struct vs_engine *e, const struct vs_event *ev)
{
	struct vs_irq_verdict *c;
	uint32_t h = 2166136261u;

	if (ev->irq.irq < 0 || ev->irq.irq >= VS_IRQ_CACHE)
		return irq_may_answer(ev->irq.name) ? irq_class(ev->irq.name)
						    : 0;
	for (const char *p = ev->irq.name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h |= 1; /* 0 marks an empty slot */
	c = &e->sys[ev->system].irq_verdict[ev->irq.irq];
	if (c->name_hash != h) {
		c->name_hash = h;
		c->answers = irq_may_answer(ev->irq.name)
				     ? irq_class(ev->irq.name)
				     : 0;
	}
	return c->answers;
}

static void activity(struct vs_engine *e, unsigned int sys, uint64_t ref,
		     uint32_t cls)
{
	struct vs_system *s = &e->sys[sys];
	struct vs_act *a = &s->act[s->act_n++ % VS_ACT_RING];

	a->ts = ref;
	a->cls = cls;
}


static void on_match(void *ctx, const struct vs_pkt_rec *tx,
		     const struct vs_pkt_rec *rx)
{
	struct vs_engine *e = ctx;
	struct vs_flow *f;

	if (!tx)
		return; /* a receive whose send was not captured */
	f = vs_flow_get(e->flows, tx->system, &tx->t, false);
	if (f) {
		if (rx)
			f->matched++;
		else
			f->unmatched++;
	}
	vs_lost_outcome(e, tx, rx);
}

static int start(struct vs_engine *e)
{
	uint64_t tol = 1000000; /* 1 ms at least */

	for (unsigned int i = 1; i < e->nsys; i++) {
		const struct vs_clock *c = &e->sys[i].clock;

		if (c->known && c->has_uncertainty &&
		    2 * c->uncertainty_ns + 1000000 > tol)
			tol = 2 * c->uncertainty_ns + 1000000;
	}
	e->matcher = vs_matcher_new(e->opt.irq_timeout_ns + tol, tol,
				    on_match, e);
	if (!e->matcher)
		return -ENOMEM;
	vs_matcher_set_in_order(e->matcher, true);
	e->started = true;
	return 0;
}

static void match_add(struct vs_engine *e, const struct vs_event *ev,
		      uint64_t ref, const struct vs_flow *f)
{
	const struct vs_pkt *p = &ev->pkt;
	bool tx = ev->kind == VS_EV_PKT_TX;
	struct vs_pkt_rec r;
	int peer;

	peer = peer_system(e, ev->system, tx ? p->dst_cid : p->src_cid);
	/*
	 * The other end was not captured, or its CID is not known yet (live
	 * input: learnt from its first packet). With one system only its own
	 * CIDs can be the other end, and those it declares as it sends.
	 */
	if (peer < 0 && e->nsys == 1)
		return;
	memset(&r, 0, sizeof(r));
	r.ref = ref;
	r.local = ev->ts_ns;
	r.t = vs_tuple_of(p);
	r.len = p->len;
	r.op = p->op;
	r.system = ev->system;
	r.tx = tx;
	if (peer >= 0) {
		r.unbounded = !vs_engine_clocks_known(e, ev->system,
						      (unsigned)peer);
	} else {
		for (unsigned int i = 0; i < e->nsys; i++)
			if (!e->sys[i].clock.known)
				r.unbounded = 1;
	}
	r.cpu = ev->cpu;
	r.pid = ev->pid;
	r.has_off = vs_flow_stream_offset(f, tx, p, &r.off);
	if (vs_matcher_add(e->matcher, &r) && !e->err)
		e->err = ENOMEM;
	vs_engine_wake(e, vs_matcher_next_deadline(e->matcher));
}

struct vs_flow *vs_engine_prefetch(const struct vs_engine *e,
				   const struct vs_event *ev, unsigned int stage,
				   struct vs_prefetch *pf)
{
	struct vs_flow *f;

	if (!stage) {
		pf->pkt = vs_event_is_pkt(ev);
		pf->f = NULL;
		if (pf->pkt) {
			struct vs_tuple t = vs_tuple_of(&ev->pkt);

			pf->hash = vs_flow_hash(ev->system, &t);
			vs_flow_prefetch_slot(e->flows, pf->hash);
		}
		return NULL;
	}
	if (!pf->pkt)
		return NULL;
	/* see struct vs_flow for the lines a packet touches */
	if (stage == 1) {
		f = pf->f = vs_flow_peek(e->flows, pf->hash);
		if (f) {
			__builtin_prefetch(f, 1);
			__builtin_prefetch((const char *)f + 64, 1);
			__builtin_prefetch((const char *)f + 128, 1);
		}
	} else {
		f = pf->f;
		if (f && f->rev) {
			__builtin_prefetch((const char *)f->rev + 64, 1);
			__builtin_prefetch((const char *)f->rev + 128, 1);
		}
	}
	return f;
}

static void on_pkt(struct vs_engine *e, const struct vs_event *ev,
		   uint64_t ref)
{
	const struct vs_pkt *p = &ev->pkt;
	struct vs_tuple t = vs_tuple_of(p), rt = vs_tuple_reverse(t);
	struct vs_flow *f, *rev;
	bool tx = ev->kind == VS_EV_PKT_TX;

	vs_engine_add_cid(e, ev->system, tx ? p->src_cid : p->dst_cid);
	f = vs_flow_get(e->flows, ev->system, &t, true);
	if (!f) {
		e->err = ENOMEM;
		return;
	}
	e->last_flow = f;
	rev = f->rev;
	if (!rev) {
		rev = vs_flow_get(e->flows, ev->system, &rt, true);
		if (!rev) {
			e->err = ENOMEM;
			return;
		}
		f->rev = rev;
		rev->rev = f;
	}
	if (!f->tx_pkts && !f->rx_pkts)
		f->first_ts = ref;
	f->last_ts = ref;
	if (p->type)
		f->type = p->type;
	if (p->op == VS_OP_REQUEST || p->op == VS_OP_RESPONSE) {
		vs_credit_start(&f->cr);
		vs_credit_start(&rev->cr);
	}
	if (tx) {
		f->tx_pkts++;
		if (p->op == VS_OP_RW)
			f->tx_bytes += p->len;
		if (p->op < 32)
			f->ops_tx |= 1u << p->op;
		vs_credit_tx(&f->cr, p);
		vs_credit_stall_check(e, f, ev, ref);
	} else {
		f->rx_pkts++;
		if (p->op == VS_OP_RW)
			f->rx_bytes += p->len;
		if (p->op < 32)
			f->ops_rx |= 1u << p->op;
		activity(e, ev->system, ref, VS_ANS_WORK);
		/* the peer's advertisement: credit for our sends to it */
		if ((ev->present & VS_HAS_BUF_ALLOC) &&
		    (ev->present & VS_HAS_FWD_CNT))
			vs_credit_adv(&rev->cr, p, ref);
		/* a packet that ends a stall is not one sent during it */
		vs_credit_stall_check(e, rev, ev, ref);
		vs_credit_stall_note_reverse(e, rev, ev);
	}
	if (p->op == VS_OP_RST || p->op == VS_OP_SHUTDOWN ||
	    p->op == VS_OP_REQUEST)
		vs_reset_event(e, ev, ref, f);
	match_add(e, ev, ref, f);
}

bool vs_engine_forget(struct vs_engine *e, struct vs_flow *f)
{
	struct vs_flow *rev = f->rev;

	if (vs_flow_gone(f))
		return true;
	if (f->stall || (rev && rev->stall))
		return false;
	if (e->last_flow == f || e->last_flow == rev)
		e->last_flow = NULL;
	if (rev)
		vs_flow_remove(e->flows, rev);
	vs_flow_remove(e->flows, f);
	return true;
}

int vs_engine_feed(struct vs_engine *e, const struct vs_event *ev)
{
	uint64_t ref;
	struct vs_system *s;
	int err;

	e->last_flow = NULL;
	if (ev->system >= e->nsys)
		return -EINVAL;
	if (e->err)
		return -e->err;
	ref = vs_engine_ref(e, ev->system, ev->ts_ns);
	/* before --since, events still build the connections' state (credit
	 * needs the start); only findings are cut, in vs_engine_finish() */
	if (e->opt.has_until && ref > e->opt.until_ns) {
		e->sys[ev->system].cut = true;
		return 0;
	}
	if (vs_event_is_pkt(ev) && !flow_wanted(&e->opt, &ev->pkt))
		return 0;
	if (!e->started) {
		err = start(e);
		if (err)
			return err;
	}
	if (ref > e->now) {
		e->now = ref;
		if (ref > e->tick_at) {
			uint64_t t = vs_matcher_advance(e->matcher, ref), u;

			u = vs_alloc_failure_tick(e, ref);
			t = u < t ? u : t;
			u = vs_unanswered_tick(e, ref);
			t = u < t ? u : t;
			u = vs_lost_tick(e, ref, false);
			e->tick_at = u < t ? u : t;
		}
	}
	s = &e->sys[ev->system];
	if (!s->any) {
		s->first_local = ev->ts_ns;
		s->any = true;
	}
	s->last_local = ev->ts_ns;
	s->events++;
	if (ev->kind < VS_EV__MAX)
		s->per_kind[ev->kind]++;

	switch (ev->kind) {
	case VS_EV_PKT_TX:
	case VS_EV_PKT_RX:
		if (!(ev->present & VS_HAS_HDR))
			break;
		on_pkt(e, ev, ref);
		vs_alloc_failure_event(e, ev, ref);
		break;
	case VS_EV_IRQ: {
		uint32_t cls = irq_answers(e, ev);

		if (cls)
			activity(e, ev->system, ref, cls);
		break;
	}
	case VS_EV_VQ_IRQ:
	case VS_EV_VQ_GET:
	case VS_EV_MBOX_RX:
		activity(e, ev->system, ref, VS_ANS_WORK);
		break;
	case VS_EV_VQ_KICK:
	case VS_EV_VQ_CALL:
	case VS_EV_MBOX_TX:
		vs_unanswered_event(e, ev, ref);
		break;
	case VS_EV_ALLOC:
		if (ev->alloc.failed)
			s->alloc_failures++;
		vs_alloc_failure_event(e, ev, ref);
		break;
	default:
		break;
	}
	return e->err ? -e->err : 0;
}

int vs_engine_finish(struct vs_engine *e)
{
	int err = 0;

	if (!e->started && (err = start(e)))
		return err;
	vs_matcher_flush(e->matcher);
	vs_lost_tick(e, e->now, true);
	err = vs_credit_stall_finish(e);
	if (!err)
		err = vs_alloc_failure_finish(e);
	if (!err)
		err = vs_unanswered_finish(e);
	if (!err)
		err = vs_reset_finish(e);
	if (e->opt.has_since) {
		size_t k = 0;

		for (size_t i = 0; i < e->findings.n; i++) {
			const struct vs_finding *f = &e->findings.v[i];

			if (f->end >= e->opt.since_ns || f->start >= e->opt.since_ns)
				e->findings.v[k++] = *f;
		}
		e->findings.n = k;
	}
	vs_findings_sort(&e->findings);
	if (!err && e->err)
		err = -e->err;
	return err;
}
