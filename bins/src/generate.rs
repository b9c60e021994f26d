//! Shell completions (bash, zsh, fish: registrations that call the command back, see
//! [`crate::complete`]) and man pages for every command, generated from the clap
//! definitions into `completions/`. `cargo run --bin clp-gen` rewrites them; a test
//! fails when the committed files are stale.

use std::path::Path;

use clap::CommandFactory;

/// Every command's clap definition, by name.
pub fn commands() -> Vec<clap::Command> {
    vec![
        crate::clppm::Args::command(),
        crate::clpcl::Args::command(),
        crate::clpstat::Args::command(),
        crate::clpgrp::Args::command(),
        crate::clprsc::Args::command(),
        crate::clpmonctrl::Args::command(),
        crate::clplogcmd::Args::command(),
        crate::clplogcc::Args::command(),
        crate::clplcncs::Args::command(),
        crate::clplcncs::Args::command()
            .name("clplcnsc")
            .bin_name("clplcnsc"),
        crate::clplcncs_issue::Args::command(),
        crate::clp_ml::Args::command(),
        crate::clp_mltool::Args::command(),
        crate::clp_mlftp::Args::command(),
        crate::clpdown::Args::command(),
        crate::clpstdn::Args::command(),
        crate::clpwebmgr::Args::command(),
        crate::clpcfctrl::Args::command(),
        crate::clpperfc::Args::command(),
        crate::clphealthchk::Args::command(),
        crate::clpcfset::Args::command(),
        crate::clpcfget::Args::command(),
    ]
}

/// Every generated file: (path relative to `completions/`, contents).
pub fn files() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let commands = commands();
    let names: Vec<String> = commands
        .iter()
        .map(|command| command.get_name().to_string())
        .collect();
    for command in commands {
        let name = command.get_name().to_string();
        for (shell, completer) in crate::complete::shells() {
            let file = match shell {
                "bash" => format!("bash/{name}"),
                "zsh" => format!("zsh/_{name}"),
                _ => format!("fish/{name}.fish"),
            };
            files.push((file, crate::complete::registration(completer, &name)?));
        }
        files.push((
            format!("man/{name}.1"),
            crate::manual::render(&command, &names)?,
        ));
    }
    Ok(files)
}

/// Writes every file under `dir` (each through a temporary file and a rename).
pub fn write_all(dir: &Path) -> std::io::Result<usize> {
    let files = files()?;
    for (relative, contents) in &files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        clp_core::paths::write_replacing(&path, "partial", contents.as_ref())?;
    }
    Ok(files.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_examples_and_a_description() {
        for command in commands() {
            let name = command.get_name();
            let extra = crate::manual::extra(name);
            assert!(!extra.examples.is_empty(), "{name} has no examples");
            assert!(!extra.description.is_empty(), "{name} has no description");
        }
    }

    #[test]
    fn every_completed_argument_exists() {
        for (command_name, arg) in crate::complete::completed_args() {
            let command = commands()
                .into_iter()
                .find(|c| c.get_name() == command_name)
                .unwrap_or_else(|| panic!("no command {command_name}"));
            assert!(
                command.get_arguments().any(|a| a.get_id() == arg),
                "{command_name} has no argument {arg}: update COMPLETED"
            );
        }
    }
}
