//! Time entries: who wore which hat, on which day, for how long.

use crate::column::Date;
use crate::sql::Sql;
use crate::{now, parse_date, Result, Store, StoreError};
use chrono::NaiveDate;
use cunjin_core::hats::{check_minutes, Attendance, Spent};
use cunjin_core::{Hat, ParseError};
use serde::Serialize;

/// One entry of the hats ledger.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeEntry {
    /// Id.
    pub id: i64,
    /// Who spent the time (an e-mail address or a name).
    pub person: String,
    /// The day.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    #[sqlx(try_from = "Date")]
    pub date: NaiveDate,
    /// The hat.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "planning"))]
    #[sqlx(try_from = "String")]
    pub hat: Hat,
    /// Minutes, 1 to 1440.
    #[sqlx(try_from = "i64")]
    pub minutes: u32,
    /// What it was.
    pub note: String,
    /// Who entered it.
    pub created_by: String,
}

/// An entry to record.
#[derive(Debug, Clone)]
pub struct NewTimeEntry {
    /// Who.
    pub person: String,
    /// The day.
    pub date: NaiveDate,
    /// The hat.
    pub hat: Hat,
    /// Minutes (checked here: 1 to 1440).
    pub minutes: i64,
    /// What it was.
    pub note: String,
}

/// Filters for listing entries.
#[derive(Debug, Clone, Default)]
pub struct TimeFilter {
    /// One person (case-insensitive).
    pub person: Option<String>,
    /// From this day on.
    pub from: Option<NaiveDate>,
    /// Up to this day.
    pub to: Option<NaiveDate>,
    /// At most this many (default 500, at most 5000).
    pub limit: Option<i64>,
}

const ENTRY_COLUMNS: &str =
    "SELECT id, person, date, hat, minutes, note, created_by FROM time_entries";

/// Time spent as the report reads it: the minutes of one person, day and hat added up.
#[derive(sqlx::FromRow)]
struct SpentRow {
    person: String,
    #[sqlx(try_from = "Date")]
    date: NaiveDate,
    #[sqlx(try_from = "String")]
    hat: Hat,
    #[sqlx(try_from = "i64")]
    minutes: u32,
}

impl From<SpentRow> for Spent {
    fn from(r: SpentRow) -> Spent {
        Spent {
            person: r.person,
            date: r.date,
            hat: r.hat,
            minutes: r.minutes,
        }
    }
}

/// A demo as attendance reads it.
#[derive(sqlx::FromRow)]
struct DemoAttendees {
    starts_at: String,
    attendees: String,
}

/// People are matched without regard to case or surrounding blanks.
pub fn normalize_person(p: &str) -> Result<String> {
    let p = cunjin_core::required_text("person", p, 200)?;
    Ok(p.to_lowercase())
}

impl Store {
    /// Records time.
    pub async fn create_time_entry(
        &self,
        workspace_id: i64,
        actor: &str,
        new: NewTimeEntry,
    ) -> Result<TimeEntry> {
        let person = normalize_person(&new.person)?;
        let minutes = check_minutes(new.minutes)?;
        let note = new.note.trim().to_string();
        if note.chars().count() > 1000 {
            return Err(ParseError::new("note", "at most 1000 characters").into());
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO time_entries (workspace_id, person, date, hat, minutes, note, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(workspace_id)
        .bind(&person)
        .bind(new.date.to_string())
        .bind(new.hat.as_str())
        .bind(i64::from(minutes))
        .bind(&note)
        .bind(actor)
        .bind(now())
        .fetch_one(self.writer())
        .await?;
        Ok(TimeEntry {
            id,
            person,
            date: new.date,
            hat: new.hat,
            minutes,
            note,
            created_by: actor.to_string(),
        })
    }

    /// Entries, newest day first.
    pub async fn list_time_entries(
        &self,
        workspace_id: i64,
        f: &TimeFilter,
    ) -> Result<Vec<TimeEntry>> {
        let person = f.person.as_deref().map(normalize_person).transpose()?;
        let mut q = Sql::new(ENTRY_COLUMNS);
        q.push_bind(" WHERE workspace_id = ", workspace_id)
            .and_eq("person", person)
            .and_cmp("date", ">=", f.from.map(|d| d.to_string()))
            .and_cmp("date", "<=", f.to.map(|d| d.to_string()))
            .push_bind(
                " ORDER BY date DESC, id DESC LIMIT ",
                f.limit.unwrap_or(500).clamp(1, 5000),
            );
        Ok(q.query_as().fetch_all(self.reader()).await?)
    }

    /// Everybody with time recorded, by name.
    pub async fn time_people(&self, workspace_id: i64) -> Result<Vec<String>> {
        let mut people: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT person FROM time_entries WHERE workspace_id = $1")
                .bind(workspace_id)
                .fetch_all(self.reader())
                .await?;
        // By code point, the same on both engines.
        people.sort();
        Ok(people)
    }

    /// One entry.
    pub async fn get_time_entry(&self, workspace_id: i64, id: i64) -> Result<TimeEntry> {
        let mut q = Sql::new(ENTRY_COLUMNS);
        q.push_bind(" WHERE workspace_id = ", workspace_id)
            .push_bind(" AND id = ", id);
        q.query_as()
            .fetch_optional(self.reader())
            .await?
            .ok_or_else(|| StoreError::not_found("time entry", id))
    }

    /// Removes an entry (a correction).
    pub async fn delete_time_entry(&self, workspace_id: i64, id: i64) -> Result<()> {
        let done = sqlx::query("DELETE FROM time_entries WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .execute(self.writer())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("time entry", id));
        }
        Ok(())
    }

    /// Hand-entered time between two days, for the report.
    pub async fn time_spent(
        &self,
        workspace_id: i64,
        from: NaiveDate,
        to: NaiveDate,
        person: Option<&str>,
    ) -> Result<Vec<Spent>> {
        let person = person.map(normalize_person).transpose()?;
        let mut q = Sql::new(
            "SELECT person, date, hat, CAST(SUM(minutes) AS BIGINT) AS minutes FROM time_entries \
             WHERE workspace_id = ",
        );
        q.bind(workspace_id)
            .push_bind(" AND date >= ", from.to_string())
            .push_bind(" AND date <= ", to.to_string())
            .and_eq("person", person)
            .push(" GROUP BY person, date, hat");
        let rows: Vec<SpentRow> = q.query_as().fetch_all(self.reader()).await?;
        Ok(rows.into_iter().map(Spent::from).collect())
    }
}

/// How long a demo counts for: an hour, the usual slot of a hospital demo (demos carry a start
/// time, not a length).
pub const DEFAULT_DEMO_MINUTES: u32 = 60;

impl Store {
    /// Demos people attended between two days, each counted as pre-sales time of its attendees.
    /// Attendees are matched to people by e-mail address or by the display name of a user of the
    /// workspace, without regard to case.
    pub async fn demo_attendance(
        &self,
        workspace_id: i64,
        from: NaiveDate,
        to: NaiveDate,
        person: Option<&str>,
    ) -> Result<Vec<Attendance>> {
        let only = person.map(normalize_person).transpose()?;
        let users: Vec<(String, String)> =
            sqlx::query_as("SELECT email, name FROM users WHERE workspace_id = $1")
                .bind(workspace_id)
                .fetch_all(self.reader())
                .await?;
        let mut by_name = std::collections::HashMap::new();
        for (email, name) in users {
            by_name.insert(name.trim().to_lowercase(), email.clone());
            by_name.insert(email.clone(), email);
        }
        let rows: Vec<DemoAttendees> = sqlx::query_as(
            "SELECT starts_at, attendees FROM demos \
             WHERE workspace_id = $1 AND starts_at >= $2 AND starts_at < $3",
        )
        .bind(workspace_id)
        .bind(from.to_string())
        .bind((to + chrono::Duration::days(1)).to_string())
        .fetch_all(self.reader())
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let Some(date) = parse_date(Some(r.starts_at.chars().take(10).collect()))? else {
                continue;
            };
            let attendees: Vec<String> = serde_json::from_str(&r.attendees)
                .map_err(|e| StoreError::Corrupt(format!("demo attendees: {e}")))?;
            let minutes = DEFAULT_DEMO_MINUTES;
            for a in attendees {
                let key = a.trim().to_lowercase();
                if key.is_empty() {
                    continue;
                }
                let who = by_name.get(&key).cloned().unwrap_or(key);
                if only.as_deref().is_none_or(|p| p == who) {
                    out.push(Attendance {
                        person: who,
                        date,
                        minutes,
                    });
                }
            }
        }
        Ok(out)
    }
}
