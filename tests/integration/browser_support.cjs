// Shared by the browser tests (browser_test.cjs, dashboard_browser_test.cjs, agent_console_browser_test.cjs):
// starting `support-agent serve` with development tokens on a free port, launching Debian's chromium through
// playwright-core, plain HTTP GETs, a Prometheus text reader for sums, and waiting with a deadline.
"use strict";
const { spawn } = require("child_process");
const http = require("http");
const path = require("path");

// Every server started here is killed when this process ends, however it ends: a test that fails before its
// own cleanup (playwright-core missing, the browser not launching) must not leave a server running.
const started = new Set();
process.on("exit", () => {
  for (const proc of started) if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
});

/// Starts the server; resolves { proc, port } once it prints its address. Everything it writes (model, log,
/// handoffs, audit, quality samples) goes to `tmp`, never the repository's var/. `extra`: more CLI arguments.
function startServer(binary, tmp, extra = [], env = process.env) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ["serve", "--set", "gateway.port=0", "--set", "gateway.dev_tokens=true",
                                "--set", `classifier.model_path=${tmp}/intents.bin`,
                                "--set", `node.log_file=${tmp}/serve.log`,
                                "--set", `handoff.path=${tmp}/handoffs.jsonl`, "--set", `audit.path=${tmp}/audit.jsonl`,
                                "--set", `quality.dir=${tmp}/quality`, ...extra],
                       { stdio: ["ignore", "ignore", "pipe"], env });
    started.add(proc);
    proc.on("exit", () => started.delete(proc));
    // Training the intent model and indexing take a while on a loaded machine (ctest -j): up to 200 s.
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error("server did not start in time"));
    }, 200000);
    let buffered = "";
    proc.stderr.on("data", (chunk) => {
      buffered += chunk.toString();
      const m = buffered.match(/serving on http:\/\/[\d.]+:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]) });
      }
    });
    proc.on("exit", (code) => reject(new Error(`server exited with ${code}: ${buffered}`)));
  });
}

/// Headless Debian chromium (no browser download), playwright-core from NPM_PREFIX.
function launchBrowser(npmPrefix) {
  const { chromium } = require(path.resolve(npmPrefix, "node_modules", "playwright-core"));
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/// GET http://127.0.0.1:port/target; resolves { status, body }.
function httpGet(port, target, headers = {}) {
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path: target, headers }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    }).on("error", reject);
  });
}

/// Sum of the samples of `name` in Prometheus text whose labels include every pair of `match`.
function promSum(text, name, match = {}) {
  let total = 0;
  for (const line of text.split("\n")) {
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    const labels = {};
    for (const l of (m[3] || "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    if (Object.entries(match).every(([k, v]) => labels[k] === v)) total += Number(m[4]);
  }
  return total;
}

/// Calls `probe` until it returns a truthy value or `ms` passed (then throws `what`).
async function eventually(what, probe, ms = 30000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

module.exports = { startServer, launchBrowser, httpGet, promSum, eventually };
