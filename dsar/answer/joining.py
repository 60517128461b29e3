"""Joins PDF parts rendered apart into one tagged PDF, keeping their structure.

A long answer is rendered in parts (see document.py). Copying pages alone would drop the
tags that make the PDF accessible, so the parts' structure trees are joined as well: one
Document element holds every part's elements in order, and each page's entry in the parent
tree (which maps the page's marked content back to its elements) is renumbered.

qpdf (through pikepdf) does the copying: a tagged part is tens of thousands of small
objects, which it copies and writes, into object streams, far faster than Python could.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf

#: What a joined document keeps of its first part's catalogue: language, tagging, the
#: title shown instead of the file name, and the metadata that declares PDF/UA.
_CATALOGUE_KEYS = ("/Lang", "/MarkInfo", "/ViewerPreferences", "/Metadata")


def join_tagged(parts: Iterable[bytes]) -> bytes:
    """Joins PDF parts, in order, into one PDF with one structure tree."""
    joined = Pdf.new()
    tree = joined.make_indirect(Dictionary(Type=Name.StructTreeRoot))
    document = joined.make_indirect(Dictionary(
        Type=Name.StructElem, S=Name.Document, K=Array(), P=tree))
    numbers = Array()
    offset = 0
    for index, data in enumerate(parts):
        part = Pdf.open(io.BytesIO(data))
        if index == 0:
            _copy_catalogue(part, joined)
        first_page = len(joined.pages)
        joined.pages.extend(part.pages)
        offset = _join_structure(part, joined, document, numbers, offset, first_page)
    tree.K = Array([document])
    tree.ParentTree = joined.make_indirect(Dictionary(Nums=numbers))
    tree.ParentTreeNextKey = offset
    joined.Root.StructTreeRoot = tree
    output = io.BytesIO()
    joined.save(output, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return output.getvalue()


def _copy_catalogue(part: Pdf, joined: Pdf) -> None:
    """Takes the language, tagging flags, title and metadata of the first part."""
    for key in _CATALOGUE_KEYS:
        if key in part.Root:
            joined.Root[key] = _copy(joined, part.Root[key])
    if "/Info" in part.trailer:
        joined.trailer.Info = _copy(joined, part.trailer.Info)


def _join_structure(
    part: Pdf, joined: Pdf, document: Any, numbers: Any, offset: int, first_page: int
) -> int:
    """Moves one part's elements under the joined Document; returns the next key offset."""
    if "/StructTreeRoot" not in part.Root:
        return offset
    # Copied in one go, so that references to the part's pages lead to their copies.
    tree = joined.copy_foreign(part.Root.StructTreeRoot)
    for top in _as_list(tree.get("/K")):
        kids = _as_list(top.get("/K")) if top.get("/S") == Name.Document else [top]
        for kid in kids:
            if isinstance(kid, Dictionary):
                kid.P = document
            document.K.append(kid)
    pairs = _as_list(tree.ParentTree.get("/Nums"))
    highest = -1
    for key, value in zip(pairs[0::2], pairs[1::2], strict=True):
        numbers.append(int(key) + offset)
        numbers.append(value)
        highest = max(highest, int(key))
    for page in joined.pages[first_page:]:
        if "/StructParents" in page.obj:
            page.obj.StructParents = int(page.obj.StructParents) + offset
    return offset + highest + 1


def _copy(joined: Pdf, value: Any) -> Any:
    """A value of a part for the joined PDF: objects copied, plain values as they are."""
    if isinstance(value, pikepdf.Object) and value.is_indirect:
        return joined.copy_foreign(value)
    if isinstance(value, Dictionary):
        return Dictionary({key: _copy(joined, item) for key, item in value.items()})
    return value


def _as_list(value: Any) -> list[Any]:
    """A PDF value that may be one object or an array of them, as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, Array) else [value]
