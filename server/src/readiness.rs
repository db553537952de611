//! Where the server is in its life, for `/readyz`, and the proof that the store takes a
//! write, shared by every probe while it is fresh.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use shaozi_shared::Principal;

use crate::writer::{Command, Reply, WriteError, WriterHandle};

/// How long `/readyz` waits for the store to take a write before it says no.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// How long one proof that the store takes writes answers `/readyz` for: however many probes
/// come, the writer commits at most one empty batch for them in this time.
pub const PROOF_FRESH: Duration = Duration::from_secs(1);

/// Where the server is in its life, for `/readyz`, and the last proof that the store takes a
/// write (shared by every probe while it is fresh).
#[derive(Debug, Default)]
pub struct Readiness(AtomicU8, tokio::sync::Mutex<Option<Proof>>);

/// What one probe of the writer found: the log head, or why the store takes no write.
#[derive(Debug, Clone)]
struct Proof {
    at: Instant,
    answer: Result<u64, String>,
}

const STARTING: u8 = 0;
const SERVING: u8 = 1;
const STOPPING: u8 = 2;

impl Readiness {
    /// Everything is started: requests may come.
    pub fn serving(&self) {
        let _ = self
            .0
            .compare_exchange(STARTING, SERVING, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// Shutting down: a load balancer should send nothing more.
    pub fn stopping(&self) {
        self.0.store(STOPPING, Ordering::SeqCst);
    }

    /// Why requests should not come now, if they should not.
    pub fn not_serving(&self) -> Option<&'static str> {
        match self.0.load(Ordering::SeqCst) {
            STARTING => Some("the server is starting"),
            STOPPING => Some("the server is shutting down"),
            _ => None,
        }
    }
}

impl Readiness {
    /// The log head once an empty batch has gone through the writer and is durable, or why
    /// the store takes no write. Probes queue here: the first runs the proof, the rest take
    /// it while it is fresh.
    pub async fn proof(&self, writer: &WriterHandle) -> Result<u64, String> {
        let mut last = self.1.lock().await;
        match last.as_ref().filter(|p| p.at.elapsed() < PROOF_FRESH) {
            Some(p) => p.answer.clone(),
            None => {
                let answer = prove(writer).await;
                *last = Some(Proof {
                    at: Instant::now(),
                    answer: answer.clone(),
                });
                answer
            }
        }
    }
}

/// Puts an empty batch through the writer: the log head once it is durable, or why not.
async fn prove(writer: &WriterHandle) -> Result<u64, String> {
    let probe = writer.submit(Command::Probe, Principal::system());
    match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
        Ok(Ok(Reply::Probed)) => Ok(writer.durable_seq()),
        Ok(Ok(_)) => Err("the probe got another command's answer".into()),
        Ok(Err(WriteError::Unavailable(why))) => {
            Err(format!("the store does not take writes: {why}"))
        }
        Ok(Err(e)) => Err(format!("the store does not take writes: {e}")),
        Err(_) => Err(format!(
            "the store did not take a write within {} s",
            PROBE_TIMEOUT.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_goes_from_starting_to_serving_to_stopping_and_never_back() {
        let r = Readiness::default();
        assert_eq!(r.not_serving(), Some("the server is starting"));
        r.serving();
        assert_eq!(r.not_serving(), None);
        r.stopping();
        assert_eq!(r.not_serving(), Some("the server is shutting down"));
        r.serving();
        assert_eq!(r.not_serving(), Some("the server is shutting down"));
    }
}
