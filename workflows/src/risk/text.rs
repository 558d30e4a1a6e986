//! The text the matchers read: full-width ASCII folded to ASCII, typographic apostrophes to
//! `'`, invisible characters dropped, with a map back to byte offsets in the original text so
//! that every finding points at what the author wrote. Also sentence boundaries (for
//! "addressed to the reader") and the share of letters in scripts the lexicons do not cover.

use super::draft::is_invisible;

/// A draft's text prepared for matching.
#[derive(Debug)]
pub(crate) struct Normalized<'a> {
    original: &'a str,
    pub(crate) text: String,
    /// For every byte of `text`, the byte offset in `original` of the character it came from.
    origin: Vec<usize>,
}

/// The character matchers see in place of `c` (`None`: dropped).
pub(crate) fn fold(c: char) -> Option<char> {
    match c {
        // Full-width forms of ASCII ("ｒｅｆｕｎｄ", "１２３１５", "，").
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
        '\u{3000}' | '\u{00A0}' => Some(' '),
        '\u{2018}' | '\u{2019}' | '\u{2032}' => Some('\''),
        c if is_invisible(c) => None,
        c => Some(c),
    }
}

/// Folds a whole string the way [`Normalized`] folds a draft (used on lexicon terms).
pub(crate) fn fold_str(s: &str) -> String {
    s.chars().filter_map(fold).collect()
}

impl<'a> Normalized<'a> {
    pub(crate) fn new(original: &'a str) -> Self {
        let mut text = String::with_capacity(original.len());
        let mut origin = Vec::with_capacity(original.len());
        for (at, c) in original.char_indices() {
            if let Some(folded) = fold(c) {
                text.push(folded);
                origin.resize(text.len(), at);
            }
        }
        Normalized {
            original,
            text,
            origin,
        }
    }

    /// The byte range in the original text of the normalized range `start..end`
    /// (`start < end`, both on character boundaries of the normalized text).
    pub(crate) fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        let from = self.origin[start];
        let last = self.origin[end - 1];
        let last_len = self.original[last..]
            .chars()
            .next()
            .map_or(0, char::len_utf8);
        (from, last + last_len)
    }
}

/// Sentence ranges of `text` (byte offsets), split after 。！？；!?; and newlines, and after a
/// full stop that ends the text or is followed by a space.
pub(crate) fn sentences(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let end = at + c.len_utf8();
        let ends = match c {
            '。' | '!' | '?' | ';' | '\n' | '…' => true,
            '.' => chars.peek().is_none_or(|&(_, next)| next.is_whitespace()),
            _ => false,
        };
        if ends {
            out.push((start, end));
            start = end;
        }
    }
    if start < text.len() {
        out.push((start, text.len()));
    }
    out
}

/// Of the letters in `text`, the share that are neither ASCII letters nor Han characters.
/// `None` when the text has no letters at all.
pub(crate) fn unsupported_letter_share(text: &str) -> Option<f64> {
    let (mut letters, mut unsupported) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        if !(c.is_ascii_alphabetic() || is_han(c)) {
            unsupported += 1;
        }
    }
    (letters > 0).then(|| unsupported as f64 / letters as f64)
}

fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3007 | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_is_folded_and_spans_map_back() {
        let original = "退款￥１，２００元";
        let n = Normalized::new(original);
        assert_eq!(n.text, "退款￥1,200元");
        let start = n.text.find('1').expect("digit");
        let end = n.text.find('元').expect("unit") + '元'.len_utf8();
        let (from, to) = n.original_span(start, end);
        assert_eq!(&original[from..to], "１，２００元");
    }

    #[test]
    fn invisible_characters_are_dropped() {
        let n = Normalized::new("退\u{200B}款");
        assert_eq!(n.text, "退款");
        assert_eq!(n.original_span(0, n.text.len()), (0, "退\u{200B}款".len()));
    }

    #[test]
    fn sentences_split_on_chinese_and_english_stops() {
        let text = "满199元包邮。您需要补10元! Costs $6.95 each. Your total is $7.";
        let parts: Vec<&str> = sentences(text).iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(
            parts,
            vec![
                "满199元包邮。",
                "您需要补10元!",
                " Costs $6.95 each.",
                " Your total is $7."
            ]
        );
    }

    #[test]
    fn unsupported_share_counts_letters_outside_latin_and_han() {
        assert_eq!(unsupported_letter_share("您好 hello"), Some(0.0));
        assert_eq!(unsupported_letter_share("12345 !!"), None);
        // Two kana among four Han characters.
        let share = unsupported_letter_share("ご注文の商品").expect("letters");
        assert!((share - 2.0 / 6.0).abs() < 1e-9, "{share}");
    }
}
