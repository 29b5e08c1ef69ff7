#!/usr/bin/python3
"""webhook-verify.py -- checks a webhook request's Postal signatures independently of postgate.

  webhook-verify.py JWKS_FILE [--tamper] < ONE_RECEIVER_LOG_LINE

Reads one line of webhook-receiver.py's log, finds the key named by X-Postal-Signature-KID in
the JWKS (as served at /.well-known/jwks.json), and verifies X-Postal-Signature (RSA-SHA1)
and X-Postal-Signature-256 (RSA-SHA256, both PKCS#1 v1.5, base64) over the raw body with
python3-cryptography. --tamper changes one byte of the body first (both must then fail).
Prints "kid=<found|missing> sha1=<pass|fail|absent> sha256=<pass|fail|absent>".
"""
import base64
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url_int(s):
    return int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")


def main():
    jwks = json.load(open(sys.argv[1]))
    entry = json.loads(sys.stdin.readline())
    headers = {k.lower(): v for k, v in entry["headers"].items()}
    body = entry["raw"].encode("utf-8")
    if "--tamper" in sys.argv[2:]:
        body = body[:-2] + bytes([body[-2] ^ 1]) + body[-1:]
    kid = headers.get("x-postal-signature-kid")
    jwk = next((k for k in jwks["keys"] if k.get("kid") == kid), None)
    out = ["kid=%s" % ("found" if jwk else "missing")]
    for name, header, algo in (("sha1", "x-postal-signature", hashes.SHA1()),
                               ("sha256", "x-postal-signature-256", hashes.SHA256())):
        sig = headers.get(header)
        if sig is None or jwk is None:
            out.append("%s=absent" % name)
            continue
        key = rsa.RSAPublicNumbers(b64url_int(jwk["e"]), b64url_int(jwk["n"])).public_key()
        try:
            key.verify(base64.b64decode(sig, validate=True), body, padding.PKCS1v15(), algo)
            out.append("%s=pass" % name)
        except (InvalidSignature, ValueError):
            out.append("%s=fail" % name)
    print(" ".join(out))


if __name__ == "__main__":
    main()
