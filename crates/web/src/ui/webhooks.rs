//! The notifications page (admin and pm): webhooks with their last deliveries, a form to add
//! one, a test button, and the calendar link.

use super::Frame;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::response::Response;
use axum::Form;
use cunjin_core::notify::{Event, WebhookKind};
use cunjin_core::Permission;
use cunjin_store::notify::{Delivery, NewWebhook, Webhook};

use super::{api_error_page, redirect, redirect_with_flash, render, Page, PagePath, PageResult};
use crate::error::ApiError;
use crate::i18n::{event_key, kind_key};
use crate::outbound::Purpose;
use crate::AppState;

/// The pages of this module and the forms they post to.
pub(super) fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/webhooks", get(page).post(create))
        .route("/webhooks/{id}/test", post(test))
        .route("/webhooks/{id}/delete", post(delete))
        .route("/webhooks/calendar/rotate", post(rotate_calendar))
}

/// One webhook and its latest messages.
pub struct HookRow {
    pub hook: Webhook,
    pub deliveries: Vec<Delivery>,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
pub struct WebhooksPage {
    pub frame: Frame,
    pub error: String,
    pub saved: bool,
    pub hooks: Vec<HookRow>,
    pub kinds: Vec<&'static str>,
    pub events: Vec<&'static str>,
    pub calendar_url: String,
}
framed!(WebhooksPage);

impl WebhooksPage {
    /// The label of an event name (a test message for anything else).
    pub fn event_label(&self, e: &str) -> &'static str {
        let event = Event::SUBSCRIBABLE
            .into_iter()
            .find(|x| x.as_str() == e)
            .unwrap_or(Event::Test);
        self.l.t(event_key(event))
    }

    /// The label of a webhook kind.
    pub fn kind_label(&self, k: &str) -> &'static str {
        match WebhookKind::parse(k) {
            Ok(kind) => self.l.t(kind_key(kind)),
            Err(_) => "?",
        }
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
    let mut latest = state.store.latest_deliveries(ws, 5).await.map_err(&fail)?;
    let hooks = state
        .store
        .list_webhooks(ws)
        .await
        .map_err(&fail)?
        .into_iter()
        .map(|hook| {
            let (deliveries, rest) = latest.drain(..).partition(|d| d.webhook_id == hook.id);
            latest = rest;
            HookRow { hook, deliveries }
        })
        .collect();
    let token = state.store.calendar_token(ws).await.map_err(&fail)?;
    Ok(render(&WebhooksPage {
        frame: p.frame("webhooks"),
        error: super::flash(&headers),
        saved: query.0.is_some_and(|q| q.contains("saved")),
        hooks,
        kinds: WebhookKind::ALL.map(WebhookKind::as_str).to_vec(),
        events: Event::SUBSCRIBABLE.map(Event::as_str).to_vec(),
        calendar_url: token
            .map(|t| format!("/calendar/{t}.ics"))
            .unwrap_or_default(),
    }))
}

/// The add form: kind, url, secret and one checkbox named after each subscribable event.
#[derive(Default)]
struct HookForm {
    kind: String,
    url: String,
    secret: String,
    events: Vec<Event>,
}

impl HookForm {
    fn from_fields(fields: &[(String, String)]) -> HookForm {
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        HookForm {
            kind: field("kind"),
            url: field("url"),
            secret: field("secret"),
            events: Event::SUBSCRIBABLE
                .into_iter()
                .filter(|e| fields.iter().any(|(k, _)| k == e.as_str()))
                .collect(),
        }
    }
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
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let f = form
        .map(|f| HookForm::from_fields(&f.0))
        .unwrap_or_default();
    let result = async {
        p.caller
            .require(Permission::ManageWebhooks, "add webhooks")?;
        state.check_outbound(Purpose::Webhook, "url", &f.url)?;
        let new = NewWebhook {
            kind: WebhookKind::parse(f.kind.trim())?,
            url: f.url.clone(),
            events: f.events.clone(),
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
