//! Display-width text: Chinese characters take two columns, so every cut is by columns.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Columns `s` takes on a terminal.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` cut to at most `max` columns, ending in `…` when cut; control characters dropped.
pub fn fit(s: &str, max: usize) -> String {
    if max == 0 {
        return String::new();
    }
    let clean = || s.chars().filter(|c| !c.is_control());
    if clean().map(|c| c.width().unwrap_or(0)).sum::<usize>() <= max {
        return clean().collect();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in clean() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    // "Water …" reads as a word cut and a stray space: the ellipsis follows the last letter.
    let kept = out.trim_end().len();
    out.truncate(kept);
    out.push('…');
    out
}

/// `s` padded with spaces on the right to exactly `cols` columns (cut first if wider).
pub fn pad(s: &str, cols: usize) -> String {
    let mut f = fit(s, cols);
    let w = width(&f);
    f.extend(std::iter::repeat_n(' ', cols.saturating_sub(w)));
    f
}

/// How well `name` matches what was typed: 0 contains it, 1 has its characters in order
/// (so 住建 finds 市住房和城乡建设局), None not at all. Case-insensitive.
pub fn match_rank(name: &str, typed: &str) -> Option<u8> {
    let (name, typed) = (name.to_lowercase(), typed.trim().to_lowercase());
    if typed.is_empty() || name.contains(&typed) {
        return Some(0);
    }
    let mut rest = name.chars();
    typed.chars().all(|c| rest.any(|n| n == c)).then_some(1)
}

/// A sum of fen as whole yuan with thousands separated: `¥12,300`.
pub fn yuan(fen: i64) -> String {
    let y = fen / 100;
    let s = y.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("¥{out}")
}

/// One wish's value: whole yuan, with the fen when there are any (`¥35`, `¥35.50`).
pub fn yuan_exact(fen: i64) -> String {
    if fen % 100 == 0 {
        yuan(fen)
    } else {
        format!("{}.{:02}", yuan(fen), fen.rem_euclid(100))
    }
}

/// A key to sort names by as people read them: Chinese characters by their pinyin (会龙山
/// huilongshan before 朝阳 zhaoyang), other characters as they are, lower case.
pub fn reading_key(s: &str) -> String {
    use pinyin::ToPinyin;
    let mut key = String::new();
    for (c, p) in s.chars().zip(s.to_pinyin()) {
        match p {
            Some(p) => key.push_str(p.plain()),
            None => key.extend(c.to_lowercase()),
        }
        // Between characters, below every letter: 张 (zhang) before 张家 (zhangjia) before 章.
        key.push('\u{1}');
    }
    key
}

#[cfg(test)]
mod tests {

    #[test]
    fn names_sort_by_their_reading() {
        let mut names = vec!["会龙山社区", "大码头社区", "朝阳社区", "Zone 2", "大码头"];
        names.sort_by_cached_key(|n| super::reading_key(n));
        assert_eq!(
            names,
            ["朝阳社区", "大码头", "大码头社区", "会龙山社区", "Zone 2"]
        );
    }

    use super::*;

    #[test]
    fn abbreviations_match_in_order() {
        assert_eq!(match_rank("市住房和城乡建设局", "住建"), Some(1));
        assert_eq!(match_rank("市住房和城乡建设局", "住房"), Some(0));
        assert_eq!(match_rank("市住房和城乡建设局", "建住"), None);
        assert_eq!(match_rank("Roads", "RD"), Some(1));
        assert_eq!(match_rank("x", ""), Some(0));
    }

    #[test]
    fn cuts_by_columns_not_chars() {
        assert_eq!(width("朝阳路社区"), 10);
        assert_eq!(fit("朝阳路社区", 10), "朝阳路社区");
        assert_eq!(fit("朝阳路社区", 9), "朝阳路社…");
        assert_eq!(width(&fit("朝阳路社区", 9)), 9);
        // A wide char never straddles the edge: 6 columns hold 2 wide chars and the ellipsis.
        assert_eq!(fit("朝阳路社区", 6), "朝阳…");
        assert_eq!(width(&fit("朝阳路社区", 6)), 5);
        assert_eq!(fit("abc", 0), "");
        assert_eq!(fit("a\nb", 5), "ab");
        assert_eq!(pad("路灯", 6), "路灯  ");
        assert_eq!(width(&pad("朝阳路社区", 7)), 7);
    }
}
