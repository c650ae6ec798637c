#!/usr/bin/python3
"""Integration test of kinetic-exchange's WebSockets, driven as an outside Bybit client would
(stdlib + Debian's python3-websockets 10.4; no kinetic code).

Public streams (ack, failure and pong shapes per market, orderbook snapshot then contiguous
deltas rebuilt into an uncrossed book, publicTrade/tickers/kline shapes), the private stream
(auth accepted and refused, subscribe before auth refused, pushes), the trade stream (the
whole life of an order, duplicate reqId, stale header timestamp, unknown op, pong), the faults
that touch WebSockets (drop_connections, pause_market_data, malformed_frames), the idle
time-out, SIGTERM writing --state-out, and a replay at --speed max.

Every wait is bounded and waits on the socket (or the process), never a sleep.

Run: exchange_ws_it.py --exchange PATH/kinetic-exchange --source-dir REPO
"""

import asyncio
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import exchange_harness as harness  # noqa: E402

import websockets  # noqa: E402

KEY = harness.DOC_KEY
SECRET = harness.DOC_SECRET
WAIT = 10.0  # seconds: the longest any single expected message may take

check = harness.Check()


# ---------------------------------------------------------------- helpers
async def connect(exchange, path):
    # No client pings: the idle test needs silence, and pongs would be traffic.
    return await websockets.connect(exchange.ws_base + path, ping_interval=None,
                                    max_size=None, open_timeout=WAIT, close_timeout=2)


async def send(ws, message):
    await ws.send(json.dumps(message) if not isinstance(message, str) else message)


async def recv_json(ws, timeout=WAIT):
    text = await asyncio.wait_for(ws.recv(), timeout)
    return json.loads(text)


async def recv_until(ws, predicate, timeout=WAIT, what="message"):
    """Reads messages until one satisfies `predicate`; returns it (and raises on time-out).
    Public data that arrives in between is skipped."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise asyncio.TimeoutError(f"no {what} within {timeout} s")
        text = await asyncio.wait_for(ws.recv(), left)
        try:
            message = json.loads(text)
        except ValueError:
            continue
        if predicate(message):
            return message


def is_reply(op):
    return lambda m: m.get("op") == op and "topic" not in m


def topic_is(topic):
    return lambda m: m.get("topic") == topic


def now_ms():
    return int(time.time() * 1000)


def auth_message(key=KEY, secret=SECRET, expires=None, req_id=None):
    expires = now_ms() + 10_000 if expires is None else expires
    return harness.ws_auth_message(key, secret, expires, req_id)


def trade_request(op, args, req_id=None, ts=None, recv_window=None):
    header = {"X-BAPI-TIMESTAMP": str(now_ms() if ts is None else ts)}
    if recv_window is not None:
        header["X-BAPI-RECV-WINDOW"] = str(recv_window)
    message = {"header": header, "op": op, "args": args}
    if req_id is not None:
        message["reqId"] = req_id
    return message


def is_decimal_string(value):
    if not isinstance(value, str):
        return False
    try:
        Decimal(value)
        return True
    except ArithmeticError:
        return False
    except ValueError:
        return False


# ---------------------------------------------------------------- public streams
async def test_public_linear(exchange):
    ws = await connect(exchange, "/v5/public/linear")
    try:
        await send(ws, {"req_id": "sub-1", "op": "subscribe", "args": ["orderbook.50.BTCUSDT"]})
        ack = await recv_until(ws, is_reply("subscribe"), what="subscribe ack")
        check.equal(set(ack), {"success", "ret_msg", "conn_id", "req_id", "op"},
                    "linear subscribe ack keys")
        check.equal((ack["success"], ack["ret_msg"], ack["req_id"], ack["op"]),
                    (True, "", "sub-1", "subscribe"), "linear subscribe ack values")
        check(isinstance(ack["conn_id"], str) and len(ack["conn_id"]) > 10, "conn_id present",
              ack)

        # Snapshot first, then deltas with u + 1 each; the book rebuilt from them stays
        # uncrossed and within 50 levels.
        topic = "orderbook.50.BTCUSDT"
        first = await recv_until(ws, topic_is(topic), what="book snapshot")
        check.equal(first["type"], "snapshot", "first book message is a snapshot")
        check(set(first) >= {"topic", "type", "ts", "data", "cts"}, "book envelope keys", first)
        data = first["data"]
        check(set(data) >= {"s", "b", "a", "u", "seq"}, "book data keys", data)
        check(isinstance(data["u"], int) and isinstance(first["ts"], int), "u and ts are numbers")
        bids = {Decimal(p): Decimal(q) for p, q in data["b"]}
        asks = {Decimal(p): Decimal(q) for p, q in data["a"]}
        check(all(is_decimal_string(p) and is_decimal_string(q) for p, q in data["b"] + data["a"]),
              "book levels are decimal strings")
        prices = [Decimal(p) for p, _ in data["b"]]
        check(prices == sorted(prices, reverse=True), "snapshot bids descending")
        prices = [Decimal(p) for p, _ in data["a"]]
        check(prices == sorted(prices), "snapshot asks ascending")
        last_u = data["u"]
        deltas = 0
        gaps = 0
        crossed = 0
        oversize = 0
        while deltas < 30:
            message = await recv_until(ws, topic_is(topic), what="book delta")
            check.equal(message["type"], "delta", "book message after the snapshot is a delta")
            u = message["data"]["u"]
            if u != last_u + 1:
                gaps += 1
            last_u = u
            for side, book in (("b", bids), ("a", asks)):
                for p, q in message["data"][side]:
                    if Decimal(q) == 0:
                        book.pop(Decimal(p), None)
                    else:
                        book[Decimal(p)] = Decimal(q)
            if bids and asks and max(bids) >= min(asks):
                crossed += 1
            if len(bids) > 50 or len(asks) > 50:
                oversize += 1
            deltas += 1
        check.equal(gaps, 0, "orderbook deltas have contiguous u")
        check.equal(crossed, 0, "rebuilt book never crossed")
        check.equal(oversize, 0, "rebuilt book stays within 50 levels per side")

        # Ping → pong in the linear shape (req_id echoed).
        await send(ws, {"req_id": "p-1", "op": "ping"})
        pong = await recv_until(ws, is_reply("ping"), what="pong")
        check.equal(set(pong), {"success", "ret_msg", "conn_id", "req_id", "op"}, "linear pong keys")
        check.equal((pong["success"], pong["ret_msg"], pong["req_id"], pong["conn_id"]),
                    (True, "pong", "p-1", ack["conn_id"]), "linear pong values")

        # An unknown topic fails, with the topic named; nothing is subscribed.
        await send(ws, {"req_id": "bad", "op": "subscribe", "args": ["orderbook.7.BTCUSDT"]})
        failure = await recv_until(ws, is_reply("subscribe"), what="failed subscribe")
        check.equal(failure["success"], False, "unknown topic refused")
        check("orderbook.7.BTCUSDT" in failure["ret_msg"], "failure names the topic", failure)
        check.equal(failure["req_id"], "bad", "failure echoes req_id")
        await send(ws, {"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]})
        again = await recv_until(ws, is_reply("subscribe"), what="repeated subscribe")
        check(again["success"] is False and "already subscribed" in again["ret_msg"],
              "repeated subscribe refused", again)

        # publicTrade, tickers and kline shapes.
        await send(ws, {"op": "subscribe",
                        "args": ["publicTrade.BTCUSDT", "tickers.BTCUSDT", "kline.1.BTCUSDT"]})
        ack = await recv_until(ws, is_reply("subscribe"), what="subscribe ack")
        check.equal((ack["success"], ack["req_id"]), (True, ""), "linear ack without req_id")
        first = {}  # the first message of each topic
        wanted = ("publicTrade.BTCUSDT", "tickers.BTCUSDT", "kline.1.BTCUSDT")
        while len(first) < len(wanted):
            message = await recv_until(ws, lambda m: m.get("topic") in wanted,
                                       what="publicTrade, tickers and kline")
            first.setdefault(message["topic"], message)
        trade, ticker, kline = (first[t] for t in wanted)
        check.equal(trade["type"], "snapshot", "publicTrade type")
        item = trade["data"][0]
        check(set(item) >= {"T", "s", "S", "v", "p", "L", "i", "BT", "seq"}, "publicTrade keys", item)
        check(item["S"] in ("Buy", "Sell") and is_decimal_string(item["p"]) and
              is_decimal_string(item["v"]) and isinstance(item["T"], int), "publicTrade values", item)
        check.equal(ticker["type"], "snapshot", "first tickers message is a snapshot")
        check(isinstance(ticker["data"], dict) and ticker["data"].get("symbol") == "BTCUSDT" and
              "lastPrice" in ticker["data"] and "cs" in ticker, "tickers shape", ticker)
        candle = kline["data"][0]
        check(set(candle) >= {"start", "end", "interval", "open", "close", "high", "low", "volume",
                              "turnover", "confirm", "timestamp"}, "kline keys", candle)
        check(candle["interval"] == "1" and candle["end"] == candle["start"] + 59_999,
              "kline interval and end", candle)

        await send(ws, {"req_id": "u-1", "op": "unsubscribe", "args": ["publicTrade.BTCUSDT"]})
        unsub = await recv_until(ws, is_reply("unsubscribe"), what="unsubscribe ack")
        check.equal((unsub["success"], unsub["req_id"]), (True, "u-1"), "unsubscribe ack")

        await send(ws, {"op": "nope"})
        invalid = await recv_until(ws, is_reply("nope"), what="invalid op reply")
        check.equal(invalid["success"], False, "unknown public op refused")
    finally:
        await ws.close()


async def test_public_spot(exchange):
    ws = await connect(exchange, "/v5/public/spot")
    try:
        await send(ws, {"req_id": "10001", "op": "subscribe", "args": ["orderbook.1.BTCUSDT"]})
        ack = await recv_until(ws, is_reply("subscribe"), what="spot ack")
        check.equal(set(ack), {"success", "ret_msg", "conn_id", "req_id", "op"}, "spot ack keys")
        check.equal((ack["success"], ack["ret_msg"], ack["req_id"]), (True, "subscribe", "10001"),
                    "spot subscribe ack values")
        await send(ws, {"op": "ping"})
        pong = await recv_until(ws, is_reply("ping"), what="spot pong")
        check.equal(set(pong), {"success", "ret_msg", "conn_id", "op"}, "spot pong keys")
        check.equal((pong["success"], pong["ret_msg"]), (True, "pong"), "spot pong values")
        book = await recv_until(ws, topic_is("orderbook.1.BTCUSDT"), what="spot book")
        check.equal(book["type"], "snapshot", "spot level-1 book is a snapshot")
        await send(ws, {"op": "subscribe", "args": [f"tickers.X{i}" for i in range(11)]})
        many = await recv_until(ws, is_reply("subscribe"), what="spot args limit")
        check(many["success"] is False, "spot refuses more than 10 args", many)
    finally:
        await ws.close()


# ---------------------------------------------------------------- private and trade streams
async def test_private_auth(exchange):
    ws = await connect(exchange, "/v5/private")
    try:
        await send(ws, {"req_id": "s0", "op": "subscribe", "args": ["order"]})
        early = await recv_json(ws)
        check.equal((early["op"], early["success"]), ("subscribe", False),
                    "subscribe before auth refused")
        expires = now_ms() + 10_000
        await send(ws, {"op": "auth", "args": ["no-such-key", expires,
                                               harness.ws_auth_signature(SECRET, expires)]})
        await send(ws, json.dumps({"op": "auth", "args": [KEY, now_ms() + 10_000, "0" * 64]}))
        await send(ws, auth_message(expires=now_ms() - 1000))  # expired
        for what in ("unknown key", "bad signature", "expired"):
            reply = await recv_json(ws)
            check.equal((reply["op"], reply["success"]), ("auth", False), f"auth refused: {what}")
            check(set(reply) >= {"success", "ret_msg", "op", "conn_id"}, "auth failure keys", reply)
        await send(ws, auth_message(req_id="a-1"))
        good = await recv_json(ws)
        check.equal(set(good), {"req_id", "success", "ret_msg", "op", "conn_id"}, "auth reply keys")
        check.equal((good["success"], good["ret_msg"], good["op"], good["req_id"]),
                    (True, "", "auth", "a-1"), "auth accepted")
        await send(ws, {"op": "subscribe", "args": ["order", "execution.linear"]})
        mixed = await recv_json(ws)
        check.equal(mixed["success"], False, "all-in-one and per-category topics refused together")
        await send(ws, {"req_id": "pp", "op": "ping"})
        pong = await recv_json(ws)
        check.equal((pong["op"], pong["req_id"], pong["conn_id"]), ("pong", "pp", good["conn_id"]),
                    "private pong")
        check(isinstance(pong["args"], list) and pong["args"][0].isdigit(), "private pong args",
              pong)
    finally:
        await ws.close()


async def test_order_life(exchange):
    private = await connect(exchange, "/v5/private")
    trade = await connect(exchange, "/v5/trade")
    try:
        await send(private, auth_message())
        check.equal((await recv_json(private))["success"], True, "private auth")
        await send(private, {"op": "subscribe", "args": ["order", "execution", "position", "wallet"]})
        sub = await recv_json(private)
        check.equal((sub["success"], sub["op"]), (True, "subscribe"), "private subscribe")

        # An order op before auth is refused.
        await send(trade, trade_request("order.create", [{}], req_id="early"))
        early = await recv_json(trade)
        check(early["retCode"] != 0 and early["reqId"] == "early", "trade op before auth refused",
              early)

        expires = now_ms() + 10_000
        await send(trade, {"op": "auth",
                           "args": [KEY, expires, harness.ws_auth_signature(SECRET, "0")]})
        bad = await recv_json(trade)
        check.equal((bad["op"], bad["retCode"]), ("auth", 10004), "trade auth: bad signature 10004")
        await send(trade, {"reqId": "auth-1", "op": "auth",
                           "args": [KEY, expires, harness.ws_auth_signature(SECRET, expires)]})
        reply = await recv_json(trade)
        check.equal(set(reply), {"reqId", "retCode", "retMsg", "op", "connId"},
                    "trade auth reply keys")
        check.equal((reply["retCode"], reply["retMsg"], reply["op"], reply["reqId"]),
                    (0, "OK", "auth", "auth-1"), "trade auth accepted")

        await send(trade, {"op": "ping"})
        pong = await recv_json(trade)
        check.equal((pong["retCode"], pong["retMsg"], pong["op"]), (0, "OK", "pong"), "trade pong")
        check(isinstance(pong["data"], list) and pong["data"][0].isdigit() and "connId" in pong,
              "trade pong data", pong)

        order = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market",
                 "qty": "0.010", "orderLinkId": "ws-life-1"}
        await send(trade, trade_request("order.create", [order], req_id="t-1"))
        ack = await recv_json(trade)
        check.equal(set(ack), {"reqId", "retCode", "retMsg", "op", "data", "retExtInfo", "header",
                               "connId"}, "order.create reply keys")
        check.equal((ack["reqId"], ack["retCode"], ack["op"]), ("t-1", 0, "order.create"),
                    "order.create accepted")
        check(ack["data"].get("orderLinkId") == "ws-life-1" and ack["data"].get("orderId"),
              "order.create data", ack)
        header = ack["header"]
        check(set(header) >= {"X-Bapi-Limit", "X-Bapi-Limit-Status", "X-Bapi-Limit-Reset-Timestamp",
                              "Traceid", "Timenow"}, "order.create header keys", header)
        check.equal((header.get("X-Bapi-Limit"), header.get("X-Bapi-Limit-Status")), ("10", "9"),
                    "order.create rate-limit header (10/s, 9 left)")

        # The private stream: order, execution, position, wallet.
        # Bybit's order: order, execution, position, wallet; read until the wallet push that
        # follows the Filled order.
        seen = {}
        filled = False
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            message = await recv_json(private, deadline - time.monotonic())
            topic = message.get("topic")
            if topic not in ("order", "execution", "position", "wallet"):
                continue
            check(set(message) == {"id", "topic", "creationTime", "data"}, f"{topic} envelope keys",
                  sorted(message))
            seen.setdefault(topic, []).extend(message["data"])
            if topic == "order" and message["data"][-1]["orderStatus"] == "Filled":
                filled = True
            if topic == "wallet" and filled:
                break
        check.equal(sorted(seen), ["execution", "order", "position", "wallet"], "private pushes")
        if len(seen) == 4:
            check.equal((seen["order"][-1]["orderLinkId"], seen["order"][-1]["orderStatus"]),
                        ("ws-life-1", "Filled"), "order push")
            # A market order walks the book: one execution per level it takes.
            executions = seen["execution"]
            check.equal((sum(Decimal(e["execQty"]) for e in executions),
                         {e["orderLinkId"] for e in executions}, {e["isMaker"] for e in executions}),
                        (Decimal("0.01"), {"ws-life-1"}, {False}), "execution pushes")
            position = seen["position"][-1]
            check.equal((position["symbol"], position["side"], Decimal(position["size"])),
                        ("BTCUSDT", "Buy", Decimal("0.01")), "position push")
            check("entryPrice" in position, "position push has entryPrice (WS name)", position)
            check("accountType" in seen["wallet"][-1] or "coin" in seen["wallet"][-1],
                  "wallet push shape", seen["wallet"][-1])

        # The same, seen through the control endpoint.
        state = exchange.get_state()
        account = next((a for a in state.get("accounts", []) if a.get("key") == KEY), None)
        check(account is not None, "account in /kinetic/state", state)
        if account is not None:
            positions = [p for p in account.get("positions", []) if p.get("symbol") == "BTCUSDT"]
            check(positions and Decimal(positions[0]["size"]) == Decimal("0.01") and
                  positions[0]["side"] == "Buy", "position in /kinetic/state", positions)
            check(any(e.get("orderLinkId") == "ws-life-1" for e in account.get("executions", [])),
                  "execution in /kinetic/state", account.get("executions"))
            check("wallet" in account, "wallet in /kinetic/state", sorted(account))

        # Duplicate reqId → 20006; stale header timestamp → 10002; unknown op → 10404.
        await send(trade, trade_request("order.create", [order], req_id="t-1"))
        duplicate = await recv_json(trade)
        check.equal((duplicate["reqId"], duplicate["retCode"]), ("t-1", 20006), "duplicate reqId")
        close = dict(order, side="Sell", orderLinkId="ws-life-2", reduceOnly=True)
        await send(trade, trade_request("order.create", [close], req_id="t-2",
                                        ts=now_ms() - 60_000))
        stale = await recv_json(trade)
        check.equal((stale["reqId"], stale["retCode"]), ("t-2", 10002), "stale header timestamp")
        check("req_timestamp[" in stale["retMsg"], "10002 message in Bybit's format", stale)
        await send(trade, trade_request("order.teleport", [order], req_id="t-3"))
        unknown = await recv_json(trade)
        check.equal((unknown["reqId"], unknown["retCode"]), ("t-3", 10404), "unknown op 10404")
        await send(trade, trade_request("order.create", [order], req_id="x" * 37))
        long_id = await recv_json(trade)
        check(long_id["retCode"] != 0, "reqId longer than 36 refused", long_id)

        # Close the position over the trade stream; the position push goes flat.
        await send(trade, trade_request("order.create", [close], req_id="t-4"))
        closed = await recv_json(trade)
        check.equal(closed["retCode"], 0, "reduce-only close accepted")
        flat = await recv_until(private, lambda m: m.get("topic") == "position" and
                                Decimal(m["data"][0]["size"]) == 0, what="flat position push")
        check.equal(flat["data"][0]["symbol"], "BTCUSDT", "position closed")

        # The reject and delay faults apply to the trade stream's ops by their REST path.
        exchange.fault({"fault": "reject", "path": "/v5/order/cancel", "retCode": 10006,
                        "count": 1})
        cancel = {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "no-such-order"}
        await send(trade, trade_request("order.cancel", [cancel], req_id="t-5"))
        rejected = await recv_json(trade)
        check.equal((rejected["reqId"], rejected["retCode"]), ("t-5", 10006),
                    "reject fault on order.cancel")
        await send(trade, trade_request("order.cancel", [cancel], req_id="t-6"))
        missing = await recv_json(trade)
        check.equal((missing["reqId"], missing["retCode"]), ("t-6", 110001),
                    "reject fault used up: the cancel reaches the venue")
        exchange.fault({"fault": "delay", "path": "/v5/order/cancel", "ms": 300})
        sent = time.monotonic()
        await send(trade, trade_request("order.cancel", [cancel], req_id="t-7"))
        await send(trade, {"op": "ping", "reqId": "after-delay"})
        delayed = await recv_json(trade)
        waited = time.monotonic() - sent
        check.equal(delayed.get("reqId"), "t-7", "delayed reply keeps its place before later ones")
        check(waited >= 0.29, "delay fault holds the trade reply back", f"{waited:.3f} s")
        check.equal((await recv_json(trade)).get("op"), "pong", "then the later reply")
        exchange.fault({"fault": "clear"})
    finally:
        await private.close()
        await trade.close()


# ---------------------------------------------------------------- faults
async def test_drop_connections(exchange):
    public = await connect(exchange, "/v5/public/linear")
    private = await connect(exchange, "/v5/private")
    try:
        await send(public, {"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]})
        await recv_until(public, topic_is("orderbook.50.BTCUSDT"), what="book before the drop")
        status, reply = exchange.fault({"fault": "drop_connections"})
        check.equal(status, 200, "drop_connections accepted")
        for name, ws in (("public", public), ("private", private)):
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), WAIT)
            except websockets.exceptions.ConnectionClosed as closed:
                check(closed.rcvd is None, f"{name} socket dropped without a close frame",
                      closed)
            except asyncio.TimeoutError:
                check(False, f"{name} socket dropped")
    finally:
        await public.close()
        await private.close()


async def test_pause_market_data(exchange):
    ws = await connect(exchange, "/v5/public/linear")
    try:
        topic = "orderbook.50.BTCUSDT"
        await send(ws, {"op": "subscribe", "args": [topic]})
        snapshot = await recv_until(ws, topic_is(topic), what="book")
        last_u = snapshot["data"]["u"]
        status, _ = exchange.fault({"fault": "pause_market_data", "seconds": 2})
        check.equal(status, 200, "pause_market_data accepted")
        paused_at = time.monotonic()
        # Measure the longest silence between book messages until data flows again.
        longest_gap = 0.0
        previous = paused_at
        gaps = 0
        received_after = 0
        deadline = paused_at + 8
        while received_after < 5 and time.monotonic() < deadline:
            message = await recv_until(ws, topic_is(topic), timeout=deadline - time.monotonic(),
                                       what="book after the pause")
            arrived = time.monotonic()
            longest_gap = max(longest_gap, arrived - previous)
            previous = arrived
            if message["data"]["u"] != last_u + 1:
                gaps += 1
            last_u = message["data"]["u"]
            if arrived - paused_at > 1.9:
                received_after += 1
        check(longest_gap >= 1.5, "no book data during the pause", f"longest gap {longest_gap:.3f} s")
        check.equal(received_after, 5, "book data flows again after the pause")
        check.equal(gaps, 0, "u stays contiguous across the pause")
    finally:
        await ws.close()


async def test_malformed_frames(exchange):
    ws = await connect(exchange, "/v5/public/linear")
    try:
        topic = "orderbook.50.ETHUSDT"
        await send(ws, {"op": "subscribe", "args": [topic]})
        await recv_until(ws, topic_is(topic), what="book")
        status, _ = exchange.fault({"fault": "malformed_frames", "count": 3})
        check.equal(status, 200, "malformed_frames accepted")
        kinds = []
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            text = await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
            try:
                json.loads(text)
                kinds.append("good")
            except ValueError:
                kinds.append("broken")
            if kinds.count("broken") == 3 and kinds[-5:] == ["good"] * 5:
                break
        # Good frames (sent before the fault) may come first; then exactly 3 broken ones in a
        # row, then good ones again.
        text = "".join("b" if k == "broken" else "g" for k in kinds)
        check(text.lstrip("g").startswith("bbbggggg") and text.count("b") == 3,
              "3 broken frames, then good ones", text)
    finally:
        await ws.close()


async def test_idle_timeout(binary, directory):
    with harness.Exchange(binary, ["--account", f"{KEY}:{SECRET}", "--idle-timeout", "2"]) as ex:
        ws = await connect(ex, "/v5/private")
        opened = time.monotonic()
        try:
            await asyncio.wait_for(ws.wait_closed(), 15)
            elapsed = time.monotonic() - opened
            check(1.5 <= elapsed < 15, "idle connection closed after --idle-timeout",
                  f"{elapsed:.2f} s")
        except asyncio.TimeoutError:
            check(False, "idle connection closed within 15 s")
        finally:
            await ws.close()
    check.equal(ex.returncode, 0, "idle-timeout instance: clean exit")


async def test_tls(binary, directory):
    """--tls-cert/--tls-key: the same public stream over wss (self-signed certificate)."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                           key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    if made.returncode != 0:
        print("test_tls: skipped (openssl could not make a certificate)", flush=True)
        return
    with harness.Exchange(binary, ["--tls-cert", cert, "--tls-key", key], tls=True) as ex:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        ws = await websockets.connect(ex.ws_base + "/v5/public/linear", ssl=context,
                                      ping_interval=None, open_timeout=WAIT)
        try:
            await send(ws, {"req_id": "tls", "op": "subscribe", "args": ["orderbook.1.BTCUSDT"]})
            ack = await recv_until(ws, is_reply("subscribe"), what="ack over TLS")
            check.equal((ack["success"], ack["req_id"]), (True, "tls"), "subscribe over wss")
            book = await recv_until(ws, topic_is("orderbook.1.BTCUSDT"), what="book over TLS")
            check.equal(book["type"], "snapshot", "book over wss")
        finally:
            await ws.close()
    check.equal(ex.returncode, 0, "TLS instance: clean exit")


# ---------------------------------------------------------------- replay
def write_capture(path):
    """A raw Bybit JSON-lines capture (cryptofeed format 2): a book snapshot and 5 trades."""
    base = 1786310819.0
    trades = [("Buy", "0.004", "65114.20"), ("Sell", "0.010", "65114.10"),
              ("Buy", "0.250", "65114.30"), ("Sell", "0.001", "65113.90"),
              ("Buy", "1.500", "65114.50")]
    lines = [{"t": "connect", "conn": "BYBIT.ws.2", "ts": base,
              "addr": "wss://stream.bybit.com/v5/public/linear"}]
    book = {"topic": "orderbook.50.BTCUSDT", "type": "snapshot", "ts": int(base * 1000) + 5,
            "data": {"s": "BTCUSDT", "b": [["65114.00", "2.000"], ["65113.90", "1.000"]],
                     "a": [["65114.20", "1.500"], ["65114.50", "3.000"]], "u": 100, "seq": 1},
            "cts": int(base * 1000) + 4}
    lines.append({"t": "recv", "conn": "BYBIT.ws.2", "ts": base + 0.01, "data": json.dumps(book)})
    for n, (side, size, price) in enumerate(trades):
        frame = {"topic": "publicTrade.BTCUSDT", "type": "snapshot", "ts": int(base * 1000) + 100 * n,
                 "data": [{"T": int(base * 1000) + 100 * n, "s": "BTCUSDT", "S": side, "v": size,
                           "p": price, "L": "PlusTick", "i": f"trade-{n}", "BT": False,
                           "seq": 1000 + n}]}
        lines.append({"t": "recv", "conn": "BYBIT.ws.2", "ts": base + 0.1 * (n + 1),
                      "data": json.dumps(frame, separators=(",", ":"))})
    with open(path, "w") as out:
        for line in lines:
            out.write(json.dumps(line) + "\n")
    return trades


async def test_replay(binary, directory):
    path = os.path.join(directory, "capture.jsonl")
    trades = write_capture(path)
    with harness.Exchange(binary, ["--account", f"{KEY}:{SECRET}", "--market", "replay",
                                   "--replay", path, "--speed", "max"]) as ex:
        ws = await connect(ex, "/v5/public/linear")
        try:
            await send(ws, {"op": "subscribe", "args": ["publicTrade.BTCUSDT"]})
            await recv_until(ws, is_reply("subscribe"), what="ack")
            seen = []
            while len(seen) < len(trades):
                message = await recv_until(ws, topic_is("publicTrade.BTCUSDT"),
                                           what="replayed trade")
                seen.extend((t["S"], Decimal(t["v"]), Decimal(t["p"])) for t in message["data"])
            check.equal(seen, [(s, Decimal(v), Decimal(p)) for s, v, p in trades],
                        "replay at --speed max yields the recorded trades in order")
        finally:
            await ws.close()
    check.equal(ex.returncode, 0, "replay instance: clean exit")


# ---------------------------------------------------------------- main
async def main_async(args):
    binary = args.exchange
    with tempfile.TemporaryDirectory() as directory:
        state_path = os.path.join(directory, "state.json")
        exchange = harness.Exchange(binary, ["--account", f"{KEY}:{SECRET}:100000",
                                             "--seed", "7", "--state-out", state_path])
        exchange.start()
        try:
            for test in (test_public_linear, test_public_spot, test_private_auth, test_order_life,
                         test_malformed_frames, test_pause_market_data, test_drop_connections):
                started = time.monotonic()
                try:
                    await test(exchange)
                except Exception as error:  # a failed wait is one failure, not the end
                    check(False, f"{test.__name__} raised", repr(error))
                print(f"{test.__name__}: {time.monotonic() - started:.2f} s", flush=True)
        finally:
            returncode, log = exchange.stop()
        check.equal(returncode, 0, "SIGTERM: clean exit")
        check(os.path.exists(state_path) and not os.path.exists(state_path + ".tmp"),
              "SIGTERM wrote --state-out (and no .tmp is left)")
        if os.path.exists(state_path):
            with open(state_path) as state_file:
                state = json.load(state_file)
            check(any(a.get("key") == KEY for a in state.get("accounts", [])),
                  "state-out holds the account")
        check(SECRET not in log, "the log never shows the secret")
        check("order.create" in log and "/v5/trade" in log, "trade ops are logged")
        for test in (test_idle_timeout, test_tls, test_replay):
            started = time.monotonic()
            try:
                await test(binary, directory)
            except Exception as error:
                check(False, f"{test.__name__} raised", repr(error))
            print(f"{test.__name__}: {time.monotonic() - started:.2f} s", flush=True)


def main():
    args = harness.parse_args()
    asyncio.run(main_async(args))
    return check.finish("exchange_ws_it")


if __name__ == "__main__":
    sys.exit(main())
