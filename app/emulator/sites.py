"""Dreamina's international clusters (2026 notes 9, checklist 23 and 33), on the same server by path prefix.

A request whose path starts with ``/us``, ``/us-ttp2`` or ``/sg`` is served as if it had reached that cluster's
hosts (``dreamina-api.us.capcut.com`` / ``commerce.us.capcut.com`` / ``imagex16-normal-us-ttp.capcutapi.us``; the
US alternative ``dreamina-api-us-ttp2.us.capcut.com`` / ``commerce-us-ttp2.us.capcut.com``; or the
``…-sg.capcut.com`` hosts that HK, JP and SG accounts share): the prefix is removed before routing, so point a
client's per-region base URLs at ``<emulator>/us`` and ``<emulator>/sg``. No prefix is the CN site.

Per cluster: the app id (513641 abroad), the ``region`` values it accepts (``US``; ``HK``/``JP``/``SG``), the
ImageX signing region, the image and video keys its ``get_common_config`` lists (9.4: those of the emulator's
tables that the notes saw there), ``/commerce`` answers with the payload as a JSON string in ``response``
(9.3), and the account's home: a session is bound to the first cluster it calls, and another cluster answers
ret ``"1015"`` (9.1); a session id containing ``ttp2`` belongs to ``us-ttp2`` from the start (an account of the
alternative US host, whose primary host answers it ``1015``). Each account has one workspace per cluster
(``workspace/list``, 9.3), whose id international drafts must carry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

CN = "cn"
US_ALT = "us-ttp2"  # the alternative US host (9.1)
ALT_HOME_MARKER = "ttp2"  # a session id containing it belongs to US_ALT
ENVIRON_KEY = "emulator.cluster"
WORKSPACE_LIST = "/mweb/v1/workspace/list"


@dataclass(frozen=True)
class Cluster:
    name: str
    aid: str  # "" = the config's (CN) aid
    regions: tuple[str, ...]
    imagex_region: str
    image_keys: tuple[str, ...] | None  # None: every model of the tables
    video_prefixes: tuple[str, ...] | None
    us: bool = False  # a US host: image drafts' metrics_extra without sceneOptions (9.3)


_INTL_VIDEO = ("dreamina_seedance_45", "dreamina_seedance_40")  # 9.4: the Seedance 2.5 / 2.0 family
_US_IMAGES = (
    "high_aes_general_v50p_large", "high_aes_general_v50", "high_aes_general_v42", "high_aes_general_v40l",
    "high_aes_general_v41", "high_aes_general_v40", "high_aes_general_v30l:general_v3.0_18b",
)  # fmt: skip
CLUSTERS = {
    CN: Cluster(CN, "", ("cn", "CN"), "cn-north-1", None, None),
    "us": Cluster("us", "513641", ("US",), "us-east-1", _US_IMAGES, _INTL_VIDEO, us=True),
    US_ALT: Cluster(US_ALT, "513641", ("US",), "us-east-1", _US_IMAGES, _INTL_VIDEO, us=True),
    "sg": Cluster(
        "sg", "513641", ("HK", "JP", "SG"), "ap-southeast-1",
        ("high_aes_general_v50p_large", "high_aes_general_v50", "high_aes_general_v43", "high_aes_general_v42",
         "high_aes_general_v40l", "high_aes_general_v41", "high_aes_general_v40",
         "high_aes_general_v30l:general_v3.0_18b"),
        _INTL_VIDEO,
    ),
}  # fmt: skip


def split(path: str) -> tuple[str, str]:
    """(cluster, path without its prefix) of a request path."""
    for name in CLUSTERS:
        if name != CN and (path == f"/{name}" or path.startswith(f"/{name}/")):
            return name, path[len(name) + 1 :] or "/"
    return CN, path


def lists_image(cluster: str, key: str) -> bool:
    keys = CLUSTERS[cluster].image_keys
    return keys is None or key in keys


def lists_video(cluster: str, key: str) -> bool:
    prefixes = CLUSTERS[cluster].video_prefixes
    return prefixes is None or key.startswith(prefixes)


def home_of(session_id: str, cluster: str) -> str:
    """The cluster a session not yet bound would belong to when it calls ``cluster``."""
    return US_ALT if ALT_HOME_MARKER in session_id else cluster


def workspace_id(cluster: str, session_id: str) -> int:
    """The account's workspace on a cluster (``workspace/list``, 9.3): a stable 19-digit number."""
    digest = hashlib.sha256(f"workspace|{cluster}|{session_id}".encode()).digest()
    return 7 * 10**18 + int.from_bytes(digest[:8], "big") % 10**18
