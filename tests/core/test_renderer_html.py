"""The safe renderer's HTML bodies: values are text, never markup, whatever a buyer or an
offer title says; the plain-text body gets the same values as they are."""

from __future__ import annotations

import html

from hypothesis import given, settings
from hypothesis import strategies as st

from core.renderer import render, render_html

# Values as a buyer or Allegro could write them, markup and template syntax included.
hostile = st.lists(
    st.sampled_from([*"<>&\"'{}/=\n abcż;", "<script>", "</a>", "{order.number}", "&amp;"]),
    max_size=20,
).map("".join) | st.text(max_size=40)


@settings(max_examples=300, deadline=None)
@given(hostile)
def test_html_body_escapes_the_value_and_text_body_keeps_it(value):
    template = '<p title="{buyer.name}">{buyer.name}</p>'
    out = render_html(template, {"buyer.name": value})
    escaped = "<br>\n".join(html.escape(part, quote=True) for part in value.split("\n"))
    assert out == f'<p title="{escaped}">{escaped}</p>'
    # No character of the value can open a tag, close the attribute or start an entity.
    assert "<" not in escaped.replace("<br>", "") and '"' not in escaped
    assert render("{buyer.name}", {"buyer.name": value}) == value


@settings(max_examples=200, deadline=None)
@given(hostile)
def test_a_value_is_never_parsed_as_a_template(value):
    # A buyer named "{order.number}" stays that text: values are not rendered again.
    out = render_html("{buyer.name} / {order.number}", {"buyer.name": value, "order.number": "AL1"})
    assert out.endswith(" / AL1")
    assert render("{buyer.name}", {"buyer.name": value, "order.number": "AL1"}) == value


def test_the_tenants_own_markup_stays_and_line_breaks_become_br():
    out = render_html(
        "<b>{order.items}</b>", {"order.items": "1 × Kubek <XL>\n2 × Talerz & spodek"}
    )
    assert out == "<b>1 × Kubek &lt;XL&gt;<br>\n2 × Talerz &amp; spodek</b>"
