// SPDX-License-Identifier: GPL-2.0-only
/* Fault specifications: parsing and deciding. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fault.h"

static const char *const names[VS_FAULT__MAX] = {
	[VS_FAULT_DROP_KICK] = "drop-kick",
	[VS_FAULT_DROP_IRQ] = "drop-irq",
	[VS_FAULT_WITHHOLD_CREDIT] = "withhold-credit",
	[VS_FAULT_FAIL_ALLOC] = "fail-alloc",
	[VS_FAULT_DROP_PACKET] = "drop-packet",
	[VS_FAULT_STOP_RX_REFILL] = "stop-rx-refill",
};

const char *vs_fault_name(enum vs_fault_kind k)
{
	return k < VS_FAULT__MAX ? names[k] : "unknown";
}

int vs_parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	double v, mul = 1;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	if (!strcmp(end, "s"))
		mul = 1e9;
	else if (!strcmp(end, "ms"))
		mul = 1e6;
	else if (!strcmp(end, "us"))
		mul = 1e3;
	else if (*end && strcmp(end, "ns"))
		return -1;
	if (v * mul > 1e18)
		return -1;
	*ns = (uint64_t)(v * mul + 0.5);
	return 0;
}

static int parse_tuple(const char *s, struct vs_tuple *t)
{
	unsigned long long sc, dc;
	unsigned int sp, dp;
	int n = 0;

	if (sscanf(s, "%llu:%u->%llu:%u%n", &sc, &sp, &dc, &dp, &n) != 4 ||
	    s[n])
		return -1;
	t->src_cid = sc;
	t->src_port = sp;
	t->dst_cid = dc;
	t->dst_port = dp;
	return 0;
}

#define FAIL(...)                                   \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		goto bad;                           \
	} while (0)

int vs_fault_parse(const char *s, struct vs_fault *f, char *err,
		   unsigned int errlen)
{
	char buf[256], *kv, *save = NULL, *colon;
	unsigned int k;

	memset(f, 0, sizeof(*f));
	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "fault spec too long");
		return -EINVAL;
	}
	strcpy(buf, s);
	colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	for (k = 0; k < VS_FAULT__MAX; k++)
		if (!strcmp(buf, names[k]))
			break;
	if (k == VS_FAULT__MAX)
		FAIL("unknown fault '%s' (want drop-kick, drop-irq, "
		     "withhold-credit, fail-alloc, drop-packet, "
		     "stop-rx-refill)",
		     buf);
	f->kind = (enum vs_fault_kind)k;
	/* where each acts by default: kicks, refills and allocations in the
	 * driver; calls, credit (bulk readers) and the wire in the device */
	f->system = k == VS_FAULT_DROP_IRQ || k == VS_FAULT_WITHHOLD_CREDIT ||
				    k == VS_FAULT_DROP_PACKET
			    ? 'b'
			    : 'a';
	f->for_ns = 500000000ull;
	/* calls that matter are on the receive queue; kicks on transmit */
	f->what_rx = k == VS_FAULT_DROP_IRQ;
	for (kv = colon ? strtok_r(colon + 1, ",", &save) : NULL; kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		const char *v;

		if (!eq)
			FAIL("'%s' in %s: want key=value", kv, names[k]);
		*eq = '\0';
		v = eq + 1;
		if (!strcmp(kv, "at")) {
			if (vs_parse_duration(v, &f->at_ns))
				FAIL("bad at=%s", v);
			f->has_at = true;
		} else if (!strcmp(kv, "for")) {
			if (vs_parse_duration(v, &f->for_ns) || !f->for_ns)
				FAIL("bad for=%s", v);
		} else if (!strcmp(kv, "prob")) {
			char *end;

			f->prob = strtod(v, &end);
			if (*end || f->prob <= 0 || f->prob > 1)
				FAIL("bad prob=%s (want 0 < p <= 1)", v);
		} else if (!strcmp(kv, "count")) {
			char *end;
			unsigned long c = strtoul(v, &end, 10);

			if (*end || !c || c > 1000000)
				FAIL("bad count=%s", v);
			f->count = (uint32_t)c;
		} else if (!strcmp(kv, "flow")) {
			if (parse_tuple(v, &f->flow))
				FAIL("bad flow=%s (want CID:PORT->CID:PORT)",
				     v);
			f->has_flow = true;
		} else if (!strcmp(kv, "port")) {
			char *end;
			unsigned long p = strtoul(v, &end, 10);

			if (*end || p > UINT32_MAX)
				FAIL("bad port=%s", v);
			f->port = (uint32_t)p;
			f->has_port = true;
		} else if (!strcmp(kv, "system")) {
			if (strcmp(v, "a") && strcmp(v, "b"))
				FAIL("bad system=%s (want a or b)", v);
			f->system = v[0];
		} else if (!strcmp(kv, "what")) {
			if (strcmp(v, "rx") && strcmp(v, "tx"))
				FAIL("bad what=%s (want rx or tx)", v);
			f->what_rx = !strcmp(v, "rx");
		} else {
			FAIL("unknown key '%s' in %s", kv, names[k]);
		}
	}
	if (!f->has_at && f->prob == 0) {
		f->has_at = true;
		f->at_ns = 200000000ull;
	}
	if (f->has_at && !f->count)
		f->count = 1;
	return 0;
bad:
	return -EINVAL;
}

bool vs_fault_matches_flow(const struct vs_fault *f, const struct vs_tuple *t)
{
	if (f->has_flow) {
		struct vs_tuple r;

		if (!t)
			return false;
		r = vs_tuple_reverse(f->flow);
		return vs_tuple_eq(&f->flow, t) || vs_tuple_eq(&r, t);
	}
	if (f->has_port)
		return t && (t->src_port == f->port || t->dst_port == f->port);
	return true;
}

bool vs_fault_active(const struct vs_fault *f, uint64_t now)
{
	uint64_t at = f->has_at ? f->at_ns : 0;

	return now >= at && now < at + f->for_ns;
}

bool vs_fault_hit(struct vs_fault *f, uint64_t now, const struct vs_tuple *flow,
		  double rnd)
{
	if (f->count && f->injected >= f->count)
		return false;
	if (!vs_fault_matches_flow(f, flow))
		return false;
	if (f->prob > 0) {
		if (rnd >= f->prob)
			return false;
	} else if (now < f->at_ns) {
		return false;
	}
	f->injected++;
	return true;
}
