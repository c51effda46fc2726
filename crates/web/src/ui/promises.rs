//! Recording a promise: the form, its checks and the commitment it writes.

use std::collections::HashMap;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::Form;
use cunjin_core::{CustomerId, Mode, Permission};
use cunjin_store::ledger::catalogue::FeatureFilter;
use serde::Deserialize;

use super::views::*;
use super::{fail, optional_id, PageResult};
use super::{redirect, render, Page};
use crate::api::CreateCommitment;
use crate::error::ApiError;
use crate::AppState;

/// The pages of this module and the forms they post to.
pub(super) fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/promises/new", get(promise_form))
        .route("/promises", post(record_promise))
}

async fn promise_page(p: &Page, state: &AppState, form: PromiseForm, error: String) -> PageResult {
    let ws = p.caller.ws();
    let customers = state.store.list_customers(ws).await.map_err(fail(p))?;
    let names: HashMap<CustomerId, &str> =
        customers.iter().map(|c| (c.id, c.name.as_str())).collect();
    let deals = state
        .store
        .list_deals(ws, None)
        .await
        .map_err(fail(p))?
        .into_iter()
        .map(|d| DealOption {
            id: d.id.0,
            customer_id: d.customer_id.0,
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
