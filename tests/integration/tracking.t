#!/bin/bash
#
# tracking.t -- click and open tracking end to end: a server with a track domain, an HTML
# (quoted-printable) + plain message submitted with SMTP AUTH through the real Postfix,
# rewritten by postgate-milter before signing (the sink's copy has tracked links and the
# pixel, and python3-dkim still verifies it), then followed through postgate-tracker with
# curl: the 307 goes to exactly the original URL (written with &amp; in the HTML), clicks
# and loads are recorded with clicked_at/loaded_at and their webhook events, with the
# client address behind a trusted proxy (all X-Forwarded-For lines counted); unknown
# tokens are 404, other paths "Hello.", requests without X-Postal-Track-Host are not
# tracking requests; X-AMP: skip leaves a message alone; clicks made while MariaDB is down
# are written once it is back; SIGTERM right after a burst of clicks loses none of them,
# nor does kill -9 (the spool is replayed at the next start, each click written once).
#
# Must never: pass on a message it did not find in the sink, or trust postgate's own view
# of a signature or of a redirect.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

harness_setup mariadb sink postfix
harness_start_postgate
harness_start_tracker
plan 52

here=$(cd "$(dirname "$0")" && pwd)
ctl() { $HARNESS_CTL "$@"; }
settle() { sleep 2.1; }
run_id=$(instance_random_hex 4)
# sql_is SQL VALUE: for harness_wait_for (the query runs on every try).
sql_is() { [ "$(harness_sql "$1" 2>/dev/null)" = "$2" ]; }
check() {
	local name=$1
	shift
	if "$@"; then ok 0 "$name"; else ok 1 "$name"; fi
}

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name example.com --verified >"$HARNESS_DIR/records.zone"
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
server_token=$(harness_sql "SELECT token FROM servers WHERE permalink = 'mail'")
server_id=$(harness_sql "SELECT id FROM servers WHERE permalink = 'mail'")

# 1-3: the track domain.
out=$(ctl track-domain create --server acme/mail --name click --domain example.com --no-ssl --exclude example.org 2>&1)
like "$out" 'publish: click\.example\.com\. IN CNAME ' "track-domain create prints the CNAME to publish"
like "$(ctl track-domain list acme/mail)" ' click\.example\.com ssl=no clicks=yes loads=yes dns=unchecked excluded=example\.org$' \
	"track-domain list shows it with its settings"
out=$(ctl track-domain create --server acme/mail --name 'Bad_Label' --domain example.com 2>&1) && st=0 || st=$?
is "$st" 65 "a name that is not one DNS label is refused (exit 65)"
# A listener, so that events are queued.
harness_sql "INSERT INTO webhooks (uuid, server_id, name, url) VALUES (UUID(), $server_id, 'hook', 'http://127.0.0.1:9/')"
settle

# The message: quoted-printable HTML (an &amp; URL split by a soft line break, the same
# URL twice, an excluded domain, +notrack, mailto) and a plain part.
msg="$HARNESS_DIR/tracked.eml"
subject="tracked $run_id"
cat >"$msg" <<EOF
From: App <app@example.com>
To: one@example.net, two@example.net
Subject: $subject
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Caf=C3=A9 news: https://shop.example.com/item?id=3D7&ref=3Dmail

--b1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<html><body><p>Caf=C3=A9 <a href=3D"https://shop.example.com/item?id=3D7&amp;re=
f=3Dmail">the item</a> and <a href=3D"https://shop.example.com/item?id=3D7&amp;ref=3Dmail">again</a>.</p>
<p><a href=3D"https://example.org/keep">kept</a> <a href=3D"https+notrack://quiet.example.com/x">quiet</a>
<a href=3D"mailto:help@example.com">mail</a> <a href=3D"http://www.example.com/second">second</a></p>
</body></html>

--b1--
EOF
out=$(timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/mail \
	--auth-password "$key" --from app@example.com --to one@example.net,two@example.net --data "$msg" 2>&1 || true)

# 4-14: what arrives.
check "the message reaches the sink" harness_wait_for 30 instance_sink_find "$subject"
f=$(instance_sink_find "$subject" || echo /dev/null)
first=$(harness_sql "SELECT token FROM messages WHERE subject = '$subject' ORDER BY id LIMIT 1")
first_id=$(harness_sql "SELECT id FROM messages WHERE subject = '$subject' ORDER BY id LIMIT 1")
html=$(/usr/bin/python3 -c '
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for p in m.walk():
    if p.get_content_type() == "text/html":
        sys.stdout.write(p.get_payload(decode=True).decode(p.get_content_charset()))
' "$f" 2>&1 || true)
plain=$(/usr/bin/python3 -c '
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for p in m.walk():
    if p.get_content_type() == "text/plain":
        sys.stdout.write(p.get_payload(decode=True).decode(p.get_content_charset()))
' "$f" 2>&1 || true)
link1=$(grep -o "http://click\.example\.com/$server_token/[A-Za-z0-9]*\">the item" <<<"$html" | sed 's/.*\/\([A-Za-z0-9]*\)">.*/\1/' || true)
like "$link1" '^[A-Za-z0-9]{16}$' "the HTML link is rewritten to http://click.example.com/<server token>/<16-character token>"
contains "$html" "<a href=\"http://click.example.com/$server_token/$link1\">again</a>" "the same URL twice is one link"
is "$(grep -c 'shop\.example\.com' <<<"$html" || true)" 0 "no tracked URL is left in the HTML"
contains "$html" '<a href="https://example.org/keep">kept</a>' "a link to an excluded domain is untouched"
contains "$html" '<a href="https://quiet.example.com/x">quiet</a>' "+notrack is removed and the link not tracked"
contains "$html" '<a href="mailto:help@example.com">mail</a>' "mailto: is untouched"
contains "$html" "<img src=\"http://click.example.com/img/$server_token/$first\"" "the pixel carries the first recipient's token"
like "$html" '<img [^>]*></body></html>' "the pixel sits right before </body>"
contains "$html" '<p>Café <a href=' "the rest of the HTML is unchanged (the UTF-8 text survives re-encoding)"
contains "$plain" 'https://shop.example.com/item?id=7&ref=mail' "the plain part is untouched (milter.track_plain_text is off)"
like "$(/usr/bin/python3 "$here/dkim-verify.py" "$HARNESS_DIR/records.zone" "$f" 2>&1 || true)" '^pass a=rsa-sha256 d=example\.com' \
	"python3-dkim verifies the signature over the rewritten body"

# 15-18: what is recorded.
is "$(harness_sql "SELECT COUNT(*), COUNT(DISTINCT message_id), MIN(message_id) FROM links WHERE message_id IN
	(SELECT id FROM messages WHERE subject = '$subject')")" "2	1	$first_id" \
	"two links (one per distinct URL), both stored against the first recipient's row"
is "$(harness_sql "SELECT url FROM links WHERE token = '$link1'")" 'https://shop.example.com/item?id=7&ref=mail' \
	"the link's URL is the decoded one (&amp; became &)"
is "$(harness_sql "SELECT url_hash FROM links WHERE token = '$link1'")" \
	"$(harness_sql "SELECT SHA2(url, 256) FROM links WHERE token = '$link1'")" "url_hash is the SHA-256 of the URL"
stored=$(harness_sql "SELECT CAST(r.body AS CHAR) FROM raw_messages r JOIN messages m ON m.raw_message_id = r.id WHERE m.id = $first_id")
stored=${stored//=\\r\\n/}   # quoted-printable soft line breaks, as mariadb --batch prints them
stored=${stored//=\\n/}
stored=${stored//=$'\r'\\n/}
contains "$stored" "click.example.com/$server_token/$link1" "the stored copy is the rewritten one (a release sends it as it is)"

# 19-26: a click and a load through the tracker.
hdr=(-H 'X-Postal-Track-Host: 1' -H 'User-Agent: TrackTest/1.0' -H 'X-Forwarded-For: 198.51.100.7, 203.0.113.9')
out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "${hdr[@]}" "$HARNESS_TRACKER_URL/$server_token/$link1")
is "$out" "307 https://shop.example.com/item?id=7&ref=mail" "a tracked link redirects (307) to exactly the original URL"
check "the click is recorded" harness_wait_for 10 sql_is "SELECT COUNT(*) FROM clicks WHERE message_id = $first_id" 1
is "$(harness_sql "SELECT CONCAT_WS(' ', c.ip, c.user_agent, l.token, c.server_id) FROM clicks c JOIN links l ON l.id = c.link_id WHERE c.message_id = $first_id")" \
	"203.0.113.9 TrackTest/1.0 $link1 $server_id" "the click has the client address (from a trusted proxy), user agent and link"
is "$(harness_sql "SELECT clicked_at IS NOT NULL FROM messages WHERE id = $first_id")" 1 "the message's clicked_at is set"
is "$(harness_sql "SELECT CONCAT_WS(' ', JSON_VALUE(payload, '\$.url'), JSON_VALUE(payload, '\$.token'), JSON_VALUE(payload, '\$.ip_address'),
	JSON_VALUE(payload, '\$.user_agent'), JSON_VALUE(payload, '\$.message.token')) FROM webhook_outbox WHERE event = 'MessageLinkClicked'")" \
	"https://shop.example.com/item?id=7&ref=mail $link1 203.0.113.9 TrackTest/1.0 $first" "a MessageLinkClicked event with Postal's payload is queued"
out=$(curl -s -D "$HARNESS_DIR/pixel.h" -o "$HARNESS_DIR/pixel.gif" -w '%{http_code} %{content_type}' "${hdr[@]}" \
	"$HARNESS_TRACKER_URL/img/$server_token/$first")
is "$out" "200 image/gif" "the pixel answers 200 with an image"
like "$(head -c 6 "$HARNESS_DIR/pixel.gif")$(grep -i '^cache-control:' "$HARNESS_DIR/pixel.h")" '^GIF89aCache-Control: no-cache, no-store' \
	"the image is a GIF and may not be cached"
check "the load is recorded with loaded_at and a MessageLoaded event" harness_wait_for 10 sql_is \
	"SELECT CONCAT((SELECT COUNT(*) FROM loads WHERE message_id = $first_id), (SELECT loaded_at IS NOT NULL FROM messages WHERE id = $first_id),
	(SELECT COUNT(*) FROM webhook_outbox WHERE event = 'MessageLoaded' AND JSON_VALUE(payload, '\$.message.token') = '$first' AND JSON_VALUE(payload, '\$.ip_address') = '203.0.113.9'))" 111

# 27: a client's own X-Forwarded-For line does not hide the proxy's: the proxy (trusted)
# added a second line, and every line counts, joined in order (RFC 7230 section 3.2.2).
curl -s -o /dev/null -H 'X-Postal-Track-Host: 1' -H 'User-Agent: TrackXFF/1.0' -H 'X-Forwarded-For: 198.51.100.66' \
	-H 'X-Forwarded-For: 203.0.113.10' "$HARNESS_TRACKER_URL/$server_token/$link1"
harness_wait_for 10 sql_is "SELECT COUNT(*) FROM clicks WHERE user_agent = 'TrackXFF/1.0'" 1 || true
is "$(harness_sql "SELECT ip FROM clicks WHERE user_agent = 'TrackXFF/1.0'")" 203.0.113.10 \
	"two X-Forwarded-For lines: the click has the address the proxy saw, not the client's first line"

# 28-34: everything else.
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
is "$(code -H 'X-Postal-Track-Host: 1' "$HARNESS_TRACKER_URL/$server_token/AAAAAAAAAAAAAAAA")" 404 "an unknown link token is 404"
is "$(code -H 'X-Postal-Track-Host: 1' "$HARNESS_TRACKER_URL/nosuchserver/$link1")" 404 "a link token under another server token is 404"
is "$(code -H 'X-Postal-Track-Host: 1' "$HARNESS_TRACKER_URL/img/nosuchserver/$first")" 404 "a pixel of an unknown server is 404"
is "$(curl -s -H 'X-Postal-Track-Host: 1' "$HARNESS_TRACKER_URL/")$(curl -s -H 'X-Postal-Track-Host: 1' "$HARNESS_TRACKER_URL/a/b/c")" \
	"Hello.Hello." "other paths answer Hello."
clicks_before=$(harness_sql "SELECT COUNT(*) FROM clicks")
out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$HARNESS_TRACKER_URL/$server_token/$link1")
is "$out" "404 " "without X-Postal-Track-Host it is not a tracking request (no redirect)"
is "$(code -I -H 'X-Postal-Track-Host: 1' "$HARNESS_TRACKER_URL/$server_token/$link1")" 307 "HEAD gets the redirect too"
sleep 1
is "$(harness_sql "SELECT COUNT(*) FROM clicks")" "$clicks_before" "neither the header-less request nor HEAD recorded a click"

# 35-37: X-AMP: skip leaves the whole message alone.
subject2="amp $run_id"
sed -e "s/^Subject: .*/Subject: $subject2/" -e "s/^MIME-Version:/X-AMP: skip\nMIME-Version:/" "$msg" >"$HARNESS_DIR/amp.eml"
out=$(timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/mail \
	--auth-password "$key" --from app@example.com --to one@example.net --data "$HARNESS_DIR/amp.eml" 2>&1 || true)
check "the X-AMP: skip message reaches the sink" harness_wait_for 30 instance_sink_find "$subject2"
f2=$(instance_sink_find "$subject2" || echo /dev/null)
is "$(grep -c 'click\.example\.com' "$f2" || true)" 0 "X-AMP: skip: no link rewritten, no pixel"
is "$(harness_sql "SELECT COUNT(*) FROM links l JOIN messages m ON m.id = l.message_id WHERE m.subject = '$subject2'")" 0 \
	"X-AMP: skip: no links recorded"

# 38-40: MariaDB down: the (cached) link still redirects; the clicks wait and are written.
before=$(harness_sql "SELECT COUNT(*) FROM clicks")
instance_mariadb_stop "$HARNESS_DIR/mariadb"
codes=""
for i in 1 2 3 4 5; do codes+="$(code "${hdr[@]}" "$HARNESS_TRACKER_URL/$server_token/$link1") "; done
is "$codes" "307 307 307 307 307 " "while MariaDB is down, cached links still redirect"
sleep 1
instance_mariadb_start "$HARNESS_DIR/mariadb" >/dev/null
check "once MariaDB is back the 5 clicks are written" harness_wait_for 30 sql_is "SELECT COUNT(*) FROM clicks" "$((before + 5))"
like "$(cat "$HARNESS_TRACKER_LOG")" 'MariaDB unavailable .* clicks and loads kept, retrying' "the outage is logged"

# 41-45: SIGTERM right after a burst of clicks: none lost. A long flush interval makes sure
# they are all still queued when the signal arrives.
instance_postgate_stop "$HARNESS_DIR" tracker
HARNESS_TRACKER_FLUSH_MS=60000 harness_start_tracker
before=$(harness_sql "SELECT COUNT(*) FROM clicks")
outbox_before=$(harness_sql "SELECT COUNT(*) FROM webhook_outbox WHERE event = 'MessageLinkClicked'")
codes=$(for i in $(seq 1 100); do code "${hdr[@]}" "$HARNESS_TRACKER_URL/$server_token/$link1"; echo; done | sort | uniq -c | awk '{print $1 " " $2}')
is "$codes" "100 307" "100 clicks answered"
is "$(harness_sql "SELECT COUNT(*) FROM clicks")" "$before" "they are still queued (flush interval 60 s)"
kill -TERM "$HARNESS_TRACKER_PID"
check "the tracker exits on SIGTERM" harness_wait_for 30 bash -c "! kill -0 $HARNESS_TRACKER_PID 2>/dev/null"
is "$(harness_sql "SELECT COUNT(*) FROM clicks") $(harness_sql "SELECT COUNT(*) FROM webhook_outbox WHERE event = 'MessageLinkClicked'")" \
	"$((before + 100)) $((outbox_before + 100))" "SIGTERM wrote all 100 clicks and their events"
like "$(tail -n 3 "$HARNESS_TRACKER_LOG")" 'stopped: [0-9]+ clicks and loads recorded, 0 dropped, 0 not written' \
	"the tracker reports nothing dropped or unwritten"

# 47-52: kill -9 right after a burst of clicks and loads, all still queued in memory (flush
# interval 60 s): the spool has every answered one, and the next start writes each once.
HARNESS_TRACKER_FLUSH_MS=60000 harness_start_tracker
before=$(harness_sql "SELECT COUNT(*) FROM clicks")
loads_before=$(harness_sql "SELECT COUNT(*) FROM loads")
outbox_before=$(harness_sql "SELECT COUNT(*) FROM webhook_outbox WHERE event IN ('MessageLinkClicked', 'MessageLoaded')")
codes=$(for i in $(seq 1 40); do
	code "${hdr[@]}" "$HARNESS_TRACKER_URL/$server_token/$link1"
	echo
	[ $((i % 4)) != 0 ] || { code "${hdr[@]}" "$HARNESS_TRACKER_URL/img/$server_token/$first"; echo; }
done | sort | uniq -c | awk '{print $1 " " $2}' | tr '\n' ' ')
is "$codes" "10 200 40 307 " "40 clicks and 10 loads answered"
is "$(harness_sql "SELECT COUNT(*) FROM clicks") $(harness_sql "SELECT COUNT(*) FROM loads")" "$before $loads_before" \
	"none written yet (flush interval 60 s)"
kill -KILL "$HARNESS_TRACKER_PID"
check "the tracker dies on SIGKILL" harness_wait_for 10 bash -c "! kill -0 $HARNESS_TRACKER_PID 2>/dev/null"
harness_start_tracker
check "after a restart the 40 clicks and 10 loads are written" harness_wait_for 15 sql_is \
	"SELECT CONCAT(COUNT(*), ' ', (SELECT COUNT(*) FROM loads)) FROM clicks" "$((before + 40)) $((loads_before + 10))"
sleep 1
is "$(harness_sql "SELECT COUNT(*) FROM clicks") $(harness_sql "SELECT COUNT(*) FROM loads") $(harness_sql "SELECT COUNT(*) FROM webhook_outbox WHERE event IN ('MessageLinkClicked', 'MessageLoaded')")" \
	"$((before + 40)) $((loads_before + 10)) $((outbox_before + 50))" "each exactly once, with one webhook event each"
like "$(cat "$HARNESS_TRACKER_LOG")" 'replaying 50 clicks and loads left by an earlier run' "the replay is logged"

done_testing
