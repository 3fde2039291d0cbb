/* The conformance report: a fixed catalogue of checks (each with its id,
 * the document and section it comes from, its level and a title), the
 * verdict of each one as the run reaches it, and the three renderings:
 * text for a terminal, one JSON object (--json, contracts.md "aro-conform")
 * and a self-contained HTML page (--html FILE).
 *
 * Every check of the catalogue appears in every report, so that two runs
 * compare line by line: a check the run did not reach is "skip" with the
 * reason. Verdicts combine: a failure sticks (a check that looks at many
 * responses fails if one of them fails), a pass replaces a skip, and a
 * skip only replaces "not run". An id missing from the catalogue is a
 * programming error and aborts. */
#ifndef ARO_CONFORM_REPORT_H
#define ARO_CONFORM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util.h"

/* MUST/SHOULD/MAY from the keyword of the text the check comes from;
 * PRACTICE for common practice that no keyword requires. */
typedef enum { LEVEL_MUST, LEVEL_SHOULD, LEVEL_MAY, LEVEL_PRACTICE, LEVEL__COUNT } check_level;
typedef enum { RESULT_NOT_RUN, RESULT_SKIP, RESULT_PASS, RESULT_FAIL } check_result;

typedef struct {
    const char *id;         /* "jws.alg-none" */
    const char *section;    /* "RFC 8555 6.2" */
    check_level level;
    const char *title;      /* what is checked, one line */
} check_def;

typedef struct {
    const check_def *def;
    check_result result;
    char *detail;           /* what was seen (malloc'd) */
    unsigned observations;  /* verdicts given (a check may look many times) */
} check_entry;

typedef struct {
    char *mode;             /* "server" or "client" */
    char *target;           /* directory URL, or the client's command line */
    check_entry *v;
    size_t n;
    char **notes;           /* run notes (what was started, versions), in order */
    size_t nnotes;
} report;

/* A catalogue part: areas contribute their check_def arrays in order. */
void report_init(report *r, const char *mode, const char *target);
void report_add_defs(report *r, const check_def *defs, size_t n);
void report_free(report *r);
void report_note(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void check_pass(report *r, const char *id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void check_fail(report *r, const char *id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void check_skip(report *r, const char *id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* pass when ok, fail otherwise, with the same detail. Returns ok. */
bool check_that(report *r, const char *id, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Skip every check whose id starts with prefix and has no verdict yet
 * (an area that could not run: its setup failed). */
void check_skip_rest(report *r, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

const check_entry *report_find(const report *r, const char *id);
const char *check_level_name(check_level l);
const char *check_result_name(check_result res);   /* "pass", "fail", "skip" */

typedef struct {
    size_t pass, fail, skip;
    size_t fail_by_level[LEVEL__COUNT];
} report_counts;
report_counts report_count(const report *r);
/* contracts.md: 0 when no MUST check failed, 1 when one did. */
int report_exit_status(const report *r);

/* Renderings. report_json returns a malloc'd document. */
void report_print_text(const report *r, FILE *out, bool color);
char *report_json(const report *r);
int report_write_html(const report *r, const char *path, aro_err *err);

#endif
