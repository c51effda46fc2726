//! The hats ledger: time entries and the report of where the time goes.

use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use cunjin_core::hats::{self, PersonReport};
use cunjin_core::{Hat, Permission};
use cunjin_store::hats::{normalize_person, NewTimeEntry, TimeEntry, TimeFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{parse_date, ApiJson, ApiPath, ApiQuery};
use crate::AppState;

/// The endpoints of this module, with their OpenAPI descriptions.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_time_entries, create_time_entry))
        .routes(routes!(delete_time_entry))
        .routes(routes!(hats_report))
}

/// Time to record.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTimeEntry {
    /// Who (default: the caller's e-mail address). Recording for somebody else needs pm or admin.
    pub person: Option<String>,
    /// The day, YYYY-MM-DD (default today).
    pub date: Option<String>,
    /// planning, implementation, testing, presales or relay.
    pub hat: String,
    /// Minutes, 1 to 1440.
    pub minutes: i64,
    /// What it was.
    #[serde(default)]
    pub note: String,
}

/// Whether `caller` acts for `person` or for somebody else.
fn for_somebody_else(caller: &Caller, person: &str) -> bool {
    normalize_person(person).ok().as_deref() != Some(caller.user.email.as_str())
}

/// Turns the form or JSON into an entry, checking who may record for whom.
pub fn parse_entry(caller: &Caller, body: CreateTimeEntry) -> Result<NewTimeEntry, ApiError> {
    let person = body
        .person
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| caller.user.email.clone());
    caller.require(Permission::LogTime, "record time")?;
    if for_somebody_else(caller, &person) {
        caller.require(
            Permission::LogTimeForOthers,
            "record time for somebody else",
        )?;
    }
    Ok(NewTimeEntry {
        person,
        date: parse_date("date", body.date.as_deref())?.unwrap_or_else(cunjin_store::today),
        hat: Hat::parse(&body.hat)?,
        minutes: body.minutes,
        note: body.note,
    })
}

/// Records time spent under one hat.
#[utoipa::path(post, path = "/api/v1/time-entries", tag = "hats", request_body = CreateTimeEntry,
    responses((status = 201, body = TimeEntry), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn create_time_entry(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateTimeEntry>,
) -> ApiResult<(StatusCode, Json<TimeEntry>)> {
    let new = parse_entry(&caller, body)?;
    let e = state
        .store
        .create_time_entry(caller.ws(), caller.actor(), new)
        .await?;
    Ok((StatusCode::CREATED, Json(e)))
}

/// Filters of the entry list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimeQuery {
    /// One person.
    pub person: Option<String>,
    /// From this day, YYYY-MM-DD.
    pub from: Option<String>,
    /// To this day, YYYY-MM-DD.
    pub to: Option<String>,
    /// At most this many (default 500).
    pub limit: Option<i64>,
}

/// Time entries, newest day first.
#[utoipa::path(get, path = "/api/v1/time-entries", tag = "hats", params(TimeQuery),
    responses((status = 200, body = Vec<TimeEntry>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn list_time_entries(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<TimeQuery>,
) -> ApiResult<Json<Vec<TimeEntry>>> {
    caller.require(Permission::Read, "read")?;
    let filter = TimeFilter {
        person: q.person,
        from: parse_date("from", q.from.as_deref())?,
        to: parse_date("to", q.to.as_deref())?,
        limit: q.limit,
    };
    Ok(Json(
        state.store.list_time_entries(caller.ws(), &filter).await?,
    ))
}

/// Removes an entry: one's own, or anybody's for pm and admin.
#[utoipa::path(delete, path = "/api/v1/time-entries/{id}", tag = "hats",
    params(("id" = i64, Path, description = "Entry id")),
    responses((status = 204, description = "Removed"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn delete_time_entry(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    remove_entry(&caller, &state, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes an entry after checking whose it is.
pub async fn remove_entry(caller: &Caller, state: &AppState, id: i64) -> Result<(), ApiError> {
    caller.require(Permission::LogTime, "remove time")?;
    let e = state.store.get_time_entry(caller.ws(), id).await?;
    if for_somebody_else(caller, &e.person) && e.created_by != caller.user.email {
        caller.require(Permission::LogTimeForOthers, "remove somebody else's time")?;
    }
    state.store.delete_time_entry(caller.ws(), id).await?;
    Ok(())
}

/// Options of the report.
#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct HatsQuery {
    /// From this day (default: the Monday seven weeks before `to`'s week).
    pub from: Option<String>,
    /// To this day (default today).
    pub to: Option<String>,
    /// Only this person.
    pub person: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// Where the time goes, per person and for the team.
#[derive(Serialize, ToSchema)]
pub struct HatsReport {
    /// First day.
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    /// Last day.
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// The hats, in the order of every `minutes` and `shares` array.
    pub hats: Vec<String>,
    /// Per person: weeks (`week`, `minutes`, `total`, `shares`), `planning_trend`, `verdict`
    /// (yes/partly/no/unknown), `planning_share`, `top_hat`.
    #[schema(value_type = Vec<Object>)]
    pub people: Vec<PersonReport>,
    /// The same for everybody together.
    #[schema(value_type = Object)]
    pub team: PersonReport,
}

/// Builds the report, counting demos a person attended as pre-sales time.
pub async fn build_report(
    state: &AppState,
    ws: i64,
    q: &HatsQuery,
) -> Result<HatsReport, ApiError> {
    let to = parse_date("to", q.to.as_deref())?.unwrap_or_else(cunjin_store::today);
    let from = parse_date("from", q.from.as_deref())?
        .unwrap_or_else(|| hats::week_start(to) - chrono::Duration::weeks(7));
    if from > to {
        return Err(ApiError::invalid("from: must not be after to"));
    }
    if (to - from).num_days() > 3 * 366 {
        return Err(ApiError::invalid("at most three years at a time"));
    }
    let person = q.person.as_deref().filter(|p| !p.trim().is_empty());
    let spent = state.store.time_spent(ws, from, to, person).await?;
    let demos = state.store.demo_attendance(ws, from, to, person).await?;
    let (people, team) = hats::report(&hats::with_attendance(&spent, &demos), from, to);
    Ok(HatsReport {
        from,
        to,
        hats: Hat::ALL.iter().map(|h| h.as_str().to_string()).collect(),
        people,
        team,
    })
}

/// The report as CSV: one line per person, week and hat.
pub fn report_csv(r: &HatsReport) -> String {
    let mut out = String::from("person,week,hat,minutes,share\n");
    let team = PersonReport {
        person: "team".to_string(),
        ..r.team.clone()
    };
    for p in r.people.iter().chain(std::iter::once(&team)) {
        for w in &p.weeks {
            for (i, hat) in Hat::ALL.iter().enumerate() {
                out.push_str(&format!(
                    "{},{},{},{},{:.4}\n",
                    crate::delivery::csv_field(&p.person),
                    w.week,
                    hat,
                    w.minutes[i],
                    w.shares[i]
                ));
            }
        }
    }
    out
}

/// Share per hat per week, the planning trend and the verdict; `format=csv` for a spreadsheet.
#[utoipa::path(get, path = "/api/v1/reports/hats", tag = "hats", params(HatsQuery),
    responses((status = 200, body = HatsReport), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn hats_report(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<HatsQuery>,
) -> ApiResult<Response> {
    caller.require(Permission::Read, "read")?;
    let report = build_report(&state, caller.ws(), &q).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(report).into_response()),
        "csv" => Ok((
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"hats-{}-{}.csv\"",
                        report.from, report.to
                    ),
                ),
            ],
            // A byte-order mark so that Excel opens Chinese names as UTF-8.
            format!("\u{feff}{}", report_csv(&report)),
        )
            .into_response()),
        other => Err(ApiError::invalid(format!(
            "format: '{other}' is not one of: json, csv"
        ))),
    }
}
