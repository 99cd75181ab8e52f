// Browser test of the operations dashboard (/dashboard): headless Chromium driven by playwright-core.
// Starts `support-agent serve` with a metrics token and a 1 s snapshot interval, holds a scripted
// conversation through the chat page (an answer rated 4 of 5, then an explicit request for a human),
// opens the dashboard, gives it the token it asks for, and checks that its figures (turns, escalations,
// escalation rate, CSAT average and count, cost and tokens per conversation by component, the quality
// monitor's local groundedness score) equal the ones GET /metrics reports, and that the recent-window
// column is filled. Every turn is sampled (quality.sample_rate=1) and sessions close after 1 s idle, so a
// conversation closes and per-conversation figures exist. Saves a screenshot.
//
// usage: node dashboard_browser_test.cjs SUPPORT_AGENT_BINARY NPM_PREFIX ARTIFACT_DIR
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { startServer, launchBrowser, httpGet, promSum, eventually } = require("./browser_support.cjs");

const [binary, npmPrefix, artifacts] = process.argv.slice(2);
const DEADLINE_MS = 60000;
const TOKEN = "dashboard-browser-test-token-0123456789";

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function chat(page, port) {
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForSelector("#identity option[value='acme/alice']", { state: "attached" });
  await page.selectOption("#identity", "acme/alice");
  await page.click("#connect");
  await page.waitForSelector("#input:not([disabled])");
  await page.fill("#input", "How do I add a custom domain to my documentation?");
  await page.click("#send");
  const answer = page.locator(".msg.bot.done").last();
  await answer.waitFor();
  await answer.locator(".stars button").nth(3).click();  // 4 of 5
  await page.fill("#input", "I want to talk to a human please");
  await page.click("#send");
  await page.waitForSelector(".notice.escalated", { state: "visible" });
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sa-dashboard-"));
  fs.mkdirSync(artifacts, { recursive: true });
  const env = Object.assign({}, process.env, { SA_TEST_METRICS_TOKEN: TOKEN });
  const { proc, port } = await startServer(binary, tmp, ["--set", "gateway.metrics_token_env=SA_TEST_METRICS_TOKEN",
                                                         "--set", "gateway.dashboard_interval_s=1",
                                                         "--set", "quality.sample_rate=1",
                                                         "--set", "session.idle_timeout_s=1"], env);
  const browser = await launchBrowser(npmPrefix);
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(DEADLINE_MS);
    await chat(page, port);

    // /metrics after the rating arrived (the feedback frame has no visible acknowledgement).
    const auth = { Authorization: `Bearer ${TOKEN}` };
    check((await httpGet(port, "/api/dashboard")).status === 401, "/api/dashboard answered without the token");
    // ... and after a conversation closed (its session idle for 1 s) and both turns were scored.
    let last = "";
    const metrics = await eventually("the rating, a closed conversation and a quality sample in /metrics", async () => {
      const r = await httpGet(port, "/metrics", auth);
      last = r.body;
      return r.status === 200 && promSum(r.body, "sa_csat_ratings_total") === 1
             && promSum(r.body, "sa_conversations_closed_total") >= 1
             && promSum(r.body, "sa_quality_samples_total") >= 1 ? r.body : null;
    }).catch((e) => {
      const seen = ["sa_csat_ratings_total", "sa_conversations_closed_total", "sa_quality_samples_total"]
        .map((n) => `${n}=${promSum(last, n)}`).join(" ");
      throw new Error(`${e.message} (last scrape: ${seen})`);
    });
    const turns = promSum(metrics, "sa_turns_total");
    const escalations = promSum(metrics, "sa_escalations_total");
    const csat = promSum(metrics, "sa_csat_ratings_total", { score: "4" });
    check(turns === 2, `expected 2 turns in /metrics, got ${turns}`);
    check(escalations >= 1, `expected an escalation in /metrics, got ${escalations}`);
    check(csat === 1, `expected one rating of 4 in /metrics, got ${csat}`);

    // The dashboard asks for the token, then shows the same figures.
    const dash = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    dash.setDefaultTimeout(DEADLINE_MS);
    await dash.goto(`http://127.0.0.1:${port}/dashboard`);
    await dash.waitForSelector("#token-panel:not(.hidden)");
    await dash.fill("#token", TOKEN);
    await dash.click("#token-save");
    await dash.waitForSelector("body[data-loaded=true]");
    const value = async (sel, attr = "data-value") => Number(await dash.getAttribute(sel, attr));
    check(await value("#count-turns") === turns, `dashboard turns ${await value("#count-turns")} != ${turns}`);
    check(await value("#count-escalations") === escalations, "dashboard escalations differ from /metrics");
    const rate = await value("tr[data-key=escalation_rate] td.actual");
    check(Math.abs(rate - escalations / turns) < 1e-9, `dashboard escalation rate ${rate} != ${escalations / turns}`);
    check(await value("tr[data-key=csat] td.actual") === 4, "dashboard CSAT average is not 4");
    check(await value("tr[data-key=csat] td.actual", "data-count") === 1, "dashboard CSAT count is not 1");
    check((await dash.innerText("tr[data-key=intent_accuracy] td.actual")).startsWith("n/a"), "intent accuracy not n/a");
    // Recent window: the chat happened within the last 5 minutes, so the window saw every turn.
    const recentRate = await value("tr[data-key=escalation_rate] td.recent");
    check(Math.abs(recentRate - escalations / turns) < 1e-9, `recent escalation rate ${recentRate} != ${escalations / turns}`);

    // Cost and tokens per closed conversation by component, as /metrics has them (no further chat since).
    const conversations = promSum(metrics, "sa_conversations_closed_total");
    const genTokens = promSum(metrics, "sa_component_tokens_total", { component: "generation" });
    check(genTokens > 0, "no generation tokens in /metrics (the local provider's are estimated)");
    const tokensCell = "tr[data-component=generation] td.tokens-per-conversation";
    await dash.waitForSelector(tokensCell);
    const tokensShown = await value(tokensCell);
    check(Math.abs(tokensShown - genTokens / conversations) < 1e-6,
          `dashboard generation tokens/conversation ${tokensShown} != ${genTokens} / ${conversations}`);
    const genUsd = promSum(metrics, "sa_component_cost_usd_total", { component: "generation" });
    check(Math.abs(await value("tr[data-component=generation] td.usd-per-conversation") - genUsd / conversations) < 1e-12,
          "dashboard generation USD/conversation differs from /metrics");

    // The quality monitor's score, labelled as the local check (no judge model configured).
    const qSum = promSum(metrics, "sa_quality_score_sum", { judge: "local_groundedness", dimension: "groundedness" });
    const qCount = promSum(metrics, "sa_quality_score_count", { judge: "local_groundedness", dimension: "groundedness" });
    if (qCount > 0) {
      const qCell = "tr[data-judge=local_groundedness][data-dimension=groundedness] td.mean";
      check(Math.abs(await value(qCell) - qSum / qCount) < 1e-9, "dashboard groundedness mean differs from /metrics");
      check(await value(qCell, "data-count") === qCount, "dashboard groundedness count differs from /metrics");
      check((await dash.innerText("tr[data-judge=local_groundedness] td.local")).includes("local groundedness"),
            "the local score is not labelled as the local check");
    } else {
      check(promSum(metrics, "sa_quality_samples_total", { outcome: "not_applicable" }) >= 1,
            "a sample was neither scored nor not applicable");
    }
    check(/met|missed/.test(await dash.innerText("tr[data-key=ttft_p95] .pill")), "TTFT p95 has no status");
    // History: with a 1 s interval the escalation-rate chart draws a line within a few polls.
    await dash.waitForSelector("#chart-escalation polyline", { state: "attached", timeout: 30000 });
    const shot = path.join(artifacts, "dashboard.png");
    await dash.screenshot({ path: shot, fullPage: true });
    console.log(`ok - dashboard shows ${turns} turns, ${escalations} escalations and CSAT 4 (1 rating) as /metrics does; screenshot ${shot}`);
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
