// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the credit stall detector (lib/detect_credit.c) through
 * the engine: a vsock loopback capture on one system (CID 1 at both ends),
 * where every packet shows twice, as alloc_pkt (TX) from its sender and as
 * recv_pkt (RX, with the sender's buf_alloc and fwd_cnt) at its receiver.
 *
 * The writer W (1:50000) connects to the reader R (1:1234); both advertise
 * buf_alloc 262144. W fills R's window with 64 packets of 4096 bytes and R
 * stops reading: from W's 64th packet on, peer_free is 0, below what W needs.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "evgen.h"

#define CID 1
#define W_PORT 50000
#define R_PORT 1234
#define BUF 262144u
#define LAT (10 * EVG_US) /* loopback: send to receive */
#define PKT 4096u
#define NFILL 64 /* BUF / PKT */

#define T_FILL (2 * EVG_MS)
#define T_STALL (T_FILL + (NFILL - 1) * 100 * EVG_US) /* the 64th send */

static struct vs_tuple w2r(void)
{
	return evg_tuple(CID, W_PORT, CID, R_PORT);
}

static struct vs_tuple r2w(void)
{
	return evg_tuple(CID, R_PORT, CID, W_PORT);
}

/* a packet from W to R: W's alloc_pkt, then R's recv_pkt with W's adverts */
static void w_send(struct vs_engine *e, uint64_t t, unsigned int op,
		   uint32_t len, uint32_t w_fwd)
{
	EVG_FEED(e, evg_pkt(0, t, VS_EV_PKT_TX, CID, W_PORT, CID, R_PORT, op,
			    len));
	EVG_FEED(e, evg_pkt_cr(0, t + LAT, VS_EV_PKT_RX, CID, W_PORT, CID,
			       R_PORT, op, len, BUF, w_fwd));
}

/* a packet from R to W, carrying R's buf_alloc and fwd_cnt */
static void r_send_flags(struct vs_engine *e, uint64_t t, unsigned int op,
			 uint32_t len, uint32_t r_fwd, uint32_t flags)
{
	struct vs_event tx = evg_pkt(0, t, VS_EV_PKT_TX, CID, R_PORT, CID,
				     W_PORT, op, len);
	struct vs_event rx = evg_pkt_cr(0, t + LAT, VS_EV_PKT_RX, CID, R_PORT,
					CID, W_PORT, op, len, BUF, r_fwd);

	tx.pkt.flags = flags;
	rx.pkt.flags = flags;
	EVG_FEED(e, tx);
	EVG_FEED(e, rx);
}

static void r_send(struct vs_engine *e, uint64_t t, unsigned int op,
		   uint32_t len, uint32_t r_fwd)
{
	r_send_flags(e, t, op, len, r_fwd, 0);
}

static void connect_wr(struct vs_engine *e)
{
	w_send(e, 1 * EVG_MS, VS_OP_REQUEST, 0, 0);
	r_send(e, 1 * EVG_MS + 100 * EVG_US, VS_OP_RESPONSE, 0, 0);
}

/* W fills R's whole window; R reads nothing */
static void fill(struct vs_engine *e)
{
	for (unsigned int i = 0; i < NFILL; i++)
		w_send(e, T_FILL + i * 100 * EVG_US, VS_OP_RW, PKT, 0);
}

static struct vs_engine *engine(uint64_t stall_ns)
{
	struct vs_options opt;
	struct vs_engine *e;

	vs_options_default(&opt);
	opt.stall_ns = stall_ns;
	e = evg_engine(1, &opt);
	CHECK(e != NULL);
	return e;
}

static struct vs_flow *flow(struct vs_engine *e, struct vs_tuple t)
{
	return vs_flow_get(e->flows, 0, &t, false);
}

/* the one credit_stall, on W's direction */
static const struct vs_finding *the_stall(struct vs_engine *e)
{
	const struct vs_finding *f;

	CHECK_EQ_U(evg_count(e, VS_FIND_CREDIT_STALL), 1);
	f = evg_find(e, VS_FIND_CREDIT_STALL, 0);
	if (!f)
		return NULL;
	CHECK_EQ_U(f->system, 0);
	CHECK(f->has_flow);
	CHECK(evg_tuple_is(&f->flow, CID, W_PORT, CID, R_PORT));
	CHECK_EQ_U(f->start, T_STALL);
	CHECK_EQ_U(f->count, 1);
	CHECK(f->nevidence >= 1);
	return f;
}

/* ---- cases ------------------------------------------------------------- */

/* the window fills exactly at the 64th packet, not before */
static void t_window_fills(void)
{
	struct vs_engine *e = engine(100 * EVG_MS);
	struct vs_flow *f;

	if (!e)
		return;
	connect_wr(e);
	for (unsigned int i = 0; i < NFILL - 1; i++)
		w_send(e, T_FILL + i * 100 * EVG_US, VS_OP_RW, PKT, 0);
	f = flow(e, w2r());
	CHECK(f != NULL);
	if (!f)
		goto out;
	CHECK(f->cr.base_exact);
	CHECK(vs_credit_peer_free(&f->cr) == PKT);
	CHECK(f->stall == NULL);
	w_send(e, T_STALL, VS_OP_RW, PKT, 0);
	CHECK(vs_credit_peer_free(&f->cr) == 0);
	CHECK(f->stall != NULL);
	CHECK(f->min_free == 0);
out:
	CHECK_EQ_U(vs_engine_finish(e), 0);
	vs_engine_free(e);
}

/*
 * The engine freed while a stall is open, without vs_engine_finish (a live
 * tool quitting mid-capture): LeakSanitizer checks the stall goes with it.
 */
static void t_free_with_open_stall(void)
{
	struct vs_engine *e = engine(100 * EVG_MS);
	struct vs_flow *f;

	if (!e)
		return;
	connect_wr(e);
	fill(e);
	f = flow(e, w2r());
	CHECK(f && f->stall);
	vs_engine_free(e);
}

/*
 * R stops reading but keeps sending (data back to W, fwd_cnt frozen at 0);
 * 292 ms later its CREDIT_UPDATE (fwd_cnt 262144) gives W its credit back.
 */
static void t_stall_receiver_not_reading(void)
{
	struct vs_engine *e = engine(100 * EVG_MS);
	const struct vs_finding *fd;
	const uint64_t t_upd = 300 * EVG_MS;
	struct vs_flow *f;

	if (!e)
		return;
	connect_wr(e);
	fill(e);
	r_send(e, 50 * EVG_MS, VS_OP_RW, 100, 0);
	r_send(e, 100 * EVG_MS, VS_OP_RW, 100, 0);
	r_send(e, 150 * EVG_MS, VS_OP_RW, 100, 0);
	r_send(e, t_upd, VS_OP_CREDIT_UPDATE, 0, BUF);
	/* W goes on writing */
	w_send(e, t_upd + 1 * EVG_MS, VS_OP_RW, PKT, 300);
	CHECK_EQ_U(vs_engine_finish(e), 0);

	fd = the_stall(e);
	if (fd) {
		CHECK(fd->has_end);
		CHECK_EQ_U(fd->end, t_upd + LAT); /* W's recv of the update */
		CHECK_STR(fd->ended_by, "a credit update");
		CHECK_STR(fd->cause, "receiver_not_reading");
	}
	/* nothing else is wrong in this capture */
	CHECK_EQ_U(e->findings.n, 1);
	f = flow(e, w2r());
	CHECK(f != NULL);
	if (f) {
		CHECK(f->stall == NULL);
		CHECK_EQ_U(f->stalled_ns, t_upd + LAT - T_STALL);
		CHECK(f->min_free == 0);
		CHECK(vs_credit_peer_free(&f->cr) == BUF - PKT);
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/*
 * A one-way flow (seed 004): nothing comes back from R but, 240 ms into the
 * stall, a CREDIT_UPDATE answering W's CREDIT_REQUEST.
 */
static void t_stall_one_way(void)
{
	struct vs_engine *e = engine(100 * EVG_MS);
	const struct vs_finding *fd;
	const uint64_t t_upd = 250 * EVG_MS;

	if (!e)
		return;
	connect_wr(e);
	fill(e);
	w_send(e, 150 * EVG_MS, VS_OP_CREDIT_REQUEST, 0, 0);
	r_send(e, t_upd, VS_OP_CREDIT_UPDATE, 0, BUF);
	w_send(e, t_upd + 1 * EVG_MS, VS_OP_RW, PKT, 0);
	CHECK_EQ_U(vs_engine_finish(e), 0);

	fd = the_stall(e);
	if (fd) {
		CHECK(fd->has_end);
		CHECK_EQ_U(fd->end, t_upd + LAT);
		CHECK_STR(fd->ended_by, "a credit update");
		CHECK_STR(fd->cause, "no_credit_update_one_way");
	}
	CHECK_EQ_U(e->findings.n, 1);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* the capture ends during the stall: not resolved */
static void t_stall_unresolved(void)
{
	struct vs_engine *e = engine(100 * EVG_MS);
	const struct vs_finding *fd;
	const uint64_t t_end = 500 * EVG_MS;
	struct vs_flow *f;

	if (!e)
		return;
	connect_wr(e);
	fill(e);
	EVG_FEED(e, evg_mark(0, t_end, "end of capture"));
	f = flow(e, w2r());
	CHECK(f && f->stall); /* still open before the end */
	CHECK_EQ_U(evg_count(e, VS_FIND_CREDIT_STALL), 0);
	CHECK_EQ_U(vs_engine_finish(e), 0);

	fd = the_stall(e);
	if (fd) {
		CHECK(!fd->has_end);
		CHECK_EQ_U(fd->end, t_end); /* how long it lasted, at least */
		CHECK_STR(fd->ended_by, "");
		CHECK_STR(fd->cause, "no_credit_update_one_way");
		CHECK(strstr(fd->summary, "not resolved") != NULL);
	}
	CHECK(f == NULL || f->stall == NULL);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* 50 ms without credit is below the 100 ms threshold */
static void t_stall_short(void)
{
	struct vs_engine *e = engine(100 * EVG_MS);
	const uint64_t t_upd = T_STALL + 50 * EVG_MS;
	struct vs_flow *f;

	if (!e)
		return;
	connect_wr(e);
	fill(e);
	r_send(e, t_upd, VS_OP_CREDIT_UPDATE, 0, BUF);
	w_send(e, t_upd + 1 * EVG_MS, VS_OP_RW, PKT, 0);
	EVG_FEED(e, evg_mark(0, 1 * EVG_S, "end"));
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(evg_count(e, VS_FIND_CREDIT_STALL), 0);
	CHECK_EQ_U(e->findings.n, 0);
	f = flow(e, w2r());
	CHECK(f != NULL);
	if (f) {
		CHECK(f->stall == NULL);
		/* the time is still accounted */
		CHECK_EQ_U(f->stalled_ns, t_upd + LAT - T_STALL);
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* the same 50 ms stall with a 20 ms threshold is a finding */
static void t_stall_threshold_option(void)
{
	struct vs_engine *e = engine(20 * EVG_MS);
	const struct vs_finding *fd;
	const uint64_t t_upd = T_STALL + 50 * EVG_MS;

	if (!e)
		return;
	connect_wr(e);
	fill(e);
	r_send(e, t_upd, VS_OP_CREDIT_UPDATE, 0, BUF);
	CHECK_EQ_U(vs_engine_finish(e), 0);
	fd = the_stall(e);
	if (fd) {
		CHECK(fd->has_end);
		CHECK_EQ_U(fd->end, t_upd + LAT);
		CHECK_STR(fd->ended_by, "a credit update");
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* R gives up and resets the connection during the stall */
static void t_stall_ended_by_reset(void)
{
	struct vs_engine *e = engine(100 * EVG_MS);
	const struct vs_finding *fd;
	const uint64_t t_rst = 250 * EVG_MS;

	if (!e)
		return;
	connect_wr(e);
	fill(e);
	r_send(e, t_rst, VS_OP_RST, 0, 0);
	EVG_FEED(e, evg_mark(0, 1 * EVG_S, "end"));
	CHECK_EQ_U(vs_engine_finish(e), 0);

	fd = the_stall(e);
	if (fd) {
		CHECK(fd->has_end);
		CHECK_EQ_U(fd->end, t_rst + LAT);
		CHECK_STR(fd->ended_by, "a reset");
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* W itself resets the connection it cannot write to */
static void t_stall_ended_by_own_reset(void)
{
	struct vs_engine *e = engine(100 * EVG_MS);
	const struct vs_finding *fd;
	const uint64_t t_rst = 250 * EVG_MS;

	if (!e)
		return;
	connect_wr(e);
	fill(e);
	w_send(e, t_rst, VS_OP_RST, 0, 0);
	CHECK_EQ_U(vs_engine_finish(e), 0);

	fd = the_stall(e);
	if (fd) {
		CHECK(fd->has_end);
		CHECK_EQ_U(fd->end, t_rst); /* W's alloc_pkt of the RST */
		CHECK_STR(fd->ended_by, "a reset");
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* R shuts the connection down (it will receive no more) */
static void t_stall_ended_by_shutdown(void)
{
	struct vs_engine *e = engine(100 * EVG_MS);
	const struct vs_finding *fd;
	const uint64_t t_sd = 250 * EVG_MS;

	if (!e)
		return;
	connect_wr(e);
	fill(e);
	r_send_flags(e, t_sd, VS_OP_SHUTDOWN, 0, 0,
		     VS_SHUTDOWN_RCV | VS_SHUTDOWN_SEND);
	CHECK_EQ_U(vs_engine_finish(e), 0);

	fd = the_stall(e);
	if (fd) {
		CHECK(fd->has_end);
		CHECK_EQ_U(fd->end, t_sd + LAT);
		CHECK_STR(fd->ended_by, "a shutdown");
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* R reads again and says so in a data packet: fwd_cnt advanced */
static void t_stall_ended_by_reading(void)
{
	struct vs_engine *e = engine(100 * EVG_MS);
	const struct vs_finding *fd;
	const uint64_t t_rd = 200 * EVG_MS;

	if (!e)
		return;
	connect_wr(e);
	fill(e);
	r_send(e, t_rd, VS_OP_RW, 64, 8 * PKT);
	CHECK_EQ_U(vs_engine_finish(e), 0);

	fd = the_stall(e);
	if (fd) {
		CHECK(fd->has_end);
		CHECK_EQ_U(fd->end, t_rd + LAT);
		CHECK_STR(fd->ended_by,
			  "the peer's reading (fwd_cnt advanced)");
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* R reads as fast as W writes and says so: never a stall */
static void t_no_stall_when_reading(void)
{
	struct vs_engine *e = engine(100 * EVG_MS);
	uint32_t fwd = 0;
	struct vs_flow *f;

	if (!e)
		return;
	connect_wr(e);
	for (unsigned int i = 0; i < 4 * NFILL; i++) {
		uint64_t t = T_FILL + i * 100 * EVG_US;

		w_send(e, t, VS_OP_RW, PKT, 0);
		if (i % 16 == 15) {
			fwd = (i + 1) * PKT;
			r_send(e, t + 50 * EVG_US, VS_OP_CREDIT_UPDATE, 0,
			       fwd);
		}
	}
	EVG_FEED(e, evg_mark(0, 2 * EVG_S, "end"));
	CHECK_EQ_U(vs_engine_finish(e), 0);
	CHECK_EQ_U(e->findings.n, 0);
	f = flow(e, w2r());
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_U(f->stalled_ns, 0);
		CHECK(f->min_free == BUF - 16 * PKT);
		CHECK_EQ_U(f->tx_pkts, 4 * NFILL + 1); /* and the REQUEST */
		CHECK_EQ_U(f->tx_bytes, 4 * NFILL * PKT);
	}
	f = flow(e, r2w());
	CHECK(f != NULL && f->stall == NULL);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

VS_TEST_MAIN({ "credit_window_fills", t_window_fills },
	     { "credit_stall_receiver_not_reading",
	       t_stall_receiver_not_reading },
	     { "credit_stall_one_way", t_stall_one_way },
	     { "credit_stall_unresolved", t_stall_unresolved },
	     { "credit_stall_short", t_stall_short },
	     { "credit_stall_threshold_option", t_stall_threshold_option },
	     { "credit_stall_ended_by_reset", t_stall_ended_by_reset },
	     { "credit_stall_ended_by_own_reset", t_stall_ended_by_own_reset },
	     { "credit_stall_ended_by_shutdown", t_stall_ended_by_shutdown },
	     { "credit_stall_ended_by_reading", t_stall_ended_by_reading },
	     { "credit_no_stall_when_reading", t_no_stall_when_reading },
	     { "credit_free_with_open_stall", t_free_with_open_stall })
