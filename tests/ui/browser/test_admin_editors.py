"""A ticket type defined end to end in the browser (issue 19): on a real `gongdan serve`
whose config folder is a git work tree, an admin builds a three-state workflow with an
approval step, the ticket type "Office move request" (搬迁申请) with four fields (one
shown only when another is ticked), an SLA policy and a routing rule to field service,
each saved with a message; git has the commits with the admin as author. Then, with no
restart, a requester files one in the portal (the conditional field appears as it
should) and a field service agent finds it in their queue and takes it through the
workflow. With GONGDAN_SCREENSHOTS=1 each editor is photographed for docs/screenshots."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gongdan.ui.routes.admin.visual.controls import dom_id
from tests.bundles import EXAMPLE
from tests.ui.browser.conftest import demo_server, sized_page

ADMIN, REQUESTER, AGENT = "admin@example.com", "zhang.san@example.com", "yang.lei@example.com"
TABLET = {"width": 820, "height": 1180}


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _swaps(page: Any) -> int:
    return int(page.evaluate("+(document.body.getAttribute('data-editor-swaps') || 0)"))


def _settled(page: Any, before: int) -> None:
    """Wait until the editor came back once more (editors.js counts its swaps)."""
    page.locator(f'body[data-editor-swaps="{before + 1}"]').wait_for(state="attached")


def edit(page: Any, path: str, value: str) -> None:
    """Type into the control of `path` and leave it: the editor comes back checked."""
    before = _swaps(page)
    control = page.locator(f"#{dom_id(path)}")
    control.fill(value)
    control.dispatch_event("change")
    _settled(page, before)


def pick(page: Any, path: str, value: str) -> None:
    before = _swaps(page)
    page.locator(f"#{dom_id(path)}").select_option(value)
    _settled(page, before)


def tick(page: Any, path: str, value: str, *, on: bool = True) -> None:
    before = _swaps(page)
    box = page.locator(f'input[type=checkbox][name="{path}"][value="{value}"]')
    box.check() if on else box.uncheck()
    _settled(page, before)


def press(page: Any, op: str) -> None:
    before = _swaps(page)
    page.locator(f'button[name="_op"][value="{op}"]').click()
    _settled(page, before)


def label(page: Any, path: str, en: str, zh: str) -> None:
    edit(page, f"{path}@en", en)
    edit(page, f"{path}@zh-CN", zh)


def save(page: Any, message: str) -> None:
    """Review the diff and plan, then save with `message`."""
    expect = _expect()
    expect(page.locator(".ed-status .ok")).to_be_visible()
    page.locator("#ed-message").fill(message)
    before = _swaps(page)
    page.locator("#ed-save").click()
    _settled(page, before)
    expect(page.locator("#proposal #diff-title")).to_be_visible()
    expect(page.locator("#proposal #plan-title")).to_be_visible()
    before = _swaps(page)
    page.locator("#ed-save").click()
    _settled(page, before)
    expect(page.locator(".ed-status .notice")).to_contain_text("Saved and active")


def sign_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=folder, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def site(tmp_path: Path) -> Any:
    """A server of its own on a copy of the example config made a git work tree."""
    config = tmp_path / "config"
    shutil.copytree(EXAMPLE, config)
    _git(config, "init", "-q")
    _git(config, "add", "-A")
    _git(config, "-c", "user.name=Setup", "-c", "user.email=setup@example.com",
         "commit", "-qm", "The example config")  # fmt: skip
    (tmp_path / "server").mkdir()
    with demo_server(tmp_path / "server", "editor-tests", config=config) as base:
        yield base, config


def build_workflow(page: Any, shots: Path) -> None:
    page.goto("/admin/editors/workflows/new")
    edit(page, "id", "office_move")
    label(page, "name", "Office move", "办公室搬迁")
    edit(page, "_state[0]", "requested")
    edit(page, "_state[1]", "moved")
    press(page, "add-state")
    edit(page, "_state[2]", "approved")
    label(page, "states.requested.label", "Requested", "已申请")
    label(page, "states.approved.label", "Approved", "已批准")
    label(page, "states.moved.label", "Moved", "已搬迁")
    # The approval: a team agent approves with a comment.
    edit(page, "transitions[0].id", "approve")
    label(page, "transitions[0].label", "Approve", "批准")
    pick(page, "transitions[0].to", "approved")
    edit(page, "transitions[0].roles", "agent")
    pick(page, "transitions[0].comment", "required")
    # Its action as a row: the kind from the list, then that kind's inputs.
    page.locator(f"#{dom_id('transitions[0].actions::new')}").select_option("notify")
    press(page, "act|add|transitions[0].actions")
    edit(page, "transitions[0].actions::0:notify", "requester")
    press(page, "add-transition")
    edit(page, "transitions[1].id", "complete")
    label(page, "transitions[1].label", "Move done", "搬迁完成")
    tick(page, "transitions[1].from", "approved")
    tick(page, "transitions[1].from", "requested", on=False)
    pick(page, "transitions[1].to", "moved")
    _expect()(page.locator('.ed-diagram svg [data-transition="complete"]').first).to_be_attached()
    page.screenshot(path=str(shots / "editor-workflow.png"), full_page=True)
    save(page, "Office moves: request, approval, done")


def build_ticket_type(page: Any, shots: Path) -> None:
    expect = _expect()
    page.goto("/admin/editors/ticket_types/new")
    edit(page, "id", "office_move")
    label(page, "name", "Office move request", "搬迁申请")
    edit(page, "key_prefix", "MOVE")
    pick(page, "workflow", "office_move")
    fields = [
        ("from_office", "text", "Current office", "当前办公室"),
        ("move_date", "date", "Moving date", "搬迁日期"),
        ("needs_it", "boolean", "IT equipment to move", "需要搬迁 IT 设备"),
        ("it_items", "textarea", "Which IT equipment", "IT 设备清单"),
    ]
    for index, (field_id, type_name, en, zh) in enumerate(fields):
        press(page, "add-field")
        p = f"fields[{index}]"
        edit(page, f"{p}.id", field_id)
        pick(page, f"{p}.type", type_name)
        label(page, f"{p}.label", en, zh)
    tick(page, "fields[0].required", "true")
    # it_items only when needs_it is ticked: one row, field · operator · value.
    press(page, "cond|row|fields[3].visible_if|0")
    pick(page, "fields[3].visible_if::0.0:f", "needs_it")
    edit(page, "fields[3].visible_if::0.0:v", "true")
    reorder_with_keyboard_and_mouse(page)
    preview = page.locator(".ed-preview")
    expect(preview).to_contain_text("Current office")
    expect(preview).to_contain_text("当前办公室")
    expect(page.locator("#preview-en-it_items")).to_be_hidden()
    # Ticked in the preview, the conditional field appears as in the portal.
    page.locator("#preview-en-needs_it-input").check()
    expect(page.locator("#preview-en-it_items")).to_be_visible()
    page.locator("#preview-en-needs_it-input").uncheck()
    expect(page.locator("#preview-en-it_items")).to_be_hidden()
    page.screenshot(path=str(shots / "editor-ticket-type.png"), full_page=True)
    page.set_viewport_size(TABLET)
    page.screenshot(path=str(shots / "editor-ticket-type-tablet.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    save(page, "Office move request (搬迁申请)")


def drag(page: Any, source: str, target: str) -> None:
    """Drag the handle of `source` onto `target` with the mouse, in steps, as a person
    does (editors.js follows pointer events, which a real mouse drives). The window is
    made tall enough to show both items (a field with all its options is tall)."""
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": 2400})
    grip = page.locator(f"{source} [data-reorder-handle]").first
    grip.scroll_into_view_if_needed()
    start = grip.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    end = page.locator(target).first.bounding_box()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    _expect()(page.locator(f"{target}.drop-target")).to_have_count(1)
    page.mouse.up()
    page.set_viewport_size(size)


def reorder_with_keyboard_and_mouse(page: Any) -> None:
    """Fields move with Alt+↑/Alt+↓ on their handle (focus follows the field) and by
    dragging with the mouse."""
    expect = _expect()
    items = 'ol[data-reorder="move-field"] > li'
    before = _swaps(page)
    page.locator(f'{items}[data-index="3"] [data-reorder-handle]').focus()
    page.keyboard.press("Alt+ArrowUp")
    _settled(page, before)
    expect(page.locator(f"#{dom_id('fields[2].id')}")).to_have_value("it_items")
    handle = page.locator(f'{items}[data-index="2"] [data-reorder-handle]')
    expect(handle).to_be_focused()
    before = _swaps(page)
    page.keyboard.press("Alt+ArrowDown")
    _settled(page, before)
    expect(page.locator(f"#{dom_id('fields[3].id')}")).to_have_value("it_items")
    before = _swaps(page)
    drag(page, f'{items}[data-index="1"]', f'{items}[data-index="0"]')
    _settled(page, before)
    expect(page.locator(f"#{dom_id('fields[0].id')}")).to_have_value("move_date")
    before = _swaps(page)
    drag(page, f'{items}[data-index="0"]', f'{items}[data-index="1"]')
    _settled(page, before)
    expect(page.locator(f"#{dom_id('fields[0].id')}")).to_have_value("from_office")


def build_sla_and_routing(page: Any, shots: Path) -> None:
    page.goto("/admin/editors/sla/new")
    edit(page, "id", "office_move_sla")
    label(page, "name", "Office moves", "办公室搬迁")
    press(page, "cond|row|applies_when|0")
    pick(page, "applies_when::0.0:f", "type")
    edit(page, "applies_when::0.0:v", "office_move")
    edit(page, "targets.resolution.normal", "5d")
    # An escalation: at 80 % of the resolution target, its action a row.
    press(page, "add-escalation")
    edit(page, "escalations[0].actions::0:template", "sla_warning")
    page.screenshot(path=str(shots / "editor-sla.png"), full_page=True)
    save(page, "SLA for office moves")

    page.goto("/admin/editors/calendars/cn_business")
    page.locator("#ed-start").fill("2026-09-30T17:00+08:00")
    page.locator("#ed-duration").fill("4h")
    page.get_by_role("button", name="Compute").click()
    _expect()(page.locator("#ed-deadline")).to_contain_text("2026-10-08T")
    page.screenshot(path=str(shots / "editor-calendar.png"), full_page=True)

    page.goto("/admin/editors/routing/default")
    press(page, "add-rule")
    label(page, "rules[0].name", "Office moves go to field service", "搬迁申请转现场服务")
    edit(page, "rules[0].when::0.0:v", "office_move")
    pick(page, "rules[0].assign.team", "field_service")
    pick(page, "rules[0].assign.strategy", "round_robin")
    # Dragged below the next rule with the mouse, and back up with the keyboard.
    rules = 'ol[data-reorder="move-rule"] > li'
    before = _swaps(page)
    drag(page, f'{rules}[data-index="0"]', f'{rules}[data-index="1"]')
    _settled(page, before)
    _expect()(page.locator(f"#{dom_id('rules[1].name@en')}")).to_have_value(
        "Office moves go to field service"
    )
    before = _swaps(page)
    page.locator(f'{rules}[data-index="1"] [data-reorder-handle]').focus()
    page.keyboard.press("Alt+ArrowUp")
    _settled(page, before)
    _expect()(page.locator(f"#{dom_id('rules[0].name@en')}")).to_have_value(
        "Office moves go to field service"
    )
    page.locator("#ed-test").fill("type: office_move")
    page.get_by_role("button", name="Test", exact=True).click()
    _expect()(page.locator("#ed-hit")).to_contain_text("Office moves go to field service")
    page.locator(".ed-item").first.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "editor-routing.png"))
    save(page, "Route office moves to field service")

    # An automation's actions as rows (the kinds and their inputs from the schema).
    page.goto("/admin/editors/automations/notify_team_on_breach")
    _expect()(page.locator(f"#{dom_id('actions::1:comment')}")).to_have_value(
        re.compile("^SLA breached")
    )
    page.screenshot(path=str(shots / "editor-automation.png"), full_page=True)


def file_a_move(page: Any) -> str:
    expect = _expect()
    sign_in(page, REQUESTER)
    page.goto("/portal/new/office_move")
    expect(page.locator("h1")).to_contain_text("Office move request")
    expect(page.locator("#new-it_items-input")).to_have_count(0)
    page.locator("#new-title-input").fill("Move to building B")
    page.locator("#new-from_office-input").fill("A-301")
    page.locator("#new-needs_it-input").check()
    expect(page.locator("#new-it_items-input")).to_be_visible()  # shown by the server
    page.locator("#new-it_items-input").fill("Two monitors and a docking station")
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r"/portal/tickets/MOVE-\d+"))
    return page.url.split("/portal/tickets/", 1)[1].split("?", 1)[0]


def work_it(page: Any, key: str) -> None:
    expect = _expect()
    sign_in(page, AGENT)
    page.goto("/desk/queues/my_teams")
    row = page.locator("table.queue tbody tr", has_text="Move to building B")
    expect(row).to_have_count(1)
    row.get_by_role("link", name=key).click()
    page.wait_for_url(re.compile(rf"/desk/tickets/{key}$"))
    expect(page.locator("#ticket-state")).to_have_text("Requested")
    page.locator('a[data-transition="approve"]').click()
    page.locator("#tr-comment-input").fill("Approved: building B has room.")
    page.locator("#transition").get_by_role("button", name="Approve").click()
    expect(page.locator("#ticket-state")).to_have_text("Approved")
    page.locator('[data-transition="complete"]').first.click()
    expect(page.locator("#ticket-state")).to_have_text("Moved")


def test_an_admin_defines_a_ticket_type_in_the_browser(
    browser: Any, site: tuple[str, Path], screenshots: Path
) -> None:
    base, config = site
    with sized_page(browser, base, "desktop", 30_000) as page:
        sign_in(page, ADMIN)
        build_workflow(page, screenshots)
        build_ticket_type(page, screenshots)
        build_sla_and_routing(page, screenshots)
    log = _git(config, "log", "--format=%an <%ae>|%s", "-5")
    assert "Admin <admin@example.com>|Office move request (搬迁申请)" in log
    assert "Admin <admin@example.com>|Office moves: request, approval, done" in log
    assert "Admin <admin@example.com>|Route office moves to field service" in log
    assert (config / "ticket_types" / "office_move.yaml").is_file()
    with sized_page(browser, base, "desktop", 30_000) as page:
        key = file_a_move(page)
    with sized_page(browser, base, "desktop", 30_000) as page:
        work_it(page, key)
