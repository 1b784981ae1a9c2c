// SPDX-License-Identifier: GPL-2.0-only
/* Names of the event model's values. */
#include <string.h>
#include "event.h"

static const char *const kind_names[VS_EV__MAX] = {
	[VS_EV_NONE] = "none",	       [VS_EV_PKT_TX] = "pkt_tx",
	[VS_EV_PKT_RX] = "pkt_rx",     [VS_EV_VQ_KICK] = "vq_kick",
	[VS_EV_VQ_IRQ] = "vq_irq",     [VS_EV_VQ_ADD] = "vq_add",
	[VS_EV_VQ_GET] = "vq_get",     [VS_EV_IRQ] = "irq",
	[VS_EV_IRQ_EXIT] = "irq_exit", [VS_EV_MBOX_TX] = "mbox_tx",
	[VS_EV_MBOX_RX] = "mbox_rx",   [VS_EV_ALLOC] = "alloc",
	[VS_EV_MARK] = "mark",	       [VS_EV_VQ_CALL] = "vq_call",
};

static const char *const op_names[] = {
	[VS_OP_INVALID] = "INVALID",
	[VS_OP_REQUEST] = "REQUEST",
	[VS_OP_RESPONSE] = "RESPONSE",
	[VS_OP_RST] = "RST",
	[VS_OP_SHUTDOWN] = "SHUTDOWN",
	[VS_OP_RW] = "RW",
	[VS_OP_CREDIT_UPDATE] = "CREDIT_UPDATE",
	[VS_OP_CREDIT_REQUEST] = "CREDIT_REQUEST",
};

static const char *const type_names[] = {
	[VS_TYPE_STREAM] = "STREAM",
	[VS_TYPE_SEQPACKET] = "SEQPACKET",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const char *vs_kind_name(unsigned int kind)
{
	return kind < VS_EV__MAX ? kind_names[kind] : "unknown";
}

const char *vs_op_name(unsigned int op)
{
	return op < ARRAY_SIZE(op_names) ? op_names[op] : NULL;
}

const char *vs_type_name(unsigned int type)
{
	return type < ARRAY_SIZE(type_names) ? type_names[type] : NULL;
}

/* the kernel's __print_symbolic names, matched without a table walk (the
 * parser's hot path) */
int vs_op_from_name(const char *s, unsigned int n)
{
	switch (n) {
	case 2:
		return s[0] == 'R' && s[1] == 'W' ? VS_OP_RW : -1;
	case 3:
		return !memcmp(s, "RST", 3) ? VS_OP_RST : -1;
	case 7:
		return !memcmp(s, "REQUEST", 7)	  ? VS_OP_REQUEST
		       : !memcmp(s, "INVALID", 7) ? VS_OP_INVALID
						  : -1;
	case 8:
		return !memcmp(s, "RESPONSE", 8)   ? VS_OP_RESPONSE
		       : !memcmp(s, "SHUTDOWN", 8) ? VS_OP_SHUTDOWN
						   : -1;
	case 13:
		return !memcmp(s, "CREDIT_UPDATE", 13) ? VS_OP_CREDIT_UPDATE
						       : -1;
	case 14:
		return !memcmp(s, "CREDIT_REQUEST", 14) ? VS_OP_CREDIT_REQUEST
							: -1;
	}
	return -1;
}

int vs_type_from_name(const char *s, unsigned int n)
{
	if (n == 6 && !memcmp(s, "STREAM", 6))
		return VS_TYPE_STREAM;
	if (n == 9 && !memcmp(s, "SEQPACKET", 9))
		return VS_TYPE_SEQPACKET;
	return -1;
}
