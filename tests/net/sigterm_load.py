#!/usr/bin/env python3
"""tests/net/sigterm_load.py - graceful shutdown under load, measured by the
clients: CONNS keep-alive clients post predictions in a closed loop; SIGTERM
arrives mid-run. Every request written on an accepted connection must get a
complete HTTP response (200, or 503 with Retry-After while the model is busy);
connections refused after the listener closed are counted but are not losses.
Clients reconnect after a "Connection: close" reply, as HTTP clients do.

Usage: sigterm_load.py SENTI_BIN MODEL_DIR [CONNS] [SECONDS_BEFORE_SIGTERM]
Prints "sent N, answered A, refused R, lost L"; exit 0 iff L == 0 and the
server exits 0.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN, MODEL = sys.argv[1], sys.argv[2]
CONNS = int(sys.argv[3]) if len(sys.argv) > 3 else 16
BEFORE = float(sys.argv[4]) if len(sys.argv) > 4 else 1.5

lock = threading.Lock()
stats = {"sent": 0, "answered": 0, "refused": 0, "lost": 0, "other": 0}
stop = threading.Event()


def bump(k):
    with lock:
        stats[k] += 1


def read_response(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        c = s.recv(65536)
        if not c:
            return None
        buf += c
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdr = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    n = int(hdr.get("content-length", "0"))
    while len(rest) < n:
        c = s.recv(65536)
        if not c:
            return None
        rest += c
    return status, hdr


def client(port, idx):
    s = None
    i = 0
    while not stop.is_set():
        if s is None:
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
            except ConnectionRefusedError:
                bump("refused")
                return  # the listener is gone: this client is done
            except OSError:
                bump("refused")
                return
        i += 1
        body = ('{"text":"client %d request %d is a fine film"}' % (idx, i)).encode()
        req = (b"POST /predict HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body)) + body
        try:
            s.sendall(req)
        except OSError:
            # the server closed an idle connection before this request left: the
            # kernel refused the bytes, nothing was read; reconnect
            s.close()
            s = None
            continue
        bump("sent")
        try:
            r = read_response(s)
        except OSError:
            r = None
        if r is None:
            bump("lost")
            print("client %d: request %d got no response" % (idx, i), flush=True)
            s.close()
            s = None
            continue
        status, hdr = r
        if status == 200 or (status == 503 and "retry-after" in hdr):
            bump("answered")
        else:
            bump("other")
            print("client %d: status %d" % (idx, status), flush=True)
        if hdr.get("connection", "").lower() == "close":
            s.close()
            s = None
    if s:
        s.close()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "cfg")
        os.makedirs(cfg)
        with open(os.path.join(cfg, "base.yaml"), "w") as f:
            f.write("server: {worker_threads: 2, drain_timeout_ms: 8000}\n"
                    "model: {warmup: true}\nlogging: {level: info, json: true}\n")
        open(os.path.join(cfg, "dev.yaml"), "w").close()
        log = open(os.path.join(tmp, "log"), "w+")
        p = subprocess.Popen([BIN, "serve", "--env", "dev", "--config-dir", cfg, "--model", MODEL,
                              "--host", "127.0.0.1", "--port", "0"], stdout=log,
                             stderr=subprocess.STDOUT)
        try:
            port = None
            for _ in range(400):
                log.seek(0)
                m = re.search(r'"msg":"listening on 127\.0\.0\.1:(\d+)"', log.read())
                if m:
                    port = int(m.group(1))
                    break
                time.sleep(0.05)
            if not port:
                print("server did not start")
                return 1
            time.sleep(0.5)  # warm-up
            threads = [threading.Thread(target=client, args=(port, k)) for k in range(CONNS)]
            for t in threads:
                t.start()
            time.sleep(BEFORE)
            p.send_signal(signal.SIGTERM)
            rc = p.wait(15)
            stop.set()
            for t in threads:
                t.join(15)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        log.seek(0)
        drained = '"msg":"drained"' in log.read()
    print("sigterm under load: sent %(sent)d, answered %(answered)d, refused %(refused)d, "
          "lost %(lost)d, other %(other)d" % stats + "; exit status %d" % rc)
    good = stats["lost"] == 0 and stats["other"] == 0 and rc == 0 and drained and stats["answered"] > 0
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
