// SPDX-License-Identifier: GPL-2.0-only
/*
 * A text source: read() into a fixed buffer, split lines with memchr, parse.
 * Memory stays the same whatever the length of the input. A large regular
 * file is parsed by worker threads, a chunk each, and handed out in order. Input that is not
 * a regular file (stdin, a pipe) is copied to an unlinked temporary file as
 * it is read, so that it can be read a second time.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "capture.h"
#include "source.h"
#include "source_text.h"

#define BUF_SIZE (4u << 20)
/*
 * A capture read from a file or a pipe goes through src->buf this much at
 * a time: the bytes copied in are still in the cache when their records
 * are decoded, and the window's pages stay in the TLB. (Reading a mapped
 * capture instead costs a TLB miss per page, more than its records.)
 */
#define CAP_READ (256u << 10)

struct vs_source {
	int fd;		/* -1 for memory sources */
	bool own_fd;	/* close fd at the end */
	int spool_fd;	/* copy of a non-seekable input, or -1 */
	bool spooling;	/* copying what is read to spool_fd */
	char *buf;	/* buf_size + 1 bytes */
	size_t buf_size; /* BUF_SIZE; more for a capture that needs it */
	size_t read_max; /* most bytes a fill() reads */
	size_t head;	/* next unread byte in buf */
	size_t tail;	/* end of valid bytes in buf */
	bool eof;
	bool skipping;	/* in the middle of an over-long line */
	const char *mem; /* memory source */
	size_t mem_len;
	uint64_t done;
	uint64_t total;
	uint64_t last_ts;
	struct vs_source_stats st;
	struct par *par; /* worker threads, for big regular files */
	bool par_tried;
	unsigned int flags; /* VS_PARSE_* */
	struct vs_event cur; /* vs_source_next_ref() without threads */
	/* a capture file (vsock-capture(5)) rather than text */
	bool cap_checked;
	struct vs_capture_reader *cap;
	bool cap_window; /* read through buf, not held whole in memory */
};

static struct vs_source *source_new(void)
{
	struct vs_source *src = calloc(1, sizeof(*src));

	if (!src)
		return NULL;
	src->fd = -1;
	src->spool_fd = -1;
	return src;
}

struct vs_source *vs_source_open(const char *path)
{
	struct vs_source *src;
	struct stat sb;
	int err;

	src = source_new();
	if (!src)
		return NULL;
	if (!strcmp(path, "-")) {
		src->fd = STDIN_FILENO;
	} else {
		src->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (src->fd < 0)
			goto err;
		src->own_fd = true;
	}
	if (fstat(src->fd, &sb))
		goto err;
	if (S_ISDIR(sb.st_mode)) {
		errno = EISDIR;
		goto err;
	}
	if (S_ISREG(sb.st_mode)) {
		src->total = (uint64_t)sb.st_size;
		posix_fadvise(src->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	src->buf = malloc(BUF_SIZE + 1);
	if (!src->buf)
		goto err;
	src->buf_size = src->read_max = BUF_SIZE;
	return src;
err:
	err = errno;
	vs_source_close(src);
	errno = err;
	return NULL;
}

struct vs_source *vs_source_open_mem(const char *buf, size_t len)
{
	struct vs_source *src = source_new();

	if (!src)
		return NULL;
	src->mem = buf;
	src->mem_len = len;
	src->total = len;
	return src;
}

static void par_stop(struct vs_source *src);

void vs_source_close(struct vs_source *src)
{
	if (!src)
		return;
	par_stop(src);
	vs_capture_reader_free(src->cap);
	if (src->own_fd && src->fd >= 0)
		close(src->fd);
	if (src->spool_fd >= 0)
		close(src->spool_fd);
	if (!src->mem)
		free(src->buf);
	free(src);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
#endif
	snprintf(path, sizeof(path), "%s/vsockscope-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* refill: move the partial line to the front, read more */
static int fill(struct vs_source *src)
{
	size_t keep = src->tail - src->head, want;
	ssize_t r;

	if (src->head) {
		memmove(src->buf, src->buf + src->head, keep);
		src->head = 0;
		src->tail = keep;
	}
	want = src->buf_size - src->tail;
	if (want > src->read_max)
		want = src->read_max;
	for (;;) {
		r = read(src->fd, src->buf + src->tail, want);
		if (r >= 0)
			break;
		if (errno != EINTR)
			return -errno;
	}
	if (r == 0) {
		src->eof = true;
		return 0;
	}
	if (src->spooling) {
		int err = write_all(src->spool_fd, src->buf + src->tail,
				    (size_t)r);

		if (err)
			return err;
	}
	src->tail += (size_t)r;
	return 1;
}

/*
 * next line: 1 with the line and its length set, 0 at the end, -errno.
 * Lines longer than VS_MAX_LINE come back with *len = SIZE_MAX.
 */
static int next_line(struct vs_source *src, const char **line, size_t *len)
{
	if (src->mem) {
		const char *p = src->mem + src->head, *nl;
		size_t left = src->mem_len - src->head;

		if (!left)
			return 0;
		nl = memchr(p, '\n', left);
		*line = p;
		*len = nl ? (size_t)(nl - p) : left;
		src->head += *len + (nl ? 1 : 0);
		src->done = src->head;
		if (*len > VS_MAX_LINE)
			*len = SIZE_MAX;
		return 1;
	}
	for (;;) {
		char *p = src->buf + src->head, *nl;
		size_t left = src->tail - src->head;
		int r;

		nl = left ? memchr(p, '\n', left) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - p);

			src->head += n + 1;
			src->done += n + 1;
			if (src->skipping) {
				src->skipping = false;
				*line = p;
				*len = SIZE_MAX;
				return 1;
			}
			*line = p;
			*len = n > VS_MAX_LINE ? SIZE_MAX : n;
			return 1;
		}
		if (left >= VS_MAX_LINE + 1 || (src->skipping && left)) {
			/* an over-long line: drop what we have of it */
			src->skipping = true;
			src->done += left;
			src->head = src->tail = 0;
		}
		if (src->eof) {
			if (!left && !src->skipping)
				return 0;
			/* a last line without newline (a truncated file) */
			src->head = src->tail;
			src->done += left;
			*line = p;
			*len = src->skipping ? SIZE_MAX : left;
			src->skipping = false;
			return 1;
		}
		r = fill(src);
		if (r < 0)
			return r;
	}
}

static void note_bad(struct vs_source_stats *st, const char *line, size_t len)
{
	size_t i, n;

	st->skipped++;
	if (st->first_bad_line)
		return;
	st->first_bad_line = st->lines;
	if (len == SIZE_MAX) {
		snprintf(st->first_bad, sizeof(st->first_bad),
			 "(line longer than %d bytes)", VS_MAX_LINE);
		return;
	}
	n = len < sizeof(st->first_bad) - 1 ? len : sizeof(st->first_bad) - 1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)line[i];

		st->first_bad[i] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
	}
	st->first_bad[n] = '\0';
}

/* one line: 1 with *ev filled, 0 when it held no event (counted in @st) */
static int take_line(struct vs_source_stats *st, const char *line, size_t len,
		     struct vs_event *ev, unsigned int flags)
{
	uint64_t lost;

	st->lines++;
	if (len == SIZE_MAX) {
		note_bad(st, line, len);
		return 0;
	}
	switch (vs_text_parse_line_flags(line, len, ev, &lost, flags)) {
	case VS_LINE_EVENT:
		return 1;
	case VS_LINE_LOST:
		st->lost += lost;
		return 0;
	case VS_LINE_IGNORED:
		return 0;
	default:
		note_bad(st, line, len);
		return 0;
	}
}

/* in input order: timestamps for events without one, counts */
static void account(struct vs_source *src, struct vs_event *ev)
{
	if (ev->present & VS_HAS_TS)
		src->last_ts = ev->ts_ns;
	else
		ev->ts_ns = src->last_ts;
	if (!src->st.events)
		src->st.first_ts = ev->ts_ns;
	src->st.last_ts = ev->ts_ns;
	src->st.events++;
}

/* ---- parallel parsing of large regular files ---- */

#define CHUNK (2u << 20)

struct pchunk {
	uint64_t index;
	int state; /* CH_FREE, CH_BUSY, CH_READY */
	struct vs_event *ev;
	size_t nev, cap;
	struct vs_source_stats st;
	uint64_t bytes;
	int err;
};

enum { CH_FREE, CH_BUSY, CH_READY };

struct par {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t threads[8];
	unsigned int nthreads;
	struct pchunk *slots;
	unsigned int nslots;
	uint64_t nchunks;
	uint64_t next_take;	/* next chunk a worker takes */
	uint64_t cur;		/* chunk the reader is in */
	bool stop;
	int fd;
	uint64_t size;
	uint64_t page;
	unsigned int flags;
	/* the reader's own, touched for every event: a cache line of their
	 * own, away from the lock the workers take */
	struct pchunk *cc __attribute__((aligned(64))); /* its slot */
	size_t pos;		/* next event in it */
	char pad[64 - sizeof(struct pchunk *) - sizeof(size_t)];
};

/* room for one more event, parsed in place */
static int chunk_reserve(struct pchunk *c)
{
	if (c->nev == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8192;
		struct vs_event *v = realloc(c->ev, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->ev = v;
		c->cap = cap;
	}
	return 0;
}

/*
 * Newlines a block of 64 bytes at a time, one bit each: a line then costs
 * a count of trailing zeros, not a memchr call.
 */
struct nl_scan {
	const char *buf;
	size_t len;
	size_t blk;	/* start of the block the mask is of */
	uint64_t mask;	/* its newlines not returned yet */
};

#ifdef __SSE2__
#include <emmintrin.h>

static inline uint64_t nl16(const char *p)
{
	__m128i v = _mm_loadu_si128((const __m128i *)p);

	return (uint64_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));
}
#else
static inline uint64_t nl16(const char *p)
{
	uint64_t m = 0;

	for (unsigned int i = 0; i < 16; i++)
		m |= (uint64_t)(p[i] == '\n') << i;
	return m;
}
#endif

static inline uint64_t nl_mask(const char *p, size_t n)
{
	uint64_t m = 0;

	if (n >= 64)
		return nl16(p) | nl16(p + 16) << 16 | nl16(p + 32) << 32 |
		       nl16(p + 48) << 48;
	for (size_t i = 0; i < n; i++)
		m |= (uint64_t)(p[i] == '\n') << i;
	return m;
}

static void nl_start(struct nl_scan *s, const char *buf, size_t len,
		     size_t pos)
{
	s->buf = buf;
	s->len = len;
	s->blk = pos & ~(size_t)63;
	s->mask = nl_mask(buf + s->blk, len - s->blk) &
		  (~0ull << (pos - s->blk));
}

/* the next newline, or NULL */
static inline const char *nl_next(struct nl_scan *s)
{
	size_t i;

	while (!s->mask) {
		s->blk += 64;
		if (s->blk >= s->len)
			return NULL;
		s->mask = nl_mask(s->buf + s->blk, s->len - s->blk);
	}
	i = s->blk + (size_t)__builtin_ctzll(s->mask);
	s->mask &= s->mask - 1;
	return s->buf + i;
}

/*
 * Chunk k holds the lines that start in [k * CHUNK, (k + 1) * CHUNK). It
 * reads one byte before (to see whether a line starts at its first byte)
 * and up to a maximal line after.
 */
static void parse_chunk(struct par *p, struct pchunk *c)
{
	uint64_t base = c->index * CHUNK, lim = base + CHUNK;
	uint64_t from = base ? base - 1 : 0, map_off;
	size_t got, pos = 0, map_len;
	struct nl_scan nls;
	char *map, *buf;

	memset(&c->st, 0, sizeof(c->st));
	c->nev = 0;
	c->err = 0;
	if (lim > p->size)
		lim = p->size;
	c->bytes = lim - base;
	/* mapped, not copied: the page cache is read in place */
	got = CHUNK + VS_MAX_LINE + 2;
	if (from + got > p->size)
		got = (size_t)(p->size - from);
	map_off = from & ~(uint64_t)(p->page - 1);
	map_len = got + (size_t)(from - map_off);
	map = mmap(NULL, map_len, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
		   p->fd, (off_t)map_off);
	if (map == MAP_FAILED) {
		c->err = -errno;
		return;
	}
	buf = map + (from - map_off);
	if (base) {
		/* skip to the first line that starts at or after base */
		char *nl = memchr(buf, '\n', got);

		if (!nl) {
			munmap(map, map_len);
			return;
		}
		pos = (size_t)(nl - buf) + 1;
	}
	nl_start(&nls, buf, got, pos);
	while (pos < got && from + pos < lim) {
		char *line = buf + pos;
		const char *nl = nl_next(&nls);
		size_t len;

		if (nl) {
			len = (size_t)(nl - line);
			pos += len + 1;
		} else {
			len = got - pos;
			pos = got;
			/* cut by our window, not by the file: too long */
			if (from + got < p->size)
				len = SIZE_MAX;
		}
		if (len != SIZE_MAX && len > VS_MAX_LINE)
			len = SIZE_MAX;
		c->err = chunk_reserve(c);
		if (c->err)
			break;
		c->nev += take_line(&c->st, line, len, &c->ev[c->nev],
				    p->flags);
	}
	munmap(map, map_len);
}

static void *worker(void *arg)
{
	struct par *p = arg;
	struct pchunk *c;
	uint64_t k;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (p->stop || p->next_take >= p->nchunks)
			break;
		k = p->next_take++;
		c = &p->slots[k % p->nslots];
		/*
		 * Not only a free slot: our turn in it. A worker that took
		 * chunk k + nslots could otherwise claim the slot first,
		 * while the reader waits for chunk k: all would wait.
		 */
		while ((c->state != CH_FREE || k >= p->cur + p->nslots) &&
		       !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop)
			break;
		c->state = CH_BUSY;
		c->index = k;
		pthread_mutex_unlock(&p->lock);
		parse_chunk(p, c);
		pthread_mutex_lock(&p->lock);
		c->state = CH_READY;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void par_stop(struct vs_source *src)
{
	struct par *p = src->par;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	for (unsigned int i = 0; i < p->nslots; i++)
		free(p->slots[i].ev);
	free(p->slots);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
	src->par = NULL;
}

static unsigned int parse_threads(void)
{
	const char *env = getenv("VSOCKSCOPE_THREADS");
	long n = env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > 8)
		n = 8;
	return (unsigned int)n;
}

/* big regular files are parsed by worker threads, in chunks, in order */
static int par_start(struct vs_source *src)
{
	unsigned int n = parse_threads();
	struct par *p;

	if (n < 2 || src->mem || src->spooling || src->total < 4 * CHUNK ||
	    lseek(src->fd, 0, SEEK_CUR) != 0)
		return 0;
	if (posix_memalign((void **)&p, 64, sizeof(*p)))
		return 0; /* the plain path works too */
	memset(p, 0, sizeof(*p));
	p->nslots = 2 * n + 2;
	p->slots = calloc(p->nslots, sizeof(*p->slots));
	if (!p->slots) {
		free(p);
		return 0;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->fd = src->fd;
	p->size = src->total;
	p->page = (uint64_t)sysconf(_SC_PAGESIZE);
	p->flags = src->flags;
	p->nchunks = (src->total + CHUNK - 1) / CHUNK;
	src->par = p;
	for (unsigned int i = 0; i < n; i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p))
			break;
		p->nthreads++;
	}
	if (!p->nthreads) {
		par_stop(src);
		return 0;
	}
	return 1;
}

static int par_next(struct vs_source *src, struct vs_event **evp)
{
	struct par *p = src->par;

	while (!p->cc || p->pos >= p->cc->nev) {
		struct pchunk *c;
		uint64_t before = src->st.lines;

		if (p->cc) {
			pthread_mutex_lock(&p->lock);
			p->cc->state = CH_FREE;
			p->cc = NULL;
			p->cur++;
			pthread_cond_broadcast(&p->cond);
			pthread_mutex_unlock(&p->lock);
		}
		if (p->cur >= p->nchunks) {
			src->eof = true;
			return 0;
		}
		c = &p->slots[p->cur % p->nslots];
		pthread_mutex_lock(&p->lock);
		while (!(c->state == CH_READY && c->index == p->cur))
			pthread_cond_wait(&p->cond, &p->lock);
		pthread_mutex_unlock(&p->lock);
		if (c->err)
			return c->err;
		src->st.lines += c->st.lines;
		src->st.skipped += c->st.skipped;
		src->st.lost += c->st.lost;
		if (!src->st.first_bad_line && c->st.first_bad_line) {
			src->st.first_bad_line = before + c->st.first_bad_line;
			memcpy(src->st.first_bad, c->st.first_bad,
			       sizeof(src->st.first_bad));
		}
		src->done += c->bytes;
		p->cc = c;
		p->pos = 0;
	}
	*evp = &p->cc->ev[p->pos++];
	account(src, *evp);
	return 1;
}

/* ---- capture files ---- */

/*
 * More of a capture read through the window: what the reader has read is
 * dropped, the rest moved to the front and more read after it. The window
 * grows only when one record does not fit (a run of zeros at the end of a
 * crashed writer's file, which must be read to its end to be told from
 * damage). 1: more bytes, 0: the end of the input, -errno.
 */
static int cap_more(struct vs_source *src)
{
	size_t used = src->cap ? vs_capture_reader_consumed(src->cap) : 0;
	int r;

	src->head = used;
	if (src->tail - used == src->buf_size) {
		size_t n = src->buf_size * 2;
		char *b = realloc(src->buf, n + 1);

		if (!b)
			return -ENOMEM;
		src->buf = b;
		src->buf_size = n;
	}
	r = fill(src);
	if (r < 0)
		return r;
	if (src->cap) {
		int err = vs_capture_reader_rebase(src->cap, src->buf,
						   src->tail, used);

		if (err)
			return err;
	}
	return r;
}

/* a capture read from src->fd, its first bytes perhaps in buf already */
static int cap_open_window(struct vs_source *src)
{
	int err, r;

	src->cap_window = true;
	src->read_max = CAP_READ;
	/* the reader's window starts at buf: cap_more() counts from there */
	if (src->head) {
		memmove(src->buf, src->buf + src->head, src->tail - src->head);
		src->tail -= src->head;
		src->head = 0;
	}
	for (;;) {
		src->cap = vs_capture_reader_new(src->buf, src->tail, &err);
		if (src->cap)
			break;
		if (err != -ENODATA || src->eof)
			return err;
		/* the header is not whole yet */
		if ((r = cap_more(src)) < 0)
			return r;
	}
	return 1;
}

/*
 * Is the input a capture? Memory is read in place; a file or a pipe is
 * read a window at a time (and a pipe copied to the spool when it will be
 * read again). 0: text (nothing consumed past what fill() keeps), 1:
 * capture, -errno.
 */
static int cap_detect(struct vs_source *src)
{
	struct stat sb;
	int r;

	src->cap_checked = true;
	if (src->mem) {
		if (!vs_capture_detect(src->mem, src->mem_len))
			return 0;
		src->cap = vs_capture_reader_new(src->mem, src->mem_len, &r);
		return src->cap ? 1 : r;
	}
	if (!fstat(src->fd, &sb) && S_ISREG(sb.st_mode) &&
	    lseek(src->fd, 0, SEEK_CUR) == 0) {
		/* a file: look without reading, so text keeps its fast path */
		char magic[VS_CAPTURE_MAGIC_LEN];

		if (pread(src->fd, magic, sizeof(magic), 0) !=
			    (ssize_t)sizeof(magic) ||
		    !vs_capture_detect(magic, sizeof(magic)))
			return 0;
		return cap_open_window(src);
	}
	while (src->tail - src->head < VS_CAPTURE_MAGIC_LEN && !src->eof)
		if ((r = fill(src)) < 0)
			return r;
	if (!vs_capture_detect(src->buf + src->head, src->tail - src->head))
		return 0;
	return cap_open_window(src);
}

static int cap_next(struct vs_source *src, struct vs_event *ev)
{
	struct vs_capture_lost lost;
	const struct vs_capture_stats *cs;
	int r;

	for (;;) {
		r = vs_capture_next(src->cap, ev, &lost);
		cs = vs_capture_reader_stats(src->cap);
		src->done = cs->good_bytes;
		if (r == VS_CAPTURE_END && src->cap_window && !cs->complete &&
		    !src->eof) {
			/* the end of the window, not of the input */
			r = cap_more(src);
			if (r < 0)
				return r;
			continue;
		}
		if (r == VS_CAPTURE_EVENT) {
			src->st.lines++;
			account(src, ev);
			return 1;
		}
		if (r == VS_CAPTURE_LOST) {
			src->st.lines++;
			src->st.lost += lost.count;
			continue;
		}
		if (r < 0 && !src->st.skipped) {
			/* damaged: what came before stands, the rest is lost */
			src->st.skipped++;
			src->st.first_bad_line = src->st.lines + 1;
			snprintf(src->st.first_bad, sizeof(src->st.first_bad),
				 "damaged capture record at byte %llu",
				 (unsigned long long)cs->good_bytes);
		}
		return 0;
	}
}

/* the first call on a source: a capture, or text */
static int source_kind(struct vs_source *src)
{
	int r;

	if (src->cap_checked)
		return src->cap ? 1 : 0;
	r = cap_detect(src);
	if (r < 0)
		src->eof = true;
	return r;
}

int vs_source_next_ref(struct vs_source *src, struct vs_event **evp)
{
	int k;

	if (src->par) /* the hot path: text from worker threads */
		return par_next(src, evp);
	k = source_kind(src);
	if (k < 0)
		return k;
	if (k) {
		*evp = &src->cur;
		return cap_next(src, &src->cur);
	}
	if (!src->par && !src->par_tried && !src->eof) {
		src->par_tried = true;
		par_start(src);
	}
	if (src->par)
		return par_next(src, evp);
	*evp = &src->cur;
	return vs_source_next(src, &src->cur);
}

int vs_source_next(struct vs_source *src, struct vs_event *ev)
{
	const char *line;
	size_t len;
	int r;

	r = source_kind(src);
	if (r < 0)
		return r;
	if (r)
		return cap_next(src, ev);
	if (!src->par && !src->par_tried && !src->eof) {
		src->par_tried = true;
		par_start(src);
	}
	if (src->par) {
		struct vs_event *e;

		r = par_next(src, &e);
		if (r > 0)
			*ev = *e;
		return r;
	}
	for (;;) {
		r = next_line(src, &line, &len);
		if (r <= 0)
			return r;
		if (take_line(&src->st, line, len, ev, src->flags)) {
			account(src, ev);
			return 1;
		}
	}
}

int vs_source_rewind(struct vs_source *src)
{
	int r;

	par_stop(src);
	src->par_tried = false;
	memset(&src->st, 0, sizeof(src->st));
	src->done = 0;
	src->last_ts = 0;
	src->head = src->tail = 0;
	src->skipping = false;
	if (src->cap) {
		/* read again, from its detection on, as a new source is */
		vs_capture_reader_free(src->cap);
		src->cap = NULL;
		src->cap_checked = false;
	}
	if (src->mem)
		return 0;
	if (src->spooling) {
		/* drain the rest of the input into the spool first */
		while (!src->eof) {
			src->head = src->tail = 0;
			r = fill(src);
			if (r < 0)
				return r;
		}
		src->spooling = false;
		src->head = src->tail = 0;
		if (src->own_fd)
			close(src->fd);
		src->fd = src->spool_fd;
		src->own_fd = true;
		src->spool_fd = -1;
	}
	if (lseek(src->fd, 0, SEEK_SET) < 0)
		return -errno;
	src->eof = false;
	return 0;
}

/*
 * Called before the first read of a source that will be read twice:
 * a non-seekable input starts being copied.
 */
int vs_source_prepare_rewind(struct vs_source *src)
{
	if (src->mem || lseek(src->fd, 0, SEEK_CUR) >= 0)
		return 0;
	src->spool_fd = spool_open();
	if (src->spool_fd < 0)
		return -errno;
	src->spooling = true;
	return 0;
}

const struct vs_source_stats *vs_source_stats(const struct vs_source *src)
{
	return &src->st;
}

void vs_source_progress(const struct vs_source *src, uint64_t *done,
			uint64_t *total)
{
	*done = src->done;
	*total = src->total;
}

void vs_source_set_lean(struct vs_source *src, bool lean)
{
	src->flags = lean ? VS_PARSE_LEAN : 0;
}
