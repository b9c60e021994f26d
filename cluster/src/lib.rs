//! clp-cluster: the HA cluster's layer on etcd. One server needs none of it; with more than
//! one server in the configuration, each clppm joins the cluster here.
//!
//! - [`Membership`]: this server's presence as an etcd lease (its heartbeat: the lease's TTL
//!   is the heartbeat timeout, renewed every heartbeat interval) and a key under it; the
//!   other servers' keys watched. Its [`View`] says who is Online or Offline — or, while
//!   etcd cannot be reached, that nobody's state is known. Nothing is decided by a vote of
//!   clp's own: etcd's leases and its quorum are the only judges.
//! - [`ownership`]: who runs each group: an owner key taken only by a compare-and-set on
//!   absence under the owner's lease, its `create_revision` the fencing token; the owners
//!   watched ([`Owners`]).
//! - [`alert_sync`]: every server's alerts readable on any server (the original's alert sync).
//! - [`config_sync`]: the cluster's configuration, all or nothing: proposed by
//!   `clpcfctrl --push`, checked by every Online server, made active by one compare-and-set.
//! - [`moving`]: an operator's move of a group, as an intent in etcd that the owner and
//!   the destination carry out.
//! - [`requests`]: the request channel: a command's `-h HOST` carried to another server's
//!   clppm through etcd, and each clppm taking the requests to it.
//! - [`keys`]: where everything lives in etcd; [`endpoints`]: which member to talk to.
//! - [`tls`]: TLS to etcd from `[etcd]`'s PEM files.
//! - [`leader_placement`]: etcd's leader kept on the witness, off the servers.
//! - [`lease_reaper`]: a silent peer's lease revoked as soon as it surely ran out.
#![warn(missing_docs)]

pub mod alert_sync;
pub mod config_sync;
pub mod endpoints;
pub mod keys;
pub mod leader_placement;
pub mod lease_reaper;
mod membership;
pub mod moving;
pub mod ownership;
pub mod requests;
mod rounds;
pub mod tls;

pub use clp_core::membership::view::{Presence, View};
pub use etcd_client::{Client, PutOptions};
pub use membership::{Change, LeaseDeadline, Membership, Revoked, Session, Settings, revoke_lease};
pub use ownership::{Claim, Owner, OwnerEvent, Owners, OwnersView};
pub use requests::{Channel, Requests};
