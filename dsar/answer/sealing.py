"""Encryption of what dsar stores about a person: AES-256-GCM, keys from the environment.

Each stored chunk is sealed on its own, with a fresh random nonce, and bound to where it
belongs (request, file, position) as associated data: a chunk copied into another answer,
or moved within one, fails to open instead of showing the wrong person's data.

DSAR_STORAGE_KEY holds one or more keys, comma-separated, each 32 random bytes in URL-safe
base64 (`dsar storage new-key` makes one). The first key seals; every key listed opens, so a
key is rotated by putting the new one first and dropping the old one once nothing sealed
with it is left (`dsar storage usage` counts the chunks each key seals).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12


class SealError(Exception):
    """A stored chunk cannot be opened: its key is gone, or it was changed or moved."""


def new_key() -> str:
    """A fresh storage key, as DSAR_STORAGE_KEY takes it."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def key_id(key: bytes) -> str:
    """A short name for a key that reveals nothing of it, stored beside what it sealed."""
    return hashlib.sha256(b"dsar key id\0" + key).hexdigest()[:16]


class Sealer:
    """Seals with the first key and opens with any of them."""

    def __init__(self, keys: list[bytes]) -> None:
        """Keeps the keys, the sealing one first."""
        if not keys:
            raise ValueError("a sealer needs at least one key")
        self._keys = {key_id(key): AESGCM(key) for key in keys}
        self.sealing_key_id = key_id(keys[0])

    def seal(self, plaintext: bytes, where: bytes) -> bytes:
        """The nonce followed by the ciphertext and its tag."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._keys[self.sealing_key_id].encrypt(nonce, plaintext, where)

    def open(self, sealed_with: str, sealed: bytes, where: bytes) -> bytes:
        """The plaintext of a sealed chunk.

        Raises:
            SealError: the key it names is not configured, or the chunk does not belong
                `where` or was altered.
        """
        aead = self._keys.get(sealed_with)
        if aead is None:
            raise SealError(f"no configured storage key has id {sealed_with}")
        try:
            return aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], where)
        except InvalidTag:
            raise SealError("a stored chunk was altered or is not where it belongs") from None


def parse_keys(value: str) -> list[bytes]:
    """The keys of a DSAR_STORAGE_KEY value.

    Raises:
        ValueError: a key is not 32 bytes of URL-safe base64; the message never quotes it.
    """
    keys = []
    for number, text in enumerate((part.strip() for part in value.split(",")), start=1):
        if not text:
            continue
        try:
            key = base64.urlsafe_b64decode(text.encode())
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise ValueError(f"DSAR_STORAGE_KEY: key {number} is not {KEY_BYTES} bytes of "
                             "URL-safe base64 (make one with `dsar storage new-key`)")
        keys.append(key)
    return keys


def sealer_for(config: Mapping[str, Any]) -> Sealer:
    """The sealer the settings ask for.

    Outside production an empty DSAR_STORAGE_KEY means a key derived from the secret key,
    so `make run` needs no set-up; production refuses to start without one (app factory).
    """
    keys = parse_keys(config.get("STORAGE_KEY", ""))
    if not keys:
        keys = [derived_key(config["SECRET_KEY"])]
    return Sealer(keys)


def derived_key(secret_key: str) -> bytes:
    """A storage key derived from the signing key: for development and tests only."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
                info=b"dsar answer storage").derive(secret_key.encode())
