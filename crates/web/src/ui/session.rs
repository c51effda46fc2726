//! Login and logout pages: the password form, the session cookie and where to go next.

use super::Frame;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::views::*;
use super::Me;
use super::{api_error_page, redirect, render};
use crate::auth::{
    clear_session_cookie, device_cookie, form_token, form_token_sent, same_origin, session_cookie,
    session_with_csrf,
};
use crate::i18n::Lang;
use crate::logins::Refused;
use crate::AppState;
use axum::http::{Method, StatusCode};

/// The pages of this module and the forms they post to.
pub(super) fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    next: String,
}

/// Only our own paths: `//host` or `https://…` would send a person elsewhere after login.
fn safe_next(next: &str) -> String {
    crate::auth::local_path(next).unwrap_or("/").to_string()
}

pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    let next = q.map(|q| q.0.next).unwrap_or_default();
    let (token, set) = form_token(&headers, state.config.secure_cookies);
    let page = LoginPage {
        frame: Frame::new(
            Lang::from_headers(&headers),
            Me::before_login(token),
            "login",
        ),
        next: safe_next(&next),
        email: String::new(),
        failed: false,
        too_many: false,
    };
    with_cookie(render(&page), set)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
    csrf: String,
}

/// Adds a `Set-Cookie` header when there is one to add.
fn with_cookie(mut res: Response, set: Option<String>) -> Response {
    if let Some(v) = set.and_then(|v| v.parse().ok()) {
        res.headers_mut().append(SET_COOKIE, v);
    }
    res
}

pub async fn login(
    State(state): State<AppState>,
    ip: crate::intake::ClientIp,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let l = Lang::from_headers(&headers);
    if !same_origin(&Method::POST, &headers) {
        // Another site's page must not log a person into somebody else's account.
        return super::error_page(
            l,
            &Me::default(),
            StatusCode::FORBIDDEN,
            "error.forbidden",
            "",
        );
    }
    let form = form.map(|f| f.0).unwrap_or_default();
    // Double submit: the form's token must repeat the cookie the login page set. A browser
    // that sends no `Origin` (older ones, some privacy settings) is still covered.
    if !form_token_sent(&headers, &form.csrf) {
        let (token, set) = form_token(&headers, state.config.secure_cookies);
        let res = super::error_page(
            l,
            &Me::before_login(token),
            StatusCode::FORBIDDEN,
            "error.csrf",
            "",
        );
        return with_cookie(res, set);
    }
    let refused = |status: StatusCode, failed: bool, too_many: bool| {
        let page = LoginPage {
            frame: Frame::new(l, Me::before_login(form.csrf.clone()), "login"),
            next: safe_next(&form.next),
            email: form.email.clone(),
            failed,
            too_many,
        };
        (status, render(&page)).into_response()
    };
    match crate::logins::log_in(&state, &ip.0, &headers, &form.email, &form.password).await {
        Ok(done) => {
            let secure = state.config.secure_cookies;
            let res = redirect(&safe_next(&form.next));
            let res = with_cookie(res, Some(session_cookie(&done.session, secure)));
            with_cookie(res, Some(device_cookie(&done.device, secure)))
        }
        Err(Refused::TooMany(wait)) => {
            let mut res = refused(StatusCode::TOO_MANY_REQUESTS, false, true);
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, wait.into());
            res
        }
        Err(Refused::BadCredentials) => refused(StatusCode::UNAUTHORIZED, true, false),
        Err(Refused::Store(e)) => api_error_page(l, &Me::default(), e.into()),
    }
}

pub async fn logout(State(state): State<AppState>, req: axum::extract::Request) -> Response {
    let (parts, _) = req.into_parts();
    if !same_origin(&Method::POST, &parts.headers) {
        return redirect("/");
    }
    let Ok(session) = session_with_csrf(&parts) else {
        let l = Lang::from_headers(&parts.headers);
        return super::error_page(l, &Me::default(), StatusCode::FORBIDDEN, "error.csrf", "");
    };
    if let Some(token) = session {
        if let Err(e) = state.store.delete_session(token).await {
            tracing::warn!(error = %e, "could not end a session");
        }
    }
    let mut res = redirect("/login");
    if let Ok(v) = clear_session_cookie().parse() {
        res.headers_mut().insert(SET_COOKIE, v);
    }
    res
}
