"""UI strings of the security answers (a body too large, the service unavailable, a
sign-in refused for a while), in English and Simplified Chinese (merged into
`ui.catalogue.CATALOGUE`)."""

from __future__ import annotations

__all__ = ["SECURITY_ENTRIES"]

SECURITY_ENTRIES: dict[str, tuple[str, str]] = {
    "error.too_large": ("What you sent is too large", "提交的内容过大"),
    "error.too_large_text": (
        "The form or file is larger than this site accepts. Send less (or a smaller file) "
        "and try again.",
        "表单或文件超出了本站允许的大小。请减少内容（或换用较小的文件）后重试。",
    ),
    "error.unavailable": ("Gongdan is unavailable for a moment", "工单系统暂时无法使用"),
    "error.unavailable_text": (
        "The service cannot reach its database right now. Nothing you sent before this "
        "page was lost. Please try again in a minute.",
        "服务暂时无法连接数据库。此前提交的内容均未丢失。请稍候一分钟后重试。",
    ),
    "login.throttled": (
        "Too many sign-in attempts. Please wait {minutes} min and try again, or reset "
        "your password.",
        "登录尝试次数过多。请等待 {minutes} 分钟后重试，或重置密码。",
    ),
}
