//! Feature stage: how real a feature is, product-wide.

use crate::values::ParseError;

/// How real a feature is, from an idea to a shipped release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Nothing exists but the idea.
    Idea,
    /// Slides or a prototype exist.
    Designed,
    /// Only a menu entry exists.
    Stubbed,
    /// Works in the product.
    Built,
    /// In a shipped release.
    Released,
}

impl Stage {
    /// Every stage, from least to most real.
    pub const ALL: [Stage; 5] = [
        Stage::Idea,
        Stage::Designed,
        Stage::Stubbed,
        Stage::Built,
        Stage::Released,
    ];

    /// The rank of DESIGN.md: idea 0 … released 4.
    pub fn rank(self) -> u32 {
        match self {
            Stage::Idea => 0,
            Stage::Designed => 1,
            Stage::Stubbed => 2,
            Stage::Built => 3,
            Stage::Released => 4,
        }
    }

    /// The contract name of the stage (`idea`, `designed`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Idea => "idea",
            Stage::Designed => "designed",
            Stage::Stubbed => "stubbed",
            Stage::Built => "built",
            Stage::Released => "released",
        }
    }

    /// Parses a contract name; anything else is an error naming the accepted values.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Stage::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| ParseError::one_of("stage", s, &Stage::ALL.map(Stage::as_str)))
    }

    /// Whether the feature works in the product (built or released).
    pub fn works(self) -> bool {
        self >= Stage::Built
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_ranks_rise() {
        for (i, s) in Stage::ALL.into_iter().enumerate() {
            assert_eq!(Stage::parse(s.as_str()).unwrap(), s);
            assert_eq!(s.rank() as usize, i);
        }
        let err = Stage::parse("shipped").unwrap_err();
        assert!(err.to_string().contains("idea"), "{err}");
    }
}
