//! The two languages of the UI: zh-CN and English. Every string a person reads comes from the
//! table below, in both languages; a test checks that every key the templates use is there.

use axum::http::HeaderMap;

mod delivery;
mod demos;
mod hats;
mod ledger;
mod notify;
mod requests;
mod security;

pub(crate) use notify::{event_key, kind_key};

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 简体中文.
    Zh,
    /// English.
    En,
}

/// The message tables of each part of the UI: (key, 中文, English).
const TABLES: &[&[(&str, &str, &str)]] = &[
    ledger::MESSAGES,
    delivery::MESSAGES,
    requests::MESSAGES,
    demos::MESSAGES,
    hats::MESSAGES,
    notify::MESSAGES,
    security::MESSAGES,
];

/// A value handed over as itself or through references, as templates do.
pub trait Val<T> {
    /// The value.
    fn val(&self) -> T;
}
impl<T: Copy> Val<T> for T {
    fn val(&self) -> T {
        *self
    }
}
impl<T: Copy> Val<T> for &T {
    fn val(&self) -> T {
        **self
    }
}
impl<T: Copy> Val<T> for &&T {
    fn val(&self) -> T {
        ***self
    }
}

/// The text key of a feature stage; a `match`, so that a new stage cannot borrow another's name.
fn stage_key(s: cunjin_core::Stage) -> &'static str {
    use cunjin_core::Stage;
    match s {
        Stage::Idea => "stage.idea",
        Stage::Designed => "stage.designed",
        Stage::Stubbed => "stage.stubbed",
        Stage::Built => "stage.built",
        Stage::Released => "stage.released",
    }
}

/// The text key of a presentation mode.
fn mode_key(m: cunjin_core::Mode) -> &'static str {
    use cunjin_core::Mode;
    match m {
        Mode::Live => "mode.live",
        Mode::Fallback => "mode.fallback",
        Mode::Unverified => "mode.unverified",
        Mode::Menu => "mode.menu",
        Mode::Slides => "mode.slides",
        Mode::Words => "mode.words",
        Mode::Promise => "mode.promise",
    }
}

/// The text key of a commitment status.
fn status_key(s: cunjin_core::Status) -> &'static str {
    use cunjin_core::Status;
    match s {
        Status::Open => "status.open",
        Status::Delivered => "status.delivered",
        Status::Accepted => "status.accepted",
        Status::Waived => "status.waived",
    }
}

impl Lang {
    /// The text of `key` in this language; the key itself when missing, so a gap shows up on
    /// screen and in the test rather than as an empty string.
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        for (k, zh, en) in TABLES.iter().flat_map(|t| t.iter()) {
            if *k == key {
                return match self {
                    Lang::Zh => zh,
                    Lang::En => en,
                };
            }
        }
        tracing::warn!(key, "missing UI text");
        key
    }

    /// The name of a feature stage.
    pub fn stage(&self, s: impl Val<cunjin_core::Stage>) -> &'static str {
        self.t(stage_key(s.val()))
    }

    /// The name of a presentation mode.
    pub fn mode(&self, m: impl Val<cunjin_core::Mode>) -> &'static str {
        self.t(mode_key(m.val()))
    }

    /// The name of a commitment status.
    pub fn status(&self, s: impl Val<cunjin_core::Status>) -> &'static str {
        self.t(status_key(s.val()))
    }

    /// The name of a hat.
    pub fn hat(&self, h: impl Val<cunjin_core::Hat>) -> &'static str {
        match h.val() {
            cunjin_core::Hat::Planning => self.t("hat.planning"),
            cunjin_core::Hat::Implementation => self.t("hat.implementation"),
            cunjin_core::Hat::Testing => self.t("hat.testing"),
            cunjin_core::Hat::Presales => self.t("hat.presales"),
            cunjin_core::Hat::Relay => self.t("hat.relay"),
        }
    }

    /// The `lang` attribute of the page.
    pub fn code(&self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The short code used in `?lang=` and the cookie.
    pub fn short(&self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The other language, for the switch.
    pub fn other(&self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// Parses `zh`, `zh-CN`, `en`, `en-US`…
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The language of a request: the `lang` cookie, else the best of `Accept-Language`,
    /// else Chinese.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        if let Some(l) = crate::auth::cookie(headers, "lang").and_then(Lang::parse) {
            return l;
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut best: Option<(f32, Lang)> = None;
        for part in accept.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("");
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(l) = Lang::parse(tag) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, l));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Zh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_in_both_languages() {
        let mut seen = std::collections::HashSet::new();
        for (k, zh, en) in TABLES.iter().flat_map(|t| t.iter()) {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
    }

    #[test]
    fn every_key_the_templates_use_exists() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let templates: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        let keys: std::collections::HashSet<&str> =
            TABLES.iter().flat_map(|t| t.iter()).map(|m| m.0).collect();
        let mut used = 0;
        for t in &templates {
            for piece in t.split("t(\"").skip(1) {
                let key = piece.split('"').next().unwrap();
                assert!(keys.contains(key), "template uses missing key {key}");
                used += 1;
            }
        }
        assert!(
            used > 50,
            "the templates should use the table ({used} uses)"
        );
    }

    #[test]
    fn every_stage_mode_and_status_has_a_name() {
        use cunjin_core::{Mode, Stage, Status};
        for l in [Lang::Zh, Lang::En] {
            for s in Stage::ALL {
                assert!(!l.stage(s).contains('.'), "{s}");
                assert!(stage_key(s).ends_with(s.as_str()));
            }
            for m in Mode::ALL {
                assert!(!l.mode(m).contains('.'), "{m}");
                assert!(mode_key(m).ends_with(m.as_str()));
            }
            for s in Status::ALL {
                assert!(!l.status(s).contains('.'), "{s}");
                assert!(status_key(s).ends_with(s.as_str()));
            }
        }
    }

    #[test]
    fn every_webhook_kind_and_event_has_a_name() {
        use cunjin_core::notify::{Event, WebhookKind};
        let events = Event::SUBSCRIBABLE.into_iter().chain([Event::Test]);
        let keys: Vec<&str> = WebhookKind::ALL
            .into_iter()
            .map(kind_key)
            .chain(events.map(event_key))
            .collect();
        for l in [Lang::Zh, Lang::En] {
            for k in &keys {
                assert_ne!(l.t(k), *k, "{k} has no text");
            }
        }
        assert_eq!(Lang::En.t(kind_key(WebhookKind::Wecom)), "WeCom");
    }

    #[test]
    fn accept_language_picks_the_best() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::from_headers(&h), Lang::Zh);
        h.insert(
            "accept-language",
            "en-US,en;q=0.9,zh-CN;q=0.8".parse().unwrap(),
        );
        assert_eq!(Lang::from_headers(&h), Lang::En);
        h.insert(
            "accept-language",
            "fr;q=1, zh-TW;q=0.5, en;q=0.4".parse().unwrap(),
        );
        assert_eq!(Lang::from_headers(&h), Lang::Zh);
        h.insert("cookie", "lang=en".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::En);
    }
}
