"""What a request becomes once checked: its deadlines, the prepared inputs, and the job Jimeng accepted.

A job is one or more upstream generations ("parts") submitted on one session: ``n`` above one job's
maximum is split by the planner, and the results are concatenated in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.catalog import Catalog
from app.domain.errors import DomainError
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
    refused: tuple[DomainError, ...] = ()  # later parts Jimeng refused at submit (the first part was accepted)

    @property
    def history_id(self) -> str:
        return self.parts[0].history_id

    @property
    def history_ids(self) -> tuple[str, ...]:
        return tuple(part.history_id for part in self.parts)
