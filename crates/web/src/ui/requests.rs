//! Pages of requests: the triage inbox, the request form, the public intake form and the
//! requester's status page.

use super::Frame;
use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use cunjin_core::{Decision, Permission, SourceRole};
use cunjin_store::ledger::catalogue::{Feature, FeatureFilter, Product};
use cunjin_store::ledger::customers::Customer;
use cunjin_store::requests::{Request, RequestStatus, SimilarRequest, Via};
use serde::Deserialize;

use super::Me;
use super::PagePath;
use super::{api_error_page, error_page, redirect, render, Page};
use super::{fail, PageResult};
use crate::api::requests::{
    file_through_intake, CreateRequest, DecideRequest, IntakeReceipt, IntakeRequest, RequestQuery,
};
use crate::error::ApiError;
use crate::i18n::{Lang, Val};
use crate::intake::ClientIp;
use crate::AppState;

/// The pages of this module and the forms they post to.
pub(super) fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/requests", get(inbox).post(file_request))
        .route("/requests/new", get(new_request_form))
        .route("/requests/{id}/decision", post(decide))
        .route("/requests/intake-link/rotate", post(rotate_intake))
        .route("/status/r/{token}", get(status))
        .route("/intake/{token}", get(intake_form).post(intake_post))
}

/// Names of request decisions and source roles in the page's language.
pub trait RequestLabels {
    /// The name of a decision.
    fn decision(&self, d: impl Val<Decision>) -> &'static str;
    /// What a decision means, for the requester.
    fn decision_help(&self, d: impl Val<Decision>) -> &'static str;
    /// The name of a source role.
    fn source_role(&self, r: impl Val<SourceRole>) -> &'static str;
}

impl RequestLabels for Lang {
    fn decision(&self, d: impl Val<Decision>) -> &'static str {
        self.t(match d.val() {
            Decision::New => "decision.new",
            Decision::Accepted => "decision.accepted",
            Decision::Deferred => "decision.deferred",
            Decision::Declined => "decision.declined",
            Decision::Duplicate => "decision.duplicate",
            Decision::NeedsInfo => "decision.needs_info",
        })
    }

    fn decision_help(&self, d: impl Val<Decision>) -> &'static str {
        self.t(match d.val() {
            Decision::New => "decision_help.new",
            Decision::Accepted => "decision_help.accepted",
            Decision::Deferred => "decision_help.deferred",
            Decision::Declined => "decision_help.declined",
            Decision::Duplicate => "decision_help.duplicate",
            Decision::NeedsInfo => "decision_help.needs_info",
        })
    }

    fn source_role(&self, r: impl Val<SourceRole>) -> &'static str {
        self.t(match r.val() {
            SourceRole::Customer => "role.customer",
            SourceRole::Implementation => "role.implementation",
            SourceRole::Rnd => "role.rnd",
            SourceRole::Sales => "role.sales",
            SourceRole::Presales => "role.presales",
            SourceRole::Leadership => "role.leadership",
            SourceRole::Product => "role.product",
        })
    }
}

/// The filters of the inbox as typed, kept in every link of the page.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct InboxQuery {
    pub q: String,
    pub source_role: String,
    pub customer_id: String,
    pub decision: String,
    pub product_id: String,
    pub id: String,
    pub error: String,
    pub decided: String,
}

impl InboxQuery {
    /// The filter part as a query string (without the selection).
    fn filters(&self) -> String {
        serde_urlencoded::to_string([
            ("q", self.q.as_str()),
            ("source_role", self.source_role.as_str()),
            ("customer_id", self.customer_id.as_str()),
            ("decision", self.decision.as_str()),
            ("product_id", self.product_id.as_str()),
        ])
        .unwrap_or_default()
    }
}

fn opt_id(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

pub struct InboxRow {
    pub r: Request,
    pub href: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "requests.html")]
pub struct InboxPage {
    pub frame: Frame,
    pub f: InboxQuery,
    pub roles: Vec<SourceRole>,
    pub decisions: Vec<Decision>,
    pub customers: Vec<Customer>,
    pub products: Vec<Product>,
    pub features: Vec<Feature>,
    pub rows: Vec<InboxRow>,
    pub selected: Option<Request>,
    pub similar: Vec<SimilarRequest>,
    pub can_triage: bool,
    pub can_file: bool,
    pub intake_url: String,
    pub back: String,
}
framed!(InboxPage);

pub async fn inbox(
    p: Page,
    State(state): State<AppState>,
    q: Result<Query<InboxQuery>, QueryRejection>,
    headers: axum::http::HeaderMap,
) -> PageResult {
    let ws = p.caller.ws();
    let mut f: InboxQuery = q.map(|q| q.0).unwrap_or_default();
    // Refusals come in a one-time cookie, never from the address a link could carry.
    f.error = super::flash(&headers);
    let api_query = RequestQuery {
        q: Some(f.q.clone()),
        source_role: Some(f.source_role.clone()),
        customer_id: opt_id(&f.customer_id),
        decision: Some(f.decision.clone()),
        product_id: opt_id(&f.product_id),
        feature_id: None,
        limit: Some(200),
        offset: None,
    };
    let filter = api_query
        .filter()
        .map_err(|e| api_error_page(p.l, &p.me(), e))?;
    let list = state
        .store
        .list_requests(ws, &filter)
        .await
        .map_err(fail(&p))?;
    let filters = f.filters();
    let wanted = opt_id(&f.id).or(list.first().map(|r| r.id));
    let selected = match wanted {
        Some(id) => match list.iter().find(|r| r.id == id) {
            Some(r) => Some(r.clone()),
            None => state.store.get_request(ws, id).await.ok(),
        },
        None => None,
    };
    let similar = match &selected {
        Some(r) => state
            .store
            .similar_requests(ws, &r.text, Some(r.id), 5)
            .await
            .map_err(fail(&p))?,
        None => Vec::new(),
    };
    let rows = list
        .into_iter()
        .map(|r| InboxRow {
            href: format!("/requests?{filters}&id={}", r.id),
            selected: Some(r.id) == selected.as_ref().map(|s| s.id),
            r,
        })
        .collect();
    let can_triage = p.caller.user.role.can(Permission::TriageRequests);
    let intake_url = if can_triage {
        let token = state
            .store
            .intake_token(ws, p.caller.actor())
            .await
            .map_err(fail(&p))?;
        format!("/intake/{token}")
    } else {
        String::new()
    };
    let page = InboxPage {
        frame: p.frame("requests"),
        roles: SourceRole::ALL.to_vec(),
        decisions: Decision::ALL.to_vec(),
        customers: state.store.list_customers(ws).await.map_err(fail(&p))?,
        products: state.store.list_products(ws).await.map_err(fail(&p))?,
        // The features to link: those of the request's product when it has one, to keep the
        // list short in a large catalogue.
        features: state
            .store
            .list_features(
                ws,
                &FeatureFilter {
                    product_id: selected.as_ref().and_then(|r| r.product_id),
                    ..Default::default()
                },
            )
            .await
            .map_err(fail(&p))?,
        rows,
        selected,
        similar,
        can_triage,
        can_file: p.caller.user.role.can(Permission::CreateRequest),
        intake_url,
        back: filters,
        f,
    };
    Ok(render(&page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DecisionForm {
    decision: String,
    reason: String,
    feature_id: String,
    feature_title: String,
    product_id: String,
    duplicate_of: String,
    planned_release: String,
    back: String,
}

pub async fn decide(
    p: Page,
    State(state): State<AppState>,
    PagePath(id): PagePath<i64>,
    form: Result<Form<DecisionForm>, FormRejection>,
) -> PageResult {
    p.require(Permission::TriageRequests)?;
    let form = form.map(|f| f.0).unwrap_or_default();
    let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let result = async {
        let parse_id = |field: &str, s: &str| -> Result<Option<i64>, ApiError> {
            match s.trim() {
                "" => Ok(None),
                v => v
                    .parse()
                    .map(Some)
                    .map_err(|_| ApiError::invalid(format!("{field}: '{v}' is not an id"))),
            }
        };
        let body = DecideRequest {
            decision: form.decision.clone(),
            reason: some(&form.reason),
            feature_id: parse_id("feature_id", &form.feature_id)?,
            feature_title: if form.feature_id.trim().is_empty() {
                some(&form.feature_title)
            } else {
                None
            },
            product_id: parse_id("product_id", &form.product_id)?,
            duplicate_of: parse_id("duplicate_of", &form.duplicate_of)?,
            planned_release: some(&form.planned_release),
        };
        state
            .store
            .decide_request(p.caller.ws(), p.caller.actor(), id, body.into_new()?)
            .await?;
        Ok::<(), ApiError>(())
    }
    .await;
    // Only a filter string this page built goes back into the address.
    let back = serde_urlencoded::from_str::<Vec<(String, String)>>(&form.back)
        .ok()
        .and_then(|pairs| serde_urlencoded::to_string(pairs).ok())
        .unwrap_or_default();
    Ok(match result {
        Ok(()) => redirect(&format!("/requests?{back}&id={id}&decided=1")),
        Err(e) => super::redirect_with_flash(&format!("/requests?{back}&id={id}"), &e.message),
    })
}

/// What was typed into the request form, kept when it fails.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RequestForm {
    pub text: String,
    pub source_role: String,
    pub customer_id: String,
    pub requester: String,
    pub contact: String,
    pub product_id: String,
}

#[derive(Template)]
#[template(path = "request_new.html")]
pub struct NewRequestPage {
    pub frame: Frame,
    pub roles: Vec<SourceRole>,
    pub customers: Vec<Customer>,
    pub products: Vec<Product>,
    pub form: RequestForm,
    pub similar: Vec<SimilarRequest>,
    pub checked: bool,
    pub error: String,
}
framed!(NewRequestPage);

async fn request_page(
    p: &Page,
    state: &AppState,
    form: RequestForm,
    checked: bool,
    error: String,
) -> PageResult {
    let ws = p.caller.ws();
    let similar = if form.text.trim().is_empty() {
        Vec::new()
    } else {
        state
            .store
            .similar_requests(ws, &form.text, None, 5)
            .await
            .map_err(fail(p))?
    };
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let form = RequestForm {
        requester: if form.requester.is_empty() {
            p.caller.user.name.clone()
        } else {
            form.requester
        },
        ..form
    };
    Ok((
        status,
        render(&NewRequestPage {
            frame: p.frame("request_new"),
            roles: SourceRole::ALL.to_vec(),
            customers: state.store.list_customers(ws).await.map_err(fail(p))?,
            products: state.store.list_products(ws).await.map_err(fail(p))?,
            form,
            similar,
            checked,
            error,
        }),
    )
        .into_response())
}

pub async fn new_request_form(
    p: Page,
    State(state): State<AppState>,
    q: Result<Query<RequestForm>, QueryRejection>,
) -> PageResult {
    p.require(Permission::CreateRequest)?;
    let form = q.map(|q| q.0).unwrap_or_default();
    let checked = !form.text.trim().is_empty();
    request_page(&p, &state, form, checked, String::new()).await
}

pub async fn file_request(
    p: Page,
    State(state): State<AppState>,
    form: Result<Form<RequestForm>, FormRejection>,
) -> PageResult {
    p.require(Permission::CreateRequest)?;
    let form = form.map(|f| f.0).unwrap_or_default();
    let attempt = async {
        let parse_id = |field: &str, s: &str| -> Result<Option<i64>, ApiError> {
            match s.trim() {
                "" => Ok(None),
                v => v
                    .parse()
                    .map(Some)
                    .map_err(|_| ApiError::invalid(format!("{field}: '{v}' is not an id"))),
            }
        };
        let new = CreateRequest {
            text: form.text.clone(),
            source_role: form.source_role.clone(),
            customer_id: parse_id("customer_id", &form.customer_id)?,
            requester: Some(form.requester.clone()),
            contact: Some(form.contact.clone()),
            product_id: parse_id("product_id", &form.product_id)?,
            feature_id: None,
        }
        .into_new()?;
        Ok::<_, ApiError>(
            state
                .store
                .create_request(p.caller.ws(), p.caller.actor(), Via::Web, new)
                .await?,
        )
    }
    .await;
    match attempt {
        Ok(r) => Ok(redirect(&format!("/requests?id={}", r.id))),
        Err(e) => request_page(&p, &state, form, false, e.message).await,
    }
}

#[derive(Template)]
#[template(path = "request_status.html")]
pub struct StatusPage {
    pub frame: Frame,
    pub s: RequestStatus,
}
framed!(StatusPage);

/// The requester's page: this request's text, decision and reason, and nothing else. The same
/// address answers JSON to `Accept: application/json`.
pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(token): PagePath<String>,
) -> Response {
    let l = Lang::from_headers(&headers);
    let wants_json = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    match state.store.request_status(&token).await {
        Ok(Some(s)) if wants_json => Json(s).into_response(),
        Ok(Some(s)) => render(&StatusPage {
            frame: Frame::new(l, Me::default(), ""),
            s,
        }),
        Ok(None) if wants_json => {
            ApiError::not_found("no request behind this link").into_response()
        }
        Ok(None) => error_page(
            l,
            &Me::default(),
            StatusCode::NOT_FOUND,
            "error.not_found",
            "",
        ),
        Err(e) => api_error_page(l, &Me::default(), e.into()),
    }
}

#[derive(Template)]
#[template(path = "intake.html")]
pub struct IntakePage {
    pub frame: Frame,
    pub token: String,
    pub form: IntakeForm,
    pub receipt: Option<IntakeReceipt>,
    pub error: String,
}
framed!(IntakePage);

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct IntakeForm {
    pub text: String,
    pub requester: String,
    pub organization: String,
    pub contact: String,
    pub source_role: String,
    pub website: String,
    /// The pre-session form token (see [`crate::auth::FORM_COOKIE`]).
    pub csrf: String,
}

pub async fn intake_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    PagePath(token): PagePath<String>,
) -> Response {
    let l = Lang::from_headers(&headers);
    let (csrf, set) = crate::auth::form_token(&headers, state.config.secure_cookies);
    match state.store.workspace_for_intake(&token).await {
        Ok(Some(_)) => {
            let mut res = render(&IntakePage {
                frame: Frame::new(l, Me::before_login(csrf), ""),
                token,
                form: IntakeForm::default(),
                receipt: None,
                error: String::new(),
            });
            if let Some(v) = set.and_then(|v| v.parse().ok()) {
                res.headers_mut().append(axum::http::header::SET_COOKIE, v);
            }
            res
        }
        Ok(None) => error_page(
            l,
            &Me::default(),
            StatusCode::NOT_FOUND,
            "intake.unknown",
            "",
        ),
        Err(e) => api_error_page(l, &Me::default(), e.into()),
    }
}

pub async fn intake_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    PagePath(token): PagePath<String>,
    form: Result<Form<IntakeForm>, FormRejection>,
) -> Response {
    let l = Lang::from_headers(&headers);
    let form = form.map(|f| f.0).unwrap_or_default();
    // Double submit, as on the login form: a page of another site cannot file requests in a
    // visitor's name (and use up their address's allowance). The JSON intake needs no token:
    // a browser cannot send JSON to another site without its consent (CORS).
    if !crate::auth::form_token_sent(&headers, &form.csrf) {
        return error_page(l, &Me::default(), StatusCode::FORBIDDEN, "error.csrf", "");
    }
    let body = IntakeRequest {
        text: form.text.clone(),
        requester: Some(form.requester.clone()),
        organization: Some(form.organization.clone()),
        contact: Some(form.contact.clone()),
        source_role: Some(form.source_role.clone()),
        website: Some(form.website.clone()),
    };
    let (status, receipt, error) = match file_through_intake(&state, &ip, &token, body).await {
        Ok(r) => (StatusCode::CREATED, Some(r), String::new()),
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            return error_page(
                l,
                &Me::default(),
                StatusCode::NOT_FOUND,
                "intake.unknown",
                "",
            )
        }
        Err(e) => {
            let msg = if e.status == StatusCode::TOO_MANY_REQUESTS {
                format!("{} ({})", l.t("intake.too_many"), e.message)
            } else {
                e.message
            };
            (e.status, None, msg)
        }
    };
    (
        status,
        render(&IntakePage {
            frame: Frame::new(l, Me::before_login(form.csrf.clone()), ""),
            token,
            form,
            receipt,
            error,
        }),
    )
        .into_response()
}

/// Rotates the intake link from the inbox.
pub async fn rotate_intake(p: Page, State(state): State<AppState>) -> PageResult {
    p.require(Permission::TriageRequests)?;
    state
        .store
        .rotate_intake_token(p.caller.ws(), p.caller.actor())
        .await
        .map_err(fail(&p))?;
    Ok(redirect("/requests"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_decision_and_role_has_its_own_name() {
        for l in [Lang::Zh, Lang::En] {
            for d in Decision::ALL {
                assert!(!l.decision(d).contains('.'), "{d}");
                assert!(!l.decision_help(d).contains("decision_help."), "{d}");
            }
            for r in SourceRole::ALL {
                assert!(!l.source_role(r).contains('.'), "{r}");
            }
            let names: std::collections::HashSet<_> =
                Decision::ALL.iter().map(|d| l.decision(d)).collect();
            assert_eq!(names.len(), Decision::ALL.len());
            let names: std::collections::HashSet<_> =
                SourceRole::ALL.iter().map(|r| l.source_role(r)).collect();
            assert_eq!(names.len(), SourceRole::ALL.len());
        }
    }
}
