//! Migration from the original product: its XML `clp.conf` (EUC-JP, Shift_JIS or UTF-8, as
//! written by the Builder/WebUI or `clpcfset`) converted to our TOML, key for key.
//!
//! The shape (reference §3, §4, §5, §11):
//! ```text
//! <root>
//!   <all><charset>EUC-JP</charset><encode>…</encode><serveros>linux</serveros></all>
//!   <cluster><name>NAME</name><comment/></cluster>
//!   <server name="HOST">…</server>
//!   <group name="failover1"><resource name="exec@exec"/>…</group>
//!   <resource><types name="exec"/><exec name="exec"><parameters><act><path>start.sh</path>…
//!   <monitor><types name="httpw"/><httpw name="httpw"><polling><interval>30</interval>…
//!   <rm><errordetect><norecovery>0</norecovery></errordetect></rm>
//! </root>
//! ```
//! Paths are written as the original's `clpcfset` writes them: an element with a `name` or
//! `id` attribute is `tag@value` (`/root/monitor/httpw@httpw1/polling/interval`).
//!
//! Every element is either mapped, accepted because it describes what clp does anyway (the
//! built-in loopback heartbeat of a single server, a value equal to our behaviour, the
//! Builder's object count), or reported by its path as not supported. Scripts are carried
//! over by the caller (`scripts/<group>/<resource>/` keeps its layout).

use std::cell::Cell;
use std::fmt::{self, Write as _};

use encoding_rs::Encoding;

/// Which product's files `-l`/`-w` say the folder holds: the encoding to try when the file
/// does not name one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingHint {
    /// `-l`: made on Linux (EUC-JP when not UTF-8).
    Linux,
    /// `-w`: made by the Builder/WebUI on Windows (Shift_JIS).
    Windows,
}

/// One element of the original's file that the conversion does not carry over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// Its path, `/root/rc/errordetect/rscact/norecovery`.
    pub path: String,
    /// Its value, for an element holding text.
    pub value: Option<String>,
    /// Why.
    pub reason: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{} = \"{value}\": {}", self.path, self.reason),
            None => write!(f, "{}: {}", self.path, self.reason),
        }
    }
}

/// The result of a conversion.
#[derive(Debug, Clone)]
pub struct Conversion {
    /// The TOML `clp.conf`, headed by comments naming what was left out.
    pub text: String,
    /// The encoding the file was read in (`EUC-JP`, `Shift_JIS`, `UTF-8`).
    pub encoding: &'static str,
    /// The server the configuration was made for (`<server name>`).
    pub server: Option<String>,
    /// Everything not carried over, by path.
    pub unsupported: Vec<Unsupported>,
    /// Notes on how the file was read (an encoding declared wrongly, ...).
    pub notes: Vec<String>,
}

/// Why a file could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum OriginalError {
    /// No encoding tried reads the file.
    #[error(
        "cannot read the file as {tried}: it holds bytes invalid in each; give -l (EUC-JP) or -w (Shift_JIS) if the file does not say"
    )]
    Encoding {
        /// The encodings tried.
        tried: String,
    },
    /// Not well-formed XML.
    #[error("not well-formed XML: {0}")]
    Xml(String),
    /// Well-formed, but not the original's configuration.
    #[error(
        "not a configuration of the original product: the document element is <{0}>, not <root>"
    )]
    NotAConfiguration(String),
}

/// Whether a `clp.conf` is the original's XML (rather than our TOML).
pub fn looks_like_original(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let rest = &bytes[start..];
    rest.starts_with(b"<?xml") || rest.starts_with(b"<root")
}

/// Converts the original's `clp.conf` (raw bytes) to our TOML.
pub fn convert(
    bytes: &[u8],
    hint: Option<EncodingHint>,
    source: &str,
) -> Result<Conversion, OriginalError> {
    let (text, encoding, mut notes) = decode(bytes, hint)?;
    let body = without_declaration(&text);
    let document =
        roxmltree::Document::parse(body).map_err(|error| OriginalError::Xml(error.to_string()))?;
    let root = document.root_element();
    if root.tag_name().name() != "root" {
        return Err(OriginalError::NotAConfiguration(
            root.tag_name().name().to_string(),
        ));
    }
    let tree = Element::from_node(root, "");
    tree.used.set(true);
    let mut converter = Converter::default();
    let model = converter.convert(&tree);
    tree.report_unused(&mut converter.unsupported);
    let mut conversion = Conversion {
        text: String::new(),
        encoding: encoding.name(),
        server: model.server.clone(),
        unsupported: converter.unsupported,
        notes: Vec::new(),
    };
    conversion.notes.append(&mut notes);
    conversion.notes.append(&mut converter.notes);
    conversion.text = render(&model, &conversion, source);
    Ok(conversion)
}

// ---------------------------------------------------------------------------------------
// Encodings

/// Decodes the file: the encoding it declares, `<all><charset>`, `<all><encode>`, then
/// UTF-8, then the `-l`/`-w` hint (and the other Japanese encoding); the first that reads
/// every byte wins.
fn decode(
    bytes: &[u8],
    hint: Option<EncodingHint>,
) -> Result<(String, &'static Encoding, Vec<String>), OriginalError> {
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom_length..]);
        if !had_errors {
            return Ok((text.into_owned(), encoding, Vec::new()));
        }
    }
    let ascii_head = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]).into_owned();
    let declared: Vec<(&'static str, &'static Encoding)> = [
        ("the XML declaration", xml_declared_encoding(&ascii_head)),
        ("<all><charset>", element_text(&ascii_head, "charset")),
        ("<all><encode>", element_text(&ascii_head, "encode")),
    ]
    .into_iter()
    .filter_map(|(what, label)| Some((what, encoding_for_label(&label?)?)))
    .collect();
    let mut candidates: Vec<&'static Encoding> = declared.iter().map(|(_, e)| *e).collect();
    candidates.push(encoding_rs::UTF_8);
    match hint {
        Some(EncodingHint::Windows) => {
            candidates.extend([encoding_rs::SHIFT_JIS, encoding_rs::EUC_JP]);
        }
        Some(EncodingHint::Linux) | None => {
            candidates.extend([encoding_rs::EUC_JP, encoding_rs::SHIFT_JIS]);
        }
    }
    let mut tried: Vec<&'static Encoding> = Vec::new();
    for encoding in candidates {
        if tried.contains(&encoding) {
            continue;
        }
        tried.push(encoding);
        if let Some(text) = encoding.decode_without_bom_handling_and_without_replacement(bytes) {
            let mut notes = Vec::new();
            if let Some((what, first)) = declared.first()
                && *first != encoding
            {
                notes.push(format!(
                    "{what} says {}, but the file is not valid {}: read as {}",
                    first.name(),
                    first.name(),
                    encoding.name()
                ));
            }
            return Ok((text.into_owned(), encoding, notes));
        }
    }
    Err(OriginalError::Encoding {
        tried: tried
            .iter()
            .map(|e| e.name())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// An encoding named in the file; ASCII (a subset of all) and unknown names say nothing.
fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    let label = label.trim();
    let normalized = label.to_ascii_lowercase();
    if matches!(
        normalized.as_str(),
        "ascii" | "us-ascii" | "us_ascii" | "iso646-us"
    ) {
        return None;
    }
    let label = match normalized.as_str() {
        "cp932" | "ms932" | "windows-31j" | "sjis" | "shift-jis" => "shift_jis",
        "eucjp" | "euc_jp" | "ujis" => "euc-jp",
        "utf8" => "utf-8",
        other => other,
    };
    let encoding = Encoding::for_label(label.as_bytes())?;
    // The Encoding Standard maps unknown Latin labels to windows-1252; the original only
    // writes Japanese encodings or UTF-8.
    (encoding == encoding_rs::EUC_JP
        || encoding == encoding_rs::SHIFT_JIS
        || encoding == encoding_rs::UTF_8)
        .then_some(encoding)
}

fn xml_declared_encoding(head: &str) -> Option<String> {
    let head = head.trim_start_matches('\u{feff}').trim_start();
    let declaration = head.strip_prefix("<?xml")?;
    let declaration = &declaration[..declaration.find("?>")?];
    let after = &declaration[declaration.find("encoding")? + "encoding".len()..];
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &after[1..];
    Some(value[..value.find(quote)?].to_string())
}

fn element_text(head: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = head.find(&open)? + open.len();
    let end = start + head[start..].find(&close)?;
    Some(head[start..end].to_string())
}

/// The text without its XML declaration: the text is already decoded, and the parser
/// takes only UTF-8 (it must not act on `encoding="EUC-JP"`).
fn without_declaration(text: &str) -> &str {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    trimmed
        .strip_prefix("<?xml")
        .and_then(|rest| rest.find("?>").map(|end| &rest[end + 2..]))
        .unwrap_or(text)
}

// ---------------------------------------------------------------------------------------
// The document as a tree that remembers what was used

/// One element: its tag, its `name`/`id` attribute, its text and children, and whether the
/// conversion used it.
#[derive(Debug)]
struct Element {
    tag: String,
    key: Option<String>,
    text: String,
    path: String,
    children: Vec<Element>,
    used: Cell<bool>,
}

impl Element {
    fn from_node(node: roxmltree::Node<'_, '_>, parent: &str) -> Element {
        let tag = node.tag_name().name().to_string();
        let key = node
            .attribute("name")
            .or_else(|| node.attribute("id"))
            .map(str::to_string);
        let path = match &key {
            Some(key) => format!("{parent}/{tag}@{key}"),
            None => format!("{parent}/{tag}"),
        };
        let text: String = node
            .children()
            .filter(|child| child.is_text())
            .filter_map(|child| child.text())
            .collect();
        let children = node
            .children()
            .filter(|child| child.is_element())
            .map(|child| Element::from_node(child, &path))
            .collect();
        Element {
            tag,
            key,
            text,
            path,
            children,
            used: Cell::new(false),
        }
    }

    fn is_leaf(&self) -> bool {
        self.children.is_empty()
    }

    /// The text of an element holding text (not of an empty or a containing one).
    fn leaf_value(&self) -> Option<String> {
        (self.is_leaf() && !self.value().is_empty()).then(|| self.value().to_string())
    }

    /// The trimmed text.
    fn value(&self) -> &str {
        self.text.trim()
    }

    fn mark(&self) -> &Self {
        self.used.set(true);
        self
    }

    /// Marks this element and everything under it used.
    fn mark_all(&self) {
        self.used.set(true);
        for child in &self.children {
            child.mark_all();
        }
    }

    /// The children with a tag (not marked).
    fn all<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |child| child.tag == tag)
    }

    /// The element at `path` (`polling/interval`), marking every step.
    fn take(&self, path: &str) -> Option<&Element> {
        let mut element = self;
        for step in path.split('/') {
            element = element.children.iter().find(|child| child.tag == step)?;
            element.mark();
        }
        Some(element)
    }

    /// The element at `path` without marking it.
    fn peek(&self, path: &str) -> Option<&Element> {
        let mut element = self;
        for step in path.split('/') {
            element = element.children.iter().find(|child| child.tag == step)?;
        }
        Some(element)
    }

    /// The text at `path`, marking it used.
    fn take_text(&self, path: &str) -> Option<String> {
        self.take(path).map(|element| element.value().to_string())
    }

    /// Reports what no mapping used: the topmost unused element of each branch.
    fn report_unused(&self, out: &mut Vec<Unsupported>) {
        for child in &self.children {
            if !child.used.get() {
                out.push(Unsupported {
                    path: child.path.clone(),
                    value: child.leaf_value(),
                    reason: "not supported".into(),
                });
            } else {
                child.report_unused(out);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The converted configuration

#[derive(Debug, Default)]
struct Model {
    server: Option<String>,
    server_comment: Option<String>,
    cluster_name: Option<String>,
    cluster_comment: Option<String>,
    language: Option<&'static str>,
    disable_monitor_recovery: Option<bool>,
    webmanager_allow: Vec<String>,
    groups: Vec<OutGroup>,
    monitors: Vec<OutMonitor>,
}

#[derive(Debug, Default)]
struct OutGroup {
    name: String,
    comment: Option<String>,
    auto_start: Option<bool>,
    resources: Vec<OutResource>,
}

#[derive(Debug, Default)]
struct OutPolicy {
    retry: Option<i64>,
    failover_threshold: Option<i64>,
    final_action: Option<&'static str>,
}

impl OutPolicy {
    fn is_empty(&self) -> bool {
        self.retry.is_none() && self.failover_threshold.is_none() && self.final_action.is_none()
    }
}

#[derive(Debug, Default)]
struct OutResource {
    name: String,
    comment: Option<String>,
    start: Option<String>,
    stop: Option<String>,
    mode: Option<&'static str>,
    timeout: Option<i64>,
    stop_timeout: Option<i64>,
    depends_on: Vec<String>,
    activation: OutPolicy,
    deactivation: OutPolicy,
}

#[derive(Debug, Default)]
struct OutRecovery {
    target: Option<String>,
    reactivation_threshold: Option<i64>,
    failover_threshold: Option<i64>,
    final_action: Option<&'static str>,
}

#[derive(Debug, Default)]
struct OutMonitor {
    name: String,
    kind: String,
    comment: Option<String>,
    target: Option<String>,
    interval: Option<i64>,
    timeout: Option<i64>,
    retry: Option<i64>,
    wait_before_start: Option<i64>,
    timing: Option<&'static str>,
    parameters: toml::Table,
    recovery: OutRecovery,
}

/// Monitor final actions (`emergency/action`, reference §3).
pub(crate) fn monitor_final_action(code: &str) -> Result<&'static str, &'static str> {
    match code {
        "1" => Ok("none"),
        "2" => Ok("stop-group"),
        "3" => Ok("stop-daemon"),
        "4" => Ok("stop-daemon-shutdown"),
        "5" => Ok("stop-daemon-reboot"),
        "8" => Ok("sysrq-panic"),
        "9" => Ok("keepalive-reset"),
        "10" => Ok("keepalive-panic"),
        other => Err(action_name(other)),
    }
}

/// Group-resource final actions (`act/action`, `deact/action`, reference §5).
pub(crate) fn resource_final_action(code: &str) -> Result<&'static str, &'static str> {
    match code {
        "0" => Ok("continue"),
        other => monitor_final_action(other),
    }
}

fn action_name(code: &str) -> &'static str {
    match code {
        "11" => "BMC reset",
        "12" => "BMC power off",
        "13" => "BMC power cycle",
        "14" => "BMC NMI",
        "15" => "I/O fencing",
        "16" => "stop resource",
        _ => "an unknown action",
    }
}

/// Monitor parameters (reference §4) whose values are numbers; every other parameter is
/// carried as text.
const INTEGER_PARAMETERS: &[&str] = &[
    "port",
    "https",
    "requesttype",
    "encrypwd",
    "size",
    "usehb",
    "repopen",
    "repwrite",
    "writesize",
    "mkthread",
    "default",
    "sync",
    "waitmonstart",
    "normalval",
    "waitstop",
    "docreatedrop",
    "ignoreuse",
    "monmethod",
    "level",
    "authority",
    "processnum",
    "monmii",
    "use",
    "timeout",
    "pingtimeout",
    "interval",
];

/// userw options this build does not have; accepted when off (0), the behaviour here.
const USERW_DUMMY_OPTIONS: &[&str] = &["repopen", "repwrite", "writesize", "mkthread"];

#[derive(Default)]
struct Converter {
    unsupported: Vec<Unsupported>,
    notes: Vec<String>,
}

impl Converter {
    fn report(&mut self, element: &Element, reason: impl Into<String>) {
        element.mark_all();
        self.unsupported.push(Unsupported {
            path: element.path.clone(),
            value: element.leaf_value(),
            reason: reason.into(),
        });
    }

    /// Accepts the element at `path` under `parent` when its value is what clp does anyway;
    /// reports any other value.
    fn accept_at(&mut self, parent: &Element, path: &str, accepted: &[&str], reason: &str) {
        let (folder, leaf) = path.rsplit_once('/').unwrap_or(("", path));
        let container = if folder.is_empty() {
            Some(parent)
        } else {
            parent.peek(folder)
        };
        let Some(element) = container.and_then(|c| c.children.iter().find(|e| e.tag == leaf))
        else {
            return;
        };
        if !folder.is_empty() {
            parent.take(folder);
        }
        self.accept_if(Some(element), accepted, reason);
    }

    /// Accepts an element whose value is what clp does anyway; reports any other value.
    fn accept_if(&mut self, element: Option<&Element>, accepted: &[&str], reason: &str) {
        let Some(element) = element else {
            return;
        };
        if element.is_leaf() && accepted.contains(&element.value()) {
            element.mark();
        } else {
            self.report(element, reason);
        }
    }

    fn integer(&mut self, element: Option<&Element>) -> Option<i64> {
        let element = element?;
        match element.value().parse::<i64>() {
            Ok(value) => Some(value),
            Err(_) => {
                self.report(element, "not a number");
                None
            }
        }
    }

    fn convert(&mut self, root: &Element) -> Model {
        let mut model = Model::default();
        self.all_section(root, &mut model);
        self.cluster(root, &mut model);
        self.servers(root, &mut model);
        self.heartbeats(root);
        if let Some(webmgr) = root.peek("webmgr") {
            webmgr.mark();
            // The Builder's count of objects: it describes the file, not the cluster.
            webmgr.take("client/objectnumber");
            self.client_list(webmgr, &mut model);
        }
        if let Some(value) = root.take("rm/errordetect/norecovery") {
            match value.value() {
                "0" => model.disable_monitor_recovery = Some(false),
                "1" => model.disable_monitor_recovery = Some(true),
                _ => self.report(value, "not 0 or 1"),
            }
        }
        for kind in ["rscact", "rscdeact"] {
            self.accept_at(
                root,
                &format!("rc/errordetect/{kind}/norecovery"),
                &["0"],
                "recovery is always on for group resources here (their retry and final action)",
            );
        }
        model.groups = self.groups(root);
        model.monitors = self.monitors(root, &model);
        model
    }

    /// `webmgr/security/clientlist`: `iprest` 1 restricts the WebManager to the addresses of
    /// the `ip@ADDRESS` entries (`[webmanager] allow`); 0 is no restriction.
    fn client_list(&mut self, webmgr: &Element, model: &mut Model) {
        let Some(list) = webmgr.peek("security/clientlist") else {
            return;
        };
        webmgr.take("security/clientlist");
        let addresses: Vec<String> = list
            .all("ip")
            .filter_map(|ip| {
                ip.mark_all();
                ip.key.clone()
            })
            .collect();
        let Some(iprest) = list.take("iprest") else {
            model.webmanager_allow = addresses;
            return;
        };
        match iprest.value() {
            "0" => {}
            "1" if addresses.is_empty() => self.report(
                iprest,
                "the client list names no address; clp's [webmanager] allow names the clients allowed, and an empty one allows every client",
            ),
            "1" => model.webmanager_allow = addresses,
            _ => self.report(iprest, "not 0 or 1"),
        }
    }

    fn all_section(&mut self, root: &Element, model: &mut Model) {
        // The encoding was used to read the file; the character set also tells the language
        // the original was set to.
        if let Some(charset) = root.take_text("all/charset") {
            let (language, note) = super::language::from_original_charset(&charset);
            model.language = language;
            self.notes.extend(note);
        }
        root.take("all/encode");
        if let Some(os) = root.take("all/serveros")
            && !os.value().eq_ignore_ascii_case("linux")
        {
            self.report(os, "clp runs on Linux; check every path and script");
        }
    }

    fn cluster(&mut self, root: &Element, model: &mut Model) {
        if root.take("cluster").is_none() {
            return;
        }
        model.cluster_name = root.take_text("cluster/name");
        model.cluster_comment = root
            .take_text("cluster/comment")
            .filter(|comment| !comment.is_empty());
    }

    fn servers(&mut self, root: &Element, model: &mut Model) {
        for (index, server) in root.all("server").enumerate() {
            if index > 0 {
                self.report(server, "clp runs on one server; this one is left out");
                continue;
            }
            server.mark();
            model.server = server.key.clone();
            self.accept_at(server, "priority", &["0"], "one server: it is the first");
            model.server_comment = server
                .take_text("comment")
                .filter(|comment| !comment.is_empty());
            for device in server.all("device") {
                let is_loopback_lan = device.peek("type").is_some_and(|t| t.value() == "lan");
                if is_loopback_lan {
                    // The interconnect of the built-in heartbeat; a single server needs no
                    // other address.
                    device.mark_all();
                } else {
                    self.report(device, "heartbeat and network partition devices are for clusters of several servers");
                }
            }
        }
    }

    fn heartbeats(&mut self, root: &Element) {
        let Some(heartbeat) = root.peek("heartbeat") else {
            return;
        };
        heartbeat.mark();
        for element in &heartbeat.children {
            match element.tag.as_str() {
                "types" => {
                    element.mark();
                }
                // clpstat's lanhb1: the built-in heartbeat of a single server.
                "lanhb" => element.mark_all(),
                _ => self.report(
                    element,
                    "heartbeats other than the built-in LAN heartbeat are for clusters of several servers",
                ),
            }
        }
    }

    fn groups(&mut self, root: &Element) -> Vec<OutGroup> {
        let resources = root.peek("resource");
        if let Some(resources) = resources {
            resources.mark();
            for types in resources.all("types") {
                types.mark();
            }
        }
        let mut grouped: Vec<String> = Vec::new();
        let mut groups = Vec::new();
        for group in root.all("group") {
            group.mark();
            let name = group.key.clone().unwrap_or_default();
            let mut out = OutGroup {
                name: name.clone(),
                comment: group.take_text("comment").filter(|c| !c.is_empty()),
                ..OutGroup::default()
            };
            group.take("gid");
            self.accept_at(
                group,
                "type",
                &["failover"],
                "only failover groups exist here",
            );
            if let Some(start) = group.take("start") {
                match start.value() {
                    "1" => out.auto_start = Some(true),
                    "0" => out.auto_start = Some(false),
                    _ => self.report(start, "not 0 or 1"),
                }
            }
            let policies: Vec<&Element> = group.all("policy").collect();
            if policies.len() == 1 {
                policies[0].mark_all();
            } else {
                for policy in policies {
                    self.report(
                        policy,
                        "a startup server list is for clusters of several servers",
                    );
                }
            }
            for member in group.all("resource") {
                member.mark();
                let key = member.key.clone().unwrap_or_default();
                let (kind, resource_name) = key.split_once('@').unwrap_or(("", key.as_str()));
                if kind != "exec" {
                    self.report(
                        member,
                        format!("resource type \"{kind}\" is not supported; this version has exec resources"),
                    );
                    continue;
                }
                let definition = resources.and_then(|r| {
                    r.all("exec")
                        .find(|e| e.key.as_deref() == Some(resource_name))
                });
                let Some(definition) = definition else {
                    self.report(member, "the resource is not defined under /root/resource");
                    continue;
                };
                grouped.push(resource_name.to_string());
                out.resources.push(self.exec(definition, resource_name));
            }
            // What the rest of the group says (failover, failback, exclusive, dependencies
            // between groups) is reported by the walk of unused elements, unless it is the
            // behaviour of a single server anyway.
            self.accept_at(group, "failover", &["1"], "not supported");
            self.accept_at(group, "failback", &["0"], "not supported");
            self.accept_at(group, "exclusive", &["0"], "not supported");
            groups.push(out);
        }
        if let Some(resources) = resources {
            for definition in &resources.children {
                if definition.tag == "types" {
                    continue;
                }
                let listed = definition.tag == "exec"
                    && definition
                        .key
                        .as_ref()
                        .is_some_and(|name| grouped.contains(name));
                if !listed && !definition.used.get() {
                    let reason = if definition.tag == "exec" {
                        "the resource belongs to no group".to_string()
                    } else {
                        format!(
                            "resource type \"{}\" is not supported; this version has exec resources",
                            definition.tag
                        )
                    };
                    self.report(definition, reason);
                }
            }
        }
        groups
    }

    fn exec(&mut self, exec: &Element, name: &str) -> OutResource {
        exec.mark();
        let mut out = OutResource {
            name: name.to_string(),
            comment: exec.take_text("comment").filter(|c| !c.is_empty()),
            start: exec.take_text("parameters/act/path"),
            stop: exec.take_text("parameters/deact/path"),
            ..OutResource::default()
        };
        if let Some(sync) = exec.take("parameters/act/sync") {
            match sync.value() {
                "1" => out.mode = Some("sync"),
                "0" => out.mode = Some("async"),
                _ => self.report(sync, "not 0 or 1"),
            }
        }
        self.accept_at(
            exec,
            "parameters/deact/sync",
            &["1"],
            "stop scripts always run synchronously here",
        );
        out.timeout = self.integer(exec.take("parameters/timeout/start"));
        out.stop_timeout = self.integer(exec.take("parameters/timeout/stop"));
        for (path, reason) in [
            (
                "parameters/act/postrunothers",
                "runs on standby servers: one server here",
            ),
            (
                "parameters/deact/prerunothers",
                "runs on standby servers: one server here",
            ),
        ] {
            self.accept_at(exec, path, &["0"], reason);
        }
        // The overall activation/deactivation timeouts (script timeout + 180 s) add
        // nothing to the script's own timeout on one server.
        for (path, script_timeout) in [
            ("act/timeout", out.timeout),
            ("deact/timeout", out.stop_timeout),
        ] {
            if let Some(element) = exec.take(path) {
                let enough = element
                    .value()
                    .parse::<i64>()
                    .is_ok_and(|overall| overall >= script_timeout.unwrap_or(1800));
                if !enough {
                    self.report(
                        element,
                        "shorter than the script timeout; the script timeout alone applies here",
                    );
                }
            }
        }
        out.activation.retry = self.integer(exec.take("act/retry"));
        out.activation.failover_threshold = self.integer(exec.take("act/fo"));
        out.activation.final_action = self.final_action(exec.take("act/action"), true);
        out.deactivation.retry = self.integer(exec.take("deact/retry"));
        out.deactivation.final_action = self.final_action(exec.take("deact/action"), true);
        for depend in exec.all("depend") {
            depend.mark();
            match &depend.key {
                Some(other) if !other.is_empty() => out.depends_on.push(other.clone()),
                _ => {}
            }
        }
        out
    }

    fn final_action(&mut self, element: Option<&Element>, resource: bool) -> Option<&'static str> {
        let element = element?;
        let mapped = if resource {
            resource_final_action(element.value())
        } else {
            monitor_final_action(element.value())
        };
        match mapped {
            Ok(word) => Some(word),
            Err(name) => {
                self.report(
                    element,
                    format!("final action {name} is not supported; the default applies"),
                );
                None
            }
        }
    }

    fn monitors(&mut self, root: &Element, model: &Model) -> Vec<OutMonitor> {
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

    fn monitor(&mut self, element: &Element, model: &Model) -> OutMonitor {
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
    fn parameters(&mut self, parameters: &Element, kind: &str) -> toml::Table {
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

fn parameter_value(tag: &str, text: &str) -> toml::Value {
    if INTEGER_PARAMETERS.contains(&tag)
        && let Ok(number) = text.parse::<i64>()
    {
        return toml::Value::Integer(number);
    }
    toml::Value::String(text.to_string())
}

// ---------------------------------------------------------------------------------------
// Writing TOML

fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { name.to_string() } else { quoted(name) }
}

fn line(out: &mut String, name: &str, value: impl fmt::Display) {
    let _ = writeln!(out, "{} = {value}", key(name));
}

fn optional_text(out: &mut String, name: &str, value: &Option<String>) {
    if let Some(value) = value {
        line(out, name, quoted(value));
    }
}

fn optional_number(out: &mut String, name: &str, value: Option<i64>) {
    if let Some(value) = value {
        line(out, name, value);
    }
}

fn optional_word(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        line(out, name, quoted(value));
    }
}

fn write_table(out: &mut String, header: &str, table: &toml::Table) {
    let _ = writeln!(out, "[{header}]");
    for (name, value) in table {
        if !value.is_table() {
            line(out, name, value);
        }
    }
    for (name, value) in table {
        if let toml::Value::Table(inner) = value {
            write_table(out, &format!("{header}.{}", key(name)), inner);
        }
    }
}

fn write_policy(out: &mut String, header: &str, policy: &OutPolicy) {
    if policy.is_empty() {
        return;
    }
    let _ = writeln!(out, "[{header}]");
    optional_number(out, "retry", policy.retry);
    optional_number(out, "failover_threshold", policy.failover_threshold);
    optional_word(out, "final_action", policy.final_action);
}

/// Text for a TOML comment: a control character (a newline above all, which would end the
/// comment and start a line of TOML) is written escaped.
fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn render(model: &Model, conversion: &Conversion, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Converted by clpcfctrl from the original product's {} ({}).",
        comment_text(source),
        conversion.encoding
    );
    if let Some(server) = &model.server {
        let _ = writeln!(out, "# Made for server \"{}\".", comment_text(server));
    }
    for note in &conversion.notes {
        let _ = writeln!(out, "# {}", comment_text(note));
    }
    if !conversion.unsupported.is_empty() {
        let _ = writeln!(out, "# Not carried over:");
        for item in &conversion.unsupported {
            let _ = writeln!(out, "#   {}", comment_text(&item.to_string()));
        }
    }
    out.push('\n');
    if model.cluster_name.is_some()
        || model.cluster_comment.is_some()
        || model.language.is_some()
        || model.disable_monitor_recovery.is_some()
    {
        out.push_str("[cluster]\n");
        optional_text(&mut out, "name", &model.cluster_name);
        optional_text(&mut out, "comment", &model.cluster_comment);
        optional_word(&mut out, "language", model.language);
        if let Some(disabled) = model.disable_monitor_recovery {
            line(&mut out, "disable_monitor_recovery", disabled);
        }
        out.push('\n');
    }
    if !model.webmanager_allow.is_empty() {
        out.push_str("[webmanager]\n");
        let list: Vec<String> = model.webmanager_allow.iter().map(|a| quoted(a)).collect();
        line(&mut out, "allow", format!("[{}]", list.join(", ")));
        out.push('\n');
    }
    if model.server.is_some() {
        out.push_str("[[server]]\n");
        optional_text(&mut out, "name", &model.server);
        optional_text(&mut out, "comment", &model.server_comment);
        out.push('\n');
    }
    for group in &model.groups {
        out.push_str("[[group]]\n");
        line(&mut out, "name", quoted(&group.name));
        optional_text(&mut out, "comment", &group.comment);
        if let Some(auto_start) = group.auto_start {
            line(&mut out, "auto_start", auto_start);
        }
        out.push('\n');
        for resource in &group.resources {
            out.push_str("[[group.resource]]\n");
            line(&mut out, "name", quoted(&resource.name));
            line(&mut out, "type", quoted("exec"));
            optional_text(&mut out, "comment", &resource.comment);
            optional_word(&mut out, "mode", resource.mode);
            optional_text(&mut out, "start", &resource.start);
            optional_text(&mut out, "stop", &resource.stop);
            optional_number(&mut out, "timeout", resource.timeout);
            optional_number(&mut out, "stop_timeout", resource.stop_timeout);
            if !resource.depends_on.is_empty() {
                let list: Vec<String> = resource.depends_on.iter().map(|d| quoted(d)).collect();
                line(&mut out, "depends_on", format!("[{}]", list.join(", ")));
            }
            write_policy(&mut out, "group.resource.activation", &resource.activation);
            write_policy(
                &mut out,
                "group.resource.deactivation",
                &resource.deactivation,
            );
            out.push('\n');
        }
    }
    for monitor in &model.monitors {
        out.push_str("[[monitor]]\n");
        line(&mut out, "name", quoted(&monitor.name));
        line(&mut out, "type", quoted(&monitor.kind));
        optional_text(&mut out, "comment", &monitor.comment);
        optional_text(&mut out, "target", &monitor.target);
        optional_number(&mut out, "interval", monitor.interval);
        optional_number(&mut out, "timeout", monitor.timeout);
        optional_number(&mut out, "retry", monitor.retry);
        optional_number(&mut out, "wait_before_start", monitor.wait_before_start);
        optional_word(&mut out, "timing", monitor.timing);
        if !monitor.parameters.is_empty() {
            write_table(&mut out, "monitor.parameters", &monitor.parameters);
        }
        let recovery = &monitor.recovery;
        if recovery.target.is_some()
            || recovery.reactivation_threshold.is_some()
            || recovery.failover_threshold.is_some()
            || recovery.final_action.is_some()
        {
            out.push_str("[monitor.recovery]\n");
            optional_text(&mut out, "target", &recovery.target);
            optional_number(
                &mut out,
                "reactivation_threshold",
                recovery.reactivation_threshold,
            );
            optional_number(&mut out, "failover_threshold", recovery.failover_threshold);
            optional_word(&mut out, "final_action", recovery.final_action);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SSS configuration as the original's WebUI writes it: one async exec resource
    /// watched by pidw, the default userw, Japanese comments (element and XML comments).
    fn sss(encoding_label: &str, charset: &str) -> String {
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
            crate::config::parse_str(&conversion.text, std::path::Path::new("/nonexistent"))
                .unwrap();
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
                "<resource name=\"fip@fip1\"/><resource name=\"exec@exec\"/>",
            )
            .replace(
                "<types name=\"exec\"/>",
                "<types name=\"fip\"/><fip name=\"fip1\"><parameters><ip>10.0.0.9</ip></parameters></fip><types name=\"exec\"/>",
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
            "/root/group@failover1/resource@fip@fip1: resource type \"fip\" is not supported; this version has exec resources",
            "/root/resource/exec@exec/parameters/userlog = \"/var/log/exec.log\": not supported",
            "/root/resource/fip@fip1: resource type \"fip\" is not supported; this version has exec resources",
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
