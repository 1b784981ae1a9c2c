// SPDX-License-Identifier: GPL-2.0-only
/* Events → tracefs text lines. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "fmt.h"
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

/*
 * The same text without printf, for the kinds a transport writes per
 * packet: vs_text_format() spends most of a sim's tracing time in printf.
 * Each put_* appends to @p and returns the new end; vs_text_event() stays
 * the reference (the unit tests compare the two).
 */
static char *put_mem(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define put_lit(p, lit) put_mem(p, lit, sizeof(lit) - 1)

/* a NUL-terminated string of at most @max bytes */
static char *put_str(char *p, const char *s, size_t max)
{
	return put_mem(p, s, strnlen(s, max));
}

/* one of this library's own names */
static char *put_name(char *p, const char *s)
{
	return put_mem(p, s, strlen(s));
}

static char *put_int(char *p, int v)
{
	if (v < 0) {
		*p++ = '-';
		return vs_fmt_dec(p, (uint64_t)0 - (uint64_t)(int64_t)v);
	}
	return vs_fmt_dec(p, (uint64_t)v);
}

static char *put_hex(char *p, uint64_t v)
{
	char t[16];
	unsigned int n = 0;

	do {
		t[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	while (n)
		*p++ = t[--n];
	return p;
}

static char *put_sym(char *p, const char *name, unsigned int v)
{
	if (name)
		return put_name(p, name);
	p = put_lit(p, "0x");
	return put_hex(p, v);
}

/* the args of the per-packet kinds (at most 200 bytes); NULL for others */
static char *fast_args(const struct vs_event *ev, const char **namep, char *p)
{
	const struct vs_pkt *k = &ev->pkt;

	switch (ev->kind) {
	case VS_EV_PKT_TX:
	case VS_EV_PKT_RX:
		*namep = ev->kind == VS_EV_PKT_TX ? "virtio_transport_alloc_pkt"
						  : "virtio_transport_recv_pkt";
		p = vs_fmt_dec(p, k->src_cid);
		*p++ = ':';
		p = vs_fmt_dec(p, k->src_port);
		p = put_lit(p, " -> ");
		p = vs_fmt_dec(p, k->dst_cid);
		*p++ = ':';
		p = vs_fmt_dec(p, k->dst_port);
		p = put_lit(p, " len=");
		p = vs_fmt_dec(p, k->len);
		p = put_lit(p, " type=");
		p = put_sym(p, vs_type_name(k->type), k->type);
		p = put_lit(p, " op=");
		p = put_sym(p, vs_op_name(k->op), k->op);
		p = put_lit(p, " flags=0x");
		p = put_hex(p, k->flags);
		if (ev->present & VS_HAS_ZCOPY)
			p = k->zcopy ? put_lit(p, " zcopy=true")
				     : put_lit(p, " zcopy=false");
		if ((ev->present & VS_HAS_BUF_ALLOC) &&
		    (ev->present & VS_HAS_FWD_CNT)) {
			p = put_lit(p, " buf_alloc=");
			p = vs_fmt_dec(p, k->buf_alloc);
			p = put_lit(p, " fwd_cnt=");
			p = vs_fmt_dec(p, k->fwd_cnt);
		}
		return p;
	case VS_EV_IRQ:
		*namep = "irq_handler_entry";
		p = put_lit(p, "irq=");
		p = put_int(p, ev->irq.irq);
		p = put_lit(p, " name=");
		return put_str(p, ev->irq.name, sizeof(ev->irq.name));
	case VS_EV_ALLOC:
		if (ev->alloc.source == VS_ALLOC_PAGE)
			return NULL;
		*namep = "kmalloc";
		p = put_lit(p, "call_site=");
		if (ev->alloc.call_site[0])
			p = put_str(p, ev->alloc.call_site,
				    sizeof(ev->alloc.call_site));
		else
			p = put_lit(p, "0xffffffff81000000");
		p = ev->alloc.failed ? put_lit(p, " ptr=0000000000000000")
				     : put_lit(p, " ptr=00000000deadbeef");
		p = put_lit(p, " bytes_req=");
		p = vs_fmt_dec(p, ev->alloc.bytes_req);
		p = put_lit(p, " bytes_alloc=");
		p = vs_fmt_dec(p, ev->alloc.bytes_alloc);
		return put_lit(p, " gfp_flags=GFP_KERNEL");
	case VS_EV_VQ_KICK:
	case VS_EV_VQ_CALL:
		*namep = ev->kind == VS_EV_VQ_KICK ? "vsockscope:vq_kick"
						   : "vsockscope:vq_call";
		p = put_lit(p, "dev=");
		p = put_str(p, ev->vq.dev, sizeof(ev->vq.dev));
		p = put_lit(p, " vq=");
		p = put_str(p, ev->vq.vq, sizeof(ev->vq.vq));
		if (ev->present & VS_HAS_IDX) {
			if (ev->kind == VS_EV_VQ_KICK)
				p = put_lit(p, " avail_idx=");
			else
				p = put_lit(p, " used_idx=");
			p = vs_fmt_dec(p, ev->vq.idx);
		}
		if (ev->present & VS_HAS_NUM) {
			p = put_lit(p, " num=");
			p = vs_fmt_dec(p, ev->vq.num);
		}
		return p;
	default:
		return NULL;
	}
}

/* the whole line of a per-packet kind into @buf (512 bytes); or -1 */
static int fast_format(const struct vs_event *ev, char *buf)
{
	const char *name, *comm = "<...>";
	char args[256], *end, *pid, *p = buf;
	size_t n;

	end = fast_args(ev, &name, args);
	if (!end)
		return -1;
	if (ev->present & VS_HAS_COMM)
		comm = ev->comm;
	n = strnlen(comm, sizeof(ev->comm));
	for (; n < 16; n++)
		*p++ = ' ';
	p = put_str(p, comm, sizeof(ev->comm));
	*p++ = '-';
	pid = p;
	p = vs_fmt_dec(p, ev->pid < 0 ? 0 : (uint64_t)ev->pid);
	while (p - pid < 7)
		*p++ = ' ';
	p = put_lit(p, " [");
	p = vs_fmt_decw(p, ev->cpu < 0 ? 0 : (uint64_t)ev->cpu, 3, '0');
	p = put_lit(p, "] ..... ");
	p = vs_fmt_decw(p, ev->ts_ns / UINT64_C(1000000000), 5, ' ');
	*p++ = '.';
	p = vs_fmt_decw(p, (ev->ts_ns % UINT64_C(1000000000)) / 1000, 6, '0');
	p = put_lit(p, ": ");
	p = put_name(p, name);
	p = put_lit(p, ": ");
	p = put_mem(p, args, (size_t)(end - args));
	*p++ = '\n';
	return (int)(p - buf);
}

int vs_text_format(const struct vs_event *ev, char *buf, size_t size)
{
	char task[48], ts[32], args[256], line[512];
	const char *name;
	int n;

	n = fast_format(ev, line);
	if (n >= 0) {
		if ((size_t)n >= size)
			return -1;
		memcpy(buf, line, (size_t)n);
		buf[n] = '\0';
		return n;
	}
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
