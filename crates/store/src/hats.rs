//! Time entries: who wore which hat, on which day, for how long.

use chrono::NaiveDate;
use cunjin_core::hats::{check_minutes, Attendance, Spent};
use cunjin_core::{Hat, ParseError};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{now, parse_date, parse_stored, Result, Store, StoreError};

/// One entry of the hats ledger.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeEntry {
    /// Id.
    pub id: i64,
    /// Who spent the time (an e-mail address or a name).
    pub person: String,
    /// The day.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: NaiveDate,
    /// The hat.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "planning"))]
    pub hat: Hat,
    /// Minutes, 1 to 1440.
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

fn entry_from_row(r: &AnyRow) -> Result<TimeEntry> {
    Ok(TimeEntry {
        id: r.try_get("id")?,
        person: r.try_get("person")?,
        date: parse_date(Some(r.try_get("date")?))?.unwrap_or_default(),
        hat: parse_stored(&r.try_get::<String, _>("hat")?, Hat::parse)?,
        minutes: u32::try_from(r.try_get::<i64, _>("minutes")?).unwrap_or(0),
        note: r.try_get("note")?,
        created_by: r.try_get("created_by")?,
    })
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
        let id: i64 = sqlx::query(
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
        .await?
        .try_get(0)?;
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
        sqlx::query(
            "SELECT id, person, date, hat, minutes, note, created_by FROM time_entries \
             WHERE workspace_id = $1 AND ($2 IS NULL OR person = $2) AND ($3 IS NULL OR date >= $3) \
             AND ($4 IS NULL OR date <= $4) ORDER BY date DESC, id DESC LIMIT $5",
        )
        .bind(workspace_id)
        .bind(person)
        .bind(f.from.map(|d| d.to_string()))
        .bind(f.to.map(|d| d.to_string()))
        .bind(f.limit.unwrap_or(500).clamp(1, 5000))
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(entry_from_row)
        .collect()
    }

    /// Everybody with time recorded, by name.
    pub async fn time_people(&self, workspace_id: i64) -> Result<Vec<String>> {
        let mut people: Vec<String> =
            sqlx::query("SELECT DISTINCT person FROM time_entries WHERE workspace_id = $1")
                .bind(workspace_id)
                .fetch_all(self.reader())
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
        // By code point, the same on both engines.
        people.sort();
        Ok(people)
    }

    /// One entry.
    pub async fn get_time_entry(&self, workspace_id: i64, id: i64) -> Result<TimeEntry> {
        let r = sqlx::query(
            "SELECT id, person, date, hat, minutes, note, created_by FROM time_entries WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace_id)
        .bind(id)
        .fetch_optional(self.reader())
        .await?
        .ok_or_else(|| StoreError::not_found("time entry", id))?;
        entry_from_row(&r)
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
        sqlx::query(
            "SELECT person, date, hat, CAST(SUM(minutes) AS BIGINT) AS minutes FROM time_entries \
             WHERE workspace_id = $1 AND date >= $2 AND date <= $3 AND ($4 IS NULL OR person = $4) \
             GROUP BY person, date, hat",
        )
        .bind(workspace_id)
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(person)
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(|r| {
            Ok(Spent {
                person: r.try_get("person")?,
                date: parse_date(Some(r.try_get("date")?))?.unwrap_or_default(),
                hat: parse_stored(&r.try_get::<String, _>("hat")?, Hat::parse)?,
                minutes: u32::try_from(r.try_get::<i64, _>("minutes")?).unwrap_or(u32::MAX),
            })
        })
        .collect()
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
        let users = sqlx::query("SELECT email, name FROM users WHERE workspace_id = $1")
            .bind(workspace_id)
            .fetch_all(self.reader())
            .await?;
        let mut by_name = std::collections::HashMap::new();
        for u in &users {
            let email: String = u.try_get(0)?;
            let name: String = u.try_get(1)?;
            by_name.insert(name.trim().to_lowercase(), email.clone());
            by_name.insert(email.clone(), email);
        }
        let rows = sqlx::query(
            "SELECT starts_at, attendees FROM demos \
             WHERE workspace_id = $1 AND starts_at >= $2 AND starts_at < $3",
        )
        .bind(workspace_id)
        .bind(from.to_string())
        .bind((to + chrono::Duration::days(1)).to_string())
        .fetch_all(self.reader())
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let starts_at: String = r.try_get(0)?;
            let Some(date) = parse_date(Some(starts_at.chars().take(10).collect()))? else {
                continue;
            };
            let attendees: Vec<String> = serde_json::from_str(&r.try_get::<String, _>(1)?)
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
