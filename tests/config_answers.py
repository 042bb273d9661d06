"""Jimeng's two model-table answers as the 2026 protocol notes print them (§7.1 images, §7.2 video): fixtures."""

from __future__ import annotations

import json

# §7.1, the trimmed example answer of the protocol document, as printed there
IMAGE_ANSWER = json.loads("""
{
  "ret": "0",
  "errmsg": "success",
  "data": {
    "default_model_index": 0,
    "model_list": [
      {
        "model_req_key": "high_aes_general_v50p_large",
        "model_name": "图片 5.0 Pro",
        "model_tip": "商业设计、影视、高密度图文等场景效果全面提升",
        "feats": ["t2i", "byte_edit"],
        "generate_count_options": [1, 2, 3, 4],
        "default_generate_count": 2,
        "default_resolution_type": "2k",
        "resolution_map": {
          "1.5k": {"resolution_name": "标清 1.5K", "image_ratio_sizes": [{"ratio_type": 1, "width": 1536, "height": 1536}]},
          "2k": {"resolution_name": "高清 2K", "image_ratio_sizes": [
            {"ratio_type": 1, "width": 2048, "height": 2048},
            {"ratio_type": 3, "width": 2560, "height": 1440}]},
          "4k": {"resolution_name": "超清 4K", "image_ratio_sizes": [
            {"ratio_type": 1, "width": 4096, "height": 4096},
            {"ratio_type": 3, "width": 5404, "height": 3040}]}
        },
        "input_image_limit": [{"max_image_num": 10, "ability_name": "byte_edit"}],
        "sample_steps": {"steps": 16, "min_steps": 10, "max_steps": 41},
        "commercial_config": {"image_model_commerce_config": {"base": {"default": {"benefit_type": "image_basic_v50_pro_2k"}}}},
        "duration_option": null,
        "video_aspect_ratio_option": null,
        "fps": 0
      },
      {
        "model_req_key": "high_aes_general_v50_flash",
        "model_name": "Seedream 5.0 Flash",
        "model_tip": "轻量化版 Seedream 5.0 Pro，更快更便宜",
        "is_new_model": true,
        "feats": ["new_model", "t2i", "byte_edit"],
        "generate_count_options": [1, 2, 3, 4],
        "default_generate_count": 4,
        "default_resolution_type": "2k",
        "resolution_map": {"2k": {"resolution_name": "高清 2K", "image_ratio_sizes": [{"ratio_type": 1, "width": 2048, "height": 2048}]}},
        "input_image_limit": [{"max_image_num": 10, "ability_name": "byte_edit"}]
      }
    ]
  }
}
""")

# §7.2, the trimmed example answer of the protocol document, as printed there
VIDEO_ANSWER = json.loads("""
{
  "ret": "0",
  "errmsg": "success",
  "data": {
    "default_model_idx": 0,
    "max_batch_gen_count": 4,
    "video_duration_display_range": {"min_duration_ms": 4000, "max_duration_ms": 15000},
    "model_list": [
      {
        "model_req_key": "dreamina_seedance_45_pro",
        "model_name": "即梦 Seedance 2.5",
        "model_tip": "最强模型，支持 50个参考，新增视频编辑、超长生成",
        "model_status": 0,
        "options": [
          {"key": "resolution", "enum_val": {"string_value": ["480p", "720p", "1080p"], "default_val_idx": 1}},
          {"key": "video_aspect_ratio", "enum_val": {"string_value": ["21:9", "16:9", "4:3", "1:1", "3:4", "9:16"], "default_val_idx": 1}},
          {"key": "frames", "enum_val": {"int_value": [96, 120, 144, 168, 192], "default_val_idx": 1}},
          {"key": "fps", "forbidden_display": true, "enum_val": {"int_value": [24], "default_val_idx": 0}},
          {"key": "input_media_type", "enum_val": {"string_value": ["unified_edit", "prompt", "first_frame", "end_frame", "long_video", "edit"], "default_val_idx": 0}},
          {"key": "unified_edit", "unified_edit_config": {"supported_materials": [
            {"material_type": 1, "limit": {"max_count": 30}},
            {"material_type": 2, "limit": {"max_count": 10}},
            {"material_type": 3, "limit": {"max_count": 10}}]}}
        ],
        "commercial_config": {
          "resolution_price_configs": [
            {"resolution": "480p", "price": {"benefit_type": "seedance_25_480p_output"}},
            {"resolution": "720p", "price": {"benefit_type": "seedance_25_720p_output"}},
            {"resolution": "1080p", "price": {"benefit_type": "seedance_25_1080p_output"}}
          ],
          "default": {"benefit_type": "seedance_25_720p_output"}
        },
        "extra": {}
      },
      {
        "model_req_key": "dreamina_seedance_45_pro_draft",
        "model_name": "即梦 Seedance 2.5 (样片模式)",
        "model_status": 0,
        "options": [{"key": "resolution", "forbidden_display": false, "enum_val": {"string_value": ["480p"], "default_val_idx": 0}}],
        "commercial_config": {"resolution_price_configs": [{"resolution": "480p", "price": {"benefit_type": "seedance_25_draft_480p_output"}}]},
        "extra": {"is_draft_mode": true}
      }
    ]
  }
}
""")
