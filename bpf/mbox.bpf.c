// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mailboxes and RPMsg, where the kernel has them: mbox_send_message (a
 * doorbell rung), mbox_chan_received_data (one answered), rproc_vq_interrupt
 * (a remote processor kicked one of its vrings) and rpmsg_send*. Each as
 * fentry and as kprobe; a hook the kernel lacks is left out by userspace.
 *
 * vs_rec_mbox.msg holds what the call carries: the mailbox message pointer,
 * the remoteproc notify id, the rpmsg payload length.
 */
#include "vs_common.bpf.h"

static __always_inline void emit_mbox_chan(__u16 kind, struct mbox_chan *chan,
					   void *msg)
{
	struct mbox_controller *mbox;
	struct vs_record *r;
	__u64 base, sz;

	r = rec_reserve(kind);
	if (!r)
		return;
	mbox = BPF_CORE_READ(chan, mbox);
	bpf_probe_read_kernel_str(r->mbox.chan, sizeof(r->mbox.chan),
				  BPF_CORE_READ(mbox, dev, kobj.name));
	base = (__u64)BPF_CORE_READ(mbox, chans);
	sz = bpf_core_type_size(struct mbox_chan);
	r->mbox.idx = -1;
	if (sz && base && (__u64)chan >= base)
		r->mbox.idx = (__s32)(((__u64)chan - base) / sz);
	r->mbox.msg = (__u64)msg;
	r->mbox.src = VS_REC_MBOX_CHAN;
	rec_submit(r);
}

static __always_inline void emit_rproc(struct rproc *rproc, int notifyid)
{
	struct vs_record *r;

	r = rec_reserve(VS_EV_MBOX_RX);
	if (!r)
		return;
	bpf_probe_read_kernel_str(r->mbox.chan, sizeof(r->mbox.chan),
				  BPF_CORE_READ(rproc, name));
	r->mbox.idx = -1;
	r->mbox.msg = (__u32)notifyid;
	r->mbox.src = VS_REC_MBOX_RPROC;
	rec_submit(r);
}

static __always_inline void emit_rpmsg(struct rpmsg_endpoint *ept, int len)
{
	struct rpmsg_device *rpdev;
	struct vs_record *r;

	r = rec_reserve(VS_EV_MBOX_TX);
	if (!r)
		return;
	rpdev = BPF_CORE_READ(ept, rpdev);
	bpf_core_read_str(r->mbox.chan, sizeof(r->mbox.chan), &rpdev->id.name);
	r->mbox.idx = (__s32)BPF_CORE_READ(ept, addr);
	r->mbox.msg = (__u32)len;
	r->mbox.src = VS_REC_MBOX_RPMSG;
	rec_submit(r);
}

/* int mbox_send_message(struct mbox_chan *chan, void *mssg) */
SEC("fentry/mbox_send_message")
int BPF_PROG(mbox_send_message_fentry, struct mbox_chan *chan, void *msg)
{
	emit_mbox_chan(VS_EV_MBOX_TX, chan, msg);
	return 0;
}

SEC("kprobe/mbox_send_message")
int BPF_KPROBE(mbox_send_message_kprobe, struct mbox_chan *chan, void *msg)
{
	emit_mbox_chan(VS_EV_MBOX_TX, chan, msg);
	return 0;
}

/* void mbox_chan_received_data(struct mbox_chan *chan, void *mssg) */
SEC("fentry/mbox_chan_received_data")
int BPF_PROG(mbox_chan_received_data_fentry, struct mbox_chan *chan,
	     void *msg)
{
	emit_mbox_chan(VS_EV_MBOX_RX, chan, msg);
	return 0;
}

SEC("kprobe/mbox_chan_received_data")
int BPF_KPROBE(mbox_chan_received_data_kprobe, struct mbox_chan *chan,
	       void *msg)
{
	emit_mbox_chan(VS_EV_MBOX_RX, chan, msg);
	return 0;
}

/* irqreturn_t rproc_vq_interrupt(struct rproc *rproc, int notifyid) */
SEC("fentry/rproc_vq_interrupt")
int BPF_PROG(rproc_vq_interrupt_fentry, struct rproc *rproc, int notifyid)
{
	emit_rproc(rproc, notifyid);
	return 0;
}

SEC("kprobe/rproc_vq_interrupt")
int BPF_KPROBE(rproc_vq_interrupt_kprobe, struct rproc *rproc, int notifyid)
{
	emit_rproc(rproc, notifyid);
	return 0;
}

/* int rpmsg_send*(struct rpmsg_endpoint *ept, void *data, int len, ...) */
#define RPMSG_HOOK(fn)                                                        \
	SEC("fentry/" #fn)                                                    \
	int BPF_PROG(fn##_fentry, struct rpmsg_endpoint *ept, void *data,     \
		     int len)                                                 \
	{                                                                     \
		emit_rpmsg(ept, len);                                         \
		return 0;                                                     \
	}                                                                     \
	SEC("kprobe/" #fn)                                                    \
	int BPF_KPROBE(fn##_kprobe, struct rpmsg_endpoint *ept, void *data,   \
		       int len)                                               \
	{                                                                     \
		emit_rpmsg(ept, len);                                         \
		return 0;                                                     \
	}

RPMSG_HOOK(rpmsg_send)
RPMSG_HOOK(rpmsg_sendto)
RPMSG_HOOK(rpmsg_trysend)
