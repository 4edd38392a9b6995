import asyncio
import html
import json
import re
import threading
import unicodedata
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, target
from hypothesis import strategies as st
from markdown_it import helpers
from markdown_it.parser_inline import ParserInline

from forum import render
from forum.render import (
    MAX_SOURCE,
    excerpt,
    html_excerpt,
    mentioned_usernames,
    render_markdown,
    render_markdown_async,
    sanitise,
)

# Restated here rather than imported from render.py, so that widening the
# renderer's allow-list has to be done in a security test too.
ALLOWED_TAGS = frozenset(
    {
        "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
        "a", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "rel"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
SAFE_HREF = re.compile(r"(https?|mailto):")
# The one relative link and the one class the renderer writes itself: a mention's.
MENTION_ATTRS = re.compile(r"\[\('href', '/u/[a-z0-9_-]+'\), \('class', 'mention'\)\]")
FORBIDDEN_IN_VALUES = ("javascript:", "vbscript:", "data:", "<script")
REL = "nofollow ugc noopener"

VECTORS_FILE = Path(__file__).parent / "data" / "xss_vectors.json"


def load_vectors() -> list[object]:
    groups: dict[str, list[str]] = json.loads(VECTORS_FILE.read_text("utf-8"))["vectors"]
    return [
        pytest.param(vector, id=f"{group}-{index:02d}")
        for group, vectors in groups.items()
        for index, vector in enumerate(vectors)
    ]


def compact(value: str) -> str:
    """An attribute value as a lenient URL parser might read it: unescaped, NFKC-folded,
    without whitespace, control or invisible format characters, lower case."""
    value = unicodedata.normalize("NFKC", html.unescape(value))
    return "".join(c for c in value if c.isprintable() and not c.isspace()).lower()


class OutputChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}> is not allowed")
        if tag == "a" and MENTION_ATTRS.fullmatch(repr(attrs)):
            return
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"<{tag} {name}=...> is an event handler or style")
            if name not in ALLOWED_ATTRIBUTES.get(tag, set()):
                self.problems.append(f"attribute {name} is not allowed on <{tag}>")
            seen = compact(value or "")
            if name == "href" and not SAFE_HREF.match(seen):
                self.problems.append(f"href {value!r} is not http, https or mailto")
            self.problems.extend(
                f"{name}={value!r} contains {word}" for word in FORBIDDEN_IN_VALUES if word in seen
            )

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"end tag </{tag}> is not allowed")

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment <!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"declaration <!{decl}>")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"declaration <![{data}]>")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction <?{data}>")


def unsafe_parts(rendered: str) -> list[str]:
    """Everything in rendered HTML that the renderer must never emit."""
    checker = OutputChecker()
    checker.feed(rendered)
    checker.close()
    if "<script" in rendered.lower():
        checker.problems.append("a literal <script")
    return checker.problems


@pytest.mark.parametrize(
    "unsafe",
    [
        "<script>alert(1)</script>",
        "<img src=x>",
        '<p onclick="alert(1)">x</p>',
        '<p style="color:red">x</p>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<a href="\u3000javascript:alert(1)">x</a>',
        '<a href="/relative">x</a>',
        '<a href="https://example.jp" title="data:text/html,x">x</a>',
        '<p class="x">x</p>',
        "<!-- x -->",
    ],
)
def test_checker_flags_unsafe_html(unsafe: str) -> None:
    assert unsafe_parts(unsafe)


@pytest.mark.parametrize("vector", load_vectors())
def test_xss_vector_is_neutralised(vector: str) -> None:
    rendered = render_markdown(vector)
    assert unsafe_parts(rendered) == [], rendered


def test_vector_corpus_is_large_enough() -> None:
    assert len(load_vectors()) >= 120


def test_public_surface_is_the_renderers_and_the_excerpts() -> None:
    assert render.__all__ == [
        "MAX_SOURCE",
        "excerpt",
        "html_excerpt",
        "link_mentions",
        "mentioned_usernames",
        "render_markdown",
        "render_markdown_async",
        "sanitise",
    ]


def test_raw_html_is_escaped_not_passed_through() -> None:
    assert render_markdown("<b>太字</b>") == "<p>&lt;b&gt;太字&lt;/b&gt;</p>\n"


def test_links_get_rel_nofollow_ugc_noopener() -> None:
    assert render_markdown("[事例](https://example.jp)") == (
        f'<p><a href="https://example.jp" rel="{REL}">事例</a></p>\n'
    )


def test_bare_url_with_japanese_path_is_linkified() -> None:
    assert render_markdown("詳しくは https://example.jp/地方創生 をご覧ください") == (
        '<p>詳しくは <a href="https://example.jp/%E5%9C%B0%E6%96%B9%E5%89%B5%E7%94%9F"'
        f' rel="{REL}">https://example.jp/地方創生</a> をご覧ください</p>\n'
    )


def test_link_title_is_dropped() -> None:
    assert render_markdown('[事例](https://example.jp "説明")') == (
        f'<p><a href="https://example.jp" rel="{REL}">事例</a></p>\n'
    )


def test_mail_address_is_linkified_as_mailto() -> None:
    assert render_markdown("連絡先: info@example.jp") == (
        f'<p>連絡先: <a href="mailto:info@example.jp" rel="{REL}">info@example.jp</a></p>\n'
    )


@pytest.mark.parametrize("source", ["[掲示板](/boards/x)", "[a](ftp://example.jp)", "[a](#top)"])
def test_links_other_than_http_https_mailto_stay_literal_text(source: str) -> None:
    assert render_markdown(source) == f"<p>{source}</p>\n"


def test_line_break_inside_japanese_paragraph_becomes_br() -> None:
    assert render_markdown("地方創生の取り組み。\n関係人口を増やす😀") == (
        "<p>地方創生の取り組み。<br>\n関係人口を増やす😀</p>\n"
    )


def test_full_width_and_half_width_japanese_text_survives_intact() -> None:
    text = "ＡＢＣ１２３\u3000全角スペース、ｶﾀｶﾅ〜「かぎ括弧」𠮷野家👍🏽"
    assert render_markdown(text) == f"<p>{text}</p>\n"


def test_code_block_escapes_its_contents() -> None:
    assert render_markdown("```html\n<script>alert('x')</script>\n```") == (
        "<pre><code>&lt;script&gt;alert('x')&lt;/script&gt;\n</code></pre>\n"
    )


def test_inline_code_escapes_its_contents() -> None:
    assert render_markdown("`<b>` は太字") == "<p><code>&lt;b&gt;</code> は太字</p>\n"


def test_table_renders_with_column_alignment() -> None:
    assert render_markdown("| 地域 | 人数 |\n|:--|--:|\n| 島根 | 12 |") == (
        "<table>\n<thead>\n<tr>\n"
        '<th align="left">地域</th>\n<th align="right">人数</th>\n'
        "</tr>\n</thead>\n<tbody>\n<tr>\n"
        '<td align="left">島根</td>\n<td align="right">12</td>\n'
        "</tr>\n</tbody>\n</table>\n"
    )


def test_strikethrough_renders() -> None:
    assert render_markdown("~~中止~~ 延期") == "<p><s>中止</s> 延期</p>\n"


def test_headings_start_below_the_page_headings() -> None:
    assert (
        render_markdown("# 概要\n## 詳細\n###### 注")
        == "<h3>概要</h3>\n<h4>詳細</h4>\n<h6>注</h6>\n"
    )


def test_image_renders_as_a_link_not_an_img() -> None:
    assert render_markdown("![地図](https://example.jp/map.png)") == (
        f'<p>!<a href="https://example.jp/map.png" rel="{REL}">地図</a></p>\n'
    )


def test_lone_surrogate_is_replaced_instead_of_raising() -> None:
    assert render_markdown("a\ud800b") == "<p>a\ufffdb</p>\n"


@pytest.mark.parametrize(
    ("source", "tag"),
    [("> " * 5000 + "x", "<blockquote>"), ("- " * 5000 + "x", "<ul>"), ("1. " * 5000, "<ol>")],
    ids=["blockquotes", "bullet-lists", "ordered-lists"],
)
def test_deeply_nested_input_renders_within_bounds(source: str, tag: str) -> None:
    rendered = render_markdown(source)
    assert 0 < rendered.count(tag) <= 20
    assert unsafe_parts(rendered) == []


@pytest.mark.parametrize("source", ["[" * 20000 + "a", "*a " * 20000, "`" * 20000, "<" * 20000])
def test_pathological_inline_input_renders(source: str) -> None:
    assert unsafe_parts(render_markdown(source)) == []


def test_excerpt_strips_markup_and_collapses_whitespace() -> None:
    source = "# 見出し\n\n本文の**太字**と`a < b`と[リンク](https://example.jp)\n\n- 一\n- 二"
    assert excerpt(source) == "見出し 本文の太字とa < bとリンク 一 二"


def test_excerpt_cuts_japanese_text_at_length_with_ellipsis() -> None:
    assert (
        excerpt("地方創生と関係人口についての長い文章です。" * 3, length=10)
        == "地方創生と関係人口…"
    )


def test_excerpt_keeps_text_that_fits_whole() -> None:
    assert excerpt("短い投稿です。", length=7) == "短い投稿です。"


def test_excerpt_is_plain_text_for_the_template_to_escape() -> None:
    assert excerpt("<script>alert(1)</script> &amp; 😀") == "<script>alert(1)</script> & 😀"


def test_excerpt_rejects_a_length_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        excerpt("本文", length=0)


# --- bounds on hostile input ----------------------------------------------------------------


class Work:
    """Counts the inline parser's units of work while a test renders."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.label_scans = 0
        self.skipped_tokens = 0
        scan_label = helpers.parseLinkLabel
        skip_token = ParserInline.skipToken

        def counted_scan(*args: Any, **kwargs: Any) -> int:
            self.label_scans += 1
            return scan_label(*args, **kwargs)

        def counted_skip(parser: ParserInline, state: Any) -> None:
            self.skipped_tokens += 1
            skip_token(parser, state)

        monkeypatch.setattr(helpers, "parseLinkLabel", counted_scan)
        monkeypatch.setattr(ParserInline, "skipToken", counted_skip)


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Work:
    return Work(monkeypatch)


def test_a_paragraph_of_unclosed_brackets_is_text_without_a_single_label_scan(
    work: Work,
) -> None:
    assert render_markdown("[" * 19999) == "<p>" + "[" * 19999 + "</p>\n"
    assert work.label_scans == 0 and work.skipped_tokens == 0


@pytest.mark.parametrize(
    "source", ["[" * 19998 + "]", "[(" * 9999 + "]", " [" * 9999 + "]", "[![" * 6666 + "]"]
)
def test_one_closing_bracket_is_scanned_for_once_not_once_per_opener(
    work: Work, source: str
) -> None:
    rendered = render_markdown(source)
    assert rendered == f"<p>{html.escape(source.strip(), quote=False)}</p>\n"
    assert work.label_scans <= 1


def test_link_labels_nest_three_brackets_deep_and_no_deeper() -> None:
    assert render_markdown("[link [foo [bar]]](https://example.jp)") == (
        f'<p><a href="https://example.jp" rel="{REL}">link [foo [bar]]</a></p>\n'
    )
    assert render_markdown("[[[[a]]]](https://example.jp)") == (
        f'<p>[[[[a]]]](<a href="https://example.jp" rel="{REL}">https://example.jp</a>)</p>\n'
    )


def test_a_paragraph_with_many_links_keeps_every_link() -> None:
    source = " ".join(f"[事例{n}](https://example.jp/{n})" for n in range(60))
    rendered = render_markdown(source)
    assert rendered.count("<a ") == 60 and "[" not in rendered


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("[a `[` b](https://example.jp)", "a <code>[</code> b"),
        ("[a ``[`` b](https://example.jp)", "a <code>[</code> b"),
        ("[a ``` `[` ``` b](https://example.jp)", "a <code>`[`</code> b"),
        ("[a \\[ b](https://example.jp)", "a [ b"),
    ],
    ids=["code-span", "double-backticks", "nested-backticks", "escape"],
)
def test_brackets_in_code_spans_and_escapes_do_not_count(source: str, expected: str) -> None:
    assert render_markdown(source) == (
        f'<p><a href="https://example.jp" rel="{REL}">{expected}</a></p>\n'
    )


def test_an_unclosed_backtick_run_leaves_its_brackets_counted() -> None:
    assert render_markdown("` [a](https://example.jp) ``") == (
        f'<p>` <a href="https://example.jp" rel="{REL}">a</a> ``</p>\n'
    )


def test_a_source_longer_than_the_limit_is_shown_as_plain_text() -> None:
    long_paragraph = "あ" * MAX_SOURCE
    source = f"**太字** <b>\n[リンク](https://example.jp)\n\n{long_paragraph}"
    assert render_markdown(source) == (
        "<p>**太字** &lt;b&gt;<br>\n[リンク](https://example.jp)</p>\n"
        + f"<p>{long_paragraph}</p>\n"
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("*" * 20000, "<hr>\n"),
        ("x" + "`" * 19999, "<p>x" + "`" * 19999 + "</p>\n"),
        ("`" * 20000, "<pre><code></code></pre>\n"),
        ("_" * 19999 + "a", "<p>" + "_" * 19999 + "a</p>\n"),
    ],
    ids=["asterisks", "backticks", "a-fence", "underscores"],
)
def test_long_runs_of_one_marker_render_as_what_they_are(
    work: Work, source: str, expected: str
) -> None:
    assert render_markdown(source) == expected
    assert work.skipped_tokens == 0


# Pieces that open, close or nest something in Markdown, brackets most of all.
HOSTILE = st.lists(
    st.sampled_from(
        ["[", "[", "[", "[[", "]", "](", "(", ")", "![", "`", "*", "_", "~~", "<", "&#",
         "\\", "\n", "> ", "- ", "1. ", "|", " ", "a", "あ", "https://a.jp", "[a]: /b\n"]
    ),
    max_size=300,
).map("".join)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(source=HOSTILE)
def test_inline_work_is_linear_in_the_source(source: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        work = Work(monkeypatch)
        rendered = render_markdown(source)
    # markdown-it's own limit let each "[" rescan 20 nested labels; now at most 3 do,
    # and an unclosed one none. Hypothesis is steered towards the costliest sources.
    target(work.skipped_tokens / (len(source) + 1))
    assert work.skipped_tokens <= 6 * len(source) + 8
    assert unsafe_parts(rendered) == []


HTML_PIECES = st.sampled_from(
    [
        "<a href=\"https://example.jp\">", '<a href="javascript:x">', "</a>", "<p>", "</p>",
        "<script>", "</script>", "<b>", "<img src=x>", '<td align="left">', "<table>",
        "<!--", "-->", "&amp;", "&lt;", "&", "<", ">", "\"", "'", " ", "あ", "x", "\n",
        ' onclick="x"', ' rel="me"', "<br>", "<ol start=\"3\">", "<li>", "<style>",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(fragment=st.lists(HTML_PIECES, max_size=30).map("".join))
def test_sanitising_twice_changes_nothing(fragment: str) -> None:
    once = sanitise(fragment)
    assert sanitise(once) == once


@settings(max_examples=150, deadline=None)
@given(source=st.text(alphabet="[]()*_`#>-\n あいa<&;", max_size=200), length=st.integers(1, 60))
def test_an_excerpt_of_stored_html_equals_the_excerpt_of_its_source(
    source: str, length: int
) -> None:
    assert html_excerpt(render_markdown(source), length) == excerpt(source, length)


def test_an_excerpt_of_stored_html_decodes_entities_once() -> None:
    stored = render_markdown("`<b>` &amp;amp; **太字**\n\n- 一\n- 二")
    assert html_excerpt(stored) == "<b> &amp; 太字 一 二"


def test_an_html_excerpt_rejects_a_length_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        html_excerpt("<p>本文</p>", length=0)


async def test_the_async_renderer_renders_the_same_html_on_a_worker_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[str] = []
    real: Callable[[str], str] = render.render_markdown

    def spy(source: str) -> str:
        threads.append(threading.current_thread().name)
        return real(source)

    monkeypatch.setattr(render, "render_markdown", spy)
    assert await render_markdown_async("**地方創生**") == "<p><strong>地方創生</strong></p>\n"
    assert len(threads) == 1 and threads[0].startswith("koryu-render")


async def test_a_render_that_outlasts_its_timeout_gives_plain_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()

    def stuck(source: str) -> str:
        release.wait(5)
        return "<p>late</p>\n"

    monkeypatch.setattr(render, "render_markdown", stuck)
    monkeypatch.setattr(render, "RENDER_TIMEOUT", 0.05)
    try:
        rendered = await render_markdown_async("**太字** <b>")
    finally:
        release.set()
    assert rendered == "<p>**太字** &lt;b&gt;</p>\n"
    await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("source", "mentioned"),
    [
        ("@sato-town さん、資料をお願いします", "sato-town"),
        ("@sato-townさん、資料をお願いします", "sato-town"),
        ("（@tanaka_02）に確認済み", "tanaka_02"),
        ("**@yamada** へ", "yamada"),
        ("@sato-town-、先日の件", "sato-town"),
    ],
)
def test_a_mention_links_the_profile_even_before_japanese_text(source: str, mentioned: str) -> None:
    rendered = render_markdown(source)
    assert f'<a href="/u/{mentioned}" class="mention">@{mentioned}</a>' in rendered
    assert mentioned_usernames(rendered) == [mentioned]
    assert unsafe_parts(rendered) == []


@pytest.mark.parametrize(
    "source",
    [
        "連絡先は info@example.jp です",
        "`@sato-town` はコードです",
        "    @sato-town\n",
        "[@sato-town](https://example.jp/)",
        "https://example.jp/@sato-town",
        "@a は短すぎます",
        "@Sato は大文字です",
    ],
)
def test_no_mention_is_made_of_addresses_code_links_or_impossible_names(source: str) -> None:
    rendered = render_markdown(source)
    assert 'class="mention"' not in rendered
    assert mentioned_usernames(rendered) == []


def test_a_user_named_twice_is_mentioned_once_in_order() -> None:
    rendered = render_markdown("@bob と @alice、それから @bob にも")
    assert mentioned_usernames(rendered) == ["bob", "alice"]
