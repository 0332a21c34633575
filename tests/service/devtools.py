"""
Headless Chromium driven over the DevTools protocol, for pages behind a login (Label Studio's
editor): standard library only, a minimal WebSocket client (RFC 6455: one connection, text frames).
"""

import base64
import json
import os
import socket
import struct
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from typing import Any, Dict, Iterator
from urllib.parse import urlparse


class WebSocket:
    def __init__(self, url: str) -> None:
        parsed = urlparse(url)
        self.sock = socket.create_connection((parsed.hostname, parsed.port), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parsed.path} HTTP/1.1\r\nHost: {parsed.hostname}:{parsed.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += self.sock.recv(1)
        if b" 101 " not in answer.split(b"\r\n")[0]:
            raise ConnectionError(f"no WebSocket at {url}: {answer.splitlines()[0]!r}")

    def send(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x81, 0x80 | size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, size)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._read(2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._read(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._read(8))[0]
            message += self._read(size)
            if first & 0x80:
                return message.decode()

    def _read(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("the browser closed the DevTools connection")
            data += chunk
        return data


class Page:
    """One browser tab: `call` a DevTools method, `evaluate` JavaScript, `wait_for` a condition."""

    def __init__(self, websocket_url: str) -> None:
        self.socket = WebSocket(websocket_url)
        self.last_id = 0

    def call(self, method: str, **params: Any) -> Dict[str, Any]:
        self.last_id += 1
        self.socket.send(json.dumps({"id": self.last_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.receive())
            if message.get("id") == self.last_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 120) -> None:
        deadline = time.time() + timeout
        while not self.evaluate(expression):
            if time.time() > deadline:
                raise TimeoutError(f"the page never satisfied {expression}")
            time.sleep(0.5)

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        time.sleep(0.5)
        self.wait_for("document.readyState === 'complete'")

    def screenshot(self, path: str) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(data))


@contextmanager
def headless_chromium(chromium: str, flags: list, port: int, width: int = 1400, height: int = 900) -> Iterator[Page]:
    """A page of a headless Chromium started with `flags` and DevTools on `port`; the browser is stopped after."""
    command = [chromium, *flags, f"--remote-debugging-port={port}", "--remote-allow-origins=*"]
    command += [f"--window-size={width},{height}", "about:blank"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as response:
                    targets = [t for t in json.loads(response.read()) if t.get("type") == "page"]
                if targets:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise TimeoutError("headless Chromium did not open its DevTools port")
            time.sleep(0.5)
        yield Page(targets[0]["webSocketDebuggerUrl"])
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
