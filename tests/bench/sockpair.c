// SPDX-License-Identifier: GPL-2.0-only
/*
 * sockpair BYTES WRITE_SIZE: the baseline of the vsock-refdev bench. Two
 * processes move BYTES through a Unix stream socketpair in writes of
 * WRITE_SIZE; prints the bytes per second.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long long total, left, got = 0;
	size_t ws;
	char *buf;
	int sv[2];
	double t0;
	pid_t pid;

	if (argc != 3)
		return 2;
	total = strtoull(argv[1], NULL, 10);
	ws = strtoul(argv[2], NULL, 10);
	buf = calloc(1, ws);
	if (!buf || !ws || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 2;
	t0 = now();
	pid = fork();
	if (pid == 0) {
		close(sv[1]);
		for (left = total; left;) {
			size_t n = left < ws ? left : ws;
			ssize_t w = write(sv[0], buf, n);

			if (w <= 0)
				_exit(1);
			left -= (size_t)w;
		}
		_exit(0);
	}
	close(sv[0]);
	while (got < total) {
		ssize_t r = read(sv[1], buf, ws);

		if (r <= 0)
			return 1;
		got += (size_t)r;
	}
	waitpid(pid, NULL, 0);
	printf("%.0f\n", (double)total / (now() - t0));
	return 0;
}
