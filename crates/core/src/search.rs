//! Search terms of Chinese and English text, and how alike two texts are.
//!
//! Full-text search differs between SQLite (FTS5) and PostgreSQL (tsvector, and neither splits
//! Chinese into words), so cunjin indexes its own terms in an ordinary table and both engines
//! answer the same question the same way. A term is a lower-cased run of Latin letters or digits
//! (`drg`, `his`, `v5`), or, inside a run of Chinese characters, every pair of neighbouring
//! characters (电子病历 → 电子, 子病, 病历): a two-character word such as 病历, 医保 or 排班 is then
//! always a term of any text that contains it, without a dictionary. A run of one Chinese
//! character is a term by itself.

use std::collections::BTreeSet;

/// Longest term kept, in characters; longer Latin runs are cut (they are ids or noise).
pub const MAX_TERM_CHARS: usize = 32;

/// English words too common to tell texts apart.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on",
    "or", "the", "to", "with",
];

/// Whether `c` is written in Chinese, Japanese or Korean script (split into character pairs).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF     // Hiragana, Katakana
        | 0x3400..=0x4DBF   // CJK Extension A
        | 0x4E00..=0x9FFF   // CJK Unified Ideographs
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0xF900..=0xFAFF   // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F // Extensions B–F and compatibility supplement
    )
}

/// The distinct search terms of `text`, sorted.
pub fn terms(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut word = String::new();
    let mut cjk: Vec<char> = Vec::new();
    let flush_word = |word: &mut String, out: &mut BTreeSet<String>| {
        if !word.is_empty() {
            let w: String = word.chars().take(MAX_TERM_CHARS).collect();
            if !STOP_WORDS.contains(&w.as_str()) {
                out.insert(w);
            }
            word.clear();
        }
    };
    let flush_cjk = |run: &mut Vec<char>, out: &mut BTreeSet<String>| {
        match run.len() {
            0 => {}
            1 => {
                out.insert(run[0].to_string());
            }
            _ => {
                for pair in run.windows(2) {
                    out.insert(pair.iter().collect());
                }
            }
        }
        run.clear();
    };
    for c in text.chars() {
        if is_cjk(c) {
            flush_word(&mut word, &mut out);
            cjk.push(c);
        } else if c.is_alphanumeric() {
            flush_cjk(&mut cjk, &mut out);
            // Full-width Latin (ＤＲＧ, １２) reads as its ASCII form.
            let c = match c as u32 {
                0xFF10..=0xFF19 | 0xFF21..=0xFF3A | 0xFF41..=0xFF5A => {
                    char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
                }
                _ => c,
            };
            word.extend(c.to_lowercase());
        } else {
            flush_word(&mut word, &mut out);
            flush_cjk(&mut cjk, &mut out);
        }
    }
    flush_word(&mut word, &mut out);
    flush_cjk(&mut cjk, &mut out);
    out
}

/// Whether a query term is a single Chinese character: it matches the terms that start with it.
pub fn is_prefix_term(term: &str) -> bool {
    let mut cs = term.chars();
    matches!((cs.next(), cs.next()), (Some(c), None) if is_cjk(c))
}

/// How alike two term sets are: the Dice coefficient 2·|A∩B| / (|A| + |B|), from 0 to 1.
pub fn similarity(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    let shared = a.intersection(b).count();
    2.0 * shared as f64 / (a.len() + b.len()) as f64
}

/// Below this similarity two requests are not suggested as the same need.
pub const SIMILAR_THRESHOLD: f64 = 0.4;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> BTreeSet<String> {
        terms(s)
    }

    fn set<const N: usize>(xs: [&str; N]) -> BTreeSet<String> {
        xs.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn chinese_runs_become_character_pairs() {
        assert_eq!(
            t("电子病历书写"),
            set(["历书", "子病", "书写", "电子", "病历"])
        );
        assert!(terms("电子病历书写").contains("病历"));
        assert!(terms("门诊医保结算").contains("医保"));
        assert!(terms("护士排班(APN 排班)").contains("排班"));
        assert_eq!(t("药"), set(["药"]));
    }

    #[test]
    fn latin_words_are_lower_cased_and_split_from_chinese() {
        assert_eq!(
            t("DRG分组实时预警"),
            set(["drg", "分组", "实时", "时预", "组实", "预警"])
        );
        assert_eq!(t("DRG 分组"), set(["drg", "分组"]));
        assert!(terms("drg 分组器").is_superset(&terms("DRG 分组")));
        assert_eq!(
            t("The HIS v5.2 of a hospital"),
            set(["2", "his", "hospital", "v5"])
        );
        assert_eq!(t("ＤＲＧ"), set(["drg"]));
    }

    #[test]
    fn punctuation_and_blanks_separate() {
        assert_eq!(t("病历，质控"), set(["病历", "质控"]));
        assert!(t("   ").is_empty());
        assert!(t("！？。").is_empty());
    }

    #[test]
    fn long_runs_are_cut() {
        let long = "x".repeat(100);
        assert_eq!(
            t(&long).first().map(|x| x.chars().count()),
            Some(MAX_TERM_CHARS)
        );
    }

    #[test]
    fn single_characters_are_prefix_terms() {
        assert!(is_prefix_term("药"));
        assert!(!is_prefix_term("病历"));
        assert!(!is_prefix_term("a"));
    }

    #[test]
    fn near_duplicates_are_similar_and_others_are_not() {
        let a = terms("门诊医生站增加医保结算清单上传功能");
        let b = terms("希望门诊医生站能上传医保结算清单");
        let c = terms("护士排班支持按周复制");
        assert!(
            similarity(&a, &b) >= SIMILAR_THRESHOLD,
            "{}",
            similarity(&a, &b)
        );
        assert!(similarity(&a, &c) < SIMILAR_THRESHOLD);
        let e1 = terms("Export the DRG grouping report to Excel");
        let e2 = terms("export DRG grouping report as excel");
        assert!(similarity(&e1, &e2) >= SIMILAR_THRESHOLD);
        assert_eq!(similarity(&a, &a), 1.0);
        assert_eq!(similarity(&BTreeSet::new(), &BTreeSet::new()), 0.0);
    }

    proptest! {
        #[test]
        fn terms_never_panic_and_are_lower_case(s in "\\PC{0,80}") {
            for term in terms(&s) {
                prop_assert!(!term.is_empty());
                prop_assert!(term.chars().count() <= MAX_TERM_CHARS);
                prop_assert_eq!(term.to_lowercase(), term.clone());
            }
        }

        #[test]
        fn a_text_contains_the_terms_of_its_words(pre in "[a-z ]{0,10}", word in "[\u{4e00}-\u{4e20}]{2,4}", post in "[a-z ]{0,10}") {
            // Any Chinese word inside a text finds the text: its terms are a subset.
            let text = format!("{pre}{word}{post}");
            prop_assert!(terms(&word).is_subset(&terms(&text)));
        }

        #[test]
        fn similarity_is_symmetric_and_bounded(a in "\\PC{0,40}", b in "\\PC{0,40}") {
            let (ta, tb) = (terms(&a), terms(&b));
            let s = similarity(&ta, &tb);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert_eq!(s, similarity(&tb, &ta));
        }
    }
}
