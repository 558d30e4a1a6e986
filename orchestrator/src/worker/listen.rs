//! Wake-ups from other processes: on PostgreSQL every commit that makes tasks runnable sends
//! `NOTIFY aijia_tasks` (payload: the activity types it enqueued) in its own statement; this
//! loop `LISTEN`s and wakes the local workers and long polls of those types. A lost connection also wakes them (notifications may have been missed
//! meanwhile), and the workers' polling fallback covers the rest.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::store::{TASKS_CHANNEL, TaskWake};

const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

pub async fn run(pool: PgPool, wake: TaskWake, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        match listen(&pool, &wake, &shutdown).await {
            Ok(()) => return,
            Err(err) => {
                warn!(error = %err, "listening for task notifications failed; reconnecting");
                wake.notify_all();
                tokio::select! {
                    _ = tokio::time::sleep(RECONNECT_PAUSE) => {}
                    _ = shutdown.cancelled() => return,
                }
            }
        }
    }
}

async fn listen(
    pool: &PgPool,
    wake: &TaskWake,
    shutdown: &CancellationToken,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(TASKS_CHANNEL).await?;
    debug!(channel = TASKS_CHANNEL, "listening for task notifications");
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            received = listener.try_recv() => match received? {
                // A commit enqueued tasks of these types ("": any type).
                Some(note) if !note.payload().is_empty() => {
                    wake.notify(note.payload().split(','));
                }
                // Or the connection was lost and is back: what was sent meanwhile is lost,
                // so everyone looks.
                _ => wake.notify_all(),
            }
        }
    }
}
