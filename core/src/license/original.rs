//! The original product's license ids and key files: which of its product ids name a product
//! clp has (`XSSS40` is clp's `XSS10`), and what to say of a key file written for it.
//!
//! The original's ids are a 4-letter code and the two digits of its product line (`40` for
//! every 4.x, `33` for X 3.3: reference §8); every version of a code names the same product
//! here, so `XSSS30`, `XSSS40` and `XSSS50` all mean `XSS10`.

/// A product of the original, by the 4-letter code its ids start with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OriginalProduct {
    /// The 4-letter code (`XSSS`).
    pub code: &'static str,
    /// What the original calls it.
    pub name: &'static str,
    /// clp's id of the same product, if clp has it.
    pub clp: Option<&'static str>,
}

/// The original's products (reference §8).
pub const ORIGINAL_PRODUCTS: &[OriginalProduct] = &[
    OriginalProduct {
        code: "XSSS",
        name: "SingleServerSafe",
        clp: Some("XSS10"),
    },
    OriginalProduct {
        code: "ISAG",
        name: "Internet Server Agent",
        clp: Some("ISAG10"),
    },
    OriginalProduct {
        code: "DBAG",
        name: "Database Agent",
        clp: Some("DBAG10"),
    },
    OriginalProduct {
        code: "FSAG",
        name: "File Server Agent",
        clp: Some("FSAG10"),
    },
    OriginalProduct {
        code: "ALRT",
        name: "Alert Service",
        clp: Some("ALRT10"),
    },
    OriginalProduct {
        code: "ASAG",
        name: "Application Server Agent",
        clp: None,
    },
    OriginalProduct {
        code: "JRAG",
        name: "Java Resource Agent",
        clp: None,
    },
    OriginalProduct {
        code: "SRAG",
        name: "System Resource Agent",
        clp: None,
    },
    OriginalProduct {
        code: "BASE",
        name: "CLUSTERPRO X base license (the HA product)",
        clp: Some("BASE10"),
    },
    OriginalProduct {
        code: "REPL",
        name: "Replicator",
        clp: None,
    },
];

/// The original product `id` names: its code and two digits (`XSSS40`, any case).
pub fn original_product(id: &str) -> Option<&'static OriginalProduct> {
    let id = id.to_ascii_uppercase();
    let (code, version) = id.split_at_checked(4)?;
    if version.len() != 2 || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    ORIGINAL_PRODUCTS.iter().find(|p| p.code == code)
}

/// The original's id that clp shows beside its own (`XSS10` → `XSSS40`).
pub fn original_id(clp_id: &str) -> Option<String> {
    ORIGINAL_PRODUCTS
        .iter()
        .find(|p| p.clp == Some(clp_id))
        .map(|p| format!("{}40", p.code))
}

/// The products clp knows, each with the original's id: `XSS10 (XSSS40), ISAG10 (ISAG40), ...`.
pub fn known_products() -> String {
    super::PRODUCTS
        .iter()
        .map(|p| match original_id(p.id) {
            Some(original) if original != p.id => format!("{} ({original})", p.id),
            _ => p.id.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What to say of a product id clp does not know.
pub fn unknown_product_text(id: &str) -> String {
    match original_product(id) {
        Some(original) if original.clp.is_none() => format!(
            "\"{id}\" is the original's {} license, a product clp does not have; clp's products: {}",
            original.name,
            known_products()
        ),
        _ => format!(
            "unknown product \"{id}\"; known products: {}",
            known_products()
        ),
    }
}

/// Whether a key-file line's fields are the original's six (`kind,key,PRODUCTID,count,start,
/// end`, no user and no clp signature).
pub fn is_original_line(fields: &[&str]) -> bool {
    let date = |word: &str| word.len() == 8 && word.bytes().all(|b| b.is_ascii_digit());
    fields.len() == 6
        && fields[2].len() >= 5
        && fields[2].bytes().all(|b| b.is_ascii_alphanumeric())
        && date(fields[4])
}

/// What to do instead of registering the original's key file for `id`.
pub fn original_key_advice(id: &str) -> String {
    let clp = super::product(id).map(|p| p.id);
    match clp {
        Some(clp) => format!(
            "ask your clp license issuer for a key of {clp} and register it with 'clplcncs -i FILE', or start a trial with 'clplcncs --trial -P {id}'"
        ),
        None => unknown_product_text(id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_originals_ids_name_clps_products() {
        assert_eq!(
            original_product("XSSS40").and_then(|p| p.clp),
            Some("XSS10")
        );
        assert_eq!(
            original_product("xsss50").and_then(|p| p.clp),
            Some("XSS10")
        );
        assert_eq!(
            original_product("DBAG40").and_then(|p| p.clp),
            Some("DBAG10")
        );
        assert_eq!(original_product("JRAG40").map(|p| p.clp), Some(None));
        assert!(original_product("XSSS4").is_none());
        assert!(original_product("XSSS4x").is_none());
        assert!(original_product("XSS10").is_none());
        assert!(original_product("ß").is_none());
    }

    #[test]
    fn the_known_products_show_the_originals_ids() {
        assert_eq!(
            known_products(),
            "XSS10 (XSSS40), ISAG10 (ISAG40), DBAG10 (DBAG40), FSAG10 (FSAG40), ALRT10 (ALRT40), BASE10 (BASE40)"
        );
        assert!(unknown_product_text("SRAG40").contains("System Resource Agent"));
        assert!(unknown_product_text("NOPE").starts_with("unknown product \"NOPE\""));
    }
}
