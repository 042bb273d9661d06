"""What an international cluster checks of a generate body beyond the CN rules (2026 notes 9.3), strict mode only.

Every draft: ``extend.workspace_id`` is the number ``workspace/list`` gave this account on this cluster, and
``extend`` has no ``m_image_commerce_info``. On a US host, a text-to-image or blend draft's ``metrics_extra``
is the working US capture's: no ``sceneOptions``, the listed members, ``generateId`` the submit id; a
text-to-image component has no ``gen_type`` and ``abilities.generate`` no ``history_option``.
"""

from __future__ import annotations

import json
from typing import Any

from app.emulator.draft_types import DraftError, Parts

# 9.3: the members of the working US image draft's metrics_extra
US_METRICS = ("promptSource", "generateCount", "enterFrom", "position", "isBoxSelect", "isCutout",
              "hasRejectedAudit", "generateId", "isRegenerate")  # fmt: skip
IMAGE_KINDS = ("generate", "blend")


def check(parts: Parts, kind: str) -> None:
    rules = parts.rules
    if rules.workspace_id is None:
        return
    extend = parts.body["extend"]
    workspace = extend.get("workspace_id")
    if "workspace_id" not in extend:
        raise DraftError("extend.workspace_id is required on this site (workspace/list)", reason="workspace_missing")
    if type(workspace) is not int or workspace != rules.workspace_id:
        raise DraftError(
            f"extend.workspace_id {workspace!r} is not this account's workspace", reason="workspace_invalid"
        )
    if "m_image_commerce_info" in extend:
        raise DraftError("extend.m_image_commerce_info is not sent on this site", reason="intl_draft")
    if rules.us_metrics and kind in IMAGE_KINDS:
        _check_us_image(parts, kind)


def _check_us_image(parts: Parts, kind: str) -> None:
    metrics: dict[str, Any] = json.loads(parts.body["metrics_extra"])
    if "sceneOptions" in metrics:
        raise DraftError("metrics_extra.sceneOptions is not sent on this site", reason="intl_draft")
    missing = [name for name in US_METRICS if name not in metrics]
    if missing:
        raise DraftError(f"metrics_extra misses {', '.join(missing)}", reason="intl_draft")
    if metrics["generateId"] != parts.submit_id:
        raise DraftError("metrics_extra.generateId must be the submit_id", reason="intl_draft")
    if kind != "generate":
        return
    if "gen_type" in parts.component:
        raise DraftError("component_list[0].gen_type is not sent on this site", reason="intl_draft")
    generate = parts.abilities.get("generate")
    if isinstance(generate, dict) and "history_option" in generate:
        raise DraftError("abilities.generate.history_option is not sent on this site", reason="intl_draft")
