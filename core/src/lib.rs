//! clp-core: the whole domain of clp, an open reimplementation of CLUSTERPRO X
//! SingleServerSafe: configuration, the store, the control protocol, the supervisor engine,
//! monitors, alerts and OS actions. Nothing here prints to a terminal; the commands in
//! `bins/` parse, call this crate and render.
#![warn(missing_docs)]

pub mod alert;
pub mod alert_sink;
pub mod client;
pub mod clp_ml_services;
pub mod config;
pub mod control;
pub mod daemon;
pub mod diagnose;
pub mod engine;
pub mod escape;
pub mod exit_code;
pub mod ftp;
pub mod generations;
pub mod ipc;
pub mod license;
pub mod local_server;
pub mod logcollect;
pub mod logging;
pub mod mail;
pub mod monitor;
pub mod os_action;
pub mod paths;
pub mod process;
/// The old name of [`client::clppm_process`], kept while callers outside this branch (the
/// WebManager) move to the new one.
pub use client::clppm_process as service;
pub mod startup_output;
pub mod status;
pub mod store;
mod suggest;
pub mod tls;
pub mod webmgr;
