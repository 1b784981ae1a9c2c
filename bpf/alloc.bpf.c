// SPDX-License-Identifier: GPL-2.0-only
/*
 * Allocator failures: the kmalloc and mm_page_alloc tracepoints with a NULL
 * pointer or page (every allocation when cfg.alloc_all is set), and
 * kmalloc_node, which kernels before 6.1 had apart. Each as tp_btf and as
 * raw_tp. The first four arguments of kmalloc and kmalloc_node, and the
 * first two of mm_page_alloc, are the same in every kernel that has them.
 *
 * The vsock packet/skb allocators (virtio_transport_alloc_skb, 6.3+, and
 * the function virtio_transport_alloc_pkt before it) are found here, on the
 * failure path only: a failure whose kernel stack passes through one of
 * them (cfg.alloc_fn_lo/hi, from kallsyms) gets a second record naming it.
 * A hook on the allocators themselves would run for every packet sent.
 */
#include "vs_common.bpf.h"

/* frames looked at: the tracepoint, BPF's own and the allocator's frames
 * come first (about ten from virtio_transport_alloc_skb to
 * mm_page_alloc) */
#define ALLOC_STACK_DEPTH 24

/*
 * One failure of an allocator shows as several: a page allocation fails,
 * then the kmalloc that asked for it. The allocator's frame (the return
 * address in it) is the same in both: per task, the last one named, and
 * when; the same frame again within ALLOC_SAME_NS is the same failure.
 */
#define ALLOC_SAME_NS 10000000ull

struct fn_seen {
	__u64 ip;
	__u64 ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct fn_seen);
} fn_seen SEC(".maps");

/* the vsock packet allocator (VS_REC_FN_*) that @ip is in, or -1 */
static __always_inline int alloc_fn_of(__u64 ip)
{
	if (cfg.alloc_fn_lo[0] && ip >= cfg.alloc_fn_lo[0] &&
	    ip < cfg.alloc_fn_hi[0])
		return 0;
	if (cfg.alloc_fn_lo[1] && ip >= cfg.alloc_fn_lo[1] &&
	    ip < cfg.alloc_fn_hi[1])
		return 1;
	return -1;
}

/* a failure: when a vsock packet allocator is on the stack, say so */
static __always_inline void vsock_alloc_failed(void *ctx, __u64 call_site,
					       __u64 bytes)
{
	__u64 stack[ALLOC_STACK_DEPTH], ip = call_site, now;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct fn_seen *seen, cur;
	struct vs_record *r;
	int fn;
	long n;

	if (!cfg.alloc_fn_lo[0] && !cfg.alloc_fn_lo[1])
		return;
	fn = alloc_fn_of(ip);
	if (fn < 0) {
		n = bpf_get_stack(ctx, stack, sizeof(stack), 0);
#pragma clang loop unroll(full)
		for (int i = 0; i < ALLOC_STACK_DEPTH; i++) {
			if (fn >= 0 || (long)(i * sizeof(__u64)) >= n)
				break;
			ip = stack[i];
			fn = alloc_fn_of(ip);
		}
	}
	if (fn < 0)
		return;
	now = bpf_ktime_get_ns();
	seen = bpf_map_lookup_elem(&fn_seen, &tid);
	if (seen && seen->ip == ip && now - seen->ts < ALLOC_SAME_NS) {
		seen->ts = now;
		return;
	}
	cur.ip = ip;
	cur.ts = now;
	bpf_map_update_elem(&fn_seen, &tid, &cur, BPF_ANY);
	r = rec_reserve(VS_EV_ALLOC);
	if (!r)
		return;
	r->alloc.source = VS_REC_ALLOC_FN;
	r->alloc.fn = (__u8)fn;
	r->alloc.bytes_req = bytes;
	r->alloc.order = -1;
	rec_submit(r);
}

static __always_inline int on_kmalloc(__u64 *args)
{
	struct vs_record *r;
	__u64 ptr = args[1];

	if (ptr && !cfg.alloc_all)
		return 0;
	r = rec_reserve(VS_EV_ALLOC);
	if (!r)
		return 0;
	r->alloc.source = VS_REC_ALLOC_KMALLOC;
	r->alloc.call_site = args[0];
	r->alloc.ptr = ptr;
	r->alloc.bytes_req = args[2];
	r->alloc.bytes_alloc = args[3];
	r->alloc.order = -1;
	r->flags |= VS_REC_CALLSITE;
	rec_submit(r);
	if (!ptr)
		vsock_alloc_failed(args, args[0], args[2]);
	return 0;
}

static __always_inline int on_page_alloc(__u64 *args)
{
	struct vs_record *r;
	__u64 page = args[0];

	if (page && !cfg.alloc_all)
		return 0;
	r = rec_reserve(VS_EV_ALLOC);
	if (!r)
		return 0;
	r->alloc.source = VS_REC_ALLOC_PAGE;
	r->alloc.ptr = page;
	r->alloc.order = (__s32)args[1];
	rec_submit(r);
	if (!page && args[1] < 64)
		vsock_alloc_failed(args, 0, 4096ull << args[1]);
	return 0;
}

VS_TP_VARIANTS(kmalloc, kmalloc, on_kmalloc)
VS_TP_VARIANTS(kmalloc_node, kmalloc_node, on_kmalloc)
VS_TP_VARIANTS(page_alloc, mm_page_alloc, on_page_alloc)
