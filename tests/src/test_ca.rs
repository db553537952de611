//! A certificate authority made inside a test, and a server certificate it signed for
//! `localhost` and 127.0.0.1, written as PEM files the way an operator would have them.
//! (Also included by the dashboard's tmux test with `#[path]`.)

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// The CA's certificate and a server's certificate and key, in a temporary directory.
pub struct TestCa {
    /// The directory holding the files.
    pub dir: tempfile::TempDir,
    /// The CA's certificate (what a client trusts).
    pub ca_cert: PathBuf,
    /// The server's certificate chain.
    pub server_cert: PathBuf,
    /// The server's private key.
    pub server_key: PathBuf,
    ca_params: CertificateParams,
    ca_key: KeyPair,
}

impl TestCa {
    /// A new CA and a server certificate for `localhost` and 127.0.0.1.
    pub fn new() -> TestCa {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "shaozi test city CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().expect("CA key");
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
        let ca_cert = dir.path().join("ca.pem");
        std::fs::write(&ca_cert, ca.pem()).expect("write CA");
        let mut ca = TestCa {
            ca_cert,
            server_cert: dir.path().join("server.pem"),
            server_key: dir.path().join("server.key"),
            dir,
            ca_params,
            ca_key,
        };
        ca.issue_server("shaozi test server");
        ca
    }

    /// Signs a new server certificate (a renewal) and writes it over the server's files.
    pub fn issue_server(&mut self, common_name: &str) {
        let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".into()])
            .expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("server key");
        let issuer = Issuer::from_params(&self.ca_params, &self.ca_key);
        let cert = params.signed_by(&key, &issuer).expect("server certificate");
        std::fs::write(&self.server_cert, cert.pem()).expect("write server certificate");
        std::fs::write(&self.server_key, key.serialize_pem()).expect("write server key");
    }

    /// The CA's certificate, PEM.
    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(&self.ca_cert).expect("read CA")
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}
