//! Monitors: their timing, recovery and parameters.

use super::converter::Converter;
use super::element::Element;
use super::model::{Model, OutMonitor};
use super::values::{USERW_DUMMY_OPTIONS, parameter_value};

impl Converter {
    pub(super) fn monitors(&mut self, root: &Element, model: &Model) -> Vec<OutMonitor> {
        let Some(monitors) = root.take("monitor") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for element in &monitors.children {
            if element.tag == "types" {
                element.mark();
                continue;
            }
            out.push(self.monitor(element, model));
        }
        out
    }

    pub(super) fn monitor(&mut self, element: &Element, model: &Model) -> OutMonitor {
        element.mark();
        let kind = element.tag.clone();
        let mut out = OutMonitor {
            name: element.key.clone().unwrap_or_default(),
            kind: kind.clone(),
            comment: element.take_text("comment").filter(|c| !c.is_empty()),
            target: element.take_text("target").filter(|t| !t.is_empty()),
            ..OutMonitor::default()
        };
        out.interval = self.integer(element.take("polling/interval"));
        out.timeout = self.integer(element.take("polling/timeout"));
        out.retry = self.integer(element.take("polling/reconfirmation"));
        out.wait_before_start = self.integer(element.take("firstmonwait"));
        if let Some(timing) = element.take("polling/timing") {
            match timing.value() {
                "0" => out.timing = Some("always"),
                "1" => out.timing = Some("active"),
                _ => self.report(timing, "not 0 (always) or 1 (while active)"),
            }
        }
        if let Some(polling) = element.peek("polling") {
            let servers: Vec<&Element> = polling.all("servers").collect();
            if !servers.is_empty() {
                polling.mark();
            }
            let this_server = |server: &&Element| {
                server.peek("name").map(Element::value) == model.server.as_deref()
            };
            if servers.len() == 1 && this_server(&servers[0]) {
                servers[0].mark_all();
            } else {
                for server in servers {
                    self.report(
                        server,
                        "monitoring servers are for clusters of several servers",
                    );
                }
            }
        }
        if let Some(relation) = element.peek("relation") {
            relation.mark();
            let name = relation.take_text("name");
            match relation.take("type") {
                Some(kind) if kind.value() == "cls" => {
                    out.recovery.target = Some("local-server".into());
                }
                Some(kind) if kind.value() == "grp" || kind.value() == "rsc" => {
                    out.recovery.target = name;
                }
                Some(kind) => self.report(kind, "not cls, grp or rsc"),
                None => out.recovery.target = name,
            }
        }
        out.recovery.reactivation_threshold =
            self.integer(element.take("emergency/threshold/restart"));
        out.recovery.failover_threshold = self.integer(element.take("emergency/threshold/fo"));
        out.recovery.final_action = self.final_action(element.take("emergency/action"), false);
        for (path, reason) in [
            (
                "emergency/threshold/script",
                "recovery scripts are not supported",
            ),
            (
                "emergency/preaction/use",
                "scripts before the final action are not supported",
            ),
            (
                "emergency/preaction/userestart",
                "scripts before reactivation are not supported",
            ),
            (
                "emergency/preaction/usefailover",
                "scripts before failover are not supported",
            ),
            (
                "emergency/dumpcollect/use",
                "dumps of timed-out checks are not supported",
            ),
            (
                "emergency/timeout/notreconfirmation/use",
                "a timed-out check is retried like any failure here",
            ),
            (
                "emergency/timeout/notrecovery/use",
                "a timed-out check leads to recovery like any failure here",
            ),
        ] {
            self.accept_at(element, path, &["0"], reason);
        }
        if let Some(parameters) = element.take("parameters") {
            out.parameters = self.parameters(parameters, &kind);
        }
        // Per-server values of this server (miiw's NIC, ...) override the common ones.
        for server in element.all("server") {
            match (&server.key, server.peek("parameters")) {
                (Some(name), Some(parameters)) if Some(name) == model.server.as_ref() => {
                    server.mark();
                    server.take("parameters");
                    let overrides = self.parameters(parameters, &kind);
                    out.parameters.extend(overrides);
                }
                _ => self.report(server, "per-server settings of another server"),
            }
        }
        out
    }

    /// `parameters/*` under the same names: `a/b` becomes a table, repeated `x@i/y`
    /// elements a list.
    pub(super) fn parameters(&mut self, parameters: &Element, kind: &str) -> toml::Table {
        let mut table = toml::Table::new();
        let mut lists: Vec<(String, Vec<(i64, toml::Value)>)> = Vec::new();
        for child in &parameters.children {
            if kind == "userw" && child.tag == "method" && child.value() != "none" {
                self.notes.push(format!(
                    "{} = \"{}\": this userw feeds the watchdog device of [os_actions] watchdog_device (default /dev/watchdog); use method \"none\" to open no device",
                    child.path,
                    child.value()
                ));
            }
            if kind == "userw" && USERW_DUMMY_OPTIONS.contains(&child.tag.as_str()) {
                self.accept_if(
                    Some(child),
                    &["0"],
                    "userw's dummy file and thread options are not supported",
                );
                continue;
            }
            child.mark();
            if child.key.is_some() {
                let order = child
                    .key
                    .as_deref()
                    .and_then(|k| k.parse::<i64>().ok())
                    .unwrap_or(i64::MAX);
                let item = if child.children.len() == 1 && child.children[0].is_leaf() {
                    child.children[0].mark();
                    parameter_value(&child.children[0].tag, child.children[0].value())
                } else {
                    toml::Value::Table(self.parameters(child, kind))
                };
                match lists.iter_mut().find(|(tag, _)| *tag == child.tag) {
                    Some((_, items)) => items.push((order, item)),
                    None => lists.push((child.tag.clone(), vec![(order, item)])),
                }
            } else if child.is_leaf() {
                table.insert(
                    child.tag.clone(),
                    parameter_value(&child.tag, child.value()),
                );
            } else {
                table.insert(
                    child.tag.clone(),
                    toml::Value::Table(self.parameters(child, kind)),
                );
            }
        }
        for (tag, mut items) in lists {
            items.sort_by_key(|(order, _)| *order);
            table.insert(
                tag,
                toml::Value::Array(items.into_iter().map(|(_, v)| v).collect()),
            );
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::super::convert;
    use super::super::tests::sss;

    #[test]
    fn monitor_parameters_keep_the_original_names() {
        let text = r#"<?xml version="1.0" encoding="UTF-8"?>
<root>
  <cluster><name>web</name></cluster>
  <server name="web1">
    <priority>0</priority>
  </server>
  <monitor>
    <types name="httpw"/>
    <httpw name="httpw1">
      <target>exec</target>
      <parameters>
        <servername>localhost</servername>
        <port>8080</port>
        <requesturi>/health</requesturi>
        <https>1</https>
        <requesttype>1</requesttype>
        <username>web</username>
        <password>0123</password>
      </parameters>
      <polling><interval>30</interval><timeout>60</timeout><reconfirmation>1</reconfirmation></polling>
    </httpw>
    <types name="genw"/>
    <genw name="genw1">
      <relation><type>grp</type><name>failover1</name></relation>
      <parameters>
        <path>/opt/check.sh</path>
        <sync>0</sync>
        <waitmonstart>10</waitmonstart>
        <logrotate>
          <use>1</use>
          <size>2000000</size>
        </logrotate>
      </parameters>
    </genw>
    <types name="ipw"/>
    <ipw name="ipw1">
      <parameters>
        <list id="1"><ip>10.0.0.2</ip></list>
        <list id="0"><ip>10.0.0.1</ip></list>
      </parameters>
    </ipw>
    <types name="miiw"/>
    <miiw name="miiw1">
      <parameters><object>eth0</object></parameters>
      <server name="web1"><parameters><object>eth1</object></parameters></server>
    </miiw>
  </monitor>
</root>
"#;
        let conversion = convert(text.as_bytes(), None, "clp.conf").unwrap();
        assert!(
            conversion.unsupported.is_empty(),
            "{:#?}",
            conversion.unsupported
        );
        let document: toml::Table = conversion.text.parse().unwrap();
        let monitors = document["monitor"].as_array().unwrap();
        let httpw = &monitors[0];
        assert_eq!(httpw["type"].as_str(), Some("httpw"));
        assert_eq!(httpw["interval"].as_integer(), Some(30));
        assert_eq!(httpw["retry"].as_integer(), Some(1));
        let parameters = httpw["parameters"].as_table().unwrap();
        assert_eq!(parameters["servername"].as_str(), Some("localhost"));
        assert_eq!(parameters["port"].as_integer(), Some(8080));
        assert_eq!(parameters["https"].as_integer(), Some(1));
        assert_eq!(parameters["requesttype"].as_integer(), Some(1));
        assert_eq!(parameters["password"].as_str(), Some("0123"));
        // httpw exists in this build: its parameters pass its own check.
        assert_eq!(
            (crate::monitor::registry::spec("httpw")
                .unwrap()
                .check_parameters)(parameters),
            Vec::<String>::new()
        );
        let genw = &monitors[1];
        assert_eq!(genw["recovery"]["target"].as_str(), Some("failover1"));
        let parameters = genw["parameters"].as_table().unwrap();
        assert_eq!(parameters["path"].as_str(), Some("/opt/check.sh"));
        assert_eq!(parameters["sync"].as_integer(), Some(0));
        assert_eq!(parameters["waitmonstart"].as_integer(), Some(10));
        assert_eq!(parameters["logrotate"]["use"].as_integer(), Some(1));
        assert_eq!(
            parameters["logrotate"]["size"].as_integer(),
            Some(2_000_000)
        );
        let ipw = &monitors[2];
        let list: Vec<&str> = ipw["parameters"]["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(list, ["10.0.0.1", "10.0.0.2"]);
        // This server's own value wins over the common one.
        assert_eq!(monitors[3]["parameters"]["object"].as_str(), Some("eth1"));
    }

    #[test]
    fn mail_monitors_keep_their_parameters_and_pass_their_checks() {
        let text = r#"<?xml version="1.0" encoding="UTF-8"?>
<root>
  <cluster><name>mail</name></cluster>
  <server name="mail1"><priority>0</priority></server>
  <monitor>
    <types name="imap4w"/>
    <imap4w name="imap4w1">
      <parameters>
        <ipaddress>127.0.0.1</ipaddress>
        <port>1143</port>
        <username>watch</username>
        <password>secret</password>
        <authmethod>LOGIN</authmethod>
        <encrypwd>0</encrypwd>
      </parameters>
    </imap4w>
    <types name="pop3w"/>
    <pop3w name="pop3w1">
      <parameters>
        <port>1110</port>
        <username>watch</username>
        <authmethod>USER/PASS</authmethod>
      </parameters>
    </pop3w>
  </monitor>
</root>
"#;
        let conversion = convert(text.as_bytes(), None, "clp.conf").unwrap();
        assert!(
            conversion.unsupported.is_empty(),
            "{:#?}",
            conversion.unsupported
        );
        let document: toml::Table = conversion.text.parse().unwrap();
        let monitors = document["monitor"].as_array().unwrap();
        for (monitor, kind, port, authmethod) in [
            (&monitors[0], "imap4w", 1143, "LOGIN"),
            (&monitors[1], "pop3w", 1110, "USER/PASS"),
        ] {
            assert_eq!(monitor["type"].as_str(), Some(kind));
            let parameters = monitor["parameters"].as_table().unwrap();
            assert_eq!(parameters["port"].as_integer(), Some(port));
            assert_eq!(parameters["username"].as_str(), Some("watch"));
            assert_eq!(parameters["authmethod"].as_str(), Some(authmethod));
            assert_eq!(
                (crate::monitor::registry::spec(kind)
                    .unwrap()
                    .check_parameters)(parameters),
                Vec::<String>::new(),
                "{kind}"
            );
        }
    }

    #[test]
    fn a_database_monitor_keeps_its_parameters_and_passes_its_check() {
        let text = r#"<?xml version="1.0" encoding="UTF-8"?>
<root>
  <cluster><name>db</name></cluster>
  <server name="db1"><priority>0</priority></server>
  <monitor>
    <types name="mysqlw"/>
    <mysqlw name="mysqlw1">
      <parameters>
        <database>shop</database>
        <ipaddress>127.0.0.1</ipaddress>
        <port>3307</port>
        <username>clp</username>
        <password>secret</password>
        <table>mysqlwatch</table>
        <engine>MyISAM</engine>
        <docreatedrop>1</docreatedrop>
        <libraryfullpath>/usr/lib64/mysql/libmysqlclient.so.21</libraryfullpath>
      </parameters>
    </mysqlw>
  </monitor>
</root>
"#;
        let conversion = convert(text.as_bytes(), None, "clp.conf").unwrap();
        assert!(
            conversion.unsupported.is_empty(),
            "{:#?}",
            conversion.unsupported
        );
        let document: toml::Table = conversion.text.parse().unwrap();
        let mysqlw = &document["monitor"].as_array().unwrap()[0];
        assert_eq!(mysqlw["type"].as_str(), Some("mysqlw"));
        let parameters = mysqlw["parameters"].as_table().unwrap();
        assert_eq!(parameters["port"].as_integer(), Some(3307));
        assert_eq!(parameters["docreatedrop"].as_integer(), Some(1));
        assert_eq!(parameters["engine"].as_str(), Some("MyISAM"));
        assert_eq!(
            (crate::monitor::registry::spec("mysqlw")
                .unwrap()
                .check_parameters)(parameters),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_userw_that_feeds_a_watchdog_is_pointed_out() {
        let text = sss("UTF-8", "UTF-8").replace(
            "<method>none</method>",
            "<method>keepalive</method><action>PANIC</action>",
        );
        let conversion = convert(text.as_bytes(), None, "clp.conf").unwrap();
        assert!(
            conversion.notes.iter().any(|note| note.starts_with(
                "/root/monitor/userw@userw/parameters/method = \"keepalive\": this userw feeds the watchdog device"
            )),
            "{:?}",
            conversion.notes
        );
        let document: toml::Table = conversion.text.parse().unwrap();
        let userw = &document["monitor"].as_array().unwrap()[0];
        assert_eq!(userw["parameters"]["method"].as_str(), Some("keepalive"));
        assert_eq!(userw["parameters"]["action"].as_str(), Some("PANIC"));
    }

    #[test]
    fn control_characters_in_what_is_left_out_stay_inside_their_comment() {
        // Found by the fuzzer (fuzz/ original_xml): a value with a control character
        // (here a DEL and a newline in a monitor's name) was copied raw into the header comment,
        // and the converted file did not parse, or worse, read the rest as TOML.
        let text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<root><cluster><name>web</name></cluster><server name=\"web1\"><priority>0</priority></server><monitor><types name=\"genw\"/><genw name=\"genw\u{7f}1&#10;name = 1\"><relation><type>grr</type><name>x</name></relation></genw></monitor></root>";
        let conversion = convert(text.as_bytes(), None, "clp.conf").unwrap();
        assert!(!conversion.unsupported.is_empty());
        let parsed: Result<toml::Table, _> = conversion.text.parse();
        assert!(parsed.is_ok(), "{:?}\n{}", parsed.err(), conversion.text);
    }
}
