// SPDX-License-Identifier: GPL-2.0-only
/*
 * vsocktop: a live view of vsock on one or two systems: one row per
 * connection, credit, stalls and findings as they happen.
 *
 * Exit status: 0 no findings, 1 findings, 2 error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "probe.h"
#include "vsocktop.h"

#ifndef VS_VERSION
#define VS_VERSION "0.1"
#endif

const char *prog = "vsocktop";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vsocktop [OPTIONS]\n"
		"A live view of vsock: one row per connection with both "
		"directions' rates,\n"
		"credit, state and stalls, per-system totals, and the findings "
		"of\n"
		"vsock-report(1) as they are raised. Events come from a "
		"capture on this\n"
		"system (the default), from vsock-trace --stream on another "
		"system, or\n"
		"from saved captures and traces.\n"
		"\n"
		"Sources:\n"
		"  -r, --replay FILE       replay a capture or text trace "
		"(NAME=FILE names\n"
		"                          the system); once per system, at "
		"most 8\n"
		"  -s, --speed X           replay at X times real time "
		"(default 1), or max\n"
		"  -l, --live              capture on this system (default "
		"without -r)\n"
		"      --backend B         auto (default), bpf or tracefs, for "
		"--live\n"
		"      --probes LIST       probe families for --live, as "
		"vsock-trace -p\n"
		"                          (default: all)\n"
		"      --name NAME         this system's name (default: the "
		"host name)\n"
		"      --remote [NAME=]ADDR\n"
		"                          read the records of vsock-trace "
		"--stream from\n"
		"                          another system, connecting to "
		"ADDR:\n"
		"                          tcp:HOST:PORT or vsock:CID:PORT\n"
		"      --listen [NAME=]ADDR\n"
		"                          the same, waiting for vsock-trace "
		"--stream to\n"
		"                          connect: tcp:[HOST:]PORT or "
		"vsock:PORT\n"
		"      --hold-ms MS        how long live events wait to be "
		"merged in time\n"
		"                          order with the other system's "
		"(default 500)\n"
		"\n"
		"Display:\n"
		"  -b, --batch             print plain text updates, no screen "
		"(as top -b)\n"
		"  -n, --iterations N      stop after N updates (default: at "
		"the end of the\n"
		"                          input, or on q, SIGINT or SIGTERM)\n"
		"  -d, --delay SECONDS     between updates (default 1); replay "
		"at max\n"
		"                          speed: SECONDS of the trace\n"
		"  -o, --sort KEY          rate (default), stalled, free, "
		"findings, flow or\n"
		"                          recent\n"
		"  -R, --reverse           reverse the sort\n"
		"  -f, --filter CID[:PORT] only connections with that end\n"
"      --keep-closed SECONDS\n"
"                          how long a closed or reset connection stays on\n"
"                          the list after its last packet (default 10), or\n"
"                          forever; then its memory is freed\n"
		"\n"
		"Analysis (as vsock-report):\n"
		"      --stall-ms MS       credit stall threshold (default "
		"100)\n"
		"      --irq-timeout-ms MS how long a doorbell or packet may "
		"go unanswered\n"
		"                          (default 100)\n"
		"\n"
		"  -h, --help              show this help\n"
		"  -V, --version           show the version\n"
		"\n"
		"Keys: arrows/j/k move, Enter details, s/< > sort, r reverse, "
		"f filter,\n"
		"space pause, h or ? help, q quit.\n"
		"\n"
		"Exit status: 0 no findings, 1 findings, 2 error.\n");
}

enum {
	OPT_BACKEND = 256,
	OPT_PROBES,
	OPT_NAME,
	OPT_REMOTE,
	OPT_LISTEN,
	OPT_HOLD,
	OPT_STALL,
	OPT_IRQ,
	OPT_KEEP,
};

static const struct option long_opts[] = {
	{ "replay", required_argument, NULL, 'r' },
	{ "speed", required_argument, NULL, 's' },
	{ "live", no_argument, NULL, 'l' },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "probes", required_argument, NULL, OPT_PROBES },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "remote", required_argument, NULL, OPT_REMOTE },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "hold-ms", required_argument, NULL, OPT_HOLD },
	{ "batch", no_argument, NULL, 'b' },
	{ "iterations", required_argument, NULL, 'n' },
	{ "delay", required_argument, NULL, 'd' },
	{ "sort", required_argument, NULL, 'o' },
	{ "reverse", no_argument, NULL, 'R' },
	{ "filter", required_argument, NULL, 'f' },
	{ "keep-closed", required_argument, NULL, OPT_KEEP },
	{ "stall-ms", required_argument, NULL, OPT_STALL },
	{ "irq-timeout-ms", required_argument, NULL, OPT_IRQ },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

volatile sig_atomic_t vt_stop;

static void on_signal(int sig)
{
	(void)sig;
	vt_stop = 1;
}

static int findings_status(struct feed *f)
{
	return vs_top_engine(feed_top(f))->findings.n ? EXIT_FINDINGS : 0;
}

/* batch mode: an update every delay, plain text */
static int batch(struct feed *f, struct view_state *vs, uint64_t delay,
		 long iterations, bool fast)
{
	struct vs_top *t = feed_top(f);
	uint64_t next = mono_ns() + delay, bound = feed_first_ref(f);
	long it = 0;
	int r = 0;

	while (!vt_stop && (iterations < 0 || it < iterations)) {
		if (fast) {
			/* replay at full speed: updates in trace time */
			bound += delay;
			r = feed_until(f, bound);
		} else {
			struct pollfd pfd[VS_MAX_SYSTEMS];
			unsigned int n = feed_pollfds(f, pfd, VS_MAX_SYSTEMS);

			/* events go in in batches, warm */
			poll(pfd, n, feed_poll_ms(f, mono_ns(), next));
			r = feed_run(f, mono_ns(), 1000000);
			if (!r && mono_ns() < next)
				continue;
			next += delay;
		}
		if (r < 0)
			return EXIT_ERROR;
		if (r > 0)
			break;
		if (vs_top_tick(t, fast ? bound : feed_clock(f))) {
			error("failed to update the view: %s",
			      strerror(ENOMEM));
			return EXIT_ERROR;
		}
		if (batch_print(stdout, f, vs, (unsigned int)++it) ||
		    fflush(stdout)) {
			error("failed to write the output: %s",
			      strerror(errno));
			return EXIT_ERROR;
		}
	}
	/*
	 * the end of the input, -n updates or a signal: what is open ends
	 * as if the input ended here, and the findings are the report's
	 */
	/* stopped before the end of the input: as if it ended here */
	r = vs_top_finish(t, r > 0 ? 0 : vs_top_now(t));
	if (r) {
		error("failed to finish the analysis: %s", strerror(-r));
		return EXIT_ERROR;
	}
	if (((iterations < 0 || it < iterations) &&
	     batch_print(stdout, f, vs, (unsigned int)++it)) ||
	    batch_final(stdout, f) || fflush(stdout)) {
		error("failed to write the output: %s", strerror(errno));
		return EXIT_ERROR;
	}
	return findings_status(f);
}

int main(int argc, char **argv)
{
	struct feed_opts o = { .speed = 1,
			       .backend = "auto",
			       .probes = VS_PROBE_ALL,
			       .hold_ns = 500000000ull };
	struct view_state vs = { .sort = VS_TOP_SORT_RATE };
	struct sigaction sa = { .sa_handler = on_signal };
	char host[VS_SYSNAME_LEN], perr[256];
	bool batch_mode = false;
	long iterations = -1;
	uint64_t delay = 1000000000ull, keep = 10000000000ull;
	struct feed *f;
	double v;
	int c, ret;

	vs_options_default(&o.opt);
	while ((c = getopt_long(argc, argv, "r:s:lbn:d:o:Rf:hV", long_opts,
				NULL)) != -1) {
		switch (c) {
		case 'r':
			if (o.nreplay == VS_MAX_SYSTEMS) {
				error("too many inputs: at most %d systems",
				      VS_MAX_SYSTEMS);
				return EXIT_ERROR;
			}
			o.replay[o.nreplay++] = optarg;
			break;
		case 's':
			if (!strcmp(optarg, "max")) {
				o.speed = 0;
			} else if (fnum(optarg, 1e-3, 1e6, &o.speed)) {
				error("invalid --speed: %s (want a number from "
				      "0.001 to 1000000, or max)",
				      optarg);
				return EXIT_ERROR;
			}
			break;
		case 'l':
			o.live = true;
			break;
		case OPT_BACKEND:
			if (strcmp(optarg, "auto") && strcmp(optarg, "bpf") &&
			    strcmp(optarg, "tracefs")) {
				error("invalid --backend: %s (want auto, bpf "
				      "or tracefs)",
				      optarg);
				return EXIT_ERROR;
			}
			o.backend = optarg;
			break;
		case OPT_PROBES:
			if (vs_probes_parse(optarg, &o.probes, perr,
					    sizeof(perr))) {
				error("invalid --probes: %s", perr);
				return EXIT_ERROR;
			}
			break;
		case OPT_NAME:
			o.name = optarg;
			break;
		case OPT_REMOTE:
		case OPT_LISTEN:
			if (o.nremote == VS_MAX_SYSTEMS - 1) {
				error("too many remote systems: at most %d",
				      VS_MAX_SYSTEMS - 1);
				return EXIT_ERROR;
			}
			o.remote_listen[o.nremote] = c == OPT_LISTEN;
			o.remote[o.nremote++] = optarg;
			break;
		case OPT_HOLD:
			if (fnum(optarg, 0, 60000, &v)) {
				error("invalid --hold-ms: %s", optarg);
				return EXIT_ERROR;
			}
			o.hold_ns = (uint64_t)(v * 1e6);
			break;
		case 'b':
			batch_mode = true;
			break;
		case 'n':
			if (fnum(optarg, 1, 1e9, &v) || v != (long)v) {
				error("invalid --iterations: %s (want a whole "
				      "number from 1)",
				      optarg);
				return EXIT_ERROR;
			}
			iterations = (long)v;
			break;
		case 'd':
			if (fnum(optarg, 0.01, 86400, &v)) {
				error("invalid --delay: %s (want seconds, from "
				      "0.01)",
				      optarg);
				return EXIT_ERROR;
			}
			delay = (uint64_t)(v * 1e9);
			break;
		case 'o':
			if (vs_top_sort_parse(optarg) < 0) {
				error("invalid --sort: %s (want rate, stalled, "
				      "free, findings, flow or recent)",
				      optarg);
				return EXIT_ERROR;
			}
			vs.sort = (unsigned int)vs_top_sort_parse(optarg);
			break;
		case 'R':
			vs.reverse = true;
			break;
		case 'f':
			if (vs_top_filter_parse(&vs.filter, optarg)) {
				error("invalid --filter: %s (want CID or "
				      "CID:PORT)",
				      optarg);
				return EXIT_ERROR;
			}
			snprintf(vs.filter_text, sizeof(vs.filter_text), "%s",
				 optarg);
			break;
		case OPT_KEEP:
			if (!strcmp(optarg, "forever")) {
				keep = UINT64_MAX;
			} else if (fnum(optarg, 0, 1e6, &v)) {
				error("invalid --keep-closed: %s (want seconds "
				      "or forever)",
				      optarg);
				return EXIT_ERROR;
			} else {
				keep = (uint64_t)(v * 1e9);
			}
			break;
		case OPT_STALL:
			if (fnum(optarg, 0, 1e9, &v)) {
				error("invalid --stall-ms: %s", optarg);
				return EXIT_ERROR;
			}
			o.opt.stall_ns = (uint64_t)(v * 1e6);
			break;
		case OPT_IRQ:
			if (fnum(optarg, 0, 1e9, &v) || !v) {
				error("invalid --irq-timeout-ms: %s", optarg);
				return EXIT_ERROR;
			}
			o.opt.irq_timeout_ns = (uint64_t)(v * 1e6);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vsocktop (vsockscope) %s\n", VS_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
			return EXIT_ERROR;
		}
	}
	if (optind < argc) {
		error("unexpected argument '%s' (replay files go with -r)",
		      argv[optind]);
		return EXIT_ERROR;
	}
	if (o.nreplay && (o.live || o.nremote)) {
		error("-r replays saved input; it does not mix with --live, "
		      "--remote or --listen");
		return EXIT_ERROR;
	}
	if (!o.nreplay && !o.nremote)
		o.live = true;
	if (o.live && geteuid()) {
		error("failed to start the capture: it needs root (or -r to "
		      "replay a saved capture)");
		return EXIT_ERROR;
	}
	if (!o.name) {
		if (gethostname(host, sizeof(host)))
			snprintf(host, sizeof(host), "local");
		host[sizeof(host) - 1] = '\0';
		o.name = host;
	}
	if (!batch_mode && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		error("failed to start the screen: not a terminal (use -b for "
		      "plain text)");
		return EXIT_ERROR;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	f = feed_open(&o);
	if (!f)
		return EXIT_ERROR;
	vs_top_set_keep_closed(feed_top(f), keep);
	if (batch_mode && !o.nreplay)
		fprintf(stderr, "%s: %s, capturing\n", prog, feed_describe(f));
	if (batch_mode)
		ret = batch(f, &vs, delay, iterations,
			    o.nreplay && o.speed <= 0);
	else
		ret = screen_run(f, &vs, delay, iterations);
	feed_close(f);
	return ret;
}
