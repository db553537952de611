//! Webhook secrets at rest. Signing needs the secret itself, so it cannot be hashed; with a
//! server key (`SHAOZI_WEBHOOK_KEY`, 32 random bytes in base64, the same on every server of a
//! database) it is kept sealed (XChaCha20-Poly1305, a fresh nonce each), and a copy of the
//! store or the database alone does not give it away. Without a key it is kept as given, and
//! the server says so when it starts.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    // HMAC takes a key of any length; new_from_slice cannot fail for it.
    match <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

/// What a sealed secret starts with (a `whsec_…` key or a robot's `SEC…` never does).
const SEALED: &str = "sealed:v1:";
/// XChaCha20's nonce.
const NONCE: usize = 24;

/// Why a key or a sealed secret could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The key given is not 32 bytes of base64.
    #[error("SHAOZI_WEBHOOK_KEY must be 32 random bytes in base64 (openssl rand -base64 32)")]
    BadKey,
    /// A sealed secret, and no key to open it.
    #[error("its secret is sealed and this server has no SHAOZI_WEBHOOK_KEY to open it")]
    NoKey,
    /// A sealed secret the key does not open (another key, or damaged).
    #[error("its secret does not open with this server's SHAOZI_WEBHOOK_KEY (another key?)")]
    WrongKey,
}

/// The city's key, if it has one: it seals webhook secrets, and signs backups (with a key
/// derived from it, so neither use can stand in for the other).
#[derive(Clone, Default)]
pub struct Vault(Option<XChaCha20Poly1305>, Option<[u8; 32]>);

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.write_str(if self.0.is_some() {
            "Vault(keyed)"
        } else {
            "Vault(none)"
        })
    }
}

impl Vault {
    /// A vault with the key in `base64`, or none.
    pub fn new(base64: Option<&str>) -> Result<Vault, VaultError> {
        let Some(text) = base64.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(Vault(None, None));
        };
        let bytes = STANDARD.decode(text).map_err(|_| VaultError::BadKey)?;
        if bytes.len() != 32 {
            return Err(VaultError::BadKey);
        }
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| VaultError::BadKey)?;
        let signing = hmac_sha256(&bytes, b"shaozi: the key that signs backups, v1");
        Ok(Vault(Some(cipher), Some(signing)))
    }

    /// The signature of a backup whose bytes before its trailer number `bytes` and hash to
    /// `sha256` (hex), as hex; none without a key.
    pub fn sign_backup(&self, sha256: &str, bytes: u64) -> Option<String> {
        let key = self.1.as_ref()?;
        let mac = hmac_sha256(
            key,
            format!("shaozi-backup sha256:{sha256} bytes:{bytes}").as_bytes(),
        );
        Some(mac.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Whether `signature` (hex) is this city's for a backup of that hash and length: compared
    /// in constant time.
    pub fn signed_backup(&self, sha256: &str, bytes: u64, signature: &str) -> bool {
        let Some(want) = self.sign_backup(sha256, bytes) else {
            return false;
        };
        want.len() == signature.len()
            && want
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// Whether secrets are sealed.
    pub fn keyed(&self) -> bool {
        self.0.is_some()
    }

    /// A secret as it is stored: sealed when there is a key, else as given.
    pub fn seal(&self, secret: &str) -> String {
        let Some(cipher) = &self.0 else {
            return secret.to_string();
        };
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        match cipher.encrypt(&nonce, secret.as_bytes()) {
            Ok(sealed) => {
                let mut all = nonce.to_vec();
                all.extend_from_slice(&sealed);
                format!("{SEALED}{}", STANDARD.encode(all))
            }
            // Encryption fails only for inputs beyond 256 GiB; keep the secret usable.
            Err(_) => secret.to_string(),
        }
    }

    /// A stored secret as it was given.
    pub fn open(&self, stored: &str) -> Result<String, VaultError> {
        let Some(b64) = stored.strip_prefix(SEALED) else {
            return Ok(stored.to_string());
        };
        let cipher = self.0.as_ref().ok_or(VaultError::NoKey)?;
        let all = STANDARD.decode(b64).map_err(|_| VaultError::WrongKey)?;
        if all.len() < NONCE {
            return Err(VaultError::WrongKey);
        }
        let (nonce, sealed) = all.split_at(NONCE);
        let plain = cipher
            .decrypt(XNonce::from_slice(nonce), sealed)
            .map_err(|_| VaultError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| VaultError::WrongKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs=";

    #[test]
    fn a_sealed_secret_opens_only_with_its_key() {
        let v = Vault::new(Some(KEY)).unwrap();
        let s = v.seal("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert!(s.starts_with(SEALED));
        assert!(!s.contains("MfKQ9r8"));
        assert_ne!(
            s,
            v.seal("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            "a fresh nonce each"
        );
        assert_eq!(
            v.open(&s).unwrap(),
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        );
        let other = Vault::new(Some("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")).unwrap();
        assert_eq!(other.open(&s), Err(VaultError::WrongKey));
        assert_eq!(Vault::default().open(&s), Err(VaultError::NoKey));
        let mut cut = s.clone();
        cut.truncate(s.len() - 4);
        assert_eq!(v.open(&cut), Err(VaultError::WrongKey));
    }

    #[test]
    fn a_backup_signature_is_the_citys_alone() {
        let v = Vault::new(Some(KEY)).unwrap();
        let sum = "ab".repeat(32);
        let sig = v.sign_backup(&sum, 1234).unwrap();
        assert_eq!(sig.len(), 64);
        assert!(v.signed_backup(&sum, 1234, &sig));
        assert!(!v.signed_backup(&sum, 1235, &sig));
        assert!(!v.signed_backup(&"cd".repeat(32), 1234, &sig));
        let other = Vault::new(Some("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")).unwrap();
        assert!(!other.signed_backup(&sum, 1234, &sig));
        assert_eq!(Vault::default().sign_backup(&sum, 1234), None);
        assert!(!Vault::default().signed_backup(&sum, 1234, &sig));
    }

    #[test]
    fn without_a_key_secrets_are_kept_as_given_and_read_either_way() {
        let none = Vault::default();
        assert_eq!(none.seal("SEC123"), "SEC123");
        assert_eq!(none.open("SEC123").unwrap(), "SEC123");
        assert_eq!(
            Vault::new(Some(KEY)).unwrap().open("SEC123").unwrap(),
            "SEC123"
        );
        assert_eq!(Vault::new(Some("c2hvcnQ=")).err(), Some(VaultError::BadKey));
        assert_eq!(
            Vault::new(Some("not base64!")).err(),
            Some(VaultError::BadKey)
        );
        assert!(!Vault::new(Some("  ")).unwrap().keyed());
    }
}
