//! E-mail to the people who asked: when a request is filed and when its decision changes, the
//! requester reads it in the language they wrote in, with the link to the request's status page,
//! so the product manager stops relaying decisions by hand.

use crate::request::Decision;
use crate::search::is_cjk;

/// The language of a message to a requester.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailLang {
    /// 简体中文.
    Zh,
    /// English.
    En,
}

impl MailLang {
    /// The language a request is written in: Chinese when it holds Chinese characters.
    pub fn of_text(text: &str) -> MailLang {
        if text.chars().any(is_cjk) {
            MailLang::Zh
        } else {
            MailLang::En
        }
    }
}

/// A message, ready for a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

/// A request as its requester knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMailFacts {
    /// Its number.
    pub request_id: i64,
    /// What was asked (clipped in the message).
    pub text: String,
    /// The full URL of its status page.
    pub status_url: String,
    /// The vendor's name, for the signature.
    pub vendor: String,
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

fn decision_words(d: Decision, lang: MailLang) -> &'static str {
    match (lang, d) {
        (MailLang::Zh, Decision::New) => "待评估",
        (MailLang::Zh, Decision::Accepted) => "已接受",
        (MailLang::Zh, Decision::Declined) => "暂不做",
        (MailLang::Zh, Decision::Duplicate) => "与已有需求重复",
        (MailLang::Zh, Decision::NeedsInfo) => "需要您补充说明",
        (MailLang::Zh, Decision::Deferred) => "延后考虑",
        (MailLang::En, Decision::New) => "waiting for a decision",
        (MailLang::En, Decision::Accepted) => "accepted",
        (MailLang::En, Decision::Declined) => "declined",
        (MailLang::En, Decision::Duplicate) => "a duplicate of an earlier request",
        (MailLang::En, Decision::NeedsInfo) => "we need more from you",
        (MailLang::En, Decision::Deferred) => "deferred",
    }
}

/// The message when a request is filed.
pub fn request_filed(f: &RequestMailFacts) -> Mail {
    let text = clip(&f.text, 300);
    match MailLang::of_text(&f.text) {
        MailLang::Zh => Mail {
            subject: format!("已收到您的需求 #{}", f.request_id),
            body: format!(
                "您好：\n\n我们已收到您的需求：\n{text}\n\n产品团队评估后会在此告知决定。\
                 随时可在这里查看进展：\n{}\n\n{}",
                f.status_url, f.vendor
            ),
        },
        MailLang::En => Mail {
            subject: format!("We received your request #{}", f.request_id),
            body: format!(
                "Hello,\n\nwe received your request:\n{text}\n\nThe product team will tell you \
                 its decision here. You can follow it at any time:\n{}\n\n{}",
                f.status_url, f.vendor
            ),
        },
    }
}

/// The message when a request's decision changes.
pub fn request_decided(
    f: &RequestMailFacts,
    decision: Decision,
    reason: Option<&str>,
    planned_release: Option<&str>,
) -> Mail {
    let lang = MailLang::of_text(&f.text);
    let text = clip(&f.text, 300);
    let words = decision_words(decision, lang);
    match lang {
        MailLang::Zh => {
            let mut body = format!("您好：\n\n您的需求：\n{text}\n\n决定：{words}\n");
            if let Some(r) = reason {
                body.push_str(&format!("理由：{}\n", clip(r, 500)));
            }
            if let Some(p) = planned_release {
                body.push_str(&format!("计划版本：{p}\n"));
            }
            body.push_str(&format!("\n查看进展：\n{}\n\n{}", f.status_url, f.vendor));
            Mail {
                subject: format!("需求 #{} 的决定：{words}", f.request_id),
                body,
            }
        }
        MailLang::En => {
            let mut body = format!("Hello,\n\nyour request:\n{text}\n\nDecision: {words}\n");
            if let Some(r) = reason {
                body.push_str(&format!("Reason: {}\n", clip(r, 500)));
            }
            if let Some(p) = planned_release {
                body.push_str(&format!("Planned release: {p}\n"));
            }
            body.push_str(&format!(
                "\nFollow it here:\n{}\n\n{}",
                f.status_url, f.vendor
            ));
            Mail {
                subject: format!("Request #{}: {words}", f.request_id),
                body,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(text: &str) -> RequestMailFacts {
        RequestMailFacts {
            request_id: 42,
            text: text.into(),
            status_url: "https://cunjin.example.com/status/r/abc".into(),
            vendor: "云杉医疗".into(),
        }
    }

    #[test]
    fn a_request_written_in_chinese_is_answered_in_chinese() {
        let m = request_filed(&facts("希望门诊病历支持语音录入"));
        assert_eq!(m.subject, "已收到您的需求 #42");
        assert!(m.body.contains("希望门诊病历支持语音录入"));
        assert!(m.body.contains("https://cunjin.example.com/status/r/abc"));
        let m = request_decided(
            &facts("希望门诊病历支持语音录入"),
            Decision::Accepted,
            None,
            Some("v5.3"),
        );
        assert_eq!(m.subject, "需求 #42 的决定：已接受");
        assert!(m.body.contains("计划版本：v5.3"));
        assert!(!m.body.contains("Decision"));
    }

    #[test]
    fn a_request_written_in_english_is_answered_in_english_with_its_reason() {
        let m = request_decided(
            &facts("Voice input in the outpatient record"),
            Decision::Declined,
            Some("Not planned this year: the dictation vendor covers it."),
            None,
        );
        assert_eq!(m.subject, "Request #42: declined");
        assert!(m.body.contains("Reason: Not planned this year"));
        assert!(m
            .body
            .contains("Follow it here:\nhttps://cunjin.example.com/status/r/abc"));
        assert!(!m.body.contains("决定"));
    }

    #[test]
    fn every_decision_has_words_in_both_languages() {
        for d in Decision::ALL {
            assert!(!decision_words(d, MailLang::Zh).is_ascii());
            assert!(decision_words(d, MailLang::En).is_ascii());
        }
        let long = "长".repeat(400);
        let m = request_filed(&facts(&long));
        assert!(m.body.contains('…') && m.body.chars().count() < 450);
    }
}
