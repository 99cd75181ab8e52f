// Agent console: plain JavaScript, no build step. Speaks the agent protocol of docs/protocol.md ("Agent
// console") on /agent/ws: signs in with an agent JWT (with development tokens, fetched from
// /dev/token?role=agent), keeps the tenant's queue live from queue and handoff_update frames, shows a
// handoff's history (summary, redacted transcript, reason, intent, account facts), and takes, replies,
// hands back, closes and tags. To handle a new server frame: a case in onFrame.
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const state = {
    ws: null, agent: "", name: "", tenant: "", handoffs: new Map(), records: new Map(), selected: "",
    pending: new Map(), ref: 0, devTokens: false,
  };
  const reasons = {
    user_requested: "customer asked for a person", sensitive_topic: "sensitive topic",
    low_confidence: "assistant not confident", knowledge_unavailable: "knowledge base unavailable",
    component_failure: "assistant failure",
  };
  const stateLabel = { queued: "waiting", assigned: "assigned", returned_to_bot: "back with bot", closed: "closed" };

  function setStatus(kind, text) {
    $("status").className = "status status-" + kind;
    $("status").textContent = text;
  }

  function send(frame) {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return null;
    const ref = String(++state.ref);
    state.ws.send(JSON.stringify(Object.assign({ ref }, frame)));
    return ref;
  }

  const text = (tag, cls, content) => Object.assign(document.createElement(tag), { className: cls || "", textContent: content });
  const ago = (ms) => {
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
  };

  // --- queue ----------------------------------------------------------------------------------
  function renderQueue() {
    const open = [...state.handoffs.values()].filter((h) => h.state !== "closed")
      .sort((a, b) => a.created_unix_ms - b.created_unix_ms);
    $("queue-count").textContent = open.length ? `(${open.length})` : "";
    const items = open.map((h) => {
      const li = document.createElement("li");
      li.dataset.id = h.id;
      li.dataset.state = h.state;
      if (h.id === state.selected) li.classList.add("selected");
      const top = document.createElement("div");
      top.className = "q-top";
      const left = text("span", "", h.user || h.session);
      const dot = text("span", "online" + (h.customer_online ? " on" : ""), "");
      dot.title = h.customer_online ? "customer online" : "customer offline";
      left.prepend(dot, " ");
      top.append(left, text("span", "state " + h.state, stateLabel[h.state] || h.state));
      const who = h.state === "assigned" ? ` · ${h.agent === state.agent ? "you" : h.agent_name || h.agent}` : "";
      li.append(top, text("span", "q-sub", `${reasons[h.reason] || h.reason} · ${h.intent || "?"} · ${ago(h.created_unix_ms)}${who}`));
      li.addEventListener("click", () => select(h.id));
      return li;
    });
    $("queue").replaceChildren(...(items.length ? items : [text("li", "hint", "Nothing waiting.")]));
  }

  // --- the selected conversation -------------------------------------------------------------------
  function mine(h) {
    return h && h.state === "assigned" && h.agent === state.agent;
  }

  function renderSelected() {
    const h = state.handoffs.get(state.selected);
    const rec = state.records.get(state.selected);
    $("take").disabled = !h || h.state !== "queued";
    $("hand-back").disabled = !mine(h);
    $("reply").disabled = !mine(h);
    $("send").disabled = !mine(h);
    $("details").classList.toggle("hidden", !h);
    $("wrapup").classList.toggle("hidden", !h);
    $("close").disabled = !h || !(h.state === "queued" || mine(h));
    if (!h) {
      $("conv-title").textContent = "No conversation selected";
      $("conv-sub").textContent = "Pick one from the queue";
      $("transcript").replaceChildren();
      return;
    }
    $("conv-title").textContent = `${h.user || "customer"} · ${h.id}`;
    $("conv-sub").textContent = `${stateLabel[h.state] || h.state}${h.agent ? " · " + (h.agent === state.agent ? "you" : h.agent_name || h.agent) : ""}` +
      ` · customer ${h.customer_online ? "online" : "offline"}`;
    $("d-reason").textContent = (h.detail || reasons[h.reason] || h.reason) + ` (${h.reason})`;
    $("d-intent").textContent = h.intent || "—";
    $("d-user").textContent = `${h.user} (session ${h.session})`;
    $("d-state").textContent = stateLabel[h.state] || h.state;
    $("d-facts").textContent = rec && rec.facts && rec.facts.length ? rec.facts.join(", ") : "none used";
    $("d-summary").textContent = rec && rec.summary ? rec.summary : "";
    if (!$("tag-intent").value && h.intent) $("tag-intent").value = (h.tags && h.tags.intent) || h.intent;
    $("tag-state").textContent = h.tags ? `tagged ${h.tags.intent}, bot could answer: ${h.tags.bot_could_answer ? "yes" : "no"}` : "";
    renderTranscript(rec ? rec.transcript || [] : []);
  }

  function renderTranscript(lines) {
    $("transcript").replaceChildren(...lines.map((l) => {
      const self = l.role === "agent" && (l.agent_name === state.name || l.agent === state.agent);
      const div = document.createElement("div");
      div.className = "msg " + (l.role === "user" ? "customer" : l.role === "agent" ? (self ? "agent agent-self" : "agent") : "bot");
      const avatar = text("div", "avatar", l.role === "user" ? "C" : l.role === "agent" ? (l.agent_name || "A")[0].toUpperCase() : "AI");
      const wrap = document.createElement("div");
      wrap.className = "bubble-wrap";
      const who = l.role === "user" ? "Customer" : l.role === "agent" ? (l.agent_name || "Agent") : "Assistant";
      wrap.append(text("div", "who", `${who}${l.at_unix_ms ? " · " + new Date(l.at_unix_ms).toLocaleTimeString() : ""}`),
                  text("div", "bubble", l.text));
      div.append(avatar, wrap);
      return div;
    }));
    $("transcript").scrollTop = $("transcript").scrollHeight;
  }

  function appendLine(id, line) {
    const rec = state.records.get(id);
    if (!rec) return;
    rec.transcript = (rec.transcript || []).concat([line]);
    if (id === state.selected) renderTranscript(rec.transcript);
  }

  function select(id) {
    state.selected = id;
    $("tag-intent").value = "";
    renderQueue();
    renderSelected();
    send({ type: "history", handoff: id });
  }

  // --- frames ---------------------------------------------------------------------------------
  function onFrame(f) {
    switch (f.type) {
      case "agent_ready":
        state.agent = f.agent;
        state.name = f.name;
        state.tenant = f.tenant;
        $("who").textContent = `${f.name} (${f.agent}) · ${f.tenant}`;
        setStatus("on", "Online");
        break;
      case "queue":
        state.handoffs = new Map(f.handoffs.map((h) => [h.id, h]));
        renderQueue();
        renderSelected();
        break;
      case "handoff_update":
        state.handoffs.set(f.handoff.id, f.handoff);
        renderQueue();
        if (f.handoff.id === state.selected) renderSelected();
        break;
      case "history":
        state.records.set(f.handoff.id, f.handoff);
        state.handoffs.set(f.handoff.id, Object.assign(state.handoffs.get(f.handoff.id) || {}, f.handoff));
        if (f.handoff.id === state.selected) renderSelected();
        break;
      case "customer_message":
        appendLine(f.handoff, { role: "user", text: f.text, turn: f.turn, at_unix_ms: f.at_unix_ms });
        break;
      case "ok": onOk(f); break;
      case "error": onError(f); break;
      case "pong": break;
      default: break;
    }
  }

  function onOk(f) {
    const pending = state.pending.get(f.ref);
    state.pending.delete(f.ref);
    if (f.action === "reply" && pending) {
      appendLine(f.handoff, { role: "agent", agent: state.agent, agent_name: state.name, text: pending, at_unix_ms: Date.now() });
      if (f.delivered === false) $("conv-sub").textContent += " · message waits until the customer is back";
    }
    if (f.action === "tag") $("tag-state").textContent = "tags saved";
  }

  function onError(f) {
    const pending = state.pending.get(f.ref);
    state.pending.delete(f.ref);
    if (pending) $("reply").value = pending;  // keep the text the agent wrote
    const messages = {
      already_taken: "Another agent took this conversation.", not_assigned: "You do not hold this conversation.",
      closed: "This conversation is closed.", handed_back: "This conversation went back to the bot.",
      not_found: "No such conversation.", rate_limited: "Slow down a little.", unavailable: "The service did not answer; try again.",
      too_many_connections: "You have too many consoles open on this server; close one and connect again.",
    };
    if (f.code === "token_expired") {
      // The server closes the connection next; onclose signs in again with a new token.
      state.tokenExpired = true;
      return;
    }
    const box = text("div", "notice error", messages[f.code] || `${f.code}: ${f.message}`);
    $("transcript").append(box);
    if (f.code === "unauthorized") setStatus("err", "Refused");
  }

  // --- sign-in --------------------------------------------------------------------------------
  async function devToken() {
    const q = new URLSearchParams({ tenant: $("tenant").value, user: $("agent-id").value.trim(), role: "agent",
                                    name: $("agent-name").value.trim() });
    const res = await fetch(`/dev/token?${q}`);
    if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error || `HTTP ${res.status}`);
    return (await res.json()).token;
  }

  async function connect() {
    if (state.ws) state.ws.close();
    setStatus("wait", "Connecting…");
    let token = $("token").value.trim();
    try {
      if (!token && state.devTokens) token = await devToken();
    } catch (e) {
      setStatus("err", "No token: " + e.message);
      return;
    }
    if (!token) {
      setStatus("err", "Paste an agent token");
      return;
    }
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}/agent/ws?token=${encodeURIComponent(token)}`);
    state.ws = ws;
    ws.onmessage = (e) => {
      try { onFrame(JSON.parse(e.data)); } catch (err) { console.error(err); }
    };
    ws.onclose = (e) => {
      if (state.ws !== ws) return;
      state.ws = null;
      if (e.code === 1008 && state.tokenExpired) {
        state.tokenExpired = false;
        if (state.devTokens && !$("token").value.trim()) {  // a fresh development token
          connect();
          return;
        }
        setStatus("err", "Signed out: the token expired; paste a new one");
        return;
      }
      if (e.code === 1013) {  // too_many_connections: the notice says why
        setStatus("err", "Refused: too many open connections");
        return;
      }
      setStatus(e.code === 1008 ? "err" : "off", e.code === 1008 ? "Refused (not an agent token?)" : "Offline");
    };
  }

  async function init() {
    try {
      const res = await fetch("/dev/tenants");
      if (res.ok) {
        const { tenants } = await res.json();
        state.devTokens = true;
        $("tenant").replaceChildren(...tenants.map((t) => Object.assign(document.createElement("option"), { value: t.id, textContent: t.id })));
        $("dev-box").classList.remove("hidden");
        $("token").placeholder = "Optional with development tokens";
      }
    } catch (e) { /* production: paste a token */ }
    for (const intent of ["billing", "account", "technical", "general", "escalation_request", "out_of_scope"])
      $("intents").append(Object.assign(document.createElement("option"), { value: intent }));
  }

  $("connect").addEventListener("click", connect);
  $("take").addEventListener("click", () => send({ type: "take", handoff: state.selected }));
  $("hand-back").addEventListener("click", () => send({ type: "hand_back", handoff: state.selected }));
  $("close").addEventListener("click", () => send({ type: "close", handoff: state.selected, resolution: $("resolution").value.trim() }));
  $("tag-save").addEventListener("click", () => send({ type: "tag", handoff: state.selected,
    intent: $("tag-intent").value.trim(), bot_could_answer: $("tag-bca").checked }));
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const body = $("reply").value.trim();
    if (!body) return;
    const ref = send({ type: "reply", handoff: state.selected, text: body });
    if (ref) {
      state.pending.set(ref, body);
      $("reply").value = "";
    }
  });
  $("reply").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      $("composer").requestSubmit();
    }
  });
  setInterval(() => { send({ type: "ping" }); renderQueue(); }, 20000);
  init();
})();
