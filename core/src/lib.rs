//! clp-core: the domain of clp, an open reimplementation of CLUSTERPRO X SingleServerSafe:
//! configuration, the store, the control protocol, status, monitors, alerts, OS actions and
//! the client library. The daemon's engine is `clp-engine`. Nothing here prints to a
//! terminal; the commands in `bins/` parse, call this crate and render.
#![warn(missing_docs)]

pub mod alert;
pub mod alert_sink;
pub mod bookkeeping;
pub mod boottime;
pub mod client;
pub mod clp_ml_services;
pub mod code_pages;
pub mod config;
pub mod diagnose;
pub mod duration_text;
pub mod escape;
pub mod exit_code;
pub mod generations;
pub mod ipc;
mod json_writer;
pub mod license;
pub mod local_server;
pub mod logcollect;
pub mod logging;
pub mod mail;
pub mod membership;
pub mod monitor;
pub mod os_action;
pub mod paths;
pub mod pid_lock;
pub mod process;
pub mod resource;
pub mod shared_generation;
pub mod startup_output;
pub mod status;
pub mod store;
mod suggest;
pub mod timings;
pub mod tls;
pub mod webmgr_launch;
