#!/bin/bash
#
# domainmail.t -- verifying a domain by a code mailed to webmaster@ (Postal's second method
# beside the DNS TXT record), through postgate-admin, the system mailer and the private
# Postfix to the sink: only the listed addresses can get a code, one code a minute, the
# code kept hashed, five tries and an hour, a wrong or used code refused, a sendmail
# failure answered 503 without a code standing, the outsider's 404, and another tenant's
# correct code refused while the name is claimed.
#
# The system mailer runs sendmail-smtp.py instead of Postfix's sendmail (its header says
# why); the mail is then read at the sink, never trusted from the API's answer.
#
# Must never: read a code anywhere but in the mail the sink received.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"
# shellcheck source-path=SCRIPTDIR source=api.sh
. "$(dirname "$0")/api.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl missing: run 'packaging/install-deps runtime test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
plan 27

harness_start_sysmail
harness_start_admin
base=$HARNESS_ADMIN_URL

mkuser alice@example.test 'Al1ce-pass-phrase'
mkuser eve@example.test 'Ev3-pass-phrase!'
login alice alice@example.test 'Al1ce-pass-phrase'
login eve eve@example.test 'Ev3-pass-phrase!'
# shellcheck disable=SC2154 # login() sets csrf_NAME with printf -v
[ "${#csrf_alice}" = 64 ] && [ "${#csrf_eve}" = 64 ] || harness_setup_failed "logins failed"
for who in alice eve; do
	as "$who" POST /api/v2/organizations "{\"name\": \"Org $who\", \"permalink\": \"$who\"}" >/dev/null
	as "$who" POST "/api/v2/organizations/$who/servers" '{"name": "Mail", "permalink": "mail"}' >/dev/null
done
A=/api/v2/organizations/alice/servers/mail/domains
E=/api/v2/organizations/eve/servers/mail/domains
for d in mail.acme.test other.acme.test old.acme.test; do
	as alice POST "$A" "{\"name\": \"$d\"}" >/dev/null
done

# sink_codes NAME: how many code mails for NAME reached the sink; code_of NAME: the newest code.
sink_codes() { instance_sink_count "Verification code for $1:"; }
code_of() {
	# shellcheck disable=SC2012 # the sink's file names are its own, without spaces
	ls -t $(grep -lF -- "Verification code for $1:" "$INSTANCE_SINK_DIR"/*) 2>/dev/null | head -1 |
		xargs -r grep -m1 -oE "^Subject: Verification code for $1: [0-9]{6}" | grep -oE '[0-9]{6}$' || true
}
wait_codes() { harness_wait_for 30 eval "[ \"\$(sink_codes $1)\" -ge $2 ]" || true; }

# ---------------------------------------------------------------- the addresses

a=$(as alice GET "$A/mail.acme.test")
is "$(body "$a" | j '" ".join(d["data"]["domain"]["verification_email_addresses"])')" \
	"webmaster@mail.acme.test postmaster@mail.acme.test admin@mail.acme.test administrator@mail.acme.test hostmaster@mail.acme.test webmaster@acme.test postmaster@acme.test admin@acme.test administrator@acme.test hostmaster@acme.test" \
	"a domain offers Postal's five addresses at itself and at each parent, not at the top-level domain"
a=$(as alice POST "$A/mail.acme.test/verification-email" '{"address": "alice@example.test"}')
is "$(code "$a") $(body "$a" | j 'd["data"]["errors"]["address"][0]')" \
	"400 ValidationError must be webmaster, postmaster, admin, administrator or hostmaster at mail.acme.test or at a parent domain" \
	"any other address is refused, saying which ones may be used"
a=$(as alice POST "$A/mail.acme.test/verification-email" '{"address": "postmaster@test"}')
is "$(code "$a")" "400 ValidationError" "... the top-level domain's postmaster too"
is "$( [ -s "$SENDMAIL_LOG" ] && wc -l <"$SENDMAIL_LOG" || echo 0)" 0 "... and sendmail never ran for them"

# ---------------------------------------------------------------- a code, mailed

a=$(as alice POST "$A/mail.acme.test/verification-email" '{"address": "postmaster@acme.test"}')
is "$(code "$a") $(body "$a" | j 'd["data"]["domain"]["verification_email"]')" "200  postmaster@acme.test" \
	"a code is mailed to postmaster@acme.test and the domain says where it went"
is "$(tail -n 1 "$SENDMAIL_LOG")" '["-i", "-f", "postgate@postgate.test", "--", "postmaster@acme.test"]' \
	"sendmail ran with a fixed argument list: -i, the envelope sender, then the recipient after --"
wait_codes mail.acme.test 1
code1=$(code_of mail.acme.test)
like "$code1" '^[0-9]{6}$' "the mail reached the sink through Postfix with a six-digit code"
f=$(instance_sink_find "Verification code for mail.acme.test: $code1" || true)
ok "$(grep -qiE '^To: postmaster@acme\.test' "$f" && grep -qiE '^From: postgate@postgate\.test' "$f"; echo $?)" \
	"... addressed to postmaster@acme.test, from sysmail.from"
is "$(sql "SELECT CONCAT_WS(' ', h = SHA2(CONCAT(uuid, ':', '$code1'), 256), h = '$code1' OR t = '$code1' OR h = SHA2('$code1', 256))
	FROM (SELECT uuid, CONVERT(verification_code_hash USING utf8mb4) h, CONVERT(verification_token USING utf8mb4) t
	FROM domains WHERE name = 'mail.acme.test') d")" "1 0" "the database keeps only SHA-256 of uuid:code, not the code"
a=$(as alice POST "$A/mail.acme.test/verification-email" '{"address": "webmaster@acme.test"}')
is "$(code "$a")" "429 TooSoon" "a second code within a minute is refused"
sleep 2
is "$(sink_codes mail.acme.test)" 1 "... and not mailed"

# ---------------------------------------------------------------- the outsider, wrong codes

a=$(as eve POST "$A/mail.acme.test/verification-email" '{"address": "postmaster@acme.test"}')
is "$(code "$a")" "404 NotFound" "another organization's user cannot ask for a code of alice's domain"
a=$(as eve POST "$A/mail.acme.test/verify" "{\"code\": \"$code1\"}")
is "$(code "$a")" "404 NotFound" "... nor use one"
wrong=$(printf '%06d' $(((10#$code1 + 1) % 1000000)))
a=$(as alice POST "$A/mail.acme.test/verify" "{\"code\": \"$wrong\"}")
is "$(code "$a") $(sql "SELECT CONCAT_WS(' ', verified_at IS NULL, verification_code_attempts) FROM domains WHERE name = 'mail.acme.test'")" \
	"422 VerificationFailed 1 1" "a wrong code is refused and counted"
a=$(as alice POST "$A/mail.acme.test/verify" '{"code": "12ab56"}')
is "$(code "$a")" "400 ValidationError" "a code that is not six digits is refused as such"

# ---------------------------------------------------------------- the right code

a=$(as alice POST "$A/mail.acme.test/verify" "{\"code\": \"$code1\"}")
is "$(code "$a") $(body "$a" | j '"%s %s" % (d["data"]["domain"]["verified"], d["data"]["domain"]["verification_method"])')" \
	"200  True Email" "the mailed code verifies the domain, by e-mail"
a=$(as alice POST "$A/mail.acme.test/verify" "{\"code\": \"$code1\"}")
is "$(code "$a")" "422 VerificationFailed" "the code cannot be used twice"
a=$(as alice POST "$A/mail.acme.test/verification-email" '{"address": "postmaster@acme.test"}')
is "$(code "$a")" "409 AlreadyVerified" "a verified domain gets no more codes"

# ---------------------------------------------------------------- another tenant with the real code

as eve POST "$E" '{"name": "mail.acme.test"}' >/dev/null
sql "UPDATE domains SET verification_code_sent_at = NULL WHERE name = 'mail.acme.test'"
a=$(as eve POST "$E/mail.acme.test/verification-email" '{"address": "hostmaster@acme.test"}')
is "$(code "$a")" "200 " "eve's own row of the same name can have a code mailed (to acme's hostmaster, not to eve)"
wait_codes mail.acme.test 2
code2=$(code_of mail.acme.test)
a=$(as eve POST "$E/mail.acme.test/verify" "{\"code\": \"$code2\"}")
is "$(code "$a")" "409 DomainClaimed" "even with the right code eve cannot take a name alice has verified"

# ---------------------------------------------------------------- five tries, one hour

as alice POST "$A/other.acme.test/verification-email" '{"address": "webmaster@other.acme.test"}' >/dev/null
wait_codes other.acme.test 1
code3=$(code_of other.acme.test)
wrong=$(printf '%06d' $(((10#$code3 + 7) % 1000000)))
for _ in 1 2 3 4 5; do as alice POST "$A/other.acme.test/verify" "{\"code\": \"$wrong\"}" >/dev/null; done
a=$(as alice POST "$A/other.acme.test/verify" "{\"code\": \"$code3\"}")
is "$(code "$a") $(sql "SELECT verified_at IS NULL FROM domains WHERE name = 'other.acme.test'")" "422 VerificationFailed 1" \
	"after five wrong tries even the right code is refused"
like "$(body "$a" | j 'd["data"]["message"]')" 'Ask for a new one' "... and the answer says to ask for a new one"

as alice POST "$A/old.acme.test/verification-email" '{"address": "admin@acme.test"}' >/dev/null
wait_codes old.acme.test 1
code4=$(code_of old.acme.test)
sql "UPDATE domains SET verification_code_sent_at = verification_code_sent_at - INTERVAL 61 MINUTE WHERE name = 'old.acme.test'"
a=$(as alice POST "$A/old.acme.test/verify" "{\"code\": \"$code4\"}")
is "$(code "$a")" "422 VerificationFailed" "a code older than an hour is refused"

# ---------------------------------------------------------------- sendmail failing

: >"$SENDMAIL_FAIL"
a=$(as alice POST "$A/old.acme.test/verification-email" '{"address": "admin@acme.test"}')
is "$(code "$a") $(sql "SELECT verification_code_hash IS NULL FROM domains WHERE name = 'old.acme.test'")" "503 MailNotSent 1" \
	"when sendmail fails the answer is 503 and no code stands"
like "$(cat "$HARNESS_ADMIN_LOG")" 'verification code to admin@acme\.test: .*queue cannot be written' \
	"... the administrator's log has sendmail's reason"
rm -f "$SENDMAIL_FAIL"
a=$(as alice POST "$A/old.acme.test/verification-email" '{"address": "admin@acme.test"}')
is "$(code "$a")" "200 " "... and asking again at once works (no minute to wait for a mail that never left)"
wait_codes old.acme.test 2
code5=$(code_of old.acme.test)
a=$(as alice POST "$A/old.acme.test/verify" "{\"code\": \"$code5\"}")
is "$(code "$a")" "200 " "the new code verifies the domain"
