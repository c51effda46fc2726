//! Crash safety of the real `cunjin serve`, on SQLite and PostgreSQL: writers file requests and
//! time entries through the API, the server is killed with SIGKILL in the middle, restarted on
//! the same database, and every write it had acknowledged must be there, whole (a request can
//! still be found by a word of its text, so its search terms were committed with it).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cunjin_store::testing::{row_counts, TestDb, TestEngine};
use serde_json::{json, Value};
use support::{token, Server};

const WRITERS: usize = 8;
/// Acknowledged writes to wait for before the kill.
const WRITES_BEFORE_KILL: usize = 200;

#[derive(Default)]
struct Acknowledged {
    /// (request id, the unique word in its text).
    requests: Vec<(i64, String)>,
    /// (time entry id, its note).
    time_entries: Vec<(i64, String)>,
    /// Answers that were neither 2xx nor a dropped connection.
    failures: Vec<String>,
}

async fn writer(
    base: String,
    token: String,
    w: usize,
    acked: Arc<Mutex<Acknowledged>>,
    total: Arc<AtomicUsize>,
) {
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    for i in 0.. {
        let marker = format!("crashw{w}n{i}");
        let (url, body) = if i % 2 == 0 {
            (
                format!("{base}/api/v1/requests"),
                json!({"text": format!("崩溃恢复测试 {marker} 医保结算清单上传"), "source_role": "implementation"}),
            )
        } else {
            (
                format!("{base}/api/v1/time-entries"),
                json!({"hat": "implementation", "minutes": 1 + i % 60, "note": marker}),
            )
        };
        let answer = c.post(url).bearer_auth(&token).json(&body).send().await;
        let r = match answer {
            Ok(r) => r,
            // The server is gone: this write may or may not have been committed, and nobody
            // was told it was.
            Err(_) => return,
        };
        let status = r.status();
        let Ok(v) = r.json::<Value>().await else {
            return;
        };
        let mut a = acked.lock().unwrap();
        if status.is_success() {
            let id = v["id"].as_i64().expect("an id");
            if i % 2 == 0 {
                a.requests.push((id, marker));
            } else {
                a.time_entries.push((id, marker));
            }
            total.fetch_add(1, Ordering::SeqCst);
        } else {
            a.failures.push(format!("{status}: {v}"));
        }
    }
}

async fn killed_mid_write_loses_nothing(db: TestDb, engine: &str) {
    let log =
        std::env::temp_dir().join(format!("cunjin-crash-{engine}-{}.log", std::process::id()));
    let mut server = Server::start(&db.url, log.clone());
    // Tokens live in the database, so this one survives the restart.
    let token = token(&server.base).await;
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let total = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            tokio::spawn(writer(
                server.base.clone(),
                token.clone(),
                w,
                acked.clone(),
                total.clone(),
            ))
        })
        .collect();
    let started = Instant::now();
    while total.load(Ordering::SeqCst) < WRITES_BEFORE_KILL {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the writers made no progress"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    for w in writers {
        w.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(acked.failures.is_empty(), "{:?}", acked.failures);
    assert!(acked.requests.len() + acked.time_entries.len() >= WRITES_BEFORE_KILL);

    let server = Server::start(&db.url, log);
    let c = reqwest::Client::new();
    let get = |path: String| {
        let c = c.clone();
        let (base, token) = (server.base.clone(), token.clone());
        async move {
            let r = c
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    for (id, marker) in &acked.requests {
        let (status, r) = get(format!("/api/v1/requests/{id}")).await;
        assert_eq!(status, 200, "acknowledged request {id} is there");
        assert!(r["text"].as_str().unwrap().contains(marker.as_str()));
        // Its search terms were committed with it.
        let (status, found) = get(format!("/api/v1/requests?q={marker}")).await;
        assert_eq!(status, 200);
        let ids: Vec<i64> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, vec![*id], "searching {marker}");
    }
    let (status, entries) = get("/api/v1/time-entries?limit=5000".into()).await;
    assert_eq!(status, 200);
    let stored: std::collections::HashMap<i64, String> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_i64().unwrap(),
                e["note"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (id, note) in &acked.time_entries {
        assert_eq!(
            stored.get(id),
            Some(note),
            "acknowledged time entry {id} is there"
        );
    }
    // Nothing beyond what was acknowledged, but the writes in flight at the kill (at most one
    // per writer), which may have been committed without an answer.
    let counts = row_counts(&db.store().await.unwrap()).await.unwrap();
    let requests = counts["requests"] as usize;
    let time_entries = counts["time_entries"] as usize;
    assert!(
        (acked.requests.len()..=acked.requests.len() + WRITERS).contains(&requests),
        "{requests} requests stored, {} acknowledged",
        acked.requests.len()
    );
    assert!(
        (acked.time_entries.len()..=acked.time_entries.len() + WRITERS).contains(&time_entries),
        "{time_entries} time entries stored, {} acknowledged",
        acked.time_entries.len()
    );
    // A request that was in flight is whole or absent: every stored request is found by its word.
    let (_, all) = get("/api/v1/requests?limit=1000".into()).await;
    for r in all.as_array().unwrap() {
        let text = r["text"].as_str().unwrap();
        let marker = text.split_whitespace().nth(1).unwrap();
        let (_, found) = get(format!("/api/v1/requests?q={marker}")).await;
        assert_eq!(found.as_array().unwrap().len(), 1, "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_kill_9_mid_write_loses_no_acknowledged_write() {
    killed_mid_write_loses_nothing(TestDb::new(TestEngine::Sqlite).await.unwrap(), "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_kill_9_mid_write_loses_no_acknowledged_write() {
    killed_mid_write_loses_nothing(TestDb::new(TestEngine::Postgres).await.unwrap(), "postgres")
        .await;
}
