//! clp-core: the whole domain of clp, an open reimplementation of CLUSTERPRO X
//! SingleServerSafe: configuration, the store, the control protocol, the supervisor engine,
//! monitors, alerts and OS actions. Nothing here prints to a terminal; the commands in
//! `bins/` parse, call this crate and render.
#![warn(missing_docs)]

pub mod alert;
pub mod alert_sink;
pub mod cfctrl;
pub mod client;
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
pub mod membership;
pub mod monitor;
pub mod os_action;
pub mod paths;
pub mod process;
pub mod service;
pub mod services;
pub mod startup_output;
pub mod status;
pub mod store;
mod suggest;
pub mod tls;
pub mod webmgr;
