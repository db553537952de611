//! Checks for free text typed by people: present, within a limit that fits the field, and
//! saying what it shows.
//!
//! Every field has a [`Rule`]: one line (names, titles, staff, addresses) or several (a
//! description, a reply, a reason), and a length in characters. Text never carries a
//! bidirectional override or isolate (U+202A–U+202E, U+2066–U+2069: they make a note display
//! other than it reads), one-line text never carries a line break or any other control
//! character, and no text is made of invisible characters alone (zero-width spaces and the
//! like). Names of people are compared by [`person_key`], so `张三` and `张三\u{200b}` are
//! one person.

use unicode_normalization::UnicodeNormalization;

use crate::{RefusalCode, RuleError};

/// How a field's text is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Longest, in characters.
    pub max: usize,
    /// Whether line breaks and tabs are allowed.
    pub multiline: bool,
}

impl Rule {
    const fn line(max: usize) -> Rule {
        Rule {
            max,
            multiline: false,
        }
    }

    const fn text(max: usize) -> Rule {
        Rule {
            max,
            multiline: true,
        }
    }
}

/// A street, community, department or token name.
pub const NAME: Rule = Rule::line(100);
/// A person: staff reporting for duty, a wish's claimer, a reporter.
pub const PERSON: Rule = Rule::line(50);
/// A whistle's or wish's title.
pub const TITLE: Rule = Rule::line(100);
/// An address in words.
pub const ADDRESS: Rule = Rule::line(200);
/// A reporter's email address.
pub const EMAIL: Rule = Rule::line(100);
/// A reporter's phone number.
pub const PHONE: Rule = Rule::line(40);
/// A link (a photo of the problem).
pub const URL: Rule = Rule::line(1000);
/// What the problem is.
pub const DESCRIPTION: Rule = Rule::text(2000);
/// A department's reply to the community.
pub const REPLY: Rule = Rule::text(2000);
/// A reason, an instruction, a comment or a note on a step or an activity.
pub const NOTE: Rule = Rule::text(1000);

/// Most staff reporting for duty on one whistle.
pub const MAX_STAFF: usize = 50;

/// Trims `value` and checks it by `rule`; blank is refused.
pub fn required(field: &'static str, value: &str, rule: Rule) -> Result<String, RuleError> {
    let v = normalise_breaks(value.trim(), rule);
    if v.is_empty() {
        return Err(RuleError::coded(
            field,
            RefusalCode::Empty,
            "must not be empty",
        ));
    }
    checked(field, v, rule)
}

/// Like [`required`] but `None` or blank text is simply absent.
pub fn optional(
    field: &'static str,
    value: Option<&str>,
    rule: Rule,
) -> Result<Option<String>, RuleError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => checked(field, normalise_breaks(v, rule), rule).map(Some),
    }
}

/// Windows clients send `\r\n`; multi-line text keeps `\n` alone, and Unicode's line and
/// paragraph separators (U+2028, U+2029) become `\n` too, since consumers split on them.
fn normalise_breaks(v: &str, rule: Rule) -> String {
    if rule.multiline && v.contains(['\r', '\u{2028}', '\u{2029}']) {
        v.replace("\r\n", "\n")
            .replace(['\u{2028}', '\u{2029}'], "\n")
    } else {
        v.to_string()
    }
}

fn checked(field: &'static str, v: String, rule: Rule) -> Result<String, RuleError> {
    let n = v.chars().count();
    if n > rule.max {
        return Err(RuleError::coded(
            field,
            RefusalCode::TooLong,
            format!("is {n} characters long; at most {} are allowed", rule.max),
        ));
    }
    if let Some(c) = v.chars().find(|c| is_bidi_control(*c)) {
        return Err(RuleError::coded(
            field,
            RefusalCode::DirectionControl,
            format!(
                "contains the direction control U+{:04X}, which makes text display other than it reads",
                u32::from(c)
            ),
        ));
    }
    // One-line text has no line of any kind: U+2028 and U+2029 break it as `\n` does.
    let bad_control = |c: char| {
        (c.is_control() && !(rule.multiline && (c == '\n' || c == '\t')))
            || (!rule.multiline && matches!(c, '\u{2028}' | '\u{2029}'))
    };
    if v.chars().any(bad_control) {
        return Err(RuleError::coded(
            field,
            RefusalCode::ControlCharacters,
            if rule.multiline {
                "contains control characters"
            } else {
                "must be one line, without line breaks, tabs or other control characters"
            },
        ));
    }
    if !v.chars().any(|c| !c.is_whitespace() && !is_invisible(c)) {
        return Err(RuleError::coded(
            field,
            RefusalCode::NoVisibleText,
            "has no visible characters (only zero-width or blank ones)",
        ));
    }
    Ok(v)
}

/// Bidirectional embeddings, overrides and isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing, by Unicode's own properties: Default_Ignorable_Code_Point
/// (zero-width spaces and joiners, direction marks, variation selectors, fillers, tags …) and
/// the format controls (General_Category Cf: interlinear annotation marks U+FFF9–FFFB,
/// Egyptian hieroglyph format controls U+13430…), however many a new Unicode version adds.
pub fn is_invisible(c: char) -> bool {
    use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
    use icu_properties::{CodePointMapData, CodePointSetData};
    // Plain ASCII, the most of what is typed, never is (and costs no look-up).
    if c.is_ascii() {
        return false;
    }
    CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
        || CodePointMapData::<GeneralCategory>::new().get(c) == GeneralCategory::Format
}

/// What two names of people are compared by: NFKC (so full-width `Ｌｉ` is `Li`), invisible
/// characters removed, case folded, then the confusable skeleton of Unicode TS #39 (so `Lі Lei`
/// with a Cyrillic `і` is `Li Lei`), whitespace collapsed.
pub fn person_key(name: &str) -> String {
    let visible: String = name
        .nfkc()
        .filter(|c| !is_invisible(*c))
        .collect::<String>()
        .to_lowercase();
    let skeleton: String = unicode_security::skeleton(&visible).collect();
    skeleton.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: Rule = Rule::line(10);
    const LONG: Rule = Rule::text(10);

    #[test]
    fn length_and_blanks() {
        assert_eq!(required("title", "  路灯不亮 ", SHORT).unwrap(), "路灯不亮");
        assert!(required("title", "   ", SHORT).is_err());
        assert!(required("title", "一二三四五六七八九十一", SHORT).is_err());
        assert!(required("title", "一二三四五六七八九十", SHORT).is_ok());
        assert_eq!(optional("note", Some("  "), SHORT).unwrap(), None);
        assert_eq!(optional("note", None, SHORT).unwrap(), None);
    }

    #[test]
    fn one_line_means_one_line() {
        for bad in ["a\nb", "a\tb", "a\rb", "a\u{0}b", "a\u{85}b"] {
            let e = required("title", bad, SHORT).unwrap_err().to_string();
            assert!(e.starts_with("title: must be one line"), "{bad:?}: {e}");
        }
        assert_eq!(
            required("reply", "一\r\n二\t三", LONG).unwrap(),
            "一\n二\t三"
        );
        assert!(required("reply", "a\u{0}b", LONG).is_err());
    }

    #[test]
    fn text_that_lies_is_refused() {
        for bad in ["abc\u{202E}fed", "\u{2066}x\u{2069}", "a\u{202A}b"] {
            for rule in [SHORT, LONG] {
                let e = required("title", bad, rule).unwrap_err().to_string();
                assert!(e.contains("direction control"), "{bad:?}: {e}");
            }
        }
        for bad in [
            "\u{200B}",
            "\u{200B}\u{200C}\u{FEFF}",
            " \u{2060} ",
            "\u{3164}",
        ] {
            let e = required("title", bad, SHORT).unwrap_err().to_string();
            assert!(e.contains("no visible characters"), "{bad:?}: {e}");
        }
        assert_eq!(
            required("title", "井盖\u{200B}缺失", SHORT).unwrap(),
            "井盖\u{200B}缺失",
            "an invisible character among visible ones is kept as typed"
        );
    }

    #[test]
    fn what_shows_nothing_is_what_unicode_says() {
        for bad in [
            "\u{FFF9}",
            "\u{FFF9}\u{FFFA}\u{FFFB}",
            "\u{13430}\u{13431}\u{13436}",
            "\u{1D173}",
            "\u{E0041}\u{E0042}",
            "\u{180E}",
        ] {
            let e = required("title", bad, SHORT).unwrap_err().to_string();
            assert!(e.contains("no visible characters"), "{bad:?}: {e}");
        }
        assert!(is_invisible('\u{FFF9}') && is_invisible('\u{13430}') && is_invisible('\u{200D}'));
        assert!(!is_invisible('张') && !is_invisible('a') && !is_invisible('𓀀'));
    }

    #[test]
    fn line_separators_break_no_one_line_field() {
        for bad in ["一\u{2028}二", "一\u{2029}二"] {
            let e = required("title", bad, SHORT).unwrap_err().to_string();
            assert!(e.contains("must be one line"), "{bad:?}: {e}");
        }
        assert_eq!(
            required("reply", "一\u{2028}二\u{2029}三", LONG).unwrap(),
            "一\n二\n三"
        );
    }

    #[test]
    fn people_compare_by_what_they_show() {
        assert_eq!(
            person_key("L\u{0456} Lei"),
            person_key("Li Lei"),
            "a Cyrillic і"
        );
        assert_eq!(
            person_key("Li N\u{0430}"),
            person_key("Li Na"),
            "a Cyrillic а"
        );
        assert_ne!(person_key("Li Lei"), person_key("Li Mei"));
        assert_eq!(person_key("张三"), person_key("张三\u{200b}"));
        assert_eq!(person_key("Ｌｉ　Ｎａ"), person_key("li na"));
        assert_eq!(person_key("Li  Na"), person_key("LI NA"));
        assert_ne!(person_key("张三"), person_key("张四"));
        assert_eq!(person_key("\u{200b}\u{feff}"), "");
    }
}
