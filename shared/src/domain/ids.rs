//! Short, typable identifiers: `W1042` for a whistle, `M7` for a micro-wish, and so on.
//!
//! On the wire an id is a string with a one-letter prefix; in the store it is the number,
//! big-endian, so keys sort in id order.

use std::fmt;
use std::str::FromStr;

/// An id string that does not have the expected prefix and number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a {kind} id (expected {prefix} followed by digits, e.g. {prefix}12)")]
pub struct IdParseError {
    /// What was given.
    pub input: String,
    /// The kind of id expected.
    pub kind: &'static str,
    /// The expected prefix letter.
    pub prefix: char,
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        impl $name {
            /// The one-letter prefix of this kind of id.
            pub const PREFIX: char = $prefix;
            /// The kind of record, in words.
            pub const KIND: &'static str = $kind;
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", $prefix, self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let err = || IdParseError { input: s.to_string(), kind: $kind, prefix: $prefix };
                let rest = s
                    .strip_prefix($prefix)
                    .or_else(|| s.strip_prefix($prefix.to_ascii_lowercase()))
                    .ok_or_else(err)?;
                if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err());
                }
                rest.parse().map($name).map_err(|_| err())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::schema::string_schema(
                    concat!("^", $prefix, "[0-9]+$"),
                    concat!("A ", $kind, " id: ", $prefix, " and a number."),
                    concat!($prefix, "12"),
                )
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

id_type!(
    /// A whistle (case), e.g. `W1042`.
    WhistleId, 'W', "whistle"
);
id_type!(
    /// A micro-wish (微心愿), e.g. `M17`.
    WishId, 'M', "wish"
);
id_type!(
    /// A street office (街道), e.g. `S3`.
    StreetId, 'S', "street"
);
id_type!(
    /// A community (社区), e.g. `C12`.
    CommunityId, 'C', "community"
);
id_type!(
    /// A municipal department (市直单位), e.g. `D40`.
    DepartmentId, 'D', "department"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        assert_eq!("W1042".parse::<WhistleId>(), Ok(WhistleId(1042)));
        assert_eq!("w7".parse::<WhistleId>(), Ok(WhistleId(7)));
        assert_eq!(WhistleId(1042).to_string(), "W1042");
        for bad in [
            "",
            "W",
            "1042",
            "D12",
            "W-1",
            "W1 ",
            "W99999999999999999999999",
        ] {
            assert!(bad.parse::<WhistleId>().is_err(), "{bad:?} parsed");
        }
        let json = serde_json::to_string(&DepartmentId(40)).unwrap();
        assert_eq!(json, "\"D40\"");
        assert_eq!(
            serde_json::from_str::<DepartmentId>(&json).unwrap(),
            DepartmentId(40)
        );
        assert!(serde_json::from_str::<DepartmentId>("40").is_err());
    }
}
