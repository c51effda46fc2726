//! Small values parsed at the edge of the system: menu paths, e-mail addresses, money, deal stages.

use std::fmt;

/// A value that could not be parsed, with the field it was meant for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ParseError {
    /// The contract name of the field.
    pub field: &'static str,
    /// What was wrong, in words a person can act on.
    pub message: String,
}

impl ParseError {
    /// An error for `field` with a free message.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        ParseError {
            field,
            message: message.into(),
        }
    }

    /// An error for a value that must be one of a fixed list.
    pub fn one_of(field: &'static str, got: &str, allowed: &[&str]) -> Self {
        ParseError::new(
            field,
            format!("'{got}' is not one of: {}", allowed.join(", ")),
        )
    }
}

/// A feature's place in the product's menus, e.g. `住院医生站/病历书写/结构化模板`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MenuPath(String);

impl MenuPath {
    /// Longest accepted path, in characters.
    pub const MAX_CHARS: usize = 500;
    /// Deepest accepted path.
    pub const MAX_DEPTH: usize = 12;

    /// Parses a path whose levels are separated by `/`, `／` (full-width) or `>`; blanks around
    /// levels are dropped, empty levels are refused.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let levels: Vec<&str> = s.split(['/', '／', '>']).map(str::trim).collect();
        if s.trim().is_empty() {
            return Err(ParseError::new("menu_path", "must not be empty"));
        }
        if levels.iter().any(|l| l.is_empty()) {
            return Err(ParseError::new(
                "menu_path",
                format!("'{s}' has an empty level; write levels like 住院医生站/病历书写"),
            ));
        }
        if levels.len() > Self::MAX_DEPTH {
            return Err(ParseError::new(
                "menu_path",
                format!("at most {} levels", Self::MAX_DEPTH),
            ));
        }
        let joined = levels.join("/");
        if joined.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(
                "menu_path",
                format!("at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(MenuPath(joined))
    }

    /// A path of one level named after a title: the menu separators inside the title become
    /// dashes, so that `挂号/预约` is the single level `挂号-预约`, not two levels.
    pub fn from_title(title: &str) -> Result<Self, ParseError> {
        let leaf: String = title
            .chars()
            .map(|c| {
                if matches!(c, '/' | '／' | '>') {
                    '-'
                } else {
                    c
                }
            })
            .collect();
        MenuPath::parse(&leaf)
    }

    /// The normalized path.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The levels of the path, outermost first.
    pub fn levels(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The last level, the feature's own name in the menu.
    pub fn leaf(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for MenuPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A login e-mail address, trimmed and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses an address of the form `local@domain` (`admin@localhost` is valid).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim().to_lowercase();
        let valid = s.len() <= 254
            && !s.chars().any(char::is_whitespace)
            && matches!(s.split_once('@'), Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if valid {
            Ok(Email(s))
        } else {
            Err(ParseError::new(
                "email",
                format!("'{s}' is not an e-mail address"),
            ))
        }
    }

    /// The normalized address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An amount of money in the contract currency, kept in hundredths (分) so that sums are exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

impl Money {
    /// The largest accepted amount: ten trillion units, far above any contract.
    pub const MAX_UNITS: f64 = 1e13;

    /// From whole units with up to two decimals, as the API carries it (`contract_value`).
    pub fn from_units(units: f64) -> Result<Self, ParseError> {
        if !(0.0..=Self::MAX_UNITS).contains(&units) {
            return Err(ParseError::new(
                "contract_value",
                "must be a number between 0 and 10,000,000,000,000",
            ));
        }
        // Rounding to the nearest hundredth: the bound above keeps the product well inside i64.
        Ok(Money((units * 100.0).round() as i64))
    }

    /// From hundredths, as storage keeps it.
    pub fn from_cents(cents: i64) -> Self {
        Money(cents.max(0))
    }

    /// Hundredths.
    pub fn cents(self) -> i64 {
        self.0
    }

    /// Whole units, for arithmetic and display.
    pub fn units(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

/// Where a deal stands in the sales pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DealStage {
    /// A lead (线索).
    Lead,
    /// Qualified opportunity (商机).
    Qualified,
    /// Proposal or bid (方案/投标).
    Proposal,
    /// Negotiation (商务谈判).
    Negotiation,
    /// Contract signed (签约).
    Won,
    /// Lost (丢单).
    Lost,
}

impl DealStage {
    /// Every deal stage, in pipeline order.
    pub const ALL: [DealStage; 6] = [
        DealStage::Lead,
        DealStage::Qualified,
        DealStage::Proposal,
        DealStage::Negotiation,
        DealStage::Won,
        DealStage::Lost,
    ];

    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            DealStage::Lead => "lead",
            DealStage::Qualified => "qualified",
            DealStage::Proposal => "proposal",
            DealStage::Negotiation => "negotiation",
            DealStage::Won => "won",
            DealStage::Lost => "lost",
        }
    }

    /// Parses a contract name.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        DealStage::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| ParseError::one_of("stage", s, &DealStage::ALL.map(DealStage::as_str)))
    }
}

/// A link people click (a slide, a recording): http or https only, so that a stored
/// `javascript:` link cannot run in somebody's browser.
pub fn web_link(field: &'static str, s: &str) -> Result<String, ParseError> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let ok = (lower.starts_with("https://") || lower.starts_with("http://"))
        && t.len() > "http://".len()
        && t.len() <= 2000
        && !t.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(t.to_string())
    } else {
        Err(ParseError::new(
            field,
            format!("'{t}' is not an http(s) link"),
        ))
    }
}

/// Trims a required piece of text and bounds its length.
pub fn required_text(field: &'static str, s: &str, max_chars: usize) -> Result<String, ParseError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ParseError::new(field, "must not be empty"));
    }
    if t.chars().count() > max_chars {
        return Err(ParseError::new(
            field,
            format!("at most {max_chars} characters"),
        ));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_paths_are_normalized() {
        let p = MenuPath::parse(" 住院医生站 / 病历书写／结构化模板 ").unwrap();
        assert_eq!(p.as_str(), "住院医生站/病历书写/结构化模板");
        assert_eq!(p.leaf(), "结构化模板");
        assert_eq!(p.levels().count(), 3);
        assert_eq!(MenuPath::parse("HIS > 挂号").unwrap().as_str(), "HIS/挂号");
        assert!(MenuPath::parse("a//b").is_err());
        assert!(MenuPath::parse("   ").is_err());
        assert!(MenuPath::parse(&"a/".repeat(20)).is_err());
    }

    #[test]
    fn a_title_is_one_menu_level() {
        let p = MenuPath::from_title(" 挂号/预约／改约 > 取消 ").unwrap();
        assert_eq!(p.as_str(), "挂号-预约-改约 - 取消");
        assert_eq!(p.levels().count(), 1);
        assert_eq!(
            MenuPath::from_title("AI 病历质控").unwrap().as_str(),
            "AI 病历质控"
        );
        assert!(MenuPath::from_title("  ").is_err());
        assert!(MenuPath::from_title(&"长".repeat(MenuPath::MAX_CHARS + 1)).is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Admin@LocalHost ").unwrap().as_str(),
            "admin@localhost"
        );
        for bad in ["", "no-at", "@x", "x@", "a@b@c", "a b@c"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn money_is_exact_in_hundredths() {
        assert_eq!(Money::from_units(3_800_000.0).unwrap().cents(), 380_000_000);
        assert_eq!(Money::from_units(0.105).unwrap().cents(), 11);
        assert!(Money::from_units(-1.0).is_err());
        assert!(Money::from_units(f64::NAN).is_err());
        assert!(Money::from_units(1e14).is_err());
    }

    #[test]
    fn links_are_web_links() {
        assert_eq!(
            web_link("slide_url", " https://slides.example.com/emr ").unwrap(),
            "https://slides.example.com/emr"
        );
        for bad in [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,x",
            "http://",
            "https://a b",
            "ftp://x",
        ] {
            assert!(web_link("slide_url", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_is_required_and_bounded() {
        assert_eq!(
            required_text("title", "  电子病历 ", 10).unwrap(),
            "电子病历"
        );
        assert!(required_text("title", " ", 10).is_err());
        assert!(required_text("title", "一二三四五六七八九十一", 10).is_err());
    }
}
