//! The search index: one row per distinct term of a request or a feature, written in the same
//! transaction as the record, queried the same way on SQLite and PostgreSQL. Requests written
//! by a bulk import are the exception: their ids go to the backlog (`search_backlog`), which
//! `cunjin serve` indexes in the background ([`Store::index_backlog`]), and until then search
//! matches their text directly ([`QueryTerms::matches`]), so it finds them all along.
//!
//! A query's terms must all match (AND). The query is driven by its rarest term through the
//! `(workspace_id, kind, term, doc_id)` index, newest document first, and every other term is an
//! index probe on the primary key; so the cost grows with the number of results asked for, not
//! with the size of the workspace. Search statements are not kept prepared: PostgreSQL would
//! switch to a generic plan that cannot know how rare a term is, and scan every request.

pub mod backlog;
mod find;

use std::collections::{BTreeSet, HashMap};

use cunjin_core::search::{is_prefix_term, terms};
use sqlx::{Any, Transaction};

use crate::sql::Sql;
use crate::{Result, Store, StoreError};

/// What kind of record a document of the index is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// A request; its text.
    Request,
    /// A feature; its title and menu path.
    Feature,
}

impl DocKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Request => "request",
            DocKind::Feature => "feature",
        }
    }
}

/// Stop counting a term's documents here: past it, a term is "common", and how far back its
/// newest postings reach tells common terms apart.
const FREQUENCY_CAP: i64 = 2_000;
/// How rare a term is; the rarest sorts first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Rarity {
    /// Documents containing it, up to [`FREQUENCY_CAP`].
    documents: i64,
    /// The oldest of its newest [`FREQUENCY_CAP`] documents: the smaller, the further back its
    /// newest postings reach, the sparser the term (this decides between common terms).
    oldest_recent: i64,
}

/// Documents read per term when looking for similar requests.
const SIMILAR_POSTINGS_PER_TERM: i64 = 2_000;
/// Rarest terms of a text used to find candidates for similarity.
const SIMILAR_PROBE_TERMS: usize = 12;
/// Candidates whose whole term set is compared.
const SIMILAR_CANDIDATES: usize = 60;

/// Replaces the terms of one document, inside the transaction that writes the document.
pub(crate) async fn index(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    kind: DocKind,
    doc_id: i64,
    text: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM search_terms WHERE workspace_id = $1 AND kind = $2 AND doc_id = $3")
        .bind(workspace_id)
        .bind(kind.as_str())
        .bind(doc_id)
        .execute(&mut **tx)
        .await?;
    let all: Vec<String> = terms(text).into_iter().collect();
    for chunk in all.chunks(crate::rows_per_statement(tx, 1, 500)) {
        let mut sql =
            String::from("INSERT INTO search_terms (workspace_id, kind, doc_id, term) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("($1, $2, $3, ${})", i + 4));
        }
        let mut q = sqlx::query(&sql)
            .bind(workspace_id)
            .bind(kind.as_str())
            .bind(doc_id);
        for t in chunk {
            q = q.bind(t.as_str());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The half-open range of terms that start with a one-character prefix term.
fn prefix_range(term: &str) -> (String, String) {
    let upper = term
        .chars()
        .next()
        .and_then(|c| char::from_u32(c as u32 + 1))
        .map(String::from)
        .unwrap_or_else(|| char::MAX.to_string());
    (term.to_string(), upper)
}

/// The terms of a query, as the index matches them: every exact term, and for each
/// one-character prefix term some term in its range.
#[derive(Debug, Clone, Default)]
pub(crate) struct QueryTerms {
    pub exact: Vec<String>,
    pub prefix: Vec<(String, String)>,
}

impl QueryTerms {
    /// The terms of `q`; a long pasted text would make a long query, and its first 32 terms say
    /// enough.
    pub fn of(q: &str) -> QueryTerms {
        let mut out = QueryTerms::default();
        for t in terms(q).into_iter().take(32) {
            if is_prefix_term(&t) {
                out.prefix.push(prefix_range(&t));
            } else {
                out.exact.push(t);
            }
        }
        out
    }

    /// Whether the query has no term at all (it matches nothing).
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefix.is_empty()
    }

    /// `LIKE` patterns every matching text fits: a term of Chinese characters (a pair, or one
    /// character as a prefix) is a piece of the text as it was written, so the database can
    /// leave out most texts before they are read. Latin terms have none: a term is lower-cased
    /// and full-width letters read as ASCII, which `LIKE` does not do the same on both engines.
    pub fn like_patterns(&self) -> Vec<String> {
        self.exact
            .iter()
            .chain(self.prefix.iter().map(|(lo, _)| lo))
            .filter(|t| t.chars().all(cunjin_core::search::is_cjk))
            .map(|t| format!("%{t}%"))
            .collect()
    }

    /// Whether a text matches, exactly as its rows in the index would: what search does for
    /// documents of the backlog, whose terms are not written yet.
    pub fn matches(&self, text: &str) -> bool {
        if self.is_empty() {
            return false;
        }
        let have = terms(text);
        self.exact.iter().all(|t| have.contains(t))
            && self
                .prefix
                .iter()
                .all(|(lo, hi)| have.range(lo.clone()..hi.clone()).next().is_some())
    }
}

/// The terms of a query: exact terms, most selective first, and the ranges of one-character
/// prefix terms.
pub(crate) struct QueryPlan {
    pub exact: Vec<String>,
    pub prefix: Vec<(String, String)>,
}

impl Store {
    /// How rare each term is, in one round trip: how many documents contain it, counting no
    /// further than [`FREQUENCY_CAP`], and the oldest document among the newest
    /// [`FREQUENCY_CAP`] that contain it. Ids grow with time, so among the terms past the cap the
    /// one whose newest postings reach furthest back is the sparsest: [`Rarity`] orders by both.
    async fn rarities(
        &self,
        workspace_id: i64,
        kind: DocKind,
        terms: &[String],
    ) -> Result<Vec<Rarity>> {
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new("");
        q.planned_each_time();
        for (i, t) in terms.iter().enumerate() {
            if i > 0 {
                q.push(" UNION ALL ");
            }
            q.push(&format!(
                "SELECT CAST({i} AS BIGINT) AS i, COUNT(*) AS n, \
                 CAST(COALESCE(MIN(doc_id), 0) AS BIGINT) AS oldest FROM \
                 (SELECT doc_id FROM search_terms WHERE workspace_id = "
            ))
            .bind(workspace_id)
            .push_bind(" AND kind = ", kind.as_str())
            .push_bind(" AND term = ", t.as_str())
            .push(&format!(" ORDER BY doc_id DESC LIMIT {FREQUENCY_CAP}) t"));
        }
        let mut out = vec![Rarity::default(); terms.len()];
        let rows: Vec<(i64, i64, i64)> = q.query_as().fetch_all(self.reader()).await?;
        for (i, documents, oldest_recent) in rows {
            if let Some(slot) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
                *slot = Rarity {
                    documents,
                    oldest_recent,
                };
            }
        }
        Ok(out)
    }

    /// Plans a query: `Ok(None)` when it cannot match anything.
    pub(crate) async fn plan_query(
        &self,
        workspace_id: i64,
        kind: DocKind,
        q: &str,
    ) -> Result<Option<QueryPlan>> {
        let QueryTerms {
            exact: exact_terms,
            prefix,
        } = QueryTerms::of(q);
        if exact_terms.is_empty() && prefix.is_empty() {
            return Ok(None);
        }
        let rarities = self.rarities(workspace_id, kind, &exact_terms).await?;
        if rarities.iter().any(|r| r.documents == 0) {
            return Ok(None);
        }
        let mut exact: Vec<(Rarity, String)> = rarities.into_iter().zip(exact_terms).collect();
        exact.sort();
        Ok(Some(QueryPlan {
            exact: exact.into_iter().map(|(_, t)| t).collect(),
            prefix,
        }))
    }

    /// The ids of the indexed documents matching every term of `q`, newest first.
    async fn search_index_ids(
        &self,
        workspace_id: i64,
        kind: DocKind,
        q: &str,
        limit: i64,
    ) -> Result<Vec<i64>> {
        let Some(plan) = self.plan_query(workspace_id, kind, q).await? else {
            return Ok(Vec::new());
        };
        let mut sql = Sql::new("SELECT ");
        sql.planned_each_time()
            .push(if plan.exact.is_empty() {
                "DISTINCT"
            } else {
                ""
            })
            .push(" s.doc_id FROM search_terms s WHERE s.workspace_id = ")
            .bind(workspace_id)
            .push_bind(" AND s.kind = ", kind.as_str())
            .push(" AND ");
        push_match(&mut sql, &plan, "s.doc_id");
        sql.push(&format!(" ORDER BY s.doc_id DESC LIMIT {limit}"));
        let ids: Vec<(i64,)> = self.fetch_search(sql.query_as()).await?;
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }

    /// Runs a search statement (see [`push_match`]). Each term is a join of `search_terms` with
    /// itself, and PostgreSQL searches every order of them when planning: 20–60 ms for a query
    /// of six terms at 200,000 requests, more than running it. The terms are already written
    /// rarest first, so on PostgreSQL the statement is planned in the order written
    /// (`join_collapse_limit` and `from_collapse_limit` of 1, for this transaction only); the
    /// planner still picks how to join each pair (a merge of two posting lists, or a probe per
    /// row). SQLite plans in the order written anyway.
    pub(crate) async fn fetch_search<'q, O>(
        &self,
        query: sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> Result<Vec<O>>
    where
        O: Send + Unpin + for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        if self.engine() != crate::Engine::Postgres {
            return Ok(query.fetch_all(self.reader()).await?);
        }
        let mut tx = self.reader().begin().await?;
        sqlx::query(
            "SELECT set_config('join_collapse_limit', '1', true), \
             set_config('from_collapse_limit', '1', true)",
        )
        .execute(&mut *tx)
        .await?;
        let rows = query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// The requests most like `text` (by [`cunjin_core::search::similarity`]), best first, with
    /// their similarity; `exclude` leaves the request itself out.
    pub async fn similar_request_ids(
        &self,
        workspace_id: i64,
        text: &str,
        exclude: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, f64)>> {
        let kind = DocKind::Request;
        let wanted = terms(text);
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        // The rarest terms say most about a text; common ones (医院, 需要) match everything.
        let some: Vec<String> = wanted.iter().take(64).cloned().collect();
        let rarities = self.rarities(workspace_id, kind, &some).await?;
        let mut freq: Vec<(Rarity, String)> = rarities
            .into_iter()
            .zip(some)
            .filter(|(r, _)| r.documents > 0)
            .collect();
        freq.sort();
        freq.truncate(SIMILAR_PROBE_TERMS);
        let mut shared: HashMap<i64, u32> = HashMap::new();
        if !freq.is_empty() {
            // The newest postings of each probe term, in one round trip.
            let mut q = Sql::new("");
            q.planned_each_time();
            for (i, (_, t)) in freq.iter().enumerate() {
                if i > 0 {
                    q.push(" UNION ALL ");
                }
                q.push("SELECT doc_id FROM (SELECT doc_id FROM search_terms WHERE workspace_id = ")
                    .bind(workspace_id)
                    .push_bind(" AND kind = ", kind.as_str())
                    .push_bind(" AND term = ", t.as_str())
                    .push(&format!(
                        " ORDER BY doc_id DESC LIMIT {SIMILAR_POSTINGS_PER_TERM}) p{i}"
                    ));
            }
            let ids: Vec<i64> = q.query_scalar().fetch_all(self.reader()).await?;
            for id in ids {
                if Some(id) != exclude {
                    *shared.entry(id).or_default() += 1;
                }
            }
        }
        let mut candidates: Vec<(u32, i64)> = shared.into_iter().map(|(id, n)| (n, id)).collect();
        candidates.sort_by(|a, b| b.cmp(a));
        candidates.truncate(SIMILAR_CANDIDATES);
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = candidates.iter().map(|(_, id)| *id).collect();
        let mut q = Sql::new("SELECT doc_id, term FROM search_terms WHERE workspace_id = ");
        q.planned_each_time()
            .bind(workspace_id)
            .push_bind(" AND kind = ", kind.as_str())
            .push(" AND doc_id IN (");
        for (i, id) in ids.iter().enumerate() {
            q.push(if i == 0 { "" } else { ", " }).bind(*id);
        }
        q.push(")");
        let rows: Vec<(i64, String)> = q.query_as().fetch_all(self.reader()).await?;
        let mut sets: HashMap<i64, BTreeSet<String>> = HashMap::new();
        for (doc, term) in rows {
            sets.entry(doc).or_default().insert(term);
        }
        let mut scored: Vec<(i64, f64)> = sets
            .into_iter()
            .map(|(id, set)| (id, cunjin_core::search::similarity(&wanted, &set)))
            .filter(|(_, s)| *s >= cunjin_core::search::SIMILAR_THRESHOLD)
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
        scored.truncate(limit);
        Ok(scored)
    }

    /// Refreshes the planner's statistics of the search index after a bulk load. PostgreSQL
    /// plans a multi-term search as a merge of posting lists only once it knows how large they
    /// are; before its autovacuum gets to a freshly loaded table it may pick a nested loop that
    /// reads a posting list per row. SQLite's plan does not depend on statistics.
    pub async fn refresh_search_statistics(&self) -> Result<()> {
        if self.engine() == crate::Engine::Postgres {
            for table in ["search_terms", "requests"] {
                sqlx::query(&format!("ANALYZE {table}"))
                    .execute(self.writer())
                    .await?;
            }
        }
        Ok(())
    }

    /// Indexes the features that have no terms yet: those created before search existed.
    pub async fn index_unindexed_features(&self) -> Result<usize> {
        let rows: Vec<(i64, i64, String, String)> = sqlx::query_as(
            "SELECT f.workspace_id, f.id, f.title, f.menu_path FROM features f WHERE NOT EXISTS \
             (SELECT 1 FROM search_terms s WHERE s.workspace_id = f.workspace_id \
              AND s.kind = 'feature' AND s.doc_id = f.id)",
        )
        .fetch_all(self.reader())
        .await?;
        let mut tx = self.writer().begin().await?;
        for (workspace_id, id, title, menu_path) in &rows {
            let text = feature_text(title, menu_path);
            index(&mut tx, *workspace_id, DocKind::Feature, *id, &text).await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }
}

/// Writes search terms of many documents at once.
pub(crate) async fn insert_terms_in(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    kind: DocKind,
    mut rows: Vec<(i64, String)>,
) -> Result<()> {
    // In term order, each batch lands in neighbouring pages of the term index instead of
    // touching a page per row: loading stays fast when the index outgrows the cache.
    rows.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let sql = format!(
        "INSERT INTO search_terms (workspace_id, kind, doc_id, term) \
         SELECT $1, $2, CAST(e.value ->> 0 AS BIGINT), e.value ->> 1 FROM {}",
        crate::json_rows(tx, 3)
    );
    for chunk in rows.chunks(20_000) {
        let json = serde_json::to_string(chunk).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(&sql)
            .bind(workspace_id)
            .bind(kind.as_str())
            .bind(json)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// What of a feature is searched: its title and its menu path.
pub(crate) fn feature_text(title: &str, menu_path: &str) -> String {
    format!("{title} {menu_path}")
}

/// Appends the condition that a document `doc` (an SQL expression) matches every term of the
/// plan, driven by the first exact term on the `s` alias, binding each term as it goes.
pub(crate) fn push_match(q: &mut Sql<'_>, plan: &QueryPlan, doc: &str) {
    let mut exact = plan.exact.iter();
    let mut prefix = plan.prefix.iter();
    match exact.next() {
        Some(t) => {
            q.push_bind("s.term = ", t.clone());
        }
        None => {
            // Only one-character terms: drive by the first one's range.
            match prefix.next() {
                Some((lo, hi)) => {
                    q.push_bind("s.term >= ", lo.clone())
                        .push_bind(" AND s.term < ", hi.clone());
                }
                // `plan_query` gives no plan without a term; an empty one would match all.
                None => {
                    q.push("1 = 1");
                }
            }
        }
    }
    let other = format!(
        " AND EXISTS (SELECT 1 FROM search_terms o WHERE o.workspace_id = s.workspace_id \
         AND o.kind = s.kind AND o.doc_id = {doc} AND o.term "
    );
    for t in exact {
        q.push(&other).push_bind("= ", t.clone()).push(")");
    }
    for (lo, hi) in prefix {
        q.push(&other)
            .push_bind(">= ", lo.clone())
            .push_bind(" AND o.term < ", hi.clone())
            .push(")");
    }
}
