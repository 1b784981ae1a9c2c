// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the vhost-user back-end (lib/vhost_user.c). The test plays
 * the front-end on the other end of a socketpair: it sends each message
 * (with fds, as QEMU does), lets the back-end handle it, and reads the
 * reply. Guest memory is a memfd offered as two regions; the driver side
 * of a ring (lib/vring.c) runs in the test's own mapping of it, so what the
 * back-end sees through its own mapping is checked end to end. Malformed
 * and unnegotiated requests must fail with a reason, never crash (ASan).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "vhost_user.h"

#define MEM_SIZE (1u << 20)
#define R0_SIZE (256u << 10)	   /* region 0: gpa 0, first 256 KiB */
#define R1_GPA 0x100000000ull	   /* region 1: the rest, above 4 GiB */
#define RING_OFF (512u << 10)	   /* the ring, in region 1 */
#define BUF_OFF (640u << 10)	   /* buffers, in region 1 */
#define QSIZE 64

struct fe {
	int sv[2];		/* [0] front-end (test), [1] back-end */
	int memfd;
	uint8_t *mem;		/* the front-end's mapping */
	struct vs_vu vu;
	int started[VS_VU_MAX_QUEUES], stopped[VS_VU_MAX_QUEUES];
	int kick, call;
};

static int get_config(void *ctx, uint32_t off, void *buf, uint32_t len)
{
	uint64_t cid = 3;

	(void)ctx;
	if (off > sizeof(cid) || len > sizeof(cid) - off)
		return -EINVAL;
	memcpy(buf, (uint8_t *)&cid + off, len);
	return 0;
}

static void queue_state(void *ctx, unsigned int q, bool started)
{
	struct fe *f = ctx;

	if (started)
		f->started[q]++;
	else
		f->stopped[q]++;
}

static const struct vs_vu_ops ops = { get_config, queue_state };

static bool fe_init(struct fe *f)
{
	memset(f, 0, sizeof(*f));
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv) == 0);
	f->memfd = memfd_create("vu-test", MFD_CLOEXEC);
	CHECK(f->memfd >= 0);
	CHECK(ftruncate(f->memfd, MEM_SIZE) == 0);
	f->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      f->memfd, 0);
	CHECK(f->mem != MAP_FAILED);
	f->kick = eventfd(0, EFD_NONBLOCK);
	f->call = eventfd(0, EFD_NONBLOCK);
	vs_vu_init(&f->vu, f->sv[1], 2, 1ull << 32 | 1ull << 29, &ops, f);
	return !vs_check_failed;
}

static void fe_fini(struct fe *f)
{
	vs_vu_reset(&f->vu);
	close(f->sv[0]);
	if (f->sv[1] >= 0)
		close(f->sv[1]);
	close(f->memfd);
	close(f->kick);
	close(f->call);
	munmap(f->mem, MEM_SIZE);
}

/* send one request; @fds may be NULL */
static void fe_send(struct fe *f, uint32_t req, uint32_t flags,
		    const void *p, uint32_t size, const int *fds,
		    unsigned int nfds)
{
	uint8_t buf[4096 + 12];
	union {
		char b[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} cb;
	struct iovec iov = { buf, 12 + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	memcpy(buf, &req, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	if (size)
		memcpy(buf + 12, p, size);
	if (nfds) {
		struct cmsghdr *c;

		mh.msg_control = cb.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	CHECK(sendmsg(f->sv[0], &mh, 0) == (ssize_t)(12 + size));
}

/* send, let the back-end handle it; its result */
static int fe_req(struct fe *f, uint32_t req, uint32_t flags, const void *p,
		  uint32_t size, const int *fds, unsigned int nfds)
{
	fe_send(f, req, flags ? flags : 1, p, size, fds, nfds);
	return vs_vu_handle(&f->vu);
}

/* read a reply: its payload size, -1 on error */
static int fe_reply(struct fe *f, uint32_t req, void *p, uint32_t max)
{
	uint8_t hdr[12];
	uint32_t r, fl, size;

	if (recv(f->sv[0], hdr, 12, MSG_DONTWAIT) != 12)
		return -1;
	memcpy(&r, hdr, 4);
	memcpy(&fl, hdr + 4, 4);
	memcpy(&size, hdr + 8, 4);
	CHECK_EQ_U(r, req);
	CHECK_EQ_U(fl, 0x5); /* version 1, reply */
	if (size > max || recv(f->sv[0], p, size, MSG_DONTWAIT) != size)
		return -1;
	return (int)size;
}

static uint64_t fe_get_u64(struct fe *f, uint32_t req)
{
	uint64_t v = 0;

	CHECK(fe_req(f, req, 0, NULL, 0, NULL, 0) == 0);
	CHECK(fe_reply(f, req, &v, sizeof(v)) == 8);
	return v;
}

static int fe_set_u64(struct fe *f, uint32_t req, uint64_t v)
{
	return fe_req(f, req, 0, &v, sizeof(v), NULL, 0);
}

static int fe_state(struct fe *f, uint32_t req, uint32_t idx, uint32_t num)
{
	uint32_t st[2] = { idx, num };

	return fe_req(f, req, 0, st, sizeof(st), NULL, 0);
}

static void negotiate(struct fe *f)
{
	uint64_t feat = fe_get_u64(f, VS_VU_GET_FEATURES);

	CHECK(feat >> VS_VU_F_PROTOCOL_FEATURES & 1);
	CHECK(feat >> 32 & 1);
	CHECK(fe_set_u64(f, VS_VU_SET_FEATURES, feat) == 0);
	CHECK(fe_get_u64(f, VS_VU_GET_PROTOCOL_FEATURES) >>
		      VS_VU_PROTOCOL_F_CONFIG &
	      1);
	CHECK(fe_set_u64(f, VS_VU_SET_PROTOCOL_FEATURES,
			 1ull << VS_VU_PROTOCOL_F_CONFIG |
				 1ull << VS_VU_PROTOCOL_F_REPLY_ACK) == 0);
	CHECK(fe_req(f, VS_VU_SET_OWNER, 0, NULL, 0, NULL, 0) == 0);
}

/* the memory table: two regions of the memfd, one at gpa 0, one at R1_GPA */
static int fe_mem_table(struct fe *f, uint64_t uva_shift)
{
	uint8_t p[8 + 2 * 32];
	uint32_t n = 2, pad = 0;
	uint64_t r[8] = {
		0, R0_SIZE, (uint64_t)(uintptr_t)f->mem + uva_shift, 0,
		R1_GPA, MEM_SIZE - R0_SIZE,
		(uint64_t)(uintptr_t)f->mem + R0_SIZE + uva_shift, R0_SIZE,
	};
	int fds[2] = { f->memfd, f->memfd };

	memcpy(p, &n, 4);
	memcpy(p + 4, &pad, 4);
	memcpy(p + 8, r, sizeof(r));
	return fe_req(f, VS_VU_SET_MEM_TABLE, 0, p, sizeof(p), fds, 2);
}

static uint64_t gpa_of(struct fe *f, const void *p)
{
	return R1_GPA + (uint64_t)((const uint8_t *)p - f->mem - R0_SIZE);
}

static int fe_addr(struct fe *f, uint32_t q, uint64_t desc, uint64_t used,
		   uint64_t avail)
{
	uint8_t p[40] = { 0 };

	memcpy(p, &q, 4);
	memcpy(p + 8, &desc, 8);
	memcpy(p + 16, &used, 8);
	memcpy(p + 24, &avail, 8);
	return fe_req(f, VS_VU_SET_VRING_ADDR, 0, p, sizeof(p), NULL, 0);
}

/* queue 0 set up over the test's driver ring @drv */
static void fe_start_queue(struct fe *f, struct vs_vring *drv)
{
	size_t aoff, uoff;
	uint8_t *ring = f->mem + RING_OFF;
	uint64_t uva = (uint64_t)(uintptr_t)ring;
	uint64_t kick = 0, call = 0;

	vs_vring_size(QSIZE, &aoff, &uoff);
	CHECK(vs_vring_drv_init(drv, ring, QSIZE, true, false) == 0);
	CHECK(fe_state(f, VS_VU_SET_VRING_NUM, 0, QSIZE) == 0);
	CHECK(fe_state(f, VS_VU_SET_VRING_BASE, 0, 0) == 0);
	CHECK(fe_addr(f, 0, uva, uva + uoff, uva + aoff) == 0);
	CHECK(fe_req(f, VS_VU_SET_VRING_KICK, 0, &kick, 8, &f->kick, 1) == 0);
	CHECK(fe_req(f, VS_VU_SET_VRING_CALL, 0, &call, 8, &f->call, 1) == 0);
	CHECK(!f->vu.q[0].started); /* protocol features: starts disabled */
	CHECK(fe_state(f, VS_VU_SET_VRING_ENABLE, 0, 1) == 0);
	CHECK(f->vu.q[0].started);
	CHECK_EQ_U(f->started[0], 1);
}

static void t_negotiate(void)
{
	struct fe f;
	uint8_t cfg[12 + 8] = { 0 }, out[64];
	uint32_t size = 8;
	uint64_t cid, ack = 9;

	if (!fe_init(&f))
		return;
	negotiate(&f);
	CHECK(f.vu.owner);
	CHECK(f.vu.features_acked);
	memcpy(cfg + 4, &size, 4);
	CHECK(fe_req(&f, VS_VU_GET_CONFIG, 0, cfg, sizeof(cfg), NULL, 0) == 0);
	CHECK(fe_reply(&f, VS_VU_GET_CONFIG, out, sizeof(out)) == 20);
	memcpy(&cid, out + 12, 8);
	CHECK_EQ_U(cid, 3);
	/* REPLY_ACK: status 0 for a request that has no reply of its own */
	CHECK(fe_req(&f, VS_VU_SET_OWNER, 1 | 8, NULL, 0, NULL, 0) == 0);
	CHECK(fe_reply(&f, VS_VU_SET_OWNER, &ack, 8) == 8);
	CHECK_EQ_U(ack, 0);
	CHECK_EQ_U(fe_get_u64(&f, VS_VU_GET_QUEUE_NUM), 2);
	fe_fini(&f);
}

static void t_ring_end_to_end(void)
{
	struct fe f;
	struct vs_vring drv;
	struct vs_vring_seg seg, got[VS_VRING_MAX_CHAIN];
	uint8_t *buf;
	uint16_t head;
	uint32_t len, st[2] = { 0, 0 };
	uint64_t v;
	int n;

	if (!fe_init(&f))
		return;
	negotiate(&f);
	CHECK(fe_mem_table(&f, 0) == 0);
	CHECK_EQ_U(f.vu.gm.nregions, 2);
	fe_start_queue(&f, &drv);
	/* the driver offers a buffer with bytes in it */
	buf = f.mem + BUF_OFF;
	memcpy(buf, "hello, device", 14);
	seg = (struct vs_vring_seg){ gpa_of(&f, buf), 14, false, NULL };
	CHECK(vs_vring_drv_add(&drv, &seg, 1, buf, NULL, 0) == 0);
	vs_vring_drv_kick_prepare(&drv);
	/* the back-end sees it through its own mapping */
	n = vs_vring_dev_pop(&f.vu.q[0].vr, &f.vu.gm, &head, got);
	CHECK(n == 1);
	if (n == 1) {
		CHECK(got[0].host != buf); /* another mapping */
		CHECK(memcmp(got[0].host, "hello, device", 14) == 0);
		CHECK_EQ_U(got[0].len, 14);
	}
	vs_vring_dev_push(&f.vu.q[0].vr, head, 0);
	CHECK(vs_vu_call(&f.vu, 0) == 0);
	CHECK(read(f.call, &v, 8) == 8 && v == 1);
	CHECK(vs_vring_drv_get_used(&drv, &len) == buf);
	/* GET_VRING_BASE stops the ring and says where it stopped */
	CHECK(fe_req(&f, VS_VU_GET_VRING_BASE, 0, st, 8, NULL, 0) == 0);
	CHECK(fe_reply(&f, VS_VU_GET_VRING_BASE, st, 8) == 8);
	CHECK_EQ_U(st[0], 0);
	CHECK_EQ_U(st[1], 1);
	CHECK(!f.vu.q[0].started);
	CHECK_EQ_U(f.stopped[0], 1);
	CHECK(vs_vu_call(&f.vu, 1) == -EBADF);
	vs_vring_drv_free(&drv);
	fe_fini(&f);
}

/* a new memory table while a ring runs: the ring follows, index kept */
static void t_mem_table_again(void)
{
	struct fe f;
	struct vs_vring drv;
	struct vs_vring_seg seg, got[VS_VRING_MAX_CHAIN];
	uint16_t head;

	if (!fe_init(&f))
		return;
	negotiate(&f);
	CHECK(fe_mem_table(&f, 0) == 0);
	fe_start_queue(&f, &drv);
	seg = (struct vs_vring_seg){ gpa_of(&f, f.mem + BUF_OFF), 8, false,
				     NULL };
	CHECK(vs_vring_drv_add(&drv, &seg, 1, f.mem, NULL, 0) == 0);
	CHECK(vs_vring_drv_add(&drv, &seg, 1, f.mem, NULL, 0) == 0);
	vs_vring_drv_kick_prepare(&drv);
	CHECK(vs_vring_dev_pop(&f.vu.q[0].vr, &f.vu.gm, &head, got) == 1);
	vs_vring_dev_push(&f.vu.q[0].vr, head, 0);
	CHECK(fe_mem_table(&f, 0) == 0);
	CHECK_EQ_U(f.stopped[0], 1);
	CHECK_EQ_U(f.started[0], 2);
	CHECK_EQ_U(f.vu.q[0].vr.last_avail, 1);
	CHECK_EQ_U(f.vu.q[0].vr.used_idx, 1);
	CHECK(vs_vring_dev_pop(&f.vu.q[0].vr, &f.vu.gm, &head, got) == 1);
	vs_vring_drv_free(&drv);
	fe_fini(&f);
}

static void t_bad_requests(void)
{
	struct fe f;
	uint8_t big[4096] = { 0 }, cfg[12 + 300] = { 0 };
	uint32_t n9[2] = { 9, 0 }, size = 300;
	uint64_t kick = 5, ack = 0;
	int fds[2];

	if (!fe_init(&f))
		return;
	/* before protocol features: no ENABLE */
	CHECK(fe_state(&f, VS_VU_SET_VRING_ENABLE, 0, 1) == -EPROTO);
	CHECK(strstr(f.vu.why, "SET_VRING_ENABLE") != NULL);
	negotiate(&f);
	CHECK(fe_set_u64(&f, VS_VU_SET_FEATURES, 1ull << 40) == -EINVAL);
	CHECK(fe_req(&f, VS_VU_SET_MEM_TABLE, 0, n9, 8, NULL, 0) == -EINVAL);
	n9[0] = 0;
	CHECK(fe_req(&f, VS_VU_SET_MEM_TABLE, 0, n9, 8, NULL, 0) == -EINVAL);
	/* two regions said, one fd given */
	fds[0] = f.memfd;
	n9[0] = 2;
	memcpy(big, n9, 8);
	CHECK(fe_req(&f, VS_VU_SET_MEM_TABLE, 0, big, 8 + 64, fds, 1) ==
	      -EINVAL);
	/* payload shorter than the regions it announces */
	CHECK(fe_req(&f, VS_VU_SET_MEM_TABLE, 0, big, 8 + 16, fds, 1) ==
	      -EPROTO);
	CHECK(fe_state(&f, VS_VU_SET_VRING_NUM, 7, 64) == -EINVAL);
	CHECK(fe_state(&f, VS_VU_SET_VRING_NUM, 0, 3) == -EINVAL);
	CHECK(fe_state(&f, VS_VU_SET_VRING_NUM, 0, 65536) == -EINVAL);
	CHECK(fe_state(&f, VS_VU_SET_VRING_BASE, 0, 70000) == -EINVAL);
	CHECK(fe_req(&f, VS_VU_SET_VRING_KICK, 0, &kick, 8, NULL, 0) ==
	      -EINVAL); /* no fd */
	kick = 5 | 0x100;
	CHECK(fe_req(&f, VS_VU_SET_VRING_KICK, 0, &kick, 8, NULL, 0) ==
	      -EINVAL); /* queue 5 */
	CHECK(fe_set_u64(&f, VS_VU_SET_LOG_BASE, 0) == -ENOTSUP);
	CHECK(fe_req(&f, 99, 0, NULL, 0, NULL, 0) == -ENOTSUP);
	CHECK(fe_req(&f, VS_VU_GET_FEATURES, 2, NULL, 0, NULL, 0) == -EPROTO);
	memcpy(cfg + 4, &size, 4);
	CHECK(fe_req(&f, VS_VU_GET_CONFIG, 0, cfg, sizeof(cfg), NULL, 0) ==
	      -EINVAL);
	/* REPLY_ACK says 1 on failure */
	CHECK(fe_req(&f, VS_VU_SET_CONFIG, 1 | 8, cfg, 20, NULL, 0) == -EPERM);
	CHECK(fe_reply(&f, VS_VU_SET_CONFIG, &ack, 8) == 8);
	CHECK_EQ_U(ack, 1);
	/* ring addresses outside guest memory: refused, not started */
	CHECK(fe_mem_table(&f, 0) == 0);
	CHECK(fe_state(&f, VS_VU_SET_VRING_NUM, 0, 64) == 0);
	kick = 0;
	CHECK(fe_req(&f, VS_VU_SET_VRING_KICK, 0, &kick, 8, &f.kick, 1) == 0);
	CHECK(fe_state(&f, VS_VU_SET_VRING_ENABLE, 0, 1) == 0);
	CHECK(fe_addr(&f, 0, 16, 0x7ffffff0, 32) == -EINVAL);
	CHECK(strstr(f.vu.why, "outside guest memory") != NULL);
	CHECK(!f.vu.q[0].started);
	fe_fini(&f);
}

static void t_oversize_truncated_eof(void)
{
	struct fe f;
	uint8_t hdr[12];
	uint32_t req = VS_VU_SET_FEATURES, fl = 1, size = 100000;

	if (!fe_init(&f))
		return;
	memcpy(hdr, &req, 4);
	memcpy(hdr + 4, &fl, 4);
	memcpy(hdr + 8, &size, 4);
	CHECK(write(f.sv[0], hdr, 12) == 12);
	CHECK(vs_vu_handle(&f.vu) == -EPROTO);
	CHECK(strstr(f.vu.why, "100000") != NULL);
	/* a header announcing 8 bytes, 3 sent, then the front-end goes */
	size = 8;
	memcpy(hdr + 8, &size, 4);
	CHECK(write(f.sv[0], hdr, 12) == 12);
	CHECK(write(f.sv[0], "abc", 3) == 3);
	shutdown(f.sv[0], SHUT_WR);
	CHECK(vs_vu_handle(&f.vu) == -EPROTO);
	CHECK(vs_vu_handle(&f.vu) == -EPIPE);
	fe_fini(&f);
}

VS_TEST_MAIN({ "negotiate_config_ack", t_negotiate },
	     { "ring_end_to_end", t_ring_end_to_end },
	     { "mem_table_again", t_mem_table_again },
	     { "bad_requests", t_bad_requests },
	     { "oversize_truncated_eof", t_oversize_truncated_eof });
