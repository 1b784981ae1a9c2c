// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live capture through a private tracefs instance. Each record read raw is
 * printed by libtraceevent in the layout of `cat trace` and parsed by
 * source_text.c, so a live capture and a saved `cat trace` give the same
 * events.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tracefs/tracefs.h>
#include <traceevent/event-parse.h>
#include <traceevent/trace-seq.h>
#include "source_text.h"
#include "source_tracefs.h"

#define MAX_STATUS 12
#define MAX_CPUS 1024

struct vs_tracefs {
	struct tracefs_instance *inst;
	struct tep_handle *tep;
	struct vs_probe_status st[MAX_STATUS];
	unsigned int nst;
	char clock[32];
	struct trace_seq seq;
	void (*cb)(void *ctx, const struct vs_event *ev);
	void *ctx;
	int delivered;
	uint64_t lost;
	int ncpus;
	uint64_t cmdlines_at; /* events when the comms were last loaded */
	uint64_t events;
};

/* one tracepoint of a family */
struct tp {
	unsigned int family;
	const char *system, *event;
	const char *filter; /* NULL, or a fixed filter; cid/port added */
};

static const struct tp tps[] = {
	{ VS_PROBE_VSOCK, "vsock", "virtio_transport_alloc_pkt", NULL },
	{ VS_PROBE_VSOCK, "vsock", "virtio_transport_recv_pkt", NULL },
	{ VS_PROBE_IRQ, "irq", "irq_handler_entry", NULL },
	{ VS_PROBE_IRQ, "irq", "irq_handler_exit", NULL },
	/* failures only: a NULL pointer, a page that is not (pfn -1) */
	{ VS_PROBE_ALLOC, "kmem", "kmalloc", "ptr == 0" },
	{ VS_PROBE_ALLOC, "kmem", "mm_page_alloc",
	  "pfn == 0xffffffffffffffff" },
};

static struct vs_probe_status *status(struct vs_tracefs *t,
				      unsigned int family, const char *hook)
{
	struct vs_probe_status *s;

	if (t->nst == MAX_STATUS)
		return NULL;
	s = &t->st[t->nst++];
	memset(s, 0, sizeof(*s));
	snprintf(s->family, sizeof(s->family), "%s", vs_probe_name(family));
	snprintf(s->hook, sizeof(s->hook), "%s", hook);
	return s;
}

static void refuse(struct vs_tracefs *t, unsigned int family,
		   const char *hook, int err, const char *why)
{
	struct vs_probe_status *s = status(t, family, hook);

	if (!s)
		return;
	s->err = err;
	snprintf(s->why, sizeof(s->why), "%s", why);
}

/* the filter of a vsock event: the CID and port asked for */
static void vsock_filter(const struct vs_tracefs_opts *o, char *buf,
			 size_t size)
{
	int n = 0;

	buf[0] = '\0';
	if (o->has_cid)
		n = snprintf(buf, size, "(src_cid == %" PRIu64
					" || dst_cid == %" PRIu64 ")",
			     o->cid, o->cid);
	if (o->has_port && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n,
			 "%s(src_port == %u || dst_port == %u)",
			 n ? " && " : "", o->port, o->port);
}

static int enable(struct vs_tracefs *t, const struct vs_tracefs_opts *o,
		  const struct tp *p)
{
	struct vs_probe_status *s;
	char filter[160];
	int err;

	if (!tracefs_event_file_exists(t->inst, p->system, p->event,
				       "enable")) {
		refuse(t, p->family, p->event, -ENOENT,
		       p->family == VS_PROBE_VSOCK
			       ? "no such tracepoint (vsock transport module "
				 "not loaded?)"
			       : "no such tracepoint on this kernel");
		return -ENOENT;
	}
	if (p->family == VS_PROBE_VSOCK)
		vsock_filter(o, filter, sizeof(filter));
	else
		snprintf(filter, sizeof(filter), "%s",
			 p->filter ? p->filter : "");
	/* the kernel's own filter syntax, written as it is */
	if (filter[0] && tracefs_event_file_write(t->inst, p->system, p->event,
						  "filter", filter) < 0) {
		refuse(t, p->family, p->event, -EINVAL,
		       "the kernel refused the filter");
		return -EINVAL;
	}
	if (tracefs_event_enable(t->inst, p->system, p->event)) {
		err = errno ? -errno : -EIO;
		refuse(t, p->family, p->event, err, strerror(-err));
		return err;
	}
	s = status(t, p->family, p->event);
	if (s)
		snprintf(s->method, sizeof(s->method), "tracefs");
	return 0;
}

/* the clock in brackets in "trace_clock" */
static void read_clock(struct vs_tracefs *t)
{
	char *c = tracefs_get_clock(t->inst);

	snprintf(t->clock, sizeof(t->clock), "%s", c ? c : "local");
	free(c);
}

/* instances of earlier runs that were killed (SIGKILL leaves them) */
static void remove_stale(const char *dir)
{
	char path[4096];
	struct dirent *d;
	DIR *dp;

	snprintf(path, sizeof(path), "%s/instances", dir);
	dp = opendir(path);
	if (!dp)
		return;
	while ((d = readdir(dp))) {
		int pid;
		char c;

		if (sscanf(d->d_name, "vsockscope-%d%c", &pid, &c) != 1 ||
		    pid <= 0 || !kill(pid, 0) || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/instances/%s", dir,
			 d->d_name);
		rmdir(path);
	}
	closedir(dp);
}

int vs_tracefs_open(const struct vs_tracefs_opts *o, struct vs_tracefs **out,
		    char *err, size_t errlen)
{
	const char *systems[4];
	const char *dir = NULL;
	char name[64], kb[32];
	unsigned int nsys = 0, ok = 0;
	struct vs_tracefs *t;

	*out = NULL;
	if (geteuid() != 0) {
		snprintf(err, errlen, "tracefs capture needs root");
		return -EPERM;
	}
	/* not mounted: mounted at /sys/kernel/tracing, as trace-cmd does */
	if (tracefs_tracing_dir_is_mounted(true, &dir) < 0 || !dir) {
		snprintf(err, errlen,
			 "tracefs is not mounted and could not be (mount -t "
			 "tracefs nodev /sys/kernel/tracing)");
		return -ENOENT;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	remove_stale(dir);
	if (o->probes & VS_PROBE_VSOCK)
		systems[nsys++] = "vsock";
	if (o->probes & VS_PROBE_IRQ)
		systems[nsys++] = "irq";
	if (o->probes & VS_PROBE_ALLOC)
		systems[nsys++] = "kmem";
	systems[nsys] = NULL;
	snprintf(name, sizeof(name), "vsockscope-%d", (int)getpid());
	t->inst = tracefs_instance_create(name);
	if (!t->inst) {
		snprintf(err, errlen, "cannot create tracefs instance %s: %s",
			 name, strerror(errno));
		free(t);
		return -EIO;
	}
	t->tep = tracefs_local_events_system(NULL, systems);
	if (!t->tep) {
		snprintf(err, errlen, "cannot read the event formats");
		vs_tracefs_close(t);
		return -EIO;
	}
	trace_seq_init(&t->seq);
	tracefs_trace_off(t->inst);
	snprintf(kb, sizeof(kb), "%u", o->buffer_kb ? o->buffer_kb : 4096);
	tracefs_instance_file_write(t->inst, "buffer_size_kb", kb);
	for (size_t i = 0; i < sizeof(tps) / sizeof(tps[0]); i++)
		if (o->probes & tps[i].family && !enable(t, o, &tps[i]))
			ok++;
	if (o->probes & VS_PROBE_VRING)
		refuse(t, VS_PROBE_VRING, "vring_interrupt", -ENOENT,
		       "no tracepoint: virtqueues have functions only (use "
		       "--backend bpf)");
	if (o->probes & VS_PROBE_MBOX)
		refuse(t, VS_PROBE_MBOX, "mbox_send_message", -ENOENT,
		       "no tracepoint: mailboxes have functions only (use "
		       "--backend bpf)");
	if (!ok) {
		snprintf(err, errlen, "no tracepoint could be enabled");
		*out = t; /* the status says why */
		return -ENOENT;
	}
	t->ncpus = (int)sysconf(_SC_NPROCESSORS_CONF);
	read_clock(t);
	if (tracefs_trace_on(t->inst)) {
		snprintf(err, errlen, "cannot start tracing: %s",
			 strerror(errno));
		*out = t;
		return -EIO;
	}
	*out = t;
	return 0;
}

const struct vs_probe_status *vs_tracefs_status(const struct vs_tracefs *t,
						unsigned int *n)
{
	*n = t->nst;
	return t->st;
}

const char *vs_tracefs_clock(const struct vs_tracefs *t)
{
	return t->clock;
}

static int on_record(struct tep_event *event, struct tep_record *rec,
		     int cpu, void *ctx)
{
	struct vs_tracefs *t = ctx;
	struct vs_event ev;
	uint64_t lost;

	(void)cpu;
	(void)event;
	trace_seq_reset(&t->seq);
	tep_print_event(t->tep, &t->seq, rec, "%16s-%-7d [%03d] %s %6.1000d: %s: %s",
			TEP_PRINT_COMM, TEP_PRINT_PID, TEP_PRINT_CPU,
			TEP_PRINT_LATENCY, TEP_PRINT_TIME, TEP_PRINT_NAME,
			TEP_PRINT_INFO);
	trace_seq_terminate(&t->seq);
	if (vs_text_parse_line(t->seq.buffer, t->seq.len, &ev, &lost) ==
		    VS_LINE_EVENT &&
	    t->cb) {
		t->cb(t->ctx, &ev);
		t->delivered++;
	}
	t->events++;
	return 0;
}

/* the kernel's own count of what it dropped, from per_cpu/cpuN/stats */
static void read_lost(struct vs_tracefs *t)
{
	uint64_t sum = 0;

	for (int c = 0; c < t->ncpus && c < MAX_CPUS; c++) {
		char path[64], *s, *p;

		snprintf(path, sizeof(path), "per_cpu/cpu%d/stats", c);
		s = tracefs_instance_file_read(t->inst, path, NULL);
		if (!s)
			continue;
		if ((p = strstr(s, "overrun:")))
			sum += strtoull(p + 8, NULL, 10);
		if ((p = strstr(s, "dropped events:")))
			sum += strtoull(p + 15, NULL, 10);
		free(s);
	}
	t->lost = sum;
}

static int drain(struct vs_tracefs *t,
		 void (*cb)(void *ctx, const struct vs_event *ev), void *ctx)
{
	t->cb = cb;
	t->ctx = ctx;
	t->delivered = 0;
	/* the names of tasks seen since: comms instead of "<...>" */
	tracefs_load_cmdlines(NULL, t->tep);
	if (tracefs_iterate_raw_events(t->tep, t->inst, NULL, 0, on_record,
				       t) < 0)
		return -EIO;
	return t->delivered;
}

int vs_tracefs_poll(struct vs_tracefs *t, int timeout_ms,
		    void (*cb)(void *ctx, const struct vs_event *ev),
		    void *ctx)
{
	if (timeout_ms > 0)
		usleep((useconds_t)timeout_ms * 1000);
	return drain(t, cb, ctx);
}

uint64_t vs_tracefs_lost(struct vs_tracefs *t)
{
	read_lost(t);
	return t->lost;
}

int vs_tracefs_stop(struct vs_tracefs *t,
		    void (*cb)(void *ctx, const struct vs_event *ev),
		    void *ctx)
{
	tracefs_trace_off(t->inst);
	return drain(t, cb, ctx);
}

void vs_tracefs_close(struct vs_tracefs *t)
{
	if (!t)
		return;
	if (t->inst) {
		tracefs_trace_off(t->inst);
		tracefs_instance_destroy(t->inst);
		tracefs_instance_free(t->inst);
	}
	if (t->tep) {
		trace_seq_destroy(&t->seq);
		tep_free(t->tep);
	}
	free(t);
}
