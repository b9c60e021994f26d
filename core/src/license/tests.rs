//! Tests of licenses: key lines, signatures, trials, dates.

use ed25519_dalek::SigningKey;

use super::*;
use crate::paths::Paths;

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y%m%d").unwrap()
}

fn issuer() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn fixed() -> License {
    License {
        serial: String::new(),
        kind: LicenseKind::Fixed,
        product: "XSS10".into(),
        count: 2,
        start: date("20260101"),
        end: Some(date("20261231")),
        user: "sample XSS10".into(),
        key: String::new(),
    }
}

#[test]
fn a_signed_line_round_trips_and_verifies() {
    let signed = sign(fixed(), &issuer());
    let line = signed.to_line();
    assert!(line.starts_with("fixed,"));
    assert!(line.ends_with(",XSS10,2,20260101,20261231,sample XSS10,"));
    let parsed = License::parse_line(&line, "t").unwrap();
    assert_eq!(parsed, signed);
    let trusted = [issuer().verifying_key()];
    assert_eq!(
        parsed.state(date("20260601"), &trusted),
        LicenseState::Valid
    );
    assert_eq!(
        parsed.state(date("20270101"), &trusted),
        LicenseState::Expired
    );
    assert_eq!(
        parsed.state(date("20251231"), &trusted),
        LicenseState::NotYetValid
    );
    let other = [SigningKey::from_bytes(&[8u8; 32]).verifying_key()];
    assert_eq!(
        parsed.state(date("20260601"), &other),
        LicenseState::Invalid
    );
}

#[test]
fn a_tampered_line_does_not_verify() {
    let line = sign(fixed(), &issuer()).to_line().replace(",2,", ",64,");
    let parsed = License::parse_line(&line, "t").unwrap();
    assert_eq!(
        parsed.state(date("20260601"), &[issuer().verifying_key()]),
        LicenseState::Invalid
    );
}

#[test]
fn bad_lines_say_why() {
    assert!(
        License::parse_line("trial,,XSS10", "f")
            .unwrap_err()
            .to_string()
            .contains("3 fields")
    );
    assert!(
        License::parse_line("trial,,NOPE,1,20260101,20260201,u,", "f")
            .unwrap_err()
            .to_string()
            .contains("unknown product")
    );
    assert!(
        License::parse_line("trial,,XSS10,1,2026-01-01,20260201,u,", "f")
            .unwrap_err()
            .to_string()
            .contains("not a date")
    );
}

#[test]
fn the_originals_key_lines_and_ids_are_told_apart() {
    let error = License::parse_line("trial,0A1B,XSSS40,1,20210101,20210331,", "k")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("k: this is a license key file of the original"),
        "{error}"
    );
    assert!(error.contains("key of XSS10"), "{error}");
    let error = License::parse_line("trial,,XSS10,1,20260101,20260301,,", "k")
        .unwrap_err()
        .to_string();
    assert!(error.contains("the user name is empty"), "{error}");
    let line = License::parse_line("trial,,xsss40,1,20260101,20260301,u,", "k").unwrap();
    assert_eq!(line.product, "XSS10");
    assert_eq!(line.serial, "TRIAL-XSS10");
    let trial = License::trial("ALRT40", NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).unwrap();
    assert_eq!(trial.product, "ALRT10");
    assert!(trial.is_local_trial());
    assert!(product("REPL33").is_none());
}

#[test]
fn only_signed_lines_pass_the_signature_check() {
    let trusted = [issuer().verifying_key()];
    let dir = Path::new("/x/etc/license-issuers");
    let check = |line: &str| {
        License::parse_line(line, "f.key")
            .unwrap()
            .check_signature("f.key", &trusted, dir)
            .map_err(|e| e.to_string())
    };
    // The forged trials: no key, or a big count.
    let error = check("trial,,XSS10,1,20260101,29991231,attacker,").unwrap_err();
    assert!(
        error.starts_with("f.key: the license of XSS10 is not signed"),
        "{error}"
    );
    assert!(check("trial,,XSS10,9999,20260101,29991231,attacker,").is_err());
    // A signed trial whose key was emptied and whose end was moved.
    let mut trial = fixed();
    trial.kind = LicenseKind::Trial;
    let signed = sign(trial, &issuer());
    assert!(check(&signed.to_line()).is_ok());
    let emptied = signed
        .to_line()
        .replace(&signed.key, "")
        .replace("20261231", "29991231");
    assert!(check(&emptied).unwrap_err().contains("is not signed"));
    let moved = signed.to_line().replace("20261231", "29991231");
    let error = check(&moved).unwrap_err();
    assert!(
        error.contains("does not verify with any trusted issuer in /x/etc/license-issuers"),
        "{error}"
    );
    let short = signed.to_line().replace(&signed.key, "abcd");
    assert!(check(&short).unwrap_err().contains("found 4"));
    let none = License::parse_line(&signed.to_line(), "f.key")
        .unwrap()
        .check_signature("f.key", &[], dir)
        .unwrap_err()
        .to_string();
    assert!(none.contains("no trusted license issuer"), "{none}");
}

#[test]
fn an_unsigned_trial_is_valid_only_in_the_shape_clp_makes() {
    let today = date("20261125");
    let trial = License::trial("XSS10", today).unwrap();
    assert_eq!(trial.state(today, &[]), LicenseState::Valid);
    let mut longer = trial.clone();
    longer.end = Some(date("29991231"));
    assert_eq!(longer.state(today, &[]), LicenseState::Invalid);
    let mut more = trial.clone();
    more.count = 9999;
    assert_eq!(more.state(today, &[]), LicenseState::Invalid);
}

#[test]
fn a_trial_starts_once_and_its_record_outlives_the_store() {
    let root = tempfile::tempdir().unwrap();
    let paths = Paths::new(root.path());
    let today = date("20261125");
    {
        let store = crate::store::Store::open(&paths.store_dir()).unwrap();
        let trial = start_trial(&store, &paths, "XSS10", today).unwrap();
        assert_eq!(trial.end, Some(date("20270123")));
        let again = start_trial(&store, &paths, "XSS10", today).unwrap_err();
        assert!(again.to_string().contains("already used"), "{again}");
        start_trial(&store, &paths, "ISAG10", today).unwrap();
        // A forged trial sent as a registration is refused.
        let forged = License::parse_line("trial,,DBAG10,1,20260101,29991231,a,", "x").unwrap();
        assert!(register(&store, &paths, &forged).is_err());
    }
    std::fs::remove_dir_all(paths.store_dir()).unwrap();
    let store = crate::store::Store::open(&paths.store_dir()).unwrap();
    let again = start_trial(&store, &paths, "ISAG10", today).unwrap_err();
    assert!(again.to_string().contains("already used"), "{again}");
    let text = std::fs::read_to_string(paths.license_trials_file()).unwrap();
    assert_eq!(text, "XSS10 20261125\nISAG10 20261125\n");
}

#[test]
fn a_trial_lasts_its_period() {
    let trial = License::trial("ISAG10", date("20261125")).unwrap();
    assert_eq!(trial.end, Some(date("20270123")));
    assert_eq!(trial.state(date("20270123"), &[]), LicenseState::Valid);
    assert_eq!(trial.state(date("20270124"), &[]), LicenseState::Expired);
    let (state, _) = product_state(&[trial], "XSS10", date("20261125"), &[]);
    assert_eq!(state, LicenseState::NotRegistered);
}

#[test]
fn user_names_and_dates_are_refused_unless_they_read_back_the_same() {
    // Found by the fuzzer (fuzz/ license): these were accepted, and the line written
    // back was not the line read (or carried a control character to every screen).
    for (line, why) in [
        (
            "trial,,XSS10,1,20260101,20260201,us\u{18}r,",
            "control character",
        ),
        (
            "trial,,XSS10,1,20260101,20260201,a\u{1b}[31m,",
            "control character",
        ),
        ("trial,,XSS10,1,20260101,20260201, ,", "user name is empty"),
        ("trial,,XSS10,1,2026011,20260201,u,", "not a date"),
        ("trial,,XSS10,1,+20260101,20260201,u,", "not a date"),
        ("trial,,XSS10,1,20260101,020260201,u,", "not a date"),
    ] {
        let error = License::parse_line(line, "f").expect_err(line).to_string();
        assert!(error.contains(why), "{line:?}: {error}");
    }
    let good = License::parse_line("trial,,XSS10,1,20260101,20260201,Example Ltd,", "f").unwrap();
    assert_eq!(License::parse_line(&good.to_line(), "f").unwrap(), good);
}

#[test]
fn a_cluster_needs_the_ha_base_product_and_the_originals_base_ids_name_it() {
    assert_eq!(core_product(false), "XSS10");
    assert_eq!(core_product(true), "BASE10");
    for id in ["BASE40", "base33", "BASE10"] {
        assert_eq!(product(id).map(|p| p.id), Some("BASE10"), "{id}");
    }
}
