#!/usr/bin/env python3
"""(Re)writes fuzz/seeds/<target>/ from the repository's own material.

* pg_frontend, pg_backend: real traffic captured by capture_pg.py (pass
  its output directory; without it the pg seeds are left as they are);
* sql_postgres, sql_mysql, shell, http: the strings the analysers' unit
  tests feed them;
* config: quickstart/airlock.yaml and the YAML blocks of docs/*.md;
* masker: a few values with and without secrets.

Usage: python3 fuzz/make_seeds.py [CAPTURE_DIR]
"""
import hashlib
import os
import re
import struct
import sys

FUZZ = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(FUZZ)
POLICY = os.path.join(ROOT, "crates/airlock-policy/src")

LITERAL = re.compile(r'r(#*)"(.*?)"\1|"((?:[^"\\]|\\.)*)"', re.S)


def unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = s[i + 1]
        if n == "\n":  # line continuation: skip leading whitespace
            i += 2
            while i < len(s) and s[i] in " \t\n":
                i += 1
            continue
        if n == "u":
            end = s.index("}", i)
            out.append(chr(int(s[i + 3 : end], 16)))
            i = end + 1
            continue
        if n == "x":
            out.append(chr(int(s[i + 2 : i + 4], 16)))
            i += 4
            continue
        out.append({"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}[n])
        i += 2
    return "".join(out)


def literals(text):
    for m in LITERAL.finditer(text):
        yield m.group(2) if m.group(2) is not None else unescape(m.group(3))


def call_args(path, names):
    """First string argument of calls to any of `names`."""
    text = open(path).read()
    pat = re.compile(r"\b(?:%s)\(\s*(r#*\"|\")" % "|".join(names))
    for m in pat.finditer(text):
        lit = next(literals(text[m.start(1) :]), None)
        if lit is not None:
            yield lit


def write(target, items, limit=200):
    d = os.path.join(FUZZ, "seeds", target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    seen = set()
    for item in items:
        data = item.encode() if isinstance(item, str) else bytes(item)
        h = hashlib.sha1(data).hexdigest()[:16]
        if h in seen or not data:
            continue
        seen.add(h)
        with open(os.path.join(d, h), "wb") as f:
            f.write(data)
        if len(seen) >= limit:
            break
    print(f"{target}: {len(seen)} seeds")


SQL_START = re.compile(
    r"^\s*(select|insert|update|delete|with|create|drop|alter|copy|grant|revoke|set|reset|begin|commit|rollback|"
    r"explain|do|call|truncate|values|prepare|execute|deallocate|lock|vacuum|analyze|show|table|load|replace|"
    r"handler|use|declare|fetch|listen|notify|comment|security|refresh|merge|import|start|savepoint|release|"
    r"/\*|--|\(|;)",
    re.I,
)


def sql_seeds(files, names):
    out = []
    for f in files:
        for s in call_args(os.path.join(POLICY, "sql/tests", f), names):
            out.append(s)
        for s in literals(open(os.path.join(POLICY, "sql/tests", f)).read()):
            if SQL_START.match(s) and len(s) > 6:
                out.append(s)
    return out


def http_seeds():
    text = open(os.path.join(POLICY, "http.rs")).read()
    call = re.compile(r'\b(?:ok|err)\(\s*"([^"]*)",\s*"((?:[^"\\]|\\.)*)",\s*&\[(.*?)\],\s*"(\w*)"\s*,?\s*\)', re.S)
    pair = re.compile(r'\(\s*"((?:[^"\\]|\\.)*)",\s*"((?:[^"\\]|\\.)*)"\s*\)')
    out = []
    for m in call.finditer(text):
        method, target, headers, scheme = m.groups()
        head = f"{method} {unescape(target)} HTTP/1.1\r\n"
        for n, v in pair.findall(headers):
            head += f"{unescape(n)}: {unescape(v)}\r\n"
        head += "\r\n"
        out.append(("!" if scheme == "https" else "") + head)
    return out


def yaml_blocks():
    out = [open(os.path.join(ROOT, "quickstart/airlock.yaml")).read()]
    docs = os.path.join(ROOT, "docs")
    for name in sorted(os.listdir(docs)):
        if name.endswith(".md"):
            text = open(os.path.join(docs, name)).read()
            out += re.findall(r"```ya?ml\n(.*?)```", text, re.S)
    return out


def msg(tag, body):
    return tag + struct.pack("!i", len(body) + 4) + body


def pg_seeds(capture):
    read = lambda n: open(os.path.join(capture, n), "rb").read()
    ssl = struct.pack("!ii", 8, 80877103)
    cancel = struct.pack("!iiii", 16, 80877102, 4242, 1234567)
    startup_body = struct.pack("!i", 196608) + b"user\0postgres\0database\0test\0\0"
    startup = struct.pack("!i", len(startup_body) + 4) + startup_body
    sasl = (
        startup
        + msg(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", 26) + b"n,,n=,r=rOprNGfwEbeRWgbNEk")
        + msg(b"p", b"c=biws,r=rOprNGfwEbeRWgbNEkc2VydmVy,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    )
    ext = read("extended.frontend")
    ext_typed = ext[struct.unpack("!i", ext[:4])[0] :]
    # Mode byte (bit 0: startup phase first, bit 1: small size limit), cut seed, stream.
    write(
        "pg_frontend",
        [
            b"\x01\x00" + read("psql.frontend"),
            b"\x01\x07" + ssl + read("psql.frontend"),
            b"\x01\x2a" + ext,
            b"\x00\x05" + ext_typed,
            b"\x02\x11" + ext_typed,
            b"\x01\x00" + cancel,
            b"\x01\x09" + sasl,
        ],
    )
    # Selector byte (policy, rules, names resolved, lineage, mentions), stream.
    psql_b, ext_b = read("psql.backend"), read("extended.backend")
    write(
        "pg_backend",
        [b"\x00" + psql_b, b"\x01" + ext_b, b"\x15" + ext_b, b"\x3a" + ext_b, b"\x9e" + psql_b, b"\xe2" + ext_b],
    )


def main():
    if len(sys.argv) > 1:
        pg_seeds(sys.argv[1])
    write("sql_postgres", sql_seeds(["postgres.rs", "cache.rs", "lineage.rs", "properties.rs"], ["pg", "pg_error", "bounded"]))
    write("sql_mysql", sql_seeds(["mysql.rs"], ["my", "my_error"]) + list(call_args(os.path.join(POLICY, "sql/tests/cache.rs"), ["my"])))
    write("shell", call_args(os.path.join(POLICY, "shell/tests.rs"), ["ok", "err", "programs", "hosts", "writes", "argvs", "contains"]))
    write("http", http_seeds())
    write("config", yaml_blocks())
    write(
        "masker",
        [
            b"\x00card 4111 1111 1111 1111 and alice@example.com",
            b"\x01token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl from 10.0.0.1",
            b"\x02AKIAIOSFODNN7EXAMPLE ssn 123-45-6789 iban DE89370400440532013000",
            b"\x03-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY----- ::1 fe80::1",
            b"\x00plain text with nothing to hide \xff\xfe invalid utf-8",
        ],
    )


if __name__ == "__main__":
    main()
