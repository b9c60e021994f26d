//! `ftpw`: an FTP server answers and lets the monitor's user log in.
//!
//! Each check connects to `ipaddress:port`, reads the `220` greeting, logs in with `USER`
//! and `PASS` when a `username` is given, sends `NOOP` and ends with `QUIT`. Only the
//! control connection is used (no data transfer). A refused or closed connection, an
//! answer that is not a reply, a refused login or any reply other than the expected one is
//! a fault; a server that does not answer is abandoned by the engine at the monitor's
//! timeout (detail code 99). Note that many servers delay the answer to a wrong password
//! (pyftpdlib by 3 s, vsftpd by 1 s): keep the timeout above that delay.
//!
//! Parameters (the original's names): `ipaddress` (default `127.0.0.1`), `port` (21),
//! `username`, `password`, `protocol` (0 = FTP; 1 = FTPS is refused by this version),
//! `encrypwd` (0; 1 = a clpencrypt'ed password, refused by this version). Our choices: an
//! empty `username` (the default) checks the greeting and NOOP without logging in, and an
//! empty `password` is still sent when the server asks for one. Defaults interval 60 s,
//! timeout 120 s, retry 2 are the reference's recalled values for the Internet-server
//! monitors (\[M\], not confirmed).
//!
//! Detail codes (ours; the original's are not documented): 1 cannot connect, 2 the server
//! closed the connection or did not speak FTP, 3 a reply other than the expected one,
//! 4 the login was refused.

use crate::dialogue;
use crate::dialogue::{Dialogue, DialogueError, SessionProbe, sentence, unexpected};
use clp_core::monitor::Probe;
use clp_core::monitor::ftpw::*;
use clp_core::monitor::params::valid;
use clp_core::monitor::spec::ProbeSettings;
use clp_core::os_action::OsActions;

pub use crate::dialogue::LOGIN_FAILED;

/// Builds the probe of a validated monitor ([`clp_core::monitor::spec::BuildProbe`]).
pub fn build(config: &ProbeSettings<'_>, _: &OsActions) -> Result<Box<dyn Probe>, String> {
    let params = valid(parse(config.parameters))?;
    Ok(Box::new(SessionProbe(params)))
}

impl dialogue::Session for FtpwParams {
    fn session(&self) -> impl std::future::Future<Output = Result<(), DialogueError>> + Send {
        session(self)
    }
}

/// One FTP control session: greeting, login, NOOP, QUIT.
async fn session(params: &FtpwParams) -> Result<(), DialogueError> {
    let mut ftp = Dialogue::connect(&params.ipaddress, params.port).await?;
    let greeting = ftp.reply("the greeting").await?;
    if greeting.code != 220 {
        return Err(unexpected(
            &format!("The connection to {}", ftp.server()),
            &greeting,
        ));
    }
    if !params.username.is_empty() {
        login(&mut ftp, params).await?;
    }
    let noop = ftp.command("NOOP", "NOOP").await?;
    if !noop.is_positive() {
        return Err(unexpected("NOOP", &noop));
    }
    match ftp.command("QUIT", "QUIT").await {
        Ok(quit) if !quit.is_positive() => Err(unexpected("QUIT", &quit)),
        // A server that hangs up on QUIT without its 221 has still served the session.
        Ok(_) | Err(_) => Ok(()),
    }
}

/// USER, then PASS when the server asks for it (RFC 959 §5.4).
async fn login(ftp: &mut Dialogue, params: &FtpwParams) -> Result<(), DialogueError> {
    let user = format!("USER {}", params.username);
    let mut step = user.as_str();
    let mut reply = ftp.command(&user, step).await?;
    if reply.code == 331 {
        step = "PASS";
        reply = ftp
            .command(&format!("PASS {}", &*params.password), step)
            .await?;
    }
    if matches!(reply.code, 230 | 202) {
        return Ok(());
    }
    let mut failure = unexpected(step, &reply);
    if matches!(reply.code, 530 | 332) {
        failure.code = LOGIN_FAILED;
        failure.detail = sentence(format!(
            "Login as \"{}\" refused: {step} was answered {reply}",
            params.username
        ));
    }
    Err(failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (FtpwParams, Vec<String>) {
        parse(&text.parse::<toml::Table>().unwrap())
    }

    #[test]
    fn defaults_are_the_originals() {
        let (params, problems) = parsed("");
        assert_eq!(params.ipaddress, "127.0.0.1");
        assert_eq!(params.port, 21);
        assert_eq!(params.username, "");
        assert_eq!(&*params.password, "");
        assert!(problems.is_empty(), "{problems:?}");
        let (params, problems) = parsed(
            "port = 2121\nusername = \"tester\"\npassword = \"secret\"\nprotocol = 0\nencrypwd = 0",
        );
        assert_eq!((params.port, params.username.as_str()), (2121, "tester"));
        assert!(problems.is_empty(), "{problems:?}");
        assert!(!format!("{params:?}").contains("secret"));
    }

    #[test]
    fn bad_values_and_unknown_keys_are_problems() {
        let (_, problems) = parsed(
            "port = 70000\nprotocol = 1\nencrypwd = 1\nusername = \"a\\r\\nDELE x\"\nuser = \"x\"",
        );
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("did you mean \"username\""))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("1 (FTPS) is not supported"))
        );
        assert!(problems.iter().any(|p| p.contains("encrypted passwords")));
        assert!(problems.iter().any(|p| p.contains("line break")));
        assert!(problems.iter().any(|p| p.contains("70000 is out of range")));
        let (_, problems) = parsed("protocol = 2");
        assert_eq!(problems, ["key \"protocol\": 2 is out of range (0 to 1)"]);
    }

    async fn session_with(
        username: &str,
        answer: fn(&str) -> Option<&'static str>,
    ) -> (Result<(), DialogueError>, Vec<String>) {
        let (port, server) = crate::dialogue::scripted_server("220 ready.\r\n", answer).await;
        let params = FtpwParams {
            ipaddress: "127.0.0.1".into(),
            port,
            username: username.into(),
            password: "secret".into(),
        };
        let outcome = session(&params).await;
        (outcome, server.await.unwrap())
    }

    fn server(line: &str) -> Option<&'static str> {
        Some(match line {
            "USER tester" => "331 Username ok, send password.\r\n",
            "USER direct" => "230 Logged in without a password.\r\n",
            "USER nobody" => "530 No such user.\r\n",
            "PASS secret" => "230 Login successful.\r\n",
            "NOOP" => "200 OK\r\n",
            "QUIT" => "221 Goodbye.\r\n",
            _ => "530 Authentication failed.\r\n",
        })
    }

    #[tokio::test]
    async fn login_noop_quit() {
        let (outcome, received) = session_with("tester", server).await;
        assert_eq!(outcome, Ok(()));
        assert_eq!(received, ["USER tester", "PASS secret", "NOOP", "QUIT"]);
        let (outcome, received) = session_with("direct", server).await;
        assert_eq!(outcome, Ok(()));
        assert_eq!(received, ["USER direct", "NOOP", "QUIT"]);
        let (outcome, received) = session_with("", server).await;
        assert_eq!(outcome, Ok(()));
        assert_eq!(received, ["NOOP", "QUIT"]);
    }

    #[tokio::test]
    async fn a_refused_login_is_a_login_failure() {
        let (outcome, received) = session_with("nobody", server).await;
        let failure = outcome.unwrap_err();
        assert_eq!(failure.code, LOGIN_FAILED);
        assert_eq!(
            failure.detail,
            "Login as \"nobody\" refused: USER nobody was answered 530 No such user."
        );
        assert_eq!(received, ["USER nobody"]);
    }
}
