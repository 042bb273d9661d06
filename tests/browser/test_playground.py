"""/playground in a real headless Chromium, against the service and the emulator: what a person clicks and sees."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Site
from tests.images import PNG

expect: Any = None


@pytest.fixture(autouse=True)
def _expect(browser: Any) -> None:
    global expect
    from playwright.sync_api import expect as playwright_expect

    expect = playwright_expect


def sign_in(page: Any, session: str = "browser-session-0001") -> None:
    page.fill("#session", session)
    page.dispatch_event("#session", "change")


def drop_png(page: Any, target: str, name: str = "photo.png") -> None:
    """Drag and drop a PNG file onto ``target``, as a person dropping a file from their desktop does."""
    transfer = page.evaluate_handle(
        """([b64, name]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "image/png" }));
            return transfer;
        }""",
        [base64.b64encode(PNG).decode(), name],
    )
    page.dispatch_event(target, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(target, "drop", {"dataTransfer": transfer})


def loaded_images(page: Any, selector: str) -> int:
    """How many images under ``selector`` the browser decoded (a broken or blocked image has no width)."""
    return int(
        page.locator(selector).evaluate_all("(images) => images.filter((i) => i.complete && i.naturalWidth).length")
    )


def test_generates_images_that_appear_as_they_stream_and_stay_in_the_gallery(
    open_page: Any, site: Site, screenshots: Path
) -> None:
    page = open_page()
    expect(page.locator("#generate")).to_have_text("Generate")
    expect(page.locator("#capabilities")).to_contain_text("images per request")
    sign_in(page)
    page.fill("#prompt", "a lighthouse at dusk, oil painting")
    page.select_option("#count", "2")
    page.click("#generate")

    expect(page.locator("#images img")).to_have_count(2, timeout=30_000)
    expect(page.locator("#status")).to_have_text("Done: 2 image(s).")
    history = page.text_content("#history-ids")
    assert history and history.isdigit()
    assert history in site.emulator.stats()["generations"]
    assert loaded_images(page, "#images img") == 2
    assert page.locator("#images img").first.get_attribute("src").startswith("blob:")
    entry = page.locator("#gallery li").first
    expect(entry).to_contain_text("a lighthouse at dusk, oil painting")
    expect(entry).to_contain_text(history)
    expect(entry).to_contain_text("succeeded")
    page.screenshot(path=str(screenshots / "playground-images.png"), full_page=True)

    page.reload()  # the gallery is this browser's: it survives a reload, and re-fetches by history id
    page.locator("body[data-ready='1']").wait_for()
    entry = page.locator(f"#gallery li[data-history='{history}']")
    expect(entry.locator(".thumbs img")).to_have_count(2)
    entry.locator("button.refresh").click()
    entry = page.locator(f"#gallery li[data-history='{history}']")
    expect(entry.locator(".thumbs img[src^='http']")).to_have_count(2)
    page.wait_for_load_state("networkidle")
    assert loaded_images(page, f"#gallery li[data-history='{history}'] .thumbs img") == 2  # the CSP lets them in


def test_an_expired_session_is_explained_in_words(open_page: Any) -> None:
    page = open_page()
    sign_in(page, "browser-session-expired")
    page.fill("#prompt", "a cat")
    page.click("#generate")
    expect(page.locator("#error-text")).to_contain_text("Your Jimeng session has expired", timeout=15_000)
    expect(page.locator("#error-text")).to_contain_text("paste the new sessionid")
    expect(page.locator("#error-details")).to_contain_text("session_expired")
    expect(page.locator("#images img")).to_have_count(0)


def test_image_to_image_from_a_dropped_file(open_page: Any, site: Site) -> None:
    page = open_page()
    sign_in(page)
    drop_png(page, "#inputs-drop")
    expect(page.locator("#inputs-previews img")).to_have_count(1)
    page.fill("#prompt", "make it watercolour")
    page.select_option("#count", "1")
    page.click("#generate")
    expect(page.locator("#images img")).to_have_count(1, timeout=30_000)
    expect(page.locator("#status")).to_have_text("Done: 1 image(s).")
    generation = site.emulator.stats()["generations"][page.text_content("#history-ids")]
    assert len(generation["image_uris"]) == 1, generation  # the dropped file, uploaded to ImageX


def test_a_video_from_a_first_frame_in_chinese(open_page: Any, site: Site, screenshots: Path) -> None:
    page = open_page("zh-CN")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#generate")).to_have_text("生成")
    expect(page.locator("label[for='prompt']")).to_have_text("提示词")
    sign_in(page)
    page.select_option("#model", "jimeng-video-seedance-2.0-fast")
    expect(page.locator("#video-options")).to_be_visible()
    expect(page.locator("#image-options")).to_be_hidden()
    expect(page.locator("#capabilities")).to_contain_text("首尾帧：首帧, 尾帧")
    page.set_input_files("#first-file", files=[{"name": "first.png", "mimeType": "image/png", "buffer": PNG}])
    expect(page.locator("#first-previews img")).to_have_count(1)
    page.fill("#prompt", "纸船顺着小河漂流")
    page.select_option("#duration", "5")
    page.click("#generate")
    expect(page.locator("#status")).to_have_text("完成：视频已生成。", timeout=30_000)
    expect(page.locator("#video video")).to_have_count(1)
    assert page.locator("#video video").get_attribute("src").startswith(site.emulator.url)
    history = page.text_content("#history-ids")
    assert len(site.emulator.stats()["generations"][history]["image_uris"]) == 1  # the first frame
    expect(page.locator("#gallery li").first).to_contain_text("视频")
    page.screenshot(path=str(screenshots / "playground-video-zh.png"), full_page=True)

    page.click("[data-lang='en']")  # switchable, and remembered
    expect(page.locator("#generate")).to_have_text("Generate")
    expect(page.locator("#status")).to_have_text("Done: the video is ready.")
    page.reload()
    expect(page.locator("#generate")).to_have_text("Generate")


def test_errors_are_in_chinese_too(open_page: Any) -> None:
    page = open_page("zh-CN")
    page.click("#generate")
    expect(page.locator("#status")).to_have_text("请先粘贴即梦的 sessionid。")
    sign_in(page, "browser-session-expired")
    page.fill("#prompt", "一只猫")
    page.click("#generate")
    expect(page.locator("#error-text")).to_contain_text("你的即梦登录已过期", timeout=15_000)


def test_failures_after_and_before_the_submission_are_explained(open_page: Any) -> None:
    page = open_page()
    sign_in(page)
    page.fill("#prompt", "a cat [filter]")  # accepted by Jimeng, then refused by its moderation: a stream error event
    page.select_option("#count", "1")
    page.click("#generate")
    expect(page.locator("#error-text")).to_contain_text("Jimeng's moderation refused", timeout=30_000)
    history = page.text_content("#history-ids")
    assert history
    expect(page.locator("#error-text")).to_contain_text(f"The generation {history} exists at Jimeng")
    expect(page.locator(f"#gallery li[data-history='{history}']")).to_contain_text("failed")

    page.fill("#prompt", "a cat [ret=1010]")  # refused at the submission: a plain 429 before any stream
    page.click("#generate")
    expect(page.locator("#error-text")).to_contain_text("already runs as many generations as it may", timeout=30_000)
    expect(page.locator("#error-details")).to_contain_text("concurrency_limit")
