"""Where a request's files are kept: sealed, in chunks, in dsar's own database.

The answer (`report.json`, `report.pdf`) and the connectors' findings hold personal data.
They are kept encrypted (`dsar.answer.sealing`) in the database rather than on a disk:
every web and worker machine reaches them without a shared volume, a backup or a stolen
disk holds only ciphertext, and deleting them is one transaction that cannot half-happen.

A file is written to a private temporary file first and stored when it is whole, so no
transaction is held open while it is made and no reader ever sees half a file. It is read
back one chunk at a time, so no process holds a long history whole.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any, NamedTuple

from flask import current_app
from sqlalchemy import delete as delete_rows
from sqlalchemy import func, insert, select
from sqlalchemy.orm import aliased

from dsar.answer.sealing import Sealer, SealError, sealer_for
from dsar.extensions import db
from dsar.models import StoredChunk, StoredFile

#: Plaintext bytes per sealed chunk: large enough to keep rows few, small enough to stream.
CHUNK_BYTES = 1 << 20


def _sealer() -> Sealer:
    """The app's sealer, made once from its settings."""
    sealer: Sealer | None = current_app.extensions.get("dsar.sealer")
    if sealer is None:
        sealer = sealer_for(current_app.config)
        current_app.extensions["dsar.sealer"] = sealer
    return sealer


def _where(request_id: str, name: str, file_id: int, seq: int, last: bool) -> bytes:
    """What a chunk is bound to: its request, file and row, its place, and whether it ends
    the file, so that no chunk opens anywhere else and a file cut short does not open."""
    return f"dsar stored chunk\0{request_id}\0{name}\0{file_id}\0{seq}\0{int(last)}".encode()


@contextmanager
def writing(request_id: str, name: str) -> Iterator[IO[str]]:
    """A text file to write, stored when the block ends (replacing an earlier one) or not at
    all when it fails. The caller commits."""
    with spooled() as spool:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        yield text
        text.flush()
        text.detach()  # the spool stays open for `put`
        put(request_id, name, spool)


@contextmanager
def spooled() -> Iterator[IO[bytes]]:
    """A private temporary file, gone when the block ends, to make a file in before `put`."""
    with tempfile.TemporaryFile(prefix="dsar-") as spool:
        yield spool


def write(request_id: str, name: str, content: bytes) -> None:
    """Stores a file made in memory, replacing an earlier one. The caller commits."""
    put(request_id, name, io.BytesIO(content))


def put(request_id: str, name: str, source: IO[bytes], *, replace: bool = True) -> None:
    """Stores the content of `source`, from its start, replacing an earlier file of that name
    (`replace=False`: the caller knows there is none, and one query is saved).

    The caller commits: the file and the rows that say it exists land together.
    """
    sealer = _sealer()
    if replace:
        _delete(request_id, StoredFile.name == name)
    # Its size is known before the first chunk: the file's row is written once.
    stored = StoredFile(request_id=request_id, name=name, size=source.seek(0, io.SEEK_END))
    db.session.add(stored)
    db.session.flush()
    source.seek(0)
    size = seq = 0
    chunk = source.read(CHUNK_BYTES)
    while True:
        following = source.read(CHUNK_BYTES) if chunk else b""
        db.session.execute(insert(StoredChunk), {
            "file_id": stored.id, "seq": seq, "key_id": sealer.sealing_key_id,
            "data": sealer.seal(chunk, _where(request_id, name, stored.id, seq,
                                              last=not following)),
        })
        size += len(chunk)
        seq += 1
        if not following:
            break
        chunk = following
    if size != stored.size:  # `source` grew or shrank while it was read
        stored.size = size


def sizes(request_id: str, names: Iterable[str]) -> dict[str, int]:
    """The sizes of those of a request's files that are stored, by name."""
    rows = db.session.execute(
        select(StoredFile.name, StoredFile.size)
        .where(StoredFile.request_id == request_id, StoredFile.name.in_(list(names)))
    )
    return {name: size for name, size in rows}


def exists(request_id: str, name: str) -> bool:
    """Whether a request has a stored file of that name."""
    return bool(sizes(request_id, [name]))


def chunks(request_id: str, name: str) -> Iterator[bytes]:
    """A stored file's content, chunk by chunk.

    Raises:
        FileNotFoundError: no such file is stored (at once, not at the first chunk).
        SealError: a chunk is missing, altered or sealed with a key no longer configured.
    """
    return opened(request_id, name)[1]


def opened(request_id: str, name: str) -> tuple[int, Iterator[bytes]]:
    """A stored file's size and its content, chunk by chunk, from one look at the file.

    Raises:
        FileNotFoundError: no such file is stored (at once, not at the first chunk).
    """
    others = aliased(StoredChunk)
    last_seq = (select(func.max(others.seq)).where(others.file_id == StoredFile.id)
                .correlate(StoredFile).scalar_subquery())
    # The first chunk comes with the file: most files are one chunk, read in one query.
    found = db.session.execute(
        select(StoredFile.id, StoredFile.size, last_seq, StoredChunk.key_id, StoredChunk.data)
        .outerjoin(StoredChunk, (StoredChunk.file_id == StoredFile.id) & (StoredChunk.seq == 0))
        .where(StoredFile.request_id == request_id, StoredFile.name == name)
    ).first()
    if found is None:
        raise FileNotFoundError(f"{request_id}/{name}")
    file_id, size, last, key_id, data = found
    first = _Chunk(key_id, data) if data is not None else None
    return size, _opened(request_id, name, file_id, -1 if last is None else last, first)


class _Chunk(NamedTuple):
    """A stored chunk as read: the key it was sealed with, and its sealed bytes."""

    key_id: str
    data: bytes


def _opened(request_id: str, name: str, file_id: int, last: int,
            first: _Chunk | None) -> Iterator[bytes]:
    """The opened chunks of a file, the first as already read, the others one query each.
    The one stored last must open as sealed last: a file cut short, or one with a chunk
    added, fails."""
    sealer = _sealer()
    if last < 0:
        raise SealError(f"stored file {file_id} has no chunks")
    for seq in range(last + 1):
        row = first if seq == 0 else db.session.execute(
            select(StoredChunk.key_id, StoredChunk.data)
            .where(StoredChunk.file_id == file_id, StoredChunk.seq == seq)
        ).first()
        if row is None:
            raise SealError(f"stored file {file_id} lacks chunk {seq}")
        yield sealer.open(row.key_id, row.data,
                          _where(request_id, name, file_id, seq, last=seq == last))


def reading(request_id: str, name: str) -> IO[str]:
    """A stored text file, to read line by line.

    Raises:
        FileNotFoundError: no such file is stored.
    """
    return as_text(chunks(request_id, name))


def as_text(source: Iterator[bytes]) -> IO[str]:
    """The chunks of a stored text file (`opened`), to read as text."""
    return io.TextIOWrapper(io.BufferedReader(_ChunkReader(source)), encoding="utf-8",
                            newline="")


def read(request_id: str, name: str) -> bytes:
    """A whole stored file; for files known to be small."""
    return b"".join(chunks(request_id, name))


def delete(request_id: str, *, prefix: str = "") -> int:
    """Deletes a request's stored files whose names start with `prefix` (all by default).

    Returns:
        How many files were deleted. The caller commits.
    """
    condition = func.substr(StoredFile.name, 1, len(prefix)) == prefix if prefix else None
    return _delete(request_id, condition)


def _delete(request_id: str, condition: Any) -> int:
    """Deletes the matching files of a request with their chunks."""
    chosen = select(StoredFile.id).where(StoredFile.request_id == request_id)
    if condition is not None:
        chosen = chosen.where(condition)
    ids = list(db.session.scalars(chosen))
    if not ids:
        return 0
    db.session.execute(delete_rows(StoredChunk).where(StoredChunk.file_id.in_(ids)))
    db.session.execute(delete_rows(StoredFile).where(StoredFile.id.in_(ids)))
    return len(ids)


class _ChunkReader(io.RawIOBase):
    """The chunks of a stored file as a readable binary stream."""

    def __init__(self, source: Iterator[bytes]) -> None:
        """Reads from `source`, one chunk at a time."""
        super().__init__()
        self._source = source
        self._pending = memoryview(b"")  # a view, so handing out a piece copies nothing

    def readable(self) -> bool:
        """It is."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fills `buffer` from the current chunk, opening the next when it is used up."""
        while not self._pending:
            try:
                self._pending = memoryview(next(self._source))
            except StopIteration:
                return 0
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count
