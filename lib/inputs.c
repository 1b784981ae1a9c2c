// SPDX-License-Identifier: GPL-2.0-only
/*
 * Several systems' inputs as one reference-ordered stream (see inputs.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "correlate.h"
#include "inputs.h"

struct vs_input {
	struct vs_source *src;
	struct vs_event *ev; /* the next event, when has */
	bool has;
	bool primed;
	uint64_t ref;
};

struct vs_inputs {
	unsigned int n;
	const char *phase;
	vs_inputs_progress_fn progress;
	void *progress_ctx;
	unsigned long long cnt;
	struct vs_input in[VS_MAX_SYSTEMS];
};

void vs_input_arg(const char *arg, char *name, const char **path)
{
	const char *eq = strchr(arg, '='), *b;
	struct stat sb;
	char *dot;

	if (eq && eq != arg && stat(arg, &sb)) {
		size_t len = (size_t)(eq - arg);

		if (len >= VS_SYSNAME_LEN)
			len = VS_SYSNAME_LEN - 1;
		memcpy(name, arg, len);
		name[len] = '\0';
		*path = eq + 1;
		return;
	}
	*path = arg;
	b = strrchr(arg, '/');
	b = !strcmp(arg, "-") ? "stdin" : b ? b + 1 : arg;
	snprintf(name, VS_SYSNAME_LEN, "%s", b);
	dot = strrchr(name, '.');
	if (dot && dot != name)
		*dot = '\0';
}

struct vs_inputs *vs_inputs_open(unsigned int n, const char *const *paths,
				 unsigned int *failed)
{
	struct vs_inputs *in;

	*failed = n;
	if (!n || n > VS_MAX_SYSTEMS) {
		errno = EINVAL;
		return NULL;
	}
	in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->n = n;
	in->phase = "analysing";
	for (unsigned int i = 0; i < n; i++) {
		in->in[i].src = vs_source_open(paths[i]);
		if (!in->in[i].src) {
			int err = errno;

			*failed = i;
			vs_inputs_close(in);
			errno = err;
			return NULL;
		}
		vs_source_set_lean(in->in[i].src, true);
		if (n > 1) {
			int err = vs_source_prepare_rewind(in->in[i].src);

			if (err) {
				*failed = i;
				vs_inputs_close(in);
				errno = -err;
				return NULL;
			}
		}
	}
	return in;
}

void vs_inputs_close(struct vs_inputs *in)
{
	if (!in)
		return;
	for (unsigned int i = 0; i < in->n; i++)
		vs_source_close(in->in[i].src);
	free(in);
}

void vs_inputs_set_progress(struct vs_inputs *in, vs_inputs_progress_fn fn,
			    void *ctx)
{
	in->progress = fn;
	in->progress_ctx = ctx;
}

static void tick(struct vs_inputs *in)
{
	if (!(++in->cnt & 0xffff) && in->progress)
		in->progress(in->progress_ctx, in);
}

static int read_one(struct vs_inputs *in, unsigned int i)
{
	struct vs_input *p = &in->in[i];
	int r = vs_source_next_ref(p->src, &p->ev);

	if (r < 0)
		return r;
	p->has = r > 0;
	if (p->has)
		p->ev->system = (uint16_t)i;
	return 0;
}

int vs_inputs_align(struct vs_inputs *in, struct vs_engine *e,
		    unsigned int *failed)
{
	struct vs_clock clocks[VS_MAX_SYSTEMS];
	uint64_t first[VS_MAX_SYSTEMS], last[VS_MAX_SYSTEMS];
	struct vs_corr *corr;
	int err = 0;

	*failed = in->n;
	if (in->n < 2)
		return 0;
	corr = vs_corr_new(in->n);
	if (!corr)
		return -errno;
	in->phase = "aligning clocks";
	for (unsigned int i = 0; i < in->n && !err; i++) {
		for (;;) {
			err = read_one(in, i);
			if (err) {
				*failed = i;
				break;
			}
			if (!in->in[i].has)
				break;
			err = vs_corr_add(corr, in->in[i].ev);
			if (err)
				break;
			tick(in);
		}
		first[i] = vs_source_stats(in->in[i].src)->first_ts;
		last[i] = vs_source_stats(in->in[i].src)->last_ts;
	}
	if (!err)
		err = vs_corr_estimate(corr, clocks, e->opt.irq_timeout_ns);
	for (unsigned int i = 0; i < in->n && !err; i++) {
		const uint64_t *cids;
		unsigned int nc = vs_corr_cids(corr, i, &cids);

		if (!clocks[i].known) {
			/* line the captures' starts up, for the merge only */
			clocks[i].offset_ns =
				(int64_t)first[0] - (int64_t)first[i];
		}
		vs_engine_set_clock(e, i, &clocks[i]);
		for (unsigned int k = 0; k < nc; k++)
			vs_engine_add_cid(e, i, cids[k]);
		vs_engine_set_window(e, i, first[i], last[i]);
	}
	vs_corr_free(corr);
	for (unsigned int i = 0; i < in->n && !err; i++) {
		err = vs_source_rewind(in->in[i].src);
		if (err)
			*failed = i;
	}
	in->phase = "analysing";
	return err;
}

int vs_inputs_next(struct vs_inputs *in, const struct vs_engine *e,
		   struct vs_event **ev, uint64_t *ref, unsigned int *failed)
{
	struct vs_input *b = NULL;
	int err;

	if (in->n == 1) {
		/* one input is in order already */
		b = &in->in[0];
		err = read_one(in, 0);
		if (err) {
			*failed = 0;
			return err;
		}
		if (!b->has)
			return 0;
		*ev = b->ev;
		if (ref)
			*ref = vs_engine_ref(e, 0, b->ev->ts_ns);
		tick(in);
		return 1;
	}
	for (unsigned int i = 0; i < in->n; i++) {
		struct vs_input *p = &in->in[i];

		if (!p->primed) {
			err = read_one(in, i);
			if (err) {
				*failed = i;
				return err;
			}
			p->primed = true;
			if (p->has)
				p->ref = vs_engine_ref(e, i, p->ev->ts_ns);
		}
		if (p->has && (!b || p->ref < b->ref))
			b = p;
	}
	if (!b)
		return 0;
	*ev = b->ev;
	if (ref)
		*ref = b->ref;
	/* the next one is read on the next call: *ev stays valid till then */
	b->primed = false;
	tick(in);
	return 1;
}

unsigned int vs_inputs_count(const struct vs_inputs *in)
{
	return in->n;
}

struct vs_source *vs_inputs_source(const struct vs_inputs *in, unsigned int i)
{
	return i < in->n ? in->in[i].src : NULL;
}

void vs_inputs_progress(const struct vs_inputs *in, uint64_t *done,
			uint64_t *total, const char **phase)
{
	*done = *total = 0;
	for (unsigned int i = 0; i < in->n; i++) {
		uint64_t d, t;

		vs_source_progress(in->in[i].src, &d, &t);
		*done += d;
		*total += t;
	}
	if (phase)
		*phase = in->phase;
}
