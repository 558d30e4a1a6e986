//! The task policy file: which queue each activity type's tasks go to and how their failed
//! attempts are retried. The shipped file is `activities/policy/tasks.toml` (its comments say
//! what every setting means); an operator may start the server with another one.
//!
//! [`TaskPolicy::parse`] checks everything before anything runs: the TOML, that every section
//! names a known activity type, that queues are usable names and that each resulting
//! [`RetryPolicy`] can work. An error names the section and the setting.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::retry::RetryPolicy;

/// The shipped task policy.
pub const BUILTIN: &str = include_str!("../policy/tasks.toml");

/// The queue of tasks whose policy names none.
pub const DEFAULT_QUEUE: &str = "default";

/// Where a task goes, how it is retried, and how long it may wait for a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskOptions {
    pub queue: String,
    pub retry: RetryPolicy,
    /// A pending task that no worker starts within this long after it came due fails for
    /// good (its case needs an operator); `None`: it waits for a worker as long as it takes.
    pub schedule_to_start_timeout: Option<Duration>,
}

/// A checked task policy file.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskPolicy {
    default: TaskOptions,
    activities: BTreeMap<String, TaskOptions>,
}

/// What is wrong with a task policy file, said so that its author can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskPolicyError {
    #[error("cannot read the task policy file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("task policy: {0}")]
    Syntax(String),
    #[error("task policy: [activities.{name}] is not an activity type; known types: {known}")]
    UnknownActivity { name: String, known: String },
    #[error("task policy, [{section}]: {reason}")]
    Invalid { section: String, reason: String },
}

/// The longest queue name, as PollActivityTask accepts it.
pub const MAX_QUEUE_LEN: usize = 200;

/// Whether `queue` can name a task queue: 1 to [`MAX_QUEUE_LEN`] characters, no whitespace or
/// control characters.
pub fn check_queue(queue: &str) -> Result<(), String> {
    if queue.is_empty() || queue.len() > MAX_QUEUE_LEN {
        return Err(format!(
            "a queue name has 1 to {MAX_QUEUE_LEN} characters, not {}",
            queue.len()
        ));
    }
    if queue.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "queue {queue:?} has whitespace or control characters"
        ));
    }
    Ok(())
}

impl TaskPolicy {
    /// The shipped policy (checked by this crate's tests, so it always parses).
    pub fn builtin() -> TaskPolicy {
        TaskPolicy::parse(BUILTIN, aijia_workflows::activity::ALL).unwrap_or_else(|e| {
            unreachable!("the shipped activities/policy/tasks.toml is checked by tests: {e}")
        })
    }

    /// Reads and checks a task policy file; `known` are the activity types it may name
    /// (usually [`aijia_workflows::activity::ALL`]).
    pub fn load(path: &Path, known: &[&str]) -> Result<TaskPolicy, TaskPolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| TaskPolicyError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        TaskPolicy::parse(&text, known)
    }

    /// Checks a task policy; `known` are the activity types it may name.
    pub fn parse(text: &str, known: &[&str]) -> Result<TaskPolicy, TaskPolicyError> {
        let mut file: toml::Table = toml::from_str(text)
            .map_err(|e| TaskPolicyError::Syntax(e.to_string().trim().to_owned()))?;
        let default_section = take_table(&mut file, "default", "default")?;
        let activities = take_table(&mut file, "activities", "activities")?;
        if let Some(key) = file.keys().next() {
            return Err(TaskPolicyError::Syntax(format!(
                "unknown top-level key {key:?}; use [default] and [activities.<type>]"
            )));
        }
        let default = options("default", default_section, None)?;
        let mut checked = BTreeMap::new();
        for (name, section) in activities {
            if !known.contains(&name.as_str()) {
                return Err(TaskPolicyError::UnknownActivity {
                    name,
                    known: known.join(", "),
                });
            }
            let section_name = format!("activities.{name}");
            let toml::Value::Table(section) = section else {
                return Err(TaskPolicyError::Invalid {
                    section: section_name,
                    reason: "must be a table".into(),
                });
            };
            let options = options(&section_name, section, Some(&default))?;
            checked.insert(name, options);
        }
        Ok(TaskPolicy {
            default,
            activities: checked,
        })
    }

    /// The types among `known` whose pending tasks may wait for a worker only so long.
    pub fn schedule_to_start_timeouts<'a>(&self, known: &[&'a str]) -> Vec<(&'a str, Duration)> {
        known
            .iter()
            .filter_map(|&a| Some((a, self.for_activity(a).schedule_to_start_timeout?)))
            .collect()
    }

    /// The options of `activity`'s tasks.
    pub fn for_activity(&self, activity: &str) -> &TaskOptions {
        self.activities.get(activity).unwrap_or(&self.default)
    }
}

fn take_table(
    table: &mut toml::Table,
    key: &str,
    section: &str,
) -> Result<toml::Table, TaskPolicyError> {
    match table.remove(key) {
        None => Ok(toml::Table::new()),
        Some(toml::Value::Table(t)) => Ok(t),
        Some(_) => Err(TaskPolicyError::Invalid {
            section: section.to_owned(),
            reason: "must be a table".into(),
        }),
    }
}

/// One section's options: its own settings over `base` (the `[default]` section's), or over
/// the built-in defaults for `[default]` itself.
fn options(
    section: &str,
    mut table: toml::Table,
    base: Option<&TaskOptions>,
) -> Result<TaskOptions, TaskPolicyError> {
    let invalid = |reason: String| TaskPolicyError::Invalid {
        section: section.to_owned(),
        reason,
    };
    let queue = match table.remove("queue") {
        None => base.map_or_else(|| DEFAULT_QUEUE.to_owned(), |b| b.queue.clone()),
        Some(toml::Value::String(queue)) => queue,
        Some(other) => return Err(invalid(format!("queue must be text, not {other}"))),
    };
    check_queue(&queue).map_err(invalid)?;
    let schedule_to_start_timeout = match table.remove("schedule_to_start_timeout") {
        None => base.and_then(|b| b.schedule_to_start_timeout),
        Some(toml::Value::String(text)) => match crate::duration::parse(&text) {
            Ok(d) if d.is_zero() => {
                return Err(invalid(
                    "schedule_to_start_timeout must be longer than 0s; leave it out to wait \
                     without limit"
                        .into(),
                ));
            }
            Ok(d) => Some(d),
            Err(e) => return Err(invalid(format!("schedule_to_start_timeout: {e}"))),
        },
        Some(other) => {
            return Err(invalid(format!(
                "schedule_to_start_timeout must be a duration as text (e.g. \"10m\"), not {other}"
            )));
        }
    };
    let mut retry = match base {
        // The base policy as a table, so this section's keys can replace its keys one by one.
        Some(base) => toml::Table::try_from(&base.retry).map_err(|e| invalid(e.to_string()))?,
        None => toml::Table::new(),
    };
    match table.remove("retry") {
        None => {}
        Some(toml::Value::Table(own)) => retry.extend(own),
        Some(other) => return Err(invalid(format!("retry must be a table, not {other}"))),
    }
    if let Some(key) = table.keys().next() {
        return Err(invalid(format!(
            "unknown setting {key:?}; a section has queue, retry and \
             schedule_to_start_timeout"
        )));
    }
    let retry: RetryPolicy = toml::Value::Table(retry)
        .try_into()
        .map_err(|e: toml::de::Error| invalid(format!("retry: {}", e.message())))?;
    retry
        .validate()
        .map_err(|e| invalid(format!("retry: {e}")))?;
    Ok(TaskOptions {
        queue,
        retry,
        schedule_to_start_timeout,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const KNOWN: &[&str] = &["send_message", "confirm_material_received"];

    #[test]
    fn the_shipped_policy_parses() {
        let policy = TaskPolicy::builtin();
        assert_eq!(
            policy.for_activity("confirm_material_received"),
            &TaskOptions {
                queue: "default".into(),
                retry: RetryPolicy::default(),
                schedule_to_start_timeout: None,
            }
        );
        let send = policy.for_activity("send_message");
        assert_eq!(send.retry.maximum_attempts, 25);
        assert_eq!(send.retry.non_retryable_codes, vec!["http_4xx".to_owned()]);
        assert_eq!(send.retry.initial_interval, Duration::from_secs(1));
    }

    #[test]
    fn a_section_changes_only_what_it_names() {
        let policy = TaskPolicy::parse(
            r#"
            [default]
            queue = "main"
            retry = { initial_interval = "250ms", maximum_attempts = 4 }

            [activities.send_message]
            queue = "channels"
            retry = { maximum_attempts = 7 }
            "#,
            KNOWN,
        )
        .expect("valid");
        let base = policy.for_activity("confirm_material_received");
        assert_eq!(base.queue, "main");
        assert_eq!(base.retry.initial_interval, Duration::from_millis(250));
        assert_eq!(base.retry.maximum_attempts, 4);
        assert_eq!(
            base.retry.maximum_interval,
            RetryPolicy::default().maximum_interval
        );
        let send = policy.for_activity("send_message");
        assert_eq!(send.queue, "channels");
        assert_eq!(send.retry.maximum_attempts, 7);
        assert_eq!(send.retry.initial_interval, Duration::from_millis(250));
        assert_eq!(
            TaskPolicy::parse("", KNOWN)
                .expect("empty")
                .for_activity("x"),
            &TaskOptions {
                queue: "default".into(),
                retry: RetryPolicy::default(),
                schedule_to_start_timeout: None,
            }
        );
    }

    #[test]
    fn a_schedule_to_start_timeout_is_inherited_and_can_be_set_per_type() {
        let policy = TaskPolicy::parse(
            r#"
            [default]
            schedule_to_start_timeout = "1h"

            [activities.send_message]
            schedule_to_start_timeout = "10m"
            "#,
            KNOWN,
        )
        .expect("valid");
        assert_eq!(
            policy
                .for_activity("send_message")
                .schedule_to_start_timeout,
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            policy
                .for_activity("confirm_material_received")
                .schedule_to_start_timeout,
            Some(Duration::from_secs(3600))
        );
    }

    #[test]
    fn mistakes_are_named_with_their_section() {
        for (text, needle) in [
            ("[default", "task policy:"),
            (
                "[activities.send_mesage]\nqueue = \"x\"",
                "send_mesage] is not an activity type; known types: send_message",
            ),
            (
                "[default]\nqueue = \"\"",
                "[default]: a queue name has 1 to",
            ),
            ("[default]\nqueue = \"a b\"", "whitespace"),
            ("[default]\nqueue = 3", "queue must be text"),
            ("[default]\nretries = {}", "unknown setting \"retries\""),
            (
                "[activities.send_message.retry]\nmaximum_interval = \"soon\"",
                "[activities.send_message]: retry: ",
            ),
            (
                "[activities.send_message.retry]\nbackoff_coefficient = 0.5",
                "[activities.send_message]: retry: invalid retry policy",
            ),
            (
                "[activities.send_message.retry]\nmax_attempts = 3",
                "max_attempts",
            ),
            ("[other]\nqueue = \"x\"", "unknown top-level key \"other\""),
            (
                "[default]\nschedule_to_start_timeout = \"0s\"",
                "[default]: schedule_to_start_timeout must be longer than 0s",
            ),
            (
                "[activities.send_message]\nschedule_to_start_timeout = \"soon\"",
                "[activities.send_message]: schedule_to_start_timeout: ",
            ),
            (
                "[default]\nschedule_to_start_timeout = 600",
                "must be a duration as text",
            ),
        ] {
            let err = TaskPolicy::parse(text, KNOWN).expect_err(text).to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }
}
