/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fault injection for the reference transport: what to break, where, when
 * and how often, parsed from "KIND[:key=value,...]".
 *
 *   drop-kick        a kick the driver rings is lost (system a)
 *   drop-irq         a call the device rings is lost (system b; what=rx,
 *                    the receive queue, by default)
 *   withhold-credit  the reader consumes but sends no credit update
 *   fail-alloc       an rx refill (what=rx) or tx packet (what=tx)
 *                    buffer allocation fails
 *   drop-packet      a packet is lost on the way (what=tx: a → b, the
 *                    default; what=rx: b → a)
 *   stop-rx-refill   the driver stops refilling its receive queue
 *
 * keys: at=TIME (from the start of the run: 200ms, 1.5s, 300000us...),
 * for=DURATION (window faults; default 500ms), prob=P (per opportunity,
 * instead of at), count=N (at most N injections; default 1 with at),
 * flow=SRC_CID:SRC_PORT->DST_CID:DST_PORT or port=P (either end),
 * system=a|b, what=rx|tx.
 */
#ifndef VS_FAULT_H
#define VS_FAULT_H

#include <stdbool.h>
#include <stdint.h>
#include "flow.h"

enum vs_fault_kind {
	VS_FAULT_DROP_KICK,
	VS_FAULT_DROP_IRQ,
	VS_FAULT_WITHHOLD_CREDIT,
	VS_FAULT_FAIL_ALLOC,
	VS_FAULT_DROP_PACKET,
	VS_FAULT_STOP_RX_REFILL,
	VS_FAULT__MAX,
};

struct vs_fault {
	enum vs_fault_kind kind;
	char system;	   /* 'a' or 'b': where it acts */
	bool has_at;
	uint64_t at_ns;	   /* since the start of the run */
	uint64_t for_ns;   /* window length, window faults */
	double prob;	   /* > 0: per opportunity, instead of at */
	uint32_t count;	   /* at most this many; 0: no limit */
	bool has_flow;
	struct vs_tuple flow;
	bool has_port;
	uint32_t port;
	bool what_rx;	   /* fail-alloc / drop-packet: the rx side */
	/* state */
	uint32_t injected;
};

const char *vs_fault_name(enum vs_fault_kind k);
/* 0, or -EINVAL with @err set to a one-line reason */
int vs_fault_parse(const char *s, struct vs_fault *f, char *err,
		   unsigned int errlen);
/* a window fault: is it on at @now (ns since start)? */
bool vs_fault_active(const struct vs_fault *f, uint64_t now);
/* is this opportunity for @flow (NULL: not tied to a flow) hit? counts it.
 * @rnd is a uniform draw in [0, 1) from the caller's seeded generator */
bool vs_fault_hit(struct vs_fault *f, uint64_t now, const struct vs_tuple *flow,
		  double rnd);
bool vs_fault_matches_flow(const struct vs_fault *f, const struct vs_tuple *t);
/* "123ms", "1.5s", "250us", "1000ns", bare numbers are ns; -1 bad */
int vs_parse_duration(const char *s, uint64_t *ns);

#endif /* VS_FAULT_H */
