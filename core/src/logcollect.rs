//! Log collection (`clplogcc`): the product's logs, configuration and status plus system
//! information, streamed into `<server>-log.tar.gz` with constant memory.
//!
//! The tarball is written to a temporary file and renamed into place only when complete, so
//! a full disk or any other failure leaves no partial tarball. What cannot be read goes into
//! the tarball's `MANIFEST.txt` with the reason; it never aborts the collection.
//!
//! Besides the files it holds `clp/effective-config.toml`: the configuration in force with
//! every default applied (also when no `clp.conf` was ever written), secrets masked. When
//! `etc/scripts` is clpcfctrl's link through `etc/current`, the scripts it leads to are
//! collected under `clp/etc/scripts` as well, where an operator looks for them.
//!
//! Progress is measured in bytes (what is read), so a large log folder moves the bar.
//!
//! The tarball leaves the machine, so it holds no secret: `etc/` is collected by an
//! allow-list (configuration files, scripts, issuers' public keys), a secret file
//! (`*.key`, `*.secret`, password files; [`crate::config::secrets::is_secret_file`]) is never
//! collected from anywhere, and every collected configuration has every secret value masked
//! by the one rule [`crate::config::secrets::is_secret_key`]. The tarball is written 0600,
//! and the folders clp makes for it ([`private_dir`]) are 0700.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::paths::Paths;

/// What to collect, with the original's type names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectType {
    /// The default set: clp's logs, configuration, status, and system information.
    Type1,
    /// Type 1 plus the system logs' rotated generations, the journal and sar data.
    Type2,
    /// The minimum: clp's own logs, alert log and configuration.
    Type3,
    /// What a proactive diagnosis needs: the same as type 2.
    Proactdiag,
}

/// Every collection type's name, as `-t` takes it (what shell completion offers).
pub const COLLECT_TYPE_NAMES: &[&str] = &["type1", "type2", "type3", "proactdiag"];

impl CollectType {
    /// Parses `type1`, `type2`, `type3`, `proactdiag`.
    pub fn parse(text: &str) -> Option<CollectType> {
        match text {
            "type1" => Some(CollectType::Type1),
            "type2" => Some(CollectType::Type2),
            "type3" => Some(CollectType::Type3),
            "proactdiag" => Some(CollectType::Proactdiag),
            _ => None,
        }
    }

    fn system_info(self) -> bool {
        self != CollectType::Type3
    }

    fn wide(self) -> bool {
        matches!(self, CollectType::Type2 | CollectType::Proactdiag)
    }
}

/// How one collection runs.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// What to collect.
    pub kind: CollectType,
    /// Where the tarball goes.
    pub out_dir: PathBuf,
    /// How many rotated generations of the system log to take (`-r`).
    pub syslog_generations: u32,
}

/// How far a collection is, for a progress display: bytes read of the bytes planned.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Bytes read and written into the tarball so far.
    pub done: u64,
    /// Bytes in all, as planned (commands' output is added once it is known).
    pub total: u64,
    /// The entry being written.
    pub item: String,
}

/// How often, in bytes read, a large file reports progress.
const PROGRESS_STEP: u64 = 1 << 20;

/// The result of a collection.
#[derive(Debug, Clone)]
pub struct Collected {
    /// The tarball.
    pub tarball: PathBuf,
    /// Entries written.
    pub entries: usize,
    /// Items that could not be read (listed in the manifest).
    pub skipped: usize,
}

/// Why a collection failed.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The output folder is not usable.
    #[error("cannot use the output folder {}: {source}", dir.display())]
    OutDir {
        /// The folder.
        dir: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// Writing the tarball failed; nothing was left behind.
    #[error("cannot write {}: {source}{}", path.display(), if *no_space { "; free some space or choose another folder with -o" } else { "" })]
    Write {
        /// The tarball being written.
        path: PathBuf,
        /// The cause.
        source: io::Error,
        /// The disk is full.
        no_space: bool,
    },
}

impl CollectError {
    /// Whether the disk was full (the original prints `No Freespace`).
    pub fn no_space(&self) -> bool {
        matches!(self, CollectError::Write { no_space: true, .. })
    }
}

/// How the files under a collected path are chosen and treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// clp's logs: every file but a secret file.
    Logs,
    /// clp's configuration: only what the allow-list names, secrets masked.
    Config,
    /// System information: as it is.
    System,
}

/// What goes into the tarball.
enum Item {
    /// A file or a folder (recursively) under a name.
    Path {
        name: String,
        path: PathBuf,
        rule: Rule,
    },
    /// A command's output, at most `tail` last lines when given.
    Command {
        name: String,
        argv: Vec<String>,
        tail: Option<usize>,
    },
    /// Bytes the caller produced (the clpstat output).
    Bytes { name: String, bytes: Vec<u8> },
}

impl Item {
    fn name(&self) -> &str {
        match self {
            Item::Path { name, .. } | Item::Command { name, .. } | Item::Bytes { name, .. } => name,
        }
    }
}

fn command(name: &str, argv: &[&str], tail: Option<usize>) -> Item {
    Item::Command {
        name: name.to_string(),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        tail,
    }
}

fn path(name: &str, path: impl Into<PathBuf>) -> Item {
    Item::Path {
        name: name.to_string(),
        path: path.into(),
        rule: Rule::System,
    }
}

fn plan(paths: &Paths, options: &CollectOptions, extra: Vec<(String, Vec<u8>)>) -> Vec<Item> {
    let mut items = vec![
        Item::Path {
            name: "clp/log".into(),
            path: paths.log_dir(),
            rule: Rule::Logs,
        },
        Item::Path {
            name: "clp/etc".into(),
            path: paths.etc_dir(),
            rule: Rule::Config,
        },
    ];
    // clpcfctrl's etc/scripts is a link through etc/current: the walk of etc/ records the
    // link; the scripts themselves are collected here, under the name operators look for.
    let scripts = paths.scripts_dir();
    if std::fs::symlink_metadata(&scripts).is_ok_and(|m| m.file_type().is_symlink())
        && let Ok(target) = std::fs::canonicalize(&scripts)
        && target.is_dir()
    {
        items.push(Item::Path {
            name: "clp/etc/scripts".into(),
            path: target,
            rule: Rule::Config,
        });
    }
    items.push(Item::Bytes {
        name: "clp/effective-config.toml".into(),
        bytes: effective_config(paths).into_bytes(),
    });
    items.extend(
        extra
            .into_iter()
            .map(|(name, bytes)| Item::Bytes { name, bytes }),
    );
    if options.kind.system_info() {
        items.extend([
            command("system/uname.txt", &["uname", "-a"], None),
            path("system/os-release", "/etc/os-release"),
            command("system/ps.txt", &["ps", "auxww"], None),
            command("system/df.txt", &["df", "-h"], None),
            command("system/free.txt", &["free", "-m"], None),
            command("system/ip-addr.txt", &["ip", "addr"], None),
            command("system/dmesg.txt", &["dmesg"], Some(2000)),
            path("system/proc-meminfo", "/proc/meminfo"),
            path("system/proc-cpuinfo", "/proc/cpuinfo"),
        ]);
        let journal_lines = if options.kind.wide() { 20_000 } else { 5_000 };
        if Path::new("/run/systemd/journal").exists() {
            let lines = journal_lines.to_string();
            items.push(Item::Command {
                name: "system/journal.txt".into(),
                argv: vec!["journalctl".into(), "--no-pager".into(), "-n".into(), lines],
                tail: None,
            });
        }
        for log in ["/var/log/messages", "/var/log/syslog"] {
            if Path::new(log).exists() {
                let base = Path::new(log)
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("messages");
                items.push(path(&format!("system/{base}"), log));
                for generation in 1..=options.syslog_generations {
                    let rotated = format!("{log}.{generation}");
                    if Path::new(&rotated).exists() {
                        items.push(path(&format!("system/{base}.{generation}"), rotated));
                    }
                }
            }
        }
        if options.kind.wide() {
            for sar in ["/var/log/sa", "/var/log/sysstat"] {
                if Path::new(sar).is_dir() {
                    items.push(path("system/sar", sar));
                }
            }
        }
    }
    items
}

/// The configuration in force (`etc/clp.conf`, or the default configuration without one)
/// with every default applied, every secret masked, as TOML; or why it does not load.
pub fn effective_config(paths: &Paths) -> String {
    let source = if paths.config_file().exists() {
        paths.config_file().display().to_string()
    } else {
        format!(
            "no {} was written: the default configuration",
            paths.config_file().display()
        )
    };
    let mut text = format!(
        "# The configuration in force, every default applied (collected by clplogcc; clp does\n\
         # not read this file). Source: {source}.\n\
         # clp's model of it: [[monitors]] with kind = the type; durations in seconds.\n\
         # Every secret value is replaced by {}.\n\n",
        crate::config::SECRET_MASK
    );
    let config = match crate::config::load(paths) {
        Ok(config) => config,
        Err(error) => {
            let error = crate::config::secrets::mask_lines(&error.to_string());
            for line in error.lines() {
                text.push_str(&format!("# it does not load: {line}\n"));
            }
            return text;
        }
    };
    match toml::Table::try_from(&config).map(|mut table| {
        crate::config::secrets::mask_table(&mut table);
        table
            .iter_mut()
            .for_each(|(_, value)| plain_durations(value));
        toml::to_string(&table)
    }) {
        Ok(Ok(toml)) => text.push_str(&toml),
        Ok(Err(error)) | Err(error) => {
            text.push_str(&format!("# it cannot be written as TOML: {error}\n"));
        }
    }
    text
}

/// Every duration (`{ secs, nanos }`) at any depth as seconds: an integer when whole.
fn plain_durations(value: &mut toml::Value) {
    if let toml::Value::Table(table) = value {
        if table.len() == 2
            && let (Some(toml::Value::Integer(secs)), Some(toml::Value::Integer(nanos))) =
                (table.get("secs"), table.get("nanos"))
        {
            *value = if *nanos == 0 {
                toml::Value::Integer(*secs)
            } else {
                toml::Value::Float(*secs as f64 + *nanos as f64 / 1e9)
            };
            return;
        }
        table
            .iter_mut()
            .for_each(|(_, value)| plain_durations(value));
    } else if let toml::Value::Array(items) = value {
        items.iter_mut().for_each(plain_durations);
    }
}

/// How one file of the configuration is collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Treatment {
    /// As it is (a public key).
    Plain,
    /// A configuration file: masked key by key (TOML) or line by line.
    MaskedConfig,
    /// A script: masked line by line (`PASSWORD=...`).
    MaskedLines,
    /// Not on the allow-list.
    Refused,
}

/// The allow-list of `etc/`: configuration files by extension, scripts, public keys.
fn config_treatment(name: &str) -> Treatment {
    let file = name.rsplit('/').next().unwrap_or(name);
    let extension = file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    if name
        .split('/')
        .any(|part| part == "scripts" || part == "monitor.s")
    {
        return Treatment::MaskedLines;
    }
    match extension.as_deref() {
        Some("conf" | "toml" | "xml" | "json" | "yaml" | "yml" | "ini" | "cfg") => {
            Treatment::MaskedConfig
        }
        Some("pub") => Treatment::Plain,
        _ => Treatment::Refused,
    }
}

/// The largest configuration file masked (read whole to mask it).
const MAX_MASKED_BYTES: u64 = 16 * 1024 * 1024;

/// Makes `dir` (and missing parents) a folder only its owner may enter (0700).
pub fn private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Exactly `size` bytes of `reader`: a file that grows or shrinks while it is read must not
/// corrupt the archive (its header already carries the size).
fn exactly(reader: impl Read, size: u64) -> impl Read {
    reader.take(size).chain(io::repeat(0)).take(size)
}

/// A reader that counts what it reads and reports progress every [`PROGRESS_STEP`] bytes.
struct Counting<'a, 'p, R> {
    inner: R,
    meter: &'a mut Meter<'p>,
}

impl<R: Read> Read for Counting<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.meter.advance(read as u64);
        Ok(read)
    }
}

/// Bytes done of bytes planned, and the caller's progress callback.
struct Meter<'p> {
    done: u64,
    total: u64,
    reported: u64,
    item: String,
    callback: &'p mut dyn FnMut(&Progress),
}

impl Meter<'_> {
    fn advance(&mut self, bytes: u64) {
        self.done += bytes;
        if self.done >= self.reported + PROGRESS_STEP {
            self.report();
        }
    }

    fn report(&mut self) {
        // What was planned may have grown (a log written meanwhile): never past the end.
        self.total = self.total.max(self.done);
        self.reported = self.done;
        (self.callback)(&Progress {
            done: self.done,
            total: self.total,
            item: self.item.clone(),
        });
    }
}

/// The bytes a file or folder will add (what [`Writer::path`] will read), for the total.
fn planned_size(path: &Path) -> u64 {
    let Ok(link) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    let Ok(meta) = std::fs::metadata(path) else {
        return 0;
    };
    if meta.is_dir() {
        if link.file_type().is_symlink() {
            return 0;
        }
        return std::fs::read_dir(path)
            .map(|entries| entries.flatten().map(|e| planned_size(&e.path())).sum())
            .unwrap_or(0);
    }
    meta.len()
}

struct Writer<'p> {
    builder: tar::Builder<GzEncoder<BufWriter<File>>>,
    prefix: String,
    entries: usize,
    manifest: Vec<String>,
    skipped: usize,
    meter: Meter<'p>,
}

impl<'p> Writer<'p> {
    fn header(size: u64, mode: u32) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_size(size);
        header.set_mode(mode);
        header.set_mtime(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        );
        header.set_entry_type(tar::EntryType::Regular);
        header
    }

    fn bytes(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let mut header = Self::header(bytes.len() as u64, 0o644);
        self.builder
            .append_data(&mut header, format!("{}/{name}", self.prefix), bytes)?;
        self.meter.advance(bytes.len() as u64);
        self.entries += 1;
        self.manifest.push(format!("ok      {name}"));
        Ok(())
    }

    fn skip(&mut self, name: &str, why: impl std::fmt::Display) {
        self.skipped += 1;
        self.manifest.push(format!("skipped {name}: {why}"));
    }

    /// Adds a file, or a folder recursively, by `rule`; only write errors are returned.
    fn path(&mut self, name: &str, path: &Path, rule: Rule) -> io::Result<()> {
        // A link to a folder (clpcfctrl's etc/current, etc/scripts) is collected where it
        // points, once, not again through every link.
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
            && std::fs::metadata(path).is_ok_and(|m| m.is_dir())
        {
            let target = std::fs::read_link(path).unwrap_or_default();
            self.manifest
                .push(format!("link    {name} -> {}", target.display()));
            return Ok(());
        }
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(error) => {
                self.skip(name, format!("{}: {error}", path.display()));
                return Ok(());
            }
        };
        if meta.is_dir() {
            let mut children = match std::fs::read_dir(path) {
                Ok(entries) => entries.flatten().map(|e| e.path()).collect::<Vec<_>>(),
                Err(error) => {
                    self.skip(name, format!("{}: {error}", path.display()));
                    return Ok(());
                }
            };
            children.sort();
            for child in children {
                let file_name = child
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("?")
                    .to_string();
                self.path(&format!("{name}/{file_name}"), &child, rule)?;
            }
            return Ok(());
        }
        if !meta.is_file() {
            self.skip(name, "not a regular file");
            return Ok(());
        }
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if rule != Rule::System && crate::config::secrets::is_secret_file(file_name) {
            self.skip(
                name,
                "a secret file (keys and passwords are never collected)",
            );
            self.meter.advance(meta.len());
            return Ok(());
        }
        let treatment = if rule == Rule::Config {
            config_treatment(name)
        } else {
            Treatment::Plain
        };
        match treatment {
            Treatment::Plain => {}
            Treatment::Refused => {
                self.skip(name, "not on the allow-list of configuration files");
                self.meter.advance(meta.len());
                return Ok(());
            }
            Treatment::MaskedConfig | Treatment::MaskedLines => {
                // Read (or skipped) whole: the file's size counts as done either way.
                let result = self.masked(name, path, meta.len(), treatment);
                self.meter.advance(meta.len());
                return result;
            }
        }
        let file = match File::open(path) {
            Ok(file) => file,
            Err(error) => {
                self.skip(name, format!("{}: {error}", path.display()));
                self.meter.advance(meta.len());
                return Ok(());
            }
        };
        use std::os::unix::fs::PermissionsExt;
        // /proc files report size 0: read those whole (they are small).
        if meta.len() == 0 && path.starts_with("/proc") {
            let mut bytes = Vec::new();
            if let Err(error) = (&file).read_to_end(&mut bytes) {
                self.skip(name, format!("{}: {error}", path.display()));
                return Ok(());
            }
            return self.bytes(name, &bytes);
        }
        let mut header = Self::header(meta.len(), meta.permissions().mode() & 0o777);
        self.meter.item = name.to_string();
        let counting = Counting {
            inner: exactly(file, meta.len()),
            meter: &mut self.meter,
        };
        self.builder
            .append_data(&mut header, format!("{}/{name}", self.prefix), counting)?;
        self.entries += 1;
        self.manifest.push(format!("ok      {name}"));
        Ok(())
    }

    /// Adds a configuration file with every secret masked (or skips it, saying why).
    fn masked(
        &mut self,
        name: &str,
        path: &Path,
        size: u64,
        treatment: Treatment,
    ) -> io::Result<()> {
        use crate::config::secrets;
        if size > MAX_MASKED_BYTES {
            self.skip(
                name,
                format!("larger than {MAX_MASKED_BYTES} bytes: not masked, so not collected"),
            );
            return Ok(());
        }
        let text = match std::fs::read(path).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => {
                self.skip(name, "not text: cannot be masked, so not collected");
                return Ok(());
            }
            Err(error) => {
                self.skip(name, format!("{}: {error}", path.display()));
                return Ok(());
            }
        };
        let masked = match treatment {
            Treatment::MaskedConfig => secrets::mask_config_text(&text),
            _ => secrets::mask_lines(&text),
        };
        let mut header = Self::header(masked.len() as u64, 0o600);
        self.builder.append_data(
            &mut header,
            format!("{}/{name}", self.prefix),
            masked.as_bytes(),
        )?;
        self.entries += 1;
        self.manifest.push(format!("masked  {name}"));
        Ok(())
    }

    fn command(&mut self, name: &str, argv: &[String], tail: Option<usize>) -> io::Result<()> {
        let Some((program, args)) = argv.split_first() else {
            return Ok(());
        };
        let output = match Command::new(program).args(args).env("LANG", "C").output() {
            Ok(output) => output,
            Err(error) => {
                self.skip(name, format!("{}: {error}", argv.join(" ")));
                return Ok(());
            }
        };
        let mut text = output.stdout;
        if !output.stderr.is_empty() {
            text.extend_from_slice(b"\n--- stderr ---\n");
            text.extend_from_slice(&output.stderr);
        }
        if let Some(lines) = tail {
            let all: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
            let start = all.len().saturating_sub(lines);
            text = all[start..].join(&b'\n');
        }
        // A command's output is known only now: it adds to the total.
        self.meter.total += text.len() as u64;
        self.bytes(name, &text)
    }
}

/// Collects into `<out_dir>/<server>-log.tar.gz` (0600; `out_dir` must exist: see
/// [`private_dir`]); `extra` adds caller-made entries (such as the clpstat output);
/// `progress` is called after each item and every `PROGRESS_STEP` bytes of a large file,
/// and last with `done == total`.
pub fn collect(
    paths: &Paths,
    server: &str,
    options: &CollectOptions,
    extra: Vec<(String, Vec<u8>)>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Collected, CollectError> {
    match std::fs::metadata(&options.out_dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(CollectError::OutDir {
                dir: options.out_dir.clone(),
                source: io::Error::other("not a folder"),
            });
        }
        Err(source) => {
            return Err(CollectError::OutDir {
                dir: options.out_dir.clone(),
                source,
            });
        }
    }
    let tarball = crate::paths::log_tarball(&options.out_dir, server);
    let partial = crate::paths::log_tarball_partial(&options.out_dir, server);
    let write_error = |source: io::Error| CollectError::Write {
        path: tarball.clone(),
        no_space: source.raw_os_error() == Some(libc::ENOSPC),
        source,
    };
    let file = {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&partial)
            .map_err(write_error)?;
        // A partial file left by an earlier run keeps its mode: set it.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(write_error)?;
        file
    };
    let items = plan(paths, options, extra);
    let total: u64 = items
        .iter()
        .map(|item| match item {
            Item::Path { path, .. } => planned_size(path),
            Item::Bytes { bytes, .. } => bytes.len() as u64,
            Item::Command { .. } => 0,
        })
        .sum();
    let result = (|| -> io::Result<(usize, usize, u64)> {
        let mut writer = Writer {
            builder: tar::Builder::new(GzEncoder::new(
                BufWriter::new(file),
                Compression::default(),
            )),
            prefix: format!("{server}-log"),
            entries: 0,
            manifest: Vec::new(),
            skipped: 0,
            meter: Meter {
                done: 0,
                total,
                reported: 0,
                item: String::new(),
                callback: &mut *progress,
            },
        };
        for item in &items {
            writer.meter.item = item.name().to_string();
            match item {
                Item::Path { name, path, rule } => writer.path(name, path, *rule)?,
                Item::Command { name, argv, tail } => writer.command(name, argv, *tail)?,
                Item::Bytes { name, bytes } => writer.bytes(name, bytes)?,
            }
            writer.meter.item = item.name().to_string();
            writer.meter.report();
        }
        let mut manifest = format!(
            "clp log collection of {server}, {}\n\
             Secret files are never collected; in every configuration collected (masked) each \
             secret value is replaced by {}.\n",
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S %z"),
            crate::config::SECRET_MASK
        );
        for line in &writer.manifest {
            manifest.push_str(line);
            manifest.push('\n');
        }
        let (entries, skipped) = (writer.entries + 1, writer.skipped);
        writer.meter.total += manifest.len() as u64;
        writer.bytes("MANIFEST.txt", manifest.as_bytes())?;
        let done = writer.meter.done.max(writer.meter.total);
        let encoder = writer.builder.into_inner()?;
        let mut buffered = encoder.finish()?;
        buffered.flush()?;
        let file = buffered.into_inner().map_err(|error| error.into_error())?;
        file.sync_all()?;
        Ok((entries, skipped, done))
    })();
    match result {
        Ok((entries, skipped, done)) => {
            std::fs::rename(&partial, &tarball).map_err(write_error)?;
            progress(&Progress {
                done,
                total: done,
                item: "done".into(),
            });
            Ok(Collected {
                tarball,
                entries,
                skipped,
            })
        }
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(write_error(error))
        }
    }
}

/// The newest `*-log.tar.gz` in a folder (what `clp_mlftp` uploads by default).
pub fn newest_tarball(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.ends_with("-log.tar.gz"))
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, path)| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_measured_in_bytes_and_moves_within_a_large_file() {
        let root = tempfile::tempdir().expect("a temporary root");
        let paths = Paths::new(root.path());
        std::fs::create_dir_all(paths.log_dir()).expect("log/");
        // 8 MiB in one file: the bar must move while it is read, not jump at its end.
        let big = 8 * 1024 * 1024;
        std::fs::write(paths.log_dir().join("big.log"), vec![b'x'; big]).expect("big.log");
        std::fs::write(paths.log_dir().join("small.log"), "small\n").expect("small.log");
        let out_dir = root.path().join("out");
        private_dir(&out_dir).expect("out/");
        let options = CollectOptions {
            kind: CollectType::Type3,
            out_dir,
            syslog_generations: 0,
        };
        let mut seen = Vec::new();
        collect(&paths, "vm", &options, Vec::new(), &mut |progress| {
            seen.push(progress.clone())
        })
        .expect("collected");
        let first_total = seen.first().expect("progress").total;
        assert!(first_total >= big as u64, "the total is in bytes: {seen:?}");
        let within: Vec<_> = seen
            .iter()
            .filter(|p| p.item == "clp/log/big.log")
            .map(|p| p.done)
            .collect();
        assert!(
            within.len() >= 4 && within.iter().all(|done| *done < big as u64 + 100),
            "progress inside big.log: {within:?}"
        );
        assert!(seen.windows(2).all(|w| w[0].done <= w[1].done), "{seen:?}");
        assert!(seen.iter().all(|p| p.done <= p.total), "{seen:?}");
        let last = seen.last().expect("progress");
        assert_eq!(last.done, last.total);
        assert!(last.done >= big as u64);
    }
}
