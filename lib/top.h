/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The collector behind vsocktop: events go into the same engine
 * vsock-report uses (flows, credit, detectors); at each tick the collector
 * turns the engine's state into a view: per-system totals and rates, one
 * row per connection with both directions side by side, and the findings,
 * including stalls still going on. It knows nothing of terminals or of
 * where the events come from; the screen knows nothing of the engine.
 */
#ifndef VS_TOP_H
#define VS_TOP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "engine.h"

#define VS_TOP_HIST 120 /* credit samples kept per direction (ticks) */
#define VS_TOP_RECENT 16 /* recent packets kept per connection */

/* one system's totals (since the start) and rates (over the last tick) */
struct vs_top_sys {
	char name[VS_SYSNAME_LEN];
	uint64_t events, pkts, bytes, kicks, irqs, alloc_failures, lost;
	double ev_rate, pkt_rate, byte_rate, kick_rate, irq_rate;
	bool clock_known;
	bool clock_ref; /* this is the reference system */
	int64_t offset_ns;
	uint64_t uncertainty_ns;
	char clock_note[128];
};

struct vs_top_pkt {
	uint64_t ts; /* the seeing system's own clock */
	uint32_t len;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
	uint8_t op; /* VS_OP_*; 255 for any op past it */
	uint8_t system;
	uint8_t dir; /* 0: A->B, 1: B->A */
	uint8_t rx; /* 0: sent (PKT_TX), 1: received (PKT_RX) */
};

/* one direction of a connection */
struct vs_top_dir {
	uint64_t bytes, pkts; /* payload bytes and packets, best view */
	double bps, pps; /* over the last tick */
	bool credit_known;
	int64_t peer_free; /* sender's view, may be < 0 briefly */
	uint32_t buf_alloc;
	uint32_t fwd_cnt; /* the receiver's fwd_cnt as last advertised */
	uint64_t stalled_ns; /* closed stalls and the open one */
	bool stalled; /* a stall is open now */
	bool stalled_long; /* ... for longer than the stall threshold */
	uint64_t stall_start;
	uint64_t unmatched;
	/*
	 * peer_free at each tick, a ring: read it with vs_top_hist(). A float
	 * is exact to 16 MiB and within 1e-7 past it, which a sparkline
	 * cannot show, at half the size of a row's largest part.
	 */
	float hist[VS_TOP_HIST];
	unsigned int hpos; /* the oldest sample */
	unsigned int hn; /* samples taken so far, up to VS_TOP_HIST */
};

/* the @i-th oldest credit sample (0 .. VS_TOP_HIST-1); INT64_MIN: none */
static inline int64_t vs_top_hist(const struct vs_top_dir *d, unsigned int i)
{
	float v;

	if (i >= VS_TOP_HIST || i < VS_TOP_HIST - d->hn)
		return INT64_MIN;
	v = d->hist[(d->hpos + i) % VS_TOP_HIST];
	return v != v ? INT64_MIN : (int64_t)v; /* NaN: no sample */
}

/* one connection: A is the initiator when its request was seen */
struct vs_top_row {
	/*
	 * What every packet touches: the first cache line (rows are allocated
	 * aligned to them), and one entry of recent[].
	 */
	struct vs_tuple t; /* A -> B */
	uint32_t systems;  /* bit i: system i saw it */
	uint8_t nrecent;
	/* private */
	uint8_t rpos;
	bool hidden; /* closed, and quiet for longer than keep_closed */
	uint64_t first_ts, last_ts; /* reference clock */
	struct vs_top_row *next;
	/* set when an engine entry is first seen on the row */
	struct vs_flow *fl[VS_MAX_SYSTEMS][2];
	struct vs_top_pkt recent[VS_TOP_RECENT]; /* a ring from rpos */
	/* the view, filled at each tick (and hidden above) */
	char state[24];
	uint32_t findings; /* findings on this connection */
	uint64_t prev_bytes[2], prev_pkts[2];
	struct vs_top_dir d[2]; /* 0: A->B, 1: B->A */
} __attribute__((aligned(64)));

/* a finding for display: a finished one, or a credit stall still open */
struct vs_top_finding {
	bool ongoing;
	uint64_t start; /* reference clock */
	struct vs_tuple flow;
	bool has_flow;
	char line[VS_SUMMARY_LEN + 160]; /* as vsock-report -q prints it */
};

struct vs_top;

struct vs_top *vs_top_new(const struct vs_options *opt, unsigned int nsys,
			  const char *const *names);
void vs_top_free(struct vs_top *t);
/* the engine, for clocks and CIDs known before the first event */
struct vs_engine *vs_top_engine(struct vs_top *t);

/*
 * how long (reference time) a closed or reset connection stays in the
 * view after its last packet; UINT64_MAX: for ever (the default)
 */
void vs_top_set_keep_closed(struct vs_top *t, uint64_t ns);

/* one event, in reference order (as vs_engine_feed); 0 or -errno */
int vs_top_feed(struct vs_top *t, const struct vs_event *ev);
/*
 * vs_top_prefetch - vs_engine_prefetch(), and at stage 2 the row too; a
 * stage 3, some events after 2, asks for the row's next recent packet
 */
void vs_top_prefetch(const struct vs_top *t, const struct vs_event *ev,
		     unsigned int stage, struct vs_prefetch *pf);
/* @n events one system's source says it lost */
void vs_top_lost(struct vs_top *t, unsigned int sys, uint64_t n);
/*
 * vs_top_tick - end an interval at reference time @now (0: the latest
 * event's): rates over it, credit samples, findings. Returns 0 or -errno.
 */
int vs_top_tick(struct vs_top *t, uint64_t now);
/*
 * vs_top_finish - the end: open stalls and the like become findings.
 * @cut: 0 at the end of the input; else the reference time the user
 * stopped at, as if every capture had gone on past it (vsock-report
 * --until @cut: a stall still open lasts to @cut)
 */
int vs_top_finish(struct vs_top *t, uint64_t cut);

/* ------------------------------------------------------------ the view */

unsigned int vs_top_nsys(const struct vs_top *t);
const struct vs_top_sys *vs_top_sys(const struct vs_top *t, unsigned int i);
unsigned int vs_top_nrows(const struct vs_top *t);
const struct vs_top_row *vs_top_row(const struct vs_top *t, unsigned int i);
/* findings, oldest first; the ongoing ones last */
unsigned int vs_top_nfindings(const struct vs_top *t);
const struct vs_top_finding *vs_top_finding(const struct vs_top *t,
					    unsigned int i);
/* reference time of the last tick, and its length */
uint64_t vs_top_now(const struct vs_top *t);
uint64_t vs_top_interval(const struct vs_top *t);
bool vs_top_finished(const struct vs_top *t);
/* connections dropped from memory after they closed (vs_engine_forget()) */
uint64_t vs_top_forgotten(const struct vs_top *t);

/* write the findings, finished ones only, as vsock-report -q does */
int vs_top_write_findings(FILE *out, const struct vs_top *t);

/* sort keys for rows */
enum vs_top_sort {
	VS_TOP_SORT_RATE, /* bytes/s, both directions */
	VS_TOP_SORT_STALL, /* time stalled */
	VS_TOP_SORT_FREE, /* lowest peer_free first */
	VS_TOP_SORT_FAIL, /* findings */
	VS_TOP_SORT_FLOW, /* CIDs and ports */
	VS_TOP_SORT_AGE, /* most recent activity */
	VS_TOP_SORT__MAX,
};
const char *vs_top_sort_name(unsigned int key);
/* parse a sort key name; -1 if unknown */
int vs_top_sort_parse(const char *s);

/*
 * a filter: CID, CID:PORT; rows with an end that matches. "" or NULL
 * clears it. Returns 0 or -EINVAL.
 */
struct vs_top_filter {
	bool on;
	uint64_t cid;
	bool any_port;
	uint32_t port;
};
int vs_top_filter_parse(struct vs_top_filter *f, const char *s);
bool vs_top_filter_match(const struct vs_top_filter *f,
			 const struct vs_top_row *r);

/*
 * vs_top_select - the rows that pass @f and are not hidden, sorted by
 * @key (@reverse turns it round); fills @out (room for vs_top_nrows())
 * and returns how many
 */
unsigned int vs_top_select(const struct vs_top *t,
			   const struct vs_top_filter *f, unsigned int key,
			   bool reverse, const struct vs_top_row **out);

#endif /* VS_TOP_H */
