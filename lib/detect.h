/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The detectors, one per file. The engine calls them; they read the engine's
 * flow table and systems and add findings.
 */
#ifndef VS_DETECT_H
#define VS_DETECT_H

#include "correlate.h"
#include "engine.h"

enum { VS_DET_CREDIT, VS_DET_ALLOC, VS_DET_IRQ, VS_DET_LOST, VS_DET_RESET };

/* detect_credit.c: credit_stall */
/* after the sender's view of credit of @f changed (or time passed) */
void vs_credit_stall_check(struct vs_engine *e, struct vs_flow *f,
			   const struct vs_event *ev, uint64_t ref);
/* a packet arrived on the receiving side of @f's reverse: for the cause */
void vs_credit_stall_note_reverse(struct vs_engine *e, struct vs_flow *f,
				  const struct vs_event *ev);
int vs_credit_stall_finish(struct vs_engine *e);
/* is a stall of @f open now? *start: when it began (reference clock) */
bool vs_credit_stall_open(const struct vs_flow *f, uint64_t *start);
/* stalls still open when the engine goes away without finishing */
void vs_credit_stall_free(struct vs_engine *e);

/* detect_alloc.c: alloc_failure */
int vs_alloc_failure_init(struct vs_engine *e);
void vs_alloc_failure_event(struct vs_engine *e, const struct vs_event *ev,
			    uint64_t ref);
/* these return the next time they have work, UINT64_MAX for none */
uint64_t vs_alloc_failure_tick(struct vs_engine *e, uint64_t now);
int vs_alloc_failure_finish(struct vs_engine *e);
void vs_alloc_failure_free(struct vs_engine *e);

/* detect_irq.c: unanswered_interrupt */
int vs_unanswered_init(struct vs_engine *e);
void vs_unanswered_event(struct vs_engine *e, const struct vs_event *ev,
			 uint64_t ref);
uint64_t vs_unanswered_tick(struct vs_engine *e, uint64_t now);
int vs_unanswered_finish(struct vs_engine *e);
void vs_unanswered_free(struct vs_engine *e);

/* detect_lost.c: lost_packet (and packets nobody answered) */
/* the matcher's verdict on one packet */
void vs_lost_outcome(struct vs_engine *e, const struct vs_pkt_rec *tx,
		     const struct vs_pkt_rec *rx);
void vs_lost_free(struct vs_engine *e);
/* verdicts that waited for the receiver's capture to move on */
uint64_t vs_lost_tick(struct vs_engine *e, uint64_t now, bool final);

/* detect_reset.c: reset */
void vs_reset_event(struct vs_engine *e, const struct vs_event *ev,
		    uint64_t ref, struct vs_flow *f);
int vs_reset_finish(struct vs_engine *e);
void vs_reset_free(struct vs_engine *e);

#endif /* VS_DETECT_H */
