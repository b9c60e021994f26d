//! `clpcfset`: build a configuration from the shell with the original's sub-commands and
//! argument order (`create`, `add srv|grp|rsc|rscparam|rscdep|mon|monparam|clsparam|...`).
//! Like the original it works on `clp.conf` in the current folder; `clpcfctrl --push -x .`
//! then activates it.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use clap::{Parser, Subcommand};
use clp_core::client::configure;
use clp_core::config::cfset::{Add, Outcome};

use crate::cli::{self, CliError};

/// Build clp.conf in the current folder, step by step.
#[derive(Debug, Parser)]
#[command(
    name = "clpcfset",
    version,
    disable_help_flag = true,
    about = "Build a configuration (clp.conf in the current folder) step by step, as the original's clpcfset"
)]
pub struct Args {
    /// The step.
    #[command(subcommand)]
    step: Step,
    /// `-h HOST`, `--help`.
    #[command(flatten)]
    target: cli::HostArgs,
}

/// `create` or `add`.
#[derive(Debug, Subcommand)]
enum Step {
    /// Start a new configuration (replaces the one in this folder).
    Create {
        /// The cluster's name.
        cluster: String,
        /// The original's encoding: ASCII (English), EUC-JP or SJIS (Japanese), GB2312.
        encode: String,
        /// The WebUI's encoding (accepted; the file is UTF-8).
        webui_encode: Option<String>,
        /// The servers' OS (linux).
        os: Option<String>,
    },
    /// Add an object or a parameter.
    Add {
        #[command(subcommand)]
        what: What,
    },
}

/// What `add` adds, with the original's arguments in its order.
#[derive(Debug, Subcommand)]
enum What {
    /// A server: NAME PRIORITY (0: the master).
    Srv { name: String, priority: String },
    /// A device of a server: SERVER TYPE ID INFO [EXTEND].
    Device {
        server: String,
        kind: String,
        id: String,
        info: String,
        extend: Option<String>,
    },
    /// A heartbeat: TYPE DEVICE_ID PRIORITY.
    Hb {
        kind: String,
        id: String,
        priority: String,
    },
    /// A group: TYPE (failover) NAME.
    Grp { kind: String, name: String },
    /// A group parameter: TYPE NAME PATH VALUE.
    Grpparam {
        kind: String,
        name: String,
        path: String,
        value: String,
    },
    /// A resource: GROUP TYPE (exec) NAME.
    Rsc {
        group: String,
        kind: String,
        name: String,
    },
    /// A resource parameter: TYPE NAME PATH VALUE (e.g. exec exec1 parameters/act/path start.sh).
    Rscparam {
        kind: String,
        name: String,
        path: String,
        value: String,
    },
    /// A dependency: TYPE NAME DEPENDS_ON (NAME starts after DEPENDS_ON).
    Rscdep {
        kind: String,
        name: String,
        depends_on: String,
    },
    /// A monitor: TYPE NAME.
    Mon { kind: String, name: String },
    /// A monitor parameter: TYPE NAME PATH VALUE (e.g. genw genw1 polling/interval 30).
    Monparam {
        kind: String,
        name: String,
        path: String,
        value: String,
    },
    /// A cluster parameter: PATH VALUE (e.g. rm/errordetect/norecovery 1).
    Clsparam { path: String, value: String },
    /// A mail server (refused: not carried over).
    Smtpsrv { values: Vec<String> },
    /// An SNMP server (refused: not carried over).
    Snmpsrv { values: Vec<String> },
    /// The WebManager's client list: `clientlist ADDRESS` (an IP address or a CIDR block).
    Webmgr { what: String, address: String },
    /// The Builder's object count (accepted, ignored).
    Objnum { count: String },
}

/// Runs `clpcfset`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    args.target
        .local_only("clpcfset writes the configuration file of the server it runs on")?;
    let dir = Path::new(".");
    let outcome = match args.step {
        Step::Create {
            cluster,
            encode,
            webui_encode: _,
            os,
        } => configure::create_config(dir, &cluster, &encode, os.as_deref()),
        Step::Add { what } => configure::add_to_config(dir, &step(what)),
    }?;
    render(&outcome, out)
}

fn step(what: What) -> Add {
    match what {
        What::Srv { name, priority } => Add::Server { name, priority },
        What::Device {
            server,
            kind,
            id,
            info,
            extend,
        } => Add::Device {
            server,
            kind,
            id,
            info,
            extend,
        },
        What::Hb { kind, id, priority } => Add::Heartbeat { kind, id, priority },
        What::Grp { kind, name } => Add::Group { kind, name },
        What::Grpparam {
            kind,
            name,
            path,
            value,
        } => Add::GroupParam {
            kind,
            name,
            path,
            value,
        },
        What::Rsc { group, kind, name } => Add::Resource { group, kind, name },
        What::Rscparam {
            kind,
            name,
            path,
            value,
        } => Add::ResourceParam {
            kind,
            name,
            path,
            value,
        },
        What::Rscdep {
            kind,
            name,
            depends_on,
        } => Add::ResourceDependency {
            kind,
            name,
            depends_on,
        },
        What::Mon { kind, name } => Add::Monitor { kind, name },
        What::Monparam {
            kind,
            name,
            path,
            value,
        } => Add::MonitorParam {
            kind,
            name,
            path,
            value,
        },
        What::Clsparam { path, value } => Add::ClusterParam { path, value },
        What::Smtpsrv { values } => Add::Other {
            path: "messages/mail/smtpsrv".into(),
            value: values.join(" "),
        },
        What::Snmpsrv { values } => Add::Other {
            path: "messages/snmp/snmpsrv".into(),
            value: values.join(" "),
        },
        What::Webmgr { what, address } => Add::ClientList { what, address },
        What::Objnum { count } => Add::Other {
            path: "webmgr/client/objectnumber".into(),
            value: count,
        },
    }
}

/// `Command succeeded.`, then what the configuration still needs before it pushes.
fn render(outcome: &Outcome, out: &mut dyn Write) -> Result<(), CliError> {
    cli::succeeded(out)?;
    for problem in &outcome.pending {
        writeln!(out, "still to do before 'clpcfctrl --push': {problem}")?;
    }
    Ok(())
}
