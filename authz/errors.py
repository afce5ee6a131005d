"""One error family with stable codes: every code, its HTTP status and its Chinese and English text live
in the one table MESSAGES below (grouped by the module that raises it). Modules name their codes with
`code("...")`, which only checks the table; nothing adds to it at import."""
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
    # authz.oidc (issue 12)
    # authz.bindings
    "face_verification_required": (403, "确认授权前请先完成人脸识别验证",
        "Confirming an authorisation needs a face verification first"),
    "binding_exists": (409, "该人员在本企业已有该身份类型的授权或待确认授权",
        "This person already holds or awaits this identity type in this enterprise"),
    # authz.codes
    "code_invalid": (422, "验证码错误",
        "The verification code is wrong"),
    "code_expired": (422, "验证码已失效，请重新获取",
        "The verification code has expired; request a new one"),
    "code_used": (422, "验证码已使用，请重新获取",
        "The verification code was already used; request a new one"),
    "code_attempts_exhausted": (422, "验证码错误次数过多，请重新获取",
        "Too many wrong attempts for this code; request a new one"),
    "code_not_requested": (422, "请先获取验证码",
        "Request a verification code first"),
    "sms_flow_limit": (429, "本次办理获取验证码次数已达上限，请重新开始",
        "This procedure has sent all the codes it may; start it again"),
    "sms_client_limit": (429, "当前网络获取短信验证码过于频繁，请稍后重试",
        "Too many SMS codes were requested from this network address; try again later"),
    # authz.counters
    "counters_unavailable": (503, "登录安全服务暂不可用，请稍后重试",
        "The login safety service is unavailable; try again later"),
    "sms_quota": (429, "短信验证码获取频繁，请稍后重试",
        "Too many SMS codes for this phone; try again later"),
    # authz.credentials
    "password_length": (422, "密码长度须为{min}-{max}位",
        "The password must be {min}-{max} characters long"),
    "password_classes": (422, "密码须包含大写字母、小写字母、数字、特殊字符中的至少{n}种",
        "The password must mix at least {n} of: upper-case, lower-case, digits, special characters"),
    "password_whitespace": (422, "密码不能包含空格",
        "The password must not contain white space"),
    "password_common": (422, "密码过于常见，请更换",
        "This password is too common; choose another"),
    "password_predictable": (422, "密码由常见单词、拼音、姓氏或键盘序列加上可预测的数字（连续或重复数字、年份、日期、520、1314 等）组成，容易被猜中，请更换",
        "The password is a common word, pinyin, surname or keyboard run plus predictable digits (a run, a repeat, a year, a date, 520, 1314 ...); it is easy to guess, choose another"),
    "password_mismatch": (422, "两次输入的密码不一致",
        "The two passwords differ"),
    "password_unchanged": (422, "新密码不能与原密码相同",
        "The new password must differ from the old one"),
    "username_invalid": (422, "用户名须为6-20位字母或数字，且第一位为字母",
        "A username is 6-20 letters or digits and starts with a letter"),
    "username_taken": (409, "该用户名已被使用",
        "This username is taken"),
    # authz.directory
    "function_set_empty": (422, "功能权限不能为空",
        "The function set must not be empty"),
    "function_set_exceeds": (422, "所选功能超出该身份类型可授予的范围：{extra}",
        "The function set exceeds what the identity type may hold: {extra}"),
    "unknown_identity_type": (422, "身份类型不存在",
        "Unknown identity type"),
    "bad_enterprise_kind": (422, "企业类型不正确",
        "Unknown enterprise kind"),
    "bad_uscc": (422, "统一社会信用代码格式不正确",
        "The unified social credit code is malformed"),
    "binding_state": (409, "该授权当前状态不允许此操作",
        "The binding's state does not allow this"),
    # authz.factors.app_scan
    "scan_pending": (409, "等待扫码确认",
        "Waiting for the scan to be confirmed"),
    "ticket_expired": (410, "二维码已过期，请刷新",
        "The QR code has expired; refresh it"),
    "ticket_used": (409, "二维码已被使用",
        "The QR code was already used"),
    "ticket_not_found": (404, "二维码无效",
        "Unknown QR code"),
    "face_mismatch": (422, "人脸识别验证未通过",
        "Face verification failed"),
    "app_login_required": (422, "请先登录个人所得税APP后再扫脸验证",
        "Log in to the IIT app before face verification"),
    "app_mismatch": (422, "请使用所选的APP扫码",
        "Scan with the app you chose"),
    "iitapp_personal_only": (422, "个人所得税APP扫码仅支持登录个人业务",
        "An IIT-app scan logs in to personal business only"),
    # authz.factors.base
    "account_locked": (423, "该验证方式连续失败次数过多，账号已锁定至{until}，可通过忘记密码解锁",
        "Too many failures of this method: the account is locked until {until}; reset the password to unlock"),
    "code_purpose_locked": (423, "该手机号码在本业务中验证码错误次数过多，已暂停至{until}",
        "Too many wrong codes for this phone in this procedure: paused until {until}"),
    "attempts_in_progress": (429, "该账号的验证正在进行中，请稍后再试",
        "Other attempts for this account are being checked; try again in a moment"),
    # authz.flows.base
    "flow_not_found": (404, "操作已失效，请重新开始",
        "This flow does not exist; start again"),
    "flow_expired": (410, "操作已超时，请重新开始",
        "This flow has expired; start again"),
    "flow_state": (409, "当前步骤不允许此操作，请按顺序完成",
        "This step is not allowed now; follow the steps in order"),
    # authz.flows.cert_login
    "certificate_login_first_password": (409, "首次登录请先使用账号密码登录完成相关操作",
        "Log in with your account and password first to finish the first-login steps"),
    # authz.flows.certificates
    "certificate_invalid": (401, "证书或证书密码错误，连续输错{limit}次将锁定",
        "Wrong certificate or certificate password; {limit} consecutive failures lock it"),
    "certificate_password_wrong": (422, "原证书密码错误，连续输错{limit}次将锁定",
        "The current certificate password is wrong; {limit} consecutive failures lock it"),
    "certificate_revoked": (403, "该证书已注销，不能使用",
        "This certificate has been revoked"),
    "certificate_expired": (403, "该证书不在有效期内",
        "This certificate is outside its validity period"),
    "certificate_key_invalid": (422, "证书公钥无效或与证书类型不符",
        "The public key is invalid or does not match the certificate kind"),
    "certificate_other_enterprise": (409, "该证书序列号已属于其他企业",
        "This certificate serial already belongs to another enterprise"),
    "certificate_dates": (422, "证书有效期止不能早于有效期起",
        "The certificate's validity end must not precede its start"),
    "certificate_signature_invalid": (401, "证书签名验证失败",
        "The certificate signature does not verify"),
    # authz.flows.deregistration
    "deregistration_notice_required": (422, "请先阅读并确认注销须知",
        "Read and accept the deregistration notice first"),
    # authz.flows.documents
    "document_type_not_online": (422, "该证件类型不能在线添加，请到办税服务场所办理",
        "This document type cannot be added online; visit a tax hall"),
    "document_held_by_other": (409, "该证件已被其他自然人使用，不能重复注册",
        "This document belongs to another person; it cannot be registered twice"),
    "document_already_yours": (409, "该证件已在您的证件列表中",
        "This document is already one of yours"),
    # authz.flows.enterprise_logs
    "log_range_invalid": (422, "查询时间范围不正确",
        "The time range is not valid"),
    # authz.helpdesk
    "operator_required": (400, "请在请求头 X-Operator-Id 中提供办理人员编号（1-64位字母、数字或 . _ @ -）",
        "Name the operator at the desk in the X-Operator-Id header (1-64 letters, digits or . _ @ -): every helpdesk call is audited with it"),
    # authz.flows.hall
    "document_type_unknown": (422, "证件类型不正确",
        "Unknown document type"),
    "document_invalid": (422, "证件号码格式不正确",
        "The document number is malformed"),
    "identity_mismatch": (422, "姓名与证件信息不一致",
        "The name does not match the document"),
    "registration_code_invalid": (422, "大厅注册码错误或已失效",
        "The hall registration code is wrong or expired"),
    # authz.flows.identity_switch
    "switch_target_unknown": (422, "无法切换到该身份，请刷新可切换身份列表",
        "That identity is not available to switch to; refresh the list"),
    "switch_target_current": (422, "您当前已是该身份",
        "That is already your current identity"),
    # authz.flows.integration
    "integ_person_unknown": (404, "该自然人尚未注册",
        "No person holds this document"),
    "integ_person_not_registered": (409, "该自然人尚未完成用户注册",
        "The person has not registered online"),
    "integ_enterprise_unknown": (404, "未找到该企业，请先报送其登记信息",
        "Unknown enterprise; send its registration data first"),
    "integ_not_agency": (409, "该企业不是涉税专业服务机构",
        "The enterprise is not a tax-service agency"),
    "integ_agent_not_staff": (409, "代理人员须为该机构已报送的涉税代理人员",
        "Every agent must be filed staff of the agency"),
    "integ_agreement_dates": (422, "服务止期不能早于服务起期",
        "The service end must not precede its start"),
    "integ_agreement_parties": (409, "该协议编号已属于其他代理机构或委托企业",
        "The agreement number belongs to another agency or client"),
    "integ_agreement_unknown": (404, "未找到该代理协议",
        "Unknown agreement"),
    "integ_nonresident_code_taken": (409, "该非居民企业身份码已属于其他纳税人",
        "The non-resident identity code belongs to another taxpayer"),
    "integ_not_nonresident": (409, "该纳税人已登记为其他类型或已有其他非居民企业身份码",
        "The taxpayer is registered with another kind or another non-resident code"),
    "integ_binding_unknown": (404, "未找到该授权记录",
        "Unknown binding"),
    "integ_hall_role": (409, "该身份类型的关联关系不在办税服务场所办理",
        "This identity type is not handled at a tax hall"),
    "integ_project_unknown": (404, "未找到该跨区域项目或税源登记",
        "Unknown cross-region project or tax-source registration"),
    "integ_project_parties": (409, "该管理编号已属于其他企业或其他类型",
        "The management number belongs to another enterprise or kind"),
    "integ_handler_not_officer": (409, "经办人须为该企业的办税员",
        "The handler must be a tax officer of the enterprise"),
    # authz.flows.login
    "phone_not_found": (401, "手机号码不存在，您可以尝试使用证件号码登录",
        "This phone number is not registered; try logging in with your document number"),
    "not_registered": (401, "该用户未注册，请在自然人业务入口进行用户注册",
        "This user is not registered; register through the natural-person entry"),
    "login_failed": (401, "账号或密码错误",
        "The account or password is wrong"),
    "phone_empty": (422, "您的手机号为空，请您通过扫码验证方式登录系统，并在账户中心的手机号码修改菜单中添加默认手机号",
        "Your phone number is empty: log in by app scan and add a default phone in the account centre"),
    "no_relation": (403, "未查询到您与该企业的关联关系",
        "No relation between you and this enterprise was found"),
    "choice_invalid": (422, "所选身份不可用",
        "The chosen identity is not available"),
    "application_pending": (403, "您的授权申请尚待企业确认，确认后方可登录",
        "Your application awaits the enterprise's decision; you can log in once it confirms"),
    "confirm_needs_face": (422, "确认授权需使用税务APP或个人所得税APP扫脸验证",
        "Confirming an authorisation needs a face scan with the tax app or the IIT app"),
    "entry_fields": (422, "请填写该登录入口所需的企业信息",
        "This entry needs its enterprise fields"),
    # authz.flows.own_logs
    "log_filter_invalid": (422, "查询条件不正确：{field}",
        "Invalid filter: {field}"),
    # authz.flows.password_change
    "old_password_wrong": (422, "原密码错误，连续输错{limit}次将锁定账号",
        "The old password is wrong; {limit} consecutive failures lock the account"),
    # authz.flows.password_reset
    "phone_not_held": (422, "该手机号码不是您的预留手机号",
        "This phone is not one of yours"),
    # authz.flows.person_bindings
    "enterprise_not_found": (404, "未查询到该企业，请核对统一社会信用代码/纳税人识别号",
        "No enterprise with this unified social credit code"),
    # authz.flows.personal_info
    "username_change_yearly": (409, "用户名一年度内只能修改一次，{next}起可再次修改",
        "A username can be changed once per calendar year; next change from {next}"),
    "username_unchanged": (422, "新用户名与原用户名相同",
        "The new username equals the current one"),
    "email_invalid": (422, "邮箱地址格式不正确",
        "The email address is malformed"),
    "email_taken": (409, "该邮箱地址已被其他用户使用",
        "This email address is used by another person"),
    "name_invalid": (422, "姓名须为1-100个字符",
        "A name is 1-100 characters"),
    "address_invalid": (422, "住址不能超过300个字符",
        "An address is at most 300 characters"),
    "document_validity_invalid": (422, "证件有效期不正确：{reason}",
        "Invalid document validity: {reason}"),
    "document_not_found": (404, "未找到该证件",
        "No such document of yours"),
    "nothing_to_change": (422, "请填写要修改的信息",
        "Nothing to change"),
    # authz.flows.phones
    "phone_invalid": (422, "手机号码格式不正确",
        "The phone number is malformed"),
    "phone_already_yours": (409, "该手机号码已是您的手机号码",
        "This number is already one of yours"),
    "phone_is_default": (409, "默认手机号码不能删除，请先将其他手机号码设置为默认",
        "The default phone cannot be deleted; make another number the default first"),
    "phone_only_one": (409, "只有一个手机号码时，不允许删除",
        "The only phone number cannot be deleted"),
    "phone_no_default": (409, "您尚无默认手机号码，请使用添加手机号码",
        "You have no default phone; add one instead"),
    "phone_code_not_sent": (422, "请先获取新手机号码的验证码",
        "Request a code for the new number first"),
    "phone_not_found_for_person": (404, "未找到该手机号码",
        "No such phone number of yours"),
    # authz.flows.qr_login
    "app_session_required": (403, "请在税务APP中登录后扫码确认",
        "Confirm the scan from a logged-in tax app session"),
    # authz.flows.realname
    "realname_online_max": (409, "您的实名等级已为四级，如需提升，请到办税服务场所完成五级实名核验",
        "Your real-name level is already 4; to reach level 5, complete the level-5 check at a tax service hall"),
    "realname_at_max": (409, "您的实名等级已为五级（最高等级）",
        "Your real-name level is already 5, the highest"),
    "realname_changed": (409, "实名等级已变化，请重新提升",
        "The real-name level changed meanwhile; start again"),
    # authz.flows.registration
    "agreement_required": (422, "请阅读并同意用户协议",
        "Read and accept the user agreement first"),
    "already_registered": (409, "该证件对应的自然人已注册，请直接登录",
        "This person is already registered; log in instead"),
    "offline_collection_required": (422, "该证件类型需先到办税服务场所完成实名信息采集",
        "This document type needs real-name collection at a tax hall first"),
    "phone_not_verified": (422, "手机号码与接收验证码的号码不一致",
        "The phone differs from the one the code was sent to"),
    # authz.flows.staff
    "staff_not_registered": (422, "该办税人员尚未注册",
        "This person has not registered yet"),
    "risk_not_confirmed": (422, "请先阅读并确认涉税风险提示",
        "Read and confirm the tax risk notice first"),
    "validity_end_past": (422, "有效期截止日期不能早于当前日期",
        "The validity end must not be in the past"),
    "binding_not_withdrawable": (409, "线下添加的待确认授权无法线上撤回，如需修改请前往办税服务厅办理",
        "A binding added at a tax hall cannot be withdrawn online"),
    "binding_not_refusable": (409, "财务负责人授权须由本人确认，不能拒绝",
        "A finance officer binding must be confirmed; it cannot be refused"),
    "bad_sort": (422, "不支持按该字段排序：{field}",
        "Sorting by {field} is not supported"),
    "bad_filter": (422, "查询条件不正确：{field}",
        "Invalid filter: {field}"),
    "bad_page": (422, "分页参数不正确",
        "Invalid paging parameters"),
    "assist_functions_exceed": (422, "助信码功能超出该办税人员的功能集：{extra}",
        "The assist-code functions exceed the staff member's function set: {extra}"),
    "too_many_items": (422, "单次操作的记录数超出上限",
        "Too many items in one request"),
    # authz.flows.stepup
    "person_inactive": (403, "该账户已注销或不可用",
        "This account is deregistered or unavailable"),
    # authz.policystore
    "policy_history_unknown": (404, "规则文件历史中没有“{ref}”", "No rule file {ref} in the policy history"),
    "policy_changed": (412, "规则文件已被他人更新，请重新比对（policy diff）后再提交",
        "The rule file in force changed since you read it (If-Match); diff again and resubmit"),
    # authz.policy
    "model_not_honoured": (422, "model.conf [{section}] 中的 {key} 与鉴权引擎实际执行的定义不一致（文件：{found}；引擎执行：{honoured}），该修改不会生效，已拒绝此模型",
        "{key} in [{section}] of model.conf is not what the enforcer implements (file: {found}; enforcer: {honoured}); the edit would be silently ignored, so the model is refused"),
    "policy_mass_removal": (409, "新规则文件将删除现行规则 {in_force} 行中的 {removed} 行（超过一半），已拒绝，现行规则不变；确认无误请强制重载",
        "The new rule file removes {removed} of the {in_force} rule lines in force (more than half); refused, the policy in force stays. Reload with force to apply it anyway"),
    # authz.ports.apps
    "app_signature_invalid": (401, "应用回调签名无效",
        "The app callback signature is invalid"),
    "app_unknown": (404, "未知的应用",
        "Unknown app"),
    # authz.ports.human
    "human_check_failed": (422, "请先完成滑块验证",
        "Please complete the human check first"),
    # authz.ports.sms
    "sms_unavailable": (503, "短信发送失败，请稍后重试",
        "The SMS could not be sent; try again later"),
    # authz.sessions
    "identity_revoked": (401, "您在该企业的身份已失效，请重新登录",
        "Your identity in this enterprise is no longer valid; please log in again"),
    "switch_to_enterprise_refused": (403, "个人业务不能在本次登录中切换到企业业务，请重新登录",
        "Personal business cannot switch to an enterprise in the same session; log in again"),
    "identity_not_held": (403, "您在该主体下没有此身份",
        "You do not hold this identity there"),
    # authz.oidc.clients
    "oidc_client_unknown": (404, "未找到该接入系统", "Unknown relying-party client"),
    "oidc_redirect_uri_invalid": (422, "回调地址须为完整的 https 地址（开发环境可用 http://127.0.0.1 或 localhost），且不含片段",
        "A redirect URI must be an absolute https URL (http only on 127.0.0.1 or localhost) without a fragment"),
    "oidc_scope_unknown": (422, "申请的授权范围不存在或该系统无权申请",
        "A scope is unknown or not allowed for this client"),
    # authz.oidc.keys
    "oidc_key_alg": (422, "签名算法须为 ES256 或 RS256", "The signing algorithm must be ES256 or RS256"),
    # authz.factors.password
    "password_wrong": (401, "密码错误，连续输错{limit}次将锁定账号",
        "Wrong password; {limit} consecutive failures lock the account"),
    # authz.verification
    "phone_missing_use_face": (422, "您尚未设置默认手机号码，请选择扫脸验证",
        "You have no default phone number; choose face verification"),
    "factor_not_offered": (422, "该步骤不支持此验证方式",
        "This step does not offer that verification method"),
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


def code(name: str) -> str:
    """`name` as a module's error constant, checked against the table: a code missing from MESSAGES
    fails at import, so a raise can never name an unknown code."""
    if name not in MESSAGES:
        raise KeyError(f"error code {name!r} is not in authz.errors.MESSAGES")
    return name


# ---- the catalogue page (docs/errors.md and GET /api/v1/errors), generated from the table above

def areas() -> dict[str, str]:
    """code -> the module that raises it, read from the table's own grouping comments (so it cannot
    drift from the table); codes above the first module comment are the API's general ones."""
    import pathlib
    import re
    out, area = {}, "api (general)"
    for line in pathlib.Path(__file__).read_text(encoding="utf-8").splitlines():
        m = re.match(r"^    # ([a-z_][a-z0-9_.]*)$", line)
        if m:
            area = m.group(1)
            continue
        m = re.match(r'^    "([a-z0-9_]+)": \(', line)
        if m:
            out[m.group(1)] = area
        if line.startswith("}"):
            break
    return out


def catalogue() -> list[dict]:
    """Every code with its status, both texts (placeholders as written) and where it is raised."""
    where = areas()
    return [{"code": c, "status": st, "message_zh": zh, "message_en": en, "raised_in": where.get(c, "")}
            for c, (st, zh, en) in MESSAGES.items()]


def document() -> str:
    """docs/errors.md."""
    rows = [f"| <a id=\"{e['code']}\"></a>`{e['code']}` | {e['status']} | {e['message_zh']} | {e['message_en']} "
            f"| `{e['raised_in']}` |" for e in catalogue()]
    return "\n".join([
        "# Error catalogue",
        "",
        "Generated from the one table `authz.errors.MESSAGES` by `python -m authz.errors > docs/errors.md`;",
        "`tests/test_errors.py` fails when this page and the code disagree. Every error answer is",
        "`{code, status, message, errors, type}`: `message` is the Chinese text (English with",
        "`Accept-Language: en`), `{…}` placeholders filled in; `type` is `/api/v1/errors/<code>`, which answers",
        "this page's row as JSON (`GET /api/v1/errors` lists them all, no credential needed).",
        "\"Raised in\" names the module whose rule the code reports; the rule itself is cited there.",
        "",
        "| code | HTTP | 中文 | English | raised in |",
        "|---|---|---|---|---|",
        *[r.replace("\n", " ") for r in rows],
        "",
    ])


if __name__ == "__main__":
    print(document(), end="")
