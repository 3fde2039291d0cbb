/* A tiny assertion library shared by the unit tests. Checks never abort:
 * a test runs to the end and reports every failure with file:line, then
 * main returns testlib_finish(), which is non-zero if anything failed.
 * Header-only; each test is one translation unit, so static state is fine. */
#ifndef ARO_TESTLIB_H
#define ARO_TESTLIB_H

#include <stdio.h>
#include <string.h>

static int testlib_checks, testlib_failures;

static inline void testlib_fail(const char *file, int line, const char *what)
{
    testlib_failures++;
    fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
}

#define CHECK(cond)                                                                     \
    do {                                                                                \
        testlib_checks++;                                                               \
        if (!(cond)) testlib_fail(__FILE__, __LINE__, #cond);                           \
    } while (0)

/* NULL is treated as a value, not a crash: NULL only equals NULL. */
#define CHECK_STR_EQ(a, b)                                                              \
    do {                                                                                \
        const char *tl_a_ = (a), *tl_b_ = (b);                                          \
        testlib_checks++;                                                               \
        if (!tl_a_ || !tl_b_ ? tl_a_ != tl_b_ : strcmp(tl_a_, tl_b_) != 0) {            \
            testlib_fail(__FILE__, __LINE__, #a " == " #b);                             \
            fprintf(stderr, "    got \"%s\"\n    want \"%s\"\n", tl_a_ ? tl_a_ : "(null)", \
                    tl_b_ ? tl_b_ : "(null)");                                          \
        }                                                                               \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                              \
    do {                                                                                \
        long long tl_a_ = (long long)(a), tl_b_ = (long long)(b);                       \
        testlib_checks++;                                                               \
        if (tl_a_ != tl_b_) {                                                           \
            testlib_fail(__FILE__, __LINE__, #a " == " #b);                             \
            fprintf(stderr, "    got %lld, want %lld\n", tl_a_, tl_b_);                 \
        }                                                                               \
    } while (0)

#define CHECK_MEM_EQ(a, b, n)                                                           \
    do {                                                                                \
        testlib_checks++;                                                               \
        if (memcmp((a), (b), (n)) != 0) testlib_fail(__FILE__, __LINE__, #a " == " #b); \
    } while (0)

static inline int testlib_finish(void)
{
    fprintf(stderr, "%d checks, %d failures\n", testlib_checks, testlib_failures);
    return testlib_failures ? 1 : 0;
}

#endif
