// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the virtio-vsock protocol engine (lib/vsock_proto.c).
 * Two engines, A (cid 2) and B (cid 3), are wired back to back: each one's
 * xmit encodes the header to its 44 wire bytes and appends the packet to
 * its own out queue; pump() decodes and delivers, one packet at a time from
 * each side in turn, until both queues are empty. Every RW is checked
 * against the credit its sender had seen (mirrored here from the headers
 * delivered to it, not taken from the engine).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "vsock_proto.h"

#define CID_A 2
#define CID_B 3
#define PORT 5000
#define LOG_MAX 4096

struct wpkt {
	struct wpkt *next;
	unsigned char hdr[VS_HDR_SIZE];
	uint32_t len;
	bool thin; /* data holds only the first and last 8 bytes */
	unsigned char data[];
};

#define THIN_END 8
static unsigned char thin_buf[VS_MAX_PKT_PAYLOAD];

struct side;
typedef void (*side_event_fn)(struct side *x, struct vs_sock *s,
			      enum vs_sock_event ev);

struct side {
	const char *name;
	struct vs_proto *p;
	struct side *peer;
	struct wpkt *head, **tail; /* sent by this side, not delivered */
	bool eagain; /* xmit says -EAGAIN */
	bool thin_wire; /* carry only the ends of big payloads */
	bool withhold; /* may_update_credit says no */
	/* the credit this side saw the peer advertise (one connection) */
	bool check_credit;
	uint32_t view_buf_alloc, view_fwd_cnt, view_tx;
	uint64_t credit_violations;
	uint64_t sent[8]; /* packets sent, per op */
	uint64_t rx_errors; /* vs_proto_input() != 0 on this side */
	int last_ret;
	uint64_t ev[8]; /* events, per kind */
	struct vs_sock *accepted;
	uint64_t fills; /* xmit_fill calls that made a payload */
	struct vs_hdr log[LOG_MAX]; /* first packets sent */
	unsigned int nlog;
	side_event_fn on_event;
};

/* ---- the wire ----------------------------------------------------------- */

static int t_xmit(void *ctx, const struct vs_hdr *h, const void *payload)
{
	struct side *x = ctx;
	struct wpkt *w;
	bool thin;

	if (x->eagain)
		return -EAGAIN;
	thin = x->thin_wire && h->len >= 2 * THIN_END;
	w = malloc(sizeof(*w) + (thin ? 2 * THIN_END : h->len));
	if (!w)
		return -ENOMEM;
	w->next = NULL;
	w->len = h->len;
	w->thin = thin;
	vs_hdr_encode(h, w->hdr);
	if (thin) {
		memcpy(w->data, payload, THIN_END);
		memcpy(w->data + THIN_END,
		       (const unsigned char *)payload + h->len - THIN_END,
		       THIN_END);
	} else if (h->len) {
		memcpy(w->data, payload, h->len);
	}
	*x->tail = w;
	x->tail = &w->next;
	if (h->op < 8)
		x->sent[h->op]++;
	if (x->nlog < LOG_MAX)
		x->log[x->nlog++] = *h;
	if (h->op == VS_OP_RW && x->check_credit) {
		uint32_t inflight = x->view_tx - x->view_fwd_cnt;

		if (inflight > x->view_buf_alloc ||
		    h->len > x->view_buf_alloc - inflight)
			x->credit_violations++;
		x->view_tx += h->len;
	}
	return 0;
}

static void t_event(void *ctx, struct vs_sock *s, enum vs_sock_event ev)
{
	struct side *x = ctx;

	x->ev[ev]++;
	if (ev == VS_SOCK_EV_ACCEPTED)
		x->accepted = s;
	if (x->on_event)
		x->on_event(x, s, ev);
}

static bool t_may_update(void *ctx, struct vs_sock *s)
{
	struct side *x = ctx;

	(void)s;
	return !x->withhold;
}

static const struct vs_proto_ops t_ops = {
	.xmit = t_xmit,
	.event = t_event,
	.may_update_credit = t_may_update,
};

/* the wire's buffer made by the engine's fill (xmit_fill) */
static int t_xmit_fill(void *ctx, const struct vs_hdr *h, vs_fill_fn *fill,
		       void *fill_arg)
{
	static unsigned char buf[VS_MAX_PKT_PAYLOAD];
	struct side *x = ctx;

	if (x->eagain)
		return -EAGAIN;
	x->fills++;
	fill(fill_arg, buf, h->len);
	return t_xmit(ctx, h, buf);
}

static const struct vs_proto_ops t_ops_fill = {
	.xmit = t_xmit,
	.event = t_event,
	.may_update_credit = t_may_update,
	.xmit_fill = t_xmit_fill,
};

/* deliver the oldest packet @from sent; returns false if there was none */
static bool deliver_one(struct side *from)
{
	struct side *to = from->peer;
	struct wpkt *w = from->head;
	struct vs_hdr h;

	if (!w)
		return false;
	from->head = w->next;
	if (!from->head)
		from->tail = &from->head;
	vs_hdr_decode(w->hdr, &h);
	if (h.len != w->len)
		to->rx_errors++; /* the header lost its length */
	if (h.op != VS_OP_RST) {
		to->view_buf_alloc = h.buf_alloc;
		to->view_fwd_cnt = h.fwd_cnt;
	}
	if (w->thin) {
		/* the engine copies the payload in: one buffer does for all */
		memcpy(thin_buf, w->data, THIN_END);
		memcpy(thin_buf + w->len - THIN_END, w->data + THIN_END,
		       THIN_END);
		to->last_ret = vs_proto_input(to->p, &h, thin_buf);
	} else {
		to->last_ret =
			vs_proto_input(to->p, &h, h.len ? w->data : NULL);
	}
	if (to->last_ret)
		to->rx_errors++;
	free(w);
	return true;
}

static unsigned long pump(struct side *a, struct side *b)
{
	unsigned long n = 0;
	bool more = true;

	while (more && n < 100000000ul) {
		more = false;
		if (deliver_one(a)) {
			more = true;
			n++;
		}
		if (deliver_one(b)) {
			more = true;
			n++;
		}
	}
	return n;
}

static void drop_wire(struct side *x)
{
	while (x->head) {
		struct wpkt *w = x->head;

		x->head = w->next;
		free(w);
	}
	x->tail = &x->head;
}

static bool sides_init_ops(struct side *a, struct side *b,
			   const struct vs_proto_config *ca,
			   const struct vs_proto_config *cb,
			   const struct vs_proto_ops *ops);

static bool sides_init(struct side *a, struct side *b,
		       const struct vs_proto_config *ca,
		       const struct vs_proto_config *cb)
{
	return sides_init_ops(a, b, ca, cb, &t_ops);
}

static bool sides_init_ops(struct side *a, struct side *b,
			   const struct vs_proto_config *ca,
			   const struct vs_proto_config *cb,
			   const struct vs_proto_ops *ops)
{
	struct vs_proto_config da = { .cid = CID_A }, db = { .cid = CID_B };

	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	a->name = "A";
	b->name = "B";
	a->peer = b;
	b->peer = a;
	a->tail = &a->head;
	b->tail = &b->head;
	a->check_credit = true;
	b->check_credit = true;
	a->p = vs_proto_new(ca ? ca : &da, ops, a);
	b->p = vs_proto_new(cb ? cb : &db, ops, b);
	CHECK(a->p != NULL && b->p != NULL);
	return a->p && b->p;
}

static void sides_fini(struct side *a, struct side *b)
{
	CHECK_EQ_U(a->credit_violations, 0);
	CHECK_EQ_U(b->credit_violations, 0);
	drop_wire(a);
	drop_wire(b);
	vs_proto_free(a->p);
	vs_proto_free(b->p);
}

/* B connects to A's PORT: the two ends, or false */
static bool conn(struct side *a, struct side *b, uint16_t type,
		 struct vs_sock **sa, struct vs_sock **sb)
{
	*sa = NULL;
	a->accepted = NULL;
	a->view_tx = 0; /* the credit mirror follows the new connection */
	b->view_tx = 0;
	*sb = vs_proto_connect(b->p, 0, CID_A, PORT, type);
	CHECK(*sb != NULL);
	if (!*sb)
		return false;
	pump(a, b);
	*sa = a->accepted;
	CHECK(*sa != NULL);
	return *sa != NULL;
}

/* A listens on PORT, B connects */
static bool establish(struct side *a, struct side *b, uint16_t type,
		      struct vs_sock **sa, struct vs_sock **sb)
{
	CHECK_EQ_U(vs_proto_listen(a->p, PORT, type), 0);
	return conn(a, b, type, sa, sb);
}

static struct vs_sock_info info(const struct vs_sock *s)
{
	struct vs_sock_info i;

	vs_sock_info(s, &i);
	return i;
}

static struct vs_proto_stats stats(const struct vs_proto *p)
{
	struct vs_proto_stats st;

	vs_proto_stats(p, &st);
	return st;
}

static unsigned char pat(uint64_t i)
{
	return (unsigned char)(i ^ (i >> 8) ^ (i >> 16) ^ (i >> 24));
}

/* ---- cases -------------------------------------------------------------- */

static void t_hdr_roundtrip(void)
{
	static const unsigned char want[VS_HDR_SIZE] = {
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* src_cid */
		0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11, /* dst_cid */
		0x24, 0x23, 0x22, 0x21, /* src_port */
		0x34, 0x33, 0x32, 0x31, /* dst_port */
		0x44, 0x43, 0x42, 0x41, /* len */
		0x52, 0x51, /* type */
		0x62, 0x61, /* op */
		0x74, 0x73, 0x72, 0x71, /* flags */
		0x84, 0x83, 0x82, 0x81, /* buf_alloc */
		0x94, 0x93, 0x92, 0x91, /* fwd_cnt */
	};
	struct vs_hdr h = {
		.src_cid = 0x0102030405060708ull,
		.dst_cid = 0x1112131415161718ull,
		.src_port = 0x21222324,
		.dst_port = 0x31323334,
		.len = 0x41424344,
		.type = 0x5152,
		.op = 0x6162,
		.flags = 0x71727374,
		.buf_alloc = 0x81828384,
		.fwd_cnt = 0x91929394,
	};
	unsigned char wire[VS_HDR_SIZE + 4];
	struct vs_hdr d;

	CHECK_EQ_U(VS_HDR_SIZE, 44);
	memset(wire, 0xee, sizeof(wire));
	vs_hdr_encode(&h, wire);
	CHECK(memcmp(wire, want, VS_HDR_SIZE) == 0);
	CHECK_EQ_U(wire[VS_HDR_SIZE], 0xee); /* wrote 44 bytes, no more */
	memset(&d, 0, sizeof(d));
	vs_hdr_decode(want, &d);
	CHECK_EQ_U(d.src_cid, h.src_cid);
	CHECK_EQ_U(d.dst_cid, h.dst_cid);
	CHECK_EQ_U(d.src_port, h.src_port);
	CHECK_EQ_U(d.dst_port, h.dst_port);
	CHECK_EQ_U(d.len, h.len);
	CHECK_EQ_U(d.type, h.type);
	CHECK_EQ_U(d.op, h.op);
	CHECK_EQ_U(d.flags, h.flags);
	CHECK_EQ_U(d.buf_alloc, h.buf_alloc);
	CHECK_EQ_U(d.fwd_cnt, h.fwd_cnt);
}

static void t_connect(void)
{
	struct side a, b;
	struct vs_sock *sa, *sb, *sb2;
	struct vs_sock_info ia, ib;
	char buf[16];

	if (!sides_init(&a, &b, NULL, NULL))
		goto out;
	CHECK_EQ_U(vs_proto_listen(a.p, PORT, VS_TYPE_STREAM), 0);
	sb = vs_proto_connect(b.p, 0, CID_A, PORT, VS_TYPE_STREAM);
	CHECK(sb != NULL);
	if (!sb)
		goto out;
	CHECK(info(sb).state == VS_SOCK_CONNECTING);
	CHECK_EQ_U(vs_sock_write(sb, "x", 1), -ENOTCONN);
	CHECK_EQ_U(vs_sock_read(sb, buf, 1), -ENOTCONN);
	CHECK_EQ_U(b.sent[VS_OP_REQUEST], 1);
	pump(&a, &b);
	sa = a.accepted;
	CHECK(sa != NULL);
	if (!sa)
		goto out;
	CHECK_EQ_U(a.sent[VS_OP_RESPONSE], 1);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_ACCEPTED], 1);
	CHECK_EQ_U(b.ev[VS_SOCK_EV_CONNECTED], 1);
	ia = info(sa);
	ib = info(sb);
	CHECK(ia.state == VS_SOCK_CONNECTED && ib.state == VS_SOCK_CONNECTED);
	CHECK_EQ_U(ib.local_port, 1024); /* auto-picked, from 1024 up */
	CHECK_EQ_U(ib.local_cid, CID_B);
	CHECK_EQ_U(ib.peer_cid, CID_A);
	CHECK_EQ_U(ib.peer_port, PORT);
	CHECK_EQ_U(ia.local_port, PORT);
	CHECK_EQ_U(ia.peer_port, 1024);
	CHECK_EQ_U(ia.peer_cid, CID_B);
	CHECK_EQ_U(ia.type, VS_TYPE_STREAM);
	CHECK_EQ_U(ib.buf_alloc, 256 << 10);
	CHECK_EQ_U(ib.peer_buf_alloc, 256 << 10);
	CHECK_EQ_U(ia.peer_buf_alloc, 256 << 10);
	CHECK_EQ_U(ib.peer_free, 256 << 10);

	/* a little data each way */
	CHECK_EQ_U(vs_sock_write(sb, "ping", 4), 4);
	CHECK_EQ_U(vs_sock_write(sa, "pong!", 5), 5);
	pump(&a, &b);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_READABLE], 1);
	CHECK_EQ_U(b.ev[VS_SOCK_EV_READABLE], 1);
	CHECK_EQ_U(info(sa).rx_queued, 4);
	CHECK_EQ_U(vs_sock_read(sa, buf, sizeof(buf)), 4);
	CHECK(memcmp(buf, "ping", 4) == 0);
	CHECK_EQ_U(vs_sock_read(sa, buf, sizeof(buf)), 0);
	CHECK_EQ_U(vs_sock_read(sb, buf, sizeof(buf)), 5);
	CHECK(memcmp(buf, "pong!", 5) == 0);
	ia = info(sa);
	ib = info(sb);
	CHECK_EQ_U(ia.fwd_cnt, 4);
	CHECK_EQ_U(ib.tx_cnt, 4);
	CHECK_EQ_U(ia.tx_cnt, 5);
	CHECK_EQ_U(ib.fwd_cnt, 5);

	/* the next auto port; the user pointer */
	sb2 = vs_proto_connect(b.p, 0, CID_A, PORT, VS_TYPE_STREAM);
	CHECK(sb2 != NULL);
	if (sb2) {
		CHECK_EQ_U(info(sb2).local_port, 1025);
		vs_sock_set_user(sb2, &a);
		CHECK(vs_sock_get_user(sb2) == &a);
	}
	/* the listener's port is taken; so is a tuple already in use */
	CHECK(vs_proto_connect(b.p, 1024, CID_A, PORT, VS_TYPE_STREAM) == NULL);
	CHECK_EQ_U(errno, EADDRINUSE);
	CHECK(vs_proto_connect(a.p, PORT, CID_B, 1, VS_TYPE_STREAM) == NULL);
	CHECK(vs_proto_connect(a.p, 1, CID_B, 1, 9) == NULL);
	CHECK_EQ_U(errno, EINVAL);
	pump(&a, &b);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_ACCEPTED], 2);
	CHECK_EQ_U(b.ev[VS_SOCK_EV_CONNECTED], 2);
	CHECK_EQ_U(a.sent[VS_OP_RST] + b.sent[VS_OP_RST], 0);
out:
	sides_fini(&a, &b);
}

static void t_refused(void)
{
	struct side a, b;
	struct vs_sock *sb, *sb2;

	if (!sides_init(&a, &b, NULL, NULL))
		goto out;
	CHECK_EQ_U(vs_proto_listen(a.p, PORT, VS_TYPE_SEQPACKET), 0);
	CHECK_EQ_U(vs_proto_listen(a.p, PORT, VS_TYPE_STREAM), -EADDRINUSE);
	CHECK_EQ_U(vs_proto_listen(a.p, PORT + 1, 0), -EINVAL);

	sb = vs_proto_connect(b.p, 0, CID_A, PORT + 7, VS_TYPE_STREAM);
	CHECK(sb != NULL);
	if (!sb)
		goto out;
	pump(&a, &b);
	CHECK(info(sb).state == VS_SOCK_CLOSED);
	CHECK_EQ_U(b.ev[VS_SOCK_EV_RESET], 1);
	CHECK_EQ_U(b.ev[VS_SOCK_EV_CONNECTED], 0);
	CHECK_EQ_U(a.sent[VS_OP_RST], 1);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_ACCEPTED], 0);
	CHECK_EQ_U(stats(a.p).no_sock, 1);
	CHECK_EQ_U(stats(a.p).rst_sent, 1);
	CHECK_EQ_U(b.sent[VS_OP_RST], 0); /* no answer to an RST */
	CHECK_EQ_U(vs_sock_write(sb, "x", 1), -EPIPE);

	/* a listener of the other type refuses too */
	sb2 = vs_proto_connect(b.p, 0, CID_A, PORT, VS_TYPE_STREAM);
	CHECK(sb2 != NULL);
	pump(&a, &b);
	if (sb2)
		CHECK(info(sb2).state == VS_SOCK_CLOSED);
	CHECK_EQ_U(b.ev[VS_SOCK_EV_RESET], 2);
	CHECK_EQ_U(a.sent[VS_OP_RST], 2);
	vs_sock_release(sb);
	vs_sock_release(sb2);
	/* the released port is free again */
	sb = vs_proto_connect(b.p, 1024, CID_A, PORT + 7, VS_TYPE_STREAM);
	CHECK(sb != NULL);
	pump(&a, &b);
out:
	sides_fini(&a, &b);
}

/* B writes @total bytes, A reads them; the data and the credit checked */
static void one_way(struct side *a, struct side *b, struct vs_sock *sa,
		    struct vs_sock *sb, size_t total, size_t wchunk)
{
	unsigned char *src = malloc(total), *dst = malloc(total);
	size_t put = 0, got = 0;
	unsigned long rounds = 0;
	ssize_t n;

	CHECK(src && dst);
	if (!src || !dst)
		goto out;
	for (size_t i = 0; i < total; i++)
		src[i] = pat(i);
	while (got < total && rounds++ < 1000000) {
		while (put < total) {
			size_t w = total - put < wchunk ? total - put : wchunk;

			n = vs_sock_write(sb, src + put, w);
			CHECK(n >= 0);
			if (n <= 0)
				break;
			put += (size_t)n;
		}
		pump(a, b);
		while ((n = vs_sock_read(sa, dst + got, total - got)) > 0)
			got += (size_t)n;
		CHECK(n == 0);
		pump(a, b);
	}
	CHECK_EQ_U(got, total);
	CHECK(memcmp(src, dst, total) == 0);
	CHECK_EQ_U(info(sb).tx_cnt, (uint32_t)total);
	CHECK_EQ_U(info(sa).fwd_cnt, (uint32_t)total);
	CHECK_EQ_U(info(sb).tx_queued, 0);
out:
	free(src);
	free(dst);
}

static void t_bulk(void)
{
	struct side a, b;
	struct vs_sock *sa, *sb;

	if (!sides_init(&a, &b, NULL, NULL) ||
	    !establish(&a, &b, VS_TYPE_STREAM, &sa, &sb))
		goto out;
	one_way(&a, &b, sa, sb, 10u << 20, 100000);
	CHECK(b.sent[VS_OP_RW] >= (10u << 20) / 65536);
	CHECK(a.sent[VS_OP_CREDIT_UPDATE] > 0);
	CHECK_EQ_U(a.sent[VS_OP_RW], 0);
	CHECK_EQ_U(a.sent[VS_OP_RST] + b.sent[VS_OP_RST], 0);
	CHECK_EQ_U(a.rx_errors + b.rx_errors, 0);
out:
	sides_fini(&a, &b);
}

static void t_starve_resume(void)
{
	struct side a, b;
	struct vs_sock *sa, *sb;
	static unsigned char src[512 << 10], dst[512 << 10];
	struct vs_sock_info ib;
	size_t got = 0;
	ssize_t n;

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = pat(i * 3);
	if (!sides_init(&a, &b, NULL, NULL) ||
	    !establish(&a, &b, VS_TYPE_STREAM, &sa, &sb))
		goto out;
	/* the first 256 KiB fill A's buffer, the next wait */
	CHECK_EQ_U(vs_sock_write(sb, src, 256 << 10), 256 << 10);
	CHECK_EQ_U(b.sent[VS_OP_CREDIT_REQUEST], 0);
	CHECK_EQ_U(vs_sock_write(sb, src + (256 << 10), 256 << 10), 256 << 10);
	for (int i = 0; i < 5; i++) {
		pump(&a, &b);
		vs_proto_flush(b.p);
	}
	CHECK_EQ_U(vs_sock_write(sb, src, 1), 0); /* the send buffer is full */
	pump(&a, &b);
	ib = info(sb);
	CHECK_EQ_U(ib.peer_free, 0);
	CHECK_EQ_U(ib.tx_queued, 256 << 10);
	CHECK_EQ_U(ib.starved, 1);
	CHECK_EQ_U(ib.credit_requests_sent, 1);
	CHECK_EQ_U(b.sent[VS_OP_CREDIT_REQUEST], 1);
	CHECK_EQ_U(b.sent[VS_OP_RW], 4);
	/* A answered the request, with nothing freed yet */
	CHECK_EQ_U(a.sent[VS_OP_CREDIT_UPDATE], 1);
	CHECK_EQ_U(info(sa).rx_queued, 256 << 10);
	CHECK_EQ_U(b.ev[VS_SOCK_EV_WRITABLE], 0);

	/* the reader resumes: its update lets the writer go on */
	while ((n = vs_sock_read(sa, dst + got, 65536)) > 0) {
		got += (size_t)n;
		/* no update while the peer's view has 64 KiB or more */
		CHECK_EQ_U(a.sent[VS_OP_CREDIT_UPDATE],
			   got < (256 << 10) ? 1 : 2);
	}
	CHECK_EQ_U(got, 256 << 10);
	CHECK_EQ_U(a.sent[VS_OP_CREDIT_UPDATE], 2);
	CHECK_EQ_U(info(sa).credit_updates_sent, 2);
	pump(&a, &b);
	CHECK_EQ_U(b.ev[VS_SOCK_EV_WRITABLE], 1);
	CHECK_EQ_U(info(sb).tx_queued, 0);
	CHECK_EQ_U(b.sent[VS_OP_RW], 8);
	while ((n = vs_sock_read(sa, dst + got, sizeof(dst) - got)) > 0)
		got += (size_t)n;
	CHECK_EQ_U(got, sizeof(dst));
	CHECK(memcmp(src, dst, sizeof(dst)) == 0);
	CHECK_EQ_U(b.sent[VS_OP_CREDIT_REQUEST], 1);
	CHECK_EQ_U(info(sb).starved, 1);
out:
	sides_fini(&a, &b);
}

static void t_withhold(void)
{
	struct side a, b;
	struct vs_sock *sa, *sb;
	static unsigned char buf[512 << 10];
	struct vs_sock_info ib;
	size_t got = 0;
	ssize_t n;

	if (!sides_init(&a, &b, NULL, NULL) ||
	    !establish(&a, &b, VS_TYPE_STREAM, &sa, &sb))
		goto out;
	a.withhold = true;
	CHECK_EQ_U(vs_sock_write(sb, buf, 256 << 10), 256 << 10);
	CHECK_EQ_U(vs_sock_write(sb, buf, 256 << 10), 256 << 10);
	pump(&a, &b);
	while ((n = vs_sock_read(sa, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	CHECK_EQ_U(got, 256 << 10);
	for (int i = 0; i < 5; i++) {
		pump(&a, &b);
		vs_proto_flush(a.p);
		vs_proto_flush(b.p);
	}
	/* neither the read nor the request got an update out of A */
	CHECK_EQ_U(a.sent[VS_OP_CREDIT_UPDATE], 0);
	CHECK_EQ_U(info(sa).credit_updates_sent, 0);
	CHECK_EQ_U(info(sa).fwd_cnt, 256 << 10);
	ib = info(sb);
	CHECK_EQ_U(ib.peer_free, 0);
	CHECK_EQ_U(ib.peer_fwd_cnt, 0);
	CHECK_EQ_U(ib.tx_queued, 256 << 10);
	CHECK_EQ_U(ib.starved, 1);
	CHECK_EQ_U(b.sent[VS_OP_CREDIT_REQUEST], 1);
	CHECK_EQ_U(b.ev[VS_SOCK_EV_WRITABLE], 0);
	CHECK_EQ_U(vs_sock_read(sa, buf, sizeof(buf)), 0);

	/* the fault ends: the owed update goes out, the writer goes on */
	a.withhold = false;
	CHECK_EQ_U(vs_proto_flush(a.p), 1);
	CHECK_EQ_U(a.sent[VS_OP_CREDIT_UPDATE], 1);
	CHECK_EQ_U(vs_proto_flush(a.p), 0);
	pump(&a, &b);
	CHECK_EQ_U(b.ev[VS_SOCK_EV_WRITABLE], 1);
	CHECK_EQ_U(info(sb).tx_queued, 0);
	CHECK_EQ_U(b.sent[VS_OP_CREDIT_REQUEST], 1);
	got = 0;
	while ((n = vs_sock_read(sa, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	CHECK_EQ_U(got, 256 << 10);
out:
	sides_fini(&a, &b);
}

/*
 * Past 2^32 bytes: tx_cnt, fwd_cnt, peer_fwd_cnt and the advertised space
 * all wrap. 1 MiB buffers, 64 KiB packets; each 1 MiB block carries its
 * number at both ends, the only bytes the (thin) wire carries: the full
 * data check is the bulk case's, this one would take too long with it.
 */
static void t_wrap(void)
{
	const uint32_t blk = 1u << 20;
	const uint64_t nblk = (1ull << 32) / blk + 8; /* 4.3 GB */
	struct vs_proto_config ca = { .cid = CID_A, .buf_alloc = blk };
	struct vs_proto_config cb = { .cid = CID_B, .send_buf = blk };
	unsigned char *src = malloc(blk), *dst = malloc(blk);
	uint64_t bad = 0, i;
	struct side a, b;
	struct vs_sock *sa, *sb;
	struct vs_sock_info ia, ib;

	CHECK(src && dst);
	if (!src || !dst || !sides_init(&a, &b, &ca, &cb) ||
	    !establish(&a, &b, VS_TYPE_STREAM, &sa, &sb))
		goto out;
	b.thin_wire = true; /* the wire carries each packet's ends only */
	memset(src, 0x5a, blk);
	for (i = 0; i < nblk && !bad; i++) {
		uint32_t got = 0;
		ssize_t n;
		int spins = 0;

		memcpy(src, &i, sizeof(i));
		memcpy(src + blk - sizeof(i), &i, sizeof(i));
		if (vs_sock_write(sb, src, blk) != blk)
			bad++;
		while (got < blk && spins++ < 100) {
			pump(&a, &b);
			while ((n = vs_sock_read(sa, dst + got, blk - got)) > 0)
				got += (uint32_t)n;
		}
		pump(&a, &b);
		if (got != blk || memcmp(dst, &i, sizeof(i)) ||
		    memcmp(dst + blk - sizeof(i), &i, sizeof(i)))
			bad++;
	}
	CHECK_EQ_U(bad, 0);
	ia = info(sa);
	ib = info(sb);
	CHECK_EQ_U(ib.tx_cnt, (uint32_t)(nblk * blk));
	CHECK(ib.tx_cnt < blk * 100); /* it did wrap */
	CHECK_EQ_U(ia.fwd_cnt, ib.tx_cnt);
	CHECK_EQ_U(ib.peer_fwd_cnt, ib.tx_cnt);
	CHECK_EQ_U(ib.peer_free, blk);
	CHECK_EQ_U(b.sent[VS_OP_RW], nblk * (blk / 65536));
	CHECK_EQ_U(a.rx_errors + b.rx_errors, 0);
	CHECK_EQ_U(b.sent[VS_OP_CREDIT_REQUEST], 0);
out:
	free(src);
	free(dst);
	sides_fini(&a, &b);
}

static void t_seqpacket(void)
{
	struct side a, b;
	struct vs_sock *sa, *sb;
	static unsigned char big[100 << 10], m4[65536], buf[200 << 10];
	unsigned int i, rw0;

	for (i = 0; i < sizeof(big); i++)
		big[i] = pat(i);
	for (i = 0; i < sizeof(m4); i++)
		m4[i] = pat(i + 7);
	if (!sides_init(&a, &b, NULL, NULL) ||
	    !establish(&a, &b, VS_TYPE_SEQPACKET, &sa, &sb))
		goto out;
	rw0 = b.nlog;
	CHECK_EQ_U(vs_sock_write(sb, "x", 1), 1);
	CHECK_EQ_U(vs_sock_write(sb, big, sizeof(big)), sizeof(big));
	CHECK_EQ_U(vs_sock_write(sb, "abc", 3), 3);
	CHECK_EQ_U(vs_sock_write(sb, m4, sizeof(m4)), sizeof(m4));
	CHECK_EQ_U(vs_sock_write(sb, "", 0), 0);
	/* the wire: 1 | 64K + 36K | 3 | 64K, EOM on each message's last */
	CHECK_EQ_U(b.nlog - rw0, 5);
	if (b.nlog - rw0 == 5) {
		const struct vs_hdr *l = &b.log[rw0];

		CHECK(l[0].op == VS_OP_RW && l[0].len == 1 &&
		      l[0].flags == VS_SEQ_EOM);
		CHECK(l[1].len == 65536 && l[1].flags == 0);
		CHECK(l[2].len == sizeof(big) - 65536 &&
		      l[2].flags == VS_SEQ_EOM);
		CHECK(l[3].len == 3 && l[3].flags == VS_SEQ_EOM);
		CHECK(l[4].len == 65536 && l[4].flags == VS_SEQ_EOM);
		CHECK_EQ_U(l[1].type, VS_TYPE_SEQPACKET);
	}
	/* half of the big message is no message yet */
	deliver_one(&b);
	deliver_one(&b);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_READABLE], 1);
	CHECK_EQ_U(vs_sock_read(sa, buf, 1), 1);
	CHECK_EQ_U(buf[0], 'x');
	CHECK_EQ_U(vs_sock_read(sa, buf, sizeof(buf)), 0);
	CHECK_EQ_U(info(sa).rx_queued, 65536);
	pump(&a, &b);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_READABLE], 4);
	/* reads of exact sizes; a bigger read never crosses a message */
	CHECK_EQ_U(vs_sock_read(sa, buf, sizeof(big)), sizeof(big));
	CHECK(memcmp(buf, big, sizeof(big)) == 0);
	CHECK_EQ_U(vs_sock_read(sa, buf, sizeof(buf)), 3);
	CHECK(memcmp(buf, "abc", 3) == 0);
	CHECK_EQ_U(vs_sock_read(sa, buf, sizeof(m4)), sizeof(m4));
	CHECK(memcmp(buf, m4, sizeof(m4)) == 0);
	CHECK_EQ_U(vs_sock_read(sa, buf, sizeof(buf)), 0);

	/* a short read leaves the rest of the message for the next one */
	CHECK_EQ_U(vs_sock_write(sb, "hello world", 11), 11);
	CHECK_EQ_U(vs_sock_write(sb, "next", 4), 4);
	pump(&a, &b);
	CHECK_EQ_U(vs_sock_read(sa, buf, 5), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_EQ_U(vs_sock_read(sa, buf, sizeof(buf)), 6);
	CHECK(memcmp(buf, " world", 6) == 0);
	CHECK_EQ_U(vs_sock_read(sa, buf, sizeof(buf)), 4);
	CHECK(memcmp(buf, "next", 4) == 0);

	/* a message larger than the peer's buffer could never be taken */
	CHECK_EQ_U(vs_sock_write(sb, buf, (256 << 10) + 1), -EMSGSIZE);
	CHECK_EQ_U(a.sent[VS_OP_RST] + b.sent[VS_OP_RST], 0);
	CHECK_EQ_U(a.rx_errors + b.rx_errors, 0);
out:
	sides_fini(&a, &b);
}

/*
 * SEQPACKET with a buffer that holds a whole message and a part of the
 * next: the writer starves mid-message, and reading the whole message
 * before it must be enough to let the rest come (else: a stall).
 */
static void t_seqpacket_no_stall(void)
{
	struct vs_proto_config ca = { .cid = CID_A, .buf_alloc = 128 << 10 };
	static unsigned char m1[10 << 10], m2[120 << 10], buf[128 << 10];
	struct side a, b;
	struct vs_sock *sa, *sb;

	memset(m1, 1, sizeof(m1));
	for (unsigned int i = 0; i < sizeof(m2); i++)
		m2[i] = pat(i);
	if (!sides_init(&a, &b, &ca, NULL) ||
	    !establish(&a, &b, VS_TYPE_SEQPACKET, &sa, &sb))
		goto out;
	CHECK_EQ_U(vs_sock_write(sb, m1, sizeof(m1)), sizeof(m1));
	CHECK_EQ_U(vs_sock_write(sb, m2, sizeof(m2)), sizeof(m2));
	pump(&a, &b);
	CHECK_EQ_U(info(sb).starved, 1);
	CHECK(info(sb).tx_queued > 0);
	CHECK_EQ_U(vs_sock_read(sa, buf, sizeof(buf)), sizeof(m1));
	pump(&a, &b);
	CHECK_EQ_U(info(sb).tx_queued, 0);
	CHECK_EQ_U(vs_sock_read(sa, buf, sizeof(buf)), sizeof(m2));
	CHECK(memcmp(buf, m2, sizeof(m2)) == 0);
out:
	sides_fini(&a, &b);
}

static void t_close(void)
{
	struct side a, b;
	struct vs_sock *sa, *sb;
	char buf[8];

	if (!sides_init(&a, &b, NULL, NULL) ||
	    !establish(&a, &b, VS_TYPE_STREAM, &sa, &sb))
		goto out;
	/* A closes; B has nothing unread: B answers RST, both end */
	CHECK_EQ_U(vs_sock_close(sa), 0);
	CHECK(info(sa).state == VS_SOCK_CLOSING);
	CHECK_EQ_U(vs_sock_write(sa, "x", 1), -EPIPE);
	CHECK_EQ_U(a.sent[VS_OP_SHUTDOWN], 1);
	CHECK_EQ_U(a.log[a.nlog - 1].flags, VS_SHUTDOWN_RCV | VS_SHUTDOWN_SEND);
	pump(&a, &b);
	CHECK(info(sa).state == VS_SOCK_CLOSED);
	CHECK(info(sb).state == VS_SOCK_CLOSED);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_CLOSED], 1);
	CHECK_EQ_U(b.ev[VS_SOCK_EV_CLOSED], 1);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_RESET] + b.ev[VS_SOCK_EV_RESET], 0);
	CHECK_EQ_U(b.sent[VS_OP_RST], 1);
	CHECK_EQ_U(a.sent[VS_OP_RST], 0);
	CHECK_EQ_U(vs_proto_flush(a.p) + vs_proto_flush(b.p), 0);
	CHECK_EQ_U(pump(&a, &b), 0);
	CHECK_EQ_U(vs_sock_read(sb, buf, sizeof(buf)), -ENOTCONN);
	CHECK_EQ_U(vs_sock_close(sb), 0);
	vs_sock_release(sa);
	vs_sock_release(sb);
	CHECK_EQ_U(pump(&a, &b), 0);

	/* B has unread data: it reads, then its close is the RST */
	if (!conn(&a, &b, VS_TYPE_STREAM, &sa, &sb))
		goto out;
	CHECK_EQ_U(vs_sock_write(sa, "bye", 3), 3);
	CHECK_EQ_U(vs_sock_close(sa), 0);
	pump(&a, &b);
	CHECK_EQ_U(b.ev[VS_SOCK_EV_PEER_SHUTDOWN], 1);
	CHECK(info(sb).state == VS_SOCK_CONNECTED);
	CHECK(info(sb).peer_shutdown_send && info(sb).peer_shutdown_rcv);
	CHECK_EQ_U(vs_sock_write(sb, "x", 1), -EPIPE);
	CHECK_EQ_U(vs_sock_read(sb, buf, sizeof(buf)), 3);
	CHECK(memcmp(buf, "bye", 3) == 0);
	CHECK_EQ_U(vs_sock_close(sb), 0);
	CHECK(info(sb).state == VS_SOCK_CLOSED);
	pump(&a, &b);
	CHECK(info(sa).state == VS_SOCK_CLOSED);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_CLOSED], 2);
	CHECK_EQ_U(b.sent[VS_OP_RST], 2);
	CHECK_EQ_U(a.sent[VS_OP_RST], 0);
	CHECK_EQ_U(pump(&a, &b), 0);
	vs_sock_release(sa);
	vs_sock_release(sb);

	/* both close at once: two RSTs cross, none answered */
	if (!conn(&a, &b, VS_TYPE_STREAM, &sa, &sb))
		goto out;
	vs_sock_close(sa);
	vs_sock_close(sb);
	pump(&a, &b);
	CHECK(info(sa).state == VS_SOCK_CLOSED);
	CHECK(info(sb).state == VS_SOCK_CLOSED);
	CHECK_EQ_U(a.sent[VS_OP_RST], 1);
	CHECK_EQ_U(b.sent[VS_OP_RST], 3);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_RESET] + b.ev[VS_SOCK_EV_RESET], 0);
	CHECK_EQ_U(pump(&a, &b), 0);
	vs_sock_release(sa);
	vs_sock_release(sb);

	/* half close: B still writes after A's shutdown(SEND) */
	if (!conn(&a, &b, VS_TYPE_STREAM, &sa, &sb))
		goto out;
	CHECK_EQ_U(vs_sock_shutdown(sa, VS_SHUTDOWN_SEND), 0);
	CHECK_EQ_U(vs_sock_shutdown(sa, 4), -EINVAL);
	pump(&a, &b);
	CHECK(info(sb).peer_shutdown_send && !info(sb).peer_shutdown_rcv);
	CHECK_EQ_U(vs_sock_write(sb, "more", 4), 4);
	pump(&a, &b);
	CHECK_EQ_U(vs_sock_read(sa, buf, sizeof(buf)), 4);
	CHECK(info(sa).state == VS_SOCK_CONNECTED);
	/* and an abort */
	CHECK_EQ_U(vs_sock_reset(sb), 0);
	pump(&a, &b);
	CHECK(info(sa).state == VS_SOCK_CLOSED);
	/* A had shut down: the RST ends it as a close */
	CHECK_EQ_U(a.ev[VS_SOCK_EV_CLOSED], 4);
	vs_sock_release(sb);
	/* release of a live socket: RST first */
	a.accepted = NULL;
	sb = vs_proto_connect(b.p, 0, CID_A, PORT, VS_TYPE_STREAM);
	pump(&a, &b);
	vs_sock_release(sb);
	pump(&a, &b);
	CHECK(a.accepted && info(a.accepted).state == VS_SOCK_CLOSED);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_RESET], 1);
out:
	sides_fini(&a, &b);
}

static struct vs_hdr mkhdr(uint32_t src_port, uint32_t dst_port, uint16_t op,
			   uint32_t len)
{
	struct vs_hdr h;

	memset(&h, 0, sizeof(h));
	h.src_cid = CID_B;
	h.dst_cid = CID_A;
	h.src_port = src_port;
	h.dst_port = dst_port;
	h.type = VS_TYPE_STREAM;
	h.op = op;
	h.len = len;
	h.buf_alloc = 4096;
	return h;
}

static void t_unknown(void)
{
	struct side a, b;
	struct vs_hdr h;

	if (!sides_init(&a, &b, NULL, NULL))
		goto out;
	h = mkhdr(7777, 9999, VS_OP_RW, 0);
	CHECK_EQ_U(vs_proto_input(a.p, &h, NULL), 0);
	CHECK_EQ_U(a.sent[VS_OP_RST], 1);
	CHECK(a.nlog == 1 && a.log[0].dst_port == 7777 &&
	      a.log[0].src_port == 9999 && a.log[0].dst_cid == CID_B &&
	      a.log[0].src_cid == CID_A && a.log[0].len == 0);
	h = mkhdr(7777, 9999, VS_OP_CREDIT_REQUEST, 0);
	CHECK_EQ_U(vs_proto_input(a.p, &h, NULL), 0);
	CHECK_EQ_U(a.sent[VS_OP_RST], 2);
	h = mkhdr(7777, 9999, VS_OP_RST, 0);
	CHECK_EQ_U(vs_proto_input(a.p, &h, NULL), 0);
	CHECK_EQ_U(a.sent[VS_OP_RST], 2); /* never an RST for an RST */
	CHECK_EQ_U(stats(a.p).no_sock, 3);
	CHECK_EQ_U(stats(a.p).pkts_in, 3);
	CHECK_EQ_U(stats(a.p).pkts_out, 2);
	CHECK_EQ_U(stats(a.p).malformed, 0);
	/* addressed to another cid: no connection either */
	CHECK_EQ_U(vs_proto_listen(a.p, PORT, VS_TYPE_STREAM), 0);
	h = mkhdr(7777, PORT, VS_OP_REQUEST, 0);
	h.dst_cid = 99;
	CHECK_EQ_U(vs_proto_input(a.p, &h, NULL), 0);
	CHECK_EQ_U(a.sent[VS_OP_RST], 3);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_ACCEPTED], 0);
out:
	sides_fini(&a, &b);
}

static void t_malformed(void)
{
	static unsigned char big[(256 << 10) + 1];
	struct side a, b;
	struct vs_sock *sa, *sb;
	struct vs_hdr h;
	uint32_t bport;

	if (!sides_init(&a, &b, NULL, NULL))
		goto out;
	CHECK_EQ_U(vs_proto_listen(a.p, PORT, VS_TYPE_STREAM), 0);
	h = mkhdr(4000, PORT, 99, 0);
	CHECK_EQ_U(vs_proto_input(a.p, &h, NULL), -EPROTO);
	CHECK_EQ_U(a.sent[VS_OP_RST], 1);
	h = mkhdr(4000, PORT, VS_OP_REQUEST, 4);
	CHECK_EQ_U(vs_proto_input(a.p, &h, "abcd"), -EPROTO);
	CHECK_EQ_U(a.sent[VS_OP_RST], 2);
	h = mkhdr(4000, PORT, VS_OP_REQUEST, 0);
	h.type = 7;
	CHECK_EQ_U(vs_proto_input(a.p, &h, NULL), -EPROTO);
	CHECK_EQ_U(a.sent[VS_OP_RST], 3);
	h = mkhdr(4000, PORT, 0, 0);
	CHECK_EQ_U(vs_proto_input(a.p, &h, NULL), -EPROTO);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_ACCEPTED], 0);
	CHECK_EQ_U(stats(a.p).malformed, 4);
	CHECK_EQ_U(stats(a.p).rst_sent, 4);
	drop_wire(&a);

	/* RW beyond the space A advertised: exactly full is fine, +1 not */
	if (!conn(&a, &b, VS_TYPE_STREAM, &sa, &sb))
		goto out;
	bport = info(sb).local_port;
	h = mkhdr(bport, PORT, VS_OP_RW, 256 << 10);
	CHECK_EQ_U(vs_proto_input(a.p, &h, big), 0);
	CHECK_EQ_U(info(sa).rx_queued, 256 << 10);
	h = mkhdr(bport, PORT, VS_OP_RW, 1);
	CHECK_EQ_U(vs_proto_input(a.p, &h, big), -EPROTO);
	CHECK(info(sa).state == VS_SOCK_CLOSED);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_RESET], 1);
	CHECK_EQ_U(a.sent[VS_OP_RST], 5);
	pump(&a, &b);
	CHECK(info(sb).state == VS_SOCK_CLOSED);
	CHECK_EQ_U(b.ev[VS_SOCK_EV_RESET], 1);
	vs_sock_release(sa);
	vs_sock_release(sb);

	/* too much in one go on a fresh connection */
	if (!conn(&a, &b, VS_TYPE_STREAM, &sa, &sb))
		goto out;
	bport = info(sb).local_port;
	h = mkhdr(bport, PORT, VS_OP_RW, sizeof(big));
	CHECK_EQ_U(vs_proto_input(a.p, &h, big), -EPROTO);
	CHECK(info(sa).state == VS_SOCK_CLOSED);
	pump(&a, &b);
	vs_sock_release(sa);
	vs_sock_release(sb);

	/* a bad op, a wrong type, len on a control op: on a connection */
	for (int k = 0; k < 3; k++) {
		if (!conn(&a, &b, VS_TYPE_STREAM, &sa, &sb))
			goto out;
		h = mkhdr(info(sb).local_port, PORT,
			  k == 0 ? 99 : VS_OP_CREDIT_UPDATE, k == 2 ? 3 : 0);
		if (k == 1)
			h.type = VS_TYPE_SEQPACKET;
		CHECK_EQ_U(vs_proto_input(a.p, &h, "xyz"), -EPROTO);
		CHECK(info(sa).state == VS_SOCK_CLOSED);
		pump(&a, &b);
		CHECK(info(sb).state == VS_SOCK_CLOSED);
		vs_sock_release(sa);
		vs_sock_release(sb);
	}
	CHECK_EQ_U(stats(a.p).malformed, 9);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_RESET], 5);
	CHECK_EQ_U(b.ev[VS_SOCK_EV_RESET], 5);
	CHECK_EQ_U(b.sent[VS_OP_RST], 0);
out:
	sides_fini(&a, &b);
}

static void t_eagain(void)
{
	struct side a, b;
	struct vs_sock *sa, *sb;
	char buf[16];
	unsigned int l0;

	if (!sides_init(&a, &b, NULL, NULL))
		goto out;
	CHECK_EQ_U(vs_proto_listen(a.p, PORT, VS_TYPE_STREAM), 0);
	b.eagain = true;
	sb = vs_proto_connect(b.p, 0, CID_A, PORT, VS_TYPE_STREAM);
	CHECK(sb != NULL);
	if (!sb)
		goto out;
	CHECK_EQ_U(b.nlog, 0);
	CHECK_EQ_U(vs_proto_flush(b.p), 0);
	b.eagain = false;
	CHECK_EQ_U(vs_proto_flush(b.p), 1);
	CHECK_EQ_U(b.sent[VS_OP_REQUEST], 1);
	pump(&a, &b);
	sa = a.accepted;
	CHECK(sa != NULL && info(sb).state == VS_SOCK_CONNECTED);
	if (!sa)
		goto out;

	/* one RW waits, the next bytes stay behind it, then the SHUTDOWN */
	b.eagain = true;
	CHECK_EQ_U(vs_sock_write(sb, "abc", 3), 3);
	CHECK_EQ_U(vs_sock_write(sb, "def", 3), 3);
	CHECK_EQ_U(info(sb).tx_queued, 3);
	CHECK_EQ_U(vs_sock_shutdown(sb, VS_SHUTDOWN_SEND), 0);
	CHECK_EQ_U(vs_sock_write(sb, "g", 1), -EPIPE);
	CHECK_EQ_U(vs_proto_flush(b.p), 0);
	l0 = b.nlog;
	b.eagain = false;
	CHECK_EQ_U(vs_proto_flush(b.p), 3);
	CHECK_EQ_U(b.nlog - l0, 3);
	if (b.nlog - l0 == 3) {
		CHECK(b.log[l0].op == VS_OP_RW && b.log[l0].len == 3);
		CHECK(b.log[l0 + 1].op == VS_OP_RW && b.log[l0 + 1].len == 3);
		CHECK(b.log[l0 + 2].op == VS_OP_SHUTDOWN &&
		      b.log[l0 + 2].flags == VS_SHUTDOWN_SEND);
	}
	CHECK_EQ_U(stats(b.p).pkts_out, 4);
	pump(&a, &b);
	CHECK_EQ_U(vs_sock_read(sa, buf, sizeof(buf)), 6);
	CHECK(memcmp(buf, "abcdef", 6) == 0);
	CHECK(info(sa).peer_shutdown_send);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_PEER_SHUTDOWN], 1);

	/* the waiting packets leave with the newest fwd_cnt */
	CHECK_EQ_U(vs_sock_write(sa, "0123456789", 10), 10);
	pump(&a, &b);
	a.eagain = true;
	CHECK_EQ_U(vs_sock_write(sa, "x", 1), 1);
	CHECK_EQ_U(vs_sock_read(sb, buf, sizeof(buf)), 10);
	b.eagain = true;
	CHECK_EQ_U(vs_sock_reset(sb), 0); /* RST waits too */
	l0 = b.nlog;
	b.eagain = false;
	CHECK_EQ_U(vs_proto_flush(b.p), 1);
	CHECK(b.nlog == l0 + 1 && b.log[l0].op == VS_OP_RST &&
	      b.log[l0].fwd_cnt == 10);
	a.eagain = false;
	pump(&a, &b);
	CHECK(info(sa).state == VS_SOCK_CLOSED);
out:
	sides_fini(&a, &b);
}

/* A echoes what it reads */
static void echo(struct side *x, struct vs_sock *s, enum vs_sock_event ev)
{
	char buf[64];
	ssize_t n;

	(void)x;
	if (ev == VS_SOCK_EV_CLOSED || ev == VS_SOCK_EV_RESET) {
		vs_sock_release(s); /* from the callback: allowed */
		return;
	}
	if (ev != VS_SOCK_EV_READABLE)
		return;
	while ((n = vs_sock_read(s, buf, sizeof(buf))) > 0)
		vs_sock_write(s, buf, (size_t)n);
}

static void t_many(void)
{
	enum { N = 1000 };
	struct vs_sock **sb = calloc(N, sizeof(*sb));
	struct side a, b;
	unsigned int bad = 0, i;
	char msg[32], buf[64];

	if (!sb || !sides_init(&a, &b, NULL, NULL))
		goto out;
	a.check_credit = b.check_credit = false; /* one mirror, many conns */
	a.on_event = echo;
	CHECK_EQ_U(vs_proto_listen(a.p, PORT, VS_TYPE_STREAM), 0);
	for (i = 0; i < N; i++) {
		sb[i] = vs_proto_connect(b.p, 0, CID_A, PORT, VS_TYPE_STREAM);
		if (!sb[i]) {
			CHECK(sb[i] != NULL);
			goto out;
		}
		if (info(sb[i]).local_port != 1024 + i)
			bad++;
	}
	pump(&a, &b);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_ACCEPTED], N);
	CHECK_EQ_U(b.ev[VS_SOCK_EV_CONNECTED], N);
	for (i = 0; i < N; i++) {
		int len = snprintf(msg, sizeof(msg), "hello %u", i);

		if (vs_sock_write(sb[i], msg, (size_t)len) != len)
			bad++;
	}
	pump(&a, &b);
	for (i = 0; i < N; i++) {
		int len = snprintf(msg, sizeof(msg), "hello %u", i);

		if (vs_sock_read(sb[i], buf, sizeof(buf)) != len ||
		    memcmp(buf, msg, (size_t)len))
			bad++;
	}
	CHECK_EQ_U(bad, 0);
	for (i = 0; i < N; i++)
		vs_sock_close(sb[i]);
	pump(&a, &b);
	for (i = 0; i < N; i++)
		if (info(sb[i]).state != VS_SOCK_CLOSED)
			bad++;
	CHECK_EQ_U(bad, 0);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_CLOSED], N);
	CHECK_EQ_U(b.ev[VS_SOCK_EV_CLOSED], N);
	CHECK_EQ_U(a.sent[VS_OP_RST], N);
	CHECK_EQ_U(b.sent[VS_OP_RST], 0);
	CHECK_EQ_U(a.rx_errors + b.rx_errors, 0);
	for (i = 0; i < N; i++)
		vs_sock_release(sb[i]);
	CHECK_EQ_U(info(vs_proto_connect(b.p, 0, CID_A, PORT, VS_TYPE_STREAM))
			   .local_port,
		   1024 + N);
	pump(&a, &b);
	CHECK_EQ_U(a.ev[VS_SOCK_EV_ACCEPTED], N + 1);
out:
	free(sb);
	sides_fini(&a, &b);
}

/* hostile input: random headers never crash it, and get 0 or -EPROTO */
static void t_random_input(void)
{
	static unsigned char pay[4096];
	struct side a, b;
	struct vs_sock *sa, *sb;
	uint64_t x = 0x9e3779b97f4a7c15ull, bad = 0;

	if (!sides_init(&a, &b, NULL, NULL) ||
	    !establish(&a, &b, VS_TYPE_STREAM, &sa, &sb))
		goto out;
	a.check_credit = b.check_credit = false;
	for (int i = 0; i < 20000; i++) {
		struct vs_hdr h;
		int r;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		h = mkhdr(x & 1 ? info(sb).local_port : (uint32_t)(x >> 8) % 4,
			  x & 2 ? PORT : 1024 + (uint32_t)(x >> 12) % 3,
			  (uint16_t)((x >> 16) % 9),
			  (uint32_t)(x >> 24) % 3 == 0 ?
				  (uint32_t)(x >> 32) % sizeof(pay) :
				  0);
		h.type = (uint16_t)((x >> 40) % 4);
		h.flags = (uint32_t)(x >> 44) % 8;
		h.buf_alloc = (uint32_t)(x >> 20);
		h.fwd_cnt = (uint32_t)(x >> 28);
		r = vs_proto_input(a.p, &h, pay);
		if (r && r != -EPROTO)
			bad++;
		if (i % 64 == 0) {
			vs_sock_read(sa, pay, sizeof(pay));
			vs_sock_write(sa, pay, 100);
			drop_wire(&a);
		}
	}
	CHECK_EQ_U(bad, 0);
	CHECK(stats(a.p).malformed > 0 && stats(a.p).rst_sent > 0);
out:
	sides_fini(&a, &b);
}

/* ---- payloads made in place, read in place ------------------------------ */

struct stream {
	uint64_t made, seen, bad;
	struct vs_sock *release_at_end; /* the reader releases it */
	uint64_t end;
};

static void fill_pat(void *arg, void *dst, size_t len)
{
	struct stream *st = arg;
	unsigned char *d = dst;

	for (size_t i = 0; i < len; i++)
		d[i] = pat(st->made + i);
	st->made += len;
}

static void read_pat(void *arg, const void *data, size_t len)
{
	struct stream *st = arg;
	const unsigned char *d = data;

	for (size_t i = 0; i < len; i++)
		st->bad += d[i] != pat(st->seen + i);
	st->seen += len;
	if (st->release_at_end && st->seen >= st->end) {
		vs_sock_release(st->release_at_end);
		st->release_at_end = NULL;
	}
}

/*
 * B writes @total bytes with vs_sock_write_fill() (or, @later,
 * vs_sock_write_later()) in writes of any size, the wire refusing now and
 * then; A reads them with vs_sock_read(), or in place (@in_place). Every
 * byte made once, in order, within credit.
 */
static void fill_stream(const struct vs_proto_ops *ops, bool in_place,
			bool later)
{
	const uint64_t total = 3u << 20;
	struct stream w = { 0 }, r = { 0 };
	unsigned char *buf = malloc(65536);
	struct side a, b;
	struct vs_sock *sa, *sb;
	uint64_t written = 0, got = 0, rng = 12345;
	ssize_t n;

	if (!buf || !sides_init_ops(&a, &b, NULL, NULL, ops) ||
	    !establish(&a, &b, VS_TYPE_STREAM, &sa, &sb))
		goto out;
	if (in_place)
		CHECK_EQ_U(vs_sock_set_reader(sa, read_pat, &r), 0);
	for (int i = 0; written < total && i < 100000; i++) {
		size_t len;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		len = 1 + (size_t)(rng >> 33) % 70000;
		if (len > total - written)
			len = (size_t)(total - written);
		b.eagain = (rng >> 20) % 5 == 0;
		n = later ? vs_sock_write_later(sb, len, fill_pat, &w)
			  : vs_sock_write_fill(sb, len, fill_pat, &w);
		CHECK(n >= 0);
		if (n > 0)
			written += (uint64_t)n;
		/* made exactly what it took, or (later) what has left */
		if (later)
			CHECK_EQ_U(w.made, written - info(sb).tx_queued);
		else
			CHECK_EQ_U(w.made, written);
		if ((rng >> 40) % 3 == 0)
			b.eagain = false;
		pump(&a, &b);
		while ((n = vs_sock_read(sa, buf, 65536)) > 0) {
			for (ssize_t k = 0; k < n; k++)
				r.bad += buf[k] != pat(got + (uint64_t)k);
			got += (uint64_t)n;
		}
		pump(&a, &b);
		b.eagain = false;
		vs_proto_flush(b.p);
	}
	for (int i = 0; i < 10; i++) {
		pump(&a, &b);
		while ((n = vs_sock_read(sa, buf, 65536)) > 0)
			got += (uint64_t)n; /* nothing should be left */
		vs_proto_flush(b.p);
	}
	CHECK_EQ_U(written, total);
	CHECK_EQ_U(w.made, total);
	CHECK_EQ_U(in_place ? r.seen : got, total);
	CHECK_EQ_U(in_place ? got : r.seen, 0);
	CHECK_EQ_U(r.bad, 0);
	CHECK_EQ_U(info(sa).fwd_cnt, (uint32_t)total);
	CHECK_EQ_U(info(sa).rx_queued, 0);
	CHECK_EQ_U(info(sb).tx_queued, 0);
	CHECK(a.sent[VS_OP_CREDIT_UPDATE] > 0);
	CHECK_EQ_U(a.rx_errors + b.rx_errors, 0);
	CHECK_EQ_U(a.sent[VS_OP_RST] + b.sent[VS_OP_RST], 0);
	/* with xmit_fill, most bytes are made in the wire's buffer */
	CHECK(ops->xmit_fill ? b.fills > 0 : b.fills == 0);
out:
	sides_fini(&a, &b);
	free(buf);
}

static void t_write_fill(void)
{
	fill_stream(&t_ops_fill, false, false);
	fill_stream(&t_ops, false, false); /* no xmit_fill: the queue's */
}

static void t_write_later(void)
{
	struct side a, b;
	struct vs_sock *sa, *sb;
	struct stream w = { 0 };

	fill_stream(&t_ops_fill, false, true);
	fill_stream(&t_ops, false, true);
	fill_stream(&t_ops_fill, true, true);
	/* not for SEQPACKET; what never leaves is never made */
	if (!sides_init_ops(&a, &b, NULL, NULL, &t_ops_fill) ||
	    !establish(&a, &b, VS_TYPE_SEQPACKET, &sa, &sb))
		goto out;
	CHECK_EQ_U(vs_sock_write_later(sb, 10, fill_pat, &w), -EINVAL);
	CHECK_EQ_U(vs_proto_listen(a.p, PORT + 1, VS_TYPE_STREAM), 0);
	sb = vs_proto_connect(b.p, 0, CID_A, PORT + 1, VS_TYPE_STREAM);
	CHECK(sb != NULL);
	if (!sb)
		goto out;
	pump(&a, &b);
	CHECK_EQ_U(vs_sock_write_later(sb, 200000, fill_pat, &w), 200000);
	CHECK_EQ_U(vs_sock_write_later(sb, 200000, fill_pat, &w), 200000);
	CHECK_EQ_U(w.made, 256 << 10); /* the credit's worth */
	CHECK_EQ_U(info(sb).tx_queued, 400000 - (256 << 10));
	vs_sock_release(sb);
	drop_wire(&b);
	CHECK_EQ_U(w.made, 256 << 10);
out:
	sides_fini(&a, &b);
}

static void t_reader(void)
{
	fill_stream(&t_ops_fill, true, false);
	fill_stream(&t_ops, true, false);
}

/* bytes queued before the reader come first; the reader may release */
static void t_reader_queued(void)
{
	struct stream r = { 0 };
	struct side a, b;
	struct vs_sock *sa, *sb, *sq, *sq2;
	unsigned char src[300000];

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = pat(i);
	if (!sides_init(&a, &b, NULL, NULL) ||
	    !establish(&a, &b, VS_TYPE_STREAM, &sa, &sb))
		goto out;
	CHECK_EQ_U(vs_sock_write(sb, src, 100000), 100000);
	pump(&a, &b);
	CHECK_EQ_U(info(sa).rx_queued, 100000);
	r.release_at_end = sa;
	r.end = sizeof(src);
	CHECK_EQ_U(vs_sock_set_reader(sa, read_pat, &r), 0);
	CHECK_EQ_U(r.seen, 100000);
	CHECK_EQ_U(info(sa).rx_queued, 0);
	CHECK_EQ_U(info(sa).fwd_cnt, 100000);
	pump(&a, &b);
	CHECK_EQ_U(vs_sock_write(sb, src + 100000, 200000), 200000);
	for (int i = 0; i < 5; i++) {
		pump(&a, &b);
		vs_proto_flush(b.p);
	}
	CHECK_EQ_U(r.seen, sizeof(src));
	CHECK_EQ_U(r.bad, 0);
	CHECK(r.release_at_end == NULL); /* released from the reader */
	CHECK(info(sb).state == VS_SOCK_CLOSED);
	/* not for SEQPACKET, nor before the connection is up */
	CHECK_EQ_U(vs_proto_listen(a.p, PORT + 1, VS_TYPE_SEQPACKET), 0);
	sq = vs_proto_connect(b.p, 0, CID_A, PORT + 1, VS_TYPE_SEQPACKET);
	sq2 = vs_proto_connect(b.p, 0, CID_A, PORT, VS_TYPE_STREAM);
	CHECK(sq && sq2);
	if (sq2)
		CHECK_EQ_U(vs_sock_set_reader(sq2, read_pat, &r), -ENOTCONN);
	pump(&a, &b);
	if (sq)
		CHECK_EQ_U(vs_sock_set_reader(sq, read_pat, &r), -EINVAL);
out:
	sides_fini(&a, &b);
}

VS_TEST_MAIN({ "vsock_hdr_roundtrip", t_hdr_roundtrip },
	     { "vsock_connect_accept", t_connect },
	     { "vsock_refused", t_refused }, { "vsock_bulk_10mib", t_bulk },
	     { "vsock_starve_resume", t_starve_resume },
	     { "vsock_withhold_credit", t_withhold },
	     { "vsock_wrap_4gib", t_wrap }, { "vsock_seqpacket", t_seqpacket },
	     { "vsock_seqpacket_no_stall", t_seqpacket_no_stall },
	     { "vsock_close", t_close }, { "vsock_unknown_port", t_unknown },
	     { "vsock_malformed", t_malformed },
	     { "vsock_eagain_order", t_eagain }, { "vsock_many_conns", t_many },
	     { "vsock_random_input", t_random_input },
	     { "vsock_write_fill", t_write_fill },
	     { "vsock_write_later", t_write_later },
	     { "vsock_reader", t_reader },
	     { "vsock_reader_queued", t_reader_queued })
