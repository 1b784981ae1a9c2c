// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the unanswered-doorbell detector (lib/detect_irq.c)
 * through the engine: a kick (driver notifies device) or a mailbox send on
 * one system with no interrupt, queue work or mailbox receive on the other
 * within irq_timeout. Two systems with known clocks (offset 0) unless a
 * case says otherwise; irq_timeout is 100 ms.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "evgen.h"

#define TIMEOUT (100 * EVG_MS)

static struct vs_engine *engine(unsigned int nsys, bool known)
{
	struct vs_options opt;
	struct vs_engine *e;

	vs_options_default(&opt);
	opt.irq_timeout_ns = TIMEOUT;
	e = evg_engine(nsys, &opt);
	CHECK(e != NULL);
	if (e && known)
		evg_clocks_known(e);
	return e;
}

/* both captures run from 0 to @end */
static void capture_start(struct vs_engine *e)
{
	for (unsigned int i = 0; i < e->nsys; i++)
		EVG_FEED(e, evg_mark(i, 0, "start"));
}

static void capture_end(struct vs_engine *e, uint64_t end)
{
	for (unsigned int i = 0; i < e->nsys; i++)
		EVG_FEED(e, evg_mark(i, end, "end"));
}

/* each kick answered on the other side within the timeout */
static void t_kick_answered(void)
{
	struct vs_engine *e = engine(2, true);

	if (!e)
		return;
	capture_start(e);
	EVG_FEED(e, evg_kick(0, 10 * EVG_MS, "vsock", "tx"));
	EVG_FEED(e, evg_irq(1, 10 * EVG_MS + 50 * EVG_US, 42, "virtio0"));
	EVG_FEED(e, evg_kick(0, 200 * EVG_MS, "vsock", "tx"));
	EVG_FEED(e, evg_vq(1, 230 * EVG_MS, VS_EV_VQ_IRQ, "vsock", "rx", 7));
	EVG_FEED(e, evg_kick(0, 400 * EVG_MS, "vsock", "tx"));
	EVG_FEED(e, evg_vq(1, 400 * EVG_MS + 99 * EVG_MS, VS_EV_VQ_GET,
			   "vsock", "rx", 8));
	/* and the other way */
	EVG_FEED(e, evg_kick(1, 600 * EVG_MS, "vsock", "tx"));
	EVG_FEED(e, evg_irq(0, 600 * EVG_MS + 10 * EVG_US, 24, "vsock"));
	capture_end(e, 2 * EVG_S);
	CHECK_EQ_U(vs_engine_finish(e), 0);
	CHECK_EQ_U(e->findings.n, 0);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* three kicks within a second, nothing on the other side: one finding */
static void t_kick_unanswered(void)
{
	struct vs_engine *e = engine(2, true);
	const struct vs_finding *fd;

	if (!e)
		return;
	capture_start(e);
	EVG_FEED(e, evg_kick(0, 10 * EVG_MS, "vsock", "tx"));
	EVG_FEED(e, evg_kick(0, 20 * EVG_MS, "vsock", "tx"));
	EVG_FEED(e, evg_kick(0, 30 * EVG_MS, "vsock", "tx"));
	/* an interrupt on the kicking side answers nothing */
	EVG_FEED(e, evg_irq(0, 31 * EVG_MS, 24, "vsock"));
	capture_end(e, 1 * EVG_S);
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(evg_count(e, VS_FIND_UNANSWERED_IRQ), 1);
	CHECK_EQ_U(e->findings.n, 1);
	fd = evg_find(e, VS_FIND_UNANSWERED_IRQ, 0);
	if (fd) {
		CHECK_EQ_U(fd->system, 0);
		CHECK_EQ_U(fd->count, 3);
		CHECK_EQ_U(fd->start, 10 * EVG_MS);
		CHECK(fd->has_end);
		CHECK_EQ_U(fd->end, 30 * EVG_MS);
		CHECK_STR(fd->cause, "kick_unanswered");
		CHECK(!fd->has_flow);
		CHECK(fd->nevidence >= 1);
		CHECK(strstr(fd->summary, "3 kicks") != NULL);
		CHECK(strstr(fd->summary, "vsock/tx") != NULL);
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* an interrupt after the timeout is no answer */
static void t_kick_answer_too_late(void)
{
	struct vs_engine *e = engine(2, true);
	const struct vs_finding *fd;

	if (!e)
		return;
	capture_start(e);
	EVG_FEED(e, evg_kick(0, 10 * EVG_MS, "vsock", "tx"));
	EVG_FEED(e, evg_irq(1, 10 * EVG_MS + TIMEOUT + 1 * EVG_MS, 42,
			    "virtio0"));
	capture_end(e, 1 * EVG_S);
	CHECK_EQ_U(vs_engine_finish(e), 0);
	CHECK_EQ_U(evg_count(e, VS_FIND_UNANSWERED_IRQ), 1);
	fd = evg_find(e, VS_FIND_UNANSWERED_IRQ, 0);
	if (fd) {
		CHECK_EQ_U(fd->count, 1);
		CHECK_EQ_U(fd->start, 10 * EVG_MS);
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/*
 * an answer ends a run; a second apart is another run; a kick that only
 * refills receive buffers (vq rx) wants no visible answer: not judged
 */
static void t_kick_runs(void)
{
	struct vs_engine *e = engine(2, true);
	const struct vs_finding *fd;

	if (!e)
		return;
	capture_start(e);
	EVG_FEED(e, evg_kick(0, 10 * EVG_MS, "vsock", "tx"));
	EVG_FEED(e, evg_kick(0, 200 * EVG_MS, "vsock", "tx"));
	EVG_FEED(e, evg_irq(1, 200 * EVG_MS + 100 * EVG_US, 42, "virtio0"));
	EVG_FEED(e, evg_kick(0, 400 * EVG_MS, "vsock", "tx"));
	EVG_FEED(e, evg_kick(0, 2000 * EVG_MS, "vsock", "tx"));
	EVG_FEED(e, evg_kick(0, 2010 * EVG_MS, "vsock", "rx"));
	capture_end(e, 3 * EVG_S);
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(evg_count(e, VS_FIND_UNANSWERED_IRQ), 3);
	fd = evg_find(e, VS_FIND_UNANSWERED_IRQ, 0);
	CHECK(fd && fd->start == 10 * EVG_MS && fd->count == 1);
	fd = evg_find(e, VS_FIND_UNANSWERED_IRQ, 1);
	CHECK(fd && fd->start == 400 * EVG_MS && fd->count == 1);
	fd = evg_find(e, VS_FIND_UNANSWERED_IRQ, 2);
	CHECK(fd && fd->start == 2000 * EVG_MS && fd->count == 1);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* mailbox doorbells between two cores: answered, then not */
static void t_mbox(void)
{
	struct vs_engine *e = engine(2, true);
	const struct vs_finding *fd;

	if (!e)
		return;
	capture_start(e);
	EVG_FEED(e, evg_mbox(0, 10 * EVG_MS, VS_EV_MBOX_TX, "mhu0", 1));
	EVG_FEED(e, evg_mbox(1, 10 * EVG_MS + 20 * EVG_US, VS_EV_MBOX_RX,
			     "mhu0", 1));
	EVG_FEED(e, evg_mbox(1, 20 * EVG_MS, VS_EV_MBOX_TX, "mhu1", 2));
	EVG_FEED(e, evg_mbox(0, 20 * EVG_MS + 20 * EVG_US, VS_EV_MBOX_RX,
			     "mhu1", 2));
	EVG_FEED(e, evg_mbox(0, 500 * EVG_MS, VS_EV_MBOX_TX, "mhu0", 3));
	EVG_FEED(e, evg_mbox(0, 600 * EVG_MS, VS_EV_MBOX_TX, "mhu0", 4));
	capture_end(e, 2 * EVG_S);
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(evg_count(e, VS_FIND_UNANSWERED_IRQ), 1);
	CHECK_EQ_U(e->findings.n, 1);
	fd = evg_find(e, VS_FIND_UNANSWERED_IRQ, 0);
	if (fd) {
		CHECK_EQ_U(fd->system, 0);
		CHECK_EQ_U(fd->count, 2);
		CHECK_EQ_U(fd->start, 500 * EVG_MS);
		CHECK_EQ_U(fd->end, 600 * EVG_MS);
		CHECK_STR(fd->cause, "mailbox_unanswered");
		CHECK(strstr(fd->summary, "mailbox") != NULL);
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* one system traced: the other side is not in the capture */
static void t_single_system(void)
{
	struct vs_engine *e = engine(1, true);

	if (!e)
		return;
	capture_start(e);
	for (unsigned int i = 0; i < 10; i++) {
		EVG_FEED(e, evg_kick(0, (1 + i) * 10 * EVG_MS, "vsock", "tx"));
		EVG_FEED(e, evg_mbox(0, (1 + i) * 10 * EVG_MS + 1, VS_EV_MBOX_TX,
				     "mhu0", i));
	}
	capture_end(e, 2 * EVG_S);
	CHECK_EQ_U(vs_engine_finish(e), 0);
	CHECK_EQ_U(e->findings.n, 0);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* two systems whose clocks are not on one timeline: nothing to judge by */
static void t_clock_unknown(void)
{
	struct vs_engine *e = engine(2, false);

	if (!e)
		return;
	CHECK(!vs_engine_clocks_known(e, 0, 1));
	capture_start(e);
	EVG_FEED(e, evg_kick(0, 10 * EVG_MS, "vsock", "tx"));
	EVG_FEED(e, evg_mbox(0, 20 * EVG_MS, VS_EV_MBOX_TX, "mhu0", 1));
	capture_end(e, 2 * EVG_S);
	CHECK_EQ_U(vs_engine_finish(e), 0);
	CHECK_EQ_U(e->findings.n, 0);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* the other capture ends before the answer was due: not judged */
static void t_kick_near_end(void)
{
	struct vs_engine *e = engine(2, true);

	if (!e)
		return;
	capture_start(e);
	EVG_FEED(e, evg_kick(0, 950 * EVG_MS, "vsock", "tx"));
	EVG_FEED(e, evg_mark(1, 1000 * EVG_MS, "end"));
	EVG_FEED(e, evg_mark(0, 1020 * EVG_MS, "end"));
	CHECK_EQ_U(vs_engine_finish(e), 0);
	CHECK_EQ_U(e->findings.n, 0);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/*
 * The same with the capture windows known before the pass (as
 * vsock-report sets them) and the kicking side capturing on: kicks due
 * after the other capture ended are no evidence either.
 */
static void t_kick_after_other_capture_ended(void)
{
	struct vs_engine *e = engine(2, true);

	if (!e)
		return;
	vs_engine_set_window(e, 0, 0, 3 * EVG_S);
	vs_engine_set_window(e, 1, 0, 1 * EVG_S);
	capture_start(e);
	EVG_FEED(e, evg_kick(0, 950 * EVG_MS, "vsock", "tx"));
	EVG_FEED(e, evg_mark(1, 1000 * EVG_MS, "end"));
	EVG_FEED(e, evg_kick(0, 1200 * EVG_MS, "vsock", "tx"));
	EVG_FEED(e, evg_mark(0, 3 * EVG_S, "end"));
	CHECK_EQ_U(vs_engine_finish(e), 0);
	CHECK_EQ_U(e->findings.n, 0);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

VS_TEST_MAIN({ "irq_kick_answered", t_kick_answered },
	     { "irq_kick_unanswered", t_kick_unanswered },
	     { "irq_kick_answer_too_late", t_kick_answer_too_late },
	     { "irq_kick_runs", t_kick_runs },
	     { "irq_mbox", t_mbox },
	     { "irq_single_system", t_single_system },
	     { "irq_clock_unknown", t_clock_unknown },
	     { "irq_kick_near_end", t_kick_near_end },
	     { "irq_kick_after_other_capture_ended",
	       t_kick_after_other_capture_ended })
