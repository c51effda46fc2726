//! Imports of whole files: requests, features and commitments read by `cunjin-exchange`,
//! written in ONE transaction (all rows or none), in batched multi-row inserts.
//!
//! Names are resolved here: a customer or product that does not exist yet is created (a
//! requirement pool names its products and customers, and refusing the file for each of them
//! would make importing one a chore); a deal must exist, since a deal has a stage and a value
//! that a file does not give; a commitment's feature is found by product and menu path, or by
//! title, and created at stage `idea` when there is none, as when recording a promise by hand.
//! A feature already in the catalogue (same product and menu path) is left as it is.
//!
//! Every row is resolved (and checked) before anything is written: a dry run, or a file with a
//! bad row, ends there with the counts of what would be created.

use std::collections::{BTreeSet, HashMap};

use cunjin_core::commitment::check_deliverable;
use cunjin_core::{Decision, Health, MenuPath, Mode, Stage, Status};
use cunjin_exchange::{CommitmentRow, CustomerRow, FeatureRow, RequestRow, RowError};
use serde::Serialize;
use sqlx::{Any, Transaction};

use crate::access::audit::{Action, Entity, ImportKind};
use crate::ledger::catalogue::{effort_param, UNSORTED_PRODUCT};
use crate::ledger::progress::{refresh_snapshots, Scope};
use crate::requests::{insert_requests_in, sync_id_sequence, BulkRequest, Terms};
use crate::search::backlog::add_to_backlog;
use crate::search::{feature_text, insert_terms_in, DocKind};
use crate::{access::audit, now, Result, Store, StoreError};

/// Rows per batch between two progress reports.
const BATCH: usize = 5_000;
/// Imports at least this large refresh the planner's statistics afterwards.
const ANALYZE_FROM: usize = 10_000;

/// What an import created (or, in a dry run, would create).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Created {
    /// Requests.
    pub requests: u64,
    /// Features.
    pub features: u64,
    /// Commitments.
    pub commitments: u64,
    /// Acceptance criteria of those commitments.
    pub criteria: u64,
    /// Customers named in the file that did not exist.
    pub customers: u64,
    /// Deals.
    pub deals: u64,
    /// Products named in the file that did not exist.
    pub products: u64,
}

/// The outcome of an import.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// Whether the rows were written; false for a dry run or when any row is bad.
    pub committed: bool,
    /// What was (or would be) created.
    pub created: Created,
    /// Records of the file already there (features in the catalogue, customers, deals), left
    /// as they are.
    pub existing: u64,
    /// Rows that cannot be imported, in the order of the rows given (by line for a file).
    pub errors: Vec<RowError>,
}

/// Whether an import writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apply {
    /// Write everything when no row is bad.
    Commit,
    /// Check everything and count what would be created, then write nothing.
    DryRun,
}

/// Ids of the records of `table` in a workspace, by name.
async fn names_of(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    table: &'static str,
) -> Result<HashMap<String, i64>> {
    Ok(sqlx::query_as(&format!(
        "SELECT name, id FROM {table} WHERE workspace_id = $1"
    ))
    .bind(workspace_id)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .collect())
}

/// The names of a table (customers, products) that an import uses: the workspace's, with their
/// ids, and the missing ones, with provisional ids (-1, -2, …) until [`Names::create`].
struct Names {
    table: &'static str,
    ids: HashMap<String, i64>,
    missing: Vec<String>,
}

impl Names {
    /// The names of `table` in a workspace, and `wanted` ones that are missing.
    async fn load<'n>(
        tx: &mut Transaction<'_, Any>,
        workspace_id: i64,
        table: &'static str,
        wanted: impl IntoIterator<Item = &'n str>,
    ) -> Result<Names> {
        let mut names = Names {
            table,
            ids: names_of(tx, workspace_id, table).await?,
            missing: Vec::new(),
        };
        for n in wanted.into_iter().collect::<BTreeSet<_>>() {
            names.id(n);
        }
        Ok(names)
    }

    /// The id of a name, provisional when the name is missing (it becomes missing if unknown).
    fn id(&mut self, name: &str) -> i64 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        self.missing.push(name.to_string());
        let id = -(self.missing.len() as i64);
        self.ids.insert(name.to_string(), id);
        id
    }

    /// How many names are missing.
    fn created(&self) -> u64 {
        self.missing.len() as u64
    }

    /// Creates the missing names; afterwards [`Names::real`] turns provisional ids into ids.
    async fn create(&mut self, tx: &mut Transaction<'_, Any>, workspace_id: i64) -> Result<()> {
        if self.missing.is_empty() {
            return Ok(());
        }
        let table = self.table;
        let ts = now();
        for chunk in self.missing.chunks(crate::rows_per_statement(tx, 1, 500)) {
            let mut sql = format!("INSERT INTO {table} (workspace_id, name, created_at) VALUES ");
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("($1, ${}, $2)", i + 3));
            }
            // A name created meanwhile by someone else (a free-text promise creates the
            // unsorted product) is taken as it is.
            sql.push_str(" ON CONFLICT (workspace_id, name) DO NOTHING");
            let mut q = sqlx::query(&sql).bind(workspace_id).bind(&ts);
            for n in chunk {
                q = q.bind(n.as_str());
            }
            q.execute(&mut **tx).await?;
        }
        self.ids = names_of(tx, workspace_id, table).await?;
        Ok(())
    }

    /// The id of a provisional id's name once [`Names::create`] has run; others are unchanged.
    fn real(&self, id: i64) -> Result<i64> {
        if id > 0 {
            return Ok(id);
        }
        usize::try_from(-id - 1)
            .ok()
            .and_then(|i| self.missing.get(i))
            .and_then(|n| self.ids.get(n))
            .copied()
            .filter(|id| *id > 0)
            .ok_or_else(|| {
                StoreError::Corrupt(format!("{} created by the import is gone", self.table))
            })
    }

    /// The id of a name the workspace or the file already has (provisional for the file's),
    /// without making it missing.
    fn known(&self, name: &str) -> Option<i64> {
        self.ids.get(name).copied()
    }
}

/// A feature of the catalogue as an import finds it.
#[derive(Debug, Clone, Copy)]
struct CatalogueFeature {
    id: i64,
    product_id: i64,
    stage: Stage,
}

/// The catalogue, read once, to find each row's feature without a query per row: by product
/// and menu path, by menu path in any product, or by title (in any case).
#[derive(Default)]
struct Catalogue {
    by_path: HashMap<(i64, String), CatalogueFeature>,
    by_any_path: HashMap<String, CatalogueFeature>,
    by_title: HashMap<String, Vec<CatalogueFeature>>,
}

impl Catalogue {
    async fn load(tx: &mut Transaction<'_, Any>, workspace_id: i64) -> Result<Catalogue> {
        let mut c = Catalogue::default();
        let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT id, product_id, menu_path, title, stage FROM features WHERE workspace_id = $1 ORDER BY id",
        )
        .bind(workspace_id)
        .fetch_all(&mut **tx)
        .await?;
        for (id, product_id, path, title, stage) in rows {
            let f = CatalogueFeature {
                id,
                product_id,
                stage: crate::parse_stored(&stage, Stage::parse)?,
            };
            c.by_path.entry((f.product_id, path.clone())).or_insert(f);
            c.by_any_path.entry(path).or_insert(f);
            c.by_title.entry(title.to_lowercase()).or_default().push(f);
        }
        Ok(c)
    }

    /// The feature at `menu_path` (in `product_id` when given), or without a path the first
    /// with `title` (in `product_id` when given).
    fn find(
        &self,
        product_id: Option<i64>,
        menu_path: Option<&MenuPath>,
        title: Option<&str>,
    ) -> Option<CatalogueFeature> {
        match (menu_path, product_id) {
            (Some(p), Some(pid)) => self.by_path.get(&(pid, p.as_str().to_string())).copied(),
            (Some(p), None) => self.by_any_path.get(p.as_str()).copied(),
            (None, pid) => self
                .by_title
                .get(&title?.to_lowercase())
                .and_then(|v| v.iter().find(|f| pid.is_none_or(|p| p == f.product_id)))
                .copied(),
        }
    }
}

/// A request row with its names resolved (customer and product ids provisional until
/// [`Names::create`]).
struct ResolvedRequest {
    customer_id: Option<i64>,
    product_id: Option<i64>,
    requester: String,
    feature_id: Option<i64>,
    /// For a duplicate: the row of the original its demand goes to.
    original: Option<usize>,
}

/// Resolves every request row, pushing the bad ones to `errors`; the result has a value for
/// every row (those of bad rows are never written).
fn resolve_requests(
    rows: &[(u64, RequestRow)],
    customers: &mut Names,
    products: &mut Names,
    catalogue: &Catalogue,
    errors: &mut Vec<RowError>,
) -> Vec<ResolvedRequest> {
    let mut keys: HashMap<&str, usize> = HashMap::new();
    for (i, (line, r)) in rows.iter().enumerate() {
        if let Some(key) = r.key.as_deref() {
            if let Some(&first) = keys.get(key) {
                errors.push(RowError::new(
                    *line,
                    format!("id {key} is also the id of line {}", rows[first].0),
                    format!("编号 {key} 与第 {} 行重复", rows[first].0),
                ));
            } else {
                keys.insert(key, i);
            }
        }
    }
    let mut resolved = Vec::with_capacity(rows.len());
    for (i, (line, r)) in rows.iter().enumerate() {
        let (customer_id, requester) = match (&r.customer, &r.source_note) {
            (Some(c), _) => (Some(customers.id(c)), r.requester.clone()),
            (None, Some(note)) => match named_customer(customers, note) {
                Some(id) => (Some(id), r.requester.clone()),
                None => (None, note.clone()),
            },
            (None, None) => (None, r.requester.clone()),
        };
        let mut product_id = r.product.as_deref().map(|p| products.id(p));
        let mut feature_id = None;
        // A row whose feature or original is not found is reported for that alone: the
        // decision's rules would only say again that it has none.
        let mut unresolved = false;
        if let Some(f) = &r.feature {
            // The feature under the request's product, or, when a link crossed products, in any.
            let found = catalogue
                .find(product_id, f.menu_path.as_ref(), f.title.as_deref())
                .or_else(|| {
                    product_id.and_then(|_| {
                        catalogue.find(None, f.menu_path.as_ref(), f.title.as_deref())
                    })
                });
            match found {
                Some(found) => {
                    feature_id = Some(found.id);
                    product_id = Some(found.product_id);
                }
                None => {
                    let name = f
                        .menu_path
                        .as_ref()
                        .map(|p| p.as_str().to_string())
                        .or(f.title.clone())
                        .unwrap_or_default();
                    errors.push(RowError::new(
                        *line,
                        format!("no feature '{name}' in the catalogue: import the features first"),
                        format!("功能目录中没有“{name}”：请先导入功能"),
                    ));
                    unresolved = true;
                }
            }
        }
        let original = match &r.duplicate_of {
            None => None,
            Some(key) => match keys.get(key.as_str()) {
                Some(&j) => Some(j),
                None => {
                    errors.push(RowError::new(
                        *line,
                        format!("duplicate_of: no request with id {key} in the file"),
                        format!("“重复于”：文件中没有编号为 {key} 的需求"),
                    ));
                    unresolved = true;
                    None
                }
            },
        };
        let root = match check_request_decision(rows, &keys, i, original, feature_id) {
            _ if unresolved => None,
            Ok(root) => root,
            Err((en, zh)) => {
                errors.push(RowError::new(*line, en, zh));
                None
            }
        };
        resolved.push(ResolvedRequest {
            customer_id,
            product_id,
            requester,
            feature_id,
            original: root,
        });
    }
    resolved
}

/// The customer a tracker's source note names: the whole note, or one of its parts between
/// spaces and punctuation ("华西医院 张主任", "张主任（华西医院）").
fn named_customer(customers: &Names, note: &str) -> Option<i64> {
    customers.known(note.trim()).or_else(|| {
        note.split(|c: char| c.is_whitespace() || "，,、；;：:（）()【】[]/-—".contains(c))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .find_map(|p| customers.known(p))
    })
}

/// The rules of deciding by hand (`cunjin_core::check_decision`) for row `i`, whose original is
/// row `original`; gives the row its demand goes to, or why not in English and Chinese.
fn check_request_decision(
    rows: &[(u64, RequestRow)],
    keys: &HashMap<&str, usize>,
    i: usize,
    original: Option<usize>,
    feature_id: Option<i64>,
) -> std::result::Result<Option<usize>, (String, String)> {
    use cunjin_core::DecisionError as E;
    let r = &rows[i].1;
    if r.decision == Decision::New {
        return match original {
            None => Ok(None),
            Some(_) => Err((
                "duplicate_of is given, but the decision is not duplicate".into(),
                "填写了“重复于”，但决定不是“重复”".into(),
            )),
        };
    }
    // Rows stand for requests here: row i is request i + 1.
    let its_original = original
        .and_then(|j| rows[j].1.duplicate_of.as_deref())
        .and_then(|k| keys.get(k))
        .map(|&k| k as i64 + 1);
    let root = cunjin_core::check_decision(&cunjin_core::DecisionInput {
        request_id: i as i64 + 1,
        to: r.decision,
        reason: r.reason.as_deref(),
        has_feature: feature_id.is_some(),
        original: original.map(|j| (j as i64 + 1, its_original)),
    });
    let zh = match &root {
        Ok(_) => return Ok(root.ok().flatten().map(|id| id as usize - 1)),
        Err(E::NotADecision) => "“new”不是决定",
        Err(E::FeatureRequired) => "“已接受”的需求须关联功能（feature 或 feature_menu_path 列）",
        Err(E::ReasonRequired) => "“不做”须写明理由（reason 列），需求提出人会看到",
        Err(E::OriginalRequired) => "“重复”须填写原需求的编号（duplicate_of 列）",
        Err(E::SelfDuplicate) => "需求不能重复于它自己",
        Err(E::Cycle { .. }) => "原需求又重复于这条需求，形成了循环",
        Err(E::OriginalWithoutDuplicate) => "填写了“重复于”，但决定不是“重复”",
    };
    let en = root.err().map(|e| e.to_string()).unwrap_or_default();
    Err((
        format!("decision {}: {en}", r.decision.as_str()),
        format!("决定“{}”：{zh}", r.decision.as_str()),
    ))
}

/// Writes what an import's request rows say of their life after filing (decision, reason,
/// original, planned release, contact, times) onto the requests just inserted as `ids`, in one
/// statement per batch. Originals are written after every row is in, whatever their order.
async fn restore_request_history(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    actor: &str,
    rows: &[(u64, RequestRow)],
    resolved: &[ResolvedRequest],
    ids: &[i64],
) -> Result<()> {
    #[derive(Serialize)]
    struct History<'a>(
        i64,
        &'static str,
        Option<&'a str>,
        Option<i64>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );
    let ts = now();
    let changed: Vec<History<'_>> = rows
        .iter()
        .zip(resolved)
        .zip(ids)
        .filter(|(((_, r), v), _)| {
            // The bulk insert takes a request with a feature for accepted, others for new, and
            // leaves who decided when empty.
            r.decision != Decision::New
                || v.feature_id.is_some()
                || r.reason.is_some()
                || r.planned_release.is_some()
                || r.contact.is_some()
                || r.created_at.is_some()
                || r.decided_by.is_some()
                || r.decided_at.is_some()
        })
        .map(|(((_, r), v), id)| {
            // A decision the file gives without saying who made it when was made by the import.
            let decided = r.decision != Decision::New;
            History(
                *id,
                r.decision.as_str(),
                r.reason.as_deref(),
                v.original.map(|j| ids[j]),
                r.planned_release.as_deref(),
                r.contact.as_deref(),
                r.created_at.as_deref(),
                r.decided_by.as_deref().or(decided.then_some(actor)),
                r.decided_at.as_deref().or(decided.then_some(ts.as_str())),
            )
        })
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE requests SET decision = e.value ->> 1, reason = e.value ->> 2, \
         duplicate_of = CAST(e.value ->> 3 AS BIGINT), planned_release = e.value ->> 4, \
         contact = COALESCE(e.value ->> 5, contact), created_at = COALESCE(e.value ->> 6, created_at), \
         decided_by = e.value ->> 7, decided_at = e.value ->> 8 \
         FROM {} WHERE requests.workspace_id = $1 AND requests.id = CAST(e.value ->> 0 AS BIGINT)",
        crate::json_rows(tx, 2)
    );
    for chunk in changed.chunks(BATCH) {
        let json = serde_json::to_string(chunk).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(&sql)
            .bind(workspace_id)
            .bind(json)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Whether an import ends after checking its rows, writing nothing.
fn ends_before_writing(apply: Apply, report: &ImportReport) -> bool {
    apply == Apply::DryRun || !report.errors.is_empty()
}

/// Keeps other writers out of the tables an import writes until it commits. Imports write their
/// ids (to index without reading them back); on PostgreSQL a concurrent insert could otherwise
/// take one of them from the sequence and one of the two would fail. SQLite has one writer at a
/// time anyway. Readers are not blocked.
async fn lock_for_import(
    tx: &mut Transaction<'_, Any>,
    engine: crate::Engine,
    tables: &[&str],
) -> Result<()> {
    if engine == crate::Engine::Postgres {
        sqlx::query(&format!(
            "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE",
            tables.join(", ")
        ))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The next free id of a table, for inserts that write their ids.
async fn next_id(tx: &mut Transaction<'_, Any>, table: &'static str) -> Result<i64> {
    Ok(
        sqlx::query_scalar(&format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"))
            .fetch_one(&mut **tx)
            .await?,
    )
}

/// A feature ready to insert.
struct NewFeatureRow {
    product_id: i64,
    menu_path: String,
    title: String,
    stage: Stage,
    effort_days: Option<f64>,
    target_release: Option<String>,
    slide_url: Option<String>,
    recording_url: Option<String>,
}

/// Inserts features with their search terms; returns their ids in order.
async fn insert_features_in(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    features: &[NewFeatureRow],
) -> Result<Vec<i64>> {
    if features.is_empty() {
        return Ok(Vec::new());
    }
    let first = next_id(tx, "features").await?;
    let ids: Vec<i64> = (0..features.len() as i64).map(|i| first + i).collect();
    let ts = now();
    let per = crate::rows_per_statement(tx, 9, 300);
    for (chunk_ids, chunk) in ids.chunks(per).zip(features.chunks(per)) {
        let mut sql = String::from(
            "INSERT INTO features (id, workspace_id, product_id, menu_path, title, stage, effort_days, \
             target_release, slide_url, recording_url, created_at, updated_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = 3 + i * 9;
            if i > 0 {
                sql.push(',');
            }
            // Effort -1 stands for none (see `catalogue::effort_param`).
            sql.push_str(&format!(
                "(${b}, $1, ${}, ${}, ${}, ${}, CASE WHEN ${} < 0 THEN NULL ELSE ${} END, ${}, ${}, ${}, $2, $2)",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 5,
                b + 6,
                b + 7,
                b + 8
            ));
        }
        let mut q = sqlx::query(&sql).bind(workspace_id).bind(&ts);
        for (id, f) in chunk_ids.iter().zip(chunk) {
            q = q
                .bind(*id)
                .bind(f.product_id)
                .bind(f.menu_path.as_str())
                .bind(f.title.as_str())
                .bind(f.stage.as_str())
                .bind(effort_param(f.effort_days))
                .bind(f.target_release.as_deref())
                .bind(f.slide_url.as_deref())
                .bind(f.recording_url.as_deref());
        }
        q.execute(&mut **tx).await?;
    }
    let mut terms = Vec::new();
    for (id, f) in ids.iter().zip(features) {
        for t in cunjin_core::search::terms(&feature_text(&f.title, &f.menu_path)) {
            terms.push((*id, t));
        }
    }
    insert_terms_in(tx, workspace_id, DocKind::Feature, terms).await?;
    Ok(ids)
}

/// What a commitment row promises: a feature of the catalogue, or the new one at that index
/// of [`ResolvedCommitments::new_features`].
enum Target {
    Known(i64, Stage),
    New(usize),
}

/// A commitment row with its names resolved (the customer id provisional until
/// [`Names::create`]).
struct ResolvedCommitment<'r> {
    customer_id: i64,
    /// The deal's id and acceptance date.
    deal: Option<(i64, Option<String>)>,
    target: Target,
    row: &'r CommitmentRow,
}

/// The good rows of a commitments import, and the features they need created.
struct ResolvedCommitments<'r> {
    commitments: Vec<ResolvedCommitment<'r>>,
    /// Features to create, shared by the rows that promise the same new one.
    new_features: Vec<NewFeatureRow>,
}

/// A deal by (customer id, name): its id and acceptance date (the first of equal names).
async fn load_deals(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
) -> Result<HashMap<(i64, String), (i64, Option<String>)>> {
    let mut deals: HashMap<(i64, String), (i64, Option<String>)> = HashMap::new();
    let rows: Vec<(i64, i64, String, Option<String>)> = sqlx::query_as(
        "SELECT id, customer_id, name, acceptance_date FROM deals WHERE workspace_id = $1 ORDER BY id",
    )
    .bind(workspace_id)
    .fetch_all(&mut **tx)
    .await?;
    for (id, customer_id, name, acceptance_date) in rows {
        deals
            .entry((customer_id, name))
            .or_insert((id, acceptance_date));
    }
    Ok(deals)
}

/// Resolves every commitment row (customer, deal, feature), pushing the bad ones to `errors`.
fn resolve_commitments<'r>(
    rows: &'r [(u64, CommitmentRow)],
    customers: &mut Names,
    products: &mut Names,
    deals: &HashMap<(i64, String), (i64, Option<String>)>,
    catalogue: &Catalogue,
    errors: &mut Vec<RowError>,
) -> ResolvedCommitments<'r> {
    // Features to create, shared by the rows that promise the same new one.
    let mut new_features: Vec<NewFeatureRow> = Vec::new();
    let mut new_by_key: HashMap<(i64, String), usize> = HashMap::new();
    let mut resolved = Vec::with_capacity(rows.len());
    for (line, r) in rows {
        // Ids of names missing from the workspace are provisional (negative): such a
        // customer has no deal, such a product no feature.
        let customer_id = customers.id(&r.customer);
        let product_id = r.product.as_deref().map(|p| products.id(p));
        let deal = match &r.deal {
            None => None,
            Some(name) => match deals.get(&(customer_id, name.clone())) {
                Some(d) => Some(d.clone()),
                None => {
                    errors.push(RowError::new(
                        *line,
                        format!("customer '{}' has no deal named '{name}'", r.customer),
                        format!("客户“{}”没有名为“{name}”的商机", r.customer),
                    ));
                    continue;
                }
            },
        };
        let found = catalogue
            .find(product_id, r.menu_path.as_ref(), Some(&r.feature))
            .map(|f| (f.id, f.stage));
        // A new feature is an idea.
        let stage = found.map_or(Stage::Idea, |f| f.1);
        if matches!(r.status, Status::Delivered | Status::Accepted) {
            if let Err(e) = check_deliverable(stage) {
                errors.push(RowError::new(
                    *line,
                    format!("status {}: {e}", r.status),
                    format!(
                        "状态“{}”不可用：功能只在“{}”阶段，须已构建（built）或已发布（released）才能交付",
                        r.status,
                        stage.as_str()
                    ),
                ));
                continue;
            }
        }
        let target = match found {
            Some((id, stage)) => Target::Known(id, stage),
            None => {
                let pid = product_id.unwrap_or_else(|| products.id(UNSORTED_PRODUCT));
                let path = match &r.menu_path {
                    Some(p) => p.clone(),
                    None => match MenuPath::from_title(&r.feature) {
                        Ok(p) => p,
                        Err(e) => {
                            errors.push(RowError::new(
                                *line,
                                format!("feature: {e}"),
                                "“功能”无法作为菜单中的一级（最多 500 个字）",
                            ));
                            continue;
                        }
                    },
                };
                let next = new_features.len();
                let i = *new_by_key
                    .entry((pid, path.as_str().to_string()))
                    .or_insert(next);
                if i == next {
                    new_features.push(NewFeatureRow {
                        product_id: pid,
                        menu_path: path.as_str().to_string(),
                        title: r.feature.clone(),
                        stage: Stage::Idea,
                        effort_days: None,
                        target_release: None,
                        slide_url: None,
                        recording_url: None,
                    });
                }
                Target::New(i)
            }
        };
        resolved.push(ResolvedCommitment {
            customer_id,
            deal,
            target,
            row: r,
        });
    }
    ResolvedCommitments {
        commitments: resolved,
        new_features,
    }
}

/// Writes the resolved commitments and their criteria, with ids from the first free one, in
/// multi-row statements; returns the customers whose gap changed.
async fn write_commitments(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    actor: &str,
    customers: &Names,
    resolved: &[ResolvedCommitment<'_>],
    new_ids: &[i64],
    progress: &mut impl FnMut(u64),
) -> Result<BTreeSet<i64>> {
    let first = next_id(tx, "commitments").await?;
    let ts = now();
    let today = crate::today().to_string();
    let mut done = 0;
    let mut touched = BTreeSet::new();
    let mut next = first;
    let per = crate::rows_per_statement(tx, 10, BATCH / 10);
    for chunk in resolved.chunks(per) {
        let mut sql = String::from(
            "INSERT INTO commitments (id, workspace_id, customer_id, deal_id, feature_id, shown_as, \
             promised_by, promised_at, due_date, critical, status, created_at, updated_at) VALUES ",
        );
        let mut criteria: Vec<(i64, i64, &str, bool)> = Vec::new();
        for i in 0..chunk.len() {
            let b = 3 + i * 10;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${b}, $1, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, $2, $2)",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9
            ));
        }
        let mut q = sqlx::query(&sql).bind(workspace_id).bind(&ts);
        for ResolvedCommitment {
            customer_id,
            deal,
            target,
            row: r,
        } in chunk
        {
            let customer_id = customers.real(*customer_id)?;
            let (feature_id, stage, from_text) = match target {
                Target::Known(id, stage) => (*id, *stage, r.menu_path.is_none()),
                Target::New(i) => (new_ids[*i], Stage::Idea, r.menu_path.is_none()),
            };
            let shown_as = r.shown_as.unwrap_or(if from_text && stage == Stage::Idea {
                Mode::Promise
            } else {
                Mode::for_feature(stage, Health::Unverified)
            });
            let due = r
                .due_date
                .map(|d| d.to_string())
                .or_else(|| deal.as_ref().and_then(|d| d.1.clone()));
            touched.insert(customer_id);
            // Acceptance is the customer signing that every criterion is met.
            let accepted = r.status == Status::Accepted;
            for (pos, c) in r.criteria.iter().enumerate() {
                criteria.push((next, pos as i64, c.text.as_str(), accepted || c.met));
            }
            q = q
                .bind(next)
                .bind(customer_id)
                .bind(deal.as_ref().map(|d| d.0))
                .bind(feature_id)
                .bind(shown_as.as_str())
                .bind(r.promised_by.clone().unwrap_or_else(|| actor.to_string()))
                .bind(
                    r.promised_at
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| today.clone()),
                )
                .bind(due)
                .bind(i64::from(r.critical))
                .bind(r.status.as_str());
            next += 1;
        }
        q.execute(&mut **tx).await?;
        for part in criteria.chunks(crate::rows_per_statement(tx, 4, 500)) {
            let mut sql = String::from(
                "INSERT INTO criteria (workspace_id, commitment_id, position, text, met, met_at, met_by) \
                 VALUES ",
            );
            for i in 0..part.len() {
                if i > 0 {
                    sql.push(',');
                }
                let b = 4 + i * 4;
                // A met criterion was met at the import, by its actor.
                sql.push_str(&format!(
                    "($1, ${b}, ${}, ${}, ${}, CASE WHEN ${} = 1 THEN $2 END, CASE WHEN ${} = 1 THEN $3 END)",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 3,
                    b + 3
                ));
            }
            let mut q = sqlx::query(&sql).bind(workspace_id).bind(&ts).bind(actor);
            for (cid, pos, text, met) in part {
                q = q.bind(*cid).bind(*pos).bind(*text).bind(i64::from(*met));
            }
            q.execute(&mut **tx).await?;
        }
        done += chunk.len() as u64;
        progress(done);
    }
    Ok(touched)
}

impl Store {
    /// Refreshes the planner's statistics of tables that just grew a lot (both engines). SQLite
    /// reads about a thousand rows of each index, as PostgreSQL reads a sample, instead of every
    /// row: at a million requests a full `ANALYZE` would cost an import half a second.
    async fn analyze(&self, tables: &[&str]) -> Result<()> {
        let mut conn = self.writer().acquire().await?;
        let sqlite = self.engine() == crate::Engine::Sqlite;
        if sqlite {
            sqlx::query("PRAGMA analysis_limit = 1000")
                .execute(&mut *conn)
                .await?;
        }
        for t in tables {
            sqlx::query(&format!("ANALYZE {t}"))
                .execute(&mut *conn)
                .await?;
        }
        if sqlite {
            sqlx::query("PRAGMA analysis_limit = 0")
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Ends a written import: records one audit entry and commits.
    async fn finish_import(
        &self,
        mut tx: Transaction<'_, Any>,
        workspace_id: i64,
        actor: &str,
        kind: ImportKind,
        mut report: ImportReport,
    ) -> Result<ImportReport> {
        audit::Entry::new(
            workspace_id,
            Entity::Import,
            0,
            Action::Imported(kind),
            actor,
        )
        .created(&report.created)
        .write(&mut tx)
        .await?;
        tx.commit().await?;
        report.committed = true;
        Ok(report)
    }

    /// Imports requests, all or none. `progress` is told how many rows are done.
    ///
    /// Rows in cunjin's own columns may carry what `cunjin export` writes of a request's life:
    /// its decision, reason, planned release, linked feature (found in the catalogue, which is
    /// imported first), the original of a duplicate (by the key the file gives it, the exported
    /// id), contact, and who decided when. A ZenTao 来源备注 that names a customer is its
    /// customer; any other is who asked.
    pub async fn import_requests(
        &self,
        workspace_id: i64,
        actor: &str,
        rows: &[(u64, RequestRow)],
        apply: Apply,
        mut progress: impl FnMut(u64),
    ) -> Result<ImportReport> {
        let started = std::time::Instant::now();
        let mut report = ImportReport::default();
        let mut tx = self.begin_ledger(workspace_id).await?;
        lock_for_import(&mut tx, self.engine(), &["requests"]).await?;
        let mut customers = Names::load(
            &mut tx,
            workspace_id,
            "customers",
            rows.iter().filter_map(|(_, r)| r.customer.as_deref()),
        )
        .await?;
        let mut products = Names::load(
            &mut tx,
            workspace_id,
            "products",
            rows.iter().filter_map(|(_, r)| r.product.as_deref()),
        )
        .await?;
        let catalogue = if rows.iter().any(|(_, r)| r.feature.is_some()) {
            Catalogue::load(&mut tx, workspace_id).await?
        } else {
            Catalogue::default()
        };
        let resolved = resolve_requests(
            rows,
            &mut customers,
            &mut products,
            &catalogue,
            &mut report.errors,
        );
        report.created.customers = customers.created();
        report.created.products = products.created();
        report.created.requests = rows.len() as u64;
        if ends_before_writing(apply, &report) {
            tx.rollback().await?;
            return Ok(report);
        }
        customers.create(&mut tx, workspace_id).await?;
        products.create(&mut tx, workspace_id).await?;
        let named = started.elapsed();
        let mut done = 0;
        let mut span: Option<(i64, i64)> = None;
        let mut ids = Vec::with_capacity(rows.len());
        for (chunk, resolved) in rows.chunks(BATCH).zip(resolved.chunks(BATCH)) {
            let batch = chunk
                .iter()
                .zip(resolved)
                .map(|((_, r), v)| {
                    Ok(BulkRequest {
                        text: r.text.clone(),
                        source_role: r.source_role,
                        customer_id: v.customer_id.map(|c| customers.real(c)).transpose()?,
                        requester: v.requester.clone(),
                        product_id: v.product_id.map(|p| products.real(p)).transpose()?,
                        feature_id: v.feature_id,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let written =
                insert_requests_in(&mut tx, workspace_id, actor, &batch, Terms::Later).await?;
            if let (Some(first), Some(last)) = (written.first(), written.last()) {
                span = Some((span.map_or(*first, |(f, _)| f), *last));
            }
            ids.extend(written);
            done += chunk.len() as u64;
            progress(done);
        }
        restore_request_history(&mut tx, workspace_id, actor, rows, &resolved, &ids).await?;
        // Their search terms, about five times the work of the requests themselves, are written
        // by `cunjin serve` in the background (`Store::index_backlog`); until then search reads
        // their text.
        if let Some((first, last)) = span {
            add_to_backlog(&mut tx, workspace_id, DocKind::Request, first, last).await?;
        }
        sync_id_sequence(&mut tx, self.engine(), "requests").await?;
        let written = started.elapsed();
        let report = self
            .finish_import(tx, workspace_id, actor, ImportKind::Requests, report)
            .await?;
        let committed = started.elapsed();
        if rows.len() >= ANALYZE_FROM {
            self.analyze(&["requests"]).await?;
        }
        tracing::debug!(
            rows = rows.len(),
            ?named,
            ?written,
            ?committed,
            analyzed = ?started.elapsed(),
            "requests imported"
        );
        Ok(report)
    }

    /// Imports customers and their deals, all or none. A customer or deal (same customer, same
    /// name) already there is counted and left as it is; a new customer gets the file's weight.
    pub async fn import_customers(
        &self,
        workspace_id: i64,
        actor: &str,
        rows: &[(u64, CustomerRow)],
        apply: Apply,
        mut progress: impl FnMut(u64),
    ) -> Result<ImportReport> {
        let mut report = ImportReport::default();
        let mut tx = self.begin_ledger(workspace_id).await?;
        lock_for_import(&mut tx, self.engine(), &["customers", "deals"]).await?;
        let mut customers = Names::load(
            &mut tx,
            workspace_id,
            "customers",
            rows.iter().map(|(_, r)| r.customer.as_str()),
        )
        .await?;
        let existing_deals: std::collections::HashSet<(i64, String)> =
            sqlx::query_as("SELECT customer_id, name FROM deals WHERE workspace_id = $1")
                .bind(workspace_id)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
        let mut in_file: HashMap<(i64, String), u64> = HashMap::new();
        // The weight a new customer gets: the first the file gives it.
        let mut weights: HashMap<i64, f64> = HashMap::new();
        let mut new_deals = Vec::new();
        for (line, r) in rows {
            let customer_id = customers.id(&r.customer);
            if let Some(w) = r.weight {
                weights.entry(customer_id).or_insert(w);
            }
            let Some(deal) = &r.deal else {
                if customer_id > 0 {
                    report.existing += 1;
                }
                continue;
            };
            let key = (customer_id, deal.name.clone());
            if existing_deals.contains(&key) {
                report.existing += 1;
                continue;
            }
            if let Some(first) = in_file.get(&key) {
                report.errors.push(RowError::new(
                    *line,
                    format!("the same customer and deal as line {first}"),
                    format!("客户和商机与第 {first} 行相同"),
                ));
                continue;
            }
            in_file.insert(key, *line);
            new_deals.push((customer_id, deal));
        }
        report.created.customers = customers.created();
        report.created.deals = new_deals.len() as u64;
        if ends_before_writing(apply, &report) {
            tx.rollback().await?;
            return Ok(report);
        }
        customers.create(&mut tx, workspace_id).await?;
        for (id, weight) in weights.into_iter().filter(|(id, _)| *id < 0) {
            sqlx::query("UPDATE customers SET weight = $1 WHERE workspace_id = $2 AND id = $3")
                .bind(weight)
                .bind(workspace_id)
                .bind(customers.real(id)?)
                .execute(&mut *tx)
                .await?;
        }
        let ts = now();
        let mut done = report.existing;
        for (customer_id, d) in &new_deals {
            sqlx::query(
                "INSERT INTO deals (workspace_id, customer_id, name, stage, contract_value, \
                 acceptance_date, pilot, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(workspace_id)
            .bind(customers.real(*customer_id)?)
            .bind(d.name.as_str())
            .bind(d.stage.as_str())
            .bind(d.contract_value.cents())
            .bind(d.acceptance_date.map(|a| a.to_string()))
            .bind(i64::from(d.pilot))
            .bind(&ts)
            .execute(&mut *tx)
            .await?;
            done += 1;
            if done % BATCH as u64 == 0 {
                progress(done);
            }
        }
        progress(done);
        self.finish_import(tx, workspace_id, actor, ImportKind::Customers, report)
            .await
    }

    /// Imports features, all or none; those already in the catalogue are counted and left. Their
    /// effort is as `cunjin-exchange` reads it, between 0 and 100000 days.
    pub async fn import_features(
        &self,
        workspace_id: i64,
        actor: &str,
        rows: &[(u64, FeatureRow)],
        apply: Apply,
        mut progress: impl FnMut(u64),
    ) -> Result<ImportReport> {
        let mut report = ImportReport::default();
        let mut tx = self.begin_ledger(workspace_id).await?;
        lock_for_import(&mut tx, self.engine(), &["features"]).await?;
        let mut products = Names::load(
            &mut tx,
            workspace_id,
            "products",
            rows.iter().map(|(_, r)| r.product.as_str()),
        )
        .await?;
        report.created.products = products.created();
        let existing: std::collections::HashSet<(i64, String)> =
            sqlx::query_as("SELECT product_id, menu_path FROM features WHERE workspace_id = $1")
                .bind(workspace_id)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
        let mut in_file: HashMap<(i64, String), u64> = HashMap::new();
        let mut new = Vec::new();
        for (line, r) in rows {
            let product_id = products.id(&r.product);
            let key = (product_id, r.menu_path.as_str().to_string());
            if existing.contains(&key) {
                report.existing += 1;
                continue;
            }
            if let Some(first) = in_file.get(&key) {
                report.errors.push(RowError::new(
                    *line,
                    format!("the same product and menu path as line {first}"),
                    format!("产品和菜单路径与第 {first} 行相同"),
                ));
                continue;
            }
            in_file.insert(key, *line);
            new.push(NewFeatureRow {
                product_id,
                menu_path: r.menu_path.as_str().to_string(),
                title: r
                    .title
                    .clone()
                    .unwrap_or_else(|| r.menu_path.leaf().to_string()),
                stage: r.stage,
                effort_days: r.effort_days,
                target_release: r.target_release.clone(),
                slide_url: r.slide_url.clone(),
                recording_url: r.recording_url.clone(),
            });
        }
        report.created.features = new.len() as u64;
        if ends_before_writing(apply, &report) {
            tx.rollback().await?;
            return Ok(report);
        }
        products.create(&mut tx, workspace_id).await?;
        for f in &mut new {
            f.product_id = products.real(f.product_id)?;
        }
        let mut done = report.existing;
        for chunk in new.chunks(BATCH) {
            insert_features_in(&mut tx, workspace_id, chunk).await?;
            done += chunk.len() as u64;
            progress(done);
        }
        sync_id_sequence(&mut tx, self.engine(), "features").await?;
        let report = self
            .finish_import(tx, workspace_id, actor, ImportKind::Features, report)
            .await?;
        if new.len() >= ANALYZE_FROM {
            self.analyze(&["features", "search_terms"]).await?;
        }
        Ok(report)
    }

    /// Imports commitments, all or none, with their criteria; refreshes the gap snapshots of
    /// their customers. The status rules of a commitment hold: delivered or accepted needs a
    /// feature that works (built or released), and an accepted commitment's criteria were all
    /// met, so they are imported as met; other criteria are met when the file marks them so.
    pub async fn import_commitments(
        &self,
        workspace_id: i64,
        actor: &str,
        rows: &[(u64, CommitmentRow)],
        apply: Apply,
        mut progress: impl FnMut(u64),
    ) -> Result<ImportReport> {
        let mut report = ImportReport::default();
        let mut tx = self.begin_ledger(workspace_id).await?;
        lock_for_import(&mut tx, self.engine(), &["features", "commitments"]).await?;
        let mut customers = Names::load(
            &mut tx,
            workspace_id,
            "customers",
            rows.iter().map(|(_, r)| r.customer.as_str()),
        )
        .await?;
        let mut products = Names::load(
            &mut tx,
            workspace_id,
            "products",
            rows.iter().filter_map(|(_, r)| r.product.as_deref()),
        )
        .await?;
        let deals = load_deals(&mut tx, workspace_id).await?;
        let catalogue = Catalogue::load(&mut tx, workspace_id).await?;
        let resolved = resolve_commitments(
            rows,
            &mut customers,
            &mut products,
            &deals,
            &catalogue,
            &mut report.errors,
        );
        report.created.customers = customers.created();
        report.created.products = products.created();
        report.created.features = resolved.new_features.len() as u64;
        report.created.commitments = resolved.commitments.len() as u64;
        report.created.criteria = resolved
            .commitments
            .iter()
            .map(|c| c.row.criteria.len() as u64)
            .sum();
        if ends_before_writing(apply, &report) {
            tx.rollback().await?;
            return Ok(report);
        }
        customers.create(&mut tx, workspace_id).await?;
        products.create(&mut tx, workspace_id).await?;
        let mut new_features = resolved.new_features;
        for f in &mut new_features {
            f.product_id = products.real(f.product_id)?;
        }
        let new_ids = insert_features_in(&mut tx, workspace_id, &new_features).await?;
        sync_id_sequence(&mut tx, self.engine(), "features").await?;
        let touched = write_commitments(
            &mut tx,
            workspace_id,
            actor,
            &customers,
            &resolved.commitments,
            &new_ids,
            &mut progress,
        )
        .await?;
        sync_id_sequence(&mut tx, self.engine(), "commitments").await?;
        for customer_id in touched {
            refresh_snapshots(&mut tx, workspace_id, Scope::Customer(customer_id)).await?;
        }
        let report = self
            .finish_import(tx, workspace_id, actor, ImportKind::Commitments, report)
            .await?;
        if rows.len() >= ANALYZE_FROM {
            self.analyze(&["commitments", "criteria", "features", "search_terms"])
                .await?;
        }
        Ok(report)
    }
}
