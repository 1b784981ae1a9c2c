// SPDX-License-Identifier: GPL-2.0-only
/*
 * vsocktop's columns, and batch mode: the words each field is shown in,
 * shared by the plain-text output and the screen so the two agree.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "fmt.h"
#include "vsocktop.h"

/* the order of the FIELDS section of vsocktop(8) */
const struct col_def cols[COL__MAX] = {
	[COL_FLOW] = { "FLOW", 27, true },
	[COL_SYS] = { "SEEN", 6, true },
	[COL_STATE] = { "STATE", 11, true },
	[COL_AB] = { "A>B/s", 7, false },
	[COL_BA] = { "B>A/s", 7, false },
	[COL_FREE_AB] = { "FREE>", 7, false },
	[COL_FREE_BA] = { "FREE<", 7, false },
	[COL_BUF] = { "BUF", 7, false },
	[COL_FWD] = { "FWD", 10, false },
	[COL_STALLED] = { "STALLED", 8, false },
	[COL_FIND] = { "FIND", 4, false },
};

/*
 * Batch mode formats every connection at every update, thousands a second:
 * numbers (lib/fmt.c) and plain copies go by hand, not through snprintf().
 */
/* @v in decimal; @buf holds at least 21 bytes */
static const char *dec(uint64_t v, char *buf)
{
	*vs_fmt_dec(buf, v) = '\0';
	return buf;
}

/* exact below a million, so a small peer_free reads as it is */
static const char *count(int64_t v, char *buf, size_t size)
{
	if (v < 0)
		v = 0;
	if (v < 1000000)
		return dec((uint64_t)v, buf);
	return vs_fmt_human((double)v, buf, size);
}

static const char *duration(uint64_t ns, char *buf, size_t size)
{
	if (!ns)
		vs_fmt_copy(buf, size, "-");
	else if (ns < 1000000000ull)
		snprintf(buf, size, "%" PRIu64 "ms", ns / 1000000);
	else if (ns < 100000000000ull)
		snprintf(buf, size, "%.1fs", ns / 1e9);
	else
		snprintf(buf, size, "%" PRIu64 "s", ns / 1000000000);
	return buf;
}

void row_cells(const struct vs_top *t, const struct vs_top_row *r,
	       char cells[COL__MAX][CELL_LEN])
{
	unsigned int nsys = vs_top_nsys(t), seen = 0, first = 0;
	const struct vs_top_dir *ab = &r->d[0], *ba = &r->d[1], *low;
	char *p = cells[COL_FLOW]; /* 2 * (20 + 1 + 10) + 1 < CELL_LEN */

	p = vs_fmt_dec(p, r->t.src_cid);
	*p++ = ':';
	p = vs_fmt_dec(p, r->t.src_port);
	*p++ = '>';
	p = vs_fmt_dec(p, r->t.dst_cid);
	*p++ = ':';
	*vs_fmt_dec(p, r->t.dst_port) = '\0';
	for (unsigned int i = 0; i < nsys; i++) {
		if (r->systems & (1u << i)) {
			if (!seen)
				first = i;
			seen++;
		}
	}
	if (seen > 1 && seen == nsys)
		snprintf(cells[COL_SYS], CELL_LEN, "%s",
			 nsys == 2 ? "both" : "all");
	else
		snprintf(cells[COL_SYS], CELL_LEN, "%.6s%s",
			 vs_top_sys(t, first)->name, seen > 1 ? "+" : "");
	vs_fmt_copy(cells[COL_STATE], CELL_LEN, r->state);
	vs_fmt_human(ab->bps, cells[COL_AB], CELL_LEN);
	vs_fmt_human(ba->bps, cells[COL_BA], CELL_LEN);
	if (ab->credit_known)
		count(ab->peer_free, cells[COL_FREE_AB], CELL_LEN);
	else
		vs_fmt_copy(cells[COL_FREE_AB], CELL_LEN, "?");
	if (ba->credit_known)
		count(ba->peer_free, cells[COL_FREE_BA], CELL_LEN);
	else
		vs_fmt_copy(cells[COL_FREE_BA], CELL_LEN, "?");
	/* BUF and FWD: the direction with less room, where a stall is */
	low = ab;
	if (!ab->credit_known ||
	    (ba->credit_known && ba->peer_free < ab->peer_free))
		low = ba;
	if (low->credit_known) {
		count(low->buf_alloc, cells[COL_BUF], CELL_LEN);
		dec(low->fwd_cnt, cells[COL_FWD]);
	} else {
		vs_fmt_copy(cells[COL_BUF], CELL_LEN, "?");
		vs_fmt_copy(cells[COL_FWD], CELL_LEN, "?");
	}
	duration(ab->stalled_ns + ba->stalled_ns, cells[COL_STALLED], CELL_LEN);
	if (ab->stalled_long || ba->stalled_long) {
		size_t l = strlen(cells[COL_STALLED]);

		snprintf(cells[COL_STALLED] + l, CELL_LEN - l, "!");
	}
	dec(r->findings, cells[COL_FIND]);
}

void sys_line(const struct vs_top *t, unsigned int i, char *buf, size_t size)
{
	const struct vs_top_sys *s = vs_top_sys(t, i);
	char ev[16], pk[16], by[16], ki[16], ir[16], clk[96];

	if (s->clock_ref)
		snprintf(clk, sizeof(clk), "clock: reference");
	else if (s->clock_known)
		snprintf(clk, sizeof(clk), "clock: %+.1f us +-%.1f us",
			 s->offset_ns / 1e3, s->uncertainty_ns / 1e3);
	else
		snprintf(clk, sizeof(clk), "clock: not aligned");
	snprintf(buf, size,
		 "%-8.8s ev/s %6s  pkt/s %6s  B/s %6s  kick/s %5s  irq/s %5s"
		 "  allocfail %" PRIu64 "  lost %" PRIu64 "  %s",
		 s->name, vs_fmt_human(s->ev_rate, ev, sizeof(ev)),
		 vs_fmt_human(s->pkt_rate, pk, sizeof(pk)),
		 vs_fmt_human(s->byte_rate, by, sizeof(by)),
		 vs_fmt_human(s->kick_rate, ki, sizeof(ki)),
		 vs_fmt_human(s->irq_rate, ir, sizeof(ir)), s->alloc_failures,
		 s->lost, clk);
}

/* one line: cells padded to their widths, a space between */
static void print_cells(FILE *out, char cells[COL__MAX][CELL_LEN])
{
	char line[COL__MAX * (CELL_LEN + 1) + 2], *p = line;

	for (int c = 0; c < COL__MAX; c++) {
		size_t n = strlen(cells[c]), w = (size_t)cols[c].width;
		size_t pad = n < w ? w - n : 0;

		if (c)
			*p++ = ' ';
		if (!cols[c].left) {
			memset(p, ' ', pad);
			p += pad;
		}
		memcpy(p, cells[c], n);
		p += n;
		if (cols[c].left) {
			memset(p, ' ', pad);
			p += pad;
		}
	}
	*p++ = '\n';
	fwrite(line, 1, (size_t)(p - line), out);
}

int batch_print(FILE *out, struct feed *f, const struct view_state *vs,
		unsigned int iteration)
{
	struct vs_top *t = feed_top(f);
	const struct vs_top_row **rows;
	char cells[COL__MAX][CELL_LEN], line[512];
	uint64_t now = vs_top_now(t);
	unsigned int n, nf = vs_top_nfindings(t);

	rows = calloc(vs_top_nrows(t) + 1, sizeof(*rows));
	if (!rows)
		return -1;
	n = vs_top_select(t, &vs->filter, vs->sort, vs->reverse, rows);
	fprintf(out,
		"vsocktop - update %u, t=%" PRIu64 ".%06" PRIu64
		" (+%.3f s), %s, %u connection%s, sort %s%s%s%s\n",
		iteration, now / 1000000000, now % 1000000000 / 1000,
		vs_top_interval(t) / 1e9, feed_describe(f), n,
		n == 1 ? "" : "s", vs_top_sort_name(vs->sort),
		vs->reverse ? " (reversed)" : "",
		vs->filter.on ? ", filter " : "",
		vs->filter.on ? vs->filter_text : "");
	if (feed_warning(f)[0])
		fprintf(out, "note: %s\n", feed_warning(f));
	for (unsigned int i = 0; i < vs_top_nsys(t); i++) {
		sys_line(t, i, line, sizeof(line));
		fprintf(out, "%s\n", line);
	}
	fputc('\n', out);
	for (int c = 0; c < COL__MAX; c++)
		snprintf(cells[c], CELL_LEN, "%s", cols[c].name);
	print_cells(out, cells);
	for (unsigned int i = 0; i < n; i++) {
		row_cells(t, rows[i], cells);
		print_cells(out, cells);
	}
	free(rows);
	fprintf(out, "\nFINDINGS (%u)\n", nf);
	for (unsigned int i = 0; i < nf; i++)
		fprintf(out, "%s\n", vs_top_finding(t, i)->line);
	fputc('\n', out);
	return ferror(out) ? -1 : 0;
}

int batch_final(FILE *out, struct feed *f)
{
	struct vs_top *t = feed_top(f);

	fprintf(out, "vsocktop - end of input:");
	for (unsigned int i = 0; i < vs_top_nsys(t); i++) {
		const struct vs_top_sys *s = vs_top_sys(t, i);

		fprintf(out, "%s %" PRIu64 " events from %s (%" PRIu64 " lost)",
			i ? "," : "", s->events, s->name, s->lost);
	}
	fprintf(out, "\nvsocktop - findings\n");
	if (vs_top_write_findings(out, t))
		return -1;
	return ferror(out) ? -1 : 0;
}
