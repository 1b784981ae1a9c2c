// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for correlation across systems (lib/correlate.c), written
 * against correlate.h: the packet matcher alone (a callback records what it
 * decides), then the clock estimate over whole captures (vs_corr) on two
 * synthetic systems whose true clock relation is known.
 *
 * In the matcher cases a record's `local` is its packet's id: a send and
 * its receive carry the same id, so a right match is (id, id).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "correlate.h"
#include "evgen.h"

/* ---- the matcher --------------------------------------------------------- */

#define NONE INT64_MIN
#define MAXOUT 4096

struct outcomes {
	size_t n;
	struct {
		int64_t tx, rx; /* ids, NONE for a missing side */
	} v[MAXOUT];
};

static void record(void *ctx, const struct vs_pkt_rec *tx,
		   const struct vs_pkt_rec *rx)
{
	struct outcomes *o = ctx;

	if (o->n >= MAXOUT)
		return;
	o->v[o->n].tx = tx ? (int64_t)tx->local : NONE;
	o->v[o->n].rx = rx ? (int64_t)rx->local : NONE;
	o->n++;
}

static struct vs_pkt_rec rec(unsigned int sys, bool tx, uint64_t ref,
			     uint64_t id, struct vs_tuple t, unsigned int op,
			     uint32_t len)
{
	struct vs_pkt_rec r;

	memset(&r, 0, sizeof(r));
	r.ref = ref;
	r.local = id;
	r.t = t;
	r.op = (uint16_t)op;
	r.len = len;
	r.system = (uint16_t)sys;
	r.tx = tx;
	return r;
}

static struct vs_tuple T(void)
{
	return evg_tuple(2, 1024, 3, 5000);
}

static int cmp_ref(const void *a, const void *b)
{
	const struct vs_pkt_rec *x = a, *y = b;

	if (x->ref != y->ref)
		return x->ref < y->ref ? -1 : 1;
	return x->tx > y->tx ? -1 : x->tx < y->tx; /* sends first */
}

/* add @n records in reference order, advancing time like the engine */
static void run(struct vs_matcher *m, struct vs_pkt_rec *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_ref);
	for (size_t i = 0; i < n; i++) {
		vs_matcher_advance(m, v[i].ref);
		CHECK_EQ_U(vs_matcher_add(m, &v[i]), 0);
	}
}

/* how many outcomes are (id, id), (id, NONE), (NONE, id), or wrong pairs */
static void tally(const struct outcomes *o, size_t *good, size_t *tx_only,
		  size_t *rx_only, size_t *wrong)
{
	*good = *tx_only = *rx_only = *wrong = 0;
	for (size_t i = 0; i < o->n; i++) {
		if (o->v[i].tx != NONE && o->v[i].rx != NONE)
			(o->v[i].tx == o->v[i].rx ? (*good)++ : (*wrong)++);
		else if (o->v[i].tx != NONE)
			(*tx_only)++;
		else
			(*rx_only)++;
	}
}

/*
 * A bulk stream: a send every 10 us, each received 50 us (+-2 us) later,
 * so several sends always wait; @lost (or -1) is never received.
 */
static size_t bulk(struct vs_pkt_rec *v, unsigned int n, int lost)
{
	size_t k = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t t = 1 * EVG_MS + i * 10 * EVG_US;

		v[k++] = rec(0, true, t, i, T(), VS_OP_RW, 4096);
		if ((int)i != lost)
			v[k++] = rec(1, false, t + 50 * EVG_US + (i % 5) * 1000 -
						       2000,
				     i, T(), VS_OP_RW, 4096);
	}
	return k;
}

static void t_match_in_order(void)
{
	static struct outcomes o;
	struct vs_pkt_rec v[400];
	struct vs_matcher *m;
	size_t n, good, txo, rxo, bad;

	memset(&o, 0, sizeof(o));
	m = vs_matcher_new(100 * EVG_MS, 1 * EVG_MS, record, &o);
	CHECK(m != NULL);
	if (!m)
		return;
	n = bulk(v, 200, -1);
	run(m, v, n);
	/* every receive matched when it came: nothing waits */
	CHECK_EQ_U(o.n, 200);
	CHECK_EQ_U(vs_matcher_pending(m), 0);
	vs_matcher_flush(m);
	tally(&o, &good, &txo, &rxo, &bad);
	CHECK_EQ_U(good, 200);
	CHECK_EQ_U(bad, 0);
	CHECK_EQ_U(txo + rxo, 0);
	/* and in order */
	for (size_t i = 0; i < o.n && i < 200; i++)
		CHECK_EQ_U(o.v[i].tx, i);
	vs_matcher_free(m);
}

/* packet 7 of the bulk stream is lost: it alone stays unmatched */
static void t_match_lost_in_bulk(void)
{
	static struct outcomes o;
	struct vs_pkt_rec v[400];
	struct vs_matcher *m;
	size_t n, good, txo, rxo, bad;
	const uint64_t window = 100 * EVG_MS;
	const uint64_t t7 = 1 * EVG_MS + 7 * 10 * EVG_US;

	memset(&o, 0, sizeof(o));
	m = vs_matcher_new(window, 1 * EVG_MS, record, &o);
	CHECK(m != NULL);
	if (!m)
		return;
	n = bulk(v, 200, 7);
	run(m, v, n);
	tally(&o, &good, &txo, &rxo, &bad);
	CHECK_EQ_U(good, 199);
	CHECK_EQ_U(bad, 0); /* later pairs did not shift */
	CHECK_EQ_U(txo, 0); /* not before its window is over */
	CHECK_EQ_U(vs_matcher_pending(m), 1);

	vs_matcher_advance(m, t7 + window / 2);
	CHECK_EQ_U(o.n, 199);
	vs_matcher_advance(m, t7 + window + 1 * EVG_US);
	CHECK_EQ_U(o.n, 200);
	if (o.n == 200) {
		CHECK_EQ_U(o.v[199].tx, 7);
		CHECK(o.v[199].rx == NONE);
	}
	CHECK_EQ_U(vs_matcher_pending(m), 0);
	vs_matcher_flush(m);
	CHECK_EQ_U(o.n, 200);
	vs_matcher_free(m);
}

/* interactive traffic, latencies 20-80 us, two packets lost */
static void t_match_lost_interactive(void)
{
	static struct outcomes o;
	struct vs_pkt_rec v[1200];
	struct vs_matcher *m;
	size_t n = 0, good, txo, rxo, bad;
	uint32_t x = 12345;

	memset(&o, 0, sizeof(o));
	m = vs_matcher_new(100 * EVG_MS, 1 * EVG_MS, record, &o);
	CHECK(m != NULL);
	if (!m)
		return;
	for (unsigned int i = 0; i < 500; i++) {
		uint64_t t = 1 * EVG_MS + i * 200 * EVG_US;
		uint64_t lat;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		lat = 20 * EVG_US + x % (60 * EVG_US);
		v[n++] = rec(0, true, t, i, T(), VS_OP_RW, 100);
		if (i != 100 && i != 101)
			v[n++] = rec(1, false, t + lat, i, T(), VS_OP_RW, 100);
	}
	run(m, v, n);
	vs_matcher_flush(m);
	tally(&o, &good, &txo, &rxo, &bad);
	CHECK_EQ_U(good, 498);
	CHECK_EQ_U(bad, 0);
	CHECK_EQ_U(txo, 2);
	CHECK_EQ_U(rxo, 0);
	vs_matcher_free(m);
}

/* the clock model put a receive before its send, within tol: a match */
static void t_match_rx_before_tx(void)
{
	static struct outcomes o;
	struct vs_matcher *m;
	struct vs_pkt_rec r;
	size_t good, txo, rxo, bad;

	memset(&o, 0, sizeof(o));
	m = vs_matcher_new(100 * EVG_MS, 1 * EVG_MS, record, &o);
	CHECK(m != NULL);
	if (!m)
		return;
	r = rec(1, false, 10 * EVG_MS, 1, T(), VS_OP_RW, 64);
	vs_matcher_advance(m, r.ref);
	CHECK_EQ_U(vs_matcher_add(m, &r), 0);
	CHECK_EQ_U(vs_matcher_pending(m), 1);
	r = rec(0, true, 10 * EVG_MS + 500 * EVG_US, 1, T(), VS_OP_RW, 64);
	vs_matcher_advance(m, r.ref);
	CHECK_EQ_U(vs_matcher_add(m, &r), 0);
	CHECK_EQ_U(o.n, 1);
	CHECK(o.n == 1 && o.v[0].tx == 1 && o.v[0].rx == 1);
	CHECK_EQ_U(vs_matcher_pending(m), 0);

	/* beyond tol: no match */
	r = rec(1, false, 20 * EVG_MS, 2, T(), VS_OP_RW, 64);
	CHECK_EQ_U(vs_matcher_add(m, &r), 0);
	r = rec(0, true, 22 * EVG_MS, 3, T(), VS_OP_RW, 64);
	CHECK_EQ_U(vs_matcher_add(m, &r), 0);
	CHECK_EQ_U(o.n, 1);

	/* a receive on the sender's own system cannot precede the send */
	r = rec(0, false, 30 * EVG_MS, 4, T(), VS_OP_RW, 32);
	CHECK_EQ_U(vs_matcher_add(m, &r), 0);
	r = rec(0, true, 30 * EVG_MS + 100 * EVG_US, 5, T(), VS_OP_RW, 32);
	CHECK_EQ_U(vs_matcher_add(m, &r), 0);
	CHECK_EQ_U(o.n, 1);

	vs_matcher_flush(m);
	tally(&o, &good, &txo, &rxo, &bad);
	CHECK_EQ_U(good, 1);
	CHECK_EQ_U(bad, 0);
	CHECK_EQ_U(txo, 2);
	CHECK_EQ_U(rxo, 2);
	CHECK_EQ_U(vs_matcher_pending(m), 0);
	vs_matcher_free(m);
}

/* a send waits @window for its receive, a receive waits tol for a send */
static void t_match_expiry(void)
{
	static struct outcomes o;
	const uint64_t window = 1 * EVG_MS, tol = 100 * EVG_US;
	struct vs_matcher *m;
	struct vs_pkt_rec r;

	memset(&o, 0, sizeof(o));
	m = vs_matcher_new(window, tol, record, &o);
	CHECK(m != NULL);
	if (!m)
		return;
	r = rec(0, true, 5 * EVG_MS, 1, T(), VS_OP_RW, 64);
	CHECK_EQ_U(vs_matcher_add(m, &r), 0);
	vs_matcher_advance(m, 5 * EVG_MS + window / 2);
	CHECK_EQ_U(o.n, 0);
	CHECK_EQ_U(vs_matcher_pending(m), 1);
	vs_matcher_advance(m, 5 * EVG_MS + window + 1 * EVG_US);
	CHECK_EQ_U(o.n, 1);
	CHECK(o.v[0].tx == 1 && o.v[0].rx == NONE);
	CHECK_EQ_U(vs_matcher_pending(m), 0);

	/* its receive, too late: a receive with no send */
	r = rec(1, false, 5 * EVG_MS + window + 2 * EVG_US, 1, T(), VS_OP_RW,
		64);
	CHECK_EQ_U(vs_matcher_add(m, &r), 0);
	CHECK_EQ_U(o.n, 1);
	CHECK_EQ_U(vs_matcher_pending(m), 1);
	vs_matcher_advance(m, r.ref + tol + 1 * EVG_US);
	CHECK_EQ_U(o.n, 2);
	CHECK(o.n == 2 && o.v[1].tx == NONE && o.v[1].rx == 1);
	CHECK_EQ_U(vs_matcher_pending(m), 0);
	vs_matcher_free(m);
}

/* op, length and tuple must agree */
static void t_match_keys(void)
{
	static struct outcomes o;
	struct vs_matcher *m;
	struct vs_pkt_rec r;
	struct vs_tuple other = evg_tuple(2, 1025, 3, 5000);
	size_t good, txo, rxo, bad;

	memset(&o, 0, sizeof(o));
	m = vs_matcher_new(100 * EVG_MS, 1 * EVG_MS, record, &o);
	CHECK(m != NULL);
	if (!m)
		return;
	r = rec(0, true, 1 * EVG_MS, 1, T(), VS_OP_RW, 100);
	vs_matcher_add(m, &r);
	r = rec(1, false, 1 * EVG_MS + 30 * EVG_US, 2, T(), VS_OP_RW, 200);
	vs_matcher_add(m, &r);
	r = rec(1, false, 1 * EVG_MS + 40 * EVG_US, 3, T(),
		VS_OP_CREDIT_UPDATE, 100);
	vs_matcher_add(m, &r);
	r = rec(1, false, 1 * EVG_MS + 50 * EVG_US, 4, other, VS_OP_RW, 100);
	vs_matcher_add(m, &r);
	r = rec(1, false, 1 * EVG_MS + 60 * EVG_US, 1, T(), VS_OP_RW, 100);
	vs_matcher_add(m, &r);
	vs_matcher_flush(m);
	tally(&o, &good, &txo, &rxo, &bad);
	CHECK_EQ_U(good, 1);
	CHECK_EQ_U(bad, 0);
	CHECK_EQ_U(txo, 0);
	CHECK_EQ_U(rxo, 3);
	vs_matcher_free(m);
}

/* unbounded sends (offset unknown) never expire; the end flushes them */
static void t_match_unbounded(void)
{
	static struct outcomes o;
	struct vs_matcher *m;
	struct vs_pkt_rec r;

	memset(&o, 0, sizeof(o));
	m = vs_matcher_new(1 * EVG_MS, 100 * EVG_US, record, &o);
	CHECK(m != NULL);
	if (!m)
		return;
	for (unsigned int i = 0; i < 3; i++) {
		r = rec(0, true, (1 + i) * EVG_MS, i, T(), VS_OP_RW, 64);
		r.unbounded = 1;
		vs_matcher_add(m, &r);
	}
	vs_matcher_advance(m, 100 * EVG_S);
	CHECK_EQ_U(o.n, 0);
	CHECK_EQ_U(vs_matcher_pending(m), 3);
	/* a receive 1000 s later still finds the oldest */
	r = rec(1, false, 1000 * EVG_S, 0, T(), VS_OP_RW, 64);
	vs_matcher_add(m, &r);
	CHECK_EQ_U(o.n, 1);
	CHECK(o.n == 1 && o.v[0].tx == 0 && o.v[0].rx == 0);
	vs_matcher_flush(m);
	CHECK_EQ_U(o.n, 3);
	CHECK(o.n == 3 && o.v[1].tx == 1 && o.v[1].rx == NONE &&
	      o.v[2].tx == 2 && o.v[2].rx == NONE);
	CHECK_EQ_U(vs_matcher_pending(m), 0);
	vs_matcher_free(m);
}

/* freeing a matcher with records still waiting (ASan checks the rest) */
static void t_match_free_pending(void)
{
	static struct outcomes o;
	struct vs_matcher *m;
	struct vs_pkt_rec r;

	memset(&o, 0, sizeof(o));
	m = vs_matcher_new(1 * EVG_MS, 100 * EVG_US, record, &o);
	CHECK(m != NULL);
	if (!m)
		return;
	for (unsigned int i = 0; i < 100; i++) {
		r = rec(i % 2, i % 3 == 0, i * EVG_US, i, T(), VS_OP_RW,
			i % 7);
		r.unbounded = i % 5 == 0;
		vs_matcher_add(m, &r);
	}
	vs_matcher_advance(m, 50 * EVG_US);
	CHECK(vs_matcher_pending(m) > 0);
	vs_matcher_free(m);
	vs_matcher_free(NULL);
}

/* ---- the clock estimate -------------------------------------------------- */

#define SKEW (1000 * EVG_S) /* system 1's clock reads 1000 s more */
#define T0 (5 * EVG_S)	    /* the captures start (reference clock) */

struct truth {
	double drift;	   /* of system 1's clock, in ppm: fast > 0 */
	double slew;	   /* and this much faster still from slew_at on */
	uint64_t slew_at;
	uint64_t min_rtt;  /* smallest lat(there) + lat(back) of a round */
	uint64_t lat_min[2], lat_max[2];
	uint64_t last_ref; /* the last packet */
};

/* system 1's local time at reference time @ref */
static uint64_t local1(const struct truth *tr, uint64_t ref)
{
	return ref + SKEW +
	       (uint64_t)llround(tr->drift * 1e-6 * ((double)ref - T0)) +
	       (tr->slew && ref > tr->slew_at ?
			(uint64_t)llround(tr->slew * 1e-6 *
					  (double)(ref - tr->slew_at)) :
			0);
}

/* and back: the true reference time of system 1's @local */
static double true_ref(const struct truth *tr, uint64_t local)
{
	return T0 + ((double)local - SKEW - T0) / (1 + tr->drift * 1e-6);
}

static uint32_t xs(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void corr_pkt(struct vs_corr *c, unsigned int sys, uint64_t ts,
		     unsigned int kind, uint64_t scid, uint32_t sport,
		     uint64_t dcid, uint32_t dport, uint32_t len)
{
	struct vs_event ev = evg_pkt(sys, ts, kind, scid, sport, dcid, dport,
				     VS_OP_RW, len);

	CHECK_EQ_U(vs_corr_add(c, &ev), 0);
}

/*
 * @n rounds @period apart: the host (system 0, CID 2) sends to the guest
 * (system 1, CID 3), and half a period later the guest answers; latencies
 * 20-80 us. @both: the guest's answers are captured too.
 */
static void gen(struct vs_corr *c, struct truth *tr, unsigned int n,
		uint64_t period, bool both)
{
	uint32_t x = 0x9e3779b9u;

	tr->min_rtt = UINT64_MAX;
	tr->lat_min[0] = tr->lat_min[1] = UINT64_MAX;
	tr->lat_max[0] = tr->lat_max[1] = 0;
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t = T0 + i * period, u = t + period / 2;
		uint64_t l0 = 20 * EVG_US + xs(&x) % (60 * EVG_US + 1);
		uint64_t l1 = 20 * EVG_US + xs(&x) % (60 * EVG_US + 1);
		uint32_t len = 100 + i % 50;

		corr_pkt(c, 0, t, VS_EV_PKT_TX, 2, 1024, 3, 5000, len);
		corr_pkt(c, 1, local1(tr, t + l0), VS_EV_PKT_RX, 2, 1024, 3,
			 5000, len);
		if (l0 < tr->lat_min[0])
			tr->lat_min[0] = l0;
		if (l0 > tr->lat_max[0])
			tr->lat_max[0] = l0;
		tr->last_ref = t + l0;
		if (!both)
			continue;
		corr_pkt(c, 1, local1(tr, u), VS_EV_PKT_TX, 3, 5000, 2, 1024,
			 4096);
		corr_pkt(c, 0, u + l1, VS_EV_PKT_RX, 3, 5000, 2, 1024, 4096);
		if (l1 < tr->lat_min[1])
			tr->lat_min[1] = l1;
		if (l1 > tr->lat_max[1])
			tr->lat_max[1] = l1;
		if (l0 + l1 < tr->min_rtt)
			tr->min_rtt = l0 + l1;
		tr->last_ref = u + l1;
	}
}

/* |estimate - truth| of system 1's time @ref, in ns */
static double err_at(const struct vs_clock *ck, const struct truth *tr,
		     uint64_t ref)
{
	uint64_t l = local1(tr, ref);

	return fabs((double)vs_clock_to_ref(ck, l) - true_ref(tr, l));
}

static void check_clock(const struct vs_clock *ck, const struct truth *tr)
{
	CHECK(ck->known);
	CHECK(ck->has_uncertainty);
	CHECK(ck->pairs > 0);
	CHECK(ck->uncertainty_ns > 0);
	/*
	 * no worse than half the smallest round trip, at the start, middle
	 * and end (the stated uncertainty may be a little wider than that
	 * when the drift is fitted too: it covers every drift that fits)
	 */
	CHECK(err_at(ck, tr, T0) <= tr->min_rtt / 2);
	CHECK(err_at(ck, tr, (T0 + tr->last_ref) / 2) <= tr->min_rtt / 2);
	CHECK(err_at(ck, tr, tr->last_ref) <= tr->min_rtt / 2);
	CHECK(ck->uncertainty_ns <= tr->min_rtt);
	/* the truth within the uncertainty, at the start, middle and end */
	CHECK(err_at(ck, tr, T0) <= (double)ck->uncertainty_ns);
	CHECK(err_at(ck, tr, (T0 + tr->last_ref) / 2) <=
	      (double)ck->uncertainty_ns);
	CHECK(err_at(ck, tr, tr->last_ref) <= (double)ck->uncertainty_ns);
	if (vs_check_failed)
		printf("  # offset %" PRId64 " drift %.4f ppm anchor %" PRId64
		       " unc %" PRIu64 " pairs %" PRIu64 " (%s); truth: "
		       "drift %.1f ppm, min rtt %" PRIu64
		       "; error at start %.0f mid %.0f end %.0f ns\n",
		       ck->offset_ns, ck->drift_ppm, ck->anchor,
		       ck->uncertainty_ns, ck->pairs, ck->note, tr->drift,
		       tr->min_rtt, err_at(ck, tr, T0),
		       err_at(ck, tr, (T0 + tr->last_ref) / 2),
		       err_at(ck, tr, tr->last_ref));
}

/*
 * gen() @n rounds 10 ms apart into a new vs_corr and estimate the clocks
 * into @ck; the vs_corr, for the caller to free, or NULL
 */
static struct vs_corr *gen_estimate(struct truth *tr, unsigned int n,
				    bool both, struct vs_clock *ck)
{
	struct vs_corr *c = vs_corr_new(2);

	CHECK(c != NULL);
	if (!c)
		return NULL;
	gen(c, tr, n, 10 * EVG_MS, both);
	CHECK_EQ_U(vs_corr_estimate(c, ck, 100 * EVG_MS), 0);
	return c;
}

/* 1000 s apart, no drift, 2 s of traffic both ways */
static void t_corr_offset(void)
{
	struct vs_clock ck[2];
	struct truth tr = { .drift = 0 };
	struct vs_corr *c = gen_estimate(&tr, 200, true, ck);

	if (!c)
		return;
	CHECK(ck[0].known);
	CHECK_EQ_U(ck[0].offset_ns, 0);
	check_clock(&ck[1], &tr);
	CHECK(llabs(ck[1].offset_ns + (int64_t)SKEW) <=
	      (int64_t)ck[1].uncertainty_ns);
	CHECK_EQ_U(ck[1].pairs, 400);
	/* the CIDs each side owns */
	CHECK(vs_corr_owns(c, 0, 2) && !vs_corr_owns(c, 0, 3));
	CHECK(vs_corr_owns(c, 1, 3) && !vs_corr_owns(c, 1, 2));
	{
		const uint64_t *cids;

		CHECK_EQ_U(vs_corr_cids(c, 0, &cids), 1);
		CHECK_EQ_U(cids[0], 2);
	}
	vs_corr_free(c);
}

/* and with system 1's clock 50 ppm fast, over 20 s */
static void t_corr_drift(void)
{
	struct vs_clock ck[2];
	struct truth tr = { .drift = 50 };
	struct vs_corr *c = gen_estimate(&tr, 2000, true, ck);

	if (!c)
		return;
	check_clock(&ck[1], &tr);
	CHECK(fabs(ck[1].drift_ppm - 50) < 5);
	CHECK(!strstr(ck[1].note, "one line"));
	vs_corr_free(c);
}

/*
 * A clock whose rate changes (an NTP slew: 500 ppm more from 5 s on):
 * one line fits it only at the cost of its pairs, and the note says so
 */
static void t_corr_drift_changed(void)
{
	struct vs_clock ck[2];
	struct truth tr = { .drift = 50,
			    .slew = 500,
			    .slew_at = T0 + 5 * EVG_S };
	struct vs_corr *c = gen_estimate(&tr, 2000, true, ck);

	if (!c)
		return;
	CHECK(ck[1].known);
	CHECK(strstr(ck[1].note, "no one line fits them all") != NULL);
	if (vs_check_failed)
		printf("  # note: %s\n", ck[1].note);
	vs_corr_free(c);
}

/* packets one way only: a bound, not an estimate with an uncertainty */
static void t_corr_one_direction(void)
{
	struct vs_clock ck[2];
	struct truth tr = { .drift = 0 };
	struct vs_corr *c = gen_estimate(&tr, 200, false, ck);

	if (!c)
		return;
	CHECK(ck[1].known);
	CHECK(!ck[1].has_uncertainty);
	/* host sends, guest receives after: off >= tx - rx, the truth above;
	 * the bound allows a microsecond for timestamps printed rounded */
	CHECK(ck[1].offset_ns <= -(int64_t)SKEW);
	CHECK(ck[1].offset_ns >=
	      -(int64_t)SKEW - (int64_t)tr.lat_min[0] - 1000);
	vs_corr_free(c);
}

/* two captures with no packet in common */
static void t_corr_nothing_common(void)
{
	struct vs_corr *c = vs_corr_new(2);
	struct vs_clock ck[2];

	CHECK(c != NULL);
	if (!c)
		return;
	for (unsigned int i = 0; i < 50; i++) {
		uint64_t t = T0 + i * EVG_MS;

		/* the host talks to CID 5, the guest to CID 7: not traced */
		corr_pkt(c, 0, t, VS_EV_PKT_TX, 2, 1024, 5, 5000, 100);
		corr_pkt(c, 0, t + 50 * EVG_US, VS_EV_PKT_RX, 5, 5000, 2,
			 1024, 100);
		corr_pkt(c, 1, SKEW + t, VS_EV_PKT_TX, 3, 1024, 7, 5000,
			 100);
		corr_pkt(c, 1, SKEW + t + 50 * EVG_US, VS_EV_PKT_RX, 7, 5000,
			 3, 1024, 100);
	}
	CHECK_EQ_U(vs_corr_estimate(c, ck, 100 * EVG_MS), 0);
	CHECK(ck[0].known);
	CHECK(!ck[1].known);
	CHECK(!ck[1].has_uncertainty);
	CHECK_EQ_U(ck[1].pairs, 0);
	CHECK(ck[1].note[0] != '\0');
	vs_corr_free(c);
}

/* no packets at all; non-packet events are ignored */
static void t_corr_empty(void)
{
	struct vs_corr *c = vs_corr_new(2);
	struct vs_clock ck[2];
	struct vs_event ev = evg_irq(1, 5, 42, "virtio0");

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_EQ_U(vs_corr_add(c, &ev), 0);
	CHECK_EQ_U(vs_corr_estimate(c, ck, 100 * EVG_MS), 0);
	CHECK(ck[0].known);
	CHECK(!ck[1].known);
	vs_corr_free(c);
	vs_corr_free(NULL);
}

/*
 * Two captures that start together, one running 30 % longer (a live
 * stream ahead of the other): every packet alike, rounds with a random
 * think time between. Aligned from the end, each key's packets vote for a
 * wrong offset as often as for the right one; the right one's votes lie
 * within the latency. Both ways round: system 0's capture the longer,
 * then system 1's.
 */
static void t_corr_one_runs_longer(void)
{
	for (unsigned int longer = 0; longer < 2; longer++) {
		struct vs_corr *c = vs_corr_new(2);
		struct vs_clock ck[2];
		struct truth tr = { .drift = 0 };
		uint32_t x = 0x2545f491u;
		uint64_t t = T0;
		const unsigned int n = 1000, cut = n * 10 / 13;

		CHECK(c != NULL);
		if (!c)
			return;
		tr.min_rtt = UINT64_MAX;
		for (unsigned int i = 0; i < n; i++) {
			uint64_t l0 = 30 * EVG_US + xs(&x) % (60 * EVG_US + 1);
			uint64_t l1 = 30 * EVG_US + xs(&x) % (60 * EVG_US + 1);
			uint64_t u = t + l0 + 20 * EVG_US;
			bool in0 = longer == 0 || i < cut;
			bool in1 = longer == 1 || i < cut;

			if (in0) {
				corr_pkt(c, 0, t, VS_EV_PKT_TX, 2, 1024, 3,
					 5000, 64);
				corr_pkt(c, 0, u + l1, VS_EV_PKT_RX, 3, 5000, 2,
					 1024, 64);
			}
			if (in1) {
				corr_pkt(c, 1, local1(&tr, t + l0),
					 VS_EV_PKT_RX, 2, 1024, 3, 5000, 64);
				corr_pkt(c, 1, local1(&tr, u), VS_EV_PKT_TX,
					 3, 5000, 2, 1024, 64);
			}
			if (i < cut) { /* in both captures */
				if (l0 + l1 < tr.min_rtt)
					tr.min_rtt = l0 + l1;
				tr.last_ref = u + l1;
			}
			t = u + l1 + 800 * EVG_US + xs(&x) % (2 * EVG_MS);
		}
		CHECK_EQ_U(vs_corr_estimate(c, ck, 100 * EVG_MS), 0);
		check_clock(&ck[1], &tr);
		CHECK(llabs(ck[1].offset_ns + (int64_t)SKEW) <=
		      (int64_t)ck[1].uncertainty_ns);
		CHECK_EQ_U(ck[1].pairs, 2 * cut);
		vs_corr_free(c);
	}
}

/* the clock model's two directions agree */
static void t_clock_roundtrip(void)
{
	struct vs_clock ck;
	const uint64_t locals[] = { 0, 1, 999 * EVG_S, SKEW, SKEW + 7 * EVG_S,
				    SKEW + 20 * EVG_S };

	memset(&ck, 0, sizeof(ck));
	ck.known = true;
	ck.offset_ns = -(int64_t)SKEW;
	CHECK(vs_clock_to_ref(&ck, SKEW + 5) == 5);
	CHECK_EQ_U(vs_clock_to_local(&ck, 5), SKEW + 5);

	ck.drift_ppm = 50;
	ck.anchor = (int64_t)(SKEW + T0);
	/* at the anchor the drift does not count */
	CHECK(vs_clock_to_ref(&ck, SKEW + T0) == (int64_t)T0);
	/* 10 s later on a clock 50 ppm fast: 500 us less of reference */
	CHECK(vs_clock_to_ref(&ck, SKEW + T0 + 10 * EVG_S) ==
	      (int64_t)(T0 + 10 * EVG_S - 500 * EVG_US));
	for (size_t i = 0; i < sizeof(locals) / sizeof(locals[0]); i++) {
		int64_t r = vs_clock_to_ref(&ck, locals[i]);

		if (r < 0)
			continue;
		CHECK(llabs((int64_t)vs_clock_to_local(&ck, (uint64_t)r) -
			    (int64_t)locals[i]) <= 1);
	}
}

/*
 * Credit updates in steady traffic (latency 100 us), then a burst of 40
 * that waited in the sender's queue: sent over 2 ms, all received 9 ms
 * after the first within 0.4 ms. Order pairs them; none is lost.
 */
static void t_match_queued_burst(void)
{
	static struct outcomes o;
	struct vs_pkt_rec v[400];
	struct vs_matcher *m;
	size_t n = 0, good, txo, rxo, bad;
	unsigned int i;

	memset(&o, 0, sizeof(o));
	m = vs_matcher_new(100 * EVG_MS, 1 * EVG_MS, record, &o);
	CHECK(m != NULL);
	if (!m)
		return;
	vs_matcher_set_in_order(m, true);
	for (i = 0; i < 50; i++) {
		uint64_t t = 1 * EVG_MS + i * EVG_MS;

		v[n++] = rec(0, true, t, i, T(), VS_OP_CREDIT_UPDATE, 0);
		v[n++] = rec(1, false, t + 100 * EVG_US, i, T(),
			     VS_OP_CREDIT_UPDATE, 0);
	}
	for (; i < 90; i++) {
		uint64_t t = 60 * EVG_MS + (i - 50) * 50 * EVG_US;

		v[n++] = rec(0, true, t, i, T(), VS_OP_CREDIT_UPDATE, 0);
		v[n++] = rec(1, false, 69 * EVG_MS + (i - 50) * 10 * EVG_US, i,
			     T(), VS_OP_CREDIT_UPDATE, 0);
	}
	run(m, v, n);
	vs_matcher_flush(m);
	tally(&o, &good, &txo, &rxo, &bad);
	CHECK_EQ_U(good, 90);
	CHECK_EQ_U(bad, 0);
	CHECK_EQ_U(txo, 0);
	CHECK_EQ_U(rxo, 0);
	vs_matcher_free(m);
}

/*
 * vhost splits a 64 KiB host packet across 3732-byte guest buffers: the
 * first piece pairs with the send, the others with nothing, no send is
 * left over, and the next send pairs by its offset as usual. A packet
 * lost before a shorter one is still a loss, not a piece.
 */
static void t_match_fragments(void)
{
	static struct outcomes o;
	struct vs_pkt_rec v[200];
	struct vs_matcher *m;
	size_t n = 0, good, txo, rxo, bad;
	const uint32_t piece = 3732, len = 65536;

	memset(&o, 0, sizeof(o));
	m = vs_matcher_new(100 * EVG_MS, 1 * EVG_MS, record, &o);
	CHECK(m != NULL);
	if (!m)
		return;
	for (unsigned int i = 0; i < 4; i++) {
		uint64_t t = 1 * EVG_MS + i * 5 * EVG_MS;
		uint64_t off = (uint64_t)i * len;

		v[n] = rec(0, true, t, i, T(), VS_OP_RW, len);
		v[n].has_off = 1;
		v[n++].off = off;
		for (uint32_t k = 0; k < len; k += piece) {
			uint32_t l = len - k < piece ? len - k : piece;

			v[n] = rec(1, false, t + 200 * EVG_US + k / piece * EVG_US,
				   k ? 1000 + i : i, T(), VS_OP_RW, l);
			v[n].has_off = 1;
			v[n++].off = off + k;
		}
	}
	run(m, v, n);
	vs_matcher_flush(m);
	tally(&o, &good, &txo, &rxo, &bad);
	CHECK_EQ_U(good, 4);
	CHECK_EQ_U(bad, 0);
	CHECK_EQ_U(txo, 0);
	CHECK_EQ_U(rxo, 4 * 17); /* the other pieces, unpaired */
	vs_matcher_free(m);

	/* a 100-byte send lost, then a 50-byte one: the receiver's offset
	 * says 0 for the 50 bytes; they are the second send, not a piece of
	 * the first, and the 30 bytes after pair by the shifted offset */
	memset(&o, 0, sizeof(o));
	m = vs_matcher_new(100 * EVG_MS, 1 * EVG_MS, record, &o);
	CHECK(m != NULL);
	if (!m)
		return;
	n = 0;
	v[n] = rec(0, true, 1 * EVG_MS, 0, T(), VS_OP_RW, 100);
	v[n].has_off = 1;
	v[n++].off = 0;
	v[n] = rec(0, true, 2 * EVG_MS, 1, T(), VS_OP_RW, 50);
	v[n].has_off = 1;
	v[n++].off = 100;
	v[n] = rec(0, true, 3 * EVG_MS, 2, T(), VS_OP_RW, 30);
	v[n].has_off = 1;
	v[n++].off = 150;
	v[n] = rec(1, false, 2 * EVG_MS + 50 * EVG_US, 1, T(), VS_OP_RW, 50);
	v[n].has_off = 1;
	v[n++].off = 0;
	v[n] = rec(1, false, 3 * EVG_MS + 50 * EVG_US, 2, T(), VS_OP_RW, 30);
	v[n].has_off = 1;
	v[n++].off = 50;
	run(m, v, n);
	vs_matcher_flush(m);
	tally(&o, &good, &txo, &rxo, &bad);
	CHECK_EQ_U(good, 2);
	CHECK_EQ_U(bad, 0);
	CHECK_EQ_U(txo, 1);
	CHECK_EQ_U(rxo, 0);
	vs_matcher_free(m);
}

/*
 * The clock model puts the first piece 3 us before its send (the
 * offset's error, seen on the real-kernel tier): by the stream offsets it
 * is still that send's first piece, and nothing is lost.
 */
static void t_match_fragment_early(void)
{
	static struct outcomes o;
	struct vs_pkt_rec v[40];
	struct vs_matcher *m;
	size_t n = 0, good, txo, rxo, bad;
	const uint32_t piece = 3732, len = 65536;
	const uint64_t t = 1 * EVG_MS;

	memset(&o, 0, sizeof(o));
	m = vs_matcher_new(100 * EVG_MS, 1 * EVG_MS, record, &o);
	CHECK(m != NULL);
	if (!m)
		return;
	v[n] = rec(1, false, t, 0, T(), VS_OP_RW, piece);
	v[n].has_off = 1;
	v[n++].off = 0;
	v[n] = rec(0, true, t + 3 * EVG_US, 0, T(), VS_OP_RW, len);
	v[n].has_off = 1;
	v[n++].off = 0;
	for (uint32_t k = piece; k < len; k += piece) {
		v[n] = rec(1, false, t + 3 * EVG_US + k / piece * EVG_US, 1000,
			   T(), VS_OP_RW, len - k < piece ? len - k : piece);
		v[n].has_off = 1;
		v[n++].off = k;
	}
	run(m, v, n);
	vs_matcher_flush(m);
	tally(&o, &good, &txo, &rxo, &bad);
	CHECK_EQ_U(good, 1);
	CHECK_EQ_U(bad, 0);
	CHECK_EQ_U(txo, 0);
	CHECK_EQ_U(rxo, 17);
	vs_matcher_free(m);
}

VS_TEST_MAIN({ "match_in_order", t_match_in_order },
	     { "match_fragment_early", t_match_fragment_early },
	     { "match_lost_in_bulk", t_match_lost_in_bulk },
	     { "match_lost_interactive", t_match_lost_interactive },
	     { "match_queued_burst", t_match_queued_burst },
	     { "match_fragments", t_match_fragments },
	     { "match_rx_before_tx", t_match_rx_before_tx },
	     { "match_expiry", t_match_expiry },
	     { "match_keys", t_match_keys },
	     { "match_unbounded", t_match_unbounded },
	     { "match_free_pending", t_match_free_pending },
	     { "corr_offset", t_corr_offset },
	     { "corr_drift", t_corr_drift },
	     { "corr_drift_changed", t_corr_drift_changed },
	     { "corr_one_direction", t_corr_one_direction },
	     { "corr_nothing_common", t_corr_nothing_common },
	     { "corr_empty", t_corr_empty },
	     { "corr_one_runs_longer", t_corr_one_runs_longer },
	     { "clock_roundtrip", t_clock_roundtrip })
