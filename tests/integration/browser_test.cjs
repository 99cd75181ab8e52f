// Browser test of the chat page: headless Chromium (Debian's package) driven by playwright-core.
// Starts `support-agent serve` with development tokens on a free port, opens the page, connects as a demo
// user, asks a question, waits for the streamed answer and its cited sources, and saves a screenshot.
//
// usage: node browser_test.cjs SUPPORT_AGENT_BINARY NPM_PREFIX ARTIFACT_DIR
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { startServer, launchBrowser } = require("./browser_support.cjs");

const [binary, npmPrefix, artifacts] = process.argv.slice(2);
const DEADLINE_MS = 60000;

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sa-browser-"));
  fs.mkdirSync(artifacts, { recursive: true });
  const { proc, port } = await startServer(binary, tmp);
  const browser = await launchBrowser(npmPrefix);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(DEADLINE_MS);
    // Keep a handle on the page's WebSocket so the test can play server frames the demo never sends.
    await page.addInitScript(() => {
      const Native = window.WebSocket;
      window.__sockets = [];
      window.WebSocket = class extends Native {
        constructor(...args) {
          super(...args);
          window.__sockets.push(this);
        }
      };
    });
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector("#identity option[value='acme/alice']", { state: "attached" });
    await page.selectOption("#identity", "acme/alice");
    await page.click("#connect");
    await page.waitForSelector("#input:not([disabled])");
    await page.fill("#input", "How do I add a custom domain to my documentation?");
    await page.click("#send");
    const answer = page.locator(".msg.bot.done").last();
    await answer.waitFor();
    const text = (await answer.locator(".text").innerText()).trim();
    const sources = await answer.locator(".sources li").allInnerTexts();
    if (text.length < 40) throw new Error(`answer too short: ${JSON.stringify(text)}`);
    if (!sources.some((s) => /custom domain/i.test(s))) throw new Error(`no custom-domain source: ${sources}`);
    // An escalation shows a notice in the conversation.
    await page.fill("#input", "I want to talk to a human please");
    await page.click("#send");
    await page.waitForSelector(".notice", { state: "visible" });
    const shot = path.join(artifacts, "chat-page.png");
    await page.screenshot({ path: shot, fullPage: true });
    // A reset frame clears the partial answer of its message and the deltas after it render from scratch.
    await page.evaluate(() => {
      const ws = window.__sockets[window.__sockets.length - 1];
      const frames = [
        { type: "delta", id: "restart-1", seq: 0, text: "This partial answer is void. " },
        { type: "reset", id: "restart-1", session: "s-test", turn: 9, reason: "provider_failed" },
        { type: "delta", id: "restart-1", seq: 0, text: "The fresh " },
        { type: "delta", id: "restart-1", seq: 1, text: "answer." },
      ];
      for (const f of frames) ws.onmessage({ data: JSON.stringify(f) });
    });
    const restarted = page.locator(".msg.bot", { hasText: "The fresh answer." });
    await restarted.waitFor();
    const restartedText = (await restarted.locator(".text").innerText()).trim();
    if (restartedText !== "The fresh answer.") throw new Error(`reset did not clear the answer: ${JSON.stringify(restartedText)}`);
    if (!(await restarted.locator(".restart-note").isVisible())) throw new Error("no note that the answer restarted");
    console.log(`ok - chat page streamed an answer with ${sources.length} sources and restarted one on a reset; screenshot ${shot}`);
  } finally {
    await browser.close();
    proc.kill("SIGTERM");
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`not ok - ${e.stack || e}`);
  process.exit(1);
});
