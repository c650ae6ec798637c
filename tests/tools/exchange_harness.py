"""Test harness for the kinetic-exchange integration tests (stdlib only, no kinetic code).

It starts the binary, waits for its one stdout line `listening 127.0.0.1:PORT`, signs REST
requests exactly as a Bybit client does (HMAC-SHA256 lowercase hex of
timestamp + key + recvWindow + payload, payload = the query string as sent for GET or the
exact body bytes for POST), and stops the binary with SIGTERM, collecting its log (stderr).

Usage:
    args = parse_args()                       # --exchange PATH --source-dir REPO
    with Exchange(args.exchange, ["--account", "KEY:SECRET"]) as ex:
        status, headers, reply = ex.rest("GET", "/v5/market/time")
        status, headers, reply = ex.rest("POST", "/v5/order/create", body={...},
                                         key="KEY", secret="SECRET")
    print(ex.log)                              # the exchange's stderr, after stop()
"""

import argparse
import hashlib
import hmac
import http.client
import json
import os
import select
import signal
import ssl
import subprocess
import tempfile
import time

DEMO_KEY = "kinetic-demo-key"
DEMO_SECRET = "kinetic-demo-secret"

# The docs' (docs/bybit-v5.md section 5) test account.
DOC_KEY = "qTd7Yc3Lx9PwB2mNa1"
DOC_SECRET = "Zr4Kp8Wq2Xv6Nb0Jt5Hs9Lc3Fg7Dm1Ay4Ue8"
DOC_TIMESTAMP = 1700000000000


def parse_args(argv=None):
    """The arguments ctest passes: --exchange PATH/kinetic-exchange --source-dir REPO."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--exchange", required=True, help="path of the kinetic-exchange binary")
    parser.add_argument("--source-dir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    return parser.parse_args(argv)


def sign(secret, payload):
    """Bybit's REST signature: lowercase hex HMAC-SHA256 of `payload` keyed by `secret`."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def rest_signature(secret, key, timestamp, recv_window, payload):
    """The signature of a REST request: HMAC over ts + key + recvWindow + payload."""
    return sign(secret, f"{timestamp}{key}{recv_window}{payload}")


def ws_auth_signature(secret, expires):
    """The WebSocket auth signature: HMAC over "GET/realtime" + expires (ms)."""
    return sign(secret, f"GET/realtime{expires}")


def ws_auth_message(key, secret, expires, req_id=None):
    """A complete auth op for the private or trade WebSocket, as JSON text."""
    message = {"op": "auth", "args": [key, expires, ws_auth_signature(secret, expires)]}
    if req_id is not None:
        message["req_id"] = req_id
    return json.dumps(message)


def query_string(params):
    """`params` as sent on the wire: a str as is, a dict or list of pairs joined in order with no
    escaping (as pybit does)."""
    if params is None:
        return ""
    if isinstance(params, str):
        return params
    items = params.items() if isinstance(params, dict) else params
    return "&".join(f"{k}={v}" for k, v in items)


def body_text(body):
    """`body` as sent: a str or bytes as is, anything else as compact JSON."""
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode()
    if isinstance(body, str):
        return body
    return json.dumps(body, separators=(",", ":"))


def now_ms():
    return int(time.time() * 1000)


class Exchange:
    """One running kinetic-exchange process. Use as a context manager, or start()/stop()."""

    def __init__(self, binary, args=(), tls=False, startup_timeout=30.0, listen="127.0.0.1:0"):
        self.binary = binary
        self.args = list(args)
        self.tls = tls
        self.startup_timeout = startup_timeout
        self.listen = listen
        self.process = None
        self.host = "127.0.0.1"
        self.port = None
        self.log = ""
        self.returncode = None
        self._stderr_file = None

    # ---- process life ----
    def start(self):
        """Starts the binary with `--listen 127.0.0.1:0` plus the given args and waits for
        `listening HOST:PORT` on stdout. Raises RuntimeError (with the log) on failure."""
        self._stderr_file = tempfile.TemporaryFile(mode="w+b")
        command = [self.binary, "--listen", self.listen] + self.args
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=self._stderr_file)
        deadline = time.monotonic() + self.startup_timeout
        line = b""
        fd = self.process.stdout.fileno()
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                self._fail_start(f"no 'listening' line within {self.startup_timeout} s")
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(fd, 1)
                if not chunk:
                    self._fail_start("exited before listening")
                line += chunk
            elif self.process.poll() is not None:
                self._fail_start(f"exited with {self.process.returncode} before listening")
        text = line.decode().strip()
        if not text.startswith("listening "):
            self._fail_start(f"unexpected first stdout line {text!r}")
        address = text.split(" ", 1)[1]
        self.host, port = address.rsplit(":", 1)
        self.port = int(port)
        return self

    def _fail_start(self, reason):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._collect_log()
        raise RuntimeError(f"kinetic-exchange {' '.join(self.args)}: {reason}\n--- log ---\n{self.log}")

    def _collect_log(self):
        if self._stderr_file is not None:
            self._stderr_file.seek(0)
            self.log = self._stderr_file.read().decode(errors="replace")

    def stop(self, timeout=15.0):
        """SIGTERM, wait, collect stderr. Returns (returncode, log text)."""
        if self.process is None:
            return self.returncode, self.log
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.returncode = self.process.returncode
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._collect_log()
        self._stderr_file.close()
        self._stderr_file = None
        self.process = None
        return self.returncode, self.log

    def current_log(self):
        """The log written so far, while the process runs."""
        if self._stderr_file is None:
            return self.log
        self._stderr_file.flush()
        position = self._stderr_file.tell()
        self._stderr_file.seek(0)
        text = self._stderr_file.read().decode(errors="replace")
        self._stderr_file.seek(position)
        return text

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # ---- URLs ----
    @property
    def http_base(self):
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def ws_base(self):
        return f"{'wss' if self.tls else 'ws'}://{self.host}:{self.port}"

    def connection(self, timeout=10.0):
        """A fresh http.client connection to the exchange (TLS without verification)."""
        if self.tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=context)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    # ---- requests ----
    def raw(self, method, target, body=None, headers=None, timeout=10.0):
        """Sends one request on a fresh connection. Returns (status, headers with lower-case
        names, body bytes)."""
        conn = self.connection(timeout)
        try:
            data = body.encode() if isinstance(body, str) else body
            conn.request(method, target, body=data, headers=headers or {})
            response = conn.getresponse()
            payload = response.read()
            names = {name.lower(): value for name, value in response.getheaders()}
            return response.status, names, payload
        finally:
            conn.close()

    def rest(self, method, path, params=None, body=None, key=None, secret=None, recv_window=5000,
             ts=None, headers=None, sign_with=None, timeout=10.0):
        """One REST request, signed as Bybit when `key` is given (with `secret`, or with
        `sign_with` as a forced X-BAPI-SIGN value). GET sends `params` as the query string (in
        the given order, unescaped) and signs it; POST sends `body` (dict → compact JSON, str
        as is) and signs its exact bytes. `ts` defaults to now (client clock). Returns
        (http_status, headers with lower-case names, parsed JSON or None if not JSON)."""
        query = query_string(params)
        data = body_text(body) if body is not None else (None if method == "GET" else "")
        target = path + ("?" + query if query else "")
        all_headers = {}
        if method != "GET":
            all_headers["Content-Type"] = "application/json"
        if key is not None:
            timestamp = now_ms() if ts is None else ts
            payload = query if method == "GET" else (data or "")
            signature = sign_with if sign_with is not None else rest_signature(
                secret, key, timestamp, recv_window, payload)
            all_headers.update({
                "X-BAPI-API-KEY": key,
                "X-BAPI-TIMESTAMP": str(timestamp),
                "X-BAPI-SIGN": signature,
                "X-BAPI-SIGN-TYPE": "2",
            })
            if recv_window is not None:
                all_headers["X-BAPI-RECV-WINDOW"] = str(recv_window)
        if headers:
            all_headers.update(headers)
        status, names, payload = self.raw(method, target, data, all_headers, timeout)
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = None
        return status, names, parsed

    def get_state(self):
        """GET /kinetic/state, parsed."""
        status, _, payload = self.raw("GET", "/kinetic/state")
        if status != 200:
            raise RuntimeError(f"/kinetic/state answered HTTP {status}: {payload!r}")
        return json.loads(payload)

    def fault(self, fault):
        """POST /kinetic/fault with `fault` (a dict). Returns (http_status, parsed reply)."""
        status, _, payload = self.raw("POST", "/kinetic/fault", json.dumps(fault),
                                      {"Content-Type": "application/json"})
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = None
        return status, parsed

    def server_time_ms(self):
        """The exchange's clock (GET /v5/market/time), including any clock_skew fault."""
        _, _, reply = self.rest("GET", "/v5/market/time")
        return int(reply["time"])


class Check:
    """Counts checks and failures so that a script reports all of them, then exits non-zero."""

    def __init__(self):
        self.passed = 0
        self.failed = []

    def __call__(self, condition, what, detail=None):
        if condition:
            self.passed += 1
        else:
            self.failed.append(what if detail is None else f"{what}: {detail}")
            print(f"FAIL {what}" + ("" if detail is None else f": {detail}"), flush=True)
        return condition

    def equal(self, actual, expected, what, context=None):
        detail = f"got {actual!r}, expected {expected!r}"
        if context is not None:
            detail += f" ({context!r})"
        return self(actual == expected, what, detail)

    def finish(self, name):
        print(f"{name}: {self.passed} checks passed, {len(self.failed)} failed", flush=True)
        return 1 if self.failed else 0
