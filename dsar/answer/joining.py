"""Joins PDF parts rendered apart into one tagged PDF, keeping their structure.

A long answer is rendered in parts (see document.py). Copying pages alone would drop the
tags that make the PDF accessible, so the parts' structure trees are joined as well: one
Document element holds every part's elements in order, and each page's entry in the parent
tree (which maps the page's marked content back to its elements) is renumbered.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any, cast

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
)

#: What a joined document keeps of its first part's catalogue: language, tagging, the
#: title shown instead of the file name, and the metadata that declares PDF/UA.
_CATALOGUE_KEYS = ("/Lang", "/MarkInfo", "/ViewerPreferences", "/Metadata")


def join_tagged(parts: Iterable[bytes]) -> bytes:
    """Joins PDF parts, in order, into one PDF with one structure tree."""
    writer = PdfWriter()
    document = DictionaryObject({
        NameObject("/Type"): NameObject("/StructElem"),
        NameObject("/S"): NameObject("/Document"),
        NameObject("/K"): ArrayObject(),
    })
    document_ref = writer._add_object(document)
    tree = DictionaryObject({NameObject("/Type"): NameObject("/StructTreeRoot")})
    tree_ref = writer._add_object(tree)
    document[NameObject("/P")] = tree_ref
    numbers = ArrayObject()
    offset = 0
    for index, data in enumerate(parts):
        reader = PdfReader(io.BytesIO(data))
        if index == 0:
            _copy_catalogue(reader, writer)
        for page in reader.pages:
            added = writer.add_page(page)  # pypdf leaves the page's tree key out: set anew
            key: Any = page.get("/StructParents")
            if key is not None:
                added[NameObject("/StructParents")] = NumberObject(int(key) + offset)
        offset = _join_structure(reader, writer, document_ref, numbers, offset)
    tree[NameObject("/K")] = ArrayObject([document_ref])
    tree[NameObject("/ParentTree")] = writer._add_object(
        DictionaryObject({NameObject("/Nums"): numbers}))
    tree[NameObject("/ParentTreeNextKey")] = NumberObject(offset)
    writer._root_object[NameObject("/StructTreeRoot")] = tree_ref
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _copy_catalogue(reader: PdfReader, writer: PdfWriter) -> None:
    """Takes the language, tagging flags, title and metadata of the first part."""
    catalogue: Any = reader.trailer["/Root"]
    for key in _CATALOGUE_KEYS:
        if key in catalogue:
            writer._root_object[NameObject(key)] = catalogue[key].clone(writer)
    if reader.metadata:
        writer.add_metadata(dict(reader.metadata))


def _join_structure(
    reader: PdfReader,
    writer: PdfWriter,
    document_ref: IndirectObject,
    numbers: ArrayObject,
    offset: int,
) -> int:
    """Moves one part's elements under the joined Document; returns the next key offset."""
    root: Any = reader.trailer["/Root"]
    if "/StructTreeRoot" not in root:
        return offset
    part_tree: Any = root["/StructTreeRoot"].get_object()
    document: Any = document_ref.get_object()
    for top in _as_list(part_tree.get("/K")):
        part_document: Any = top.get_object()
        kids = _as_list(part_document.get("/K")) if part_document.get("/S") == "/Document" \
            else [top]
        for kid in kids:
            clone = kid.clone(writer, ignore_fields=("/P",))
            if isinstance(clone, IndirectObject):
                _set_parents(clone, document_ref)
            document["/K"].append(clone)
    pairs = _as_list(part_tree["/ParentTree"].get_object().get("/Nums"))
    highest = -1
    for key, value in zip(pairs[0::2], pairs[1::2], strict=True):
        number = int(cast(Any, key))
        numbers.append(NumberObject(number + offset))
        numbers.append(value.clone(writer, ignore_fields=("/P",)))
        highest = max(highest, number)
    return offset + highest + 1


def _set_parents(element_ref: IndirectObject, parent_ref: IndirectObject) -> None:
    """Points a cloned element and its descendants at their parents again."""
    stack = [(element_ref, parent_ref)]
    while stack:
        ref, parent = stack.pop()
        element: Any = ref.get_object()
        if not isinstance(element, DictionaryObject) or "/S" not in element:
            continue  # a marked-content reference or an object reference: no parent entry
        element[NameObject("/P")] = parent
        for kid in _as_list(element.get("/K")):
            if isinstance(kid, IndirectObject):
                stack.append((kid, ref))


def _as_list(value: Any) -> list[Any]:
    """A PDF value that may be one object or an array of them, as a list."""
    if value is None:
        return []
    value = value.get_object()
    return list(value) if isinstance(value, ArrayObject) else [value]
