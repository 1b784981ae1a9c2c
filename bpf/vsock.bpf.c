// SPDX-License-Identifier: GPL-2.0-only
/*
 * vsock core: the virtio_transport_alloc_pkt and virtio_transport_recv_pkt
 * tracepoints (tp_btf, else raw_tp) and the credit path
 * (virtio_transport_get_credit / put_credit / send_credit_update: the
 * sender's own view of credit).
 *
 * The packet/skb allocators are not hooked here: a hook on them runs for
 * every packet sent, to catch a failure that is rare. alloc.bpf.c finds
 * their failures on the failure path of kmalloc and mm_page_alloc instead.
 *
 * Tracepoint arguments across kernels: every kernel passes the same first
 * eight (src_cid, src_port, dst_cid, dst_port, len, type, op, flags);
 * recv_pkt adds buf_alloc and fwd_cnt, 6.7 added zcopy to alloc_pkt, and
 * later arguments are only ever appended. Userspace counts the arguments in
 * the kernel's BTF (btf_trace_<name>) and sets cfg.alloc_pkt_zcopy and
 * cfg.recv_pkt_credit; the verifier drops a read of an argument the kernel
 * lacks before it could refuse it.
 *
 * Filters (cfg): CID and port on either end of a packet; the pid where the
 * task is the socket's user (alloc_pkt, get/put_credit) — receives run in a
 * worker and take the CID and port filters only.
 *
 * Loaded only when asked for (VS_PROBE_VSOCK).
 */
#include "vs_common.bpf.h"

static __always_inline int on_pkt(__u64 *args, __u16 kind)
{
	struct vs_record *r;

	if (!addr_wanted((__u32)args[0], (__u32)args[1], (__u32)args[2],
			 (__u32)args[3]))
		return 0;
	if (kind == VS_EV_PKT_TX && !pid_wanted())
		return 0;
	r = rec_reserve(kind);
	if (!r)
		return 0;
	r->pkt.src_cid = (__u32)args[0];
	r->pkt.src_port = (__u32)args[1];
	r->pkt.dst_cid = (__u32)args[2];
	r->pkt.dst_port = (__u32)args[3];
	r->pkt.len = (__u32)args[4];
	r->pkt.type = (__u16)args[5];
	r->pkt.op = (__u16)args[6];
	r->pkt.flags = (__u32)args[7];
	if (kind == VS_EV_PKT_TX && cfg.alloc_pkt_zcopy) {
		r->pkt.zcopy = (__u8)args[8];
		r->flags |= VS_REC_ZCOPY;
	}
	if (kind == VS_EV_PKT_RX && cfg.recv_pkt_credit) {
		r->pkt.buf_alloc = (__u32)args[8];
		r->pkt.fwd_cnt = (__u32)args[9];
		r->flags |= VS_REC_CREDIT_HDR;
	}
	rec_submit(r);
	return 0;
}

VS_TP_VARIANTS(alloc_pkt, virtio_transport_alloc_pkt, on_pkt, VS_EV_PKT_TX)
VS_TP_VARIANTS(recv_pkt, virtio_transport_recv_pkt, on_pkt, VS_EV_PKT_RX)

/* the credit path: struct virtio_vsock_sock and its socket */
static __always_inline void emit_credit(__u8 op, struct virtio_vsock_sock *vvs,
					__u32 credit, __u32 granted)
{
	struct vsock_sock *vsk = BPF_CORE_READ(vvs, vsk);
	struct vs_record *r;
	__u32 lcid, lport, rcid, rport;

	lcid = BPF_CORE_READ(vsk, local_addr.svm_cid);
	lport = BPF_CORE_READ(vsk, local_addr.svm_port);
	rcid = BPF_CORE_READ(vsk, remote_addr.svm_cid);
	rport = BPF_CORE_READ(vsk, remote_addr.svm_port);
	if (!addr_wanted(lcid, lport, rcid, rport))
		return;
	if (op != VS_REC_CREDIT_UPD && !pid_wanted())
		return;
	r = rec_reserve(VS_REC_CREDIT);
	if (!r)
		return;
	r->credit.op = op;
	r->credit.src_cid = lcid;
	r->credit.src_port = lport;
	r->credit.dst_cid = rcid;
	r->credit.dst_port = rport;
	r->credit.credit = credit;
	r->credit.granted = granted;
	r->credit.tx_cnt = BPF_CORE_READ(vvs, tx_cnt);
	r->credit.peer_buf_alloc = BPF_CORE_READ(vvs, peer_buf_alloc);
	r->credit.peer_fwd_cnt = BPF_CORE_READ(vvs, peer_fwd_cnt);
	r->credit.buf_alloc = BPF_CORE_READ(vvs, buf_alloc);
	r->credit.fwd_cnt = BPF_CORE_READ(vvs, fwd_cnt);
	rec_submit(r);
}

/* per task, between kprobe and kretprobe: the vvs and the credit asked */
struct stash {
	__u64 ptr;
	__u64 arg;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct stash);
} vs_stash SEC(".maps");

static __always_inline void stash_put(__u64 ptr, __u64 arg)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct stash s = { .ptr = ptr, .arg = arg };

	bpf_map_update_elem(&vs_stash, &tid, &s, BPF_ANY);
}

static __always_inline bool stash_take(struct stash *out)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct stash *s;

	s = bpf_map_lookup_elem(&vs_stash, &tid);
	if (!s)
		return false;
	*out = *s;
	bpf_map_delete_elem(&vs_stash, &tid);
	return true;
}

/* u32 virtio_transport_get_credit(struct virtio_vsock_sock *vvs, u32 credit) */
SEC("fexit/virtio_transport_get_credit")
int BPF_PROG(get_credit_fexit, struct virtio_vsock_sock *vvs, __u32 credit,
	     __u32 ret)
{
	emit_credit(VS_REC_CREDIT_GET, vvs, credit, ret);
	return 0;
}

SEC("kprobe/virtio_transport_get_credit")
int BPF_KPROBE(get_credit_kprobe, struct virtio_vsock_sock *vvs, __u32 credit)
{
	stash_put((__u64)vvs, credit);
	return 0;
}

SEC("kretprobe/virtio_transport_get_credit")
int BPF_KRETPROBE(get_credit_kretprobe, __u32 ret)
{
	struct stash s;

	if (stash_take(&s))
		emit_credit(VS_REC_CREDIT_GET, (void *)s.ptr, (__u32)s.arg,
			    ret);
	return 0;
}

/* void virtio_transport_put_credit(struct virtio_vsock_sock *vvs, u32 credit) */
SEC("fentry/virtio_transport_put_credit")
int BPF_PROG(put_credit_fentry, struct virtio_vsock_sock *vvs, __u32 credit)
{
	emit_credit(VS_REC_CREDIT_PUT, vvs, credit, 0);
	return 0;
}

SEC("kprobe/virtio_transport_put_credit")
int BPF_KPROBE(put_credit_kprobe, struct virtio_vsock_sock *vvs, __u32 credit)
{
	emit_credit(VS_REC_CREDIT_PUT, vvs, credit, 0);
	return 0;
}

/* virtio_transport_send_credit_update(struct vsock_sock *vsk, ...): static,
 * so only where the compiler kept it a function */
SEC("fentry/virtio_transport_send_credit_update")
int BPF_PROG(send_credit_update_fentry, struct vsock_sock *vsk)
{
	emit_credit(VS_REC_CREDIT_UPD, BPF_CORE_READ(vsk, trans), 0, 0);
	return 0;
}

SEC("kprobe/virtio_transport_send_credit_update")
int BPF_KPROBE(send_credit_update_kprobe, struct vsock_sock *vsk)
{
	emit_credit(VS_REC_CREDIT_UPD, BPF_CORE_READ(vsk, trans), 0, 0);
	return 0;
}
