//! Demo environments, the probes that check them and the history of probe runs; and the claims
//! through which several `cunjin serve` instances on one database run each scheduled run once.

use std::collections::BTreeMap;

use cunjin_core::probe::{base_url, mask_secret, probe_path, timeout_ms};
use cunjin_core::{required_text, Expectation, ExpectationFields, ProbeFailure, ProbeMethod};
use serde::{Serialize, Serializer};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{conflict_on_unique, now, parse_stored, Result, Store, StoreError};

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
#[derive(Debug, Clone)]
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

/// An environment as stored; its headers are decrypted (`secrets.rs`).
fn env_from_row(store: &Store, r: &AnyRow) -> Result<Environment> {
    let headers: String = r.try_get("headers")?;
    Ok(Environment {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        base_url: r.try_get("base_url")?,
        headers: store.unseal_headers(&headers)?,
        interval_s: r.try_get("interval_s")?,
        next_run_at: r.try_get("next_run_at")?,
        last_run_at: r.try_get("last_run_at")?,
    })
}

const PROBE_COLUMNS: &str = "p.id, p.environment_id, p.feature_id, f.title AS feature_title, p.dataset, p.method, p.path, \
     p.expect_status, p.expect_body, p.expect_regex, p.json_pointer, p.json_value, p.timeout_ms, \
     r.at AS run_at, r.passed AS run_passed, r.status AS run_status, r.elapsed_ms AS run_elapsed, r.failure AS run_failure";

const PROBE_FROM: &str = "probes p LEFT JOIN features f ON f.id = p.feature_id \
     LEFT JOIN probe_runs r ON r.id = (SELECT MAX(id) FROM probe_runs WHERE probe_id = p.id)";

fn probe_from_row(r: &AnyRow) -> Result<Probe> {
    let id: i64 = r.try_get("id")?;
    let last_run = match r.try_get::<Option<String>, _>("run_at")? {
        None => None,
        Some(at) => {
            let failure = r
                .try_get::<Option<String>, _>("run_failure")?
                .map(|f| {
                    serde_json::from_str::<ProbeFailure>(&f)
                        .map_err(|e| StoreError::Corrupt(format!("probe failure: {e}")))
                })
                .transpose()?;
            Some(ProbeRun {
                probe_id: id,
                at,
                passed: r.try_get::<i64, _>("run_passed")? != 0,
                status: r.try_get("run_status")?,
                elapsed_ms: r.try_get("run_elapsed")?,
                failure_text: failure.as_ref().map(ProbeFailure::en),
                failure,
            })
        }
    };
    Ok(Probe {
        id,
        environment_id: r.try_get("environment_id")?,
        feature_id: r.try_get("feature_id")?,
        feature_title: r.try_get("feature_title")?,
        dataset: r.try_get("dataset")?,
        method: parse_stored(&r.try_get::<String, _>("method")?, ProbeMethod::parse)?,
        path: r.try_get("path")?,
        expect_status: r.try_get("expect_status")?,
        expect_body: r.try_get("expect_body")?,
        expect_regex: r.try_get("expect_regex")?,
        json_pointer: r.try_get("json_pointer")?,
        json_value: r.try_get("json_value")?,
        timeout_ms: r.try_get("timeout_ms")?,
        last_run,
    })
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
        let id: i64 = sqlx::query(
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
        .map_err(|e| conflict_on_unique(e, || format!("an environment named '{name}' exists")))?
        .try_get(0)?;
        self.get_environment(workspace_id, id).await
    }

    /// The environments of a workspace, by name.
    pub async fn list_environments(&self, workspace_id: i64) -> Result<Vec<Environment>> {
        sqlx::query(&format!(
            "SELECT {ENV_COLUMNS} FROM environments WHERE workspace_id = $1 ORDER BY name, id"
        ))
        .bind(workspace_id)
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(|r| env_from_row(self, r))
        .collect()
    }

    /// One environment.
    pub async fn get_environment(&self, workspace_id: i64, id: i64) -> Result<Environment> {
        let r = sqlx::query(&format!(
            "SELECT {ENV_COLUMNS} FROM environments WHERE workspace_id = $1 AND id = $2"
        ))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(self.reader())
        .await?
        .ok_or_else(|| StoreError::not_found("environment", id))?;
        env_from_row(self, &r)
    }

    /// The environment with exactly this name.
    pub async fn find_environment_by_name(
        &self,
        workspace_id: i64,
        name: &str,
    ) -> Result<Option<Environment>> {
        sqlx::query(&format!(
            "SELECT {ENV_COLUMNS} FROM environments WHERE workspace_id = $1 AND name = $2"
        ))
        .bind(workspace_id)
        .bind(name.trim())
        .fetch_optional(self.reader())
        .await?
        .map(|r| env_from_row(self, &r))
        .transpose()
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
        let id: i64 = sqlx::query(
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
        .await?
        .try_get(0)?;
        self.get_probe(workspace_id, id).await
    }

    /// One probe with its latest run.
    pub async fn get_probe(&self, workspace_id: i64, id: i64) -> Result<Probe> {
        let r = sqlx::query(&format!(
            "SELECT {PROBE_COLUMNS} FROM {PROBE_FROM} WHERE p.workspace_id = $1 AND p.id = $2"
        ))
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(self.reader())
        .await?
        .ok_or_else(|| StoreError::not_found("probe", id))?;
        probe_from_row(&r)
    }

    /// Probes with their latest runs, of one environment or all.
    pub async fn list_probes(
        &self,
        workspace_id: i64,
        environment_id: Option<i64>,
    ) -> Result<Vec<Probe>> {
        sqlx::query(&format!(
            "SELECT {PROBE_COLUMNS} FROM {PROBE_FROM} WHERE p.workspace_id = $1 AND ($2 IS NULL OR p.environment_id = $2) \
             ORDER BY p.environment_id, p.id"
        ))
        .bind(workspace_id)
        .bind(environment_id)
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(probe_from_row)
        .collect()
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
        let rows = sqlx::query(
            "SELECT probe_id, at, passed, status, elapsed_ms, failure FROM probe_runs \
             WHERE workspace_id = $1 AND environment_id = $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(workspace_id)
        .bind(environment_id)
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let failure = r
                    .try_get::<Option<String>, _>("failure")?
                    .map(|f| {
                        serde_json::from_str::<ProbeFailure>(&f)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))
                    })
                    .transpose()?;
                Ok(ProbeRun {
                    probe_id: r.try_get("probe_id")?,
                    at: r.try_get("at")?,
                    passed: r.try_get::<i64, _>("passed")? != 0,
                    status: r.try_get("status")?,
                    elapsed_ms: r.try_get("elapsed_ms")?,
                    failure_text: failure.as_ref().map(ProbeFailure::en),
                    failure,
                })
            })
            .collect()
    }

    /// Environments of every workspace whose scheduled run is due at `at`.
    pub async fn due_environment_runs(&self, at: &str, limit: i64) -> Result<Vec<DueRun>> {
        sqlx::query(
            "SELECT workspace_id, id, next_run_at, interval_s FROM environments WHERE next_run_at <= $1 \
             ORDER BY next_run_at LIMIT $2",
        )
        .bind(at)
        .bind(limit)
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(|r| {
            Ok(DueRun {
                workspace_id: r.try_get(0)?,
                environment_id: r.try_get(1)?,
                next_run_at: r.try_get(2)?,
                interval_s: r.try_get(3)?,
            })
        })
        .collect()
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
