"""The 2026 video models (notes 4.1, 4.2, 7.2): resolutions, durations, ratios, inputs, benefit types.

``get_common_config`` for video is built from these rows, and video drafts are checked against them.
Durations are whole seconds (the config's ``frames`` / 24, or ``duration_ms`` / 1000 for third-party models).
"""

from __future__ import annotations

import dataclasses
from typing import Any

RATIOS6 = ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
SHORT_SIDES = {"480p": 480, "720p": 720, "768p": 768, "1080p": 1080, "2k": 1440, "4k": 2160}
FPS = 24


def _seconds(first: int, last: int) -> tuple[int, ...]:
    return tuple(range(first, last + 1))


def _per_res(pattern: str, resolutions: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {res: (pattern.format(res=res),) for res in resolutions}


@dataclasses.dataclass(frozen=True)
class VideoModel:
    key: str
    name: str
    resolutions: tuple[str, ...]
    seconds: tuple[int, ...]
    inputs: tuple[str, ...]
    benefits: dict[str, str]  # resolution -> the config's benefit_type
    aliases: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)  # captured names (4.2)
    with_video: tuple[str, ...] = ()  # benefit names for jobs with an input video
    ratios: tuple[str, ...] = RATIOS6
    tip: str = ""
    duration_option: str = "frames"  # or "duration_ms" (third-party models)
    display: tuple[str, ...] = ()  # resolution spelling in the config, when not lower case
    materials: tuple[int, int, int] = (9, 3, 3)  # unified_edit limits: images, videos, audios
    draft_mode: bool = False
    has_audio: bool = True

    def benefit_types(self, resolution: str, input_video: bool) -> set[str]:
        """Every ``benefit_type`` the upstream takes for this resolution: config name and captured aliases."""
        names = {self.benefits[resolution], *self.aliases.get(resolution, ())}
        return names | set(self.with_video) if input_video else names


_S25 = ("480p", "720p", "1080p")
VIDEO_MODELS: dict[str, VideoModel] = {
    model.key: model
    for model in (
        VideoModel("dreamina_seedance_45_pro", "即梦 Seedance 2.5", _S25, _seconds(4, 30),
                   ("unified_edit", "prompt", "first_frame", "end_frame", "long_video", "edit"),
                   {res: f"seedance_25_{res}_output" for res in _S25},
                   _per_res("seedance_25_{res}_no_input_video_output", _S25),
                   tip="最强模型，支持 50个参考，新增视频编辑、超长生成", materials=(30, 10, 10)),
        VideoModel("dreamina_seedance_45_pro_draft", "即梦 Seedance 2.5 (样片模式)", ("480p",), _seconds(4, 15),
                   ("unified_edit", "prompt", "first_frame", "end_frame"),
                   {"480p": "seedance_25_draft_480p_output"},
                   {"480p": ("seedance_25_draft_480p_no_input_video_output",)}, draft_mode=True,
                   materials=(30, 10, 10)),
        VideoModel("dreamina_seedance_40_pro", "即梦 Seedance 2.0", ("720p",), _seconds(4, 15),
                   ("unified_edit", "prompt", "first_frame", "end_frame"), {"720p": "dreamina_video_seedance_20_pro"},
                   with_video=("dreamina_video_seedance_20_video_add", "dreamina_video_seedance_20_pro_with_video")),
        VideoModel("dreamina_seedance_40", "即梦 Seedance 2.0 Fast", ("720p",), _seconds(4, 15),
                   ("unified_edit", "prompt", "first_frame", "end_frame"), {"720p": "dreamina_seedance_20_fast"},
                   {"720p": ("seedance_20_fast_720p_output",)}, with_video=("dreamina_seedance_20_fast_with_video",)),
        VideoModel("dreamina_seedance_40_mini", "即梦 Seedance 2.0 mini", ("720p",), _seconds(4, 15),
                   ("unified_edit", "prompt", "first_frame", "end_frame"), {"720p": "seedance_20_mini_720p_output"},
                   {"720p": ("seedance_20_mini_720p_output_5s", "seedance_20_mini_720p_output_8s")}),
        VideoModel("dreamina_seedance_40_vision", "即梦 Seedance 2.0 Fast VIP", ("720p",), _seconds(4, 15),
                   ("unified_edit", "prompt", "first_frame", "end_frame"), {"720p": "seedance_20_fast_720p_output"},
                   {"720p": ("dreamina_seedance_20_fast_5s",)}),
        VideoModel("dreamina_seedance_40_pro_vision", "即梦 Seedance 2.0 VIP", ("720p", "1080p", "4k"),
                   _seconds(4, 15), ("unified_edit", "prompt", "first_frame", "end_frame"),
                   {res: f"seedance_20_pro_{res}_output" for res in ("720p", "1080p", "4k")}),
        VideoModel("dreamina_ic_generate_video_model_vgfm_3.5_pro", "即梦 Seedance 1.5 Pro", ("720p", "1080p"),
                   _seconds(5, 12), ("prompt", "first_frame", "end_frame"),
                   {"720p": "dreamina_video_seedance_15_pro", "1080p": "dreamina_video_seedance_15_pro_1080_add"},
                   {"1080p": ("dreamina_video_seedance_15_pro",)}),
        VideoModel("dreamina_ic_generate_video_model_vgfm_3.0_pro", "即梦 Seedance 1.0", ("1080p",), (5, 10),
                   ("prompt", "first_frame"), {"1080p": "basic_video_operation_vgfm_v_three_pro"}, has_audio=False),
        VideoModel("dreamina_ic_generate_video_model_vgfm_3.0_fast", "即梦 Seedance 1.0 Fast", ("720p", "1080p"),
                   (5, 10), ("prompt", "first_frame", "multi_frame"),
                   dict.fromkeys(("720p", "1080p"), "basic_video_operation_vgfm_v_three"), has_audio=False),
        VideoModel("dreamina_minimax_h3", "MiniMax H3", ("768p", "2k"), _seconds(4, 15),
                   ("unified_edit", "prompt", "first_frame", "end_frame"),
                   {res: f"minimax_h3_{res}_output" for res in ("768p", "2k")}, duration_option="duration_ms",
                   display=("768P", "2K"), materials=(12, 0, 0)),
        VideoModel("dreamina_happyhorse_v1_1", "HappyHorse 1.1", ("720p", "1080p"), _seconds(4, 15),
                   ("unified_edit", "prompt", "first_frame"),
                   {res: f"happyhorse_11_{res}_output" for res in ("720p", "1080p")},
                   ratios=(*RATIOS6, "4:5", "5:4", "9:21"), materials=(9, 0, 0)),
        VideoModel("dreamina_wan_30", "Wan 3.0", ("720p", "1080p"), _seconds(4, 15),
                   ("unified_edit", "prompt", "first_frame", "end_frame"),
                   {res: f"wan_30_{res}_output" for res in ("720p", "1080p")}, materials=(20, 0, 0)),
    )
}  # fmt: skip


def video_size(ratio: str, resolution: str) -> tuple[int, int]:
    """Nominal pixel size of a video: the short side by resolution, the long side by ratio (even)."""
    a, b = (int(part) for part in ratio.split(":"))
    short = SHORT_SIDES.get(resolution.lower(), 720)
    if a >= b:
        return short * a // b // 2 * 2, short
    return short, short * b // a // 2 * 2


def video_size_for_height(width: int, height: int, short: int) -> tuple[int, int]:
    """(width, height) scaled so that the short side is ``short`` pixels (even sides)."""
    if width >= height:
        return round(width * short / height) // 2 * 2, short
    return short, round(height * short / width) // 2 * 2


def _enum(key: str, kind: str, values: list[Any], default: Any, **extra: Any) -> dict[str, Any]:
    index = values.index(default) if default in values else 0
    return {"key": key, **extra, "enum_val": {kind: values, "default_val_idx": index}}


def config_entry(model: VideoModel) -> dict[str, Any]:
    """One ``model_list`` entry of ``video_generate/get_common_config`` (7.2)."""
    shown = list(model.display or model.resolutions)
    if model.duration_option == "frames":
        duration = _enum("frames", "int_value", [s * FPS for s in model.seconds], 5 * FPS)
    else:
        duration = _enum("duration_ms", "int_value", [s * 1000 for s in model.seconds], model.seconds[0] * 1000)
    options = [
        _enum("resolution", "string_value", shown, shown[min(1, len(shown) - 1)], forbidden_display=False),
        _enum("video_aspect_ratio", "string_value", list(model.ratios), "16:9"),
        duration,
        _enum("fps", "int_value", [FPS], FPS, forbidden_display=True),
        _enum("input_media_type", "string_value", list(model.inputs), model.inputs[0]),
    ]
    if "unified_edit" in model.inputs:
        limits = [{"material_type": kind, "limit": {"max_count": count}}
                  for kind, count in zip((1, 2, 3), model.materials, strict=True) if count]  # fmt: skip
        options.append({"key": "unified_edit", "unified_edit_config": {"supported_materials": limits}})
    prices = [{"resolution": res, "price": {"benefit_type": model.benefits[res]}} for res in model.resolutions]
    default_res = model.resolutions[min(1, len(model.resolutions) - 1)]
    return {
        "model_req_key": model.key,
        "model_name": model.name,
        "model_tip": model.tip,
        "model_status": 0,
        "options": options,
        "commercial_config": {"resolution_price_configs": prices,
                              "default": {"benefit_type": model.benefits[default_res]}},
        "extra": {"is_draft_mode": True} if model.draft_mode else {},
    }  # fmt: skip
