#!/usr/bin/python3
# dkim-verify.py ZONEFILE MESSAGE -- verifies every DKIM-Signature of MESSAGE with
# python3-dkim (dkimpy), answering key lookups from the TXT records in ZONEFILE (the
# zone-file lines postgatectl prints). Prints one line per signature, "pass a=ALG d=DOMAIN"
# or "fail a=ALG ...", and exits 0 only when there is at least one signature and all pass.
# Run with Debian's /usr/bin/python3 (it has the dkim and nacl modules). No network.
import re
import sys

import dkim

records = {}
for line in open(sys.argv[1]):
    m = re.match(r'^(\S+?)\.?\s+\d+\s+IN\s+TXT\s+(.*)$', line.strip())
    if m:
        records[m.group(1).lower()] = ''.join(re.findall(r'"([^"]*)"', m.group(2))).encode()


def dnsfunc(name, timeout=5):
    return records.get(name.decode().rstrip('.').lower())


msg = open(sys.argv[2], 'rb').read()
msg = msg.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
head = msg.split(b'\r\n\r\n', 1)[0]
count = len(re.findall(rb'(?im)^dkim-signature:', head))
ok = count > 0
for i in range(count):
    d = dkim.DKIM(msg)
    try:
        good = d.verify(idx=i, dnsfunc=dnsfunc)
        why = ''
    except dkim.DKIMException as e:
        good, why = False, str(e)
    sig = dict(d.signature_fields) if d.signature_fields else {}
    alg = sig.get(b'a', b'?').decode()
    dom = sig.get(b'd', b'?').decode()
    print('%s a=%s d=%s%s' % ('pass' if good else 'fail', alg, dom, (' (%s)' % why) if why else ''))
    ok = ok and good
if count == 0:
    print('fail: no DKIM-Signature')
sys.exit(0 if ok else 1)
