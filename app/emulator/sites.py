"""Dreamina's international clusters (2026 notes 9, checklist 23 and 33), on the same server by path prefix.

A request whose path starts with ``/us`` or ``/sg`` is served as if it had reached that cluster's hosts
(``dreamina-api.us.capcut.com`` / ``commerce.us.capcut.com`` / ``imagex16-normal-us-ttp.capcutapi.us``, or the
``…-sg.capcut.com`` hosts that HK, JP and SG accounts share): the prefix is removed before routing, so point a
client's per-region base URLs at ``<emulator>/us`` and ``<emulator>/sg``. No prefix is the CN site.

Per cluster: the app id (513641 abroad), the ``region`` values it accepts (``US``; ``HK``/``JP``/``SG``), the
ImageX signing region, the image and video keys its ``get_common_config`` lists (9.4: those of the emulator's
tables that the notes saw there), ``/commerce`` answers with the payload as a JSON string in ``response``
(9.3), and the account's home: a session is bound to the first cluster it calls, and another cluster answers
ret ``"1015"`` (9.1).
"""

from __future__ import annotations

from dataclasses import dataclass

CN = "cn"
ENVIRON_KEY = "emulator.cluster"


@dataclass(frozen=True)
class Cluster:
    name: str
    aid: str  # "" = the config's (CN) aid
    regions: tuple[str, ...]
    imagex_region: str
    image_keys: tuple[str, ...] | None  # None: every model of the tables
    video_prefixes: tuple[str, ...] | None


_INTL_VIDEO = ("dreamina_seedance_45", "dreamina_seedance_40")  # 9.4: the Seedance 2.5 / 2.0 family
CLUSTERS = {
    CN: Cluster(CN, "", ("cn", "CN"), "cn-north-1", None, None),
    "us": Cluster(
        "us", "513641", ("US",), "us-east-1",
        ("high_aes_general_v50p_large", "high_aes_general_v50", "high_aes_general_v42", "high_aes_general_v40l",
         "high_aes_general_v41", "high_aes_general_v40", "high_aes_general_v30l:general_v3.0_18b"),
        _INTL_VIDEO,
    ),
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
