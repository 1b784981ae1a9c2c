// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for lib/slab.c: blocks are zeroed, aligned to a cache line
 * and do not overlap, across the change from small areas to 2 MiB ones;
 * everything is given back and the set can be used again; sizes it cannot
 * give are refused.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "slab.h"

#define NBLK 200

static void t_blocks(void)
{
	static const size_t sizes[] = { 1, 192 * 256, 2944 * 64, 1000 };
	static unsigned char *blk[NBLK];

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct vs_slabs s = { .size = sizes[k] };
		size_t n = sizes[k] < 4096 ? NBLK : 40;

		for (size_t i = 0; i < n; i++) {
			size_t j;

			blk[i] = vs_slab_get(&s);
			CHECK(blk[i] != NULL);
			if (!blk[i])
				break;
			CHECK_EQ_U((uintptr_t)blk[i] % 64, 0);
			for (j = 0; j < sizes[k] && !blk[i][j]; j++)
				;
			CHECK_EQ_U(j, sizes[k]); /* zeroed */
			memset(blk[i], (int)(i % 251) + 1, sizes[k]);
		}
		/* 40 blocks of 188 KiB pass 256 KiB: huge areas too */
		if (sizes[k] > 100000)
			CHECK(s.given > (2u << 20));
		for (size_t i = 0; i < n; i++) {
			size_t j;

			for (j = 0; j < sizes[k] &&
				    blk[i][j] == (unsigned char)(i % 251 + 1);
			     j++)
				;
			CHECK_EQ_U(j, sizes[k]); /* nothing else wrote it */
		}
		vs_slabs_free(&s);
		CHECK_EQ_U(s.nareas, 0);
		/* and again, after being given back */
		blk[0] = vs_slab_get(&s);
		CHECK(blk[0] != NULL && !blk[0][0]);
		vs_slabs_free(&s);
	}
}

static void t_refused(void)
{
	struct vs_slabs none = { 0 }, big = { .size = (2u << 20) + 1 };

	errno = 0;
	CHECK(vs_slab_get(&none) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(vs_slab_get(&big) == NULL && errno == EINVAL);
	vs_slabs_free(&none);
	vs_slabs_free(&big);
}

VS_TEST_MAIN({ "slab_blocks", t_blocks }, { "slab_refused", t_refused })
