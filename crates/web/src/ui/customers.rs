//! Customers: the list, one customer's commitments with their criteria, and the forms that
//! move a commitment or tick a criterion.

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Form;
use cunjin_core::{CustomerId, Gap, Permission, Status};
use cunjin_store::ledger::commitments::CommitmentFilter;
use serde::Deserialize;

use super::views::*;
use super::PagePath;
use super::{fail, PageResult};
use super::{redirect, render, Page};
use crate::error::ApiError;
use crate::AppState;

/// The pages of this module and the forms they post to.
pub(super) fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/customers", get(customers))
        .route("/customers/{id}", get(customer))
        .route(
            "/customers/{id}/commitments/{cid}/transition",
            post(transition),
        )
        .route(
            "/customers/{id}/commitments/{cid}/criteria/{kid}",
            post(set_criterion),
        )
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
    let customer = state
        .store
        .get_customer(ws, CustomerId(id))
        .await
        .map_err(fail(&p))?;
    let deals = state
        .store
        .list_deals(ws, Some(CustomerId(id)))
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
