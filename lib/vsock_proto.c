// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio-vsock protocol engine (see vsock_proto.h).
 *
 * Layout of the state:
 *  - connections live in a hash table keyed by (local port, peer cid, peer
 *    port); a second table counts, per local port, the listener and the
 *    connections that use it (for the port auto-pick and for listen);
 *  - each connection buffers received bytes (rx, at most buf_alloc, as the
 *    credit we advertise guarantees) and written bytes (tx, at most
 *    send_buf) in lists of chunks, allocated as data comes;
 *  - connections with bytes to send and credit to send them with sit on
 *    the "ready" list; pump() turns their bytes into RW packets;
 *  - packets the wire refused (-EAGAIN) wait, in order, in one FIFO for the
 *    whole engine. While it is not empty no new RW packet is made, and new
 *    control packets join its tail, so nothing overtakes anything.
 *    A waiting packet of a connection gets the connection's current
 *    buf_alloc/fwd_cnt when it finally leaves.
 *
 * Events are reported last in whatever handled them, so a callback may
 * release the socket it was told about. Callbacks may call the vs_sock_*
 * functions, vs_proto_connect() and vs_proto_listen(); not
 * vs_proto_input() nor vs_proto_free().
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "vsock_proto.h"

#define DEF_BUF_ALLOC (256u << 10)
#define DEF_SEND_BUF (256u << 10)
#define PORT_FIRST 1024u
#define PORT_LAST 0xfffffffeu /* 0xffffffff is VMADDR_PORT_ANY */
#define CHUNK_MIN 1024u /* smallest chunk, so small writes merge */
#define CHUNK_MAX (64u << 10) /* largest: no big allocations */
#define HASH_MIN 64u
#define VS_SHUTDOWN_BOTH (VS_SHUTDOWN_RCV | VS_SHUTDOWN_SEND)

/* ---- small doubly linked lists ------------------------------------------ */

struct vs_link {
	struct vs_link *prev, *next;
};

static void link_init(struct vs_link *l)
{
	l->prev = l;
	l->next = l;
}

static bool link_empty(const struct vs_link *l)
{
	return l->next == l;
}

static void link_add_tail(struct vs_link *head, struct vs_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static void link_del(struct vs_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	link_init(l);
}

#define link_entry(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

/* ---- byte queues -------------------------------------------------------- */

struct vs_chunk {
	struct vs_chunk *next;
	uint32_t off; /* first byte not taken yet */
	uint32_t end; /* one past the last byte */
	uint32_t cap;
	bool eom; /* a SEQPACKET message ends with this chunk's last byte */
	vs_fill_fn *fill; /* bytes not made yet: fill makes them (no data) */
	void *fill_arg;
	unsigned char data[];
};

struct vs_bq {
	struct vs_chunk *head, *tail;
	uint32_t bytes; /* bounded by buf_alloc / send_buf */
	uint32_t msgs; /* complete messages (chunks with eom) */
};

static void bq_free(struct vs_bq *q)
{
	struct vs_chunk *c, *n;

	for (c = q->head; c; c = n) {
		n = c->next;
		free(c);
	}
	memset(q, 0, sizeof(*q));
}

/* drop the chunks after @tail (NULL: all), back to @bytes */
static void bq_cut(struct vs_bq *q, struct vs_chunk *tail, uint32_t bytes)
{
	struct vs_chunk *c = tail ? tail->next : q->head, *n;

	for (; c; c = n) {
		n = c->next;
		free(c);
	}
	if (tail)
		tail->next = NULL;
	else
		q->head = NULL;
	q->tail = tail;
	q->bytes = bytes;
}

/* a vs_fill_fn that copies from a cursor */
static void fill_copy(void *arg, void *dst, size_t len)
{
	const unsigned char **src = arg;

	memcpy(dst, *src, len);
	*src += len;
}

/* append @len bytes that @fill makes */
static int bq_append_fill(struct vs_bq *q, uint32_t len, bool eom,
			  vs_fill_fn *fill, void *arg)
{
	struct vs_chunk *t = q->tail, *c, *old_tail = q->tail;
	uint32_t k, old_bytes = q->bytes;

	if (!len) {
		/* an empty RW can only end a message already begun */
		if (eom && t && !t->eom) {
			t->eom = true;
			q->msgs++;
		}
		return 0;
	}
	if (t && !t->eom && !t->fill && t->cap - t->end >= len) {
		fill(arg, t->data + t->end, len);
		t->end += len;
		q->bytes += len;
		goto done;
	}
	/* chunks of at most CHUNK_MAX: no big allocations */
	while (len) {
		k = len < CHUNK_MAX ? len : CHUNK_MAX;
		c = malloc(sizeof(*c) + (k < CHUNK_MIN ? CHUNK_MIN : k));
		if (!c) {
			bq_cut(q, old_tail, old_bytes); /* all or nothing */
			return -ENOMEM;
		}
		c->next = NULL;
		c->off = 0;
		c->end = k;
		c->cap = k < CHUNK_MIN ? CHUNK_MIN : k;
		c->eom = false;
		c->fill = NULL;
		if (t)
			t->next = c;
		else
			q->head = c;
		q->tail = c;
		t = c;
		q->bytes += k;
		len -= k;
	}
	/* made once all of it has room: a fill is never taken back */
	for (c = old_tail ? old_tail->next : q->head; c; c = c->next)
		fill(arg, c->data, c->end);
done:
	if (eom) {
		t->eom = true;
		q->msgs++;
	}
	return 0;
}

/* append @len bytes that @fill makes only when they are taken */
static int bq_append_later(struct vs_bq *q, uint32_t len, vs_fill_fn *fill,
			   void *arg)
{
	struct vs_chunk *c = malloc(sizeof(*c));

	if (!c)
		return -ENOMEM;
	memset(c, 0, sizeof(*c));
	c->end = len;
	c->fill = fill;
	c->fill_arg = arg;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->bytes += len;
	return 0;
}

static int bq_append(struct vs_bq *q, const void *buf, uint32_t len, bool eom)
{
	const unsigned char *cur = buf;

	return bq_append_fill(q, len, eom, fill_copy, &cur);
}

/*
 * Where the next @want bytes are, without taking them: a pointer into the
 * head chunk when they are contiguous there, else a copy in @out. With
 * @msg, stop at the end of a message and say so in *@eom.
 */
static const unsigned char *bq_peek(const struct vs_bq *q, unsigned char *out,
				    uint32_t want, bool msg, uint32_t *got,
				    bool *eom)
{
	const struct vs_chunk *c = q->head;
	uint32_t n = 0, avail, k;

	*eom = false;
	if (c && !c->fill && (c->end - c->off >= want || (msg && c->eom))) {
		avail = c->end - c->off;
		*got = want < avail ? want : avail;
		*eom = msg && c->eom && *got == avail;
		return c->data + c->off;
	}
	for (; c && !c->fill && n < want; c = c->next) {
		avail = c->end - c->off;
		k = want - n < avail ? want - n : avail;
		memcpy(out + n, c->data + c->off, k);
		n += k;
		if (msg && c->eom && k == avail) {
			*eom = true;
			break;
		}
	}
	*got = n;
	return out;
}

/* take @n bytes off the head (as returned by bq_peek) */
static void bq_drop(struct vs_bq *q, uint32_t n)
{
	struct vs_chunk *c;
	uint32_t avail;

	while (n && (c = q->head)) {
		avail = c->end - c->off;
		if (n < avail) {
			c->off += n;
			q->bytes -= n;
			return;
		}
		n -= avail;
		q->bytes -= avail;
		if (c->eom)
			q->msgs--;
		q->head = c->next;
		if (!q->head)
			q->tail = NULL;
		free(c);
	}
}

/* ---- the engine's state ------------------------------------------------- */

struct vs_sock {
	struct vs_proto *p;
	struct vs_sock *hnext; /* hash chain */
	struct vs_link all; /* every socket not released */
	struct vs_link ready; /* on p->ready: has bytes and credit */
	struct vs_link owed; /* on p->owed: a CREDIT_UPDATE was withheld */
	void *user;

	enum vs_sock_state state;
	uint16_t type;
	uint64_t peer_cid;
	uint32_t local_port, peer_port;
	bool hashed;
	bool starving; /* out of credit, CREDIT_REQUEST sent */
	bool notify_writable; /* report WRITABLE when there is room again */
	bool update_queued; /* a CREDIT_UPDATE waits in the FIFO */
	uint8_t local_shut, peer_shut;
	uint8_t pending_shut; /* SHUTDOWN to send once tx is empty */

	/* receiving */
	uint32_t buf_alloc, fwd_cnt;
	uint32_t rx_cnt; /* payload bytes received */
	uint32_t last_adv; /* fwd_cnt in the last header that left */
	struct vs_bq rx;
	vs_reader_fn *reader; /* takes bytes in place as they come */
	void *reader_arg;

	/* sending */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	struct vs_bq tx;

	uint64_t updates_sent, requests_sent, starved;
};

struct vs_port {
	struct vs_port *next;
	uint32_t port;
	uint32_t conns; /* connections with this local port */
	bool listening;
	uint16_t type;
};

struct vs_qpkt {
	struct vs_qpkt *next;
	struct vs_sock *s; /* NULL: not a connection's, or released */
	struct vs_hdr h;
	unsigned char data[];
};

struct vs_proto {
	struct vs_proto_ops ops;
	void *ctx;
	uint64_t cid;
	uint32_t buf_alloc, max_payload, send_buf;

	struct vs_sock **socks;
	uint32_t socks_mask;
	uint32_t nsocks;
	struct vs_port **ports;
	uint32_t ports_mask;
	uint32_t nports;
	uint32_t next_port;

	struct vs_link all, ready, owed;
	struct vs_qpkt *q_head, **q_tail;
	bool pumping;
	unsigned char *scratch; /* max_payload bytes */

	struct vs_proto_stats st;
};

/* ---- header ------------------------------------------------------------- */

static void put16(unsigned char *b, uint16_t v)
{
	b[0] = (unsigned char)v;
	b[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *b, uint32_t v)
{
	put16(b, (uint16_t)v);
	put16(b + 2, (uint16_t)(v >> 16));
}

static void put64(unsigned char *b, uint64_t v)
{
	put32(b, (uint32_t)v);
	put32(b + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const unsigned char *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t get32(const unsigned char *b)
{
	return get16(b) | (uint32_t)get16(b + 2) << 16;
}

static uint64_t get64(const unsigned char *b)
{
	return get32(b) | (uint64_t)get32(b + 4) << 32;
}

void vs_hdr_encode(const struct vs_hdr *h, void *wire)
{
	unsigned char *b = wire;

	put64(b + 0, h->src_cid);
	put64(b + 8, h->dst_cid);
	put32(b + 16, h->src_port);
	put32(b + 20, h->dst_port);
	put32(b + 24, h->len);
	put16(b + 28, h->type);
	put16(b + 30, h->op);
	put32(b + 32, h->flags);
	put32(b + 36, h->buf_alloc);
	put32(b + 40, h->fwd_cnt);
}

void vs_hdr_decode(const void *wire, struct vs_hdr *h)
{
	const unsigned char *b = wire;

	h->src_cid = get64(b + 0);
	h->dst_cid = get64(b + 8);
	h->src_port = get32(b + 16);
	h->dst_port = get32(b + 20);
	h->len = get32(b + 24);
	h->type = get16(b + 28);
	h->op = get16(b + 30);
	h->flags = get32(b + 32);
	h->buf_alloc = get32(b + 36);
	h->fwd_cnt = get32(b + 40);
}

void vs_hdr_event(const struct vs_hdr *h, bool tx, struct vs_event *ev)
{
	vs_event_clear(ev);
	ev->kind = tx ? VS_EV_PKT_TX : VS_EV_PKT_RX;
	ev->present = VS_HAS_HDR;
	ev->pkt.src_cid = h->src_cid;
	ev->pkt.dst_cid = h->dst_cid;
	ev->pkt.src_port = h->src_port;
	ev->pkt.dst_port = h->dst_port;
	ev->pkt.len = h->len;
	ev->pkt.type = h->type;
	ev->pkt.op = h->op;
	ev->pkt.flags = h->flags;
	if (!tx) {
		ev->present |= VS_HAS_BUF_ALLOC | VS_HAS_FWD_CNT;
		ev->pkt.buf_alloc = h->buf_alloc;
		ev->pkt.fwd_cnt = h->fwd_cnt;
	}
}

/* ---- hash tables -------------------------------------------------------- */

static uint32_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (uint32_t)x;
}

static uint32_t sock_hash(uint32_t lport, uint64_t pcid, uint32_t pport)
{
	return mix(pcid * 0x9e3779b97f4a7c15ull ^
		   ((uint64_t)lport << 32 | pport));
}

static struct vs_sock *sock_find(const struct vs_proto *p, uint32_t lport,
				 uint64_t pcid, uint32_t pport)
{
	struct vs_sock *s;

	s = p->socks[sock_hash(lport, pcid, pport) & p->socks_mask];
	for (; s; s = s->hnext)
		if (s->local_port == lport && s->peer_cid == pcid &&
		    s->peer_port == pport)
			return s;
	return NULL;
}

/* double the socket table; on failure keep the old one (longer chains) */
static void socks_grow(struct vs_proto *p)
{
	uint32_t n = (p->socks_mask + 1) * 2, i;
	struct vs_sock **t, *s, *next;

	if (!n)
		return;
	t = calloc(n, sizeof(*t));
	if (!t)
		return;
	for (i = 0; i <= p->socks_mask; i++) {
		for (s = p->socks[i]; s; s = next) {
			uint32_t b = sock_hash(s->local_port, s->peer_cid,
					       s->peer_port) &
				     (n - 1);

			next = s->hnext;
			s->hnext = t[b];
			t[b] = s;
		}
	}
	free(p->socks);
	p->socks = t;
	p->socks_mask = n - 1;
}

static struct vs_port *port_find(const struct vs_proto *p, uint32_t port)
{
	struct vs_port *e = p->ports[mix(port) & p->ports_mask];

	for (; e; e = e->next)
		if (e->port == port)
			return e;
	return NULL;
}

static void ports_grow(struct vs_proto *p)
{
	uint32_t n = (p->ports_mask + 1) * 2, i;
	struct vs_port **t, *e, *next;

	if (!n)
		return;
	t = calloc(n, sizeof(*t));
	if (!t)
		return;
	for (i = 0; i <= p->ports_mask; i++) {
		for (e = p->ports[i]; e; e = next) {
			uint32_t b = mix(e->port) & (n - 1);

			next = e->next;
			e->next = t[b];
			t[b] = e;
		}
	}
	free(p->ports);
	p->ports = t;
	p->ports_mask = n - 1;
}

static struct vs_port *port_get(struct vs_proto *p, uint32_t port)
{
	struct vs_port *e = port_find(p, port);
	uint32_t b;

	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	if (p->nports > p->ports_mask)
		ports_grow(p);
	b = mix(port) & p->ports_mask;
	e->port = port;
	e->next = p->ports[b];
	p->ports[b] = e;
	p->nports++;
	return e;
}

/* forget @e if nothing uses its port any more */
static void port_put(struct vs_proto *p, struct vs_port *e)
{
	struct vs_port **pp;

	if (e->conns || e->listening)
		return;
	for (pp = &p->ports[mix(e->port) & p->ports_mask]; *pp;
	     pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			p->nports--;
			free(e);
			return;
		}
	}
}

static int sock_hash_add(struct vs_proto *p, struct vs_sock *s)
{
	struct vs_port *e = port_get(p, s->local_port);
	uint32_t b;

	if (!e)
		return -ENOMEM;
	e->conns++;
	if (p->nsocks > p->socks_mask)
		socks_grow(p);
	b = sock_hash(s->local_port, s->peer_cid, s->peer_port) & p->socks_mask;
	s->hnext = p->socks[b];
	p->socks[b] = s;
	p->nsocks++;
	s->hashed = true;
	return 0;
}

static void sock_unhash(struct vs_proto *p, struct vs_sock *s)
{
	struct vs_sock **pp;
	struct vs_port *e;
	uint32_t b;

	if (!s->hashed)
		return;
	b = sock_hash(s->local_port, s->peer_cid, s->peer_port) & p->socks_mask;
	for (pp = &p->socks[b]; *pp; pp = &(*pp)->hnext) {
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	}
	s->hnext = NULL;
	s->hashed = false;
	p->nsocks--;
	e = port_find(p, s->local_port);
	if (e) {
		e->conns--;
		port_put(p, e);
	}
}

/* ---- sending ------------------------------------------------------------ */

static uint32_t peer_free(const struct vs_sock *s)
{
	uint32_t inflight = s->tx_cnt - s->peer_fwd_cnt;

	/* a peer that shrank buf_alloc (or acked too much) gives nothing */
	if (inflight >= s->peer_buf_alloc)
		return 0;
	return s->peer_buf_alloc - inflight;
}

static void fill_hdr(const struct vs_proto *p, const struct vs_sock *s,
		     struct vs_hdr *h, uint16_t op, uint32_t flags,
		     uint32_t len)
{
	h->src_cid = p->cid;
	h->dst_cid = s->peer_cid;
	h->src_port = s->local_port;
	h->dst_port = s->peer_port;
	h->len = len;
	h->type = s->type;
	h->op = op;
	h->flags = flags;
	h->buf_alloc = s->buf_alloc;
	h->fwd_cnt = s->fwd_cnt;
}

/* a packet of @s left: the peer now knows our fwd_cnt as it carried it */
static void sent_from(struct vs_sock *s, const struct vs_hdr *h)
{
	s->last_adv = h->fwd_cnt;
	link_del(&s->owed); /* any packet is an update */
	if (h->op == VS_OP_CREDIT_UPDATE)
		s->update_queued = false;
}

static int xmit(struct vs_proto *p, struct vs_sock *s, const struct vs_hdr *h,
		const void *payload)
{
	int ret = p->ops.xmit(p->ctx, h, h->len ? payload : NULL);

	if (ret == -EAGAIN)
		return ret;
	/* any other error: the wire lost it, as a real one may */
	if (!ret) {
		p->st.pkts_out++;
		if (s)
			sent_from(s, h);
	}
	return 0;
}

/* what a transport's fill call goes through: it is made once at most */
struct fill_once {
	vs_fill_fn *fill;
	void *arg;
	uint32_t len; /* the packet's: all a transport may ask for */
	bool done;
};

static void fill_once(void *arg, void *dst, size_t len)
{
	struct fill_once *f = arg;

	(void)len;
	if (f->done)
		return;
	f->done = true;
	f->fill(f->arg, dst, f->len);
}

/*
 * xmit() of an RW packet whose payload @fill makes in the wire's buffer
 * (ops->xmit_fill). Unless the wire was full (-EAGAIN), the payload has
 * been made once, sent or lost.
 */
static int xmit_fill(struct vs_proto *p, struct vs_sock *s,
		     const struct vs_hdr *h, vs_fill_fn *fill, void *arg)
{
	struct fill_once f = { fill, arg, h->len, false };
	int ret;

	ret = p->ops.xmit_fill(p->ctx, h, fill_once, &f);
	if (ret == -EAGAIN) {
		/* a transport that filled anyway has used up the bytes */
		if (!f.done)
			return ret;
		ret = -EIO;
	}
	if (!f.done)
		fill(arg, p->scratch, h->len); /* lost: made all the same */
	if (!ret) {
		p->st.pkts_out++;
		sent_from(s, h);
	}
	return 0;
}

static int enqueue(struct vs_proto *p, struct vs_sock *s,
		   const struct vs_hdr *h, const void *payload)
{
	struct vs_qpkt *e = malloc(sizeof(*e) + h->len);

	if (!e)
		return -ENOMEM;
	e->next = NULL;
	e->s = s;
	e->h = *h;
	if (h->len)
		memcpy(e->data, payload, h->len);
	*p->q_tail = e;
	p->q_tail = &e->next;
	return 0;
}

/*
 * emit - one packet out, or into the FIFO behind those already waiting.
 * Returns 1 when it left (or the wire dropped it), 0 when it waits,
 * -ENOMEM when it could not be kept.
 */
static int emit(struct vs_proto *p, struct vs_sock *s, const struct vs_hdr *h,
		const void *payload)
{
	int ret;

	if (h->op == VS_OP_RST)
		p->st.rst_sent++;
	if (!p->q_head && xmit(p, s, h, payload) == 0)
		return 1;
	ret = enqueue(p, s, h, payload);
	return ret < 0 ? ret : 0;
}

/*
 * emit() of an RW packet whose payload @fill makes now: in the wire's
 * buffer when it has room, else in a FIFO packet (which the wire, if it
 * cannot take fills, is offered first). Returns as emit() does; on
 * -ENOMEM nothing was made.
 */
static int emit_fill(struct vs_proto *p, struct vs_sock *s,
		     const struct vs_hdr *h, vs_fill_fn *fill, void *arg)
{
	struct vs_qpkt *e;

	if (p->ops.xmit_fill && !p->q_head &&
	    xmit_fill(p, s, h, fill, arg) == 0)
		return 1;
	e = malloc(sizeof(*e) + h->len);
	if (!e)
		return -ENOMEM;
	fill(arg, e->data, h->len);
	e->next = NULL;
	e->s = s;
	e->h = *h;
	if (!p->ops.xmit_fill && !p->q_head && xmit(p, s, h, e->data) == 0) {
		free(e);
		return 1;
	}
	*p->q_tail = e;
	p->q_tail = &e->next;
	return 0;
}

static int emit_ctl(struct vs_proto *p, struct vs_sock *s, uint16_t op,
		    uint32_t flags)
{
	struct vs_hdr h;

	fill_hdr(p, s, &h, op, flags, 0);
	return emit(p, s, &h, NULL);
}

/* RST for a packet that has no connection; never for an RST */
static void reply_rst(struct vs_proto *p, const struct vs_hdr *in)
{
	struct vs_hdr h;

	if (in->op == VS_OP_RST)
		return;
	memset(&h, 0, sizeof(h));
	h.src_cid = p->cid;
	h.dst_cid = in->src_cid;
	h.src_port = in->dst_port;
	h.dst_port = in->src_port;
	h.type = in->type;
	h.op = VS_OP_RST;
	emit(p, NULL, &h, NULL);
}

/* try the FIFO; returns -EAGAIN while the wire is still full */
static int fifo_drain(struct vs_proto *p)
{
	struct vs_qpkt *e;

	while ((e = p->q_head)) {
		if (e->s) {
			e->h.buf_alloc = e->s->buf_alloc;
			e->h.fwd_cnt = e->s->fwd_cnt;
		}
		if (xmit(p, e->s, &e->h, e->data) == -EAGAIN)
			return -EAGAIN;
		p->q_head = e->next;
		if (!p->q_head)
			p->q_tail = &p->q_head;
		free(e);
	}
	return 0;
}

static void fire(struct vs_proto *p, struct vs_sock *s, enum vs_sock_event ev)
{
	if (p->ops.event)
		p->ops.event(p->ctx, s, ev);
}

static bool may_send(const struct vs_sock *s)
{
	return (s->state == VS_SOCK_CONNECTED || s->state == VS_SOCK_CLOSING) &&
	       !(s->peer_shut & VS_SHUTDOWN_RCV);
}

static bool may_write(const struct vs_sock *s)
{
	return s->state == VS_SOCK_CONNECTED &&
	       !(s->local_shut & VS_SHUTDOWN_SEND) &&
	       !(s->peer_shut & VS_SHUTDOWN_RCV);
}

/* put @s on the ready list if it has something for pump() to do */
static void sock_kick(struct vs_proto *p, struct vs_sock *s)
{
	if (s->starving || !may_send(s) || !link_empty(&s->ready))
		return;
	if (s->tx.bytes || s->pending_shut)
		link_add_tail(&p->ready, &s->ready);
}

static bool may_update(struct vs_proto *p, struct vs_sock *s)
{
	return !p->ops.may_update_credit || p->ops.may_update_credit(p->ctx, s);
}

/*
 * A CREDIT_UPDATE, if the ops allow. A withheld one is owed: pump() asks
 * again each time and sends it once allowed (unless another packet has
 * carried our fwd_cnt by then), so a withhold fault that ends lets the
 * flow go on.
 */
static void send_credit_update(struct vs_proto *p, struct vs_sock *s)
{
	if (s->update_queued)
		return; /* the waiting one will carry the newest fwd_cnt */
	if (!may_update(p, s)) {
		if (link_empty(&s->owed))
			link_add_tail(&p->owed, &s->owed);
		return;
	}
	link_del(&s->owed);
	s->updates_sent++;
	if (emit_ctl(p, s, VS_OP_CREDIT_UPDATE, 0) == 0)
		s->update_queued = true;
}

/*
 * Turn @s's bytes into RW packets as far as credit and the wire allow.
 * Returns 0, -EAGAIN (wire full) or -ENOMEM. May report WRITABLE, after
 * which @s must not be touched.
 */
static int sock_tx(struct vs_proto *p, struct vs_sock *s)
{
	const unsigned char *data;
	const struct vs_chunk *c;
	bool seq = s->type == VS_TYPE_SEQPACKET, eom;
	uint32_t room, n;
	struct vs_hdr h;
	int ret = 0, r;

	while (s->tx.bytes) {
		room = peer_free(s);
		if (!room) {
			if (!s->starving) {
				s->starving = true;
				s->starved++;
				s->requests_sent++;
				emit_ctl(p, s, VS_OP_CREDIT_REQUEST, 0);
			}
			link_del(&s->ready);
			break;
		}
		if (room > p->max_payload)
			room = p->max_payload;
		c = s->tx.head;
		if (c->fill) {
			/* made now, where it goes */
			n = c->end - c->off < room ? c->end - c->off : room;
			fill_hdr(p, s, &h, VS_OP_RW, 0, n);
			r = emit_fill(p, s, &h, c->fill, c->fill_arg);
		} else {
			data = bq_peek(&s->tx, p->scratch, room, seq, &n, &eom);
			fill_hdr(p, s, &h, VS_OP_RW, eom ? VS_SEQ_EOM : 0, n);
			r = emit(p, s, &h, data);
		}
		if (r < 0) {
			ret = r;
			break;
		}
		bq_drop(&s->tx, n);
		s->tx_cnt += n;
		if (!r) {
			ret = -EAGAIN;
			break;
		}
	}
	if (!s->tx.bytes) {
		link_del(&s->ready);
		if (s->pending_shut) {
			s->pending_shut = 0;
			if (emit_ctl(p, s, VS_OP_SHUTDOWN, s->local_shut) == 0)
				ret = -EAGAIN;
		}
	}
	if (s->notify_writable && !s->starving && may_write(s) &&
	    s->tx.bytes < p->send_buf) {
		s->notify_writable = false;
		fire(p, s, VS_SOCK_EV_WRITABLE);
	}
	return ret;
}

static int pump(struct vs_proto *p)
{
	uint64_t before = p->st.pkts_out;
	struct vs_link *l, *next;
	struct vs_sock *s;

	if (p->pumping)
		return 0; /* from a callback: the outer pump goes on */
	p->pumping = true;
	for (l = p->owed.next; l != &p->owed; l = next) {
		next = l->next;
		s = link_entry(l, struct vs_sock, owed);
		send_credit_update(p, s); /* stays owed while withheld */
	}
	while (!fifo_drain(p) && !link_empty(&p->ready)) {
		s = link_entry(p->ready.next, struct vs_sock, ready);
		if (sock_tx(p, s) == -ENOMEM)
			break;
	}
	p->pumping = false;
	return (int)(p->st.pkts_out - before);
}

int vs_proto_flush(struct vs_proto *p)
{
	return pump(p);
}

/* ---- connections -------------------------------------------------------- */

static struct vs_sock *sock_new(struct vs_proto *p, uint32_t lport,
				uint64_t pcid, uint32_t pport, uint16_t type)
{
	struct vs_sock *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->p = p;
	s->type = type;
	s->local_port = lport;
	s->peer_cid = pcid;
	s->peer_port = pport;
	s->buf_alloc = p->buf_alloc;
	link_init(&s->ready);
	link_init(&s->owed);
	if (sock_hash_add(p, s)) {
		free(s);
		return NULL;
	}
	link_add_tail(&p->all, &s->all);
	return s;
}

/* the connection is over: optionally tell the peer with an RST */
static void sock_end(struct vs_proto *p, struct vs_sock *s, bool rst)
{
	if (rst)
		emit_ctl(p, s, VS_OP_RST, 0);
	s->state = VS_SOCK_CLOSED;
	sock_unhash(p, s);
	link_del(&s->ready);
	link_del(&s->owed);
	bq_free(&s->tx);
	s->starving = false;
	s->notify_writable = false;
	s->pending_shut = 0;
}

static void take_credit(struct vs_proto *p, struct vs_sock *s,
			const struct vs_hdr *h)
{
	s->peer_buf_alloc = h->buf_alloc;
	s->peer_fwd_cnt = h->fwd_cnt;
	if (s->starving && peer_free(s)) {
		s->starving = false;
		s->notify_writable = true;
	}
	sock_kick(p, s);
}

/* after a read: advertise the freed space the way Linux does */
static void maybe_update(struct vs_proto *p, struct vs_sock *s)
{
	uint32_t seen_free = s->buf_alloc - (s->fwd_cnt - s->last_adv);
	/*
	 * SEQPACKET: with no whole message left, the rest of the one that
	 * is arriving may wait for exactly this space; reading cannot free
	 * more, so say it now even when it is little.
	 */
	bool unfinished = s->type == VS_TYPE_SEQPACKET && !s->rx.msgs &&
			  s->rx.bytes && s->fwd_cnt != s->last_adv;

	if (seen_free < p->max_payload || unfinished)
		send_credit_update(p, s);
}

/* @n bytes were read: account for them and advertise the space */
static void consumed(struct vs_proto *p, struct vs_sock *s, uint32_t n)
{
	s->fwd_cnt += n;
	if (s->state != VS_SOCK_CLOSED)
		maybe_update(p, s);
}

static int on_rw(struct vs_sock *s, const struct vs_hdr *h, const void *payload,
		 int *ev)
{
	uint32_t space = s->buf_alloc - (s->rx_cnt - s->last_adv);
	uint32_t msgs = s->rx.msgs;
	bool eom = s->type == VS_TYPE_SEQPACKET && (h->flags & VS_SEQ_EOM);

	if (h->len > space)
		return -EPROTO;
	if (s->reader && !s->rx.bytes) {
		/* handed over in place, last (on_conn) */
		s->rx_cnt += h->len;
		return 0;
	}
	if (bq_append(&s->rx, payload, h->len, eom))
		return -ENOMEM;
	s->rx_cnt += h->len;
	if (s->type == VS_TYPE_SEQPACKET ? s->rx.msgs != msgs : h->len != 0)
		*ev = VS_SOCK_EV_READABLE;
	return 0;
}

/* a packet for a connection we know */
static int on_conn(struct vs_proto *p, struct vs_sock *s,
		   const struct vs_hdr *h, const void *payload)
{
	int ev = -1;
	uint32_t was;
	int ret = 0;

	if (h->op == VS_OP_RST) {
		if (s->state == VS_SOCK_CONNECTING)
			ev = VS_SOCK_EV_RESET;
		else if (s->local_shut || s->peer_shut)
			ev = VS_SOCK_EV_CLOSED;
		else
			ev = VS_SOCK_EV_RESET;
		sock_end(p, s, false);
		fire(p, s, ev);
		return 0;
	}
	if (s->state == VS_SOCK_CONNECTING) {
		if (h->op != VS_OP_RESPONSE)
			goto violation;
		s->state = VS_SOCK_CONNECTED;
		take_credit(p, s, h);
		fire(p, s, VS_SOCK_EV_CONNECTED);
		return 0;
	}
	switch (h->op) {
	case VS_OP_RW:
		ret = on_rw(s, h, payload, &ev);
		if (ret == -EPROTO)
			goto violation;
		if (ret) {
			sock_end(p, s, true);
			fire(p, s, VS_SOCK_EV_RESET);
			return ret;
		}
		take_credit(p, s, h);
		if (s->reader && !s->rx.bytes && h->len) {
			vs_reader_fn *fn = s->reader;
			void *arg = s->reader_arg;

			consumed(p, s, h->len);
			fn(arg, payload, h->len); /* last: it may release s */
			return 0;
		}
		break;
	case VS_OP_CREDIT_UPDATE:
		take_credit(p, s, h);
		break;
	case VS_OP_CREDIT_REQUEST:
		take_credit(p, s, h);
		send_credit_update(p, s);
		break;
	case VS_OP_SHUTDOWN:
		take_credit(p, s, h);
		was = s->peer_shut;
		s->peer_shut |= h->flags & VS_SHUTDOWN_BOTH;
		if (s->peer_shut == VS_SHUTDOWN_BOTH &&
		    (!s->rx.bytes || s->state == VS_SOCK_CLOSING)) {
			sock_end(p, s, true);
			ev = VS_SOCK_EV_CLOSED;
			break;
		}
		if (s->peer_shut & VS_SHUTDOWN_RCV) {
			/* nobody will take what we still hold */
			bq_free(&s->tx);
			link_del(&s->ready);
			s->starving = false;
			s->notify_writable = false;
			if (s->pending_shut) {
				s->pending_shut = 0;
				emit_ctl(p, s, VS_OP_SHUTDOWN, s->local_shut);
			}
		}
		if (s->peer_shut != was)
			ev = VS_SOCK_EV_PEER_SHUTDOWN;
		break;
	default: /* REQUEST or RESPONSE on a connection */
		goto violation;
	}
	if (ev >= 0)
		fire(p, s, (enum vs_sock_event)ev);
	return 0;

violation:
	p->st.malformed++;
	sock_end(p, s, true);
	fire(p, s, VS_SOCK_EV_RESET);
	return -EPROTO;
}

static int on_request(struct vs_proto *p, const struct vs_hdr *h)
{
	struct vs_port *e = port_find(p, h->dst_port);
	struct vs_sock *s;

	if (!e || !e->listening || e->type != h->type) {
		p->st.no_sock++;
		reply_rst(p, h);
		return 0;
	}
	s = sock_new(p, h->dst_port, h->src_cid, h->src_port, h->type);
	if (!s) {
		reply_rst(p, h);
		return -ENOMEM;
	}
	s->state = VS_SOCK_CONNECTED;
	s->peer_buf_alloc = h->buf_alloc;
	s->peer_fwd_cnt = h->fwd_cnt;
	emit_ctl(p, s, VS_OP_RESPONSE, 0);
	fire(p, s, VS_SOCK_EV_ACCEPTED);
	return 0;
}

int vs_proto_input(struct vs_proto *p, const struct vs_hdr *h,
		   const void *payload)
{
	struct vs_sock *s = NULL;
	int ret;

	p->st.pkts_in++;
	if (h->len && !payload)
		return -EINVAL;
	if (h->dst_cid == p->cid)
		s = sock_find(p, h->dst_port, h->src_cid, h->src_port);
	if (h->op < VS_OP_REQUEST || h->op > VS_OP_CREDIT_REQUEST ||
	    (h->type != VS_TYPE_STREAM && h->type != VS_TYPE_SEQPACKET) ||
	    (s && h->type != s->type) || (h->len && h->op != VS_OP_RW)) {
		p->st.malformed++;
		if (s) {
			sock_end(p, s, h->op != VS_OP_RST);
			fire(p, s, VS_SOCK_EV_RESET);
		} else {
			reply_rst(p, h);
		}
		ret = -EPROTO;
	} else if (s) {
		ret = on_conn(p, s, h, payload);
	} else if (h->op == VS_OP_REQUEST && h->dst_cid == p->cid) {
		ret = on_request(p, h);
	} else {
		p->st.no_sock++;
		reply_rst(p, h);
		ret = 0;
	}
	pump(p);
	return ret;
}

/* ---- the API ------------------------------------------------------------ */

struct vs_proto *vs_proto_new(const struct vs_proto_config *cfg,
			      const struct vs_proto_ops *ops, void *ctx)
{
	struct vs_proto *p;

	if (!cfg || !ops || !ops->xmit ||
	    cfg->max_payload > VS_MAX_PKT_PAYLOAD) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->ops = *ops;
	p->ctx = ctx;
	p->cid = cfg->cid;
	p->buf_alloc = cfg->buf_alloc ? cfg->buf_alloc : DEF_BUF_ALLOC;
	p->max_payload =
		cfg->max_payload ? cfg->max_payload : VS_MAX_PKT_PAYLOAD;
	p->send_buf = cfg->send_buf ? cfg->send_buf : DEF_SEND_BUF;
	p->next_port = PORT_FIRST;
	link_init(&p->all);
	link_init(&p->ready);
	link_init(&p->owed);
	p->q_tail = &p->q_head;
	p->socks_mask = HASH_MIN - 1;
	p->ports_mask = HASH_MIN - 1;
	p->socks = calloc(HASH_MIN, sizeof(*p->socks));
	p->ports = calloc(HASH_MIN, sizeof(*p->ports));
	p->scratch = malloc(p->max_payload);
	if (!p->socks || !p->ports || !p->scratch) {
		vs_proto_free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void vs_proto_free(struct vs_proto *p)
{
	struct vs_qpkt *e, *en;
	struct vs_port *pe, *pn;
	uint32_t i;

	if (!p)
		return;
	while (!link_empty(&p->all)) {
		struct vs_sock *s =
			link_entry(p->all.next, struct vs_sock, all);

		link_del(&s->all);
		bq_free(&s->rx);
		bq_free(&s->tx);
		free(s);
	}
	for (e = p->q_head; e; e = en) {
		en = e->next;
		free(e);
	}
	if (p->ports) {
		for (i = 0; i <= p->ports_mask; i++) {
			for (pe = p->ports[i]; pe; pe = pn) {
				pn = pe->next;
				free(pe);
			}
		}
	}
	free(p->ports);
	free(p->socks);
	free(p->scratch);
	free(p);
}

int vs_proto_listen(struct vs_proto *p, uint32_t port, uint16_t type)
{
	struct vs_port *e;

	if (type != VS_TYPE_STREAM && type != VS_TYPE_SEQPACKET)
		return -EINVAL;
	e = port_find(p, port);
	if (e)
		return -EADDRINUSE;
	e = port_get(p, port);
	if (!e)
		return -ENOMEM;
	e->listening = true;
	e->type = type;
	return 0;
}

/* the next port from 1024 up that nothing uses; 0 if none */
static uint32_t pick_port(struct vs_proto *p)
{
	uint32_t port = p->next_port, tries;

	for (tries = 0; tries <= PORT_LAST - PORT_FIRST; tries++) {
		uint32_t cand = port;

		port = port == PORT_LAST ? PORT_FIRST : port + 1;
		if (!port_find(p, cand)) {
			p->next_port = port;
			return cand;
		}
	}
	return 0;
}

struct vs_sock *vs_proto_connect(struct vs_proto *p, uint32_t local_port,
				 uint64_t peer_cid, uint32_t peer_port,
				 uint16_t type)
{
	struct vs_port *e;
	struct vs_sock *s;

	if (type != VS_TYPE_STREAM && type != VS_TYPE_SEQPACKET) {
		errno = EINVAL;
		return NULL;
	}
	if (!local_port) {
		local_port = pick_port(p);
		if (!local_port) {
			errno = EADDRINUSE;
			return NULL;
		}
	} else {
		e = port_find(p, local_port);
		if ((e && e->listening) ||
		    sock_find(p, local_port, peer_cid, peer_port)) {
			errno = EADDRINUSE;
			return NULL;
		}
	}
	s = sock_new(p, local_port, peer_cid, peer_port, type);
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	s->state = VS_SOCK_CONNECTING;
	if (emit_ctl(p, s, VS_OP_REQUEST, 0) < 0) {
		sock_unhash(p, s);
		link_del(&s->all);
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	return s;
}

/* how many of @len bytes a write may take now (or -errno) */
static ssize_t write_room(struct vs_sock *s, size_t len)
{
	struct vs_proto *p = s->p;
	bool seq = s->type == VS_TYPE_SEQPACKET;
	uint32_t room, n;

	if (s->state == VS_SOCK_CONNECTING)
		return -ENOTCONN;
	if (!may_write(s))
		return -EPIPE;
	if (seq && (len > p->send_buf || len > s->peer_buf_alloc))
		return -EMSGSIZE; /* could never be sent or never be taken */
	if (!len)
		return 0;
	room = p->send_buf - s->tx.bytes;
	n = len < room ? (uint32_t)len : room;
	if (seq && n < len)
		n = 0; /* a message goes whole or not at all */
	if (n < len)
		s->notify_writable = true;
	return n;
}

ssize_t vs_sock_write(struct vs_sock *s, const void *buf, size_t len)
{
	const unsigned char *cur = buf;

	return vs_sock_write_fill(s, len, fill_copy, &cur);
}

/*
 * Send straight from @fill what may leave now: nothing is queued before
 * it (on the socket or in the FIFO), credit allows and the wire has room.
 * Returns the bytes sent (made).
 */
static uint32_t write_direct(struct vs_sock *s, uint32_t len, vs_fill_fn *fill,
			     void *arg)
{
	struct vs_proto *p = s->p;
	uint32_t done = 0, k;
	struct vs_hdr h;

	if (!p->ops.xmit_fill || p->pumping || p->q_head || s->tx.bytes ||
	    s->type != VS_TYPE_STREAM)
		return 0;
	while (done < len) {
		k = peer_free(s);
		if (!k)
			break; /* the queue's path asks for credit */
		if (k > p->max_payload)
			k = p->max_payload;
		if (k > len - done)
			k = len - done;
		fill_hdr(p, s, &h, VS_OP_RW, 0, k);
		if (xmit_fill(p, s, &h, fill, arg) == -EAGAIN)
			break;
		s->tx_cnt += k;
		done += k;
	}
	return done;
}

/* vs_sock_write_fill() and _later(): what waits is made now or later */
static ssize_t write_fill(struct vs_sock *s, size_t len, vs_fill_fn *fill,
			  void *arg, bool later)
{
	struct vs_proto *p = s->p;
	ssize_t room = write_room(s, len);
	uint32_t n, done;
	int ret;

	if (room <= 0)
		return room;
	n = (uint32_t)room;
	if (!link_empty(&p->owed))
		pump(p); /* what is owed goes first, as after a queued write */
	done = write_direct(s, n, fill, arg);
	if (done < n) {
		if (later)
			ret = bq_append_later(&s->tx, n - done, fill, arg);
		else
			ret = bq_append_fill(&s->tx, n - done,
					     s->type == VS_TYPE_SEQPACKET, fill,
					     arg);
		if (ret)
			return done ? (ssize_t)done : -ENOMEM;
	}
	sock_kick(p, s);
	pump(p);
	return n;
}

ssize_t vs_sock_write_fill(struct vs_sock *s, size_t len, vs_fill_fn *fill,
			   void *arg)
{
	return write_fill(s, len, fill, arg, false);
}

ssize_t vs_sock_write_later(struct vs_sock *s, size_t len, vs_fill_fn *fill,
			    void *arg)
{
	if (s->type != VS_TYPE_STREAM)
		return -EINVAL;
	return write_fill(s, len, fill, arg, true);
}

ssize_t vs_sock_read(struct vs_sock *s, void *buf, size_t len)
{
	bool seq = s->type == VS_TYPE_SEQPACKET, eom;
	const unsigned char *data;
	uint32_t n;

	if (s->state == VS_SOCK_CONNECTING)
		return -ENOTCONN;
	if (seq ? !s->rx.msgs : !s->rx.bytes)
		return s->state == VS_SOCK_CLOSED ? -ENOTCONN : 0;
	if (!len)
		return 0;
	if (len > s->rx.bytes)
		len = s->rx.bytes;
	data = bq_peek(&s->rx, buf, (uint32_t)len, seq, &n, &eom);
	if (data != buf)
		memcpy(buf, data, n);
	bq_drop(&s->rx, n);
	consumed(s->p, s, n);
	return n;
}

int vs_sock_set_reader(struct vs_sock *s, vs_reader_fn *fn, void *arg)
{
	struct vs_bq q;

	if (s->type != VS_TYPE_STREAM)
		return -EINVAL;
	if (s->state == VS_SOCK_CONNECTING)
		return -ENOTCONN;
	s->reader = fn;
	s->reader_arg = arg;
	if (!fn || !s->rx.bytes)
		return 0;
	/* what is queued goes first: counted read, then handed over from
	 * a queue no longer the socket's (fn may release it) */
	q = s->rx;
	memset(&s->rx, 0, sizeof(s->rx));
	consumed(s->p, s, q.bytes);
	for (struct vs_chunk *c = q.head; c; c = c->next)
		fn(arg, c->data + c->off, c->end - c->off);
	bq_free(&q);
	return 0;
}

int vs_sock_shutdown(struct vs_sock *s, uint32_t flags)
{
	struct vs_proto *p = s->p;

	if (!flags || (flags & ~VS_SHUTDOWN_BOTH))
		return -EINVAL;
	if (s->state == VS_SOCK_CONNECTING || s->state == VS_SOCK_CLOSED)
		return -ENOTCONN;
	if (!(flags & ~s->local_shut))
		return 0;
	s->local_shut |= flags;
	if (s->local_shut == VS_SHUTDOWN_BOTH) {
		if (s->peer_shut == VS_SHUTDOWN_BOTH) {
			/* the peer only waits for our RST */
			sock_end(p, s, true);
			return 0;
		}
		s->state = VS_SOCK_CLOSING;
	}
	if (s->pending_shut ||
	    (s->tx.bytes && (s->local_shut & VS_SHUTDOWN_SEND))) {
		/* after the bytes already written */
		s->pending_shut = s->local_shut;
		sock_kick(p, s);
		pump(p);
		return 0;
	}
	return emit_ctl(p, s, VS_OP_SHUTDOWN, s->local_shut) < 0 ? -ENOMEM : 0;
}

int vs_sock_close(struct vs_sock *s)
{
	switch (s->state) {
	case VS_SOCK_CONNECTING:
		return vs_sock_reset(s);
	case VS_SOCK_CONNECTED:
		return vs_sock_shutdown(s, VS_SHUTDOWN_RCV | VS_SHUTDOWN_SEND);
	default:
		return 0;
	}
}

int vs_sock_reset(struct vs_sock *s)
{
	if (s->state == VS_SOCK_CLOSED)
		return 0;
	sock_end(s->p, s, true);
	return 0;
}

void vs_sock_release(struct vs_sock *s)
{
	struct vs_proto *p;
	struct vs_qpkt *e;

	if (!s)
		return;
	p = s->p;
	if (s->state != VS_SOCK_CLOSED)
		sock_end(p, s, true);
	for (e = p->q_head; e; e = e->next)
		if (e->s == s)
			e->s = NULL;
	link_del(&s->all);
	bq_free(&s->rx);
	free(s);
}

void vs_sock_info(const struct vs_sock *s, struct vs_sock_info *info)
{
	memset(info, 0, sizeof(*info));
	info->state = s->state;
	info->type = s->type;
	info->local_cid = s->p->cid;
	info->peer_cid = s->peer_cid;
	info->local_port = s->local_port;
	info->peer_port = s->peer_port;
	info->buf_alloc = s->buf_alloc;
	info->fwd_cnt = s->fwd_cnt;
	info->peer_buf_alloc = s->peer_buf_alloc;
	info->peer_fwd_cnt = s->peer_fwd_cnt;
	info->tx_cnt = s->tx_cnt;
	info->peer_free = peer_free(s);
	info->rx_queued = s->rx.bytes;
	info->tx_queued = s->tx.bytes;
	info->peer_shutdown_send = s->peer_shut & VS_SHUTDOWN_SEND;
	info->peer_shutdown_rcv = s->peer_shut & VS_SHUTDOWN_RCV;
	info->credit_updates_sent = s->updates_sent;
	info->credit_requests_sent = s->requests_sent;
	info->starved = s->starved;
}

void *vs_sock_get_user(const struct vs_sock *s)
{
	return s->user;
}

void vs_sock_set_user(struct vs_sock *s, void *user)
{
	s->user = user;
}

void vs_proto_stats(const struct vs_proto *p, struct vs_proto_stats *st)
{
	*st = p->st;
}
