//! The one written form of a duration, used by the adapters file and by serialized retry
//! policies: a whole number and a unit, `250ms`, `5s`, `10m`, `2h`.

use std::time::Duration;

/// Parse `250ms`, `5s`, `10m` or `2h`. The error says what is expected.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let expected = "expected a whole number and a unit: ms, s, m or h (e.g. \"5s\")";
    if number.is_empty() {
        return Err(format!("{text:?}: {expected}"));
    }
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: the number is too large"))?;
    let per_unit_ms: u64 = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(format!("{text:?}: {expected}")),
    };
    n.checked_mul(per_unit_ms)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("{text:?}: the duration is too large"))
}

/// The shortest exact form: `1500ms`, `90s`, `5m`, `2h`.
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1_000) || ms == 0 {
        return format!("{ms}ms");
    }
    let s = ms / 1_000;
    if s.is_multiple_of(3_600) {
        format!("{}h", s / 3_600)
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// `#[serde(with = "crate::duration::serde_text")]` for a `Duration` field written as text.
pub mod serde_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        super::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_each_unit() {
        for (text, d) in [
            ("250ms", Duration::from_millis(250)),
            ("5s", Duration::from_secs(5)),
            ("10m", Duration::from_secs(600)),
            ("2h", Duration::from_secs(7200)),
        ] {
            assert_eq!(parse(text), Ok(d));
            assert_eq!(format(d), text);
        }
        assert_eq!(format(Duration::from_secs(90)), "90s");
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for text in ["", "5", "s", "5 sec", "-1s", "1.5s"] {
            let err = parse(text).expect_err(text);
            assert!(err.contains("expected"), "{err}");
        }
    }
}
