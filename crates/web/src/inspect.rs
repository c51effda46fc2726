//! What the server checks in a request before any handler sees it: no NUL character anywhere
//! (PostgreSQL cannot store U+0000 in text, so it must be refused the same way on both engines),
//! and the anti-forgery token of a posted form, put aside for [`crate::auth::authenticate`].

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::{cookie, FormCsrf, CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE};
use crate::error::ErrorCode;
use crate::AppState;

/// How a body is encoded, as far as the checks below care.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Json,
    Form,
}

/// Refuses NUL characters in the address and in JSON or form bodies (422), and keeps the `csrf`
/// field of a form posted with the session cookie in the request's extensions. A body is read
/// at most up to the size limit (413 beyond); the handler then reads the same bytes.
pub async fn inspect_request(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let target = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("");
    if contains_ignore_case(target.as_bytes(), b"%00") {
        return nul_refused(req.uri().path(), req.headers());
    }
    let encoding = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .map_or(Some(Encoding::Json), |t| encoding_of(&t));
    let Some(encoding) = encoding.filter(|_| !matches!(*req.method(), Method::GET | Method::HEAD))
    else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => return crate::too_large(parts.uri.path(), &parts.headers),
    };
    if has_nul(&bytes, encoding) {
        return nul_refused(parts.uri.path(), &parts.headers);
    }
    let wants_form_token = encoding == Encoding::Form
        && !parts.headers.contains_key(CSRF_HEADER)
        && cookie(&parts.headers, SESSION_COOKIE).is_some();
    if wants_form_token {
        if let Some(v) = form_field(&bytes, CSRF_FIELD) {
            parts.extensions.insert(FormCsrf(v));
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// How a body of this media type (lower case) is inspected. JSON extractors accept any letter
/// case and some handlers read a body whatever its type, so text of any kind — and a body with
/// no type — is inspected as JSON: a raw 0 byte or a `\u0000` escape. Binary types are not text.
fn encoding_of(media_type: &str) -> Option<Encoding> {
    match media_type {
        "application/x-www-form-urlencoded" => Some(Encoding::Form),
        "application/json" | "" => Some(Encoding::Json),
        t if t.ends_with("+json") || t.starts_with("text/") => Some(Encoding::Json),
        _ => None,
    }
}

fn nul_refused(path: &str, headers: &axum::http::HeaderMap) -> Response {
    crate::refusal(
        path,
        headers,
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Invalid,
        "text may not contain the NUL character (U+0000)",
        "error.nul",
    )
}

/// Whether a body carries a NUL character: a raw 0 byte, `%00` in a form, or a `\u0000` escape
/// in JSON (and not the text `\\u0000`, an escaped backslash followed by "u0000").
fn has_nul(bytes: &Bytes, encoding: Encoding) -> bool {
    if bytes.contains(&0) {
        return true;
    }
    match encoding {
        Encoding::Form => contains_ignore_case(bytes, b"%00"),
        Encoding::Json => bytes.windows(6).enumerate().any(|(i, w)| {
            w[0] == b'\\'
                && w[1] == b'u'
                && &w[2..] == b"0000"
                && bytes[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0
        }),
    }
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

fn form_field(bytes: &Bytes, name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_escapes_are_found_and_escaped_backslashes_are_not() {
        let json = |s: &str| has_nul(&Bytes::from(s.to_string()), Encoding::Json);
        assert!(json(r#"{"name": "a\u0000b"}"#));
        assert!(json(r#"{"name": "\\\u0000"}"#), "a backslash, then NUL");
        assert!(!json(r#"{"name": "a\\u0000b"}"#), "the text \\u0000");
        assert!(!json(r#"{"name": "a\u0001"}"#), "another control character");
        let form = |s: &str| has_nul(&Bytes::from(s.to_string()), Encoding::Form);
        assert!(form("text=a%00b") && !form("text=a%2500b"));
        assert!(form("text=a%00") && !form("text=100%25"));
    }

    #[test]
    fn media_types_are_matched_in_any_case_and_text_is_inspected() {
        assert!(encoding_of("application/json") == Some(Encoding::Json));
        assert!(encoding_of(&"Application/JSON".to_ascii_lowercase()) == Some(Encoding::Json));
        assert!(encoding_of("text/plain") == Some(Encoding::Json));
        assert!(encoding_of("application/problem+json") == Some(Encoding::Json));
        assert!(encoding_of("application/x-www-form-urlencoded") == Some(Encoding::Form));
        assert!(encoding_of("application/octet-stream").is_none());
    }
}
