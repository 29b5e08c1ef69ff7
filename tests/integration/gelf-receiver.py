#!/usr/bin/python3
#
# gelf-receiver.py -- a GELF 1.1 UDP input for logs.t: binds 127.0.0.1 on a free port
# (written to PORTFILE), and appends one line per datagram to OUTFILE: the datagram's
# JSON object when it is a valid uncompressed, unchunked GELF 1.1 message, else
# "INVALID <reason>: <the first bytes>". Runs until killed.
#
# Valid means (GELF 1.1 spec): a JSON object; version "1.1"; host a non-empty string;
# short_message a non-empty string; timestamp, when present, a number; level, when
# present, an integer 0..7; every other field's name starts with "_", matches
# ^_[\w.-]+$, is not "_id", and has a string or number value.
#
# Must never: accept a chunked or compressed datagram as valid (postgate sends neither).

import json
import os
import re
import socket
import sys

STANDARD = {"version", "host", "short_message", "full_message", "timestamp", "level"}
EXTRA = re.compile(r"^_[\w.\-]+$")


def problem(msg):
    if not isinstance(msg, dict):
        return "not an object"
    if msg.get("version") != "1.1":
        return "version is not 1.1"
    for key in ("host", "short_message"):
        if not isinstance(msg.get(key), str) or not msg[key]:
            return key + " missing or empty"
    if "timestamp" in msg and (isinstance(msg["timestamp"], bool) or not isinstance(msg["timestamp"], (int, float))):
        return "timestamp is not a number"
    if "level" in msg and (not isinstance(msg["level"], int) or isinstance(msg["level"], bool)
                           or not 0 <= msg["level"] <= 7):
        return "level is not a syslog severity"
    for key, value in msg.items():
        if key in STANDARD:
            continue
        if not EXTRA.match(key) or key == "_id":
            return "bad additional field name " + key
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return "additional field %s is not a string or number" % key
    return None


def main():
    portfile, outfile = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % sock.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    with open(outfile, "a", buffering=1) as out:
        while True:
            data = sock.recv(65535)
            if data[:2] in (b"\x1e\x0f", b"\x1f\x8b", b"\x78\x9c"):
                out.write("INVALID chunked or compressed: %r\n" % data[:40])
                continue
            try:
                msg = json.loads(data.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                out.write("INVALID not JSON (%s): %r\n" % (e, data[:80]))
                continue
            why = problem(msg)
            if why:
                out.write("INVALID %s: %r\n" % (why, data[:200]))
            else:
                out.write(json.dumps(msg, ensure_ascii=True) + "\n")


if __name__ == "__main__":
    main()
