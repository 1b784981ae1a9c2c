/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Live capture through tracefs (libtracefs, libtraceevent), for kernels or
 * devices where BPF is refused: a private instance (never the global
 * buffer) with the tracepoints of the probe families asked for, read raw
 * per CPU and turned into events by the text parser that reads `cat trace`
 * (one parser for both: what libtraceevent prints for a record is the line
 * the kernel would print).
 */
#ifndef VS_SOURCE_TRACEFS_H
#define VS_SOURCE_TRACEFS_H

#include <stdbool.h>
#include <stdint.h>
#include "event.h"
#include "probe.h"

struct vs_tracefs_opts {
	unsigned int probes;	/* VS_PROBE_* */
	bool has_cid, has_port;
	uint64_t cid;		/* vsock packets from or to this CID only */
	uint32_t port;		/* ... this port */
	unsigned int buffer_kb; /* per CPU; 0: 4096 */
};

struct vs_tracefs;

/*
 * vs_tracefs_open - make the instance, enable what @o asks for, start.
 * Families with no tracepoint on this kernel are refused in the status
 * table, the rest goes on. Returns 0, or -errno with a one-line reason in
 * @err (tracefs not mounted, not root, nothing could be enabled).
 */
int vs_tracefs_open(const struct vs_tracefs_opts *o, struct vs_tracefs **out,
		    char *err, size_t errlen);
const struct vs_probe_status *vs_tracefs_status(const struct vs_tracefs *t,
						unsigned int *n);
/* the tracefs clock the timestamps are on ("local", "mono"...) */
const char *vs_tracefs_clock(const struct vs_tracefs *t);
/*
 * vs_tracefs_poll - wait up to @timeout_ms, then hand every record the
 * buffers hold to @cb as an event, in time order. Returns the number of
 * events, or -errno.
 */
int vs_tracefs_poll(struct vs_tracefs *t, int timeout_ms,
		    void (*cb)(void *ctx, const struct vs_event *ev),
		    void *ctx);
/* stop tracing and hand what is left to @cb; returns events or -errno */
int vs_tracefs_stop(struct vs_tracefs *t,
		    void (*cb)(void *ctx, const struct vs_event *ev),
		    void *ctx);
/* events the kernel dropped (buffer overruns), over all CPUs so far */
uint64_t vs_tracefs_lost(struct vs_tracefs *t);
/* remove the instance and free */
void vs_tracefs_close(struct vs_tracefs *t);

#endif /* VS_SOURCE_TRACEFS_H */
