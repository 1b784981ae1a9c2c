/* SPDX-License-Identifier: GPL-2.0-only */
/* vsock-refdev: the reference transport's modes. */
#ifndef VS_REFDEV_H
#define VS_REFDEV_H

#include <stdbool.h>
#include <stdint.h>
#include "../common.h"
#include "fault.h"

#define SIM_MAX_FAULTS 16
#define SIM_MAX_FLOWS 256

enum sim_workload { WL_BULK, WL_RR, WL_MANY, WL_MIX };

struct sim_opts {
	enum sim_workload workload;
	unsigned int flows;
	uint64_t duration_ns;
	uint64_t seed;
	int64_t clock_offset_ns; /* b's clock against a's */
	double clock_drift_ppm;	 /* b's clock against a's */
	struct vs_fault faults[SIM_MAX_FAULTS];
	unsigned int nfaults;
	const char *out_dir;
	unsigned int queue_size;  /* rx and tx rings */
	unsigned int rx_buf_size; /* payload bytes per receive buffer */
	bool event_idx;
	int split_hdr;		  /* 0 never, 1 always, 2 at random */
	uint64_t stall_ns;	  /* for the truth: what counts as a stall */
	uint64_t timeout_ns;	  /* for the truth: what counts as unanswered */
	unsigned int write_size;  /* bulk writes: fixed size, 0 = any */
	bool copy;		  /* bulk data through vs_sock_write/read */
	bool quiet;
};

/* returns the exit status: 0 ok, 1 the data check failed, 2 error */
int sim_run(const struct sim_opts *o);

/* vsock-refdev serve ...: argv[1] is "serve"; returns the exit status */
int serve_main(int argc, char **argv);

#endif /* VS_REFDEV_H */
