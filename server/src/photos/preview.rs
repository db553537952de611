//! A photo's preview: made once, at upload, small enough for a list and for a terminal's
//! half-block picture over a weak link.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use super::{PhotoError, PhotoKind};

/// The longest edge of a preview, in pixels.
pub const PREVIEW_EDGE: u32 = 320;

/// The most pixels a photo may have (a phone's 50-megapixel photo is 8160 × 6120); more is
/// refused rather than decoded (a small file can claim an enormous picture).
const MOST_PIXELS: u64 = 64_000_000;

/// A JPEG preview of `bytes` (of `kind`), the right way up, at most [`PREVIEW_EDGE`] on its
/// longest edge; with the photo's own width and height.
pub fn preview(kind: PhotoKind, bytes: &[u8]) -> Result<(Vec<u8>, (u32, u32)), PhotoError> {
    let damaged = |e: image::ImageError| PhotoError::Damaged(kind.name(), e.to_string());
    let format = match kind {
        PhotoKind::Jpeg => image::ImageFormat::Jpeg,
        PhotoKind::Png => image::ImageFormat::Png,
        PhotoKind::Webp => image::ImageFormat::WebP,
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(MOST_PIXELS * 4);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(damaged)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MOST_PIXELS {
        return Err(PhotoError::TooLarge(format!(
            "{width} × {height} pixels (at most {MOST_PIXELS})"
        )));
    }
    let orientation = decoder.orientation().map_err(damaged)?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(damaged)?;
    picture.apply_orientation(orientation);
    let small = picture.thumbnail(PREVIEW_EDGE, PREVIEW_EDGE).to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&small)
        .map_err(damaged)?;
    Ok((out, (width, height)))
}

#[cfg(test)]
mod tests {
    use super::{preview, PREVIEW_EDGE};
    use crate::photos::{samples, sniff, taken, PhotoError, PhotoKind};

    #[test]
    fn a_preview_is_a_small_jpeg_without_metadata() {
        for (kind, photo) in [
            (PhotoKind::Jpeg, samples::jpeg(1200, 800)),
            (PhotoKind::Png, samples::png(400, 900)),
            (PhotoKind::Webp, samples::webp(640, 640)),
        ] {
            let (small, size) = preview(kind, &photo).unwrap();
            assert_eq!(sniff(&small), Some(PhotoKind::Jpeg));
            let read = image::load_from_memory(&small).unwrap();
            assert_eq!(read.width().max(read.height()), PREVIEW_EDGE, "{kind:?}");
            let photo_image = image::load_from_memory(&photo).unwrap();
            assert_eq!(size, (photo_image.width(), photo_image.height()));
            // Landscape stays landscape, portrait portrait.
            assert_eq!(read.width() > read.height(), size.0 > size.1, "{kind:?}");
            assert_eq!(taken(&small), Default::default());
        }
    }

    #[test]
    fn a_preview_stands_the_right_way_up() {
        // A landscape picture whose EXIF says "turn 90°" is a portrait preview.
        let photo = samples::with_exif(PhotoKind::Jpeg, (28.0, 112.0), 6);
        let (small, _) = preview(PhotoKind::Jpeg, &photo).unwrap();
        let read = image::load_from_memory(&small).unwrap();
        let original = image::load_from_memory(&photo).unwrap();
        assert!(original.width() > original.height());
        assert!(read.width() < read.height());
    }

    #[test]
    fn broken_and_enormous_pictures_are_refused() {
        let photo = samples::jpeg(64, 64);
        assert!(matches!(
            preview(PhotoKind::Jpeg, &photo[..photo.len() / 3]),
            Err(PhotoError::Damaged(..))
        ));
        assert!(preview(PhotoKind::Png, &photo).is_err());
        // A PNG header claiming 20000 × 20000 pixels, a few bytes long.
        let huge = samples::png_claiming(20_000, 20_000);
        assert!(preview(PhotoKind::Png, &huge).is_err());
    }
}
