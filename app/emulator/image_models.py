"""The 2026 image models (notes 3.1) and their size tables (3.2), as the emulator's own copy.

Kept independent of the client's tables on purpose: if they drift from the notes, the emulator refuses the
drafts instead of agreeing with the mistake. ``get_common_config`` (7.1) is built from these rows.
"""

from __future__ import annotations

import dataclasses

RATIOS = {1: "1:1", 2: "3:4", 3: "16:9", 4: "4:3", 5: "9:16", 6: "2:3", 7: "3:2", 8: "21:9"}
# tier -> image_ratio code -> (width, height); 1.5k beyond 1:1 is the notes' inference (2k x 0.75)
SIZES: dict[str, dict[int, tuple[int, int]]] = {
    "1k": {1: (1024, 1024), 2: (768, 1024), 3: (1024, 576), 4: (1024, 768), 5: (576, 1024), 6: (682, 1024),
           7: (1024, 682), 8: (1195, 512)},
    "1.5k": {1: (1536, 1536), 2: (1296, 1728), 3: (1920, 1080), 4: (1728, 1296), 5: (1080, 1920),
             6: (1248, 1872), 7: (1872, 1248), 8: (2268, 972)},
    "2k": {1: (2048, 2048), 2: (1728, 2304), 3: (2560, 1440), 4: (2304, 1728), 5: (1440, 2560), 6: (1664, 2496),
           7: (2496, 1664), 8: (3024, 1296)},
    "4k": {1: (4096, 4096), 2: (3520, 4693), 3: (5404, 3040), 4: (4693, 3520), 5: (3040, 5404), 6: (3328, 4992),
           7: (4992, 3328), 8: (6197, 2656)},
}  # fmt: skip
# iptag's 4k table (baseline 12.3): refused unless ``accept_iptag_4k`` (3.2 CONFLICT)
IPTAG_4K: dict[int, tuple[int, int]] = {101: (4096, 4096), 102: (3456, 4608), 103: (5120, 2880), 104: (4608, 3456),
                                        105: (2880, 5120), 106: (3328, 4992), 107: (4992, 3328), 108: (6048, 2592)}  # fmt: skip
TIER_NAMES = {"1k": "标清 1K", "1.5k": "标清 1.5K", "2k": "高清 2K", "4k": "超清 4K"}
ALL_CODES = tuple(RATIOS)
ONE_TO_EIGHT = tuple(range(1, 9))


@dataclasses.dataclass(frozen=True)
class ImageModel:
    key: str
    name: str
    tip: str
    tiers: tuple[str, ...]
    default_tier: str | None
    counts: tuple[int, ...]
    default_count: int
    benefit: str
    input_limit: int = 10
    codes: tuple[int, ...] = ALL_CODES
    feats: tuple[str, ...] = ("t2i", "byte_edit")
    is_new: bool = False

    def size(self, tier: str, code: int) -> tuple[int, int] | None:
        return SIZES[tier][code] if tier in self.tiers and code in self.codes else None


IMAGE_MODELS: dict[str, ImageModel] = {
    model.key: model
    for model in (
        ImageModel("high_aes_general_v50p_large", "图片 5.0 Pro", "商业设计、影视、高密度图文等场景效果全面提升",
                   ("1.5k", "2k", "4k"), "2k", (1, 2, 3, 4), 2, "image_basic_v50_pro_2k"),
        ImageModel("high_aes_general_v50", "图片 5.0 Lite", "更强的指令遵循与审美", ("2k", "4k"), None, ONE_TO_EIGHT,
                   4, "image_basic_v5_2k"),
        ImageModel("high_aes_general_v50_flash", "Seedream 5.0 Flash", "轻量化版 Seedream 5.0 Pro，更快更便宜",
                   ("1.5k", "2k"), "2k", (1, 2, 3, 4), 4, "image_basic_v50_flash_2k",
                   feats=("new_model", "t2i", "byte_edit"), is_new=True),
        ImageModel("high_aes_general_v43", "图片 4.7", "", ("2k", "4k"), None, ONE_TO_EIGHT, 4, "image_basic_v43_2k"),
        ImageModel("high_aes_general_v42", "图片 4.6", "", ("2k", "4k"), None, ONE_TO_EIGHT, 4, "image_basic_v46_2k"),
        ImageModel("high_aes_general_v40l", "图片 4.5", "", ("2k", "4k"), None, ONE_TO_EIGHT, 4,
                   "image_basic_v4_pro_2k"),
        ImageModel("high_aes_general_v41", "图片 4.1", "", ("2k", "4k"), None, ONE_TO_EIGHT, 4, "image_basic_v41_2k"),
        ImageModel("high_aes_general_v40", "图片 4.0", "", ("2k", "4k"), None, ONE_TO_EIGHT, 4,
                   "image_basic_generate_piece"),
        ImageModel("high_aes_general_v30l_art_fangzhou:general_v3.0_18b", "图片 3.1", "", ("1k", "2k"), None, (), 4,
                   "image_basic_generate_plus"),
        ImageModel("high_aes_general_v30l:general_v3.0_18b", "图片 3.0", "", ("1k", "2k"), None, (), 4,
                   "image_basic_generate_plus"),
        ImageModel("jm_image_model_yc_mj82", "图片美学模型 V8.2", "", ("1k", "2k"), "1k", (4,), 4,
                   "image_basic_mj82_1k", input_limit=20, codes=(1, 2, 3, 4, 5, 6, 7)),
    )
}  # fmt: skip


def size_problem(
    model: ImageModel, width: object, height: object, code: object, tier: object, *, iptag_4k: bool
) -> tuple[str, str] | None:
    """(ret, why) when a ``large_image_info`` / ``image_ratio`` pair is refused (checklist 13), else None.

    ``code`` None means ``image_ratio`` was omitted, which the caller allows only with ``intelligent_ratio``.
    """
    if not isinstance(tier, str) or tier not in model.tiers:
        return "1000", f"resolution_type {tier!r} is not a tier of {model.key} ({', '.join(model.tiers)})"
    if not (isinstance(width, int) and isinstance(height, int)) or isinstance(width, bool):
        return "1000", "large_image_info width and height must be integers"
    if code is not None and (not isinstance(code, int) or isinstance(code, bool)):
        return "1000", f"image_ratio must be a number, got {code!r}"
    if isinstance(code, int) and code in IPTAG_4K:
        if iptag_4k and tier == "4k" and IPTAG_4K[code] == (width, height):
            return None
        return "1000", f"image_ratio {code} is not a ratio_type (1-8); iptag's 4k table is not served"
    if code is None:
        rows = [SIZES[tier][c] for c in model.codes]
        return None if (width, height) in rows else ("1000", f"{width}x{height} is not a {tier} size of {model.key}")
    expected = model.size(tier, code)
    if expected is None:
        return "1000", f"image_ratio {code} is not offered by {model.key}"
    if expected != (width, height):
        return "1000", f"{width}x{height} is not the {tier} size of ratio_type {code} ({expected[0]}x{expected[1]})"
    return None
