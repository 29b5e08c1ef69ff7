#!/bin/bash
#
# openapi.t -- doc/openapi.json describes the whole management API v2: it parses as JSON
# with an OpenAPI 3 header, and every route of the C route tables (admin/mgmt_*.c,
# `const MGMT_ROUTE mgmt_*_routes[]`) has its path and method in it, and nothing
# documented is missing from the tables. Fails when a route is added undocumented.
#
# Must never: pass when the route tables could not be read (a count of zero is a failure).

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

plan 4

src=${POSTGATE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
out=$(/usr/bin/python3 - "$src" <<'PY'
import glob, json, re, sys
src = sys.argv[1]
spec = json.load(open(src + "/doc/openapi.json"))
routes = set()
for f in sorted(glob.glob(src + "/admin/mgmt_*.c")):
    text = open(f).read()
    for table in re.findall(r"const MGMT_ROUTE mgmt_\w+_routes\[\] = \{(.*?)\n\};", text, re.S):
        routes |= set(re.findall(r'\{"([A-Z]+)", "(/(?:api/v2|auth)/[^"]*)"', table))
documented = set()
for path, ops in spec.get("paths", {}).items():
    for method in ops:
        if method in ("get", "post", "put", "patch", "delete"):
            documented.add((method.upper(), re.sub(r"\{[^}]*\}", "{}", path)))
print(spec.get("openapi", "")[:2])
print(len(routes))
print(" ".join("%s %s" % r for r in sorted(routes - documented)) or "none")
print(" ".join("%s %s" % r for r in sorted(documented - routes)) or "none")
PY
) || out="PARSE-ERROR"
mapfile -t lines <<<"$out"
is "${lines[0]:-}" "3." "doc/openapi.json parses and is OpenAPI 3"
like "${lines[1]:-0}" '^[1-9][0-9]+$' "the route tables were read (${lines[1]:-0} routes)"
is "${lines[2]:-}" "none" "every route of the C tables is documented"
is "${lines[3]:-}" "none" "every documented route exists"
