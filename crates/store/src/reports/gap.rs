//! The gap in 尺 and 寸, per customer and for the whole portfolio.
//!
//! Storage adds up counts per (customer, stage, status) and the core turns each group into a gap
//! (`Gap::of_group`), so the arithmetic lives in one place and no commitment is loaded one by one.

use std::collections::HashMap;

use cunjin_core::{Gap, Stage, Status};
use serde::Serialize;

use crate::column::Flag;
use crate::reports::changes::ChangeLog;
use crate::{Result, Store};

/// The shape of a gap in the OpenAPI document.
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
pub struct GapSchema {
    /// 尺: product not built.
    pub chi: u64,
    /// 寸: delivered but not yet what the customer wants.
    pub cun: u64,
}

/// One customer's gap.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerGap {
    /// Customer.
    pub customer_id: i64,
    /// Its name.
    pub name: String,
    /// 尺.
    pub chi: u64,
    /// 寸.
    pub cun: u64,
    /// Open or delivered commitments.
    pub open_commitments: u64,
    /// Whether any of its deals is a pilot.
    pub pilot: bool,
}

/// The gap of every customer and their sum.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortfolioGap {
    /// 尺 over all customers.
    pub chi: u64,
    /// 寸 over all customers.
    pub cun: u64,
    /// Customers, largest gap first.
    pub customers: Vec<CustomerGap>,
}

/// At most this many customers changed since a kept portfolio gap are computed one by one;
/// more, and the whole portfolio is computed again (one customer: 1–10 ms; everything: 0.4–1.6 s
/// at 5,000 customers and 200,000 commitments).
const GAP_CUSTOMERS_BROUGHT_UP: i64 = 64;

impl PortfolioGap {
    /// The portfolio of these customers' gaps: largest first (尺, then 寸, then by name and id),
    /// with their sum.
    fn of(mut rows: Vec<CustomerGap>) -> PortfolioGap {
        rows.sort_by(|a, b| {
            (b.chi, b.cun)
                .cmp(&(a.chi, a.cun))
                .then_with(|| a.name.cmp(&b.name))
                .then_with(|| a.customer_id.cmp(&b.customer_id))
        });
        let total: Gap = rows
            .iter()
            .map(|r| Gap {
                chi: r.chi,
                cun: r.cun,
            })
            .sum();
        PortfolioGap {
            chi: total.chi,
            cun: total.cun,
            customers: rows,
        }
    }
}

/// Live commitments of one customer at one stage and status: how many, and their unmet
/// criteria.
#[derive(sqlx::FromRow)]
pub(crate) struct GroupRow {
    customer_id: i64,
    #[sqlx(try_from = "String")]
    stage: Stage,
    #[sqlx(try_from = "String")]
    status: Status,
    n: i64,
    unmet: i64,
}

/// A customer's name and whether any of its deals is a pilot, as read.
#[derive(sqlx::FromRow)]
struct CustomerRow {
    id: i64,
    name: String,
    #[sqlx(try_from = "Flag")]
    pilot: bool,
}

/// Adds up groups into each customer's gap and number of live commitments.
pub(crate) fn fold_groups(groups: &[GroupRow]) -> HashMap<i64, (Gap, u64)> {
    let mut per_customer: HashMap<i64, (Gap, u64)> = HashMap::new();
    for g in groups {
        let (n, unmet) = (g.n.max(0) as u64, g.unmet.max(0) as u64);
        let e = per_customer.entry(g.customer_id).or_default();
        e.0 += Gap::of_group(g.stage, g.status, n, unmet);
        e.1 += n;
    }
    per_customer
}

impl Store {
    /// The gap of every customer of a workspace (or of one), largest first. The portfolio is
    /// kept between calls while nothing it depends on changes (`reports.rs`).
    pub async fn gap(&self, workspace_id: i64, only_customer: Option<i64>) -> Result<PortfolioGap> {
        match only_customer {
            None => Ok(self.kept_gap(workspace_id).await?.value.clone()),
            Some(_) => self.compute_gap(workspace_id, only_customer).await,
        }
    }

    /// The gap as the database has it now.
    pub(crate) async fn compute_gap(
        &self,
        workspace_id: i64,
        only_customer: Option<i64>,
    ) -> Result<PortfolioGap> {
        // Two query texts instead of `($2 IS NULL OR c.customer_id = $2)`: a plan cached for
        // one shape cannot serve the other well on PostgreSQL. One customer counts the unmet
        // criteria of its own commitments only (through the criteria index); the portfolio
        // counts them once for the workspace.
        let groups: Vec<GroupRow> = match only_customer {
            Some(customer_id) => {
                sqlx::query_as(
                    "SELECT customer_id, stage, status, COUNT(*) AS n, \
                     CAST(COALESCE(SUM(unmet), 0) AS BIGINT) AS unmet FROM \
                     (SELECT c.customer_id, f.stage, c.status, \
                      (SELECT COUNT(*) FROM criteria k WHERE k.commitment_id = c.id AND k.met = 0) AS unmet \
                      FROM commitments c JOIN features f ON f.id = c.feature_id \
                      WHERE c.workspace_id = $1 AND c.customer_id = $2 \
                      AND c.status IN ('open', 'delivered')) g \
                     GROUP BY customer_id, stage, status",
                )
                .bind(workspace_id)
                .bind(customer_id)
                .fetch_all(self.reader())
                .await?
            }
            None => {
                sqlx::query_as(
                    "SELECT c.customer_id, f.stage, c.status, COUNT(*) AS n, \
                     CAST(COALESCE(SUM(u.unmet), 0) AS BIGINT) AS unmet \
                     FROM commitments c JOIN features f ON f.id = c.feature_id \
                     LEFT JOIN (SELECT commitment_id, COUNT(*) AS unmet FROM criteria \
                                WHERE workspace_id = $1 AND met = 0 GROUP BY commitment_id) u ON u.commitment_id = c.id \
                     WHERE c.workspace_id = $1 AND c.status IN ('open', 'delivered') \
                     GROUP BY c.customer_id, f.stage, c.status",
                )
                .bind(workspace_id)
                .fetch_all(self.reader())
                .await?
            }
        };
        let per_customer = fold_groups(&groups);
        let customers_sql =
            "SELECT c.id, c.name, CAST(COALESCE(MAX(d.pilot), 0) AS BIGINT) AS pilot FROM customers c \
             LEFT JOIN deals d ON d.workspace_id = c.workspace_id AND d.customer_id = c.id \
             WHERE c.workspace_id = $1";
        let customers: Vec<CustomerRow> = match only_customer {
            Some(customer_id) => {
                sqlx::query_as(&format!(
                    "{customers_sql} AND c.id = $2 GROUP BY c.id, c.name"
                ))
                .bind(workspace_id)
                .bind(customer_id)
                .fetch_all(self.reader())
                .await?
            }
            None => {
                sqlx::query_as(&format!("{customers_sql} GROUP BY c.id, c.name"))
                    .bind(workspace_id)
                    .fetch_all(self.reader())
                    .await?
            }
        };
        let mut rows = Vec::with_capacity(customers.len());
        for c in customers {
            let (gap, n) = per_customer.get(&c.id).copied().unwrap_or_default();
            rows.push(CustomerGap {
                customer_id: c.id,
                name: c.name,
                chi: gap.chi,
                cun: gap.cun,
                open_commitments: n,
                pilot: c.pilot,
            });
        }
        Ok(PortfolioGap::of(rows))
    }

    /// The portfolio gap `stale`, computed at report version `since`, brought up to date by
    /// computing again the customers a write has changed since (`gap_changes`, migration
    /// 0010); `None` when so many changed that computing everything is faster.
    pub(crate) async fn gap_brought_up(
        &self,
        workspace_id: i64,
        since: i64,
        stale: &PortfolioGap,
    ) -> Result<Option<PortfolioGap>> {
        let changed = self
            .changed_since(
                ChangeLog::Gap,
                workspace_id,
                since,
                GAP_CUSTOMERS_BROUGHT_UP + 1,
            )
            .await?;
        if changed.len() > GAP_CUSTOMERS_BROUGHT_UP as usize {
            return Ok(None);
        }
        let mut rows: Vec<CustomerGap> = stale
            .customers
            .iter()
            .filter(|c| changed.binary_search(&c.customer_id).is_err())
            .cloned()
            .collect();
        for id in &changed {
            // None when the customer is gone.
            rows.extend(self.compute_gap(workspace_id, Some(*id)).await?.customers);
        }
        // Every customer is either unchanged since `since` (and in `stale`) or changed (and
        // computed again); a count that differs means the log missed something: compute all.
        let customers: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE workspace_id = $1")
                .bind(workspace_id)
                .fetch_one(self.reader())
                .await?;
        if customers != rows.len() as i64 {
            tracing::warn!(
                workspace_id,
                customers,
                rows = rows.len(),
                "gap changes incomplete; computing the whole portfolio"
            );
            return Ok(None);
        }
        Ok(Some(PortfolioGap::of(rows)))
    }

    /// One customer's gap.
    pub async fn gap_for_customer(
        &self,
        workspace_id: i64,
        customer_id: i64,
    ) -> Result<CustomerGap> {
        self.get_customer(workspace_id, cunjin_core::CustomerId(customer_id))
            .await?;
        let p = self.gap(workspace_id, Some(customer_id)).await?;
        p.customers
            .into_iter()
            .next()
            .ok_or_else(|| crate::StoreError::not_found("customer", customer_id))
    }
}
