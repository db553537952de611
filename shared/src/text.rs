//! Checks for free text typed by people: present, not too long, no control characters.

use crate::RuleError;

/// Longest name of a street, community, department or person, in characters.
pub const MAX_NAME: usize = 100;
/// Longest whistle or wish title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest description, reply, reason or note, in characters.
pub const MAX_TEXT: usize = 4000;

/// Trims `value` and checks it is non-empty, at most `max` characters and free of control
/// characters other than newlines and tabs.
pub fn required(field: &'static str, value: &str, max: usize) -> Result<String, RuleError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(RuleError::invalid(field, "must not be empty"));
    }
    checked(field, v, max)
}

/// Like [`required`] but `None` or blank text is simply absent.
pub fn optional(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, RuleError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => checked(field, v, max).map(Some),
    }
}

fn checked(field: &'static str, v: &str, max: usize) -> Result<String, RuleError> {
    let n = v.chars().count();
    if n > max {
        return Err(RuleError::invalid(
            field,
            format!("is {n} characters long; at most {max} are allowed"),
        ));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(RuleError::invalid(field, "contains control characters"));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert_eq!(required("title", "  路灯不亮 ", 10).unwrap(), "路灯不亮");
        assert!(required("title", "   ", 10).is_err());
        assert!(required("title", "一二三四五六七八九十一", 10).is_err());
        assert!(required("title", "一二三四五六七八九十", 10).is_ok());
        assert!(required("title", "a\u{0}b", 10).is_err());
        assert_eq!(optional("note", Some("  "), 10).unwrap(), None);
        assert_eq!(optional("note", None, 10).unwrap(), None);
    }
}
