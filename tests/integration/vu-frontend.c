// SPDX-License-Identifier: GPL-2.0-only
/*
 * vu-frontend - a stand-in for QEMU in front of vsock-refdev serve, so the
 * device can be tested without a virtual machine:
 *
 *   vu-frontend SOCKET good     a REQUEST to a port nobody listens on must
 *                               come back as RST in the receive queue
 *   vu-frontend SOCKET garbage  descriptors that loop, point outside guest
 *                               memory or overflow lengths go on the
 *                               transmit queue; the device must stay up
 *                               and answer vhost-user afterwards
 *
 * Guest memory is a memfd given as one region at guest-physical 1 GiB; the
 * rings and buffers are laid out by lib/vring's driver side. Prints one
 * "vu-frontend: ..." line per step; exit 0 when everything held.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <unistd.h>
#include "vhost_user.h"
#include "vring.h"
#include "vsock_proto.h"

#define MEM (4u << 20)
#define GPA 0x40000000ull
#define QN 64

static int fd;
static uint8_t *mem;
static int kick[2], call[2];

static int die(const char *what)
{
	printf("vu-frontend: FAILED: %s (%s)\n", what, strerror(errno));
	exit(1);
}

static void send_msg(uint32_t req, uint32_t flags, const void *p,
		     uint32_t size, int sfd)
{
	uint8_t buf[512];
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr a;
	} cb;
	struct iovec iov = { buf, 12 + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	memcpy(buf, &req, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	memcpy(buf + 12, p, size);
	if (sfd >= 0) {
		struct cmsghdr *c;

		mh.msg_control = cb.b;
		mh.msg_controllen = sizeof(cb.b);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &sfd, sizeof(int));
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) != (ssize_t)(12 + size))
		die("send a vhost-user message");
}

static uint64_t get_u64(uint32_t req)
{
	uint8_t r[20];
	uint64_t v;
	struct pollfd p = { fd, POLLIN, 0 };

	send_msg(req, 1, NULL, 0, -1);
	if (poll(&p, 1, 5000) != 1 || recv(fd, r, 20, MSG_WAITALL) != 20)
		die("read a vhost-user reply");
	memcpy(&v, r + 12, 8);
	return v;
}

static void u64_msg(uint32_t req, uint64_t v, int sfd)
{
	send_msg(req, 1, &v, 8, sfd);
}

static void state(uint32_t req, uint32_t q, uint32_t num)
{
	uint32_t st[2] = { q, num };

	send_msg(req, 1, st, 8, -1);
}

/* the device's view: guest-physical */
static uint64_t gpa(const void *p)
{
	return GPA + (uint64_t)((const uint8_t *)p - mem);
}

static void ring_setup(struct vs_vring *vq, unsigned int q, size_t off)
{
	size_t aoff, uoff;
	uint8_t a[40] = { 0 };
	uint64_t d = GPA + off, u, av;

	vs_vring_size(QN, &aoff, &uoff);
	if (vs_vring_drv_init(vq, mem + off, QN, true, false))
		die("make a ring");
	/* vring addresses are front-end addresses: ours, as QEMU's are its */
	d = (uint64_t)(uintptr_t)(mem + off);
	u = d + uoff;
	av = d + aoff;
	state(VS_VU_SET_VRING_NUM, q, QN);
	state(VS_VU_SET_VRING_BASE, q, 0);
	memcpy(a, &q, 4);
	memcpy(a + 8, &d, 8);
	memcpy(a + 16, &u, 8);
	memcpy(a + 24, &av, 8);
	send_msg(VS_VU_SET_VRING_ADDR, 1, a, 40, -1);
	kick[q] = eventfd(0, 0);
	call[q] = eventfd(0, EFD_NONBLOCK);
	u64_msg(VS_VU_SET_VRING_KICK, q, kick[q]);
	u64_msg(VS_VU_SET_VRING_CALL, q, call[q]);
	state(VS_VU_SET_VRING_ENABLE, q, 1);
}

static void do_kick(int q)
{
	uint64_t one = 1;

	if (write(kick[q], &one, 8) != 8)
		die("kick");
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vs_vring rx, tx;
	uint8_t memtab[8 + 32];
	uint32_t n = 1;
	uint64_t r[4], feat;
	int memfd;
	bool garbage;

	if (argc != 3 || (strcmp(argv[2], "good") && strcmp(argv[2], "garbage"))) {
		fprintf(stderr, "usage: vu-frontend SOCKET good|garbage\n");
		return 2;
	}
	garbage = !strcmp(argv[2], "garbage");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	for (int i = 0; i < 50; i++) {
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		if (i == 49)
			die("connect to the device");
		usleep(100000);
	}
	memfd = memfd_create("vu-frontend", 0);
	if (memfd < 0 || ftruncate(memfd, MEM))
		die("make guest memory");
	mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (mem == MAP_FAILED)
		die("map guest memory");

	feat = get_u64(VS_VU_GET_FEATURES);
	u64_msg(VS_VU_SET_FEATURES, feat, -1);
	get_u64(VS_VU_GET_PROTOCOL_FEATURES);
	u64_msg(VS_VU_SET_PROTOCOL_FEATURES, 1ull << VS_VU_PROTOCOL_F_CONFIG, -1);
	send_msg(VS_VU_SET_OWNER, 1, NULL, 0, -1);
	memcpy(memtab, &n, 4);
	memset(memtab + 4, 0, 4);
	r[0] = GPA;
	r[1] = MEM;
	r[2] = (uint64_t)(uintptr_t)mem;
	r[3] = 0;
	memcpy(memtab + 8, r, 32);
	send_msg(VS_VU_SET_MEM_TABLE, 1, memtab, sizeof(memtab), memfd);
	ring_setup(&rx, 0, 0);
	ring_setup(&tx, 1, 64 << 10);
	printf("vu-frontend: features %#llx, rings set up\n",
	       (unsigned long long)feat);

	if (!garbage) {
		/* receive buffers, then a REQUEST to port 9 */
		struct vs_hdr h = { .src_cid = 3, .dst_cid = 2, .src_port = 1234,
				    .dst_port = 9, .type = 1, .op = 1,
				    .buf_alloc = 65536 };
		struct vs_vring_seg seg;
		uint8_t *b = mem + (256 << 10), *pkt = mem + (512 << 10);
		struct pollfd p = { call[0], POLLIN, 0 };
		uint32_t len;
		void *tok;

		for (int i = 0; i < 8; i++) {
			seg = (struct vs_vring_seg){ gpa(b + i * 4096), 4096, true,
						     NULL };
			vs_vring_drv_add(&rx, &seg, 1, b + i * 4096, NULL, 0);
		}
		vs_vring_drv_kick_prepare(&rx);
		do_kick(0);
		vs_hdr_encode(&h, pkt);
		seg = (struct vs_vring_seg){ gpa(pkt), VS_HDR_SIZE, false, NULL };
		vs_vring_drv_add(&tx, &seg, 1, pkt, NULL, 0);
		vs_vring_drv_kick_prepare(&tx);
		do_kick(1);
		if (poll(&p, 1, 5000) != 1)
			die("wait for the device's call");
		tok = vs_vring_drv_get_used(&rx, &len);
		if (!tok || len < VS_HDR_SIZE)
			die("get a packet back");
		vs_hdr_decode(tok, &h);
		printf("vu-frontend: got op %u from %llu:%u to %llu:%u\n", h.op,
		       (unsigned long long)h.src_cid, h.src_port,
		       (unsigned long long)h.dst_cid, h.dst_port);
		if (h.op != 3 || h.dst_port != 1234 || h.src_port != 9) {
			printf("vu-frontend: FAILED: want RST 2:9 -> 3:1234\n");
			return 1;
		}
		printf("vu-frontend: ok: refused with RST\n");
	} else {
		/* a descriptor chain that loops on itself, then one outside
		 * guest memory, then one whose length wraps: raw writes into
		 * the descriptor table, published in the avail ring */
		uint8_t *desc = mem + (64 << 10);
		size_t aoff, uoff;
		uint16_t idx = 3, heads[3] = { 0, 2, 4 };
		uint64_t a;
		uint32_t l;
		uint16_t f, nx;

		vs_vring_size(QN, &aoff, &uoff);
		/* 0 -> 1 -> 0 ... */
		for (int i = 0; i < 2; i++) {
			a = gpa(mem + (512 << 10));
			l = 16;
			f = 1; /* NEXT */
			nx = (uint16_t)!i;
			memcpy(desc + i * 16, &a, 8);
			memcpy(desc + i * 16 + 8, &l, 4);
			memcpy(desc + i * 16 + 12, &f, 2);
			memcpy(desc + i * 16 + 14, &nx, 2);
		}
		a = 0x7fff00000000ull; /* no such memory */
		l = 4096;
		f = 0;
		nx = 0;
		memcpy(desc + 2 * 16, &a, 8);
		memcpy(desc + 2 * 16 + 8, &l, 4);
		memcpy(desc + 2 * 16 + 12, &f, 2);
		a = GPA + MEM - 8; /* runs off the end */
		l = 0xffffffffu;
		memcpy(desc + 4 * 16, &a, 8);
		memcpy(desc + 4 * 16 + 8, &l, 4);
		memcpy(desc + 4 * 16 + 12, &f, 2);
		for (int i = 0; i < 3; i++)
			memcpy(desc + aoff + 4 + 2 * i, &heads[i], 2);
		__atomic_store_n((uint16_t *)(desc + aoff + 2), idx,
				 __ATOMIC_RELEASE);
		do_kick(1);
		usleep(300000);
		/* still there? */
		if (get_u64(VS_VU_GET_FEATURES) != feat) {
			printf("vu-frontend: FAILED: the device answers "
			       "differently\n");
			return 1;
		}
		printf("vu-frontend: ok: the device still answers\n");
	}
	vs_vring_drv_free(&rx);
	vs_vring_drv_free(&tx);
	close(fd);
	return 0;
}
