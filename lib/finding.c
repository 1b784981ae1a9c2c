// SPDX-License-Identifier: GPL-2.0-only
/* Findings and their evidence. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "finding.h"
#include "text_out.h"

static const char *const kind_names[VS_FIND__MAX] = {
	[VS_FIND_CREDIT_STALL] = "credit_stall",
	[VS_FIND_ALLOC_FAILURE] = "alloc_failure",
	[VS_FIND_UNANSWERED_IRQ] = "unanswered_interrupt",
	[VS_FIND_LOST_PACKET] = "lost_packet",
	[VS_FIND_RESET] = "reset",
};

const char *vs_finding_kind_name(unsigned int kind)
{
	return kind < VS_FIND__MAX ? kind_names[kind] : "unknown";
}

struct vs_finding *vs_finding_add(struct vs_findings *fs, unsigned int kind,
				  unsigned int system, uint64_t start)
{
	struct vs_finding *f;

	if (fs->n == fs->cap) {
		size_t cap = fs->cap ? fs->cap * 2 : 16;
		struct vs_finding *v = realloc(fs->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		fs->v = v;
		fs->cap = cap;
	}
	f = &fs->v[fs->n++];
	memset(f, 0, sizeof(*f));
	f->kind = (uint16_t)kind;
	f->system = (uint16_t)system;
	f->start = start;
	f->count = 1;
	f->seq = fs->seq++;
	return f;
}

void vs_finding_set_flow(struct vs_finding *f, const struct vs_tuple *t)
{
	f->has_flow = true;
	f->flow = *t;
}

void vs_finding_summary(struct vs_finding *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->summary, sizeof(f->summary), fmt, ap);
	va_end(ap);
}

void vs_finding_note(struct vs_finding *f, unsigned int system, uint64_t ts,
		     const char *fmt, ...)
{
	struct vs_evidence *e;
	va_list ap;

	if (f->nevidence >= VS_EVIDENCE_MAX)
		return;
	e = &f->evidence[f->nevidence++];
	e->system = (uint16_t)system;
	e->ts = ts;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
}

/* evidence reads like the trace line it came from: grep finds it */
void vs_event_describe(const struct vs_event *ev, char *buf, size_t size)
{
	char args[256];
	const char *name;

	if (vs_text_event(ev, &name, args, sizeof(args)))
		snprintf(buf, size, "%s", vs_kind_name(ev->kind));
	else
		snprintf(buf, size, "%s: %s", name, args);
}

void vs_finding_evidence(struct vs_finding *f, const struct vs_event *ev)
{
	char buf[VS_EVIDENCE_LEN];

	if (f->nevidence >= VS_EVIDENCE_MAX)
		return;
	vs_event_describe(ev, buf, sizeof(buf));
	if (ev->present & VS_HAS_COMM)
		vs_finding_note(f, ev->system, ev->ts_ns, "%s-%d %s", ev->comm,
				ev->pid, buf);
	else
		vs_finding_note(f, ev->system, ev->ts_ns, "%s", buf);
}

static int cmp_finding(const void *a, const void *b)
{
	const struct vs_finding *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void vs_findings_sort(struct vs_findings *fs)
{
	if (fs->n > 1)
		qsort(fs->v, fs->n, sizeof(*fs->v), cmp_finding);
}

void vs_findings_free(struct vs_findings *fs)
{
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

static bool run_key_eq(const struct vs_run_key *a, const struct vs_run_key *b)
{
	return a->kind == b->kind && a->system == b->system &&
	       a->has_flow == b->has_flow &&
	       (!a->has_flow || vs_tuple_eq(&a->t, &b->t)) &&
	       !strcmp(a->tag, b->tag);
}

static struct vs_run *run_find(struct vs_runs *r, const struct vs_run_key *k)
{
	for (size_t i = 0; i < r->n; i++)
		if (run_key_eq(&r->v[i].k, k))
			return &r->v[i];
	return NULL;
}

struct vs_finding *vs_run_get(struct vs_runs *r, struct vs_findings *fs,
			      const struct vs_run_key *k, uint64_t *last)
{
	struct vs_run *x = run_find(r, k);

	if (!x)
		return NULL;
	if (last)
		*last = x->last;
	return &fs->v[x->idx];
}

int vs_run_set(struct vs_runs *r, const struct vs_run_key *k,
	       struct vs_findings *fs, const struct vs_finding *f,
	       uint64_t last)
{
	struct vs_run *x = run_find(r, k);

	if (!x) {
		if (r->n == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 16;
			struct vs_run *v = realloc(r->v, cap * sizeof(*v));

			if (!v)
				return -1;
			r->v = v;
			r->cap = cap;
		}
		x = &r->v[r->n++];
		x->k = *k;
	}
	x->idx = (size_t)(f - fs->v);
	x->last = last;
	return 0;
}

void vs_run_end(struct vs_runs *r, const struct vs_run_key *k)
{
	struct vs_run *x = run_find(r, k);

	if (x)
		*x = r->v[--r->n];
}

void vs_runs_free(struct vs_runs *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}
