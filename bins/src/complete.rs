//! Shell completion that knows the cluster: the commands complete themselves.
//!
//! The installed completion files (bash, zsh, fish) are short registrations that call the
//! command back with `CLP_COMPLETE=<shell>` on every TAB (clap_complete's dynamic engine,
//! [`clap_complete::CompleteEnv`]). The command then answers from its clap definition, so
//! options follow the definitions, and fills in the values only clp knows:
//!
//! - group, resource and monitor names from the running daemon, or from the configuration
//!   when it is stopped (or does not answer within [`DAEMON_WAIT`]);
//! - `clplogcc -t` types and `clplcncs -P` product ids from the program's own tables.

use std::ffi::OsString;
use std::sync::mpsc;
use std::time::Duration;

use clap::Command;
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use clap_complete::env::{Bash, EnvCompleter, Fish, Zsh};
use clp_core::ipc::client::Client;
use clp_core::ipc::{Request, Response};
use clp_core::paths::Paths;

/// The environment variable that turns a command into its own completer.
pub const VAR: &str = "CLP_COMPLETE";

/// How long a TAB waits for the daemon before it answers from the configuration.
pub const DAEMON_WAIT: Duration = Duration::from_millis(400);

/// The shells completion files are written for, with their clap_complete adapters.
pub fn shells() -> [(&'static str, &'static dyn EnvCompleter); 3] {
    [("bash", &Bash), ("zsh", &Zsh), ("fish", &Fish)]
}

/// Answers a completion request when `CLP_COMPLETE` is set (then exits); otherwise returns.
/// Called first thing by every command's `main`, with its clap definition (built only when
/// a shell asks); the cluster-aware value completers are attached here.
pub fn answer_if_asked(definition: impl FnOnce() -> Command) {
    if std::env::var_os(VAR).is_none_or(|value| value.is_empty() || value == "0") {
        return;
    }
    let command = with_completers(definition());
    clap_complete::CompleteEnv::with_factory(move || command.clone())
        .var(VAR)
        .complete();
}

/// The completion file of `name` for `shell`: a registration calling `name` (found on PATH)
/// back. zsh's file also works autoloaded from `fpath` (its first TAB completes too).
pub fn registration(shell: &dyn EnvCompleter, name: &str) -> std::io::Result<Vec<u8>> {
    let mut text = Vec::new();
    shell.write_registration(VAR, name, name, name, &mut text)?;
    if shell.name() == "zsh" {
        let function = format!("_clap_dynamic_completer_{}", name.replace('-', "_"));
        text.extend_from_slice(
            format!(
                "# Autoloaded from fpath as _{name}: complete this first TAB too.\n\
                 if [ \"${{funcstack[1]-}}\" = \"_{name}\" ]; then\n    {function} \"$@\"\nfi\n"
            )
            .as_bytes(),
        );
    }
    Ok(text)
}

/// Which values an argument takes that only clp knows.
#[derive(Debug, Clone, Copy)]
enum Values {
    Groups,
    Resources,
    Monitors,
    LogTypes,
    Products,
    LogLevels,
    Servers,
}

/// (command, argument id, values): every argument completed from clp's knowledge.
const COMPLETED: &[(&str, &str, Values)] = &[
    ("clpgrp", "start", Values::Groups),
    ("clpgrp", "stop", Values::Groups),
    ("clpgrp", "name", Values::Groups),
    ("clprsc", "start", Values::Resources),
    ("clprsc", "stop", Values::Resources),
    ("clprsc", "name", Values::Resources),
    ("clpmonctrl", "monitors", Values::Monitors),
    ("clpperfc", "monitor", Values::Monitors),
    ("clpperfc", "group", Values::Groups),
    ("clpstat", "group", Values::Groups),
    ("clpstat", "resource", Values::Resources),
    ("clpstat", "monitor", Values::Monitors),
    ("clplogcc", "kind", Values::LogTypes),
    ("clplcncs", "product", Values::Products),
    ("clplcnsc", "product", Values::Products),
    ("clplogcmd", "level", Values::LogLevels),
    ("clpstat", "server", Values::Servers),
];

/// Arguments completed where a command has them (`*`: any command): `-h host` is being added
/// command by command.
const WHERE_PRESENT: &[(&str, &str, Values)] = &[("*", "host", Values::Servers)];

/// Every (command, argument id) `COMPLETED` names (for the test that they exist).
pub fn completed_args() -> impl Iterator<Item = (&'static str, &'static str)> {
    COMPLETED.iter().map(|(command, arg, _)| (*command, *arg))
}

fn with_completers(mut command: Command) -> Command {
    let name = command.get_name().to_string();
    let wanted = COMPLETED
        .iter()
        .chain(WHERE_PRESENT)
        .filter(|(c, ..)| *c == name || *c == "*");
    for (_, arg, values) in wanted {
        // A renamed argument loses its completer instead of panicking in a user's TAB; the
        // test `every_completed_argument_exists` catches the rename.
        if command.get_arguments().any(|a| a.get_id() == *arg) {
            let values = *values;
            command = command.mut_arg(*arg, move |a| {
                a.add(ArgValueCandidates::new(move || candidates(values)))
            });
        }
    }
    command
}

fn candidates(values: Values) -> Vec<CompletionCandidate> {
    match values {
        Values::Groups => ClusterNames::find(&Paths::from_env()).groups,
        Values::Resources => ClusterNames::find(&Paths::from_env()).resources,
        Values::Monitors => ClusterNames::find(&Paths::from_env()).monitors,
        Values::Servers => ClusterNames::find(&Paths::from_env()).servers,
        Values::LogTypes => clp_core::logcollect::COLLECT_TYPE_NAMES
            .iter()
            .map(|name| CompletionCandidate::new(*name))
            .collect(),
        // clp's ids, then the original's for the same products (`XSSS40` is `XSS10`).
        Values::Products => clp_core::license::PRODUCTS
            .iter()
            .map(|product| CompletionCandidate::new(product.id).help(Some(product.name.into())))
            .chain(clp_core::license::PRODUCTS.iter().filter_map(|product| {
                let id = clp_core::license::original::original_id(product.id)?;
                Some(CompletionCandidate::new(id).help(Some(product.name.into())))
            }))
            .collect(),
        Values::LogLevels => ["INFO", "WARN", "ERR"]
            .into_iter()
            .map(CompletionCandidate::new)
            .collect(),
    }
}

/// The names of the cluster's objects, as completion candidates (with a short help).
#[derive(Debug, Default)]
pub struct ClusterNames {
    /// Group names, in start order.
    pub groups: Vec<CompletionCandidate>,
    /// Resource names, group by group.
    pub resources: Vec<CompletionCandidate>,
    /// Monitor names.
    pub monitors: Vec<CompletionCandidate>,
    /// Server names (this server).
    pub servers: Vec<CompletionCandidate>,
}

impl ClusterNames {
    /// From the daemon when it answers within [`DAEMON_WAIT`], else from the configuration
    /// file (or the default configuration when there is none); nothing when neither reads.
    pub fn find(paths: &Paths) -> ClusterNames {
        Self::from_daemon(paths, DAEMON_WAIT).unwrap_or_else(|| Self::from_config(paths))
    }

    /// Asks the daemon; `None` when it is not running or does not answer within `wait`
    /// (the question runs on a thread: even a connect that blocks cannot hold the TAB).
    pub fn from_daemon(paths: &Paths, wait: Duration) -> Option<ClusterNames> {
        let socket = paths.socket();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let answer = Client::connect_within(&socket, "completion", wait)
                .and_then(|mut client| client.request(&Request::STATUS, Some(wait)));
            let _ = sender.send(answer);
        });
        match receiver.recv_timeout(wait) {
            Ok(Ok(Response::Status(status))) => Some(ClusterNames {
                groups: status
                    .groups
                    .iter()
                    .map(|g| named(&g.name, g.status.as_str()))
                    .collect(),
                resources: status
                    .groups
                    .iter()
                    .flat_map(|g| {
                        g.resources
                            .iter()
                            .map(|r| named(&r.name, &format!("{} ({})", r.kind, g.name)))
                    })
                    .collect(),
                monitors: status
                    .monitors
                    .iter()
                    .map(|m| named(&m.name, &m.kind))
                    .collect(),
                servers: vec![named(&status.server.name, &status.server.comment)],
            }),
            _ => None,
        }
    }

    /// Reads the names from `etc/clp.conf` without validating it (a configuration with
    /// problems still names its objects), or from the default configuration.
    pub fn from_config(paths: &Paths) -> ClusterNames {
        let text = match std::fs::read_to_string(paths.config_file()) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                clp_core::config::DEFAULT_CONFIG.to_string()
            }
            Err(_) => return ClusterNames::default(),
        };
        let Ok(table) = text.parse::<toml::Table>() else {
            return ClusterNames::default();
        };
        // `[[key]]` (an array of tables) or a single `[key]`.
        let array = |table: &toml::Table, key: &str| -> Vec<toml::Table> {
            match table.get(key) {
                Some(toml::Value::Array(items)) => items
                    .iter()
                    .filter_map(|item| item.as_table().cloned())
                    .collect(),
                Some(toml::Value::Table(single)) => vec![single.clone()],
                _ => Vec::new(),
            }
        };
        let name = |table: &toml::Table| -> Option<String> {
            table
                .get("name")
                .and_then(toml::Value::as_str)
                .map(str::to_string)
        };
        let text_of = |table: &toml::Table, key: &str| -> String {
            table
                .get(key)
                .and_then(toml::Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let groups = array(&table, "group");
        ClusterNames {
            groups: groups
                .iter()
                .filter_map(|g| Some(named(&name(g)?, &text_of(g, "comment"))))
                .collect(),
            resources: groups
                .iter()
                .flat_map(|g| {
                    let group = name(g).unwrap_or_default();
                    array(g, "resource")
                        .into_iter()
                        .filter_map(move |r| {
                            Some(named(
                                &name(&r)?,
                                &format!("{} ({group})", text_of(&r, "type")),
                            ))
                        })
                        .collect::<Vec<_>>()
                })
                .collect(),
            monitors: array(&table, "monitor")
                .iter()
                .filter_map(|m| Some(named(&name(m)?, &text_of(m, "type"))))
                .collect(),
            servers: {
                // The configuration's server list where it has one, else this host.
                let listed: Vec<CompletionCandidate> = array(&table, "server")
                    .iter()
                    .filter_map(|s| Some(named(&name(s)?, &text_of(s, "comment"))))
                    .collect();
                if listed.is_empty() {
                    vec![named(&clp_core::config::host_name(), "")]
                } else {
                    listed
                }
            },
        }
    }
}

/// A candidate; its help is `help` when there is one.
fn named(name: &str, help: &str) -> CompletionCandidate {
    let candidate = CompletionCandidate::new(OsString::from(name));
    if help.trim().is_empty() {
        candidate
    } else {
        candidate.help(Some(help.to_string().into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_argument_completes_server_names_wherever_it_appears() {
        let command = with_completers(
            Command::new("clpgrp")
                .disable_help_flag(true)
                .arg(clap::Arg::new("host").short('h')),
        );
        let host = command
            .get_arguments()
            .find(|a| a.get_id() == "host")
            .unwrap();
        assert!(host.get::<ArgValueCandidates>().is_some());
    }

    #[test]
    fn every_log_type_name_parses() {
        for name in clp_core::logcollect::COLLECT_TYPE_NAMES {
            assert!(
                clp_core::logcollect::CollectType::parse(name).is_some(),
                "{name}"
            );
        }
    }

    #[test]
    fn names_from_a_configuration_with_problems() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::new(root.path());
        std::fs::create_dir_all(paths.config_file().parent().unwrap()).unwrap();
        std::fs::write(
            paths.config_file(),
            "[[group]]\nname = \"web\"\ncomment = \"front\"\n\
             [[group.resource]]\nname = \"exec1\"\ntype = \"exec\"\nbogus = 1\n\
             [[monitor]]\nname = \"ps1\"\ntype = \"psw\"\n",
        )
        .unwrap();
        let names = ClusterNames::from_config(&paths);
        let values = |c: &[CompletionCandidate]| {
            c.iter()
                .map(|c| c.get_value().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(values(&names.groups), ["web"]);
        assert_eq!(values(&names.resources), ["exec1"]);
        assert_eq!(values(&names.monitors), ["ps1"]);
    }
}
