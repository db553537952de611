//! Photos as evidence (issue 30): what a photo is, by its content; what it says of where and
//! when it was taken; the copy the public may see, without that; and its preview.
//!
//! A photo is named by the SHA-256 of its bytes, so a retried upload stores nothing twice and
//! a case's event names exactly the photo it means. Where photos are kept (a directory beside
//! the store, an object store) is not here: this is what is done to the bytes.

mod kind;
mod metadata;
mod preview;
mod store;
mod strip;

pub use kind::{sniff, PhotoKind};
pub use metadata::{taken, Taken};
pub use preview::{preview, PREVIEW_EDGE};
pub use store::{is_photo_name, Later, PhotoDir, PhotoStore, PhotoStoreError};
pub use strip::strip_metadata;

use sha2::{Digest, Sha256};

/// Why a photo was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhotoError {
    /// Its bytes are not a JPEG, a PNG or a WebP, whatever it is called.
    #[error("not a JPEG, PNG or WebP image")]
    NotAnImage,
    /// Its structure is broken (cut short, a length past its end).
    #[error("a damaged {0} image: {1}")]
    Damaged(&'static str, String),
    /// Bigger than allowed, in bytes or in pixels.
    #[error("too large: {0}")]
    TooLarge(String),
}

/// The name a photo is kept under: the SHA-256 of its bytes, in lowercase hex.
pub fn content_name(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
pub(crate) mod samples;

#[cfg(test)]
mod tests {
    use super::content_name;

    #[test]
    fn a_photo_is_named_by_its_bytes() {
        // The SHA-256 of "abc", as FIPS 180-2 gives it.
        assert_eq!(
            content_name(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(content_name(b"abc"), content_name(b"abd"));
    }
}
