//! clp-engine: the daemon of clp (`clppm`): the supervisor engine (groups, resources, the
//! monitor scheduler, the recovery executor), its control socket and the process setup.
//! Everything a command shares with it (configuration, store, control protocol, status,
//! alerts, monitors) lives in `clp-core`.
#![warn(missing_docs)]

pub mod cluster_config;
pub mod control;
pub mod daemon;
pub mod engine;
pub mod keeper;
pub mod membership;
