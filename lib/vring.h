/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The split virtqueue of VIRTIO 1.x ("Split Virtqueues"): descriptor table,
 * available ring, used ring, chained and indirect descriptors and
 * VIRTIO_F_EVENT_IDX notification suppression, over memory both sides map.
 *
 * Both sides live here: the driver (adds buffers, kicks, reclaims used
 * ones) and the device (pops available chains, pushes used ones, decides
 * whether to signal). Everything the device reads from the ring is checked
 * (indexes, chain loops and lengths, addresses inside guest memory); a bad
 * ring marks the queue broken and is an error, never a crash.
 *
 * Guest-physical addresses (what descriptors hold) are translated by a
 * struct vs_gmem: a flat region for the simulator, a memory table for a
 * vhost-user device.
 */
#ifndef VS_VRING_H
#define VS_VRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VS_VRING_DESC_F_NEXT 1
#define VS_VRING_DESC_F_WRITE 2
#define VS_VRING_DESC_F_INDIRECT 4
#define VS_VRING_AVAIL_F_NO_INTERRUPT 1
#define VS_VRING_USED_F_NO_NOTIFY 1
#define VS_VRING_F_INDIRECT_DESC 28 /* feature bits */
#define VS_VRING_F_EVENT_IDX 29

#define VS_VRING_MAX_NUM 32768 /* queue size: a power of 2 up to this */
#define VS_VRING_MAX_CHAIN 64  /* segments one popped chain may have */

/* guest memory: where a guest-physical range lives in this process */
struct vs_gmem_region {
	uint64_t gpa;  /* guest-physical start */
	uint64_t size;
	void *host;    /* where it is mapped here */
};

struct vs_gmem {
	unsigned int nregions;
	struct vs_gmem_region regions[8];
};

/*
 * vs_gmem_translate - a host pointer for [gpa, gpa + len), or NULL when any
 * byte of it is outside every region (or the range wraps around)
 */
void *vs_gmem_translate(const struct vs_gmem *m, uint64_t gpa, uint64_t len);

/* bytes the three parts of a ring of @num entries take, each aligned as the
 * spec requires (descriptors 16, avail 2, used 4) and laid out one after
 * the other from an aligned start; *_off are offsets from that start */
size_t vs_vring_size(unsigned int num, size_t *avail_off, size_t *used_off);

/* one segment of a buffer, as the driver gives it or the device gets it */
struct vs_vring_seg {
	uint64_t gpa;
	uint32_t len;
	bool write; /* device-writable */
	void *host; /* device side: translated pointer */
};

struct vs_vring {
	unsigned int num;
	bool event_idx;
	bool indirect; /* VIRTIO_F_INDIRECT_DESC negotiated */
	/* the three parts, in shared memory (little-endian fields) */
	void *desc;
	void *avail;
	void *used;
	/* driver side */
	uint16_t free_head;
	uint16_t num_free;
	uint16_t avail_idx;	/* next avail index to publish */
	uint16_t kicked_idx;	/* avail index at the last kick decision */
	uint16_t last_used;	/* next used entry to reclaim */
	void **tokens;		/* per head: the caller's token */
	uint16_t *chain_len;	/* per head: descriptors in the chain */
	/* device side */
	uint16_t last_avail;	/* next avail entry to pop */
	uint16_t used_idx;	/* next used index to publish */
	uint16_t signalled_used; /* used index at the last call decision */
	bool signalled_valid;
	bool broken;		/* a bad ring was seen: stop using it */
	char why[96];		/* what was wrong with it */
};

/*
 * Driver side. @mem is the ring's memory (vs_vring_size() bytes, 16-byte
 * aligned, zeroed here); @gpa is its guest-physical address, which the
 * device side is given (vs_vring_dev_init) to find the three parts.
 */
int vs_vring_drv_init(struct vs_vring *vq, void *mem, unsigned int num,
		      bool event_idx, bool indirect);
void vs_vring_drv_free(struct vs_vring *vq); /* the per-head arrays */
/*
 * vs_vring_drv_add - make @segs (readable ones first, then writable) one
 * chain and put it in the avail ring; @token comes back from get_used.
 * @indirect_mem/@indirect_gpa: room for @n descriptors to use an indirect
 * table instead of ring descriptors (NULL: chain in the ring).
 * Returns 0, -ENOSPC when the ring is full, -EINVAL.
 */
int vs_vring_drv_add(struct vs_vring *vq, const struct vs_vring_seg *segs,
		     unsigned int n, void *token, void *indirect_mem,
		     uint64_t indirect_gpa);
/* publish the added chains; true when the device wants a kick for them
 * (VRING_USED_F_NO_NOTIFY / avail_event with EVENT_IDX) */
bool vs_vring_drv_kick_prepare(struct vs_vring *vq);
/* a used chain: its token and the length the device wrote; NULL if none */
void *vs_vring_drv_get_used(struct vs_vring *vq, uint32_t *len);
/* ask for (or stop asking for) calls; enable returns false when used
 * entries arrived meanwhile (the caller should poll again) */
bool vs_vring_drv_enable_cb(struct vs_vring *vq);
void vs_vring_drv_disable_cb(struct vs_vring *vq);
unsigned int vs_vring_drv_num_free(const struct vs_vring *vq);

/*
 * Device side. The ring's parts are found through @gm at the addresses the
 * driver gave (desc, avail, used), each checked against guest memory.
 * Returns 0 or -EINVAL (out of guest memory, bad num).
 */
int vs_vring_dev_init(struct vs_vring *vq, const struct vs_gmem *gm,
		      unsigned int num, uint64_t desc_gpa, uint64_t avail_gpa,
		      uint64_t used_gpa, bool event_idx, bool indirect);
/*
 * vs_vring_dev_pop - the next available chain: its head and its segments
 * (translated, checked), up to VS_VRING_MAX_CHAIN. Returns the number of
 * segments (> 0), 0 when the ring is empty, -EINVAL when the ring is bad
 * (vq->broken set, vq->why says what).
 */
int vs_vring_dev_pop(struct vs_vring *vq, const struct vs_gmem *gm,
		     uint16_t *head, struct vs_vring_seg *segs);
/* give a chain back with @len bytes written into it */
void vs_vring_dev_push(struct vs_vring *vq, uint16_t head, uint32_t len);
/* after pushes: true when the driver wants a call (NO_INTERRUPT /
 * used_event with EVENT_IDX) */
bool vs_vring_dev_call_prepare(struct vs_vring *vq);
/* ask for (or stop asking for) kicks */
void vs_vring_dev_enable_notify(struct vs_vring *vq);
void vs_vring_dev_disable_notify(struct vs_vring *vq);
/* entries the driver has made available and the device not popped yet,
 * or -EINVAL when the avail index is impossible */
int vs_vring_dev_pending(struct vs_vring *vq);

/* (u16)(new - event - 1) < (u16)(new - old): the spec's vring_need_event */
static inline bool vs_vring_need_event(uint16_t event, uint16_t new_idx,
				       uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

#endif /* VS_VRING_H */
