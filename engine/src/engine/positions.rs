//! The configuration's groups and resources by name: a recovery looks them up several
//! times between a death and the spawn, and a search in order over every group (each one's
//! memory cold) cost more the more groups there are.

use super::{ByName, Engine};
use clp_core::config::{Config, GroupConfig, ResourceConfig};

/// The configuration's groups and resources by name ([`Engine::group_config`],
/// [`Engine::resource_config`]); the first of a name, as a search in order would find.
#[derive(Debug, Default)]
pub(super) struct Positions {
    groups: ByName<usize>,
    resources: ByName<(usize, usize)>,
}

impl Positions {
    /// Where `config`'s groups and resources are.
    pub(super) fn of(config: &Config) -> Positions {
        let mut positions = Positions::default();
        for (group_index, group) in config.groups.iter().enumerate() {
            positions
                .groups
                .entry(group.name.clone())
                .or_insert(group_index);
            for (resource_index, resource) in group.resources.iter().enumerate() {
                positions
                    .resources
                    .entry(resource.name.clone())
                    .or_insert((group_index, resource_index));
            }
        }
        positions
    }
}

impl Engine {
    /// The configuration of group `name`, found through its name's position.
    pub(super) fn group_config(&self, name: &str) -> Option<&GroupConfig> {
        let index = *self.positions.groups.get(name)?;
        self.config.groups.get(index)
    }

    /// The configuration of resource `name` (in any group), found through its position.
    pub(super) fn resource_config(&self, name: &str) -> Option<&ResourceConfig> {
        let (group, resource) = *self.positions.resources.get(name)?;
        self.config.groups.get(group)?.resources.get(resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_find_what_a_search_in_order_finds() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let file = dir.path().join("clp.conf");
        std::fs::write(
            &file,
            "[cluster]\nname = \"c\"\n\n[[group]]\nname = \"a\"\n\n[[group.resource]]\nname = \"a1\"\n\n\
             [[group.resource]]\nname = \"a2\"\n\n[[group]]\nname = \"b\"\n\n[[group.resource]]\nname = \"b1\"\n",
        )
        .expect("clp.conf");
        for (group, resource) in [("a", "a1"), ("a", "a2"), ("b", "b1")] {
            use std::os::unix::fs::PermissionsExt;
            let folder = dir.path().join(group).join(resource);
            std::fs::create_dir_all(&folder).expect("the script's folder");
            let start = folder.join("start.sh");
            std::fs::write(&start, "#!/bin/sh\n").expect("start.sh");
            std::fs::set_permissions(&start, std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
        let config = clp_core::config::load_file(&file, dir.path()).expect("the configuration");
        let positions = Positions::of(&config);
        for (group_index, group) in config.groups.iter().enumerate() {
            assert_eq!(positions.groups.get(&group.name), Some(&group_index));
            for (resource_index, resource) in group.resources.iter().enumerate() {
                assert_eq!(
                    positions.resources.get(&resource.name),
                    Some(&(group_index, resource_index)),
                    "{}",
                    resource.name
                );
                assert_eq!(
                    config.resource(&resource.name).map(|r| &r.name),
                    Some(&resource.name)
                );
            }
        }
        assert_eq!(positions.resources.get("b1"), Some(&(1, 0)));
        assert_eq!(positions.groups.get("nothing"), None);
        assert_eq!(positions.resources.get("nothing"), None);
    }
}
