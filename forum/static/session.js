// Live state of a session page. The page works without this script; with it, the state
// badge follows the session (scheduled → live → ended) without a reload.

const root = document.getElementById("session");
// Events of a session: channel this client does not act on. Every name the server can send
// on the channel (forum/events.py, CHANNEL_EVENTS) is either a key of `handlers` below or
// listed here; tests/forum/test_events.py reads both and holds them to the server's list.
const IGNORED = [];
if (root && "WebSocket" in window) start();

function start() {
  // The channel's name comes from the server (forum/events.py), not spelled here.
  const channel = root.dataset.channel;
  const badge = document.getElementById("session-state");
  let seq = Number(root.dataset.seq || 0);
  let attempts = 0;

  const handlers = {
    "session.updated": (data) => {
      if (!badge || typeof data.state !== "string") return;
      badge.className = `badge session-state-${data.state}`;
      badge.textContent = badge.dataset[`label${data.state[0].toUpperCase()}${data.state.slice(1)}`] || data.state;
    },
  };

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "subscribe", channel, after: seq })));
    ws.addEventListener("message", (message) => {
      const frame = JSON.parse(message.data);
      if (frame.channel !== channel) return;
      if (frame.type === "subscribed") attempts = 0;
      if (frame.type === "resync") location.reload();
      if (frame.type !== "event" || frame.seq <= seq) return;
      seq = frame.seq;
      if (IGNORED.includes(frame.name)) return;
      const handler = handlers[frame.name];
      if (handler) handler(frame.data);
    });
    ws.addEventListener("close", (closed) => {
      if (closed.code === 1008) return;
      const ceiling = Math.min(30000, 500 * 2 ** attempts);
      attempts += 1;
      setTimeout(connect, Math.random() * ceiling);
    });
  }
  connect();
}
