//! The wire: every body and answer of the HTTP API (`/api/v1`), one declaration each, used by
//! the server to answer and by the dashboard to ask. Built on [`crate::domain`]; nothing in the
//! domain uses it.

mod answers;
mod bodies;
mod maintenance;
mod patterns;
mod steps;
mod templates;
mod webhooks;

pub use crate::whistle::Reporter;
pub use answers::*;
pub use bodies::*;
pub use maintenance::*;
pub use patterns::*;
pub use steps::*;
pub use templates::*;
pub use webhooks::*;
