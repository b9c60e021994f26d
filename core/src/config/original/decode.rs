//! Reading the file: which encoding it is in, and its text without the XML declaration.

use encoding_rs::Encoding;

use super::{EncodingHint, OriginalError};

// ---------------------------------------------------------------------------------------
// Encodings

/// Decodes the file: the encoding it declares, `<all><charset>`, `<all><encode>`, then
/// UTF-8, then the `-l`/`-w` hint (and the other Japanese encoding); the first that reads
/// every byte wins.
pub(super) fn decode(
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
pub(super) fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
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

pub(super) fn xml_declared_encoding(head: &str) -> Option<String> {
    let head = head.trim_start_matches('\u{feff}').trim_start();
    let declaration = head.strip_prefix("<?xml")?;
    let declaration = &declaration[..declaration.find("?>")?];
    let after = &declaration[declaration.find("encoding")? + "encoding".len()..];
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &after[1..];
    Some(value[..value.find(quote)?].to_string())
}

pub(super) fn element_text(head: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = head.find(&open)? + open.len();
    let end = start + head[start..].find(&close)?;
    Some(head[start..end].to_string())
}

/// The text without its XML declaration: the text is already decoded, and the parser
/// takes only UTF-8 (it must not act on `encoding="EUC-JP"`).
pub(super) fn without_declaration(text: &str) -> &str {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    trimmed
        .strip_prefix("<?xml")
        .and_then(|rest| rest.find("?>").map(|end| &rest[end + 2..]))
        .unwrap_or(text)
}
