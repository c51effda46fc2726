//! How long a scheduled run of 2,000 probes takes (DESIGN.md's scale: 2,000 probes every five
//! minutes), against a local HTTP server, on SQLite and PostgreSQL: sending the probes with the
//! server's concurrency bound, keeping their runs, and reading the latest run of every probe.
//!
//! `cargo run --release -p cunjin-web --example probe_bench` (needs the test PostgreSQL).
//! Figures are written down in docs/demo-readiness.md; nothing here asserts a time.

use std::time::Instant;

use axum::routing::get;
use cunjin_store::demos::environments::{NewEnvironment, NewProbe};
use cunjin_store::testing::{TestDb, TestEngine};
use cunjin_web::probing::Prober;
use cunjin_web::readiness::check_environment;

const PROBES: usize = 2000;

#[tokio::main]
async fn main() {
    let app = axum::Router::new().route(
        "/ok",
        get(|| async { r#"{"status":"ok","patient":"张三"}"# }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    for engine in [TestEngine::Sqlite, TestEngine::Postgres] {
        let db = TestDb::new(engine).await.unwrap();
        let store = db.store().await.unwrap();
        let ws = store.create_workspace("bench").await.unwrap().id;
        let env = store
            .create_environment(
                ws,
                NewEnvironment {
                    name: "bench".into(),
                    base_url: base.clone(),
                    headers: [("X-Demo-Token".to_string(), "t".to_string())].into(),
                    interval_s: None,
                },
            )
            .await
            .unwrap();
        let t = Instant::now();
        for i in 0..PROBES {
            store
                .create_probe(
                    ws,
                    NewProbe {
                        environment_id: env.id,
                        dataset: Some(format!("数据集 {i}")),
                        path: "/ok".into(),
                        expect_body: Some("ok".into()),
                        json_pointer: Some("/patient".into()),
                        json_value: Some("张三".into()),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
        println!("{engine:?}: created {PROBES} probes in {:.2?}", t.elapsed());
        for concurrency in [16, 64] {
            let prober = Prober::new(concurrency);
            for round in 1..=3 {
                let t = Instant::now();
                let c = check_environment(&store, &prober, ws, env.id)
                    .await
                    .unwrap();
                assert_eq!(c.passed, PROBES);
                println!(
                    "{engine:?}: concurrency {concurrency}, run {round}: {PROBES} probes sent, checked and kept in {:.2?}",
                    t.elapsed()
                );
            }
        }
        let t = Instant::now();
        let listed = store.list_probes(ws, Some(env.id)).await.unwrap();
        assert!(listed.iter().all(|p| p.last_run.is_some()));
        println!(
            "{engine:?}: listed {} probes with their latest run (6 runs each kept) in {:.2?}",
            listed.len(),
            t.elapsed()
        );
        let t = Instant::now();
        let deleted = store.delete_probe_runs_older_than(0).await.unwrap();
        println!(
            "{engine:?}: retention deleted {deleted} runs in {:.2?}",
            t.elapsed()
        );
        store.close().await;
    }
}
