// SPDX-License-Identifier: GPL-2.0-only
/* The report writer: text and JSON from one description of each field. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include "report.h"

struct w {
	FILE *f;
	int nw; /* width of the system name column */
	bool json;
	bool pretty;
	int depth;
	bool first[32];
};

/* pretty JSON: a new line, indented @level steps */
static void indent(struct w *w, int level)
{
	if (!w->pretty)
		return;
	fputc('\n', w->f);
	for (int i = 0; i < level; i++)
		fputs("  ", w->f);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* JSON: the separator and the key of the next member */
static void key(struct w *w, const char *k)
{
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = false;
	indent(w, w->depth + 1);
	if (k) {
		json_str(w->f, k);
		fputs(w->pretty ? ": " : ":", w->f);
	}
}

static void open_(struct w *w, const char *k, char c)
{
	if (!w->json)
		return;
	if (w->depth >= 0)
		key(w, k);
	fputc(c, w->f);
	w->depth++;
	w->first[w->depth] = true;
}

static void close_(struct w *w, char c)
{
	if (!w->json)
		return;
	w->depth--;
	if (!w->first[w->depth + 1])
		indent(w, w->depth + 1);
	fputc(c, w->f);
}

#define obj_open(w, k) open_(w, k, '{')
#define obj_close(w) close_(w, '}')
#define arr_open(w, k) open_(w, k, '[')
#define arr_close(w) close_(w, ']')

/* text only */
static void __attribute__((format(printf, 2, 3)))
txt(struct w *w, const char *fmt, ...)
{
	va_list ap;

	if (w->json)
		return;
	va_start(ap, fmt);
	vfprintf(w->f, fmt, ap);
	va_end(ap);
}

static void u64(struct w *w, const char *k, const char *tfmt, uint64_t v)
{
	if (w->json) {
		key(w, k);
		fprintf(w->f, "%" PRIu64, v);
	} else if (tfmt) {
		fprintf(w->f, tfmt, v);
	}
}

static void i64(struct w *w, const char *k, const char *tfmt, int64_t v)
{
	if (w->json) {
		key(w, k);
		fprintf(w->f, "%" PRId64, v);
	} else if (tfmt) {
		fprintf(w->f, tfmt, v);
	}
}

static void dbl(struct w *w, const char *k, const char *tfmt, double v)
{
	if (w->json) {
		key(w, k);
		fprintf(w->f, "%.3f", v);
	} else if (tfmt) {
		fprintf(w->f, tfmt, v);
	}
}

static void str(struct w *w, const char *k, const char *tfmt, const char *s)
{
	if (w->json) {
		key(w, k);
		json_str(w->f, s);
	} else if (tfmt) {
		fprintf(w->f, tfmt, s);
	}
}

/* JSON null; in text, @ttext (if any) */
static void null(struct w *w, const char *k, const char *tfmt,
		 const char *ttext)
{
	if (w->json) {
		key(w, k);
		fputs("null", w->f);
	} else if (tfmt) {
		fprintf(w->f, tfmt, ttext);
	}
}

static void boolean(struct w *w, const char *k, bool v)
{
	if (w->json) {
		key(w, k);
		fputs(v ? "true" : "false", w->f);
	}
}

/* "18409.529434" */
static const char *secs(uint64_t ns, char *buf, size_t n)
{
	snprintf(buf, n, "%" PRIu64 ".%06" PRIu64, ns / UINT64_C(1000000000),
		 (ns % UINT64_C(1000000000)) / 1000);
	return buf;
}

/* "1000.123456789" */
static const char *secs9(uint64_t ns, char *buf, size_t n)
{
	snprintf(buf, n, "%" PRIu64 ".%09" PRIu64, ns / UINT64_C(1000000000),
		 ns % UINT64_C(1000000000));
	return buf;
}

static const char *dur(uint64_t ns, char *buf, size_t n)
{
	if (ns >= 10000000000ull)
		snprintf(buf, n, "%.1f s", ns / 1e9);
	else if (ns >= 1000000ull)
		snprintf(buf, n, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, n, "%.1f us", ns / 1e3);
	return buf;
}

static void write_systems(struct w *w, const struct vs_engine *e,
			  const struct vs_report_input *in)
{
	char b1[32], b2[32], b3[32];

	txt(w, "SYSTEMS\n");
	arr_open(w, "systems");
	for (unsigned int i = 0; i < e->nsys; i++) {
		const struct vs_system *s = &e->sys[i];
		const struct vs_clock *c = &s->clock;
		const struct vs_source_stats *st = &in[i].st;

		obj_open(w, NULL);
		str(w, "name", "  %s", s->name);
		txt(w, ":");
		str(w, "file", NULL, in[i].path ? in[i].path : "");
		u64(w, "events", " %" PRIu64, st->events);
		txt(w, " event%s", st->events == 1 ? "" : "s");
		u64(w, "lines", NULL, st->lines);
		u64(w, "skipped_lines", ", %" PRIu64 " lines skipped",
		    st->skipped);
		u64(w, "lost_events", NULL, st->lost);
		if (st->lost)
			txt(w, ", %" PRIu64 " events lost by the kernel",
			    st->lost);
		if (st->events) {
			u64(w, "first_ts_ns", NULL, st->first_ts);
			u64(w, "last_ts_ns", NULL, st->last_ts);
			txt(w, ", %s .. %s (%s)",
			    secs(st->first_ts, b1, sizeof(b1)),
			    secs(st->last_ts, b2, sizeof(b2)),
			    st->last_ts >= st->first_ts ?
				    dur(st->last_ts - st->first_ts, b3,
					sizeof(b3)) :
				    "timestamps go backwards");
		} else {
			null(w, "first_ts_ns", NULL, NULL);
			null(w, "last_ts_ns", NULL, NULL);
		}
		txt(w, "\n    clock: ");
		if (i == 0) {
			i64(w, "clock_offset_ns", NULL, 0);
			u64(w, "offset_uncertainty_ns", NULL, 0);
			dbl(w, "clock_drift_ppm", NULL, 0);
			txt(w, "the reference: report times are on it");
		} else if (c->known) {
			i64(w, "clock_offset_ns", NULL, c->offset_ns);
			txt(w, "offset %s%s s", c->offset_ns < 0 ? "-" : "+",
			    secs9((uint64_t)llabs(c->offset_ns), b1,
				  sizeof(b1)));
			if (c->has_uncertainty) {
				u64(w, "offset_uncertainty_ns", NULL,
				    c->uncertainty_ns);
				txt(w, " +/- %s",
				    dur(c->uncertainty_ns, b2, sizeof(b2)));
			} else
				null(w, "offset_uncertainty_ns", "%s",
				     " (uncertainty unknown)");
			/* below the printed precision it is 0, not -0.000 */
			dbl(w, "clock_drift_ppm",
			    fabs(c->drift_ppm) >= 0.0005 ? ", drift %+.3f ppm" :
							   NULL,
			    fabs(c->drift_ppm) >= 0.0005 ? c->drift_ppm : 0);
			/* where offset_ns holds: the offset drifts from there */
			i64(w, "clock_anchor_ns", NULL, c->anchor);
			txt(w, " against %s", e->sys[0].name);
		} else {
			null(w, "clock_offset_ns", "%s", "offset unknown");
			null(w, "offset_uncertainty_ns", NULL, NULL);
			null(w, "clock_drift_ppm", NULL, NULL);
			txt(w, ": times of %s stay on its own clock", s->name);
		}
		str(w, "clock_note", i ? " (%s)" : NULL, c->note);
		arr_open(w, "cids");
		if (s->cids.n)
			txt(w, "\n    CIDs:");
		for (unsigned int k = 0; k < s->cids.n; k++)
			u64(w, NULL, " %" PRIu64, s->cids.cid[k]);
		arr_close(w);
		if (st->skipped)
			txt(w, "\n    first skipped line %" PRIu64 ": %s",
			    st->first_bad_line, st->first_bad);
		u64(w, "alloc_failures", NULL, s->alloc_failures);
		txt(w, "\n");
		obj_close(w);
	}
	arr_close(w);
	txt(w, "\n");
}

static void write_flows(struct w *w, const struct vs_engine *e)
{
	unsigned int n = vs_flow_count(e->flows), shown = 0;
	char flow[VS_TUPLE_STRLEN], b[32];

	txt(w, "FLOWS\n");
	txt(w, "  %-*s %-28s %-11s %9s %12s %9s %12s %10s %9s\n", w->nw,
	    "SYSTEM", "FLOW", "STATE", "TX_PKTS", "TX_BYTES", "RX_PKTS",
	    "RX_BYTES", "MIN_FREE", "STALLED");
	arr_open(w, "flows");
	for (unsigned int sys = 0; sys < e->nsys; sys++) {
		for (unsigned int i = 0; i < n; i++) {
			const struct vs_flow *f = vs_flow_at(e->flows, i);
			struct vs_tuple rt = vs_tuple_reverse(f->t);
			const struct vs_flow *rev;
			int64_t free;

			if (f->system != sys || (!f->tx_pkts && !f->rx_pkts))
				continue;
			rev = vs_flow_get(e->flows, f->system, &rt, false);
			shown++;
			obj_open(w, NULL);
			str(w, "flow", NULL,
			    vs_tuple_str(&f->t, flow, sizeof(flow)));
			str(w, "system", NULL, e->sys[sys].name);
			txt(w, "  %-*s", w->nw, e->sys[sys].name);
			txt(w, " %-28s", flow);
			str(w, "type", NULL,
			    f->type == VS_TYPE_SEQPACKET ? "seqpacket" :
							   "stream");
			str(w, "state", " %-11s", vs_flow_state(f, rev));
			u64(w, "tx_packets", " %9" PRIu64, f->tx_pkts);
			u64(w, "tx_bytes", " %12" PRIu64, f->tx_bytes);
			u64(w, "rx_packets", " %9" PRIu64, f->rx_pkts);
			u64(w, "rx_bytes", " %12" PRIu64, f->rx_bytes);
			u64(w, "packets", NULL, f->tx_pkts + f->rx_pkts);
			u64(w, "matched", NULL, f->matched);
			u64(w, "unmatched", NULL, f->unmatched);
			free = vs_credit_peer_free(&f->cr);
			if (f->cr.peer_known && f->tx_pkts) {
				u64(w, "peer_buf_alloc", NULL,
				    f->cr.peer_buf_alloc);
				u64(w, "peer_fwd_cnt", NULL,
				    f->cr.peer_fwd_raw);
				i64(w, "peer_free", NULL, free < 0 ? 0 : free);
				i64(w, "min_peer_free", " %10" PRId64,
				    f->min_free);
				boolean(w, "tx_cnt_exact", f->cr.base_exact);
			} else {
				null(w, "peer_buf_alloc", NULL, NULL);
				null(w, "peer_fwd_cnt", NULL, NULL);
				null(w, "peer_free", NULL, NULL);
				null(w, "min_peer_free", " %10s", "-");
			}
			u64(w, "stalled_ns", NULL, f->stalled_ns);
			txt(w, " %9s\n",
			    f->stalled_ns ? dur(f->stalled_ns, b, sizeof(b)) :
					    "-");
			obj_close(w);
		}
	}
	arr_close(w);
	if (!shown)
		txt(w, "  (no vsock packet in the input)\n");
	txt(w, "\n");
}

/* a finding's time: the reference clock, or its own when not aligned */
static uint64_t out_time(const struct vs_engine *e, unsigned int sys,
			 uint64_t ref, bool *own)
{
	*own = !e->sys[sys].clock.known;
	if (*own)
		return vs_clock_to_local(&e->sys[sys].clock, ref);
	return ref;
}

static void write_finding(struct w *w, const struct vs_engine *e,
			  const struct vs_finding *f, size_t i, bool quiet)
{
	char flow[VS_TUPLE_STRLEN], b1[32], b2[32];
	bool own;
	uint64_t start = out_time(e, f->system, f->start, &own);
	uint64_t end = out_time(e, f->system, f->end, &own);

	obj_open(w, NULL);
	if (quiet)
		txt(w, "%s ", vs_finding_kind_name(f->kind));
	else
		txt(w, "  [%zu] %s", i + 1, vs_finding_kind_name(f->kind));
	str(w, "kind", NULL, vs_finding_kind_name(f->kind));
	str(w, "system", quiet ? "%s " : " on %s", e->sys[f->system].name);
	if (f->has_flow)
		str(w, "flow", quiet ? "%s " : " flow %s",
		    vs_tuple_str(&f->flow, flow, sizeof(flow)));
	else
		null(w, "flow", NULL, NULL);
	u64(w, "start_ns", NULL, start);
	str(w, "clock", NULL, own ? e->sys[f->system].name : e->sys[0].name);
	txt(w, quiet ? "t=%s" : " at %s", secs(start, b1, sizeof(b1)));
	if (own)
		txt(w, " (%s's clock)", e->sys[f->system].name);
	if (f->has_end) {
		u64(w, "end_ns", NULL, end);
		u64(w, "duration_ns", NULL, f->end - f->start);
		if (f->end > f->start)
			txt(w, " for %s",
			    dur(f->end - f->start, b2, sizeof(b2)));
	} else {
		null(w, "end_ns", NULL, NULL);
		u64(w, "duration_ns", NULL, f->end - f->start);
		txt(w, " for %s+ (not resolved)",
		    dur(f->end - f->start, b2, sizeof(b2)));
	}
	u64(w, "count", f->count > 1 ? " x%" PRIu64 : NULL, f->count);
	if (f->cause[0])
		str(w, "cause", NULL, f->cause);
	else
		null(w, "cause", NULL, NULL);
	if (f->ended_by[0])
		str(w, "ended_by", NULL, f->ended_by);
	else
		null(w, "ended_by", NULL, NULL);
	str(w, "summary", quiet ? ": %s\n" : "\n      %s\n", f->summary);
	arr_open(w, "evidence");
	for (unsigned int k = 0; k < f->nevidence; k++) {
		const struct vs_evidence *ev = &f->evidence[k];

		obj_open(w, NULL);
		str(w, "system", NULL, e->sys[ev->system].name);
		if (!quiet)
			txt(w, "      | %-*s", w->nw, e->sys[ev->system].name);
		u64(w, "ts_ns", NULL, ev->ts);
		if (!quiet)
			txt(w, " %s ", secs(ev->ts, b1, sizeof(b1)));
		str(w, "event", quiet ? NULL : "%s\n", ev->text);
		obj_close(w);
	}
	arr_close(w);
	obj_close(w);
}

static void write_findings(struct w *w, const struct vs_engine *e, bool quiet)
{
	const struct vs_findings *fs = &e->findings;

	if (!quiet)
		txt(w, "FINDINGS\n");
	arr_open(w, "findings");
	for (size_t i = 0; i < fs->n; i++)
		write_finding(w, e, &fs->v[i], i, quiet);
	arr_close(w);
	if (!fs->n && !quiet)
		txt(w, "  none: no stalled credit, failed allocation, "
		       "unanswered interrupt, lost packet or reset\n");
}

int vs_report_finding_line(FILE *out, const struct vs_engine *e,
			   const struct vs_finding *f)
{
	struct w w = { .f = out, .depth = -1, .nw = 6 };

	write_finding(&w, e, f, 0, true);
	return ferror(out) ? -1 : 0;
}

int vs_report_write(FILE *out, const struct vs_engine *e,
		    const struct vs_report_input *in,
		    const struct vs_report_opts *o)
{
	struct w w = { .f = out,
		       .json = o->mode != VS_REPORT_TEXT,
		       .pretty = o->mode == VS_REPORT_JSON_PRETTY,
		       .depth = -1 };
	uint64_t per_kind[VS_FIND__MAX] = { 0 };
	unsigned int nflows = 0;

	for (size_t i = 0; i < e->findings.n; i++)
		per_kind[e->findings.v[i].kind]++;
	w.nw = 6;
	for (unsigned int i = 0; i < e->nsys; i++)
		if ((int)strlen(e->sys[i].name) > w.nw)
			w.nw = (int)strlen(e->sys[i].name);
	for (unsigned int i = 0; i < vs_flow_count(e->flows); i++) {
		const struct vs_flow *f = vs_flow_at(e->flows, i);

		nflows += f->tx_pkts || f->rx_pkts;
	}
	obj_open(&w, NULL);
	u64(&w, "version", NULL, 1);
	if (!o->quiet) {
		txt(&w,
		    "vsock-report: %u system%s, %u flow%s, %zu finding%s\n\n",
		    e->nsys, e->nsys > 1 ? "s" : "", nflows,
		    nflows == 1 ? "" : "s", e->findings.n,
		    e->findings.n == 1 ? "" : "s");
		write_systems(&w, e, in);
		write_flows(&w, e);
	} else if (w.json) {
		write_systems(&w, e, in);
		write_flows(&w, e);
	}
	write_findings(&w, e, o->quiet);
	obj_open(&w, "totals");
	u64(&w, "flows", NULL, nflows);
	u64(&w, "findings", NULL, e->findings.n);
	for (unsigned int k = 0; k < VS_FIND__MAX; k++)
		u64(&w, vs_finding_kind_name(k), NULL, per_kind[k]);
	obj_close(&w);
	obj_close(&w);
	if (w.json)
		fputc('\n', out);
	return ferror(out) ? -1 : 0;
}
