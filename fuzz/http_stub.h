/*
 * http_stub.h -- what a harness sets in the stand-in HTTP layer (http_stub.c).
 */
#ifndef PG_FUZZ_HTTP_STUB_H
#define PG_FUZZ_HTTP_STUB_H

#include <string.h>

#include "../admin/http.h"

extern const char *fuzz_http_query[2][2];
extern const char *fuzz_http_path[HTTP_MAX_PATH_ARGS];
extern unsigned fuzz_http_status;       /* of the last answer, 0 before one */

#endif
