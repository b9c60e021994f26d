//! End-to-end tests: the real binaries in a temporary `CLP_ROOT`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod clpcfctrl;
mod clplogcc;
mod clpstat_layouts;
mod commands;
mod completions;
mod configuration;
mod licenses;
mod lifecycle;
mod monitor_httpw;
mod monitor_tcpw;
mod protocol;
mod recovery;
mod scripts;
mod userw;
