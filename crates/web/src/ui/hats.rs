//! The hats page: quick time entry, and the answer to "am I still a product manager?".

use super::Frame;
use askama::Template;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Form;
use cunjin_core::hats::{PersonReport, Verdict, WeekShare};
use cunjin_core::{Hat, Permission};
use cunjin_store::hats::{TimeEntry, TimeFilter};
use serde::Deserialize;

use super::PagePath;
use super::{api_error_page, redirect, render, Page};
use crate::api::hats::{build_report, parse_entry, remove_entry, CreateTimeEntry, HatsQuery};
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::AppState;

/// The pages of this module and the forms they post to.
pub(super) fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/hats", get(page).post(record))
        .route("/hats/{id}/delete", post(delete))
}

/// One week of the table.
pub struct WeekRow {
    pub week: String,
    pub percents: Vec<String>,
    pub hours: String,
    pub planning: String,
}

#[derive(Template)]
#[template(path = "hats.html")]
pub struct HatsPage {
    pub frame: Frame,
    pub saved: bool,
    pub error: String,
    pub can_log: bool,
    pub can_log_for_others: bool,
    pub minute_choices: Vec<u32>,
    pub form_minutes: u32,
    pub today: String,
    pub hats: Vec<Hat>,
    pub verdict_class: &'static str,
    pub verdict_text: String,
    pub people: Vec<String>,
    pub shown_person: String,
    pub csv_href: String,
    pub chart: String,
    pub weeks: Vec<WeekRow>,
    pub entries: Vec<TimeEntry>,
}
framed!(HatsPage);

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct HatsPageQuery {
    person: Option<String>,
    saved: Option<String>,
}

const COLORS: [&str; 5] = ["#2f6f8f", "#b4441f", "#7a5c99", "#c28b1c", "#6b7680"];

/// Stacked bars of hours per hat each week, and the planning share as a line on a 0–100 % scale.
/// Drawn here as plain SVG so that the page needs no script and no CDN.
pub fn weeks_svg(weeks: &[WeekShare], l: Lang) -> String {
    let (w, h, left, bottom, top) = (760.0, 260.0, 46.0, 28.0, 34.0);
    let plot_h = h - bottom - top;
    // The hour axis ends on a multiple of four hours, so that its quarter ticks are whole hours.
    let max_hours = weeks
        .iter()
        .map(|w| w.total)
        .max()
        .unwrap_or(0)
        .div_ceil(60)
        .max(1);
    let max_total = (max_hours.div_ceil(4) * 4 * 60) as f64;
    let slot = (w - left - 46.0) / weeks.len().max(1) as f64;
    let bar = (slot * 0.6).min(48.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"{}\">",
        l.t("hats.chart")
    );
    // Hour grid on the left, percent on the right.
    for i in 0..=4 {
        let y = top + plot_h * (1.0 - i as f64 / 4.0);
        svg.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e7eb\"/>\
             <text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#6b7680\">{:.0}h</text>\
             <text x=\"{}\" y=\"{:.1}\" font-size=\"10\" fill=\"#2f6f8f\">{}%</text>",
            w - 40.0,
            left - 4.0,
            y + 3.0,
            max_total / 60.0 * i as f64 / 4.0,
            w - 36.0,
            y + 3.0,
            i * 25
        ));
    }
    let mut line = Vec::new();
    for (i, wk) in weeks.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = top + plot_h;
        for (k, m) in wk.minutes.iter().enumerate() {
            if *m == 0 {
                continue;
            }
            let bh = plot_h * *m as f64 / max_total;
            y -= bh;
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{} {}: {:.1}h</title></rect>",
                COLORS[k],
                wk.week,
                l.hat(Hat::ALL[k]),
                *m as f64 / 60.0
            ));
        }
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#6b7680\">{}</text>",
            x + bar / 2.0,
            h - 10.0,
            wk.week.format("%m-%d")
        ));
        if wk.total > 0 {
            line.push(format!(
                "{:.1},{:.1}",
                x + bar / 2.0,
                top + plot_h * (1.0 - wk.share(Hat::Planning))
            ));
        }
    }
    if !line.is_empty() {
        svg.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#2f6f8f\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>",
            line.join(" ")
        ));
    }
    for (k, hat) in Hat::ALL.iter().enumerate() {
        let x = left + k as f64 * 120.0;
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"8\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"18\" font-size=\"12\">{}</text>",
            COLORS[k],
            x + 16.0,
            l.hat(*hat)
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn verdict_text(l: Lang, r: &PersonReport) -> (&'static str, String) {
    let p = format!("{:.0}", r.planning_share * 100.0);
    let top = r.top_hat.map(|h| l.hat(h)).unwrap_or("");
    let (class, key) = match r.verdict {
        Verdict::Yes => ("yes", "verdict.yes"),
        Verdict::Partly => ("partly", "verdict.partly"),
        Verdict::No => ("no", "verdict.no"),
        Verdict::Unknown => ("unknown", "verdict.unknown"),
    };
    (class, l.t(key).replace("{p}", &p).replace("{top}", top))
}

pub async fn page(
    p: Page,
    State(state): State<AppState>,
    q: Result<Query<HatsPageQuery>, QueryRejection>,
    headers: axum::http::HeaderMap,
) -> Result<Response, Response> {
    let q = q.map(|q| q.0).unwrap_or_default();
    let error = super::flash(&headers);
    let ws = p.caller.ws();
    let fail = |e: ApiError| api_error_page(p.l, &p.me(), e);
    let shown_person = q
        .person
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| p.caller.user.email.clone());
    let person = (shown_person != "*").then(|| shown_person.clone());
    let report = build_report(
        &state,
        ws,
        &HatsQuery {
            person: person.clone(),
            ..Default::default()
        },
    )
    .await
    .map_err(fail)?;
    let (verdict_class, verdict_text) = verdict_text(p.l, &report.team);
    let weeks = report
        .team
        .weeks
        .iter()
        .map(|w| WeekRow {
            week: w.week.to_string(),
            percents: w
                .shares
                .iter()
                .map(|s| {
                    if w.total == 0 {
                        "—".into()
                    } else {
                        format!("{:.0}%", s * 100.0)
                    }
                })
                .collect(),
            hours: format!("{:.1}", w.total as f64 / 60.0),
            planning: if w.total == 0 {
                "—".into()
            } else {
                format!("{:.0}%", w.share(Hat::Planning) * 100.0)
            },
        })
        .collect();
    let mut people: Vec<String> = state
        .store
        .list_users(ws)
        .await
        .map_err(|e| fail(e.into()))?
        .into_iter()
        .map(|u| u.email)
        .collect();
    // Everybody who has time recorded, without building a second report for the list.
    for person in state
        .store
        .time_people(ws)
        .await
        .map_err(|e| fail(e.into()))?
    {
        if !people.contains(&person) {
            people.push(person);
        }
    }
    let entries = state
        .store
        .list_time_entries(
            ws,
            &TimeFilter {
                person,
                limit: Some(20),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| fail(e.into()))?;
    let csv_q = serde_urlencoded::to_string([
        ("format", "csv"),
        (
            "person",
            if shown_person == "*" {
                ""
            } else {
                shown_person.as_str()
            },
        ),
    ])
    .unwrap_or_default();
    let role = p.caller.user.role;
    Ok(super::clear_flash(render(&HatsPage {
        frame: p.frame("hats"),
        saved: q.saved.is_some(),
        error,
        can_log: role.can(Permission::LogTime),
        can_log_for_others: role.can(Permission::LogTimeForOthers),
        minute_choices: vec![15, 30, 60, 90, 120, 240],
        form_minutes: 60,
        today: cunjin_store::today().to_string(),
        hats: Hat::ALL.to_vec(),
        verdict_class,
        verdict_text,
        people,
        shown_person,
        csv_href: format!("/api/v1/reports/hats?{csv_q}"),
        chart: weeks_svg(&report.team.weeks, p.l),
        weeks,
        entries,
    })))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EntryForm {
    hat: String,
    minutes: String,
    other_minutes: String,
    date: String,
    note: String,
    person: String,
}

fn back(result: Result<(), ApiError>) -> Response {
    match result {
        Ok(()) => redirect("/hats?saved=1"),
        Err(e) => super::redirect_with_flash("/hats", &e.message),
    }
}

pub async fn record(
    p: Page,
    State(state): State<AppState>,
    form: Result<Form<EntryForm>, FormRejection>,
) -> Response {
    let f = form.map(|f| f.0).unwrap_or_default();
    let result = async {
        // A number typed in "other" wins over the chip that stayed selected.
        let raw = if f.other_minutes.trim().is_empty() {
            &f.minutes
        } else {
            &f.other_minutes
        };
        let minutes: i64 = raw
            .trim()
            .parse()
            .map_err(|_| ApiError::invalid("minutes: choose or type the minutes"))?;
        let new = parse_entry(
            &p.caller,
            CreateTimeEntry {
                person: Some(f.person.clone()),
                date: Some(f.date.clone()).filter(|d| !d.trim().is_empty()),
                hat: f.hat.clone(),
                minutes,
                note: f.note.clone(),
            },
        )?;
        state
            .store
            .create_time_entry(p.caller.ws(), p.caller.actor(), new)
            .await?;
        Ok(())
    }
    .await;
    back(result)
}

pub async fn delete(
    p: Page,
    State(state): State<AppState>,
    PagePath(id): PagePath<i64>,
) -> Response {
    back(remove_entry(&p.caller, &state, id).await)
}
