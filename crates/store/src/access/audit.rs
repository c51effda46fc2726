//! The audit trail: who changed what, when, from what to what, and why. Only ever appended to.
//!
//! An entry holds the change, not two copies of the record: for an update, `before` and
//! `after` carry only the fields that differ, and a list of records with ids (a commitment's
//! criteria) only the items added, removed or changed. A creation holds the whole record in
//! `after`, a removal in `before`. Entries written before this rule hold whole copies; they read
//! the same way.

use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{Any, Transaction};

use crate::{now, Result, Store};

/// One change in the trail.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Id.
    pub id: i64,
    /// Kind of record (`commitment`, `feature`, `criterion`…).
    pub entity: String,
    /// Its id.
    pub entity_id: i64,
    /// What happened (`create`, `transition`, `criterion`, `update`).
    pub action: String,
    /// Who did it (an e-mail address).
    pub actor: String,
    /// When (RFC 3339).
    pub at: String,
    /// The fields that changed, as they were (the whole record for a removal), as JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[sqlx(rename = "before_json", try_from = "StoredJson")]
    pub before: Option<serde_json::Value>,
    /// The fields that changed, as they are now (the whole record for a creation), as JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    #[sqlx(rename = "after_json", try_from = "StoredJson")]
    pub after: Option<serde_json::Value>,
    /// The reason given.
    pub reason: Option<String>,
}

/// A side of a change as stored, JSON text. Text that does not parse reads as no value: the
/// trail is shown whatever an old entry holds.
#[derive(sqlx::Type)]
#[sqlx(transparent)]
struct StoredJson(Option<String>);

impl From<StoredJson> for Option<Value> {
    fn from(j: StoredJson) -> Option<Value> {
        j.0.and_then(|s| serde_json::from_str(&s).ok())
    }
}

/// Kinds of record in the trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entity {
    /// A commitment (承诺); its criteria are filed under it.
    Commitment,
    /// A feature of the catalogue.
    Feature,
    /// A request (需求).
    Request,
    /// A release.
    Release,
    /// A customer (its status link).
    Customer,
    /// An import of a file, filed under id 0.
    Import,
    /// The workspace's intake link, filed under the workspace id.
    IntakeLink,
    /// The workspace's calendar link, filed under the workspace id.
    CalendarLink,
}

impl Entity {
    /// The name stored and answered (`entity`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Entity::Commitment => "commitment",
            Entity::Feature => "feature",
            Entity::Request => "request",
            Entity::Release => "release",
            Entity::Customer => "customer",
            Entity::Import => "import",
            Entity::IntakeLink => "intake_link",
            Entity::CalendarLink => "calendar_link",
        }
    }
}

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Created.
    Create,
    /// Fields changed.
    Update,
    /// A commitment moved along its life.
    Transition,
    /// A criterion added or marked.
    Criterion,
    /// A request decided.
    Decision,
    /// A request linked to a feature.
    Link,
    /// A feature released.
    Release,
    /// A release delivered to a customer.
    Deliver,
    /// A workspace link replaced.
    Rotate,
    /// A customer's first status link.
    StatusLinkCreated,
    /// A customer's status link replaced.
    StatusLinkRotated,
    /// A file imported, by what it held.
    Imported(ImportKind),
}

/// What an import held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImportKind {
    /// Requests.
    Requests,
    /// Customers and deals.
    Customers,
    /// Products and features.
    Features,
    /// Commitments.
    Commitments,
}

impl Action {
    /// The name stored and answered (`action`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Transition => "transition",
            Action::Criterion => "criterion",
            Action::Decision => "decision",
            Action::Link => "link",
            Action::Release => "release",
            Action::Deliver => "deliver",
            Action::Rotate => "rotate",
            Action::StatusLinkCreated => "status_link_created",
            Action::StatusLinkRotated => "status_link_rotated",
            Action::Imported(ImportKind::Requests) => "requests",
            Action::Imported(ImportKind::Customers) => "customers",
            Action::Imported(ImportKind::Features) => "features",
            Action::Imported(ImportKind::Commitments) => "commitments",
        }
    }
}

/// One entry being written: `Entry::new(workspace, entity, id, action, actor)`, then what it
/// changed (`created`, `changed`, `removed`), a `reason`, and `write` inside the transaction that
/// makes the change, so the trail and the data never disagree.
#[must_use = "an entry is only kept once written"]
pub(crate) struct Entry<'a> {
    workspace_id: i64,
    entity: Entity,
    entity_id: i64,
    action: Action,
    actor: &'a str,
    before: Option<Value>,
    after: Option<Value>,
    reason: Option<&'a str>,
}

impl<'a> Entry<'a> {
    /// An entry for `action` on one record, by `actor`.
    pub(crate) fn new(
        workspace_id: i64,
        entity: Entity,
        entity_id: i64,
        action: Action,
        actor: &'a str,
    ) -> Self {
        Entry {
            workspace_id,
            entity,
            entity_id,
            action,
            actor,
            before: None,
            after: None,
            reason: None,
        }
    }

    /// The record as created: kept whole in `after`.
    pub(crate) fn created<A: Serialize>(mut self, after: &A) -> Self {
        self.after = serde_json::to_value(after).ok();
        self
    }

    /// The record before and after: only what changed is kept.
    pub(crate) fn changed<B: Serialize, A: Serialize>(mut self, before: &B, after: &A) -> Self {
        let (b, a) = match (serde_json::to_value(before), serde_json::to_value(after)) {
            (Ok(b), Ok(a)) => changes(b, a),
            _ => (Value::Null, Value::Null),
        };
        self.before = Some(b);
        self.after = Some(a);
        self
    }

    /// Why, as the person said it.
    pub(crate) fn reason(mut self, reason: Option<&'a str>) -> Self {
        self.reason = reason;
        self
    }

    /// Appends the entry inside `tx`.
    pub(crate) async fn write(self, tx: &mut Transaction<'_, Any>) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (workspace_id, entity, entity_id, action, actor, at, before_json, after_json, reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(self.workspace_id)
        .bind(self.entity.as_str())
        .bind(self.entity_id)
        .bind(self.action.as_str())
        .bind(self.actor)
        .bind(now())
        .bind(self.before.map(|b| b.to_string()))
        .bind(self.after.map(|a| a.to_string()))
        .bind(self.reason)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// What changed between two JSON values: for two objects, the fields that differ on each side
/// (lists of records with ids reduced to the records that differ); otherwise both values.
fn changes(before: Value, after: Value) -> (Value, Value) {
    match (before, after) {
        (Value::Object(b), Value::Object(mut a)) => {
            let mut was = Map::new();
            let mut now = Map::new();
            for (k, old) in b {
                match a.remove(&k) {
                    Some(new) if new == old => {}
                    Some(new) => {
                        let (o, n) = match (old, new) {
                            (Value::Array(o), Value::Array(n)) if keyed(&o) && keyed(&n) => {
                                changed_items(o, n)
                            }
                            pair => pair,
                        };
                        was.insert(k.clone(), o);
                        now.insert(k, n);
                    }
                    None => {
                        was.insert(k, old);
                    }
                }
            }
            // Fields only the new value has.
            now.extend(a);
            (Value::Object(was), Value::Object(now))
        }
        pair => pair,
    }
}

/// Every item is an object with an `id`.
fn keyed(items: &[Value]) -> bool {
    items.iter().all(|i| i.get("id").is_some())
}

/// The items of two lists that differ, matched by `id`: removed or changed ones on the first
/// side, added or changed ones on the second, each in its list's order.
fn changed_items(before: Vec<Value>, after: Vec<Value>) -> (Value, Value) {
    let find = |list: &[Value], item: &Value| list.iter().find(|x| x["id"] == item["id"]).cloned();
    let was: Vec<Value> = before
        .iter()
        .filter(|o| find(&after, o).as_ref() != Some(*o))
        .cloned()
        .collect();
    let now: Vec<Value> = after
        .iter()
        .filter(|n| find(&before, n).as_ref() != Some(*n))
        .cloned()
        .collect();
    (Value::Array(was), Value::Array(now))
}

impl Store {
    /// The trail of one record, oldest first. Criteria changes are filed under their commitment.
    pub async fn audit_trail(
        &self,
        workspace_id: i64,
        entity: &str,
        entity_id: i64,
    ) -> Result<Vec<AuditEntry>> {
        Ok(sqlx::query_as(
            "SELECT id, entity, entity_id, action, actor, at, before_json, after_json, reason \
             FROM audit_log WHERE workspace_id = $1 AND entity = $2 AND entity_id = $3 ORDER BY id",
        )
        .bind(workspace_id)
        .bind(entity)
        .bind(entity_id)
        .fetch_all(self.reader())
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_update_keeps_only_what_changed() {
        let criteria: Vec<Value> = (1..=50)
            .map(|i| json!({"id": i, "text": format!("标准 {i}"), "met": false}))
            .collect();
        let mut more = criteria.clone();
        more.push(json!({"id": 51, "text": "新标准", "met": false}));
        more[2]["met"] = json!(true);
        let before = json!({"id": 7, "status": "open", "note": "x", "criteria": criteria});
        let after = json!({"id": 7, "status": "open", "due": "2027-01-01", "criteria": more});
        let (b, a) = changes(before, after);
        assert_eq!(
            b,
            json!({"note": "x", "criteria": [{"id": 3, "text": "标准 3", "met": false}]})
        );
        assert_eq!(
            a,
            json!({"due": "2027-01-01", "criteria": [
                {"id": 3, "text": "标准 3", "met": true},
                {"id": 51, "text": "新标准", "met": false}
            ]})
        );
        // Lists without ids and plain values are kept whole.
        let (b, a) = changes(json!({"tags": [1, 2]}), json!({"tags": [1, 3]}));
        assert_eq!((b, a), (json!({"tags": [1, 2]}), json!({"tags": [1, 3]})));
        assert_eq!(changes(json!(1), json!(2)), (json!(1), json!(2)));
    }
}
