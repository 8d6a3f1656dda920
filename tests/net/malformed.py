#!/usr/bin/env python3
"""tests/net/malformed.py - malformed and hostile traffic against `senti serve`
on loopback, with raw sockets (stdlib only).

Each case sends bytes, checks the documented status (or a clean close) and then
checks that /healthz still answers on a fresh connection. Also: pipelining,
slowloris (the server times the trickler out and keeps serving others), clients
that vanish mid-request, the connection cap (a flood of idle connections does not
lock out new clients), and brute-forced credentials running into the rate limiter.
The whole suite is bounded (< 60 s) and the server is always killed at the end.

Usage: malformed.py SENTI_BIN MODEL_DIR. Exit status 0 = every case passed.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN, MODEL = sys.argv[1], sys.argv[2]
DEADLINE = time.monotonic() + 55
READ_TIMEOUT_MS = 1500
MAX_CONNS = 24
API_KEY = "malformed-key-0123456789abcdef"

passed = failed = 0


def ok(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)
    return cond


def start(tmp, env_name, yaml_text):
    cfg = os.path.join(tmp, "cfg-" + env_name)
    os.makedirs(cfg, exist_ok=True)
    with open(os.path.join(cfg, "base.yaml"), "w") as f:
        f.write(yaml_text)
    open(os.path.join(cfg, env_name + ".yaml"), "w").close()
    log = open(os.path.join(tmp, "server-%s.log" % env_name), "w+")
    env = dict(os.environ, SENTI_AUTH_API_KEYS=API_KEY)
    p = subprocess.Popen([BIN, "serve", "--env", env_name, "--config-dir", cfg, "--model", MODEL,
                          "--host", "127.0.0.1", "--port", "0"], stdout=log, stderr=subprocess.STDOUT,
                         env=env)
    port = None
    for _ in range(300):
        log.seek(0)
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", log.read())
        if m:
            port = int(m.group(1))
            break
        if p.poll() is not None:
            break
        time.sleep(0.05)
    if not port:
        log.seek(0)
        print(log.read())
        p.kill()
        sys.exit("server did not start")
    for _ in range(300):
        r = request(port, b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
        if r and r[0] == 200:
            return p, port, log
        time.sleep(0.05)
    p.kill()
    sys.exit("server never became ready")


_pending = {}  # socket -> bytes read past the previous response (pipelining)


def read_response(s, timeout=5.0):
    """(status, headers dict, body bytes) of one response, or None on a close
    without a response."""
    s.settimeout(timeout)
    buf = _pending.pop(s.fileno(), b"")
    try:
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                return None
            buf += chunk
        head, rest = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        while len(rest) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        if len(rest) > n:
            _pending[s.fileno()] = rest[n:]
        return status, headers, rest[:n]
    except (socket.timeout, ConnectionResetError, ValueError, IndexError):
        return None


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def request(port, data, timeout=5.0):
    try:
        s = connect(port)
    except OSError:
        return None
    try:
        s.sendall(data)
        return read_response(s, timeout)
    except OSError:
        return None
    finally:
        _pending.pop(s.fileno(), None)
        s.close()


def closed(s, timeout=5.0):
    """True if the server closes s (EOF or reset) within timeout."""
    s.settimeout(timeout)
    try:
        while True:
            if not s.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def post(path, body, ctype="application/json", extra=""):
    if isinstance(body, str):
        body = body.encode()
    return (("POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s\r\n"
             % (path, ctype, len(body), extra)).encode() + body)


def alive(port, what):
    r = request(port, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    return ok(r is not None and r[0] == 200, "healthz after %s: %r" % (what, r))


def expect(port, what, data, statuses, code=None, allow_close=False):
    r = request(port, data)
    if r is None:
        ok(allow_close, "%s: closed without a response" % what)
    else:
        good = r[0] in statuses
        if good and code:
            try:
                good = json.loads(r[2]).get("error_code") == code
            except ValueError:
                good = False
        ok(good, "%s: got %s %r, want %s %s" % (what, r[0], r[2][:200], statuses, code or ""))
    alive(port, what)


def cases(port):
    P = "/predict"
    # request line and method
    expect(port, "garbage line", b"GARBAGE\r\n\r\n", {400}, allow_close=True)
    expect(port, "binary junk", bytes(range(256)) * 4 + b"\r\n\r\n", {400}, allow_close=True)
    expect(port, "unknown method", b"BREW /predict HTTP/1.1\r\nHost: t\r\n\r\n", {400, 405, 501},
           allow_close=True)
    expect(port, "bad version", b"GET /healthz HTTP/9.9\r\nHost: t\r\n\r\n", {400, 505},
           allow_close=True)
    expect(port, "no version (HTTP/0.9)", b"GET /healthz\r\n\r\n", {200, 400}, allow_close=True)
    expect(port, "HTTP/1.0 without Host", b"GET /healthz HTTP/1.0\r\n\r\n", {200})
    expect(port, "DELETE on predict", b"DELETE /predict HTTP/1.1\r\nHost: t\r\n\r\n", {405},
           "method_not_allowed")
    expect(port, "NUL in path", b"GET /heal\x00thz HTTP/1.1\r\nHost: t\r\n\r\n", {400, 404},
           allow_close=True)
    expect(port, "long URL", b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
           {400, 404, 414}, allow_close=True)
    # headers
    expect(port, "oversized header", b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + b"x" * 70000
           + b"\r\n\r\n", {400, 413, 431}, allow_close=True)
    expect(port, "many headers", b"GET /healthz HTTP/1.1\r\n" +
           b"".join(b"X-H%d: v\r\n" % i for i in range(5000)) + b"\r\n", {400, 413, 431, 200},
           allow_close=True)
    expect(port, "header without colon", b"GET /healthz HTTP/1.1\r\nHost t\r\n\r\n", {400},
           allow_close=True)
    r = request(port, b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Correlation-ID: a\x01b\r\n\r\n")
    ok(r is not None and r[0] in (200, 400) and (r[0] != 200 or r[1].get("x-correlation-id") != "a\x01b"),
       "control characters in a correlation id are not echoed: %r" % (r,))
    # bodies and Content-Length
    expect(port, "body over limits.max_body_bytes",
           post(P, '{"text":"%s"}' % ("a" * 70000)), {413}, "body_too_large")
    expect(port, "Content-Length over 8 MiB",
           b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
           b"Content-Length: 10000000\r\n\r\n{", {413, 400}, allow_close=True)
    expect(port, "negative Content-Length", b"POST /predict HTTP/1.1\r\nHost: t\r\n"
           b"Content-Type: application/json\r\nContent-Length: -5\r\n\r\n{}", {400},
           allow_close=True)
    expect(port, "non-numeric Content-Length", b"POST /predict HTTP/1.1\r\nHost: t\r\n"
           b"Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{}", {400},
           allow_close=True)
    expect(port, "two Content-Lengths", b"POST /predict HTTP/1.1\r\nHost: t\r\n"
           b"Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}",
           {400, 422}, allow_close=True)
    expect(port, "POST without Content-Length", b"POST /predict HTTP/1.1\r\nHost: t\r\n"
           b"Content-Type: application/json\r\n\r\n", {400, 411}, allow_close=True)
    expect(port, "wrong media type", post(P, '{"text":"x"}', "text/plain"), {415},
           "unsupported_media_type")
    # chunked bodies
    expect(port, "chunked ok", b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: application/json"
           b"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"tex\r\n9\r\nt\":\"good\"\r\n1\r\n}\r\n0\r\n\r\n",
           {200})
    expect(port, "chunk size overflow", b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: "
           b"application/json\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nx\r\n0\r\n\r\n",
           {400, 413}, allow_close=True)
    expect(port, "chunk size garbage", b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: "
           b"application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n",
           {400, 413}, allow_close=True)
    expect(port, "chunks past the body limit", b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: "
           b"application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
           b"".join(b"4000\r\n" + b"a" * 16384 + b"\r\n" for _ in range(5)) + b"0\r\n\r\n",
           {413}, allow_close=True)
    # a chunk that announces more than it sends: the read deadline closes it
    s = connect(port)
    s.sendall(b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n100\r\n{\"text\":")
    t0 = time.monotonic()
    ok(closed(s, READ_TIMEOUT_MS / 1000 + 3), "lying chunk not closed by the read deadline")
    ok(time.monotonic() - t0 < READ_TIMEOUT_MS / 1000 + 3, "lying chunk closed late")
    s.close()
    alive(port, "lying chunk")
    # Content-Length larger than what is sent
    s = connect(port)
    s.sendall(post(P, '{"text":"abcdefgh"}')[:-5])
    ok(closed(s, READ_TIMEOUT_MS / 1000 + 3), "short body not closed by the read deadline")
    s.close()
    alive(port, "short body")
    # JSON bodies
    J = [("truncated JSON", '{"text":"abc', 400, "malformed_json"),
         ("empty body", "", 400, "malformed_json"),
         ("deep nesting", '{"text":' + "[" * 3000 + "]" * 3000 + "}", 400, "malformed_json"),
         ("deep objects", '{"a":' * 2500 + "1" + "}" * 2500, 400, "malformed_json"),
         ("NaN", '{"text":NaN}', 400, "malformed_json"),
         ("Infinity", '{"text":"x","n":Infinity}', 400, "malformed_json"),
         ("huge number", '{"text":"x","n":1e999999}', 400, "malformed_json"),
         ("duplicate keys", '{"text":"a","text":"b"}', 400, "malformed_json"),
         ("number text", '{"text":5}', 422, "invalid_type"),
         ("null text", '{"text":null}', 422, "invalid_type"),
         ("object text", '{"text":{"a":"b"}}', 422, "invalid_type"),
         ("array body", '["text"]', 422, "invalid_type"),
         ("string body", '"text"', 400, "malformed_json"),
         ("number body", '42', 400, "malformed_json"),
         ("escaped NUL", '{"text":"a\\u0000b"}', 422, "invalid_type"),
         ("lone surrogate", '{"text":"\\ud800"}', 400, None),
         ("missing field", '{"txt":"a"}', 422, "missing_field"),
         ("empty text", '{"text":"   "}', 422, "empty_text"),
         ("raw_scores not bool", '{"inputs":"a","raw_scores":"yes"}', 422, "invalid_type")]
    for what, body, st, code in J:
        expect(port, what, post(P, body), {st}, code)
    expect(port, "raw NUL byte", post(P, b'{"text":"a\x00b"}'), {400, 422})
    expect(port, "invalid UTF-8", post(P, b'{"text":"caf\xc3\x28"}'), {422}, "invalid_utf8")
    expect(port, "overlong UTF-8", post(P, b'{"text":"\xc0\xaf"}'), {422}, "invalid_utf8")
    expect(port, "huge array", post("/predict/batch", '{"texts":[' + ",".join(['"a"'] * 1500) + "]}"),
           {413, 422})
    expect(port, "batch wrong item", post("/predict/batch", '{"texts":["ok",7]}'), {422},
           "invalid_type")
    expect(port, "texts not a list", post("/predict/batch", '{"texts":"a"}'), {422}, "invalid_type")
    # pipelining: three requests in one write, three answers in order
    s = connect(port)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n" + post(P, '{"text":"great"}') +
              b"GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n")
    got = []
    for _ in range(3):
        r = read_response(s)
        got.append(r[0] if r else None)
    ok(got == [200, 200, 200], "pipelined: %r" % got)
    s.close()
    # vanishing clients: half a request, and a full request closed before the reply
    for data in (b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Le", post(P, '{"text":"bye"}')):
        s = connect(port)
        s.sendall(data)
        s.close()
    s = connect(port)
    s.sendall(post("/predict/batch", '{"texts":["a","b","c","d"]}'))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()  # RST
    time.sleep(0.2)
    alive(port, "vanishing clients")
    # slowloris: one byte every 0.3 s; the others are still served meanwhile and
    # the trickler is closed within the read deadline (plus the sweep period)
    s = connect(port)
    line = b"POST /predict HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"y" * 200
    t0 = time.monotonic()
    cut = False
    served = 0
    for i in range(len(line)):
        try:
            s.send(line[i:i + 1])
        except OSError:
            cut = True
            break
        if i % 3 == 0:
            r = request(port, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 2)
            served += r is not None and r[0] == 200
        if time.monotonic() - t0 > READ_TIMEOUT_MS / 1000 + 3:
            break
        time.sleep(0.3)
    cut = cut or closed(s, 1.0)
    elapsed = time.monotonic() - t0
    ok(cut, "slowloris client was not cut off (%.1f s)" % elapsed)
    ok(elapsed < READ_TIMEOUT_MS / 1000 + 3, "slowloris cut late: %.1f s" % elapsed)
    ok(served >= 1, "no request served during slowloris")
    s.close()
    alive(port, "slowloris")


def connection_cap(port):
    """MAX_CONNS * 2 idle connections: new clients are still served within a few
    seconds (idle connections are closed to make room), probes answer."""
    idle = []
    for _ in range(MAX_CONNS * 2):
        try:
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=2))
        except OSError:
            break
    t0 = time.monotonic()
    r = request(port, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 6)
    ok(r is not None and r[0] == 200, "healthz at the connection cap: %r" % (r,))
    ok(time.monotonic() - t0 < 5, "healthz at the cap took %.1f s" % (time.monotonic() - t0))
    r = request(port, post("/predict", '{"text":"still served"}'), 6)
    ok(r is not None and r[0] == 200, "predict at the connection cap: %r" % (r,))
    n_closed = sum(1 for s in idle if closed(s, 0.01))
    ok(n_closed >= MAX_CONNS, "only %d idle connections were closed" % n_closed)
    for s in idle:
        s.close()


def brute_force(port):
    """Wrong API keys from one address run into the rate limiter (429 + Retry-After)."""
    codes = []
    for i in range(12):
        r = request(port, post("/predict", '{"text":"x"}', extra="X-API-Key: guess-%032d\r\n" % i))
        codes.append(r[0] if r else None)
        if r and r[0] == 429:
            ok("retry-after" in r[1], "429 without Retry-After")
            break
    ok(codes[:3] == [401, 401, 401] and codes[-1] == 429, "brute force: %r" % codes)
    r = request(port, b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    ok(r is not None and r[0] == 200, "probes are not rate limited: %r" % (r,))


def stop(p, log):
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = -1
    ok(rc == 0, "server exit status %s" % rc)
    log.seek(0)
    text = log.read()
    ok(API_KEY not in text, "the API key was logged")
    return text


def main():
    base = """server:
  worker_threads: 2
  max_connections: %d
  read_timeout_ms: %d
  idle_timeout_ms: 20000
  drain_timeout_ms: 5000
model: {warmup: true}
batching: {max_batch_size: 8, max_queue_delay_us: 1000}
limits: {max_body_bytes: 65536, max_texts_per_request: 1000, max_text_chars: 300}
logging: {level: info, json: true}
""" % (MAX_CONNS, READ_TIMEOUT_MS)
    with tempfile.TemporaryDirectory() as tmp:
        p = log = None
        try:
            p, port, log = start(tmp, "dev", base)
            cases(port)
            connection_cap(port)
            stop(p, log)
            p = None
            # staging-like: api-key auth and a small rate-limit burst
            p, port, log = start(tmp, "staging", base + """auth: {mode: api-key}
rate_limit: {enabled: true, requests_per_minute: 60, burst: 5, key_by: api-key}
""")
            brute_force(port)
            stop(p, log)
            p = None
        finally:
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
            if time.monotonic() > DEADLINE:
                print("FAIL: the suite took longer than its budget")
    print("malformed: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
