"""The ``ret`` codes of the 2026 notes (section 6) with their ``errmsg``, and the generate error payload.

Where the notes quote an ``errmsg`` it is used verbatim; otherwise the web bundle's constant name stands in.
"""

from __future__ import annotations

from typing import Any

CREDIT_STARLING_KEY = "web_dre_m10n_generate_popup_credit_ininsufficient_title"
RISK_STARLING_KEY = "web_risk_control_message_reject_generation"

MESSAGES: dict[str, str] = {
    "1": "rate_limit",
    "1000": "invalid parameter",
    "1001": "invalid_params",
    "1002": "common_error",
    "1006": "Not enough credits left or no relevant benefits",
    "1010": "concurrency_limit",
    "1014": "system busy",
    "1015": "login_error",
    "1017": "no permission",
    "1018": "punish_limit_aigenerate",
    "1019": "shark not pass",
    "1021": "commercial_shark_block",
    "1057": "rate_limit",
    "1063": "text_audit_not_pass",
    "1159": "copyright",
    "1161": "mix_cn_en",
    "1162": "unsupported_lang",
    "2002": "generate_error",
    "2003": "pre_img_risk",
    "2004": "post_img_risk",
    "2005": "pre_text_risk",
    "2008": "get history failed",
    "2014": "access_limit",
    "2020": "rate_limit",
    "2035": "security_not_pass",
    "2038": "text_security_block",
    "2039": "image_security_block",
    "2041": "image_security_block",
    "2042": "video_security_block",
    "2043": "security_not_retry",
    "2047": "content violation",
    "2048": "image_copyright",
    "2050": "text_copyright",
    "2052": "OutputAudioCopyright",
    "2061": "模型已不可用，请刷新界面后再试试",
    "3000": "region not allow",
    "3018": "permission denied",
    "3021": "unsupported_by_beta",
    "4001": "external_no_credits",
    "4002": "invalid parameters",
    "4003": "no_permission",
    "4010": "compliance_confirmation_required",
    "4013": "生成失败，疑似存在异常行为，请重新尝试",
    "5000": "not enough credits",
    "5001": "credit prededuct failed",
    "5002": "video generation failed",
    "10020": "rate_limit_non_commercial_region",
    "121101": "reached_daily_generation_limit",
    "34010100": "param error",
    "-4": "shark check reject",
    "-6": "shark not pass reject",
}

# fail_code -> (fail_starling_key, fail_starling_message) on records and generate errors (5.3)
STARLING: dict[str, tuple[str, str]] = {
    "1006": (CREDIT_STARLING_KEY, "积分不足"),
    "4013": (RISK_STARLING_KEY, "生成失败，疑似存在异常行为，请重新尝试"),
    "2038": ("web_text_violates_community_guidelines", "你输入的文字不符合平台规则，请修改后重试"),
    "2004": ("web_image_violates_community_guidelines", "生成的图片不符合平台规则"),
    "-6": ("web_risk_control_message_reject_generation", "Couldn't generate due to unusual activity in your account."),
}


def message(ret: str) -> str:
    return MESSAGES.get(ret, "request refused (emulated)")


def fail_fields(code: str) -> dict[str, str]:
    """``fail_code``, ``fail_msg`` and the starling pair of a failure code ("" when not failed)."""
    if not code:
        return {"fail_code": "", "fail_msg": "", "fail_starling_key": "", "fail_starling_message": ""}
    key, text = STARLING.get(code, ("", ""))
    return {"fail_code": code, "fail_msg": MESSAGES.get(code, "generate failed"), "fail_starling_key": key,
            "fail_starling_message": text}  # fmt: skip


def generate_error_data(ret: str) -> dict[str, Any]:
    """The empty generation object that errors of ``aigc_draft/generate`` carry (2.6)."""
    fields = fail_fields(ret) if ret in STARLING else fail_fields("")
    return {"aigc_data": None, "fail_code": fields["fail_code"], "fail_starling_key": fields["fail_starling_key"],
            "fail_starling_message": fields["fail_starling_message"]}  # fmt: skip
