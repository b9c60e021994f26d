//! A Dovecot of the test's own for the imap4w and pop3w tests (Debian's, installed by
//! `.ci/setup.d/dovecot.sh`; the system service is never used): a `dovecot.conf` in a
//! temporary folder with its own base and state folders, IMAP and POP3 on free loopback
//! ports, its users in a passwd-file, their maildirs there, the log in `dovecot.log`
//! (every login and every session's end is logged, so a test sees a monitor's checks).
//! Dropping it kills whatever dovecot still runs on that configuration.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::app_servers::free_port;
use crate::harness::{WAIT, alive, signal, wait_until};

/// The test users (one per monitor, so the log tells whose session it was).
pub const USERS: [&str; 3] = ["alice", "bob", "carol"];
/// Their password.
pub const PASSWORD: &str = "s3cret";

const DOVECOT: &str = "/usr/sbin/dovecot";

/// A configured Dovecot, running or not.
pub struct Dovecot {
    dir: tempfile::TempDir,
    /// The IMAP port.
    pub imap_port: u16,
    /// The POP3 port.
    pub pop3_port: u16,
    /// The master the test started itself (an exec resource's is the daemon's child).
    started: Option<Child>,
}

impl Dovecot {
    /// Writes the configuration, the users and their maildirs; starts nothing. IMAP offers
    /// AUTHENTICATE PLAIN and LOGIN, POP3 offers APOP (its greeting has a timestamp).
    pub fn configure() -> Dovecot {
        Dovecot::configure_with_mechanisms("plain login apop")
    }

    /// [`Dovecot::configure`] with Dovecot's `auth_mechanisms` (Debian's default: `plain`).
    pub fn configure_with_mechanisms(mechanisms: &str) -> Dovecot {
        assert!(
            Path::new(DOVECOT).exists()
                && Path::new("/usr/lib/dovecot/imap-login").exists()
                && Path::new("/usr/lib/dovecot/pop3-login").exists(),
            "Dovecot is missing: run `bash .ci/setup.d/dovecot.sh`"
        );
        let dir = tempfile::Builder::new()
            .prefix("clp-dovecot-")
            .tempdir()
            .expect("a temporary folder");
        let dovecot = Dovecot {
            dir,
            imap_port: free_port(),
            pop3_port: free_port(),
            started: None,
        };
        // The login processes run as the login user and must reach base_dir inside.
        set_mode(dovecot.dir.path(), 0o755);
        let (internal_user, login_user, mail_user) = users();
        let mail = dovecot.path("mail");
        std::fs::create_dir(&mail).unwrap();
        nix::unistd::chown(&mail, Some(mail_user.uid), Some(mail_user.gid)).expect("chown");
        let mut users = String::new();
        for user in USERS {
            let home = mail.join(user);
            std::fs::create_dir(&home).unwrap();
            nix::unistd::chown(&home, Some(mail_user.uid), Some(mail_user.gid)).expect("chown");
            users.push_str(&format!(
                "{user}:{{PLAIN}}{PASSWORD}:{}:{}::{}::\n",
                mail_user.uid,
                mail_user.gid,
                home.display()
            ));
        }
        std::fs::write(dovecot.path("users"), users).unwrap();
        let dir = dovecot.dir.path().display();
        let config = format!(
            r#"# A Dovecot of clp's end-to-end tests: loopback only, everything in {dir}.
listen = 127.0.0.1
base_dir = {dir}/run
state_dir = {dir}/state
instance_name = clp-test-{imap}
protocols = imap pop3
ssl = no
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = {uid}
log_path = {dir}/dovecot.log
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = {dir}/users
}}
userdb {{
  driver = passwd-file
  args = {dir}/users
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
# The monitors of one test log in from one address, a wrong password among them: without
# this, Dovecot's brute-force penalty for the address would slow the right ones too.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"#,
            imap = dovecot.imap_port,
            pop3 = dovecot.pop3_port,
            internal = internal_user.name,
            login = login_user.name,
            uid = mail_user.uid,
        );
        std::fs::write(dovecot.path("dovecot.conf"), config).unwrap();
        dovecot
    }

    /// A file in the folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The shell line that runs Dovecot in the foreground (exec: the shell's pid is the
    /// master's), for an exec resource's start.sh.
    pub fn exec_line(&self) -> String {
        format!(
            "exec {DOVECOT} -F -c '{}'",
            self.path("dovecot.conf").display()
        )
    }

    /// Starts Dovecot from the test (in a process group of its own) and waits until both
    /// protocols greet.
    pub fn start(&mut self) {
        let child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(self.path("dovecot.conf"))
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start dovecot");
        self.started = Some(child);
        self.wait_ready();
    }

    /// Waits until IMAP and POP3 greet.
    pub fn wait_ready(&self) {
        wait_until("dovecot greets on IMAP and POP3", WAIT, || {
            greets(self.imap_port, "* OK") && greets(self.pop3_port, "+OK")
        });
    }

    /// The master's pid, whoever started it.
    pub fn master(&self) -> Option<u32> {
        std::fs::read_to_string(self.path("run/master.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
            .filter(|pid| alive(*pid))
    }

    /// The master and every process under it.
    pub fn processes(&self) -> Vec<u32> {
        let Some(master) = self.master() else {
            return Vec::new();
        };
        let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
                let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
                // The fields after the command's closing parenthesis: state, ppid, ...
                let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
                Some((pid, ppid.parse().ok()?))
            })
            .collect();
        let mut family = vec![master];
        let mut index = 0;
        while index < family.len() {
            let parent = family[index];
            family.extend(
                parents
                    .iter()
                    .filter(|(_, ppid)| *ppid == parent)
                    .map(|(pid, _)| *pid),
            );
            index += 1;
        }
        family
    }

    /// Stops every Dovecot process (SIGSTOP), the master first so it starts no new one:
    /// the kernel still accepts connections, nobody answers them.
    pub fn freeze(&self) {
        if let Some(master) = self.master() {
            signal(master, libc::SIGSTOP);
        }
        for pid in self.processes() {
            signal(pid, libc::SIGSTOP);
        }
    }

    /// Lets the frozen processes go on.
    pub fn thaw(&self) {
        for pid in self.processes() {
            signal(pid, libc::SIGCONT);
        }
    }

    /// Log lines that contain every one of `needles`.
    pub fn log_count(&self, needles: &[&str]) -> usize {
        std::fs::read_to_string(self.path("dovecot.log"))
            .unwrap_or_default()
            .lines()
            .filter(|line| needles.iter().all(|needle| line.contains(needle)))
            .count()
    }

    /// Logins of `user` by `protocol` ("imap", "pop3") with SASL `method` (Dovecot's name:
    /// IMAP's LOGIN command and POP3's USER/PASS are "PLAIN").
    pub fn logins(&self, protocol: &str, user: &str, method: &str) -> usize {
        self.log_count(&[&format!(
            "{protocol}-login: Info: Login: user=<{user}>, method={method},"
        )])
    }

    /// Sessions of `user` by `protocol` that ended with the client's LOGOUT or QUIT.
    pub fn logouts(&self, protocol: &str, user: &str) -> usize {
        self.log_count(&[&format!("{protocol}({user})"), "Disconnected: Logged out"])
    }

    /// Sessions of `protocol` that logged in as nobody and ended with LOGOUT or QUIT.
    pub fn anonymous_logouts(&self, protocol: &str) -> usize {
        self.log_count(&[&format!(
            "{protocol}-login: Info: Disconnected: Aborted login by logging out (no auth attempts"
        )])
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.path("dovecot.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            eprintln!("--- dovecot log (last lines) ---");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
        // SIGKILL needs no SIGCONT; the children go with the master, and are killed too
        // should one outlive it for a moment.
        let family = self.processes();
        for pid in &family {
            signal(*pid, libc::SIGKILL);
        }
        if let Some(mut child) = self.started.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while family.iter().any(|pid| alive(*pid)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Whether a connection to `port` is greeted with a line starting `prefix`.
fn greets(port: u16, prefix: &str) -> bool {
    use std::io::{BufRead, BufReader};
    let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with(prefix)
}

/// Dovecot's internal user, its login user and the user that owns the mail: Debian's
/// `dovecot` and `dovenull` as root; the test's own user otherwise.
fn users() -> (nix::unistd::User, nix::unistd::User, nix::unistd::User) {
    let user = |name: &str| {
        nix::unistd::User::from_name(name)
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("no user {name}: run `bash .ci/setup.d/dovecot.sh`"))
    };
    if nix::unistd::geteuid().is_root() {
        (user("dovecot"), user("dovenull"), user("dovecot"))
    } else {
        let me = nix::unistd::User::from_uid(nix::unistd::geteuid())
            .ok()
            .flatten()
            .expect("the test's own user");
        (me.clone(), me.clone(), me)
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
