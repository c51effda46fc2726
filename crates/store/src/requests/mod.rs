//! Requests (需求) from every role: filed by people, scripts or the public intake link; decided
//! by product management with a reason the requester reads through the request's status link;
//! searched and compared for near-duplicates through the search index.

mod bulk;

use cunjin_core::{check_decision, required_text, Decision, DecisionInput, ParseError, SourceRole};
use serde::Serialize;
use sqlx::{Any, Transaction};

use crate::access::audit::{Action, Entity};
use crate::ledger::catalogue::{find_or_create_idea, get_feature_in};
use crate::search::{index, push_match, DocKind, QueryTerms};
use crate::sql::Sql;
use crate::{access::audit, access::auth::new_ordered_secret, now, Result, Store, StoreError};
use crate::{access::links, notify};
pub(crate) use bulk::{insert_requests_in, sync_id_sequence, Terms};
use cunjin_core::notify::{DecisionMade, Notice};

/// Longest request text, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// A request.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Request {
    /// Id.
    pub id: i64,
    /// What is asked for, in the requester's words.
    pub text: String,
    /// Who it comes from.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "customer"))]
    #[sqlx(try_from = "String")]
    pub source_role: SourceRole,
    /// The customer it is for, if any.
    pub customer_id: Option<i64>,
    /// That customer's name.
    pub customer_name: Option<String>,
    /// Who asked (name).
    pub requester: String,
    /// How to reach them (e-mail, phone, WeChat); internal.
    pub contact: String,
    /// Product it concerns, if known.
    pub product_id: Option<i64>,
    /// Feature that meets it, once linked.
    pub feature_id: Option<i64>,
    /// That feature's title.
    pub feature_title: Option<String>,
    /// The decision.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "new"))]
    #[sqlx(try_from = "String")]
    pub decision: Decision,
    /// The reason given with the decision.
    pub reason: Option<String>,
    /// For a duplicate: the original request, which carries the demand.
    pub duplicate_of: Option<i64>,
    /// Planned release, once accepted.
    pub planned_release: Option<String>,
    /// The requester's read-only link: this request's text, decision and reason, nothing else.
    #[sqlx(rename = "status_token", try_from = "StatusToken")]
    pub status_url: String,
    /// How it arrived: `api`, `web` or `intake`.
    pub via: String,
    /// Who filed it (an e-mail address, or `intake`).
    pub created_by: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When (RFC 3339).
    pub decided_at: Option<String>,
}

/// What the requester sees through the status link, and nothing more.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestStatus {
    /// The request's text.
    pub text: String,
    /// The decision.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "declined"))]
    #[sqlx(try_from = "String")]
    pub decision: Decision,
    /// The reason given.
    pub reason: Option<String>,
    /// Planned release, once accepted.
    pub planned_release: Option<String>,
    /// When it was filed.
    pub created_at: String,
    /// When it was decided.
    pub decided_at: Option<String>,
}

/// A request to file.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// The words of the request.
    pub text: String,
    /// Who it comes from.
    pub source_role: SourceRole,
    /// Customer.
    pub customer_id: Option<i64>,
    /// Requester's name.
    pub requester: String,
    /// Requester's contact.
    pub contact: String,
    /// Product.
    pub product_id: Option<i64>,
    /// Feature already known to meet it.
    pub feature_id: Option<i64>,
}

/// How a request arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The JSON API.
    Api,
    /// The web form of a signed-in person.
    Web,
    /// The public intake link.
    Intake,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Via::Api => "api",
            Via::Web => "web",
            Via::Intake => "intake",
        }
    }
}

/// The feature a decision links the request to.
#[derive(Debug, Clone)]
pub enum FeatureLink {
    /// A catalogue feature.
    Id(i64),
    /// A new idea with this title (or the existing feature with that title).
    Create {
        /// Title.
        title: String,
        /// Product to file it under.
        product_id: Option<i64>,
    },
}

/// A decision to make.
#[derive(Debug, Clone)]
pub struct NewDecision {
    /// The decision.
    pub decision: Decision,
    /// Why.
    pub reason: Option<String>,
    /// Feature to link (required to accept unless already linked).
    pub feature: Option<FeatureLink>,
    /// For a duplicate: the original.
    pub duplicate_of: Option<i64>,
    /// For an acceptance: the planned release.
    pub planned_release: Option<String>,
}

/// Filters of the inbox.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// Words to find (every term must match).
    pub q: Option<String>,
    /// One source role.
    pub source_role: Option<SourceRole>,
    /// One customer.
    pub customer_id: Option<i64>,
    /// One decision.
    pub decision: Option<Decision>,
    /// One product.
    pub product_id: Option<i64>,
    /// One feature.
    pub feature_id: Option<i64>,
    /// At most this many (default 200, at most 5000).
    pub limit: Option<i64>,
    /// Skip this many.
    pub offset: Option<i64>,
}

/// A request that looks like another, with how alike they are (0–1).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SimilarRequest {
    /// Similarity, 0 to 1 (Dice over search terms).
    pub similarity: f64,
    /// The request.
    pub request: Request,
}

/// A request as the bulk loader takes it (imports and the benchmark).
#[derive(Debug, Clone)]
pub struct BulkRequest {
    /// Text.
    pub text: String,
    /// Source role.
    pub source_role: SourceRole,
    /// Customer.
    pub customer_id: Option<i64>,
    /// Requester.
    pub requester: String,
    /// Product it concerns.
    pub product_id: Option<i64>,
    /// The feature it was already accepted onto (decision `accepted`); `None` loads it as `new`.
    pub feature_id: Option<i64>,
}

/// Requests of the backlog read by the first statement when search matches their text; each
/// next one reads twice as many, up to [`BACKLOG_SCAN_PAGE_MAX`]: a common term stops early, a
/// rare one takes few statements.
const BACKLOG_SCAN_PAGE: usize = 1_000;
/// The most requests of the backlog read by one statement.
const BACKLOG_SCAN_PAGE_MAX: usize = 32_000;

const REQUEST_COLUMNS: &str =
    "r.id, r.text, r.source_role, r.customer_id, c.name AS customer_name, \
     r.requester, r.contact, r.product_id, r.feature_id, f.title AS feature_title, r.decision, \
     r.reason, r.duplicate_of, r.planned_release, r.status_token, r.via, r.created_by, \
     r.created_at, r.decided_by, r.decided_at";
const REQUEST_FROM: &str = "requests r LEFT JOIN customers c ON c.id = r.customer_id \
     LEFT JOIN features f ON f.id = r.feature_id";

/// The path of a request's status page.
pub fn status_path(token: &str) -> String {
    format!("/status/r/{token}")
}

/// A request's stored status token, read as the path of its status page.
#[derive(sqlx::Type)]
#[sqlx(transparent)]
struct StatusToken(String);

impl From<StatusToken> for String {
    fn from(t: StatusToken) -> String {
        status_path(&t.0)
    }
}

async fn load_in<'e, E>(exec: E, workspace_id: i64, id: i64) -> Result<Request>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    sqlx::query_as(&format!(
        "SELECT {REQUEST_COLUMNS} FROM {REQUEST_FROM} WHERE r.workspace_id = $1 AND r.id = $2"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(exec)
    .await?
    .ok_or_else(|| StoreError::not_found("request", id))
}

fn optional_text(field: &'static str, s: &str, max: usize) -> Result<String> {
    let t = s.trim();
    if t.chars().count() > max {
        return Err(ParseError::new(field, format!("at most {max} characters")).into());
    }
    Ok(t.to_string())
}

async fn check_in_workspace(
    tx: &mut Transaction<'_, Any>,
    table: &'static str,
    entity: &'static str,
    workspace_id: i64,
    id: Option<i64>,
) -> Result<()> {
    if let Some(id) = id {
        sqlx::query(&format!(
            "SELECT id FROM {table} WHERE workspace_id = $1 AND id = $2"
        ))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found(entity, id))?;
    }
    Ok(())
}

impl Store {
    /// Files a request; it starts `new` with a fresh status link.
    pub async fn create_request(
        &self,
        workspace_id: i64,
        actor: &str,
        via: Via,
        new: NewRequest,
    ) -> Result<Request> {
        let text = required_text("text", &new.text, MAX_TEXT_CHARS)?;
        let requester = optional_text("requester", &new.requester, 200)?;
        let contact = optional_text("contact", &new.contact, 200)?;
        // A request that asks for a feature moves the report version: a ledger write.
        let mut tx = if new.feature_id.is_some() {
            self.begin_ledger(workspace_id).await?
        } else {
            self.writer().begin().await?
        };
        check_in_workspace(
            &mut tx,
            "customers",
            "customer",
            workspace_id,
            new.customer_id,
        )
        .await?;
        check_in_workspace(&mut tx, "products", "product", workspace_id, new.product_id).await?;
        let mut product_id = new.product_id;
        if let Some(fid) = new.feature_id {
            let f = get_feature_in(&mut *tx, workspace_id, fid).await?;
            product_id = Some(f.product_id);
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO requests (workspace_id, text, source_role, customer_id, requester, contact, \
             product_id, feature_id, decision, status_token, via, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'new', $9, $10, $11, $12) RETURNING id",
        )
        .bind(workspace_id)
        .bind(&text)
        .bind(new.source_role.as_str())
        .bind(new.customer_id)
        .bind(&requester)
        .bind(&contact)
        .bind(product_id)
        .bind(new.feature_id)
        .bind(new_ordered_secret())
        .bind(via.as_str())
        .bind(actor)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        index(&mut tx, workspace_id, DocKind::Request, id, &text).await?;
        let created = load_in(&mut *tx, workspace_id, id).await?;
        audit::Entry::new(workspace_id, Entity::Request, id, Action::Create, actor)
            .created(&created)
            .write(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// One request.
    pub async fn get_request(&self, workspace_id: i64, id: i64) -> Result<Request> {
        load_in(self.reader(), workspace_id, id).await
    }

    /// Requests matching the filter, newest first.
    pub async fn list_requests(
        &self,
        workspace_id: i64,
        filter: &RequestFilter,
    ) -> Result<Vec<Request>> {
        let limit = filter.limit.unwrap_or(200).clamp(1, 5000);
        let offset = filter.offset.unwrap_or(0).max(0);
        let q = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        // Requests imported but not indexed yet are matched on their text (see `search_ids`);
        // then the index gives its first `offset + limit` and the page is cut after merging.
        let backlog = match q {
            Some(_) => self.backlog_ranges(workspace_id, DocKind::Request).await?,
            None => Vec::new(),
        };
        let (index_limit, index_offset) = if backlog.is_empty() {
            (limit, offset)
        } else {
            (limit.saturating_add(offset), 0)
        };
        // Planned afresh with the actual values each time: a cached generic plan cannot know
        // which filters are empty or how rare a term is, and PostgreSQL then scans everything.
        let mut sql = Sql::new(format!("SELECT {REQUEST_COLUMNS} FROM "));
        sql.planned_each_time();
        let found: Vec<Request> = match q {
            None => {
                sql.push(REQUEST_FROM)
                    .push(" WHERE r.workspace_id = ")
                    .bind(workspace_id);
                list_conditions(&mut sql, filter);
                sql.push(&format!(
                    " ORDER BY r.id DESC LIMIT {limit} OFFSET {offset}"
                ));
                sql.query_as().fetch_all(self.reader()).await?
            }
            Some(q) => {
                let Some(plan) = self.plan_query(workspace_id, DocKind::Request, q).await? else {
                    return self
                        .backlog_requests(workspace_id, filter, &backlog, Vec::new(), limit, offset)
                        .await;
                };
                // Driven by the postings of the rarest term, newest first (see `search`); the
                // matching ids are a table of their own, joined to the requests afterwards.
                sql.push("(SELECT ")
                    .push(if plan.exact.is_empty() {
                        "DISTINCT"
                    } else {
                        ""
                    })
                    .push(" s.doc_id FROM search_terms s WHERE s.workspace_id = ")
                    .bind(workspace_id)
                    .push_bind(" AND s.kind = ", DocKind::Request.as_str())
                    .push(" AND ");
                push_match(&mut sql, &plan, "s.doc_id");
                sql.push(
                    ") m JOIN requests r ON r.id = m.doc_id \
                     LEFT JOIN customers c ON c.id = r.customer_id LEFT JOIN features f ON f.id = r.feature_id \
                     WHERE r.workspace_id = ",
                )
                .bind(workspace_id);
                list_conditions(&mut sql, filter);
                sql.push(&format!(
                    " ORDER BY m.doc_id DESC LIMIT {index_limit} OFFSET {index_offset}"
                ));
                self.fetch_search(sql.query_as()).await?
            }
        };
        if backlog.is_empty() {
            return Ok(found);
        }
        self.backlog_requests(workspace_id, filter, &backlog, found, limit, offset)
            .await
    }

    /// Adds to `found` (the index's first matches) the requests of the backlog whose text
    /// matches the filter's query, and cuts the page: newest first, `offset`, `limit`.
    pub(crate) async fn backlog_requests(
        &self,
        workspace_id: i64,
        filter: &RequestFilter,
        backlog: &[(i64, i64)],
        mut found: Vec<Request>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Request>> {
        let wanted = QueryTerms::of(filter.q.as_deref().unwrap_or_default());
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let patterns = wanted.like_patterns();
        let need = usize::try_from(limit.saturating_add(offset)).unwrap_or(usize::MAX);
        for (first, last) in backlog {
            // Newest first, a page at a time, until `need` match: the rest is not read.
            let (mut upper, mut n, mut page) = (*last, 0, BACKLOG_SCAN_PAGE);
            'range: while upper >= *first {
                let mut sql = Sql::new(format!(
                    "SELECT {REQUEST_COLUMNS} FROM {REQUEST_FROM} WHERE r.workspace_id = "
                ));
                sql.planned_each_time().bind(workspace_id);
                list_conditions(&mut sql, filter);
                sql.push_bind(" AND r.id >= ", *first)
                    .push_bind(" AND r.id <= ", upper);
                for p in &patterns {
                    sql.push_bind(" AND r.text LIKE ", p.as_str());
                }
                sql.push_bind(" ORDER BY r.id DESC LIMIT ", page as i64);
                let rows: Vec<Request> = sql.query_as().fetch_all(self.reader()).await?;
                let read = rows.len();
                for request in rows {
                    upper = request.id - 1;
                    if wanted.matches(&request.text) {
                        found.push(request);
                        n += 1;
                        if n == need {
                            break 'range;
                        }
                    }
                }
                if read < page {
                    break;
                }
                page = (page * 2).min(BACKLOG_SCAN_PAGE_MAX);
            }
        }
        found.sort_by_key(|r| std::cmp::Reverse(r.id));
        found.dedup_by_key(|r| r.id);
        Ok(found
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect())
    }

    /// Requests like `text` (near-duplicates), most alike first; `exclude` is left out.
    pub async fn similar_requests(
        &self,
        workspace_id: i64,
        text: &str,
        exclude: Option<i64>,
        limit: usize,
    ) -> Result<Vec<SimilarRequest>> {
        let ids = self
            .similar_request_ids(workspace_id, text, exclude, limit.clamp(1, 50))
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for (id, similarity) in ids {
            out.push(SimilarRequest {
                similarity: (similarity * 1000.0).round() / 1000.0,
                request: self.get_request(workspace_id, id).await?,
            });
        }
        Ok(out)
    }

    /// Decides on a request, with the rules of [`cunjin_core::check_decision`]; the change lands
    /// in the audit trail. A duplicate's demand moves to its original, and so does the demand of
    /// the requests that were duplicates of it.
    pub async fn decide_request(
        &self,
        workspace_id: i64,
        actor: &str,
        id: i64,
        d: NewDecision,
    ) -> Result<Request> {
        let reason = d
            .reason
            .as_deref()
            .map(|r| optional_text("reason", r, MAX_TEXT_CHARS))
            .transpose()?
            .filter(|r| !r.is_empty());
        let planned_release = d
            .planned_release
            .as_deref()
            .map(|r| optional_text("planned_release", r, 100))
            .transpose()?
            .filter(|r| !r.is_empty());
        let mut tx = self.begin_ledger(workspace_id).await?;
        let before = load_in(&mut *tx, workspace_id, id).await?;
        let (feature_id, product_id) = match d.feature {
            None => (before.feature_id, before.product_id),
            Some(FeatureLink::Id(fid)) => {
                let f = get_feature_in(&mut *tx, workspace_id, fid).await?;
                (Some(f.id), Some(f.product_id))
            }
            Some(FeatureLink::Create { title, product_id }) => {
                let product_id = product_id.or(before.product_id);
                let (f, _) = find_or_create_idea(&mut tx, workspace_id, product_id, &title).await?;
                (Some(f.id), Some(f.product_id))
            }
        };
        let original = match d.duplicate_of {
            None => None,
            Some(oid) => {
                let o = load_in(&mut *tx, workspace_id, oid)
                    .await
                    .map_err(|e| match e {
                        StoreError::NotFound { .. } => {
                            StoreError::not_found("original request", oid)
                        }
                        e => e,
                    })?;
                Some((o.id, o.duplicate_of))
            }
        };
        let root = check_decision(&DecisionInput {
            request_id: id,
            to: d.decision,
            reason: reason.as_deref(),
            has_feature: feature_id.is_some(),
            original,
        })
        .map_err(|e| StoreError::Invalid(ParseError::new("decision", e.to_string())))?;
        sqlx::query(
            "UPDATE requests SET decision = $1, reason = $2, duplicate_of = $3, feature_id = $4, \
             product_id = $5, planned_release = $6, decided_by = $7, decided_at = $8 \
             WHERE workspace_id = $9 AND id = $10",
        )
        .bind(d.decision.as_str())
        .bind(&reason)
        .bind(root)
        .bind(feature_id)
        .bind(product_id)
        .bind(&planned_release)
        .bind(actor)
        .bind(now())
        .bind(workspace_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if let Some(root) = root {
            // Originals stay one step deep: this request's own duplicates follow it.
            sqlx::query(
                "UPDATE requests SET duplicate_of = $1 WHERE workspace_id = $2 AND duplicate_of = $3",
            )
            .bind(root)
            .bind(workspace_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        let after = load_in(&mut *tx, workspace_id, id).await?;
        audit::Entry::new(workspace_id, Entity::Request, id, Action::Decision, actor)
            .changed(&before, &after)
            .reason(reason.as_deref())
            .write(&mut tx)
            .await?;
        // The webhooks hear of the decision with it, or not at all.
        let notice = Notice::request_decided(&DecisionMade {
            request_id: id,
            text: after.text.clone(),
            customer: after.customer_name.clone(),
            decision: after.decision,
            reason: after.reason.clone(),
            planned_release: after.planned_release.clone(),
            decided_by: actor.to_string(),
        });
        let key = format!(
            "decision:{id}:{}",
            after.decided_at.as_deref().unwrap_or_default()
        );
        notify::enqueue(&mut tx, workspace_id, &notice, &key).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Links a request to the feature that would meet it, without deciding yet.
    pub async fn link_request_feature(
        &self,
        workspace_id: i64,
        actor: &str,
        id: i64,
        feature_id: i64,
    ) -> Result<Request> {
        let mut tx = self.begin_ledger(workspace_id).await?;
        let before = load_in(&mut *tx, workspace_id, id).await?;
        let f = get_feature_in(&mut *tx, workspace_id, feature_id).await?;
        sqlx::query(
            "UPDATE requests SET feature_id = $1, product_id = $2 WHERE workspace_id = $3 AND id = $4",
        )
        .bind(f.id)
        .bind(f.product_id)
        .bind(workspace_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let after = load_in(&mut *tx, workspace_id, id).await?;
        audit::Entry::new(workspace_id, Entity::Request, id, Action::Link, actor)
            .changed(&before, &after)
            .write(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// What the holder of a status link may see; `None` for an unknown link.
    pub async fn request_status(&self, token: &str) -> Result<Option<RequestStatus>> {
        // Tokens are 64 hex characters; anything else cannot be one.
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        Ok(sqlx::query_as(
            "SELECT text, decision, reason, planned_release, created_at, decided_at \
             FROM requests WHERE status_token = $1",
        )
        .bind(token)
        .fetch_optional(self.reader())
        .await?)
    }

    /// The workspace's intake link token, created on first use.
    pub async fn intake_token(&self, workspace_id: i64, actor: &str) -> Result<String> {
        self.link_token(links::INTAKE, workspace_id, actor).await
    }

    /// Replaces the workspace's intake token: the old link stops working at once.
    pub async fn rotate_intake_token(&self, workspace_id: i64, actor: &str) -> Result<String> {
        self.rotate_link_token(links::INTAKE, workspace_id, actor)
            .await
    }

    /// The workspace an intake token belongs to, if it is current.
    pub async fn workspace_for_intake(&self, token: &str) -> Result<Option<i64>> {
        self.workspace_for_link(links::INTAKE, token).await
    }

    /// Every request of a workspace, oldest first, for an export.
    pub async fn all_requests(&self, workspace_id: i64) -> Result<Vec<Request>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {REQUEST_COLUMNS} FROM {REQUEST_FROM} WHERE r.workspace_id = $1 ORDER BY r.id"
        ))
        .bind(workspace_id)
        .fetch_all(self.reader())
        .await?)
    }

    /// Loads many requests at once, with their search terms: batched multi-row inserts in one
    /// transaction per call. For the benchmark; no audit entries. Returns the ids.
    pub async fn bulk_insert_requests(
        &self,
        workspace_id: i64,
        actor: &str,
        batch: &[BulkRequest],
    ) -> Result<Vec<i64>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_ledger(workspace_id).await?;
        let ids = insert_requests_in(&mut tx, workspace_id, actor, batch, Terms::Now).await?;
        sync_id_sequence(&mut tx, self.engine(), "requests").await?;
        tx.commit().await?;
        Ok(ids)
    }
}

/// Appends the filters of the request list that are given, ` AND r.customer_id = $n` and so on;
/// a filter not given is not in the text.
fn list_conditions<'q>(sql: &mut Sql<'q>, filter: &'q RequestFilter) {
    sql.and_eq("r.source_role", filter.source_role.map(SourceRole::as_str))
        .and_eq("r.customer_id", filter.customer_id)
        .and_eq("r.decision", filter.decision.map(Decision::as_str))
        .and_eq("r.product_id", filter.product_id)
        .and_eq("r.feature_id", filter.feature_id);
}
