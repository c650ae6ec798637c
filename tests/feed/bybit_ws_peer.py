#!/usr/bin/python3
"""An independent WebSocket peer for kinetic's feed tests: a small Bybit v5 public stream.

Not kinetic's code: Debian's python3-websockets does the WebSocket side, so the tests check
kinetic's client against someone else's framing. Listens on 127.0.0.1 (port 0 = any free
one), prints "PORT <n>" on stdout once it listens, and logs every request it receives as
"CONN <k> <json>" lines, so a test can check what was (re)subscribed. Exits by itself after
--max-connections connections or --lifetime seconds.

Per connection k (1, 2, ...):
  * answers subscribe/unsubscribe with Bybit's linear ack shape, unknown topics with
    success:false, and the JSON ping with Bybit's linear pong;
  * for each orderbook.50.SYM: a snapshot (u = 1000·k), then --deltas deltas with u + 1, ...;
    for each publicTrade.SYM: trades between the deltas; every third message is sent as a
    fragmented WebSocket message; one protocol-level ping per connection;
  * on connection 1 (unless --no-drop) the TCP connection is dropped without a close frame
    after the data; on the last connection the server sends a close frame (1000, "bye").
"""
import argparse
import asyncio
import json
import logging
import ssl
import sys

import websockets

# The library logs an aborted connection's failed closing handshake as an error: that is the
# drop this peer does on purpose, not a fault.
logging.getLogger("websockets").setLevel(logging.CRITICAL)

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--cert", help="PEM certificate: serve wss:// (with --key)")
parser.add_argument("--key", help="PEM private key")
parser.add_argument("--deltas", type=int, default=5)
parser.add_argument("--max-connections", type=int, default=2)
parser.add_argument("--lifetime", type=float, default=30.0)
parser.add_argument("--no-drop", action="store_true")
args = parser.parse_args()

connections = 0
done = asyncio.Event()


def log(*parts):
    print(*parts, flush=True)


def book(symbol, kind, u, bids, asks, ts):
    return {"topic": f"orderbook.50.{symbol}", "type": kind, "ts": ts,
            "data": {"s": symbol, "b": bids, "a": asks, "u": u, "seq": u * 10}, "cts": ts - 1}


def trade(symbol, i, ts):
    return {"topic": f"publicTrade.{symbol}", "type": "snapshot", "ts": ts,
            "data": [{"T": ts, "s": symbol, "S": "Buy" if i % 2 else "Sell", "v": "0.001",
                      "p": f"{65000 + i}.5", "L": "PlusTick", "i": f"t-{i}", "BT": False}]}


async def send(ws, message, index):
    text = json.dumps(message, separators=(",", ":"))
    if index % 3 == 2:  # fragmented: three frames
        third = max(1, len(text) // 3)
        await ws.send([text[:third], text[third:2 * third], text[2 * third:]])
    else:
        await ws.send(text)


async def handler(ws, path=None):
    global connections
    connections += 1
    k = connections
    topics = []
    # The subscription first.
    while not topics:
        request = json.loads(await ws.recv())
        log("CONN", k, json.dumps(request, separators=(",", ":")))
        op = request.get("op")
        if op == "ping":
            await ws.send(json.dumps({"success": True, "ret_msg": "pong", "conn_id": f"c{k}",
                                      "req_id": request.get("req_id", ""), "op": "ping"}))
            continue
        good = [t for t in request.get("args", [])
                if t.startswith(("orderbook.50.", "publicTrade."))]
        bad = [t for t in request.get("args", []) if t not in good]
        await ws.send(json.dumps({"success": not bad,
                                  "ret_msg": "" if not bad else f"Invalid topic: {bad[0]}",
                                  "conn_id": f"c{k}", "req_id": request.get("req_id", ""),
                                  "op": op}))
        topics = good
    ts = 1_700_000_000_000 + 100_000 * k
    index = 0
    u = 1000 * k
    for topic in topics:
        if topic.startswith("orderbook.50."):
            symbol = topic.split(".")[2]
            await send(ws, book(symbol, "snapshot", u,
                                [["65000.0", "1.5"], ["64999.5", "2"]],
                                [["65000.5", "1"], ["65001.0", "3"]], ts), index)
            index += 1
    pong = await ws.ping(b"kinetic?")
    pong.add_done_callback(lambda f: f.cancelled() or f.exception())  # dropped: no pong
    for d in range(1, args.deltas + 1):
        for topic in topics:
            symbol = topic.split(".")[-1]
            ts += 1
            if topic.startswith("orderbook.50."):
                message = book(symbol, "delta", u + d, [[f"{65000 - d}.0", str(d)]],
                               [["65000.5", "0"] if d == 1 else [f"{65001 + d}.0", "0.5"]], ts)
            else:
                message = trade(symbol, d, ts)
            await send(ws, message, index)
            index += 1
    last = k >= args.max_connections
    if k == 1 and not args.no_drop and not last:
        log("DROP", k)
        ws.transport.abort()  # no close frame: the client must notice and reconnect
        return
    if last:
        # Let the client's pings be answered for a moment, then close properly.
        try:
            while True:
                request = json.loads(await asyncio.wait_for(ws.recv(), timeout=1.0))
                log("CONN", k, json.dumps(request, separators=(",", ":")))
                if request.get("op") == "ping":
                    await ws.send(json.dumps({"success": True, "ret_msg": "pong",
                                              "conn_id": f"c{k}",
                                              "req_id": request.get("req_id", ""),
                                              "op": "ping"}))
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            pass
        log("CLOSE", k)
        await ws.close(code=1000, reason="bye")
        # What the client answered: its close frame's code, or none.
        received = getattr(ws, "close_rcvd", None)
        log("CLOSED", k, "rcvd=" + (str(received.code) if received else "none"))
        done.set()
        return
    await ws.wait_closed()


async def main():
    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    async with websockets.serve(handler, "127.0.0.1", args.port, ssl=context,
                                ping_interval=None, max_size=2**20) as server:
        port = server.sockets[0].getsockname()[1]
        log("PORT", port)
        try:
            await asyncio.wait_for(done.wait(), timeout=args.lifetime)
        except asyncio.TimeoutError:
            log("TIMEOUT")
            sys.exit(3)


asyncio.run(main())
