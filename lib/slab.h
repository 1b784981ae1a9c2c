/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Slabs: zeroed, page-aligned blocks for tables of many small entries
 * (flow entries, vsocktop's rows), mapped on their own and faulted in
 * with one call. On a virtual machine a page fault costs microseconds,
 * more than a new connection's first packets; an entry at a time from
 * malloc also went through its merging of other freed blocks.
 */
#ifndef VS_SLAB_H
#define VS_SLAB_H

#include <stddef.h>

/* @bytes of zeroed memory; NULL (errno set) when none */
void *vs_slab_alloc(size_t bytes);
/* give back what vs_slab_alloc(@bytes) returned; NULL is ignored */
void vs_slab_free(void *p, size_t bytes);

#endif /* VS_SLAB_H */
