// One channel followed over /ws: subscribe from a seq, receive each event once and in order,
// resume from the last seq after a drop (backoff with jitter; at once after a 4008 close or
// when the tab, the page cache or the network returns). The same logic as live.js, as a
// module the newer clients import instead of copying it.

export function follow({ channel, seq, onEvent, onResync, onState }) {
  let socket = null;
  let attempts = 0;
  let retryTimer = 0;
  let pingTimer = 0;
  let closed = false;
  const setState = (name) => onState && onState(name);

  function connect() {
    clearTimeout(retryTimer);
    if (closed || (socket && socket.readyState <= WebSocket.OPEN)) return;
    if (!navigator.onLine) { setState("offline"); return; }
    setState("connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    socket = ws;
    ws.addEventListener("open", () => {
      ws.send(JSON.stringify({ type: "subscribe", channel, after: seq }));
      clearInterval(pingTimer);
      pingTimer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('{"type":"ping"}'), 25000);
    });
    ws.addEventListener("message", (message) => receive(JSON.parse(message.data)));
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      clearInterval(pingTimer);
      socket = null;
      if (!closed) scheduleReconnect(event.code === 4008 ? 0 : undefined);
    });
  }

  function scheduleReconnect(delay) {
    setState(navigator.onLine ? "reconnecting" : "offline");
    const ceiling = Math.min(30000, 500 * 2 ** attempts);
    attempts += 1;
    retryTimer = setTimeout(connect, delay ?? Math.random() * ceiling);
  }

  async function receive(frame) {
    if (frame.channel && frame.channel !== channel) return;
    switch (frame.type) {
      case "subscribed":
        attempts = 0;
        setState("live");
        return;
      case "event":
        if (frame.seq <= seq) return;
        seq = frame.seq;
        onEvent(frame.name, frame.data);
        return;
      case "resync":
        // History before our position is gone: the page refetches, then continues from here.
        seq = frame.seq;
        if (onResync) onResync(frame.seq);
        return;
      case "error":
        if (frame.code === "forbidden") {
          closed = true;
          setState("closed");
          socket?.close();
          socket = null;
          clearTimeout(retryTimer);
        }
        return;
      default:
    }
  }

  const again = () => { attempts = 0; connect(); };
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") again(); });
  window.addEventListener("pageshow", (event) => { if (event.persisted) again(); });
  window.addEventListener("online", () => {
    // A network change can leave a socket that looks open but is dead: start afresh.
    attempts = 0;
    if (socket) { const stale = socket; socket = null; stale.close(); }
    connect();
  });
  window.addEventListener("offline", () => setState("offline"));
  connect();
}
