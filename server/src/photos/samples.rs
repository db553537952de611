//! Photos for tests: pictures made here, and EXIF written into them as cameras write it.

use image::{ImageEncoder, RgbImage};

use super::PhotoKind;

/// When the samples with EXIF were taken, as EXIF writes it.
pub const TAKEN: &str = "2026:11:30 08:15:00";

fn picture(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8, 90])
    })
}

/// A JPEG of `w` × `h`.
pub fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&picture(w, h))
        .unwrap();
    out
}

/// A PNG of `w` × `h`.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(picture(w, h).as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// A (lossless) WebP of `w` × `h`.
pub fn webp(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .write_image(picture(w, h).as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// A PNG that claims `w` × `h` pixels and holds none.
pub fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    out.extend_from_slice(&png_chunk(b"IHDR", &ihdr));
    out.extend_from_slice(&png_chunk(b"IEND", &[]));
    out
}

/// A landscape photo of `kind` whose EXIF says it was taken at `place` at [`TAKEN`], to be
/// shown turned by `orientation`.
pub fn with_exif(kind: PhotoKind, place: (f64, f64), orientation: u16) -> Vec<u8> {
    let tiff = tiff(place, orientation);
    let (w, h) = (96, 64);
    match kind {
        PhotoKind::Jpeg => {
            let mut photo = jpeg(w, h);
            let mut app1 = vec![0xFF, 0xE1];
            app1.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
            app1.extend_from_slice(b"Exif\0\0");
            app1.extend_from_slice(&tiff);
            photo.splice(2..2, app1);
            photo
        }
        PhotoKind::Png => {
            let mut photo = png(w, h);
            // After the header (8 bytes of signature, 25 of IHDR).
            photo.splice(33..33, png_chunk(b"eXIf", &tiff));
            photo
        }
        PhotoKind::Webp => {
            let simple = webp(w, h);
            let mut out = b"RIFF\0\0\0\0WEBP".to_vec();
            let mut vp8x = vec![0x08, 0, 0, 0];
            vp8x.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
            vp8x.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
            out.extend_from_slice(&riff_chunk(b"VP8X", &vp8x));
            out.extend_from_slice(&simple[12..]);
            out.extend_from_slice(&riff_chunk(b"EXIF", &tiff));
            let len = (out.len() - 8) as u32;
            out[4..8].copy_from_slice(&len.to_le_bytes());
            out
        }
    }
}

/// EXIF as a little-endian TIFF structure: IFD0 (orientation, pointers), the EXIF IFD (when
/// taken) and the GPS IFD (where).
fn tiff((lat, long): (f64, f64), orientation: u16) -> Vec<u8> {
    const IFD0: u32 = 8;
    const EXIF_IFD: u32 = IFD0 + 2 + 3 * 12 + 4;
    const GPS_IFD: u32 = EXIF_IFD + 2 + 12 + 4;
    const DATA: u32 = GPS_IFD + 2 + 4 * 12 + 4;
    let mut t = b"II\x2a\x00".to_vec();
    t.extend_from_slice(&IFD0.to_le_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&typ.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value);
    };
    let (short, long_t, ascii, rational) = (3u16, 4u16, 2u16, 5u16);
    // IFD0.
    t.extend_from_slice(&3u16.to_le_bytes());
    let o = orientation.to_le_bytes();
    entry(&mut t, 0x0112, short, 1, [o[0], o[1], 0, 0]);
    entry(&mut t, 0x8769, long_t, 1, EXIF_IFD.to_le_bytes());
    entry(&mut t, 0x8825, long_t, 1, GPS_IFD.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    // The EXIF IFD: when, 20 bytes with its NUL.
    t.extend_from_slice(&1u16.to_le_bytes());
    entry(&mut t, 0x9003, ascii, 20, DATA.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    // The GPS IFD.
    let lat_at = DATA + 20;
    let long_at = lat_at + 24;
    t.extend_from_slice(&4u16.to_le_bytes());
    entry(
        &mut t,
        0x0001,
        ascii,
        2,
        [if lat < 0.0 { b'S' } else { b'N' }, 0, 0, 0],
    );
    entry(&mut t, 0x0002, rational, 3, lat_at.to_le_bytes());
    entry(
        &mut t,
        0x0003,
        ascii,
        2,
        [if long < 0.0 { b'W' } else { b'E' }, 0, 0, 0],
    );
    entry(&mut t, 0x0004, rational, 3, long_at.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), DATA as usize);
    t.extend_from_slice(TAKEN.as_bytes());
    t.push(0);
    for v in [lat.abs(), long.abs()] {
        let d = v.trunc();
        let m = ((v - d) * 60.0).trunc();
        let s = ((v - d) * 60.0 - m) * 60.0;
        for (num, den) in [
            (d as u32, 1u32),
            (m as u32, 1),
            ((s * 10_000.0).round() as u32, 10_000),
        ] {
            t.extend_from_slice(&num.to_le_bytes());
            t.extend_from_slice(&den.to_le_bytes());
        }
    }
    t
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    c.extend_from_slice(&crc32(&c[4..]).to_be_bytes());
    c
}

fn riff_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = kind.to_vec();
    c.extend_from_slice(&(data.len() as u32).to_le_bytes());
    c.extend_from_slice(data);
    if data.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// PNG's CRC-32 (ISO 3309), bit by bit: tests make a few chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
