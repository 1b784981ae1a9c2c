// SPDX-License-Identifier: GPL-2.0-only
/*
 * gentrace - write a large, realistic tracefs text trace of one Linux host
 * carrying many virtio-vsock connections, for benchmarks and fuzz seeds.
 *
 *   gentrace --lines N --flows F --seed S [--format trace|pipe|cmd]
 *            [--cpus C] [--stalls K] [--builtin]
 *
 * The traced system is a host (CID 2) whose guests (CIDs 3..) reach it
 * through vhost-vsock with an interrupt-driven doorbell, as in seed 000:
 * a guest's kick shows as irq_handler_entry/exit ("virtioN"), the vhost
 * worker then receives its packets (virtio_transport_recv_pkt); host
 * applications send (virtio_transport_alloc_pkt) from their own context.
 * kmem events follow a "bytes_req >= 4096" filter. F connection slots run
 * concurrently; every connection opens with REQUEST/RESPONSE, moves data
 * both ways under consistent credit (buf_alloc 262144, fwd_cnt advancing as
 * the receiver reads, CREDIT_UPDATE when the reader freed more than 192 KiB
 * since it last advertised, as Linux does) and usually ends with SHUTDOWN
 * then RST. K slots (default F/300) hold a connection whose guest reader
 * stops for 0.3-2.5 s, so the host sender runs out of credit: a real stall.
 * Nothing else is a fault (no refused connection, no bare RST, no failed
 * allocation). Line mix: about 60 % packets, 25 % irq, 15 % kmem.
 *
 * Call sites in modules print as "sym+0xoff/0xsize [module]" under %pS, as
 * on distribution kernels where vsock is modular; --builtin drops that.
 * The field set is the newest (zcopy=, node=, accounted=) while the packet
 * buffer kmalloc is charged to virtio_transport_alloc_pkt as before skbs.
 *
 * Output is deterministic for given options; --lines counts every line
 * written, header included. Timestamps strictly increase (1 us or more).
 *
 * --format trace: `cat trace` (header, 5-column flags, pid width 7)
 * --format pipe:  `cat trace_pipe` (no header)
 * --format cmd:   `trace-cmd report` (cpus=N, pid width 5, no flags,
 *                 event names padded to 20, raw pointers, flags=%#x as
 *                 glibc prints it, kmem plugin "(func+0xoff)" prefix)
 */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUF_ALLOC 262144u
#define MAX_PKT_BUF 65536u /* VIRTIO_VSOCK_MAX_PKT_BUF_SIZE */
#define MAX_CPUS 64
#define MAX_STEP_BYTES (64 * 1024) /* more than one iteration writes */
#define HEADER_LINES 12

enum fmt { FMT_TRACE, FMT_PIPE, FMT_CMD };

enum op {
	OP_REQUEST = 1,
	OP_RESPONSE,
	OP_RST,
	OP_SHUTDOWN,
	OP_RW,
	OP_CREDIT_UPDATE,
};

static const char *const op_names[] = {
	[OP_REQUEST] = "REQUEST", [OP_RESPONSE] = "RESPONSE",
	[OP_RST] = "RST",	  [OP_SHUTDOWN] = "SHUTDOWN",
	[OP_RW] = "RW",		  [OP_CREDIT_UPDATE] = "CREDIT_UPDATE",
};

/* ------------------------------------------------------------------ */
/* deterministic PRNG (splitmix64 seeding xoshiro256**) */

static uint64_t rng_s[4];

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rnd(void)
{
	uint64_t r = rotl(rng_s[1] * 5, 7) * 9;
	uint64_t t = rng_s[1] << 17;

	rng_s[2] ^= rng_s[0];
	rng_s[3] ^= rng_s[1];
	rng_s[1] ^= rng_s[2];
	rng_s[0] ^= rng_s[3];
	rng_s[2] ^= t;
	rng_s[3] = rotl(rng_s[3], 45);
	return r;
}

/* uniform in [0, n) */
static inline uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}

/* uniform in [lo, hi] */
static inline uint32_t rnd_range(uint32_t lo, uint32_t hi)
{
	return lo + rnd_below(hi - lo + 1);
}

/* true with probability pct/1000 */
static inline int chance(uint32_t permille)
{
	return rnd_below(1000) < permille;
}

/* ------------------------------------------------------------------ */
/* output */

#define OBUF_SIZE (4u << 20)

static char *obuf;
static size_t olen;
static enum fmt fmt;
static uint64_t nlines;

static void flush_out(void)
{
	size_t off = 0;

	while (off < olen) {
		ssize_t n = write(STDOUT_FILENO, obuf + off, olen - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EPIPE)
				fprintf(stderr, "gentrace: write: %s\n",
					strerror(errno));
			exit(1);
		}
		off += (size_t)n;
	}
	olen = 0;
}

static inline void put_mem(const char *s, size_t n)
{
	memcpy(obuf + olen, s, n);
	olen += n;
}

static inline void put_str(const char *s)
{
	put_mem(s, strlen(s));
}

static inline void put_ch(char c)
{
	obuf[olen++] = c;
}

static inline void put_spaces(int n)
{
	while (n-- > 0)
		obuf[olen++] = ' ';
}

/* decimal, right-aligned in @width columns */
static void put_u(uint64_t v, int width)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (width > n)
		put_spaces(width - n);
	while (n)
		put_ch(tmp[--n]);
}

static void put_u_left(uint64_t v, int width)
{
	size_t start = olen;

	put_u(v, 0);
	put_spaces(width - (int)(olen - start));
}

static void put_i(int64_t v)
{
	if (v < 0) {
		put_ch('-');
		put_u((uint64_t)-v, 0);
	} else {
		put_u((uint64_t)v, 0);
	}
}

/* zero-padded decimal of exactly @digits digits */
static void put_u_zero(uint64_t v, int digits)
{
	int i;

	for (i = digits - 1; i >= 0; i--) {
		obuf[olen + i] = (char)('0' + v % 10);
		v /= 10;
	}
	olen += digits;
}

/* lowercase hex, zero-padded to at least @digits */
static void put_hex(uint64_t v, int digits)
{
	static const char hx[] = "0123456789abcdef";
	char tmp[16];
	int n = 0;

	do {
		tmp[n++] = hx[v & 15];
		v >>= 4;
	} while (v);
	while (n < digits)
		tmp[n++] = '0';
	while (n)
		put_ch(tmp[--n]);
}

static inline void end_line(void)
{
	put_ch('\n');
	nlines++;
}

/* ------------------------------------------------------------------ */
/* the simulated system */

struct task {
	char comm[16];
	int pid;
	int cpu;
};

struct guest {
	uint32_t cid;
	int irq;
	char irq_name[24];
	int irq_cpu;
	struct task vhost;
};

struct bg_irq {
	int irq;
	const char *name;
	int cpu;
};

enum role { ROLE_REQRESP, ROLE_BULK_TX, ROLE_BULK_RX };

enum fstate {
	FS_FREE,
	FS_ESTABLISHED,
};

struct flow {
	enum fstate state;
	int stall_used; /* this slot had its stall (kept on reuse) */
	enum role role;
	int seqpacket;
	int host_client; /* host connected (else the guest did) */
	int stall; /* this connection's guest reader will stop */
	int phase; /* reqresp: 0 host asks, 1 guest answers */
	struct guest *g;
	struct task *app;
	uint32_t lport, rport;
	/* host side (local) */
	uint32_t l_tx; /* payload bytes sent */
	uint32_t l_rx; /* payload bytes received (= guest tx) */
	uint32_t l_fwd; /* bytes our application read */
	uint32_t l_fwd_adv; /* fwd_cnt we last put in a header */
	/* guest side (peer) */
	uint32_t p_fwd; /* bytes the guest application read */
	uint32_t p_fwd_adv; /* fwd_cnt the guest last put in a header */
	uint32_t steps_left;
	uint64_t wake_us; /* no activity before this time */
	uint64_t stall_at_us; /* stall begins (when stall) */
	uint64_t stall_end_us;
	int shut_wr; /* host did SHUT_WR already */
};

static int ncpus = 4;
static int builtin; /* vsock built in: no " [module]" after call sites */
static uint64_t now_us;
static struct task idle_task[MAX_CPUS];
static struct task *cpu_last[MAX_CPUS];
static struct guest *guests;
static int nguests;
static struct task *apps;
static int napps;
static struct flow *flows;
static int nflows;
static uint64_t n_pkt, n_irq, n_kmem;
static uint32_t mean_steps;
static uint64_t period_us; /* mean time between steps of a slot */

static struct task bg_tasks[8];
static const char *const bg_names[] = {
	"systemd-journal", "sshd",	    "bash",	"kswapd0",
	"containerd",	   "node_exporter", "rsyslogd", "python3",
};

static struct bg_irq bg_irqs[] = {
	{ 29, "nvme0q1", 0 },	  { 30, "nvme0q2", 1 },
	{ 31, "nvme0q3", 2 },	  { 32, "nvme0q4", 3 },
	{ 35, "eth0-TxRx-0", 0 }, { 36, "eth0-TxRx-1", 1 },
	{ 37, "eth0-TxRx-2", 2 }, { 38, "eth0-TxRx-3", 3 },
	{ 9, "acpi", 0 },
};

static const char *const app_names[] = {
	"socat",	   "adbd-relay", "vsock-proxy", "ncat",
	"iperf3",	   "sshd",	 "grpc-server", "vsockexec",
	"containerd-shim", "crosvm_ctl",
};

static const uint32_t svc_ports[] = { 5555, 1024, 9999,	 2222, 52,
				      1234, 8080, 10000, 6000, 7777 };

static void tick(void)
{
	/* strictly increasing, mean ~8 us between lines */
	uint32_t r = rnd_below(1000);

	if (r < 700)
		now_us += 1 + rnd_below(8);
	else if (r < 960)
		now_us += 5 + rnd_below(20);
	else
		now_us += 20 + rnd_below(120);
}

/* "<comm>-<pid> [cpu] flags ts: name: " */
static void prefix(const struct task *t, int cpu, const char *flags,
		   const char *ev, size_t evlen)
{
	size_t cl = strlen(t->comm);

	tick();
	put_spaces(16 - (int)cl);
	put_mem(t->comm, cl);
	put_ch('-');
	put_u_left((uint64_t)t->pid, fmt == FMT_CMD ? 5 : 7);
	put_mem(" [", 2);
	put_u_zero((uint64_t)cpu, 3);
	put_mem("] ", 2);
	if (fmt != FMT_CMD) {
		put_mem(flags, 5);
		put_ch(' ');
	}
	put_u(now_us / 1000000, 5);
	put_ch('.');
	put_u_zero(now_us % 1000000, 6);
	put_mem(": ", 2);
	put_mem(ev, evlen);
	put_mem(": ", 2);
	if (fmt == FMT_CMD && evlen < 20)
		put_spaces(20 - (int)evlen);
	if (cpu < MAX_CPUS && t->pid != 0)
		cpu_last[cpu] = (struct task *)t;
}

#define PREFIX(t, cpu, flags, lit) prefix(t, cpu, flags, lit, sizeof(lit) - 1)

static void put_flags(uint32_t flags)
{
	/* the kernel's %#x prints 0x0; glibc (libtraceevent) prints 0 */
	if (flags == 0 && fmt == FMT_CMD) {
		put_ch('0');
		return;
	}
	put_mem("0x", 2);
	put_hex(flags, 1);
}

static void put_hdr(uint32_t scid, uint32_t sport, uint32_t dcid,
		    uint32_t dport, uint32_t len, int seqpacket, int op,
		    uint32_t flags)
{
	put_u(scid, 0);
	put_ch(':');
	put_u(sport, 0);
	put_mem(" -> ", 4);
	put_u(dcid, 0);
	put_ch(':');
	put_u(dport, 0);
	put_mem(" len=", 5);
	put_u(len, 0);
	if (seqpacket)
		put_str(" type=SEQPACKET op=");
	else
		put_str(" type=STREAM op=");
	put_str(op_names[op]);
	put_mem(" flags=", 7);
	put_flags(flags);
}

static int task_cpu(struct task *t)
{
	/* the scheduler moves a task now and then */
	if (chance(3))
		t->cpu = (int)rnd_below((uint32_t)ncpus);
	return t->cpu;
}

/* a hashed %p (tracefs) or a raw kernel pointer (trace-cmd) */
static void put_ptr(uint64_t raw)
{
	if (fmt == FMT_CMD) {
		put_mem("0x", 2);
		put_hex(raw, 16);
	} else {
		put_hex(rnd() & 0xffffffffull, 16);
	}
}

static void emit_kmalloc(struct task *t, int cpu, const char *func,
			 unsigned int off, unsigned int size, const char *mod,
			 uint32_t bytes_req, const char *gfp)
{
	uint64_t alloc = 8;

	while (alloc < bytes_req)
		alloc <<= 1;
	PREFIX(t, cpu, ".....", "kmalloc");
	if (fmt == FMT_CMD) {
		put_ch('(');
		put_str(func);
		put_mem("+0x", 3);
		put_hex(off, 1);
		put_mem(") call_site=", 12);
		put_str(func);
	} else {
		put_str("call_site=");
		put_str(func);
		put_mem("+0x", 3);
		put_hex(off, 1);
		put_mem("/0x", 3);
		put_hex(size, 1);
		if (mod) {
			put_mem(" [", 2);
			put_str(mod);
			put_ch(']');
		}
	}
	put_str(" ptr=");
	put_ptr(0xffff888100000000ull + ((rnd() & 0x3ffffff) << 12));
	put_str(" bytes_req=");
	put_u(bytes_req, 0);
	put_str(" bytes_alloc=");
	put_u(alloc, 0);
	put_str(" gfp_flags=");
	put_str(gfp);
	put_str(" node=-1 accounted=false");
	end_line();
	n_kmem++;
}

static void emit_page_alloc(struct task *t, int cpu, int order, int mt,
			    const char *gfp)
{
	uint64_t pfn = 0x100000 + (rnd() & 0x3fffff);

	pfn &= ~((1ull << order) - 1);
	PREFIX(t, cpu, ".....", "mm_page_alloc");
	put_str("page=");
	if (fmt == FMT_CMD) {
		put_mem("0x", 2);
		put_hex(0xffffea0000000000ull + pfn * 64, 16);
	} else {
		put_hex(rnd() & 0xffffffffull, 16);
	}
	put_str(" pfn=0x");
	put_hex(pfn, 1);
	put_str(" order=");
	put_i(order);
	put_str(" migratetype=");
	put_i(mt);
	put_str(" gfp_flags=");
	put_str(gfp);
	end_line();
	n_kmem++;
}

static void emit_irq_pair(int irq, const char *name, int cpu)
{
	struct task *t = &idle_task[cpu];
	const char *fl = "d.h1.";

	if (cpu_last[cpu] && chance(300)) {
		t = cpu_last[cpu];
		fl = chance(500) ? "d.h2." : "dNh1.";
	}
	PREFIX(t, cpu, fl, "irq_handler_entry");
	put_str("irq=");
	put_i(irq);
	put_str(" name=");
	put_str(name);
	end_line();
	PREFIX(t, cpu, fl, "irq_handler_exit");
	put_str("irq=");
	put_i(irq);
	put_str(" ret=handled");
	end_line();
	n_irq += 2;
}

/* ------------------------------------------------------------------ */
/* packets */

/*
 * Mix control: vsock-path interrupts and allocations appear while their
 * share is below target + 0.5 %, background ones fill up to target - 1 %.
 */
#define KMEM_PERMILLE 150
#define IRQ_PERMILLE 250

static int kmem_wanted(void)
{
	return n_kmem * 1000 < (n_pkt + n_irq + n_kmem) * (KMEM_PERMILLE + 5);
}

static int irq_wanted(void)
{
	return n_irq * 1000 < (n_pkt + n_irq + n_kmem) * (IRQ_PERMILLE + 5);
}

static int kmem_short(void)
{
	return n_kmem * 1000 < (n_pkt + n_irq + n_kmem) * (KMEM_PERMILLE - 10);
}

static int irq_short(void)
{
	return n_irq * 1000 < (n_pkt + n_irq + n_kmem) * (IRQ_PERMILLE - 10);
}

/* flags of a process-context event */
static const char *fl_proc(void)
{
	uint32_t r = rnd_below(100);

	if (r < 93)
		return ".....";
	return r < 97 ? "...1." : "..N..";
}

/* host → guest: virtio_transport_alloc_pkt in @t's context */
static void host_send(struct flow *f, struct task *t, int op, uint32_t len,
		      uint32_t flags)
{
	int cpu = task_cpu(t);
	const char *mod = builtin ? NULL : "vmw_vsock_virtio_transport_common";

	if (len > 8192 && kmem_wanted()) {
		/* kmalloc_large: straight from the page allocator */
		emit_page_alloc(t, cpu, 4, 0,
				"GFP_KERNEL|__GFP_NOWARN|__GFP_COMP");
	}
	if (len >= 4096 && kmem_wanted())
		emit_kmalloc(t, cpu, "virtio_transport_alloc_pkt", 0x5c, 0x1c0,
			     mod, len, "GFP_KERNEL");
	PREFIX(t, cpu, fl_proc(), "virtio_transport_alloc_pkt");
	put_hdr(2, f->lport, f->g->cid, f->rport, len, f->seqpacket, op, flags);
	put_str(" zcopy=false");
	end_line();
	n_pkt++;
	f->l_tx += len;
	f->l_fwd_adv = f->l_fwd;
}

/* guest → host: one kick (an interrupt unless the worker is polling) */
static void rx_kick(struct flow *f)
{
	if (irq_wanted() && chance(850))
		emit_irq_pair(f->g->irq, f->g->irq_name, f->g->irq_cpu);
}

/* guest → host: virtio_transport_recv_pkt in the vhost worker */
static void host_recv(struct flow *f, int op, uint32_t len, uint32_t flags)
{
	struct task *t = &f->g->vhost;
	int cpu = task_cpu(t);

	if (len >= 4096 && kmem_wanted())
		emit_kmalloc(t, cpu, "vhost_vsock_handle_tx_kick", 0x1b4, 0x3d0,
			     builtin ? NULL : "vhost_vsock", len,
			     len > 8192 ?
				     "GFP_KERNEL|__GFP_NOWARN|__GFP_NORETRY" :
				     "GFP_KERNEL");
	PREFIX(t, cpu, fl_proc(), "virtio_transport_recv_pkt");
	put_hdr(f->g->cid, f->rport, 2, f->lport, len, f->seqpacket, op, flags);
	put_str(" buf_alloc=");
	put_u(BUF_ALLOC, 0);
	put_str(" fwd_cnt=");
	put_u(f->p_fwd, 0);
	end_line();
	n_pkt++;
	f->l_rx += len;
	f->p_fwd_adv = f->p_fwd;
}

/* ------------------------------------------------------------------ */
/* connections */

static uint32_t host_credit(const struct flow *f)
{
	uint32_t inflight = f->l_tx - f->p_fwd_adv;

	return inflight >= BUF_ALLOC ? 0 : BUF_ALLOC - inflight;
}

static uint32_t guest_credit(const struct flow *f)
{
	uint32_t inflight = f->l_rx - f->l_fwd_adv;

	return inflight >= BUF_ALLOC ? 0 : BUF_ALLOC - inflight;
}

static int stalled(const struct flow *f)
{
	return f->stall && now_us >= f->stall_at_us && now_us < f->stall_end_us;
}

/*
 * A reader consumed what it had; Linux sends a CREDIT_UPDATE when it freed
 * more than buf_alloc - VIRTIO_VSOCK_MAX_PKT_BUF_SIZE since its last header.
 */
static void guest_read(struct flow *f)
{
	if (stalled(f))
		return;
	f->p_fwd = f->l_tx;
	if (BUF_ALLOC - (f->p_fwd - f->p_fwd_adv) < MAX_PKT_BUF) {
		rx_kick(f);
		host_recv(f, OP_CREDIT_UPDATE, 0, 0);
	}
}

static void host_read(struct flow *f)
{
	f->l_fwd = f->l_rx;
	if (BUF_ALLOC - (f->l_fwd - f->l_fwd_adv) < MAX_PKT_BUF)
		host_send(f, f->app, OP_CREDIT_UPDATE, 0, 0);
}

static uint32_t msg_len(uint32_t small_pm, uint32_t page_pm)
{
	uint32_t r = rnd_below(1000);

	if (r < small_pm)
		return rnd_range(1, 1024);
	if (r < small_pm + page_pm)
		return 4096;
	return MAX_PKT_BUF;
}

/* the host sends up to @n packets; returns how many went out */
static int host_data(struct flow *f, int n, uint32_t small_pm, uint32_t page_pm)
{
	int sent = 0;

	while (n--) {
		uint32_t c = host_credit(f), len = msg_len(small_pm, page_pm);

		if (!c)
			break;
		if (len > c) {
			if (f->seqpacket)
				break;
			len = c;
		}
		host_send(f, f->app, OP_RW, len, f->seqpacket ? 0x1 : 0);
		sent++;
	}
	return sent;
}

static int guest_data(struct flow *f, int n, uint32_t small_pm,
		      uint32_t page_pm)
{
	int sent = 0;

	while (n--) {
		uint32_t c = guest_credit(f), len = msg_len(small_pm, page_pm);

		if (!c)
			break;
		if (len > c) {
			if (f->seqpacket)
				break;
			len = c;
		}
		if (!sent)
			rx_kick(f);
		host_recv(f, OP_RW, len, f->seqpacket ? 0x1 : 0);
		sent++;
	}
	return sent;
}

static uint32_t ephemeral_port(void)
{
	/* vsock_auto_bind(): LAST_RESERVED_PORT + 1 .. VMADDR_PORT_ANY - 1 */
	return 1024 + (uint32_t)(rnd() % (0xffffffffull - 1024));
}

static void flow_free(struct flow *f, uint64_t idle_us)
{
	f->state = FS_FREE;
	f->wake_us = now_us + idle_us;
}

/* time until this connection's application does something again */
static uint64_t think(void)
{
	return rnd_range(period_us / 4, period_us * 7 / 4);
}

static void flow_open(struct flow *f, int stall_slot)
{
	uint32_t r = rnd_below(100);

	memset(&f->role, 0, sizeof(*f) - offsetof(struct flow, role));
	f->g = &guests[rnd_below((uint32_t)nguests)];
	f->app = &apps[rnd_below((uint32_t)napps)];
	f->role = r < 50 ? ROLE_REQRESP : r < 75 ? ROLE_BULK_TX : ROLE_BULK_RX;
	f->seqpacket = f->role == ROLE_REQRESP && chance(60);
	f->host_client = chance(500);
	f->steps_left = rnd_range(1, 2 * mean_steps);
	if (stall_slot) {
		f->stall = 1;
		f->stall_used = 1;
		f->role = ROLE_BULK_TX;
		f->seqpacket = 0;
		f->host_client = 1;
		f->stall_at_us = now_us + rnd_range(50000, 500000);
		f->stall_end_us = f->stall_at_us + rnd_range(300000, 2500000);
	}
	if (f->host_client) {
		f->lport = ephemeral_port();
		f->rport = svc_ports[rnd_below(sizeof(svc_ports) /
					       sizeof(svc_ports[0]))];
		host_send(f, f->app, OP_REQUEST, 0, 0);
		rx_kick(f);
		host_recv(f, OP_RESPONSE, 0, 0);
	} else {
		f->lport = svc_ports[rnd_below(sizeof(svc_ports) /
					       sizeof(svc_ports[0]))];
		f->rport = ephemeral_port();
		rx_kick(f);
		host_recv(f, OP_REQUEST, 0, 0);
		host_send(f, &f->g->vhost, OP_RESPONSE, 0, 0);
	}
	f->state = FS_ESTABLISHED;
	f->wake_us = now_us + rnd_range(20, 2000);
}

static void flow_close(struct flow *f)
{
	uint32_t r = rnd_below(100);

	if (r < 45) {
		if (!f->shut_wr && chance(300)) {
			/* shutdown(SHUT_WR) first, close() on a later step */
			host_send(f, f->app, OP_SHUTDOWN, 0, 0x2);
			f->shut_wr = 1;
			f->wake_us = now_us + rnd_range(100, 5000);
			return;
		}
		host_send(f, f->app, OP_SHUTDOWN, 0, 0x3);
		rx_kick(f);
		host_recv(f, OP_RST, 0, 0);
	} else {
		rx_kick(f);
		host_recv(f, OP_SHUTDOWN, 0, 0x3);
		host_send(f, &f->g->vhost, OP_RST, 0, 0);
	}
	flow_free(f, think());
}

/* one step of slot @f, due now; always sets a later wake_us */
static void flow_step(struct flow *f, int stall_slot)
{
	if (f->state == FS_FREE) {
		flow_open(f, stall_slot);
		return;
	}
	/* readers read what arrived; Linux then decides on CREDIT_UPDATE */
	guest_read(f);
	host_read(f);
	if (f->steps_left == 0 && !(f->stall && now_us < f->stall_end_us)) {
		flow_close(f);
		return;
	}
	if (f->steps_left)
		f->steps_left--;
	f->wake_us = now_us + think();
	switch (f->role) {
	case ROLE_REQRESP:
		if (f->phase == 0) {
			if (host_data(f, 1 + chance(200), 900, 100)) {
				/* the guest answers within a few hundred us */
				f->phase = 1;
				f->wake_us = now_us + rnd_range(60, 1500);
			}
		} else {
			if (guest_data(f, (int)rnd_range(1, 4), 550, 400))
				f->phase = 0;
		}
		break;
	case ROLE_BULK_TX:
		if (f->stall) /* a fast writer: mostly 64 KiB packets */
			host_data(f, 4, 0, 300);
		else
			host_data(f, (int)rnd_range(1, 4), 50, 850);
		if (chance(50))
			guest_data(f, 1, 1000, 0);
		f->wake_us = now_us + think() / 2;
		break;
	case ROLE_BULK_RX:
		guest_data(f, (int)rnd_range(1, 4), 50, 750);
		if (chance(50))
			host_data(f, 1, 1000, 0);
		f->wake_us = now_us + think() / 2;
		break;
	}
	/* a sender out of credit: the reader catches up soon, or stalls */
	if (!host_credit(f) || !guest_credit(f)) {
		if (stalled(f))
			f->wake_us = f->stall_end_us + rnd_range(1, 2000);
		else
			f->wake_us = now_us + rnd_range(100, 3000);
	}
}

/* ------------------------------------------------------------------ */
/* slots ordered by wake time (binary min-heap of slot numbers) */

static int *heap;

static int heap_less(int a, int b)
{
	if (flows[a].wake_us != flows[b].wake_us)
		return flows[a].wake_us < flows[b].wake_us;
	return a < b;
}

static void heap_down(int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i, t;

		if (l < nflows && heap_less(heap[l], heap[m]))
			m = l;
		if (r < nflows && heap_less(heap[r], heap[m]))
			m = r;
		if (m == i)
			return;
		t = heap[i];
		heap[i] = heap[m];
		heap[m] = t;
		i = m;
	}
}

static void heap_init(void)
{
	int i;

	heap = malloc((size_t)nflows * sizeof(*heap));
	if (!heap) {
		fprintf(stderr, "gentrace: out of memory\n");
		exit(1);
	}
	for (i = 0; i < nflows; i++)
		heap[i] = i;
	for (i = nflows / 2 - 1; i >= 0; i--)
		heap_down(i);
}

/* ------------------------------------------------------------------ */
/* background: the rest of the system */

static void bg_irq(void)
{
	const struct bg_irq *b =
		&bg_irqs[rnd_below(sizeof(bg_irqs) / sizeof(bg_irqs[0]))];

	emit_irq_pair(b->irq, b->name, b->cpu % ncpus);
}

static void bg_kmem(void)
{
	struct task *t = &bg_tasks[rnd_below(8)];
	int cpu = task_cpu(t);
	uint32_t r = rnd_below(100);

	if (r < 45)
		emit_page_alloc(t, cpu, 0, 1, "GFP_HIGHUSER_MOVABLE");
	else if (r < 60)
		emit_page_alloc(t, cpu, (int)rnd_range(1, 3), 0,
				"GFP_KERNEL|__GFP_COMP|__GFP_ZERO");
	else if (r < 85)
		emit_kmalloc(t, cpu, "kmalloc_reserve", 0x66, 0x120, NULL,
			     rnd_range(4097, 16384),
			     "GFP_KERNEL|__GFP_NOWARN|__GFP_NOMEMALLOC");
	else
		emit_kmalloc(t, cpu, "seq_read_iter", 0x2d9, 0x4a0, NULL, 4096,
			     "GFP_KERNEL_ACCOUNT");
}

/* ------------------------------------------------------------------ */

static void setup(uint64_t seed, int nfl)
{
	uint64_t x = seed;
	int i;

	for (i = 0; i < 4; i++)
		rng_s[i] = splitmix(&x);

	for (i = 0; i < ncpus; i++) {
		strcpy(idle_task[i].comm, "<idle>");
		idle_task[i].pid = 0;
		idle_task[i].cpu = i;
	}
	for (i = 0; i < 8; i++) {
		strcpy(bg_tasks[i].comm, bg_names[i]);
		bg_tasks[i].pid = (int)rnd_range(300, 4000);
		bg_tasks[i].cpu = (int)rnd_below((uint32_t)ncpus);
	}

	nguests = nfl / 25;
	if (nguests < 1)
		nguests = 1;
	if (nguests > 250)
		nguests = 250;
	guests = calloc((size_t)nguests, sizeof(*guests));
	for (i = 0; i < nguests; i++) {
		struct guest *g = &guests[i];
		int qemu = (int)rnd_range(5000, 90000);

		g->cid = 3 + (uint32_t)i;
		g->irq = i == 0 ? 12 : 47 + i;
		snprintf(g->irq_name, sizeof(g->irq_name), "virtio%u",
			 6u + (unsigned int)i % 1000u);
		g->irq_cpu = i % ncpus;
		snprintf(g->vhost.comm, sizeof(g->vhost.comm), "vhost-%u",
			 (unsigned int)qemu % 100000u);
		g->vhost.pid = qemu + (int)rnd_range(20, 90);
		g->vhost.cpu = (int)rnd_below((uint32_t)ncpus);
	}

	napps = nfl / 12 + 4;
	apps = calloc((size_t)napps, sizeof(*apps));
	for (i = 0; i < napps; i++) {
		struct task *t = &apps[i];

		snprintf(t->comm, sizeof(t->comm), "%s",
			 app_names[rnd_below(sizeof(app_names) /
					     sizeof(app_names[0]))]);
		t->pid = (int)rnd_range(1000, 120000);
		t->cpu = (int)rnd_below((uint32_t)ncpus);
	}

	nflows = nfl;
	flows = calloc((size_t)nflows, sizeof(*flows));
	if (!guests || !apps || !flows) {
		fprintf(stderr, "gentrace: out of memory\n");
		exit(1);
	}
}

static void header(uint64_t lines)
{
	if (fmt == FMT_CMD) {
		put_str("cpus=");
		put_u((uint64_t)ncpus, 0);
		end_line();
		return;
	}
	if (fmt != FMT_TRACE)
		return;
	put_str("# tracer: nop\n#\n# entries-in-buffer/entries-written: ");
	put_u(lines - HEADER_LINES, 0);
	put_ch('/');
	put_u(lines - HEADER_LINES, 0);
	put_str("   #P:");
	put_u((uint64_t)ncpus, 0);
	put_str("\n#\n"
		"#                                _-----=> "
		"irqs-off/BH-disabled\n"
		"#                               / _----=> need-resched\n"
		"#                              | / _---=> hardirq/softirq\n"
		"#                              || / _--=> preempt-depth\n"
		"#                              ||| / _-=> migrate-disable\n"
		"#                              |||| /     delay\n"
		"#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
		"#              | |         |   |||||     |         |\n");
	nlines += HEADER_LINES;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: gentrace --lines N [--flows F] [--seed S]\n"
		"                [--format trace|pipe|cmd] [--cpus C] "
		"[--stalls K]\n"
		"                [--builtin]\n"
		"Write a realistic tracefs text trace of a vsock host to "
		"stdout.\n"
		"  --lines N    lines to write, header included (default "
		"100000)\n"
		"  --flows F    concurrent connections (default 1000)\n"
		"  --seed S     PRNG seed (default 1)\n"
		"  --format     trace (cat trace), pipe (trace_pipe), cmd\n"
		"               (trace-cmd report); default trace\n"
		"  --cpus C     CPUs of the traced system (default 4)\n"
		"  --stalls K   connections that stall on credit (default "
		"F/300)\n"
		"  --builtin    vsock built into the kernel: call sites "
		"without\n"
		"               the \" [module]\" suffix %%pS prints for "
		"modules\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end || *s == '-' ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lines", required_argument, NULL, 'n' },
		{ "flows", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'F' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "stalls", required_argument, NULL, 'k' },
		{ "builtin", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t lines = 100000, nfl = 1000, seed = 1, cpus = 4, v;
	uint64_t span_us;
	int64_t stalls = -1;
	int c, i;

	while ((c = getopt_long(argc, argv, "n:f:s:F:c:k:bh", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'n':
		case 'f':
		case 's':
		case 'c':
		case 'k':
			if (parse_u64(optarg, &v)) {
				fprintf(stderr, "gentrace: bad number '%s'\n",
					optarg);
				return 2;
			}
			if (c == 'n')
				lines = v;
			else if (c == 'f')
				nfl = v;
			else if (c == 's')
				seed = v;
			else if (c == 'c')
				cpus = v;
			else
				stalls = (int64_t)v;
			break;
		case 'F':
			if (!strcmp(optarg, "trace"))
				fmt = FMT_TRACE;
			else if (!strcmp(optarg, "pipe"))
				fmt = FMT_PIPE;
			else if (!strcmp(optarg, "cmd"))
				fmt = FMT_CMD;
			else {
				fprintf(stderr, "gentrace: bad format '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'b':
			builtin = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || nfl < 1 || nfl > 1000000 || cpus < 1 ||
	    cpus > MAX_CPUS || lines < 1 ||
	    (fmt == FMT_TRACE && lines <= HEADER_LINES) ||
	    (fmt == FMT_CMD && lines < 2)) {
		usage(stderr);
		return 2;
	}
	ncpus = (int)cpus;
	if (stalls < 0)
		stalls = (int64_t)(nfl / 300);
	if (stalls > (int64_t)nfl)
		stalls = (int64_t)nfl;

	obuf = malloc(OBUF_SIZE);
	if (!obuf) {
		fprintf(stderr, "gentrace: out of memory\n");
		return 1;
	}
	setup(seed, (int)nfl);

	/*
	 * About 10 us a line and 5 lines a step: a slot may step about every
	 * nfl * 50 us; leave some slack so wake-ups are served on time.
	 * Slots open over the first 3 % of the trace; stalls happen in the
	 * middle of it.
	 */
	span_us = lines * 10;
	period_us = nfl * 90;
	mean_steps = (uint32_t)(lines / (nfl * 12));
	if (mean_steps < 3)
		mean_steps = 3;
	now_us = 18409000000ull + rnd_below(1000000);
	for (i = 0; i < (int)nfl; i++) {
		flows[i].state = FS_FREE;
		if (i < stalls)
			flows[i].wake_us = now_us + span_us / 5 +
					   rnd() % (span_us / 3 + 1);
		else
			flows[i].wake_us = now_us + rnd() % (span_us / 33 + 1);
	}
	heap_init();

	header(lines);
	for (;;) {
		/* an iteration that would overshoot --lines is taken back */
		size_t olen0 = olen;
		uint64_t nlines0 = nlines, c0[3] = { n_pkt, n_irq, n_kmem };
		int slot = heap[0];
		struct flow *f = &flows[slot];

		if (f->wake_us > now_us)
			now_us = f->wake_us; /* a quiet moment */
		flow_step(f, slot < stalls && !f->stall_used);
		heap_down(0);
		if (irq_short())
			bg_irq();
		if (kmem_short())
			bg_kmem();
		if (nlines > lines) {
			olen = olen0;
			nlines = nlines0;
			n_pkt = c0[0];
			n_irq = c0[1];
			n_kmem = c0[2];
			break;
		}
		if (olen > OBUF_SIZE - MAX_STEP_BYTES)
			flush_out();
	}
	while (nlines < lines) {
		bg_kmem();
		if (olen > OBUF_SIZE - MAX_STEP_BYTES)
			flush_out();
	}
	flush_out();
	return 0;
}
