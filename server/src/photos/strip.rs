//! The copy of a photo the public may see: the same picture without what its file says of
//! where, when and by what it was taken (EXIF, XMP, IPTC, comments). A resident's photo of a
//! leak in their kitchen must not give away their home's coordinates.
//!
//! The picture's own bytes are kept as they are (no re-encoding, no loss): only the
//! metadata's segments or chunks are left out. A JPEG's orientation, which phones keep in EXIF,
//! is written back alone so the picture still stands the right way up.

use super::{PhotoError, PhotoKind};

/// `bytes` (of `kind`) without their metadata.
pub fn strip_metadata(kind: PhotoKind, bytes: &[u8]) -> Result<Vec<u8>, PhotoError> {
    match kind {
        PhotoKind::Jpeg => jpeg(bytes),
        PhotoKind::Png => png(bytes),
        PhotoKind::Webp => webp(bytes),
    }
}

fn damaged(kind: PhotoKind, why: &str) -> PhotoError {
    PhotoError::Damaged(kind.name(), why.to_string())
}

/// A JPEG: segments up to the image data, then the image data, up to its end (EOI). APP1
/// (EXIF, XMP), APP13 (IPTC), comments and a multi-picture index are left out, and so is
/// anything after the end: phones append further pictures there, each with its own EXIF.
fn jpeg(b: &[u8]) -> Result<Vec<u8>, PhotoError> {
    let bad = |why: &str| damaged(PhotoKind::Jpeg, why);
    if !b.starts_with(&[0xFF, 0xD8]) {
        return Err(bad("it does not start as a JPEG"));
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut orientation = None;
    let mut i = 2;
    loop {
        if b.get(i) != Some(&0xFF) {
            return Err(bad("a segment does not start with a marker"));
        }
        // Fill bytes before a marker.
        let mut m = i + 1;
        while b.get(m) == Some(&0xFF) {
            m += 1;
        }
        let Some(&marker) = b.get(m) else {
            return Err(bad("it ends before its image does"));
        };
        if marker == 0xD9 {
            out.extend_from_slice(&[0xFF, 0xD9]);
            break;
        }
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            out.extend_from_slice(&[0xFF, marker]);
            i = m + 1;
            continue;
        }
        let (Some(&hi), Some(&lo)) = (b.get(m + 1), b.get(m + 2)) else {
            return Err(bad("a segment is cut short"));
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        let end = m + 1 + len;
        if len < 2 || end > b.len() {
            return Err(bad("a segment runs past the end"));
        }
        let body = &b[m + 3..end];
        let metadata = match marker {
            0xE1 => {
                if body.starts_with(b"Exif\0\0") {
                    orientation = orientation.or_else(|| exif_orientation(&body[6..]));
                }
                true
            }
            0xED | 0xFE => true,
            0xE2 => body.starts_with(b"MPF\0"),
            _ => false,
        };
        if !metadata {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
        if marker == 0xDA {
            // The image data: up to the next marker that is not a stuffed byte or a restart.
            let mut j = i;
            loop {
                match b.get(j) {
                    None => return Err(bad("its image data has no end")),
                    Some(0xFF) => match b.get(j + 1) {
                        Some(0x00 | 0xD0..=0xD7 | 0xFF) => j += 1,
                        Some(_) => break,
                        None => return Err(bad("its image data has no end")),
                    },
                    Some(_) => j += 1,
                }
            }
            out.extend_from_slice(&b[i..j]);
            i = j;
        }
    }
    if let Some(o) = orientation.filter(|o| *o != 1) {
        let app1 = orientation_app1(o);
        out.splice(2..2, app1);
    }
    Ok(out)
}

/// The orientation (tag 0x0112) in IFD0 of a TIFF structure, if it reads.
fn exif_orientation(tiff: &[u8]) -> Option<u16> {
    let little = match tiff.get(0..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let s: [u8; 2] = tiff.get(at..at + 2)?.try_into().ok()?;
        Some(if little {
            u16::from_le_bytes(s)
        } else {
            u16::from_be_bytes(s)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let s: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(s)
        } else {
            u32::from_be_bytes(s)
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd)?);
    (0..count).find_map(|n| {
        let at = ifd + 2 + n * 12;
        (u16_at(at)? == 0x0112).then(|| u16_at(at + 8)).flatten()
    })
}

/// An APP1 segment holding only an orientation.
fn orientation_app1(o: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II\x2a\x00");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    // Orientation, SHORT, one value, in place.
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&o.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let len = (2 + 6 + tiff.len()) as u16;
    let mut seg = vec![0xFF, 0xE1];
    seg.extend_from_slice(&len.to_be_bytes());
    seg.extend_from_slice(b"Exif\0\0");
    seg.extend_from_slice(&tiff);
    seg
}

/// A PNG: every chunk but the EXIF and text ones (XMP travels in iTXt) and the time of the
/// last change, up to IEND.
fn png(b: &[u8]) -> Result<Vec<u8>, PhotoError> {
    let bad = |why: &str| damaged(PhotoKind::Png, why);
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(b.get(..8).ok_or_else(|| bad("it is cut short"))?);
    let mut i = 8;
    loop {
        let head = b.get(i..i + 8).ok_or_else(|| bad("it ends before IEND"))?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = &head[4..8];
        let end = i
            .checked_add(12)
            .and_then(|x| x.checked_add(len))
            .filter(|end| *end <= b.len())
            .ok_or_else(|| bad("a chunk runs past the end"))?;
        if !matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME") {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
        if kind == b"IEND" {
            return Ok(out);
        }
    }
}

/// A WebP: every chunk but EXIF and XMP, the extended header's flags for them cleared and the
/// file's length written again.
fn webp(b: &[u8]) -> Result<Vec<u8>, PhotoError> {
    let bad = |why: &str| damaged(PhotoKind::Webp, why);
    let declared = b
        .get(4..8)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
        .ok_or_else(|| bad("it is cut short"))?;
    let total = declared
        .checked_add(8)
        .filter(|t| *t <= b.len())
        .ok_or_else(|| bad("it is shorter than it says"))?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    let mut i = 12;
    while i < total {
        let head = b.get(i..i + 8).ok_or_else(|| bad("a chunk is cut short"))?;
        let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let end = i
            .checked_add(8)
            .and_then(|x| x.checked_add(size + (size & 1)))
            .filter(|end| *end <= total)
            .ok_or_else(|| bad("a chunk runs past the end"))?;
        match &head[0..4] {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                let mut chunk = b[i..end].to_vec();
                if let Some(flags) = chunk.get_mut(8) {
                    *flags &= !(0x08 | 0x04);
                }
                out.extend_from_slice(&chunk);
            }
            _ => out.extend_from_slice(&b[i..end]),
        }
        i = end;
    }
    let len = u32::try_from(out.len() - 8).map_err(|_| bad("it is too long"))?;
    out[4..8].copy_from_slice(&len.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::strip_metadata;
    use crate::photos::{samples, taken, PhotoKind};

    const WHERE: (f64, f64) = (28.5537, 112.3551);

    #[test]
    fn the_public_copy_of_each_kind_keeps_the_picture_and_loses_the_place() {
        for (kind, photo) in [
            (
                PhotoKind::Jpeg,
                samples::with_exif(PhotoKind::Jpeg, WHERE, 1),
            ),
            (PhotoKind::Png, samples::with_exif(PhotoKind::Png, WHERE, 1)),
            (
                PhotoKind::Webp,
                samples::with_exif(PhotoKind::Webp, WHERE, 1),
            ),
        ] {
            let read = taken(&photo);
            let (lat, long) = read.place.unwrap_or_else(|| panic!("{kind:?}: {read:?}"));
            assert!((lat - WHERE.0).abs() < 1e-4 && (long - WHERE.1).abs() < 1e-4);
            let public = strip_metadata(kind, &photo).unwrap();
            assert_eq!(taken(&public).place, None, "{kind:?}");
            assert_eq!(taken(&public).at, None, "{kind:?}");
            // The same picture, pixel for pixel.
            let before = image::load_from_memory(&photo).unwrap().to_rgb8();
            let after = image::load_from_memory(&public).unwrap().to_rgb8();
            assert_eq!(before, after, "{kind:?}");
            assert!(contains(&photo, samples::TAKEN.as_bytes()), "{kind:?}");
            assert!(!contains(&public, samples::TAKEN.as_bytes()), "{kind:?}");
        }
    }

    #[test]
    fn a_jpeg_keeps_its_orientation_and_loses_what_phones_append() {
        let mut photo = samples::with_exif(PhotoKind::Jpeg, WHERE, 6);
        // A second picture after the first's end, with its own EXIF (as phones append).
        let appended = samples::with_exif(PhotoKind::Jpeg, WHERE, 1);
        photo.extend_from_slice(&appended);
        let public = strip_metadata(PhotoKind::Jpeg, &photo).unwrap();
        assert_eq!(taken(&public).place, None);
        assert_eq!(taken(&public).orientation, Some(6));
        assert!(public.len() < photo.len() - appended.len());
    }

    #[test]
    fn damaged_files_are_refused_not_passed_on() {
        let photo = samples::with_exif(PhotoKind::Jpeg, WHERE, 1);
        for cut in [3, 10, photo.len() / 2, photo.len() - 2] {
            assert!(
                strip_metadata(PhotoKind::Jpeg, &photo[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let png = samples::png(8, 8);
        assert!(strip_metadata(PhotoKind::Png, &png[..png.len() - 5]).is_err());
        let webp = samples::webp(8, 8);
        assert!(strip_metadata(PhotoKind::Webp, &webp[..webp.len() - 3]).is_err());
        let mut lying = webp.clone();
        lying[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(strip_metadata(PhotoKind::Webp, &lying).is_err());
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }
}
