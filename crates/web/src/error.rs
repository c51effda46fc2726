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

/// An error answered to a client.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
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
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
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
            "unauthorized",
            "log in or send an API token (Authorization: Bearer …)",
        )
    }

    /// 403: authenticated, but the role does not allow it.
    pub fn forbidden(what: &str) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("your role may not {what}"),
        )
    }

    /// 422: a value that is not valid.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }

    /// 404: nothing at that address.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => ApiError::not_found(e.to_string()),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            StoreError::Invalid(p) => ApiError::invalid(p.to_string()),
            StoreError::Transition(t) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_transition",
                t.to_string(),
            ),
            // The server's configuration, not the request: said as it is (the message names
            // keys by id only, never a key or a secret) so that whoever runs it can act.
            StoreError::SecretKey(k) => {
                tracing::error!(error = %k, "stored secrets cannot be used");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "secret_key",
                    k.to_string(),
                )
            }
            // Failures of the database rather than of cunjin: the client is told that nothing
            // was saved, what to do and, when it passes by itself, when to try again.
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "the database is unavailable (restarting or unreachable); nothing was saved, try again in a few seconds / 数据库暂时不可用（正在重启或无法连接），没有保存任何内容，请几秒后重试",
                )
                .retry_after(UNAVAILABLE_RETRY_S)
            }
            StoreError::Busy(_) => {
                tracing::warn!(error = %e, "database busy");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_busy",
                    "the database is busy with other writes; nothing was saved, try again / 数据库正忙，没有保存任何内容，请重试",
                )
                .retry_after(1)
            }
            StoreError::Full(_) => {
                tracing::error!(error = %e, "database disk full");
                ApiError::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "storage_full",
                    "the database's disk is full; nothing was saved. Reading still works; an administrator must free disk space / 数据库所在磁盘已满，没有保存任何内容。仍可查看数据；请管理员释放磁盘空间",
                )
            }
            other => {
                tracing::error!(error = %other, "storage failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
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
                code: self.code.to_string(),
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
