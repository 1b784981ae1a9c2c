// SPDX-License-Identifier: GPL-2.0-only
/* Slabs: see slab.h */
#include <sys/mman.h>
#include "slab.h"

void *vs_slab_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_POPULATE_WRITE
	/* Linux 5.14 and later; on older kernels pages fault in as used */
	madvise(p, bytes, MADV_POPULATE_WRITE);
#endif
	return p;
}

void vs_slab_free(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}
