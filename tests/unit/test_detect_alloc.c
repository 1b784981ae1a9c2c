// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the failed-allocation detector (lib/detect_alloc.c)
 * through the engine, on one system (a Linux host, CID 2, talking to a
 * guest CID 3 that is not traced).
 *
 * A failure is on the vsock path when its call site says so, or when the
 * same CPU and task handled a vsock packet just before it (or right after);
 * the packet names the flow. Other failures are counted, not reported.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "evgen.h"

#define HOST 2
#define GUEST 3

static struct vs_engine *engine(void)
{
	struct vs_options opt;
	struct vs_engine *e;

	vs_options_default(&opt);
	opt.irq_timeout_ns = 100 * EVG_MS;
	e = evg_engine(1, &opt);
	CHECK(e != NULL);
	return e;
}

/* a packet the host sends to the guest, on @cpu as task @pid */
static struct vs_event host_tx(uint64_t t, int cpu, int pid, uint32_t len)
{
	return evg_on(evg_pkt(0, t, VS_EV_PKT_TX, HOST, 1024, GUEST, 5000,
			      VS_OP_RW, len),
		      cpu, pid);
}

/* a packet the host receives from the guest */
static struct vs_event host_rx(uint64_t t, int cpu, int pid, uint32_t len)
{
	return evg_on(evg_pkt(0, t, VS_EV_PKT_RX, GUEST, 5000, HOST, 1024,
			      VS_OP_RW, len),
		      cpu, pid);
}

/* seed 000: the 64 KiB packet buffer kmalloc failed */
static void t_kmalloc_vsock_call_site(void)
{
	struct vs_engine *e = engine();
	const struct vs_finding *fd;
	const uint64_t t = 1 * EVG_S;

	if (!e)
		return;
	EVG_FEED(e, evg_mark(0, 0, "start"));
	EVG_FEED(e, evg_kmalloc(0, t, 3, 777, "virtio_transport_alloc_pkt",
				65536 + 44, true));
	EVG_FEED(e, evg_mark(0, 3 * EVG_S, "end"));
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(e->sys[0].alloc_failures, 1);
	CHECK_EQ_U(evg_count(e, VS_FIND_ALLOC_FAILURE), 1);
	CHECK_EQ_U(e->findings.n, 1);
	fd = evg_find(e, VS_FIND_ALLOC_FAILURE, 0);
	if (fd) {
		CHECK_EQ_U(fd->system, 0);
		CHECK_EQ_U(fd->start, t);
		CHECK(fd->has_end);
		CHECK_EQ_U(fd->end, t);
		CHECK_EQ_U(fd->count, 1);
		CHECK_STR(fd->cause, "kmalloc");
		CHECK(!fd->has_flow); /* no packet near it */
		CHECK(fd->nevidence >= 1);
		CHECK(strstr(fd->summary, "virtio_transport_alloc_pkt") !=
		      NULL);
		/* and the silence that followed */
		CHECK(strstr(fd->summary, "no vsock packet was received") !=
		      NULL);
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* a receive refill belongs to no flow, whatever packet comes next */
static void t_refill_no_flow(void)
{
	struct vs_engine *e = engine();
	const struct vs_finding *fd;
	const uint64_t t = 10 * EVG_MS;

	if (!e)
		return;
	EVG_FEED(e, evg_kmalloc(0, t, 2, 0, "virtio_vsock_rx_fill", 4096 + 44,
				true));
	EVG_FEED(e, host_rx(t + 5 * EVG_MS, 2, 0, 10));
	EVG_FEED(e, evg_mark(0, 1 * EVG_S, "end"));
	CHECK_EQ_U(vs_engine_finish(e), 0);
	CHECK_EQ_U(evg_count(e, VS_FIND_ALLOC_FAILURE), 1);
	fd = evg_find(e, VS_FIND_ALLOC_FAILURE, 0);
	CHECK(fd && !fd->has_flow);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* an order-4 page allocation failed right after a packet on that cpu/task */
static void t_page_alloc_after_packet(void)
{
	struct vs_engine *e = engine();
	const struct vs_finding *fd;
	const uint64_t t = 1 * EVG_MS;

	if (!e)
		return;
	/* traffic on other cpus and flows around it */
	EVG_FEED(e, evg_on(evg_pkt(0, t - 500 * EVG_US, VS_EV_PKT_TX, HOST,
				   2000, GUEST, 6000, VS_OP_RW, 100),
			   0, 55));
	EVG_FEED(e, host_tx(t, 1, 4321, 65536));
	EVG_FEED(e, evg_page(0, t + 20 * EVG_US, 1, 4321, 4, true));
	EVG_FEED(e, evg_on(evg_pkt(0, t + 40 * EVG_US, VS_EV_PKT_TX, HOST,
				   2000, GUEST, 6000, VS_OP_RW, 100),
			   0, 55));
	EVG_FEED(e, host_rx(t + 300 * EVG_MS, 2, 0, 10));
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(e->sys[0].alloc_failures, 1);
	CHECK_EQ_U(evg_count(e, VS_FIND_ALLOC_FAILURE), 1);
	fd = evg_find(e, VS_FIND_ALLOC_FAILURE, 0);
	if (fd) {
		CHECK_EQ_U(fd->start, t + 20 * EVG_US);
		CHECK_STR(fd->cause, "page_alloc");
		CHECK(fd->has_flow);
		CHECK(evg_tuple_is(&fd->flow, HOST, 1024, GUEST, 5000));
		CHECK_EQ_U(fd->count, 1);
		CHECK(strstr(fd->summary, "order 4") != NULL);
		/* the next receive came 300 ms later */
		CHECK(strstr(fd->summary, "the next vsock packet arrived") !=
		      NULL);
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/*
 * a packet buffer allocation failed first; the packet it broke (retried)
 * showed on that cpu after: that packet names the flow
 */
static void t_failure_before_packet(void)
{
	struct vs_engine *e = engine();
	const struct vs_finding *fd;
	const uint64_t t = 10 * EVG_MS;

	if (!e)
		return;
	EVG_FEED(e, evg_kmalloc(0, t, 2, 0, "virtio_transport_alloc_skb",
				4096 + 44, true));
	EVG_FEED(e, host_rx(t + 5 * EVG_MS, 2, 0, 10));
	EVG_FEED(e, evg_mark(0, 1 * EVG_S, "end"));
	CHECK_EQ_U(vs_engine_finish(e), 0);
	CHECK_EQ_U(evg_count(e, VS_FIND_ALLOC_FAILURE), 1);
	fd = evg_find(e, VS_FIND_ALLOC_FAILURE, 0);
	if (fd) {
		CHECK_EQ_U(fd->start, t);
		CHECK(fd->has_flow);
		CHECK(evg_tuple_is(&fd->flow, GUEST, 5000, HOST, 1024));
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* failures away from any vsock activity, at unrelated call sites */
static void t_unrelated_failure(void)
{
	struct vs_engine *e = engine();

	if (!e)
		return;
	EVG_FEED(e, host_tx(1 * EVG_MS, 1, 4321, 4096));
	/* same cpu and task, but 50 ms later: too far */
	EVG_FEED(e, evg_kmalloc(0, 51 * EVG_MS, 1, 4321, "ext4_readdir",
				32768, true));
	/* another cpu and task, long after */
	EVG_FEED(e, evg_kmalloc(0, 5 * EVG_S, 3, 999, "alloc_skb_with_frags",
				65536, true));
	EVG_FEED(e, evg_page(0, 5 * EVG_S + 1 * EVG_MS, 3, 999, 3, true));
	/* vsock traffic again, far away and on other cpus and tasks */
	EVG_FEED(e, host_tx(8 * EVG_S, 0, 50, 4096));
	EVG_FEED(e, host_rx(8 * EVG_S + 1 * EVG_MS, 2, 51, 10));
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(e->sys[0].alloc_failures, 3); /* counted */
	CHECK_EQ_U(evg_count(e, VS_FIND_ALLOC_FAILURE), 0); /* not reported */
	CHECK_EQ_U(e->findings.n, 0);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* failures from one place within a second are one finding */
static void t_repeats_merge(void)
{
	struct vs_engine *e = engine();
	const struct vs_finding *fd;
	const char *cs = "virtio_transport_alloc_pkt";

	if (!e)
		return;
	EVG_FEED(e, evg_kmalloc(0, 1000 * EVG_MS, 1, 77, cs, 65580, true));
	EVG_FEED(e, evg_kmalloc(0, 1200 * EVG_MS, 1, 77, cs, 65580, true));
	EVG_FEED(e, evg_kmalloc(0, 1400 * EVG_MS, 1, 77, cs, 65580, true));
	/* 1.6 s after the last one: a new finding */
	EVG_FEED(e, evg_kmalloc(0, 3000 * EVG_MS, 1, 77, cs, 65580, true));
	EVG_FEED(e, evg_mark(0, 4 * EVG_S, "end"));
	CHECK_EQ_U(vs_engine_finish(e), 0);

	CHECK_EQ_U(e->sys[0].alloc_failures, 4);
	CHECK_EQ_U(evg_count(e, VS_FIND_ALLOC_FAILURE), 2);
	fd = evg_find(e, VS_FIND_ALLOC_FAILURE, 0);
	if (fd) {
		CHECK_EQ_U(fd->count, 3);
		CHECK_EQ_U(fd->start, 1000 * EVG_MS);
		CHECK(fd->has_end);
		CHECK_EQ_U(fd->end, 1400 * EVG_MS);
		CHECK(strstr(fd->summary, "3 failed allocations") != NULL);
	}
	fd = evg_find(e, VS_FIND_ALLOC_FAILURE, 1);
	if (fd) {
		CHECK_EQ_U(fd->count, 1);
		CHECK_EQ_U(fd->start, 3000 * EVG_MS);
		CHECK_EQ_U(fd->end, 3000 * EVG_MS);
	}
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

/* successful allocations, vsock call sites or not, say nothing */
static void t_success_is_silent(void)
{
	struct vs_engine *e = engine();

	if (!e)
		return;
	for (unsigned int i = 0; i < 20; i++) {
		uint64_t t = (1 + i) * 10 * EVG_MS;

		EVG_FEED(e, host_tx(t, 1, 4321, 65536));
		EVG_FEED(e, evg_kmalloc(0, t + 10 * EVG_US, 1, 4321,
					"virtio_transport_alloc_pkt", 65580,
					false));
		EVG_FEED(e, evg_page(0, t + 20 * EVG_US, 1, 4321, 4, false));
		EVG_FEED(e, host_rx(t + 1 * EVG_MS, 1, 0, 10));
	}
	CHECK_EQ_U(vs_engine_finish(e), 0);
	CHECK_EQ_U(e->sys[0].alloc_failures, 0);
	CHECK_EQ_U(e->sys[0].per_kind[VS_EV_ALLOC], 40);
	CHECK_EQ_U(e->findings.n, 0);
	evg_dump_if_failed(e);
	vs_engine_free(e);
}

VS_TEST_MAIN({ "alloc_kmalloc_vsock_call_site", t_kmalloc_vsock_call_site },
	     { "alloc_page_after_packet", t_page_alloc_after_packet },
	     { "alloc_failure_before_packet", t_failure_before_packet },
	     { "alloc_failure_refill_no_flow", t_refill_no_flow },
	     { "alloc_unrelated_failure", t_unrelated_failure },
	     { "alloc_repeats_merge", t_repeats_merge },
	     { "alloc_success_is_silent", t_success_is_silent })
