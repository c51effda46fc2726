//! SQLite on a full disk under the real `cunjin serve`: once the disk is full, writes are
//! refused with a clear 507 (bilingual; no 500, no panic), reads go on, the file stays sound
//! (`PRAGMA integrity_check`), and once space is freed writes work again without a restart.
//!
//! SQLite only, by nature: the database file sits on a small tmpfs the test mounts (PostgreSQL
//! keeps its files in its own cluster; `pg_restart.rs` is its counterpart). It needs root to
//! mount; without it the test fails, it does not skip. The tmpfs is unmounted at the end, on
//! failure too. Figures: docs/reliability.md.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use support::{bilingual, client, file_request, ms, must, must_be_root, Attempt, Server};

/// Size of the tmpfs.
const DISK: &str = "8m";
/// Space left free by the filler file before the writes start.
const LEFT_FREE: u64 = 1 << 20;
/// Refusals in a row after which the disk counts as full.
const REFUSALS_IN_A_ROW: usize = 20;
/// Writes after the space is freed that must all succeed.
const WRITES_AFTER: usize = 50;

/// A tmpfs mounted for this test; unmounted and removed when the test ends, however it ends.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount() -> Tmpfs {
        must_be_root("mounting a tmpfs");
        let dir = std::env::temp_dir().join(format!("cunjin_full_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.to_str().expect("a UTF-8 path");
        must(
            "mount",
            &["-t", "tmpfs", "-o", &format!("size={DISK}"), "tmpfs", path],
        );
        Tmpfs { dir }
    }

    /// Bytes free on it.
    fn available(&self) -> u64 {
        let out = must(
            "df",
            &[
                "-B1",
                "--output=avail",
                self.dir.to_str().unwrap_or_default(),
            ],
        );
        out.lines()
            .filter_map(|l| l.trim().parse().ok())
            .next()
            .expect("df prints the free bytes")
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let path = self.dir.to_string_lossy().into_owned();
        let unmounted = std::process::Command::new("umount")
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success())
            || std::process::Command::new("umount")
                .args(["-l", &path])
                .status()
                .is_ok_and(|s| s.success());
        if !unmounted {
            eprintln!("warning: could not unmount the test tmpfs {path}");
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Writes `bytes` of zeros to `path`, stopping quietly when the disk is full.
fn fill(path: &Path, bytes: u64) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).expect("the filler can be created");
    let block = vec![0u8; 64 * 1024];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        if f.write_all(&block[..n]).is_err() {
            break;
        }
        left -= n as u64;
    }
    let _ = f.sync_all();
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_on_a_full_disk_refuses_writes_with_507_keeps_reading_and_recovers() {
    let disk = Tmpfs::mount();
    let db = disk.dir.join("cunjin.db");
    let log = std::env::temp_dir().join(format!("cunjin_full_{}.log", std::process::id()));
    let mut server = Server::start(&db.to_string_lossy(), log.clone());
    let token = support::token(&server.base).await;
    let c = client(Duration::from_secs(20));
    // 1,500 characters, most of them three bytes in UTF-8: each request is some kilobytes
    // with its search terms.
    let padding = "门诊电子病历结构化模板打印导出".repeat(100);

    let filler = disk.dir.join("filler");
    fill(&filler, disk.available().saturating_sub(LEFT_FREE));

    let mut acked: Vec<Attempt> = Vec::new();
    let mut refused: Vec<Attempt> = Vec::new();
    let mut in_a_row = 0;
    let mut n = 0;
    while in_a_row < REFUSALS_IN_A_ROW {
        assert!(
            n < 5000,
            "the disk never filled up: {} written, {} refused ({:?}…), {} bytes free",
            acked.len(),
            refused.len(),
            refused.first(),
            disk.available()
        );
        let a = file_request(&c, &server.base, &token, format!("fullw{n}"), &padding).await;
        n += 1;
        if a.status == Some(201) {
            in_a_row = 0;
            acked.push(a);
        } else {
            in_a_row += 1;
            refused.push(a);
        }
    }
    let files_at_full =
        size(&db) + size(&disk.dir.join("cunjin.db-wal")) + size(&disk.dir.join("cunjin.db-shm"));
    let free_at_full = disk.available();
    assert!(
        !acked.is_empty(),
        "some writes fitted before the disk was full"
    );
    for a in &refused {
        let (code, message, _) = a.error.clone().unwrap_or_default();
        assert_eq!(a.status, Some(507), "a full disk is answered 507: {a:?}");
        assert_eq!(code, "storage_full", "{a:?}");
        assert!(
            bilingual(&message),
            "a message in both languages: {message}"
        );
    }

    // Reads go on: a list, one request, a search, the health check, the web UI's login page.
    let get = |path: String| {
        let (c, base, token) = (c.clone(), server.base.clone(), token.clone());
        async move {
            let r = c
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("an answer");
            (r.status(), r.text().await.unwrap_or_default())
        }
    };
    let last = acked.last().expect("an acknowledged write");
    let (status, _) = get("/api/v1/requests?limit=50".into()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = get(format!("/api/v1/requests/{}", last.id.unwrap_or_default())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = get(format!("/api/v1/requests?q={}", last.marker)).await;
    assert_eq!(status, StatusCode::OK);
    let found: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(get("/healthz".into()).await.0, StatusCode::OK);
    assert_eq!(get("/login".into()).await.0, StatusCode::OK);

    let integrity = |when: &'static str| {
        let url = db.to_string_lossy().into_owned();
        async move {
            let store = cunjin_store::Store::connect(&url).await.unwrap();
            let check = cunjin_store::testing::integrity_check(&store)
                .await
                .unwrap();
            store.close().await;
            assert_eq!(check.as_deref(), Some("ok"), "integrity {when}");
        }
    };
    integrity("at full disk").await;

    // Space is freed: writes work again, in the same server.
    let freed = Instant::now();
    std::fs::remove_file(&filler).unwrap();
    let mut retries = 0;
    let first = loop {
        let a = file_request(
            &c,
            &server.base,
            &token,
            format!("freedw{retries}"),
            &padding,
        )
        .await;
        if a.status == Some(201) {
            break a;
        }
        retries += 1;
        assert!(
            freed.elapsed() < Duration::from_secs(10),
            "writes work again after space is freed: {a:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let recovery = ms(freed, first.answered);
    acked.push(first);
    for i in 0..WRITES_AFTER {
        let a = file_request(&c, &server.base, &token, format!("afterw{i}"), &padding).await;
        assert_eq!(a.status, Some(201), "{a:?}");
        acked.push(a);
    }
    for a in &acked {
        let (status, body) = get(format!("/api/v1/requests/{}", a.id.unwrap_or_default())).await;
        assert_eq!(status, StatusCode::OK, "acknowledged write {a:?} is there");
        assert!(body.contains(&a.marker), "{body}");
    }
    integrity("after space was freed").await;
    assert!(server.running(), "the server kept running");
    let logged = server.logged();
    assert!(!logged.contains("panicked"), "no panic: {logged}");

    println!(
        "FIGURES disk_full: disk={DISK} acknowledged_before_full={} refused_507={} other_refusals=0 \
         database_files_at_full_bytes={files_at_full} free_at_full_bytes={free_at_full} \
         retries_after_freeing={retries} recovery_ms={recovery} acknowledged_total={} lost=0",
        acked.len() - 1 - WRITES_AFTER,
        refused.len(),
        acked.len(),
    );
    drop(server);
    let _ = std::fs::remove_file(&log);
}
