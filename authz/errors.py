"""One error family with stable codes; every code's Chinese and English text lives in MESSAGES."""
from __future__ import annotations

from typing import Any

# code: (HTTP status, Chinese message, English message)
MESSAGES: dict[str, tuple[int, str, str]] = {
    "validation_failed": (422, "请求参数校验未通过", "The request did not pass validation"),
    "bad_request": (400, "请求格式不正确", "The request is malformed"),
    "unauthenticated": (401, "需要有效的服务凭证", "A valid service credential is required"),
    "session_required": (401, "请先登录", "Please log in first"),
    "session_expired": (401, "登录已失效，请重新登录", "The session has ended; please log in again"),
    "csrf_failed": (403, "页面安全校验未通过，请刷新页面后重试",
                    "The request failed the page's security check (another site, or no CSRF token); reload the page and try again"),
    "forbidden": (403, "您没有权限执行此操作", "You are not permitted to do this"),
    "not_found": (404, "请求的资源不存在", "The requested resource does not exist"),
    "method_not_allowed": (405, "不支持该请求方法", "The method is not allowed for this resource"),
    "conflict": (409, "数据已被修改，请刷新后重试", "The data changed meanwhile; refresh and try again"),
    "unsupported_media_type": (415, "请求内容类型不受支持", "Unsupported content type"),
    "payload_too_large": (413, "请求内容过大", "The request body is too large"),
    "rate_limited": (429, "操作过于频繁，请稍后再试", "Too many requests; try again later"),
    "internal_error": (500, "服务内部错误", "Internal error"),
    "unavailable": (503, "服务暂不可用，请稍后重试", "The service is temporarily unavailable"),
    # authorization core
    "unknown_domain": (404, "未找到该企业或业务主体", "Unknown domain"),
    "invalid_identifier": (422, "标识符含有非法字符", "The identifier contains characters that are not allowed"),
    "policy_invalid": (422, "规则文件校验未通过，已保留上一版有效规则", "The rule file is invalid; the last good policy stays in force"),
    "client_exists": (409, "该服务调用方已存在", "A service client with this name already exists"),
    "batch_too_large": (422, "单次批量校验的请求数超出上限", "Too many requests in one batch"),
}


class AuthzError(Exception):
    """An expected failure with a stable machine code (see MESSAGES)."""

    def __init__(self, code: str, *, status: int | None = None, message: str | None = None,
                 errors: Any = None, headers: dict[str, str] | None = None, **params: Any):
        if code not in MESSAGES:
            raise KeyError(f"unknown error code {code!r}")
        super().__init__(code)
        self.code = code
        self.status = status or MESSAGES[code][0]
        self.override = message
        self.errors = errors
        self.headers = headers or {}
        self.params = params

    def message(self, lang: str = "zh") -> str:
        """The human text in `lang` ('zh' or 'en'), with params substituted."""
        if self.override:
            return self.override
        _, zh, en = MESSAGES[self.code]
        text = en if lang == "en" else zh
        try:
            return text.format(**self.params)
        except (KeyError, IndexError):
            return text

    def __str__(self) -> str:
        return f"{self.code}: {self.message('en')}"


def register(code: str, status: int, zh: str, en: str) -> str:
    """Add a code from another module (flows); returns the code for use as a constant."""
    existing = MESSAGES.get(code)
    if existing and existing != (status, zh, en):
        raise ValueError(f"error code {code!r} registered twice with different texts")
    MESSAGES[code] = (status, zh, en)
    return code
