//! The clock's sweep: what deadlines owe, applied by the writer.

use std::time::Duration;

use tokio::sync::watch;

use shaozi_shared::Principal;

use crate::writer::{self, Command, WriterHandle};

/// Every `every`, asks the writer to mark overdue what has passed its deadline. The first
/// sweep runs at once, catching up on deadlines that passed while the server was down; it
/// reads only the due part of the deadline index, never the whole store.
/// Applies what the clock owes now: due-soon warnings, deadlines passed, fixes closed
/// unconfirmed.
pub(crate) async fn sweep_once(writer: &WriterHandle) {
    match writer
        .submit(Command::SweepDeadlines, Principal::system())
        .await
    {
        Ok(writer::Reply::Swept(n)) if n > 0 => {
            tracing::info!(
                n,
                "the clock acted: due-soon warnings, deadlines passed, fixes closed unconfirmed"
            )
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "deadline sweep failed"),
    }
}

/// Sweeps every `every` until `stop` (the first sweep is done at start).
pub(crate) async fn sweep_deadlines(
    writer: WriterHandle,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        sweep_once(&writer).await;
    }
}
