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
