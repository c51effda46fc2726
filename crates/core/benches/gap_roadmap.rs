//! The gap and the roadmap over the largest vendor of DESIGN.md (200,000 commitments on 20,000
//! features of 5,000 customers), built in memory by the same generator as `cunjin generate`.
//!
//! `cargo bench -p cunjin-core`; figures in docs/performance.md. This measures the arithmetic
//! of the core only, the part of a `GET /api/v1/gap` or `/roadmap` that is not the database.

use std::collections::HashMap;
use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use cunjin_core::scale::{vendor, RequestGenerator, Scale, Vendor};
use cunjin_core::{
    CommitmentDemand, FeatureInput, Gap, Money, Requester, RoadmapWeights, Stage, Status,
};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).expect("a valid date")
}

fn large() -> Vendor {
    let scale = Scale {
        requests: 0,
        ..Scale::LARGE
    };
    vendor(&scale, 1, today())
}

/// The rows the store reads for the gap: one per live commitment.
fn gap_rows(v: &Vendor) -> Vec<(usize, Stage, Status, u64)> {
    v.commitments
        .iter()
        .filter(|c| c.status.is_live())
        .map(|c| {
            (
                c.customer,
                v.features[c.feature].stage,
                c.status,
                u64::from(c.unmet()),
            )
        })
        .collect()
}

/// Every customer's gap, largest first, and the portfolio's.
fn portfolio_gap(
    rows: &[(usize, Stage, Status, u64)],
    customers: usize,
) -> (Gap, Vec<(usize, Gap)>) {
    let mut per: Vec<Gap> = vec![Gap::default(); customers];
    for &(c, stage, status, unmet) in rows {
        per[c] += Gap::of_group(stage, status, 1, unmet);
    }
    let mut list: Vec<(usize, Gap)> = per.into_iter().enumerate().collect();
    list.sort_by(|a, b| {
        (b.1.chi, b.1.cun)
            .cmp(&(a.1.chi, a.1.cun))
            .then(a.0.cmp(&b.0))
    });
    let total = list.iter().map(|(_, g)| *g).sum();
    (total, list)
}

/// The inputs of every feature with a live commitment, as the store assembles them from its rows.
fn commitment_inputs(v: &Vendor) -> HashMap<usize, FeatureInput> {
    let mut live_on_deal: HashMap<usize, u32> = HashMap::new();
    for c in &v.commitments {
        if let (Some(d), true) = (c.deal, c.status.is_live()) {
            *live_on_deal.entry(d).or_default() += 1;
        }
    }
    let mut by_feature: HashMap<usize, FeatureInput> = HashMap::new();
    for (i, c) in v.commitments.iter().enumerate() {
        if !c.status.is_live() {
            continue;
        }
        let f = &v.features[c.feature];
        by_feature
            .entry(c.feature)
            .or_insert_with(|| FeatureInput {
                stage: f.stage,
                effort_days: f.effort_days,
                commitments: Vec::new(),
                requesters: Vec::new(),
            })
            .commitments
            .push(CommitmentDemand {
                commitment_id: i as i64,
                customer_id: c.customer as i64,
                deal_id: c.deal.map(|d| d as i64),
                contract_value: c
                    .deal
                    .map_or(Money::default(), |d| v.deals[d].contract_value),
                live_on_deal: c.deal.map_or(0, |d| live_on_deal[&d]),
                critical: c.critical,
                due: c.due,
                status: c.status,
            });
    }
    by_feature
}

/// The inputs of every feature with a live commitment or demand.
fn roadmap_inputs(v: &Vendor) -> Vec<(usize, FeatureInput)> {
    let mut by_feature = commitment_inputs(v);
    // Demand as from 1,000,000 requests: one in twenty accepted onto a feature, seven in ten
    // of those from a customer.
    let mut requests = RequestGenerator::new(1, v.customers.len(), v.features.len());
    for _ in 0..1_000_000 {
        let r = requests.next_request();
        if let (Some(f), Some(c)) = (r.feature, r.customer) {
            let feature = &v.features[f];
            let input = by_feature.entry(f).or_insert_with(|| FeatureInput {
                stage: feature.stage,
                effort_days: feature.effort_days,
                commitments: Vec::new(),
                requesters: Vec::new(),
            });
            if input.requesters.iter().all(|x| x.customer_id != c as i64) {
                input.requesters.push(Requester {
                    customer_id: c as i64,
                    name: v.customers[c].name.clone(),
                    weight: v.customers[c].weight,
                });
            }
        }
    }
    let mut list: Vec<(usize, FeatureInput)> = by_feature.into_iter().collect();
    list.sort_by_key(|(f, _)| *f);
    list
}

fn bench(c: &mut Criterion) {
    let v = large();
    let rows = gap_rows(&v);
    c.bench_function("gap: 200,000 commitments, 5,000 customers", |b| {
        b.iter(|| portfolio_gap(black_box(&rows), v.customers.len()))
    });
    let inputs = roadmap_inputs(&v);
    let weights = RoadmapWeights::default();
    c.bench_function("roadmap: score and rank every feature", |b| {
        b.iter(|| {
            let mut scored: Vec<(usize, f64)> = black_box(&inputs)
                .iter()
                .map(|(f, input)| (*f, weights.score(input, today()).score))
                .collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            scored
        })
    });
    c.bench_function(
        "roadmap: assemble inputs from commitments, then score",
        |b| {
            b.iter(|| {
                commitment_inputs(black_box(&v))
                    .values()
                    .map(|input| weights.score(input, today()).score)
                    .sum::<f64>()
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
