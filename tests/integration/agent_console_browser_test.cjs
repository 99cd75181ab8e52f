// Browser test of the agent console (/agent, docs/protocol.md "Agent console"): headless Chromium driven by
// playwright-core, two pages on one `support-agent serve`. The customer's chat page asks for a human; the
// console (signed in with a development agent token) shows the handoff in its queue with the reason and the
// customer's message; the agent takes it and replies, the customer's chat shows the reply and the customer's
// answer reaches the console; the agent tags the conversation and hands it back, which the customer sees.
// Screenshots of both pages are saved as test artifacts.
//
// usage: node agent_console_browser_test.cjs SUPPORT_AGENT_BINARY NPM_PREFIX ARTIFACT_DIR
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { startServer, launchBrowser } = require("./browser_support.cjs");

const [binary, npmPrefix, artifacts] = process.argv.slice(2);
const DEADLINE_MS = 60000;
const REPLY = "Hi Alice, Bob from support here. I have your account open.";

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sa-agent-console-"));
  fs.mkdirSync(artifacts, { recursive: true });
  const { proc, port } = await startServer(binary, tmp);
  const browser = await launchBrowser(npmPrefix);
  try {
    const customer = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    customer.setDefaultTimeout(DEADLINE_MS);
    let handoff = "";  // the id in the customer's escalated frame
    customer.on("websocket", (ws) => ws.on("framereceived", (f) => {
      const m = /"type":"escalated"/.test(f.payload) && f.payload.match(/"handoff":"([^"]+)"/);
      if (m) handoff = m[1];
    }));
    await customer.goto(`http://127.0.0.1:${port}/`);
    await customer.waitForSelector("#identity option[value='acme/alice']", { state: "attached" });
    await customer.selectOption("#identity", "acme/alice");
    await customer.click("#connect");
    await customer.waitForSelector("#input:not([disabled])");
    await customer.fill("#input", "I want to talk to a human please");
    await customer.click("#send");
    await customer.waitForSelector(".notice.escalated", { state: "visible" });
    if (!handoff) throw new Error("the escalated frame named no handoff");

    const agent = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    agent.setDefaultTimeout(DEADLINE_MS);
    await agent.goto(`http://127.0.0.1:${port}/agent`);
    await agent.waitForSelector("#dev-box:not(.hidden)");
    await agent.selectOption("#tenant", "acme");
    await agent.fill("#agent-id", "bob");
    await agent.fill("#agent-name", "Bob");
    await agent.click("#connect");
    await agent.waitForSelector("#status.status-on");
    const item = agent.locator(`#queue li[data-id="${handoff}"][data-state=queued]`);
    await item.waitFor();
    await item.click();
    await agent.waitForSelector("#details:not(.hidden)");
    const reason = await agent.innerText("#d-reason");
    if (!/asked for a person|user_requested/.test(reason)) throw new Error(`unexpected reason: ${reason}`);
    await agent.locator("#transcript .msg.customer", { hasText: "talk to a human" }).first().waitFor();

    await agent.click("#take");
    await agent.waitForSelector("#reply:not([disabled])");
    await customer.locator(".notice", { hasText: "joined the conversation" }).waitFor();
    await agent.fill("#reply", REPLY);
    await agent.click("#send");
    await agent.locator("#transcript .msg.agent-self", { hasText: REPLY }).waitFor();
    await customer.locator(".msg.agent", { hasText: REPLY }).waitFor();

    // The customer's answer goes to the agent, not the bot.
    await customer.fill("#input", "Thank you Bob, that was quick");
    await customer.click("#send");
    await agent.locator("#transcript .msg.customer", { hasText: "that was quick" }).waitFor();

    await agent.fill("#tag-intent", "billing");
    await agent.check("#tag-bca");
    await agent.click("#tag-save");
    await agent.locator("#tag-state", { hasText: /saved|tagged/ }).waitFor();
    const agentShot = path.join(artifacts, "agent-console.png");
    await agent.screenshot({ path: agentShot, fullPage: true });

    await agent.click("#hand-back");
    await customer.locator(".notice", { hasText: "handed you back" }).waitFor();
    await agent.waitForSelector(`#queue li[data-id="${handoff}"][data-state=returned_to_bot]`, { state: "attached" });
    if (!(await agent.isDisabled("#reply"))) throw new Error("the reply box stays enabled after handing back");
    const customerShot = path.join(artifacts, "agent-console-customer.png");
    await customer.screenshot({ path: customerShot, fullPage: true });
    console.log(`ok - the console took the escalated conversation, replied, tagged and handed it back; screenshots ${agentShot} ${customerShot}`);
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
