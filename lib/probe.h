/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Probe families of the capture backends (BPF and tracefs), and how each
 * hook ended up: attached by which method, or refused and why.
 */
#ifndef VS_PROBE_H
#define VS_PROBE_H

#include <stddef.h>

enum {
	VS_PROBE_VSOCK = 1u << 0, /* virtio_transport_alloc_pkt / recv_pkt */
	VS_PROBE_VRING = 1u << 1, /* vring_interrupt, virtqueue_notify ... */
	VS_PROBE_IRQ = 1u << 2,	  /* irq_handler_entry / exit */
	VS_PROBE_MBOX = 1u << 3,  /* mailbox and RPMsg */
	VS_PROBE_ALLOC = 1u << 4, /* failed kmalloc / page allocations */
	VS_PROBE_ALL = (1u << 5) - 1,
};

struct vs_probe_status {
	char family[16]; /* "vsock", "irq" ... */
	char hook[48];	 /* the tracepoint or function */
	char method[16]; /* "tp_btf", "raw_tp", "tracefs" ...; "" refused */
	int err;	 /* 0 attached, else -errno of the last attempt */
	char why[128];	 /* refused: what each method said */
};

/* "vsock,irq" → a mask; 0, or -1 with @err saying which word is wrong */
int vs_probes_parse(const char *s, unsigned int *mask, char *err,
		    size_t errlen);
/* the family's name for one VS_PROBE_* bit */
const char *vs_probe_name(unsigned int bit);

#endif /* VS_PROBE_H */
