//! Page handlers: extract, call one storage function, render.

use super::Frame;
use std::collections::{BTreeMap, HashMap};

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Form;
use cunjin_core::{Gap, Mode, Permission, Stage, Status};
use cunjin_store::ledger::catalogue::FeatureFilter;
use cunjin_store::ledger::commitments::CommitmentFilter;
use serde::Deserialize;

use super::views::*;
use super::Me;
use super::PagePath;
use super::{api_error_page, redirect, render, Page};
use super::{fail, optional_id, PageResult};
use crate::api::CreateCommitment;
use crate::auth::{
    clear_session_cookie, device_cookie, form_token, form_token_sent, same_origin, session_cookie,
    session_with_csrf,
};
use crate::error::{ApiError, ErrorCode};
use crate::i18n::Lang;
use crate::logins::Refused;
use crate::AppState;
use axum::http::{Method, StatusCode};

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

/// Customers listed on the dashboard, largest gap first; the rest are on the customers page.
const DASHBOARD_CUSTOMERS: usize = 200;

pub async fn dashboard(p: Page, State(state): State<AppState>) -> PageResult {
    let mut gap = state
        .store
        .gap(p.caller.ws(), None)
        .await
        .map_err(fail(&p))?;
    let all_customers = gap.customers.len();
    gap.customers.truncate(DASHBOARD_CUSTOMERS);
    let max_chi = gap
        .customers
        .iter()
        .map(|c| c.chi)
        .max()
        .unwrap_or(1)
        .max(1);
    let today = cunjin_store::today();
    let week = state
        .store
        .week_progress(p.caller.ws(), None, today)
        .await
        .map_err(fail(&p))?;
    let from = cunjin_core::progress::week_start(today) - chrono::Days::new(7 * 7);
    let history = state
        .store
        .gap_history(p.caller.ws(), None, from, today)
        .await
        .map_err(fail(&p))?;
    Ok(render(&DashboardPage {
        frame: p.frame("dashboard"),
        more_customers: all_customers - gap.customers.len(),
        gap,
        max_chi,
        week,
        chart: super::chart::gap_chart(p.l, &history),
    }))
}

pub async fn features(p: Page, State(state): State<AppState>) -> PageResult {
    let ws = p.caller.ws();
    let products = state.store.list_products(ws).await.map_err(fail(&p))?;
    let features = state
        .store
        .list_features(ws, &FeatureFilter::default())
        .await
        .map_err(fail(&p))?;
    let names: HashMap<i64, String> = products.into_iter().map(|p| (p.id, p.name)).collect();
    // Group by product, then walk the sorted menu paths, opening each level once.
    let mut by_product: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for f in features {
        let name = names.get(&f.product_id).cloned().unwrap_or_default();
        by_product.entry(name).or_default().push(f);
    }
    let mut rows = Vec::new();
    for (product, mut list) in by_product {
        list.sort_by(|a, b| a.menu_path.cmp(&b.menu_path));
        rows.push(TreeRow {
            depth: 0,
            indent: "0.8".into(),
            label: product,
            feature_id: None,
            stage: None,
            effort: None,
        });
        let mut open: Vec<String> = Vec::new();
        for f in list {
            let levels: Vec<&str> = f.menu_path.split('/').collect();
            let parents = &levels[..levels.len().saturating_sub(1)];
            let common = open
                .iter()
                .zip(parents.iter())
                .take_while(|(a, b)| a.as_str() == **b)
                .count();
            open.truncate(common);
            for (i, level) in parents.iter().enumerate().skip(common) {
                rows.push(TreeRow {
                    depth: i + 1,
                    indent: format!("{:.1}", 0.8 + (i + 1) as f64 * 1.4),
                    label: level.to_string(),
                    feature_id: None,
                    stage: None,
                    effort: None,
                });
                open.push(level.to_string());
            }
            let leaf = levels.last().copied().unwrap_or_default();
            let label = if f.title == leaf {
                f.title.clone()
            } else {
                format!("{leaf} — {}", f.title)
            };
            rows.push(TreeRow {
                depth: parents.len() + 1,
                indent: format!("{:.1}", 0.8 + (parents.len() + 1) as f64 * 1.4),
                label,
                feature_id: Some(f.id),
                stage: Some(f.stage),
                effort: f.effort_days,
            });
        }
    }
    Ok(render(&FeaturesPage {
        frame: p.frame("features"),
        stages: Stage::ALL.to_vec(),
        rows,
    }))
}

pub async fn customers(p: Page, State(state): State<AppState>) -> PageResult {
    let mut gap = state
        .store
        .gap(p.caller.ws(), None)
        .await
        .map_err(fail(&p))?;
    gap.customers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(render(&CustomersPage {
        frame: p.frame("customers"),
        gap,
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CustomerQuery {
    recorded: Option<i64>,
}

fn next_statuses(s: Status) -> Vec<Status> {
    Status::ALL
        .into_iter()
        .filter(|to| match s.transition(*to, Some("x"), 0) {
            Ok(_) => true,
            Err(cunjin_core::TransitionError::CriteriaUnmet { .. }) => true,
            Err(_) => false,
        })
        .collect()
}

/// Commitments listed on a customer's page.
const CUSTOMER_PAGE_COMMITMENTS: usize = 5000;

pub async fn customer(
    p: Page,
    State(state): State<AppState>,
    PagePath(id): PagePath<i64>,
    q: Result<Query<CustomerQuery>, QueryRejection>,
    headers: HeaderMap,
) -> PageResult {
    let ws = p.caller.ws();
    let error = super::flash(&headers);
    let q = q.map(|q| q.0).unwrap_or_default();
    let customer = state.store.get_customer(ws, id).await.map_err(fail(&p))?;
    let deals = state
        .store
        .list_deals(ws, Some(id))
        .await
        .map_err(fail(&p))?
        .into_iter()
        .map(|d| DealView {
            name: d.name,
            value: amount(d.contract_value),
            acceptance: d.acceptance_date.map(|d| d.to_string()).unwrap_or_default(),
            pilot: d.pilot,
        })
        .collect();
    let today = cunjin_store::today();
    let filter = CommitmentFilter {
        customer_id: Some(id),
        limit: Some(CUSTOMER_PAGE_COMMITMENTS as i64),
        ..Default::default()
    };
    let listed = state
        .store
        .list_commitments(ws, &filter)
        .await
        .map_err(fail(&p))?;
    // The customer's gap is the sum of its commitments' gaps (`Gap::of_group`); when every
    // commitment is listed, add them up instead of asking the database again.
    let gap: Gap = if listed.len() < CUSTOMER_PAGE_COMMITMENTS {
        listed.iter().map(|c| c.gap).sum()
    } else {
        let g = state
            .store
            .gap_for_customer(ws, id)
            .await
            .map_err(fail(&p))?;
        Gap {
            chi: g.chi,
            cun: g.cun,
        }
    };
    let commitments = listed
        .into_iter()
        .map(|c| CommitmentView {
            overdue: c.status == Status::Open && c.due_date.is_some_and(|d| d < today),
            live: c.status.is_live(),
            next: next_statuses(c.status),
            c,
        })
        .collect();
    let shipped = state
        .store
        .shipped_for_customer(ws, id, None)
        .await
        .map_err(fail(&p))?;
    let can_share = p.caller.user.role.can(Permission::ShareStatusLink);
    let status_url = if can_share {
        state
            .store
            .status_link(ws, id)
            .await
            .map_err(fail(&p))?
            .map(|link| format!("/status/c/{}", link.token))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok(super::clear_flash(render(&CustomerPage {
        frame: p.frame("customers"),
        customer,
        gap,
        deals,
        commitments,
        recorded: q.recorded.is_some(),
        error,
        shipped,
        can_share,
        status_url,
    })))
}

fn back_to_customer(customer_id: i64, result: Result<(), ApiError>) -> Response {
    match result {
        Ok(()) => redirect(&format!("/customers/{customer_id}")),
        Err(e) => super::redirect_with_flash(&format!("/customers/{customer_id}"), &e.message),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TransitionForm {
    to: String,
    reason: String,
}

pub async fn transition(
    p: Page,
    State(state): State<AppState>,
    PagePath((customer_id, id)): PagePath<(i64, i64)>,
    form: Result<Form<TransitionForm>, FormRejection>,
) -> PageResult {
    p.require(Permission::ChangeCommitment)?;
    let form = form.map(|f| f.0).unwrap_or_default();
    let result = async {
        let to = Status::parse(&form.to)?;
        state
            .store
            .transition_commitment(p.caller.ws(), p.caller.actor(), id, to, Some(&form.reason))
            .await?;
        Ok::<(), ApiError>(())
    }
    .await;
    Ok(back_to_customer(customer_id, result))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CriterionForm {
    met: String,
}

pub async fn set_criterion(
    p: Page,
    State(state): State<AppState>,
    PagePath((customer_id, id, criterion_id)): PagePath<(i64, i64, i64)>,
    form: Result<Form<CriterionForm>, FormRejection>,
) -> PageResult {
    p.require(Permission::ChangeCommitment)?;
    let met = form.map(|f| f.0.met == "1").unwrap_or(false);
    let result = state
        .store
        .set_criterion(p.caller.ws(), p.caller.actor(), id, criterion_id, met)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    Ok(back_to_customer(customer_id, result))
}

async fn promise_page(p: &Page, state: &AppState, form: PromiseForm, error: String) -> PageResult {
    let ws = p.caller.ws();
    let customers = state.store.list_customers(ws).await.map_err(fail(p))?;
    let names: HashMap<i64, &str> = customers.iter().map(|c| (c.id, c.name.as_str())).collect();
    let deals = state
        .store
        .list_deals(ws, None)
        .await
        .map_err(fail(p))?
        .into_iter()
        .map(|d| DealOption {
            id: d.id,
            customer_id: d.customer_id,
            label: format!(
                "{} — {} (¥{})",
                names.get(&d.customer_id).copied().unwrap_or_default(),
                d.name,
                amount(d.contract_value)
            ),
        })
        .collect();
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
    let form = PromiseForm {
        promised_by: if form.promised_by.is_empty() {
            p.caller.user.name.clone()
        } else {
            form.promised_by
        },
        ..form
    };
    let status = if error.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        render(&PromisePage {
            frame: p.frame("promise"),
            customers,
            deals,
            feature_groups,
            modes: Mode::ALL.to_vec(),
            form,
            error,
        }),
    )
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PromiseQuery {
    customer_id: String,
}

pub async fn promise_form(
    p: Page,
    State(state): State<AppState>,
    q: Result<Query<PromiseQuery>, QueryRejection>,
) -> PageResult {
    p.require(Permission::RecordPromise)?;
    let form = PromiseForm {
        customer_id: q.map(|q| q.0.customer_id).unwrap_or_default(),
        ..Default::default()
    };
    promise_page(&p, &state, form, String::new()).await
}

fn parse_promise_form(f: &PromiseForm) -> Result<CreateCommitment, ApiError> {
    let feature_id = optional_id("feature_id", &f.feature_id)?;
    let title = Some(f.feature_title.trim().to_string()).filter(|t| !t.is_empty());
    Ok(CreateCommitment {
        customer_id: optional_id("customer_id", &f.customer_id)?
            .ok_or_else(|| ApiError::invalid("customer_id: choose a customer"))?,
        deal_id: optional_id("deal_id", &f.deal_id)?,
        // A picked feature wins over words typed as well.
        feature_title: if feature_id.is_some() { None } else { title },
        feature_id,
        product_id: None,
        shown_as: Some(f.shown_as.clone()).filter(|s| !s.is_empty()),
        promised_by: Some(f.promised_by.clone()),
        promised_at: None,
        due_date: Some(f.due_date.clone()),
        critical: f.critical.is_some(),
        criteria: f
            .criteria
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        status: None,
    })
}

pub async fn record_promise(
    p: Page,
    State(state): State<AppState>,
    form: Result<Form<PromiseForm>, FormRejection>,
) -> PageResult {
    p.require(Permission::RecordPromise)?;
    let form = form.map(|f| f.0).unwrap_or_default();
    let attempt = async {
        let new = parse_promise_form(&form)?.into_new()?;
        let c = state
            .store
            .record_promise(p.caller.ws(), p.caller.actor(), new)
            .await?;
        Ok::<_, ApiError>(c)
    }
    .await;
    match attempt {
        Ok(c) => Ok(redirect(&format!(
            "/customers/{}?recorded={}",
            c.customer_id, c.id
        ))),
        Err(e) => promise_page(&p, &state, form, e.message).await,
    }
}

/// Features shown on one page of the roadmap.
const ROADMAP_PAGE: usize = 100;
/// Promises listed one by one under a feature of the roadmap page; a feature promised to many
/// customers would otherwise make a page of a megabyte.
const ROADMAP_PROMISES_SHOWN: usize = 10;

#[derive(Deserialize, Default)]
pub struct RoadmapPageQuery {
    /// The rank to start after (0 for the first page).
    offset: Option<usize>,
}

/// The promises of a feature listed one by one on the roadmap page (the heaviest first), and
/// the rest.
fn heaviest_promises(
    all: &[cunjin_core::CommitmentTerm],
) -> (
    Vec<&cunjin_core::CommitmentTerm>,
    Vec<&cunjin_core::CommitmentTerm>,
) {
    let mut heaviest: Vec<&cunjin_core::CommitmentTerm> = all.iter().collect();
    heaviest.sort_by(|a, b| {
        b.weighted
            .total_cmp(&a.weighted)
            .then(a.commitment_id.cmp(&b.commitment_id))
    });
    let rest = heaviest.split_off(heaviest.len().min(ROADMAP_PROMISES_SHOWN));
    (heaviest, rest)
}

pub async fn roadmap(
    p: Page,
    State(state): State<AppState>,
    q: Result<Query<RoadmapPageQuery>, QueryRejection>,
) -> PageResult {
    let ws = p.caller.ws();
    let l = p.l;
    let offset = q.ok().and_then(|q| q.0.offset).unwrap_or(0);
    let today = cunjin_store::today();
    // The table is the same for everyone of the workspace who reads this language: made once
    // per kept ranking (it changes with the report version, which covers the names it shows).
    let table = state
        .store
        .roadmap_rendering(
            ws,
            today,
            offset,
            ROADMAP_PAGE,
            &format!("html:{}", l.short()),
            |page| roadmap_table(&state, ws, l, page, offset),
        )
        .await
        .map_err(|e: ApiError| api_error_page(l, &p.me(), e))?;
    Ok(render(&RoadmapPage {
        frame: Frame::new(l, p.me(), "roadmap"),
        table: String::from_utf8_lossy(&table).into_owned(),
    }))
}

/// The roadmap's table of `page` (ROADMAP_PAGE features from `offset`), with its explanation and
/// pager.
async fn roadmap_table(
    state: &AppState,
    ws: i64,
    l: Lang,
    page: cunjin_store::reports::roadmap::RoadmapPage,
    offset: usize,
) -> Result<bytes::Bytes, ApiError> {
    let weights = page.weights;
    let total = page.total;
    let entries = page.entries;
    // Names of the customers the explanations mention, not of every customer.
    let mut ids: Vec<i64> = entries
        .iter()
        .flat_map(|e| heaviest_promises(&e.terms.commitments).0)
        .map(|c| c.customer_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let customers: HashMap<i64, String> = state.store.customer_names(ws, &ids).await?;
    let shown = entries.len();
    let views = entries
        .into_iter()
        .map(|e| {
            let t = &e.terms;
            // The heaviest promises one line each; the rest summed on one line, so that the
            // lines still add up to the score (the API lists every promise).
            let (heaviest, rest) = heaviest_promises(&t.commitments);
            let mut terms: Vec<String> = heaviest
                .iter()
                .map(|c| {
                    let days = c
                        .days_until_due
                        .map(|d| format!(", {} {d}", l.t("roadmap.days_left")))
                        .unwrap_or_default();
                    format!(
                        "{}: {} {} × {} {} ÷ {} ({}) = {} · {} {:.2}{} → {}",
                        customers
                            .get(&c.customer_id)
                            .map(String::as_str)
                            .unwrap_or("?"),
                        l.t("col.value"),
                        amount(c.contract_value),
                        l.t("roadmap.share"),
                        c.share,
                        c.live_on_deal,
                        l.t("roadmap.commitments_on_deal"),
                        amount(c.value),
                        l.t("roadmap.urgency"),
                        c.urgency,
                        days,
                        amount(c.weighted),
                    )
                })
                .collect();
            if !rest.is_empty() {
                terms.push(format!(
                    "+ {} {} {}",
                    rest.len(),
                    l.t("roadmap.more_promises"),
                    amount(rest.iter().map(|c| c.weighted).sum())
                ));
            }
            let requesters = if t.requesters.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = t
                    .requesters
                    .iter()
                    .map(|r| format!("{} ×{}", r.name, r.weight))
                    .collect();
                format!(" ({}: {})", l.t("roadmap.requested_by"), names.join(", "))
            };
            terms.push(format!(
                "λ × {} = {} × {} = {}{requesters}",
                l.t("roadmap.demand"),
                amount(t.lambda),
                t.demand,
                amount(t.weighted_demand)
            ));
            terms.push(format!(
                "÷ max({} {}, 1) = {}",
                l.t("roadmap.effort"),
                t.effort_days.map(amount).unwrap_or_else(|| "—".into()),
                t.divisor
            ));
            if t.released_without_live {
                terms.push(l.t("roadmap.released_zero").to_string());
            }
            RoadmapView {
                rank: e.rank,
                summary: format!(
                    "({} + {}) ÷ {} = {}",
                    amount(t.value_urgency),
                    amount(t.weighted_demand),
                    t.divisor,
                    amount(e.score)
                ),
                score: amount(e.score),
                title: e.title,
                menu_path: e.menu_path,
                stage: e.stage,
                terms,
            }
        })
        .collect();
    let table = RoadmapTable {
        l,
        lambda: amount(weights.lambda),
        entries: views,
        total,
        first: offset + 1,
        last: offset + shown,
        prev: (offset > 0).then(|| offset.saturating_sub(ROADMAP_PAGE)),
        next: (offset + shown < total).then_some(offset + shown),
    };
    askama::Template::render(&table)
        .map(bytes::Bytes::from)
        .map_err(|e| {
            tracing::error!(error = %e, "template failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "路线图无法显示 / the roadmap could not be shown",
            )
        })
}
