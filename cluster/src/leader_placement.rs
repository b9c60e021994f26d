//! Keeps etcd's leader on the witness. When the member that leads runs on a server and that
//! server fails (link cut, crash), the others first elect a new leader, and the new leader
//! extends every lease by an election timeout: the failed server's groups wait for that too.
//! With the leader on the witness, which runs no group, a server's failure costs no election.
//!
//! Only the clppm whose own member leads moves the leadership (etcd takes `MoveLeader` only
//! from the leader), so two servers never race for it; a learner is never chosen, and a
//! refused move is tried again at the next look, then less and less often ([`pause_after`]).

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

/// The member to hand the leadership to: the first voting member whose client URLs are on
/// none of the `server_hosts` (the witness), or `None` when every member is a server's or a
/// learner, or the witness has not started (no client URL yet).
pub fn witness_to_lead(members: &[Member], server_hosts: &[String]) -> Option<u64> {
    members
        .iter()
        .find(|member| is_witness(member.is_learner(), member.client_urls(), server_hosts))
        .map(Member::id)
}

/// Whether a member with these client URLs is a voting member on a host that is no server's.
fn is_witness(learner: bool, client_urls: &[String], server_hosts: &[String]) -> bool {
    !learner
        && !client_urls.is_empty()
        && client_urls
            .iter()
            .all(|url| !server_hosts.contains(&crate::endpoints::host_of(url)))
}

/// Whether the member `id` runs on a server: it is listed and one of its client URLs is on
/// one of the `server_hosts`.
fn on_a_server(members: &[Member], id: u64, server_hosts: &[String]) -> bool {
    members.iter().any(|member| {
        member.id() == id
            && member
                .client_urls()
                .iter()
                .any(|url| server_hosts.contains(&crate::endpoints::host_of(url)))
    })
}

/// What one look decided.
#[derive(Debug, PartialEq, Eq)]
enum Look {
    /// Nothing to do (another member leads, or the leader is the witness, or there is none).
    Fine,
    /// The leadership went to the witness `to`.
    Moved { from: u64, to: u64 },
}

/// One look: when the member `client` talks to leads and runs on a server, and a witness
/// exists, the leadership is moved to the witness.
async fn look_once(client: &mut Client, server_hosts: &[String]) -> Result<Look, String> {
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
    let members = listed.members();
    if !on_a_server(members, leader, server_hosts) {
        return Ok(Look::Fine);
    }
    let Some(witness) = witness_to_lead(members, server_hosts) else {
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

/// Looks every [`LOOK_EVERY`] at who leads, through the current session's client, and moves
/// the leadership off this server's member to the witness ([`witness_to_lead`]). Runs until
/// the sessions' sender is dropped; spawn it and abort it to end it sooner.
pub async fn keep_leader_on_witness(
    sessions: watch::Receiver<Option<Session>>,
    server_hosts: Vec<String>,
) {
    let mut looks = crate::rounds::Looks::every(LOOK_EVERY, sessions);
    let mut failures = 0;
    while let Some(mut client) = looks.next().await {
        match look_once(&mut client, &server_hosts).await {
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
    use super::{LONGEST_PAUSE, LOOK_EVERY, is_witness, pause_after};
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
}
