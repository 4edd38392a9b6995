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
  }
  item.classList.add("is-current");
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
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

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
  };
  const action = actions[event.key];
  if (action) {
    event.preventDefault();
    action();
  }
});

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

function apply(name, data) {
  const item = document.getElementById("item-" + data.id);
  if (name === "item.claimed" && item) {
    item.querySelector("[data-claim]").textContent = text("claimed", { name: data.claimed_by });
    for (const input of item.querySelectorAll("[data-version]")) input.value = data.version;
  } else if (name === "item.decided" && item) {
    item.classList.add("is-decided");
    item.querySelector("[data-claim]").textContent = text("decided", { name: data.decided_by });
    for (const control of item.querySelectorAll("button, textarea, select")) {
      control.disabled = true;
    }
  } else if (name === "item.created" || name === "item.updated" || name === "item.moved") {
    announce(text("changed"));
  }
}

const seqs = new Map();
let delay = 1000;

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
      seqs.set(frame.channel, frame.seq);
      apply(frame.name, frame.data);
    } else if (frame.type === "resync") {
      seqs.set(frame.channel, frame.seq);
      announce(text("changed"));
    }
  });
  socket.addEventListener("close", () => {
    clearInterval(ping);
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 60000);
  });
}

connect();
