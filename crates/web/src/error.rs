//! The one error type of the HTTP layer and its JSON shape:
//! `{"error": {"code": "...", "message": "..."}}` with a fitting status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cunjin_store::StoreError;
use serde::Serialize;

/// Seconds a client is told to wait when the database is unavailable: about what a
/// PostgreSQL restart takes (docs/reliability.md).
pub const UNAVAILABLE_RETRY_S: u32 = 5;

/// The stable machine-readable codes of errors, as clients read them in `error.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Login with a wrong e-mail or password.
    BadCredentials,
    /// A body that is not JSON.
    BadJson,
    /// A path parameter of the wrong type.
    BadPath,
    /// A query parameter of the wrong type.
    BadQuery,
    /// A request malformed in another way.
    BadRequest,
    /// The change contradicts what is stored.
    Conflict,
    /// A state-changing request from another site.
    CrossOrigin,
    /// A form or request without its anti-forgery token.
    Csrf,
    /// The database is locked by other writes.
    DatabaseBusy,
    /// The database cannot be reached.
    DatabaseUnavailable,
    /// The role does not allow it.
    Forbidden,
    /// A failure of the server, logged.
    Internal,
    /// A value that is not valid.
    Invalid,
    /// A commitment status change that is not allowed.
    InvalidTransition,
    /// The address does not take that method.
    MethodNotAllowed,
    /// Nothing at that address.
    NotFound,
    /// The server has too many requests in flight.
    Overloaded,
    /// A body larger than the server accepts.
    PayloadTooLarge,
    /// An intake link or client used too often.
    RateLimited,
    /// An intake submission refused as spam.
    Rejected,
    /// Stored secrets cannot be decrypted with the configured key.
    SecretKey,
    /// The database's disk is full.
    StorageFull,
    /// The request took longer than the server allows.
    Timeout,
    /// Too many failed logins from one client.
    TooManyAttempts,
    /// Too many requests from one client.
    TooManyRequests,
    /// No valid session or token.
    Unauthorized,
    /// A body that is not sent as JSON.
    UnsupportedMediaType,
}

impl ErrorCode {
    /// The code as it is written in the JSON error shape; these strings are part of the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadCredentials => "bad_credentials",
            ErrorCode::BadJson => "bad_json",
            ErrorCode::BadPath => "bad_path",
            ErrorCode::BadQuery => "bad_query",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Conflict => "conflict",
            ErrorCode::CrossOrigin => "cross_origin",
            ErrorCode::Csrf => "csrf",
            ErrorCode::DatabaseBusy => "database_busy",
            ErrorCode::DatabaseUnavailable => "database_unavailable",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Internal => "internal",
            ErrorCode::Invalid => "invalid",
            ErrorCode::InvalidTransition => "invalid_transition",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Overloaded => "overloaded",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Rejected => "rejected",
            ErrorCode::SecretKey => "secret_key",
            ErrorCode::StorageFull => "storage_full",
            ErrorCode::Timeout => "timeout",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An error answered to a client.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: ErrorCode,
    /// What went wrong, in words a person can act on.
    pub message: String,
    /// Seconds after which the same request may succeed, sent as `Retry-After`.
    pub retry_after: Option<u32>,
}

/// The body of every error.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and message of an error.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `not_found`, `invalid`, `bad_json`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same error, telling the client to try again after `seconds`.
    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// 401: no valid session or token.
    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "log in or send an API token (Authorization: Bearer …)",
        )
    }

    /// 403: authenticated, but the role does not allow it.
    pub fn forbidden(what: &str) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            format!("your role may not {what}"),
        )
    }

    /// 422: a value that is not valid.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Invalid,
            message,
        )
    }

    /// 404: nothing at that address.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => ApiError::not_found(e.to_string()),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, m),
            StoreError::Invalid(p) => ApiError::invalid(p.to_string()),
            StoreError::Transition(t) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidTransition,
                t.to_string(),
            ),
            // The server's configuration, not the request: said as it is (the message names
            // keys by id only, never a key or a secret) so that whoever runs it can act.
            StoreError::SecretKey(k) => {
                tracing::error!(error = %k, "stored secrets cannot be used");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::SecretKey,
                    k.to_string(),
                )
            }
            // Failures of the database rather than of cunjin: the client is told that nothing
            // was saved, what to do and, when it passes by itself, when to try again.
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::DatabaseUnavailable,
                    "the database is unavailable (restarting or unreachable); nothing was saved, try again in a few seconds / 数据库暂时不可用（正在重启或无法连接），没有保存任何内容，请几秒后重试",
                )
                .retry_after(UNAVAILABLE_RETRY_S)
            }
            StoreError::Busy(_) => {
                tracing::warn!(error = %e, "database busy");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::DatabaseBusy,
                    "the database is busy with other writes; nothing was saved, try again / 数据库正忙，没有保存任何内容，请重试",
                )
                .retry_after(1)
            }
            StoreError::Full(_) => {
                tracing::error!(error = %e, "database disk full");
                ApiError::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    ErrorCode::StorageFull,
                    "the database's disk is full; nothing was saved. Reading still works; an administrator must free disk space / 数据库所在磁盘已满，没有保存任何内容。仍可查看数据；请管理员释放磁盘空间",
                )
            }
            other => {
                tracing::error!(error = %other, "storage failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    "the server could not complete the request; it has been logged",
                )
            }
        }
    }
}

impl From<cunjin_core::ParseError> for ApiError {
    fn from(e: cunjin_core::ParseError) -> Self {
        ApiError::invalid(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.as_str().to_string(),
                message: self.message,
            },
        };
        let mut res = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, s.into());
        }
        res
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_api_strings() {
        let json = serde_json::to_string(&ErrorCode::DatabaseUnavailable).unwrap();
        assert_eq!(json, "\"database_unavailable\"");
        assert_eq!(
            ErrorCode::UnsupportedMediaType.to_string(),
            "unsupported_media_type"
        );
        let e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "wait",
        )
        .retry_after(7);
        let res = e.into_response();
        assert_eq!(res.headers()["retry-after"], "7");
    }
}
