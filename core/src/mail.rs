//! The alert service's mail reports: error-level alerts (and `clplogcmd --mail`) mailed to
//! the configured addresses through SMTP (lettre on rustls), a burst gathered into one mail.
//!
//! The body lists each alert as the original's reports do: `Message:`, `Type:` (module),
//! `ID:`, `Host:`, `Date:`. The result of each sending is reported back (mail 6 / mail 5) so
//! it lands in the alert log, and is never mailed itself.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::mpsc;

use crate::alert::AlertEvent;
use crate::config::{MailConfig, MailSecurity};

/// The most alerts one mail carries; a longer burst goes out in several.
const MAX_PER_MAIL: usize = 100;

/// Hands alerts to the mailing task.
#[derive(Debug, Clone)]
pub struct Mailer {
    queue: mpsc::UnboundedSender<AlertEvent>,
}

/// What happened to one mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The server accepted it.
    Delivered,
    /// It could not be sent.
    Failed(String),
}

impl Mailer {
    /// Starts the mailing task (inside the runtime); `report` is told of each mail's fate.
    pub fn start(config: MailConfig, report: impl Fn(Sent) + Send + Sync + 'static) -> Mailer {
        let (queue, mut received) = mpsc::unbounded_channel::<AlertEvent>();
        tokio::spawn(async move {
            while let Some(first) = received.recv().await {
                let mut batch = vec![first];
                let deadline = tokio::time::Instant::now() + config.batch;
                while batch.len() < MAX_PER_MAIL {
                    match tokio::time::timeout_at(deadline, received.recv()).await {
                        Ok(Some(event)) => batch.push(event),
                        Ok(None) | Err(_) => break,
                    }
                }
                report(match send(&config, &batch).await {
                    Ok(()) => Sent::Delivered,
                    Err(error) => Sent::Failed(error),
                });
            }
        });
        Mailer { queue }
    }

    /// Queues one alert for the next mail.
    pub fn mail(&self, event: AlertEvent) {
        let _ = self.queue.send(event);
    }
}

/// The body of a mail of `events`.
pub fn body(events: &[AlertEvent]) -> String {
    events
        .iter()
        .map(|event| {
            format!(
                "Message: {}\nType: {}\nID: {}\nHost: {}\nDate: {}\n",
                event.message, event.module, event.event_id, event.server, event.time
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The subject: `<subject> <server>: <first message>` (and how many more).
pub fn subject(prefix: &str, events: &[AlertEvent]) -> String {
    let Some(first) = events.first() else {
        return prefix.to_string();
    };
    let more = match events.len() {
        1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    format!("{prefix} {}: {}{more}", first.server, first.message)
}

fn password(config: &MailConfig) -> Result<Option<Credentials>, String> {
    use std::os::unix::fs::PermissionsExt;
    let (Some(user), Some(file)) = (&config.username, &config.password_file) else {
        return Ok(None);
    };
    let meta = std::fs::metadata(file).map_err(|e| format!("{}: {e}", file.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "{} must be readable by its owner only (chmod 600)",
            file.display()
        ));
    }
    let password = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(Some(Credentials::new(
        user.clone(),
        password.trim_end_matches(['\r', '\n']).to_string(),
    )))
}

fn tls(config: &MailConfig) -> Result<TlsParameters, String> {
    let mut builder = TlsParameters::builder(config.server.clone());
    if let Some(cafile) = &config.cafile {
        let pem = std::fs::read(cafile).map_err(|e| format!("{}: {e}", cafile.display()))?;
        let certificate =
            Certificate::from_pem(&pem).map_err(|e| format!("{}: {e}", cafile.display()))?;
        builder = builder
            .certificate_store(CertificateStore::None)
            .add_root_certificate(certificate);
    }
    builder.build_rustls().map_err(|e| e.to_string())
}

/// The mail of `events` as `config` addresses it; an error names the address that is not one.
pub fn compose(config: &MailConfig, events: &[AlertEvent]) -> Result<Message, String> {
    let mut message = Message::builder()
        .from(
            config
                .from
                .parse()
                .map_err(|e| format!("from \"{}\": {e}", config.from))?,
        )
        .subject(subject(&config.subject, events))
        .header(ContentType::TEXT_PLAIN);
    for to in &config.to {
        message = message.to(to.parse().map_err(|e| format!("to \"{to}\": {e}"))?);
    }
    message.body(body(events)).map_err(|e| e.to_string())
}

async fn send(config: &MailConfig, events: &[AlertEvent]) -> Result<(), String> {
    let tls = match config.security {
        MailSecurity::None => Tls::None,
        MailSecurity::Starttls => Tls::Required(tls(config)?),
        MailSecurity::Tls => Tls::Wrapper(tls(config)?),
    };
    let mut transport =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.server.clone())
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout));
    if let Some(credentials) = password(config)? {
        transport = transport.credentials(credentials);
    }
    let transport = transport.build();
    let message = compose(config, events)?;
    tokio::time::timeout(
        config.timeout + Duration::from_secs(1),
        transport.send(message),
    )
    .await
    .map_err(|_| "the SMTP server did not answer in time".to_string())?
    .map(|_| ())
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Level;

    #[test]
    fn the_body_is_the_originals_report() {
        let mut event = AlertEvent::custom(
            "zabi",
            "rm",
            9,
            Level::Error,
            "Detected an error in monitoring pidw.",
        );
        event.time = "2026/11/25 05:00:00.000".into();
        assert_eq!(
            body(&[event.clone()]),
            "Message: Detected an error in monitoring pidw.\nType: rm\nID: 9\nHost: zabi\nDate: 2026/11/25 05:00:00.000\n"
        );
        assert_eq!(
            subject("clp", &[event.clone(), event]),
            "clp zabi: Detected an error in monitoring pidw. (+1 more)"
        );
    }
}
