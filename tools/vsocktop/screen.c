// SPDX-License-Identifier: GPL-2.0-only
/*
 * vsocktop's screen: curses drawing of the collector's view, and the keys.
 * It reads the view (lib/top.h) and asks the feed only to run, pause and
 * say what it is.
 */
#include <curses.h>
#include <errno.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fmt.h"
#include "vsocktop.h"

#define MIN_COLS 40
#define MIN_LINES 10

enum { CP_HEAD = 1, CP_ALERT, CP_SYS, CP_DIM };

struct screen {
	struct feed *f;
	struct view_state *vs;
	const struct vs_top_row **rows;
	unsigned int nrows, cap;
	unsigned int sel, top; /* selected row, first row shown */
	struct vs_tuple sel_t; /* the selected connection, kept over sorts */
	bool has_sel;
	bool color, utf8;
	bool paused, ended;
	enum { V_LIST, V_DETAIL, V_HELP } view;
	char prompt[64]; /* filter being typed, when prompting */
	bool prompting;
	char msg[128];
};

static void put(int y, int x, int w, const char *s)
{
	if (w <= 0 || y >= LINES)
		return;
	mvaddnstr(y, x, s, w);
}

static void style_on(struct screen *s, int cp, int fallback)
{
	if (s->color)
		attron(COLOR_PAIR(cp));
	else
		attron(fallback);
}

static void style_off(struct screen *s, int cp, int fallback)
{
	if (s->color)
		attroff(COLOR_PAIR(cp));
	else
		attroff(fallback);
}

static int select_rows(struct screen *s)
{
	struct vs_top *t = feed_top(s->f);
	unsigned int n = vs_top_nrows(t);

	if (n + 1 > s->cap) {
		const struct vs_top_row **v =
			realloc(s->rows, (n + 64) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->rows = v;
		s->cap = n + 64;
	}
	s->nrows = vs_top_select(t, &s->vs->filter, s->vs->sort, s->vs->reverse,
				 s->rows);
	/* keep the same connection selected */
	if (s->has_sel)
		for (unsigned int i = 0; i < s->nrows; i++)
			if (vs_tuple_eq(&s->rows[i]->t, &s->sel_t))
				s->sel = i;
	if (s->sel >= s->nrows)
		s->sel = s->nrows ? s->nrows - 1 : 0;
	if (s->nrows) {
		s->sel_t = s->rows[s->sel]->t;
		s->has_sel = true;
	}
	return 0;
}

static void title(struct screen *s)
{
	struct vs_top *t = feed_top(s->f);
	uint64_t now = vs_top_now(t);
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "vsocktop - %s - t=%" PRIu64 ".%03" PRIu64 "%s%s",
		 feed_describe(s->f), now / 1000000000,
		 now % 1000000000 / 1000000, s->paused ? "  [PAUSED]" : "",
		 s->ended ? "  [end of input]" : "");
	style_on(s, CP_HEAD, A_REVERSE);
	mvhline(0, 0, ' ', COLS);
	put(0, 0, COLS, buf);
	style_off(s, CP_HEAD, A_REVERSE);
}

static int draw_systems(struct screen *s, int y)
{
	struct vs_top *t = feed_top(s->f);
	char buf[512];

	for (unsigned int i = 0; i < vs_top_nsys(t); i++) {
		sys_line(t, i, buf, sizeof(buf));
		put(y++, 0, COLS, buf);
	}
	snprintf(buf, sizeof(buf),
		 "sort: %s%s  filter: %s  %u connection%s%s%s",
		 vs_top_sort_name(s->vs->sort),
		 s->vs->reverse ? " (reversed)" : "",
		 s->vs->filter.on ? s->vs->filter_text : "none", s->nrows,
		 s->nrows == 1 ? "" : "s",
		 feed_warning(s->f)[0] ? "  note: " : "", feed_warning(s->f));
	put(y++, 0, COLS, buf);
	return y;
}

/* the columns that fit, from the left */
static int fit_cols(void)
{
	int w = 0, n = 0;

	for (; n < COL__MAX; n++) {
		w += cols[n].width + (n ? 1 : 0);
		if (w > COLS && n)
			break;
	}
	return n;
}

static void draw_cells(int y, int ncol, char cells[COL__MAX][CELL_LEN])
{
	char line[512];
	size_t k = 0;

	for (int c = 0; c < ncol && k < sizeof(line); c++)
		k += (size_t)snprintf(
			line + k, sizeof(line) - k, c ? " %*.*s" : "%-*.*s",
			cols[c].left ? -cols[c].width : cols[c].width,
			cols[c].width, cells[c]);
	put(y, 0, COLS, line);
}

static void draw_list(struct screen *s)
{
	struct vs_top *t = feed_top(s->f);
	char cells[COL__MAX][CELL_LEN];
	unsigned int nf = vs_top_nfindings(t), shown;
	int y, ncol = fit_cols(), room, fpane;

	title(s);
	y = draw_systems(s, 1);
	/* the findings pane: up to a quarter of the screen */
	fpane = (LINES - y) / 4;
	if (fpane < 2)
		fpane = 2;
	if ((unsigned int)fpane > nf + 1)
		fpane = (int)nf + 1;
	room = LINES - y - 1 - fpane - 1;
	if (room < 1)
		room = 1;
	for (int c = 0; c < COL__MAX; c++)
		snprintf(cells[c], CELL_LEN, "%s", cols[c].name);
	style_on(s, CP_HEAD, A_REVERSE);
	mvhline(y, 0, ' ', COLS);
	draw_cells(y, ncol, cells);
	style_off(s, CP_HEAD, A_REVERSE);
	y++;
	if (s->sel < s->top)
		s->top = s->sel;
	if (s->sel >= s->top + (unsigned int)room)
		s->top = s->sel - (unsigned int)room + 1;
	for (unsigned int i = s->top;
	     i < s->nrows && i < s->top + (unsigned int)room; i++, y++) {
		const struct vs_top_row *r = s->rows[i];
		bool alert = r->d[0].stalled_long || r->d[1].stalled_long;

		row_cells(t, r, cells);
		if (i == s->sel)
			attron(A_REVERSE);
		if (alert)
			style_on(s, CP_ALERT, A_BOLD);
		mvhline(y, 0, ' ', COLS);
		draw_cells(y, ncol, cells);
		if (alert)
			style_off(s, CP_ALERT, A_BOLD);
		if (i == s->sel)
			attroff(A_REVERSE);
	}
	if (!s->nrows)
		put(y, 0, COLS,
		    s->vs->filter.on ? "  (no connection matches the filter)" :
				       "  (no vsock connection seen yet)");
	y = LINES - fpane - 1;
	style_on(s, CP_HEAD, A_REVERSE);
	mvhline(y, 0, ' ', COLS);
	{
		char buf[64];

		snprintf(buf, sizeof(buf), "FINDINGS (%u)", nf);
		put(y, 0, COLS, buf);
	}
	style_off(s, CP_HEAD, A_REVERSE);
	y++;
	/* the newest that fit, oldest of them first */
	shown = (unsigned int)fpane - 1 < nf ? (unsigned int)fpane - 1 : nf;
	for (unsigned int i = nf - shown; i < nf; i++, y++) {
		const struct vs_top_finding *fd = vs_top_finding(t, i);

		if (fd->ongoing)
			style_on(s, CP_ALERT, A_BOLD);
		put(y, 0, COLS, fd->line);
		if (fd->ongoing)
			style_off(s, CP_ALERT, A_BOLD);
	}
}

/* credit over time: one character per tick, the newest on the right */
static void sparkline(struct screen *s, int y, int x, int w,
		      const struct vs_top_dir *d)
{
	static const char *const blocks[] = { "\u2581", "\u2582", "\u2583",
					      "\u2584", "\u2585", "\u2586",
					      "\u2587", "\u2588" };
	static const char ascii[] = "_.-~=+*#";
	int64_t max = d->buf_alloc;

	if (w > VS_TOP_HIST)
		w = VS_TOP_HIST;
	for (int i = 0; i < w; i++) {
		int64_t v = vs_top_hist(d, (unsigned int)(VS_TOP_HIST - w + i));
		int lvl;

		if (v == INT64_MIN) {
			mvaddch(y, x + i, ' ');
			continue;
		}
		if (max <= 0)
			max = 1;
		lvl = v <= 0 ? 0 : (int)((v * 7 + max - 1) / max);
		lvl = lvl > 7 ? 7 : lvl;
		if (v <= 0)
			style_on(s, CP_ALERT, A_BOLD);
		if (s->utf8)
			mvaddstr(y, x + i, blocks[lvl]);
		else
			mvaddch(y, x + i, (chtype)ascii[lvl]);
		if (v <= 0)
			style_off(s, CP_ALERT, A_BOLD);
	}
}

static void draw_detail(struct screen *s)
{
	struct vs_top *t = feed_top(s->f);
	const struct vs_top_row *r = s->nrows ? s->rows[s->sel] : NULL;
	char buf[512], a[16], b[16];
	int y = 2;

	title(s);
	if (!r) {
		put(2, 0, COLS, "no connection selected (Esc: back)");
		return;
	}
	snprintf(buf, sizeof(buf),
		 "Connection A=%" PRIu64 ":%u  B=%" PRIu64
		 ":%u  state %s  findings %u  (Esc: back)",
		 r->t.src_cid, r->t.src_port, r->t.dst_cid, r->t.dst_port,
		 r->state, r->findings);
	attron(A_BOLD);
	put(1, 0, COLS, buf);
	attroff(A_BOLD);
	snprintf(buf, sizeof(buf), "%-12s %22s %22s", "", "A>B", "B>A");
	put(y++, 0, COLS, buf);
#define ROW2(label, fa, fb)                                                   \
	do {                                                                  \
		snprintf(buf, sizeof(buf), "%-12s %22s %22s", label, fa, fb); \
		put(y++, 0, COLS, buf);                                       \
	} while (0)
	{
		char x[2][32], z[2][32];

		for (int d = 0; d < 2; d++) {
			snprintf(x[d], 32, "%" PRIu64, r->d[d].bytes);
			snprintf(z[d], 32, "%sB/s %s/s",
				 vs_fmt_human(r->d[d].bps, a, sizeof(a)),
				 vs_fmt_human(r->d[d].pps, b, sizeof(b)));
		}
		ROW2("bytes", x[0], x[1]);
		ROW2("rate", z[0], z[1]);
		for (int d = 0; d < 2; d++)
			snprintf(x[d], 32, "%" PRIu64, r->d[d].pkts);
		ROW2("packets", x[0], x[1]);
		for (int d = 0; d < 2; d++) {
			if (r->d[d].credit_known)
				snprintf(x[d], 32, "%" PRId64,
					 r->d[d].peer_free);
			else
				snprintf(x[d], 32, "?");
		}
		ROW2("peer_free", x[0], x[1]);
		for (int d = 0; d < 2; d++) {
			snprintf(x[d], 32, "%u", r->d[d].buf_alloc);
			snprintf(z[d], 32, "%u", r->d[d].fwd_cnt);
			if (!r->d[d].credit_known)
				snprintf(x[d], 32, "?"),
					snprintf(z[d], 32, "?");
		}
		ROW2("buf_alloc", x[0], x[1]);
		ROW2("fwd_cnt", z[0], z[1]);
		for (int d = 0; d < 2; d++)
			snprintf(x[d], 32, "%.1f ms%s",
				 r->d[d].stalled_ns / 1e6,
				 r->d[d].stalled ? " (stalled now)" : "");
		ROW2("stalled", x[0], x[1]);
		for (int d = 0; d < 2; d++)
			snprintf(x[d], 32, "%" PRIu64, r->d[d].unmatched);
		ROW2("unmatched", x[0], x[1]);
	}
	y++;
	for (int d = 0; d < 2 && y < LINES - 2; d++) {
		snprintf(buf, sizeof(buf), "credit %s", d ? "B>A" : "A>B");
		put(y, 0, 12, buf);
		sparkline(s, y, 13, COLS - 14, &r->d[d]);
		y++;
	}
	y++;
	if (y < LINES - 1) {
		style_on(s, CP_HEAD, A_REVERSE);
		mvhline(y, 0, ' ', COLS);
		snprintf(buf, sizeof(buf),
			 "%-18s %-8s %-3s %-2s %-14s %8s %10s %10s", "TIME",
			 "SYSTEM", "DIR", "", "OP", "LEN", "BUF_ALLOC",
			 "FWD_CNT");
		put(y++, 0, COLS, buf);
		style_off(s, CP_HEAD, A_REVERSE);
	}
	for (unsigned int i = 0; i < r->nrecent && y < LINES; i++, y++) {
		unsigned int k = (r->rpos + VS_TOP_RECENT - r->nrecent + i) %
				 VS_TOP_RECENT;
		const struct vs_top_pkt *p = &r->recent[k];
		const char *op = vs_op_name(p->op);

		snprintf(buf, sizeof(buf),
			 "%8" PRIu64 ".%09" PRIu64
			 " %-8.8s %-3s %-2s %-14s %8u %10u %10u",
			 p->ts / 1000000000, p->ts % 1000000000,
			 vs_top_sys(t, p->system)->name, p->dir ? "B>A" : "A>B",
			 p->rx ? "rx" : "tx", op ? op : "?", p->len,
			 p->buf_alloc, p->fwd_cnt);
		put(y, 0, COLS, buf);
	}
	for (unsigned int i = 0; i < vs_top_nfindings(t) && y < LINES; i++) {
		const struct vs_top_finding *fd = vs_top_finding(t, i);

		if (!fd->has_flow ||
		    (!vs_tuple_eq(&fd->flow, &r->t) &&
		     !vs_tuple_eq(&fd->flow,
				  &(struct vs_tuple){
					  r->t.dst_cid, r->t.src_cid,
					  r->t.dst_port, r->t.src_port })))
			continue;
		if (fd->ongoing)
			style_on(s, CP_ALERT, A_BOLD);
		put(y++, 0, COLS, fd->line);
		if (fd->ongoing)
			style_off(s, CP_ALERT, A_BOLD);
	}
}

static void draw_help(struct screen *s)
{
	static const char *const lines[] = {
		"vsocktop keys",
		"",
		"  Up/Down, j/k    move the selection",
		"  PgUp/PgDn       a page up or down",
		"  Home/End        the first or last connection",
		"  Enter           details of the selected connection:",
		"                  credit over time, recent packets, findings",
		"  Esc, Backspace  back to the list",
		"  s or >          next sort key; < the previous one",
		"                  (rate, stalled, free, findings, flow, "
		"recent)",
		"  r               reverse the sort",
		"  f or /          filter by CID or CID:PORT (empty clears)",
		"  space or p      pause the display (a replay pauses too)",
		"  h or ?          this help",
		"  q               quit",
		"",
		"Columns are described in vsocktop(8), FIELDS.",
		"Press any key to go back.",
	};

	title(s);
	for (unsigned int i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		put(2 + (int)i, 1, COLS - 1, lines[i]);
}

static void draw(struct screen *s)
{
	erase();
	if (COLS < MIN_COLS || LINES < MIN_LINES) {
		char buf[96];

		snprintf(buf, sizeof(buf),
			 "terminal too small (%dx%d): vsocktop needs %dx%d",
			 COLS, LINES, MIN_COLS, MIN_LINES);
		put(0, 0, COLS, buf);
		refresh();
		return;
	}
	if (select_rows(s))
		return;
	if (s->view == V_DETAIL)
		draw_detail(s);
	else if (s->view == V_HELP)
		draw_help(s);
	else
		draw_list(s);
	if (s->prompting) {
		char buf[128];

		snprintf(buf, sizeof(buf),
			 "filter (CID or CID:PORT, empty "
			 "clears): %s",
			 s->prompt);
		mvhline(LINES - 1, 0, ' ', COLS);
		put(LINES - 1, 0, COLS, buf);
	} else if (s->msg[0]) {
		mvhline(LINES - 1, 0, ' ', COLS);
		put(LINES - 1, 0, COLS, s->msg);
	}
	refresh();
}

static void move_sel(struct screen *s, long by)
{
	long n = (long)s->sel + by;

	if (n < 0 || !s->nrows)
		n = 0;
	if (s->nrows && n >= (long)s->nrows)
		n = (long)s->nrows - 1;
	s->sel = (unsigned int)n;
	if (s->nrows)
		s->sel_t = s->rows[s->sel]->t;
}

/* one key; returns false to quit */
static bool key(struct screen *s, int ch, uint64_t now)
{
	int page = LINES > 12 ? LINES - 12 : 1;

	s->msg[0] = '\0';
	if (s->prompting) {
		size_t l = strlen(s->prompt);

		if (ch == '\n' || ch == KEY_ENTER || ch == '\r') {
			struct vs_top_filter flt;

			s->prompting = false;
			if (vs_top_filter_parse(&flt, s->prompt)) {
				snprintf(s->msg, sizeof(s->msg),
					 "invalid filter '%s' (want CID or "
					 "CID:PORT)",
					 s->prompt);
			} else {
				s->vs->filter = flt;
				snprintf(s->vs->filter_text,
					 sizeof(s->vs->filter_text), "%s",
					 s->prompt);
			}
		} else if (ch == 27) {
			s->prompting = false;
		} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
			if (l)
				s->prompt[l - 1] = '\0';
		} else if (ch >= ' ' && ch < 127 && l + 1 < sizeof(s->prompt) &&
			   l < 30) {
			s->prompt[l] = (char)ch;
			s->prompt[l + 1] = '\0';
		}
		return true;
	}
	if (s->view == V_HELP) {
		if (ch != KEY_RESIZE)
			s->view = V_LIST;
		return true;
	}
	switch (ch) {
	case 'q':
		if (s->view == V_DETAIL) {
			s->view = V_LIST;
			return true;
		}
		return false;
	case KEY_UP:
	case 'k':
		move_sel(s, -1);
		break;
	case KEY_DOWN:
	case 'j':
		move_sel(s, 1);
		break;
	case KEY_PPAGE:
		move_sel(s, -page);
		break;
	case KEY_NPAGE:
		move_sel(s, page);
		break;
	case KEY_HOME:
	case 'g':
		move_sel(s, -(long)s->nrows);
		break;
	case KEY_END:
	case 'G':
		move_sel(s, (long)s->nrows);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		s->view = V_DETAIL;
		break;
	case 27:
	case KEY_BACKSPACE:
	case 127:
	case KEY_LEFT:
		s->view = V_LIST;
		break;
	case 's':
	case '>':
		s->vs->sort = (s->vs->sort + 1) % VS_TOP_SORT__MAX;
		break;
	case '<':
		s->vs->sort =
			(s->vs->sort + VS_TOP_SORT__MAX - 1) % VS_TOP_SORT__MAX;
		break;
	case 'r':
		s->vs->reverse = !s->vs->reverse;
		break;
	case 'f':
	case '/':
		s->prompting = true;
		snprintf(s->prompt, sizeof(s->prompt), "%s",
			 s->vs->filter.on ? s->vs->filter_text : "");
		break;
	case ' ':
	case 'p':
		s->paused = !s->paused;
		feed_pause(s->f, s->paused, now);
		break;
	case 'h':
	case '?':
	case KEY_F(1):
		s->view = V_HELP;
		break;
	default:
		break;
	}
	return true;
}

int screen_run(struct feed *f, struct view_state *vs, uint64_t delay,
	       long iterations)
{
	struct screen s = { .f = f, .vs = vs };
	struct vs_top *t = feed_top(f);
	uint64_t next = mono_ns() + delay;
	const char *nc = getenv("NO_COLOR"), *cs;
	long it = 0;
	bool run = true, dirty = true;
	int ret = 0;

	setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	s.utf8 = cs && !strcmp(cs, "UTF-8");
	if (!initscr()) {
		error("failed to start the screen: %s", strerror(errno));
		return EXIT_ERROR;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	s.color = has_colors() && !(nc && *nc);
	if (s.color) {
		start_color();
		use_default_colors();
		init_pair(CP_HEAD, COLOR_BLACK, COLOR_CYAN);
		init_pair(CP_ALERT, COLOR_RED, -1);
		init_pair(CP_SYS, COLOR_GREEN, -1);
		init_pair(CP_DIM, COLOR_BLUE, -1);
	}
	while (run && !vt_stop) {
		struct pollfd pfd[VS_MAX_SYSTEMS + 1];
		unsigned int n;
		uint64_t now;
		int r, ch;

		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		n = 1 + feed_pollfds(f, pfd + 1, VS_MAX_SYSTEMS);
		/* keys wake it at once; events go in in batches */
		poll(pfd, n, feed_poll_ms(f, mono_ns(), next));
		now = mono_ns();
		if (!s.ended) {
			r = feed_run(f, now, 200000);
			if (r < 0) {
				ret = EXIT_ERROR;
				break;
			}
			if (r > 0) {
				s.ended = true;
				if (vs_top_finish(t, 0)) {
					ret = EXIT_ERROR;
					break;
				}
				dirty = true;
			}
		}
		if (now >= next) {
			next += delay;
			if (next < now)
				next = now + delay;
			if (!s.paused && !s.ended) {
				vs_top_tick(t, feed_clock(f));
				/* a tick may free rows: keys must not meet them */
				if (select_rows(&s))
					s.nrows = 0;
				dirty = true;
				if (iterations > 0 && ++it >= iterations)
					run = false;
			}
		}
		while ((ch = getch()) != ERR) {
			if (ch == KEY_RESIZE) {
				dirty = true;
				continue;
			}
			run = key(&s, ch, now) && run;
			dirty = true;
		}
		if (dirty && run) {
			draw(&s);
			dirty = false;
		}
	}
	endwin();
	free(s.rows);
	if (ret)
		return ret;
	/* what is open ends here, as in batch mode: for the exit status */
	if (vs_top_finish(t, s.ended ? 0 : vs_top_now(t))) {
		error("failed to finish the analysis: %s", strerror(ENOMEM));
		return EXIT_ERROR;
	}
	return vs_top_engine(t)->findings.n ? EXIT_FINDINGS : 0;
}
