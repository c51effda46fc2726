//! Pages of delivery: releases (create, deliver), the status-link control and the public,
//! read-only customer status page.

use super::Frame;
use std::collections::HashSet;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use cunjin_core::Permission;
use cunjin_store::delivery::releases::NewRelease;
use cunjin_store::ledger::catalogue::FeatureFilter;
use serde::Deserialize;

use super::views::*;
use super::Me;
use super::PagePath;
use super::{api_error_page, error_page, redirect, render, Page};
use super::{fail, PageResult};
use crate::error::ApiError;
use crate::extract::parse_date;
use crate::i18n::Lang;
use crate::status_cache::PageKey;
use crate::AppState;

/// The pages of this module and the forms they post to.
pub(super) fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/releases", get(releases).post(create_release))
        .route("/releases/{id}/deliver", post(deliver_release))
        .route("/customers/{id}/status-link", post(rotate_status_link))
        .route("/status/c/{token}", get(public_status))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReleasesQuery {
    created: Option<i64>,
    delivered: Option<usize>,
    unchanged: Option<usize>,
    error: String,
}

async fn releases_page(
    p: &Page,
    state: &AppState,
    q: ReleasesQuery,
    version: String,
    date: String,
) -> PageResult {
    let ws = p.caller.ws();
    let releases = state.store.list_releases(ws).await.map_err(fail(p))?;
    let customers = state.store.list_customers(ws).await.map_err(fail(p))?;
    let products = state.store.list_products(ws).await.map_err(fail(p))?;
    let features = state
        .store
        .list_features(ws, &FeatureFilter::default())
        .await
        .map_err(fail(p))?;
    let mut feature_groups: Vec<FeatureGroup> = products
        .into_iter()
        .map(|pr| FeatureGroup {
            product: pr.name,
            features: features
                .iter()
                .filter(|f| f.product_id == pr.id)
                .cloned()
                .collect(),
        })
        .collect();
    feature_groups.retain(|g| !g.features.is_empty());
    let releases = releases
        .into_iter()
        .map(|r| {
            let done: HashSet<i64> = r.deliveries.iter().map(|d| d.customer_id).collect();
            ReleaseView {
                customers: customers
                    .iter()
                    .map(|c| DeliverOption {
                        id: c.id.0,
                        name: c.name.clone(),
                        delivered: done.contains(&c.id.0),
                    })
                    .collect(),
                r,
            }
        })
        .collect();
    let status = if q.error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let role = p.caller.user.role;
    Ok((
        status,
        render(&ReleasesPage {
            frame: p.frame("releases"),
            releases,
            feature_groups,
            can_manage: role.can(Permission::ManageReleases),
            can_deliver: role.can(Permission::DeliverRelease),
            created: q.created.is_some(),
            report: q.delivered.map(|d| (d, q.unchanged.unwrap_or(0))),
            error: q.error,
            version,
            date: if date.is_empty() {
                cunjin_store::today().to_string()
            } else {
                date
            },
        }),
    )
        .into_response())
}

pub async fn releases(
    p: Page,
    State(state): State<AppState>,
    q: Result<Query<ReleasesQuery>, QueryRejection>,
    headers: axum::http::HeaderMap,
) -> PageResult {
    let mut q: ReleasesQuery = q.map(|q| q.0).unwrap_or_default();
    // Refusals come in a one-time cookie, never from the address a link could carry.
    q.error = super::flash(&headers);
    releases_page(&p, &state, q, String::new(), String::new()).await
}

/// The ids posted under `name` (checkboxes repeat their name).
fn ids(pairs: &[(String, String)], name: &str) -> Result<Vec<i64>, ApiError> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| {
            v.trim()
                .parse()
                .map_err(|_| ApiError::invalid(format!("{name}: '{v}' is not an id")))
        })
        .collect()
}

fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

pub async fn create_release(
    p: Page,
    State(state): State<AppState>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> PageResult {
    p.require(Permission::ManageReleases)?;
    let pairs = form.map(|f| f.0).unwrap_or_default();
    let (version, date) = (field(&pairs, "version"), field(&pairs, "date"));
    let attempt = async {
        let new = NewRelease {
            version: version.clone(),
            date: parse_date("date", Some(&date))?.unwrap_or_else(cunjin_store::today),
            feature_ids: ids(&pairs, "feature_ids")?,
        };
        Ok::<_, ApiError>(
            state
                .store
                .create_release(p.caller.ws(), p.caller.actor(), new)
                .await?,
        )
    }
    .await;
    match attempt {
        Ok(r) => Ok(redirect(&format!("/releases?created={}", r.id))),
        Err(e) => {
            let q = ReleasesQuery {
                error: e.message,
                ..Default::default()
            };
            releases_page(&p, &state, q, version, date).await
        }
    }
}

pub async fn deliver_release(
    p: Page,
    State(state): State<AppState>,
    PagePath(id): PagePath<i64>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> PageResult {
    p.require(Permission::DeliverRelease)?;
    let pairs = form.map(|f| f.0).unwrap_or_default();
    let attempt = async {
        let customers = ids(&pairs, "customer_ids")?;
        Ok::<_, ApiError>(
            state
                .store
                .deliver_release(p.caller.ws(), p.caller.actor(), id, &customers)
                .await?,
        )
    }
    .await;
    Ok(match attempt {
        Ok(report) => redirect(&format!(
            "/releases?delivered={}&unchanged={}#release-{id}",
            report.delivered.len(),
            report.unchanged.len()
        )),
        Err(e) => super::redirect_with_flash("/releases", &e.message),
    })
}

pub async fn rotate_status_link(
    p: Page,
    State(state): State<AppState>,
    PagePath(customer_id): PagePath<i64>,
) -> PageResult {
    p.require(Permission::ShareStatusLink)?;
    state
        .store
        .rotate_status_link(p.caller.ws(), p.caller.actor(), customer_id)
        .await
        .map_err(fail(&p))?;
    Ok(redirect(&format!("/customers/{customer_id}#status-link")))
}

/// The customer's status through its link: no login, no menu, no form; an unknown or rotated
/// token gets the same plain "not found" as any missing page. The app-wide `same-origin`
/// referrer policy keeps the token from leaking to other sites while the language switch can
/// still come back here.
pub async fn public_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(token): PagePath<String>,
) -> Response {
    let l = Lang::from_headers(&headers);
    let not_found = || {
        error_page(
            l,
            &Me::default(),
            StatusCode::NOT_FOUND,
            "error.not_found",
            "",
        )
    };
    let found = match state.store.customer_for_status_token(&token).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(),
        Err(e) => return api_error_page(l, &Me::default(), e.into()),
    };
    // The version is read before the page's data, so a page is never labelled newer than
    // what it shows.
    let version = match state.store.report_version(found.0).await {
        Ok(v) => v,
        Err(e) => return api_error_page(l, &Me::default(), e.into()),
    };
    let key = PageKey {
        token,
        version,
        lang: l.short(),
        day: cunjin_store::today(),
    };
    let (page, cache) = match state.status_pages.get(&key) {
        Some(page) => (page, "hit"),
        None => {
            let mut s = match crate::delivery::customer_status(&state.store, found.0, found.1).await
            {
                Ok(s) => s,
                Err(e) => return api_error_page(l, &Me::default(), e.into()),
            };
            let page = StatusPage {
                frame: Frame::new(l, Me::default(), ""),
                shipped: std::mem::take(&mut s.shipped),
                s,
            };
            let html = match askama::Template::render(&page) {
                Ok(html) => html,
                Err(e) => {
                    tracing::error!(error = %e, "template failed");
                    return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                }
            };
            (state.status_pages.put(key, html.into()), "miss")
        }
    };
    let head = [
        (CACHE_CONTROL, "no-store".to_string()),
        (
            HeaderName::from_static("x-robots-tag"),
            "noindex, nofollow".to_string(),
        ),
        (ETAG, page.etag.clone()),
        (HeaderName::from_static("x-cache"), cache.to_string()),
    ];
    let unchanged = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == page.etag));
    if unchanged {
        return (StatusCode::NOT_MODIFIED, head).into_response();
    }
    (
        head,
        [(CONTENT_TYPE, "text/html; charset=utf-8")],
        page.body,
    )
        .into_response()
}
