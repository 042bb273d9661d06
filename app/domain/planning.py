"""From a validated request to a DraftSpec: the model, ratio, size and resolution rules of the contract.

Everything here is checked before any upstream call, so bad input costs nothing and answers fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.errors import InvalidRequestError
from app.domain.models import DraftSpec, ImageRequest, VideoRequest
from app.domain.sizes import multi_image_target, parse_size, ratio_for_size, tier_for_size
from config.upstream import ModelInfo, UpstreamConfig

DEFAULT_IMAGE_RATIO = "1:1"
DEFAULT_IMAGE_RESOLUTION = "2k"
DEFAULT_VIDEO_RATIO = "16:9"
VIDEO_SHORT_SIDES = {"720p": 720, "1080p": 1080}


@dataclass(frozen=True)
class Plan:
    spec: DraftSpec
    model_id: str
    expected: int | None


class Planner:
    def __init__(self, upstream: UpstreamConfig) -> None:
        self.upstream = upstream

    def cost(self, kind: str) -> int:
        return self.upstream.costs.video if kind == "video" else self.upstream.costs.image

    def kind_of(self, name: str | None) -> str:
        """ "image" or "video" for a public model id (None: the default image model); 400 when unknown."""
        if not name:
            return "image"
        model = self.upstream.model(name)
        if model is None:
            known = ", ".join(m.id for m in self.upstream.models)
            raise InvalidRequestError(
                f"Model {name!r} does not exist; models: {known}", code="model_not_found", param="model"
            )
        return model.type

    def model(self, name: str | None, kind: str) -> ModelInfo:
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

    def plan_images(self, request: ImageRequest) -> Plan:
        model = self.model(request.model, "image")
        if request.images and not model.blend:
            raise InvalidRequestError(f"Model {model.id} cannot compose images", code="model_not_found", param="model")
        ratio, resolution = self._image_ratio_and_tier(request)
        size = self.upstream.image_size(ratio, resolution)
        target = None if request.images else multi_image_target(model, request.prompt)
        spec = DraftSpec(
            kind="blend" if request.images else "image",
            model_key=model.key,
            prompt=request.prompt,
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
        return Plan(spec, model.id, target)

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
            ratio, resolution = mapped, resolution or tier_for_size(width, height)
        ratio = ratio or DEFAULT_IMAGE_RATIO
        resolution = (resolution or DEFAULT_IMAGE_RESOLUTION).lower()
        if ratio not in ratios:
            raise InvalidRequestError(f"ratio must be one of {', '.join(ratios)}; got {ratio!r}", param="ratio")
        if resolution not in self.upstream.image_tiers:
            tiers = ", ".join(self.upstream.image_tiers)
            raise InvalidRequestError(f"resolution must be one of {tiers}; got {resolution!r}", param="resolution")
        return ratio, resolution

    def plan_video(self, request: VideoRequest) -> Plan:
        model = self.model(request.model, "video")
        ratios = self.upstream.video_ratios
        ratio = request.ratio
        if request.size is not None:
            mapped = ratio_for_size(*request.size, ratios)
            if ratio and ratio != mapped:
                raise InvalidRequestError(
                    f"width x height maps to ratio {mapped}, which conflicts with ratio {ratio}", param="ratio"
                )
            ratio = mapped
        ratio = ratio or DEFAULT_VIDEO_RATIO
        if ratio not in ratios:
            raise InvalidRequestError(f"ratio must be one of {', '.join(ratios)}; got {ratio!r}", param="ratio")
        resolutions = self.upstream.video.resolutions
        if request.resolution not in resolutions:
            raise InvalidRequestError(
                f"resolution must be one of {', '.join(resolutions)}; got {request.resolution!r}", param="resolution"
            )
        if len(request.frames) > 2:
            raise InvalidRequestError("a video takes at most 2 images (first and last frame)", param="images")
        durations = self.upstream.video.durations
        if request.duration not in durations:
            raise InvalidRequestError(
                f"duration must be one of {', '.join(map(str, durations))} seconds", param="duration"
            )
        width, height = video_size(ratio, request.resolution)
        spec = DraftSpec(
            kind="video", model_key=model.key, prompt=request.prompt, width=width, height=height, ratio=ratio,
            resolution=request.resolution, duration_s=request.duration,
        )  # fmt: skip
        return Plan(spec, model.id, 1)


def video_size(ratio: str, resolution: str) -> tuple[int, int]:
    """Pixel size of a video: the resolution names the short side (720p 16:9 -> 1280x720)."""
    short = VIDEO_SHORT_SIDES.get(resolution, 720)
    w, _, h = ratio.partition(":")
    rw, rh = int(w), int(h)
    long_side = round(short * max(rw, rh) / min(rw, rh) / 2) * 2
    return (long_side, short) if rw >= rh else (short, long_side)
