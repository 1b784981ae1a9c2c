// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the reset detector (lib/detect_reset.c) through the
 * engine. A host (CID 2, port 1024) talks to a guest (CID 3, port 5000).
 * Most cases trace the host alone (system 0); the last traces both.
 *
 * Linux closes with SHUTDOWN and answers the peer's SHUTDOWN with RST: that
 * RST says nothing. An RST answering a REQUEST is a refused connection; any
 * other RST aborted one. RSTs on one connection within 1 s are one finding.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "evgen.h"

#define HOST 2
#define GUEST 3
#define HP 1024
#define GP 5000

static struct vs_engine *engine(unsigned int nsys)
{
	struct vs_engine *e = evg_engine(nsys, NULL);

	CHECK(e != NULL);
	if (e)
		evg_clocks_known(e);
	return e;
}

/* on the host: a packet it sends to / receives from the guest */
static struct vs_event h_tx(uint64_t t, unsigned int op, uint32_t len)
{
	return evg_pkt(0, t, VS_EV_PKT_TX, HOST, HP, GUEST, GP, op, len);
}

static struct vs_event h_rx(uint64_t t, unsigned int op, uint32_t len)
{
	return evg_pkt(0, t, VS_EV_PKT_RX, GUEST, GP, HOST, HP, op, len);
}

static void establish(struct vs_engine *e)
{
	EVG_FEED(e, h_tx(1 * EVG_MS, VS_OP_REQUEST, 0));
	EVG_FEED(e, h_rx(1 * EVG_MS + 50 * EVG_US, VS_OP_RESPONSE, 0));
	for (unsigned int i = 0; i < 5; i++) {
		EVG_FEED(e, h_tx((2 + i) * EVG_MS, VS_OP_RW, 512));
		EVG_FEED(e, h_rx((2 + i) * EVG_MS + 300 * EVG_US, VS_OP_RW,
				 64));
	}
}

/* SHUTDOWN from the host, RST from the guest: the normal close */
static void t_normal_close(void)
{
	struct vs_engine *e = engine(1);
	struct vs_event sd = h_tx(10 * EVG_MS, VS_OP_SHUTDOWN, 0);
	struct vs_tuple t = evg_tuple(HOST, HP, GUEST, GP), rt;
	struct vs_flow *f, *r;

	if (!e)
		return;
	sd.pkt.flags = VS_SHUTDOWN_RCV | VS_SHUTDOWN_SEND;
	establish(e);
	EVG_FEED(e, sd);
	EVG_FEED(e, h_rx(10 * EVG_MS + 60 * EVG_US, VS_OP_RST, 0));
	CHECK_EQ_U(vs_engine_finish(e), 0);
	CHECK_EQ_U(evg_count(e, VS_FIND_RESET), 0);
	CHECK_EQ_U(e->findings.n, 0);
	rt = vs_tuple_reverse(t);
	f = vs_flow_get(e->flows, 0, &t, false);
	r = vs_flow_get(e->flows, 0, &rt, false);
	CHECK(f && r);
	if (f && r)
		CHECK_STR(vs_flow_state(f, r), "closed");
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* the guest shuts down first; the host answers with RST */
static void t_normal_close_peer_first(void)
{
	struct vs_engine *e = engine(1);
	struct vs_event sd = h_rx(10 * EVG_MS, VS_OP_SHUTDOWN, 0);

	if (!e)
		return;
	sd.pkt.flags = VS_SHUTDOWN_RCV | VS_SHUTDOWN_SEND;
	establish(e);
	EVG_FEED(e, sd);
	EVG_FEED(e, h_tx(10 * EVG_MS + 20 * EVG_US, VS_OP_RST, 0));
	CHECK_EQ_U(vs_engine_finish(e), 0);
	CHECK_EQ_U(e->findings.n, 0);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* nothing listens on the guest's port 5000: REQUEST answered by RST */
static void t_refused(void)
{
	struct vs_engine *e = engine(1);
	const struct vs_finding *fd;
	const uint64_t t_rst = 1 * EVG_MS + 40 * EVG_US;

	if (!e)
		return;
	EVG_FEED(e, h_tx(1 * EVG_MS, VS_OP_REQUEST, 0));
	EVG_FEED(e, h_rx(t_rst, VS_OP_RST, 0));
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(evg_count(e, VS_FIND_RESET), 1);
	CHECK_EQ_U(e->findings.n, 1);
	fd = evg_find(e, VS_FIND_RESET, 0);
	if (fd) {
		CHECK_EQ_U(fd->system, 0);
		CHECK(fd->has_flow);
		/* the RST's direction: from the refusing listener */
		CHECK(evg_tuple_is(&fd->flow, GUEST, GP, HOST, HP));
		CHECK_EQ_U(fd->start, t_rst);
		CHECK(fd->has_end);
		CHECK_EQ_U(fd->end, t_rst);
		CHECK_EQ_U(fd->count, 1);
		CHECK_STR(fd->cause, "refused");
		CHECK(strstr(fd->summary, "port 5000 of CID 3") != NULL);
		CHECK(fd->nevidence >= 1);
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* an RST in the middle of an established connection */
static void t_aborted(void)
{
	struct vs_engine *e = engine(1);
	const struct vs_finding *fd;
	const uint64_t t_rst = 50 * EVG_MS;

	if (!e)
		return;
	establish(e);
	EVG_FEED(e, h_rx(t_rst, VS_OP_RST, 0));
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(evg_count(e, VS_FIND_RESET), 1);
	fd = evg_find(e, VS_FIND_RESET, 0);
	if (fd) {
		CHECK_EQ_U(fd->system, 0);
		CHECK(evg_tuple_is(&fd->flow, GUEST, GP, HOST, HP));
		CHECK_EQ_U(fd->start, t_rst);
		CHECK_EQ_U(fd->count, 1);
		CHECK_STR(fd->cause, "aborted");
		CHECK(strstr(fd->summary, "without a SHUTDOWN") != NULL);
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* the host aborts it itself */
static void t_aborted_by_sender(void)
{
	struct vs_engine *e = engine(1);
	const struct vs_finding *fd;

	if (!e)
		return;
	establish(e);
	EVG_FEED(e, h_tx(50 * EVG_MS, VS_OP_RST, 0));
	CHECK_EQ_U(vs_engine_finish(e), 0);
	CHECK_EQ_U(evg_count(e, VS_FIND_RESET), 1);
	fd = evg_find(e, VS_FIND_RESET, 0);
	if (fd) {
		CHECK(evg_tuple_is(&fd->flow, HOST, HP, GUEST, GP));
		CHECK_STR(fd->cause, "aborted");
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* an RST storm on one connection: one finding with its count */
static void t_storm(void)
{
	struct vs_engine *e = engine(1);
	const struct vs_finding *fd;

	if (!e)
		return;
	establish(e);
	EVG_FEED(e, h_rx(10 * EVG_MS, VS_OP_RST, 0));
	EVG_FEED(e, h_tx(10 * EVG_MS + 50 * EVG_US, VS_OP_RST, 0));
	EVG_FEED(e, h_rx(300 * EVG_MS, VS_OP_RST, 0));
	EVG_FEED(e, h_rx(900 * EVG_MS, VS_OP_RST, 0));
	/* 2.1 s after the last: another finding */
	EVG_FEED(e, h_rx(3000 * EVG_MS, VS_OP_RST, 0));
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(evg_count(e, VS_FIND_RESET), 2);
	fd = evg_find(e, VS_FIND_RESET, 0);
	if (fd) {
		CHECK_EQ_U(fd->count, 4);
		CHECK_EQ_U(fd->start, 10 * EVG_MS);
		CHECK(fd->has_end);
		CHECK_EQ_U(fd->end, 900 * EVG_MS);
		CHECK_STR(fd->cause, "aborted");
		CHECK(strstr(fd->summary, "4 RSTs") != NULL);
	}
	fd = evg_find(e, VS_FIND_RESET, 1);
	if (fd) {
		CHECK_EQ_U(fd->count, 1);
		CHECK_EQ_U(fd->start, 3000 * EVG_MS);
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* RSTs on two different connections are two findings */
static void t_two_connections(void)
{
	struct vs_engine *e = engine(1);

	if (!e)
		return;
	EVG_FEED(e, h_tx(1 * EVG_MS, VS_OP_REQUEST, 0));
	EVG_FEED(e, h_rx(1 * EVG_MS + 40 * EVG_US, VS_OP_RST, 0));
	EVG_FEED(e, evg_pkt(0, 2 * EVG_MS, VS_EV_PKT_TX, HOST, HP + 1, GUEST,
			    GP, VS_OP_REQUEST, 0));
	EVG_FEED(e, evg_pkt(0, 2 * EVG_MS + 40 * EVG_US, VS_EV_PKT_RX, GUEST,
			    GP, HOST, HP + 1, VS_OP_RST, 0));
	CHECK_EQ_U(vs_engine_finish(e), 0);
	CHECK_EQ_U(evg_count(e, VS_FIND_RESET), 2);
	CHECK(evg_find(e, VS_FIND_RESET, 0) &&
	      evg_find(e, VS_FIND_RESET, 0)->count == 1);
	CHECK(evg_find(e, VS_FIND_RESET, 1) &&
	      evg_find(e, VS_FIND_RESET, 1)->count == 1);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/*
 * Both systems traced: the guest's RST leaves it (TX on system 1) and
 * arrives at the host (RX on system 0): one RST, counted once, where sent.
 */
static void t_seen_on_both_systems(void)
{
	struct vs_engine *e = engine(2);
	const struct vs_finding *fd;
	const uint64_t t_rst = 1100 * EVG_US;

	if (!e)
		return;
	EVG_SEND(e, 0, 1, 1 * EVG_MS, 20 * EVG_US, HOST, HP, GUEST, GP,
		 VS_OP_REQUEST, 0);
	EVG_SEND(e, 1, 0, t_rst, 20 * EVG_US, GUEST, GP, HOST, HP, VS_OP_RST,
		 0);
	/* and an abort later on another connection, also seen twice */
	EVG_SEND(e, 0, 1, 5 * EVG_MS, 20 * EVG_US, HOST, HP + 1, GUEST, GP,
		 VS_OP_REQUEST, 0);
	EVG_SEND(e, 1, 0, 5 * EVG_MS + 100 * EVG_US, 20 * EVG_US, GUEST, GP,
		 HOST, HP + 1, VS_OP_RESPONSE, 0);
	EVG_SEND(e, 0, 1, 6 * EVG_MS, 20 * EVG_US, HOST, HP + 1, GUEST, GP,
		 VS_OP_RW, 100);
	EVG_SEND(e, 0, 1, 7 * EVG_MS, 20 * EVG_US, HOST, HP + 1, GUEST, GP,
		 VS_OP_RST, 0);
	EVG_FEED(e, evg_mark(0, 1 * EVG_S, "end"));
	EVG_FEED(e, evg_mark(1, 1 * EVG_S, "end"));
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(evg_count(e, VS_FIND_RESET), 2);
	CHECK_EQ_U(e->findings.n, 2);
	fd = evg_find(e, VS_FIND_RESET, 0);
	if (fd) {
		CHECK_EQ_U(fd->system, 1); /* where it was sent */
		CHECK(evg_tuple_is(&fd->flow, GUEST, GP, HOST, HP));
		CHECK_EQ_U(fd->start, t_rst);
		CHECK_EQ_U(fd->count, 1);
		CHECK_STR(fd->cause, "refused");
	}
	fd = evg_find(e, VS_FIND_RESET, 1);
	if (fd) {
		CHECK_EQ_U(fd->system, 0);
		CHECK(evg_tuple_is(&fd->flow, HOST, HP + 1, GUEST, GP));
		CHECK_EQ_U(fd->start, 7 * EVG_MS);
		CHECK_EQ_U(fd->count, 1);
		CHECK_STR(fd->cause, "aborted");
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

VS_TEST_MAIN({ "reset_normal_close", t_normal_close },
	     { "reset_normal_close_peer_first", t_normal_close_peer_first },
	     { "reset_refused", t_refused },
	     { "reset_aborted", t_aborted },
	     { "reset_aborted_by_sender", t_aborted_by_sender },
	     { "reset_storm", t_storm },
	     { "reset_two_connections", t_two_connections },
	     { "reset_seen_on_both_systems", t_seen_on_both_systems })
