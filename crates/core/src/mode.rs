//! Presentation mode: what the talk track says for one scripted feature.

use crate::stage::Stage;
use crate::values::ParseError;

/// How a feature was, or will be, shown in a demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Built, and the demo environment is up: show it live.
    Live,
    /// Built, but the environment is down: recording or screenshot, otherwise fix or skip.
    Fallback,
    /// Built, but no probe says whether it works in the environment.
    Unverified,
    /// Only a menu entry exists: talk over the empty menu.
    Menu,
    /// Only a slide exists.
    Slides,
    /// Only an idea: described with hands and words.
    Words,
    /// Not in the catalogue at all: a bare promise.
    Promise,
}

/// Health of a feature in one demo environment, from its probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Every probe tied to the feature passed in its latest run.
    Up,
    /// At least one probe failed.
    Down,
    /// No probe is tied to the feature.
    Unverified,
}

impl Mode {
    /// Every mode, in the order of DESIGN.md's table.
    pub const ALL: [Mode; 7] = [
        Mode::Live,
        Mode::Fallback,
        Mode::Unverified,
        Mode::Menu,
        Mode::Slides,
        Mode::Words,
        Mode::Promise,
    ];

    /// The mode for a catalogue feature at `stage` whose health in the environment is `health`.
    pub fn for_feature(stage: Stage, health: Health) -> Mode {
        match stage {
            Stage::Built | Stage::Released => match health {
                Health::Up => Mode::Live,
                Health::Down => Mode::Fallback,
                Health::Unverified => Mode::Unverified,
            },
            Stage::Stubbed => Mode::Menu,
            Stage::Designed => Mode::Slides,
            Stage::Idea => Mode::Words,
        }
    }

    /// The contract name of the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Fallback => "fallback",
            Mode::Unverified => "unverified",
            Mode::Menu => "menu",
            Mode::Slides => "slides",
            Mode::Words => "words",
            Mode::Promise => "promise",
        }
    }

    /// Parses a contract name.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| ParseError::one_of("shown_as", s, &Mode::ALL.map(Mode::as_str)))
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_of_design_md() {
        use Health::*;
        assert_eq!(Mode::for_feature(Stage::Released, Up), Mode::Live);
        assert_eq!(Mode::for_feature(Stage::Built, Up), Mode::Live);
        assert_eq!(Mode::for_feature(Stage::Built, Down), Mode::Fallback);
        assert_eq!(
            Mode::for_feature(Stage::Released, Unverified),
            Mode::Unverified
        );
        assert_eq!(Mode::for_feature(Stage::Stubbed, Up), Mode::Menu);
        assert_eq!(Mode::for_feature(Stage::Designed, Down), Mode::Slides);
        assert_eq!(Mode::for_feature(Stage::Idea, Unverified), Mode::Words);
        for m in Mode::ALL {
            assert_eq!(Mode::parse(m.as_str()).unwrap(), m);
        }
        assert!(Mode::parse("ppt").is_err());
    }
}
