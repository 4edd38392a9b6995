// A live session's question screens: the question board (data-mode="board"), the expert
// console ("console") and the presenter view ("presenter"). The pages work without this
// script (the board's sort, filters, votes and ask form are links and forms); with it,
// questions, votes and answer states follow the thread's channel, and re-ordering slides
// into place (or waits behind 並べ替え while the reader is using the list).

import { follow } from "./channel.js";

const root = document.getElementById("qa");
// Events of a thread: channel this client does not act on. Every name the server can send
// on the channel (forum/events.py, CHANNEL_EVENTS) is either a key of `handlers` below or
// listed here; tests/forum/test_events.py reads both and holds them to the server's list.
const IGNORED = ["thread.updated", "thread.moved"];
const SORT_KEY = "koryu.qa.sort";
const ANSWERED = ["answered_live", "answered_written"];
const HOLD_MS = 2500;
if (root) start();

function start() {
  const strings = readStrings();
  const mode = root.dataset.mode;
  const threadId = root.dataset.threadId;
  const me = root.dataset.username;
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const lists = [...root.querySelectorAll(".q-list")];
  const reorderButton = document.getElementById("qa-reorder");
  const badge = document.getElementById("qa-live");
  const status = document.getElementById("qa-status");
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang === "en" ? "en-US" : "ja-JP", {
    timeZone: "Asia/Tokyo", year: "numeric", month: "long", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
  });
  // Questions in a state no list of this page shows (the presenter's answered ones), kept to
  // come back if their state changes again.
  const parked = new Map();
  // Questions asked from this page: an anonymous one arrives with no author, and its asker
  // may not vote for it.
  const mine = new Set();
  let sort = root.dataset.sort || "votes";
  let filter = root.dataset.filter || "";
  let held = 0;
  let lastTouch = 0;
  let layoutFrame = 0;
  let retryTimer = 0;

  const handlers = {
    "post.created": (data) => added(data),
    "post.updated": (data) => edited(data),
    // Deleted, hidden, rejected or merged into another: one shape, {id, reason}; all leave.
    "post.deleted": (data) => removed(data.id),
    "vote.changed": (data) => setVotes(data.id, data.votes),
    "votes.tallied": (data) => data.tallies.forEach((tally) => setVotes(tally.id, tally.votes)),
    "question.updated": (data) => changedQuestion(data),
  };

  function apply(name, data) {
    if (IGNORED.includes(name)) return;
    const handler = handlers[name];
    if (handler) handler(data);
    else console.warn("qa.js: no handler for", name);
  }

  const item = (id) => document.getElementById(`q-${id}`) || parked.get(Number(id));

  function setVotes(id, votes) {
    const element = item(id);
    if (!element || Number(element.dataset.votes) === votes) return;
    element.dataset.votes = String(votes);
    element.querySelectorAll(".vote-count").forEach((count) => { count.textContent = String(votes); });
    if (sort === "votes") changed();
  }

  function changedQuestion(data) {
    const element = item(data.id);
    if (!element) return;
    element.dataset.state = data.answer_state;
    element.className = `question q-state-${data.answer_state}`;
    const label = element.querySelector(".q-state");
    if (label) label.textContent = strings.states[data.answer_state] || data.answer_state;
    const assignee = element.querySelector(".q-assignee");
    if (assignee) {
      assignee.hidden = !data.assigned_to;
      assignee.querySelector(".q-assignee-name").textContent = data.assigned_to ? data.assigned_to.display_name : "";
    }
    if (data.assigned_to) element.dataset.assigned = data.assigned_to.username;
    else delete element.dataset.assigned;
    element.classList.toggle("q-mine", Boolean(me && data.assigned_to && data.assigned_to.username === me));
    const similar = element.querySelector(".q-similar");
    if (similar) {
      similar.hidden = !data.similar_count;
      similar.dataset.count = String(data.similar_count);
      similar.textContent = strings.similar.replace("{n}", data.similar_count);
    }
    setVotes(data.id, data.votes);
    changed();
  }

  function added(post) {
    if (post.kind === "answer") { answered(post); return; }
    if (post.kind !== "question" || post.status !== "published" || item(post.id)) return;
    const element = renderQuestion(post);
    const list = listFor(post.answer_state || "open");
    // Appended at the end so nothing above the reader moves; layout() puts it in its place.
    if (list) list.append(element); else parked.set(post.id, element);
    announce(strings.new_question);
    changed();
  }

  // A written answer goes under its question, marked 有識者の回答 (not on the hall's screen).
  function answered(post) {
    const box = item(post.reply_to)?.querySelector(".q-answers");
    if (!box || post.status !== "published" || document.getElementById(`answer-${post.id}`)) return;
    box.append(renderAnswer(post));
  }

  function edited(post) {
    const element = item(post.id);
    const body = element?.querySelector(".q-body");
    // post.html was rendered from Markdown and sanitised (nh3 allow-list) on the server.
    if (body && typeof post.html === "string") body.innerHTML = post.html;
  }

  function removed(id) {
    parked.delete(Number(id));
    const element = document.getElementById(`q-${id}`);
    if (!element) return;
    const wasFocused = element.contains(document.activeElement);
    const next = element.nextElementSibling || element.previousElementSibling;
    element.remove();
    if (wasFocused && next) next.focus();
    changed();
  }

  function listFor(state) {
    return lists.find((list) => list.dataset.states.split(" ").includes(state)) || null;
  }

  function compare(a, b) {
    if (sort === "new") return Number(b.dataset.id) - Number(a.dataset.id);
    return Number(b.dataset.votes) - Number(a.dataset.votes) || Number(a.dataset.id) - Number(b.dataset.id);
  }

  // While the reader points at, touches or types in the list, changes of order wait.
  function interacting() {
    if (mode === "presenter") return false;
    if (document.querySelector("dialog[open]")) return true;
    return performance.now() - lastTouch < HOLD_MS;
  }

  function changed() {
    if (layoutFrame) return;
    layoutFrame = requestAnimationFrame(() => {
      layoutFrame = 0;
      if (interacting()) {
        held += 1;
        reorderButton.hidden = false;
        reorderButton.textContent = `${strings.reorder}（${strings.pending_changes.replace("{n}", held)}）`;
        clearTimeout(retryTimer);
        retryTimer = setTimeout(changed, HOLD_MS);
        return;
      }
      layout();
    });
  }

  // Place each question in the list of its state, in order, and slide the ones that moved
  // from where they were (FLIP): nothing jumps, and focus stays on the same question.
  function layout() {
    const active = document.activeElement;
    const before = new Map();
    root.querySelectorAll(".question").forEach((element) => before.set(element, element.getBoundingClientRect().top));
    const all = [...root.querySelectorAll(".question"), ...parked.values()];
    for (const element of all) {
      const list = listFor(element.dataset.state);
      if (list) {
        parked.delete(Number(element.dataset.id));
        if (element.parentElement !== list) list.append(element);
      } else if (element.isConnected) {
        element.remove();
        parked.set(Number(element.dataset.id), element);
      }
    }
    for (const list of lists) {
      const now = [...list.children];
      const sorted = [...now].sort(compare);
      if (sorted.some((element, index) => element !== now[index])) list.append(...sorted);
    }
    visibility();
    if (active && active !== document.activeElement && active.isConnected) active.focus({ preventScroll: true });
    if (!reduceMotion) {
      for (const [element, top] of before) {
        if (!element.isConnected || element.hidden) continue;
        const moved = top - element.getBoundingClientRect().top;
        if (Math.abs(moved) > 1) {
          element.animate([{ transform: `translateY(${moved}px)` }, { transform: "none" }], { duration: 250, easing: "ease-out" });
        }
      }
    }
    held = 0;
    if (reorderButton) reorderButton.hidden = true;
  }

  function shows(state) {
    if (!filter) return true;
    if (filter === "open") return state === "open" || state === "assigned";
    if (filter === "answered") return ANSWERED.includes(state);
    return state === filter;
  }

  function visibility() {
    const limit = Number(root.dataset.next || 0);
    for (const list of lists) {
      [...list.children].forEach((element, index) => {
        element.hidden = mode === "board" ? !shows(element.dataset.state) : list.id === "next" && index >= limit;
      });
      const empty = document.getElementById(`${list.id}-empty`);
      if (empty) empty.hidden = [...list.children].some((element) => !element.hidden);
    }
    const count = document.getElementById("answered-count");
    const answered = document.getElementById("answered");
    if (count && answered) count.textContent = String(answered.children.length);
    const fold = document.getElementById("answered-fold");
    if (fold && mode === "board") {
      fold.hidden = Boolean(filter) && filter !== "answered";
      if (filter === "answered") fold.open = true;
    }
  }

  // Mirrors the macro question() of templates/live/_questions.html.
  function renderQuestion(post) {
    const state = post.answer_state || "open";
    const li = el("li", `question q-state-${state}`);
    li.id = `q-${post.id}`;
    li.dataset.id = String(post.id);
    li.dataset.votes = String(post.votes);
    li.dataset.state = state;
    if (mode === "console") li.tabIndex = -1;
    const own = mine.has(post.id) || Boolean(me && post.author && post.author.username === me);
    if (mode === "board") {
      const box = el("div", "q-vote");
      if (me && !own) {
        const form = el("form", "vote-form");
        form.method = "post";
        form.action = `/t/${threadId}/posts/${post.id}/vote`;
        const button = el("button", "vote-button");
        button.type = "submit";
        button.setAttribute("aria-pressed", "false");
        const arrow = el("span", "", "▲");
        arrow.setAttribute("aria-hidden", "true");
        button.append(arrow, " ", el("span", "vote-count", String(post.votes)), " ", el("span", "visually-hidden", strings.vote));
        form.append(button);
        box.append(form);
      } else {
        const fixed = el("span", "vote-static");
        fixed.append(el("span", "vote-count", String(post.votes)), " ", el("span", "vote-unit", strings.votes_unit));
        box.append(fixed);
      }
      li.append(box);
    } else {
      const votes = el("p", "q-votes");
      votes.append(el("span", "vote-count", String(post.votes)), " ", el("span", "vote-unit", strings.votes_unit));
      li.append(votes);
    }
    const main = el("div", "q-main");
    const body = el("div", "q-body post-body");
    // post.html was rendered from Markdown and sanitised (nh3 allow-list) on the server.
    body.innerHTML = post.html;
    const meta = el("p", "q-meta");
    // An anonymous question's author is null in every payload these pages receive.
    meta.append(el("span", "q-asker", post.author ? post.author.display_name : strings.anonymous), " ");
    if (mode !== "presenter") {
      const time = el("time", "", timeFormat.format(new Date(post.created_at)));
      time.dateTime = post.created_at;
      meta.append(time, " ");
    }
    meta.append(el("span", "badge q-state", strings.states[state] || state), " ");
    const assignee = el("span", "q-assignee", `${strings.assignee}: `);
    assignee.append(el("span", "q-assignee-name", ""));
    assignee.hidden = true;
    const similar = el("span", "q-similar", strings.similar.replace("{n}", "0"));
    similar.dataset.count = "0";
    similar.hidden = true;
    meta.append(assignee, " ", similar);
    main.append(body, meta);
    if (mode !== "presenter") main.append(el("div", "q-answers"));
    if (mode === "console") main.append(renderActions());
    li.append(main);
    return li;
  }

  // Mirrors the answers of the macro question() in templates/live/_questions.html.
  function renderAnswer(post) {
    const section = el("section", "q-answer");
    section.id = `answer-${post.id}`;
    section.setAttribute("aria-label", strings.answer_label);
    const meta = el("p", "q-answer-meta");
    meta.append(el("span", "badge badge-expert", strings.answer_label), " ", el("span", "q-answer-expert", post.author ? post.author.display_name : ""));
    const body = el("div", "post-body");
    // post.html was rendered from Markdown and sanitised (nh3 allow-list) on the server.
    body.innerHTML = post.html;
    section.append(meta, body);
    return section;
  }

  function renderActions() {
    const group = el("div", "q-actions");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", strings.actions);
    const keys = root.dataset.expert === "true"
      ? ["assigned", "answering", "answered_live", "deferred", "write"]
      : ["answered_live", "deferred"];
    const labels = { assigned: ["a", strings.assign], answering: ["n", strings.answering], answered_live: ["l", strings.answered_live], deferred: ["d", strings.deferred], write: ["w", strings.write] };
    for (const action of keys) {
      const [key, label] = labels[action];
      const button = el("button");
      button.type = "button";
      button.dataset.action = action;
      button.append(el("kbd", "", key), ` ${label}`);
      group.append(button);
    }
    return group;
  }

  function announce(text) {
    if (!badge) return;
    badge.dataset.note = text;
  }

  function say(text) {
    if (!status) return;
    status.textContent = "";
    requestAnimationFrame(() => { status.textContent = text; });
  }

  async function send(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error?.message || strings.failed);
    return data;
  }

  // After a resync the page's lists are fetched again and replace what is shown.
  async function refetch() {
    try {
      const response = await fetch(location.href, { credentials: "same-origin" });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const list of lists) {
        const fresh = page.getElementById(list.id);
        if (fresh) list.replaceChildren(...[...fresh.children].map((child) => document.importNode(child, true)));
      }
      parked.clear();
      layout();
    } catch {
      // The next event or reconnect tries again.
    }
  }

  // --- the board: sort and filter without a reload, votes and questions through the API --

  function setupBoard() {
    const stored = localStorage.getItem(SORT_KEY);
    if (root.dataset.sortChosen === "true") localStorage.setItem(SORT_KEY, sort);
    else if (stored === "votes" || stored === "new") { sort = stored; markCurrent("sort", sort); layout(); rememberInUrl(); }
    root.querySelectorAll(".qa-controls a").forEach((link) => link.addEventListener("click", (event) => {
      event.preventDefault();
      if (link.dataset.sort) {
        sort = link.dataset.sort;
        localStorage.setItem(SORT_KEY, sort);
        markCurrent("sort", sort);
      } else {
        filter = link.dataset.filter;
        markCurrent("filter", filter);
      }
      rememberInUrl();
      layout();
    }));
    root.addEventListener("submit", async (event) => {
      const form = event.target;
      if (form.classList.contains("vote-form")) { event.preventDefault(); await vote(form); }
      if (form.id === "ask-form") { event.preventDefault(); await ask(form); }
    });
  }

  function markCurrent(kind, value) {
    root.querySelectorAll(`.qa-controls a[data-${kind}]`).forEach((link) => {
      if (link.dataset[kind] === value) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
  }

  function rememberInUrl() {
    const url = new URL(location.href);
    url.searchParams.set("sort", sort);
    if (filter) url.searchParams.set("state", filter); else url.searchParams.delete("state");
    history.replaceState(null, "", url);
  }

  async function vote(form) {
    const button = form.querySelector("button");
    const id = form.closest(".question").dataset.id;
    const up = button.getAttribute("aria-pressed") !== "true";
    button.disabled = true;
    try {
      const result = await send(up ? "PUT" : "DELETE", `/api/v1/posts/${id}/vote`);
      button.setAttribute("aria-pressed", result.voted ? "true" : "false");
      const hidden = form.querySelector('input[name="up"]');
      if (hidden) hidden.value = result.voted ? "0" : "1";
      setVotes(result.id, result.votes);
    } catch (error) {
      say(error.message);
    } finally {
      button.disabled = false;
    }
  }

  async function ask(form) {
    const note = document.getElementById("ask-status");
    const body = form.querySelector("textarea").value;
    const anonymous = form.querySelector('input[name="anonymous"]').checked;
    try {
      const post = await send("POST", `/api/v1/threads/${threadId}/posts`, { body, kind: "question", anonymous });
      mine.add(post.id);
      form.querySelector("textarea").value = "";
      if (note) note.textContent = post.status === "published" ? strings.asked : strings.asked_pending;
    } catch (error) {
      if (note) note.textContent = error.message;
    }
  }

  // --- the console: keys and buttons set answer states; w writes an answer ---------------

  function setupConsole() {
    const dialog = document.getElementById("answer-dialog");
    const form = document.getElementById("answer-form");
    let answering = null;

    function current() {
      return document.activeElement?.closest?.(".question") || null;
    }

    function visibleItems() {
      return [...root.querySelectorAll(".question")].filter((element) => !element.hidden && element.offsetParent !== null);
    }

    function move(step) {
      const items = visibleItems();
      if (!items.length) return;
      const index = items.indexOf(current());
      const next = items[Math.max(0, Math.min(items.length - 1, index < 0 ? 0 : index + step))];
      next.focus();
      next.scrollIntoView({ block: "nearest" });
    }

    async function act(element, action) {
      if (!element) return;
      if (action === "write") { openAnswer(element); return; }
      try {
        const post = await send("POST", `/api/v1/posts/${element.dataset.id}/answer-state`, { state: action });
        if (post && post.answer_state) changedQuestion({ ...post, answer_state: post.answer_state, assigned_to: post.assigned_to || null, similar_count: post.similar_count || 0 });
        say(`#${element.dataset.id}: ${strings.states[action] || action}`);
      } catch (error) {
        say(error.message);
      }
    }

    function openAnswer(element) {
      answering = element;
      document.getElementById("answer-question").innerHTML = element.querySelector(".q-body").innerHTML;
      form.querySelector("textarea").value = "";
      dialog.showModal();
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = form.querySelector("textarea").value;
      const target = answering;
      if (!target || !body.trim()) return;
      try {
        await send("POST", `/api/v1/threads/${threadId}/posts`, { kind: "answer", reply_to: Number(target.dataset.id), body });
        // The server marks the question answered_written with the answer (question.updated).
        dialog.close();
        say(strings.answer_sent);
        target.focus();
      } catch (error) {
        say(error.message);
      }
    });
    document.getElementById("answer-cancel").addEventListener("click", () => { dialog.close(); answering?.focus(); });

    root.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (button) act(button.closest(".question"), button.dataset.action);
    });
    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || dialog.open) return;
      if (event.target.closest?.("input, textarea, select")) return;
      const keys = { a: "assigned", n: "answering", l: "answered_live", d: "deferred", w: "write" };
      if (event.key === "j") { event.preventDefault(); move(1); }
      else if (event.key === "k") { event.preventDefault(); move(-1); }
      else if (event.key === "r") { event.preventDefault(); layout(); }
      else if (keys[event.key] && current()) {
        event.preventDefault();
        const button = current().querySelector(`button[data-action="${keys[event.key]}"]`);
        if (button) act(current(), keys[event.key]);
      }
    });
  }

  // --- the presenter view: full screen ---------------------------------------------------

  function setupPresenter() {
    const button = document.getElementById("fullscreen");
    if (!button || !document.fullscreenEnabled) return;
    button.hidden = false;
    button.addEventListener("click", () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else document.documentElement.requestFullscreen().catch(() => {});
    });
  }

  for (const type of ["pointerdown", "pointermove", "keydown", "focusin", "wheel"]) {
    root.addEventListener(type, (event) => {
      if (event.target.closest?.(".q-list")) lastTouch = performance.now();
    }, { passive: true });
  }
  reorderButton?.addEventListener("click", () => { lastTouch = 0; layout(); });

  if (mode === "board") setupBoard();
  if (mode === "console") setupConsole();
  if (mode === "presenter") setupPresenter();
  if (!("WebSocket" in window)) return;
  follow({
    channel: root.dataset.channel,
    seq: Number(root.dataset.seq || 0),
    onEvent: apply,
    onResync: refetch,
    onState: (name) => {
      if (!badge) return;
      badge.dataset.state = name;
      badge.textContent = strings[`state_${name}`] || name;
    },
  });
}

function readStrings() {
  const defaults = {
    state_connecting: "接続中…", state_live: "ライブ更新中", state_reconnecting: "再接続中…",
    state_offline: "オフライン", state_closed: "更新停止", anonymous: "匿名", votes_unit: "票",
    vote: "票。この質問に投票", assignee: "担当", similar: "同様の質問 {n}件",
    reorder: "並べ替え", pending_changes: "{n}件の変更", failed: "操作できませんでした。",
    new_question: "新しい質問が届きました", states: {},
  };
  const block = document.getElementById("qa-strings");
  try { return { ...defaults, ...(block ? JSON.parse(block.textContent) : {}) }; } catch { return defaults; }
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
