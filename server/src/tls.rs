//! HTTPS served by the server itself (`--tls-cert`, `--tls-key`): rustls over the PEM files an
//! operator already has. The files are read again when they change (a renewed certificate
//! is picked up within a minute, without a restart); a renewal that does not parse is logged
//! and the previous certificate kept.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls;
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;

/// Where the certificate and its key are.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain, PEM, the server's own first.
    pub cert: PathBuf,
    /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// How often the files are looked at for a renewal.
    pub reload_every: Duration,
}

impl TlsFiles {
    /// The two files, looked at every minute.
    pub fn new(cert: PathBuf, key: PathBuf) -> TlsFiles {
        TlsFiles {
            cert,
            key,
            reload_every: Duration::from_secs(60),
        }
    }
}

/// Why the certificate cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file holds nothing usable.
    #[error("{path}: {why}")]
    Bad {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
}

/// The certificate in use, swapped when the files change.
#[derive(Debug)]
pub struct CertResolver {
    files: TlsFiles,
    current: RwLock<(Arc<CertifiedKey>, Option<SystemTime>)>,
}

impl CertResolver {
    /// Reads the files; fails when either is missing, unreadable or does not match the other.
    pub fn load(files: TlsFiles) -> Result<Arc<CertResolver>, TlsError> {
        let key = certified_key(&files.cert, &files.key)?;
        let stamp = stamp(&files);
        Ok(Arc::new(CertResolver {
            files,
            current: RwLock::new((Arc::new(key), stamp)),
        }))
    }

    /// A rustls configuration serving the certificate in use (HTTP/1.1 only, as the server).
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Bad {
                path: self.files.cert.clone(),
                why: e.to_string(),
            })?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// Reads the files again if they changed since they were last read. Returns whether a new
    /// certificate is now in use.
    pub fn reload_if_changed(&self) -> bool {
        let stamp = stamp(&self.files);
        let seen = self.current.read().map(|c| c.1).unwrap_or(None);
        if stamp == seen {
            return false;
        }
        match certified_key(&self.files.cert, &self.files.key) {
            Ok(key) => {
                if let Ok(mut c) = self.current.write() {
                    *c = (Arc::new(key), stamp);
                }
                tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
                true
            }
            Err(e) => {
                // Keep serving the one that works; say so once per change of the files.
                if let Ok(mut c) = self.current.write() {
                    c.1 = stamp;
                }
                tracing::error!(error = %e, "the changed TLS certificate cannot be used; still serving the previous one");
                false
            }
        }
    }

    /// How often to look at the files.
    pub fn reload_every(&self) -> Duration {
        self.files.reload_every
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|c| c.0.clone())
    }
}

/// When either file last changed (the later of the two), if both can be looked at.
fn stamp(files: &TlsFiles) -> Option<SystemTime> {
    let m = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    Some(m(&files.cert)?.max(m(&files.key)?))
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn certified_key(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
    let bad = |path: &Path, why: String| TlsError::Bad {
        path: path.to_path_buf(),
        why,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read(cert)?)
        .collect::<Result<_, _>>()
        .map_err(|e| bad(cert, format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(bad(cert, "holds no CERTIFICATE block".into()));
    }
    let private = PrivateKeyDer::from_pem_slice(&read(key)?).map_err(|e| {
        bad(
            key,
            format!("no usable private key (PKCS#8, PKCS#1 or SEC1 PEM): {e}"),
        )
    })?;
    let signing = rustls::crypto::aws_lc_rs::sign::any_supported_type(&private)
        .map_err(|e| bad(key, format!("a key rustls cannot sign with: {e}")))?;
    let certified = CertifiedKey::new(chain, signing);
    certified
        .keys_match()
        .map_err(|e| bad(key, format!("is not the key of {}: {e}", cert.display())))?;
    Ok(certified)
}

/// Looks at the files every [`CertResolver::reload_every`] until `stop`.
pub async fn watch(resolver: Arc<CertResolver>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(resolver.reload_every()) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let r = resolver.clone();
        // Reading files blocks; it is rare and small, but not on the runtime's threads.
        let _ = tokio::task::spawn_blocking(move || r.reload_if_changed()).await;
    }
}
