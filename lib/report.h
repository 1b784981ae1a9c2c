/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The report: systems, flows and findings, as text for people or as JSON
 * for programs. Each field is written once, through one writer that knows
 * both forms, so the two cannot disagree.
 */
#ifndef VS_REPORT_H
#define VS_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "engine.h"
#include "source.h"

enum vs_report_mode {
	VS_REPORT_TEXT,
	VS_REPORT_JSON,
	VS_REPORT_JSON_PRETTY,
};

struct vs_report_opts {
	enum vs_report_mode mode;
	bool quiet; /* text: findings only, one line each */
	bool verbose;
};

/* what the sources said about each system's input */
struct vs_report_input {
	const char *path;
	struct vs_source_stats st;
};

int vs_report_write(FILE *out, const struct vs_engine *e,
		    const struct vs_report_input *in,
		    const struct vs_report_opts *o);

/*
 * vs_report_finding_line - one finding as the line `vsock-report -q`
 * prints for it (ending in a newline)
 */
int vs_report_finding_line(FILE *out, const struct vs_engine *e,
			   const struct vs_finding *f);

#endif /* VS_REPORT_H */
