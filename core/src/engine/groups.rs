//! Operator group operations (`clpgrp -s/-t`): which groups, refused when already there.

use std::sync::Arc;

use crate::ipc::ErrorCode;

use super::{Engine, OperationError, already};

impl Engine {
    pub(super) fn group_names(&self, group: Option<&str>) -> Result<Vec<String>, OperationError> {
        match group {
            None => Ok(self.config.groups.iter().map(|g| g.name.clone()).collect()),
            Some(name) if self.config.group(name).is_some() => Ok(vec![name.to_string()]),
            Some(name) => Err(OperationError::new(
                ErrorCode::NotFound,
                format!("group \"{name}\" is not in the configuration; 'clpstat' lists the groups"),
            )),
        }
    }

    /// `clpgrp -s [GROUP]`.
    pub async fn start_groups(self: &Arc<Self>, group: Option<&str>) -> Result<(), OperationError> {
        let names = self.group_names(group)?;
        self.check_operable()?;
        let _operation = self.operations.lock().await;
        self.check_operable()?;
        let names = self.groups_to_change(names, group.is_some(), already::Goal::Start)?;
        let mut failed = Vec::new();
        for name in &names {
            if !self.start_group_locked(name, "START").await {
                failed.push(name.clone());
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(OperationError::new(
                ErrorCode::Failed,
                format!(
                    "failed to start group {}; see the alert log ('clplogcc') and {}",
                    failed.join(", "),
                    self.paths.script_log_dir().display()
                ),
            ))
        }
    }

    /// `clpgrp -t [GROUP]`: every group in reverse order when none is named.
    pub async fn stop_groups(self: &Arc<Self>, group: Option<&str>) -> Result<(), OperationError> {
        let mut names = self.group_names(group)?;
        names.reverse();
        self.check_operable()?;
        let _operation = self.operations.lock().await;
        self.check_operable()?;
        let names = self.groups_to_change(names, group.is_some(), already::Goal::Stop)?;
        let mut failed = Vec::new();
        for name in &names {
            if !self.stop_group_locked(name, "GROUPSTOP").await {
                failed.push(name.clone());
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(OperationError::new(
                ErrorCode::Failed,
                format!(
                    "failed to stop group {}; see the alert log",
                    failed.join(", ")
                ),
            ))
        }
    }

    /// The groups of `names` not already where `goal` takes them (the operation lock is
    /// held). A named group already there, or every group when none was named, is refused
    /// with [`ErrorCode::AlreadyStarted`] / [`ErrorCode::AlreadyStopped`].
    pub(super) fn groups_to_change(
        &self,
        names: Vec<String>,
        named: bool,
        goal: already::Goal,
    ) -> Result<Vec<String>, OperationError> {
        let state = self.lock();
        let mut refusal = None;
        let remaining: Vec<String> = names
            .into_iter()
            .filter(|name| {
                let Some(config) = self.config.group(name) else {
                    return true;
                };
                match already::group(&state, config, goal) {
                    Some(already) => {
                        refusal = Some(already);
                        false
                    }
                    None => true,
                }
            })
            .collect();
        match refusal {
            Some(refusal) if remaining.is_empty() && named => Err(refusal),
            Some(_) if remaining.is_empty() => Err(already::every_group(goal)),
            _ => Ok(remaining),
        }
    }
}
