"""UI strings of the password pages (forgot / reset by e-mail link), in English and
Simplified Chinese (merged into `ui.catalogue.CATALOGUE`)."""

from __future__ import annotations

__all__ = ["PASSWORD_ENTRIES"]

PASSWORD_ENTRIES: dict[str, tuple[str, str]] = {
    "password.forgot_link": ("Forgot password?", "忘记密码？"),
    "password.forgot_title": ("Forgot your password?", "忘记密码"),
    "password.forgot_intro": (
        "Enter the email address of your account. We will send you a link to choose a new "
        "password. An account without a password yet gets a link to set one.",
        "请输入账户的邮箱地址，我们会发送一个设置新密码的链接。尚未设置密码的账户也可借此设置密码。",
    ),
    "password.email": ("Email", "邮箱"),
    "password.send": ("Send the link", "发送链接"),
    "password.sent_title": ("Check your mail", "请查收邮件"),
    "password.sent": (
        "If {email} belongs to an account, a link to set its password is on its way. "
        "It works once, for one hour. No mail? Check your spam folder or ask again in a minute.",
        "如果 {email} 是已注册账户的邮箱，设置密码的链接已发送至该邮箱。链接仅可使用一次，"
        "一小时内有效。没有收到？请检查垃圾邮件，或一分钟后重试。",
    ),
    "password.signup_has_account": (
        "{email} already has an account, without a password yet. We have e-mailed you a link "
        "to set one. It works once, for one hour.",
        "{email} 已有账户，但尚未设置密码。我们已向该邮箱发送设置密码的链接，"
        "链接仅可使用一次，一小时内有效。",
    ),
    "password.email_required": ("Enter your email address.", "请输入邮箱地址。"),
    "password.reset_title": ("Choose a new password", "设置新密码"),
    "password.reset_intro": ("For the account {email}.", "账户：{email}"),
    "password.new": ("New password", "新密码"),
    "password.confirm": ("New password again", "再次输入新密码"),
    "password.help": ("At least {n} characters.", "至少 {n} 个字符。"),
    "password.save": ("Save password and sign in", "保存密码并登录"),
    "password.mismatch": ("The two passwords are not the same.", "两次输入的密码不一致。"),
    "password.link_invalid_title": ("This link does not work", "此链接无效"),
    "password.link_invalid": (
        "This link was already used, has expired, or a newer link was sent since. "
        "Ask for a new one below.",
        "此链接已被使用、已过期，或之后又发送了新的链接。请在下方重新申请。",
    ),
    "password.ask_again": ("Send me a new link", "重新发送链接"),
    "password.back_to_login": ("Back to sign in", "返回登录"),
    "password.errors": ("Please correct the following:", "请修正以下问题："),
    "password.changed": ("Your password is saved.", "密码已保存。"),
}
