#!/bin/bash
#
# tls.t -- `postgatectl postfix tls` on a real Postfix: STARTTLS on the SMTP port with
# TLS 1.2 or later only (openssl s_client, the seed's own check), AUTH only after TLS,
# implicit TLS on the smtps service and TLS required on submission (swaks), a certificate
# that is expired or does not match its key refused, `postfix check` reporting an expired
# one, a foreign service never taken over, and --off giving main.cf and master.cf back.
# Privacy mode's header_checks still find Postfix's Received field with TLS's comments in it.
#
# Must never: pass a TLS assertion on a connection that did not negotiate TLS.

set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=harness.sh
. "$(dirname "$0")/harness.sh"

command -v openssl >/dev/null || skip_all "openssl missing: run 'packaging/install-deps test' as root"

harness_setup mariadb sink postfix
harness_start_postgate
plan 22

ctl() { status=0; out=$($HARNESS_CTL "$@" 2>&1) || status=$?; }
pc() { postconf -c "$INSTANCE_POSTFIX_CONFIG_DIR" "$@"; }
run_id=$(instance_random_hex 4)
dir=$HARNESS_DIR/tls
mkdir -p "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 30 \
	-subj /CN=mail.postgate.test 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/other.pem" -out "$dir/other-cert.pem" -days 30 \
	-subj /CN=other.postgate.test 2>/dev/null
# An expired certificate for the same key (python3-cryptography can backdate one).
/usr/bin/python3 - "$dir/key.pem" "$dir/expired.pem" <<'PY'
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.postgate.test")])
now = datetime.datetime.utcnow()
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now - datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
open(sys.argv[2], "wb").write(cert.public_bytes(serialization.Encoding.PEM))
PY
smtps=$(instance_free_port) && submission=$(instance_free_port) && squat=$(instance_free_port) ||
	diag "no free ports"
before_n=$(pc -n)
before_M=$(pc -M)

ctl postfix tls --cert "$dir/expired.pem" --key "$dir/key.pem"
is "$status" 65 "an expired certificate is refused (65)"
contains "$out" "has expired" "... saying so"
ctl postfix tls --cert "$dir/cert.pem" --key "$dir/other.pem"
contains "$status $out" "65" "a key that does not match the certificate is refused"
is "$(pc -n)" "$before_n" "... and main.cf is untouched by either"

# A service postgate did not add on the port asked for is never taken over.
pc -M "127.0.0.1:$squat/inet=127.0.0.1:$squat inet n - n - - smtpd"
ctl postfix tls --cert "$dir/cert.pem" --key "$dir/key.pem" --smtps "127.0.0.1:$squat" --no-submission
is "$status" 78 "a foreign service on the smtps port is refused (78)"
pc -MX "127.0.0.1:$squat/inet"

ctl postfix tls --cert "$dir/cert.pem" --key "$dir/key.pem" --smtps "127.0.0.1:$smtps" \
	--submission "127.0.0.1:$submission" --reload
is "$status" 0 "postfix tls with a good certificate exits 0"
[ "$status" = 0 ] || diag "$out"
listening() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
harness_wait_for 30 listening "$smtps" || diag "the smtps service does not listen"
instance_wait_port "$submission" 30 || diag "the submission service did not answer"
is "$(pc -h smtpd_tls_protocols) / $(pc -h smtpd_tls_auth_only)" ">=TLSv1.2 / yes" "main.cf: TLS 1.2 or later, AUTH only after TLS"

s_client() { timeout 20 openssl s_client -brief "$@" </dev/null 2>&1 || true; }
st=$(s_client -starttls smtp -connect "127.0.0.1:$INSTANCE_SMTP_PORT")
like "$st" 'Protocol version: TLSv1\.[23]' "openssl s_client -starttls smtp: TLS 1.2 or 1.3 on the SMTP port"
contains "$st" "CN = mail.postgate.test" "... with the installed certificate"
like "$(s_client -starttls smtp -tls1_2 -connect "127.0.0.1:$INSTANCE_SMTP_PORT")" 'Protocol version: TLSv1\.2' \
	"... and a TLS 1.2 client still gets in"
like "$(s_client -connect "127.0.0.1:$smtps")" 'Protocol version: TLSv1\.[23]' "implicit TLS on the smtps service"

ctl org create --name Acme --permalink acme >/dev/null
ctl server create --org acme --name Mail --permalink mail >/dev/null
ctl domain create --server acme/mail --name example.com --verified >/dev/null
ctl credential create --server acme/mail --name app
key=$(sed -n 's/^key: //p' <<<"$out")
send() { # PORT [swaks TLS options...]
	local port=$1
	shift
	timeout 60 swaks --server "127.0.0.1:$port" --auth PLAIN --auth-user acme/mail --auth-password "$key" \
		--from app@example.com --to someone@example.net --h-From "App <app@example.com>" "$@" 2>&1 || true
}
like "$(send "$INSTANCE_SMTP_PORT" --tls --h-Subject "tls public $run_id")" '250 2\.0\.0 Ok: queued' "STARTTLS then AUTH on the SMTP port: accepted"
# Privacy mode with smtpd_tls_received_header's comments in Postfix's Received field.
received() { # SUBJECT: the delivered copy's Received fields other than the sink's, unfolded
	local f
	harness_wait_for 30 instance_sink_find "$1" >/dev/null || true
	f=$(instance_sink_find "$1") || f=/dev/null
	perl -0777 -ne 's/\r//g; ($h) = split /\n\n/, $_, 2; $h =~ s/\n[ \t]+/ /g; print grep { /^Received:/ && !/\(smtp-sink\)/ } map { "$_\n" } split /\n/, $h' "$f"
}
r=$(received "tls public $run_id")
like "$r" '^Received: from [^ ]+ \(localhost \[127\.0\.0\.1\]\) \(using TLSv1\.[23] with cipher .*\) by postgate\.test \(Postfix\) with ESMTPSA id ' \
	"Postfix's Received field says how TLS was used ..."
unlike "$r" 'Authenticated sender|acme/mail' "... and names no login"
ctl server set acme/mail privacy_mode true
sleep 2.1
send "$INSTANCE_SMTP_PORT" --tls --h-Subject "tls private $run_id" >/dev/null
like "$(received "tls private $run_id")" '^Received: by postgate\.test \(Postfix\) with ESMTPSA id [0-9A-Za-z]+ for <someone@example\.net>; ' \
	"with privacy mode the same field names this host only"
ctl server set acme/mail privacy_mode false
unlike "$(send "$INSTANCE_SMTP_PORT")" '235 2\.7\.0 Authentication successful' "without TLS no AUTH is offered (no password in the clear)"
like "$(send "$smtps" --tlsc)" '250 2\.0\.0 Ok: queued' "AUTH over implicit TLS on smtps: accepted"
like "$(timeout 30 swaks --server "127.0.0.1:$submission" --from app@example.com --to someone@example.net 2>&1 || true)" \
	'530 5\.7\.0 Must issue a STARTTLS command first' "submission without STARTTLS: 530 5.7.0"

ctl postfix check
is "$status" 0 "postfix check with a valid certificate exits 0"
cp "$dir/cert.pem" "$dir/good.pem"
cp "$dir/expired.pem" "$dir/cert.pem"
ctl postfix check
like "$status $out" "^1 .*certificate $dir/cert.pem has expired" "postfix check reports an expired certificate (exit 1)"
cp "$dir/good.pem" "$dir/cert.pem"

ctl postfix tls --off --reload
is "$status" 0 "postfix tls --off exits 0"
ok "$([ "$(pc -n)" = "$before_n" ] && [ "$(pc -M)" = "$before_M" ] && echo 0 || echo 1)" \
	"... and main.cf and master.cf are as before postfix tls"
