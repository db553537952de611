//! The real binary in a real terminal: tmux runs `shaozi` against a real server (or `shaozi
//! demo`), keys go in, the screen is read. CI installs tmux; without it these tests fail and
//! say so.

// Test code: a failed expectation is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// The embedded server is the demo feature's.
#![cfg(feature = "demo")]

// The receiver the workspace's end-to-end tests use: a real HTTP server on 127.0.0.1.
#[allow(dead_code)]
#[path = "../../../tests/src/receiver.rs"]
mod receiver;

// A CA and a server certificate made inside the test, as the server's own TLS test makes them.
#[allow(dead_code)]
#[path = "../../../tests/src/test_ca.rs"]
mod test_ca;

mod cases;
mod duplicates;
mod filing;
mod joint;
mod terminal;
