//! `clppm`: the daemon. `clppm --foreground` runs it in the foreground (for systemd units);
//! plain `clppm` starts it detached and returns once it answers, as `clpcl -s` does.

use std::ffi::OsString;
use std::io::Write;
use std::time::Duration;

use clap::Parser;
use clp_core::client;
use clp_core::client::clppm_process;
use clp_engine::daemon;

use crate::cli::{self, CliError, Refusal};

/// The clp supervisor daemon.
#[derive(Debug, Parser)]
#[command(
    name = "clppm",
    version,
    about = "The clp supervisor daemon (process manager)"
)]
pub struct Args {
    /// Run in the foreground (logs also to stderr); without it the daemon detaches.
    #[arg(long)]
    foreground: bool,
    /// Started by a command that waits for it: stop writing to stderr once ready.
    #[arg(long, hide = true)]
    detached: bool,
    /// The command that asked for the start, for the alert log.
    #[arg(long, hide = true)]
    requested_by: Option<String>,
    /// Run as the HA cluster's keeper of clppm's resources (started by clppm itself),
    /// killing MARGIN_MS before the lease's deadline.
    #[arg(long, hide = true, value_name = "MARGIN_MS")]
    keeper: Option<u64>,
}

/// Runs `clppm`.
pub fn run(args: Vec<OsString>, out: &mut dyn Write) -> Result<(), CliError> {
    let Some(args) = cli::parse::<Args>(args, out)? else {
        return Ok(());
    };
    if let Some(margin) = args.keeper {
        let code = clp_engine::keeper::run(Duration::from_millis(margin));
        std::process::exit(i32::from(code));
    }
    let paths = cli::paths();
    if !args.foreground {
        let pid = clppm_process::start_detached(
            &paths,
            &clppm_process::clppm_beside_me(),
            "clppm",
            Duration::from_secs(60),
        )
        .map_err(client::Error::Start)?;
        writeln!(out, "clppm started (pid {pid}).")?;
        return Ok(());
    }
    limit_malloc_arenas();
    daemon::check_writable_folders(&paths)
        .map_err(|error| Refusal::InitFailed(error.to_string()))?;
    // Held until `run` returns: the last lines (a start-up error) are written before exit.
    let _log = clp_core::logging::init_daemon_logging(&paths, !args.detached).map_err(|error| {
        Refusal::InitFailed(format!(
            "cannot open the daemon log {}: {error}",
            paths.daemon_log().display()
        ))
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| Refusal::InitFailed(format!("cannot start the runtime: {error}")))?;
    runtime.block_on(async {
        let prepared = daemon::prepare(&paths, clp_monitors::builder)
            .await
            .inspect_err(|error| {
                tracing::error!("{error}");
            })?;
        if args.detached {
            clp_core::startup_output::silence_stdio();
        }
        prepared.run(args.requested_by).await;
        Ok(())
    })
}

/// glibc's allocator settings for a long-running daemon, set before any thread starts.
///
/// - One arena: glibc otherwise gives every thread that allocates an arena of its own (up
///   to 8 per core), each keeping freed memory; with tokio's blocking pool and the
///   store's threads (sled's, before redb) that was ~10 MB of a 31 MB RSS at 1,000
///   monitors. Small allocations still go through each thread's cache without the arena's
///   lock.
/// - Fixed mmap and trim thresholds (128 KiB, glibc's defaults): a block that large is
///   mapped and given back when freed. Left dynamic, glibc raises the mmap threshold after
///   the first big free, and the status answers (~0.5 MB per `clpstat` at 1,000 monitors)
///   then come from the heap and stay in the RSS. The other side of it: a block this large
///   allocated per request is mapped, faulted in page by page and unmapped each time (~50
///   page faults for a 200 KB one, dear on a nested VM), so the control thread keeps the
///   status answer's buffer and the status view's monitor list from one answer to the
///   next (`clp_engine::control`).
#[cfg(target_env = "gnu")]
fn limit_malloc_arenas() {
    const THRESHOLD: libc::c_int = 128 << 10;
    // SAFETY: mallopt only changes the allocator's parameters; called before any thread
    // of this process exists. A setting that fails (returns 0) leaves glibc's default.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, THRESHOLD);
    }
}

/// Other C libraries keep their own allocator's defaults.
#[cfg(not(target_env = "gnu"))]
fn limit_malloc_arenas() {}
