/* Progress and error lines on stderr (stdout is reserved for the --json
 * result or the one-line summary, contracts.md). uacme's msg.c, smaller. */
#ifndef ARO_CLIENT_MSG_H
#define ARO_CLIENT_MSG_H

extern int msg_verbosity;   /* 0: progress and errors, 1: -v, 2: -vv (HTTP), 3: bodies */

void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_debug(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
