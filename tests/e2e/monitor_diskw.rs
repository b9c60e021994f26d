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
    assert_eq!(cluster.monitor_status("diskw"), "Error");
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
    assert_eq!(cluster.monitor_status("diskw"), "Error");
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
