#!/bin/bash
#
# routing.t -- tenant isolation of incoming routing, tried from the attacker tenant's
# side against the real Postfix, postgate-policyd, postgate-worker and postgate-admin:
#
#   - an unverified domain (a big provider's name, or another tenant's domain) with a
#     '*' route must not enter relay_domains: everyone's outgoing mail to it still goes
#     to the Internet (the sink), not to LMTP and the attacker's route;
#   - a domain name is verified by one server at a time: the second claimant gets 409
#     (API verify, API create verified by an installation admin, postgatectl);
#   - a route is made only on a verified domain of its own server, so an exact route on
#     someone else's domain is impossible, and one written into the table anyway does
#     not beat the owner's '*' route;
#   - after a route domain is removed, outgoing mail to it is never refused with a 5xx
#     (a stale relay_domains answer gives 4xx) and reaches the sink once the change has
#     reached Postfix.
#
# Routes the API refuses are written with SQL, as the old code let them be made, so the
# mail-flow assertions show what Postfix does with such rows.
#
# Must never: count mail as delivered that the sink does not hold, or leave anything running.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"
command -v swaks >/dev/null 2>&1 || skip_all "swaks missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
harness_start_worker
harness_start_admin
plan 26

base=$HARNESS_ADMIN_URL
run_id=$(instance_random_hex 4)
ctl() { $HARNESS_CTL "$@"; }

# smtpd keeps trivial-rewrite's answers for the life of the process (its resolve cache
# survives sessions), so a retry that reaches the same process sees the same class. A
# short max_idle lets an idle smtpd exit between the retries below, as busy sites see
# processes come and go (the default, 100 s, would only make the test slow).
postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" -e max_idle=5 >/dev/null
postfix -c "$INSTANCE_POSTFIX_CONFIG_DIR" reload >/dev/null 2>&1 || harness_setup_failed "postfix reload"
instance_wait_port "$INSTANCE_SMTP_PORT" 30 || harness_setup_failed "Postfix did not answer after the reload"

mkuser root@example.test 'Adm1n-pass-phrase' --admin
mkuser alice@example.test 'Al1ce-pass-phrase'
mkuser eve@example.test 'Ev3-pass-phrase!'
login() { # NAME EMAIL PASSWORD
	local a
	a=$(call POST /api/v2/session "{\"email\": \"$2\", \"password\": \"$3\"}" -c "$(jar "$1")")
	printf -v "csrf_$1" '%s' "$(body "$a" | j 'd["data"]["csrf_token"]')"
}
login root root@example.test 'Adm1n-pass-phrase'
login alice alice@example.test 'Al1ce-pass-phrase'
login eve eve@example.test 'Ev3-pass-phrase!'
setup() { case "$(status "$1")" in 200|201) ;; *) harness_setup_failed "set-up step: $(body "$1")" ;; esac; }
field() { body "$1" | j "d['data']['errors']['$2'][0]"; }

# Alice (the victim): victim.test and leaving.test verified (by the installation admin),
# each with a '*' route in Accept mode, alice.test to send from, and an SMTP credential.
A=/api/v2/organizations/acme/servers/mail
E=/api/v2/organizations/evil/servers/grab
setup "$(as alice POST /api/v2/organizations '{"name": "Acme", "permalink": "acme"}')"
setup "$(as alice POST /api/v2/organizations/acme/servers '{"name": "Mail", "permalink": "mail"}')"
setup "$(as root POST $A/domains '{"name": "victim.test", "verified": true}')"
setup "$(as root POST $A/domains '{"name": "leaving.test", "verified": true}')"
setup "$(as root POST $A/domains '{"name": "alice.test", "verified": true}')"
setup "$(as alice POST $A/routes '{"name": "*", "domain": "victim.test", "mode": "Accept"}')"
setup "$(as alice POST $A/routes '{"name": "*", "domain": "leaving.test", "mode": "Accept"}')"
key=$(ctl credential create --server acme/mail --name app | sed -n 's/^key: //p')
[[ $key =~ ^[A-Za-z0-9]{24}$ ]] || harness_setup_failed "credential create"
alice_server=$(sql "SELECT id FROM servers WHERE permalink = 'mail'")

# Eve (the attacker): her own organization and server.
setup "$(as eve POST /api/v2/organizations '{"name": "Evil", "permalink": "evil"}')"
setup "$(as eve POST /api/v2/organizations/evil/servers '{"name": "Grab", "permalink": "grab"}')"
eve_server=$(sql "SELECT id FROM servers WHERE permalink = 'grab'")

# outgoing RCPT SUBJECT: Alice's application sends through the submission path.
outgoing() {
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --auth PLAIN --auth-user acme/mail \
		--auth-password "$key" --from app@alice.test --to "$1" --h-From "App <app@alice.test>" \
		--h-Subject "$2" --body "routing test $run_id" 2>&1 || true
}
# incoming RCPT SUBJECT: the Internet delivers to the MX.
incoming() {
	timeout 60 swaks --server "127.0.0.1:$INSTANCE_SMTP_PORT" --from someone@example.org --to "$1" \
		--h-Subject "$2" --body "routing test $run_id" 2>&1 || true
}
in_sink() { instance_sink_find "$1" >/dev/null; }
incoming_rows() { sql "SELECT COUNT(*) FROM messages WHERE scope = 'incoming' AND subject = '$1'"; }
stored_for() { sql "SELECT server_id FROM messages WHERE scope = 'incoming' AND subject = '$1'"; }
# policyd reloads its domain list at the first lookup 10 s after the last load, and
# answers that lookup from the old list: wait, make a lookup, and give it a moment.
policyd_refreshed() {
	sleep 11
	incoming probe@refresh.invalid "probe $run_id" >/dev/null
	sleep 1
}
sql_route() { # SERVER_ID DOMAIN_ID NAME: a route as the old API let anyone make it
	sql "INSERT INTO routes (uuid, server_id, domain_id, name, token, mode) VALUES (UUID(), $1, $2, '$3', '$(instance_random_hex 4)', 'Accept')"
}

# ---------------------------------------------------------------- 1-6: an unverified provider domain with a '*' route

a=$(as eve POST $E/domains '{"name": "bigmail.test"}')
is "$(status "$a") $(body "$a" | j 'd["data"]["domain"]["verified"]')" "201 false" "eve adds bigmail.test: made, unverified"
a=$(as eve POST $E/routes '{"name": "*", "domain": "bigmail.test", "mode": "Accept"}')
is "$(code "$a")" "400 ValidationError" "a '*' route on the unverified domain is refused"
like "$(field "$a" domain)" 'is not verified' "... and the error says the domain is not verified"
is "$(sql "SELECT COUNT(*) FROM routes WHERE server_id = $eve_server")" 0 "no route was made"
# As the old API allowed: the route exists anyway. policyd's domain list must still not
# have the name after its refresh (10 s).
sql_route "$eve_server" "$(sql "SELECT id FROM domains WHERE name = 'bigmail.test'")" '*'
policyd_refreshed
subject="to provider $run_id"
out=$(outgoing friend@bigmail.test "$subject")
like "$out" '<-  250 2\.0\.0 Ok: queued' "alice's mail to friend@bigmail.test is accepted"
harness_wait_for 30 in_sink "$subject" || true
ok "$( in_sink "$subject" && [ "$(incoming_rows "$subject")" = 0 ] && echo 0 || echo 1)" \
	"it went to the Internet (the sink), not to LMTP and eve's route"

# ---------------------------------------------------------------- 7-13: one claim per domain name

a=$(as root POST $E/domains '{"name": "Victim.TEST", "verified": true}')
is "$(code "$a")" "409 DomainClaimed" "an installation admin cannot mark a second claim of victim.test verified: 409"
out=$(ctl domain create --server evil/grab --name Victim.Test --verified 2>&1) && st=0 || st=$?
is "$st" 65 "postgatectl domain create --verified on a claimed name exits 65"
like "$out" 'verified by another mail server' "... saying the name is claimed"
a=$(as eve POST $E/domains '{"name": "victim.test"}')
is "$(status "$a") $(body "$a" | j 'd["data"]["domain"]["verified"]')" "201 false" \
	"eve may add alice's domain name to her server, unverified"
a=$(as eve POST "$E/domains/victim.test/verify")
is "$(code "$a")" "409 DomainClaimed" "eve cannot verify a name alice has verified: 409 DomainClaimed"
like "$(body "$a" | j 'd["data"]["message"]')" 'victim\.test is verified by another mail server' "... the message says why"
is "$(sql "SELECT COUNT(*) FROM domains WHERE name = 'victim.test' AND verified_at IS NOT NULL")" 1 \
	"the database has one verified victim.test, alice's"

# ---------------------------------------------------------------- 14-18: an exact route on someone else's domain

a=$(as eve POST $E/routes '{"name": "ceo", "domain": "victim.test", "mode": "Accept"}')
is "$(code "$a")" "400 ValidationError" "eve's exact route ceo@victim.test is refused"
sql_route "$eve_server" "$(sql "SELECT d.id FROM domains d WHERE d.name = 'victim.test' AND d.server_id = $eve_server")" ceo
subject="to ceo $run_id"
out=$(incoming ceo@victim.test "$subject")
like "$out" '<-  250 2\.0\.0 Ok: queued' "mail from the Internet to ceo@victim.test is accepted"
harness_wait_for 30 test "$(incoming_rows "$subject")" = 1 || true
is "$(stored_for "$subject")" "$alice_server" "it is stored for alice's '*' route, not eve's exact route in the table"
sql "UPDATE domains SET verified_at = NULL WHERE name = 'victim.test' AND server_id = $alice_server"
policyd_refreshed
subject="unclaimed $run_id"
out=$(outgoing ceo@victim.test "$subject")
unlike "$out" '<\*\* 5[0-9][0-9] ' "once alice's claim is gone, mail to victim.test is not refused"
harness_wait_for 60 in_sink "$subject" || true
ok "$( in_sink "$subject" && [ "$(incoming_rows "$subject")" = 0 ] && echo 0 || echo 1)" \
	"and it goes to the Internet: an unverified domain's routes (eve's exact one too) receive nothing"

# ---------------------------------------------------------------- 19-26: a removed route domain, stale answers

# Prime policyd's list (and smtpd) with leaving.test: mail for it is accepted as incoming.
subject="prime $run_id"
primed() { [ "$(incoming_rows "$subject")" = 1 ]; }
for _ in 1 2 3 4 5 6 7 8 9 10 11 12; do
	out=$(incoming "prime@leaving.test" "$subject")
	grep -q '<-  250 2\.0\.0 Ok: queued' <<<"$out" && break
	sleep 6     # past max_idle: the next try meets an smtpd without the old answer
done
harness_wait_for 30 primed || true
ok "$(primed && echo 0 || echo 1)" "leaving.test receives mail (stored as incoming)"
a=$(as alice DELETE $A/domains/leaving.test)
is "$(status "$a")" 200 "alice removes leaving.test (its route goes with it)"
# At once, before any cache can have noticed: a 4xx may delay the mail, a 5xx would lose it.
subject="after removal $run_id"
out=$(outgoing bob@leaving.test "$subject")
unlike "$out" '<\*\* 5[0-9][0-9] ' "outgoing mail to the removed domain right away: no 5xx"
like "$out" '(<-  250 2\.0\.0 Ok: queued|<\*\* 4[0-9][0-9] )' "... but 250 or a 4xx"
diag "first answer: $(grep -E '^<(\*\*|-) +[245][0-9][0-9] ' <<<"$out" | grep -v ' 221 ' | tail -1)"
# A client retries after a 4xx; within the TTL (policyd's list: 10 s, then an smtpd
# process that has not seen the old answer) the mail is taken as outgoing.
fivexx=0
accepted=$(grep -c '<-  250 2\.0\.0 Ok: queued' <<<"$out" || true)
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ "$accepted" -gt 0 ] && break
	sleep 12
	out=$(outgoing bob@leaving.test "$subject")
	grep -qE '<\*\* 5[0-9][0-9] ' <<<"$out" && fivexx=1
	accepted=$(grep -c '<-  250 2\.0\.0 Ok: queued' <<<"$out" || true)
done
is "$fivexx" 0 "no retry got a 5xx"
ok "$([ "$accepted" -gt 0 ] && echo 0 || echo 1)" "a retry within two minutes is accepted"
harness_wait_for 60 in_sink "$subject" || true
ok "$(in_sink "$subject" && echo 0 || echo 1)" "the mail reached the Internet (the sink)"
is "$(incoming_rows "$subject")" 0 "and nothing of it went to LMTP"
