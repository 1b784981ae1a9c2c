/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtio-vsock protocol engine (VIRTIO 1.2 "Socket Device"), one side
 * of it: connections (REQUEST/RESPONSE/RST), data (RW, STREAM and
 * SEQPACKET), buffer-space management (buf_alloc, fwd_cnt, tx_cnt,
 * CREDIT_UPDATE when the reader frees space, CREDIT_REQUEST when starved)
 * and SHUTDOWN. No I/O here: packets go out through ops->xmit and come in
 * through vs_proto_input(), so the same engine runs as a guest driver, as a
 * device, or back to back in a unit test.
 */
#ifndef VS_VSOCK_PROTO_H
#define VS_VSOCK_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "event.h"

#define VS_HDR_SIZE 44		      /* struct virtio_vsock_hdr, packed */
#define VS_MAX_PKT_PAYLOAD (64u << 10) /* VIRTIO_VSOCK_MAX_PKT_BUF_SIZE */
#define VS_SEQ_EOM 1u		      /* RW flags, SEQPACKET */
#define VS_SEQ_EOR 2u

/* a header in host byte order */
struct vs_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
};

/* little-endian wire form, VS_HDR_SIZE bytes */
void vs_hdr_encode(const struct vs_hdr *h, void *wire);
void vs_hdr_decode(const void *wire, struct vs_hdr *h);
/*
 * vs_hdr_event - the event a packet makes as the kernel traces it:
 * alloc_pkt when @tx, else recv_pkt, which also carries buf_alloc and
 * fwd_cnt. The rest of @ev (time, task) is zeroed for the caller to set.
 */
void vs_hdr_event(const struct vs_hdr *h, bool tx, struct vs_event *ev);

enum vs_sock_state {
	VS_SOCK_CONNECTING, /* REQUEST sent */
	VS_SOCK_CONNECTED,
	VS_SOCK_CLOSING,    /* SHUTDOWN sent both ways, waiting for RST */
	VS_SOCK_CLOSED,     /* ended: normal close, reset or refused */
};

enum vs_sock_event {
	VS_SOCK_EV_ACCEPTED,  /* a listener got a new connection */
	VS_SOCK_EV_CONNECTED, /* our REQUEST was answered */
	VS_SOCK_EV_READABLE,  /* data arrived */
	VS_SOCK_EV_WRITABLE,  /* credit came back after a starve, or room
			       * after a short write */
	VS_SOCK_EV_PEER_SHUTDOWN,
	VS_SOCK_EV_CLOSED,    /* closed normally */
	VS_SOCK_EV_RESET,     /* reset or refused */
};

struct vs_sock;
struct vs_proto;

/*
 * A payload made where it goes: a fill function writes the next @len bytes
 * of a stream at @dst. Whoever is handed one calls it exactly once per
 * range, in stream order.
 */
typedef void vs_fill_fn(void *arg, void *dst, size_t len);
/* received bytes handed over where they are, in stream order */
typedef void vs_reader_fn(void *arg, const void *data, size_t len);

struct vs_proto_ops {
	/*
	 * put one packet on the wire; @payload holds h->len bytes (NULL when
	 * 0). Returns 0, or -EAGAIN when there is no room now: the engine
	 * keeps the packet and tries again on vs_proto_flush().
	 */
	int (*xmit)(void *ctx, const struct vs_hdr *h, const void *payload);
	/* something happened to a connection (may be NULL) */
	void (*event)(void *ctx, struct vs_sock *s, enum vs_sock_event ev);
	/*
	 * may this connection send a CREDIT_UPDATE now? (NULL: yes). The
	 * fault injector says no to withhold credit.
	 */
	bool (*may_update_credit)(void *ctx, struct vs_sock *s);
	/*
	 * optional: xmit() of an RW packet whose payload is made in place:
	 * find room for h->len bytes where they go (a descriptor's buffer)
	 * and call fill(fill_arg, dst, h->len) once to write them there.
	 * Returns as xmit() does; on -EAGAIN, fill must not have been called.
	 * Without it, vs_sock_write_fill() fills a buffer of the engine's
	 * and calls xmit().
	 */
	int (*xmit_fill)(void *ctx, const struct vs_hdr *h, vs_fill_fn *fill,
			 void *fill_arg);
};

struct vs_proto_config {
	uint64_t cid;
	uint32_t buf_alloc;   /* receive buffer per connection (bytes) */
	uint32_t max_payload; /* per RW packet, <= VS_MAX_PKT_PAYLOAD */
	uint32_t send_buf;    /* bytes a writer may queue per connection */
};

struct vs_proto *vs_proto_new(const struct vs_proto_config *cfg,
			      const struct vs_proto_ops *ops, void *ctx);
void vs_proto_free(struct vs_proto *p);
/* accept connections of @type (VS_TYPE_STREAM/SEQPACKET) on @port */
int vs_proto_listen(struct vs_proto *p, uint32_t port, uint16_t type);
/* connect from @local_port (0: pick one) to @peer_cid:@peer_port; the
 * socket is CONNECTING until VS_SOCK_EV_CONNECTED or _RESET. NULL with
 * errno set (EINVAL, EADDRINUSE, ENOMEM) on error. */
struct vs_sock *vs_proto_connect(struct vs_proto *p, uint32_t local_port,
				 uint64_t peer_cid, uint32_t peer_port,
				 uint16_t type);
/*
 * vs_proto_input - one packet from the peer. Packets for no connection get
 * an RST (unless they are RSTs). A malformed one (bad op, bad type, len on
 * a control op, more data than the buffer space we advertised) is counted
 * and answered with RST. Returns 0, or -EPROTO for a malformed packet.
 */
int vs_proto_input(struct vs_proto *p, const struct vs_hdr *h,
		   const void *payload);
/* send what waited for room on the wire or for credit; returns packets sent */
int vs_proto_flush(struct vs_proto *p);

/*
 * vs_sock_write - queue bytes to send; RW packets go out as the peer's
 * credit allows (at most max_payload each). SEQPACKET: one call is one
 * message (the last packet has VS_SEQ_EOM), taken whole or not at all.
 * Returns bytes taken (less than @len when the send buffer is full; 0:
 * full), -ENOTCONN, -EPIPE, -EMSGSIZE (SEQPACKET message larger than the
 * send buffer or the peer's buf_alloc).
 */
ssize_t vs_sock_write(struct vs_sock *s, const void *buf, size_t len);
/*
 * vs_sock_write_fill - vs_sock_write() of @len bytes that @fill makes:
 * what can leave at once is made straight in the wire's buffers (through
 * ops->xmit_fill), the rest in the send queue. @fill(@arg, dst, n) is
 * called in stream order, exactly for the bytes taken (also those the
 * wire then lost). Returns as vs_sock_write() does.
 */
ssize_t vs_sock_write_fill(struct vs_sock *s, size_t len, vs_fill_fn *fill,
			   void *arg);
/*
 * vs_sock_write_later - vs_sock_write_fill() whose bytes are made only as
 * they leave, each straight in the wire's buffer (ops->xmit_fill): what
 * cannot leave at once waits in the send queue as a promise, and @fill is
 * called for it later, from whatever call sends it (vs_proto_input(),
 * vs_proto_flush(), a write), in stream order. Bytes that never leave
 * (reset, release) are never made. @arg must stay valid until the
 * connection has sent them or ended. STREAM only (-EINVAL).
 */
ssize_t vs_sock_write_later(struct vs_sock *s, size_t len, vs_fill_fn *fill,
			    void *arg);
/*
 * vs_sock_set_reader - take a STREAM connection's received bytes as they
 * arrive, in place: @fn(@arg, data, n) is handed each RW payload where
 * vs_proto_input() was given it (valid only during the call), and the
 * bytes count as read at once (fwd_cnt, CREDIT_UPDATE as after
 * vs_sock_read). Bytes still queued are handed over first, here. @fn is
 * called last, like an event: it may release the socket. NULL @fn: queue
 * for vs_sock_read() again. Returns 0, -EINVAL (SEQPACKET), -ENOTCONN
 * (still CONNECTING).
 */
int vs_sock_set_reader(struct vs_sock *s, vs_reader_fn *fn, void *arg);
/*
 * vs_sock_read - take received bytes (SEQPACKET: up to one message, only
 * once it is complete; a shorter @len leaves the rest of it for the next
 * read, which never crosses into the next message);
 * frees buffer space, which sends a CREDIT_UPDATE when the peer's view of
 * it had fallen below max_payload (as Linux does) and the ops allow.
 * Returns bytes, 0 when nothing is queued, -ENOTCONN (also: CLOSED and
 * nothing left).
 */
ssize_t vs_sock_read(struct vs_sock *s, void *buf, size_t len);
/* VS_SHUTDOWN_RCV / VS_SHUTDOWN_SEND: send SHUTDOWN with those flags */
int vs_sock_shutdown(struct vs_sock *s, uint32_t flags);
/* close: SHUTDOWN both ways, then the peer's RST ends it (Linux's close);
 * RST at once if still CONNECTING or the peer already shut down both ways.
 * Local actions (close, reset, release) report no event. */
int vs_sock_close(struct vs_sock *s);
/* abort: RST now */
int vs_sock_reset(struct vs_sock *s);
/* free a CLOSED socket (the engine forgets it; a live one is reset) */
void vs_sock_release(struct vs_sock *s);

struct vs_sock_info {
	enum vs_sock_state state;
	uint16_t type;
	uint64_t local_cid, peer_cid;
	uint32_t local_port, peer_port;
	uint32_t buf_alloc, fwd_cnt;	     /* ours, as we advertise them */
	uint32_t peer_buf_alloc, peer_fwd_cnt; /* the peer's, last seen */
	uint32_t tx_cnt;		     /* payload bytes we sent */
	uint32_t peer_free;		     /* what we may still send */
	uint32_t rx_queued;		     /* received, not read */
	uint32_t tx_queued;		     /* written, not sent */
	bool peer_shutdown_send, peer_shutdown_rcv;
	uint64_t credit_updates_sent, credit_requests_sent;
	uint64_t starved;		     /* times it ran out of credit */
};

void vs_sock_info(const struct vs_sock *s, struct vs_sock_info *info);
void *vs_sock_get_user(const struct vs_sock *s);
void vs_sock_set_user(struct vs_sock *s, void *user);

struct vs_proto_stats {
	uint64_t pkts_in, pkts_out, malformed, rst_sent, no_sock;
};
void vs_proto_stats(const struct vs_proto *p, struct vs_proto_stats *st);

#endif /* VS_VSOCK_PROTO_H */
