/* Progress and problems on stderr (stdout is reserved for the --json
 * result or the one-line summary, contracts.md). uacme's msg.c, smaller.
 *   msg_info   progress (hidden by --quiet)
 *   msg_note   a problem aro recovered from (hidden by --quiet)
 *   msg_warn   something the user should know although the command goes on
 *   msg_error  only for what ends the program outside a result (the
 *              result line carries a command's own failure)
 *   msg_debug  -v and more */
#ifndef ARO_CLIENT_MSG_H
#define ARO_CLIENT_MSG_H

/* -1: --quiet, 0: progress and problems, 1: -v, 2: -vv (HTTP), 3: bodies */
extern int msg_verbosity;

void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_debug(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
