/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The flow table: one entry per system, connection and direction, with
 * traffic counters, connection state and the sender's view of credit
 * (VIRTIO "Buffer Space Management"):
 *
 *   peer_free = peer_buf_alloc - (tx_cnt - peer_fwd_cnt)
 */
#ifndef VS_FLOW_H
#define VS_FLOW_H

#include <stdbool.h>
#include <stdint.h>
#include "event.h"

struct vs_tuple {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
};

static inline struct vs_tuple vs_tuple_of(const struct vs_pkt *p)
{
	struct vs_tuple t = { p->src_cid, p->dst_cid, p->src_port,
			      p->dst_port };
	return t;
}

static inline struct vs_tuple vs_tuple_reverse(struct vs_tuple t)
{
	struct vs_tuple r = { t.dst_cid, t.src_cid, t.dst_port, t.src_port };
	return r;
}

static inline bool vs_tuple_eq(const struct vs_tuple *a,
			       const struct vs_tuple *b)
{
	return a->src_cid == b->src_cid && a->dst_cid == b->dst_cid &&
	       a->src_port == b->src_port && a->dst_port == b->dst_port;
}

static inline unsigned int vs_tuple_hash(const struct vs_tuple *t)
{
	uint64_t h = t->src_cid * 0x9e3779b97f4a7c15ull;

	h ^= ((uint64_t)t->src_port << 32 | t->dst_port) +
	     0x7f4a7c159e3779b9ull + (h << 6) + (h >> 2);
	h ^= t->dst_cid * 0xc2b2ae3d27d4eb4full;
	h ^= h >> 29;
	return (unsigned int)(h * 0x94d049bb133111ebull >> 32);
}

/* the CIDs one system owns: it sends from them, receives at them */
#define VS_MAX_OWNED_CIDS 16

struct vs_cidset {
	uint64_t cid[VS_MAX_OWNED_CIDS];
	unsigned int n;
};

static inline bool vs_cidset_has(const struct vs_cidset *s, uint64_t cid)
{
	for (unsigned int i = 0; i < s->n; i++)
		if (s->cid[i] == cid)
			return true;
	return false;
}

static inline void vs_cidset_add(struct vs_cidset *s, uint64_t cid)
{
	if (!vs_cidset_has(s, cid) && s->n < VS_MAX_OWNED_CIDS)
		s->cid[s->n++] = cid;
}

/* "SRC_CID:SRC_PORT->DST_CID:DST_PORT" */
#define VS_TUPLE_STRLEN 64
char *vs_tuple_str(const struct vs_tuple *t, char *buf, unsigned int size);

/* The sender's view of credit for one direction (on the sender's system). */
struct vs_credit {
	bool peer_known;      /* an advertisement was seen */
	bool base_exact;      /* connection start seen: tx_cnt is absolute */
	uint32_t peer_buf_alloc;
	uint32_t peer_fwd_raw; /* last fwd_cnt as printed */
	uint32_t last_len;     /* the last RW payload length sent */
	int64_t peer_fwd;      /* unwrapped fwd_cnt */
	int64_t tx_seen;       /* RW payload bytes seen sent */
	int64_t base;	       /* tx_cnt = base + tx_seen (a lower bound) */
	uint64_t adv_ts;       /* time of the last advertisement */
};

struct vs_stall; /* detect_credit.c */

/*
 * One direction of a connection as one system saw it. Three cache lines
 * (entries start on one): the key and what each packet counts, then the
 * links and times, then credit; a packet touches the first two of its own
 * entry and the credit line of its own or the reverse entry.
 */
struct vs_flow {
	struct vs_tuple t;
	uint16_t system;
	uint16_t type;	    /* STREAM/SEQPACKET, 0 until seen */
	uint32_t ops_tx;    /* bit (1 << op) for ops this system sent */
	uint32_t ops_rx;    /* ... and received, in this direction */
	uint32_t index;	    /* place in the table: vs_flow_at() */
	uint64_t tx_bytes;  /* RW payload, packets allocated (sent) */
	uint64_t tx_pkts;
	uint64_t rx_bytes;  /* RW payload, packets received */
	uint64_t rx_pkts;
	uint64_t first_ts;  /* reference clock */
	uint64_t last_ts;
	struct vs_flow *rev;	/* the other direction, once looked up */
	void *priv;		/* the tool's (vsocktop: its row) */
	struct vs_stall *stall; /* open credit stall, if any */
	int64_t min_free;   /* lowest peer_free seen, -1 if never known */
	uint64_t matched;   /* packets matched to the other end */
	struct vs_credit cr;
	uint64_t unmatched; /* packets sent whose receive never showed */
	uint64_t stalled_ns;	/* total time spent stalled */
} __attribute__((aligned(64)));

/* the system of an entry vs_flow_remove() took out */
#define VS_FLOW_GONE UINT16_MAX

static inline bool vs_flow_gone(const struct vs_flow *f)
{
	return f->system == VS_FLOW_GONE;
}

struct vs_flow_table;

struct vs_flow_table *vs_flow_table_new(void);
void vs_flow_table_free(struct vs_flow_table *ft);
/* returns the entry, creating it when @create; NULL on ENOMEM or absent */
struct vs_flow *vs_flow_get(struct vs_flow_table *ft, unsigned int system,
			    const struct vs_tuple *t, bool create);
/*
 * vs_flow_remove - take @f out of the table: lookups no longer find it
 * and its memory goes to the next entry made; until then it reads as gone
 * (vs_flow_gone()), with no links (rev, priv, stall: NULL). The caller
 * has freed what it hung on the entry. The reverse entry stays.
 */
void vs_flow_remove(struct vs_flow_table *ft, struct vs_flow *f);
/* places in use: entries, and removed ones not yet made again */
unsigned int vs_flow_count(const struct vs_flow_table *ft);
/* entries in the table */
unsigned int vs_flow_live(const struct vs_flow_table *ft);
/*
 * the entry at place i < vs_flow_count(): in creation order while none
 * was removed; skip those vs_flow_gone() says were
 */
struct vs_flow *vs_flow_at(const struct vs_flow_table *ft, unsigned int i);
/* vs_flow_hash - the hash vs_flow_get() looks up @t of @system by */
uint32_t vs_flow_hash(unsigned int system, const struct vs_tuple *t);
/* vs_flow_prefetch_slot - ask for the slot where a lookup of @hash starts */
void vs_flow_prefetch_slot(const struct vs_flow_table *ft, uint32_t hash);
/*
 * vs_flow_peek - the entry vs_flow_get() would most likely return for a
 * key of @hash, found by the hash alone without reading any entry (NULL:
 * none), for asking the memory of an event's flow ahead of time. Never
 * use it for more.
 */
struct vs_flow *vs_flow_peek(const struct vs_flow_table *ft, uint32_t hash);

/*
 * Credit bookkeeping, called by the engine for each packet:
 * vs_credit_tx() on the sender's entry for a packet it sent,
 * vs_credit_adv() on the sender's entry for a packet it received from the
 * peer (the reverse direction), which carries the peer's buf_alloc/fwd_cnt.
 */
void vs_credit_tx(struct vs_credit *cr, const struct vs_pkt *p);
void vs_credit_adv(struct vs_credit *cr, const struct vs_pkt *p,
		   uint64_t ts);
void vs_credit_start(struct vs_credit *cr); /* REQUEST/RESPONSE seen */
/* peer_free now; INT64_MIN when no advertisement was seen yet */
int64_t vs_credit_peer_free(const struct vs_credit *cr);

/*
 * vs_flow_stream_offset - where an RW packet just counted in @f lies in
 * the stream: the payload bytes before it in its direction. Only known
 * when the connection's start was seen (counting began at 0); returns
 * false otherwise.
 */
static inline bool vs_flow_stream_offset(const struct vs_flow *f, bool tx,
					 const struct vs_pkt *p, uint64_t *off)
{
	if (p->op != VS_OP_RW || !f->cr.base_exact)
		return false;
	*off = (tx ? f->tx_bytes : f->rx_bytes) - p->len;
	return true;
}

/* connection state in words, from both directions' ops */
const char *vs_flow_state(const struct vs_flow *f, const struct vs_flow *rev);

#endif /* VS_FLOW_H */
