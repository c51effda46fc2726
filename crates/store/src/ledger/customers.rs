//! Customers (hospitals and other enterprises) and their deals.

use chrono::NaiveDate;
use cunjin_core::{required_text, CustomerId, DealId, DealStage, Money, ParseError};
use serde::Serialize;
use std::collections::HashMap;

use crate::column::{Cents, Flag, OptionalDate};
use crate::sql::Sql;
use crate::{conflict_on_unique, now, Result, Store, StoreError};

/// A customer of the vendor.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customer {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: CustomerId,
    /// Name, e.g. 华西第一人民医院.
    pub name: String,
    /// Weight of its requests in the roadmap (default 1.0).
    pub weight: f64,
}

/// A deal with a customer.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deal {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: DealId,
    /// Customer.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub customer_id: CustomerId,
    /// Name.
    pub name: String,
    /// Stage in the pipeline.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "won"))]
    #[sqlx(try_from = "String")]
    pub stage: DealStage,
    /// Contract value in the contract currency.
    #[sqlx(try_from = "Cents")]
    pub contract_value: f64,
    /// Acceptance date (验收), the default due date of its commitments.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    #[sqlx(try_from = "OptionalDate")]
    pub acceptance_date: Option<NaiveDate>,
    /// A pilot customer (试点).
    #[sqlx(try_from = "Flag")]
    pub pilot: bool,
}

/// A deal to create.
#[derive(Debug, Clone)]
pub struct NewDeal {
    /// Customer.
    pub customer_id: CustomerId,
    /// Name.
    pub name: String,
    /// Stage.
    pub stage: DealStage,
    /// Contract value.
    pub contract_value: Money,
    /// Acceptance date.
    pub acceptance_date: Option<NaiveDate>,
    /// Pilot.
    pub pilot: bool,
}

/// A customer's weight must be a sensible positive number.
pub fn check_weight(w: f64) -> Result<f64> {
    if w.is_finite() && (0.0..=1000.0).contains(&w) {
        Ok(w)
    } else {
        Err(ParseError::new("weight", "must be between 0 and 1000").into())
    }
}

const DEAL_COLUMNS: &str = "id, customer_id, name, stage, contract_value, acceptance_date, pilot";

impl Store {
    /// Creates a customer.
    pub async fn create_customer(
        &self,
        workspace_id: i64,
        name: &str,
        weight: Option<f64>,
    ) -> Result<Customer> {
        let name = required_text("name", name, 200)?;
        let weight = check_weight(weight.unwrap_or(1.0))?;
        // In a ledger transaction although it is one statement: a name being inserted holds
        // its place in the unique index, which another ledger write inserting the same name
        // (an import) waits for, and the trigger of this one would then wait for that write.
        let mut tx = self.begin_ledger(workspace_id).await?;
        let id: CustomerId = sqlx::query_scalar(
            "INSERT INTO customers (workspace_id, name, weight, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(workspace_id)
        .bind(&name)
        .bind(weight)
        .bind(now())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, || format!("a customer named '{name}' exists")))?;
        tx.commit().await?;
        Ok(Customer { id, name, weight })
    }

    /// The customers of a workspace, by name.
    pub async fn list_customers(&self, workspace_id: i64) -> Result<Vec<Customer>> {
        let mut list: Vec<Customer> =
            sqlx::query_as("SELECT id, name, weight FROM customers WHERE workspace_id = $1")
                .bind(workspace_id)
                .fetch_all(self.reader())
                .await?;
        // By code point, the same on both engines (PostgreSQL's collation would differ).
        list.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(list)
    }

    /// The names of the customers with these ids (others of the workspace are left out).
    pub async fn customer_names(
        &self,
        workspace_id: i64,
        ids: &[CustomerId],
    ) -> Result<HashMap<CustomerId, String>> {
        let mut names = HashMap::with_capacity(ids.len());
        // Ids are integers, written into the text in chunks: the `Any` driver binds no lists.
        for chunk in ids.chunks(500) {
            let list: Vec<String> = chunk.iter().map(CustomerId::to_string).collect();
            let rows: Vec<(CustomerId, String)> = sqlx::query_as(&format!(
                "SELECT id, name FROM customers WHERE workspace_id = $1 AND id IN ({})",
                list.join(", ")
            ))
            .bind(workspace_id)
            .fetch_all(self.reader())
            .await?;
            names.extend(rows);
        }
        Ok(names)
    }

    /// One customer.
    pub async fn get_customer(&self, workspace_id: i64, id: CustomerId) -> Result<Customer> {
        sqlx::query_as("SELECT id, name, weight FROM customers WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(self.reader())
            .await?
            .ok_or_else(|| StoreError::not_found("customer", id))
    }

    /// A customer by exact name.
    pub async fn find_customer_by_name(
        &self,
        workspace_id: i64,
        name: &str,
    ) -> Result<Option<Customer>> {
        Ok(sqlx::query_as(
            "SELECT id, name, weight FROM customers WHERE workspace_id = $1 AND name = $2",
        )
        .bind(workspace_id)
        .bind(name.trim())
        .fetch_optional(self.reader())
        .await?)
    }

    /// Creates a deal for a customer of the same workspace.
    pub async fn create_deal(&self, workspace_id: i64, new: NewDeal) -> Result<Deal> {
        self.get_customer(workspace_id, new.customer_id).await?;
        let name = required_text("name", &new.name, 200)?;
        let mut tx = self.begin_ledger(workspace_id).await?;
        let id: DealId = sqlx::query_scalar(
            "INSERT INTO deals (workspace_id, customer_id, name, stage, contract_value, acceptance_date, pilot, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(workspace_id)
        .bind(new.customer_id)
        .bind(&name)
        .bind(new.stage.as_str())
        .bind(new.contract_value.cents())
        .bind(new.acceptance_date.map(|d| d.to_string()))
        .bind(i64::from(new.pilot))
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Deal {
            id,
            customer_id: new.customer_id,
            name,
            stage: new.stage,
            contract_value: new.contract_value.units(),
            acceptance_date: new.acceptance_date,
            pilot: new.pilot,
        })
    }

    /// Deals of a workspace, optionally of one customer.
    pub async fn list_deals(
        &self,
        workspace_id: i64,
        customer_id: Option<CustomerId>,
    ) -> Result<Vec<Deal>> {
        let mut q = Sql::new(format!(
            "SELECT {DEAL_COLUMNS} FROM deals WHERE workspace_id = "
        ));
        q.bind(workspace_id).and_eq("customer_id", customer_id);
        q.push(" ORDER BY customer_id, id");
        Ok(q.query_as().fetch_all(self.reader()).await?)
    }

    /// One deal.
    pub async fn get_deal(&self, workspace_id: i64, id: DealId) -> Result<Deal> {
        sqlx::query_as(&format!(
            "SELECT {DEAL_COLUMNS} FROM deals WHERE workspace_id = $1 AND id = $2"
        ))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(self.reader())
        .await?
        .ok_or_else(|| StoreError::not_found("deal", id))
    }
}
