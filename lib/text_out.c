// SPDX-License-Identifier: GPL-2.0-only
/* Events → tracefs text lines. */
#include <inttypes.h>
#include <stdio.h>
#include "text_out.h"

int vs_text_header(char *buf, size_t size, unsigned int ncpus)
{
	int n = snprintf(buf, size,
			 "# tracer: nop\n"
			 "#\n"
			 "# entries-in-buffer/entries-written: 0/0   #P:%u\n"
			 "#\n"
			 "#           TASK-PID     CPU#  |||||  TIMESTAMP  "
			 "FUNCTION\n"
			 "#              | |         |   |||||     |         |\n",
			 ncpus);

	return n < 0 || (size_t)n >= size ? -1 : n;
}

static const char *sym(char *tmp, size_t n, const char *name, unsigned int v)
{
	if (name)
		return name;
	snprintf(tmp, n, "0x%x", v);
	return tmp;
}

int vs_text_event(const struct vs_event *ev, const char **namep, char *args,
		  size_t size)
{
	const struct vs_pkt *p = &ev->pkt;
	char t1[16], t2[16];
	const char *name;
	int n;

	switch (ev->kind) {
	case VS_EV_PKT_TX:
	case VS_EV_PKT_RX:
		name = ev->kind == VS_EV_PKT_TX ? "virtio_transport_alloc_pkt"
						: "virtio_transport_recv_pkt";
		n = snprintf(args, size,
			     "%" PRIu64 ":%u -> %" PRIu64
			     ":%u len=%u type=%s op=%s flags=0x%x",
			     p->src_cid, p->src_port, p->dst_cid, p->dst_port,
			     p->len,
			     sym(t1, sizeof(t1), vs_type_name(p->type), p->type),
			     sym(t2, sizeof(t2), vs_op_name(p->op), p->op),
			     p->flags);
		if (n > 0 && (size_t)n < size &&
		    (ev->present & VS_HAS_ZCOPY))
			n += snprintf(args + n, size - (size_t)n,
				      " zcopy=%s", p->zcopy ? "true" : "false");
		if (n > 0 && (size_t)n < size &&
		    (ev->present & VS_HAS_BUF_ALLOC) &&
		    (ev->present & VS_HAS_FWD_CNT))
			snprintf(args + n, size - (size_t)n,
				 " buf_alloc=%u fwd_cnt=%u", p->buf_alloc,
				 p->fwd_cnt);
		break;
	case VS_EV_IRQ:
		name = "irq_handler_entry";
		snprintf(args, size, "irq=%d name=%s", ev->irq.irq,
			 ev->irq.name);
		break;
	case VS_EV_IRQ_EXIT:
		name = "irq_handler_exit";
		snprintf(args, size, "irq=%d ret=%s", ev->irq.irq,
			 ev->irq.ret ? "handled" : "unhandled");
		break;
	case VS_EV_ALLOC:
		if (ev->alloc.source == VS_ALLOC_PAGE) {
			name = "mm_page_alloc";
			snprintf(args, size,
				 "page=%s pfn=0x%x order=%d migratetype=0 "
				 "gfp_flags=GFP_KERNEL",
				 ev->alloc.failed ? "0000000000000000"
						  : "00000000deadbeef",
				 ev->alloc.failed ? 0 : 0x1234,
				 ev->alloc.order);
		} else {
			name = "kmalloc";
			snprintf(args, size,
				 "call_site=%s ptr=%s bytes_req=%" PRIu64
				 " bytes_alloc=%" PRIu64 " gfp_flags=GFP_KERNEL",
				 ev->alloc.call_site[0] ? ev->alloc.call_site
							: "0xffffffff81000000",
				 ev->alloc.failed ? "0000000000000000"
						  : "00000000deadbeef",
				 ev->alloc.bytes_req, ev->alloc.bytes_alloc);
		}
		break;
	case VS_EV_VQ_KICK:
	case VS_EV_VQ_CALL:
	case VS_EV_VQ_IRQ:
	case VS_EV_VQ_ADD:
	case VS_EV_VQ_GET:
		name = ev->kind == VS_EV_VQ_KICK   ? "vsockscope:vq_kick"
		       : ev->kind == VS_EV_VQ_CALL ? "vsockscope:vq_call"
		       : ev->kind == VS_EV_VQ_IRQ  ? "vsockscope:vq_irq"
		       : ev->kind == VS_EV_VQ_ADD  ? "vsockscope:vq_add"
						   : "vsockscope:vq_get";
		n = snprintf(args, size, "dev=%s vq=%s", ev->vq.dev,
			     ev->vq.vq);
		if (n > 0 && (size_t)n < size &&
		    (ev->present & VS_HAS_IDX))
			n += snprintf(args + n, size - (size_t)n,
				      " %s=%u",
				      ev->kind == VS_EV_VQ_KICK ||
						      ev->kind == VS_EV_VQ_ADD
					      ? "avail_idx"
					      : "used_idx",
				      ev->vq.idx);
		if (n > 0 && (size_t)n < size &&
		    (ev->present & VS_HAS_NUM))
			snprintf(args + n, size - (size_t)n, " num=%u",
				 ev->vq.num);
		break;
	case VS_EV_MBOX_TX:
	case VS_EV_MBOX_RX:
		name = ev->kind == VS_EV_MBOX_TX ? "vsockscope:mbox_tx"
						 : "vsockscope:mbox_rx";
		snprintf(args, size, "chan=%s msg=0x%" PRIx64,
			 ev->mbox.chan, ev->mbox.msg);
		break;
	case VS_EV_MARK:
		name = "tracing_mark_write";
		snprintf(args, size, "%s", ev->text);
		break;
	default:
		return -1;
	}
	*namep = name;
	return 0;
}

int vs_text_format(const struct vs_event *ev, char *buf, size_t size)
{
	char task[48], ts[32], args[256];
	const char *name;
	int n;

	if (vs_text_event(ev, &name, args, sizeof(args)))
		return -1;
	if (ev->present & VS_HAS_COMM)
		snprintf(task, sizeof(task), "%16s-%-7d", ev->comm,
			 ev->pid < 0 ? 0 : ev->pid);
	else
		snprintf(task, sizeof(task), "%16s-%-7d", "<...>",
			 ev->pid < 0 ? 0 : ev->pid);
	snprintf(ts, sizeof(ts), "%5" PRIu64 ".%06" PRIu64,
		 ev->ts_ns / UINT64_C(1000000000),
		 (ev->ts_ns % UINT64_C(1000000000)) / 1000);
	n = snprintf(buf, size, "%s [%03d] ..... %s: %s: %s\n", task,
		     ev->cpu < 0 ? 0 : ev->cpu, ts, name, args);
	return n < 0 || (size_t)n >= size ? -1 : n;
}
