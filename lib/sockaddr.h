/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stream sockets by address: "tcp:HOST:PORT" or "vsock:CID:PORT" to
 * connect to; "tcp:[HOST:]PORT" or "vsock:PORT" to listen on. Where
 * vsock-trace --stream sends its records and vsocktop reads them.
 */
#ifndef VS_SOCKADDR_H
#define VS_SOCKADDR_H

#include <stdbool.h>
#include <stddef.h>

/*
 * vs_sock_open - connect to @spec, or bind and listen (backlog 1) when
 * @passive. Returns 0 with *fd set (SOCK_CLOEXEC), or -errno with a
 * one-line reason in @err: -EINVAL for an address that is not one of the
 * forms above or does not resolve.
 */
int vs_sock_open(const char *spec, bool passive, int *fd, char *err,
		 size_t errlen);

#endif /* VS_SOCKADDR_H */
