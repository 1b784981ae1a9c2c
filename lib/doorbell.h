/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Doorbells: a kick (driver → device) or a call (device → driver) as an
 * eventfd. The same interface stands for a mailbox register between two
 * cores: ring it, wait for it, take what rang.
 */
#ifndef VS_DOORBELL_H
#define VS_DOORBELL_H

#include <stdint.h>

struct vs_doorbell {
	int fd;
};

/* a new doorbell (non-blocking eventfd); 0 or -errno */
int vs_doorbell_open(struct vs_doorbell *d);
/* one that already exists (an fd passed by vhost-user, or inherited) */
void vs_doorbell_from_fd(struct vs_doorbell *d, int fd);
void vs_doorbell_close(struct vs_doorbell *d);
/* ring it once; 0 or -errno */
int vs_doorbell_ring(struct vs_doorbell *d);
/* how many rings waited (0: none); never blocks */
uint64_t vs_doorbell_take(struct vs_doorbell *d);
/* wait up to @timeout_ms (-1: for ever) for any of @n doorbells; returns
 * a bitmask of those that rang, 0 on timeout, -errno on error */
int64_t vs_doorbell_wait(struct vs_doorbell *const *d, unsigned int n,
			 int timeout_ms);

#endif /* VS_DOORBELL_H */
