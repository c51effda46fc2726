//! PostgreSQL restarted under 50 concurrent writers of the real `cunjin serve`: no write that
//! was acknowledged is lost, the outage is answered with clear 503s (bilingual, with
//! `Retry-After`; no 500, no hang) and the server recovers by itself, without a restart.
//!
//! PostgreSQL only, by nature: SQLite is a file inside the server's own process, with no server
//! to restart (the rest of the suite runs every test on both engines; `disk_full.rs` is the
//! SQLite counterpart). The test makes its own cluster with `pg_createcluster` on a free port,
//! never touching the shared one on 5432, and drops it at the end, on failure too. It needs
//! root and Debian's postgresql-common; without them it fails, it does not skip. Figures:
//! docs/reliability.md.

mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{bilingual, client, file_request, ms, must, must_be_root, Attempt, Server};

/// Concurrent writers.
const WRITERS: usize = 50;
/// Acknowledged writes before PostgreSQL is stopped, and again after it is back.
const WRITES_EACH_SIDE: usize = 300;
/// How long PostgreSQL stays down: longer than the server waits for a connection (5 s), so
/// that requests made during the outage are answered, not held until it is over.
const OUTAGE: Duration = Duration::from_secs(8);
/// A client waiting longer than this for any answer counts it as a hang.
const HANG: Duration = Duration::from_secs(20);

/// A PostgreSQL cluster of this test; stopped and dropped when the test ends, however it ends.
struct Cluster {
    version: String,
    name: String,
    port: u16,
}

impl Cluster {
    fn create() -> Cluster {
        must_be_root("pg_createcluster");
        let versions = std::fs::read_dir("/usr/lib/postgresql").unwrap_or_else(|e| {
            panic!("no PostgreSQL server in /usr/lib/postgresql ({e}); install postgresql")
        });
        let version = versions
            .filter_map(|d| d.ok()?.file_name().into_string().ok())
            .filter(|v| v.parse::<u32>().is_ok())
            .max_by_key(|v| v.parse::<u32>().unwrap_or_default())
            .expect("a PostgreSQL version under /usr/lib/postgresql");
        let name = format!("cunjin_restart_{}", std::process::id());
        let port = free_port();
        // A leftover of a crashed run with the same process id would be in the way.
        let _ = std::process::Command::new("pg_dropcluster")
            .args(["--stop", &version, &name])
            .output();
        must(
            "pg_createcluster",
            &[
                "--port",
                &port.to_string(),
                "--start-conf",
                "manual",
                &version,
                &name,
            ],
        );
        let cluster = Cluster {
            version,
            name,
            port,
        };
        // Trust on the loopback only, like the shared test server, and a small footprint;
        // written before the first start (Debian's postgresql.conf includes conf.d).
        let etc = format!("/etc/postgresql/{}/{}", cluster.version, cluster.name);
        let write = |path: String, text: &str| {
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {path}: {e}"))
        };
        write(
            format!("{etc}/pg_hba.conf"),
            "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        );
        write(
            format!("{etc}/conf.d/cunjin-test.conf"),
            "listen_addresses = '127.0.0.1'\nmax_connections = 100\nshared_buffers = '16MB'\n",
        );
        cluster.ctl("start");
        cluster.psql("postgres", "CREATE DATABASE cunjin");
        cluster
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/cunjin", self.port)
    }

    /// `pg_ctlcluster VERSION NAME action`; returns when it is done (started, or stopped).
    fn ctl(&self, action: &str) {
        must(
            "pg_ctlcluster",
            &[
                "--skip-systemctl-redirect",
                &self.version,
                &self.name,
                action,
            ],
        );
    }

    fn psql(&self, db: &str, sql: &str) -> String {
        must(
            "psql",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-v",
                "ON_ERROR_STOP=1",
                "-AtqF",
                "|",
                "-c",
                sql,
            ],
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let out = std::process::Command::new("pg_dropcluster")
            .args(["--stop", &self.version, &self.name])
            .output();
        if !matches!(&out, Ok(o) if o.status.success()) {
            eprintln!(
                "warning: could not drop the test cluster {} {}: {out:?}",
                self.version, self.name
            );
        }
    }
}

/// A port from 55432 up that nothing listens on.
fn free_port() -> u16 {
    for _ in 0..100 {
        let port = 55432 + rand::random_range(0..5000u16);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port from 55432 up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restarted_under_50_writers_loses_no_acknowledged_write_and_answers_503() {
    let cluster = Cluster::create();
    let logs = std::env::temp_dir().join(format!("cunjin_restart_{}.log", std::process::id()));
    let mut server = Server::start(&cluster.url(), logs.clone());
    let token = support::token(&server.base).await;

    let attempts: Arc<Mutex<Vec<Attempt>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (base, token) = (server.base.clone(), token.clone());
            let (attempts, stop) = (attempts.clone(), stop.clone());
            tokio::spawn(async move {
                let c = client(HANG);
                for i in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let a = file_request(&c, &base, &token, format!("pgw{w}n{i}"), "").await;
                    let refused = a.status != Some(201);
                    attempts.lock().unwrap().push(a);
                    if refused {
                        // A client told to come back does not hammer the server.
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                }
            })
        })
        .collect();
    let acked = |attempts: &Arc<Mutex<Vec<Attempt>>>, after: Option<Instant>| {
        attempts
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.id.is_some() && after.is_none_or(|t| a.sent >= t))
            .count()
    };
    let started = Instant::now();
    while acked(&attempts, None) < WRITES_EACH_SIDE {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the writers made no progress"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let stopping = Instant::now();
    cluster.ctl("stop");
    let stopped = Instant::now();
    tokio::time::sleep(OUTAGE).await;
    let starting = Instant::now();
    cluster.ctl("start");
    let up = Instant::now();
    while acked(&attempts, Some(up)) < WRITES_EACH_SIDE {
        assert!(
            up.elapsed() < Duration::from_secs(60),
            "the server did not recover after PostgreSQL came back"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    assert!(
        server.running(),
        "the server kept running: {}",
        server.logged()
    );

    let attempts = std::mem::take(&mut *attempts.lock().unwrap());
    let ok: Vec<&Attempt> = attempts.iter().filter(|a| a.id.is_some()).collect();
    let unavailable: Vec<&Attempt> = attempts.iter().filter(|a| a.status == Some(503)).collect();
    let other: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.id.is_none() && a.status != Some(503))
        .collect();
    // Every attempt was answered, with its write or with a clear 503.
    assert!(
        other.is_empty(),
        "answers other than 201 and 503: {other:#?}"
    );
    assert!(!unavailable.is_empty(), "the outage was answered with 503s");
    for a in &unavailable {
        let (code, message, retry_after) = a.error.clone().unwrap_or_default();
        assert!(code.starts_with("database_"), "{a:?}");
        assert!(
            bilingual(&message),
            "a message in both languages: {message}"
        );
        assert!(retry_after.is_some(), "a 503 says when to try again: {a:?}");
    }
    let slowest_503 = unavailable
        .iter()
        .map(|a| a.answered.duration_since(a.sent))
        .max()
        .unwrap_or_default();
    assert!(slowest_503 < HANG, "no hang: {slowest_503:?}");

    // Every acknowledged write is in the database, whole; besides them only writes that were in
    // flight when PostgreSQL stopped, committed but answered 503 (their answer was lost).
    let stored: std::collections::HashMap<i64, String> = cluster
        .psql("cunjin", "SELECT id, text FROM requests")
        .lines()
        .filter_map(|l| {
            let (id, text) = l.split_once('|')?;
            Some((id.parse().ok()?, text.to_string()))
        })
        .collect();
    let lost: Vec<&&Attempt> = ok
        .iter()
        .filter(|a| {
            stored
                .get(&a.id.unwrap_or_default())
                .is_none_or(|t| t.split_whitespace().nth(1) != Some(a.marker.as_str()))
        })
        .collect();
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:#?}");
    let unacknowledged = stored.len() - ok.len();
    assert!(
        unacknowledged <= WRITERS,
        "{unacknowledged} stored writes were never acknowledged"
    );

    // Recovery: from PostgreSQL accepting connections again to the first write acknowledged
    // that was sent after it.
    let first_after = ok
        .iter()
        .filter(|a| a.sent >= up)
        .map(|a| a.answered)
        .min()
        .expect("writes after the restart");
    let during: Vec<&&Attempt> = unavailable
        .iter()
        .filter(|a| a.sent >= stopped && a.sent < starting)
        .collect();
    println!(
        "FIGURES pg_restart: writers={WRITERS} attempts={} acknowledged={} lost={} \
         stored_unacknowledged={unacknowledged} answered_503={} (sent during the outage: {}) \
         other_answers={} slowest_503_ms={} stop_ms={} outage_ms={} start_ms={} \
         recovery_after_start_ms={} first_503_after_stop_ms={}",
        attempts.len(),
        ok.len(),
        lost.len(),
        unavailable.len(),
        during.len(),
        other.len(),
        slowest_503.as_millis(),
        ms(stopping, stopped),
        ms(stopping, up),
        ms(starting, up),
        ms(up, first_after),
        unavailable
            .iter()
            .map(|a| ms(stopping, a.answered))
            .min()
            .unwrap_or_default(),
    );
    assert!(
        first_after.duration_since(up) < Duration::from_secs(10),
        "the server recovered within 10 s of PostgreSQL coming back"
    );
    drop(server);
    let _ = std::fs::remove_file(PathBuf::from(&logs));
}
