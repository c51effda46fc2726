//! Demos: a customer, a deal, a demo environment, a start time, attendees and a script; the last
//! readiness check kept on the demo; the claims of the 24 h and 1 h automatic checks; and
//! "record promises", which turns chosen script items into commitments in one transaction.

pub mod calendar;
pub mod environments;

use chrono::{DateTime, Utc};
use cunjin_core::{required_text, CustomerId, DealId, Mode};
use serde::{Deserialize, Deserializer, Serialize};

use crate::column::Flag;
use crate::ledger::catalogue::{get_feature_in, Feature};
use crate::ledger::commitments::{
    record_promise_audited_in, Commitment, FeatureRef, NewCommitment,
};
use crate::notify;
use crate::sql::Sql;
use crate::{now, stored_time, Result, Store, StoreError};
pub use cunjin_core::notify::CheckWindow;
use cunjin_core::notify::{Notice, ReadinessFailure};

/// One item of a demo's script.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DemoItem {
    /// Id.
    pub id: i64,
    /// Place in the script, from 0.
    pub position: i64,
    /// A catalogue feature, or
    pub feature_id: Option<i64>,
    /// free text.
    pub text: Option<String>,
    /// The customer expects to see it.
    pub must_show: bool,
    /// The feature, when it is one.
    pub feature: Option<Feature>,
    /// The commitment recorded from it after the demo.
    pub commitment_id: Option<i64>,
}

impl DemoItem {
    /// What the item is called on the talk track.
    pub fn title(&self) -> String {
        match (&self.feature, &self.text) {
            (Some(f), _) => f.title.clone(),
            (None, Some(t)) => t.clone(),
            (None, None) => String::new(),
        }
    }
}

/// A demo.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Demo {
    /// Id.
    pub id: i64,
    /// Customer.
    pub customer_id: i64,
    /// The customer's name.
    pub customer_name: String,
    /// Deal.
    pub deal_id: Option<i64>,
    /// Demo environment.
    pub environment_id: Option<i64>,
    /// The environment's name.
    pub environment_name: Option<String>,
    /// Title, e.g. "电子病历升级 方案演示".
    pub title: String,
    /// Start (RFC 3339, UTC).
    pub starts_at: String,
    /// Who attends.
    pub attendees: Vec<String>,
    /// The script.
    pub script: Vec<DemoItem>,
    /// The last readiness check.
    pub last_check: Option<DemoCheck>,
    /// When promises were recorded from it.
    pub promises_recorded_at: Option<String>,
}

/// A readiness check of a demo: the talk track.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DemoCheck {
    /// When it ran.
    pub checked_at: String,
    /// What ran it: `manual`, `24h`, `1h` or `cli`.
    pub trigger: String,
    /// Every must-show item is live, or fallback with a recording.
    pub ready: bool,
    /// Share of items shown live, 0–1.
    pub readiness: f64,
    /// One entry per script item.
    pub items: Vec<CheckedItem>,
}

/// The talk track of one script item.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckedItem {
    /// The script item.
    pub item_id: i64,
    /// Its feature.
    pub feature_id: Option<i64>,
    /// Feature title or the free text.
    pub title: String,
    /// Must-show.
    pub must_show: bool,
    /// Shown live, or fallback with a recording (checks stored before this field read false).
    #[serde(default)]
    pub covered: bool,
    /// live, fallback, unverified, menu, slides, words or promise.
    #[serde(deserialize_with = "mode_from_str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "live"))]
    pub mode: Mode,
    /// What to know, in English.
    pub notes: Vec<String>,
    /// What to know, in Chinese.
    pub notes_zh: Vec<String>,
    /// Planned release of the feature.
    pub target_release: Option<String>,
    /// Recording to fall back on.
    pub recording_url: Option<String>,
    /// Slide.
    pub slide_url: Option<String>,
    /// Menu path, to talk over.
    pub menu_path: Option<String>,
}

fn mode_from_str<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Mode, D::Error> {
    let s = String::deserialize(d)?;
    Mode::parse(&s).map_err(serde::de::Error::custom)
}

/// A script item to create.
#[derive(Debug, Clone)]
pub struct NewDemoItem {
    /// Feature, or
    pub feature_id: Option<i64>,
    /// free text.
    pub text: Option<String>,
    /// Must-show.
    pub must_show: bool,
}

/// A demo to create.
#[derive(Debug, Clone)]
pub struct NewDemo {
    /// Customer.
    pub customer_id: i64,
    /// Deal.
    pub deal_id: Option<i64>,
    /// Environment.
    pub environment_id: Option<i64>,
    /// Title (default: the customer's name and "演示 demo").
    pub title: Option<String>,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// Attendees.
    pub attendees: Vec<String>,
    /// Script.
    pub script: Vec<NewDemoItem>,
}

/// One item to turn into a commitment after the demo.
#[derive(Debug, Clone)]
pub struct PromisePick {
    /// The script item.
    pub item_id: i64,
    /// The mode it was actually shown in; by default the mode of the last check.
    pub shown_as: Option<Mode>,
    /// Acceptance-critical; by default its must-show flag.
    pub critical: Option<bool>,
    /// Acceptance criteria in the customer's words.
    pub criteria: Vec<String>,
}

/// The column that records when a window's check was done.
fn done_column(window: CheckWindow) -> &'static str {
    match window {
        CheckWindow::Day => "check_24h_done_at",
        CheckWindow::Hour => "check_1h_done_at",
    }
}

/// A demo whose automatic check is due.
#[derive(Debug, Clone)]
pub struct DueCheck {
    /// Workspace.
    pub workspace_id: i64,
    /// Demo.
    pub demo_id: i64,
    /// Window.
    pub window: CheckWindow,
}

const DEMO_COLUMNS: &str = "d.id, d.customer_id, c.name AS customer_name, d.deal_id, d.environment_id, \
     e.name AS environment_name, d.title, d.starts_at, d.attendees, d.last_check, d.promises_recorded_at";
const DEMO_FROM: &str = "demos d JOIN customers c ON c.id = d.customer_id LEFT JOIN environments e ON e.id = d.environment_id";

/// A demo as [`DEMO_COLUMNS`] read it: its attendees and last check still JSON text.
#[derive(sqlx::FromRow)]
struct DemoRow {
    id: i64,
    customer_id: i64,
    customer_name: String,
    deal_id: Option<i64>,
    environment_id: Option<i64>,
    environment_name: Option<String>,
    title: String,
    starts_at: String,
    attendees: String,
    last_check: Option<String>,
    promises_recorded_at: Option<String>,
}

impl TryFrom<DemoRow> for Demo {
    type Error = StoreError;
    fn try_from(r: DemoRow) -> Result<Demo> {
        let last_check = r
            .last_check
            .map(|s| {
                serde_json::from_str(&s)
                    .map_err(|e| StoreError::Corrupt(format!("last check: {e}")))
            })
            .transpose()?;
        Ok(Demo {
            id: r.id,
            customer_id: r.customer_id,
            customer_name: r.customer_name,
            deal_id: r.deal_id,
            environment_id: r.environment_id,
            environment_name: r.environment_name,
            title: r.title,
            starts_at: r.starts_at,
            attendees: serde_json::from_str(&r.attendees)
                .map_err(|e| StoreError::Corrupt(format!("attendees: {e}")))?,
            script: Vec::new(),
            last_check,
            promises_recorded_at: r.promises_recorded_at,
        })
    }
}

/// The demos the query `q` (over [`DEMO_COLUMNS`]) finds, without their scripts.
async fn fetch_demos(store: &Store, mut q: Sql<'_>) -> Result<Vec<Demo>> {
    let rows: Vec<DemoRow> = q.query_as().fetch_all(store.reader()).await?;
    rows.into_iter().map(Demo::try_from).collect()
}

/// A script item as stored, its feature not yet read.
#[derive(sqlx::FromRow)]
struct ItemRow {
    id: i64,
    position: i64,
    feature_id: Option<i64>,
    text: Option<String>,
    #[sqlx(try_from = "Flag")]
    must_show: bool,
    commitment_id: Option<i64>,
}

/// A demo and its customer, as a readiness notice names them.
#[derive(sqlx::FromRow)]
struct DemoNamed {
    title: String,
    customer: String,
    starts_at: String,
}

/// Changes to a demo; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct DemoChange {
    /// New title.
    pub title: Option<String>,
    /// New start; the automatic checks are due again for the new time.
    pub starts_at: Option<DateTime<Utc>>,
    /// New environment.
    pub environment_id: Option<i64>,
    /// New attendees.
    pub attendees: Option<Vec<String>>,
    /// A new script, replacing the old one (refused once promises were recorded from it).
    pub script: Option<Vec<NewDemoItem>>,
}

fn check_attendees(list: &[String]) -> Result<Vec<String>> {
    if list.len() > 100 {
        return Err(cunjin_core::ParseError::new("attendees", "at most 100").into());
    }
    Ok(list
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .map(|a| required_text("attendees", a, 200))
        .collect::<std::result::Result<_, _>>()?)
}

async fn insert_script(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    workspace_id: i64,
    demo_id: i64,
    script: &[NewDemoItem],
) -> Result<()> {
    if script.len() > 200 {
        return Err(cunjin_core::ParseError::new("script", "at most 200 items").into());
    }
    for (i, item) in script.iter().enumerate() {
        let text = item
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let text = match (item.feature_id, text) {
            (Some(f), None) => {
                get_feature_in(&mut **tx, workspace_id, f).await?;
                None
            }
            (None, Some(t)) => Some(required_text("script", t, 500)?),
            _ => {
                return Err(cunjin_core::ParseError::new(
                    "script",
                    format!("item {}: give feature_id or text, one of them", i + 1),
                )
                .into())
            }
        };
        sqlx::query(
            "INSERT INTO demo_items (workspace_id, demo_id, position, feature_id, text, must_show) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(workspace_id)
        .bind(demo_id)
        .bind(i as i64)
        .bind(item.feature_id)
        .bind(text)
        .bind(i64::from(item.must_show))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Changes a demo in one transaction. A new start time makes the 24 h and 1 h checks due
    /// again; a new script or environment drops the last check, which described the old one.
    pub async fn update_demo(
        &self,
        workspace_id: i64,
        id: i64,
        change: DemoChange,
    ) -> Result<Demo> {
        let demo = self.get_demo(workspace_id, id).await?;
        if let Some(e) = change.environment_id {
            self.get_environment(workspace_id, e).await?;
        }
        let title = match change.title.as_deref() {
            Some(t) => required_text("title", t, 300)?,
            None => demo.title.clone(),
        };
        let attendees = match &change.attendees {
            Some(a) => check_attendees(a)?,
            None => demo.attendees.clone(),
        };
        if change.script.is_some() && demo.script.iter().any(|i| i.commitment_id.is_some()) {
            return Err(StoreError::Conflict(
                "promises were recorded from this script; it can no longer be replaced".into(),
            ));
        }
        let moved = change
            .starts_at
            .map(stored_time)
            .filter(|t| *t != demo.starts_at);
        let stale = change.script.is_some()
            || change
                .environment_id
                .is_some_and(|e| Some(e) != demo.environment_id);
        let mut tx = self.writer().begin().await?;
        sqlx::query(
            "UPDATE demos SET title = $1, attendees = $2, environment_id = $3, starts_at = $4, \
             check_24h_done_at = CASE WHEN $5 = 1 THEN NULL ELSE check_24h_done_at END, \
             check_1h_done_at = CASE WHEN $5 = 1 THEN NULL ELSE check_1h_done_at END, \
             last_check = CASE WHEN $6 = 1 THEN NULL ELSE last_check END, \
             last_checked_at = CASE WHEN $6 = 1 THEN NULL ELSE last_checked_at END \
             WHERE workspace_id = $7 AND id = $8",
        )
        .bind(&title)
        .bind(serde_json::to_string(&attendees).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .bind(change.environment_id.or(demo.environment_id))
        .bind(moved.clone().unwrap_or(demo.starts_at.clone()))
        .bind(i64::from(moved.is_some()))
        .bind(i64::from(stale))
        .bind(workspace_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if let Some(script) = &change.script {
            sqlx::query("DELETE FROM demo_items WHERE workspace_id = $1 AND demo_id = $2")
                .bind(workspace_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            insert_script(&mut tx, workspace_id, id, script).await?;
        }
        tx.commit().await?;
        self.get_demo(workspace_id, id).await
    }

    /// Creates a demo with its script, in one transaction.
    pub async fn create_demo(&self, workspace_id: i64, new: NewDemo) -> Result<Demo> {
        let customer = self
            .get_customer(workspace_id, CustomerId(new.customer_id))
            .await?;
        if let Some(d) = new.deal_id {
            if self.get_deal(workspace_id, DealId(d)).await?.customer_id
                != CustomerId(new.customer_id)
            {
                return Err(StoreError::Conflict(format!(
                    "deal {d} belongs to another customer"
                )));
            }
        }
        if let Some(e) = new.environment_id {
            self.get_environment(workspace_id, e).await?;
        }
        let title = match new.title.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => required_text("title", t, 300)?,
            _ => format!("{} 演示 demo", customer.name),
        };
        let attendees = check_attendees(&new.attendees)?;
        let mut tx = self.writer().begin().await?;
        let ts = now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO demos (workspace_id, customer_id, deal_id, environment_id, title, starts_at, attendees, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(workspace_id)
        .bind(new.customer_id)
        .bind(new.deal_id)
        .bind(new.environment_id)
        .bind(&title)
        .bind(stored_time(new.starts_at))
        .bind(serde_json::to_string(&attendees).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .bind(&ts)
        .fetch_one(&mut *tx)
        .await?;
        insert_script(&mut tx, workspace_id, id, &new.script).await?;
        tx.commit().await?;
        self.get_demo(workspace_id, id).await
    }

    /// One demo with its script and last check.
    pub async fn get_demo(&self, workspace_id: i64, id: i64) -> Result<Demo> {
        let mut q = Sql::new(format!("SELECT {DEMO_COLUMNS} FROM {DEMO_FROM}"));
        q.push_bind(" WHERE d.workspace_id = ", workspace_id)
            .push_bind(" AND d.id = ", id);
        let mut demo = fetch_demos(self, q)
            .await?
            .pop()
            .ok_or_else(|| StoreError::not_found("demo", id))?;
        let rows: Vec<ItemRow> = sqlx::query_as(
            "SELECT id, position, feature_id, text, must_show, commitment_id FROM demo_items \
             WHERE workspace_id = $1 AND demo_id = $2 ORDER BY position, id",
        )
        .bind(workspace_id)
        .bind(id)
        .fetch_all(self.reader())
        .await?;
        for r in rows {
            let feature = match r.feature_id {
                Some(f) => Some(get_feature_in(self.reader(), workspace_id, f).await?),
                None => None,
            };
            demo.script.push(DemoItem {
                id: r.id,
                position: r.position,
                feature_id: r.feature_id,
                text: r.text,
                must_show: r.must_show,
                feature,
                commitment_id: r.commitment_id,
            });
        }
        Ok(demo)
    }

    /// Demos starting after `from` (all when `None`), soonest first; without their scripts.
    pub async fn list_demos(&self, workspace_id: i64, from: Option<&str>) -> Result<Vec<Demo>> {
        let mut q = Sql::new(format!("SELECT {DEMO_COLUMNS} FROM {DEMO_FROM}"));
        q.push_bind(" WHERE d.workspace_id = ", workspace_id)
            .and_cmp("d.starts_at", ">=", from)
            .push(" ORDER BY d.starts_at, d.id LIMIT 1000");
        fetch_demos(self, q).await
    }

    /// Keeps a readiness check on its demo.
    pub async fn save_demo_check(
        &self,
        workspace_id: i64,
        id: i64,
        check: &DemoCheck,
    ) -> Result<()> {
        let json = serde_json::to_string(check).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.writer().begin().await?;
        let n = sqlx::query("UPDATE demos SET last_check = $1, last_checked_at = $2 WHERE workspace_id = $3 AND id = $4")
            .bind(json)
            .bind(&check.checked_at)
            .bind(workspace_id)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::not_found("demo", id));
        }
        // An automatic check before the demo that finds it not ready is told to the team, in
        // the transaction that keeps the check.
        let window = CheckWindow::parse(&check.trigger).filter(|_| !check.ready);
        if let Some(window) = window {
            let r: DemoNamed = sqlx::query_as(
                "SELECT d.title, c.name AS customer, d.starts_at FROM demos d JOIN customers c ON c.id = d.customer_id \
                 WHERE d.workspace_id = $1 AND d.id = $2",
            )
            .bind(workspace_id)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let starts_at = r.starts_at;
            // One notice per demo, window and start time: checking again does not repeat it, a
            // demo moved to another time is told again.
            let key = format!("readiness:{id}:{}:{starts_at}", window.as_str());
            let failure = ReadinessFailure {
                demo_id: id,
                title: r.title,
                customer: r.customer,
                starts_at,
                window,
                readiness: check.readiness,
                not_ready: check
                    .items
                    .iter()
                    .filter(|i| i.must_show && !i.covered)
                    .map(|i| i.title.clone())
                    .collect(),
            };
            notify::enqueue(
                &mut tx,
                workspace_id,
                &Notice::readiness_failed(&failure),
                &key,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Demos, in every workspace, whose 24 h or 1 h check is due at `at` and not yet done.
    pub async fn due_demo_checks(&self, at: DateTime<Utc>) -> Result<Vec<DueCheck>> {
        let mut due = Vec::new();
        for window in [CheckWindow::Day, CheckWindow::Hour] {
            let rows: Vec<(i64, i64)> = sqlx::query_as(&format!(
                "SELECT workspace_id, id FROM demos WHERE {} IS NULL AND starts_at > $1 AND starts_at <= $2 \
                 ORDER BY starts_at LIMIT 500",
                done_column(window)
            ))
            .bind(stored_time(at))
            .bind(stored_time(at + chrono::Duration::hours(window.hours())))
            .fetch_all(self.reader())
            .await?;
            for (workspace_id, demo_id) in rows {
                due.push(DueCheck {
                    workspace_id,
                    demo_id,
                    window,
                });
            }
        }
        Ok(due)
    }

    /// Claims an automatic check; exactly one instance gets `true`. One check also settles
    /// every window the demo is already inside (a check within the last hour is also the
    /// 24-hour check), so that a demo due for both is checked once, not once per instance.
    pub async fn claim_demo_check(&self, due: &DueCheck) -> Result<bool> {
        let now = chrono::Utc::now();
        let n = sqlx::query(&format!(
            "UPDATE demos SET check_24h_done_at = COALESCE(check_24h_done_at, $1), \
             check_1h_done_at = CASE WHEN starts_at <= $2 THEN COALESCE(check_1h_done_at, $1) ELSE check_1h_done_at END \
             WHERE id = $3 AND {} IS NULL",
            done_column(due.window)
        ))
        .bind(stored_time(now))
        .bind(stored_time(now + chrono::Duration::hours(1)))
        .bind(due.demo_id)
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// After the demo: turns the chosen script items into commitments, all or none, each with
    /// the mode it was shown in (by default the mode of the last check; without a check what
    /// the feature's stage allows). Free-text items become `idea` features. An item already
    /// recorded is refused, so a double click does not promise twice.
    pub async fn record_demo_promises(
        &self,
        workspace_id: i64,
        actor: &str,
        demo_id: i64,
        picks: Vec<PromisePick>,
    ) -> Result<Vec<Commitment>> {
        let demo = self.get_demo(workspace_id, demo_id).await?;
        if picks.is_empty() {
            return Err(
                cunjin_core::ParseError::new("items", "choose at least one script item").into(),
            );
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(p) = picks.iter().find(|p| !seen.insert(p.item_id)) {
            return Err(cunjin_core::ParseError::new(
                "items",
                format!("script item {} is chosen twice", p.item_id),
            )
            .into());
        }
        let mut tx = self.begin_ledger(workspace_id).await?;
        let mut recorded = Vec::with_capacity(picks.len());
        for pick in picks {
            let item = demo
                .script
                .iter()
                .find(|i| i.id == pick.item_id)
                .ok_or_else(|| StoreError::not_found("script item", pick.item_id))?;
            if let Some(c) = item.commitment_id {
                return Err(StoreError::Conflict(format!(
                    "script item {} was already recorded as commitment {c}",
                    item.id
                )));
            }
            let checked = demo
                .last_check
                .as_ref()
                .and_then(|c| c.items.iter().find(|i| i.item_id == item.id))
                .map(|i| i.mode);
            let feature = match (item.feature_id, &item.text) {
                (Some(f), _) => FeatureRef::Id(f),
                (None, Some(t)) => FeatureRef::Title {
                    title: t.clone(),
                    product_id: None,
                },
                (None, None) => {
                    return Err(StoreError::Corrupt(format!(
                        "script item {} is empty",
                        item.id
                    )))
                }
            };
            let c = record_promise_audited_in(
                &mut tx,
                workspace_id,
                actor,
                NewCommitment {
                    customer_id: demo.customer_id,
                    deal_id: demo.deal_id,
                    feature,
                    shown_as: pick.shown_as.or(checked),
                    promised_by: Some(actor.to_string()),
                    promised_at: None,
                    due_date: None,
                    critical: pick.critical.unwrap_or(item.must_show),
                    criteria: pick.criteria,
                },
            )
            .await?;
            // Conditional, so that of two submissions racing past the check above one wins and
            // the other rolls back whole.
            let n = sqlx::query(
                "UPDATE demo_items SET commitment_id = $1 WHERE workspace_id = $2 AND id = $3 AND commitment_id IS NULL",
            )
            .bind(c.id)
            .bind(workspace_id)
            .bind(item.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict(format!(
                    "script item {} was recorded meanwhile",
                    item.id
                )));
            }
            recorded.push(c);
        }
        sqlx::query(
            "UPDATE demos SET promises_recorded_at = $1 WHERE workspace_id = $2 AND id = $3",
        )
        .bind(now())
        .bind(workspace_id)
        .bind(demo_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(recorded)
    }
}

/// The demo environments, probes and upcoming demos of the sample workspace.
///
/// "演示环境-本机" points at `http://127.0.0.1:8080`, the default address of `cunjin serve`
/// itself, so that with the defaults some probes pass (`/healthz`, the OpenAPI document) and
/// some fail (the HIS paths do not exist there): the talk track shows live and fallback items.
/// "演示环境-华东" points at a host that never resolves (`.invalid`): an environment that is
/// down, as the pre-sales team must learn before the meeting, not in it.
pub(crate) async fn seed_demos(
    store: &Store,
    ws: i64,
    today: chrono::NaiveDate,
    feature: impl Fn(&str) -> Result<i64>,
    deals: &[(i64, i64)],
) -> Result<(usize, usize)> {
    use crate::demos::environments::{NewEnvironment, NewProbe};
    let local = store
        .create_environment(
            ws,
            NewEnvironment {
                name: "演示环境-本机 (示例)".into(),
                base_url: "http://127.0.0.1:8080".into(),
                headers: [(
                    "X-Demo-Token".to_string(),
                    "sample-demo-login-token".to_string(),
                )]
                .into(),
                interval_s: Some(300),
            },
        )
        .await?;
    let east = store
        .create_environment(
            ws,
            NewEnvironment {
                name: "演示环境-华东 (示例)".into(),
                base_url: "https://demo-east.example.invalid/his".into(),
                headers: Default::default(),
                interval_s: Some(600),
            },
        )
        .await?;
    let probe = |env: i64, feature_id: Option<i64>, dataset: Option<&str>, path: &str| NewProbe {
        environment_id: env,
        feature_id,
        dataset: dataset.map(str::to_string),
        path: path.to_string(),
        timeout_ms: Some(3000),
        ..Default::default()
    };
    let probes = [
        NewProbe {
            expect_body: Some("ok".into()),
            ..probe(local.id, Some(feature("emr-template")?), None, "/healthz")
        },
        NewProbe {
            json_pointer: Some("/info/title".into()),
            json_value: Some("cunjin (寸进) API".into()),
            ..probe(
                local.id,
                Some(feature("emr-order-loop")?),
                None,
                "/api/v1/openapi.json",
            )
        },
        probe(
            local.id,
            Some(feature("his-rx-audit")?),
            None,
            "/his/api/rx-audit/rules",
        ),
        probe(
            local.id,
            Some(feature("his-insurance")?),
            None,
            "/his/api/insurance/ping",
        ),
        probe(
            east.id,
            Some(feature("drg-alert")?),
            None,
            "/api/drg/alerts",
        ),
        NewProbe {
            json_pointer: Some("/data/0/name".into()),
            json_value: Some("张三".into()),
            ..probe(
                east.id,
                None,
                Some("住院患者张三 (DRG 演示病例)"),
                "/api/patients?name=张三",
            )
        },
    ];
    for p in probes {
        store.create_probe(ws, p).await?;
    }
    let at = |days: i64, hour: u32, minute: u32| -> Result<DateTime<Utc>> {
        (today + chrono::Duration::days(days))
            .and_hms_opt(hour, minute, 0)
            .map(|t| t.and_utc())
            .ok_or_else(|| StoreError::Corrupt("demo seed: bad time".into()))
    };
    let item = |key: &str, must_show: bool| -> Result<NewDemoItem> {
        Ok(NewDemoItem {
            feature_id: Some(feature(key)?),
            text: None,
            must_show,
        })
    };
    let words = |text: &str| NewDemoItem {
        feature_id: None,
        text: Some(text.to_string()),
        must_show: false,
    };
    let demos = [
        NewDemo {
            customer_id: deals[0].1,
            deal_id: Some(deals[0].0),
            environment_id: Some(local.id),
            title: Some("电子病历与合理用药 方案演示".into()),
            // 09:30 Beijing time, two days from today.
            starts_at: at(2, 1, 30)?,
            attendees: vec![
                "王院长".into(),
                "信息科李主任".into(),
                "医务处陈处长".into(),
            ],
            script: vec![
                item("emr-template", true)?,
                item("emr-order-loop", true)?,
                item("his-rx-audit", true)?,
                item("his-insurance", false)?,
                item("emr-risk", false)?,
                item("emr-ai", false)?,
                words("这个肯定没问题：与省全民健康信息平台实时对接"),
            ],
        },
        NewDemo {
            customer_id: deals[2].1,
            deal_id: Some(deals[2].0),
            environment_id: Some(east.id),
            title: Some("DRG/DIP 智能管理 专题演示".into()),
            // 14:00 Beijing time, five days from today.
            starts_at: at(5, 6, 0)?,
            attendees: vec!["医保办赵主任".into(), "病案科".into()],
            script: vec![
                item("drg-alert", true)?,
                item("drg-coding", false)?,
                item("drg-list", false)?,
                item("drg-audit", false)?,
                words("DRG 入组结果直接推送到医生手机"),
            ],
        },
    ];
    let n = demos.len();
    for d in demos {
        store.create_demo(ws, d).await?;
    }
    Ok((2, n))
}
