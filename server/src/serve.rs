//! Serving HTTP and HTTPS connections until the server stops.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::sync::watch;

use crate::conn_deadlines;

/// Accepts connections until `stop`, then lets open ones finish. Unlike `axum::serve` it gives
/// hyper a timer, so a client that trickles its headers is cut off after `header_timeout`
/// (and one that trickles its TLS handshake, after the same time).
pub(crate) async fn serve_http(
    listener: tokio::net::TcpListener,
    router: Router,
    header_timeout: Duration,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    use hyper_util::rt::TokioTimer;
    let stopped = stopped(stop.clone());
    tokio::pin!(stopped);
    use tower::ServiceExt;
    let graceful = Arc::new(hyper_util::server::graceful::GracefulShutdown::new());
    let mut http = hyper::server::conn::http1::Builder::new();
    // Heads are timed from their first byte, and idle connections kept, by
    // `conn_deadlines` (hyper's own timer also ran while a connection was idle).
    http.timer(TokioTimer::new())
        .header_read_timeout(None)
        .keep_alive(true);
    let mut handshakes = tokio::task::JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            // Finished handshakes are reaped so the set does not grow.
            Some(_) = handshakes.join_next(), if !handshakes.is_empty() => continue,
            _ = &mut stopped => break,
        };
        let _ = stream.set_nodelay(true);
        let svc =
            router
                .clone()
                .map_request(move |req: axum::http::Request<hyper::body::Incoming>| {
                    let mut req = req.map(axum::body::Body::new);
                    // The client's address, for the limits on traffic without a token.
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    req
                });
        let svc = hyper_util::service::TowerToHyperService::new(svc);
        match &tls {
            None => serve_connection(
                &http,
                &graceful,
                conn_deadlines::Deadlines::new(stream, header_timeout),
                svc,
            ),
            Some(acceptor) => {
                let (acceptor, http, graceful) = (acceptor.clone(), http.clone(), graceful.clone());
                let stop = stop.clone();
                // The handshake runs beside the accept loop, so a slow client holds up no one.
                handshakes.spawn(async move {
                    match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) if !*stop.borrow() => serve_connection(
                            &http,
                            &graceful,
                            conn_deadlines::Deadlines::new(tls, header_timeout),
                            svc,
                        ),
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake took too long"),
                    }
                });
            }
        }
    }
    drop(listener);
    // A handshake under way when the server stops is not served.
    handshakes.shutdown().await;
    match Arc::try_unwrap(graceful) {
        Ok(g) => g.shutdown().await,
        Err(_) => tracing::warn!("connections still being set up at shutdown were dropped"),
    }
    Ok(())
}

/// Serves one connection (plain or TLS) on its own task, watched for a graceful shutdown.
fn serve_connection<I, S>(
    http: &hyper::server::conn::http1::Builder,
    graceful: &hyper_util::server::graceful::GracefulShutdown,
    io: I,
    svc: S,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<hyper::body::Incoming> + Send + 'static,
    S::Future: Send + 'static,
    S::ResBody: Send + 'static,
    <S::ResBody as http_body::Body>::Data: Send,
    <S::ResBody as http_body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let conn = http.serve_connection(hyper_util::rt::TokioIo::new(io), svc);
    let conn = graceful.watch(conn);
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "connection ended");
        }
    });
}

/// Resolves once the shutdown flag is set (or its sender is gone).
async fn stopped(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}
