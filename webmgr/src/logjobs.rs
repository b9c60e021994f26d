//! Log collection started from the browser: `POST /api/v1/logs/collect` runs
//! [`clp_core::logcollect::collect`] in the background into `tmp/webmgr/<id>/`, the page
//! follows its progress (`GET /api/v1/logs/jobs/<id>`), and the tarball is downloaded as
//! `GET /api/v1/logs/<id>.tar.gz`. One collection runs at a time; the newest
//! [`KEPT`] are kept, older ones are removed when a new one starts.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use clp_core::logcollect::{self, CollectOptions, CollectType};
use clp_core::paths::Paths;

/// How many finished collections are kept for download.
pub const KEPT: usize = 3;

/// Where a collection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Collecting.
    Running,
    /// The tarball is ready.
    Done,
    /// It failed; nothing was left behind.
    Failed,
}

/// A collection as the page sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Its id (16 hex digits).
    pub id: String,
    /// The server collected.
    pub server: String,
    /// Running, done or failed.
    pub state: JobState,
    /// Bytes collected.
    pub done: u64,
    /// Bytes in all (0 until known).
    pub total: u64,
    /// The entry being collected.
    pub item: String,
    /// The download path, once done.
    pub download: Option<String>,
    /// The file name the download is saved as (`<server>-log.tar.gz`).
    pub file_name: String,
    /// Why it failed.
    pub error: Option<String>,
}

struct Entry {
    job: Arc<Mutex<Job>>,
    dir: PathBuf,
    tarball: Option<PathBuf>,
}

/// The collections of one WebManager.
pub struct LogJobs {
    paths: Paths,
    entries: Arc<Mutex<VecDeque<Entry>>>,
}

impl std::fmt::Debug for LogJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogJobs")
            .field("paths", &self.paths)
            .finish()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// Why a collection did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Another one runs.
    #[error("a log collection is already running ({})", .0.id)]
    Busy(Box<Job>),
    /// Its folder could not be made.
    #[error("cannot create {}: {source}", dir.display())]
    Folder {
        /// The folder.
        dir: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl LogJobs {
    /// The collections under `paths`' `tmp/webmgr/` (what an earlier run left is removed).
    pub fn new(paths: Paths) -> LogJobs {
        let _ = std::fs::remove_dir_all(paths.webmgr_collect_dir());
        LogJobs {
            paths,
            entries: Arc::new(Mutex::new(VecDeque::new())),
        }
    }

    /// Starts collecting `kind` for `server`; `extra` entries (the status) go in too.
    pub fn start(
        &self,
        kind: CollectType,
        server: &str,
        extra: Vec<(String, Vec<u8>)>,
    ) -> Result<Job, StartError> {
        let mut entries = lock(&self.entries);
        if let Some(running) = entries
            .iter()
            .map(|entry| lock(&entry.job).clone())
            .find(|job| job.state == JobState::Running)
        {
            return Err(StartError::Busy(Box::new(running)));
        }
        while entries.len() >= KEPT {
            if let Some(old) = entries.pop_front() {
                let _ = std::fs::remove_dir_all(&old.dir);
            }
        }
        let id = new_id();
        let dir = self.paths.webmgr_collect_dir().join(&id);
        // tmp/webmgr/ and each collection's folder: for clp's user only (0700).
        logcollect::private_dir(&self.paths.webmgr_collect_dir())
            .and_then(|()| logcollect::private_dir(&dir))
            .map_err(|source| StartError::Folder {
                dir: dir.clone(),
                source,
            })?;
        let job = Job {
            id: id.clone(),
            server: server.to_string(),
            state: JobState::Running,
            done: 0,
            total: 0,
            item: String::new(),
            download: None,
            file_name: format!("{server}-log.tar.gz"),
            error: None,
        };
        let shared = Arc::new(Mutex::new(job.clone()));
        entries.push_back(Entry {
            job: Arc::clone(&shared),
            dir: dir.clone(),
            tarball: None,
        });
        drop(entries);

        let paths = self.paths.clone();
        let server = server.to_string();
        let all = Arc::clone(&self.entries);
        std::thread::spawn(move || {
            let options = CollectOptions {
                kind,
                out_dir: dir,
                syslog_generations: 2,
            };
            let progress_job = Arc::clone(&shared);
            let result = logcollect::collect(&paths, &server, &options, extra, &mut |progress| {
                let mut job = lock(&progress_job);
                job.done = progress.done;
                job.total = progress.total;
                job.item = progress.item.clone();
            });
            match result {
                Ok(collected) => {
                    // The tarball is recorded before the job says done, so a download
                    // that follows the news always finds it.
                    if let Some(entry) = lock(&all)
                        .iter_mut()
                        .find(|entry| Arc::ptr_eq(&entry.job, &shared))
                    {
                        entry.tarball = Some(collected.tarball);
                    }
                    let mut job = lock(&shared);
                    job.state = JobState::Done;
                    job.download = Some(format!("/api/v1/logs/{}.tar.gz", job.id));
                }
                Err(error) => {
                    let mut job = lock(&shared);
                    job.state = JobState::Failed;
                    job.error = Some(error.to_string());
                }
            }
        });
        Ok(job)
    }

    /// A collection by id.
    pub fn job(&self, id: &str) -> Option<Job> {
        lock(&self.entries)
            .iter()
            .map(|entry| lock(&entry.job).clone())
            .find(|job| job.id == id)
    }

    /// The tarball of a finished collection, and the name to save it as.
    pub fn tarball(&self, id: &str) -> Option<(PathBuf, String)> {
        lock(&self.entries).iter().find_map(|entry| {
            let job = lock(&entry.job);
            (job.id == id && job.state == JobState::Done)
                .then(|| {
                    entry
                        .tarball
                        .clone()
                        .map(|path| (path, job.file_name.clone()))
                })
                .flatten()
        })
    }
}

/// 16 hex digits from the kernel's random source (the time and pid if it cannot be read).
fn new_id() -> String {
    let bytes = crate::random::bytes::<8>().unwrap_or_else(|_| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        (now ^ u64::from(std::process::id())).to_be_bytes()
    });
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_collection_runs_once_at_a_time_and_ends_in_a_tarball() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::new(root.path());
        std::fs::create_dir_all(paths.log_dir()).unwrap();
        std::fs::write(paths.alert_log(), "x\n").unwrap();
        let jobs = LogJobs::new(paths.clone());
        let job = jobs.start(CollectType::Type3, "zabi", Vec::new()).unwrap();
        assert_eq!(job.file_name, "zabi-log.tar.gz");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let now = jobs.job(&job.id).unwrap();
            if now.state != JobState::Running {
                assert_eq!(now.state, JobState::Done, "{now:?}");
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "collection did not end"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let (tarball, name) = jobs.tarball(&job.id).unwrap();
        assert!(tarball.is_file());
        assert!(tarball.starts_with(paths.webmgr_collect_dir()));
        // Only clp's user may read the tarball or enter its folders.
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&tarball), 0o600);
        assert_eq!(mode(tarball.parent().unwrap()), 0o700);
        assert_eq!(mode(&paths.webmgr_collect_dir()), 0o700);
        assert_eq!(name, "zabi-log.tar.gz");
        assert!(jobs.tarball("0000").is_none());
    }
}
