// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the split virtqueue (lib/vring.c), written against
 * vring.h: guest memory translation, the layout, driver add -> device pop
 * -> device push -> driver get_used with chains and indirect tables,
 * free-running indexes past 65535, notification suppression with and
 * without EVENT_IDX, and hostile rings the device must refuse without
 * reading outside guest memory (these run under ASan in make check: guest
 * memory is one heap block of exactly its size).
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"
#include "vring.h"

#define GBASE 0x100000ull	/* guest-physical address of guest memory */
#define GSIZE (1u << 20)
#define DATA 0x80000u		/* offset of the buffers in guest memory */

struct env {
	struct vs_gmem gm;
	unsigned char *mem;	/* guest memory; the ring is at its start */
	unsigned int num;
	size_t aoff, uoff;
	struct vs_vring drv, dev;
	uint16_t raw_avail;	/* avail idx when crafting rings by hand */
};

static bool env_init(struct env *e, unsigned int num, bool event_idx,
		     bool indirect)
{
	memset(e, 0, sizeof(*e));
	e->mem = aligned_alloc(4096, GSIZE);
	CHECK(e->mem != NULL);
	if (!e->mem)
		return false;
	memset(e->mem, 0, GSIZE);
	e->gm.nregions = 1;
	e->gm.regions[0].gpa = GBASE;
	e->gm.regions[0].size = GSIZE;
	e->gm.regions[0].host = e->mem;
	e->num = num;
	CHECK(vs_vring_size(num, &e->aoff, &e->uoff) > 0);
	CHECK(vs_vring_drv_init(&e->drv, e->mem, num, event_idx, indirect) ==
	      0);
	CHECK(vs_vring_dev_init(&e->dev, &e->gm, num, GBASE, GBASE + e->aoff,
				GBASE + e->uoff, event_idx, indirect) == 0);
	return !vs_check_failed;
}

static void env_fini(struct env *e)
{
	vs_vring_drv_free(&e->drv);
	free(e->mem);
	e->mem = NULL;
}

/* raw little-endian fields of the ring in guest memory */
static uint16_t *raw16(struct env *e, size_t off)
{
	return (uint16_t *)(e->mem + off);
}

static uint16_t avail_flags(struct env *e)
{
	return le16toh(*raw16(e, e->aoff));
}

static uint16_t used_event(struct env *e)
{
	return le16toh(*raw16(e, e->aoff + 4 + 2 * e->num));
}

static uint16_t used_flags(struct env *e)
{
	return le16toh(*raw16(e, e->uoff));
}

static uint16_t avail_event(struct env *e)
{
	return le16toh(*raw16(e, e->uoff + 4 + 8 * e->num));
}

/* write descriptor @i of the table at host @table */
static void put_desc(void *table, unsigned int i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	unsigned char *d = (unsigned char *)table + 16 * i;
	uint64_t a = htole64(addr);
	uint32_t l = htole32(len);
	uint16_t f = htole16(flags), n = htole16(next);

	memcpy(d, &a, 8);
	memcpy(d + 8, &l, 4);
	memcpy(d + 12, &f, 2);
	memcpy(d + 14, &n, 2);
}

static void raw_desc(struct env *e, unsigned int i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	put_desc(e->mem, i, addr, len, flags, next);
}

static uint16_t desc_flags(struct env *e, unsigned int i)
{
	return le16toh(*raw16(e, 16 * i + 12));
}

static uint32_t desc_len(struct env *e, unsigned int i)
{
	uint32_t l;

	memcpy(&l, e->mem + 16 * i + 8, 4);
	return le32toh(l);
}

/* make @head available and publish it, as a driver would */
static void raw_avail(struct env *e, uint16_t head)
{
	*raw16(e, e->aoff + 4 + 2 * (e->raw_avail % e->num)) = htole16(head);
	e->raw_avail++;
	*raw16(e, e->aoff + 2) = htole16(e->raw_avail);
}

static void set_avail_idx(struct env *e, uint16_t idx)
{
	*raw16(e, e->aoff + 2) = htole16(idx);
}

static uint64_t gpa(uint32_t off)
{
	return GBASE + off;
}

/* one readable segment of @len bytes at data offset @off */
static int add1(struct env *e, uint32_t off, uint32_t len, void *token)
{
	struct vs_vring_seg s = { .gpa = gpa(DATA + off), .len = len };

	return vs_vring_drv_add(&e->drv, &s, 1, token, NULL, 0);
}

static int pop(struct env *e, uint16_t *head, struct vs_vring_seg *segs)
{
	return vs_vring_dev_pop(&e->dev, &e->gm, head, segs);
}

/* the device has popped, pushed and the driver reclaimed everything */
static void drain(struct env *e)
{
	struct vs_vring_seg segs[VS_VRING_MAX_CHAIN];
	uint16_t head;

	while (pop(e, &head, segs) > 0)
		vs_vring_dev_push(&e->dev, head, 0);
	while (vs_vring_drv_get_used(&e->drv, NULL))
		;
}

/* the device refuses the ring, says why, and keeps refusing */
static void expect_broken(struct env *e)
{
	struct vs_vring_seg segs[VS_VRING_MAX_CHAIN];
	uint16_t head;
	int r;

	r = pop(e, &head, segs);
	CHECK_EQ_U(r, (uint64_t)-EINVAL);
	CHECK(e->dev.broken);
	CHECK(e->dev.why[0] != '\0');
	CHECK(strlen(e->dev.why) < sizeof(e->dev.why));
	CHECK(pop(e, &head, segs) == -EINVAL);
	CHECK(vs_vring_dev_pending(&e->dev) == -EINVAL);
}

/* ---- guest memory and layout -------------------------------------------- */

static void t_gmem_translate(void)
{
	static unsigned char a[4096], b[256], top[4096];
	struct vs_gmem m;

	memset(&m, 0, sizeof(m));
	CHECK(vs_gmem_translate(&m, 0, 1) == NULL);
	m.nregions = 3;
	m.regions[0] = (struct vs_gmem_region){ 0x1000, sizeof(a), a };
	m.regions[1] = (struct vs_gmem_region){ 0x2000, sizeof(b), b };
	m.regions[2] = (struct vs_gmem_region){ UINT64_MAX - 4095,
						sizeof(top), top };
	CHECK(vs_gmem_translate(&m, 0x1000, 4096) == (void *)a);
	CHECK(vs_gmem_translate(&m, 0x1010, 16) == (void *)(a + 16));
	CHECK(vs_gmem_translate(&m, 0x1fff, 1) == (void *)(a + 4095));
	CHECK(vs_gmem_translate(&m, 0x2000, 0) == (void *)b);
	CHECK(vs_gmem_translate(&m, 0x20ff, 1) == (void *)(b + 255));
	CHECK(vs_gmem_translate(&m, 0x0fff, 2) == NULL);   /* below */
	CHECK(vs_gmem_translate(&m, 0x1000, 4097) == NULL); /* past end */
	/* contiguous guest-physical, but two host mappings */
	CHECK(vs_gmem_translate(&m, 0x1ff0, 32) == NULL);
	CHECK(vs_gmem_translate(&m, 0x2100, 1) == NULL);
	CHECK(vs_gmem_translate(&m, 0x20f0, UINT64_MAX) == NULL);
	/* gpa + len wraps 2^64 */
	CHECK(vs_gmem_translate(&m, UINT64_MAX - 15, 32) == NULL);
	CHECK(vs_gmem_translate(&m, UINT64_MAX - 15, 16) == NULL);
	CHECK(vs_gmem_translate(&m, UINT64_MAX - 15, 15) == (void *)(top +
								      4080));
	CHECK(vs_gmem_translate(&m, 0x1000, UINT64_MAX) == NULL);
	/* a bogus region count reads no further than the table */
	m.nregions = 1000;
	CHECK(vs_gmem_translate(&m, 0x3000, 1) == NULL);
}

static void t_layout(void)
{
	static const unsigned int nums[] = { 1, 2, 4, 8, 64, 256, 1024,
					     32768 };
	size_t a, u, s;

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		unsigned int n = nums[i];

		s = vs_vring_size(n, &a, &u);
		CHECK_EQ_U(a, 16 * n);	/* descriptors at 0 */
		CHECK_EQ_U(a % 2, 0);
		CHECK_EQ_U(u % 4, 0);
		CHECK(u >= a + 6 + 2 * n && u < a + 6 + 2 * n + 4);
		CHECK_EQ_U(s, u + 6 + 8 * n);
		CHECK_EQ_U(vs_vring_size(n, NULL, NULL), s);
	}
	CHECK_EQ_U(vs_vring_size(1, &a, &u), 38);
	CHECK_EQ_U(a, 16);
	CHECK_EQ_U(u, 24);
	CHECK_EQ_U(vs_vring_size(2, &a, &u), 66);
	CHECK_EQ_U(u, 44);
	CHECK_EQ_U(vs_vring_size(256, &a, &u), 6670);
	CHECK_EQ_U(a, 4096);
	CHECK_EQ_U(u, 4616);
	CHECK_EQ_U(vs_vring_size(0, NULL, NULL), 0);
	CHECK_EQ_U(vs_vring_size(3, NULL, NULL), 0);
	CHECK_EQ_U(vs_vring_size(65536, NULL, NULL), 0);
}

static void t_drv_init(void)
{
	struct vs_vring vq;
	size_t s = vs_vring_size(16, NULL, NULL);
	void *p = NULL;
	unsigned char *mem;

	CHECK(posix_memalign(&p, 16, s + 1) == 0);
	if (!p)
		return;
	mem = p;
	CHECK(vs_vring_drv_init(&vq, mem, 0, false, false) == -EINVAL);
	CHECK(vs_vring_drv_init(&vq, mem, 12, false, false) == -EINVAL);
	CHECK(vs_vring_drv_init(&vq, mem, 65536, false, false) == -EINVAL);
	CHECK(vs_vring_drv_init(&vq, mem + 8, 16, false, false) == -EINVAL);
	CHECK(vs_vring_drv_init(&vq, NULL, 16, false, false) == -EINVAL);
	memset(mem, 0xaa, s + 1);
	CHECK(vs_vring_drv_init(&vq, mem, 16, true, true) == 0);
	CHECK_EQ_U(vs_vring_drv_num_free(&vq), 16);
	CHECK(vq.tokens != NULL && vq.chain_len != NULL);
	/* the free list is in the descriptors; all else is zero */
	for (unsigned int i = 0; i < 16; i++) {
		uint16_t next;

		memcpy(&next, mem + 16 * i + 14, 2);
		CHECK_EQ_U(le16toh(next), i + 1);
		for (unsigned int j = 0; j < 14; j++)
			CHECK_EQ_U(mem[16 * i + j], 0);
	}
	for (size_t i = 16 * 16; i < s; i++)
		CHECK_EQ_U(mem[i], 0);
	CHECK_EQ_U(mem[s], 0xaa); /* not one byte more */
	vs_vring_drv_free(&vq);
	CHECK(vq.tokens == NULL && vq.chain_len == NULL);
	free(mem);
}

/* ---- round trips ------------------------------------------------------- */

static void t_roundtrip(void)
{
	struct env e;
	struct vs_vring_seg segs[VS_VRING_MAX_CHAIN];
	uint16_t head;
	uint32_t len = 0;
	int tok;

	if (!env_init(&e, 8, false, false))
		goto out;
	memcpy(e.mem + DATA, "hello", 5);
	CHECK(vs_vring_drv_get_used(&e.drv, &len) == NULL);
	CHECK(pop(&e, &head, segs) == 0);
	CHECK(add1(&e, 0, 5, &tok) == 0);
	CHECK_EQ_U(vs_vring_drv_num_free(&e.drv), 7);
	/* not published before kick_prepare */
	CHECK(vs_vring_dev_pending(&e.dev) == 0);
	CHECK(pop(&e, &head, segs) == 0);
	CHECK(vs_vring_drv_kick_prepare(&e.drv));
	CHECK(vs_vring_dev_pending(&e.dev) == 1);
	CHECK(pop(&e, &head, segs) == 1);
	CHECK_EQ_U(head, 0);
	CHECK_EQ_U(segs[0].gpa, gpa(DATA));
	CHECK_EQ_U(segs[0].len, 5);
	CHECK(!segs[0].write);
	CHECK(segs[0].host == (void *)(e.mem + DATA));
	CHECK(!memcmp(segs[0].host, "hello", 5));
	CHECK(pop(&e, &head, segs) == 0);
	CHECK(vs_vring_drv_get_used(&e.drv, &len) == NULL);
	vs_vring_dev_push(&e.dev, head, 0);
	CHECK(vs_vring_dev_call_prepare(&e.dev));
	CHECK(vs_vring_drv_get_used(&e.drv, &len) == &tok);
	CHECK_EQ_U(len, 0);
	CHECK(vs_vring_drv_get_used(&e.drv, &len) == NULL);
	CHECK_EQ_U(vs_vring_drv_num_free(&e.drv), 8);
	CHECK(!e.drv.broken && !e.dev.broken);
out:
	env_fini(&e);
}

static void t_chain_rw(void)
{
	struct env e;
	struct vs_vring_seg in[5], all[16], segs[VS_VRING_MAX_CHAIN];
	uint16_t heads[3];
	uint32_t len;
	int toks[3];

	if (!env_init(&e, 16, true, false))
		goto out;
	for (unsigned int i = 0; i < 5; i++) {
		in[i].gpa = gpa(DATA + 0x1000 * i);
		in[i].len = 100 + i;
		in[i].write = i >= 2;
		in[i].host = NULL;
	}
	memcpy(e.mem + DATA, "req0", 4);
	/* three chains of 5, 2 and 1 segments */
	CHECK(vs_vring_drv_add(&e.drv, in, 5, &toks[0], NULL, 0) == 0);
	CHECK(vs_vring_drv_add(&e.drv, in + 1, 2, &toks[1], NULL, 0) == 0);
	CHECK(vs_vring_drv_add(&e.drv, in + 4, 1, &toks[2], NULL, 0) == 0);
	CHECK_EQ_U(vs_vring_drv_num_free(&e.drv), 8);
	CHECK(vs_vring_drv_kick_prepare(&e.drv));

	CHECK(pop(&e, &heads[0], segs) == 5);
	for (unsigned int i = 0; i < 5; i++) {
		CHECK_EQ_U(segs[i].gpa, in[i].gpa);
		CHECK_EQ_U(segs[i].len, in[i].len);
		CHECK(segs[i].write == in[i].write);
		CHECK(segs[i].host == (void *)(e.mem + DATA + 0x1000 * i));
	}
	CHECK(!memcmp(segs[0].host, "req0", 4));
	memcpy(segs[2].host, "resp", 4);
	CHECK(pop(&e, &heads[1], segs) == 2);
	CHECK(!segs[0].write && segs[1].write);
	CHECK_EQ_U(segs[1].len, 102);
	CHECK(pop(&e, &heads[2], segs) == 1);
	CHECK(segs[0].write);
	CHECK(heads[0] != heads[1] && heads[1] != heads[2]);

	/* completed out of order */
	vs_vring_dev_push(&e.dev, heads[2], 7);
	vs_vring_dev_push(&e.dev, heads[0], 4);
	vs_vring_dev_push(&e.dev, heads[1], 0);
	CHECK(vs_vring_drv_get_used(&e.drv, &len) == &toks[2]);
	CHECK_EQ_U(len, 7);
	CHECK_EQ_U(vs_vring_drv_num_free(&e.drv), 9);
	CHECK(vs_vring_drv_get_used(&e.drv, &len) == &toks[0]);
	CHECK_EQ_U(len, 4);
	CHECK(!memcmp(e.mem + DATA + 0x2000, "resp", 4));
	CHECK_EQ_U(vs_vring_drv_num_free(&e.drv), 14);
	CHECK(vs_vring_drv_get_used(&e.drv, &len) == &toks[1]);
	CHECK_EQ_U(vs_vring_drv_num_free(&e.drv), 16);
	CHECK(vs_vring_drv_get_used(&e.drv, &len) == NULL);

	/* the free list still covers the whole ring: a chain of 16 fits */
	for (unsigned int i = 0; i < 16; i++)
		all[i] = (struct vs_vring_seg){ .gpa = gpa(DATA), .len = 1,
						.write = i >= 8 };
	CHECK(vs_vring_drv_add(&e.drv, all, 16, &toks[0], NULL, 0) == 0);
	CHECK_EQ_U(vs_vring_drv_num_free(&e.drv), 0);
	vs_vring_drv_kick_prepare(&e.drv);
	CHECK(pop(&e, &heads[0], segs) == 16);
	vs_vring_dev_push(&e.dev, heads[0], 0);
	CHECK(vs_vring_drv_get_used(&e.drv, NULL) == &toks[0]);
	CHECK_EQ_U(vs_vring_drv_num_free(&e.drv), 16);
out:
	env_fini(&e);
}

static void t_drv_add_errors(void)
{
	struct env e;
	struct vs_vring_seg s[3] = {
		{ .gpa = gpa(DATA), .len = 1, .write = true },
		{ .gpa = gpa(DATA), .len = 1 },
		{ .gpa = gpa(DATA), .len = 1 },
	};
	struct vs_vring_seg many[9];
	int tok;

	if (!env_init(&e, 8, false, false))
		goto out;
	CHECK(vs_vring_drv_add(&e.drv, s, 2, &tok, NULL, 0) == -EINVAL);
	CHECK(vs_vring_drv_add(&e.drv, s + 1, 0, &tok, NULL, 0) == -EINVAL);
	for (unsigned int i = 0; i < 9; i++)
		many[i] = s[1];
	CHECK(vs_vring_drv_add(&e.drv, many, 9, &tok, NULL, 0) == -EINVAL);
	CHECK_EQ_U(vs_vring_drv_num_free(&e.drv), 8);
	CHECK_EQ_U(e.drv.avail_idx, 0);
out:
	env_fini(&e);
}

static void t_full_ring(void)
{
	struct env e;
	struct vs_vring_seg two[2] = {
		{ .gpa = gpa(DATA), .len = 1 },
		{ .gpa = gpa(DATA), .len = 1, .write = true },
	};
	int toks[5];
	uint16_t head;
	struct vs_vring_seg segs[VS_VRING_MAX_CHAIN];

	if (!env_init(&e, 4, false, true))
		goto out;
	CHECK(vs_vring_drv_add(&e.drv, two, 2, &toks[0], NULL, 0) == 0);
	CHECK(add1(&e, 0, 1, &toks[1]) == 0);
	/* one descriptor left: a chain of two does not fit */
	CHECK(vs_vring_drv_add(&e.drv, two, 2, &toks[2], NULL, 0) ==
	      -ENOSPC);
	/* but one indirect descriptor does */
	CHECK(vs_vring_drv_add(&e.drv, two, 2, &toks[2], e.mem + DATA + 0x100,
			       gpa(DATA + 0x100)) == 0);
	CHECK_EQ_U(vs_vring_drv_num_free(&e.drv), 0);
	CHECK(add1(&e, 0, 1, &toks[3]) == -ENOSPC);
	CHECK(vs_vring_drv_add(&e.drv, two, 2, &toks[3], e.mem + DATA + 0x200,
			       gpa(DATA + 0x200)) == -ENOSPC);
	CHECK_EQ_U(e.drv.avail_idx, 3);
	CHECK(vs_vring_drv_kick_prepare(&e.drv));
	CHECK(pop(&e, &head, segs) == 2);
	vs_vring_dev_push(&e.dev, head, 0);
	CHECK(vs_vring_drv_get_used(&e.drv, NULL) == &toks[0]);
	CHECK_EQ_U(vs_vring_drv_num_free(&e.drv), 2);
	CHECK(vs_vring_drv_add(&e.drv, two, 2, &toks[3], NULL, 0) == 0);
	CHECK(add1(&e, 0, 1, &toks[4]) == -ENOSPC);
	vs_vring_drv_kick_prepare(&e.drv);
	CHECK(vs_vring_dev_pending(&e.dev) == 3);
	drain(&e);
	CHECK_EQ_U(vs_vring_drv_num_free(&e.drv), 4);
	CHECK(!e.dev.broken && !e.drv.broken);
out:
	env_fini(&e);
}

static void t_indirect(void)
{
	struct env e;
	struct vs_vring_seg in[4], segs[VS_VRING_MAX_CHAIN];
	unsigned char *table = NULL;
	uint16_t head;
	uint32_t len;
	int tok, tok2;

	if (!env_init(&e, 8, true, true))
		goto out;
	for (unsigned int i = 0; i < 4; i++)
		in[i] = (struct vs_vring_seg){ .gpa = gpa(DATA + 64 * i),
					       .len = 10 + i,
					       .write = i >= 2 };
	table = e.mem + DATA + 0x1000;
	CHECK(vs_vring_drv_add(&e.drv, in, 4, &tok, table,
			       gpa(DATA + 0x1000)) == 0);
	CHECK_EQ_U(vs_vring_drv_num_free(&e.drv), 7);
	CHECK_EQ_U(desc_flags(&e, 0), VS_VRING_DESC_F_INDIRECT);
	CHECK_EQ_U(desc_len(&e, 0), 64);
	/* an indirect table at an odd address (4 mod 8) */
	table = e.mem + DATA + 0x2004;
	CHECK(vs_vring_drv_add(&e.drv, in + 1, 3, &tok2, table,
			       gpa(DATA + 0x2004)) == 0);
	CHECK(vs_vring_drv_kick_prepare(&e.drv));

	CHECK(pop(&e, &head, segs) == 4);
	CHECK_EQ_U(head, 0);
	for (unsigned int i = 0; i < 4; i++) {
		CHECK_EQ_U(segs[i].gpa, in[i].gpa);
		CHECK_EQ_U(segs[i].len, in[i].len);
		CHECK(segs[i].write == in[i].write);
		CHECK(segs[i].host == (void *)(e.mem + DATA + 64 * i));
	}
	vs_vring_dev_push(&e.dev, head, 23);
	CHECK(pop(&e, &head, segs) == 3);
	CHECK_EQ_U(head, 1);
	CHECK_EQ_U(segs[0].len, 11);
	CHECK(!segs[0].write && segs[1].write && segs[2].write);
	vs_vring_dev_push(&e.dev, head, 0);
	CHECK(vs_vring_drv_get_used(&e.drv, &len) == &tok);
	CHECK_EQ_U(len, 23);
	CHECK(vs_vring_drv_get_used(&e.drv, &len) == &tok2);
	CHECK_EQ_U(vs_vring_drv_num_free(&e.drv), 8);
	env_fini(&e);

	/* indirect memory given but the feature is off: a ring chain */
	if (!env_init(&e, 8, false, false))
		goto out;
	CHECK(vs_vring_drv_add(&e.drv, in, 4, &tok, e.mem + DATA + 0x1000,
			       gpa(DATA + 0x1000)) == 0);
	CHECK_EQ_U(vs_vring_drv_num_free(&e.drv), 4);
	CHECK(!(desc_flags(&e, 0) & VS_VRING_DESC_F_INDIRECT));
	vs_vring_drv_kick_prepare(&e.drv);
	CHECK(pop(&e, &head, segs) == 4);
	vs_vring_dev_push(&e.dev, head, 0);
	CHECK(vs_vring_drv_get_used(&e.drv, NULL) == &tok);
	CHECK_EQ_U(vs_vring_drv_num_free(&e.drv), 8);
out:
	env_fini(&e);
}

/* free-running u16 indexes: > 70000 cycles, ring slots reused */
static void t_index_wrap(void)
{
	struct env e;
	struct vs_vring_seg in[2], segs[VS_VRING_MAX_CHAIN];
	uintptr_t want[8];
	uint16_t heads[8];
	uint32_t total = 0;
	bool ok = true;

	if (!env_init(&e, 8, true, true))
		goto out;
	in[0] = (struct vs_vring_seg){ .gpa = gpa(DATA), .len = 8 };
	in[1] = (struct vs_vring_seg){ .gpa = gpa(DATA + 8), .len = 8,
				       .write = true };
	for (uint32_t c = 0; c < 70001 && ok; c++) {
		unsigned int n = 1 + (c & 1), k = 1 + c % (8 / n);

		for (unsigned int i = 0; i < k; i++) {
			void *ind = (c % 3 == 0) ? e.mem + DATA + 0x100 + 32 * i
						 : NULL;

			want[i] = total + i + 1;
			ok &= vs_vring_drv_add(&e.drv, in, n, (void *)want[i],
					       ind,
					       gpa(DATA + 0x100 + 32 * i)) == 0;
		}
		vs_vring_drv_kick_prepare(&e.drv);
		for (unsigned int i = 0; i < k; i++)
			ok &= pop(&e, &heads[i], segs) == (int)n;
		ok &= pop(&e, &heads[0], segs) == 0;
		/* back in reverse */
		for (unsigned int i = k; i-- > 0;)
			vs_vring_dev_push(&e.dev, heads[i], (uint32_t)i);
		vs_vring_dev_call_prepare(&e.dev);
		for (unsigned int i = k; i-- > 0;) {
			uint32_t len = UINT32_MAX;

			ok &= vs_vring_drv_get_used(&e.drv, &len) ==
			      (void *)want[i];
			ok &= len == i;
		}
		ok &= vs_vring_drv_get_used(&e.drv, NULL) == NULL;
		ok &= vs_vring_drv_num_free(&e.drv) == 8;
		total += k;
	}
	CHECK(ok);
	CHECK(total > 3 * 65536);
	CHECK_EQ_U(e.drv.avail_idx, (uint16_t)total);
	CHECK_EQ_U(e.drv.last_used, (uint16_t)total);
	CHECK_EQ_U(e.dev.last_avail, (uint16_t)total);
	CHECK_EQ_U(e.dev.used_idx, (uint16_t)total);
	CHECK(!e.dev.broken && !e.drv.broken);
out:
	env_fini(&e);
}

/* ---- notification suppression ------------------------------------------ */

static void t_event_idx_kick(void)
{
	struct env e;
	int tok;

	if (!env_init(&e, 8, true, false))
		goto out;
	/* avail_event starts at 0: kick for the first buffer only */
	CHECK(add1(&e, 0, 1, &tok) == 0);
	CHECK(vs_vring_drv_kick_prepare(&e.drv) == true);
	CHECK(add1(&e, 0, 1, &tok) == 0);
	CHECK(vs_vring_drv_kick_prepare(&e.drv) == false);
	CHECK(vs_vring_drv_kick_prepare(&e.drv) == false); /* nothing new */
	drain(&e);
	vs_vring_dev_enable_notify(&e.dev);
	CHECK_EQ_U(avail_event(&e), 2);
	CHECK(add1(&e, 0, 1, &tok) == 0);
	CHECK(vs_vring_drv_kick_prepare(&e.drv) == true); /* 2 in [2, 3) */
	CHECK(add1(&e, 0, 1, &tok) == 0);
	CHECK(add1(&e, 0, 1, &tok) == 0);
	CHECK(vs_vring_drv_kick_prepare(&e.drv) == false); /* 2 !in [3, 5) */
	drain(&e);
	vs_vring_dev_enable_notify(&e.dev);
	CHECK_EQ_U(avail_event(&e), 5);
	for (int i = 0; i < 3; i++)
		CHECK(add1(&e, 0, 1, &tok) == 0);
	CHECK(vs_vring_drv_kick_prepare(&e.drv) == true); /* 5 in [5, 8) */
	drain(&e);
	/* the batch may skip past avail_event: 6 in [5, 8) still kicks */
	*raw16(&e, e.uoff + 4 + 8 * e.num) = htole16(9);
	for (int i = 0; i < 3; i++)
		CHECK(add1(&e, 0, 1, &tok) == 0);
	CHECK(vs_vring_drv_kick_prepare(&e.drv) == true); /* 9 in [8, 11) */
	drain(&e);
	vs_vring_dev_disable_notify(&e.dev);
	CHECK_EQ_U(avail_event(&e), 10);
	CHECK_EQ_U(used_flags(&e), 0); /* flags stay 0 with EVENT_IDX */
	CHECK(add1(&e, 0, 1, &tok) == 0);
	CHECK(vs_vring_drv_kick_prepare(&e.drv) == false);
	CHECK(add1(&e, 0, 1, &tok) == 0);
	CHECK(vs_vring_drv_kick_prepare(&e.drv) == false);
	/* re-enabled at last_avail 11 while 2 wait: the next one kicks */
	vs_vring_dev_enable_notify(&e.dev);
	CHECK_EQ_U(avail_event(&e), 11);
	CHECK(vs_vring_dev_pending(&e.dev) == 2);
	CHECK(add1(&e, 0, 1, &tok) == 0);
	CHECK(vs_vring_drv_kick_prepare(&e.drv) == false); /* 11 !in [13,14) */
	drain(&e);
	vs_vring_dev_enable_notify(&e.dev);
	CHECK(add1(&e, 0, 1, &tok) == 0);
	CHECK(vs_vring_drv_kick_prepare(&e.drv) == true); /* 14 in [14,15) */
out:
	env_fini(&e);
}

static void t_event_idx_call(void)
{
	struct env e;
	struct vs_vring_seg segs[VS_VRING_MAX_CHAIN];
	uint16_t h[8];
	int tok;

	if (!env_init(&e, 8, true, false))
		goto out;
	for (int i = 0; i < 7; i++)
		CHECK(add1(&e, 0, 1, &tok) == 0);
	vs_vring_drv_kick_prepare(&e.drv);
	for (int i = 0; i < 7; i++)
		CHECK(pop(&e, &h[i], segs) == 1);
	/* the first decision after dev_init always calls */
	vs_vring_dev_push(&e.dev, h[0], 0);
	CHECK(vs_vring_dev_call_prepare(&e.dev) == true);
	vs_vring_dev_push(&e.dev, h[1], 0);
	CHECK(vs_vring_dev_call_prepare(&e.dev) == false); /* 0 !in [1, 2) */
	CHECK(vs_vring_drv_get_used(&e.drv, NULL) == &tok);
	CHECK(vs_vring_drv_get_used(&e.drv, NULL) == &tok);
	CHECK(vs_vring_drv_enable_cb(&e.drv) == true);
	CHECK_EQ_U(used_event(&e), 2);
	vs_vring_dev_push(&e.dev, h[2], 0);
	CHECK(vs_vring_dev_call_prepare(&e.dev) == true); /* 2 in [2, 3) */
	vs_vring_dev_push(&e.dev, h[3], 0);
	CHECK(vs_vring_dev_call_prepare(&e.dev) == false); /* 2 !in [3, 4) */
	CHECK(vs_vring_dev_call_prepare(&e.dev) == false); /* nothing new */
	/* several pushes, one decision: 5 in [4, 6) */
	*raw16(&e, e.aoff + 4 + 2 * e.num) = htole16(5);
	vs_vring_dev_push(&e.dev, h[4], 0);
	vs_vring_dev_push(&e.dev, h[5], 0);
	CHECK(vs_vring_dev_call_prepare(&e.dev) == true);
	for (int i = 0; i < 4; i++)
		CHECK(vs_vring_drv_get_used(&e.drv, NULL) == &tok);
	vs_vring_drv_disable_cb(&e.drv);
	CHECK_EQ_U(used_event(&e), 5);
	CHECK_EQ_U(avail_flags(&e), 0); /* flags stay 0 with EVENT_IDX */
	vs_vring_dev_push(&e.dev, h[6], 0);
	CHECK(vs_vring_dev_call_prepare(&e.dev) == false); /* 5 !in [6, 7) */
out:
	env_fini(&e);
}

static void t_flags_no_event_idx(void)
{
	struct env e;
	struct vs_vring_seg segs[VS_VRING_MAX_CHAIN];
	uint16_t h[4];
	int tok;

	if (!env_init(&e, 8, false, false))
		goto out;
	CHECK(add1(&e, 0, 1, &tok) == 0);
	CHECK(vs_vring_drv_kick_prepare(&e.drv) == true);
	CHECK(vs_vring_drv_kick_prepare(&e.drv) == false); /* nothing new */
	vs_vring_dev_disable_notify(&e.dev);
	CHECK_EQ_U(used_flags(&e), VS_VRING_USED_F_NO_NOTIFY);
	CHECK(add1(&e, 0, 1, &tok) == 0);
	CHECK(vs_vring_drv_kick_prepare(&e.drv) == false);
	vs_vring_dev_enable_notify(&e.dev);
	CHECK_EQ_U(used_flags(&e), 0);
	CHECK_EQ_U(avail_event(&e), 0); /* untouched without EVENT_IDX */
	CHECK(add1(&e, 0, 1, &tok) == 0);
	CHECK(vs_vring_drv_kick_prepare(&e.drv) == true);

	for (int i = 0; i < 3; i++)
		CHECK(pop(&e, &h[i], segs) == 1);
	vs_vring_dev_push(&e.dev, h[0], 0);
	CHECK(vs_vring_dev_call_prepare(&e.dev) == true);
	CHECK(vs_vring_dev_call_prepare(&e.dev) == false); /* nothing new */
	vs_vring_drv_disable_cb(&e.drv);
	CHECK_EQ_U(avail_flags(&e), VS_VRING_AVAIL_F_NO_INTERRUPT);
	CHECK_EQ_U(used_event(&e), 0); /* untouched without EVENT_IDX */
	vs_vring_dev_push(&e.dev, h[1], 0);
	CHECK(vs_vring_dev_call_prepare(&e.dev) == false);
	/* two entries wait: enable says poll again */
	CHECK(vs_vring_drv_enable_cb(&e.drv) == false);
	CHECK_EQ_U(avail_flags(&e), 0);
	CHECK(vs_vring_drv_get_used(&e.drv, NULL) == &tok);
	CHECK(vs_vring_drv_get_used(&e.drv, NULL) == &tok);
	CHECK(vs_vring_drv_enable_cb(&e.drv) == true);
	vs_vring_dev_push(&e.dev, h[2], 0);
	CHECK(vs_vring_dev_call_prepare(&e.dev) == true);
out:
	env_fini(&e);
}

/* used entries arriving between the last get_used and enable_cb */
static void t_enable_cb_race(void)
{
	for (int ev = 0; ev < 2; ev++) {
		struct env e;
		struct vs_vring_seg segs[VS_VRING_MAX_CHAIN];
		uint16_t h[2];
		int tok;

		if (!env_init(&e, 4, ev, false))
			goto next;
		CHECK(add1(&e, 0, 1, &tok) == 0);
		CHECK(add1(&e, 0, 1, &tok) == 0);
		vs_vring_drv_kick_prepare(&e.drv);
		CHECK(pop(&e, &h[0], segs) == 1);
		CHECK(pop(&e, &h[1], segs) == 1);
		vs_vring_drv_disable_cb(&e.drv);
		vs_vring_dev_push(&e.dev, h[0], 0);
		CHECK(vs_vring_drv_get_used(&e.drv, NULL) == &tok);
		CHECK(vs_vring_drv_get_used(&e.drv, NULL) == NULL);
		/* the device completes one more before the driver enables */
		vs_vring_dev_push(&e.dev, h[1], 0);
		CHECK(vs_vring_drv_enable_cb(&e.drv) == false);
		CHECK(vs_vring_drv_get_used(&e.drv, NULL) == &tok);
		CHECK(vs_vring_drv_enable_cb(&e.drv) == true);
		if (ev)
			CHECK_EQ_U(used_event(&e), 2);
		else
			CHECK_EQ_U(avail_flags(&e), 0);
next:
		env_fini(&e);
	}
}

/* ---- hostile rings ------------------------------------------------------ */

static void t_bad_loop(void)
{
	struct env e;

	if (!env_init(&e, 16, false, false))
		goto out;
	raw_desc(&e, 0, gpa(DATA), 8, VS_VRING_DESC_F_NEXT, 1);
	raw_desc(&e, 1, gpa(DATA), 8, VS_VRING_DESC_F_NEXT, 2);
	raw_desc(&e, 2, gpa(DATA), 8, VS_VRING_DESC_F_NEXT, 0);
	raw_avail(&e, 0);
	expect_broken(&e);
	CHECK(strstr(e.dev.why, "loop") != NULL);
	CHECK_EQ_U(e.dev.last_avail, 0);
out:
	env_fini(&e);
}

static void t_bad_self_loop(void)
{
	struct env e;

	if (!env_init(&e, 2, false, false))
		goto out;
	raw_desc(&e, 1, gpa(DATA), 8, VS_VRING_DESC_F_NEXT, 1);
	raw_avail(&e, 1);
	expect_broken(&e);
out:
	env_fini(&e);
}

static void t_bad_next(void)
{
	struct env e;

	if (!env_init(&e, 16, false, false))
		goto out;
	raw_desc(&e, 0, gpa(DATA), 8, VS_VRING_DESC_F_NEXT, 16);
	raw_avail(&e, 0);
	expect_broken(&e);
	CHECK(strstr(e.dev.why, "next 16") != NULL);
out:
	env_fini(&e);
}

static void t_bad_head(void)
{
	for (int i = 0; i < 2; i++) {
		struct env e;

		if (!env_init(&e, 16, false, false))
			goto next;
		raw_desc(&e, 0, gpa(DATA), 8, 0, 0);
		raw_avail(&e, 0);
		raw_avail(&e, i ? 0xffff : 16);
		CHECK(vs_vring_dev_pending(&e.dev) == 2);
		{
			struct vs_vring_seg segs[VS_VRING_MAX_CHAIN];
			uint16_t head;

			CHECK(pop(&e, &head, segs) == 1);
		}
		expect_broken(&e);
		CHECK(strstr(e.dev.why, "head") != NULL);
next:
		env_fini(&e);
	}
}

static void t_bad_avail_jump(void)
{
	struct env e;
	struct vs_vring_seg segs[VS_VRING_MAX_CHAIN];
	uint16_t head;

	if (!env_init(&e, 8, false, false))
		goto out;
	for (unsigned int i = 0; i < 8; i++)
		raw_desc(&e, i, gpa(DATA), 8, 0, 0);
	set_avail_idx(&e, 8); /* exactly num ahead is fine */
	CHECK(vs_vring_dev_pending(&e.dev) == 8);
	CHECK(pop(&e, &head, segs) == 1);
	set_avail_idx(&e, 10); /* 9 ahead of last_avail 1 */
	expect_broken(&e);
	env_fini(&e);

	/* backwards (0xffff ahead) */
	if (!env_init(&e, 8, false, false))
		goto out;
	set_avail_idx(&e, 0xffff);
	CHECK(vs_vring_dev_pending(&e.dev) == -EINVAL);
	CHECK(e.dev.broken);
	expect_broken(&e);
out:
	env_fini(&e);
}

static void t_bad_addr(void)
{
	static const struct {
		uint64_t addr;
		uint32_t len;
	} bad[] = {
		{ GBASE + GSIZE - 4, 8 },	/* straddles the end */
		{ GBASE + GSIZE, 1 },		/* just past it */
		{ GBASE - 1, 2 },		/* straddles the start */
		{ 0, 16 },
		{ GBASE + GSIZE + 0x100000, 0 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct env e;

		if (!env_init(&e, 8, false, false))
			goto next;
		raw_desc(&e, 0, gpa(DATA), 8, VS_VRING_DESC_F_NEXT, 1);
		raw_desc(&e, 1, bad[i].addr, bad[i].len, 0, 0);
		raw_avail(&e, 0);
		expect_broken(&e);
		CHECK(strstr(e.dev.why, "outside") != NULL);
next:
		env_fini(&e);
	}
	/* the last byte of guest memory is fine */
	{
		struct env e;
		struct vs_vring_seg segs[VS_VRING_MAX_CHAIN];
		uint16_t head;

		if (env_init(&e, 8, false, false)) {
			raw_desc(&e, 0, GBASE + GSIZE - 8, 8, 0, 0);
			raw_avail(&e, 0);
			CHECK(pop(&e, &head, segs) == 1);
			CHECK(segs[0].host == (void *)(e.mem + GSIZE - 8));
		}
		env_fini(&e);
	}
}

static void t_bad_addr_wrap(void)
{
	static unsigned char top[4096];
	struct env e;

	if (!env_init(&e, 8, false, false))
		goto out;
	raw_desc(&e, 0, UINT64_MAX - 15, 32, 0, 0);
	raw_avail(&e, 0);
	expect_broken(&e);
	env_fini(&e);

	/* memory at the very top of the guest-physical space */
	if (!env_init(&e, 8, false, false))
		goto out;
	e.gm.nregions = 2;
	e.gm.regions[1] = (struct vs_gmem_region){ UINT64_MAX - 4095,
						   sizeof(top), top };
	raw_desc(&e, 0, UINT64_MAX - 4095, 16, VS_VRING_DESC_F_NEXT, 1);
	raw_desc(&e, 1, UINT64_MAX - 15, 32, 0, 0);
	raw_avail(&e, 0);
	expect_broken(&e);
out:
	env_fini(&e);
}

static void t_bad_total_len(void)
{
	const size_t big = 0x80000000u;
	struct vs_vring_seg segs[VS_VRING_MAX_CHAIN];
	uint16_t head;
	struct env e;
	void *res;

	/* 2 GiB of address space, never touched */
	res = mmap(NULL, big, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(res != MAP_FAILED);
	if (res == MAP_FAILED)
		return;
	if (!env_init(&e, 8, false, false))
		goto out;
	e.gm.nregions = 2;
	e.gm.regions[1] = (struct vs_gmem_region){ 1ull << 40, big, res };
	/* 0x80000000 + 0x7fffffff = UINT32_MAX: fine */
	raw_desc(&e, 0, 1ull << 40, 0x80000000u, VS_VRING_DESC_F_NEXT, 1);
	raw_desc(&e, 1, 1ull << 40, 0x7fffffffu, 0, 0);
	raw_avail(&e, 0);
	CHECK(pop(&e, &head, segs) == 2);
	/* one more byte is not */
	raw_desc(&e, 2, 1ull << 40, 0x80000000u, VS_VRING_DESC_F_NEXT, 3);
	raw_desc(&e, 3, 1ull << 40, 0x80000000u, VS_VRING_DESC_F_WRITE, 0);
	raw_avail(&e, 2);
	expect_broken(&e);
	CHECK(strstr(e.dev.why, "length") != NULL);
out:
	env_fini(&e);
	munmap(res, big);
}

static void t_bad_indirect_len(void)
{
	static const uint32_t lens[] = { 0, 20, 8, 0xfffffff0 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct env e;

		if (!env_init(&e, 8, false, true))
			goto next;
		put_desc(e.mem + DATA, 0, gpa(DATA + 0x100), 8, 0, 0);
		raw_desc(&e, 0, gpa(DATA), lens[i], VS_VRING_DESC_F_INDIRECT,
			 0);
		raw_avail(&e, 0);
		expect_broken(&e);
next:
		env_fini(&e);
	}
}

static void t_bad_indirect_outside(void)
{
	struct env e;

	if (!env_init(&e, 8, false, true))
		goto out;
	/* the table runs 16 bytes past the end of guest memory */
	raw_desc(&e, 0, GBASE + GSIZE - 16, 32, VS_VRING_DESC_F_INDIRECT, 0);
	raw_avail(&e, 0);
	expect_broken(&e);
out:
	env_fini(&e);
}

static void t_bad_indirect_not_negotiated(void)
{
	struct env e;

	if (!env_init(&e, 8, false, false))
		goto out;
	put_desc(e.mem + DATA, 0, gpa(DATA + 0x100), 8, 0, 0);
	raw_desc(&e, 0, gpa(DATA), 16, VS_VRING_DESC_F_INDIRECT, 0);
	raw_avail(&e, 0);
	expect_broken(&e);
out:
	env_fini(&e);
}

static void t_bad_indirect_nested(void)
{
	struct env e;
	unsigned char *t1, *t2;

	if (!env_init(&e, 8, false, true))
		goto out;
	t1 = e.mem + DATA;
	t2 = e.mem + DATA + 0x100;
	put_desc(t2, 0, gpa(DATA + 0x200), 8, 0, 0);
	put_desc(t1, 0, gpa(DATA + 0x200), 8, VS_VRING_DESC_F_NEXT, 1);
	put_desc(t1, 1, gpa(DATA + 0x100), 16, VS_VRING_DESC_F_INDIRECT, 0);
	raw_desc(&e, 0, gpa(DATA), 32, VS_VRING_DESC_F_INDIRECT, 0);
	raw_avail(&e, 0);
	expect_broken(&e);
	CHECK(strstr(e.dev.why, "nested") != NULL);
out:
	env_fini(&e);
}

static void t_bad_indirect_next(void)
{
	struct env e;

	if (!env_init(&e, 8, false, true))
		goto out;
	put_desc(e.mem + DATA, 0, gpa(DATA + 0x100), 8, 0, 0);
	raw_desc(&e, 0, gpa(DATA), 16,
		 VS_VRING_DESC_F_INDIRECT | VS_VRING_DESC_F_NEXT, 1);
	raw_desc(&e, 1, gpa(DATA + 0x100), 8, 0, 0);
	raw_avail(&e, 0);
	expect_broken(&e);
out:
	env_fini(&e);
}

static void t_bad_indirect_loop(void)
{
	for (int i = 0; i < 2; i++) {
		struct env e;
		unsigned char *t;

		if (!env_init(&e, 8, false, true))
			goto next;
		t = e.mem + DATA;
		put_desc(t, 0, gpa(DATA + 0x100), 8, VS_VRING_DESC_F_NEXT, 1);
		/* back to 0, or past the table's 2 entries (still < num) */
		put_desc(t, 1, gpa(DATA + 0x100), 8, VS_VRING_DESC_F_NEXT,
			 i ? 2 : 0);
		raw_desc(&e, 0, gpa(DATA), 32, VS_VRING_DESC_F_INDIRECT, 0);
		raw_avail(&e, 0);
		expect_broken(&e);
next:
		env_fini(&e);
	}
}

static void t_bad_write_order(void)
{
	struct env e;
	unsigned char *t;

	if (!env_init(&e, 8, false, true))
		goto out;
	raw_desc(&e, 0, gpa(DATA), 8,
		 VS_VRING_DESC_F_WRITE | VS_VRING_DESC_F_NEXT, 1);
	raw_desc(&e, 1, gpa(DATA), 8, 0, 0);
	raw_avail(&e, 0);
	expect_broken(&e);
	CHECK(strstr(e.dev.why, "readable") != NULL);
	env_fini(&e);

	/* the same inside an indirect table */
	if (!env_init(&e, 8, false, true))
		goto out;
	t = e.mem + DATA;
	put_desc(t, 0, gpa(DATA + 0x100), 8, VS_VRING_DESC_F_NEXT, 1);
	put_desc(t, 1, gpa(DATA + 0x100), 8,
		 VS_VRING_DESC_F_WRITE | VS_VRING_DESC_F_NEXT, 2);
	put_desc(t, 2, gpa(DATA + 0x100), 8, 0, 0);
	raw_desc(&e, 0, gpa(DATA), 48, VS_VRING_DESC_F_INDIRECT, 0);
	raw_avail(&e, 0);
	expect_broken(&e);
out:
	env_fini(&e);
}

static void t_bad_max_chain(void)
{
	struct vs_vring_seg in[VS_VRING_MAX_CHAIN + 1];
	struct vs_vring_seg segs[VS_VRING_MAX_CHAIN];
	struct env e;
	uint16_t head;
	int tok;

	for (unsigned int i = 0; i <= VS_VRING_MAX_CHAIN; i++)
		in[i] = (struct vs_vring_seg){ .gpa = gpa(DATA), .len = 1 };
	/* in the ring: 64 is fine, 65 is not */
	if (!env_init(&e, 256, false, true))
		goto out;
	CHECK(vs_vring_drv_add(&e.drv, in, VS_VRING_MAX_CHAIN, &tok, NULL,
			       0) == 0);
	CHECK(vs_vring_drv_add(&e.drv, in, VS_VRING_MAX_CHAIN + 1, &tok,
			       NULL, 0) == 0);
	vs_vring_drv_kick_prepare(&e.drv);
	CHECK(pop(&e, &head, segs) == VS_VRING_MAX_CHAIN);
	expect_broken(&e);
	CHECK(strstr(e.dev.why, "segments") != NULL);
	env_fini(&e);

	/* in an indirect table */
	if (!env_init(&e, 256, false, true))
		goto out;
	CHECK(vs_vring_drv_add(&e.drv, in, VS_VRING_MAX_CHAIN + 1, &tok,
			       e.mem + DATA + 0x1000, gpa(DATA + 0x1000)) == 0);
	vs_vring_drv_kick_prepare(&e.drv);
	expect_broken(&e);
out:
	env_fini(&e);
}

static void t_bad_dev_init(void)
{
	struct env e;
	struct vs_vring vq;

	if (!env_init(&e, 8, false, false))
		goto out;
	/* each part (desc 128, avail 22, used 70 bytes) as the last bytes
	 * of guest memory is fine (used: 72, to stay 4-aligned), one
	 * part-alignment further is not */
	CHECK(vs_vring_dev_init(&vq, &e.gm, 8, GBASE + GSIZE - 16 * 8,
				GBASE, GBASE + 0x1000, false, false) == 0);
	CHECK(vs_vring_dev_init(&vq, &e.gm, 8, GBASE + GSIZE - 16 * 8 + 16,
				GBASE, GBASE + 0x1000, false, false) ==
	      -EINVAL);
	CHECK(vq.broken && strstr(vq.why, "outside") != NULL);
	CHECK(vs_vring_dev_init(&vq, &e.gm, 8, GBASE,
				GBASE + GSIZE - (6 + 16), GBASE + 0x1000,
				false, false) == 0);
	CHECK(vs_vring_dev_init(&vq, &e.gm, 8, GBASE,
				GBASE + GSIZE - (6 + 16) + 2, GBASE + 0x1000,
				false, false) == -EINVAL);
	CHECK(vs_vring_dev_init(&vq, &e.gm, 8, GBASE, GBASE + 0x1000,
				GBASE + GSIZE - 72, false, false) == 0);
	CHECK(vs_vring_dev_init(&vq, &e.gm, 8, GBASE, GBASE + 0x1000,
				GBASE + GSIZE - 72 + 4, false, false) ==
	      -EINVAL);
	CHECK(vs_vring_dev_init(&vq, &e.gm, 8, 0, GBASE + 0x1000,
				GBASE + 0x2000, false, false) == -EINVAL);
	CHECK(vs_vring_dev_init(&vq, &e.gm, 8, UINT64_MAX - 64,
				GBASE + 0x1000, GBASE + 0x2000, false, false) ==
	      -EINVAL);
	/* alignment: descriptors 16, avail 2, used 4 */
	CHECK(vs_vring_dev_init(&vq, &e.gm, 8, GBASE + 8, GBASE + 0x1000,
				GBASE + 0x2000, false, false) == -EINVAL);
	CHECK(vs_vring_dev_init(&vq, &e.gm, 8, GBASE, GBASE + 0x1001,
				GBASE + 0x2000, false, false) == -EINVAL);
	CHECK(vs_vring_dev_init(&vq, &e.gm, 8, GBASE, GBASE + 0x1000,
				GBASE + 0x2002, false, false) == -EINVAL);
	/* queue size */
	CHECK(vs_vring_dev_init(&vq, &e.gm, 0, GBASE, GBASE + 0x1000,
				GBASE + 0x2000, false, false) == -EINVAL);
	CHECK(vs_vring_dev_init(&vq, &e.gm, 6, GBASE, GBASE + 0x1000,
				GBASE + 0x2000, false, false) == -EINVAL);
	CHECK(vs_vring_dev_init(&vq, &e.gm, 65536, GBASE, GBASE + 0x1000,
				GBASE + 0x2000, false, false) == -EINVAL);
out:
	env_fini(&e);
}

/* a ring at the very end of guest memory is read exactly to its end */
static void t_ring_at_end(void)
{
	struct vs_gmem gm;
	struct vs_vring drv, dev;
	struct vs_vring_seg s = { .gpa = 0x10000, .len = 4 }, segs[4];
	size_t size, a, u;
	unsigned char *mem;
	void *p = NULL;
	uint16_t head;
	int tok;

	/* exactly the ring's size: ASan sees any byte past it */
	size = vs_vring_size(4, &a, &u);
	CHECK(posix_memalign(&p, 16, size) == 0);
	if (!p)
		return;
	mem = p;
	memset(&gm, 0, sizeof(gm));
	gm.nregions = 2;
	gm.regions[0] = (struct vs_gmem_region){ 0x4000, size, mem };
	gm.regions[1] = (struct vs_gmem_region){ 0x10000, 16, mem };
	CHECK(vs_vring_drv_init(&drv, mem, 4, true, true) == 0);
	CHECK(vs_vring_dev_init(&dev, &gm, 4, 0x4000, 0x4000 + a, 0x4000 + u,
				true, true) == 0);
	CHECK(vs_vring_dev_init(&dev, &gm, 8, 0x4000, 0x4000 + a, 0x4000 + u,
				true, true) == -EINVAL);
	CHECK(vs_vring_dev_init(&dev, &gm, 4, 0x4000, 0x4000 + a, 0x4000 + u,
				true, true) == 0);
	for (int i = 0; i < 10; i++) {
		CHECK(vs_vring_drv_add(&drv, &s, 1, &tok, NULL, 0) == 0);
		vs_vring_drv_kick_prepare(&drv);
		CHECK(vs_vring_drv_enable_cb(&drv));
		vs_vring_dev_enable_notify(&dev);
		CHECK(vs_vring_dev_pop(&dev, &gm, &head, segs) == 1);
		vs_vring_dev_push(&dev, head, 4);
		vs_vring_dev_call_prepare(&dev);
		CHECK(vs_vring_drv_get_used(&drv, NULL) == &tok);
	}
	vs_vring_drv_free(&drv);
	free(mem);
}

/* once broken, a repaired ring is still refused */
static void t_broken_sticks(void)
{
	struct env e;
	char why[sizeof(e.dev.why)];

	if (!env_init(&e, 8, false, false))
		goto out;
	raw_desc(&e, 0, gpa(DATA), 8, VS_VRING_DESC_F_NEXT, 9);
	raw_avail(&e, 0);
	expect_broken(&e);
	memcpy(why, e.dev.why, sizeof(why));
	raw_desc(&e, 0, gpa(DATA), 8, 0, 0);
	expect_broken(&e);
	raw_avail(&e, 0);
	expect_broken(&e);
	CHECK_STR(e.dev.why, why);
out:
	env_fini(&e);
}

/* the driver does not trust used ids either */
static void t_drv_bad_used(void)
{
	struct env e;
	int tok;

	if (!env_init(&e, 8, false, false))
		goto out;
	CHECK(add1(&e, 0, 1, &tok) == 0);
	vs_vring_drv_kick_prepare(&e.drv);
	vs_vring_dev_push(&e.dev, 5, 0); /* never made available */
	CHECK(vs_vring_drv_get_used(&e.drv, NULL) == NULL);
	CHECK(e.drv.broken);
	CHECK(add1(&e, 0, 1, &tok) == -EINVAL);
	env_fini(&e);

	if (!env_init(&e, 8, false, false))
		goto out;
	vs_vring_dev_push(&e.dev, 0xffff, 0);
	CHECK(vs_vring_drv_get_used(&e.drv, NULL) == NULL);
	CHECK(e.drv.broken);
out:
	env_fini(&e);
}

VS_TEST_MAIN({ "gmem_translate", t_gmem_translate },
	     { "layout", t_layout },
	     { "drv_init", t_drv_init },
	     { "roundtrip", t_roundtrip },
	     { "chain_readable_writable", t_chain_rw },
	     { "drv_add_errors", t_drv_add_errors },
	     { "full_ring_enospc", t_full_ring },
	     { "indirect", t_indirect },
	     { "index_wrap_70000", t_index_wrap },
	     { "event_idx_kick", t_event_idx_kick },
	     { "event_idx_call", t_event_idx_call },
	     { "flags_no_event_idx", t_flags_no_event_idx },
	     { "enable_cb_race", t_enable_cb_race },
	     { "bad_loop", t_bad_loop },
	     { "bad_self_loop", t_bad_self_loop },
	     { "bad_next_ge_num", t_bad_next },
	     { "bad_head_ge_num", t_bad_head },
	     { "bad_avail_jump", t_bad_avail_jump },
	     { "bad_addr_outside", t_bad_addr },
	     { "bad_addr_wrap", t_bad_addr_wrap },
	     { "bad_total_len", t_bad_total_len },
	     { "bad_indirect_len", t_bad_indirect_len },
	     { "bad_indirect_outside", t_bad_indirect_outside },
	     { "bad_indirect_not_negotiated", t_bad_indirect_not_negotiated },
	     { "bad_indirect_nested", t_bad_indirect_nested },
	     { "bad_indirect_next", t_bad_indirect_next },
	     { "bad_indirect_loop", t_bad_indirect_loop },
	     { "bad_write_order", t_bad_write_order },
	     { "bad_max_chain", t_bad_max_chain },
	     { "bad_dev_init", t_bad_dev_init },
	     { "ring_at_end", t_ring_at_end },
	     { "broken_sticks", t_broken_sticks },
	     { "drv_bad_used", t_drv_bad_used });
