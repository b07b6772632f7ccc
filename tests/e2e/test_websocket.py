"""WebSocket: Upgrade forwarded, 101 turns the connection into a byte tunnel."""
import asyncio
import base64
import os

import websockets

from harness import RawClient, simple_config


def test_websocket_echo_100_messages(turnout_factory, ws_backend):
    t = turnout_factory(config=simple_config(ws_backend))
    sizes = [0, 1, 125, 126, 65535, 65536, 200_000]

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{t.port}/ws", open_timeout=5,
                                      close_timeout=2, max_size=2 ** 22) as ws:
            for i in range(100):
                if i % 2:
                    msg = f"text message {i} " + "é" * (i % 7)
                else:
                    msg = os.urandom(sizes[(i // 2) % len(sizes)])
                await ws.send(msg)
                got = await asyncio.wait_for(ws.recv(), 5)
                assert got == msg, f"message {i} differs"
            await asyncio.wait_for(ws.ping(), 5)

    asyncio.run(asyncio.wait_for(run(), 60))
    assert ws_backend.messages == 100
    hdrs = {k.lower(): v for k, v in ws_backend.request_headers[0]}
    assert hdrs.get("upgrade", "").lower() == "websocket"
    assert "upgrade" in hdrs.get("connection", "").lower()


def test_websocket_raw_handshake_then_tunnel(turnout_factory, ws_backend):
    t = turnout_factory(config=simple_config(ws_backend))
    key = base64.b64encode(os.urandom(16)).decode()
    with RawClient(t.port) as c:
        c.send(("GET /ws HTTP/1.1\r\nHost: ws.example.test\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        r = c.read_response()
        assert r.status == 101, r
        assert r.header("Upgrade").lower() == "websocket"
        assert r.has_token("Connection", "upgrade")
        # one masked text frame "hi" (FIN, opcode 1, mask bit, len 2)
        mask = b"\x01\x02\x03\x04"
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"hi"))
        c.send(b"\x81\x82" + mask + payload)
        while len(c.buf) < 4:
            c._fill("ws frame")
        assert c.buf[:4] == b"\x81\x02hi", c.buf
    assert ws_backend.request_headers, "handshake did not reach the backend"
    hdrs = {k.lower(): v for k, v in ws_backend.request_headers[0]}
    assert hdrs.get("sec-websocket-key") == key
