//! The adapters file: which adapter serves which target.
//!
//! ```toml
//! # Targets without an entry go to the default: "record" (send nothing, log it) or the name
//! # of a target below, whose adapter then serves every other target too.
//! default = "record"
//!
//! [targets.partner]
//! kind = "webhook"
//! url = "https://partner.example.com/aijia/hooks"
//! secret_env = "AIJIA_PARTNER_SECRET"   # the secret itself never sits in the file
//! timeout = "5s"                        # optional, 10s when left out
//!
//! [targets.backoffice]
//! kind = "record"
//! reply = { authorized = true }         # optional canned answer, e.g. for a demo
//! ```
//!
//! [`AdaptersConfig::parse`] checks everything that the text alone decides (syntax, kinds,
//! URLs, timeouts, the default); [`AdaptersConfig::build`] then reads the secrets from the
//! environment and builds the [`Adapters`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::adapters::{
    Adapters, DEFAULT_TIMEOUT, RecordAdapter, WebhookAdapter, WebhookSetupError,
};
use crate::delivery::Adapter;
use crate::duration;

/// The name of the record adapter as a default.
pub const RECORD: &str = "record";

/// A checked adapters file.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptersConfig {
    /// [`RECORD`] or the name of one of `targets`.
    pub default: String,
    pub targets: BTreeMap<String, TargetConfig>,
}

/// One target's adapter.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetConfig {
    Record {
        reply: Option<serde_json::Value>,
    },
    Webhook {
        url: String,
        /// The environment variable holding the signing secret.
        secret_env: String,
        timeout: Duration,
    },
}

/// What is wrong with an adapters file, said so that its author can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the adapters file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("adapters config: {0}")]
    Syntax(String),
    #[error(
        "adapters config: default = {name:?} is neither \"record\" nor a target under [targets] (targets: {known})"
    )]
    UnknownDefault { name: String, known: String },
    #[error("adapters config, [targets.{target}]: {source}")]
    Webhook {
        target: String,
        source: WebhookSetupError,
    },
    #[error("adapters config, [targets.{target}]: timeout {reason}")]
    BadTimeout { target: String, reason: String },
    #[error("adapters config, [targets.{target}]: secret_env must name an environment variable")]
    NoSecretEnv { target: String },
    #[error(
        "adapters config, [targets.{target}]: the environment variable {var} (its secret_env) is not set"
    )]
    MissingSecret { target: String, var: String },
    #[error(
        "adapters config, [targets.{target}]: the environment variable {var} (its secret_env) is empty"
    )]
    EmptySecret { target: String, var: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default = "record_name")]
    default: String,
    #[serde(default)]
    targets: BTreeMap<String, RawTarget>,
}

fn record_name() -> String {
    RECORD.to_owned()
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum RawTarget {
    Record {
        #[serde(default)]
        reply: Option<serde_json::Value>,
    },
    Webhook {
        url: String,
        secret_env: String,
        #[serde(default)]
        timeout: Option<String>,
    },
}

impl Default for AdaptersConfig {
    /// Everything to the record adapter: what `aijia dev` uses when no file is given.
    fn default() -> Self {
        AdaptersConfig {
            default: record_name(),
            targets: BTreeMap::new(),
        }
    }
}

impl AdaptersConfig {
    /// Parse and check an adapters file's text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| ConfigError::Syntax(e.to_string().trim().into()))?;
        let mut targets = BTreeMap::new();
        for (name, target) in raw.targets {
            let checked = match target {
                RawTarget::Record { reply } => TargetConfig::Record { reply },
                RawTarget::Webhook {
                    url,
                    secret_env,
                    timeout,
                } => {
                    crate::adapters::webhook_url(&url).map_err(|source| ConfigError::Webhook {
                        target: name.clone(),
                        source,
                    })?;
                    if secret_env.trim().is_empty() {
                        return Err(ConfigError::NoSecretEnv { target: name });
                    }
                    let timeout = match timeout {
                        None => DEFAULT_TIMEOUT,
                        Some(text) => duration::parse(&text)
                            .and_then(|d| {
                                if d.is_zero() {
                                    Err(format!("{text:?} must be more than 0"))
                                } else {
                                    Ok(d)
                                }
                            })
                            .map_err(|reason| ConfigError::BadTimeout {
                                target: name.clone(),
                                reason,
                            })?,
                    };
                    TargetConfig::Webhook {
                        url,
                        secret_env: secret_env.trim().to_owned(),
                        timeout,
                    }
                }
            };
            targets.insert(name, checked);
        }
        if raw.default != RECORD && !targets.contains_key(&raw.default) {
            let known: Vec<&str> = targets.keys().map(String::as_str).collect();
            return Err(ConfigError::UnknownDefault {
                name: raw.default,
                known: if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                },
            });
        }
        Ok(AdaptersConfig {
            default: raw.default,
            targets,
        })
    }

    /// Read and parse an adapters file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text)
    }

    /// Build the adapters, reading secrets from the process environment.
    pub fn build(&self) -> Result<Adapters, ConfigError> {
        self.build_with_env(|var| std::env::var(var).ok())
    }

    /// Build the adapters, reading secrets through `env` (tests pass a map).
    pub fn build_with_env(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Adapters, ConfigError> {
        let record = RecordAdapter::new();
        let mut built: BTreeMap<&str, Arc<dyn Adapter>> = BTreeMap::new();
        for (name, target) in &self.targets {
            let adapter: Arc<dyn Adapter> = match target {
                TargetConfig::Record { reply: None } => Arc::new(record.clone()),
                TargetConfig::Record { reply: Some(reply) } => {
                    Arc::new(record.clone().with_reply(reply.clone()))
                }
                TargetConfig::Webhook {
                    url,
                    secret_env,
                    timeout,
                } => {
                    let secret = env(secret_env).ok_or_else(|| ConfigError::MissingSecret {
                        target: name.clone(),
                        var: secret_env.clone(),
                    })?;
                    if secret.is_empty() {
                        return Err(ConfigError::EmptySecret {
                            target: name.clone(),
                            var: secret_env.clone(),
                        });
                    }
                    let webhook = WebhookAdapter::new(url, secret.as_bytes(), *timeout).map_err(
                        |source| ConfigError::Webhook {
                            target: name.clone(),
                            source,
                        },
                    )?;
                    Arc::new(webhook)
                }
            };
            built.insert(name, adapter);
        }
        let default: Arc<dyn Adapter> = match built.get(self.default.as_str()) {
            Some(adapter) => adapter.clone(),
            None => Arc::new(record.clone()),
        };
        let mut adapters = Adapters::new(default).with_record_log(record);
        for (name, adapter) in built {
            adapters = adapters.with_target(name, adapter);
        }
        Ok(adapters)
    }
}
