#!/usr/bin/python3
"""Soak test: a node under steady conversation traffic while its providers fail and its Redis restarts.

    bench/soak.py [--minutes 6] [--sessions 1000] [--think-s 10] [--build build] [--json FILE]

Starts, on 127.0.0.1: a redis-server (append-only file, so a restart keeps what it acknowledged), the
fake-provider, and `support-agent serve` with Redis memory and an LLM generator behind a fallback chain
(openai -> anthropic -> local). Then --sessions WebSocket conversations each send a question, wait for its
answer and think for a random while (mean --think-s), for --minutes. Meanwhile provider faults are switched
at random every --fault-switch-s (errors, resets, a provider hard down, none) and Redis is restarted every
--redis-restart-s. A dropped connection reconnects, resumes its session and resends what was unanswered,
with the same message id (the protocol answers each id once).

Reports: resident memory of the server over time (slope after warm-up), actor restarts (from /metrics),
lost messages (sent, never answered), duplicated or skipped turns (each session's turn numbers must go
1, 2, 3, ... with one answer per message id), error frames by code, and latency drift (first vs last
quarter after warm-up). Targets (issue #9): flat resident memory after warm-up, zero lost or duplicated
turns. Exit status 1 when a target is missed.

Not part of `make test` (it runs for minutes); `make soak` runs it with its defaults.
"""
import argparse
import asyncio
import json
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
USERS = [("acme", "alice"), ("acme", "bob"), ("globex", "carol")]
QUESTIONS = [
    "How do I add a custom domain to my documentation?",
    "Why did my build fail with a timeout?",
    "How do I enable two factor authentication?",
    "What plan am I on and when does it renew?",
    "How can I change the default branch that is built?",
    "Can I get a copy of my last invoice?",
    "How do I add a team member to my organization?",
    "What does the build environment have installed?",
]
FAULTS = [
    ("none", []),
    ("openai 30% 500", [{"provider": "openai", "fault": "status", "status": 500, "probability": 0.3}]),
    ("anthropic 30% 529", [{"provider": "anthropic", "fault": "status", "status": 529, "probability": 0.3}]),
    ("openai resets mid-stream 30%", [{"provider": "openai", "fault": "reset", "after_tokens": 3, "probability": 0.3}]),
    ("openai 429 retry-after", [{"provider": "openai", "fault": "status", "status": 429, "retry_after_s": 1,
                                 "probability": 0.5}]),
    ("openai hard down", [{"provider": "openai", "fault": "status", "status": 503, "probability": 1.0}]),
    ("both flaky", [{"provider": "openai", "fault": "status", "status": 500, "probability": 0.3},
                    {"provider": "anthropic", "fault": "bad_json", "probability": 0.3}]),
]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, deadline_s, proc=None, what="process"):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {deadline_s} s")


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def slope_per_min(points):
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    den = sum((p[0] - mx) ** 2 for p in points)
    return 0.0 if den == 0 else 60.0 * sum((p[0] - mx) * (p[1] - my) for p in points) / den


def percentile(values, q):
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


class Redis:
    """A private redis-server with an append-only file; restart() stops it (SIGTERM flushes the AOF) and starts
    it again on the same port and directory."""

    def __init__(self, tmp):
        self.port, self.dir, self.proc, self.restarts = free_port(), tmp, None, 0
        self.start()

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "yes", "--appendfsync", "everysec", "--dir", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, 20, self.proc, "redis-server")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)

    async def restart(self, down_s):
        await asyncio.get_running_loop().run_in_executor(None, self.stop)
        await asyncio.sleep(down_s)
        await asyncio.get_running_loop().run_in_executor(None, self.start)
        self.restarts += 1


class Stats:
    def __init__(self):
        self.sent = 0           # distinct message ids sent
        self.answered = 0       # message ids with a final
        self.failed = {}        # error code -> message ids answered with an error frame
        self.duplicated = 0     # a second final for one id, or a turn number seen twice in a session
        self.skipped = 0        # a turn number gap in a session (a stored turn went missing)
        self.resent = 0         # messages sent again after a reconnect
        self.reconnects = 0
        self.resets = 0         # answers restarted on another provider mid-stream
        self.escalated = 0
        self.lost = 0           # sent, never answered (counted at the end)
        self.samples = []       # (t, ttft_s, full_s)


async def conversation(index, url_for, stats, stop_at, think_s, rng, turn_deadline_s):
    tenant, user, token = url_for[index % len(url_for)]
    session, next_turn, n = None, 1, 0
    pending = None  # (id, text, sent_at) not yet answered
    seen_finals = set()
    await asyncio.sleep(rng.uniform(0, think_s))  # spread the start
    while time.monotonic() < stop_at or pending:
        url = f"ws://{token['host']}/ws?token={token['token']}" + (f"&session={session}" if session else "")
        try:
            async with websockets.connect(url, max_size=1 << 20, open_timeout=30, ping_interval=None) as ws:
                while True:
                    if pending is None:
                        if time.monotonic() >= stop_at:
                            return
                        n += 1
                        pending = (f"c{index}-m{n}", rng.choice(QUESTIONS), None)
                        stats.sent += 1
                    elif pending[2] is not None:
                        stats.resent += 1
                    mid, text, _ = pending
                    sent_at = time.monotonic()
                    pending = (mid, text, sent_at)
                    await ws.send(json.dumps({"type": "message", "id": mid, "text": text}))
                    first = None
                    while True:
                        raw = await asyncio.wait_for(ws.recv(), timeout=turn_deadline_s)
                        f = json.loads(raw)
                        kind = f.get("type")
                        if kind == "session":
                            session = f["session"]
                        elif kind == "delta" and f.get("id") == mid and first is None:
                            first = time.monotonic()
                        elif kind == "reset" and f.get("id") == mid:
                            stats.resets += 1
                        elif kind == "final" and f.get("id") == mid:
                            done = time.monotonic()
                            if mid in seen_finals:
                                stats.duplicated += 1
                            seen_finals.add(mid)
                            turn = f.get("turn", 0)
                            if turn < next_turn:
                                stats.duplicated += 1
                            elif turn > next_turn:
                                stats.skipped += turn - next_turn
                            next_turn = max(next_turn, turn + 1)
                            stats.answered += 1
                            stats.escalated += 1 if f.get("escalated") else 0
                            stats.samples.append((done, (first or done) - sent_at, done - sent_at))
                            pending = None
                            break
                        elif kind == "error" and f.get("id") == mid:
                            code = f.get("code", "?")
                            stats.failed[code] = stats.failed.get(code, 0) + 1
                            pending = None
                            break
                    await asyncio.sleep(rng.expovariate(1.0 / think_s))
        except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException):
            stats.reconnects += 1
            await asyncio.sleep(rng.uniform(0.2, 1.0))
            if pending and time.monotonic() > stop_at + 120:
                stats.lost += 1  # gave up on it long after the run ended
                return


async def chaos(args, fake_port, redis, stop_at, rng, log):
    next_fault = time.monotonic() + args.fault_switch_s
    next_redis = time.monotonic() + args.redis_restart_s
    switches = 0
    while time.monotonic() < stop_at:
        await asyncio.sleep(0.5)
        now = time.monotonic()
        if now >= next_fault:
            name, rules = rng.choice(FAULTS)
            await asyncio.get_running_loop().run_in_executor(None, set_faults, fake_port, rules)
            switches += 1
            log(f"faults: {name}")
            next_fault = now + args.fault_switch_s
        if args.redis_restart_s > 0 and now >= next_redis:
            log("redis: restarting")
            await redis.restart(rng.uniform(0.5, 3.0))
            log("redis: back")
            next_redis = time.monotonic() + args.redis_restart_s
    await asyncio.get_running_loop().run_in_executor(None, set_faults, fake_port, [])
    return switches


def set_faults(port, rules):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/admin/faults", method="DELETE")
    urllib.request.urlopen(req, timeout=10).read()
    for r in rules:
        req = urllib.request.Request(f"http://127.0.0.1:{port}/admin/faults", data=json.dumps(r).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()


def metric_sum(text, name):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def sample_rss(pid, stop_at, points, start, interval_s):
    while time.monotonic() < stop_at:
        points.append((time.monotonic() - start, rss_kb(pid)))
        await asyncio.sleep(interval_s)
    points.append((time.monotonic() - start, rss_kb(pid)))


async def run(args, server_port, fake_port, redis, server_pid, tokens, log):
    rng = random.Random(args.seed)
    start = time.monotonic()
    stop_at = start + args.minutes * 60
    stats = Stats()
    rss = []
    url_for = [(t, u, {"host": f"127.0.0.1:{server_port}", "token": tokens[(t, u)]}) for t, u in USERS]
    tasks = [asyncio.create_task(conversation(i, url_for, stats, stop_at, args.think_s, random.Random(rng.random()),
                                              args.turn_deadline_s)) for i in range(args.sessions)]
    sampler = asyncio.create_task(sample_rss(server_pid, stop_at, rss, start, 5.0))
    chaos_task = asyncio.create_task(chaos(args, fake_port, redis, stop_at, rng, log))

    async def progress():
        while time.monotonic() < stop_at:
            await asyncio.sleep(30)
            log(f"{time.monotonic() - start:6.0f} s: sent {stats.sent}, answered {stats.answered}, "
                f"errors {sum(stats.failed.values())}, reconnects {stats.reconnects}, rss {rss_kb(server_pid)} kB")

    prog = asyncio.create_task(progress())
    await asyncio.gather(*tasks)
    switches = await chaos_task
    await sampler
    prog.cancel()
    return stats, rss, switches, start


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=6)
    p.add_argument("--sessions", type=int, default=1000)
    p.add_argument("--think-s", type=float, default=10.0, help="mean pause between a conversation's messages")
    p.add_argument("--warmup-s", type=float, default=180.0,
                   help="memory grows until every conversation has filled its memory.max_turns window")
    p.add_argument("--fault-switch-s", type=float, default=20.0)
    p.add_argument("--redis-restart-s", type=float, default=60.0, help="0: never")
    p.add_argument("--turn-deadline-s", type=float, default=30.0)
    p.add_argument("--rss-slope-max-kb-per-min", type=float, default=512.0,
                   help="the 'flat memory' target: resident memory growth after warm-up")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--build", default=os.path.join(REPO, "build"))
    p.add_argument("--json", help="append the result as a JSON line to this file")
    args = p.parse_args()
    for opt in ("minutes", "sessions", "think_s", "fault_switch_s", "turn_deadline_s"):
        if getattr(args, opt) <= 0:
            p.error(f"--{opt.replace('_', '-')} must be positive")
    server_bin = os.path.join(args.build, "actors", "support-agent")
    fake_bin = os.path.join(args.build, "actors", "providers", "fake", "fake-provider")
    for b in (server_bin, fake_bin):
        if not os.access(b, os.X_OK):
            p.error(f"{b} is not built (build first: make build, or --build DIR)")

    def log(line):
        print(f"soak: {line}", file=sys.stderr, flush=True)

    procs = []
    with tempfile.TemporaryDirectory(prefix="sa-soak-") as tmp:
        try:
            redis = Redis(tmp)
            fake_port = free_port()
            fake = subprocess.Popen([fake_bin, "--port", str(fake_port), "--ttft-ms", "30", "--tokens-per-s", "400",
                                     "--seed", str(args.seed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(fake)
            wait_port(fake_port, 20, fake, "fake-provider")
            endpoint = {"base_url": f"http://127.0.0.1:{fake_port}", "api_key_env": "SOAK_FAKE_KEY",
                        "connect_timeout_ms": 1000, "first_byte_timeout_ms": 3000, "idle_timeout_ms": 3000,
                        "max_retries": 1, "backoff_initial_ms": 50, "backoff_max_ms": 500,
                        "breaker_open_ms": 3000}
            config = {
                "memory": {"backend": "redis", "redis_address": f"127.0.0.1:{redis.port}"},
                "generator": {"backend": "llm"},
                "classifier": {"model_path": os.path.join(tmp, "intents.bin")},
                "node": {"state_dir": os.path.join(tmp, "state")},
                "gateway": {"port": free_port(), "messages_per_second": 100, "message_burst": 100,
                            "tenant_messages_per_second": 1000000, "tenant_message_burst": 1000000,
                            "max_connections": args.sessions + 100,
                            "max_connections_per_user": 0},  # three users hold every session's connection
                "providers": {
                    "root": "chain",
                    "endpoints": {"openai": dict(endpoint, kind="openai", model="gpt-4o-mini"),
                                  "anthropic": dict(endpoint, kind="anthropic", model="claude-3-5-haiku-latest")},
                    "strategies": {"chain": {"kind": "fallback", "members": ["openai", "anthropic", "local"]}},
                    "prices": {"gpt-4o-mini": {"input_per_mtok": 0.15, "output_per_mtok": 0.60},
                               "claude-3-5-haiku-latest": {"input_per_mtok": 0.80, "output_per_mtok": 4.00}},
                },
            }
            config_path = os.path.join(tmp, "soak.json")
            with open(config_path, "w") as f:
                json.dump(config, f)
            env = dict(os.environ, SA_JWT_SECRET=os.urandom(32).hex(), SOAK_FAKE_KEY="soak-key")
            server_log = open(os.path.join(tmp, "server.log"), "w")
            server = subprocess.Popen([server_bin, "serve", "--config", config_path],
                                      stdout=server_log, stderr=subprocess.STDOUT, env=env, cwd=REPO,
                                      stdin=subprocess.DEVNULL)
            procs.append(server)
            server_port = config["gateway"]["port"]
            wait_port(server_port, 180, server, "support-agent")
            tokens = {}
            for t, u in USERS:
                out = subprocess.run([server_bin, "token", "--config", config_path, "--tenant", t, "--user", u,
                                      "--ttl", str(int(args.minutes * 60 + 3600))],
                                     capture_output=True, text=True, env=env, cwd=REPO, check=True)
                tokens[(t, u)] = out.stdout.strip().splitlines()[-1]
            log(f"running {args.sessions} conversations for {args.minutes} min (server pid {server.pid})")
            stats, rss, switches, start = asyncio.run(run(args, server_port, fake_port, redis, server.pid, tokens, log))
            with urllib.request.urlopen(f"http://127.0.0.1:{server_port}/metrics", timeout=10) as r:
                metrics_text = r.read().decode()
            restarts = metric_sum(metrics_text, "sa_actor_restarts_total")
        finally:
            for proc in reversed(procs):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        proc.kill()
            if "redis" in locals():
                redis.stop()
        if server.returncode not in (0, None):
            log(f"server exited with {server.returncode}; its log:\n" + open(os.path.join(tmp, "server.log")).read()[-4000:])

    after = [pt for pt in rss if pt[0] >= args.warmup_s]
    slope = slope_per_min(after)
    measured = [s for s in stats.samples if s[0] - start >= args.warmup_s]
    quarter = max(1, len(measured) // 4)
    first_q, last_q = measured[:quarter], measured[-quarter:]
    result = {
        "bench": "soak", "cores": os.cpu_count(), "cpu": cpu_model(),
        "minutes": args.minutes, "sessions": args.sessions, "think_s": args.think_s,
        "sent": stats.sent, "answered": stats.answered, "errors": stats.failed, "lost": stats.lost,
        "unanswered": stats.sent - stats.answered - sum(stats.failed.values()),
        "duplicated": stats.duplicated, "skipped_turns": stats.skipped, "resent": stats.resent,
        "reconnects": stats.reconnects, "resets": stats.resets, "escalated": stats.escalated,
        "redis_restarts": redis.restarts, "fault_switches": switches, "actor_restarts": restarts,
        "rss_start_kb": rss[0][1] if rss else 0, "rss_after_warmup_kb": after[0][1] if after else 0,
        "rss_end_kb": rss[-1][1] if rss else 0, "rss_slope_kb_per_min": round(slope, 1),
        "ttft_p50_ms_first": round(1000 * percentile([s[1] for s in first_q], 0.5), 1),
        "ttft_p50_ms_last": round(1000 * percentile([s[1] for s in last_q], 0.5), 1),
        "turn_p99_ms_first": round(1000 * percentile([s[2] for s in first_q], 0.99), 1),
        "turn_p99_ms_last": round(1000 * percentile([s[2] for s in last_q], 0.99), 1),
    }
    rows = [("conversations", f"{args.sessions} for {args.minutes} min, mean think {args.think_s} s"),
            ("messages", f"{stats.sent} sent, {stats.answered} answered, {sum(stats.failed.values())} error frames "
                         f"{stats.failed or ''}"),
            ("lost / unanswered", f"{stats.lost} / {result['unanswered']}  (target 0)"),
            ("duplicated / skipped turns", f"{stats.duplicated} / {stats.skipped}  (target 0)"),
            ("chaos", f"{switches} fault switches, {redis.restarts} Redis restarts, {stats.reconnects} reconnects, "
                      f"{stats.resent} resent, {stats.resets} answers restarted"),
            ("actor restarts", f"{restarts:.0f}"),
            ("server RSS kB", f"{result['rss_start_kb']} at start, {result['rss_after_warmup_kb']} after warm-up, "
                              f"{result['rss_end_kb']} at end"),
            ("RSS slope after warm-up", f"{slope:.1f} kB/min  (target flat: < {args.rss_slope_max_kb_per_min} kB/min)"),
            ("TTFT p50 first -> last quarter", f"{result['ttft_p50_ms_first']} -> {result['ttft_p50_ms_last']} ms"),
            ("turn p99 first -> last quarter", f"{result['turn_p99_ms_first']} -> {result['turn_p99_ms_last']} ms")]
    for k, v in rows:
        print(f"{k:32s} {v}")
    print(json.dumps(result))
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps(result) + "\n")
    ok = (stats.lost == 0 and result["unanswered"] == 0 and stats.duplicated == 0 and stats.skipped == 0
          and slope < args.rss_slope_max_kb_per_min)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
