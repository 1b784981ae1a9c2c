/* SPDX-License-Identifier: GPL-2.0-only */
/* vsock-trace: one interface over the capture backends (BPF, tracefs). */
#ifndef VS_TRACE_BACKEND_H
#define VS_TRACE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "event.h"
#include "probe.h"

struct vs_backend_opts {
	unsigned int probes; /* VS_PROBE_* */
	bool has_cid, has_port, has_pid;
	uint64_t cid;
	uint32_t port;
	int32_t pid;
	unsigned int buffer_kb;
	bool vq_all; /* BPF vring: every virtio device, not only vsock/rpmsg */
};

typedef void (*vs_event_fn)(void *ctx, const struct vs_event *ev);

struct vs_backend {
	const char *name;  /* "bpf" or "tracefs" */
	const char *clock; /* what the timestamps count */
	void *h;
	const struct vs_probe_status *(*status)(const void *h, unsigned int *n);
	int (*poll)(void *h, int timeout_ms, vs_event_fn cb, void *ctx);
	int (*stop)(void *h, vs_event_fn cb, void *ctx); /* and drain */
	uint64_t (*lost)(void *h);
	void (*close)(void *h);
	/* why the other backend was not taken (auto), or "" */
	char fallback[256];
};

/*
 * vs_backend_open - @which is "auto", "bpf" or "tracefs". auto takes BPF
 * when it loads with at least one probe attached, else tracefs, and says
 * why in be->fallback. Returns 0, or -errno with a one-line reason in @err
 * (-ENOENT: nothing could be attached).
 */
int vs_backend_open(const char *which, const struct vs_backend_opts *o,
		    struct vs_backend *be, char *err, size_t errlen);

#endif /* VS_TRACE_BACKEND_H */
