"""The "My account" page's UI strings, in English and Simplified Chinese (merged into
`ui.catalogue.CATALOGUE`)."""

from __future__ import annotations

__all__ = ["ACCOUNT_ENTRIES"]

ACCOUNT_ENTRIES: dict[str, tuple[str, str]] = {
    "nav.account": ("My account", "我的账户"),
    "account.title": ("My account", "我的账户"),
    "account.errors": ("Please correct the following:", "请修正以下问题："),
    # Profile.
    "account.profile": ("Profile", "个人资料"),
    "account.name": ("Name", "姓名"),
    "account.email": ("Email", "邮箱"),
    "account.email_help": (
        "Tickets and mail know you by this address; an administrator can change it.",
        "工单和邮件通过此地址识别您；如需更改请联系管理员。",
    ),
    "account.role": ("Role", "角色"),
    "account.role_admin": ("Administrator", "管理员"),
    "account.role_agent": ("Agent", "客服人员"),
    "account.role_requester": ("Requester", "提交人"),
    "account.language": ("Language", "语言"),
    "account.save_profile": ("Save profile", "保存资料"),
    "account.profile_saved": ("Your profile is saved.", "个人资料已保存。"),
    # Password.
    "account.password": ("Password", "密码"),
    "account.current_password": ("Current password", "当前密码"),
    "account.new_password": ("New password", "新密码"),
    "account.new_password_help": ("At least {n} characters.", "至少 {n} 个字符。"),
    "account.repeat_password": ("New password again", "再次输入新密码"),
    "account.change_password": ("Change password", "修改密码"),
    "account.password_changed": (
        "Your password is changed: use the new one the next time you sign in.",
        "密码已修改，下次登录请使用新密码。",
    ),
    # API tokens.
    "account.tokens": ("API tokens", "API 令牌"),
    "account.tokens_intro": (
        "A token lets a script or another system use the REST API (/api/v1) as you, "
        "with your permissions: send it in the header “Authorization: Bearer …”.",
        "令牌可让脚本或其他系统以您的身份和权限调用 REST API（/api/v1）："
        "请在请求头“Authorization: Bearer …”中发送。",
    ),
    "account.tokens_requester": (
        "Like the portal, the API shows a token of yours only your own requests.",
        "与服务门户相同，使用您的令牌时 API 只显示您自己的请求。",
    ),
    "account.no_tokens": ("You have no API tokens.", "您还没有 API 令牌。"),
    "account.token_list": ("Your tokens", "您的令牌"),
    "account.col_name": ("Name", "名称"),
    "account.col_prefix": ("Starts with", "开头"),
    "account.col_created": ("Created", "创建时间"),
    "account.col_last_used": ("Last used", "最近使用"),
    "account.col_status": ("Status", "状态"),
    "account.never": ("Never", "从未使用"),
    "account.active": ("Active", "有效"),
    "account.revoked_at": ("Revoked {at}", "已于 {at} 撤销"),
    "account.revoke": ("Revoke", "撤销"),
    "account.revoke_label": ("Revoke the token “{name}”", "撤销令牌“{name}”"),
    "account.revoke_confirm": (
        "Revoke this token? Programs using it stop working at once.",
        "确定撤销此令牌？使用它的程序将立即无法访问。",
    ),
    "account.token_revoked": ("The token {prefix}… is revoked.", "令牌 {prefix}… 已撤销。"),
    "account.new_token_title": ("Create a token", "创建令牌"),
    "account.token_name": ("Token name", "令牌名称"),
    "account.token_name_help": (
        "What it is for, e.g. “CRM sync”.",
        "用途说明，例如“CRM 同步”。",
    ),
    "account.create_token": ("Create token", "创建令牌"),
    "account.new_token": ("Your new token “{name}”", "您的新令牌“{name}”"),
    "account.new_token_warning": (
        "Copy it now: it is shown only this once and cannot be shown again. "
        "Keep it secret, like a password.",
        "请立即复制：令牌只显示这一次，之后无法再次查看。请像密码一样妥善保管。",
    ),
    "account.copy": ("Copy", "复制"),
    "account.copied": ("Copied.", "已复制。"),
    "account.copy_failed": (
        "Copying did not work: the token is selected, copy it yourself.",
        "复制失败：令牌已选中，请手动复制。",
    ),
}
