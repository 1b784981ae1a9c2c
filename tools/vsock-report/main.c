// SPDX-License-Identifier: GPL-2.0-only
/*
 * vsock-report: offline analysis of vsock traces from one or more systems.
 *
 * Exit status: 0 no findings, 1 findings, 2 error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "../common.h"
#include "capture.h"
#include "correlate.h"
#include "engine.h"
#include "inputs.h"
#include "report.h"
#include "source.h"

#ifndef VS_VERSION
#define VS_VERSION "0.1"
#endif

#define EXIT_FINDINGS 1
#define EXIT_ERROR 2

const char *prog = "vsock-report";

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vsock-report [OPTIONS] FILE|NAME=FILE ...\n"
"Analyse vsock traces (cat trace, trace_pipe, trace-cmd report output) of\n"
"one or more systems: line them up on one clock, and report stalled credit,\n"
"failed allocations, unanswered interrupts, lost packets and resets.\n"
"Each FILE is one system's capture; NAME= names the system (default: the\n"
"file's name); - reads standard input. Times are on the first system's clock.\n"
"\n"
"Options:\n"
"  -j, --json              print JSON\n"
"  -p, --pretty            print indented JSON (implies --json)\n"
"  -q, --quiet             print only the findings, one line each\n"
"      --stall-ms MS       credit stall threshold (default 100)\n"
"      --irq-timeout-ms MS how long a doorbell or packet may go unanswered\n"
"                          (default 100)\n"
"      --since TIME        leave out findings that ended before TIME (seconds\n"
"                          on the first system's clock, or with a ns/us/ms/s\n"
"                          suffix); earlier events still build the state\n"
"      --until TIME        ignore events after TIME, as if the captures\n"
"                          ended there\n"
"      --flow FLOW         only packets of FLOW: CID, CID:PORT or\n"
"                          CID:PORT->CID:PORT (either direction)\n"
"      --progress          show progress on stderr (default: when it is a\n"
"                          terminal)\n"
"      --no-progress       never show progress\n"
"  -h, --help              show this help\n"
"  -V, --version           show the version\n"
"\n"
"Exit status: 0 no findings, 1 findings, 2 error.\n");
}

enum {
	OPT_STALL = 256,
	OPT_IRQ,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_FLOW,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
};

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "pretty", no_argument, NULL, 'p' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "stall-ms", required_argument, NULL, OPT_STALL },
	{ "irq-timeout-ms", required_argument, NULL, OPT_IRQ },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "flow", required_argument, NULL, OPT_FLOW },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct progress {
	bool on;
	struct timespec last;
};

static void progress_show(void *ctx, const struct vs_inputs *in)
{
	struct progress *p = ctx;
	struct timespec now;
	uint64_t done, total;
	const char *phase;

	if (!p->on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - p->last.tv_sec) * 1000000000ll +
		    (now.tv_nsec - p->last.tv_nsec) <
	    200000000ll)
		return;
	p->last = now;
	vs_inputs_progress(in, &done, &total, &phase);
	if (total)
		fprintf(stderr, "\r%s: %s: %3.0f%% of %.1f MB ", prog, phase,
			100.0 * (double)done / (double)total, total / 1e6);
	else
		fprintf(stderr, "\r%s: %s: %.1f MB ", prog, phase, done / 1e6);
}

static void progress_clear(struct progress *p)
{
	if (p->on)
		fprintf(stderr, "\r\033[K");
}

int main(int argc, char **argv)
{
	struct vs_report_input rin[VS_MAX_SYSTEMS];
	const char *names[VS_MAX_SYSTEMS], *paths[VS_MAX_SYSTEMS];
	char name[VS_MAX_SYSTEMS][VS_SYSNAME_LEN];
	struct vs_inputs *in = NULL;
	struct vs_event *ev;
	struct vs_report_opts ro = { .mode = VS_REPORT_TEXT };
	struct progress pg = { 0 };
	struct vs_options opt;
	struct vs_engine *e = NULL;
	int progress = -1, c, err, ret = EXIT_ERROR;
	unsigned int n = 0, bad;

	vs_options_default(&opt);
	while ((c = getopt_long(argc, argv, "jpqhV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (ro.mode == VS_REPORT_TEXT)
				ro.mode = VS_REPORT_JSON;
			break;
		case 'p':
			ro.mode = VS_REPORT_JSON_PRETTY;
			break;
		case 'q':
			ro.quiet = true;
			break;
		case OPT_STALL:
			if (parse_ms(optarg, &opt.stall_ns)) {
				error("invalid --stall-ms: %s", optarg);
				return EXIT_ERROR;
			}
			break;
		case OPT_IRQ:
			if (parse_ms(optarg, &opt.irq_timeout_ns) ||
			    !opt.irq_timeout_ns) {
				error("invalid --irq-timeout-ms: %s", optarg);
				return EXIT_ERROR;
			}
			break;
		case OPT_SINCE:
			if (parse_time(optarg, &opt.since_ns)) {
				error("invalid --since: %s", optarg);
				return EXIT_ERROR;
			}
			opt.has_since = true;
			break;
		case OPT_UNTIL:
			if (parse_time(optarg, &opt.until_ns)) {
				error("invalid --until: %s", optarg);
				return EXIT_ERROR;
			}
			opt.has_until = true;
			break;
		case OPT_FLOW:
			if (vs_options_parse_flow(&opt, optarg)) {
				error("invalid --flow: %s (want CID, CID:PORT "
				      "or CID:PORT->CID:PORT)",
				      optarg);
				return EXIT_ERROR;
			}
			break;
		case OPT_PROGRESS:
			progress = 1;
			break;
		case OPT_NO_PROGRESS:
			progress = 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vsock-report (vsockscope) %s\n", VS_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
			return EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		error("no input: give one trace file per system "
		      "(try '%s --help')",
		      prog);
		return EXIT_ERROR;
	}
	if (argc - optind > VS_MAX_SYSTEMS) {
		error("too many inputs: at most %d systems", VS_MAX_SYSTEMS);
		return EXIT_ERROR;
	}
	for (int i = optind; i < argc; i++, n++) {
		vs_input_arg(argv[i], name[n], &paths[n]);
		for (unsigned int k = 0; k < n; k++) {
			if (!strcmp(name[k], name[n])) {
				error("two inputs are named '%s': name them "
				      "with NAME=FILE",
				      name[n]);
				goto out;
			}
		}
		names[n] = name[n];
	}
	in = vs_inputs_open(n, paths, &bad);
	if (!in) {
		if (bad < n)
			error("failed to open %s: %s", paths[bad],
			      strerror(errno));
		else
			error("failed to open the inputs: %s", strerror(errno));
		goto out;
	}
	pg.on = progress < 0 ? isatty(STDERR_FILENO) : progress;
	vs_inputs_set_progress(in, progress_show, &pg);
	e = vs_engine_new(&opt, n, names);
	if (!e) {
		error("failed to set up the analysis: %s", strerror(errno));
		goto out;
	}
	err = vs_inputs_align(in, e, &bad);
	if (err) {
		error("failed to read %s: %s", bad < n ? paths[bad] : "the inputs",
		      vs_capture_strerror(err));
		goto out;
	}
	while ((err = vs_inputs_next(in, e, &ev, NULL, &bad)) > 0) {
		err = vs_engine_feed(e, ev);
		if (err) {
			error("failed to analyse %s: %s", paths[ev->system],
			      strerror(-err));
			goto out;
		}
	}
	if (err) {
		error("failed to read %s: %s", paths[bad],
		      vs_capture_strerror(err));
		goto out;
	}
	progress_clear(&pg);
	for (unsigned int i = 0; i < n; i++) {
		const struct vs_source_stats *st =
			vs_source_stats(vs_inputs_source(in, i));

		if (!st->events) {
			error("failed to read %s: no trace event in it (%" PRIu64
			      " lines, %" PRIu64 " not understood)",
			      paths[i], st->lines, st->skipped);
			goto out;
		}
		rin[i].path = paths[i];
		rin[i].st = *st;
	}
	err = vs_engine_finish(e);
	if (err) {
		error("failed to finish the analysis: %s", strerror(-err));
		goto out;
	}
	if (vs_report_write(stdout, e, rin, &ro) || fflush(stdout)) {
		error("failed to write the report: %s", strerror(errno));
		goto out;
	}
	ret = e->findings.n ? EXIT_FINDINGS : 0;
out:
	progress_clear(&pg);
	vs_engine_free(e);
	vs_inputs_close(in);
	return ret;
}
