/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inputs: the captures (or text traces) of several systems, one per
 * system, read as one stream in reference-time order. With more than one
 * system a first pass over every input estimates the clocks (vs_corr) and
 * gives the engine each system's clock, CIDs and capture window; the
 * second pass is the stream. vsock-report and vsocktop's replay share it.
 */
#ifndef VS_INPUTS_H
#define VS_INPUTS_H

#include <stdbool.h>
#include <stdint.h>
#include "engine.h"
#include "source.h"

struct vs_inputs;

/*
 * vs_input_arg - split a command-line input, NAME=FILE or FILE, into the
 * system's name and the path. An existing file whose name has a '=' is a
 * FILE. The default name is the file's without directory and extension
 * ("stdin" for -). @name has VS_SYSNAME_LEN bytes.
 */
void vs_input_arg(const char *arg, char *name, const char **path);

/*
 * vs_inputs_open - open @n paths ("-": standard input)
 * Returns NULL with errno set and *failed the index of the input that
 * failed (n when the failure is not one input's).
 */
struct vs_inputs *vs_inputs_open(unsigned int n, const char *const *paths,
				 unsigned int *failed);
void vs_inputs_close(struct vs_inputs *in);

/* called now and then during vs_inputs_align() and vs_inputs_next() */
typedef void (*vs_inputs_progress_fn)(void *ctx, const struct vs_inputs *in);
void vs_inputs_set_progress(struct vs_inputs *in, vs_inputs_progress_fn fn,
			    void *ctx);

/*
 * vs_inputs_align - before the first vs_inputs_next(): with several
 * inputs, read them all once, estimate their clocks, and set each
 * system's clock, CIDs and window in @e. With one input, nothing.
 * Returns 0 or -errno (*failed: the input, or n for the estimate).
 */
int vs_inputs_align(struct vs_inputs *in, struct vs_engine *e,
		    unsigned int *failed);

/*
 * vs_inputs_next - the next event of all inputs, in reference order
 * @ev:  the event (ev->system set), valid until the next call
 * @ref: its reference time (may be NULL)
 * Returns 1, 0 at the end of every input, or -errno (*failed: the input).
 */
int vs_inputs_next(struct vs_inputs *in, const struct vs_engine *e,
		   struct vs_event **ev, uint64_t *ref, unsigned int *failed);

unsigned int vs_inputs_count(const struct vs_inputs *in);
struct vs_source *vs_inputs_source(const struct vs_inputs *in, unsigned int i);
/* bytes read and total of all inputs, and which pass ("aligning clocks",
 * "analysing") */
void vs_inputs_progress(const struct vs_inputs *in, uint64_t *done,
			uint64_t *total, const char **phase);

#endif /* VS_INPUTS_H */
