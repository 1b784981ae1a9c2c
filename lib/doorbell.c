// SPDX-License-Identifier: GPL-2.0-only
/* Doorbells over eventfd. */
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "doorbell.h"

int vs_doorbell_open(struct vs_doorbell *d)
{
	d->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return d->fd < 0 ? -errno : 0;
}

void vs_doorbell_from_fd(struct vs_doorbell *d, int fd)
{
	d->fd = fd;
}

void vs_doorbell_close(struct vs_doorbell *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

int vs_doorbell_ring(struct vs_doorbell *d)
{
	uint64_t one = 1;

	while (write(d->fd, &one, sizeof(one)) < 0) {
		if (errno == EINTR)
			continue;
		/* the counter is saturated: it rang already */
		if (errno == EAGAIN)
			return 0;
		return -errno;
	}
	return 0;
}

uint64_t vs_doorbell_take(struct vs_doorbell *d)
{
	uint64_t v;

	for (;;) {
		if (read(d->fd, &v, sizeof(v)) == sizeof(v))
			return v;
		if (errno != EINTR)
			return 0;
	}
}

int64_t vs_doorbell_wait(struct vs_doorbell *const *d, unsigned int n,
			 int timeout_ms)
{
	struct pollfd pfd[32];
	int64_t mask = 0;
	int r;

	if (n > 32)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		pfd[i].fd = d[i]->fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	r = poll(pfd, n, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	for (unsigned int i = 0; i < n; i++)
		if (pfd[i].revents & POLLIN)
			mask |= 1ll << i;
	return mask;
}
