"""The UI's own strings, in English and Simplified Chinese (config labels are not here).

Keys are grouped by page (`login.*`, `desk.*`, `ticket.*`…); `common.*` and `error.*`
are shared. Another engineer's page adds its keys here (or to a catalogue of its own
merged in below) in both languages; `tests/ui/test_i18n.py` checks that every key used
in a template exists with both.
"""

from __future__ import annotations

from collections.abc import Mapping

from gongdan.ui.catalogue_account import ACCOUNT_ENTRIES
from gongdan.ui.catalogue_admin import ADMIN_ENTRIES
from gongdan.ui.catalogue_desk import DESK_ENTRIES
from gongdan.ui.catalogue_editors import EDITOR_ENTRIES
from gongdan.ui.catalogue_password import PASSWORD_ENTRIES
from gongdan.ui.catalogue_portal import PORTAL_ENTRIES
from gongdan.ui.catalogue_queues import QUEUE_ENTRIES
from gongdan.ui.catalogue_reports import REPORT_ENTRIES
from gongdan.ui.catalogue_security import SECURITY_ENTRIES
from gongdan.ui.catalogue_workday import WORKDAY_ENTRIES

__all__ = ["CATALOGUE"]

_ENTRIES: dict[str, tuple[str, str]] = {
    # Shared words.
    "app.name": ("Gongdan", "工单"),
    "common.skip": ("Skip to main content", "跳到主要内容"),
    "common.language": ("Language", "语言"),
    "common.switch_language": ("Switch language", "切换语言"),
    "common.save": ("Save", "保存"),
    "common.cancel": ("Cancel", "取消"),
    "common.submit": ("Submit", "提交"),
    "common.required": ("required", "必填"),
    "common.optional": ("optional", "选填"),
    "common.none": ("None", "无"),
    "common.choose": ("Choose…", "请选择…"),
    "common.yes": ("Yes", "是"),
    "common.no": ("No", "否"),
    "common.back": ("Back", "返回"),
    "common.edit": ("Edit", "编辑"),
    "common.close": ("Close", "关闭"),
    "common.remove": ("Remove", "移除"),
    "common.download": ("Download", "下载"),
    "common.utc": ("UTC", "UTC"),
    "common.loading": ("Working…", "处理中…"),
    # Navigation.
    "nav.main": ("Main", "主导航"),
    "nav.desk": ("Desk", "工作台"),
    "nav.queues": ("Queues", "队列"),
    "nav.new_ticket": ("New ticket", "新建工单"),
    "nav.portal": ("Portal", "服务门户"),
    "nav.signed_in_as": ("Signed in as {name}", "当前用户：{name}"),
    "nav.logout": ("Sign out", "退出登录"),
    "nav.login": ("Sign in", "登录"),
    # Sign-in.
    "login.title": ("Sign in", "登录"),
    "login.intro": ("Sign in to work on tickets.", "登录后处理工单。"),
    "login.email": ("Email", "邮箱"),
    "login.password": ("Password", "密码"),
    "login.submit": ("Sign in", "登录"),
    "login.failed": ("Wrong email or password.", "邮箱或密码错误。"),
    "login.signed_out": ("You are signed out.", "您已退出登录。"),
    # Errors.
    "error.title": ("Something is not right", "出现问题"),
    "error.not_found": ("Not found", "未找到"),
    "error.not_found_text": (
        "This page does not exist, or you may not see it.",
        "页面不存在，或您无权查看。",
    ),
    "error.forbidden": ("Not allowed", "无权操作"),
    "error.forbidden_text": ("You may not do this.", "您没有执行此操作的权限。"),
    "error.csrf": ("Your session has expired", "会话已过期"),
    "error.csrf_text": (
        "The form was sent without a valid security token (it may be from an old tab). "
        "Reload the page and try again.",
        "表单缺少有效的安全令牌（可能来自旧页面）。请刷新页面后重试。",
    ),
    "error.conflict": ("Changed by someone else", "已被他人修改"),
    "error.conflict_text": (
        "Someone else changed this at the same time. Reload to see their change, then try again.",
        "他人同时修改了此内容。请刷新查看最新内容后重试。",
    ),
    "error.transition": ("This step cannot be taken now", "当前无法执行此操作"),
    "error.too_many": ("Too many requests", "请求过于频繁"),
    "error.too_many_text": (
        "Too many requests came from your address. Please wait a little and try again in:",
        "来自您网络地址的请求过多。请稍后再试，等待时间：",
    ),
    "error.invalid": ("Please correct the highlighted fields", "请修改标出的字段"),
    "error.bad_request": ("The request was not understood", "请求无法识别"),
    "error.reload": ("Reload the page", "刷新页面"),
    "error.home": ("Go to the start page", "返回首页"),
    "error.staff_only": ("The desk is for agents", "工作台仅限客服人员使用"),
    # Built-in fields.
    "field.title": ("Title", "标题"),
    "field.description": ("Description", "描述"),
    "field.priority": ("Priority", "优先级"),
    "field.team": ("Team", "团队"),
    "field.assignee": ("Assignee", "处理人"),
    "field.tags": ("Tags", "标签"),
    "field.tags_help": ("Separate tags with commas.", "多个标签用逗号分隔。"),
    "field.requester": ("Requester", "提交人"),
    "field.requester_help": (
        "Email of the person the ticket is for; empty for yourself.",
        "工单所属人员的邮箱；留空表示您本人。",
    ),
    "field.state": ("State", "状态"),
    "field.type": ("Type", "类型"),
    "priority.low": ("Low", "低"),
    "priority.normal": ("Normal", "普通"),
    "priority.high": ("High", "高"),
    "priority.urgent": ("Urgent", "紧急"),
    "field.error_prefix": ("Error:", "错误："),
    "field.upload": ("Upload a file", "上传文件"),
    "field.uploading": ("Uploading", "上传中"),
    "field.max_size": ("At most {size} MB per file.", "每个文件不超过 {size} MB。"),
    "field.accepts": ("Accepted: {types}", "允许的类型：{types}"),
    "field.datetime_help": ("In your browser's time zone.", "按浏览器所在时区。"),
    "field.markdown_help": ("Markdown formatting is supported.", "支持 Markdown 格式。"),
    "field.unassigned": ("Unassigned", "未分配"),
    "field.no_team": ("No team", "无团队"),
    # Desk.
    "desk.new_title": ("New ticket", "新建工单"),
    "desk.choose_type": ("What kind of ticket?", "选择工单类型"),
    "desk.create": ("Create ticket", "创建工单"),
    # Why a transition was refused, with labels (ui/refusals.py; files21).
    "refusal.from_state": (
        "“{transition}” cannot be taken in state “{state}” (only from: {sources})",
        "状态为“{state}”时不能执行“{transition}”（仅限：{sources}）",
    ),
    "refusal.roles": ("“{transition}” is for {roles} only", "“{transition}”仅限{roles}执行"),
    "refusal.conditions": (
        "the conditions of “{transition}” are not met",
        "不满足“{transition}”的条件",
    ),
    "refusal.not_in_workflow": (
        "“{transition}” is not a step of this ticket's workflow",
        "此工单的流程中没有“{transition}”",
    ),
    "macro.assignee_me": ("you (whoever applies it)", "您（应用此快捷回复的人）"),
    "refusal.not_asked": ("is not asked for by “{transition}”", "“{transition}”不需要填写此项"),
    # Ticket page.
    "ticket.fields": ("Fields", "字段"),
    "ticket.save_fields": ("Save fields", "保存字段"),
    "ticket.saved": ("Saved.", "已保存。"),
    "ticket.actions": ("Actions", "操作"),
    "ticket.no_actions": ("No steps you can take now.", "当前没有可执行的操作。"),
    "ticket.timeline": ("Timeline", "动态"),
    "ticket.reply": ("Reply", "回复"),
    "ticket.reply_body": ("Message", "内容"),
    "ticket.public_reply": ("Public reply (the requester sees it)", "公开回复（提交人可见）"),
    "ticket.internal_note": ("Internal note (agents only)", "内部备注（仅客服可见）"),
    "ticket.send": ("Send", "发送"),
    "ticket.internal": ("Internal", "内部"),
    "ticket.public": ("Public", "公开"),
    "ticket.comment": ("Comment", "说明"),
    "ticket.comment_required": ("A comment is required for this step.", "此操作需要填写说明。"),
    "ticket.assign": ("Assignment", "分派"),
    "ticket.assign_save": ("Assign", "分派"),
    "ticket.assign_me": ("Assign to me", "分派给我"),
    "ticket.sla": ("Service levels", "服务时效"),
    "ticket.sla_none": ("No SLA applies.", "无适用的服务时效。"),
    "ticket.sla_explain": ("Why this deadline?", "截止时间如何计算？"),
    "ticket.sla_left": ("{time} left", "剩余 {time}"),
    "ticket.sla_over": ("{time} overdue", "已超时 {time}"),
    "ticket.sla_met": ("Met", "已达成"),
    "ticket.sla_breached": ("Breached", "已超时"),
    "ticket.sla_paused": ("Paused", "已暂停"),
    "ticket.sla_due": ("Due {at}", "截止 {at}"),
    "ticket.sla_budget": (
        "Policy {policy} on calendar {calendar}: target {budget} of business time; {used} used so far.",
        "策略 {policy}，日历 {calendar}：目标为 {budget} 工作时间；已用 {used}。",
    ),
    "ticket.sla_counted": ("Business time counted", "已计入的工作时间"),
    "ticket.sla_pauses": ("Clock paused", "计时暂停"),
    "ticket.sla_paused_since": ("since {at} (still paused)", "自 {at} 起（仍在暂停）"),
    "ticket.sla_remaining": (
        "The remaining {left} runs in these working hours, so the deadline is {at}:",
        "剩余的 {left} 在以下工作时段内计算，因此截止时间为 {at}：",
    ),
    "ticket.sla_no_deadline": (
        "No deadline while the clock is stopped.",
        "计时停止期间没有截止时间。",
    ),
    "ticket.sla_first_response": ("First response", "首次响应"),
    "ticket.sla_next_response": ("Next response", "后续响应"),
    "ticket.sla_resolution": ("Resolution", "解决"),
    "ticket.attachments": ("Attachments", "附件"),
    "ticket.links": ("Related tickets", "关联工单"),
    "ticket.merged_into": ("Merged into {number}", "已合并至 {number}"),
    "ticket.requester": ("Requester", "提交人"),
    "ticket.created": ("Created", "创建时间"),
    "ticket.problems": ("Configuration problems", "配置问题"),
    "ticket.delivery": ("Notifications", "通知记录"),
    "event.created": ("created the ticket", "创建了工单"),
    "event.updated": ("changed fields", "修改了字段"),
    "event.assigned": ("changed the assignment", "修改了分派"),
    "event.transitioned": ("moved the ticket", "变更了状态"),
    "event.migrated": (
        "moved the ticket out of a state the new configuration removed",
        "因新配置删除了原状态，迁移了工单",
    ),
    "event.commented": ("commented", "发表了评论"),
    "event.other": ("recorded {kind}", "记录了 {kind}"),
    "event.system": ("System", "系统"),
    # Files on replies and file inputs (files21).
    "files.attach": ("Attach files", "添加附件"),
    "files.limits": (
        "Accepted: {types}; up to {size} MB each.",
        "可接受的类型：{types}；每个文件不超过 {size} MB。",
    ),
    "files.any_type": ("Any file type.", "任意文件类型。"),
    "files.pdf_preview": ("opens in a new tab", "在新标签页中打开"),
    "files.download": ("Download", "下载"),
}

CATALOGUE: Mapping[str, Mapping[str, str]] = {
    key: {"en": en, "zh-CN": zh}
    for key, (en, zh) in {
        **_ENTRIES,
        **PORTAL_ENTRIES,
        **QUEUE_ENTRIES,
        **PASSWORD_ENTRIES,
        **ACCOUNT_ENTRIES,
        **REPORT_ENTRIES,
        **DESK_ENTRIES,
        **WORKDAY_ENTRIES,
        **SECURITY_ENTRIES,
        **ADMIN_ENTRIES,
        **EDITOR_ENTRIES,
    }.items()
}
