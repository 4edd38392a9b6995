"""Properties of the typed parsers at the edge (forum/web/params.py, inputs.py): whatever a
client sends, each returns a value of its type within its bounds or raises a domain error
that becomes a 4xx; nothing else escapes to become a 500."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from hypothesis import example, given
from hypothesis import strategies as st
from starlette.requests import Request

from forum.errors import BadRequest, NotFound, ValidationFailed
from forum.threads import THREAD_FLAGS
from forum.web import inputs
from forum.web.params import int_query, path_id
from forum.web.parsers import MAX_ID, Integer, Invalid

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
BOARD_KEYS = ("slug", "title", "description", "moderation", "private", "position")
THREAD_KEYS = ("title", *THREAD_FLAGS)


def objects(keys: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects whose keys are mostly the ones the parser knows, of any value type."""
    return st.dictionaries(
        st.sampled_from(keys) | st.text(max_size=8), JSON, max_size=len(keys) + 2
    )


def request(
    *, path: dict[str, str] | None = None, query: tuple[tuple[str, str], ...] = ()
) -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "path_params": path or {},
        "query_string": urlencode(query).encode(),
        "headers": [],
    }
    return Request(scope)


@given(raw=st.text(max_size=24))
@example(raw="²")
@example(raw="٣")
@example(raw="0")
@example(raw="-1")
@example(raw=str(MAX_ID + 1))
@example(raw="9" * 19)
def test_path_id_gives_an_id_in_range_or_404_for_any_text(raw: str) -> None:
    readable = raw.isascii() and raw.isdigit() and len(raw) <= 12
    try:
        value = path_id(request(path={"id": raw}))
    except NotFound:
        assert not (readable and 1 <= int(raw) <= MAX_ID)
        return
    assert readable and 1 <= value <= MAX_ID and value == int(raw)


@given(value=st.integers(min_value=1, max_value=MAX_ID))
def test_path_id_reads_every_id_in_the_range_of_the_id_columns(value: int) -> None:
    assert path_id(request(path={"id": str(value)})) == value


@given(
    raw=st.text(max_size=30) | st.integers().map(str),
    low=st.integers(-1000, 1000),
    span=st.integers(0, 1000),
)
def test_int_query_gives_a_value_within_its_bounds_or_400(raw: str, low: int, span: int) -> None:
    high = low + span
    try:
        value = int_query(request(query=(("limit", raw),)), "limit", low, low=low, high=high)
    except BadRequest as exc:
        assert exc.status == 400 and exc.code == "bad_query"
        return
    assert low <= value <= high


@given(data=objects(BOARD_KEYS))
def test_board_fields_types_each_field_or_names_the_wrong_ones(data: dict[str, Any]) -> None:
    try:
        parsed = inputs.board_fields(data)
    except ValidationFailed as exc:
        assert exc.status == 422 and exc.fields and set(exc.fields) <= set(BOARD_KEYS)
        return
    for name in ("slug", "title", "description", "moderation"):
        assert getattr(parsed, name) is None or isinstance(getattr(parsed, name), str)
    assert parsed.private is None or isinstance(parsed.private, bool)
    assert parsed.position is None or (
        isinstance(parsed.position, int) and not isinstance(parsed.position, bool)
    )


@given(data=objects(THREAD_KEYS))
def test_thread_changes_refuse_unknown_fields_and_wrong_types(data: dict[str, Any]) -> None:
    try:
        parsed = inputs.thread_changes(data)
    except ValidationFailed as exc:
        assert exc.status == 422 and exc.fields
        unknown = set(data) - set(THREAD_KEYS)
        assert unknown <= set(exc.fields)
        return
    assert set(data) <= set(THREAD_KEYS)
    assert parsed.title is None or isinstance(parsed.title, str)
    for flag in THREAD_FLAGS:
        assert getattr(parsed, flag) is None or isinstance(getattr(parsed, flag), bool)


@given(data=objects(("a", "b")))
def test_integers_are_ints_never_booleans_or_floats(data: dict[str, Any]) -> None:
    try:
        found = inputs.integers(data, ("a", "b"), "整数")
    except ValidationFailed as exc:
        assert set(exc.fields) <= {"a", "b"}
        return
    for value in found.values():
        assert value is None or (isinstance(value, int) and not isinstance(value, bool))
    assert inputs.unknown(data, ("a", "b")) == tuple(sorted(set(data) - {"a", "b"}))


@given(data=objects(("title",)), body=st.text(max_size=20))
def test_new_thread_always_has_a_string_title(data: dict[str, Any], body: str) -> None:
    parsed = inputs.new_thread(data, body=body)
    assert isinstance(parsed.title, str) and parsed.body == body


def _integral(value: object) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


@given(value=st.integers(-(2**40), 2**40) | st.floats(allow_nan=True) | st.booleans())
def test_a_json_integer_is_any_integral_number_in_range_never_a_boolean(value: object) -> None:
    spec = Integer(minimum=1, maximum=1000)
    integral = _integral(value)
    try:
        parsed = spec.parse(value)
    except Invalid:
        assert not (integral and 1 <= value <= 1000)  # type: ignore[operator]
        return
    assert integral and type(parsed) is int and parsed == value and 1 <= parsed <= 1000


@example(data={"a": 70.0, "b": 2.5})
@given(data=objects(("a", "b")))
def test_integral_floats_in_a_body_are_read_as_integers(data: dict[str, Any]) -> None:
    try:
        found = inputs.integers(data, ("a", "b"), "整数")
    except ValidationFailed as exc:
        assert not any(_integral(data[name]) for name in exc.fields)
        return
    for name, value in found.items():
        assert value is None or (type(value) is int and value == data[name])
