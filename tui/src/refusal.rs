//! A server's refusal as the dashboard keeps it, to be worded (`words::refusal`).

/// A server refusal: its machine code and field (worded by [`crate::words::refusal`]), and its
/// own words for codes the dashboard does not know.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Refusal {
    /// HTTP status (0 when the server could not be reached).
    pub status: u16,
    /// The problem's detail (English).
    pub detail: String,
    /// The record as it is now, for a 412.
    pub current: Option<serde_json::Value>,
    /// The problem's machine code (`too_few_staff`, `not_allowed`…).
    pub code: Option<String>,
    /// The request field at fault.
    pub field: Option<String>,
    /// The record's status, for a step it does not allow.
    pub current_status: Option<String>,
}

impl Refusal {
    /// A refusal with only a status and words (a failure below the API: no connection, a
    /// proxy's page).
    pub fn plain(status: u16, detail: impl Into<String>) -> Refusal {
        Refusal {
            status,
            detail: detail.into(),
            ..Refusal::default()
        }
    }
}

/// The code of a refusal that is the server's certificate not being trusted.
pub const UNTRUSTED_CERTIFICATE: &str = "untrusted_certificate";
