// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interrupts: irq_handler_entry / irq_handler_exit, each as tp_btf (typed
 * arguments, cheapest) and as raw_tp (kernels without BTF for tracepoints).
 * Userspace keeps one of the two per hook (bpf_program__set_autoload).
 */
#include "vs_common.bpf.h"

static __always_inline int irq_entry(__u64 *args)
{
	struct irqaction *action = (void *)args[1];
	struct vs_record *r;

	r = rec_reserve(VS_EV_IRQ);
	if (!r)
		return 0;
	r->irq.irq = (__s32)args[0];
	bpf_probe_read_kernel_str(r->irq.name, sizeof(r->irq.name),
				  BPF_CORE_READ(action, name));
	rec_submit(r);
	return 0;
}

static __always_inline int irq_exit(__u64 *args)
{
	struct vs_record *r;

	r = rec_reserve(VS_EV_IRQ_EXIT);
	if (!r)
		return 0;
	r->irq.irq = (__s32)args[0];
	r->irq.ret = (__s32)args[2];
	rec_submit(r);
	return 0;
}

VS_TP_VARIANTS(irq_entry, irq_handler_entry, irq_entry)
VS_TP_VARIANTS(irq_exit, irq_handler_exit, irq_exit)
