// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF source: open → choose a method per hook → set rodata and
 * autoload → load → attach → poll the one ring buffer.
 *
 * Each probe family (bpf/<family>.bpf.c) is one skeleton holding every
 * variant of its hooks; only the chosen variant of each hook is loaded. A
 * method is chosen by trying it for real: a no-op program of that type is
 * loaded against the hook and attached, then dropped (this is how a kernel
 * that lists fentry targets in its BTF but refuses the attach is caught).
 * A variant that still fails to load or attach is replaced by the next
 * method and the family is loaded again.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "source_bpf.h"
#include "../bpf/vs_record.h"
#include "irq.skel.h"
#include "alloc.skel.h"
#include "vring.skel.h"
#include "mbox.skel.h"
#include "vsock.skel.h"

/* ---- families: one skeleton each, driven through the same few calls */

struct family {
	unsigned int bit;
	const char *name;
	void *(*open)(void);
	void (*destroy)(void *skel);
	struct bpf_object *(*obj)(void *skel);
	struct bpf_map *(*rb)(void *skel);
	struct vs_bpf_cfg *(*cfg)(void *skel);
	uint64_t (*lost)(void *skel);
};

#define FAMILY_OPS(fam)                                                       \
	static void *fam##_open(void)                                         \
	{                                                                     \
		return fam##_bpf__open();                                     \
	}                                                                     \
	static void fam##_destroy(void *s)                                    \
	{                                                                     \
		fam##_bpf__destroy(s);                                        \
	}                                                                     \
	static struct bpf_object *fam##_obj(void *s)                          \
	{                                                                     \
		return ((struct fam##_bpf *)s)->obj;                          \
	}                                                                     \
	static struct bpf_map *fam##_rb(void *s)                              \
	{                                                                     \
		return ((struct fam##_bpf *)s)->maps.rb;                      \
	}                                                                     \
	static struct vs_bpf_cfg *fam##_cfg(void *s)                          \
	{                                                                     \
		/* .rodata is writable until load */                          \
		return (struct vs_bpf_cfg *)&((struct fam##_bpf *)s)->rodata->cfg; \
	}                                                                     \
	static uint64_t fam##_lost(void *s)                                   \
	{                                                                     \
		return __atomic_load_n(&((struct fam##_bpf *)s)->bss->lost,  \
				       __ATOMIC_RELAXED);                     \
	}

FAMILY_OPS(vsock)
FAMILY_OPS(vring)
FAMILY_OPS(irq)
FAMILY_OPS(mbox)
FAMILY_OPS(alloc)

#define FAMILY(fam, b)                                                        \
	{ b, #fam, fam##_open, fam##_destroy, fam##_obj, fam##_rb, fam##_cfg, \
	  fam##_lost }

static const struct family families[] = {
	FAMILY(vsock, VS_PROBE_VSOCK), FAMILY(vring, VS_PROBE_VRING),
	FAMILY(irq, VS_PROBE_IRQ),     FAMILY(mbox, VS_PROBE_MBOX),
	FAMILY(alloc, VS_PROBE_ALLOC),
};

#define NFAM (sizeof(families) / sizeof(families[0]))

/* ---- hooks */

enum { M_BEST, M_FALLBACK, M__N }; /* tp_btf, raw_tp | fentry, kprobe */

struct hook_def {
	unsigned int family;
	const char *name;	 /* the tracepoint or the function */
	bool tp;		 /* a tracepoint, else a function */
	bool ret;		 /* a function whose result is read */
	const char *prog[M__N];	 /* the program per method */
	const char *kretprobe;	 /* ret: the program paired with prog[1] */
};

#define TP(f, n, best, raw) { f, n, true, false, { best, raw }, NULL }
#define FN(f, n, fe, kp) { f, n, false, false, { fe, kp }, NULL }
#define FN_RET(f, n, p) \
	{ f, n, false, true, { p "_fexit", p "_kprobe" }, p "_kretprobe" }

static const struct hook_def hook_defs[] = {
	TP(VS_PROBE_VSOCK, "virtio_transport_alloc_pkt", "alloc_pkt_btf",
	   "alloc_pkt_raw"),
	TP(VS_PROBE_VSOCK, "virtio_transport_recv_pkt", "recv_pkt_btf",
	   "recv_pkt_raw"),
	FN_RET(VS_PROBE_VSOCK, "virtio_transport_get_credit", "get_credit"),
	FN(VS_PROBE_VSOCK, "virtio_transport_put_credit", "put_credit_fentry",
	   "put_credit_kprobe"),
	FN(VS_PROBE_VSOCK, "virtio_transport_send_credit_update",
	   "send_credit_update_fentry", "send_credit_update_kprobe"),

	FN(VS_PROBE_VRING, "vring_interrupt", "vring_interrupt_fentry",
	   "vring_interrupt_kprobe"),
	FN(VS_PROBE_VRING, "virtqueue_notify", "virtqueue_notify_fentry",
	   "virtqueue_notify_kprobe"),
	FN(VS_PROBE_VRING, "vp_notify", "vp_notify_fentry", "vp_notify_kprobe"),
	FN(VS_PROBE_VRING, "vm_notify", "vm_notify_fentry", "vm_notify_kprobe"),
	FN_RET(VS_PROBE_VRING, "virtqueue_add_outbuf", "virtqueue_add_outbuf"),
	FN_RET(VS_PROBE_VRING, "virtqueue_add_inbuf", "virtqueue_add_inbuf"),
	FN_RET(VS_PROBE_VRING, "virtqueue_add_inbuf_ctx",
	       "virtqueue_add_inbuf_ctx"),
	FN_RET(VS_PROBE_VRING, "virtqueue_add_sgs", "virtqueue_add_sgs"),
	FN_RET(VS_PROBE_VRING, "virtqueue_get_buf_ctx",
	       "virtqueue_get_buf_ctx"),

	TP(VS_PROBE_IRQ, "irq_handler_entry", "irq_entry_btf", "irq_entry_raw"),
	TP(VS_PROBE_IRQ, "irq_handler_exit", "irq_exit_btf", "irq_exit_raw"),

	FN(VS_PROBE_MBOX, "mbox_send_message", "mbox_send_message_fentry",
	   "mbox_send_message_kprobe"),
	FN(VS_PROBE_MBOX, "mbox_chan_received_data",
	   "mbox_chan_received_data_fentry", "mbox_chan_received_data_kprobe"),
	FN(VS_PROBE_MBOX, "rproc_vq_interrupt", "rproc_vq_interrupt_fentry",
	   "rproc_vq_interrupt_kprobe"),
	FN(VS_PROBE_MBOX, "rpmsg_send", "rpmsg_send_fentry",
	   "rpmsg_send_kprobe"),
	FN(VS_PROBE_MBOX, "rpmsg_sendto", "rpmsg_sendto_fentry",
	   "rpmsg_sendto_kprobe"),
	FN(VS_PROBE_MBOX, "rpmsg_trysend", "rpmsg_trysend_fentry",
	   "rpmsg_trysend_kprobe"),

	TP(VS_PROBE_ALLOC, "kmalloc", "kmalloc_btf", "kmalloc_raw"),
	TP(VS_PROBE_ALLOC, "kmalloc_node", "kmalloc_node_btf",
	   "kmalloc_node_raw"),
	TP(VS_PROBE_ALLOC, "mm_page_alloc", "page_alloc_btf", "page_alloc_raw"),
};

#define NHOOK_DEFS (sizeof(hook_defs) / sizeof(hook_defs[0]))

static const char *method_name(const struct hook_def *h, int m)
{
	if (h->tp)
		return m == M_BEST ? "tp_btf" : "raw_tp";
	if (m == M_BEST)
		return h->ret ? "fexit" : "fentry";
	return h->ret ? "kretprobe" : "kprobe";
}

struct hook {
	const struct hook_def *def;
	int fam;	/* index in families[] */
	int m;		/* the method in use, -1 none */
	struct bpf_link *link[2];
};

/* ---- kernel symbols: function lookup, and call sites as "fn+0x1c/0x80" */

struct ksym {
	uint64_t addr;
	uint32_t name; /* offset in names */
};

struct ksyms {
	struct ksym *s;
	size_t n;
	char *names;
};

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void ksyms_free(struct ksyms *k)
{
	if (!k)
		return;
	free(k->s);
	free(k->names);
	free(k);
}

/* text symbols of /proc/kallsyms; NULL when it hides the addresses */
static struct ksyms *ksyms_load(void)
{
	size_t cap = 0, ncap = 0, nlen = 0, lcap = 0;
	struct ksyms *k = calloc(1, sizeof(*k));
	char *line = NULL;
	bool any = false;
	FILE *f;

	if (!k)
		return NULL;
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		goto fail;
	while (getline(&line, &lcap, f) > 0) {
		char *p = line, *end, type, *name;
		uint64_t addr = strtoull(p, &end, 16);
		size_t len;

		if (end == p || *end != ' ')
			continue;
		type = end[1];
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		name = end + 3;
		len = strcspn(name, " \t\n");
		if (!len)
			continue;
		if (k->n == cap) {
			size_t nc = cap ? cap * 2 : 65536;
			struct ksym *ns = realloc(k->s, nc * sizeof(*ns));

			if (!ns)
				goto fail;
			k->s = ns;
			cap = nc;
		}
		if (nlen + len + 1 > ncap) {
			size_t nc = ncap ? ncap * 2 : 1 << 20;
			char *nn;

			while (nc < nlen + len + 1)
				nc *= 2;
			nn = realloc(k->names, nc);
			if (!nn)
				goto fail;
			k->names = nn;
			ncap = nc;
		}
		memcpy(k->names + nlen, name, len);
		k->names[nlen + len] = '\0';
		k->s[k->n].addr = addr;
		k->s[k->n].name = (uint32_t)nlen;
		k->n++;
		nlen += len + 1;
		if (addr)
			any = true;
	}
	fclose(f);
	f = NULL;
	free(line);
	line = NULL;
	if (!any) {
		/* still good for "does this function exist" */
		for (size_t i = 0; i < k->n; i++)
			k->s[i].addr = 0;
	} else {
		qsort(k->s, k->n, sizeof(*k->s), ksym_cmp);
	}
	return k;
fail:
	if (f)
		fclose(f);
	free(line);
	ksyms_free(k);
	return NULL;
}

static bool ksyms_has(const struct ksyms *k, const char *name)
{
	for (size_t i = 0; k && i < k->n; i++)
		if (!strcmp(k->names + k->s[i].name, name))
			return true;
	return false;
}

/* the code of function @name, [*lo, *hi); -ENOENT when it is not there or
 * the addresses are hidden */
static int ksyms_range(const struct ksyms *k, const char *name, uint64_t *lo,
		       uint64_t *hi)
{
	for (size_t i = 0; k && i + 1 < k->n; i++) {
		if (strcmp(k->names + k->s[i].name, name) || !k->s[i].addr)
			continue;
		*lo = k->s[i].addr;
		*hi = k->s[i + 1].addr;
		return *hi > *lo ? 0 : -ENOENT;
	}
	return -ENOENT;
}

static void ksyms_name(const struct ksyms *k, uint64_t addr, char *buf,
		       size_t len)
{
	size_t lo = 0, hi = k ? k->n : 0;

	/* the last symbol at or below addr, and the one after it */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->s[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (k && lo > 0 && lo < k->n && k->s[lo - 1].addr) {
		const struct ksym *s = &k->s[lo - 1];

		snprintf(buf, len, "%s+0x%" PRIx64 "/0x%" PRIx64,
			 k->names + s->name, addr - s->addr,
			 k->s[lo].addr - s->addr);
		return;
	}
	snprintf(buf, len, "0x%" PRIx64, addr);
}

/* ---- the handle */

#define LOG_MAX 4096

struct vs_bpf {
	struct vs_bpf_opts opts;
	struct vs_bpf_cfg cfg;
	struct hook *hooks;
	struct vs_probe_status *status; /* parallel to hooks */
	unsigned int n;
	void *skel[NFAM];
	int rb_fd;
	struct ring_buffer *ring;
	struct ksyms *ksyms;
	struct btf *vmlinux;
	/* module BTFs, loaded when a hook is not in vmlinux */
	struct btf **mod_btf;
	int *mod_fd;
	unsigned int nmod;
	bool mods_loaded;
	/* libbpf's messages while loading */
	char log[LOG_MAX];
	size_t loglen;
	/* vs_bpf_poll */
	void (*cb)(void *ctx, const struct vs_event *ev);
	void *cb_ctx;
	int delivered;
};

static struct vs_bpf *log_owner;

static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	struct vs_bpf *b = log_owner;
	int n;

	if (!b || level == LIBBPF_DEBUG || b->loglen >= LOG_MAX - 1)
		return 0;
	n = vsnprintf(b->log + b->loglen, LOG_MAX - b->loglen, fmt, ap);
	if (n > 0)
		b->loglen += (size_t)n < LOG_MAX - b->loglen
				     ? (size_t)n
				     : LOG_MAX - 1 - b->loglen;
	return 0;
}

/* "; " between the refusals of one hook */
static void why_add(struct vs_probe_status *st, const char *fmt, ...)
{
	size_t len = strlen(st->why);
	va_list ap;

	if (len && len < sizeof(st->why) - 1) {
		snprintf(st->why + len, sizeof(st->why) - len, "; ");
		len = strlen(st->why);
	}
	va_start(ap, fmt);
	vsnprintf(st->why + len, sizeof(st->why) - len, fmt, ap);
	va_end(ap);
}

static const char *err_text(int err)
{
	switch (err) {
	case -EOPNOTSUPP:
		return "not supported by this kernel";
	case -ENOENT:
		return "not in this kernel";
	default:
		return strerror(-err);
	}
}

/* ---- BTF: find a type in vmlinux or a module */

static void load_module_btfs(struct vs_bpf *b)
{
	__u32 id = 0;

	b->mods_loaded = true;
	while (!bpf_btf_get_next_id(id, &id)) {
		struct bpf_btf_info info = { 0 };
		__u32 len = sizeof(info);
		char name[64] = "";
		struct btf *btf, **nb;
		int fd, *nf;

		fd = bpf_btf_get_fd_by_id(id);
		if (fd < 0)
			continue;
		info.name = (__u64)(unsigned long)name;
		info.name_len = sizeof(name);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) || !info.kernel_btf ||
		    !strcmp(name, "vmlinux")) {
			close(fd);
			continue;
		}
		btf = btf__load_from_kernel_by_id_split(id, b->vmlinux);
		nb = realloc(b->mod_btf, (b->nmod + 1) * sizeof(*nb));
		if (nb)
			b->mod_btf = nb;
		nf = realloc(b->mod_fd, (b->nmod + 1) * sizeof(*nf));
		if (nf)
			b->mod_fd = nf;
		if (!btf || !nb || !nf) {
			btf__free(btf);
			close(fd);
			continue;
		}
		b->mod_btf[b->nmod] = btf;
		b->mod_fd[b->nmod] = fd;
		b->nmod++;
	}
}

/* the type's id (> 0) and the BTF holding it; obj_fd 0 for vmlinux */
static int find_btf(struct vs_bpf *b, const char *name, __u32 kind,
		    const struct btf **btf, int *obj_fd)
{
	int id = btf__find_by_name_kind(b->vmlinux, name, kind);

	if (id > 0) {
		*btf = b->vmlinux;
		*obj_fd = 0;
		return id;
	}
	if (!b->mods_loaded)
		load_module_btfs(b);
	for (unsigned int i = 0; i < b->nmod; i++) {
		id = btf__find_by_name_kind(b->mod_btf[i], name, kind);
		if (id > 0) {
			*btf = b->mod_btf[i];
			*obj_fd = b->mod_fd[i];
			return id;
		}
	}
	return -ENOENT;
}

/*
 * A tracepoint's arguments in BTF (btf_trace_<name>): their count, and
 * whether argument @bool_at (0-based) is a bool. -ENOENT without BTF.
 */
static int tp_args(struct vs_bpf *b, const char *tp, int bool_at,
		   bool *is_bool)
{
	const struct btf_param *p;
	const struct btf_type *t;
	const struct btf *btf;
	char name[96];
	int id, fd, n;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = find_btf(b, name, BTF_KIND_TYPEDEF, &btf, &fd);
	if (id < 0)
		return id;
	t = btf__type_by_id(btf, id);
	t = t ? btf__type_by_id(btf, t->type) : NULL; /* the pointer */
	t = t && btf_is_ptr(t) ? btf__type_by_id(btf, t->type) : NULL;
	if (!t || !btf_is_func_proto(t))
		return -ENOENT;
	n = btf_vlen(t) - 1; /* the first is the tracepoint's data */
	p = btf_params(t);
	*is_bool = false;
	if (bool_at >= 0 && bool_at < n) {
		const struct btf_type *a;

		a = btf__type_by_id(btf, p[bool_at + 1].type);
		while (a && (btf_is_typedef(a) || btf_is_mod(a)))
			a = btf__type_by_id(btf, a->type);
		*is_bool = a && btf_is_int(a) &&
			   (btf_int_encoding(a) & BTF_INT_BOOL);
	}
	return n;
}

/* ---- trying a method for real: a no-op program, attached, dropped */

static int try_prog(enum bpf_prog_type type, enum bpf_attach_type eat,
		    int btf_id, int btf_obj_fd, const char *tp_name)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po, .expected_attach_type = eat,
		    .attach_btf_id = btf_id > 0 ? (__u32)btf_id : 0,
		    .attach_btf_obj_fd = btf_obj_fd);
	int fd, lfd;

	fd = bpf_prog_load(type, "vs_try", "GPL", insns, 2, &po);
	if (fd < 0)
		return -errno;
	lfd = bpf_raw_tracepoint_open(tp_name, fd);
	if (lfd < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(lfd);
	close(fd);
	return 0;
}

static bool kprobes_supported(void)
{
	return !access("/sys/bus/event_source/devices/kprobe/type", F_OK) ||
	       !access("/sys/kernel/tracing/kprobe_events", F_OK) ||
	       !access("/sys/kernel/debug/tracing/kprobe_events", F_OK);
}

/* 0 when method @m works for @h; else -errno */
static int try_method(struct vs_bpf *b, const struct hook_def *h, int m)
{
	const struct btf *btf;
	char name[96];
	int id, fd;

	if (h->tp && m == M_BEST) {
		snprintf(name, sizeof(name), "btf_trace_%s", h->name);
		id = find_btf(b, name, BTF_KIND_TYPEDEF, &btf, &fd);
		if (id < 0)
			return id;
		return try_prog(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, id,
				fd, NULL);
	}
	if (h->tp)
		return try_prog(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, 0,
				h->name);
	if (m == M_BEST) {
		id = find_btf(b, h->name, BTF_KIND_FUNC, &btf, &fd);
		if (id < 0)
			return id;
		return try_prog(BPF_PROG_TYPE_TRACING,
				h->ret ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY,
				id, fd, NULL);
	}
	if (!kprobes_supported())
		return -EOPNOTSUPP;
	return ksyms_has(b->ksyms, h->name) ? 0 : -ENOENT;
}

/* is the hook in this kernel at all (for "not in this kernel") */
static bool hook_exists(struct vs_bpf *b, const struct hook_def *h)
{
	const struct btf *btf;
	char name[96];
	int fd;

	if (h->tp) {
		snprintf(name, sizeof(name), "btf_trace_%s", h->name);
		return find_btf(b, name, BTF_KIND_TYPEDEF, &btf, &fd) > 0 ||
		       try_method(b, h, M_FALLBACK) != -ENOENT;
	}
	return find_btf(b, h->name, BTF_KIND_FUNC, &btf, &fd) > 0 ||
	       ksyms_has(b->ksyms, h->name);
}

/* the first method from @from on that works; -1 when none */
static void choose(struct vs_bpf *b, unsigned int i, int from)
{
	struct hook *h = &b->hooks[i];
	struct vs_probe_status *st = &b->status[i];

	h->m = -1;
	for (int m = from; m < M__N; m++) {
		unsigned int bit = h->def->tp ? (m == M_BEST ? VS_METHOD_TP_BTF
							      : VS_METHOD_RAW_TP)
					      : (m == M_BEST ? VS_METHOD_FENTRY
							      : VS_METHOD_KPROBE);
		int err;

		if (b->opts.avoid & bit) {
			why_add(st, "%s: not asked for", method_name(h->def, m));
			continue;
		}
		err = try_method(b, h->def, m);
		if (!err) {
			h->m = m;
			return;
		}
		st->err = err;
		why_add(st, "%s: %s", method_name(h->def, m), err_text(err));
	}
}

/* method m of hook i failed in the real program: the next one */
static void fail_method(struct vs_bpf *b, unsigned int i, int err,
			const char *what)
{
	struct hook *h = &b->hooks[i];
	struct vs_probe_status *st = &b->status[i];

	st->err = err;
	why_add(st, "%s: %s: %s", method_name(h->def, h->m), what,
		strerror(-err));
	choose(b, i, h->m + 1);
}

/* ---- loading a family */

static int set_autoload(struct bpf_object *obj, const char *name, bool on)
{
	struct bpf_program *p;

	if (!name)
		return 0;
	p = bpf_object__find_program_by_name(obj, name);
	if (!p)
		return -ENOENT;
	return bpf_program__set_autoload(p, on);
}

static void hook_detach(struct hook *h)
{
	for (int k = 0; k < 2; k++) {
		bpf_link__destroy(h->link[k]);
		h->link[k] = NULL;
	}
}

/* the hook whose program libbpf named in its last failure, or -1 */
static int failed_hook(struct vs_bpf *b, int fam)
{
	const char *p = b->log, *last = NULL;
	char name[64];
	size_t len;

	b->log[b->loglen] = '\0';
	while ((p = strstr(p, "prog '")) != NULL) {
		last = p + 6;
		p = last;
	}
	if (!last)
		return -1;
	len = strcspn(last, "'");
	if (len >= sizeof(name))
		return -1;
	memcpy(name, last, len);
	name[len] = '\0';
	for (unsigned int i = 0; i < b->n; i++) {
		const struct hook_def *d = b->hooks[i].def;

		if (b->hooks[i].fam != fam || b->hooks[i].m < 0)
			continue;
		if (!strcmp(d->prog[b->hooks[i].m], name) ||
		    (b->hooks[i].m == M_FALLBACK && d->kretprobe &&
		     !strcmp(d->kretprobe, name)))
			return (int)i;
	}
	return -1;
}

static struct bpf_link *attach_prog(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	if (!p) {
		errno = ENOENT;
		return NULL;
	}
	return bpf_program__attach(p);
}

static int family_load(struct vs_bpf *b, int fam)
{
	const struct family *f = &families[fam];
	int attempts = 0;

	for (;;) {
		struct bpf_program *p;
		struct bpf_object *obj;
		bool any = false, again = false;
		void *skel;
		int err;

		for (unsigned int i = 0; i < b->n; i++)
			if (b->hooks[i].fam == fam && b->hooks[i].m >= 0)
				any = true;
		if (!any || attempts++ > 2 * (int)NHOOK_DEFS)
			return 0;

		b->loglen = 0;
		skel = f->open();
		if (!skel)
			return -errno;
		obj = f->obj(skel);
		bpf_object__for_each_program(p, obj)
			bpf_program__set_autoload(p, false);
		for (unsigned int i = 0; i < b->n; i++) {
			struct hook *h = &b->hooks[i];

			if (h->fam != fam || h->m < 0)
				continue;
			if (set_autoload(obj, h->def->prog[h->m], true) ||
			    (h->m == M_FALLBACK &&
			     set_autoload(obj, h->def->kretprobe, true))) {
				f->destroy(skel);
				return -ENOENT; /* the table and bpf/ disagree */
			}
		}
		*f->cfg(skel) = b->cfg;
		err = bpf_map__reuse_fd(f->rb(skel), b->rb_fd);
		if (err) {
			f->destroy(skel);
			return err;
		}
		err = bpf_object__load(obj);
		if (err) {
			int i = failed_hook(b, fam);

			f->destroy(skel);
			if (i < 0) {
				/* not one program's fault: the family fails */
				for (unsigned int j = 0; j < b->n; j++) {
					if (b->hooks[j].fam != fam ||
					    b->hooks[j].m < 0)
						continue;
					b->status[j].err = err;
					why_add(&b->status[j], "load: %s",
						strerror(-err));
					b->hooks[j].m = -1;
				}
				return 0;
			}
			fail_method(b, (unsigned int)i, err, "load");
			continue;
		}
		for (unsigned int i = 0; i < b->n && !again; i++) {
			struct hook *h = &b->hooks[i];

			if (h->fam != fam || h->m < 0)
				continue;
			h->link[0] = attach_prog(obj, h->def->prog[h->m]);
			if (h->link[0] && h->m == M_FALLBACK &&
			    h->def->kretprobe)
				h->link[1] = attach_prog(obj, h->def->kretprobe);
			if (!h->link[0] ||
			    (h->m == M_FALLBACK && h->def->kretprobe &&
			     !h->link[1])) {
				err = -errno;
				fail_method(b, i, err ? err : -EINVAL,
					    "attach");
				again = true;
			}
		}
		if (again) {
			for (unsigned int i = 0; i < b->n; i++)
				if (b->hooks[i].fam == fam)
					hook_detach(&b->hooks[i]);
			f->destroy(skel);
			continue;
		}
		b->skel[fam] = skel;
		return 0;
	}
}

/* ---- open / close */

static unsigned int ringbuf_size(unsigned int kb)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long want = (unsigned long)(kb ? kb : 1024) * 1024, sz;

	if (page <= 0)
		page = 4096;
	for (sz = (unsigned long)page; sz < want && sz < (1ul << 30); sz <<= 1)
		;
	return (unsigned int)sz;
}

/*
 * libbpf reads on while records keep coming; a consumer whose own work
 * makes records (allocations, with alloc_all) would never get control
 * back. A poll hands over at most this many, then returns.
 */
#define POLL_BUDGET 16384
#define BUDGET_SPENT (-ECANCELED)

static int on_sample(void *ctx, void *data, size_t size)
{
	struct vs_bpf *b = ctx;
	struct vs_event ev;

	if (!vs_bpf_record_event(b, data, size, &ev)) {
		b->delivered++;
		if (b->cb)
			b->cb(b->cb_ctx, &ev);
	}
	/* this record is consumed either way */
	return b->delivered >= POLL_BUDGET ? BUDGET_SPENT : 0;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int vs_bpf_open(const struct vs_bpf_opts *o, struct vs_bpf **out, char *err,
		size_t errlen)
{
	bool need_ksyms = false, attached = false;
	struct vs_bpf *b;
	unsigned int i;
	int ret;

	*out = NULL;
	if (!o || !(o->probes & VS_PROBE_ALL) || (o->probes & ~VS_PROBE_ALL)) {
		set_err(err, errlen, "no probe family asked for");
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	b->opts = *o;
	b->rb_fd = -1;
	log_owner = b;
	libbpf_set_print(libbpf_log);

	b->vmlinux = btf__load_vmlinux_btf();
	if (!b->vmlinux) {
		ret = -ENOENT;
		set_err(err, errlen,
			"the kernel has no BTF (/sys/kernel/btf/vmlinux): the "
			"CO-RE probes cannot load");
		goto fail;
	}
	b->rb_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "vs_rb", 0, 0,
				  ringbuf_size(o->ringbuf_kb), NULL);
	if (b->rb_fd < 0) {
		ret = -errno;
		set_err(err, errlen, "cannot create a BPF ring buffer: %s%s",
			strerror(errno),
			errno == EPERM ? " -- are you root?" : "");
		goto fail;
	}

	/* the settings every program gets in .rodata */
	b->cfg.cid = o->cid;
	b->cfg.has_cid = o->has_cid;
	b->cfg.port = o->port;
	b->cfg.has_port = o->has_port;
	b->cfg.pid = o->pid;
	b->cfg.has_pid = o->has_pid;
	b->cfg.alloc_all = o->alloc_all;
	b->cfg.vq_all = o->vq_all;
	b->cfg.recv_pkt_credit = 1; /* in every kernel that has recv_pkt */
	b->cfg.rb_wake = ringbuf_size(o->ringbuf_kb) / 4;
	if (o->probes & VS_PROBE_VSOCK) {
		bool zc = false;
		int n;

		n = tp_args(b, "virtio_transport_alloc_pkt", 8, &zc);
		b->cfg.alloc_pkt_zcopy = n >= 9 && zc;
		n = tp_args(b, "virtio_transport_recv_pkt", -1, &zc);
		if (n >= 0 && n < 10)
			b->cfg.recv_pkt_credit = 0;
	}

	for (i = 0; i < NHOOK_DEFS; i++)
		if (o->probes & hook_defs[i].family)
			b->n++;
	b->hooks = calloc(b->n, sizeof(*b->hooks));
	b->status = calloc(b->n, sizeof(*b->status));
	if (!b->hooks || !b->status) {
		ret = -ENOMEM;
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < NHOOK_DEFS; i++) {
		if ((o->probes & hook_defs[i].family) && !hook_defs[i].tp)
			need_ksyms = true;
	}
	if (need_ksyms || (o->probes & VS_PROBE_ALLOC))
		b->ksyms = ksyms_load();
	if (o->probes & VS_PROBE_ALLOC) {
		/* where the vsock packet allocators are (VS_REC_FN_*) */
		static const char *const fns[] = {
			[VS_REC_FN_ALLOC_SKB] = "virtio_transport_alloc_skb",
			[VS_REC_FN_ALLOC_PKT] = "virtio_transport_alloc_pkt",
		};

		for (i = 0; i < 2; i++) {
			uint64_t lo, hi;

			if (ksyms_range(b->ksyms, fns[i], &lo, &hi))
				continue;
			b->cfg.alloc_fn_lo[i] = lo;
			b->cfg.alloc_fn_hi[i] = hi;
		}
	}

	/* a method per hook, each tried for real */
	for (unsigned int k = 0, j = 0; k < NHOOK_DEFS; k++) {
		const struct hook_def *d = &hook_defs[k];
		struct vs_probe_status *st = &b->status[j];
		struct hook *h = &b->hooks[j];

		if (!(o->probes & d->family))
			continue;
		h->def = d;
		h->m = -1;
		for (unsigned int fi = 0; fi < NFAM; fi++)
			if (families[fi].bit == d->family)
				h->fam = (int)fi;
		snprintf(st->family, sizeof(st->family), "%s",
			 families[h->fam].name);
		snprintf(st->hook, sizeof(st->hook), "%s%s", d->name,
			 d->tp ? "" : "()");
		j++;
		if (!hook_exists(b, d)) {
			st->err = -ENOENT;
			snprintf(st->why, sizeof(st->why), "not in this kernel");
			continue;
		}
		choose(b, j - 1, M_BEST);
	}

	for (unsigned int fi = 0; fi < NFAM; fi++) {
		if (!(o->probes & families[fi].bit))
			continue;
		ret = family_load(b, (int)fi);
		if (ret) {
			set_err(err, errlen, "cannot load the %s probes: %s",
				families[fi].name, strerror(-ret));
			goto fail;
		}
	}
	for (i = 0; i < b->n; i++) {
		struct hook *h = &b->hooks[i];

		if (h->m < 0 || !h->link[0])
			continue;
		snprintf(b->status[i].method, sizeof(b->status[i].method), "%s",
			 method_name(h->def, h->m));
		b->status[i].err = 0;
		attached = true;
	}
	if (!attached) {
		ret = -EOPNOTSUPP;
		for (i = 0; i < b->n && b->status[i].err == -ENOENT; i++)
			;
		if (i == b->n)
			i = 0;
		set_err(err, errlen, "no probe could attach: %s %s: %s",
			b->status[i].family, b->status[i].hook,
			b->status[i].why);
		goto fail;
	}
	b->ring = ring_buffer__new(b->rb_fd, on_sample, b, NULL);
	if (!b->ring) {
		ret = -errno;
		set_err(err, errlen, "cannot read the ring buffer: %s",
			strerror(errno));
		goto fail;
	}
	*out = b;
	return 0;
fail:
	vs_bpf_close(b);
	return ret;
}

const struct vs_probe_status *vs_bpf_status(const struct vs_bpf *b,
					    unsigned int *n)
{
	*n = b ? b->n : 0;
	return b ? b->status : NULL;
}

int vs_bpf_poll(struct vs_bpf *b, int timeout_ms,
		void (*cb)(void *ctx, const struct vs_event *ev), void *ctx)
{
	int err;

	b->cb = cb;
	b->cb_ctx = ctx;
	b->delivered = 0;
	err = ring_buffer__poll(b->ring, timeout_ms);
	/* records come without a wakeup (rec_submit): read them anyway */
	if (err >= 0)
		err = ring_buffer__consume(b->ring);
	b->cb = NULL;
	if (err < 0 && err != BUDGET_SPENT)
		return err;
	return b->delivered;
}

uint64_t vs_bpf_lost(const struct vs_bpf *b)
{
	uint64_t n = 0;

	for (unsigned int fi = 0; b && fi < NFAM; fi++)
		if (b->skel[fi])
			n += families[fi].lost(b->skel[fi]);
	return n;
}

void vs_bpf_close(struct vs_bpf *b)
{
	if (!b)
		return;
	log_owner = b; /* libbpf may still speak while tearing down */
	ring_buffer__free(b->ring);
	for (unsigned int i = 0; i < b->n; i++)
		hook_detach(&b->hooks[i]);
	for (unsigned int fi = 0; fi < NFAM; fi++)
		if (b->skel[fi])
			families[fi].destroy(b->skel[fi]);
	if (b->rb_fd >= 0)
		close(b->rb_fd);
	for (unsigned int i = 0; i < b->nmod; i++) {
		btf__free(b->mod_btf[i]);
		close(b->mod_fd[i]);
	}
	free(b->mod_btf);
	free(b->mod_fd);
	btf__free(b->vmlinux);
	ksyms_free(b->ksyms);
	free(b->hooks);
	free(b->status);
	log_owner = NULL;
	free(b);
}

/* ---- records to events, as lib/source_text.c fills them */

static void copy_name(char *dst, size_t dstlen, const char *src,
		      size_t srclen)
{
	size_t n = strnlen(src, srclen);

	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void vq_dev_name(const struct vs_rec_vq *q, char *buf, size_t len)
{
	static const struct {
		uint32_t id;
		const char *name;
	} ids[] = {
		{ 1, "net" },	 { 2, "blk" },	 { 3, "console" }, { 4, "rng" },
		{ 5, "balloon" }, { 8, "scsi" },	 { 9, "9p" },	   { 16, "gpu" },
		{ 18, "input" },  { 19, "vsock" }, { 26, "fs" },
	};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		if (ids[i].id != q->dev_id)
			continue;
		/* vsock has one device: the name the text formats use */
		if (q->dev_id == 19)
			snprintf(buf, len, "%s", ids[i].name);
		else
			snprintf(buf, len, "%s%d", ids[i].name, q->dev_index);
		return;
	}
	copy_name(buf, len, q->dev, sizeof(q->dev));
}

static void credit_text(const struct vs_rec_credit *c, char *buf, size_t len)
{
	/* the sender's view: peer_free = peer_buf_alloc - (tx_cnt -
	 * peer_fwd_cnt) */
	uint32_t free_ = c->peer_buf_alloc - (c->tx_cnt - c->peer_fwd_cnt);

	switch (c->op) {
	case VS_REC_CREDIT_GET:
		snprintf(buf, len, "credit get %u:%u -> %u:%u want=%u got=%u "
			 "free=%u", c->src_cid, c->src_port, c->dst_cid,
			 c->dst_port, c->credit, c->granted, free_);
		break;
	case VS_REC_CREDIT_PUT:
		snprintf(buf, len, "credit put %u:%u -> %u:%u put=%u free=%u",
			 c->src_cid, c->src_port, c->dst_cid, c->dst_port,
			 c->credit, free_);
		break;
	default:
		snprintf(buf, len, "credit update %u:%u -> %u:%u buf_alloc=%u "
			 "fwd_cnt=%u", c->src_cid, c->src_port, c->dst_cid,
			 c->dst_port, c->buf_alloc, c->fwd_cnt);
		break;
	}
}

int vs_bpf_record_event(const struct vs_bpf *b, const void *rec, size_t len,
			struct vs_event *ev)
{
	static const char *const alloc_fns[] = {
		[VS_REC_FN_ALLOC_SKB] = "virtio_transport_alloc_skb",
		[VS_REC_FN_ALLOC_PKT] = "virtio_transport_alloc_pkt",
	};
	const struct vs_record *r = rec;

	if (len < sizeof(*r))
		return -EINVAL;
	vs_event_clear(ev);
	ev->ts_ns = r->ts_ns;
	ev->cpu = (int32_t)r->cpu;
	ev->pid = (int32_t)r->tid;
	ev->system = b ? b->opts.system : 0;
	ev->present = VS_HAS_TS | VS_HAS_CPU | VS_HAS_PID | VS_HAS_COMM;
	/* ftrace prints the idle task as "<idle>-0" */
	if (r->tid == 0)
		snprintf(ev->comm, sizeof(ev->comm), "<idle>");
	else
		copy_name(ev->comm, sizeof(ev->comm), r->comm,
			  sizeof(r->comm));
	ev->kind = r->kind;

	switch (r->kind) {
	case VS_EV_PKT_TX:
	case VS_EV_PKT_RX:
		ev->pkt.src_cid = r->pkt.src_cid;
		ev->pkt.dst_cid = r->pkt.dst_cid;
		ev->pkt.src_port = r->pkt.src_port;
		ev->pkt.dst_port = r->pkt.dst_port;
		ev->pkt.len = r->pkt.len;
		ev->pkt.type = r->pkt.type;
		ev->pkt.op = r->pkt.op;
		ev->pkt.flags = r->pkt.flags;
		ev->present |= VS_HAS_HDR;
		if (r->flags & VS_REC_CREDIT_HDR) {
			ev->pkt.buf_alloc = r->pkt.buf_alloc;
			ev->pkt.fwd_cnt = r->pkt.fwd_cnt;
			ev->present |= VS_HAS_BUF_ALLOC | VS_HAS_FWD_CNT;
		}
		if (r->flags & VS_REC_ZCOPY) {
			ev->pkt.zcopy = r->pkt.zcopy ? 1 : 0;
			ev->present |= VS_HAS_ZCOPY;
		}
		return 0;
	case VS_EV_IRQ:
		ev->irq.irq = r->irq.irq;
		copy_name(ev->irq.name, sizeof(ev->irq.name), r->irq.name,
			  sizeof(r->irq.name));
		ev->present |= VS_HAS_IRQ;
		return 0;
	case VS_EV_IRQ_EXIT:
		ev->irq.irq = r->irq.irq;
		/* the tracepoint prints ret ? "handled" : "unhandled" */
		ev->irq.ret = r->irq.ret ? 1 : 0;
		ev->present |= VS_HAS_IRQ | VS_HAS_RET;
		return 0;
	case VS_EV_ALLOC:
		ev->alloc.failed = !r->alloc.ptr;
		ev->alloc.order = -1;
		if (r->alloc.source == VS_REC_ALLOC_PAGE) {
			ev->alloc.source = VS_ALLOC_PAGE;
			if (r->alloc.order >= -1 && r->alloc.order <= 64)
				ev->alloc.order = (int16_t)r->alloc.order;
			ev->present |= VS_HAS_ORDER;
			if (ev->alloc.order >= 0) {
				ev->alloc.bytes_req = 4096ull
						      << ev->alloc.order;
				ev->alloc.bytes_alloc = ev->alloc.bytes_req;
				ev->present |= VS_HAS_SIZE;
			}
			return 0;
		}
		ev->alloc.source = VS_ALLOC_KMALLOC;
		ev->alloc.bytes_req = r->alloc.bytes_req;
		ev->alloc.bytes_alloc = r->alloc.bytes_alloc;
		ev->present |= VS_HAS_SIZE;
		if (r->alloc.source == VS_REC_ALLOC_FN) {
			if (r->alloc.fn < sizeof(alloc_fns) / sizeof(*alloc_fns))
				snprintf(ev->alloc.call_site,
					 sizeof(ev->alloc.call_site), "%s",
					 alloc_fns[r->alloc.fn]);
			ev->alloc.failed = 1;
			ev->present |= VS_HAS_CALLSITE;
		} else if (r->flags & VS_REC_CALLSITE) {
			ksyms_name(b ? b->ksyms : NULL, r->alloc.call_site,
				   ev->alloc.call_site,
				   sizeof(ev->alloc.call_site));
			ev->present |= VS_HAS_CALLSITE;
		}
		return 0;
	case VS_EV_VQ_KICK:
	case VS_EV_VQ_IRQ:
	case VS_EV_VQ_ADD:
	case VS_EV_VQ_GET:
		vq_dev_name(&r->vq, ev->vq.dev, sizeof(ev->vq.dev));
		copy_name(ev->vq.vq, sizeof(ev->vq.vq), r->vq.vq,
			  sizeof(r->vq.vq));
		if (r->flags & VS_REC_IDX) {
			ev->vq.idx = r->vq.idx;
			ev->present |= VS_HAS_IDX;
		}
		if (r->flags & VS_REC_NUM) {
			ev->vq.num = r->vq.num;
			ev->present |= VS_HAS_NUM;
		}
		return 0;
	case VS_EV_MBOX_TX:
	case VS_EV_MBOX_RX: {
		char chan[VS_REC_NAME_LEN + 1];

		copy_name(chan, sizeof(chan), r->mbox.chan,
			  sizeof(r->mbox.chan));
		if (r->mbox.src == VS_REC_MBOX_CHAN && r->mbox.idx >= 0)
			snprintf(ev->mbox.chan, sizeof(ev->mbox.chan), "%.*s:%d",
				 (int)(sizeof(ev->mbox.chan) - 5), chan,
				 r->mbox.idx % 1000);
		else
			copy_name(ev->mbox.chan, sizeof(ev->mbox.chan), chan,
				  sizeof(chan));
		ev->mbox.msg = r->mbox.msg;
		return 0;
	}
	case VS_REC_CREDIT:
		ev->kind = VS_EV_MARK;
		credit_text(&r->credit, ev->text, sizeof(ev->text));
		return 0;
	default:
		return -EINVAL;
	}
}
