//! clppm's side of the cluster's configuration ([`clp_cluster::config_sync`]): it answers
//! each proposed generation (can it run here?), takes the active generation when it is not
//! the one this server runs (a local generation, switched atomically, then clppm starts
//! again in place with it, by the rules of `clpcfctrl --apply`), and, before it starts its
//! groups, catches up with a generation made active while it was down ([`catch_up`]).

use std::sync::{Arc, Weak};
use std::time::Duration;

use clp_cluster::config_sync::{self, ConfigFollower, ConfigHandler};
use clp_core::config::diff::ConfigDiff;
use clp_core::config::{self, Config};
use clp_core::generations::DEFAULT_KEEP;
use clp_core::paths::Paths;
use clp_core::shared_generation::{self, SharedGeneration};

use crate::engine::Engine;

/// The name the daemon gives the pushes it applies (alerts, the restart's request).
const CLIENT: &str = "clpcfctrl";

/// Follows the cluster's configuration for `engine` while `sessions` live.
pub fn follow(
    engine: &Arc<Engine>,
    sessions: tokio::sync::watch::Receiver<Option<clp_cluster::Session>>,
) -> ConfigFollower {
    let handler = Follower {
        engine: Arc::downgrade(engine),
        paths: engine.paths().clone(),
        cluster: engine.config().cluster.name.clone(),
        runtime: tokio::runtime::Handle::current(),
    };
    ConfigFollower::start(
        &engine.config().cluster.name,
        engine.server(),
        sessions,
        Arc::new(handler),
    )
}

struct Follower {
    engine: Weak<Engine>,
    paths: Paths,
    cluster: String,
    runtime: tokio::runtime::Handle,
}

impl ConfigHandler for Follower {
    fn check(&self, shared: &SharedGeneration) -> Result<(), String> {
        shared
            .check_here(&self.paths.etc_dir(), &self.cluster)
            .map(|_| ())
    }

    fn activate(&self, shared: SharedGeneration) {
        let Some(engine) = self.engine.upgrade() else {
            return;
        };
        let installed = match shared_generation::install(&self.paths, &shared, DEFAULT_KEEP) {
            Ok(installed) => installed,
            Err(error) => {
                tracing::error!(
                    "cannot take the cluster's configuration {}: {error}; this server keeps running the one it has",
                    shared_generation::short(&shared.hash)
                );
                return;
            }
        };
        let Some(number) = installed else {
            return;
        };
        tracing::info!(
            "took the cluster's configuration {} (pushed by {} at {}) as generation {number}",
            shared_generation::short(&shared.hash),
            shared.info.pushed_by,
            shared.info.pushed_at
        );
        engine.alert("cfmgr", 1, &[CLIENT]);
        let class = match config::load(&self.paths) {
            Ok(taken) => ConfigDiff::between(engine.config(), &taken).class(),
            Err(error) => {
                tracing::error!("the configuration taken does not load here: {error}");
                return;
            }
        };
        if let Some(class) = class {
            self.runtime.spawn(async move {
                engine.restart_for_configuration(class, CLIENT).await;
            });
        }
    }
}

/// Before clppm starts its groups: when `config` is a cluster's and etcd says that the
/// cluster's active generation is not the one this server has, takes it (the caller then
/// loads the configuration again). etcd out of reach is not an error: the follower takes
/// the generation once it answers. A generation this server cannot run is: clppm does not
/// start with a configuration other than the cluster's.
pub async fn catch_up(paths: &Paths, config: &Config) -> Result<bool, String> {
    if !config.is_cluster() {
        return Ok(false);
    }
    let Some(etcd) = config.etcd.as_ref() else {
        return Ok(false);
    };
    let endpoints = clp_cluster::endpoints::local_first(
        &etcd.endpoints,
        &clp_cluster::endpoints::local_hosts(config, &config.server_name()),
    );
    let wait = (config.heartbeat.interval * 2).max(Duration::from_secs(1));
    let options = clp_cluster::config_sync::connect_options(wait, etcd.tls.as_ref())?;
    let fetched = tokio::time::timeout(wait * 3, async {
        for endpoint in &endpoints {
            let Ok(mut client) =
                clp_cluster::Client::connect([endpoint.as_str()], Some(options.clone())).await
            else {
                continue;
            };
            if let Ok(active) = config_sync::active(&mut client, &config.cluster.name).await {
                return Some(active);
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    let Some(Some((shared, _revision))) = fetched else {
        if fetched.is_none() {
            tracing::warn!(
                "etcd cannot be reached to compare this server's configuration with the cluster's; it is compared once etcd answers"
            );
        }
        return Ok(false);
    };
    if shared_generation::local_hash(paths).as_deref() == Some(shared.hash.as_str()) {
        return Ok(false);
    }
    shared
        .check_here(&paths.etc_dir(), &config.cluster.name)
        .map_err(|reason| {
            format!(
                "the cluster's active configuration {} cannot run on this server: {reason}; fix it and push it again with 'clpcfctrl --push'",
                shared_generation::short(&shared.hash)
            )
        })?;
    // Off the runtime's workers: the generations lock may make it wait (a clpcfctrl at work).
    let installed = {
        let (paths, taken) = (paths.clone(), shared.clone());
        tokio::task::spawn_blocking(move || {
            shared_generation::install(&paths, &taken, DEFAULT_KEEP)
        })
        .await
        .map_err(|error| format!("cannot take the cluster's configuration: {error}"))?
        .map_err(|error| format!("cannot take the cluster's configuration: {error}"))?
    };
    if let Some(number) = installed {
        tracing::info!(
            "took the cluster's configuration {} (pushed by {} at {}) as generation {number} before starting",
            shared_generation::short(&shared.hash),
            shared.info.pushed_by,
            shared.info.pushed_at
        );
    }
    Ok(installed.is_some())
}
