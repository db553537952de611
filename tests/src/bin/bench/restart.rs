//! Start-up measured on its own: the bench runs the server again in a child process (itself,
//! with `--serve`), so the figures are the server's alone and not the load client's, nor what
//! the first server left in this process's heap.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// Runs the server on `data` until stdin closes: the child side of [`Restarted::start`].
pub async fn serve(data: &Path) -> anyhow::Result<()> {
    let server = shaozi_server::start(super::config(data)?).await?;
    println!("{}", server.addr);
    // Stop cleanly when the parent closes our stdin (or dies).
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        while std::io::stdin()
            .read_line(&mut line)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            line.clear();
        }
    })
    .await?;
    server.shutdown().await;
    Ok(())
}

/// A server started in a child process on an existing store.
pub struct Restarted {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// From spawning the process to the first queue page served.
    pub first_page: Duration,
}

impl Restarted {
    /// Starts the child and waits for the first queue page.
    pub async fn start(data: &Path, client: &reqwest::Client) -> anyhow::Result<Restarted> {
        let t = Instant::now();
        let mut child = Command::new(std::env::current_exe()?)
            .arg("--serve")
            .arg(data)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the server process")?;
        let out = child.stdout.take().context("child stdout")?;
        let addr = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(out).read_line(&mut line).map(|_| line)
        })
        .await??;
        anyhow::ensure!(!addr.trim().is_empty(), "the server process did not start");
        let base = format!("http://{}", addr.trim());
        let res = client
            .get(format!(
                "{base}/api/v1/whistles?status=new,dispatched&limit=50"
            ))
            .bearer_auth(super::TOKEN)
            .send()
            .await?;
        anyhow::ensure!(
            res.status().is_success(),
            "first request answered {}",
            res.status()
        );
        let _ = res.bytes().await?;
        Ok(Restarted {
            first_page: t.elapsed(),
            child,
            base,
        })
    }

    /// The child's peak resident set so far, in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    }

    /// Closes the child's stdin and waits for it to shut down.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        drop(self.child.stdin.take());
        let status = tokio::task::spawn_blocking(move || self.child.wait()).await??;
        anyhow::ensure!(status.success(), "the server process ended with {status}");
        Ok(())
    }
}
