// Help Center chat: plain JavaScript, no build step. Speaks the gateway protocol (docs/protocol.md):
// gets a development token for the chosen demo account, opens /ws, streams answers (starting one over on
// a reset frame), shows sources, escalations and errors, sends CSAT feedback, and resumes the
// conversation after a reconnect.
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const el = {
    identity: $("identity"), tokenBox: $("token-box"), token: $("token"), connect: $("connect"),
    hint: $("identity-hint"), status: $("status"), sessionId: $("session-id"), newChat: $("new-chat"),
    human: $("human"), messages: $("messages"), empty: $("empty"), composer: $("composer"),
    input: $("input"), send: $("send"), title: $("chat-title"), sub: $("chat-sub"),
  };

  const state = {
    ws: null, devTokens: false, tenant: "", user: "", session: "", bubbles: new Map(),
    retry: 0, retryTimer: null, manualClose: false, counter: 0, ready: false,
  };

  // --- small helpers --------------------------------------------------------------------------
  const storageKey = () => `support-agent.session.${state.tenant}.${state.user}`;

  function setStatus(kind, text) {
    el.status.className = "status status-" + kind;
    el.status.textContent = text;
  }

  function setReady(ready) {
    state.ready = ready;
    el.input.disabled = !ready;
    el.send.disabled = !ready;
    el.human.disabled = !ready;
    el.newChat.disabled = !state.tenant;
    if (ready) el.input.focus();
  }

  function setSession(id) {
    if ((id || "") !== state.session) state.agentLast = null;  // another conversation: nothing of it shown
    state.session = id || "";
    el.sessionId.textContent = id || "—";
    if (id) localStorage.setItem(storageKey(), id);
    else localStorage.removeItem(storageKey());
  }

  function scrollDown() {
    el.messages.scrollTop = el.messages.scrollHeight;
  }

  function hideEmpty() {
    el.empty.classList.add("hidden");
  }

  function notice(kind, html) {
    hideEmpty();
    const div = document.createElement("div");
    div.className = "notice " + kind;
    div.append(...html);
    el.messages.append(div);
    scrollDown();
  }

  const strong = (text) => {
    const s = document.createElement("strong");
    s.textContent = text;
    return s;
  };

  const humanReason = {
    user_requested: "you asked for a person",
    sensitive_topic: "this topic needs a person",
    low_confidence: "the assistant was not sure enough",
    knowledge_unavailable: "the help center is unavailable",
    component_failure: "the assistant had a problem",
  };

  // --- messages -------------------------------------------------------------------------------
  function userMessage(text) {
    hideEmpty();
    const div = document.createElement("div");
    div.className = "msg user";
    const avatar = document.createElement("div");
    avatar.className = "avatar";
    avatar.textContent = (state.user[0] || "U").toUpperCase();
    const wrap = document.createElement("div");
    wrap.className = "bubble-wrap";
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = text;
    wrap.append(bubble);
    div.append(avatar, wrap);
    el.messages.append(div);
    scrollDown();
  }

  function botBubble(id) {
    let b = state.bubbles.get(id);
    if (b) return b;
    hideEmpty();
    const node = $("tpl-bot").content.firstElementChild.cloneNode(true);
    node.classList.add("typing");
    b = {
      node, text: node.querySelector(".text"), sources: node.querySelector(".sources"),
      meta: node.querySelector(".meta"), csat: node.querySelector(".csat"), streamed: "",
    };
    state.bubbles.set(id, b);
    el.messages.append(node);
    scrollDown();
    return b;
  }

  function onDelta(f) {
    const b = botBubble(f.id);
    b.node.classList.remove("typing");
    b.streamed += f.text;
    b.text.textContent = b.streamed;
    scrollDown();
  }

  // The answer streamed so far is void (the server restarted it, e.g. on another model): clear it and
  // render the deltas that follow from scratch, with a small note that the #messages live region reads out.
  function onReset(f) {
    const b = botBubble(f.id);
    b.streamed = "";
    b.text.textContent = "";
    b.node.classList.add("typing");
    if (!b.restarted) {
      b.restarted = document.createElement("div");
      b.restarted.className = "restart-note";
      b.restarted.textContent = "Answer restarted";
      b.node.querySelector(".bubble").after(b.restarted);
    }
    scrollDown();
  }

  // A human agent holds the conversation (docs/protocol.md, "Agent console"): the customer's message went to
  // them, so there is no bot answer to show; the agent's replies arrive as agent_message frames.
  function onAgentHeld(f) {
    const b = state.bubbles.get(f.id);
    if (b) b.node.remove();
    state.bubbles.delete(f.id);
  }

  function onAgentMessage(f) {
    const seen = state.agentSeen || (state.agentSeen = new Set());
    const key = f.handoff + "#" + f.seq;
    if (seen.has(key)) return;
    seen.add(key);
    // The last agent message shown: said when resuming (agent_seen), so one sent while the connection was
    // dropping comes again.
    if (!state.agentLast || state.agentLast.handoff !== f.handoff || state.agentLast.seq < f.seq)
      state.agentLast = { handoff: f.handoff, seq: f.seq };
    hideEmpty();
    const div = document.createElement("div");
    div.className = "msg agent";
    const avatar = document.createElement("div");
    avatar.className = "avatar";
    avatar.textContent = (f.agent_name || "A")[0].toUpperCase();
    const wrap = document.createElement("div");
    wrap.className = "bubble-wrap";
    const who = document.createElement("div");
    who.className = "agent-name";
    who.textContent = (f.agent_name || "Agent") + " · support team";
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = f.text;
    wrap.append(who, bubble);
    div.append(avatar, wrap);
    el.messages.append(div);
    scrollDown();
  }

  function onFinal(f) {
    if (f.handled_by === "agent") return onAgentHeld(f);
    const b = botBubble(f.id);
    b.node.classList.remove("typing");
    b.node.classList.add("done");
    b.text.textContent = f.text;
    const list = b.sources.querySelector("ol");
    list.textContent = "";
    for (const s of f.sources || []) {
      const li = document.createElement("li");
      const url = String(s.url || "");
      if (/^https?:\/\//i.test(url)) {
        const a = document.createElement("a");
        a.href = url;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.textContent = s.title || url;
        li.append(a);
      } else {
        li.textContent = s.title || s.id || url;
      }
      list.append(li);
    }
    b.sources.classList.toggle("hidden", list.children.length === 0);
    b.meta.textContent = "";
    const badge = (text) => {
      const span = document.createElement("span");
      span.className = "badge";
      span.textContent = text;
      return span;
    };
    b.meta.append(badge(String(f.intent).replace("_", " ")),
                  badge(Math.round((f.confidence || 0) * 100) + "% confident"),
                  badge("turn " + f.turn));
    if (f.account_unavailable) b.meta.append(badge("account details unavailable"));
    else if ((f.account_missing || []).length) b.meta.append(badge("some account details unavailable"));
    b.meta.classList.remove("hidden");
    stars(b, f.turn);
    scrollDown();
  }

  function stars(b, turn) {
    const box = b.csat.querySelector(".stars");
    box.textContent = "";
    for (let i = 1; i <= 5; i++) {
      const s = document.createElement("button");
      s.type = "button";
      s.textContent = "★";
      s.setAttribute("aria-label", i + " of 5");
      s.addEventListener("click", () => {
        if (b.csat.classList.contains("sent")) return;
        send({ type: "feedback", turn, csat: i });
        box.querySelectorAll("button").forEach((x, k) => x.classList.toggle("on", k < i));
        b.csat.classList.add("sent");
        b.csat.querySelector("span").textContent = "Thanks for the feedback";
      });
      box.append(s);
    }
    b.csat.classList.remove("hidden");
  }

  function onError(f) {
    if (f.id && state.bubbles.has(f.id)) {
      const b = state.bubbles.get(f.id);
      b.node.classList.remove("typing");
      b.node.classList.add("done");
      if (!b.streamed) b.node.remove();
    }
    if (f.code === "session_forbidden") setSession("");
    if (f.code === "token_expired") {
      // The server closes the connection next; onclose signs in again with a new token.
      state.tokenExpired = true;
      return;
    }
    if (f.code === "too_many_connections") {  // then close 1013: onclose retries with a growing delay
      notice("error", [strong("Too many open chats. "), document.createTextNode(f.message)]);
      return;
    }
    notice("error", [strong("Couldn't do that. "), document.createTextNode(f.message || f.code)]);
  }

  function onEscalated(f) {
    notice("escalated", [
      strong("A support specialist will take it from here. "),
      document.createTextNode(`Reason: ${humanReason[f.reason] || f.reason}. Your reference: `),
      strong(f.handoff || "—"),
    ]);
  }

  function handle(f) {
    switch (f.type) {
      case "ready":
        state.retry = 0;
        if (!state.devTokens) {
          state.tenant = f.tenant;
          state.user = f.user;
        }
        setStatus("on", "Connected");
        el.sub.textContent = `Signed in as ${f.user} · ${f.tenant}`;
        setReady(true);
        // A deep link (/?q=...), e.g. a help article's "Ask about this", fills in the question once; the
        // customer sends it. Sending it for them would let any link speak in their conversation (a "yes"
        // link confirming an action they were asked about).
        if (state.pendingQuestion) {
          el.input.value = state.pendingQuestion;
          state.pendingQuestion = "";
          el.input.focus();
        }
        break;
      case "session":
        setSession(f.session);
        if (f.resumed) notice("", [document.createTextNode("Welcome back, this conversation continues where you left off.")]);
        break;
      case "delta": onDelta(f); break;
      case "reset": onReset(f); break;
      case "final": onFinal(f); break;
      case "escalated": onEscalated(f); break;
      case "agent_joined":
        notice("escalated", [strong(`${f.agent_name || "An agent"} from our support team joined the conversation.`)]);
        break;
      case "agent_message": onAgentMessage(f); break;
      case "agent_left":
        notice("", [document.createTextNode(f.state === "closed"
          ? `${f.agent_name || "The agent"} closed the conversation. Thanks for your patience.`
          : `${f.agent_name || "The agent"} handed you back to the assistant.`)]);
        break;
      case "error": onError(f); break;
      case "feedback_received": case "pong": break;
      default: break;
    }
  }

  // --- connection -----------------------------------------------------------------------------
  function send(obj) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(obj));
  }

  async function token() {
    if (!state.devTokens) return el.token.value.trim();
    const r = await fetch(`/dev/token?tenant=${encodeURIComponent(state.tenant)}&user=${encodeURIComponent(state.user)}`);
    if (!r.ok) throw new Error("could not get a development token (" + r.status + ")");
    return (await r.json()).token;
  }

  function disconnect() {
    clearTimeout(state.retryTimer);
    if (state.ws) {
      state.manualClose = true;
      state.ws.close(1000);
      state.ws = null;
    }
    setReady(false);
  }

  async function connect() {
    disconnect();
    state.manualClose = false;
    const [tenant, user] = (el.identity.value || "").split("/");
    if (state.devTokens && (!tenant || !user)) return;
    if (tenant !== state.tenant || user !== state.user) clearChat();
    state.tenant = tenant || "";
    state.user = user || "";
    setSession(localStorage.getItem(storageKey()) || "");
    setStatus("wait", "Connecting…");
    let t;
    try {
      t = await token();
    } catch (e) {
      setStatus("err", "No token");
      notice("error", [document.createTextNode(e.message)]);
      return;
    }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let url = `${scheme}://${location.host}/ws?token=${encodeURIComponent(t)}`;
    if (state.session) url += `&session=${encodeURIComponent(state.session)}`;
    if (state.session && state.agentLast)
      url += `&agent_seen=${encodeURIComponent(state.agentLast.handoff + ":" + state.agentLast.seq)}`;
    const ws = new WebSocket(url);
    state.ws = ws;
    ws.onmessage = (ev) => {
      let f;
      try { f = JSON.parse(ev.data); } catch { return; }
      handle(f);
    };
    ws.onclose = (ev) => {
      if (state.ws !== ws) return;
      state.ws = null;
      setReady(false);
      if (state.manualClose) return;
      if (ev.code === 1008 && state.tokenExpired) {
        state.tokenExpired = false;
        if (state.devTokens) {  // a fresh development token, the same conversation
          connect();
          return;
        }
        setStatus("err", "Signed out: the token expired");
        notice("error", [document.createTextNode("Your sign-in expired. Paste a new token and connect again.")]);
        return;
      }
      if (ev.code === 1008) {
        setStatus("err", "Signed out");
        return;
      }
      if (ev.code === 1009) notice("error", [document.createTextNode("That message was too large, so the connection was reset.")]);
      const delay = Math.min(15000, 1000 * 2 ** state.retry++);
      setStatus("wait", `Reconnecting in ${Math.round(delay / 1000)} s`);
      state.retryTimer = setTimeout(connect, delay);
    };
  }

  function clearChat() {
    state.bubbles.clear();
    el.messages.querySelectorAll(".msg, .notice").forEach((n) => n.remove());
    el.empty.classList.remove("hidden");
  }

  // --- wiring ---------------------------------------------------------------------------------
  function submit(text) {
    text = text.trim();
    if (!text || !state.ready) return;
    const id = `m-${Date.now().toString(36)}-${++state.counter}`;
    userMessage(text);
    botBubble(id);
    send({ type: "message", id, text });
  }

  el.composer.addEventListener("submit", (e) => {
    e.preventDefault();
    submit(el.input.value);
    el.input.value = "";
    el.input.style.height = "";
  });
  el.input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      el.composer.requestSubmit();
    }
  });
  el.input.addEventListener("input", () => {
    el.input.style.height = "";
    el.input.style.height = Math.min(160, el.input.scrollHeight) + "px";
  });
  document.querySelectorAll(".chip").forEach((c) => c.addEventListener("click", () => submit(c.dataset.q)));
  el.connect.addEventListener("click", connect);
  el.identity.addEventListener("change", connect);
  el.newChat.addEventListener("click", () => {
    setSession("");
    clearChat();
    connect();
  });
  el.human.addEventListener("click", () => send({ type: "escalate" }));

  async function init() {
    setReady(false);
    state.pendingQuestion = new URLSearchParams(location.search).get("q") || "";
    try {
      const r = await fetch("/dev/tenants");
      if (!r.ok) throw new Error();
      const { tenants } = await r.json();
      state.devTokens = true;
      for (const t of tenants)
        for (const u of t.users) {
          const o = document.createElement("option");
          o.value = `${t.id}/${u}`;
          o.textContent = `${u} @ ${t.id}`;
          el.identity.append(o);
        }
      connect();
    } catch {
      state.devTokens = false;
      el.identity.closest(".field").classList.add("hidden");
      el.tokenBox.classList.remove("hidden");
      el.hint.textContent = "Development tokens are off on this server: paste a token to connect.";
    }
  }

  init();
})();
