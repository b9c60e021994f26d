//! The products that need a license, and which monitor types need which.

use super::original;

/// A product that needs a license.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    /// The product id (`XSS10`).
    pub id: &'static str,
    /// The name the listing shows.
    pub name: &'static str,
}

/// The core product of one server: without a valid license for it, clppm does not start.
pub const CORE_PRODUCT: &str = "XSS10";

/// The core product of an HA cluster (the original's `BASE` licence, reference §8): a
/// configuration with more than one server needs it instead of [`CORE_PRODUCT`].
pub const HA_PRODUCT: &str = "BASE10";

/// The product without whose license clppm does not start: [`HA_PRODUCT`] for a cluster of
/// more than one server, else [`CORE_PRODUCT`].
pub fn core_product(cluster: bool) -> &'static str {
    if cluster { HA_PRODUCT } else { CORE_PRODUCT }
}

/// Every product, with the seed's ids.
pub const PRODUCTS: &[Product] = &[
    Product {
        id: "XSS10",
        name: "Cluster CPU License CLUSTERPRO X SingleServerSafe 1.0 for Linux",
    },
    Product {
        id: "ISAG10",
        name: "Cluster License CLUSTERPRO X Internet Server Agent 1.0 for Linux",
    },
    Product {
        id: "DBAG10",
        name: "Cluster License CLUSTERPRO X Database Agent 1.0 for Linux",
    },
    Product {
        id: "FSAG10",
        name: "Cluster License CLUSTERPRO X File Server Agent 1.0 for Linux",
    },
    Product {
        id: "ALRT10",
        name: "Cluster License CLUSTERPRO X Alert Service 1.0 for Linux",
    },
    Product {
        id: "BASE10",
        name: "Cluster CPU License CLUSTERPRO X 1.0 for Linux",
    },
];

/// The product of an id: clp's (`XSS10`) or the original's (`XSSS40`), in any case.
pub fn product(id: &str) -> Option<&'static Product> {
    PRODUCTS
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(id))
        .or_else(|| {
            let clp = original::original_product(id)?.clp?;
            PRODUCTS.iter().find(|p| p.id == clp)
        })
}

/// The option license a monitor type needs (the original's agents), if any.
pub fn required_product(monitor_kind: &str) -> Option<&'static str> {
    match monitor_kind {
        "httpw" | "smtpw" | "ftpw" | "imap4w" | "pop3w" => Some("ISAG10"),
        "psqlw" | "mysqlw" | "oraclew" | "db2w" | "odbcw" | "sqlserverw" | "sybasew" => {
            Some("DBAG10")
        }
        "sambaw" | "nfsw" => Some("FSAG10"),
        _ => None,
    }
}
