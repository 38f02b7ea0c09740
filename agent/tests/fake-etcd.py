#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A hostile stand-in for etcd's JSON gateway, for flakeid-agent's tests.

fake-etcd.py HOST PORT MODE SECONDS: serves on HOST:PORT (loopback only)
for at most SECONDS, answering every call the way MODE says.  Modes that
start "ok-" answer the claim and the first raise correctly and turn
hostile afterwards, so the agent has a ceiling to lose.
"""
import base64
import json
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

HOST, PORT, MODE, SECS = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
if not HOST.startswith("127.0.0."):
    sys.exit("fake-etcd: loopback only")

LEASE = "7587875838405455123"
HDR = {"cluster_id": "1", "member_id": "2", "revision": "5", "raft_term": "2"}
calls = {"raise": 0}


def b64(s):
    return base64.b64encode(s.encode()).decode()


def kv(key_b64, value, lease="0"):
    return {"key": key_b64, "create_revision": "3", "mod_revision": "4",
            "version": "1", "value": b64(value), "lease": lease}


def good(path, req):
    if path == "/v3/lease/grant":
        return {"header": HDR, "ID": LEASE, "TTL": "3"}
    if path == "/v3/lease/keepalive":
        return {"result": {"header": HDR, "ID": LEASE, "TTL": "3"}}
    if path == "/v3/lease/revoke":
        return {"header": HDR}
    if path == "/v3/kv/range":
        return {"header": HDR, "kvs": [kv(req.get("key", ""), str(int(time.time() * 1000)))], "count": "1"}
    if path == "/v3/kv/txn":
        if req["compare"][0]["target"] == "CREATE":
            return {"header": HDR, "succeeded": True,
                    "responses": [{"response_put": {"header": HDR}},
                                  {"response_range": {"header": HDR}}]}
        return {"header": HDR, "succeeded": True,
                "responses": [{"response_put": {"header": HDR}}]}
    return {"error": "not found", "code": 5, "message": "not found"}


def hostile(path, req):
    """bytes to send, or None for the good answer"""
    m = MODE
    if m == "truncated":
        return json.dumps(good(path, req)).encode()[:-7]
    if m == "types":
        if path == "/v3/lease/grant":
            return json.dumps({"ID": {"x": 1}, "TTL": [3]}).encode()
        return json.dumps({"succeeded": "yes", "responses": {"a": 1}, "kvs": "no",
                           "result": []}).encode()
    if m == "huge-id":
        if path == "/v3/lease/grant":
            return b'{"ID":"99999999999999999999999999","TTL":"3"}'
    if m in ("huge-hw", "negative-hw", "past-ktime-hw", "garbage-b64"):
        value = {"huge-hw": "99999999999999999999999", "negative-hw": "-5",
                 "past-ktime-hw": "9223372036855",
                 "garbage-b64": None}[m]
        if path == "/v3/kv/txn" and req["compare"][0]["target"] == "CREATE":
            item = kv(req["compare"][0]["key"], value or "0")
            if value is None:
                item["value"] = "!!not base64!!"
            return json.dumps({"header": HDR, "succeeded": True,
                               "responses": [{"response_put": {}},
                                             {"response_range": {"kvs": [item], "count": "1"}}]}).encode()
        if path == "/v3/kv/range":
            item = kv(req.get("key", ""), value or "0")
            if value is None:
                item["value"] = "@@@@"
            return json.dumps({"header": HDR, "kvs": [item], "count": "1"}).encode()
    if m == "big-body":
        return b'{"pad":"' + b"A" * (3 << 20) + b'"}'
    if m == "deep":
        return b"[" * 100000 + b"]" * 100000
    if m == "nul":
        return b'{"ID":"1\x002","TTL":"3"}\x00{"x":1}'
    if m == "bare-success":
        if path == "/v3/kv/txn" and req["compare"][0]["target"] == "LEASE":
            return b'{"succeeded":true}'
    if m == "ok-then-lost":
        if path == "/v3/lease/keepalive":
            return json.dumps({"result": {"header": HDR, "ID": LEASE}}).encode()
    if m == "stream-error":
        if path == "/v3/lease/keepalive":
            return json.dumps({"error": {"grpc_code": 14, "http_code": 503,
                                         "message": "etcdserver: no leader",
                                         "http_status": "Service Unavailable"}}).encode()
    if m == "ok-then-garbage":
        if path == "/v3/kv/txn" and req["compare"][0]["target"] == "LEASE":
            calls["raise"] += 1
            if calls["raise"] > 1:
                return b'{"succeeded":tru'
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(min(n, 1 << 16))
        try:
            req = json.loads(raw or b"{}")
        except ValueError:
            req = {}
        if MODE == "slow":
            time.sleep(5)
        code = 500 if MODE == "http-500" else 200
        body = hostile(self.path, req)
        if body is None:
            body = json.dumps(good(self.path, req)).encode()
        if MODE == "redirect":
            code = 307
        self.send_response(code)
        if MODE == "redirect":
            self.send_header("Location", "http://127.0.0.1:1/")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass


class Server(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server((HOST, PORT), Handler)
threading.Timer(SECS, srv.shutdown).start()
srv.serve_forever()
