//! Tests of the whole conversion: encodings, comments, what is reported.

use encoding_rs::Encoding;

use super::*;

/// An SSS configuration as the original's WebUI writes it: one async exec resource
/// watched by pidw, the default userw, Japanese comments (element and XML comments).
pub(super) fn sss(encoding_label: &str, charset: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="{encoding_label}"?>
<root>
  <!-- 業務アプリケーションの監視 -->
  <all>
    <charset>{charset}</charset>
    <serveros>linux</serveros>
    <encode>{charset}</encode>
  </all>
  <cluster>
    <name>cluster</name>
    <comment>本番クラスタ</comment>
  </cluster>
  <webmgr>
    <client>
      <objectnumber>9</objectnumber>
    </client>
  </webmgr>
  <server name="ml8-224">
    <priority>0</priority>
    <device id="0">
      <type>lan</type>
      <info>127.0.0.1</info>
    </device>
  </server>
  <heartbeat>
    <types name="lanhb"/>
    <lanhb name="lanhb1">
      <priority>0</priority>
      <device>0</device>
    </lanhb>
  </heartbeat>
  <group name="failover1">
    <comment>業務グループ</comment>
    <gid>0</gid>
    <resource name="exec@exec"/>
  </group>
  <resource>
    <types name="exec"/>
    <exec name="exec">
      <comment>アプリ</comment>
      <parameters>
        <act>
          <path>start.sh</path>
          <sync>0</sync>
        </act>
        <deact>
          <path>stop.sh</path>
        </deact>
        <timeout>
          <start>180</start>
          <stop>120</stop>
        </timeout>
      </parameters>
      <act>
        <retry>1</retry>
        <action>0</action>
        <timeout>360</timeout>
      </act>
      <deact>
        <action>5</action>
        <timeout>300</timeout>
      </deact>
    </exec>
  </resource>
  <monitor>
    <types name="userw"/>
    <userw name="userw">
      <comment/>
      <relation>
        <type>cls</type>
        <name>LocalServer</name>
      </relation>
      <parameters>
        <method>none</method>
      </parameters>
    </userw>
    <types name="pidw"/>
    <pidw name="pidw1">
      <comment>プロセス監視</comment>
      <target>exec</target>
      <relation>
        <type>rsc</type>
        <name>exec</name>
      </relation>
      <emergency>
        <action>2</action>
        <threshold>
          <restart>2</restart>
          <fo>0</fo>
        </threshold>
      </emergency>
      <polling>
        <interval>5</interval>
        <timeout>60</timeout>
        <reconfirmation>0</reconfirmation>
        <timing>1</timing>
      </polling>
      <firstmonwait>3</firstmonwait>
    </pidw>
  </monitor>
  <rm>
    <errordetect>
      <norecovery>0</norecovery>
    </errordetect>
  </rm>
</root>
"#
    )
}

fn scripts_for_sss() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let exec = dir.path().join("failover1").join("exec");
    std::fs::create_dir_all(&exec).unwrap();
    std::fs::write(exec.join("start.sh"), "#!/bin/sh\n").unwrap();
    std::fs::write(exec.join("stop.sh"), "#!/bin/sh\n").unwrap();
    dir
}

fn encode(text: &str, encoding: &'static Encoding) -> Vec<u8> {
    let (bytes, _, had_errors) = encoding.encode(text);
    assert!(!had_errors);
    bytes.into_owned()
}

fn check_sss(conversion: &Conversion) {
    let dir = scripts_for_sss();
    let config = crate::config::parse_str(&conversion.text, dir.path())
        .unwrap_or_else(|error| panic!("{error}\n{}", conversion.text));
    assert_eq!(config.cluster.name, "cluster");
    assert_eq!(config.cluster.comment, "本番クラスタ");
    assert!(!config.cluster.disable_monitor_recovery);
    let group = &config.groups[0];
    assert_eq!(group.name, "failover1");
    assert_eq!(group.comment, "業務グループ");
    let exec = &group.resources[0];
    assert_eq!(exec.comment, "アプリ");
    assert_eq!(exec.mode, crate::config::ExecMode::Async);
    assert_eq!(exec.timeout.as_secs(), 180);
    assert_eq!(exec.stop_timeout.as_secs(), 120);
    assert_eq!(exec.activation.retry, 1);
    assert_eq!(
        exec.activation.final_action,
        crate::config::FinalAction::Continue
    );
    assert_eq!(
        exec.deactivation.final_action,
        crate::config::FinalAction::StopDaemonReboot
    );
    let userw = config.monitor("userw").unwrap();
    assert_eq!(
        userw.recovery.target,
        crate::config::RecoveryTarget::LocalServer
    );
    let pidw = config.monitor("pidw1").unwrap();
    assert_eq!(pidw.comment, "プロセス監視");
    assert_eq!(pidw.interval.as_secs(), 5);
    assert_eq!(pidw.timeout.as_secs(), 60);
    assert_eq!(pidw.wait_before_start.as_secs(), 3);
    assert_eq!(
        pidw.recovery.target,
        crate::config::RecoveryTarget::Resource("exec".into())
    );
    assert_eq!(pidw.recovery.reactivation_threshold, 2);
    assert_eq!(
        pidw.recovery.final_action,
        crate::config::FinalAction::StopGroup
    );
    assert_eq!(conversion.server.as_deref(), Some("ml8-224"));
    assert_eq!(
        config.servers,
        [crate::config::ServerConfig {
            name: "ml8-224".into(),
            comment: String::new(),
            addresses: Vec::new(),
        }]
    );
    assert_eq!(
        conversion.unsupported,
        Vec::<Unsupported>::new(),
        "{:#?}",
        conversion.unsupported
    );
}

#[test]
fn the_server_keeps_its_name_and_comment() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<root>
  <cluster><name>cluster</name></cluster>
  <server name="old-host"><priority>0</priority><comment>the old machine</comment></server>
</root>
"#;
    let conversion = convert(xml.as_bytes(), None, "clp.conf").unwrap();
    assert!(
        conversion
            .text
            .contains("[[server]]\nname = \"old-host\"\ncomment = \"the old machine\"\n"),
        "{}",
        conversion.text
    );
    assert_eq!(conversion.unsupported, Vec::<Unsupported>::new());
    let config =
        crate::config::parse_str(&conversion.text, std::path::Path::new("/nonexistent")).unwrap();
    assert_eq!(config.cluster.name, "cluster");
    assert_eq!(config.servers[0].name, "old-host");
    assert_eq!(config.servers[0].comment, "the old machine");
}

#[test]
fn an_euc_jp_file_with_japanese_comments() {
    let bytes = encode(&sss("EUC-JP", "EUC-JP"), encoding_rs::EUC_JP);
    // 本番 in EUC-JP: the fixture really is EUC-JP.
    assert!(bytes.windows(4).any(|w| w == [0xCB, 0xDC, 0xC8, 0xD6]));
    let conversion = convert(&bytes, None, "clp.conf").unwrap();
    assert_eq!(conversion.encoding, "EUC-JP");
    check_sss(&conversion);
}

#[test]
fn a_shift_jis_file_with_japanese_comments() {
    let bytes = encode(&sss("Shift_JIS", "SJIS"), encoding_rs::SHIFT_JIS);
    // 本番 in Shift_JIS.
    assert!(bytes.windows(4).any(|w| w == [0x96, 0x7B, 0x94, 0xD4]));
    let conversion = convert(&bytes, None, "clp.conf").unwrap();
    assert_eq!(conversion.encoding, "Shift_JIS");
    check_sss(&conversion);
}

#[test]
fn the_originals_japanese_charset_is_the_language_and_is_said() {
    let dir = scripts_for_sss();
    let bytes = encode(&sss("EUC-JP", "EUC-JP"), encoding_rs::EUC_JP);
    let conversion = convert(&bytes, None, "clp.conf").unwrap();
    let config = crate::config::parse_str(&conversion.text, dir.path()).unwrap();
    assert_eq!(config.cluster.language, "ja");
    assert!(
        conversion
            .notes
            .iter()
            .any(|note| note.contains("language = \"ja\"") && note.contains("stay in English")),
        "{:?}",
        conversion.notes
    );
    let ascii = convert(sss("US-ASCII", "ASCII").as_bytes(), None, "clp.conf").unwrap();
    let config = crate::config::parse_str(&ascii.text, dir.path()).unwrap();
    assert_eq!(config.cluster.language, "en");
    assert!(!ascii.text.contains("language"), "{}", ascii.text);
}

#[test]
fn a_utf8_file() {
    let conversion = convert(sss("UTF-8", "UTF-8").as_bytes(), None, "clp.conf").unwrap();
    assert_eq!(conversion.encoding, "UTF-8");
    check_sss(&conversion);
}

#[test]
fn an_ascii_declaration_over_shift_jis_bytes_follows_encode_or_the_hint() {
    // clpcfset keeps the declaration of its template (ASCII) while comments are SJIS.
    let text = sss("ASCII", "ASCII").replace("<encode>ASCII</encode>", "<encode>SJIS</encode>");
    let bytes = encode(&text, encoding_rs::SHIFT_JIS);
    let conversion = convert(&bytes, None, "clp.conf").unwrap();
    assert_eq!(conversion.encoding, "Shift_JIS");
    check_sss(&conversion);
    // Nothing declared: -w says Shift_JIS.
    let undeclared = text.replace("<encode>SJIS</encode>", "<encode>ASCII</encode>");
    let bytes = encode(&undeclared, encoding_rs::SHIFT_JIS);
    let conversion = convert(&bytes, Some(EncodingHint::Windows), "clp.conf").unwrap();
    assert_eq!(conversion.encoding, "Shift_JIS");
    assert_eq!(
        check_comment(&conversion),
        "本番クラスタ",
        "{}",
        conversion.text
    );
}

fn check_comment(conversion: &Conversion) -> String {
    let document: toml::Table = conversion.text.parse().unwrap();
    document["cluster"]["comment"].as_str().unwrap().to_string()
}

#[test]
fn a_wrong_declaration_is_noted_and_the_file_still_read() {
    let bytes = encode(&sss("EUC-JP", "EUC-JP"), encoding_rs::SHIFT_JIS);
    let conversion = convert(&bytes, None, "clp.conf").unwrap();
    assert_eq!(conversion.encoding, "Shift_JIS");
    assert!(
        conversion.notes[0].contains("says EUC-JP, but the file is not valid EUC-JP"),
        "{:?}",
        conversion.notes
    );
}

#[test]
fn bad_xml_is_refused_with_the_parser_message() {
    let error = convert(
        b"<?xml version=\"1.0\"?>\n<root><cluster></root>",
        None,
        "x",
    )
    .unwrap_err()
    .to_string();
    assert!(error.starts_with("not well-formed XML"), "{error}");
    let error = convert(b"<config/>", None, "x").unwrap_err().to_string();
    assert!(error.contains("<config>"), "{error}");
    assert!(looks_like_original(
        b"\xEF\xBB\xBF  <?xml version=\"1.0\"?><root/>"
    ));
    assert!(!looks_like_original(b"[cluster]\nname = \"x\"\n"));
}

#[test]
fn every_unmapped_element_is_reported_by_its_path() {
    let text = sss("UTF-8", "UTF-8")
            .replace(
                "<norecovery>0</norecovery>\n    </errordetect>\n  </rm>",
                "<norecovery>1</norecovery>\n    </errordetect>\n  </rm>\n  <rc><errordetect><rscact><norecovery>1</norecovery></rscact></errordetect></rc>\n  <haltp><action>PANIC</action></haltp>",
            )
            .replace(
                "<objectnumber>9</objectnumber>\n    </client>",
                "<objectnumber>9</objectnumber>\n    </client>\n    <security><clientlist><iprest>1</iprest></clientlist></security>",
            )
            .replace(
                "<resource name=\"exec@exec\"/>",
                "<resource name=\"disk@disk1\"/><resource name=\"exec@exec\"/>",
            )
            .replace(
                "<types name=\"exec\"/>",
                "<types name=\"disk\"/><disk name=\"disk1\"><parameters><device>/dev/sdb1</device></parameters></disk><types name=\"exec\"/>",
            )
            .replace(
                "<action>2</action>",
                "<action>11</action><preaction><use>1</use></preaction>",
            )
            .replace(
                "<method>none</method>",
                "<method>none</method><repopen>1</repopen><mkthread>0</mkthread>",
            )
            .replace(
                "</exec>\n  </resource>",
                "</exec>\n    <exec name=\"orphan\"/>\n  </resource>",
            )
            .replace(
                "<heartbeat>",
                "<server name=\"standby\"><priority>1</priority></server>\n  <heartbeat>",
            )
            .replace(
                "<userlog/>",
                "",
            )
            .replace(
                "<timeout>\n          <start>180</start>",
                "<userlog>/var/log/exec.log</userlog>\n        <timeout>\n          <start>180</start>",
            );
    let conversion = convert(text.as_bytes(), None, "clp.conf").unwrap();
    let reported: Vec<String> = conversion
        .unsupported
        .iter()
        .map(ToString::to_string)
        .collect();
    for expected in [
        "/root/server@standby: clp runs on one server; this one is left out",
        "/root/group@failover1/resource@disk@disk1: resource type \"disk\" is not supported; this version has exec and fip resources",
        "/root/resource/exec@exec/parameters/userlog = \"/var/log/exec.log\": not supported",
        "/root/resource/disk@disk1: resource type \"disk\" is not supported; this version has exec and fip resources",
        "/root/resource/exec@orphan: the resource belongs to no group",
        "/root/monitor/userw@userw/parameters/repopen = \"1\": userw's dummy file and thread options are not supported",
        "/root/monitor/pidw@pidw1/emergency/action = \"11\": final action BMC reset is not supported; the default applies",
        "/root/monitor/pidw@pidw1/emergency/preaction/use = \"1\": scripts before the final action are not supported",
        "/root/webmgr/security/clientlist/iprest = \"1\": the client list names no address; clp's [webmanager] allow names the clients allowed, and an empty one allows every client",
        "/root/rc/errordetect/rscact/norecovery = \"1\": recovery is always on for group resources here (their retry and final action)",
        "/root/haltp: not supported",
    ] {
        assert!(
            reported.iter().any(|line| line == expected),
            "missing {expected:?} in {reported:#?}"
        );
    }
    assert_eq!(reported.len(), 11, "{reported:#?}");
    // What is supported still converts; the report heads the file as comments.
    let document: toml::Table = conversion.text.parse().unwrap();
    assert_eq!(
        document["cluster"]["disable_monitor_recovery"].as_bool(),
        Some(true)
    );
    assert!(conversion.text.contains("#   /root/haltp: not supported"));
    let monitors = document["monitor"].as_array().unwrap();
    assert!(
        monitors[1]
            .get("recovery")
            .unwrap()
            .get("final_action")
            .is_none()
    );
}

#[test]
fn a_floating_ip_converts_with_its_address_and_policies() {
    let text = sss("UTF-8", "UTF-8")
        .replace(
            "<resource name=\"exec@exec\"/>",
            "<resource name=\"fip@fip1\"/><resource name=\"exec@exec\"/>",
        )
        .replace(
            "<types name=\"exec\"/>",
            "<types name=\"fip\"/><fip name=\"fip1\"><comment>service address</comment><parameters><ip>192.0.2.100</ip></parameters><act><retry>2</retry></act></fip><types name=\"exec\"/>",
        );
    let conversion = convert(text.as_bytes(), None, "clp.conf").unwrap();
    assert!(
        conversion.unsupported.is_empty(),
        "{:#?}",
        conversion.unsupported
    );
    let document: toml::Table = conversion.text.parse().unwrap();
    let resources = document["group"][0]["resource"].as_array().unwrap();
    let fip = &resources[0];
    assert_eq!(fip["name"].as_str(), Some("fip1"));
    assert_eq!(fip["type"].as_str(), Some("fip"));
    assert_eq!(fip["comment"].as_str(), Some("service address"));
    assert_eq!(fip["parameters"]["ip"].as_str(), Some("192.0.2.100"));
    assert_eq!(fip["activation"]["retry"].as_integer(), Some(2));
    assert!(fip.get("start").is_none() && fip.get("mode").is_none());
    assert_eq!(resources[1]["type"].as_str(), Some("exec"));
}
