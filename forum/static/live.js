// Live updates for a thread page. The page works without this script; with it, new
// posts appear as they are published, in order, and nothing is missed across drops.

const root = document.getElementById("thread");
const list = document.getElementById("posts");
// Events of a thread: channel this client does not act on. Every name the server can send
// on the channel (forum/events.py, CHANNEL_EVENTS) is either a key of `handlers` below or
// listed here; tests/forum/test_events.py reads both and holds them to the server's list.
const IGNORED = ["question.updated"];
if (root && list && "WebSocket" in window) start();

function start() {
  const strings = readStrings();
  // The channel's name comes from the server (forum/events.py), not spelled here.
  const channel = root.dataset.channel;
  const onLastPage = !document.querySelector('a[rel="next"]');
  const announcer = document.getElementById("live-status");
  const badge = makeBadge(strings);
  const jump = makeJump(strings);
  let seq = Number(root.dataset.seq || 0);
  let socket = null;
  let attempts = 0;
  let retryTimer = 0;
  let pingTimer = 0;
  let unseen = [];

  function setState(name) {
    badge.dataset.state = name;
    badge.textContent = strings[`state_${name}`] || name;
  }

  function connect() {
    clearTimeout(retryTimer);
    if (socket && socket.readyState <= WebSocket.OPEN) return;
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
    ws.addEventListener("close", (closed) => {
      if (socket !== ws) return;
      clearInterval(pingTimer);
      socket = null;
      scheduleReconnect(closed.code === 4008 ? 0 : undefined);
    });
  }

  function scheduleReconnect(delay) {
    setState(navigator.onLine ? "reconnecting" : "offline");
    // Exponential backoff with full jitter, so a restarted server is not stampeded.
    const ceiling = Math.min(30000, 500 * 2 ** attempts);
    attempts += 1;
    retryTimer = setTimeout(connect, delay ?? Math.random() * ceiling);
  }

  function receive(frame) {
    if (frame.channel && frame.channel !== channel) return;
    switch (frame.type) {
      case "subscribed":
        attempts = 0;
        setState("live");
        return;
      case "event":
        if (frame.seq <= seq) return;
        seq = frame.seq;
        apply(frame.name, frame.data);
        return;
      case "resync":
        // History before our position is gone: refetch what the page lacks.
        refetch(frame.seq);
        return;
      case "presence":
        badge.dataset.viewers = String(frame.viewers);
        badge.title = (strings.viewers || "{n}").replace("{n}", frame.viewers);
        return;
      case "error":
        if (frame.code === "forbidden") { setState("closed"); socket && socket.close(); socket = null; clearTimeout(retryTimer); }
        return;
      default:
    }
  }

  const handlers = {
    "post.created": (data) => added(data),
    "post.updated": (data) => updated(data),
    // Deleted, hidden, rejected or sent back: one shape, {id, reason}; all leave the page.
    "post.deleted": (data) => document.getElementById(`post-${data.id}`)?.remove(),
    // One question's count; sent per vote before tallies were coalesced (a replay of older
    // history may still carry it).
    "vote.changed": (data) => setVotes(data),
    // The absolute counts of every question that changed since the thread's last tally.
    "votes.tallied": (data) => data.tallies.forEach(setVotes),
    "thread.updated": (data) => {
      const title = root.querySelector("h1");
      if (title && typeof data.title === "string") title.textContent = data.title;
    },
    "thread.moved": (data) => moved(data),
  };

  function setVotes(tally) {
    const count = document.querySelector(`#post-${tally.id} .vote-count`);
    if (count) count.textContent = String(tally.votes);
  }

  function apply(name, data) {
    if (IGNORED.includes(name)) return;
    const handler = handlers[name];
    if (handler) handler(data);
    else console.warn("live.js: no handler for", name);
  }

  // The thread now lives on another board: the breadcrumb follows it. Viewers who may not
  // read the new board are not told which one (`to` is null) and are dropped by the server.
  async function moved(data) {
    if (!data.to) { announce(strings.moved); return; }
    const link = document.querySelector('.breadcrumbs a[href^="/b/"]');
    if (link) link.href = `/b/${encodeURIComponent(data.to)}`;
    announce(strings.moved);
    try {
      const response = await fetch(`/api/v1/boards/${encodeURIComponent(data.to)}`, { credentials: "same-origin" });
      if (response.ok && link) link.textContent = (await response.json()).title;
    } catch {
      // The link already points to the right board; only its title waits for a reload.
    }
  }

  function added(post) {
    if (document.getElementById(`post-${post.id}`) || !onLastPage) return;
    list.querySelector(".empty")?.remove();
    const nearBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 200;
    const element = renderPost(post, strings);
    list.append(element);
    const who = post.author ? post.author.display_name : strings.anonymous;
    announce(strings.announce.replace("{name}", who));
    if (!nearBottom) {
      unseen.push(element);
      jump.hidden = false;
      jump.textContent = strings.new_posts.replace("{n}", unseen.length);
    }
  }

  function updated(post) {
    const element = document.getElementById(`post-${post.id}`);
    if (!element) return;
    element.replaceWith(renderPost(post, strings));
  }

  function announce(text) {
    if (!announcer) return;
    announcer.textContent = "";
    requestAnimationFrame(() => { announcer.textContent = text; });
  }

  async function refetch(head) {
    const last = list.querySelector("article.post:last-of-type");
    let after = last ? Number(last.id.replace("post-", "")) : 0;
    for (let page = 0; page < 20; page += 1) {
      const response = await fetch(`/api/v1/threads/${root.dataset.threadId}/posts?after=${after}&limit=100`, { credentials: "same-origin" });
      if (!response.ok) break;
      const body = await response.json();
      body.items.filter((p) => p.status === "published").forEach(added);
      if (!body.next_cursor) break;
      after = Number(body.next_cursor);
    }
    seq = head;
  }

  jump.addEventListener("click", () => {
    const first = unseen[0];
    unseen = [];
    jump.hidden = true;
    if (first) {
      first.scrollIntoView({ behavior: "smooth", block: "start" });
      first.setAttribute("tabindex", "-1");
      first.focus({ preventScroll: true });
    }
  });
  window.addEventListener("scroll", () => {
    if (unseen.length && window.innerHeight + window.scrollY >= document.body.scrollHeight - 200) {
      unseen = [];
      jump.hidden = true;
    }
  }, { passive: true });

  // Come back at once when the tab, the page cache or the network returns.
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") { attempts = 0; connect(); } });
  window.addEventListener("pageshow", (event) => { if (event.persisted) { attempts = 0; connect(); } });
  window.addEventListener("online", () => {
    // A network change can leave a socket that looks open but is dead: start afresh,
    // resuming from the last seq, which loses and repeats nothing.
    attempts = 0;
    if (socket) { const stale = socket; socket = null; stale.close(); }
    connect();
  });
  window.addEventListener("offline", () => setState("offline"));
  connect();
}

function readStrings() {
  const defaults = {
    state_connecting: "接続中…", state_live: "ライブ更新中", state_reconnecting: "再接続中…",
    state_offline: "オフライン", state_closed: "更新停止", new_posts: "{n}件の新しい投稿",
    announce: "{name}さんの新しい投稿", anonymous: "匿名の参加者", viewers: "{n}人が閲覧中",
    expert: "有識者", question: "質問", edited: "編集済み", reply_to: "#{id} への返信",
    moved: "このスレッドは別の掲示板に移動しました。",
  };
  const block = document.getElementById("live-strings");
  try { return { ...defaults, ...(block ? JSON.parse(block.textContent) : {}) }; } catch { return defaults; }
}

function makeBadge(strings) {
  const badge = document.createElement("p");
  badge.className = "live-state";
  badge.setAttribute("role", "status");
  root.querySelector(".thread-header")?.append(badge);
  return badge;
}

function makeJump(strings) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "new-posts";
  button.hidden = true;
  document.body.append(button);
  return button;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Mirrors templates/partials/post.html for a published post.
function renderPost(post, strings) {
  const article = el("article", "post");
  article.id = `post-${post.id}`;
  const meta = el("header", "post-meta");
  const author = post.author;
  if (author) {
    // post.badge is the role the server shows beside the name: expert, moderator or admin.
    if (post.badge === "expert") article.classList.add("post-expert");
    const link = el("a", "post-author", author.display_name);
    link.href = `/u/${encodeURIComponent(author.username)}`;
    meta.append(link);
    if (post.badge === "expert") {
      meta.append(" ", el("span", "badge badge-expert", strings.expert));
      if (author.expert_field) meta.append(" ", el("span", "expert-field", author.expert_field));
    } else if (post.badge) {
      meta.append(" ", el("span", "badge", strings[`role_${post.badge}`] || post.badge));
    }
    if (author.organisation) meta.append(" ", el("span", "affiliation", author.organisation));
  } else {
    meta.append(el("span", "post-author", strings.anonymous));
  }
  const time = el("a", "post-time");
  time.href = `#post-${post.id}`;
  const stamp = el("time", "", new Date(post.created_at).toLocaleString(document.documentElement.lang || "ja"));
  stamp.dateTime = post.created_at;
  time.append(stamp);
  meta.append(" ", time);
  if (post.edited_at) meta.append(" ", el("span", "edited", strings.edited));
  if (post.kind === "question") meta.append(" ", el("span", "badge badge-question", strings.question));
  article.append(meta);
  if (post.reply_to) {
    const reply = el("p", "reply-to");
    const link = el("a", "", strings.reply_to.replace("{id}", post.reply_to));
    link.href = `#post-${post.reply_to}`;
    reply.append(link);
    article.append(reply);
  }
  const body = el("div", "post-body");
  // post.html was rendered from Markdown and sanitised (nh3 allow-list) on the server.
  body.innerHTML = post.html;
  article.append(body);
  return article;
}
