//! The clp commands. Each command is a module with `run(args, out)`; its file in
//! `bins/src/bin/` is one line. Commands parse their arguments, call `clp-core` and render;
//! only [`cli::main`] prints an error and picks the exit code.

pub mod cli;
pub mod complete;
pub mod generate;
pub mod manual;
pub mod render;

pub mod clp_ml;
pub mod clp_mlftp;
pub mod clp_mltool;
pub mod clpcfctrl;
pub mod clpcfget;
pub mod clpcfset;
pub mod clpcl;
pub mod clpdown;
pub mod clpgrp;
pub mod clphealthchk;
pub mod clplcncs;
pub mod clplcncs_issue;
pub mod clplogcc;
pub mod clplogcmd;
pub mod clpmonctrl;
pub mod clpperfc;
pub mod clppm;
pub mod clprsc;
pub mod clpstat;
pub mod clpstdn;
pub mod clpwebmgr;

#[cfg(test)]
mod tests {
    /// A command's helpers that another command needs belong in `clp-core` (as uutils'
    /// utilities share `uucore`): no command module names another.
    #[test]
    fn no_command_imports_another_command() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bins/src");
        let mut offenders = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("bins/src") {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !name.starts_with("clp") || !name.ends_with(".rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            for (number, line) in text.lines().enumerate() {
                if line.contains("crate::clp") || line.contains("super::clp") {
                    offenders.push(format!("{name}:{}: {}", number + 1, line.trim()));
                }
            }
        }
        assert!(offenders.is_empty(), "{}", offenders.join("\n"));
    }
}
