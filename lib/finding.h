/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Findings: what a detector concluded, where, when, from which evidence, and
 * a line a user can act on.
 */
#ifndef VS_FINDING_H
#define VS_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "event.h"
#include "flow.h"

enum vs_finding_kind {
	VS_FIND_CREDIT_STALL,
	VS_FIND_ALLOC_FAILURE,
	VS_FIND_UNANSWERED_IRQ,
	VS_FIND_LOST_PACKET,
	VS_FIND_RESET,
	VS_FIND__MAX,
};

#define VS_EVIDENCE_MAX 6
#define VS_SUMMARY_LEN 320
#define VS_EVIDENCE_LEN 200

struct vs_evidence {
	uint16_t system;
	uint64_t ts; /* the system's own clock, as printed in its trace */
	char text[VS_EVIDENCE_LEN];
};

struct vs_finding {
	uint16_t kind;	 /* enum vs_finding_kind */
	uint16_t system; /* where it was seen (the sender, for packets) */
	bool has_flow;
	bool has_end;
	struct vs_tuple flow;
	uint64_t start;	   /* reference clock */
	uint64_t end;	   /* valid if has_end */
	uint64_t count;	   /* events it covers (packets, failures, RSTs) */
	uint64_t seq;	   /* creation order, for a stable sort */
	char cause[48];	   /* short machine-readable cause, or "" */
	char ended_by[48]; /* how it ended, or "" */
	char summary[VS_SUMMARY_LEN];
	unsigned int nevidence;
	struct vs_evidence evidence[VS_EVIDENCE_MAX];
};

struct vs_findings {
	struct vs_finding *v;
	size_t n;
	size_t cap;
	uint64_t seq;
};

const char *vs_finding_kind_name(unsigned int kind);

/* a new zeroed finding appended to @fs; NULL on ENOMEM */
struct vs_finding *vs_finding_add(struct vs_findings *fs, unsigned int kind,
				  unsigned int system, uint64_t start);
void vs_finding_set_flow(struct vs_finding *f, const struct vs_tuple *t);
/* printf-style summary */
void vs_finding_summary(struct vs_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* add evidence: the event as a short line (ignored past VS_EVIDENCE_MAX) */
void vs_finding_evidence(struct vs_finding *f, const struct vs_event *ev);
void vs_finding_note(struct vs_finding *f, unsigned int system, uint64_t ts,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* sort by start time, then creation order */
void vs_findings_sort(struct vs_findings *fs);
void vs_findings_free(struct vs_findings *fs);

/*
 * Runs: a finding that grows while the fault goes on (packets lost one
 * after another on a flow, doorbells unanswered on a queue). A run is keyed
 * by kind, system, flow and a tag; it ends when the fault stops.
 */
struct vs_run_key {
	uint16_t kind;
	uint16_t system;
	bool has_flow;
	struct vs_tuple t;
	char tag[48];
};

struct vs_runs {
	struct vs_run {
		struct vs_run_key k;
		size_t idx; /* in the findings vector */
		uint64_t last;
	} *v;
	size_t n, cap;
};

/* the open run's finding, or NULL */
struct vs_finding *vs_run_get(struct vs_runs *r, struct vs_findings *fs,
			      const struct vs_run_key *k, uint64_t *last);
int vs_run_set(struct vs_runs *r, const struct vs_run_key *k,
	       struct vs_findings *fs, const struct vs_finding *f,
	       uint64_t last);
void vs_run_end(struct vs_runs *r, const struct vs_run_key *k);
void vs_runs_free(struct vs_runs *r);

/* one event in the words of the trace it came from, for evidence */
void vs_event_describe(const struct vs_event *ev, char *buf, size_t size);

#endif /* VS_FINDING_H */
