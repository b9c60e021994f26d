//! diskw: reads of a file that turns into a FIFO or a folder, and of a loop device that is
//! detached and attached again.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::*;

fn diskw_config(monitors: &[(&str, &str, &Path)]) -> String {
    let mut config = String::from("[cluster]\nname = \"zabi\"\n");
    for (name, method, object) in monitors {
        config.push_str(&format!(
            r#"
[[monitor]]
name = "{name}"
type = "diskw"
interval = 0.2
timeout = 5
[monitor.parameters]
method = "{method}"
object = "{}"
[monitor.recovery]
reactivation_threshold = 0
final_action = "none"
"#,
            object.display()
        ));
    }
    config
}

#[test]
fn diskw_read_fails_on_a_fifo_or_a_folder_and_recovers_on_the_file() {
    let cluster = Cluster::new();
    let object = cluster.path("data.img");
    // It starts as a FIFO nobody writes to: refused from its metadata, never opened (an
    // open would hang).
    nix::unistd::mkfifo(&object, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    cluster.write_config(&diskw_config(&[("diskw", "READ", &object)]));
    cluster.start();
    let shown = object.display().to_string();
    wait_until("rm 9 on the FIFO", WAIT, || {
        cluster.alerts().contains(&format!(
            "rm 9 Detected an error in monitoring diskw. (12 : {shown} is a FIFO, not a block device or a regular file)"
        ))
    });
    std::fs::remove_file(&object).unwrap();
    std::fs::write(&object, vec![1u8; 3_000_000]).unwrap();
    wait_until("rm 26 on the file", WAIT, || {
        cluster.count_alerts("rm 26 diskw status changed from error to normal.") == 1
    });
    assert_eq!(cluster.monitor_status("diskw"), "Normal");

    // As root, chmod 000 would not stop a read: the file becomes a folder instead.
    std::fs::remove_file(&object).unwrap();
    std::fs::create_dir(&object).unwrap();
    wait_until("rm 9 on the folder", WAIT, || {
        cluster.alerts().contains(&format!(
            "rm 9 Detected an error in monitoring diskw. (12 : {shown} is a folder, not a block device or a regular file)"
        ))
    });
    assert_monitor_in_error(&cluster, "diskw");
    std::fs::remove_dir(&object).unwrap();
    std::fs::write(&object, vec![1u8; 3_000_000]).unwrap();
    wait_until("rm 26 again", WAIT, || {
        cluster.count_alerts("rm 26 diskw status changed from error to normal.") == 2
    });
    cluster.stop();
}

#[test]
fn diskw_write_file_needs_a_writable_folder() {
    let cluster = Cluster::new();
    let folder = cluster.path("spool");
    std::fs::write(&folder, "not a folder").unwrap();
    cluster.write_config(&diskw_config(&[("diskw", "WRITE(FILE)", &folder)]));
    cluster.start();
    wait_until("rm 9", WAIT, || {
        cluster.alerts().contains(&format!(
            "rm 9 Detected an error in monitoring diskw. (12 : {} is a regular file, not a folder)",
            folder.display()
        ))
    });
    std::fs::remove_file(&folder).unwrap();
    std::fs::create_dir(&folder).unwrap();
    wait_until("rm 26", WAIT, || {
        cluster
            .alerts()
            .contains("rm 26 diskw status changed from error to normal.")
    });
    cluster.stop();
    assert_eq!(
        std::fs::read_dir(&folder).unwrap().count(),
        0,
        "the scratch file is removed after each check"
    );
}

/// A loop device over a file; detached on drop.
struct LoopDevice {
    device: PathBuf,
    backing: PathBuf,
}

impl LoopDevice {
    fn attach(backing: &Path) -> LoopDevice {
        let output = Command::new("losetup")
            .args(["-f", "--show"])
            .arg(backing)
            .output()
            .expect("losetup (util-linux's mount package) runs");
        assert!(
            output.status.success(),
            "losetup -f --show failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let device = String::from_utf8_lossy(&output.stdout).trim().to_string();
        LoopDevice {
            device: PathBuf::from(device),
            backing: backing.to_path_buf(),
        }
    }

    fn detach(&self) {
        let status = Command::new("losetup")
            .arg("-d")
            .arg(&self.device)
            .status()
            .unwrap();
        assert!(status.success(), "losetup -d {}", self.device.display());
    }

    fn reattach(&self) {
        let output = Command::new("losetup")
            .arg(&self.device)
            .arg(&self.backing)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "losetup {} {}: {}",
            self.device.display(),
            self.backing.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Whether the device is attached to our file.
    fn attached(&self) -> bool {
        Command::new("losetup")
            .arg(&self.device)
            .output()
            .is_ok_and(|o| {
                o.status.success()
                    && String::from_utf8_lossy(&o.stdout)
                        .contains(&self.backing.display().to_string())
            })
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        if self.attached() {
            let _ = Command::new("losetup").arg("-d").arg(&self.device).status();
        }
    }
}

#[test]
fn loopdev_diskw_reads_the_device_and_sees_it_detached() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!(
            "SKIPPED: loop devices need root (losetup); run the suite as root to test diskw on a block device"
        );
        return;
    }
    let cluster = Cluster::new();
    let backing = cluster.path(&format!("disk-{}.img", std::process::id()));
    std::fs::write(&backing, vec![0x5au8; 4 << 20]).unwrap();
    let disk = LoopDevice::attach(&backing);
    let device = disk.device.display().to_string();
    cluster.write_config(&diskw_config(&[
        ("diskw", "READ", &disk.device),
        ("diskw-tur", "TUR", &disk.device),
    ]));
    cluster.start();
    // The loop driver is not SCSI: TEST UNIT READY is refused, clearly.
    wait_until("rm 9 diskw-tur", WAIT, || {
        cluster.alerts().contains(&format!(
            "rm 9 Detected an error in monitoring diskw-tur. (15 : {device} is not a SCSI device (SG_IO refused: "
        ))
    });

    disk.detach();
    wait_until("rm 9 diskw", WAIT, || {
        cluster.alerts().contains(&format!(
            "rm 9 Detected an error in monitoring diskw. (14 : {device} has no capacity (no medium, or a detached loop device))"
        ))
    });
    assert_monitor_in_error(&cluster, "diskw");
    disk.reattach();
    wait_until("rm 26 diskw", WAIT, || {
        cluster
            .alerts()
            .contains("rm 26 diskw status changed from error to normal.")
    });
    assert_eq!(
        cluster.count_alerts("rm 9 Detected an error in monitoring diskw."),
        1
    );
    cluster.stop();
}

/// An ext4 filesystem on a loop device, mounted in a temporary folder; thawed, unmounted and
/// detached on drop (in that order: a frozen filesystem holds its writers in the kernel).
struct MountedLoop {
    // Fields drop in this order after `drop`: the device is detached before its image's
    // folder is removed.
    _disk: LoopDevice,
    mount: PathBuf,
    _dir: tempfile::TempDir,
}

fn run(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{program} runs: {error}"))
}

impl MountedLoop {
    fn new() -> MountedLoop {
        let dir = tempfile::Builder::new()
            .prefix("clp-diskw-fs-")
            .tempdir()
            .unwrap();
        let image = dir.path().join("fs.img");
        std::fs::File::create(&image)
            .unwrap()
            .set_len(16 << 20)
            .unwrap();
        let made = run("mkfs.ext4", &["-q", image.to_str().unwrap()]);
        assert!(
            made.status.success(),
            "mkfs.ext4 (e2fsprogs): {}",
            String::from_utf8_lossy(&made.stderr)
        );
        let disk = LoopDevice::attach(&image);
        let mount = dir.path().join("mnt");
        std::fs::create_dir(&mount).unwrap();
        let mounted = Command::new("mount")
            .arg(&disk.device)
            .arg(&mount)
            .output()
            .unwrap();
        assert!(
            mounted.status.success(),
            "mount {}: {}",
            disk.device.display(),
            String::from_utf8_lossy(&mounted.stderr)
        );
        MountedLoop {
            _disk: disk,
            mount,
            _dir: dir,
        }
    }

    fn freeze(&self, freeze: bool) {
        let flag = if freeze { "-f" } else { "-u" };
        let output = run("fsfreeze", &[flag, self.mount.to_str().unwrap()]);
        assert!(
            output.status.success(),
            "fsfreeze {flag}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for MountedLoop {
    fn drop(&mut self) {
        let mount = self.mount.to_str().unwrap_or_default();
        // Thawing a filesystem that is not frozen fails harmlessly.
        let _ = run("fsfreeze", &["-u", mount]);
        if !run("umount", &[mount]).status.success() {
            let _ = run("umount", &["-l", mount]);
        }
    }
}

/// The daemon's threads in uninterruptible sleep (stuck in the kernel on I/O).
fn threads_in_io(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks
                .flatten()
                .filter(|task| {
                    std::fs::read_to_string(task.path().join("stat")).is_ok_and(|stat| {
                        stat.rfind(')').and_then(|i| stat[i + 2..].chars().next()) == Some('D')
                    })
                })
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn loopdev_diskw_write_on_a_frozen_filesystem_is_abandoned_at_the_timeout() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!(
            "SKIPPED: mounting and freezing a filesystem needs root; run the suite as root to test a stalled disk"
        );
        return;
    }
    let cluster = Cluster::new();
    // Declared after the cluster, so dropped before it: a failing test thaws the filesystem
    // before the daemon is killed.
    let fs = MountedLoop::new();
    let mut config = diskw_config(&[("diskw", "WRITE(FILE)", &fs.mount)]);
    config = config.replace("timeout = 5", "timeout = 1");
    cluster.write_config(&config);
    cluster.start();
    let daemon = cluster.daemon_pid().unwrap();

    // A frozen filesystem holds every writer in the kernel: the disk stopped answering.
    fs.freeze(true);
    wait_until("rm 9 at the timeout", WAIT, || {
        cluster.alerts().contains(
            "rm 9 Detected an error in monitoring diskw. (99 : Monitor timed out after 1 seconds.)",
        )
    });
    // Later checks start no second write behind the stuck one.
    wait_until("a later check sees the stuck I/O", WAIT, || {
        cluster.status()["monitors"][0]["last_detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("has not returned for"))
    });
    assert_eq!(
        threads_in_io(daemon),
        1,
        "one stuck I/O thread, not one per check"
    );
    assert_monitor_in_error(&cluster, "diskw");

    fs.freeze(false);
    wait_until("rm 26 once the filesystem thaws", WAIT, || {
        cluster
            .alerts()
            .contains("rm 26 diskw status changed from error to normal.")
    });
    assert_eq!(threads_in_io(daemon), 0);
    cluster.stop();
    let left: Vec<_> = std::fs::read_dir(&fs.mount)
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name())
        .filter(|name| name != "lost+found")
        .collect();
    assert!(left.is_empty(), "the scratch file is removed: {left:?}");
}
