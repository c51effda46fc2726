//! Tender rows (技术偏离表 / 点对点应答): the bid answers every clause of the tender, and the
//! answers of a won bid are the customer's first written promises. This module reads the words
//! bids use for a row's marker, deviation and evidence, and holds the rules of DESIGN.md's
//! "Tender rows": which rows become commitments, which are acceptance-critical, how they count as
//! shown, and which are a bid risk.

use crate::mode::{Health, Mode};
use crate::stage::Stage;
use crate::values::ParseError;

/// How much a clause weighs in the tender (指标属性).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Marker {
    /// ★ 实质性: a negative deviation voids the bid; a false answer forfeits the bid bond.
    Mandatory,
    /// ▲ 重要: a deviation costs points.
    Important,
    /// 一般: neither.
    Ordinary,
}

/// How the bid's answer stands to the clause (偏离情况).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Deviation {
    /// 正偏离: the bid offers more than asked.
    Positive,
    /// 无偏离: the bid offers what is asked.
    None,
    /// 负偏离: the bid offers less; not a promise.
    Negative,
}

/// What the bid points to as proof of its answer (证明材料).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Evidence {
    /// 功能截图: a screenshot of the feature.
    Screenshot,
    /// 功能演示录屏: a recording of the feature.
    Recording,
    /// 承诺函: a sealed letter promising what does not exist yet.
    Letter,
    /// Nothing named.
    None,
}

/// Lower-cased, without spaces and the usual brackets, for comparing a cell with known words.
fn folded(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !"()（）[]【】「」".contains(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

impl Marker {
    /// Every marker, heaviest first.
    pub const ALL: [Marker; 3] = [Marker::Mandatory, Marker::Important, Marker::Ordinary];

    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            Marker::Mandatory => "mandatory",
            Marker::Important => "important",
            Marker::Ordinary => "none",
        }
    }

    /// The sign a bid prints for it.
    pub fn symbol(self) -> &'static str {
        match self {
            Marker::Mandatory => "★",
            Marker::Important => "▲",
            Marker::Ordinary => "",
        }
    }

    /// Parses a contract name.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Marker::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| ParseError::one_of("marker", s, &Marker::ALL.map(Marker::as_str)))
    }

    /// Reads a marker cell of a bid: ★ * ＊ 实质性 mandatory; ▲ △ 重要 important; empty, 一般, 普通,
    /// 无, - or none for an ordinary clause. `None` for anything else.
    pub fn read(cell: &str) -> Option<Marker> {
        let f = folded(cell);
        match f.as_str() {
            "★" | "*" | "＊" | "☆" | "实质性" | "实质性条款" | "实质性要求" | "mandatory"
            | "substantive" | "essential" => Some(Marker::Mandatory),
            "▲" | "△" | "重要" | "重要条款" | "重要指标" | "important" | "key" => {
                Some(Marker::Important)
            }
            "" | "一般" | "一般条款" | "一般指标" | "普通" | "无" | "-" | "—" | "/" | "none"
            | "ordinary" | "normal" => Some(Marker::Ordinary),
            _ => {
                // "★实质性", "▲重要指标": the sign decides.
                match f.chars().next() {
                    Some('★' | '＊' | '*') => Some(Marker::Mandatory),
                    Some('▲' | '△') => Some(Marker::Important),
                    _ => None,
                }
            }
        }
    }

    /// The marker a requirement text starts with (`★ 支持…`, `▲支持…`), and the text without it.
    pub fn leading(text: &str) -> (Option<Marker>, &str) {
        let t = text.trim_start();
        let mut chars = t.chars();
        let marker = match chars.next() {
            Some('★' | '＊' | '*') => Marker::Mandatory,
            Some('▲' | '△') => Marker::Important,
            _ => return (None, text),
        };
        (Some(marker), chars.as_str().trim_start())
    }
}

impl Deviation {
    /// Every deviation.
    pub const ALL: [Deviation; 3] = [Deviation::Positive, Deviation::None, Deviation::Negative];

    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            Deviation::Positive => "positive",
            Deviation::None => "none",
            Deviation::Negative => "negative",
        }
    }

    /// Parses a contract name.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Deviation::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| {
                ParseError::one_of("deviation", s, &Deviation::ALL.map(Deviation::as_str))
            })
    }

    /// Reads a deviation cell: 正偏离 / 无偏离 / 负偏离 and their short and English forms
    /// (满足 and 完全响应 count as no deviation). `None` for an empty or unknown cell: a bid
    /// always states it, so a blank is a mistake to show, not a guess to make.
    pub fn read(cell: &str) -> Option<Deviation> {
        match folded(cell).as_str() {
            "正偏离" | "正" | "优于" | "优于招标要求" | "positive" | "+" | "better" => {
                Some(Deviation::Positive)
            }
            "无偏离" | "无" | "无偏差" | "满足" | "完全满足" | "完全响应" | "响应" | "none"
            | "nodeviation" | "=" | "0" | "comply" | "complies" => Some(Deviation::None),
            "负偏离" | "负" | "不满足" | "部分满足" | "negative" | "-" | "worse" => {
                Some(Deviation::Negative)
            }
            _ => None,
        }
    }
}

impl Evidence {
    /// Every kind of evidence.
    pub const ALL: [Evidence; 4] = [
        Evidence::Screenshot,
        Evidence::Recording,
        Evidence::Letter,
        Evidence::None,
    ];

    /// The contract name.
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Screenshot => "screenshot",
            Evidence::Recording => "recording",
            Evidence::Letter => "letter",
            Evidence::None => "none",
        }
    }

    /// Parses a contract name.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Evidence::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| ParseError::one_of("evidence", s, &Evidence::ALL.map(Evidence::as_str)))
    }

    /// What kind of proof an evidence cell names ("《技术册》P46 功能截图", "见承诺函", "演示视频").
    /// A letter wins over a picture: a row proven "by screenshot and commitment letter" promises
    /// what the picture does not show.
    pub fn read(cell: &str) -> Evidence {
        let f = folded(cell);
        let any = |words: &[&str]| words.iter().any(|w| f.contains(w));
        if any(&["承诺函", "承诺书", "letter", "undertaking"]) {
            Evidence::Letter
        } else if any(&["录屏", "视频", "录像", "recording", "video"]) {
            Evidence::Recording
        } else if any(&["截图", "截屏", "界面图", "screenshot", "screen"]) {
            Evidence::Screenshot
        } else {
            Evidence::None
        }
    }
}

/// Whether a row of this deviation is a promise: a negative deviation is kept with the deal but
/// promises nothing and has no gap.
pub fn is_promised(deviation: Deviation) -> bool {
    deviation != Deviation::Negative
}

/// Whether a row's commitment is acceptance-critical: every ★ row, and ▲ rows when the
/// workspace says so.
pub fn is_critical(marker: Marker, important_is_critical: bool) -> bool {
    match marker {
        Marker::Mandatory => true,
        Marker::Important => important_is_critical,
        Marker::Ordinary => false,
    }
}

/// How a promised row counts as shown. A screenshot or recording of a built or released feature
/// is a live showing (a fallback while its environment is down); of a lower stage, what that
/// stage allows; a commitment letter, or no evidence, is a bare promise. `stage` is `None` when
/// the row is a new idea outside the catalogue.
pub fn shown_as(evidence: Evidence, stage: Option<Stage>, health: Health) -> Mode {
    match (evidence, stage) {
        (Evidence::Screenshot | Evidence::Recording, Some(stage)) => match stage {
            Stage::Built | Stage::Released if health == Health::Down => Mode::Fallback,
            Stage::Built | Stage::Released => Mode::Live,
            lower => Mode::for_feature(lower, health),
        },
        _ => Mode::Promise,
    }
}

/// Bid risk: a ★ or ▲ row promised on a feature that is only an idea, a design or a menu entry.
pub fn is_bid_risk(marker: Marker, stage: Stage) -> bool {
    marker != Marker::Ordinary && matches!(stage, Stage::Idea | Stage::Designed | Stage::Stubbed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_read_from_the_signs_and_words_bids_use() {
        for cell in [
            "★",
            " ★ ",
            "*",
            "＊",
            "实质性",
            "【实质性】",
            "Mandatory",
            "★实质性条款",
        ] {
            assert_eq!(Marker::read(cell), Some(Marker::Mandatory), "{cell}");
        }
        for cell in ["▲", "△", "重要", "重要指标", "important", "▲重要"] {
            assert_eq!(Marker::read(cell), Some(Marker::Important), "{cell}");
        }
        for cell in ["", "一般", "普通", "-", "none"] {
            assert_eq!(Marker::read(cell), Some(Marker::Ordinary), "{cell}");
        }
        assert_eq!(Marker::read("很重要吧"), None);
    }

    #[test]
    fn a_marker_at_the_start_of_the_requirement_is_taken_off_it() {
        assert_eq!(
            Marker::leading("★ 支持电子病历五级评审"),
            (Some(Marker::Mandatory), "支持电子病历五级评审")
        );
        assert_eq!(
            Marker::leading("▲支持移动查房"),
            (Some(Marker::Important), "支持移动查房")
        );
        assert_eq!(Marker::leading("支持★号检索"), (None, "支持★号检索"));
    }

    #[test]
    fn deviations_are_read_and_a_blank_is_not_guessed() {
        assert_eq!(Deviation::read("正偏离"), Some(Deviation::Positive));
        assert_eq!(Deviation::read(" 无偏离 "), Some(Deviation::None));
        assert_eq!(Deviation::read("满足"), Some(Deviation::None));
        assert_eq!(Deviation::read("负偏离"), Some(Deviation::Negative));
        assert_eq!(Deviation::read("Negative"), Some(Deviation::Negative));
        assert_eq!(Deviation::read(""), None);
        assert_eq!(Deviation::read("差不多"), None);
    }

    #[test]
    fn evidence_names_its_kind_and_a_letter_wins_over_a_picture() {
        assert_eq!(
            Evidence::read("《技术册》P46 功能截图"),
            Evidence::Screenshot
        );
        assert_eq!(Evidence::read("见功能演示录屏"), Evidence::Recording);
        assert_eq!(Evidence::read("截图及承诺函 P80"), Evidence::Letter);
        assert_eq!(Evidence::read("《技术册》P46"), Evidence::None);
        assert_eq!(Evidence::read(""), Evidence::None);
    }

    #[test]
    fn the_rules_of_a_row() {
        assert!(is_promised(Deviation::Positive) && is_promised(Deviation::None));
        assert!(!is_promised(Deviation::Negative));
        assert!(is_critical(Marker::Mandatory, false));
        assert!(!is_critical(Marker::Important, false));
        assert!(is_critical(Marker::Important, true));
        assert!(!is_critical(Marker::Ordinary, true));

        use Evidence as E;
        assert_eq!(
            shown_as(E::Screenshot, Some(Stage::Built), Health::Up),
            Mode::Live
        );
        assert_eq!(
            shown_as(E::Recording, Some(Stage::Released), Health::Unverified),
            Mode::Live
        );
        assert_eq!(
            shown_as(E::Screenshot, Some(Stage::Built), Health::Down),
            Mode::Fallback
        );
        assert_eq!(
            shown_as(E::Screenshot, Some(Stage::Stubbed), Health::Up),
            Mode::Menu
        );
        assert_eq!(
            shown_as(E::Recording, Some(Stage::Designed), Health::Up),
            Mode::Slides
        );
        assert_eq!(
            shown_as(E::Letter, Some(Stage::Built), Health::Up),
            Mode::Promise
        );
        assert_eq!(
            shown_as(E::None, Some(Stage::Released), Health::Up),
            Mode::Promise
        );
        assert_eq!(shown_as(E::Screenshot, None, Health::Up), Mode::Promise);

        assert!(is_bid_risk(Marker::Mandatory, Stage::Idea));
        assert!(is_bid_risk(Marker::Important, Stage::Stubbed));
        assert!(!is_bid_risk(Marker::Ordinary, Stage::Idea));
        assert!(!is_bid_risk(Marker::Mandatory, Stage::Built));
    }

    #[test]
    fn contract_names_parse_back() {
        for m in Marker::ALL {
            assert_eq!(Marker::parse(m.as_str()).unwrap(), m);
        }
        for d in Deviation::ALL {
            assert_eq!(Deviation::parse(d.as_str()).unwrap(), d);
        }
        for e in Evidence::ALL {
            assert_eq!(Evidence::parse(e.as_str()).unwrap(), e);
        }
        assert!(Marker::parse("★").is_err());
    }
}
