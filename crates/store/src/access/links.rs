//! Workspace links opened by an unguessable token (the intake form, the calendar feed): one
//! current token per workspace, made on first use; rotating it kills the old link at once.

use crate::access::audit::{Action, Entity};
use crate::access::auth::new_secret;
use crate::{access::audit, now, Result, Store};

/// Whether a string could be a token at all; anything else is refused before the database.
pub(crate) fn looks_like_token(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// A kind of workspace link: its table and the kind its rotations are audited under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WorkspaceLink {
    /// Table with `workspace_id, token, created_by, created_at`.
    table: &'static str,
    /// Entity kind in the audit trail.
    audit_entity: Entity,
}

/// The public intake form of a workspace.
pub(crate) const INTAKE: WorkspaceLink = WorkspaceLink {
    table: "intake_links",
    audit_entity: Entity::IntakeLink,
};

/// The calendar feed of a workspace.
pub(crate) const CALENDAR: WorkspaceLink = WorkspaceLink {
    table: "calendar_links",
    audit_entity: Entity::CalendarLink,
};

impl Store {
    /// The workspace's token of `link`, made on first use.
    pub(crate) async fn link_token(
        &self,
        link: WorkspaceLink,
        workspace_id: i64,
        actor: &str,
    ) -> Result<String> {
        match self.current_link_token(link, workspace_id).await? {
            Some(token) => Ok(token),
            None => self.rotate_link_token(link, workspace_id, actor).await,
        }
    }

    /// The workspace's token of `link`, if one was made; reading never makes one.
    pub(crate) async fn current_link_token(
        &self,
        link: WorkspaceLink,
        workspace_id: i64,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(&format!(
            "SELECT token FROM {} WHERE workspace_id = $1",
            link.table
        ))
        .bind(workspace_id)
        .fetch_optional(self.reader())
        .await?)
    }

    /// Replaces the workspace's token of `link`: the old link stops working at once.
    pub(crate) async fn rotate_link_token(
        &self,
        link: WorkspaceLink,
        workspace_id: i64,
        actor: &str,
    ) -> Result<String> {
        let token = new_secret();
        let mut tx = self.writer().begin().await?;
        sqlx::query(&format!(
            "DELETE FROM {} WHERE workspace_id = $1",
            link.table
        ))
        .bind(workspace_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "INSERT INTO {} (workspace_id, token, created_by, created_at) VALUES ($1, $2, $3, $4)",
            link.table
        ))
        .bind(workspace_id)
        .bind(&token)
        .bind(actor)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        // The trail says that the link changed, never the token itself.
        audit::Entry::new(
            workspace_id,
            link.audit_entity,
            workspace_id,
            Action::Rotate,
            actor,
        )
        .write(&mut tx)
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The workspace a token of `link` opens, if it is current.
    pub(crate) async fn workspace_for_link(
        &self,
        link: WorkspaceLink,
        token: &str,
    ) -> Result<Option<i64>> {
        if !looks_like_token(token) {
            return Ok(None);
        }
        Ok(sqlx::query_scalar(&format!(
            "SELECT workspace_id FROM {} WHERE token = $1",
            link.table
        ))
        .bind(token)
        .fetch_optional(self.reader())
        .await?)
    }
}
