//! What the operator's calls answer: the consistency check.

use serde::{Deserialize, Serialize};

/// What the consistency check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsistencyReport {
    /// The sequence number the store was checked at.
    pub seq: u64,
    /// How many entries, counters, records and names were compared.
    pub compared: u64,
    /// Whether everything derived agrees with the records and the log.
    pub clean: bool,
    /// How many differences there were.
    pub differences: u64,
    /// The differences, the first thousand.
    pub listed: Vec<Difference>,
    /// Whether the derived parts were written again from the records and the log.
    pub repaired: bool,
}

/// One thing derived that does not agree with the records and the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Difference {
    /// `index`, `counter`, `record`, `name` or `series`.
    pub part: String,
    /// What differs, in words.
    pub what: String,
}
