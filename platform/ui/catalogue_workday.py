"""UI strings of the desk's working-day tools (issue 21): macros, followers and CCs,
saved views and notification preferences, in English and Simplified Chinese (merged
into `ui.catalogue.CATALOGUE`)."""

from __future__ import annotations

__all__ = ["WORKDAY_ENTRIES"]

WORKDAY_ENTRIES: dict[str, tuple[str, str]] = {
    # Macros
    "macro.choose": ("Macro", "快捷回复"),
    "macro.preview": ("Preview", "预览"),
    "macro.heading": ("Macro: {name}", "快捷回复：{name}"),
    "macro.will": ("Applying it will:", "应用后将："),
    "macro.sets": ("set {field} to {value}", "将{field}设为{value}"),
    "macro.tags": ("add the tags {tags}", "添加标签 {tags}"),
    "macro.transition": ("then take “{transition}”", "然后执行“{transition}”"),
    "macro.reply": ("Reply", "回复"),
    "macro.reply_help": (
        "Filled in from the macro: edit it as you like before sending. Markdown allowed.",
        "已按快捷回复填写，发送前可随意修改。支持 Markdown。",
    ),
    "macro.apply": ("Use macro", "使用快捷回复"),
    "macro.applied": ("Macro applied.", "快捷回复已应用。"),
    "macro.refused": ("The macro could not be applied:", "无法应用快捷回复："),
    "macro.part.macro": ("Macro", "快捷回复"),
    "macro.part.transition": ("Transition", "流转"),
    "macro.part.priority": ("Priority", "优先级"),
    "macro.part.tags": ("Tags", "标签"),
    "macro.bulk": ("Macro", "快捷回复"),
    "macro.bulk_help": (
        "Each ticket gets the macro's reply filled in for it; a ticket it cannot be "
        "applied to is listed with the reason, the others are done.",
        "每张工单都会收到为其填写的回复；无法应用的工单会列出原因，其余照常完成。",
    ),
    # Followers and CC
    "event.follower_added": ("started following", "开始关注"),
    "event.follower_removed": ("stopped following", "取消关注"),
    "event.cc_added": ("copied in {name}", "抄送了 {name}"),
    "event.cc_removed": ("stopped copying in {name}", "取消抄送 {name}"),
    "event.macro_applied": ("applied the macro “{name}”", "应用了快捷回复“{name}”"),
    "follow.heading": ("Followers and CC", "关注者与抄送"),
    "follow.follow": ("Follow", "关注"),
    "follow.unfollow": ("Unfollow", "取消关注"),
    "follow.followers": ("Following", "关注者"),
    "follow.now_following": (
        "You follow this ticket: you will hear of every update, internal notes too.",
        "您已关注此工单：所有更新（包括内部备注）都会通知您。",
    ),
    "follow.stopped": ("You no longer follow this ticket.", "您已取消关注此工单。"),
    "follow.unchanged": ("Nothing changed.", "没有变化。"),
    "cc.heading": ("Copied in", "抄送"),
    "cc.none": ("Nobody is copied in.", "没有抄送任何人。"),
    "cc.add": ("Copy in a colleague (email)", "抄送同事（邮箱）"),
    "cc.help": (
        "They get the public updates and may view the ticket as its requester does.",
        "对方会收到公开的更新，并可像提交人一样查看此工单。",
    ),
    "cc.add_button": ("Copy in", "抄送"),
    "cc.remove": ("Remove", "移除"),
    "cc.added": ("Copied in.", "已抄送。"),
    "cc.already": ("That person already hears of this ticket.", "此人已在接收此工单的通知。"),
    "cc.removed": ("No longer copied in.", "已取消抄送。"),
    # Saved views
    "views.mine": ("My views", "我的视图"),
    "views.help": (
        "Your own saved filters: only you see them. Open one, rename it or delete it.",
        "您保存的筛选条件，仅您可见。可打开、重命名或删除。",
    ),
    "views.none": ("You have no saved views yet.", "您还没有保存的视图。"),
    "views.none_yet": ("None yet", "暂无"),
    "views.manage": ("Manage my views", "管理我的视图"),
    "views.new_name": ("Name", "名称"),
    "views.rename": ("Rename", "重命名"),
    "views.delete": ("Delete", "删除"),
    "views.columns": ("Columns", "显示列"),
    "views.save_as": ("Save this filter as a view", "将当前筛选保存为视图"),
    "views.name_hint": ("e.g. My urgent network tickets", "例如：我的紧急网络工单"),
    "views.save": ("Save view", "保存视图"),
    # Notification preferences
    "notify.heading": ("Notifications", "通知"),
    "notify.mail": ("Send me mail about tickets", "通过邮件通知我工单动态"),
    "notify.kinds": ("What to hear of by mail", "通过邮件接收的内容"),
    "notify.kind.created": ("A ticket is received", "工单已受理"),
    "notify.kind.reply": ("Public replies", "公开回复"),
    "notify.kind.note": ("Internal notes (followed tickets)", "内部备注（已关注的工单）"),
    "notify.kind.state": (
        "State changes (resolved, followed tickets)",
        "状态变化（已解决、已关注的工单）",
    ),
    "notify.kind.sla": ("SLA warnings", "SLA 预警"),
    "notify.kind.rule": (
        "Mails sent by rules (approvals, surveys…)",
        "规则发送的邮件（审批、满意度调查等）",
    ),
    "notify.help": (
        "Mails about your account (password and sign-up links) always come.",
        "账户相关邮件（密码与注册链接）总会发送。",
    ),
    "notify.save": ("Save preferences", "保存偏好"),
    "notify.saved": ("Notification preferences saved.", "通知偏好已保存。"),
}
