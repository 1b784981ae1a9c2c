// SPDX-License-Identifier: GPL-2.0-only
/*
 * vsock-trace: capture what vsock, its virtqueues, interrupts and
 * allocations do on this system, with BPF where the kernel allows and
 * tracefs where it does not, into a file vsock-report and vsocktop read.
 *
 * Exit status: 0 ok, 1 nothing could be attached, 2 error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <linux/vm_sockets.h>
#include <time.h>
#include <unistd.h>
#include "backend.h"
#include "../common.h"
#include "capture.h"
#include "sockaddr.h"
#include "event.h"
#include "source.h"
#include "probe.h"
#include "text_out.h"

#ifndef VS_VERSION
#define VS_VERSION "0.1"
#endif

const char *prog = "vsock-trace";
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vsock-trace [OPTIONS]\n"
"Capture vsock packets, virtqueue doorbells, interrupts and failed\n"
"allocations on this system, with BPF where the kernel allows and tracefs\n"
"where it does not, for vsock-report(1) and vsocktop(8).\n"
"\n"
"Options:\n"
"  -o, --output FILE       write the capture there (default, or -:\n"
"                          standard output)\n"
"      --format F          capture (default) or text (the lines of cat trace)\n"
"  -b, --backend B         auto (default: BPF when it loads, else tracefs),\n"
"                          bpf or tracefs\n"
"  -p, --probes LIST       probe families, comma-separated: vsock, vring,\n"
"                          irq, mbox, alloc, all (default: all)\n"
"      --cid N             vsock packets from or to CID N only\n"
"      --port N            vsock packets from or to port N only\n"
"      --pid N             events of process N only (BPF)\n"
"      --all-virtqueues    vring: the queues of every virtio device, not\n"
"                          only vsock's and rpmsg's (BPF)\n"
"  -d, --duration SECONDS  stop after SECONDS (default: at SIGINT/SIGTERM)\n"
"      --stream WHERE      also send the records, as they come, to standard\n"
"                          output (-), tcp:HOST:PORT or vsock:CID:PORT (a\n"
"                          listener, e.g. vsocktop --listen on another\n"
"                          system), or wait for one reader to connect:\n"
"                          listen:tcp:[HOST:]PORT, listen:vsock:PORT\n"
"                          (vsocktop --remote, e.g. through adb forward)\n"
"      --system NAME       the system's name in the capture (default: the\n"
"                          host name)\n"
"      --buffer-kb N       kernel buffer: per CPU for tracefs, in all for the\n"
"                          BPF ring buffer (default 4096)\n"
"      --from FILE         read a saved trace or capture instead of the\n"
"                          kernel, and write it in --format\n"
"      --speed X           with --from: send the events at X times the pace\n"
"                          of their timestamps, as if captured now (default:\n"
"                          all at once)\n"
"  -q, --quiet             no summary at the end\n"
"  -h, --help              show this help\n"
"  -V, --version           show the version\n"
"\n"
"Exit status: 0 ok, 1 no probe could be attached, 2 error.\n");
}

enum {
	OPT_FORMAT = 256,
	OPT_CID,
	OPT_PORT,
	OPT_PID,
	OPT_SYSTEM,
	OPT_BUFFER,
	OPT_STREAM,
	OPT_FROM,
	OPT_ALL_VQ,
	OPT_SPEED,
};

static const struct option opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "backend", required_argument, NULL, 'b' },
	{ "probes", required_argument, NULL, 'p' },
	{ "cid", required_argument, NULL, OPT_CID },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "pid", required_argument, NULL, OPT_PID },
	{ "duration", required_argument, NULL, 'd' },
	{ "system", required_argument, NULL, OPT_SYSTEM },
	{ "buffer-kb", required_argument, NULL, OPT_BUFFER },
	{ "stream", required_argument, NULL, OPT_STREAM },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "all-virtqueues", no_argument, NULL, OPT_ALL_VQ },
	{ "speed", required_argument, NULL, OPT_SPEED },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* where records go: the output file and the stream, each in full */
struct sink {
	const char *name;
	int fd;
	FILE *f;			/* text */
	struct vs_capture_writer *cw;	/* capture */
	int err;
	uint64_t dropped;		/* events the sink could not take */
};

struct out {
	struct sink sink[2];
	unsigned int nsinks;
	bool text;
	uint64_t per_kind[VS_EV__MAX];
	uint64_t events;
	uint64_t lost_written;		/* kernel losses already recorded */
};

static int sink_open(struct sink *k, int fd, const char *name, bool text,
		     const struct vs_capture_info *info)
{
	char hdr[512];

	k->name = name;
	k->fd = fd;
	if (text) {
		k->f = fdopen(fd, "w");
		if (!k->f)
			return -errno;
		if (vs_text_header(hdr, sizeof(hdr), 1) > 0)
			fputs(hdr, k->f);
		return 0;
	}
	k->cw = vs_capture_writer_new(fd, info);
	return k->cw ? 0 : -errno;
}

static void sink_event(struct sink *k, const struct vs_event *ev,
		       const char *line, int n)
{
	int r;

	if (k->err)
		return;
	if (k->f) {
		if (n > 0 && fwrite(line, 1, (size_t)n, k->f) != (size_t)n)
			k->err = errno ? errno : EIO;
		return;
	}
	r = vs_capture_write_event(k->cw, ev);
	if (r == -ENOSPC || r == -EAGAIN)
		k->dropped++; /* recorded as lost by the writer */
	else if (r)
		k->err = -r;
}

static void sink_lost(struct sink *k, uint64_t count, uint64_t ts)
{
	struct vs_capture_lost l = { .cpu = -1, .reason = VS_LOST_KERNEL,
				     .count = count, .ts_ns = ts };
	char line[64];
	int n;

	if (k->err || !count)
		return;
	if (k->cw) {
		vs_capture_write_lost(k->cw, &l);
		return;
	}
	n = snprintf(line, sizeof(line), "CPU:0 [LOST %" PRIu64 " EVENTS]\n",
		     count);
	if (fwrite(line, 1, (size_t)n, k->f) != (size_t)n)
		k->err = errno ? errno : EIO;
}

static void sink_flush(struct sink *k)
{
	int r;

	if (k->err)
		return;
	r = k->f ? (fflush(k->f) ? -errno : 0) : vs_capture_flush(k->cw);
	if (r && r != -ENOSPC && r != -EAGAIN)
		k->err = -r;
}

/* flush and close; the error that stopped it, or 0 */
static int sink_close(struct sink *k)
{
	int r = 0;

	if (k->f) {
		if (fflush(k->f) && !k->err)
			k->err = errno;
		if (k->fd != STDOUT_FILENO)
			fclose(k->f);
	} else if (k->cw) {
		r = vs_capture_writer_close(k->cw);
		if (r && !k->err)
			k->err = -r;
		if (k->fd != STDOUT_FILENO)
			close(k->fd);
	}
	return k->err;
}

static void on_event(void *ctx, const struct vs_event *ev)
{
	struct out *o = ctx;
	char line[512];
	int n = 0;

	if (ev->kind < VS_EV__MAX)
		o->per_kind[ev->kind]++;
	o->events++;
	if (o->text)
		n = vs_text_format(ev, line, sizeof(line));
	for (unsigned int i = 0; i < o->nsinks; i++)
		sink_event(&o->sink[i], ev, line, n);
}

/*
 * a stream: "-" standard output; tcp:HOST:PORT, vsock:CID:PORT to connect
 * to; listen:tcp:[HOST:]PORT, listen:vsock:PORT to wait for one reader
 * (vsocktop --remote, through adb forward)
 */
static int open_stream(const char *spec, int *fd, char *err, size_t errlen)
{
	bool passive = !strncmp(spec, "listen:", 7);
	int lfd, r;

	if (!strcmp(spec, "-")) {
		*fd = dup(STDOUT_FILENO);
		return *fd < 0 ? -errno : 0;
	}
	if (!passive)
		return vs_sock_open(spec, false, fd, err, errlen);
	r = vs_sock_open(spec + 7, true, &lfd, err, errlen);
	if (r)
		return r;
	fprintf(stderr, "%s: waiting for a reader on %s\n", prog, spec + 7);
	do
		*fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (*fd < 0 && errno == EINTR && !stop);
	r = *fd < 0 ? -errno : 0;
	if (r)
		snprintf(err, errlen, "cannot accept on %s: %s", spec + 7,
			 strerror(-r));
	close(lfd);
	return r;
}

static void summary(const struct vs_backend *be, const struct out *o,
		    uint64_t lost)
{
	const struct vs_probe_status *st;
	unsigned int n;

	fprintf(stderr, "%s: %s backend, %" PRIu64 " events", prog, be->name,
		o->events);
	for (unsigned int k = 1; k < VS_EV__MAX; k++)
		if (o->per_kind[k])
			fprintf(stderr, ", %s %" PRIu64, vs_kind_name(k),
				o->per_kind[k]);
	fprintf(stderr, "; %" PRIu64 " lost\n", lost);
	st = be->status(be->h, &n);
	for (unsigned int i = 0; i < n; i++)
		if (!st[i].method[0])
			fprintf(stderr, "%s: refused: %s %s: %s\n", prog,
				st[i].family, st[i].hook, st[i].why);
}

static void record_lost(struct out *o, uint64_t total)
{
	if (total <= o->lost_written)
		return;
	for (unsigned int i = 0; i < o->nsinks; i++)
		sink_lost(&o->sink[i], total - o->lost_written, mono_ns());
	o->lost_written = total;
}

/* the capture header: who, where, how */
static void fill_info(struct vs_capture_info *in, const struct vs_backend *be,
		      const struct vs_backend_opts *bo, const char *sysname)
{
	const struct vs_probe_status *st;
	struct utsname u;
	struct timespec ts;
	size_t la = 0, lr = 0;
	unsigned int n;

	memset(in, 0, sizeof(*in));
	snprintf(in->system, sizeof(in->system), "%s", sysname);
	if (!uname(&u)) {
		snprintf(in->kernel, sizeof(in->kernel), "%.127s", u.release);
		snprintf(in->arch, sizeof(in->arch), "%.31s", u.machine);
	}
	in->cid = -1;
	if (bo->probes & VS_PROBE_VSOCK) {
		/* the local CID, when this system has vsock at all */
		int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);
		unsigned int cid;

		if (fd >= 0) {
			if (!ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid))
				in->cid = cid;
			close(fd);
		}
	}
	snprintf(in->clock, sizeof(in->clock), "%s", be->clock);
	snprintf(in->backend, sizeof(in->backend), "%s", be->name);
	snprintf(in->writer, sizeof(in->writer), "vsock-trace %s", VS_VERSION);
	st = be->status(be->h, &n);
	for (unsigned int i = 0; i < n; i++) {
		char *buf = st[i].method[0] ? in->probes_attached
					    : in->probes_refused;
		size_t *l = st[i].method[0] ? &la : &lr;
		size_t size = sizeof(in->probes_attached);
		int k;

		if (*l >= size)
			continue;
		k = st[i].method[0]
			    ? snprintf(buf + *l, size - *l, "%s%s:%s:%s",
				       *l ? "," : "", st[i].family, st[i].hook,
				       st[i].method)
			    : snprintf(buf + *l, size - *l, "%s%s:%s: %s",
				       *l ? "; " : "", st[i].family, st[i].hook,
				       st[i].why);
		if (k > 0)
			*l += (size_t)k;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	in->start_realtime_ns =
		(uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	in->start_ts_ns = mono_ns();
}

/* the output file (or standard output) and the stream, if any */
static int open_sinks(struct out *o, const char *output, const char *stream,
		      const struct vs_capture_info *info)
{
	char err[512];
	int fd;

	if (!output && stream && !strcmp(stream, "-"))
		output = "/dev/null"; /* the records go to the stream only */
	fd = output ? open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			   0644)
		    : STDOUT_FILENO;
	if (fd < 0 || sink_open(&o->sink[0], fd,
				output ? output : "standard output", o->text,
				info)) {
		error("failed to create %s: %s",
		      output ? output : "the output", strerror(errno));
		return -1;
	}
	o->nsinks = 1;
	if (stream) {
		if (open_stream(stream, &fd, err, sizeof(err))) {
			error("failed to open the stream: %s", err);
			return -1;
		}
		if (sink_open(&o->sink[1], fd, stream, o->text, info)) {
			error("failed to open the stream: %s", strerror(errno));
			return -1;
		}
		o->nsinks = 2;
	}
	return 0;
}

static int close_sinks(struct out *o)
{
	int ret = 0;

	for (unsigned int i = 0; i < o->nsinks; i++) {
		struct sink *k = &o->sink[i];

		if (sink_close(k)) {
			error("failed to write %s: %s", k->name,
			      strerror(k->err));
			ret = 2;
		} else if (k->dropped) {
			error("%s: %" PRIu64 " events could not be written "
			      "(recorded as lost)",
			      k->name, k->dropped);
		}
	}
	return ret;
}

/* --from: a saved trace or capture, written in the format asked for */
/*
 * --speed: hold an event of time @ts back until its time has come, @speed
 * times faster than the trace's own clock from @t0 (the first event) at
 * wall time @w0; what was written goes out first, whole records as live
 */
static void pace(struct out *o, uint64_t t0, uint64_t w0, uint64_t ts,
		 double speed)
{
	uint64_t due, now;
	struct timespec d;

	if (ts <= t0)
		return;
	due = w0 + (uint64_t)((double)(ts - t0) / speed);
	now = mono_ns();
	if (due <= now + 1000000) /* within a millisecond: on time */
		return;
	for (unsigned int i = 0; i < o->nsinks; i++)
		sink_flush(&o->sink[i]);
	d.tv_sec = (time_t)((due - now) / 1000000000ull);
	d.tv_nsec = (long)((due - now) % 1000000000ull);
	nanosleep(&d, NULL); /* a signal ends it early: stop is checked */
}

static int convert(const char *from, const char *output, const char *stream,
		   struct out *o, const char *sysname, bool quiet,
		   double speed)
{
	uint64_t t0 = 0, w0 = 0;
	struct vs_capture_info info;
	struct vs_source *src = vs_source_open(from);
	const struct vs_source_stats *st;
	struct vs_event *ev;
	int r = 0;

	if (!src) {
		error("failed to open %s: %s", from, strerror(errno));
		return 2;
	}
	memset(&info, 0, sizeof(info));
	snprintf(info.system, sizeof(info.system), "%s", sysname);
	snprintf(info.backend, sizeof(info.backend), "convert");
	snprintf(info.clock, sizeof(info.clock), "as in %s", from);
	snprintf(info.writer, sizeof(info.writer), "vsock-trace %s",
		 VS_VERSION);
	info.cid = -1;
	if (open_sinks(o, output, stream, &info)) {
		vs_source_close(src);
		return 2;
	}
	while (!stop && (r = vs_source_next_ref(src, &ev)) > 0) {
		if (speed > 0 && (ev->present & VS_HAS_TS)) {
			if (!w0) {
				t0 = ev->ts_ns;
				w0 = mono_ns();
			}
			pace(o, t0, w0, ev->ts_ns, speed);
			if (stop)
				break;
		}
		on_event(o, ev);
	}
	st = vs_source_stats(src);
	record_lost(o, st->lost);
	if (r < 0)
		error("failed to read %s: %s", from, vs_capture_strerror(r));
	if (!quiet)
		fprintf(stderr, "%s: %s: %" PRIu64 " events, %" PRIu64
				" lines skipped, %" PRIu64 " lost\n",
			prog, from, o->events, st->skipped, st->lost);
	vs_source_close(src);
	return close_sinks(o) ? 2 : r < 0 ? 2 : 0;
}

int main(int argc, char **argv)
{
	struct vs_backend_opts bo = { .probes = VS_PROBE_ALL };
	const char *output = NULL, *backend = "auto", *sysname = NULL;
	const char *stream = NULL, *from = NULL;
	struct vs_capture_info info;
	uint64_t lost;
	struct sigaction sa = { .sa_handler = on_signal };
	struct out out = { 0 };
	struct vs_backend be;
	unsigned long long v;
	uint64_t dur_ns = 0, t0;
	char err[512], host[64];
	bool quiet = false;
	double speed = 0;
	int c, ret;

	while ((c = getopt_long(argc, argv, "o:b:p:d:qhV", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			/* "-": standard output, as without -o */
			output = strcmp(optarg, "-") ? optarg : NULL;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "text"))
				out.text = true;
			else if (strcmp(optarg, "capture")) {
				error("invalid --format %s (want capture or "
				      "text)",
				      optarg);
				return 2;
			}
			break;
		case 'b':
			if (strcmp(optarg, "auto") && strcmp(optarg, "bpf") &&
			    strcmp(optarg, "tracefs")) {
				error("invalid --backend %s (want auto, bpf or "
				      "tracefs)",
				      optarg);
				return 2;
			}
			backend = optarg;
			break;
		case 'p':
			if (vs_probes_parse(optarg, &bo.probes, err,
					    sizeof(err))) {
				error("invalid --probes: %s", err);
				return 2;
			}
			break;
		case OPT_CID:
			if (unum(optarg, 0, UINT32_MAX, &v)) {
				error("invalid --cid %s", optarg);
				return 2;
			}
			bo.has_cid = true;
			bo.cid = v;
			break;
		case OPT_PORT:
			if (unum(optarg, 0, UINT32_MAX, &v)) {
				error("invalid --port %s", optarg);
				return 2;
			}
			bo.has_port = true;
			bo.port = (uint32_t)v;
			break;
		case OPT_PID:
			if (unum(optarg, 0, INT32_MAX, &v)) {
				error("invalid --pid %s", optarg);
				return 2;
			}
			bo.has_pid = true;
			bo.pid = (int32_t)v;
			break;
		case 'd': {
			char *end;
			double d = strtod(optarg, &end);

			if (*end || end == optarg || !(d > 0) || d > 1e6) {
				error("invalid --duration %s", optarg);
				return 2;
			}
			dur_ns = (uint64_t)(d * 1e9);
			break;
		}
		case OPT_SYSTEM:
			sysname = optarg;
			break;
		case OPT_BUFFER:
			if (unum(optarg, 0, 1u << 20, &v) || v < 64) {
				error("invalid --buffer-kb %s (64 to 1048576)",
				      optarg);
				return 2;
			}
			bo.buffer_kb = (unsigned int)v;
			break;
		case OPT_STREAM:
			stream = optarg;
			break;
		case OPT_FROM:
			from = optarg;
			break;
		case OPT_SPEED:
			if (fnum(optarg, 0, 1e9, &speed) || !(speed > 0))
				return bad("--speed", optarg);
			break;
		case OPT_ALL_VQ:
			bo.vq_all = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vsock-trace (vsockscope) %s\n", VS_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'vsock-trace --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		error("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	if (!sysname) {
		if (gethostname(host, sizeof(host)))
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		sysname = host;
	}
	/* from here a signal stops cleanly (a stream waiting for its
	 * reader too) */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (speed > 0 && !from) {
		error("invalid --speed: it paces --from only");
		return 2;
	}
	if (from)
		return convert(from, output, stream, &out, sysname, quiet,
			       speed);
	ret = vs_backend_open(backend, &bo, &be, err, sizeof(err));
	if (ret) {
		error("failed to start capturing: %s", err);
		return ret == -ENOENT || ret == -EOPNOTSUPP ? 1 : 2;
	}
	fill_info(&info, &be, &bo, sysname);
	if (open_sinks(&out, output, stream, &info)) {
		be.close(be.h);
		return 2;
	}
	if (!quiet) {
		if (be.fallback[0])
			fprintf(stderr, "%s: not BPF: %s\n", prog, be.fallback);
		fprintf(stderr, "%s: %s backend, clock %s, capturing%s\n", prog,
			be.name, be.clock, dur_ns ? "" : " until interrupted");
	}
	t0 = mono_ns();
	while (!stop && !out.sink[0].err) {
		int wait_ms = 100;

		if (dur_ns) {
			uint64_t now = mono_ns();

			if (now - t0 >= dur_ns)
				break;
			if (dur_ns - (now - t0) < 100000000ull)
				wait_ms = (int)((dur_ns - (now - t0)) / 1000000);
		}
		ret = be.poll(be.h, wait_ms, on_event, &out);
		if (ret < 0 && ret != -EINTR) {
			error("failed to read the %s buffers", be.name);
			break;
		}
		record_lost(&out, be.lost(be.h));
		/* whole records out at least every 100 ms: a capture killed
		 * now is readable up to here */
		for (unsigned int i = 0; i < out.nsinks; i++)
			sink_flush(&out.sink[i]);
		if (out.nsinks == 2 && out.sink[1].err) {
			error("failed to write to the stream %s: %s (the file "
			      "goes on)",
			      stream, strerror(out.sink[1].err));
			sink_close(&out.sink[1]);
			out.nsinks = 1;
		}
	}
	if (be.stop(be.h, on_event, &out) < 0)
		error("failed to read the %s buffers", be.name);
	lost = be.lost(be.h);
	record_lost(&out, lost);
	if (!quiet)
		summary(&be, &out, lost);
	be.close(be.h);
	return close_sinks(&out);
}
