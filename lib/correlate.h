/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Correlation across systems: a packet sent on one system (PKT_TX) is
 * matched to its receive on another (PKT_RX) by 4-tuple, op, length and
 * order; matched pairs bound the clocks' offset from both sides.
 */
#ifndef VS_CORRELATE_H
#define VS_CORRELATE_H

#include <stdbool.h>
#include <stdint.h>
#include "event.h"
#include "flow.h"

#define VS_MAX_SYSTEMS 8

/*
 * A system's clock against the reference (system 0):
 * ref = local + offset_ns - drift_ppm * 1e-6 * (local - anchor),
 * drift_ppm > 0 when this clock runs fast.
 */
struct vs_clock {
	bool known;	      /* an offset could be estimated */
	bool has_uncertainty; /* bounds from both directions */
	int64_t offset_ns;
	double drift_ppm;
	int64_t anchor; /* local time where the offset is offset_ns */
	uint64_t uncertainty_ns;
	uint64_t pairs; /* matched packet pairs it rests on */
	char note[128];	/* how it was obtained, in words */
};

int64_t vs_clock_to_ref_drift(const struct vs_clock *c, uint64_t local);

/* inline: the engine converts every event's time */
static inline int64_t vs_clock_to_ref(const struct vs_clock *c,
				      uint64_t local)
{
	if (c->drift_ppm == 0)
		return (int64_t)local + c->offset_ns;
	return vs_clock_to_ref_drift(c, local);
}

uint64_t vs_clock_to_local(const struct vs_clock *c, uint64_t ref);

/* a packet as the matcher sees it */
struct vs_pkt_rec {
	uint64_t ref;	/* reference clock */
	uint64_t local; /* the system's own clock */
	struct vs_tuple t;
	uint32_t len;
	uint16_t op;
	uint16_t system;
	uint8_t tx;	   /* 1: PKT_TX, 0: PKT_RX */
	uint8_t unbounded; /* TX waits for its RX until the end */
	uint8_t has_off;   /* RW: off is the byte offset in the stream */
	uint64_t off;	   /* payload bytes of the flow before this one */
	int32_t cpu;
	int32_t pid;
};

/*
 * called for each outcome: (tx, rx) matched; (tx, NULL) a sent packet whose
 * receive never showed within the window; (NULL, rx) a receive with no send
 */
typedef void (*vs_match_fn)(void *ctx, const struct vs_pkt_rec *tx,
			    const struct vs_pkt_rec *rx);

struct vs_matcher;

/*
 * @window_ns: how long a TX waits for its RX
 * @tol_ns:    how long an RX waits for a TX that the clock model put after
 *             it (the offset's uncertainty)
 */
struct vs_matcher *vs_matcher_new(uint64_t window_ns, uint64_t tol_ns,
				  vs_match_fn fn, void *ctx);
void vs_matcher_free(struct vs_matcher *m);
/* records must come in (roughly, within tol) increasing ref order */
int vs_matcher_add(struct vs_matcher *m, const struct vs_pkt_rec *r);
/*
 * report as unmatched whatever waited past its window at time @now;
 * returns the next time anything can expire (UINT64_MAX: nothing waits)
 */
uint64_t vs_matcher_advance(struct vs_matcher *m, uint64_t now);
uint64_t vs_matcher_next_deadline(const struct vs_matcher *m);
/* the end: everything still waiting is unmatched */
void vs_matcher_flush(struct vs_matcher *m);
uint64_t vs_matcher_pending(const struct vs_matcher *m);
/*
 * strict: a receive the clock model put before its send is paired only
 * when stream offsets say which send it is (a late credit update, all
 * alike, would otherwise pair with the next one and skew the clock)
 */
void vs_matcher_set_strict(struct vs_matcher *m, bool strict);
/*
 * in order: control packets (no stream offset, all alike) pair with the
 * oldest send that fits, as a queue delivers them, rather than by latency:
 * right for deciding what was lost; the clock estimate, which must not
 * take a later send for an earlier one's, keeps the latency rule
 */
void vs_matcher_set_in_order(struct vs_matcher *m, bool in_order);

/*
 * Offset estimation over whole captures (before the analysis pass).
 * Collects PKT events of every system, then estimates each system's clock
 * against system 0.
 */
struct vs_corr;

struct vs_corr *vs_corr_new(unsigned int nsys);
void vs_corr_free(struct vs_corr *c);
int vs_corr_add(struct vs_corr *c, const struct vs_event *ev);
/* CIDs each system owns (it sent from or received at them) */
bool vs_corr_owns(const struct vs_corr *c, unsigned int sys, uint64_t cid);
unsigned int vs_corr_cids(const struct vs_corr *c, unsigned int sys,
			  const uint64_t **cids);
/*
 * fills clocks[0..nsys-1]; clocks[0] is the reference. @max_latency_ns
 * bounds how long a packet may take between systems.
 */
int vs_corr_estimate(struct vs_corr *c, struct vs_clock *clocks,
		     uint64_t max_latency_ns);

#endif /* VS_CORRELATE_H */
