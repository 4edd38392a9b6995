"""Markdown -> sanitised HTML; the only module that imports markdown-it, linkify-it and nh3.

Two independent layers: markdown-it escapes raw HTML and accepts only http, https
and mailto links; nh3 then re-parses its output against an allow-list. A bug in
one of them alone does not make an XSS.

Hostile input is bounded before it can cost much: a source longer than
`MAX_SOURCE` is shown as plain text, unmatched `[` are plain text without a
label scan each, and link labels, lists and blockquotes nest only so deep.
Rendering is CPU work: code on the event loop awaits `render_markdown_async`,
and pages show the HTML stored at write time (`html_excerpt` for a summary).
"""

import asyncio
import html
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline

__all__ = [
    "MAX_SOURCE",
    "excerpt",
    "html_excerpt",
    "link_mentions",
    "mentioned_usernames",
    "render_markdown",
    "render_markdown_async",
    "sanitise",
]

log = logging.getLogger("koryu.render")

# The longest post body (forum.posts.MAX_BODY). Anything longer reaching the renderer
# is shown as plain text: every Markdown rule is then out of reach.
MAX_SOURCE = 20_000
# Blockquotes, lists and emphasis nest at most this deep; markdown-it drops what lies
# deeper in a block (a readable post never gets there).
_MAX_NESTING = 20
# A link label is scanned for `]` through at most this many nested `[`: each level
# costs a rescan, and markdown-it's own limit (_MAX_NESTING) made "[" * 19999 take
# 20 rescans per bracket, 0.3 s in all.
_LABEL_DEPTH = 3
# Markdown output is stable after one pass; hostile HTML after two or three.
_SANITISE_PASSES = 4
# The last resort if a render still takes long: the reader gets the plain text.
RENDER_TIMEOUT = 5.0

_TAGS = {
    "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
# Every attribute value is a checked URL or a fixed token: a link's title, the one
# that would carry free text (even "<script>…", escaped), is dropped. "*" must be
# given, or nh3 keeps its default lang and title on every tag.
_ATTRIBUTES: dict[str, set[str]] = {"*": set(), "a": {"href"}, "ol": {"start"}}
_ATTRIBUTE_VALUES = {cell: {"align": {"left", "center", "right"}} for cell in ("th", "td")}
_URL_SCHEMES = {"http", "https", "mailto"}
_LINK_REL = "nofollow ugc noopener"

# A post sits below the page's <h1> (thread title) and <h2>: "# x" becomes <h3>.
_HEADING_SHIFT = 2
_LINK_SCHEME = re.compile(r"(https?|mailto):", re.IGNORECASE)
# A lone surrogate (from a lenient JSON decoder) cannot be encoded for nh3.
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
_WHITESPACE = re.compile(r"\s+")
_BRACKET_SYNTAX = re.compile(r"\\.|`+|[\[\]]", re.DOTALL)
# `[^<>]*` stops at the next "<": linear even on a run of "<" without a ">".
_TAG = re.compile(r"<[^<>]*>")
_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")
# "@sato-town" in text, also straight before Japanese ("@sato-townさん"): a username's
# characters (forum.accounts.USERNAME_RE), not after a letter or digit (an address), ending
# on a letter or digit ("@sato-town-" mentions sato-town).
_MENTION = re.compile(r"(?<![A-Za-z0-9_.@/-])@([a-z0-9][a-z0-9_-]{1,30}[a-z0-9])(?![a-z0-9])")
_SPLIT_TAGS = re.compile(r"(<[^<>]*>)")
# Inside these, an "@name" is code or already a link's text: left alone.
_NO_MENTIONS = frozenset({"a", "code", "pre"})
_MENTION_LINK = re.compile(r'<a href="/u/([a-z0-9_-]+)" class="mention">')


def _shift_headings(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + _HEADING_SHIFT, 6)}"


def _align_table_cells(state: StateCore) -> None:
    # markdown-it writes column alignment as style="text-align:x", but no style
    # attribute reaches the page, so it travels as align="x".
    for token in state.tokens:
        if token.type in ("th_open", "td_open") and "style" in token.attrs:
            token.attrs["align"] = str(token.attrs.pop("style")).removeprefix("text-align:")


def _unmatched_brackets(state: StateInline) -> frozenset[int]:
    """Positions of the `[` in this paragraph that no `]` closes, found once per paragraph.

    Escapes and code spans are honoured as markdown-it reads them. A bracket inside an
    autolink (`<https://x/[>`) is still counted, so such a paragraph may differ from
    markdown-it's own reading: a link around that autolink stays text."""
    env: dict[str, Any] = state.env  # type: ignore[assignment]  # one dict per render
    cached = env.get("koryu_brackets")
    if cached is not None and cached[0] is state:
        return cached[1]  # type: ignore[no-any-return]
    src, openers = state.src, []
    if "[" in src:
        unclosed_runs: set[int] = set()
        pos = 0
        while (match := _BRACKET_SYNTAX.search(src, pos)) is not None:
            syntax, pos = match.group(), match.end()
            if syntax == "[":
                openers.append(match.start())
            elif syntax == "]":
                if openers:
                    openers.pop()
            elif syntax[0] == "`" and len(syntax) not in unclosed_runs:
                # A code span: its brackets are code. A run with no closer stays
                # text, and so will every later run of its length.
                close = _closing_run(src, pos, len(syntax))
                if close < 0:
                    unclosed_runs.add(len(syntax))
                else:
                    pos = close + len(syntax)
    unmatched = frozenset(openers)
    env["koryu_brackets"] = (state, unmatched)
    return unmatched


def _closing_run(src: str, start: int, length: int) -> int:
    """Where the next run of exactly `length` backticks begins, or -1."""
    fence = "`" * length
    at = src.find(fence, start)
    while at >= 0:
        end = at + length
        while end < len(src) and src[end] == "`":
            end += 1
        if end - at == length:
            return at
        at = src.find(fence, end)
    return -1


def _defuse_brackets(state: StateInline, silent: bool) -> bool:
    """Runs before markdown-it's link rule: answers for a `[` that cannot open a link."""
    pos = state.pos
    if state.src[pos] != "[":
        return False
    if silent and state.level >= _LABEL_DEPTH:
        # What markdown-it does at maxNesting, sooner: this label scan ends here.
        state.pos = state.posMax
        return True
    unmatched = _unmatched_brackets(state)
    if pos not in unmatched:
        return False
    if silent:
        # One character, as when the link rule fails: the label scan counts it.
        state.pos = pos + 1
        return True
    end = pos + 1
    while end < state.posMax and end in unmatched:
        end += 1
    state.append_pending(state.src[pos:end])
    state.pos = end
    return True


class _Markdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:
        # An allow-list instead of markdown-it's deny-list (javascript:, data:, ...):
        # any other link, relative ones included, stays literal text.
        return _LINK_SCHEME.match(url) is not None


# Built once and reused (it is safe across threads: every render has its own state).
# Images are off (no third-party requests from our pages): `![alt](url)` renders as
# "!" and a link.
_md = (
    _Markdown(
        "commonmark",
        {
            "html": False,
            "linkify": True,
            "typographer": False,
            "breaks": True,
            "maxNesting": _MAX_NESTING,
        },
    )
    .enable(["linkify", "table", "strikethrough"])
    .disable("image")
)
_md.core.ruler.push("koryu_shift_headings", _shift_headings)
_md.core.ruler.push("koryu_align_table_cells", _align_table_cells)
_md.inline.ruler.before("link", "koryu_defuse_brackets", _defuse_brackets)


def _to_html(source: str) -> str:
    source = _LONE_SURROGATE.sub("\ufffd", source)
    if len(source) > MAX_SOURCE:
        return _plain_html(source)
    rendered: str = _md.render(source, {})  # typed as Any
    return rendered


def _plain_html(source: str) -> str:
    """The text as paragraphs and line breaks, with no Markdown at all."""
    paragraphs = _BLANK_LINES.split(source.strip())
    return "".join(
        "<p>" + html.escape(text, quote=False).replace("\n", "<br />\n") + "</p>\n"
        for text in paragraphs
        if text
    )


def _clean(fragment: str) -> str:
    return nh3.clean(
        fragment,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        tag_attribute_values=_ATTRIBUTE_VALUES,
        url_schemes=_URL_SCHEMES,
        url_relative="deny",
        link_rel=_LINK_REL,
        strip_comments=True,
    )


def sanitise(fragment: str) -> str:
    """HTML through the renderer's allow-list; sanitising twice changes nothing.

    Mis-nested markup (an <a> inside an <a> across a <table>) comes out of one pass
    as a tree that a browser parses differently again: the output is cleaned until
    it parses back to itself, or reduced to its text."""
    cleaned = _clean(fragment)
    for _ in range(_SANITISE_PASSES):
        again = _clean(cleaned)
        if again == cleaned:
            return cleaned
        cleaned = again
    return nh3.clean(cleaned, tags=set())


def render_markdown(source: str) -> str:
    """Render a post's Markdown to HTML that is safe to insert into a page as is.

    CPU-bound (up to a few hundred milliseconds for the longest hostile body): from
    the event loop, await `render_markdown_async` instead."""
    return link_mentions(sanitise(_to_html(source)))


def link_mentions(fragment: str) -> str:
    """Sanitised HTML with each ``@username`` in its text linked to that profile.

    A step after the sanitiser, whose allow-list keeps no relative links: it runs on nh3's
    well-formed output and writes only a fixed tag around characters of a username, so
    nothing it adds can carry markup. Mentions in code and in links stay as they are."""
    if "@" not in fragment:
        return fragment
    parts = _SPLIT_TAGS.split(fragment)
    depth = 0
    for i, part in enumerate(parts):
        if i % 2:
            name = part[1:].lstrip("/").split(" ", 1)[0].rstrip(">/").lower()
            if name in _NO_MENTIONS:
                depth += -1 if part.startswith("</") else 1
        elif depth == 0 and "@" in part:
            parts[i] = _MENTION.sub(r'<a href="/u/\1" class="mention">@\1</a>', part)
    return "".join(parts)


def mentioned_usernames(fragment: str) -> list[str]:
    """The usernames ``link_mentions`` linked in stored post HTML, each once, in order."""
    return list(dict.fromkeys(_MENTION_LINK.findall(fragment)))


# Two threads: rendering holds the GIL, so more would only queue behind each other,
# and a burst of long posts must not take every thread of the default executor.
_renderer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="koryu-render")


async def render_markdown_async(source: str) -> str:
    """`render_markdown` on a worker thread, so the event loop keeps serving.

    A render that outlasts `RENDER_TIMEOUT` (none should: the input is bounded) yields
    the plain text instead; the thread finishes its work in the background."""
    future = asyncio.get_running_loop().run_in_executor(_renderer, render_markdown, source)
    try:
        async with asyncio.timeout(RENDER_TIMEOUT):
            return await asyncio.shield(future)
    except TimeoutError:
        # Collect whatever the thread ends with, so a late error is not reported as lost.
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        log.warning("rendering %d characters took too long: kept as plain text", len(source))
        return sanitise(_plain_html(_LONE_SURROGATE.sub("\ufffd", source)))


def excerpt(source: str, length: int = 120) -> str:
    """Plain text (not HTML) of a post, at most `length` characters, cut with "…"."""
    if length < 1:
        raise ValueError(f"excerpt length must be at least 1, got {length}")
    return _cut(html.unescape(nh3.clean(_to_html(source), tags=set())), length)


def html_excerpt(fragment: str, length: int = 120) -> str:
    """Plain text of stored, sanitised post HTML, cut like `excerpt`; no Markdown runs.

    Linear in the fragment: tags go, entities are decoded, whitespace collapses."""
    if length < 1:
        raise ValueError(f"excerpt length must be at least 1, got {length}")
    return _cut(html.unescape(_TAG.sub("", fragment)), length)


def _cut(text: str, length: int) -> str:
    text = _WHITESPACE.sub(" ", text).strip()
    if len(text) <= length:
        return text
    return text[: length - 1].rstrip() + "…"
