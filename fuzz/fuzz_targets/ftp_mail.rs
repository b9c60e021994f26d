//! The FTP upload configuration (`ftp.toml`) and the `[mail]` section: any text is a
//! configuration or a list of problems. What is accepted can be used: FTP fields never
//! carry a control character into the protocol's command lines, and every accepted mail
//! address makes a mail.
#![no_main]

use clp_core::alert::{AlertEvent, Level};
use clp_ftp::config::FtpConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // One input feeds both: the part before the first `\u{1}` is ftp.toml, the rest the
    // body of a [mail] section.
    let (ftp, mail) = text.split_once('\u{1}').unwrap_or((text, text));
    if let Ok(config) = FtpConfig::parse(ftp, std::path::Path::new("/nonexistent/etc")) {
        for (key, value) in [
            ("host", &config.host),
            ("user", &config.user),
            ("remote_dir", &config.remote_dir),
        ] {
            assert!(
                !value.chars().any(char::is_control),
                "ftp.toml: {key} = {value:?} was accepted with a control character"
            );
        }
    }
    let document = format!("[cluster]\nname = \"fuzz\"\n[mail]\n{mail}");
    let scripts = std::path::Path::new("/nonexistent/clp-fuzz/scripts");
    if let Ok(config) = clp_core::config::parse_str(&document, scripts) {
        if let Some(mail) = config.mail {
            let event = AlertEvent::custom("fuzz", "rm", 9, Level::Error, "fuzz");
            if let Err(error) = clp_core::mail::compose(&mail, &[event]) {
                panic!("an accepted [mail] section makes no mail: {error}\n{mail:?}");
            }
        }
    }
});
