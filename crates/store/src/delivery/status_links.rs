//! Customer status links: an unguessable token that lets a customer read its own commitments,
//! gap and what shipped for it, and nothing else. One per customer; rotating it kills the old one.
//!
//! The token is kept as is (not hashed like session tokens) because the PM must be able to copy
//! the link again from the customer page; it only grants reading data the database holds anyway.

use serde::Serialize;

use crate::access::audit::{Action, Entity};
use crate::access::auth::new_secret;
use crate::{access::audit, now, Result, Store, StoreError};

/// A customer's status link.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusLink {
    /// Customer.
    pub customer_id: i64,
    /// The secret part of the link (256 random bits, hex).
    pub token: String,
    /// Who created it.
    pub created_by: String,
    /// When (RFC 3339).
    pub created_at: String,
}

impl Store {
    /// Creates the customer's status link, or replaces it: the old link stops working at once.
    pub async fn rotate_status_link(
        &self,
        workspace_id: i64,
        actor: &str,
        customer_id: i64,
    ) -> Result<StatusLink> {
        let mut tx = self.writer().begin().await?;
        sqlx::query("SELECT id FROM customers WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(customer_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::not_found("customer", customer_id))?;
        let existed = sqlx::query("SELECT 1 FROM status_links WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        let link = StatusLink {
            customer_id,
            token: new_secret(),
            created_by: actor.to_string(),
            created_at: now(),
        };
        sqlx::query(
            "INSERT INTO status_links (customer_id, workspace_id, token, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id) DO UPDATE SET \
             token = excluded.token, created_by = excluded.created_by, created_at = excluded.created_at",
        )
        .bind(customer_id)
        .bind(workspace_id)
        .bind(&link.token)
        .bind(&link.created_by)
        .bind(&link.created_at)
        .execute(&mut *tx)
        .await?;
        // The trail says that the link changed, never the token itself.
        audit::Entry::new(
            workspace_id,
            Entity::Customer,
            customer_id,
            if existed {
                Action::StatusLinkRotated
            } else {
                Action::StatusLinkCreated
            },
            actor,
        )
        .write(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(link)
    }

    /// The customer's current status link, if one was made.
    pub async fn status_link(
        &self,
        workspace_id: i64,
        customer_id: i64,
    ) -> Result<Option<StatusLink>> {
        self.get_customer(workspace_id, cunjin_core::CustomerId(customer_id))
            .await?;
        Ok(sqlx::query_as(
            "SELECT customer_id, token, created_by, created_at FROM status_links \
             WHERE workspace_id = $1 AND customer_id = $2",
        )
        .bind(workspace_id)
        .bind(customer_id)
        .fetch_optional(self.reader())
        .await?)
    }

    /// The (workspace, customer) a status token opens, if it is current.
    pub async fn customer_for_status_token(&self, token: &str) -> Result<Option<(i64, i64)>> {
        if !crate::access::links::looks_like_token(token) {
            return Ok(None);
        }
        Ok(
            sqlx::query_as("SELECT workspace_id, customer_id FROM status_links WHERE token = $1")
                .bind(token)
                .fetch_optional(self.reader())
                .await?,
        )
    }
}
