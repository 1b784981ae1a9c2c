// SPDX-License-Identifier: GPL-2.0-only
/* vsock-trace: the backends behind one interface, and the auto choice. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "backend.h"
#include "source_bpf.h"
#include "source_tracefs.h"

static const struct vs_probe_status *tfs_status(const void *h, unsigned int *n)
{
	return vs_tracefs_status(h, n);
}

static int tfs_poll(void *h, int ms, vs_event_fn cb, void *ctx)
{
	return vs_tracefs_poll(h, ms, cb, ctx);
}

static int tfs_stop(void *h, vs_event_fn cb, void *ctx)
{
	return vs_tracefs_stop(h, cb, ctx);
}

static uint64_t tfs_lost(void *h)
{
	return vs_tracefs_lost(h);
}

static void tfs_close(void *h)
{
	vs_tracefs_close(h);
}

static int open_tracefs(const struct vs_backend_opts *o, struct vs_backend *be,
			char *err, size_t errlen)
{
	struct vs_tracefs_opts to = {
		.probes = o->probes,
		.has_cid = o->has_cid,
		.cid = o->cid,
		.has_port = o->has_port,
		.port = o->port,
		.buffer_kb = o->buffer_kb,
	};
	struct vs_tracefs *t;
	int ret = vs_tracefs_open(&to, &t, err, errlen);

	if (ret) {
		vs_tracefs_close(t);
		return ret;
	}
	be->name = "tracefs";
	be->clock = vs_tracefs_clock(t);
	be->h = t;
	be->status = tfs_status;
	be->poll = tfs_poll;
	be->stop = tfs_stop;
	be->lost = tfs_lost;
	be->close = tfs_close;
	return 0;
}

static const struct vs_probe_status *bpf_status(const void *h, unsigned int *n)
{
	return vs_bpf_status(h, n);
}

static int bpf_poll(void *h, int ms, vs_event_fn cb, void *ctx)
{
	return vs_bpf_poll(h, ms, cb, ctx);
}

static int bpf_stop(void *h, vs_event_fn cb, void *ctx)
{
	/* what the ring buffer still holds */
	return vs_bpf_poll(h, 0, cb, ctx);
}

static uint64_t bpf_lost(void *h)
{
	return vs_bpf_lost(h);
}

static void bpf_close(void *h)
{
	vs_bpf_close(h);
}

static int open_bpf(const struct vs_backend_opts *o, struct vs_backend *be,
		    char *err, size_t errlen)
{
	struct vs_bpf_opts bo = {
		.probes = o->probes,
		.has_cid = o->has_cid,
		.cid = o->cid,
		.has_port = o->has_port,
		.port = o->port,
		.has_pid = o->has_pid,
		.pid = o->pid,
		.ringbuf_kb = o->buffer_kb,
		.vq_all = o->vq_all,
	};
	struct vs_bpf *b;
	int ret = vs_bpf_open(&bo, &b, err, errlen);

	if (ret)
		return ret;
	be->name = "bpf";
	be->clock = "mono";
	be->h = b;
	be->status = bpf_status;
	be->poll = bpf_poll;
	be->stop = bpf_stop;
	be->lost = bpf_lost;
	be->close = bpf_close;
	return 0;
}

int vs_backend_open(const char *which, const struct vs_backend_opts *o,
		    struct vs_backend *be, char *err, size_t errlen)
{
	char why[256];
	int ret;

	memset(be, 0, sizeof(*be));
	if (!strcmp(which, "bpf"))
		return open_bpf(o, be, err, errlen);
	if (!strcmp(which, "tracefs"))
		return open_tracefs(o, be, err, errlen);
	/* auto: BPF when it loads with a hook attached */
	ret = open_bpf(o, be, why, sizeof(why));
	if (!ret)
		return 0;
	ret = open_tracefs(o, be, err, errlen);
	snprintf(be->fallback, sizeof(be->fallback), "%s", why);
	if (ret) {
		char t[256];

		snprintf(t, sizeof(t), "%s", err);
		snprintf(err, errlen, "BPF: %s; tracefs: %s", why, t);
	}
	return ret;
}
