//! Signatures of what goes out.
//!
//! - Standard Webhooks (`json`): the headers `webhook-id`, `webhook-timestamp` (Unix seconds)
//!   and `webhook-signature: v1,<base64 of HMAC-SHA256 over "id.timestamp.body">`, keyed by the
//!   subscription's secret `whsec_<base64 of the key>`.
//! - DingTalk's signed robot URL: `&timestamp=<ms>&sign=<urlencoded base64 of HMAC-SHA256,
//!   keyed by the robot's SEC… secret, over "timestamp\nsecret">`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// What is wrong with a secret given for a subscription.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Not `whsec_` followed by base64.
    #[error("a webhook secret is whsec_ followed by base64; this is not")]
    NotBase64,
    /// A key too short to be safe, or too long for the specification.
    #[error("a webhook secret's key is 24 to 64 bytes; this one is {0}")]
    Length(usize),
}

/// A subscription's signing key. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl WebhookSecret {
    /// A fresh random key of 32 bytes.
    pub fn generate() -> WebhookSecret {
        let mut key = vec![0u8; 32];
        rand::fill(&mut key[..]);
        WebhookSecret(key)
    }

    /// Reads `whsec_<base64>` (the prefix may be left out).
    pub fn parse(s: &str) -> Result<WebhookSecret, SecretError> {
        let b64 = s.trim().strip_prefix("whsec_").unwrap_or(s.trim());
        let key = B64.decode(b64).map_err(|_| SecretError::NotBase64)?;
        if !(24..=64).contains(&key.len()) {
            return Err(SecretError::Length(key.len()));
        }
        Ok(WebhookSecret(key))
    }

    /// `whsec_<base64>`, to show once when the subscription is created.
    pub fn encoded(&self) -> String {
        format!("whsec_{}", B64.encode(&self.0))
    }

    /// The `webhook-signature` header's value for a delivery.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> Result<String, KeyRefused> {
        let mut mac = HmacSha256::new_from_slice(&self.0).map_err(|_| KeyRefused)?;
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        Ok(format!("v1,{}", B64.encode(mac.finalize().into_bytes())))
    }
}

/// The HMAC refused its key (HMAC takes keys of any length, so this is not expected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the signing key was refused")]
pub struct KeyRefused;

/// The robot's URL with DingTalk's signature for `timestamp_ms` appended.
pub fn dingtalk_url(url: &str, secret: &str, timestamp_ms: i64) -> Result<String, KeyRefused> {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).map_err(|_| KeyRefused)?;
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    let sign = B64.encode(mac.finalize().into_bytes());
    let sign: String = form_urlencoded::byte_serialize(sign.as_bytes()).collect();
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{sep}timestamp={timestamp_ms}&sign={sign}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_round_trips_and_bad_ones_are_refused() {
        let s = WebhookSecret::generate();
        assert_eq!(WebhookSecret::parse(&s.encoded()), Ok(s.clone()));
        assert!(s.encoded().starts_with("whsec_"));
        assert_eq!(format!("{s:?}"), "WebhookSecret(…)");
        assert_eq!(
            WebhookSecret::parse("whsec_!!!"),
            Err(SecretError::NotBase64)
        );
        assert_eq!(
            WebhookSecret::parse("whsec_c2hvcnQ="),
            Err(SecretError::Length(5))
        );
    }

    #[test]
    fn the_robot_url_keeps_its_query() {
        let u = dingtalk_url(
            "https://oapi.dingtalk.com/robot/send?access_token=abc",
            "SECx",
            1,
        )
        .unwrap();
        assert!(u.starts_with(
            "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1&sign="
        ));
        let bare = dingtalk_url("http://127.0.0.1:9/robot", "SECx", 1).unwrap();
        assert!(bare.starts_with("http://127.0.0.1:9/robot?timestamp=1&sign="));
        // Base64's + / = are escaped, so the signature survives the query string.
        let sign = bare.rsplit("sign=").next().unwrap_or_default();
        assert!(!sign.contains(['+', '/', '=']), "{sign}");
    }
}
