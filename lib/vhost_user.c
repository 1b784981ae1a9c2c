// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-user, the back-end side. Message layouts (all native byte order):
 *
 *   header   u32 request, u32 flags (version 1 in bits 0-1, REPLY bit 2,
 *            NEED_REPLY bit 3), u32 size of the payload that follows
 *   u64      features, protocol features, queue count, a doorbell index
 *            (bits 0-7, bit 8: no fd) or the REPLY_ACK status
 *   state    u32 index, u32 num (NUM, BASE, ENABLE)
 *   addr     u32 index, u32 flags, u64 desc, used, avail, log (front-end
 *            virtual addresses)
 *   memory   u32 nregions, u32 padding, then per region u64 guest address,
 *            size, front-end address, mmap offset; one fd per region
 *   config   u32 offset, u32 size, u32 flags, then size bytes
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "vhost_user.h"

#define HDR_SIZE 12
#define FLAG_VERSION 0x1u
#define FLAG_REPLY 0x4u
#define FLAG_NEED_REPLY 0x8u
#define MAX_PAYLOAD 4096
#define VRING_NOFD 0x100u
#define VRING_IDX_MASK 0xffu
#define REGION_SIZE 32
#define CONFIG_HDR 12

struct msg {
	uint32_t req, flags, size;
	uint8_t p[MAX_PAYLOAD];
	int fds[VS_VU_MAX_FDS];
	unsigned int nfds;
};

static const char *const req_names[] = {
	[VS_VU_GET_FEATURES] = "GET_FEATURES",
	[VS_VU_SET_FEATURES] = "SET_FEATURES",
	[VS_VU_SET_OWNER] = "SET_OWNER",
	[VS_VU_RESET_OWNER] = "RESET_OWNER",
	[VS_VU_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VS_VU_SET_LOG_BASE] = "SET_LOG_BASE",
	[VS_VU_SET_LOG_FD] = "SET_LOG_FD",
	[VS_VU_SET_VRING_NUM] = "SET_VRING_NUM",
	[VS_VU_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VS_VU_SET_VRING_BASE] = "SET_VRING_BASE",
	[VS_VU_GET_VRING_BASE] = "GET_VRING_BASE",
	[VS_VU_SET_VRING_KICK] = "SET_VRING_KICK",
	[VS_VU_SET_VRING_CALL] = "SET_VRING_CALL",
	[VS_VU_SET_VRING_ERR] = "SET_VRING_ERR",
	[VS_VU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VS_VU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VS_VU_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VS_VU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VS_VU_GET_CONFIG] = "GET_CONFIG",
	[VS_VU_SET_CONFIG] = "SET_CONFIG",
	[VS_VU_RESET_DEVICE] = "RESET_DEVICE",
	[VS_VU_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
};

const char *vs_vu_request_name(uint32_t req)
{
	if (req < sizeof(req_names) / sizeof(req_names[0]) && req_names[req])
		return req_names[req];
	return "?";
}

static int fail(struct vs_vu *vu, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(vu->why, sizeof(vu->why), "%s: ",
		     vs_vu_request_name(vu->last_req));
	if (n < 0 || (size_t)n >= sizeof(vu->why))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(vu->why + n, sizeof(vu->why) - (size_t)n, fmt, ap);
	va_end(ap);
	return err;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vs_vu_init(struct vs_vu *vu, int fd, unsigned int nqueues,
		uint64_t dev_features, const struct vs_vu_ops *ops, void *ctx)
{
	memset(vu, 0, sizeof(*vu));
	vu->fd = fd;
	if (nqueues > VS_VU_MAX_QUEUES)
		nqueues = VS_VU_MAX_QUEUES;
	vu->nqueues = nqueues;
	vu->dev_features = dev_features | 1ull << VS_VU_F_PROTOCOL_FEATURES;
	vu->protocol_offer = 1ull << VS_VU_PROTOCOL_F_REPLY_ACK |
			     1ull << VS_VU_PROTOCOL_F_CONFIG |
			     1ull << VS_VU_PROTOCOL_F_RESET_DEVICE;
	vu->ops = ops;
	vu->ctx = ctx;
	for (unsigned int i = 0; i < VS_VU_MAX_QUEUES; i++) {
		vu->q[i].kick_fd = -1;
		vu->q[i].call_fd = -1;
		vu->q[i].err_fd = -1;
	}
}

static void queue_stop(struct vs_vu *vu, unsigned int i)
{
	struct vs_vu_queue *q = &vu->q[i];

	if (!q->started)
		return;
	q->started = false;
	if (vu->ops && vu->ops->queue_state)
		vu->ops->queue_state(vu->ctx, i, false);
}

bool vs_vu_uva_to_gpa(const struct vs_vu *vu, uint64_t uva, uint64_t len,
		      uint64_t *gpa)
{
	for (unsigned int i = 0; i < vu->nmaps; i++) {
		const struct vs_vu_map *m = &vu->maps[i];

		if (uva >= m->uva && uva - m->uva <= m->size &&
		    len <= m->size - (uva - m->uva)) {
			*gpa = m->gpa + (uva - m->uva);
			return true;
		}
	}
	return false;
}

/* set the ring up once everything it needs is known */
static int queue_try_start(struct vs_vu *vu, unsigned int i)
{
	struct vs_vu_queue *q = &vu->q[i];
	uint64_t desc, avail, used;
	size_t avail_off, used_off;
	uint16_t used_idx;

	if (q->started || !q->num_set || !q->addr_set || !q->kick_set ||
	    !q->enabled || !vu->nmaps)
		return 0;
	vs_vring_size(q->num, &avail_off, &used_off);
	/* the sizes the spec gives each part, event fields included */
	if (!vs_vu_uva_to_gpa(vu, q->desc_uva, 16ull * q->num, &desc) ||
	    !vs_vu_uva_to_gpa(vu, q->avail_uva, 6 + 2ull * q->num, &avail) ||
	    !vs_vu_uva_to_gpa(vu, q->used_uva, 6 + 8ull * q->num, &used))
		return fail(vu, -EINVAL,
			    "queue %u: ring addresses outside guest memory",
			    i);
	if (vs_vring_dev_init(&q->vr, &vu->gm, q->num, desc, avail, used,
			      vu->features >> VS_VRING_F_EVENT_IDX & 1,
			      vu->features >> VS_VRING_F_INDIRECT_DESC & 1))
		return fail(vu, -EINVAL, "queue %u: %s", i, q->vr.why);
	/* carry on where the front-end says the ring is */
	memcpy(&used_idx, (uint8_t *)q->vr.used + 2, sizeof(used_idx));
	q->vr.last_avail = q->base;
	q->vr.used_idx = used_idx;
	q->started = true;
	if (vu->ops && vu->ops->queue_state)
		vu->ops->queue_state(vu->ctx, i, true);
	return 0;
}

static void unmap_all(struct vs_vu *vu)
{
	for (unsigned int i = 0; i < vu->nmaps; i++)
		munmap(vu->maps[i].base, vu->maps[i].len);
	vu->nmaps = 0;
	memset(&vu->gm, 0, sizeof(vu->gm));
}

void vs_vu_reset(struct vs_vu *vu)
{
	for (unsigned int i = 0; i < VS_VU_MAX_QUEUES; i++) {
		struct vs_vu_queue *q = &vu->q[i];

		queue_stop(vu, i);
		close_fd(&q->kick_fd);
		close_fd(&q->call_fd);
		close_fd(&q->err_fd);
		memset(q, 0, sizeof(*q));
		q->kick_fd = q->call_fd = q->err_fd = -1;
	}
	unmap_all(vu);
	vu->owner = false;
	vu->features = 0;
	vu->features_acked = false;
	vu->protocol_features = 0;
}

int vs_vu_call(struct vs_vu *vu, unsigned int q)
{
	uint64_t one = 1;

	if (q >= vu->nqueues || vu->q[q].call_fd < 0)
		return -EBADF;
	if (write(vu->q[q].call_fd, &one, sizeof(one)) != sizeof(one))
		return errno == EAGAIN ? 0 : -errno;
	return 0;
}

/* ---- the socket ---- */

static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (uint8_t *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return got ? -EPROTO : -EPIPE;
		got += (size_t)n;
	}
	return 0;
}

static int recv_msg(struct vs_vu *vu, struct msg *m)
{
	uint8_t hdr[HDR_SIZE];
	union {
		char buf[CMSG_SPACE(sizeof(int) * VS_VU_MAX_FDS)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { hdr, sizeof(hdr) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf.buf,
			     .msg_controllen = sizeof(cbuf.buf) };
	ssize_t n;
	int err;

	m->nfds = 0;
	do
		n = recvmsg(vu->fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail(vu, -errno, "cannot read: %s", strerror(errno));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
	     c = CMSG_NXTHDR(&mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (m->nfds < VS_VU_MAX_FDS)
				m->fds[m->nfds++] = fd;
			else
				close(fd);
		}
	}
	if (!n)
		return -EPIPE;
	vu->last_req = 0;
	if ((size_t)n < sizeof(hdr)) {
		err = read_full(vu->fd, hdr + n, sizeof(hdr) - (size_t)n);
		if (err)
			return fail(vu, -EPROTO, "message header cut short");
	}
	m->req = get32(hdr);
	m->flags = get32(hdr + 4);
	m->size = get32(hdr + 8);
	vu->last_req = m->req;
	if ((m->flags & 0x3) != FLAG_VERSION)
		return fail(vu, -EPROTO, "protocol version %u, not 1",
			    m->flags & 0x3);
	if (m->size > MAX_PAYLOAD)
		return fail(vu, -EPROTO, "payload of %u bytes (max %u)",
			    m->size, MAX_PAYLOAD);
	err = read_full(vu->fd, m->p, m->size);
	if (err)
		return fail(vu, -EPROTO, "payload cut short (%u bytes said)",
			    m->size);
	return 0;
}

static int send_reply(struct vs_vu *vu, const struct msg *m,
		      const void *payload, uint32_t size)
{
	uint8_t buf[HDR_SIZE + CONFIG_HDR + VS_VU_MAX_CONFIG];
	uint32_t flags = FLAG_VERSION | FLAG_REPLY;
	size_t len = HDR_SIZE + size, off = 0;

	if (size > sizeof(buf) - HDR_SIZE)
		return fail(vu, -EINVAL, "reply too large");
	memcpy(buf, &m->req, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	memcpy(buf + HDR_SIZE, payload, size);
	while (off < len) {
		ssize_t n = send(vu->fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(vu, -errno, "cannot reply: %s",
				    strerror(errno));
		off += (size_t)n;
	}
	return 0;
}

static int reply_u64(struct vs_vu *vu, const struct msg *m, uint64_t v)
{
	return send_reply(vu, m, &v, sizeof(v));
}

/* ---- the requests ---- */

static int need(struct vs_vu *vu, const struct msg *m, uint32_t size)
{
	if (m->size < size)
		return fail(vu, -EPROTO, "payload of %u bytes, %u needed",
			    m->size, size);
	return 0;
}

/* the queue a state/addr/u64 payload names, checked */
static struct vs_vu_queue *queue_of(struct vs_vu *vu, uint32_t idx,
				    unsigned int *qi)
{
	if (idx >= vu->nqueues) {
		fail(vu, -EINVAL, "queue %u (the device has %u)", idx,
		     vu->nqueues);
		return NULL;
	}
	*qi = idx;
	return &vu->q[idx];
}

static int set_mem_table(struct vs_vu *vu, struct msg *m)
{
	struct vs_vu_map maps[VS_VU_MAX_REGIONS];
	uint32_t n;
	int err;

	if ((err = need(vu, m, 8)))
		return err;
	n = get32(m->p);
	if (!n || n > VS_VU_MAX_REGIONS)
		return fail(vu, -EINVAL, "%u regions (1 to %u)", n,
			    VS_VU_MAX_REGIONS);
	if ((err = need(vu, m, 8 + n * REGION_SIZE)))
		return err;
	if (m->nfds != n)
		return fail(vu, -EINVAL, "%u regions but %u fds", n, m->nfds);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *r = m->p + 8 + i * REGION_SIZE;
		uint64_t gpa = get64(r), size = get64(r + 8);
		uint64_t uva = get64(r + 16), off = get64(r + 24);
		void *p;

		if (!size || gpa + size < gpa || uva + size < uva ||
		    off + size < off || off + size > SIZE_MAX) {
			err = fail(vu, -EINVAL,
				   "region %u: bad size or offset", i);
			goto undo;
		}
		p = mmap(NULL, (size_t)(off + size), PROT_READ | PROT_WRITE,
			 MAP_SHARED, m->fds[i], 0);
		if (p == MAP_FAILED) {
			err = fail(vu, -errno, "region %u: cannot map: %s", i,
				   strerror(errno));
			goto undo;
		}
		maps[i] = (struct vs_vu_map){ .base = p,
					      .len = (size_t)(off + size),
					      .uva = uva,
					      .gpa = gpa,
					      .size = size };
		continue;
undo:
		for (uint32_t j = 0; j < i; j++)
			munmap(maps[j].base, maps[j].len);
		return err;
	}
	/* the rings move with the memory: stop, swap, start again */
	for (unsigned int i = 0; i < vu->nqueues; i++) {
		if (vu->q[i].started)
			vu->q[i].base = vu->q[i].vr.last_avail;
		queue_stop(vu, i);
	}
	unmap_all(vu);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *r = m->p + 8 + i * REGION_SIZE;

		vu->maps[i] = maps[i];
		vu->gm.regions[i].gpa = maps[i].gpa;
		vu->gm.regions[i].size = maps[i].size;
		vu->gm.regions[i].host = (uint8_t *)maps[i].base + get64(r + 24);
	}
	vu->nmaps = n;
	vu->gm.nregions = n;
	for (unsigned int i = 0; i < vu->nqueues; i++)
		if ((err = queue_try_start(vu, i)))
			return err;
	return 0;
}

static int set_vring_fd(struct vs_vu *vu, struct msg *m)
{
	struct vs_vu_queue *q;
	unsigned int qi;
	uint64_t v;
	int fd = -1, err, *slot;

	if ((err = need(vu, m, 8)))
		return err;
	v = get64(m->p);
	if (!(v & VRING_NOFD)) {
		if (m->nfds != 1)
			return fail(vu, -EINVAL, "%u fds, 1 expected", m->nfds);
		fd = m->fds[0];
		m->nfds = 0; /* ours now */
	}
	q = queue_of(vu, (uint32_t)(v & VRING_IDX_MASK), &qi);
	if (!q) {
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	slot = m->req == VS_VU_SET_VRING_KICK	? &q->kick_fd
	       : m->req == VS_VU_SET_VRING_CALL ? &q->call_fd
						: &q->err_fd;
	close_fd(slot);
	*slot = fd;
	if (m->req != VS_VU_SET_VRING_KICK)
		return 0;
	/* without protocol features a ring starts with its kick */
	q->kick_set = true;
	if (!(vu->features >> VS_VU_F_PROTOCOL_FEATURES & 1))
		q->enabled = true;
	return queue_try_start(vu, qi);
}

/* the request's own work; *replied when it sent its reply */
static int dispatch(struct vs_vu *vu, struct msg *m, bool *replied)
{
	struct vs_vu_queue *q;
	unsigned int qi;
	uint64_t v;
	int err;

	*replied = false;
	switch (m->req) {
	case VS_VU_GET_FEATURES:
		*replied = true;
		return reply_u64(vu, m, vu->dev_features);
	case VS_VU_SET_FEATURES:
		if ((err = need(vu, m, 8)))
			return err;
		v = get64(m->p);
		if (v & ~vu->dev_features)
			return fail(vu, -EINVAL,
				    "features %#llx were not offered",
				    (unsigned long long)(v & ~vu->dev_features));
		vu->features = v;
		vu->features_acked = true;
		return 0;
	case VS_VU_GET_PROTOCOL_FEATURES:
		*replied = true;
		return reply_u64(vu, m, vu->protocol_offer);
	case VS_VU_SET_PROTOCOL_FEATURES:
		if ((err = need(vu, m, 8)))
			return err;
		vu->protocol_features = get64(m->p) & vu->protocol_offer;
		return 0;
	case VS_VU_GET_QUEUE_NUM:
		*replied = true;
		return reply_u64(vu, m, vu->nqueues);
	case VS_VU_GET_MAX_MEM_SLOTS:
		*replied = true;
		return reply_u64(vu, m, VS_VU_MAX_REGIONS);
	case VS_VU_SET_OWNER:
		vu->owner = true;
		return 0;
	case VS_VU_RESET_OWNER:
	case VS_VU_RESET_DEVICE:
		for (unsigned int i = 0; i < vu->nqueues; i++) {
			queue_stop(vu, i);
			vu->q[i].num_set = vu->q[i].addr_set = false;
			vu->q[i].kick_set = vu->q[i].enabled = false;
			vu->q[i].base = 0;
		}
		if (m->req == VS_VU_RESET_OWNER)
			vu->owner = false;
		return 0;
	case VS_VU_SET_MEM_TABLE:
		return set_mem_table(vu, m);
	case VS_VU_SET_VRING_NUM:
	case VS_VU_SET_VRING_BASE:
	case VS_VU_SET_VRING_ENABLE:
		if ((err = need(vu, m, 8)))
			return err;
		if (!(q = queue_of(vu, get32(m->p), &qi)))
			return -EINVAL;
		v = get32(m->p + 4);
		if (m->req == VS_VU_SET_VRING_NUM) {
			if (q->started)
				return fail(vu, -EBUSY, "queue %u is running",
					    qi);
			if (!v || v > VS_VRING_MAX_NUM || (v & (v - 1)))
				return fail(vu, -EINVAL,
					    "queue size %llu is not a power of 2 <= %u",
					    (unsigned long long)v,
					    VS_VRING_MAX_NUM);
			q->num = (unsigned int)v;
			q->num_set = true;
			return 0;
		}
		if (m->req == VS_VU_SET_VRING_BASE) {
			if (q->started)
				return fail(vu, -EBUSY, "queue %u is running",
					    qi);
			if (v > 0xffff)
				return fail(vu, -EINVAL, "base %llu > 65535",
					    (unsigned long long)v);
			q->base = (uint16_t)v;
			return 0;
		}
		if (!(vu->features >> VS_VU_F_PROTOCOL_FEATURES & 1))
			return fail(vu, -EPROTO,
				    "protocol features were not negotiated");
		q->enabled = v != 0;
		if (!q->enabled) {
			queue_stop(vu, qi);
			return 0;
		}
		return queue_try_start(vu, qi);
	case VS_VU_SET_VRING_ADDR:
		if ((err = need(vu, m, 40)))
			return err;
		if (!(q = queue_of(vu, get32(m->p), &qi)))
			return -EINVAL;
		if (q->started)
			return fail(vu, -EBUSY, "queue %u is running", qi);
		if (get32(m->p + 4) & 1)
			return fail(vu, -ENOTSUP,
				    "dirty logging was not offered");
		q->desc_uva = get64(m->p + 8);
		q->used_uva = get64(m->p + 16);
		q->avail_uva = get64(m->p + 24);
		q->addr_set = true;
		return queue_try_start(vu, qi);
	case VS_VU_GET_VRING_BASE: {
		uint8_t st[8];
		uint32_t base;

		if ((err = need(vu, m, 8)))
			return err;
		if (!(q = queue_of(vu, get32(m->p), &qi)))
			return -EINVAL;
		/* the ring stops: the front-end takes it back */
		base = q->started ? q->vr.last_avail : q->base;
		queue_stop(vu, qi);
		q->base = (uint16_t)base;
		q->kick_set = false;
		close_fd(&q->kick_fd);
		memcpy(st, m->p, 4);
		memcpy(st + 4, &base, 4);
		*replied = true;
		return send_reply(vu, m, st, sizeof(st));
	}
	case VS_VU_SET_VRING_KICK:
	case VS_VU_SET_VRING_CALL:
	case VS_VU_SET_VRING_ERR:
		return set_vring_fd(vu, m);
	case VS_VU_GET_CONFIG: {
		uint8_t out[CONFIG_HDR + VS_VU_MAX_CONFIG];
		uint32_t off, size;

		if ((err = need(vu, m, CONFIG_HDR)))
			return err;
		off = get32(m->p);
		size = get32(m->p + 4);
		if (size > VS_VU_MAX_CONFIG || off > VS_VU_MAX_CONFIG - size ||
		    m->size != CONFIG_HDR + size)
			return fail(vu, -EINVAL, "config range %u+%u", off,
				    size);
		memcpy(out, m->p, CONFIG_HDR);
		memset(out + CONFIG_HDR, 0, size);
		if (!vu->ops || !vu->ops->get_config ||
		    vu->ops->get_config(vu->ctx, off, out + CONFIG_HDR, size))
			return fail(vu, -EINVAL, "config range %u+%u", off,
				    size);
		*replied = true;
		return send_reply(vu, m, out, CONFIG_HDR + size);
	}
	case VS_VU_SET_CONFIG:
		return fail(vu, -EPERM, "the config space is read-only");
	case VS_VU_SET_LOG_BASE:
	case VS_VU_SET_LOG_FD:
		return fail(vu, -ENOTSUP, "dirty logging was not offered");
	default:
		return fail(vu, -ENOTSUP, "request %u is not supported",
			    m->req);
	}
}

int vs_vu_handle(struct vs_vu *vu)
{
	struct msg m;
	bool replied;
	int err, ret;

	vu->why[0] = '\0';
	err = recv_msg(vu, &m);
	if (!err) {
		vu->msgs++;
		err = dispatch(vu, &m, &replied);
		/* REPLY_ACK: the status of a request that has no reply */
		if (!replied && m.flags & FLAG_NEED_REPLY &&
		    vu->protocol_features >> VS_VU_PROTOCOL_F_REPLY_ACK & 1) {
			ret = reply_u64(vu, &m, err ? 1 : 0);
			if (!err)
				err = ret;
		}
	}
	/* fds nobody took */
	for (unsigned int i = 0; i < m.nfds; i++)
		close(m.fds[i]);
	return err;
}
