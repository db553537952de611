//! Work that must not slow the server's requests runs on threads of lower CPU priority: the
//! webhook deliverers, a backup being streamed, the consistency check.

/// Lowers the calling thread's priority to `niceness` (threads it starts inherit it); on Linux
/// a thread is a task of its own, so the rest of the server keeps its priority.
pub fn lower_this_thread(niceness: i32) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority and gettid only read their arguments; no memory is shared.
        let r = unsafe {
            libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, niceness)
        };
        if r != 0 {
            tracing::debug!(
                error = %std::io::Error::last_os_error(),
                niceness,
                "could not lower a thread's priority"
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = niceness;
}

/// How much lower maintenance work (a backup streamed, a check) runs than requests.
pub const MAINTENANCE_NICENESS: i32 = 10;

/// Runs `f` on a thread of its own at [`MAINTENANCE_NICENESS`] and waits for it without
/// blocking the async runtime.
pub async fn in_background<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            lower_this_thread(MAINTENANCE_NICENESS);
            let _ = tx.send(f());
        })?;
    rx.await
        .map_err(|_| std::io::Error::other(format!("the {name} thread stopped")))
}
