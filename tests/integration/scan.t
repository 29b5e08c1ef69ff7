#!/bin/bash
#
# scan.t -- lib/mail/spamd.c and clamd.c against the real scanners: SpamAssassin's
# spamd (Debian's rules, GTUBE) and ClamAV's clamd (a signature database the test
# writes: the EICAR test string), driven through tests/integration/scanprobe. A scanner
# that is down, silent past the timeout, or refuses the stream (clamd's
# StreamMaxLength) must be an error, never a "clean" verdict.
#
# Must never: download signatures or rules, or count a verdict scanprobe did not print.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

probe="$POSTGATE_BUILDDIR/tests/integration/scanprobe"
[ -x "$probe" ] || { ok 1 "scanprobe is built ($probe missing: make -C tests/integration scanprobe)"; exit 1; }
command -v spamd >/dev/null || skip_all "spamd missing: run 'packaging/install-deps test' as root"
command -v clamd >/dev/null || skip_all "clamd missing: run 'packaging/install-deps test' as root"

plan 14
HARNESS_CLAMD_STREAM_MAX=64K harness_setup spamd clamd
tmp=$HARNESS_DIR

eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
gtube='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
headers=$'From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <scan-test@example.org>'
printf '%s\r\nSubject: spam\r\n\r\n%s\r\n' "$headers" "$gtube" >"$tmp/gtube.eml"
printf '%s\r\nSubject: hello\r\n\r\nThe minutes of Tuesday'"'"'s meeting are attached to the wiki page.\r\n' "$headers" >"$tmp/ham.eml"
{
	printf '%s\r\nSubject: invoice\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n' "$headers"
	printf -- '--b1\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n'
	printf -- '--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=eicar.com\r\n'
	printf 'Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b1--\r\n' "$(printf '%s' "$eicar" | base64 -w0)"
} >"$tmp/eicar.eml"
{ printf '%s\r\nSubject: big\r\n\r\n' "$headers"; head -c 200000 /dev/zero | tr '\0' 'a' | fold -w 76; } >"$tmp/big.eml"

out=$("$probe" spamd "$INSTANCE_SPAMD_ADDRESS" "$tmp/gtube.eml" 2>&1) || true
like "$out" '^spam=1 score=[0-9]{4}' "spamd: GTUBE is spam with a score over 1000 ($out)"
like "$out" '(rules=|,)GTUBE:1000\.0(,|$)' "spamd: the GTUBE rule and its points are listed"
like "$out" 'threshold=5\.0' "spamd: its required score is reported"
out=$("$probe" spamd "$INSTANCE_SPAMD_ADDRESS" "$tmp/ham.eml" 2>&1) || true
like "$out" '^spam=0 score=-?[0-9]' "spamd: an ordinary message is not spam ($out)"
unlike "$out" 'GTUBE' "spamd: and GTUBE is not among its rules"

# Nothing listens on a port that was free a moment ago.
dead=$(instance_free_port)
status=0; out=$("$probe" spamd "inet:127.0.0.1:$dead" "$tmp/gtube.eml" 2 2>&1) || status=$?
is "$status" 2 "spamd down: an error, not a verdict ($out)"
# A listener that accepts and never answers: the timeout, not a hang.
/usr/bin/python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(8); print(s.getsockname()[1], flush=True)
c,_=s.accept(); time.sleep(30)' >"$tmp/silent.port" &
silent=$!
harness_wait_for 5 test -s "$tmp/silent.port"
start=$SECONDS; status=0
out=$("$probe" spamd "inet:127.0.0.1:$(cat "$tmp/silent.port")" "$tmp/gtube.eml" 2 2>&1) || status=$?
kill "$silent" 2>/dev/null || true; wait "$silent" 2>/dev/null || true
is "$status" 2 "spamd silent: an error after the timeout ($out)"
ok "$([ $((SECONDS - start)) -le 5 ] && echo 0 || echo 1)" "spamd silent: gave up within the 2 s timeout (took $((SECONDS - start)) s)"

out=$("$probe" clamd "$INSTANCE_CLAMD_ADDRESS" "$tmp/eicar.eml" 2>&1) || true
like "$out" '^infected Postgate-Test-EICAR' "clamd: EICAR in a base64 attachment is found ($out)"
out=$("$probe" clamd "$INSTANCE_CLAMD_ADDRESS" "$tmp/ham.eml" 2>&1) || true
is "$out" clean "clamd: an ordinary message is clean"
out=$("$probe" clamd "$INSTANCE_CLAMD_ADDRESS" "$tmp/gtube.eml" 2>&1) || true
is "$out" clean "clamd: GTUBE is no virus"
status=0; out=$("$probe" clamd "$INSTANCE_CLAMD_ADDRESS" "$tmp/big.eml" 2>&1) || status=$?
is "$status" 2 "clamd: a message over StreamMaxLength is an error, not clean ($out)"
like "$out" 'size limit|ERROR|sending' "clamd: and the reason says why"
status=0; out=$("$probe" clamd "unix:$tmp/no-such.sock" "$tmp/eicar.eml" 2 2>&1) || status=$?
is "$status" 2 "clamd down: an error, not a verdict ($out)"
