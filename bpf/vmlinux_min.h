/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel types the programs of bpf/ use, written by hand: only the
 * fields they read, each struct marked preserve_access_index so libbpf
 * relocates every access against the running kernel's BTF (CO-RE). Nothing
 * here comes from the build host's kernel; the same header serves x86_64
 * and arm64 (-D__TARGET_ARCH_x86 / -D__TARGET_ARCH_arm64).
 *
 * A field that only some kernels have is read behind bpf_core_field_exists().
 */
#ifndef VS_VMLINUX_MIN_H
#define VS_VMLINUX_MIN_H

/* tells bpf_tracing.h the kernel's struct pt_regs names are in use */
#ifndef __VMLINUX_H__
#define __VMLINUX_H__
#endif

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
enum {
	false = 0,
	true = 1,
};

/* the BPF UAPI values the programs name */
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
};

struct bpf_raw_tracepoint_args {
	__u64 args[0];
};

#pragma clang attribute push(__attribute__((preserve_access_index)), \
			     apply_to = record)

/* kprobe register sets */
#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};
#elif defined(__TARGET_ARCH_arm64)
struct user_pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 pc;
	__u64 pstate;
};

struct pt_regs {
	union {
		struct user_pt_regs user_regs;
		struct {
			u64 regs[31];
			u64 sp;
			u64 pc;
			u64 pstate;
		};
	};
	u64 orig_x0;
};
#else
#error "bpf/vmlinux_min.h: set -D__TARGET_ARCH_x86 or -D__TARGET_ARCH_arm64"
#endif

/* interrupts */
struct irqaction {
	const char *name;
};

/* devices */
struct kobject {
	const char *name;
};

struct device {
	struct kobject kobj;
};

/* virtio and its rings */
struct virtio_device_id {
	__u32 device;
	__u32 vendor;
};

struct virtio_device {
	int index;
	struct device dev;
	struct virtio_device_id id;
};

struct virtqueue {
	const char *name;
	struct virtio_device *vdev;
	unsigned int index;
	unsigned int num_free;
	unsigned int num_max; /* 6.0+ */
};

struct vring {
	unsigned int num;
};

struct vring_virtqueue_split {
	struct vring vring;
	u16 avail_idx_shadow;
};

/* private to drivers/virtio/virtio_ring.c; split sits in an anonymous
 * union there, which CO-RE looks through */
struct vring_virtqueue {
	struct virtqueue vq;
	bool packed_ring;
	u16 last_used_idx;
	struct vring_virtqueue_split split;
};

/* mailbox, remoteproc, rpmsg */
struct mbox_chan;

struct mbox_controller {
	struct device *dev;
	struct mbox_chan *chans;
};

struct mbox_chan {
	struct mbox_controller *mbox;
};

struct rproc {
	const char *name;
};

struct rpmsg_device_id {
	char name[32];
};

struct rpmsg_device {
	struct device dev;
	struct rpmsg_device_id id;
	u32 src;
	u32 dst;
};

struct rpmsg_endpoint {
	struct rpmsg_device *rpdev;
	u32 addr;
};

/* vsock */
struct sockaddr_vm {
	unsigned int svm_port;
	unsigned int svm_cid;
};

struct vsock_sock {
	struct sockaddr_vm local_addr;
	struct sockaddr_vm remote_addr;
	void *trans; /* struct virtio_vsock_sock * on virtio transports */
};

struct virtio_vsock_sock {
	struct vsock_sock *vsk;
	u32 tx_cnt;
	u32 peer_fwd_cnt;
	u32 peer_buf_alloc;
	u32 fwd_cnt;
	u32 buf_alloc;
};

/* only ever pointed to */
struct page;
struct sk_buff;
struct virtio_vsock_pkt;

#pragma clang attribute pop

#endif /* VS_VMLINUX_MIN_H */
