"""``aigc_draft/generate``: validate the draft, apply scenarios and limits, charge, create the generation.

Order of the refusals: the draft itself (1000/3018/2061/5001), a ``[ret=CODE]`` marker, risk scenarios
(1019, 4013), compliance (4010), a missing benefit (1006), the concurrency limit (1010), the daily limit
(121101), credits (1006; 5000 in non-strict mode). A body with ``"action": 2`` continues a record held
at status 42 after four images (3.3).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from statistics import NormalDist
from typing import Any

from werkzeug.wrappers import Response

from app.emulator import drafts, image_models, post_edit, rets, sites
from app.emulator.context import Ctx, Refused
from app.emulator.gate import cookies
from app.emulator.markers import Markers, parse_markers, prompt_image_count
from app.emulator.records import core_record
from app.emulator.state import Account, Generation
from app.emulator.timeline import Plan

BASELINE_ITEMS = 4
BATCH = 4  # images made before the upstream waits for "continue generating" (3.3)
MULTI_IMAGE_MODEL = "high_aes_general_v40"
KINDS = {"generate": "image", "blend": "blend", "gen_video": "video", **{tool: tool for tool in post_edit.TOOLS}}
FULL_MEDIA_SIDE = 1024  # a post edit's result no longer than this is served at its real size (tests check it)
DEFAULT_FAIL = {"fail30": "2002", "reject10": "2038", "reject40": "2004"}


def _refused(ret: str, reason: str, message: str | None = None) -> Refused:
    """A generate refusal: every one carries the empty generation object (2.6)."""
    return Refused(ret, message or rets.message(ret), reason, rets.generate_error_data(ret))


def counts(spec: drafts.DraftSpec, markers: Markers, ctx: Ctx) -> tuple[int, int]:
    """(images to make, images before a continuation is needed): checklist 11, 12 and the ``[n=K]`` marker."""
    config = ctx.config
    if spec.kind == "gen_video":
        return 1, 1
    if spec.post_edit is not None:
        made = post_edit.count(spec)
        return made, made
    if markers.items is not None:
        items = max(1, min(markers.items, config.max_items))
        return items, items
    model = image_models.IMAGE_MODELS.get(spec.model)
    wanted = spec.gen_count if spec.gen_count_placement == "abilities" else None
    if model and type(wanted) is int and wanted in model.counts:
        return wanted, min(wanted, BATCH) if config.continuation else wanted
    if not config.strict:  # the baseline rule: N张 in a jimeng-4.0 prompt, else 4 (12.4)
        asked = prompt_image_count(spec.prompt) if spec.kind == "generate" and spec.model == MULTI_IMAGE_MODEL else None
        items = BASELINE_ITEMS if asked is None else max(1, min(asked, config.max_items))
        return items, items
    items = model.default_count if model else BASELINE_ITEMS
    return items, items


def _script(account: Account, markers: Markers) -> tuple[str, str]:
    """(status script, fail_code) of checklist 26."""
    fail = markers.fail_code or ("2038" if "filtered" in account.session_id else None)
    script = markers.script or ("fail30" if fail else "success")
    return script, fail or DEFAULT_FAIL.get(script, "")


def _draft_content(spec: drafts.DraftSpec, items: int) -> str:
    """The submitted draft as records return it: ``abilities.gen_option.gen_count`` is the executed count."""
    draft = json.loads(json.dumps(spec.draft))
    if spec.kind != "gen_video":
        abilities = draft["component_list"][0]["abilities"]
        option = abilities.get("gen_option") if isinstance(abilities.get("gen_option"), dict) else {}
        abilities["gen_option"] = {"type": "", "id": "", **option, "gen_count": items, "generate_all": False}
    return json.dumps(draft, ensure_ascii=False, separators=(",", ":"))


def _forecast(history_id: str, work_seconds: float) -> int:
    """A forecast within ±15 % of ``work_seconds``, stable per record."""
    jitter = 0.85 + 0.3 * int(hashlib.sha256(history_id.encode()).hexdigest()[:4], 16) / 0xFFFF
    return max(1, round(work_seconds * jitter))


def _drawn(median: float, sigma: float | None, prompt: str) -> float:
    """The ``[sigma=S]`` marker: a generation time drawn from a lognormal around ``median``, from a hash of the
    prompt (the same prompt, the same time: a benchmark replays its durations)."""
    if not sigma:
        return median
    digest = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:8], "big")
    return median * math.exp(sigma * NormalDist().inv_cdf((digest + 0.5) / 2**64))


def _builder(ctx: Ctx, account: Account, spec: drafts.DraftSpec, markers: Markers) -> Any:
    config = ctx.config
    seconds = markers.seconds
    if seconds is None:
        seconds = config.video_seconds if spec.kind == "gen_video" else config.image_seconds
    if "slow" in account.session_id:
        seconds *= 3
    median, seconds = seconds, _drawn(seconds, markers.sigma, spec.prompt)
    factor = config.video_forecast_factor if spec.kind == "gen_video" else config.image_forecast_factor
    items, first_batch = counts(spec, markers, ctx)
    script, fail_code = _script(account, markers)
    position = config.queue_position if markers.queue_position is None else markers.queue_position
    plan = Plan(seconds, items, first_batch, script, markers.queue_seconds or 0.0, config.queue_share, position)
    hash_ok = spec.hash_prefix == 2 * len(spec.image_uris) if spec.kind == "blend" else None

    def build(history_id: str) -> Generation:
        return Generation(
            history_id=history_id, submit_id=spec.submit_id, session_id=account.session_id, kind=KINDS[spec.kind],
            model=spec.model, created=ctx.now, plan=plan, width=spec.width, height=spec.height,
            fail_code=fail_code, invisible_polls=markers.invisible_polls, duration_ms=spec.duration_ms,
            hash_prefix_ok=hash_ok, image_uris=spec.image_uris, prompt=spec.prompt, resolution=spec.resolution,
            benefit_type=spec.benefit_type, gen_count=spec.gen_count, gen_count_placement=spec.gen_count_placement,
            draft_content=_draft_content(spec, items),
            full_media=spec.post_edit is not None and max(spec.width, spec.height) <= FULL_MEDIA_SIDE,
            forecast=_forecast(history_id, median * (1 - config.queue_share) * factor),
        )  # fmt: skip

    return build, first_batch


def _offered(cluster: str, spec: drafts.DraftSpec) -> bool:
    """Whether the site's get_common_config lists the draft's model (9.4)."""
    if spec.kind == "gen_video":
        return sites.lists_video(cluster, spec.model)
    return sites.lists_image(cluster, spec.model)


def _scenarios(ctx: Ctx, account: Account, spec: drafts.DraftSpec) -> None:
    """Risk (10), compliance (item 22) and benefit (item 18) refusals scripted by the session id; abroad, with
    ``intl_shark`` on, a generate without the page's ``X-Bogus`` is ret -6 (checklist 21)."""
    session = account.session_id
    if ctx.cluster != sites.CN and ctx.config.intl_shark and not ctx.request.args.get("X-Bogus"):
        raise _refused("-6", "risk_intl_shark")
    if "shark" in session:
        raise _refused("1019", "risk_shark")
    if "risky" in session or ("riskvideo" in session and spec.kind == "gen_video"):
        raise _refused("4013", "risk_4013")
    if ctx.config.strict:
        jar = cookies(ctx.request.headers.get("Cookie", ""))
        web_id = ctx.request.args.get("webId")
        if jar.get("_tea_web_id") and web_id and jar["_tea_web_id"] != web_id:
            raise _refused("4013", "webid_mismatch", f"{rets.message('4013')} (webId differs from _tea_web_id)")
    if "nocompliance" in session and not account.compliance_confirmed:
        raise _refused("4010", "compliance")
    if "nobenefit" in session and spec.model in ctx.config.benefit_models:
        raise _refused("1006", "benefit_missing")


def _create(ctx: Ctx, account: Account, spec: drafts.DraftSpec, markers: Markers) -> Generation:
    """Limits and credits under the state lock, so concurrent submits cannot overshoot them."""
    config, state = ctx.config, ctx.state
    build, first_batch = _builder(ctx, account, spec, markers)
    per_draft = spec.kind == "gen_video" or not config.strict  # the baseline charged images per draft
    cost = (config.video_cost if spec.kind == "gen_video" else config.image_cost) * (1 if per_draft else first_batch)
    with state.lock:
        running = sum(1 for g in state.of_session(account.session_id) if not g.snapshot(ctx.now).terminal)
        if config.max_running_jobs and running >= config.max_running_jobs:
            raise _refused("1010", "concurrency_limit")
        today = account.generations_per_day.get(ctx.day, 0)
        if config.daily_generation_limit and today >= config.daily_generation_limit:
            raise _refused("121101", "daily_limit")
        if not state.charge(account, cost):
            if config.strict:
                raise _refused("1006", "credits_insufficient")
            message = f"not enough credits: balance {account.total}, this draft costs {cost}"
            raise Refused("5000", message, "credits_insufficient")
        account.generations_per_day[ctx.day] = today + 1
        generation = state.add(build)
        generation.charged = cost
        ctx.stats.running(account.session_id, running + 1)
    ctx.stats.total("generations_created")
    ctx.stats.total("credits_charged", cost)
    return generation


def _continue(ctx: Ctx, account: Account, spec: drafts.DraftSpec) -> Generation:
    """``"action": 2``: the record must be held at 42 after its first batch; the rest is charged now."""
    generation = ctx.state.find(account.session_id, history_id=spec.history_id)
    if generation is None or generation.model != spec.model:
        raise Refused(None, f"history_id {spec.history_id!r} is not a record of this account and model", "continue")
    cost = ctx.config.image_cost * (generation.items - generation.plan.first_batch)
    with ctx.state.lock:
        snap = generation.snapshot(ctx.now)
        held = snap.status == 42 and snap.visible_items == generation.plan.first_batch < generation.items
        if not held or generation.continued is not None:
            raise Refused(None, f"record {generation.history_id} is not waiting for a continuation", "continue")
        if not ctx.state.charge(account, cost):
            raise _refused("1006", "credits_insufficient")
        generation.continued = ctx.now
        generation.charged += cost
        if spec.submit_id != generation.submit_id:
            ctx.state.by_submit.setdefault((account.session_id, spec.submit_id), []).append(generation.history_id)
    ctx.stats.total("continuations")
    ctx.stats.total("credits_charged", cost)
    return generation


def _post_edit_result(ctx: Ctx, account: Account, spec: drafts.DraftSpec) -> drafts.DraftSpec:
    """A post edit's result size from its input's (8.1); an input this account cannot use is ret 1000."""
    info = spec.post_edit or {}
    size = post_edit.source_size(ctx.state, account.session_id, info, ctx.now)
    if isinstance(size, str):
        raise _refused(ctx.invalid_ret(), "post_edit_source", f"{rets.message(ctx.invalid_ret())}: {size}")
    width, height = post_edit.result_size(info["tool"], *size, info.get("padding"))
    return dataclasses.replace(spec, width=width, height=height)


def submit(ctx: Ctx, account: Account, body: Any) -> Response:
    """Validate, refuse or create; answer ``data.aigc_data`` (5.1)."""
    config = ctx.config
    cluster = sites.CLUSTERS[ctx.cluster]
    abroad = config.strict and ctx.cluster != sites.CN  # 9.3's checks
    rules = drafts.Rules(
        config.strict, config.da_versions, config.accept_iptag_4k, frozenset(config.retired_models),
        int(cluster.aid or config.aid), sites.workspace_id(ctx.cluster, account.session_id) if abroad else None,
        abroad and cluster.us,
    )  # fmt: skip
    try:
        spec = drafts.parse_generate(body, ctx.state.is_committed, rules)
    except drafts.DraftError as err:
        ret = err.ret or ctx.invalid_ret()
        # a specific code answers the document's errmsg verbatim; invalid parameters also name the field
        message = rets.message(ret) if err.ret else f"{rets.message(ret)}: {err}"
        raise Refused(ret, message, err.reason, rets.generate_error_data(ret), f"{rets.message(ret)}: {err}") from err
    if not _offered(ctx.cluster, spec):
        raise _refused("1000", "model_not_offered", f"model {spec.model} is not offered on this site")
    if spec.post_edit is not None:
        spec = _post_edit_result(ctx, account, spec)
    markers = parse_markers(spec.prompt)
    if markers.ret is not None:
        raise _refused(markers.ret, "ret_marker")
    if spec.action == 2:
        generation = _continue(ctx, account, spec)
        snap = generation.snapshot(ctx.now)
    else:
        _scenarios(ctx, account, spec)
        generation = _create(ctx, account, spec, markers)
        snap = dataclasses.replace(generation.snapshot(ctx.now), status=20)  # as captured (5.1)
    return ctx.ok({"aigc_data": core_record(ctx, generation, snap, account.user_id)})
