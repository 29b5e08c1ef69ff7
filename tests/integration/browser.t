#!/bin/bash
#
# browser.t -- the web admin end to end: postgate-admin serving admin/www (static.c)
# against a private MariaDB beside the private Postfix and postgate's daemons, checked
# first with curl (content types, the security headers, ETag/304, client routes falling
# back to index.html, JSON 404s under /api/, directory traversal and symlinks refused),
# then the string catalogs (tests/browser/i18n-check.mjs), then in Debian's headless
# Chromium driven by playwright-core (tests/browser/ui.mjs: log in, organization,
# server, domain, credential with its key shown once, validation errors beside fields,
# confirmations, members, tokens, account deletion refused to an organization's owner,
# pagination, an XSS payload as names, 简体中文, log out), the database, which must hold what the browser did, and then the mail pages
# (tests/browser/mail.mjs, with postgate-worker and a webhook receiver running: a message
# with XSS payloads sent with an API key made in the UI, found, opened, its HTML inert in
# the sandboxed frame, its delivery; the webhook request log and "send again"; holds of a
# Development server released in bulk and cancelled (a held message offers no delete, a
# cancelled one does, after a confirmation); a suppression CSV import; routes,
# DKIM rotation, the overview charts, IP pools, the Postfix queue) and the database again.
# Screenshots: tests/artifacts/screenshots/ (laptop and phone width).
#
# Must never: pass on what the page says alone when the database can be asked, leave
# Chromium or postgate-admin running, or download a browser (playwright-core drives
# /usr/bin/chromium; tests/run installs it with `npm ci` in tests/browser).

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

BROWSER_DIR="$POSTGATE_SRCDIR/tests/browser"
command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"
command -v node >/dev/null 2>&1 || skip_all "node missing: run 'packaging/install-deps test' as root"
[ -x /usr/bin/chromium ] || skip_all "/usr/bin/chromium missing: run 'packaging/install-deps test' as root"
[ -f "$BROWSER_DIR/node_modules/playwright-core/package.json" ] ||
	skip_all "playwright-core missing: run 'npm ci' in tests/browser (tests/run does)"

harness_setup mariadb sink postfix
harness_start_postgate
plan $((121 + 90 + 1 + 11))   # ui.mjs and the rest, mail.mjs, its end, the database after it

# The UI from a copy of admin/www with two planted symlinks: one to a file outside the
# tree, one inside it (which may be served).
HARNESS_WWW_DIR="$HARNESS_DIR/www"
cp -R "$POSTGATE_SRCDIR/admin/www" "$HARNESS_WWW_DIR"
printf 'secret outside the UI\n' >"$HARNESS_DIR/outside.txt"
ln -s "$HARNESS_DIR/outside.txt" "$HARNESS_WWW_DIR/assets/outside.txt"
ln -s /etc "$HARNESS_WWW_DIR/assets/etc"
ln -s style.css "$HARNESS_WWW_DIR/assets/alias.css"
export HARNESS_WWW_DIR
# The Postfix queue page: a copy of postqueue without set-group-ID may name the private
# instance's configuration directory (as mgmt_v2_messages.t explains).
cp /usr/sbin/postqueue "$HARNESS_DIR/postqueue"
chmod 755 "$HARNESS_DIR/postqueue"
chmod o+x "$HARNESS_QUEUE_DIR/public"
export POSTGATE_POSTFIX_POSTQUEUE_PATH="$HARNESS_DIR/postqueue"
harness_start_admin
base=$HARNESS_ADMIN_URL

mkuser root@example.test 'Adm1n-pass-phrase' --admin
mkuser bob@example.test 'B0b-pass-phrase!'

# ---------------------------------------------------------------- 1-34: static files (curl)

# fetch [curl args] URL: status code; body in $HARNESS_DIR/body, headers in .../headers.
fetch() {
	curl -sS --max-time 10 --path-as-is -o "$HARNESS_DIR/body" -D "$HARNESS_DIR/headers" -w '%{http_code}' "$@" 2>&1 || true
}
header() { sed -n "s/^$1: *//Ip" "$HARNESS_DIR/headers" | tr -d '\r' | head -n 1; }
csp="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

is "$(fetch "$base/")" 200 "GET / answers 200"
is "$(header Content-Type)" "text/html; charset=utf-8" "/ is HTML (utf-8)"
cmp -s "$HARNESS_DIR/body" "$HARNESS_WWW_DIR/index.html"
ok $? "/ is index.html"
is "$(header Content-Security-Policy)" "$csp" "HTML carries the strict Content-Security-Policy"
is "$(header X-Content-Type-Options)" nosniff "X-Content-Type-Options: nosniff"
is "$(header Referrer-Policy)" no-referrer "Referrer-Policy: no-referrer"
is "$(header X-Frame-Options)" DENY "X-Frame-Options: DENY"
is "$(header Cache-Control)" no-cache "Cache-Control: no-cache (revalidate; files are not fingerprinted)"
etag=$(header ETag)
like "$etag" '^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+\.[0-9a-f]+"$' "an ETag"
like "$(header Last-Modified)" '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT$' "a Last-Modified date"
is "$(fetch -H "If-None-Match: $etag" "$base/")" 304 "If-None-Match with the ETag: 304"
is "$(fetch -H 'If-None-Match: "other"' "$base/")" 200 "If-None-Match with another tag: 200"
# HEAD by hand: curl would wait for the body Content-Length announces.
head_answer() {
	local port=${base##*:}
	exec 3<>"/dev/tcp/127.0.0.1/$port"
	printf 'HEAD / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
	timeout 10 cat <&3
	exec 3<&-
}
head_out=$(head_answer | tr -d '\r')
like "$head_out" '^HTTP/1\.[01] 200 ' "HEAD / answers 200"
unlike "$head_out" '<!doctype' "HEAD has no body"

is "$(fetch "$base/assets/app.js")" 200 "GET /assets/app.js"
is "$(header Content-Type)" "text/javascript; charset=utf-8" "JavaScript modules are text/javascript"
fetch "$base/assets/style.css" >/dev/null
is "$(header Content-Type)" "text/css; charset=utf-8" "style sheets are text/css"
fetch "$base/assets/i18n/zh-CN.json" >/dev/null
is "$(header Content-Type)" "application/json; charset=utf-8" "catalogs are JSON"
fetch "$base/assets/favicon.svg" >/dev/null
is "$(header Content-Type)" "image/svg+xml" "the icon is SVG"

is "$(fetch "$base/orgs/acme/servers/mail/domains/example.com")" 200 "a client route answers 200"
cmp -s "$HARNESS_DIR/body" "$HARNESS_WWW_DIR/index.html"
ok $? "a client route is index.html (the UI routes in the browser)"
is "$(fetch "$base/assets/missing.js")" 404 "a missing asset is 404, not index.html"
is "$(header Content-Type)" "text/plain; charset=utf-8" "the asset 404 is plain text"
is "$(fetch "$base/assets/")" 404 "a directory is 404 (no listing)"
is "$(code "$(call GET /api/v2/no-such-thing)")" "404 NotFound" "an unknown /api/v2/ path stays a JSON 404"
is "$(code "$(call GET /api/other)")" "404 NotFound" "an unknown /api/ path stays a JSON 404"
is "$(code "$(call POST /orgs '{}')")" "404 NotFound" "a POST outside the API is the JSON 404 (only GET and HEAD reach the UI)"
is "$(code "$(call GET /health)")" "200 " "/health still answers JSON"

# Traversal: plain, encoded, double-encoded, with backslashes; nothing of /etc may come back.
bad=0
for p in '/../../../../etc/passwd' '/assets/../../../../etc/passwd' '/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd' \
	'/%2e%2e/%2e%2e/etc/passwd' '/assets/..%2f..%2f..%2fetc%2fpasswd' '/assets/%252e%252e/%252e%252e/etc/passwd' \
	'/assets/..%5c..%5cetc%5cpasswd' '/assets/./app.js' '/assets/%2e/app.js' '/assets/a%20b.js'; do
	s=$(fetch "$base$p")
	if [ "$s" != 400 ] || grep -q 'root:' "$HARNESS_DIR/body"; then
		diag "  $p: $s"
		bad=$((bad + 1))
	fi
done
is "$bad" 0 "10 bad paths (.., %2e, %2f, %252e, %5c, '.', a space) answer 400"
is "$(fetch "$base/assets/outside.txt")" 404 "a symlink to a file outside admin.www_dir is 404"
isnt "$(cat "$HARNESS_DIR/body")" "secret outside the UI" "... and its content is not sent"
is "$(fetch "$base/assets/etc/passwd")" 404 "a symlinked directory leading out is 404"
is "$(fetch "$base/assets/alias.css")" 200 "a symlink that stays inside the tree is served"
grep -q 'leads out of admin.www_dir' "$HARNESS_ADMIN_LOG"
ok $? "postgate-admin logs the refused symlink"

# ---------------------------------------------------------------- 35-40: the catalogs

out=$(node "$BROWSER_DIR/i18n-check.mjs" "$HARNESS_WWW_DIR" 2>&1) || true
n=0
while IFS=$'\t' read -r kind name why; do
	case $kind in
	PASS) harness_result 0 "$name"; n=$((n + 1)) ;;
	FAIL) harness_result 1 "$name"; diag "  $why"; n=$((n + 1)) ;;
	*) diag "$kind $name $why" ;;
	esac
done <<<"$out"
[ "$n" = 6 ] || diag "i18n-check printed $n results instead of 6: $out"

# ---------------------------------------------------------------- 41-109: the browser

shots="$POSTGATE_SRCDIR/tests/artifacts/screenshots"
rm -rf "$shots"
mkdir -p "$shots" "$HARNESS_DIR/state" "$HARNESS_DIR/tmp"
# TMPDIR under the harness dir: Chromium's profile lives there, so the harness would
# find (and count) a Chromium left running.
out=$(cd "$BROWSER_DIR" && TMPDIR="$HARNESS_DIR/tmp" BASE_URL="$base" ADMIN_EMAIL=root@example.test \
	ADMIN_PASSWORD='Adm1n-pass-phrase' MEMBER_EMAIL=bob@example.test SCREENSHOT_DIR="$shots" \
	STATE_DIR="$HARNESS_DIR/state" timeout 600 node ui.mjs 2>&1) || diag "ui.mjs exited with $?"
done_seen=0
while IFS=$'\t' read -r kind name why; do
	case $kind in
	PASS) harness_result 0 "browser: $name" ;;
	FAIL) harness_result 1 "browser: $name"; diag "  $why" ;;
	DONE) done_seen=1 ;;
	'') ;;
	*) diag "$kind $name $why" ;;
	esac
done <<<"$out"
is "$done_seen" 1 "the browser scenario ran to its end"
n=$(find "$shots" -name '*-laptop.png' -size +1k | wc -l)
m=$(find "$shots" -name '*-phone.png' -size +1k | wc -l)
ok "$([ "$n" -ge 12 ] && [ "$n" = "$m" ] && echo 0 || echo 1)" "screenshots of each main page at laptop and phone width ($n + $m)"

# ---------------------------------------------------------------- 110-117: the database

is "$(sql "SELECT name FROM organizations WHERE permalink = 'xss-org' AND deleted_at IS NULL")" '<img src=x onerror=alert(1)>' \
	"the XSS organization's name is stored as typed"
is "$(sql "SELECT name, time_zone FROM organizations WHERE permalink = 'acme-mail'")" "Acme Mail	Europe/London" \
	"organization acme-mail with its time zone"
is "$(sql "SELECT s.mode, s.send_limit, s.spam_threshold, s.privacy_mode FROM servers s JOIN organizations o ON o.id = s.organization_id
	WHERE o.permalink = 'acme-mail' AND s.permalink = 'main'")" "Live	5000	6.50	1" \
	"server main: Live, send limit 5000, spam threshold 6.5 (the refused 100000 never stored), privacy mode on"
is "$(sql "SELECT d.name, d.verified_at IS NULL FROM domains d JOIN servers s ON s.id = d.server_id WHERE s.permalink = 'main'")" \
	"example.com	1" "domain example.com, lowercased and unverified"
is "$(sql "SELECT COUNT(*) FROM domain_dkim_keys k JOIN domains d ON d.id = k.domain_id WHERE d.name = 'example.com'")" 1 \
	"example.com has its DKIM key"
key=$(cat "$HARNESS_DIR/state/credential-key" 2>/dev/null || true)
[[ $key =~ ^[A-Za-z0-9]{24}$ ]] || key=not-a-key
is "$(sql "SELECT c.type, c.hold, c.key_hash = SHA2('$key', 256) FROM credentials c WHERE c.name = 'app'")" "SMTP	1	1" \
	"credential app: SMTP, held, and the key the page showed is the one whose hash is stored"
is "$(sql "SELECT COUNT(*) FROM credentials WHERE name IN ('temporary', 'office')")" 0 \
	"the deleted credential is gone and the refused one was never made"
is "$(sql "SELECT ou.role FROM organization_users ou JOIN users u ON u.id = ou.user_id JOIN organizations o ON o.id = ou.organization_id
	WHERE u.email = 'bob@example.test' AND o.permalink = 'acme-mail'")" member "bob is a member of acme-mail (added readonly, then changed)"

# ---------------------------------------------------------------- 118-: the mail pages (tests/browser/mail.mjs)

# A server of each mode with a verified domain (made with postgatectl: the UI of these is
# tested above), postgate-worker (delivery results from Postfix's log, webhooks) and a
# webhook receiver the UI's webhook points at.
$HARNESS_CTL org create --name 'Mail Room' --permalink mailroom >/dev/null
$HARNESS_CTL server create --org mailroom --name Live --permalink live >/dev/null
$HARNESS_CTL domain create --server mailroom/live --name mail.test --verified >/dev/null
$HARNESS_CTL server create --org mailroom --name Dev --permalink dev --mode Development >/dev/null
$HARNESS_CTL domain create --server mailroom/dev --name dev.test --verified >/dev/null
dev_key=$($HARNESS_CTL credential create --server mailroom/dev --type API --name api | sed -n 's/^key: //p')
harness_start_worker
trap 'rc=$?; instance_postgate_stop "$HARNESS_DIR" recv-hooks; harness_on_exit $rc' EXIT
instance_spawn "$HARNESS_DIR/recv-hooks.pid" "$HARNESS_DIR/recv-hooks.log" /usr/bin/python3 \
	"$POSTGATE_SRCDIR/tests/integration/webhook-receiver.py" --log "$HARNESS_DIR/hooks.jsonl" \
	--port-file "$HARNESS_DIR/hooks.port" || harness_setup_failed "the webhook receiver did not start"
harness_wait_for 10 test -s "$HARNESS_DIR/hooks.port" || harness_setup_failed "the webhook receiver has no port"
receiver_url="http://127.0.0.1:$(cat "$HARNESS_DIR/hooks.port")/hooks/ui"

started=$(date +%s)
out=$(cd "$BROWSER_DIR" && TMPDIR="$HARNESS_DIR/tmp" BASE_URL="$base" ADMIN_EMAIL=root@example.test \
	ADMIN_PASSWORD='Adm1n-pass-phrase' SCREENSHOT_DIR="$shots" STATE_DIR="$HARNESS_DIR/state" ORG=mailroom \
	LIVE=live LIVE_DOMAIN=mail.test DEV=dev DEV_DOMAIN=dev.test DEV_API_KEY="$dev_key" RECEIVER_URL="$receiver_url" \
	timeout 600 node mail.mjs 2>&1) || diag "mail.mjs exited with $?"
diag "mail.mjs took $(($(date +%s) - started)) s"
done_seen=0
while IFS=$'\t' read -r kind name why; do
	case $kind in
	PASS) harness_result 0 "browser (mail): $name" ;;
	FAIL) harness_result 1 "browser (mail): $name"; diag "  $why" ;;
	DONE) done_seen=1 ;;
	'') ;;
	*) diag "$kind $name $why" ;;
	esac
done <<<"$out"
is "$done_seen" 1 "the mail scenario ran to its end"

# What the browser did, as the database and the receiver saw it.
msg_id=$(cat "$HARNESS_DIR/state/message-id" 2>/dev/null || echo 0)
[[ $msg_id =~ ^[0-9]+$ ]] || msg_id=0
is "$(sql "SELECT m.status, m.tag FROM messages m JOIN servers s ON s.id = m.server_id
	WHERE m.id = $msg_id AND s.permalink = 'live'")" "Sent	ui-test" "the XSS message the page showed is the one sent, and it was delivered"
read -r h1 h2 h3 <"$HARNESS_DIR/state/held-ids" 2>/dev/null || true
[[ "${h1:-}${h2:-}${h3:-}" =~ ^[0-9]+$ ]] || { h1=0 h2=0 h3=0; }
is "$(sql "SELECT status IN ('Pending', 'Sent') FROM messages WHERE id IN ($h1, $h2) ORDER BY id")" "1
1" "the two messages released in bulk are on their way (Pending or Sent)"
is "$(sql "SELECT status FROM messages WHERE id = $h3")" HoldCancelled "the cancelled one is HoldCancelled"
is "$(sql "SELECT GROUP_CONCAT(CONCAT(x.address, '/', x.source, '/', x.reason) ORDER BY x.address SEPARATOR ' ')
	FROM suppressions x JOIN servers s ON s.id = x.server_id WHERE s.permalink = 'live'")" \
	'bob@example.org/import/said "stop" manual@example.org/api/asked by phone' \
	"the suppression list: the imported address with its quoted reason, the manual one kept, ann removed"
is "$(sql "SELECT COUNT(*) >= 2 FROM webhook_outbox o JOIN webhooks w ON w.id = o.webhook_id WHERE w.name = 'receiver'
	AND o.event = 'MessageSent'")" 1 "the webhook's MessageSent event was queued twice (sent, then sent again)"
grep -q '"event": *"MessageSent"' "$HARNESS_DIR/hooks.jsonl" 2>/dev/null
ok $? "the receiver got the MessageSent webhook"
is "$(sql "SELECT CONCAT(r.name, ' ', r.mode, ' ', a.address) FROM routes r JOIN servers s ON s.id = r.server_id
	JOIN address_endpoints a ON a.id = r.address_endpoint_id WHERE s.permalink = 'live'")" "support Endpoint desk@example.org" "route support delivers to the address endpoint made in the UI"
is "$(sql "SELECT CONCAT(h.url, ' ', h.timeout) FROM http_endpoints h JOIN servers s ON s.id = h.server_id
	WHERE s.permalink = 'live' AND h.name = 'app'")" "https://app.example.org/mail-in 20" "the endpoint edited in the UI, in the database"
is "$(sql "SELECT GROUP_CONCAT(k.state ORDER BY k.id) FROM domain_dkim_keys k JOIN domains d ON d.id = k.domain_id
	WHERE d.name = 'mail.test'")" "retiring,active" "mail.test's DKIM key was rotated: the old one retiring, the new one active"
is "$(sql "SELECT CONCAT(p.name, ' ', a.ipv4, ' ', o.permalink) FROM ip_pools p JOIN ip_addresses a ON a.ip_pool_id = p.id
	JOIN organization_ip_pools op ON op.ip_pool_id = p.id JOIN organizations o ON o.id = op.organization_id")" \
	"Transactional 192.0.2.10 mailroom" "IP pool Transactional with its address, assigned to mailroom"
is "$(sql "SELECT warmup_started_on = UTC_DATE() FROM ip_addresses WHERE ipv4 = '192.0.2.10'")" 1 \
	"the address switched to warm up in the UI starts its plan today"
