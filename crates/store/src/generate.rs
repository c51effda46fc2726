//! `cunjin generate`: fills an empty workspace with a synthetic vendor
//! ([`cunjin_core::scale`]) for load tests and benchmarks.
//!
//! Rows go in as multi-row `INSERT`s with ids chosen up front (so that children can point at
//! their parents without reading ids back), one transaction per batch of a table. Requests and
//! their search terms go through [`Store::bulk_insert_requests`]. Nothing here writes the audit
//! trail: the data was never entered by a person.

use std::time::Instant;

use chrono::NaiveDate;
use cunjin_core::scale::{RequestGenerator, Scale, Vendor};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::requests::BulkRequest;
use crate::search::{feature_text, DocKind};
use crate::{now, Engine, Result, Store, StoreError};

/// Rows per transaction.
const BATCH: usize = 20_000;
/// Probes per demo environment.
const PROBES_PER_ENVIRONMENT: usize = 20;
/// Where generated environments point: a closed local port, so that scheduled probes cost a
/// refused connection and nothing else.
const PROBE_BASE_URL: &str = "http://127.0.0.1:9";
/// Who the generated records say created them.
const ACTOR: &str = "generate@localhost";

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct GenerateOptions {
    /// How much.
    pub scale: Scale,
    /// The seed: the same seed gives the same data.
    pub seed: u64,
    /// Dates are relative to this day.
    pub today: NaiveDate,
    /// Seconds between scheduled probe runs of the generated environments.
    pub probe_interval_s: i64,
}

/// What was generated, and how long it took.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GenerateSummary {
    /// Products.
    pub products: usize,
    /// Features.
    pub features: usize,
    /// Customers.
    pub customers: usize,
    /// Deals.
    pub deals: usize,
    /// Commitments.
    pub commitments: usize,
    /// Acceptance criteria.
    pub criteria: usize,
    /// Requests.
    pub requests: usize,
    /// Demo environments.
    pub environments: usize,
    /// Probes.
    pub probes: usize,
    /// Upcoming demos (one per environment, starting over the next days).
    pub demos: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// One value of a generated row. A missing value is written as the literal `NULL` rather
/// than bound: the Any driver cannot give a bound NULL the type of every column.
enum Cell {
    Int(i64),
    Real(f64),
    Text(String),
    Null,
}

impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Int(v)
    }
}
impl From<f64> for Cell {
    fn from(v: f64) -> Cell {
        Cell::Real(v)
    }
}
impl From<String> for Cell {
    fn from(v: String) -> Cell {
        Cell::Text(v)
    }
}
impl From<&str> for Cell {
    fn from(v: &str) -> Cell {
        Cell::Text(v.to_string())
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map_or(Cell::Null, Into::into)
    }
}

/// Rows of generated data per statement.
const ROWS_PER_STATEMENT: usize = 5_000;

/// Writes `rows` into `table`, one statement per [`ROWS_PER_STATEMENT`] rows passed as one JSON
/// value (see [`crate::json_rows`]). Each column is cast to the type of its values; a column
/// with no value in a chunk is the literal `NULL`.
async fn insert_rows(
    tx: &mut Transaction<'_, Any>,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Cell>>,
) -> Result<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Cell>> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        let select: Vec<String> = (0..columns.len())
            .map(|j| {
                let value = chunk
                    .iter()
                    .map(|r| &r[j])
                    .find(|c| !matches!(c, Cell::Null));
                match value {
                    None => "NULL".to_string(),
                    Some(Cell::Int(_)) => format!("CAST(e.value ->> {j} AS BIGINT)"),
                    Some(Cell::Real(_)) => format!("CAST(e.value ->> {j} AS DOUBLE PRECISION)"),
                    Some(_) => format!("e.value ->> {j}"),
                }
            })
            .collect();
        let json: Vec<Vec<serde_json::Value>> = chunk
            .into_iter()
            .map(|row| {
                debug_assert_eq!(row.len(), columns.len());
                row.into_iter()
                    .map(|cell| match cell {
                        Cell::Int(v) => v.into(),
                        Cell::Real(v) => v.into(),
                        Cell::Text(v) => v.into(),
                        Cell::Null => serde_json::Value::Null,
                    })
                    .collect()
            })
            .collect();
        let json = serde_json::to_string(&json).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sql = format!(
            "INSERT INTO {table} ({}) SELECT {} FROM {}",
            columns.join(", "),
            select.join(", "),
            crate::json_rows(tx, 1)
        );
        sqlx::query(&sql).bind(json).execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    /// The first free id of `table`.
    async fn next_id(&self, table: &str) -> Result<i64> {
        Ok(
            sqlx::query(&format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"))
                .fetch_one(self.writer())
                .await?
                .try_get(0)?,
        )
    }

    /// Moves PostgreSQL's identity sequence past ids written explicitly.
    async fn sync_sequence(&self, table: &str) -> Result<()> {
        if self.engine() == Engine::Postgres {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ))
            .execute(self.writer())
            .await?;
        }
        Ok(())
    }

    /// Writes `rows` (each starting with its id) in transactions of [`BATCH`] rows.
    async fn insert_batched(
        &self,
        table: &str,
        columns: &[&str],
        rows: Vec<Vec<Cell>>,
        progress: &mut dyn FnMut(&str, usize, usize),
    ) -> Result<()> {
        let total = rows.len();
        let mut done = 0;
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let batch: Vec<Vec<Cell>> = rows.by_ref().take(BATCH).collect();
            done += batch.len();
            let mut tx = self.writer().begin().await?;
            insert_rows(&mut tx, table, columns, batch).await?;
            tx.commit().await?;
            progress(table, done, total);
        }
        self.sync_sequence(table).await
    }

    /// Fills `workspace_id`, which must have no features and no customers yet, with a vendor
    /// of `options.scale`. `progress(table, done, total)` is called after every batch.
    pub async fn generate(
        &self,
        workspace_id: i64,
        options: &GenerateOptions,
        progress: &mut dyn FnMut(&str, usize, usize),
    ) -> Result<GenerateSummary> {
        let started = Instant::now();
        let existing: i64 = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM features WHERE workspace_id = $1) \
             + (SELECT COUNT(*) FROM customers WHERE workspace_id = $1)",
        )
        .bind(workspace_id)
        .fetch_one(self.reader())
        .await?
        .try_get(0)?;
        if existing > 0 {
            return Err(StoreError::Conflict(
                "the workspace already has features or customers; generate into an empty one / 工作区已有数据"
                    .into(),
            ));
        }
        let scale = options.scale;
        let vendor: Vendor = cunjin_core::scale::vendor(&scale, options.seed, options.today);
        let ts = now();
        let ws = workspace_id;

        let product0 = self.next_id("products").await?;
        let rows = vendor
            .products
            .iter()
            .enumerate()
            .map(|(i, p)| {
                vec![
                    (product0 + i as i64).into(),
                    ws.into(),
                    p.name.as_str().into(),
                    ts.as_str().into(),
                ]
            })
            .collect();
        self.insert_batched(
            "products",
            &["id", "workspace_id", "name", "created_at"],
            rows,
            progress,
        )
        .await?;

        let feature0 = self.next_id("features").await?;
        let rows = vendor
            .features
            .iter()
            .enumerate()
            .map(|(i, f)| {
                vec![
                    (feature0 + i as i64).into(),
                    ws.into(),
                    (product0 + f.product as i64).into(),
                    f.menu_path.as_str().into(),
                    f.title.as_str().into(),
                    f.stage.as_str().into(),
                    f.effort_days.into(),
                    ts.as_str().into(),
                    ts.as_str().into(),
                ]
            })
            .collect();
        self.insert_batched(
            "features",
            &[
                "id",
                "workspace_id",
                "product_id",
                "menu_path",
                "title",
                "stage",
                "effort_days",
                "created_at",
                "updated_at",
            ],
            rows,
            progress,
        )
        .await?;
        let mut terms: Vec<(i64, String)> = Vec::new();
        for (i, f) in vendor.features.iter().enumerate() {
            for t in cunjin_core::search::terms(&feature_text(&f.title, &f.menu_path)) {
                terms.push((feature0 + i as i64, t));
            }
        }
        terms.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        let rows = terms
            .into_iter()
            .map(|(id, t)| {
                vec![
                    ws.into(),
                    DocKind::Feature.as_str().into(),
                    id.into(),
                    t.into(),
                ]
            })
            .collect();
        self.insert_terms(rows, progress).await?;

        let customer0 = self.next_id("customers").await?;
        let rows = vendor
            .customers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                vec![
                    (customer0 + i as i64).into(),
                    ws.into(),
                    c.name.as_str().into(),
                    c.weight.into(),
                    ts.as_str().into(),
                ]
            })
            .collect();
        self.insert_batched(
            "customers",
            &["id", "workspace_id", "name", "weight", "created_at"],
            rows,
            progress,
        )
        .await?;

        let deal0 = self.next_id("deals").await?;
        let rows = vendor
            .deals
            .iter()
            .enumerate()
            .map(|(i, d)| {
                vec![
                    (deal0 + i as i64).into(),
                    ws.into(),
                    (customer0 + d.customer as i64).into(),
                    d.name.as_str().into(),
                    d.stage.as_str().into(),
                    d.contract_value.cents().into(),
                    d.acceptance_date.map(|d| d.to_string()).into(),
                    i64::from(d.pilot).into(),
                    ts.as_str().into(),
                ]
            })
            .collect();
        self.insert_batched(
            "deals",
            &[
                "id",
                "workspace_id",
                "customer_id",
                "name",
                "stage",
                "contract_value",
                "acceptance_date",
                "pilot",
                "created_at",
            ],
            rows,
            progress,
        )
        .await?;

        let commitment0 = self.next_id("commitments").await?;
        let rows = vendor
            .commitments
            .iter()
            .enumerate()
            .map(|(i, c)| {
                vec![
                    (commitment0 + i as i64).into(),
                    ws.into(),
                    (customer0 + c.customer as i64).into(),
                    c.deal.map(|d| deal0 + d as i64).into(),
                    (feature0 + c.feature as i64).into(),
                    c.shown_as.as_str().into(),
                    c.promised_by.into(),
                    c.promised_at.to_string().into(),
                    c.due.map(|d| d.to_string()).into(),
                    i64::from(c.critical).into(),
                    c.status.as_str().into(),
                    ts.as_str().into(),
                    ts.as_str().into(),
                ]
            })
            .collect();
        self.insert_batched(
            "commitments",
            &[
                "id",
                "workspace_id",
                "customer_id",
                "deal_id",
                "feature_id",
                "shown_as",
                "promised_by",
                "promised_at",
                "due_date",
                "critical",
                "status",
                "created_at",
                "updated_at",
            ],
            rows,
            progress,
        )
        .await?;

        let criterion0 = self.next_id("criteria").await?;
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        for (i, c) in vendor.commitments.iter().enumerate() {
            for (position, (text, met)) in c.criteria.iter().enumerate() {
                rows.push(vec![
                    (criterion0 + rows.len() as i64).into(),
                    ws.into(),
                    (commitment0 + i as i64).into(),
                    (position as i64).into(),
                    text.as_str().into(),
                    i64::from(*met).into(),
                    met.then(|| ts.clone()).into(),
                    met.then(|| c.promised_by.to_string()).into(),
                ]);
            }
        }
        let criteria = rows.len();
        self.insert_batched(
            "criteria",
            &[
                "id",
                "workspace_id",
                "commitment_id",
                "position",
                "text",
                "met",
                "met_at",
                "met_by",
            ],
            rows,
            progress,
        )
        .await?;

        // Demo environments, their probes, and one upcoming demo each, so that the scheduler
        // has probe runs and pre-demo checks to do.
        let environments = scale.probes.div_ceil(PROBES_PER_ENVIRONMENT);
        let environment0 = self.next_id("environments").await?;
        let rows = (0..environments)
            .map(|i| {
                let product = &vendor.products[i % vendor.products.len().max(1)].name;
                vec![
                    (environment0 + i as i64).into(),
                    ws.into(),
                    format!("{product} 演示环境 {}", i + 1).into(),
                    PROBE_BASE_URL.into(),
                    "{}".into(),
                    options.probe_interval_s.into(),
                    ts.as_str().into(),
                    ts.as_str().into(),
                ]
            })
            .collect();
        self.insert_batched(
            "environments",
            &[
                "id",
                "workspace_id",
                "name",
                "base_url",
                "headers",
                "interval_s",
                "next_run_at",
                "created_at",
            ],
            rows,
            progress,
        )
        .await?;
        let probe0 = self.next_id("probes").await?;
        let rows = (0..scale.probes)
            .map(|i| {
                let feature = (i * 7919) % vendor.features.len().max(1);
                vec![
                    (probe0 + i as i64).into(),
                    ws.into(),
                    (environment0 + (i / PROBES_PER_ENVIRONMENT) as i64).into(),
                    Some(feature0 + feature as i64).into(),
                    "GET".into(),
                    format!("/menu/{}", feature + 1).into(),
                    200i64.into(),
                    2_000i64.into(),
                    ts.as_str().into(),
                ]
            })
            .collect();
        self.insert_batched(
            "probes",
            &[
                "id",
                "workspace_id",
                "environment_id",
                "feature_id",
                "method",
                "path",
                "expect_status",
                "timeout_ms",
                "created_at",
            ],
            rows,
            progress,
        )
        .await?;
        let demo0 = self.next_id("demos").await?;
        let start = chrono::Utc::now();
        let rows = (0..environments)
            .map(|i| {
                let deal = i % vendor.deals.len().max(1);
                let customer = vendor.deals.get(deal).map_or(0, |d| d.customer);
                vec![
                    (demo0 + i as i64).into(),
                    ws.into(),
                    (customer0 + customer as i64).into(),
                    Some(deal0 + deal as i64).into(),
                    Some(environment0 + i as i64).into(),
                    format!("{} 演示", vendor.customers[customer].name).into(),
                    crate::stored_time(start + chrono::Duration::minutes(30 + 90 * i as i64))
                        .into(),
                    "[]".into(),
                    ts.as_str().into(),
                ]
            })
            .collect();
        self.insert_batched(
            "demos",
            &[
                "id",
                "workspace_id",
                "customer_id",
                "deal_id",
                "environment_id",
                "title",
                "starts_at",
                "attendees",
                "created_at",
            ],
            rows,
            progress,
        )
        .await?;
        let item0 = self.next_id("demo_items").await?;
        let rows = (0..environments * 3)
            .map(|i| {
                let probe = (i / 3) * PROBES_PER_ENVIRONMENT + i % 3;
                let feature = (probe * 7919) % vendor.features.len().max(1);
                vec![
                    (item0 + i as i64).into(),
                    ws.into(),
                    (demo0 + (i / 3) as i64).into(),
                    ((i % 3) as i64).into(),
                    Some(feature0 + feature as i64).into(),
                    i64::from(i % 3 == 0).into(),
                ]
            })
            .collect();
        self.insert_batched(
            "demo_items",
            &[
                "id",
                "workspace_id",
                "demo_id",
                "position",
                "feature_id",
                "must_show",
            ],
            rows,
            progress,
        )
        .await?;

        let mut requests =
            RequestGenerator::new(options.seed, vendor.customers.len(), vendor.features.len());
        let mut loaded = 0;
        while loaded < scale.requests {
            let n = (scale.requests - loaded).min(BATCH);
            let batch: Vec<BulkRequest> = (0..n)
                .map(|_| {
                    let r = requests.next_request();
                    BulkRequest {
                        text: r.text,
                        source_role: r.source_role,
                        customer_id: r.customer.map(|c| customer0 + c as i64),
                        requester: match r.customer {
                            Some(c) => format!("{}信息科", vendor.customers[c].name),
                            None => ACTOR.to_string(),
                        },
                        product_id: None,
                        feature_id: r.feature.map(|f| feature0 + f as i64),
                    }
                })
                .collect();
            self.bulk_insert_requests(ws, ACTOR, &batch).await?;
            loaded += n;
            progress("requests", loaded, scale.requests);
        }
        self.refresh_statistics().await?;

        Ok(GenerateSummary {
            products: vendor.products.len(),
            features: vendor.features.len(),
            customers: vendor.customers.len(),
            deals: vendor.deals.len(),
            commitments: vendor.commitments.len(),
            criteria,
            requests: scale.requests,
            environments,
            probes: scale.probes,
            demos: environments,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Writes search terms (which have no id) in transactions of [`BATCH`] rows.
    async fn insert_terms(
        &self,
        rows: Vec<Vec<Cell>>,
        progress: &mut dyn FnMut(&str, usize, usize),
    ) -> Result<()> {
        let total = rows.len();
        let mut done = 0;
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let batch: Vec<Vec<Cell>> = rows.by_ref().take(BATCH).collect();
            done += batch.len();
            let mut tx = self.writer().begin().await?;
            insert_rows(
                &mut tx,
                "search_terms",
                &["workspace_id", "kind", "doc_id", "term"],
                batch,
            )
            .await?;
            tx.commit().await?;
            progress("search_terms", done, total);
        }
        Ok(())
    }

    /// After a bulk load: lets PostgreSQL's planner see the new sizes of every table (SQLite's
    /// planner needs nothing).
    async fn refresh_statistics(&self) -> Result<()> {
        if self.engine() == Engine::Postgres {
            // VACUUM too: it marks the freshly written pages all-visible, so that index-only
            // scans (the search index) do not visit the table, as on a database that has run a
            // while (autovacuum gets there on its own a little later).
            sqlx::raw_sql("VACUUM (ANALYZE)")
                .execute(self.writer())
                .await?;
        }
        Ok(())
    }
}
