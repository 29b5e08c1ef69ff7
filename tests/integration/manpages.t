#!/bin/bash
#
# manpages.t -- the manual pages in doc/man: each renders with man(1) and groff without
# a warning, has the NAME its file promises, and postgatectl(8) names every command
# `postgatectl --help` lists; postgate.conf(5) is what `postgatectl config man` prints
# (the unit test test_conf checks it against the table too).
#
# Must never: pass when no page was found (a count of zero is a failure).

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

command -v man >/dev/null || skip_all "man missing: run 'packaging/install-deps test' as root"

src=${POSTGATE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${POSTGATE_BUILDDIR:-$src}
pages=("$src"/doc/man/*.[58])
plan $((${#pages[@]} * 2 + 3))

is "${#pages[@]}" 7 "seven manual pages: the five daemons, postgatectl(8) and postgate.conf(5)"
for page in "${pages[@]}"; do
	name=$(basename "$page")
	warnings=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null || echo "man failed: $?")
	is "$warnings" "" "$name renders without a warning"
	like "$(MANWIDTH=200 man -l "$page" 2>/dev/null | sed -n '/^NAME/,/^[A-Z]/p' | sed -n 2p)" "^ +${name%.*} - " \
		"... and its NAME is ${name%.*}"
done

# Every command of the usage text (its column: a word, or a group and its verb) is in postgatectl(8).
text=$(MANWIDTH=200 man -l "$src/doc/man/postgatectl.8" 2>/dev/null)
missing=
while read -r cmd; do
	grep -qF -- "$cmd" <<<"$text" || missing+="$cmd; "
done < <("$build/ctl/postgatectl" --help 2>&1 | sed -n '/^Commands:/,/^Options:/p' |
	grep -E '^  [a-z]' | cut -c3-17 | awk '{ print ($2 ~ /^[a-z]+$/) ? $1 " " $2 : $1 }')
is "$missing" "" "postgatectl(8) documents every command postgatectl --help lists"
ok "$(cmp -s <("$build/ctl/postgatectl" config man 2>/dev/null) "$src/doc/man/postgate.conf.5"; echo $?)" \
	"postgate.conf(5) is what postgatectl config man prints (make -C doc update)"
