//! The TOML configuration loader and validator: any text is either a configuration or a
//! list of problems, never a panic; a refusal always names at least one problem.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let scripts = std::path::Path::new("/nonexistent/clp-fuzz/scripts");
    match clp_core::config::parse_str(text, scripts) {
        Ok(config) => {
            // What was accepted is self-consistent: every name it lists can be looked up.
            for group in &config.groups {
                assert!(config.group(&group.name).is_some(), "group {:?}", group.name);
            }
        }
        Err(error) => assert!(!error.problems().is_empty(), "a refusal without a problem"),
    }
});
