//! The backlog of the search index: requests written by a bulk import without their terms,
//! indexed in the background by `cunjin serve`; until then search matches their text directly.

use cunjin_core::search::terms;
use sqlx::{Any, Transaction};

use crate::search::{insert_terms_in, DocKind};
use crate::{Result, Store};

/// Documents indexed per transaction by [`Store::index_backlog`]: a few hundred milliseconds of
/// writing, so that other writes wait little for it.
pub const BACKLOG_CHUNK: i64 = 1_000;

/// Records, inside the transaction that wrote them, that documents `first..=last` of a kind
/// have no search terms yet.
pub(crate) async fn add_to_backlog(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    kind: DocKind,
    first: i64,
    last: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO search_backlog (workspace_id, kind, first_id, last_id, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(workspace_id)
    .bind(kind.as_str())
    .bind(first)
    .bind(last)
    .bind(crate::now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An entry of the backlog: requests `first..=last` of a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacklogHead {
    id: i64,
    workspace_id: i64,
    first: i64,
    last: i64,
}

impl Store {
    /// The id ranges of a workspace's documents that are not indexed yet.
    pub(crate) async fn backlog_ranges(
        &self,
        workspace_id: i64,
        kind: DocKind,
    ) -> Result<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT first_id, last_id FROM search_backlog WHERE workspace_id = $1 AND kind = $2 \
             ORDER BY last_id DESC",
        )
        .bind(workspace_id)
        .bind(kind.as_str())
        .fetch_all(self.reader())
        .await?)
    }

    /// How many documents, of every workspace, wait for their search terms.
    pub async fn search_backlog_len(&self) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(last_id - first_id + 1), 0) AS BIGINT) FROM search_backlog",
        )
        .fetch_one(self.reader())
        .await?)
    }

    /// Indexes the oldest part of the backlog: up to [`BACKLOG_CHUNK`] documents, in one
    /// transaction. Returns how many ids it covered: 0 when the backlog is empty, or when
    /// another instance took the same part first (the part is claimed by a compare-and-set on
    /// its first id, so each document is indexed once).
    pub async fn index_backlog(&self) -> Result<i64> {
        match self.backlog_head().await? {
            Some(head) => self.index_backlog_part(&head).await,
            None => Ok(0),
        }
    }

    /// The oldest entry of the backlog, as it is now.
    pub(crate) async fn backlog_head(&self) -> Result<Option<BacklogHead>> {
        let Some((id, workspace_id, kind, first, last)) =
            sqlx::query_as::<_, (i64, i64, String, i64, i64)>(
                "SELECT id, workspace_id, kind, first_id, last_id FROM search_backlog \
                 ORDER BY id LIMIT 1",
            )
            .fetch_optional(self.reader())
            .await?
        else {
            return Ok(None);
        };
        // Only bulk-imported requests go to the backlog.
        if kind != DocKind::Request.as_str() {
            return Err(crate::StoreError::Corrupt(format!(
                "search backlog {id}: unknown kind"
            )));
        }
        Ok(Some(BacklogHead {
            id,
            workspace_id,
            first,
            last,
        }))
    }

    /// Indexes the first [`BACKLOG_CHUNK`] ids of a backlog entry as it was read, if it is still
    /// so (see [`Store::index_backlog`]).
    pub(crate) async fn index_backlog_part(&self, head: &BacklogHead) -> Result<i64> {
        let BacklogHead {
            id,
            workspace_id,
            first,
            last,
        } = *head;
        let kind = DocKind::Request;
        let upto = last.min(first.saturating_add(BACKLOG_CHUNK - 1));
        let mut tx = self.writer().begin().await?;
        let claim = if upto == last {
            sqlx::query("DELETE FROM search_backlog WHERE id = $1 AND first_id = $2")
                .bind(id)
                .bind(first)
                .execute(&mut *tx)
                .await?
        } else {
            sqlx::query("UPDATE search_backlog SET first_id = $3 WHERE id = $1 AND first_id = $2")
                .bind(id)
                .bind(first)
                .bind(upto + 1)
                .execute(&mut *tx)
                .await?
        };
        if claim.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(0);
        }
        // A request's text never changes once written, so the terms read here stay right.
        let sql = "SELECT id, text FROM requests WHERE workspace_id = $1 AND id >= $2 AND id <= $3";
        let docs: Vec<(i64, String)> = sqlx::query_as(sql)
            .bind(workspace_id)
            .bind(first)
            .bind(upto)
            .fetch_all(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM search_terms WHERE workspace_id = $1 AND kind = $2 \
             AND doc_id >= $3 AND doc_id <= $4",
        )
        .bind(workspace_id)
        .bind(kind.as_str())
        .bind(first)
        .bind(upto)
        .execute(&mut *tx)
        .await?;
        let mut rows = Vec::new();
        for (doc, text) in &docs {
            for t in terms(text) {
                rows.push((*doc, t));
            }
        }
        insert_terms_in(&mut tx, workspace_id, kind, rows).await?;
        tx.commit().await?;
        Ok(upto - first + 1)
    }
}
