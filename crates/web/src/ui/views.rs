//! What each page shows, prepared for its template.

use super::Frame;
use askama::Template;
use cunjin_core::{Mode, Stage, Status};
use cunjin_store::ledger::commitments::Commitment;
use cunjin_store::ledger::customers::Customer;
use cunjin_store::reports::gap::PortfolioGap;

use crate::i18n::Lang;

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub frame: Frame,
    pub message_key: &'static str,
    pub detail: String,
}
framed!(ErrorPage);

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub frame: Frame,
    pub next: String,
    pub email: String,
    pub failed: bool,
    pub too_many: bool,
}
framed!(LoginPage);

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub frame: Frame,
    /// The portfolio gap; its customer rows cut to the largest gaps.
    pub gap: PortfolioGap,
    /// Customers not listed.
    pub more_customers: usize,
    /// The largest customer 尺, at least 1, to scale the bars.
    pub max_chi: u64,
    /// What this week closed.
    pub week: cunjin_store::ledger::progress::WeekProgress,
    /// The progress chart, inline SVG drawn by `chart::gap_chart`.
    pub chart: String,
}
framed!(DashboardPage);

/// One line of the menu tree: a menu level, or a feature at its leaf.
pub struct TreeRow {
    pub depth: usize,
    /// Left padding in em.
    pub indent: String,
    pub label: String,
    pub feature_id: Option<i64>,
    pub stage: Option<Stage>,
    pub effort: Option<f64>,
}

#[derive(Template)]
#[template(path = "features.html")]
pub struct FeaturesPage {
    pub frame: Frame,
    pub stages: Vec<Stage>,
    pub rows: Vec<TreeRow>,
}
framed!(FeaturesPage);

#[derive(Template)]
#[template(path = "customers.html")]
pub struct CustomersPage {
    pub frame: Frame,
    pub gap: PortfolioGap,
}
framed!(CustomersPage);

pub struct DealView {
    pub name: String,
    pub value: String,
    pub acceptance: String,
    pub pilot: bool,
}

pub struct CommitmentView {
    pub c: Commitment,
    pub overdue: bool,
    pub live: bool,
    /// The statuses this commitment may move to.
    pub next: Vec<Status>,
}

#[derive(Template)]
#[template(path = "customer.html")]
pub struct CustomerPage {
    pub frame: Frame,
    pub customer: Customer,
    pub gap: cunjin_core::Gap,
    pub deals: Vec<DealView>,
    pub commitments: Vec<CommitmentView>,
    pub recorded: bool,
    pub error: String,
    /// Releases delivered to this customer, with its commitments on them.
    pub shipped: Vec<cunjin_store::delivery::releases::ShippedRelease>,
    /// Whether the person may see and rotate the status link.
    pub can_share: bool,
    /// The path of the current status link, empty when none.
    pub status_url: String,
}
framed!(CustomerPage);

/// A customer in a release's delivery form.
pub struct DeliverOption {
    pub id: i64,
    pub name: String,
    pub delivered: bool,
}

pub struct ReleaseView {
    pub r: cunjin_store::delivery::releases::Release,
    pub customers: Vec<DeliverOption>,
}

#[derive(Template)]
#[template(path = "releases.html")]
pub struct ReleasesPage {
    pub frame: Frame,
    pub releases: Vec<ReleaseView>,
    pub feature_groups: Vec<FeatureGroup>,
    pub can_manage: bool,
    pub can_deliver: bool,
    pub created: bool,
    /// Counts of the last delivery: (delivered, left as they were).
    pub report: Option<(usize, usize)>,
    pub error: String,
    pub version: String,
    pub date: String,
}
framed!(ReleasesPage);

/// The public, read-only status page of one customer.
#[derive(Template)]
#[template(path = "status.html")]
pub struct StatusPage {
    /// Always empty: nobody is signed in on a status link, so the page has no menu.
    pub frame: Frame,
    pub s: crate::delivery::CustomerStatus,
    /// The releases delivered to the customer (taken out of `s` for the shared template).
    pub shipped: Vec<cunjin_store::delivery::releases::ShippedRelease>,
}
framed!(StatusPage);

pub struct DealOption {
    pub id: i64,
    pub customer_id: i64,
    pub label: String,
}

pub struct FeatureGroup {
    pub product: String,
    pub features: Vec<cunjin_store::ledger::catalogue::Feature>,
}

/// What was typed into the promise form, kept when it fails.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub struct PromiseForm {
    pub customer_id: String,
    pub deal_id: String,
    pub feature_id: String,
    pub feature_title: String,
    pub shown_as: String,
    pub promised_by: String,
    pub due_date: String,
    pub critical: Option<String>,
    pub criteria: String,
}

#[derive(Template)]
#[template(path = "promise.html")]
pub struct PromisePage {
    pub frame: Frame,
    pub customers: Vec<Customer>,
    pub deals: Vec<DealOption>,
    pub feature_groups: Vec<FeatureGroup>,
    pub modes: Vec<Mode>,
    pub form: PromiseForm,
    pub error: String,
}
framed!(PromisePage);

pub struct RoadmapView {
    pub rank: u32,
    pub title: String,
    pub menu_path: String,
    pub stage: Stage,
    pub score: String,
    pub summary: String,
    pub terms: Vec<String>,
}

#[derive(Template)]
#[template(path = "roadmap.html")]
pub struct RoadmapPage {
    pub frame: Frame,
    /// `RoadmapTable`, rendered.
    pub table: String,
}
framed!(RoadmapPage);

/// The roadmap page below its title: the formula, the pager and one page of the ranking.
#[derive(Template)]
#[template(path = "roadmap_table.html")]
pub struct RoadmapTable {
    pub l: Lang,
    pub lambda: String,
    pub entries: Vec<RoadmapView>,
    /// Features ranked in all; `first`..=`last` are shown.
    pub total: usize,
    pub first: usize,
    pub last: usize,
    /// Offsets of the previous and next pages, when there are.
    pub prev: Option<usize>,
    pub next: Option<usize>,
}

/// A number with thousands separators and at most two decimals: 3,800,000 or 1,234.5.
pub fn amount(x: f64) -> String {
    let rounded = (x * 100.0).round() / 100.0;
    let whole = rounded.trunc() as i64;
    let frac = ((rounded - whole as f64).abs() * 100.0).round() as i64;
    let digits = whole.abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if whole < 0 {
        out.insert(0, '-');
    }
    match frac {
        0 => out,
        f if f % 10 == 0 => format!("{out}.{}", f / 10),
        f => format!("{out}.{f:02}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_read_well() {
        assert_eq!(super::amount(3_800_000.0), "3,800,000");
        assert_eq!(super::amount(1234.5), "1,234.5");
        assert_eq!(super::amount(999.0), "999");
        assert_eq!(super::amount(0.25), "0.25");
    }
}
