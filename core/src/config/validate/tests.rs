//! The validation's tests: every problem found, named and placed.

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    parse_str(text, Path::new("/nonexistent"))
}

#[test]
fn the_default_document_is_one_userw() {
    let config = parse(super::super::DEFAULT_CONFIG).unwrap();
    assert_eq!(config.monitors.len(), 1);
    assert_eq!(config.monitors[0].kind, "userw");
    assert_eq!(config.monitors[0].comment, "user mode monitor");
    assert_eq!(
        config.monitors[0].recovery.target,
        RecoveryTarget::LocalServer
    );
    assert!(config.groups.is_empty());
}

#[test]
fn without_a_server_section_the_one_server_is_this_host() {
    let config = parse("[cluster]\nname = \"demo\"\n").unwrap();
    assert_eq!(config.cluster.name, "demo");
    assert_eq!(config.servers.len(), 1);
    assert_eq!(config.servers[0].name, host_name());
    assert_eq!(config.server_name(), host_name());
    assert!(config.local_server().is_some());
}

#[test]
fn a_server_section_names_the_host_with_its_comment() {
    let config = parse(&format!(
        "[cluster]\nname = \"demo\"\ncomment = \"the cluster\"\n\n[[server]]\nname = \"{}\"\ncomment = \"primary\"\n",
        host_name().to_uppercase()
    ))
    .unwrap();
    // Host names compare case-insensitively.
    assert_eq!(config.server_comment(), "primary");
    let other = parse("[[server]]\nname = \"old-host.example.com\"\n").unwrap();
    assert!(other.local_server().is_none());
    assert_eq!(other.server_comment(), "");
    assert_eq!(other.server_name(), host_name());
}

#[test]
fn a_bad_server_section_is_refused_with_every_problem() {
    let error =
        parse("[[server]]\nname = \"a b\"\ncoment = \"x\"\n\n[[server]]\ncomment = \"no name\"\n")
            .unwrap_err()
            .to_string();
    // Two servers are a cluster: without [etcd] that is said too.
    assert!(
        error.contains("etcd: 2 servers are listed, so the cluster needs etcd"),
        "{error}"
    );
    assert!(
        error.contains("server[0]: name \"a b\" is not a host name"),
        "{error}"
    );
    assert!(
        error.contains("server[0]: unknown key \"coment\""),
        "{error}"
    );
    assert!(
        error.contains("server[1]: key \"name\" is missing"),
        "{error}"
    );
}

#[test]
fn a_name_with_a_control_character_is_refused_and_shown_escaped() {
    let error = parse(
        "[cluster]\nname = \"c\\u001b[2J\"\n[[monitor]]\nname = \"u\\nfake\"\ntype = \"userw\"\n",
    )
    .unwrap_err();
    let text = error.to_string();
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert_eq!(
        error.problems(),
        [
            "clp.conf: cluster: name \"c\\u{1b}[2J\" holds a control character (shown escaped): use 1 to 31 letters, digits, '-' or '_'",
            "clp.conf: monitor \"u\\nfake\": name \"u\\nfake\" holds a control character (shown escaped): use 1 to 31 letters, digits, '-' or '_'",
        ]
    );
}

#[test]
fn a_typo_is_refused_with_a_suggestion() {
    let error = parse("[[monitor]]\nname = \"u\"\ntype = \"userw\"\nintervall = 3\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "clp.conf: monitor \"u\": unknown key \"intervall\" (did you mean \"interval\"?)"
    );
}

#[test]
fn every_problem_is_listed() {
    let text = r#"
[cluster]
nmae = "x"
[[monitor]]
name = "a"
type = "usrw"
[[monitor]]
name = "b"
type = "userw"
retry = "three"
[monitor.recovery]
final_action = "explode"
"#;
    let problems = parse(text).unwrap_err().problems();
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(problems[0].contains("unknown key \"nmae\" (did you mean \"name\"?)"));
    assert!(problems[1].contains("unknown monitor type \"usrw\" (did you mean \"userw\"?)"));
    assert!(
        problems[2].contains("monitor #3") || problems[2].contains("key \"retry\""),
        "{}",
        problems[2]
    );
    assert!(problems[3].contains("unknown final action \"explode\""));
}

#[test]
fn a_number_of_seconds_written_as_a_word_says_what_is_accepted() {
    let error = parse("[[monitor]]\nname = \"u\"\ntype = \"userw\"\ninterval = \"five\"\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "clp.conf: monitor \"u\": key \"interval\": invalid type: string \"five\", expected a number of seconds such as 5 or 0.5"
    );
}

#[test]
fn seconds_out_of_range_are_echoed_as_written() {
    let problem = |value: &str| {
        parse(&format!(
            "[[monitor]]\nname = \"u\"\ntype = \"userw\"\ninterval = {value}\n"
        ))
        .unwrap_err()
        .problems()
    };
    assert_eq!(
        problem("9223372036854775807"),
        [
            "clp.conf: monitor \"u\": key \"interval\": 9223372036854775807 is out of range (more than 0, up to 999999 seconds)"
        ]
    );
    assert_eq!(
        problem("-9223372036854775808"),
        [
            "clp.conf: monitor \"u\": key \"interval\": -9223372036854775808 is out of range (more than 0, up to 999999 seconds)"
        ]
    );
    assert_eq!(
        problem("1000000"),
        [
            "clp.conf: monitor \"u\": key \"interval\": 1000000 is out of range (more than 0, up to 999999 seconds)"
        ]
    );
    assert_eq!(
        problem("0"),
        [
            "clp.conf: monitor \"u\": key \"interval\": 0 is out of range (more than 0, up to 999999 seconds)"
        ]
    );
    assert!(problem("999999.5")[0].contains("999999.5 is out of range"));
    let config = parse("[[monitor]]\nname = \"u\"\ntype = \"userw\"\ninterval = 999999\nwait_before_start = 0\ntimeout = 0.25\n").unwrap();
    assert_eq!(config.monitors[0].interval, Duration::from_secs(999_999));
    assert_eq!(config.monitors[0].wait_before_start, Duration::ZERO);
    assert_eq!(config.monitors[0].timeout, Duration::from_millis(250));
}

#[test]
fn a_bad_integer_in_a_nested_table_is_reported_once_under_its_own_path() {
    let dir = tempfile::tempdir().unwrap();
    let script_dir = dir.path().join("g").join("r");
    std::fs::create_dir_all(&script_dir).unwrap();
    std::fs::write(script_dir.join("start.sh"), "#!/bin/sh\n").unwrap();
    let text = r#"
[[group]]
name = "g"
[[group.resource]]
name = "r"
[group.resource.activation]
retry = -1
[group.resource.deactivation]
retry = 4294967296
[[monitor]]
name = "u"
type = "userw"
retry = -1
[monitor.recovery]
reactivation_threshold = -1
"#;
    let problems = parse_str(text, dir.path()).unwrap_err().problems();
    assert_eq!(
        problems,
        [
            "clp.conf: group \"g\".resource \"r\".activation: key \"retry\": -1 is not accepted; expected a whole number from 0 to 4294967295",
            "clp.conf: group \"g\".resource \"r\".deactivation: key \"retry\": 4294967296 is not accepted; expected a whole number from 0 to 4294967295",
            "clp.conf: monitor \"u\": key \"retry\": -1 is not accepted; expected a whole number from 0 to 4294967295",
            "clp.conf: monitor \"u\".recovery: key \"reactivation_threshold\": -1 is not accepted; expected a whole number from 0 to 4294967295",
        ]
    );
}

#[test]
fn a_nested_table_of_the_wrong_type_is_reported_once() {
    let problems = parse("[[monitor]]\nname = \"u\"\ntype = \"userw\"\nrecovery = 3\n")
        .unwrap_err()
        .problems();
    assert_eq!(
        problems,
        ["clp.conf: monitor \"u\".recovery: must be a table"]
    );
}

#[test]
fn the_webmanager_table_has_the_originals_defaults() {
    let config = parse("").unwrap();
    assert_eq!(config.webmanager.listen.to_string(), "0.0.0.0:29003");
    assert!(config.webmanager.allow.is_empty());
    assert_eq!(config.webmanager.tls, None);
    let config = parse(
        "[webmanager]\nlisten = \"127.0.0.1:0\"\nallow = [\"10.1.2.3\", \"192.168.100.7/24\"]\nservers = [\"http://127.0.0.1:29003\"]\n",
    )
    .unwrap();
    let allow: Vec<String> = config
        .webmanager
        .allow
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(allow, ["10.1.2.3/32", "192.168.100.0/24"]);
    assert_eq!(config.webmanager.servers, ["http://127.0.0.1:29003"]);
}

#[test]
fn the_webmanager_limits_have_defaults_and_are_checked() {
    let defaults = parse("").unwrap().webmanager;
    assert_eq!(defaults.header_timeout, Duration::from_secs(10));
    assert_eq!(defaults.idle_timeout, Duration::from_secs(120));
    assert_eq!(defaults.max_connections, 256);
    assert!(defaults.hosts.contains(&"localhost".to_string()));
    let config = parse(
        "[webmanager]\nhosts = [\"CLP1.example.com\", \"::1\"]\nheader_timeout = 2\nidle_timeout = 0.5\nmax_connections = 8\n",
    )
    .unwrap()
    .webmanager;
    assert_eq!(config.hosts, ["clp1.example.com", "::1"]);
    assert_eq!(config.header_timeout, Duration::from_secs(2));
    assert_eq!(config.idle_timeout, Duration::from_millis(500));
    assert_eq!(config.max_connections, 8);
    let problems = parse(
        "[webmanager]\nhosts = [\"http://x:80\"]\nheader_timeout = 0\nidle_timeout = -1\nmax_connections = 0\n",
    )
    .unwrap_err()
    .problems();
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(
        problems[0].contains("\"http://x:80\" is not a host name"),
        "{problems:#?}"
    );
    assert!(
        problems[1].contains("\"header_timeout\": 0 is out of range"),
        "{problems:#?}"
    );
    assert!(
        problems[2].contains("\"idle_timeout\": -1 is out of range"),
        "{problems:#?}"
    );
    assert!(
        problems[3].contains("\"max_connections\": 0 is out of range"),
        "{problems:#?}"
    );
}

#[test]
fn every_webmanager_problem_is_listed() {
    let text = r#"
[webmanager]
listen = "everywhere"
allow = ["10.0.0.0/33", "localhost"]
tls_cert = "cert.pem"
servers = ["ftp://x"]
alow = []
"#;
    let problems = parse(text).unwrap_err().problems();
    assert_eq!(problems.len(), 6, "{problems:#?}");
    assert!(problems[0].contains("unknown key \"alow\" (did you mean \"allow\"?)"));
    assert!(problems[1].contains("\"everywhere\" is not an address and port"));
    assert!(problems[2].contains("\"10.0.0.0/33\" is not an IP address or a CIDR block"));
    assert!(problems[3].contains("\"localhost\" is not an IP address"));
    assert!(problems[4].contains("\"tls_cert\" needs \"tls_key\""));
    assert!(problems[5].contains("\"ftp://x\" is not a WebManager URL"));
}

#[test]
fn a_syntax_error_names_the_line() {
    let error = parse("[cluster\nname=1").unwrap_err().to_string();
    assert!(error.contains("line 1"), "{error}");
}

#[test]
fn a_script_with_crlf_line_endings_is_a_problem_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let script_dir = dir.path().join("g").join("r");
    std::fs::create_dir_all(&script_dir).unwrap();
    std::fs::write(script_dir.join("start.sh"), "#!/bin/sh\r\nexit 0\r\n").unwrap();
    let text = "[[group]]\nname = \"g\"\n[[group.resource]]\nname = \"r\"\n";
    let error = parse_str(text, dir.path()).unwrap_err().to_string();
    assert!(error.contains("start.sh"), "{error}");
    assert!(error.contains("CRLF"), "{error}");
    assert!(error.contains("dos2unix"), "{error}");
    std::fs::write(script_dir.join("start.sh"), "exit 0\n").unwrap();
    parse_str(text, dir.path()).unwrap();
}

#[test]
fn pidw_needs_an_async_exec_resource() {
    let dir = tempfile::tempdir().unwrap();
    let script_dir = dir.path().join("g").join("r");
    std::fs::create_dir_all(&script_dir).unwrap();
    std::fs::write(script_dir.join("start.sh"), "#!/bin/sh\n").unwrap();
    let text = r#"
[[group]]
name = "g"
[[group.resource]]
name = "r"
[[monitor]]
name = "p"
type = "pidw"
target = "r"
"#;
    let error = parse_str(text, dir.path()).unwrap_err().to_string();
    assert!(error.contains("has mode \"sync\""), "{error}");
    let ok = parse_str(
        &text.replace("name = \"r\"\n", "name = \"r\"\nmode = \"async\"\n"),
        dir.path(),
    )
    .unwrap();
    let pidw = ok.monitor("p").unwrap();
    assert_eq!(pidw.timing, Timing::Active);
    assert_eq!(pidw.recovery.target, RecoveryTarget::Resource("r".into()));
    assert_eq!(pidw.interval, Duration::from_secs(5));
}

#[test]
fn resources_start_after_their_dependencies() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a", "b", "c"] {
        let script_dir = dir.path().join("g").join(name);
        std::fs::create_dir_all(&script_dir).unwrap();
        std::fs::write(script_dir.join("start.sh"), "#!/bin/sh\n").unwrap();
    }
    let text = r#"
[[group]]
name = "g"
[[group.resource]]
name = "a"
depends_on = ["c"]
[[group.resource]]
name = "b"
[[group.resource]]
name = "c"
"#;
    let config = parse_str(text, dir.path()).unwrap();
    let order: Vec<&str> = config.groups[0]
        .resources
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(order, ["b", "c", "a"]);
    let cyclic = text.replace("name = \"c\"\n", "name = \"c\"\ndepends_on = [\"a\"]\n");
    let error = parse_str(&cyclic, dir.path()).unwrap_err().to_string();
    assert!(error.contains("cycle"), "{error}");
}

#[test]
fn mail_addresses_are_checked_as_the_mail_service_reads_them() {
    // Found by the fuzzer (fuzz/ ftp_mail): "from" was not checked and "to" only for
    // an "@", so a configuration was accepted whose every mail then failed to build.
    for (mail, key) in [
        (
            "to = [\"ops@example.com\"]\nfrom = \"clp~examp|e.com\"\n",
            "from",
        ),
        ("to = [\"@\"]\n", "to"),
        ("to = [\"a@b@c\"]\n", "to"),
        ("to = [\"ops@exa\\u0001mple.com\"]\n", "to"),
    ] {
        let text = format!("[cluster]\nname = \"zabi\"\n[mail]\nserver = \"smtp\"\n{mail}");
        let error = parse(&text).expect_err(mail).to_string();
        assert!(
            error.contains(&format!("key \"{key}\"")),
            "{mail:?}: {error}"
        );
        assert!(error.contains("is not a mail address"), "{mail:?}: {error}");
    }
    let text = "[cluster]\nname = \"zabi\"\n[mail]\nserver = \"smtp\"\nto = [\"Ops <ops@example.com>\", \"b@example.com\"]\n";
    let mail = parse(text).unwrap().mail.unwrap();
    let event = crate::alert::AlertEvent::custom("zabi", "rm", 9, crate::alert::Level::Error, "m");
    assert!(crate::mail::compose(&mail, &[event]).is_ok());
}

#[test]
fn a_fip_resource_and_its_fipw_need_no_script() {
    let config = parse(
        "[[group]]\nname = \"g\"\n[[group.resource]]\nname = \"fip1\"\ntype = \"fip\"\n[group.resource.parameters]\nip = \"192.0.2.100/24\"\ninterface = \"eth0\"\n\n[[monitor]]\nname = \"fipw1\"\ntype = \"fipw\"\ntarget = \"fip1\"\n[monitor.parameters]\nmonmii = 1\n",
    )
    .unwrap();
    let fip = config.resource("fip1").unwrap();
    assert!(fip.is_floating_ip());
    assert_eq!(fip.parameters["ip"].as_str(), Some("192.0.2.100/24"));
    let fipw = &config.monitors[0];
    assert_eq!(fipw.timing, Timing::Active, "a fipw follows its group");
    assert_eq!(
        fipw.recovery.target,
        RecoveryTarget::Resource("fip1".into())
    );
    assert_eq!(fipw.target_parameters["interface"].as_str(), Some("eth0"));
}

#[test]
fn a_hostile_fip_is_refused_naming_the_resource_and_the_key() {
    let error = parse(
        "[[group]]\nname = \"g\"\n[[group.resource]]\nname = \"fip1\"\ntype = \"fip\"\nstart = \"start.sh\"\n[group.resource.parameters]\nip = \"224.0.0.1\"\ninterface = \"eth0; reboot\"\n\n[[group.resource]]\nname = \"fip2\"\ntype = \"fip\"\n\n[[group.resource]]\nname = \"disk1\"\ntype = \"disk\"\n\n[[monitor]]\nname = \"fipw1\"\ntype = \"fipw\"\ntarget = \"disk1\"\n\n[[monitor]]\nname = \"fipw2\"\ntype = \"fipw\"\n",
    )
    .unwrap_err()
    .to_string();
    for expected in [
        "group \"g\".resource \"fip1\".parameters: key \"ip\": 224.0.0.1 is a multicast address",
        "group \"g\".resource \"fip1\".parameters: key \"interface\": \"eth0; reboot\" is not an interface name",
        "group \"g\".resource \"fip1\": key \"start\": a fip resource runs no script",
        "group \"g\".resource \"fip2\".parameters: key \"ip\" is missing",
        "group \"g\".resource \"disk1\": key \"type\": resource type \"disk\" is not supported",
        "monitor \"fipw1\": key \"target\": resource \"disk1\" is of type \"disk\"; fipw watches a fip resource",
        "monitor \"fipw2\": key \"target\" is missing: a fipw monitor watches a fip resource",
    ] {
        assert!(
            error.contains(expected),
            "missing {expected:?} in:\n{error}"
        );
    }
}
