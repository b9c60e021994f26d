//! License key-file lines: any line is a license or an error; a license read back from the
//! line it writes is the same license, and its user name holds no control character.
#![no_main]

use clp_core::license::License;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(license) = License::parse_line(line, "fuzz.key") else {
        return;
    };
    assert!(!license.user.is_empty(), "an empty user name was accepted");
    assert!(
        !license.user.chars().any(char::is_control),
        "a user name with a control character was accepted: {:?}",
        license.user
    );
    let again = License::parse_line(&license.to_line(), "fuzz.key")
        .unwrap_or_else(|error| panic!("{:?} does not read back: {error}", license.to_line()));
    assert_eq!(license, again, "the line {:?} reads back differently", license.to_line());
    let _ = license.payload();
});
