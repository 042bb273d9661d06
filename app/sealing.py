"""Sealing short secrets at rest (the webhook outbox's session ids, ``app/domain/webhooks.py``'s ``Sealer``):
``cryptography``'s Fernet (AES-128-CBC, then HMAC-SHA256 over version, time stamp, IV and cipher text), its
key derived from ``WEBHOOK_SECRET`` with HKDF-SHA256. A plain library: no web framework, no upstream.

``cryptography`` (its Rust bindings: about 6 MiB resident) is imported on the first seal or unseal, not when
the worker boots: a worker that never sends a webhook never loads it.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

# HKDF's salt and info: fixed, public, and distinct from any other use of the same secret (the signatures key
# HMAC with the secret itself), so the sealing key says nothing about the signing key and the other way round.
SALT = b"jimeng-api/webhooks/v1"
INFO = b"jimeng-api webhook outbox: sealed session ids (Fernet key)"


def derive_key(secret: str) -> bytes:
    """The Fernet key (32 bytes, URL-safe base64: 16 for HMAC-SHA256, 16 for AES-128) of ``secret``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


class FernetSealer:
    """``seal``: a Fernet token of the text (a fresh IV each time); ``unseal``: the text, or None when the
    token was not made with this secret, was changed, or is no token at all. The key is derived on first use."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._made: Fernet | None = None

    def _fernet(self) -> Fernet:
        if self._made is None:  # two threads may both derive it: the same key, no harm
            from cryptography.fernet import Fernet

            self._made = Fernet(derive_key(self._secret))
        return self._made

    def seal(self, text: str) -> str:
        return self._fernet().encrypt(text.encode()).decode("ascii")

    def unseal(self, sealed: str) -> str | None:
        fernet = self._fernet()
        from cryptography.fernet import InvalidToken

        try:
            return fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            return None
