// jimeng-api playground: a plain ES module, no build step. It talks to this service only (the page's CSP
// allows connect-src 'self'); the session id stays in this browser's localStorage.

const STORE = {
  session: "jimeng-playground.session",
  lang: "jimeng-playground.lang",
  gallery: "jimeng-playground.gallery",
};
const MAX_GALLERY = 40;
const THUMB_PIXELS = 160;

const TEXT = {
  en: {
    title: "Playground",
    session_label: "Jimeng session id (the sessionid cookie of jimeng.jianying.com)",
    session_note: "Kept in this browser's local storage and sent only to this service.",
    show: "Show",
    hide: "Hide",
    forget: "Forget",
    model_label: "Model",
    images_group: "Image models",
    videos_group: "Video models",
    prompt_label: "Prompt",
    prompt_placeholder: "a lighthouse at dusk, oil painting",
    tier: "Resolution tier",
    ratio: "Aspect ratio",
    count: "Images",
    inputs_label: "Reference images (image to image, optional)",
    drop_hint: "Drop images here or click to choose",
    resolution: "Resolution",
    duration: "Duration (s)",
    first_frame: "First frame (optional)",
    last_frame: "Last frame (optional)",
    generate: "Generate",
    remove: "Remove",
    result: "Result",
    history: "History id",
    details: "Details",
    gallery: "Your gallery",
    gallery_note:
      "Past results of this browser (stored locally). Result links expire: refresh an entry to fetch it again by its history id.",
    clear: "Clear",
    refresh: "Refresh",
    open: "Open",
    empty_gallery: "Nothing yet.",
    loading_models: "Loading models…",
    models_failed: "Could not load the models.",
    need_session: "Paste your Jimeng session id first.",
    need_prompt: "Write a prompt first.",
    need_first_frame: "A last frame needs a first frame.",
    too_many_inputs: "This model takes at most {0} reference images.",
    not_an_image: "{0} is not an image.",
    sending: "Sending to the service…",
    submitted: "Submitted to Jimeng.",
    queued: "Waiting in Jimeng's queue",
    queued_at: "Waiting in Jimeng's queue: position {0}",
    queued_of: "Waiting in Jimeng's queue: position {0} of {1}",
    generating: "Generating",
    ready_count: "{0} of {1} images ready",
    eta: "about {0} s left",
    then: ", ",
    done_images: "Done: {0} image(s).",
    done_video: "Done: the video is ready.",
    stopped: "The stream ended before every image arrived: refresh it from the gallery.",
    network_error: "Could not reach the service ({0}). Is it running?",
    error_generic: "The request failed.",
    error_history: "The generation {0} exists at Jimeng: refresh it from the gallery later.",
    cap_live: "from your account's live tables",
    cap_static: "from the service's tables (paste a session id for your account's)",
    cap_tiers: "tiers {0}",
    cap_ratios: "ratios {0}",
    cap_counts: "{0} images per request",
    cap_fixed: "a fixed batch of {0} images",
    cap_inputs: "up to {0} reference images",
    cap_no_inputs: "no reference images",
    cap_resolutions: "resolutions {0}",
    cap_durations: "{0} s",
    cap_frames: "frames: {0}",
    cap_no_frames: "text only",
    frame_first_frame: "first",
    frame_end_frame: "last",
    status_queued: "queued",
    status_running: "running",
    status_succeeded: "succeeded",
    status_failed: "failed",
    status_submitted: "submitted",
    kind_image: "image",
    kind_video: "video",
  },
  zh: {
    title: "在线试用",
    session_label: "即梦 sessionid（登录 jimeng.jianying.com 后浏览器 Cookie 中的 sessionid）",
    session_note: "只保存在本浏览器的本地存储中，只发送给本服务。",
    show: "显示",
    hide: "隐藏",
    forget: "清除",
    model_label: "模型",
    images_group: "图片模型",
    videos_group: "视频模型",
    prompt_label: "提示词",
    prompt_placeholder: "黄昏时分的灯塔，油画风格",
    tier: "清晰度",
    ratio: "画面比例",
    count: "张数",
    inputs_label: "参考图（图生图，可选）",
    drop_hint: "把图片拖到这里，或点击选择",
    resolution: "分辨率",
    duration: "时长（秒）",
    first_frame: "首帧（可选）",
    last_frame: "尾帧（可选）",
    generate: "生成",
    remove: "移除",
    result: "结果",
    history: "历史 ID",
    details: "详情",
    gallery: "我的作品",
    gallery_note: "本浏览器生成过的结果（保存在本地）。结果链接会过期：点“刷新”即可按历史 ID 重新获取。",
    clear: "清空",
    refresh: "刷新",
    open: "打开",
    empty_gallery: "还没有作品。",
    loading_models: "正在加载模型…",
    models_failed: "无法加载模型列表。",
    need_session: "请先粘贴即梦的 sessionid。",
    need_prompt: "请先填写提示词。",
    need_first_frame: "使用尾帧时必须同时提供首帧。",
    too_many_inputs: "该模型最多接受 {0} 张参考图。",
    not_an_image: "{0} 不是图片。",
    sending: "正在提交给服务…",
    submitted: "已提交到即梦。",
    queued: "正在即梦排队",
    queued_at: "正在即梦排队：第 {0} 位",
    queued_of: "正在即梦排队：第 {0} 位，共 {1} 位",
    generating: "生成中",
    ready_count: "已完成 {0}/{1} 张",
    eta: "预计还需 {0} 秒",
    then: "，",
    done_images: "完成：共 {0} 张。",
    done_video: "完成：视频已生成。",
    stopped: "图片尚未全部返回连接就结束了：请在“我的作品”中刷新。",
    network_error: "无法连接本服务（{0}），服务是否在运行？",
    error_generic: "请求失败。",
    error_history: "生成任务 {0} 已在即梦创建，可稍后在“我的作品”中刷新获取。",
    cap_live: "来自你账号的实时模型表",
    cap_static: "来自服务内置的模型表（填写 sessionid 后显示你账号的）",
    cap_tiers: "清晰度 {0}",
    cap_ratios: "比例 {0}",
    cap_counts: "每次 {0} 张",
    cap_fixed: "固定一次 {0} 张",
    cap_inputs: "最多 {0} 张参考图",
    cap_no_inputs: "不支持参考图",
    cap_resolutions: "分辨率 {0}",
    cap_durations: "{0} 秒",
    cap_frames: "首尾帧：{0}",
    cap_no_frames: "仅文生视频",
    frame_first_frame: "首帧",
    frame_end_frame: "尾帧",
    status_queued: "排队中",
    status_running: "生成中",
    status_succeeded: "已完成",
    status_failed: "失败",
    status_submitted: "已提交",
    kind_image: "图片",
    kind_video: "视频",
  },
};

// Each error code the service answers (docs/api.md "Errors"), in words a person can act on.
export const ERRORS = {
  en: {
    session_expired:
      "Your Jimeng session has expired or was logged out. Sign in at jimeng.jianying.com again and paste the new sessionid.",
    missing_session: "No usable session id was sent. Paste your Jimeng sessionid above.",
    invalid_api_key: "This service uses API keys, and the key you pasted is not one of them.",
    too_many_sessions: "Too many session ids at once: paste at most 10, separated by commas.",
    insufficient_credits: "Not enough Jimeng credits for this generation (or the account lacks this model's benefit).",
    model_not_permitted: "This Jimeng account may not use this model. Pick another one.",
    account_restricted: "Jimeng has temporarily barred this account from generating.",
    risk_control: "Jimeng's risk control refused the request. Let the account rest for a while.",
    region_not_allowed: "This account or its region may not generate.",
    compliance_required:
      "Open the Jimeng web app with this account once and confirm its AIGC notice, then try again.",
    permission_denied: "Jimeng refused this request for this account.",
    content_filtered: "Jimeng's moderation refused the prompt, a reference image or the result. Change them and try again.",
    invalid_prompt: "Jimeng refuses this prompt's language mix: write it in one language.",
    invalid_value: "A setting is not valid for this model.",
    missing_field: "Something required is missing.",
    invalid_json: "The service could not read the request.",
    unsupported_parameter: "This option is not supported.",
    model_not_found: "This model does not exist, or is not of this kind.",
    model_unavailable: "Jimeng retired this model: choose a newer one.",
    too_many_images: "Too many reference images (at most 10).",
    image_fetch_failed: "A reference image could not be fetched.",
    unsupported_image: "A reference image is not a PNG, JPEG, WebP, GIF or BMP image.",
    request_too_large: "An image or the request is too large (at most 10 MiB per image).",
    request_timeout: "The upload took too long. Check the connection and try again.",
    unsupported_media_type: "The service cannot read this kind of request.",
    idempotency_key_reused: "This request reuses an earlier key with a different content.",
    not_found: "Jimeng does not know this generation (deleted, or another account's).",
    method_not_allowed: "The service does not answer this kind of request here.",
    bad_request: "The service could not understand the request.",
    forbidden: "The server refused the request.",
    uri_too_long: "The request's address is too long.",
    expectation_failed: "The server does not support what the request expected.",
    request_header_fields_too_large: "The request's headers are too large (too many session ids?).",
    not_implemented: "The server cannot read the way this request was sent.",
    client_closed_request: "The request was cancelled.",
    upstream_rate_limited: "Jimeng is throttling requests. Wait a moment and try again.",
    concurrency_limit: "This account already runs as many generations as it may. Wait for one to finish.",
    daily_limit: "This account reached its daily generation limit. Try again tomorrow.",
    generation_failed: "Jimeng ran the job and it failed. Try again, perhaps with another prompt.",
    generation_timeout:
      "The generation took longer than the service waits. It may still finish: refresh it from the gallery later.",
    upstream_bad_request: "Jimeng did not accept the request the service built.",
    upstream_incompatible: "Jimeng changed its protocol: the operator must update the service's config/upstream.yml.",
    upstream_error: "Jimeng could not be reached or answered badly. Try again later.",
    submit_outcome_unknown:
      "Jimeng did not say whether the job was created. Do not send it again: refresh it from the gallery in a minute.",
    state_unavailable: "The service's shared store is down. Try again shortly.",
    service_restarting: "The service is restarting. Try again in a moment.",
    internal_error: "Something went wrong inside the service (a bug). The details hold the request id.",
  },
  zh: {
    session_expired: "你的即梦登录已过期或已退出。请重新登录 jimeng.jianying.com，并粘贴新的 sessionid。",
    missing_session: "没有可用的 sessionid。请在上方粘贴即梦的 sessionid。",
    invalid_api_key: "本服务使用 API Key，你填写的 Key 不正确。",
    too_many_sessions: "sessionid 太多：最多 10 个，用逗号分隔。",
    insufficient_credits: "即梦积分不足（或账号没有该模型的使用权益）。",
    model_not_permitted: "该即梦账号不能使用这个模型，请换一个。",
    account_restricted: "即梦暂时禁止该账号生成内容。",
    risk_control: "请求被即梦风控拦截，请让账号休息一段时间再试。",
    region_not_allowed: "该账号或其所在地区不能使用生成功能。",
    compliance_required: "请用该账号打开一次即梦网页版并确认 AIGC 合规提示，然后再试。",
    permission_denied: "即梦拒绝了该账号的这个请求。",
    content_filtered: "即梦的内容审核拒绝了提示词、参考图或生成结果，请修改后再试。",
    invalid_prompt: "即梦不接受这种混合语言的提示词：请只用一种语言书写。",
    invalid_value: "某项设置不适用于这个模型。",
    missing_field: "缺少必填的内容。",
    invalid_json: "服务无法读取这个请求。",
    unsupported_parameter: "不支持这个选项。",
    model_not_found: "模型不存在，或类型不符。",
    model_unavailable: "即梦已下线这个模型，请选择更新的模型。",
    too_many_images: "参考图太多（最多 10 张）。",
    image_fetch_failed: "无法获取某张参考图。",
    unsupported_image: "某张参考图不是 PNG、JPEG、WebP、GIF 或 BMP 图片。",
    request_too_large: "图片或请求太大（每张图片最多 10 MiB）。",
    request_timeout: "上传时间太长，请检查网络后重试。",
    unsupported_media_type: "服务无法读取这种类型的请求。",
    idempotency_key_reused: "这个请求重复使用了之前的幂等键，但内容不同。",
    not_found: "即梦找不到这个生成记录（已删除，或属于其他账号）。",
    method_not_allowed: "服务在这里不接受这种请求。",
    bad_request: "服务无法理解这个请求。",
    forbidden: "服务器拒绝了这个请求。",
    uri_too_long: "请求的地址太长。",
    expectation_failed: "服务器不支持这个请求所要求的方式。",
    request_header_fields_too_large: "请求头太大（sessionid 太多？）。",
    not_implemented: "服务器无法读取这种发送方式的请求。",
    client_closed_request: "请求已取消。",
    upstream_rate_limited: "即梦正在限流，请稍等片刻再试。",
    concurrency_limit: "该账号同时进行的生成已达上限，请等其中一个完成。",
    daily_limit: "该账号今天的生成次数已用完，请明天再试。",
    generation_failed: "即梦执行了任务，但生成失败。请重试，或换个提示词。",
    generation_timeout: "生成时间超过了服务的等待上限。任务可能仍会完成：请稍后在“我的作品”中刷新。",
    upstream_bad_request: "即梦没有接受服务发出的请求。",
    upstream_incompatible: "即梦的协议已变化：需要管理员更新服务的 config/upstream.yml。",
    upstream_error: "无法连接即梦，或即梦返回异常。请稍后再试。",
    submit_outcome_unknown: "即梦没有确认任务是否已创建。请不要重复提交：一分钟后在“我的作品”中刷新。",
    state_unavailable: "服务的共享存储暂时不可用，请稍后再试。",
    service_restarting: "服务正在重启，请稍后再试。",
    internal_error: "服务内部出错（程序缺陷）。详情里有请求 ID。",
  },
};

const $ = (id) => document.getElementById(id);
const state = {
  lang: "en",
  models: [],
  live: false,
  busy: false,
  inputs: { inputs: [], first: [], last: [] },
  status: null, // [key, ...args], re-rendered when the language changes
  error: null, // the error object of the last answer
};

// -- text ------------------------------------------------------------------------------------------------------

function t(key, ...args) {
  const text = TEXT[state.lang][key] ?? TEXT.en[key] ?? key;
  return text.replace(/\{(\d)\}/g, (_, i) => String(args[Number(i)] ?? ""));
}

function pickLanguage() {
  const saved = localStorage.getItem(STORE.lang);
  if (saved === "en" || saved === "zh") return saved;
  const wanted = navigator.languages?.length ? navigator.languages : [navigator.language || "en"];
  for (const lang of wanted) {
    if (/^zh\b/i.test(lang)) return "zh";
    if (/^en\b/i.test(lang)) return "en";
  }
  return "en";
}

function applyLanguage(lang) {
  state.lang = lang;
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = `jimeng-api ${t("title")}`;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
  }
  $("show-session").textContent = $("session").type === "password" ? t("show") : t("hide");
  renderModels();
  renderStatus();
  renderError();
  renderGallery();
}

// -- the service -----------------------------------------------------------------------------------------------

function session() {
  return $("session").value.trim();
}

function headers(json = true) {
  const result = {};
  if (session()) result.Authorization = `Bearer ${session()}`;
  if (json) result["Content-Type"] = "application/json";
  return result;
}

async function errorOf(response) {
  try {
    const body = await response.json();
    if (body && body.error) return body.error;
  } catch {
    // not JSON: a proxy's page
  }
  return { message: `HTTP ${response.status}`, code: null, history_id: null };
}

async function loadModels() {
  setStatus("loading_models");
  try {
    const response = await fetch("/v1/models", { headers: headers(false) });
    if (!response.ok) throw await errorOf(response);
    const body = await response.json();
    state.models = body.data;
    setStatus(null);
  } catch (err) {
    state.models = [];
    showError(err.code !== undefined ? err : { message: String(err), code: null });
    setStatus("models_failed");
  }
  renderModels();
}

// -- models and their options ----------------------------------------------------------------------------------

function currentModel() {
  return state.models.find((model) => model.id === $("model").value) || state.models[0];
}

function fillSelect(select, values, chosen, label = (value) => String(value)) {
  const keep = values.map(String).includes(String(select.value)) ? select.value : String(chosen ?? values[0]);
  select.replaceChildren(
    ...values.map((value) => {
      const option = document.createElement("option");
      option.value = String(value);
      option.textContent = label(value);
      return option;
    }),
  );
  if (values.map(String).includes(keep)) select.value = keep;
}

function renderModels() {
  const select = $("model");
  const chosen = select.value;
  const groups = [
    ["image", t("images_group")],
    ["video", t("videos_group")],
  ];
  select.replaceChildren(
    ...groups
      .map(([type, name]) => {
        const group = document.createElement("optgroup");
        group.label = name;
        for (const model of state.models.filter((m) => m.type === type)) {
          const option = document.createElement("option");
          option.value = model.id;
          option.textContent = `${model.id} · ${model.description || ""}`.replace(/ · $/, "");
          group.append(option);
        }
        return group;
      })
      .filter((group) => group.children.length),
  );
  if (state.models.some((model) => model.id === chosen)) select.value = chosen;
  renderOptions();
}

function renderOptions() {
  const model = currentModel();
  const video = model?.type === "video";
  $("image-options").hidden = video;
  $("video-options").hidden = !video;
  if (!model) {
    $("capabilities").textContent = "";
    return;
  }
  const caps = model.capabilities || {};
  const facts = [];
  if (video) {
    fillSelect($("resolution"), caps.resolutions || [], caps.default_resolution);
    fillSelect($("video-ratio"), caps.ratios || [], caps.default_ratio);
    fillSelect($("duration"), caps.durations || [], caps.default_duration);
    const frames = caps.frames || [];
    $("first-drop").hidden = !frames.includes("first_frame");
    $("last-drop").hidden = !frames.includes("end_frame");
    facts.push(t("cap_resolutions", (caps.resolutions || []).join(", ")));
    facts.push(t("cap_ratios", (caps.ratios || []).join(", ")));
    facts.push(t("cap_durations", span(caps.durations || [])));
    facts.push(frames.length ? t("cap_frames", frames.map((f) => t(`frame_${f}`)).join(", ")) : t("cap_no_frames"));
  } else {
    const tiers = Object.keys(caps.tiers || {});
    fillSelect($("tier"), tiers, caps.default_tier);
    const sizes = (caps.tiers || {})[$("tier").value] || {};
    fillSelect($("ratio"), Object.keys(sizes), "1:1", (ratio) => `${ratio} (${sizes[ratio]})`);
    const counts = caps.count_options || [];
    fillSelect($("count"), counts.length ? counts : [caps.default_count || 4], caps.default_count);
    $("count").disabled = !counts.length;
    const most = caps.blend ? caps.max_input_images || 0 : 0;
    $("inputs-drop").hidden = !most;
    $("inputs-drop").dataset.max = String(most);
    facts.push(t("cap_tiers", tiers.join(", ")));
    facts.push(t("cap_ratios", Object.keys(sizes).join(", ")));
    facts.push(counts.length ? t("cap_counts", span(counts)) : t("cap_fixed", caps.default_count || 4));
    facts.push(most ? t("cap_inputs", most) : t("cap_no_inputs"));
  }
  facts.push(model.live ? t("cap_live") : t("cap_static"));
  $("capabilities").textContent = facts.join(" · ");
}

function span(values) {
  if (values.length > 2 && values.every((v, i) => i === 0 || v === values[i - 1] + 1)) {
    return `${values[0]}–${values[values.length - 1]}`;
  }
  return values.join(", ");
}

// -- input images (drag and drop or the file picker) ----------------------------------------------------------

const DROPS = [
  ["inputs", "inputs-drop", "inputs-file", "inputs-previews"],
  ["first", "first-drop", "first-file", "first-previews"],
  ["last", "last-drop", "last-file", "last-previews"],
];

function readDataUri(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function addFiles(slot, files) {
  const drop = DROPS.find(([name]) => name === slot);
  const most = Number($(drop[1]).dataset.max || 1);
  showError(null);
  for (const file of files) {
    if (!file.type.startsWith("image/")) {
      showError({ local: t("not_an_image", file.name) });
      continue;
    }
    const list = state.inputs[slot];
    if (most === 1) list.length = 0;
    if (list.length >= most) {
      showError({ local: t("too_many_inputs", most) });
      break;
    }
    list.push({ name: file.name, uri: await readDataUri(file) });
  }
  renderInputs(slot);
}

function renderInputs(slot) {
  const [, , , previews] = DROPS.find(([name]) => name === slot);
  $(previews).replaceChildren(
    ...state.inputs[slot].map((item, index) => {
      const figure = document.createElement("figure");
      const img = document.createElement("img");
      img.src = item.uri;
      img.alt = item.name;
      img.title = item.name;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "×";
      remove.title = t("remove");
      remove.addEventListener("click", () => {
        state.inputs[slot].splice(index, 1);
        renderInputs(slot);
      });
      figure.append(img, remove);
      return figure;
    }),
  );
}

function wireDrops() {
  for (const [slot, dropId, inputId] of DROPS) {
    const drop = $(dropId);
    drop.addEventListener("dragover", (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      drop.classList.remove("over");
      addFiles(slot, [...(event.dataTransfer?.files || [])]);
    });
    $(inputId).addEventListener("change", (event) => {
      addFiles(slot, [...event.target.files]);
      event.target.value = "";
    });
  }
}

// -- status, errors, results -----------------------------------------------------------------------------------

function setStatus(key, ...args) {
  state.status = key ? [key, ...args] : null;
  renderStatus();
}

function renderStatus() {
  const status = state.status;
  if (!status) {
    $("status").textContent = "";
    return;
  }
  const [key, ...args] = status;
  if (key === "progress") {
    $("status").textContent = progressText(args[0]);
  } else {
    $("status").textContent = t(key, ...args);
  }
}

// progress: {phase: "queued"|"running", position, length, eta, finished, total}
function progressText(p) {
  let text;
  if (p.phase === "queued") {
    text = p.position && p.length ? t("queued_of", p.position, p.length) : p.position ? t("queued_at", p.position) : t("queued");
  } else if (p.total && p.finished) {
    text = t("ready_count", p.finished, p.total);
  } else {
    text = t("generating");
  }
  return p.eta ? `${text}${t("then")}${t("eta", p.eta)}` : `${text}…`;
}

function showError(error) {
  state.error = error;
  renderError();
}

function renderError() {
  const error = state.error;
  $("error").hidden = !error;
  if (!error) return;
  if (error.local) {
    $("error-text").textContent = error.local;
    $("error-details").textContent = "";
    return;
  }
  const words = ERRORS[state.lang][error.code] || ERRORS.en[error.code];
  const lines = [words || error.message || t("error_generic")];
  const id = error.history_id || error.task_id;
  if (id) lines.push(t("error_history", id));
  $("error-text").textContent = lines.join(" ");
  $("error-details").textContent = [error.code, error.message].filter(Boolean).join(": ");
}

function setHistory(ids) {
  $("history").hidden = !ids.length;
  $("history-ids").textContent = ids.join(", ");
}

async function thumbnail(blob) {
  try {
    const bitmap = await createImageBitmap(blob);
    const scale = Math.min(1, THUMB_PIXELS / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return canvas.toDataURL("image/jpeg", 0.7);
  } catch {
    return null;
  }
}

function base64Blob(b64, type) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type });
}

// -- a generation ----------------------------------------------------------------------------------------------

async function generate(event) {
  event.preventDefault();
  if (state.busy) return;
  const model = currentModel();
  const prompt = $("prompt").value.trim();
  showError(null);
  if (!session()) return setStatus("need_session");
  if (!prompt) return setStatus("need_prompt");
  if (!model) return setStatus("models_failed");
  localStorage.setItem(STORE.session, session());
  $("images").replaceChildren();
  $("video").replaceChildren();
  setHistory([]);
  state.busy = true;
  $("generate").disabled = true;
  setStatus("sending");
  try {
    if (model.type === "video") await generateVideo(model, prompt);
    else await generateImages(model, prompt);
  } catch (err) {
    if (err instanceof TypeError) {
      showError({ local: t("network_error", err.message) });
      setStatus(null);
    } else {
      showError({ local: `${t("error_generic")} ${err?.message || err}` });
      setStatus(null);
    }
  } finally {
    state.busy = false;
    $("generate").disabled = false;
  }
}

async function generateImages(model, prompt) {
  const body = { model: model.id, prompt, ratio: $("ratio").value, resolution: $("tier").value, stream: true };
  if (!$("count").disabled) body.n = Number($("count").value);
  const inputs = state.inputs.inputs.map((item) => item.uri);
  if (inputs.length) body.images = inputs;
  const path = inputs.length ? "/v1/images/compositions" : "/v1/images/generations";
  const response = await fetch(path, { method: "POST", headers: headers(), body: JSON.stringify(body) });
  if (!response.ok) return refused(response, "image", model.id, prompt);
  const entry = newEntry("image", model.id, prompt);
  let expected = body.n || 0;
  let failed = false;
  for await (const block of sseBlocks(response)) {
    if (block.comment) {
      const submitted = /^generation (.+) submitted to Jimeng \((\d+) image/.exec(block.comment);
      if (submitted) {
        entry.ids = submitted[1].split(", ");
        expected = Number(submitted[2]);
        setHistory(entry.ids);
        setStatus("submitted");
        saveEntry(entry);
        continue;
      }
      const progress = parseProgress(block.comment);
      if (progress) setStatus("progress", progress);
    } else if (block.event === "error") {
      showError(block.data.error);
      failed = true;
    } else if (block.data && block.data.b64_json) {
      const blob = base64Blob(block.data.b64_json, `image/${block.data.output_format || "png"}`);
      const img = document.createElement("img");
      img.src = URL.createObjectURL(blob);
      img.alt = `${prompt} #${block.data.index + 1}`;
      img.dataset.index = String(block.data.index);
      $("images").append(img);
      entry.urls[block.data.index] = block.data.url;
      entry.thumbs[block.data.index] = await thumbnail(blob);
      const ready = $("images").children.length;
      if (!failed) setStatus("progress", { phase: "running", finished: ready, total: expected });
      saveEntry(entry);
    }
  }
  const count = $("images").children.length;
  entry.status = failed ? "failed" : count ? "succeeded" : entry.status;
  saveEntry(entry);
  if (failed) setStatus(null);
  else if (count && count >= expected) setStatus("done_images", count);
  else setStatus("stopped");
}

// An error answer; one naming a generation that may exist (its history id, or the submission id of
// submit_outcome_unknown) goes to the gallery, where "Refresh" asks /v1/tasks about it.
async function refused(response, kind, model, prompt) {
  const error = await errorOf(response);
  showError(error);
  setStatus(null);
  const id = error.history_id || error.task_id;
  if (id) {
    const entry = newEntry(kind, model, prompt);
    entry.ids = [id];
    saveEntry(entry);
  }
}

// ": generation 123: queued, position 3, ~20 s" / ": generation 123: 2 of 4 images ready, ~5 s" / "...: generating"
function parseProgress(comment) {
  const match = /^generation \S+: (.*)$/.exec(comment);
  if (!match) return null;
  const text = match[1];
  const eta = /~(\d+) s/.exec(text);
  const result = { eta: eta ? Number(eta[1]) : null };
  const queued = /^queued(?:, position (\d+))?/.exec(text);
  if (queued) return { ...result, phase: "queued", position: queued[1] ? Number(queued[1]) : null };
  const ready = /^(\d+) of (\d+) images ready/.exec(text);
  if (ready) return { ...result, phase: "running", finished: Number(ready[1]), total: Number(ready[2]) };
  if (/^generating/.test(text)) return { ...result, phase: "running" };
  return null;
}

// The blocks of a text/event-stream answer: {comment} or {event, data}.
async function* sseBlocks(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer += value.replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const raw = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      yield* parseBlock(raw);
    }
    if (done) break;
  }
  if (buffer.trim()) yield* parseBlock(buffer);
}

function* parseBlock(raw) {
  let event = "message";
  const data = [];
  for (const line of raw.split("\n")) {
    if (line.startsWith(":")) {
      const comment = line.slice(1).trim();
      if (comment && comment !== "keep-alive") yield { comment };
    } else if (line.startsWith("event:")) {
      event = line.slice(6).trim();
    } else if (line.startsWith("data:")) {
      data.push(line.slice(5).replace(/^ /, ""));
    }
  }
  if (data.length) {
    try {
      yield { event, data: JSON.parse(data.join("\n")) };
    } catch {
      // a data line that is not JSON: nothing to show
    }
  }
}

async function generateVideo(model, prompt) {
  const first = state.inputs.first.map((item) => item.uri);
  const last = state.inputs.last.map((item) => item.uri);
  if (last.length && !first.length) {
    showError({ local: t("need_first_frame") });
    setStatus(null);
    return;
  }
  const body = {
    model: model.id,
    prompt,
    ratio: $("video-ratio").value,
    resolution: $("resolution").value,
    duration: Number($("duration").value),
    async: true,
  };
  if (first.length) body.images = [...first, ...last];
  const response = await fetch("/v1/videos/generations", {
    method: "POST",
    headers: headers(),
    body: JSON.stringify(body),
  });
  if (!response.ok) return refused(response, "video", model.id, prompt);
  const accepted = await response.json();
  const entry = newEntry("video", model.id, prompt);
  entry.ids = [accepted.history_id || accepted.id];
  setHistory(entry.ids);
  setStatus("submitted");
  saveEntry(entry);
  const started = Date.now();
  for (;;) {
    const elapsed = (Date.now() - started) / 1000;
    await sleep(elapsed < 30 ? 1500 : elapsed < 120 ? 5000 : 10000);
    const task = await fetchTask(entry.ids[0]);
    if (task.error && !task.status) {
      showError(task.error);
      setStatus(null);
      return;
    }
    applyTask(entry, task);
    saveEntry(entry);
    if (task.status === "succeeded") {
      showVideo(entry.urls[0]);
      setStatus("done_video");
      return;
    }
    if (task.status === "failed") {
      showError(task.error || { code: "generation_failed", history_id: entry.ids[0] });
      setStatus(null);
      return;
    }
    setStatus("progress", {
      phase: task.status === "queued" ? "queued" : "running",
      position: task.queue_position,
      length: task.queue_length,
      eta: task.eta_seconds, // a video's progress counts items, not images: not shown
    });
  }
}

function showVideo(url) {
  const video = document.createElement("video");
  video.controls = true;
  video.src = url;
  const link = document.createElement("a");
  link.href = url;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  link.textContent = t("open");
  $("video").replaceChildren(video, document.createElement("br"), link);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function fetchTask(id) {
  const response = await fetch(`/v1/tasks/${encodeURIComponent(id)}`, { headers: headers(false) });
  if (!response.ok) return { error: await errorOf(response) };
  return response.json();
}

function applyTask(entry, task) {
  entry.status = task.status || entry.status;
  if (task.data) entry.urls = task.data.map((item) => item.url);
}

// -- the gallery (this browser's results, in localStorage) ------------------------------------------------------

function loadGallery() {
  try {
    const entries = JSON.parse(localStorage.getItem(STORE.gallery) || "[]");
    return Array.isArray(entries) ? entries : [];
  } catch {
    return [];
  }
}

function newEntry(kind, model, prompt) {
  return { key: `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, kind, model, prompt, created: Date.now(),
    ids: [], status: "submitted", urls: [], thumbs: [] }; // prettier-ignore
}

function saveEntry(entry) {
  if (!entry.ids.length) return;
  const entries = loadGallery().filter((other) => other.key !== entry.key);
  entries.unshift(entry);
  storeGallery(entries.slice(0, MAX_GALLERY));
  renderGallery();
}

function storeGallery(entries) {
  for (let keep = entries.length; keep >= 0; keep -= 1) {
    try {
      localStorage.setItem(STORE.gallery, JSON.stringify(entries.slice(0, keep)));
      return;
    } catch {
      // over the browser's quota: drop the oldest entries
    }
  }
}

function renderGallery() {
  const entries = loadGallery();
  const list = $("gallery");
  if (!entries.length) {
    const empty = document.createElement("li");
    empty.className = "note";
    empty.textContent = t("empty_gallery");
    list.replaceChildren(empty);
    return;
  }
  list.replaceChildren(...entries.map(galleryItem));
}

function galleryItem(entry) {
  const item = document.createElement("li");
  item.dataset.history = entry.ids.join(",");
  const text = document.createElement("div");
  const prompt = document.createElement("div");
  prompt.className = "prompt";
  prompt.textContent = entry.prompt;
  const meta = document.createElement("div");
  meta.className = "meta";
  const when = new Date(entry.created).toLocaleString(state.lang === "zh" ? "zh-CN" : "en");
  meta.textContent = [t(`kind_${entry.kind}`), entry.model, when, `${t("history")} ${entry.ids.join(", ")}`,
    t(`status_${entry.status}`)].join(" · "); // prettier-ignore
  const links = document.createElement("div");
  links.className = "links";
  entry.urls.filter(Boolean).forEach((url, index) => {
    const link = document.createElement("a");
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.textContent = `${t("open")} ${index + 1}`;
    links.append(link);
  });
  text.append(prompt, meta, links);
  const refresh = document.createElement("button");
  refresh.type = "button";
  refresh.className = "refresh";
  refresh.textContent = t("refresh");
  refresh.addEventListener("click", () => refreshEntry(entry, refresh));
  const thumbs = document.createElement("div");
  thumbs.className = "thumbs";
  const shown = entry.fresh ? entry.urls : entry.thumbs;
  for (const src of shown.filter(Boolean)) {
    if (entry.kind === "video") continue;
    const img = document.createElement("img");
    img.src = src;
    img.alt = entry.prompt;
    thumbs.append(img);
  }
  item.append(text, refresh, thumbs);
  return item;
}

async function refreshEntry(entry, button) {
  button.disabled = true;
  showError(null);
  try {
    const urls = [];
    let status = "succeeded";
    for (const id of entry.ids) {
      const task = await fetchTask(id);
      if (task.error && !task.status) {
        showError(task.error);
        return;
      }
      if (task.status !== "succeeded") status = task.status === "failed" && status === "succeeded" ? "failed" : task.status;
      urls.push(...(task.data || []).map((item) => item.url));
    }
    const entries = loadGallery();
    const stored = entries.find((other) => other.key === entry.key);
    if (stored) {
      stored.status = status;
      if (urls.length) stored.urls = urls;
      storeGallery(entries);
    }
    renderGallery();
    // the fresh files, shown once in this list (the stored thumbnails stay small)
    const item = [...$("gallery").children].find((li) => li.dataset.history === entry.ids.join(","));
    if (item && urls.length && entry.kind === "image") item.replaceWith(galleryItem({ ...stored, urls, fresh: true }));
  } catch (err) {
    showError({ local: t("network_error", err.message) });
  } finally {
    button.disabled = false;
  }
}

// -- start -----------------------------------------------------------------------------------------------------

function start() {
  $("session").value = localStorage.getItem(STORE.session) || "";
  $("session").addEventListener("change", () => {
    if (session()) localStorage.setItem(STORE.session, session());
    else localStorage.removeItem(STORE.session);
    loadModels();
  });
  $("show-session").addEventListener("click", () => {
    $("session").type = $("session").type === "password" ? "text" : "password";
    $("show-session").textContent = $("session").type === "password" ? t("show") : t("hide");
  });
  $("forget-session").addEventListener("click", () => {
    $("session").value = "";
    localStorage.removeItem(STORE.session);
    loadModels();
  });
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.addEventListener("click", () => {
      localStorage.setItem(STORE.lang, button.dataset.lang);
      applyLanguage(button.dataset.lang);
    });
  }
  $("model").addEventListener("change", renderOptions);
  $("tier").addEventListener("change", renderOptions);
  $("form").addEventListener("submit", generate);
  $("clear-gallery").addEventListener("click", () => {
    localStorage.removeItem(STORE.gallery);
    renderGallery();
  });
  wireDrops();
  applyLanguage(pickLanguage());
  loadModels().then(() => document.body.setAttribute("data-ready", "1"));
}

start();
