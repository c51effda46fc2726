//! The feature catalogue: products and their features, placed in the product's menus.

use cunjin_core::{required_text, MenuPath, Stage};
use serde::Serialize;
use sqlx::{Any, Transaction};

use crate::access::audit::{Action, Entity};
use crate::ledger::progress::{refresh_snapshots, Scope};
use crate::sql::Sql;
use crate::{access::audit, conflict_on_unique, now, Result, Store, StoreError};

/// A product line (EMR, HIS, DRG/DIP…).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
}

/// A feature of a product.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Feature {
    /// Id.
    pub id: i64,
    /// Product.
    pub product_id: i64,
    /// Place in the menus, levels separated by `/`.
    pub menu_path: String,
    /// Title.
    pub title: String,
    /// How real it is.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "built"))]
    #[sqlx(try_from = "String")]
    pub stage: Stage,
    /// Estimated effort in person-days.
    pub effort_days: Option<f64>,
    /// Planned release.
    pub target_release: Option<String>,
    /// Link to the slide that presents it.
    pub slide_url: Option<String>,
    /// Link to a recording of it working.
    pub recording_url: Option<String>,
}

/// A feature to create.
#[derive(Debug, Clone)]
pub struct NewFeature {
    /// Product.
    pub product_id: i64,
    /// Place in the menus.
    pub menu_path: MenuPath,
    /// Title; the last menu level when absent.
    pub title: Option<String>,
    /// Stage.
    pub stage: Stage,
    /// Effort in person-days.
    pub effort_days: Option<f64>,
    /// Planned release.
    pub target_release: Option<String>,
    /// Slide link.
    pub slide_url: Option<String>,
    /// Recording link.
    pub recording_url: Option<String>,
}

/// Changes to a feature; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct FeatureChange {
    /// New menu path.
    pub menu_path: Option<MenuPath>,
    /// New title.
    pub title: Option<String>,
    /// New stage.
    pub stage: Option<Stage>,
    /// New effort.
    pub effort_days: Option<Option<f64>>,
    /// New planned release.
    pub target_release: Option<Option<String>>,
    /// New slide link.
    pub slide_url: Option<Option<String>>,
    /// New recording link.
    pub recording_url: Option<Option<String>>,
}

/// Filters for listing features.
#[derive(Debug, Clone, Default)]
pub struct FeatureFilter {
    /// Only this product.
    pub product_id: Option<i64>,
    /// Only this stage.
    pub stage: Option<Stage>,
}

const FEATURE_COLUMNS: &str = "id, product_id, menu_path, title, stage, effort_days, \
     target_release, slide_url, recording_url";

/// An optional effort as a query parameter: -1 stands for "none" and the query turns it back
/// into NULL. sqlx's `Any` driver declares a NULL `f64` as a 4-byte float, and PostgreSQL then
/// refuses the 8-byte value of the next execution of the same cached statement; a number is
/// always declared as 8 bytes.
pub(crate) fn effort_param(effort: Option<f64>) -> f64 {
    effort.unwrap_or(-1.0)
}

/// Checks an optional slide or recording link.
fn check_link(field: &'static str, link: Option<String>) -> Result<Option<String>> {
    Ok(link.map(|l| cunjin_core::web_link(field, &l)).transpose()?)
}

/// Effort must be a sensible number of person-days.
pub fn check_effort(effort: Option<f64>) -> Result<Option<f64>> {
    match effort {
        Some(e) if !(e.is_finite() && (0.0..=100_000.0).contains(&e)) => {
            Err(cunjin_core::ParseError::new("effort_days", "must be between 0 and 100000").into())
        }
        e => Ok(e),
    }
}

impl Store {
    /// Creates a product.
    pub async fn create_product(&self, workspace_id: i64, name: &str) -> Result<Product> {
        let name = required_text("name", name, 200)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO products (workspace_id, name, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(workspace_id)
        .bind(&name)
        .bind(now())
        .fetch_one(self.writer())
        .await
        .map_err(|e| conflict_on_unique(e, || format!("a product named '{name}' exists")))?;
        Ok(Product { id, name })
    }

    /// The products of a workspace, by name.
    pub async fn list_products(&self, workspace_id: i64) -> Result<Vec<Product>> {
        let mut list: Vec<Product> =
            sqlx::query_as("SELECT id, name FROM products WHERE workspace_id = $1")
                .bind(workspace_id)
                .fetch_all(self.reader())
                .await?;
        // Sorted here, by code point: PostgreSQL's ORDER BY follows the database's collation and
        // would order Chinese names differently from SQLite.
        list.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(list)
    }

    /// One product.
    pub async fn get_product(&self, workspace_id: i64, id: i64) -> Result<Product> {
        sqlx::query_as("SELECT id, name FROM products WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(self.reader())
            .await?
            .ok_or_else(|| StoreError::not_found("product", id))
    }

    /// Creates a feature.
    pub async fn create_feature(
        &self,
        workspace_id: i64,
        actor: &str,
        new: NewFeature,
    ) -> Result<Feature> {
        let mut tx = self.begin_ledger(workspace_id).await?;
        let f = insert_feature(&mut tx, workspace_id, new).await?;
        audit::Entry::new(workspace_id, Entity::Feature, f.id, Action::Create, actor)
            .created(&f)
            .write(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(f)
    }

    /// The features of a workspace, by product and menu path.
    pub async fn list_features(
        &self,
        workspace_id: i64,
        filter: &FeatureFilter,
    ) -> Result<Vec<Feature>> {
        let mut q = Sql::new(format!(
            "SELECT {FEATURE_COLUMNS} FROM features WHERE workspace_id = "
        ));
        q.bind(workspace_id)
            .and_eq("product_id", filter.product_id)
            .and_eq("stage", filter.stage.map(Stage::as_str));
        let mut list: Vec<Feature> = q.query_as().fetch_all(self.reader()).await?;
        // By code point, the same on both engines (see `list_products`).
        list.sort_by(|a, b| {
            (a.product_id, &a.menu_path, a.id).cmp(&(b.product_id, &b.menu_path, b.id))
        });
        Ok(list)
    }

    /// One feature.
    pub async fn get_feature(&self, workspace_id: i64, id: i64) -> Result<Feature> {
        get_feature_in(self.reader(), workspace_id, id).await
    }

    /// Changes a feature; stage changes land in the audit trail.
    pub async fn update_feature(
        &self,
        workspace_id: i64,
        actor: &str,
        id: i64,
        change: FeatureChange,
    ) -> Result<Feature> {
        let mut tx = self.begin_ledger(workspace_id).await?;
        let before = get_feature_in(&mut *tx, workspace_id, id).await?;
        let mut after = before.clone();
        if let Some(p) = change.menu_path {
            after.menu_path = p.as_str().to_string();
        }
        if let Some(t) = change.title {
            after.title = required_text("title", &t, 500)?;
        }
        if let Some(s) = change.stage {
            after.stage = s;
        }
        if let Some(e) = change.effort_days {
            after.effort_days = check_effort(e)?;
        }
        if let Some(r) = change.target_release {
            after.target_release = r;
        }
        if let Some(u) = change.slide_url {
            after.slide_url = check_link("slide_url", u)?;
        }
        if let Some(u) = change.recording_url {
            after.recording_url = check_link("recording_url", u)?;
        }
        sqlx::query(
            "UPDATE features SET menu_path = $1, title = $2, stage = $3, \
             effort_days = CASE WHEN $4 < 0 THEN NULL ELSE $4 END, \
             target_release = $5, slide_url = $6, recording_url = $7, updated_at = $8 \
             WHERE workspace_id = $9 AND id = $10",
        )
        .bind(&after.menu_path)
        .bind(&after.title)
        .bind(after.stage.as_str())
        .bind(effort_param(after.effort_days))
        .bind(&after.target_release)
        .bind(&after.slide_url)
        .bind(&after.recording_url)
        .bind(now())
        .bind(workspace_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        crate::search::index(
            &mut tx,
            workspace_id,
            crate::search::DocKind::Feature,
            id,
            &crate::search::feature_text(&after.title, &after.menu_path),
        )
        .await?;
        audit::Entry::new(workspace_id, Entity::Feature, id, Action::Update, actor)
            .changed(&before, &after)
            .write(&mut tx)
            .await?;
        if after.stage != before.stage {
            refresh_snapshots(&mut tx, workspace_id, Scope::Feature(id)).await?;
        }
        tx.commit().await?;
        Ok(after)
    }
}

pub(crate) async fn get_feature_in<'e, E>(exec: E, workspace_id: i64, id: i64) -> Result<Feature>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    sqlx::query_as(&format!(
        "SELECT {FEATURE_COLUMNS} FROM features WHERE workspace_id = $1 AND id = $2"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(exec)
    .await?
    .ok_or_else(|| StoreError::not_found("feature", id))
}

pub(crate) async fn insert_feature(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    new: NewFeature,
) -> Result<Feature> {
    // The product must belong to the same workspace.
    sqlx::query("SELECT id FROM products WHERE workspace_id = $1 AND id = $2")
        .bind(workspace_id)
        .bind(new.product_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("product", new.product_id))?;
    let title = match &new.title {
        Some(t) => required_text("title", t, 500)?,
        None => new.menu_path.leaf().to_string(),
    };
    let effort_days = check_effort(new.effort_days)?;
    let slide_url = check_link("slide_url", new.slide_url)?;
    let recording_url = check_link("recording_url", new.recording_url)?;
    let ts = now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO features (workspace_id, product_id, menu_path, title, stage, effort_days, \
         target_release, slide_url, recording_url, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 < 0 THEN NULL ELSE $6 END, $7, $8, $9, $10, $10) RETURNING id",
    )
    .bind(workspace_id)
    .bind(new.product_id)
    .bind(new.menu_path.as_str())
    .bind(&title)
    .bind(new.stage.as_str())
    .bind(effort_param(effort_days))
    .bind(&new.target_release)
    .bind(&slide_url)
    .bind(&recording_url)
    .bind(&ts)
    .fetch_one(&mut **tx)
    .await?;
    crate::search::index(
        tx,
        workspace_id,
        crate::search::DocKind::Feature,
        id,
        &crate::search::feature_text(&title, new.menu_path.as_str()),
    )
    .await?;
    Ok(Feature {
        id,
        product_id: new.product_id,
        menu_path: new.menu_path.as_str().to_string(),
        title,
        stage: new.stage,
        effort_days,
        target_release: new.target_release,
        slide_url,
        recording_url,
    })
}

/// Name of the product that collects ideas promised outside the catalogue.
pub const UNSORTED_PRODUCT: &str = "未归类 Unsorted";

/// The feature a free-text promise refers to: an existing feature with that exact title
/// (ignoring case), or a new one at stage `idea`.
pub(crate) async fn find_or_create_idea(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
    product_id: Option<i64>,
    title: &str,
) -> Result<(Feature, bool)> {
    let title = required_text("feature_title", title, 500)?;
    let mut q = Sql::new(format!(
        "SELECT {FEATURE_COLUMNS} FROM features WHERE workspace_id = "
    ));
    q.bind(workspace_id)
        .push_bind(" AND LOWER(title) = LOWER(", title.as_str())
        .push(")")
        .and_eq("product_id", product_id)
        .push(" ORDER BY id LIMIT 1");
    if let Some(f) = q.query_as().fetch_optional(&mut **tx).await? {
        return Ok((f, false));
    }
    let product_id = match product_id {
        Some(p) => p,
        None => unsorted_product(tx, workspace_id).await?,
    };
    // A title may contain the menu separators; keep it one level.
    let menu_path = MenuPath::from_title(&title)?;
    let f = insert_feature(
        tx,
        workspace_id,
        NewFeature {
            product_id,
            menu_path,
            title: Some(title),
            stage: Stage::Idea,
            effort_days: None,
            target_release: None,
            slide_url: None,
            recording_url: None,
        },
    )
    .await?;
    Ok((f, true))
}

pub(crate) async fn unsorted_product(
    tx: &mut Transaction<'_, Any>,
    workspace_id: i64,
) -> Result<i64> {
    // Insert-if-missing in one statement: two first free-text promises at once must not collide.
    sqlx::query(
        "INSERT INTO products (workspace_id, name, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (workspace_id, name) DO NOTHING",
    )
    .bind(workspace_id)
    .bind(UNSORTED_PRODUCT)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT id FROM products WHERE workspace_id = $1 AND name = $2")
            .bind(workspace_id)
            .bind(UNSORTED_PRODUCT)
            .fetch_one(&mut **tx)
            .await?,
    )
}
