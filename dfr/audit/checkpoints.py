"""Signed checkpoints of the audit chain's head, kept apart from the chain.

A chain alone shows an edited or deleted record, but not a chain rewritten from the
first changed record on: the rewriter recomputes every later hash. So each new head
(its sequence number and hash) is signed with an Ed25519 key and appended, one JSON
line each, to ``audit-checkpoints.jsonl``. Verification needs only the public key; a
rewritten chain no longer matches the checkpoints, and new checkpoints cannot be
forged without the private key.

The private key is a PEM file created on first use (mode 0600), by default
``audit-signing.key`` in the data directory; a deployment keeps it elsewhere
(``DFR_AUDIT_KEY_FILE``, e.g. on a volume the database's readers cannot write) and
gives auditors ``audit-signing.pub``. The checkpoint file should also be shipped off
the machine (syslog, WORM storage): truncating both files' tails together is the one
change a local attacker without the key can still make unseen.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from dfr.errors import ConfigError

CHECKPOINT_FILE = "audit-checkpoints.jsonl"
KEY_FILE = "audit-signing.key"
PUBLIC_KEY_FILE = "audit-signing.pub"


def _message(seq: int, head_hash: str, at: str) -> bytes:
    return f"dfr-audit-checkpoint\n{seq}\n{head_hash}\n{at}".encode()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    line: int  # 1-based line in the checkpoint file
    seq: int
    hash: str
    at: str
    signature: bytes

    def signed_by(self, key: Ed25519PublicKey) -> bool:
        try:
            key.verify(self.signature, _message(self.seq, self.hash, self.at))
        except InvalidSignature:
            return False
        return True


def load_or_create_key(key_file: Path, public_file: Path) -> Ed25519PrivateKey:
    """The signing key, made (and its public half written beside it) when absent."""
    if key_file.exists():
        loaded = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ConfigError(f"{key_file}: not an Ed25519 private key")
        key = loaded
    else:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        key_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(pem)
    if not public_file.exists():
        public_file.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return key


def load_public_key(public_file: Path) -> Ed25519PublicKey:
    try:
        loaded = serialization.load_pem_public_key(public_file.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{public_file}: cannot read the audit public key: {exc}") from exc
    if not isinstance(loaded, Ed25519PublicKey):
        raise ConfigError(f"{public_file}: not an Ed25519 public key")
    return loaded


class CheckpointSigner:
    """Appends a signed checkpoint line per new head, flushed to disk before returning."""

    def __init__(self, checkpoint_file: Path, key: Ed25519PrivateKey) -> None:
        self._file = checkpoint_file
        self._key = key

    def sign_head(self, seq: int, head_hash: str, at: str) -> None:
        signature = self._key.sign(_message(seq, head_hash, at))
        line = json.dumps(
            {
                "seq": seq,
                "hash": head_hash,
                "at": at,
                "signature": base64.b64encode(signature).decode(),
            },
            separators=(",", ":"),
        )
        with self._file.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())


def read_checkpoints(checkpoint_file: Path) -> Iterator[Checkpoint | str]:
    """Each line as a Checkpoint, or as a string saying why it cannot be read."""
    if not checkpoint_file.exists():
        return
    with checkpoint_file.open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            try:
                body = json.loads(text)
                yield Checkpoint(
                    line=number,
                    seq=int(body["seq"]),
                    hash=str(body["hash"]),
                    at=str(body["at"]),
                    signature=base64.b64decode(body["signature"], validate=True),
                )
            except (ValueError, KeyError, TypeError) as exc:
                yield f"checkpoint line {number} cannot be read: {exc}"
