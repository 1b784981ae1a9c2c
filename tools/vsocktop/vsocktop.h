/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vsocktop: the feed (where events come from: replay, a local capture,
 * remote streams) fills the collector (lib/top.h); the batch printer and
 * the curses screen draw the collector's view. The screen sees only the
 * view and a few words on the feed's state.
 */
#ifndef VSOCKTOP_H
#define VSOCKTOP_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "../common.h"
#include "top.h"

#define EXIT_FINDINGS 1
#define EXIT_ERROR 2
#define FEED_MS 100 /* how often live events go to the collector */
/*
 * ... and replayed ones: each batch starts with the caches cold from
 * whatever ran while vsocktop slept, so fewer, larger batches cost less;
 * the view changes once per --delay anyway
 */
#define REPLAY_FEED_MS 250

/* SIGINT or SIGTERM came */
extern volatile sig_atomic_t vt_stop;

/* ------------------------------------------------------------ the feed */

struct feed;

struct feed_opts {
	/* replay */
	unsigned int nreplay;
	const char *replay[VS_MAX_SYSTEMS]; /* NAME=FILE or FILE */
	double speed; /* 0: as fast as it goes */
	/* a local capture */
	bool live;
	const char *backend; /* auto, bpf, tracefs */
	unsigned int probes;
	const char *name; /* this system's name */
	/* remote streams: NAME=tcp:HOST:PORT... (connect) or listen */
	unsigned int nremote;
	const char *remote[VS_MAX_SYSTEMS];
	bool remote_listen[VS_MAX_SYSTEMS];
	uint64_t hold_ns; /* how long live events wait to be merged */
	struct vs_options opt;
};

/* sets up the sources and the collector; prints its own errors */
struct feed *feed_open(const struct feed_opts *o);
void feed_close(struct feed *f);
struct vs_top *feed_top(struct feed *f);

/* the file descriptors to wait on (remote sockets); returns how many */
unsigned int feed_pollfds(struct feed *f, struct pollfd *pfd, unsigned int max);
/*
 * feed_poll_ms - how long the loop may sleep at @now: till the update due
 * at @next, and no longer than FEED_MS (REPLAY_FEED_MS in a replay), so
 * that events go in in batches
 */
int feed_poll_ms(const struct feed *f, uint64_t now, uint64_t next);
/*
 * feed_run - read what the sources have and give the collector what is
 * due at wall time @now (replay: by its speed; live: what has waited the
 * hold time); at most @budget events. Returns 1 when every source has
 * ended, 0, or -1 after printing an error.
 */
int feed_run(struct feed *f, uint64_t now, unsigned long budget);
/* replay as fast as it goes: feed everything up to reference time @ref */
int feed_until(struct feed *f, uint64_t ref);
/* reference time of the first event (replay), 0 before it is known */
uint64_t feed_first_ref(struct feed *f);
/* the reference time a paced replay has reached; 0 otherwise */
uint64_t feed_clock(const struct feed *f);
void feed_pause(struct feed *f, bool paused, uint64_t now);
bool feed_ended(const struct feed *f);
/* "replay x1.0 of a.vscap, b.vscap", "live (bpf) + remote tcp:..." */
const char *feed_describe(const struct feed *f);
/* a line on trouble the feed met, or "" */
const char *feed_warning(const struct feed *f);

/* ------------------------------------------------------------ drawing */

enum col {
	COL_FLOW,
	COL_SYS,
	COL_STATE,
	COL_AB,
	COL_BA,
	COL_FREE_AB,
	COL_FREE_BA,
	COL_BUF,
	COL_FWD,
	COL_STALLED,
	COL_FIND,
	COL__MAX,
};

struct col_def {
	const char *name;
	int width;
	bool left;
};
extern const struct col_def cols[COL__MAX];

#define CELL_LEN 48
void row_cells(const struct vs_top *t, const struct vs_top_row *r,
	       char cells[COL__MAX][CELL_LEN]);
/* one system's header line, fitted to @width */
void sys_line(const struct vs_top *t, unsigned int i, char *buf, size_t size);

struct view_state {
	unsigned int sort;
	bool reverse;
	struct vs_top_filter filter;
	char filter_text[32];
};

/* batch: one update as plain text */
int batch_print(FILE *out, struct feed *f, const struct view_state *vs,
		unsigned int iteration);
/* batch: the end, the findings as vsock-report -q prints them */
int batch_final(FILE *out, struct feed *f);

/* the curses screen; returns the exit status */
int screen_run(struct feed *f, struct view_state *vs, uint64_t delay_ns,
	       long iterations);

#endif /* VSOCKTOP_H */
