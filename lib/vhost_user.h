/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The back-end side of the vhost-user protocol (QEMU's docs/interop/
 * vhost-user.rst): messages from the front-end (QEMU) on a Unix socket,
 * feature and protocol-feature negotiation, the guest memory table (region
 * fds mapped here), the vrings' size, addresses, base and doorbells, their
 * enabling, and the device's config space.
 *
 * No I/O besides the socket and the fds it brings: a ring that becomes
 * usable (addresses translated and checked, kick known, enabled) is handed
 * to the device through ops->queue_state, which drives it with lib/vring.
 * A message that is malformed or asks for what was not negotiated is an
 * error with a reason, never a crash; the caller drops the connection.
 */
#ifndef VS_VHOST_USER_H
#define VS_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>
#include "vring.h"

/* requests (front-end → back-end) */
enum {
	VS_VU_GET_FEATURES = 1,
	VS_VU_SET_FEATURES = 2,
	VS_VU_SET_OWNER = 3,
	VS_VU_RESET_OWNER = 4,
	VS_VU_SET_MEM_TABLE = 5,
	VS_VU_SET_LOG_BASE = 6,
	VS_VU_SET_LOG_FD = 7,
	VS_VU_SET_VRING_NUM = 8,
	VS_VU_SET_VRING_ADDR = 9,
	VS_VU_SET_VRING_BASE = 10,
	VS_VU_GET_VRING_BASE = 11,
	VS_VU_SET_VRING_KICK = 12,
	VS_VU_SET_VRING_CALL = 13,
	VS_VU_SET_VRING_ERR = 14,
	VS_VU_GET_PROTOCOL_FEATURES = 15,
	VS_VU_SET_PROTOCOL_FEATURES = 16,
	VS_VU_GET_QUEUE_NUM = 17,
	VS_VU_SET_VRING_ENABLE = 18,
	VS_VU_GET_CONFIG = 24,
	VS_VU_SET_CONFIG = 25,
	VS_VU_RESET_DEVICE = 34,
	VS_VU_GET_MAX_MEM_SLOTS = 36,
};

#define VS_VU_F_PROTOCOL_FEATURES 30 /* feature bit */
#define VS_VU_PROTOCOL_F_MQ 0
#define VS_VU_PROTOCOL_F_REPLY_ACK 3
#define VS_VU_PROTOCOL_F_CONFIG 9
#define VS_VU_PROTOCOL_F_RESET_DEVICE 13

#define VS_VU_MAX_QUEUES 8
#define VS_VU_MAX_REGIONS 8
#define VS_VU_MAX_CONFIG 256
#define VS_VU_MAX_FDS 8

struct vs_vu_queue {
	unsigned int num;
	uint64_t desc_uva, used_uva, avail_uva; /* front-end addresses */
	uint16_t base;	     /* SET_VRING_BASE: next avail entry */
	int kick_fd, call_fd, err_fd; /* -1: none */
	bool num_set, addr_set, kick_set;
	bool enabled;
	bool started;	     /* vr is set up and the device may use it */
	struct vs_vring vr;
};

struct vs_vu;

struct vs_vu_ops {
	/* @len bytes of config space from @off; 0 or -EINVAL */
	int (*get_config)(void *ctx, uint32_t off, void *buf, uint32_t len);
	/* queue @q became usable (started) or stopped being usable; when it
	 * stops, its rings may be gone: the device must forget them */
	void (*queue_state)(void *ctx, unsigned int q, bool started);
};

struct vs_vu_map {
	void *base;	/* mmap()ed here */
	size_t len;
	uint64_t uva;	/* front-end address of the region */
	uint64_t gpa;
	uint64_t size;
};

struct vs_vu {
	int fd;		 /* the connection to the front-end */
	uint64_t dev_features;	/* what the device offers */
	uint64_t features;	/* what the front-end acked */
	uint64_t protocol_offer, protocol_features;
	bool owner, features_acked;
	unsigned int nqueues;
	struct vs_gmem gm;	/* guest-physical → here */
	struct vs_vu_map maps[VS_VU_MAX_REGIONS];
	unsigned int nmaps;
	struct vs_vu_queue q[VS_VU_MAX_QUEUES];
	const struct vs_vu_ops *ops;
	void *ctx;
	uint64_t msgs;		/* messages handled */
	uint32_t last_req;	/* the last request read */
	char why[160];		/* what was wrong, after an error */
};

/*
 * vs_vu_init - a back-end on connection @fd with @nqueues rings; the
 * device offers @dev_features (VS_VU_F_PROTOCOL_FEATURES is added) and the
 * protocol features REPLY_ACK, CONFIG and RESET_DEVICE.
 */
void vs_vu_init(struct vs_vu *vu, int fd, unsigned int nqueues,
		uint64_t dev_features, const struct vs_vu_ops *ops, void *ctx);
/*
 * vs_vu_handle - read and act on one message (blocking until it is whole).
 * Returns 0, -EPIPE when the front-end closed the connection, or another
 * -errno for a bad message or a failed action (vu->why says what).
 */
int vs_vu_handle(struct vs_vu *vu);
/* forget the front-end: queues stopped (ops told), memory unmapped, fds
 * closed. vu->fd is left to the caller. */
void vs_vu_reset(struct vs_vu *vu);
/* signal queue @q's call fd; 0, -EBADF when it has none, -errno */
int vs_vu_call(struct vs_vu *vu, unsigned int q);
/* a request's name, "GET_FEATURES" ..., or "?" */
const char *vs_vu_request_name(uint32_t req);
/* translate a front-end address (vring addresses are given this way) to a
 * guest-physical one; false when no region holds [uva, uva + len) */
bool vs_vu_uva_to_gpa(const struct vs_vu *vu, uint64_t uva, uint64_t len,
		      uint64_t *gpa);

#endif /* VS_VHOST_USER_H */
