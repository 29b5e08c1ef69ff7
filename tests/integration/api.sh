# shellcheck shell=bash
#
# api.sh -- helpers for the integration tests that drive postgate-admin's HTTP APIs with
# curl (sourced after harness.sh and harness_start_admin, which sets $base).
#
#   mkuser EMAIL PASSWORD [--admin]   a web user, through postgatectl make-user
#   call METHOD PATH [BODY] [curl args...]   the answer's body, then its HTTP status last
#   status ANSWER / body ANSWER / code ANSWER ("HTTP-status error-code")
#   j EXPR   a Python expression over the JSON document d read from stdin
#   jar NAME / as NAME METHOD PATH [BODY] / bearer TOKEN METHOD PATH [BODY]
#            a user's cookie jar; a cookie call with the CSRF token login()
#            stored in csrf_NAME; a call with a personal API token
#   sql SQL  harness_sql
#   login NAME EMAIL PASSWORD   signs NAME in (its jar) and sets csrf_NAME

mkuser() { # EMAIL PASSWORD [--admin]
	printf '%s\n' "$2" | $HARNESS_CTL make-user --email "$1" --first-name "${1%%@*}" --last-name Test \
		--password-stdin ${3:+"$3"} >/dev/null 2>&1 || harness_setup_failed "make-user $1"
}

j() {
	/usr/bin/python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    v = eval(sys.argv[1])
except Exception as e:
    print("PARSE-ERROR %s" % e); sys.exit(0)
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))' "$1" || true
}
# call METHOD PATH [BODY] [curl args...]: the answer's body, then its HTTP status on the last line.
# shellcheck disable=SC2154 # base: set by the test from HARNESS_ADMIN_URL
call() {
	local method=$1 path=$2 body=${3:-}
	shift 2
	[ $# -gt 0 ] && shift
	if [ -n "$body" ]; then
		curl -sS --max-time 60 -X "$method" -H 'Content-Type: application/json' --data-binary "$body" \
			-w '\n%{http_code}' "$@" "$base$path" 2>&1 || true
	else
		curl -sS --max-time 60 -X "$method" -w '\n%{http_code}' "$@" "$base$path" 2>&1 || true
	fi
}
status() { printf '%s' "${1##*$'\n'}"; }
body() { printf '%s' "${1%$'\n'*}"; }
# code ANSWER: "HTTP-status error-code" of an answer (the code empty on success).
code() { printf '%s %s' "$(status "$1")" "$(body "$1" | j 'd["data"].get("code", "") if d["status"] == "error" else ""')"; }

jar() { printf '%s/%s.jar' "$HARNESS_DIR" "$1"; }
# member_of ORG EMAIL ROLE: makes the user a member of the organization, with SQL.
member_of() {
	harness_sql "INSERT INTO organization_users (organization_id, user_id, role) SELECT o.id, u.id, '$3'
		FROM organizations o, users u WHERE o.permalink = '$1' AND u.email = '$2'"
}
as() { # NAME METHOD PATH [BODY]: cookie-authenticated, with the CSRF token
	local name=$1 csrf_var="csrf_$1"
	shift
	call "$1" "$2" "${3:-}" -b "$(jar "$name")" -H "X-CSRF-Token: ${!csrf_var}"
}
bearer() { # TOKEN METHOD PATH [BODY]
	local token=$1
	shift
	call "$1" "$2" "${3:-}" -H "Authorization: Bearer $token"
}
sql() { harness_sql "$1"; }
login() { # NAME EMAIL PASSWORD: logs in with NAME's jar, sets csrf_NAME
	local a
	a=$(call POST /api/v2/session "{\"email\": \"$2\", \"password\": \"$3\"}" -c "$(jar "$1")")
	printf -v "csrf_$1" '%s' "$(body "$a" | j 'd["data"]["csrf_token"]')"
}
