//! Keeps etcd's leader on the witness. When the member that leads runs on a server and that
//! server fails (link cut, crash), the others first elect a new leader, and the new leader
//! extends every lease by an election timeout: the failed server's groups wait for that too.
//! With the leader on the witness, which runs no group, a server's failure costs no election.
//!
//! Only the clppm whose own member leads moves the leadership (etcd takes `MoveLeader` only
//! from the leader), so two servers never race for it: a clppm talking to another server's
//! member (its own did not answer when it connected) leaves that member to its server. A
//! learner is never chosen, and a refused move is tried again at the next look, then less
//! and less often ([`pause_after`]).

use std::time::Duration;

use etcd_client::{Client, Member};
use tokio::sync::watch;

use crate::Session;

/// How often this server looks at who leads.
pub const LOOK_EVERY: Duration = Duration::from_secs(3);

/// The longest pause between two tries while moves keep failing.
pub const LONGEST_PAUSE: Duration = Duration::from_secs(30);

/// The pause added to the next look after `failures` moves in a row failed: none after the
/// first (a transfer already under way, a leader just elected), then doubling from one look
/// up to [`LONGEST_PAUSE`] (a witness that is down).
pub fn pause_after(failures: u32) -> Duration {
    match failures {
        0 | 1 => Duration::ZERO,
        n => LOOK_EVERY
            .saturating_mul(1 << (n - 2).min(8))
            .min(LONGEST_PAUSE),
    }
}

/// What a look needs to know of one etcd member.
#[derive(Debug, Clone)]
struct Seat {
    id: u64,
    learner: bool,
    client_urls: Vec<String>,
}

impl From<&Member> for Seat {
    fn from(member: &Member) -> Seat {
        Seat {
            id: member.id(),
            learner: member.is_learner(),
            client_urls: member.client_urls().to_vec(),
        }
    }
}

/// The member to hand the leadership to: the first voting member whose client URLs are on
/// none of the `server_hosts` (the witness), or `None` when every member is a server's or a
/// learner, or the witness has not started (no client URL yet).
fn witness_to_lead(seats: &[Seat], server_hosts: &[String]) -> Option<u64> {
    seats
        .iter()
        .find(|seat| is_witness(seat.learner, &seat.client_urls, server_hosts))
        .map(|seat| seat.id)
}

/// Whether a member with these client URLs is a voting member on a host that is no server's.
fn is_witness(learner: bool, client_urls: &[String], server_hosts: &[String]) -> bool {
    !learner
        && !client_urls.is_empty()
        && client_urls
            .iter()
            .all(|url| !server_hosts.contains(&crate::endpoints::host_of(url)))
}

/// Whether the member `id` runs on one of `hosts`: it is listed and one of its client URLs
/// is on one of them.
fn on_hosts(seats: &[Seat], id: u64, hosts: &[String]) -> bool {
    seats.iter().any(|seat| {
        seat.id == id
            && seat
                .client_urls
                .iter()
                .any(|url| hosts.contains(&crate::endpoints::host_of(url)))
    })
}

/// The witness to hand the leadership to when `leader` is the member `this` (the one the
/// client talks to, the only one that takes the move) and runs on this server; `None` when
/// another member leads, the leader is the witness or another server's member, or there is
/// no witness.
fn move_to(seats: &[Seat], leader: u64, this: u64, hosts: &Hosts) -> Option<u64> {
    if leader == 0 || leader != this {
        return None;
    }
    if !on_hosts(seats, leader, &hosts.servers) || !on_hosts(seats, leader, &hosts.local) {
        return None;
    }
    witness_to_lead(seats, &hosts.servers)
}

/// What one look decided.
#[derive(Debug, PartialEq, Eq)]
enum Look {
    /// Nothing to do (another member leads, or the leader is the witness, or there is none).
    Fine,
    /// The leadership went to the witness `to`.
    Moved { from: u64, to: u64 },
}

/// One look: when the member `client` talks to leads and runs on this server (one of
/// `local_hosts`), and a witness exists, the leadership is moved to the witness.
async fn look_once(client: &mut Client, hosts: &Hosts) -> Result<Look, String> {
    let status = client
        .status()
        .await
        .map_err(|error| format!("etcd did not say who leads: {error}"))?;
    let leader = status.leader();
    let this = status.header().map_or(0, |header| header.member_id());
    if leader == 0 || leader != this {
        return Ok(Look::Fine);
    }
    let listed = client
        .member_list()
        .await
        .map_err(|error| format!("etcd did not list its members: {error}"))?;
    let seats: Vec<Seat> = listed.members().iter().map(Seat::from).collect();
    let Some(witness) = move_to(&seats, leader, this, hosts) else {
        return Ok(Look::Fine);
    };
    client.move_leader(witness).await.map_err(|error| {
        format!("etcd's leader {leader:x} did not hand the leadership to the witness {witness:x}: {error}")
    })?;
    Ok(Look::Moved {
        from: leader,
        to: witness,
    })
}

/// The hosts a look tells members apart by.
#[derive(Debug, Clone)]
pub struct Hosts {
    /// Every server's names and addresses ([`crate::endpoints::server_hosts`]): a member
    /// on none of them is the witness.
    pub servers: Vec<String>,
    /// This server's ([`crate::endpoints::local_hosts`]): its own member is on one of them.
    pub local: Vec<String>,
}

/// Looks every [`LOOK_EVERY`] at who leads, through the current session's client, and moves
/// the leadership off this server's member to the witness (the voting member on no server's
/// host). Runs until the sessions' sender is dropped; spawn it and abort it to end it sooner.
pub async fn keep_leader_on_witness(sessions: watch::Receiver<Option<Session>>, hosts: Hosts) {
    let mut looks = crate::rounds::Looks::every(LOOK_EVERY, sessions);
    let mut failures = 0;
    while let Some(mut client) = looks.next().await {
        match look_once(&mut client, &hosts).await {
            Ok(look) => {
                failures = 0;
                if let Look::Moved { from, to } = look {
                    tracing::info!(
                        "etcd's leader was this server's member {from:x}: moved to the witness {to:x} (a server's failure then costs no election)"
                    );
                }
            }
            Err(error) => {
                failures += 1;
                let pause = pause_after(failures);
                tracing::warn!("{error}; tried again in {:?}", pause + LOOK_EVERY);
                tokio::time::sleep(pause).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Hosts, LONGEST_PAUSE, LOOK_EVERY, Seat, is_witness, move_to, pause_after};
    use std::time::Duration;

    #[test]
    fn a_failed_move_is_tried_at_the_next_look_then_less_and_less_often() {
        assert_eq!(pause_after(1), Duration::ZERO);
        assert_eq!(pause_after(2), LOOK_EVERY);
        assert_eq!(pause_after(3), LOOK_EVERY * 2);
        assert_eq!(pause_after(4), LOOK_EVERY * 4);
        assert_eq!(pause_after(5), LOOK_EVERY * 8);
        assert_eq!(pause_after(6), LONGEST_PAUSE);
        assert_eq!(pause_after(u32::MAX), LONGEST_PAUSE);
    }

    fn urls(list: &[&str]) -> Vec<String> {
        list.iter().map(|url| url.to_string()).collect()
    }

    #[test]
    fn the_witness_is_the_voting_member_on_no_servers_host() {
        let servers = urls(&["192.0.2.11", "192.0.2.12", "node1", "node2"]);
        assert!(is_witness(
            false,
            &urls(&["http://192.0.2.13:2379"]),
            &servers
        ));
        assert!(is_witness(
            false,
            &urls(&["https://[2001:db8::13]:2379"]),
            &servers
        ));
        assert!(!is_witness(
            false,
            &urls(&["http://192.0.2.12:2379"]),
            &servers
        ));
        assert!(!is_witness(false, &urls(&["http://NODE1:2379"]), &servers));
        // A member on a server's host under any of its URLs is that server's.
        assert!(!is_witness(
            false,
            &urls(&["http://192.0.2.13:2379", "http://192.0.2.11:2379"]),
            &servers
        ));
        // A learner cannot lead; a member not started has no client URL yet.
        assert!(!is_witness(
            true,
            &urls(&["http://192.0.2.13:2379"]),
            &servers
        ));
        assert!(!is_witness(false, &[], &servers));
    }

    #[test]
    fn only_the_leader_on_this_server_is_moved_and_only_to_the_witness() {
        let seat = |id, url: &str| Seat {
            id,
            learner: false,
            client_urls: urls(&[url]),
        };
        let seats = [
            seat(1, "http://192.0.2.11:2379"),
            seat(2, "http://192.0.2.12:2379"),
            seat(3, "http://192.0.2.13:2379"),
        ];
        let node1 = Hosts {
            servers: urls(&["192.0.2.11", "192.0.2.12", "node1", "node2"]),
            local: urls(&["127.0.0.1", "node1", "192.0.2.11"]),
        };
        // node1's member leads and node1 talks to it: to the witness.
        assert_eq!(move_to(&seats, 1, 1, &node1), Some(3));
        // node1 talks to node2's member (its own did not answer), which leads: node2's job.
        assert_eq!(move_to(&seats, 2, 2, &node1), None);
        // The member node1 talks to does not lead: etcd would refuse the move.
        assert_eq!(move_to(&seats, 1, 2, &node1), None);
        // The witness leads, or nobody does.
        assert_eq!(move_to(&seats, 3, 3, &node1), None);
        assert_eq!(move_to(&seats, 0, 0, &node1), None);
        // No witness: nowhere to move.
        assert_eq!(move_to(&seats[..2], 1, 1, &node1), None);
    }
}
