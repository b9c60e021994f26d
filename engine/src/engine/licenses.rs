//! Licenses as the daemon holds them: registration and trials through the store, the check
//! at the start (lcns, rm 160) and the hourly watch of the core license (rm 57).

use std::sync::Arc;

use clp_core::ipc::{AfterStop, ErrorCode};

use super::{Engine, OperationError};

impl Engine {
    /// Registers a signed license (the daemon holds the store).
    pub fn register_license(
        &self,
        license: &clp_core::license::License,
    ) -> Result<(), OperationError> {
        clp_core::license::register(&self.store, &self.paths, license)
            .map_err(|error| OperationError::new(ErrorCode::Failed, error.to_string()))
    }

    /// Starts the local trial of a product today.
    pub fn start_trial(&self, product: &str) -> Result<clp_core::license::License, OperationError> {
        clp_core::license::start_trial(
            &self.store,
            &self.paths,
            product,
            clp_core::license::today(),
        )
        .map_err(|error| OperationError::new(ErrorCode::Failed, error.to_string()))
    }

    /// The registered licenses.
    pub fn licenses(&self) -> Result<Vec<clp_core::license::License>, OperationError> {
        self.store
            .licenses()
            .map_err(|error| OperationError::new(ErrorCode::Failed, error.to_string()))
    }

    /// Removes licenses.
    pub fn remove_licenses(
        &self,
        removal: &clp_core::license::Removal,
    ) -> Result<usize, OperationError> {
        clp_core::license::remove(&self.store, removal).map_err(|error| {
            let code = match error {
                clp_core::license::RegistryError::NoSuchSerial(_) => ErrorCode::NotFound,
                _ => ErrorCode::Failed,
            };
            OperationError::new(code, error.to_string())
        })
    }

    /// The products whose license is valid today; logs the state (lcns) of the core product
    /// and of every option product a configured monitor needs.
    pub(super) fn check_licenses(&self) -> std::collections::HashSet<String> {
        use clp_core::license::{self, LicenseState};
        let core = license::core_product(self.config.is_cluster());
        let licenses: Vec<license::License> = self.store.licenses().unwrap_or_default();
        let issuers = license::trusted_issuers(&self.paths);
        let today = license::today();
        let mut valid = std::collections::HashSet::new();
        for product in license::PRODUCTS {
            let (state, found) = license::product_state(&licenses, product.id, today, &issuers);
            if state == LicenseState::Valid {
                valid.insert(product.id.to_string());
            }
            let needed = product.id == core
                || (product.id == "ALRT10" && self.config.mail.is_some())
                || self
                    .config
                    .monitors
                    .iter()
                    .any(|m| license::required_product(&m.kind) == Some(product.id));
            if needed {
                let (id, args) = license::state_alert(product.id, state, found);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                self.alert("lcns", id, &args);
            }
        }
        valid
    }

    /// Stops the daemon when the core license is no longer valid (a trial that expires while
    /// running): checked every hour.
    pub(super) fn watch_core_license(self: &Arc<Self>) {
        use clp_core::license::{self, LicenseState};
        let core = license::core_product(self.config.is_cluster());
        let engine = Arc::clone(self);
        self.spawn(async move {
            let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
            hourly.tick().await;
            loop {
                hourly.tick().await;
                let licenses: Vec<license::License> = engine.store.licenses().unwrap_or_default();
                let issuers = license::trusted_issuers(&engine.paths);
                let (state, _) =
                    license::product_state(&licenses, core, license::today(), &issuers);
                if state != LicenseState::Valid {
                    engine.alert("rm", 57, &[core]);
                    engine.request_stop(AfterStop::Nothing);
                    return;
                }
            }
        });
    }
}
