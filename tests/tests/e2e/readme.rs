//! The README, followed in order, works. Every ```sh block in README.md carries a marker in
//! an HTML comment on the line above it: `<!-- walkthrough -->` (run it) or
//! `<!-- walkthrough: skip, <why> -->`; a block without one fails the test, so nothing is left
//! out silently. The marked blocks' commands (a `\` at the end of a line continues it) run one
//! by one through `sh`, from the repository's root, against a fresh `aijia dev` (the real
//! binary, a temporary data directory, a free port), with `aijia` on the PATH and
//! `AIJIA_SERVER` pointing at it. `<noun-id>` stands for the `id` line the last
//! `aijia <noun> …` command printed (`<case-id>` after `aijia case start`). Each command must
//! succeed.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use aijia_proto::v1 as pb;
use aijia_proto::v1::automation_service_client::AutomationServiceClient;
use aijia_tests::process::ServerProcess;

const README: &str = include_str!("../../../README.md");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const BINARY: &str = env!("CARGO_BIN_EXE_aijia-under-test");
const RUN: &str = "<!-- walkthrough -->";
const SKIP: &str = "<!-- walkthrough: skip, ";

/// The walkthrough's commands in order, and the line of every ```sh block without a marker.
fn walkthrough(readme: &str) -> (Vec<String>, Vec<usize>) {
    let mut commands = Vec::new();
    let mut unmarked = Vec::new();
    let mut marker = "";
    let mut lines = readme.lines().enumerate();
    while let Some((at, line)) = lines.next() {
        if line.trim() != "```sh" {
            if !line.trim().is_empty() {
                marker = line.trim();
            }
            continue;
        }
        let run = marker == RUN;
        let skipped = marker.starts_with(SKIP) && marker.ends_with("-->");
        if !(run || skipped) {
            unmarked.push(at + 1);
        }
        let mut command = String::new();
        for (_, line) in lines.by_ref().take_while(|(_, l)| l.trim() != "```") {
            command.push_str(line);
            if line.ends_with('\\') {
                // `sh` reads the backslash-newline as a continuation too.
                command.push('\n');
                continue;
            }
            let whole = std::mem::take(&mut command);
            if run && !whole.trim().is_empty() && !whole.trim_start().starts_with('#') {
                commands.push(whole);
            }
        }
    }
    (commands, unmarked)
}

/// `command` with every `<noun-id>` it names replaced by the id last printed for that noun.
fn substitute(command: &str, ids: &HashMap<String, String>) -> String {
    let mut command = command.to_owned();
    for (placeholder, id) in ids {
        command = command.replace(placeholder, id);
    }
    if let Some(start) = command.find('<')
        && let Some(len) = command[start..].find("-id>")
    {
        panic!(
            "`{}` is not known yet when the README runs:\n{command}",
            &command[start..start + len + 4]
        );
    }
    command
}

#[test]
fn the_readme_marks_every_shell_block_run_or_skipped_with_a_reason() {
    let (commands, unmarked) = walkthrough(README);
    assert!(
        unmarked.is_empty(),
        "README.md lines {unmarked:?}: put `{RUN}` or `{SKIP}<why> -->` above each ```sh block"
    );
    assert!(commands.len() >= 40, "{} commands", commands.len());
    assert!(
        commands
            .iter()
            .all(|c| c.trim_start().starts_with("aijia ")),
        "the walkthrough runs `aijia` commands only: {commands:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_walkthrough_runs_in_order_on_a_fresh_dev_server() {
    let (commands, _) = walkthrough(README);
    let data = tempfile::tempdir().expect("a temporary data directory");
    let bin = tempfile::tempdir().expect("a temporary PATH directory");
    std::os::unix::fs::symlink(BINARY, bin.path().join("aijia")).expect("linking `aijia`");
    let server = ServerProcess::spawn_dev(BINARY, data.path()).await;
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ids: HashMap<String, String> = HashMap::new();
    for written in &commands {
        let command = substitute(written, &ids);
        let output = Command::new("sh")
            .args(["-c", &command])
            .current_dir(Path::new(ROOT))
            .env("PATH", &path)
            .env("AIJIA_SERVER", format!("http://{}", server.addr))
            .env("USER", "readme")
            .output()
            .expect("running sh");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "README command failed ({}):\n{command}\nstdout:\n{stdout}\nstderr:\n{}\nserver log:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr),
            server.log()
        );
        let noun = written.split_whitespace().nth(1).unwrap_or_default();
        if let Some(id) = stdout.lines().find_map(|l| l.strip_prefix("id ")) {
            ids.insert(format!("<{noun}-id>"), id.trim().to_owned());
        }
    }
    // It did what it says: the rollback to v2 is in force (standard_faq back in review,
    // material_received_confirmation still auto).
    let policy = AutomationServiceClient::new(server.channel().await)
        .get_automation_policy(pb::GetAutomationPolicyRequest {})
        .await
        .expect("GetAutomationPolicy")
        .into_inner()
        .policy
        .expect("a policy in force");
    let mode = |action: &str| {
        policy
            .modes
            .iter()
            .find(|m| m.action_type == action)
            .map(|m| m.mode.clone())
    };
    assert_eq!(policy.version, 6, "{policy:?}");
    assert!(!policy.paused);
    assert_eq!(mode("standard_faq").as_deref(), Some("review"));
    assert_eq!(
        mode("material_received_confirmation").as_deref(),
        Some("auto")
    );
    server.kill().await;
}
