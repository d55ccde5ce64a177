from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from channels.comment_variables import (
    CATALOGUE,
    Literal,
    Variable,
    parse,
    validate_comment_template,
)


def test_parse_splits_text_and_variables():
    assert parse("Zamówienie {order.number} dla {buyer.login}.") == [
        Literal("Zamówienie "), Variable("order.number"), Literal(" dla "),
        Variable("buyer.login"), Literal("."),
    ]  # fmt: skip
    assert parse("{{dosłownie}} {order.id}") == [Literal("{dosłownie} "), Variable("order.id")]


@pytest.mark.parametrize(
    "text",
    ["", "Bez zmiennych", "{order.id}", "{{}}", *(f"{{{name}}}" for name in CATALOGUE)],
)
def test_valid_comments(text):
    validate_comment_template(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{order.password}", "Unknown variable {order.password}. Use only the variables listed "
                             "below the field."),
        ("{a} {b}", "Unknown variables {a}, {b}. Use only the variables listed below the field."),
        ("{order.__class__}", "“{order.__class__}” is not a variable. Use a name from the list "
                              "exactly as written, e.g. {order.id}, without spaces, formatting "
                              "or extra parts."),
        ("{order.id:>10}", "“{order.id:>10}” is not a variable. Use a name from the list exactly "
                           "as written, e.g. {order.id}, without spaces, formatting or extra "
                           "parts."),
        ("{order.id!r}", "“{order.id!r}” is not a variable. Use a name from the list exactly as "
                         "written, e.g. {order.id}, without spaces, formatting or extra parts."),
        ("{order.buyer.login}", "“{order.buyer.login}” is not a variable. Use a name from the "
                                "list exactly as written, e.g. {order.id}, without spaces, "
                                "formatting or extra parts."),
        ("{order[0]}", "“{order[0]}” is not a variable. Use a name from the list exactly as "
                       "written, e.g. {order.id}, without spaces, formatting or extra parts."),
        ("Nr {order.id", "A “{” is never closed. Write {{ for a literal brace."),
        ("Nr {order.{id}}", "A “{” is never closed. Write {{ for a literal brace."),
        ("Nr }", "A “}” has no opening “{”. Write }} for a literal brace."),
    ],
)  # fmt: skip
def test_invalid_comments_say_why(text, message):
    with pytest.raises(ValidationError) as exc:
        validate_comment_template(text)
    assert exc.value.messages == [message]
