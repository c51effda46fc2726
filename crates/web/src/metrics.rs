//! Request counters in the Prometheus text format.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Counts of answered requests by status class.
#[derive(Default, Debug)]
pub struct Metrics {
    by_class: [AtomicU64; 5],
}

pub async fn count(State(m): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let class = (res.status().as_u16() / 100).clamp(1, 5) as usize - 1;
    m.by_class[class].fetch_add(1, Ordering::Relaxed);
    res
}

pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::from(
        "# HELP cunjin_http_responses_total HTTP responses by status class.\n\
         # TYPE cunjin_http_responses_total counter\n",
    );
    for (i, c) in state.metrics.by_class.iter().enumerate() {
        out.push_str(&format!(
            "cunjin_http_responses_total{{class=\"{}xx\"}} {}\n",
            i + 1,
            c.load(Ordering::Relaxed)
        ));
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        out,
    )
}
