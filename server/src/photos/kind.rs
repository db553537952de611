//! What a photo is, by its first bytes (a renamed text file is not a JPEG).

/// The kinds of photo taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoKind {
    /// JPEG (what phones send).
    Jpeg,
    /// PNG (screenshots).
    Png,
    /// WebP.
    Webp,
}

impl PhotoKind {
    /// Its media type.
    pub fn media_type(self) -> &'static str {
        match self {
            PhotoKind::Jpeg => "image/jpeg",
            PhotoKind::Png => "image/png",
            PhotoKind::Webp => "image/webp",
        }
    }

    /// Its short name, for messages and file names.
    pub fn name(self) -> &'static str {
        match self {
            PhotoKind::Jpeg => "jpeg",
            PhotoKind::Png => "png",
            PhotoKind::Webp => "webp",
        }
    }
}

/// The kind `bytes` are, by their signature; None for anything else.
pub fn sniff(bytes: &[u8]) -> Option<PhotoKind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(PhotoKind::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(PhotoKind::Png);
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some(PhotoKind::Webp);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{sniff, PhotoKind};
    use crate::photos::samples;

    #[test]
    fn kinds_are_known_by_content_not_by_name() {
        assert_eq!(sniff(&samples::jpeg(8, 8)), Some(PhotoKind::Jpeg));
        assert_eq!(sniff(&samples::png(8, 8)), Some(PhotoKind::Png));
        assert_eq!(sniff(&samples::webp(8, 8)), Some(PhotoKind::Webp));
        // A text file called photo.jpg, a GIF, nothing, a RIFF that is a WAV.
        assert_eq!(sniff(b"just some text, renamed photo.jpg"), None);
        assert_eq!(sniff(b"GIF89a\x01\x00\x01\x00"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"RIFF\x24\x00\x00\x00WAVEfmt "), None);
        assert_eq!(sniff(&[0xFF, 0xD8]), None);
    }
}
