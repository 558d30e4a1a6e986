//! Durations in the activities' files and serialized retry policies, as `std` durations:
//! read and written by the workspace's one duration syntax
//! ([`aijia_workflows::policy::parse_duration`]: `250ms`, `5s`, `10m`, `1h30m`, `2d`).

use std::time::Duration;

use aijia_workflows::policy::{format_duration, parse_duration};

/// Parse `250ms`, `5s`, `1m30s`, `2h`… The error says what to write instead.
pub fn parse(text: &str) -> Result<Duration, String> {
    parse_duration(text)?
        .to_std()
        .map_err(|_| format!("{text:?}: a duration cannot be negative"))
}

/// The shortest exact form, to the millisecond: `1s500ms`, `1m30s`, `5m`, `2h`.
pub fn format(d: Duration) -> String {
    chrono::Duration::from_std(d).map_or_else(|_| format!("{}ms", d.as_millis()), format_duration)
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
            ("1m30s", Duration::from_secs(90)),
            ("1s500ms", Duration::from_millis(1500)),
        ] {
            assert_eq!(parse(text), Ok(d));
            assert_eq!(format(d), text);
        }
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for text in ["", "5", "s", "5 sec", "-1s", "1.5s"] {
            let err = parse(text).expect_err(text);
            assert!(err.contains("duration"), "{err}");
        }
    }
}
