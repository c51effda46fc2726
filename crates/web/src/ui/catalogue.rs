//! The catalogue page: products and their features with stage, links and promises.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use cunjin_core::Stage;
use cunjin_store::ledger::catalogue::FeatureFilter;

use super::views::*;
use super::{fail, PageResult};
use super::{render, Page};
use crate::AppState;

/// The pages of this module and the forms they post to.
pub(super) fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new().route("/features", get(features))
}

pub async fn features(p: Page, State(state): State<AppState>) -> PageResult {
    let ws = p.caller.ws();
    let products = state.store.list_products(ws).await.map_err(fail(&p))?;
    let features = state
        .store
        .list_features(ws, &FeatureFilter::default())
        .await
        .map_err(fail(&p))?;
    let names: HashMap<i64, String> = products.into_iter().map(|p| (p.id, p.name)).collect();
    // Group by product, then walk the sorted menu paths, opening each level once.
    let mut by_product: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for f in features {
        let name = names.get(&f.product_id).cloned().unwrap_or_default();
        by_product.entry(name).or_default().push(f);
    }
    let mut rows = Vec::new();
    for (product, mut list) in by_product {
        list.sort_by(|a, b| a.menu_path.cmp(&b.menu_path));
        rows.push(TreeRow {
            depth: 0,
            indent: "0.8".into(),
            label: product,
            feature_id: None,
            stage: None,
            effort: None,
        });
        let mut open: Vec<String> = Vec::new();
        for f in list {
            let levels: Vec<&str> = f.menu_path.split('/').collect();
            let parents = &levels[..levels.len().saturating_sub(1)];
            let common = open
                .iter()
                .zip(parents.iter())
                .take_while(|(a, b)| a.as_str() == **b)
                .count();
            open.truncate(common);
            for (i, level) in parents.iter().enumerate().skip(common) {
                rows.push(TreeRow {
                    depth: i + 1,
                    indent: format!("{:.1}", 0.8 + (i + 1) as f64 * 1.4),
                    label: level.to_string(),
                    feature_id: None,
                    stage: None,
                    effort: None,
                });
                open.push(level.to_string());
            }
            let leaf = levels.last().copied().unwrap_or_default();
            let label = if f.title == leaf {
                f.title.clone()
            } else {
                format!("{leaf} — {}", f.title)
            };
            rows.push(TreeRow {
                depth: parents.len() + 1,
                indent: format!("{:.1}", 0.8 + (parents.len() + 1) as f64 * 1.4),
                label,
                feature_id: Some(f.id),
                stage: Some(f.stage),
                effort: f.effort_days,
            });
        }
    }
    Ok(render(&FeaturesPage {
        frame: p.frame("features"),
        stages: Stage::ALL.to_vec(),
        rows,
    }))
}
