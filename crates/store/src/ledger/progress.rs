//! Progress: every customer's gap kept day by day, so that any past day can be shown, and the
//! portfolio's gap over a range of days.
//!
//! Every write that can change a customer's gap (a promise, a transition, a criterion, a feature's
//! stage, a release, a delivery) refreshes that customer's snapshot for today in the same
//! transaction, so history and data never disagree.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use cunjin_core::progress::{accumulate, gap_on, week_start};
use cunjin_core::{CustomerId, Gained, Gap};
use serde::Serialize;
use sqlx::{Any, Transaction};

use crate::column::Date;
use crate::reports::gap::{fold_groups, GroupRow};
use crate::sql::Sql;
use crate::{Result, Store, StoreError};

/// Whose snapshots a write refreshes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope {
    /// One customer.
    Customer(i64),
    /// Every customer with a commitment on a feature.
    Feature(i64),
    /// Every customer with a commitment on a feature of a release.
    Release(i64),
}

impl Scope {
    /// The customers of the scope, as a subquery over `$1` (workspace) and `$2` (the id).
    fn customers_sql(self) -> &'static str {
        match self {
            Scope::Customer(_) => "SELECT id FROM customers WHERE workspace_id = $1 AND id = $2",
            Scope::Feature(_) => {
                "SELECT DISTINCT customer_id FROM commitments WHERE workspace_id = $1 AND feature_id = $2"
            }
            Scope::Release(_) => {
                "SELECT DISTINCT k.customer_id FROM commitments k \
                 JOIN release_features rf ON rf.feature_id = k.feature_id \
                 WHERE k.workspace_id = $1 AND rf.release_id = $2"
            }
        }
    }

    fn id(self) -> i64 {
        match self {
            Scope::Customer(id) | Scope::Feature(id) | Scope::Release(id) => id,
        }
    }
}

/// Longest history answered at once, in days.
pub const MAX_HISTORY_DAYS: i64 = 1000;

/// The portfolio's (or one customer's) gap on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GapPoint {
    /// The day.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub day: NaiveDate,
    /// 尺 at the end of that day.
    pub chi: u64,
    /// 寸 at the end of that day.
    pub cun: u64,
}

/// What this week closed: the gap at the start of the week against the gap now.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeekProgress {
    /// The Monday the week started.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub week_start: NaiveDate,
    /// The gap when the week started (end of the Sunday before).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::reports::gap::GapSchema))]
    pub start: Gap,
    /// The gap now.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::reports::gap::GapSchema))]
    pub now: Gap,
    /// Start minus now: what was closed (negative when new promises outgrew the work).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub gained: Gained,
}

/// A customer's snapshot of one day.
#[derive(sqlx::FromRow)]
struct SnapshotRow {
    customer_id: i64,
    #[sqlx(try_from = "Date")]
    day: NaiveDate,
    chi: i64,
    cun: i64,
}

/// The change of the kept gap on one day, summed over customers.
#[derive(sqlx::FromRow)]
struct ChangeRow {
    #[sqlx(try_from = "Date")]
    day: NaiveDate,
    dchi: i64,
    dcun: i64,
}

/// Appends the snapshots from `from` to `to` of every customer (or one), plus each customer's
/// last one before `from`, as rows `customer_id, day, chi, cun`. The last one before is looked
/// up per customer through the primary key rather than per snapshot row, which PostgreSQL would
/// otherwise do for every row of the workspace. Only a given customer appears in the text.
fn kept_snapshots(
    q: &mut Sql<'_>,
    workspace_id: i64,
    customer_id: Option<i64>,
    from: NaiveDate,
    to: NaiveDate,
) {
    q.push("SELECT customer_id, day, chi, cun FROM gap_snapshots WHERE workspace_id = ")
        .bind(workspace_id)
        .and_eq("customer_id", customer_id)
        .push_bind(" AND day >= ", from.to_string())
        .push_bind(" AND day <= ", to.to_string())
        .push(
            " UNION ALL SELECT s.customer_id, s.day, s.chi, s.cun FROM customers c \
             JOIN gap_snapshots s ON s.workspace_id = c.workspace_id AND s.customer_id = c.id \
             AND s.day = (SELECT MAX(t.day) FROM gap_snapshots t \
             WHERE t.workspace_id = c.workspace_id AND t.customer_id = c.id AND t.day < ",
        )
        .bind(from.to_string())
        .push(") WHERE c.workspace_id = ")
        .bind(workspace_id)
        .and_eq("c.id", customer_id);
}

/// Recomputes today's snapshot of every customer in `scope`, inside the caller's transaction.
pub(crate) async fn refresh_snapshots(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    scope: Scope,
) -> Result<()> {
    let customers_sql = scope.customers_sql();
    let customers: Vec<i64> = sqlx::query_scalar(customers_sql)
        .bind(workspace_id)
        .bind(scope.id())
        .fetch_all(&mut **tx)
        .await?;
    if customers.is_empty() {
        return Ok(());
    }
    // Unmet criteria are counted per commitment in scope through the criteria index, so that a
    // write costs what its customers own, not what the whole workspace holds.
    let groups: Vec<GroupRow> = sqlx::query_as(&format!(
        "SELECT customer_id, stage, status, COUNT(*) AS n, CAST(COALESCE(SUM(unmet), 0) AS BIGINT) AS unmet \
         FROM (SELECT c.customer_id, f.stage, c.status, \
                 (SELECT COUNT(*) FROM criteria k WHERE k.commitment_id = c.id AND k.met = 0) AS unmet \
               FROM commitments c JOIN features f ON f.id = c.feature_id \
               WHERE c.workspace_id = $1 AND c.status IN ('open', 'delivered') \
               AND c.customer_id IN ({customers_sql})) live \
         GROUP BY customer_id, stage, status"
    ))
    .bind(workspace_id)
    .bind(scope.id())
    .fetch_all(&mut **tx)
    .await?;
    let gaps = fold_groups(&groups);
    let today = crate::today();
    for customer_id in customers {
        let gap = gaps.get(&customer_id).map(|g| g.0).unwrap_or_default();
        put_snapshot(&mut **tx, workspace_id, customer_id, today, gap).await?;
    }
    Ok(())
}

async fn put_snapshot<'e, E>(
    exec: E,
    workspace_id: i64,
    customer_id: i64,
    day: NaiveDate,
    gap: Gap,
) -> Result<()>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let as_i64 = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO gap_snapshots (workspace_id, customer_id, day, chi, cun) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (workspace_id, customer_id, day) DO UPDATE SET chi = excluded.chi, cun = excluded.cun",
    )
    .bind(workspace_id)
    .bind(customer_id)
    .bind(day.to_string())
    .bind(as_i64(gap.chi))
    .bind(as_i64(gap.cun))
    .execute(exec)
    .await?;
    Ok(())
}

impl Store {
    /// Sets a customer's gap at the end of a past day: for importing history kept elsewhere and
    /// for the demo. Live writes keep today's snapshot on their own.
    pub async fn put_gap_snapshot(
        &self,
        workspace_id: i64,
        customer_id: i64,
        day: NaiveDate,
        gap: Gap,
    ) -> Result<()> {
        self.get_customer(workspace_id, CustomerId(customer_id))
            .await?;
        put_snapshot(self.writer(), workspace_id, customer_id, day, gap).await
    }

    /// A customer's gap on `day` as kept in the snapshots alone (no live value): the last
    /// snapshot on or before it.
    pub async fn kept_gap_on(
        &self,
        workspace_id: i64,
        customer_id: i64,
        day: NaiveDate,
    ) -> Result<Gap> {
        let s = self
            .snapshots(workspace_id, Some(customer_id), day, day)
            .await?;
        Ok(s.get(&customer_id)
            .map(|s| gap_on(s, day))
            .unwrap_or_default())
    }

    /// Every customer's snapshots from `from` to `to`, plus the last one before `from` (which
    /// gives the value on `from`), sorted by day. Reading only these keeps a long history cheap;
    /// the last one before is looked up per customer through the primary key rather than per
    /// snapshot row, which PostgreSQL would otherwise do for every row of the workspace.
    async fn snapshots(
        &self,
        workspace_id: i64,
        customer_id: Option<i64>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BTreeMap<i64, Vec<(NaiveDate, Gap)>>> {
        let mut q = Sql::new("");
        kept_snapshots(&mut q, workspace_id, customer_id, from, to);
        q.push(" ORDER BY 1, 2");
        let rows: Vec<SnapshotRow> = q.query_as().fetch_all(self.reader()).await?;
        let mut by_customer: BTreeMap<i64, Vec<(NaiveDate, Gap)>> = BTreeMap::new();
        for r in rows {
            let gap = Gap {
                chi: r.chi.max(0) as u64,
                cun: r.cun.max(0) as u64,
            };
            by_customer
                .entry(r.customer_id)
                .or_default()
                .push((r.day, gap));
        }
        Ok(by_customer)
    }

    /// The kept gap of the portfolio (or one customer) on every day from `from` to `to`. The
    /// database sends, per day, the sum of each customer's change since its previous snapshot
    /// (over the days asked for, plus the last snapshot before them); `accumulate` adds them up.
    async fn totals(
        &self,
        workspace_id: i64,
        customer_id: Option<i64>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Gap>> {
        let mut q = Sql::new(
            "SELECT day, CAST(SUM(dchi) AS BIGINT) AS dchi, CAST(SUM(dcun) AS BIGINT) AS dcun FROM ( \
               SELECT day, chi - LAG(chi, 1, 0) OVER (PARTITION BY customer_id ORDER BY day) AS dchi, \
                      cun - LAG(cun, 1, 0) OVER (PARTITION BY customer_id ORDER BY day) AS dcun FROM ( ",
        );
        kept_snapshots(&mut q, workspace_id, customer_id, from, to);
        q.push(") kept ) changes GROUP BY day ORDER BY day");
        let changes: Vec<(NaiveDate, i64, i64)> = q
            .query_as::<ChangeRow>()
            .fetch_all(self.reader())
            .await?
            .into_iter()
            .map(|r| (r.day, r.dchi, r.dcun))
            .collect();
        Ok(accumulate(&changes, from, to))
    }

    /// The gap on every day from `from` to `to` (both included), of the portfolio or of one
    /// customer. A day's value is the last snapshot on or before it; today's is the live gap.
    /// Days after today are not answered.
    pub async fn gap_history(
        &self,
        workspace_id: i64,
        customer_id: Option<i64>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<GapPoint>> {
        if let Some(id) = customer_id {
            self.get_customer(workspace_id, CustomerId(id)).await?;
        }
        let today = crate::today();
        let to = to.min(today);
        if from > to {
            return Err(StoreError::Invalid(cunjin_core::ParseError::new(
                "from",
                format!("must be on or before {to}"),
            )));
        }
        if (to - from).num_days() >= MAX_HISTORY_DAYS {
            return Err(StoreError::Invalid(cunjin_core::ParseError::new(
                "from",
                format!("at most {MAX_HISTORY_DAYS} days at once"),
            )));
        }
        let mut totals = self.totals(workspace_id, customer_id, from, to).await?;
        if to == today {
            // Writes that bypassed the snapshot (or data older than the history) still show
            // correctly today.
            let live = self.gap(workspace_id, customer_id).await?;
            if let Some(last) = totals.last_mut() {
                *last = Gap {
                    chi: live.chi,
                    cun: live.cun,
                };
            }
        }
        Ok(totals
            .into_iter()
            .enumerate()
            .map(|(i, g)| GapPoint {
                day: from + Days::new(i as u64),
                chi: g.chi,
                cun: g.cun,
            })
            .collect())
    }

    /// What the week of `today` closed, for the portfolio or one customer.
    pub async fn week_progress(
        &self,
        workspace_id: i64,
        customer_id: Option<i64>,
        today: NaiveDate,
    ) -> Result<WeekProgress> {
        let monday = week_start(today);
        let eve = monday.pred_opt().unwrap_or(monday);
        let start = self
            .totals(workspace_id, customer_id, eve, eve)
            .await?
            .pop()
            .unwrap_or_default();
        let live = self.gap(workspace_id, customer_id).await?;
        let now = Gap {
            chi: live.chi,
            cun: live.cun,
        };
        Ok(WeekProgress {
            week_start: monday,
            start,
            now,
            gained: Gained::between(start, now),
        })
    }
}
