// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for lost packets (lib/detect_lost.c, fed by the matcher of
 * lib/correlate.c) through the engine: a Linux host (system 0, CID 2) and a
 * guest (system 1, CID 3), both traced. A packet the host sends (alloc_pkt)
 * must show as a receive (recv_pkt) on the guest within irq_timeout
 * (100 ms). If the guest received other packets meanwhile, the packet is
 * lost; if it showed nothing at all, the doorbell went unanswered.
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
#define LAT (40 * EVG_US)

static struct vs_engine *engine(bool known)
{
	struct vs_options opt;
	struct vs_engine *e;

	vs_options_default(&opt);
	opt.irq_timeout_ns = 100 * EVG_MS;
	e = evg_engine(2, &opt);
	CHECK(e != NULL);
	if (e && known)
		evg_clocks_known(e);
	return e;
}

static struct vs_event h_tx(uint64_t t, uint32_t len)
{
	return evg_pkt(0, t, VS_EV_PKT_TX, HOST, HP, GUEST, GP, VS_OP_RW, len);
}

static struct vs_event g_rx(uint64_t t, uint32_t len)
{
	return evg_pkt(1, t, VS_EV_PKT_RX, HOST, HP, GUEST, GP, VS_OP_RW, len);
}

static struct vs_flow *flow(struct vs_engine *e, unsigned int sys,
			    struct vs_tuple t)
{
	return vs_flow_get(e->flows, sys, &t, false);
}

/* packets both ways, all received: nothing to say */
static void t_all_received(void)
{
	struct vs_engine *e = engine(true);
	struct vs_flow *f;

	if (!e)
		return;
	vs_engine_add_cid(e, 0, HOST);
	vs_engine_add_cid(e, 1, GUEST);
	EVG_FEED(e, evg_mark(0, 0, "start"));
	EVG_FEED(e, evg_mark(1, 0, "start"));
	for (unsigned int i = 0; i < 20; i++) {
		uint64_t t = 10 * EVG_MS + i * 5 * EVG_MS;

		EVG_SEND(e, 0, 1, t, LAT, HOST, HP, GUEST, GP, VS_OP_RW,
			 100 + i);
		EVG_SEND(e, 1, 0, t + 1 * EVG_MS, LAT, GUEST, GP, HOST, HP,
			 VS_OP_RW, 4096);
	}
	EVG_FEED(e, evg_mark(0, 1 * EVG_S, "end"));
	EVG_FEED(e, evg_mark(1, 1 * EVG_S, "end"));
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(e->findings.n, 0);
	f = flow(e, 0, evg_tuple(HOST, HP, GUEST, GP));
	CHECK(f && f->matched == 20 && f->unmatched == 0);
	f = flow(e, 1, evg_tuple(GUEST, GP, HOST, HP));
	CHECK(f && f->matched == 20 && f->unmatched == 0);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/*
 * A bulk transfer, one packet every ms for 300 ms; packet 100 never shows
 * on the guest, which receives the others. @learn: the CIDs are learned
 * from the traffic (the host's first send goes before the guest's CID is
 * known, so its receive has no send to match), else given up front.
 */
static void one_dropped(bool learn)
{
	struct vs_engine *e = engine(true);
	const struct vs_finding *fd;
	const uint64_t t_lost = 101 * EVG_MS;
	struct vs_flow *f;

	if (!e)
		return;
	if (!learn) {
		vs_engine_add_cid(e, 0, HOST);
		vs_engine_add_cid(e, 1, GUEST);
	}
	for (unsigned int i = 0; i < 300; i++) {
		uint64_t t = (1 + i) * EVG_MS;

		EVG_FEED(e, h_tx(t, 4096));
		if (i != 100)
			EVG_FEED(e, g_rx(t + LAT, 4096));
	}
	EVG_FEED(e, evg_mark(0, 1 * EVG_S, "end"));
	EVG_FEED(e, evg_mark(1, 1 * EVG_S, "end"));
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK(vs_engine_owns(e, 0, HOST) && vs_engine_owns(e, 1, GUEST));
	CHECK_EQ_U(evg_count(e, VS_FIND_LOST_PACKET), 1);
	CHECK_EQ_U(evg_count(e, VS_FIND_UNANSWERED_IRQ), 0);
	CHECK_EQ_U(e->findings.n, 1);
	fd = evg_find(e, VS_FIND_LOST_PACKET, 0);
	if (fd) {
		CHECK_EQ_U(fd->system, 0);
		CHECK(fd->has_flow);
		CHECK(evg_tuple_is(&fd->flow, HOST, HP, GUEST, GP));
		CHECK_EQ_U(fd->count, 1);
		CHECK_EQ_U(fd->start, t_lost);
		CHECK(fd->has_end);
		CHECK_STR(fd->cause, "not_received");
		CHECK(strstr(fd->summary, "never arrived") != NULL);
		CHECK(fd->nevidence >= 1);
	}
	f = flow(e, 0, evg_tuple(HOST, HP, GUEST, GP));
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_U(f->unmatched, 1);
		/* learned or given, every delivered packet is matched: with
		 * two systems a send to a CID not known yet still waits */
		CHECK_EQ_U(f->matched, 299);
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

static void t_one_dropped(void)
{
	one_dropped(false);
}

static void t_one_dropped_cids_learned(void)
{
	one_dropped(true);
}

/* the guest's capture (window known) shows no interrupt and no receive */
static void t_receiver_silent(void)
{
	struct vs_engine *e = engine(true);
	const struct vs_finding *fd;

	if (!e)
		return;
	vs_engine_add_cid(e, 1, GUEST);
	vs_engine_set_window(e, 0, 0, 2 * EVG_S);
	vs_engine_set_window(e, 1, 0, 2 * EVG_S);
	EVG_FEED(e, evg_mark(0, 0, "start"));
	EVG_FEED(e, evg_mark(1, 0, "start"));
	for (unsigned int i = 0; i < 5; i++)
		EVG_FEED(e, h_tx((1 + i) * 10 * EVG_MS, 4096));
	EVG_FEED(e, evg_mark(0, 2 * EVG_S, "end"));
	EVG_FEED(e, evg_mark(1, 2 * EVG_S, "end"));
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(evg_count(e, VS_FIND_LOST_PACKET), 0);
	CHECK_EQ_U(evg_count(e, VS_FIND_UNANSWERED_IRQ), 1);
	fd = evg_find(e, VS_FIND_UNANSWERED_IRQ, 0);
	if (fd) {
		CHECK_EQ_U(fd->system, 0);
		CHECK(fd->has_flow);
		CHECK(evg_tuple_is(&fd->flow, HOST, HP, GUEST, GP));
		CHECK_EQ_U(fd->count, 5);
		CHECK_EQ_U(fd->start, 10 * EVG_MS);
		CHECK_EQ_U(fd->end, 50 * EVG_MS);
		CHECK_STR(fd->cause, "no_interrupt");
		CHECK(strstr(fd->summary, "unanswered") != NULL);
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/*
 * The same, live: no capture windows known in advance, the guest's capture
 * shows it running (a trace_marker every 20 ms) but nothing vsock.
 */
static void t_receiver_silent_live(void)
{
	struct vs_engine *e = engine(true);
	const struct vs_finding *fd;

	if (!e)
		return;
	vs_engine_add_cid(e, 1, GUEST);
	for (unsigned int ms = 0; ms <= 1000; ms += 10) {
		if (ms % 20 == 0)
			EVG_FEED(e, evg_mark(1, ms * EVG_MS, "heartbeat"));
		if (ms >= 10 && ms <= 50)
			EVG_FEED(e, h_tx(ms * EVG_MS + 1, 4096));
	}
	EVG_FEED(e, evg_mark(0, 1000 * EVG_MS + 1, "end"));
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(evg_count(e, VS_FIND_LOST_PACKET), 0);
	CHECK_EQ_U(evg_count(e, VS_FIND_UNANSWERED_IRQ), 1);
	fd = evg_find(e, VS_FIND_UNANSWERED_IRQ, 0);
	if (fd) {
		CHECK_EQ_U(fd->count, 5);
		CHECK_EQ_U(fd->start, 10 * EVG_MS + 1);
		CHECK_STR(fd->cause, "no_interrupt");
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* a send after the guest's capture ended is no evidence */
static void t_after_receiver_capture(void)
{
	struct vs_engine *e = engine(true);
	struct vs_flow *f;

	if (!e)
		return;
	vs_engine_add_cid(e, 0, HOST);
	vs_engine_add_cid(e, 1, GUEST);
	vs_engine_set_window(e, 0, 0, 1 * EVG_S);
	vs_engine_set_window(e, 1, 0, 100 * EVG_MS);
	EVG_FEED(e, evg_mark(0, 0, "start"));
	EVG_FEED(e, evg_mark(1, 0, "start"));
	for (unsigned int i = 0; i < 5; i++) {
		uint64_t t = (1 + i) * 10 * EVG_MS;

		EVG_FEED(e, h_tx(t, 4096));
		EVG_FEED(e, g_rx(t + LAT, 4096));
	}
	/* sent while the guest captured, but due after its capture ended */
	EVG_FEED(e, h_tx(60 * EVG_MS, 4096));
	EVG_FEED(e, evg_mark(1, 100 * EVG_MS, "end"));
	/* sent after the guest's capture ended */
	EVG_FEED(e, h_tx(500 * EVG_MS, 4096));
	EVG_FEED(e, evg_mark(0, 1 * EVG_S, "end"));
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(e->findings.n, 0);
	f = flow(e, 0, evg_tuple(HOST, HP, GUEST, GP));
	CHECK(f && f->matched == 5 && f->unmatched == 2);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* a send due just before the guest's capture ended is judged */
static void t_due_before_receiver_end(void)
{
	struct vs_engine *e = engine(true);

	if (!e)
		return;
	vs_engine_add_cid(e, 0, HOST);
	vs_engine_add_cid(e, 1, GUEST);
	vs_engine_set_window(e, 0, 0, 1 * EVG_S);
	vs_engine_set_window(e, 1, 0, 300 * EVG_MS);
	EVG_FEED(e, evg_mark(0, 0, "start"));
	EVG_FEED(e, evg_mark(1, 0, "start"));
	EVG_FEED(e, h_tx(10 * EVG_MS, 4096));
	EVG_FEED(e, g_rx(10 * EVG_MS + LAT, 4096));
	EVG_FEED(e, h_tx(150 * EVG_MS, 4096)); /* due at 250 ms: lost */
	EVG_FEED(e, h_tx(160 * EVG_MS, 100));
	EVG_FEED(e, g_rx(160 * EVG_MS + LAT, 100));
	EVG_FEED(e, evg_mark(1, 300 * EVG_MS, "end"));
	EVG_FEED(e, evg_mark(0, 1 * EVG_S, "end"));
	CHECK_EQ_U(vs_engine_finish(e), 0);
	CHECK_EQ_U(evg_count(e, VS_FIND_LOST_PACKET), 1);
	CHECK_EQ_U(e->findings.n, 1);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/*
 * The guest's clock is not on the host's timeline (it reads 1000 s more;
 * no estimate was made): the sends wait until the end, and the one never
 * received is judged there, in words that say the offset is unknown.
 */
static void t_clock_unknown(void)
{
	struct vs_engine *e = engine(false);
	const struct vs_finding *fd;
	const uint64_t skew = 1000 * EVG_S;

	if (!e)
		return;
	CHECK(!vs_engine_clocks_known(e, 0, 1));
	vs_engine_add_cid(e, 0, HOST);
	vs_engine_add_cid(e, 1, GUEST);
	for (unsigned int i = 0; i < 10; i++)
		EVG_FEED(e, h_tx((1 + i) * 10 * EVG_MS, 4096));
	EVG_FEED(e, evg_mark(0, 1 * EVG_S, "end"));
	/* the guest's capture, on its own clock, after the host's */
	for (unsigned int i = 0; i < 10; i++)
		if (i != 4)
			EVG_FEED(e, g_rx(skew + (1 + i) * 10 * EVG_MS + LAT,
					 4096));
	EVG_FEED(e, evg_mark(1, skew + 1 * EVG_S, "end"));
	CHECK_EQ_U(e->findings.n, 0); /* nothing judged before the end */
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(evg_count(e, VS_FIND_LOST_PACKET), 1);
	CHECK_EQ_U(e->findings.n, 1);
	fd = evg_find(e, VS_FIND_LOST_PACKET, 0);
	if (fd) {
		CHECK_EQ_U(fd->system, 0);
		CHECK(evg_tuple_is(&fd->flow, HOST, HP, GUEST, GP));
		CHECK_EQ_U(fd->count, 1);
		CHECK_EQ_U(fd->start, 50 * EVG_MS);
		CHECK_STR(fd->cause, "not_received");
		CHECK(strstr(fd->summary, "offset unknown") != NULL);
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

VS_TEST_MAIN({ "lost_all_received", t_all_received },
	     { "lost_one_dropped", t_one_dropped },
	     { "lost_one_dropped_cids_learned", t_one_dropped_cids_learned },
	     { "lost_receiver_silent", t_receiver_silent },
	     { "lost_receiver_silent_live", t_receiver_silent_live },
	     { "lost_after_receiver_capture", t_after_receiver_capture },
	     { "lost_due_before_receiver_end", t_due_before_receiver_end },
	     { "lost_clock_unknown", t_clock_unknown })
