//! The sample workspace of `cunjin serve --demo`.
//!
//! An invented Chinese medical-IT vendor: five product lines, about sixty features at every
//! stage, twelve hospitals with their deals, and about sixty promises made in sales demos, shown
//! in every presentation mode. Some of those promises have since moved on (delivered, criteria
//! met, signed off, waived) so that the demo shows a gap that is closing inch by inch.
//!
//! The seed is deterministic: every date is an offset from the `today` it is given, and it goes
//! through the public methods of [`Store`] only, so it lands in the audit trail like any user's
//! work.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{Duration, NaiveDate};
use cunjin_core::{CustomerId, DealStage, Gap, MenuPath, Mode, Money, Stage, Status};
use serde::Serialize;

use super::data::{loaded, records, Record};
use crate::delivery::releases::NewRelease;
use crate::ledger::catalogue::{FeatureChange, FeatureFilter, NewFeature};
use crate::ledger::commitments::{Commitment, FeatureRef, NewCommitment};
use crate::ledger::customers::NewDeal;
use crate::{Result, Store, StoreError};

/// What the seed created.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SeedSummary {
    /// Products.
    pub products: usize,
    /// Features, including the ideas created by free-text promises.
    pub features: usize,
    /// Customers.
    pub customers: usize,
    /// Deals.
    pub deals: usize,
    /// Commitments.
    pub commitments: usize,
    /// Releases.
    pub releases: usize,
    /// Requests.
    pub requests: usize,
    /// Demo environments.
    pub environments: usize,
    /// Upcoming demos.
    pub demos: usize,
    /// Time entries of the hats ledger.
    pub time_entries: usize,
}

/// Who records the sample data in the audit trail.
const ACTOR: &str = "demo@localhost";

/// Which demo assets a feature has.
#[derive(Clone, Copy)]
enum Assets {
    None,
    Slide,
    Recording,
    Both,
}

impl Assets {
    fn parse(s: &str) -> std::result::Result<Assets, &'static str> {
        match s {
            "none" => Ok(Assets::None),
            "slide" => Ok(Assets::Slide),
            "recording" => Ok(Assets::Recording),
            "both" => Ok(Assets::Both),
            _ => Err("none, slide, recording or both"),
        }
    }

    /// (slide, recording).
    fn has(self) -> (bool, bool) {
        match self {
            Assets::None => (false, false),
            Assets::Slide => (true, false),
            Assets::Recording => (false, true),
            Assets::Both => (true, true),
        }
    }
}

/// A feature of the catalogue (`features.tsv`).
struct FeatureSeed {
    key: &'static str,
    /// Its product, by position in `products.tsv`.
    product: usize,
    path: &'static str,
    title: &'static str,
    stage: Stage,
    effort: Option<f64>,
    release: Option<&'static str>,
    assets: Assets,
}

/// A deal (`deals.tsv`).
struct DealSeed {
    /// Its customer, by position in `customers.tsv`.
    customer: usize,
    name: &'static str,
    stage: DealStage,
    value: f64,
    /// Acceptance date, in days from today (negative: already past).
    acceptance_in: i64,
    pilot: bool,
}

/// What a promise is about.
#[derive(Clone, Copy)]
enum What {
    /// A catalogue feature, by its key in `features.tsv`.
    Feature(&'static str),
    /// Free text, filed as an idea under a product (by position in `products.tsv`).
    Text(usize, &'static str),
}

/// Where a promise has got to since it was made.
#[derive(Clone, Copy)]
enum Then {
    /// Still open.
    Open,
    /// Delivered, with its first `met` criteria met.
    Delivered { met: usize },
    /// Delivered, every criterion met, signed off.
    Accepted,
    /// Waived with a reason.
    Waived(&'static str),
}

/// A promise made in a sales demo (`promises.tsv`).
struct PromiseSeed {
    /// Its deal, by position in `deals.tsv`.
    deal: usize,
    what: What,
    shown: Mode,
    /// Who promised it (a name of `people.tsv`).
    by: &'static str,
    days_ago: i64,
    critical: bool,
    criteria: Vec<&'static str>,
    /// Due date in days from today, instead of the deal's acceptance date.
    due_in: Option<i64>,
    then: Then,
}

/// The sample vendor as its data files describe it.
struct Sample {
    products: Vec<&'static str>,
    features: Vec<FeatureSeed>,
    /// Hospitals (realistic but invented) and the weight of their requests.
    customers: Vec<(&'static str, f64)>,
    deals: Vec<DealSeed>,
    promises: Vec<PromiseSeed>,
}

/// The data files, parsed on first use.
static SAMPLE: LazyLock<std::result::Result<Sample, String>> = LazyLock::new(|| {
    let product_keys: Vec<(&str, &str)> =
        records("products.tsv", include_str!("data/products.tsv"))
            .map(|mut r| Ok((r.required("key")?, r.required("name")?)))
            .collect::<std::result::Result<_, String>>()?;
    let product = |r: &mut Record| {
        let key = r.text();
        product_keys
            .iter()
            .position(|(k, _)| *k == key)
            .ok_or_else(|| r.bad(format_args!("no product '{key}' in products.tsv")))
    };
    let features = records("features.tsv", include_str!("data/features.tsv"))
        .map(|mut r| {
            Ok(FeatureSeed {
                key: r.required("key")?,
                product: product(&mut r)?,
                path: r.required("menu path")?,
                title: r.required("title")?,
                stage: r.parse("stage", Stage::parse)?,
                effort: r
                    .optional()
                    .map(str::parse)
                    .transpose()
                    .map_err(|e| r.bad(e))?,
                release: r.optional(),
                assets: r.parse("assets", Assets::parse)?,
            })
        })
        .collect::<std::result::Result<Vec<_>, String>>()?;
    let customers = records("customers.tsv", include_str!("data/customers.tsv"))
        .map(|mut r| Ok((r.required("name")?, r.value("weight")?)))
        .collect::<std::result::Result<Vec<_>, String>>()?;
    let deals = records("deals.tsv", include_str!("data/deals.tsv"))
        .map(|mut r| {
            Ok(DealSeed {
                customer: r.index("customer", customers.len())?,
                name: r.required("name")?,
                stage: r.parse("stage", DealStage::parse)?,
                value: r.value("contract value")?,
                acceptance_in: r.value("acceptance")?,
                pilot: r.value("pilot")?,
            })
        })
        .collect::<std::result::Result<Vec<_>, String>>()?;
    let people: Vec<(&str, &str)> = records("people.tsv", include_str!("data/people.tsv"))
        .map(|mut r| Ok((r.required("key")?, r.required("name")?)))
        .collect::<std::result::Result<_, String>>()?;
    let promises = records("promises.tsv", include_str!("data/promises.tsv"))
        .map(|mut r| {
            let deal = r.index("deal", deals.len())?;
            let about = r.required("feature or text")?;
            let what = match about.split_once(':') {
                None => What::Feature(about),
                Some((key, text)) => {
                    let i = product_keys
                        .iter()
                        .position(|(k, _)| *k == key)
                        .ok_or_else(|| r.bad(format_args!("no product '{key}' in products.tsv")))?;
                    What::Text(i, text)
                }
            };
            let shown = r.parse("shown as", Mode::parse)?;
            let by = r.required("promised by")?;
            let by = people
                .iter()
                .find(|(k, _)| *k == by)
                .map(|(_, name)| *name)
                .ok_or_else(|| r.bad(format_args!("no person '{by}' in people.tsv")))?;
            Ok(PromiseSeed {
                deal,
                what,
                shown,
                by,
                days_ago: r.value("days ago")?,
                critical: r.value("critical")?,
                criteria: r.optional().map_or(Vec::new(), |c| c.split('|').collect()),
                due_in: r
                    .optional()
                    .map(str::parse)
                    .transpose()
                    .map_err(|e| r.bad(e))?,
                then: r.parse("since", then)?,
            })
        })
        .collect::<std::result::Result<Vec<_>, String>>()?;
    Ok(Sample {
        products: product_keys.into_iter().map(|(_, name)| name).collect(),
        features,
        customers,
        deals,
        promises,
    })
});

/// Where a promise got to: `open`, `delivered N`, `accepted` or `waived REASON`.
fn then(s: &'static str) -> std::result::Result<Then, &'static str> {
    match s.split_once(' ') {
        None if s == "open" => Ok(Then::Open),
        None if s == "accepted" => Ok(Then::Accepted),
        Some(("delivered", met)) => met
            .parse()
            .map(|met| Then::Delivered { met })
            .map_err(|_| "delivered takes a number of criteria met"),
        Some(("waived", reason)) => Ok(Then::Waived(reason)),
        _ => Err("open, delivered N, accepted or waived REASON"),
    }
}

/// A release shipped since the demos: (version, days ago, features, customers it was delivered
/// to, days ago of the delivery).
type ReleaseSeed = (
    &'static str,
    i64,
    &'static [&'static str],
    &'static [usize],
    i64,
);

#[rustfmt::skip]
const RELEASES: [ReleaseSeed; 3] = [
    ("v5.1", 75, &["emr-template", "emr-cite", "emr-front-qc", "his-pay"], &[0, 8, 11], 60),
    ("v5.2", 21, &["his-rx-audit", "cdss-ddx", "net-video"], &[2, 3, 6], 14),
    ("v5.3", 3, &["drg-list", "emr-timeliness"], &[0, 4], 2),
];

/// Days in the past on which the demo keeps a gap snapshot, so that the dashboard's chart shows
/// eight weeks of a closing gap.
const HISTORY_DAYS: [i64; 11] = [56, 49, 42, 35, 28, 21, 14, 10, 7, 4, 1];

/// Features that moved on after the demos, before the deliveries: (key, new stage, recording).
const PROGRESS: [(&str, Stage, bool); 5] = [
    ("emr-risk", Stage::Built, false),
    ("drg-list", Stage::Built, false),
    ("his-rx-audit", Stage::Released, true),
    ("cdss-ddx", Stage::Released, true),
    ("net-video", Stage::Released, true),
];

fn slide_url(key: &str) -> String {
    format!("https://slides.example.com/cunjin-demo/{key}")
}

fn recording_url(key: &str) -> String {
    format!("https://recordings.example.com/cunjin-demo/{key}.mp4")
}

/// Whether a promise could have been shown that way on a feature at that stage.
fn mode_fits(mode: Mode, stage: Stage) -> bool {
    match mode {
        Mode::Live | Mode::Fallback | Mode::Unverified => stage.works(),
        Mode::Menu => stage == Stage::Stubbed,
        Mode::Slides => stage == Stage::Designed,
        Mode::Words => stage == Stage::Idea,
        Mode::Promise => false,
    }
}

/// Ids of what the seed created, by position in the data files.
struct Seeded {
    products: Vec<i64>,
    /// Id and stage of each feature, by key.
    features: HashMap<&'static str, (i64, Stage)>,
    customers: Vec<i64>,
    /// (deal id, customer id).
    deals: Vec<(i64, i64)>,
}

impl Seeded {
    fn feature(&self, key: &str) -> Result<(i64, Stage)> {
        self.features
            .get(key)
            .copied()
            .ok_or_else(|| StoreError::Corrupt(format!("demo seed: no feature '{key}'")))
    }
}

impl Store {
    /// Fills `workspace_id` with the sample vendor, unless it already has products (then returns
    /// `Ok(None)`).
    pub async fn seed_demo(
        &self,
        workspace_id: i64,
        today: NaiveDate,
    ) -> Result<Option<SeedSummary>> {
        if !self.list_products(workspace_id).await?.is_empty() {
            return Ok(None);
        }
        let sample = loaded(&SAMPLE)?;
        let ws = workspace_id;
        let (products, features) = self.seed_catalogue(ws, sample).await?;
        let (customers, deals) = self.seed_customers(ws, sample, today).await?;
        let seeded = Seeded {
            products,
            features,
            customers,
            deals,
        };
        let recorded = self.seed_promises(ws, sample, &seeded, today).await?;
        self.seed_progress(ws, &seeded).await?;
        self.seed_deliveries(ws, sample, &recorded).await?;
        self.seed_releases(ws, &seeded, today).await?;
        self.seed_gap_history(ws, sample, &seeded, today).await?;
        let requests = self
            .seed_demo_requests(ws, &seeded.features, &seeded.customers)
            .await?;
        // Demo readiness: environments with probes, and two upcoming demos with their scripts.
        let (environments, demos) = crate::demos::seed_demos(
            self,
            ws,
            today,
            |k| seeded.feature(k).map(|f| f.0),
            &seeded.deals,
        )
        .await?;
        let time_entries = self.seed_demo_hats(ws, today).await?;

        Ok(Some(SeedSummary {
            products: self.list_products(ws).await?.len(),
            features: self
                .list_features(ws, &FeatureFilter::default())
                .await?
                .len(),
            customers: seeded.customers.len(),
            deals: seeded.deals.len(),
            commitments: recorded.len(),
            releases: RELEASES.len(),
            requests,
            environments,
            demos,
            time_entries,
        }))
    }

    /// The products and their features; returns the products' ids and the features' by key.
    async fn seed_catalogue(
        &self,
        ws: i64,
        sample: &Sample,
    ) -> Result<(Vec<i64>, HashMap<&'static str, (i64, Stage)>)> {
        let mut products = Vec::with_capacity(sample.products.len());
        for name in &sample.products {
            products.push(self.create_product(ws, name).await?.id);
        }
        let mut features = HashMap::new();
        for f in &sample.features {
            let (slide, recording) = f.assets.has();
            let created = self
                .create_feature(
                    ws,
                    ACTOR,
                    NewFeature {
                        product_id: products[f.product],
                        menu_path: MenuPath::parse(f.path)?,
                        title: Some(f.title.to_string()),
                        stage: f.stage,
                        effort_days: f.effort,
                        target_release: f.release.map(str::to_string),
                        slide_url: slide.then(|| slide_url(f.key)),
                        recording_url: recording.then(|| recording_url(f.key)),
                    },
                )
                .await?;
            features.insert(f.key, (created.id, created.stage));
        }
        Ok((products, features))
    }

    /// The hospitals and their deals; returns the customers' ids and (deal, customer) ids.
    async fn seed_customers(
        &self,
        ws: i64,
        sample: &Sample,
        today: NaiveDate,
    ) -> Result<(Vec<i64>, Vec<(i64, i64)>)> {
        let mut customers = Vec::with_capacity(sample.customers.len());
        for (name, weight) in &sample.customers {
            customers.push(self.create_customer(ws, name, Some(*weight)).await?.id.0);
        }
        let mut deals = Vec::with_capacity(sample.deals.len());
        for d in &sample.deals {
            let created = self
                .create_deal(
                    ws,
                    NewDeal {
                        customer_id: CustomerId(customers[d.customer]),
                        name: d.name.to_string(),
                        stage: d.stage,
                        contract_value: Money::from_units(d.value)?,
                        acceptance_date: Some(today + Duration::days(d.acceptance_in)),
                        pilot: d.pilot,
                    },
                )
                .await?;
            deals.push((created.id.0, created.customer_id.0));
        }
        Ok((customers, deals))
    }

    /// The promises of the sales demos, as they were made.
    async fn seed_promises(
        &self,
        ws: i64,
        sample: &Sample,
        seeded: &Seeded,
        today: NaiveDate,
    ) -> Result<Vec<Commitment>> {
        let day = |offset: i64| today + Duration::days(offset);
        let mut recorded = Vec::with_capacity(sample.promises.len());
        for p in &sample.promises {
            let (deal_id, customer_id) = seeded.deals[p.deal];
            let feature = match p.what {
                What::Feature(key) => {
                    let (id, stage) = seeded.feature(key)?;
                    debug_assert!(mode_fits(p.shown, stage), "{key} shown as {}", p.shown);
                    FeatureRef::Id(id)
                }
                What::Text(product, title) => FeatureRef::Title {
                    title: title.to_string(),
                    product_id: Some(seeded.products[product]),
                },
            };
            let c = self
                .record_promise(
                    ws,
                    ACTOR,
                    NewCommitment {
                        customer_id,
                        deal_id: Some(deal_id),
                        feature,
                        shown_as: Some(p.shown),
                        promised_by: Some(p.by.to_string()),
                        promised_at: Some(day(-p.days_ago)),
                        due_date: p.due_in.map(day),
                        critical: p.critical,
                        criteria: p.criteria.iter().map(|s| s.to_string()).collect(),
                    },
                )
                .await?;
            recorded.push(c);
        }
        Ok(recorded)
    }

    /// R&D moved a few features on since the demos.
    async fn seed_progress(&self, ws: i64, seeded: &Seeded) -> Result<()> {
        for (key, stage, recording) in PROGRESS {
            let (id, _) = seeded.feature(key)?;
            self.update_feature(
                ws,
                "rnd@localhost",
                id,
                FeatureChange {
                    stage: Some(stage),
                    recording_url: recording.then(|| Some(recording_url(key))),
                    ..Default::default()
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Implementation delivered what works; customers checked some criteria and signed off.
    async fn seed_deliveries(
        &self,
        ws: i64,
        sample: &Sample,
        recorded: &[Commitment],
    ) -> Result<()> {
        for (p, c) in sample.promises.iter().zip(recorded) {
            let met = match p.then {
                Then::Open => continue,
                Then::Waived(reason) => {
                    self.transition_commitment(
                        ws,
                        "pm@localhost",
                        c.id,
                        Status::Waived,
                        Some(reason),
                    )
                    .await?;
                    continue;
                }
                Then::Delivered { met } => met,
                Then::Accepted => c.criteria.len(),
            };
            let delivered = self
                .transition_commitment(ws, "impl@localhost", c.id, Status::Delivered, None)
                .await?;
            debug_assert!(
                delivered.stage.works(),
                "{} delivered before it works",
                c.feature_title
            );
            for k in c.criteria.iter().take(met) {
                self.set_criterion(ws, "impl@localhost", c.id, k.id, true)
                    .await?;
            }
            if matches!(p.then, Then::Accepted) {
                self.transition_commitment(ws, "pm@localhost", c.id, Status::Accepted, None)
                    .await?;
            }
        }
        Ok(())
    }

    /// Releases shipped them, and implementation delivered them to some hospitals.
    async fn seed_releases(&self, ws: i64, seeded: &Seeded, today: NaiveDate) -> Result<()> {
        let day = |offset: i64| today + Duration::days(offset);
        for (version, days_ago, keys, to, delivered_ago) in RELEASES {
            let feature_ids = keys
                .iter()
                .map(|k| seeded.feature(k).map(|f| f.0))
                .collect::<Result<Vec<_>>>()?;
            let release = self
                .create_release(
                    ws,
                    "rnd@localhost",
                    NewRelease {
                        version: version.to_string(),
                        date: day(-days_ago),
                        feature_ids,
                    },
                )
                .await?;
            let customer_ids: Vec<i64> = to.iter().map(|&i| seeded.customers[i]).collect();
            let at = format!("{}T09:30:00.000Z", day(-delivered_ago));
            self.deliver_release_at(ws, "impl@localhost", release.id, &customer_ids, at)
                .await?;
        }
        Ok(())
    }

    /// The weeks before today, as if cunjin had kept the gap all along: wider in the past,
    /// closing towards today, and nothing before a hospital's first promise.
    async fn seed_gap_history(
        &self,
        ws: i64,
        sample: &Sample,
        seeded: &Seeded,
        today: NaiveDate,
    ) -> Result<()> {
        let mut first_promise: HashMap<i64, i64> = HashMap::new();
        for p in &sample.promises {
            let e = first_promise.entry(seeded.deals[p.deal].1).or_insert(0);
            *e = (*e).max(p.days_ago);
        }
        for row in self.gap(ws, None).await?.customers {
            let oldest = first_promise.get(&row.customer_id).copied().unwrap_or(0);
            for d in HISTORY_DAYS.into_iter().filter(|d| *d < oldest) {
                let d64 = d as u64;
                let then = Gap {
                    chi: row.chi + row.chi * d64 / 60 + d64 / 20,
                    cun: row.cun + row.cun * d64 / 45 + d64 / 14,
                };
                self.put_gap_snapshot(ws, row.customer_id, today - Duration::days(d), then)
                    .await?;
            }
        }
        Ok(())
    }

    /// Six weeks of the administrator's time, drifting from planning to implementation support
    /// and pre-sales, so that the hats page has an answer to "am I still a product manager?".
    async fn seed_demo_hats(&self, ws: i64, today: NaiveDate) -> Result<usize> {
        use crate::hats::NewTimeEntry;
        use cunjin_core::Hat;
        // Minutes per working day for each week, oldest first: planning, implementation,
        // testing, presales, relay.
        #[rustfmt::skip]
        const WEEKS: [[i64; 5]; 6] = [
            [300, 60, 30, 30, 30],
            [270, 90, 30, 30, 30],
            [210, 150, 30, 30, 30],
            [150, 180, 30, 60, 30],
            [120, 180, 60, 60, 30],
            [90, 210, 30, 60, 60],
        ];
        const NOTES: [&str; 5] = [
            "需求评审与规划",
            "现场实施支持",
            "版本验证测试",
            "售前交流",
            "传话：解释需求为何暂缓",
        ];
        let monday = cunjin_core::hats::week_start(today);
        let mut n = 0;
        for (w, minutes) in WEEKS.iter().enumerate() {
            let week = monday - Duration::weeks(5 - w as i64);
            for day in 0..5 {
                let date = week + Duration::days(day);
                if date > today {
                    break;
                }
                for (h, m) in minutes.iter().enumerate() {
                    self.create_time_entry(
                        ws,
                        ACTOR,
                        NewTimeEntry {
                            person: "admin@localhost".into(),
                            date,
                            hat: Hat::ALL[h],
                            minutes: *m,
                            note: NOTES[h].into(),
                        },
                    )
                    .await?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_files_parse_and_refer_to_each_other() {
        let sample = SAMPLE.as_ref().expect("the sample data files parse");
        assert_eq!(sample.products.len(), 5);
        assert_eq!(sample.features.len(), 57);
        assert_eq!(sample.customers.len(), 12);
        assert_eq!(sample.deals.len(), 16);
        assert_eq!(sample.promises.len(), 66);
        let keys: Vec<&str> = sample.features.iter().map(|f| f.key).collect();
        for p in &sample.promises {
            if let What::Feature(key) = p.what {
                assert!(
                    keys.contains(&key),
                    "promise about an unknown feature {key}"
                );
            }
        }
        for (_, _, features, customers, _) in RELEASES {
            assert!(features.iter().all(|k| keys.contains(k)));
            assert!(customers.iter().all(|&c| c < sample.customers.len()));
        }
        assert!(PROGRESS.iter().all(|(k, _, _)| keys.contains(k)));
    }
}
