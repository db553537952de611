//! How text becomes search terms. Chinese needs no word splitting to be found well: each run
//! of Han (or other non-Latin) characters is cut into overlapping pairs, so 漏水 finds
//! 屋顶漏水了; Latin words and numbers stay whole, lowercased. A phone number is its digits,
//! however it was written.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The terms of `text`, in order: character pairs of each non-Latin run (a run of one
/// character is itself), and each Latin word or number whole, lowercased.
pub fn grams(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run: Vec<char> = Vec::new();
    let mut word = String::new();
    let flush_run = |run: &mut Vec<char>, out: &mut Vec<String>| {
        match run.len() {
            0 => {}
            1 => out.push(run[0].to_string()),
            _ => out.extend(run.windows(2).map(|p| p.iter().collect::<String>())),
        }
        run.clear();
    };
    let flush_word = |word: &mut String, out: &mut Vec<String>| {
        if !word.is_empty() {
            out.push(std::mem::take(word));
        }
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            flush_run(&mut run, &mut out);
            word.push(c.to_ascii_lowercase());
        } else if c.is_alphanumeric() {
            // Han, kana, full-width letters and digits: pairs. (Full-width digits are read
            // as they are; a phone number is matched by its own field.)
            flush_word(&mut word, &mut out);
            run.push(c);
        } else {
            flush_word(&mut word, &mut out);
            flush_run(&mut run, &mut out);
        }
    }
    flush_word(&mut word, &mut out);
    flush_run(&mut run, &mut out);
    out
}

/// 64-bit words in a case's [`signature`].
pub const SIGNATURE_WORDS: usize = 2;

/// The index's columns of a signature.
pub const SIGNATURE_COLUMNS: [&str; SIGNATURE_WORDS] = ["sig0", "sig1"];

/// A case's terms as a 128-bit signature (one bit per term, by its hash): two cases that
/// share terms share bits, so how alike they are can be estimated from the index's columns
/// without loading either record.
pub fn signature<S: AsRef<str>>(terms: &[S]) -> [u64; SIGNATURE_WORDS] {
    let mut sig = [0u64; SIGNATURE_WORDS];
    for t in terms {
        // FNV-1a: stable across builds and machines (the index keeps it).
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in t.as_ref().bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        let bit = (h % (64 * SIGNATURE_WORDS as u64)) as usize;
        sig[bit / 64] |= 1 << (bit % 64);
    }
    sig
}

/// The share of `mine`'s bits that `other` has too: an estimate of the share of terms they
/// share (off by a little where two terms fall on one bit), to choose which records to load
/// and score exactly.
pub fn overlap(mine: &[u64; SIGNATURE_WORDS], other: &[u64; SIGNATURE_WORDS]) -> f64 {
    let ones: u32 = mine.iter().map(|w| w.count_ones()).sum();
    if ones == 0 {
        return 0.0;
    }
    let shared: u32 = mine
        .iter()
        .zip(other)
        .map(|(a, b)| (a & b).count_ones())
        .sum();
    f64::from(shared) / f64::from(ones)
}

/// A phone number as its last eleven digits (China's mobile numbers; a +86 or 0086 prefix
/// and every separator dropped), or all its digits when shorter; None without seven digits.
pub fn phone(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 7 {
        return None;
    }
    Some(if digits.len() > 11 {
        digits[digits.len() - 11..].to_string()
    } else {
        digits
    })
}

/// Whether a query is a phone number: only digits and the marks people write numbers with.
pub fn looks_like_phone(q: &str) -> bool {
    q.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+' | '(' | ')' | '.'))
        && phone(q).is_some()
}

/// The tokenizer registered with the index, giving [`grams`].
#[derive(Clone, Default)]
pub struct Bigrams;

/// The terms of one text, handed out one by one.
pub struct BigramStream {
    tokens: Vec<Token>,
    at: usize,
}

impl Tokenizer for Bigrams {
    type TokenStream<'a> = BigramStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> BigramStream {
        let tokens = grams(text)
            .into_iter()
            .enumerate()
            .map(|(position, text)| Token {
                // Offsets are not used (no snippets); positions keep the order.
                offset_from: 0,
                offset_to: 0,
                position,
                text,
                position_length: 1,
            })
            .collect();
        BigramStream { tokens, at: 0 }
    }
}

impl TokenStream for BigramStream {
    fn advance(&mut self) -> bool {
        if self.at < self.tokens.len() {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self
            .at
            .saturating_sub(1)
            .min(self.tokens.len().saturating_sub(1))]
    }

    fn token_mut(&mut self) -> &mut Token {
        let i = self
            .at
            .saturating_sub(1)
            .min(self.tokens.len().saturating_sub(1));
        &mut self.tokens[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_in_pairs_latin_and_numbers_whole() {
        assert_eq!(grams("屋顶漏水了"), ["屋顶", "顶漏", "漏水", "水了"]);
        assert_eq!(grams("漏水"), ["漏水"]);
        assert_eq!(grams("水"), ["水"]);
        assert_eq!(
            grams("朝阳路3号楼LED灯 不亮!"),
            ["朝阳", "阳路", "3", "号楼", "led", "灯", "不亮"]
        );
        assert_eq!(grams("W1042, Room 5b"), ["w1042", "room", "5b"]);
        assert!(grams(" ，。!").is_empty());
    }

    #[test]
    fn a_phone_is_its_digits_however_written() {
        for written in [
            "13800138000",
            "138-0013-8000",
            "+86 138 0013 8000",
            "0086 (138) 0013.8000",
        ] {
            assert_eq!(phone(written).as_deref(), Some("13800138000"), "{written}");
            assert!(looks_like_phone(written), "{written}");
        }
        assert_eq!(phone("0737-4221234").as_deref(), Some("07374221234"));
        assert_eq!(phone("12345"), None);
        assert!(!looks_like_phone("漏水 138"));
        assert!(!looks_like_phone("3号楼"));
    }

    #[test]
    fn a_signature_estimates_the_terms_two_cases_share() {
        let a = grams("朝阳路三盏路灯不亮");
        let b = grams("朝阳路路灯不亮");
        let c = grams("电梯故障困人");
        let (sa, sb, sc) = (signature(&a), signature(&b), signature(&c));
        assert_eq!(overlap(&sa, &sa), 1.0);
        let shared = b.iter().filter(|t| a.contains(t)).count() as f64 / b.len() as f64;
        assert!(
            (overlap(&sb, &sa) - shared).abs() < 0.25,
            "close to the true share {shared}: {}",
            overlap(&sb, &sa)
        );
        assert!(overlap(&sb, &sa) > 0.6);
        assert!(overlap(&sc, &sa) < 0.3, "{}", overlap(&sc, &sa));
        assert_eq!(overlap(&signature::<&str>(&[]), &sa), 0.0);
    }
}
