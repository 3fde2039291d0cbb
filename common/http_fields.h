/* Reading an HTTP response as libcurl hands it over: header fields one
 * line at a time, the field's name and trimmed value (RFC 9110 5.5), and
 * the links of a Link field (RFC 8288 3), which ACME uses for the
 * alternate chains and the directory index (RFC 8555 7.4.2, 7.1); the
 * body piece by piece, up to a bound. The client's transport and
 * aro-conform's recording one both read responses this way. */
#ifndef ARO_HTTP_FIELDS_H
#define ARO_HTTP_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

/* line: one header line of n bytes (with or without its CRLF). Returns
 * false for a line without a colon (a status line, the blank end);
 * otherwise *name points into line for *nlen bytes and *value is the
 * value without surrounding whitespace, malloc'd (the caller frees it). */
bool http_field_split(const char *line, size_t n, const char **name, size_t *nlen, char **value);
/* Whether the field named (name, nlen) is want, case-insensitively. */
bool http_field_is(const char *name, size_t nlen, const char *want);
/* Whether a Content-Type value (NULL: none) is the media type type,
 * with or without parameters (RFC 9110 8.3.1: "type/subtype; charset=..."). */
bool http_media_type_is(const char *content_type, const char *type);
/* Calls fn(url, rel, ud) for each link of a Link field value
 * (`<url>; rel="x", <url2>;rel=y`); rel is "" for a link without one. fn
 * may keep url (malloc'd, fn owns it) by returning true; rel is only
 * borrowed. */
void http_links_each(const char *value, bool (*fn)(char *url, const char *rel, void *ud), void *ud);
/* Appends the n bytes at data to the body *body of *len bytes, keeping it
 * NUL-terminated. false, leaving the body as it was, when it would grow
 * past max bytes: the caller's write callback then returns 0, which ends
 * the transfer (a CA's answer has no business being that large). */
bool http_body_append(char **body, size_t *len, const char *data, size_t n, size_t max);

#endif
