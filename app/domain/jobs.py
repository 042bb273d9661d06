"""What a request becomes once checked: its deadlines, the prepared inputs, and the job Jimeng accepted.

A job is one or more upstream generations ("parts") submitted on one session: ``n`` above one job's
maximum is split by the planner, and the results are concatenated in order.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from app.domain.catalog import Catalog
from app.domain.errors import DomainError, NotFoundError, error_record, restore_error
from app.domain.models import GenerationKind, GenerationRequest, InputImage, ResponseFormat, Submitted
from app.domain.planning import Plan


@dataclass(frozen=True, kw_only=True)
class Deadlines:
    """How long a generation of each kind is followed before the answer is a 504 (from Settings)."""

    image: float
    video: float

    def of(self, kind: GenerationKind) -> float:
        return self.video if kind is GenerationKind.VIDEO else self.image


@dataclass(frozen=True, kw_only=True)
class Prepared:
    """A request checked and with its input images in hand; nothing spent yet. ``catalog`` is the model table
    it was checked against (the account's live one is asked for, and the request checked again, before the
    submit)."""

    request: GenerationRequest
    plan: Plan
    inputs: tuple[InputImage, ...]
    catalog: Catalog


@dataclass(frozen=True, kw_only=True)
class Part:
    """One upstream generation of a job: Jimeng's ids, how many images it makes, its forecast."""

    history_id: str
    submit_id: str
    count: int
    forecast_seconds: float | None = None

    @classmethod
    def of(cls, submitted: Submitted, count: int) -> Part:
        return cls(
            history_id=submitted.history_id, submit_id=submitted.submit_id, count=count,
            forecast_seconds=submitted.forecast_seconds,
        )  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Job:
    """What Jimeng accepted for one request: everything later steps need, nothing else."""

    parts: tuple[Part, ...]  # at least one, in submit order
    session_id: str
    kind: GenerationKind
    model: str
    prompt: str
    created: int
    response_format: ResponseFormat
    input_images: int
    output_format: str | None = None  # b64_json images re-encoded as png, jpeg or webp
    output_compression: int | None = None
    size: str | None = None  # images: the drafts' pixel size, "2048x2048"
    tier: str = ""  # images: the tier ("2k"); videos: resolution and length ("720p 5s"): how long it takes
    refused: tuple[DomainError, ...] = ()  # later parts Jimeng refused at submit (the first part was accepted)
    resumed: bool = False  # submitted by an earlier request with the same intent (from the shared store)

    @property
    def history_id(self) -> str:
        return self.parts[0].history_id

    @property
    def history_ids(self) -> tuple[str, ...]:
        return tuple(part.history_id for part in self.parts)

    def to_record(self) -> dict[str, Any]:
        """What another request (in any worker or replica) needs to follow this job, as JSON-able data. The
        session id is a password: only its digest is kept, and ``from_record`` finds the session again in the
        pool of the request that resumes the job (the same credentials, or the same server pool)."""
        return {
            "parts": [asdict(part) for part in self.parts],
            "session": session_digest(self.session_id),
            "kind": self.kind.value,
            "model": self.model,
            "prompt": self.prompt,
            "created": self.created,
            "response_format": self.response_format.value,
            "input_images": self.input_images,
            "output_format": self.output_format,
            "output_compression": self.output_compression,
            "size": self.size,
            "tier": self.tier,
            "refused": [error_record(err) for err in self.refused],
        }

    @classmethod
    def from_record(cls, record: dict[str, Any], sessions: list[str]) -> Job:
        """The job ``to_record`` described, on the session of ``sessions`` that ran it."""
        parts = tuple(Part(**part) for part in record["parts"])
        session_id = next((s for s in sessions if session_digest(s) == record["session"]), None)
        if session_id is None:
            hid = parts[0].history_id
            raise NotFoundError(
                f"Generation {hid} ran on a session that is no longer in this pool; GET /v1/tasks/{hid} with it",
                history_id=hid,
            )
        return cls(
            parts=parts, session_id=session_id, kind=GenerationKind(record["kind"]), model=record["model"],
            prompt=record["prompt"], created=int(record["created"]),
            response_format=ResponseFormat(record["response_format"]), input_images=int(record["input_images"]),
            output_format=record.get("output_format"), output_compression=record.get("output_compression"),
            size=record.get("size"), tier=str(record.get("tier") or ""),
            refused=tuple(restore_error(err) for err in record.get("refused", ())), resumed=True,
        )  # fmt: skip


def session_digest(session_id: str) -> str:
    """A stable name for a session that reveals nothing of it (stored next to jobs, never the id itself)."""
    return hashlib.sha256(f"jimeng-api session {session_id}".encode()).hexdigest()[:32]
