/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one event model of vsockscope. Every source (tracefs text, live
 * tracefs, BPF, capture files, vsock-refdev) turns its input into struct
 * vs_event; every sink renders what the core computed from them.
 *
 * Plain C with fixed-width types only, so bpf/ can share it.
 */
#ifndef VS_EVENT_H
#define VS_EVENT_H

#include <stdint.h>

#define VS_COMM_LEN 16
#define VS_NAME_LEN 24
#define VS_TEXT_LEN 64

enum vs_kind {
	VS_EV_NONE = 0,
	VS_EV_PKT_TX,	/* virtio_transport_alloc_pkt */
	VS_EV_PKT_RX,	/* virtio_transport_recv_pkt */
	VS_EV_VQ_KICK,	/* driver notifies device */
	VS_EV_VQ_IRQ,	/* vring_interrupt / used-buffer notification */
	VS_EV_VQ_ADD,	/* buffers posted */
	VS_EV_VQ_GET,	/* buffers reclaimed */
	VS_EV_IRQ,	/* irq_handler_entry */
	VS_EV_IRQ_EXIT, /* irq_handler_exit */
	VS_EV_MBOX_TX,	/* mailbox doorbell sent */
	VS_EV_MBOX_RX,	/* mailbox doorbell received */
	VS_EV_ALLOC,	/* kmalloc / mm_page_alloc and friends */
	VS_EV_MARK,	/* free text (trace_marker, refdev notes) */
	VS_EV_VQ_CALL,	/* device notifies driver (used buffers) */
	VS_EV__MAX,
};

/* virtio-vsock header values (VIRTIO 1.2, "Socket Device") */
enum vs_op {
	VS_OP_INVALID = 0,
	VS_OP_REQUEST = 1,
	VS_OP_RESPONSE = 2,
	VS_OP_RST = 3,
	VS_OP_SHUTDOWN = 4,
	VS_OP_RW = 5,
	VS_OP_CREDIT_UPDATE = 6,
	VS_OP_CREDIT_REQUEST = 7,
};

enum vs_type {
	VS_TYPE_STREAM = 1,
	VS_TYPE_SEQPACKET = 2,
};

#define VS_SHUTDOWN_RCV 1u
#define VS_SHUTDOWN_SEND 2u

/* vs_event.present: which optional fields the source actually had */
#define VS_HAS_TS (1u << 0)
#define VS_HAS_CPU (1u << 1)
#define VS_HAS_PID (1u << 2)
#define VS_HAS_COMM (1u << 3)
#define VS_HAS_HDR (1u << 4)	   /* cids, ports, len, type, op, flags */
#define VS_HAS_BUF_ALLOC (1u << 5) /* pkt.buf_alloc */
#define VS_HAS_FWD_CNT (1u << 6)   /* pkt.fwd_cnt */
#define VS_HAS_ZCOPY (1u << 7)	   /* pkt.zcopy */
#define VS_HAS_IRQ (1u << 8)	   /* irq.irq */
#define VS_HAS_RET (1u << 9)	   /* irq.ret */
#define VS_HAS_SIZE (1u << 10)	   /* alloc.bytes_req/bytes_alloc */
#define VS_HAS_ORDER (1u << 11)	   /* alloc.order */
#define VS_HAS_CALLSITE (1u << 12) /* alloc.call_site */
#define VS_HAS_IDX (1u << 13)	   /* vq.idx */
#define VS_HAS_NUM (1u << 14)	   /* vq.num (ring occupancy) */

struct vs_pkt {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
	uint8_t zcopy;
};

struct vs_irq {
	int32_t irq;
	int32_t ret; /* irq_handler_exit: 1 handled, 0 unhandled */
	char name[VS_NAME_LEN];
};

enum vs_alloc_src {
	VS_ALLOC_KMALLOC = 1, /* kmalloc, kmalloc_node, kmem_cache_alloc* */
	VS_ALLOC_PAGE = 2,    /* mm_page_alloc */
};

struct vs_alloc {
	uint64_t bytes_req;
	uint64_t bytes_alloc;
	uint8_t source; /* enum vs_alloc_src */
	uint8_t failed;
	int16_t order;
	/* symbol, or 0x-hex when the kernel printed an address */
	char call_site[48];
};

struct vs_vq {
	char dev[VS_NAME_LEN / 2];
	char vq[VS_NAME_LEN / 2];
	uint32_t idx; /* avail_idx for kicks/adds, used_idx for irqs/gets */
	uint32_t num; /* buffers in the ring after the operation */
};

struct vs_mbox {
	char chan[VS_NAME_LEN];
	uint64_t msg;
};

struct vs_event {
	uint64_t ts_ns;	  /* on the producing system's clock */
	uint32_t present; /* VS_HAS_* */
	uint16_t kind;	  /* enum vs_kind */
	uint16_t system;  /* index of the capture it came from */
	int32_t cpu;
	int32_t pid;
	char comm[VS_COMM_LEN];
	union {
		struct vs_pkt pkt;
		struct vs_irq irq;
		struct vs_alloc alloc;
		struct vs_vq vq;
		struct vs_mbox mbox;
		char text[VS_TEXT_LEN];
	};
};

/* names, for printing and for parsing the text formats */
const char *vs_kind_name(unsigned int kind);
const char *vs_op_name(unsigned int op);	/* NULL if not a known op */
const char *vs_type_name(unsigned int type); /* NULL if unknown */
/* returns the op/type for a name, or -1 */
int vs_op_from_name(const char *s, unsigned int len);
int vs_type_from_name(const char *s, unsigned int len);

/*
 * zero an event. In two parts: gcc turns one memset of the whole event
 * into a rep stos, slower to start than the rest of a record's decode
 * (perf: 15 % of vs_capture_next, 2 % of a capture replay)
 */
static inline void vs_event_clear(struct vs_event *ev)
{
	__builtin_memset(ev, 0, __builtin_offsetof(struct vs_event, pkt));
	__builtin_memset(&ev->pkt, 0,
			 sizeof(*ev) - __builtin_offsetof(struct vs_event, pkt));
}

static inline int vs_event_is_pkt(const struct vs_event *ev)
{
	return (ev->kind == VS_EV_PKT_TX || ev->kind == VS_EV_PKT_RX) &&
	       (ev->present & VS_HAS_HDR);
}

#endif /* VS_EVENT_H */
