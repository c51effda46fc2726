//! Login, logout, API tokens and users.

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderName, StatusCode};
use axum::response::{AppendHeaders, IntoResponse};
use axum::Json;
use cunjin_core::{Email, Permission, Role};
use cunjin_store::access::auth::{NewUser, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{
    clear_session_cookie, device_cookie, session_cookie, session_with_csrf, Caller, CSRF_HEADER,
};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorCode};
use crate::extract::ApiJson;
use crate::logins::Refused;
use crate::AppState;

/// The endpoints of this module, with their OpenAPI descriptions.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(create_token))
        .routes(routes!(list_users, create_user))
}

/// Credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// E-mail address.
    pub email: String,
    /// Password.
    pub password: String,
}

/// Logs a person in and sets the session cookie (HttpOnly, SameSite=Lax). The answer's
/// `X-CSRF-Token` header carries the session's anti-forgery token: calls that change something
/// with the cookie must send it back in the same header.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "session", request_body = Login,
    responses((status = 200, body = User, headers(("x-csrf-token" = String, description = "Anti-forgery token of the session"))), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ip: crate::intake::ClientIp,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<Login>,
) -> ApiResult<axum::response::Response> {
    let done =
        match crate::logins::log_in(&state, &ip.0, &headers, &body.email, &body.password).await {
            Ok(done) => done,
            Err(Refused::TooMany(wait)) => {
                let mut res = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    ErrorCode::TooManyAttempts,
                    format!("too many login attempts from this client; try again in {wait} s"),
                )
                .into_response();
                res.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, wait.into());
                return Ok(res);
            }
            Err(Refused::BadCredentials) => {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::BadCredentials,
                    "wrong e-mail or password",
                ))
            }
            Err(Refused::Store(e)) => return Err(e.into()),
        };
    let secure = state.config.secure_cookies;
    Ok((
        AppendHeaders([
            (SET_COOKIE, session_cookie(&done.session, secure)),
            (SET_COOKIE, device_cookie(&done.device, secure)),
            (
                HeaderName::from_static(CSRF_HEADER),
                cunjin_store::access::auth::csrf_token(&done.session),
            ),
        ]),
        Json(done.user),
    )
        .into_response())
}

/// Ends the session of the cookie sent (with the cookie, send its `X-CSRF-Token`).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "session",
    responses((status = 204, description = "Logged out"), (status = 403, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    req: axum::extract::Request,
) -> ApiResult<impl IntoResponse> {
    let (parts, _) = req.into_parts();
    if let Some(token) = session_with_csrf(&parts)? {
        state.store.delete_session(token).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        AppendHeaders([(SET_COOKIE, clear_session_cookie())]),
    ))
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    responses((status = 200, body = User), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn me(caller: Caller) -> Json<User> {
    Json(caller.user)
}

/// A token to create.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CreateToken {
    /// What the token is for, e.g. "nightly gap report".
    pub name: Option<String>,
}

/// A new token, shown once.
#[derive(Serialize, ToSchema)]
pub struct NewToken {
    /// Id.
    pub id: i64,
    /// Send as `Authorization: Bearer <token>`. Stored hashed; it cannot be shown again.
    pub token: String,
}

/// Creates an API token acting as the caller, with the caller's role.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "session", request_body = CreateToken,
    responses((status = 201, body = NewToken), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create_token(
    caller: Caller,
    State(state): State<AppState>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    caller.require(Permission::UseTokens, "create API tokens")?;
    let body = body.map_err(|r| {
        ApiError::new(
            r.status(),
            ErrorCode::PayloadTooLarge,
            "the request body is larger than the server accepts",
        )
    })?;
    // The body is optional: an empty POST creates a token with a default name.
    let body: CreateToken = if body.iter().all(u8::is_ascii_whitespace) {
        CreateToken::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => ApiError::invalid(e.to_string()),
            _ => ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BadJson, e.to_string()),
        })?
    };
    let name = body.name.unwrap_or_else(|| "API token".to_string());
    let (id, token) = state.store.create_api_token(caller.user.id, &name).await?;
    Ok((StatusCode::CREATED, Json(NewToken { id, token })))
}

/// The users of the caller's workspace.
#[utoipa::path(get, path = "/api/v1/users", tag = "session",
    responses((status = 200, body = Vec<User>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list_users(
    caller: Caller,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<User>>> {
    caller.require(Permission::Read, "read")?;
    Ok(Json(state.store.list_users(caller.ws()).await?))
}

/// A user to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Login address.
    pub email: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// One of admin, pm, presales, implementation, rnd, sales, leader, viewer.
    pub role: String,
    /// At least 8 characters; stored as an argon2id hash.
    pub password: String,
}

/// Adds a user to the caller's workspace (admin only).
#[utoipa::path(post, path = "/api/v1/users", tag = "session", request_body = CreateUser,
    responses((status = 201, body = User), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create_user(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    caller.require(Permission::ManageUsers, "add users")?;
    let user = state
        .store
        .create_user(NewUser {
            workspace_id: caller.ws(),
            email: Email::parse(&body.email)?,
            name: &body.name,
            role: Role::parse(&body.role)?,
            password: &body.password,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}
