// SPDX-License-Identifier: GPL-2.0-only
/* Slabs: see slab.h */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "slab.h"

#define HUGE_AREA (2u << 20)
#define SMALL_UNTIL (256u << 10) /* bytes given before areas are huge */

struct vs_slab_area {
	void *base;
	size_t size;
};

/* @size bytes, HUGE_AREA-aligned when @huge; faulted in */
static void *area_map(size_t size, bool huge)
{
	size_t len = huge ? size + HUGE_AREA : size;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *a;

	if (m == MAP_FAILED)
		return NULL;
	a = m;
	if (huge) {
		/* keep the aligned part only */
		a = (char *)(((uintptr_t)m + HUGE_AREA - 1) &
			     ~(uintptr_t)(HUGE_AREA - 1));
		if (a > m)
			munmap(m, (size_t)(a - m));
		if (m + len > a + size)
			munmap(a + size, (size_t)(m + len - (a + size)));
#ifdef MADV_HUGEPAGE
		madvise(a, size, MADV_HUGEPAGE); /* a wish: may be refused */
#endif
	}
#ifdef MADV_POPULATE_WRITE
	/* Linux 5.14 and later; on older kernels pages fault in as used */
	madvise(a, size, MADV_POPULATE_WRITE);
#endif
	return a;
}

void *vs_slab_get(struct vs_slabs *s)
{
	size_t size = (s->size + 63) & ~(size_t)63;
	void *p;

	if (!s->size || size > HUGE_AREA) {
		errno = EINVAL;
		return NULL;
	}
	if ((size_t)(s->end - s->cur) < size) {
		bool huge = s->given >= SMALL_UNTIL;
		size_t asize = huge ? HUGE_AREA : size;
		char *a;

		if (s->nareas == s->cap) {
			unsigned int nc = s->cap ? s->cap * 2 : 8;
			struct vs_slab_area *v =
				realloc(s->areas, nc * sizeof(*v));

			if (!v)
				return NULL;
			s->areas = v;
			s->cap = nc;
		}
		a = area_map(asize, huge);
		if (!a)
			return NULL;
		s->areas[s->nareas].base = a;
		s->areas[s->nareas++].size = asize;
		s->cur = a;
		s->end = a + asize;
	}
	p = s->cur;
	s->cur += size;
	s->given += size;
	return p;
}

void vs_slabs_free(struct vs_slabs *s)
{
	for (unsigned int i = 0; i < s->nareas; i++)
		munmap(s->areas[i].base, s->areas[i].size);
	free(s->areas);
	s->areas = NULL;
	s->nareas = s->cap = 0;
	s->cur = s->end = NULL;
	s->given = 0;
}
