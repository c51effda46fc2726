//! Probes: what an HTTP check against a demo environment expects, and whether an answer meets it.
//!
//! Sending the request is I/O and lives in the web crate; deciding whether the answer passes is
//! a pure function of the status and body, tested here.

use serde::{Deserialize, Serialize};

use crate::values::ParseError;

/// The HTTP methods a probe may use. Probes only look; they never change the demo environment
/// on purpose, but some demo systems answer their login check only to POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProbeMethod {
    /// GET.
    Get,
    /// HEAD.
    Head,
    /// POST with an empty body.
    Post,
}

impl ProbeMethod {
    /// Every method.
    pub const ALL: [ProbeMethod; 3] = [ProbeMethod::Get, ProbeMethod::Head, ProbeMethod::Post];

    /// The method's name as HTTP spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeMethod::Get => "GET",
            ProbeMethod::Head => "HEAD",
            ProbeMethod::Post => "POST",
        }
    }

    /// Parses a method name, in any case.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let upper = s.trim().to_ascii_uppercase();
        ProbeMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == upper)
            .ok_or_else(|| ParseError::one_of("method", s, &ProbeMethod::ALL.map(Self::as_str)))
    }
}

/// What a probe expects of the answer.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// The HTTP status.
    pub status: u16,
    /// A substring the body must contain.
    pub body: Option<String>,
    /// A regular expression the body must match.
    pub regex: Option<regex::Regex>,
    /// A JSON pointer (RFC 6901) into the body and the value it must point at.
    pub json: Option<(String, serde_json::Value)>,
}

/// The raw fields of an expectation, as stored or sent.
#[derive(Debug, Clone, Default)]
pub struct ExpectationFields<'a> {
    /// Expected status (default 200).
    pub status: Option<i64>,
    /// Body substring.
    pub body: Option<&'a str>,
    /// Body regular expression.
    pub regex: Option<&'a str>,
    /// JSON pointer, e.g. `/data/0/name`.
    pub json_pointer: Option<&'a str>,
    /// The value at the pointer, as JSON text (`"张三"`, `3`, `true`), or a bare string.
    pub json_value: Option<&'a str>,
}

/// Longest accepted regular expression, in characters; a probe pattern is a short check.
const MAX_REGEX_CHARS: usize = 1000;

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|v| !v.trim().is_empty())
}

impl Expectation {
    /// Parses and checks the fields: a real status, a compilable regex, a pointer that starts
    /// with `/` and comes with a value (and the other way round).
    pub fn parse(f: ExpectationFields<'_>) -> Result<Expectation, ParseError> {
        let status = f.status.unwrap_or(200);
        if !(100..=599).contains(&status) {
            return Err(ParseError::new(
                "expect_status",
                format!("{status} is not an HTTP status (100–599)"),
            ));
        }
        let regex = match non_empty(f.regex) {
            None => None,
            Some(r) if r.chars().count() > MAX_REGEX_CHARS => {
                return Err(ParseError::new(
                    "expect_regex",
                    format!("at most {MAX_REGEX_CHARS} characters"),
                ))
            }
            Some(r) => Some(
                regex::RegexBuilder::new(r)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| ParseError::new("expect_regex", e.to_string()))?,
            ),
        };
        let json = match (non_empty(f.json_pointer), f.json_value) {
            (None, None) => None,
            (Some(p), Some(v)) => {
                if !p.starts_with('/') {
                    return Err(ParseError::new(
                        "json_pointer",
                        format!("'{p}' must start with / (RFC 6901), e.g. /data/0/name"),
                    ));
                }
                Some((p.to_string(), json_value(v)))
            }
            (Some(_), None) => {
                return Err(ParseError::new(
                    "json_value",
                    "give the value the json_pointer must point at",
                ))
            }
            (None, Some(_)) => {
                return Err(ParseError::new(
                    "json_pointer",
                    "give the pointer json_value is expected at",
                ))
            }
        };
        Ok(Expectation {
            status: status as u16,
            body: non_empty(f.body).map(str::to_string),
            regex,
            json,
        })
    }

    /// Whether an answer with `status` and `body` meets the expectation; the first unmet part
    /// otherwise, in the order status, substring, regex, JSON value.
    pub fn check(&self, status: u16, body: &str) -> Result<(), ProbeFailure> {
        if status != self.status {
            return Err(ProbeFailure::Status {
                expected: self.status,
                got: status,
            });
        }
        if let Some(want) = &self.body {
            if !body.contains(want.as_str()) {
                return Err(ProbeFailure::BodyMissing {
                    expected: want.clone(),
                });
            }
        }
        if let Some(re) = &self.regex {
            if !re.is_match(body) {
                return Err(ProbeFailure::RegexNoMatch {
                    pattern: re.as_str().to_string(),
                });
            }
        }
        if let Some((pointer, want)) = &self.json {
            let doc: serde_json::Value =
                serde_json::from_str(body).map_err(|_| ProbeFailure::NotJson)?;
            match doc.pointer(pointer) {
                None => {
                    return Err(ProbeFailure::PointerMissing {
                        pointer: pointer.clone(),
                    })
                }
                Some(got) if got != want => {
                    return Err(ProbeFailure::ValueDiffers {
                        pointer: pointer.clone(),
                        expected: want.to_string(),
                        got: shorten(&got.to_string(), 80),
                    })
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// The expected value as JSON: `"张三"`, `3` and `true` are JSON; anything that is not valid
/// JSON is taken as a string, so a person can type 张三 without quotes.
pub fn json_value(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim())
        .unwrap_or_else(|_| serde_json::Value::String(text.trim().to_string()))
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// Why a probe failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProbeFailure {
    /// The status differed.
    Status {
        /// Expected.
        expected: u16,
        /// Answered.
        got: u16,
    },
    /// The body lacked the expected text.
    BodyMissing {
        /// The text.
        expected: String,
    },
    /// The body did not match the pattern.
    RegexNoMatch {
        /// The pattern.
        pattern: String,
    },
    /// A JSON pointer was to be checked but the body is not JSON.
    NotJson,
    /// Nothing at the pointer.
    PointerMissing {
        /// The pointer.
        pointer: String,
    },
    /// Something else at the pointer.
    ValueDiffers {
        /// The pointer.
        pointer: String,
        /// Expected value, as JSON.
        expected: String,
        /// Found value, as JSON.
        got: String,
    },
    /// No answer within the probe's timeout.
    Timeout {
        /// The timeout in milliseconds.
        ms: u64,
    },
    /// No HTTP answer at all: refused, DNS, TLS.
    Unreachable {
        /// What the connection said.
        message: String,
    },
}

impl ProbeFailure {
    /// What went wrong, in English.
    pub fn en(&self) -> String {
        match self {
            ProbeFailure::Status { expected, got } => {
                format!("expected status {expected}, got {got}")
            }
            ProbeFailure::BodyMissing { expected } => {
                format!("the answer does not contain \"{expected}\"")
            }
            ProbeFailure::RegexNoMatch { pattern } => {
                format!("the answer does not match /{pattern}/")
            }
            ProbeFailure::NotJson => "the answer is not JSON".to_string(),
            ProbeFailure::PointerMissing { pointer } => {
                format!("nothing at {pointer} in the answer")
            }
            ProbeFailure::ValueDiffers {
                pointer,
                expected,
                got,
            } => format!("{pointer} is {got}, expected {expected}"),
            ProbeFailure::Timeout { ms } => format!("no answer within {ms} ms (timeout)"),
            ProbeFailure::Unreachable { message } => format!("unreachable: {message}"),
        }
    }

    /// What went wrong, in Chinese.
    pub fn zh(&self) -> String {
        match self {
            ProbeFailure::Status { expected, got } => {
                format!("期望状态 {expected}，实际 {got}")
            }
            ProbeFailure::BodyMissing { expected } => format!("返回内容中没有“{expected}”"),
            ProbeFailure::RegexNoMatch { pattern } => format!("返回内容不匹配 /{pattern}/"),
            ProbeFailure::NotJson => "返回内容不是 JSON".to_string(),
            ProbeFailure::PointerMissing { pointer } => format!("返回内容中没有 {pointer}"),
            ProbeFailure::ValueDiffers {
                pointer,
                expected,
                got,
            } => format!("{pointer} 为 {got}，期望 {expected}"),
            ProbeFailure::Timeout { ms } => format!("{ms} 毫秒内无响应（超时）"),
            ProbeFailure::Unreachable { message } => format!("无法连接：{message}"),
        }
    }

    /// Whether the environment gave no HTTP answer at all (as opposed to a wrong one).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ProbeFailure::Unreachable { .. })
    }
}

/// A base URL of a demo environment: `http://` or `https://`, a host, no spaces; kept without
/// its trailing slash so that probe paths join with exactly one.
pub fn base_url(s: &str) -> Result<String, ParseError> {
    let t = s.trim().trim_end_matches('/');
    let rest = t
        .strip_prefix("http://")
        .or_else(|| t.strip_prefix("https://"));
    match rest {
        Some(host)
            if !host.is_empty() && !host.starts_with('/') && !t.contains(char::is_whitespace) =>
        {
            Ok(t.to_string())
        }
        _ => Err(ParseError::new(
            "base_url",
            format!("'{s}' is not an http:// or https:// address"),
        )),
    }
}

/// A probe path: starts with `/`, no spaces, at most 2000 characters.
pub fn probe_path(s: &str) -> Result<String, ParseError> {
    let t = s.trim();
    if !t.starts_with('/') || t.contains(char::is_whitespace) || t.len() > 2000 {
        return Err(ParseError::new(
            "path",
            format!("'{s}' must start with / and contain no spaces, e.g. /api/patients?name=张三"),
        ));
    }
    Ok(t.to_string())
}

/// A probe timeout in milliseconds: 100 ms to 60 s, 5 s by default.
pub fn timeout_ms(ms: Option<i64>) -> Result<u64, ParseError> {
    match ms.unwrap_or(5000) {
        m @ 100..=60_000 => Ok(m as u64),
        m => Err(ParseError::new(
            "timeout_ms",
            format!("{m} is not between 100 and 60000"),
        )),
    }
}

/// Masks a secret header value for display: its length, none of its characters.
pub fn mask_secret(value: &str) -> String {
    format!("•••• ({} chars)", value.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exp(f: ExpectationFields<'_>) -> Expectation {
        Expectation::parse(f).unwrap()
    }

    #[test]
    fn status_substring_regex_and_pointer() {
        let e = exp(ExpectationFields {
            status: Some(200),
            body: Some("张三"),
            regex: Some(r#""age":\s*\d+"#),
            json_pointer: Some("/data/0/name"),
            json_value: Some("张三"),
        });
        let ok = r#"{"data":[{"name":"张三","age": 42}]}"#;
        assert_eq!(e.check(200, ok), Ok(()));
        assert_eq!(
            e.check(500, ok),
            Err(ProbeFailure::Status {
                expected: 200,
                got: 500
            })
        );
        assert!(matches!(
            e.check(200, r#"{"data":[]}"#),
            Err(ProbeFailure::BodyMissing { .. })
        ));
        assert!(matches!(
            e.check(200, r#"{"data":[{"name":"张三","age":"x"}]}"#),
            Err(ProbeFailure::RegexNoMatch { .. })
        ));
        let wrong = e
            .check(200, r#"{"data":[{"name":"李四","age":1}], "x":"张三"}"#)
            .unwrap_err();
        assert_eq!(
            wrong,
            ProbeFailure::ValueDiffers {
                pointer: "/data/0/name".into(),
                expected: "\"张三\"".into(),
                got: "\"李四\"".into()
            }
        );
        assert!(wrong.zh().contains("李四") && wrong.en().contains("expected"));
    }

    #[test]
    fn json_values_are_typed_or_strings() {
        let e = exp(ExpectationFields {
            json_pointer: Some("/count"),
            json_value: Some("3"),
            ..Default::default()
        });
        assert_eq!(e.status, 200, "200 by default");
        assert_eq!(e.check(200, r#"{"count":3}"#), Ok(()));
        assert!(e.check(200, r#"{"count":"3"}"#).is_err(), "3 is not \"3\"");
        assert_eq!(e.check(200, "<html>"), Err(ProbeFailure::NotJson));
        assert_eq!(
            e.check(200, "{}"),
            Err(ProbeFailure::PointerMissing {
                pointer: "/count".into()
            })
        );
        assert_eq!(json_value("true"), serde_json::Value::Bool(true));
        assert_eq!(json_value("张三"), serde_json::json!("张三"));
    }

    #[test]
    fn bad_fields_are_refused() {
        let bad = |f: ExpectationFields<'_>| Expectation::parse(f).unwrap_err().field;
        assert_eq!(
            bad(ExpectationFields {
                status: Some(42),
                ..Default::default()
            }),
            "expect_status"
        );
        assert_eq!(
            bad(ExpectationFields {
                regex: Some("(unclosed"),
                ..Default::default()
            }),
            "expect_regex"
        );
        assert_eq!(
            bad(ExpectationFields {
                json_pointer: Some("data/0"),
                json_value: Some("1"),
                ..Default::default()
            }),
            "json_pointer"
        );
        assert_eq!(
            bad(ExpectationFields {
                json_pointer: Some("/data"),
                ..Default::default()
            }),
            "json_value"
        );
    }

    #[test]
    fn urls_paths_methods_timeouts() {
        assert_eq!(
            base_url(" https://demo.example.cn/his/ ").unwrap(),
            "https://demo.example.cn/his"
        );
        for bad in [
            "demo.example.cn",
            "ftp://x",
            "http://",
            "http://a b",
            "http:///x",
        ] {
            assert!(base_url(bad).is_err(), "{bad}");
        }
        assert!(probe_path("/api/ok?x=1").is_ok());
        assert!(probe_path("api/ok").is_err());
        assert_eq!(ProbeMethod::parse("get").unwrap(), ProbeMethod::Get);
        assert!(ProbeMethod::parse("DELETE").is_err());
        assert_eq!(timeout_ms(None).unwrap(), 5000);
        assert!(timeout_ms(Some(10)).is_err());
        assert!(!mask_secret("secret-token").contains("secret"));
    }

    proptest! {
        #[test]
        fn a_body_containing_the_substring_passes(prefix in ".{0,20}", needle in "[a-z张三]{1,8}", suffix in ".{0,20}") {
            let e = exp(ExpectationFields { body: Some(&needle), ..Default::default() });
            let body = format!("{prefix}{needle}{suffix}");
            prop_assert_eq!(e.check(200, &body), Ok(()));
        }

        #[test]
        fn any_other_status_fails(got in 100u16..600) {
            let e = exp(ExpectationFields { status: Some(204), ..Default::default() });
            prop_assert_eq!(e.check(got, "").is_ok(), got == 204);
        }
    }
}
