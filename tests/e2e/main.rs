//! End-to-end tests: the real binaries in a temporary `CLP_ROOT`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod app_servers;
mod harness;

mod clpstat_layouts;
mod commands;
mod configuration;
mod lifecycle;
mod monitor_ftpw;
mod monitor_psqlw;
mod monitor_smtpw;
mod recovery;
mod scripts;
mod userw;
