//! The shaozi whistle server: an axum API over a sled store or a PostgreSQL database, with a
//! live event stream.
//!
//! [`start`] opens the store, starts the writer, the deadline sweeper and (optionally) the
//! demo city, and serves [`app`] until [`RunningServer::shutdown`]. This file only names the
//! parts: the routes are `router`, starting and stopping `start`, opening a store `open`,
//! serving connections `serve`, the clock's sweep `sweep`, what handlers share `state`.

pub mod auth;
pub mod backup;
pub mod check;
pub mod clock;
pub mod config;
mod conn_deadlines;
pub mod copy;
pub mod demo;
pub mod error;
pub mod extract;
pub mod follow;
pub mod guard;
pub mod metrics;
pub mod notify;
mod open;
pub mod open311;
pub mod openapi;
pub mod pg;
pub mod photos;
pub mod priority;
pub mod readiness;
pub mod reporter;
mod router;
pub mod routes;
pub mod search;
mod serve;
mod start;
mod state;
pub mod storage;
pub mod store;
mod sweep;
pub mod tls;
pub mod writer;

pub use open::{open_engine_blocking, open_existing_blocking, OpenedEngine};
pub use router::app;
pub use routes::api_routes;
pub use start::{start, Config, RunningServer, StartError};
pub use state::{AppState, Shared};
