// SPDX-License-Identifier: GPL-2.0-only
/*
 * vsocktop's feed: replay of captures or text traces (lib/inputs.c, the
 * report's own reader), a capture on this system (vsock-trace's backends)
 * and remote streams (vsock-trace --stream), merged in reference order
 * into the collector.
 *
 * Live events wait hold_ns before they are merged, so that a remote
 * system's events, which come late, still go in in order. The remote
 * clocks are estimated from the packets both sides saw (vs_corr) once
 * there are some, and again while they are not known.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "../vsock-trace/backend.h"
#include "capture.h"
#include "correlate.h"
#include "inputs.h"
#include "sockaddr.h"
#include "vsocktop.h"

#define QMAX (4u << 20) /* events a live system may have waiting */
#define STREAM_KEEP (16u << 20) /* stream bytes kept before compacting */
#define ALIGN_MAX 10000000000ull /* how long to wait for packet pairs */
#define LATE_NS 1000 /* out of order by more than this: late */
#define ALIGN_PAIRS 1000 /* pairs enough for the clocks */
#define ALIGN_TIGHT_NS 20000 /* ... or an uncertainty this small */

struct queue {
	struct vs_event *v;
	size_t head, n, cap; /* a ring */
	uint64_t dropped; /* past QMAX */
};

struct remote {
	char spec[128];
	bool listen;
	int lfd, fd;
	uint8_t *buf;
	size_t len, cap;
	struct vs_capture_reader *rd;
	uint64_t lost_seen;
	bool eof;
};

#define LOOK 16 /* events read ahead of the one fed, with one input */

struct replay_ring {
	struct vs_event ev[LOOK];
	uint64_t ref[LOOK];
	struct vs_prefetch pf[LOOK];
	unsigned int head, n;
};

struct feed {
	struct feed_opts o;
	struct vs_top *top;
	unsigned int nsys;
	char names[VS_MAX_SYSTEMS][VS_SYSNAME_LEN];
	char desc[256];
	char warn[256];
	bool ended;

	/* replay */
	struct vs_inputs *in;
	struct vs_event *next; /* the next event, valid till the next read */
	uint64_t next_ref;
	bool has_next, started;
	uint64_t ref0, wall0, paused_at, paused_ns;
	uint64_t target; /* where the paced replay is */
	struct replay_ring ring; /* one input: read ahead (replay_upto()) */
	bool paused;
	uint64_t lost_seen[VS_MAX_SYSTEMS];

	/* live */
	bool has_local;
	struct vs_backend be;
	struct remote rm[VS_MAX_SYSTEMS]; /* system 1.. (0 when no local) */
	unsigned int rbase; /* system index of rm[0] */
	struct queue q[VS_MAX_SYSTEMS];
	uint64_t arrived[VS_MAX_SYSTEMS]; /* wall time of the last event */
	/* since when it had nothing new; and whether its last read did */
	uint64_t quiet[VS_MAX_SYSTEMS];
	bool idle[VS_MAX_SYSTEMS];
	bool waitfor[VS_MAX_SYSTEMS]; /* the merge waits for its events */
	uint64_t polled;
	uint64_t late;
	/* events merged after later ones */ /* the local capture, last read */
	uint64_t newest[VS_MAX_SYSTEMS]; /* its timestamp */
	uint64_t now_wall; /* wall time the engine's time last moved */
	uint64_t live0; /* wall time of the start */
	bool aligned; /* clocks estimated (or one system) */
	uint64_t next_align;
	uint64_t spoke_at; /* when every system had sent an event */
	struct vs_corr *corr; /* packets for the clocks, until aligned */
};

struct vs_top *feed_top(struct feed *f)
{
	return f->top;
}

bool feed_ended(const struct feed *f)
{
	return f->ended;
}

const char *feed_describe(const struct feed *f)
{
	return f->desc;
}

const char *feed_warning(const struct feed *f)
{
	return f->warn;
}

uint64_t feed_clock(const struct feed *f)
{
	const struct vs_engine *e = vs_top_engine(f->top);
	uint64_t now = mono_ns(), held = f->nsys > 1 ? f->o.hold_ns : 0, d;

	if (f->in)
		return f->o.speed > 0 ? f->target : 0;
	/* this system's trace clock is CLOCK_MONOTONIC: exact */
	if (f->has_local && !strcmp(f->be.clock, "mono"))
		return now > held ? now - held : 0;
	/* else the latest event's time, moved on by the time since */
	if (!e->now)
		return 0;
	d = now - f->now_wall;
	return e->now + (d < 5000000000ull ? d : 5000000000ull);
}

uint64_t feed_first_ref(struct feed *f)
{
	return f->started ? f->ref0 : 0;
}

/* ------------------------------------------------------------ replay */

static int replay_read(struct feed *f)
{
	unsigned int bad;
	int r = vs_inputs_next(f->in, vs_top_engine(f->top), &f->next,
			       &f->next_ref, &bad);

	if (r < 0) {
		error("failed to read %s: %s", f->o.replay[bad],
		      vs_capture_strerror(r));
		return -1;
	}
	f->has_next = r > 0;
	if (f->has_next && !f->started) {
		f->started = true;
		f->ref0 = f->next_ref;
	}
	return 0;
}

static void replay_lost(struct feed *f)
{
	for (unsigned int i = 0; i < f->nsys; i++) {
		const struct vs_source_stats *st =
			vs_source_stats(vs_inputs_source(f->in, i));

		if (st->lost > f->lost_seen[i]) {
			vs_top_lost(f->top, i, st->lost - f->lost_seen[i]);
			f->lost_seen[i] = st->lost;
		}
	}
}

/*
 * With one input, events are read up to LOOK ahead of the one fed, into a
 * ring, and the memory each will touch is asked for in stages as it comes
 * closer (vs_top_prefetch()): its flow's hash slot as it is read, its flow
 * entry STAGE1 events before it is fed, the reverse entry and its row
 * STAGE2 before, where the row keeps its next recent packet STAGE3
 * before. The cache misses of one event then overlap the work on the ones
 * before it: with a thousand flows most events miss. With more than one
 * input each event is read after the one before was fed, as vsock-report
 * does: merging uses each clock as fitted up to then.
 */
#define STAGE1 8
#define STAGE2 4
#define STAGE3 2

/* how far before it is fed an event goes through each stage past 0 */
static const unsigned int ahead[4] = { 0, STAGE1, STAGE2, STAGE3 };

static int feed_one(struct feed *f, const struct vs_event *ev)
{
	int err = vs_top_feed(f->top, ev);

	if (err) {
		error("failed to analyse %s: %s", f->o.replay[ev->system],
		      strerror(-err));
		return -1;
	}
	return 0;
}

static int replay_upto(struct feed *f, uint64_t ref, unsigned long budget)
{
	struct replay_ring *q = &f->ring;

	if (f->nsys > 1) {
		while (f->has_next && f->next_ref <= ref && budget--) {
			struct vs_event ev = *f->next;

			if (replay_read(f) || feed_one(f, &ev))
				return -1;
		}
	}
	while (f->nsys == 1) {
		unsigned int k;

		while (q->n < LOOK && f->has_next) {
			k = (q->head + q->n++) % LOOK;
			q->ev[k] = *f->next;
			q->ref[k] = f->next_ref;
			vs_top_prefetch(f->top, &q->ev[k], 0, &q->pf[k]);
			if (replay_read(f))
				return -1;
		}
		if (!q->n || q->ref[q->head] > ref || !budget)
			break;
		budget--;
		for (unsigned int st = 1; st < 4; st++) {
			if (q->n > ahead[st]) {
				k = (q->head + ahead[st]) % LOOK;
				vs_top_prefetch(f->top, &q->ev[k], st, &q->pf[k]);
			}
		}
		k = q->head;
		q->head = (q->head + 1) % LOOK;
		q->n--;
		if (feed_one(f, &q->ev[k]))
			return -1;
	}
	replay_lost(f);
	if (!f->has_next && !q->n) {
		f->ended = true;
		return 1;
	}
	return 0;
}

static int replay_open(struct feed *f)
{
	const char *paths[VS_MAX_SYSTEMS], *names[VS_MAX_SYSTEMS];
	unsigned int n = f->o.nreplay, bad;
	size_t k;
	int err;

	for (unsigned int i = 0; i < n; i++) {
		vs_input_arg(f->o.replay[i], f->names[i], &paths[i]);
		names[i] = f->names[i];
		for (unsigned int j = 0; j < i; j++) {
			if (!strcmp(f->names[j], f->names[i])) {
				error("two inputs are named '%s': name them "
				      "with NAME=FILE",
				      f->names[i]);
				return -1;
			}
		}
	}
	f->nsys = n;
	f->in = vs_inputs_open(n, paths, &bad);
	if (!f->in) {
		error("failed to open %s: %s", bad < n ? paths[bad] : "inputs",
		      strerror(errno));
		return -1;
	}
	f->top = vs_top_new(&f->o.opt, n, names);
	if (!f->top) {
		error("failed to set up the analysis: %s", strerror(errno));
		return -1;
	}
	err = vs_inputs_align(f->in, vs_top_engine(f->top), &bad);
	if (err) {
		error("failed to read %s: %s", bad < n ? paths[bad] : "inputs",
		      vs_capture_strerror(err));
		return -1;
	}
	if (replay_read(f))
		return -1;
	if (!f->has_next) {
		error("failed to read %s: no trace event in it", paths[0]);
		return -1;
	}
	k = (size_t)snprintf(f->desc, sizeof(f->desc), "replay ");
	if (f->o.speed > 0)
		k += (size_t)snprintf(f->desc + k, sizeof(f->desc) - k, "x%g",
				      f->o.speed);
	else
		k += (size_t)snprintf(f->desc + k, sizeof(f->desc) - k,
				      "at full speed");
	for (unsigned int i = 0; i < n && k < sizeof(f->desc); i++)
		k += (size_t)snprintf(f->desc + k, sizeof(f->desc) - k, "%s %s",
				      i ? "," : " of", paths[i]);
	return 0;
}

/* ------------------------------------------------------------ live */

static int q_push(struct queue *q, const struct vs_event *ev)
{
	if (q->n == q->cap) {
		size_t nc = q->cap ? q->cap * 2 : 4096;
		struct vs_event *v;

		if (nc > QMAX) {
			q->dropped++;
			return 0;
		}
		v = malloc(nc * sizeof(*v));
		if (!v)
			return -ENOMEM;
		for (size_t i = 0; i < q->n; i++)
			v[i] = q->v[(q->head + i) % q->cap];
		free(q->v);
		q->v = v;
		q->head = 0;
		q->cap = nc;
	}
	q->v[(q->head + q->n) % q->cap] = *ev;
	q->n++;
	return 0;
}

static struct vs_event *q_peek(struct queue *q)
{
	return q->n ? &q->v[q->head] : NULL;
}

static void q_pop(struct queue *q)
{
	q->head = (q->head + 1) % q->cap;
	q->n--;
}

struct local_ctx {
	struct feed *f;
	int err;
};

static void on_local(void *ctx, const struct vs_event *ev)
{
	struct local_ctx *c = ctx;
	struct vs_event e = *ev;

	e.system = 0;
	if (q_push(&c->f->q[0], &e))
		c->err = -ENOMEM;
	if (c->f->corr && vs_corr_add(c->f->corr, &e))
		c->err = -ENOMEM;
	c->f->arrived[0] = mono_ns();
	c->f->newest[0] = ev->ts_ns;
}

/* a stream's bytes so far: as many records as are whole */
static int remote_read(struct feed *f, unsigned int k)
{
	struct remote *rm = &f->rm[k];
	unsigned int sys = f->rbase + k;
	struct vs_event ev;
	struct vs_capture_lost lost;
	ssize_t n;
	int r;

	if (rm->fd < 0 && rm->lfd >= 0) {
		rm->fd = accept4(rm->lfd, NULL, NULL,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (rm->fd < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		close(rm->lfd);
		rm->lfd = -1;
		return 0;
	}
	if (rm->fd < 0 || rm->eof)
		return 0;
	if (rm->cap - rm->len < 65536) {
		size_t keep = rm->rd ? vs_capture_reader_consumed(rm->rd) : 0;

		/* the bytes read can go once a reader has them */
		if (rm->rd && keep > STREAM_KEEP / 2) {
			memmove(rm->buf, rm->buf + keep, rm->len - keep);
			rm->len -= keep;
			r = vs_capture_reader_rebase(rm->rd, rm->buf, rm->len,
						     keep);
			if (r)
				return r;
		}
		if (rm->cap - rm->len < 65536) {
			size_t nc = rm->cap ? rm->cap * 2 : 1u << 20;
			uint8_t *b = realloc(rm->buf, nc);

			if (!b)
				return -ENOMEM;
			rm->buf = b;
			rm->cap = nc;
			if (rm->rd && (r = vs_capture_reader_rebase(
					       rm->rd, rm->buf, rm->len, 0)))
				return r;
		}
	}
	n = read(rm->fd, rm->buf + rm->len, rm->cap - rm->len);
	f->idle[sys] = n < 0 && errno == EAGAIN; /* caught up */
	if (f->idle[sys] && !f->quiet[sys])
		f->quiet[sys] = mono_ns();
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	f->quiet[sys] = 0;
	if (n == 0)
		rm->eof = true;
	rm->len += (size_t)n;
	if (!rm->rd) {
		rm->rd = vs_capture_reader_new(rm->buf, rm->len, &r);
		if (!rm->rd) {
			if (r == -ENODATA && !rm->eof)
				return 0; /* the header is not whole yet */
			return r;
		}
	} else if ((r = vs_capture_reader_update(rm->rd, rm->buf, rm->len))) {
		return r;
	}
	for (;;) {
		r = vs_capture_next(rm->rd, &ev, &lost);
		if (r < 0)
			return r;
		if (r == VS_CAPTURE_END)
			break;
		if (r == VS_CAPTURE_LOST) {
			vs_top_lost(f->top, sys, lost.count);
			continue;
		}
		ev.system = (uint16_t)sys;
		if (q_push(&f->q[sys], &ev) ||
		    (f->corr && vs_corr_add(f->corr, &ev)))
			return -ENOMEM;
		f->arrived[sys] = mono_ns();
		f->newest[sys] = ev.ts_ns;
	}
	return 0;
}

int feed_poll_ms(const struct feed *f, uint64_t now, uint64_t next)
{
	int every = f->o.nreplay ? REPLAY_FEED_MS : FEED_MS;

	if (now >= next)
		return 0;
	return next - now < (uint64_t)every * 1000000 ?
		       (int)((next - now) / 1000000) :
		       every;
}

unsigned int feed_pollfds(struct feed *f, struct pollfd *pfd, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int k = 0; k < f->o.nremote && n < max; k++) {
		/* data is read every FEED_MS, all there is: only a listener
		 * wakes the loop */
		int fd = f->rm[k].fd < 0 ? f->rm[k].lfd : -1;

		if (fd < 0)
			continue;
		pfd[n].fd = fd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	return n;
}

/* estimate the remote clocks from what waits in the queues */
/*
 * estimate the clocks from the packets so far; take the estimate once it
 * rests on ALIGN_PAIRS pairs or is tight, or whatever is known when
 * @last (the input ended, the wait is over)
 */
static void align(struct feed *f, bool last)
{
	struct vs_engine *e = vs_top_engine(f->top);
	struct vs_clock clocks[VS_MAX_SYSTEMS];
	bool good = true, known = true;

	if (!f->corr ||
	    vs_corr_estimate(f->corr, clocks, e->opt.irq_timeout_ns))
		return;
	for (unsigned int s = 1; s < f->nsys; s++) {
		known &= clocks[s].known;
		good &= clocks[s].known &&
			(clocks[s].pairs >= ALIGN_PAIRS ||
			 (clocks[s].has_uncertainty &&
			  clocks[s].uncertainty_ns <= ALIGN_TIGHT_NS));
	}
	if (!good && !(last && known)) {
		snprintf(f->warn, sizeof(f->warn),
			 "waiting for packets seen on both systems to align "
			 "the clocks");
		return;
	}
	for (unsigned int s = 1; s < f->nsys; s++) {
		const uint64_t *cids;
		unsigned int nc = vs_corr_cids(f->corr, s, &cids);

		vs_engine_set_clock(e, s, &clocks[s]);
		for (unsigned int k = 0; k < nc; k++)
			vs_engine_add_cid(e, s, cids[k]);
	}
	vs_corr_free(f->corr);
	f->corr = NULL;
	f->aligned = true;
	f->warn[0] = '\0';
}

/* feed the queues' events up to @bound (reference), in order */
static int live_merge(struct feed *f, unsigned long budget)
{
	struct vs_engine *e = vs_top_engine(f->top);
	int err;

	while (budget--) {
		int best = -1;
		uint64_t bref = 0;

		for (unsigned int s = 0; s < f->nsys; s++) {
			struct vs_event *ev = q_peek(&f->q[s]);
			uint64_t r;

			if (!ev && f->waitfor[s])
				return 0; /* it may still send earlier ones */
			if (!ev)
				continue;
			r = vs_engine_ref(e, s, ev->ts_ns);
			if (best < 0 || r < bref) {
				best = (int)s;
				bref = r;
			}
		}
		if (best < 0)
			break;
		if (bref + LATE_NS < e->now) {
			/* it came after later events had gone in */
			f->late++;
			snprintf(f->warn, sizeof(f->warn),
				 "%" PRIu64 " events came too late to go in "
				 "in order (try a longer --hold-ms)",
				 f->late);
		}
		err = vs_top_feed(f->top, q_peek(&f->q[best]));
		q_pop(&f->q[best]);
		f->now_wall = mono_ns();
		if (err) {
			error("failed to analyse %s's events: %s",
			      f->names[best], strerror(-err));
			return -1;
		}
	}
	return 0;
}

/*
 * Before the first event goes to the engine, the clocks: everything is
 * held until the packets both systems saw give the offsets, tried once a
 * second from the hold time after every system has spoken; after
 * ALIGN_MAX without (or at the end of the input), the systems' first
 * events are lined up instead, as vs_inputs does. Returns true when the
 * merge may go on.
 */
static bool hold_for_clocks(struct feed *f, uint64_t now, bool all_eof)
{
	struct vs_engine *e = vs_top_engine(f->top);
	bool all_spoke = true, full = false;

	for (unsigned int s = 0; s < f->nsys; s++) {
		all_spoke &= f->q[s].n > 0;
		full |= f->q[s].n > QMAX / 2;
	}
	if (all_spoke && !f->spoke_at)
		f->spoke_at = now;
	if ((f->spoke_at && now - f->spoke_at >= f->o.hold_ns &&
	     now >= f->next_align) ||
	    all_eof || full) {
		align(f, all_eof || full || now - f->live0 >= ALIGN_MAX);
		f->next_align = mono_ns() + 1000000000ull;
	}
	if (f->aligned)
		return true;
	if (!all_eof && !full && now - f->live0 < ALIGN_MAX)
		return false;
	/* no pairs: line the first events up, for the merge only */
	for (unsigned int s = 1; s < f->nsys; s++) {
		struct vs_event *h0 = q_peek(&f->q[0]), *hs = q_peek(&f->q[s]);
		struct vs_clock c = e->sys[s].clock;

		if (c.known || !h0 || !hs)
			continue;
		c.offset_ns = (int64_t)h0->ts_ns - (int64_t)hs->ts_ns;
		vs_engine_set_clock(e, s, &c);
	}
	f->aligned = true;
	snprintf(f->warn, sizeof(f->warn),
		 "clocks not aligned: no packet seen on both systems; their "
		 "first events are lined up");
	return true;
}

static int live_run(struct feed *f, uint64_t now, unsigned long budget)
{
	struct vs_engine *e = vs_top_engine(f->top);
	bool all_eof = !f->has_local;
	int r;

	/* the kernel's buffers are read every 50 ms: a tracefs read costs */
	if (f->has_local && now - f->polled >= 50000000ull) {
		struct local_ctx c = { f, 0 };

		f->polled = now;
		r = f->be.poll(f->be.h, 0, on_local, &c);
		f->idle[0] = r == 0;
		if (r == 0 && !f->quiet[0])
			f->quiet[0] = now;
		else if (r > 0)
			f->quiet[0] = 0;
		if (r < 0 && r != -EINTR) {
			error("failed to read the capture: %s", strerror(-r));
			return -1;
		}
		if (c.err) {
			error("failed to queue events: %s", strerror(-c.err));
			return -1;
		}
		if (f->be.lost) {
			uint64_t l = f->be.lost(f->be.h);

			if (l > f->lost_seen[0]) {
				vs_top_lost(f->top, 0, l - f->lost_seen[0]);
				f->lost_seen[0] = l;
			}
		}
	}
	for (unsigned int k = 0; k < f->o.nremote; k++) {
		/* all that waits, up to 64 reads (4 MiB) at a time */
		for (int i = 0; i < 64; i++) {
			r = remote_read(f, k);
			if (r || f->rm[k].eof || f->rm[k].fd < 0 ||
			    f->idle[f->rbase + k])
				break;
		}
		if (r) {
			error("failed to read the stream %s: %s", f->rm[k].spec,
			      vs_capture_strerror(r));
			return -1;
		}
		all_eof &= f->rm[k].eof;
	}
	for (unsigned int s = 0; s < f->nsys; s++)
		if (f->q[s].dropped)
			snprintf(f->warn, sizeof(f->warn),
				 "%s: %" PRIu64 " events dropped (the analysis "
				 "falls behind)",
				 f->names[s], f->q[s].dropped);
	if (f->nsys > 1 && !f->aligned && !hold_for_clocks(f, now, all_eof))
		return 0;
	/*
	 * The merge, as vs_inputs does it: the earliest of the queues'
	 * first events goes in while every system still talking has one
	 * waiting. A system whose reader found nothing new for the hold
	 * time, or whose stream ended, holds nothing up. (A stream's quiet
	 * time is read during this call, after @now: no quiet time yet.)
	 */
	for (unsigned int s = 0; s < f->nsys; s++)
		f->waitfor[s] = f->nsys > 1 && f->arrived[s] &&
				!(f->idle[s] && f->quiet[s] &&
				  now > f->quiet[s] &&
				  now - f->quiet[s] > f->o.hold_ns) &&
				!(s >= f->rbase && f->rm[s - f->rbase].eof);
	if (live_merge(f, budget))
		return -1;
	if (all_eof) {
		bool empty = true;

		for (unsigned int s = 0; s < f->nsys; s++)
			empty &= !f->q[s].n;
		if (empty) {
			f->ended = true;
			return 1;
		}
	}
	(void)e;
	return 0;
}

static int live_open(struct feed *f)
{
	const char *names[VS_MAX_SYSTEMS];
	unsigned int n = 0;
	char err[512];
	size_t k = 0;

	if (f->o.live) {
		struct vs_backend_opts bo = { .probes = f->o.probes,
					      .buffer_kb = 4096 };

		if (vs_backend_open(f->o.backend, &bo, &f->be, err,
				    sizeof(err))) {
			error("failed to start the capture: %s", err);
			return -1;
		}
		f->has_local = true;
		snprintf(f->names[0], sizeof(f->names[0]), "%s", f->o.name);
		names[n++] = f->names[0];
		k += (size_t)snprintf(f->desc + k, sizeof(f->desc) - k,
				      "live (%s)", f->be.name);
		if (f->be.fallback[0])
			snprintf(f->warn, sizeof(f->warn), "%s",
				 f->be.fallback);
	}
	f->rbase = n;
	for (unsigned int i = 0; i < f->o.nremote; i++) {
		struct remote *rm = &f->rm[i];
		const char *arg = f->o.remote[i], *eq = strchr(arg, '='),
			   *colon = strchr(arg, ':');
		unsigned int sys = n++;
		int fd;

		rm->fd = rm->lfd = -1;
		rm->listen = f->o.remote_listen[i];
		if (eq && (!colon || eq < colon)) {
			snprintf(f->names[sys], sizeof(f->names[sys]), "%.*s",
				 (int)(eq - arg), arg);
			arg = eq + 1;
		} else {
			snprintf(f->names[sys], sizeof(f->names[sys]),
				 "remote");
			if (f->o.nremote > 1)
				snprintf(f->names[sys], sizeof(f->names[sys]),
					 "remote%u", i + 1);
		}
		names[sys] = f->names[sys];
		snprintf(rm->spec, sizeof(rm->spec), "%s", arg);
		if (vs_sock_open(arg, rm->listen, &fd, err, sizeof(err))) {
			error("failed to open the stream: %s", err);
			return -1;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		if (rm->listen)
			rm->lfd = fd;
		else
			rm->fd = fd;
		k += (size_t)snprintf(f->desc + k, sizeof(f->desc) - k,
				      "%s%s %s", k ? " + " : "",
				      rm->listen ? "listening on" : "stream",
				      arg);
	}
	for (unsigned int a = 0; a < n; a++)
		for (unsigned int b = 0; b < a; b++)
			if (!strcmp(f->names[a], f->names[b])) {
				error("two systems are named '%s': name them "
				      "with NAME=ADDRESS or --name",
				      f->names[a]);
				return -1;
			}
	f->nsys = n;
	f->top = vs_top_new(&f->o.opt, n, names);
	if (!f->top) {
		error("failed to set up the analysis: %s", strerror(errno));
		return -1;
	}
	f->live0 = mono_ns();
	f->aligned = n < 2;
	if (n > 1 && !(f->corr = vs_corr_new(n))) {
		error("failed to set up correlation: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct feed *feed_open(const struct feed_opts *o)
{
	struct feed *f = calloc(1, sizeof(*f));

	if (!f) {
		error("failed to set up: %s", strerror(errno));
		return NULL;
	}
	f->o = *o;
	if (o->nreplay ? replay_open(f) : live_open(f)) {
		feed_close(f);
		return NULL;
	}
	return f;
}

void feed_close(struct feed *f)
{
	if (!f)
		return;
	if (f->has_local)
		f->be.close(f->be.h);
	for (unsigned int k = 0; k < f->o.nremote; k++) {
		if (f->rm[k].fd >= 0)
			close(f->rm[k].fd);
		if (f->rm[k].lfd >= 0)
			close(f->rm[k].lfd);
		vs_capture_reader_free(f->rm[k].rd);
		free(f->rm[k].buf);
	}
	for (unsigned int s = 0; s < VS_MAX_SYSTEMS; s++)
		free(f->q[s].v);
	vs_inputs_close(f->in);
	vs_corr_free(f->corr);
	vs_top_free(f->top);
	free(f);
}

void feed_pause(struct feed *f, bool paused, uint64_t now)
{
	if (paused == f->paused)
		return;
	f->paused = paused;
	if (paused)
		f->paused_at = now;
	else
		f->paused_ns += now - f->paused_at;
}

int feed_run(struct feed *f, uint64_t now, unsigned long budget)
{
	uint64_t target;

	if (f->ended)
		return 1;
	if (!f->in)
		return live_run(f, now, budget);
	if (f->paused)
		return 0;
	if (!f->wall0)
		f->wall0 = now;
	if (f->o.speed <= 0)
		return replay_upto(f, UINT64_MAX, budget);
	target = f->ref0 + (uint64_t)((double)(now - f->wall0 - f->paused_ns) *
				      f->o.speed);
	f->target = target;
	return replay_upto(f, target, budget);
}

int feed_until(struct feed *f, uint64_t ref)
{
	if (f->ended)
		return 1;
	if (!f->in)
		return live_run(f, mono_ns(), ~0ul);
	return replay_upto(f, ref, ~0ul);
}
