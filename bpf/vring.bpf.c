// SPDX-License-Identifier: GPL-2.0-only
/*
 * Virtqueues, driver side: vring_interrupt (the device said "used"),
 * virtqueue_notify (kick), virtqueue_add_* (buffers posted) and
 * virtqueue_get_buf_ctx (a buffer taken back), with the device, the queue's
 * name and how many descriptors are in use, so vsock's rx/tx/event queues
 * are told apart from every other virtio device's.
 *
 * Each hook as fentry/fexit (BTF, cheapest) and as kprobe (+ kretprobe where
 * the result matters, the queue kept per task in between). These are
 * generic virtio functions: every virtio device of the system goes through
 * them. Only the queues of the devices vsockscope analyses make records
 * (vsock, and rpmsg for the vring + mailbox pairs), unless cfg.vq_all: a
 * busy disk or network card would otherwise make one per request, for
 * nothing. Userspace tells the devices apart by vs_rec_vq.dev_id.
 */
#include "vs_common.bpf.h"

/* kprobe → kretprobe: the queue, per task */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} vq_stash SEC(".maps");

/* VIRTIO_ID_* of the devices whose queues make records */
#define VS_VIRTIO_ID_RPMSG 7
#define VS_VIRTIO_ID_VSOCK 19

static __always_inline bool vq_wanted(struct virtqueue *vq)
{
	__u32 id;

	if (cfg.vq_all)
		return true;
	id = BPF_CORE_READ(vq, vdev, id.device);
	return id == VS_VIRTIO_ID_VSOCK || id == VS_VIRTIO_ID_RPMSG;
}

static __always_inline void emit_vq(__u16 kind, struct virtqueue *vq,
				    bool used)
{
	struct vring_virtqueue *vvq = (void *)vq; /* vq is its first member */
	struct virtio_device *vdev;
	struct vs_record *r;
	unsigned int size = 0, num_free;

	if (!vq_wanted(vq))
		return;
	r = rec_reserve(kind);
	if (!r)
		return;
	vdev = BPF_CORE_READ(vq, vdev);
	bpf_probe_read_kernel_str(r->vq.vq, sizeof(r->vq.vq),
				  BPF_CORE_READ(vq, name));
	bpf_probe_read_kernel_str(r->vq.dev, sizeof(r->vq.dev),
				  BPF_CORE_READ(vdev, dev.kobj.name));
	r->vq.dev_id = BPF_CORE_READ(vdev, id.device);
	r->vq.dev_index = BPF_CORE_READ(vdev, index);
	num_free = BPF_CORE_READ(vq, num_free);
	if (bpf_core_type_exists(struct vring_virtqueue) &&
	    !BPF_CORE_READ(vvq, packed_ring)) {
		size = BPF_CORE_READ(vvq, split.vring.num);
		if (used)
			r->vq.idx = BPF_CORE_READ(vvq, last_used_idx);
		else
			r->vq.idx = BPF_CORE_READ(vvq, split.avail_idx_shadow);
		r->flags |= VS_REC_IDX;
	} else if (bpf_core_field_exists(vq->num_max)) {
		size = BPF_CORE_READ(vq, num_max);
	}
	if (size && num_free <= size) {
		r->vq.num = size - num_free;
		r->flags |= VS_REC_NUM;
	}
	rec_submit(r);
}

static __always_inline void stash_vq(void *vq)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 v = (__u64)vq;

	if (!vq_wanted(vq))
		return;
	bpf_map_update_elem(&vq_stash, &tid, &v, BPF_ANY);
}

static __always_inline struct virtqueue *unstash_vq(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct virtqueue *vq = NULL;
	__u64 *v;

	v = bpf_map_lookup_elem(&vq_stash, &tid);
	if (v) {
		vq = (void *)*v;
		bpf_map_delete_elem(&vq_stash, &tid);
	}
	return vq;
}

/* vring_interrupt(int irq, void *vq) */
SEC("fentry/vring_interrupt")
int BPF_PROG(vring_interrupt_fentry, int irq, struct virtqueue *vq)
{
	emit_vq(VS_EV_VQ_IRQ, vq, true);
	return 0;
}

SEC("kprobe/vring_interrupt")
int BPF_KPROBE(vring_interrupt_kprobe, int irq, struct virtqueue *vq)
{
	emit_vq(VS_EV_VQ_IRQ, vq, true);
	return 0;
}

/* bool virtqueue_notify(struct virtqueue *vq) */
SEC("fentry/virtqueue_notify")
int BPF_PROG(virtqueue_notify_fentry, struct virtqueue *vq)
{
	emit_vq(VS_EV_VQ_KICK, vq, false);
	return 0;
}

SEC("kprobe/virtqueue_notify")
int BPF_KPROBE(virtqueue_notify_kprobe, struct virtqueue *vq)
{
	emit_vq(VS_EV_VQ_KICK, vq, false);
	return 0;
}

/*
 * The transport's notify callback: virtqueue_kick() reaches it through
 * vq->notify with virtqueue_notify() inlined (virtio_ring.c builds it into
 * its caller), so the kick is seen here: vp_notify (virtio-pci),
 * vm_notify (virtio-mmio, as on Android's crosvm).
 */
SEC("fentry/vp_notify")
int BPF_PROG(vp_notify_fentry, struct virtqueue *vq)
{
	emit_vq(VS_EV_VQ_KICK, vq, false);
	return 0;
}

SEC("kprobe/vp_notify")
int BPF_KPROBE(vp_notify_kprobe, struct virtqueue *vq)
{
	emit_vq(VS_EV_VQ_KICK, vq, false);
	return 0;
}

SEC("fentry/vm_notify")
int BPF_PROG(vm_notify_fentry, struct virtqueue *vq)
{
	emit_vq(VS_EV_VQ_KICK, vq, false);
	return 0;
}

SEC("kprobe/vm_notify")
int BPF_KPROBE(vm_notify_kprobe, struct virtqueue *vq)
{
	emit_vq(VS_EV_VQ_KICK, vq, false);
	return 0;
}

/*
 * int virtqueue_add_*(struct virtqueue *vq, ...): a buffer was posted when
 * it returns 0. fexit sees the arguments and the result; the kprobe pair
 * keeps the queue between entry and return.
 */
#define VQ_ADD_HOOK(fn, ...)                                                  \
	SEC("fexit/" #fn)                                                     \
	int BPF_PROG(fn##_fexit, struct virtqueue *vq, __VA_ARGS__, int ret) \
	{                                                                     \
		if (!ret)                                                     \
			emit_vq(VS_EV_VQ_ADD, vq, false);                     \
		return 0;                                                     \
	}                                                                     \
	SEC("kprobe/" #fn)                                                    \
	int BPF_KPROBE(fn##_kprobe, struct virtqueue *vq)                     \
	{                                                                     \
		stash_vq(vq);                                                 \
		return 0;                                                     \
	}                                                                     \
	SEC("kretprobe/" #fn)                                                 \
	int BPF_KRETPROBE(fn##_kretprobe, int ret)                            \
	{                                                                     \
		struct virtqueue *vq = unstash_vq();                          \
                                                                              \
		if (vq && !ret)                                               \
			emit_vq(VS_EV_VQ_ADD, vq, false);                     \
		return 0;                                                     \
	}

VQ_ADD_HOOK(virtqueue_add_outbuf, void *sg, unsigned int num, void *data,
	    unsigned int gfp)
VQ_ADD_HOOK(virtqueue_add_inbuf, void *sg, unsigned int num, void *data,
	    unsigned int gfp)
VQ_ADD_HOOK(virtqueue_add_inbuf_ctx, void *sg, unsigned int num, void *data,
	    void *vctx, unsigned int gfp)
VQ_ADD_HOOK(virtqueue_add_sgs, void *sgs, unsigned int out_sgs,
	    unsigned int in_sgs, void *data, unsigned int gfp)

/* void *virtqueue_get_buf_ctx(struct virtqueue *vq, unsigned int *len,
 *			       void **ctx): a buffer came back when non-NULL */
SEC("fexit/virtqueue_get_buf_ctx")
int BPF_PROG(virtqueue_get_buf_ctx_fexit, struct virtqueue *vq, void *len,
	     void *vctx, void *ret)
{
	if (ret)
		emit_vq(VS_EV_VQ_GET, vq, true);
	return 0;
}

SEC("kprobe/virtqueue_get_buf_ctx")
int BPF_KPROBE(virtqueue_get_buf_ctx_kprobe, struct virtqueue *vq)
{
	stash_vq(vq);
	return 0;
}

SEC("kretprobe/virtqueue_get_buf_ctx")
int BPF_KRETPROBE(virtqueue_get_buf_ctx_kretprobe, void *ret)
{
	struct virtqueue *vq = unstash_vq();

	if (vq && ret)
		emit_vq(VS_EV_VQ_GET, vq, true);
	return 0;
}
