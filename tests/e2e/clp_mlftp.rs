//! clp_mlftp against a real FTP server on loopback (pyftpdlib, `fixtures/ftp_upload_server.py`):
//! a byte-for-byte upload, refusals before connecting, a wrong password, a server that drops
//! the connection mid-upload (the retry resumes where it broke), FTPS with a test CA; and the
//! README's cron line run as cron runs it.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use crate::app_servers::{free_port, venv_python};
use crate::harness::*;

/// The user and password the test servers accept.
const USER: &str = "tester";
const PASSWORD: &str = "secret";

/// How the test server runs.
#[derive(Default)]
struct ServerOptions {
    /// Cut the first STOR/APPE after this many bytes (0: never).
    drop_after: u64,
    /// Explicit FTPS with this certificate chain and key (PEM files).
    tls: Option<(PathBuf, PathBuf)>,
}

/// A pyftpdlib server on 127.0.0.1, killed on drop. Its user's home holds `incoming/`.
struct FtpServer {
    child: Child,
    port: u16,
    home: PathBuf,
    events: PathBuf,
    log: PathBuf,
}

impl FtpServer {
    fn start(cluster: &Cluster, options: ServerOptions) -> FtpServer {
        let port = free_port();
        let home = cluster.path("ftp-home");
        std::fs::create_dir_all(home.join("incoming")).unwrap();
        let events = cluster.path("ftp-events");
        let log = cluster.path("ftp-server.log");
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/fixtures/ftp_upload_server.py");
        let mut command = Command::new(venv_python());
        command
            .arg(script)
            .args(["--port", &port.to_string()])
            .arg("--home")
            .arg(&home)
            .args(["--user", USER, "--password", PASSWORD])
            .arg("--events")
            .arg(&events)
            .args(["--drop-after", &options.drop_after.to_string()]);
        if let Some((cert, key)) = &options.tls {
            command
                .arg("--tls-cert")
                .arg(cert)
                .arg("--tls-key")
                .arg(key);
        }
        let output = std::fs::File::create(&log).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .expect("start the FTP test server");
        let mut server = FtpServer {
            child,
            port,
            home,
            events,
            log,
        };
        wait_until("the FTP test server listens", WAIT, || {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the FTP test server exited ({status}):\n{}", server.log());
            }
            server.events().iter().any(|line| line == "READY")
        });
        server
    }

    /// The lines of the events file (READY, TRANSFER ..., DROP ...).
    fn events(&self) -> Vec<String> {
        std::fs::read_to_string(&self.events)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The TRANSFER lines.
    fn transfers(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter(|line| line.starts_with("TRANSFER ") || line.starts_with("DROP "))
            .collect()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The names in `incoming/` on the server, sorted.
    fn incoming(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.home.join("incoming"))
            .unwrap()
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn received(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.home.join("incoming").join(name)).unwrap()
    }
}

impl Drop for FtpServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- FTP server log ---\n{}", self.log());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `etc/ftp.toml` for `port` (host 127.0.0.1, remote_dir incoming) plus `extra`, and
/// the password file `etc/ftp.password` (mode 0600) holding `password`.
fn configure(cluster: &Cluster, port: u16, password: &str, extra: &str) {
    std::fs::write(
        cluster.path("etc/ftp.toml"),
        format!(
            "host = \"127.0.0.1\"\nport = {port}\nuser = \"{USER}\"\npassword_file = \"ftp.password\"\nremote_dir = \"incoming\"\n{extra}"
        ),
    )
    .unwrap();
    let password_file = cluster.path("etc/ftp.password");
    std::fs::write(&password_file, format!("{password}\n")).unwrap();
    std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// `size` bytes that binary mode must carry unchanged (every byte value, LF and CR among
/// them, in no regular order).
fn payload(size: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..size)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as u8
        })
        .collect()
}

/// Writes a tarball-to-be under the root's `tmp/`.
fn tarball(cluster: &Cluster, name: &str, bytes: &[u8]) -> PathBuf {
    std::fs::create_dir_all(cluster.path("tmp")).unwrap();
    let path = cluster.path(&format!("tmp/{name}"));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The name `file` gets on the server by default: this host's name and the file's time.
fn remote_name(file: &Path) -> String {
    let written = std::fs::metadata(file).unwrap().modified().unwrap();
    clp_ftp::naming::history_name(
        file.file_name().unwrap().to_str().unwrap(),
        &clp_core::config::host_name(),
        written.into(),
    )
}

/// The `Success` line of an upload of `file` stored as `remote` in `incoming/`.
fn success(file: &Path, remote: &str, port: u16) -> String {
    format!(
        "Upload {} : Success (stored as incoming/{remote} on 127.0.0.1:{port})\n",
        file.display()
    )
}

#[test]
fn the_newest_tarball_is_uploaded_byte_for_byte() {
    let cluster = Cluster::new();
    let server = FtpServer::start(&cluster, ServerOptions::default());
    configure(&cluster, server.port, PASSWORD, "");
    let older = tarball(&cluster, "old-log.tar.gz", b"older");
    std::fs::File::options()
        .write(true)
        .open(&older)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    let bytes = payload(3 * 1024 * 1024 + 17, 1);
    let newest = tarball(&cluster, "zabi-log.tar.gz", &bytes);

    let remote = remote_name(&newest);
    let run = cluster.run("clp_mlftp", &[]);
    assert_eq!(run.success(), success(&newest, &remote, server.port));
    assert_eq!(run.stderr(), "", "no progress bar without a terminal");
    assert!(server.received(&remote) == bytes, "the bytes differ");
    assert_eq!(server.incoming(), std::slice::from_ref(&remote));
    assert_eq!(
        server.transfers(),
        [format!("TRANSFER STOR {remote}.part offset=0")]
    );
    assert!(server.log().contains("<- TYPE I"), "binary mode");

    // The same name again (chosen with -n), other bytes, the file named on the command line:
    // the old file is replaced.
    let again = payload(100_000, 2);
    let named = cluster.path("elsewhere/zabi-log.tar.gz");
    std::fs::create_dir_all(named.parent().unwrap()).unwrap();
    std::fs::write(&named, &again).unwrap();
    let run = cluster.run("clp_mlftp", &["-n", &remote, named.to_str().unwrap()]);
    assert_eq!(run.success(), success(&named, &remote, server.port));
    assert!(server.received(&remote) == again, "the bytes differ");
    assert_eq!(server.incoming(), [remote]);
}

/// Sets the modification time of `file` to a local time.
fn written_at(file: &Path, year: i32, month: u32, day: u32, hour: u32, minute: u32) {
    use chrono::TimeZone;
    let time = chrono::Local
        .with_ymd_and_hms(year, month, day, hour, minute, 0)
        .single()
        .unwrap();
    std::fs::File::options()
        .write(true)
        .open(file)
        .unwrap()
        .set_modified(time.into())
        .unwrap();
}

#[test]
fn nightly_uploads_keep_every_night_and_a_name_can_be_chosen() {
    let cluster = Cluster::new();
    let server = FtpServer::start(&cluster, ServerOptions::default());
    configure(&cluster, server.port, PASSWORD, "");
    let host = clp_core::config::host_name();
    // What a nightly clplogcc leaves: the same local name every night.
    let monday = payload(10_000, 5);
    let file = tarball(&cluster, "zabi-log.tar.gz", &monday);
    written_at(&file, 2026, 11, 30, 3, 15);
    let first = format!("{host}-zabi-log-20261130-031500.tar.gz");
    let run = cluster.run("clp_mlftp", &[]);
    assert_eq!(run.success(), success(&file, &first, server.port));

    let tuesday = payload(20_000, 6);
    std::fs::write(&file, &tuesday).unwrap();
    written_at(&file, 2026, 12, 1, 3, 15);
    let second = format!("{host}-zabi-log-20261201-031500.tar.gz");
    let run = cluster.run("clp_mlftp", &[]);
    assert_eq!(run.success(), success(&file, &second, server.port));
    assert_eq!(server.incoming(), [first.clone(), second.clone()]);
    assert!(
        server.received(&first) == monday,
        "Monday's upload was kept"
    );
    assert!(server.received(&second) == tuesday);

    // A name chosen with -n (or --name) is used as it is.
    let run = cluster.run("clp_mlftp", &["--name", "case-42.tar.gz"]);
    assert_eq!(run.success(), success(&file, "case-42.tar.gz", server.port));
    assert!(server.received("case-42.tar.gz") == tuesday);
    // A path is not a name; nothing is sent.
    let stderr = cluster
        .run("clp_mlftp", &["-n", "../case.tar.gz"])
        .failure(2);
    assert!(stderr.contains("remote_dir"), "{stderr}");
    assert_eq!(server.incoming().len(), 3);
}

#[test]
fn configuration_problems_are_refused_before_connecting() {
    let cluster = Cluster::new();
    tarball(&cluster, "zabi-log.tar.gz", b"x");
    // No ftp.toml at all.
    let stderr = cluster.run("clp_mlftp", &[]).failure(4);
    assert!(stderr.contains("etc/ftp.toml does not exist"), "{stderr}");

    // A port nothing listens on: each refusal below comes before any connection.
    let port = free_port();
    configure(&cluster, port, PASSWORD, "");
    std::fs::set_permissions(
        cluster.path("etc/ftp.password"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let run = cluster.run("clp_mlftp", &[]);
    let stderr = run.failure(4);
    assert_eq!(
        stderr,
        format!(
            "clp_mlftp: password file {0}: mode 0644 lets others read it; it must be 0600 (run 'chmod 600 {0}')\n",
            cluster.path("etc/ftp.password").display()
        )
    );
    assert_eq!(run.stdout(), "");

    configure(
        &cluster,
        port,
        PASSWORD,
        "hots = \"x\"\npassive = \"yes\"\n",
    );
    let stderr = cluster.run("clp_mlftp", &[]).failure(4);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("ftp.toml: unknown key \"hots\" (did you mean \"host\"?); "),
        "{stderr}"
    );
    assert!(
        stderr.contains("ftp.toml: \"passive\" must be true or false, not \"yes\""),
        "{stderr}"
    );

    // No tarball to upload.
    configure(&cluster, port, PASSWORD, "");
    std::fs::remove_file(cluster.path("tmp/zabi-log.tar.gz")).unwrap();
    let stderr = cluster.run("clp_mlftp", &[]).failure(255);
    assert!(
        stderr.contains("no *-log.tar.gz in") && stderr.contains("run clplogcc first"),
        "{stderr}"
    );
}

#[test]
fn a_wrong_password_fails_at_once_with_the_server_s_answer() {
    let cluster = Cluster::new();
    let server = FtpServer::start(&cluster, ServerOptions::default());
    configure(&cluster, server.port, "not-the-password", "");
    let file = tarball(&cluster, "zabi-log.tar.gz", b"bytes");
    let run = cluster.run("clp_mlftp", &[]);
    let stderr = run.failure(255);
    assert_eq!(
        stderr,
        format!(
            "clp_mlftp: login as \"tester\" on 127.0.0.1:{} refused: 530 Authentication failed.\n",
            server.port
        )
    );
    // A refused login is not retried.
    assert_eq!(
        run.stdout(),
        format!("Upload {} : Failed\n", file.display())
    );
    assert_eq!(server.incoming(), Vec::<String>::new());
}

#[test]
fn a_connection_dropped_mid_upload_is_resumed_where_it_broke() {
    let cluster = Cluster::new();
    let server = FtpServer::start(
        &cluster,
        ServerOptions {
            drop_after: 1024 * 1024,
            tls: None,
        },
    );
    configure(&cluster, server.port, PASSWORD, "");
    let bytes = payload(6 * 1024 * 1024 + 5, 3);
    let file = tarball(&cluster, "zabi-log.tar.gz", &bytes);

    let remote = remote_name(&file);
    let run = cluster.run("clp_mlftp", &[]);
    let stdout = run.success();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let attempt = format!("Upload {} : attempt 1 of 5 failed: ", file.display());
    assert!(
        lines[0].starts_with(&attempt) && lines[0].ends_with("; retrying in 1 s"),
        "{stdout}"
    );
    assert_eq!(
        format!("{}\n", lines[1]),
        success(&file, &remote, server.port)
    );

    // The server saw: a STOR from 0 cut after N bytes, then an APPE from exactly N.
    let transfers = server.transfers();
    assert_eq!(transfers.len(), 3, "{transfers:#?}");
    assert_eq!(
        transfers[0],
        format!("TRANSFER STOR {remote}.part offset=0")
    );
    let dropped: u64 = transfers[1]
        .strip_prefix("DROP after ")
        .and_then(|rest| rest.strip_suffix(" bytes"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{transfers:#?}"));
    assert!(
        dropped >= 1024 * 1024 && dropped < bytes.len() as u64,
        "{dropped}"
    );
    assert_eq!(
        transfers[2],
        format!("TRANSFER APPE {remote}.part offset={dropped}")
    );
    assert!(server.received(&remote) == bytes, "the bytes differ");
    assert_eq!(server.incoming(), [remote], "no temporary name left");
}

/// A test CA and a leaf for localhost/127.0.0.1 it signed, as PEM files under the root:
/// (the CA, the leaf's chain, the leaf's key).
fn test_pki(cluster: &Cluster) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "clp test FTP CA");
    ca.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let mut leaf =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    leaf.is_ca = rcgen::IsCa::ExplicitNoCa;
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    leaf.distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    let leaf = leaf.signed_by(&leaf_key, &ca).unwrap();
    let ca_file = cluster.path("etc/ftp-ca.pem");
    let chain = cluster.path("ftp-server-chain.pem");
    let key = cluster.path("ftp-server-key.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    std::fs::write(&chain, format!("{}{}", leaf.pem(), ca.pem())).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    (ca_file, chain, key)
}

#[test]
fn ftps_uploads_to_a_server_whose_ca_is_the_cafile() {
    let cluster = Cluster::new();
    let (_, chain, key) = test_pki(&cluster);
    let server = FtpServer::start(
        &cluster,
        ServerOptions {
            drop_after: 0,
            tls: Some((chain, key)),
        },
    );
    let bytes = payload(512 * 1024, 4);
    let file = tarball(&cluster, "zabi-log.tar.gz", &bytes);

    // The system's roots do not know the test CA: refused at once, not retried.
    configure(&cluster, server.port, PASSWORD, "tls = true\n");
    let run = cluster.run("clp_mlftp", &[]);
    let stderr = run.failure(255);
    assert!(
        stderr.contains("AUTH TLS with 127.0.0.1:")
            && stderr.contains("invalid peer certificate: UnknownIssuer"),
        "{stderr}"
    );
    assert_eq!(
        run.stdout(),
        format!("Upload {} : Failed\n", file.display())
    );

    // With the CA as cafile, by host name.
    configure(
        &cluster,
        server.port,
        PASSWORD,
        "tls = true\ncafile = \"ftp-ca.pem\"\n",
    );
    let config = std::fs::read_to_string(cluster.path("etc/ftp.toml"))
        .unwrap()
        .replace("127.0.0.1", "localhost");
    std::fs::write(cluster.path("etc/ftp.toml"), config).unwrap();
    let remote = remote_name(&file);
    let run = cluster.run("clp_mlftp", &[]);
    assert_eq!(
        run.success(),
        success(&file, &remote, server.port).replace("127.0.0.1", "localhost")
    );
    assert!(server.received(&remote) == bytes, "the bytes differ");
    assert_eq!(server.incoming(), [remote]);
    let log = server.log();
    assert!(log.contains("<- AUTH TLS"), "explicit FTPS");
    assert!(log.contains("<- PROT P"), "a protected data connection");
}

/// The command part of the README's cron line for the nightly clplogcc + clp_mlftp: the
/// line of the README whose first five fields are a schedule and which runs clp_mlftp,
/// without the schedule and the user (the `/etc/cron.d` format).
fn readme_cron_command() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let is_schedule_field = |field: &str| {
        field
            .chars()
            .all(|c| c.is_ascii_digit() || "*/,-".contains(c))
    };
    let lines: Vec<&str> = readme
        .lines()
        .filter(|line| line.contains("clp_mlftp"))
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 6 && fields[..5].iter().all(|f| is_schedule_field(f))
        })
        .collect();
    assert_eq!(lines.len(), 1, "one cron line in the README: {lines:#?}");
    let mut rest = lines[0].trim_start();
    for _ in 0..6 {
        let field_end = rest.find(char::is_whitespace).unwrap();
        rest = rest[field_end..].trim_start();
    }
    rest.to_string()
}

#[test]
fn the_readme_cron_line_collects_and_uploads_with_cron_s_environment() {
    let cluster = Cluster::new();
    let server = FtpServer::start(&cluster, ServerOptions::default());
    configure(&cluster, server.port, PASSWORD, "");
    // The install layout the line expects: the commands in $CLP_ROOT/bin.
    std::fs::create_dir_all(cluster.path("bin")).unwrap();
    for command in ["clplogcc", "clp_mlftp"] {
        std::os::unix::fs::symlink(bin(command), cluster.path(&format!("bin/{command}"))).unwrap();
    }
    let command = readme_cron_command();
    assert!(command.contains("/opt/clp"), "{command}");
    let command = command.replace("/opt/clp", cluster.root().to_str().unwrap());
    let home = cluster.path("cron-home");
    std::fs::create_dir_all(&home).unwrap();

    // What cron gives a job: no terminal, this environment and nothing else.
    let output = Command::new("env")
        .arg("-i")
        .arg("SHELL=/bin/sh")
        .arg("PATH=/usr/bin:/bin")
        .arg(format!("HOME={}", home.display()))
        .arg("LOGNAME=root")
        .args(["/bin/sh", "-c", &command])
        .current_dir(&home)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{command}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(stderr, "");
    let everything = format!("{stdout}{stderr}");
    assert!(
        !everything.contains(['\r', '\x1b']),
        "no progress-bar control characters: {everything:?}"
    );
    let collected: Vec<PathBuf> = std::fs::read_dir(cluster.path("tmp"))
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .collect();
    assert_eq!(collected.len(), 1, "{collected:?}");
    let tarball = &collected[0];
    let name = tarball.file_name().unwrap().to_str().unwrap();
    assert!(name.ends_with("-log.tar.gz"), "{name}");
    let server_name = name.trim_end_matches("-log.tar.gz");
    let mut expected = Vec::new();
    writeln!(expected, "Collect Log {server_name} : Success").unwrap();
    let remote = remote_name(tarball);
    expected.extend_from_slice(success(tarball, &remote, server.port).as_bytes());
    assert_eq!(stdout.as_bytes(), expected, "{stdout}");
    assert!(
        server.received(&remote) == std::fs::read(tarball).unwrap(),
        "the tarball arrived whole"
    );
    assert_eq!(server.incoming(), [remote]);
}
