"""The one validator: from a request to a ``Plan``, checking every limit and table before any upstream call.

Schemas and the chat parser only turn HTTP shapes into requests; whatever entry point a request came through
(generations, compositions, edits, videos, chat), its prompt, model, ratio, size, tier, resolution, duration,
image count, frames and numeric ranges are checked here, against the catalog of the request's account (static
or live, from a ``CatalogSource``), ``config/upstream.yml``'s limits and the settings. Each refusal names the
field the caller sent (``*_param`` of the request).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from app.domain import post_edit_rules as post_edit
from app.domain.catalog import Catalog, CatalogSource, ImageModel, Model, VideoModel
from app.domain.counts import split_count
from app.domain.errors import InvalidRequestError, ModelUnavailableError
from app.domain.models import (
    DraftKind,
    DraftSpec,
    GenerationKind,
    GenerationRequest,
    ImageRequest,
    PostEditRequest,
    PostEditTool,
    ResponseFormat,
    VideoRequest,
)
from app.domain.sizes import is_auto, parse_size, ratio_for_size, tier_for_size, video_size
from app.domain.sources import ImageSource, ImageUrl, ResultRef
from app.domain.text import forbidden_character, shown
from config.upstream import UpstreamConfig

MAX_SEED = 2**32 - 1  # the draft's seed is an unsigned 32-bit number
MAX_PARTIAL_IMAGES = 3  # OpenAI's range of partial_images (0-3)
MAX_NAME_CHARS = 64  # model, ratio, resolution, size: names and short values, looked up or parsed, never sent
MAX_URL_CHARS = 8192  # an input image's URL (fetched by this server); far above any real one
FRAMES = ("first_frame", "end_frame")  # what the 1st and 2nd video input image are
OUTPUT_FORMATS = ("png", "jpeg", "webp")  # output_format of b64_json images (re-encoded by the service)
_SIDE = re.compile(r"(\d+)p")


@dataclass(frozen=True, kw_only=True)
class Plan:
    """A request checked against every rule: the drafts to submit and what the answer needs.

    ``specs`` holds one draft per job, submitted on the same session; the results are concatenated in order.
    A video, a composition and any ``n`` up to one job's maximum are one job; a larger ``n`` is several
    (``job_counts``: 6 -> (4, 2)).
    """

    kind: GenerationKind
    model_id: str
    prompt: str
    specs: tuple[DraftSpec, ...]
    sources: tuple[ImageSource, ...] = ()
    sources_param: str = "images"
    n: int | None = None
    response_format: ResponseFormat = ResponseFormat.URL
    output_format: str | None = None  # b64_json images re-encoded as png, jpeg or webp; None: as made
    output_compression: int | None = None

    @property
    def size(self) -> str | None:
        """Images: the drafts' pixel size, ``"2048x2048"`` (None for a post edit: the record tells it)."""
        image = self.kind is GenerationKind.IMAGE and self.spec.width > 0
        return f"{self.spec.width}x{self.spec.height}" if image else None

    @property
    def tier(self) -> str:
        """What a job's duration depends on besides its model and count: images the tier (``2k``), videos the
        resolution and length (``720p 5s``)."""
        if self.kind is GenerationKind.VIDEO:
            return f"{self.spec.resolution} {self.spec.duration_s}s"
        return self.spec.resolution

    @property
    def job_counts(self) -> tuple[int, ...]:
        """Images each job makes (a video job: 1)."""
        return tuple(spec.count for spec in self.specs)

    @property
    def spec(self) -> DraftSpec:
        """The first job's draft: the whole request when it is one job."""
        return self.specs[0]


class Planner:
    """Holds the ``CatalogSource``, so live tables replace the static ones without a change here."""

    def __init__(
        self,
        catalogs: CatalogSource,
        upstream: UpstreamConfig,
        *,
        max_prompt_chars: int,
        max_messages_chars: int,
        default_image_count: int,
    ) -> None:
        self.catalogs = catalogs
        self.upstream = upstream
        self.max_prompt_chars = max_prompt_chars  # the prompt and the negative prompt, each
        self.max_messages_chars = max_messages_chars  # chat: the text of every message together
        self.default_image_count = default_image_count  # DEFAULT_IMAGE_COUNT; 0: each model's own default

    def cost(self, kind: GenerationKind) -> int:
        return self.upstream.costs.of(kind)

    def kind_of(self, name: str | None, *, catalog: Catalog | None = None) -> GenerationKind:
        """The kind of a public model id (None: the default image model); 400 when unknown or retired."""
        if not name:
            return GenerationKind.IMAGE
        return _find(catalog or self.catalogs.cached(), name, None).kind

    def plan(self, request: GenerationRequest, *, catalog: Catalog | None = None) -> Plan:
        """Check ``request`` against ``catalog`` (by default: what is known now, without asking Jimeng)."""
        catalog = catalog or self.catalogs.cached()
        if isinstance(request, PostEditRequest):
            return self._plan_post_edit(request, catalog)
        self._check_texts(request)
        if isinstance(request, VideoRequest):
            return self._plan_video(request, catalog)
        return self._plan_images(request, catalog)

    # -- images -----------------------------------------------------------------------------------------

    def _plan_images(self, request: ImageRequest, catalog: Catalog) -> Plan:
        prompt = self._prompt(request.prompt, request.prompt_param)
        self._check_messages(request)
        negative_prompt = self._text(request.negative_prompt, "negative_prompt", self.max_prompt_chars)
        model = _image_model(catalog, request.model)
        if request.images and not model.blend:
            raise InvalidRequestError(f"Model {model.id} cannot compose images", code="model_not_found", param="model")
        _check_count(request.images, model.max_input_images, request.images_param, "images")
        _check_range("seed", request.seed, 0, MAX_SEED)
        _check_range("sample_strength", request.sample_strength, 0, 1)
        _check_streaming(request)
        output_format = _output_format(request.output_format)
        _check_range("output_compression", request.output_compression, 0, 100)
        ratio, tier = self._image_ratio_and_tier(request, model)
        size = model.tiers[tier][ratio]
        counts = self._job_counts(request.n, model)
        first = DraftSpec(
            kind=DraftKind.BLEND if request.images else DraftKind.GENERATE, model_key=model.key, prompt=prompt,
            width=size.width, height=size.height, ratio=ratio, resolution=tier, ratio_code=size.code, count=counts[0],
            gen_option=bool(model.count_options), negative_prompt=negative_prompt,
            sample_strength=request.sample_strength, seed=request.seed,
        )  # fmt: skip
        specs = tuple(
            replace(first, count=count, seed=_job_seed(request.seed, job)) for job, count in enumerate(counts)
        )
        return Plan(
            kind=GenerationKind.IMAGE, model_id=model.id, prompt=prompt, specs=specs, sources=request.images,
            sources_param=request.images_param, n=request.n,
            response_format=ResponseFormat.URL if request.stream else request.response_format,  # streams download
            output_format=output_format, output_compression=request.output_compression,
        )  # fmt: skip

    def _image_ratio_and_tier(self, request: ImageRequest, model: ImageModel) -> tuple[str, str]:
        """The caller's ratio and tier, or the ones an OpenAI ``size`` maps to among the model's, or defaults
        (``size="auto"``, OpenAI's default, is no size)."""
        tier = request.resolution.lower() if request.resolution else None
        if tier is not None and tier not in model.tiers:
            raise InvalidRequestError(
                f"resolution {shown(tier)} is not offered by {model.id}; it offers {', '.join(model.tiers)}",
                param="resolution",
            )
        ratio = request.ratio
        if request.size and not is_auto(request.size):  # "auto": as if no size was sent
            try:
                width, height = parse_size(request.size)
            except ValueError as err:
                raise InvalidRequestError(f"{request.size_param}: {err}", param=request.size_param) from err
            tables = [model.tiers[tier]] if tier else list(model.tiers.values())
            mapped = ratio_for_size(width, height, list(dict.fromkeys(r for table in tables for r in table)))
            if ratio and ratio != mapped:
                raise InvalidRequestError(
                    f"size {request.size} maps to ratio {mapped}, which conflicts with ratio {ratio}; send one of them",
                    param=request.size_param,
                )
            ratio = mapped
            if tier is None:
                sides = {t: max(table[mapped].width, table[mapped].height) for t, table in model.tiers.items()
                         if mapped in table}  # fmt: skip
                tier = tier_for_size(width, height, sides)
        tier = tier or model.default_tier
        offered = tuple(model.tiers[tier])
        if ratio is None:
            ratio = self.upstream.defaults.image_ratio if self.upstream.defaults.image_ratio in offered else offered[0]
        if ratio not in offered:
            raise InvalidRequestError(
                f"ratio {shown(ratio)} is not offered by {model.id} at {tier}; it offers {', '.join(offered)}",
                param=request.ratio_param,
            )
        return ratio, tier

    def _job_counts(self, n: int | None, model: ImageModel) -> tuple[int, ...]:
        """Images per job: ``n`` (or the default count) split into jobs the model can make."""
        _check_range("n", n, 1, self.upstream.limits.max_n)
        if not model.count_options:
            if n is not None and n != model.default_count:
                raise InvalidRequestError(
                    f"n: {model.id} makes a fixed batch of {model.default_count} images; "
                    f"send n={model.default_count} or leave n out",
                    param="n",
                )
            return (model.default_count,)
        per_job = self.upstream.limits.max_job_count
        if n is None:
            preferred = split_count(self.default_image_count, model.count_options, per_job)
            return preferred or split_count(model.default_count, model.count_options, per_job) or (model.default_count,)
        counts = split_count(n, model.count_options, per_job)
        if counts is None:
            options = ", ".join(str(c) for c in model.count_options if c <= per_job)
            raise InvalidRequestError(
                f"n={n}: {model.id} makes {options} images per job and n cannot be split into such jobs", param="n"
            )
        return counts

    # -- post edits (upscale, outpaint) -----------------------------------------------------------------

    def _plan_post_edit(self, request: PostEditRequest, catalog: Catalog) -> Plan:
        """One image upscaled (超清, 智能超清, 细节修复) or extended (扩图); the draft's root model is the caller's
        ``model`` or the default image model. An outpaint's padding for a target ratio needs the source's size:
        known once the service has the image (``source_size``); until then only the ratio is checked."""
        for param, value in (("model", request.model), ("ratio", request.ratio), ("resolution", request.resolution)):
            if value is not None and len(value) > MAX_NAME_CHARS:
                raise InvalidRequestError(f"{param}: {shown(value)} is too long", param=param)
        tool = post_edit.tool_of(request)
        post_edit.check_source(request, tool)
        if isinstance(request.image, ImageUrl):
            self._text(request.image.url, request.image_param, MAX_URL_CHARS, what="the URL")
        model = _image_model(catalog, request.model)
        tier = post_edit.pro_hd_tier(request, tool)
        count = post_edit.count_of(request, tool)
        post_edit.check_outpaint_inputs(request, tool)
        _check_streaming_flags(request.stream, request.run_async)
        output_format = _output_format(request.output_format)
        _check_range("output_compression", request.output_compression, 0, 100)
        padding, ratio, code = request.padding, request.ratio or "", 1
        ratios = model.tiers[model.default_tier]
        if request.ratio is not None and request.ratio not in ratios:
            raise InvalidRequestError(f"ratio {shown(request.ratio)} is not one of {', '.join(ratios)}", param="ratio")
        if tool is PostEditTool.PAINTING and request.source_size is not None:
            width, height = request.source_size
            if padding is None:
                padding = post_edit.padding_for_ratio(width, height, ratio)
            post_edit.check_outpaint_size(width, height, padding, param="padding" if request.padding else "ratio")
            ratio = ratio or ratio_for_size(*post_edit.outpaint_size(width, height, padding), list(ratios))
        if ratio:
            code = ratios[ratio].code
        ref = request.image if isinstance(request.image, ResultRef) else None
        spec = DraftSpec(
            kind=DraftKind.POST_EDIT, model_key=model.key, prompt="", width=0, height=0, ratio=ratio, resolution=tier,
            ratio_code=code, count=count, tool=tool.value, padding=padding,
            origin_history_id=ref.history_id if ref else "", origin_item_id=ref.item_id if ref else "",
        )  # fmt: skip
        sources: tuple[ImageSource, ...] = ()
        if request.image is not None and not isinstance(request.image, ResultRef):
            sources = (request.image,)
        return Plan(
            kind=GenerationKind.IMAGE, model_id=model.id, prompt="", specs=(spec,), sources=sources,
            sources_param=request.image_param, n=count,
            response_format=ResponseFormat.URL if request.stream else request.response_format,
            output_format=output_format, output_compression=request.output_compression,
        )  # fmt: skip

    # -- videos -----------------------------------------------------------------------------------------

    def _plan_video(self, request: VideoRequest, catalog: Catalog) -> Plan:
        prompt = self._prompt(request.prompt, request.prompt_param)
        self._check_messages(request)
        model = _video_model(catalog, request.model)
        limit = self.upstream.limits.max_video_frames
        _check_count(request.frames, limit, request.frames_param, "images (first and last frame)")
        _check_frames(model, len(request.frames), request.frames_param)
        ratio = request.ratio
        if request.size is not None:
            mapped = ratio_for_size(*request.size, model.ratios)
            if ratio and ratio != mapped:
                raise InvalidRequestError(
                    f"width x height maps to ratio {mapped}, which conflicts with ratio {ratio}",
                    param=request.ratio_param,
                )
            ratio = mapped
        ratio = ratio or model.default_ratio
        _check_choice("ratio", ratio, model.ratios, model.id, as_param=request.ratio_param)
        resolution = request.resolution.lower() if request.resolution else model.default_resolution
        _check_choice("resolution", resolution, model.resolutions, model.id)
        duration = request.duration if request.duration is not None else model.default_duration
        if duration not in model.durations:
            raise InvalidRequestError(
                f"duration must be {_seconds(model.durations)} seconds for {model.id}; got {_number(duration)}",
                param="duration",
            )
        width, height = video_size(ratio, self._short_side(resolution))
        spec = DraftSpec(
            kind=DraftKind.VIDEO, model_key=model.key, prompt=prompt, width=width, height=height, ratio=ratio,
            resolution=resolution, duration_s=duration, benefit_type=model.benefits.get(resolution, ""),
            benefit_fallback=model.benefit_fallbacks.get(resolution, ""), draft_mode=model.draft_mode,
        )  # fmt: skip
        return Plan(
            kind=GenerationKind.VIDEO, model_id=model.id, prompt=prompt, specs=(spec,), sources=request.frames,
            sources_param=request.frames_param, response_format=request.response_format,
        )  # fmt: skip

    def _short_side(self, resolution: str) -> int:
        """The short side of a resolution: the table's, else the number of "540p"; 0 (unknown) otherwise."""
        side = self.upstream.video.resolution_sides.get(resolution)
        match = _SIDE.fullmatch(resolution)
        return side if side is not None else int(match[1]) if match else 0

    def _check_messages(self, request: ImageRequest | VideoRequest) -> None:
        """A chat's messages as a whole (after its prompt, so an overlong prompt is named by its message)."""
        if request.messages_chars > self.max_messages_chars:
            raise InvalidRequestError(
                f"messages: their text is {request.messages_chars} characters long; "
                f"the limit is {self.max_messages_chars}",
                param="messages",
            )

    def _prompt(self, prompt: str, param: str) -> str:
        text = prompt.strip()
        if not text:
            raise InvalidRequestError(f"{param}: the prompt must not be empty", param=param)
        return self._text(text, param, self.max_prompt_chars, what="the prompt")

    def _text(self, text: str, param: str, limit: int, *, what: str = "the text") -> str:
        """Text forwarded to Jimeng: at most ``limit`` characters, no control characters or lone surrogates."""
        if len(text) > limit:
            raise InvalidRequestError(
                f"{param}: {what} is {len(text)} characters long; the limit is {limit}", param=param
            )
        if reason := forbidden_character(text):
            raise InvalidRequestError(f"{param}: {what} contains {reason}", param=param)
        return text

    def _check_texts(self, request: ImageRequest | VideoRequest) -> None:
        """Lengths first, before anything reads the text: the names and short values, the input images' URLs."""
        names = [("model", request.model), (request.ratio_param, request.ratio), ("resolution", request.resolution)]
        if isinstance(request, ImageRequest):
            names.append((request.size_param, request.size))
        for param, value in names:
            if value is not None and len(value) > MAX_NAME_CHARS:
                raise InvalidRequestError(
                    f"{param}: {shown(value)} is {len(value)} characters long; the limit is {MAX_NAME_CHARS}",
                    param=param,
                )
        sources, param = (
            (request.frames, request.frames_param)
            if isinstance(request, VideoRequest)
            else (request.images, request.images_param)
        )
        for index, source in enumerate(sources):
            if isinstance(source, ImageUrl):
                self._text(source.url, f"{param}[{index}]", MAX_URL_CHARS, what="the URL")


# -- models -----------------------------------------------------------------------------------------------


def _find(catalog: Catalog, name: str, kind: GenerationKind | None) -> Model:
    """The model by public id or alias; 400 ``model_unavailable`` (retired) or ``model_not_found``."""
    retired = catalog.retired_model(name)
    if retired is not None:
        raise ModelUnavailableError(
            f"Model {shown(name)} is no longer offered by Jimeng; use {retired.replacement}", param="model"
        )
    model = catalog.find(name)
    if model is not None and (kind is None or model.kind is kind):
        return model
    models: tuple[Model, ...] = catalog.models_of(kind) if kind else (*catalog.images, *catalog.videos)
    known = ", ".join(m.id for m in models)
    missing = f"is not offered in region {catalog.region}" if catalog.region else "does not exist"
    what = f"is a {model.kind} model" if model else missing
    kinds = f"{kind} models" if kind else "models"
    raise InvalidRequestError(f"Model {shown(name)} {what}; {kinds}: {known}", code="model_not_found", param="model")


def _image_model(catalog: Catalog, name: str | None) -> ImageModel:
    model = _find(catalog, name, GenerationKind.IMAGE) if name else catalog.default(GenerationKind.IMAGE)
    assert isinstance(model, ImageModel)
    return model


def _video_model(catalog: Catalog, name: str | None) -> VideoModel:
    model = _find(catalog, name, GenerationKind.VIDEO) if name else catalog.default(GenerationKind.VIDEO)
    assert isinstance(model, VideoModel)
    return model


# -- checks -----------------------------------------------------------------------------------------------


def _check_count(sources: tuple[ImageSource, ...], limit: int, param: str, what: str) -> None:
    if len(sources) > limit:
        raise InvalidRequestError(
            f"{param}: takes at most {limit} {what}, got {len(sources)}", code="too_many_images", param=param
        )


def _check_frames(model: VideoModel, count: int, param: str) -> None:
    """The first image is the first frame, the second the end frame; each must be one the model takes."""
    missing = [frame for frame in FRAMES[:count] if frame not in model.frames]
    if missing:
        takes = " and ".join(f.replace("_", " ") for f in model.frames) or "no input images"
        raise InvalidRequestError(
            f"{param}: {model.id} takes {takes}; got {count} image(s) ({missing[0].replace('_', ' ')} unsupported)",
            param=param,
        )


def _check_streaming(request: ImageRequest) -> None:
    """OpenAI's streaming parameters: ``partial_images`` in OpenAI's range (accepted with or without a stream:
    Jimeng makes no previews, so none are sent), and a stream is not also an ``async`` task."""
    _check_range("partial_images", request.partial_images, 0, MAX_PARTIAL_IMAGES)
    _check_streaming_flags(request.stream, request.run_async)


def _check_streaming_flags(stream: bool, run_async: bool) -> None:
    if stream and run_async:
        raise InvalidRequestError(
            "stream and async cannot be combined: a stream sends each image as it is ready, async answers 202 at "
            "once with the task",
            param="stream",
        )


def _output_format(value: str | None) -> str | None:
    """png, jpeg (also jpg) or webp, any case; None when not sent."""
    if value is None:
        return None
    name = value.strip().lower()
    name = "jpeg" if name == "jpg" else name
    if name not in OUTPUT_FORMATS:
        raise InvalidRequestError(
            f"output_format must be one of {', '.join(OUTPUT_FORMATS)}; got {shown(value)}", param="output_format"
        )
    return name


def _check_range(param: str, value: float | None, low: float, high: float) -> None:
    if value is not None and not low <= value <= high:
        raise InvalidRequestError(f"{param} must be from {low:g} to {high:g}; got {_number(value)}", param=param)


def _number(value: float) -> str:
    """A caller's number for an error: an int from JSON may have thousands of digits; only a short one is quoted."""
    text = repr(value)
    return text if len(text) <= 24 else f"a number of {len(text)} digits"


def _check_choice(param: str, value: str, choices: tuple[str, ...], model_id: str, *, as_param: str = "") -> None:
    if value not in choices:
        raise InvalidRequestError(
            f"{param} {shown(value)} is not offered by {model_id}; it offers {', '.join(choices)}",
            param=as_param or param,
        )


def _seconds(durations: tuple[int, ...]) -> str:
    """``4 to 15`` for a run of whole seconds, else ``5 or 10``."""
    low, high = min(durations), max(durations)
    if len(durations) > 2 and tuple(range(low, high + 1)) == tuple(sorted(durations)):
        return f"from {low} to {high}"
    return ", ".join(map(str, durations[:-1])) + f" or {durations[-1]}" if len(durations) > 1 else str(low)


def _job_seed(seed: int | None, job: int) -> int | None:
    """The caller's seed for the first job, the next seeds for the others (so they do not repeat it)."""
    return None if seed is None else (seed + job) % (MAX_SEED + 1)
