//! The recovery ladder as a pure function: `decide(ladder, observation, policy, situation)`.
//!
//! No processes, no clocks, no I/O: the executor applies the [`Decision`]s. The ladder, as
//! the original product describes it:
//! 1. A failed check is retried on the next checks; after `retry` + 1 consecutive failures
//!    the monitor is in Error (rm 9).
//! 2. Recovery, one stage per error detection: reactivate the target (stop, then start with
//!    `CLP_EVENT=RECOVER`) up to `reactivation_threshold` times; then move the target's group
//!    to the next server up to `failover_threshold` times (only in an HA cluster with another
//!    server up: a single server has no standby); then the final action, once.
//! 3. When a check sees the target healthy again the monitor is Normal (rm 26) and the
//!    counters are reset, so an occasional fault is recovered every time while one that
//!    cannot be recovered reaches the final action.

use clp_core::config::{FinalAction, RecoveryPolicy, RecoveryTarget};
pub use clp_core::status::Ladder;
use clp_core::status::MonitorStatus;

/// What the executor reports to the ladder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// A check passed.
    Healthy,
    /// A check warned.
    Warned {
        /// The detail code.
        code: u32,
        /// What.
        detail: String,
    },
    /// A check failed (or the target's process exited).
    Failed {
        /// The detail code.
        code: u32,
        /// The detail text.
        detail: String,
    },
    /// The recovery step started by a [`Decision::Reactivate`] ended.
    RecoveryFinished {
        /// The target was stopped and started again.
        recovered: bool,
    },
}

/// What the executor knows of the world when it asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Situation {
    /// Whether the recovery target is active (the local server always is).
    pub target_active: bool,
    /// Recovery on monitor errors is disabled cluster-wide.
    pub recovery_disabled: bool,
    /// Another server may take the target's group (an HA cluster with another server up).
    pub can_fail_over: bool,
}

/// One thing the executor must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Log rm 9: the monitor is in Error.
    ErrorDetected {
        /// Detail code.
        code: u32,
        /// Detail text.
        detail: String,
    },
    /// Log rm 4: a warning.
    Warned {
        /// Detail code.
        code: u32,
        /// Detail text.
        detail: String,
    },
    /// Log rm 26: Error → Normal, counters reset.
    BackToNormal,
    /// Log rm 49: Warning → Normal.
    WarningCleared,
    /// Stop and start the target again (then report [`Observation::RecoveryFinished`]).
    Reactivate(RecoveryTarget),
    /// Move the target's group to the next server (rm 14, or rm 20 when it fails).
    FailOver(RecoveryTarget),
    /// Run the final action.
    FinalAction(FinalAction),
    /// Log rm 25: the target is not active, nothing is done.
    TargetInactive,
    /// Log rm 192: recovery is disabled cluster-wide.
    RecoveryDisabled,
    /// Save the ladder.
    Persist,
}

/// The ladder's next position and what to do, for one observation.
pub fn decide(
    ladder: &Ladder,
    observation: &Observation,
    retry: u32,
    policy: &RecoveryPolicy,
    situation: Situation,
) -> (Ladder, Vec<Decision>) {
    let mut next = ladder.clone();
    let mut decisions = Vec::new();
    let finished = matches!(observation, Observation::RecoveryFinished { .. });
    if ladder.recovering && !finished {
        return (next, decisions);
    }
    if !finished {
        // A check ran: whatever it found is what the monitor shows now.
        next.rechecking = false;
    }
    match observation {
        Observation::RecoveryFinished { recovered } => {
            next.recovering = false;
            next.rechecking = *recovered && next.status == MonitorStatus::Error;
        }
        Observation::Healthy => {
            next.consecutive_failures = 0;
            match ladder.status {
                MonitorStatus::Error => {
                    next.status = MonitorStatus::Normal;
                    next.reactivations = 0;
                    next.failovers = 0;
                    next.final_action_done = false;
                    next.last_detail = None;
                    decisions.push(Decision::BackToNormal);
                }
                MonitorStatus::Warning => {
                    next.status = MonitorStatus::Normal;
                    next.last_detail = None;
                    decisions.push(Decision::WarningCleared);
                }
                _ => {}
            }
        }
        Observation::Warned { code, detail } => {
            next.consecutive_failures = 0;
            // Error → Warning: the fault is over, so the counters reset as on rm 26.
            if ladder.status == MonitorStatus::Error {
                next.reactivations = 0;
                next.failovers = 0;
                next.final_action_done = false;
                decisions.push(Decision::BackToNormal);
            }
            if ladder.status != MonitorStatus::Warning {
                next.status = MonitorStatus::Warning;
                next.last_detail = Some(detail.clone());
                decisions.push(Decision::Warned {
                    code: *code,
                    detail: detail.clone(),
                });
            }
        }
        Observation::Failed { code, detail } => {
            let streak = ladder.consecutive_failures + 1;
            if streak <= retry {
                next.consecutive_failures = streak;
            } else {
                next.consecutive_failures = 0;
                next.status = MonitorStatus::Error;
                next.last_detail = Some(detail.clone());
                let step = recovery_step(&mut next, policy, situation);
                let acts = step.iter().any(|d| {
                    matches!(
                        d,
                        Decision::Reactivate(_) | Decision::FailOver(_) | Decision::FinalAction(_)
                    )
                });
                // A monitor that stays in Error with nothing left to try is silent: rm 9 is
                // logged when it enters Error and with every recovery step, not every check.
                if ladder.status != MonitorStatus::Error || acts {
                    decisions.push(Decision::ErrorDetected {
                        code: *code,
                        detail: detail.clone(),
                    });
                    decisions.extend(step);
                }
            }
        }
    }
    if next != *ladder {
        decisions.push(Decision::Persist);
    }
    (next, decisions)
}

/// The next rung of the ladder after an error detection.
fn recovery_step(
    next: &mut Ladder,
    policy: &RecoveryPolicy,
    situation: Situation,
) -> Vec<Decision> {
    if situation.recovery_disabled {
        return vec![Decision::RecoveryDisabled];
    }
    if !situation.target_active {
        return vec![Decision::TargetInactive];
    }
    let can_reactivate = policy.target != RecoveryTarget::LocalServer;
    if can_reactivate && next.reactivations < policy.reactivation_threshold {
        next.reactivations += 1;
        next.recovering = true;
        return vec![Decision::Reactivate(policy.target.clone())];
    }
    // Failover: only where another server may take the group (never on one server).
    let has_group = policy.target != RecoveryTarget::LocalServer;
    if has_group && situation.can_fail_over && next.failovers < policy.failover_threshold {
        next.failovers += 1;
        return vec![Decision::FailOver(policy.target.clone())];
    }
    if !next.final_action_done {
        next.final_action_done = true;
        return vec![Decision::FinalAction(policy.final_action)];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(target: RecoveryTarget, threshold: u32, action: FinalAction) -> RecoveryPolicy {
        RecoveryPolicy {
            target,
            reactivation_threshold: threshold,
            failover_threshold: 1,
            final_action: action,
        }
    }

    const ACTIVE: Situation = Situation {
        target_active: true,
        recovery_disabled: false,
        can_fail_over: false,
    };

    fn failed() -> Observation {
        Observation::Failed {
            code: 11,
            detail: "gone".into(),
        }
    }

    /// Runs a script of observations and returns the decisions of each step (without
    /// Persist), finishing every reactivation at once.
    fn run(
        observations: &[Observation],
        retry: u32,
        policy: &RecoveryPolicy,
        situation: Situation,
    ) -> (Ladder, Vec<Vec<Decision>>) {
        let mut ladder = Ladder::default();
        let mut all = Vec::new();
        for observation in observations {
            let (next, decisions) = decide(&ladder, observation, retry, policy, situation);
            ladder = next;
            if ladder.recovering {
                ladder = decide(
                    &ladder,
                    &Observation::RecoveryFinished { recovered: true },
                    retry,
                    policy,
                    situation,
                )
                .0;
            }
            all.push(
                decisions
                    .into_iter()
                    .filter(|d| *d != Decision::Persist)
                    .collect(),
            );
        }
        (ladder, all)
    }

    #[test]
    fn a_target_that_cannot_come_back_reaches_the_final_action_once() {
        let target = RecoveryTarget::Resource("exec".into());
        let policy = policy(target.clone(), 2, FinalAction::StopGroup);
        let (ladder, steps) = run(
            &[failed(), failed(), failed(), failed()],
            0,
            &policy,
            ACTIVE,
        );
        let error = Decision::ErrorDetected {
            code: 11,
            detail: "gone".into(),
        };
        assert_eq!(
            steps,
            vec![
                vec![error.clone(), Decision::Reactivate(target.clone())],
                vec![error.clone(), Decision::Reactivate(target)],
                vec![error, Decision::FinalAction(FinalAction::StopGroup)],
                vec![],
            ]
        );
        assert_eq!(ladder.reactivations, 2);
        assert!(ladder.final_action_done);
    }

    #[test]
    fn a_healthy_check_resets_the_counters() {
        let target = RecoveryTarget::Resource("exec".into());
        let policy = policy(target.clone(), 1, FinalAction::StopDaemon);
        let week = [failed(), Observation::Healthy];
        let observations: Vec<Observation> = week.iter().cycle().take(6).cloned().collect();
        let (ladder, steps) = run(&observations, 0, &policy, ACTIVE);
        for step in steps.chunks(2) {
            assert_eq!(step[0][1], Decision::Reactivate(target.clone()));
            assert_eq!(step[1], vec![Decision::BackToNormal]);
        }
        assert_eq!(ladder, Ladder::default());
    }

    #[test]
    fn retry_counts_consecutive_failures_only() {
        let policy = policy(RecoveryTarget::Resource("r".into()), 3, FinalAction::None);
        let (_, steps) = run(
            &[
                failed(),
                failed(),
                Observation::Healthy,
                failed(),
                failed(),
                failed(),
            ],
            2,
            &policy,
            ACTIVE,
        );
        assert!(steps[..5].iter().all(Vec::is_empty), "{steps:?}");
        assert!(matches!(steps[5][0], Decision::ErrorDetected { .. }));
    }

    #[test]
    fn the_local_server_goes_straight_to_the_final_action() {
        let policy = policy(
            RecoveryTarget::LocalServer,
            3,
            FinalAction::StopDaemonReboot,
        );
        let (_, steps) = run(&[failed()], 0, &policy, ACTIVE);
        assert_eq!(
            steps[0][1],
            Decision::FinalAction(FinalAction::StopDaemonReboot)
        );
    }

    #[test]
    fn an_inactive_target_or_disabled_recovery_does_nothing() {
        let policy = policy(RecoveryTarget::Group("g".into()), 3, FinalAction::None);
        let inactive = Situation {
            target_active: false,
            recovery_disabled: false,
            can_fail_over: false,
        };
        let (ladder, steps) = run(&[failed()], 0, &policy, inactive);
        assert_eq!(steps[0][1], Decision::TargetInactive);
        assert_eq!(ladder.reactivations, 0);
        let disabled = Situation {
            target_active: true,
            recovery_disabled: true,
            can_fail_over: false,
        };
        let (_, steps) = run(&[failed()], 0, &policy, disabled);
        assert_eq!(steps[0][1], Decision::RecoveryDisabled);
    }

    #[test]
    fn an_error_with_nothing_left_to_try_is_not_logged_again() {
        let policy = policy(RecoveryTarget::Resource("r".into()), 0, FinalAction::None);
        let inactive = Situation {
            target_active: false,
            recovery_disabled: false,
            can_fail_over: false,
        };
        let (_, steps) = run(
            &[failed(), failed(), Observation::Healthy, failed()],
            0,
            &policy,
            inactive,
        );
        assert_eq!(steps[0].len(), 2, "{steps:?}");
        assert!(steps[1].is_empty(), "{steps:?}");
        assert_eq!(steps[2], vec![Decision::BackToNormal]);
        assert_eq!(steps[3].len(), 2, "{steps:?}");
    }

    #[test]
    fn a_warning_after_an_error_ends_the_error() {
        let policy = policy(RecoveryTarget::Resource("r".into()), 3, FinalAction::None);
        let warned = Observation::Warned {
            code: 5,
            detail: "slow".into(),
        };
        let (ladder, steps) = run(
            &[failed(), warned, Observation::Healthy],
            0,
            &policy,
            ACTIVE,
        );
        assert_eq!(
            steps[1],
            vec![
                Decision::BackToNormal,
                Decision::Warned {
                    code: 5,
                    detail: "slow".into()
                }
            ]
        );
        assert_eq!(steps[2], vec![Decision::WarningCleared]);
        assert_eq!(ladder, Ladder::default());
    }

    #[test]
    fn observations_wait_while_recovering() {
        let policy = policy(RecoveryTarget::Resource("r".into()), 3, FinalAction::None);
        let (ladder, _) = decide(&Ladder::default(), &failed(), 0, &policy, ACTIVE);
        assert!(ladder.recovering);
        let (same, decisions) = decide(&ladder, &failed(), 0, &policy, ACTIVE);
        assert_eq!(same, ladder);
        assert!(decisions.is_empty());
    }

    #[test]
    fn a_recovered_target_is_online_pending_until_its_next_check() {
        let policy = policy(RecoveryTarget::Resource("r".into()), 3, FinalAction::None);
        let (failing, _) = decide(&Ladder::default(), &failed(), 0, &policy, ACTIVE);
        assert_eq!(failing.shown_status(), MonitorStatus::Error);
        let finish = |recovered| {
            decide(
                &failing,
                &Observation::RecoveryFinished { recovered },
                0,
                &policy,
                ACTIVE,
            )
            .0
        };
        // The restart failed: still Error.
        assert_eq!(finish(false).shown_status(), MonitorStatus::Error);
        let recovered = finish(true);
        assert_eq!(recovered.shown_status(), MonitorStatus::OnlinePending);
        assert_eq!(recovered.status, MonitorStatus::Error);
        // The next check decides: healthy is Normal (rm 26), failing is Error again.
        let (healthy, decisions) = decide(&recovered, &Observation::Healthy, 0, &policy, ACTIVE);
        assert_eq!(healthy.shown_status(), MonitorStatus::Normal);
        assert!(decisions.contains(&Decision::BackToNormal));
        let (again, _) = decide(&recovered, &failed(), 0, &policy, ACTIVE);
        assert_eq!(again.shown_status(), MonitorStatus::Error);
        // A failure still within its retries shows the error it has not left.
        let (retrying, _) = decide(&recovered, &failed(), 2, &policy, ACTIVE);
        assert_eq!(retrying.shown_status(), MonitorStatus::Error);
    }

    #[test]
    fn warnings_are_logged_once_and_cleared() {
        let policy = policy(RecoveryTarget::LocalServer, 0, FinalAction::None);
        let warned = Observation::Warned {
            code: 5,
            detail: "slow".into(),
        };
        let (_, steps) = run(
            &[warned.clone(), warned, Observation::Healthy],
            0,
            &policy,
            ACTIVE,
        );
        assert_eq!(
            steps[0],
            vec![Decision::Warned {
                code: 5,
                detail: "slow".into()
            }]
        );
        assert!(steps[1].is_empty());
        assert_eq!(steps[2], vec![Decision::WarningCleared]);
    }

    #[test]
    fn in_a_cluster_the_failover_rung_comes_after_the_reactivations() {
        let policy = policy(RecoveryTarget::Group("g".into()), 1, FinalAction::StopGroup);
        let cluster = Situation {
            can_fail_over: true,
            ..ACTIVE
        };
        let (ladder, steps) = run(&[failed(), failed(), failed()], 0, &policy, cluster);
        let error = Decision::ErrorDetected {
            code: 11,
            detail: "gone".into(),
        };
        assert_eq!(
            steps[0][..2],
            [
                error.clone(),
                Decision::Reactivate(RecoveryTarget::Group("g".into()))
            ]
        );
        assert_eq!(
            steps[1][..2],
            [
                error.clone(),
                Decision::FailOver(RecoveryTarget::Group("g".into()))
            ]
        );
        assert_eq!(
            steps[2][..2],
            [error, Decision::FinalAction(FinalAction::StopGroup)]
        );
        assert_eq!(ladder.failovers, 1);
        // With no other server to take it, the rung is empty (as on one server).
        let (ladder, steps) = run(&[failed(), failed()], 0, &policy, ACTIVE);
        assert!(
            !steps
                .iter()
                .flatten()
                .any(|d| matches!(d, Decision::FailOver(_))),
            "{steps:?}"
        );
        assert_eq!(ladder.failovers, 0);
    }
}
