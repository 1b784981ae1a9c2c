/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The record the BPF programs of bpf/ put in the ring buffer, and the
 * filter settings userspace writes to their .rodata before load. Shared by
 * the programs in bpf/ and lib/source_bpf.c; fixed-width types only.
 *
 * A record is turned into one struct vs_event (lib/event.h) by
 * lib/source_bpf.c; rec_kind holds the enum vs_kind value, or one of the
 * VS_REC_* kinds below that have no event kind of their own.
 */
#ifndef VS_RECORD_H
#define VS_RECORD_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* record kinds beyond enum vs_kind (lib/event.h) */
#define VS_REC_CREDIT 100 /* the sender's view of credit (credit path) */

/* vs_record.flags: which optional fields the probe had */
#define VS_REC_ZCOPY (1u << 0)	   /* pkt.zcopy (alloc_pkt, 6.7+) */
#define VS_REC_CREDIT_HDR (1u << 1) /* pkt.buf_alloc, pkt.fwd_cnt */
#define VS_REC_IDX (1u << 2)	   /* vq.idx */
#define VS_REC_NUM (1u << 3)	   /* vq.num */
#define VS_REC_CALLSITE (1u << 4)   /* alloc.call_site */

/* vs_record.alloc.source, as enum vs_alloc_src; VS_REC_ALLOC_FN: an
 * allocation failed inside a vsock packet/skb allocator, alloc.fn names it
 * (it follows the kmalloc or page record of that failure) */
#define VS_REC_ALLOC_KMALLOC 1
#define VS_REC_ALLOC_PAGE 2
#define VS_REC_ALLOC_FN 3

/* vs_record.alloc.fn */
#define VS_REC_FN_ALLOC_SKB 0 /* virtio_transport_alloc_skb (6.3+) */
#define VS_REC_FN_ALLOC_PKT 1 /* virtio_transport_alloc_pkt (before) */

/* vs_record.credit.op */
#define VS_REC_CREDIT_GET 1 /* virtio_transport_get_credit returned */
#define VS_REC_CREDIT_PUT 2 /* virtio_transport_put_credit */
#define VS_REC_CREDIT_UPD 3 /* virtio_transport_send_credit_update */

/* vs_record.mbox.src */
#define VS_REC_MBOX_CHAN 1  /* mbox_send_message, mbox_chan_received_data */
#define VS_REC_MBOX_RPROC 2 /* rproc_vq_interrupt */
#define VS_REC_MBOX_RPMSG 3 /* rpmsg_send* */

#define VS_REC_COMM_LEN 16
#define VS_REC_NAME_LEN 24

struct vs_rec_pkt {
	__u32 src_cid;	/* the tracepoints carry 32-bit CIDs */
	__u32 dst_cid;
	__u32 src_port;
	__u32 dst_port;
	__u32 len;
	__u16 type;
	__u16 op;
	__u32 flags;
	__u32 buf_alloc;
	__u32 fwd_cnt;
	__u8 zcopy;
	__u8 pad[3];
};

struct vs_rec_irq {
	__s32 irq;
	__s32 ret; /* irq_handler_exit: the handler's irqreturn_t */
	char name[VS_REC_NAME_LEN];
};

struct vs_rec_alloc {
	__u64 call_site; /* kernel address; 0 when unknown */
	__u64 bytes_req;
	__u64 bytes_alloc;
	__u64 ptr;	 /* the pointer or struct page *, 0 = failed */
	__s32 order;	 /* mm_page_alloc; -1 otherwise */
	__u8 source;	 /* VS_REC_ALLOC_* */
	__u8 fn;	 /* VS_REC_ALLOC_FN: VS_REC_FN_* */
	__u8 pad[2];
};

struct vs_rec_vq {
	char dev[16];	/* the device's kobject name: "virtio3" */
	char vq[16];	/* the queue's name: "rx", "tx", "event" */
	__u32 dev_id;	/* VIRTIO_ID_*: 19 is vsock */
	__s32 dev_index; /* virtio_device.index */
	__u32 idx;	/* avail_idx (kick, add), used_idx (irq, get) */
	__u32 num;	/* descriptors in use after the operation */
};

struct vs_rec_mbox {
	char chan[VS_REC_NAME_LEN]; /* controller device or rpmsg channel */
	__u64 msg;		   /* message pointer, notify id or length */
	__s32 idx;		   /* channel index, -1 when none */
	__u8 src;		   /* VS_REC_MBOX_* */
	__u8 pad[3];
};

struct vs_rec_credit {
	__u32 src_cid; /* local address */
	__u32 src_port;
	__u32 dst_cid; /* remote address */
	__u32 dst_port;
	__u32 credit;	/* asked for (get, put) */
	__u32 granted;	/* get: what the kernel granted */
	__u32 tx_cnt;
	__u32 peer_buf_alloc;
	__u32 peer_fwd_cnt;
	__u32 buf_alloc;
	__u32 fwd_cnt;
	__u8 op;	/* VS_REC_CREDIT_* */
	__u8 pad[3];
};

struct vs_record {
	__u64 ts_ns;	/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 tid;	/* what ftrace prints as the pid */
	__u32 tgid;
	__u32 cpu;
	__u16 kind;	/* enum vs_kind, or VS_REC_* */
	__u16 flags;	/* VS_REC_* presence bits */
	char comm[VS_REC_COMM_LEN];
	union {
		struct vs_rec_pkt pkt;
		struct vs_rec_irq irq;
		struct vs_rec_alloc alloc;
		struct vs_rec_vq vq;
		struct vs_rec_mbox mbox;
		struct vs_rec_credit credit;
	};
};

/*
 * Settings, in each program's .rodata (const volatile), written before
 * load; the verifier then drops the code a setting turns off.
 */
struct vs_bpf_cfg {
	__u64 cid;	  /* vsock: a packet's source or destination CID */
	__u32 port;	  /* vsock: its source or destination port */
	__s32 pid;	  /* vsock: the task's tgid (process) or tid */
	__u8 has_cid;
	__u8 has_port;
	__u8 has_pid;
	__u8 alloc_all;	  /* also successful allocations (tests, counts) */
	__u8 alloc_pkt_zcopy;  /* alloc_pkt has its 9th argument, zcopy */
	__u8 recv_pkt_credit;  /* recv_pkt has buf_alloc, fwd_cnt (9, 10) */
	__u8 vq_all;	  /* vring: every virtio device, not only vsock's
			   * and rpmsg's */
	__u8 pad[5];
	__u64 rb_wake;	  /* wake the reader past this many bytes unread */
	/* the code of the vsock packet allocators, [lo, hi), by
	 * VS_REC_FN_*: an allocation that fails with one of them on the
	 * stack is theirs (alloc.bpf.c); 0 when not in this kernel */
	__u64 alloc_fn_lo[2];
	__u64 alloc_fn_hi[2];
};

#endif /* VS_RECORD_H */
