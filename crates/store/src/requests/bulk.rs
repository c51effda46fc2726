//! Requests written many at once (imports, the generator): batched multi-row inserts on
//! SQLite, rows read from one JSON value on PostgreSQL.

use cunjin_core::Decision;
use sqlx::{Any, Transaction};

use super::BulkRequest;
use crate::access::auth::new_ordered_secret;
use crate::search::{insert_terms_in, DocKind};
use crate::{now, Result, StoreError};

/// When bulk-loaded requests get their search terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Terms {
    /// In the same transaction.
    Now,
    /// Later, by [`Store::index_backlog`]: the caller records the ids with
    /// [`crate::search::backlog::add_to_backlog`] in the same transaction.
    Later,
}

/// Inserts requests inside the caller's transaction, in batched multi-row inserts, with their
/// search terms or without them (see [`Terms`]); no audit entries. On PostgreSQL the caller
/// must call [`sync_id_sequence`] before committing. Returns the ids.
pub(crate) async fn insert_requests_in(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    actor: &str,
    batch: &[BulkRequest],
    terms: Terms,
) -> Result<Vec<i64>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    // Ids are taken up front so that the terms can be written without reading them back.
    let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM requests")
        .fetch_one(&mut **tx)
        .await?;
    let ts = now();
    let ids: Vec<i64> = (0..batch.len() as i64).map(|i| first + i).collect();
    if tx.backend_name() == "SQLite" {
        insert_requests_sqlite(tx, workspace_id, actor, &ts, &ids, batch).await?;
    } else {
        insert_requests_json(tx, workspace_id, actor, &ts, &ids, batch).await?;
    }
    if terms == Terms::Later {
        return Ok(ids);
    }
    let mut rows: Vec<(i64, String)> = Vec::new();
    for (id, r) in ids.iter().zip(batch) {
        for t in cunjin_core::search::terms(&r.text) {
            rows.push((*id, t));
        }
    }
    insert_terms_in(tx, workspace_id, DocKind::Request, rows).await?;
    Ok(ids)
}

/// The decision a bulk-loaded request starts with: one loaded onto a feature was accepted onto it.
fn bulk_decision(r: &BulkRequest) -> &'static str {
    if r.feature_id.is_some() {
        Decision::Accepted.as_str()
    } else {
        Decision::New.as_str()
    }
}

/// Rows of requests per statement on SQLite: eleven bound values each, under SQLite's limit of
/// 32,766 values in one statement; an import's batch of 5,000 is two.
const SQLITE_REQUESTS_PER_STATEMENT: usize = 2_500;

/// Writes requests on SQLite: `INSERT … VALUES` of many rows with anonymous `?` placeholders,
/// which SQLite numbers without keeping a list of names, so sqlx binds thousands of them in
/// linear time (see [`crate::rows_per_statement`] for `$n`). Reading the rows from one JSON value
/// instead spent a quarter of the writer's time turning each row back into JSON text and parsing
/// it again.
async fn insert_requests_sqlite(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    actor: &str,
    ts: &str,
    ids: &[i64],
    batch: &[BulkRequest],
) -> Result<()> {
    let per = SQLITE_REQUESTS_PER_STATEMENT;
    let full = (batch.len() >= per).then(|| requests_values_sql(workspace_id, per));
    let rest = requests_values_sql(workspace_id, batch.len() % per);
    for (ids, chunk) in ids.chunks(per).zip(batch.chunks(per)) {
        // A full statement is prepared once and kept for the next ones (and the next import).
        let q = match &full {
            Some(sql) if chunk.len() == per => sqlx::query(sql.as_str()),
            _ => sqlx::query(rest.as_str()).persistent(false),
        };
        bind_requests(q, ids, chunk, actor, ts)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// `INSERT INTO requests … VALUES` with `rows` rows of the eleven values [`bind_requests`] binds.
fn requests_values_sql(workspace_id: i64, rows: usize) -> String {
    let row = format!("(?,{workspace_id},?,?,?,?,'',?,?,?,?,'api',?,?)");
    let mut sql = String::with_capacity(200 + (row.len() + 1) * rows);
    sql.push_str(
        "INSERT INTO requests (id, workspace_id, text, source_role, customer_id, requester, \
         contact, product_id, feature_id, decision, status_token, via, created_by, created_at) \
         VALUES ",
    );
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&row);
    }
    sql
}

/// Binds the values of [`requests_values_sql`]'s rows.
fn bind_requests<'a>(
    mut q: sqlx::query::Query<'a, Any, sqlx::any::AnyArguments<'a>>,
    ids: &[i64],
    batch: &'a [BulkRequest],
    actor: &'a str,
    ts: &'a str,
) -> sqlx::query::Query<'a, Any, sqlx::any::AnyArguments<'a>> {
    for (id, r) in ids.iter().zip(batch) {
        q = q
            .bind(*id)
            .bind(r.text.as_str())
            .bind(r.source_role.as_str())
            .bind(r.customer_id)
            .bind(r.requester.as_str())
            .bind(r.product_id)
            .bind(r.feature_id)
            .bind(bulk_decision(r))
            .bind(new_ordered_secret())
            .bind(actor)
            .bind(ts);
    }
    q
}

/// Writes requests on PostgreSQL: one statement per batch, its rows one JSON value (see
/// `crate::json_rows`).
async fn insert_requests_json(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    actor: &str,
    ts: &str,
    ids: &[i64],
    batch: &[BulkRequest],
) -> Result<()> {
    let rows: Vec<_> = ids
        .iter()
        .zip(batch)
        .map(|(id, r)| {
            (
                *id,
                r.text.as_str(),
                r.source_role.as_str(),
                r.customer_id,
                r.requester.as_str(),
                r.product_id,
                r.feature_id,
                bulk_decision(r),
                new_ordered_secret(),
            )
        })
        .collect();
    let rows = serde_json::to_string(&rows).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let sql = format!(
        "INSERT INTO requests (id, workspace_id, text, source_role, customer_id, requester, \
         contact, product_id, feature_id, decision, status_token, via, created_by, created_at) \
         SELECT CAST(e.value ->> 0 AS BIGINT), $1, e.value ->> 1, e.value ->> 2, \
         CAST(e.value ->> 3 AS BIGINT), e.value ->> 4, '', CAST(e.value ->> 5 AS BIGINT), \
         CAST(e.value ->> 6 AS BIGINT), e.value ->> 7, e.value ->> 8, 'api', $2, $3 FROM {}",
        crate::json_rows(tx, 4)
    );
    sqlx::query(&sql)
        .bind(workspace_id)
        .bind(actor)
        .bind(ts)
        .bind(rows)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// After rows were inserted with explicit ids: PostgreSQL's identity sequence does not move by
/// itself, and the next ordinary insert must not collide. SQLite's AUTOINCREMENT follows.
pub(crate) async fn sync_id_sequence(
    tx: &mut Transaction<'_, Any>,
    engine: crate::Engine,
    table: &'static str,
) -> Result<()> {
    if engine == crate::Engine::Postgres {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
        ))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
