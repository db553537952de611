//! How long a connection may take, told apart by what it is doing. hyper's own header timeout
//! starts as soon as a kept-alive connection waits for its next request, so an idle
//! connection was closed after 10 s while its client, which keeps idle connections for 90 s
//! (reqwest) or more, could send a request on it that very moment: the request was lost with
//! no answer, and the client could not tell whether its POST was taken (about one request in
//! 4,800 under the default rate limits, clients waiting out a 429's Retry-After).
//!
//! Here a request's head must arrive within the header timeout counted from its first byte
//! (a client that trickles its headers is still cut off, with a 408); a new connection must
//! start its first request within that time too; and a kept-alive connection may then stay
//! idle for [`IDLE_KEEP_ALIVE`], longer than the clients in use keep theirs, so it is the
//! client that closes an idle connection, never the server under its feet.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// How long a kept-alive connection may wait for its next request.
pub const IDLE_KEEP_ALIVE: Duration = Duration::from_secs(120);

/// What a timed-out head is answered (the client gets a status, not a silent close).
const TIMED_OUT: &[u8] =
    b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";

/// Where a connection is between its client's bytes and the server's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a request to start (the deadline: the header timeout for a new
    /// connection, [`IDLE_KEEP_ALIVE`] after an answer).
    Waiting,
    /// A head has started and not ended: the header timeout from its first byte.
    Head,
    /// The head is in: the body (with its own deadline) and the handler; no deadline here.
    Rest,
    /// The head took too long: writing the 408, this many bytes of it written.
    Refusing(usize),
}

/// A connection with those deadlines.
pub struct Deadlines<I> {
    inner: I,
    header_timeout: Duration,
    phase: Phase,
    deadline: Pin<Box<Sleep>>,
    /// The last bytes read, to find a head's end across reads.
    tail: [u8; 3],
}

impl<I> Deadlines<I> {
    /// Wraps a new connection: its first request must start within `header_timeout`.
    pub fn new(inner: I, header_timeout: Duration) -> Deadlines<I> {
        Deadlines {
            inner,
            header_timeout,
            phase: Phase::Waiting,
            deadline: Box::pin(tokio::time::sleep(header_timeout)),
            tail: [0; 3],
        }
    }

    fn arm(&mut self, after: Duration) {
        self.deadline.as_mut().reset(Instant::now() + after);
    }

    /// Notes bytes written: an answer is going out, so the connection waits for its next
    /// request from now (an event stream's keep-alive comments keep it from ever idling out).
    fn wrote(&mut self, n: usize) {
        if n > 0 && !matches!(self.phase, Phase::Refusing(_)) {
            self.phase = Phase::Waiting;
            self.arm(IDLE_KEEP_ALIVE);
        }
    }

    /// Notes bytes read: a head starts with the first, and ends at its blank line.
    fn saw(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.phase == Phase::Waiting {
            self.phase = Phase::Head;
            self.tail = [0; 3];
            self.arm(self.header_timeout);
        }
        if self.phase != Phase::Head {
            return;
        }
        let mut window = self.tail.to_vec();
        window.extend_from_slice(bytes);
        if window.windows(4).any(|w| w == b"\r\n\r\n") {
            self.phase = Phase::Rest;
        }
        let n = window.len();
        self.tail.copy_from_slice(&window[n - 3..]);
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin> AsyncRead for Deadlines<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !matches!(this.phase, Phase::Refusing(_)) {
            // What has arrived is read first: a request already sent is never dropped because
            // the timer ran out while this connection was not being polled (a busy server: the
            // client's request was lost with no answer, about one in a thousand under load).
            let before = buf.filled().len();
            match Pin::new(&mut this.inner).poll_read(cx, buf) {
                Poll::Ready(r) => {
                    r?;
                    this.saw(&buf.filled()[before..]);
                    // A head still trickling past its deadline is cut off all the same.
                    if this.phase != Phase::Head || !this.deadline.is_elapsed() {
                        return Poll::Ready(Ok(()));
                    }
                    this.phase = Phase::Refusing(0);
                }
                Poll::Pending => {
                    if !matches!(this.phase, Phase::Waiting | Phase::Head)
                        || this.deadline.as_mut().poll(cx).is_pending()
                    {
                        return Poll::Pending;
                    }
                    match this.phase {
                        // Nothing started in time: close quietly, as an idle connection closes.
                        Phase::Waiting => return Poll::Ready(Ok(())),
                        _ => this.phase = Phase::Refusing(0),
                    }
                }
            }
        }
        if let Phase::Refusing(mut written) = this.phase {
            while written < TIMED_OUT.len() {
                let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &TIMED_OUT[written..]))?;
                if n == 0 {
                    break;
                }
                written += n;
                this.phase = Phase::Refusing(written);
            }
            let _ = Pin::new(&mut this.inner).poll_flush(cx);
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request's head did not arrive in time",
            )));
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Deadlines<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.inner).poll_write(cx, data))?;
        this.wrote(n);
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.inner).poll_write_vectored(cx, bufs))?;
        this.wrote(n);
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A request that arrived while the connection was not polled is read, not dropped as an
    /// idle connection, even when its timer ran out meanwhile (a busy server lost about one
    /// request in a thousand this way).
    #[tokio::test]
    async fn a_request_that_arrived_while_nobody_looked_is_read() {
        let (mut client, server) = tokio::io::duplex(1024);
        let mut conn = Deadlines::new(server, Duration::from_millis(10));
        let request = b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";
        client.write_all(request).await.unwrap_or_default();
        tokio::time::sleep(Duration::from_millis(60)).await;
        let mut got = vec![0; 1024];
        let n = conn.read(&mut got).await.unwrap_or(0);
        assert_eq!(&got[..n], request);
    }

    /// Nothing sent in time still closes quietly, and a head left unfinished past its deadline
    /// is still answered 408.
    #[tokio::test]
    async fn silence_closes_and_a_stalled_head_is_refused() {
        let (_client, server) = tokio::io::duplex(1024);
        let mut conn = Deadlines::new(server, Duration::from_millis(10));
        let mut got = vec![0; 64];
        assert_eq!(conn.read(&mut got).await.unwrap_or(99), 0);

        let (mut client, server) = tokio::io::duplex(1024);
        let mut conn = Deadlines::new(server, Duration::from_millis(30));
        client
            .write_all(b"GET / HTTP/1.1\r\n")
            .await
            .unwrap_or_default();
        let n = conn.read(&mut got).await.unwrap_or(0);
        assert!(n > 0);
        let refused = conn.read(&mut got).await;
        assert!(refused.is_err(), "{refused:?}");
        let mut answer = vec![0; 128];
        let n = client.read(&mut answer).await.unwrap_or(0);
        assert!(
            answer[..n].starts_with(b"HTTP/1.1 408"),
            "{:?}",
            &answer[..n]
        );
    }
}
