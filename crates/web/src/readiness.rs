//! Readiness checks, shared by the API, the scheduler and `cunjin check`: run the probes now,
//! keep their runs, and turn the results into the talk track with the rules of the core.

use std::collections::{HashMap, HashSet};

use cunjin_core::readiness::{talk_track, FeatureFacts, ProbeOutcome, ScriptLine, ScriptSubject};
use cunjin_store::demos::environments::{Environment, Probe, ProbeRun};
use cunjin_store::demos::{CheckedItem, Demo, DemoCheck};
use cunjin_store::{Result, Store};
use serde::Serialize;

use crate::probing::Prober;

/// One probe and its fresh run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProbeResult {
    /// Probe.
    pub probe_id: i64,
    /// `GET /path`.
    pub label: String,
    /// The feature it checks.
    pub feature_title: Option<String>,
    /// Or the demo data.
    pub dataset: Option<String>,
    /// The run.
    pub run: ProbeRun,
}

/// The result of running every probe of an environment.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnvironmentCheck {
    /// Environment id.
    pub environment_id: i64,
    /// Its name.
    pub name: String,
    /// Every probe passed (and there is at least one).
    pub ready: bool,
    /// Probes that passed.
    pub passed: usize,
    /// Probes that failed.
    pub failed: usize,
    /// Probes that got no HTTP answer at all.
    pub unreachable: usize,
    /// Each probe.
    pub results: Vec<ProbeResult>,
}

impl EnvironmentCheck {
    /// Nothing answered: the check says nothing about the demo, only that it could not look.
    pub fn could_not_check(&self) -> bool {
        !self.results.is_empty() && self.unreachable == self.results.len()
    }
}

/// A demo check and how its probes went.
#[derive(Debug, Clone)]
pub struct DemoCheckRun {
    /// The talk track, as kept on the demo.
    pub check: DemoCheck,
    /// Probes run.
    pub probes_run: usize,
    /// Probes that got no HTTP answer.
    pub unreachable: usize,
}

impl DemoCheckRun {
    /// Probes ran and none got an answer: the environment could not be checked.
    pub fn could_not_check(&self) -> bool {
        self.probes_run > 0 && self.unreachable == self.probes_run
    }
}

async fn run_and_keep(
    store: &Store,
    prober: &Prober,
    ws: i64,
    env: &Environment,
    probes: &[Probe],
) -> Result<Vec<ProbeRun>> {
    let runs = prober.run(env, probes).await;
    store.record_probe_runs(ws, env.id, &runs).await?;
    Ok(runs)
}

/// Runs every probe of an environment now and keeps the runs.
pub async fn check_environment(
    store: &Store,
    prober: &Prober,
    ws: i64,
    environment_id: i64,
) -> Result<EnvironmentCheck> {
    let env = store.get_environment(ws, environment_id).await?;
    let probes = store.list_probes(ws, Some(environment_id)).await?;
    let runs = run_and_keep(store, prober, ws, &env, &probes).await?;
    let results: Vec<ProbeResult> = probes
        .iter()
        .zip(runs)
        .map(|(p, run)| ProbeResult {
            probe_id: p.id,
            label: p.label(),
            feature_title: p.feature_title.clone(),
            dataset: p.dataset.clone(),
            run,
        })
        .collect();
    let passed = results.iter().filter(|r| r.run.passed).count();
    let unreachable = results
        .iter()
        .filter(|r| r.run.failure.as_ref().is_some_and(|f| f.is_unreachable()))
        .count();
    Ok(EnvironmentCheck {
        environment_id: env.id,
        name: env.name,
        ready: passed == results.len() && !results.is_empty(),
        passed,
        failed: results.len() - passed,
        unreachable,
        results,
    })
}

/// Checks a demo now: runs the probes of its scripted features and every demo-data probe of its
/// environment, keeps the runs, computes the talk track and keeps it on the demo.
pub async fn check_demo(
    store: &Store,
    prober: &Prober,
    ws: i64,
    demo_id: i64,
    trigger: &str,
) -> Result<DemoCheckRun> {
    let demo = store.get_demo(ws, demo_id).await?;
    let scripted: HashSet<i64> = demo.script.iter().filter_map(|i| i.feature_id).collect();
    let (probes, runs) = match demo.environment_id {
        Some(env_id) => {
            let env = store.get_environment(ws, env_id).await?;
            let probes: Vec<Probe> = store
                .list_probes(ws, Some(env_id))
                .await?
                .into_iter()
                .filter(|p| {
                    p.dataset.is_some() || p.feature_id.is_some_and(|f| scripted.contains(&f))
                })
                .collect();
            let runs = run_and_keep(store, prober, ws, &env, &probes).await?;
            (probes, runs)
        }
        None => (Vec::new(), Vec::new()),
    };
    let unreachable = runs
        .iter()
        .filter(|r| r.failure.as_ref().is_some_and(|f| f.is_unreachable()))
        .count();
    let check = talk_track_of(&demo, &probes, &runs, trigger);
    store.save_demo_check(ws, demo_id, &check).await?;
    Ok(DemoCheckRun {
        check,
        probes_run: runs.len(),
        unreachable,
    })
}

/// The talk track of `demo` from the runs of `probes` (same order).
fn talk_track_of(demo: &Demo, probes: &[Probe], runs: &[ProbeRun], trigger: &str) -> DemoCheck {
    let mut by_feature: HashMap<i64, Vec<ProbeOutcome>> = HashMap::new();
    let mut datasets = Vec::new();
    for (p, run) in probes.iter().zip(runs) {
        let outcome = ProbeOutcome {
            label: p.label(),
            failure: run.failure.clone(),
        };
        match (&p.dataset, p.feature_id) {
            (Some(d), _) => datasets.push((d.clone(), outcome)),
            (None, Some(f)) => by_feature.entry(f).or_default().push(outcome),
            (None, None) => {}
        }
    }
    let script: Vec<ScriptLine> = demo
        .script
        .iter()
        .map(|item| ScriptLine {
            subject: match &item.feature {
                Some(f) => ScriptSubject::Feature(FeatureFacts {
                    title: f.title.clone(),
                    stage: f.stage,
                    recording_url: f.recording_url.clone(),
                    slide_url: f.slide_url.clone(),
                    target_release: f.target_release.clone(),
                    probes: by_feature.remove(&f.id).unwrap_or_default(),
                }),
                None => ScriptSubject::Text(item.text.clone().unwrap_or_default()),
            },
            must_show: item.must_show,
        })
        .collect();
    let track = talk_track(&script, &datasets);
    let items = demo
        .script
        .iter()
        .zip(track.lines)
        .map(|(item, line)| CheckedItem {
            item_id: item.id,
            feature_id: item.feature_id,
            title: item.title(),
            must_show: item.must_show,
            covered: line.covered,
            mode: line.mode,
            notes: line.notes.iter().map(|n| n.en()).collect(),
            notes_zh: line.notes.iter().map(|n| n.zh()).collect(),
            target_release: item.feature.as_ref().and_then(|f| f.target_release.clone()),
            recording_url: item.feature.as_ref().and_then(|f| f.recording_url.clone()),
            slide_url: item.feature.as_ref().and_then(|f| f.slide_url.clone()),
            menu_path: item.feature.as_ref().map(|f| f.menu_path.clone()),
        })
        .collect();
    DemoCheck {
        checked_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        trigger: trigger.to_string(),
        ready: track.ready,
        readiness: track.readiness,
        items,
    }
}
