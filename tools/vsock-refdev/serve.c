// SPDX-License-Identifier: GPL-2.0-only
/*
 * vsock-refdev serve: a vhost-user-vsock device for QEMU.
 *
 * QEMU (the front-end) connects to --socket and hands over the guest's
 * memory and the rings of the rx (0) and tx (1) queues; the event queue
 * stays in QEMU. The guest's real virtio-vsock driver talks to the same
 * protocol engine the simulator runs, here as the host (CID 2).
 *
 * The host side is hybrid vsock over Unix sockets, as Firecracker and
 * vhost-device-vsock do it:
 *   - a host program connects to --uds-path, writes "CONNECT <port>\n",
 *     and once the guest's listener on <port> accepted, reads
 *     "OK <host port>\n"; after that it is a byte stream;
 *   - a guest connecting to CID 2 port P reaches the Unix socket listening
 *     at <uds-path>_P, or is refused with RST when there is none.
 *
 * One thread, one epoll loop. Faults act in the device; what each did goes
 * to --truth; every packet, doorbell and allocation goes to --trace as the
 * kernel would print it, on this host's CLOCK_MONOTONIC.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "event.h"
#include "fault.h"
#include "refdev.h"
#include "text_out.h"
#include "vhost_user.h"
#include "vring.h"
#include "vsock_proto.h"

#define HOST_CID 2
#define Q_RX 0
#define Q_TX 1
#define NQ 2
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_VSOCK_F_SEQPACKET 1
#define SERVE_MAX_FAULTS 16
#define MAX_REC 4096
#define IO_BUF (64u << 10)
#define TICK_MS 50
#define WATCHDOG_NS 500000000ull   /* queues polled without a doorbell */
#define CALL_RETRY_NS 300000000ull /* a dropped call is rung again */
#define LINGER_NS 2000000000ull	   /* a closing connection's last wait */
#define MAX_PENDING_BYTES (16u << 20)

static const char *const qname[NQ] = { "rx", "tx" };

struct serve_opts {
	const char *socket;
	const char *uds_path;
	uint64_t guest_cid;
	const char *trace;
	const char *truth;
	struct vs_fault faults[SERVE_MAX_FAULTS];
	unsigned int nfaults;
	uint32_t buf_alloc;
	bool once;
	bool verbose;
	bool quiet;
};

enum ep_kind { EP_VU_LISTEN, EP_VU, EP_KICK, EP_U_LISTEN, EP_CONN };

struct ep {
	enum ep_kind kind;
	int q;
	void *p;
};

enum conn_state { C_HANDSHAKE, C_CONNECTING, C_OPEN, C_DONE };

struct conn {
	struct ep ep;
	struct serve *sv;
	struct vs_sock *s;
	int ufd;
	enum conn_state st;
	bool from_guest;
	char line[48];
	unsigned int linelen;
	uint8_t *in, *out;	   /* unix → guest, guest → unix leftovers */
	size_t in_off, in_len, out_off, out_len;
	bool u_readable, u_writable;
	bool u_eof;		   /* the host stopped writing */
	bool wr_shut;		   /* we stopped writing to the host */
	bool sock_ended;	   /* CLOSED or RESET came */
	bool busy;		   /* wants service */
	uint64_t done_at;
	uint64_t bytes_in, bytes_out;
	struct conn *next;
};

struct pkt {
	struct vs_hdr h;
	uint8_t *payload;
	uint32_t off;	/* payload bytes already delivered */
	struct pkt *next;
};

struct rec {
	int fault;
	bool has_flow;
	struct vs_tuple flow;
	uint64_t start, end; /* trace clock; end 0: open */
};

struct serve {
	struct serve_opts *o;
	int epfd, lfd, vfd, ulfd;
	struct ep ep_vl, ep_v, ep_ul, ep_kick[NQ];
	int kick_reg[NQ];
	struct vs_vu vu;
	bool vu_on;
	struct vs_proto *proto;
	FILE *trace;
	struct pkt *pend_head, *pend_tail;
	size_t pend_bytes;
	struct conn *conns;
	int accept_fd;		/* the Unix socket a REQUEST will get */
	bool any_busy;
	uint64_t last_poll[NQ];
	uint64_t call_dropped[NQ]; /* when a call was swallowed, 0: none */
	int call_rec[NQ];
	int kick_rec[NQ];	/* an open drop-kick record, -1: none */
	struct rec rec[MAX_REC];
	unsigned int nrec;
	uint64_t events;
	uint64_t frontends, conns_total, conns_refused;
	uint64_t bytes_g2h, bytes_h2g, pkts_in, pkts_out, malformed;
	uint64_t rng;
	char broken[160];
};

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void say(struct serve *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct serve *sv, const char *fmt, ...)
{
	va_list ap;

	if (!sv->o->verbose)
		return;
	va_start(ap, fmt);
	fputs("vsock-refdev serve: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static double rnd(struct serve *sv)
{
	sv->rng ^= sv->rng << 13;
	sv->rng ^= sv->rng >> 7;
	sv->rng ^= sv->rng << 17;
	return (double)(sv->rng >> 11) / 9007199254740992.0;
}

/* ---- the capture: this device's events in the kernel's words ---- */

static void emit(struct serve *sv, struct vs_event *ev, const char *comm,
		 int pid)
{
	char line[512];
	int n;

	if (!sv->trace)
		return;
	ev->ts_ns = now_ns();
	ev->present |= VS_HAS_TS | VS_HAS_CPU | VS_HAS_PID | VS_HAS_COMM;
	ev->cpu = 0;
	ev->pid = pid;
	snprintf(ev->comm, sizeof(ev->comm), "%s", comm);
	n = vs_text_format(ev, line, sizeof(line));
	if (n > 0)
		fwrite(line, 1, (size_t)n, sv->trace);
	sv->events++;
}

static void emit_pkt(struct serve *sv, bool tx, const struct vs_hdr *h)
{
	struct vs_event ev;

	vs_hdr_event(h, tx, &ev);
	emit(sv, &ev, "vhost-refdev", 900);
}

static void emit_kick(struct serve *sv, int q)
{
	struct vs_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = VS_EV_IRQ;
	ev.present = VS_HAS_IRQ;
	ev.irq.irq = 40 + q;
	snprintf(ev.irq.name, sizeof(ev.irq.name), "vsock-kick-%s", qname[q]);
	emit(sv, &ev, "<idle>", 0);
}

static void emit_call(struct serve *sv, int q)
{
	struct vs_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = VS_EV_VQ_CALL;
	ev.present = VS_HAS_IDX;
	snprintf(ev.vq.dev, sizeof(ev.vq.dev), "vsock");
	snprintf(ev.vq.vq, sizeof(ev.vq.vq), "%s", qname[q]);
	ev.vq.idx = sv->vu.q[q].vr.used_idx;
	emit(sv, &ev, "vhost-refdev", 900);
}

static void emit_alloc(struct serve *sv, uint64_t bytes, bool failed)
{
	struct vs_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = VS_EV_ALLOC;
	ev.present = VS_HAS_SIZE | VS_HAS_CALLSITE;
	ev.alloc.source = VS_ALLOC_KMALLOC;
	ev.alloc.order = -1;
	ev.alloc.bytes_req = bytes;
	ev.alloc.bytes_alloc = bytes;
	ev.alloc.failed = failed;
	snprintf(ev.alloc.call_site, sizeof(ev.alloc.call_site),
		 "virtio_transport_alloc_skb+0x4a/0x1d0");
	emit(sv, &ev, "vhost-refdev", 900);
}

/* ---- faults and the truth ---- */

static int record(struct serve *sv, int fault, const struct vs_tuple *flow,
		  uint64_t start)
{
	struct rec *r;

	if (sv->nrec >= MAX_REC)
		return -1;
	r = &sv->rec[sv->nrec];
	memset(r, 0, sizeof(*r));
	r->fault = fault;
	if (flow) {
		r->has_flow = true;
		r->flow = *flow;
	}
	r->start = start;
	return (int)sv->nrec++;
}

static void rec_end(struct serve *sv, int *idx, uint64_t end)
{
	if (*idx >= 0 && (unsigned int)*idx < sv->nrec)
		sv->rec[*idx].end = end;
	*idx = -1;
}

/* faults count time from the first connection request, either way */
static uint64_t t0_ns;

static void fault_clock_start(void)
{
	if (!t0_ns)
		t0_ns = now_ns();
}

/* an opportunity for a fault of @k: the fault's index when it hits */
static int fault_hit(struct serve *sv, enum vs_fault_kind k, bool rx,
		     const struct vs_tuple *flow)
{
	uint64_t now = now_ns() - t0_ns;

	if (!t0_ns)
		return -1;
	for (unsigned int i = 0; i < sv->o->nfaults; i++) {
		struct vs_fault *f = &sv->o->faults[i];

		if (f->kind != k || f->what_rx != rx)
			continue;
		if (vs_fault_hit(f, now, flow, rnd(sv)))
			return (int)i;
	}
	return -1;
}

/* a window fault on now? its first action goes in the truth */
static bool window_fault(struct serve *sv, enum vs_fault_kind k,
			 const struct vs_tuple *flow)
{
	uint64_t now = now_ns() - t0_ns;

	if (!t0_ns)
		return false;
	for (unsigned int i = 0; i < sv->o->nfaults; i++) {
		struct vs_fault *f = &sv->o->faults[i];
		int r;

		if (f->kind != k || !vs_fault_active(f, now) ||
		    !vs_fault_matches_flow(f, flow))
			continue;
		if (!f->injected) {
			f->injected = 1;
			r = record(sv, (int)i, NULL, t0_ns + f->at_ns);
			if (r >= 0)
				sv->rec[r].end = t0_ns + f->at_ns + f->for_ns;
		}
		return true;
	}
	return false;
}

/*
 * The finding each fault must produce. Here stop-rx-refill is the device
 * taking no receive buffers: the host's writer runs out of credit while
 * its packets wait (credit_stall), and those that waited past the timeout
 * are lost_packet, or unanswered_interrupt when the guest was silent.
 */
static const char *finding_of(enum vs_fault_kind k)
{
	switch (k) {
	case VS_FAULT_STOP_RX_REFILL:
		return "credit_stall";
	case VS_FAULT_DROP_KICK:
	case VS_FAULT_DROP_IRQ:
		return "unanswered_interrupt";
	case VS_FAULT_WITHHOLD_CREDIT:
		return "credit_stall";
	case VS_FAULT_FAIL_ALLOC:
		return "alloc_failure";
	case VS_FAULT_DROP_PACKET:
		return "lost_packet";
	default:
		return "unknown";
	}
}

static int write_truth(struct serve *sv)
{
	FILE *f = fopen(sv->o->truth, "w");
	char b[VS_TUPLE_STRLEN];

	if (!f)
		return -errno;
	fprintf(f, "{\"version\": 1, \"mode\": \"serve\", \"clock\": "
		   "\"CLOCK_MONOTONIC\", \"guest_cid\": %" PRIu64
		   ", \"host_cid\": %d,\n \"faults\": [",
		sv->o->guest_cid, HOST_CID);
	for (unsigned int i = 0; i < sv->nrec; i++) {
		const struct rec *r = &sv->rec[i];
		const struct vs_fault *ft = &sv->o->faults[r->fault];

		fprintf(f, "%s\n  {\"injected\": \"%s\", \"expected\": \"%s\", "
			   "\"flow\": ",
			i ? "," : "", vs_fault_name(ft->kind),
			finding_of(ft->kind));
		if (r->has_flow)
			fprintf(f, "\"%s\"", vs_tuple_str(&r->flow, b, sizeof(b)));
		else
			fputs("null", f);
		fprintf(f, ", \"start_ns\": %" PRIu64 ", \"end_ns\": ", r->start);
		if (r->end)
			fprintf(f, "%" PRIu64, r->end);
		else
			fputs("null", f);
		if (ft->kind == VS_FAULT_STOP_RX_REFILL)
			fputs(", \"also\": [\"lost_packet\", "
			      "\"unanswered_interrupt\"]",
			      f);
		fputc('}', f);
	}
	fprintf(f, "%s],\n \"connections\": %" PRIu64
		   ", \"refused\": %" PRIu64 ", \"bytes_guest_to_host\": %" PRIu64
		   ", \"bytes_host_to_guest\": %" PRIu64 ", \"malformed\": %" PRIu64
		   ",\n \"broken\": ",
		sv->nrec ? "\n " : "", sv->conns_total, sv->conns_refused,
		sv->bytes_g2h, sv->bytes_h2g, sv->malformed);
	if (sv->broken[0]) {
		fputc('"', f);
		for (const char *p = sv->broken; *p; p++)
			fputc(*p == '"' || *p == '\\' ? '\'' : *p, f);
		fputs("\"}\n", f);
	} else {
		fputs("null}\n", f);
	}
	return fclose(f) ? -errno : 0;
}

/* ---- the device: rings ---- */

static void ring_broken(struct serve *sv, int q)
{
	if (!sv->broken[0])
		snprintf(sv->broken, sizeof(sv->broken), "%s queue: %s",
			 qname[q], sv->vu.q[q].vr.why);
	fprintf(stderr,
		"vsock-refdev: error: failed to use the %s queue: %s (the "
		"queue is stopped)\n",
		qname[q], sv->vu.q[q].vr.why);
}

static bool q_ok(struct serve *sv, int q)
{
	return sv->vu_on && sv->vu.q[q].started && !sv->vu.q[q].vr.broken;
}

static void dev_call(struct serve *sv, int q)
{
	int f;

	if (!vs_vring_dev_call_prepare(&sv->vu.q[q].vr))
		return;
	emit_call(sv, q);
	f = fault_hit(sv, VS_FAULT_DROP_IRQ, q == Q_RX, NULL);
	if (f >= 0) {
		if (!sv->call_dropped[q]) {
			sv->call_dropped[q] = now_ns();
			sv->call_rec[q] = record(sv, f, NULL, now_ns());
		}
		return;
	}
	if (sv->call_dropped[q]) {
		rec_end(sv, &sv->call_rec[q], now_ns());
		sv->call_dropped[q] = 0;
	}
	vs_vu_call(&sv->vu, (unsigned int)q);
}

/* host → guest: waiting packets into the guest's receive buffers */
static void deliver(struct serve *sv)
{
	struct vs_vring *vr = &sv->vu.q[Q_RX].vr;
	bool pushed = false;

	if (!q_ok(sv, Q_RX))
		return;
	while (sv->pend_head) {
		struct pkt *p = sv->pend_head;
		struct vs_vring_seg segs[VS_VRING_MAX_CHAIN];
		uint8_t wire[VS_HDR_SIZE];
		uint32_t need, done = 0, room = 0;
		struct vs_hdr frag;
		uint16_t head;
		int n;

		if (window_fault(sv, VS_FAULT_STOP_RX_REFILL, NULL))
			break;
		n = vs_vring_dev_pop(vr, &sv->vu.gm, &head, segs);
		if (!n) {
			vs_vring_dev_enable_notify(vr);
			n = vs_vring_dev_pop(vr, &sv->vu.gm, &head, segs);
		}
		if (n < 0) {
			ring_broken(sv, Q_RX);
			return;
		}
		if (!n)
			break;
		for (int i = 0; i < n; i++)
			room += segs[i].write ? segs[i].len : 0;
		if (room <= VS_HDR_SIZE) {
			/* no room for even a header: a broken driver */
			sv->malformed++;
			vs_vring_dev_push(vr, head, 0);
			pushed = true;
			continue;
		}
		/*
		 * A packet larger than the buffer goes in pieces, each with
		 * its own header, as vhost does: Linux guests post buffers a
		 * little under 4 KiB. SEQPACKET message ends go on the last.
		 */
		frag = p->h;
		frag.len = p->h.len - p->off;
		if (frag.len > room - VS_HDR_SIZE) {
			frag.len = room - VS_HDR_SIZE;
			frag.flags &= ~(VS_SEQ_EOM | VS_SEQ_EOR);
		}
		need = VS_HDR_SIZE + frag.len;
		vs_hdr_encode(&frag, wire);
		for (int i = 0; i < n && done < need; i++) {
			uint32_t k, hk;

			if (!segs[i].write)
				continue;
			k = segs[i].len < need - done ? segs[i].len
						      : need - done;
			hk = done < VS_HDR_SIZE ? VS_HDR_SIZE - done : 0;
			hk = hk < k ? hk : k;
			memcpy(segs[i].host, wire + done, hk);
			if (k > hk)
				memcpy((uint8_t *)segs[i].host + hk,
				       p->payload + p->off +
					       (done + hk - VS_HDR_SIZE),
				       k - hk);
			done += k;
		}
		p->off += frag.len;
		if (p->off < p->h.len) {
			vs_vring_dev_push(vr, head, done);
			pushed = true;
			continue;
		}
		vs_vring_dev_push(vr, head, done);
		pushed = true;
		sv->pkts_out++;
		sv->pend_head = p->next;
		if (!sv->pend_head)
			sv->pend_tail = NULL;
		sv->pend_bytes -= p->h.len;
		free(p->payload);
		free(p);
	}
	if (pushed)
		dev_call(sv, Q_RX);
}

static void free_pending(struct serve *sv)
{
	while (sv->pend_head) {
		struct pkt *p = sv->pend_head;

		sv->pend_head = p->next;
		free(p->payload);
		free(p);
	}
	sv->pend_tail = NULL;
	sv->pend_bytes = 0;
}

/* the engine sends a packet to the guest */
static int dev_xmit(void *ctx, const struct vs_hdr *h, const void *payload)
{
	struct serve *sv = ctx;
	struct vs_tuple t = { h->src_cid, h->dst_cid, h->src_port,
			      h->dst_port };
	struct pkt *p;
	int f;

	if (!sv->vu_on)
		return -EAGAIN;
	if (sv->pend_bytes + h->len > MAX_PENDING_BYTES)
		return -EAGAIN;
	f = fault_hit(sv, VS_FAULT_FAIL_ALLOC, false, &t);
	if (f >= 0) {
		emit_alloc(sv, VS_HDR_SIZE + h->len, true);
		record(sv, f, &t, now_ns());
		return -EAGAIN;
	}
	p = calloc(1, sizeof(*p));
	if (!p || (h->len && !(p->payload = malloc(h->len)))) {
		free(p);
		return -EAGAIN;
	}
	p->h = *h;
	if (h->len)
		memcpy(p->payload, payload, h->len);
	emit_alloc(sv, VS_HDR_SIZE + h->len, false);
	emit_pkt(sv, true, h);
	sv->bytes_h2g += h->len;
	if (h->op == VS_OP_RW &&
	    (f = fault_hit(sv, VS_FAULT_DROP_PACKET, true, &t)) >= 0) {
		int r = record(sv, f, &t, now_ns());

		if (r >= 0)
			sv->rec[r].end = sv->rec[r].start;
		free(p->payload);
		free(p);
		return 0; /* lost on the way */
	}
	if (sv->pend_tail)
		sv->pend_tail->next = p;
	else
		sv->pend_head = p;
	sv->pend_tail = p;
	sv->pend_bytes += h->len;
	deliver(sv);
	return 0;
}

/* a REQUEST from the guest to a port: is anyone listening on the host? */
static bool guest_connect(struct serve *sv, const struct vs_hdr *h)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u",
		     sv->o->uds_path, h->dst_port);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return false;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		say(sv, "guest connect to port %u: %s: %s", h->dst_port,
		    sa.sun_path, strerror(errno));
		close(fd);
		return false;
	}
	/* the engine answers REQUESTs on ports it listens on */
	n = vs_proto_listen(sv->proto, h->dst_port, VS_TYPE_STREAM);
	if (n && n != -EADDRINUSE) {
		close(fd);
		return false;
	}
	sv->accept_fd = fd;
	return true;
}

static void refuse(struct serve *sv, const struct vs_hdr *h)
{
	struct vs_hdr r = {
		.src_cid = h->dst_cid, .dst_cid = h->src_cid,
		.src_port = h->dst_port, .dst_port = h->src_port,
		.type = h->type, .op = VS_OP_RST,
	};

	sv->conns_refused++;
	dev_xmit(sv, &r, NULL);
}

/* guest → host: what the guest put on the transmit queue */
static void dev_tx(struct serve *sv)
{
	static uint8_t buf[VS_HDR_SIZE + VS_MAX_PKT_PAYLOAD];
	struct vs_vring *vr = &sv->vu.q[Q_TX].vr;
	bool pushed = false;

	if (!q_ok(sv, Q_TX))
		return;
	sv->last_poll[Q_TX] = now_ns();
	do {
		struct vs_vring_seg segs[VS_VRING_MAX_CHAIN];
		uint16_t head;
		int n;

		while ((n = vs_vring_dev_pop(vr, &sv->vu.gm, &head, segs)) >
		       0) {
			uint32_t got = 0;
			struct vs_hdr h;
			struct vs_tuple t;
			bool ok = true;
			int f;

			for (int i = 0; i < n; i++) {
				if (segs[i].write ||
				    segs[i].len > sizeof(buf) - got) {
					ok = false;
					break;
				}
				memcpy(buf + got, segs[i].host, segs[i].len);
				got += segs[i].len;
			}
			vs_vring_dev_push(vr, head, 0);
			pushed = true;
			if (!ok || got < VS_HDR_SIZE) {
				sv->malformed++;
				continue;
			}
			vs_hdr_decode(buf, &h);
			if (h.len > got - VS_HDR_SIZE) {
				sv->malformed++;
				continue;
			}
			sv->pkts_in++;
			t = (struct vs_tuple){ h.src_cid, h.dst_cid, h.src_port,
					       h.dst_port };
			if (h.op == VS_OP_RW &&
			    (f = fault_hit(sv, VS_FAULT_DROP_PACKET, false,
					   &t)) >= 0) {
				int r = record(sv, f, &t, now_ns());

				if (r >= 0)
					sv->rec[r].end = sv->rec[r].start;
				continue;
			}
			if (h.op == VS_OP_REQUEST)
				fault_clock_start();
			emit_pkt(sv, false, &h);
			sv->bytes_g2h += h.op == VS_OP_RW ? h.len : 0;
			if (h.op == VS_OP_REQUEST && h.dst_cid == HOST_CID &&
			    h.type == VS_TYPE_STREAM && !guest_connect(sv, &h)) {
				refuse(sv, &h);
				continue;
			}
			if (vs_proto_input(sv->proto, &h, buf + VS_HDR_SIZE))
				sv->malformed++;
			if (sv->accept_fd >= 0) { /* nobody took it */
				close(sv->accept_fd);
				sv->accept_fd = -1;
			}
		}
		if (n < 0) {
			ring_broken(sv, Q_TX);
			break;
		}
		vs_vring_dev_enable_notify(vr);
	} while (vs_vring_dev_pending(vr) > 0);
	if (pushed)
		dev_call(sv, Q_TX);
}

static void dev_rx(struct serve *sv)
{
	sv->last_poll[Q_RX] = now_ns();
	deliver(sv);
	if (sv->proto)
		vs_proto_flush(sv->proto);
}

/* a kick rang */
static void on_kick(struct serve *sv, int q)
{
	uint64_t v;
	int f;

	if (read(sv->vu.q[q].kick_fd, &v, sizeof(v)) != sizeof(v))
		return;
	emit_kick(sv, q);
	f = fault_hit(sv, VS_FAULT_DROP_KICK, q == Q_RX, NULL);
	if (f >= 0) {
		if (sv->kick_rec[q] < 0)
			sv->kick_rec[q] = record(sv, f, NULL, now_ns());
		return; /* lost: the watchdog finds the work later */
	}
	rec_end(sv, &sv->kick_rec[q], now_ns());
	if (q == Q_TX)
		dev_tx(sv);
	else
		dev_rx(sv);
}

/* ---- the host side: Unix sockets ---- */

static void conn_busy(struct conn *c)
{
	c->busy = true;
	c->sv->any_busy = true;
}

static void conn_done(struct conn *c, bool reset)
{
	if (c->ufd >= 0) {
		close(c->ufd);
		c->ufd = -1;
	}
	if (c->s && !c->sock_ended) {
		if (reset)
			vs_sock_reset(c->s);
		else
			vs_sock_close(c->s);
	}
	c->st = C_DONE;
	c->done_at = now_ns();
}

static struct conn *conn_new(struct serve *sv, int fd, enum conn_state st)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct epoll_event ee = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP |
					    EPOLLET };

	if (!c)
		return NULL;
	c->in = malloc(IO_BUF);
	c->out = malloc(IO_BUF);
	if (!c->in || !c->out) {
		free(c->in);
		free(c->out);
		free(c);
		return NULL;
	}
	c->ep = (struct ep){ EP_CONN, 0, c };
	c->sv = sv;
	c->ufd = fd;
	c->st = st;
	ee.data.ptr = &c->ep;
	if (epoll_ctl(sv->epfd, EPOLL_CTL_ADD, fd, &ee)) {
		free(c->in);
		free(c->out);
		free(c);
		return NULL;
	}
	c->next = sv->conns;
	sv->conns = c;
	sv->conns_total++;
	return c;
}

static void conn_free(struct conn *c)
{
	if (c->ufd >= 0)
		close(c->ufd);
	if (c->s)
		vs_sock_set_user(c->s, NULL);
	free(c->in);
	free(c->out);
	free(c);
}

static int write_all_small(int fd, const char *s)
{
	size_t len = strlen(s);

	return send(fd, s, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* "CONNECT <port>\n" from a host program */
static void conn_handshake(struct serve *sv, struct conn *c)
{
	char ch;
	ssize_t n;
	unsigned long port;
	char *end;

	while ((n = read(c->ufd, &ch, 1)) == 1) {
		if (ch != '\n') {
			if (c->linelen + 1 >= sizeof(c->line))
				goto bad;
			c->line[c->linelen++] = ch;
			continue;
		}
		c->line[c->linelen] = '\0';
		if (c->linelen && c->line[c->linelen - 1] == '\r')
			c->line[--c->linelen] = '\0';
		if (strncmp(c->line, "CONNECT ", 8))
			goto bad;
		errno = 0;
		port = strtoul(c->line + 8, &end, 10);
		if (errno || end == c->line + 8 || *end || port > UINT32_MAX)
			goto bad;
		if (!sv->vu_on || !sv->proto) {
			say(sv, "host connect to port %lu: no guest", port);
			conn_done(c, false);
			return;
		}
		fault_clock_start();
		c->s = vs_proto_connect(sv->proto, 0, sv->o->guest_cid,
					(uint32_t)port, VS_TYPE_STREAM);
		if (!c->s) {
			conn_done(c, false);
			return;
		}
		vs_sock_set_user(c->s, c);
		c->st = C_CONNECTING;
		return;
	}
	if (n == 0 || (n < 0 && errno != EAGAIN))
		conn_done(c, false);
	return;
bad:
	say(sv, "host connection: bad request line");
	conn_done(c, false);
}

/* move bytes both ways as far as buffers, credit and sockets allow */
static void conn_pump(struct serve *sv, struct conn *c)
{
	struct vs_sock_info in;
	ssize_t n;

	(void)sv;
	if (c->st != C_OPEN)
		return;
	/* guest → host */
	for (;;) {
		if (c->out_off == c->out_len) {
			n = vs_sock_read(c->s, c->out, IO_BUF);
			if (n <= 0)
				break;
			c->out_off = 0;
			c->out_len = (size_t)n;
		}
		n = send(c->ufd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN) {
				c->u_writable = false;
				break;
			}
			conn_done(c, true); /* the host program went away */
			return;
		}
		c->out_off += (size_t)n;
		c->bytes_out += (uint64_t)n;
	}
	vs_sock_info(c->s, &in);
	if (c->out_off == c->out_len && !in.rx_queued && !c->wr_shut &&
	    (in.peer_shutdown_send || c->sock_ended)) {
		shutdown(c->ufd, SHUT_WR);
		c->wr_shut = true;
	}
	/* host → guest */
	while (!c->sock_ended) {
		if (c->in_off == c->in_len) {
			if (c->u_eof || !c->u_readable)
				break;
			n = read(c->ufd, c->in, IO_BUF);
			if (n < 0) {
				if (errno == EAGAIN)
					c->u_readable = false;
				else
					conn_done(c, true);
				if (c->st == C_DONE)
					return;
				break;
			}
			if (!n) {
				c->u_eof = true;
				vs_sock_shutdown(c->s, VS_SHUTDOWN_SEND);
				break;
			}
			c->in_off = 0;
			c->in_len = (size_t)n;
		}
		n = vs_sock_write(c->s, c->in + c->in_off, c->in_len - c->in_off);
		if (n <= 0) {
			if (n < 0)
				conn_done(c, true);
			break;
		}
		c->in_off += (size_t)n;
		c->bytes_in += (uint64_t)n;
	}
	if (c->st != C_OPEN)
		return;
	/* both directions over: the connection is too */
	if ((c->wr_shut && c->u_eof) || (c->sock_ended && c->wr_shut))
		conn_done(c, false);
}

static void on_conn(struct serve *sv, struct conn *c, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->u_readable = true;
	if (events & EPOLLOUT)
		c->u_writable = true;
	if (c->st == C_HANDSHAKE)
		conn_handshake(sv, c);
	else
		conn_pump(sv, c);
}

static void on_accept_host(struct serve *sv)
{
	int fd;

	while ((fd = accept4(sv->ulfd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (!conn_new(sv, fd, C_HANDSHAKE))
			close(fd);
	}
}

/* ---- the engine's hooks ---- */

static void sock_event(void *ctx, struct vs_sock *s, enum vs_sock_event ev)
{
	struct serve *sv = ctx;
	struct conn *c = vs_sock_get_user(s);
	struct vs_sock_info in;
	char line[40];

	if (ev == VS_SOCK_EV_ACCEPTED) {
		if (sv->accept_fd < 0) {
			vs_sock_reset(s);
			return;
		}
		c = conn_new(sv, sv->accept_fd, C_OPEN);
		sv->accept_fd = -1;
		if (!c) {
			vs_sock_reset(s);
			return;
		}
		c->s = s;
		c->from_guest = true;
		vs_sock_set_user(s, c);
		vs_sock_info(s, &in);
		say(sv, "guest %" PRIu64 ":%u connected to host port %u",
		    in.peer_cid, in.peer_port, in.local_port);
		conn_busy(c);
		return;
	}
	if (!c)
		return;
	if (c->st == C_DONE) {
		if (ev == VS_SOCK_EV_CLOSED || ev == VS_SOCK_EV_RESET)
			c->sock_ended = true;
		return;
	}
	switch (ev) {
	case VS_SOCK_EV_CONNECTED:
		vs_sock_info(s, &in);
		snprintf(line, sizeof(line), "OK %u\n", in.local_port);
		if (c->ufd < 0 || write_all_small(c->ufd, line)) {
			c->st = C_OPEN;
			conn_done(c, true);
			break;
		}
		c->st = C_OPEN;
		conn_busy(c);
		break;
	case VS_SOCK_EV_CLOSED:
	case VS_SOCK_EV_RESET:
		c->sock_ended = true;
		if (ev == VS_SOCK_EV_RESET && c->ufd >= 0 && c->st != C_OPEN) {
			/* refused: the host program learns it by EOF */
			c->st = C_OPEN;
			conn_done(c, false);
			break;
		}
		conn_busy(c);
		break;
	default:
		conn_busy(c);
		break;
	}
}

static bool may_update_credit(void *ctx, struct vs_sock *s)
{
	struct serve *sv = ctx;
	struct vs_sock_info in;
	struct vs_tuple t;

	vs_sock_info(s, &in);
	t = (struct vs_tuple){ in.peer_cid, in.local_cid, in.peer_port,
			       in.local_port };
	return !window_fault(sv, VS_FAULT_WITHHOLD_CREDIT, &t);
}

static const struct vs_proto_ops proto_ops = {
	.xmit = dev_xmit,
	.event = sock_event,
	.may_update_credit = may_update_credit,
};

/* serve every connection that asked, then free the finished ones */
static void service(struct serve *sv)
{
	struct conn **pp = &sv->conns;
	uint64_t now = now_ns();

	for (int round = 0; round < 4 && sv->any_busy; round++) {
		sv->any_busy = false;
		for (struct conn *c = sv->conns; c; c = c->next) {
			if (!c->busy)
				continue;
			c->busy = false;
			conn_pump(sv, c);
		}
	}
	while (*pp) {
		struct conn *c = *pp;
		struct vs_sock_info in;

		if (c->st != C_DONE) {
			pp = &c->next;
			continue;
		}
		if (c->s && !c->sock_ended) {
			vs_sock_info(c->s, &in);
			if (in.state != VS_SOCK_CLOSED &&
			    now - c->done_at < LINGER_NS) {
				pp = &c->next;
				continue;
			}
		}
		if (c->s) {
			vs_sock_set_user(c->s, NULL);
			vs_sock_release(c->s);
			c->s = NULL;
		}
		*pp = c->next;
		conn_free(c);
	}
}

/* ---- the front-end ---- */

static int get_config(void *ctx, uint32_t off, void *buf, uint32_t len)
{
	struct serve *sv = ctx;
	uint8_t cfg[8];

	for (int i = 0; i < 8; i++)
		cfg[i] = (uint8_t)(sv->o->guest_cid >> (8 * i));
	if (off > sizeof(cfg) || len > sizeof(cfg) - off)
		return -EINVAL;
	memcpy(buf, cfg + off, len);
	return 0;
}

static void queue_state(void *ctx, unsigned int q, bool started)
{
	struct serve *sv = ctx;
	struct epoll_event ee = { .events = EPOLLIN };

	if (q >= NQ)
		return;
	if (sv->kick_reg[q] >= 0) {
		epoll_ctl(sv->epfd, EPOLL_CTL_DEL, sv->kick_reg[q], NULL);
		sv->kick_reg[q] = -1;
	}
	say(sv, "%s queue %s (size %u)", qname[q],
	    started ? "started" : "stopped", sv->vu.q[q].num);
	if (!started || sv->vu.q[q].kick_fd < 0)
		return;
	sv->ep_kick[q] = (struct ep){ EP_KICK, (int)q, sv };
	ee.data.ptr = &sv->ep_kick[q];
	if (!epoll_ctl(sv->epfd, EPOLL_CTL_ADD, sv->vu.q[q].kick_fd, &ee))
		sv->kick_reg[q] = sv->vu.q[q].kick_fd;
}

static const struct vs_vu_ops vu_ops = { get_config, queue_state };

static int proto_start(struct serve *sv)
{
	struct vs_proto_config cfg = {
		.cid = HOST_CID,
		.buf_alloc = sv->o->buf_alloc,
		/* as vhost-vsock: larger packets are split to fit the
		 * guest's receive buffers */
		.max_payload = VS_MAX_PKT_PAYLOAD,
		.send_buf = 256u << 10,
	};

	sv->proto = vs_proto_new(&cfg, &proto_ops, sv);
	return sv->proto ? 0 : -ENOMEM;
}

/* the front-end went away: every connection with it */
static void frontend_gone(struct serve *sv)
{
	for (struct conn *c = sv->conns; c; c = c->next) {
		if (c->ufd >= 0) {
			close(c->ufd);
			c->ufd = -1;
		}
		c->s = NULL; /* freed with the engine */
		c->st = C_DONE;
	}
	vs_vu_reset(&sv->vu);
	sv->vu_on = false;
	free_pending(sv);
	vs_proto_free(sv->proto);
	sv->proto = NULL;
	if (sv->vfd >= 0) {
		close(sv->vfd);
		sv->vfd = -1;
	}
	for (int q = 0; q < NQ; q++)
		sv->kick_reg[q] = -1;
}

static int on_accept_frontend(struct serve *sv)
{
	struct epoll_event ee = { .events = EPOLLIN };
	int fd = accept4(sv->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return 0;
	if (sv->vfd >= 0) {
		fprintf(stderr, "vsock-refdev: a second front-end connected "
				"while one is active: refused\n");
		close(fd);
		return 0;
	}
	if (proto_start(sv)) {
		close(fd);
		return -ENOMEM;
	}
	sv->vfd = fd;
	vs_vu_init(&sv->vu, fd, NQ,
		   1ull << VIRTIO_F_VERSION_1 | 1ull << VS_VRING_F_EVENT_IDX |
			   1ull << VS_VRING_F_INDIRECT_DESC,
		   &vu_ops, sv);
	sv->vu_on = true;
	sv->frontends++;
	ee.data.ptr = &sv->ep_v;
	epoll_ctl(sv->epfd, EPOLL_CTL_ADD, fd, &ee);
	say(sv, "front-end connected");
	return 0;
}

static int listen_unix(const char *path, int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, backlog)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void tick(struct serve *sv)
{
	uint64_t now = now_ns();

	for (int q = 0; q < NQ; q++) {
		if (sv->call_dropped[q] &&
		    now - sv->call_dropped[q] > CALL_RETRY_NS && q_ok(sv, q)) {
			/* the guest hears of it at last */
			rec_end(sv, &sv->call_rec[q], now);
			sv->call_dropped[q] = 0;
			emit_call(sv, q);
			vs_vu_call(&sv->vu, (unsigned int)q);
		}
		if (q_ok(sv, q) && now - sv->last_poll[q] > WATCHDOG_NS) {
			if (q == Q_TX)
				dev_tx(sv);
			else
				dev_rx(sv);
			if (sv->kick_rec[q] >= 0)
				rec_end(sv, &sv->kick_rec[q], now);
		}
	}
	if (sv->proto && sv->vu_on) {
		deliver(sv);
		vs_proto_flush(sv->proto);
	}
	if (sv->trace)
		fflush(sv->trace);
}

static int serve_loop(struct serve *sv)
{
	struct epoll_event evs[64];
	uint64_t last_tick = now_ns();
	int n, err;

	while (!stop_sig) {
		n = epoll_wait(sv->epfd, evs, 64, TICK_MS);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			struct ep *ep = evs[i].data.ptr;

			switch (ep->kind) {
			case EP_VU_LISTEN:
				if ((err = on_accept_frontend(sv)))
					return err;
				break;
			case EP_VU:
				if (sv->vfd < 0)
					break;
				err = vs_vu_handle(&sv->vu);
				if (err == -EPIPE) {
					say(sv, "front-end disconnected");
				} else if (err) {
					fprintf(stderr,
						"vsock-refdev: error: failed "
						"to handle vhost-user %s: %s; "
						"dropping the front-end\n",
						vs_vu_request_name(
							sv->vu.last_req),
						sv->vu.why);
				}
				if (err) {
					frontend_gone(sv);
					if (sv->o->once)
						return 0;
				}
				break;
			case EP_KICK:
				if (q_ok(sv, ep->q))
					on_kick(sv, ep->q);
				break;
			case EP_U_LISTEN:
				on_accept_host(sv);
				break;
			case EP_CONN:
				on_conn(sv, ep->p, evs[i].events);
				break;
			}
		}
		if (now_ns() - last_tick >= TICK_MS * 1000000ull) {
			tick(sv);
			last_tick = now_ns();
		}
		service(sv);
	}
	return 0;
}

/* ---- options ---- */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vsock-refdev serve --socket PATH --uds-path PATH --guest-cid N\n"
"                          [--trace FILE] [--truth FILE] [--fault SPEC]...\n"
"Be the vhost-user-vsock device of a QEMU guest: QEMU connects to --socket\n"
"(-chardev socket,path=PATH -device vhost-user-vsock-pci,chardev=...), and\n"
"the guest's virtio-vsock driver talks to this process as the host, CID 2.\n"
"Host programs reach the guest through --uds-path (hybrid vsock):\n"
"  - connect to PATH, write \"CONNECT <port>\\n\", read \"OK <host port>\\n\";\n"
"  - a guest connecting to CID 2 port P reaches the Unix socket PATH_P.\n"
"\n"
"Options:\n"
"      --socket PATH       the vhost-user socket to listen on\n"
"      --uds-path PATH     the hybrid vsock socket for host programs\n"
"      --guest-cid N       the guest's CID (3 or more)\n"
"      --trace FILE        write this device's events as tracefs text\n"
"      --truth FILE        write the faults injected, as JSON, at exit\n"
"      --fault SPEC        inject a fault (repeatable), as for sim; at=\n"
"                          counts from the first connection request\n"
"      --buf-alloc N       receive buffer per connection, bytes (default\n"
"                          262144)\n"
"      --once              exit when the front-end disconnects (default:\n"
"                          wait for it to come back)\n"
"      --seed N            seed of probabilistic faults (default 1)\n"
"  -v, --verbose           say what happens (front-end, queues, connections)\n"
"  -q, --quiet             no summary at exit\n"
"  -h, --help              show this help\n"
"\n"
"Runs until SIGINT or SIGTERM. Exit status: 0 ok, 2 error.\n");
}

enum {
	OPT_SOCKET = 256,
	OPT_UDS,
	OPT_CID,
	OPT_TRACE,
	OPT_TRUTH,
	OPT_FAULT,
	OPT_BUF,
	OPT_ONCE,
	OPT_SEED,
};

static const struct option opts[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "uds-path", required_argument, NULL, OPT_UDS },
	{ "guest-cid", required_argument, NULL, OPT_CID },
	{ "trace", required_argument, NULL, OPT_TRACE },
	{ "truth", required_argument, NULL, OPT_TRUTH },
	{ "fault", required_argument, NULL, OPT_FAULT },
	{ "buf-alloc", required_argument, NULL, OPT_BUF },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int serve_setup(struct serve *sv)
{
	struct epoll_event ee = { .events = EPOLLIN };
	char hdr[512];

	sv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sv->epfd < 0)
		return -errno;
	sv->lfd = listen_unix(sv->o->socket, 1);
	if (sv->lfd < 0) {
		fprintf(stderr, "vsock-refdev: error: failed to listen on %s: "
				"%s\n",
			sv->o->socket, strerror(errno));
		return -1;
	}
	sv->ulfd = listen_unix(sv->o->uds_path, 128);
	if (sv->ulfd < 0) {
		fprintf(stderr, "vsock-refdev: error: failed to listen on %s: "
				"%s\n",
			sv->o->uds_path, strerror(errno));
		return -1;
	}
	sv->ep_vl = (struct ep){ EP_VU_LISTEN, 0, sv };
	sv->ep_v = (struct ep){ EP_VU, 0, sv };
	sv->ep_ul = (struct ep){ EP_U_LISTEN, 0, sv };
	ee.data.ptr = &sv->ep_vl;
	epoll_ctl(sv->epfd, EPOLL_CTL_ADD, sv->lfd, &ee);
	ee.data.ptr = &sv->ep_ul;
	epoll_ctl(sv->epfd, EPOLL_CTL_ADD, sv->ulfd, &ee);
	if (sv->o->trace) {
		sv->trace = fopen(sv->o->trace, "w");
		if (!sv->trace) {
			fprintf(stderr, "vsock-refdev: error: failed to create "
					"%s: %s\n",
				sv->o->trace, strerror(errno));
			return -1;
		}
		setvbuf(sv->trace, NULL, _IOFBF, 1 << 20);
		if (vs_text_header(hdr, sizeof(hdr), 1) > 0)
			fputs(hdr, sv->trace);
	}
	if (sv->o->truth) {
		/* fail now rather than at the end */
		FILE *f = fopen(sv->o->truth, "w");

		if (!f) {
			fprintf(stderr, "vsock-refdev: error: failed to create "
					"%s: %s\n",
				sv->o->truth, strerror(errno));
			return -1;
		}
		fclose(f);
	}
	return 0;
}

int serve_main(int argc, char **argv)
{
	static struct serve_opts o = { .buf_alloc = 256u << 10 };
	static struct serve sv;
	unsigned long long v;
	char err[160];
	struct sigaction sa = { .sa_handler = on_signal };
	int c, ret;

	o.guest_cid = 0;
	optind = 2;
	sv.rng = 1;
	while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET:
			o.socket = optarg;
			break;
		case OPT_UDS:
			o.uds_path = optarg;
			break;
		case OPT_CID:
			if (unum(optarg, 3, 0xfffffffeull, &v))
				return bad("--guest-cid (3 to 4294967294)",
					   optarg);
			o.guest_cid = v;
			break;
		case OPT_TRACE:
			o.trace = optarg;
			break;
		case OPT_TRUTH:
			o.truth = optarg;
			break;
		case OPT_FAULT:
			if (o.nfaults == SERVE_MAX_FAULTS) {
				fprintf(stderr, "vsock-refdev: error: at most "
						"%d faults\n",
					SERVE_MAX_FAULTS);
				return 2;
			}
			if (vs_fault_parse(optarg, &o.faults[o.nfaults], err,
					   sizeof(err))) {
				fprintf(stderr,
					"vsock-refdev: error: invalid --fault "
					"%s: %s\n",
					optarg, err);
				return 2;
			}
			if (o.faults[o.nfaults].kind == VS_FAULT_FAIL_ALLOC &&
			    o.faults[o.nfaults].what_rx) {
				fprintf(stderr,
					"vsock-refdev: error: invalid --fault "
					"%s: serve fails host packet "
					"allocations only (what=tx)\n",
					optarg);
				return 2;
			}
			o.nfaults++;
			break;
		case OPT_BUF:
			if (unum(optarg, 4096, 1u << 30, &v))
				return bad("--buf-alloc (4096 to 1 GiB)", optarg);
			o.buf_alloc = (uint32_t)v;
			break;
		case OPT_ONCE:
			o.once = true;
			break;
		case OPT_SEED:
			if (unum(optarg, 0, UINT64_MAX, &v))
				return bad("--seed", optarg);
			sv.rng = v ? v : 1;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'vsock-refdev serve --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vsock-refdev: error: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (!o.socket || !o.uds_path || !o.guest_cid) {
		fprintf(stderr, "vsock-refdev: error: serve needs --socket, "
				"--uds-path and --guest-cid\n");
		return 2;
	}
	sv.o = &o;
	sv.vfd = -1;
	sv.accept_fd = -1;
	for (int q = 0; q < NQ; q++) {
		sv.kick_reg[q] = -1;
		sv.kick_rec[q] = -1;
		sv.call_rec[q] = -1;
	}
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (serve_setup(&sv))
		return 2;
	say(&sv, "listening on %s (vhost-user) and %s (host programs), "
		 "guest CID %" PRIu64,
	    o.socket, o.uds_path, o.guest_cid);
	ret = serve_loop(&sv);
	if (ret)
		fprintf(stderr, "vsock-refdev: error: failed to serve: %s\n",
			strerror(-ret));
	if (sv.vfd >= 0)
		frontend_gone(&sv);
	service(&sv);
	if (sv.trace && fclose(sv.trace)) {
		fprintf(stderr, "vsock-refdev: error: failed to write %s: %s\n",
			o.trace, strerror(errno));
		ret = -EIO;
	}
	if (o.truth && write_truth(&sv)) {
		fprintf(stderr, "vsock-refdev: error: failed to write %s: %s\n",
			o.truth, strerror(errno));
		ret = -EIO;
	}
	unlink(o.socket);
	unlink(o.uds_path);
	if (!o.quiet)
		fprintf(stderr,
			"vsock-refdev serve: %" PRIu64 " front-end(s), %" PRIu64
			" connection(s) (%" PRIu64 " refused), %" PRIu64
			" bytes guest->host, %" PRIu64 " host->guest, %" PRIu64
			" packets in, %" PRIu64 " out, %" PRIu64
			" malformed, %u fault action(s)%s%s\n",
			sv.frontends, sv.conns_total, sv.conns_refused,
			sv.bytes_g2h, sv.bytes_h2g, sv.pkts_in, sv.pkts_out,
			sv.malformed, sv.nrec, sv.broken[0] ? "; broken: " : "",
			sv.broken);
	return ret ? 2 : 0;
}
