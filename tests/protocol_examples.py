"""Worked examples of the upstream protocol documents, checked on both sides: by the client's tests
(tests/unit) and by the emulator's (tests/emulator), each against its own code. One copy of each table."""

from __future__ import annotations

# 2026 notes 2.2, worked example: Device-Time 1790000000, Pf 7, Appvr 8.4.0, Tdid "": (path, Sign)
SIGN_WORKED_EXAMPLE = [
    ("/mweb/v1/aigc_draft/generate", "3f74a15553f9c99c1e6746750c692cb5"),
    ("/mweb/v1/get_history_by_ids", "39745b9c54f523df8f6f18cf13523473"),
    ("/mweb/v1/get_history_queue_info", "2cafce9afaee138803a0874e869c4fa5"),
    ("/mweb/v1/get_common_config", "5408202957c12e1f2121faf20accf1f3"),
    ("/mweb/v1/video_generate/get_common_config", "5408202957c12e1f2121faf20accf1f3"),
    ("/mweb/v1/get_local_item_list", "90fa3516dcc5a5e968e475e899ed9ba2"),
    ("/mweb/v1/get_upload_token", "1b38a3b0db5aa298c4f3e87bf9edb0bf"),
    ("/mweb/v1/update_settings", "f36d471f1e454a36f9dcc16d9d24531f"),
    ("/mweb/v1/get_image_by_uri", "ad8e2b1e4465059be1c2793246c0094c"),
    ("/commerce/v1/benefits/user_credit", "98278a2afe2e7cf73ef890ad57a8dbf6"),
    ("/commerce/v1/benefits/user_credit_history", "9cff22952cab68906f355b3c54b6f628"),
    ("/mweb/v1/get_history", "9cff22952cab68906f355b3c54b6f628"),
    ("/commerce/v1/benefits/credit_receive", "e4b1c418279d2ab8e6fd9392b596ccdd"),
    ("/passport/account/info/v2", "ac9d927ba001f51971ade880c3aded16"),
]

# 2026 3.2: (width, height) per tier, by image_ratio code 1-8 (1:1, 3:4, 16:9, 4:3, 9:16, 2:3, 3:2, 21:9);
# 1.5k beyond 1:1 is the notes' inference
# fmt: off
TIER_SIZES = {
    "1k": [(1024, 1024), (768, 1024), (1024, 576), (1024, 768), (576, 1024), (682, 1024), (1024, 682), (1195, 512)],
    "1.5k": [(1536, 1536), (1296, 1728), (1920, 1080), (1728, 1296), (1080, 1920), (1248, 1872), (1872, 1248),
             (2268, 972)],
    "2k": [(2048, 2048), (1728, 2304), (2560, 1440), (2304, 1728), (1440, 2560), (1664, 2496), (2496, 1664),
           (3024, 1296)],
    "4k": [(4096, 4096), (3520, 4693), (5404, 3040), (4693, 3520), (3040, 5404), (3328, 4992), (4992, 3328),
           (6197, 2656)],
}
# fmt: on
