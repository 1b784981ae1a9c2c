// SPDX-License-Identifier: GPL-2.0-only
/* Probe family names. */
#include <stdio.h>
#include <string.h>
#include "probe.h"

static const char *const names[] = { "vsock", "vring", "irq", "mbox",
				     "alloc" };

const char *vs_probe_name(unsigned int bit)
{
	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (bit == 1u << i)
			return names[i];
	return "?";
}

int vs_probes_parse(const char *s, unsigned int *mask, char *err,
		    size_t errlen)
{
	const char *p = s;

	*mask = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		unsigned int i;

		if (n == 3 && !strncmp(p, "all", 3)) {
			*mask |= VS_PROBE_ALL;
		} else {
			for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
				if (strlen(names[i]) == n &&
				    !strncmp(p, names[i], n))
					break;
			if (i == sizeof(names) / sizeof(names[0])) {
				snprintf(err, errlen,
					 "unknown probe family '%.*s' (want "
					 "vsock, vring, irq, mbox, alloc or "
					 "all)",
					 (int)n, p);
				return -1;
			}
			*mask |= 1u << i;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (!*mask) {
		snprintf(err, errlen, "no probe family given");
		return -1;
	}
	return 0;
}
