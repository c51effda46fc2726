//! Webhooks and the transactional outbox that delivers to them.
//!
//! An event is written to `outbox` — one row per subscribed webhook, already in that service's
//! format — in the same transaction as the change that causes it, so a committed change always
//! has its message and a rolled-back one never does. `(webhook_id, dedupe_key)` is unique: an
//! event enqueued twice (two instances scanning for due commitments) is kept once.
//!
//! Sending is claimed row by row with a compare-and-set UPDATE (`claimed_by`, `claimed_until`):
//! only one live instance holds a row at a time. A crash between sending and marking the row
//! sent lets it go out again after the lease: delivery is at least once, and the dedupe key
//! travels with every message so that receivers can drop a repeat.

use chrono::{DateTime, NaiveDate, Utc};
use cunjin_core::notify::{
    digest_due, digest_key, due_key, retry_delay, Digest, DueReminder, DueWindow, Event, Notice,
    WebhookKind,
};
use cunjin_core::{web_link, ParseError};
use serde::Serialize;
use std::collections::HashSet;

use sqlx::{Any, AnyConnection, Transaction};

use crate::column::{Date, Flag};
use crate::ops::secrets::SecretColumn;
use crate::stored_time;
use crate::{now, Result, Store, StoreError};

/// A webhook, as answered: the signing secret is never echoed, only whether there is one.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Webhook {
    /// Id.
    pub id: i64,
    /// wecom, dingtalk, feishu, slack or generic.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "wecom"))]
    pub kind: WebhookKind,
    /// Where messages are posted, shown without its token: a chat robot's address is its
    /// credential (WeCom `key=`, DingTalk `access_token=`, Feishu and Slack in the path), so
    /// only the scheme, the host and the last 4 characters are answered.
    pub url: String,
    /// Subscribed events.
    pub events: Vec<String>,
    /// Whether messages are signed with a secret (DingTalk, Feishu).
    pub signed: bool,
    /// Whether it is on. While paused nothing new is enqueued for it and messages already
    /// pending wait until it is resumed.
    pub active: bool,
    /// Who added it.
    pub created_by: String,
    /// When (RFC 3339).
    pub created_at: String,
}

/// A webhook to add.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    /// Service.
    pub kind: WebhookKind,
    /// Address (http or https).
    pub url: String,
    /// Events to send.
    pub events: Vec<Event>,
    /// Signing secret (DingTalk, Feishu only).
    pub secret: Option<String>,
}

/// Changes to a webhook; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct WebhookChange {
    /// New address.
    pub url: Option<String>,
    /// New subscription.
    pub events: Option<Vec<Event>>,
    /// New secret; `Some(None)` removes it.
    pub secret: Option<Option<String>>,
    /// Pause or resume.
    pub active: Option<bool>,
}

/// One message to one webhook and how its delivery went.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    /// Id.
    pub id: i64,
    /// Webhook.
    pub webhook_id: i64,
    /// Event name.
    pub event: String,
    /// Identifies the message; the same on every attempt.
    pub dedupe_key: String,
    /// The message as posted.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[sqlx(try_from = "PayloadJson")]
    pub payload: serde_json::Value,
    /// pending, sent or failed (given up after the last retry).
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: String,
    /// What went wrong last time.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: String,
    /// When it was delivered.
    pub sent_at: Option<String>,
}

/// A claimed message, with what is needed to send it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Outgoing {
    /// Outbox row.
    pub id: i64,
    /// Webhook.
    pub webhook_id: i64,
    /// Service.
    #[sqlx(try_from = "String")]
    pub kind: WebhookKind,
    /// Address.
    pub url: String,
    /// Signing secret.
    pub secret: Option<String>,
    /// The message (JSON text).
    pub payload: String,
    /// Identifies the message for the receiver.
    pub dedupe_key: String,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Tried again at this time.
    RetryAt(DateTime<Utc>),
    /// Given up: marked `failed`.
    GaveUp,
}

const MAX_SECRET_CHARS: usize = 200;
/// Webhooks per workspace: every event is written once per webhook, in the transaction of the
/// change, so their number bounds what a decision costs.
pub const MAX_WEBHOOKS: i64 = 20;

fn check_secret(kind: WebhookKind, secret: Option<&str>) -> Result<Option<String>> {
    match secret.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(_) if !kind.signs() => Err(ParseError::new(
            "secret",
            format!(
                "{} webhooks are not signed; leave the secret out",
                kind.as_str()
            ),
        )
        .into()),
        Some(s) if s.chars().count() > MAX_SECRET_CHARS || s.chars().any(char::is_control) => {
            Err(ParseError::new("secret", format!("at most {MAX_SECRET_CHARS} characters")).into())
        }
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// A subscription: at least one event, and only events a webhook can subscribe to (not `test`).
fn check_events(events: &[Event]) -> Result<()> {
    if events.is_empty() {
        return Err(ParseError::new("events", "choose at least one event").into());
    }
    match events.iter().find(|e| !Event::SUBSCRIBABLE.contains(e)) {
        Some(e) => Err(ParseError::one_of(
            "events",
            e.as_str(),
            &Event::SUBSCRIBABLE.map(Event::as_str),
        )
        .into()),
        None => Ok(()),
    }
}

fn events_json(events: &[Event]) -> String {
    let names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
    serde_json::Value::from(names).to_string()
}

/// `https://qyapi.weixin.qq.com/…ab12` for a link whose path and query are longer than 8
/// characters (they hold the robot's token); shorter ones as they are. Credentials before the
/// host are dropped.
fn masked_link(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, tail) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let prefix = if scheme.is_empty() {
        host.to_string()
    } else {
        format!("{scheme}://{host}")
    };
    let n = tail.chars().count();
    if n <= 8 {
        return format!("{prefix}{tail}");
    }
    let last: String = tail.chars().skip(n - 4).collect();
    format!("{prefix}/…{last}")
}

/// A list of event names stored as JSON text.
#[derive(sqlx::Type)]
#[sqlx(transparent)]
struct EventsJson(String);

impl TryFrom<EventsJson> for Vec<String> {
    type Error = serde_json::Error;
    fn try_from(e: EventsJson) -> std::result::Result<Self, serde_json::Error> {
        serde_json::from_str(&e.0)
    }
}

/// A webhook as stored: its address whole, its secret sealed.
#[derive(sqlx::FromRow)]
struct WebhookRow {
    id: i64,
    #[sqlx(try_from = "String")]
    kind: WebhookKind,
    url: String,
    #[sqlx(try_from = "EventsJson")]
    events: Vec<String>,
    secret: Option<String>,
    #[sqlx(try_from = "Flag")]
    active: bool,
    created_by: String,
    created_at: String,
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Webhook {
        Webhook {
            id: r.id,
            kind: r.kind,
            url: masked_link(&r.url),
            events: r.events,
            signed: r.secret.is_some(),
            active: r.active,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

/// A message as the outbox keeps it, the payload JSON text.
#[derive(sqlx::Type)]
#[sqlx(transparent)]
struct PayloadJson(String);

impl TryFrom<PayloadJson> for serde_json::Value {
    type Error = serde_json::Error;
    fn try_from(p: PayloadJson) -> std::result::Result<Self, serde_json::Error> {
        serde_json::from_str(&p.0)
    }
}

const DELIVERY_COLUMNS: &str = "id, webhook_id, event, dedupe_key, payload, status, attempts, \
     next_attempt_at, last_error, created_at, sent_at";

const WEBHOOK_COLUMNS: &str = "id, kind, url, events, secret, active, created_by, created_at";

/// A webhook as the outbox needs it to write a message.
#[derive(sqlx::FromRow)]
pub(crate) struct Target {
    id: i64,
    #[sqlx(try_from = "String")]
    kind: WebhookKind,
    /// The workspace's name, shown in the message.
    workspace: String,
}

/// The active webhooks of a workspace subscribed to `event`.
pub(crate) async fn subscribed(
    conn: &mut AnyConnection,
    workspace_id: i64,
    event: Event,
) -> Result<Vec<Target>> {
    /// A webhook with the events it is subscribed to.
    #[derive(sqlx::FromRow)]
    struct Subscriber {
        #[sqlx(flatten)]
        target: Target,
        #[sqlx(try_from = "EventsJson")]
        events: Vec<String>,
    }
    let rows: Vec<Subscriber> = sqlx::query_as(
        "SELECT w.id, w.kind, w.events, s.name AS workspace FROM webhooks w \
         JOIN workspaces s ON s.id = w.workspace_id \
         WHERE w.workspace_id = $1 AND w.active = 1 ORDER BY w.id",
    )
    .bind(workspace_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|h| h.events.iter().any(|e| e == event.as_str()))
        .map(|h| h.target)
        .collect())
}

/// Writes `notice` to the outbox of one webhook; `None` when its `dedupe_key` is already there.
/// Returns the row's id and payload.
async fn write_message(
    conn: &mut AnyConnection,
    workspace_id: i64,
    target: &Target,
    notice: &Notice,
    dedupe_key: &str,
    at: &str,
) -> Result<Option<(i64, serde_json::Value)>> {
    let payload = notice.render(target.kind, &target.workspace, dedupe_key);
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO outbox (workspace_id, webhook_id, event, dedupe_key, payload, status, attempts, \
         next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6) \
         ON CONFLICT (webhook_id, dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(workspace_id)
    .bind(target.id)
    .bind(notice.event.as_str())
    .bind(dedupe_key)
    .bind(payload.to_string())
    .bind(at)
    .fetch_optional(conn)
    .await?;
    Ok(id.map(|id| (id, payload)))
}

/// Writes `notice` to the outbox of each of `targets`, inside the caller's transaction. Returns
/// the rows written; a `dedupe_key` already there for a webhook writes nothing for it.
pub(crate) async fn enqueue_to<'a>(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    targets: impl IntoIterator<Item = &'a Target>,
    notice: &Notice,
    dedupe_key: &str,
) -> Result<u64> {
    let ts = now();
    let mut written = 0;
    for t in targets {
        if write_message(tx, workspace_id, t, notice, dedupe_key, &ts)
            .await?
            .is_some()
        {
            written += 1;
        }
    }
    Ok(written)
}

/// Writes `notice` to the outbox for every active webhook of the workspace subscribed to its
/// event, inside the caller's transaction. Returns the rows written; a `dedupe_key` already
/// there for a webhook writes nothing for it.
pub(crate) async fn enqueue(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    notice: &Notice,
    dedupe_key: &str,
) -> Result<u64> {
    let targets = subscribed(tx, workspace_id, notice.event).await?;
    enqueue_to(tx, workspace_id, &targets, notice, dedupe_key).await
}

impl Store {
    /// Adds a webhook.
    pub async fn create_webhook(
        &self,
        workspace_id: i64,
        actor: &str,
        new: NewWebhook,
    ) -> Result<Webhook> {
        let url = web_link("url", &new.url)?;
        check_events(&new.events)?;
        let secret = check_secret(new.kind, new.secret.as_deref())?
            .map(|s| self.seal(SecretColumn::WebhookSecret, &s))
            .transpose()?;
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE workspace_id = $1")
                .bind(workspace_id)
                .fetch_one(self.reader())
                .await?;
        if count >= MAX_WEBHOOKS {
            return Err(StoreError::Conflict(format!(
                "a workspace has at most {MAX_WEBHOOKS} webhooks; remove one first"
            )));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO webhooks (workspace_id, kind, url, events, secret, active, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $7) RETURNING id",
        )
        .bind(workspace_id)
        .bind(new.kind.as_str())
        .bind(&url)
        .bind(events_json(&new.events))
        .bind(secret)
        .bind(actor)
        .bind(now())
        .fetch_one(self.writer())
        .await?;
        self.get_webhook(workspace_id, id).await
    }

    /// The workspace's webhooks, oldest first.
    pub async fn list_webhooks(&self, workspace_id: i64) -> Result<Vec<Webhook>> {
        let rows: Vec<WebhookRow> = sqlx::query_as(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1 ORDER BY id"
        ))
        .bind(workspace_id)
        .fetch_all(self.reader())
        .await?;
        Ok(rows.into_iter().map(Webhook::from).collect())
    }

    /// One webhook.
    pub async fn get_webhook(&self, workspace_id: i64, id: i64) -> Result<Webhook> {
        let r: WebhookRow = sqlx::query_as(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE workspace_id = $1 AND id = $2"
        ))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(self.reader())
        .await?
        .ok_or_else(|| StoreError::not_found("webhook", id))?;
        Ok(r.into())
    }

    /// Changes a webhook.
    pub async fn update_webhook(
        &self,
        workspace_id: i64,
        id: i64,
        change: WebhookChange,
    ) -> Result<Webhook> {
        let hook = self.get_webhook(workspace_id, id).await?;
        let url = change
            .url
            .as_deref()
            .map(|u| web_link("url", u))
            .transpose()?;
        change.events.as_deref().map(check_events).transpose()?;
        let secret = change
            .secret
            .as_ref()
            .map(|s| check_secret(hook.kind, s.as_deref()))
            .transpose()?
            .map(|s| {
                s.map(|s| self.seal(SecretColumn::WebhookSecret, &s))
                    .transpose()
            })
            .transpose()?;
        sqlx::query(
            "UPDATE webhooks SET url = COALESCE($1, url), events = COALESCE($2, events), \
             secret = CASE WHEN $3 = 1 THEN $4 ELSE secret END, active = COALESCE($5, active) \
             WHERE workspace_id = $6 AND id = $7",
        )
        .bind(url)
        .bind(change.events.as_deref().map(events_json))
        .bind(i64::from(secret.is_some()))
        .bind(secret.flatten())
        .bind(change.active.map(i64::from))
        .bind(workspace_id)
        .bind(id)
        .execute(self.writer())
        .await?;
        self.get_webhook(workspace_id, id).await
    }

    /// Removes a webhook and its messages.
    pub async fn delete_webhook(&self, workspace_id: i64, id: i64) -> Result<()> {
        let mut tx = self.writer().begin().await?;
        sqlx::query("DELETE FROM outbox WHERE workspace_id = $1 AND webhook_id = $2")
            .bind(workspace_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query("DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::not_found("webhook", id));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Enqueues a test message to one webhook (even an inactive one waits in the outbox).
    pub async fn enqueue_test_message(&self, workspace_id: i64, id: i64) -> Result<Delivery> {
        let key = format!("test:{}", crate::access::auth::new_secret());
        let mut tx = self.writer().begin().await?;
        let target: Target = sqlx::query_as(
            "SELECT w.id, w.kind, s.name AS workspace FROM webhooks w \
             JOIN workspaces s ON s.id = w.workspace_id WHERE w.workspace_id = $1 AND w.id = $2",
        )
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::not_found("webhook", id))?;
        let ts = now();
        let notice = Notice::test();
        let (row, payload) = write_message(&mut tx, workspace_id, &target, &notice, &key, &ts)
            .await?
            .ok_or_else(|| StoreError::Conflict("a test message with this key exists".into()))?;
        tx.commit().await?;
        Ok(Delivery {
            id: row,
            webhook_id: id,
            event: notice.event.as_str().to_string(),
            dedupe_key: key,
            payload,
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: ts.clone(),
            last_error: None,
            created_at: ts,
            sent_at: None,
        })
    }

    /// The latest messages to a webhook, newest first.
    pub async fn deliveries(
        &self,
        workspace_id: i64,
        webhook_id: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        self.get_webhook(workspace_id, webhook_id).await?;
        Ok(sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE workspace_id = $1 AND webhook_id = $2 \
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(workspace_id)
        .bind(webhook_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }

    /// The latest `per_webhook` messages of each of the workspace's webhooks, newest first.
    pub async fn latest_deliveries(
        &self,
        workspace_id: i64,
        per_webhook: i64,
    ) -> Result<Vec<Delivery>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM (SELECT o.*, ROW_NUMBER() OVER \
             (PARTITION BY webhook_id ORDER BY id DESC) AS n FROM outbox o WHERE workspace_id = $1) t \
             WHERE n <= $2 ORDER BY id DESC"
        ))
        .bind(workspace_id)
        .bind(per_webhook)
        .fetch_all(self.reader())
        .await?)
    }

    /// Messages due at `at`, in every workspace, that nobody holds: pending, due, unclaimed or
    /// with an expired lease, to an active webhook.
    pub async fn due_deliveries(&self, at: DateTime<Utc>, limit: i64) -> Result<Vec<i64>> {
        let at = stored_time(at);
        Ok(sqlx::query_scalar(
            "SELECT o.id FROM outbox o JOIN webhooks w ON w.id = o.webhook_id \
             WHERE o.status = 'pending' AND o.next_attempt_at <= $1 \
             AND (o.claimed_until IS NULL OR o.claimed_until < $1) AND w.active = 1 \
             ORDER BY o.next_attempt_at, o.id LIMIT $2",
        )
        .bind(&at)
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }

    /// Claims one message for `instance` until `at + lease`; `None` when another instance got
    /// it first or it is no longer due. Only the instance whose UPDATE changed the row sends it.
    pub async fn claim_delivery(
        &self,
        id: i64,
        instance: &str,
        at: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Option<Outgoing>> {
        let now = stored_time(at);
        let n = sqlx::query(
            "UPDATE outbox SET claimed_by = $1, claimed_until = $2 WHERE id = $3 AND status = 'pending' \
             AND next_attempt_at <= $4 AND (claimed_until IS NULL OR claimed_until < $4)",
        )
        .bind(instance)
        .bind(stored_time(at + lease))
        .bind(id)
        .bind(&now)
        .execute(self.writer())
        .await?
        .rows_affected();
        if n != 1 {
            return Ok(None);
        }
        let mut out: Outgoing = sqlx::query_as(
            "SELECT o.id, o.webhook_id, w.kind, w.url, w.secret, o.payload, o.dedupe_key, o.attempts \
             FROM outbox o JOIN webhooks w ON w.id = o.webhook_id WHERE o.id = $1",
        )
        .bind(id)
        .fetch_one(self.writer())
        .await?;
        out.secret = out
            .secret
            .map(|s| self.unseal(SecretColumn::WebhookSecret, &s))
            .transpose()?;
        Ok(Some(out))
    }

    /// Marks a claimed message sent. `false` when this instance no longer holds it.
    pub async fn mark_delivered(&self, id: i64, instance: &str, at: DateTime<Utc>) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = $1, last_error = NULL, \
             claimed_by = NULL, claimed_until = NULL WHERE id = $2 AND claimed_by = $3 AND status = 'pending'",
        )
        .bind(stored_time(at))
        .bind(id)
        .bind(instance)
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Records a failed attempt of a claimed message: retried later by the schedule of
    /// `retry_delay`, or given up after the last attempt.
    pub async fn mark_failed_attempt(
        &self,
        out: &Outgoing,
        instance: &str,
        at: DateTime<Utc>,
        error: &str,
    ) -> Result<AfterFailure> {
        let attempts = u32::try_from(out.attempts.max(0) + 1).unwrap_or(u32::MAX);
        let after = match retry_delay(attempts) {
            Some(d) => AfterFailure::RetryAt(at + d),
            None => AfterFailure::GaveUp,
        };
        let (status, next) = match after {
            AfterFailure::RetryAt(t) => ("pending", stored_time(t)),
            AfterFailure::GaveUp => ("failed", stored_time(at)),
        };
        let error: String = error.chars().take(500).collect();
        sqlx::query(
            "UPDATE outbox SET status = $1, attempts = attempts + 1, next_attempt_at = $2, last_error = $3, \
             claimed_by = NULL, claimed_until = NULL WHERE id = $4 AND claimed_by = $5 AND status = 'pending'",
        )
        .bind(status)
        .bind(next)
        .bind(error)
        .bind(out.id)
        .bind(instance)
        .execute(self.writer())
        .await?;
        Ok(after)
    }

    /// Deletes messages sent or given up before `before`; pending ones are kept whatever their
    /// age. Returns how many were deleted.
    pub async fn delete_old_deliveries(&self, before: DateTime<Utc>) -> Result<u64> {
        Ok(
            sqlx::query(
                "DELETE FROM outbox WHERE status IN ('sent', 'failed') AND created_at < $1",
            )
            .bind(stored_time(before))
            .execute(self.writer())
            .await?
            .rows_affected(),
        )
    }

    /// Enqueues the reminders (催办) of `today` in every workspace that has a webhook for them:
    /// commitments still open or delivered that are due within 14, 7 or 1 days, or overdue by at
    /// most 30 days (older ones would flood a new chat group). Each reminder is enqueued once
    /// per commitment, due date and window, however often and on however many instances the
    /// scan runs. Returns the messages written.
    pub async fn enqueue_due_reminders(&self, today: NaiveDate) -> Result<u64> {
        let from = today - chrono::Days::new(30);
        let to = today + chrono::Days::new(14);
        let event = Event::CommitmentDue;
        /// A commitment a reminder may be due for.
        #[derive(sqlx::FromRow)]
        struct DueRow {
            workspace_id: i64,
            id: i64,
            #[sqlx(try_from = "Date")]
            due_date: NaiveDate,
            #[sqlx(try_from = "Flag")]
            critical: bool,
            customer: String,
            feature: String,
        }
        let rows: Vec<DueRow> = sqlx::query_as(
            "SELECT c.workspace_id, c.id, c.due_date, c.critical, cu.name AS customer, f.title AS feature \
             FROM commitments c JOIN customers cu ON cu.id = c.customer_id JOIN features f ON f.id = c.feature_id \
             WHERE c.status IN ('open', 'delivered') AND c.due_date IS NOT NULL \
             AND c.due_date >= $1 AND c.due_date <= $2 \
             AND c.workspace_id IN (SELECT workspace_id FROM webhooks WHERE active = 1 AND events LIKE $3) \
             ORDER BY c.workspace_id, c.due_date, c.id",
        )
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(format!("%\"{}\"%", event.as_str()))
        .fetch_all(self.reader())
        .await?;
        // The reminders of each workspace, in the order of the rows.
        let mut by_workspace: Vec<(i64, Vec<(String, DueReminder)>)> = Vec::new();
        for r in rows {
            let (ws, due) = (r.workspace_id, r.due_date);
            let Some(window) = DueWindow::of(today, due) else {
                continue;
            };
            let reminder = DueReminder {
                commitment_id: r.id,
                customer: r.customer,
                feature: r.feature,
                due_date: due,
                days_left: (due - today).num_days(),
                critical: r.critical,
            };
            let key = due_key(reminder.commitment_id, due, window);
            match by_workspace.last_mut() {
                Some((w, list)) if *w == ws => list.push((key, reminder)),
                _ => by_workspace.push((ws, vec![(key, reminder)])),
            }
        }
        let mut written = 0;
        for (ws, reminders) in by_workspace {
            // Reminders already enqueued, to each webhook, read once before writing.
            let sent: Vec<(i64, String)> = sqlx::query_as(
                "SELECT webhook_id, dedupe_key FROM outbox WHERE workspace_id = $1 AND event = $2",
            )
            .bind(ws)
            .bind(event.as_str())
            .fetch_all(self.reader())
            .await?;
            let sent: HashSet<(i64, String)> = sent.into_iter().collect();
            let mut tx = self.writer().begin().await?;
            let targets = subscribed(&mut tx, ws, event).await?;
            for (key, reminder) in &reminders {
                let missing: Vec<&Target> = targets
                    .iter()
                    .filter(|t| !sent.contains(&(t.id, key.clone())))
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                let notice = Notice::commitment_due(reminder);
                written += enqueue_to(&mut tx, ws, missing, &notice, key).await?;
            }
            tx.commit().await?;
        }
        Ok(written)
    }

    /// Enqueues the weekly digest of the week of `today` in every workspace with a webhook for
    /// it, once per ISO week, from Friday on. Returns the messages written.
    pub async fn enqueue_weekly_digests(&self, today: NaiveDate) -> Result<u64> {
        /// A commitment due next week, as the digest lists it.
        #[derive(sqlx::FromRow)]
        struct DueNextWeek {
            customer: String,
            feature: String,
            #[sqlx(try_from = "Date")]
            due_date: NaiveDate,
        }
        if !digest_due(today) {
            return Ok(0);
        }
        let key = digest_key(today);
        // Workspaces with a subscribed webhook that has not had this week's digest yet.
        let candidates: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT w.workspace_id FROM webhooks w WHERE w.active = 1 AND w.events LIKE $1 \
             AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.webhook_id = w.id AND o.dedupe_key = $2) \
             ORDER BY w.workspace_id",
        )
        .bind(format!("%\"{}\"%", Event::WeeklyDigest.as_str()))
        .bind(&key)
        .fetch_all(self.reader())
        .await?;
        let monday = cunjin_core::progress::week_start(today);
        let next_monday = monday + chrono::Days::new(7);
        let next_sunday = monday + chrono::Days::new(13);
        let mut written = 0;
        for ws in candidates {
            let week = self.week_progress(ws, None, today).await?;
            let decisions: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM requests WHERE workspace_id = $1 AND decision <> 'new' \
                 AND decided_at IS NOT NULL AND decided_at >= $2",
            )
            .bind(ws)
            .bind(monday.to_string())
            .fetch_one(self.reader())
            .await?;
            let due: Vec<DueNextWeek> = sqlx::query_as(
                "SELECT cu.name AS customer, f.title AS feature, c.due_date FROM commitments c \
                 JOIN customers cu ON cu.id = c.customer_id JOIN features f ON f.id = c.feature_id \
                 WHERE c.workspace_id = $1 AND c.status IN ('open', 'delivered') \
                 AND c.due_date >= $2 AND c.due_date <= $3 ORDER BY c.due_date, c.id",
            )
            .bind(ws)
            .bind(next_monday.to_string())
            .bind(next_sunday.to_string())
            .fetch_all(self.reader())
            .await?;
            let digest = Digest {
                week: cunjin_core::notify::iso_week(today),
                chi: week.now.chi,
                cun: week.now.cun,
                gained_chi: week.gained.chi,
                gained_cun: week.gained.cun,
                decisions: decisions.max(0) as u64,
                due_next_week: due
                    .into_iter()
                    .map(|d| (d.customer, d.feature, d.due_date))
                    .collect(),
            };
            let mut tx = self.writer().begin().await?;
            written += enqueue(&mut tx, ws, &Notice::weekly_digest(&digest), &key).await?;
            tx.commit().await?;
        }
        Ok(written)
    }
}

#[cfg(test)]
mod link_tests {
    use super::masked_link;

    #[test]
    fn a_robot_address_is_shown_without_its_token() {
        assert_eq!(
            masked_link("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"),
            "https://qyapi.weixin.qq.com/…5aaa"
        );
        assert_eq!(
            masked_link("https://open.feishu.cn/open-apis/bot/v2/hook/abcdef123456"),
            "https://open.feishu.cn/…3456"
        );
        assert_eq!(
            masked_link("https://u:p@hooks.example/x"),
            "https://hooks.example/x"
        );
        assert_eq!(
            masked_link("http://127.0.0.1:9/pm"),
            "http://127.0.0.1:9/pm"
        );
    }
}
