// SPDX-License-Identifier: GPL-2.0-only
/*
 * vsockio - moves checked bytes over vsock or hybrid vsock, for the VM tier.
 * Built statically for the guest and natively for the host.
 *
 *   vsockio send ADDR [-n CONNS] [-b BYTES | -t MS] [-w WRITE] [--retry MS]
 *   vsockio recv LADDR [-n CONNS] [-p PAUSE_AFTER_BYTES -P PAUSE_MS]
 *   vsockio put ADDR FILE [-r RETRY_MS]   send a file as it is
 *   vsockio get LADDR FILE                receive one into FILE
 *
 * ADDR:  vsock:CID:PORT        AF_VSOCK connect
 *        hybrid:PATH:PORT      Unix connect to PATH, "CONNECT PORT\n",
 *                              wait for "OK ..." (vsock-refdev serve)
 * LADDR: vsock:PORT            AF_VSOCK listen on any CID
 *        unix:PATH             Unix listen
 *        tcp:PORT              TCP listen on 127.0.0.1
 *
 * Each connection starts with 8 bytes: "VSIO", then its number (u32 LE);
 * the payload byte at offset k of connection c is pattern(c, k), so a
 * receiver checks every byte without knowing the length. send prints, per
 * run, "vsockio: sent N bytes on C connections in S s (R MB/s)"; recv
 * prints "vsockio: received N bytes on C connections, data ok" or what was
 * wrong. Exit status 0 ok, 1 data or connection failure, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

struct sockaddr_vm_ {
	unsigned short svm_family;
	unsigned short svm_reserved1;
	unsigned int svm_port;
	unsigned int svm_cid;
	unsigned char svm_flags;
	unsigned char svm_zero[3];
};

#define MAX_CONNS 64

static const char *addr;
static int nconns = 1;
static uint64_t bytes = 1 << 20;
static uint64_t dur_ms;
static size_t wsize = 65536;
static uint64_t retry_ms;
static uint64_t pause_after, pause_ms;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline uint8_t pattern(uint32_t c, uint64_t k)
{
	uint64_t x = (k >> 3) * 0x9e3779b97f4a7c15ull + c * 0x100000001b3ull;

	return (uint8_t)((x ^ x >> 29) >> ((k & 7) * 8));
}

static void fill(uint8_t *b, size_t n, uint32_t c, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		b[i] = pattern(c, off + i);
}

static int write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p = (const uint8_t *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

static int vsock_connect(unsigned int cid, unsigned int port)
{
	struct sockaddr_vm_ sa = { .svm_family = AF_VSOCK, .svm_port = port,
				   .svm_cid = cid };
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int hybrid_connect(const char *path, unsigned int port)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[64];
	size_t n = 0;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto bad;
	snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (write_all(fd, line, strlen(line)))
		goto bad;
	/* "OK <port>\n", read a byte at a time: data may follow */
	while (n < sizeof(line) - 1) {
		if (read(fd, line + n, 1) != 1)
			goto bad;
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	if (strncmp(line, "OK ", 3))
		goto bad;
	return fd;
bad:
	close(fd);
	return -1;
}

static int do_connect(void)
{
	char path[256];
	unsigned int cid, port;
	uint64_t until = now_ms() + retry_ms;
	int fd;

	for (;;) {
		if (sscanf(addr, "vsock:%u:%u", &cid, &port) == 2)
			fd = vsock_connect(cid, port);
		else if (sscanf(addr, "hybrid:%255[^:]:%u", path, &port) == 2)
			fd = hybrid_connect(path, port);
		else
			return -2;
		if (fd >= 0 || now_ms() >= until)
			return fd;
		usleep(100000);
	}
}

struct job {
	uint32_t id;
	int fd;
	uint64_t done;
	int err;
	char why[128];
};

static void *sender(void *arg)
{
	struct job *j = arg;
	uint8_t *buf = malloc(wsize);
	uint8_t hello[8] = { 'V', 'S', 'I', 'O' };
	uint64_t end = dur_ms ? now_ms() + dur_ms : 0;

	if (!buf)
		return NULL;
	memcpy(hello + 4, &j->id, 4);
	if (write_all(j->fd, hello, 8)) {
		j->err = 1;
		snprintf(j->why, sizeof(j->why), "write: %s", strerror(errno));
		goto out;
	}
	while (dur_ms ? now_ms() < end : j->done < bytes) {
		size_t n = wsize;

		if (!dur_ms && bytes - j->done < n)
			n = (size_t)(bytes - j->done);
		fill(buf, n, j->id, j->done);
		if (write_all(j->fd, buf, n)) {
			j->err = 1;
			snprintf(j->why, sizeof(j->why), "write at %llu: %s",
				 (unsigned long long)j->done, strerror(errno));
			break;
		}
		j->done += n;
	}
	shutdown(j->fd, SHUT_WR);
	/* wait for the receiver to close: everything arrived */
	while (read(j->fd, buf, wsize) > 0)
		;
out:
	close(j->fd);
	free(buf);
	return NULL;
}

static void *receiver(void *arg)
{
	struct job *j = arg;
	uint8_t *buf = malloc(65536);
	uint8_t hello[8];
	size_t got = 0;
	bool paused = false;
	ssize_t n;

	if (!buf)
		return NULL;
	while (got < 8 && (n = read(j->fd, hello + got, 8 - got)) > 0)
		got += (size_t)n;
	if (got < 8 || memcmp(hello, "VSIO", 4)) {
		j->err = 1;
		snprintf(j->why, sizeof(j->why), "no VSIO greeting");
		goto out;
	}
	memcpy(&j->id, hello + 4, 4);
	while ((n = read(j->fd, buf, 65536)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != pattern(j->id, j->done + (uint64_t)i)) {
				j->err = 1;
				snprintf(j->why, sizeof(j->why),
					 "conn %u: wrong byte at offset %llu",
					 j->id,
					 (unsigned long long)(j->done +
							      (uint64_t)i));
				goto out;
			}
		}
		j->done += (uint64_t)n;
		if (pause_after && !paused && j->done >= pause_after) {
			paused = true;
			printf("vsockio: conn %u: pausing %llu ms after %llu "
			       "bytes\n",
			       j->id, (unsigned long long)pause_ms,
			       (unsigned long long)j->done);
			fflush(stdout);
			usleep((useconds_t)(pause_ms * 1000));
			printf("vsockio: conn %u: reading again\n", j->id);
			fflush(stdout);
		}
	}
	if (n < 0) {
		j->err = 1;
		snprintf(j->why, sizeof(j->why), "conn %u: read: %s", j->id,
			 strerror(errno));
	}
out:
	close(j->fd);
	free(buf);
	return NULL;
}

static int listen_on(void)
{
	char path[256];
	unsigned int port;
	int fd;

	if (sscanf(addr, "vsock:%u", &port) == 1) {
		struct sockaddr_vm_ sa = { .svm_family = AF_VSOCK,
					   .svm_port = port,
					   .svm_cid = -1U };

		fd = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return -1;
	} else if (sscanf(addr, "tcp:%u", &port) == 1) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons((uint16_t)port),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int one = 1;

		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return -1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return -1;
	} else if (sscanf(addr, "unix:%255s", path) == 1) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (strlen(path) >= sizeof(sa.sun_path))
			return -1;
		strcpy(sa.sun_path, path);
		unlink(path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return -1;
	} else {
		return -2;
	}
	if (listen(fd, MAX_CONNS))
		return -1;
	return fd;
}

/* put/get: a file over one connection, no framing */
static int copy_fd(int in, int out)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write_all(out, buf, (size_t)n))
			return -1;
	return n < 0 ? -1 : 0;
}

static int put_get(bool put, const char *file)
{
	int fd, s, lfd, err;

	if (put) {
		fd = open(file, O_RDONLY);
		if (fd < 0)
			return 1;
		s = do_connect();
		if (s < 0) {
			fprintf(stderr, "vsockio: cannot connect to %s: %s\n",
				addr, strerror(errno));
			return 1;
		}
		err = copy_fd(fd, s);
		shutdown(s, SHUT_WR);
		/* the receiver closes once it has it all */
		while (read(s, &lfd, sizeof(lfd)) > 0)
			;
	} else {
		lfd = listen_on();
		if (lfd < 0)
			return 1;
		fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		s = fd < 0 ? -1 : accept(lfd, NULL, NULL);
		if (s < 0)
			return 1;
		err = copy_fd(s, fd);
		if (close(fd))
			err = -1;
	}
	close(s);
	return err ? 1 : 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: vsockio send vsock:CID:PORT|hybrid:PATH:PORT [-n CONNS] "
		"[-b BYTES | -t MS] [-w WRITE] [-r RETRY_MS]\n"
		"       vsockio recv vsock:PORT|unix:PATH [-n CONNS] "
		"[-p PAUSE_AFTER_BYTES -P PAUSE_MS]\n"
		"       vsockio put ADDR FILE [-r RETRY_MS]\n"
		"       vsockio get LADDR FILE\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct job jobs[MAX_CONNS];
	pthread_t th[MAX_CONNS];
	uint64_t t0, t1, total = 0;
	bool send_mode;
	int c, bad = 0, lfd = -1;

	if (argc < 3)
		return usage();
	if (!strcmp(argv[1], "put") || !strcmp(argv[1], "get")) {
		if (argc < 4)
			return usage();
		addr = argv[2];
		optind = 4;
		while ((c = getopt(argc, argv, "r:")) != -1)
			if (c == 'r')
				retry_ms = strtoull(optarg, NULL, 0);
		return put_get(argv[1][0] == 'p', argv[3]);
	}
	send_mode = !strcmp(argv[1], "send");
	if (!send_mode && strcmp(argv[1], "recv"))
		return usage();
	addr = argv[2];
	optind = 3;
	while ((c = getopt(argc, argv, "n:b:t:w:r:p:P:")) != -1) {
		switch (c) {
		case 'n': nconns = atoi(optarg); break;
		case 'b': bytes = strtoull(optarg, NULL, 0); break;
		case 't': dur_ms = strtoull(optarg, NULL, 0); break;
		case 'w': wsize = strtoull(optarg, NULL, 0); break;
		case 'r': retry_ms = strtoull(optarg, NULL, 0); break;
		case 'p': pause_after = strtoull(optarg, NULL, 0); break;
		case 'P': pause_ms = strtoull(optarg, NULL, 0); break;
		default: return usage();
		}
	}
	if (nconns < 1 || nconns > MAX_CONNS || !wsize || wsize > (16 << 20))
		return usage();
	memset(jobs, 0, sizeof(jobs));
	if (!send_mode) {
		lfd = listen_on();
		if (lfd < 0) {
			fprintf(stderr, "vsockio: cannot listen on %s: %s\n",
				addr, lfd == -2 ? "bad address" : strerror(errno));
			return lfd == -2 ? 2 : 1;
		}
		printf("vsockio: listening on %s\n", addr);
		fflush(stdout);
	}
	t0 = now_ms();
	for (int i = 0; i < nconns; i++) {
		jobs[i].id = (uint32_t)i;
		jobs[i].fd = send_mode ? do_connect() : accept(lfd, NULL, NULL);
		if (jobs[i].fd == -2)
			return usage();
		if (jobs[i].fd < 0) {
			fprintf(stderr, "vsockio: cannot %s %s: %s\n",
				send_mode ? "connect to" : "accept on", addr,
				strerror(errno));
			return 1;
		}
		if (send_mode && i == 0)
			t0 = now_ms();
		pthread_create(&th[i], NULL, send_mode ? sender : receiver,
			       &jobs[i]);
	}
	for (int i = 0; i < nconns; i++) {
		pthread_join(th[i], NULL);
		total += jobs[i].done;
		if (jobs[i].err) {
			bad = 1;
			fprintf(stderr, "vsockio: %s\n", jobs[i].why);
		}
	}
	t1 = now_ms();
	if (send_mode)
		printf("vsockio: sent %llu bytes on %d connections in %.3f s "
		       "(%.1f MB/s)\n",
		       (unsigned long long)total, nconns, (t1 - t0) / 1e3,
		       t1 > t0 ? total / 1e3 / (double)(t1 - t0) : 0.0);
	else
		printf("vsockio: received %llu bytes on %d connections, %s\n",
		       (unsigned long long)total, nconns,
		       bad ? "DATA BAD" : "data ok");
	return bad;
}
