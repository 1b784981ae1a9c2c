/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every probe family shares: the ring buffer (one map, which
 * lib/source_bpf.c creates once and hands to each family with
 * bpf_map__reuse_fd), the settings in .rodata, the count of records the
 * ring buffer had no room for, and the record header.
 */
#ifndef VS_COMMON_BPF_H
#define VS_COMMON_BPF_H

#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "event.h"	/* enum vs_kind: lib/, built -ffreestanding */
#include "vs_record.h"

char LICENSE[] SEC("license") = "GPL";

/* the size is set by userspace (vs_bpf_opts.ringbuf_kb) */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} rb SEC(".maps");

const volatile struct vs_bpf_cfg cfg = {};

/* records dropped because the ring buffer was full */
__u64 lost = 0;

static __always_inline struct vs_record *rec_reserve(__u16 kind)
{
	struct vs_record *r;
	__u64 id;

	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&lost, 1);
		return NULL;
	}
	__builtin_memset(r, 0, sizeof(*r));
	id = bpf_get_current_pid_tgid();
	r->ts_ns = bpf_ktime_get_ns();
	r->tid = (__u32)id;
	r->tgid = (__u32)(id >> 32);
	r->cpu = bpf_get_smp_processor_id();
	r->kind = kind;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	return r;
}

/* values of the kernel's uapi (bpf.h), which this build does not include */
#define VS_RB_NO_WAKEUP 1
#define VS_RB_FORCE_WAKEUP 2
#define VS_RB_AVAIL_DATA 0

/*
 * Userspace is not woken for each record: it reads every 100 ms anyway,
 * and on a loaded (or emulated) single CPU a wakeup per packet costs more
 * than the probe. Only a ring a quarter full (cfg.rb_wake, set from the
 * ring's size) wakes it.
 */
static __always_inline void rec_submit(struct vs_record *r)
{
	__u64 avail = bpf_ringbuf_query(&rb, VS_RB_AVAIL_DATA);

	bpf_ringbuf_submit(r, avail > cfg.rb_wake ? VS_RB_FORCE_WAKEUP
						  : VS_RB_NO_WAKEUP);
}

/* the pid filter: the current task's process or thread */
static __always_inline bool pid_wanted(void)
{
	__u64 id;

	if (!cfg.has_pid)
		return true;
	id = bpf_get_current_pid_tgid();
	return (__s32)(id >> 32) == cfg.pid || (__s32)(__u32)id == cfg.pid;
}

/* the CID and port filters: either end of the connection */
static __always_inline bool addr_wanted(__u64 src_cid, __u32 src_port,
					__u64 dst_cid, __u32 dst_port)
{
	if (cfg.has_cid && src_cid != cfg.cid && dst_cid != cfg.cid)
		return false;
	if (cfg.has_port && src_port != cfg.port && dst_port != cfg.port)
		return false;
	return true;
}

/*
 * A tracepoint hook in its two variants, PROG_btf (tp_btf) and PROG_raw
 * (raw_tp); both hand the argument array to FN, followed by the extra
 * arguments given.
 */
#define VS_TP_VARIANTS(prog, tp, fn, ...)                                     \
	SEC("tp_btf/" #tp)                                                    \
	int prog##_btf(__u64 *ctx)                                            \
	{                                                                     \
		return fn(ctx, ##__VA_ARGS__);                                \
	}                                                                     \
	SEC("raw_tp/" #tp)                                                    \
	int prog##_raw(struct bpf_raw_tracepoint_args *ctx)                   \
	{                                                                     \
		return fn(ctx->args, ##__VA_ARGS__);                          \
	}

#endif /* VS_COMMON_BPF_H */
