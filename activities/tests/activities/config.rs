//! The adapters file: a good one builds the adapters it describes, and each mistake is
//! reported so that its author knows what to fix.

use std::collections::HashMap;
use std::time::Duration;

use aijia_activities::{AdaptersConfig, ConfigError, Delivery, TargetConfig};
use serde_json::json;

use super::receiver::{self, Reply, SECRET};

const EXAMPLE: &str = r#"
default = "record"

[targets.partner]
kind = "webhook"
url = "https://partner.example.com/aijia/hooks"
secret_env = "AIJIA_PARTNER_SECRET"
timeout = "5s"

[targets.backoffice]
kind = "record"
reply = { authorized = true }
"#;

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.get(name).cloned()
}

fn error_of(text: &str) -> String {
    AdaptersConfig::parse(text)
        .expect_err("the file is refused")
        .to_string()
}

#[test]
fn no_file_means_everything_is_recorded() {
    let config = AdaptersConfig::parse("").expect("an empty file is fine");
    assert_eq!(config, AdaptersConfig::default());
    let adapters = config.build_with_env(env(&[])).expect("builds");
    assert!(adapters.targets().is_empty());
}

#[test]
fn the_example_file_parses() {
    let config = AdaptersConfig::parse(EXAMPLE).expect("parses");
    assert_eq!(config.default, "record");
    assert_eq!(
        config.targets["partner"],
        TargetConfig::Webhook {
            url: "https://partner.example.com/aijia/hooks".into(),
            secret_env: "AIJIA_PARTNER_SECRET".into(),
            timeout: Duration::from_secs(5),
        }
    );
    assert_eq!(
        config.targets["backoffice"],
        TargetConfig::Record {
            reply: Some(json!({ "authorized": true }))
        }
    );
    let adapters = config
        .build_with_env(env(&[("AIJIA_PARTNER_SECRET", "s3cret")]))
        .expect("builds");
    assert_eq!(adapters.targets(), ["backoffice", "partner"]);
}

#[tokio::test]
async fn a_built_config_routes_each_target_to_its_adapter() {
    let server = receiver::start(Reply::status(200)).await;
    let text = format!(
        "[targets.partner]\nkind = \"webhook\"\nurl = \"{}\"\nsecret_env = \"PARTNER_KEY\"\n",
        server.url
    );
    let adapters = AdaptersConfig::parse(&text)
        .expect("parses")
        .build_with_env(env(&[("PARTNER_KEY", SECRET)]))
        .expect("builds");
    let delivery = |target: &str| Delivery {
        target: target.into(),
        kind: "send_message".into(),
        payload: json!({ "text": "hi" }),
        idempotency_key: format!("k-{target}"),
    };
    let sent = adapters.deliver(&delivery("partner")).await.expect("sent");
    assert_eq!(sent.adapter, "webhook");
    assert_eq!(server.single().verified, Ok(()));
    let recorded = adapters
        .deliver(&delivery("customer"))
        .await
        .expect("recorded");
    assert!(recorded.recorded);
    assert_eq!(
        adapters.record_log().deliveries(),
        vec![delivery("customer")]
    );
}

#[test]
fn the_default_can_be_a_configured_target() {
    let text = "default = \"hooks\"\n[targets.hooks]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/\"\nsecret_env = \"K\"\n";
    let config = AdaptersConfig::parse(text).expect("parses");
    assert_eq!(config.default, "hooks");
    let adapters = config.build_with_env(env(&[("K", "v")])).expect("builds");
    assert!(format!("{:?}", adapters.for_target("anyone")).contains("WebhookAdapter"));
}

#[test]
fn a_missing_secret_names_the_variable_and_the_target() {
    let config = AdaptersConfig::parse(EXAMPLE).expect("parses");
    let err = config.build_with_env(env(&[])).expect_err("no secret");
    assert_eq!(
        err,
        ConfigError::MissingSecret {
            target: "partner".into(),
            var: "AIJIA_PARTNER_SECRET".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "adapters config, [targets.partner]: the environment variable AIJIA_PARTNER_SECRET (its secret_env) is not set"
    );
    let err = config
        .build_with_env(env(&[("AIJIA_PARTNER_SECRET", "")]))
        .expect_err("empty secret");
    assert!(err.to_string().contains("AIJIA_PARTNER_SECRET"), "{err}");
    assert!(err.to_string().contains("empty"), "{err}");
}

#[test]
fn a_bad_url_is_named_with_its_target() {
    for (url, says) in [
        ("partner.example.com", "no scheme"),
        (
            "partner.example.com/hooks",
            "expected e.g. https://host/path",
        ),
        ("ftp://partner.example.com/hooks", "not http or https"),
        ("https://", "not a URL"),
        ("https://exa mple.com/", "not a URL"),
    ] {
        let text =
            format!("[targets.partner]\nkind = \"webhook\"\nurl = \"{url}\"\nsecret_env = \"K\"\n");
        let err = error_of(&text);
        assert!(err.contains("[targets.partner]"), "{err}");
        assert!(err.contains(url), "{err}");
        assert!(err.contains(says), "{url}: {err}");
    }
}

#[test]
fn a_bad_timeout_says_what_is_expected() {
    for timeout in ["5", "five seconds", "0s", "1.5s"] {
        let text = format!(
            "[targets.partner]\nkind = \"webhook\"\nurl = \"https://p.example.com/\"\nsecret_env = \"K\"\ntimeout = \"{timeout}\"\n"
        );
        let err = error_of(&text);
        assert!(err.contains("[targets.partner]: timeout"), "{err}");
        assert!(err.contains(timeout), "{err}");
    }
}

#[test]
fn an_unknown_kind_field_or_default_is_refused() {
    let err = error_of("[targets.partner]\nkind = \"carrier-pigeon\"\n");
    assert!(
        err.contains("carrier-pigeon") && err.contains("webhook"),
        "{err}"
    );

    let err = error_of("[targets.partner]\nurl = \"https://p.example.com/\"\n");
    assert!(err.contains("kind"), "{err}");

    // A secret written into the file instead of named by secret_env is a typo we catch.
    let err = error_of(
        "[targets.partner]\nkind = \"webhook\"\nurl = \"https://p.example.com/\"\nsecret = \"s3cret\"\n",
    );
    assert!(err.contains("secret"), "{err}");

    let err = error_of("defualt = \"record\"\n");
    assert!(err.contains("defualt"), "{err}");

    let err = error_of("default = \"partner\"\n");
    assert!(
        err.contains("\"partner\"") && err.contains("targets: none"),
        "{err}"
    );

    let err = error_of(
        "[targets.partner]\nkind = \"webhook\"\nurl = \"https://p.example.com/\"\nsecret_env = \"  \"\n",
    );
    assert!(err.contains("secret_env"), "{err}");

    let err = error_of("default = record\n");
    assert!(err.starts_with("adapters config:"), "{err}");
}

#[test]
fn a_file_that_cannot_be_read_is_named() {
    let err = AdaptersConfig::load(std::path::Path::new("/nonexistent/aijia-adapters.toml"))
        .expect_err("no such file");
    assert!(
        err.to_string().contains("/nonexistent/aijia-adapters.toml"),
        "{err}"
    );
}
