//! End-to-end tests: the real binaries in a temporary `CLP_ROOT`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod clpstat_layouts;
mod commands;
mod configuration;
mod lifecycle;
mod monitor_diskw;
mod monitor_genw;
mod monitor_psw;
mod recovery;
mod scripts;
mod userw;
