//! The calendar feed (RFC 5545 iCalendar): demos, acceptance dates and commitment due dates as
//! events that Outlook, Google Calendar, Apple Calendar and DingTalk/Feishu calendars subscribe to.
//!
//! Written by hand because it is small: text escaping, CRLF line ends and folding of lines
//! longer than 75 octets without splitting a UTF-8 character (Chinese takes 3 octets each).

use chrono::{DateTime, NaiveDate, Utc};

/// When an event happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// At a moment, for a duration in minutes.
    At(DateTime<Utc>, i64),
    /// All day.
    Day(NaiveDate),
}

/// One calendar entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Stable id, the same on every fetch, so that calendars update instead of duplicating.
    pub uid: String,
    /// Title.
    pub summary: String,
    /// Longer text.
    pub description: String,
    /// When.
    pub when: When,
}

/// Escapes text for a TEXT property value (RFC 5545 §3.3.11).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds one content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 character; each
/// continuation starts with a space, which counts toward its 75. Ends with CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
    out
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The whole feed. `name` titles the calendar; `now` is the DTSTAMP of every event.
pub fn render(name: &str, events: &[CalendarEvent], now: DateTime<Utc>) -> String {
    let mut s = String::new();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//cunjin//cunjin calendar//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        s.push_str(&fold(l));
    }
    s.push_str(&fold(&format!("X-WR-CALNAME:{}", escape_text(name))));
    for e in events {
        s.push_str(&fold("BEGIN:VEVENT"));
        s.push_str(&fold(&format!("UID:{}", escape_text(&e.uid))));
        s.push_str(&fold(&format!("DTSTAMP:{}", stamp(now))));
        match e.when {
            When::At(t, minutes) => {
                s.push_str(&fold(&format!("DTSTART:{}", stamp(t))));
                let end = t + chrono::Duration::minutes(minutes.max(0));
                s.push_str(&fold(&format!("DTEND:{}", stamp(end))));
            }
            When::Day(d) => {
                s.push_str(&fold(&format!("DTSTART;VALUE=DATE:{}", d.format("%Y%m%d"))));
                let next = d.succ_opt().unwrap_or(d);
                s.push_str(&fold(&format!(
                    "DTEND;VALUE=DATE:{}",
                    next.format("%Y%m%d")
                )));
            }
        }
        s.push_str(&fold(&format!("SUMMARY:{}", escape_text(&e.summary))));
        if !e.description.is_empty() {
            s.push_str(&fold(&format!(
                "DESCRIPTION:{}",
                escape_text(&e.description)
            )));
        }
        s.push_str(&fold("END:VEVENT"));
    }
    s.push_str(&fold("END:VCALENDAR"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Undoes folding: a CRLF followed by a space joins lines.
    fn unfold(s: &str) -> String {
        s.replace("\r\n ", "")
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn long_chinese_lines_fold_at_75_octets_without_splitting_a_character() {
        let summary = "验收：四川省华西第一人民医院电子病历升级项目，结构化模板与医保电子凭证扫码";
        let line = format!("SUMMARY:{summary}");
        let folded = fold(&line);
        assert!(folded.ends_with("\r\n"));
        for l in folded.trim_end_matches("\r\n").split("\r\n") {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        assert!(folded.split("\r\n").count() > 2, "it was folded");
        assert_eq!(unfold(&folded), format!("{line}\r\n"));
        assert_eq!(fold("SHORT"), "SHORT\r\n");
    }

    #[test]
    fn events_are_well_formed() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z")
            .unwrap()
            .to_utc();
        let events = vec![
            CalendarEvent {
                uid: "demo-1@cunjin".into(),
                summary: "演示：华西, EMR".into(),
                description: "客户：华西".into(),
                when: When::At(now, 90),
            },
            CalendarEvent {
                uid: "acceptance-2@cunjin".into(),
                summary: "验收".into(),
                description: String::new(),
                when: When::Day(NaiveDate::from_ymd_opt(2027, 3, 31).unwrap()),
            },
        ];
        let ics = render("寸进", &events, now);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(
            !ics.replace("\r\n", "").contains('\n'),
            "every line ends in CRLF"
        );
        assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2);
        assert!(ics.contains("DTSTART:20261201T080000Z\r\nDTEND:20261201T093000Z\r\n"));
        assert!(ics.contains("DTSTART;VALUE=DATE:20270331\r\nDTEND;VALUE=DATE:20270401\r\n"));
        assert!(ics.contains("SUMMARY:演示：华西\\, EMR\r\n"));
    }
}
