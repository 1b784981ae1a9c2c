// SPDX-License-Identifier: GPL-2.0-only
/* Stream sockets by address (see sockaddr.h). */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>
#include "sockaddr.h"

static int fail(const char *spec, bool passive, int *fd, char *err,
		size_t errlen)
{
	int e = errno ? errno : EIO;

	snprintf(err, errlen, "cannot %s %s: %s",
		 passive ? "listen on" : "connect to", spec, strerror(e));
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return -e;
}

/* bind and listen, or connect */
static int setup(int fd, bool passive, const struct sockaddr *sa, socklen_t len)
{
	int one = 1;

	if (!passive)
		return connect(fd, sa, len);
	if (sa->sa_family != AF_VSOCK)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, sa, len))
		return -1;
	return listen(fd, 1);
}

int vs_sock_open(const char *spec, bool passive, int *fd, char *err,
		 size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
	unsigned int cid, port;
	char host[128], ps[16], tail;
	int r;

	*fd = -1;
	errno = 0;
	if (sscanf(spec, "vsock:%u:%u%c", &cid, &port, &tail) == 2 ||
	    (passive && sscanf(spec, "vsock:%u%c", &port, &tail) == 1 &&
	     (cid = VMADDR_CID_ANY, 1))) {
		struct sockaddr_vm sa = { .svm_family = AF_VSOCK,
					  .svm_cid = cid,
					  .svm_port = port };

		*fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (*fd < 0 ||
		    setup(*fd, passive, (struct sockaddr *)&sa, sizeof(sa)))
			return fail(spec, passive, fd, err, errlen);
		return 0;
	}
	if (sscanf(spec, "tcp:%127[^:]:%u%c", host, &port, &tail) == 2) {
		/* tcp:HOST:PORT */
	} else if (passive && sscanf(spec, "tcp:%u%c", &port, &tail) == 1) {
		snprintf(host, sizeof(host), "0.0.0.0");
	} else {
		snprintf(err, errlen,
			 "invalid address %s (want tcp:HOST:PORT or "
			 "vsock:CID:PORT%s)",
			 spec,
			 passive ? "; tcp:PORT or vsock:PORT to listen" : "");
		return -EINVAL;
	}
	if (port > 65535) {
		snprintf(err, errlen, "invalid port in %s", spec);
		return -EINVAL;
	}
	snprintf(ps, sizeof(ps), "%u", port);
	if (passive)
		hints.ai_flags = AI_PASSIVE;
	r = getaddrinfo(host, ps, &hints, &ai);
	if (r) {
		snprintf(err, errlen, "cannot resolve %s: %s", host,
			 gai_strerror(r));
		return -EINVAL;
	}
	for (a = ai; a && *fd < 0; a = a->ai_next) {
		*fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
			     a->ai_protocol);
		if (*fd >= 0 &&
		    setup(*fd, passive, a->ai_addr, a->ai_addrlen)) {
			r = errno;
			close(*fd);
			*fd = -1;
			errno = r;
		}
	}
	freeaddrinfo(ai);
	if (*fd < 0)
		return fail(spec, passive, fd, err, errlen);
	return 0;
}
