//! The dashboard's state ([`App`]) and its one [`update`]. The state holds each screen's own
//! state beside what every screen reads; `update` routes what happens to the screen or prompt
//! it is for and applies what they answer (`answer`); `route` is the one place that chooses a
//! screen.

mod answer;
pub(crate) mod route;
mod state;
mod update;

pub use crate::message::{Conn, Draft, Effect, Flash, Msg, View};
pub use crate::refusal::Refusal;
pub use crate::steps::{reject_body, split_staff};
pub(crate) use answer::answer;
pub use shaozi_shared::api::Me;
pub use state::{App, WEBHOOKS_EVERY_SECS};
pub use update::update;
