//! What the status shows of an HA cluster's servers: each server's presence as etcd tells it
//! ([`view`]) and the status lines built from it ([`lines`]). Joining the cluster is the
//! daemon's (clp-engine's `membership`, over clp-cluster); a one-server configuration never
//! needs any of it.

pub mod lines;
pub mod view;

pub use lines::servers_view;
