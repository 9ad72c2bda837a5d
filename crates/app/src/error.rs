use shouhou_domain::{DomainError, Lang, ValidationError};
use shouhou_store::StoreError;

/// Errors of a use case. The web layer maps each to a status and a stable code.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("not found")]
    NotFound,
    #[error("not signed in")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    /// A cookie-authenticated change without the session's CSRF token.
    #[error("csrf token missing or wrong")]
    Csrf,
    /// A sign-in with an unknown username or a wrong password (the two answer alike).
    #[error("wrong username or password")]
    BadCredentials,
    /// Too many failed sign-ins: refused for `retry_after` seconds.
    #[error("sign-in locked")]
    Locked { retry_after: i64 },
    /// Too many requests from one client address: refused for `retry_after` seconds.
    #[error("rate limited")]
    RateLimited { retry_after: i64 },
    /// The server cannot take the work now (all password hashers busy); retry after seconds.
    #[error("busy")]
    Busy { retry_after: i64 },
    /// The record changed since the client read it; says who changed what.
    #[error("stale version")]
    Stale {
        current_version: i64,
        changed_by: Option<String>,
        changes: serde_json::Value,
    },
    /// Idempotency key reused with another request body.
    #[error("idempotency key reused")]
    KeyReused,
    #[error("request in progress")]
    InProgress,
    /// The request body is larger than the server takes.
    #[error("request body over {max_bytes} bytes")]
    TooLarge { max_bytes: usize },
    /// No route has this path.
    #[error("unknown route")]
    UnknownRoute,
    /// The path exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error(transparent)]
    Store(StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            other => AppError::Store(other),
        }
    }
}

impl AppError {
    pub fn invalid(field: &str, reason: ValidationError) -> AppError {
        AppError::Domain(DomainError::invalid(field, reason))
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Domain(d) => d.code(),
            AppError::NotFound => "not_found",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden => "forbidden",
            AppError::Csrf => "csrf",
            AppError::BadCredentials => "bad_credentials",
            AppError::Locked { .. } => "account_locked",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Busy { .. } => "busy",
            AppError::Stale { .. } => "stale_version",
            AppError::KeyReused => "idempotency_key_reused",
            AppError::InProgress => "request_in_progress",
            AppError::TooLarge { .. } => "payload_too_large",
            AppError::UnknownRoute => "unknown_route",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Store(StoreError::Conflict(_)) => "conflict",
            AppError::Store(_) | AppError::Internal(_) => "internal",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Domain(d) => d.field(),
            _ => None,
        }
    }

    /// Seconds after which a refused request may be tried again (`Retry-After`).
    pub fn retry_after(&self) -> Option<i64> {
        match self {
            AppError::Locked { retry_after }
            | AppError::RateLimited { retry_after }
            | AppError::Busy { retry_after } => Some((*retry_after).max(1)),
            _ => None,
        }
    }

    /// The message without the field's name (shown next to the field on a form).
    pub fn detail(&self, lang: Lang) -> String {
        match self {
            AppError::Domain(d) => d.detail(lang),
            other => other.message(lang),
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        let p = |zh: &str, en: &str| lang.pick(zh, en);
        match self {
            AppError::Domain(d) => d.message(lang),
            AppError::NotFound => p(
                "记录不存在或无权访问",
                "The record does not exist or is not visible to you",
            ),
            // Also the answer to a wrong user name or password (which of the two is not said).
            AppError::Unauthenticated => p(
                "未登录，或用户名、密码不对：请检查后重新登录",
                "Not signed in, or the user name or password is wrong: check them and sign in again",
            ),
            AppError::Forbidden => p("您的角色无权执行此操作", "Your role may not do this"),
            AppError::Csrf => p(
                "页面已过期（缺少 CSRF 令牌），请刷新页面后重试",
                "The page has expired (missing CSRF token); reload the page and try again",
            ),
            AppError::BadCredentials => p("用户名或密码不对", "Wrong username or password"),
            AppError::Locked { retry_after } => {
                let m = (retry_after.max(&1) + 59) / 60;
                match lang {
                    Lang::ZhCn => format!("登录失败次数过多，已暂时锁定，请 {m} 分钟后再试"),
                    Lang::En => format!(
                        "Too many failed sign-ins: locked for now; try again in {m} minute{}",
                        if m == 1 { "" } else { "s" }
                    ),
                }
            }
            AppError::RateLimited { retry_after } => {
                let s = retry_after.max(&1);
                match lang {
                    Lang::ZhCn => format!("请求太频繁，请 {s} 秒后再试"),
                    Lang::En => format!("Too many requests; try again in {s} s"),
                }
            }
            AppError::Busy { retry_after } => {
                let s = retry_after.max(&1);
                match lang {
                    Lang::ZhCn => format!("服务器繁忙，请 {s} 秒后再试"),
                    Lang::En => format!("The server is busy; try again in {s} s"),
                }
            }
            AppError::Stale { changed_by, .. } => {
                let who = changed_by
                    .clone()
                    .unwrap_or_else(|| p("其他用户", "another user"));
                match lang {
                    Lang::ZhCn => format!("这条记录已被 {who} 修改，请刷新后再改"),
                    Lang::En => {
                        format!("{who} changed this record meanwhile; reload and try again")
                    }
                }
            }
            AppError::KeyReused => p(
                "Idempotency-Key 已用于另一个请求，请换一个新的键",
                "This Idempotency-Key was used for a different request; use a new key",
            ),
            AppError::InProgress => p(
                "相同的请求正在处理中，请稍后重试",
                "The same request is still being processed; retry shortly",
            ),
            AppError::TooLarge { max_bytes } => {
                let mb = max_bytes / 1024 / 1024;
                match lang {
                    Lang::ZhCn => format!(
                        "提交的内容太大（上限 {mb} MB），请缩小后重试，例如压缩照片或分几次提交"
                    ),
                    Lang::En => format!(
                        "What you sent is too large (the limit is {mb} MB); send less, e.g. a smaller photo or several requests"
                    ),
                }
            }
            AppError::UnknownRoute => p(
                "没有这个地址，请检查链接或接口路径（接口见 /api/v1/openapi.json）",
                "There is nothing at this address; check the link or the API path (see /api/v1/openapi.json)",
            ),
            AppError::MethodNotAllowed => p(
                "这个地址不接受此请求方法（见响应头 Allow）",
                "This address does not take this request method (see the Allow header)",
            ),
            AppError::Store(StoreError::Conflict(_)) => {
                p("与已有记录冲突", "Conflicts with an existing record")
            }
            AppError::Store(_) | AppError::Internal(_) => p(
                "服务器内部错误，请稍后重试",
                "Internal error; please retry later",
            ),
        }
    }
}

/// Maps a unique-constraint conflict to a validation error on `field`; other errors pass.
pub fn conflict_as(field: &str) -> impl Fn(StoreError) -> AppError + '_ {
    move |e| match e {
        StoreError::Conflict(_) => AppError::invalid(field, ValidationError::Duplicate),
        StoreError::Reference(_) => AppError::invalid(field, ValidationError::UnknownReference),
        other => other.into(),
    }
}
