//! What a photo's file says of where and when it was taken (EXIF), kept for staff: a fix's
//! photo taken on the spot and at the time is evidence; one taken elsewhere is a question.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use exif::{In, Reader, Tag, Value};

/// Where and when, as the photo's file says (any of it may be missing).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Taken {
    /// Latitude and longitude, in degrees (south and west negative).
    pub place: Option<(f64, f64)>,
    /// When, on the camera's clock.
    pub at: Option<NaiveDateTime>,
    /// The camera's offset from UTC, when the file says it.
    pub offset: Option<FixedOffset>,
    /// Which way up (EXIF orientation 1–8).
    pub orientation: Option<u16>,
}

/// What `bytes` say of where and when; nothing for a file without EXIF or with EXIF that does
/// not read (a photo is not refused for its metadata).
pub fn taken(bytes: &[u8]) -> Taken {
    let Ok(exif) = Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)) else {
        return Taken::default();
    };
    let field = |tag: Tag| exif.get_field(tag, In::PRIMARY).map(|f| &f.value);
    let degrees = |tag: Tag, negative_ref: u8, ref_tag: Tag| -> Option<f64> {
        let Some(Value::Rational(parts)) = field(tag) else {
            return None;
        };
        let [d, m, s] = parts.get(0..3)? else {
            return None;
        };
        let value = d.to_f64() + m.to_f64() / 60.0 + s.to_f64() / 3600.0;
        let negative = matches!(field(ref_tag), Some(Value::Ascii(v))
            if v.first().and_then(|r| r.first()) == Some(&negative_ref));
        value
            .is_finite()
            .then_some(if negative { -value } else { value })
    };
    let lat =
        degrees(Tag::GPSLatitude, b'S', Tag::GPSLatitudeRef).filter(|v| (-90.0..=90.0).contains(v));
    let long = degrees(Tag::GPSLongitude, b'W', Tag::GPSLongitudeRef)
        .filter(|v| (-180.0..=180.0).contains(v));
    let ascii = |tag: Tag| match field(tag) {
        Some(Value::Ascii(v)) => v.first().cloned(),
        _ => None,
    };
    let at = ascii(Tag::DateTimeOriginal)
        .or_else(|| ascii(Tag::DateTime))
        .and_then(|s| exif::DateTime::from_ascii(&s).ok())
        .and_then(|d| {
            let date = NaiveDate::from_ymd_opt(i32::from(d.year), d.month.into(), d.day.into())?;
            let time = NaiveTime::from_hms_opt(d.hour.into(), d.minute.into(), d.second.into())?;
            Some(date.and_time(time))
        });
    let offset = ascii(Tag::OffsetTimeOriginal)
        .or_else(|| ascii(Tag::OffsetTime))
        .and_then(|s| {
            let s = std::str::from_utf8(&s).ok()?;
            let sign = match s.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let h: i32 = s.get(1..3)?.parse().ok()?;
            let m: i32 = s.get(4..6)?.parse().ok()?;
            FixedOffset::east_opt(sign * (h * 3600 + m * 60))
        });
    let orientation = match field(Tag::Orientation) {
        Some(Value::Short(v)) => v.first().copied(),
        _ => None,
    };
    Taken {
        place: lat.zip(long),
        at,
        offset,
        orientation,
    }
}

#[cfg(test)]
mod tests {
    use super::taken;
    use crate::photos::{samples, PhotoKind};

    #[test]
    fn place_time_and_orientation_are_read_from_each_kind() {
        for kind in [PhotoKind::Jpeg, PhotoKind::Png, PhotoKind::Webp] {
            let t = taken(&samples::with_exif(kind, (-33.8568, 151.2153), 3));
            let (lat, long) = t.place.unwrap_or_else(|| panic!("{kind:?}: {t:?}"));
            assert!((lat + 33.8568).abs() < 1e-4, "{kind:?} {lat}");
            assert!((long - 151.2153).abs() < 1e-4, "{kind:?} {long}");
            assert_eq!(
                t.at.map(|a| a.format("%Y:%m:%d %H:%M:%S").to_string()),
                Some(samples::TAKEN.to_string()),
                "{kind:?}"
            );
            assert_eq!(t.orientation, Some(3), "{kind:?}");
        }
        // Without EXIF, or not an image at all: nothing, and no error.
        assert_eq!(taken(&samples::jpeg(8, 8)), Default::default());
        assert_eq!(taken(b"not a photo"), Default::default());
    }
}
