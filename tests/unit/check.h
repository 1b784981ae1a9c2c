/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Minimal unit-test harness. A test binary runs its cases and prints one
 * line per case:
 *   PASS <name>
 *   FAIL <name>: <file>:<line>: <what>
 *   SKIP <name>: <reason>
 * tests/run.sh counts these lines. Exit status: 1 if any case failed.
 */
#ifndef VS_CHECK_H
#define VS_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct vs_test {
	const char *name;
	void (*fn)(void);
};

extern int vs_check_failed;	 /* set by a failing CHECK in the case */
extern const char *vs_check_case; /* the running case */

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			if (!vs_check_failed)                                \
				printf("FAIL %s: %s:%d: %s\n", vs_check_case, \
				       __FILE__, __LINE__, #cond);           \
			vs_check_failed = 1;                                 \
		}                                                            \
	} while (0)

#define CHECK_EQ_U(a, b)                                                     \
	do {                                                                 \
		uint64_t va_ = (uint64_t)(a), vb_ = (uint64_t)(b);           \
		if (va_ != vb_) {                                            \
			if (!vs_check_failed)                                \
				printf("FAIL %s: %s:%d: %s == %" PRIu64      \
				       ", expected %" PRIu64 "\n",           \
				       vs_check_case, __FILE__, __LINE__, #a, \
				       va_, vb_);                            \
			vs_check_failed = 1;                                 \
		}                                                            \
	} while (0)

#define CHECK_STR(a, b)                                                      \
	do {                                                                 \
		const char *sa_ = (a), *sb_ = (b);                           \
		if (!sa_ || !sb_ || strcmp(sa_, sb_)) {                      \
			if (!vs_check_failed)                                \
				printf("FAIL %s: %s:%d: %s == \"%s\", "      \
				       "expected \"%s\"\n",                  \
				       vs_check_case, __FILE__, __LINE__, #a, \
				       sa_ ? sa_ : "(null)",                 \
				       sb_ ? sb_ : "(null)");                \
			vs_check_failed = 1;                                 \
		}                                                            \
	} while (0)

/* xorshift64: reproducible pseudo-random numbers for a test; *s not 0 */
static inline uint64_t vs_test_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* each test file ends with: VS_TEST_MAIN({ "name", fn }, ...) */
#define VS_TEST_MAIN(...)                                                    \
	int vs_check_failed;                                                 \
	const char *vs_check_case;                                           \
	int main(void)                                                       \
	{                                                                    \
		static const struct vs_test tests_[] = { __VA_ARGS__ };       \
		int bad = 0;                                                 \
		for (size_t i = 0; i < sizeof(tests_) / sizeof(tests_[0]);  \
		     i++) {                                                  \
			vs_check_case = tests_[i].name;                      \
			vs_check_failed = 0;                                 \
			tests_[i].fn();                                      \
			if (vs_check_failed)                                 \
				bad = 1;                                     \
			else                                                 \
				printf("PASS %s\n", tests_[i].name);         \
			fflush(stdout);                                      \
		}                                                            \
		return bad;                                                  \
	}

#endif /* VS_CHECK_H */
