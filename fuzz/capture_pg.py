#!/usr/bin/env python3
"""Captures real PostgreSQL traffic for the pg fuzz seeds.

Runs two sessions against a server on 127.0.0.1:5432 (user postgres,
trust auth, database `test`), recording what each side sent:

* `psql` through a recording TCP relay: simple-query protocol, notices,
  errors with details that echo values;
* a small client of our own: the extended protocol (Parse/Bind/Describe/
  Execute/Sync) with text and binary result formats.

Writes `<out>/<name>.frontend` and `<out>/<name>.backend`; the caller
turns them into seeds (see fuzz/make_seeds.py).
"""
import os
import socket
import struct
import subprocess
import sys
import threading

HOST, PORT = "127.0.0.1", 5432
OUT = sys.argv[1] if len(sys.argv) > 1 else "/tmp/pgcapture"

SETUP = """
DROP TABLE IF EXISTS fuzz_users;
CREATE TABLE fuzz_users (id int PRIMARY KEY, email text, note varchar(200), doc json, meta jsonb, paid numeric, at timestamptz);
INSERT INTO fuzz_users VALUES
 (1, 'alice@example.com', 'card 4111 1111 1111 1111', '{"ssn": "123-45-6789"}', '{"k": "AKIAIOSFODNN7EXAMPLE"}', 12.5, '2026-01-01'),
 (2, 'bob@example.org', NULL, '[1,2]', '{"ip": "10.0.0.1"}', NULL, NULL);
"""

PSQL_SCRIPT = SETUP + """
SELECT * FROM fuzz_users ORDER BY id;
SELECT id, upper(email) AS e, note || '!' FROM fuzz_users;
INSERT INTO fuzz_users VALUES (1, 'dup@example.com', 'card 5555 5555 5555 4444', NULL, NULL, NULL, NULL);
DO $$ BEGIN RAISE NOTICE 'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc for carol@example.net'; END $$;
SELECT 1/0;
BEGIN; UPDATE fuzz_users SET note = 'x' WHERE id = 2; COMMIT;
COPY (SELECT id, email FROM fuzz_users) TO STDOUT;
"""


def relay(name):
    """Accepts one connection, relays it to the server, records both ways."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((HOST, 0))
    ls.listen(1)
    port = ls.getsockname()[1]

    def run():
        c, _ = ls.accept()
        s = socket.create_connection((HOST, PORT))
        logs = {"frontend": bytearray(), "backend": bytearray()}

        def pump(a, b, log):
            while True:
                d = a.recv(65536)
                if not d:
                    try:
                        b.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    return
                log.extend(d)
                b.sendall(d)

        t = threading.Thread(target=pump, args=(s, c, logs["backend"]))
        t.start()
        pump(c, s, logs["frontend"])
        t.join()
        for side, data in logs.items():
            with open(os.path.join(OUT, f"{name}.{side}"), "wb") as f:
                f.write(data)

    th = threading.Thread(target=run)
    th.start()
    return port, th


def msg(tag, body):
    return tag + struct.pack("!i", len(body) + 4) + body


def cstr(s):
    return s.encode() + b"\0"


def extended():
    """The extended protocol, as a driver speaks it."""
    s = socket.create_connection((HOST, PORT))
    front, back = bytearray(), bytearray()

    def send(b):
        front.extend(b)
        s.sendall(b)

    def until_ready():
        buf = bytearray()
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf.extend(d)
            # ReadyForQuery is 'Z' len 5 status.
            if len(buf) >= 6 and buf[-6:-1] == b"Z\0\0\0\x05":
                break
        back.extend(buf)

    body = struct.pack("!i", 196608) + cstr("user") + cstr("postgres") + cstr("database") + cstr("test") + cstr("application_name") + cstr("fuzzseed") + b"\0"
    send(struct.pack("!i", len(body) + 4) + body)
    until_ready()
    q = "SELECT id, email, note, doc, meta, paid, at FROM fuzz_users WHERE id = $1"
    for fmt in (0, 1):
        send(
            msg(b"P", cstr("s%d" % fmt) + cstr(q) + struct.pack("!hi", 1, 23))
            + msg(b"B", cstr("") + cstr("s%d" % fmt) + struct.pack("!hh", 1, 0) + struct.pack("!hi", 1, 1) + b"1" + struct.pack("!hh", 1, fmt))
            + msg(b"D", b"P" + cstr(""))
            + msg(b"E", cstr("") + struct.pack("!i", 0))
            + msg(b"S", b"")
        )
        until_ready()
    # A failing statement in a pipeline: the server skips to Sync.
    send(
        msg(b"P", cstr("") + cstr("SELECT email::int FROM fuzz_users") + struct.pack("!h", 0))
        + msg(b"B", cstr("") + cstr("") + struct.pack("!hhh", 0, 0, 0))
        + msg(b"E", cstr("") + struct.pack("!i", 0))
        + msg(b"C", b"S" + cstr("s0"))
        + msg(b"S", b"")
    )
    until_ready()
    send(msg(b"X", b""))
    s.close()
    for side, data in (("frontend", front), ("backend", back)):
        with open(os.path.join(OUT, f"extended.{side}"), "wb") as f:
            f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    port, th = relay("psql")
    env = dict(os.environ, PGSSLMODE="disable")
    subprocess.run(
        ["psql", "-h", HOST, "-p", str(port), "-U", "postgres", "-d", "test", "-X", "-q", "-f", "-"],
        input=PSQL_SCRIPT.encode(), env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    th.join()
    extended()


if __name__ == "__main__":
    main()
