#!/usr/bin/python3
"""Integration test of kinetic-exchange's REST API, driven as an outside Bybit client would
(stdlib only; shares no code with kinetic): the signature vectors of docs/bybit-v5.md §5
accepted and, with one byte changed, rejected; each retCode path; the rate limit and its
headers; an order's whole life; the reject, delay and clock_skew faults; /kinetic/state.

Run by ctest: exchange_rest_it.py --exchange PATH/kinetic-exchange --source-dir REPO
"""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import exchange_harness as h  # noqa: E402

KEY, SECRET = h.DOC_KEY, h.DOC_SECRET
OTHER_KEY, OTHER_SECRET = "second-key", "second-secret"
DOC_TS = h.DOC_TIMESTAMP

check = h.Check()


def skew_to_doc_time(ex):
    """Sets the server's clock to 1700000000000 + 200 ms now, so that the docs' vectors
    (timestamp 1700000000000, recvWindow 5000) are inside the window for ~4.8 s."""
    status, reply = ex.fault({"fault": "clock_skew", "ms": DOC_TS + 200 - h.now_ms()})
    assert status == 200 and reply == {"ok": True}, (status, reply)


def vector(ex, method, path, payload, signature, recv_window=5000):
    """A request signed at the docs' timestamp with the docs' signature (not recomputed)."""
    if method == "GET":
        return ex.rest("GET", path, params=payload, key=KEY, recv_window=recv_window, ts=DOC_TS,
                       sign_with=signature)
    return ex.rest("POST", path, body=payload, key=KEY, recv_window=recv_window, ts=DOC_TS,
                   sign_with=signature)


def signed(ex, method, path, payload="", key=KEY, secret=SECRET, ts=None, **kw):
    """A correctly signed request at the server's current time (which may be skewed)."""
    if ts is None:
        ts = ex.server_time_ms()
    if method == "GET":
        return ex.rest("GET", path, params=payload, key=key, secret=secret, ts=ts, **kw)
    return ex.rest("POST", path, body=payload, key=key, secret=secret, ts=ts, **kw)


def test_public(ex):
    status, headers, reply = ex.rest("GET", "/v5/market/time")
    check.equal(status, 200, "market/time HTTP status")
    check.equal(list(reply.keys()), ["retCode", "retMsg", "result", "retExtInfo", "time"],
                "envelope keys in Bybit's order")
    check.equal(reply["retCode"], 0, "market/time retCode")
    check.equal(reply["result"]["timeSecond"], str(reply["time"] // 1000), "timeSecond")
    check.equal(reply["result"]["timeNano"], str(reply["time"] * 1000000), "timeNano")
    check("timenow" in headers and "traceid" in headers, "Timenow and Traceid headers", headers)

    _, _, reply = ex.rest("GET", "/v5/market/instruments-info", params="category=linear&symbol=BTCUSDT")
    item = reply["result"]["list"][0]
    check.equal(item["priceFilter"]["tickSize"], "0.10", "BTCUSDT tickSize")
    check.equal(item["lotSizeFilter"]["qtyStep"], "0.001", "BTCUSDT qtyStep")
    check.equal(item["leverageFilter"]["maxLeverage"], "100.00", "BTCUSDT maxLeverage")
    _, _, reply = ex.rest("GET", "/v5/market/instruments-info")
    check.equal((reply["retCode"], reply["retMsg"]), (10001, "Illegal category"),
                "instruments-info without category")

    # The market needs a moment to build its books after start-up.
    deadline = time.monotonic() + 10
    while True:
        _, _, reply = ex.rest("GET", "/v5/market/orderbook", params="category=linear&symbol=BTCUSDT&limit=5")
        book = reply["result"]
        if (book.get("b") and book.get("a")) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    check.equal(reply["retCode"], 0, "orderbook retCode")
    check.equal(sorted(book.keys()), sorted(["s", "b", "a", "ts", "u", "seq", "cts"]), "orderbook keys")
    check(0 < len(book["b"]) <= 5 and 0 < len(book["a"]) <= 5, "orderbook limit=5", book)
    if book["b"] and book["a"]:
        check(float(book["b"][0][0]) < float(book["a"][0][0]), "orderbook not crossed", book)
        check(all(isinstance(x, str) for level in book["b"] + book["a"] for x in level),
              "orderbook levels are strings")

    _, _, reply = ex.rest("GET", "/v5/market/kline", params="category=linear&symbol=BTCUSDT&interval=1")
    check.equal(reply["retCode"], 0, "kline retCode")
    rows = reply["result"]["list"]
    check(all(len(r) == 7 and all(isinstance(x, str) for x in r) for r in rows), "kline rows: 7 strings", rows[:2])
    check([int(r[0]) for r in rows] == sorted((int(r[0]) for r in rows), reverse=True), "kline newest first")
    _, _, reply = ex.rest("GET", "/v5/market/kline", params="category=linear&symbol=BTCUSDT&interval=2")
    check.equal((reply["retCode"], reply["retMsg"]), (10001, "Invalid period!"), "kline bad interval")

    status, _, reply = ex.rest("GET", "/v5/nothing/here")
    check.equal((status, reply["retCode"], reply["retMsg"]), (404, 10017, "route not found"), "unknown path")


def test_vectors(ex):
    skew_to_doc_time(ex)
    status, headers, reply = vector(ex, "GET", "/v5/position/list", "category=linear&symbol=BTCUSDT",
                                    "ba7b211e54464150576ad90420166fd7cdad08f425a5339596ff85994a4001ef")
    check.equal((status, reply["retCode"]), (200, 0), "vector GET position/list accepted")
    check.equal(headers.get("x-bapi-limit"), "50", "X-Bapi-Limit of position/list")
    check(headers.get("x-bapi-limit-status") is not None and headers.get("x-bapi-limit-reset-timestamp") is not None,
          "X-Bapi-Limit-Status and -Reset-Timestamp present", headers)
    _, _, reply = vector(ex, "GET", "/v5/position/list", "symbol=BTCUSDT&category=linear",
                         "3885f5bf9bff1954372401fe03738ee8cb356c70c036d284ea4d1c3d9587c9f3")
    check.equal(reply["retCode"], 0, "vector GET other parameter order accepted")
    _, _, reply = vector(ex, "GET", "/v5/account/wallet-balance", "accountType=UNIFIED&coin=USDT",
                         "a395c3a2e167c11ffd8aeff94c32e1b5608e0f3784b3971f4b5c1c35c91031a7")
    check.equal(reply["retCode"], 0, "vector GET wallet-balance accepted")
    _, _, reply = vector(ex, "GET", "/v5/position/list", "",
                         "e7f0eb5ce98da68966557bfa93ba6c5dcbfadffa3b814b321534daa4562a73d6")
    check.equal((reply["retCode"], reply["retMsg"]), (10001, "Illegal category"),
                "vector GET empty query: signature accepted, then a parameter error")
    _, _, reply = vector(ex, "GET", "/v5/position/list", "category=linear&symbol=BTCUSDT",
                         "6a4a927512adbf0d5ea81b95087ec2bb4a38c20820beabc32bfabcf6334a2046", recv_window=20000)
    check.equal(reply["retCode"], 0, "vector GET recvWindow 20000 accepted")

    skew_to_doc_time(ex)
    compact = ('{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001",'
               '"price":"30000","timeInForce":"GTC","orderLinkId":"test-0001"}')
    _, _, reply = vector(ex, "POST", "/v5/order/create", compact,
                         "90e37d5df4e00108ed91c6e73fe4158bd1d5e7b625e98d97e03057cce631040c")
    check(reply["retCode"] not in (10002, 10003, 10004), "vector POST compact body accepted", reply)
    first_code = reply["retCode"]
    spaced = ('{"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001", '
              '"price": "30000", "timeInForce": "GTC", "orderLinkId": "test-0001"}')
    _, _, reply = vector(ex, "POST", "/v5/order/create", spaced,
                         "cf96fa202608da0f04005e9c69f7c258af50b324b35924c3c648a67d1583ea3b")
    check.equal(reply["retCode"], 110072 if first_code == 0 else first_code,
                "vector POST pybit spacing accepted (then a duplicate orderLinkId)")
    _, _, reply = vector(ex, "POST", "/v5/order/cancel-all", '{"category":"linear","settleCoin":"USDT"}',
                         "34345dc2b41e775fce85a1ee205d855cc5ad94b2cc20b69eb02299e3256ff9d3")
    check.equal((reply["retCode"], reply["result"].get("success")), (0, "1"), "vector POST cancel-all accepted")
    _, _, reply = vector(ex, "POST", "/v5/position/set-leverage",
                         '{"category":"linear","symbol":"BTCUSDT","buyLeverage":"10","sellLeverage":"10"}',
                         "566a1bd048cfa78b7b002647ac055fffbb6ff97c783fe9f216824f7f9590a0b3")
    check.equal((reply["retCode"], reply["retMsg"]), (110043, "Set leverage has not been modified."),
                "vector POST set-leverage accepted (110043: unchanged)")
    _, _, reply = vector(ex, "POST", "/v5/order/create",
                         '{"category":"linear","symbol":"BTCUSDT","side":"Sell","orderType":"Market","qty":"0.001",'
                         '"reduceOnly":true,"positionIdx":0}',
                         "ed754350bafbfbd8cb44468a1e5d38799731bf1856b434a25409226eef637512")
    check.equal(reply["retCode"], 110017, "vector POST reduce-only accepted (110017: nothing to reduce)")

    # One byte changed: in the signature, in the query, in the body.
    skew_to_doc_time(ex)
    _, _, reply = vector(ex, "GET", "/v5/position/list", "category=linear&symbol=BTCUSDT",
                         "ba7b211e54464150576ad90420166fd7cdad08f425a5339596ff85994a4001ee")
    check.equal(reply["retCode"], 10004, "signature with one byte changed: 10004")
    check.equal(reply["retMsg"], "error sign! origin_string[1700000000000qTd7Yc3Lx9PwB2mNa15000"
                                 "category=linear&symbol=BTCUSDT]", "10004 message echoes the origin string")
    _, _, reply = vector(ex, "GET", "/v5/position/list", "category=linear&symbol=BTCUSDU",
                         "ba7b211e54464150576ad90420166fd7cdad08f425a5339596ff85994a4001ef")
    check.equal(reply["retCode"], 10004, "query with one byte changed: 10004")
    _, _, reply = vector(ex, "POST", "/v5/order/cancel-all", '{"category":"linear","settleCoin":"USDC"}',
                         "34345dc2b41e775fce85a1ee205d855cc5ad94b2cc20b69eb02299e3256ff9d3")
    check.equal(reply["retCode"], 10004, "body with one byte changed: 10004")
    # Same vector once the server's clock is the real one: outside the window.
    ex.fault({"fault": "clock_skew", "ms": 0})
    _, _, reply = vector(ex, "GET", "/v5/position/list", "category=linear&symbol=BTCUSDT",
                         "ba7b211e54464150576ad90420166fd7cdad08f425a5339596ff85994a4001ef")
    check.equal(reply["retCode"], 10002, "docs vector at the real time: 10002")
    check(re.fullmatch(r"invalid request, please check your server timestamp or recv_window param\. "
                       r"req_timestamp\[1700000000000\],server_timestamp\[\d+\],recv_window\[5000\]",
                       reply["retMsg"]) is not None, "10002 message in Bybit's format", reply["retMsg"])


def test_ret_codes(ex):
    query = "category=linear&symbol=BTCUSDT"
    _, _, reply = signed(ex, "GET", "/v5/position/list", query, key="unknown-key", secret="x")
    check.equal((reply["retCode"], reply["retMsg"]), (10003, "API key is invalid."), "unknown key: 10003")
    status, _, reply = ex.rest("GET", "/v5/position/list", params=query)
    check.equal((status, reply["retCode"]), (401, 10003), "no auth headers: HTTP 401, 10003")
    _, _, reply = signed(ex, "GET", "/v5/position/list", query, secret="wrong-secret")
    check.equal(reply["retCode"], 10004, "wrong secret: 10004")
    now = ex.server_time_ms()
    _, _, reply = signed(ex, "GET", "/v5/position/list", query, ts=now - 10000)
    check.equal(reply["retCode"], 10002, "timestamp 10 s old: 10002")
    _, _, reply = signed(ex, "GET", "/v5/position/list", query, ts=now + 5000)
    check.equal(reply["retCode"], 10002, "timestamp 5 s ahead: 10002")
    _, _, reply = signed(ex, "GET", "/v5/position/list", query, ts=now - 10000, recv_window=20000)
    check.equal(reply["retCode"], 0, "timestamp 10 s old with recvWindow 20000: accepted")
    _, _, reply = signed(ex, "POST", "/v5/order/create",
                         '{"category":"linear","symbol":"BTCUSDT","side":"Up","orderType":"Market","qty":"0.001"}')
    check.equal((reply["retCode"], reply["retMsg"]), (10001, "params error: side invalid"), "bad side: 10001")
    _, _, reply = signed(ex, "POST", "/v5/order/create",
                         '{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"lots"}')
    check.equal(reply["retCode"], 10001, "qty not a number: 10001")
    _, _, reply = signed(ex, "POST", "/v5/order/create",
                         '{"symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.001"}')
    check.equal((reply["retCode"], reply["retMsg"]), (10001, "Illegal category"), "missing category: 10001")
    _, _, reply = signed(ex, "POST", "/v5/order/create",
                         '{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.001",'
                         '"orderLinkId":"' + "x" * 37 + '"}')
    check.equal(reply["retCode"], 10001, "orderLinkId of 37 characters: 10001")
    _, _, reply = signed(ex, "GET", "/v5/account/wallet-balance", "accountType=SPOT")
    check.equal(reply["retCode"], 10001, "wallet-balance accountType SPOT: 10001")
    _, _, reply = signed(ex, "POST", "/v5/order/cancel",
                         '{"category":"linear","symbol":"BTCUSDT","orderLinkId":"never-placed"}')
    check.equal((reply["retCode"], reply["retMsg"]), (110001, "Order does not exist."), "cancel unknown: 110001")
    # 110007: the second account holds 500 USDT; 1 BTC at 10x needs thousands of margin.
    _, _, reply = signed(ex, "POST", "/v5/order/create",
                         '{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"1"}',
                         key=OTHER_KEY, secret=OTHER_SECRET)
    check.equal(reply["retCode"], 110007, "order beyond the balance: 110007")


def test_rate_limit(ex, skew):
    """Returns the clock skew it leaves (ahead of the real clock: moving the clock back would
    leave the requests made at the later times counted in the window)."""
    body = '{"category":"linear","symbol":"BTCUSDT","side":"Up"}'
    # Earlier tests made requests in this second: start in a fresh window 5 s ahead.
    skew += 5000
    ex.fault({"fault": "clock_skew", "ms": skew})
    ts = ex.server_time_ms()
    statuses = []
    for i in range(10):
        _, headers, reply = signed(ex, "POST", "/v5/order/create", body, ts=ts)
        statuses.append((reply["retCode"], headers.get("x-bapi-limit"), headers.get("x-bapi-limit-status")))
    check.equal(statuses, [(10001, "10", str(9 - i)) for i in range(10)],
                "ten creates: X-Bapi-Limit 10, X-Bapi-Limit-Status 9..0")
    _, headers, reply = signed(ex, "POST", "/v5/order/create", body, ts=ts)
    check.equal((reply["retCode"], reply["retMsg"]), (10006, "Too many visits!"), "eleventh create: 10006")
    check.equal(headers.get("x-bapi-limit-status"), "0", "10006: X-Bapi-Limit-Status 0")
    reset = int(headers.get("x-bapi-limit-reset-timestamp", "0"))
    now = int(headers.get("timenow", "0"))
    check(now < reset <= now + 1000, "10006: reset timestamp within the next second", (now, reset))
    # Another endpoint of the same key is not limited.
    _, headers, reply = signed(ex, "GET", "/v5/order/realtime", "category=linear&symbol=BTCUSDT")
    check.equal((reply["retCode"], headers.get("x-bapi-limit")), (0, "50"), "realtime still allowed, limit 50")
    # Move the server's clock 2 s ahead instead of sleeping: the window is free again.
    skew += 2000
    ex.fault({"fault": "clock_skew", "ms": skew})
    _, headers, reply = signed(ex, "POST", "/v5/order/create", body)
    check.equal((reply["retCode"], headers.get("x-bapi-limit-status")), (10001, "9"),
                "after the window: allowed again, X-Bapi-Limit-Status 9")
    return skew


def test_order_life(ex):
    _, _, reply = ex.rest("GET", "/v5/market/orderbook", params="category=linear&symbol=BTCUSDT&limit=1")
    best_bid = float(reply["result"]["b"][0][0])
    price = "%.2f" % (round((best_bid - 1000) * 10) / 10)
    _, _, reply = signed(ex, "POST", "/v5/order/create", json.dumps(
        {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.010",
         "price": price, "timeInForce": "GTC", "orderLinkId": "it-life-1"}))
    check.equal(reply["retCode"], 0, "limit create accepted", reply)
    order_id = reply["result"].get("orderId", "")
    check.equal(reply["result"].get("orderLinkId"), "it-life-1", "ack echoes orderLinkId")
    _, _, reply = signed(ex, "POST", "/v5/order/create", json.dumps(
        {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.010",
         "price": price, "orderLinkId": "it-life-1"}))
    check.equal(reply["retCode"], 110072, "duplicate orderLinkId: 110072")
    _, _, reply = signed(ex, "GET", "/v5/order/realtime", "category=linear&symbol=BTCUSDT&orderLinkId=it-life-1")
    orders = reply["result"]["list"]
    check(len(orders) == 1 and orders[0]["orderId"] == order_id and orders[0]["orderStatus"] == "New"
          and orders[0]["price"] == price and orders[0]["leavesQty"] == "0.010",
          "realtime shows the resting order", orders)
    _, _, reply = signed(ex, "POST", "/v5/order/cancel", json.dumps(
        {"category": "linear", "symbol": "BTCUSDT", "orderId": order_id}))
    check.equal((reply["retCode"], reply["result"].get("orderId")), (0, order_id), "cancel accepted")
    _, _, reply = signed(ex, "GET", "/v5/order/realtime", "category=linear&symbol=BTCUSDT&orderId=" + order_id)
    check(reply["result"]["list"] and reply["result"]["list"][0]["orderStatus"] == "Cancelled",
          "realtime by orderId shows Cancelled", reply["result"])

    _, _, reply = signed(ex, "POST", "/v5/order/create", json.dumps(
        {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.002",
         "orderLinkId": "it-life-2"}))
    check.equal(reply["retCode"], 0, "market create accepted", reply)
    _, _, reply = signed(ex, "GET", "/v5/execution/list", "category=linear&symbol=BTCUSDT&orderLinkId=it-life-2")
    fills = reply["result"]["list"]
    filled = sum(float(f["execQty"]) for f in fills)
    check(abs(filled - 0.002) < 1e-9, "executions add up to the market order's qty", fills)
    check(all(f["isMaker"] is False and f["feeRate"] == "0.00055" and f["execType"] == "Trade" for f in fills),
          "market fills are taker fills at 0.055%", fills)
    fees = sum(float(f["execFee"]) for f in fills)
    _, _, reply = signed(ex, "GET", "/v5/position/list", "category=linear&symbol=BTCUSDT")
    position = reply["result"]["list"][0]
    check.equal((position["side"], position["size"]), ("Buy", "0.002"), "position after the market buy")
    check("avgPrice" in position and "entryPrice" not in position, "REST position has avgPrice")
    _, _, reply = signed(ex, "GET", "/v5/account/wallet-balance", "accountType=UNIFIED")
    wallet = reply["result"]["list"][0]
    check(abs(float(wallet["totalWalletBalance"]) - (10000 - fees)) < 1e-6,
          "wallet balance = 10000 - fees", (wallet["totalWalletBalance"], fees))
    check.equal(wallet["coin"][0]["coin"], "USDT", "wallet coin USDT")

    state = ex.get_state()
    account = [a for a in state["accounts"] if a["key"] == KEY]
    check(len(account) == 1, "state lists the account by key")
    if account:
        links = {o["orderLinkId"]: o["orderStatus"] for o in account[0]["orders"]}
        check.equal((links.get("it-life-1"), links.get("it-life-2")), ("Cancelled", "Filled"),
                    "state holds both orders with their final status")
        check(any(e["orderLinkId"] == "it-life-2" for e in account[0]["executions"]), "state holds the executions")
        check(any(p["symbol"] == "BTCUSDT" and p["size"] == "0.002" for p in account[0]["positions"]),
              "state holds the position")
    check(SECRET not in json.dumps(state) and OTHER_SECRET not in json.dumps(state), "state holds no secret")


def test_faults(ex, skew):
    body = '{"category":"linear","symbol":"BTCUSDT","side":"Up"}'
    status, reply = ex.fault({"fault": "reject", "path": "/v5/order/create", "retCode": 10016, "count": 2})
    check.equal((status, reply), (200, {"ok": True}), "reject fault accepted")
    codes = [signed(ex, "POST", "/v5/order/create", body)[2]["retCode"] for _ in range(3)]
    check.equal(codes, [10016, 10016, 10001], "reject fault: two rejects, then normal")
    state = ex.get_state()
    check.equal(state["faults"]["rejects"], [], "state: the used-up reject is gone")

    ex.fault({"fault": "delay", "path": "/v5/market/time", "ms": 300})
    started = time.monotonic()
    ex.rest("GET", "/v5/market/time")
    elapsed = time.monotonic() - started
    check(elapsed >= 0.29, "delay fault: the answer waits 300 ms", elapsed)
    ex.fault({"fault": "delay", "path": "/v5/market/time", "ms": 0})

    ex.fault({"fault": "clock_skew", "ms": 5000})
    server = ex.server_time_ms()
    check(4000 <= server - h.now_ms() <= 5500, "clock_skew 5000: the server runs 5 s ahead", server - h.now_ms())
    ex.fault({"fault": "clock_skew", "ms": skew})

    status, reply = ex.fault({"fault": "earthquake"})
    check(status == 400 and reply and reply.get("ok") is False and "earthquake" in reply.get("error", ""),
          "unknown fault: HTTP 400 with the reason", (status, reply))
    status, _, _ = ex.raw("POST", "/kinetic/fault", "not json", {"Content-Type": "application/json"})
    check.equal(status, 400, "fault that is not JSON: HTTP 400")


def main():
    args = h.parse_args()
    # Start with the clock skewed to the docs' time (the --fault flag); the test re-arms it
    # through the endpoint before each group of vectors, as start-up takes a moment.
    startup_skew = DOC_TS + 1000 - h.now_ms()
    exchange = h.Exchange(args.exchange, [
        "--account", f"{KEY}:{SECRET}",
        "--account", f"{OTHER_KEY}:{OTHER_SECRET}:500",
        "--fault", json.dumps({"fault": "clock_skew", "ms": startup_skew}),
    ])
    with exchange as ex:
        server = ex.server_time_ms()
        check(DOC_TS <= server < DOC_TS + 60000, "start-up clock_skew flag: server time near 1700000000000", server)
        test_vectors(ex)
        ex.fault({"fault": "clock_skew", "ms": 0})
        test_public(ex)
        test_ret_codes(ex)
        skew = test_rate_limit(ex, 0)
        test_order_life(ex)
        test_faults(ex, skew)
    rc, log = exchange.returncode, exchange.log
    check.equal(rc, 0, "SIGTERM: exit status 0")
    check("rest GET /v5/position/list key=" + KEY in log, "log: method, path and key", log[-2000:])
    check("retCode=10004" in log and "retCode=10006" in log, "log: outcomes")
    check(SECRET not in log and OTHER_SECRET not in log, "log holds no secret")
    check("ba7b211e54464150576ad90420166fd7cdad08f425a5339596ff85994a4001ef" not in log, "log holds no signature")
    return check.finish("exchange_rest_it")


if __name__ == "__main__":
    sys.exit(main())
