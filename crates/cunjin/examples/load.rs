//! A mixed read/write load against a running `cunjin serve`: N concurrent clients for S seconds,
//! counting answers by class (2xx/4xx/5xx, dropped), keeping the id of every acknowledged write
//! and checking afterwards, through the API, that each one is stored.
//!
//! ```sh
//! cargo run --release -p cunjin --example load -- --base http://127.0.0.1:8080 --token TOKEN \
//!     --clients 200 --seconds 60
//! ```
//!
//! Exit status 0 when there was no 5xx, no dropped connection and no lost write. Latencies are
//! printed (p50/p95/p99 per kind of call), never asserted. Used by scripts/bench-server.sh.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

#[derive(Parser, Debug)]
struct Args {
    /// The server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    base: String,
    /// An API token (POST /api/v1/tokens) of an admin or pm.
    #[arg(long)]
    token: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 200)]
    clients: usize,
    /// How long.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Per-call timeout in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

/// The calls of the mix and their shares (out of 100).
const MIX: &[(&str, u32)] = &[
    ("search", 30),
    ("request", 10),
    ("customer_gap", 10),
    ("customer_page", 8),
    ("gap", 3),
    ("roadmap", 1),
    ("dashboard", 1),
    ("create_request", 22),
    ("create_time_entry", 15),
];

const QUERIES: &[&str] = &[
    "病历",
    "医保",
    "排班",
    "DRG 分组",
    "结算清单 上传",
    "excel",
    "危急值",
    "患者360视图",
    "single sign-on",
    "门诊医生站 医保 上传",
];

#[derive(Default)]
struct Tally {
    /// Latencies per kind.
    times: BTreeMap<&'static str, Vec<Duration>>,
    /// Answers per (kind, class).
    classes: BTreeMap<(&'static str, &'static str), u64>,
    /// Acknowledged requests: (id, the unique word of its text).
    requests: Vec<(i64, String)>,
    /// Acknowledged time entries, per person: (id, note).
    time_entries: BTreeMap<String, Vec<(i64, String)>>,
    /// A sample of failures.
    samples: Vec<String>,
}

fn class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

fn pick(rng: &mut StdRng) -> &'static str {
    let mut x = rng.random_range(0..MIX.iter().map(|m| m.1).sum::<u32>());
    for (kind, share) in MIX {
        if x < *share {
            return kind;
        }
        x -= share;
    }
    MIX[0].0
}

#[allow(clippy::too_many_arguments)]
async fn client(
    n: usize,
    run: String,
    args: Arc<Args>,
    http: reqwest::Client,
    customers: Arc<Vec<i64>>,
    request_ids: Arc<Vec<i64>>,
    tally: Arc<Mutex<Tally>>,
    until: Instant,
) {
    let mut rng = StdRng::seed_from_u64(n as u64);
    let person = format!("load-{run}-{n}@bench.local");
    let mut i = 0u64;
    while Instant::now() < until {
        i += 1;
        let kind = pick(&mut rng);
        let base = &args.base;
        let customer = customers[rng.random_range(0..customers.len())];
        let marker = format!("load{run}c{n}n{i}");
        let req = match kind {
            "search" => http.get(format!("{base}/api/v1/requests")).query(&[
                ("q", QUERIES[rng.random_range(0..QUERIES.len())]),
                ("limit", "50"),
            ]),
            "request" => http.get(format!(
                "{base}/api/v1/requests/{}",
                request_ids[rng.random_range(0..request_ids.len())]
            )),
            "customer_gap" => http.get(format!("{base}/api/v1/customers/{customer}/gap")),
            "customer_page" => http.get(format!("{base}/customers/{customer}")),
            "gap" => http.get(format!("{base}/api/v1/gap")),
            "roadmap" => http.get(format!("{base}/api/v1/roadmap")),
            "dashboard" => http.get(format!("{base}/")),
            "create_request" => http.post(format!("{base}/api/v1/requests")).json(&json!({
                "text": format!("压测需求 {marker} 希望门诊医生站批量导出"),
                "source_role": "implementation",
                "customer_id": customer,
            })),
            _ => http
                .post(format!("{base}/api/v1/time-entries"))
                .json(&json!({
                    "person": person,
                    "hat": "implementation",
                    "minutes": 1 + i % 120,
                    "note": marker,
                })),
        };
        let t = Instant::now();
        let answer = req.bearer_auth(&args.token).send().await;
        let (status, body) = match answer {
            Ok(r) => {
                let status = r.status().as_u16();
                (Some(status), r.bytes().await.ok())
            }
            Err(e) => {
                let mut t = tally.lock().unwrap();
                *t.classes.entry((kind, "dropped")).or_default() += 1;
                if t.samples.len() < 20 {
                    t.samples.push(format!("{kind}: {e}"));
                }
                continue;
            }
        };
        let elapsed = t.elapsed();
        let mut t = tally.lock().unwrap();
        t.times.entry(kind).or_default().push(elapsed);
        let status = status.unwrap_or(0);
        *t.classes.entry((kind, class(status))).or_default() += 1;
        if !(200..300).contains(&status) {
            if t.samples.len() < 20 {
                t.samples.push(format!(
                    "{kind}: {status} {}",
                    String::from_utf8_lossy(body.as_deref().unwrap_or_default())
                ));
            }
            continue;
        }
        if kind.starts_with("create") {
            let id = body
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|v| v["id"].as_i64());
            match (kind, id) {
                ("create_request", Some(id)) => t.requests.push((id, marker)),
                (_, Some(id)) => t
                    .time_entries
                    .entry(person.clone())
                    .or_default()
                    .push((id, marker)),
                (_, None) => t.samples.push(format!("{kind}: 2xx without an id")),
            }
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() -> Result<std::process::ExitCode, Box<dyn std::error::Error>> {
    let args = Arc::new(Args::parse());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout))
        .pool_max_idle_per_host(args.clients)
        .build()?;
    let get = |path: String| {
        let (http, args) = (http.clone(), args.clone());
        async move {
            let r = http
                .get(format!("{}{path}", args.base))
                .bearer_auth(&args.token)
                .send()
                .await?
                .error_for_status()?;
            r.json::<Value>().await
        }
    };
    let customers: Vec<i64> = get("/api/v1/customers".into())
        .await?
        .as_array()
        .ok_or("customers: not a list")?
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect();
    let request_ids: Vec<i64> = get("/api/v1/requests?limit=5000".into())
        .await?
        .as_array()
        .ok_or("requests: not a list")?
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect();
    if customers.is_empty() || request_ids.is_empty() {
        return Err("the workspace needs customers and requests (cunjin generate)".into());
    }
    let run = format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs()
    );
    eprintln!(
        "load: {} clients for {} s against {} ({} customers)",
        args.clients,
        args.seconds,
        args.base,
        customers.len()
    );
    let tally = Arc::new(Mutex::new(Tally::default()));
    let (customers, request_ids) = (Arc::new(customers), Arc::new(request_ids));
    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let tasks: Vec<_> = (0..args.clients)
        .map(|n| {
            tokio::spawn(client(
                n,
                run.clone(),
                args.clone(),
                http.clone(),
                customers.clone(),
                request_ids.clone(),
                tally.clone(),
                until,
            ))
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    let wall = started.elapsed().as_secs_f64();
    let mut tally = std::mem::take(&mut *tally.lock().unwrap());

    // Every acknowledged write must be stored.
    let mut lost = 0usize;
    let mut checked = 0usize;
    let requests = std::mem::take(&mut tally.requests);
    for chunk in requests.chunks(50) {
        let checks = chunk.iter().map(|(id, marker)| {
            let get = get(format!("/api/v1/requests/{id}"));
            let marker = marker.clone();
            async move {
                match get.await {
                    Ok(v) => v["text"].as_str().is_some_and(|t| t.contains(&marker)),
                    Err(_) => false,
                }
            }
        });
        for ok in futures_join_all(checks).await {
            checked += 1;
            lost += usize::from(!ok);
        }
    }
    for (person, entries) in &tally.time_entries {
        let stored = get(format!(
            "/api/v1/time-entries?person={person}&limit=5000&from=2000-01-01"
        ))
        .await?;
        let stored: HashSet<(i64, String)> = stored
            .as_array()
            .ok_or("time entries: not a list")?
            .iter()
            .filter_map(|e| Some((e["id"].as_i64()?, e["note"].as_str()?.to_string())))
            .collect();
        for e in entries {
            checked += 1;
            lost += usize::from(!stored.contains(e));
        }
    }

    let mut total = 0u64;
    let mut by_class: BTreeMap<&str, u64> = BTreeMap::new();
    for ((_, c), n) in &tally.classes {
        total += n;
        *by_class.entry(c).or_default() += n;
    }
    println!(
        "{total} calls in {wall:.1} s ({:.0}/s) by {} clients",
        total as f64 / wall,
        args.clients
    );
    println!(
        "{:<18} {:>7} {:>7} {:>6} {:>6} {:>8} {:>9} {:>9} {:>9}",
        "kind", "calls", "2xx", "4xx", "5xx", "dropped", "p50 ms", "p95 ms", "p99 ms"
    );
    for (kind, _) in MIX {
        let mut times = tally.times.remove(kind).unwrap_or_default();
        times.sort();
        let n = |c: &str| tally.classes.get(&(*kind, c)).copied().unwrap_or(0);
        println!(
            "{:<18} {:>7} {:>7} {:>6} {:>6} {:>8} {:>9.1} {:>9.1} {:>9.1}",
            kind,
            n("2xx") + n("3xx") + n("4xx") + n("5xx") + n("dropped"),
            n("2xx"),
            n("4xx"),
            n("5xx"),
            n("dropped"),
            percentile(&times, 0.50),
            percentile(&times, 0.95),
            percentile(&times, 0.99),
        );
    }
    let errors5 = by_class.get("5xx").copied().unwrap_or(0);
    let dropped = by_class.get("dropped").copied().unwrap_or(0);
    println!(
        "acknowledged writes: {checked}, found after the run: {}, lost: {lost}; 5xx: {errors5}; dropped: {dropped}",
        checked - lost
    );
    for s in &tally.samples {
        println!("  e.g. {s}");
    }
    Ok(if errors5 == 0 && dropped == 0 && lost == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

/// Awaits every future, in order (a tiny join_all, not worth a dependency).
async fn futures_join_all<F>(fs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("a check does not panic"));
    }
    out
}
