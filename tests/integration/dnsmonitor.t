#!/bin/bash
#
# dnsmonitor.t -- postgate-worker's dns_checks job against dnsmasq: every verified domain
# is checked on its own (no one clicks), a domain whose records are right becomes ok
# without an event, and when one of its records goes wrong DomainDNSError is queued once
# with Postal's payload (not again while it stays wrong); once fixed and broken again, a
# second event. A domain that never passed raises nothing. Track domains' CNAMEs are
# checked by the same job, and so are a hosted domain's names for mail clients (autoconfig,
# autodiscover, the SRV records), which a domain that hosts nothing is not asked for.
#
# Must never: count an event that is not in webhook_outbox for the domain's server.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

command -v dnsmasq >/dev/null || skip_all "dnsmasq missing: run 'packaging/install-deps test' as root"

harness_setup mariadb sink postfix
printf 'autoconfig: { hostname = "mail.postgate.test"; };\n' >>"$HARNESS_CONFIG"
harness_start_postgate
plan 21

ctl() { $HARNESS_CTL "$@"; }
DNS_PORT=$(instance_free_port) || diag "no port for dnsmasq"
# The private resolver, restarted with other records as the test goes on (same port).
dns_stop() { instance_dns_stop "$HARNESS_DIR/dns"; }
trap 'dns_stop; harness_on_exit $?' EXIT
dns_start() {
	dns_stop
	instance_dns_start "$HARNESS_DIR/dns" "$DNS_PORT" "$@" || diag "dnsmasq did not start on port $DNS_PORT"
}

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name good.example --verified >"$HARNESS_DIR/good.zone"
ctl domain create --server acme/mail --name never.example --verified >/dev/null
ctl track-domain create --server acme/mail --name click --domain good.example >/dev/null
sid=$(harness_sql "SELECT id FROM servers WHERE permalink = 'mail'")
# A webhook for every event (nothing listens: the events stay in the outbox to be read).
harness_sql "INSERT INTO webhooks (uuid, server_id, name, url) VALUES (UUID(), $sid, 'all', 'http://127.0.0.1:9/')"
sel=$(sed -n 's/^\([a-z0-9-]*\)\._domainkey\.good\.example\..*/\1/p' "$HARNESS_DIR/good.zone" | head -1)
dkim=$(grep "^$sel\._domainkey\.good\.example\." "$HARNESS_DIR/good.zone" | sed 's/^[^"]*//' | tr -d '"' | tr -d ' ' | fold -w 255 | paste -sd, -)
like "$sel" '^postgate-[a-z0-9]{6}$' "the DKIM selector from the records to publish"
good=(--local=/good.example/ --local=/never.example/ --local=/postgate.test/ --host-record=rp.postgate.test,127.0.0.1
	--txt-record="$sel._domainkey.good.example,$dkim" --cname=psrp.good.example,rp.postgate.test
	--mx-host=good.example,mx.postgate.example.com,10 --cname=click.good.example,track.postgate.example.com
	--txt-record=_dmarc.good.example,"v=DMARC1; p=none; rua=mailto:dmarc@good.example")
spf=--txt-record=good.example,"v=spf1 a mx include:spf.postgate.example.com ~all"
# Two hosted domains: hosted.example publishes its client names, bare.example none.
ctl domain create --server acme/mail --name hosted.example --verified >/dev/null
ctl domain hosting acme/mail hosted.example on >/dev/null
ctl domain create --server acme/mail --name bare.example --verified >/dev/null
ctl domain hosting acme/mail bare.example on >/dev/null
good+=(--local=/hosted.example/ --local=/bare.example/ --host-record=mail.postgate.test,127.0.0.2
	--cname=autoconfig.hosted.example,mail.postgate.test --srv-host=_autodiscover._tcp.hosted.example,mail.postgate.test,443,0,0
	--srv-host=_imaps._tcp.hosted.example,mail.postgate.test,993,0,1 --srv-host=_pop3s._tcp.hosted.example,mail.postgate.test,995,0,1
	--srv-host=_submission._tcp.hosted.example,mail.postgate.test,587,0,1)
dns_start "${good[@]}" --cname=autodiscover.hosted.example,mail.postgate.test "$spf"

export POSTGATE_DNS_RESOLVER="127.0.0.1:$DNS_PORT" POSTGATE_WORKER_JOBS_INTERVAL=1 POSTGATE_WORKER_DNS_CHECK_INTERVAL=1
harness_start_worker
state() { harness_sql "SELECT CONCAT_WS(' ', dns_monitor_state, spf_status, dkim_status, return_path_status, mx_status) FROM domains WHERE name = '$1'"; }
events() { harness_sql "SELECT COUNT(*) FROM webhook_outbox WHERE server_id = $sid AND event = 'DomainDNSError' AND JSON_VALUE(payload, '\$.domain') = '$1'"; }

harness_wait_for 30 eval '[ "$(state good.example)" = "ok OK OK OK OK" ]' || true
is "$(state good.example)" "ok OK OK OK OK" "checked without anyone asking: every record right, the domain is ok"
dmarc() { harness_sql "SELECT CONCAT_WS(' ', dmarc_status, IFNULL(dmarc_error, '-')) FROM domains WHERE name = '$1'"; }
is "$(dmarc good.example)" "OK -" "... its DMARC record (v=DMARC1 with a p= policy) is OK"
like "$(dmarc never.example)" '^Missing No DMARC record exists at _dmarc\.never\.example\.$' "... and a domain without one says it is missing"
is "$(events good.example)" 0 "... and no DomainDNSError"
client() { harness_sql "SELECT CONCAT_WS(' ', IFNULL(client_config_status, '-'), IFNULL(client_config_error, '-')) FROM domains WHERE name = '$1'"; }
harness_wait_for 30 eval '[ "$(client hosted.example)" = "OK -" ]' || true
is "$(client hosted.example)" "OK -" "a hosted domain's names for mail clients (autoconfig, autodiscover, SRV) are checked: OK"
like "$(client bare.example)" '^Missing autoconfig\.bare\.example has no CNAME record \(to mail\.postgate\.test\)\.' \
	"... one that publishes none is Missing, saying what to publish"
is "$(client good.example)" "- -" "... and a domain that hosts no mailboxes is not asked for them"
like "$(state never.example)" '^unknown ' "a domain that never passed stays unknown"
track() { harness_sql "SELECT CONCAT_WS(' ', dns_status, IFNULL(dns_error, '-')) FROM track_domains WHERE name = 'click'"; }
harness_wait_for 30 eval '[ "$(track)" = "OK -" ]' || true
is "$(track)" "OK -" "the track domain's CNAME is checked too: OK"
sleep 3
is "$(events never.example)" 0 "... and raises nothing though it keeps failing"

# The SPF record loses postgate's include: one event, not one per check.
broken=("${good[@]/--cname=click.good.example,track.postgate.example.com/--cname=click.good.example,elsewhere.example}")
dns_start "${broken[@]/v=DMARC1; p=none; rua=mailto:dmarc@good.example/v=DMARC1; rua=mailto:dmarc@good.example}" \
	--txt-record=good.example,"v=spf1 -all"
harness_wait_for 30 eval '[ "$(events good.example)" -ge 1 ]' || true
sleep 3   # three more checks of a domain still failing
harness_wait_for 30 eval '[ "$(client hosted.example | cut -d" " -f1)" = Invalid ]' || true
like "$(client hosted.example)" '^Invalid autodiscover\.hosted\.example has no CNAME record' \
	"... and a hosted domain whose autodiscover name went away is Invalid, naming it"

is "$(events good.example)" 1 "the SPF record broken: DomainDNSError queued once, not at every check"
is "$(state good.example)" "alerted Invalid OK OK OK" "... the domain is alerted, its SPF Invalid"
harness_wait_for 30 eval '[ "$(track | cut -d" " -f1)" = Invalid ]' || true
is "$(track)" "Invalid The CNAME record at click.good.example points to elsewhere.example; it should point to track.postgate.example.com." \
	"... and a track domain pointing elsewhere is Invalid, saying where it should point"
payload=$(harness_sql "SELECT HEX(payload) FROM webhook_outbox WHERE server_id = $sid AND event = 'DomainDNSError' ORDER BY id LIMIT 1" | xxd -r -p)
is "$(/usr/bin/python3 -c 'import json, sys
p = json.loads(sys.argv[1])
print(sorted(p), p["domain"], p["spf_status"], p["dkim_status"], p["dkim_error"], p["server"]["permalink"], type(p["dns_checked_at"]).__name__)' "$payload")" \
	"['dkim_error', 'dkim_status', 'dmarc_error', 'dmarc_status', 'dns_checked_at', 'domain', 'mx_error', 'mx_status', 'return_path_error', 'return_path_status', 'server', 'spf_error', 'spf_status', 'uuid'] good.example Invalid OK None mail float" \
	"... with Postal's payload (the check results and the server; DMARC beside them)"
like "$(dmarc good.example)" '^Invalid The DMARC record at _dmarc\.good\.example has no valid p= policy' "... and a DMARC record without p= is Invalid"
like "$(/usr/bin/python3 -c 'import json, sys; print(json.loads(sys.argv[1])["spf_error"])' "$payload")" 'does not include spf\.postgate\.example\.com' \
	"... whose spf_error says what is wrong"

# Fixed, then broken again: a second event.
dns_start "${good[@]}" "$spf"
harness_wait_for 30 eval '[ "$(state good.example)" = "ok OK OK OK OK" ]' || true
is "$(state good.example)" "ok OK OK OK OK" "fixed: back to ok"
dns_start "${good[@]}"
harness_wait_for 30 eval '[ "$(events good.example)" -ge 2 ]' || true
is "$(events good.example)" 2 "broken again (SPF record gone): a second DomainDNSError"
like "$(grep 'dns_checks:' "$HARNESS_WORKER_LOG" | grep -c 'newly failing (DomainDNSError queued)')" '^[1-9]' "the worker logs its checks"
