// SPDX-License-Identifier: GPL-2.0-only
/*
 * stallpair - a vsock stream pair over vsock_loopback for the VM test tier.
 *
 * Default (stall) scenario: a writer thread connects to VMADDR_CID_LOCAL and
 * writes fixed-size chunks at a steady pace; a reader thread accepts and
 * reads.  The reader reads for --pre ms, stops reading for --stop ms (the
 * writer runs out of credit and blocks in write()), resumes for --post ms,
 * then both sides shut down.  Each phase change is written to the tracefs
 * trace_marker, so the trace carries it on the same clock as the events.
 *
 * --rr: a request/response exchange with no stall, for a clean capture.
 *
 * Runs only inside the QEMU guest: it talks to CID 1 (local loopback) only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define DEFAULT_MARKER "/sys/kernel/tracing/trace_marker"
#define MARK_PREFIX "vsockscope-test: "

struct opts {
	const char *marker;
	unsigned int port;
	size_t chunk; /* bytes per write (stall) */
	unsigned int interval_us; /* pause between writes (stall) */
	unsigned int pre_ms, stop_ms, post_ms;
	unsigned int rounds; /* rr round trips */
	size_t req, resp; /* rr sizes */
	int rr;
};

static struct opts o = {
	.marker = DEFAULT_MARKER,
	.port = 5000,
	.chunk = 4096,
	.interval_us = 2000,
	.pre_ms = 300,
	.stop_ms = 600,
	.post_ms = 300,
	.rounds = 50,
	.req = 128,
	.resp = 1024,
};

static int marker_fd = -1;
static int listen_fd = -1;
static atomic_int writer_stop;

static void die(const char *what)
{
	fprintf(stderr, "stallpair: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void mark(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), MARK_PREFIX);
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	printf("stallpair: %s\n", buf + strlen(MARK_PREFIX));
	fflush(stdout);
	if (marker_fd >= 0 && write(marker_fd, buf, n) < 0)
		fprintf(stderr, "stallpair: trace_marker: %s\n",
			strerror(errno));
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static int read_full(int fd, char *p, size_t len)
{
	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 1; /* EOF */
		p += n;
		len -= n;
	}
	return 0;
}

static int do_listen(void)
{
	struct sockaddr_vm sa = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_ANY,
		.svm_port = o.port,
	};
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket (is vsock_loopback loaded?)");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("bind");
	if (listen(fd, 1))
		die("listen");
	return fd;
}

static int do_connect(void)
{
	struct sockaddr_vm sa = {
		.svm_family = AF_VSOCK,
		.svm_cid = VMADDR_CID_LOCAL,
		.svm_port = o.port,
	};
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	return fd;
}

/* Drain whatever is readable until @deadline (ns) or EOF. */
static size_t read_until(int fd, char *buf, size_t len, uint64_t deadline,
			 int *eof)
{
	size_t total = 0;

	while (!*eof && (deadline == 0 || now_ns() < deadline)) {
		struct timeval tv = { 0, 10000 };
		ssize_t n;

		/* a short receive timeout lets the deadline be honoured */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = read(fd, buf, len);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				continue;
			die("reader: read");
		}
		if (n == 0)
			*eof = 1;
		total += n;
	}
	return total;
}

static void *stall_reader(void *arg)
{
	size_t buflen = 64 * 1024, pre, post, tail;
	char *buf = malloc(buflen);
	int fd, eof = 0;

	(void)arg;
	pthread_setname_np(pthread_self(), "reader");
	if (!buf)
		die("malloc");
	fd = accept(listen_fd, NULL, NULL);
	if (fd < 0)
		die("accept");
	mark("reader start");
	pre = read_until(fd, buf, buflen, now_ns() + o.pre_ms * 1000000ull,
			 &eof);
	mark("reader stop");
	sleep_ms(o.stop_ms);
	mark("reader resume");
	post = read_until(fd, buf, buflen, now_ns() + o.post_ms * 1000000ull,
			  &eof);
	mark("reader done");
	atomic_store(&writer_stop, 1);
	tail = read_until(fd, buf, buflen, 0, &eof);
	printf("stallpair: reader: %zu bytes before stop, %zu after resume, "
	       "%zu drained\n",
	       pre, post, tail);
	close(fd);
	free(buf);
	return NULL;
}

static void stall_writer(void)
{
	char *buf = malloc(o.chunk);
	uint64_t t, lat, max_lat = 0, writes = 0;
	int fd;

	if (!buf)
		die("malloc");
	memset(buf, 'v', o.chunk);
	fd = do_connect();
	while (!atomic_load(&writer_stop)) {
		t = now_ns();
		if (write_all(fd, buf, o.chunk))
			die("writer: write");
		lat = now_ns() - t;
		if (lat > max_lat)
			max_lat = lat;
		writes++;
		if (o.interval_us)
			usleep(o.interval_us);
	}
	mark("writer close");
	shutdown(fd, SHUT_WR);
	close(fd);
	printf("stallpair: writer: %llu writes of %zu bytes, longest write "
	       "%llu ms\n",
	       (unsigned long long)writes, o.chunk,
	       (unsigned long long)(max_lat / 1000000));
	free(buf);
}

static void *rr_server(void *arg)
{
	char *req = malloc(o.req), *resp = malloc(o.resp);
	unsigned int n = 0;
	int fd;

	(void)arg;
	pthread_setname_np(pthread_self(), "rr-server");
	if (!req || !resp)
		die("malloc");
	memset(resp, 'r', o.resp);
	fd = accept(listen_fd, NULL, NULL);
	if (fd < 0)
		die("accept");
	for (;;) {
		int r = read_full(fd, req, o.req);

		if (r < 0)
			die("rr-server: read");
		if (r > 0)
			break;
		if (write_all(fd, resp, o.resp))
			die("rr-server: write");
		n++;
	}
	printf("stallpair: rr-server: %u requests answered\n", n);
	close(fd);
	free(req);
	free(resp);
	return NULL;
}

static void rr_client(void)
{
	char *req = malloc(o.req), *resp = malloc(o.resp);
	unsigned int i;
	int fd;

	if (!req || !resp)
		die("malloc");
	memset(req, 'q', o.req);
	fd = do_connect();
	mark("rr begin");
	for (i = 0; i < o.rounds; i++) {
		if (write_all(fd, req, o.req))
			die("rr-client: write");
		if (read_full(fd, resp, o.resp))
			die("rr-client: read");
		if (o.interval_us)
			usleep(o.interval_us);
	}
	mark("rr end");
	shutdown(fd, SHUT_WR);
	/* wait for the server's close */
	while (read(fd, resp, o.resp) > 0)
		;
	close(fd);
	printf("stallpair: rr-client: %u round trips\n", i);
	free(req);
	free(resp);
}

static void usage(void)
{
	fprintf(stderr, "usage: stallpair [--rr] [-m MARKER] [-p PORT] [-s "
			"CHUNK] [-i INTERVAL_US]\n"
			"                 [--pre MS] [--stop MS] [--post MS] "
			"[-n ROUNDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "rr", no_argument, NULL, 'r' },
		{ "marker", required_argument, NULL, 'm' },
		{ "port", required_argument, NULL, 'p' },
		{ "chunk", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "pre", required_argument, NULL, 'A' },
		{ "stop", required_argument, NULL, 'B' },
		{ "post", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	pthread_t th;
	int c;

	while ((c = getopt_long(argc, argv, "m:p:s:i:n:h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			o.rr = 1;
			break;
		case 'm':
			o.marker = optarg;
			break;
		case 'p':
			o.port = strtoul(optarg, NULL, 0);
			break;
		case 's':
			o.chunk = strtoul(optarg, NULL, 0);
			break;
		case 'i':
			o.interval_us = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			o.rounds = strtoul(optarg, NULL, 0);
			break;
		case 'A':
			o.pre_ms = strtoul(optarg, NULL, 0);
			break;
		case 'B':
			o.stop_ms = strtoul(optarg, NULL, 0);
			break;
		case 'C':
			o.post_ms = strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !o.chunk || !o.req || !o.resp)
		usage();

	marker_fd = open(o.marker, O_WRONLY | O_CLOEXEC);
	if (marker_fd < 0)
		fprintf(stderr,
			"stallpair: %s: %s (continuing without markers)\n",
			o.marker, strerror(errno));

	listen_fd = do_listen();
	if (pthread_create(&th, NULL, o.rr ? rr_server : stall_reader, NULL))
		die("pthread_create");
	pthread_setname_np(pthread_self(), o.rr ? "rr-client" : "writer");
	if (o.rr)
		rr_client();
	else
		stall_writer();
	pthread_join(th, NULL);
	close(listen_fd);
	mark(o.rr ? "rr exit" : "stall exit");
	return 0;
}
