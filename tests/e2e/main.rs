//! End-to-end tests: the real binaries in a temporary `CLP_ROOT`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod app_servers;
mod harness;

mod alert_mail;
mod clp_ml;
mod clp_mlftp;
mod clp_mltool;
mod clpcfctrl;
mod clplogcc;
mod clpstat_layouts;
mod commands;
mod completions;
mod configuration;
mod installer;
mod licenses;
mod lifecycle;
mod monitor_diskw;
mod monitor_events;
mod monitor_ftpw;
mod monitor_genw;
mod monitor_httpw;
mod monitor_ipw;
mod monitor_miiw;
mod monitor_psqlw;
mod monitor_psw;
mod monitor_smtpw;
mod monitor_tcpw;
mod netns;
mod protocol;
mod recovery;
mod scripts;
mod userw;
mod webmgr;
mod webmgr_browser;
mod webmgr_http;
