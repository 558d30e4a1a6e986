//! `aijia worker list`: the workers that polled recently, with their types, queues and last
//! poll (WorkerService.ListWorkers).

use aijia_proto::v1 as pb;
use aijia_proto::v1::worker_service_client::WorkerServiceClient;
use clap::{Args, Subcommand};
use serde_json::json;

use super::ClientArgs;
use super::case::{duration, rpc_error};
use super::output::{print_json, table, time};

#[derive(Debug, Args)]
pub struct WorkersArgs {
    #[command(flatten)]
    client: ClientArgs,
    #[command(subcommand)]
    command: WorkerCommand,
}

#[derive(Debug, Subcommand)]
enum WorkerCommand {
    /// The workers that polled for tasks recently, in-process ones included.
    List {
        /// Only workers that polled within this long (default 5m, at most 24h), e.g. 1h.
        #[arg(long, value_parser = duration)]
        seen_within: Option<std::time::Duration>,
    },
}

pub async fn run(args: WorkersArgs) -> anyhow::Result<()> {
    let mut client = WorkerServiceClient::new(args.client.connect().await?);
    match args.command {
        WorkerCommand::List { seen_within } => {
            let resp = client
                .list_workers(pb::ListWorkersRequest {
                    seen_within: seen_within.map(|d| prost_types::Duration {
                        seconds: d.as_secs() as i64,
                        nanos: d.subsec_nanos() as i32,
                    }),
                })
                .await
                .map_err(rpc_error)?
                .into_inner();
            list(&resp, args.client.json)
        }
    }
}

fn list(resp: &pb::ListWorkersResponse, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&json!({
            "workers": resp.workers.iter().map(|w| json!({
                "worker_id": w.worker_id,
                "node": w.node,
                "activity_types": w.activity_types,
                "task_queues": w.task_queues,
                "first_seen_at": time(w.first_seen_at.as_ref()),
                "last_poll_at": time(w.last_poll_at.as_ref()),
            })).collect::<Vec<_>>(),
        }));
    }
    if resp.workers.is_empty() {
        println!("no worker has polled in that time");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = resp
        .workers
        .iter()
        .map(|w| {
            vec![
                w.worker_id.clone(),
                w.activity_types.join(","),
                w.task_queues.join(","),
                time(w.last_poll_at.as_ref()),
                w.node.clone(),
            ]
        })
        .collect();
    table(&["WORKER", "TYPES", "QUEUES", "LAST POLL", "NODE"], &rows);
    Ok(())
}
