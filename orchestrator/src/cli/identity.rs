//! `aijia identity …`: record identity checks, and read or store customers' private context
//! (read only once the case's customer identity is confirmed).

use aijia_proto::v1 as pb;
use aijia_proto::v1::identity_service_client::IdentityServiceClient;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::case::{request_id, rpc_error};
use super::output::{self, print_json, time};
use super::{ActorArgs, ClientArgs};

#[derive(Debug, Args)]
pub struct IdentityArgs {
    #[command(flatten)]
    client: ClientArgs,
    #[command(flatten)]
    acting: ActorArgs,
    #[command(subcommand)]
    command: IdentityCommand,
}

#[derive(Debug, Subcommand)]
enum IdentityCommand {
    /// Record the case's customer identity as confirmed (or claimed, or failed).
    Confirm {
        case_id: String,
        /// order_number_match, phone_match, email_code or back_office_match.
        #[arg(long, default_value = "")]
        method: String,
        /// What matched.
        #[arg(long, default_value = "")]
        evidence: String,
        /// confirmed (default), claimed or failed.
        #[arg(long, default_value = "confirmed")]
        status: String,
        #[arg(long)]
        request_id: Option<String>,
    },
    /// The private context of the case's customer (refused, and recorded, before
    /// identity is confirmed).
    Context {
        case_id: String,
        #[arg(long, default_value = "")]
        purpose: String,
    },
    /// Store a customer's private context (a JSON object).
    PutContext {
        customer_id: String,
        #[arg(long)]
        json_object: String,
    },
}

pub async fn run(args: IdentityArgs) -> anyhow::Result<()> {
    let channel = args.client.connect().await?;
    let mut client = IdentityServiceClient::new(channel);
    let json = args.client.json;
    let who = Some(args.acting.actor());
    match args.command {
        IdentityCommand::Confirm {
            case_id,
            method,
            evidence,
            status,
            request_id: rid,
        } => {
            let resp = client
                .confirm_identity(pb::ConfirmIdentityRequest {
                    request_id: request_id(rid),
                    case_id,
                    method,
                    evidence,
                    actor: who,
                    status,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            output::change(resp.change.as_ref(), json)
        }
        IdentityCommand::Context { case_id, purpose } => {
            let resp = client
                .get_customer_context(pb::GetCustomerContextRequest {
                    case_id,
                    actor: who,
                    purpose,
                    request_id: String::new(),
                    task_id: 0,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            let context = serde_json::from_str::<Value>(&resp.context_json).unwrap_or(Value::Null);
            if json {
                return print_json(&json!({
                    "found": resp.found,
                    "customer_id": resp.customer_id,
                    "context": context,
                    "updated_by": resp.updated_by,
                    "updated_at": time(resp.updated_at.as_ref()),
                    "recorded_seq": resp.recorded_seq,
                }));
            }
            if !resp.found {
                outln!(
                    "no private context is stored for this customer (read recorded as event #{})",
                    resp.recorded_seq
                );
                return Ok(());
            }
            outln!(
                "customer {} (updated by {} at {}; read recorded as event #{})",
                resp.customer_id,
                resp.updated_by,
                time(resp.updated_at.as_ref()),
                resp.recorded_seq
            );
            outln!("{}", serde_json::to_string_pretty(&context)?);
            Ok(())
        }
        IdentityCommand::PutContext {
            customer_id,
            json_object,
        } => {
            let resp = client
                .put_customer_context(pb::PutCustomerContextRequest {
                    customer_id,
                    context_json: json_object,
                    actor: who,
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            if json {
                return print_json(&json!({"updated_at": time(resp.updated_at.as_ref())}));
            }
            outln!("context stored at {}", time(resp.updated_at.as_ref()));
            Ok(())
        }
    }
}
