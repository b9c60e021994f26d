//! The original's XML `clp.conf` import: any bytes convert or are refused with a reason;
//! what a conversion writes is always TOML that parses.
#![no_main]

use clp_core::config::original::{EncodingHint, convert};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (hint, bytes) = match data.split_first() {
        Some((0, rest)) => (Some(EncodingHint::Linux), rest),
        Some((1, rest)) => (Some(EncodingHint::Windows), rest),
        _ => (None, data),
    };
    if let Ok(conversion) = convert(bytes, hint, "fuzz.conf") {
        if let Err(error) = conversion.text.parse::<toml::Table>() {
            panic!("the conversion wrote TOML that does not parse: {error}\n{}", conversion.text);
        }
    }
});
