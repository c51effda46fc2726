//! Pages of demo readiness: demo environments with their probes and "run now", demos with their
//! script, the printable talk track, and recording the promises made in a demo.

use super::Frame;
use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Form;
use cunjin_core::{CustomerId, Mode, Permission, ProbeMethod};
use cunjin_store::demos::environments::{
    Environment, EnvironmentChange, NewEnvironment, NewProbe, Probe,
};
use cunjin_store::demos::{CheckedItem, Demo, DemoChange, DemoCheck, DemoItem, PromisePick};
use cunjin_store::ledger::catalogue::{Feature, FeatureFilter};
use cunjin_store::ledger::customers::Customer;
use serde::Deserialize;

use super::PagePath;
use super::{fail, optional_id, PageResult};
use super::{redirect, render, Page};
use crate::api::{parse_starts_at, CreateDemo, ScriptItemInput};
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::outbound::Purpose;
use crate::readiness::{check_demo, check_environment};
use crate::AppState;

/// The pages of this module and the forms they post to.
pub(super) fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/environments", get(environments).post(create_environment))
        .route(
            "/environments/{id}",
            get(environment).post(update_environment),
        )
        .route("/environments/{id}/run", post(run_environment))
        .route("/environments/{id}/probes", post(create_probe))
        .route("/environments/{id}/probes/{pid}/delete", post(delete_probe))
        .route("/demos", get(demos).post(create_demo))
        .route("/demos/new", get(new_demo))
        .route("/demos/{id}", get(demo))
        .route("/demos/{id}/edit", get(edit_demo).post(update_demo))
        .route("/demos/{id}/check", post(check))
        .route("/demos/{id}/promises", post(record_promises))
        .route("/demos/{id}/talk-track", get(talk_track))
}

/// Rows of the script editor on the new-demo form.
const SCRIPT_ROWS: usize = 10;

/// Back to `path`, with the error to show when there is one.
fn back(path: &str, result: Result<(), ApiError>) -> Response {
    match result {
        Ok(()) => redirect(path),
        Err(e) => super::redirect_with_flash(path, &e.message),
    }
}

fn optional_text(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|t| !t.is_empty())
}

/// A stored UTC time shown in China Standard Time, the time the demo form takes by default.
pub fn beijing_time(stored: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(stored)
        .map(|t| {
            t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap_or(*t.offset()))
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| stored.to_string())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MessageQuery {
    error: String,
    done: String,
}

// ---------------------------------------------------------------- environments

pub struct EnvironmentRow {
    pub env: Environment,
    pub probes: usize,
    pub passed: usize,
    pub failed: usize,
    pub never: usize,
}

#[derive(Template)]
#[template(path = "environments.html")]
pub struct EnvironmentsPage {
    pub frame: Frame,
    pub rows: Vec<EnvironmentRow>,
    pub can_edit: bool,
    pub error: String,
}
framed!(EnvironmentsPage);

pub async fn environments(
    p: Page,
    State(state): State<AppState>,
    q: Result<Query<MessageQuery>, QueryRejection>,
    headers: axum::http::HeaderMap,
) -> PageResult {
    let ws = p.caller.ws();
    let mut q: MessageQuery = q.map(|q| q.0).unwrap_or_default();
    // Refusals come in a one-time cookie, never from the address a link could carry.
    q.error = super::flash(&headers);
    let probes = state.store.list_probes(ws, None).await.map_err(fail(&p))?;
    let rows = state
        .store
        .list_environments(ws)
        .await
        .map_err(fail(&p))?
        .into_iter()
        .map(|env| {
            let mine: Vec<&Probe> = probes
                .iter()
                .filter(|x| x.environment_id == env.id)
                .collect();
            let passed = mine
                .iter()
                .filter(|x| x.last_run.as_ref().is_some_and(|r| r.passed))
                .count();
            let never = mine.iter().filter(|x| x.last_run.is_none()).count();
            EnvironmentRow {
                probes: mine.len(),
                failed: mine.len() - passed - never,
                passed,
                never,
                env,
            }
        })
        .collect();
    Ok(render(&EnvironmentsPage {
        frame: p.frame("demos"),
        rows,
        can_edit: p.caller.user.role.can(Permission::EditEnvironments),
        error: q.error,
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EnvironmentForm {
    name: String,
    base_url: String,
    interval_s: String,
    header_name: String,
    header_value: String,
}

fn interval(s: &str) -> Result<Option<i64>, ApiError> {
    match s.trim() {
        "" => Ok(None),
        v => v.parse().map(Some).map_err(|_| {
            ApiError::invalid(format!("interval_s: '{v}' is not a number of seconds"))
        }),
    }
}

pub async fn create_environment(
    p: Page,
    State(state): State<AppState>,
    form: Result<Form<EnvironmentForm>, FormRejection>,
) -> PageResult {
    p.require(Permission::EditEnvironments)?;
    let f = form.map(|f| f.0).unwrap_or_default();
    let result = async {
        let mut headers = BTreeMap::new();
        if let Some(name) = optional_text(&f.header_name) {
            headers.insert(name, f.header_value.trim().to_string());
        }
        state.check_outbound(Purpose::Probe, "base_url", &f.base_url)?;
        let env = state
            .store
            .create_environment(
                p.caller.ws(),
                NewEnvironment {
                    name: f.name.clone(),
                    base_url: f.base_url.clone(),
                    headers,
                    interval_s: interval(&f.interval_s)?,
                },
            )
            .await?;
        Ok::<_, ApiError>(env.id)
    }
    .await;
    Ok(match result {
        Ok(id) => redirect(&format!("/environments/{id}")),
        Err(e) => back("/environments", Err(e)),
    })
}

pub struct ProbeView {
    pub probe: Probe,
    pub expects: String,
    pub result: String,
    pub passed: Option<bool>,
    pub at: String,
}

#[derive(Template)]
#[template(path = "environment.html")]
pub struct EnvironmentPage {
    pub frame: Frame,
    pub env: Environment,
    /// Header names with masked values.
    pub headers: Vec<(String, String)>,
    pub probes: Vec<ProbeView>,
    pub features: Vec<Feature>,
    pub methods: Vec<ProbeMethod>,
    pub can_edit: bool,
    pub error: String,
    pub ran: bool,
}
framed!(EnvironmentPage);

fn expects(p: &Probe) -> String {
    let mut parts = vec![format!("HTTP {}", p.expect_status)];
    if let Some(b) = &p.expect_body {
        parts.push(format!("∋ \"{b}\""));
    }
    if let Some(r) = &p.expect_regex {
        parts.push(format!("~ /{r}/"));
    }
    if let (Some(ptr), Some(v)) = (&p.json_pointer, &p.json_value) {
        parts.push(format!("{ptr} = {v}"));
    }
    parts.push(format!("≤ {} ms", p.timeout_ms));
    parts.join(" · ")
}

pub async fn environment(
    p: Page,
    State(state): State<AppState>,
    PagePath(id): PagePath<i64>,
    q: Result<Query<MessageQuery>, QueryRejection>,
    headers: axum::http::HeaderMap,
) -> PageResult {
    let ws = p.caller.ws();
    let mut q: MessageQuery = q.map(|q| q.0).unwrap_or_default();
    // Refusals come in a one-time cookie, never from the address a link could carry.
    q.error = super::flash(&headers);
    let env = state
        .store
        .get_environment(ws, id)
        .await
        .map_err(fail(&p))?;
    let probes = state
        .store
        .list_probes(ws, Some(id))
        .await
        .map_err(fail(&p))?
        .into_iter()
        .map(|probe| {
            let (result, passed, at) = match &probe.last_run {
                None => (String::new(), None, String::new()),
                Some(r) => (
                    match &r.failure {
                        None => format!(
                            "HTTP {} · {} ms",
                            r.status.unwrap_or_default(),
                            r.elapsed_ms
                        ),
                        Some(f) => match p.l {
                            Lang::Zh => f.zh(),
                            Lang::En => f.en(),
                        },
                    },
                    Some(r.passed),
                    beijing_time(&r.at),
                ),
            };
            ProbeView {
                expects: expects(&probe),
                probe,
                result,
                passed,
                at,
            }
        })
        .collect();
    let features = state
        .store
        .list_features(ws, &FeatureFilter::default())
        .await
        .map_err(fail(&p))?
        .into_iter()
        .filter(|f| f.stage.works())
        .collect();
    let headers = env
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), cunjin_core::probe::mask_secret(v)))
        .collect();
    Ok(render(&EnvironmentPage {
        frame: p.frame("demos"),
        env,
        headers,
        probes,
        features,
        methods: ProbeMethod::ALL.to_vec(),
        can_edit: p.caller.user.role.can(Permission::EditEnvironments),
        error: q.error,
        ran: !q.done.is_empty(),
    }))
}

pub async fn update_environment(
    p: Page,
    State(state): State<AppState>,
    PagePath(id): PagePath<i64>,
    form: Result<Form<EnvironmentForm>, FormRejection>,
) -> PageResult {
    p.require(Permission::EditEnvironments)?;
    let f = form.map(|f| f.0).unwrap_or_default();
    let result = async {
        let mut headers = BTreeMap::new();
        if let Some(name) = optional_text(&f.header_name) {
            // An empty value removes the header; a header not named keeps its secret.
            headers.insert(name, optional_text(&f.header_value));
        }
        if let Some(url) = optional_text(&f.base_url) {
            state.check_outbound(Purpose::Probe, "base_url", &url)?;
        }
        let change = EnvironmentChange {
            name: optional_text(&f.name),
            base_url: optional_text(&f.base_url),
            headers,
            interval_s: interval(&f.interval_s)?,
        };
        state
            .store
            .update_environment(p.caller.ws(), id, change)
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    Ok(back(&format!("/environments/{id}"), result))
}

pub async fn run_environment(
    p: Page,
    State(state): State<AppState>,
    PagePath(id): PagePath<i64>,
) -> PageResult {
    p.require(Permission::EditEnvironments)?;
    let result = check_environment(&state.store, &state.prober, p.caller.ws(), id)
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    Ok(match result {
        Ok(()) => redirect(&format!("/environments/{id}?done=1")),
        Err(e) => back(&format!("/environments/{id}"), Err(e)),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ProbeForm {
    feature_id: String,
    dataset: String,
    method: String,
    path: String,
    expect_status: String,
    expect_body: String,
    expect_regex: String,
    json_pointer: String,
    json_value: String,
    timeout_ms: String,
}

fn optional_number(field: &'static str, s: &str) -> Result<Option<i64>, ApiError> {
    match s.trim() {
        "" => Ok(None),
        v => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(format!("{field}: '{v}' is not a number"))),
    }
}

pub async fn create_probe(
    p: Page,
    State(state): State<AppState>,
    PagePath(id): PagePath<i64>,
    form: Result<Form<ProbeForm>, FormRejection>,
) -> PageResult {
    p.require(Permission::EditEnvironments)?;
    let f = form.map(|f| f.0).unwrap_or_default();
    let result = async {
        let feature_id = optional_id("feature_id", &f.feature_id)?;
        let new = NewProbe {
            environment_id: id,
            feature_id,
            // A picked feature wins over a data set typed as well.
            dataset: if feature_id.is_some() {
                None
            } else {
                optional_text(&f.dataset)
            },
            method: optional_text(&f.method),
            path: f.path.clone(),
            expect_status: optional_number("expect_status", &f.expect_status)?,
            expect_body: optional_text(&f.expect_body),
            expect_regex: optional_text(&f.expect_regex),
            json_pointer: optional_text(&f.json_pointer),
            json_value: optional_text(&f.json_value),
            timeout_ms: optional_number("timeout_ms", &f.timeout_ms)?,
        };
        state.store.create_probe(p.caller.ws(), new).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    Ok(back(&format!("/environments/{id}"), result))
}

pub async fn delete_probe(
    p: Page,
    State(state): State<AppState>,
    PagePath((id, probe_id)): PagePath<(i64, i64)>,
) -> PageResult {
    p.require(Permission::EditEnvironments)?;
    let result = state
        .store
        .delete_probe(p.caller.ws(), probe_id)
        .await
        .map_err(ApiError::from);
    Ok(back(&format!("/environments/{id}"), result))
}

// ---------------------------------------------------------------- demos

pub struct DemoRow {
    pub demo: Demo,
    pub when: String,
    pub upcoming: bool,
    pub readiness: Option<String>,
    pub ready: Option<bool>,
}

#[derive(Template)]
#[template(path = "demos.html")]
pub struct DemosPage {
    pub frame: Frame,
    pub rows: Vec<DemoRow>,
    pub can_plan: bool,
}
framed!(DemosPage);

fn percent(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

pub async fn demos(p: Page, State(state): State<AppState>) -> PageResult {
    let now = cunjin_store::stored_time(chrono::Utc::now());
    let mut rows: Vec<DemoRow> = state
        .store
        .list_demos(p.caller.ws(), None)
        .await
        .map_err(fail(&p))?
        .into_iter()
        .map(|demo| DemoRow {
            when: beijing_time(&demo.starts_at),
            upcoming: demo.starts_at >= now,
            readiness: demo.last_check.as_ref().map(|c| percent(c.readiness)),
            ready: demo.last_check.as_ref().map(|c| c.ready),
            demo,
        })
        .collect();
    // Upcoming first, soonest first; then the past, latest first.
    rows.sort_by(|a, b| {
        b.upcoming.cmp(&a.upcoming).then_with(|| {
            if a.upcoming {
                a.demo.starts_at.cmp(&b.demo.starts_at)
            } else {
                b.demo.starts_at.cmp(&a.demo.starts_at)
            }
        })
    });
    Ok(render(&DemosPage {
        frame: p.frame("demos"),
        rows,
        can_plan: p.caller.user.role.can(Permission::RunDemos),
    }))
}

/// One row of the script editor, as typed.
#[derive(Default, Clone)]
pub struct ScriptRow {
    pub feature_id: String,
    pub text: String,
    pub must_show: bool,
}

/// What was typed into the new-demo form, kept when it fails.
#[derive(Default)]
pub struct DemoForm {
    pub customer_id: String,
    pub deal_id: String,
    pub environment_id: String,
    pub title: String,
    pub starts_at: String,
    pub tz: String,
    pub attendees: String,
    pub rows: Vec<ScriptRow>,
}

impl DemoForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> DemoForm {
        let mut f = DemoForm {
            rows: vec![ScriptRow::default(); SCRIPT_ROWS],
            ..Default::default()
        };
        for (k, v) in pairs {
            match k.as_str() {
                "customer_id" => f.customer_id = v,
                "deal_id" => f.deal_id = v,
                "environment_id" => f.environment_id = v,
                "title" => f.title = v,
                "starts_at" => f.starts_at = v,
                "tz" => f.tz = v,
                "attendees" => f.attendees = v,
                other => {
                    // item{N}_feature, item{N}_text, item{N}_must
                    let Some((n, field)) =
                        other.strip_prefix("item").and_then(|r| r.split_once('_'))
                    else {
                        continue;
                    };
                    let Some(row) = n.parse::<usize>().ok().and_then(|n| f.rows.get_mut(n)) else {
                        continue;
                    };
                    match field {
                        "feature" => row.feature_id = v,
                        "text" => row.text = v,
                        "must" => row.must_show = true,
                        _ => {}
                    }
                }
            }
        }
        f
    }

    fn parse(&self) -> Result<CreateDemo, ApiError> {
        let tz = if self.tz.trim().is_empty() {
            "+08:00"
        } else {
            self.tz.trim()
        };
        let starts = self.starts_at.trim();
        // datetime-local gives 2026-12-01T09:30; the zone comes from its own field.
        let starts_at = if starts.len() == 16 {
            format!("{starts}:00{tz}")
        } else {
            format!("{starts}{tz}")
        };
        parse_starts_at(&starts_at).map_err(|_| {
            ApiError::invalid(format!("starts_at: '{starts}' is not a date and time"))
        })?;
        Ok(CreateDemo {
            customer_id: optional_id("customer_id", &self.customer_id)?
                .ok_or_else(|| ApiError::invalid("customer_id: choose a customer"))?,
            deal_id: optional_id("deal_id", &self.deal_id)?,
            environment_id: optional_id("environment_id", &self.environment_id)?,
            title: optional_text(&self.title),
            starts_at,
            attendees: self
                .attendees
                .split(['\n', ',', '，', '、'])
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_string)
                .collect(),
            script: self
                .rows
                .iter()
                .filter_map(|r| {
                    let feature_id = optional_id("feature_id", &r.feature_id);
                    let text = optional_text(&r.text);
                    match feature_id {
                        Err(e) => Some(Err(e)),
                        Ok(None) if text.is_none() => None,
                        // A picked feature wins over words typed as well.
                        Ok(Some(id)) => Some(Ok(ScriptItemInput {
                            feature_id: Some(id),
                            text: None,
                            must_show: r.must_show,
                        })),
                        Ok(None) => Some(Ok(ScriptItemInput {
                            feature_id: None,
                            text,
                            must_show: r.must_show,
                        })),
                    }
                })
                .collect::<Result<_, _>>()?,
        })
    }
}

pub struct Choice {
    pub id: i64,
    pub label: String,
}

#[derive(Template)]
#[template(path = "demo_new.html")]
pub struct NewDemoPage {
    pub frame: Frame,
    pub customers: Vec<Customer>,
    pub deals: Vec<Choice>,
    pub environments: Vec<Environment>,
    pub features: Vec<Choice>,
    pub form: DemoForm,
    pub error: String,
    /// The demo being changed, or 0 for a new one.
    pub editing: i64,
}
framed!(NewDemoPage);

async fn demo_form_page(
    p: &Page,
    state: &AppState,
    form: DemoForm,
    error: Option<ApiError>,
    editing: i64,
) -> PageResult {
    let ws = p.caller.ws();
    let customers = state.store.list_customers(ws).await.map_err(fail(p))?;
    let names: HashMap<CustomerId, &str> =
        customers.iter().map(|c| (c.id, c.name.as_str())).collect();
    let deals = state
        .store
        .list_deals(ws, None)
        .await
        .map_err(fail(p))?
        .into_iter()
        .map(|d| Choice {
            id: d.id.0,
            label: format!(
                "{} — {}",
                names.get(&d.customer_id).copied().unwrap_or_default(),
                d.name
            ),
        })
        .collect();
    let features = state
        .store
        .list_features(ws, &FeatureFilter::default())
        .await
        .map_err(fail(p))?
        .into_iter()
        .map(|f| Choice {
            id: f.id,
            label: format!("{} [{}]", f.menu_path, p.l.stage(f.stage)),
        })
        .collect();
    let environments = state.store.list_environments(ws).await.map_err(fail(p))?;
    let (status, error) = match error {
        None => (axum::http::StatusCode::OK, String::new()),
        Some(e) => (e.status, e.message),
    };
    Ok((
        status,
        render(&NewDemoPage {
            frame: p.frame("demos"),
            customers,
            deals,
            environments,
            features,
            form,
            error,
            editing,
        }),
    )
        .into_response())
}

/// The form of an existing demo, in Beijing time, with room for three more script rows.
fn form_of(demo: &Demo) -> DemoForm {
    let mut rows: Vec<ScriptRow> = demo
        .script
        .iter()
        .map(|i| ScriptRow {
            feature_id: i.feature_id.map(|f| f.to_string()).unwrap_or_default(),
            text: i.text.clone().unwrap_or_default(),
            must_show: i.must_show,
        })
        .collect();
    rows.resize(SCRIPT_ROWS.max(rows.len() + 3), ScriptRow::default());
    DemoForm {
        customer_id: demo.customer_id.to_string(),
        deal_id: demo.deal_id.map(|d| d.to_string()).unwrap_or_default(),
        environment_id: demo
            .environment_id
            .map(|e| e.to_string())
            .unwrap_or_default(),
        title: demo.title.clone(),
        starts_at: beijing_time(&demo.starts_at).replace(' ', "T"),
        tz: "+08:00".into(),
        attendees: demo.attendees.join("\n"),
        rows,
    }
}

pub async fn edit_demo(
    p: Page,
    State(state): State<AppState>,
    PagePath(id): PagePath<i64>,
) -> PageResult {
    p.require(Permission::RunDemos)?;
    let demo = state
        .store
        .get_demo(p.caller.ws(), id)
        .await
        .map_err(fail(&p))?;
    demo_form_page(&p, &state, form_of(&demo), None, id).await
}

pub async fn update_demo(
    p: Page,
    State(state): State<AppState>,
    PagePath(id): PagePath<i64>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> PageResult {
    p.require(Permission::RunDemos)?;
    let ws = p.caller.ws();
    let demo = state.store.get_demo(ws, id).await.map_err(fail(&p))?;
    let mut form = DemoForm::from_pairs(form.map(|f| f.0).unwrap_or_default());
    // The customer and deal stay; they are not on the edit form.
    form.customer_id = demo.customer_id.to_string();
    let attempt = async {
        let new = form.parse()?.into_new()?;
        let same_script = new.script.len() == demo.script.len()
            && new.script.iter().zip(&demo.script).all(|(a, b)| {
                a.feature_id == b.feature_id
                    && a.text.as_deref().map(str::trim) == b.text.as_deref()
                    && a.must_show == b.must_show
            });
        let change = DemoChange {
            title: new.title,
            starts_at: Some(new.starts_at),
            environment_id: new.environment_id,
            attendees: Some(new.attendees),
            // Unchanged, the script and its last check stay.
            script: (!same_script).then_some(new.script),
        };
        Ok::<_, ApiError>(state.store.update_demo(ws, id, change).await?)
    }
    .await;
    match attempt {
        Ok(_) => Ok(redirect(&format!("/demos/{id}"))),
        Err(e) => demo_form_page(&p, &state, form, Some(e), id).await,
    }
}

pub async fn new_demo(p: Page, State(state): State<AppState>) -> PageResult {
    p.require(Permission::RunDemos)?;
    let form = DemoForm {
        rows: vec![ScriptRow::default(); SCRIPT_ROWS],
        tz: "+08:00".into(),
        ..Default::default()
    };
    demo_form_page(&p, &state, form, None, 0).await
}

pub async fn create_demo(
    p: Page,
    State(state): State<AppState>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> PageResult {
    p.require(Permission::RunDemos)?;
    let form = DemoForm::from_pairs(form.map(|f| f.0).unwrap_or_default());
    let attempt = async {
        let new = form.parse()?.into_new()?;
        Ok::<_, ApiError>(state.store.create_demo(p.caller.ws(), new).await?)
    }
    .await;
    match attempt {
        Ok(d) => Ok(redirect(&format!("/demos/{}", d.id))),
        Err(e) => demo_form_page(&p, &state, form, Some(e), 0).await,
    }
}

pub struct ItemView {
    pub item: DemoItem,
    pub checked: Option<CheckedItem>,
    /// The mode to preselect when recording promises.
    pub mode: Mode,
    pub notes: Vec<String>,
}

#[derive(Template)]
#[template(path = "demo.html")]
pub struct DemoPage {
    pub frame: Frame,
    pub demo: Demo,
    pub when: String,
    pub check: Option<DemoCheck>,
    pub checked_at: String,
    pub readiness: String,
    pub items: Vec<ItemView>,
    pub modes: Vec<Mode>,
    pub can_check: bool,
    pub can_record: bool,
    pub error: String,
}
framed!(DemoPage);

fn notes_in(l: Lang, c: &CheckedItem) -> Vec<String> {
    match l {
        Lang::Zh => c.notes_zh.clone(),
        Lang::En => c.notes.clone(),
    }
}

fn item_views(l: Lang, demo: &Demo) -> Vec<ItemView> {
    demo.script
        .iter()
        .map(|item| {
            let checked = demo
                .last_check
                .as_ref()
                .and_then(|c| c.items.iter().find(|i| i.item_id == item.id))
                .cloned();
            let mode = match (&checked, &item.feature) {
                (Some(c), _) => c.mode,
                (None, Some(f)) => Mode::for_feature(f.stage, cunjin_core::Health::Unverified),
                (None, None) => Mode::Promise,
            };
            ItemView {
                notes: checked.as_ref().map(|c| notes_in(l, c)).unwrap_or_default(),
                item: item.clone(),
                checked,
                mode,
            }
        })
        .collect()
}

pub async fn demo(
    p: Page,
    State(state): State<AppState>,
    PagePath(id): PagePath<i64>,
    q: Result<Query<MessageQuery>, QueryRejection>,
    headers: axum::http::HeaderMap,
) -> PageResult {
    let mut q: MessageQuery = q.map(|q| q.0).unwrap_or_default();
    // Refusals come in a one-time cookie, never from the address a link could carry.
    q.error = super::flash(&headers);
    let demo = state
        .store
        .get_demo(p.caller.ws(), id)
        .await
        .map_err(fail(&p))?;
    let items = item_views(p.l, &demo);
    let role = p.caller.user.role;
    Ok(render(&DemoPage {
        frame: p.frame("demos"),
        when: beijing_time(&demo.starts_at),
        check: demo.last_check.clone(),
        checked_at: demo
            .last_check
            .as_ref()
            .map(|c| beijing_time(&c.checked_at))
            .unwrap_or_default(),
        readiness: demo
            .last_check
            .as_ref()
            .map(|c| percent(c.readiness))
            .unwrap_or_default(),
        items,
        demo,
        modes: Mode::ALL.to_vec(),
        can_check: role.can(Permission::RunDemos),
        can_record: role.can(Permission::RecordPromise),
        error: q.error,
    }))
}

pub async fn check(
    p: Page,
    State(state): State<AppState>,
    PagePath(id): PagePath<i64>,
) -> PageResult {
    p.require(Permission::RunDemos)?;
    let result = check_demo(&state.store, &state.prober, p.caller.ws(), id, "manual")
        .await
        .map(|_| ())
        .map_err(ApiError::from);
    Ok(back(&format!("/demos/{id}"), result))
}

pub async fn record_promises(
    p: Page,
    State(state): State<AppState>,
    PagePath(id): PagePath<i64>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> PageResult {
    p.require(Permission::RecordPromise)?;
    let pairs = form.map(|f| f.0).unwrap_or_default();
    let result = async {
        let modes: HashMap<&str, &str> = pairs
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("mode_").map(|item| (item, v.as_str())))
            .collect();
        let mut picks = Vec::new();
        for (k, _) in &pairs {
            let Some(item) = k.strip_prefix("pick_") else {
                continue;
            };
            let item_id = item
                .parse()
                .map_err(|_| ApiError::invalid(format!("items: '{item}' is not an id")))?;
            picks.push(PromisePick {
                item_id,
                shown_as: modes.get(item).map(|m| Mode::parse(m)).transpose()?,
                critical: None,
                criteria: Vec::new(),
            });
        }
        let recorded = state
            .store
            .record_demo_promises(p.caller.ws(), p.caller.actor(), id, picks)
            .await?;
        Ok::<_, ApiError>(recorded.first().map(|c| c.customer_id))
    }
    .await;
    Ok(match result {
        Ok(Some(customer)) => redirect(&format!("/customers/{customer}?recorded=1")),
        Ok(None) => redirect(&format!("/demos/{id}")),
        Err(e) => back(&format!("/demos/{id}"), Err(e)),
    })
}

pub struct TrackRow {
    pub n: usize,
    pub title: String,
    pub menu_path: String,
    pub must_show: bool,
    pub mode: Mode,
    pub todo_key: &'static str,
    pub link: Option<String>,
    pub notes: Vec<String>,
    pub release: String,
}

#[derive(Template)]
#[template(path = "talk_track.html")]
pub struct TalkTrackPage {
    pub frame: Frame,
    pub demo: Demo,
    pub when: String,
    pub checked_at: String,
    pub checked: bool,
    pub ready: bool,
    pub readiness: String,
    pub rows: Vec<TrackRow>,
}
framed!(TalkTrackPage);

/// What the presenter does in each mode.
fn todo_key(m: Mode) -> &'static str {
    match m {
        Mode::Live => "track.do.live",
        Mode::Fallback => "track.do.fallback",
        Mode::Unverified => "track.do.unverified",
        Mode::Menu => "track.do.menu",
        Mode::Slides => "track.do.slides",
        Mode::Words => "track.do.words",
        Mode::Promise => "track.do.promise",
    }
}

pub async fn talk_track(
    p: Page,
    State(state): State<AppState>,
    PagePath(id): PagePath<i64>,
) -> PageResult {
    let demo = state
        .store
        .get_demo(p.caller.ws(), id)
        .await
        .map_err(fail(&p))?;
    let rows = item_views(p.l, &demo)
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let f = v.item.feature.as_ref();
            let link = match v.mode {
                Mode::Fallback => f.and_then(|f| f.recording_url.clone()),
                Mode::Slides => f.and_then(|f| f.slide_url.clone()),
                _ => None,
            };
            TrackRow {
                n: i + 1,
                title: v.item.title(),
                menu_path: f.map(|f| f.menu_path.clone()).unwrap_or_default(),
                must_show: v.item.must_show,
                mode: v.mode,
                todo_key: todo_key(v.mode),
                link,
                notes: v.notes,
                release: f.and_then(|f| f.target_release.clone()).unwrap_or_default(),
            }
        })
        .collect();
    Ok(render(&TalkTrackPage {
        frame: p.frame("demos"),
        when: beijing_time(&demo.starts_at),
        checked: demo.last_check.is_some(),
        checked_at: demo
            .last_check
            .as_ref()
            .map(|c| beijing_time(&c.checked_at))
            .unwrap_or_default(),
        ready: demo.last_check.as_ref().is_some_and(|c| c.ready),
        readiness: demo
            .last_check
            .as_ref()
            .map(|c| percent(c.readiness))
            .unwrap_or_default(),
        rows,
        demo,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_editor_reads_indexed_rows() {
        let f = DemoForm::from_pairs(vec![
            ("customer_id".into(), "3".into()),
            ("starts_at".into(), "2026-12-01T09:30".into()),
            ("tz".into(), "+08:00".into()),
            ("attendees".into(), "王院长，李主任\n张工".into()),
            ("item0_feature".into(), "7".into()),
            ("item0_must".into(), "1".into()),
            ("item2_text".into(), "全院一张床".into()),
            ("item99_text".into(), "ignored".into()),
        ]);
        let d = f.parse().unwrap();
        assert_eq!(d.customer_id, 3);
        assert_eq!(d.attendees, ["王院长", "李主任", "张工"]);
        assert_eq!(d.script.len(), 2);
        assert_eq!(
            (d.script[0].feature_id, d.script[0].must_show),
            (Some(7), true)
        );
        assert_eq!(d.script[1].text.as_deref(), Some("全院一张床"));
        assert_eq!(
            parse_starts_at(&d.starts_at).unwrap().to_rfc3339(),
            "2026-12-01T01:30:00+00:00"
        );
        assert_eq!(beijing_time("2026-12-01T01:30:00.000Z"), "2026-12-01 09:30");
    }
}
