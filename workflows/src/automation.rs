//! Automation modes, as pure rules: which action types AI agents may carry out on their own,
//! where a draft goes under the mode in force ([`route`]), which templated activities the
//! state machines emit wait for a human ([`activity_route`]), when a type may be opened to `auto`
//! ([`OpeningRule::check`]), and what a past draft would have become under other policy
//! versions ([`replay_draft`]); [`replay`] builds the replay report of a window from them.
//! The engine stores the policy versions and records every routing decision, with the versions
//! it used, in the case's history; nothing here reads a database.
//!
//! Routing of a draft (`route`):
//!
//! | mode | paused | case taken over | gate verdict | route (reason) |
//! | --- | --- | --- | --- | --- |
//! | off | any | any | any | hold (`mode_off`) |
//! | review | any | any | any | review (`mode_review`) |
//! | auto | any | yes | any | review (`taken_over`) |
//! | auto | yes | no | any | review (`paused`) |
//! | auto | no | no | review | review (`high_risk`) |
//! | auto | no | no | send | send (`low_risk`) |
//!
//! So a draft is sent without a human only in `auto`, unpaused, on a case no human has taken
//! over, with no finding of the risk gate.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::effect::activity;
use crate::model::named_enum;
use crate::review::DraftSubmitted;
use crate::risk::{self, Assessment, Draft, RiskPolicy, Verdict};

pub mod replay;

named_enum!(
    /// The automated action types of the rollout blueprint: what a draft or a templated
    /// activity does for the customer.
    ActionType, "action type" {
        StandardFaq => "standard_faq",
        MaterialReceivedConfirmation => "material_received_confirmation",
        ProgressReminder => "progress_reminder",
        StateUpdate => "state_update",
        CompletionFeedbackWriteback => "completion_feedback_writeback",
        EvidenceCapture => "evidence_capture",
        AuthorizedVerification => "authorized_verification",
    }
);

impl ActionType {
    /// The action type of an activity the state machines emit, if it is one that automation
    /// modes govern (`send_message` is not: it relays to partners and alerts owners).
    pub fn of_activity(name: &str) -> Option<ActionType> {
        match name {
            activity::CONFIRM_MATERIAL_RECEIVED => Some(ActionType::MaterialReceivedConfirmation),
            activity::SEND_PROGRESS_REMINDER => Some(ActionType::ProgressReminder),
            activity::WRITEBACK_COMPLETION_FEEDBACK => {
                Some(ActionType::CompletionFeedbackWriteback)
            }
            activity::CAPTURE_EVIDENCE => Some(ActionType::EvidenceCapture),
            activity::VERIFY_AUTHORIZED => Some(ActionType::AuthorizedVerification),
            _ => None,
        }
    }
}

named_enum!(
    /// How far an action type is automated.
    Mode, "automation mode" {
        /// Nothing of this type goes out: drafts and templated activities are held.
        Off => "off",
        /// AI drafts, a human sends: every draft waits for a review.
        Review => "review",
        /// A draft the risk gate finds nothing in goes out on its own; the rest wait for review.
        Auto => "auto",
    }
);

named_enum!(
    /// Where a draft goes.
    Route, "route" {
        /// Out now, through `send_message`.
        Send => "send",
        /// Into the review queue; the case waits for a reviewer.
        Review => "review",
        /// Recorded, not sent, not queued (a reviewer may still decide it).
        Hold => "hold",
    }
);

named_enum!(
    /// Why a draft (or a templated activity) went where it went.
    RouteReason, "route reason" {
        /// `auto`, and the risk gate found nothing.
        LowRisk => "low_risk",
        /// `auto`, but the risk gate found something: a human decides.
        HighRisk => "high_risk",
        /// The action type is in `review`.
        ModeReview => "mode_review",
        /// The action type is `off`.
        ModeOff => "mode_off",
        /// All automation is paused.
        Paused => "paused",
        /// A human has taken the case over: automation on it is stopped.
        TakenOver => "taken_over",
        /// A templated activity in `auto`: it runs on its own (it has no text for the risk
        /// gate to judge).
        ModeAuto => "mode_auto",
    }
);

/// A route and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Routing {
    pub route: Route,
    pub reason: RouteReason,
}

/// One version's content: a mode per action type and the global pause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomationPolicy {
    /// A type missing here is in `review`.
    pub modes: BTreeMap<ActionType, Mode>,
    /// While true nothing is automated: no draft is sent without a human, and the templated
    /// activities of the governed types are held.
    #[serde(default)]
    pub paused: bool,
}

impl Default for AutomationPolicy {
    fn default() -> Self {
        AutomationPolicy::initial()
    }
}

impl AutomationPolicy {
    /// The first version of every installation: each type in `review` (week 3 of the
    /// rollout), not paused. Opening a type to `auto` needs its review pass rate.
    pub fn initial() -> AutomationPolicy {
        AutomationPolicy {
            modes: ActionType::ALL.iter().map(|&t| (t, Mode::Review)).collect(),
            paused: false,
        }
    }

    pub fn mode(&self, action: ActionType) -> Mode {
        self.modes.get(&action).copied().unwrap_or(Mode::Review)
    }

    /// Every action type with its mode, in declaration order.
    pub fn all_modes(&self) -> Vec<(ActionType, Mode)> {
        ActionType::ALL.iter().map(|&t| (t, self.mode(t))).collect()
    }

    pub fn with_mode(&self, action: ActionType, mode: Mode) -> AutomationPolicy {
        let mut next = self.clone();
        next.modes = self.all_modes().into_iter().collect();
        next.modes.insert(action, mode);
        next
    }

    pub fn with_paused(&self, paused: bool) -> AutomationPolicy {
        let mut next = self.clone();
        next.modes = self.all_modes().into_iter().collect();
        next.paused = paused;
        next
    }
}

/// A stored version of the automation policy, as a case records the one it last saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomationStamp {
    pub version: i64,
    pub policy: AutomationPolicy,
}

impl AutomationStamp {
    /// Version 1: [`AutomationPolicy::initial`]. A case that records no stamp runs under it.
    pub fn initial() -> AutomationStamp {
        AutomationStamp {
            version: 1,
            policy: AutomationPolicy::initial(),
        }
    }
}

/// Where a draft goes, given the gate's verdict, its action type's mode, the global pause and
/// whether a human has taken the case over (the table in this module's documentation).
pub fn route(verdict: Verdict, mode: Mode, paused: bool, taken_over: bool) -> Routing {
    let (route, reason) = match mode {
        Mode::Off => (Route::Hold, RouteReason::ModeOff),
        Mode::Review => (Route::Review, RouteReason::ModeReview),
        Mode::Auto if taken_over => (Route::Review, RouteReason::TakenOver),
        Mode::Auto if paused => (Route::Review, RouteReason::Paused),
        Mode::Auto if verdict == Verdict::Review => (Route::Review, RouteReason::HighRisk),
        Mode::Auto => (Route::Send, RouteReason::LowRisk),
    };
    Routing { route, reason }
}

/// Where a templated activity of `action` that a state machine emits goes instead of its
/// queue, if anywhere: held on a taken-over case, while paused or in mode `off`; to the review
/// queue in mode `review` (AI drafts, a human sends). `None` in `auto`: it runs.
pub fn activity_route(
    action: ActionType,
    policy: &AutomationPolicy,
    taken_over: bool,
) -> Option<Routing> {
    let (route, reason) = if taken_over {
        (Route::Hold, RouteReason::TakenOver)
    } else if policy.paused {
        (Route::Hold, RouteReason::Paused)
    } else {
        match policy.mode(action) {
            Mode::Off => (Route::Hold, RouteReason::ModeOff),
            Mode::Review => (Route::Review, RouteReason::ModeReview),
            Mode::Auto => return None,
        }
    };
    Some(Routing { route, reason })
}

/// Where a templated activity recorded as `recorded` (held or queued for review) would have
/// gone under `policy`: the take-over recorded with it stands; otherwise [`activity_route`],
/// and running on its own (`mode_auto`) where that diverts nothing.
pub fn replay_activity(
    action: ActionType,
    recorded: Routing,
    policy: &AutomationPolicy,
) -> Routing {
    let taken_over = recorded.reason == RouteReason::TakenOver;
    activity_route(action, policy, taken_over).unwrap_or(Routing {
        route: Route::Send,
        reason: RouteReason::ModeAuto,
    })
}

/// Human decisions on the drafts of one action type over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewTally {
    /// Approved as drafted.
    pub approved: u64,
    /// Approved with a changed text.
    pub edited: u64,
    pub rejected: u64,
}

impl ReviewTally {
    pub fn decided(&self) -> u64 {
        self.approved + self.edited + self.rejected
    }

    /// The review pass rate: drafts approved unchanged over all decided drafts (approved,
    /// edited or rejected); `None` when nothing was decided.
    pub fn pass_rate(&self) -> Option<f64> {
        let decided = self.decided();
        (decided > 0).then(|| self.approved as f64 / decided as f64)
    }
}

/// What opening an action type to `auto` needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpeningRule {
    /// The lowest pass rate that opens a type, 0..=1.
    pub bar: f64,
    /// The fewest decisions in the window for the rate to count.
    pub min_sample: u64,
    /// The window, in whole days, for messages.
    pub window_days: u32,
}

impl Default for OpeningRule {
    fn default() -> Self {
        OpeningRule {
            bar: 0.9,
            min_sample: 20,
            window_days: 14,
        }
    }
}

/// Why a type may not be opened to `auto`; the message names the rate and the bar.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "{action} cannot be opened to auto: its review pass rate over the last {window_days} days is \
     {rate} ({approved} of {decided} decided drafts approved unchanged); opening needs at least \
     {bar:.1}% over at least {min_sample} decided drafts (set force with a written reason to \
     open it anyway)"
)]
pub struct BelowBar {
    pub action: ActionType,
    pub rate: String,
    pub approved: u64,
    pub decided: u64,
    pub bar: f64,
    pub min_sample: u64,
    pub window_days: u32,
}

impl OpeningRule {
    /// Whether `tally` opens `action` to `auto`.
    pub fn check(&self, action: ActionType, tally: &ReviewTally) -> Result<(), BelowBar> {
        let rate = tally.pass_rate();
        let meets = tally.decided() >= self.min_sample && rate.is_some_and(|r| r >= self.bar);
        if meets {
            return Ok(());
        }
        Err(BelowBar {
            action,
            rate: rate.map_or_else(
                || "not measured".to_owned(),
                |r| format!("{:.1}%", r * 100.0),
            ),
            approved: tally.approved,
            decided: tally.decided(),
            bar: self.bar * 100.0,
            min_sample: self.min_sample,
            window_days: self.window_days,
        })
    }
}

/// A past draft run again through other policy versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayedDraft {
    pub verdict: Verdict,
    pub routing: Routing,
    /// The risk policy version the verdict comes from.
    pub risk_policy_version: String,
    pub categories: Vec<risk::Category>,
}

/// What `submitted` would have become under `risk` (or, when `None`, the assessment it got)
/// and `automation` (or, when `None`, the mode and pause it was routed with). The identity
/// status and take-over are those recorded with the draft. Deterministic: the same draft and
/// versions always give the same answer, and with both `None` it is the recorded routing.
pub fn replay_draft(
    submitted: &DraftSubmitted,
    risk: Option<&RiskPolicy>,
    automation: Option<&AutomationPolicy>,
) -> ReplayedDraft {
    let assessment: Assessment = match risk.and_then(|policy| {
        Draft::new(
            submitted.text.clone(),
            submitted.audience,
            submitted.action_type.as_str(),
            submitted.flags,
        )
        .ok()
        .map(|draft| risk::assess(&draft, submitted.identity, policy))
    }) {
        Some(fresh) => fresh,
        None => submitted.assessment.clone(),
    };
    let (mode, paused) = match automation {
        Some(policy) => (policy.mode(submitted.action_type), policy.paused),
        None => (submitted.mode, submitted.paused),
    };
    ReplayedDraft {
        verdict: assessment.verdict,
        routing: route(assessment.verdict, mode, paused, submitted.taken_over),
        risk_policy_version: assessment.policy_version.clone(),
        categories: assessment.categories().into_iter().collect(),
    }
}
