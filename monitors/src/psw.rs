//! `psw`: enough processes of a name are running.
//!
//! Parameters (the original's names, reference §4):
//! - `processname` (required): a shell-style wildcard pattern, as in the original's
//!   `sleep*`. It must match the whole command line (the arguments joined by single spaces,
//!   as `ps -eo args` shows them) or the whole process name (`/proc/PID/comm`, at most 15
//!   characters). `*` matches any run of characters, `?` one character, `[abc]`, `[a-z]` and
//!   `[!a-z]` one character of (or not of) a set; `\` makes the next character literal.
//! - `processnum` (default `1`, 1–999): the fewest matching processes that is still Normal.
//!
//! Defaults: interval 5 s, timeout 60 s, retry 0 are the reference's recollection \[M\].
//!
//! Each check matches a process table shared by every psw monitor (zombies do not count).
//! Every process found is watched through a pidfd by a small background task, so the probe
//! knows of a death the moment the kernel does: it fires its wake-up and the engine checks
//! at once, naming the processes that went down since the last check.
//!
//! The table is read whole (every process's command line and name) when a check finds too
//! few processes in it, and at least every `FULL_MAX_AGE` (60 s); in between, each second, only
//! the command lines of the processes some monitor watches are read again, and of those only
//! the ones whose process ran since its last read (`proc_files`). A check counts a
//! process only from a read of the last `TABLE_MAX_AGE` (1 s) or so: what it watches is read
//! again each time, and a process it does not watch yet counts only from a whole read.
//!
//! Detail codes (ours; the original's table of detail codes was not available): 11 fewer
//! processes than `processnum`, some of them seen to die since the last check; 12 fewer
//! processes than `processnum` (none seen to die: they never ran, or were gone before).

use clp_core::monitor::params::valid;
use clp_core::monitor::psw::*;
use clp_core::monitor::spec::ProbeSettings;
use clp_core::monitor::{CheckFuture, CheckOutcome, Probe, ProbeContext};
use clp_core::os_action::OsActions;
use clp_core::process::{ProcessIdentity, wait_for_exit};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

mod proc_files;
use proc_files::{name_of, read_again, read_table};

/// At most this many processes are watched by pidfd (a pattern like `*` matches them all;
/// the count is still exact, only the names of the dead may be incomplete).
const MAX_WATCHED: usize = 1024;

/// Builds the probe of a validated monitor ([`clp_core::monitor::spec::BuildProbe`]).
pub fn build(config: &ProbeSettings<'_>, _: &OsActions) -> Result<Box<dyn Probe>, String> {
    let params = valid(parse(config.parameters))?;
    Ok(Box::new(Psw::new(params)?))
}

/// A process found by a scan.
#[derive(Debug, Clone)]
struct Found {
    identity: ProcessIdentity,
    command: String,
}

/// One row of the process table: what a pattern is matched against.
#[derive(Debug, Clone)]
struct ProcessRow {
    pid: u32,
    /// The arguments joined by spaces (empty for kernel threads).
    command: String,
    /// The `comm` name.
    name: String,
}

/// How old a process table may be before a check asks for a new one. Every psw monitor
/// shares one read of /proc; a stale table still serves a check that finds enough
/// processes while the new one is read in the background: each process found is checked
/// to be alive and the same (start time) before it counts, and deaths are seen at once
/// anyway, through the pidfds. A check that finds too few waits for a table read after it
/// began, so a stale table never makes a fault.
const TABLE_MAX_AGE: Duration = Duration::from_secs(1);

/// How old the whole table may grow while every monitor finds enough processes: a process
/// started since is found (and watched) by then. A check that finds too few always reads
/// it whole first, so this bounds no fault's detection: a process not yet watched only
/// goes unnamed in the detail of a death (code 11) and does not add to a count that is
/// enough already. A whole read costs ~12 µs a process (two `/proc` files opened, read
/// and closed): at 500 processes, every 10 s was ~0.06 % of a core, most of psw's cost in
/// `benches/scale`.
const FULL_MAX_AGE: Duration = Duration::from_secs(60);

/// A process table and when its read began.
type Table = (Instant, Arc<ProcessTable>);

/// The pids some psw monitor watches, with how many watch each: a table read that is not
/// whole reads their command lines again.
static WATCHED_PIDS: std::sync::LazyLock<std::sync::Mutex<HashMap<u32, usize>>> =
    std::sync::LazyLock::new(Default::default);

/// How many psw monitors find more processes than they watch ([`MAX_WATCHED`]): while any
/// does, every table read is whole, since its count relies on processes it does not watch.
static OVERFLOWING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn watched_pids() -> std::sync::MutexGuard<'static, HashMap<u32, usize>> {
    WATCHED_PIDS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One monitor's watch of a pid, counted in [`WATCHED_PIDS`] while it lives.
#[derive(Debug)]
struct Registration(u32);

impl Registration {
    fn new(pid: u32) -> Registration {
        *watched_pids().entry(pid).or_default() += 1;
        Registration(pid)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut pids = watched_pids();
        if let Some(count) = pids.get_mut(&self.0) {
            *count -= 1;
            if *count == 0 {
                pids.remove(&self.0);
            }
        }
    }
}

/// Which end of a text an index of the table looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Start,
    Finish,
}

/// The rows of one read of /proc, with indexes by their literal ends: a pattern with a
/// literal start or end (`*/w00001.pid`) is matched only against the rows whose command
/// line or name has it, found by a binary search, instead of against every row (200 psw
/// monitors × 1,000 processes were 200,000 matches a second). An index is built on first
/// use, once per table, end and length, and serves every pattern of that length.
#[derive(Debug, Default)]
struct Listing {
    rows: Vec<ProcessRow>,
    /// Per end and byte length: (hash of that many bytes at that end of the command line
    /// or of the name, row), sorted.
    indexes: std::sync::Mutex<Vec<(End, usize, EndIndex)>>,
}

/// A process table: the last whole read of /proc, and what was read again since.
#[derive(Debug)]
struct ProcessTable {
    listing: Arc<Listing>,
    /// When the whole read began.
    listed_at: Instant,
    /// When this table's read began (`listed_at` for a whole read).
    read_at: Instant,
    /// The command lines of the watched processes, read again at `read_at` (None: gone).
    reread: HashMap<u32, Option<String>>,
}

/// A row of a table as it stands at the table's read: its command line read then.
struct CurrentRow<'a> {
    pid: u32,
    command: &'a str,
    /// The name from the whole read; for a command line read again, None: read it if the
    /// match needs it.
    name: Option<&'a str>,
}

impl ProcessTable {
    /// A whole read.
    fn whole(read_at: Instant, rows: Vec<ProcessRow>) -> ProcessTable {
        ProcessTable {
            listing: Arc::new(Listing::new(rows)),
            listed_at: read_at,
            read_at,
            reread: HashMap::new(),
        }
    }

    /// The rows `pattern` may match, as they stand at this table's read: a row of the
    /// whole read counts when that read is this table's, or when its command line was
    /// read again.
    fn candidates(&self, pattern: &Wildcard) -> Vec<CurrentRow<'_>> {
        let whole = self.listed_at == self.read_at;
        self.listing
            .candidates(pattern)
            .into_iter()
            .filter_map(|row| match self.reread.get(&row.pid) {
                Some(Some(command)) => Some(CurrentRow {
                    pid: row.pid,
                    command,
                    name: None,
                }),
                Some(None) => None,
                None if whole => Some(CurrentRow {
                    pid: row.pid,
                    command: &row.command,
                    name: Some(&row.name),
                }),
                None => None,
            })
            .collect()
    }
}

/// (hash of a row's end, row), sorted: one index of a [`ProcessTable`].
type EndIndex = Arc<Vec<(u64, u32)>>;

/// The hash an index files a text's end under (equal bytes, equal hash; a collision only
/// adds a candidate, which the full match then refuses).
fn end_hash(bytes: &[u8]) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(bytes)
}

/// `length` bytes at `end` of `text` (None when it is shorter).
fn end_of(text: &str, end: End, length: usize) -> Option<&[u8]> {
    let bytes = text.as_bytes();
    let start = match end {
        End::Start => 0,
        End::Finish => bytes.len().checked_sub(length)?,
    };
    bytes.get(start..start + length)
}

impl Listing {
    fn new(rows: Vec<ProcessRow>) -> Listing {
        Listing {
            rows,
            indexes: std::sync::Mutex::default(),
        }
    }

    /// The index of `length` bytes at `end`, built now if this table has none yet.
    fn index(&self, end: End, length: usize) -> EndIndex {
        let mut indexes = self
            .indexes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, _, index)) = indexes.iter().find(|(e, l, _)| *e == end && *l == length) {
            return Arc::clone(index);
        }
        let mut index = Vec::with_capacity(self.rows.len() * 2);
        for (row, process) in (0_u32..).zip(&self.rows) {
            for text in [&process.command, &process.name] {
                if let Some(bytes) = end_of(text, end, length) {
                    index.push((end_hash(bytes), row));
                }
            }
        }
        index.sort_unstable();
        index.dedup();
        let index = Arc::new(index);
        indexes.push((end, length, Arc::clone(&index)));
        index
    }

    /// The rows `pattern` may match, in table order: those whose command line or name has
    /// the pattern's literal end (its start when it ends with a wildcard), or every row
    /// when the pattern has neither.
    fn candidates(&self, pattern: &Wildcard) -> Vec<&ProcessRow> {
        let (end, literal) = if !pattern.literal_suffix().is_empty() {
            (End::Finish, pattern.literal_suffix())
        } else if !pattern.literal_prefix().is_empty() {
            (End::Start, pattern.literal_prefix())
        } else {
            return self.rows.iter().collect();
        };
        let index = self.index(end, literal.len());
        let hash = end_hash(literal.as_bytes());
        let first = index.partition_point(|(h, _)| *h < hash);
        let mut rows: Vec<u32> = index[first..]
            .iter()
            .take_while(|(h, _)| *h == hash)
            .map(|(_, row)| *row)
            .collect();
        rows.sort_unstable();
        rows.dedup();
        rows.iter()
            .filter_map(|row| self.rows.get(*row as usize))
            .collect()
    }
}

/// The shared process table: the newest, and whether a read is under way.
#[derive(Default)]
struct TableCache {
    table: Option<Table>,
    refreshing: bool,
}

static TABLE: std::sync::LazyLock<std::sync::Mutex<TableCache>> =
    std::sync::LazyLock::new(|| std::sync::Mutex::new(TableCache::default()));

/// Woken when a new table is in place.
static TABLE_READ: std::sync::LazyLock<Notify> = std::sync::LazyLock::new(Notify::new);

/// The process table, read off the async threads and shared by all psw monitors: the
/// newest one (a new read starts in the background when it is older than
/// [`TABLE_MAX_AGE`]), or with `since` one read whole after `since`.
async fn process_table(since: Option<Instant>) -> Table {
    loop {
        // Created before the cache is looked at, so that a read that ends after the look
        // wakes it: a `Notified` receives every `notify_waiters` made after its creation,
        // polled or not. Not enabled: a check that finds a usable table returns without
        // touching the Notify's waiter list.
        let read = TABLE_READ.notified();
        let (usable, start_read) = {
            let mut cache = TABLE
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let stale = cache.table.as_ref().is_none_or(|(read_at, table)| {
                read_at.elapsed() >= TABLE_MAX_AGE
                    || since.is_some_and(|since| table.listed_at < since)
            });
            let start_read = stale && !cache.refreshing;
            if start_read {
                cache.refreshing = true;
            }
            let usable = cache
                .table
                .as_ref()
                .filter(|(_, table)| since.is_none_or(|since| table.listed_at >= since))
                .map(|(read_at, table)| (*read_at, Arc::clone(table)));
            // What a read that is not whole builds on: the last whole one, while it is
            // young enough and every monitor's count rests on processes it watches.
            let partial_base = cache
                .table
                .as_ref()
                .filter(|(_, table)| {
                    since.is_none()
                        && table.listed_at.elapsed() < FULL_MAX_AGE
                        && OVERFLOWING.load(Ordering::SeqCst) == 0
                })
                .map(|(_, table)| (table.listed_at, Arc::clone(&table.listing)));
            (usable, start_read.then_some(partial_base))
        };
        if let Some(base) = start_read {
            tokio::spawn(async move {
                let read = match base {
                    Some((listed_at, listing)) => {
                        let pids: Vec<u32> = watched_pids().keys().copied().collect();
                        tokio::task::spawn_blocking(move || {
                            let read_at = Instant::now();
                            let reread = read_again(&pids);
                            ProcessTable {
                                listing,
                                listed_at,
                                read_at,
                                reread,
                            }
                        })
                        .await
                    }
                    None => {
                        tokio::task::spawn_blocking(|| {
                            let read_at = Instant::now();
                            ProcessTable::whole(read_at, read_table())
                        })
                        .await
                    }
                };
                {
                    let mut cache = TABLE
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    if let Ok(table) = read {
                        cache.table = Some((table.read_at, Arc::new(table)));
                    }
                    cache.refreshing = false;
                }
                TABLE_READ.notify_waiters();
            });
        }
        if let Some(table) = usable {
            return table;
        }
        read.await;
    }
}

/// Every live process of `table` whose command line or name matches. A process already
/// `watched` through a pidfd that has not fired is the same process and alive (its pid cannot be
/// reused before it dies, and its death, zombie or reaped, fires the pidfd): it counts
/// without reading its `/proc/PID/stat` again. A death in the instant before its watcher
/// runs is caught by the wake-up that watcher then fires, which checks again at once.
fn scan(pattern: &Wildcard, table: &ProcessTable, watched: &HashMap<u32, Watched>) -> Vec<Found> {
    let mut found = Vec::new();
    for row in table.candidates(pattern) {
        let read_name;
        let command_matches = pattern.matches(row.command);
        let name = match row.name {
            Some(name) => name,
            None if command_matches => "",
            None => {
                read_name = name_of(row.pid);
                &read_name
            }
        };
        if !(command_matches || (!name.is_empty() && pattern.matches(name))) {
            continue;
        }
        let identity = match watched.get(&row.pid) {
            Some(watched)
                if !watched.died.load(Ordering::SeqCst)
                    && !watched.unwatched.load(Ordering::SeqCst) =>
            {
                watched.identity
            }
            // The table may be a little old: the process must still be the same and alive.
            _ => match ProcessIdentity::of_live(row.pid) {
                Some(identity) => identity,
                None => continue,
            },
        };
        let command = if row.command.is_empty() {
            format!("[{name}]")
        } else {
            row.command.to_string()
        };
        found.push(Found { identity, command });
    }
    found
}

/// A process watched by pidfd.
#[derive(Debug)]
struct Watched {
    identity: ProcessIdentity,
    command: String,
    died: Arc<AtomicBool>,
    /// Set when its pidfd could not be had: its death would not be seen, so it is not
    /// trusted to be alive.
    unwatched: Arc<AtomicBool>,
    watcher: JoinHandle<()>,
    /// Its command line is read again with every table.
    _registration: Registration,
}

/// The psw probe.
#[derive(Debug)]
pub struct Psw {
    params: PswParams,
    pattern: Wildcard,
    watched: HashMap<u32, Watched>,
    wake: Arc<Notify>,
    /// Its last check found more processes than it watches (counted in [`OVERFLOWING`]).
    overflowing: bool,
}

impl Psw {
    /// The probe of `params`.
    pub fn new(params: PswParams) -> Result<Psw, String> {
        Ok(Psw {
            pattern: Wildcard::new(&params.processname)?,
            params,
            watched: HashMap::new(),
            wake: Arc::new(Notify::new()),
            overflowing: false,
        })
    }

    /// Notified the moment a watched process dies (the engine's wake-up hook).
    pub fn wake(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    fn watch(&mut self, found: &Found) {
        let died = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&died);
        let unwatched = Arc::new(AtomicBool::new(false));
        let failed = Arc::clone(&unwatched);
        let wake = Arc::clone(&self.wake);
        let pid = found.identity.pid;
        let watcher = tokio::spawn(async move {
            if wait_for_exit(pid).await.is_ok() {
                flag.store(true, Ordering::SeqCst);
                wake.notify_one();
            } else {
                // No pidfd (out of descriptors, or gone already): `scan` reads its stat.
                failed.store(true, Ordering::SeqCst);
            }
        });
        self.watched.insert(
            pid,
            Watched {
                identity: found.identity,
                command: found.command.clone(),
                died,
                unwatched,
                watcher,
                _registration: Registration::new(pid),
            },
        );
    }

    /// Says whether this monitor finds more processes than it watches.
    fn set_overflowing(&mut self, overflowing: bool) {
        if overflowing != self.overflowing {
            self.overflowing = overflowing;
            if overflowing {
                OVERFLOWING.fetch_add(1, Ordering::SeqCst);
            } else {
                OVERFLOWING.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    fn evaluate(&mut self, found: &[Found]) -> CheckOutcome {
        let current: HashMap<u32, &Found> = found.iter().map(|f| (f.identity.pid, f)).collect();
        // Watched processes that died (the pidfd said so) or are no longer found.
        let mut down = Vec::new();
        self.watched.retain(|pid, watched| {
            let still = current
                .get(pid)
                .is_some_and(|f| f.identity == watched.identity)
                && !watched.died.load(Ordering::SeqCst);
            if !still {
                watched.watcher.abort();
                if !current.contains_key(pid) || watched.died.load(Ordering::SeqCst) {
                    down.push(format!("{} (pid={pid})", watched.command));
                }
            }
            still
        });
        for f in found {
            if self.watched.len() >= MAX_WATCHED {
                break;
            }
            if !self.watched.contains_key(&f.identity.pid) {
                self.watch(f);
            }
        }
        self.set_overflowing(found.len() > self.watched.len());
        if found.len() >= self.params.processnum {
            return CheckOutcome::Normal;
        }
        let count = format!(
            "{} process(es) match \"{}\", fewer than processnum {}",
            found.len(),
            self.params.processname,
            self.params.processnum
        );
        if down.is_empty() {
            CheckOutcome::Failure {
                code: TOO_FEW,
                detail: format!("{count}."),
            }
        } else {
            down.sort();
            CheckOutcome::Failure {
                code: PROCESS_DOWN,
                detail: format!("{count}; down: {}.", down.join(", ")),
            }
        }
    }
}

impl Probe for Psw {
    fn check(&mut self, _: ProbeContext) -> CheckFuture<'_> {
        Box::pin(async move {
            let began = Instant::now();
            let (_, table) = process_table(None).await;
            let mut found = scan(&self.pattern, &table, &self.watched);
            if found.len() < self.params.processnum && table.listed_at < began {
                // The shared table predates this check and may miss a process started
                // since: a fault is only reported from a table read after the check began.
                found = scan(
                    &self.pattern,
                    &process_table(Some(began)).await.1,
                    &self.watched,
                );
            }
            self.evaluate(&found)
        })
    }

    fn stop(&mut self) {
        for (_, watched) in self.watched.drain() {
            watched.watcher.abort();
        }
        self.set_overflowing(false);
    }

    fn wake(&self) -> Option<Arc<Notify>> {
        Some(Arc::clone(&self.wake))
    }
}

impl Drop for Psw {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn defaults_and_ranges() {
        let (params, problems) = parse(&table("processname = \"sleep*\""));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            params,
            PswParams {
                processname: "sleep*".into(),
                processnum: 1
            }
        );
        let (params, problems) = parse(&table("processname = \"a\"\nprocessnum = 999"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(params.processnum, 999);
        let (_, problems) = parse(&table("processnum = 0\nprocesname = \"x\""));
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("did you mean \"processname\""));
        assert!(problems.contains(&"key \"processname\" is missing".to_string()));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("0 is out of range (1 to 999)"))
        );
        let (_, problems) = parse(&table("processname = \"x\"\nprocessnum = \"3\""));
        assert_eq!(problems, ["key \"processnum\": \"3\" is not an integer"]);
    }

    #[test]
    fn bad_patterns_are_refused() {
        let (_, problems) = parse(&table("processname = \"[abc\""));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("without its ]"), "{problems:?}");
        let (_, problems) = parse(&table("processname = \"\""));
        assert_eq!(problems, ["key \"processname\": the pattern is empty"]);
        assert!(Wildcard::new("a\\").is_err());
    }

    #[test]
    fn wildcards_match_the_whole_text() {
        let cases = [
            ("sleep*", "sleep 1000", true),
            ("sleep*", "/bin/sleep 1000", false),
            ("*sleep*", "/bin/sleep 1000", true),
            ("sleep", "sleep 1000", false),
            ("sl??p 1*", "sleep 1000", true),
            ("*a*b*c", "xxaxxbxxbc", true),
            ("*a*b*c", "xxaxxbxxbcd", false),
            ("[a-c]at", "bat", true),
            ("[!a-c]at", "bat", false),
            ("[!a-c]at", "rat", true),
            ("[]]x", "]x", true),
            ("\\*", "*", true),
            ("\\*", "a", false),
            ("**", "", true),
            ("", "", true),
            ("ä*", "äbc", true),
            ("*ö?", "aöböx", true),
            ("*ö", "aöbö", true),
            ("a*ä", "aä", true),
            ("abc", "ab", false),
            ("ab*ab", "ab", false),
            ("*/w00001.pid", "/tmp/worker /run/w00001.pid", true),
            ("*/w00001.pid", "/tmp/worker /run/w00002.pid", false),
            // One `*` between literal ends: the ends may not overlap.
            ("ab*ba", "aba", false),
            ("ab*ba", "abba", true),
            ("ab*ba", "ab ba", true),
            ("ä*ä", "ä", false),
            ("ä*ä", "ää", true),
            ("*", "", true),
            ("x*", "", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                Wildcard::new(pattern).unwrap().matches(text),
                expected,
                "{pattern:?} vs {text:?}"
            );
        }
    }

    /// The index only narrows the rows a pattern is matched against: the rows matched are
    /// exactly those a match against every row finds, in table order.
    #[test]
    fn the_indexed_table_finds_what_matching_every_row_finds() {
        let row = |pid, command: &str, name: &str| ProcessRow {
            pid,
            command: command.into(),
            name: name.into(),
        };
        let rows = vec![
            row(1, "/sbin/init", "systemd"),
            row(2, "", "kthreadd"),
            row(3, "/tmp/worker /run/w00001.pid", "worker"),
            row(4, "/tmp/worker /run/w00002.pid", "worker"),
            row(5, "/usr/bin/python3 x.py", "python3"),
            row(6, "sleep 1000", "sleep"),
            row(7, "/bin/sleep 1000", "sleep"),
            row(8, "/tmp/other /run/w00001.pid", "other"),
            row(9, "ä /run/w00001.pid", "w00001.pid"),
            row(10, "pid", "d"),
            row(11, "äbc", "äbc"),
            row(12, "/usr/bin/foo", "bar.pid"),
        ];
        let table = Listing::new(rows.clone());
        let patterns = [
            "*/w00001.pid",
            "*w00002.pid",
            "sleep*",
            "*sleep*",
            "*",
            "sleep",
            "kthread?",
            "*.pid",
            "w00001.pid",
            "ä*",
            "*c",
            "[s]leep*",
            "*[0-9].pid",
            "systemd",
            "/sbin/*",
            "nothing*",
        ];
        let matching = |pattern: &Wildcard, row: &ProcessRow| {
            pattern.matches(&row.command) || (!row.name.is_empty() && pattern.matches(&row.name))
        };
        for pattern in patterns {
            let pattern = Wildcard::new(pattern).unwrap();
            let indexed: Vec<u32> = table
                .candidates(&pattern)
                .into_iter()
                .filter(|row| matching(&pattern, row))
                .map(|row| row.pid)
                .collect();
            let every: Vec<u32> = rows
                .iter()
                .filter(|row| matching(&pattern, row))
                .map(|row| row.pid)
                .collect();
            assert_eq!(indexed, every, "{pattern:?}");
        }
        // "*/w00001.pid" is matched against the rows that end so, not against all 11.
        let pattern = Wildcard::new("*/w00001.pid").unwrap();
        let pids: Vec<u32> = table.candidates(&pattern).iter().map(|r| r.pid).collect();
        assert_eq!(pids, [3, 8, 9]);
    }

    #[tokio::test]
    async fn a_process_started_after_the_shared_table_was_read_is_found() {
        use std::os::unix::process::CommandExt;
        let marker = format!("clp-psw-fresh-{}", std::process::id());
        // A table read just now, fresh for TABLE_MAX_AGE: without the re-read, the check
        // below would be answered from it and miss the process.
        process_table(Some(Instant::now())).await;
        // spawn() returns after the exec: the command line is already the marker's.
        let mut child = std::process::Command::new("sleep")
            .arg0(&marker)
            .arg("30")
            .spawn()
            .unwrap();
        let (params, _) = parse(&table(&format!("processname = \"{marker} *\"")));
        let outcome = Psw::new(params)
            .unwrap()
            .check(ProbeContext {
                lateness: Duration::ZERO,
                timeout: Duration::from_secs(5),
                target_process: None,
            })
            .await;
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(outcome, CheckOutcome::Normal);
    }

    /// Checks `psw` until it is Normal (bash needs a moment to exec under a marker's name);
    /// the context of its checks and the deadline, 5 s on, that the test keeps to.
    async fn until_normal(psw: &mut Psw) -> (ProbeContext, std::time::Instant) {
        let context = ProbeContext {
            lateness: Duration::ZERO,
            timeout: Duration::from_secs(5),
            target_process: None,
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while psw.check(context.clone()).await != CheckOutcome::Normal {
            assert!(std::time::Instant::now() < deadline, "never normal");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (context, deadline)
    }

    /// A process it watches that takes another command line (here by exec, under the same
    /// pid) stops counting at the next table, although the whole table is not read again.
    #[tokio::test]
    async fn a_watched_process_whose_command_line_changes_stops_counting() {
        let marker = format!("clp-psw-exec-{}", std::process::id());
        let mut child = std::process::Command::new("bash")
            .args([
                "-c",
                &format!("exec -a {marker} bash -c 'sleep 1.5; exec -a clp-psw-other sleep 30'"),
            ])
            .spawn()
            .unwrap();
        let (params, _) = parse(&table(&format!("processname = \"{marker}*\"")));
        let mut psw = Psw::new(params).unwrap();
        let (context, deadline) = until_normal(&mut psw).await;
        // Checks go on while the whole table stays young: the exec must be seen anyway.
        let outcome = loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let outcome = psw.check(context.clone()).await;
            if outcome != CheckOutcome::Normal || std::time::Instant::now() > deadline {
                break outcome;
            }
        };
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            matches!(outcome, CheckOutcome::Failure { .. }),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn a_watched_process_that_dies_is_named() {
        let marker = format!("clp-psw-unit-{}", std::process::id());
        let spawn = || {
            std::process::Command::new("bash")
                .args(["-c", &format!("exec -a {marker} sleep 30")])
                .spawn()
                .unwrap()
        };
        let mut children = [spawn(), spawn()];
        let (params, _) = parse(&table(&format!(
            "processname = \"{marker}*\"\nprocessnum = 2"
        )));
        let mut psw = Psw::new(params).unwrap();
        let (context, _) = until_normal(&mut psw).await;
        let wake = psw.wake();
        let woken = wake.notified();
        let victim = children[0].id();
        children[0].kill().unwrap();
        children[0].wait().unwrap();
        tokio::time::timeout(Duration::from_secs(5), woken)
            .await
            .expect("the pidfd watcher saw the death");
        let outcome = psw.check(context).await;
        children[1].kill().unwrap();
        children[1].wait().unwrap();
        assert_eq!(
            outcome,
            CheckOutcome::Failure {
                code: PROCESS_DOWN,
                detail: format!(
                    "1 process(es) match \"{marker}*\", fewer than processnum 2; down: {marker} 30 (pid={victim})."
                ),
            }
        );
    }
}
