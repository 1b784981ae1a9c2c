// SPDX-License-Identifier: GPL-2.0-only
/*
 * tracefs text → events.
 *
 * A line is  [COMM-PID [(TGID)] [CPU] [FLAGS]] [TIMESTAMP:] [SYSTEM:]EVENT: ARGS
 * as printed by `cat trace`, `trace_pipe` and `trace-cmd report`. This is
 * the hot path of the offline analyzer: a cursor over [p, end) with no
 * allocation, no sscanf and no read past end.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include "source_text.h"

struct cur {
	const char *p;
	const char *end;
};

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* hex digit values + 1, 0 for other bytes */
static const uint8_t hex_tab[256] = {
	['0'] = 1,  ['1'] = 2,	['2'] = 3,  ['3'] = 4,	['4'] = 5,  ['5'] = 6,
	['6'] = 7,  ['7'] = 8,	['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12,
	['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static inline int hexval(char c)
{
	return hex_tab[(unsigned char)c] - 1;
}

/*
 * Word-at-a-time helpers (unaligned loads through memcpy, which compilers
 * turn into plain moves). has_byte() is non-zero when a byte of w equals
 * the byte repeated in pat; its lowest set bit marks the first such byte.
 */
static inline uint64_t load8(const char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

static inline uint64_t has_byte(uint64_t w, uint64_t pat)
{
	uint64_t x = w ^ pat;

	return (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
}

#define BYTES(ch) (0x0101010101010101ull * (unsigned char)(ch))

/* exactly the bytes of w equal to the byte of pat: their high bit set */
static inline uint64_t eq_bytes(uint64_t w, uint64_t pat)
{
	uint64_t x = w ^ pat;

	return ~(((x & BYTES(0x7f)) + BYTES(0x7f)) | x | BYTES(0x7f));
}

/* the bytes of w that are hex digits: their high bit set */
static inline uint64_t hex_bytes(uint64_t w)
{
	uint64_t lc = w | BYTES(0x20);
	/* for bytes below 0x80, w + (0x80 - lo) has the high bit set when
	 * the byte is at least lo, w + (0x7f - hi) when above hi */
	uint64_t dig = (w + BYTES(0x80 - '0')) & ~(w + BYTES(0x7f - '9'));
	uint64_t let = (lc + BYTES(0x80 - 'a')) & ~(lc + BYTES(0x7f - 'f'));

	return (dig | let) & ~w & BYTES(0x80);
}

/* the first @ch in [p, end), or end */
static inline const char *find_byte(const char *p, const char *end, char ch)
{
	while (end - p >= 8) {
		uint64_t m = has_byte(load8(p), BYTES(ch));

		if (m)
			return p + __builtin_ctzll(m) / 8;
		p += 8;
	}
	while (p < end && *p != ch)
		p++;
	return p;
}

/* U+00A0 in UTF-8: text copied from web pages pads with it */
static inline bool is_nbsp(const char *p, const char *end)
{
	return p + 1 < end && (unsigned char)p[0] == 0xc2 &&
	       (unsigned char)p[1] == 0xa0;
}

static inline void skip_spaces(struct cur *c)
{
	while (c->p < c->end) {
		char ch = *c->p;

		/* the usual way out: a printable byte that is no padding */
		if ((unsigned char)ch > ' ' && (unsigned char)ch != 0xc2)
			return;
		if (ch == ' ') {
			/* the column padding of trace output: a word at a
			 * time */
			if (c->end - c->p >= 8) {
				uint64_t x = load8(c->p) ^ BYTES(' ');

				c->p += x ? __builtin_ctzll(x) / 8 : 8;
			} else {
				c->p++;
			}
		} else if (ch == '\t') {
			c->p++;
		} else if (is_nbsp(c->p, c->end)) {
			c->p += 2;
		} else {
			return;
		}
	}
}

/* eight digit values (0-9), the first in the lowest byte, to a number */
static inline uint64_t swar8(uint64_t v)
{
	v = v * 10 + (v >> 8);
	return ((v & 0x000000ff000000ffull) * (100 + (1000000ull << 32)) +
		((v >> 16) & 0x000000ff000000ffull) * (1 + (10000ull << 32))) >>
	       32;
}

static uint64_t dec_slow(const char *p, const char *e)
{
	uint64_t v = 0;

	for (; p < e; p++) {
		uint64_t d = (uint64_t)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return UINT64_MAX;
		v = v * 10 + d;
	}
	return v;
}

/* a decimal %u: the common case, without the hex check */
static inline __attribute__((always_inline)) bool parse_dec(struct cur *c,
							    uint64_t *out)
{
	const char *p = c->p;
	uint64_t v = 0;

	if (c->end - p >= 8) {
		/* up to eight digits at once: find where they end, then
		 * combine them pairwise (byte 0 is the leading digit) */
		uint64_t d = load8(p) - BYTES('0');
		uint64_t bad = (d | (d + BYTES(0x76))) & BYTES(0x80);
		unsigned int k = bad ? (unsigned int)__builtin_ctzll(bad) / 8 : 8;

		if (!k)
			return false;
		if (k < 8) {
			c->p = p + k;
			*out = swar8(d << (8 * (8 - k)));
			return true;
		}
		v = swar8(d);
		p += 8;
	} else if (p >= c->end || !is_digit(*p)) {
		return false;
	}
	while (p < c->end && is_digit(*p)) {
		v = v * 10 + (uint64_t)(*p - '0');
		p++;
	}
	/* 19 digits always fit; more may not: saturate, never wrap */
	if (p - c->p > 19)
		v = dec_slow(c->p, p);
	c->p = p;
	*out = v;
	return true;
}

/* decimal, or 0x-prefixed hex; at least one digit; no overflow check
 * beyond saturating (hostile input must not be UB) */
static inline __attribute__((always_inline)) bool parse_u64(struct cur *c, uint64_t *out)
{
	const char *p = c->p;
	uint64_t v = 0;

	if (p + 1 < c->end && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		int d;

		p += 2;
		if (p >= c->end || hexval(*p) < 0)
			return false;
		while (p < c->end && (d = hexval(*p)) >= 0) {
			v = v > (UINT64_MAX >> 4) ? UINT64_MAX : (v << 4) | d;
			p++;
		}
		c->p = p;
		*out = v;
		return true;
	}
	return parse_dec(c, out);
}

static bool parse_i64(struct cur *c, int64_t *out)
{
	bool neg = false;
	uint64_t v;

	if (c->p < c->end && *c->p == '-') {
		neg = true;
		c->p++;
	}
	if (!parse_u64(c, &v))
		return false;
	if (v > INT64_MAX)
		v = INT64_MAX;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

/* short literals, compared a word at a time */
static inline __attribute__((always_inline)) bool lit(struct cur *c,
						      const char *s, size_t n)
{
	size_t rem = (size_t)(c->end - c->p);

	if (rem < n)
		return false;
	if (n >= 8 && n <= 16) {
		if (load8(c->p) != load8(s) ||
		    load8(c->p + n - 8) != load8(s + n - 8))
			return false;
	} else if (n < 8 && rem >= 8) {
		char pat[8] = { 0 };
		uint64_t mask = (1ull << (8 * n)) - 1;

		memcpy(pat, s, n & 7); /* n < 8 here */
		if ((load8(c->p) & mask) != load8(pat))
			return false;
	} else {
		for (size_t i = 0; i < n; i++)
			if (c->p[i] != s[i])
				return false;
	}
	c->p += n;
	return true;
}

#define LIT(c, s) lit(c, s, sizeof(s) - 1)

/* a word followed by a space: moves past the word only */
static inline __attribute__((always_inline)) bool word_sp(struct cur *c,
							  const char *s,
							  size_t n)
{
	if (!lit(c, s, n))
		return false;
	c->p--;
	return true;
}

#define WORD_SP(c, s) word_sp(c, s " ", sizeof(s))

/* the token up to the next space (or end) */
static inline void token(struct cur *c, const char **s, size_t *n)
{
	const char *p = c->p;

	while (c->end - p >= 8) {
		uint64_t w = load8(p);
		uint64_t m = has_byte(w, BYTES(' ')) | has_byte(w, BYTES('\t'));

		if (m) {
			p += __builtin_ctzll(m) / 8;
			goto done;
		}
		p += 8;
	}
	while (p < c->end && *p != ' ' && *p != '\t')
		p++;
done:
	*s = c->p;
	*n = (size_t)(p - c->p);
	c->p = p;
}

/* bytes as they are (printers escape them); a NUL inside ends the string */
static inline void copy_str(char *dst, size_t dstsz, const char *s, size_t n)
{
	if (n >= dstsz)
		n = dstsz - 1;
	if (n >= 8 && n <= 16) {
		/* two overlapping words: no call for a comm or a name */
		uint64_t a = load8(s), b = load8(s + n - 8);

		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
	} else {
		memcpy(dst, s, n);
	}
	dst[n] = '\0';
}

/* "SECONDS.FRACTION" (any number of fraction digits) or a bare counter */
static bool parse_ts(struct cur *c, uint64_t *ns)
{
	uint64_t sec, frac = 0, scale = 1000000000ull;
	const char *p;

	if (!parse_dec(c, &sec))
		return false;
	if (c->p < c->end && *c->p == '.') {
		static const uint64_t pow10[10] = {
			1000000000, 100000000, 10000000, 1000000, 100000,
			10000,	    1000,      100,	 10,	  1,
		};

		c->p++;
		p = c->p;
		if (!parse_dec(c, &frac))
			return false;
		if (c->p - p <= 9) {
			scale = pow10[c->p - p];
		} else {
			/* more than nanoseconds: keep the first nine */
			struct cur f = { p, p + 9 };

			parse_dec(&f, &frac);
			scale = 1;
		}
		if (sec > UINT64_MAX / 1000000000ull)
			return false;
		*ns = sec * 1000000000ull + frac * scale;
		return true;
	}
	*ns = sec; /* a raw counter clock (counter, x86-tsc...) */
	return true;
}

/* a token of known length @n against a literal */
static inline __attribute__((always_inline)) bool name_is(const char *s,
							 size_t n,
							 const char *lit_,
							 size_t ln)
{
	size_t i = 0;

	if (n != ln)
		return false;
	for (; i + 8 <= n; i += 8)
		if (load8(s + i) != load8(lit_ + i))
			return false;
	for (; i < n; i++)
		if (s[i] != lit_[i])
			return false;
	return true;
}

#define NAME_IS(s, n, lit_) name_is(s, n, lit_, sizeof(lit_) - 1)

/* "u32:u32" */
static inline __attribute__((always_inline)) bool
parse_addr(struct cur *c, uint64_t *cid, uint32_t *port)
{
	uint64_t v;

	if (!parse_dec(c, cid) || !LIT(c, ":") || !parse_dec(c, &v) ||
	    v > UINT32_MAX)
		return false;
	*port = (uint32_t)v;
	return true;
}

static bool parse_sym(struct cur *c, int (*from_name)(const char *,
						      unsigned int),
		      uint16_t *out)
{
	const char *s;
	size_t n;
	int v;
	uint64_t u;

	if (c->p < c->end && is_digit(*c->p)) {
		/* __print_symbolic prints unknown values as 0x.. */
		if (!parse_u64(c, &u) || u > UINT16_MAX)
			return false;
		*out = (uint16_t)u;
		return true;
	}
	token(c, &s, &n);
	v = from_name(s, (unsigned int)n);
	if (v < 0)
		return false;
	*out = (uint16_t)v;
	return true;
}

/*
 * "%u:%u -> %u:%u len=%u type=%s op=%s flags=%#x" and, in any order after
 * that, zcopy=, buf_alloc=, fwd_cnt= and keys a future kernel may add.
 */
static bool parse_pkt(struct cur *c, struct vs_event *ev)
{
	struct vs_pkt *k = &ev->pkt;
	uint64_t v;

	if (!parse_addr(c, &k->src_cid, &k->src_port) || !LIT(c, " -> ") ||
	    !parse_addr(c, &k->dst_cid, &k->dst_port) || !LIT(c, " len=") ||
	    !parse_dec(c, &v) || v > UINT32_MAX)
		return false;
	k->len = (uint32_t)v;
	if (!LIT(c, " type="))
		return false;
	/* the usual names first, without a token search */
	if (WORD_SP(c, "STREAM"))
		k->type = VS_TYPE_STREAM;
	else if (!parse_sym(c, vs_type_from_name, &k->type))
		return false;
	if (!LIT(c, " op="))
		return false;
	if (WORD_SP(c, "RW"))
		k->op = VS_OP_RW;
	else if (!parse_sym(c, vs_op_from_name, &k->op))
		return false;
	if (!LIT(c, " flags=") || !parse_u64(c, &v) || v > UINT32_MAX)
		return false;
	k->flags = (uint32_t)v;
	ev->present |= VS_HAS_HDR;

	for (;;) {
		const char *s;
		size_t n;

		skip_spaces(c);
		if (c->p >= c->end)
			break;
		if (LIT(c, "buf_alloc=")) {
			if (!parse_u64(c, &v) || v > UINT32_MAX)
				return false;
			k->buf_alloc = (uint32_t)v;
			ev->present |= VS_HAS_BUF_ALLOC;
		} else if (LIT(c, "fwd_cnt=")) {
			if (!parse_u64(c, &v) || v > UINT32_MAX)
				return false;
			k->fwd_cnt = (uint32_t)v;
			ev->present |= VS_HAS_FWD_CNT;
		} else if (LIT(c, "zcopy=")) {
			token(c, &s, &n);
			if (NAME_IS(s, n, "true"))
				k->zcopy = 1;
			else if (NAME_IS(s, n, "false"))
				k->zcopy = 0;
			else if (n == 1 && (*s == '0' || *s == '1'))
				k->zcopy = (uint8_t)(*s - '0');
			else
				return false;
			ev->present |= VS_HAS_ZCOPY;
		} else {
			/* an unknown key=value a newer kernel added */
			token(c, &s, &n);
			if (!memchr(s, '=', n))
				return false;
		}
	}
	return true;
}

/* key=value pairs; calls back for each; value runs to the next space */
struct kv {
	const char *k;
	size_t kn;
	const char *v;
	size_t vn;
};

static bool next_kv(struct cur *c, struct kv *kv)
{
	const char *s, *eq;
	size_t n;

	skip_spaces(c);
	if (c->p >= c->end)
		return false;
	token(c, &s, &n);
	eq = memchr(s, '=', n);
	if (!eq) {
		kv->k = s;
		kv->kn = n;
		kv->v = NULL;
		kv->vn = 0;
		return true;
	}
	kv->k = s;
	kv->kn = (size_t)(eq - s);
	kv->v = eq + 1;
	kv->vn = n - kv->kn - 1;
	return true;
}

static inline bool key_is(const struct kv *kv, const char *s, size_t n)
{
	return kv->kn == n && !memcmp(kv->k, s, n);
}

#define KEY(kv, s) key_is(kv, s, sizeof(s) - 1)

static bool kv_u64(const struct kv *kv, uint64_t *out)
{
	struct cur c = { kv->v, kv->v + kv->vn };

	return kv->v && parse_u64(&c, out) && c.p == c.end;
}

/* a %p value: NULL when "(null)", "0", all zeros; else any hex */
static bool kv_ptr_null(const struct kv *kv, bool *is_null)
{
	size_t i;

	if (!kv->v || !kv->vn)
		return false;
	if ((kv->vn == 6 && !memcmp(kv->v, "(null)", 6)) ||
	    (kv->vn == 4 && !memcmp(kv->v, "NULL", 4))) {
		*is_null = true;
		return true;
	}
	/* "(____ptrval____)" before the hashing key is ready, "(efault)":
	 * some pointer, not NULL */
	if (kv->vn > 2 && kv->v[0] == '(' && kv->v[kv->vn - 1] == ')') {
		*is_null = false;
		return true;
	}
	i = (kv->vn > 2 && kv->v[0] == '0' && kv->v[1] == 'x') ? 2 : 0;
	*is_null = true;
	if (kv->vn - i >= 8) {
		/* a word at a time; the last word may overlap the one before */
		uint64_t any = 0;

		for (;;) {
			size_t at = i + 8 <= kv->vn ? i : kv->vn - 8;
			uint64_t w = load8(kv->v + at);

			if (hex_bytes(w) != BYTES(0x80))
				return false;
			any |= w ^ BYTES('0');
			i += 8;
			if (at + 8 == kv->vn)
				break;
		}
		*is_null = !any;
		return true;
	}
	for (; i < kv->vn; i++) {
		int d = hexval(kv->v[i]);

		if (d < 0)
			return false;
		if (d)
			*is_null = false;
	}
	return true;
}

/* a symbol ("fn+0x5c/0x1c0") as is; a bare address (old kernels' %lx) as
 * 0x-hex */
static void set_call_site(struct vs_alloc *a, const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n && hexval(v[i]) >= 0; i++)
		;
	if (i == n && n >= 8) {
		a->call_site[0] = '0';
		a->call_site[1] = 'x';
		copy_str(a->call_site + 2, sizeof(a->call_site) - 2, v, n);
		return;
	}
	copy_str(a->call_site, sizeof(a->call_site), v, n);
}

/* kmalloc, kmalloc_node, kmem_cache_alloc, kmem_cache_alloc_node */
/*
 * Lean parsing: an allocation that succeeded only counts for the analysis.
 * Its pointer says so; the rest of the line is not read. A failure is
 * parsed in full.
 */
static inline __attribute__((always_inline)) int
lean_alloc(struct cur *c, struct vs_event *ev, const char *key, size_t klen,
	   uint8_t source)
{
	const char *k = c->p;
	struct kv kv;
	bool is_null;

	/* "KEY=" at the start or after a space */
	for (;;) {
		k = find_byte(k, c->end, key[0]);
		if ((size_t)(c->end - k) < klen)
			return -1; /* not in the usual form: parse in full */
		if (!memcmp(k, key, klen) &&
		    (k == c->p || k[-1] == ' ' || k[-1] == '\t'))
			break;
		k++;
	}
	kv.k = k;
	kv.kn = klen - 1;
	kv.v = k + klen;
	kv.vn = (size_t)(find_byte(kv.v, c->end, ' ') - kv.v);
	if (!kv_ptr_null(&kv, &is_null) || is_null)
		return -1;
	ev->alloc.source = source;
	ev->alloc.order = -1;
	ev->alloc.failed = 0;
	return 1;
}

static bool parse_kmalloc(struct cur *c, struct vs_event *ev)
{
	struct vs_alloc *a = &ev->alloc;
	bool have_ptr = false, is_null = false;
	struct kv kv;
	uint64_t v;

	a->source = VS_ALLOC_KMALLOC;
	a->order = -1;
	while (next_kv(c, &kv)) {
		if (!kv.v) {
			/* %pS of a module symbol: "fn+0x1b4/0x3d0 [vhost_vsock]";
			 * trace-cmd's kmem plugin: "(fn+0x5c) call_site=..." */
			if (kv.kn > 2 && ((kv.k[0] == '[' && kv.k[kv.kn - 1] == ']') ||
					  (kv.k[0] == '(' && kv.k[kv.kn - 1] == ')')))
				continue;
			return false;
		}
		if (KEY(&kv, "call_site")) {
			set_call_site(a, kv.v, kv.vn);
			ev->present |= VS_HAS_CALLSITE;
		} else if (KEY(&kv, "ptr") && !have_ptr) {
			/* the first one counts, as for the lean parse */
			if (!kv_ptr_null(&kv, &is_null))
				return false;
			have_ptr = true;
		} else if (KEY(&kv, "bytes_req")) {
			if (!kv_u64(&kv, &v))
				return false;
			a->bytes_req = v;
			ev->present |= VS_HAS_SIZE;
		} else if (KEY(&kv, "bytes_alloc")) {
			if (!kv_u64(&kv, &v))
				return false;
			a->bytes_alloc = v;
			/* the kernel prints gfp_flags, node... after it: not
			 * needed, not read (this is a hot path) */
			if (have_ptr && (ev->present & VS_HAS_SIZE))
				break;
		}
	}
	if (!have_ptr || !(ev->present & VS_HAS_SIZE))
		return false;
	a->failed = is_null;
	return true;
}

static bool parse_page_alloc(struct cur *c, struct vs_event *ev)
{
	struct vs_alloc *a = &ev->alloc;
	bool have_page = false, is_null = false;
	struct kv kv;
	int64_t order;

	a->source = VS_ALLOC_PAGE;
	a->order = -1;
	while (next_kv(c, &kv)) {
		if (!kv.v)
			return false;
		if (KEY(&kv, "page") && !have_page) {
			if (!kv_ptr_null(&kv, &is_null))
				return false;
			have_page = true;
		} else if (KEY(&kv, "order")) {
			struct cur oc = { kv.v, kv.v + kv.vn };

			if (!parse_i64(&oc, &order) || oc.p != oc.end ||
			    order < -1 || order > 64)
				return false;
			a->order = (int16_t)order;
			ev->present |= VS_HAS_ORDER;
			if (have_page)
				break; /* migratetype, gfp_flags: not needed */
		}
	}
	if (!have_page || !(ev->present & VS_HAS_ORDER))
		return false;
	a->failed = is_null;
	if (a->order >= 0) {
		a->bytes_req = 4096ull << a->order;
		a->bytes_alloc = a->bytes_req;
		ev->present |= VS_HAS_SIZE;
	}
	return true;
}

static bool parse_irq(struct cur *c, struct vs_event *ev, bool entry)
{
	int64_t irq;
	const char *s;
	size_t n;

	if (!LIT(c, "irq=") || !parse_i64(c, &irq) || irq < INT32_MIN ||
	    irq > INT32_MAX)
		return false;
	ev->irq.irq = (int32_t)irq;
	ev->present |= VS_HAS_IRQ;
	skip_spaces(c);
	if (entry) {
		if (!LIT(c, "name="))
			return false;
		/* the rest of the line: irq names may hold spaces */
		n = (size_t)(c->end - c->p);
		while (n && (c->p[n - 1] == ' ' || c->p[n - 1] == '\r'))
			n--;
		copy_str(ev->irq.name, sizeof(ev->irq.name), c->p, n);
		return true;
	}
	if (!LIT(c, "ret="))
		return false;
	token(c, &s, &n);
	if (n == 7 && !memcmp(s, "handled", 7))
		ev->irq.ret = 1;
	else if (n == 9 && !memcmp(s, "unhandled", 9))
		ev->irq.ret = 0;
	else
		return false;
	ev->present |= VS_HAS_RET;
	return true;
}

static void parse_text(struct cur *c, struct vs_event *ev)
{
	size_t n = (size_t)(c->end - c->p);

	while (n && (c->p[n - 1] == '\r' || c->p[n - 1] == ' '))
		n--;
	copy_str(ev->text, sizeof(ev->text), c->p, n);
}

/* vsockscope's own events: vq_kick, vq_irq, vq_add, vq_get */
static bool parse_vq(struct cur *c, struct vs_event *ev)
{
	bool have_dev = false, have_vq = false;
	struct kv kv;
	uint64_t v;

	while (next_kv(c, &kv)) {
		if (!kv.v)
			return false;
		if (KEY(&kv, "dev")) {
			copy_str(ev->vq.dev, sizeof(ev->vq.dev), kv.v, kv.vn);
			have_dev = true;
		} else if (KEY(&kv, "vq")) {
			copy_str(ev->vq.vq, sizeof(ev->vq.vq), kv.v, kv.vn);
			have_vq = true;
		} else if (KEY(&kv, "avail_idx") || KEY(&kv, "used_idx") ||
			   KEY(&kv, "idx")) {
			if (!kv_u64(&kv, &v) || v > UINT32_MAX)
				return false;
			ev->vq.idx = (uint32_t)v;
			ev->present |= VS_HAS_IDX;
		} else if (KEY(&kv, "num")) {
			if (!kv_u64(&kv, &v) || v > UINT32_MAX)
				return false;
			ev->vq.num = (uint32_t)v;
			ev->present |= VS_HAS_NUM;
		}
	}
	return have_dev && have_vq;
}

static bool parse_mbox(struct cur *c, struct vs_event *ev)
{
	bool have_chan = false, have_msg = false;
	struct kv kv;
	uint64_t v;

	while (next_kv(c, &kv)) {
		if (!kv.v)
			return false;
		if (KEY(&kv, "chan")) {
			copy_str(ev->mbox.chan, sizeof(ev->mbox.chan), kv.v,
				 kv.vn);
			have_chan = true;
		} else if (KEY(&kv, "msg")) {
			if (!kv_u64(&kv, &v))
				return false;
			ev->mbox.msg = v;
			have_msg = true;
		}
	}
	return have_chan && have_msg;
}

static bool dispatch(const char *name, size_t n, struct cur *c,
		     struct vs_event *ev, unsigned int flags)
{
	bool lean = flags & VS_PARSE_LEAN;

	switch (n) {
	case 26:
		if (NAME_IS(name, n, "virtio_transport_alloc_pkt")) {
			ev->kind = VS_EV_PKT_TX;
			return parse_pkt(c, ev);
		}
		break;
	case 25:
		if (NAME_IS(name, n, "virtio_transport_recv_pkt")) {
			ev->kind = VS_EV_PKT_RX;
			return parse_pkt(c, ev);
		}
		break;
	case 17:
		if (NAME_IS(name, n, "irq_handler_entry")) {
			ev->kind = VS_EV_IRQ;
			return parse_irq(c, ev, true);
		}
		break;
	case 16:
		if (NAME_IS(name, n, "irq_handler_exit")) {
			ev->kind = VS_EV_IRQ_EXIT;
			return parse_irq(c, ev, false);
		}
		if (NAME_IS(name, n, "kmem_cache_alloc")) {
			ev->kind = VS_EV_ALLOC;
			return (lean && lean_alloc(c, ev, "ptr=", 4,
						   VS_ALLOC_KMALLOC) > 0) ||
			       parse_kmalloc(c, ev);
		}
		break;
	case 7:
		if (NAME_IS(name, n, "kmalloc")) {
			ev->kind = VS_EV_ALLOC;
			return (lean && lean_alloc(c, ev, "ptr=", 4,
						   VS_ALLOC_KMALLOC) > 0) ||
			       parse_kmalloc(c, ev);
		}
		if (NAME_IS(name, n, "vq_kick")) {
			ev->kind = VS_EV_VQ_KICK;
			return parse_vq(c, ev);
		}
		if (NAME_IS(name, n, "mbox_tx")) {
			ev->kind = VS_EV_MBOX_TX;
			return parse_mbox(c, ev);
		}
		if (NAME_IS(name, n, "mbox_rx")) {
			ev->kind = VS_EV_MBOX_RX;
			return parse_mbox(c, ev);
		}
		if (NAME_IS(name, n, "vq_call")) {
			ev->kind = VS_EV_VQ_CALL;
			return parse_vq(c, ev);
		}
		break;
	case 6:
		if (NAME_IS(name, n, "vq_irq")) {
			ev->kind = VS_EV_VQ_IRQ;
			return parse_vq(c, ev);
		}
		if (NAME_IS(name, n, "vq_add")) {
			ev->kind = VS_EV_VQ_ADD;
			return parse_vq(c, ev);
		}
		if (NAME_IS(name, n, "vq_get")) {
			ev->kind = VS_EV_VQ_GET;
			return parse_vq(c, ev);
		}
		break;
	case 12:
		if (NAME_IS(name, n, "kmalloc_node")) {
			ev->kind = VS_EV_ALLOC;
			return (lean && lean_alloc(c, ev, "ptr=", 4,
						   VS_ALLOC_KMALLOC) > 0) ||
			       parse_kmalloc(c, ev);
		}
		break;
	case 21:
		if (NAME_IS(name, n, "kmem_cache_alloc_node")) {
			ev->kind = VS_EV_ALLOC;
			return (lean && lean_alloc(c, ev, "ptr=", 4,
						   VS_ALLOC_KMALLOC) > 0) ||
			       parse_kmalloc(c, ev);
		}
		break;
	case 13:
		if (NAME_IS(name, n, "mm_page_alloc")) {
			ev->kind = VS_EV_ALLOC;
			return (lean && lean_alloc(c, ev, "page=", 5,
						   VS_ALLOC_PAGE) > 0) ||
			       parse_page_alloc(c, ev);
		}
		break;
	case 18:
		if (NAME_IS(name, n, "tracing_mark_write")) {
			ev->kind = VS_EV_MARK;
			parse_text(c, ev);
			return true;
		}
		break;
	case 5:
		/* trace-cmd prints markers as "print: tracing_mark_write: x" */
		if (NAME_IS(name, n, "print")) {
			ev->kind = VS_EV_MARK;
			LIT(c, "tracing_mark_write:");
			skip_spaces(c);
			parse_text(c, ev);
			return true;
		}
		break;
	case 4:
		if (NAME_IS(name, n, "mark")) {
			ev->kind = VS_EV_MARK;
			parse_text(c, ev);
			return true;
		}
		break;
	}
	return false;
}

static const uint8_t name_chars[256] = {
	['0' ... '9'] = 1, ['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['_'] = 1,
};

static inline bool is_name_char(char ch)
{
	return name_chars[(unsigned char)ch];
}

/* "[SYSTEM:]EVENT:" then args; the event name part */
static bool parse_event(struct cur *c, struct vs_event *ev, unsigned int flags)
{
	const char *name = c->p;
	size_t n;

	/* up to the colon; dispatch() compares the whole name, so a name
	 * with other characters in it simply matches no event */
	c->p = find_byte(c->p, c->end, ':');
	n = (size_t)(c->p - name);
	if (!n || !LIT(c, ":"))
		return false;
	/* "vsock:virtio_transport_alloc_pkt:" — a system prefix */
	if (c->p < c->end && is_name_char(*c->p)) {
		name = c->p;
		while (c->p < c->end && is_name_char(*c->p))
			c->p++;
		n = (size_t)(c->p - name);
		if (!LIT(c, ":"))
			return false;
	}
	skip_spaces(c);
	/* trailing CR from files written on other systems */
	while (c->end > c->p && (c->end[-1] == '\r' || c->end[-1] == ' '))
		c->end--;
	return dispatch(name, n, c, ev, flags);
}

/* the "COMM-PID [(TGID)]" part before "[CPU]", in a line ending at @lim */
static void parse_task(const char *s, const char *e, const char *lim,
		       struct vs_event *ev)
{
	const char *dash, *p;
	uint64_t pid = 0;

	/* the padding before "[cpu]", a word at a time from the end */
	while (e - s >= 8) {
		uint64_t x = load8(e - 8) ^ BYTES(' ');

		if (x) {
			e -= __builtin_clzll(x) / 8;
			break;
		}
		e -= 8;
	}
	for (;;) {
		if (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		else if (e - s >= 2 && is_nbsp(e - 2, e))
			e -= 2;
		else
			break;
	}
	if (e > s && e[-1] == ')') {
		/* record-tgid: "(  1234)" */
		p = e - 1;
		while (p > s && *p != '(')
			p--;
		if (*p == '(') {
			e = p;
			while (e > s && e[-1] == ' ')
				e--;
		}
	}
	for (;;) {
		if (s < e && (*s == ' ' || *s == '\t'))
			s++;
		else if (is_nbsp(s, e))
			s += 2;
		else
			break;
	}
	/* the last '-': the pid follows it (the comm may hold dashes) */
	dash = e;
	while (dash - s >= 8) {
		uint64_t m = eq_bytes(load8(dash - 8), BYTES('-'));

		if (m) {
			dash = dash - 8 + (63 - __builtin_clzll(m)) / 8 + 1;
			goto found;
		}
		dash -= 8;
	}
	while (dash > s && dash[-1] != '-')
		dash--;
found:
	if (dash == s || dash == e)
		goto comm_only;
	if (e - dash <= 8 && lim - dash >= 8) {
		/* up to eight digits, at once: below INT32_MAX */
		unsigned int k = (unsigned int)(e - dash);
		uint64_t d = load8(dash) - BYTES('0');
		uint64_t bad = (d | (d + BYTES(0x76))) & BYTES(0x80);

		if (k < 8)
			bad &= (1ull << (8 * k)) - 1;
		if (bad)
			goto comm_only;
		pid = swar8(d << (8 * (8 - k)));
	} else {
		for (p = dash; p < e; p++) {
			if (!is_digit(*p))
				goto comm_only;
			pid = pid * 10 + (uint64_t)(*p - '0');
			if (pid > INT32_MAX)
				goto comm_only;
		}
	}
	ev->pid = (int32_t)pid;
	ev->present |= VS_HAS_PID;
	e = dash - 1;
comm_only:
	if (e > s) {
		copy_str(ev->comm, sizeof(ev->comm), s, (size_t)(e - s));
		ev->present |= VS_HAS_COMM;
	}
}

/* "[001]": returns the position of '[' in [s, e) or NULL */
static const char *find_cpu(const char *s, const char *e)
{
	const char *p = s;

	while ((p = find_byte(p, e, '[')) < e) {
		const char *q = p + 1;

		while (q < e && is_digit(*q))
			q++;
		if (q > p + 1 && q < e && *q == ']' && q + 1 < e &&
		    q[1] == ' ')
			return p;
		p++;
	}
	return NULL;
}

/*
 * The columns `cat trace` and trace_pipe print: "%16s-%-7d [%03d] ", the
 * CPU field at a fixed place. Returns its '[' when it is there and is the
 * one find_cpu() would find (no '[' before it), NULL otherwise. @p is
 * where the line starts after its padding.
 */
static inline const char *cpu_column(const char *line, const char *p,
				     const char *end)
{
	const char *b = line + 25;

	if (end - line < 32 || p > b || b[0] != '[' || !is_digit(b[1]) ||
	    !is_digit(b[2]) || !is_digit(b[3]) || b[4] != ']' || b[5] != ' ')
		return NULL;
	/* no '[' before it (what precedes p is padding): four words */
	if (has_byte(load8(line), BYTES('[')) |
	    has_byte(load8(line + 8), BYTES('[')) |
	    has_byte(load8(line + 16), BYTES('[')) |
	    has_byte(load8(line + 17), BYTES('[')))
		return NULL;
	return b;
}

/*
 * In those columns, "COMM-PID" with a pid of up to seven digits padded
 * with spaces to the '[': the comm is what precedes column 16, whatever
 * dashes it holds. Fills what parse_task() would; false (and nothing
 * filled) for anything else. @p is where the line starts after its
 * padding.
 */
static inline bool task_columns(const char *line, const char *p,
				struct vs_event *ev)
{
	uint64_t w = load8(line + 17), d = w - BYTES('0');
	uint64_t bad = (d | (d + BYTES(0x76))) & BYTES(0x80);
	unsigned int k = bad ? (unsigned int)__builtin_ctzll(bad) / 8 : 8;

	/* digits, then only spaces up to the '[' at column 25 */
	if (line[16] != '-' || p >= line + 16 || !k || k == 8 ||
	    eq_bytes(w, BYTES(' ')) >> (8 * k) != BYTES(0x80) >> (8 * k))
		return false;
	ev->pid = (int32_t)swar8(d << (8 * (8 - k)));
	ev->present |= VS_HAS_PID | VS_HAS_COMM;
	copy_str(ev->comm, sizeof(ev->comm), p, (size_t)(line + 16 - p));
	return true;
}

/*
 * What follows those columns: "FLAGS SECONDS.MICROS:" with five flag
 * characters and six digits of microseconds. Parses the timestamp as
 * parse_ts() would and moves past its colon; false (and nothing moved)
 * for anything else.
 */
static inline bool ts_columns(struct cur *c, uint64_t *ns)
{
	const char *p = c->p;
	uint64_t d, f, bad;
	unsigned int k;

	/* the caller checked that 33 bytes are left */
	d = load8(p);
	if ((unsigned char)p[0] <= ' ' || (unsigned char)p[0] == 0xc2 ||
	    is_digit(p[0]) || p[5] != ' ' ||
	    ((eq_bytes(d, BYTES(' ')) | eq_bytes(d, BYTES('\t'))) &
	     0xffffffff00ull))
		return false;
	/* seconds: one to seven digits, then '.' */
	d = load8(p + 6) - BYTES('0');
	bad = (d | (d + BYTES(0x76))) & BYTES(0x80);
	k = bad ? (unsigned int)__builtin_ctzll(bad) / 8 : 8;
	if (!k || k == 8 || p[6 + k] != '.')
		return false;
	/* microseconds: six digits, then ':' */
	f = load8(p + 7 + k) - BYTES('0');
	bad = (f | (f + BYTES(0x76))) & BYTES(0x80);
	if ((bad & 0xffffffffffffull) || p[13 + k] != ':')
		return false;
	*ns = swar8(d << (8 * (8 - k))) * 1000000000ull +
	      swar8(f << 16) * 1000;
	c->p = p + 14 + k;
	return true;
}

static int parse_lost(struct cur *c, uint64_t *lost)
{
	uint64_t v;

	/* "CPU:%d [LOST %lu EVENTS]" */
	if (!LIT(c, "CPU:") || !parse_u64(c, &v) || !LIT(c, " [LOST ") ||
	    !parse_u64(c, &v) || !LIT(c, " EVENTS]"))
		return VS_LINE_BAD;
	*lost = v;
	return VS_LINE_LOST;
}

int vs_text_parse_line(const char *line, size_t len, struct vs_event *ev,
		       uint64_t *lost)
{
	return vs_text_parse_line_flags(line, len, ev, lost, 0);
}

int vs_text_parse_line_flags(const char *line, size_t len,
			     struct vs_event *ev, uint64_t *lost,
			     unsigned int flags)
{
	struct cur c = { line, line + len };
	const char *cpu;

	skip_spaces(&c);
	if (c.p >= c.end || *c.p == '#' || *c.p == '\r')
		return VS_LINE_IGNORED;
	if (*c.p == 'C' && c.end - c.p > 4 && !memcmp(c.p, "CPU:", 4))
		return parse_lost(&c, lost);
	/* trace-cmd report: "CPU 3 is empty" */
	if (*c.p == 'C' && c.end - c.p > 12 && !memcmp(c.p, "CPU ", 4) &&
	    !memcmp(c.end - 8, "is empty", 8))
		return VS_LINE_IGNORED;
	/* trace-cmd report header lines */
	if ((c.end - c.p >= 5 && !memcmp(c.p, "cpus=", 5)) ||
	    (c.end - c.p >= 8 && !memcmp(c.p, "version ", 8)))
		return VS_LINE_IGNORED;

	vs_event_clear(ev);
	ev->cpu = -1;
	ev->pid = -1;

	cpu = cpu_column(line, c.p, c.end);
	if (cpu) {
		/* what the search below finds, without the search */
		if (!task_columns(line, c.p, ev))
			parse_task(c.p, cpu, c.end, ev);
		ev->cpu = (cpu[1] - '0') * 100 + (cpu[2] - '0') * 10 +
			  (cpu[3] - '0');
		ev->present |= VS_HAS_CPU;
		c.p = cpu + 6;
	} else {
		/* the CPU field "[NNN] " comes within the first 96 bytes */
		cpu = find_cpu(c.p, c.end - c.p > 96 ? c.p + 96 : c.end);
		if (cpu) {
			struct cur cc = { cpu + 1, c.end };
			uint64_t v = 0;

			parse_task(c.p, cpu, c.end, ev);
			parse_u64(&cc, &v);
			ev->cpu = v > INT32_MAX ? -1 : (int32_t)v;
			ev->present |= VS_HAS_CPU;
			c.p = cc.p + 2; /* "] " */
		}
	}
	if (cpu) {
		if (c.end - c.p >= 33 && ts_columns(&c, &ev->ts_ns)) {
			ev->present |= VS_HAS_TS;
			skip_spaces(&c);
			goto event;
		}
		skip_spaces(&c);
		/* latency flags ("d.h1", "dNs2.", "....."): not a digit */
		if (c.p < c.end && !is_digit(*c.p)) {
			const char *s;
			size_t n;

			token(&c, &s, &n);
			skip_spaces(&c);
		}
	}
	/* timestamp: "123.456789:" */
	if (c.p < c.end && is_digit(*c.p)) {
		uint64_t ts;

		if (!parse_ts(&c, &ts) || !LIT(&c, ":"))
			return VS_LINE_BAD;
		ev->ts_ns = ts;
		ev->present |= VS_HAS_TS;
		skip_spaces(&c);
	} else if (cpu) {
		return VS_LINE_BAD;
	}
event:
	if (!parse_event(&c, ev, flags))
		return VS_LINE_BAD;
	return VS_LINE_EVENT;
}
