//! The server-rendered web UI, one module per domain like the API's: session (login), dashboard,
//! catalogue, customers, promises, roadmap, delivery, requests, demos, hats, webhooks. Each module
//! lists its own routes (`routes()`), merged in [`router`]. Every page speaks zh-CN and English;
//! forms keep what was typed when they fail.

// A page handler's error is the finished error page, an axum `Response`; boxing it would only
// add noise to every handler.
#![allow(clippy::result_large_err)]

/// Gives a page struct its frame's fields by name, so that its template and `base.html` write
/// `l.t(…)`, `me` and `active` while the struct holds them once, in its `frame`.
macro_rules! framed {
    ($page:ty) => {
        impl std::ops::Deref for $page {
            type Target = $crate::ui::Frame;

            fn deref(&self) -> &$crate::ui::Frame {
                &self.frame
            }
        }
    };
}

mod catalogue;
mod chart;
mod customers;
mod dashboard;
mod delivery;
mod demos;
mod hats;
mod promises;
mod requests;
mod roadmap;
mod session;
mod views;
pub(crate) mod webhooks;

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use cunjin_core::Permission;

use crate::auth::{authenticate, Caller};
use crate::error::{ApiError, ErrorCode};
use crate::i18n::Lang;
use crate::AppState;

/// The UI routes: each module's own list, merged here, with the language switch, the static
/// files and the HTML 404 page.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(session::routes())
        .merge(dashboard::routes())
        .merge(catalogue::routes())
        .merge(customers::routes())
        .merge(promises::routes())
        .merge(roadmap::routes())
        .merge(delivery::routes())
        .merge(requests::routes())
        .merge(demos::routes())
        .merge(hats::routes())
        .merge(webhooks::routes())
        .route("/lang/{code}", get(switch_lang))
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(clear_shown_flash))
}

/// A flash message is shown by the first page that is not itself a redirect; that page's
/// answer removes it, so it is shown once.
async fn clear_shown_flash(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let had_flash = crate::auth::cookie(req.headers(), "flash").is_some();
    let res = next.run(req).await;
    if had_flash && !res.status().is_redirection() {
        clear_flash(res)
    } else {
        res
    }
}

/// What a page handler answers: the page, or the finished error page.
pub type PageResult = Result<Response, Response>;

/// Turns a storage failure into the error page of the person looking.
pub fn fail(p: &Page) -> impl Fn(cunjin_store::StoreError) -> Response + '_ {
    move |e| api_error_page(p.l, &p.me(), ApiError::from(e))
}

/// An id chosen in a form: empty is none, anything else must be a number.
pub fn optional_id(field: &'static str, s: &str) -> Result<Option<i64>, ApiError> {
    match s.trim() {
        "" => Ok(None),
        v => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(format!("{field}: '{v}' is not an id"))),
    }
}

/// The signed-in person a page is shown to: the address in the header, and the form token every
/// form of theirs carries (a page of another site cannot know it). Empty on public pages.
#[derive(Debug, Clone, Default)]
pub struct Me {
    /// E-mail address; empty when nobody is signed in.
    pub email: String,
    /// The session's anti-forgery token, sent back in each form's hidden `csrf` field.
    pub csrf: String,
}

impl Me {
    /// Nobody is signed in yet; the forms of the page carry the pre-session token `csrf` (see
    /// [`crate::auth::FORM_COOKIE`]).
    pub fn before_login(csrf: String) -> Me {
        Me {
            email: String::new(),
            csrf,
        }
    }

    /// Nobody is signed in.
    pub fn is_empty(&self) -> bool {
        self.email.is_empty()
    }
}

impl std::fmt::Display for Me {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.email)
    }
}

/// What `base.html` needs of every page: the language, who is looking (with the form token of
/// the csrf field) and the menu item to mark. Each page struct holds one in its `frame` field and
/// `framed!` it, so that a new page cannot forget a piece.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Language of the page.
    pub l: Lang,
    /// Who is looking; empty on public pages, which then have no menu.
    pub me: Me,
    /// The menu item marked as the current one; empty for none.
    pub active: &'static str,
}

impl Frame {
    /// The frame of a page shown in `l` to `me`, with `active` marked in the menu.
    pub fn new(l: Lang, me: Me, active: &'static str) -> Frame {
        Frame { l, me, active }
    }
}

/// A signed-in person looking at a page, and the language to answer in.
pub struct Page {
    /// Language of the answer.
    pub l: Lang,
    /// Who is looking.
    pub caller: Caller,
}

impl Page {
    /// The frame of a page shown to this person, with `active` marked in the menu.
    pub fn frame(&self, active: &'static str) -> Frame {
        Frame::new(self.l, self.me(), active)
    }

    /// Who is shown the page, with their form token.
    fn me(&self) -> Me {
        Me {
            email: self.caller.user.email.clone(),
            csrf: self.caller.csrf.clone(),
        }
    }

    /// An error page unless the role allows `p`.
    fn require(&self, p: Permission) -> Result<(), Response> {
        if self.caller.user.role.can(p) {
            Ok(())
        } else {
            Err(error_page(
                self.l,
                &self.me(),
                StatusCode::FORBIDDEN,
                "error.forbidden",
                "",
            ))
        }
    }
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let l = Lang::from_headers(&parts.headers);
        match authenticate(parts, state).await {
            Ok(Some(caller)) => Ok(Page { l, caller }),
            Ok(None) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let q = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                Err(redirect(&format!("/login?{q}")))
            }
            // The reader's language for refusals a person can meet; the English detail only
            // for what a person cannot fix alone.
            Err(e) => Err(match e.code {
                ErrorCode::Csrf => error_page(l, &Me::default(), e.status, "error.csrf", ""),
                ErrorCode::CrossOrigin => {
                    error_page(l, &Me::default(), e.status, "error.cross_origin", "")
                }
                _ => error_page(l, &Me::default(), e.status, "error.title", &e.message),
            }),
        }
    }
}

/// Path parameters of a page; a malformed one answers the HTML "not found" page.
pub struct PagePath<T>(pub T);

impl<S, T> FromRequestParts<S> for PagePath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(p) => Ok(PagePath(p.0)),
            Err(_) => Err(error_page(
                Lang::from_headers(&parts.headers),
                &Me::default(),
                StatusCode::NOT_FOUND,
                "error.not_found",
                "",
            )),
        }
    }
}

/// A 303 redirect that carries a message to the next page in a short-lived cookie, so that no
/// text chosen by a link's author can appear in a page's alert box.
pub fn redirect_with_flash(to: &str, message: &str) -> Response {
    let mut res = redirect(to);
    let value = format!(
        "flash={}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax",
        serde_urlencoded::to_string([("m", message)])
            .unwrap_or_default()
            .trim_start_matches("m=")
    );
    if let Ok(v) = value.parse() {
        res.headers_mut().append(SET_COOKIE, v);
    }
    res
}

/// The message left by [`redirect_with_flash`], if any.
pub fn flash(headers: &axum::http::HeaderMap) -> String {
    crate::auth::cookie(headers, "flash")
        .and_then(|v| serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("m={v}")).ok())
        .and_then(|mut v| v.pop())
        .map(|(_, m)| m)
        .unwrap_or_default()
}

/// Adds the header that removes a shown flash message.
pub fn clear_flash(mut res: Response) -> Response {
    if let Ok(v) = "flash=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax".parse() {
        res.headers_mut().append(SET_COOKIE, v);
    }
    res
}

/// A 303 redirect, the answer to a form post.
pub fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, to.to_string())]).into_response()
}

/// Renders a template, or a plain 500 if the template fails (it cannot, once it compiled,
/// short of running out of memory).
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// An error page in the person's language.
pub fn error_page(
    l: Lang,
    me: &Me,
    status: StatusCode,
    message_key: &'static str,
    detail: &str,
) -> Response {
    let page = views::ErrorPage {
        frame: Frame::new(l, me.clone(), ""),
        message_key,
        detail: detail.to_string(),
    };
    (status, render(&page)).into_response()
}

/// An error page for a failed storage call.
pub fn api_error_page(l: Lang, me: &Me, e: ApiError) -> Response {
    let key = match (e.status, e.code) {
        (StatusCode::NOT_FOUND, _) => "error.not_found",
        (StatusCode::FORBIDDEN, _) => "error.forbidden",
        (_, ErrorCode::DatabaseUnavailable) => "error.database_unavailable",
        (_, ErrorCode::DatabaseBusy) => "error.busy",
        (_, ErrorCode::StorageFull) => "error.storage_full",
        _ => "error.title",
    };
    let mut res = error_page(l, me, e.status, key, &e.message);
    if let Some(s) = e.retry_after {
        res.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, s.into());
    }
    res
}

async fn switch_lang(PagePath(code): PagePath<String>, headers: axum::http::HeaderMap) -> Response {
    let lang = Lang::parse(&code).unwrap_or(Lang::Zh);
    // Back to the page the switch was clicked on, when it is one of ours.
    let back = headers
        .get(axum::http::header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .and_then(crate::auth::local_path)
        .unwrap_or("/")
        .to_string();
    (
        StatusCode::SEE_OTHER,
        [
            (LOCATION, back),
            (
                SET_COOKIE,
                format!(
                    "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
                    lang.short()
                ),
            ),
        ],
    )
        .into_response()
}

async fn stylesheet() -> Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

/// The UI's one script (the inbox's keys, the talk track's print button): a file of its own, so
/// that the Content-Security-Policy can refuse every inline script.
async fn script() -> Response {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
        .into_response()
}

async fn not_found(headers: axum::http::HeaderMap) -> Response {
    error_page(
        Lang::from_headers(&headers),
        &Me::default(),
        StatusCode::NOT_FOUND,
        "error.not_found",
        "",
    )
}
