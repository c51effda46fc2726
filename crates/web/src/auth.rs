//! Who is asking: a session cookie for people, a bearer token for scripts, and the role check
//! every endpoint makes.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use cunjin_core::Permission;
use cunjin_store::auth::User;

use crate::error::ApiError;
use crate::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "cunjin_session";

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A browser session cookie.
    Session,
    /// An API token.
    Token,
}

/// An authenticated caller of the API.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user.
    pub user: User,
    /// How they authenticated.
    pub via: Via,
}

impl Caller {
    /// Refuses with 403 unless the caller's role allows `p`.
    pub fn require(&self, p: Permission, what: &str) -> Result<(), ApiError> {
        if self.user.role.can(p) {
            Ok(())
        } else {
            Err(ApiError::forbidden(what))
        }
    }

    /// The workspace every query of this caller is confined to.
    pub fn ws(&self) -> i64 {
        self.user.workspace_id
    }

    /// How the caller is named in the audit trail.
    pub fn actor(&self) -> &str {
        &self.user.email
    }
}

/// The value of one cookie in a request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value for the session.
pub fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        cunjin_store::auth::SESSION_DAYS * 86_400,
        if secure { "; Secure" } else { "" }
    )
}

/// A path on this site to send a person back to: starts with one `/`, printable ASCII only, no
/// backslash. Browsers drop tabs and newlines and read `\` as `/`, so `/\t/evil.example` or
/// `/\evil.example` would otherwise leave the site.
pub fn local_path(p: &str) -> Option<&str> {
    let ok = p.starts_with('/')
        && !p.starts_with("//")
        && p.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    ok.then_some(p)
}

/// A `Set-Cookie` value that ends the session in the browser.
pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// Cookie-authenticated writes must come from this site's own pages: a browser always sends
/// `Origin` on a cross-site POST, so a foreign origin is refused.
pub fn same_origin(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, h)| h);
    origin_host.is_some() && origin_host == host
}

/// Finds the user behind a request's token or session cookie, if any.
pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<Option<Caller>, ApiError> {
    if let Some(h) = parts.headers.get(AUTHORIZATION) {
        let token = h
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(ApiError::unauthorized)?;
        let user = state
            .store
            .user_for_token(token)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        return Ok(Some(Caller {
            user,
            via: Via::Token,
        }));
    }
    if let Some(token) = cookie(&parts.headers, SESSION_COOKIE) {
        if let Some(user) = state.store.user_for_session(token).await? {
            if !same_origin(&parts.method, &parts.headers) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "cross_origin",
                    "this request came from another site",
                ));
            }
            return Ok(Some(Caller {
                user,
                via: Via::Session,
            }));
        }
    }
    Ok(None)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state)
            .await?
            .ok_or_else(ApiError::unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_our_own_paths() {
        assert_eq!(local_path("/customers/1?x=1"), Some("/customers/1?x=1"));
        for bad in [
            "//evil.example",
            "/\t/evil.example",
            "/\\evil.example",
            "/\\/x",
            "https://evil.example",
            "/a\nb",
            "",
            "/客户",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }
}
