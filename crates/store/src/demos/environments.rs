//! Demo environments, the probes that check them and the history of probe runs; and the claims
//! through which several `cunjin serve` instances on one database run each scheduled run once.

use std::collections::BTreeMap;

use crate::column::Flag;
use crate::sql::Sql;
use crate::{conflict_on_unique, now, Result, Store, StoreError};
use cunjin_core::probe::{base_url, mask_secret, probe_path, timeout_ms};
use cunjin_core::{required_text, Expectation, ExpectationFields, ProbeFailure, ProbeMethod};
use serde::{Serialize, Serializer};

/// Header values are secrets (a demo-login token): answered masked, never in full.
fn masked<S: Serializer>(
    h: &BTreeMap<String, String>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    let m: BTreeMap<&str, String> = h
        .iter()
        .map(|(k, v)| (k.as_str(), mask_secret(v)))
        .collect();
    m.serialize(s)
}

/// A demo environment: where the demo runs.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Environment {
    /// Id.
    pub id: i64,
    /// Name, e.g. "演示环境-华东".
    pub name: String,
    /// Base URL probe paths are joined to.
    pub base_url: String,
    /// Headers sent with every probe; values answered masked (`•••• (12 chars)`).
    #[serde(serialize_with = "masked")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub headers: BTreeMap<String, String>,
    /// Seconds between scheduled runs.
    pub interval_s: i64,
    /// When the next scheduled run is due.
    pub next_run_at: String,
    /// When the scheduler last ran it.
    pub last_run_at: Option<String>,
}

/// An environment to create.
#[derive(Debug, Clone)]
pub struct NewEnvironment {
    /// Name.
    pub name: String,
    /// Base URL.
    pub base_url: String,
    /// Headers.
    pub headers: BTreeMap<String, String>,
    /// Seconds between scheduled runs (default 300).
    pub interval_s: Option<i64>,
}

/// Changes to an environment; `None` keeps a field. Headers: a value replaces, `None` removes,
/// a header not named is kept — so a form that shows masked values never loses a secret. A new
/// `base_url` (different from the stored one) drops every stored header first: only the
/// headers given in the same change are kept.
#[derive(Debug, Clone, Default)]
pub struct EnvironmentChange {
    /// New name.
    pub name: Option<String>,
    /// New base URL.
    pub base_url: Option<String>,
    /// Header changes.
    pub headers: BTreeMap<String, Option<String>>,
    /// New interval.
    pub interval_s: Option<i64>,
}

/// One run of one probe.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProbeRun {
    /// Probe.
    pub probe_id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Whether it passed.
    pub passed: bool,
    /// HTTP status answered, if any.
    pub status: Option<i64>,
    /// Time to the answer, in milliseconds.
    pub elapsed_ms: i64,
    /// Why it failed.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub failure: Option<ProbeFailure>,
    /// Why it failed, in English.
    pub failure_text: Option<String>,
}

impl ProbeRun {
    /// A run finished now.
    pub fn new(
        probe_id: i64,
        status: Option<u16>,
        elapsed_ms: u64,
        failure: Option<ProbeFailure>,
    ) -> Self {
        ProbeRun {
            probe_id,
            at: now(),
            passed: failure.is_none(),
            status: status.map(i64::from),
            elapsed_ms: elapsed_ms.min(i64::MAX as u64) as i64,
            failure_text: failure.as_ref().map(ProbeFailure::en),
            failure,
        }
    }
}

/// An HTTP check against an environment.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Probe {
    /// Id.
    pub id: i64,
    /// Environment.
    pub environment_id: i64,
    /// The feature it shows works, or
    pub feature_id: Option<i64>,
    /// that feature's title;
    pub feature_title: Option<String>,
    /// or the demo data set it shows is there (e.g. "患者张三").
    pub dataset: Option<String>,
    /// GET, HEAD or POST.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "GET"))]
    pub method: ProbeMethod,
    /// Path joined to the base URL.
    pub path: String,
    /// Expected status.
    pub expect_status: i64,
    /// Substring the body must contain.
    pub expect_body: Option<String>,
    /// Regular expression the body must match.
    pub expect_regex: Option<String>,
    /// JSON pointer into the body …
    pub json_pointer: Option<String>,
    /// … and the value it must point at (JSON text).
    pub json_value: Option<String>,
    /// Timeout in milliseconds.
    pub timeout_ms: i64,
    /// Its latest run.
    pub last_run: Option<ProbeRun>,
}

impl Probe {
    /// How the probe is named in notes: `GET /api/ok`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path)
    }

    /// The expectation, parsed (it was checked when stored).
    pub fn expectation(&self) -> Result<Expectation> {
        Expectation::parse(ExpectationFields {
            status: Some(self.expect_status),
            body: self.expect_body.as_deref(),
            regex: self.expect_regex.as_deref(),
            json_pointer: self.json_pointer.as_deref(),
            json_value: self.json_value.as_deref(),
        })
        .map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// A probe to create.
#[derive(Debug, Clone, Default)]
pub struct NewProbe {
    /// Environment.
    pub environment_id: i64,
    /// Feature, or
    pub feature_id: Option<i64>,
    /// data set.
    pub dataset: Option<String>,
    /// Method (default GET).
    pub method: Option<String>,
    /// Path.
    pub path: String,
    /// Expected status (default 200).
    pub expect_status: Option<i64>,
    /// Body substring.
    pub expect_body: Option<String>,
    /// Body regex.
    pub expect_regex: Option<String>,
    /// JSON pointer.
    pub json_pointer: Option<String>,
    /// Value at the pointer.
    pub json_value: Option<String>,
    /// Timeout (default 5000).
    pub timeout_ms: Option<i64>,
}

/// An environment whose scheduled run is due, across workspaces.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueRun {
    /// Workspace.
    pub workspace_id: i64,
    /// Environment.
    pub environment_id: i64,
    /// The `next_run_at` the claim compares against.
    pub next_run_at: String,
    /// Interval.
    pub interval_s: i64,
}

fn check_interval(s: i64) -> Result<i64> {
    if (30..=86_400).contains(&s) {
        Ok(s)
    } else {
        Err(cunjin_core::ParseError::new(
            "interval_s",
            format!("{s} is not between 30 and 86400 seconds"),
        )
        .into())
    }
}

fn check_headers<'a>(h: impl Iterator<Item = (&'a String, &'a String)>) -> Result<()> {
    for (k, v) in h {
        let valid_name = !k.is_empty()
            && k.len() <= 100
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
        if !valid_name {
            return Err(cunjin_core::ParseError::new(
                "headers",
                format!("'{k}' is not a header name"),
            )
            .into());
        }
        if v.len() > 4000 || v.chars().any(|c| c.is_control()) {
            return Err(cunjin_core::ParseError::new(
                "headers",
                format!("the value of {k} is not a valid header value"),
            )
            .into());
        }
    }
    Ok(())
}

/// `next_run_at` for an environment run `interval_s` from now.
fn after_seconds(interval_s: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(interval_s))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

const ENV_COLUMNS: &str = "id, name, base_url, headers, interval_s, next_run_at, last_run_at";

/// An environment as stored, its headers still sealed (`secrets.rs`).
#[derive(sqlx::FromRow)]
struct EnvRow {
    id: i64,
    name: String,
    base_url: String,
    headers: String,
    interval_s: i64,
    next_run_at: String,
    last_run_at: Option<String>,
}

impl EnvRow {
    /// The environment, its headers decrypted.
    fn open(self, store: &Store) -> Result<Environment> {
        Ok(Environment {
            id: self.id,
            name: self.name,
            base_url: self.base_url,
            headers: store.unseal_headers(&self.headers)?,
            interval_s: self.interval_s,
            next_run_at: self.next_run_at,
            last_run_at: self.last_run_at,
        })
    }
}

const PROBE_COLUMNS: &str = "p.id, p.environment_id, p.feature_id, f.title AS feature_title, p.dataset, p.method, p.path, \
     p.expect_status, p.expect_body, p.expect_regex, p.json_pointer, p.json_value, p.timeout_ms, \
     r.at AS run_at, r.passed AS run_passed, r.status AS run_status, r.elapsed_ms AS run_elapsed, r.failure AS run_failure";

const PROBE_FROM: &str = "probes p LEFT JOIN features f ON f.id = p.feature_id \
     LEFT JOIN probe_runs r ON r.id = (SELECT MAX(id) FROM probe_runs WHERE probe_id = p.id)";

/// Why a run failed, stored as JSON.
#[derive(sqlx::Type)]
#[sqlx(transparent)]
struct FailureJson(Option<String>);

impl TryFrom<FailureJson> for Option<ProbeFailure> {
    type Error = serde_json::Error;
    fn try_from(f: FailureJson) -> std::result::Result<Self, serde_json::Error> {
        f.0.map(|f| serde_json::from_str(&f)).transpose()
    }
}

/// One run as stored.
#[derive(sqlx::FromRow)]
struct RunRow {
    probe_id: i64,
    at: String,
    #[sqlx(try_from = "Flag")]
    passed: bool,
    status: Option<i64>,
    elapsed_ms: i64,
    #[sqlx(try_from = "FailureJson")]
    failure: Option<ProbeFailure>,
}

impl From<RunRow> for ProbeRun {
    fn from(r: RunRow) -> ProbeRun {
        ProbeRun {
            probe_id: r.probe_id,
            at: r.at,
            passed: r.passed,
            status: r.status,
            elapsed_ms: r.elapsed_ms,
            failure_text: r.failure.as_ref().map(ProbeFailure::en),
            failure: r.failure,
        }
    }
}

/// A probe as [`PROBE_COLUMNS`] read it: its latest run, if it has one, in the `run_` columns.
#[derive(sqlx::FromRow)]
struct ProbeRow {
    id: i64,
    environment_id: i64,
    feature_id: Option<i64>,
    feature_title: Option<String>,
    dataset: Option<String>,
    #[sqlx(try_from = "String")]
    method: ProbeMethod,
    path: String,
    expect_status: i64,
    expect_body: Option<String>,
    expect_regex: Option<String>,
    json_pointer: Option<String>,
    json_value: Option<String>,
    timeout_ms: i64,
    run_at: Option<String>,
    run_passed: Option<i64>,
    run_status: Option<i64>,
    run_elapsed: Option<i64>,
    #[sqlx(try_from = "FailureJson")]
    run_failure: Option<ProbeFailure>,
}

impl From<ProbeRow> for Probe {
    fn from(r: ProbeRow) -> Probe {
        let last_run = r.run_at.map(|at| ProbeRun {
            probe_id: r.id,
            at,
            passed: r.run_passed.is_some_and(|p| p != 0),
            status: r.run_status,
            elapsed_ms: r.run_elapsed.unwrap_or(0),
            failure_text: r.run_failure.as_ref().map(ProbeFailure::en),
            failure: r.run_failure,
        });
        Probe {
            id: r.id,
            environment_id: r.environment_id,
            feature_id: r.feature_id,
            feature_title: r.feature_title,
            dataset: r.dataset,
            method: r.method,
            path: r.path,
            expect_status: r.expect_status,
            expect_body: r.expect_body,
            expect_regex: r.expect_regex,
            json_pointer: r.json_pointer,
            json_value: r.json_value,
            timeout_ms: r.timeout_ms,
            last_run,
        }
    }
}

/// The probes the query `q` (over [`PROBE_COLUMNS`]) finds.
async fn fetch_probes(store: &Store, mut q: Sql<'_>) -> Result<Vec<Probe>> {
    let rows: Vec<ProbeRow> = q.query_as().fetch_all(store.reader()).await?;
    Ok(rows.into_iter().map(Probe::from).collect())
}

fn opt_text(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

impl Store {
    /// Creates an environment; its first scheduled run is due at once.
    pub async fn create_environment(
        &self,
        workspace_id: i64,
        new: NewEnvironment,
    ) -> Result<Environment> {
        let name = required_text("name", &new.name, 200)?;
        let url = base_url(&new.base_url)?;
        check_headers(new.headers.iter())?;
        let interval = check_interval(new.interval_s.unwrap_or(300))?;
        let ts = now();
        let headers = self.seal_headers(&new.headers)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO environments (workspace_id, name, base_url, headers, interval_s, next_run_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(workspace_id)
        .bind(&name)
        .bind(&url)
        .bind(headers)
        .bind(interval)
        .bind(&ts)
        .fetch_one(self.writer())
        .await
        .map_err(|e| conflict_on_unique(e, || format!("an environment named '{name}' exists")))?;
        self.get_environment(workspace_id, id).await
    }

    /// The environments of a workspace, by name.
    pub async fn list_environments(&self, workspace_id: i64) -> Result<Vec<Environment>> {
        let rows: Vec<EnvRow> = sqlx::query_as(&format!(
            "SELECT {ENV_COLUMNS} FROM environments WHERE workspace_id = $1 ORDER BY name, id"
        ))
        .bind(workspace_id)
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(|r| r.open(self)).collect()
    }

    /// One environment.
    pub async fn get_environment(&self, workspace_id: i64, id: i64) -> Result<Environment> {
        let r: EnvRow = sqlx::query_as(&format!(
            "SELECT {ENV_COLUMNS} FROM environments WHERE workspace_id = $1 AND id = $2"
        ))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(self.reader())
        .await?
        .ok_or_else(|| StoreError::not_found("environment", id))?;
        r.open(self)
    }

    /// The environment with exactly this name.
    pub async fn find_environment_by_name(
        &self,
        workspace_id: i64,
        name: &str,
    ) -> Result<Option<Environment>> {
        let r: Option<EnvRow> = sqlx::query_as(&format!(
            "SELECT {ENV_COLUMNS} FROM environments WHERE workspace_id = $1 AND name = $2"
        ))
        .bind(workspace_id)
        .bind(name.trim())
        .fetch_optional(self.reader())
        .await?;
        r.map(|r| r.open(self)).transpose()
    }

    /// Changes an environment.
    pub async fn update_environment(
        &self,
        workspace_id: i64,
        id: i64,
        change: EnvironmentChange,
    ) -> Result<Environment> {
        let mut env = self.get_environment(workspace_id, id).await?;
        if let Some(n) = &change.name {
            env.name = required_text("name", n, 200)?;
        }
        if let Some(u) = &change.base_url {
            let url = base_url(u)?;
            if url != env.base_url {
                // Stored headers may hold a demo login token meant for the old host: whoever
                // may edit the address must not be able to send it elsewhere. They are entered
                // again, in this change or a later one.
                env.headers.clear();
            }
            env.base_url = url;
        }
        if let Some(i) = change.interval_s {
            env.interval_s = check_interval(i)?;
        }
        for (k, v) in change.headers {
            match v {
                Some(v) => {
                    env.headers.insert(k, v);
                }
                None => {
                    env.headers.remove(&k);
                }
            }
        }
        check_headers(env.headers.iter())?;
        let headers = self.seal_headers(&env.headers)?;
        let name = env.name.clone();
        sqlx::query("UPDATE environments SET name = $1, base_url = $2, headers = $3, interval_s = $4 WHERE workspace_id = $5 AND id = $6")
            .bind(&env.name)
            .bind(&env.base_url)
            .bind(headers)
            .bind(env.interval_s)
            .bind(workspace_id)
            .bind(id)
            .execute(self.writer())
            .await
            .map_err(|e| conflict_on_unique(e, || format!("an environment named '{name}' exists")))?;
        self.get_environment(workspace_id, id).await
    }

    /// Creates a probe.
    pub async fn create_probe(&self, workspace_id: i64, new: NewProbe) -> Result<Probe> {
        self.get_environment(workspace_id, new.environment_id)
            .await?;
        let dataset = opt_text(new.dataset);
        match (new.feature_id, &dataset) {
            (Some(f), None) => {
                crate::ledger::catalogue::get_feature_in(self.reader(), workspace_id, f).await?;
            }
            (None, Some(d)) => {
                required_text("dataset", d, 200)?;
            }
            _ => return Err(cunjin_core::ParseError::new(
                "feature_id",
                "tie the probe to a feature (feature_id) or to demo data (dataset), one of them",
            )
            .into()),
        }
        let method = match new.method.as_deref() {
            Some(m) => ProbeMethod::parse(m)?,
            None => ProbeMethod::Get,
        };
        let path = probe_path(&new.path)?;
        let (body, regex, pointer, value) = (
            opt_text(new.expect_body),
            opt_text(new.expect_regex),
            opt_text(new.json_pointer),
            opt_text(new.json_value),
        );
        let exp = Expectation::parse(ExpectationFields {
            status: new.expect_status,
            body: body.as_deref(),
            regex: regex.as_deref(),
            json_pointer: pointer.as_deref(),
            json_value: value.as_deref(),
        })?;
        let timeout = timeout_ms(new.timeout_ms)? as i64;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO probes (workspace_id, environment_id, feature_id, dataset, method, path, expect_status, \
             expect_body, expect_regex, json_pointer, json_value, timeout_ms, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(workspace_id)
        .bind(new.environment_id)
        .bind(new.feature_id)
        .bind(dataset)
        .bind(method.as_str())
        .bind(path)
        .bind(i64::from(exp.status))
        .bind(body)
        .bind(regex)
        .bind(pointer)
        .bind(value)
        .bind(timeout)
        .bind(now())
        .fetch_one(self.writer())
        .await?;
        self.get_probe(workspace_id, id).await
    }

    /// One probe with its latest run.
    pub async fn get_probe(&self, workspace_id: i64, id: i64) -> Result<Probe> {
        let mut q = Sql::new(format!("SELECT {PROBE_COLUMNS} FROM {PROBE_FROM}"));
        q.push_bind(" WHERE p.workspace_id = ", workspace_id)
            .push_bind(" AND p.id = ", id);
        fetch_probes(self, q)
            .await?
            .pop()
            .ok_or_else(|| StoreError::not_found("probe", id))
    }

    /// Probes with their latest runs, of one environment or all.
    pub async fn list_probes(
        &self,
        workspace_id: i64,
        environment_id: Option<i64>,
    ) -> Result<Vec<Probe>> {
        let mut q = Sql::new(format!("SELECT {PROBE_COLUMNS} FROM {PROBE_FROM}"));
        q.push_bind(" WHERE p.workspace_id = ", workspace_id)
            .and_eq("p.environment_id", environment_id)
            .push(" ORDER BY p.environment_id, p.id");
        fetch_probes(self, q).await
    }

    /// Deletes a probe and its history.
    pub async fn delete_probe(&self, workspace_id: i64, id: i64) -> Result<()> {
        let mut tx = self.writer().begin().await?;
        sqlx::query("DELETE FROM probe_runs WHERE workspace_id = $1 AND probe_id = $2")
            .bind(workspace_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query("DELETE FROM probes WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::not_found("probe", id));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Keeps the runs of probes of one environment, in one transaction.
    pub async fn record_probe_runs(
        &self,
        workspace_id: i64,
        environment_id: i64,
        runs: &[ProbeRun],
    ) -> Result<()> {
        let mut tx = self.writer().begin().await?;
        for run in runs {
            let failure = run
                .failure
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO probe_runs (workspace_id, probe_id, environment_id, at, passed, status, elapsed_ms, failure) \
                 SELECT $1, id, environment_id, $3, $4, $5, $6, $7 FROM probes WHERE workspace_id = $1 AND id = $2",
            )
            .bind(workspace_id)
            .bind(run.probe_id)
            .bind(&run.at)
            .bind(i64::from(run.passed))
            .bind(run.status)
            .bind(run.elapsed_ms)
            .bind(failure)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE environments SET last_run_at = $1 WHERE workspace_id = $2 AND id = $3")
            .bind(now())
            .bind(workspace_id)
            .bind(environment_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The latest runs of an environment's probes, newest first.
    pub async fn probe_history(
        &self,
        workspace_id: i64,
        environment_id: i64,
        limit: i64,
    ) -> Result<Vec<ProbeRun>> {
        let rows: Vec<RunRow> = sqlx::query_as(
            "SELECT probe_id, at, passed, status, elapsed_ms, failure FROM probe_runs \
             WHERE workspace_id = $1 AND environment_id = $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(workspace_id)
        .bind(environment_id)
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.reader())
        .await?;
        Ok(rows.into_iter().map(ProbeRun::from).collect())
    }

    /// Environments of every workspace whose scheduled run is due at `at`.
    pub async fn due_environment_runs(&self, at: &str, limit: i64) -> Result<Vec<DueRun>> {
        Ok(sqlx::query_as(
            "SELECT workspace_id, id AS environment_id, next_run_at, interval_s FROM environments \
             WHERE next_run_at <= $1 ORDER BY next_run_at LIMIT $2",
        )
        .bind(at)
        .bind(limit)
        .fetch_all(self.reader())
        .await?)
    }

    /// Claims a due run: moves `next_run_at` one interval on, only if nobody else did first.
    /// Exactly one of several instances that try gets `true` (compare-and-set in one UPDATE, on
    /// both engines).
    pub async fn claim_environment_run(&self, due: &DueRun) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE environments SET next_run_at = $1 WHERE id = $2 AND next_run_at = $3",
        )
        .bind(after_seconds(due.interval_s))
        .bind(due.environment_id)
        .bind(&due.next_run_at)
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Makes an environment's scheduled run due now (tests, "run soon").
    pub async fn make_environment_due(&self, workspace_id: i64, id: i64) -> Result<()> {
        sqlx::query("UPDATE environments SET next_run_at = $1 WHERE workspace_id = $2 AND id = $3")
            .bind(now())
            .bind(workspace_id)
            .bind(id)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Deletes probe runs older than `days` days, in every workspace; returns how many.
    pub async fn delete_probe_runs_older_than(&self, days: u32) -> Result<u64> {
        let cutoff = (chrono::Utc::now() - chrono::Duration::days(i64::from(days)))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        Ok(sqlx::query("DELETE FROM probe_runs WHERE at < $1")
            .bind(cutoff)
            .execute(self.writer())
            .await?
            .rows_affected())
    }
}
