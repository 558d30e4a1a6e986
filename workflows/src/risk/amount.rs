//! Reads the number in a money mention: "1,299.50", "1.5万", "3k", "两万三千", "一百五".

/// The value of an amount as written, or `None` when it cannot be read (the gate then treats
/// the amount as high-value: when in doubt, review).
pub(crate) fn parse_amount(written: &str) -> Option<f64> {
    let compact: String = written
        .chars()
        .filter(|c| !matches!(c, ',' | '_' | ' ' | '\u{3000}'))
        .collect();
    if compact.is_empty() {
        return None;
    }
    let (number, multiplier) = split_multiplier(&compact);
    if !number.is_empty() && number.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return number.parse::<f64>().ok().map(|n| n * multiplier);
    }
    parse_chinese(&compact)
}

fn split_multiplier(s: &str) -> (&str, f64) {
    let Some(last) = s.chars().last() else {
        return (s, 1.0);
    };
    let multiplier = match last {
        '万' | 'w' | 'W' => 1e4,
        '千' | 'k' | 'K' => 1e3,
        '亿' => 1e8,
        _ => return (s, 1.0),
    };
    (&s[..s.len() - last.len_utf8()], multiplier)
}

/// Chinese numerals, optionally mixed with ASCII digits ("3千5百"). A trailing lone digit
/// after 百/千/万 means the next lower unit, as people say it: 两千五 = 2500.
fn parse_chinese(s: &str) -> Option<f64> {
    let (mut total, mut section, mut number) = (0f64, 0f64, 0f64);
    let mut last_unit = 1f64;
    let mut trailing_digit = false;
    let mut seen = false;
    for c in s.chars() {
        let digit = match c {
            '零' | '〇' => Some(0.0),
            '一' => Some(1.0),
            '二' | '两' => Some(2.0),
            '三' => Some(3.0),
            '四' => Some(4.0),
            '五' => Some(5.0),
            '六' => Some(6.0),
            '七' => Some(7.0),
            '八' => Some(8.0),
            '九' => Some(9.0),
            c if c.is_ascii_digit() => Some(f64::from(c as u8 - b'0')),
            _ => None,
        };
        if let Some(d) = digit {
            number = if trailing_digit && c.is_ascii_digit() {
                number * 10.0 + d
            } else {
                d
            };
            trailing_digit = true;
            seen = true;
            continue;
        }
        let unit = match c {
            '十' => 10.0,
            '百' => 100.0,
            '千' => 1e3,
            '万' => 1e4,
            '亿' => 1e8,
            _ => return None,
        };
        seen = true;
        if unit >= 1e4 {
            section += number;
            total += section.max(1.0) * unit;
            section = 0.0;
        } else {
            let n = if number == 0.0 && unit == 10.0 {
                1.0
            } else {
                number
            };
            section += n * unit;
        }
        number = 0.0;
        last_unit = unit;
        trailing_digit = false;
    }
    if !seen {
        return None;
    }
    if trailing_digit && last_unit >= 100.0 {
        number *= last_unit / 10.0;
    }
    Some(total + section + number)
}

#[cfg(test)]
mod tests {
    use super::parse_amount;

    #[test]
    fn arabic_amounts_with_separators_and_multipliers() {
        assert_eq!(parse_amount("1,299.50"), Some(1299.5));
        assert_eq!(parse_amount("1.5万"), Some(15000.0));
        assert_eq!(parse_amount("3k"), Some(3000.0));
        assert_eq!(parse_amount("20,000"), Some(20000.0));
    }

    #[test]
    fn chinese_numerals_as_people_say_them() {
        assert_eq!(parse_amount("两万三千"), Some(23000.0));
        assert_eq!(parse_amount("两千五"), Some(2500.0));
        assert_eq!(parse_amount("一百五"), Some(150.0));
        assert_eq!(parse_amount("十五"), Some(15.0));
        assert_eq!(parse_amount("三十五"), Some(35.0));
        assert_eq!(parse_amount("五百"), Some(500.0));
        assert_eq!(parse_amount("两万三"), Some(23000.0));
        assert_eq!(parse_amount("3千5百"), Some(3500.0));
    }

    #[test]
    fn unreadable_amounts_are_none() {
        assert_eq!(parse_amount(""), None);
        assert_eq!(parse_amount("abc"), None);
    }
}
