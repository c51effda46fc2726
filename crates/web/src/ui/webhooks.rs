//! The notifications page (admin and pm): webhooks with their last deliveries, a form to add
//! one, a test button, and the calendar link.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::response::Response;
use axum::Form;
use cunjin_core::notify::{Event, WebhookKind};
use cunjin_core::Permission;
use cunjin_store::notifications::{Delivery, NewWebhook, Webhook};
use serde::Deserialize;

use super::{
    api_error_page, redirect, redirect_with_flash, render, Me, Page, PagePath, PageResult,
};
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::AppState;

/// One webhook and its latest messages.
pub struct HookRow {
    pub hook: Webhook,
    pub deliveries: Vec<Delivery>,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
pub struct WebhooksPage {
    pub l: Lang,
    pub me: Me,
    pub active: &'static str,
    pub error: String,
    pub saved: bool,
    pub hooks: Vec<HookRow>,
    pub kinds: Vec<&'static str>,
    pub events: Vec<&'static str>,
    pub calendar_url: String,
}

impl WebhooksPage {
    /// The label of an event name.
    pub fn event_label(&self, e: &str) -> &'static str {
        self.l.t(match e {
            "readiness_failed" => "event.readiness_failed",
            "commitment_due" => "event.commitment_due",
            "request_decided" => "event.request_decided",
            "weekly_digest" => "event.weekly_digest",
            _ => "event.test",
        })
    }

    /// The label of a delivery status.
    pub fn status_label(&self, s: &str) -> &'static str {
        self.l.t(match s {
            "sent" => "delivery.sent",
            "failed" => "delivery.failed",
            _ => "delivery.pending",
        })
    }
}

fn allowed(p: &Page) -> Result<(), Response> {
    p.caller
        .require(Permission::ManageWebhooks, "manage notifications")
        .map_err(|e| api_error_page(p.l, &p.me(), e))
}

pub async fn page(
    p: Page,
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    query: axum::extract::RawQuery,
) -> PageResult {
    allowed(&p)?;
    let fail = super::fail(&p);
    let ws = p.caller.ws();
    let mut hooks = Vec::new();
    for hook in state.store.list_webhooks(ws).await.map_err(&fail)? {
        let deliveries = state
            .store
            .deliveries(ws, hook.id, 5)
            .await
            .map_err(&fail)?;
        hooks.push(HookRow { hook, deliveries });
    }
    let token = state
        .store
        .calendar_token(ws, p.caller.actor())
        .await
        .map_err(&fail)?;
    Ok(render(&WebhooksPage {
        l: p.l,
        me: p.me(),
        active: "webhooks",
        error: super::flash(&headers),
        saved: query.0.is_some_and(|q| q.contains("saved")),
        hooks,
        kinds: WebhookKind::ALL.map(WebhookKind::as_str).to_vec(),
        events: Event::SUBSCRIBABLE.map(Event::as_str).to_vec(),
        calendar_url: format!("/calendar/{token}.ics"),
    }))
}

/// The add form: one checkbox per event.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct HookForm {
    kind: String,
    url: String,
    secret: String,
    readiness_failed: Option<String>,
    commitment_due: Option<String>,
    request_decided: Option<String>,
    weekly_digest: Option<String>,
}

fn back(result: Result<(), ApiError>) -> Response {
    match result {
        Ok(()) => redirect("/webhooks?saved=1"),
        Err(e) => redirect_with_flash("/webhooks", &e.message),
    }
}

pub async fn create(
    p: Page,
    State(state): State<AppState>,
    form: Result<Form<HookForm>, FormRejection>,
) -> Response {
    let f = form.map(|f| f.0).unwrap_or_default();
    let result = async {
        p.caller
            .require(Permission::ManageWebhooks, "add webhooks")?;
        let events: Vec<Event> = [
            (&f.readiness_failed, Event::ReadinessFailed),
            (&f.commitment_due, Event::CommitmentDue),
            (&f.request_decided, Event::RequestDecided),
            (&f.weekly_digest, Event::WeeklyDigest),
        ]
        .into_iter()
        .filter(|(on, _)| on.is_some())
        .map(|(_, e)| e)
        .collect();
        if events.is_empty() {
            return Err(ApiError::invalid("events: choose at least one event"));
        }
        let new = NewWebhook {
            kind: WebhookKind::parse(f.kind.trim())?,
            url: f.url.clone(),
            events,
            secret: Some(f.secret.clone()).filter(|s| !s.trim().is_empty()),
        };
        state
            .store
            .create_webhook(p.caller.ws(), p.caller.actor(), new)
            .await?;
        Ok(())
    }
    .await;
    back(result)
}

pub async fn test(p: Page, State(state): State<AppState>, PagePath(id): PagePath<i64>) -> Response {
    let result = async {
        p.caller
            .require(Permission::ManageWebhooks, "test webhooks")?;
        state.store.enqueue_test_message(p.caller.ws(), id).await?;
        Ok(())
    }
    .await;
    back(result)
}

pub async fn delete(
    p: Page,
    State(state): State<AppState>,
    PagePath(id): PagePath<i64>,
) -> Response {
    let result = async {
        p.caller
            .require(Permission::ManageWebhooks, "remove webhooks")?;
        state.store.delete_webhook(p.caller.ws(), id).await?;
        Ok(())
    }
    .await;
    back(result)
}

pub async fn rotate_calendar(p: Page, State(state): State<AppState>) -> Response {
    let result = async {
        p.caller
            .require(Permission::ManageWebhooks, "rotate the calendar link")?;
        state
            .store
            .rotate_calendar_token(p.caller.ws(), p.caller.actor())
            .await?;
        Ok(())
    }
    .await;
    back(result)
}
