"""Errors of the generation flow itself, independent of HTTP and of the upstream client.

DomainError
 +-- InvalidRequestError        input that no upstream call could fix (unknown model, bad combination)
 |    +-- ImageTooLargeError    413: one input image is over MAX_IMAGE_BYTES
 +-- GenerationTimeoutError     the deadline passed; the generation may still finish upstream
 +-- NotFoundError              a task id the account does not know
 +-- ClientGoneError            the client hung up while waiting
"""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, message: str, *, history_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.history_id = history_id


class InvalidRequestError(DomainError):
    """400: ``code`` is one of the contract's invalid_request_error codes, ``param`` the field."""

    def __init__(self, message: str, *, code: str = "invalid_value", param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.param = param


class ImageTooLargeError(InvalidRequestError):
    """413 ``request_too_large``: one input image over its limit (the contract's 413, not a 400)."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message, code="request_too_large", param=param)


class GenerationTimeoutError(DomainError):
    pass


class ClientGoneError(DomainError):
    """The client hung up while its generation ran; nobody is left to answer (logged as 499)."""


class NotFoundError(DomainError):
    """404 for a task id the account does not know."""
