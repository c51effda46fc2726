//! What a customer sees of its own delivery: the status page's content (one customer, nothing of
//! any other, nothing internal such as how a promise was shown or who made it) and the release
//! notes "what shipped for you" as Markdown or CSV in the reader's language.

use chrono::NaiveDate;
use cunjin_core::{CustomerId, Gap, Stage, Status};
use cunjin_store::delivery::releases::ShippedRelease;
use cunjin_store::{Store, StoreError};
use serde::Serialize;

use crate::i18n::Lang;

/// One acceptance criterion as the customer reads it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusCriterion {
    /// The customer's words.
    pub text: String,
    /// Whether it is met.
    pub met: bool,
}

/// One commitment as the customer reads it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusCommitment {
    /// The feature's title.
    pub feature_title: String,
    /// Its place in the menus.
    pub menu_path: String,
    /// How real the feature is.
    #[schema(value_type = String, example = "released")]
    pub stage: Stage,
    /// Where the commitment stands.
    #[schema(value_type = String, example = "delivered")]
    pub status: Status,
    /// Due date.
    #[schema(value_type = Option<String>, format = Date)]
    pub due_date: Option<NaiveDate>,
    /// Acceptance-critical (验收必须).
    pub critical: bool,
    /// Acceptance criteria.
    pub criteria: Vec<StatusCriterion>,
    /// Its gap.
    #[schema(value_type = cunjin_store::reports::gap::GapSchema)]
    pub gap: Gap,
}

/// Everything a customer's status link shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomerStatus {
    /// The customer's name.
    pub customer: String,
    /// Its 尺.
    pub chi: u64,
    /// Its 寸.
    pub cun: u64,
    /// Its commitments.
    pub commitments: Vec<StatusCommitment>,
    /// The releases delivered to it, newest first.
    pub shipped: Vec<ShippedRelease>,
}

/// Loads one customer's status; every query is confined to that customer.
pub async fn customer_status(
    store: &Store,
    workspace_id: i64,
    customer_id: i64,
) -> Result<CustomerStatus, StoreError> {
    let customer = store
        .get_customer(workspace_id, CustomerId(customer_id))
        .await?;
    let gap = store.gap_for_customer(workspace_id, customer_id).await?;
    let filter = cunjin_store::ledger::commitments::CommitmentFilter {
        customer_id: Some(customer_id),
        limit: Some(5000),
        ..Default::default()
    };
    let mut commitments: Vec<StatusCommitment> = store
        .list_commitments(workspace_id, &filter)
        .await?
        .into_iter()
        .map(|c| StatusCommitment {
            feature_title: c.feature_title,
            menu_path: c.menu_path,
            stage: c.stage,
            status: c.status,
            due_date: c.due_date,
            critical: c.critical,
            criteria: c
                .criteria
                .into_iter()
                .map(|k| StatusCriterion {
                    text: k.text,
                    met: k.met,
                })
                .collect(),
            gap: c.gap,
        })
        .collect();
    // Live ones first, then by menu.
    commitments.sort_by(|a, b| {
        (!a.status.is_live(), &a.menu_path).cmp(&(!b.status.is_live(), &b.menu_path))
    });
    let shipped = store
        .shipped_for_customer(workspace_id, customer_id, None)
        .await?;
    Ok(CustomerStatus {
        customer: customer.name,
        chi: gap.chi,
        cun: gap.cun,
        commitments,
        shipped,
    })
}

/// Release notes in Markdown.
pub fn notes_markdown(l: Lang, customer: &str, shipped: &[ShippedRelease]) -> String {
    let mut out = format!("# {} — {}\n\n", l.t("notes.title"), customer);
    if shipped.is_empty() {
        out.push_str(l.t("notes.none"));
        out.push('\n');
        return out;
    }
    for r in shipped {
        out.push_str(&format!(
            "## {} ({} {} · {} {})\n\n",
            r.version,
            l.t("notes.released_on"),
            r.date,
            l.t("notes.delivered_on"),
            r.delivered_on
        ));
        if r.items.is_empty() {
            out.push_str(&format!("- {}\n\n", l.t("notes.nothing_for_you")));
            continue;
        }
        for i in &r.items {
            out.push_str(&format!(
                "- **{}** ({}) — {} · {} {}/{}\n",
                i.feature_title.replace('*', "\\*"),
                i.menu_path,
                l.status(i.status),
                l.t("notes.criteria_met"),
                i.criteria_met,
                i.criteria_total
            ));
            for k in &i.criteria_open {
                out.push_str(&format!("  - {}: {}\n", l.t("notes.open_criterion"), k));
            }
        }
        out.push('\n');
    }
    out
}

/// One CSV field: quoted when needed; a leading `= + - @`, tab or carriage return is defused
/// with an apostrophe so that a spreadsheet does not run it as a formula. Every CSV the API
/// writes goes through here (release notes, the hats report).
pub(crate) fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Release notes as CSV, one row per commitment per release, with a byte-order mark so that
/// Excel reads the Chinese correctly.
pub fn notes_csv(l: Lang, customer: &str, shipped: &[ShippedRelease]) -> String {
    let header = [
        "notes.col_customer",
        "notes.col_version",
        "notes.col_release_date",
        "notes.col_delivered",
        "col.feature",
        "notes.col_menu",
        "col.status",
        "notes.criteria_met",
        "notes.col_criteria_total",
        "notes.open_criterion",
    ];
    let mut out = String::from("\u{feff}");
    out.push_str(
        &header
            .iter()
            .map(|k| csv_field(l.t(k)))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str("\r\n");
    for r in shipped {
        for i in &r.items {
            let row = [
                customer.to_string(),
                r.version.clone(),
                r.date.to_string(),
                r.delivered_on.clone(),
                i.feature_title.clone(),
                i.menu_path.clone(),
                l.status(i.status).to_string(),
                i.criteria_met.to_string(),
                i.criteria_total.to_string(),
                i.criteria_open.join("; "),
            ];
            out.push_str(
                &row.iter()
                    .map(|f| csv_field(f))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push_str("\r\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("结构化模板"), "结构化模板");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_field("\t@x"), "'\t@x");
    }
}
