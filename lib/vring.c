// SPDX-License-Identifier: GPL-2.0-only
/*
 * The split virtqueue of VIRTIO 1.x: see vring.h.
 *
 * Shared ring memory is only ever touched through the ld and st helpers
 * below: single atomic accesses (acquire/release on the idx fields,
 * relaxed elsewhere) with little-endian conversion. The device reads each
 * descriptor once into a local copy and checks that copy, so a driver that
 * rewrites the ring while we look at it cannot make us use a value other
 * than the one we checked.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vring.h"

/* sizes of the ring parts, as the spec gives them */
#define DESC_SIZE 16u
#define AVAIL_SIZE(num) (6u + 2u * (size_t)(num))
#define USED_SIZE(num) (6u + 8u * (size_t)(num))

/* a descriptor, host byte order */
struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* ---- shared memory accesses ------------------------------------------- */

static inline uint16_t ld16(const void *p, int order)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, order));
}

static inline void st16(void *p, uint16_t v, int order)
{
	__atomic_store_n((uint16_t *)p, htole16(v), order);
}

static inline uint32_t ld32(const void *p)
{
	return le32toh(__atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED));
}

static inline void st32(void *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, htole32(v), __ATOMIC_RELAXED);
}

static inline uint64_t ld64(const void *p)
{
	return le64toh(__atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED));
}

static inline void st64(void *p, uint64_t v)
{
	__atomic_store_n((uint64_t *)p, htole64(v), __ATOMIC_RELAXED);
}

static inline void fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* avail ring: flags, idx, ring[num], used_event (u16 each) */
static inline uint16_t *avail_flags(const struct vs_vring *vq)
{
	return (uint16_t *)vq->avail;
}

static inline uint16_t *avail_idx(const struct vs_vring *vq)
{
	return (uint16_t *)vq->avail + 1;
}

static inline uint16_t *avail_ring(const struct vs_vring *vq, uint16_t i)
{
	return (uint16_t *)vq->avail + 2 + (i & (vq->num - 1));
}

static inline uint16_t *used_event(const struct vs_vring *vq)
{
	return (uint16_t *)vq->avail + 2 + vq->num;
}

/* used ring: flags, idx (u16), ring[num] of { u32 id, u32 len },
 * avail_event (u16) */
static inline uint16_t *used_flags(const struct vs_vring *vq)
{
	return (uint16_t *)vq->used;
}

static inline uint16_t *used_idx(const struct vs_vring *vq)
{
	return (uint16_t *)vq->used + 1;
}

static inline uint32_t *used_elem(const struct vs_vring *vq, uint16_t i)
{
	return (uint32_t *)((char *)vq->used + 4 +
			    8 * (size_t)(i & (vq->num - 1)));
}

static inline uint16_t *avail_event(const struct vs_vring *vq)
{
	return (uint16_t *)((char *)vq->used + 4 + 8 * (size_t)vq->num);
}

static inline char *desc_at(const struct vs_vring *vq, uint16_t i)
{
	return (char *)vq->desc + DESC_SIZE * i;
}

/* one descriptor from shared memory, each field read exactly once */
static void desc_read(const void *p, struct desc *d)
{
	const char *c = p;

	if (!((uintptr_t)p & 7)) {
		d->addr = ld64(c);
		d->len = ld32(c + 8);
		d->flags = ld16(c + 12, __ATOMIC_RELAXED);
		d->next = ld16(c + 14, __ATOMIC_RELAXED);
	} else {
		/* an indirect table need not be aligned */
		const volatile unsigned char *v = p;
		unsigned char b[DESC_SIZE];
		uint64_t a;
		uint32_t l;
		uint16_t f, n;

		for (unsigned int i = 0; i < DESC_SIZE; i++)
			b[i] = v[i];
		memcpy(&a, b, 8);
		memcpy(&l, b + 8, 4);
		memcpy(&f, b + 12, 2);
		memcpy(&n, b + 14, 2);
		d->addr = le64toh(a);
		d->len = le32toh(l);
		d->flags = le16toh(f);
		d->next = le16toh(n);
	}
}

/* ring descriptors (16-byte aligned) */
static void desc_write(void *p, uint64_t addr, uint32_t len, uint16_t flags,
		       uint16_t next)
{
	char *c = p;

	st64(c, addr);
	st32(c + 8, len);
	st16(c + 12, flags, __ATOMIC_RELAXED);
	st16(c + 14, next, __ATOMIC_RELAXED);
}

/* indirect tables: private until published, any alignment */
static void desc_write_any(void *p, uint64_t addr, uint32_t len,
			   uint16_t flags, uint16_t next)
{
	unsigned char b[DESC_SIZE];
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);
	uint16_t f = htole16(flags), n = htole16(next);

	memcpy(b, &a, 8);
	memcpy(b + 8, &l, 4);
	memcpy(b + 12, &f, 2);
	memcpy(b + 14, &n, 2);
	memcpy(p, b, DESC_SIZE);
}

static bool num_ok(unsigned int num)
{
	return num && num <= VS_VRING_MAX_NUM && !(num & (num - 1));
}

/* mark the queue broken (the first reason stays) and return -EINVAL */
static int __attribute__((format(printf, 2, 3)))
broken(struct vs_vring *vq, const char *fmt, ...)
{
	va_list ap;

	if (!vq->broken) {
		va_start(ap, fmt);
		vsnprintf(vq->why, sizeof(vq->why), fmt, ap);
		va_end(ap);
		vq->broken = true;
	}
	return -EINVAL;
}

/* ---- guest memory ------------------------------------------------------ */

void *vs_gmem_translate(const struct vs_gmem *m, uint64_t gpa, uint64_t len)
{
	unsigned int n;

	if (!m || len > UINT64_MAX - gpa)
		return NULL; /* gpa + len wraps */
	n = m->nregions;
	if (n > sizeof(m->regions) / sizeof(m->regions[0]))
		n = sizeof(m->regions) / sizeof(m->regions[0]);
	for (unsigned int i = 0; i < n; i++) {
		const struct vs_gmem_region *r = &m->regions[i];
		uint64_t off;

		if (!r->host || gpa < r->gpa)
			continue;
		off = gpa - r->gpa;
		/* even an empty range must start inside the region */
		if (off >= r->size || len > r->size - off)
			continue;
		return (char *)r->host + off;
	}
	return NULL;
}

/* ---- layout ------------------------------------------------------------ */

size_t vs_vring_size(unsigned int num, size_t *avail_off, size_t *used_off)
{
	size_t a, u;

	if (!num_ok(num))
		return 0;
	a = DESC_SIZE * (size_t)num;		/* 16 * num: 2-aligned */
	u = (a + AVAIL_SIZE(num) + 3) & ~(size_t)3;
	if (avail_off)
		*avail_off = a;
	if (used_off)
		*used_off = u;
	return u + USED_SIZE(num);
}

/* ---- driver side ------------------------------------------------------- */

int vs_vring_drv_init(struct vs_vring *vq, void *mem, unsigned int num,
		      bool event_idx, bool indirect)
{
	size_t aoff, uoff, size;

	memset(vq, 0, sizeof(*vq));
	if (!num_ok(num) || !mem || ((uintptr_t)mem & 15))
		return -EINVAL;
	size = vs_vring_size(num, &aoff, &uoff);
	memset(mem, 0, size);
	vq->num = num;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->desc = mem;
	vq->avail = (char *)mem + aoff;
	vq->used = (char *)mem + uoff;
	vq->tokens = calloc(num, sizeof(*vq->tokens));
	vq->chain_len = calloc(num, sizeof(*vq->chain_len));
	if (!vq->tokens || !vq->chain_len) {
		vs_vring_drv_free(vq);
		return -ENOMEM;
	}
	/* the free list: 0 -> 1 -> ... -> num - 1 */
	for (unsigned int i = 0; i < num; i++)
		desc_write(desc_at(vq, (uint16_t)i), 0, 0, 0,
			   (uint16_t)(i + 1));
	vq->free_head = 0;
	vq->num_free = (uint16_t)num;
	return 0;
}

void vs_vring_drv_free(struct vs_vring *vq)
{
	free(vq->tokens);
	free(vq->chain_len);
	vq->tokens = NULL;
	vq->chain_len = NULL;
}

int vs_vring_drv_add(struct vs_vring *vq, const struct vs_vring_seg *segs,
		     unsigned int n, void *token, void *indirect_mem,
		     uint64_t indirect_gpa)
{
	uint16_t head, idx;

	if (vq->broken || !vq->tokens || !segs || !n || n > vq->num)
		return -EINVAL;
	for (unsigned int i = 1; i < n; i++)
		if (segs[i - 1].write && !segs[i].write)
			return -EINVAL; /* readable after writable */

	head = vq->free_head;
	if (indirect_mem && vq->indirect) {
		if (!vq->num_free)
			return -ENOSPC;
		for (unsigned int i = 0; i < n; i++) {
			uint16_t f = segs[i].write ? VS_VRING_DESC_F_WRITE : 0;

			if (i + 1 < n)
				f |= VS_VRING_DESC_F_NEXT;
			desc_write_any((char *)indirect_mem + DESC_SIZE * i,
				       segs[i].gpa, segs[i].len, f,
				       i + 1 < n ? (uint16_t)(i + 1) : 0);
		}
		vq->free_head = ld16(desc_at(vq, head) + 14, __ATOMIC_RELAXED);
		desc_write(desc_at(vq, head), indirect_gpa,
			   (uint32_t)(DESC_SIZE * n), VS_VRING_DESC_F_INDIRECT,
			   vq->free_head);
		vq->num_free--;
		vq->chain_len[head] = 1;
	} else {
		if (vq->num_free < n)
			return -ENOSPC;
		/* the chain follows the free list's next links */
		idx = head;
		for (unsigned int i = 0; i < n; i++) {
			char *d = desc_at(vq, idx);
			uint16_t next = ld16(d + 14, __ATOMIC_RELAXED);
			uint16_t f = segs[i].write ? VS_VRING_DESC_F_WRITE : 0;

			if (i + 1 < n)
				f |= VS_VRING_DESC_F_NEXT;
			desc_write(d, segs[i].gpa, segs[i].len, f, next);
			idx = next;
		}
		vq->free_head = idx;
		vq->num_free -= (uint16_t)n;
		vq->chain_len[head] = (uint16_t)n;
	}
	vq->tokens[head] = token;
	st16(avail_ring(vq, vq->avail_idx), head, __ATOMIC_RELAXED);
	vq->avail_idx++;
	return 0;
}

bool vs_vring_drv_kick_prepare(struct vs_vring *vq)
{
	uint16_t old = vq->kicked_idx, new_idx = vq->avail_idx;

	/* the ring entries and descriptors before the index */
	st16(avail_idx(vq), new_idx, __ATOMIC_RELEASE);
	/* the index before reading what the device asked for */
	fence();
	vq->kicked_idx = new_idx;
	if (new_idx == old)
		return false;
	if (vq->event_idx)
		return vs_vring_need_event(ld16(avail_event(vq),
						__ATOMIC_RELAXED),
					   new_idx, old);
	return !(ld16(used_flags(vq), __ATOMIC_RELAXED) &
		 VS_VRING_USED_F_NO_NOTIFY);
}

void *vs_vring_drv_get_used(struct vs_vring *vq, uint32_t *len)
{
	uint32_t *e;
	uint32_t id, l;
	uint16_t idx, last, cnt;
	void *token;

	if (vq->broken || !vq->tokens)
		return NULL;
	if (ld16(used_idx(vq), __ATOMIC_ACQUIRE) == vq->last_used)
		return NULL;
	e = used_elem(vq, vq->last_used);
	id = ld32(e);
	l = ld32(e + 1);
	if (id >= vq->num || !vq->chain_len[id]) {
		broken(vq, "used id %u is not an outstanding head", id);
		return NULL;
	}
	/* back to the free list: walk to the chain's last descriptor */
	last = (uint16_t)id;
	cnt = vq->chain_len[id];
	for (uint16_t i = 1; i < cnt; i++) {
		idx = ld16(desc_at(vq, last) + 14, __ATOMIC_RELAXED);
		if (idx >= vq->num) {
			broken(vq, "descriptor %u: next %u rewritten", last,
			       idx);
			return NULL;
		}
		last = idx;
	}
	st16(desc_at(vq, last) + 14, vq->free_head, __ATOMIC_RELAXED);
	vq->free_head = (uint16_t)id;
	vq->num_free += cnt;
	vq->chain_len[id] = 0;
	token = vq->tokens[id];
	vq->tokens[id] = NULL;
	vq->last_used++;
	if (len)
		*len = l;
	return token;
}

bool vs_vring_drv_enable_cb(struct vs_vring *vq)
{
	if (vq->event_idx)
		st16(used_event(vq), vq->last_used, __ATOMIC_RELAXED);
	else
		st16(avail_flags(vq), 0, __ATOMIC_RELAXED);
	/* the request before looking for entries that came meanwhile */
	fence();
	return ld16(used_idx(vq), __ATOMIC_ACQUIRE) == vq->last_used;
}

void vs_vring_drv_disable_cb(struct vs_vring *vq)
{
	/*
	 * With EVENT_IDX the flags must stay 0: ask for a call at an index
	 * just behind, which the device reaches again only after wrapping.
	 */
	if (vq->event_idx)
		st16(used_event(vq), (uint16_t)(vq->last_used - 1),
		     __ATOMIC_RELAXED);
	else
		st16(avail_flags(vq), VS_VRING_AVAIL_F_NO_INTERRUPT,
		     __ATOMIC_RELAXED);
}

unsigned int vs_vring_drv_num_free(const struct vs_vring *vq)
{
	return vq->num_free;
}

/* ---- device side ------------------------------------------------------- */

static void *ring_part(struct vs_vring *vq, const struct vs_gmem *gm,
		       const char *what, uint64_t gpa, size_t size,
		       unsigned int align)
{
	void *p = vs_gmem_translate(gm, gpa, size);

	if (!p) {
		broken(vq, "%s ring at 0x%llx+%zu is outside guest memory",
		       what, (unsigned long long)gpa, size);
		return NULL;
	}
	if ((gpa | (uintptr_t)p) & (align - 1)) {
		broken(vq, "%s ring at 0x%llx is not %u-byte aligned", what,
		       (unsigned long long)gpa, align);
		return NULL;
	}
	return p;
}

int vs_vring_dev_init(struct vs_vring *vq, const struct vs_gmem *gm,
		      unsigned int num, uint64_t desc_gpa, uint64_t avail_gpa,
		      uint64_t used_gpa, bool event_idx, bool indirect)
{
	memset(vq, 0, sizeof(*vq));
	if (!num_ok(num))
		return broken(vq, "queue size %u is not a power of 2 <= %u",
			      num, VS_VRING_MAX_NUM);
	vq->num = num;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->desc = ring_part(vq, gm, "descriptor", desc_gpa,
			     DESC_SIZE * (size_t)num, 16);
	if (!vq->desc)
		return -EINVAL;
	vq->avail = ring_part(vq, gm, "avail", avail_gpa, AVAIL_SIZE(num), 2);
	if (!vq->avail)
		return -EINVAL;
	vq->used = ring_part(vq, gm, "used", used_gpa, USED_SIZE(num), 4);
	if (!vq->used)
		return -EINVAL;
	return 0;
}

int vs_vring_dev_pending(struct vs_vring *vq)
{
	uint16_t n;

	if (vq->broken)
		return -EINVAL;
	n = ld16(avail_idx(vq), __ATOMIC_ACQUIRE) - vq->last_avail;
	if (n > vq->num)
		return broken(vq, "avail idx is %u ahead of %u, queue size %u",
			      n, vq->last_avail, vq->num);
	return n;
}

int vs_vring_dev_pop(struct vs_vring *vq, const struct vs_gmem *gm,
		     uint16_t *head, struct vs_vring_seg *segs)
{
	const char *table;	/* the descriptor table being walked */
	unsigned int size;	/* its entries */
	unsigned int steps = 0;	/* descriptors read from it */
	unsigned int nseg = 0;
	bool indirect = false, seen_write = false;
	uint64_t total = 0;
	uint16_t idx;
	int n;

	n = vs_vring_dev_pending(vq); /* acquire: pairs with kick_prepare */
	if (n <= 0)
		return n;
	idx = ld16(avail_ring(vq, vq->last_avail), __ATOMIC_RELAXED);
	if (idx >= vq->num)
		return broken(vq, "avail[%u]: head %u >= queue size %u",
			      vq->last_avail, idx, vq->num);
	*head = idx;
	table = vq->desc;
	size = vq->num;
	for (;;) {
		struct desc d;
		bool w;

		if (idx >= size)
			return broken(vq, "%s descriptor %u: next %u >= %u",
				      indirect ? "indirect" : "ring",
				      *head, idx, size);
		if (++steps > size)
			return broken(vq, "chain at %u loops (%s table of %u)",
				      *head, indirect ? "indirect" : "ring",
				      size);
		desc_read(table + DESC_SIZE * idx, &d);
		if (d.flags & VS_VRING_DESC_F_INDIRECT) {
			if (!vq->indirect)
				return broken(vq, "chain at %u: indirect "
					      "descriptor not negotiated",
					      *head);
			if (indirect)
				return broken(vq, "chain at %u: nested "
					      "indirect table", *head);
			if (d.flags & VS_VRING_DESC_F_NEXT)
				return broken(vq, "chain at %u: indirect "
					      "descriptor with NEXT", *head);
			if (!d.len || d.len % DESC_SIZE)
				return broken(vq, "chain at %u: indirect "
					      "table length %u", *head, d.len);
			table = vs_gmem_translate(gm, d.addr, d.len);
			if (!table)
				return broken(vq, "chain at %u: indirect table "
					      "0x%llx+%u outside guest memory",
					      *head,
					      (unsigned long long)d.addr,
					      d.len);
			size = d.len / DESC_SIZE;
			indirect = true;
			steps = 0;
			idx = 0;
			continue;
		}
		if (nseg == VS_VRING_MAX_CHAIN)
			return broken(vq, "chain at %u: more than %u segments",
				      *head, VS_VRING_MAX_CHAIN);
		w = d.flags & VS_VRING_DESC_F_WRITE;
		if (seen_write && !w)
			return broken(vq, "chain at %u: readable descriptor "
				      "after a writable one", *head);
		seen_write = w;
		total += d.len;
		if (total > UINT32_MAX)
			return broken(vq, "chain at %u: total length exceeds "
				      "4 GiB", *head);
		segs[nseg].host = vs_gmem_translate(gm, d.addr, d.len);
		if (!segs[nseg].host)
			return broken(vq, "chain at %u: buffer 0x%llx+%u "
				      "outside guest memory", *head,
				      (unsigned long long)d.addr, d.len);
		segs[nseg].gpa = d.addr;
		segs[nseg].len = d.len;
		segs[nseg].write = w;
		nseg++;
		if (!(d.flags & VS_VRING_DESC_F_NEXT))
			break;
		idx = d.next;
	}
	vq->last_avail++;
	return (int)nseg;
}

void vs_vring_dev_push(struct vs_vring *vq, uint16_t head, uint32_t len)
{
	uint32_t *e = used_elem(vq, vq->used_idx);

	st32(e, head);
	st32(e + 1, len);
	vq->used_idx++;
	/* the element before the index */
	st16(used_idx(vq), vq->used_idx, __ATOMIC_RELEASE);
}

bool vs_vring_dev_call_prepare(struct vs_vring *vq)
{
	uint16_t old = vq->signalled_used, new_idx = vq->used_idx;
	bool valid = vq->signalled_valid;

	vq->signalled_used = new_idx;
	vq->signalled_valid = true;
	/* the published used idx before reading what the driver asked for */
	fence();
	if (vq->event_idx) {
		/* no decision yet since init: we cannot know, so call */
		if (!valid)
			return true;
		return vs_vring_need_event(ld16(used_event(vq),
						__ATOMIC_RELAXED),
					   new_idx, old);
	}
	if (valid && new_idx == old)
		return false;
	return !(ld16(avail_flags(vq), __ATOMIC_RELAXED) &
		 VS_VRING_AVAIL_F_NO_INTERRUPT);
}

void vs_vring_dev_enable_notify(struct vs_vring *vq)
{
	if (vq->event_idx)
		st16(avail_event(vq), vq->last_avail, __ATOMIC_RELAXED);
	else
		st16(used_flags(vq), 0, __ATOMIC_RELAXED);
	/* the request before the caller looks at avail idx again */
	fence();
}

void vs_vring_dev_disable_notify(struct vs_vring *vq)
{
	/* as drv_disable_cb: with EVENT_IDX an index just behind */
	if (vq->event_idx)
		st16(avail_event(vq), (uint16_t)(vq->last_avail - 1),
		     __ATOMIC_RELAXED);
	else
		st16(used_flags(vq), VS_VRING_USED_F_NO_NOTIFY,
		     __ATOMIC_RELAXED);
}
