// ragen-mock dashboard. Plain browser JavaScript, no build step, no dependencies.
// It only talks to the mock's inspection API under /__mock/ (see ARCHITECTURE.md) and renders
// everything as text nodes, never as markup: journal bodies are whatever a client sent.
"use strict";

const API = "/__mock";
const MAX_ENTRIES = 1000;           // journal entries kept in the page
const SENSITIVE_HEADERS = /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key)$/i;

const $ = (sel) => document.querySelector(sel);

// ---------------------------------------------------------------- small helpers

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Every call carries x-mock-control: the mock refuses state changes without this non-simple
// header, which no cross-site form or "simple" request can send. With a control token, the
// browser's session cookie (set by the token form) authenticates, so the page never holds it.
async function api(method, path, body) {
  const init = { method, headers: { Accept: "application/json", "x-mock-control": "1" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(API + path, init);
  if (response.status === 401) {  // the token changed (the mock restarted): ask for it again
    location.reload();
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!response.ok) {
    const message = (data && data.error && data.error.message) || (typeof data === "string" && data) || "";
    throw new Error(`${method} ${API}${path} → ${response.status} ${message}`.trim());
  }
  return data;
}

let toastTimer = 0;
function toast(message, bad) {
  const node = $("#toast");
  node.textContent = message;
  node.className = bad ? "bad" : "";
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, bad ? 6000 : 2500);
}

function fail(error) { console.error(error); toast(String(error.message || error), true); }

function debounce(fn, ms) {
  let timer = 0;
  return () => { clearTimeout(timer); timer = setTimeout(() => fn().catch(fail), ms); };
}

// Times arrive as epoch seconds, epoch milliseconds or ISO strings: accept all three.
function toDate(value) {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value === "number") return new Date(value > 1e12 ? value : value * 1000);
  const date = new Date(value);
  return isNaN(date) ? null : date;
}
function clock(value) {
  const d = toDate(value);
  if (!d) return String(value ?? "");
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
function fullTime(value) { const d = toDate(value); return d ? d.toISOString() : String(value ?? ""); }

// The API already masks keys; mask again anything that does not look masked, so that a
// misconfigured server still never puts a whole key on screen.
function maskKey(key) {
  if (!key) return "";
  const s = String(key);
  if (/[…*]|\.\.\./.test(s) || s.length <= 8) return s;
  return `${s.slice(0, 4)}…${s.slice(-4)}`;
}

function pretty(body) {
  if (body === undefined || body === null || body === "") return null;
  if (typeof body === "string") {
    try { return JSON.stringify(JSON.parse(body), null, 2); } catch { return body; }
  }
  return JSON.stringify(body, null, 2);
}

function statusClass(status) {
  const n = Number(status);
  return n >= 500 ? "s5" : n >= 400 ? "s4" : n >= 100 ? "s2" : "s0";
}

function headersTable(headers) {
  const rows = [];
  const pairs = Array.isArray(headers) ? headers : Object.entries(headers || {});
  for (const [name, value] of pairs) {
    const hidden = SENSITIVE_HEADERS.test(name);
    rows.push(el("tr", {}, el("td", { text: name }),
      hidden ? el("td", { class: "redacted", text: "(hidden)" }) : el("td", { text: String(value) })));
  }
  return rows.length ? el("table", { class: "kv" }, el("tbody", {}, rows)) : el("p", { class: "muted", text: "(no headers)" });
}

// Headers fold away: the SDK sends a dozen, and the body is what one usually looks for.
function headersBlock(headers) {
  const count = Array.isArray(headers) ? headers.length : Object.keys(headers || {}).length;
  return el("details", { class: "headers" }, el("summary", { text: `Headers (${count})` }), headersTable(headers));
}

function bodyBlock(body) {
  const text = pretty(body);
  return text === null ? el("p", { class: "muted", text: "(no body)" }) : el("pre", { class: "json", text });
}

// ---------------------------------------------------------------- tabs

const TABS = ["journal", "threads", "assistants", "ratelimits", "faults"];
let currentTab = "journal";

function showTab() {
  const wanted = location.hash.replace("#", "");
  currentTab = TABS.includes(wanted) ? wanted : "journal";
  for (const name of TABS) $(`#tab-${name}`).hidden = name !== currentTab;
  for (const link of document.querySelectorAll("#tabs a")) {
    if (link.dataset.tab === currentTab) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const refresh = { threads: loadThreads, assistants: loadAssistants, ratelimits: loadRateLimits, faults: loadFaults }[currentTab];
  if (refresh) refresh().catch(fail);
}

// ---------------------------------------------------------------- journal

const journal = { byId: new Map(), order: [], open: new Set(), paused: [], paths: new Set(), keys: new Set(), arriving: null };

function entryMatches(entry) {
  const path = $("#f-path").value.trim().toLowerCase();
  const status = $("#f-status").value;
  const key = $("#f-key").value;
  const entryPath = String(entry.path || "");
  if (path && !entryPath.toLowerCase().includes(path)) return false;
  if (status) {
    const code = String(entry.status ?? "");
    if (/^\dxx$/.test(status) ? code[0] !== status[0] : code !== status) return false;
  }
  if (key && maskKey(entry.key) !== key) return false;
  return true;
}

function noteFilterValues(entry) {
  const path = String(entry.path || "");
  if (path && !journal.paths.has(path)) {
    journal.paths.add(path);
    $("#paths").append(el("option", { value: path }));
  }
  const key = maskKey(entry.key);
  if (key && !journal.keys.has(key)) {
    journal.keys.add(key);
    $("#f-key").append(el("option", { value: key, text: key }));
  }
  const status = String(entry.status ?? "");
  const select = $("#f-status");
  if (status && ![...select.options].some((o) => o.value === status)) select.append(el("option", { value: status, text: status }));
}

function fullPath(entry) { return `${entry.path || ""}${entry.query ? `?${entry.query}` : ""}`; }

function isStream(entry) { return Boolean(entry.response && Array.isArray(entry.response.stream)); }

// What the validating proxy (ragen-mock --upstream) found wrong with an exchange.
function violationsOf(entry) { return Array.isArray(entry.violations) ? entry.violations : []; }

function violationChip(entry) {
  const found = violationsOf(entry);
  if (!found.length) return null;
  const must = found.some((v) => v.level === "MUST" && v.by === "server");
  const ids = [...new Set(found.map((v) => v.requirement || "request schema"))];
  return el("span", { class: `chip violation${must ? " must" : ""}`, title: ids.join(", "), text: `⚠ ${ids.join(" ")}` });
}

function violationsBlock(entry) {
  const found = violationsOf(entry);
  if (!found.length) return null;
  return el("div", { class: "violations" },
    el("h4", { text: `Contract violations: ${found.length}` }),
    el("ul", {}, found.map((v) => el("li", { class: `level-${String(v.level).toLowerCase()}` },
      el("span", { class: "rid", text: v.requirement || "request schema" }), " ",
      el("span", { class: "chip", text: `${v.level} · ${v.by === "client" ? "the client's request" : "the server"}` }), " ",
      el("span", { class: "message", text: v.message }),
      v.text ? el("div", { class: "requirement muted", text: v.text }) : null))));
}

function entryRow(entry, fresh) {
  const open = journal.open.has(entry.id);
  return el("tr", {
    class: `entry${open ? " open" : ""}${fresh ? " fresh" : ""}${violationsOf(entry).length ? " violating" : ""}`,
    dataset: { id: entry.id, path: entry.path || "", status: String(entry.status ?? "") },
    onclick: () => toggleEntry(entry.id),
    title: "Click to show the full request and response",
  },
    el("td", { class: "mono", title: fullTime(entry.time), text: clock(entry.time) }),
    el("td", { text: entry.method || "" }),
    el("td", { class: "path" }, fullPath(entry), isStream(entry) ? el("span", { class: "chip stream", text: `stream · ${entry.response.stream.length}` }) : null, violationChip(entry)),
    el("td", {}, el("span", { class: `status ${statusClass(entry.status)}`, text: entry.status ?? "–" })),
    el("td", { class: "num", text: typeof entry.duration_ms === "number" ? entry.duration_ms.toFixed(1) : "" }),
    el("td", {}, entry.key ? el("span", { class: "chip", text: maskKey(entry.key) }) : el("span", { class: "muted", text: "–" })),
    el("td", { class: "mono", text: entry.client || "" }),
    el("td", { class: "rid", text: entry.id || "" }),
  );
}

// One SSE event as journaled: the data, preceded by an "event: NAME" line for named events.
function chunkPayload(raw) {
  const text = String(raw ?? "");
  const named = /^event: ?([^\n]*)\n([\s\S]*)$/.exec(text);
  return named ? { event: named[1].trim(), data: named[2] } : { event: null, data: text };
}

// The text a chunk adds to the answer: chat.completion.chunk delta.content, or a native delta.
function chunkContent(payload) {
  if (payload.event === "done") return null;
  try {
    const json = JSON.parse(payload.data);
    if (json && Array.isArray(json.choices) && json.choices[0] && json.choices[0].delta) {
      const content = json.choices[0].delta.content;
      return typeof content === "string" ? content : null;
    }
    if (json && typeof json.content === "string" && (payload.event === "delta" || !("object" in json))) return json.content;
  } catch { /* not JSON: [DONE], a malformed chunk, a comment */ }
  return null;
}

function streamBlock(stream) {
  const rows = [];
  let assembled = "";
  let previous = 0;
  stream.forEach((chunk, index) => {
    const t = Number(chunk.t_ms);
    const payload = chunkPayload(chunk.data);
    const content = chunkContent(payload);
    if (content) assembled += content;
    rows.push(el("tr", { class: "chunk" },
      el("td", { class: "num", text: index + 1 }),
      el("td", { class: "num", text: isFinite(t) ? t.toFixed(1) : "" }),
      el("td", { class: "num muted", text: isFinite(t) ? `+${(t - previous).toFixed(1)}` : "" }),
      el("td", {}, content ? el("span", { class: "content", text: content }) : null),
      el("td", { class: "data", text: (payload.event ? `event: ${payload.event}  ` : "") + payload.data }),
    ));
    if (isFinite(t)) previous = t;
  });
  return [
    el("h5", { text: `Stream: ${stream.length} chunk(s)` }),
    assembled ? el("div", { class: "assembled", title: "The chunks' content, joined", text: assembled }) : null,
    el("div", { class: "chunks-wrap" }, el("table", { class: "chunks" },
      el("thead", {}, el("tr", {}, el("th", { class: "num", text: "#" }), el("th", { class: "num", text: "t ms" }),
        el("th", { class: "num", text: "Δ ms" }), el("th", { text: "content" }), el("th", { text: "data" }))),
      el("tbody", {}, rows))),
  ];
}

function detailRow(entry) {
  const request = entry.request || {};
  const response = entry.response || {};
  return el("tr", { class: "detail", dataset: { for: entry.id } }, el("td", { colspan: 8 },
    violationsBlock(entry),
    el("div", { class: "detail-grid" },
      el("div", { class: "pane request" },
        el("h4", { text: "Request" }),
        el("p", { class: "mono", text: `${entry.method || ""} ${fullPath(entry)}` }),
        el("h5", { text: "Body" }), bodyBlock(request.body),
        headersBlock(request.headers)),
      el("div", { class: "pane response" },
        el("h4", {}, "Response ", el("span", { class: `status ${statusClass(entry.status)}`, text: entry.status ?? "–" }),
          typeof entry.duration_ms === "number" ? el("span", { class: "muted", text: `  ${entry.duration_ms.toFixed(1)} ms` }) : null),
        isStream(entry) ? streamBlock(response.stream) : [el("h5", { text: "Body" }), bodyBlock(response.body)],
        headersBlock(response.headers),
        el("p", {}, el("a", { href: `${API}/journal/${encodeURIComponent(entry.id)}`, target: "_blank", rel: "noopener", text: "raw JSON" }))),
    )));
}

function renderJournal() {
  const body = $("#journal-rows");
  const rows = [];
  let shown = 0;
  for (const id of journal.order) {
    const entry = journal.byId.get(id);
    if (!entryMatches(entry)) continue;
    shown += 1;
    rows.push(entryRow(entry, false));
    if (journal.open.has(id)) rows.push(detailRow(entry));
  }
  body.replaceChildren(...rows);
  updateJournalCounts(shown);
}

function updateJournalCounts(shown) {
  if (shown === undefined) shown = $("#journal-rows").querySelectorAll("tr.entry").length;
  const total = journal.order.length;
  $("#count-journal").textContent = total;
  $("#journal-empty").hidden = shown > 0;
  $("#journal-shown").textContent = total ? `${shown} of ${total} shown` : "";
}

function toggleEntry(id) {
  if (journal.open.has(id)) journal.open.delete(id); else journal.open.add(id);
  const row = $("#journal-rows").querySelector(`tr.entry[data-id="${CSS.escape(id)}"]`);
  if (!row) { renderJournal(); return; }
  row.classList.toggle("open", journal.open.has(id));
  const next = row.nextElementSibling;
  if (next && next.classList.contains("detail")) next.remove();
  if (journal.open.has(id)) row.after(detailRow(journal.byId.get(id)));
}

// An entry from the live stream: prepend it without re-rendering the whole table.
function addEntry(entry, live) {
  if (!entry || !entry.id) return;
  if (journal.arriving) journal.arriving.set(entry.id, entry);
  noteFilterValues(entry);
  const known = journal.byId.has(entry.id);
  journal.byId.set(entry.id, entry);
  if (known) { renderJournal(); return; }
  journal.order.unshift(entry.id);
  while (journal.order.length > MAX_ENTRIES) {
    const dropped = journal.order.pop();
    journal.byId.delete(dropped);
    journal.open.delete(dropped);
  }
  if (entryMatches(entry)) $("#journal-rows").prepend(entryRow(entry, live));
  const overflow = $("#journal-rows").querySelectorAll("tr.entry");
  if (overflow.length > MAX_ENTRIES) renderJournal(); else updateJournalCounts();
  if (live) afterRequest(entry);
}

async function loadJournal() {
  // Entries that arrive live while the list is in flight may be missing from it: keep them.
  const arrived = (journal.arriving = new Map());
  let entries;
  try {
    const data = await api("GET", `/journal?limit=${MAX_ENTRIES}`);
    entries = (data && data.data) || [];
  } finally {
    journal.arriving = null;
  }
  const listed = new Set(entries.map((entry) => entry && entry.id));
  journal.byId.clear();
  journal.order = [];
  for (const entry of [...[...arrived.values()].reverse().filter((e) => !listed.has(e.id)), ...entries]) {
    if (!entry || !entry.id || journal.byId.has(entry.id)) continue;
    journal.byId.set(entry.id, entry);
    journal.order.push(entry.id);
    noteFilterValues(entry);
  }
  renderJournal();
}

function connectLive() {
  const badge = $("#live");
  const source = new EventSource(`${API}/journal/stream`);
  let dropped = false;
  const onEntry = (event) => {
    let entry;
    try { entry = JSON.parse(event.data); } catch { return; }
    if ($("#f-pause").checked) { journal.paused.push(entry); setLive(); return; }
    addEntry(entry, true);
  };
  source.onmessage = onEntry;
  source.addEventListener("entry", onEntry);
  source.onopen = () => {
    badge.dataset.state = "on";
    setLive();
    // After a reconnect the stream does not replay what we missed: fetch the list again.
    if (dropped) loadJournal().catch(fail);
    dropped = false;
  };
  source.onerror = () => {
    dropped = true;
    badge.dataset.state = "off";
    setLive();
  };
}

function setLive() {
  const badge = $("#live");
  const paused = $("#f-pause").checked;
  const on = badge.dataset.state === "on";
  badge.className = `live ${paused ? "paused" : on ? "on" : "off"}`;
  badge.textContent = paused ? `paused (${journal.paused.length} new)` : on ? "live" : "reconnecting…";
}

// Other views follow the requests: faults get used up, budgets spent, threads and assistants created.
const refreshFaultsSoon = debounce(() => loadFaults(), 150);
const refreshThreadsSoon = debounce(() => loadThreads(), 250);
const refreshAssistantsSoon = debounce(() => loadAssistants(), 250);
const refreshRateLimitsSoon = debounce(() => loadRateLimits(), 250);
function afterRequest(entry) {
  const path = String(entry.path || "");
  if (path.startsWith(API)) return;
  refreshFaultsSoon();
  if (path.startsWith("/v1/chat")) refreshThreadsSoon();
  if (path.startsWith("/v1/assistants") && entry.method !== "GET") refreshAssistantsSoon();
  if (currentTab === "ratelimits") refreshRateLimitsSoon();
}

// ---------------------------------------------------------------- assistants

let orgs = [];

function assistantName(id) {
  for (const org of orgs) for (const a of org.assistants || []) if (a.id === id) return a.name || id;
  return id;
}

async function loadAssistants() {
  const data = await api("GET", "/assistants");
  orgs = (data && data.data) || [];
  const blocks = orgs.map((org) => el("div", { class: "org" },
    el("h3", {}, org.org_id, el("span", { class: "mono", text: `  ${(org.assistants || []).length} assistant(s)` })),
    el("table", { class: "grid assistants", dataset: { org: org.org_id } },
      el("thead", {}, el("tr", {}, ["id", "name", "model", "instructions", "created", "metadata"].map((h) => el("th", { text: h })))),
      el("tbody", {}, (org.assistants || []).map((a) => el("tr", { dataset: { id: a.id } },
        el("td", { class: "mono nowrap", text: a.id }),
        el("td", {}, el("strong", { text: a.name ?? "" })),
        el("td", { class: "mono nowrap", text: a.model ?? "" }),
        el("td", {}, el("div", { class: "clip", title: a.instructions ?? "", text: a.instructions ?? "" })),
        el("td", { class: "mono", title: fullTime(a.created_at), text: toDate(a.created_at) ? toDate(a.created_at).toLocaleString() : "" }),
        el("td", { class: "mono", text: a.metadata && Object.keys(a.metadata).length ? JSON.stringify(a.metadata) : "" }),
      )))),
  ));
  $("#orgs").replaceChildren(...(blocks.length ? blocks : [el("p", { class: "empty", text: "No organisations configured." })]));

  const select = $("#t-assistant");
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "", text: "all assistants" }),
    ...orgs.map((org) => el("optgroup", { label: org.org_id },
      (org.assistants || []).map((a) => el("option", { value: a.id, text: `${a.name || "(unnamed)"} — ${a.id}` })))));
  select.value = chosen;
}

// ---------------------------------------------------------------- threads

async function loadThreads() {
  const assistant = $("#t-assistant").value;
  const data = await api("GET", `/threads${assistant ? `?assistant_id=${encodeURIComponent(assistant)}` : ""}`);
  const threads = (data && data.data) || [];
  if (!assistant) $("#count-threads").textContent = threads.length;
  // Newest first; created_at has one-second resolution, so ties keep the mock's (oldest-first) order reversed.
  const order = threads.map((thread, index) => ({ thread, index, at: +(toDate(thread.created_at) || 0) }));
  order.sort((a, b) => b.at - a.at || b.index - a.index);
  $("#threads").replaceChildren(...order.map((item) => threadCard(item.thread)));
  $("#threads-empty").hidden = threads.length > 0;
}

function bubble(role, text, cls) {
  return el("div", { class: `msg ${cls || role}` },
    el("div", { class: "bubble" }, el("span", { class: "role", text: role }), text ?? ""));
}

function messageText(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => (part && typeof part.text === "string" ? part.text : JSON.stringify(part))).join("\n");
  return JSON.stringify(content);
}

function threadCard(thread) {
  return el("article", { class: "thread", dataset: { id: thread.id, assistant: thread.assistant_id } },
    el("header", {},
      el("strong", { text: assistantName(thread.assistant_id) }),
      el("span", { class: "mono", text: thread.id }),
      el("span", { title: fullTime(thread.created_at), text: toDate(thread.created_at) ? toDate(thread.created_at).toLocaleString() : "" }),
      thread.key ? el("span", { class: "chip", text: maskKey(thread.key) }) : null,
      thread.request_id ? el("a", { href: "#journal", class: "mono", text: `request ${thread.request_id}`,
        onclick: (e) => { e.preventDefault(); openInJournal(thread.request_id); } }) : null),
    thread.instructions ? el("details", {}, el("summary", { text: "Effective instructions (merged)" }), bubble("system", thread.instructions)) : null,
    (thread.messages || []).map((m) => bubble(m.role || "?", messageText(m.content))),
    thread.answer !== undefined && thread.answer !== null ? bubble("assistant (answer)", messageText(thread.answer), "answer") : null,
  );
}

async function openInJournal(requestId) {
  if (!journal.byId.has(requestId)) addEntry(await api("GET", `/journal/${encodeURIComponent(requestId)}`), false);
  $("#f-path").value = ""; $("#f-status").value = ""; $("#f-key").value = "";
  journal.open.add(requestId);
  location.hash = "#journal";
  renderJournal();
  const row = $("#journal-rows").querySelector(`tr.entry[data-id="${CSS.escape(requestId)}"]`);
  if (row) row.scrollIntoView({ block: "center" });
}

// ---------------------------------------------------------------- rate limits

async function loadRateLimits() {
  const data = await api("GET", "/ratelimit");
  const budgets = (data && data.data) || [];
  $("#ratelimit-rows").replaceChildren(...budgets.map((b) => {
    const limit = Number(b.limit) || 0;
    const used = Number(b.used) || 0;
    const share = limit ? Math.min(100, (used / limit) * 100) : 0;
    return el("tr", { class: "budget", dataset: { tier: b.tier, client: b.client } },
      el("td", {}, el("strong", { text: b.tier })),
      el("td", { class: "mono", text: b.client }),
      el("td", { class: "num", text: b.limit }),
      el("td", { class: "num used", text: b.used }),
      el("td", { class: "num remaining", text: b.remaining }),
      el("td", {}, el("div", { class: `bar${used >= limit && limit ? " full" : ""}` }, el("span", { style: `width:${share}%` }))),
      el("td", { class: "num", text: typeof b.reset_s === "number" ? b.reset_s.toFixed(1) : b.reset_s ?? "" }),
      el("td", {}, el("button", { type: "button", class: "small reset", text: "Reset",
        onclick: () => resetBudget({ client: b.client, tier: b.tier }) })),
    );
  }));
  $("#ratelimit-empty").hidden = budgets.length > 0;
  $("#ratelimit-rows").closest("table").hidden = budgets.length === 0;
}

async function resetBudget(body) {
  try {
    await api("POST", "/ratelimit/reset", body);
    toast(body.client ? `Reset the ${body.tier} budget of ${body.client}` : "Reset every budget");
    await loadRateLimits();
  } catch (error) { fail(error); }
}

// ---------------------------------------------------------------- faults

const FAULT_PARAMS = ["status", "retry_after", "delay_ms", "after_chunks"];
// The mock reports every parameter with its default; show the one the kind uses.
const KIND_PARAMS = {
  status: ["status"], rate_limit: ["retry_after"], delay: ["delay_ms"],
  cut_stream: ["after_chunks"], malformed_chunk: ["after_chunks"], error_event: ["after_chunks"],
};

function syncFaultForm() {
  const kind = $("#fault-kind").value;
  for (const label of document.querySelectorAll("#fault-form [data-for]")) {
    label.hidden = !label.dataset.for.split(" ").includes(kind);
  }
}

async function armFault(event) {
  event.preventDefault();
  const form = event.target;
  const value = (name) => form.elements[name].value.trim();
  const body = { kind: value("kind"), count: Math.max(1, parseInt(value("count"), 10) || 1) };
  for (const name of FAULT_PARAMS) {
    const label = form.elements[name].closest("label");
    if (!label.hidden && value(name) !== "") body[name] = Number(value(name));
  }
  const match = {};
  for (const name of ["method", "path", "body_contains"]) if (value(name)) match[name] = value(name);
  if (Object.keys(match).length) body.match = match;
  const error = $("#fault-error");
  try {
    const armed = await api("POST", "/faults", body);
    error.hidden = true;
    toast(`Armed ${armed && armed.kind ? armed.kind : body.kind} for the next ${body.count} request(s)`);
    await loadFaults();
  } catch (e) {
    error.textContent = String(e.message || e);
    error.hidden = false;
  }
}

function describeMatch(match) {
  if (!match) return "any request";
  const parts = [];
  if (match.method) parts.push(match.method);
  if (match.path) parts.push(match.path);
  if (match.body_contains) parts.push(`body ∋ "${match.body_contains}"`);
  return parts.length ? parts.join(" ") : "any request";
}

async function loadFaults() {
  const data = await api("GET", "/faults");
  const faults = (data && data.data) || (Array.isArray(data) ? data : []);
  $("#fault-rows").replaceChildren(...faults.map((f) => {
    const params = (KIND_PARAMS[f.kind] || FAULT_PARAMS).filter((p) => f[p] !== undefined && f[p] !== null).map((p) => `${p}=${f[p]}`).join("  ");
    const left = f.remaining ?? f.count;
    return el("tr", { class: "fault", dataset: { id: f.id, kind: f.kind } },
      el("td", { class: "mono", text: f.id }),
      el("td", {}, el("strong", { text: f.kind })),
      el("td", { class: "num", text: left ?? "" }),
      el("td", { class: "mono", text: describeMatch(f.match) }),
      el("td", { class: "mono", text: params }),
      el("td", {}, el("button", { type: "button", class: "small disarm", text: "Disarm",
        onclick: () => api("DELETE", `/faults/${encodeURIComponent(f.id)}`).then(() => { toast("Disarmed"); return loadFaults(); }).catch(fail) })),
    );
  }));
  $("#faults-empty").hidden = faults.length > 0;
  $("#fault-rows").closest("table").hidden = faults.length === 0;
  const count = $("#count-faults");
  count.textContent = faults.length;
  count.classList.toggle("hot", faults.length > 0);
}

// ---------------------------------------------------------------- start

function start() {
  window.addEventListener("hashchange", showTab);
  for (const id of ["#f-path", "#f-status", "#f-key"]) $(id).addEventListener("input", renderJournal);
  $("#journal-filters").addEventListener("submit", (e) => e.preventDefault());
  $("#f-pause").addEventListener("change", () => {
    if (!$("#f-pause").checked) {
      const waiting = journal.paused.splice(0);
      for (const entry of waiting) addEntry(entry, true);
    }
    setLive();
  });
  $("#journal-clear").addEventListener("click", () => {
    api("DELETE", "/journal").then(() => {
      journal.byId.clear(); journal.order = []; journal.open.clear(); journal.paused = [];
      renderJournal(); toast("Journal cleared");
    }).catch(fail);
  });
  $("#t-assistant").addEventListener("change", () => loadThreads().catch(fail));
  $("#threads-refresh").addEventListener("click", () => loadThreads().catch(fail));
  $("#assistants-refresh").addEventListener("click", () => loadAssistants().catch(fail));
  $("#ratelimit-refresh").addEventListener("click", () => loadRateLimits().catch(fail));
  $("#ratelimit-reset-all").addEventListener("click", () => resetBudget({}));
  $("#fault-kind").addEventListener("change", syncFaultForm);
  $("#fault-form").addEventListener("submit", armFault);
  $("#faults-clear").addEventListener("click", () => api("DELETE", "/faults").then(() => { toast("Disarmed every fault"); return loadFaults(); }).catch(fail));
  syncFaultForm();

  // Budgets count down on their own; poll them only while that tab is on screen.
  setInterval(() => { if (currentTab === "ratelimits" && !document.hidden) loadRateLimits().catch(() => {}); }, 1000);
  // Faults can be armed by other clients (API, x-mock-fault is per request): keep the badge honest.
  setInterval(() => { if (!document.hidden) loadFaults().catch(() => {}); }, 5000);

  connectLive();
  Promise.all([loadJournal(), loadAssistants(), loadFaults()])
    .then(() => loadThreads())
    .catch(fail)
    .finally(() => { showTab(); document.body.dataset.ready = "1"; });
}

start();
