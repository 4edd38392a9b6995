// Relative times ("3分前") with the date and time in Japan on hover, exactly as
// forum/web/templating.py's reltime() writes them: live.js draws a live post's time with
// timeElement(), and every page's times are brought up to date here once a minute (a cached
// page was rendered earlier than it is read).

const DEFAULTS = {
  locale: "ja", just_now: "たった今",
  minutes: ["%(num)d分前", "%(num)d分前"], hours: ["%(num)d時間前", "%(num)d時間前"],
  days: ["%(num)d日前", "%(num)d日前"],
};
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const strings = readStrings();
const jst = new Intl.DateTimeFormat("en-US", {
  timeZone: "Asia/Tokyo", year: "numeric", month: "numeric", day: "numeric",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});

function readStrings() {
  const block = document.getElementById("time-strings");
  try { return { ...DEFAULTS, ...(block ? JSON.parse(block.textContent) : {}) }; } catch { return DEFAULTS; }
}

function parts(date) {
  const found = {};
  for (const part of jst.formatToParts(date)) found[part.type] = part.value;
  return found;
}

const pad = (value) => String(value).padStart(2, "0");

// "2026-11-30T11:57:00+09:00": Python's isoformat(timespec="seconds") in Japan time.
export function jstIso(date) {
  const p = parts(date);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}+09:00`;
}

// format_datetime(): 2026年11月30日 11:57, or Nov 30, 2026, 11:57 JST.
export function absolute(date) {
  const p = parts(date);
  if (strings.locale === "ja") return `${p.year}年${Number(p.month)}月${Number(p.day)}日 ${pad(p.hour)}:${pad(p.minute)}`;
  return `${MONTHS[Number(p.month) - 1]} ${Number(p.day)}, ${p.year}, ${pad(p.hour)}:${pad(p.minute)} JST`;
}

function counted(forms, n) {
  return forms[n === 1 ? 0 : 1].replace("%(num)d", String(n));
}

// relative_text(): what the server says for the same moment.
export function relative(date, now = new Date()) {
  const seconds = (now - date) / 1000;
  if (seconds < 60) return strings.just_now;
  if (seconds < 3600) return counted(strings.minutes, Math.floor(seconds / 60));
  if (seconds < 86400) return counted(strings.hours, Math.floor(seconds / 3600));
  if (seconds < 7 * 86400) return counted(strings.days, Math.floor(seconds / 86400));
  return absolute(date);
}

export function timeElement(isoString) {
  // Whole seconds, as the server writes them.
  const date = new Date(Math.floor(Date.parse(isoString) / 1000) * 1000);
  const node = document.createElement("time");
  node.dateTime = jstIso(date);
  node.title = absolute(date);
  node.setAttribute("data-rel", "");
  node.textContent = relative(date);
  return node;
}

export function refresh(root = document) {
  const now = new Date();
  for (const node of root.querySelectorAll("time[data-rel]")) {
    const date = new Date(node.dateTime);
    if (!Number.isNaN(date.getTime())) node.textContent = relative(date, now);
  }
}

refresh();
setInterval(refresh, 60_000);
