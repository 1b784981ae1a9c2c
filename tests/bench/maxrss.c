// SPDX-License-Identifier: GPL-2.0-only
/*
 * maxrss - run a command, report its wall time, peak RSS and CPU time
 *
 *   maxrss [-o FILE] COMMAND [ARG...]
 *
 * Writes one line "<wall seconds> <peak RSS KiB> <exit status> <CPU
 * seconds, user and system>" to FILE
 * (default: stderr) once COMMAND ends, and exits with COMMAND's exit status
 * (128 + signal number if it was killed). The peak RSS is ru_maxrss from
 * wait4(2), so it needs no /usr/bin/time. The command inherits stdin,
 * stdout and stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *outpath = NULL;
	struct rusage ru;
	double t0, t1;
	FILE *out = stderr;
	int argi = 1, status, code;
	pid_t pid;

	if (argi + 1 < argc && !strcmp(argv[argi], "-o")) {
		outpath = argv[argi + 1];
		argi += 2;
	}
	if (argi < argc && !strcmp(argv[argi], "--"))
		argi++;
	if (argi >= argc) {
		fprintf(stderr, "usage: maxrss [-o FILE] COMMAND [ARG...]\n");
		return 2;
	}

	t0 = now();
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "maxrss: fork: %s\n", strerror(errno));
		return 2;
	}
	if (pid == 0) {
		execvp(argv[argi], argv + argi);
		fprintf(stderr, "maxrss: %s: %s\n", argv[argi],
			strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "maxrss: wait4: %s\n", strerror(errno));
			return 2;
		}
	}
	t1 = now();

	if (WIFEXITED(status))
		code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		code = 128 + WTERMSIG(status);
	else
		code = 255;

	if (outpath) {
		out = fopen(outpath, "w");
		if (!out) {
			fprintf(stderr, "maxrss: %s: %s\n", outpath,
				strerror(errno));
			return 2;
		}
	}
	fprintf(out, "%.6f %ld %d %.6f\n", t1 - t0, ru.ru_maxrss, code,
		(double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
			(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	if (outpath && fclose(out)) {
		fprintf(stderr, "maxrss: %s: %s\n", outpath, strerror(errno));
		return 2;
	}
	return code;
}
