//! The man pages: clap_mangen's NAME, SYNOPSIS, DESCRIPTION and OPTIONS from the clap
//! definitions, then what operators look up in a manual and clap does not know: a fuller
//! description, EXIT STATUS (the codes the command returns), ENVIRONMENT, FILES, EXAMPLES
//! and SEE ALSO.

use clap::Command;
use clap_mangen::Man;
use clp_core::exit_code as code;
use roff::{Roff, bold, italic, roman};

/// What a page says beyond the clap definition.
#[derive(Debug, Clone, Copy)]
pub struct Extra {
    /// Paragraphs after the one-line summary.
    pub description: &'static [&'static str],
    /// Exit codes beyond 0 (success), 2 (bad option) and 255 (other failure), each with
    /// its meaning for this command.
    pub exit: &'static [(u8, &'static str)],
    /// Whether the command asks clppm (then it may also return `DAEMON`'s codes).
    pub daemon: bool,
    /// Environment variables beyond `CLP_ROOT` and `CLP_COMPLETE`.
    pub environment: &'static [(&'static str, &'static str)],
    /// Files under `$CLP_ROOT` the command reads or writes.
    pub files: &'static [(&'static str, &'static str)],
    /// (command line, what it does).
    pub examples: &'static [(&'static str, &'static str)],
}

/// The codes every command that asks clppm may return (the daemon's answers).
const DAEMON: &[(u8, &str)] = &[
    (
        code::NOT_ROOT,
        "permission denied on clppm's socket: run as root or as the user running clppm",
    ),
    (
        code::INIT_ERROR,
        "clppm speaks another protocol version (commands and daemon of different versions)",
    ),
    (code::NOT_RUNNING, "clppm is not running"),
    (code::TIMEOUT, "clppm did not answer in time"),
];

/// The man page of `command`, as roff; `commands` (every command's name) for SEE ALSO.
pub fn render(command: &Command, commands: &[String]) -> std::io::Result<Vec<u8>> {
    // Built: --help and --version are arguments, subcommands' arguments know their values.
    let mut command = command.clone();
    command.build();
    let command = &command;
    let name = command.get_name().to_string();
    let extra = extra(&name);
    // A date-less .TH drops the empty field and shifts the others: the version stands there.
    let man = Man::new(command.clone())
        .date(concat!("version ", env!("CARGO_PKG_VERSION")))
        .source("clp")
        .manual("clp Manual");
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    let mut roff = Roff::new();
    for paragraph in extra.description {
        roff.control("PP", []).text([roman(*paragraph)]);
    }
    page.extend_from_slice(roff.to_roff().as_bytes());
    if command.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut page)?;
    }
    let mut roff = Roff::new();
    subcommands(&mut roff, command);
    exit_status(&mut roff, &name, &extra);
    environment(&mut roff, &extra);
    files(&mut roff, &extra);
    examples(&mut roff, &extra);
    see_also(&mut roff, &name, commands);
    page.extend_from_slice(roff.to_roff().as_bytes());
    man.render_version_section(&mut page)?;
    Ok(page)
}

fn item(roff: &mut Roff, tag: &str, text: &str) {
    roff.control("TP", []).text([bold(tag)]).text([roman(text)]);
}

/// `clp_mltool messages`: the subcommands, each with its own options, on this page (clap_mangen
/// would point at pages of their own that are not installed).
fn subcommands(roff: &mut Roff, command: &Command) {
    let visible: Vec<&Command> = command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
        .collect();
    if visible.is_empty() {
        return;
    }
    roff.control("SH", ["COMMANDS"]);
    for sub in visible {
        let mut line = format!("{} {}", command.get_name(), sub.get_name());
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            let flag = match (arg.get_long(), arg.get_short()) {
                (Some(long), _) => format!("--{long}"),
                (None, Some(short)) => format!("-{short}"),
                (None, None) => format!("<{}>", id.to_uppercase()),
            };
            let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values())
                && (arg.get_long().is_some() || arg.get_short().is_some());
            let value = if takes_value {
                let name = arg
                    .get_value_names()
                    .and_then(|names| names.first())
                    .map(|name| name.to_string())
                    .unwrap_or_else(|| id.to_uppercase());
                format!(" {name}")
            } else {
                String::new()
            };
            line.push_str(&format!(" [{flag}{value}]"));
        }
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        item(roff, &line, &about);
    }
}

fn exit_status(roff: &mut Roff, name: &str, extra: &Extra) {
    roff.control("SH", ["EXIT STATUS"]);
    let mut codes: Vec<(u8, &str)> = vec![
        (code::SUCCESS, "success"),
        (code::BAD_OPTION, "a bad option or argument"),
    ];
    codes.extend_from_slice(extra.exit);
    if extra.daemon {
        codes.extend_from_slice(DAEMON);
    }
    codes.push((code::OTHER, "any other failure (the message says which)"));
    // Stable: a command's own meaning of a code comes before the shared one and stays.
    codes.sort_by_key(|(value, _)| *value);
    codes.dedup_by_key(|(value, _)| *value);
    roff.text([roman(format!(
        "{name} prints one line naming what failed and what to do on standard error, and returns the original's codes:"
    ))]);
    for (value, meaning) in codes {
        item(roff, &value.to_string(), meaning);
    }
}

fn environment(roff: &mut Roff, extra: &Extra) {
    roff.control("SH", ["ENVIRONMENT"]);
    item(
        roff,
        "CLP_ROOT",
        "The installation root (default /opt/clp): configuration, logs, socket and store live under it.",
    );
    for (variable, meaning) in extra.environment {
        item(roff, variable, meaning);
    }
    item(
        roff,
        "CLP_COMPLETE",
        "Set by the shell completion files (bash, zsh, fish): the command then prints completion candidates instead of running.",
    );
}

fn files(roff: &mut Roff, extra: &Extra) {
    roff.control("SH", ["FILES"]);
    let mut all: Vec<(&str, &str)> = vec![(
        "$CLP_ROOT/etc/clp.conf",
        "The active configuration (TOML); without it, the default of a fresh install.",
    )];
    all.extend_from_slice(extra.files);
    for (path, meaning) in all {
        roff.control("TP", [])
            .text([italic(path)])
            .text([roman(meaning)]);
    }
}

fn examples(roff: &mut Roff, extra: &Extra) {
    roff.control("SH", ["EXAMPLES"]);
    for (line, meaning) in extra.examples {
        roff.control("TP", [])
            .text([bold(*line)])
            .text([roman(*meaning)]);
    }
}

fn see_also(roff: &mut Roff, name: &str, commands: &[String]) {
    roff.control("SH", ["SEE ALSO"]);
    let others: Vec<String> = commands
        .iter()
        .filter(|other| *other != name)
        .map(|other| format!("{other}(1)"))
        .collect();
    roff.text([roman(others.join(", "))]);
}

const SOCKET: (&str, &str) = (
    "$CLP_ROOT/run/clppm.sock",
    "clppm's control socket (mode 0600).",
);
const ALERT_LOG: (&str, &str) = (
    "$CLP_ROOT/log/alert.log",
    "The alert log: every state change, one line each.",
);
const DAEMON_LOG: (&str, &str) = ("$CLP_ROOT/log/clppm.log", "The daemon log.");
const SCRIPTS: (&str, &str) = (
    "$CLP_ROOT/etc/scripts/<group>/<resource>/",
    "The start.sh and stop.sh of each exec resource.",
);
const OS_ACTIONS: (&str, &str) = (
    "CLP_FORBID_OS_ACTIONS",
    "When 1, shutdown, reboot, sysrq and watchdog actions are refused (tests and demos).",
);
const LOG_LEVEL: (&str, &str) = (
    "CLP_LOG",
    "The daemon log's level, as an env-filter (default info).",
);

/// What the page of `name` says beyond its clap definition.
pub fn extra(name: &str) -> Extra {
    const NONE: Extra = Extra {
        description: &[],
        exit: &[],
        daemon: false,
        environment: &[],
        files: &[],
        examples: &[],
    };
    match name {
        "clppm" => Extra {
            daemon: false,
            description: &[
                "clppm owns the cluster's state: it starts the groups, runs the monitors and the recovery, writes the alerts, and answers the other commands on its socket. Operators start it with clpcl -s or clp_ml start rather than directly.",
            ],
            exit: &[
                (
                    code::INIT_ERROR,
                    "the store, socket, log or license could not be set up",
                ),
                (
                    code::BAD_CONFIG,
                    "the configuration is invalid (every problem is listed)",
                ),
                (
                    code::ALREADY_RUNNING,
                    "a clppm already runs on this CLP_ROOT",
                ),
            ],
            environment: &[OS_ACTIONS, LOG_LEVEL],
            files: &[
                SOCKET,
                ("$CLP_ROOT/run/clppm.pid", "The daemon's pid."),
                DAEMON_LOG,
                ALERT_LOG,
                ("$CLP_ROOT/var/store", "The state store."),
                SCRIPTS,
            ],
            examples: &[
                ("clppm", "Start the daemon detached (as clpcl -s does)."),
                (
                    "clppm --foreground",
                    "Run it in the foreground, as the systemd unit does.",
                ),
            ],
        },
        "clpcl" => Extra {
            daemon: true,
            description: &[
                "clpcl starts the daemon and returns once it answers (or prints its startup error), stops it after stopping every group in reverse order, restarts it, or suspends and resumes it (monitoring stops, resources keep running).",
            ],
            exit: &[
                (code::NOT_ROOT, "permission denied on clppm's socket"),
                (
                    code::NOT_RUNNING,
                    "clppm is not running (stop, suspend, resume)",
                ),
                (code::SUSPENDED, "the cluster is suspended"),
                (code::TIMEOUT, "the start or stop did not finish within -w"),
                (code::ALREADY_RUNNING, "clppm is already running (-s)"),
                (code::ALREADY_STOPPED, "already stopped or resumed"),
                (
                    code::BAD_CONFIG,
                    "clppm refused to start: the configuration is invalid",
                ),
            ],
            environment: &[OS_ACTIONS],
            files: &[SOCKET, DAEMON_LOG, ALERT_LOG],
            examples: &[
                ("clpcl -s", "Start the cluster daemon."),
                ("clpcl -t -w 30", "Stop it, waiting at most 30 seconds."),
                (
                    "clpcl --suspend",
                    "Suspend before changing the configuration; clpcl --resume after.",
                ),
            ],
        },
        "clpstat" => Extra {
            daemon: true,
            description: &[
                "Without options clpstat shows the cluster status summary in the original's layout; -g and -m show the group and monitor maps, -n the heartbeat matrix (what each server sees of every server's heartbeat), -i and the object options (--cl, --sv, --grp, --rsc, --mon) the configuration. When clppm is stopped, the status shows every object offline and the configuration is read from clp.conf.",
            ],
            exit: &[
                (code::NOT_ROOT, "permission denied on clppm's socket"),
                (code::BAD_CONFIG, "the configuration is invalid"),
                (
                    code::NOT_REGISTERED,
                    "the named group, resource or monitor is not in the configuration",
                ),
                (
                    code::NOT_RUNNING,
                    "clppm is not running (where the status needs it)",
                ),
                (code::TIMEOUT, "clppm did not answer in time"),
            ],
            environment: &[],
            files: &[SOCKET],
            examples: &[
                ("clpstat", "The cluster status summary."),
                (
                    "clpstat -i --detail",
                    "The configuration of everything, every parameter.",
                ),
                (
                    "clpstat --grp failover",
                    "The configuration of the group failover.",
                ),
            ],
        },
        "clpgrp" => Extra {
            daemon: true,
            description: &[
                "clpgrp starts or stops one group, or every group in order (reverse order to stop), and prints where a group is active.",
                "In an HA cluster, -m moves a group (every group that can move when none is named) to the server named with -a, or to the next server of the group's order that is Online: from any server, the move is written into etcd; the owner stops the group and releases it, the destination starts it. The command returns once the group is Online on the destination (at most --apito seconds), and refuses at once, stopping nothing, a destination that is not Online or not one of the group's servers. On one server -m is refused as a bad option.",
            ],
            exit: &[
                (
                    code::NOT_REGISTERED,
                    "the group is not in the configuration",
                ),
                (code::SUSPENDED, "the cluster is suspended"),
                (code::ALREADY_RUNNING, "the group is already started"),
                (code::ALREADY_STOPPED, "the group is already stopped"),
            ],
            environment: &[],
            files: &[SOCKET, SCRIPTS],
            examples: &[
                ("clpgrp -s failover", "Start the group failover."),
                ("clpgrp -t", "Stop every group, in reverse order."),
                (
                    "clpgrp -n failover",
                    "Print the server where failover is active.",
                ),
                (
                    "clpgrp -m failover -a server2",
                    "Move the group failover to server2 (HA).",
                ),
            ],
        },
        "clprsc" => Extra {
            daemon: true,
            description: &[
                "clprsc starts or stops a single group resource, and prints where a resource is active.",
            ],
            exit: &[
                (
                    code::NOT_REGISTERED,
                    "the resource is not in the configuration",
                ),
                (code::SUSPENDED, "the cluster is suspended"),
                (code::ALREADY_RUNNING, "the resource is already started"),
                (code::ALREADY_STOPPED, "the resource is already stopped"),
            ],
            environment: &[],
            files: &[SOCKET, SCRIPTS],
            examples: &[
                ("clprsc -s exec", "Start the resource exec."),
                ("clprsc -t exec", "Stop it."),
            ],
        },
        "clpmonctrl" => Extra {
            daemon: true,
            description: &[
                "clpmonctrl suspends and resumes monitors, clears their recovery counters, shows them (-v), and turns a dummy failure on (-e) or off (-n) to test the recovery.",
            ],
            exit: &[
                (
                    code::NOT_REGISTERED,
                    "a monitor named with -m is not in the configuration",
                ),
                (code::SUSPENDED, "the cluster is suspended"),
            ],
            environment: &[],
            files: &[SOCKET, ALERT_LOG],
            examples: &[
                ("clpmonctrl -s -m userw", "Suspend the monitor userw."),
                ("clpmonctrl -r", "Resume every monitor."),
                ("clpmonctrl -v", "Show every monitor's counters."),
                (
                    "clpmonctrl -e -m pidw1",
                    "Make pidw1 report a failure (clpmonctrl -n ends it).",
                ),
            ],
        },
        "clplogcmd" => Extra {
            daemon: true,
            description: &[
                "clplogcmd writes a message to the alert log (module logcmd) and/or syslog; without a destination option, to both. Scripts use it to report what they do.",
            ],
            exit: &[
                (code::BAD_CONFIG, "the configuration is invalid"),
                (code::INIT_ERROR, "the alert log could not be written"),
                (
                    code::NOT_RUNNING,
                    "clppm is not running and the message could not be written",
                ),
            ],
            environment: &[("CLP_SYSLOG_SOCKET", "The syslog socket (default /dev/log).")],
            files: &[ALERT_LOG],
            examples: &[
                (
                    "clplogcmd -m \"start your application\"",
                    "Write an INFO message.",
                ),
                (
                    "clplogcmd -m \"disk full\" -l ERR -i 2 --alert",
                    "An error with event id 2, to the alert log only.",
                ),
            ],
        },
        "clpdown" | "clpstdn" => Extra {
            daemon: true,
            description: &[
                "Stops the cluster daemon (every group in reverse order), then shuts the server down, or reboots it with -r. On a single server clpstdn is clpdown.",
            ],
            exit: &[
                (code::INIT_ERROR, "the daemon could not be asked"),
                (code::NOT_RUNNING, "clppm is not running"),
            ],
            environment: &[OS_ACTIONS],
            files: &[SOCKET, ALERT_LOG],
            examples: &[
                ("clpdown", "Stop the cluster and shut the server down."),
                ("clpdown -r", "Stop it and reboot."),
            ],
        },
        "clplogcc" => Extra {
            daemon: false,
            description: &[
                "clplogcc collects clp's logs, configuration, status, licenses and system information into <server>-log.tar.gz, for support. The type chooses how much (type1 the default set, type2 wider, type3 minimal, proactdiag for a proactive diagnosis).",
            ],
            exit: &[],
            environment: &[],
            files: &[
                (
                    "$CLP_ROOT/tmp/<server>-log.tar.gz",
                    "The collection (default output folder).",
                ),
                ("$CLP_ROOT/log/", "The logs collected."),
            ],
            examples: &[
                ("clplogcc", "Collect type1 into $CLP_ROOT/tmp."),
                (
                    "clplogcc -t type2 -o /var/tmp",
                    "The wider collection, into /var/tmp.",
                ),
            ],
        },
        "clplcncs" | "clplcnsc" => Extra {
            daemon: true,
            description: &[
                "Registers license key files, lists the registered licenses (one block per license, with its Status line), deletes them, or registers a product's trial license. clplcnsc is the original's name; clplcncs is the same command.",
            ],
            exit: &[
                (code::INIT_ERROR, "the license store could not be opened"),
                (
                    code::NOT_REGISTERED,
                    "the serial to delete is not registered",
                ),
                (
                    code::NOT_RUNNING,
                    "clppm is not running (where the change needs it)",
                ),
            ],
            environment: &[],
            files: &[
                ("$CLP_ROOT/var/store", "The registered licenses."),
                (
                    "$CLP_ROOT/var/license-trials",
                    "The trials already used (kept across uninstall).",
                ),
            ],
            examples: &[
                ("clplcncs -i XSS10.key", "Register a license key file."),
                ("clplcncs -l", "List the licenses."),
                (
                    "clplcncs --trial -P XSS10",
                    "Register the 60-day trial of the core product.",
                ),
            ],
        },
        "clplcncs-issue" => Extra {
            daemon: false,
            description: &[
                "The issuer's tool: makes an ed25519 key pair, or signs a license key file that clplcncs accepts when its public key is trusted.",
            ],
            exit: &[],
            environment: &[],
            files: &[],
            examples: &[
                (
                    "clplcncs-issue --new-key issuer.key",
                    "Make issuer.key and issuer.key.pub.",
                ),
                (
                    "clplcncs-issue --key issuer.key -P XSS10 --user \"Example Ltd\"",
                    "Sign a perpetual XSS10 license.",
                ),
            ],
        },
        "clp_ml" => Extra {
            daemon: false,
            description: &[
                "clp_ml starts, stops, restarts or shows the clp services (clppm, then clpwebmgr), and enables or disables them at boot through systemd.",
            ],
            exit: &[],
            environment: &[OS_ACTIONS],
            files: &[
                ("$CLP_ROOT/run/clppm.pid", "The daemon's pid."),
                ("$CLP_ROOT/run/clpwebmgr.pid", "The WebManager's pid."),
            ],
            examples: &[
                ("clp_ml start", "Start the services."),
                ("clp_ml status --json", "Each service and its pid, as JSON."),
                ("clp_ml on", "Start them at boot."),
            ],
        },
        "clp_mltool" => Extra {
            daemon: true,
            description: &[
                "clp_mltool shows the alert messages and the licenses, checks the kernel drivers the userw methods need, and verifies the installed binaries against the installer's manifest.",
            ],
            exit: &[
                (code::INIT_ERROR, "the store could not be opened"),
                (
                    code::NOT_RUNNING,
                    "clppm is not running (where the answer needs it)",
                ),
            ],
            environment: &[],
            files: &[
                ALERT_LOG,
                ("$CLP_ROOT/bin/SHA256SUMS", "The installer's manifest."),
            ],
            examples: &[
                ("clp_mltool messages", "The alert log, newest last."),
                ("clp_mltool verify", "Check the installed binaries."),
            ],
        },
        "clp_mlftp" => Extra {
            daemon: false,
            description: &[
                "clp_mlftp uploads a log collection (by default the newest that clplogcc wrote) to the FTP or FTPS server of etc/ftp.toml, for a nightly cron job.",
            ],
            exit: &[(code::BAD_CONFIG, "etc/ftp.toml is missing or invalid")],
            environment: &[],
            files: &[
                (
                    "$CLP_ROOT/etc/ftp.toml",
                    "The server, account and remote folder.",
                ),
                ("$CLP_ROOT/tmp/*-log.tar.gz", "What clplogcc collected."),
            ],
            examples: &[(
                "clplogcc && clp_mlftp",
                "Collect, then upload the collection.",
            )],
        },
        "clpwebmgr" => Extra {
            daemon: false,
            description: &[
                "clpwebmgr serves the WebManager: the status, the alert log and the operations in a browser (port 29003), with an operation and a reference password.",
            ],
            exit: &[
                (
                    code::INIT_ERROR,
                    "the listening socket or the TLS setup failed",
                ),
                (
                    code::BAD_CONFIG,
                    "the [webmanager] configuration is invalid",
                ),
                (code::NOT_RUNNING, "no clpwebmgr runs (--stop)"),
                (code::TIMEOUT, "it did not start or stop in time"),
                (code::ALREADY_RUNNING, "a clpwebmgr already runs"),
            ],
            environment: &[LOG_LEVEL],
            files: &[
                (
                    "$CLP_ROOT/etc/webmgr-passwords.toml",
                    "The password hashes.",
                ),
                ("$CLP_ROOT/log/clpwebmgr.log", "The WebManager log."),
                ("$CLP_ROOT/run/clpwebmgr.pid", "Its pid."),
            ],
            examples: &[
                ("clpwebmgr", "Start it detached."),
                (
                    "clpwebmgr --set-password operation -",
                    "Set the operation password from standard input.",
                ),
            ],
        },
        "clpcfctrl" => Extra {
            daemon: true,
            description: &[
                "clpcfctrl pushes a configuration folder (clp.conf and scripts/, clp's TOML or the original's XML) after validating it and showing the changes, pulls the active one, rolls back to the previous generation, or converts the original's configuration.",
                "In a cluster (more than one server), --push and --rollback go to every Online server through etcd and take effect only when every one accepts; --force is refused there.",
            ],
            exit: &[
                (
                    code::BAD_CONFIG,
                    "the configuration is invalid, or made for another server (without --force)",
                ),
                (code::NOT_RUNNING, "clppm is not running (--apply)"),
                (
                    code::TIMEOUT,
                    "clppm did not stop or start again in time (--apply)",
                ),
                (
                    code::ALREADY_RUNNING,
                    "another clpcfctrl held the configuration's lock for 5 seconds",
                ),
            ],
            environment: &[],
            files: &[
                (
                    "$CLP_ROOT/etc/generations/",
                    "The kept generations, for --rollback.",
                ),
                SCRIPTS,
            ],
            examples: &[
                (
                    "clpcfctrl --push -l -x /root/conf",
                    "Validate and activate the configuration in /root/conf.",
                ),
                (
                    "clpcfctrl --pull -l -x .",
                    "Write the active configuration here.",
                ),
                (
                    "clpcfctrl --rollback --apply",
                    "Go back one generation and apply it.",
                ),
            ],
        },
        "clpperfc" => Extra {
            daemon: true,
            description: &[
                "clpperfc shows how long monitors' checks take, as clppm measures them at every check since it started. With -m it prints one integer, the last check's duration of that monitor in milliseconds (0 before its first check), for scripts such as exporters; without -m, a table of every monitor with its check count and last, average and longest durations. --json gives the same figures in ms and µs.",
                "With -g it shows groups instead: the medians of the latest 32 successful starts and stops of each group (every group when GROUP is omitted); --starttime -g GROUP and --stoptime -g GROUP print one of them as one integer in ms (0 before the first).",
            ],
            exit: &[(
                code::NOT_REGISTERED,
                "the monitor or group is not in the configuration",
            )],
            environment: &[],
            files: &[SOCKET],
            examples: &[
                (
                    "clpperfc -m genw1",
                    "Print genw1's last check duration in ms.",
                ),
                ("clpperfc", "Show every monitor's check durations."),
                ("clpperfc -m genw1 --json", "The same figures as JSON."),
                (
                    "clpperfc --starttime -g failover",
                    "Print the median start time of the group failover in ms.",
                ),
                (
                    "clpperfc -g",
                    "Show every group's median start and stop times.",
                ),
            ],
        },
        "clphealthchk" => Extra {
            daemon: false,
            description: &[
                "clphealthchk checks that clppm's parts show life, as a liveness probe: pm (clppm answers), rc (its groups and resources can be read), rm (every monitor switched on finished a check within its interval + timeout + delay before start + 30 seconds) and nm (the heartbeat is Normal). It prints one line per part, OK or NG; -t checks one part.",
                "A clppm that does not answer within -w seconds (default 3) counts as stalled: every part lives in it.",
            ],
            exit: &[
                (4, "an invalid option (the original's code for it)"),
                (11, "the cluster is stopped (clppm is not running)"),
                (12, "the cluster is suspended"),
                (100, "a part did not show life in time (NG)"),
            ],
            environment: &[],
            files: &[
                SOCKET,
                (
                    "$CLP_ROOT/etc/clp.conf",
                    "Each monitor's interval and timeout.",
                ),
            ],
            examples: &[
                ("clphealthchk", "Check every part."),
                ("clphealthchk -t rm", "Check only the monitors."),
            ],
        },
        "clpcfset" => Extra {
            daemon: false,
            description: &[
                "clpcfset builds a configuration from the shell with the original's steps: create, then add srv, grp, rsc, rscparam, rscdep, mon, monparam, clsparam in the original's argument order. Like the original it works in the current folder: it keeps the original's model in clpcfset.xml and writes clp.conf (TOML) beside it, converted by the same migration clpcfctrl uses for the original's files; push the folder with clpcfctrl --push -x.",
                "Every step is checked: a path the migration does not carry over, an unknown type or path (with the closest known one), a name used twice or holding '/', or a value that makes the configuration invalid is refused, naming it. What the configuration still needs (a target, a script) is listed after each step.",
            ],
            exit: &[(
                code::BAD_CONFIG,
                "the step is refused, or no 'clpcfset create' ran in this folder",
            )],
            environment: &[],
            files: &[
                ("./clp.conf", "The configuration built (TOML)."),
                (
                    "./clpcfset.xml",
                    "The original's model of the steps so far.",
                ),
            ],
            examples: &[
                (
                    "clpcfset create cluster ASCII",
                    "Start a configuration here.",
                ),
                (
                    "clpcfset add grp failover failover1",
                    "Add the group failover1.",
                ),
                (
                    "clpcfset add rsc failover1 exec exec1",
                    "Add the exec resource exec1 to it (scripts in scripts/failover1/exec1/).",
                ),
                (
                    "clpcfset add monparam genw genw1 polling/interval 30",
                    "Check genw1 every 30 seconds.",
                ),
            ],
        },
        "clpcfget" => Extra {
            daemon: false,
            description: &[
                "clpcfget reads the active configuration (or DIR/clp.conf with -x) by the original's clp.conf paths: -g prints a value, -e the names of the elements at a path, one a line. Values are the effective ones, defaults included; secrets are masked.",
            ],
            exit: &[
                (code::BAD_CONFIG, "the configuration does not load"),
                (
                    code::NOT_REGISTERED,
                    "nothing in the configuration at the path",
                ),
            ],
            environment: &[],
            files: &[("$CLP_ROOT/etc/clp.conf", "The active configuration.")],
            examples: &[
                (
                    "clpcfget -e /root/monitor/types",
                    "The monitor types in use.",
                ),
                ("clpcfget -e /root/monitor/genw", "The genw monitors."),
                (
                    "clpcfget -g /root/monitor/genw@genw1/polling/interval",
                    "genw1's interval.",
                ),
            ],
        },
        _ => NONE,
    }
}
