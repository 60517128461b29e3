"""Every customer-facing template marks its words for translation: no English left unmarked.

Read with Jinja's own parser, not with patterns over the source. The literal text between the
tags (`nodes.TemplateData`) and the string constants a template prints (`{{ 'words' }}`) are
put back in their order, with a stand-in for each other printed value, and read by
html.parser: what a person reads (element text, and attributes such as `alt`, `title`,
`aria-label` and `placeholder`) must hold no letters. Markup, class names, addresses, CSS and
scripts are not text. A `{% trans %}` block and `_()`, `gettext()` and `ngettext()` become
calls with the text as an argument, so what they mark is never looked at. The officer console
and the officers' own mails stay English and are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from jinja2 import Environment, nodes

from dsar.app import create_app
from tests.helpers import ROOT

TEMPLATES = ROOT / "templates"

# The officer console and the mails only officers get stay English.
OFFICER_ONLY = ("console/", "mail/digest.txt", "mail/officer_alert.txt")

# Words that are the same in English and Dutch and must stay as they are. "GDPR" and "Art."
# are deliberately not here: the Dutch catalogue writes "art. 15 AVG" for "Art. 15 GDPR".
# (© and other signs are not letters, so they never need a place here.)
SAME_IN_BOTH = {
    "PDF",  # the file format's name; the catalogue keeps it: "Uw antwoord als document (PDF)"
    "JSON",  # likewise: "Uw gegevens als bestand (JSON)"
    "UTC",  # the time standard's international abbreviation, written so in Dutch too
    "Cplus",  # the controller's brand name, which no language translates
}

# The calls that mark their string arguments for translation (a {% trans %} block is one).
MARKING_CALLS = {"_", "gettext", "ngettext", "pgettext", "npgettext"}

# Attributes a person reads or hears, wherever they appear.
READ_ATTRIBUTES = {"alt", "title", "aria-label", "aria-description", "aria-placeholder",
                   "aria-roledescription", "aria-valuetext", "placeholder", "label"}

# Elements inside a sentence: their text is read on with the text around them.
INLINE = {"a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "dfn", "em", "i",
          "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time",
          "u", "var", "wbr"}

# Stand-ins, from Unicode's private use area, which holds no letters.
VALUE = "\ue000"  # any printed value that is not a string constant
OPEN, CLOSE = "\ue001", "\ue002"  # around a printed string constant that has letters
OR = "\ue003"  # between the branches of an {% if %}, shown as " | "


def customer_facing_templates() -> list[str]:
    """Every template under templates/ but the officers' ones, as 'mail/verify.txt'."""
    names = (p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*") if p.is_file())
    return sorted(n for n in names if not n.startswith(OFFICER_ONLY))


# --- what is printed --------------------------------------------------------------------


def _is_marking_call(node: nodes.Node) -> bool:
    """A call of _(), gettext() or ngettext(): its string arguments are marked."""
    return (isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name)
            and node.node.name in MARKING_CALLS)


def _printed_constants(expr: nodes.Node | None) -> Iterator[nodes.Const]:
    """The string constants that an expression passes to the output as they are.

    `'a' if x else 'b'`, `'a' ~ x`, `x or 'a'`, `'a %s' % x` and `x|default('a')` print
    their constants; tests, comparisons, subscripts, attributes and the arguments of calls
    (url_for's, a macro's) do not, and those of _() and gettext() are marked.
    """
    if expr is None or _is_marking_call(expr):
        return
    if isinstance(expr, nodes.Const):
        if isinstance(expr.value, str):
            yield expr
    elif isinstance(expr, nodes.CondExpr):
        yield from _printed_constants(expr.expr1)
        yield from _printed_constants(expr.expr2)
    elif isinstance(expr, nodes.Concat | nodes.List | nodes.Tuple):
        for item in expr.nodes if isinstance(expr, nodes.Concat) else expr.items:
            yield from _printed_constants(item)
    elif isinstance(expr, nodes.Add | nodes.And | nodes.Or):
        yield from _printed_constants(expr.left)
        yield from _printed_constants(expr.right)
    elif isinstance(expr, nodes.Mod):
        yield from _printed_constants(expr.left)
    elif isinstance(expr, nodes.MarkSafe | nodes.MarkSafeIfAutoescape):
        yield from _printed_constants(expr.expr)
    elif isinstance(expr, nodes.Filter):
        yield from _printed_constants(expr.node)
        if expr.name in ("default", "d", "format", "replace"):
            for arg in expr.args[1:] if expr.name == "replace" else expr.args:
                yield from _printed_constants(arg)


def _pieces(template: nodes.Template) -> Iterator[str]:
    """The template's output in source order: its literal text as it is, each printed
    string constant with letters between OPEN and CLOSE, and VALUE for anything else."""

    def walk(node: nodes.Node) -> Iterator[str]:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    yield child.data
                    continue
                texts = [c.value for c in _printed_constants(child) if _has_letters(c.value)]
                yield OPEN + " / ".join(map(repr, texts)) + CLOSE if texts else VALUE
        elif isinstance(node, nodes.If):
            # The branches one after the other, kept apart: `record{% else %}records`.
            for number, branch in enumerate([node.body, *(e.body for e in node.elif_),
                                             node.else_]):
                yield OR if number and branch else ""
                for statement in branch:
                    yield from walk(statement)
        else:
            # Blocks, loops, macros, set blocks: their bodies and else-branches in order.
            for inner in node.iter_child_nodes():
                yield from walk(inner)

    yield from walk(template)


def _has_letters(text: str) -> bool:
    """Whether a string has letters at all (markup, digits and signs are not)."""
    return any(ch.isalpha() for ch in text)


# --- what a person reads ----------------------------------------------------------------


class _ReadableText(HTMLParser):
    """Collects the text of elements, a sentence across inline elements as one, and of the
    attributes a person reads, leaving out markup, comments, <style> and <script>;
    character references become characters."""

    def __init__(self) -> None:
        """Starts with nothing read."""
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._run: list[str] = []  # the text since the last element that is not inline
        self._hidden = 0  # inside <style> or <script>

    def _end_run(self, tag: str) -> None:
        """A block element (p, td, li, ...) ends the text before it."""
        if tag not in INLINE and self._run:
            self.texts.append("".join(self._run))
            self._run = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Keeps the read attributes' values; a button's value, a page's description too."""
        self._end_run(tag)
        if tag in ("style", "script"):
            self._hidden += 1
        values = dict(attrs)
        for name, value in attrs:
            if value is None:
                continue
            read = (name in READ_ATTRIBUTES
                    or (tag == "input" and name == "value"
                        and values.get("type") in ("submit", "button", "reset"))
                    or (tag == "meta" and name == "content"
                        and values.get("name") in ("description", "keywords")))
            if read:
                self.texts.append(value)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """<img ... /> and the like: their attributes only."""
        self.handle_starttag(tag, attrs)
        if tag in ("style", "script"):
            self._hidden -= 1

    def handle_endtag(self, tag: str) -> None:
        """Ends a block element's text, or leaves a <style> or <script>."""
        self._end_run(tag)
        if tag in ("style", "script") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        """Keeps element text outside <style> and <script>."""
        if not self._hidden:
            self._run.append(data)

    def close(self) -> None:
        """Keeps the text after the last element."""
        super().close()
        self._end_run("")


def _readable_texts(source: str, markup: bool) -> list[str]:
    """What a person reads of a template's output: for HTML the parser's pieces, for a
    plain-text mail each line."""
    if not markup:
        return source.splitlines()
    reader = _ReadableText()
    reader.feed(source)
    reader.close()
    return reader.texts


def _unmarked(text: str) -> str | None:
    """The text as a developer should see it, if it has words that are not marked."""
    plain = re.sub(f"{OPEN}.*?{CLOSE}", lambda m: m.group(0)[1:-1],
                   text.replace(VALUE, " ").replace(OR, " "))
    if all(word in SAME_IN_BOTH for word in re.findall(r"[^\W\d_]+", plain)):
        return None
    for stand_in, shown_as in ((VALUE, "{{…}}"), (OPEN, "{{ "), (CLOSE, " }}"), (OR, " | ")):
        text = text.replace(stand_in, shown_as)
    shown = " ".join(text.split())
    return shown if len(shown) <= 80 else shown[:79] + "…"


def unmarked_text(env: Environment, source: str, markup: bool = True) -> list[str]:
    """The snippets of a template's source that a reader sees but nobody marked for
    translation, in order and each once."""
    flagged = (_unmarked(t) for t in _readable_texts("".join(_pieces(env.parse(source))), markup))
    return list(dict.fromkeys(s for s in flagged if s))


# --- the tests --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def env() -> Environment:
    """The app's own Jinja environment, with Flask-Babel's {% trans %}; it reads no
    database, so an in-memory one will do."""
    return create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "s" * 40}).jinja_env


def test_every_customer_facing_template_marks_its_text_for_translation(env):
    """Text a customer reads in a page, mail or answer document is inside _(), gettext() or
    {% trans %}, so that pybabel extracts it and the Dutch catalogue can translate it:
    `make test` fails on a template with English left unmarked, naming what to mark."""
    names = customer_facing_templates()
    assert len(names) > 30 and "report/access.html" in names and "console/base.html" not in names
    offending = {}
    for name in names:
        source = (TEMPLATES / name).read_text(encoding="utf-8")
        snippets = unmarked_text(env, source, markup=not name.endswith(".txt"))
        if snippets:
            offending[name] = snippets
    report = "\n".join(f"templates/{name}: " + ", ".join(map(repr, snippets))
                       for name, snippets in offending.items())
    assert not offending, f"text not marked for translation:\n{report}"


def test_the_check_flags_unmarked_text_and_only_that(env):
    """The check cannot pass everything: it finds an unmarked word and a printed string,
    and passes marked text, markup, class names, CSS and the words the same in both."""
    trans = env.parse("{% trans n=3 %}Marked {{ n }} words{% endtrans %}")
    assert not list(trans.find_all(nodes.TemplateData)), "{% trans %} leaves no literal text"
    [call] = [c for c in trans.find_all(nodes.Call) if _is_marking_call(c)]
    assert isinstance(call.args[0], nodes.Const) and "Marked" in call.args[0].value

    assert unmarked_text(env, "<p>Unmarked</p>") == ["Unmarked"]
    assert unmarked_text(env, "<p>{% trans %}Marked{% endtrans %}</p>") == []
    assert unmarked_text(env, "<p>{{ _('Marked') }} {{ ngettext('a', 'bs', n) }}</p>") == []
    assert unmarked_text(env, "{{ 'Printed' if x else y }}") == ["{{ 'Printed' }}"]
    assert unmarked_text(env, '<img alt="A photo" src="photo.png">') == ["A photo"]
    assert unmarked_text(env, '<input type="submit" value="Send" name="send">') == ["Send"]
    assert unmarked_text(env, "To {{ name }},\n{{ _('Hello') }}", markup=False) == ["To {{…}},"]
    quiet = """<!doctype html><html lang="{{ get_locale() }}"><head><meta charset="utf-8">
      <style>body { font-family: serif }</style><script>let x = 1;</script></head>
      <body class="answer {{ ' more' if x }}" id="top"><!-- a note -->
      <a href="{{ url_for('intake.form') }}" hreflang="nl" lang="nl">&nbsp;&copy; 2024</a>
      <p>{{ _("Text") }} (PDF, JSON) · {{ x | join(', ') }} {{ y.get('key') }}</p>
      {% trans %}All of <em>this</em>{% endtrans %} {# a Jinja comment #}</body></html>"""
    assert unmarked_text(env, quiet) == []
