// The playground page: a Slack-like channel with threads, a composer, a user switcher, modals and the
// App Home tab, kept live by the server's event stream. Every gesture is a JSON POST; the server
// turns it into the signed Slack request the bot receives.

import { readInputs, renderBlocks } from "./blocks.js";
import { el, mrkdwn, plainText } from "./mrkdwn.js";

const $ = (selector) => document.querySelector(selector);
const page = { state: null, user: null, channel: null, thread: null, tab: "channel", stream: null, modalKey: "" };

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: page.user, ...body }),
  });
  const text = await response.text();
  if (!response.ok) {
    notice(`The playground refused that: ${text}`);
    throw new Error(text);
  }
  return text ? JSON.parse(text) : {};
}

function notice(text) {
  const bar = $("#notice");
  bar.textContent = text;
  bar.hidden = false;
}

function connect() {
  if (page.stream) page.stream.close();
  page.stream = new EventSource(`/api/events?user=${encodeURIComponent(page.user)}`);
  page.stream.addEventListener("state", (event) => {
    page.state = JSON.parse(event.data);
    $("#status").textContent = "live";
    render();
  });
  page.stream.onerror = () => ($("#status").textContent = "reconnecting…");
}

function context() {
  const state = page.state;
  return {
    names: state.names,
    channels: state.channels,
    channelName: (id) => state.channels.find((c) => c.id === id)?.name || id,
    confirm: (dialog) => Promise.resolve(window.confirm(`${dialog.title?.text || ""}\n${dialog.text?.text || ""}`)),
  };
}

function render() {
  const state = page.state;
  if (!page.channel) page.channel = state.channels[0]?.id;
  renderSidebar(state);
  $("#channel-view").hidden = page.tab !== "channel";
  $("#home-view").hidden = page.tab !== "home";
  if (page.tab === "channel") renderChannel(state);
  else renderHome(state);
  renderThread(state);
  renderModal(state);
}

function renderSidebar(state) {
  const list = $("#channels");
  list.replaceChildren(
    ...state.channels.map((channel) => {
      const item = el("button", "nav", `# ${channel.name}`);
      item.classList.toggle("active", page.tab === "channel" && channel.id === page.channel);
      item.addEventListener("click", () => {
        Object.assign(page, { tab: "channel", channel: channel.id, thread: null });
        render();
      });
      return item;
    }),
  );
  $("#home-tab").classList.toggle("active", page.tab === "home");
}

function renderChannel(state) {
  const name = state.channels.find((c) => c.id === page.channel)?.name || "";
  $("#channel-title").textContent = `# ${name}`;
  const messages = (state.messages[page.channel] || []).filter((m) => !m.thread_ts || m.thread_ts === m.ts);
  const whispers = state.ephemerals.filter((e) => e.channel === page.channel && !e.thread_ts);
  fill($("#messages"), [...messages.map((m) => ["m", m]), ...whispers.map((e) => ["e", e])], true);
}

function renderThread(state) {
  const pane = $("#thread");
  const all = state.messages[page.channel] || [];
  const parent = page.tab === "channel" && all.find((m) => m.ts === page.thread);
  pane.hidden = !parent;
  if (!parent) return;
  const replies = all.filter((m) => m.thread_ts === parent.ts && m.ts !== parent.ts);
  const whispers = state.ephemerals.filter((e) => e.channel === page.channel && e.thread_ts === parent.ts);
  fill($("#replies"), [["m", parent, true], ...replies.map((m) => ["m", m, true]), ...whispers.map((e) => ["e", e])], false);
}

// Rebuilds only the entries whose content changed, so scrolling and focus survive updates.
function fill(container, entries, inChannel) {
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
  entries.sort((a, b) => a[1].at - b[1].at);
  const wanted = entries.map(([kind, item, inThread]) => {
    const key = `${kind}:${item.ts || item.id}:${inThread ? "t" : ""}`;
    const signature = JSON.stringify(item);
    let node = container.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (!node || node.dataset.signature !== signature) {
      node = kind === "m" ? messageNode(item, inChannel && !inThread) : ephemeralNode(item);
      node.dataset.key = key;
      node.dataset.signature = signature;
    }
    return node;
  });
  container.replaceChildren(...wanted);
  if (atBottom) container.scrollTop = container.scrollHeight;
}

function author(state, userId) {
  const isBot = userId === state.bot.id;
  const name = state.names[userId] || userId;
  return el("div", "author", el("span", `avatar ${isBot ? "bot" : ""}`, name.slice(0, 1).toUpperCase()),
    el("strong", null, name), isBot ? el("span", "app-badge", "APP") : null);
}

function messageNode(message, withReplies) {
  const state = page.state;
  const node = el("article", "message");
  node.dataset.ts = message.ts;
  node.append(author(state, message.user), el("time", "when", clock(message.at)));
  const ctx = { ...context(), act: (element, blockId, value) => clickMessage(message, element, value) };
  const body = message.blocks?.length ? renderBlocks(message.blocks, ctx) : mrkdwn(message.text, ctx);
  node.append(el("div", "body", body));
  for (const attachment of message.attachments || []) node.append(attachmentNode(attachment, ctx));
  for (const file of message.files || []) node.append(fileNode(file));
  if (withReplies) {
    const count = message.reply_count || 0;
    const open = el("button", "replies-link", count ? `${count} ${count === 1 ? "reply" : "replies"}` : "Reply in thread");
    open.addEventListener("click", () => {
      page.thread = message.ts;
      render();
    });
    node.append(open);
  }
  return node;
}

function attachmentNode(attachment, ctx) {
  const node = el("div", "attachment");
  if (attachment.color) node.style.borderLeftColor = safeColor(attachment.color);
  if (attachment.blocks) node.append(renderBlocks(attachment.blocks, ctx));
  else if (attachment.text || attachment.fallback) node.append(mrkdwn(attachment.text || attachment.fallback, ctx));
  return node;
}

function safeColor(color) {
  const named = { good: "#2eb67d", warning: "#ecb22e", danger: "#e01e5a" };
  return named[color] || (/^#[0-9a-f]{3,8}$/i.test(color) ? color : "#ddd");
}

function fileNode(file) {
  const node = el("figure", "file");
  const url = `/files/${encodeURIComponent(file.id)}`;
  if (file.image) {
    const img = el("img");
    img.src = url;
    img.alt = file.title;
    node.append(img);
  }
  const anchor = el("a", null, `📎 ${file.title} (${Math.ceil(file.size / 1024)} KB)`);
  anchor.href = url;
  node.append(el("figcaption", null, anchor));
  return node;
}

function ephemeralNode(whisper) {
  const node = el("article", "message ephemeral");
  node.append(author(page.state, page.state.bot.id), el("time", "when", clock(whisper.at)));
  const ctx = { ...context(), act: (element, blockId, value) => post("/api/click", { where: "ephemeral", ephemeral: whisper.id, action_id: element.action_id, value }) };
  node.append(el("div", "body", whisper.blocks.length ? renderBlocks(whisper.blocks, ctx) : mrkdwn(whisper.text, ctx)));
  const dismiss = el("button", "dismiss", "Dismiss");
  dismiss.addEventListener("click", () => post("/api/dismiss", { ephemeral: whisper.id }));
  node.append(el("div", "only-you", "👁 Only visible to you ", dismiss));
  return node;
}

function clickMessage(message, element, value) {
  return post("/api/click", { where: "message", channel: page.channel, message_ts: message.ts, action_id: element.action_id, value });
}

function renderHome(state) {
  const view = state.home;
  const ctx = { ...context(), act: (element, blockId, value) => post("/api/click", { where: "home", action_id: element.action_id, value }) };
  const key = JSON.stringify(view);
  const root = $("#home-blocks");
  if (root.dataset.signature === key) return;
  root.dataset.signature = key;
  root.replaceChildren(view ? renderBlocks(view.blocks, ctx) : el("p", "empty", "Carapulse has not published a Home tab for you yet…"));
}

function renderModal(state) {
  const view = state.modals[state.modals.length - 1];
  const overlay = $("#modal");
  overlay.hidden = !view;
  const key = view ? `${view.id}:${view.hash || ""}:${JSON.stringify(view.blocks)}` : "";
  if (!view || key === page.modalKey) return;
  page.modalKey = key;
  const ctx = { ...context(), act: () => notice("Buttons inside modals are not simulated by the playground.") };
  const form = el("form", "modal");
  form.append(el("h2", null, plainText(view.title?.text)), renderBlocks(view.blocks, ctx));
  const close = el("button", "btn default", plainText(view.close?.text || "Cancel"));
  close.type = "button";
  close.addEventListener("click", () => post("/api/close", { view_id: view.id }));
  const actions = el("div", "modal-actions", close);
  if (view.submit) actions.append(el("button", "btn primary", plainText(view.submit.text)));
  form.append(actions);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await post("/api/submit", { view_id: view.id, values: readInputs(form, view) });
    for (const field of form.querySelectorAll(".input-error")) field.textContent = "";
    for (const [blockId, message] of Object.entries(answer.errors || {})) {
      const target = form.querySelector(`[data-block-id="${CSS.escape(blockId)}"] .input-error`);
      if (target) target.textContent = message;
      else notice(message);
    }
  });
  overlay.replaceChildren(form);
}

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function composer(form, threadOf) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = form.querySelector("textarea");
    const text = box.value.trim();
    if (!text) return;
    box.value = "";
    await post("/api/say", { channel: page.channel, text, thread_ts: threadOf() });
  });
  form.querySelector("textarea").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}

function setup() {
  const people = $("#user");
  fetch("/api/state?user=U0123ALICE1")
    .then((r) => r.json())
    .then((state) => {
      people.replaceChildren(...state.people.map((p) => {
        const choice = el("option", null, `${p.name} (${p.part})`);
        choice.value = p.id;
        return choice;
      }));
      page.user = people.value = localStorage.getItem("playground-user") || state.people[0].id;
      connect();
    });
  people.addEventListener("change", () => {
    page.user = people.value;
    localStorage.setItem("playground-user", page.user);
    page.modalKey = "";
    for (const box of document.querySelectorAll("[data-signature]")) delete box.dataset.signature;
    connect();
    if (page.tab === "home") post("/api/home", {});
  });
  $("#home-tab").addEventListener("click", () => {
    Object.assign(page, { tab: "home", thread: null });
    render();
    post("/api/home", {});
  });
  $("#close-thread").addEventListener("click", () => {
    page.thread = null;
    render();
  });
  $("#alert-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = event.submitter?.value || "firing";
    const answer = await post("/api/alert", { service: $("#alert-service").value, severity: $("#alert-severity").value, status });
    notice(`Alertmanager webhook (${status}) sent: Carapulse answered ${answer.status}`);
  });
  $("#notice").addEventListener("click", () => ($("#notice").hidden = true));
  composer($("#composer"), () => null);
  composer($("#thread-composer"), () => page.thread);
}

setup();
