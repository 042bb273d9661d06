"""The one validator: from a request to a ``Plan``, checking every limit and table before any upstream call.

Schemas and the chat parser only turn HTTP shapes into requests; whatever entry point a request came through
(generations, compositions, edits, videos, chat), its prompt, model, ratio, size, resolution, duration, image
count and numeric ranges are checked here, against ``config/upstream.yml`` and the settings, and each refusal
names the field the caller sent (``*_param`` of the request).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.errors import InvalidRequestError
from app.domain.models import (
    DraftKind,
    DraftSpec,
    GenerationKind,
    GenerationRequest,
    ImageRequest,
    ResponseFormat,
    VideoRequest,
)
from app.domain.sizes import multi_image_target, parse_size, ratio_for_size, tier_for_size
from app.domain.sources import ImageSource
from config.upstream import ModelInfo, UpstreamConfig

MAX_SEED = 2**32 - 1  # the draft's seed is an unsigned 32-bit number


@dataclass(frozen=True, kw_only=True)
class Plan:
    """A request checked against every rule: the draft to submit and what the answer needs."""

    kind: GenerationKind
    model_id: str
    prompt: str
    spec: DraftSpec
    sources: tuple[ImageSource, ...] = ()
    sources_param: str = "images"
    n: int | None = None
    response_format: ResponseFormat = ResponseFormat.URL


class Planner:
    def __init__(self, upstream: UpstreamConfig, *, max_prompt_chars: int) -> None:
        self.upstream = upstream
        self.max_prompt_chars = max_prompt_chars

    def cost(self, kind: GenerationKind) -> int:
        return self.upstream.costs.of(kind)

    def kind_of(self, name: str | None) -> GenerationKind:
        """The kind of a public model id (None: the default image model); 400 when unknown."""
        if not name:
            return GenerationKind.IMAGE
        model = self.upstream.model(name)
        if model is None:
            known = ", ".join(m.id for m in self.upstream.models)
            raise InvalidRequestError(
                f"Model {name!r} does not exist; models: {known}", code="model_not_found", param="model"
            )
        return GenerationKind(model.type)

    def model(self, name: str | None, kind: GenerationKind) -> ModelInfo:
        """The model by public id (default when None); 400 model_not_found for unknown or wrong-kind ids."""
        if not name:
            return self.upstream.default_model(kind)
        model = self.upstream.model(name)
        if model is None or model.type != kind:
            known = ", ".join(m.id for m in self.upstream.models_of(kind))
            what = f"is a {model.type} model" if model else "does not exist"
            raise InvalidRequestError(
                f"Model {name!r} {what}; {kind} models: {known}", code="model_not_found", param="model"
            )
        return model

    def plan(self, request: GenerationRequest) -> Plan:
        if isinstance(request, VideoRequest):
            return self._plan_video(request)
        return self._plan_images(request)

    # -- images -----------------------------------------------------------------------------------------

    def _plan_images(self, request: ImageRequest) -> Plan:
        prompt = self._prompt(request.prompt, request.prompt_param)
        model = self.model(request.model, GenerationKind.IMAGE)
        _check_count(request.images, self.upstream.limits.max_input_images, request.images_param, "images")
        if request.images and not model.blend:
            raise InvalidRequestError(f"Model {model.id} cannot compose images", code="model_not_found", param="model")
        _check_range("n", request.n, 1, self.upstream.limits.max_n)
        _check_range("seed", request.seed, 0, MAX_SEED)
        _check_range("sample_strength", request.sample_strength, 0, 1)
        ratio, resolution = self._image_ratio_and_tier(request)
        size = self.upstream.image_size(ratio, resolution)
        target = None if request.images else multi_image_target(model, prompt)
        spec = DraftSpec(
            kind=DraftKind.BLEND if request.images else DraftKind.GENERATE,
            model_key=model.key,
            prompt=prompt,
            width=size.width,
            height=size.height,
            ratio=ratio,
            resolution=resolution,
            ratio_code=size.code,
            negative_prompt=request.negative_prompt,
            sample_strength=request.sample_strength,
            seed=request.seed,
            multi_image=target is not None,
        )
        return Plan(
            kind=GenerationKind.IMAGE, model_id=model.id, prompt=prompt, spec=spec, sources=request.images,
            sources_param=request.images_param, n=request.n, response_format=request.response_format,
        )  # fmt: skip

    def _image_ratio_and_tier(self, request: ImageRequest) -> tuple[str, str]:
        ratios = self.upstream.image_ratios
        ratio, resolution = request.ratio, request.resolution
        if request.size:
            try:
                width, height = parse_size(request.size)
            except ValueError as err:
                raise InvalidRequestError(f"size: {err}", param="size") from err
            mapped = ratio_for_size(width, height, ratios)
            if ratio and ratio != mapped:
                raise InvalidRequestError(
                    f"size {request.size} maps to ratio {mapped}, which conflicts with ratio {ratio}; send one of them",
                    param="size",
                )
            ratio, resolution = mapped, resolution or tier_for_size(width, height, self.upstream.image_tier_sides)
        ratio = ratio or self.upstream.defaults.image_ratio
        resolution = (resolution or self.upstream.defaults.image_resolution).lower()
        _check_choice("ratio", ratio, ratios)
        _check_choice("resolution", resolution, self.upstream.image_tiers)
        return ratio, resolution

    # -- videos -----------------------------------------------------------------------------------------

    def _plan_video(self, request: VideoRequest) -> Plan:
        prompt = self._prompt(request.prompt, request.prompt_param)
        model = self.model(request.model, GenerationKind.VIDEO)
        limit = self.upstream.limits.max_video_frames
        _check_count(request.frames, limit, request.frames_param, "images (first and last frame)")
        ratios = self.upstream.video_ratios
        ratio = request.ratio
        if request.size is not None:
            mapped = ratio_for_size(*request.size, ratios)
            if ratio and ratio != mapped:
                raise InvalidRequestError(
                    f"width x height maps to ratio {mapped}, which conflicts with ratio {ratio}", param="ratio"
                )
            ratio = mapped
        ratio = ratio or self.upstream.defaults.video_ratio
        _check_choice("ratio", ratio, ratios)
        resolution = request.resolution or self.upstream.defaults.video_resolution
        _check_choice("resolution", resolution, tuple(self.upstream.video.resolutions))
        duration = request.duration if request.duration is not None else self.upstream.defaults.video_duration
        durations = self.upstream.video.durations
        if duration not in durations:
            raise InvalidRequestError(
                f"duration must be one of {', '.join(map(str, durations))} seconds", param="duration"
            )
        width, height = video_size(ratio, self.upstream.video.resolutions[resolution])
        spec = DraftSpec(
            kind=DraftKind.VIDEO, model_key=model.key, prompt=prompt, width=width, height=height, ratio=ratio,
            resolution=resolution, duration_s=duration,
        )  # fmt: skip
        return Plan(
            kind=GenerationKind.VIDEO, model_id=model.id, prompt=prompt, spec=spec, sources=request.frames,
            sources_param=request.frames_param, response_format=request.response_format,
        )  # fmt: skip

    def _prompt(self, prompt: str, param: str) -> str:
        text = prompt.strip()
        if not text:
            raise InvalidRequestError(f"{param}: the prompt must not be empty", param=param)
        if len(text) > self.max_prompt_chars:
            raise InvalidRequestError(
                f"{param}: the prompt is {len(text)} characters long; the limit is {self.max_prompt_chars}",
                param=param,
            )
        return text


def _check_count(sources: tuple[ImageSource, ...], limit: int, param: str, what: str) -> None:
    if len(sources) > limit:
        raise InvalidRequestError(
            f"{param}: takes at most {limit} {what}, got {len(sources)}", code="too_many_images", param=param
        )


def _check_range(param: str, value: float | None, low: float, high: float) -> None:
    if value is not None and not low <= value <= high:
        raise InvalidRequestError(f"{param} must be from {low:g} to {high:g}; got {value!r}", param=param)


def _check_choice(param: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InvalidRequestError(f"{param} must be one of {', '.join(choices)}; got {value!r}", param=param)


def video_size(ratio: str, short: int) -> tuple[int, int]:
    """Pixel size of a video from its ratio and short side (16:9 at 720 -> 1280x720)."""
    w, _, h = ratio.partition(":")
    rw, rh = int(w), int(h)
    long_side = round(short * max(rw, rh) / min(rw, rh) / 2) * 2
    return (long_side, short) if rw >= rh else (short, long_side)
