"""Markdown -> sanitised HTML; the only module that imports markdown-it, linkify-it and nh3.

Two independent layers: markdown-it escapes raw HTML and accepts only http, https
and mailto links; nh3 then re-parses its output against an allow-list. A bug in
one of them alone does not make an XSS.
"""

import html
import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

__all__ = ["excerpt", "render_markdown"]

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


class _Markdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:
        # An allow-list instead of markdown-it's deny-list (javascript:, data:, ...):
        # any other link, relative ones included, stays literal text.
        return _LINK_SCHEME.match(url) is not None


# Built once and reused. maxNesting bounds the depth of blockquotes, lists and
# emphasis, so hostile input cannot exhaust the stack. Images are off (no
# third-party requests from our pages): `![alt](url)` renders as "!" and a link.
_md = (
    _Markdown(
        "commonmark",
        {"html": False, "linkify": True, "typographer": False, "breaks": True, "maxNesting": 20},
    )
    .enable(["linkify", "table", "strikethrough"])
    .disable("image")
)
_md.core.ruler.push("koryu_shift_headings", _shift_headings)
_md.core.ruler.push("koryu_align_table_cells", _align_table_cells)


def _to_html(source: str) -> str:
    rendered: str = _md.render(_LONE_SURROGATE.sub("\ufffd", source))  # typed as Any
    return rendered


def render_markdown(source: str) -> str:
    """Render a post's Markdown to HTML that is safe to insert into a page as is."""
    return nh3.clean(
        _to_html(source),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        tag_attribute_values=_ATTRIBUTE_VALUES,
        url_schemes=_URL_SCHEMES,
        url_relative="deny",
        link_rel=_LINK_REL,
        strip_comments=True,
    )


def excerpt(source: str, length: int = 120) -> str:
    """Plain text (not HTML) of a post, at most `length` characters, cut with "…"."""
    if length < 1:
        raise ValueError(f"excerpt length must be at least 1, got {length}")
    text = html.unescape(nh3.clean(_to_html(source), tags=set()))
    text = _WHITESPACE.sub(" ", text).strip()
    if len(text) <= length:
        return text
    return text[: length - 1].rstrip() + "…"
