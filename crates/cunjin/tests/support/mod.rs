//! What the reliability tests share: the real `cunjin serve` in a child process, an API token,
//! a command that must work, and one write through the API, with what came back.

#![allow(dead_code)] // Each test file uses a part of it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const PASSWORD: &str = "reliability-test-password";

/// A running `cunjin serve`; killed when dropped. Its standard error goes to `log`.
pub struct Server {
    child: Child,
    pub base: String,
    pub log: std::path::PathBuf,
}

impl Server {
    pub fn start(db: &str, log: std::path::PathBuf) -> Server {
        let err = std::fs::File::create(&log).expect("the server's log can be written");
        let mut child = Command::new(env!("CARGO_BIN_EXE_cunjin"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("CUNJIN_DB", db)
            .env("CUNJIN_ADMIN_PASSWORD", PASSWORD)
            .env("CUNJIN_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .expect("cunjin serve starts");
        let mut out = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        let base = loop {
            line.clear();
            assert!(
                out.read_line(&mut line).expect("stdout is readable") > 0,
                "serve exited before listening; its log: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            if let Some(rest) = line.split("running at ").nth(1) {
                let url = rest.split_whitespace().next().expect("an address");
                break url.trim_end_matches('/').to_string();
            }
        };
        // Keep draining stdout so that the server never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        Server { child, base, log }
    }

    /// Whether the process is still running (it did not exit or panic out).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// What the server logged.
    pub fn logged(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the process: std's kill is SIGKILL on Unix (no shutdown hook, no flush, no goodbye).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Logs in and returns an API token.
pub async fn token(base: &str) -> String {
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = c
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "admin@localhost", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "login: {}", r.status());
    let csrf = r.headers()["x-csrf-token"].to_str().unwrap().to_string();
    let r = c
        .post(format!("{base}/api/v1/tokens"))
        .header("x-csrf-token", csrf)
        .json(&json!({"name": "reliability test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Runs a command that the test cannot go on without; panics with its output if it fails or
/// is not installed (these tests never skip).
pub fn must(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("`{program}` cannot be run ({e}); this test needs it and does not skip")
        });
    assert!(
        out.status.success(),
        "`{program} {}` failed ({}): {}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Panics unless the test runs as root (it mounts file systems or makes PostgreSQL clusters).
pub fn must_be_root(what: &str) {
    let uid = must("id", &["-u"]);
    assert_eq!(
        uid.trim(),
        "0",
        "{what} needs root (it is run as uid {}); this test does not skip",
        uid.trim()
    );
}

/// One write through the API and how it ended.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub sent: Instant,
    pub answered: Instant,
    /// The HTTP status, or `None` when no answer came (connection error or client timeout).
    pub status: Option<u16>,
    /// The id of what was created, for a 2xx.
    pub id: Option<i64>,
    /// The unique word in its text.
    pub marker: String,
    /// For an error: its code, message and `Retry-After`.
    pub error: Option<(String, String, Option<String>)>,
}

/// Files a request whose text carries `marker` (plus `padding` to make it larger).
pub async fn file_request(
    c: &reqwest::Client,
    base: &str,
    token: &str,
    marker: String,
    padding: &str,
) -> Attempt {
    let sent = Instant::now();
    let body = json!({
        "text": format!("可靠性测试 {marker} 医保结算清单上传 {padding}"),
        "source_role": "implementation",
    });
    let answer = c
        .post(format!("{base}/api/v1/requests"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await;
    let mut attempt = Attempt {
        sent,
        answered: Instant::now(),
        status: None,
        id: None,
        marker,
        error: None,
    };
    let Ok(r) = answer else {
        return attempt;
    };
    let status = r.status().as_u16();
    let retry_after = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let v: Value = r.json().await.unwrap_or(Value::Null);
    attempt.answered = Instant::now();
    attempt.status = Some(status);
    if (200..300).contains(&status) {
        attempt.id = v["id"].as_i64();
    } else {
        attempt.error = Some((
            v["error"]["code"].as_str().unwrap_or_default().to_string(),
            v["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            retry_after,
        ));
    }
    attempt
}

/// Whether `message` says it in Chinese and in English.
pub fn bilingual(message: &str) -> bool {
    message
        .chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        && message.split_whitespace().filter(|w| w.is_ascii()).count() >= 3
}

/// Milliseconds between two instants, for the figures.
pub fn ms(from: Instant, to: Instant) -> u128 {
    to.saturating_duration_since(from).as_millis()
}

/// A client with a timeout: an answer slower than this counts as a hang.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder().timeout(timeout).build().unwrap()
}
