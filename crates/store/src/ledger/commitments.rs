//! Commitments (承诺): what was promised to a customer, on which feature, shown how, with the
//! customer's own acceptance criteria; and every change to them in the audit trail.

use chrono::NaiveDate;
use cunjin_core::{required_text, Gap, Health, Mode, Stage, Status};
use serde::Serialize;
use sqlx::{Any, Transaction};

use crate::access::audit::{Action, Entity};
use crate::column::{Date, Flag, OptionalDate};
use crate::ledger::catalogue::{find_or_create_idea, get_feature_in};
use crate::ledger::progress::{refresh_snapshots, Scope};
use crate::sql::Sql;
use crate::{access::audit, now, Result, Store, StoreError};

/// One acceptance criterion: the customer's words for the effect they really want.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Criterion {
    /// Id.
    pub id: i64,
    /// The customer's words.
    pub text: String,
    /// Whether it is met.
    #[sqlx(try_from = "Flag")]
    pub met: bool,
    /// When it was marked met.
    pub met_at: Option<String>,
    /// Who marked it met.
    pub met_by: Option<String>,
}

/// A promise to a customer.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Commitment {
    /// Id.
    pub id: i64,
    /// Customer.
    pub customer_id: i64,
    /// Deal, if any.
    pub deal_id: Option<i64>,
    /// Feature.
    pub feature_id: i64,
    /// The feature's title.
    #[sqlx(rename = "title")]
    pub feature_title: String,
    /// The feature's menu path.
    pub menu_path: String,
    /// The feature's stage now.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "designed"))]
    #[sqlx(try_from = "String")]
    pub stage: Stage,
    /// How it was shown when promised.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "slides"))]
    #[sqlx(try_from = "String")]
    pub shown_as: Mode,
    /// Who promised it.
    pub promised_by: String,
    /// When.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    #[sqlx(try_from = "Date")]
    pub promised_at: NaiveDate,
    /// When it is due.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    #[sqlx(try_from = "OptionalDate")]
    pub due_date: Option<NaiveDate>,
    /// Acceptance-critical (验收必须).
    #[sqlx(try_from = "Flag")]
    pub critical: bool,
    /// Where it stands.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "open"))]
    #[sqlx(try_from = "String")]
    pub status: Status,
    /// Acceptance criteria.
    #[sqlx(skip)]
    pub criteria: Vec<Criterion>,
    /// Its gap now.
    // Computed once the criteria are read.
    #[sqlx(skip)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::reports::gap::GapSchema))]
    pub gap: Gap,
}

impl Commitment {
    fn unmet(&self) -> u32 {
        self.criteria.iter().filter(|c| !c.met).count() as u32
    }
}

/// What the promise is about: a catalogue feature, or free text that becomes an `idea`.
#[derive(Debug, Clone)]
pub enum FeatureRef {
    /// A feature of the catalogue.
    Id(i64),
    /// Free text; an existing feature with that title is reused.
    Title {
        /// The words of the promise.
        title: String,
        /// Product to file a new idea under (an "unsorted" product otherwise).
        product_id: Option<i64>,
    },
}

/// A promise to record.
#[derive(Debug, Clone)]
pub struct NewCommitment {
    /// Customer.
    pub customer_id: i64,
    /// Deal.
    pub deal_id: Option<i64>,
    /// Feature.
    pub feature: FeatureRef,
    /// How it was shown; by default what the feature's stage allows without a probe.
    pub shown_as: Option<Mode>,
    /// Who promised it; the recording person by default.
    pub promised_by: Option<String>,
    /// When; today by default.
    pub promised_at: Option<NaiveDate>,
    /// Due date; the deal's acceptance date by default.
    pub due_date: Option<NaiveDate>,
    /// Acceptance-critical.
    pub critical: bool,
    /// Acceptance criteria.
    pub criteria: Vec<String>,
}

/// Filters for listing commitments.
#[derive(Debug, Clone, Default)]
pub struct CommitmentFilter {
    /// One customer.
    pub customer_id: Option<i64>,
    /// One feature.
    pub feature_id: Option<i64>,
    /// One status.
    pub status: Option<Status>,
    /// At most this many (default 500, at most 5000).
    pub limit: Option<i64>,
    /// Skip this many.
    pub offset: Option<i64>,
}

const COMMITMENT_COLUMNS: &str =
    "c.id, c.customer_id, c.deal_id, c.feature_id, f.title, f.menu_path, \
     f.stage, c.shown_as, c.promised_by, c.promised_at, c.due_date, c.critical, c.status";

/// A criterion with the commitment it belongs to, as read.
#[derive(sqlx::FromRow)]
struct CriterionRow {
    commitment_id: i64,
    #[sqlx(flatten)]
    criterion: Criterion,
}

const CRITERION_COLUMNS: &str = "k.id, k.commitment_id, k.text, k.met, k.met_at, k.met_by";

fn finish(mut c: Commitment) -> Commitment {
    c.gap = Gap::of_commitment(c.stage, c.status, c.unmet());
    c
}

pub(crate) async fn load_in(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    id: i64,
) -> Result<Commitment> {
    let mut c: Commitment = sqlx::query_as(&format!(
        "SELECT {COMMITMENT_COLUMNS} FROM commitments c JOIN features f ON f.id = c.feature_id \
         WHERE c.workspace_id = $1 AND c.id = $2"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::not_found("commitment", id))?;
    c.criteria = sqlx::query_as(
        "SELECT id, text, met, met_at, met_by FROM criteria WHERE commitment_id = $1 ORDER BY position, id",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    Ok(finish(c))
}

/// Takes the commitment's row lock (PostgreSQL) or the write lock (SQLite) before it is read,
/// so that two changes to one commitment cannot both act on the same old state.
async fn lock_in(tx: &mut Transaction<'_, Any>, workspace_id: i64, id: i64) -> Result<()> {
    let done =
        sqlx::query("UPDATE commitments SET updated_at = $1 WHERE workspace_id = $2 AND id = $3")
            .bind(now())
            .bind(workspace_id)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found("commitment", id));
    }
    Ok(())
}

async fn insert_criterion(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    commitment_id: i64,
    position: i64,
    text: &str,
) -> Result<()> {
    let text = required_text("criteria", text, 2000)?;
    // The position counts the criteria before this one.
    cunjin_core::check_criteria_count(position as usize + 1)?;
    sqlx::query(
        "INSERT INTO criteria (workspace_id, commitment_id, position, text, met) VALUES ($1, $2, $3, $4, 0)",
    )
    .bind(workspace_id)
    .bind(commitment_id)
    .bind(position)
    .bind(text)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Records a promise in one transaction: the feature (created at `idea` for free text), the
    /// commitment, its criteria and the audit entry.
    pub async fn record_promise(
        &self,
        workspace_id: i64,
        actor: &str,
        new: NewCommitment,
    ) -> Result<Commitment> {
        let mut tx = self.begin_ledger(workspace_id).await?;
        let c = record_promise_audited_in(&mut tx, workspace_id, actor, new).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// Every commitment of a workspace with its criteria, oldest first, for an export.
    pub async fn all_commitments(&self, workspace_id: i64) -> Result<Vec<Commitment>> {
        let mut list: Vec<Commitment> = sqlx::query_as(&format!(
            "SELECT {COMMITMENT_COLUMNS} FROM commitments c JOIN features f ON f.id = c.feature_id \
             WHERE c.workspace_id = $1 ORDER BY c.id"
        ))
        .bind(workspace_id)
        .fetch_all(self.reader())
        .await?;
        let mut criteria: std::collections::HashMap<i64, Vec<Criterion>> = Default::default();
        let rows: Vec<CriterionRow> = sqlx::query_as(&format!(
            "SELECT {CRITERION_COLUMNS} FROM criteria k \
             WHERE k.workspace_id = $1 ORDER BY k.commitment_id, k.position, k.id"
        ))
        .bind(workspace_id)
        .fetch_all(self.reader())
        .await?;
        for r in rows {
            criteria
                .entry(r.commitment_id)
                .or_default()
                .push(r.criterion);
        }
        for c in &mut list {
            c.criteria = criteria.remove(&c.id).unwrap_or_default();
        }
        Ok(list.into_iter().map(finish).collect())
    }

    /// One commitment with its criteria and gap.
    pub async fn get_commitment(&self, workspace_id: i64, id: i64) -> Result<Commitment> {
        let mut tx = self.reader().begin().await?;
        let c = load_in(&mut tx, workspace_id, id).await?;
        tx.commit().await?;
        Ok(c)
    }

    /// Commitments with their criteria, newest first.
    pub async fn list_commitments(
        &self,
        workspace_id: i64,
        filter: &CommitmentFilter,
    ) -> Result<Vec<Commitment>> {
        let limit = filter.limit.unwrap_or(500).clamp(1, 5000);
        let offset = filter.offset.unwrap_or(0).max(0);
        let status = filter.status.map(Status::as_str);
        let mut q = Sql::new(format!(
            "SELECT {COMMITMENT_COLUMNS} FROM commitments c JOIN features f ON f.id = c.feature_id \
             WHERE c.workspace_id = "
        ));
        q.bind(workspace_id);
        list_conditions(&mut q, filter, status);
        q.push_bind(" ORDER BY c.id DESC LIMIT ", limit)
            .push_bind(" OFFSET ", offset);
        let mut list: Vec<Commitment> = q.query_as().fetch_all(self.reader()).await?;
        if list.is_empty() {
            return Ok(list);
        }
        // Criteria of exactly the listed commitments, in one query: when every commitment the
        // filter matches is listed, by the filter alone; when the list is a page, over its id
        // range too. (A customer's whole list with the id range: PostgreSQL's cached generic
        // plan combined the customer index with a scan of every id in the range, 16 ms instead
        // of 1.5 ms at 200,000 commitments.)
        let whole = offset == 0 && (list.len() as i64) < limit;
        let mut q = Sql::new(format!(
            "SELECT {CRITERION_COLUMNS} FROM criteria k JOIN commitments c ON c.id = k.commitment_id \
             WHERE c.workspace_id = "
        ));
        q.bind(workspace_id);
        list_conditions(&mut q, filter, status);
        if !whole {
            let (lo, hi) = (list.last().map(|c| c.id).unwrap_or(0), list[0].id);
            q.push_bind(" AND c.id BETWEEN ", lo).push_bind(" AND ", hi);
        }
        q.push(" ORDER BY k.commitment_id, k.position, k.id");
        let criteria: Vec<CriterionRow> = q.query_as().fetch_all(self.reader()).await?;
        let mut by_id: std::collections::HashMap<i64, Vec<Criterion>> =
            std::collections::HashMap::new();
        for r in criteria {
            by_id.entry(r.commitment_id).or_default().push(r.criterion);
        }
        for c in &mut list {
            c.criteria = by_id.remove(&c.id).unwrap_or_default();
        }
        Ok(list.into_iter().map(finish).collect())
    }

    /// Moves a commitment through its life by the rules of the core; the step and its reason go
    /// into the audit trail.
    pub async fn transition_commitment(
        &self,
        workspace_id: i64,
        actor: &str,
        id: i64,
        to: Status,
        reason: Option<&str>,
    ) -> Result<Commitment> {
        let mut tx = self.begin_ledger(workspace_id).await?;
        lock_in(&mut tx, workspace_id, id).await?;
        let before = load_in(&mut tx, workspace_id, id).await?;
        if to == Status::Delivered && before.status != Status::Delivered {
            cunjin_core::commitment::check_deliverable(before.stage)?;
        }
        let to = before.status.transition(to, reason, before.unmet())?;
        sqlx::query("UPDATE commitments SET status = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4")
            .bind(to.as_str())
            .bind(now())
            .bind(workspace_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let after = load_in(&mut tx, workspace_id, id).await?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        audit::Entry::new(
            workspace_id,
            Entity::Commitment,
            id,
            Action::Transition,
            actor,
        )
        .changed(&before, &after)
        .reason(reason)
        .write(&mut tx)
        .await?;
        refresh_snapshots(&mut tx, workspace_id, Scope::Customer(after.customer_id)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Marks one criterion met or not met.
    pub async fn set_criterion(
        &self,
        workspace_id: i64,
        actor: &str,
        commitment_id: i64,
        criterion_id: i64,
        met: bool,
    ) -> Result<Commitment> {
        let mut tx = self.begin_ledger(workspace_id).await?;
        lock_in(&mut tx, workspace_id, commitment_id).await?;
        let before = load_in(&mut tx, workspace_id, commitment_id).await?;
        if !before.criteria.iter().any(|k| k.id == criterion_id) {
            return Err(StoreError::not_found("criterion", criterion_id));
        }
        if !before.status.is_live() {
            return Err(StoreError::Conflict(format!(
                "the commitment is {}; its criteria can no longer change",
                before.status
            )));
        }
        let (met_at, met_by) = if met {
            (Some(now()), Some(actor.to_string()))
        } else {
            (None, None)
        };
        sqlx::query("UPDATE criteria SET met = $1, met_at = $2, met_by = $3 WHERE id = $4 AND commitment_id = $5")
            .bind(i64::from(met))
            .bind(met_at)
            .bind(met_by)
            .bind(criterion_id)
            .bind(commitment_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE commitments SET updated_at = $1 WHERE id = $2")
            .bind(now())
            .bind(commitment_id)
            .execute(&mut *tx)
            .await?;
        let after = load_in(&mut tx, workspace_id, commitment_id).await?;
        audit::Entry::new(
            workspace_id,
            Entity::Commitment,
            commitment_id,
            Action::Criterion,
            actor,
        )
        .changed(&before, &after)
        .write(&mut tx)
        .await?;
        refresh_snapshots(&mut tx, workspace_id, Scope::Customer(after.customer_id)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Adds an acceptance criterion to a live commitment.
    pub async fn add_criterion(
        &self,
        workspace_id: i64,
        actor: &str,
        commitment_id: i64,
        text: &str,
    ) -> Result<Commitment> {
        let mut tx = self.begin_ledger(workspace_id).await?;
        lock_in(&mut tx, workspace_id, commitment_id).await?;
        let before = load_in(&mut tx, workspace_id, commitment_id).await?;
        if !before.status.is_live() {
            return Err(StoreError::Conflict(format!(
                "the commitment is {}; its criteria can no longer change",
                before.status
            )));
        }
        insert_criterion(
            &mut tx,
            workspace_id,
            commitment_id,
            before.criteria.len() as i64,
            text,
        )
        .await?;
        let after = load_in(&mut tx, workspace_id, commitment_id).await?;
        audit::Entry::new(
            workspace_id,
            Entity::Commitment,
            commitment_id,
            Action::Criterion,
            actor,
        )
        .changed(&before, &after)
        .write(&mut tx)
        .await?;
        refresh_snapshots(&mut tx, workspace_id, Scope::Customer(after.customer_id)).await?;
        tx.commit().await?;
        Ok(after)
    }
}

/// Records a promise inside a caller's transaction, with its audit entry.
pub(crate) async fn record_promise_audited_in(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    actor: &str,
    new: NewCommitment,
) -> Result<Commitment> {
    let id = record_promise_in(tx, workspace_id, actor, new).await?;
    let c = load_in(tx, workspace_id, id).await?;
    audit::Entry::new(workspace_id, Entity::Commitment, id, Action::Create, actor)
        .created(&c)
        .write(tx)
        .await?;
    Ok(c)
}

/// Inserts a promise inside a caller's transaction and returns its id.
pub(crate) async fn record_promise_in(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    actor: &str,
    new: NewCommitment,
) -> Result<i64> {
    // Checked before anything is written, so a refused promise creates no feature either.
    cunjin_core::check_criteria_count(
        new.criteria.iter().filter(|t| !t.trim().is_empty()).count(),
    )?;
    sqlx::query("SELECT id FROM customers WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(new.customer_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("customer", new.customer_id))?;
    let mut deal_acceptance = None;
    if let Some(deal_id) = new.deal_id {
        let r: DealOwner = sqlx::query_as(
            "SELECT customer_id, acceptance_date FROM deals WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace_id)
        .bind(deal_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("deal", deal_id))?;
        if r.customer_id != new.customer_id {
            return Err(StoreError::Conflict(format!(
                "deal {deal_id} belongs to another customer"
            )));
        }
        deal_acceptance = r.acceptance_date;
    }
    let (feature, from_text) = match new.feature {
        FeatureRef::Id(id) => (get_feature_in(&mut **tx, workspace_id, id).await?, false),
        FeatureRef::Title { title, product_id } => {
            let (f, _) = find_or_create_idea(tx, workspace_id, product_id, &title).await?;
            (f, true)
        }
    };
    let shown_as = new
        .shown_as
        .unwrap_or(if from_text && feature.stage == Stage::Idea {
            Mode::Promise
        } else {
            Mode::for_feature(feature.stage, Health::Unverified)
        });
    let promised_by = match new.promised_by.as_deref().map(str::trim) {
        Some(p) if !p.is_empty() => required_text("promised_by", p, 200)?,
        _ => actor.to_string(),
    };
    let promised_at = new.promised_at.unwrap_or_else(crate::today);
    let due = new.due_date.or(deal_acceptance);
    let ts = now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO commitments (workspace_id, customer_id, deal_id, feature_id, shown_as, promised_by, \
         promised_at, due_date, critical, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $10) RETURNING id",
    )
    .bind(workspace_id)
    .bind(new.customer_id)
    .bind(new.deal_id)
    .bind(feature.id)
    .bind(shown_as.as_str())
    .bind(promised_by)
    .bind(promised_at.to_string())
    .bind(due.map(|d| d.to_string()))
    .bind(i64::from(new.critical))
    .bind(ts)
    .fetch_one(&mut **tx)
    .await?;
    let criteria = new.criteria.iter().filter(|t| !t.trim().is_empty());
    for (i, text) in criteria.enumerate() {
        insert_criterion(tx, workspace_id, id, i as i64, text).await?;
    }
    refresh_snapshots(tx, workspace_id, Scope::Customer(new.customer_id)).await?;
    Ok(id)
}

/// Binds the workspace and the filters that [`Store::list_commitments`] put in its query text,
/// in the same order.
/// Appends the filters of the commitment list that are given. Only those appear in the text:
/// with `($2 IS NULL OR c.customer_id = $2)` neither engine can plan an index lookup, and one
/// customer's page read every commitment of the workspace (and its criteria over their whole id
/// range).
fn list_conditions(q: &mut Sql<'_>, filter: &CommitmentFilter, status: Option<&'static str>) {
    q.and_eq("c.customer_id", filter.customer_id)
        .and_eq("c.feature_id", filter.feature_id)
        .and_eq("c.status", status);
}

/// A deal's customer and acceptance date, as read.
#[derive(sqlx::FromRow)]
struct DealOwner {
    customer_id: i64,
    #[sqlx(try_from = "OptionalDate")]
    acceptance_date: Option<NaiveDate>,
}
