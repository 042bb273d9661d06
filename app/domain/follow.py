"""What following a generation looks like to its one consumer at a time (a waiting request or a stream).

``GenerationService.follow`` yields these until the generation ends or its client leaves; failures are
raised, carrying the generation's history id.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.models import GenerationResult, Snapshot

CLIENT_CHECK_SECONDS = 0.5  # how soon a client that hung up is noticed, and its polling stopped


@dataclass(frozen=True)
class Progress:
    """The record changed (queued -> running, one more image finished); ``part`` is the index of the job's part
    it concerns (parts are followed in submit order)."""

    snapshot: Snapshot
    part: int = 0


@dataclass(frozen=True)
class PartFinished:
    """One part of the job succeeded (``result`` holds its images alone); ``Finished`` still follows at the end.
    A stream sends each part's images in order from these (the last images of a part may arrive only here)."""

    part: int
    result: GenerationResult


@dataclass(frozen=True)
class Idle:
    """Nothing happened for the consumer's idle interval: a stream sends a keep-alive."""


@dataclass(frozen=True)
class Finished:
    result: GenerationResult


@dataclass(frozen=True)
class Gone:
    """The client hung up; nothing polls for it any more."""


FollowEvent = Progress | PartFinished | Idle | Finished | Gone
