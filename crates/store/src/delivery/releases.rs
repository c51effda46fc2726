//! Releases and their delivery: a release ships features (they become `released`); delivering it
//! to a customer marks that customer's open commitments on those features `delivered`. What
//! shipped for a customer is read back from here for its release notes and its status page.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use cunjin_core::{required_text, CustomerId, ParseError, Stage, Status};
use serde::Serialize;
use sqlx::{Any, Transaction};

use crate::access::audit::{Action, Entity};
use crate::column::Date;
use crate::ledger::catalogue::get_feature_in;
use crate::ledger::commitments::{load_in, Commitment, CommitmentFilter};
use crate::ledger::progress::{refresh_snapshots, Scope};
use crate::sql::Sql;
use crate::{access::audit, conflict_on_unique, now, Result, Store, StoreError};

/// A feature shipped in a release.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleaseFeature {
    /// Feature.
    pub feature_id: i64,
    /// Its title.
    pub title: String,
    /// Its place in the menus.
    pub menu_path: String,
}

/// A customer a release was delivered to.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleaseDelivery {
    /// Customer.
    pub customer_id: i64,
    /// Its name.
    pub customer_name: String,
    /// When it was first delivered (RFC 3339).
    pub delivered_at: String,
    /// The day of it.
    pub delivered_on: String,
    /// Who delivered it.
    pub delivered_by: String,
}

/// A shipped version of the product.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Release {
    /// Id.
    pub id: i64,
    /// Version, e.g. `v5.2`.
    pub version: String,
    /// Release date.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    #[sqlx(try_from = "Date")]
    pub date: NaiveDate,
    /// Ids of the features it ships.
    #[sqlx(skip)]
    pub feature_ids: Vec<i64>,
    /// The features it ships.
    #[sqlx(skip)]
    pub features: Vec<ReleaseFeature>,
    /// Customers it was delivered to.
    #[sqlx(skip)]
    pub deliveries: Vec<ReleaseDelivery>,
    /// Who created it.
    pub created_by: String,
    /// When (RFC 3339).
    pub created_at: String,
}

/// A release to create.
#[derive(Debug, Clone)]
pub struct NewRelease {
    /// Version; unique in the workspace.
    pub version: String,
    /// Release date.
    pub date: NaiveDate,
    /// Features it ships (at least one).
    pub feature_ids: Vec<i64>,
}

/// One commitment a delivery looked at.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveredCommitment {
    /// Commitment.
    pub commitment_id: i64,
    /// Its customer.
    pub customer_id: i64,
    /// Its feature.
    pub feature_id: i64,
    /// Its status after the delivery.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "delivered"))]
    pub status: Status,
}

/// What a delivery did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryReport {
    /// Release.
    pub release_id: i64,
    /// Customers delivered to.
    pub customer_ids: Vec<i64>,
    /// Commitments this delivery moved from `open` to `delivered`.
    pub delivered: Vec<DeliveredCommitment>,
    /// Commitments already delivered, accepted or waived, left as they were.
    pub unchanged: Vec<DeliveredCommitment>,
}

/// One of a customer's commitments on a feature of a release delivered to it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShippedItem {
    /// Commitment.
    pub commitment_id: i64,
    /// Feature.
    pub feature_id: i64,
    /// Its title.
    pub feature_title: String,
    /// Its place in the menus.
    pub menu_path: String,
    /// The commitment's status now.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "delivered"))]
    pub status: Status,
    /// Acceptance criteria met.
    pub criteria_met: u32,
    /// Acceptance criteria in all.
    pub criteria_total: u32,
    /// The criteria still open, in the customer's words.
    pub criteria_open: Vec<String>,
}

/// A release as it reached one customer.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShippedRelease {
    /// Release.
    pub release_id: i64,
    /// Version.
    pub version: String,
    /// Release date.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: NaiveDate,
    /// When it was delivered to the customer (RFC 3339).
    pub delivered_at: String,
    /// The day of it.
    pub delivered_on: String,
    /// What it brought this customer.
    pub items: Vec<ShippedItem>,
}

/// A feature of a release, as read.
#[derive(sqlx::FromRow)]
struct ReleaseFeatureRow {
    release_id: i64,
    #[sqlx(flatten)]
    feature: ReleaseFeature,
}

/// A delivery of a release, as read.
#[derive(sqlx::FromRow)]
struct DeliveryRow {
    release_id: i64,
    customer_id: i64,
    customer_name: String,
    delivered_at: String,
    delivered_by: String,
}

/// A release delivered to a customer, as read.
#[derive(sqlx::FromRow)]
struct ShippedRow {
    id: i64,
    version: String,
    #[sqlx(try_from = "Date")]
    date: NaiveDate,
    delivered_at: String,
}

const RELEASE_COLUMNS: &str = "id, version, date, created_by, created_at";

async fn fill_release(
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    releases: &mut [Release],
) -> Result<()> {
    if releases.is_empty() {
        return Ok(());
    }
    // One release reads its own rows only; a list reads the workspace's.
    let only = (releases.len() == 1).then(|| releases[0].id);
    let mut q = Sql::new(
        "SELECT rf.release_id, f.id AS feature_id, f.title, f.menu_path FROM release_features rf \
         JOIN features f ON f.id = rf.feature_id WHERE rf.workspace_id = ",
    );
    q.bind(workspace_id)
        .and_eq("rf.release_id", only)
        .push(" ORDER BY f.menu_path, f.id");
    let features: Vec<ReleaseFeatureRow> = q.query_as().fetch_all(&mut *conn).await?;
    let mut q = Sql::new(
        "SELECT d.release_id, d.customer_id, c.name AS customer_name, d.delivered_at, d.delivered_by \
         FROM deliveries d JOIN customers c ON c.id = d.customer_id WHERE d.workspace_id = ",
    );
    q.bind(workspace_id)
        .and_eq("d.release_id", only)
        .push(" ORDER BY d.delivered_at, c.name");
    let deliveries: Vec<DeliveryRow> = q.query_as().fetch_all(&mut *conn).await?;
    let index: HashMap<i64, usize> = releases
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id, i))
        .collect();
    for r in features {
        if let Some(&i) = index.get(&r.release_id) {
            releases[i].feature_ids.push(r.feature.feature_id);
            releases[i].features.push(r.feature);
        }
    }
    for r in deliveries {
        if let Some(&i) = index.get(&r.release_id) {
            releases[i].deliveries.push(ReleaseDelivery {
                customer_id: r.customer_id,
                customer_name: r.customer_name,
                delivered_on: day_of(&r.delivered_at),
                delivered_at: r.delivered_at,
                delivered_by: r.delivered_by,
            });
        }
    }
    Ok(())
}

async fn get_release_in(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    id: i64,
) -> Result<Release> {
    let r: Release = sqlx::query_as(&format!(
        "SELECT {RELEASE_COLUMNS} FROM releases WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::not_found("release", id))?;
    let mut list = [r];
    fill_release(tx, workspace_id, &mut list).await?;
    let [release] = list;
    Ok(release)
}

impl Store {
    /// Creates a release and moves each of its features to `released`, all in one transaction;
    /// every stage change and the release itself land in the audit trail.
    pub async fn create_release(
        &self,
        workspace_id: i64,
        actor: &str,
        new: NewRelease,
    ) -> Result<Release> {
        let version = required_text("version", &new.version, 100)?;
        let feature_ids: BTreeSet<i64> = new.feature_ids.iter().copied().collect();
        if feature_ids.is_empty() {
            return Err(ParseError::new("feature_ids", "choose at least one feature").into());
        }
        let mut tx = self.begin_ledger(workspace_id).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO releases (workspace_id, version, date, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(workspace_id)
        .bind(&version)
        .bind(new.date.to_string())
        .bind(actor)
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, || format!("release '{version}' exists")))?;
        let reason = format!("release {version}");
        for &feature_id in &feature_ids {
            let before = get_feature_in(&mut *tx, workspace_id, feature_id).await?;
            sqlx::query(
                "INSERT INTO release_features (workspace_id, release_id, feature_id) VALUES ($1, $2, $3)",
            )
            .bind(workspace_id)
            .bind(id)
            .bind(feature_id)
            .execute(&mut *tx)
            .await?;
            if before.stage == Stage::Released {
                continue;
            }
            sqlx::query("UPDATE features SET stage = $1, target_release = $2, updated_at = $3 WHERE workspace_id = $4 AND id = $5")
                .bind(Stage::Released.as_str())
                .bind(&version)
                .bind(now())
                .bind(workspace_id)
                .bind(feature_id)
                .execute(&mut *tx)
                .await?;
            let after = get_feature_in(&mut *tx, workspace_id, feature_id).await?;
            audit::Entry::new(
                workspace_id,
                Entity::Feature,
                feature_id,
                Action::Release,
                actor,
            )
            .changed(&before, &after)
            .reason(Some(reason.as_str()))
            .write(&mut tx)
            .await?;
        }
        let release = get_release_in(&mut tx, workspace_id, id).await?;
        audit::Entry::new(workspace_id, Entity::Release, id, Action::Create, actor)
            .created(&release)
            .write(&mut tx)
            .await?;
        refresh_snapshots(&mut tx, workspace_id, Scope::Release(id)).await?;
        tx.commit().await?;
        Ok(release)
    }

    /// Releases, newest first.
    pub async fn list_releases(&self, workspace_id: i64) -> Result<Vec<Release>> {
        let mut list: Vec<Release> = sqlx::query_as(&format!(
            "SELECT {RELEASE_COLUMNS} FROM releases WHERE workspace_id = $1 ORDER BY date DESC, id DESC"
        ))
        .bind(workspace_id)
        .fetch_all(self.reader())
        .await?;
        let mut conn = self.reader().acquire().await?;
        fill_release(&mut conn, workspace_id, &mut list).await?;
        Ok(list)
    }

    /// One release.
    pub async fn get_release(&self, workspace_id: i64, id: i64) -> Result<Release> {
        let mut tx = self.reader().begin().await?;
        let r = get_release_in(&mut tx, workspace_id, id).await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Delivers a release to customers: each customer's open commitments on its features become
    /// `delivered` (each with an audit entry); commitments already delivered, accepted or waived
    /// are left as they are and reported. All or nothing: an unknown customer changes nothing.
    pub async fn deliver_release(
        &self,
        workspace_id: i64,
        actor: &str,
        release_id: i64,
        customer_ids: &[i64],
    ) -> Result<DeliveryReport> {
        self.deliver_release_at(workspace_id, actor, release_id, customer_ids, now())
            .await
    }

    /// [`Store::deliver_release`] with the delivery dated `at` (RFC 3339), for the demo's past.
    pub(crate) async fn deliver_release_at(
        &self,
        workspace_id: i64,
        actor: &str,
        release_id: i64,
        customer_ids: &[i64],
        at: String,
    ) -> Result<DeliveryReport> {
        let mut seen = HashSet::new();
        let customers: Vec<i64> = customer_ids
            .iter()
            .copied()
            .filter(|c| seen.insert(*c))
            .collect();
        if customers.is_empty() {
            return Err(ParseError::new("customer_ids", "choose at least one customer").into());
        }
        let mut tx = self.begin_ledger(workspace_id).await?;
        let release = get_release_in(&mut tx, workspace_id, release_id).await?;
        let reason = format!("release {} delivered", release.version);
        let mut report = DeliveryReport {
            release_id,
            customer_ids: customers.clone(),
            delivered: Vec::new(),
            unchanged: Vec::new(),
        };
        for &customer_id in &customers {
            sqlx::query("SELECT id FROM customers WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id)
                .bind(customer_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found("customer", customer_id))?;
            sqlx::query(
                "INSERT INTO deliveries (workspace_id, release_id, customer_id, delivered_at, delivered_by) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (release_id, customer_id) DO NOTHING",
            )
            .bind(workspace_id)
            .bind(release_id)
            .bind(customer_id)
            .bind(&at)
            .bind(actor)
            .execute(&mut *tx)
            .await?;
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT c.id FROM commitments c JOIN release_features rf ON rf.feature_id = c.feature_id \
                 WHERE c.workspace_id = $1 AND rf.release_id = $2 AND c.customer_id = $3 ORDER BY c.id",
            )
            .bind(workspace_id)
            .bind(release_id)
            .bind(customer_id)
            .fetch_all(&mut *tx)
            .await?;
            let mut delivered_here = Vec::new();
            for id in ids {
                let before = load_in(&mut tx, workspace_id, id).await?;
                if before.status != Status::Open {
                    report.unchanged.push(item(&before));
                    continue;
                }
                let to = before
                    .status
                    .transition(Status::Delivered, Some(&reason), 0)?;
                sqlx::query("UPDATE commitments SET status = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4")
                    .bind(to.as_str())
                    .bind(now())
                    .bind(workspace_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO delivered_commitments (workspace_id, release_id, commitment_id) VALUES ($1, $2, $3) \
                     ON CONFLICT (release_id, commitment_id) DO NOTHING",
                )
                .bind(workspace_id)
                .bind(release_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let after = load_in(&mut tx, workspace_id, id).await?;
                audit::Entry::new(
                    workspace_id,
                    Entity::Commitment,
                    id,
                    Action::Transition,
                    actor,
                )
                .changed(&before, &after)
                .reason(Some(reason.as_str()))
                .write(&mut tx)
                .await?;
                delivered_here.push(item(&after));
            }
            audit::Entry::new(
                workspace_id,
                Entity::Release,
                release_id,
                Action::Deliver,
                actor,
            )
            .created(&serde_json::json!({
                "customer_id": customer_id,
                "delivered": delivered_here.iter().map(|d| d.commitment_id).collect::<Vec<_>>(),
            }))
            .write(&mut tx)
            .await?;
            report.delivered.extend(delivered_here);
            refresh_snapshots(&mut tx, workspace_id, Scope::Customer(customer_id)).await?;
        }
        tx.commit().await?;
        Ok(report)
    }

    /// What shipped for a customer: each release delivered to it (or only `release_id`), newest
    /// first, with the customer's own commitments on its features. Waived commitments are left
    /// out: they were taken off the table.
    pub async fn shipped_for_customer(
        &self,
        workspace_id: i64,
        customer_id: i64,
        release_id: Option<i64>,
    ) -> Result<Vec<ShippedRelease>> {
        self.get_customer(workspace_id, CustomerId(customer_id))
            .await?;
        let mut q = Sql::new(
            "SELECT r.id, r.version, r.date, d.delivered_at FROM deliveries d \
             JOIN releases r ON r.id = d.release_id WHERE d.workspace_id = ",
        );
        q.bind(workspace_id)
            .push_bind(" AND d.customer_id = ", customer_id)
            .and_eq("r.id", release_id)
            .push(" ORDER BY r.date DESC, r.id DESC");
        let rows: Vec<ShippedRow> = q.query_as().fetch_all(self.reader()).await?;
        if rows.is_empty() {
            if let Some(id) = release_id {
                // Tell an unknown release from one not delivered to this customer.
                self.get_release(workspace_id, id).await?;
            }
            return Ok(Vec::new());
        }
        let release_features: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT rf.release_id, rf.feature_id FROM release_features rf \
             JOIN deliveries d ON d.release_id = rf.release_id AND d.customer_id = $2 \
             WHERE rf.workspace_id = $1",
        )
        .bind(workspace_id)
        .bind(customer_id)
        .fetch_all(self.reader())
        .await?;
        let mut features_of: HashMap<i64, HashSet<i64>> = HashMap::new();
        for (release, feature) in release_features {
            features_of.entry(release).or_default().insert(feature);
        }
        let commitments = self
            .list_commitments(
                workspace_id,
                &CommitmentFilter {
                    customer_id: Some(customer_id),
                    limit: Some(5000),
                    ..Default::default()
                },
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id = r.id;
            let features = features_of.get(&id);
            let mut items: Vec<ShippedItem> = commitments
                .iter()
                .filter(|c| c.status != Status::Waived)
                .filter(|c| features.is_some_and(|f| f.contains(&c.feature_id)))
                .map(shipped_item)
                .collect();
            items.sort_by(|a, b| {
                a.menu_path
                    .cmp(&b.menu_path)
                    .then(a.commitment_id.cmp(&b.commitment_id))
            });
            out.push(ShippedRelease {
                release_id: id,
                version: r.version,
                date: r.date,
                delivered_on: day_of(&r.delivered_at),
                delivered_at: r.delivered_at,
                items,
            });
        }
        Ok(out)
    }
}

/// The day part of an RFC 3339 time.
fn day_of(ts: &str) -> String {
    ts.get(..10).unwrap_or(ts).to_string()
}

fn item(c: &Commitment) -> DeliveredCommitment {
    DeliveredCommitment {
        commitment_id: c.id,
        customer_id: c.customer_id,
        feature_id: c.feature_id,
        status: c.status,
    }
}

fn shipped_item(c: &Commitment) -> ShippedItem {
    let met = c.criteria.iter().filter(|k| k.met).count() as u32;
    ShippedItem {
        commitment_id: c.id,
        feature_id: c.feature_id,
        feature_title: c.feature_title.clone(),
        menu_path: c.menu_path.clone(),
        status: c.status,
        criteria_met: met,
        criteria_total: c.criteria.len() as u32,
        criteria_open: c
            .criteria
            .iter()
            .filter(|k| !k.met)
            .map(|k| k.text.clone())
            .collect(),
    }
}
