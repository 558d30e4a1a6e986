//! `aijia case …`: the operator's client for CaseService.

use aijia_proto::v1 as pb;
use aijia_proto::v1::case_service_client::CaseServiceClient;
use aijia_proto::v1::signal_case_request::Event as PbEvent;
use anyhow::bail;
use clap::{Args, Subcommand};

use super::output;
use super::{ActorArgs, ClientArgs};

#[derive(Debug, Args)]
pub struct CaseArgs {
    #[command(flatten)]
    client: ClientArgs,
    #[command(flatten)]
    acting: ActorArgs,
    #[command(subcommand)]
    command: CaseCommand,
}

#[derive(Debug, Subcommand)]
enum CaseCommand {
    /// Open a case (idempotent on --request-id and on type + business key).
    Start {
        #[arg(long = "type")]
        workflow_type: String,
        #[arg(long)]
        business_key: String,
        #[arg(long)]
        customer_id: String,
        #[arg(long, default_value = "")]
        customer_name: String,
        #[arg(long, default_value = "")]
        subject: String,
        #[arg(long)]
        owner: String,
        /// key=value, repeatable (e.g. materials="invoice,photo").
        #[arg(long = "attr", value_parser = key_value)]
        attributes: Vec<(String, String)>,
        /// Reuse to retry safely; a fresh one is made if omitted.
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Show one case: by id, or by --type and --business-key (the open case with that key,
    /// else the most recently opened one).
    Get {
        #[arg(required_unless_present = "business_key", conflicts_with_all = ["workflow_type", "business_key"])]
        case_id: Option<String>,
        #[arg(long = "type", requires = "business_key")]
        workflow_type: Option<String>,
        #[arg(long, requires = "workflow_type")]
        business_key: Option<String>,
    },
    /// List cases, newest first.
    List {
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        waiting_for: Option<String>,
        #[arg(long = "type")]
        workflow_type: Option<String>,
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        customer_id: Option<String>,
        /// e.g. 30m, 2h, 1d, 1h30m.
        #[arg(long, value_parser = duration)]
        waiting_longer_than: Option<std::time::Duration>,
        /// Only cases that need an operator (an activity task failed for good).
        #[arg(long)]
        needs_operator: bool,
        #[arg(long, default_value_t = 50)]
        page_size: i32,
        #[arg(long, default_value = "")]
        page_token: String,
    },
    /// Show a case's history, oldest first.
    History {
        case_id: String,
        #[arg(long, default_value_t = 100)]
        page_size: i32,
        #[arg(long, default_value = "")]
        page_token: String,
    },
    /// Send an event to a case.
    Signal {
        case_id: String,
        #[arg(long)]
        request_id: Option<String>,
        /// Apply only if the case is still at this version.
        #[arg(long)]
        expected_version: Option<i64>,
        #[command(subcommand)]
        event: SignalEvent,
    },
    /// Cancel a case.
    Cancel {
        case_id: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// Rebuild a case from its history and compare with what is stored.
    Replay { case_id: String },
}

#[derive(Debug, Subcommand)]
enum SignalEvent {
    CustomerReplied {
        #[arg(long)]
        text: String,
    },
    MaterialProvided {
        #[arg(long = "item")]
        items: Vec<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    ExecutorDone {
        #[arg(long, default_value = "")]
        note: String,
    },
    PartnerDone {
        #[arg(long, default_value = "")]
        note: String,
    },
    PartnerWaitsForCustomer {
        #[arg(long)]
        what: String,
    },
    MaterialReceived {
        #[arg(long = "item")]
        items: Vec<String>,
    },
    RequestReview {
        #[arg(long)]
        reason: String,
    },
    ReviewDecided {
        /// approve or reject.
        #[arg(long, value_parser = ["approve", "reject"])]
        decision: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    WaitFor {
        /// customer, executor or partner.
        #[arg(long)]
        party: String,
        #[arg(long)]
        what: String,
        #[arg(long = "item")]
        checklist: Vec<String>,
    },
    Complete {
        #[arg(long, default_value = "")]
        note: String,
    },
    ReassignOwner {
        #[arg(long)]
        owner: String,
    },
}

impl SignalEvent {
    fn into_pb(self) -> PbEvent {
        match self {
            SignalEvent::CustomerReplied { text } => {
                PbEvent::CustomerReplied(pb::CustomerReplied { text })
            }
            SignalEvent::MaterialProvided { items, note } => {
                PbEvent::MaterialProvided(pb::MaterialProvided { items, note })
            }
            SignalEvent::ExecutorDone { note } => PbEvent::ExecutorDone(pb::ExecutorDone { note }),
            SignalEvent::PartnerDone { note } => PbEvent::PartnerDone(pb::PartnerDone { note }),
            SignalEvent::PartnerWaitsForCustomer { what } => {
                PbEvent::PartnerWaitsForCustomer(pb::PartnerWaitsForCustomer { what })
            }
            SignalEvent::MaterialReceived { items } => {
                PbEvent::MaterialReceived(pb::MaterialReceived { items })
            }
            SignalEvent::RequestReview { reason } => {
                PbEvent::RequestReview(pb::RequestReview { reason })
            }
            SignalEvent::ReviewDecided { decision, note } => {
                PbEvent::ReviewDecided(pb::ReviewDecided {
                    approved: decision == "approve",
                    note,
                })
            }
            SignalEvent::WaitFor {
                party,
                what,
                checklist,
            } => PbEvent::WaitFor(pb::WaitFor {
                party,
                what,
                checklist,
            }),
            SignalEvent::Complete { note } => PbEvent::Complete(pb::Complete { note }),
            SignalEvent::ReassignOwner { owner } => {
                PbEvent::ReassignOwner(pb::ReassignOwner { owner })
            }
        }
    }
}

pub(super) fn key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .ok_or_else(|| format!("{s:?} is not key=value"))
}

/// Parses 90s, 30m, 2h, 1d and combinations such as 1h30m (the one duration syntax of Aijia,
/// shared with the timer policy file).
pub fn duration(s: &str) -> Result<std::time::Duration, String> {
    aijia_workflows::policy::parse_duration(s)?
        .to_std()
        .map_err(|_| format!("{s:?}: must not be negative"))
}

/// "FAILED_PRECONDITION: a case … does not accept complete": the code a script can match and
/// the server's message a person can act on.
pub(super) fn rpc_error(status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", code_name(status.code()), status.message())
}

fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

pub(super) fn request_id(given: Option<String>) -> String {
    given.unwrap_or_else(|| format!("cli-{}", uuid::Uuid::now_v7()))
}

pub async fn run(args: CaseArgs) -> anyhow::Result<()> {
    let channel = args.client.connect().await?;
    let mut client = CaseServiceClient::new(channel);
    let json = args.client.json;
    let actor = args.acting.actor();
    match args.command {
        CaseCommand::Start {
            workflow_type,
            business_key,
            customer_id,
            customer_name,
            subject,
            owner,
            attributes,
            request_id: rid,
        } => {
            let resp = client
                .start_case(pb::StartCaseRequest {
                    request_id: request_id(rid),
                    workflow_type,
                    business_key,
                    customer: Some(pb::CustomerRef {
                        id: customer_id,
                        display_name: customer_name,
                    }),
                    subject,
                    owner,
                    attributes: attributes.into_iter().collect(),
                    actor: Some(actor),
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            output::started(&resp, json)
        }
        CaseCommand::Get {
            case_id,
            workflow_type,
            business_key,
        } => {
            let resp = client
                .get_case(pb::GetCaseRequest {
                    case_id: case_id.unwrap_or_default(),
                    workflow_type: workflow_type.unwrap_or_default(),
                    business_key: business_key.unwrap_or_default(),
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            output::case(resp.case.as_ref(), json)
        }
        CaseCommand::List {
            state,
            waiting_for,
            workflow_type,
            owner,
            customer_id,
            waiting_longer_than,
            needs_operator,
            page_size,
            page_token,
        } => {
            let resp = client
                .list_cases(pb::ListCasesRequest {
                    state: state.unwrap_or_default(),
                    waiting_for: waiting_for.unwrap_or_default(),
                    workflow_type: workflow_type.unwrap_or_default(),
                    owner: owner.unwrap_or_default(),
                    customer_id: customer_id.unwrap_or_default(),
                    waiting_longer_than: waiting_longer_than.map(|d| prost_types::Duration {
                        seconds: d.as_secs() as i64,
                        nanos: 0,
                    }),
                    page_size,
                    page_token,
                    needs_operator,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            output::list(&resp, json)
        }
        CaseCommand::History {
            case_id,
            page_size,
            page_token,
        } => {
            let resp = client
                .get_case_history(pb::GetCaseHistoryRequest {
                    case_id,
                    page_size,
                    page_token,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            output::history(&resp, json)
        }
        CaseCommand::Signal {
            case_id,
            request_id: rid,
            expected_version,
            event,
        } => {
            let resp = client
                .signal_case(pb::SignalCaseRequest {
                    request_id: request_id(rid),
                    case_id,
                    actor: Some(actor),
                    expected_version,
                    event: Some(event.into_pb()),
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            output::change(resp.change.as_ref(), json)
        }
        CaseCommand::Cancel {
            case_id,
            reason,
            request_id: rid,
        } => {
            let resp = client
                .cancel_case(pb::CancelCaseRequest {
                    request_id: request_id(rid),
                    case_id,
                    reason,
                    actor: Some(actor),
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            output::change(resp.change.as_ref(), json)
        }
        CaseCommand::Replay { case_id } => {
            let resp = client
                .replay_case(pb::ReplayCaseRequest { case_id })
                .await
                .map_err(rpc_error)?
                .into_inner();
            let matches = resp.matches;
            output::replay(&resp, json)?;
            if !matches {
                bail!("replay does not match the stored case");
            }
            Ok(())
        }
    }
}
