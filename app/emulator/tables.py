"""The baseline protocol tables (baseline notes, section 12), read by the lenient (non-strict) parser only.

The 2026 tables are ``image_models`` and ``video_models``. Kept independent of ``config/upstream.yml`` on
purpose: if the client's tables drift from the notes, the emulator refuses the drafts.
"""

from __future__ import annotations

IMAGE_MODELS = frozenset(
    {
        "high_aes_general_v40",
        "high_aes_general_v30l_art_fangzhou:general_v3.0_18b",
        "high_aes_general_v30l:general_v3.0_18b",
        "high_aes_general_v21_L:general_v2.1_L",
        "high_aes_general_v20_L:general_v2.0_L",
        "high_aes_general_v20:general_v2.0",
        "high_aes_general_v14:general_v1.4",
        "text2img_xl_sft",
    }
)
MULTI_IMAGE_MODEL = "high_aes_general_v40"

VIDEO_MODELS = frozenset(
    {
        "dreamina_ic_generate_video_model_vgfm_3.0",
        "dreamina_ic_generate_video_model_vgfm_3.0_pro",
        "dreamina_ic_generate_video_model_vgfm_lite",
        "dreamina_ic_generate_video_model_vgfm1.0",
    }
)

VIDEO_RATIOS = ("1:1", "4:3", "3:4", "16:9", "9:16", "21:9")
VIDEO_DURATIONS_MS = frozenset({5000, 10000})
VIDEO_RESOLUTIONS = frozenset({"720p", "1080p"})
RESOLUTION_TYPES = frozenset({"1k", "2k", "4k"})

# tier -> ratio -> (width, height, image_ratio code), section 12.3
TIERS: dict[str, dict[str, tuple[int, int, int]]] = {
    "1k": {
        "1:1": (1024, 1024, 1),
        "4:3": (768, 1024, 4),
        "3:4": (1024, 768, 2),
        "16:9": (1024, 576, 3),
        "9:16": (576, 1024, 5),
        "3:2": (1024, 682, 7),
        "2:3": (682, 1024, 6),
        "21:9": (1195, 512, 8),
    },
    "2k": {
        "1:1": (2048, 2048, 1),
        "4:3": (2304, 1728, 4),
        "3:4": (1728, 2304, 2),
        "16:9": (2560, 1440, 3),
        "9:16": (1440, 2560, 5),
        "3:2": (2496, 1664, 7),
        "2:3": (1664, 2496, 6),
        "21:9": (3024, 1296, 8),
    },
    "4k": {
        "1:1": (4096, 4096, 101),
        "4:3": (4608, 3456, 104),
        "3:4": (3456, 4608, 102),
        "16:9": (5120, 2880, 103),
        "9:16": (2880, 5120, 105),
        "3:2": (4992, 3328, 107),
        "2:3": (3328, 4992, 106),
        "21:9": (6048, 2592, 108),
    },
}

# The reference's 1k 4:3 / 3:4 rows look swapped (12.3, 15.26): accept the consistent orientation too.
_SWAPPED_1K = ((1024, 768, 4), (768, 1024, 2))


def _size_rules() -> dict[tuple[int, int], tuple[frozenset[int], frozenset[str]]]:
    """(width, height) -> (accepted image_ratio codes, accepted resolution_type values)."""
    rows = [(tier, w, h, code) for tier, table in TIERS.items() for w, h, code in table.values()]
    rows += [("1k", w, h, code) for w, h, code in _SWAPPED_1K]
    rules: dict[tuple[int, int], tuple[set[int], set[str]]] = {}
    for tier, w, h, code in rows:
        codes, types = rules.setdefault((w, h), (set(), set()))
        codes.update({code, code % 100})  # 4k may carry the 2k code (baseline rule)
        types.update({tier, "2k" if max(w, h) >= 2048 else "1k"})  # tier name or the baseline rule
    return {pair: (frozenset(codes), frozenset(types)) for pair, (codes, types) in rules.items()}


SIZE_RULES = _size_rules()


def size_problem(width: object, height: object, code: object, resolution_type: object) -> str | None:
    """Why a ``large_image_info`` / ``image_ratio`` combination is refused, or None if it is valid.

    ``code`` None means ``image_ratio`` was omitted (allowed with ``intelligent_ratio``).
    """
    if resolution_type not in RESOLUTION_TYPES:
        return f"resolution_type must be one of 1k, 2k, 4k, got {resolution_type!r}"
    if not (isinstance(width, int) and isinstance(height, int)) or isinstance(width, bool):
        return "large_image_info width and height must be integers"
    rule = SIZE_RULES.get((width, height))
    if rule is None:
        return f"unsupported size {width}x{height} (not in the 1k/2k/4k tables)"
    codes, types = rule
    if code is not None and (not isinstance(code, int) or isinstance(code, bool) or code not in codes):
        return f"image_ratio {code!r} does not match size {width}x{height} (expected one of {sorted(codes)})"
    if resolution_type not in types:
        return f"resolution_type {resolution_type!r} does not match size {width}x{height}"
    return None
