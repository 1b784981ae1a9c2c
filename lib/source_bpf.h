/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The BPF source: the CO-RE probes of bpf/ feeding one ring buffer, each
 * record turned into one struct vs_event, filled as lib/source_text.c fills
 * it for the same tracepoint line.
 *
 * Per hook, the attach method is chosen at run time, best first: tp_btf
 * then raw_tp for tracepoints, fentry/fexit then kprobe/kretprobe for
 * functions. A method is tried for real (a no-op program attached and
 * detached) before the probe is loaded; one that still fails to load or
 * attach is dropped for the next. A hook that cannot attach is reported in
 * the status table and the others go on.
 *
 * Timestamps are bpf_ktime_get_ns(): CLOCK_MONOTONIC of the traced system
 * (not the ftrace "local" clock a text trace carries by default).
 *
 * The library never prints: vs_bpf_open() installs a libbpf print callback
 * (process-wide) that keeps libbpf's messages for the status table.
 */
#ifndef VS_SOURCE_BPF_H
#define VS_SOURCE_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "event.h"
#include "probe.h"

/* probe families (VS_PROBE_*) and the status table: lib/probe.h. Here
 * hook names a function as "name()"; method may also be "fexit",
 * "kretprobe"; err -ENOENT means the kernel has no such hook. */

struct vs_bpf_opts {
	unsigned int probes; /* VS_PROBE_* */
	/* filters, set before load; they apply to vsock packets and credit
	 * (either end of the connection); the pid (a process or a thread)
	 * to the sender's side: alloc_pkt and the credit calls */
	uint64_t cid;
	bool has_cid;
	uint32_t port;
	bool has_port;
	int32_t pid;
	bool has_pid;
	unsigned int ringbuf_kb; /* 0: 1024; rounded up to a power of two */
	bool alloc_all;		 /* successful allocations too, not only
				  * failures (tests; heavy) */
	bool vq_all;		 /* vring: every virtio device's queues,
				  * not only vsock's and rpmsg's */
	uint16_t system;	 /* vs_event.system of every event */
	unsigned int avoid;	 /* VS_METHOD_*: methods not to try */
};

/* vs_bpf_opts.avoid: leave a method out (a kernel known to misbehave
 * with it; tests of the fallbacks) */
enum {
	VS_METHOD_TP_BTF = 1, /* tracepoints then go to raw_tp */
	VS_METHOD_RAW_TP = 2,
	VS_METHOD_FENTRY = 4, /* fentry and fexit */
	VS_METHOD_KPROBE = 8, /* kprobe and kretprobe */
};

struct vs_bpf;

/*
 * vs_bpf_open - load and attach the probes of @o->probes
 * Returns 0 with *out set when at least one hook attached; else -errno
 * with a one-line reason in @err: -EPERM (not allowed to use BPF: not
 * root?), -ENOENT (no kernel BTF), -EOPNOTSUPP (no hook could attach: the
 * first refusal follows), -ENOMEM, -EINVAL.
 */
int vs_bpf_open(const struct vs_bpf_opts *o, struct vs_bpf **out, char *err,
		size_t errlen);

/* the status table, one row per hook of the requested families */
const struct vs_probe_status *vs_bpf_status(const struct vs_bpf *b,
					    unsigned int *n);

/*
 * vs_bpf_poll - wait up to @timeout_ms (-1: forever) for records; each
 * becomes a struct vs_event given to @cb. Returns the number of events
 * delivered, or -errno (-EINTR on a signal).
 */
int vs_bpf_poll(struct vs_bpf *b, int timeout_ms,
		void (*cb)(void *ctx, const struct vs_event *ev), void *ctx);

/* records the probes could not put in the ring buffer because it was full */
uint64_t vs_bpf_lost(const struct vs_bpf *b);

void vs_bpf_close(struct vs_bpf *b);

/*
 * vs_bpf_record_event - one ring buffer record (bpf/vs_record.h) to an
 * event; @b (may be NULL) names call sites from /proc/kallsyms and sets
 * ev->system. Returns 0, or -EINVAL for a record it does not know.
 * For tests and for replaying raw records.
 */
int vs_bpf_record_event(const struct vs_bpf *b, const void *rec, size_t len,
			struct vs_event *ev);

#endif /* VS_SOURCE_BPF_H */
