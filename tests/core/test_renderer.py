"""The safe renderer of tenant-written text (core.renderer): what validates is exactly
what renders, and nothing but catalogue names can be reached."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from core.renderer import MAX_LENGTH, parse, problems, render, validate
from core.variables import CATALOGUE, VARIABLES, Context, names_for

SHIPMENT_NAMES = sorted(names_for(Context.SHIPMENT_COMMENT))


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def codes(text: str, context: str = Context.SHIPMENT_COMMENT) -> list[str]:
    return [p.code for p in problems(text, context)]


def test_every_catalogue_entry_is_documented_with_a_meaning_and_an_example():
    assert len(CATALOGUE) == len(VARIABLES)
    for variable in VARIABLES:
        assert str(variable.description) and variable.example and variable.contexts


def test_a_valid_comment_renders_its_variables_and_literal_braces():
    validate("Zamówienie {order.number} {{pilne}}")
    assert (
        render("Zamówienie {order.number} {{pilne}}", {"order.number": "AL2611000017"})
        == "Zamówienie AL2611000017 {pilne}"
    )


def test_an_unknown_variable_is_a_clear_error():
    with pytest.raises(ValidationError) as info:
        validate("Dla {buyer.password}")
    assert info.value.messages == [
        "Unknown variable {buyer.password}. Use only the variables listed below the field."
    ]


def test_a_variable_of_another_kind_of_text_is_unknown_here():
    assert codes("{order.total}") == ["unknown_variable"]
    assert codes("{order.total}", Context.ORDER_MESSAGE) == []


@pytest.mark.parametrize(
    "text",
    [
        "{order.__class__}",
        "{order.__class__.__init__.__globals__}",
        "{order.channel.tenant}",
        "{order[0]}",
        "{order.number()}",
    ],
)
def test_attribute_walking_is_refused(text):
    assert codes(text) == ["attribute"]


@pytest.mark.parametrize("text", ["{order.number:>10}", "{order.number!r}", "{order.id:%Y}"])
def test_format_specs_and_conversions_are_refused(text):
    [problem] = problems(text)
    assert problem.code == "format_spec"
    assert "formatting" in problem.message


def test_huge_input_is_refused_with_its_size():
    [problem] = problems("x" * (MAX_LENGTH + 1))
    assert problem.code == "too_long"
    assert problem.message == (
        f"The text is too long: at most {MAX_LENGTH} characters, this one has {MAX_LENGTH + 1}."
    )


def test_too_many_variables_are_refused():
    assert codes("{order.number}" * 201) == ["too_many"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{order.number", "unclosed"),
        ("a } b", "unopened"),
        ("{ order.number }", "syntax"),
        ("{}", "syntax"),
    ],
)
def test_broken_braces_are_explained(text, code):
    assert codes(text) == [code]


# --- properties -------------------------------------------------------------------------------
names = st.sampled_from(SHIPMENT_NAMES)
plain = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=40)
valid_templates = st.lists(
    st.one_of(plain, names.map(lambda n: "{" + n + "}"), st.just("{{"), st.just("}}")), max_size=12
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_either_validates_or_fails_with_a_validation_error(text):
    try:
        validate(text)
    except ValidationError as exc:
        assert exc.messages and all(exc.messages)
    else:
        # Whatever validates, renders without error and without any brace left unexplained.
        render(text, {})


@settings(max_examples=300, deadline=None)
@given(valid_templates)
def test_valid_templates_render_exactly_the_given_values(text):
    validate(text)
    values = {name: f"<{name}>" for name in SHIPMENT_NAMES}
    expected = "".join(p.text if hasattr(p, "text") else values[p.name] for p in parse(text))
    assert render(text, values) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(r"\{[a-z_]{1,10}(\.[a-z_]{1,10}){0,3}\}", fullmatch=True).filter(
        lambda t: t[1:-1] not in SHIPMENT_NAMES
    )
)
def test_no_name_outside_the_catalogue_validates(text):
    assert problems(text) != []


@settings(max_examples=200, deadline=None)
@given(names, st.text(alphabet=":!", min_size=1, max_size=3), st.text(max_size=10))
def test_no_format_spec_validates(name, marker, spec):
    text = "{" + name + marker + spec.replace("}", "").replace("{", "") + "}"
    assert codes(text)[0] in ("format_spec", "unclosed")


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=MAX_LENGTH + 1, max_value=MAX_LENGTH * 5))
def test_no_huge_text_validates(size):
    assert codes("{" * size) == ["too_long"]


def test_values_never_get_evaluated():
    # A value that looks like a template is output as is, never rendered again.
    assert render("{order.number}", {"order.number": "{order.__class__}"}) == "{order.__class__}"
