"""UI strings in English and Simplified Chinese, and how a request's language is chosen.

Templates call `t("key")` (bound to the request's language by `ui.render`); config
labels (`{en: Category, zh-CN: 类别}`) go through `localise`. The language is the
signed-in user's `language`, else the one an anonymous visitor switched to (kept in
the session), else the browser's Accept-Language, else English.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from gongdan.ui.catalogue import CATALOGUE

__all__ = [
    "LANGUAGES",
    "language_for",
    "localise",
    "pick_language",
    "translate",
    "translate_message",
]

LANGUAGES: Mapping[str, str] = {"en": "English", "zh-CN": "简体中文"}
SESSION_LANGUAGE = "language"


def pick_language(header: str) -> str:
    """English or Simplified Chinese from an Accept-Language header (first match wins)."""
    for part in header.lower().split(","):
        tag = part.split(";")[0].strip()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "en"


def language_for(request: Request) -> str:
    """The language to answer `request` in (see the module docstring)."""
    account = getattr(request.state, "account", None)
    if account is not None and account.language in LANGUAGES:
        return str(account.language)
    chosen = request.session.get(SESSION_LANGUAGE) if "session" in request.scope else None
    if chosen in LANGUAGES:
        return str(chosen)
    return pick_language(request.headers.get("accept-language", ""))


def localise(label: Any, language: str) -> str:
    """A config label (text or {locale: text}) in `language`, falling back to English."""
    if isinstance(label, str) or label is None:
        return label or ""
    if isinstance(label, Mapping):
        return str(label.get(language) or label.get("en") or next(iter(label.values()), ""))
    return str(label)


def translate(language: str, key: str, **params: Any) -> str:
    """The UI string `key` in `language` (English if that language lacks it), with
    `{name}` placeholders filled from `params`. An unknown key shows as itself, and
    `tests/ui/test_i18n.py` fails on it."""
    entry = CATALOGUE.get(key)
    if entry is None:
        return key
    text = entry.get(language) or entry["en"]
    return text.format(**params) if params else text


# The engine words validation errors in English; the common ones read in Chinese too.
_MESSAGES_ZH: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (r"^is required$", "为必填项"),
        (r"^is required for '(.+)'$", "为必填项"),
        (r"^must look like (.+)$", r"格式须类似 \1"),
        (r"^is not in the expected format$", "格式不正确"),
        (r"^must be at most (\d+) characters?$", r"最多 \1 个字符"),
        (r"^must be at least (\d+) characters?$", r"至少 \1 个字符"),
        (r"^must be at most (.+)$", r"不能大于 \1"),
        (r"^must be at least (.+)$", r"不能小于 \1"),
        (r"^is not a valid email address$", "不是有效的邮箱地址"),
        (r"^'(.*)' is not one of: (.+)$", r"“\1”不是可选值之一：\2"),
        (r"^must be a date like (.+)$", r"须为日期，例如 \1"),
        (r"^must be a number$", "须为数字"),
        (r"^must be a whole number$", "须为整数"),
        (r"^choose a file to upload$", "请选择要上传的文件"),
        # The portal: sign-up, survey and files.
        (r"^must be an email address$", "须为邮箱地址"),
        (r"^sign-up is open to addresses at (.+) only$", r"仅限 \1 的邮箱注册"),
        (r"^is already registered: sign in instead$", "已注册，请直接登录"),
        (r"^has control characters$", "含有控制字符"),
        (r"^choose a rating from 1 to 5$", "请选择 1 到 5 分"),
        (r"^the file is too large$", "文件过大"),
        (r"^is larger than (\d+) MB$", r"不能超过 \1 MB"),
        (r"^is not a field you can set$", "不可填写此项"),
        (r"^is required for '(.+)'$", "为必填项"),
        # Relating tickets (link, merge, split).
        (r"^a ticket cannot be (merged into|linked to) itself$", "不能与工单自身关联或合并"),
        (r"^(\S+) is already merged$", r"\1 已被合并"),
        (r"^(\S+) is itself merged into another ticket$", r"\1 本身已合并至其他工单"),
        (r"^not comments of (\S+): (.+)$", r"不是 \1 的评论：\2"),
        # The account page.
        (r"^is not your current password$", "不是您当前的密码"),
        (r"^does not match the new password$", "与新密码不一致"),
        (r"^must be one of: (.+)$", r"须为以下之一：\1"),
        # Files (of fields and replies).
        (r"^'(.+)' is larger than (\d+(?:\.\d+)?) MB$", r"“\1”超过 \2 MB"),
        (r"^'(.+)' must be one of these file types: (.+)$", r"“\1”的文件类型不可接受，可接受：\2"),
        (r"^at most (\d+) files a reply$", r"每条回复最多 \1 个文件"),
        (r"^no upload '(.+)'$", r"找不到上传的文件“\1”"),
    )
)


# Engine messages that name an id (a transition's) read without it on a page, where the
# form they appear in already says which transition it is.
_MESSAGES_EN: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^is required for '(.+)'$"), "is required"),
)


def translate_message(message: str, language: str) -> str:
    """An engine validation message in `language` when it is a common one (in English,
    without the ids some carry)."""
    if not message:
        return message
    if language != "zh-CN":
        for pattern, text in _MESSAGES_EN:
            if pattern.match(message):
                return pattern.sub(text, message)
        return message
    for pattern, text in _MESSAGES_ZH:
        if pattern.match(message):
            return pattern.sub(text, message)
    return message
