// SPDX-License-Identifier: GPL-2.0-only
/*
 * A text source: read() into a fixed buffer, split lines with memchr, parse.
 * Memory stays the same whatever the length of the input. Input that is not
 * a regular file (stdin, a pipe) is copied to an unlinked temporary file as
 * it is read, so that it can be read a second time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "source.h"
#include "source_text.h"

#define BUF_SIZE (4u << 20)

struct vs_source {
	int fd;		/* -1 for memory sources */
	bool own_fd;	/* close fd at the end */
	int spool_fd;	/* copy of a non-seekable input, or -1 */
	bool spooling;	/* copying what is read to spool_fd */
	char *buf;	/* BUF_SIZE + 1 bytes, or the caller's memory */
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

void vs_source_close(struct vs_source *src)
{
	if (!src)
		return;
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
	size_t keep = src->tail - src->head;
	ssize_t r;

	if (src->head) {
		memmove(src->buf, src->buf + src->head, keep);
		src->head = 0;
		src->tail = keep;
	}
	for (;;) {
		r = read(src->fd, src->buf + src->tail, BUF_SIZE - src->tail);
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

static void note_bad(struct vs_source *src, const char *line, size_t len)
{
	size_t i, n;

	src->st.skipped++;
	if (src->st.first_bad_line)
		return;
	src->st.first_bad_line = src->st.lines;
	if (len == SIZE_MAX) {
		snprintf(src->st.first_bad, sizeof(src->st.first_bad),
			 "(line longer than %d bytes)", VS_MAX_LINE);
		return;
	}
	n = len < sizeof(src->st.first_bad) - 1 ? len
						 : sizeof(src->st.first_bad) - 1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)line[i];

		src->st.first_bad[i] = (ch < 0x20 || ch >= 0x7f) ? '?'
								 : (char)ch;
	}
	src->st.first_bad[n] = '\0';
}

int vs_source_next(struct vs_source *src, struct vs_event *ev)
{
	const char *line;
	size_t len;
	uint64_t lost;
	int r;

	for (;;) {
		r = next_line(src, &line, &len);
		if (r <= 0)
			return r;
		src->st.lines++;
		if (len == SIZE_MAX) {
			note_bad(src, line, len);
			continue;
		}
		r = vs_text_parse_line(line, len, ev, &lost);
		switch (r) {
		case VS_LINE_EVENT:
			if (ev->present & VS_HAS_TS)
				src->last_ts = ev->ts_ns;
			else
				ev->ts_ns = src->last_ts;
			if (!src->st.events)
				src->st.first_ts = ev->ts_ns;
			src->st.last_ts = ev->ts_ns;
			src->st.events++;
			return 1;
		case VS_LINE_LOST:
			src->st.lost += lost;
			break;
		case VS_LINE_IGNORED:
			break;
		default:
			note_bad(src, line, len);
			break;
		}
	}
}

int vs_source_rewind(struct vs_source *src)
{
	memset(&src->st, 0, sizeof(src->st));
	src->done = 0;
	src->last_ts = 0;
	src->head = src->tail = 0;
	src->skipping = false;
	if (src->mem)
		return 0;
	if (src->spooling) {
		/* drain the rest of the input into the spool first */
		int r;

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
