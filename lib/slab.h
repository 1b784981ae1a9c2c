/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Slabs: zeroed, cache-line-aligned blocks of one size for tables of many
 * small entries that are never freed one by one (flow entries, vsocktop's
 * rows), all given back when the table goes.
 *
 * Memory is faulted in a block at a time with one call: on a virtual
 * machine a page fault, and even the first touch of a page the guest has
 * already faulted in, costs microseconds, more than a new connection's
 * first packets. Once a table has grown past 256 KiB its blocks come
 * from 2 MiB areas that may be huge pages (transparent huge pages on
 * request, where the kernel allows), one first touch for 2 MiB. Small
 * tables (the unit tests make thousands) never reach them.
 */
#ifndef VS_SLAB_H
#define VS_SLAB_H

#include <stddef.h>

struct vs_slab_area;

struct vs_slabs {
	size_t size; /* bytes per block, set before the first vs_slab_get() */
	size_t given; /* bytes given out so far */
	char *cur, *end; /* what is left of the newest area */
	struct vs_slab_area *areas;
	unsigned int nareas, cap;
};

/* one zeroed block of s->size bytes; NULL (errno set) when none */
void *vs_slab_get(struct vs_slabs *s);
/* give back every block; @s can be used again */
void vs_slabs_free(struct vs_slabs *s);

#endif /* VS_SLAB_H */
