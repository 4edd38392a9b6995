// The moderation queue's keys and live updates. The page works without this file:
// every action is a plain form. Texts come from data-text-* attributes (translated server-side).

const list = document.querySelector(".mod-items");
const banner = document.getElementById("mod-live");
const text = (name, values = {}) =>
  (document.body.querySelector("[data-text-" + name + "]")?.getAttribute("data-text-" + name) ?? "")
    .replace(/\{(\w+)\}/g, (_, key) => values[key] ?? "");

const open = () => Array.from(document.querySelectorAll(".mod-item:not(.is-decided)"));

function focused() {
  const item = document.activeElement?.closest?.(".mod-item");
  return item && !item.classList.contains("is-decided") ? item : null;
}

function select(item) {
  if (!item) return;
  for (const other of document.querySelectorAll(".mod-item.is-current")) {
    other.classList.remove("is-current");
    other.removeAttribute("aria-current");
  }
  item.classList.add("is-current");
  item.setAttribute("aria-current", "true");
  item.focus({ preventScroll: true });
  item.scrollIntoView({ block: "nearest" });
}

function move(step) {
  const items = open();
  if (!items.length) return;
  const index = items.indexOf(focused() ?? document.querySelector(".mod-item.is-current"));
  const next = index < 0 ? 0 : Math.max(0, Math.min(items.length - 1, index + step));
  select(items[next]);
}

function press(item, key) {
  item.querySelector('button[data-key="' + key + '"]')?.click();
}

function reveal(item, key) {
  const panel = item.querySelector('details[data-key="' + key + '"]');
  if (!panel) return;
  panel.open = true;
  panel.querySelector("select, textarea")?.focus();
}

function typing(target) {
  if (target instanceof HTMLInputElement && ["checkbox", "radio"].includes(target.type)) {
    return false;
  }
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

// Items show their first lines (moderation.css) until chosen: by j / k, or a click on one
// anywhere but its links and controls.
list?.classList.add("is-enhanced");
list?.addEventListener("click", (event) => {
  const item = event.target.closest(".mod-item");
  if (!item || item.classList.contains("is-current") || item.classList.contains("is-decided")) return;
  if (event.target.closest("a, button, summary, input, select, textarea, label")) return;
  select(item);
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    const panel = document.activeElement?.closest?.("details[open]");
    if (panel) {
      panel.open = false;
      panel.closest(".mod-item")?.focus();
    }
    return;
  }
  if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
  const item = focused() ?? document.querySelector(".mod-item.is-current:not(.is-decided)");
  const actions = {
    j: () => move(1),
    k: () => move(-1),
    c: () => item && press(item, "c"),
    a: () => item && press(item, "a"),
    e: () => item && reveal(item, "e"),
    r: () => item && reveal(item, "r"),
    x: () => item && toggle(item),
    A: () => bulkSubmit("approve"),
    R: () => revealBulk(),
  };
  const action = actions[event.key];
  if (action) {
    event.preventDefault();
    action();
  }
});

// --- forms: posted in place, the answer read as JSON ----------------------------------------

const empty = document.querySelector(".mod-empty");
const gone = new Set(); // items this page has seen decided: a late refresh must not bring them back

function say(message) {
  if (!banner || !message) return;
  banner.replaceChildren(document.createTextNode(message));
  banner.hidden = false;
}

function setVersion(item, version) {
  for (const input of item.querySelectorAll("[data-version]")) {
    if (Number(input.value) < version) input.value = version;
  }
}

function showEmpty() {
  if (empty) empty.hidden = Boolean(list?.querySelector(".mod-item"));
}

function leave(item) {
  const items = open();
  const index = items.indexOf(item);
  const wasCurrent = item.classList.contains("is-current") || item.contains(document.activeElement);
  gone.add(item.dataset.id);
  item.remove();
  showEmpty();
  showSelection();
  if (wasCurrent) select(items[index + 1] ?? items[index - 1]);
}

list?.addEventListener("submit", async (event) => {
  const form = event.target;
  const item = form.closest(".mod-item");
  if (!item || form.dataset.native) return;
  event.preventDefault();
  if (item.getAttribute("aria-busy") === "true") return;
  const submitter = event.submitter;
  const action = submitter?.getAttribute("formaction") || form.getAttribute("action");
  item.setAttribute("aria-busy", "true");
  let answer;
  try {
    const response = await fetch(action, {
      method: "POST",
      body: new FormData(form, submitter),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    answer = await response.json();
  } catch {
    // Not a JSON answer (signed out, a proxy's page): post the form the ordinary way.
    item.removeAttribute("aria-busy");
    form.dataset.native = "1";
    form.requestSubmit(submitter);
    return;
  }
  item.removeAttribute("aria-busy");
  if (answer.notice === "claimed") {
    setVersion(item, answer.version);
    item.querySelector("[data-claim]").textContent = text("claimed", { name: answer.by });
    say(answer.message);
  } else if (["approved", "rejected", "revision"].includes(answer.notice)) {
    leave(item);
    say(answer.message);
    refresh();
  } else {
    announce(answer.message);
  }
});

// --- a selection: x, Shift+A, Shift+R and the bulk bar ------------------------------------

const bulkForm = document.getElementById("mod-bulk");
const selectAll = bulkForm?.querySelector("[data-select-all]");
const counter = document.getElementById("mod-selected");

const checkbox = (item) => item.querySelector("[data-select]");
const chosen = () => open().filter((item) => checkbox(item)?.checked);

function showSelection() {
  const items = open();
  const count = chosen().length;
  if (counter) counter.textContent = count ? text("count", { n: count }) : "";
  if (selectAll) {
    selectAll.checked = count > 0 && count === items.length;
    selectAll.indeterminate = count > 0 && count < items.length;
    selectAll.disabled = items.length === 0;
  }
}

function toggle(item) {
  const box = checkbox(item);
  if (!box || box.disabled) return;
  box.checked = !box.checked;
  showSelection();
}

function bulkSubmit(decision) {
  if (!bulkForm) return;
  if (!chosen().length) {
    say(text("choose"));
    return;
  }
  bulkForm.requestSubmit(bulkForm.querySelector('button[data-bulk="' + decision + '"]'));
}

function revealBulk() {
  const panel = bulkForm?.querySelector("[data-bulk-panel]");
  if (!panel) return;
  panel.open = true;
  panel.querySelector("select")?.focus();
}

if (bulkForm) {
  bulkForm.querySelector("[data-select-all-wrap]")?.removeAttribute("hidden");
  selectAll?.addEventListener("change", () => {
    for (const item of open()) {
      const box = checkbox(item);
      if (box && !box.disabled) box.checked = selectAll.checked;
    }
    showSelection();
  });
  list?.addEventListener("change", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.matches("[data-select]")) {
      showSelection();
    }
  });
  bulkForm.addEventListener("submit", async (event) => {
    if (bulkForm.dataset.native) return;
    event.preventDefault();
    if (bulkForm.getAttribute("aria-busy") === "true") return;
    const items = chosen();
    if (!items.length) {
      say(text("choose"));
      return;
    }
    const submitter = event.submitter;
    bulkForm.setAttribute("aria-busy", "true");
    for (const item of items) item.setAttribute("aria-busy", "true");
    let answer;
    try {
      const response = await fetch(bulkForm.action, {
        method: "POST",
        body: new FormData(bulkForm, submitter),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      answer = await response.json();
    } catch {
      bulkForm.removeAttribute("aria-busy");
      for (const item of items) item.removeAttribute("aria-busy");
      bulkForm.dataset.native = "1";
      bulkForm.requestSubmit(submitter);
      return;
    }
    bulkForm.removeAttribute("aria-busy");
    for (const item of items) item.removeAttribute("aria-busy");
    for (const outcome of answer.items ?? []) {
      const item = document.getElementById("item-" + outcome.id);
      if (!item) continue;
      if (outcome.decided) {
        leave(item);
      } else {
        // Left as it was (another moderator was first): kept on screen, unselected, with why.
        const box = checkbox(item);
        if (box) box.checked = false;
        const claim = item.querySelector("[data-claim]");
        if (claim && outcome.message) claim.textContent = outcome.message;
      }
    }
    if (answer.items) {
      const panel = bulkForm.querySelector("[data-bulk-panel]");
      if (panel) panel.open = false;
      const reason = bulkForm.querySelector("textarea");
      if (reason) reason.value = "";
      say(answer.message);
      refresh();
    } else {
      announce(answer.message);
    }
    showSelection();
  });
}

// --- live: moderation:{board} channels over /ws ------------------------------------------

function announce(message) {
  if (!banner) return;
  banner.replaceChildren(document.createTextNode(message + " "));
  const reload = document.createElement("button");
  reload.type = "button";
  reload.textContent = text("reload");
  reload.addEventListener("click", () => location.reload());
  banner.append(reload);
  banner.hidden = false;
}

// The page itself, fetched again: new items come in as the server renders them (in order,
// with their forms), and the figures and the chart are brought up to date. Items already
// shown are left alone, so a half-typed reason or an open panel is never lost.
let refreshing = null;
let again = false;

function refresh() {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = fetchPage().finally(() => {
    refreshing = null;
    if (again) {
      again = false;
      refresh();
    }
  });
}

async function fetchPage() {
  const url = new URL(location.href);
  url.hash = "";
  url.searchParams.delete("notice");
  let doc;
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return;
    doc = new DOMParser().parseFromString(await response.text(), "text/html");
  } catch {
    return;
  }
  for (const id of ["mod-size", "mod-oldest"]) {
    const fresh = doc.getElementById(id);
    const shown = document.getElementById(id);
    if (fresh && shown) shown.textContent = fresh.textContent;
  }
  // The chart and its table together; the table stays open if the reader opened it.
  const chart = document.getElementById("mod-chart");
  const freshChart = doc.getElementById("mod-chart");
  if (chart && freshChart) {
    const opened = chart.querySelector("details")?.open;
    const copy = document.importNode(freshChart, true);
    const details = copy.querySelector("details");
    if (details && opened) details.open = true;
    chart.replaceWith(copy);
  }
  if (!list) return;
  const fresh = Array.from(doc.querySelectorAll(".mod-items > .mod-item"));
  fresh.forEach((node, index) => {
    if (document.getElementById(node.id) || gone.has(node.dataset.id)) return;
    const after = fresh.slice(index + 1).map((n) => document.getElementById(n.id)).find(Boolean);
    list.insertBefore(document.importNode(node, true), after ?? null);
  });
  showEmpty();
  showSelection();
}

// Every event a moderation: channel carries (forum/events.py, CHANNEL_EVENTS) is a key of
// `handlers` or listed in IGNORED; tests/forum/test_events.py holds both to the server's list.
const IGNORED = [];

const handlers = {
  "item.claimed": (data, item) => {
    if (!item) return;
    item.querySelector("[data-claim]").textContent = text("claimed", { name: data.claimed_by });
    setVersion(item, data.version);
  },
  "item.decided": (data, item) => {
    gone.add(String(data.id));
    if (item) {
      item.classList.add("is-decided");
      item.removeAttribute("aria-current");
      item.querySelector("[data-claim]").textContent = text("decided", { name: data.decided_by });
      for (const control of item.querySelectorAll("button, textarea, select, input")) {
        control.disabled = true;
      }
      const box = checkbox(item);
      if (box) box.checked = false;
      showSelection();
    }
    refresh();
  },
  "item.created": () => refresh(),
  "item.updated": (data, item) => {
    if (data.post?.status === "deleted") {
      // Its author deleted the post: nothing is left to decide.
      if (item) leave(item);
      else gone.add(String(data.id));
      return;
    }
    // An edited post's item comes with a new version: forms must send it, or be refused.
    if (item && Number.isInteger(data.version)) setVersion(item, data.version);
    announce(text("changed"));
  },
  "item.moved": () => announce(text("changed")),
};

function apply(name, data) {
  if (IGNORED.includes(name)) return;
  const handler = handlers[name];
  if (handler) handler(data, document.getElementById("item-" + data.id));
  else console.warn("moderation.js: no handler for", name);
}

const seqs = new Map();
let delay = 1000;

{
  // The heads the page was rendered at: events after them are replayed on subscribing.
  const channels = (list?.dataset.channels ?? "").split(" ").filter(Boolean);
  const heads = (list?.dataset.heads ?? "").split(" ").filter(Boolean).map(Number);
  channels.forEach((channel, index) => {
    if (Number.isInteger(heads[index])) seqs.set(channel, heads[index]);
  });
}

function connect() {
  const channels = (list?.dataset.channels ?? "").split(" ").filter(Boolean);
  if (!channels.length || !("WebSocket" in window)) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(scheme + "//" + location.host + "/ws");
  let ping = 0;
  socket.addEventListener("open", () => {
    delay = 1000;
    for (const channel of channels) {
      const frame = { type: "subscribe", channel };
      if (seqs.has(channel)) frame.after = seqs.get(channel);
      socket.send(JSON.stringify(frame));
    }
    ping = setInterval(() => socket.send('{"type":"ping"}'), 30000);
  });
  socket.addEventListener("message", (message) => {
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return;
    }
    if (frame.type === "subscribed" && !seqs.has(frame.channel)) {
      seqs.set(frame.channel, frame.seq);
    } else if (frame.type === "event") {
      if (frame.seq <= (seqs.get(frame.channel) ?? 0)) return;
      seqs.set(frame.channel, frame.seq);
      apply(frame.name, frame.data);
    } else if (frame.type === "resync") {
      seqs.set(frame.channel, frame.seq);
      announce(text("changed"));
    }
  });
  socket.addEventListener("close", (closed) => {
    clearInterval(ping);
    // 4401: the login this socket was opened with ended (logout elsewhere, password
    // change, suspension). The page itself asks who the user is now.
    if (closed.code === 4401) { location.reload(); return; }
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 60000);
  });
}

connect();
