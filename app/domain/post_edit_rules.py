"""The rules of the post-edit tools (超清, 智能超清, 细节修复, 扩图), read by the planner: which tool a request
names, which inputs it takes, and the geometry of an outpaint. Pure functions; every refusal is a 400 naming
the field the caller sent.
"""

from __future__ import annotations

import math

from app.domain.errors import InvalidRequestError
from app.domain.models import Padding, PostEditRequest, PostEditTool
from app.domain.sources import ResultRef
from app.domain.text import shown

UPSCALE_TOOLS = (PostEditTool.NORMAL_HD, PostEditTool.PRO_HD, PostEditTool.SUPER_RESOLUTION)
DEFAULT_UPSCALE = PostEditTool.NORMAL_HD
PRO_HD_TIERS = ("1k", "2k", "4k")  # 智能超清's resolution_type
DEFAULT_PRO_HD_TIER = "2k"
MAX_PADDING = 3.0  # a side grows by at most three times the source's width or height
MAX_OUTPAINT_SIDE = 12960  # the web app's up_scale.max_size: the longest side of an outpaint's result
MAX_OUTPAINT_COUNT = 4
MAX_HISTORY_ID_CHARS = 32  # Jimeng's history ids are 14 digits (2026 5.1); far above any real one
MAX_INDEX = 99
SIDES = ("top", "bottom", "left", "right")


def tool_of(request: PostEditRequest) -> PostEditTool:
    """The tool a request names (``mode`` of an upscale; an outpaint's is always ``painting``)."""
    name = request.tool if request.tool is not None else DEFAULT_UPSCALE.value
    names = [t.value for t in UPSCALE_TOOLS]
    if name == PostEditTool.PAINTING.value:
        return PostEditTool.PAINTING
    if name not in names:
        raise InvalidRequestError(
            f"{request.tool_param} must be one of {', '.join(names)}; got {shown(name)}", param=request.tool_param
        )
    return PostEditTool(name)


def check_source(request: PostEditRequest, tool: PostEditTool) -> None:
    """One input image is required; an earlier result is named by a digit history id and a small index;
    细节修复 runs only on an earlier result (the one form of it the protocol documents)."""
    param = request.image_param
    if request.image is None:
        raise InvalidRequestError(
            f"{param} is required: a URL, a data URI, a file, or {{history_id, index}} of an earlier result",
            code="missing_field",
            param=param,
        )
    ref = request.image
    if isinstance(ref, ResultRef):
        digits = ref.history_id.isascii() and ref.history_id.isdigit()
        if not digits or len(ref.history_id) > MAX_HISTORY_ID_CHARS:
            raise InvalidRequestError(
                f"{param}.history_id must be the digits of a Jimeng history id; got {shown(ref.history_id)}",
                param=f"{param}.history_id",
            )
        if not 0 <= ref.index <= MAX_INDEX:
            raise InvalidRequestError(
                f"{param}.index must be from 0 to {MAX_INDEX}; got {ref.index}", param=f"{param}.index"
            )
    elif tool is PostEditTool.SUPER_RESOLUTION:
        raise InvalidRequestError(
            f"{request.tool_param} super_resolution works on an earlier result only: send "
            f'{param}: {{"history_id": "...", "index": 0}}',
            param=param,
        )


def pro_hd_tier(request: PostEditRequest, tool: PostEditTool) -> str:
    """智能超清's tier (default 2k); the other tools take none."""
    if request.resolution is None:
        return DEFAULT_PRO_HD_TIER if tool is PostEditTool.PRO_HD else ""
    if tool is not PostEditTool.PRO_HD:
        raise InvalidRequestError(
            f"resolution applies to {request.tool_param} pro_hd only", code="unsupported_parameter", param="resolution"
        )
    tier = request.resolution.lower()
    if tier not in PRO_HD_TIERS:
        raise InvalidRequestError(
            f"resolution must be one of {', '.join(PRO_HD_TIERS)}; got {shown(request.resolution)}",
            param="resolution",
        )
    return tier


def count_of(request: PostEditRequest, tool: PostEditTool) -> int:
    """Images to make: an upscale makes one; an outpaint 1 to 4 (default 1; Jimeng's own default is 4)."""
    if tool is not PostEditTool.PAINTING:
        if request.n not in (None, 1):
            raise InvalidRequestError(f"n: an upscale makes one image; got {request.n}", param="n")
        return 1
    n = 1 if request.n is None else request.n
    if not 1 <= n <= MAX_OUTPAINT_COUNT:
        raise InvalidRequestError(f"n must be from 1 to {MAX_OUTPAINT_COUNT}; got {n}", param="n")
    return n


def check_padding(padding: Padding) -> Padding:
    """Each side from 0 to ``MAX_PADDING`` and at least one side above 0."""
    for side in SIDES:
        value = getattr(padding, side)
        if not (math.isfinite(value) and 0 <= value <= MAX_PADDING):
            raise InvalidRequestError(
                f"padding.{side} must be from 0 to {MAX_PADDING:g}; got {value!r}", param=f"padding.{side}"
            )
    if not any(getattr(padding, side) > 0 for side in SIDES):
        raise InvalidRequestError("padding must extend at least one side", param="padding")
    return padding


def check_outpaint_inputs(request: PostEditRequest, tool: PostEditTool) -> None:
    """An outpaint takes a target ``ratio`` or a ``padding``, not both; the others take neither."""
    if tool is not PostEditTool.PAINTING:
        for name, value in (("ratio", request.ratio), ("padding", request.padding)):
            if value is not None:
                raise InvalidRequestError(
                    f"{name} applies to /v1/images/outpaint only", code="unsupported_parameter", param=name
                )
        return
    if (request.ratio is None) == (request.padding is None):
        raise InvalidRequestError(
            "send either ratio (the result's aspect ratio, e.g. 16:9) or padding (how far each side grows)",
            code="missing_field" if request.ratio is None else "invalid_value",
            param="ratio",
        )
    if request.padding is not None:
        check_padding(request.padding)


def ratio_numbers(ratio: str) -> tuple[int, int]:
    """``"16:9"`` -> (16, 9); ValueError for anything else."""
    left, sep, right = ratio.partition(":")
    if not sep or not left.isdigit() or not right.isdigit() or len(ratio) > 16 or not int(left) or not int(right):
        raise ValueError(f"not a ratio: {ratio!r}")
    return int(left), int(right)


def padding_for_ratio(width: int, height: int, ratio: str, *, param: str = "ratio") -> Padding:
    """The padding that turns a ``width`` x ``height`` image into ``ratio``, growing one axis only, evenly on
    both of its sides; 400 when the image already has that ratio (nothing to extend)."""
    rw, rh = ratio_numbers(ratio)
    target, source = rw / rh, width / height
    if math.isclose(target, source, rel_tol=0.01):
        raise InvalidRequestError(
            f"the image ({width}x{height}) already has ratio {ratio}: send padding to extend it on every side",
            param=param,
        )
    wider = target > source  # grow left and right, else top and bottom
    share = round((height * target - width) / width / 2 if wider else (width / target - height) / height / 2, 4)
    if share > MAX_PADDING:
        raise InvalidRequestError(
            f"ratio {ratio} is too far from the image's ({width}x{height}): a side would grow by more than "
            f"{MAX_PADDING:g} times the image",
            param=param,
        )
    if wider:
        return Padding(top=0.0, bottom=0.0, left=share, right=share)
    return Padding(top=share, bottom=share, left=0.0, right=0.0)


def outpaint_size(width: int, height: int, padding: Padding) -> tuple[int, int]:
    """The result's pixel size: the source plus each side's share of it."""
    return (
        round(width * (1 + padding.left + padding.right)),
        round(height * (1 + padding.top + padding.bottom)),
    )


def check_outpaint_size(width: int, height: int, padding: Padding, *, param: str) -> None:
    result = outpaint_size(width, height, padding)
    if max(result) > MAX_OUTPAINT_SIDE:
        raise InvalidRequestError(
            f"the outpainted image would be {result[0]}x{result[1]}; Jimeng makes at most {MAX_OUTPAINT_SIDE} "
            "pixels on a side: extend it less",
            param=param,
        )
