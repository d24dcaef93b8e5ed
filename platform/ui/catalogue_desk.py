"""The desk's strings for relating tickets (link, merge, split) and searching, in English
and Simplified Chinese (merged into `ui.catalogue.CATALOGUE`)."""

from __future__ import annotations

__all__ = ["DESK_ENTRIES"]

DESK_ENTRIES: dict[str, tuple[str, str]] = {
    # A link as read from the ticket it is shown on (`engine.REVERSE_KINDS`).
    "link.relates": ("Relates to", "关联"),
    "link.duplicates": ("Duplicates", "重复于"),
    "link.duplicated_by": ("Duplicated by", "被重复"),
    "link.blocks": ("Blocks", "阻塞"),
    "link.blocked_by": ("Is blocked by", "被阻塞于"),
    "link.parent_of": ("Parent of", "父工单，子工单为"),
    "link.child_of": ("Child of", "子工单，父工单为"),
    "link.merged_into": ("Merged into", "已合并至"),
    "link.merged_from": ("Merged from", "合并自"),
    "link.split_from": ("Split from", "拆分自"),
    "link.split_into": ("Split into", "拆分出"),
    # Link or merge.
    "relate.open": ("Link or merge…", "关联或合并…"),
    "relate.title": ("Link or merge with another ticket", "与其他工单关联或合并"),
    "relate.find": ("Find the other ticket", "查找另一张工单"),
    "relate.find_hint": ("key or words of its title", "工单号或标题中的词"),
    "relate.find_button": ("Find", "查找"),
    "relate.target": ("The other ticket", "另一张工单"),
    "relate.type_to_find": ("Type a key or a title to find it.", "输入工单号或标题进行查找。"),
    "relate.no_candidates": ("No ticket you may see matches.", "没有您可查看的匹配工单。"),
    "relate.how": ("{number} …", "{number} …"),
    "relate.relates": ("relates to it", "与其相关"),
    "relate.duplicates": ("duplicates it", "与其重复"),
    "relate.duplicated_by": ("is duplicated by it", "被其重复"),
    "relate.blocks": ("blocks it", "阻塞它"),
    "relate.blocked_by": ("is blocked by it", "被它阻塞"),
    "relate.parent_of": ("is its parent", "是它的父工单"),
    "relate.child_of": ("is its child", "是它的子工单"),
    "relate.merge_into": ("is merged into it (this ticket closes)", "合并到它（本工单关闭）"),
    "relate.merge_from": ("absorbs it (the other ticket closes)", "吸收它（另一张工单关闭）"),
    "relate.submit": ("Continue", "继续"),
    "relate.choose_target": ("Choose the other ticket first.", "请先选择另一张工单。"),
    "relate.choose_action": ("Choose how the tickets relate.", "请选择两张工单的关系。"),
    "relate.not_found": ("No ticket you may see has that key.", "没有您可查看的该编号工单。"),
    "relate.linked": ("Linked.", "已关联。"),
    "relate.unlink": ("Unlink", "取消关联"),
    "relate.unlink_label": ("Unlink {ticket}", "取消与 {ticket} 的关联"),
    "relate.unlinked": ("Unlinked.", "已取消关联。"),
    "relate.merged": ("Merged.", "已合并。"),
    "relate.merge_confirm": ("Merge {source} into {survivor}?", "将 {source} 合并至 {survivor}？"),
    "relate.merge_closes": (
        "{source} “{title}” is closed and points to {survivor} from now on.",
        "{source}“{title}”将被关闭，此后指向 {survivor}。",
    ),
    "relate.merge_history": (
        "{survivor} shows the history of {source} in its own.",
        "{survivor} 的历史记录中将包含 {source} 的历史。",
    ),
    "relate.merge_stays": (
        "The comments and files of {source} stay on it; replies go on at {survivor}.",
        "{source} 的评论与附件保留在原工单；后续回复请在 {survivor} 中进行。",
    ),
    "relate.merge_notify": (
        "The people who follow {source} are told it was merged.",
        "关注 {source} 的人会收到合并通知。",
    ),
    "relate.confirm_merge": ("Merge", "确认合并"),
    # Split.
    "split.open": ("Split…", "拆分…"),
    "split.title": ("Split a new ticket off {number}", "从 {number} 拆分出新工单"),
    "split.new_title": ("Title of the new ticket", "新工单标题"),
    "split.description": ("Description", "描述"),
    "split.comments": ("Comments to move to the new ticket", "移至新工单的评论"),
    "split.no_comments": ("This ticket has no comments.", "此工单没有评论。"),
    "split.submit": ("Continue", "继续"),
    "split.confirm_title": ("Split off “{title}”?", "拆分出“{title}”？"),
    "split.confirm_new": (
        "A new {type} for {requester}, with the team, assignee and fields of {number}, linked to it.",
        "新建一张{type}，提交人 {requester}，沿用 {number} 的团队、处理人和字段，并与其关联。",
    ),
    "split.confirm_moving": (
        "{n} comment(s) move from {number} to the new ticket:",
        "{n} 条评论将从 {number} 移至新工单：",
    ),
    "split.confirm_none_moving": ("No comment moves.", "不移动任何评论。"),
    "split.confirm_staying": ("{n} comment(s) stay on {number}.", "{n} 条评论保留在 {number}。"),
    "split.confirm": ("Split", "确认拆分"),
    # The delivery log on the ticket page.
    "delivery.delivered": ("sent", "已发送"),
    "delivery.logged": (
        "logged, not sent: no SMTP server configured",
        "仅记录，未发送：未配置 SMTP 服务器",
    ),
    "delivery.failed": ("failed", "失败"),
    # The account page: the time zone times are shown in.
    "account.timezone": ("Time zone", "时区"),
    "account.timezone_default": ("The service's calendar time zone", "服务日历的时区"),
    # The queue's assignee boxes.
    "queues.assignee_me": ("Me", "我"),
    "queues.assignee_none": ("Nobody (unassigned)", "无人（未分配）"),
    # The collision warning on the ticket page.
    "collision.viewing": ("Also viewing this ticket: {names}", "也在查看此工单：{names}"),
    "collision.changed": (
        "Others changed this ticket since you opened it:",
        "您打开此工单后，其他人做了更改：",
    ),
    "collision.replied": ("replied", "回复了"),
    "collision.reload": ("Reload the ticket", "重新加载工单"),
    "collision.confirm": (
        "The ticket changed while you were writing. Read what changed, then send your"
        " reply again, as it is or edited.",
        "您撰写回复期间工单有了更改。请先查看更改内容，再发送回复（可原样发送或修改后发送）。",
    ),
    # The search box on every desk page.
    "search.label": ("Search tickets", "搜索工单"),
    "search.hint": ("Search: key, words, requester…", "搜索：工单号、文字、提交人…"),
    "search.short": (
        "One or two characters are searched among the newest {n} tickets only: type three"
        " or more to search every ticket.",
        "一到两个字只在最新的 {n} 张工单中搜索：输入三个或更多字可搜索全部工单。",
    ),
    # The requester's view of a merged ticket.
    "portal.merged_into": (
        "This request was merged into {number}; it goes on there.",
        "此请求已合并至 {number}，后续处理在该工单中进行。",
    ),
    "portal.merged_open": ("Open {number}", "打开 {number}"),
    "portal.follow_up": (
        "{closed} was already closed, so your reply started this new request, {number}, linked to it.",
        "{closed} 已关闭，您的回复已创建新的请求 {number}，并与原请求关联。",
    ),
    "link.follow_up_of": ("Follow-up of", "后续于"),
    "link.followed_up_by": ("Followed up by", "后续请求"),
}
