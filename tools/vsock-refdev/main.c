// SPDX-License-Identifier: GPL-2.0-only
/*
 * vsock-refdev: the reference transport. A userspace virtio-vsock with
 * fault injection and ground truth, to prove the analyzers right.
 *
 * Exit status: 0 ok, 1 the end-to-end data check failed, 2 error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "refdev.h"

const char *prog = "vsock-refdev";

#ifndef VS_VERSION
#define VS_VERSION "0.1"
#endif

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vsock-refdev sim [OPTIONS] --out DIR\n"
"       vsock-refdev serve --socket PATH --uds-path PATH --guest-cid N ...\n"
"                          (see vsock-refdev serve --help)\n"
"Run two systems over a userspace virtio-vsock in two processes sharing\n"
"memory: a (the driver, CID 3) and b (the device, CID 2). Each writes its\n"
"events as tracefs text (DIR/a.trace, DIR/b.trace) on its own clock; the\n"
"faults injected are written to DIR/truth.json with the finding each must\n"
"produce. Data is checked end to end.\n"
"\n"
"Options:\n"
"      --workload W        bulk, rr, many or mix (default bulk)\n"
"      --flows N           connections (default 4, at most %d)\n"
"      --duration-ms N     how long the workload runs (default 1000)\n"
"      --seed N            seed of the workload and of random faults\n"
"                          (default 1)\n"
"      --clock-offset-ns N b's clock minus a's, at least -999000000000 (a's\n"
"                          clock starts at 1000 s; default 0)\n"
"      --clock-drift-ppm N how fast b's clock runs against a's (default 0)\n"
"      --fault SPEC        inject a fault (repeatable): KIND[:key=value,...]\n"
"                          kinds: drop-kick, drop-irq, withhold-credit,\n"
"                          fail-alloc, drop-packet, stop-rx-refill;\n"
"                          keys: at, for, prob, count, flow, port, system,\n"
"                          what (see vsock-refdev(8))\n"
"      --queue-size N      rx and tx ring entries, a power of 2 from 16 to\n"
"                          4096 (default 256)\n"
"      --rx-buf N          payload bytes per receive buffer, 256 to 65536\n"
"                          (default 4096)\n"
"      --no-event-idx      do not use VIRTIO_F_EVENT_IDX\n"
"      --write-size N      bulk writes of N bytes each, 1 to 65536 (default:\n"
"                          any size from 1 KiB to 16 KiB, as applications\n"
"                          write)\n"
"      --split-hdr MODE    header and payload in one descriptor (never),\n"
"                          two (always) or either (random, the default)\n"
"      --copy              bulk data through copying writes and reads\n"
"                          (default: made in the transmit buffer, checked\n"
"                          in the receive buffer)\n"
"      --out DIR           where to write the traces and the truth\n"
"  -q, --quiet             no summary line\n"
"  -h, --help              show this help\n"
"  -V, --version           show the version\n"
"\n"
"Exit status: 0 ok, 1 the data check failed, 2 error.\n",
		SIM_MAX_FLOWS);
}

enum {
	OPT_WORKLOAD = 256,
	OPT_FLOWS,
	OPT_DURATION,
	OPT_SEED,
	OPT_OFFSET,
	OPT_DRIFT,
	OPT_FAULT,
	OPT_QSIZE,
	OPT_RXBUF,
	OPT_NO_EVENT_IDX,
	OPT_SPLIT,
	OPT_WRITE_SIZE,
	OPT_COPY,
	OPT_OUT,
};

static const struct option opts[] = {
	{ "workload", required_argument, NULL, OPT_WORKLOAD },
	{ "flows", required_argument, NULL, OPT_FLOWS },
	{ "duration-ms", required_argument, NULL, OPT_DURATION },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "clock-offset-ns", required_argument, NULL, OPT_OFFSET },
	{ "clock-drift-ppm", required_argument, NULL, OPT_DRIFT },
	{ "fault", required_argument, NULL, OPT_FAULT },
	{ "queue-size", required_argument, NULL, OPT_QSIZE },
	{ "rx-buf", required_argument, NULL, OPT_RXBUF },
	{ "no-event-idx", no_argument, NULL, OPT_NO_EVENT_IDX },
	{ "split-hdr", required_argument, NULL, OPT_SPLIT },
	{ "write-size", required_argument, NULL, OPT_WRITE_SIZE },
	{ "copy", no_argument, NULL, OPT_COPY },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	struct sim_opts o = {
		.workload = WL_BULK,
		.flows = 4,
		.duration_ns = 1000000000ull,
		.seed = 1,
		.queue_size = 256,
		.rx_buf_size = 4096,
		.event_idx = true,
		.split_hdr = 2,
		.stall_ns = 100000000ull,
		.timeout_ns = 100000000ull,
	};
	long long v;
	char err[160];
	int c;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("vsock-refdev (vsockscope) %s\n", VS_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "serve"))
		return serve_main(argc, argv);
	if (strcmp(argv[1], "sim")) {
		fprintf(stderr,
			"vsock-refdev: error: unknown mode '%s' (want sim or "
			"serve)\n",
			argv[1]);
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "qhV", opts, NULL)) != -1) {
		switch (c) {
		case OPT_WORKLOAD:
			if (!strcmp(optarg, "bulk"))
				o.workload = WL_BULK;
			else if (!strcmp(optarg, "rr"))
				o.workload = WL_RR;
			else if (!strcmp(optarg, "many"))
				o.workload = WL_MANY;
			else if (!strcmp(optarg, "mix"))
				o.workload = WL_MIX;
			else
				return bad("--workload", optarg);
			break;
		case OPT_FLOWS:
			if (snum(optarg, 1, SIM_MAX_FLOWS, &v))
				return bad("--flows", optarg);
			o.flows = (unsigned int)v;
			break;
		case OPT_DURATION:
			if (snum(optarg, 1, 3600000, &v))
				return bad("--duration-ms", optarg);
			o.duration_ns = (uint64_t)v * 1000000ull;
			break;
		case OPT_SEED:
			if (snum(optarg, 0, INT64_MAX, &v))
				return bad("--seed", optarg);
			o.seed = (uint64_t)v;
			break;
		case OPT_OFFSET:
			/* a's clock starts at 1000 s; b's must not go below 0 */
			if (snum(optarg, -999000000000ll, 1ll << 60, &v))
				return bad("--clock-offset-ns (b's clock starts "
					   "at 1000 s plus it: at least "
					   "-999000000000)",
					   optarg);
			o.clock_offset_ns = v;
			break;
		case OPT_DRIFT: {
			char *end;

			o.clock_drift_ppm = strtod(optarg, &end);
			if (*end || end == optarg || o.clock_drift_ppm < -1e4 ||
			    o.clock_drift_ppm > 1e4)
				return bad("--clock-drift-ppm", optarg);
			break;
		}
		case OPT_FAULT:
			if (o.nfaults == SIM_MAX_FAULTS) {
				fprintf(stderr, "vsock-refdev: error: at most %d "
						"faults\n",
					SIM_MAX_FAULTS);
				return 2;
			}
			if (vs_fault_parse(optarg, &o.faults[o.nfaults], err,
					   sizeof(err))) {
				fprintf(stderr,
					"vsock-refdev: error: invalid --fault "
					"%s: %s\n",
					optarg, err);
				return 2;
			}
			o.nfaults++;
			break;
		case OPT_QSIZE:
			if (snum(optarg, 16, 4096, &v) || (v & (v - 1)))
				return bad("--queue-size (a power of 2, 16 to "
					   "4096)",
					   optarg);
			o.queue_size = (unsigned int)v;
			break;
		case OPT_RXBUF:
			if (snum(optarg, 256, 65536, &v))
				return bad("--rx-buf (256 to 65536)", optarg);
			o.rx_buf_size = (unsigned int)v;
			break;
		case OPT_NO_EVENT_IDX:
			o.event_idx = false;
			break;
		case OPT_SPLIT:
			if (!strcmp(optarg, "never"))
				o.split_hdr = 0;
			else if (!strcmp(optarg, "always"))
				o.split_hdr = 1;
			else if (!strcmp(optarg, "random"))
				o.split_hdr = 2;
			else
				return bad("--split-hdr", optarg);
			break;
		case OPT_WRITE_SIZE:
			if (snum(optarg, 1, 65536, &v))
				return bad("--write-size (1 to 65536)", optarg);
			o.write_size = (unsigned int)v;
			break;
		case OPT_COPY:
			o.copy = true;
			break;
		case OPT_OUT:
			o.out_dir = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vsock-refdev (vsockscope) %s\n", VS_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'vsock-refdev --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vsock-refdev: error: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (!o.out_dir) {
		fprintf(stderr, "vsock-refdev: error: no --out DIR given\n");
		return 2;
	}
	return sim_run(&o);
}
