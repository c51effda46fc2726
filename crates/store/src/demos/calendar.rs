//! The calendar link: one unguessable token per workspace that opens its ICS feed of demos,
//! deal acceptance dates and commitment due dates. Rotating it kills the old link.
//!
//! The token is kept as is (like status links) so that the link can be shown again; it only
//! grants reading dates, titles and customer names.

use crate::column::{Date, Flag};
use crate::{access::links, Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use cunjin_core::calendar::{CalendarEvent, When};

/// How far back the feed reaches.
const PAST_DAYS: u64 = 90;
/// Most entries of each kind in the feed.
const MAX_PER_KIND: i64 = 2000;
/// How long a demo is shown in the calendar.
const DEMO_MINUTES: i64 = 90;

/// A demo as the feed shows it.
#[derive(sqlx::FromRow)]
struct DemoEntry {
    id: i64,
    title: String,
    customer: String,
    starts_at: String,
    attendees: String,
}

/// A deal's acceptance date.
#[derive(sqlx::FromRow)]
struct AcceptanceEntry {
    id: i64,
    deal: String,
    customer: String,
    #[sqlx(try_from = "Date")]
    day: NaiveDate,
}

/// A commitment's due date.
#[derive(sqlx::FromRow)]
struct DueEntry {
    id: i64,
    feature: String,
    customer: String,
    #[sqlx(try_from = "Date")]
    day: NaiveDate,
    #[sqlx(try_from = "Flag")]
    critical: bool,
    status: String,
}

impl Store {
    /// The workspace's calendar token, if one was made: a feed that nobody asked for does not
    /// exist, so reading the link never makes one (creating it is
    /// [`Store::rotate_calendar_token`], a POST).
    pub async fn calendar_token(&self, workspace_id: i64) -> Result<Option<String>> {
        self.current_link_token(links::CALENDAR, workspace_id).await
    }

    /// Makes the calendar token, or replaces it: the old link stops working at once.
    pub async fn rotate_calendar_token(&self, workspace_id: i64, actor: &str) -> Result<String> {
        self.rotate_link_token(links::CALENDAR, workspace_id, actor)
            .await
    }

    /// The workspace a calendar token opens, if it is current.
    pub async fn workspace_for_calendar(&self, token: &str) -> Result<Option<i64>> {
        self.workspace_for_link(links::CALENDAR, token).await
    }

    /// The workspace's name and calendar entries from `PAST_DAYS` before `today` on: demos,
    /// acceptance dates of deals, due dates of open and delivered commitments.
    pub async fn calendar_events(
        &self,
        workspace_id: i64,
        today: NaiveDate,
    ) -> Result<(String, Vec<CalendarEvent>)> {
        let name: String = sqlx::query_scalar("SELECT name FROM workspaces WHERE id = $1")
            .bind(workspace_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or_else(|| StoreError::not_found("workspace", workspace_id))?;
        let from = today - chrono::Days::new(PAST_DAYS);
        let mut events = Vec::new();
        let demos: Vec<DemoEntry> = sqlx::query_as(
            "SELECT d.id, d.title, c.name AS customer, d.starts_at, d.attendees FROM demos d \
             JOIN customers c ON c.id = d.customer_id \
             WHERE d.workspace_id = $1 AND d.starts_at >= $2 ORDER BY d.starts_at, d.id LIMIT $3",
        )
        .bind(workspace_id)
        .bind(from.to_string())
        .bind(MAX_PER_KIND)
        .fetch_all(self.reader())
        .await?;
        for r in demos {
            let (id, customer) = (r.id, r.customer);
            let at = DateTime::parse_from_rfc3339(&r.starts_at)
                .map_err(|_| StoreError::Corrupt(format!("demo start '{}'", r.starts_at)))?
                .with_timezone(&Utc);
            let attendees: Vec<String> = serde_json::from_str(&r.attendees).unwrap_or_default();
            let mut description = format!("客户 Customer: {customer}");
            if !attendees.is_empty() {
                description.push_str(&format!("\n参加 Attendees: {}", attendees.join("、")));
            }
            events.push(CalendarEvent {
                uid: format!("demo-{id}@cunjin"),
                summary: format!("演示 Demo: {}", r.title),
                description,
                when: When::At(at, DEMO_MINUTES),
            });
        }
        let deals: Vec<AcceptanceEntry> = sqlx::query_as(
            "SELECT d.id, d.name AS deal, c.name AS customer, d.acceptance_date AS day FROM deals d \
             JOIN customers c ON c.id = d.customer_id \
             WHERE d.workspace_id = $1 AND d.acceptance_date IS NOT NULL AND d.acceptance_date >= $2 \
             ORDER BY d.acceptance_date, d.id LIMIT $3",
        )
        .bind(workspace_id)
        .bind(from.to_string())
        .bind(MAX_PER_KIND)
        .fetch_all(self.reader())
        .await?;
        for AcceptanceEntry {
            id,
            deal,
            customer,
            day,
        } in deals
        {
            events.push(CalendarEvent {
                uid: format!("acceptance-{id}@cunjin"),
                summary: format!("验收 Acceptance: {customer} · {deal}"),
                description: format!("客户 Customer: {customer}\n合同 Deal: {deal}"),
                when: When::Day(day),
            });
        }
        let due: Vec<DueEntry> = sqlx::query_as(
            "SELECT k.id, f.title AS feature, c.name AS customer, k.due_date AS day, k.critical, k.status \
             FROM commitments k \
             JOIN customers c ON c.id = k.customer_id JOIN features f ON f.id = k.feature_id \
             WHERE k.workspace_id = $1 AND k.status IN ('open', 'delivered') \
             AND k.due_date IS NOT NULL AND k.due_date >= $2 ORDER BY k.due_date, k.id LIMIT $3",
        )
        .bind(workspace_id)
        .bind(from.to_string())
        .bind(MAX_PER_KIND)
        .fetch_all(self.reader())
        .await?;
        for DueEntry {
            id,
            feature,
            customer,
            day,
            critical,
            status,
        } in due
        {
            let mut description = format!(
                "客户 Customer: {customer}\n功能 Feature: {feature}\n状态 Status: {status}"
            );
            if critical {
                description.push_str("\n验收必须 Acceptance-critical");
            }
            events.push(CalendarEvent {
                uid: format!("commitment-{id}@cunjin"),
                summary: format!("承诺到期 Due: {customer} · {feature}"),
                description,
                when: When::Day(day),
            });
        }
        Ok((name, events))
    }
}
