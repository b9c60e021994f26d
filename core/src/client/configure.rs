//! The operators' actions on a configuration from the shell: `clpcfset` builds one step by
//! step in a folder ([`crate::config::cfset`]), `clpcfget` reads the active one (or a
//! folder's) by the original's paths ([`crate::config::cfget`]). Each error knows its exit
//! code.

use std::path::Path;

use crate::config::cfget::{self, CfgetError};
use crate::config::cfset::{self, Add, CfsetError, Outcome};
use crate::config::xml_tree::Node;
use crate::exit_code;
use crate::paths::{ConfigFolder, Paths};

/// A configuration step or question failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `clpcfset` step was refused.
    #[error(transparent)]
    Cfset(#[from] CfsetError),
    /// A `clpcfget` path has no answer.
    #[error(transparent)]
    Cfget(#[from] CfgetError),
    /// The configuration asked about does not load.
    #[error(transparent)]
    Load(#[from] super::Error),
}

impl Error {
    /// The return value (chosen: the original's codes for these commands are not public).
    pub fn code(&self) -> u8 {
        match self {
            Error::Cfset(CfsetError::BadArgument(_)) => exit_code::BAD_OPTION,
            Error::Cfset(CfsetError::NotCreated(_) | CfsetError::Refused(_)) => {
                exit_code::BAD_CONFIG
            }
            Error::Cfset(CfsetError::Io { .. }) => exit_code::OTHER,
            Error::Cfget(CfgetError::BadPath(_) | CfgetError::NotAValue(_)) => {
                exit_code::BAD_OPTION
            }
            Error::Cfget(CfgetError::NotFound(..)) => exit_code::NOT_REGISTERED,
            Error::Load(error) => error.code(),
        }
    }
}

impl exit_code::Coded for Error {
    fn code(&self) -> u8 {
        Error::code(self)
    }
}

/// `clpcfset create`: a new configuration in `dir`.
pub fn create_config(
    dir: &Path,
    name: &str,
    encode: &str,
    os: Option<&str>,
) -> Result<Outcome, Error> {
    Ok(cfset::create(dir, name, encode, os)?)
}

/// `clpcfset add ...`: one step on the configuration in `dir`.
pub fn add_to_config(dir: &Path, step: &Add) -> Result<Outcome, Error> {
    Ok(cfset::add(dir, step)?)
}

/// The configuration `clpcfget` answers for: the active one, or the `clp.conf` of `dir`.
pub fn original_model(paths: &Paths, dir: Option<&Path>) -> Result<Node, Error> {
    let config = match dir {
        None => super::load_config(paths)?,
        Some(dir) => {
            let folder = ConfigFolder(dir);
            crate::config::load_file(&folder.config_file(), &folder.scripts_dir())
                .map_err(super::Error::from)?
        }
    };
    Ok(cfget::export(&config))
}

/// `clpcfget -g PATH`: the value at `path`.
pub fn config_value(model: &Node, path: &str) -> Result<String, Error> {
    Ok(cfget::get(model, path)?)
}

/// `clpcfget -e PATH`: the names of the elements under `path`.
pub fn config_elements(model: &Node, path: &str) -> Result<Vec<String>, Error> {
    Ok(cfget::elements(model, path)?)
}
