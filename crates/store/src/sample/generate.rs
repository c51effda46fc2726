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
use sqlx::{Any, Transaction};

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
            sqlx::query_scalar(&format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"))
                .fetch_one(self.writer())
                .await?,
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

    /// Writes `rows` in transactions of [`BATCH`] rows, telling `progress` after each.
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
        Ok(())
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
        self.check_empty(workspace_id).await?;
        let scale = options.scale;
        let vendor: Vendor = cunjin_core::scale::vendor(&scale, options.seed, options.today);
        let ts = now();
        let mut run = Generation {
            store: self,
            ws: workspace_id,
            ts: &ts,
            vendor: &vendor,
            options,
            progress,
        };
        let products = run.products().await?;
        let features = run.features(products).await?;
        run.feature_terms(features).await?;
        let customers = run.customers().await?;
        let deals = run.deals(customers).await?;
        let commitments = run.commitments(customers, deals, features).await?;
        let criteria = run.criteria(commitments).await?;
        // Demo environments, their probes, and one upcoming demo each, so that the scheduler
        // has probe runs and pre-demo checks to do.
        let environments = scale.probes.div_ceil(PROBES_PER_ENVIRONMENT);
        let environment0 = run.environments(environments).await?;
        run.probes(environment0, features).await?;
        let demos = run
            .demos(environments, environment0, customers, deals)
            .await?;
        run.demo_items(environments, demos, features).await?;
        run.requests(customers, features).await?;
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

    /// Refuses a workspace that already has features or customers: generated ids would
    /// interleave with theirs.
    async fn check_empty(&self, workspace_id: i64) -> Result<()> {
        let existing: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM features WHERE workspace_id = $1) \
             + (SELECT COUNT(*) FROM customers WHERE workspace_id = $1)",
        )
        .bind(workspace_id)
        .fetch_one(self.reader())
        .await?;
        if existing > 0 {
            return Err(StoreError::Conflict(
                "the workspace already has features or customers; generate into an empty one / 工作区已有数据"
                    .into(),
            ));
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

/// One run of [`Store::generate`]: one step per table, each returning the id of its first row,
/// so that row `i` of a list of the vendor is `first + i` and children can point at it.
struct Generation<'a> {
    store: &'a Store,
    ws: i64,
    /// Creation time of every row.
    ts: &'a str,
    vendor: &'a Vendor,
    options: &'a GenerateOptions,
    progress: &'a mut dyn FnMut(&str, usize, usize),
}

impl Generation<'_> {
    /// Writes the rows that `rows(first id)` makes into `table`, with ids from its first free
    /// one; returns that id.
    async fn table(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: impl FnOnce(i64) -> Vec<Vec<Cell>>,
    ) -> Result<i64> {
        let first = self.store.next_id(table).await?;
        self.store
            .insert_batched(table, columns, rows(first), self.progress)
            .await?;
        self.store.sync_sequence(table).await?;
        Ok(first)
    }

    async fn products(&mut self) -> Result<i64> {
        let (ws, ts, vendor) = (self.ws, self.ts, self.vendor);
        self.table(
            "products",
            &["id", "workspace_id", "name", "created_at"],
            |product0| {
                vendor
                    .products
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        vec![
                            (product0 + i as i64).into(),
                            ws.into(),
                            p.name.as_str().into(),
                            ts.into(),
                        ]
                    })
                    .collect()
            },
        )
        .await
    }

    async fn features(&mut self, product0: i64) -> Result<i64> {
        let (ws, ts, vendor) = (self.ws, self.ts, self.vendor);
        self.table(
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
            |feature0| {
                vendor
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
                            ts.into(),
                            ts.into(),
                        ]
                    })
                    .collect()
            },
        )
        .await
    }

    /// The search terms of the features (a table without ids), sorted by term as the index is.
    async fn feature_terms(&mut self, feature0: i64) -> Result<()> {
        let ws = self.ws;
        let mut terms: Vec<(i64, String)> = Vec::new();
        for (i, f) in self.vendor.features.iter().enumerate() {
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
        self.store
            .insert_batched(
                "search_terms",
                &["workspace_id", "kind", "doc_id", "term"],
                rows,
                self.progress,
            )
            .await
    }

    async fn customers(&mut self) -> Result<i64> {
        let (ws, ts, vendor) = (self.ws, self.ts, self.vendor);
        self.table(
            "customers",
            &["id", "workspace_id", "name", "weight", "created_at"],
            |customer0| {
                vendor
                    .customers
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        vec![
                            (customer0 + i as i64).into(),
                            ws.into(),
                            c.name.as_str().into(),
                            c.weight.into(),
                            ts.into(),
                        ]
                    })
                    .collect()
            },
        )
        .await
    }

    async fn deals(&mut self, customer0: i64) -> Result<i64> {
        let (ws, ts, vendor) = (self.ws, self.ts, self.vendor);
        self.table(
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
            |deal0| {
                vendor
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
                            ts.into(),
                        ]
                    })
                    .collect()
            },
        )
        .await
    }

    async fn commitments(&mut self, customer0: i64, deal0: i64, feature0: i64) -> Result<i64> {
        let (ws, ts, vendor) = (self.ws, self.ts, self.vendor);
        self.table(
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
            |commitment0| {
                vendor
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
                            ts.into(),
                            ts.into(),
                        ]
                    })
                    .collect()
            },
        )
        .await
    }

    /// The criteria of every commitment, in order; returns how many.
    async fn criteria(&mut self, commitment0: i64) -> Result<usize> {
        let (ws, ts, vendor) = (self.ws, self.ts, self.vendor);
        self.table(
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
            |criterion0| {
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
                            met.then_some(ts).into(),
                            met.then(|| c.promised_by.to_string()).into(),
                        ]);
                    }
                }
                rows
            },
        )
        .await?;
        Ok(vendor.commitments.iter().map(|c| c.criteria.len()).sum())
    }

    /// `count` environments, named after the products in turn.
    async fn environments(&mut self, count: usize) -> Result<i64> {
        let (ws, ts, vendor) = (self.ws, self.ts, self.vendor);
        let interval_s = self.options.probe_interval_s;
        self.table(
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
            |environment0| {
                (0..count)
                    .map(|i| {
                        let product = &vendor.products[i % vendor.products.len().max(1)].name;
                        vec![
                            (environment0 + i as i64).into(),
                            ws.into(),
                            format!("{product} 演示环境 {}", i + 1).into(),
                            PROBE_BASE_URL.into(),
                            "{}".into(),
                            interval_s.into(),
                            ts.into(),
                            ts.into(),
                        ]
                    })
                    .collect()
            },
        )
        .await
    }

    /// [`PROBES_PER_ENVIRONMENT`] probes per environment, on features spread over the catalogue.
    async fn probes(&mut self, environment0: i64, feature0: i64) -> Result<i64> {
        let (ws, ts, vendor) = (self.ws, self.ts, self.vendor);
        let count = self.options.scale.probes;
        self.table(
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
            |probe0| {
                (0..count)
                    .map(|i| {
                        let feature = probed_feature(i, vendor);
                        vec![
                            (probe0 + i as i64).into(),
                            ws.into(),
                            (environment0 + (i / PROBES_PER_ENVIRONMENT) as i64).into(),
                            Some(feature0 + feature as i64).into(),
                            "GET".into(),
                            format!("/menu/{}", feature + 1).into(),
                            200i64.into(),
                            2_000i64.into(),
                            ts.into(),
                        ]
                    })
                    .collect()
            },
        )
        .await
    }

    /// One upcoming demo per environment, 90 minutes apart from half an hour from now.
    async fn demos(
        &mut self,
        count: usize,
        environment0: i64,
        customer0: i64,
        deal0: i64,
    ) -> Result<i64> {
        let (ws, ts, vendor) = (self.ws, self.ts, self.vendor);
        let start = chrono::Utc::now();
        self.table(
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
            |demo0| {
                (0..count)
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
                            crate::stored_time(
                                start + chrono::Duration::minutes(30 + 90 * i as i64),
                            )
                            .into(),
                            "[]".into(),
                            ts.into(),
                        ]
                    })
                    .collect()
            },
        )
        .await
    }

    /// Three scripted items per demo: the features of the first three probes of its
    /// environment, the first of them a must-show.
    async fn demo_items(&mut self, demos: usize, demo0: i64, feature0: i64) -> Result<i64> {
        let (ws, vendor) = (self.ws, self.vendor);
        self.table(
            "demo_items",
            &[
                "id",
                "workspace_id",
                "demo_id",
                "position",
                "feature_id",
                "must_show",
            ],
            |item0| {
                (0..demos * 3)
                    .map(|i| {
                        let probe = (i / 3) * PROBES_PER_ENVIRONMENT + i % 3;
                        let feature = probed_feature(probe, vendor);
                        vec![
                            (item0 + i as i64).into(),
                            ws.into(),
                            (demo0 + (i / 3) as i64).into(),
                            ((i % 3) as i64).into(),
                            Some(feature0 + feature as i64).into(),
                            i64::from(i % 3 == 0).into(),
                        ]
                    })
                    .collect()
            },
        )
        .await
    }

    /// The requests, from the seeded generator, in batches of [`BATCH`] through
    /// [`Store::bulk_insert_requests`] (which indexes them).
    async fn requests(&mut self, customer0: i64, feature0: i64) -> Result<()> {
        let vendor = self.vendor;
        let total = self.options.scale.requests;
        let mut requests = RequestGenerator::new(
            self.options.seed,
            vendor.customers.len(),
            vendor.features.len(),
        );
        let mut loaded = 0;
        while loaded < total {
            let n = (total - loaded).min(BATCH);
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
            self.store
                .bulk_insert_requests(self.ws, ACTOR, &batch)
                .await?;
            loaded += n;
            (self.progress)("requests", loaded, total);
        }
        Ok(())
    }
}

/// The feature (its index in the vendor's list) that probe `i` checks: a stride that spreads
/// the probes over the catalogue.
fn probed_feature(i: usize, vendor: &Vendor) -> usize {
    (i * 7919) % vendor.features.len().max(1)
}
