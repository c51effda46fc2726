//! Notifications: the events cunjin tells a team about, the five webhook kinds, how one event
//! becomes each service's own message, the retry schedule and the reminder windows.
//!
//! Every message is written in Chinese first and English after it: a workspace has no single
//! language, and a group chat reads both.

use chrono::{Datelike, NaiveDate, Weekday};
use serde_json::{json, Value};

use crate::values::ParseError;
use crate::Decision;

/// The service a webhook posts to; each has its own message format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookKind {
    /// WeCom (企业微信) group robot: markdown message.
    Wecom,
    /// DingTalk (钉钉) group robot: markdown message, optionally signed.
    Dingtalk,
    /// Feishu (飞书) group robot: text message, optionally signed.
    Feishu,
    /// Slack incoming webhook: text with blocks.
    Slack,
    /// Any endpoint that takes cunjin's own JSON.
    Generic,
}

impl WebhookKind {
    /// Every kind.
    pub const ALL: [WebhookKind; 5] = [
        WebhookKind::Wecom,
        WebhookKind::Dingtalk,
        WebhookKind::Feishu,
        WebhookKind::Slack,
        WebhookKind::Generic,
    ];

    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookKind::Wecom => "wecom",
            WebhookKind::Dingtalk => "dingtalk",
            WebhookKind::Feishu => "feishu",
            WebhookKind::Slack => "slack",
            WebhookKind::Generic => "generic",
        }
    }

    /// Parses a contract name.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        WebhookKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                ParseError::one_of("kind", s, &WebhookKind::ALL.map(WebhookKind::as_str))
            })
    }

    /// Whether the service signs messages with a shared secret.
    pub fn signs(self) -> bool {
        matches!(self, WebhookKind::Dingtalk | WebhookKind::Feishu)
    }
}

/// Something that happened and that a webhook may subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// An automatic readiness check before a demo found the demo not ready.
    ReadinessFailed,
    /// A commitment is due in 14, 7 or 1 days, or overdue (催办).
    CommitmentDue,
    /// A request was decided.
    RequestDecided,
    /// The weekly progress digest.
    WeeklyDigest,
    /// A test message sent on demand; not subscribable.
    Test,
}

impl Event {
    /// The events a webhook can subscribe to.
    pub const SUBSCRIBABLE: [Event; 4] = [
        Event::ReadinessFailed,
        Event::CommitmentDue,
        Event::RequestDecided,
        Event::WeeklyDigest,
    ];

    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::ReadinessFailed => "readiness_failed",
            Event::CommitmentDue => "commitment_due",
            Event::RequestDecided => "request_decided",
            Event::WeeklyDigest => "weekly_digest",
            Event::Test => "test",
        }
    }

    /// Parses a subscribable event name.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Event::SUBSCRIBABLE
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| ParseError::one_of("events", s, &Event::SUBSCRIBABLE.map(Event::as_str)))
    }

    /// Parses a subscription list: at least one event, no repeats, in the order given.
    pub fn parse_list(names: &[String]) -> Result<Vec<Event>, ParseError> {
        if names.is_empty() {
            return Err(ParseError::new("events", "choose at least one event"));
        }
        let mut out = Vec::new();
        for n in names {
            let e = Event::parse(n.trim())?;
            if !out.contains(&e) {
                out.push(e);
            }
        }
        Ok(out)
    }
}

/// One line of a message, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

fn line(zh: impl Into<String>, en: impl Into<String>) -> Line {
    Line {
        zh: zh.into(),
        en: en.into(),
    }
}

/// An event ready to be told: titles and lines in both languages, and the facts as data.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// What happened.
    pub event: Event,
    /// Chinese title.
    pub title_zh: String,
    /// English title.
    pub title_en: String,
    /// The body.
    pub lines: Vec<Line>,
    /// The facts, for the generic JSON format.
    pub data: Value,
}

/// Which automatic check before a demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckWindow {
    /// 24 hours before.
    Day,
    /// 1 hour before.
    Hour,
}

impl CheckWindow {
    /// The trigger name: `24h` or `1h`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckWindow::Day => "24h",
            CheckWindow::Hour => "1h",
        }
    }

    /// The window of a trigger name; `None` for a check run by hand.
    pub fn parse(trigger: &str) -> Option<CheckWindow> {
        match trigger {
            "24h" => Some(CheckWindow::Day),
            "1h" => Some(CheckWindow::Hour),
            _ => None,
        }
    }

    /// Hours before the demo.
    pub fn hours(self) -> i64 {
        match self {
            CheckWindow::Day => 24,
            CheckWindow::Hour => 1,
        }
    }

    fn zh(self) -> &'static str {
        match self {
            CheckWindow::Day => "24 小时",
            CheckWindow::Hour => "1 小时",
        }
    }
}

/// A demo found not ready by an automatic check.
#[derive(Debug, Clone)]
pub struct ReadinessFailure {
    /// Demo id.
    pub demo_id: i64,
    /// Its title.
    pub title: String,
    /// Customer name.
    pub customer: String,
    /// When it starts (RFC 3339).
    pub starts_at: String,
    /// The check that found it.
    pub window: CheckWindow,
    /// Share of items that can be shown live, 0..=1.
    pub readiness: f64,
    /// Must-show items that are not ready.
    pub not_ready: Vec<String>,
}

/// A commitment coming due or overdue.
#[derive(Debug, Clone)]
pub struct DueReminder {
    /// Commitment id.
    pub commitment_id: i64,
    /// Customer name.
    pub customer: String,
    /// Feature title.
    pub feature: String,
    /// Due date.
    pub due_date: NaiveDate,
    /// Days from today to the due date (negative when overdue).
    pub days_left: i64,
    /// Acceptance-critical.
    pub critical: bool,
}

/// A decision on a request.
#[derive(Debug, Clone)]
pub struct DecisionMade {
    /// Request id.
    pub request_id: i64,
    /// The request's text.
    pub text: String,
    /// Customer name, if any.
    pub customer: Option<String>,
    /// The decision.
    pub decision: Decision,
    /// Its reason.
    pub reason: Option<String>,
    /// Planned release, once accepted.
    pub planned_release: Option<String>,
    /// Who decided.
    pub decided_by: String,
}

/// The facts of a week for the digest.
#[derive(Debug, Clone)]
pub struct Digest {
    /// ISO week, `2026-W49`.
    pub week: String,
    /// Portfolio 尺 now.
    pub chi: u64,
    /// Portfolio 寸 now.
    pub cun: u64,
    /// 尺 closed this week (negative when new promises outgrew the work).
    pub gained_chi: i64,
    /// 寸 closed this week.
    pub gained_cun: i64,
    /// Requests decided this week.
    pub decisions: u64,
    /// Commitments due next week: (customer, feature, due date).
    pub due_next_week: Vec<(String, String, NaiveDate)>,
}

fn decision_zh(d: Decision) -> &'static str {
    match d {
        Decision::New => "待定",
        Decision::Accepted => "已采纳",
        Decision::Deferred => "暂缓",
        Decision::Declined => "不做",
        Decision::Duplicate => "重复",
        Decision::NeedsInfo => "需补充信息",
    }
}

/// Cuts `s` to at most `max` characters, with an ellipsis when cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

impl Notice {
    /// A demo that an automatic check found not ready.
    pub fn readiness_failed(f: &ReadinessFailure) -> Notice {
        let pct = (f.readiness * 100.0).round();
        let mut lines = vec![
            line(
                format!("客户：{}", f.customer),
                format!("Customer: {}", f.customer),
            ),
            line(
                format!("开始时间：{}", f.starts_at),
                format!("Starts at: {}", f.starts_at),
            ),
            line(format!("可现场演示：{pct}%"), format!("Shown live: {pct}%")),
        ];
        for t in f.not_ready.iter().take(20) {
            let t = clip(t, 120);
            lines.push(line(
                format!("未就绪（必演）：{t}"),
                format!("Not ready (must show): {t}"),
            ));
        }
        Notice {
            event: Event::ReadinessFailed,
            title_zh: format!("演示未就绪：{}（{}前检查）", f.title, f.window.zh()),
            title_en: format!("Demo not ready: {} ({} check)", f.title, f.window.as_str()),
            lines,
            data: json!({
                "demo_id": f.demo_id, "title": f.title, "customer": f.customer,
                "starts_at": f.starts_at, "window": f.window.as_str(), "readiness": f.readiness,
                "not_ready": f.not_ready,
            }),
        }
    }

    /// A reminder (催办) of a commitment coming due or overdue.
    pub fn commitment_due(r: &DueReminder) -> Notice {
        let (when_zh, when_en) = match r.days_left {
            d if d < 0 => (
                format!("已逾期 {} 天", -d),
                format!("overdue by {} days", -d),
            ),
            0 => ("今天到期".to_string(), "due today".to_string()),
            d => (format!("{d} 天后到期"), format!("due in {d} days")),
        };
        let feature = clip(&r.feature, 120);
        let mut lines = vec![
            line(
                format!("客户：{}", r.customer),
                format!("Customer: {}", r.customer),
            ),
            line(format!("功能：{feature}"), format!("Feature: {feature}")),
            line(
                format!("到期日：{}（{when_zh}）", r.due_date),
                format!("Due: {} ({when_en})", r.due_date),
            ),
        ];
        if r.critical {
            lines.push(line("验收必须", "Acceptance-critical"));
        }
        Notice {
            event: Event::CommitmentDue,
            title_zh: format!("催办：{} · {}（{when_zh}）", r.customer, feature),
            title_en: format!("Reminder: {} · {} ({when_en})", r.customer, feature),
            lines,
            data: json!({
                "commitment_id": r.commitment_id, "customer": r.customer, "feature": r.feature,
                "due_date": r.due_date.to_string(), "days_left": r.days_left, "critical": r.critical,
            }),
        }
    }

    /// A decision on a request.
    pub fn request_decided(d: &DecisionMade) -> Notice {
        let text = clip(&d.text, 200);
        let mut lines = vec![line(format!("需求：{text}"), format!("Request: {text}"))];
        if let Some(c) = &d.customer {
            lines.push(line(format!("客户：{c}"), format!("Customer: {c}")));
        }
        lines.push(line(
            format!("决定：{}", decision_zh(d.decision)),
            format!("Decision: {}", d.decision.as_str()),
        ));
        if let Some(r) = &d.reason {
            let r = clip(r, 300);
            lines.push(line(format!("理由：{r}"), format!("Reason: {r}")));
        }
        if let Some(p) = &d.planned_release {
            lines.push(line(
                format!("计划版本：{p}"),
                format!("Planned release: {p}"),
            ));
        }
        lines.push(line(
            format!("决定人：{}", d.decided_by),
            format!("Decided by: {}", d.decided_by),
        ));
        Notice {
            event: Event::RequestDecided,
            title_zh: format!("需求 #{} 已决定：{}", d.request_id, decision_zh(d.decision)),
            title_en: format!("Request #{} decided: {}", d.request_id, d.decision.as_str()),
            lines,
            data: json!({
                "request_id": d.request_id, "text": d.text, "customer": d.customer,
                "decision": d.decision.as_str(), "reason": d.reason,
                "planned_release": d.planned_release, "decided_by": d.decided_by,
            }),
        }
    }

    /// The weekly progress digest.
    pub fn weekly_digest(g: &Digest) -> Notice {
        let mut lines = vec![
            line(
                format!("当前差距：{} 尺 {} 寸", g.chi, g.cun),
                format!("Gap now: {} chi {} cun", g.chi, g.cun),
            ),
            line(
                format!("本周进了：{} 尺 {} 寸", g.gained_chi, g.gained_cun),
                format!(
                    "Gained this week: {} chi {} cun",
                    g.gained_chi, g.gained_cun
                ),
            ),
            line(
                format!("本周决定的需求：{}", g.decisions),
                format!("Requests decided this week: {}", g.decisions),
            ),
            line(
                format!("下周到期的承诺：{}", g.due_next_week.len()),
                format!("Commitments due next week: {}", g.due_next_week.len()),
            ),
        ];
        for (customer, feature, due) in g.due_next_week.iter().take(20) {
            let feature = clip(feature, 80);
            lines.push(line(
                format!("{due} {customer} · {feature}"),
                format!("{due} {customer} · {feature}"),
            ));
        }
        Notice {
            event: Event::WeeklyDigest,
            title_zh: format!("寸进周报 {}", g.week),
            title_en: format!("cunjin weekly digest {}", g.week),
            lines,
            data: json!({
                "week": g.week, "chi": g.chi, "cun": g.cun,
                "gained": {"chi": g.gained_chi, "cun": g.gained_cun},
                "decisions": g.decisions,
                "due_next_week": g.due_next_week.iter().map(|(c, f, d)| json!({
                    "customer": c, "feature": f, "due_date": d.to_string()
                })).collect::<Vec<_>>(),
            }),
        }
    }

    /// A test message, to see that a webhook is wired up.
    pub fn test() -> Notice {
        Notice {
            event: Event::Test,
            title_zh: "寸进测试消息".to_string(),
            title_en: "cunjin test message".to_string(),
            lines: vec![line(
                "如果看到这条消息，通知已接通。",
                "If you can read this, notifications work.",
            )],
            data: json!({}),
        }
    }

    /// Markdown with `bullet` before each line and `bold` around titles: Chinese, then English.
    fn marked(&self, bold: &str, bullet: &str) -> String {
        let mut s = format!("{bold}{}{bold}\n", self.title_zh);
        for l in &self.lines {
            s.push_str(&format!("{bullet}{}\n", l.zh));
        }
        s.push_str(&format!("\n{bold}{}{bold}\n", self.title_en));
        for l in &self.lines {
            s.push_str(&format!("{bullet}{}\n", l.en));
        }
        s
    }

    /// Plain text: Chinese, then English.
    pub fn plain(&self) -> String {
        self.marked("", "")
    }

    /// The message for a webhook of `kind`, in that service's format. `workspace` names the
    /// sender; `dedupe_key` identifies the message for receivers that may see it twice.
    pub fn render(&self, kind: WebhookKind, workspace: &str, dedupe_key: &str) -> Value {
        match kind {
            WebhookKind::Wecom => json!({
                "msgtype": "markdown",
                // WeCom refuses markdown over 4096 bytes.
                "markdown": {"content": clip_bytes(&self.marked("**", "> "), 4000)},
            }),
            WebhookKind::Dingtalk => json!({
                "msgtype": "markdown",
                "markdown": {"title": self.title_zh, "text": clip_bytes(&self.marked("**", "- "), 15000)},
            }),
            WebhookKind::Feishu => json!({
                "msg_type": "text",
                "content": {"text": clip_bytes(&self.plain(), 15000)},
            }),
            WebhookKind::Slack => {
                let zh: Vec<String> = self.lines.iter().map(|l| format!("• {}", l.zh)).collect();
                let en: Vec<String> = self.lines.iter().map(|l| format!("• {}", l.en)).collect();
                json!({
                    "text": format!("{} / {}", self.title_zh, self.title_en),
                    "blocks": [
                        {"type": "header", "text": {"type": "plain_text", "text": clip(&self.title_zh, 150)}},
                        {"type": "section", "text": {"type": "mrkdwn", "text": clip(&zh.join("\n"), 2900)}},
                        {"type": "divider"},
                        {"type": "section", "text": {"type": "mrkdwn", "text": clip(&format!("*{}*\n{}", self.title_en, en.join("\n")), 2900)}},
                    ],
                })
            }
            WebhookKind::Generic => json!({
                "event": self.event.as_str(),
                "workspace": workspace,
                "title": {"zh": self.title_zh, "en": self.title_en},
                "text": self.plain(),
                "data": self.data,
                "dedupe_key": dedupe_key,
            }),
        }
    }
}

/// Cuts `s` to at most `max` bytes on a character boundary.
fn clip_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Seconds to wait after each failed attempt: 1 min, 5 min, 30 min, 2 h, 6 h, 12 h. After the
/// last one fails, the message is given up as `failed`.
pub const RETRY_DELAYS_S: [i64; 6] = [60, 300, 1800, 7200, 21_600, 43_200];

/// Most attempts made at one message.
pub const MAX_ATTEMPTS: u32 = RETRY_DELAYS_S.len() as u32 + 1;

/// How long to wait after `attempts` failed attempts before the next; `None` when that was the
/// last allowed attempt.
pub fn retry_delay(attempts: u32) -> Option<chrono::Duration> {
    let i = usize::try_from(attempts.checked_sub(1)?).ok()?;
    RETRY_DELAYS_S.get(i).map(|s| chrono::Duration::seconds(*s))
}

/// Which reminder a commitment due on a date gets today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueWindow {
    /// Due within 14 days.
    Days14,
    /// Due within 7 days.
    Days7,
    /// Due tomorrow or today.
    Days1,
    /// Past its due date.
    Overdue,
}

impl DueWindow {
    /// The name used in dedupe keys.
    pub fn as_str(self) -> &'static str {
        match self {
            DueWindow::Days14 => "14",
            DueWindow::Days7 => "7",
            DueWindow::Days1 => "1",
            DueWindow::Overdue => "overdue",
        }
    }

    /// The window of a commitment due on `due`, seen on `today`; `None` when more than 14 days
    /// away. Windows are ranges, not exact days, so that a scan missed on one day (the server was
    /// down) still reminds on the next.
    pub fn of(today: NaiveDate, due: NaiveDate) -> Option<DueWindow> {
        match (due - today).num_days() {
            d if d < 0 => Some(DueWindow::Overdue),
            0..=1 => Some(DueWindow::Days1),
            2..=7 => Some(DueWindow::Days7),
            8..=14 => Some(DueWindow::Days14),
            _ => None,
        }
    }
}

/// The dedupe key of a reminder: one per commitment, due date and window.
pub fn due_key(commitment_id: i64, due: NaiveDate, window: DueWindow) -> String {
    format!("due:{commitment_id}:{due}:{}", window.as_str())
}

/// The ISO week of `day`, as `2026-W49`.
pub fn iso_week(day: NaiveDate) -> String {
    let w = day.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// The dedupe key of the digest of the week of `day`.
pub fn digest_key(day: NaiveDate) -> String {
    format!("digest:{}", iso_week(day))
}

/// The digest goes out on the first scan from Friday on, so that it can name what is due next
/// week while this week's work is still fresh.
pub fn digest_due(today: NaiveDate) -> bool {
    today.weekday().number_from_monday() >= Weekday::Fri.number_from_monday()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn decided() -> Notice {
        Notice::request_decided(&DecisionMade {
            request_id: 7,
            text: "门诊医生站支持医保电子凭证扫码".into(),
            customer: Some("华西第一人民医院".into()),
            decision: Decision::Declined,
            reason: Some("与省平台规划冲突".into()),
            planned_release: None,
            decided_by: "pm@vendor.cn".into(),
        })
    }

    #[test]
    fn kinds_and_events_parse_by_contract_name() {
        for k in WebhookKind::ALL {
            assert_eq!(WebhookKind::parse(k.as_str()).unwrap(), k);
        }
        assert!(WebhookKind::parse("teams").is_err());
        assert!(WebhookKind::Dingtalk.signs() && !WebhookKind::Slack.signs());
        let list = Event::parse_list(&[
            "request_decided".into(),
            "weekly_digest".into(),
            "request_decided".into(),
        ])
        .unwrap();
        assert_eq!(list, [Event::RequestDecided, Event::WeeklyDigest]);
        assert!(Event::parse_list(&[]).is_err());
        assert!(
            Event::parse_list(&["test".into()]).is_err(),
            "test messages are not subscribed to"
        );
    }

    #[test]
    fn each_kind_gets_its_own_format_chinese_first() {
        let n = decided();
        let wecom = n.render(WebhookKind::Wecom, "厂商", "k1");
        assert_eq!(wecom["msgtype"], "markdown");
        let content = wecom["markdown"]["content"].as_str().unwrap();
        assert!(content.starts_with("**需求 #7 已决定：不做**"), "{content}");
        assert!(
            content.find("理由：与省平台规划冲突").unwrap()
                < content.find("Reason: 与省平台规划冲突").unwrap()
        );
        let ding = n.render(WebhookKind::Dingtalk, "厂商", "k1");
        assert_eq!(ding["msgtype"], "markdown");
        assert_eq!(ding["markdown"]["title"], "需求 #7 已决定：不做");
        assert!(ding["markdown"]["text"]
            .as_str()
            .unwrap()
            .contains("Decision: declined"));
        let feishu = n.render(WebhookKind::Feishu, "厂商", "k1");
        assert_eq!(feishu["msg_type"], "text");
        assert!(feishu["content"]["text"]
            .as_str()
            .unwrap()
            .contains("决定：不做"));
        let slack = n.render(WebhookKind::Slack, "厂商", "k1");
        assert_eq!(
            slack["text"],
            "需求 #7 已决定：不做 / Request #7 decided: declined"
        );
        assert_eq!(slack["blocks"][0]["type"], "header");
        let generic = n.render(WebhookKind::Generic, "厂商", "decision:7:x");
        assert_eq!(generic["event"], "request_decided");
        assert_eq!(generic["workspace"], "厂商");
        assert_eq!(generic["dedupe_key"], "decision:7:x");
        assert_eq!(generic["data"]["decision"], "declined");
        assert_eq!(generic["data"]["request_id"], 7);
    }

    #[test]
    fn long_messages_are_cut_on_character_boundaries() {
        let mut n = decided();
        n.lines = (0..2000)
            .map(|i| line(format!("第{i}行病历"), format!("line {i}")))
            .collect();
        let wecom = n.render(WebhookKind::Wecom, "", "");
        let content = wecom["markdown"]["content"].as_str().unwrap();
        assert!(
            content.len() <= 4000 && content.ends_with('…'),
            "{}",
            content.len()
        );
        assert_eq!(clip("病历书写模板", 3), "病历…");
        assert_eq!(clip_bytes("病历", 5), "…", "no half character is kept");
    }

    #[test]
    fn retries_back_off_then_give_up() {
        assert_eq!(retry_delay(0), None);
        assert_eq!(retry_delay(1), Some(chrono::Duration::minutes(1)));
        assert_eq!(retry_delay(2), Some(chrono::Duration::minutes(5)));
        assert_eq!(retry_delay(4), Some(chrono::Duration::hours(2)));
        assert_eq!(retry_delay(6), Some(chrono::Duration::hours(12)));
        assert_eq!(retry_delay(MAX_ATTEMPTS), None);
        assert_eq!(MAX_ATTEMPTS, 7);
    }

    #[test]
    fn reminder_windows_are_ranges() {
        let today = day("2026-12-01");
        assert_eq!(DueWindow::of(today, day("2026-12-16")), None);
        assert_eq!(
            DueWindow::of(today, day("2026-12-15")),
            Some(DueWindow::Days14)
        );
        assert_eq!(
            DueWindow::of(today, day("2026-12-09")),
            Some(DueWindow::Days14)
        );
        assert_eq!(
            DueWindow::of(today, day("2026-12-08")),
            Some(DueWindow::Days7)
        );
        assert_eq!(
            DueWindow::of(today, day("2026-12-02")),
            Some(DueWindow::Days1)
        );
        assert_eq!(DueWindow::of(today, today), Some(DueWindow::Days1));
        assert_eq!(
            DueWindow::of(today, day("2026-11-30")),
            Some(DueWindow::Overdue)
        );
        assert_eq!(
            due_key(5, day("2026-12-08"), DueWindow::Days7),
            "due:5:2026-12-08:7"
        );
    }

    #[test]
    fn digest_once_per_iso_week_from_friday() {
        assert_eq!(iso_week(day("2026-12-04")), "2026-W49");
        // 2027-01-01 is a Friday in ISO week 53 of 2026.
        assert_eq!(digest_key(day("2027-01-01")), "digest:2026-W53");
        assert!(!digest_due(day("2026-12-03")), "Thursday");
        assert!(digest_due(day("2026-12-04")) && digest_due(day("2026-12-06")));
    }

    #[test]
    fn reminders_say_how_far_off_in_both_languages() {
        let n = Notice::commitment_due(&DueReminder {
            commitment_id: 3,
            customer: "省人民医院".into(),
            feature: "DRG 分组".into(),
            due_date: day("2026-11-28"),
            days_left: -3,
            critical: true,
        });
        assert_eq!(n.title_zh, "催办：省人民医院 · DRG 分组（已逾期 3 天）");
        assert_eq!(
            n.title_en,
            "Reminder: 省人民医院 · DRG 分组 (overdue by 3 days)"
        );
        assert!(n.plain().contains("验收必须"));
    }
}
