#!/usr/bin/python3
"""Gateway conversation tests with a WebSocket client nobody here wrote: Debian's python3-websockets.

Starts `support-agent serve` on a free port (port 0, read back from its start-up line), mints tokens with
`support-agent token`, and checks a multi-turn conversation, resuming after a reconnect, and refusals for a
forged token, an expired token and another tenant's session id; and GET /metrics after a turn, read with
Debian's python3-prometheus-client parser (the reference implementation of the text format). Every wait has
a deadline.

usage: ws_python_test.py SUPPORT_AGENT_BINARY CASE
"""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import websockets
from prometheus_client.parser import text_string_to_metric_families

SECRET = "integration-test-secret-0123456789abcdef"  # >= 32 bytes, test only
DEADLINE = 30.0


class Server:
    def __init__(self, binary, tmp, extra_args=(), extra_env=None):
        env = dict(os.environ, SA_JWT_SECRET=SECRET, **(extra_env or {}))
        self.binary, self.env = binary, env
        self.proc = subprocess.Popen(
            [binary, "serve", "--set", "gateway.port=0", "--set", f"classifier.model_path={tmp}/intents.bin",
             "--set", f"node.log_file={tmp}/serve.log", *extra_args],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, text=True)
        self.port = None
        end = time.monotonic() + 120
        while time.monotonic() < end:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("server exited before listening")
            m = re.search(r"serving on http://[\d.]+:(\d+)/", line)
            if m:
                self.port = int(m.group(1))
                return
        raise RuntimeError("server did not start listening in time")

    def token(self, tenant, user, ttl=600):
        out = subprocess.run([self.binary, "token", "--tenant", tenant, "--user", user, "--ttl", str(ttl)],
                             env=self.env, capture_output=True, text=True, timeout=60, check=True)
        return out.stdout.strip()

    def url(self, token, session=None):
        q = f"?token={token}" + (f"&session={session}" if session else "")
        return f"ws://127.0.0.1:{self.port}/ws{q}"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_token(claims, secret):
    """A JWT made by hand with the standard library: the test's own, independent implementation."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64url(sig)}"


def claims(tenant, user, exp_offset):
    now = int(time.time())
    return {"tenant": tenant, "sub": user, "iss": "support-agent", "aud": "support-agent-gateway",
            "iat": now, "nbf": now - 5, "exp": now + exp_offset}


async def recv_json(ws):
    return json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))


async def expect_ready(ws):
    frame = await recv_json(ws)
    assert frame["type"] == "ready", frame
    return frame


async def ask(ws, text, mid):
    """Sends one message; returns (session frame or None, streamed text, final frame, escalated frame)."""
    await ws.send(json.dumps({"type": "message", "id": mid, "text": text}))
    session, streamed, final, escalated = None, "", None, None
    while final is None:
        frame = await recv_json(ws)
        if frame["type"] == "session":
            session = frame
        elif frame["type"] == "delta":
            assert frame["id"] == mid
            streamed += frame["text"]
        elif frame["type"] == "final":
            final = frame
        elif frame["type"] == "error":
            raise AssertionError(f"error frame: {frame}")
    if final.get("escalated"):
        escalated = await recv_json(ws)
        assert escalated["type"] == "escalated", escalated
    return session, streamed, final, escalated


async def expect_refusal(url, code):
    async with websockets.connect(url, open_timeout=DEADLINE) as ws:
        frame = await recv_json(ws)
        assert frame["type"] == "error" and frame["code"] == code, frame
        try:
            await asyncio.wait_for(ws.recv(), DEADLINE)
            raise AssertionError("connection stayed open")
        except websockets.ConnectionClosed as closed:
            assert closed.code == 1008, closed.code


async def multi_turn(server):
    async with websockets.connect(server.url(server.token("acme", "alice")), open_timeout=DEADLINE) as ws:
        await expect_ready(ws)
        session, streamed, final, _ = await ask(ws, "How do I add a custom domain?", "q1")
        assert session and session["resumed"] is False
        assert final["turn"] == 1 and streamed == final["text"], final
        assert any("custom-domains" in s["url"] for s in final["sources"]), final["sources"]
        _, streamed2, final2, _ = await ask(ws, "Why was I charged twice this month?", "q2")
        assert final2["turn"] == 2 and final2["intent"] == "billing" and "Acme Corporation" in final2["text"]
        _, _, final3, escalated = await ask(ws, "let me talk to a human", "q3")
        assert final3["escalated"] and escalated["reason"] == "user_requested", escalated


async def resume(server):
    token = server.token("acme", "bob")
    async with websockets.connect(server.url(token), open_timeout=DEADLINE) as ws:
        await expect_ready(ws)
        session, _, final, _ = await ask(ws, "How do I enable two factor authentication?", "r1")
        sid = session["session"]
        assert final["turn"] == 1
    async with websockets.connect(server.url(token, sid), open_timeout=DEADLINE) as ws:
        await expect_ready(ws)
        frame = await recv_json(ws)
        assert frame == {"type": "session", "session": sid, "resumed": True} or (
            frame["type"] == "session" and frame["session"] == sid and frame["resumed"]), frame
        _, _, final, _ = await ask(ws, "And how do I add a custom domain?", "r2")
        assert final["turn"] == 2, final


async def forged_token(server):
    await expect_refusal(server.url(hs256_token(claims("acme", "alice", 600), "not-the-server-secret-xxxxxxxxxxxx")),
                         "unauthorized")


async def expired_token(server):
    await expect_refusal(server.url(hs256_token(claims("acme", "alice", -600), SECRET)), "unauthorized")


async def foreign_session(server):
    async with websockets.connect(server.url(server.token("acme", "alice")), open_timeout=DEADLINE) as ws:
        await expect_ready(ws)
        session, _, _, _ = await ask(ws, "How do I add a custom domain?", "f1")
        sid = session["session"]
    async with websockets.connect(server.url(server.token("globex", "carol")), open_timeout=DEADLINE) as ws:
        await expect_ready(ws)
        await ws.send(json.dumps({"type": "resume", "session": sid}))
        frame = await recv_json(ws)
        assert frame["type"] == "error" and frame["code"] == "session_forbidden", frame


METRICS_TOKEN = "integration-metrics-token-0123456789"  # test only


def get_metrics(server, token=METRICS_TOKEN):
    """GET /metrics: (status, content type, body)."""
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}/metrics")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=DEADLINE) as res:
            return res.status, res.headers.get("Content-Type"), res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), ""


def scrape(server):
    """The exposition, parsed by prometheus_client: {(sample name, sorted labels): value}; every family typed
    and documented."""
    status, ctype, body = get_metrics(server)
    assert status == 200, status
    assert ctype == "text/plain; version=0.0.4; charset=utf-8", ctype
    samples = {}
    for family in text_string_to_metric_families(body):  # raises ValueError on a malformed line
        assert family.type != "unknown" and family.documentation, (family.name, family.type)
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples, body


def total(samples, name, **labels):
    return sum(v for (n, ls), v in samples.items() if n == name and all((k, v2) in ls for k, v2 in labels.items()))


async def metrics(server):
    message = "Hi, this is Dana Canary (dana.canary@example.com). How do I add a custom domain?"
    assert get_metrics(server, token=None)[0] == 401
    assert get_metrics(server, token="wrong-token")[0] == 401
    before, _ = scrape(server)
    async with websockets.connect(server.url(server.token("acme", "dana")), open_timeout=DEADLINE) as ws:
        await expect_ready(ws)
        _, _, final, _ = await ask(ws, message, "m1")
        await ws.send(json.dumps({"type": "feedback", "turn": final["turn"], "csat": 5, "comment": "Dana Canary"}))
        frame = await recv_json(ws)
        assert frame["type"] == "feedback_received", frame
        after, body = scrape(server)
    assert total(after, "sa_turns_total", tenant="acme") == total(before, "sa_turns_total", tenant="acme") + 1
    assert total(after, "sa_ttft_seconds_count") == total(before, "sa_ttft_seconds_count") + 1
    assert total(after, "sa_csat_ratings_total", tenant="acme", intent=final["intent"], score="5") == 1
    assert total(after, "sa_gateway_connections") == 1
    for pii in ("Dana", "dana", "Canary", "example.com", "custom domain"):
        assert pii not in body, pii
    labels = {v for (_, ls) in after for (k, v) in ls if k != "le"}
    assert all(re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", v) for v in labels), labels


CASES = {"multi_turn": multi_turn, "resume": resume, "forged_token": forged_token,
         "expired_token": expired_token, "foreign_session": foreign_session, "metrics": metrics}
# Cases whose server needs more than the defaults: (extra serve arguments, extra environment).
SERVER_EXTRAS = {"metrics": (["--set", "gateway.metrics_token_env=SA_TEST_METRICS_TOKEN"],
                             {"SA_TEST_METRICS_TOKEN": METRICS_TOKEN})}


def main():
    binary, case = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(binary, tmp, *SERVER_EXTRAS.get(case, ((), None)))
        try:
            asyncio.run(CASES[case](server))
        finally:
            server.stop()
    print(f"ok - {case}")


if __name__ == "__main__":
    main()
