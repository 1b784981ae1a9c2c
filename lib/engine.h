/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The analysis engine: one time-ordered stream of events from one or more
 * systems goes in; flows, credit, matched packets and findings come out.
 * vsock-report feeds it from files, vsocktop from live captures: the same
 * code decides what is a fault.
 */
#ifndef VS_ENGINE_H
#define VS_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include "correlate.h"
#include "event.h"
#include "finding.h"
#include "flow.h"

#define VS_SYSNAME_LEN 32
#define VS_ACT_RING 4096 /* recent activity kept per system */

/*
 * What kind of answer an activity is. A packet received (or a queue or
 * mailbox worked) answers anything; an interrupt named after a receive
 * queue ("virtio0-rx") answers a delivery, one named after a transmit
 * queue ("...-tx") answers a kick, one with another name may answer either.
 */
#define VS_ANS_WORK (1u << 0)
#define VS_ANS_IRQ_RX (1u << 1)
#define VS_ANS_IRQ_TX (1u << 2)
#define VS_ANS_IRQ (1u << 3)
#define VS_ANS_DELIVERY (VS_ANS_WORK | VS_ANS_IRQ_RX | VS_ANS_IRQ)
#define VS_ANS_KICK (VS_ANS_WORK | VS_ANS_IRQ_TX | VS_ANS_IRQ)
#define VS_ANS_ANY (~0u)
#define VS_IRQ_CACHE 1024 /* interrupt numbers whose names are remembered */

struct vs_options {
	uint64_t stall_ns;	 /* credit stall threshold (--stall-ms) */
	uint64_t irq_timeout_ns; /* answer / delivery timeout */
	bool has_since, has_until;
	uint64_t since_ns, until_ns; /* reference clock */
	/* --flow: CID[:PORT] or CID:PORT->CID:PORT, either direction */
	bool has_flow_filter;
	bool filter_pair; /* both ends given */
	uint64_t f_cid[2];
	uint32_t f_port[2];
	bool f_any_port[2];
};

void vs_options_default(struct vs_options *opt);
/* parse a --flow argument; 0 or -EINVAL */
int vs_options_parse_flow(struct vs_options *opt, const char *s);

struct vs_system {
	char name[VS_SYSNAME_LEN];
	struct vs_clock clock;
	uint64_t events; /* after filters */
	uint64_t first_local, last_local;
	bool any;
	bool cut; /* events after --until were dropped */
	struct vs_irq_verdict {
		uint32_t name_hash;
		uint32_t answers; /* VS_ANS_* class, 0: not an answer */
	} irq_verdict[VS_IRQ_CACHE];
	uint64_t per_kind[VS_EV__MAX];
	uint64_t alloc_failures;
	struct vs_cidset cids;
	/* capture window on the reference clock, known before the pass */
	bool has_window;
	uint64_t win_start, win_end;
	/* recent "answers": irq, vq irq, mailbox receive, packet receive */
	struct vs_act {
		uint64_t ts;
		uint32_t cls; /* VS_ANS_* */
	} act[VS_ACT_RING];
	uint64_t act_n; /* answers seen in all */
};

struct vs_engine {
	struct vs_options opt;
	unsigned int nsys;
	struct vs_system sys[VS_MAX_SYSTEMS];
	struct vs_flow_table *flows;
	struct vs_findings findings;
	struct vs_matcher *matcher;
	uint64_t now;	  /* latest reference time fed */
	uint64_t tick_at; /* when a detector or the matcher has work */
	bool started;
	int err;      /* first internal error (ENOMEM) */
	/* the flow entry of the last event fed, if a packet (a tool's own
	 * per-flow state hangs off vs_flow.priv) */
	struct vs_flow *last_flow;
	void *det[5]; /* detectors' own state */
};

struct vs_engine *vs_engine_new(const struct vs_options *opt,
				unsigned int nsys, const char *const *names);
void vs_engine_free(struct vs_engine *e);

/*
 * Before the first event: a system's clock, CIDs and capture window when
 * known from an earlier pass (vs_corr). Without them the engine learns
 * CIDs as it goes and treats the clock as the reference's.
 */
void vs_engine_set_clock(struct vs_engine *e, unsigned int sys,
			 const struct vs_clock *c);
void vs_engine_add_cid(struct vs_engine *e, unsigned int sys, uint64_t cid);
void vs_engine_set_window(struct vs_engine *e, unsigned int sys,
			  uint64_t first_local, uint64_t last_local);

/* a detector has work at @t: make sure the engine ticks then */
static inline void vs_engine_wake(struct vs_engine *e, uint64_t t)
{
	if (t < e->tick_at)
		e->tick_at = t;
}

/* the reference time of a local timestamp of @sys */
uint64_t vs_engine_ref(const struct vs_engine *e, unsigned int sys,
		       uint64_t local);
/*
 * vs_engine_feed - one event (ev->system set, ev->ts_ns local); events of
 * all systems must come in reference-time order. Returns 0 or -errno.
 */
int vs_engine_feed(struct vs_engine *e, const struct vs_event *ev);

/*
 * vs_engine_prefetch - ask for the memory vs_engine_feed(@ev) will touch,
 * events ahead of feeding it, so that its cache misses overlap the work
 * on the events before it, in three stages, each some events after the
 * one before, when what it asked for has arrived: 0, the hash slot of its
 * flow; 1, its flow entry; 2, the entry of the reverse direction. @pf
 * carries what one stage learnt to the next: the same for all three.
 * Returns the entry (for callers that hang their own data on it), or NULL.
 * It changes nothing; feeding without it gives the same results.
 */
struct vs_prefetch {
	bool pkt;	 /* a packet: the rest is set */
	uint32_t hash;	 /* its flow's, from stage 0 */
	struct vs_flow *f; /* its flow's entry, most likely; from stage 1 */
};
struct vs_flow *vs_engine_prefetch(const struct vs_engine *e,
				   const struct vs_event *ev, unsigned int stage,
				   struct vs_prefetch *pf);
/*
 * vs_engine_forget - drop a connection's entries on one system, @f and its
 * reverse, for a tool that runs for days: once the connection has closed
 * and gone quiet. Its findings stay; a later packet of it starts new
 * entries, counting from zero. Refused (false) while a credit stall is
 * open on either entry.
 */
bool vs_engine_forget(struct vs_engine *e, struct vs_flow *f);
/* the end of input: open stalls, unanswered sends... become findings */
int vs_engine_finish(struct vs_engine *e);

bool vs_engine_owns(const struct vs_engine *e, unsigned int sys,
		    uint64_t cid);
/* did @sys show an answer of a class in @cls (VS_ANS_*) in (from, to],
 * reference clock */
bool vs_engine_answered(const struct vs_engine *e, unsigned int sys,
			uint64_t from, uint64_t to, uint32_t cls);
/* how far apart two events of @a and @b may really be when their
 * reference times say they coincide: the clocks' uncertainties, and the
 * microsecond the traces print */
uint64_t vs_engine_slack(const struct vs_engine *e, unsigned int a,
			 unsigned int b);
/* are times of @a and @b comparable (both clocks known)? */
bool vs_engine_clocks_known(const struct vs_engine *e, unsigned int a,
			    unsigned int b);

#endif /* VS_ENGINE_H */
