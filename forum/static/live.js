// Live updates for a thread page. The page works without this script; with it, new
// posts appear as they are published, in order, and nothing is missed across drops.
import { timeElement } from "./time.js";

const root = document.getElementById("thread");
const list = document.getElementById("posts");
// Events of a thread: channel this client does not act on. Every name the server can send
// on the channel (forum/events.py, CHANNEL_EVENTS) is either a key of `handlers` below or
// listed here; tests/forum/test_events.py reads both and holds them to the server's list.
const IGNORED = [];
if (root && list && "WebSocket" in window) start();

function start() {
  const strings = readStrings();
  // The channel's name comes from the server (forum/events.py), not spelled here.
  const channel = root.dataset.channel;
  const onLastPage = !document.querySelector('a[rel="next"]');
  const announcer = document.getElementById("live-status");
  const badge = makeBadge(strings);
  const jump = makeJump(strings);
  const viewer = readViewer();
  let seq = Number(root.dataset.seq || 0);
  let socket = null;
  let attempts = 0;
  let retryTimer = 0;
  let pingTimer = 0;
  let unseen = [];

  let viewers = null;  // unknown until the server says, and again whenever disconnected

  function setState(name) {
    badge.dataset.state = name;
    if (name !== "live") viewers = null;
    badge.querySelector(".live-state-text").textContent = strings[`state_${name}`] || name;
    showViewers();
  }

  function showViewers() {
    const count = badge.querySelector(".live-viewers");
    count.dataset.known = viewers === null ? "" : "1";
    count.textContent = viewers === null
      ? strings.viewers_unknown
      : (strings.viewers || "{n}").replace("{n}", viewers);
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
        // What was announced before the drop is old news now.
        if (announcer) announcer.textContent = "";
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
        viewers = frame.viewers;
        showViewers();
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
    // A question's answer state, assignee or similar count: its badges change in place.
    "question.updated": (data) => {
      const element = document.getElementById(`post-${data.id}`);
      if (!element) return;
      const state = element.querySelector(".answer-state");
      if (state) {
        state.dataset.state = data.answer_state;
        state.textContent = strings[`answer_${data.answer_state}`] || data.answer_state;
      }
      const similar = element.querySelector(".similar-count");
      if (similar) {
        similar.textContent = strings.similar.replace("{n}", data.similar_count);
        similar.hidden = !data.similar_count;
      }
      const count = element.querySelector(".vote-count");
      if (count) count.textContent = String(data.votes);
    },
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
    const shown = document.getElementById(`post-${post.id}`);
    if (shown) {
      // One's own post waiting for approval is on the page already: approved, it loses
      // its 承認待ち badge at once.
      if (shown.classList.contains("post-pending")) shown.replaceWith(renderPost(post, strings, viewer));
      return;
    }
    if (!onLastPage) return;
    list.querySelector(".empty")?.remove();
    const element = renderPost(post, strings, viewer);
    element.dataset.live = "";
    const question = post.kind === "answer" ? document.getElementById(`post-${post.reply_to}`) : null;
    if (question) {
      // As the server places it: after its question and the question's earlier answers.
      let last = question;
      while (last.nextElementSibling?.classList.contains("post-answer")
        && last.nextElementSibling.dataset.answers === String(post.reply_to)) last = last.nextElementSibling;
      last.after(element);
    } else {
      list.append(element);
    }
    const who = post.author ? post.author.display_name : strings.anonymous;
    announce(strings.announce.replace("{name}", who));
    if (offScreen(element)) {
      unseen.push(element);
      watcher?.observe(element);
      showJump();
    } else {
      read(post.id);
    }
  }

  function offScreen(element) {
    const box = element.getBoundingClientRect();
    return box.top >= window.innerHeight || box.bottom <= 0;
  }

  function showJump() {
    jump.hidden = unseen.length === 0;
    jump.textContent = strings.new_posts.replace("{n}", unseen.length);
  }

  // A post scrolled into view is no longer new: the button counts only what is off screen.
  const watcher = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      watcher.unobserve(entry.target);
      unseen = unseen.filter((node) => node !== entry.target);
      read(Number(entry.target.id.replace("post-", "")));
    }
    showJump();
  }) : null;

  // The reader's position moves as live posts are seen: one beacon a few seconds after the
  // last one, never one per post.
  let readUpTo = 0;
  let readTimer = 0;
  function read(postId) {
    if (!viewer.name || postId <= readUpTo) return;
    readUpTo = postId;
    clearTimeout(readTimer);
    readTimer = setTimeout(sendRead, 3000);
  }
  function sendRead() {
    // URL-encoded, as the page's own forms post: the server reads it as one of them.
    const form = new URLSearchParams({
      csrf_token: document.querySelector('meta[name="csrf-token"]')?.content || "",
      post_id: String(readUpTo),
    });
    navigator.sendBeacon(`/t/${root.dataset.threadId}/read`, form);
  }

  function updated(post) {
    const element = document.getElementById(`post-${post.id}`);
    if (!element) return;
    const fresh = renderPost(post, strings, viewer);
    if ("live" in element.dataset) fresh.dataset.live = "";
    element.replaceWith(fresh);
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
    if (first) read(Number(first.id.replace("post-", "")));
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
    answer: "有識者の回答", answer_to: "#{id} への回答", similar: "同様の質問 {n}件",
  };
  const block = document.getElementById("live-strings");
  try { return { ...defaults, ...(block ? JSON.parse(block.textContent) : {}) }; } catch { return defaults; }
}

function readViewer() {
  const data = root.dataset;
  return {
    name: data.viewer || "", canReply: Boolean(data.canReply), canModerate: Boolean(data.canModerate),
    canEditOwn: Boolean(data.canEditOwn), after: data.after || "",
  };
}

// The connection's state and how many are reading, both as text (not only a tooltip).
function makeBadge(strings) {
  const badge = document.createElement("p");
  badge.className = "live-state";
  badge.setAttribute("role", "status");
  badge.append(el("span", "live-state-text"), el("span", "live-viewers"));
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

function avatar(author) {
  // partials/avatar.html's avatar_svg(), from the server's forum.avatars.avatar_of().
  const svg = "http://www.w3.org/2000/svg";
  const node = document.createElementNS(svg, "svg");
  const initials = author ? author.avatar.initials : "?";
  for (const [name, value] of [["class", "avatar"], ["width", "32"], ["height", "32"], ["viewBox", "0 0 32 32"], ["aria-hidden", "true"], ["focusable", "false"]]) node.setAttribute(name, value);
  const circle = document.createElementNS(svg, "circle");
  circle.setAttribute("cx", "16"); circle.setAttribute("cy", "16"); circle.setAttribute("r", "16");
  circle.setAttribute("fill", author ? `hsl(${author.avatar.hue} 50% 30%)` : "#5c6670");
  const text = document.createElementNS(svg, "text");
  text.setAttribute("x", "16"); text.setAttribute("y", "21"); text.setAttribute("text-anchor", "middle");
  text.setAttribute("font-size", author && initials.length > 1 ? "13" : "15");
  text.setAttribute("fill", "#fff");
  text.textContent = initials;
  node.append(circle, text);
  return node;
}

function hidden(text) {
  return el("span", "visually-hidden", text);
}

function action(href, label, suffix, className = "action") {
  const link = el("a", className, label);
  link.href = href;
  link.append(hidden(suffix));
  return link;
}

// Mirrors templates/partials/post.html for a published post, as this viewer sees it after
// a reload (tests/browser compare the two).
function renderPost(post, strings, viewer) {
  const article = el("article", "post");
  article.id = `post-${post.id}`;
  const meta = el("header", "post-meta");
  const author = post.author;
  meta.append(avatar(author));
  if (author) {
    // post.badge is the role the server shows beside the name: expert, moderator or admin.
    if (post.badge === "expert") article.classList.add("post-expert");
    const link = el("a", "post-author", author.display_name);
    link.href = `/u/${encodeURIComponent(author.username)}`;
    meta.append(link);
    if (post.badge === "expert") {
      meta.append(el("span", "badge badge-expert", strings.expert));
      if (author.expert_field) meta.append(el("span", "expert-field", author.expert_field));
    } else if (post.badge) {
      meta.append(el("span", "badge", strings[`role_${post.badge}`] || post.badge));
    }
    const affiliation = el("span", "affiliation", strings[`affiliation_${author.affiliation}`] || author.affiliation);
    if (author.organisation) affiliation.append(" ", el("span", "organisation", author.organisation));
    meta.append(affiliation);
  } else {
    meta.append(el("span", "post-author", strings.anonymous));
  }
  const time = el("a", "post-time");
  time.href = `#post-${post.id}`;
  time.append(timeElement(post.created_at));
  meta.append(time);
  if (post.edited_at) {
    const edited = action(`/posts/${post.id}/revisions`, strings.edited, strings.history_of.replace("{id}", post.id), "edited");
    meta.append(edited);
  }
  if (post.kind === "question") meta.append(el("span", "badge badge-question", strings.question));
  if (post.kind === "answer") {
    article.classList.add("post-answer");
    article.dataset.answers = String(post.reply_to);
    meta.append(el("span", "badge badge-answer", strings.answer));
  }
  if (post.kind === "question" && post.status === "published") {
    const state = post.answer_state || "open";
    const badge = el("span", "badge answer-state", strings[`answer_${state}`] || state);
    badge.dataset.state = state;
    const similar = el("span", "similar-count", strings.similar.replace("{n}", post.similar_count || 0));
    similar.hidden = !post.similar_count;
    meta.append(badge, similar);
  }
  article.append(meta);
  if (post.reply_to) {
    const reply = el("p", "reply-to");
    const label = post.kind === "answer" ? strings.answer_to : strings.reply_to;
    const link = el("a", "", label.replace("{id}", post.reply_to));
    link.href = `#post-${post.reply_to}`;
    reply.append(link);
    article.append(reply);
  }
  const body = el("div", "post-body");
  // post.html was rendered from Markdown and sanitised (nh3 allow-list) on the server.
  body.innerHTML = post.html;
  article.append(body);
  if (post.attachments?.length) {
    // Laid out as the page lays them out; the script (and its lightbox) loads on first use.
    const slot = el("div", "attachments-slot");
    article.append(slot);
    import("/static/attachments.js").then(({ renderAttachments }) => {
      slot.replaceWith(renderAttachments(post.attachments, {
        close: strings.attachment_close, previous: strings.attachment_previous,
        next: strings.attachment_next, images: strings.attachment_images,
        documents: strings.attachment_documents,
      }));
    });
  }
  const actions = postActions(post, strings, viewer);
  if (actions) article.append(actions);
  return article;
}

function postActions(post, strings, viewer) {
  const own = Boolean(viewer.name) && Boolean(post.author) && post.author.username === viewer.name;
  const ofOthers = Boolean(viewer.name) && !own;
  const question = post.kind === "question";
  const editable = viewer.canModerate || (own && viewer.canEditOwn);
  if (!(viewer.canReply || ofOthers || question || editable)) return null;
  const box = el("div", "post-actions");
  const page = viewer.after ? `&after=${viewer.after}` : "";
  const thread = root.dataset.threadId;
  if (question) {
    const votes = el("span", "votes", `${strings.votes} `);
    votes.append(el("span", "vote-count", String(post.votes)));
    box.append(votes);
    if (ofOthers) {
      const form = el("form", "inline-form");
      form.method = "post";
      form.action = `/t/${thread}/posts/${post.id}/vote`;
      const fields = [["csrf_token", document.querySelector('meta[name="csrf-token"]')?.content || ""], ["up", "1"]];
      if (viewer.after) fields.push(["after", viewer.after]);
      for (const [name, value] of fields) {
        const input = el("input");
        input.type = "hidden"; input.name = name; input.value = value;
        form.append(input);
      }
      const button = el("button", "small-button", strings.vote);
      button.type = "submit";
      button.append(hidden(strings.of_post.replace("{id}", post.id)));
      form.append(button);
      box.append(form);
    }
  }
  if (viewer.canReply) {
    box.append(action(`/t/${thread}?reply_to=${post.id}${page}#reply`, strings.reply, strings.for_post.replace("{id}", post.id)));
    box.append(action(`/t/${thread}?quote=${post.id}${page}#reply`, strings.quote, strings.for_post.replace("{id}", post.id)));
  }
  if (editable) {
    box.append(action(`/t/${thread}/posts/${post.id}/edit`, strings.edit, strings.of_post.replace("{id}", post.id)));
    box.append(action(`/t/${thread}/posts/${post.id}/edit#delete`, strings.delete, strings.of_post.replace("{id}", post.id)));
  }
  if (ofOthers) {
    box.append(action(`/moderation/posts/${post.id}/flag`, strings.flag, strings.of_post.replace("{id}", post.id), "action flag-link"));
  }
  return box;
}
