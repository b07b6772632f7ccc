"""Helpers for the turnout end-to-end tests: the proxy process, test backends, raw HTTP client.

Everything here binds 127.0.0.1 only, every socket has a timeout and every wait is bounded.
Python stdlib + python3-requests + python3-websockets (10.4, asyncio API) only.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import queue
import re
import signal as _signal
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parents[2]
LOCALHOST = "127.0.0.1"
READY_TIMEOUT = 10.0


# --------------------------------------------------------------------------------------------
# Deterministic payloads
# --------------------------------------------------------------------------------------------
# Period 251 (prime) so that a dropped, duplicated or reordered buffer of any power-of-two size
# changes the bytes, not only the length.
_PATTERN_BLOCK = bytes(i % 251 for i in range(251)) * 4096  # ~1 MiB


def pattern_bytes(n: int) -> bytes:
    if n <= len(_PATTERN_BLOCK):
        return _PATTERN_BLOCK[:n]
    reps = n // len(_PATTERN_BLOCK) + 1
    return (_PATTERN_BLOCK * reps)[:n]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------
# Minimal YAML emitter (block style, so line numbers are meaningful; strings always quoted)
# --------------------------------------------------------------------------------------------
def _scalar(v) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(str(v))  # a JSON string is a valid YAML double-quoted scalar


def to_yaml(obj, indent: int = 0) -> str:
    pad = " " * indent
    lines = []
    if isinstance(obj, dict):
        if not obj:
            return pad + "{}\n"
        for k, v in obj.items():
            key = _scalar(k) if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", str(k)) else str(k)
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{key}:\n" + to_yaml(v, indent + 2))
            elif isinstance(v, dict):
                lines.append(f"{pad}{key}: {{}}\n")
            elif isinstance(v, list):
                lines.append(f"{pad}{key}: []\n")
            else:
                lines.append(f"{pad}{key}: {_scalar(v)}\n")
        return "".join(lines)
    if isinstance(obj, list):
        if not obj:
            return pad + "[]\n"
        for item in obj:
            if isinstance(item, (dict, list)) and item:
                inner = to_yaml(item, indent + 2)
                # put the first line of the item on the dash line
                lines.append(f"{pad}- " + inner[indent + 2:])
            else:
                lines.append(f"{pad}- {_scalar(item) if not isinstance(item, (dict, list)) else ('{}' if isinstance(item, dict) else '[]')}\n")
        return "".join(lines)
    return pad + _scalar(obj) + "\n"


# --------------------------------------------------------------------------------------------
# Ports
# --------------------------------------------------------------------------------------------
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, read, closed)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((LOCALHOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


@contextlib.contextmanager
def blackhole_address():
    """Yields "127.0.0.1:PORT" whose connects never complete: a listener with a full accept
    queue that never accepts, so the kernel drops further SYNs."""
    listener = socket.socket()
    listener.bind((LOCALHOST, 0))
    listener.listen(0)
    fillers = []
    try:
        for _ in range(4):  # the queue holds backlog + 1; more only make sure it is full
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(listener.getsockname())
            fillers.append(c)
        yield "%s:%d" % listener.getsockname()
    finally:
        for c in fillers:
            c.close()
        listener.close()


def recv_until_closed(sock: socket.socket, timeout: float = 5.0, got: bytes = b"") -> bytes:
    """Reads until the peer closes (a reset counts as a close) and returns `got` and every
    byte that came; an AssertionError when the peer neither closes nor goes quiet within
    `timeout` seconds."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                return got
            got += chunk
    except ConnectionResetError:
        return got
    except socket.timeout:
        pass
    raise AssertionError(f"connection not closed within {timeout} s (got {got[:300]!r})")


def wait_until(pred, timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())


# --------------------------------------------------------------------------------------------
# The proxy process
# --------------------------------------------------------------------------------------------
class TurnoutStartError(AssertionError):
    pass


class Turnout:
    """One `turnout run` process. Use start(); stop() or kill() always bounded."""

    def __init__(self, binary: str, tmp_path: Path, name: str = "turnout"):
        self.binary = str(binary)
        self.dir = Path(tmp_path) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.dir / "config.yaml"
        self.data_dir = self.dir / "data"
        self.data_dir.mkdir(exist_ok=True)
        self.stderr_path = self.dir / "stderr.log"
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.admin_port: int | None = None
        self.listening_event: dict | None = None
        self.stdout_lines: list[str] = []
        self._lines: "queue.Queue[str | None]" = queue.Queue()
        self._stderr_file = None

    # -- start ---------------------------------------------------------------------------
    def write_config(self, config) -> Path:
        text = config if isinstance(config, str) else to_yaml(config)
        self.config_path.write_text(text)
        return self.config_path

    def command(self, config=None, to=None, workers=2, drain_timeout=None, extra=()):
        cmd = [self.binary, "run"]
        if config is not None:
            cmd += ["--config", str(self.write_config(config))]
        if to is not None:
            cmd += ["--to", ",".join(to) if not isinstance(to, str) else to]
        cmd += ["--listen", f"{LOCALHOST}:0", "--admin", f"{LOCALHOST}:0",
                "--workers", str(workers), "--data-dir", str(self.data_dir)]
        if drain_timeout is not None:
            cmd += ["--drain-timeout", str(drain_timeout)]
        cmd += list(extra)
        return cmd

    def start(self, config=None, to=None, workers=2, drain_timeout=None, extra=()):
        assert self.proc is None, "already started"
        cmd = self.command(config=config, to=to, workers=workers,
                           drain_timeout=drain_timeout, extra=extra)
        self._stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr_file, cwd=str(self.dir))
        t = threading.Thread(target=self._pump_stdout, daemon=True)
        t.start()
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise TurnoutStartError(
                    f"no listening line within {READY_TIMEOUT}s\ncmd: {cmd}\n{self.diagnostics()}")
            try:
                line = self._lines.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                continue
            if line is None:  # stdout closed: the process is gone
                try:
                    self.proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    pass
                rc = self.proc.poll()
                self.kill()
                raise TurnoutStartError(
                    f"turnout exited (rc={rc}) before listening\ncmd: {cmd}\n{self.diagnostics()}")
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if isinstance(ev, dict) and ev.get("event") == "listening":
                self.listening_event = ev
                break
        data = self.listening_event.get("data")
        assert isinstance(data, list) and data, f"bad listening line: {self.listening_event}"
        self.port = _port_of(data[0])
        self.admin_port = _port_of(self.listening_event["admin"])
        return self

    def _pump_stdout(self):
        try:
            for raw in iter(self.proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                self.stdout_lines.append(line)
                self._lines.put(line)
        except (OSError, ValueError):
            pass
        finally:
            self._lines.put(None)

    # -- helpers -------------------------------------------------------------------------
    def url(self, path: str = "/") -> str:
        return f"http://{LOCALHOST}:{self.port}{path}"

    def admin_url(self, path: str = "/") -> str:
        return f"http://{LOCALHOST}:{self.admin_port}{path}"

    @property
    def addr(self):
        return (LOCALHOST, self.port)

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def diagnostics(self, tail: int = 4000) -> str:
        err = self.stderr_text()
        return ("--- stdout ---\n" + "\n".join(self.stdout_lines[-50:]) +
                f"\n--- stderr (tail) ---\n{err[-tail:]}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- stop ----------------------------------------------------------------------------
    def send_signal(self, sig=_signal.SIGTERM):
        if self.alive():
            self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=_signal.SIGTERM, timeout: float = 10.0) -> int | None:
        """Send `sig` and wait up to `timeout`; returns the exit code or None (then kills)."""
        if self.proc is None:
            return None
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(sig)
        rc = self.wait(timeout)
        if rc is None:
            self.kill()
        return rc

    def kill(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for f in (self.proc.stdout,):
            try:
                f and f.close()
            except OSError:
                pass
        if self._stderr_file:
            try:
                self._stderr_file.close()
            except OSError:
                pass


def _port_of(addr: str) -> int:
    m = re.fullmatch(r"(?:\[[^\]]*\]|[^:]+):(\d+)", str(addr))
    assert m, f"cannot parse address {addr!r}"
    port = int(m.group(1))
    assert 0 < port < 65536 and port != 0
    return port


def run_cli(binary: str, args, timeout: float = 10.0, cwd=None) -> subprocess.CompletedProcess:
    """Run turnout with args to completion (bounded)."""
    return subprocess.run([str(binary), *args], stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=timeout, cwd=cwd)


# --------------------------------------------------------------------------------------------
# HTTP/1.1 backend (stdlib), recording every request
# --------------------------------------------------------------------------------------------
class Recorded:
    __slots__ = ("method", "target", "path", "query", "headers", "body_len", "body_sha256",
                 "body", "chunked", "client_port", "time", "backend")

    def __init__(self, **kw):
        for k, v in kw.items():
            setattr(self, k, v)

    def header(self, name: str):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name: str):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def __repr__(self):
        return f"<Recorded {self.method} {self.target} body={self.body_len} from :{self.client_port}>"


class _BackendHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "e2e-backend/1"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls
    timeout = 30  # idle keep-alive connections of a dead proxy don't hang a thread forever

    def log_message(self, fmt, *args):  # quiet
        pass

    def parse_request(self):
        # Every request line that reached the backend, even one it cannot parse.
        self.server.owner._saw_line(self.raw_requestline)
        return super().parse_request()

    # any method
    def __getattr__(self, name):
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def _read_body(self):
        te = ",".join(self.headers.get_all("Transfer-Encoding") or []).lower()
        if "chunked" in te:
            h = hashlib.sha256()
            n = 0
            keep = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunked body")
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while True:  # trailers
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                data = self.rfile.read(size)
                if len(data) != size:
                    raise ConnectionError("short chunk")
                h.update(data)
                n += size
                if len(keep) < 65536:
                    keep += data[: 65536 - len(keep)]
                crlf = self.rfile.read(2)
                if crlf != b"\r\n":
                    raise ConnectionError("bad chunk terminator")
            return n, h.hexdigest(), bytes(keep) if n <= 65536 else None, True
        cl = self.headers.get("Content-Length")
        if cl is not None:
            remaining = int(cl)
            h = hashlib.sha256()
            n = 0
            keep = bytearray()
            while remaining > 0:
                data = self.rfile.read(min(remaining, 1 << 20))
                if not data:
                    raise ConnectionError("eof in body")
                h.update(data)
                n += len(data)
                remaining -= len(data)
                if len(keep) < 65536:
                    keep += data[: 65536 - len(keep)]
            return n, h.hexdigest(), bytes(keep) if n <= 65536 else None, False
        return 0, sha256(b""), b"", False

    def _handle(self):
        owner = self.server.owner
        if owner.delay:
            time.sleep(owner.delay)  # a uniformly slow backend (the ewma balancer's tests)
        try:
            n, digest, body, chunked = self._read_body()
        except (ConnectionError, ValueError):
            self.close_connection = True
            return
        parts = urlsplit(self.path)
        rec = Recorded(method=self.command, target=self.path, path=parts.path, query=parts.query,
                       headers=list(self.headers.items()), body_len=n, body_sha256=digest,
                       body=body, chunked=chunked, client_port=self.client_address[1],
                       time=time.monotonic(), backend=owner.name)
        owner._record(rec)
        q = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        path = parts.path
        try:
            if path == "/bytes":
                self._send(200, pattern_bytes(int(q.get("n", "0"))), "application/octet-stream")
            elif path == "/chunked":
                self._chunked(int(q.get("n", "0")))
            elif path == "/slow":
                time.sleep(int(q.get("ms", "1000")) / 1000.0)
                self._send(200, b"slow done", "text/plain")
            elif path.startswith("/status/"):
                self._status(int(path.rsplit("/", 1)[1]))
            elif path == "/close-delimited":
                self._close_delimited(int(q.get("n", "0")))
            elif path == "/hop-response":
                self._send(200, b"hop", "text/plain",
                           extra=[("Connection", "X-Hop-Secret"), ("X-Hop-Secret", "1"),
                                  ("Keep-Alive", "timeout=5"), ("X-End-To-End", "yes")])
            else:  # /echo and anything else
                self._echo(rec)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _common(self, extra=()):
        self.send_header("X-Backend", self.server.owner.name)
        for k, v in extra:
            self.send_header(k, v)

    def _send(self, code, body: bytes, ctype, extra=()):
        self.send_response(code)
        self._common(extra)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _echo(self, rec: Recorded):
        doc = {"method": rec.method, "path": rec.path, "query": rec.query, "target": rec.target,
               "headers": rec.headers, "body_len": rec.body_len, "body_sha256": rec.body_sha256,
               "chunked": rec.chunked, "backend": rec.backend}
        self._send(200, json.dumps(doc).encode(), "application/json")

    def _chunked(self, n: int):
        data = pattern_bytes(n)
        self.send_response(200)
        self._common()
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.command != "HEAD":
            sizes = [1, 10, 100, 1000, 4096]
            off = 0
            i = 0
            while off < n:
                size = sizes[i] if i < len(sizes) else 16384
                piece = data[off:off + size]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                off += len(piece)
                i += 1
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _status(self, code: int):
        if code in (204, 304) or 100 <= code < 200:
            self.send_response(code)
            self._common([("ETag", '"e2e"')] if code == 304 else ())
            self.end_headers()
            self.wfile.flush()
        else:
            self._send(code, f"status {code}".encode(), "text/plain")

    def _close_delimited(self, n: int):
        self.send_response(200)
        self._common()
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(pattern_bytes(n))
        self.wfile.flush()
        self.close_connection = True


class _RecordingServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def verify_request(self, request, client_address):
        self.owner._saw_connection(client_address)
        return True


class Backend:
    """A real HTTP/1.1 server (stdlib) in a background thread; records every request.

    Routes: /echo (and any unknown path) JSON echo, /bytes?n=N, /chunked?n=N, /slow?ms=M,
    /status/CODE, /close-delimited?n=N, /hop-response. Every response has X-Backend: <name>.
    delay: seconds every request waits before it is read and answered.
    """

    def __init__(self, name: str = "backend", delay: float = 0.0, host: str = LOCALHOST):
        """`host`: any loopback address (Linux routes all of 127.0.0.0/8 to lo)."""
        self.name = name
        self.host = host
        self.delay = delay
        self._lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.request_lines: list[bytes] = []
        self.connections: list[tuple] = []
        self.server = _RecordingServer((host, 0), _BackendHandler)
        self.server.owner = self
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, path="/"):
        return f"http://{LOCALHOST}:{self.port}{path}"

    def _record(self, rec):
        with self._lock:
            self.requests.append(rec)

    def _saw_line(self, line):
        with self._lock:
            self.request_lines.append(line)

    def _saw_connection(self, addr):
        with self._lock:
            self.connections.append(addr)

    def snapshot(self) -> list[Recorded]:
        with self._lock:
            return list(self.requests)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def client_ports(self) -> set:
        with self._lock:
            return {r.client_port for r in self.requests}

    def last(self) -> Recorded:
        with self._lock:
            assert self.requests, f"backend {self.name} received no request"
            return self.requests[-1]

    def wait_for(self, n: int, timeout: float = 5.0) -> bool:
        return wait_until(lambda: self.count >= n, timeout)

    def reset(self):
        with self._lock:
            self.requests.clear()
            self.request_lines.clear()
            self.connections.clear()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------------------------
# Raw scripted backend
# --------------------------------------------------------------------------------------------
class RawBackend:
    """Accepts connections, reads one request head, writes `response` bytes, then closes
    (abort=True: with RST via SO_LINGER 0) or keeps the connection open for `hold` seconds."""

    def __init__(self, response: bytes, hold: float = 0.0, abort: bool = False):
        self.response = response
        self.hold = hold
        self.abort = abort
        self.heads: list[bytes] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOCALHOST, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.heads)

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(5)
        buf = b""
        try:
            while b"\r\n\r\n" not in buf and len(buf) < 1 << 20:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            with self._lock:
                self.heads.append(buf.split(b"\r\n\r\n", 1)[0])
            conn.sendall(self.response)
            if self.hold:
                self._stop.wait(self.hold)
        except OSError:
            pass
        finally:
            if self.abort:
                try:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                except OSError:
                    pass
            conn.close()

    def close(self):
        self._stop.set()
        self.sock.close()


# --------------------------------------------------------------------------------------------
# Switchable backend (health checks, outlier detection)
# --------------------------------------------------------------------------------------------
class LoopbackServer:
    """A threaded TCP server on 127.0.0.1 for backends that misbehave on purpose: each accepted
    connection (TCP_NODELAY) is served by serve(conn), which subclasses write, on a thread of
    its own. refuse() closes the listener and every connection, so connects are refused until
    restore() listens on the same port again. Subclasses set their own state before calling
    __init__ (a connection may be served at once)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._conns: set = set()
        self.connections = 0  # accepted
        self.port = 0
        self.sock = self._listen(0)
        self.port = self.sock.getsockname()[1]
        self._acceptor = self._start_acceptor(self.sock)

    @property
    def address(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    def serve(self, conn):
        raise NotImplementedError

    def refuse(self):
        """Close the listener and every open connection: connects are refused from now on."""
        with self._lock:
            sock, self.sock = self.sock, None
            conns = list(self._conns)
        if sock is not None:
            sock.close()
            # The accept loop's poll holds the listening socket open until it returns (within
            # its 0.1 s timeout): until then a connect would still be accepted, then reset.
            self._acceptor.join(2)
            assert not self._acceptor.is_alive(), "the listener did not close"
        self._on_refuse()
        for conn in conns:
            abort_connection(conn)

    def restore(self):
        with self._lock:
            assert self.sock is None, "not refusing"
        sock = self._listen(self.port)
        with self._lock:
            self.sock = sock
        self._acceptor = self._start_acceptor(sock)

    def close(self):
        self._stop.set()
        self.refuse()

    def _on_refuse(self):
        """What else a refusal ends (held connections, in subclasses)."""

    def _listen(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOCALHOST, port))
        sock.listen(256)
        sock.settimeout(0.1)
        return sock

    def _start_acceptor(self, sock) -> threading.Thread:
        thread = threading.Thread(target=self._accept_loop, args=(sock,), daemon=True)
        thread.start()
        return thread

    def _accept_loop(self, sock):
        while not self._stop.is_set():
            try:
                conn, _ = sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._conns.add(conn)
                self.connections += 1
            threading.Thread(target=self._serve_tracked, args=(conn,), daemon=True).start()

    def _serve_tracked(self, conn):
        try:
            self.serve(conn)
        except (OSError, ValueError):
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            try:
                conn.close()
            except OSError:
                pass


class SwitchableBackend(LoopbackServer):
    """An HTTP/1.1 server (keep-alive) whose behaviour the test switches at run time.

    Requests for `health_path` follow `health_mode`, every other request `mode`; each is one of
    "ok" (200), "503", "hang" (read the request, never answer), "reset" (read it, then RST).
    refuse() closes the listener and every connection (connects are refused); restore() listens
    on the same port again. Counts and arrival times of health and traffic requests are kept.
    """

    MODES = ("ok", "503", "hang", "reset")

    def __init__(self, name: str = "switchable", health_path: str = "/healthz"):
        self.name = name
        self.health_path = health_path
        self.mode = "ok"
        self.health_mode = "ok"
        self._release = threading.Event()  # ends held ("hang") connections
        self.health_times: list[float] = []
        self.traffic_times: list[float] = []
        self.health_hosts: list[str] = []
        super().__init__()

    @property
    def health_count(self) -> int:
        with self._lock:
            return len(self.health_times)

    @property
    def traffic_count(self) -> int:
        with self._lock:
            return len(self.traffic_times)

    def set_mode(self, mode: str):
        assert mode in self.MODES, mode
        self.mode = mode
        if mode != "hang":
            self._release.set()
            self._release = threading.Event()

    def set_health(self, mode: str):
        assert mode in self.MODES, mode
        self.health_mode = mode
        if mode != "hang":
            self._release.set()
            self._release = threading.Event()

    def _on_refuse(self):
        self._release.set()  # held connections end too
        self._release = threading.Event()

    def serve(self, conn):
        conn.settimeout(30)
        buf = b""
        while not self._stop.is_set():
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
                if len(buf) > 1 << 16:
                    return
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            target = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            length = int(headers.get("content-length", "0") or 0)
            while len(buf) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            buf = buf[length:]
            is_health = target.split("?", 1)[0] == self.health_path
            with self._lock:
                (self.health_times if is_health else self.traffic_times).append(
                    time.monotonic())
                if is_health:
                    self.health_hosts.append(headers.get("host", ""))
            mode = self.health_mode if is_health else self.mode
            if mode == "hang":
                self._release.wait(30)
                return
            if mode == "reset":
                abort_connection(conn)
                return
            status = b"200 OK" if mode == "ok" else b"503 Service Unavailable"
            body = f"{mode} {self.name}".encode()
            close = headers.get("connection", "").lower() == "close"
            conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain\r\n" +
                         b"X-Backend: " + self.name.encode() + b"\r\n" +
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n" +
                         (b"Connection: close\r\n" if close else b"") + b"\r\n" + body)
            if close:
                return


def abort_connection(conn):
    """Close with RST (SO_LINGER 0). SHUT_RD first wakes a thread blocked reading it (which
    would otherwise keep the socket alive past close())."""
    for step in (lambda: conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                         b"\x01\x00\x00\x00\x00\x00\x00\x00"),
                 lambda: conn.shutdown(socket.SHUT_RD),
                 conn.close):
        try:
            step()
        except OSError:
            pass


# --------------------------------------------------------------------------------------------
# WebSocket echo backend (websockets 10.4, asyncio API, loop in a thread)
# --------------------------------------------------------------------------------------------
class WsEchoBackend:
    def __init__(self):
        import websockets  # python3-websockets

        self.request_headers: list = []
        self.messages = 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        err: list = []

        async def echo(ws, path=None):
            self.request_headers.append(list(ws.request_headers.raw_items()))
            async for msg in ws:
                self.messages += 1
                await ws.send(msg)

        def run():
            asyncio.set_event_loop(self.loop)
            try:
                self.server = self.loop.run_until_complete(
                    websockets.serve(echo, LOCALHOST, 0, max_size=2 ** 22))
                self.port = self.server.sockets[0].getsockname()[1]
            except Exception as e:  # pragma: no cover
                err.append(e)
                ready.set()
                return
            ready.set()
            self.loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert ready.wait(5), "websocket backend did not start"
        if err:
            raise err[0]

    @property
    def address(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    def close(self):
        async def _close():
            self.server.close()
            await asyncio.wait_for(self.server.wait_closed(), 3)

        try:
            fut = asyncio.run_coroutine_threadsafe(_close(), self.loop)
            fut.result(timeout=5)
        except Exception:
            pass
        try:
            self.loop.call_soon_threadsafe(self.loop.stop)
        except RuntimeError:
            pass
        self._thread.join(timeout=5)


# --------------------------------------------------------------------------------------------
# Raw HTTP/1.1 client
# --------------------------------------------------------------------------------------------
class RawResponse:
    def __init__(self, status, reason, version, headers, body, head_raw, interim):
        self.status = status
        self.reason = reason
        self.version = version
        self.headers = headers  # list of (name, value) as received
        self.body = body
        self.head_raw = head_raw
        self.interim = interim  # 1xx responses (other than 101) seen before this one

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def has_token(self, name, token):
        toks = [t.strip().lower() for v in self.header_all(name) for t in v.split(",")]
        return token.lower() in toks

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<RawResponse {self.status} {self.reason!r} headers={self.headers} body={self.body[:200]!r}>"


class IncompleteResponse(Exception):
    def __init__(self, msg, partial: bytes):
        super().__init__(msg)
        self.partial = partial


class RawClient:
    """A socket to the proxy with a small strict response reader."""

    def __init__(self, port: int, timeout: float = 5.0, host: str = LOCALHOST):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self, what="data"):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise IncompleteResponse(f"connection closed while reading {what}", self.buf)
        self.buf += chunk

    def _take(self, n):
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_head(self, limit=1 << 20) -> bytes:
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > limit:
                raise AssertionError("response head too large")
            self._fill("head")
        i = self.buf.index(b"\r\n\r\n")
        head = self._take(i + 4)
        return head

    def read_response(self, method: str = "GET") -> RawResponse:
        interim = []
        while True:
            head = self.read_head()
            lines = head[:-4].split(b"\r\n")
            m = re.fullmatch(rb"(HTTP/1\.[01]) (\d{3})(?: (.*))?", lines[0])
            assert m, f"bad status line {lines[0]!r}"
            version, status, reason = m.group(1).decode(), int(m.group(2)), (m.group(3) or b"").decode("latin-1")
            headers = []
            for ln in lines[1:]:
                k, sep, v = ln.partition(b":")
                assert sep, f"bad header line {ln!r}"
                headers.append((k.decode("latin-1"), v.strip().decode("latin-1")))
            if 100 <= status < 200 and status != 101:
                interim.append(RawResponse(status, reason, version, headers, b"", head, []))
                continue
            break
        resp = RawResponse(status, reason, version, headers, b"", head, interim)
        if method == "HEAD" or status in (204, 304) or status == 101:
            return resp
        te = ",".join(resp.header_all("Transfer-Encoding")).lower()
        if "chunked" in te:
            body = bytearray()
            while True:
                while b"\r\n" not in self.buf:
                    self._fill("chunk size")
                line = self._take(self.buf.index(b"\r\n") + 2)
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while True:
                        while b"\r\n" not in self.buf:
                            self._fill("trailers")
                        t = self._take(self.buf.index(b"\r\n") + 2)
                        if t == b"\r\n":
                            break
                    break
                while len(self.buf) < size + 2:
                    self._fill("chunk data")
                body += self._take(size)
                assert self._take(2) == b"\r\n", "bad chunk terminator"
            resp.body = bytes(body)
        elif resp.header("Content-Length") is not None:
            n = int(resp.header("Content-Length"))
            while len(self.buf) < n:
                try:
                    self._fill("body")
                except IncompleteResponse as e:
                    raise IncompleteResponse(f"body short: {len(self.buf)} of {n}", head + self.buf) from e
            resp.body = self._take(n)
        else:
            # close-delimited
            try:
                while True:
                    self._fill("close-delimited body")
            except IncompleteResponse:
                pass
            resp.body, self.buf = self.buf, b""
        return resp

    def request(self, method="GET", target="/echo", headers=None, body=b"", host="e2e.test") -> RawResponse:
        self.send(build_request(method, target, headers, body, host))
        return self.read_response(method)

    def wait_closed(self, timeout: float = 3.0) -> tuple[bool, bytes]:
        """Read until EOF/reset within `timeout`; returns (closed, bytes read after the buffer)."""
        deadline = time.monotonic() + timeout
        got = b""
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                break
            except (ConnectionResetError, ConnectionAbortedError):
                return True, got
            if not chunk:
                return True, got
            got += chunk
        return False, got


def build_request(method="GET", target="/echo", headers=None, body=b"", host="e2e.test") -> bytes:
    lines = [f"{method} {target} HTTP/1.1"]
    hdrs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    if host is not None and not any(k.lower() == "host" for k, _ in hdrs):
        lines.append(f"Host: {host}")
    for k, v in hdrs:
        lines.append(f"{k}: {v}")
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in hdrs):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunk_encode(data: bytes, sizes=(3, 100, 1000, 7)) -> bytes:
    out = bytearray()
    off = 0
    i = 0
    while off < len(data):
        size = sizes[i % len(sizes)]
        piece = data[off:off + size]
        out += b"%x\r\n%s\r\n" % (len(piece), piece)
        off += len(piece)
        i += 1
    out += b"0\r\n\r\n"
    return bytes(out)


# --------------------------------------------------------------------------------------------
# Config builders
# --------------------------------------------------------------------------------------------
def service(name, *endpoints, lb=None):
    s = {"name": name}
    if lb:
        s["lb"] = lb
    s["endpoints"] = list(endpoints)
    return s


def endpoint(backend_or_addr, version=None, weight=None):
    addr = backend_or_addr if isinstance(backend_or_addr, str) else backend_or_addr.address
    e = {"address": addr}
    if version is not None:
        e["version"] = version
    if weight is not None:
        e["weight"] = weight
    return e


def route(rid, split, match=None, priority=None, strip_prefix=None, timeout_ms=None):
    r = {"id": rid}
    if priority is not None:
        r["priority"] = priority
    r["match"] = match if match is not None else {"path_prefix": "/"}
    if strip_prefix is not None:
        r["rewrite"] = {"strip_prefix": strip_prefix}
    r["split"] = [split] if isinstance(split, dict) else (
        [{"service": split}] if isinstance(split, str) else list(split))
    if timeout_ms is not None:
        r["timeout_ms"] = timeout_ms
    return r


def simple_config(*backends, lb=None, timeout_ms=None, name="svc"):
    """One service with these backends (or addresses) and one catch-all route to it."""
    return {"services": [service(name, *[endpoint(b) for b in backends], lb=lb)],
            "routes": [route("all", name, timeout_ms=timeout_ms)]}


# --------------------------------------------------------------------------------------------
# Admin API v1 (docs/admin-api.md): a restartable process, a small client, answer checks
# --------------------------------------------------------------------------------------------
ADMIN_BODY_LIMIT = 8 * 1024 * 1024  # "Bodies over 8 MiB are 413"
_UNSET = object()


class AdminTurnout(Turnout):
    """A Turnout whose admin listener, token and restarts the admin tests control.

    admin_address replaces the harness's `--admin 127.0.0.1:0`; token adds `--admin-token`;
    insecure adds `--admin-insecure`. restart() starts the same command again on the same
    --data-dir (after SIGTERM, or SIGKILL with kill=True). Each start has its own stderr file.
    """

    def __init__(self, binary: str, tmp_path: Path, name: str = "turnout", admin_address=None,
                 token=None, insecure=False):
        super().__init__(binary, tmp_path, name=name)
        self.admin_address = admin_address
        self.token = token
        self.insecure = insecure
        self.starts = 0
        self._start_kwargs: dict = {}
        self.previous_stdout: list[str] = []

    def command(self, config=None, to=None, workers=2, drain_timeout=None, extra=()):
        cmd = super().command(config=config, to=to, workers=workers,
                              drain_timeout=drain_timeout, extra=())
        if self.admin_address is not None:
            cmd[cmd.index("--admin") + 1] = self.admin_address
        if self.token is not None:
            cmd += ["--admin-token", self.token]
        if self.insecure:
            cmd += ["--admin-insecure"]
        return cmd + list(extra)

    def start(self, config=None, to=None, workers=2, drain_timeout=None, extra=()):
        self._start_kwargs = dict(config=config, to=to, workers=workers,
                                  drain_timeout=drain_timeout, extra=tuple(extra))
        self.starts += 1
        self.stderr_path = self.dir / f"stderr.{self.starts}.log"
        return super().start(config=config, to=to, workers=workers,
                             drain_timeout=drain_timeout, extra=extra)

    def restart(self, kill: bool = False, **overrides):
        """Stop (SIGTERM, bounded; or SIGKILL at once) and start again on the same data dir.
        Keyword overrides replace those of the previous start (e.g. config=...)."""
        if kill:
            self.kill()
        else:
            self.stop()
            self.kill()  # closes the pipes; a no-op for the process if it already exited
        self.previous_stdout += self.stdout_lines
        self.proc = None
        self.port = None
        self.admin_port = None
        self.listening_event = None
        self.stdout_lines = []
        self._lines = queue.Queue()
        kw = dict(self._start_kwargs)
        kw.update(overrides)
        return self.start(**kw)

    def _pump_stdout(self):
        # Bound to this start's process and queue, so that the pump of a previous start that
        # ends late cannot post its end-of-stream into the queue of the next start.
        proc, lines, seen = self.proc, self._lines, self.stdout_lines
        try:
            for raw in iter(proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                seen.append(line)
                lines.put(line)
        except (OSError, ValueError):
            pass
        finally:
            lines.put(None)

    def stderr_all(self) -> str:
        out = []
        for i in range(1, self.starts + 1):
            p = self.dir / f"stderr.{i}.log"
            try:
                out.append(f"[start {i}]\n" + p.read_text(errors="replace"))
            except OSError:
                pass
        return "\n".join(out)

    def diagnostics(self, tail: int = 4000) -> str:
        err = self.stderr_all()
        return ("--- stdout ---\n" + "\n".join((self.previous_stdout + self.stdout_lines)[-50:]) +
                f"\n--- stderr (tail, every start) ---\n{err[-tail:]}")

    def api(self, token=_UNSET, timeout: float = 30.0) -> "AdminClient":
        return AdminClient(self, token=self.token if token is _UNSET else token, timeout=timeout)


class AdminClient:
    """requests-based client of the admin API of an AdminTurnout (follows its restarts).

    json=obj sends JSON (Content-Type application/json); data=bytes|str sends raw bytes with
    the given content_type (none when content_type is None). Never raises for an HTTP status.
    """

    def __init__(self, turnout: Turnout, token=None, timeout: float = 30.0):
        import requests  # python3-requests

        self.turnout = turnout
        self.token = token
        self.timeout = timeout
        self.session = requests.Session()

    def url(self, path: str) -> str:
        return f"http://{LOCALHOST}:{self.turnout.admin_port}{path}"

    def request(self, method: str, path: str, json=_UNSET, data=None, content_type=_UNSET,
                if_match=None, headers=None, params=None, timeout=None):
        hdrs = {}
        if self.token is not None:
            hdrs["Authorization"] = f"Bearer {self.token}"
        body = None
        if json is not _UNSET:
            body = _json_dumps(json).encode()
            hdrs["Content-Type"] = "application/json"
        elif data is not None:
            body = data.encode() if isinstance(data, str) else data
        if content_type is not _UNSET:
            if content_type is None:
                hdrs.pop("Content-Type", None)
            else:
                hdrs["Content-Type"] = content_type
        if if_match is not None:
            hdrs["If-Match"] = str(if_match)
        hdrs.update(headers or {})
        return self.session.request(method, self.url(path), data=body, headers=hdrs,
                                    params=params, timeout=timeout or self.timeout,
                                    allow_redirects=False)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # -- checked shortcuts -------------------------------------------------------------
    def config(self) -> dict:
        r = self.get("/v1/config")
        assert r.status_code == 200, describe(r)
        doc = r.json()
        assert etag_revision(r) == doc["revision"], describe(r)
        return doc

    def revision(self) -> int:
        return self.config()["revision"]

    def ok(self, method, path, expect=(200, 201), **kw):
        """The call must answer one of `expect`; returns the parsed body."""
        r = self.request(method, path, **kw)
        codes = (expect,) if isinstance(expect, int) else tuple(expect)
        assert r.status_code in codes, f"{method} {path}: want {codes}, got {describe(r)}"
        return r.json()

    def close(self):
        self.session.close()


def _json_dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


def describe(resp) -> str:
    """One line for an assertion message: status, ETag, body head."""
    try:
        body = resp.text[:600]
    except Exception:  # noqa: BLE001
        body = repr(resp.content[:600])
    return (f"{resp.request.method} {resp.request.path_url} -> {resp.status_code} "
            f"ETag={resp.headers.get('ETag')!r} body={body!r}")


def etag_revision(resp) -> int:
    """The revision in `ETag: "<revision>"` (strong, quoted, decimal); asserts the form."""
    tag = resp.headers.get("ETag")
    assert tag is not None, f"no ETag: {describe(resp)}"
    m = re.fullmatch(r'"(\d+)"', tag.strip())
    assert m, f"ETag {tag!r} is not \"<revision>\": {describe(resp)}"
    return int(m.group(1))


def api_error(resp, status: int, field=_UNSET) -> dict:
    """Asserts an error answer: `status` and {"error":{"code":status,"message":str,"field":..}}.
    With field= (a string), the field path must equal it. Returns the error object."""
    assert resp.status_code == status, f"want {status}, got {describe(resp)}"
    try:
        doc = resp.json()
    except ValueError:
        raise AssertionError(f"error body is not JSON: {describe(resp)}") from None
    assert isinstance(doc, dict) and isinstance(doc.get("error"), dict), describe(resp)
    err = doc["error"]
    assert err.get("code") == status, f"error.code != {status}: {describe(resp)}"
    assert isinstance(err.get("message"), str) and err["message"], describe(resp)
    assert "field" in err, f"error has no 'field': {describe(resp)}"
    if field is not _UNSET:
        assert err["field"] == field, f"field {err['field']!r} != {field!r}: {describe(resp)}"
    return err


def item_of(doc: dict, key: str) -> dict:
    """The object of a GET /v1/services/{name} (or routes) answer. The contract says "the
    service object"; accept it bare or wrapped under "service"/"route" like a write's answer."""
    if isinstance(doc.get(key), dict):
        return doc[key]
    return doc


def strip_revision(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "revision"}


MODEL_KEYS = ("listeners", "services", "routes")


def model_document(doc: dict) -> dict:
    """The configuration document inside a GET /v1/config answer: the DESIGN §1 model
    (listeners, services, routes), without the answer's "revision" and "command_line"."""
    return {k: doc[k] for k in MODEL_KEYS if k in doc}


def raw_admin_request(port: int, head: bytes, body_chunks, timeout: float = 20.0) -> RawResponse:
    """Sends `head` then each body chunk on a raw socket, watching for an early answer after
    every chunk (a server may answer 413 before reading the body and close). Returns the
    answer; raises if none arrives. Loopback only, bounded by `timeout`."""
    import select

    deadline = time.monotonic() + timeout
    c = RawClient(port, timeout=timeout)
    try:
        c.send(head)
        # A server that judges by Content-Length answers now; give it the chance before
        # streaming, so its close cannot reset the connection under an unread answer.
        select.select([c.sock], [], [], 0.3)
        for chunk in body_chunks:
            r, _, _ = select.select([c.sock], [], [], 0)
            if r:
                break
            try:
                c.sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            if time.monotonic() > deadline:
                raise AssertionError("sending the body took too long")
        c.sock.settimeout(max(0.1, deadline - time.monotonic()))
        return c.read_response()
    finally:
        c.close()


def assert_subset(expected, actual, path: str = "$"):
    """Every key of `expected` (recursively) is in `actual` with an equal value; lists must
    have the same length. Lets a test compare what it wrote with what the API shows, which
    may add defaults (lb, version, weight, priority, ...)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: want an object, got {actual!r}"
        for k, v in expected.items():
            assert k in actual, f"{path}.{k} missing in {actual!r}"
            assert_subset(v, actual[k], f"{path}.{k}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), \
            f"{path}: want {len(expected)} items, got {actual!r}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_subset(e, a, f"{path}[{i}]")
    else:
        assert expected == actual, f"{path}: want {expected!r}, got {actual!r}"


def admin_raw_head(method: str, target: str, content_length: int, content_type="application/json",
                   token=None) -> bytes:
    hdrs = [("Content-Length", str(content_length))]
    if content_type:
        hdrs.append(("Content-Type", content_type))
    if token:
        hdrs.append(("Authorization", f"Bearer {token}"))
    return build_request(method, target, hdrs, b"", host=LOCALHOST)


# --------------------------------------------------------------------------------------------
# Prometheus text exposition (format 0.0.4): a small strict parser for the /metrics tests
# --------------------------------------------------------------------------------------------
_METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE_LINE = re.compile(rf"({_METRIC_NAME})(?:\{{(.*)\}})? (\S+)(?: -?\d+)?")
_LABEL_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


class Exposition:
    """A parsed /metrics answer. Asserts the text is well formed: every sample line parses,
    belongs to a family declared by `# TYPE` before it, and no series appears twice.

    value(name, **labels) is the one series with exactly these labels (asserted to exist);
    select(name, **labels) every series whose labels include these, as (labels, value);
    total(name, **labels) their sum (0 when none)."""

    _SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count", "")}

    def __init__(self, text: str):
        self.text = text
        self.types: dict[str, str] = {}
        self.helps: dict[str, str] = {}
        self.samples: dict[tuple, float] = {}
        for n, line in enumerate(text.split("\n"), 1):
            if not line:
                continue
            if line.startswith("#"):
                parts = line.split(" ", 3)
                if len(parts) >= 3 and parts[1] == "TYPE":
                    assert parts[2] not in self.types, f"line {n}: second TYPE for {parts[2]}"
                    self.types[parts[2]] = parts[3]
                elif len(parts) >= 3 and parts[1] == "HELP":
                    self.helps[parts[2]] = parts[3] if len(parts) > 3 else ""
                continue
            m = _SAMPLE_LINE.fullmatch(line)
            assert m, f"line {n}: not a sample: {line!r}"
            name, raw_labels, raw_value = m.groups()
            labels = self._labels(raw_labels or "", n)
            assert self.family(name) is not None, f"line {n}: {name} has no # TYPE before it"
            key = (name, frozenset(labels.items()))
            assert key not in self.samples, f"line {n}: duplicate series {line!r}"
            self.samples[key] = float(raw_value)

    @staticmethod
    def _labels(raw: str, n: int) -> dict:
        labels: dict[str, str] = {}
        pos = 0
        while pos < len(raw):
            m = _LABEL_PAIR.match(raw, pos)
            assert m, f"line {n}: bad labels {raw!r} at {pos}"
            assert m.group(1) not in labels, f"line {n}: label {m.group(1)} twice"
            labels[m.group(1)] = re.sub(r"\\[\\\"n]", lambda e: _UNESCAPE[e.group(0)], m.group(2))
            pos = m.end()
        return labels

    def family(self, name: str):
        """The declared family a sample name belongs to (histogram suffixes included)."""
        if name in self.types:
            return name
        for base, kind in self.types.items():
            if any(name == base + s for s in self._SUFFIXES.get(kind, ())):
                return base
        return None

    def select(self, name: str, **labels) -> list[tuple[dict, float]]:
        want = set(labels.items())
        return [(dict(key), v) for (n, key), v in self.samples.items()
                if n == name and want <= set(key)]

    def value(self, name: str, **labels) -> float:
        key = (name, frozenset(labels.items()))
        assert key in self.samples, f"no series {name}{labels}; have {self.select(name)}"
        return self.samples[key]

    def total(self, name: str, **labels) -> float:
        return sum(v for _, v in self.select(name, **labels))

    def histogram(self, name: str, **labels) -> tuple[list[tuple[float, float]], float, float]:
        """([(le, cumulative count)...] in exposition order, _sum, _count) of one histogram."""
        buckets = [(float(lbl["le"]), v) for lbl, v in self.select(name + "_bucket", **labels)
                   if set(lbl) == set(labels) | {"le"}]
        return buckets, self.value(name + "_sum", **labels), self.value(name + "_count", **labels)
