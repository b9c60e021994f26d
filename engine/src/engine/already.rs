//! "Already in that state": the one place that decides whether a start or a stop asked by
//! an operator (`clprsc`, `clpgrp`, the WebManager, the REST API) or by a final action has
//! nothing to do. Starting what is started and stopping what is stopped run no script and
//! change nothing; the operator is told so with [`ErrorCode::AlreadyStarted`] /
//! [`ErrorCode::AlreadyStopped`].

use super::snapshot::group_status;
use super::{OperationError, State};
use clp_core::config::GroupConfig;
use clp_core::ipc::ErrorCode;
use clp_core::status::ObjectStatus;

/// What the operation wants the object to become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Goal {
    /// Started (Online).
    Start,
    /// Stopped (Offline).
    Stop,
}

/// Whether a resource is already where `goal` would take it: started means Online (a
/// start would run a second copy of an async process); stopped means Offline with no
/// process left (a stop would run `stop.sh` for nothing). A resource in a failure state is
/// neither: the operation runs again.
pub(super) fn resource(state: &State, name: &str, goal: Goal) -> Option<OperationError> {
    let runtime = state.resources.get(name)?;
    let reached = match goal {
        Goal::Start => runtime.status == ObjectStatus::Online,
        Goal::Stop => runtime.status == ObjectStatus::Offline && runtime.process.is_none(),
    };
    reached.then(|| refusal("resource", name, goal))
}

/// Whether a group is already where `goal` would take it: every resource Online (started)
/// or Offline (stopped), and the group itself neither failed nor half done.
pub(super) fn group(state: &State, group: &GroupConfig, goal: Goal) -> Option<OperationError> {
    let (group_target, resource_target) = match goal {
        Goal::Start => (ObjectStatus::Online, ObjectStatus::Online),
        Goal::Stop => (ObjectStatus::Offline, ObjectStatus::Offline),
    };
    let every_resource = group.resources.iter().all(|r| {
        state.resources.get(&r.name).is_some_and(|r| {
            r.status == resource_target && (goal == Goal::Start || r.process.is_none())
        })
    });
    let reached = group_status(state, group) == group_target && every_resource;
    reached.then(|| refusal("group", &group.name, goal))
}

/// The refusal when every group an unnamed `clpgrp -s` / `-t` covers is already there.
pub(super) fn every_group(goal: Goal) -> OperationError {
    match goal {
        Goal::Start => OperationError::new(
            ErrorCode::AlreadyStarted,
            "every group is already started (Online); nothing was done",
        ),
        Goal::Stop => OperationError::new(
            ErrorCode::AlreadyStopped,
            "every group is already stopped (Offline); nothing was done",
        ),
    }
}

fn refusal(kind: &str, name: &str, goal: Goal) -> OperationError {
    match goal {
        Goal::Start => OperationError::new(
            ErrorCode::AlreadyStarted,
            format!("{kind} \"{name}\" is already started (Online); nothing was done"),
        ),
        Goal::Stop => OperationError::new(
            ErrorCode::AlreadyStopped,
            format!("{kind} \"{name}\" is already stopped (Offline); nothing was done"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::engine::{GroupRuntime, ResourceRuntime};
    use clp_core::process::ProcessIdentity;
    use clp_core::status::DaemonState;

    fn state(resources: &[(&str, ObjectStatus, bool)], active: bool) -> State {
        State {
            daemon: DaemonState::Running,
            groups: crate::engine::ByName::from_iter([(
                "g".to_string(),
                GroupRuntime {
                    pending: None,
                    active,
                    failed: false,
                    ..GroupRuntime::default()
                },
            )]),
            resources: resources
                .iter()
                .map(|(name, status, process)| {
                    (
                        name.to_string(),
                        ResourceRuntime {
                            status: *status,
                            process: process.then_some(ProcessIdentity {
                                pid: 1,
                                start_time: 1,
                            }),
                            stopping: false,
                            exited: Arc::new(tokio::sync::Notify::new()),
                        },
                    )
                })
                .collect(),
            monitors: Vec::new(),
        }
    }

    fn group_of(names: &[&str]) -> GroupConfig {
        let text = names
            .iter()
            .map(|n| format!("[[group.resource]]\nname = \"{n}\"\n"))
            .collect::<String>();
        let dir = tempfile::tempdir().unwrap();
        for name in names {
            let script_dir = dir.path().join("g").join(name);
            std::fs::create_dir_all(&script_dir).unwrap();
            std::fs::write(script_dir.join("start.sh"), "#!/bin/sh\n").unwrap();
        }
        let config =
            clp_core::config::parse_str(&format!("[[group]]\nname = \"g\"\n{text}"), dir.path())
                .unwrap();
        config.groups[0].clone()
    }

    #[test]
    fn an_online_resource_is_already_started_and_not_stopped() {
        let s = state(&[("r", ObjectStatus::Online, true)], true);
        let refused = resource(&s, "r", Goal::Start).unwrap();
        assert_eq!(refused.code, ErrorCode::AlreadyStarted);
        assert_eq!(
            refused.message,
            "resource \"r\" is already started (Online); nothing was done"
        );
        assert!(resource(&s, "r", Goal::Stop).is_none());
    }

    #[test]
    fn an_offline_resource_is_already_stopped_and_not_started() {
        let s = state(&[("r", ObjectStatus::Offline, false)], false);
        assert_eq!(
            resource(&s, "r", Goal::Stop).unwrap().code,
            ErrorCode::AlreadyStopped
        );
        assert!(resource(&s, "r", Goal::Start).is_none());
    }

    #[test]
    fn a_failed_resource_may_be_started_and_stopped_again() {
        for status in [ObjectStatus::OnlineFailure, ObjectStatus::OfflineFailure] {
            let s = state(&[("r", status, false)], true);
            assert!(resource(&s, "r", Goal::Start).is_none());
            assert!(resource(&s, "r", Goal::Stop).is_none());
        }
    }

    #[test]
    fn a_group_is_already_started_only_when_every_resource_is_online() {
        let group = group_of(&["a", "b"]);
        let full = state(
            &[
                ("a", ObjectStatus::Online, false),
                ("b", ObjectStatus::Online, true),
            ],
            true,
        );
        assert_eq!(
            super::group(&full, &group, Goal::Start).unwrap().message,
            "group \"g\" is already started (Online); nothing was done"
        );
        assert!(super::group(&full, &group, Goal::Stop).is_none());
        let half = state(
            &[
                ("a", ObjectStatus::Online, false),
                ("b", ObjectStatus::Offline, false),
            ],
            true,
        );
        assert!(super::group(&half, &group, Goal::Start).is_none());
        assert!(super::group(&half, &group, Goal::Stop).is_none());
        let none = state(
            &[
                ("a", ObjectStatus::Offline, false),
                ("b", ObjectStatus::Offline, false),
            ],
            false,
        );
        assert_eq!(
            super::group(&none, &group, Goal::Stop).unwrap().code,
            ErrorCode::AlreadyStopped
        );
        assert!(super::group(&none, &group, Goal::Start).is_none());
    }
}
