//! Who is asking: a session cookie for people, a bearer token for scripts, and the role check
//! every endpoint makes.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use cunjin_core::Permission;
use cunjin_store::access::auth::User;

use crate::error::{ApiError, ErrorCode};
use crate::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "cunjin_session";

/// Header that carries the session's anti-forgery token on API calls made with the cookie; the
/// login answers carry it too, so that a script using the cookie can send it back.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Name of the hidden form field that carries the anti-forgery token.
pub const CSRF_FIELD: &str = "csrf";

/// Name of the cookie that marks a browser as a known device of the account that last logged
/// in from it (see [`crate::logins`]).
pub const DEVICE_COOKIE: &str = "cunjin_device";

/// Name of the cookie that carries the anti-forgery token of forms shown before anybody is
/// logged in (the login form, the public intake form): the form's hidden field must repeat it
/// (double submit). A page of another site can make a browser post, but can neither read nor
/// set this site's cookies, so it cannot know the value.
pub const FORM_COOKIE: &str = "cunjin_form";

/// The anti-forgery token found in a posted form, put aside by [`crate::inspect`] so that
/// [`authenticate`] can check it without consuming the body.
#[derive(Debug, Clone)]
pub struct FormCsrf(pub String);

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
    /// The anti-forgery token of the session (see [`cunjin_store::access::auth::csrf_token`]); empty
    /// for API tokens, which a browser never sends on its own.
    pub csrf: String,
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
        cunjin_store::access::auth::SESSION_DAYS * 86_400,
        if secure { "; Secure" } else { "" }
    )
}

/// A `Set-Cookie` value that makes this browser a known device of an account for a year.
pub fn device_cookie(token: &str, secure: bool) -> String {
    format!(
        "{DEVICE_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        cunjin_store::access::auth::DEVICE_DAYS * 86_400,
        if secure { "; Secure" } else { "" }
    )
}

/// The pre-session form token of the request's [`FORM_COOKIE`] when it is one of ours (64 hex
/// digits), else a new one with the `Set-Cookie` value that gives it to the browser.
pub fn form_token(headers: &HeaderMap, secure: bool) -> (String, Option<String>) {
    if let Some(t) = cookie(headers, FORM_COOKIE).filter(|t| is_hex_token(t)) {
        return (t.to_string(), None);
    }
    let t = cunjin_store::access::auth::new_secret();
    let set = format!(
        "{FORM_COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    );
    (t, Some(set))
}

/// Whether a form posted before any login repeats its browser's [`FORM_COOKIE`].
pub fn form_token_sent(headers: &HeaderMap, field: &str) -> bool {
    cookie(headers, FORM_COOKIE)
        .filter(|t| is_hex_token(t))
        .is_some_and(|t| constant_time_eq(t.as_bytes(), field.trim().as_bytes()))
}

fn is_hex_token(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
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

/// Methods that change nothing and so need no anti-forgery token.
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the request carries the session's anti-forgery token, in the `X-CSRF-Token` header
/// or in the form's `csrf` field.
pub fn csrf_sent(parts: &Parts, expected: &str) -> bool {
    let sent = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.extensions.get::<FormCsrf>().map(|f| f.0.as_str()));
    sent.is_some_and(|s| constant_time_eq(s.trim().as_bytes(), expected.as_bytes()))
}

/// The session cookie of the request, when the request also carries its anti-forgery token;
/// refused when a cookie came without it (a page of another site asking to log out).
pub fn session_with_csrf(parts: &Parts) -> Result<Option<&str>, ApiError> {
    match cookie(&parts.headers, SESSION_COOKIE) {
        None => Ok(None),
        Some(t) if csrf_sent(parts, &cunjin_store::access::auth::csrf_token(t)) => Ok(Some(t)),
        Some(_) => Err(csrf_refused()),
    }
}

/// The refusal of a cookie-authenticated write without the right anti-forgery token.
pub fn csrf_refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::Csrf,
        "the form or request is missing its security token (reload the page and try again; \
         API calls made with the session cookie send it in the X-CSRF-Token header)",
    )
}

/// Compares without stopping at the first difference, so the time taken tells nothing about
/// how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
            csrf: String::new(),
        }));
    }
    if let Some(token) = cookie(&parts.headers, SESSION_COOKIE) {
        if let Some(user) = state.store.user_for_session(token).await? {
            if !same_origin(&parts.method, &parts.headers) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ErrorCode::CrossOrigin,
                    "this request came from another site",
                ));
            }
            let csrf = cunjin_store::access::auth::csrf_token(token);
            if !is_safe(&parts.method) && !csrf_sent(parts, &csrf) {
                return Err(csrf_refused());
            }
            return Ok(Some(Caller {
                user,
                via: Via::Session,
                csrf,
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
