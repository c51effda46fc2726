//! The background jobs of `cunjin serve`: scheduled probe runs per environment, the automatic
//! readiness checks 24 h and 1 h before each demo, the retention of probe history, and
//! notifications: sending the outbox, and the hourly scan for commitments coming due (催办) and
//! for the weekly digest; and the search terms of imported requests (the search backlog).
//!
//! Several instances may share one PostgreSQL database. Each due run is claimed with a
//! compare-and-set UPDATE (see `Store::claim_environment_run` and `Store::claim_demo_check`):
//! only the instance whose UPDATE changed the row runs it, so every run happens once.

use std::time::{Duration, Instant};

use cunjin_store::demos::environments::DueRun;
use cunjin_store::demos::DueCheck;
use cunjin_store::Store;
use tracing::Instrument;

use crate::notify::{self, DispatchReport, Dispatcher};
use crate::probing::Prober;
use crate::readiness::{check_demo, check_environment};

/// Settings of the background jobs.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// How often to look for due work.
    pub tick: Duration,
    /// Probes running at once, across all jobs of this instance.
    pub concurrency: usize,
    /// Longest one environment run or demo check may take.
    pub job_timeout: Duration,
    /// Probe runs, and sent or given-up notifications, older than this many days are deleted.
    pub retention_days: u32,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            tick: Duration::from_secs(5),
            // 2,000 probes that all time out after 5 s take 2000 / 64 × 5 s ≈ 156 s: within
            // one 5-minute interval and within the job timeout (docs/demo-readiness.md).
            concurrency: 64,
            job_timeout: Duration::from_secs(300),
            retention_days: 90,
        }
    }
}

/// What one pass of the scheduler did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Environment runs this instance claimed and ran.
    pub environment_runs: usize,
    /// Demo checks this instance claimed and ran.
    pub demo_checks: usize,
}

/// One pass: claims and runs every due environment run and demo check, concurrently, each
/// within the job timeout.
pub async fn tick(store: &Store, prober: &Prober, config: &SchedulerConfig) -> TickReport {
    let mut report = TickReport::default();
    let now = chrono::Utc::now();
    let mut jobs = tokio::task::JoinSet::new();
    match store
        .due_environment_runs(&cunjin_store::stored_time(now), 200)
        .await
    {
        Ok(due) => {
            for d in due {
                match store.claim_environment_run(&d).await {
                    Ok(true) => {
                        report.environment_runs += 1;
                        let (store, prober, timeout) =
                            (store.clone(), prober.clone(), config.job_timeout);
                        let span = tracing::info_span!(
                            "probe_run",
                            environment = d.environment_id,
                            workspace = d.workspace_id
                        );
                        jobs.spawn(environment_job(store, prober, d, timeout).instrument(span));
                    }
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "could not claim a probe run"),
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not look for due probe runs"),
    }
    match store.due_demo_checks(now).await {
        Ok(due) => {
            for d in due {
                match store.claim_demo_check(&d).await {
                    Ok(true) => {
                        report.demo_checks += 1;
                        let (store, prober, timeout) =
                            (store.clone(), prober.clone(), config.job_timeout);
                        let span = tracing::info_span!(
                            "demo_check",
                            demo = d.demo_id,
                            window = d.window.as_str()
                        );
                        jobs.spawn(demo_job(store, prober, d, timeout).instrument(span));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not claim a demo check"),
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not look for due demo checks"),
    }
    while jobs.join_next().await.is_some() {}
    report
}

async fn environment_job(store: Store, prober: Prober, d: DueRun, timeout: Duration) {
    let run = check_environment(&store, &prober, d.workspace_id, d.environment_id);
    match tokio::time::timeout(timeout, run).await {
        Ok(Ok(c)) => tracing::info!(passed = c.passed, failed = c.failed, "scheduled probe run"),
        Ok(Err(e)) => tracing::warn!(error = %e, "scheduled probe run failed"),
        Err(_) => tracing::warn!("scheduled probe run timed out"),
    }
}

async fn demo_job(store: Store, prober: Prober, d: DueCheck, timeout: Duration) {
    let run = check_demo(
        &store,
        &prober,
        d.workspace_id,
        d.demo_id,
        d.window.as_str(),
    );
    match tokio::time::timeout(timeout, run).await {
        Ok(Ok(c)) => tracing::info!(ready = c.check.ready, "automatic demo check"),
        Ok(Err(e)) => tracing::warn!(error = %e, "automatic demo check failed"),
        Err(_) => tracing::warn!("automatic demo check timed out"),
    }
}

/// Indexes the search backlog (requests imported without their terms) until it is empty (or
/// another instance holds its oldest part), then refreshes the planner's statistics of the
/// index once this pass has emptied it.
pub async fn index_backlog(store: &Store) {
    let started = Instant::now();
    let mut indexed = 0i64;
    loop {
        match store.index_backlog().await {
            Ok(0) => break,
            Ok(n) => indexed += n,
            Err(e) => {
                tracing::warn!(error = %e, "could not index the search backlog");
                break;
            }
        }
    }
    if indexed > 0 {
        tracing::info!(
            requests = indexed,
            ms = started.elapsed().as_millis() as u64,
            "search backlog indexed"
        );
    }
    if indexed > 0 && matches!(store.search_backlog_len().await, Ok(0)) {
        if let Err(e) = store.refresh_search_statistics().await {
            tracing::warn!(error = %e, "could not refresh search statistics");
        }
    }
}

/// Runs the scheduler until the task is aborted.
pub fn spawn(
    store: Store,
    prober: Prober,
    dispatcher: Dispatcher,
    config: SchedulerConfig,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last_retention: Option<Instant> = None;
        let mut last_scan: Option<Instant> = None;
        // One sending pass at a time on this instance; claims keep instances apart.
        let sending = std::sync::Arc::new(tokio::sync::Mutex::new(()));
        let indexing = std::sync::Arc::new(tokio::sync::Mutex::new(()));
        let mut interval = tokio::time::interval(config.tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            // Each pass runs on its own, so that a slow environment does not hold back the
            // check of a demo that starts soon; claims keep passes from doing the same work.
            let (s, p, c) = (store.clone(), prober.clone(), config.clone());
            tokio::spawn(async move { tick(&s, &p, &c).await });
            let (s, d, busy) = (store.clone(), dispatcher.clone(), sending.clone());
            tokio::spawn(
                async move {
                    if let Ok(_pass) = busy.try_lock() {
                        let r = d.dispatch_once(&s, chrono::Utc::now()).await;
                        if r != DispatchReport::default() {
                            tracing::info!(
                                sent = r.sent,
                                retried = r.retried,
                                failed = r.failed,
                                "notifications"
                            );
                        }
                    }
                }
                .instrument(tracing::info_span!("notifications")),
            );
            // Imported requests get their search terms a part at a time, one pass at a time on
            // this instance; claims keep instances from indexing the same part.
            let (s, busy) = (store.clone(), indexing.clone());
            tokio::spawn(
                async move {
                    if let Ok(_pass) = busy.try_lock() {
                        index_backlog(&s).await;
                    }
                }
                .instrument(tracing::info_span!("search_backlog")),
            );
            // Reminders and digests are keyed per day and week, so an hourly scan on every
            // instance enqueues each once.
            if last_scan.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
                let s = store.clone();
                tokio::spawn(
                    async move { notify::scan(&s, cunjin_store::today()).await }
                        .instrument(tracing::info_span!("notification_scan")),
                );
                last_scan = Some(Instant::now());
            }
            // Deleting old history is idempotent, so several instances may all do it.
            if last_retention.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
                match store
                    .delete_probe_runs_older_than(config.retention_days)
                    .await
                {
                    Ok(n) if n > 0 => tracing::info!(deleted = n, "old probe runs deleted"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not delete old probe runs"),
                }
                let before =
                    chrono::Utc::now() - chrono::Duration::days(i64::from(config.retention_days));
                match store.delete_old_deliveries(before).await {
                    Ok(n) if n > 0 => tracing::info!(deleted = n, "old notifications deleted"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "could not delete old notifications"),
                }
                last_retention = Some(Instant::now());
            }
        }
    })
}
