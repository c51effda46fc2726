//! How long delivery and progress take at scale: a release whose feature is promised to every
//! customer (one snapshot refresh per customer in its transaction), a delivery to many customers,
//! and the dashboard's eight-week history and week progress over every customer's snapshots.
//!
//! `cargo run --release -p cunjin-store --example delivery_bench -- [sqlite|postgres] [CUSTOMERS]`
//! Figures are written down in docs/benchmarks-delivery.md; nothing here asserts a time.

use std::time::Instant;

use chrono::Days;
use cunjin_core::{Gap, MenuPath, Stage};
use cunjin_store::delivery::releases::NewRelease;
use cunjin_store::ledger::catalogue::NewFeature;
use cunjin_store::ledger::commitments::{FeatureRef, NewCommitment};
use cunjin_store::testing::{TestDb, TestEngine};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let engine = match args.next().as_deref() {
        Some("postgres") => TestEngine::Postgres,
        _ => TestEngine::Sqlite,
    };
    let customers: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let per_customer = 5;
    let days = 56u64;
    let db = TestDb::new(engine).await?;
    let store = db.store().await?;
    let ws = store.create_workspace("bench").await?.id;
    let product = store.create_product(ws, "电子病历 EMR").await?;
    let mut features = Vec::new();
    for i in 0..per_customer {
        let f = store
            .create_feature(
                ws,
                "bench",
                NewFeature {
                    product_id: product.id,
                    menu_path: MenuPath::parse(&format!("住院医生站/功能{i}"))?,
                    title: None,
                    stage: Stage::Designed,
                    effort_days: None,
                    target_release: None,
                    slide_url: None,
                    recording_url: None,
                },
            )
            .await?;
        features.push(f.id);
    }
    let t = Instant::now();
    let mut ids = Vec::new();
    for c in 0..customers {
        let id = store
            .create_customer(ws, &format!("第{c}人民医院"), None)
            .await?
            .id
            .get();
        ids.push(id);
        for &f in &features {
            store
                .record_promise(
                    ws,
                    "bench",
                    NewCommitment {
                        customer_id: id,
                        deal_id: None,
                        feature: FeatureRef::Id(f),
                        shown_as: None,
                        promised_by: None,
                        promised_at: None,
                        due_date: None,
                        critical: false,
                        criteria: vec!["标准一".into(), "标准二".into()],
                    },
                )
                .await?;
        }
    }
    let n = customers * per_customer;
    println!(
        "{engine:?}: recorded {n} promises ({customers} customers) in {:.1?}: {:.2} ms per promise, snapshot included",
        t.elapsed(),
        t.elapsed().as_secs_f64() * 1000.0 / n as f64
    );
    let today = cunjin_store::today();
    let t = Instant::now();
    for &id in &ids {
        for d in 1..=days {
            let day = today.checked_sub_days(Days::new(d)).unwrap_or(today);
            store
                .put_gap_snapshot(
                    ws,
                    id,
                    day,
                    Gap {
                        chi: 15 + d / 4,
                        cun: 15 + d / 3,
                    },
                )
                .await?;
        }
    }
    println!(
        "{engine:?}: wrote {} past snapshots in {:.1?}",
        customers as u64 * days,
        t.elapsed()
    );

    if engine == TestEngine::Postgres {
        // A bulk load leaves the planner without statistics until autovacuum comes by; without
        // them PostgreSQL picks nested loops that take seconds. Production has them.
        use sqlx::{Connection, Executor};
        let mut conn = sqlx::AnyConnection::connect(&db.url).await?;
        conn.execute("ANALYZE").await?;
        conn.close().await?;
    }
    let t = Instant::now();
    let release = store
        .create_release(
            ws,
            "bench",
            NewRelease {
                version: "v1".into(),
                date: today,
                feature_ids: vec![features[0]],
            },
        )
        .await?;
    println!(
        "{engine:?}: release of a feature promised to all {customers} customers (stage change, audit, {customers} snapshots): {:.1?}",
        t.elapsed()
    );
    let batch: Vec<i64> = ids.iter().copied().take(200).collect();
    let t = Instant::now();
    let report = store
        .deliver_release(ws, "bench", release.id, &batch)
        .await?;
    println!(
        "{engine:?}: delivery to {} customers ({} commitments delivered and audited): {:.1?}",
        batch.len(),
        report.delivered.len(),
        t.elapsed()
    );
    let from = today.checked_sub_days(Days::new(days - 1)).unwrap_or(today);
    for _ in 0..2 {
        let t = Instant::now();
        let h = store.gap_history(ws, None, from, today).await?;
        println!(
            "{engine:?}: portfolio history, {} days over {customers} customers: {:.1?}",
            h.len(),
            t.elapsed()
        );
    }
    let t = Instant::now();
    let w = store.week_progress(ws, None, today).await?;
    println!(
        "{engine:?}: week progress over {customers} customers: {:.1?} (gained {:?})",
        t.elapsed(),
        w.gained
    );
    let t = Instant::now();
    store.gap_history(ws, Some(ids[0]), from, today).await?;
    println!("{engine:?}: one customer's history: {:.1?}", t.elapsed());
    let t = Instant::now();
    let shipped = store.shipped_for_customer(ws, ids[0], None).await?;
    println!(
        "{engine:?}: what shipped for one customer ({} release): {:.1?}",
        shipped.len(),
        t.elapsed()
    );
    Ok(())
}
