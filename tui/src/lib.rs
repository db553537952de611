//! shaozi's terminal dashboard: a pure `update` over [`app::App`], a pure `draw`, and a
//! runtime that carries out effects against the server.

mod actions;
pub mod app;
pub mod batch;
pub mod command;
pub mod config;
pub mod context;
pub mod directory;
pub mod driver;
pub mod editor;
pub mod export;
pub mod filing;
pub mod filter;
pub mod i18n;
pub mod incoming;
pub mod keys;
pub mod list;
pub mod message;
pub mod middle;
pub mod model;
pub mod net;
pub mod notice;
pub mod prompt;
pub mod refusal;
pub mod replies;
pub mod run;
pub mod screens;
pub mod steps;
pub mod term;
pub mod text;
pub mod view;
pub mod words;
