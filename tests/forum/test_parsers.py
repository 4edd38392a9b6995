"""The limits /api/openapi.json states are the limits the parsers enforce, both ways."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forum import web as forum_web
from forum.web import api, inputs, mail_pages, notifications_api
from forum.web import search as search_web
from forum.web.openapi import document
from forum.web.parsers import (
    ID,
    MAX_ID,
    Body,
    Flag,
    Integer,
    Invalid,
    ObjectList,
    Spec,
    Text,
    TextList,
)
from live import web as live_web
from live.web import inputs as live_inputs
from live.web import qa_pages
from moderation import web as moderation_web
from moderation.web import inputs as moderation_inputs
from uploads import web as uploads_web

DOCUMENT = document(
    *forum_web.OPENAPI, moderation_web.OPENAPI, live_web.OPENAPI, uploads_web.OPENAPI
)
SCHEMAS = DOCUMENT["components"]["schemas"]

# Every request body the API reads, by the name the document gives its schema.
BODIES: dict[str, Body] = {
    "Registration": inputs.REGISTRATION,
    "Credentials": inputs.CREDENTIALS,
    "PasswordChange": inputs.PASSWORD_CHANGE,
    "BoardInput": inputs.BOARD_INPUT,
    "BoardPatch": inputs.BOARD_PATCH,
    "StaffInput": inputs.STAFF_INPUT,
    "RoleInput": inputs.ROLE_INPUT,
    "NewThread": inputs.NEW_THREAD,
    "ThreadPatch": inputs.THREAD_PATCH,
    "NewPost": inputs.NEW_POST,
    "PostPatch": inputs.POST_PATCH,
    "ReadInput": inputs.READ_INPUT,
    "DecisionInput": moderation_inputs.DECISION,
    "BulkDecisionInput": moderation_inputs.BULK_DECISION,
    "RuleSettings": moderation_inputs.RULE_SETTINGS,
    "WatchedWordInput": moderation_inputs.WATCHED_WORD,
    "TemplateInput": moderation_inputs.TEMPLATE,
    "SanctionInput": moderation_inputs.SANCTION,
    "ThreadActionInput": moderation_inputs.THREAD_ACTION,
    "ThreadMoveInput": moderation_inputs.THREAD_MOVE,
    "FlagInput": moderation_inputs.FLAG,
    "SessionInput": live_inputs.SESSION_INPUT,
    "SessionPatch": live_inputs.SESSION_PATCH,
    "AnswerStateInput": live_inputs.ANSWER_STATE_INPUT,
    "MergeInput": live_inputs.MERGE_INPUT,
    "FollowInput": notifications_api.FOLLOW_INPUT,
    "EmailInput": mail_pages.EMAIL_INPUT,
    "MailSettingsInput": mail_pages.MAIL_SETTINGS_INPUT,
}
QUERIES: dict[str, dict[str, Spec]] = {
    **api.QUERY,
    **notifications_api.QUERY,
    **moderation_inputs.QUERY,
    "/sessions": live_inputs.SESSION_QUERY,
    # A page's query, not the API's: the question board's sort and filter.
    "/sessions/{id}/questions": qa_pages.QUERY,
    **search_web.QUERY,
}


# Multipart bodies (a file sent): read by Starlette's form parser and the uploads' intake,
# which sniffs the file itself; each names the form fields it reads.
MULTIPART: dict[str, tuple[str, ...]] = {"UploadForm": ("file",)}


def request_bodies(media: str = "application/json") -> set[str]:
    return {
        operation["requestBody"]["content"][media]["schema"]["$ref"].rsplit("/")[-1]
        for item in DOCUMENT["paths"].values()
        for operation in item.values()
        if "requestBody" in operation and media in operation["requestBody"]["content"]
    }


def test_every_multipart_body_of_the_document_is_registered_with_its_fields() -> None:
    assert request_bodies("multipart/form-data") == set(MULTIPART)
    for name, fields in MULTIPART.items():
        assert tuple(SCHEMAS[name]["properties"]) == fields
        assert SCHEMAS[name]["additionalProperties"] is False


def refused(body: Body, field: str, value: Any) -> bool:
    try:
        body.parse({field: value})
    except Exception as exc:
        return field in getattr(exc, "fields", {})
    return False


def refused_when_missing(body: Body, field: str) -> bool:
    try:
        body.parse({})
    except Exception as exc:
        return field in getattr(exc, "fields", {})
    return False


def edges(schema: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """Values the schema allows and values it refuses, at its stated limits."""
    schema = schema.get("anyOf", [schema])[0]
    if "enum" in schema:
        return list(schema["enum"]), ["not-one-of-them", 1]
    if schema["type"] == "string":
        low, high = schema.get("minLength", 0), schema["maxLength"]
        bad = ["a" * (high + 1), 1, "a\x00"]
        return ["a" * max(low, 1), "a" * high], bad if low == 0 else [*bad, "a" * (low - 1)]
    if schema["type"] == "integer":
        low, high = schema["minimum"], schema["maximum"]
        return [low, high], [low - 1, high + 1, True, 1.5, str(low)]
    if schema["type"] == "boolean":
        return [True, False], [1, 0, "true", 1.175494351e-38]
    assert schema["type"] == "array"
    if schema["items"]["type"] == "object":
        # Every item filled at the edges of its own schema, then one item wrong at a time.
        item_schema = schema["items"]
        item = {name: edges(prop)[0][0] for name, prop in item_schema["properties"].items()}
        low, high = schema.get("minItems", 0), schema["maxItems"]
        refused_lists: list[Any] = [[item] * (high + 1), [1], [{**item, "not_a_field": 1}], item]
        if low:
            refused_lists.append([])
        for name in item_schema["required"]:
            refused_lists.append([{k: v for k, v in item.items() if k != name}])
        for name, prop in item_schema["properties"].items():
            refused_lists.extend([{**item, name: wrong}] for wrong in edges(prop)[1])
        return [[item] * max(low, 1), [item] * high], refused_lists
    if schema["items"]["type"] == "string":
        high = schema["items"]["maxLength"]
        too_many = ["a"] * (schema["maxItems"] + 1)
        return [["a", "b"], []], [too_many, [1], ["a" * (high + 1)], ["a\x00"], "a"]
    return [[1, 2]], [list(range(1, schema["maxItems"] + 2)), ["1"], [0], 1]


def test_every_request_body_of_the_document_is_read_by_a_registered_parser() -> None:
    assert request_bodies() == set(BODIES)


@pytest.mark.parametrize("name", sorted(BODIES))
def test_a_body_schema_states_exactly_the_limits_its_parser_enforces(name: str) -> None:
    body, schema = BODIES[name], SCHEMAS[name]
    assert schema == body.schema()
    assert schema["additionalProperties"] is False
    assert refused(body, "not_a_field", 1)
    for field in schema["required"]:
        assert refused(body, field, None) or refused_when_missing(body, field), (name, field)
    for field, property_schema in schema["properties"].items():
        good, bad = edges(property_schema)
        for value in good:
            assert not refused(body, field, value), (name, field, value)
        for value in bad:
            assert refused(body, field, value), (name, field, value)


def query_edges(schema: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Query strings the schema allows and refuses, at its stated limits."""
    if "enum" in schema:
        return list(schema["enum"]), ["not-one-of-them"]
    if schema["type"] == "string":
        high = schema["maxLength"]
        return ["a" * max(schema.get("minLength", 0), 1), "a" * high], ["a" * (high + 1), "a\x00"]
    if schema["type"] == "integer":
        low, high = schema["minimum"], schema["maximum"]
        return [str(low), str(high)], [str(low - 1), str(high + 1), "1.5", "+1", " 1"]
    return ["true", "false", "1", "0"], ["1.175494351e-38", "yes", ""]


def test_every_query_parameter_of_the_document_states_its_parser_limits() -> None:
    checked = 0
    for path, item in DOCUMENT["paths"].items():
        for operation in item.values():
            for parameter in operation["parameters"]:
                if parameter["in"] != "query":
                    continue
                spec = QUERIES[path.removeprefix("/api/v1")][parameter["name"]]
                assert parameter["schema"] == spec.schema()
                for value in query_edges(parameter["schema"])[0]:
                    spec.from_string(value)
                for value in query_edges(parameter["schema"])[1]:
                    with pytest.raises(Invalid):
                        spec.from_string(value)
                checked += 1
    assert checked >= 10


@given(st.text(max_size=60))
def test_text_either_returns_a_bounded_nul_free_string_or_refuses_it(raw: str) -> None:
    spec = Text(min_length=1, max_length=40)
    try:
        value = spec.from_string(raw)
    except Invalid:
        assert "\x00" in raw or not 1 <= len(raw) <= 40
    else:
        assert value == raw and "\x00" not in value


@given(st.one_of(st.text(max_size=30), st.integers().map(str), st.floats().map(str)))
def test_an_integer_is_read_only_from_plain_digits_in_range(raw: str) -> None:
    try:
        value = ID.from_string(raw)
    except Invalid:
        assert not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ID
    else:
        assert str(value) == raw and 1 <= value <= MAX_ID


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)))
def test_a_boolean_field_takes_only_json_booleans(value: object) -> None:
    try:
        parsed = Flag().parse(value)
    except Invalid:
        assert not isinstance(value, bool)
    else:
        assert parsed is value


@given(st.lists(st.one_of(st.text(max_size=40), st.integers()), max_size=6))
def test_a_text_list_returns_bounded_strings_or_refuses_the_whole_array(
    value: list[object],
) -> None:
    spec = TextList(item=Text(min_length=1, max_length=32), max_items=4)
    try:
        parsed = spec.parse(value)
    except Invalid:
        assert len(value) > 4 or not all(
            isinstance(item, str) and "\x00" not in item and 1 <= len(item) <= 32 for item in value
        )
    else:
        assert parsed == value and len(parsed) <= 4


@given(
    st.lists(
        st.one_of(
            st.integers(),
            st.fixed_dictionaries({"id": st.integers(), "version": st.integers()}),
        ),
        max_size=5,
    )
)
def test_an_object_list_returns_each_object_parsed_or_refuses_the_whole_array(
    value: list[object],
) -> None:
    item = Body({"id": ID, "version": Integer(minimum=0)}, frozenset({"id", "version"}))
    spec = ObjectList(item=item, min_items=1, max_items=3)

    def fits(entry: object) -> bool:
        return (
            isinstance(entry, dict)
            and 1 <= entry["id"] <= MAX_ID
            and 0 <= entry["version"] <= MAX_ID
        )

    try:
        parsed = spec.parse(value)
    except Invalid:
        assert not 1 <= len(value) <= 3 or not all(fits(entry) for entry in value)
    else:
        assert parsed == value
