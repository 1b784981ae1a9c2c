// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the flow table and credit accounting (lib/flow.c), written
 * against flow.h: get/create/count/at, tuple strings, the sender's view of
 * credit (peer_free = buf_alloc - (tx_cnt - fwd_cnt)) with the connection
 * start seen and mid-connection, fwd_cnt wrap-around, vs_flow_state, and
 * the flow table as the engine fills it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "evgen.h"
#include "flow.h"

/* a packet header as the credit functions see it */
static struct vs_pkt pkt(unsigned int op, uint32_t len, uint32_t buf_alloc,
			 uint32_t fwd_cnt)
{
	struct vs_pkt p;

	memset(&p, 0, sizeof(p));
	p.src_cid = 3;
	p.src_port = 1024;
	p.dst_cid = 2;
	p.dst_port = 5000;
	p.type = VS_TYPE_STREAM;
	p.op = (uint16_t)op;
	p.len = len;
	p.buf_alloc = buf_alloc;
	p.fwd_cnt = fwd_cnt;
	return p;
}

static void tx(struct vs_credit *cr, unsigned int op, uint32_t len)
{
	struct vs_pkt p = pkt(op, len, 0, 0);

	vs_credit_tx(cr, &p);
}

static void adv(struct vs_credit *cr, uint32_t buf_alloc, uint32_t fwd_cnt,
		uint64_t ts)
{
	struct vs_pkt p = pkt(VS_OP_RW, 0, buf_alloc, fwd_cnt);

	vs_credit_adv(cr, &p, ts);
}

/* ---- the table -------------------------------------------------------- */

static void t_table_get_create(void)
{
	struct vs_flow_table *ft = vs_flow_table_new();
	struct vs_tuple a = evg_tuple(3, 1024, 2, 5000);
	struct vs_tuple ra = vs_tuple_reverse(a);
	struct vs_flow *f, *g, *r, *o;

	CHECK(ft != NULL);
	if (!ft)
		return;
	CHECK_EQ_U(vs_flow_count(ft), 0);
	CHECK(vs_flow_get(ft, 0, &a, false) == NULL);
	CHECK_EQ_U(vs_flow_count(ft), 0);

	f = vs_flow_get(ft, 0, &a, true);
	CHECK(f != NULL);
	if (!f)
		goto out;
	CHECK_EQ_U(vs_flow_count(ft), 1);
	CHECK(vs_flow_at(ft, 0) == f);
	CHECK(vs_tuple_eq(&f->t, &a));
	CHECK_EQ_U(f->system, 0);
	CHECK_EQ_U(f->index, 0);
	CHECK(f->min_free == -1); /* never known */
	CHECK(f->stall == NULL);
	CHECK_EQ_U(f->tx_pkts + f->rx_pkts + f->tx_bytes + f->rx_bytes, 0);
	CHECK(!f->cr.peer_known);

	/* found again, with or without create; nothing new */
	g = vs_flow_get(ft, 0, &a, false);
	CHECK(g == f);
	g = vs_flow_get(ft, 0, &a, true);
	CHECK(g == f);
	CHECK_EQ_U(vs_flow_count(ft), 1);

	/* the reverse direction is its own entry */
	CHECK(vs_flow_get(ft, 0, &ra, false) == NULL);
	r = vs_flow_get(ft, 0, &ra, true);
	CHECK(r != NULL && r != f);
	CHECK_EQ_U(vs_flow_count(ft), 2);

	/* the same tuple on another system is another entry */
	CHECK(vs_flow_get(ft, 1, &a, false) == NULL);
	o = vs_flow_get(ft, 1, &a, true);
	CHECK(o != NULL && o != f && o != r);
	if (o) {
		CHECK_EQ_U(o->system, 1);
		CHECK_EQ_U(o->index, 2);
	}
	CHECK_EQ_U(vs_flow_count(ft), 3);
	CHECK(vs_flow_at(ft, 1) == r);
	CHECK(vs_flow_at(ft, 2) == o);
	CHECK(vs_flow_get(ft, 0, &a, false) == f);
out:
	vs_flow_table_free(ft);
}

/* many flows: buckets grow, chunks are added, pointers stay valid */
static void t_table_many(void)
{
	enum { N = 5000 };
	struct vs_flow_table *ft = vs_flow_table_new();
	struct vs_flow **p = calloc(N, sizeof(*p));
	unsigned int bad_get = 0, bad_at = 0, bad_t = 0;

	CHECK(ft != NULL && p != NULL);
	if (!ft || !p)
		goto out;
	for (unsigned int i = 0; i < N; i++) {
		struct vs_tuple t = evg_tuple(3 + i % 7, 1024 + i, 2, 5000);

		p[i] = vs_flow_get(ft, i % 2, &t, true);
		if (!p[i]) {
			CHECK(p[i] != NULL);
			goto out;
		}
		p[i]->tx_pkts = i; /* a mark that must survive */
	}
	CHECK_EQ_U(vs_flow_count(ft), N);
	for (unsigned int i = 0; i < N; i++) {
		struct vs_tuple t = evg_tuple(3 + i % 7, 1024 + i, 2, 5000);
		struct vs_flow *f = vs_flow_get(ft, i % 2, &t, false);

		if (f != p[i])
			bad_get++;
		if (vs_flow_at(ft, i) != p[i] || p[i]->index != i)
			bad_at++;
		if (!vs_tuple_eq(&p[i]->t, &t) || p[i]->tx_pkts != i ||
		    p[i]->system != i % 2)
			bad_t++;
		/* and not on the other system */
		if (vs_flow_get(ft, (i + 1) % 2, &t, false))
			bad_get++;
	}
	CHECK_EQ_U(bad_get, 0);
	CHECK_EQ_U(bad_at, 0);
	CHECK_EQ_U(bad_t, 0);
	CHECK_EQ_U(vs_flow_count(ft), N);
out:
	free(p);
	vs_flow_table_free(ft);
}

/*
 * Entries made and removed at random, 200k times, against a model: every
 * entry present is found with its own key and mark, none removed is, and
 * places are used again. Removal shifts later slots of a probe run back,
 * so a table that only emptied the slot loses entries here.
 */
static void t_table_remove(void)
{
	enum { KEYS = 3000, OPS = 200000 };
	struct vs_flow_table *ft = vs_flow_table_new();
	struct vs_flow **p = calloc(KEYS, sizeof(*p));
	unsigned int live = 0, peak = 0, lost = 0, ghosts = 0, wrong = 0;
	uint64_t seed = 0x5eed;

	CHECK(ft != NULL && p != NULL);
	if (!ft || !p)
		goto out;
	for (unsigned int op = 0; op < OPS; op++) {
		unsigned int k = (unsigned int)(vs_test_rand(&seed) % KEYS);
		struct vs_tuple t = evg_tuple(3 + k % 5, 1024 + k, 2, 5000);

		if (p[k]) {
			vs_flow_remove(ft, p[k]);
			CHECK(vs_flow_gone(p[k]));
			p[k] = NULL;
			live--;
		} else {
			p[k] = vs_flow_get(ft, k % 3, &t, true);
			if (!p[k]) {
				CHECK(p[k] != NULL);
				goto out;
			}
			p[k]->tx_pkts = k;
			if (++live > peak)
				peak = live;
		}
		if (op % 1000)
			continue;
		for (unsigned int j = 0; j < KEYS; j++) {
			struct vs_tuple u = evg_tuple(3 + j % 5, 1024 + j, 2,
						      5000);
			struct vs_flow *f = vs_flow_get(ft, j % 3, &u, false);

			if (p[j] && f != p[j])
				lost++;
			if (!p[j] && f)
				ghosts++;
			if (p[j] && (p[j]->tx_pkts != j ||
				     !vs_tuple_eq(&p[j]->t, &u) ||
				     vs_flow_at(ft, p[j]->index) != p[j]))
				wrong++;
		}
		CHECK_EQ_U(vs_flow_live(ft), live);
	}
	CHECK_EQ_U(lost, 0);
	CHECK_EQ_U(ghosts, 0);
	CHECK_EQ_U(wrong, 0);
	/* removed places are used again: never more than the most at once */
	CHECK_EQ_U(vs_flow_count(ft), peak);
	CHECK(peak < KEYS);
out:
	free(p);
	vs_flow_table_free(ft);
}

static void t_table_free_null(void)
{
	vs_flow_table_free(NULL);
	CHECK(1);
}

/* ---- tuples ------------------------------------------------------------ */

static void t_tuple_str(void)
{
	char buf[VS_TUPLE_STRLEN];
	struct vs_tuple t = evg_tuple(3, 1024, 2, 5000);
	struct vs_tuple big = evg_tuple(UINT64_MAX, UINT32_MAX, 4294967295u,
					0);
	struct vs_tuple lo = evg_tuple(1, 50000, 1, 1234);

	CHECK(vs_tuple_str(&t, buf, sizeof(buf)) == buf);
	CHECK_STR(buf, "3:1024->2:5000");
	vs_tuple_str(&lo, buf, sizeof(buf));
	CHECK_STR(buf, "1:50000->1:1234");
	vs_tuple_str(&big, buf, sizeof(buf));
	CHECK_STR(buf, "18446744073709551615:4294967295->4294967295:0");

	/* a short buffer is truncated and terminated */
	memset(buf, 'x', sizeof(buf));
	vs_tuple_str(&t, buf, 6);
	CHECK_STR(buf, "3:102");
}

static void t_tuple_helpers(void)
{
	struct vs_pkt p = pkt(VS_OP_RW, 10, 0, 0);
	struct vs_tuple t = vs_tuple_of(&p), r = vs_tuple_reverse(t);
	struct vs_tuple rr = vs_tuple_reverse(r);

	CHECK(evg_tuple_is(&t, 3, 1024, 2, 5000));
	CHECK(evg_tuple_is(&r, 2, 5000, 3, 1024));
	CHECK(vs_tuple_eq(&rr, &t));
	CHECK(!vs_tuple_eq(&r, &t));
	/* a loopback tuple is not its own reverse unless the ports agree */
	{
		struct vs_tuple l = evg_tuple(1, 50000, 1, 1234);
		struct vs_tuple lr = vs_tuple_reverse(l);
		struct vs_tuple s = evg_tuple(1, 7, 1, 7);
		struct vs_tuple sr = vs_tuple_reverse(s);

		CHECK(!vs_tuple_eq(&l, &lr));
		CHECK(vs_tuple_eq(&s, &sr));
	}
}

/* ---- credit ------------------------------------------------------------ */

/* the connection start was seen: tx_cnt is exact */
static void t_credit_exact(void)
{
	struct vs_credit cr;

	memset(&cr, 0xa5, sizeof(cr));
	vs_credit_start(&cr);
	CHECK(cr.base_exact);
	CHECK(!cr.peer_known);
	CHECK_EQ_U(cr.tx_seen, 0);
	CHECK(vs_credit_peer_free(&cr) == INT64_MIN); /* no advertisement */

	tx(&cr, VS_OP_RW, 1000);
	tx(&cr, VS_OP_RW, 1000);
	tx(&cr, VS_OP_RW, 1000);
	/* control packets carry no payload credit */
	tx(&cr, VS_OP_CREDIT_UPDATE, 0);
	tx(&cr, VS_OP_CREDIT_REQUEST, 0);
	tx(&cr, VS_OP_SHUTDOWN, 0);
	CHECK_EQ_U(cr.tx_seen, 3000);
	CHECK_EQ_U(cr.last_len, 1000);
	CHECK(vs_credit_peer_free(&cr) == INT64_MIN);

	adv(&cr, 262144, 1000, 5000);
	CHECK(cr.peer_known);
	CHECK_EQ_U(cr.peer_buf_alloc, 262144);
	CHECK_EQ_U(cr.adv_ts, 5000);
	/* 262144 - (3000 - 1000) */
	CHECK(vs_credit_peer_free(&cr) == 260144);

	tx(&cr, VS_OP_RW, 4096);
	CHECK_EQ_U(cr.last_len, 4096);
	CHECK(vs_credit_peer_free(&cr) == 262144 - (7096 - 1000));

	/* the peer read everything */
	adv(&cr, 262144, 7096, 6000);
	CHECK(vs_credit_peer_free(&cr) == 262144);

	/* fill the window exactly: no free space left */
	for (int i = 0; i < 64; i++)
		tx(&cr, VS_OP_RW, 4096);
	CHECK(vs_credit_peer_free(&cr) == 0);
	/* sent past the advertised window (a buggy peer): below zero */
	tx(&cr, VS_OP_RW, 100);
	CHECK(vs_credit_peer_free(&cr) == -100);

	/* the peer shrinks its buffer */
	adv(&cr, 65536, 7096 + 262144, 7000);
	CHECK(vs_credit_peer_free(&cr) == 65536 - 100);

	/* a zero-length RW keeps the last length */
	tx(&cr, VS_OP_RW, 0);
	CHECK_EQ_U(cr.last_len, 100);
}

/* mid-connection: tx_cnt is only known from below, from the adverts */
static void t_credit_mid_connection(void)
{
	struct vs_credit cr;

	memset(&cr, 0, sizeof(cr));
	CHECK(!cr.base_exact);
	tx(&cr, VS_OP_RW, 1000);
	CHECK(vs_credit_peer_free(&cr) == INT64_MIN);

	/*
	 * the peer has forwarded 50000 bytes: we sent at least that many,
	 * so tx_cnt >= 50000 and nothing need be in flight
	 */
	adv(&cr, 65536, 50000, 1);
	CHECK(cr.peer_known);
	CHECK(vs_credit_peer_free(&cr) == 65536);

	tx(&cr, VS_OP_RW, 4000);
	/* tx_cnt >= 50000 + 4000 (the 1000 before may be forwarded) */
	CHECK(vs_credit_peer_free(&cr) == 65536 - 4000);

	/* fwd_cnt 52000: in flight >= 54000 - 52000 */
	adv(&cr, 65536, 52000, 2);
	CHECK(vs_credit_peer_free(&cr) == 65536 - 2000);

	/* fwd_cnt 56000 > 54000: the lower bound rises, nothing in flight */
	adv(&cr, 65536, 56000, 3);
	CHECK(vs_credit_peer_free(&cr) == 65536);

	/* from here on it is exact relative to the bound */
	for (int i = 0; i < 16; i++)
		tx(&cr, VS_OP_RW, 4096);
	CHECK(vs_credit_peer_free(&cr) == 0);
	adv(&cr, 65536, 56000 + 8192, 4);
	CHECK(vs_credit_peer_free(&cr) == 8192);
	CHECK_EQ_U(cr.peer_fwd, 56000 + 8192);
}

/* fwd_cnt is a free-running u32: 4294967000 -> 200 moved 496 bytes */
static void t_credit_wrap_mid_connection(void)
{
	struct vs_credit cr;

	memset(&cr, 0, sizeof(cr));
	adv(&cr, 262144, 4294967000u, 1);
	CHECK(vs_credit_peer_free(&cr) == 262144);
	for (int i = 0; i < 4; i++)
		tx(&cr, VS_OP_RW, 1024);
	CHECK(vs_credit_peer_free(&cr) == 262144 - 4096);

	adv(&cr, 262144, 200, 2);
	CHECK_EQ_U(cr.peer_fwd_raw, 200);
	CHECK(cr.peer_fwd == 4294967496ll);
	/* 496 of the 4096 bytes were forwarded */
	CHECK(vs_credit_peer_free(&cr) == 262144 - 3600);

	adv(&cr, 262144, 200 + 3600, 3);
	CHECK(vs_credit_peer_free(&cr) == 262144);
	CHECK(cr.peer_fwd == 4294967296ll + 3800);
}

static void t_credit_wrap_exact(void)
{
	struct vs_credit cr;

	vs_credit_start(&cr);
	adv(&cr, 262144, 0, 1);
	/* 4 GiB less 256 bytes went by */
	tx(&cr, VS_OP_RW, 0xffffff00u);
	adv(&cr, 262144, 4294967000u, 2);
	CHECK(vs_credit_peer_free(&cr) == 262144 - 40);
	tx(&cr, VS_OP_RW, 1000);
	CHECK(vs_credit_peer_free(&cr) == 262144 - 1040);
	adv(&cr, 262144, 200, 3);
	CHECK(cr.peer_fwd == 4294967496ll);
	/* tx_cnt 4294968040, fwd 4294967496: 544 in flight */
	CHECK(vs_credit_peer_free(&cr) == 262144 - 544);
	/* the peer caught up */
	adv(&cr, 262144, 200 + 544, 4);
	CHECK(vs_credit_peer_free(&cr) == 262144);
}

/* a new connection on a reused port starts the counters again */
static void t_credit_start_resets(void)
{
	struct vs_credit cr;

	memset(&cr, 0, sizeof(cr));
	adv(&cr, 65536, 123456, 1);
	tx(&cr, VS_OP_RW, 4096);
	vs_credit_start(&cr);
	CHECK(!cr.peer_known);
	CHECK_EQ_U(cr.tx_seen, 0);
	CHECK(vs_credit_peer_free(&cr) == INT64_MIN);
	adv(&cr, 65536, 0, 2);
	CHECK(vs_credit_peer_free(&cr) == 65536);
	tx(&cr, VS_OP_RW, 4096);
	CHECK(vs_credit_peer_free(&cr) == 65536 - 4096);
}

/* ---- state ------------------------------------------------------------- */

static void t_flow_state(void)
{
	struct vs_flow f, r;

	memset(&f, 0, sizeof(f));
	memset(&r, 0, sizeof(r));
	CHECK_STR(vs_flow_state(&f, NULL), "open");
	CHECK_STR(vs_flow_state(&f, &r), "open");
	f.ops_tx = 1u << VS_OP_RW;
	CHECK_STR(vs_flow_state(&f, &r), "open");
	f.ops_tx |= 1u << VS_OP_REQUEST;
	CHECK_STR(vs_flow_state(&f, NULL), "connecting");
	CHECK_STR(vs_flow_state(&f, &r), "connecting");
	r.ops_tx = 1u << VS_OP_RESPONSE; /* the reverse direction answered */
	CHECK_STR(vs_flow_state(&f, NULL), "connecting");
	CHECK_STR(vs_flow_state(&f, &r), "established");
	f.ops_rx = 1u << VS_OP_SHUTDOWN;
	CHECK_STR(vs_flow_state(&f, &r), "shutdown");
	/* SHUTDOWN then RST: the normal close */
	r.ops_rx = 1u << VS_OP_RST;
	CHECK_STR(vs_flow_state(&f, &r), "closed");
	CHECK_STR(vs_flow_state(&r, &f), "closed");
	CHECK_STR(vs_flow_state(&f, NULL), "shutdown");
	CHECK_STR(vs_flow_state(&r, NULL), "reset");
	/* RST without SHUTDOWN: an abort */
	f.ops_rx = 0;
	CHECK_STR(vs_flow_state(&f, &r), "reset");

	/* a refused connection: REQUEST answered by RST */
	memset(&f, 0, sizeof(f));
	memset(&r, 0, sizeof(r));
	f.ops_tx = 1u << VS_OP_REQUEST;
	r.ops_rx = 1u << VS_OP_RST;
	CHECK_STR(vs_flow_state(&f, &r), "reset");
}

/* ---- the table as the engine fills it --------------------------------- */

/* host CID 2 (system 0) connects to guest CID 3 port 5000 */
static void t_engine_flows(void)
{
	struct vs_engine *e = evg_engine(1, NULL);
	struct vs_tuple c2s = evg_tuple(2, 1024, 3, 5000), s2c;
	struct vs_flow *f, *r;

	CHECK(e != NULL);
	if (!e)
		return;
	s2c = vs_tuple_reverse(c2s);
	EVG_FEED(e, evg_pkt(0, 1 * EVG_MS, VS_EV_PKT_TX, 2, 1024, 3, 5000,
			    VS_OP_REQUEST, 0));
	EVG_FEED(e, evg_pkt_cr(0, 2 * EVG_MS, VS_EV_PKT_RX, 3, 5000, 2, 1024,
			       VS_OP_RESPONSE, 0, 65536, 0));
	for (int i = 0; i < 10; i++)
		EVG_FEED(e, evg_pkt(0, (3 + i) * EVG_MS, VS_EV_PKT_TX, 2,
				    1024, 3, 5000, VS_OP_RW, 1000));
	EVG_FEED(e, evg_pkt_cr(0, 20 * EVG_MS, VS_EV_PKT_RX, 3, 5000, 2, 1024,
			       VS_OP_RW, 300, 65536, 4000));
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(vs_flow_count(e->flows), 2);
	f = vs_flow_get(e->flows, 0, &c2s, false);
	r = vs_flow_get(e->flows, 0, &s2c, false);
	CHECK(f != NULL && r != NULL);
	if (!f || !r)
		goto out;
	CHECK(vs_flow_at(e->flows, 0) == f);
	CHECK(vs_flow_at(e->flows, 1) == r);
	CHECK_EQ_U(f->tx_pkts, 11);
	CHECK_EQ_U(f->tx_bytes, 10000);
	CHECK_EQ_U(f->rx_pkts, 0);
	CHECK_EQ_U(r->rx_pkts, 2);
	CHECK_EQ_U(r->rx_bytes, 300);
	CHECK_EQ_U(r->tx_pkts, 0);
	CHECK_EQ_U(f->type, VS_TYPE_STREAM);
	CHECK_EQ_U(f->first_ts, 1 * EVG_MS);
	CHECK_EQ_U(f->last_ts, 12 * EVG_MS);
	CHECK_EQ_U(r->first_ts, 2 * EVG_MS);
	CHECK_EQ_U(r->last_ts, 20 * EVG_MS);
	CHECK_EQ_U(f->ops_tx, (1u << VS_OP_REQUEST) | (1u << VS_OP_RW));
	CHECK_EQ_U(r->ops_rx, (1u << VS_OP_RESPONSE) | (1u << VS_OP_RW));
	CHECK_STR(vs_flow_state(f, r), "established");

	/* credit for our sends comes from what the guest advertised */
	CHECK(f->cr.base_exact);
	CHECK(f->cr.peer_known);
	CHECK_EQ_U(f->cr.peer_buf_alloc, 65536);
	CHECK(vs_credit_peer_free(&f->cr) == 65536 - (10000 - 4000));
	/* lowest seen: after the 10th packet, before the guest's update */
	CHECK(f->min_free == 65536 - 10000);
	/* nothing advertised the other way: the guest's view is unknown */
	CHECK(!r->cr.peer_known);
	CHECK_EQ_U(e->findings.n, 0);
	evg_dump_if_failed(e);
out:
	vs_engine_free(e);
}

VS_TEST_MAIN({ "flow_table_get_create", t_table_get_create },
	     { "flow_table_many", t_table_many },
	     { "flow_table_remove", t_table_remove },
	     { "flow_table_free_null", t_table_free_null },
	     { "flow_tuple_str", t_tuple_str },
	     { "flow_tuple_helpers", t_tuple_helpers },
	     { "flow_credit_exact", t_credit_exact },
	     { "flow_credit_mid_connection", t_credit_mid_connection },
	     { "flow_credit_wrap_mid_connection",
	       t_credit_wrap_mid_connection },
	     { "flow_credit_wrap_exact", t_credit_wrap_exact },
	     { "flow_credit_start_resets", t_credit_start_resets },
	     { "flow_state", t_flow_state },
	     { "flow_engine_table", t_engine_flows })
