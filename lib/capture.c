// SPDX-License-Identifier: GPL-2.0-only
/*
 * Capture files (vsock-capture(5)): the writer and the reader.
 *
 * A record is 8 bytes of framing and a payload:
 *   u8 type, u8 check (0xa5 ^ type ^ both length bytes), u16 length of
 *   the payload, u32 CRC-32 (zlib's) of the first 4 bytes and the payload.
 * All integers are little-endian and put byte by byte, so the bytes do not
 * depend on the host. See the manual page for each record's payload.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_acle.h>
#include <sys/auxv.h>
#endif
#include "capture.h"

#define REC_HDR 8
#define REC_MAX_PAYLOAD 0xffffu
#define FRAME_CHECK 0xa5u
#define WBUF_SIZE (64u * 1024u)
#define EV_REC_MAX 256 /* the largest event record is 113 bytes */
#define HDR_TEXT_MAX 2048

#ifndef VS_VERSION
#define VS_VERSION "unknown"
#endif

enum rec_type {
	REC_HEADER = 1,
	REC_EVENT = 2,
	REC_LOST = 3,
	REC_END = 4,
};

#define CTX_BITS (VS_HAS_TS | VS_HAS_CPU | VS_HAS_PID | VS_HAS_COMM)

/* ------------------------------------------------------------ CRC-32 */

/*
 * CRC-32 of IEEE 802.3 / zlib (reflected 0xedb88320). Portably eight bytes
 * a step ("slicing by 8"): crc_tab[k][b] is the CRC of byte b followed by
 * k zero bytes; the tables are built once, when the library is loaded.
 * Where the CPU can do better the record goes another way, chosen then:
 * carry-less multiplication folding 16 bytes a step on x86-64, the CRC32
 * instructions on arm64. Every way gives the same bits (test_capture).
 */
static uint32_t crc_tab[8][256];
static uint32_t (*rec_crc)(const uint8_t *rec, size_t n);

static uint32_t crc32_step(uint32_t crc, const uint8_t *p, size_t n)
{
	for (; n >= 8; n -= 8, p += 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
				     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
			      (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;

		crc = crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^
		      crc_tab[5][(lo >> 16) & 0xff] ^ crc_tab[4][lo >> 24] ^
		      crc_tab[3][hi & 0xff] ^ crc_tab[2][(hi >> 8) & 0xff] ^
		      crc_tab[1][(hi >> 16) & 0xff] ^ crc_tab[0][hi >> 24];
	}
	if (n >= 4) {
		crc ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		crc = crc_tab[3][crc & 0xff] ^ crc_tab[2][(crc >> 8) & 0xff] ^
		      crc_tab[1][(crc >> 16) & 0xff] ^ crc_tab[0][crc >> 24];
		p += 4;
		n -= 4;
	}
	while (n--)
		crc = (crc >> 8) ^ crc_tab[0][(crc ^ *p++) & 0xff];
	return crc;
}

/* the record's CRC: its first 4 bytes, then @n bytes of payload */
static uint32_t rec_crc_tables(const uint8_t *rec, size_t n)
{
	return ~crc32_step(crc32_step(0xffffffffu, rec, 4), rec + REC_HDR, n);
}

#if defined(__x86_64__)
/*
 * Carry-less multiplication, on the record as one message: the CRC of
 * 0xffffffff then M equals the CRC of 0 then M with its first 4 bytes
 * inverted, and from a state of 0 leading zero bytes change nothing. So
 * zeros go in front of the inverted framing bytes until framing and payload
 * fill whole 16-byte blocks, and no byte goes through the tables.
 *
 * Operands are bit-reflected: a product of two comes out one bit low, so
 * each constant below is a power of x mod P (or the quotient x^64 / P, or P
 * itself) reflected into 64 bits with the shift taken into account.
 *   - folding: the register holds 16 bytes whose CRC state equals that of
 *     everything before; its halves are multiplied past the next 16 bytes
 *     (by x^(128+32) and x^(128-32) mod P) and those bytes are added;
 *   - the end: 128 bits times x^32 become 96 (x^96 mod P), then 64
 *     (x^64 mod P), and Barrett's reduction by P (with x^64 / P) leaves the
 *     32 bits of the CRC.
 * The constants were computed from P and checked against the tables; the
 * tests compare every length with a bit-at-a-time CRC.
 */
#define CLMUL_FOLD_LO 0x1751997d0ull
#define CLMUL_FOLD_HI 0x0ccaa009eull
#define CLMUL_X96 0xccaa009e00000000ull
#define CLMUL_X64 0xb8bc676500000000ull
#define CLMUL_MU 0xfb808b2080000000ull
#define CLMUL_P 0xedb8832080000000ull

typedef unsigned __int128 u128;

__attribute__((target("pclmul"))) static inline u128 clmul64(uint64_t a,
							     uint64_t b)
{
	__m128i r = _mm_clmulepi64_si128(_mm_cvtsi64_si128((long long)a),
					 _mm_cvtsi64_si128((long long)b), 0x00);

	return (u128)(uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(r, r))
		       << 64 |
	       (uint64_t)_mm_cvtsi128_si64(r);
}

/* pshufb masks: at SHIFT + 16 - s, bytes up by s; at SHIFT + 16 + s, down */
static const uint8_t clmul_shift[48] = {
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
};

/* at TOP + r: the top r bytes of 16 */
static const uint8_t clmul_top[32] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

#define CLMUL_TARGET __attribute__((target("pclmul,sse4.1,ssse3")))

CLMUL_TARGET static inline __m128i clmul_mask(const uint8_t *m)
{
	return _mm_loadu_si128((const __m128i *)m);
}

/*
 * The record is the message M: its first 4 bytes inverted, then the
 * payload (n >= 12, so that M's first 16 bytes are one load from rec + 4
 * with the CRC field replaced). Of its L = 4 + n bytes, the first r = L %
 * 16 go in front of zeros as the first block; whole blocks follow, read in
 * place.
 */
CLMUL_TARGET static uint32_t rec_crc_clmul(const uint8_t *rec, size_t n)
{
	const __m128i k = _mm_set_epi64x((long long)CLMUL_FOLD_HI,
					  (long long)CLMUL_FOLD_LO);
	size_t r = (4 + n) % 16, left;
	const uint8_t *p;
	uint64_t lo, hi, t, d, q;
	uint32_t w;
	u128 s;
	__m128i x, m;

	if (n < 12)
		return rec_crc_tables(rec, n);
	memcpy(&w, rec, sizeof(w));
	m = _mm_insert_epi32(_mm_loadu_si128((const __m128i *)(rec + 4)),
			     (int)~w, 0);
	if (!r) {
		x = m;
		p = rec + REC_HDR + 12;
		left = n - 12;
	} else {
		x = _mm_shuffle_epi8(m, clmul_mask(clmul_shift + r));
		p = rec + REC_HDR + r - 4;
		left = 4 + n - r;
		if (r < 4) {
			/* the next block still holds the end of the first */
			__m128i b = _mm_or_si128(
				_mm_shuffle_epi8(m, clmul_mask(clmul_shift + 16 + r)),
				_mm_and_si128(_mm_loadu_si128((const __m128i *)(rec + 4 + r)),
					      clmul_mask(clmul_top + r)));

			x = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
							_mm_clmulepi64_si128(x, k, 0x11)),
					  b);
			p = rec + REC_HDR + 12 + r;
			left = n - 12 - r;
		}
	}
	for (; left; p += 16, left -= 16)
		x = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
						_mm_clmulepi64_si128(x, k, 0x11)),
				  _mm_loadu_si128((const __m128i *)p));
	lo = (uint64_t)_mm_cvtsi128_si64(x);
	hi = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(x, x));
	/* 128 -> 96 bits: its low 32 bits are 0 */
	s = clmul64(lo, CLMUL_X96) ^ (u128)hi << 32;
	t = (uint64_t)s;
	/* 96 -> 64 */
	d = (uint64_t)(clmul64(t, CLMUL_X64) >> 64) ^ (uint64_t)(s >> 64);
	/* Barrett: the quotient by P, then the remainder */
	q = (uint64_t)(clmul64(d << 32, CLMUL_MU) >> 63) & 0xffffffffu;
	return ~(uint32_t)((d >> 32) ^
			   (uint64_t)(clmul64(q << 32, CLMUL_P) >> 95));
}
#endif

#if defined(__aarch64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
__attribute__((target("+crc"))) static uint32_t
rec_crc_arm(const uint8_t *rec, size_t n)
{
	const uint8_t *p = rec + REC_HDR;
	uint32_t crc, w;

	memcpy(&w, rec, sizeof(w));
	crc = __crc32w(0xffffffffu, w);
	for (; n >= 8; n -= 8, p += 8) {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		crc = __crc32d(crc, v);
	}
	while (n--)
		crc = __crc32b(crc, *p++);
	return ~crc;
}
#endif

__attribute__((constructor)) static void crc_init(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t c = b;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
		crc_tab[0][b] = c;
	}
	for (uint32_t b = 0; b < 256; b++)
		for (int k = 1; k < 8; k++)
			crc_tab[k][b] = (crc_tab[k - 1][b] >> 8) ^
					crc_tab[0][crc_tab[k - 1][b] & 0xff];
	rec_crc = rec_crc_tables;
	if (getenv("VS_CRC_PORTABLE")) /* for tests and comparisons */
		return;
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("pclmul") &&
	    __builtin_cpu_supports("sse4.1"))
		rec_crc = rec_crc_clmul;
#elif defined(__aarch64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (getauxval(AT_HWCAP) & HWCAP_CRC32)
		rec_crc = rec_crc_arm;
#endif
}

/* ------------------------------------------------------------ encoding */

static uint8_t *put_u8(uint8_t *p, unsigned int v)
{
	*p = (uint8_t)v;
	return p + 1;
}

static uint8_t *put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	return p + 2;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + 4;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + 8;
}

/* a string field of @size bytes: u8 length, then its bytes, no NUL */
static uint8_t *put_str(uint8_t *p, const char *s, size_t size)
{
	size_t n = strnlen(s, size - 1);

	*p++ = (uint8_t)n;
	memcpy(p, s, n);
	return p + n;
}

static unsigned int frame_check(const uint8_t *rec)
{
	return FRAME_CHECK ^ rec[0] ^ rec[2] ^ rec[3];
}

/* fill the framing of a record whose @n payload bytes follow it */
static size_t frame(uint8_t *rec, unsigned int type, size_t n)
{
	rec[0] = (uint8_t)type;
	put_u16(rec + 2, (uint16_t)n);
	rec[1] = (uint8_t)frame_check(rec);
	put_u32(rec + 4, rec_crc(rec, n));
	return REC_HDR + n;
}

/* the kinds that share a payload layout */
enum kind_group {
	G_NONE = 0, /* a kind with no encoding */
	G_PKT,
	G_IRQ,
	G_ALLOC,
	G_VQ,
	G_MBOX,
	G_MARK,
};

static enum kind_group kind_group(unsigned int kind)
{
	switch (kind) {
	case VS_EV_PKT_TX:
	case VS_EV_PKT_RX:
		return G_PKT;
	case VS_EV_IRQ:
	case VS_EV_IRQ_EXIT:
		return G_IRQ;
	case VS_EV_ALLOC:
		return G_ALLOC;
	case VS_EV_VQ_KICK:
	case VS_EV_VQ_IRQ:
	case VS_EV_VQ_ADD:
	case VS_EV_VQ_GET:
	case VS_EV_VQ_CALL:
		return G_VQ;
	case VS_EV_MBOX_TX:
	case VS_EV_MBOX_RX:
		return G_MBOX;
	case VS_EV_MARK:
		return G_MARK;
	default:
		return G_NONE;
	}
}

/* the present bits that mean something for @kind; 0 for an unknown kind */
static uint32_t kind_bits(unsigned int kind)
{
	static const uint32_t bits[] = {
		[G_PKT] = VS_HAS_HDR | VS_HAS_BUF_ALLOC | VS_HAS_FWD_CNT |
			  VS_HAS_ZCOPY,
		[G_IRQ] = VS_HAS_IRQ | VS_HAS_RET,
		[G_ALLOC] = VS_HAS_SIZE | VS_HAS_ORDER | VS_HAS_CALLSITE,
		[G_VQ] = VS_HAS_IDX | VS_HAS_NUM,
		[G_MBOX] = 0,
		[G_MARK] = 0,
	};
	enum kind_group g = kind_group(kind);

	return g == G_NONE ? 0 : CTX_BITS | bits[g];
}

/* an event record into @rec (EV_REC_MAX bytes): its size, or -EINVAL */
static int encode_event(const struct vs_event *ev, uint8_t *rec)
{
	uint32_t known = kind_bits(ev->kind), bits = ev->present & known;
	uint8_t *p = rec + REC_HDR;

	if (!known)
		return -EINVAL;
	p = put_u8(p, ev->kind);
	p = put_u32(p, bits);
	if (bits & VS_HAS_TS)
		p = put_u64(p, ev->ts_ns);
	if (bits & VS_HAS_CPU)
		p = put_u32(p, (uint32_t)ev->cpu);
	if (bits & VS_HAS_PID)
		p = put_u32(p, (uint32_t)ev->pid);
	if (bits & VS_HAS_COMM)
		p = put_str(p, ev->comm, sizeof(ev->comm));

	switch (kind_group(ev->kind)) {
	case G_PKT:
		if (bits & VS_HAS_HDR) {
			p = put_u64(p, ev->pkt.src_cid);
			p = put_u64(p, ev->pkt.dst_cid);
			p = put_u32(p, ev->pkt.src_port);
			p = put_u32(p, ev->pkt.dst_port);
			p = put_u32(p, ev->pkt.len);
			p = put_u16(p, ev->pkt.type);
			p = put_u16(p, ev->pkt.op);
			p = put_u32(p, ev->pkt.flags);
		}
		if (bits & VS_HAS_BUF_ALLOC)
			p = put_u32(p, ev->pkt.buf_alloc);
		if (bits & VS_HAS_FWD_CNT)
			p = put_u32(p, ev->pkt.fwd_cnt);
		if (bits & VS_HAS_ZCOPY)
			p = put_u8(p, ev->pkt.zcopy);
		break;
	case G_IRQ:
		if (bits & VS_HAS_IRQ)
			p = put_u32(p, (uint32_t)ev->irq.irq);
		if (bits & VS_HAS_RET)
			p = put_u32(p, (uint32_t)ev->irq.ret);
		p = put_str(p, ev->irq.name, sizeof(ev->irq.name));
		break;
	case G_ALLOC:
		p = put_u8(p, ev->alloc.source);
		p = put_u8(p, ev->alloc.failed);
		if (bits & VS_HAS_SIZE) {
			p = put_u64(p, ev->alloc.bytes_req);
			p = put_u64(p, ev->alloc.bytes_alloc);
		}
		if (bits & VS_HAS_ORDER)
			p = put_u16(p, (uint16_t)ev->alloc.order);
		if (bits & VS_HAS_CALLSITE)
			p = put_str(p, ev->alloc.call_site,
				    sizeof(ev->alloc.call_site));
		break;
	case G_VQ:
		p = put_str(p, ev->vq.dev, sizeof(ev->vq.dev));
		p = put_str(p, ev->vq.vq, sizeof(ev->vq.vq));
		if (bits & VS_HAS_IDX)
			p = put_u32(p, ev->vq.idx);
		if (bits & VS_HAS_NUM)
			p = put_u32(p, ev->vq.num);
		break;
	case G_MBOX:
		p = put_str(p, ev->mbox.chan, sizeof(ev->mbox.chan));
		p = put_u64(p, ev->mbox.msg);
		break;
	case G_MARK:
		p = put_str(p, ev->text, sizeof(ev->text));
		break;
	case G_NONE:
		break;
	}
	return (int)frame(rec, REC_EVENT, (size_t)(p - (rec + REC_HDR)));
}

/* one "key=value\n" line of the header; -EINVAL for a newline in it */
static int put_kv(char *buf, size_t *off, const char *key, const char *val,
		  size_t size)
{
	size_t n = strnlen(val, size - 1);
	int len;

	if (memchr(val, '\n', n))
		return -EINVAL;
	len = snprintf(buf + *off, HDR_TEXT_MAX - *off, "%s=%.*s\n", key,
		       (int)n, val);
	if (len < 0 || (size_t)len >= HDR_TEXT_MAX - *off)
		return -EINVAL;
	*off += (size_t)len;
	return 0;
}

#define PUT_STR(key, field) \
	put_kv(text, &n, key, info->field, sizeof(info->field))

/* the header record into @rec (REC_HDR + HDR_TEXT_MAX bytes) */
static int encode_header(const struct vs_capture_info *info, uint8_t *rec)
{
	char *text = (char *)rec + REC_HDR, num[3][32];
	size_t n = 0;
	int err;

	snprintf(num[0], sizeof(num[0]), "%" PRId64,
		 info->cid < 0 ? (int64_t)-1 : info->cid);
	snprintf(num[1], sizeof(num[1]), "%" PRIu64, info->start_realtime_ns);
	snprintf(num[2], sizeof(num[2]), "%" PRIu64, info->start_ts_ns);
	snprintf(text, HDR_TEXT_MAX, "version=%u.%u\n",
		 VS_CAPTURE_VERSION_MAJOR, VS_CAPTURE_VERSION_MINOR);
	n = strlen(text);
	err = info->writer[0] ?
		      PUT_STR("writer", writer) :
		      put_kv(text, &n, "writer", "vsockscope " VS_VERSION, 32);
	err = err ?: PUT_STR("system", system);
	err = err ?: PUT_STR("kernel", kernel);
	err = err ?: PUT_STR("arch", arch);
	err = err ?: put_kv(text, &n, "cid", num[0], sizeof(num[0]));
	err = err ?: PUT_STR("clock", clock);
	err = err ?: PUT_STR("backend", backend);
	err = err ?: PUT_STR("probes_attached", probes_attached);
	err = err ?: PUT_STR("probes_refused", probes_refused);
	err = err   ?:
		      put_kv(text, &n, "start_realtime_ns", num[1],
			     sizeof(num[1]));
	err = err ?: put_kv(text, &n, "start_ts_ns", num[2], sizeof(num[2]));
	if (err)
		return err;
	return (int)frame(rec, REC_HEADER, n);
}

/* ------------------------------------------------------------ writer */

struct vs_capture_writer {
	int fd;
	size_t used; /* bytes queued in buf */
	uint64_t events; /* records queued, for the end record */
	uint64_t lost_records;
	uint64_t lost;
	uint8_t buf[WBUF_SIZE];
};

/* write out what is queued; what the file refuses stays at the front */
static int drain(struct vs_capture_writer *w)
{
	size_t off = 0;
	int err = 0;

	while (off < w->used) {
		ssize_t n = write(w->fd, w->buf + off, w->used - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
	}
	if (off) {
		memmove(w->buf, w->buf + off, w->used - off);
		w->used -= off;
	}
	return err;
}

/* queue one whole record, or refuse it whole */
static int queue(struct vs_capture_writer *w, const uint8_t *rec, size_t n)
{
	int err = 0;

	if (WBUF_SIZE - w->used < n) {
		err = drain(w);
		if (WBUF_SIZE - w->used < n)
			return err ? err : -EIO;
	}
	memcpy(w->buf + w->used, rec, n);
	w->used += n;
	return 0;
}

struct vs_capture_writer *
vs_capture_writer_new(int fd, const struct vs_capture_info *info)
{
	struct vs_capture_writer *w;
	int n, err;

	if (!info || fd < 0) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	w->fd = fd;
	memcpy(w->buf, VS_CAPTURE_MAGIC, VS_CAPTURE_MAGIC_LEN);
	n = encode_header(info, w->buf + VS_CAPTURE_MAGIC_LEN);
	if (n < 0) {
		err = n;
		goto err_free;
	}
	w->used = VS_CAPTURE_MAGIC_LEN + (size_t)n;
	err = drain(w);
	if (err)
		goto err_free;
	return w;

err_free:
	free(w);
	errno = -err;
	return NULL;
}

int vs_capture_write_event(struct vs_capture_writer *w,
			   const struct vs_event *ev)
{
	uint8_t rec[EV_REC_MAX];
	int n = encode_event(ev, rec);

	if (n < 0)
		return n;
	n = queue(w, rec, (size_t)n);
	if (!n)
		w->events++;
	return n;
}

int vs_capture_write_lost(struct vs_capture_writer *w,
			  const struct vs_capture_lost *lost)
{
	uint8_t rec[REC_HDR + 24], *p = rec + REC_HDR;
	int err;

	p = put_u64(p, lost->count);
	p = put_u64(p, lost->ts_ns);
	p = put_u32(p, (uint32_t)lost->cpu);
	p = put_u32(p, lost->reason);
	err = queue(w, rec, frame(rec, REC_LOST, (size_t)(p - rec) - REC_HDR));
	if (!err) {
		w->lost_records++;
		w->lost += lost->count;
	}
	return err;
}

int vs_capture_flush(struct vs_capture_writer *w)
{
	return drain(w);
}

size_t vs_capture_writer_pending(const struct vs_capture_writer *w)
{
	return w->used;
}

int vs_capture_writer_close(struct vs_capture_writer *w)
{
	uint8_t rec[REC_HDR + 24], *p = rec + REC_HDR;
	int err, err2;

	if (!w)
		return 0;
	p = put_u64(p, w->events);
	p = put_u64(p, w->lost_records);
	p = put_u64(p, w->lost);
	err = queue(w, rec, frame(rec, REC_END, (size_t)(p - rec) - REC_HDR));
	err2 = drain(w);
	free(w);
	return err ?: err2;
}

/* ------------------------------------------------------------ decoding */

/* a bounded cursor over a payload; reading past its end sets bad */
struct dec {
	const uint8_t *p;
	size_t left;
	bool bad;
};

/*
 * always inlined: @n is a constant and the bytes are one load. take_le()
 * is for fields whose room was checked before, as a group.
 */
static inline __attribute__((always_inline)) uint64_t take_le(struct dec *d,
							      unsigned int n)
{
	uint64_t v = 0;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(&v, d->p, n);
#else
	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)d->p[i] << (8 * i);
#endif
	d->p += n;
	d->left -= n;
	return v;
}

static inline __attribute__((always_inline)) uint64_t get_le(struct dec *d,
							     unsigned int n)
{
	if (d->left < n) {
		d->bad = true;
		d->left = 0;
		return 0;
	}
	return take_le(d, n);
}

#define get_u8(d) ((uint8_t)get_le(d, 1))
#define get_u16(d) ((uint16_t)get_le(d, 2))
#define get_u32(d) ((uint32_t)get_le(d, 4))
#define get_u64(d) get_le(d, 8)

/* a string into a field of @size bytes; a longer one is cut to fit */
static inline __attribute__((always_inline)) void
get_str(struct dec *d, char *dst, size_t size)
{
	size_t n = get_u8(d), keep;

	if (d->left < n) {
		d->bad = true;
		d->left = 0;
		n = 0;
	}
	keep = n < size - 1 ? n : size - 1;
	memcpy(dst, d->p, keep);
	dst[keep] = '\0';
	d->p += n;
	d->left -= n;
}

/* 1 with *ev filled, 0 for a kind this reader does not know, -EBADMSG */
static int decode_event(const uint8_t *p, size_t n, struct vs_event *ev)
{
	struct dec d = { p, n, false };
	uint32_t bits;
	unsigned int kind;

	kind = get_u8(&d);
	bits = get_u32(&d);
	if (d.bad)
		return -EBADMSG;
	if (!kind_bits(kind))
		return 0;
	/* bits a newer writer added: their fields follow all of ours */
	bits &= kind_bits(kind);
	vs_event_clear(ev);
	ev->kind = (uint16_t)kind;
	ev->present = bits;
	/* the fixed fields of the common part, then of a packet, are
	 * checked for room at once: records are read by the million */
	if (d.left < (bits & VS_HAS_TS ? 8u : 0u) + (bits & VS_HAS_CPU ? 4u : 0u) +
			     (bits & VS_HAS_PID ? 4u : 0u))
		return -EBADMSG;
	if (bits & VS_HAS_TS)
		ev->ts_ns = take_le(&d, 8);
	if (bits & VS_HAS_CPU)
		ev->cpu = (int32_t)take_le(&d, 4);
	if (bits & VS_HAS_PID)
		ev->pid = (int32_t)take_le(&d, 4);
	if (bits & VS_HAS_COMM)
		get_str(&d, ev->comm, sizeof(ev->comm));

	switch (kind_group(kind)) {
	case G_PKT:
		if (d.left < (bits & VS_HAS_HDR ? 36u : 0u) +
				     (bits & VS_HAS_BUF_ALLOC ? 4u : 0u) +
				     (bits & VS_HAS_FWD_CNT ? 4u : 0u) +
				     (bits & VS_HAS_ZCOPY ? 1u : 0u))
			return -EBADMSG;
		if (bits & VS_HAS_HDR) {
			ev->pkt.src_cid = take_le(&d, 8);
			ev->pkt.dst_cid = take_le(&d, 8);
			ev->pkt.src_port = (uint32_t)take_le(&d, 4);
			ev->pkt.dst_port = (uint32_t)take_le(&d, 4);
			ev->pkt.len = (uint32_t)take_le(&d, 4);
			ev->pkt.type = (uint16_t)take_le(&d, 2);
			ev->pkt.op = (uint16_t)take_le(&d, 2);
			ev->pkt.flags = (uint32_t)take_le(&d, 4);
		}
		if (bits & VS_HAS_BUF_ALLOC)
			ev->pkt.buf_alloc = (uint32_t)take_le(&d, 4);
		if (bits & VS_HAS_FWD_CNT)
			ev->pkt.fwd_cnt = (uint32_t)take_le(&d, 4);
		if (bits & VS_HAS_ZCOPY)
			ev->pkt.zcopy = (uint8_t)take_le(&d, 1);
		break;
	case G_IRQ:
		if (bits & VS_HAS_IRQ)
			ev->irq.irq = (int32_t)get_u32(&d);
		if (bits & VS_HAS_RET)
			ev->irq.ret = (int32_t)get_u32(&d);
		get_str(&d, ev->irq.name, sizeof(ev->irq.name));
		break;
	case G_ALLOC:
		ev->alloc.source = get_u8(&d);
		ev->alloc.failed = get_u8(&d);
		if (bits & VS_HAS_SIZE) {
			ev->alloc.bytes_req = get_u64(&d);
			ev->alloc.bytes_alloc = get_u64(&d);
		}
		if (bits & VS_HAS_ORDER)
			ev->alloc.order = (int16_t)get_u16(&d);
		if (bits & VS_HAS_CALLSITE)
			get_str(&d, ev->alloc.call_site,
				sizeof(ev->alloc.call_site));
		break;
	case G_VQ:
		get_str(&d, ev->vq.dev, sizeof(ev->vq.dev));
		get_str(&d, ev->vq.vq, sizeof(ev->vq.vq));
		if (bits & VS_HAS_IDX)
			ev->vq.idx = get_u32(&d);
		if (bits & VS_HAS_NUM)
			ev->vq.num = get_u32(&d);
		break;
	case G_MBOX:
		get_str(&d, ev->mbox.chan, sizeof(ev->mbox.chan));
		ev->mbox.msg = get_u64(&d);
		break;
	case G_MARK:
		get_str(&d, ev->text, sizeof(ev->text));
		break;
	case G_NONE:
		break;
	}
	/* bytes left over are fields of a newer minor version */
	return d.bad ? -EBADMSG : 1;
}

/* ------------------------------------------------------------ reader */

struct vs_capture_reader {
	const uint8_t *buf;
	size_t len;
	size_t off; /* the next record */
	uint64_t base; /* bytes dropped before buf (rebase) */
	uint64_t good_to; /* base + off of the first record not checked ahead */
	uint64_t ev_records; /* event records, decoded or skipped */
	int state; /* 0 reading, 1 end record read, -EBADMSG */
	struct vs_capture_info info;
	struct vs_capture_stats st;
};

bool vs_capture_detect(const void *buf, size_t len)
{
	return len >= VS_CAPTURE_MAGIC_LEN &&
	       !memcmp(buf, VS_CAPTURE_MAGIC, VS_CAPTURE_MAGIC_LEN);
}

/* where the run of zero bytes that ends the input begins (>= @from) */
static size_t zeros_from(const uint8_t *buf, size_t from, size_t len)
{
	while (len > from && !buf[len - 1])
		len--;
	return len;
}

static uint32_t rec_stored_crc(const uint8_t *rec)
{
	return (uint32_t)rec[4] | (uint32_t)rec[5] << 8 |
	       (uint32_t)rec[6] << 16 | (uint32_t)rec[7] << 24;
}

/* rec_check()'s verdicts */
enum { REC_OK = 1, REC_SHORT = 0, REC_BAD_FRAME = -1, REC_BAD_CRC = -2 };

/*
 * rec_check - the record at @off against its framing and CRC (*@plen set
 * once its length is known), without telling damage from a torn tail
 */
static int rec_check(const uint8_t *buf, size_t len, size_t off, size_t *plen)
{
	const uint8_t *rec = buf + off;
	size_t left = len - off, n;

	if (left >= 4 && rec[1] != frame_check(rec))
		return REC_BAD_FRAME;
	if (left < REC_HDR)
		return REC_SHORT;
	n = (size_t)rec[2] | (size_t)rec[3] << 8;
	if (left - REC_HDR < n)
		return REC_SHORT;
	*plen = n;
	return rec_crc(rec, n) == rec_stored_crc(rec) ? REC_OK : REC_BAD_CRC;
}

/*
 * The record at @off: 1 when it is whole and sound (*type, *pl, *plen
 * set), 0 when the input ends inside it (the torn tail of a killed writer
 * or a full disk), -EBADMSG when it is damaged.
 *
 * A file system can keep a file's new size after a crash but not its last
 * blocks, which then read as zeros. A record that fails its check is that
 * torn tail, not damage, when the input is zero from inside the record to
 * its end and goes on past it (or the zeros start in its framing).
 * @good: check_ahead() passed it, only its length is read.
 */
static int rec_at(const uint8_t *buf, size_t len, size_t off, bool good,
		  unsigned int *type, const uint8_t **pl, size_t *plen)
{
	const uint8_t *rec = buf + off;
	size_t n = 0, end;
	int v = REC_OK;

	if (good)
		n = (size_t)rec[2] | (size_t)rec[3] << 8;
	else
		v = rec_check(buf, len, off, &n);
	switch (v) {
	case REC_SHORT:
		return 0;
	case REC_BAD_FRAME:
		return zeros_from(buf, off, len) < off + REC_HDR ? 0 : -EBADMSG;
	case REC_BAD_CRC:
		end = off + REC_HDR + n;
		return zeros_from(buf, off, len) < end && len > end ? 0 :
								      -EBADMSG;
	}
	*type = rec[0];
	*pl = rec + REC_HDR;
	*plen = n;
	return 1;
}

/*
 * check_ahead - rec_check() of up to CHECK_AHEAD whole records from @off,
 * one after the other: the chains of multiplications of successive CRCs
 * then overlap, where one at a time between the decoding and analysis of
 * each event they did not. Returns where the first record not known good
 * starts; rec_at() checks that one when it is due, and says why.
 */
#define CHECK_AHEAD 32

static size_t check_ahead(const uint8_t *buf, size_t len, size_t off)
{
	size_t n;

	for (unsigned int i = 0; i < CHECK_AHEAD; i++) {
		if (rec_check(buf, len, off, &n) != REC_OK)
			break;
		off += REC_HDR + n;
	}
	return off;
}

/* a decimal number, all of [s, s + n); -1 when it is not one */
static int parse_u64(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (!n || n > 20)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned int dig = (unsigned char)s[i] - '0';

		if (dig > 9 || x > (UINT64_MAX - dig) / 10)
			return -1;
		x = x * 10 + dig;
	}
	*v = x;
	return 0;
}

static void copy_val(char *dst, size_t size, const char *v, size_t n)
{
	if (n > size - 1)
		n = size - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* one header line; unknown keys are a newer writer's and are ignored */
static int header_line(struct vs_capture_info *info, const char *key,
		       size_t klen, const char *v, size_t n)
{
	static const struct {
		const char *key;
		size_t off, size;
	} strs[] = {
#define S(f)                                       \
	{ #f, offsetof(struct vs_capture_info, f), \
	  sizeof(((struct vs_capture_info *)0)->f) }
		S(writer), S(system),  S(kernel),	   S(arch),
		S(clock),  S(backend), S(probes_attached), S(probes_refused),
#undef S
	};
	uint64_t x;

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (strlen(strs[i].key) == klen &&
		    !memcmp(strs[i].key, key, klen)) {
			copy_val((char *)info + strs[i].off, strs[i].size, v,
				 n);
			return 0;
		}
	}
	if (klen == 3 && !memcmp(key, "cid", 3)) {
		if (n == 2 && !memcmp(v, "-1", 2))
			info->cid = -1;
		else if (!parse_u64(v, n, &x) && x <= INT64_MAX)
			info->cid = (int64_t)x;
		else
			return -EBADMSG;
	} else if (klen == 17 && !memcmp(key, "start_realtime_ns", 17)) {
		if (parse_u64(v, n, &info->start_realtime_ns))
			return -EBADMSG;
	} else if (klen == 11 && !memcmp(key, "start_ts_ns", 11)) {
		if (parse_u64(v, n, &info->start_ts_ns))
			return -EBADMSG;
	}
	return 0;
}

/* "version=M.m", then "key=value" lines */
static int parse_header(const uint8_t *p, size_t len,
			struct vs_capture_info *info)
{
	const char *s = (const char *)p, *end = s + len;
	uint64_t major, minor;
	bool first = true;
	int err;

	memset(info, 0, sizeof(*info));
	info->cid = -1;
	while (s < end) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		const char *eq, *dot;

		if (!eol)
			eol = end;
		eq = memchr(s, '=', (size_t)(eol - s));
		if (first) {
			/* the version line decides how to read the rest */
			if (!eq || eq - s != 7 || memcmp(s, "version", 7))
				return -EBADMSG;
			dot = memchr(eq, '.', (size_t)(eol - eq));
			if (!dot ||
			    parse_u64(eq + 1, (size_t)(dot - eq - 1), &major) ||
			    parse_u64(dot + 1, (size_t)(eol - dot - 1), &minor))
				return -EBADMSG;
			if (major != VS_CAPTURE_VERSION_MAJOR)
				return -EPROTONOSUPPORT;
			info->version_major = (uint16_t)major;
			info->version_minor = minor > UINT16_MAX ?
						      UINT16_MAX :
						      (uint16_t)minor;
			first = false;
		} else if (eq) {
			err = header_line(info, s, (size_t)(eq - s), eq + 1,
					  (size_t)(eol - eq - 1));
			if (err)
				return err;
		}
		s = eol + 1;
	}
	return first ? -EBADMSG : 0;
}

struct vs_capture_reader *vs_capture_reader_new(const void *buf, size_t len,
						int *errp)
{
	struct vs_capture_reader *r;
	const uint8_t *pl;
	unsigned int type;
	size_t plen;
	int err;

	if (!len || (len < VS_CAPTURE_MAGIC_LEN &&
		     !memcmp(buf, VS_CAPTURE_MAGIC, len))) {
		err = -ENODATA;
		goto err_out;
	}
	if (!vs_capture_detect(buf, len)) {
		err = -EMEDIUMTYPE;
		goto err_out;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto err_out;
	}
	r->buf = buf;
	r->len = len;
	err = rec_at(r->buf, len, VS_CAPTURE_MAGIC_LEN, false, &type, &pl,
		     &plen);
	if (err == 0)
		err = -ENODATA;
	else if (err > 0 && type != REC_HEADER)
		err = -EBADMSG;
	else if (err > 0)
		err = parse_header(pl, plen, &r->info);
	if (err)
		goto err_free;
	r->off = VS_CAPTURE_MAGIC_LEN + REC_HDR + plen;
	r->st.good_bytes = r->off;
	return r;

err_free:
	free(r);
err_out:
	if (errp)
		*errp = err;
	errno = -err;
	return NULL;
}

int vs_capture_reader_update(struct vs_capture_reader *r, const void *buf,
			     size_t len)
{
	if (len < r->off)
		return -EINVAL;
	r->buf = buf;
	r->len = len;
	return 0;
}

size_t vs_capture_reader_consumed(const struct vs_capture_reader *r)
{
	return r->off;
}

int vs_capture_reader_rebase(struct vs_capture_reader *r, const void *buf,
			     size_t len, size_t dropped)
{
	if (dropped > r->off || len < r->off - dropped)
		return -EINVAL;
	r->buf = buf;
	r->len = len;
	r->off -= dropped;
	r->base += dropped;
	if (r->good_to > r->base + len)
		r->good_to = r->base + r->off;
	return 0;
}

const struct vs_capture_info *
vs_capture_reader_info(const struct vs_capture_reader *r)
{
	return &r->info;
}

static int damaged(struct vs_capture_reader *r)
{
	r->state = -EBADMSG;
	r->st.damaged = true;
	r->st.tail_bytes = r->len - r->off;
	return -EBADMSG;
}

/* an end record: the counts of what the writer queued before it */
static int end_record(struct vs_capture_reader *r, const uint8_t *p, size_t n)
{
	struct dec d = { p, n, false };
	uint64_t events = get_u64(&d), lost_records = get_u64(&d);
	uint64_t lost = get_u64(&d);

	if (d.bad || events != r->ev_records ||
	    lost_records != r->st.lost_records || lost != r->st.lost)
		return -EBADMSG;
	return 0;
}

int vs_capture_next(struct vs_capture_reader *r, struct vs_event *ev,
		    struct vs_capture_lost *lost)
{
	struct vs_capture_lost l;
	const uint8_t *pl;
	unsigned int type;
	size_t plen, next;
	int ret;

	if (r->state < 0)
		return r->state;
	if (r->state > 0)
		return VS_CAPTURE_END;
	for (;;) {
		r->st.truncated = false;
		r->st.tail_bytes = 0;
		if (r->off == r->len)
			return VS_CAPTURE_END;
		if (r->base + r->off >= r->good_to)
			r->good_to = r->base +
				     check_ahead(r->buf, r->len, r->off);
		ret = rec_at(r->buf, r->len, r->off,
			     r->base + r->off < r->good_to, &type, &pl, &plen);
		if (ret < 0)
			return damaged(r);
		if (ret == 0) {
			r->st.truncated = true;
			r->st.tail_bytes = r->len - r->off;
			return VS_CAPTURE_END;
		}
		next = r->off + REC_HDR + plen;
		switch (type) {
		case REC_EVENT:
			ret = decode_event(pl, plen, ev);
			if (ret < 0)
				return damaged(r);
			r->ev_records++;
			break;
		case REC_LOST: {
			struct dec d = { pl, plen, false };

			l.count = get_u64(&d);
			l.ts_ns = get_u64(&d);
			l.cpu = (int32_t)get_u32(&d);
			l.reason = get_u32(&d);
			if (d.bad || r->st.lost + l.count < r->st.lost)
				return damaged(r);
			r->st.lost += l.count;
			r->st.lost_records++;
			if (lost)
				*lost = l;
			ret = VS_CAPTURE_LOST;
			break;
		}
		case REC_END:
			if (end_record(r, pl, plen))
				return damaged(r);
			r->off = next;
			r->st.good_bytes = r->base + next;
			r->st.tail_bytes = r->len - next;
			r->st.complete = true;
			r->state = 1;
			return VS_CAPTURE_END;
		case REC_HEADER: /* one header only: two files run together */
			return damaged(r);
		default: /* a record type of a newer version */
			ret = 0;
			break;
		}
		r->off = next;
		r->st.good_bytes = r->base + next;
		if (ret) {
			if (ret == VS_CAPTURE_EVENT)
				r->st.events++;
			return ret;
		}
		r->st.skipped++;
	}
}

const struct vs_capture_stats *
vs_capture_reader_stats(const struct vs_capture_reader *r)
{
	return &r->st;
}

bool vs_capture_reader_truncated(const struct vs_capture_reader *r)
{
	return r->st.truncated;
}

uint64_t vs_capture_reader_lost(const struct vs_capture_reader *r)
{
	return r->st.lost;
}

void vs_capture_reader_free(struct vs_capture_reader *r)
{
	free(r);
}

const char *vs_capture_strerror(int err)
{
	switch (err) {
	case -ENODATA:
		return "no capture header (the file is empty, or was cut "
		       "before its header was written)";
	case -EMEDIUMTYPE:
		return "not a vsock capture file";
	case -EPROTONOSUPPORT:
		return "capture format version not supported (a newer "
		       "vsock-trace wrote it)";
	case -EBADMSG:
		return "damaged capture record (checksum or framing "
		       "mismatch)";
	default:
		return strerror(err < 0 ? -err : err);
	}
}
