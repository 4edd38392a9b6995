// The header's count of unread notices, kept up to date over the user's own channel on every
// page. The channel name and the seq the page was rendered at come from the link's data-*
// attributes (forum/events.py builds the name); without this file the count is as rendered.

const link = document.getElementById("nav-notices");
const channel = link?.dataset.channel ?? "";
let seq = Number(link?.dataset.seq ?? 0);
let unread = Number(link?.dataset.unread ?? 0);
let delay = 1000;

function show() {
  if (!link) return;
  for (const old of link.querySelectorAll(".nav-count, .visually-hidden")) old.remove();
  if (unread <= 0) return;
  const count = document.createElement("span");
  count.className = "nav-count";
  count.setAttribute("aria-hidden", "true");
  count.textContent = String(unread);
  const label = document.createElement("span");
  label.className = "visually-hidden";
  label.textContent = (link.dataset.textUnread ?? "").replace("{num}", String(unread));
  link.append(" ", count, label);
}

// Every event a user: channel carries (forum/events.py, CHANNEL_EVENTS) is a key of
// `handlers` or listed in IGNORED; tests/forum/test_events.py holds both to the server's list.
const IGNORED = ["post.pending", "user.sanctioned", "access.changed"];

const handlers = {
  "notification.created": (data) => {
    if (!data.read) unread += 1;
  },
  "notification.read": (data) => {
    unread = data.unread;
  },
};

function apply(name, data) {
  if (IGNORED.includes(name)) return;
  const handler = handlers[name];
  if (handler) {
    handler(data);
    show();
  } else console.warn("notices.js: no handler for", name);
}

function connect() {
  if (!channel || !("WebSocket" in window)) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(scheme + "//" + location.host + "/ws");
  let ping = 0;
  socket.addEventListener("open", () => {
    delay = 1000;
    socket.send(JSON.stringify({ type: "subscribe", channel, after: seq }));
    ping = setInterval(() => socket.send('{"type":"ping"}'), 30000);
  });
  socket.addEventListener("message", (message) => {
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return;
    }
    if (frame.channel !== channel) return;
    if (frame.type === "event") {
      if (frame.seq <= seq) return;
      seq = frame.seq;
      apply(frame.name, frame.data);
    } else if (frame.type === "resync") {
      // Too far behind to replay: the count is fetched afresh.
      seq = frame.seq;
      refetch();
    }
  });
  socket.addEventListener("close", (closed) => {
    clearInterval(ping);
    if (closed.code === 4401 || closed.code === 4403) return; // signed out: nothing to follow
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 60000);
  });
}

async function refetch() {
  try {
    const response = await fetch("/api/v1/notifications?limit=1", { credentials: "same-origin" });
    if (!response.ok) return;
    unread = (await response.json()).unread;
    show();
  } catch {
    // Offline for now: the next event or page load sets it right.
  }
}

connect();
