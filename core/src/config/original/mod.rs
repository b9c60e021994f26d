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

mod cluster;
mod converter;
mod decode;
mod element;
mod groups;
mod model;
mod monitors;
mod render;
#[cfg(test)]
mod tests;
mod values;

use std::fmt;

use converter::Converter;
use decode::{decode, without_declaration};
use element::Element;
use render::render;
pub(crate) use values::{monitor_final_action, resource_final_action};

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
