//! The public calendar feed `/calendar/{token}.ics`: demos, acceptance dates and commitment due
//! dates of one workspace, for calendar applications to subscribe to. An unknown or rotated
//! token is a plain 404.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Answers the ICS feed of the workspace behind the token.
pub async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "no calendar behind this link").into_response();
    let Some(token) = file.strip_suffix(".ics") else {
        return not_found();
    };
    let ws = match state.store.workspace_for_calendar(token).await {
        Ok(Some(ws)) => ws,
        Ok(None) => return not_found(),
        Err(e) => return storage_failure(e),
    };
    match state.store.calendar_events(ws, cunjin_store::today()).await {
        Ok((name, events)) => {
            let body = cunjin_core::calendar::render(
                &format!("{name} · 寸进 cunjin"),
                &events,
                chrono::Utc::now(),
            );
            (
                [
                    (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                    (header::CACHE_CONTROL, "private, max-age=300"),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => storage_failure(e),
    }
}

fn storage_failure(e: cunjin_store::StoreError) -> Response {
    tracing::error!(error = %e, "calendar feed failed");
    (StatusCode::SERVICE_UNAVAILABLE, "calendar unavailable").into_response()
}
