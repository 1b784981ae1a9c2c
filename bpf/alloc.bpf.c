// SPDX-License-Identifier: GPL-2.0-only
/*
 * Allocator failures: the kmalloc and mm_page_alloc tracepoints with a NULL
 * pointer or page (every allocation when cfg.alloc_all is set), and
 * kmalloc_node, which kernels before 6.1 had apart. Each as tp_btf and as
 * raw_tp. The first four arguments of kmalloc and kmalloc_node, and the
 * first two of mm_page_alloc, are the same in every kernel that has them.
 *
 * The vsock packet/skb allocators are hooked by vsock.bpf.c: they are vsock
 * functions, and attach only with the vsock probes.
 */
#include "vs_common.bpf.h"

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
	return 0;
}

VS_TP_VARIANTS(kmalloc, kmalloc, on_kmalloc)
VS_TP_VARIANTS(kmalloc_node, kmalloc_node, on_kmalloc)
VS_TP_VARIANTS(page_alloc, mm_page_alloc, on_page_alloc)
